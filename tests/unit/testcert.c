/* Test PKI made at run time with the OpenSSL API: no files, no fixed keys. */
#include "testcert.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static int
set_serial(X509 *cert)
{
	unsigned char rnd[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	rnd[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	if (bn == NULL)
		return -1;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

int
testcert_make(struct testcert *tc, const char *cn, const struct testcert *ca)
{
	X509_NAME *name;
	X509 *cert = NULL, *issuer;
	EVP_PKEY *key = NULL, *signer;
	char san[300];
	int rc = -1;

	memset(tc, 0, sizeof(*tc));
	key = EVP_EC_gen("P-256");
	cert = X509_new();
	if (key == NULL || cert == NULL)
		goto out;
	if (X509_set_version(cert, 2) != 1 || set_serial(cert) != 0)
		goto out;
	/* An hour back covers clock skew between the test and OpenSSL. */
	if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), 86400) == NULL)
		goto out;
	if (X509_set_pubkey(cert, key) != 1)
		goto out;
	name = X509_get_subject_name(cert);
	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	        (const unsigned char *)"ngvoice tests", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	        (const unsigned char *)cn, -1, -1, 0) != 1)
		goto out;
	issuer = ca ? ca->cert : cert;
	signer = ca ? ca->key : key;
	if (X509_set_issuer_name(cert, X509_get_subject_name(issuer)) != 1)
		goto out;
	if (ca == NULL) {
		if (add_ext(cert, issuer, NID_basic_constraints,
		        "critical,CA:TRUE") != 0 ||
		    add_ext(cert, issuer, NID_key_usage,
		        "critical,keyCertSign,cRLSign") != 0 ||
		    add_ext(cert, issuer, NID_subject_key_identifier, "hash") !=
		        0)
			goto out;
	} else {
		snprintf(san, sizeof(san), "DNS:%s,IP:127.0.0.1,IP:::1", cn);
		if (add_ext(cert, issuer, NID_basic_constraints,
		        "critical,CA:FALSE") != 0 ||
		    add_ext(cert, issuer, NID_key_usage,
		        "critical,digitalSignature") != 0 ||
		    add_ext(cert, issuer, NID_ext_key_usage,
		        "serverAuth,clientAuth") != 0 ||
		    add_ext(cert, issuer, NID_subject_alt_name, san) != 0 ||
		    add_ext(cert, issuer, NID_authority_key_identifier,
		        "keyid") != 0)
			goto out;
	}
	if (X509_sign(cert, signer, EVP_sha256()) == 0)
		goto out;
	tc->key = key;
	tc->cert = cert;
	key = NULL;
	cert = NULL;
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	return rc;
}

void
testcert_free(struct testcert *tc)
{
	EVP_PKEY_free(tc->key);
	X509_free(tc->cert);
	tc->key = NULL;
	tc->cert = NULL;
}

const char *
testcert_cn(X509 *cert, char *buf, size_t sz)
{
	buf[0] = '\0';
	if (cert == NULL ||
	    X509_NAME_get_text_by_NID(
	        X509_get_subject_name(cert), NID_commonName, buf, (int)sz) < 0)
		buf[0] = '\0';
	return buf;
}

SSL_CTX *
testcert_ctx(bool server, const struct testcert *id, const struct testcert *ca)
{
	SSL_CTX *ctx;
	X509_STORE *store;

	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	if (id && (SSL_CTX_use_certificate(ctx, id->cert) != 1 ||
	              SSL_CTX_use_PrivateKey(ctx, id->key) != 1 ||
	              SSL_CTX_check_private_key(ctx) != 1))
		goto fail;
	store = SSL_CTX_get_cert_store(ctx);
	if (ca && X509_STORE_add_cert(store, ca->cert) != 1)
		goto fail;
	if (server) {
		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		/* Tell clients which CA we take, as a real server would. */
		if (ca && SSL_CTX_add_client_CA(ctx, ca->cert) != 1)
			goto fail;
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}
