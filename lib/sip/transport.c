/* SIP transports on libevent: UDP sockets with batched receive, TCP and TLS streams with framing and limits. */
#include "sip/transport.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/list.h"
#include "core/log.h"
#include "sip/enc.h"
#include "tls/diag.h"
#include "tls/peer.h"

#define UDP_BATCH    8
#define UDP_BUFSZ    65536
#define CONN_BUCKETS 1024

struct udp_sock {
	struct sip_tp *tp;
	int fd;
	struct sa laddr;
	struct event *ev;
};

struct listener {
	struct sip_tp *tp;
	enum sip_proto proto;
	struct sa laddr;
	struct evconnlistener *lev;
	SSL_CTX *ctx; /* borrowed */
};

struct sip_conn {
	struct sip_tp *tp;
	struct list le;  /* in tp->conns */
	struct list hle; /* in its hash bucket */
	enum sip_proto proto;
	struct sa peer;
	struct sa local;
	struct bufferevent *bev;
	X509 *peer_cert; /* owned; set when the chain verified */
	unsigned refs;
	bool outgoing;
	bool established;
	bool closed;
	bool close_after_flush;
	char *tls_name; /* outgoing TLS: the server name it was verified
			       for; NULL for incoming or unchecked */
	/*
	 * The whole handshake must finish in tls_handshake_s: the read
	 * timeout alone restarts with every byte, which a peer sending one
	 * byte a second would use to hold the connection for ever.
	 */
	struct event *hs_deadline;
};

struct sip_tp {
	struct event_base *base;
	struct sip_tp_conf conf;
	sip_tp_msg_h *msgh;
	void *arg;
	struct udp_sock udp[4];
	unsigned nudp;
	struct listener lis[8];
	unsigned nlis;
	SSL_CTX *client_ctx; /* borrowed */
	sip_tp_close_h *closeh;
	void *closearg;
	struct list conns;
	struct list buckets[CONN_BUCKETS];
	struct sip_tp_stats st;
	/* rejected messages logged: at most REJECT_LOG_PER_S a second */
	time_t rej_sec;
	unsigned rej_logged, rej_quiet;
	struct sip_msg msg; /* parse scratch: callbacks are not reentrant */
	char *udpbuf;       /* UDP_BATCH * UDP_BUFSZ */
};

const char *
sip_proto_name(enum sip_proto p)
{
	switch (p) {
	case SIP_PROTO_UDP:
		return "UDP";
	case SIP_PROTO_TCP:
		return "TCP";
	case SIP_PROTO_TLS:
		return "TLS";
	}
	return "?";
}

int
sip_proto_parse(struct slice s, enum sip_proto *p)
{
	if (slice_caseeq_cstr(s, "udp"))
		*p = SIP_PROTO_UDP;
	else if (slice_caseeq_cstr(s, "tcp"))
		*p = SIP_PROTO_TCP;
	else if (slice_caseeq_cstr(s, "tls"))
		*p = SIP_PROTO_TLS;
	else
		return EINVAL;
	return 0;
}

void
sip_tp_conf_default(struct sip_tp_conf *c)
{
	struct sip_limits lim = SIP_LIMITS_DEFAULT;

	memset(c, 0, sizeof(*c));
	c->lim = lim;
	c->max_conns = 4096;
	c->max_conn_buf = 256 * 1024;
	c->idle_timeout_s = 600;
	c->tls_handshake_s = 10;
}

static void
conn_destroy(struct sip_conn *c)
{
	X509_free(c->peer_cert);
	free(c->tls_name);
	free(c);
}

struct sip_conn *
sip_conn_ref(struct sip_conn *c)
{
	if (c)
		c->refs++;
	return c;
}

void
sip_conn_unref(struct sip_conn *c)
{
	if (c == NULL)
		return;
	if (--c->refs == 0)
		conn_destroy(c);
}

bool
sip_conn_open(const struct sip_conn *c)
{
	return c && !c->closed;
}

const struct sa *
sip_conn_peer(const struct sip_conn *c)
{
	return &c->peer;
}

enum sip_proto
sip_conn_proto(const struct sip_conn *c)
{
	return c->proto;
}

