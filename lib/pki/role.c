/* The guide's identity certificates: names, files, key and validity defaults, and import of a CA-signed certificate. */
#include "pki/role.h"

#include <errno.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pki/file.h"
#include "pki/pki_int.h"
#include "pki/show.h"

#define YEAR_DAYS 365

static const struct {
	const char *name; /* command line */
	const char *file; /* the guide's name */
	bool ec;
	int days;
} roles[PKI_ROLE__COUNT] = {
    [PKI_ROLE_CALLMANAGER] = {"callmanager", "CallManager", false,
        5 * YEAR_DAYS},
    [PKI_ROLE_CALLMANAGER_ECDSA] = {"callmanager-ecdsa", "CallManager-ECDSA",
        true, 5 * YEAR_DAYS},
    [PKI_ROLE_TOMCAT] = {"tomcat", "tomcat", false, 5 * YEAR_DAYS},
    [PKI_ROLE_TOMCAT_ECDSA] = {"tomcat-ecdsa", "tomcat-ECDSA", true,
        5 * YEAR_DAYS},
    /* 20 years on fresh installs (notes 6.1): it signs the ITL. */
    [PKI_ROLE_ITLRECOVERY] = {"itlrecovery", "ITLRecovery", false,
        20 * YEAR_DAYS},
};

int
pki_role_parse(enum pki_role *rp, const char *s, struct pki_err *e)
{
	if (rp == NULL || s == NULL || *s == '\0') {
		pki_err_set(e, "no role given: use one of " PKI_ROLE_LIST);
		return EINVAL;
	}
	for (int i = 0; i < PKI_ROLE__COUNT; i++) {
		if (strcasecmp(s, roles[i].name) == 0 ||
		    strcasecmp(s, roles[i].file) == 0) {
			*rp = (enum pki_role)i;
			return 0;
		}
	}
	pki_err_set(e, "unknown role '%s': use one of " PKI_ROLE_LIST, s);
	return EINVAL;
}

const char *
pki_role_name(enum pki_role r)
{
	return (unsigned)r < PKI_ROLE__COUNT ? roles[r].name : "?";
}

const char *
pki_role_file(enum pki_role r)
{
	return (unsigned)r < PKI_ROLE__COUNT ? roles[r].file : "?";
}

bool
pki_role_is_ec(enum pki_role r)
{
	return (unsigned)r < PKI_ROLE__COUNT && roles[r].ec;
}

enum pki_keytype
pki_role_default_key(enum pki_role r)
{
	return pki_role_is_ec(r) ? PKI_KEY_EC_P256 : PKI_KEY_RSA2048;
}

int
pki_role_default_days(enum pki_role r)
{
	return (unsigned)r < PKI_ROLE__COUNT ? roles[r].days : 5 * YEAR_DAYS;
}

int
pki_role_path(
    char *buf, size_t sz, const char *dir, enum pki_role r, const char *ext)
{
	if (buf == NULL || dir == NULL || ext == NULL ||
	    (unsigned)r >= PKI_ROLE__COUNT)
		return EINVAL;
	if ((size_t)snprintf(buf, sz, "%s/%s.%s", dir, roles[r].file, ext) >=
	    sz)
		return EINVAL;
	return 0;
}

