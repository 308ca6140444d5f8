/* The voicemail server's ITL: download from the port group's TFTP servers, verification, trust on first use, the stored copy. */
#ifndef NGV_VOICEMAIL_ITL_H
#define NGV_VOICEMAIL_ITL_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tls/profile.h"

struct event_base;
struct buf;

#define VM_ITL_PORT 6972 /* https://<tftp-host>:6972/ITLFile.tlv */

/*
 * What to fetch for one port group, and how. Every pointer is borrowed
 * for the call only: vm_itl_fetch() copies what it keeps.
 */
struct vm_itl_req {
	const char *portgroup;    /* display name; the stored files are
	                             cache_dir/<name>.itl and .meta, with
	                             characters other than [A-Za-z0-9._-]
	                             replaced by '_' */
	const char *const *hosts; /* the TFTP servers, in order: host names */
	size_t nhosts;
	uint16_t port;         /* 0: 6972 */
	const char *cache_dir; /* created (0700) when missing */
	/*
	 * A signer certificate (PEM or DER) to require on first contact
	 * instead of trusting the first ITL (NULL: trust on first use).
	 */
	const char *signer_cert;
	/* TLS toward the TFTP server: the HTTPS Ciphers option. */
	enum tls_ciphers https_ciphers;
	bool allow_tls13;
	/*
	 * tomcat-trust (PEM bundle or store directory; NULL or empty: the
	 * HTTPS server's certificate is not checked, and the ITL's
	 * signature alone protects it). When it holds certificates, the
	 * server's chain must verify against it and carry the TFTP host
	 * name.
	 */
	const char *tomcat_trust;
	unsigned timeout_ms; /* per server; 0: 5000 */
};

/* Where the ITL in effect came from. */
enum vm_itl_source {
	VM_ITL_NONE,    /* no ITL: nothing fetched, nothing stored */
	VM_ITL_FETCHED, /* downloaded and verified now, and stored */
	VM_ITL_STORED,  /* the stored copy (the download failed) */
};

/* The outcome: the ITL in effect and, when err is set, why none was fetched. */
struct vm_itl_result {
	/*
	 * 0: an ITL was downloaded, verified and stored. Otherwise why not:
	 * EINVAL (an IP address given as TFTP server, a bad request),
	 * ETIMEDOUT, ECONNREFUSED / EPROTO (no connection, TLS refused),
	 * ENOENT (HTTP status other than 200), EBADMSG (malformed, bad
	 * signature, signer not trusted, CCM+TFTP record of another name),
	 * EIO (it could not be stored). The reasons are in why.
	 */
	int err;
	enum vm_itl_source source;
	bool tofu;               /* its signer was trusted on first use */
	char url[320];           /* the URL it was downloaded from */
	char signer[512];        /* the signer's subject, Cisco text form */
	char signer_serial[132]; /* hex */
	char sha256[65];         /* of the file, hex */
	size_t nrecords;
	time_t fetched; /* wall clock of that download */
	char why[2048]; /* each server's failure, "; "-separated; for a
	                    stored ITL also a warning saying it is used */
	/*
	 * The certificates to trust for the port group's SIP TLS: those of
	 * the CCM+TFTP and CCM records (CallManager, CallManager-ECDSA).
	 * Owned by the result; take them (set certs to NULL) to keep them.
	 */
	STACK_OF(X509) * certs;
};

/* Frees what a result holds (certs); the struct itself is the caller's. */
void vm_itl_result_clear(struct vm_itl_result *r);

/*
 * The end of a fetch, called once from the event loop. r and what it holds
 * are freed when the handler returns, unless it takes r->certs.
 */
typedef void(vm_itl_h)(struct vm_itl_result *r, void *arg);

struct vm_itl_fetch;

/*
 * Downloads https://<host>:<port>/ITLFile.tlv from each TFTP server in
 * order until one gives an ITL that verifies:
 *  - a host given as an IP address fails with the guide's message (the
 *    TFTP server must be the host name that is the CallManager
 *    certificate's CN);
 *  - the signature must verify: on first contact with signer_cert when
 *    given, else with the file's own SAST record (trust on first use);
 *    with an ITL already stored, with its signer or with a certificate it
 *    lists (docs/security.md);
 *  - a CCM+TFTP record's certificate must carry the host name as its CN
 *    or a DNS SAN.
 * The new ITL is then stored (written to a temporary file, synced,
 * renamed) with its .meta. When every server fails, the stored ITL stays
 * and is the one reported (source VM_ITL_STORED, err and why set).
 * Names under .localhost resolve to loopback; others with getaddrinfo,
 * which blocks. *fp (fp may be NULL) lets the caller cancel; it is
 * invalid once done has been called. Returns 0 (done is called later,
 * exactly once) or EINVAL / ENOMEM (done is never called).
 */
int vm_itl_fetch(struct vm_itl_fetch **fp, struct event_base *base,
    const struct vm_itl_req *req, vm_itl_h *done, void *arg);

/* Stops a fetch in progress; done is not called. NULL is fine. */
void vm_itl_fetch_cancel(struct vm_itl_fetch *f);

/*
 * At start: the stored ITL of req->portgroup, for use until (or when) the
 * TFTP servers cannot be reached. It must verify with its own signer and
 * match the SHA-256 of its .meta. Fills r (source VM_ITL_STORED, certs).
 * Returns 0, ENOENT (nothing stored) or EBADMSG (the stored copy is
 * damaged: r->why says how; it is not used).
 */
int vm_itl_load_stored(const struct vm_itl_req *req, struct vm_itl_result *r);

/* Appends {"source":..,"url":..,"signer":..,"records":N,"fetched":T,...}. */
void vm_itl_result_json(const struct vm_itl_result *r, struct buf *b);

/* "fetched", "stored", "none" */
const char *vm_itl_source_name(enum vm_itl_source s);

#endif
