/* Private to lib/pki: error text helpers and the certificate builder shared by identities and the CA. */
#ifndef NGV_PKI_INT_H
#define NGV_PKI_INT_H

#include <openssl/x509v3.h>
#include <stdbool.h>

#include "pki/cert.h"

/* Sets e->msg (e may be NULL) and clears the OpenSSL error queue. */
void pki_err_set(struct pki_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Like pki_err_set, then appends ": " and the drained OpenSSL errors. */
void pki_err_ossl(struct pki_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The extensions a built certificate gets. */
enum pki_ext {
	PKI_EXT_TLS,          /* CA:FALSE, KU by key type, EKU server+client */
	PKI_EXT_SIGNER,       /* CA:FALSE, KU digitalSignature, no EKU */
	PKI_EXT_ROOT,         /* CA:TRUE, KU keyCertSign+cRLSign */
	PKI_EXT_INTERMEDIATE, /* CA:TRUE pathlen:0, KU keyCertSign+cRLSign */
};

/* What to build; every pointer is borrowed. */
struct pki_build {
	const X509_NAME *subject;
	EVP_PKEY *pubkey;  /* the subject's key */
	X509 *issuer;      /* NULL: self-signed */
	EVP_PKEY *signkey; /* the issuer's key (pubkey's when self-signed) */
	int days;
	enum pki_ext ext;
	const char *san;           /* "DNS:a,IP:b" or NULL */
	const GENERAL_NAMES *sans; /* from a request, or NULL */
	bool clamp_to_issuer;      /* never outlive the issuer */
};

/*
 * Builds and signs a version 3 certificate with a random 127-bit serial,
 * valid from 5 minutes ago for b->days. Returns 0 with *xp (owned by the
 * caller), EINVAL or EPROTO with e->msg.
 */
int pki_build_cert(X509 **xp, const struct pki_build *b, struct pki_err *e);

/* The digest to sign with: at least as strong as the key (SHA-384 for P-384). */
const EVP_MD *pki_sign_md(EVP_PKEY *signkey);

/* Generates a key of the type; NULL with e->msg on failure. */
EVP_PKEY *pki_key_new(enum pki_keytype t, struct pki_err *e);

/* Adds one extension in OpenSSL configuration syntax to a certificate. */
int pki_add_ext(X509 *x, X509 *issuer, int nid, const char *value);

/* Writes "CN=a,O=b" (RFC 2253 order, UTF-8 kept) into buf; returns buf. */
const char *pki_name_fmt(const X509_NAME *n, char *buf, size_t sz);

/* A name of one CN (at most 64 characters). 0 or EINVAL. */
int pki_cn_name(X509_NAME **np, const char *cn, struct pki_err *e);

/* True when a file exists at path (any type). */
bool pki_exists(const char *path);

/*
 * Reads a whole file into *bufp (NUL-terminated, owned by the caller, who
 * wipes it when it may hold a secret). A file over max bytes is refused
 * with toobig and a message saying it is too big for what. Returns 0 or an
 * errno value, with e->msg naming the file.
 */
int pki_file_read(const char *path, size_t max, int toobig, const char *what,
    unsigned char **bufp, size_t *np, struct pki_err *e);

#endif