SSL *
sip_conn_ssl(const struct sip_conn *c)
{
	if (c->closed || c->proto != SIP_PROTO_TLS || c->bev == NULL)
		return NULL;
	return bufferevent_openssl_get_ssl(c->bev);
}

void
sip_conn_close(struct sip_conn *c)
{
	if (c == NULL || c->closed)
		return;
	c->closed = true;
	list_del(&c->le);
	list_del(&c->hle);
	c->tp->st.conns--;
	if (c->hs_deadline) {
		event_free(c->hs_deadline);
		c->hs_deadline = NULL;
	}
	if (c->bev) {
		if (c->proto == SIP_PROTO_TLS) {
			SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
			if (ssl && c->established)
				SSL_shutdown(ssl);
		}
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	/* the table's reference */
	sip_conn_unref(c);
}

static struct list *
bucket(struct sip_tp *tp, const struct sa *a)
{
	return &tp->buckets[sa_hash(a) % CONN_BUCKETS];
}

/*
 * An open connection to peer. When a TLS server name is asked for, only a
 * connection whose certificate was checked for that name will do: reusing
 * one verified for another name (or none) would skip the check.
 */
static struct sip_conn *
conn_find(struct sip_tp *tp, enum sip_proto proto, const struct sa *peer,
    const char *tls_name)
{
	struct list *head = bucket(tp, peer), *pos;
	bool want_name = proto == SIP_PROTO_TLS && tls_name && *tls_name;

	for (pos = head->next; pos != head; pos = pos->next) {
		struct sip_conn *c = container_of(pos, struct sip_conn, hle);
		if (c->proto != proto || c->closed || !sa_eq(&c->peer, peer))
			continue;
		if (want_name && (c->tls_name == NULL ||
		                     strcasecmp(c->tls_name, tls_name) != 0))
			continue;
		return c;
	}
	return NULL;
}

/* Closes a connection that failed, telling the layer above first. */
static void
conn_fail(struct sip_conn *c, int err)
{
	struct sip_tp *tp = c->tp;

	sip_conn_ref(c);
	sip_conn_close(c);
	if (err && tp->closeh)
		tp->closeh(c, err, tp->closearg);
	/*
	 * The analyzer does not count references: it thinks the close freed
	 * c, but ours above keeps it (here and in conn_read_cb()).
	 */
	sip_conn_unref(c); /* NOLINT(clang-analyzer-unix.Malloc) */
}

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

static void
conn_set_timeout(struct sip_conn *c, unsigned secs)
{
	struct timeval tv = {.tv_sec = secs, .tv_usec = 0};
	bufferevent_set_timeouts(c->bev, secs ? &tv : NULL, NULL);
}

/* Creates a connection object around bev, registered in the table. */
static void
hs_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sip_conn *c = arg;
	char a[SA_FMT_MAX];

	(void)fd;
	(void)what;
	if (c->established || c->closed)
		return;
	log_msg(LOG_INFO,
	    "sip TLS %s: handshake not finished in %u s (a silent or slow "
	    "peer), closed",
	    sa_fmt(&c->peer, a, sizeof(a)), c->tp->conf.tls_handshake_s);
	conn_fail(c, ETIMEDOUT);
}

static struct sip_conn *
conn_new(struct sip_tp *tp, enum sip_proto proto, const struct sa *peer,
    struct bufferevent *bev, bool outgoing)
{
	struct sip_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->tp = tp;
	c->proto = proto;
	c->peer = *peer;
	c->bev = bev;
	c->outgoing = outgoing;
	c->refs = 1; /* held by the table until closed */
	list_add_tail(&tp->conns, &c->le);
	list_add_tail(bucket(tp, peer), &c->hle);
	tp->st.conns++;
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (proto == SIP_PROTO_TLS) {
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
		conn_set_timeout(c, tp->conf.tls_handshake_s);
		struct timeval tv = {.tv_sec = tp->conf.tls_handshake_s};
		c->hs_deadline = evtimer_new(tp->base, hs_deadline_cb, c);
		if (c->hs_deadline)
			evtimer_add(c->hs_deadline, &tv);
	} else {
		c->established = !outgoing;
		conn_set_timeout(c, tp->conf.idle_timeout_s);
	}
	return c;
}

static void
conn_log(struct sip_conn *c, enum log_level lvl, const char *what)
{
	char a[SA_FMT_MAX];
	log_msg(lvl, "sip %s %s: %s", sip_proto_name(c->proto),
	    sa_fmt(&c->peer, a, sizeof(a)), what);
}

