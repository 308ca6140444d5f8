/* Keys and certificates: generation of identities and self-signed certificates. */
#ifndef NGV_PKI_CERT_H
#define NGV_PKI_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

enum pki_keytype { PKI_KEY_EC_P256, PKI_KEY_EC_P384, PKI_KEY_RSA2048 };

/*
 * Generates a key and a self-signed certificate: subject CN=cn, the
 * subject alternative names san (OpenSSL syntax, "DNS:a,IP:127.0.0.1",
 * may be NULL), valid for days. Writes PEM files: the key with mode 0600.
 * Returns 0, EINVAL, ENOMEM, EIO (a write failed) or EPROTO (OpenSSL).
 */
int pki_selfsigned(enum pki_keytype type, const char *cn, const char *san,
    int days, const char *certpath, const char *keypath);

#endif