int
pki_role_spec(struct pki_ident_spec *spec, enum pki_role r, const char *cn,
    const char *san, const char *keyname, int days, struct pki_err *e)
{
	enum pki_keytype kt;
	int err;

	if (spec == NULL || (unsigned)r >= PKI_ROLE__COUNT) {
		pki_err_set(e, "unknown role: use one of " PKI_ROLE_LIST);
		return EINVAL;
	}
	if (cn == NULL || *cn == '\0') {
		pki_err_set(
		    e, "%s: a common name (--cn) is needed", roles[r].file);
		return EINVAL;
	}
	if (strlen(cn) > 64) {
		pki_err_set(e, "CN '%s' is longer than 64 characters", cn);
		return EINVAL;
	}
	if (strchr(cn, '*')) {
		pki_err_set(e,
		    "CN %s: wildcard names are not supported (the call "
		    "manager accepts no wildcard certificates)",
		    cn);
		return EINVAL;
	}
	if (san && strchr(san, '*')) {
		pki_err_set(e,
		    "subject alternative names %s: wildcard names "
		    "are not supported",
		    san);
		return EINVAL;
	}
	kt = pki_role_default_key(r);
	if (keyname && (err = pki_keytype_parse(&kt, keyname, e)) != 0)
		return err;
	if (pki_keytype_is_rsa(kt) == roles[r].ec) {
		pki_err_set(e, "role %s takes an %s key (%s), not %s",
		    roles[r].file, roles[r].ec ? "EC" : "RSA",
		    roles[r].ec ? "ec:p256, ec:p384, ec:p521"
		                : "rsa:2048, rsa:3072, rsa:4096",
		    pki_keytype_name(kt));
		return EINVAL;
	}
	if (days == 0)
		days = roles[r].days;
	if (days < 0 || days > 36500) {
		pki_err_set(e, "validity %d days: give 1 to 36500", days);
		return EINVAL;
	}
	memset(spec, 0, sizeof(*spec));
	spec->key = kt;
	spec->profile =
	    r == PKI_ROLE_ITLRECOVERY ? PKI_PROFILE_SIGNER : PKI_PROFILE_TLS;
	spec->cn = cn;
	spec->san = san;
	spec->days = days;
	return 0;
}

/* True when x is a CA certificate (basicConstraints CA:TRUE). */
static bool
is_ca(X509 *x)
{
	return (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
}

int
pki_role_import(const char *dir, enum pki_role r, const char *certpath,
    const char *pass, struct pki_err *e)
{
	STACK_OF(X509) *chain = NULL;
	X509 *out[16];
	size_t nout = 0;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	char keypath[4096], pempath[4096], subj[256], when[64];
	bool rsa;
	int err;

	if (dir == NULL || certpath == NULL ||
	    pki_role_path(keypath, sizeof(keypath), dir, r, "key") ||
	    pki_role_path(pempath, sizeof(pempath), dir, r, "pem")) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	if ((err = pki_certs_load(&chain, certpath, e)) != 0)
		return err;
	if ((err = pki_key_load(&key, keypath, pass, e)) != 0)
		goto out;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		if (EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1) {
			leaf = x;
			break;
		}
	}
	err = EINVAL;
	X509 *first = sk_X509_value(chain, 0);
	if (leaf == NULL && is_ca(first)) {
		pki_err_set(e,
		    "%s: %s is a CA certificate, not an identity: add it to "
		    "a trust store instead",
		    certpath, pki_subject_fmt(first, subj, sizeof(subj)));
		goto out;
	}
	if (leaf == NULL) {
		pki_err_set(e,
		    "%s: the certificate %s does not match the key %s (it was "
		    "not made from this key's request)",
		    certpath, pki_subject_fmt(first, subj, sizeof(subj)),
		    keypath);
		goto out;
	}
	pki_subject_fmt(leaf, subj, sizeof(subj));
	if (is_ca(leaf)) {
		pki_err_set(e,
		    "%s: %s is a CA certificate (basicConstraints CA:TRUE); "
		    "an identity must not be one",
		    certpath, subj);
		goto out;
	}
	if ((err = pki_key_check(X509_get0_pubkey(leaf), certpath, &rsa, e)))
		goto out;
	err = EINVAL;
	if (rsa == roles[r].ec) {
		pki_err_set(e, "%s: %s has an %s key; role %s takes an %s key",
		    certpath, subj, rsa ? "RSA" : "EC", roles[r].file,
		    roles[r].ec ? "EC" : "RSA");
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
		pki_err_set(e, "%s: %s expired on %s", certpath, subj,
		    pki_time_fmt(X509_get0_notAfter(leaf), when, sizeof(when)));
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
		pki_err_set(e, "%s: %s is not yet valid: it starts on %s",
		    certpath, subj,
		    pki_time_fmt(
		        X509_get0_notBefore(leaf), when, sizeof(when)));
		goto out;
	}
	/* The identity, then what the peer needs to reach a trust anchor. */
	out[nout++] = leaf;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		if (x == leaf || X509_self_signed(x, 0) == 1)
			continue;
		if (nout == sizeof(out) / sizeof(out[0])) {
			pki_err_set(e, "%s: too many certificates in the chain",
			    certpath);
			goto out;
		}
		out[nout++] = x;
	}
	err = pki_certs_write(pempath, out, nout, e);
out:
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return err;
}
