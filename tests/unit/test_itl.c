/* Unit tests for lib/pki/itl: round trips, the notes' worked byte accounting, tampering, truncation, tolerance and every refusal. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "pki/itl.h"

/* Keys made once: key generation is the slow part. */
static EVP_PKEY *rsa2048a, *rsa2048b, *rsa1024, *rsa1536, *ecp256, *ecp384;

static EVP_PKEY *
gen_rsa(unsigned bits)
{
	EVP_PKEY *pk = EVP_RSA_gen(bits);
	assert_non_null(pk);
	return pk;
}

static EVP_PKEY *
gen_ec(const char *curve)
{
	EVP_PKEY *pk = EVP_EC_gen(curve);
	assert_non_null(pk);
	return pk;
}

static int
setup_keys(void **state)
{
	(void)state;
	rsa2048a = gen_rsa(2048);
	rsa2048b = gen_rsa(2048);
	rsa1024 = gen_rsa(1024);
	rsa1536 = gen_rsa(1536);
	ecp256 = gen_ec("P-256");
	ecp384 = gen_ec("P-384");
	return 0;
}

static int
teardown_keys(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa2048a);
	EVP_PKEY_free(rsa2048b);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(rsa1536);
	EVP_PKEY_free(ecp256);
	EVP_PKEY_free(ecp384);
	return 0;
}

/* The certificates a test asks for. */
struct cert_spec {
	EVP_PKEY *key;
	/* Subject fields, DER order (C first); NULL ends. */
	const char *fields[8];
	const unsigned char *serial; /* NULL: 01 02 03 04 */
	size_t serial_n;
	const char *san;      /* "DNS:a" or NULL */
	size_t comment_len;   /* an nsComment of this many bytes, 0: none */
	EVP_PKEY *issuer_key; /* NULL: self-signed */
	const char *issuer_cn;
};

static X509 *
mkcert(const struct cert_spec *s)
{
	static const unsigned char dflt[] = {1, 2, 3, 4};
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	ASN1_INTEGER *sn;
	BIGNUM *bn;
	EVP_PKEY *signkey = s->issuer_key ? s->issuer_key : s->key;

	assert_non_null(x);
	assert_non_null(n);
	assert_int_equal(X509_set_version(x, 2), 1);
	bn = BN_bin2bn(s->serial ? s->serial : dflt,
	    (int)(s->serial ? s->serial_n : sizeof(dflt)), NULL);
	sn = BN_to_ASN1_INTEGER(bn, NULL);
	assert_int_equal(X509_set_serialNumber(x, sn), 1);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	for (int i = 0; s->fields[i]; i++) {
		const char *eq = strchr(s->fields[i], '=');
		char key[16];
		assert_non_null(eq);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - s->fields[i]),
		    s->fields[i]);
		assert_int_equal(
		    X509_NAME_add_entry_by_txt(n, key, MBSTRING_UTF8,
		        (const unsigned char *)eq + 1, -1, -1, 0),
		    1);
	}
	assert_int_equal(X509_set_subject_name(x, n), 1);
	if (s->issuer_key) {
		X509_NAME *in = X509_NAME_new();
		X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_UTF8,
		    (const unsigned char *)s->issuer_cn, -1, -1, 0);
		assert_int_equal(X509_set_issuer_name(x, in), 1);
		X509_NAME_free(in);
	} else
		assert_int_equal(X509_set_issuer_name(x, n), 1);
	X509_NAME_free(n);
	/* Fixed times: the golden certificate must have a fixed size. */
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), 1500000000));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), 2000000000));
	assert_int_equal(X509_set_pubkey(x, s->key), 1);
	if (s->san || s->comment_len) {
		X509V3_CTX ctx;
		X509V3_set_ctx_nodb(&ctx);
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		if (s->san) {
			X509_EXTENSION *e = X509V3_EXT_nconf_nid(
			    NULL, &ctx, NID_subject_alt_name, s->san);
			assert_non_null(e);
			X509_add_ext(x, e, -1);
			X509_EXTENSION_free(e);
		}
		if (s->comment_len) {
			char *c = malloc(s->comment_len + 1);
			memset(c, 'x', s->comment_len);
			c[s->comment_len] = '\0';
			X509_EXTENSION *e = X509V3_EXT_nconf_nid(
			    NULL, &ctx, NID_netscape_comment, c);
			assert_non_null(e);
			X509_add_ext(x, e, -1);
			X509_EXTENSION_free(e);
			free(c);
		}
	}
	assert_true(X509_sign(x, signkey, EVP_sha256()) > 0);
	return x;
}

static X509 *
simple_cert(EVP_PKEY *key, const char *cn, const char *san)
{
	char f[128];
	struct cert_spec s = {.key = key, .san = san};

	snprintf(f, sizeof(f), "CN=%s", cn);
	s.fields[0] = "C=NZ";
	s.fields[1] = "O=ngvoice lab";
	s.fields[2] = f;
	return mkcert(&s);
}

static size_t
der_len(X509 *x)
{
	int n = i2d_X509(x, NULL);
	assert_true(n > 0);
	return (size_t)n;
}

/* Builds, failing the test with the message when it does not. */
static void
build(struct buf *b, const struct itl_build_opts *o)
{
	struct pki_err e;
	int rc;

	buf_init(b);
	rc = itl_build(b, o, &e);
	if (rc)
		fprintf(stderr, "itl_build: %s\n", e.msg);
	assert_int_equal(rc, 0);
}

static struct itl_file *
parse_ok(const void *p, size_t n)
{
	struct itl_file *f = NULL;
	struct itl_err ie;
	int rc = itl_parse(&f, p, n, &ie);

	if (rc)
		fprintf(
		    stderr, "itl_parse: offset %zu: %s\n", ie.offset, ie.msg);
	assert_int_equal(rc, 0);
	return f;
}

/* Asserts a parse refusal at off (SIZE_MAX: any) whose message has frag. */
static void
parse_fails(const void *p, size_t n, size_t off, const char *frag)
{
	struct itl_file *f = NULL;
	struct itl_err ie;
	int rc = itl_parse(&f, p, n, &ie);

	if (rc != EBADMSG || (off != SIZE_MAX && ie.offset != off) ||
	    strstr(ie.msg, frag) == NULL)
		fprintf(stderr, "rc %d offset %zu '%s'; want offset %zu '%s'\n",
		    rc, ie.offset, ie.msg, off, frag);
	assert_int_equal(rc, EBADMSG);
	assert_null(f);
	if (off != SIZE_MAX)
		assert_int_equal(ie.offset, off);
	assert_non_null(strstr(ie.msg, frag));
}

