/* Identity generation with OpenSSL: key types, the certificate builder, self-signed identities. */
#include "pki/cert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/log.h"
#include "pki/file.h"
#include "pki/pki_int.h"

#define PKI_MAX_DAYS 36500
#define PKI_CN_MAX   64 /* ub-common-name, RFC 5280 appendix A */

static void
err_vset(struct pki_err *e, bool ossl, const char *fmt, va_list ap)
{
	size_t n;
	unsigned long code;

	if (e == NULL) {
		ERR_clear_error();
		return;
	}
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (!ossl) {
		ERR_clear_error();
		return;
	}
	/* The whole queue, oldest first, as one line (STYLE.md, errors). */
	n = strlen(e->msg);
	const char *sep = ": ";
	while ((code = ERR_get_error()) != 0) {
		char one[256];
		ERR_error_string_n(code, one, sizeof(one));
		if (n < sizeof(e->msg)) {
			int r = snprintf(
			    e->msg + n, sizeof(e->msg) - n, "%s%s", sep, one);
			if (r > 0)
				n += (size_t)r;
		}
		sep = "; ";
	}
	if (n >= sizeof(e->msg))
		e->msg[sizeof(e->msg) - 1] = '\0';
}

void
pki_err_set(struct pki_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, false, fmt, ap);
	va_end(ap);
}

void
pki_err_ossl(struct pki_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, true, fmt, ap);
	va_end(ap);
}

static const struct {
	const char *name;
	const char *curve; /* NULL for RSA */
	int bits;
} keytypes[PKI_KEY__COUNT] = {
    [PKI_KEY_EC_P256] = {"ec:p256", "P-256", 256},
    [PKI_KEY_EC_P384] = {"ec:p384", "P-384", 384},
    [PKI_KEY_RSA2048] = {"rsa:2048", NULL, 2048},
    [PKI_KEY_EC_P521] = {"ec:p521", "P-521", 521},
    [PKI_KEY_RSA3072] = {"rsa:3072", NULL, 3072},
    [PKI_KEY_RSA4096] = {"rsa:4096", NULL, 4096},
};

#define KEYTYPE_LIST "rsa:2048, rsa:3072, rsa:4096, ec:p256, ec:p384, ec:p521"

/* Other spellings of the curves, as OpenSSL and the guide write them. */
static const struct {
	const char *alias;
	enum pki_keytype t;
} keyaliases[] = {
    {"ec:p-256", PKI_KEY_EC_P256},
    {"ec:prime256v1", PKI_KEY_EC_P256},
    {"ec:secp256r1", PKI_KEY_EC_P256},
    {"ec:256", PKI_KEY_EC_P256},
    {"ec:p-384", PKI_KEY_EC_P384},
    {"ec:secp384r1", PKI_KEY_EC_P384},
    {"ec:384", PKI_KEY_EC_P384},
    {"ec:p-521", PKI_KEY_EC_P521},
    {"ec:secp521r1", PKI_KEY_EC_P521},
    {"ec:521", PKI_KEY_EC_P521},
};

int
pki_keytype_parse(enum pki_keytype *tp, const char *s, struct pki_err *e)
{
	if (tp == NULL || s == NULL) {
		pki_err_set(e, "no key type given");
		return EINVAL;
	}
	for (int i = 0; i < PKI_KEY__COUNT; i++) {
		if (strcasecmp(s, keytypes[i].name) == 0) {
			*tp = (enum pki_keytype)i;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(keyaliases) / sizeof(keyaliases[0]);
	     i++) {
		if (strcasecmp(s, keyaliases[i].alias) == 0) {
			*tp = keyaliases[i].t;
			return 0;
		}
	}
	pki_err_set(e, "unsupported key '%s': use one of " KEYTYPE_LIST, s);
	return EINVAL;
}

const char *
pki_keytype_name(enum pki_keytype t)
{
	return (unsigned)t < PKI_KEY__COUNT ? keytypes[t].name : "?";
}

bool
pki_keytype_is_rsa(enum pki_keytype t)
{
	return (unsigned)t < PKI_KEY__COUNT && keytypes[t].curve == NULL;
}

EVP_PKEY *
pki_key_new(enum pki_keytype t, struct pki_err *e)
{
	EVP_PKEY *pk;

	if ((unsigned)t >= PKI_KEY__COUNT) {
		pki_err_set(e, "unsupported key type %d", (int)t);
		return NULL;
	}
	pk = keytypes[t].curve ? EVP_EC_gen(keytypes[t].curve)
	                       : EVP_RSA_gen((unsigned)keytypes[t].bits);
	if (pk == NULL)
		pki_err_ossl(e, "generating a %s key", keytypes[t].name);
	return pk;
}

/* "P-256" for the group names OpenSSL reports, NULL when not ours. */
static const char *
curve_nist(const char *group)
{
	if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
		return "P-256";
	if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
		return "P-384";
	if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
		return "P-521";
	return NULL;
}

const char *
pki_key_describe(EVP_PKEY *pk, char *buf, size_t sz)
{
	char group[64];
	const char *nist;

	if (pk == NULL)
		snprintf(buf, sz, "no key");
	else if (EVP_PKEY_is_a(pk, "RSA"))
		snprintf(buf, sz, "RSA %d bits", EVP_PKEY_get_bits(pk));
	else if (EVP_PKEY_is_a(pk, "RSA-PSS"))
		snprintf(buf, sz, "RSA-PSS %d bits", EVP_PKEY_get_bits(pk));
	else if (EVP_PKEY_is_a(pk, "EC")) {
		if (EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) !=
		    1)
			snprintf(group, sizeof(group), "unnamed curve");
		nist = curve_nist(group);
		if (nist)
			snprintf(buf, sz, "EC %s (%s)", nist, group);
		else
			snprintf(buf, sz, "EC %s", group);
	} else
		snprintf(buf, sz, "%s", EVP_PKEY_get0_type_name(pk));
	ERR_clear_error();
	return buf;
}

