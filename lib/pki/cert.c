/* Identity generation with OpenSSL: keys, self-signed certificates, PEM files. */
#include "pki/cert.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

static EVP_PKEY *
key_new(enum pki_keytype type)
{
	switch (type) {
	case PKI_KEY_EC_P256:
		return EVP_EC_gen("P-256");
	case PKI_KEY_EC_P384:
		return EVP_EC_gen("P-384");
	case PKI_KEY_RSA2048:
		return EVP_RSA_gen(2048);
	}
	return NULL;
}

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return -1;
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return 0;
}

int
pki_selfsigned(enum pki_keytype type, const char *cn, const char *san, int days,
    const char *certpath, const char *keypath)
{
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	FILE *f = NULL;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int fd, err = EPROTO;

	if (cn == NULL || certpath == NULL || keypath == NULL || days <= 0)
		return EINVAL;
	if ((pk = key_new(type)) == NULL || (x = X509_new()) == NULL)
		goto out;
	/* A random positive 127-bit serial (RFC 5280 4.1.2.2). */
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto out;
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -300);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400L);
	X509_set_pubkey(x, pk);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(
	    n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_ext(x, NID_key_usage,
	        "critical,digitalSignature,keyEncipherment,keyCertSign") ||
	    add_ext(x, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    add_ext(x, NID_subject_key_identifier, "hash") ||
	    (san && *san && add_ext(x, NID_subject_alt_name, san)))
		goto out;
	if (!X509_sign(x, pk, EVP_sha256()))
		goto out;

	err = EIO;
	fd = open(keypath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fchmod(fd, 0600); /* an existing file keeps its mode otherwise */
	if (!PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL))
		goto out;
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	if ((f = fopen(certpath, "w")) == NULL || !PEM_write_X509(f, x))
		goto out;
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	err = 0;
out:
	if (err == EPROTO)
		log_openssl(LOG_ERR, "making a self-signed certificate");
	if (f)
		fclose(f);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(pk);
	return err;
}