static void
verify_ok(const struct itl_file *f, X509 *signer, int want_record)
{
	struct itl_verified v;
	struct itl_err ie;
	int rc = itl_verify(f, signer, &v, &ie);

	if (rc)
		fprintf(
		    stderr, "itl_verify: offset %zu: %s\n", ie.offset, ie.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(v.record, want_record);
	assert_int_equal(v.by_cert, signer != NULL);
}

static void
verify_fails(
    const struct itl_file *f, X509 *signer, size_t off, const char *frag)
{
	struct itl_err ie;
	int rc = itl_verify(f, signer, NULL, &ie);

	if (rc != EBADMSG || (off != SIZE_MAX && ie.offset != off) ||
	    strstr(ie.msg, frag) == NULL)
		fprintf(stderr, "rc %d offset %zu '%s'; want offset %zu '%s'\n",
		    rc, ie.offset, ie.msg, off, frag);
	assert_int_equal(rc, EBADMSG);
	if (off != SIZE_MAX)
		assert_int_equal(ie.offset, off);
	assert_non_null(strstr(ie.msg, frag));
}

static bool
slice_is(struct slice s, const char *str)
{
	return s.p && s.n == strlen(str) && memcmp(s.p, str, s.n) == 0;
}

static bool
slice_bytes(struct slice s, const void *p, size_t n)
{
	return s.p && s.n == n && memcmp(s.p, p, n) == 0;
}

/* The element of a record (or the header, rec -1) with this tag. */
static const struct itl_elem *
elem(const struct itl_file *f, int rec, unsigned tag)
{
	for (size_t i = 0; i < f->nelems; i++) {
		if (f->elems[i].record == rec && f->elems[i].tag == tag)
			return &f->elems[i];
	}
	return NULL;
}

/* A signer, a CallManager (RSA, with IP) and a CallManager-ECDSA. */
struct fixture {
	X509 *signer, *cm, *cmec;
	struct itl_entry ents[2];
	struct itl_build_opts o;
};

static void
fixture_init(struct fixture *fx, enum itl_hash hash)
{
	memset(fx, 0, sizeof(*fx));
	fx->signer = simple_cert(rsa2048a, "ITLRecovery_cucm.lab", NULL);
	fx->cm = simple_cert(rsa2048b, "cucm.lab", "DNS:cucm.lab");
	fx->cmec = simple_cert(ecp256, "cucm-EC", "DNS:cucm.lab,DNS:x.lab");
	fx->ents[0] = (struct itl_entry){
	    ITL_ROLE_CCM_TFTP, fx->cm, NULL, true, {10, 1, 2, 3}};
	fx->ents[1] =
	    (struct itl_entry){ITL_ROLE_CCM, fx->cmec, NULL, false, {0}};
	fx->o.signer = fx->signer;
	fx->o.signer_key = rsa2048a;
	fx->o.hash = hash;
	fx->o.timestamp = 1700000000;
	fx->o.entries = fx->ents;
	fx->o.nentries = 2;
}

static void
fixture_free(struct fixture *fx)
{
	X509_free(fx->signer);
	X509_free(fx->cm);
	X509_free(fx->cmec);
}

/* Checks one record against the certificate it came from. */
static void
check_record(const struct itl_record *r, X509 *x, uint16_t role,
    const char *dns, const char *subject)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	const ASN1_BIT_STRING *sig;
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	EVP_PKEY *pk = NULL;
	X509 *back = NULL;
	char why[256];

	assert_true(r->has_role);
	assert_int_equal(r->role, role);
	assert_true(slice_is(r->dns_name, dns));
	assert_true(slice_is(r->subject, subject));
	assert_true(slice_bytes(r->cert, der, (size_t)n));
	assert_true(slice_bytes(r->serial, ASN1_STRING_get0_data(sn),
	    (size_t)ASN1_STRING_length(sn)));
	X509_get0_signature(&sig, NULL, x);
	assert_true(slice_bytes(r->signature, ASN1_STRING_get0_data(sig),
	    (size_t)ASN1_STRING_length(sig)));
	assert_int_equal(itl_record_pubkey(r, &pk, why, sizeof(why)), 0);
	assert_int_equal(EVP_PKEY_eq(pk, X509_get0_pubkey(x)), 1);
	assert_int_equal(itl_record_cert(r, &back), 0);
	assert_int_equal(X509_cmp(back, x), 0);
	EVP_PKEY_free(pk);
	X509_free(back);
	OPENSSL_free(der);
}

static void
roundtrip(enum itl_hash hash)
{
	struct fixture fx;
	struct itl_file *f;
	struct buf b;
	X509 *other;

	fixture_init(&fx, hash);
	build(&b, &fx.o);
	f = parse_ok(b.p, b.len);
	assert_int_equal(f->version_major, 1);
	assert_int_equal(f->version_minor, 2);
	assert_int_equal(f->header_len % 4, 0);
	assert_int_equal(f->hash_alg, hash);
	assert_int_equal(f->sig_alg, 0);
	assert_int_equal(f->sig_modulus, 2); /* 256 bytes */
	assert_int_equal(f->signature.n, 256);
	assert_true(slice_is(f->filename, "ITLFile.tlv"));
	assert_true(f->has_timestamp);
	assert_int_equal(f->timestamp, 1700000000);
	assert_int_equal(f->signer_version_major, -1);
	assert_true(slice_is(
	    f->signer_name, "CN=ITLRecovery_cucm.lab;O=ngvoice lab;C=NZ"));
	assert_true(slice_is(
	    f->signer_issuer, "CN=ITLRecovery_cucm.lab;O=ngvoice lab;C=NZ"));
	assert_int_equal(f->nrecs, 3);
	check_record(&f->recs[0], fx.signer, ITL_ROLE_SAST,
	    "ITLRecovery_cucm.lab",
	    "CN=ITLRecovery_cucm.lab;O=ngvoice lab;C=NZ");
	assert_null(f->recs[0].ip.p);
	check_record(&f->recs[1], fx.cm, ITL_ROLE_CCM_TFTP, "cucm.lab",
	    "CN=cucm.lab;O=ngvoice lab;C=NZ");
	assert_true(slice_bytes(f->recs[1].ip, "\x0a\x01\x02\x03", 4));
	/* The EC record's DNS name is its first DNS SAN, not its CN. */
	check_record(&f->recs[2], fx.cmec, ITL_ROLE_CCM, "cucm.lab",
	    "CN=cucm-EC;O=ngvoice lab;C=NZ");
	/* EC keys are written as the X9.62 uncompressed point. */
	assert_int_equal(f->recs[2].pubkey.n, 65);
	assert_int_equal((unsigned char)f->recs[2].pubkey.p[0], 0x04);
	/* RSA keys as DER PKCS#1 RSAPublicKey: 270 bytes for 2048 bits. */
	assert_int_equal(f->recs[1].pubkey.n, 270);
	assert_int_equal((unsigned char)f->recs[1].pubkey.p[0], 0x30);
	/* Every record's length is the sum of its elements. */
	for (size_t i = 0; i < f->nrecs; i++) {
		size_t sum = 0;
		for (size_t j = 0; j < f->recs[i].nelems; j++)
			sum += 3 + f->elems[f->recs[i].first_elem + j].len;
		assert_int_equal(sum, f->recs[i].len);
	}

	verify_ok(f, NULL, 0);
	verify_ok(f, fx.signer, 0);
	/* A certificate the file does not list: its key does not verify. */
	other = simple_cert(rsa2048b, "someone.else", NULL);
	verify_fails(f, other, f->sig_off, "does not verify");
	/* The CallManager key is in the file, but did not sign it. */
	verify_fails(f, fx.cm, f->sig_off, "does not verify");
	X509_free(other);

	/* The same inputs build the same bytes (PKCS#1 v1.5 is deterministic). */
	{
		struct buf b2;
		build(&b2, &fx.o);
		assert_int_equal(b2.len, b.len);
		assert_memory_equal(b2.p, b.p, b.len);
		buf_free(&b2);
	}
	itl_free(f);
	buf_free(&b);
	fixture_free(&fx);
}