int
pki_key_check(EVP_PKEY *pk, const char *what, bool *is_rsa, struct pki_err *e)
{
	char desc[96], group[64];

	if (pk == NULL) {
		pki_err_set(e, "%s: no public key", what);
		return EINVAL;
	}
	pki_key_describe(pk, desc, sizeof(desc));
	if (EVP_PKEY_is_a(pk, "RSA")) {
		int bits = EVP_PKEY_get_bits(pk);
		if (bits < 2048 || bits > 4096) {
			pki_err_set(e,
			    "%s: unsupported key size: %s (RSA keys of 2048 to "
			    "4096 bits are supported)",
			    what, desc);
			return EINVAL;
		}
		if (is_rsa)
			*is_rsa = true;
		return 0;
	}
	if (EVP_PKEY_is_a(pk, "EC")) {
		if (EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) !=
		        1 ||
		    curve_nist(group) == NULL) {
			ERR_clear_error();
			pki_err_set(e,
			    "%s: unsupported curve: %s (EC keys on P-256, "
			    "P-384 or P-521 are supported)",
			    what, desc);
			return EINVAL;
		}
		if (is_rsa)
			*is_rsa = false;
		return 0;
	}
	pki_err_set(e,
	    "%s: unsupported key type %s (RSA or EC keys are supported)", what,
	    desc);
	return EINVAL;
}

static bool
dns_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		        c == '_'))
			return false;
	}
	return true;
}

int
pki_san_append(char *buf, size_t sz, const char *names, struct pki_err *e)
{
	const char *p = names;

	if (buf == NULL || names == NULL) {
		pki_err_set(e, "no subject alternative name given");
		return EINVAL;
	}
	while (*p) {
		/* Zeroed for the analyzer, which lets "DNS:" match "". */
		char one[300] = "", addr[sizeof(struct in6_addr)];
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *kind = NULL;

		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n >= sizeof(one)) {
			pki_err_set(e,
			    "subject alternative name too long: %.40s...", p);
			return EINVAL;
		}
		memcpy(one, p, n);
		one[n] = '\0';
		char *v = one;
		if (strncasecmp(v, "DNS:", 4) == 0) {
			kind = "DNS";
			v += 4;
		} else if (strncasecmp(v, "IP:", 3) == 0) {
			kind = "IP";
			v += 3;
		}
		if (*v == '\0') {
			pki_err_set(
			    e, "empty subject alternative name in '%s'", names);
			return EINVAL;
		}
		if (strchr(v, '*')) {
			pki_err_set(e,
			    "subject alternative name %s: wildcard names are not "
			    "supported (the call manager accepts no wildcard "
			    "certificates)",
			    v);
			return EINVAL;
		}
		bool ip = inet_pton(AF_INET, v, addr) == 1 ||
		          inet_pton(AF_INET6, v, addr) == 1;
		if (kind == NULL)
			kind = ip ? "IP" : "DNS";
		if ((strcmp(kind, "IP") == 0 && !ip) ||
		    (strcmp(kind, "DNS") == 0 && !dns_name_ok(v, strlen(v)))) {
			pki_err_set(e,
			    "subject alternative name '%s': not a %s", one,
			    strcmp(kind, "IP") == 0
			        ? "valid IPv4 or IPv6 address"
			        : "valid host name");
			return EINVAL;
		}
		size_t len = strlen(buf);
		int r = snprintf(
		    buf + len, sz - len, "%s%s:%s", len ? "," : "", kind, v);
		if (r < 0 || (size_t)r >= sz - len) {
			buf[len] = '\0';
			pki_err_set(e, "too many subject alternative names");
			return ENOMEM;
		}
		p += (end ? (size_t)(end - p) + 1 : strlen(p));
	}
	return 0;
}