static int
conn_tls_established(struct sip_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;

	if (cert && SSL_get_verify_result(ssl) == X509_V_OK)
		c->peer_cert = cert;
	else
		X509_free(cert);
	/*
	 * The guide's X.509 Subject Name: the verified certificate's CN or a
	 * DNS SAN must be one of the expected names.
	 */
	if (c->tls_name && !tls_peer_name_ok(c->peer_cert, c->tls_name)) {
		char a[SA_FMT_MAX], why[800];
		sa_fmt(&c->peer, a, sizeof(a));
		tls_peer_name_why(
		    c->peer_cert, a, c->tls_name, why, sizeof(why));
		log_warn("sip TLS %s: closed: %s", a, why);
		return EPROTO;
	}
	if (log_get_level() >= LOG_DEBUG) {
		char a[SA_FMT_MAX];
		log_debug("sip TLS %s: %s %s, peer certificate %s",
		    sa_fmt(&c->peer, a, sizeof(a)), SSL_get_version(ssl),
		    SSL_get_cipher_name(ssl),
		    c->peer_cert ? "verified" : "none");
	}
	return 0;
}

/* True when e is only the peer's TCP close without close_notify (OpenSSL 3:
 * "unexpected eof while reading"): many phones close that way. */
static bool
tls_dirty_eof(unsigned long e)
{
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
	return e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL &&
	       ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#else
	(void)e;
	return false;
#endif
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sip_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->established = true;
		if (c->hs_deadline) {
			event_free(c->hs_deadline);
			c->hs_deadline = NULL;
		}
		if (c->proto == SIP_PROTO_TLS && conn_tls_established(c) != 0) {
			conn_fail(c, EPROTO);
			return;
		}
		conn_set_timeout(c, c->tp->conf.idle_timeout_s);
		return;
	}
	int err = 0;
	if (what & BEV_EVENT_TIMEOUT) {
		conn_log(c, LOG_INFO,
		    c->established ? "idle, closed" : "handshake timed out");
		err = ETIMEDOUT;
	} else if (what & BEV_EVENT_ERROR) {
		char why[1024], line[1100];
		unsigned long e = bufferevent_get_openssl_error(bev);
		int serr = EVUTIL_SOCKET_ERROR();
		if (c->established && c->proto == SIP_PROTO_TLS &&
		    tls_dirty_eof(e)) {
			/* A close, not an error: libevent 2.1's dirty-shutdown
			 * allowance does not know OpenSSL 3's error for it. */
			conn_log(c, LOG_DEBUG,
			    "closed by peer (without TLS close_notify)");
			conn_fail(c, ECONNRESET);
			return;
		}
		if (c->proto == SIP_PROTO_TLS && !c->established)
			tls_handshake_why(bufferevent_openssl_get_ssl(bev), e,
			    why, sizeof(why));
		else if (e)
			ERR_error_string_n(e, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "%s", strerror(serr));
		snprintf(line, sizeof(line), "%s: %s",
		    c->established
		        ? "connection error"
		        : (c->proto == SIP_PROTO_TLS ? "TLS handshake failed"
		                                     : "connect failed"),
		    why);
		conn_log(c, LOG_WARN, line);
		err = c->established                     ? ECONNRESET
		      : (c->proto == SIP_PROTO_TLS && e) ? EPROTO
		                                         : ECONNREFUSED;
	} else if (what & BEV_EVENT_EOF) {
		conn_log(c, LOG_DEBUG, "closed by peer");
		err = ECONNRESET;
	}
	conn_fail(c, err);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct sip_conn *c = arg;

	if (c->close_after_flush &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		sip_conn_close(c);
}

static int
conn_write(struct sip_conn *c, const void *data, size_t len)
{
	struct evbuffer *out;

	if (c->closed || c->close_after_flush)
		return ECONNRESET;
	out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) + len > c->tp->conf.max_conn_buf) {
		conn_log(c, LOG_WARN,
		    "peer does not read, output limit "
		    "reached; closed");
		sip_conn_close(c);
		return ENOBUFS;
	}
	if (bufferevent_write(c->bev, data, len) != 0)
		return ENOMEM;
	c->tp->st.tx_msgs++;
	return 0;
}

