/* TLS handshake diagnostics in words an administrator can act on. */
#ifndef NGV_TLS_DIAG_H
#define NGV_TLS_DIAG_H

#include <openssl/ssl.h>
#include <stddef.h>

/*
 * Explains why a handshake on ssl failed, given the OpenSSL error code that
 * ended it (0 when unknown): an untrusted or expired peer certificate with
 * its names and dates, no suite in common with what each side offered, a
 * protocol version below TLS 1.2, a wrong server name. Returns buf.
 */
const char *tls_handshake_why(SSL *ssl, unsigned long e, char *buf, size_t sz);

/*
 * The verify callback contexts use so that a rejected peer certificate can
 * be named in the log; tls_diag_init() sets it up once (tls_ctx_new does).
 */
int tls_verify_cb(int ok, X509_STORE_CTX *xs);
void tls_diag_init(void);

#endif
