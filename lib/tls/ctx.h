/* TLS contexts for SIP: TLS 1.2 minimum, AES-GCM suites, peer verification. */
#ifndef NGV_TLS_CTX_H
#define NGV_TLS_CTX_H

#include <openssl/ssl.h>
#include <stdbool.h>

/*
 * The suites of "All Ciphers RSA Preferred", the guide's default TLS Ciphers
 * option (protocol-notes 2.1). The NGE profiles of the TLS issue replace this.
 */
#define TLS_CIPHERS_DEFAULT                                                    \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:"           \
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:"           \
	"AES128-SHA"

struct tls_opts {
	const char *cert;    /* PEM chain, may be NULL for a client */
	const char *key;     /* PEM private key */
	const char *ca_file; /* trust store (PEM bundle), NULL: trust nothing */
	bool verify_peer;    /* require and verify the peer's certificate */
	const char *ciphers; /* NULL: TLS_CIPHERS_DEFAULT */
	bool allow_tls13;    /* off: TLS 1.2 exactly, as the guide's NGE */
};

/*
 * Makes a context. TLS 1.2 is the minimum; the client's suite order wins
 * (no server preference), as the guide describes. Returns 0 with *ctxp or
 * EINVAL / EPROTO (logged with the OpenSSL reason and the file involved).
 */
int tls_ctx_new(SSL_CTX **ctxp, bool server, const struct tls_opts *o);

#endif
