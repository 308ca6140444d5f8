/* TLS contexts for SIP: an NGE "TLS Ciphers" option, RSA and EC identities, peer verification. */
#ifndef NGV_TLS_CTX_H
#define NGV_TLS_CTX_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "tls/profile.h"

struct tls_opts {
	/*
	 * Up to two identities of different key types (RSA and EC), e.g.
	 * CallManager and CallManager-ECDSA. The certificate presented
	 * follows the negotiated suite. Either may be NULL for a client.
	 */
	const char *cert, *key;
	const char *cert2, *key2;
	const char *ca_file; /* trust store (PEM bundle), NULL: none */
	bool verify_peer;    /* require and verify the peer's certificate */
	enum tls_ciphers ciphers; /* see tls_opts_default() */
	bool authenticated; /* device security mode Authenticated: NULL-SHA */
	/*
	 * A server for both modes on one port, as the guide's 5061: the
	 * option's suites, and NULL-SHA for Authenticated devices (which
	 * offer nothing else). Encrypted peers never offer NULL-SHA; the
	 * caller checks tls_ssl_encrypted() per line or trunk.
	 */
	bool also_authenticated;
	bool allow_tls13;        /* off: TLS 1.2 exactly, the guide's NGE */
	const char *keylog_file; /* NSS key log for Wireshark, NULL: off */
	const char *what;        /* for log lines: "call manager SIP" */
};

/* Fills the defaults: All Ciphers RSA Preferred, verify peers, TLS 1.2. */
void tls_opts_default(struct tls_opts *o);

/*
 * Makes a context. TLS 1.2 is the minimum; the client's suite order wins
 * (no server preference), as the guide describes. Groups P-256/P-384/P-521,
 * signatures with SHA-2 only. Logs at start which suites cannot be used for
 * lack of an identity, and warns for Authenticated mode and key logging.
 * Returns 0 with *ctxp, EINVAL (bad options) or EPROTO (an OpenSSL failure,
 * logged with the reason and the file involved).
 */
int tls_ctx_new(SSL_CTX **ctxp, bool server, const struct tls_opts *o);

/*
 * True when every identity of ctx is within its validity period. One that
 * has expired (or is not yet valid) fails every new handshake: a reload
 * that brings one is refused, a start warns. why says which, and since
 * when ("CN=cucm.example.com expired on 2026-11-27 06:00:00 UTC").
 */
bool tls_ctx_identities_current(SSL_CTX *ctx, char *why, size_t sz);

/* False for a session whose suite does not encrypt (NULL-SHA). */
bool tls_ssl_encrypted(SSL *ssl);

#endif
