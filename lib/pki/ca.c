/* A lab CA for the guide's third-party CA path: a root, an optional intermediate, signing of identity requests. */
#include "pki/ca.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pki/csr.h"
#include "pki/file.h"
#include "pki/pki_int.h"
#include "pki/show.h"

#define CA_ROOT_DAYS 3650

static int
ca_file(
    char *buf, size_t sz, const char *dir, const char *name, struct pki_err *e)
{
	if ((size_t)snprintf(buf, sz, "%s/%s", dir, name) >= sz) {
		pki_err_set(e, "%s: directory name too long", dir);
		return EINVAL;
	}
	return 0;
}

/* Makes one CA certificate and writes it with its key. */
static int
ca_make(const char *dir, const char *cn, const struct pki_ca_spec *spec,
    int days, X509 *issuer, EVP_PKEY *issuerkey, X509 **xp, EVP_PKEY **pkp,
    struct pki_err *e)
{
	char certpath[4096], keypath[4096];
	struct pki_build b;
	X509_NAME *name = NULL;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	int err;

	if ((err = ca_file(certpath, sizeof(certpath), dir,
	         issuer ? PKI_CA_INT_CERT : PKI_CA_ROOT_CERT, e)) ||
	    (err = ca_file(keypath, sizeof(keypath), dir,
	         issuer ? PKI_CA_INT_KEY : PKI_CA_ROOT_KEY, e)) ||
	    (err = pki_cn_name(&name, cn, e)))
		return err;
	err = EPROTO;
	if ((pk = pki_key_new(spec->key, e)) == NULL)
		goto out;
	memset(&b, 0, sizeof(b));
	b.subject = name;
	b.pubkey = pk;
	b.issuer = issuer;
	b.signkey = issuer ? issuerkey : pk;
	b.days = days;
	b.ext = issuer ? PKI_EXT_INTERMEDIATE : PKI_EXT_ROOT;
	b.clamp_to_issuer = true;
	if ((err = pki_build_cert(&x, &b, e)) ||
	    (err = pki_key_write(keypath, pk, spec->pass, e)) ||
	    (err = pki_certs_write(certpath, &x, 1, e)))
		goto out;
	*xp = x;
	*pkp = pk;
	x = NULL;
	pk = NULL;
out:
	X509_free(x);
	EVP_PKEY_free(pk);
	X509_NAME_free(name);
	return err;
}

int
pki_ca_init(const char *dir, const struct pki_ca_spec *spec, struct pki_err *e)
{
	char path[4096], icn[128];
	const char *cn;
	X509 *root = NULL, *inter = NULL;
	EVP_PKEY *rootkey = NULL, *interkey = NULL;
	int days, err;

	if (dir == NULL || spec == NULL ||
	    (unsigned)spec->key >= PKI_KEY__COUNT) {
		pki_err_set(e, "invalid CA parameters");
		return EINVAL;
	}
	days = spec->days ? spec->days : CA_ROOT_DAYS;
	if (days < 2 || days > 36500) {
		pki_err_set(e, "validity %d days: give 2 to 36500", days);
		return EINVAL;
	}
	cn = spec->cn ? spec->cn : "ngvoice lab root CA";
	if (spec->cn)
		snprintf(icn, sizeof(icn), "%s intermediate", spec->cn);
	else
		snprintf(icn, sizeof(icn), "ngvoice lab intermediate CA");
	if (spec->intermediate && strlen(icn) > 64) {
		pki_err_set(e,
		    "CN '%s' of the intermediate is longer than 64 "
		    "characters: give a shorter --cn",
		    icn);
		return EINVAL;
	}
	if ((err = pki_dir_make(dir, 0700, e)) ||
	    (err = ca_file(path, sizeof(path), dir, PKI_CA_ROOT_KEY, e)))
		return err;
	if (pki_exists(path) && !spec->force) {
		pki_err_set(e,
		    "%s: a CA is already there; replacing it would orphan "
		    "what it signed (force it to replace it)",
		    path);
		return EEXIST;
	}
	if ((err = ca_make(
	         dir, cn, spec, days, NULL, NULL, &root, &rootkey, e)))
		goto out;
	if (spec->intermediate) {
		err = ca_make(dir, icn, spec, days / 2, root, rootkey, &inter,
		    &interkey, e);
		goto out;
	}
	/* An intermediate of a former root would sign in its place. */
	if ((err = ca_file(path, sizeof(path), dir, PKI_CA_INT_CERT, e)))
		goto out;
	unlink(path);
	if ((err = ca_file(path, sizeof(path), dir, PKI_CA_INT_KEY, e)))
		goto out;
	unlink(path);
out:
	X509_free(root);
	X509_free(inter);
	EVP_PKEY_free(rootkey);
	EVP_PKEY_free(interkey);
	return err;
}

