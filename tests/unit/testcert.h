/* Test PKI made at run time: EC P-256 CAs, server and client certificates, TLS contexts. */
#ifndef NGV_TESTS_TESTCERT_H
#define NGV_TESTS_TESTCERT_H

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>

/* A key and its certificate; both owned. */
struct testcert {
	EVP_PKEY *key;
	X509 *cert;
};

/*
 * Makes a fresh EC P-256 key and a certificate with subject CN=cn, valid for
 * a day. With ca NULL the certificate is a self-signed CA; otherwise it is a
 * leaf signed by ca, for both serverAuth and clientAuth, with a
 * subjectAltName of DNS:cn, IP:127.0.0.1 and IP:::1. Returns 0 or -1 (the
 * OpenSSL error queue says why).
 */
int testcert_make(
    struct testcert *tc, const char *cn, const struct testcert *ca);
void testcert_free(struct testcert *tc);

/* The certificate's subject CN, copied into buf (empty when none). */
const char *testcert_cn(X509 *cert, char *buf, size_t sz);

/*
 * A TLS 1.2+ context presenting id (may be NULL: no certificate) and trusting
 * only ca. A server context requires and verifies a client certificate; a
 * client context verifies the server. Returns NULL on failure.
 */
SSL_CTX *testcert_ctx(
    bool server, const struct testcert *id, const struct testcert *ca);

#endif