/* Answers a request that did not parse, if it can be answered at all. */
#define REJECT_LOG_PER_S 10

/*
 * One line per malformed or oversized message, so that an administrator
 * sees what a peer sends and what it was told; a flood of them is cut to
 * REJECT_LOG_PER_S lines a second plus one line counting the rest.
 */
static void
reject_log(struct sip_tp *tp, const struct sip_rx *rx, uint16_t status,
    const char *reason)
{
	time_t now = time(NULL);
	char a[SA_FMT_MAX];

	if (now != tp->rej_sec) {
		if (tp->rej_quiet)
			log_info("sip: %u more malformed messages not logged "
			         "(at most %d a second)",
			    tp->rej_quiet, REJECT_LOG_PER_S);
		tp->rej_sec = now;
		tp->rej_logged = tp->rej_quiet = 0;
	}
	if (tp->rej_logged >= REJECT_LOG_PER_S) {
		tp->rej_quiet++;
		return;
	}
	tp->rej_logged++;
	sa_fmt(&rx->peer, a, sizeof(a));
	if (status)
		log_info("sip %s %s: malformed request answered %u: %s",
		    sip_proto_name(rx->proto), a, status, reason);
	else
		log_info("sip %s %s: malformed message dropped: %s",
		    sip_proto_name(rx->proto), a, reason);
}

static void
reply_error(struct sip_tp *tp, const struct sip_msg *m,
    const struct sip_perr *err, const struct sip_rx *rx)
{
	char mem[4096];
	struct buf b;

	tp->st.rx_bad++;
	if (!m->req || !err->can_reply || err->status < 400) {
		reject_log(tp, rx, 0, err->reason);
		return;
	}
	reject_log(tp, rx, err->status, err->reason);
	buf_init_fixed(&b, mem, sizeof(mem));
	if (sip_enc_reply(&b, m, err->status, err->reason, SLICE_NULL,
	        slice_cstr(""), SLICE_NULL, SLICE_NULL) != 0)
		return;
	/* conn_read_cb() holds a reference to rx->conn. */
	if (rx->conn)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		conn_write(rx->conn, b.p, b.len);
	else
		sip_tp_send(
		    tp, SIP_PROTO_UDP, &rx->peer, NULL, NULL, b.p, b.len, NULL);
}

static void
deliver(
    struct sip_tp *tp, const char *p, size_t n, bool stream, struct sip_rx *rx)
{
	struct sip_perr err;

	if (sip_msg_parse(&tp->msg, p, n, stream, &tp->conf.lim, &err) != 0) {
		reply_error(tp, &tp->msg, &err, rx);
		return;
	}
	tp->st.rx_msgs++;
	tp->msgh(&tp->msg, rx, tp->arg);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct sip_conn *c = arg;
	struct sip_tp *tp = c->tp;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct sip_rx rx;

	memset(&rx, 0, sizeof(rx));
	rx.proto = c->proto;
	rx.peer = c->peer;
	rx.local = c->local;
	rx.conn = c;
	rx.peer_cert = c->peer_cert;