const EVP_MD *
pki_sign_md(EVP_PKEY *signkey)
{
	/* A hash at least as strong as the key (notes 6.1: 384 -> SHA384). */
	if (EVP_PKEY_is_a(signkey, "EC")) {
		int bits = EVP_PKEY_get_bits(signkey);
		if (bits > 384)
			return EVP_sha512();
		if (bits > 256)
			return EVP_sha384();
	}
	return EVP_sha256();
}

int
pki_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static int
set_serial(X509 *x)
{
	unsigned char rnd[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	/* Positive and a full 16 bytes long (RFC 5280 4.1.2.2). */
	rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x40);
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	if (bn == NULL)
		return -1;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

/* Returns NULL, or what could not be added. */
static const char *
add_exts(X509 *x, X509 *issuer, const struct pki_build *b)
{
	const char *bc, *ku, *eku = NULL;
	bool rsa = EVP_PKEY_is_a(b->pubkey, "RSA");

	switch (b->ext) {
	case PKI_EXT_TLS:
		bc = "critical,CA:FALSE";
		ku = rsa ? "critical,digitalSignature,keyEncipherment"
		         : "critical,digitalSignature";
		eku = "serverAuth,clientAuth";
		break;
	case PKI_EXT_SIGNER:
		bc = "critical,CA:FALSE";
		ku = "critical,digitalSignature";
		break;
	case PKI_EXT_ROOT:
		bc = "critical,CA:TRUE";
		ku = "critical,keyCertSign,cRLSign";
		break;
	case PKI_EXT_INTERMEDIATE:
		bc = "critical,CA:TRUE,pathlen:0";
		ku = "critical,keyCertSign,cRLSign";
		break;
	default:
		return "the extensions (unknown profile)";
	}
	if (pki_add_ext(x, issuer, NID_basic_constraints, bc) ||
	    pki_add_ext(x, issuer, NID_key_usage, ku) ||
	    (eku && pki_add_ext(x, issuer, NID_ext_key_usage, eku)) ||
	    pki_add_ext(x, issuer, NID_subject_key_identifier, "hash"))
		return "the key usage extensions";
	/* Issued certificates name their issuer's key (RFC 5280 4.2.1.1). */
	if (issuer != x && pki_add_ext(x, issuer, NID_authority_key_identifier,
	                       "keyid,issuer"))
		return "the authority key identifier";
	if (b->san && *b->san &&
	    pki_add_ext(x, issuer, NID_subject_alt_name, b->san))
		return "the subject alternative names";
	if (b->sans && sk_GENERAL_NAME_num(b->sans) > 0 &&
	    X509_add1_ext_i2d(x, NID_subject_alt_name, (void *)b->sans, 0,
	        X509V3_ADD_REPLACE) != 1)
		return "the subject alternative names of the request";
	return NULL;
}

int
pki_build_cert(X509 **xp, const struct pki_build *b, struct pki_err *e)
{
	X509 *x = NULL, *issuer;
	const char *what = "making the certificate";
	int err = EPROTO;

	if (xp == NULL || b == NULL || b->subject == NULL ||
	    b->pubkey == NULL || b->signkey == NULL) {
		pki_err_set(e, "invalid certificate parameters");
		return EINVAL;
	}
	if (b->days <= 0 || b->days > PKI_MAX_DAYS) {
		pki_err_set(
		    e, "validity %d days: give 1 to %d", b->days, PKI_MAX_DAYS);
		return EINVAL;
	}
	if ((x = X509_new()) == NULL || X509_set_version(x, 2) != 1 ||
	    set_serial(x) != 0)
		goto out;
	/* Five minutes back absorb clock skew between the two servers. */
	if (X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), b->days, 0, NULL) == NULL)
		goto out;
	if (b->issuer && b->clamp_to_issuer &&
	    ASN1_TIME_compare(
	        X509_get0_notAfter(x), X509_get0_notAfter(b->issuer)) > 0 &&
	    X509_set1_notAfter(x, X509_get0_notAfter(b->issuer)) != 1)
		goto out;
	issuer = b->issuer ? b->issuer : x;
	if (X509_set_subject_name(x, b->subject) != 1 ||
	    X509_set_issuer_name(x, b->issuer ? X509_get_subject_name(b->issuer)
	                                      : b->subject) != 1 ||
	    X509_set_pubkey(x, b->pubkey) != 1)
		goto out;
	if ((what = add_exts(x, issuer, b)) != NULL)
		goto out;
	what = "signing the certificate";
	if (X509_sign(x, b->signkey, pki_sign_md(b->signkey)) <= 0)
		goto out;
	*xp = x;
	x = NULL;
	err = 0;
