/* Unit tests for lib/pki: identities per role, CSR and CA signing, import, trust stores, show, and every error case. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
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

#include "core/log.h"
#include "pki/ca.h"
#include "pki/cert.h"
#include "pki/csr.h"
#include "pki/file.h"
#include "pki/role.h"
#include "pki/show.h"
#include "pki/store.h"
#include "tls/ctx.h"

static char dir[64];

/*
 * dir/name. Each call has its own buffer (the ring is larger than all the
 * calls of a run), so a test may keep the pointers it gets.
 */
static const char *
P(const char *fmt, ...)
{
	static char bufs[2048][320];
	static unsigned next;
	char name[200];
	va_list ap;
	char *b = bufs[next++ % 2048];

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(b, 320, "%s/%s", dir, name);
	return b;
}

static void
write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void
write_str(const char *path, const char *s)
{
	write_file(path, s, strlen(s));
}

static unsigned
mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (unsigned)(st.st_mode & 0777);
}

static X509 *
load(const char *path)
{
	X509 *x = NULL;
	struct pki_err e;
	int err = pki_cert_load(&x, path, &e);
	if (err)
		fprintf(stderr, "load %s: %s\n", path, e.msg);
	assert_int_equal(err, 0);
	return x;
}

static EVP_PKEY *
load_key(const char *path, const char *pass)
{
	EVP_PKEY *pk = NULL;
	struct pki_err e;
	int err = pki_key_load(&pk, path, pass, &e);
	if (err)
		fprintf(stderr, "load key %s: %s\n", path, e.msg);
	assert_int_equal(err, 0);
	return pk;
}

static int
count_certs(const char *path)
{
	STACK_OF(X509) *sk = NULL;
	struct pki_err e;
	assert_int_equal(pki_certs_load(&sk, path, &e), 0);
	int n = sk_X509_num(sk);
	sk_X509_pop_free(sk, X509_free);
	return n;
}

/* Asserts an error code and that the message holds every fragment. */
static void
expect_err(int got, int want, const struct pki_err *e, ...)
{
	va_list ap;
	const char *frag;

	if (got != want)
		fprintf(stderr, "got %d (%s), want %d\n", got, e->msg, want);
	assert_int_equal(got, want);
	va_start(ap, e);
	while ((frag = va_arg(ap, const char *)) != NULL) {
		if (strstr(e->msg, frag) == NULL)
			fprintf(
			    stderr, "message '%s' lacks '%s'\n", e->msg, frag);
		assert_non_null(strstr(e->msg, frag));
	}
	va_end(ap);
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *v)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, v);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/*
 * A certificate made here, independently of lib/pki: for key, signed by
 * signkey (issuer NULL: self-signed), valid from nb to na days from now.
 */
static X509 *
mk_cert(EVP_PKEY *key, EVP_PKEY *signkey, X509 *issuer, const char *cn, long nb,
    long na, bool ca)
{
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0xffffff));
	X509_time_adj_ex(X509_getm_notBefore(x), (int)nb, 0, NULL);
	X509_time_adj_ex(X509_getm_notAfter(x), (int)na, 0, NULL);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(
	    n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x,
	    issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x));
	add_ext(x, issuer ? issuer : x, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, issuer ? issuer : x, NID_key_usage,
	    ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	if (!ca)
		add_ext(x, issuer ? issuer : x, NID_ext_key_usage,
		    "serverAuth,clientAuth");
	assert_true(X509_sign(x, signkey, EVP_sha256()) > 0);
	return x;
}

static void
save_cert(const char *path, X509 *x)
{
	struct pki_err e;
	assert_int_equal(pki_certs_write(path, &x, 1, &e), 0);
}

static char *
show_str(X509 *x)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	pki_show_cert(f, x);
	fclose(f);
	return buf;
}