	/* The handler may close c; our reference keeps the memory valid. */
	sip_conn_ref(c);
	while (!c->closed && !c->close_after_flush) {
		size_t len = evbuffer_get_length(in), skip, msglen;
		struct sip_perr err;
		const char *data;
		int rc;

		if (len == 0)
			break;
		if (len > tp->conf.max_conn_buf) {
			conn_log(c, LOG_WARN, "input limit reached; closed");
			sip_conn_close(c);
			break;
		}
		data = (const char *)evbuffer_pullup(in, (ssize_t)len);
		memset(&err, 0, sizeof(err));
		rc = sip_msg_frame(
		    data, len, &tp->conf.lim, &skip, &msglen, &err);
		if (skip >= 4 || (skip >= 2 && skip == len && len >= 4)) {
			/* RFC 5626 3.5.1: answer a CRLFCRLF ping with CRLF. */
			tp->st.keepalives++;
			conn_write(c, "\r\n", 2);
		}
		if (rc == ENODATA) {
			if (skip)
				evbuffer_drain(in, skip);
			break;
		}
		if (rc != 0) {
			/*
			 * Framing is lost: answer if the headers allow it,
			 * then close once the answer is out.
			 */
			size_t n = len - skip;
			struct sip_perr perr;
			if (sip_msg_parse(&tp->msg, data + skip, n, false,
			        &tp->conf.lim, &perr) != 0 &&
			    perr.can_reply) {
				reply_error(tp, &tp->msg, &perr, &rx);
			} else if (err.status && tp->msg.req) {
				perr = err;
				perr.can_reply =
				    sip_msg_hdr(&tp->msg, SIP_HDR_VIA) != NULL;
				reply_error(tp, &tp->msg, &perr, &rx);
			} else {
				tp->st.rx_bad++;
			}
			/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): c is held */
			conn_log(c, LOG_INFO,
			    err.reason[0] ? err.reason
			                  : "stream framing lost; closed");
			c->close_after_flush = true;
			evbuffer_drain(in, len);
			if (evbuffer_get_length(bufferevent_get_output(bev)) ==
			    0)
				sip_conn_close(c);
			break;
		}
		deliver(tp, data + skip, msglen, true, &rx);
		if (!c->closed) /* NOLINT(clang-analyzer-unix.Malloc): held */
			evbuffer_drain(in, skip + msglen);
	}
	sip_conn_unref(c); /* NOLINT(clang-analyzer-unix.Malloc): ours */
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct listener *l = arg;
	struct sip_tp *tp = l->tp;
	struct bufferevent *bev;
	struct sip_conn *c;
	struct sa peer;

	(void)lev;
	sa_from(&peer, sa, (socklen_t)salen);
	if (tp->st.conns >= tp->conf.max_conns) {
		char a[SA_FMT_MAX];
		tp->st.conns_refused++;
		log_warn("sip %s %s: refused, %u connections open (limit)",
		    sip_proto_name(l->proto), sa_fmt(&peer, a, sizeof(a)),
		    tp->st.conns);
		evutil_closesocket(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->proto == SIP_PROTO_TLS) {
		SSL *ssl = SSL_new(l->ctx);
		if (ssl == NULL) {
			log_openssl(LOG_ERR, "SSL_new for accepted connection");
			evutil_closesocket(fd);
			return;
		}
		bev = bufferevent_openssl_socket_new(tp->base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	} else {
		bev =
		    bufferevent_socket_new(tp->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c = conn_new(tp, l->proto, &peer, bev, false);
	if (c == NULL) {
		bufferevent_free(bev);
		return;
	}
	c->local = l->laddr;
}

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_sock *u = arg;
	struct sip_tp *tp = u->tp;
	struct mmsghdr mm[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage from[UDP_BATCH];
	int n;

	(void)what;
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < UDP_BATCH; i++) {
		iov[i].iov_base = tp->udpbuf + (size_t)i * UDP_BUFSZ;
		iov[i].iov_len = UDP_BUFSZ;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &from[i];
		mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	n = recvmmsg(fd, mm, UDP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		const char *p = iov[i].iov_base;
		size_t len = mm[i].msg_len;
		struct sip_rx rx;

		/* keep-alives: CRLF pings, STUN binding requests (RFC 5626) */
		if (len <= 4 || p[0] == 0 || p[0] == 1)
			continue;
		memset(&rx, 0, sizeof(rx));
		rx.proto = SIP_PROTO_UDP;
		sa_from(&rx.peer, (struct sockaddr *)&from[i],
		    mm[i].msg_hdr.msg_namelen);
		rx.local = u->laddr;
		deliver(tp, p, len, false, &rx);
	}
}

int
sip_tp_alloc(struct sip_tp **tpp, struct event_base *base,
    const struct sip_tp_conf *conf, sip_tp_msg_h *msgh, void *arg)
{
	struct sip_tp *tp;

	if (tpp == NULL || base == NULL || msgh == NULL)
		return EINVAL;
	tp = calloc(1, sizeof(*tp));
	if (tp == NULL)
		return ENOMEM;
	tp->udpbuf = malloc((size_t)UDP_BATCH * UDP_BUFSZ);
	if (tp->udpbuf == NULL) {
		free(tp);
		return ENOMEM;
	}
	tp->base = base;
	if (conf)
		tp->conf = *conf;
	else
		sip_tp_conf_default(&tp->conf);
	if (tp->conf.lim.max_headers > SIP_HDR_CAP)
		tp->conf.lim.max_headers = SIP_HDR_CAP;
	tp->msgh = msgh;
	tp->arg = arg;
	list_init(&tp->conns);
	for (int i = 0; i < CONN_BUCKETS; i++)
		list_init(&tp->buckets[i]);
	*tpp = tp;
	return 0;
}

void
sip_tp_free(struct sip_tp *tp)
{
	struct list *pos, *tmp;

	if (tp == NULL)
		return;
	list_for_each_safe(pos, tmp, &tp->conns)
	{
		struct sip_conn *c = container_of(pos, struct sip_conn, le);
		c->tp = tp;
		sip_conn_close(c);
	}
	for (unsigned i = 0; i < tp->nudp; i++) {
		event_free(tp->udp[i].ev);
		close(tp->udp[i].fd);
	}
	for (unsigned i = 0; i < tp->nlis; i++)
		evconnlistener_free(tp->lis[i].lev);
	free(tp->udpbuf);
	free(tp);
}

static int
sock_name(int fd, struct sa *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return errno;
	sa_from(out, (struct sockaddr *)&ss, len);
	return 0;
}

int
sip_tp_listen(struct sip_tp *tp, enum sip_proto proto, const struct sa *laddr,
    SSL_CTX *ctx, struct sa *bound)
{
	int err;

	if (tp == NULL || laddr == NULL || (proto == SIP_PROTO_TLS && !ctx))
		return EINVAL;
	if (proto == SIP_PROTO_UDP) {
		struct udp_sock *u;
		int one = 1, fd;

		if (tp->nudp >= sizeof(tp->udp) / sizeof(tp->udp[0]))
			return ENOBUFS;
		fd = socket(sa_family(laddr),
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return errno;
		if (sa_family(laddr) == AF_INET6)
			setsockopt(
			    fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, &laddr->u.sa, laddr->len) != 0) {
			err = errno;
			close(fd);
			return err;
		}
		u = &tp->udp[tp->nudp];
		u->tp = tp;
		u->fd = fd;
		sock_name(fd, &u->laddr);
		u->ev = event_new(
		    tp->base, fd, EV_READ | EV_PERSIST, udp_read_cb, u);
		if (u->ev == NULL || event_add(u->ev, NULL) != 0) {
			if (u->ev)
				event_free(u->ev);
			close(fd);
			return ENOMEM;
		}
		tp->nudp++;
		if (bound)
			*bound = u->laddr;
		return 0;
	}

	struct listener *l;
	if (tp->nlis >= sizeof(tp->lis) / sizeof(tp->lis[0]))
		return ENOBUFS;
	l = &tp->lis[tp->nlis];
	memset(l, 0, sizeof(*l));
	l->tp = tp;
	l->proto = proto;
	l->ctx = ctx;
	l->lev = evconnlistener_new_bind(tp->base, accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    512, &laddr->u.sa, (int)laddr->len);
	if (l->lev == NULL)
		return errno ? errno : EADDRINUSE;
	sock_name(evconnlistener_get_fd(l->lev), &l->laddr);
	tp->nlis++;
	if (bound)
		*bound = l->laddr;
	return 0;
}

void
sip_tp_set_close_h(struct sip_tp *tp, sip_tp_close_h *h, void *arg)
{
	tp->closeh = h;
	tp->closearg = arg;
}

unsigned
sip_tp_replace_tls(struct sip_tp *tp, SSL_CTX *old_ctx, SSL_CTX *new_ctx)
{
	unsigned n = 0;

	for (unsigned i = 0; i < tp->nlis; i++) {
		if (tp->lis[i].ctx == old_ctx) {
			tp->lis[i].ctx = new_ctx;
			n++;
		}
	}
	if (tp->client_ctx == old_ctx) {
		tp->client_ctx = new_ctx;
		n++;
	}
	return n;
}

void
sip_tp_set_client_tls(struct sip_tp *tp, SSL_CTX *ctx)
{
	tp->client_ctx = ctx;
}

int
sip_tp_laddr(
    struct sip_tp *tp, enum sip_proto proto, int family, struct sa *out)
{
	if (proto == SIP_PROTO_UDP) {
		for (unsigned i = 0; i < tp->nudp; i++) {
			if (sa_family(&tp->udp[i].laddr) == family) {
				*out = tp->udp[i].laddr;
				return 0;
			}
		}
		return ENOENT;
	}
	for (unsigned i = 0; i < tp->nlis; i++) {
		if (tp->lis[i].proto == proto &&
		    sa_family(&tp->lis[i].laddr) == family) {
			*out = tp->lis[i].laddr;
			return 0;
		}
	}
	return ENOENT;
}

static struct sip_conn *
conn_connect(struct sip_tp *tp, enum sip_proto proto, const struct sa *dst,
    const char *tls_name, int *errp)
{
	struct bufferevent *bev;
	struct sip_conn *c;

	if (tp->st.conns >= tp->conf.max_conns) {
		*errp = ENOBUFS;
		return NULL;
	}
	if (proto == SIP_PROTO_TLS) {
		SSL *ssl;
		if (tp->client_ctx == NULL) {
			*errp = EINVAL;
			return NULL;
		}
		ssl = SSL_new(tp->client_ctx);
		if (ssl == NULL) {
			*errp = ENOMEM;
			return NULL;
		}
		if (tls_name && *tls_name) {
			/* SNI carries the first of the expected names. */
			char sni[256];
			size_t n = strcspn(tls_name, " ,;:\t");
			if (n >= sizeof(sni))
				n = sizeof(sni) - 1;
			memcpy(sni, tls_name, n);
			sni[n] = '\0';
			SSL_set_tlsext_host_name(ssl, sni);
		}
		bev = bufferevent_openssl_socket_new(tp->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	} else {
		bev =
		    bufferevent_socket_new(tp->base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	if (bev == NULL) {
		*errp = ENOMEM;
		return NULL;
	}
	c = conn_new(tp, proto, dst, bev, true);
	if (c == NULL) {
		bufferevent_free(bev);
		*errp = ENOMEM;
		return NULL;
	}
	if (proto == SIP_PROTO_TLS && tls_name && *tls_name &&
	    (c->tls_name = strdup(tls_name)) == NULL) {
		sip_conn_close(c);
		*errp = ENOMEM;
		return NULL;
	}
	if (bufferevent_socket_connect(bev, &dst->u.sa, (int)dst->len) != 0) {
		*errp = errno ? errno : ECONNREFUSED;
		sip_conn_close(c);
		return NULL;
	}
	int fd = bufferevent_getfd(bev), one = 1;
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		sock_name(fd, &c->local);
	}
	return c;
}

int
sip_tp_send(struct sip_tp *tp, enum sip_proto proto, const struct sa *dst,
    struct sip_conn *conn, const char *tls_name, const void *data, size_t len,
    struct sip_conn **connp)
{
	int err = 0;

	if (tp == NULL || data == NULL)
		return EINVAL;
	if (proto == SIP_PROTO_UDP) {
		if (dst == NULL)
			return EINVAL;
		for (unsigned i = 0; i < tp->nudp; i++) {
			if (sa_family(&tp->udp[i].laddr) != sa_family(dst))
				continue;
			if (sendto(tp->udp[i].fd, data, len, 0, &dst->u.sa,
			        dst->len) < 0)
				return errno;
			tp->st.tx_msgs++;
			if (connp)
				*connp = NULL;
			return 0;
		}
		return EAFNOSUPPORT;
	}

	struct sip_conn *c = NULL;
	if (conn && sip_conn_open(conn) && !conn->close_after_flush)
		c = conn;
	else if (dst)
		c = conn_find(tp, proto, dst, tls_name);
	if (c == NULL) {
		if (dst == NULL)
			return ECONNRESET;
		c = conn_connect(tp, proto, dst, tls_name, &err);
		if (c == NULL)
			return err;
	}
	if ((err = conn_write(c, data, len)) != 0)
		return err;
	if (connp)
		*connp = c;
	return 0;
}

struct sip_conn *
sip_tp_conn(struct sip_tp *tp, enum sip_proto proto, const struct sa *dst)
{
	if (tp == NULL || dst == NULL || proto == SIP_PROTO_UDP)
		return NULL;
	return conn_find(tp, proto, dst, NULL);
}

void
sip_tp_stats(const struct sip_tp *tp, struct sip_tp_stats *st)
{
	*st = tp->st;
}