out:
	if (err)
		pki_err_ossl(e, "%s", what);
	X509_free(x);
	return err;
}

const char *
pki_name_fmt(const X509_NAME *n, char *buf, size_t sz)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long len;

	if (sz == 0)
		return buf;
	buf[0] = '\0';
	if (b == NULL)
		return buf;
	/* RFC 2253, but UTF-8 as it is rather than escaped. */
	if (X509_NAME_print_ex(
	        b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		len = BIO_get_mem_data(b, &p);
		if (len > 0)
			snprintf(buf, sz, "%.*s", (int)len, p);
	}
	BIO_free(b);
	if (buf[0] == '\0')
		snprintf(buf, sz, "(empty name)");
	return buf;
}

bool
pki_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
pki_cn_name(X509_NAME **np, const char *cn, struct pki_err *e)
{
	X509_NAME *n;

	if (cn == NULL || *cn == '\0') {
		pki_err_set(e, "a common name (CN) is needed");
		return EINVAL;
	}
	if (strlen(cn) > PKI_CN_MAX) {
		pki_err_set(
		    e, "CN '%s' is longer than %d characters", cn, PKI_CN_MAX);
		return EINVAL;
	}
	if ((n = X509_NAME_new()) == NULL ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	        (const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(n);
		pki_err_ossl(e, "CN '%s'", cn);
		return EINVAL;
	}
	*np = n;
	return 0;
}

int
pki_ident_generate(const struct pki_ident_spec *spec, const char *certpath,
    const char *keypath, struct pki_err *e)
{
	struct pki_build b;
	X509_NAME *name = NULL;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	int err;

	if (spec == NULL || certpath == NULL || keypath == NULL ||
	    (unsigned)spec->key >= PKI_KEY__COUNT ||
	    (spec->profile != PKI_PROFILE_TLS &&
	        spec->profile != PKI_PROFILE_SIGNER)) {
		pki_err_set(e, "invalid identity parameters");
		return EINVAL;
	}
	if (spec->days <= 0 || spec->days > PKI_MAX_DAYS) {
		pki_err_set(e, "validity %d days: give 1 to %d", spec->days,
		    PKI_MAX_DAYS);
		return EINVAL;
	}
	if ((err = pki_cn_name(&name, spec->cn, e)) != 0)
		return err;
	err = EPROTO;
	if ((pk = pki_key_new(spec->key, e)) == NULL)
		goto out;
	memset(&b, 0, sizeof(b));
	b.subject = name;
	b.pubkey = pk;
	b.signkey = pk;
	b.days = spec->days;
	b.ext = spec->profile == PKI_PROFILE_TLS ? PKI_EXT_TLS : PKI_EXT_SIGNER;
	b.san = spec->san;
	if ((err = pki_build_cert(&x, &b, e)) != 0)
		goto out;
	if ((err = pki_key_write(keypath, pk, NULL, e)) != 0 ||
	    (err = pki_certs_write(certpath, &x, 1, e)) != 0)
		goto out;
out:
	X509_free(x);
	EVP_PKEY_free(pk);
	X509_NAME_free(name);
	return err;
}

int
pki_selfsigned(enum pki_keytype type, const char *cn, const char *san, int days,
    const char *certpath, const char *keypath)
{
	struct pki_ident_spec spec = {
	    .key = type,
	    .profile = PKI_PROFILE_TLS,
	    .cn = cn,
	    .san = san,
	    .days = days,
	};
	struct pki_err e;
	int err;

	if (cn == NULL || certpath == NULL || keypath == NULL || days <= 0)
		return EINVAL;
	if ((err = pki_ident_generate(&spec, certpath, keypath, &e)) != 0)
		log_err("making a self-signed certificate: %s", e.msg);
	return err;
}
