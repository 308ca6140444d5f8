/* Keys and certificates: key types, subject alternative names, identity generation, self-signed certificates. */
#ifndef NGV_PKI_CERT_H
#define NGV_PKI_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

/* Key types; the first three are the original ones, keep their values. */
enum pki_keytype {
	PKI_KEY_EC_P256,
	PKI_KEY_EC_P384,
	PKI_KEY_RSA2048,
	PKI_KEY_EC_P521,
	PKI_KEY_RSA3072,
	PKI_KEY_RSA4096,
	PKI_KEY__COUNT
};

/*
 * Why a pki call failed, in words an administrator can act on, naming the
 * file: "/etc/ngvoice/tomcat.pem: not a PEM certificate". Every pki function
 * that takes one fills it when it returns an error (it may be NULL).
 */
struct pki_err {
	char msg[768];
};

/*
 * Parses a key type: rsa:2048, rsa:3072, rsa:4096, ec:p256, ec:p384, ec:p521
 * (case-insensitive; ec:P-256, ec:prime256v1, ec:secp384r1 and ec:secp521r1
 * too). Returns 0 or EINVAL ("unsupported key ...", listing the valid ones).
 */
int pki_keytype_parse(enum pki_keytype *tp, const char *s, struct pki_err *e);

/* "rsa:2048" ... "ec:p521"; "?" for a value out of range. */
const char *pki_keytype_name(enum pki_keytype t);

bool pki_keytype_is_rsa(enum pki_keytype t);

/* "RSA 2048 bits", "EC P-256", "Ed25519": for people. Returns buf. */
const char *pki_key_describe(EVP_PKEY *pk, char *buf, size_t sz);

/*
 * Checks that a key is one ngvoice uses: RSA 2048 to 4096 bits or EC on
 * P-256, P-384 or P-521. what names it in the message ("tomcat.csr").
 * Returns 0 (with *is_rsa when not NULL) or EINVAL.
 */
int pki_key_check(
    EVP_PKEY *pk, const char *what, bool *is_rsa, struct pki_err *e);

/*
 * Appends names to a subject alternative name list in OpenSSL syntax
 * ("DNS:a,IP:10.0.0.1"). names is one name or several separated by commas;
 * each is a host name, an IPv4/IPv6 address or carries a DNS: or IP: prefix.
 * Wildcards are refused (the call manager accepts no wildcard certificates).
 * Returns 0, EINVAL (a bad name) or ENOMEM (no room in buf).
 */
int pki_san_append(char *buf, size_t sz, const char *names, struct pki_err *e);

/* The certificate extensions of an identity. */
enum pki_profile {
	PKI_PROFILE_TLS,    /* SIP/HTTPS: serverAuth+clientAuth EKU */
	PKI_PROFILE_SIGNER, /* ITLRecovery: digitalSignature only */
};

/* An identity to generate; strings are borrowed. */
struct pki_ident_spec {
	enum pki_keytype key;
	enum pki_profile profile;
	const char *cn;  /* subject CN, at most 64 characters */
	const char *san; /* from pki_san_append(), NULL or "": none */
	int days;        /* validity, 1 to 36500 */
};

/*
 * Generates a key and a self-signed end-entity certificate: basicConstraints
 * CA:FALSE (critical), keyUsage digitalSignature (+ keyEncipherment for RSA,
 * critical), for PKI_PROFILE_TLS extendedKeyUsage serverAuth, clientAuth; a
 * subject key identifier. OpenSSL 3 accepts such a certificate as its own
 * trust anchor, which is how the peer trusts a self-signed identity. Writes
 * keypath (mode 0600) and certpath (0644), each replaced atomically. Returns
 * 0, EINVAL, EIO (a write failed, errno in the message) or EPROTO (OpenSSL).
 */
int pki_ident_generate(const struct pki_ident_spec *spec, const char *certpath,
    const char *keypath, struct pki_err *e);

/*
 * Generates a key and a self-signed certificate: subject CN=cn, the
 * subject alternative names san (OpenSSL syntax, "DNS:a,IP:127.0.0.1",
 * may be NULL), valid for days; the TLS identity extensions of
 * pki_ident_generate(). Writes PEM files: the key with mode 0600.
 * Returns 0, EINVAL, ENOMEM, EIO (a write failed) or EPROTO (OpenSSL); a
 * failure is logged.
 */
int pki_selfsigned(enum pki_keytype type, const char *cn, const char *san,
    int days, const char *certpath, const char *keypath);

#endif
