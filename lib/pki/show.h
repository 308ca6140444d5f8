/* Certificates for people: the details an administrator checks, and why a chain does or does not verify. */
#ifndef NGV_PKI_SHOW_H
#define NGV_PKI_SHOW_H

#include <openssl/x509.h>
#include <stdio.h>

/*
 * Writes, one "label: value" line each: subject, SANs, issuer (or
 * "self-signed"), serial, key, signature algorithm, not before, not after
 * with days left or "expired N days ago" or "not yet valid", SHA-256 and
 * SHA-1 fingerprints, key usage, extended key usage, CA flag, and whether
 * the certificate can be a TLS server and client.
 */
void pki_show_cert(FILE *out, X509 *x);

/* Colon-separated upper-case hex digest of the DER certificate. */
const char *pki_fingerprint(X509 *x, const EVP_MD *md, char *buf, size_t sz);

/* "2029-04-30 10:00:00 UTC"; returns buf. */
const char *pki_time_fmt(const ASN1_TIME *t, char *buf, size_t sz);

/* The subject in RFC 2253 form, "CN=cucm.lab,O=Lab"; returns buf. */
const char *pki_subject_fmt(X509 *x, char *buf, size_t sz);

/*
 * Verifies leaf, with the untrusted intermediates in chain (may be NULL),
 * against trust, now. On success why gets the chain ("CN=a > CN=b > CN=c")
 * and it returns 0; otherwise why says why in words: expired (when),
 * not yet valid, unknown issuer "CN=...", self-signed "CN=..." not trusted,
 * a bad signature, ... and it returns EBADMSG. EINVAL or ENOMEM otherwise.
 */
int pki_verify(X509 *leaf, STACK_OF(X509) * chain, X509_STORE *trust, char *why,
    size_t sz);

#endif
