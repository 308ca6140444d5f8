/* SIP transactions: client and server, INVITE and non-INVITE (RFC 3261 section 17, RFC 6026). */
#ifndef NGV_SIP_TRANS_H
#define NGV_SIP_TRANS_H

#include <stdint.h>

#include "core/buf.h"
#include "sip/msg.h"
#include "sip/transport.h"

struct event_base;
struct sip_stack;
struct sip_ctrans;
struct sip_strans;

/* Timer values in milliseconds (RFC 3261 section 17.1.1.1, table 4). */
struct sip_timers {
	unsigned t1; /* RTT estimate, 500 */
	unsigned t2; /* maximum non-INVITE retransmit interval, 4000 */
	unsigned t4; /* maximum time a message stays in the network, 5000 */
};

struct sip_stack_conf {
	struct sip_tp_conf tp;
	struct sip_timers timers;
	/*
	 * Send UDP responses back to the source address and port of the
	 * request (as if every Via carried rport, RFC 3581) instead of the
	 * port in the Via. Default on: phones sit behind NAT, and answers
	 * then never go anywhere that did not talk to us.
	 */
	bool symmetric_responses;
	const char *user_agent; /* Server/User-Agent value, may be NULL */
};

void sip_stack_conf_default(struct sip_stack_conf *c);

/*
 * A request that no transaction absorbed: a new request, or an ACK for a 2xx
 * (which belongs to no transaction). To answer a request other than ACK,
 * create a server transaction with sip_strans_alloc() from inside the call.
 */
typedef void(sip_req_h)(struct sip_stack *s, const struct sip_msg *m,
    const struct sip_rx *rx, void *arg);

int sip_stack_alloc(struct sip_stack **sp, struct event_base *base,
    const struct sip_stack_conf *conf, sip_req_h *reqh, void *arg);
void sip_stack_free(struct sip_stack *s);
struct sip_tp *sip_stack_tp(struct sip_stack *s);
struct event_base *sip_stack_base(struct sip_stack *s);
const struct sip_stack_conf *sip_stack_conf(const struct sip_stack *s);
/*
 * Called once a TCP/TLS connection failed or was closed by its peer (err
 * says how), after the transactions that waited on it were ended: the
 * transaction user ends what else lived on it, such as calls whose dialog
 * used it. c is borrowed for the call.
 */
typedef void(sip_conn_lost_h)(struct sip_conn *c, int err, void *arg);
void sip_stack_set_conn_lost_h(
    struct sip_stack *s, sip_conn_lost_h *h, void *arg);

/* Number of live client and server transactions. */
unsigned sip_stack_ntrans(const struct sip_stack *s);

/* Writes a fresh RFC 3261 branch ("z9hG4bK" + 22 random chars + NUL). */
void sip_branch_new(char out[32]);
/* Writes a random token for tags and Call-IDs (n-1 chars + NUL). */
void sip_token_new(char *out, size_t n);

/* ---- client transactions (RFC 3261 17.1) ---- */

/*
 * Called for each response (provisional and final) and once on failure with
 * resp NULL and err ETIMEDOUT (Timer B/F) or a transport errno. For INVITE,
 * 2xx retransmissions during the Accepted state (RFC 6026) arrive too. After
 * a final non-2xx, a failure, or when the Accepted state ends, the
 * transaction is gone and no more calls come.
 */
typedef void(sip_resp_h)(int err, const struct sip_msg *resp, void *arg);

/*
 * Sends a request (complete bytes; its top Via carries branch) and runs its
 * client transaction. The stack copies the bytes. For TLS, tls_name is the
 * expected server name (SNI and certificate check), may be NULL. conn, if
 * given, is the connection to prefer (a dialog's or a registration's flow).
 * Returns 0 (and *ctp, borrowed, valid until the final callback) or an errno;
 * on failure resph is never called.
 */
int sip_ctrans_request(struct sip_ctrans **ctp, struct sip_stack *s,
    enum sip_proto proto, const struct sa *dst, const char *tls_name,
    struct sip_conn *conn, const void *req, size_t len, sip_resp_h *resph,
    void *arg);

/* Stops calling back; the transaction finishes its timers alone. */
void sip_ctrans_abandon(struct sip_ctrans *ct);

/*
 * Cancels a pending INVITE (RFC 3261 9.1): sends CANCEL once a provisional
 * response has arrived (or as soon as one does). The INVITE's own final
 * response (487) still comes through its callback.
 */
int sip_ctrans_cancel(struct sip_ctrans *ct);

/* The connection the request went out on (NULL for UDP), borrowed. */
struct sip_conn *sip_ctrans_conn(const struct sip_ctrans *ct);

/* ---- server transactions (RFC 3261 17.2) ---- */

/* Called when a CANCEL matched this INVITE transaction (already answered 200). */
typedef void(sip_cancel_h)(struct sip_strans *st, void *arg);

/*
 * Creates the server transaction for request m (not ACK). For INVITE, 100
 * Trying goes out at once. The transaction is the caller's until it sends
 * a final response; after that the stack owns and frees it.
 */
int sip_strans_alloc(struct sip_strans **stp, struct sip_stack *s,
    const struct sip_msg *m, const struct sip_rx *rx, sip_cancel_h *cancelh,
    void *arg);

/*
 * Sends a response. extra holds CRLF-terminated header lines to add (may be
 * empty); to_tag is added to To when the request had none. A 2xx to INVITE
 * is retransmitted over UDP until the ACK arrives (RFC 3261 13.3.1.4).
 * Returns 0 or an errno (EPROTO after a final response was already sent).
 */
int sip_strans_reply(struct sip_strans *st, uint16_t code, const char *reason,
    struct slice to_tag, struct slice extra, struct slice ctype,
    struct slice body);

/* Sends a response built by the caller (complete bytes). */
int sip_strans_reply_raw(
    struct sip_strans *st, uint16_t code, const void *resp, size_t len);
/* Where it came from. */
const struct sip_rx *sip_strans_rx(const struct sip_strans *st);

/*
 * Answers a request statelessly (no transaction), e.g. for an ACK-less
 * error to a stray request. Used by the stack for CANCEL without match (481).
 */
int sip_stack_reply(struct sip_stack *s, const struct sip_msg *m,
    const struct sip_rx *rx, uint16_t code, const char *reason,
    struct slice to_tag, struct slice extra);

#endif
