/* The guide's identity certificates (CallManager, CallManager-ECDSA, tomcat, tomcat-ECDSA, ITLRecovery): names, files, defaults, import. */
#ifndef NGV_PKI_ROLE_H
#define NGV_PKI_ROLE_H

#include <stdbool.h>
#include <stddef.h>

#include "pki/cert.h"

enum pki_role {
	PKI_ROLE_CALLMANAGER,       /* call manager, RSA */
	PKI_ROLE_CALLMANAGER_ECDSA, /* call manager, EC */
	PKI_ROLE_TOMCAT,            /* voicemail server, RSA */
	PKI_ROLE_TOMCAT_ECDSA,      /* voicemail server, EC */
	PKI_ROLE_ITLRECOVERY,       /* call manager, RSA: signs the ITL */
	PKI_ROLE__COUNT
};

/* "callmanager, callmanager-ecdsa, tomcat, tomcat-ecdsa, itlrecovery" */
#define PKI_ROLE_LIST                                                          \
	"callmanager, callmanager-ecdsa, tomcat, tomcat-ecdsa, itlrecovery"

/*
 * Parses a role, case-insensitively: "callmanager-ecdsa" and the file name
 * "CallManager-ECDSA" both work. Returns 0 or EINVAL ("unknown role", with
 * the valid ones).
 */
int pki_role_parse(enum pki_role *rp, const char *s, struct pki_err *e);

/* The command-line name: "callmanager-ecdsa". */
const char *pki_role_name(enum pki_role r);

/* The guide's name, which is the files' base name: "CallManager-ECDSA". */
const char *pki_role_file(enum pki_role r);

/* RSA for CallManager, tomcat and ITLRecovery; EC for the -ECDSA ones. */
bool pki_role_is_ec(enum pki_role r);

/* RSA 2048 or EC P-256. */
enum pki_keytype pki_role_default_key(enum pki_role r);

/* Self-signed validity: 5 years, 20 for ITLRecovery (notes 6.1). */
int pki_role_default_days(enum pki_role r);

/* "dir/CallManager-ECDSA.ext" into buf. Returns 0 or EINVAL (too long). */
int pki_role_path(
    char *buf, size_t sz, const char *dir, enum pki_role r, const char *ext);

/*
 * Fills spec for a role: the key from keyname (NULL: the role's default),
 * validity days (0: the role's default), the role's profile. Checks that
 * the key family fits the role (an EC key for an -ECDSA role, RSA for the
 * others), that cn is given, at most 64 characters and no wildcard. cn and
 * san are borrowed into spec. Returns 0 or EINVAL.
 */
int pki_role_spec(struct pki_ident_spec *spec, enum pki_role r, const char *cn,
    const char *san, const char *keyname, int days, struct pki_err *e);

/*
 * Replaces the identity certificate dir/ROLE.pem with the one in certpath
 * (for example signed by a CA from dir/ROLE.csr). The file may hold a chain:
 * the certificate whose public key is the one of dir/ROLE.key is the
 * identity, any intermediates follow it (self-signed roots are left out:
 * they belong in the peer's trust store). Refused, with the reason: a file
 * that does not read or holds no certificate, no certificate matching the
 * key, a CA certificate, a key type the role does not take, an unsupported
 * key, a certificate expired or not yet valid. pass decrypts an encrypted
 * dir/ROLE.key (may be NULL). Returns 0, errno (reading), EBADMSG, EACCES,
 * EINVAL or EIO.
 */
int pki_role_import(const char *dir, enum pki_role r, const char *certpath,
    const char *pass, struct pki_err *e);

#endif