static void
assert_has(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fprintf(stderr, "'%s' not in:\n%s\n", needle, hay);
	assert_non_null(strstr(hay, needle));
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ngv-test-pki-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	log_set_level(LOG_ERR);
	srandom((unsigned)getpid());
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------------- */

static void
test_keytypes(void **state)
{
	static const struct {
		const char *s;
		enum pki_keytype t;
	} ok[] = {
	    {"rsa:2048", PKI_KEY_RSA2048},
	    {"RSA:3072", PKI_KEY_RSA3072},
	    {"rsa:4096", PKI_KEY_RSA4096},
	    {"ec:p256", PKI_KEY_EC_P256},
	    {"ec:P-256", PKI_KEY_EC_P256},
	    {"ec:prime256v1", PKI_KEY_EC_P256},
	    {"ec:p384", PKI_KEY_EC_P384},
	    {"ec:secp384r1", PKI_KEY_EC_P384},
	    {"ec:p521", PKI_KEY_EC_P521},
	};
	static const char *const bad[] = {"rsa:1024", "rsa:8192", "ec:p224",
	    "ec:secp256k1", "dsa:2048", "ed25519", "", "rsa"};
	struct pki_err e;
	enum pki_keytype t;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(pki_keytype_parse(&t, ok[i].s, &e), 0);
		assert_int_equal(t, ok[i].t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = pki_keytype_parse(&t, bad[i], &e);
		expect_err(err, EINVAL, &e, "unsupported key", "rsa:2048",
		    "ec:p521", NULL);
	}
	assert_string_equal(pki_keytype_name(PKI_KEY_EC_P384), "ec:p384");
	assert_string_equal(pki_keytype_name(PKI_KEY__COUNT), "?");
	assert_true(pki_keytype_is_rsa(PKI_KEY_RSA4096));
	assert_false(pki_keytype_is_rsa(PKI_KEY_EC_P521));
}

static void
test_roles(void **state)
{
	struct pki_ident_spec spec;
	struct pki_err e;
	enum pki_role r;
	char buf[256];

	(void)state;
	assert_int_equal(pki_role_parse(&r, "callmanager", &e), 0);
	assert_int_equal(r, PKI_ROLE_CALLMANAGER);
	assert_int_equal(pki_role_parse(&r, "CallManager-ECDSA", &e), 0);
	assert_int_equal(r, PKI_ROLE_CALLMANAGER_ECDSA);
	assert_int_equal(pki_role_parse(&r, "TOMCAT-ecdsa", &e), 0);
	assert_int_equal(r, PKI_ROLE_TOMCAT_ECDSA);
	assert_int_equal(pki_role_parse(&r, "itlrecovery", &e), 0);
	assert_int_equal(r, PKI_ROLE_ITLRECOVERY);
	expect_err(pki_role_parse(&r, "capf", &e), EINVAL, &e,
	    "unknown role 'capf'", PKI_ROLE_LIST, NULL);
	expect_err(pki_role_parse(&r, "", &e), EINVAL, &e, PKI_ROLE_LIST, NULL);

	assert_string_equal(
	    pki_role_file(PKI_ROLE_CALLMANAGER_ECDSA), "CallManager-ECDSA");
	assert_string_equal(pki_role_file(PKI_ROLE_TOMCAT), "tomcat");
	assert_string_equal(pki_role_file(PKI_ROLE_ITLRECOVERY), "ITLRecovery");
	assert_int_equal(
	    pki_role_path(buf, sizeof(buf), "/d", PKI_ROLE_TOMCAT_ECDSA, "key"),
	    0);
	assert_string_equal(buf, "/d/tomcat-ECDSA.key");
	assert_int_equal(
	    pki_role_path(buf, 8, "/long/dir", PKI_ROLE_TOMCAT, "pem"), EINVAL);

	assert_int_equal(
	    pki_role_default_key(PKI_ROLE_CALLMANAGER), PKI_KEY_RSA2048);
	assert_int_equal(
	    pki_role_default_key(PKI_ROLE_TOMCAT_ECDSA), PKI_KEY_EC_P256);
	assert_int_equal(
	    pki_role_default_key(PKI_ROLE_ITLRECOVERY), PKI_KEY_RSA2048);
	assert_int_equal(pki_role_default_days(PKI_ROLE_TOMCAT), 1825);
	assert_int_equal(pki_role_default_days(PKI_ROLE_ITLRECOVERY), 7300);

	/* defaults */
	assert_int_equal(pki_role_spec(&spec, PKI_ROLE_CALLMANAGER_ECDSA,
	                     "cucm-EC", "DNS:cucm.lab", NULL, 0, &e),
	    0);
	assert_int_equal(spec.key, PKI_KEY_EC_P256);
	assert_int_equal(spec.days, 1825);
	assert_int_equal(spec.profile, PKI_PROFILE_TLS);
	assert_int_equal(pki_role_spec(&spec, PKI_ROLE_ITLRECOVERY, "ITL", NULL,
	                     "rsa:3072", 10, &e),
	    0);
	assert_int_equal(spec.key, PKI_KEY_RSA3072);
	assert_int_equal(spec.days, 10);
	assert_int_equal(spec.profile, PKI_PROFILE_SIGNER);

	/* the key family must fit the role */
	expect_err(pki_role_spec(&spec, PKI_ROLE_CALLMANAGER, "cucm", NULL,
	               "ec:p256", 0, &e),
	    EINVAL, &e, "CallManager takes an RSA key", NULL);
	expect_err(pki_role_spec(&spec, PKI_ROLE_TOMCAT_ECDSA, "cuc", NULL,
	               "rsa:2048", 0, &e),
	    EINVAL, &e, "tomcat-ECDSA takes an EC key", NULL);
	expect_err(pki_role_spec(
	               &spec, PKI_ROLE_TOMCAT, "cuc", NULL, "rsa:1024", 0, &e),
	    EINVAL, &e, "unsupported key 'rsa:1024'", NULL);
	expect_err(pki_role_spec(&spec, PKI_ROLE_TOMCAT_ECDSA, "cuc", NULL,
	               "ec:p224", 0, &e),
	    EINVAL, &e, "unsupported key 'ec:p224'", NULL);
	expect_err(
	    pki_role_spec(&spec, PKI_ROLE_TOMCAT, "*.lab", NULL, NULL, 0, &e),
	    EINVAL, &e, "wildcard", NULL);
	expect_err(pki_role_spec(&spec, PKI_ROLE_TOMCAT, "", NULL, NULL, 0, &e),
	    EINVAL, &e, "common name", NULL);
	expect_err(pki_role_spec(&spec, PKI_ROLE_TOMCAT,
	               "a-very-long-common-name-that-is-longer-than-sixty-four-"
	               "characters.lab",
	               NULL, NULL, 0, &e),
	    EINVAL, &e, "longer than 64", NULL);
	expect_err(
	    pki_role_spec(&spec, PKI_ROLE_TOMCAT, "cuc", NULL, NULL, 40000, &e),
	    EINVAL, &e, "1 to 36500", NULL);
}

static void
test_san(void **state)
{
	char buf[256] = "", small[12] = "";
	struct pki_err e;

	(void)state;
	assert_int_equal(pki_san_append(buf, sizeof(buf), "cucm.lab", &e), 0);
	assert_int_equal(pki_san_append(buf, sizeof(buf), "10.0.0.1", &e), 0);
	assert_int_equal(
	    pki_san_append(buf, sizeof(buf), " ::1 , dns:cuc.lab", &e), 0);
	assert_int_equal(pki_san_append(buf, sizeof(buf), "IP:fe80::1", &e), 0);
	assert_string_equal(
	    buf, "DNS:cucm.lab,IP:10.0.0.1,IP:::1,DNS:cuc.lab,IP:fe80::1");

	expect_err(pki_san_append(buf, sizeof(buf), "*.lab", &e), EINVAL, &e,
	    "wildcard", NULL);
	expect_err(pki_san_append(buf, sizeof(buf), "IP:cucm.lab", &e), EINVAL,
	    &e, "not a valid IPv4 or IPv6 address", NULL);
	expect_err(pki_san_append(buf, sizeof(buf), "bad name!", &e), EINVAL,
	    &e, "not a valid host name", NULL);
	expect_err(pki_san_append(buf, sizeof(buf), "a,,b", &e), EINVAL, &e,
	    "empty", NULL);
	expect_err(pki_san_append(small, sizeof(small), "cucm.example.lab", &e),
	    ENOMEM, &e, "too many", NULL);
	assert_string_equal(small, "");
}

/* Checks the extensions of a generated identity against its role. */
static void
check_identity(X509 *x, EVP_PKEY *key, enum pki_role r, int days)
{
	uint32_t flags = X509_get_extension_flags(x);
	uint32_t ku = X509_get_key_usage(x);
	int d = 0, s = 0;

	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);
	/* an end entity: CA:FALSE present, no keyCertSign */
	assert_true(flags & EXFLAG_BCONS);
	assert_false(flags & EXFLAG_CA);
	assert_int_equal(X509_check_ca(x), 0);
	assert_true(flags & EXFLAG_KUSAGE);
	assert_false(ku & KU_KEY_CERT_SIGN);
	if (r == PKI_ROLE_ITLRECOVERY) {
		assert_int_equal(ku, KU_DIGITAL_SIGNATURE);
		assert_true(X509_get_ext_by_NID(x, NID_ext_key_usage, -1) < 0);
	} else {
		assert_int_equal(
		    ku, pki_role_is_ec(r)
		            ? KU_DIGITAL_SIGNATURE
		            : KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
		assert_int_equal(X509_get_extended_key_usage(x),
		    XKU_SSL_SERVER | XKU_SSL_CLIENT);
	}
	assert_true(X509_self_signed(x, 1) == 1);
	assert_true(ASN1_TIME_diff(&d, &s, NULL, X509_get0_notAfter(x)));
	assert_true(d == days || d == days - 1);
}

static void
test_generate_roles(void **state)
{
	static const char *const cns[PKI_ROLE__COUNT] = {"cucm.lab",
	    "cucm-EC.lab", "cuc.lab", "cuc-EC.lab", "ITLRECOVERY_cucm.lab"};
	struct pki_ident_spec spec;
	struct pki_err e;
	char cert[512], key[512], group[64];
	const char *gdir = P("gen");

	(void)state;
	assert_int_equal(mkdir(gdir, 0700), 0);
	for (int i = 0; i < PKI_ROLE__COUNT; i++) {
		enum pki_role r = (enum pki_role)i;
		char san[64];
		snprintf(san, sizeof(san), "DNS:%s,IP:127.0.0.1",
		    i < 2 ? "cucm.lab" : "cuc.lab");
		assert_int_equal(
		    pki_role_spec(&spec, r, cns[i],
		        r == PKI_ROLE_ITLRECOVERY ? NULL : san, NULL, 0, &e),
		    0);
		pki_role_path(cert, sizeof(cert), gdir, r, "pem");
		pki_role_path(key, sizeof(key), gdir, r, "key");
		assert_int_equal(pki_ident_generate(&spec, cert, key, &e), 0);
		assert_int_equal(mode_of(key), 0600);
		assert_int_equal(mode_of(cert), 0644);

		X509 *x = load(cert);
		EVP_PKEY *pk = load_key(key, NULL);
		check_identity(x, pk, r, pki_role_default_days(r));
		if (pki_role_is_ec(r)) {
			assert_true(EVP_PKEY_is_a(pk, "EC"));
			assert_int_equal(EVP_PKEY_get_group_name(
			                     pk, group, sizeof(group), NULL),
			    1);
			assert_string_equal(group, "prime256v1");
		} else {
			assert_true(EVP_PKEY_is_a(pk, "RSA"));
			assert_int_equal(EVP_PKEY_get_bits(pk), 2048);
		}
		/* subject and SANs as given */
		char subj[128], want[128];
		snprintf(want, sizeof(want), "CN=%s", cns[i]);
		assert_string_equal(
		    pki_subject_fmt(x, subj, sizeof(subj)), want);
		GENERAL_NAMES *g =
		    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
		assert_int_equal(g ? sk_GENERAL_NAME_num(g) : 0,
		    r == PKI_ROLE_ITLRECOVERY ? 0 : 2);
		GENERAL_NAMES_free(g);
		X509_free(x);
		EVP_PKEY_free(pk);
	}
	assert_true(access(P("gen/CallManager.pem"), F_OK) == 0);
	assert_true(access(P("gen/CallManager-ECDSA.key"), F_OK) == 0);
	assert_true(access(P("gen/tomcat.pem"), F_OK) == 0);
	assert_true(access(P("gen/tomcat-ECDSA.pem"), F_OK) == 0);
	assert_true(access(P("gen/ITLRecovery.pem"), F_OK) == 0);

	/* other key types: sizes, curves and a digest as strong as the key */
	static const struct {
		enum pki_role r;
		const char *key;
		int bits;
		const char *group;
		int signid;
	} kinds[] = {
	    {PKI_ROLE_CALLMANAGER, "rsa:3072", 3072, NULL,
	        NID_sha256WithRSAEncryption},
	    {PKI_ROLE_TOMCAT, "rsa:4096", 4096, NULL,
	        NID_sha256WithRSAEncryption},
	    {PKI_ROLE_CALLMANAGER_ECDSA, "ec:p384", 384, "secp384r1",
	        NID_ecdsa_with_SHA384},
	    {PKI_ROLE_TOMCAT_ECDSA, "ec:p521", 521, "secp521r1",
	        NID_ecdsa_with_SHA512},
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		assert_int_equal(pki_role_spec(&spec, kinds[i].r, "k.lab", NULL,
		                     kinds[i].key, 30, &e),
		    0);
		assert_int_equal(pki_ident_generate(&spec, P("k%zu.pem", i),
		                     P("k%zu.key", i), &e),
		    0);
		X509 *x = load(P("k%zu.pem", i));
		EVP_PKEY *pk = X509_get0_pubkey(x);
		assert_int_equal(EVP_PKEY_get_bits(pk), kinds[i].bits);
		if (kinds[i].group) {
			assert_int_equal(EVP_PKEY_get_group_name(
			                     pk, group, sizeof(group), NULL),
			    1);
			assert_string_equal(group, kinds[i].group);
		}
		assert_int_equal(X509_get_signature_nid(x), kinds[i].signid);
		EVP_PKEY *k = load_key(P("k%zu.key", i), NULL);
		check_identity(x, k, kinds[i].r, 30);
		EVP_PKEY_free(k);
		X509_free(x);
	}

	/* regenerating replaces both files, the key keeping mode 0600 */
	chmod(P("k0.key"), 0644);
	assert_int_equal(pki_role_spec(&spec, PKI_ROLE_CALLMANAGER, "k.lab",
	                     NULL, NULL, 30, &e),
	    0);
	assert_int_equal(
	    pki_ident_generate(&spec, P("k0.pem"), P("k0.key"), &e), 0);
	assert_int_equal(mode_of(P("k0.key")), 0600);

	/* a directory that is not there: the file is named */
	expect_err(
	    pki_ident_generate(&spec, P("nodir/x.pem"), P("nodir/x.key"), &e),
	    EIO, &e, "nodir/x.key: cannot write", NULL);
}

/* ---------------------------------------------------------------------- */

/* Verifies x against a store of trusted certificates for a purpose. */
static int
verify(X509 *x, X509 **trusted, int ntrusted, STACK_OF(X509) * untrusted,
    int purpose, int *verr)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc;

	for (int i = 0; i < ntrusted; i++)
		assert_int_equal(X509_STORE_add_cert(st, trusted[i]), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, x, untrusted), 1);
	if (purpose)
		assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
	rc = X509_verify_cert(ctx);
	*verr = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
	return rc;
}