static void
test_roundtrip_sha512(void **state)
{
	(void)state;
	roundtrip(ITL_HASH_SHA512);
}

static void
test_roundtrip_sha1(void **state)
{
	(void)state;
	roundtrip(ITL_HASH_SHA1);
}

/* An independent signer: PKCS#1 v1.5 over the file minus tag 12's TLV. */
static void
resign(unsigned char *p, size_t n, EVP_PKEY *key, const EVP_MD *md)
{
	struct itl_file *f = parse_ok(p, n);
	size_t so = f->sig_off, sn = f->signature.n, after = so + 3 + sn;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	size_t outn = sn;

	assert_int_equal(EVP_DigestSignInit(m, NULL, md, NULL, key), 1);
	assert_int_equal(EVP_DigestSignUpdate(m, p, so), 1);
	assert_int_equal(EVP_DigestSignUpdate(m, p + after, n - after), 1);
	assert_int_equal(EVP_DigestSignFinal(m, p + so + 3, &outn), 1);
	assert_int_equal(outn, sn);
	EVP_MD_CTX_free(m);
	itl_free(f);
}

/* A small writer for hand-made files. */
struct raw {
	unsigned char b[16384];
	size_t n;
};

static void
raw_put(struct raw *r, const void *p, size_t n)
{
	assert_true(r->n + n <= sizeof(r->b));
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void
raw_tlv(struct raw *r, unsigned tag, const void *v, size_t n)
{
	unsigned char h[3] = {
	    (unsigned char)tag, (unsigned char)(n >> 8), (unsigned char)n};
	raw_put(r, h, 3);
	if (v) /* NULL: a container's tag and length, its elements follow */
		raw_put(r, v, n);
}

/* Re-emits the header element of f with this tag, as it is. */
static void
raw_copy(struct raw *r, const struct itl_file *f, unsigned tag)
{
	const struct itl_elem *el = elem(f, -1, tag);
	assert_non_null(el);
	raw_tlv(r, tag, f->data + el->off + 3, el->len);
}

static void
raw_u16_at(struct raw *r, size_t off, size_t v)
{
	r->b[off] = (unsigned char)(v >> 8);
	r->b[off + 1] = (unsigned char)v;
}

/*
 * The header in certutils' order, 1, 2, 28, 3{4,6,5}, 7{8,9{10,11}}, 12,
 * 14, 15, padding, with unknown tags in the header and in record 2, then
 * signed again: it parses, keeps every value, and verifies.
 */
static void
test_order_and_unknown_tags(void **state)
{
	struct fixture fx;
	struct itl_file *f, *g;
	struct raw *r = calloc(1, sizeof(*r));
	struct buf b;
	size_t hl_at, si, sv, cont;
	const unsigned char sver[2] = {1, 1};

	(void)state;
	fixture_init(&fx, ITL_HASH_SHA512);
	build(&b, &fx.o);
	f = parse_ok(b.p, b.len);

	raw_copy(r, f, ITL_H_VERSION);
	hl_at = r->n + 3;
	raw_tlv(r, ITL_H_HEADER_LENGTH, "\0\0", 2);
	raw_tlv(r, ITL_H_SIGNER_VERSION, sver, 2);
	raw_tlv(r, 40, "abc", 3); /* unknown, top level */
	si = r->n;
	raw_tlv(r, ITL_H_SIGNER_INFO, NULL, 0);
	raw_copy(r, f, ITL_H_SIGNER_NAME);
	raw_copy(r, f, ITL_H_ISSUER_NAME);
	raw_tlv(r, 99, "", 0); /* unknown, inside a container */
	raw_copy(r, f, ITL_H_SERIAL_NUMBER);
	raw_u16_at(r, si + 1, r->n - si - 3);
	sv = r->n;
	raw_tlv(r, ITL_H_SIGNATURE_INFO, NULL, 0);
	raw_copy(r, f, ITL_H_HASH_ALGORITHM);
	cont = r->n;
	raw_tlv(r, ITL_H_SIGNATURE_ALGORITHM_INFO, NULL, 0);
	raw_copy(r, f, ITL_H_SIGNATURE_MODULUS); /* 11 before 10 */
	raw_copy(r, f, ITL_H_SIGNATURE_ALGORITHM);
	raw_u16_at(r, cont + 1, r->n - cont - 3);
	raw_u16_at(r, sv + 1, r->n - sv - 3);
	raw_copy(r, f, ITL_H_TIMESTAMP); /* 15 before 14 and 12 */
	raw_copy(r, f, ITL_H_FILENAME);
	raw_copy(r, f, ITL_H_SIGNATURE);
	while (r->n % 4)
		raw_put(r, "\x0d", 1);
	raw_u16_at(r, hl_at, r->n);
	/* Record 1 as it is; record 2 with an unknown tag in the middle. */
	raw_put(r, f->data + f->recs[0].off, f->recs[0].len);
	{
		const struct itl_record *rec = &f->recs[1];
		size_t start = r->n, mid;
		const struct itl_elem *dns = elem(f, 1, ITL_R_DNS_NAME);
		mid = dns->off + 3 + dns->len;
		raw_put(r, f->data + rec->off, mid - rec->off);
		raw_tlv(r, 77, "\x01\x02\x03\x04\x05", 5);
		raw_put(r, f->data + mid, rec->off + rec->len - mid);
		raw_u16_at(r, start + 3, r->n - start);
	}
	raw_put(r, f->data + f->recs[2].off, f->recs[2].len);
	resign(r->b, r->n, rsa2048a, EVP_sha512());

	g = parse_ok(r->b, r->n);
	assert_int_equal(g->header_len % 4, 0);
	assert_int_equal(g->signer_version_major, 1);
	assert_int_equal(g->signer_version_minor, 1);
	assert_int_equal(g->nrecs, 3);
	assert_int_equal(g->recs[1].len, f->recs[1].len + 8);
	assert_true(
	    slice_bytes(g->signer_name, f->signer_name.p, f->signer_name.n));
	assert_true(slice_bytes(
	    g->signer_serial, f->signer_serial.p, f->signer_serial.n));
	assert_true(slice_is(g->filename, "ITLFile.tlv"));
	assert_int_equal(g->timestamp, 1700000000);
	assert_int_equal(g->sig_modulus, 2);
	check_record(&g->recs[1], fx.cm, ITL_ROLE_CCM_TFTP, "cucm.lab",
	    "CN=cucm.lab;O=ngvoice lab;C=NZ");
	/* The unknown elements are kept for show. */
	assert_non_null(elem(g, -1, 40));
	assert_non_null(elem(g, -1, 99));
	assert_int_equal(elem(g, -1, 99)->depth, 1);
	assert_int_equal(elem(g, -1, ITL_H_SIGNATURE_ALGORITHM)->depth, 2);
	assert_non_null(elem(g, 1, 77));
	assert_int_equal(elem(g, 1, 77)->len, 5);
	verify_ok(g, NULL, 0);

	itl_free(g);
	itl_free(f);
	buf_free(&b);
	free(r);
	fixture_free(&fx);
}

/* Any one byte changed anywhere, a record above all, fails the check. */
static void
test_tamper(void **state)
{
	struct fixture fx;
	struct itl_file *f;
	struct buf b;
	unsigned char *copy;
	size_t rec2;

	(void)state;
	fixture_init(&fx, ITL_HASH_SHA1);
	fx.o.nentries = 1;
	build(&b, &fx.o);
	f = parse_ok(b.p, b.len);
	rec2 = f->recs[1].off;
	itl_free(f);
	copy = malloc(b.len);

	/* One byte of record 2's DNS name: parses, does not verify. */
	memcpy(copy, b.p, b.len);
	copy[rec2 + 5 + 3] ^= 0x01;
	f = parse_ok(copy, b.len);
	verify_fails(f, NULL, f->sig_off,
	    "does not verify with the key of SAST record 1");
	verify_fails(f, fx.signer, f->sig_off, "does not verify");
	itl_free(f);

	/* Every byte: refused by the parser or by the signature. */
	for (size_t i = 0; i < b.len; i++) {
		struct itl_err ie;
		memcpy(copy, b.p, b.len);
		copy[i] ^= 0x01;
		f = NULL;
		if (itl_parse(&f, copy, b.len, &ie) == 0) {
			int rc = itl_verify(f, NULL, NULL, &ie);
			if (rc == 0)
				fprintf(
				    stderr, "byte %zu changed, verifies\n", i);
			assert_int_equal(rc, EBADMSG);
			assert_true(ie.msg[0] != '\0');
			itl_free(f);
		} else
			assert_true(ie.msg[0] != '\0' && ie.offset < b.len);
	}
	free(copy);
	buf_free(&b);
	fixture_free(&fx);
}

/* Every prefix of a file: a clean error with an offset, never a crash. */
static void
test_truncation(void **state)
{
	struct fixture fx;
	struct itl_file *f;
	struct buf b;
	size_t boundaries = 0;

	(void)state;
	fixture_init(&fx, ITL_HASH_SHA512);
	build(&b, &fx.o);
	for (size_t k = 0; k < b.len; k++) {
		/* A copy of exactly k bytes, so ASan sees any overread. */
		unsigned char *p = malloc(k ? k : 1);
		struct itl_err ie;
		memcpy(p, b.p, k);
		f = NULL;
		if (itl_parse(&f, p, k, &ie) == 0) {
			/* Only a cut between records parses; then it does
			 * not verify. */
			assert_true(f->nrecs < 3);
			assert_int_equal(k, f->nrecs
			                        ? f->recs[f->nrecs - 1].off +
			                              f->recs[f->nrecs - 1].len
			                        : f->header_len);
			assert_int_equal(
			    itl_verify(f, NULL, NULL, &ie), EBADMSG);
			boundaries++;
			itl_free(f);
		} else {
			if (strstr(ie.msg, "truncated") == NULL ||
			    ie.offset > k)
				fprintf(stderr, "cut at %zu: offset %zu: %s\n",
				    k, ie.offset, ie.msg);
			assert_non_null(strstr(ie.msg, "truncated"));
			assert_true(ie.offset <= k);
		}
		free(p);
	}
	/* The header alone, and header + record 1, + record 2. */
	assert_int_equal(boundaries, 3);
	buf_free(&b);
	fixture_free(&fx);
}

/* The golden certificate's subject: 61 characters in Cisco's form. */
#define GOLDEN_CN "cucm-1051-a-pub"
#define GOLDEN_SUBJECT                                                         \
	"CN=" GOLDEN_CN ";OU=Voice;O=Examples;L=Auckland;ST=AKL;C=NZ"

/*
 * A self-signed RSA-1024 certificate shaped like the one of the notes'
 * worked example (1.6): subject and issuer of 61 characters, a 16-byte
 * serial and a DER encoding of exactly 694 bytes, reached by growing an
 * nsComment.
 */
static X509 *
golden_cert(void)
{
	static const unsigned char serial[16] = {0x3a, 0x5f, 0x11, 0x22, 0x33,
	    0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
	struct cert_spec s = {.key = rsa1024,
	    .serial = serial,
	    .serial_n = sizeof(serial),
	    .comment_len = 1};
	X509 *x = NULL;

	s.fields[0] = "C=NZ";
	s.fields[1] = "ST=AKL";
	s.fields[2] = "L=Auckland";
	s.fields[3] = "O=Examples";
	s.fields[4] = "OU=Voice";
	s.fields[5] = "CN=" GOLDEN_CN;
	for (int i = 0; i < 8; i++) {
		size_t n;
		X509_free(x);
		x = mkcert(&s);
		n = der_len(x);
		if (n == 694)
			return x;
		s.comment_len = (size_t)((long)s.comment_len + 694 - (long)n);
	}
	fail_msg("no 694-byte certificate");
	return NULL;
}

/*
 * The notes' worked byte accounting (1.6), from Cisco's `show ctl`: a
 * header of 333 bytes + 3 padding = 336, and a record of 1156 bytes.
 */
static void
test_golden_bytes(void **state)
{
	/* The fixed part of the header; S = signer fields, checked apart. */
	static const struct {
		size_t off;
		unsigned tag, len;
	} hdr[] = {
	    {0, 1, 2},
	    {5, 2, 2},
	    {10, 3, 149},
	    {13, 4, 62},
	    {78, 5, 16},
	    {97, 6, 62},
	    {162, 7, 15},
	    {165, 8, 1},
	    {169, 9, 8},
	    {172, 10, 1},
	    {176, 11, 1},
	    {180, 12, 128},
	    {311, 14, 12},
	    {326, 15, 4},
	    {333, 13, 0},
	    {334, 13, 0},
	    {335, 13, 0},
	};
	/* Record element value lengths: 1156 = their sum + 3 each. */
	static const unsigned rec[][2] = {
	    {1, 2},
	    {2, 16},
	    {3, 62},
	    {4, 2},
	    {5, 62},
	    {6, 16},
	    {7, 140},
	    {8, 128},
	    {9, 694},
	    {10, 4},
	};
	static const unsigned char head[] = {
	    0x01, 0x00, 0x02, 0x01, 0x02,    /* VERSION 1.2 */
	    0x02, 0x00, 0x02, 0x01, 0x50,    /* HEADER_LENGTH 336 */
	    0x03, 0x00, 0x95,                /* SIGNER_INFO 149 */
	    0x04, 0x00, 0x3e, 'C', 'N', '=', /* SIGNER_NAME 62 */
	};
	static const unsigned char siginfo[] = {
	    0x07, 0x00, 0x0f,       /* SIGNATURE_INFO 15 */
	    0x08, 0x00, 0x01, 0x01, /* HASH_ALGORITHM SHA-1 */
	    0x09, 0x00, 0x08,       /* SIGNATURE_ALGORITHM_INFO 8 */
	    0x0a, 0x00, 0x01, 0x00, /* SIGNATURE_ALGORITHM RSA */
	    0x0b, 0x00, 0x01, 0x01, /* SIGNATURE_MODULUS 1024-bit */
	    0x0c, 0x00, 0x80,       /* SIGNATURE 128 */
	};
	static const unsigned char tail[] = {
	    0x0e, 0x00, 0x0c, 'C', 'T', 'L', 'F', 'i', 'l', 'e', '.', 't', 'l',
	    'v', 0x00,                                /* FILENAME */
	    0x0f, 0x00, 0x04, 0x55, 0x4e, 0x3c, 0x80, /* TIMESTAMP */
	    0x0d, 0x0d, 0x0d,                         /* PADDING */
	};
	X509 *x;
	struct itl_entry ent;
	struct itl_build_opts o;
	struct itl_file *f;
	struct buf b;
	size_t sum = 0;
	char subj[256];

	(void)state;
	x = golden_cert();
	assert_int_equal(
	    itl_name_fmt(X509_get_subject_name(x), subj, sizeof(subj)), 0);
	assert_string_equal(subj, GOLDEN_SUBJECT);
	assert_int_equal(strlen(GOLDEN_SUBJECT), 61);
	assert_int_equal(strlen(GOLDEN_CN), 15);

	memset(&o, 0, sizeof(o));
	ent = (struct itl_entry){
	    ITL_ROLE_CCM_TFTP, x, GOLDEN_CN, true, {192, 168, 1, 10}};
	o.signer = x;
	o.signer_key = rsa1024;
	o.hash = ITL_HASH_SHA1;
	o.filename = "CTLFile.tlv";
	o.timestamp = 0x554e3c80;
	o.entries = &ent;
	o.nentries = 1;
	build(&b, &o);
	f = parse_ok(b.p, b.len);

	/* Header: 336 bytes, element by element. */
	assert_int_equal(f->header_len, 336);
	assert_int_equal(f->padding, 3);
	for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
		assert_true(i < f->nelems);
		assert_int_equal(f->elems[i].record, -1);
		assert_int_equal(f->elems[i].off, hdr[i].off);
		assert_int_equal(f->elems[i].tag, hdr[i].tag);
		assert_int_equal(f->elems[i].len, hdr[i].len);
	}
	assert_int_equal(f->elems[sizeof(hdr) / sizeof(hdr[0])].record, 0);
	assert_memory_equal(b.p, head, sizeof(head));
	assert_memory_equal(b.p + 16, GOLDEN_SUBJECT, 62); /* with NUL */
	assert_memory_equal(b.p + 78 + 3, "\x3a\x5f\x11\x22", 4);
	assert_memory_equal(b.p + 97 + 3, GOLDEN_SUBJECT, 62);
	assert_memory_equal(b.p + 162, siginfo, sizeof(siginfo));
	assert_memory_equal(b.p + 311, tail, sizeof(tail));

	/* The record of the example: CCM+TFTP with an IP, 1156 bytes. */
	assert_int_equal(f->nrecs, 2);
	assert_int_equal(f->recs[1].len, 1156);
	assert_int_equal(f->recs[1].nelems, sizeof(rec) / sizeof(rec[0]));
	for (size_t i = 0; i < sizeof(rec) / sizeof(rec[0]); i++) {
		const struct itl_elem *el =
		    &f->elems[f->recs[1].first_elem + i];
		assert_int_equal(el->tag, rec[i][0]);
		assert_int_equal(el->len, rec[i][1]);
		sum += 3 + el->len;
	}
	assert_int_equal(sum, 1156);
	assert_memory_equal(b.p + f->recs[1].off, "\x01\x00\x02\x04\x84", 5);
	/* The SAST record is the same certificate without the IP. */
	assert_int_equal(f->recs[0].len, 1156 - 7);
	assert_int_equal(f->recs[0].role, ITL_ROLE_SAST);
	assert_int_equal(b.len, 336 + 1149 + 1156);
	verify_ok(f, NULL, 0);
	verify_ok(f, x, 0);

	itl_free(f);
	buf_free(&b);
	X509_free(x);
}

/* Hand-made files the parser must refuse, each with its offset. */
static void
test_malformed(void **state)
{
	struct raw *r = calloc(1, sizeof(*r));
	static const unsigned char hdr10[] = {1, 0, 2, 1, 2, 2, 0, 2, 0, 10};
	unsigned char *big;

	(void)state;
	parse_fails("", 0, 0, "empty");
	parse_fails("\x0d\x0d", 2, 2, "truncated");
	parse_fails("\x01\x00", 2, 0, "truncated");
	/* VERSION of the wrong size. */
	parse_fails("\x01\x00\x01\x01\x02\x00\x02\x00\x08", 9, 0,
	    "VERSION (tag 1) has length 1; it is 2 bytes");
	/* HEADER_LENGTH smaller than the header read so far. */
	parse_fails("\x01\x00\x02\x01\x02\x02\x00\x02\x00\x04", 10, 5,
	    "HEADER_LENGTH 4 is less than");
	/* HEADER_LENGTH past the end. */
	parse_fails("\x02\x00\x02\x00\x40", 5, 0,
	    "truncated: HEADER_LENGTH is 64 but the file has only 5 bytes");
	/* No HEADER_LENGTH at all. */
	parse_fails("\x01\x00\x02\x01\x02", 5, 5, "before any HEADER_LENGTH");
	/* Twice. */
	parse_fails(
	    "\x02\x00\x02\x00\x0a\x02\x00\x02\x00\x0a", 10, 5, "appears twice");
	/* A header only: valid, no records. */
	{
		struct itl_file *f = parse_ok(hdr10, sizeof(hdr10));
		assert_int_equal(f->header_len, 10);
		assert_int_equal(f->nrecs, 0);
		itl_free(f);
	}
	/* A container running past the end of the header. */
	r->n = 0;
	raw_tlv(r, 2, "\x00\x0c", 2);
	raw_tlv(r, 3, NULL, 10); /* claims 10 bytes, the header ends at 12 */
	raw_tlv(r, 4, "a", 1);
	raw_put(r, "\x00\x00\x00", 3);
	parse_fails(r->b, r->n, 5,
	    "SIGNER_INFO (tag 3) of length 10 runs past the end of the header");
	/* A container opened before HEADER_LENGTH, which ends it early. */
	r->n = 0;
	raw_tlv(r, 3, NULL, 10);
	raw_tlv(r, 2, "\x00\x08", 2);
	raw_tlv(r, 4, "ab", 2);
	parse_fails(r->b, r->n, 0,
	    "SIGNER_INFO (offset 0) runs past the end of the header at offset 8");
	/* An element crossing the end of its container. */
	r->n = 0;
	raw_tlv(r, 2, "\x00\x10", 2);
	raw_tlv(r, 3, NULL, 4);
	raw_tlv(r, 4, "abc", 3);
	raw_put(r, "\x0d\x0d", 2);
	parse_fails(r->b, r->n, 8, "runs past the end of SIGNER_INFO");
	/* A container twice. */
	r->n = 0;
	raw_tlv(r, 2, "\x00\x0b", 2);
	raw_tlv(r, 7, NULL, 3);
	raw_tlv(r, 7, NULL, 0);
	parse_fails(r->b, r->n, 8, "SIGNATURE_INFO (tag 7) appears twice");
	/* A fixed-size header field of another size. */
	r->n = 0;
	raw_tlv(r, 2, "\x00\x0a", 2);
	raw_tlv(r, 8, "\x03\x00", 2);
	parse_fails(r->b, r->n, 5, "HASH_ALGORITHM (tag 8) has length 2");
	r->n = 0;
	raw_tlv(r, 2, "\x00\x0b", 2);
	raw_tlv(r, 15, "\x01\x02\x03", 3);
	parse_fails(r->b, r->n, 5, "TIMESTAMP (tag 15) has length 3");
	/* A duplicate SIGNATURE would make the signed bytes ambiguous. */
	r->n = 0;
	raw_tlv(r, 2, "\x00\x0e", 2);
	raw_tlv(r, 12, "\x01\x02", 2);
	raw_tlv(r, 12, "\x01", 1);
	parse_fails(r->b, r->n, 10, "SIGNATURE (tag 12) appears twice");

	/* Records. */
	r->n = 0;
	raw_tlv(r, 2, "\x00\x05", 2);
	raw_tlv(r, 2, "ab", 2); /* a record must start with tag 1 */
	parse_fails(r->b, r->n, 5,
	    "record 1 starts with DNS_NAME (tag 2), not RECORD_LENGTH");
	r->n = 0;
	raw_tlv(r, 2, "\x00\x05", 2);
	raw_tlv(r, 1, "\x00\x04", 2);
	parse_fails(
	    r->b, r->n, 5, "RECORD_LENGTH 4 is less than its own 5 bytes");
	r->n = 0;
	raw_tlv(r, 2, "\x00\x05", 2);
	raw_tlv(r, 1, "\x00", 1);
	raw_put(r, "\x00", 1);
	parse_fails(r->b, r->n, 5, "has length 1; it is 2 bytes");
	r->n = 0;
	raw_tlv(r, 2, "\x00\x05", 2);
	raw_tlv(r, 1, "\x00\x0b", 2);
	raw_tlv(r, 4, "\x00\x02\x00", 3);
	parse_fails(r->b, r->n, 10, "ROLE (tag 4) has length 3; it is 2 bytes");
	r->n = 0;
	raw_tlv(r, 2, "\x00\x05", 2);
	raw_tlv(r, 1, "\x00\x0c", 2); /* 12: shorter than its elements */
	raw_tlv(r, 2, "host\0", 5);
	raw_tlv(r, 1, "\x00\x05", 2);
	parse_fails(r->b, r->n, 10, "runs past the end of record 1");
	r->n = 0;
	raw_tlv(r, 2, "\x00\x05", 2);
	raw_tlv(r, 1, "\x00\x0f", 2);
	raw_tlv(r, 2, "a\0", 2);
	raw_tlv(r, 2, "b\0", 2);
	parse_fails(
	    r->b, r->n, 15, "DNS_NAME (tag 2) appears twice in record 1");
	r->n = 0;
	raw_tlv(r, 2, "\x00\x05", 2);
	raw_tlv(r, 1, "\x00\x0b", 2);
	raw_tlv(r, 1, "\x00\x0b", 2);
	raw_put(r, "\x00", 1);
	parse_fails(r->b, r->n, 10, "RECORD_LENGTH (tag 1) appears twice");

	/* Too big to be an ITL. */
	big = calloc(1, ITL_MAX_FILE + 1);
	parse_fails(big, ITL_MAX_FILE + 1, 0, "more than");
	free(big);
	free(r);
}

/* Lenient where real files differ: IP of another size, strings without NUL. */
static void
test_lenient(void **state)
{
	struct raw *r = calloc(1, sizeof(*r));
	struct itl_file *f;
	char *out = NULL;
	size_t outn = 0;
	FILE *mf;

	(void)state;
	raw_tlv(r, 1, "\x01\x02", 2);
	raw_tlv(r, 2, "\x00\x0a", 2);
	raw_tlv(r, 1, "\x00\x29", 2);
	raw_tlv(r, 2, "host", 4); /* no NUL */
	raw_tlv(r, 3,
	    "a\x1b"
	    "b",
	    4);                                        /* an ESC */
	raw_tlv(r, 4, "\x00\x15", 2);                  /* TVS */
	raw_tlv(r, 10, "\x0a\x00\x00\x01\x00\x00", 6); /* CSCum48958 */
	raw_tlv(r, 2 + 200, "\x1b[31m", 5);            /* unknown */
	f = parse_ok(r->b, r->n);
	assert_int_equal(f->nrecs, 1);
	assert_true(slice_is(f->recs[0].dns_name, "host"));
	assert_int_equal(f->recs[0].role, ITL_ROLE_TVS);
	assert_int_equal(f->recs[0].ip.n, 6);
	verify_fails(f, NULL, 0, "no SIGNATURE");
	mf = open_memstream(&out, &outn);
	itl_print(mf, f, false);
	fclose(mf);
	assert_non_null(strstr(out, "host (no NUL)"));
	assert_non_null(strstr(out, "TVS (21)"));
	assert_non_null(strstr(out, "not an IPv4 address"));
	assert_non_null(strstr(out, "UNKNOWN"));
	assert_non_null(strstr(out, "a\\x1Bb\n"));
	assert_null(strstr(out, "\x1b"));
	free(out);
	itl_free(f);
	free(r);
}

/* Files that parse but must not verify, each saying why. */
static void
test_verify_refusals(void **state)
{
	struct fixture fx;
	struct itl_file *f;
	struct buf b;
	unsigned char *c;
	size_t h8, h5;

	(void)state;
	fixture_init(&fx, ITL_HASH_SHA512);
	fx.o.nentries = 0;
	build(&b, &fx.o);
	f = parse_ok(b.p, b.len);
	h8 = elem(f, -1, ITL_H_HASH_ALGORITHM)->off;
	h5 = elem(f, -1, ITL_H_SERIAL_NUMBER)->off;
	itl_free(f);
	c = malloc(b.len);

	/* SHA-256's guessed code 2 is read: the signature then fails. */
	memcpy(c, b.p, b.len);
	c[h8 + 3] = 2;
	f = parse_ok(c, b.len);
	verify_fails(f, NULL, f->sig_off, "does not verify");
	itl_free(f);
	/* An unknown digest code. */
	c[h8 + 3] = 7;
	f = parse_ok(c, b.len);
	verify_fails(f, NULL, h8, "HASH_ALGORITHM 7 is not a known digest");
	itl_free(f);
	/* The header names a signer no SAST record has. */
	memcpy(c, b.p, b.len);
	c[h5 + 3] ^= 0x80;
	f = parse_ok(c, b.len);
	verify_fails(f, NULL, h5, "no SAST record has the signer's serial");
	itl_free(f);
	/* The SAST record's role changed: no longer a SAST. */
	memcpy(c, b.p, b.len);
	f = parse_ok(c, b.len);
	c[elem(f, 0, ITL_R_ROLE)->off + 4] = ITL_ROLE_CCM;
	itl_free(f);
	f = parse_ok(c, b.len);
	verify_fails(f, NULL, h5, "no SAST record");
	itl_free(f);
	/* PUBLIC_KEY replaced by another key than the certificate's. */
	memcpy(c, b.p, b.len);
	f = parse_ok(c, b.len);
	{
		const struct itl_elem *pk = elem(f, 0, ITL_R_PUBLIC_KEY);
		unsigned char *der = NULL;
		int n = i2d_PublicKey(rsa2048b, &der);
		assert_int_equal((size_t)n, pk->len);
		memcpy(c + pk->off + 3, der, pk->len);
		OPENSSL_free(der);
		verify_fails(f, NULL, f->recs[0].off,
		    "PUBLIC_KEY is not the key of the record's certificate");
	}
	itl_free(f);
	/* The signature of another size than the key's. */
	{
		struct itl_file g;
		f = parse_ok(b.p, b.len);
		g = *f;
		g.signature.n = 128;
		verify_fails(&g, NULL, f->sig_off, "SIGNATURE is 128 bytes");
		g.sig_alg = 1;
		verify_fails(&g, NULL, SIZE_MAX, "only RSA");
		g.sig_alg = 0;
		g.signer_serial.p = NULL;
		verify_fails(&g, NULL, 0, "names no signer");
		g.signer_serial = f->signer_serial;
		g.hash_alg = -1;
		verify_fails(&g, NULL, 0, "no HASH_ALGORITHM");
		itl_free(f);
	}
	/* An EC certificate as the given signer. */
	f = parse_ok(b.p, b.len);
	verify_fails(f, fx.cmec, SIZE_MAX, "EC");
	itl_free(f);

	free(c);
	buf_free(&b);
	fixture_free(&fx);
}

/* An EC-only file: P-256 and P-384 records, key from the point alone. */
static void
test_ec_records(void **state)
{
	struct fixture fx;
	X509 *p384;
	struct itl_entry e[2];
	struct itl_file *f;
	struct itl_record r;
	struct buf b;
	EVP_PKEY *pk = NULL;
	char why[256];

	(void)state;
	fixture_init(&fx, ITL_HASH_SHA1);
	p384 = simple_cert(ecp384, "cucm-EC384", NULL);
	e[0] =
	    (struct itl_entry){ITL_ROLE_CCM, fx.cmec, "cucm.lab", false, {0}};
	e[1] = (struct itl_entry){ITL_ROLE_TVS, p384, NULL, true, {1, 2, 3, 4}};
	fx.o.entries = e;
	fx.o.nentries = 2;
	build(&b, &fx.o);
	f = parse_ok(b.p, b.len);
	assert_int_equal(f->nrecs, 3);
	check_record(&f->recs[1], fx.cmec, ITL_ROLE_CCM, "cucm.lab",
	    "CN=cucm-EC;O=ngvoice lab;C=NZ");
	check_record(&f->recs[2], p384, ITL_ROLE_TVS, "cucm-EC384",
	    "CN=cucm-EC384;O=ngvoice lab;C=NZ");
	assert_int_equal(f->recs[2].pubkey.n, 97);
	/* Without its certificate, the curve comes from the point's size. */
	r = f->recs[2];
	r.cert.p = NULL;
	assert_int_equal(itl_record_pubkey(&r, &pk, why, sizeof(why)), 0);
	assert_int_equal(EVP_PKEY_eq(pk, ecp384), 1);
	EVP_PKEY_free(pk);
	r.pubkey.n = 50;
	assert_int_equal(itl_record_pubkey(&r, &pk, why, sizeof(why)), EBADMSG);
	assert_non_null(strstr(why, "neither"));
	r.pubkey.p = NULL;
	assert_int_equal(itl_record_pubkey(&r, &pk, why, sizeof(why)), ENOENT);
	verify_ok(f, NULL, 0);
	itl_free(f);
	buf_free(&b);
	X509_free(p384);
	fixture_free(&fx);
}

static void
test_build_refusals(void **state)
{
	struct fixture fx;
	struct buf b;
	struct pki_err e;
	X509 *ecs, *s1536;

	(void)state;
	fixture_init(&fx, ITL_HASH_SHA512);
	buf_init(&b);
	/* The key is not the signer's. */
	fx.o.signer_key = rsa2048b;
	assert_int_equal(itl_build(&b, &fx.o, &e), EINVAL);
	assert_non_null(strstr(e.msg, "not the key of the signer"));
	/* An EC signer. */
	ecs = simple_cert(ecp256, "ec-signer", NULL);
	fx.o.signer = ecs;
	fx.o.signer_key = ecp256;
	assert_int_equal(itl_build(&b, &fx.o, &e), EINVAL);
	assert_non_null(strstr(e.msg, "signed with RSA"));
	/* An RSA size without a SIGNATURE_MODULUS code. */
	s1536 = simple_cert(rsa1536, "odd-size", NULL);
	fx.o.signer = s1536;
	fx.o.signer_key = rsa1536;
	assert_int_equal(itl_build(&b, &fx.o, &e), EINVAL);
	assert_non_null(strstr(e.msg, "1536 bits has no SIGNATURE_MODULUS"));
	/* SHA-256's code is a guess: never written. */
	fx.o.signer = fx.signer;
	fx.o.signer_key = rsa2048a;
	fx.o.hash = ITL_HASH_SHA256;
	assert_int_equal(itl_build(&b, &fx.o, &e), EINVAL);
	assert_non_null(strstr(e.msg, "SHA-1 (1) or SHA-512 (3)"));
	/* Nothing is left in the buffer after a failure. */
	assert_int_equal(b.len, 0);
	fx.o.signer = NULL;
	assert_int_equal(itl_build(&b, &fx.o, &e), EINVAL);
	/* SIGNER_VERSION when asked; a signer already listed is not twice. */
	{
		struct itl_entry ent[2] = {
		    {ITL_ROLE_SAST, fx.signer, "signer.lab", false, {0}},
		    {ITL_ROLE_CCM_TFTP, fx.cm, NULL, false, {0}},
		};
		struct itl_file *f;
		fx.o.signer = fx.signer;
		fx.o.hash = 0; /* the default: SHA-512 */
		fx.o.signer_version = 0x0101;
		fx.o.entries = ent;
		fx.o.nentries = 2;
		build(&b, &fx.o);
		f = parse_ok(b.p, b.len);
		assert_int_equal(f->hash_alg, ITL_HASH_SHA512);
		assert_int_equal(f->signer_version_major, 1);
		assert_int_equal(f->signer_version_minor, 1);
		assert_int_equal(f->header_len % 4, 0);
		assert_int_equal(f->nrecs, 2);
		assert_true(slice_is(f->recs[0].dns_name, "signer.lab"));
		verify_ok(f, NULL, 0);
		itl_free(f);
	}
	buf_free(&b);
	X509_free(ecs);
	X509_free(s1536);
	fixture_free(&fx);
}

static void
test_print(void **state)
{
	struct fixture fx;
	struct itl_file *f;
	struct buf b;
	char *out = NULL;
	size_t outn = 0;
	FILE *mf;

	(void)state;
	fixture_init(&fx, ITL_HASH_SHA512);
	build(&b, &fx.o);
	f = parse_ok(b.p, b.len);
	mf = open_memstream(&out, &outn);
	itl_print(mf, f, false);
	fclose(mf);
	assert_non_null(strstr(out, "       0    1  VERSION"));
	assert_non_null(strstr(out, "  SIGNER_NAME"));
	assert_non_null(
	    strstr(out, "CN=ITLRecovery_cucm.lab;O=ngvoice lab;C=NZ"));
	assert_non_null(strstr(out, "3 (SHA-512)"));
	assert_non_null(strstr(out, "2 (2048-bit)"));
	assert_non_null(strstr(out, "1700000000 (2023-11-14 22:13:20 UTC)"));
	assert_non_null(strstr(out, "SHA-1 "));
	assert_non_null(strstr(out, "10.1.2.3"));
	assert_non_null(strstr(out, "-- record 3"));
	assert_non_null(strstr(out,
	    "SAST (0) System Administrator Security Token; signs this file"));
	assert_non_null(strstr(out, "CCM+TFTP (2)"));
	assert_non_null(strstr(out, "CCM (1)"));
	assert_non_null(strstr(out, "RSA 2048 bits"));
	assert_non_null(strstr(out, "EC P-256"));
	assert_non_null(strstr(out, "signed by:      record 1"));
	free(out);
	out = NULL;
	mf = open_memstream(&out, &outn);
	itl_print(mf, f, true);
	fclose(mf);
	{
		/* The certificate in hex, from its DER SEQUENCE on. */
		char *line = strstr(out, "  CERTIFICATE");
		assert_non_null(line);
		*strchr(line, '\n') = '\0';
		assert_non_null(strstr(line, "30 82"));
		assert_null(strstr(line, "SHA-1"));
	}
	free(out);
	itl_free(f);
	buf_free(&b);
	fixture_free(&fx);
}

static void
test_names(void **state)
{
	uint16_t r;
	char buf[64];
	X509_NAME *n = X509_NAME_new();

	(void)state;
	assert_int_equal(itl_role_parse(&r, "ccm+tftp"), 0);
	assert_int_equal(r, 2);
	assert_int_equal(itl_role_parse(&r, "SAST"), 0);
	assert_int_equal(r, 0);
	assert_int_equal(itl_role_parse(&r, "app-server"), 0);
	assert_int_equal(r, 7);
	assert_int_equal(itl_role_parse(&r, "TVS"), 0);
	assert_int_equal(r, 21);
	assert_int_equal(itl_role_parse(&r, "42"), 0);
	assert_int_equal(r, 42);
	assert_int_equal(itl_role_parse(&r, "70000"), EINVAL);
	assert_int_equal(itl_role_parse(&r, "phone"), EINVAL);
	assert_int_equal(itl_role_parse(&r, ""), EINVAL);
	assert_string_equal(itl_role_name(4), "CAPF");
	assert_string_equal(itl_role_name(5), "SRST");
	assert_null(itl_role_name(6));
	assert_string_equal(itl_htag_name(13), "PADDING");
	assert_string_equal(itl_htag_name(28), "SIGNER_VERSION");
	assert_null(itl_htag_name(16));
	assert_string_equal(itl_rtag_name(9), "CERTIFICATE");
	assert_null(itl_rtag_name(13));
	assert_string_equal(itl_hash_name(3), "SHA-512");
	assert_null(itl_hash_name(4));

	X509_NAME_add_entry_by_txt(
	    n, "C", MBSTRING_UTF8, (const unsigned char *)"NZ", -1, -1, 0);
	X509_NAME_add_entry_by_txt(
	    n, "O", MBSTRING_UTF8, (const unsigned char *)"Lab", -1, -1, 0);
	X509_NAME_add_entry_by_txt(
	    n, "OU", MBSTRING_UTF8, (const unsigned char *)"Voice", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"cucm.lab", -1, -1, 0);
	assert_int_equal(itl_name_fmt(n, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "CN=cucm.lab;OU=Voice;O=Lab;C=NZ");
	assert_int_equal(itl_name_fmt(n, buf, 10), ENOMEM);
	X509_NAME_free(n);
}

static void
test_files(void **state)
{
	char dir[] = "/tmp/ngv-itl-XXXXXX", path[128];
	unsigned char *data = NULL;
	size_t n = 0;
	struct pki_err e;
	struct stat st;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ITLFile.tlv", dir);
	assert_int_equal(itl_write_file(path, "\x01\x02\x03", 3, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(itl_read_file(path, &data, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(data, "\x01\x02\x03", 3);
	free(data);
	fp = fopen(path, "r+");
	assert_int_equal(ftruncate(fileno(fp), ITL_MAX_FILE + 1), 0);
	fclose(fp);
	assert_int_equal(itl_read_file(path, &data, &n, &e), EFBIG);
	assert_non_null(strstr(e.msg, "ITLFile.tlv"));
	unlink(path);
	assert_int_equal(itl_read_file(path, &data, &n, &e), ENOENT);
	assert_non_null(strstr(e.msg, "cannot read"));
	assert_int_equal(itl_read_file(dir, &data, &n, &e), EISDIR);
	snprintf(path, sizeof(path), "%s/no/such/dir/x.tlv", dir);
	assert_int_equal(itl_write_file(path, "x", 1, &e), EIO);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_roundtrip_sha512),
	    cmocka_unit_test(test_roundtrip_sha1),
	    cmocka_unit_test(test_ec_records),
	    cmocka_unit_test(test_golden_bytes),
	    cmocka_unit_test(test_order_and_unknown_tags),
	    cmocka_unit_test(test_tamper),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_lenient),
	    cmocka_unit_test(test_verify_refusals),
	    cmocka_unit_test(test_build_refusals),
	    cmocka_unit_test(test_print),
	    cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
