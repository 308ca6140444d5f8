/* The call manager's TFTP service over HTTPS (port 6972): the signed ITLFile.tlv, built from [certificates]. */
#ifndef NGV_CALLMGR_TFTP_H
#define NGV_CALLMGR_TFTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "pki/cert.h"

struct event_base;
struct cm_config;
struct cm_tftp;

/* The URL path of the one file served (protocol notes 1.8). */
#define CM_TFTP_ITL_PATH "/ITLFile.tlv"

/*
 * Builds the call manager's ITL from its configuration and appends it to
 * out: signed by ITLRecovery ([certificates] itlrecovery and its key; the
 * RSA CallManager identity when there is none, as before CUCM 12.0), with
 * the TFTP File Signature Algorithm (SHA-512 or SHA-1). Records: the signer
 * as SAST, CallManager as CCM+TFTP and CallManager-ECDSA as CCM
 * (docs/itl.md), each with listen_address when it is IPv4. The result is
 * parsed and verified before it is returned. Returns 0, EINVAL (no signer,
 * no CallManager certificate, a key that does not load or sign) or ENOMEM,
 * with e->msg.
 */
int cm_itl_build(struct buf *out, const struct cm_config *cfg,
    uint32_t timestamp, struct pki_err *e);

/*
 * Starts the HTTPS service on [enterprise] listen_address and
 * tftp_https_port: TLS 1.2 (1.3 with tls13) with the HTTPS Ciphers option,
 * presenting the tomcat identity, or CallManager (+ CallManager-ECDSA) when
 * no tomcat is configured; no client certificate is asked for. It serves
 * GET and HEAD of /ITLFile.tlv (404 for any other path, 405 for other
 * methods) and logs each download with the peer and the byte count. An ITL
 * that cannot be built is logged and answered with 404. *tp is NULL (and 0
 * returned) when there is no TLS identity to present. Nothing is copied
 * from cfg by reference. Returns 0, EINVAL (no usable TLS context),
 * EADDRINUSE or another errno of the listen, ENOMEM.
 */
int cm_tftp_start(
    struct cm_tftp **tp, struct event_base *base, const struct cm_config *cfg);

/*
 * SIGHUP: a new TLS context and a freshly built and signed ITL from cfg,
 * for new connections. When either fails, both old ones stay and the
 * reason is logged. The listening address does not change. Returns 0 or
 * the error.
 */
int cm_tftp_reload(struct cm_tftp *t, const struct cm_config *cfg);

/* Stops listening and frees everything; open connections are closed. */
void cm_tftp_free(struct cm_tftp *t);

/* The file being served (len 0: none), for status and tests. */
const struct buf *cm_tftp_itl(const struct cm_tftp *t);

/* The bound port. */
uint16_t cm_tftp_port(const struct cm_tftp *t);

#endif
