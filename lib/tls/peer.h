/* Peer identity checks: the guide's "X.509 Subject Name" against a certificate's CN and DNS SANs. */
#ifndef NGV_TLS_PEER_H
#define NGV_TLS_PEER_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * True when the certificate's subject CN or any DNS subject alternative name
 * equals one of the expected names (case-insensitive, no wildcards). expected
 * holds one or more names separated by space, comma, semicolon or colon, as
 * the trunk security profile field does. An empty list matches nothing.
 */
bool tls_peer_name_ok(X509 *cert, const char *expected);

/* Writes "CN=a DNS=b,c" for log lines; returns buf. */
const char *tls_cert_names(X509 *cert, char *buf, size_t sz);

/*
 * Writes one administrator-readable line about a failed name check:
 * "peer 127.0.0.1:5061 certificate CN=vm.lab DNS=vm.lab does not match
 * X.509 subject name cucm.lab". Returns buf.
 */
const char *tls_peer_name_why(
    X509 *cert, const char *peer, const char *expected, char *buf, size_t sz);

#endif