/* Runs a TLS handshake between two contexts in memory. */
static bool
handshake(SSL_CTX *sctx, SSL_CTX *cctx, long *cverify, long *sverify)
{
	SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
	BIO *sb, *cb;
	int sdone = 0, cdone = 0;

	assert_non_null(s);
	assert_non_null(c);
	assert_int_equal(BIO_new_bio_pair(&sb, 0, &cb, 0), 1);
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (int i = 0; i < 100 && !(sdone && cdone); i++) {
		int rc;
		if (!cdone) {
			rc = SSL_do_handshake(c);
			if (rc == 1)
				cdone = 1;
			else if (SSL_get_error(c, rc) != SSL_ERROR_WANT_READ)
				break;
		}
		if (!sdone) {
			rc = SSL_do_handshake(s);
			if (rc == 1)
				sdone = 1;
			else if (SSL_get_error(s, rc) != SSL_ERROR_WANT_READ)
				break;
		}
	}
	*cverify = SSL_get_verify_result(c);
	*sverify = SSL_get_verify_result(s);
	bool ok = sdone && cdone && SSL_get0_peer_certificate(c) &&
	          SSL_get0_peer_certificate(s);
	SSL_free(s);
	SSL_free(c);
	ERR_clear_error();
	return ok;
}

static SSL_CTX *
ctx_for(bool server, const char *cert, const char *key, const char *cert2,
    const char *key2, const char *ca, enum tls_ciphers ciphers)
{
	struct tls_opts o;
	SSL_CTX *ctx = NULL;

	tls_opts_default(&o);
	o.cert = cert;
	o.key = key;
	o.cert2 = cert2;
	o.key2 = key2;
	o.ca_file = ca;
	o.ciphers = ciphers;
	o.what = server ? "test server" : "test client";
	assert_int_equal(tls_ctx_new(&ctx, server, &o), 0);
	return ctx;
}

/*
 * A self-signed identity is its own trust anchor: the peer that has it in
 * its trust store verifies it, as TLS server and as TLS client, and mutual
 * TLS works with stores built by pki_store_add() and pki_store_bundle().
 */
