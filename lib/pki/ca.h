/* A lab certificate authority: a root, optionally an intermediate, and signing of identity requests. */
#ifndef NGV_PKI_CA_H
#define NGV_PKI_CA_H

#include <stdbool.h>

#include "pki/cert.h"

/* File names inside a CA directory. */
#define PKI_CA_ROOT_CERT "ca.pem"
#define PKI_CA_ROOT_KEY  "ca.key"
#define PKI_CA_INT_CERT  "intermediate.pem"
#define PKI_CA_INT_KEY   "intermediate.key"

/* Default validity of a signed identity: 5 years. */
#define PKI_CA_SIGN_DAYS 1825

struct pki_ca_spec {
	const char *cn;       /* root CN; NULL: "ngvoice lab root CA" */
	enum pki_keytype key; /* usually PKI_KEY_EC_P384 */
	int days;             /* root validity; 0: 3650 (the intermediate
	                         gets half, at most) */
	bool intermediate;    /* also make an intermediate signed by the root */
	const char *pass;     /* encrypts the CA keys; NULL: not encrypted */
	bool force;           /* replace an existing CA in the directory */
};

/*
 * Makes a CA in dir (created, mode 0700): ca.pem and ca.key, and with
 * spec->intermediate intermediate.pem and intermediate.key. The root has
 * basicConstraints CA:TRUE, keyUsage keyCertSign, cRLSign; the intermediate
 * the same with pathlen:0. Refuses (EEXIST) to replace an existing ca.key
 * unless spec->force. Returns 0, EINVAL, EEXIST, EIO or EPROTO.
 */
int pki_ca_init(
    const char *dir, const struct pki_ca_spec *spec, struct pki_err *e);

/*
 * Signs the request at csrpath with the CA in cadir: with its intermediate
 * when there is one, else with its root (pass decrypts the CA key, may be
 * NULL). The certificate keeps the request's subject and subject
 * alternative names; it gets basicConstraints CA:FALSE, keyUsage by key
 * type, extendedKeyUsage serverAuth, clientAuth, and is valid for days (0:
 * PKI_CA_SIGN_DAYS), never beyond the issuer. Writes outpath: the
 * certificate, then the intermediate when one signed. Refuses requests
 * whose signature does not verify, unsupported keys and wildcard names.
 * Returns 0, errno (reading), EBADMSG, EACCES, EINVAL, EIO or EPROTO.
 */
int pki_ca_sign(const char *cadir, const char *csrpath, const char *outpath,
    int days, const char *pass, struct pki_err *e);

#endif
