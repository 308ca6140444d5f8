/* SIP dialogs (RFC 3261 section 12): identity, route set, CSeq, and in-dialog requests. */
#ifndef NGV_SIP_DIALOG_H
#define NGV_SIP_DIALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/sa.h"
#include "sip/msg.h"
#include "sip/transport.h"

/* What goes into a request built outside or inside a dialog. */
struct sip_req_spec {
	const char *method;
	struct slice ruri;     /* Request-URI */
	enum sip_proto proto;  /* for the Via */
	struct slice via_host; /* sent-by host (IPv6 without brackets) */
	uint16_t via_port;
	const char *branch; /* from sip_branch_new() */
	struct slice from;  /* full From value, with its tag */
	struct slice to;    /* full To value */
	struct slice callid;
	uint32_t cseq;
	struct slice contact; /* full Contact value, may be empty */
	struct slice routes;  /* Route header value(s), may be empty */
	struct slice extra;   /* CRLF-terminated header lines, may be empty */
	struct slice ctype;
	struct slice body;
	unsigned max_forwards; /* 0 means 70 */
};

/* Encodes a request from spec (Via with rport). Returns 0 or ENOMEM. */
int sip_req_build(struct buf *b, const struct sip_req_spec *spec);

/*
 * A dialog. All strings are owned copies. The transport fields say where
 * in-dialog requests go: the first route, or the remote target.
 */
struct sip_dialog {
	char *callid;
	char *ltag;
	char *rtag;
	char *lhdr;    /* our From (UAC) / To (UAS) value, with our tag */
	char *rhdr;    /* the peer's value, with its tag */
	char *target;  /* remote target URI (peer's Contact) */
	char *routes;  /* route set as a Route header value, "" if none */
	uint32_t lseq; /* last CSeq we sent */
	uint32_t rseq; /* last CSeq we received, 0 = none yet */
	bool rseq_set;
	uint32_t invite_cseq; /* CSeq of the INVITE, for the ACK of a 2xx */
	bool secure;          /* established over sips / TLS */
	enum sip_proto proto;
	struct sip_conn *conn; /* referenced; preferred flow */
};

/*
 * Creates the UAC side from our request (INVITE/SUBSCRIBE) and a response
 * with a To tag (2xx or 1xx, RFC 3261 12.1.2). Returns 0, EBADMSG (no tag
 * or no Contact) or ENOMEM.
 */
int sip_dialog_uac(struct sip_dialog **dp, const struct sip_msg *req,
    const struct sip_msg *resp, enum sip_proto proto, struct sip_conn *conn);

/* Creates the UAS side from a request (RFC 3261 12.1.1) and our To tag. */
int sip_dialog_uas(struct sip_dialog **dp, const struct sip_msg *req,
    const char *ltag, enum sip_proto proto, struct sip_conn *conn);

void sip_dialog_free(struct sip_dialog *d);

/* True when m (request or response) belongs to d: Call-ID and both tags. */
bool sip_dialog_match(const struct sip_dialog *d, const struct sip_msg *m);

/*
 * Checks and records the CSeq of an in-dialog request (RFC 3261 12.2.2):
 * returns EPROTO when it is lower than the last one (answer 500).
 */
int sip_dialog_check_rseq(struct sip_dialog *d, const struct sip_msg *m);

/* Updates the remote target from a target refresh (re-INVITE, its 2xx). */
int sip_dialog_set_target(struct sip_dialog *d, const struct sip_msg *m);

/*
 * Builds an in-dialog request (RFC 3261 12.2.1.1): Request-URI and Route
 * from the route set (loose or strict routing), From/To/Call-ID from the
 * dialog, CSeq = ++lseq (ACK reuses the INVITE's CSeq). spec supplies the
 * method, Via, branch, contact, extra headers and body; its routing fields
 * are ignored. If next_hop is set it receives the URI to send to.
 */
int sip_dialog_request(struct sip_dialog *d, struct buf *b,
    struct sip_req_spec *spec, struct sip_uri *next_hop, char *hopbuf,
    size_t hopsz);

/*
 * Resolves where to send for a URI (host and port, default per scheme and
 * transport=, ";transport" parameter honoured). Returns 0, EINVAL, ENOENT.
 */
int sip_uri_dest(
    const struct sip_uri *u, struct sa *dst, enum sip_proto *proto);

#endif