/* True when a DNS subject alternative name or the CN has a wildcard. */
static bool
has_wildcard(X509_REQ *req, const GENERAL_NAMES *sans)
{
	X509_NAME *n = X509_REQ_get_subject_name(req);
	int i = -1;

	while ((i = X509_NAME_get_index_by_NID(n, NID_commonName, i)) >= 0) {
		const ASN1_STRING *s =
		    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
		if (memchr(ASN1_STRING_get0_data(s), '*',
		        (size_t)ASN1_STRING_length(s)))
			return true;
	}
	for (int j = 0; sans && j < sk_GENERAL_NAME_num(sans); j++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, j);
		if (g->type == GEN_DNS &&
		    memchr(ASN1_STRING_get0_data(g->d.dNSName), '*',
		        (size_t)ASN1_STRING_length(g->d.dNSName)))
			return true;
	}
	return false;
}

int
pki_ca_sign(const char *cadir, const char *csrpath, const char *outpath,
    int days, const char *pass, struct pki_err *e)
{
	char certpath[4096], keypath[4096], subj[256], when[64];
	GENERAL_NAMES *sans = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *cakey = NULL, *pub;
	X509 *ca = NULL, *leaf = NULL;
	struct pki_build b;
	bool inter;
	int err;

	if (cadir == NULL || csrpath == NULL || outpath == NULL) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	if (days == 0)
		days = PKI_CA_SIGN_DAYS;
	if (days < 0 || days > 36500) {
		pki_err_set(e, "validity %d days: give 1 to 36500", days);
		return EINVAL;
	}
	/* The intermediate signs when there is one (the guide's chain). */
	if ((err = ca_file(
	         certpath, sizeof(certpath), cadir, PKI_CA_INT_CERT, e)))
		return err;
	inter = pki_exists(certpath);
	if ((err = ca_file(certpath, sizeof(certpath), cadir,
	         inter ? PKI_CA_INT_CERT : PKI_CA_ROOT_CERT, e)) ||
	    (err = ca_file(keypath, sizeof(keypath), cadir,
	         inter ? PKI_CA_INT_KEY : PKI_CA_ROOT_KEY, e)))
		return err;
	if ((err = pki_cert_load(&ca, certpath, e)) ||
	    (err = pki_key_load(&cakey, keypath, pass, e)))
		goto out;
	err = EINVAL;
	if (X509_check_ca(ca) < 1) {
		pki_err_set(e, "%s: %s is not a CA certificate", certpath,
		    pki_subject_fmt(ca, subj, sizeof(subj)));
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(ca), cakey) != 1) {
		pki_err_set(
		    e, "%s does not match the key %s", certpath, keypath);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(ca)) <= 0) {
		pki_err_set(e, "%s: the CA certificate expired on %s", certpath,
		    pki_time_fmt(X509_get0_notAfter(ca), when, sizeof(when)));
		goto out;
	}
	if ((err = pki_csr_load(&req, csrpath, e)))
		goto out;
	err = EBADMSG;
	if ((pub = X509_REQ_get0_pubkey(req)) == NULL ||
	    X509_REQ_verify(req, pub) != 1) {
		pki_err_set(e,
		    "%s: the request's signature does not verify (damaged or "
		    "altered)",
		    csrpath);
		goto out;
	}
	if ((err = pki_key_check(pub, csrpath, NULL, e)))
		goto out;
	err = EINVAL;
	if (X509_NAME_entry_count(X509_REQ_get_subject_name(req)) == 0) {
		pki_err_set(e, "%s: the request has an empty subject", csrpath);
		goto out;
	}
	sans = pki_csr_sans(req);
	if (has_wildcard(req, sans)) {
		pki_err_set(e,
		    "%s: wildcard names are not supported (the call manager "
		    "accepts no wildcard certificates)",
		    csrpath);
		goto out;
	}
	memset(&b, 0, sizeof(b));
	b.subject = X509_REQ_get_subject_name(req);
	b.pubkey = pub;
	b.issuer = ca;
	b.signkey = cakey;
	b.days = days;
	b.ext = PKI_EXT_TLS;
	b.sans = sans;
	b.clamp_to_issuer = true;
	if ((err = pki_build_cert(&leaf, &b, e)))
		goto out;
	X509 *certs[2] = {leaf, ca};
	err = pki_certs_write(outpath, certs, inter ? 2 : 1, e);
out:
	GENERAL_NAMES_free(sans);
	X509_REQ_free(req);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(cakey);
	return err;
}
