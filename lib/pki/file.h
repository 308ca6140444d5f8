/* PEM files: reading certificates, keys and requests with errors that name the file; atomic writes, keys mode 0600. */
#ifndef NGV_PKI_FILE_H
#define NGV_PKI_FILE_H

#include <openssl/x509.h>
#include <stddef.h>

#include "pki/cert.h"

/*
 * Loads every certificate of a PEM file (other PEM blocks are skipped), or
 * the one certificate of a DER file. *chainp is owned by the caller
 * (sk_X509_pop_free(sk, X509_free)); the first certificate comes first. Returns 0,
 * the errno of a failed open or read ("cannot read"), or EBADMSG ("not a PEM
 * certificate", saying when the file holds a key or a request instead).
 */
int pki_certs_load(
    STACK_OF(X509) * *chainp, const char *path, struct pki_err *e);

/* The first certificate of the file; as pki_certs_load(). */
int pki_cert_load(X509 **xp, const char *path, struct pki_err *e);

/*
 * Loads a PEM private key, decrypting it with pass when it is encrypted
 * (pass may be NULL). The file's bytes are wiped after parsing. Returns 0
 * with *pkp, the errno of a failed read, EACCES (encrypted and no password,
 * or the password is wrong) or EBADMSG (not a PEM private key).
 */
int pki_key_load(
    EVP_PKEY **pkp, const char *path, const char *pass, struct pki_err *e);

/* Loads a PEM (or DER) PKCS#10 request. Returns 0, errno or EBADMSG. */
int pki_csr_load(X509_REQ **rp, const char *path, struct pki_err *e);

/*
 * Reads a password: the first line of path without its line end. buf is
 * the caller's, who wipes it with OPENSSL_cleanse() after use (this wipes
 * its own copies). Returns 0, errno or EINVAL (empty, or longer than sz-1).
 */
int pki_password_read(
    const char *path, char *buf, size_t sz, struct pki_err *e);

/*
 * Writes a private key as PEM with mode 0600, through a temporary file
 * renamed over path; with pass (non-empty) encrypted with AES-256-CBC
 * (PKCS#8). Returns 0, EIO (errno in the message) or EPROTO.
 */
int pki_key_write(
    const char *path, EVP_PKEY *pk, const char *pass, struct pki_err *e);

/* Writes n certificates as one PEM file, mode 0644, replaced atomically. */
int pki_certs_write(
    const char *path, X509 *const *certs, size_t n, struct pki_err *e);

/*
 * Creates dir and its missing parents with mode (mkdir -p); an existing
 * directory is fine. Returns 0, ENOTDIR (a file is in the way), EINVAL or
 * the errno of mkdir(2).
 */
int pki_dir_make(const char *dir, unsigned mode, struct pki_err *e);

/* Writes a request as PEM, mode 0644, replaced atomically. */
int pki_csr_write(const char *path, X509_REQ *r, struct pki_err *e);

#endif
