/* Certificate signing requests (PKCS#10) for the identities, for signing by a third-party CA. */
#ifndef NGV_PKI_CSR_H
#define NGV_PKI_CSR_H

#include <openssl/x509v3.h>

#include "pki/cert.h"

/*
 * Generates a new key (keypath, mode 0600) and a request for it (csrpath):
 * subject CN=spec->cn, and as requested extensions the SANs, the key usages
 * and, for PKI_PROFILE_TLS, extendedKeyUsage serverAuth, clientAuth.
 * spec->days is not used. Returns 0, EINVAL, EIO or EPROTO.
 */
int pki_csr_generate(const struct pki_ident_spec *spec, const char *csrpath,
    const char *keypath, struct pki_err *e);

/*
 * The subject alternative names a request asks for, NULL when none. The
 * caller frees the result with GENERAL_NAMES_free().
 */
GENERAL_NAMES *pki_csr_sans(X509_REQ *r);

#endif
