/* PKCS#10 requests for the identities: a new key and a request carrying the CN, SANs and key usages. */
#include "pki/csr.h"

#include <errno.h>
#include <string.h>

#include "pki/file.h"
#include "pki/pki_int.h"

/* Adds one requested extension in OpenSSL configuration syntax. */
static int
req_ext(
    STACK_OF(X509_EXTENSION) * exts, X509_REQ *req, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, NULL, NULL, req, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value)) == NULL)
		return -1;
	if (!sk_X509_EXTENSION_push(exts, ext)) {
		X509_EXTENSION_free(ext);
		return -1;
	}
	return 0;
}

int
pki_csr_generate(const struct pki_ident_spec *spec, const char *csrpath,
    const char *keypath, struct pki_err *e)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_NAME *name = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *pk = NULL;
	const char *what = "making the request";
	int err;

	if (spec == NULL || csrpath == NULL || keypath == NULL ||
	    (unsigned)spec->key >= PKI_KEY__COUNT) {
		pki_err_set(e, "invalid request parameters");
		return EINVAL;
	}
	if ((err = pki_cn_name(&name, spec->cn, e)) != 0)
		return err;
	err = EPROTO;
	if ((pk = pki_key_new(spec->key, e)) == NULL)
		goto out;
	if ((req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, pk) != 1 ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL)
		goto fail;
	bool rsa = pki_keytype_is_rsa(spec->key);
	what = "adding the requested key usages";
	if (req_ext(exts, req, NID_basic_constraints, "critical,CA:FALSE") ||
	    req_ext(exts, req, NID_key_usage,
	        rsa ? "critical,digitalSignature,keyEncipherment"
	            : "critical,digitalSignature") ||
	    (spec->profile == PKI_PROFILE_TLS &&
	        req_ext(exts, req, NID_ext_key_usage, "serverAuth,clientAuth")))
		goto fail;
	what = "adding the subject alternative names";
	if (spec->san && *spec->san &&
	    req_ext(exts, req, NID_subject_alt_name, spec->san))
		goto fail;
	what = "signing the request";
	if (X509_REQ_add_extensions(req, exts) != 1 ||
	    X509_REQ_sign(req, pk, pki_sign_md(pk)) <= 0)
		goto fail;
	if ((err = pki_key_write(keypath, pk, NULL, e)) != 0 ||
	    (err = pki_csr_write(csrpath, req, e)) != 0)
		goto out;
	err = 0;
	goto out;
fail:
	pki_err_ossl(e, "%s", what);
	err = EPROTO;
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	EVP_PKEY_free(pk);
	X509_NAME_free(name);
	return err;
}

GENERAL_NAMES *
pki_csr_sans(X509_REQ *r)
{
	STACK_OF(X509_EXTENSION) * exts;
	GENERAL_NAMES *gens;

	if (r == NULL || (exts = X509_REQ_get_extensions(r)) == NULL)
		return NULL;
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return gens;
}