static void
test_selfsigned_trust_anchor(void **state)
{
	struct pki_ident_spec spec;
	struct pki_err e;
	char cert[PKI_ROLE__COUNT][512], key[PKI_ROLE__COUNT][512];
	const char *cm = P("ss-cm"), *vm = P("ss-vm");
	int verr;

	(void)state;
	assert_int_equal(mkdir(cm, 0700), 0);
	assert_int_equal(mkdir(vm, 0700), 0);
	for (int i = 0; i < PKI_ROLE_ITLRECOVERY; i++) {
		enum pki_role r = (enum pki_role)i;
		bool is_cm = r == PKI_ROLE_CALLMANAGER ||
		             r == PKI_ROLE_CALLMANAGER_ECDSA;
		const char *d = is_cm ? cm : vm;
		assert_int_equal(
		    pki_role_spec(&spec, r, is_cm ? "cucm.lab" : "cuc.lab",
		        is_cm ? "DNS:cucm.lab" : "DNS:cuc.lab", NULL, 0, &e),
		    0);
		pki_role_path(cert[i], sizeof(cert[i]), d, r, "pem");
		pki_role_path(key[i], sizeof(key[i]), d, r, "key");
		assert_int_equal(
		    pki_ident_generate(&spec, cert[i], key[i], &e), 0);
	}

	X509 *rsa = load(cert[PKI_ROLE_CALLMANAGER]);
	X509 *ec = load(cert[PKI_ROLE_CALLMANAGER_ECDSA]);
	X509 *other = load(cert[PKI_ROLE_TOMCAT]);
	assert_int_equal(
	    verify(rsa, &rsa, 1, NULL, X509_PURPOSE_SSL_SERVER, &verr), 1);
	assert_int_equal(
	    verify(rsa, &rsa, 1, NULL, X509_PURPOSE_SSL_CLIENT, &verr), 1);
	assert_int_equal(
	    verify(ec, &ec, 1, NULL, X509_PURPOSE_SSL_SERVER, &verr), 1);
	assert_int_equal(
	    verify(ec, &ec, 1, NULL, X509_PURPOSE_SSL_CLIENT, &verr), 1);
	/* and it is not trusted by a store without it */
	assert_int_equal(
	    verify(rsa, &other, 1, NULL, X509_PURPOSE_SSL_SERVER, &verr), 0);
	assert_int_equal(verr, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
	X509_free(rsa);
	X509_free(ec);
	X509_free(other);

	/* the guide's self-signed exchange, through the trust stores */
	char name[128], cmtrust[512], vmtrust[512];
	snprintf(cmtrust, sizeof(cmtrust), "%s/callmanager-trust", cm);
	snprintf(vmtrust, sizeof(vmtrust), "%s/callmanager-trust", vm);
	for (int i = 0; i < PKI_ROLE_ITLRECOVERY; i++) {
		bool is_cm = i <= PKI_ROLE_CALLMANAGER_ECDSA;
		X509 *x = load(cert[i]);
		/* the CN is the same for RSA and EC: the store tells apart */
		assert_int_equal(pki_store_add(is_cm ? vmtrust : cmtrust, x,
		                     NULL, name, sizeof(name), NULL, &e),
		    0);
		X509_free(x);
	}
	assert_int_equal(
	    pki_store_bundle(cmtrust, P("cm-trust.pem"), NULL, &e), 0);
	assert_int_equal(
	    pki_store_bundle(vmtrust, P("vm-trust.pem"), NULL, &e), 0);
	assert_int_equal(count_certs(P("cm-trust.pem")), 2);

	static const enum tls_ciphers opts[] = {
	    TLS_CIPHERS_ALL_RSA, TLS_CIPHERS_ALL_ECDSA};
	for (size_t i = 0; i < 2; i++) {
		SSL_CTX *s = ctx_for(true, cert[PKI_ROLE_CALLMANAGER],
		    key[PKI_ROLE_CALLMANAGER], cert[PKI_ROLE_CALLMANAGER_ECDSA],
		    key[PKI_ROLE_CALLMANAGER_ECDSA], P("cm-trust.pem"),
		    opts[i]);
		SSL_CTX *c = ctx_for(false, cert[PKI_ROLE_TOMCAT],
		    key[PKI_ROLE_TOMCAT], cert[PKI_ROLE_TOMCAT_ECDSA],
		    key[PKI_ROLE_TOMCAT_ECDSA], P("vm-trust.pem"), opts[i]);
		long cv, sv;
		assert_true(handshake(s, c, &cv, &sv));
		assert_int_equal(cv, X509_V_OK);
		assert_int_equal(sv, X509_V_OK);
		SSL_CTX_free(c);
		SSL_CTX_free(s);
	}

	/* a client that trusts only itself refuses the server */
	SSL_CTX *s =
	    ctx_for(true, cert[PKI_ROLE_CALLMANAGER], key[PKI_ROLE_CALLMANAGER],
	        NULL, NULL, P("cm-trust.pem"), TLS_CIPHERS_ALL_RSA);
	SSL_CTX *c = ctx_for(false, cert[PKI_ROLE_TOMCAT], key[PKI_ROLE_TOMCAT],
	    NULL, NULL, cert[PKI_ROLE_TOMCAT], TLS_CIPHERS_ALL_RSA);
	long cv, sv;
	assert_false(handshake(s, c, &cv, &sv));
	assert_int_equal(cv, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
	SSL_CTX_free(c);
	SSL_CTX_free(s);
}

/* ---------------------------------------------------------------------- */

static void
test_csr_ca_sign_intermediate(void **state)
{
	struct pki_ca_spec ca = {.key = PKI_KEY_EC_P384, .intermediate = true};
	struct pki_ident_spec spec;
	struct pki_err e;
	const char *cadir = P("ca1"), *id = P("id1");
	char csr[512], key[512], pem[512];
	int verr;

	(void)state;
	assert_int_equal(pki_ca_init(cadir, &ca, &e), 0);
	assert_int_equal(mode_of(cadir), 0700);
	assert_int_equal(mode_of(P("ca1/ca.key")), 0600);
	assert_int_equal(mode_of(P("ca1/intermediate.key")), 0600);
	X509 *root = load(P("ca1/ca.pem"));
	X509 *inter = load(P("ca1/intermediate.pem"));
	assert_true(X509_self_signed(root, 1) == 1);
	assert_int_equal(X509_check_ca(root), 1);
	assert_int_equal(X509_check_ca(inter), 1);
	assert_int_equal(X509_get_pathlen(inter), 0);
	assert_int_equal(X509_check_issued(root, inter), X509_V_OK);
	assert_true(X509_get_key_usage(root) & KU_KEY_CERT_SIGN);
	char group[64];
	assert_int_equal(EVP_PKEY_get_group_name(X509_get0_pubkey(root), group,
	                     sizeof(group), NULL),
	    1);
	assert_string_equal(group, "secp384r1");
	/* the intermediate never outlives the root */
	assert_true(ASN1_TIME_compare(X509_get0_notAfter(inter),
	                X509_get0_notAfter(root)) <= 0);
	/* refuses to replace a CA silently */
	expect_err(
	    pki_ca_init(cadir, &ca, &e), EEXIST, &e, "ca.key", "already", NULL);

	/* a request for tomcat-ECDSA, with SANs */
	assert_int_equal(mkdir(id, 0700), 0);
	assert_int_equal(
	    pki_role_spec(&spec, PKI_ROLE_TOMCAT_ECDSA, "cuc-EC.lab",
	        "DNS:cuc.lab,IP:127.0.0.1", NULL, 0, &e),
	    0);
	pki_role_path(csr, sizeof(csr), id, PKI_ROLE_TOMCAT_ECDSA, "csr");
	pki_role_path(key, sizeof(key), id, PKI_ROLE_TOMCAT_ECDSA, "key");
	pki_role_path(pem, sizeof(pem), id, PKI_ROLE_TOMCAT_ECDSA, "pem");
	assert_int_equal(pki_csr_generate(&spec, csr, key, &e), 0);
	assert_int_equal(mode_of(key), 0600);
	X509_REQ *req = NULL;
	assert_int_equal(pki_csr_load(&req, csr, &e), 0);
	assert_int_equal(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
	GENERAL_NAMES *rs = pki_csr_sans(req);
	assert_non_null(rs);
	assert_int_equal(sk_GENERAL_NAME_num(rs), 2);
	GENERAL_NAMES_free(rs);
	X509_REQ_free(req);

	assert_int_equal(
	    pki_ca_sign(cadir, csr, P("signed1.pem"), 0, NULL, &e), 0);
	assert_int_equal(count_certs(P("signed1.pem")), 2);
	STACK_OF(X509) *chain = NULL;
	assert_int_equal(pki_certs_load(&chain, P("signed1.pem"), &e), 0);
	X509 *leaf = sk_X509_shift(chain);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), inter), 0);
	assert_int_equal(X509_check_issued(inter, leaf), X509_V_OK);
	char subj[128];
	assert_string_equal(
	    pki_subject_fmt(leaf, subj, sizeof(subj)), "CN=cuc-EC.lab");
	/* SANs copied from the request */
	GENERAL_NAMES *g =
	    X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	assert_non_null(g);
	assert_int_equal(sk_GENERAL_NAME_num(g), 2);
	assert_int_equal(sk_GENERAL_NAME_value(g, 0)->type, GEN_DNS);
	assert_int_equal(sk_GENERAL_NAME_value(g, 1)->type, GEN_IPADD);
	GENERAL_NAMES_free(g);
	assert_int_equal(
	    X509_get_extended_key_usage(leaf), XKU_SSL_SERVER | XKU_SSL_CLIENT);
	assert_int_equal(X509_check_ca(leaf), 0);
	assert_int_equal(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
	int d = 0, s = 0;
	ASN1_TIME_diff(&d, &s, NULL, X509_get0_notAfter(leaf));
	assert_true(d == PKI_CA_SIGN_DAYS || d == PKI_CA_SIGN_DAYS - 1);

	/* the signed leaf verifies against the root, through the chain */
	assert_int_equal(
	    verify(leaf, &root, 1, chain, X509_PURPOSE_SSL_SERVER, &verr), 1);
	assert_int_equal(
	    verify(leaf, &root, 1, chain, X509_PURPOSE_SSL_CLIENT, &verr), 1);
	/* not without its intermediate */
	assert_int_equal(
	    verify(leaf, &root, 1, NULL, X509_PURPOSE_SSL_SERVER, &verr), 0);
	assert_int_equal(verr, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	/* nor against another root */
	struct pki_ca_spec other = {.key = PKI_KEY_EC_P256};
	assert_int_equal(pki_ca_init(P("ca-other"), &other, &e), 0);
	X509 *oroot = load(P("ca-other/ca.pem"));
	assert_int_equal(
	    verify(leaf, &oroot, 1, chain, X509_PURPOSE_SSL_SERVER, &verr), 0);

	/* pki_verify says the same, in words */
	char why[512];
	X509_STORE *st = NULL;
	assert_int_equal(pki_trust_load(&st, P("ca1/ca.pem"), &e), 0);
	assert_int_equal(pki_verify(leaf, chain, st, why, sizeof(why)), 0);
	assert_string_equal(why, "CN=cuc-EC.lab > CN=ngvoice lab intermediate "
	                         "CA > CN=ngvoice lab root CA");
	X509_STORE_free(st);

	/* import: DIR/tomcat-ECDSA.pem gets leaf + intermediate */
	assert_int_equal(pki_role_import(id, PKI_ROLE_TOMCAT_ECDSA,
	                     P("signed1.pem"), NULL, &e),
	    0);
	assert_int_equal(count_certs(pem), 2);
	X509 *got = load(pem);
	assert_int_equal(X509_cmp(got, leaf), 0);
	X509_free(got);

	/* TLS: the CA-signed identity against a peer trusting only the root */
	char name[128];
	assert_int_equal(pki_store_add(P("peer/callmanager-trust"), root, NULL,
	                     name, sizeof(name), NULL, &e),
	    0);
	assert_string_equal(name, "ngvoice_lab_root_CA");
	assert_int_equal(pki_store_bundle(P("peer/callmanager-trust"),
	                     P("peer-trust.pem"), NULL, &e),
	    0);
	/* and the peer's own self-signed identity, trusted by our side */
	assert_int_equal(pki_role_spec(&spec, PKI_ROLE_CALLMANAGER_ECDSA,
	                     "cucm-EC.lab", "DNS:cucm.lab", NULL, 0, &e),
	    0);
	assert_int_equal(
	    pki_ident_generate(&spec, P("peer/cm.pem"), P("peer/cm.key"), &e),
	    0);
	SSL_CTX *sctx = ctx_for(true, pem, key, NULL, NULL, P("peer/cm.pem"),
	    TLS_CIPHERS_ALL_ECDSA);
	SSL_CTX *cctx = ctx_for(false, P("peer/cm.pem"), P("peer/cm.key"), NULL,
	    NULL, P("peer-trust.pem"), TLS_CIPHERS_ALL_ECDSA);
	long cv, sv;
	assert_true(handshake(sctx, cctx, &cv, &sv));
	assert_int_equal(cv, X509_V_OK);
	assert_int_equal(sv, X509_V_OK);
	SSL_CTX_free(cctx);
	/* a peer trusting another root refuses it */
	cctx = ctx_for(false, P("peer/cm.pem"), P("peer/cm.key"), NULL, NULL,
	    P("ca-other/ca.pem"), TLS_CIPHERS_ALL_ECDSA);
	assert_false(handshake(sctx, cctx, &cv, &sv));
	assert_int_not_equal(cv, X509_V_OK);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);

	X509_free(oroot);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	X509_free(root);
	X509_free(inter);
}

static void
test_ca_root_only(void **state)
{
	struct pki_ca_spec ca = {.key = PKI_KEY_EC_P256,
	    .intermediate = true,
	    .cn = "Lab Root",
	    .days = 100};
	struct pki_ident_spec spec;
	struct pki_err e;
	const char *cadir = P("ca2");
	int verr;

	(void)state;
	assert_int_equal(pki_ca_init(cadir, &ca, &e), 0);
	X509 *inter = load(P("ca2/intermediate.pem"));
	char subj[128];
	assert_string_equal(pki_subject_fmt(inter, subj, sizeof(subj)),
	    "CN=Lab Root intermediate");
	X509_free(inter);
	/* again without an intermediate: the old one must not sign */
	ca.intermediate = false;
	ca.force = true;
	assert_int_equal(pki_ca_init(cadir, &ca, &e), 0);
	assert_int_not_equal(access(P("ca2/intermediate.pem"), F_OK), 0);
	assert_int_not_equal(access(P("ca2/intermediate.key"), F_OK), 0);

	/* an RSA request for CallManager, signed by the root */
	assert_int_equal(pki_role_spec(&spec, PKI_ROLE_CALLMANAGER, "cucm.lab",
	                     "DNS:cucm.lab", NULL, 0, &e),
	    0);
	assert_int_equal(
	    pki_csr_generate(&spec, P("cm2.csr"), P("cm2.key"), &e), 0);
	/* validity longer than the CA's: cut at the CA's end */
	assert_int_equal(
	    pki_ca_sign(cadir, P("cm2.csr"), P("cm2.pem"), 36500, NULL, &e), 0);
	assert_int_equal(count_certs(P("cm2.pem")), 1);
	X509 *root = load(P("ca2/ca.pem"));
	X509 *leaf = load(P("cm2.pem"));
	assert_int_equal(X509_check_issued(root, leaf), X509_V_OK);
	assert_true(ASN1_TIME_compare(X509_get0_notAfter(leaf),
	                X509_get0_notAfter(root)) <= 0);
	assert_int_equal(X509_get_key_usage(leaf),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_int_equal(
	    verify(leaf, &root, 1, NULL, X509_PURPOSE_SSL_SERVER, &verr), 1);
	X509_free(root);
	X509_free(leaf);

	/* and with --days */
	assert_int_equal(
	    pki_ca_sign(cadir, P("cm2.csr"), P("cm2b.pem"), 10, NULL, &e), 0);
	leaf = load(P("cm2b.pem"));
	int d = 0, s = 0;
	ASN1_TIME_diff(&d, &s, NULL, X509_get0_notAfter(leaf));
	assert_true(d == 10 || d == 9);
	X509_free(leaf);
}

static void
test_ca_errors(void **state)
{
	struct pki_ca_spec ca = {.key = PKI_KEY_EC_P256};
	struct pki_ident_spec spec;
	struct pki_err e;
	const char *cadir = P("ca3");

	(void)state;
	write_str(P("pw"), "s3cret-pass\n");
	char pass[64];
	assert_int_equal(pki_password_read(P("pw"), pass, sizeof(pass), &e), 0);
	assert_string_equal(pass, "s3cret-pass");
	ca.pass = pass;
	assert_int_equal(pki_ca_init(cadir, &ca, &e), 0);
	OPENSSL_cleanse(pass, sizeof(pass));
	assert_int_equal(pass[0], 0);

	assert_int_equal(pki_role_spec(&spec, PKI_ROLE_TOMCAT, "cuc.lab",
	                     "DNS:cuc.lab", NULL, 0, &e),
	    0);
	assert_int_equal(
	    pki_csr_generate(&spec, P("vm3.csr"), P("vm3.key"), &e), 0);

	/* encrypted CA key: no password, a wrong one, the right one */
	expect_err(pki_ca_sign(cadir, P("vm3.csr"), P("vm3.pem"), 0, NULL, &e),
	    EACCES, &e, "ca3/ca.key", "encrypted and no password", NULL);
	expect_err(
	    pki_ca_sign(cadir, P("vm3.csr"), P("vm3.pem"), 0, "wrong", &e),
	    EACCES, &e, "ca3/ca.key", "wrong password", NULL);
	assert_int_not_equal(access(P("vm3.pem"), F_OK), 0);
	assert_int_equal(pki_ca_sign(cadir, P("vm3.csr"), P("vm3.pem"), 0,
	                     "s3cret-pass", &e),
	    0);

	/* no CA there */
	expect_err(
	    pki_ca_sign(P("noca"), P("vm3.csr"), P("x.pem"), 0, NULL, &e),
	    ENOENT, &e, "noca/ca.pem: cannot read", NULL);
	/* not a request */
	expect_err(
	    pki_ca_sign(cadir, P("vm3.pem"), P("x.pem"), 0, "s3cret-pass", &e),
	    EBADMSG, &e, "vm3.pem: not a PEM certificate request", NULL);
	expect_err(pki_ca_sign(cadir, P("nothere.csr"), P("x.pem"), 0,
	               "s3cret-pass", &e),
	    ENOENT, &e, "nothere.csr: cannot read", NULL);

	/* a request altered after signing */
	X509_REQ *req = NULL;
	assert_int_equal(pki_csr_load(&req, P("vm3.csr"), &e), 0);
	/* set_subject_name: editing in place would keep the signed DER */
	X509_NAME *evil = X509_NAME_dup(X509_REQ_get_subject_name(req));
	X509_NAME_add_entry_by_txt(
	    evil, "O", MBSTRING_ASC, (const unsigned char *)"Evil", -1, -1, 0);
	assert_int_equal(X509_REQ_set_subject_name(req, evil), 1);
	X509_NAME_free(evil);
	assert_int_equal(pki_csr_write(P("altered.csr"), req, &e), 0);
	X509_REQ_free(req);
	expect_err(pki_ca_sign(cadir, P("altered.csr"), P("x.pem"), 0,
	               "s3cret-pass", &e),
	    EBADMSG, &e, "altered.csr", "signature does not verify", NULL);

	/* a request with an RSA 1024 key, and one with a wildcard CN */
	static const struct {
		const char *file, *cn, *frag;
		int bits;
	} bad[] = {
	    {"small.csr", "cuc.lab", "unsupported key size: RSA 1024 bits",
	        1024},
	    {"wild.csr", "*.lab", "wildcard", 2048},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EVP_PKEY *k = EVP_RSA_gen((unsigned)bad[i].bits);
		req = X509_REQ_new();
		X509_REQ_set_pubkey(req, k);
		X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
		    MBSTRING_ASC, (const unsigned char *)bad[i].cn, -1, -1, 0);
		assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
		assert_int_equal(
		    pki_csr_write(P("%s", bad[i].file), req, &e), 0);
		X509_REQ_free(req);
		EVP_PKEY_free(k);
		expect_err(pki_ca_sign(cadir, P("%s", bad[i].file), P("x.pem"),
		               0, "s3cret-pass", &e),
		    EINVAL, &e, bad[i].frag, NULL);
	}
	assert_int_not_equal(access(P("x.pem"), F_OK), 0);

	/* an identity directory is no CA */
	assert_int_equal(mkdir(P("notca"), 0700), 0);
	assert_int_equal(
	    pki_role_spec(&spec, PKI_ROLE_TOMCAT, "cuc.lab", NULL, NULL, 0, &e),
	    0);
	assert_int_equal(
	    pki_ident_generate(&spec, P("notca/ca.pem"), P("notca/ca.key"), &e),
	    0);
	expect_err(
	    pki_ca_sign(P("notca"), P("vm3.csr"), P("x.pem"), 0, NULL, &e),
	    EINVAL, &e, "is not a CA certificate", NULL);
	/* a CA certificate with another key */
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = mk_cert(k, k, NULL, "Fake CA", -1, 30, true);
	save_cert(P("notca/ca.pem"), x);
	expect_err(
	    pki_ca_sign(P("notca"), P("vm3.csr"), P("x.pem"), 0, NULL, &e),
	    EINVAL, &e, "does not match the key", NULL);
	/* an expired CA */
	struct pki_err e2;
	assert_int_equal(pki_key_write(P("notca/ca.key"), k, NULL, &e2), 0);
	X509_free(x);
	x = mk_cert(k, k, NULL, "Old CA", -30, -1, true);
	save_cert(P("notca/ca.pem"), x);
	expect_err(
	    pki_ca_sign(P("notca"), P("vm3.csr"), P("x.pem"), 0, NULL, &e),
	    EINVAL, &e, "expired on", NULL);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* ---------------------------------------------------------------------- */

static void
test_import(void **state)
{
	struct pki_ident_spec spec;
	struct pki_err e;
	const char *id = P("imp");
	char pem[512], key[512], fp[128], fp2[128];

	(void)state;
	assert_int_equal(mkdir(id, 0700), 0);
	pki_role_path(pem, sizeof(pem), id, PKI_ROLE_TOMCAT, "pem");
	pki_role_path(key, sizeof(key), id, PKI_ROLE_TOMCAT, "key");
	assert_int_equal(pki_role_spec(&spec, PKI_ROLE_TOMCAT, "cuc.lab",
	                     "DNS:cuc.lab", NULL, 0, &e),
	    0);
	assert_int_equal(pki_ident_generate(&spec, pem, key, &e), 0);
	X509 *orig = load(pem);
	pki_fingerprint(orig, EVP_sha256(), fp, sizeof(fp));
	EVP_PKEY *ikey = load_key(key, NULL);

	/* another key's certificate */
	assert_int_equal(
	    pki_ident_generate(&spec, P("oth.pem"), P("oth.key"), &e), 0);
	expect_err(pki_role_import(id, PKI_ROLE_TOMCAT, P("oth.pem"), NULL, &e),
	    EINVAL, &e, "oth.pem", "does not match the key", "imp/tomcat.key",
	    NULL);
	/* a CA certificate (a root, other key) */
	struct pki_ca_spec ca = {.key = PKI_KEY_EC_P256};
	assert_int_equal(pki_ca_init(P("ca4"), &ca, &e), 0);
	expect_err(
	    pki_role_import(id, PKI_ROLE_TOMCAT, P("ca4/ca.pem"), NULL, &e),
	    EINVAL, &e, "ca4/ca.pem", "is a CA certificate", NULL);
	/* a CA certificate for the identity's own key */
	EVP_PKEY *cakey = load_key(P("ca4/ca.key"), NULL);
	X509 *cax = load(P("ca4/ca.pem"));
	X509 *x = mk_cert(ikey, ikey, NULL, "cuc.lab", -1, 30, true);
	save_cert(P("selfca.pem"), x);
	X509_free(x);
	expect_err(
	    pki_role_import(id, PKI_ROLE_TOMCAT, P("selfca.pem"), NULL, &e),
	    EINVAL, &e, "is a CA certificate", "CA:TRUE", NULL);
	/* expired, and not yet valid */
	x = mk_cert(ikey, cakey, cax, "cuc.lab", -30, -2, false);
	save_cert(P("expired.pem"), x);
	X509_free(x);
	expect_err(
	    pki_role_import(id, PKI_ROLE_TOMCAT, P("expired.pem"), NULL, &e),
	    EINVAL, &e, "expired.pem", "CN=cuc.lab expired on", NULL);
	x = mk_cert(ikey, cakey, cax, "cuc.lab", 2, 30, false);
	save_cert(P("future.pem"), x);
	X509_free(x);
	expect_err(
	    pki_role_import(id, PKI_ROLE_TOMCAT, P("future.pem"), NULL, &e),
	    EINVAL, &e, "future.pem", "not yet valid", NULL);
	/* files that do not do */
	expect_err(
	    pki_role_import(id, PKI_ROLE_TOMCAT, P("nothere.pem"), NULL, &e),
	    ENOENT, &e, "nothere.pem: cannot read", NULL);
	write_str(P("junk.pem"), "hello\n");
	expect_err(
	    pki_role_import(id, PKI_ROLE_TOMCAT, P("junk.pem"), NULL, &e),
	    EBADMSG, &e, "junk.pem: not a PEM certificate", NULL);
	expect_err(pki_role_import(id, PKI_ROLE_TOMCAT, key, NULL, &e), EBADMSG,
	    &e, "not a PEM certificate (it holds a private key)", NULL);
	/* the wrong role for the key type: an RSA pair as tomcat-ECDSA */
	assert_int_equal(link(key, P("imp/tomcat-ECDSA.key")), 0);
	x = mk_cert(ikey, cakey, cax, "cuc.lab", -1, 30, false);
	save_cert(P("good.pem"), x);
	X509_free(x);
	expect_err(
	    pki_role_import(id, PKI_ROLE_TOMCAT_ECDSA, P("good.pem"), NULL, &e),
	    EINVAL, &e, "has an RSA key; role tomcat-ECDSA takes an EC key",
	    NULL);
	/* none of it touched the identity */
	X509 *now = load(pem);
	assert_string_equal(
	    pki_fingerprint(now, EVP_sha256(), fp2, sizeof(fp2)), fp);
	X509_free(now);

	/* a good one, given as root + leaf: the root is left out */
	X509 *good = load(P("good.pem"));
	X509 *two[2] = {cax, good};
	assert_int_equal(pki_certs_write(P("rootleaf.pem"), two, 2, &e), 0);
	assert_int_equal(
	    pki_role_import(id, PKI_ROLE_TOMCAT, P("rootleaf.pem"), NULL, &e),
	    0);
	assert_int_equal(count_certs(pem), 1);
	now = load(pem);
	assert_int_equal(X509_cmp(now, good), 0);
	X509_free(now);

	/* an encrypted identity key needs its password */
	assert_int_equal(pki_key_write(key, ikey, "kpass", &e), 0);
	assert_int_equal(mode_of(key), 0600);
	expect_err(
	    pki_role_import(id, PKI_ROLE_TOMCAT, P("good.pem"), NULL, &e),
	    EACCES, &e, "imp/tomcat.key", "encrypted and no password", NULL);
	expect_err(
	    pki_role_import(id, PKI_ROLE_TOMCAT, P("good.pem"), "nope", &e),
	    EACCES, &e, "wrong password", NULL);
	assert_int_equal(
	    pki_role_import(id, PKI_ROLE_TOMCAT, P("good.pem"), "kpass", &e),
	    0);

	/* an unsupported key: RSA 1024 */
	EVP_PKEY *small = EVP_RSA_gen(1024);
	assert_int_equal(pki_key_write(key, small, NULL, &e), 0);
	x = mk_cert(small, cakey, cax, "cuc.lab", -1, 30, false);
	save_cert(P("small.pem"), x);
	X509_free(x);
	expect_err(
	    pki_role_import(id, PKI_ROLE_TOMCAT, P("small.pem"), NULL, &e),
	    EINVAL, &e, "unsupported key size: RSA 1024 bits", NULL);
	/* an unsupported curve */
	EVP_PKEY *k1 = EVP_EC_gen("secp256k1");
	assert_non_null(k1);
	assert_int_equal(
	    pki_key_write(P("imp/tomcat-ECDSA.key"), k1, NULL, &e), 0);
	x = mk_cert(k1, cakey, cax, "cuc.lab", -1, 30, false);
	save_cert(P("k1.pem"), x);
	X509_free(x);
	expect_err(
	    pki_role_import(id, PKI_ROLE_TOMCAT_ECDSA, P("k1.pem"), NULL, &e),
	    EINVAL, &e, "unsupported curve", "secp256k1", NULL);

	EVP_PKEY_free(k1);
	EVP_PKEY_free(small);
	X509_free(good);
	X509_free(cax);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(ikey);
	X509_free(orig);
}

/* ---------------------------------------------------------------------- */

static void
test_show(void **state)
{
	struct pki_ident_spec spec;
	struct pki_err e;
	char fp[128], line[256];

	(void)state;
	assert_int_equal(
	    pki_role_spec(&spec, PKI_ROLE_CALLMANAGER, "cucm.lab",
	        "DNS:cucm.lab,IP:10.0.0.1,IP:fd00::5", NULL, 0, &e),
	    0);
	assert_int_equal(
	    pki_ident_generate(&spec, P("show.pem"), P("show.key"), &e), 0);
	X509 *x = load(P("show.pem"));
	char *out = show_str(x);
	assert_has(out, "subject:       CN=cucm.lab\n");
	assert_has(
	    out, "SAN:           DNS:cucm.lab, IP:10.0.0.1, IP:fd00::5\n");
	assert_has(out, "issuer:        CN=cucm.lab (self-signed)\n");
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = BN_bn2hex(bn);
	snprintf(line, sizeof(line), "serial:        %s\n", hex);
	assert_has(out, line);
	OPENSSL_free(hex);
	BN_free(bn);
	assert_has(out, "key:           RSA 2048 bits\n");
	assert_has(out, "signature:     sha256WithRSAEncryption\n");
	assert_has(out, "not before:    20");
	assert_has(out, "not after:     20");
	assert_true(strstr(out, " UTC (1825 days left)\n") ||
	            strstr(out, " UTC (1824 days left)\n"));
	/* fingerprints as computed here */
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;
	assert_int_equal(X509_digest(x, EVP_sha256(), md, &n), 1);
	snprintf(line, sizeof(line), "SHA-256:       %02X:%02X:%02X:", md[0],
	    md[1], md[2]);
	assert_has(out, line);
	snprintf(line, sizeof(line), "SHA-256:       %s\n",
	    pki_fingerprint(x, EVP_sha256(), fp, sizeof(fp)));
	assert_has(out, line);
	assert_int_equal(strlen(fp), 32 * 3 - 1);
	assert_int_equal(X509_digest(x, EVP_sha1(), md, &n), 1);
	assert_int_equal(n, 20);
	snprintf(line, sizeof(line), "SHA-1:         %02X:%02X:", md[0], md[1]);
	assert_has(out, line);
	assert_has(out,
	    "key usage:     digitalSignature, keyEncipherment (critical)\n");
	assert_has(out, "ext key usage: serverAuth, clientAuth\n");
	assert_has(out, "CA:            no\n");
	assert_has(out, "TLS use:       server yes, client yes\n");
	free(out);

	/* an EC identity and an EC root CA */
	assert_int_equal(pki_role_spec(&spec, PKI_ROLE_TOMCAT_ECDSA, "cuc-EC",
	                     NULL, "ec:p384", 0, &e),
	    0);
	assert_int_equal(
	    pki_ident_generate(&spec, P("show2.pem"), P("show2.key"), &e), 0);
	X509 *y = load(P("show2.pem"));
	out = show_str(y);
	assert_has(out, "key:           EC P-384 (secp384r1)\n");
	assert_has(out, "signature:     ecdsa-with-SHA384\n");
	assert_has(out, "SAN:           (none)\n");
	assert_has(out, "key usage:     digitalSignature (critical)\n");
	free(out);
	struct pki_ca_spec ca = {.key = PKI_KEY_EC_P256, .intermediate = true};
	assert_int_equal(pki_ca_init(P("ca5"), &ca, &e), 0);
	X509 *root = load(P("ca5/ca.pem"));
	X509 *inter = load(P("ca5/intermediate.pem"));
	out = show_str(inter);
	assert_has(out, "CA:            yes, path length 0\n");
	assert_has(out, "key usage:     keyCertSign, cRLSign (critical)\n");
	assert_has(out, "issuer:        CN=ngvoice lab root CA\n");
	assert_has(out, "TLS use:       none");
	free(out);

	/* expired and not yet valid */
	EVP_PKEY *k = load_key(P("show2.key"), NULL);
	X509 *old = mk_cert(k, k, NULL, "old.lab", -40, -10, false);
	out = show_str(old);
	assert_true(strstr(out, "(expired 10 days ago)") ||
	            strstr(out, "(expired 9 days ago)"));
	free(out);
	X509 *fut = mk_cert(k, k, NULL, "new.lab", 5, 40, false);
	out = show_str(fut);
	assert_has(out, "(not yet valid: starts in ");
	free(out);

	/* why a chain does not verify, in words */
	X509_STORE *st;
	char why[512];
	STACK_OF(X509) *sk = sk_X509_new_null();
	/* self-signed, not trusted */
	assert_int_equal(pki_trust_load(&st, P("ca5/ca.pem"), &e), 0);
	assert_int_equal(pki_verify(x, NULL, st, why, sizeof(why)), EBADMSG);
	assert_string_equal(why, "self-signed \"CN=cucm.lab\" is not trusted "
	                         "(it is not in the trust store)");
	/* unknown issuer: the leaf without its intermediate */
	EVP_PKEY *ik = load_key(P("ca5/intermediate.key"), NULL);
	X509 *leaf = mk_cert(k, ik, inter, "leaf.lab", -1, 30, false);
	assert_int_equal(pki_verify(leaf, NULL, st, why, sizeof(why)), EBADMSG);
	assert_has(why, "unknown issuer \"CN=ngvoice lab intermediate CA\" of "
	                "\"CN=leaf.lab\"");
	sk_X509_push(sk, inter);
	assert_int_equal(pki_verify(leaf, sk, st, why, sizeof(why)), 0);
	X509_STORE_free(st);
	/* the whole chain given, but its root is not trusted */
	sk_X509_push(sk, root);
	assert_int_equal(pki_trust_load(&st, P("show.pem"), &e), 0);
	assert_int_equal(pki_verify(leaf, sk, st, why, sizeof(why)), EBADMSG);
	assert_has(why, "self-signed \"CN=ngvoice lab root CA\" in the chain "
	                "is not trusted");
	X509_STORE_free(st);
	/* expired and not yet valid, though trusted */
	save_cert(P("old.pem"), old);
	save_cert(P("fut.pem"), fut);
	assert_int_equal(pki_trust_load(&st, P("old.pem"), &e), 0);
	assert_int_equal(pki_verify(old, NULL, st, why, sizeof(why)), EBADMSG);
	assert_has(why, "\"CN=old.lab\" expired on ");
	assert_has(why, "days ago)");
	X509_STORE_free(st);
	assert_int_equal(pki_trust_load(&st, P("fut.pem"), &e), 0);
	assert_int_equal(pki_verify(fut, NULL, st, why, sizeof(why)), EBADMSG);
	assert_has(why, "\"CN=new.lab\" is not yet valid: it starts on ");
	X509_STORE_free(st);
	/* issued by a key other than the issuer's */
	X509 *forged = mk_cert(k, k, inter, "forged.lab", -1, 30, false);
	assert_int_equal(pki_trust_load(&st, P("ca5/ca.pem"), &e), 0);
	assert_int_equal(pki_verify(forged, sk, st, why, sizeof(why)), EBADMSG);
	assert_has(why, "signature on \"CN=forged.lab\" does not verify");
	X509_STORE_free(st);

	sk_X509_free(sk);
	X509_free(forged);
	X509_free(leaf);
	EVP_PKEY_free(ik);
	X509_free(old);
	X509_free(fut);
	EVP_PKEY_free(k);
	X509_free(root);
	X509_free(inter);
	X509_free(y);
	X509_free(x);
}

/* ---------------------------------------------------------------------- */

static void
test_trust_store(void **state)
{
	struct pki_ident_spec spec;
	struct pki_store_entry *ents;
	struct pki_err e;
	enum pki_store st;
	char sdir[512], name[128];
	size_t n;
	bool existed;

	(void)state;
	assert_int_equal(pki_store_parse(&st, "CallManager-trust", &e), 0);
	assert_int_equal(st, PKI_STORE_CALLMANAGER_TRUST);
	assert_int_equal(pki_store_parse(&st, "tomcat-trust", &e), 0);
	expect_err(pki_store_parse(&st, "phone-trust", &e), EINVAL, &e,
	    "unknown trust store 'phone-trust'", PKI_STORE_LIST, NULL);
	assert_int_equal(pki_store_path(sdir, sizeof(sdir), P("ts"),
	                     PKI_STORE_CALLMANAGER_TRUST),
	    0);
	assert_non_null(strstr(sdir, "/ts/callmanager-trust"));

	/* an empty or missing store */
	assert_int_equal(pki_store_list(sdir, &ents, &n, &e), 0);
	assert_int_equal(n, 0);
	expect_err(pki_store_bundle(sdir, P("b.pem"), NULL, &e), ENODATA, &e,
	    "empty", NULL);

	/* two certificates with one CN, as tomcat and tomcat-ECDSA may be */
	assert_int_equal(
	    pki_role_spec(&spec, PKI_ROLE_TOMCAT, "cuc.lab", NULL, NULL, 0, &e),
	    0);
	assert_int_equal(
	    pki_ident_generate(&spec, P("t1.pem"), P("t1.key"), &e), 0);
	assert_int_equal(pki_role_spec(&spec, PKI_ROLE_TOMCAT_ECDSA, "cuc.lab",
	                     NULL, NULL, 0, &e),
	    0);
	assert_int_equal(
	    pki_ident_generate(&spec, P("t2.pem"), P("t2.key"), &e), 0);
	X509 *t1 = load(P("t1.pem")), *t2 = load(P("t2.pem"));
	assert_int_equal(
	    pki_store_add(sdir, t1, NULL, name, sizeof(name), &existed, &e), 0);
	assert_string_equal(name, "cuc.lab");
	assert_false(existed);
	assert_int_equal(mode_of(P("ts/callmanager-trust/cuc.lab.pem")), 0644);
	assert_int_equal(
	    pki_store_add(sdir, t1, NULL, name, sizeof(name), &existed, &e), 0);
	assert_true(existed);
	assert_string_equal(name, "cuc.lab");
	assert_int_equal(
	    pki_store_add(sdir, t2, NULL, name, sizeof(name), &existed, &e), 0);
	assert_false(existed);
	char fp[128], want[64];
	pki_fingerprint(t2, EVP_sha256(), fp, sizeof(fp));
	snprintf(want, sizeof(want), "cuc.lab-%c%c%c%c%c%c%c%c", fp[0], fp[1],
	    fp[3], fp[4], fp[6], fp[7], fp[9], fp[10]);
	assert_string_equal(name, want);
	/* a CA root, by CN with spaces; and an explicit name */
	struct pki_ca_spec ca = {.key = PKI_KEY_EC_P256, .cn = "Lab CA/2"};
	assert_int_equal(pki_ca_init(P("ca6"), &ca, &e), 0);
	X509 *root = load(P("ca6/ca.pem"));
	assert_int_equal(
	    pki_store_add(sdir, root, NULL, name, sizeof(name), NULL, &e), 0);
	assert_string_equal(name, "Lab_CA_2");
	assert_int_equal(pki_role_spec(&spec, PKI_ROLE_CALLMANAGER, "cucm.lab",
	                     NULL, NULL, 0, &e),
	    0);
	assert_int_equal(
	    pki_ident_generate(&spec, P("t3.pem"), P("t3.key"), &e), 0);
	X509 *t3 = load(P("t3.pem"));
	assert_int_equal(pki_store_add(sdir, t3, "CallManager", name,
	                     sizeof(name), NULL, &e),
	    0);
	assert_string_equal(name, "CallManager");
	/* the same root under another name: it is already there */
	bool ex2 = false;
	assert_int_equal(pki_store_add(sdir, root, "CallManager", name,
	                     sizeof(name), &ex2, &e),
	    0);
	assert_true(ex2);
	assert_string_equal(name, "Lab_CA_2");
	/* names are plain file names */
	expect_err(
	    pki_store_add(sdir, t2, "../evil", name, sizeof(name), NULL, &e),
	    EINVAL, &e, "name '../evil'", NULL);
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *t4 = mk_cert(k, k, NULL, "t4", -1, 10, false);
	expect_err(pki_store_add(
	               sdir, t4, "CallManager", name, sizeof(name), NULL, &e),
	    EEXIST, &e, "taken by another certificate", NULL);

	/* list: sorted by name */
	assert_int_equal(pki_store_list(sdir, &ents, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_string_equal(ents[0].name, "CallManager");
	assert_string_equal(ents[1].name, "Lab_CA_2");
	assert_string_equal(ents[2].name, "cuc.lab");
	assert_string_equal(ents[3].name, want);
	assert_int_equal(X509_cmp(ents[2].cert, t1), 0);
	pki_store_entries_free(ents, n);

	/* bundle: a CAfile OpenSSL takes, with all four */
	size_t nb = 0;
	assert_int_equal(pki_store_bundle(sdir, P("bundle.pem"), &nb, &e), 0);
	assert_int_equal(nb, 4);
	assert_int_equal(count_certs(P("bundle.pem")), 4);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	assert_int_equal(
	    SSL_CTX_load_verify_locations(ctx, P("bundle.pem"), NULL), 1);
	SSL_CTX_free(ctx);
	/* the store as a trust source, directory or bundle */
	X509_STORE *xs;
	char why[256];
	assert_int_equal(pki_trust_load(&xs, sdir, &e), 0);
	assert_int_equal(pki_verify(t2, NULL, xs, why, sizeof(why)), 0);
	assert_int_equal(pki_verify(t4, NULL, xs, why, sizeof(why)), EBADMSG);
	X509_STORE_free(xs);
	assert_int_equal(pki_trust_load(&xs, P("bundle.pem"), &e), 0);
	assert_int_equal(pki_verify(t3, NULL, xs, why, sizeof(why)), 0);
	X509_STORE_free(xs);
	assert_int_equal(mkdir(P("emptydir"), 0755), 0);
	expect_err(pki_trust_load(&xs, P("emptydir"), &e), ENODATA, &e,
	    "no certificate to trust", NULL);
	expect_err(pki_trust_load(&xs, P("nowhere"), &e), ENOENT, &e,
	    "nowhere: cannot read", NULL);

	/* remove, with or without .pem; unknown names; no escaping */
	assert_int_equal(pki_store_remove(sdir, "CallManager.pem", &e), 0);
	assert_int_equal(pki_store_remove(sdir, want, &e), 0);
	expect_err(pki_store_remove(sdir, "CallManager", &e), ENOENT, &e,
	    "no certificate named CallManager", NULL);
	expect_err(pki_store_remove(sdir, "../../etc/passwd", &e), EINVAL, &e,
	    "not a trust store entry", NULL);
	expect_err(pki_store_remove(sdir, ".pem", &e), EINVAL, &e, NULL);
	assert_int_equal(pki_store_list(sdir, &ents, &n, &e), 0);
	assert_int_equal(n, 2);
	pki_store_entries_free(ents, n);
	/* a file in the store that is no certificate is named */
	write_str(P("ts/callmanager-trust/broken.pem"), "not a cert\n");
	expect_err(pki_store_list(sdir, &ents, &n, &e), EBADMSG, &e,
	    "broken.pem: not a PEM certificate", NULL);

	EVP_PKEY_free(k);
	X509_free(t4);
	X509_free(t3);
	X509_free(root);
	X509_free(t1);
	X509_free(t2);
}

/* ---------------------------------------------------------------------- */

static void
test_file_errors(void **state)
{
	struct pki_err e;
	STACK_OF(X509) * sk;
	X509 *x;
	EVP_PKEY *pk;
	char pw[16];

	(void)state;
	expect_err(pki_cert_load(&x, P("none.pem"), &e), ENOENT, &e,
	    "none.pem: cannot read: No such file or directory", NULL);
	assert_int_equal(mkdir(P("adir"), 0755), 0);
	expect_err(pki_cert_load(&x, P("adir"), &e), EISDIR, &e,
	    "adir: cannot read", NULL);
	write_str(P("empty.pem"), "");
	expect_err(pki_cert_load(&x, P("empty.pem"), &e), EBADMSG, &e,
	    "empty.pem: not a PEM certificate", NULL);
	write_str(P("bad.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n"
	                        "-----END CERTIFICATE-----\n");
	expect_err(pki_cert_load(&x, P("bad.pem"), &e), EBADMSG, &e,
	    "bad.pem: not a PEM certificate", NULL);
	if (geteuid() != 0) {
		write_str(P("noperm.pem"), "x");
		chmod(P("noperm.pem"), 0);
		expect_err(pki_cert_load(&x, P("noperm.pem"), &e), EACCES, &e,
		    "noperm.pem: cannot read: Permission denied", NULL);
	}

	/* a good certificate, then a damaged one */
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *good = mk_cert(k, k, NULL, "good", -1, 10, false);
	save_cert(P("good1.pem"), good);
	FILE *f = fopen(P("good1.pem"), "a");
	fputs("-----BEGIN CERTIFICATE-----\nMIIB!!!!\n"
	      "-----END CERTIFICATE-----\n",
	    f);
	fclose(f);
	expect_err(pki_certs_load(&sk, P("good1.pem"), &e), EBADMSG, &e,
	    "certificate 2 does not parse", NULL);
	/* DER is taken too */
	unsigned char *der = NULL;
	int dl = i2d_X509(good, &der);
	assert_true(dl > 0);
	write_file(P("good.der"), der, (size_t)dl);
	OPENSSL_free(der);
	assert_int_equal(pki_cert_load(&x, P("good.der"), &e), 0);
	assert_int_equal(X509_cmp(x, good), 0);
	X509_free(x);
	/* other PEM blocks around a certificate are skipped */
	assert_int_equal(pki_key_write(P("kc.pem"), k, NULL, &e), 0);
	f = fopen(P("kc.pem"), "a");
	PEM_write_X509(f, good);
	fclose(f);
	assert_int_equal(pki_cert_load(&x, P("kc.pem"), &e), 0);
	X509_free(x);
	/* keys */
	expect_err(pki_key_load(&pk, P("good1.pem"), NULL, &e), EBADMSG, &e,
	    "good1.pem: not a PEM private key (it holds a certificate)", NULL);
	expect_err(pki_key_load(&pk, P("none.key"), NULL, &e), ENOENT, &e,
	    "none.key: cannot read", NULL);
	assert_int_equal(pki_key_write(P("enc.key"), k, "pw-123", &e), 0);
	f = fopen(P("enc.key"), "r");
	char first[64] = "";
	assert_non_null(fgets(first, sizeof(first), f));
	fclose(f);
	assert_string_equal(first, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
	expect_err(pki_key_load(&pk, P("enc.key"), NULL, &e), EACCES, &e,
	    "enc.key: the key is encrypted and no password was given", NULL);
	expect_err(pki_key_load(&pk, P("enc.key"), "pw-124", &e), EACCES, &e,
	    "enc.key: cannot decrypt the key: wrong password?", NULL);
	assert_int_equal(pki_key_load(&pk, P("enc.key"), "pw-123", &e), 0);
	assert_int_equal(EVP_PKEY_eq(pk, k), 1);
	EVP_PKEY_free(pk);
	/* a key encrypted by the openssl tool's traditional format, too */
	f = fopen(P("trad.key"), "w");
	assert_int_equal(PEM_write_PrivateKey(f, k, EVP_aes_128_cbc(),
	                     (const unsigned char *)"abcd", 4, NULL, NULL),
	    1);
	fclose(f);
	expect_err(pki_key_load(&pk, P("trad.key"), NULL, &e), EACCES, &e,
	    "encrypted", NULL);
	assert_int_equal(pki_key_load(&pk, P("trad.key"), "abcd", &e), 0);
	EVP_PKEY_free(pk);
	/* requests */
	X509_REQ *r;
	expect_err(pki_csr_load(&r, P("good1.pem"), &e), EBADMSG, &e,
	    "not a PEM certificate request (it holds a certificate)", NULL);
	/* password files */
	write_str(P("pw1"), "abc\r\nsecond line\n");
	assert_int_equal(pki_password_read(P("pw1"), pw, sizeof(pw), &e), 0);
	assert_string_equal(pw, "abc");
	write_str(P("pw2"), "\n");
	expect_err(pki_password_read(P("pw2"), pw, sizeof(pw), &e), EINVAL, &e,
	    "pw2: the password file is empty", NULL);
	write_str(P("pw3"), "0123456789abcdefghij\n");
	expect_err(pki_password_read(P("pw3"), pw, sizeof(pw), &e), EINVAL, &e,
	    "too long", NULL);
	expect_err(pki_password_read(P("pw4"), pw, sizeof(pw), &e), ENOENT, &e,
	    "pw4: cannot read", NULL);
	OPENSSL_cleanse(pw, sizeof(pw));
	/* writes name the file */
	expect_err(pki_key_write(P("no/such/dir.key"), k, NULL, &e), EIO, &e,
	    "no/such/dir.key: cannot write", NULL);
	X509_free(good);
	EVP_PKEY_free(k);
}

/* pki_selfsigned keeps its contract: files, key 0600, a TLS identity. */
static void
test_selfsigned_compat(void **state)
{
	(void)state;
	assert_int_equal(
	    pki_selfsigned(PKI_KEY_EC_P256, "ua.lab", "DNS:ua.lab,IP:127.0.0.1",
	        1, P("ss.pem"), P("ss.key")),
	    0);
	assert_int_equal(mode_of(P("ss.key")), 0600);
	X509 *x = load(P("ss.pem"));
	assert_int_equal(
	    X509_get_extended_key_usage(x), XKU_SSL_SERVER | XKU_SSL_CLIENT);
	assert_int_equal(X509_check_ca(x), 0);
	X509_free(x);
	assert_int_equal(
	    pki_selfsigned(PKI_KEY_RSA2048, NULL, NULL, 1, "a", "b"), EINVAL);
	assert_int_equal(
	    pki_selfsigned(PKI_KEY_RSA2048, "x", NULL, 0, "a", "b"), EINVAL);
	/* the failure is logged: keep it out of the test output */
	int devnull = open("/dev/null", O_WRONLY);
	log_set_fd(devnull);
	assert_int_equal(pki_selfsigned(PKI_KEY_EC_P256, "x", "IP:not-an-ip", 1,
	                     P("ss2.pem"), P("ss2.key")),
	    EPROTO);
	log_set_fd(2);
	close(devnull);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keytypes),
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_san),
	    cmocka_unit_test(test_generate_roles),
	    cmocka_unit_test(test_selfsigned_trust_anchor),
	    cmocka_unit_test(test_csr_ca_sign_intermediate),
	    cmocka_unit_test(test_ca_root_only),
	    cmocka_unit_test(test_ca_errors),
	    cmocka_unit_test(test_import),
	    cmocka_unit_test(test_show),
	    cmocka_unit_test(test_trust_store),
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_selfsigned_compat),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
