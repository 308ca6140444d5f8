/* SIP transports: UDP, TCP and TLS listeners and connections on libevent (RFC 3261 section 18). */
#ifndef NGV_SIP_TRANSPORT_H
#define NGV_SIP_TRANSPORT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/sa.h"
#include "sip/msg.h"

struct event_base;
struct sip_tp;
struct sip_conn;

enum sip_proto { SIP_PROTO_UDP, SIP_PROTO_TCP, SIP_PROTO_TLS };

/* "UDP", "TCP", "TLS" */
const char *sip_proto_name(enum sip_proto p);
/* Parses a Via transport or transport= parameter, case-insensitively. */
int sip_proto_parse(struct slice s, enum sip_proto *p);
static inline bool
sip_proto_stream(enum sip_proto p)
{
	return p != SIP_PROTO_UDP;
}

struct sip_tp_conf {
	struct sip_limits lim;
	unsigned max_conns;       /* open TCP+TLS connections */
	size_t max_conn_buf;      /* bytes queued per connection, each way */
	unsigned idle_timeout_s;  /* close a stream idle this long */
	unsigned tls_handshake_s; /* a handshake must finish in this time */
};

/* Defaults, documented in docs/configuration.md ("Transports"). */
void sip_tp_conf_default(struct sip_tp_conf *c);

/* Where a message came from. Everything here is borrowed for the callback. */
struct sip_rx {
	enum sip_proto proto;
	struct sa peer;
	struct sa local;
	struct sip_conn *conn; /* NULL for UDP; take a reference to keep it */
	X509 *peer_cert;       /* TLS only: the peer's certificate, when its
				  chain verified against our trust store */
};

/*
 * Called for each message that parsed. The message borrows the receive
 * buffer: copy what must outlive the call. Malformed requests never reach it:
 * the transport answers them (400 and friends) itself.
 */
typedef void(sip_tp_msg_h)(
    const struct sip_msg *m, const struct sip_rx *rx, void *arg);

int sip_tp_alloc(struct sip_tp **tpp, struct event_base *base,
    const struct sip_tp_conf *conf, sip_tp_msg_h *msgh, void *arg);
/* Closes every listener and connection. Not from inside a callback. */
void sip_tp_free(struct sip_tp *tp);

/*
 * Opens a listener. ctx is required for TLS (server side; borrowed, must
 * outlive tp). With port 0 the kernel picks one, returned in *bound.
 * Returns 0 or an errno value from socket(2)/bind(2), EINVAL.
 */
int sip_tp_listen(struct sip_tp *tp, enum sip_proto proto,
    const struct sa *laddr, SSL_CTX *ctx, struct sa *bound);

/*
 * Called when a connection fails (refused, handshake failed, reset, timed
 * out) with the errno that says so, after it is closed and before its
 * memory can go: the transaction layer ends what was waiting on it.
 */
typedef void(sip_tp_close_h)(struct sip_conn *c, int err, void *arg);
void sip_tp_set_close_h(struct sip_tp *tp, sip_tp_close_h *h, void *arg);

/* The context used to open outgoing TLS connections (borrowed). */
void sip_tp_set_client_tls(struct sip_tp *tp, SSL_CTX *ctx);

/*
 * Reload (SIGHUP, `ngvoice reload`): listeners that use old_ctx, and the
 * client side if it does, switch to new_ctx. New handshakes use the new
 * certificates and trust; open connections keep the session they have.
 * Both contexts are borrowed; old_ctx may be freed once this returns (each
 * open session holds its own reference). Returns how many places switched.
 */
unsigned sip_tp_replace_tls(
    struct sip_tp *tp, SSL_CTX *old_ctx, SSL_CTX *new_ctx);

/* A local address of a listener for this protocol and family, for Via/Contact. */
int sip_tp_laddr(
    struct sip_tp *tp, enum sip_proto proto, int family, struct sa *out);

/*
 * Sends one message. UDP goes from the listener of the destination's family.
 * TCP/TLS use conn when it is given and still open, else an open connection
 * to dst (reused, never one per request), else a new connection. For TLS,
 * tls_name (may be NULL) holds the names the server's certificate must
 * carry (CN or DNS SAN; several separated by space, comma, semicolon or
 * colon, as the guide's X.509 Subject Name); the first goes out as SNI. *connp, if not NULL, receives the connection used (borrowed).
 * Returns 0, ENOBUFS (limits), ECONNRESET (given connection closed and dst
 * unusable), EINVAL, or a socket errno value.
 */
int sip_tp_send(struct sip_tp *tp, enum sip_proto proto, const struct sa *dst,
    struct sip_conn *conn, const char *tls_name, const void *data, size_t len,
    struct sip_conn **connp);

/*
 * The open connection that sip_tp_send() would use to reach dst over proto
 * (borrowed), or NULL: for status pages and checks.
 */
struct sip_conn *sip_tp_conn(
    struct sip_tp *tp, enum sip_proto proto, const struct sa *dst);

/* References keep a connection's memory (not the socket) alive. */
struct sip_conn *sip_conn_ref(struct sip_conn *c);
void sip_conn_unref(struct sip_conn *c);
/* Closes the socket now; the memory stays until the last reference goes. */
void sip_conn_close(struct sip_conn *c);
bool sip_conn_open(const struct sip_conn *c);
const struct sa *sip_conn_peer(const struct sip_conn *c);
enum sip_proto sip_conn_proto(const struct sip_conn *c);
/* The TLS session, NULL for TCP or before the handshake. */
SSL *sip_conn_ssl(const struct sip_conn *c);

/* Counters for status pages and tests. */
struct sip_tp_stats {
	unsigned conns;
	unsigned long rx_msgs;
	unsigned long rx_bad; /* malformed, answered or dropped */
	unsigned long tx_msgs;
	unsigned long conns_refused;
	unsigned long keepalives; /* CRLF pings answered */
};
void sip_tp_stats(const struct sip_tp *tp, struct sip_tp_stats *st);

#endif
