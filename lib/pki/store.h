/* Trust stores (callmanager-trust, tomcat-trust): directories of PEM files, one certificate each, and their CAfile bundle. */
#ifndef NGV_PKI_STORE_H
#define NGV_PKI_STORE_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#include "pki/cert.h"

enum pki_store {
	PKI_STORE_CALLMANAGER_TRUST, /* SIP TLS peers: tomcat(-ECDSA), CAs */
	PKI_STORE_TOMCAT_TRUST,      /* HTTPS peers */
	PKI_STORE__COUNT
};

#define PKI_STORE_LIST "callmanager-trust, tomcat-trust"

/* Parses a store name, case-insensitively. Returns 0 or EINVAL. */
int pki_store_parse(enum pki_store *sp, const char *s, struct pki_err *e);

/* "callmanager-trust", "tomcat-trust": also the directory's name. */
const char *pki_store_name(enum pki_store s);

/* "dir/callmanager-trust" into buf. Returns 0 or EINVAL (too long). */
int pki_store_path(char *buf, size_t sz, const char *dir, enum pki_store s);

/*
 * Adds a certificate to the store directory storedir (created, mode 0755)
 * as NAME.pem: name when given (letters, digits, '.', '_', '-', at most 64),
 * else the subject's CN (other characters become '_'); a CN taken by
 * another certificate gets "-" and 8 hex digits of its SHA-256 appended.
 * The same certificate twice is no error: *existed is set (may be NULL).
 * The entry's name goes to outname. Returns 0, EINVAL, EEXIST (name given
 * and taken by another certificate), EIO.
 */
int pki_store_add(const char *storedir, X509 *x, const char *name,
    char *outname, size_t outsz, bool *existed, struct pki_err *e);

/* One certificate of a store. */
struct pki_store_entry {
	char name[256]; /* file name without ".pem" */
	X509 *cert;     /* owned */
};

/*
 * Lists the store, sorted by name; a missing directory is an empty store.
 * *ep (may be NULL when *np is 0) is freed with pki_store_entries_free().
 * Returns 0, errno (reading), EBADMSG (a file that holds no certificate),
 * ENOMEM.
 */
int pki_store_list(const char *storedir, struct pki_store_entry **ep,
    size_t *np, struct pki_err *e);
void pki_store_entries_free(struct pki_store_entry *ep, size_t n);

/* Removes NAME (with or without ".pem"). Returns 0, ENOENT, EINVAL, EIO. */
int pki_store_remove(const char *storedir, const char *name, struct pki_err *e);

/*
 * Writes every certificate of the store, by name, into one PEM file usable
 * as an OpenSSL CAfile (tls_opts.ca_file), replaced atomically. *np (may be
 * NULL) gets the count. Returns 0, ENODATA (empty store: OpenSSL refuses an
 * empty CAfile), errno, EBADMSG or EIO.
 */
int pki_store_bundle(
    const char *storedir, const char *outpath, size_t *np, struct pki_err *e);

/*
 * A trust store for verification from path: a PEM bundle file, or a
 * directory whose *.pem files are all loaded (a store directory). *sp is
 * owned by the caller. Returns 0, errno, EBADMSG, ENODATA (nothing to
 * trust) or ENOMEM.
 */
int pki_trust_load(X509_STORE **sp, const char *path, struct pki_err *e);

#endif
