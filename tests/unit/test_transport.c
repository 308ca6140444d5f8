/* Unit tests for the SIP transports over real sockets on loopback: UDP, TCP, mutual TLS, framing and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/sa.h"
#include "sip/enc.h"
#include "sip/msg.h"
#include "sip/trans.h"
#include "sip/transport.h"
#include "testcert.h"

#define SERVER_NAME "sip.ngvoice.localhost"
#define CLIENT_NAME "client.ngvoice.localhost"

/* ------------------------------------------------------------ event loop */

static struct event_base *base;
static struct event *tick;

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One pass of the loop; the 2 ms tick bounds how long it blocks. */
static void
loop_once(void)
{
	event_base_loop(base, EVLOOP_ONCE);
}

static void
run_for(unsigned ms)
{
	uint64_t end = now_ms() + ms;
	while (now_ms() < end)
		loop_once();
}

/* Runs the loop until cond holds or ms pass; check cond afterwards. */
#define WAIT_FOR(cond, ms)                                                     \
	do {                                                                   \
		uint64_t end_ = now_ms() + (ms);                               \
		while (!(cond) && now_ms() < end_)                             \
			loop_once();                                           \
	} while (0)

static int
setup(void **state)
{
	struct timeval tv = {0, 2000};

	(void)state;
	base = event_base_new();
	if (base == NULL)
		return -1;
	tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	if (tick == NULL || event_add(tick, &tv) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	event_free(tick);
	event_base_free(base);
	tick = NULL;
	base = NULL;
	return 0;
}

/* ------------------------------------------------------------ PKI */

static struct testcert ca, other_ca, server_id, client_id, rogue_id;

static int
group_setup(void **state)
{
	(void)state;
	/* NGV_TEST_LOG=debug shows what the transports did. */
	const char *lvl = getenv("NGV_TEST_LOG");
	log_set_level(lvl && strcmp(lvl, "debug") == 0 ? LOG_DEBUG : LOG_ERR);
	if (testcert_make(&ca, "Test CA", NULL) != 0 ||
	    testcert_make(&other_ca, "Other CA", NULL) != 0 ||
	    testcert_make(&server_id, SERVER_NAME, &ca) != 0 ||
	    testcert_make(&client_id, CLIENT_NAME, &ca) != 0 ||
	    testcert_make(&rogue_id, CLIENT_NAME, &other_ca) != 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	testcert_free(&ca);
	testcert_free(&other_ca);
	testcert_free(&server_id);
	testcert_free(&client_id);
	testcert_free(&rogue_id);
	return 0;
}

/* ------------------------------------------------------------ a peer */

/* What a transport handed its handler, copied out. */
struct peer {
	struct sip_tp *tp;
	bool autoreply;    /* answer requests 200 over the same transport */
	bool close_on_msg; /* close the connection from inside the handler */
	size_t bodylen;
	unsigned n; /* messages delivered */
	unsigned nreq;
	unsigned nresp;
	enum sip_proto proto;
	struct sa peer;
	struct sa local;
	struct sip_conn *conn;
	struct sip_conn *conns[8]; /* rx.conn of the first messages */
	bool cert;
	char cn[128];
	char method[32];
	uint16_t scode;
	char callid[64];
};

static void
peer_msg_h(const struct sip_msg *m, const struct sip_rx *rx, void *arg)
{
	struct peer *p = arg;

	if (p->n < sizeof(p->conns) / sizeof(p->conns[0]))
		p->conns[p->n] = rx->conn;
	p->n++;
	p->proto = rx->proto;
	p->peer = rx->peer;
	p->local = rx->local;
	p->conn = rx->conn;
	p->cert = rx->peer_cert != NULL;
	testcert_cn(rx->peer_cert, p->cn, sizeof(p->cn));
	slice_strlcpy(p->callid, sizeof(p->callid), m->callid);
	p->bodylen = m->body.n;
	if (m->req) {
		p->nreq++;
		slice_strlcpy(p->method, sizeof(p->method), m->method);
	} else {
		p->nresp++;
		p->scode = m->scode;
	}
	if (p->autoreply && m->req) {
		struct buf b;
		buf_init(&b);
		assert_int_equal(
		    sip_enc_reply(&b, m, 200, NULL, SLICE_LIT("srv"),
		        SLICE_NULL, SLICE_NULL, SLICE_NULL),
		    0);
		assert_int_equal(sip_tp_send(p->tp, rx->proto, &rx->peer,
		                     rx->conn, NULL, b.p, b.len, NULL),
		    0);
		buf_free(&b);
	}
	if (p->close_on_msg && rx->conn)
		sip_conn_close(rx->conn);
}

static void
peer_init(struct peer *p, const struct sip_tp_conf *conf)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(sip_tp_alloc(&p->tp, base, conf, peer_msg_h, p), 0);
}

static void
peer_listen(struct peer *p, enum sip_proto proto, const char *ip, SSL_CTX *ctx,
    struct sa *bound)
{
	struct sa a;

	assert_int_equal(sa_set_str(&a, ip, 0), 0);
	assert_int_equal(sip_tp_listen(p->tp, proto, &a, ctx, bound), 0);
	assert_int_not_equal(sa_port(bound), 0);
}

static struct sip_tp_stats
stats(const struct peer *p)
{
	struct sip_tp_stats st;
	sip_tp_stats(p->tp, &st);
	return st;
}

/* A complete request with a fresh branch; from names the Via sent-by. */
static void
mk_req(struct buf *b, const char *method, enum sip_proto proto,
    const struct sa *from, const char *callid, uint32_t cseq)
{
	char branch[32], sentby[SA_FMT_MAX], via[160];

	sip_branch_new(branch);
	if (from)
		sa_fmt(from, sentby, sizeof(sentby));
	else
		snprintf(sentby, sizeof(sentby), "127.0.0.1:5060");
	snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%s;rport",
	    sip_proto_name(proto), sentby, branch);
	sip_enc_request_line(
	    b, slice_cstr(method), SLICE_LIT("sip:echo@ngvoice.localhost"));
	sip_enc_hdr_id(b, SIP_HDR_VIA, slice_cstr(via));
	sip_enc_hdr_u64(b, SIP_HDR_MAX_FORWARDS, 70);
	sip_enc_hdr_id(
	    b, SIP_HDR_FROM, SLICE_LIT("<sip:test@ngvoice.localhost>;tag=f00"));
	sip_enc_hdr_id(
	    b, SIP_HDR_TO, SLICE_LIT("<sip:echo@ngvoice.localhost>"));
	sip_enc_hdr_id(b, SIP_HDR_CALL_ID, slice_cstr(callid));
	sip_enc_cseq(b, cseq, slice_cstr(method));
	sip_enc_body(b, SLICE_NULL, SLICE_NULL);
	assert_int_equal(b->err, 0);
}

/* ------------------------------------------------------------ raw sockets */

static int
raw_connect(const struct sa *dst)
{
	int fd = socket(sa_family(dst), SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	/* Loopback connects complete in the kernel before the accept. */
	assert_int_equal(connect(fd, &dst->u.sa, dst->len), 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void
raw_send(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/*
 * Collects what the peer sends while the loop runs, until want shows up
 * (NULL: until the peer closes) or ms pass. Returns the byte count; *closed
 * tells whether the peer closed or reset the connection.
 */
static size_t
raw_read(
    int fd, char *buf, size_t sz, const char *want, unsigned ms, bool *closed)
{
	uint64_t end = now_ms() + ms;
	size_t len = 0;

	*closed = false;
	buf[0] = '\0';
	while (now_ms() < end) {
		ssize_t r = recv(fd, buf + len, sz - 1 - len, MSG_DONTWAIT);
		if (r > 0) {
			len += (size_t)r;
			buf[len] = '\0';
			if (want && strstr(buf, want))
				break;
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			*closed = true;
			break;
		}
		loop_once();
	}
	return len;
}

/* ------------------------------------------------------------ tests */

static const char *const families[] = {"127.0.0.1", "::1"};

static void
test_udp(void **state)
{
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct peer a, b;
		struct sa abound, bbound;
		struct sip_conn *conn = NULL;
		struct buf m;

		peer_init(&a, NULL);
		peer_init(&b, NULL);
		b.autoreply = true;
		peer_listen(&a, SIP_PROTO_UDP, families[i], NULL, &abound);
		peer_listen(&b, SIP_PROTO_UDP, families[i], NULL, &bbound);

		buf_init(&m);
		mk_req(&m, "OPTIONS", SIP_PROTO_UDP, &abound, "udp-1", 1);
		assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_UDP, &bbound, NULL,
		                     NULL, m.p, m.len, &conn),
		    0);
		assert_null(conn); /* UDP has no connection */
		WAIT_FOR(b.n == 1 && a.n == 1, 2000);

		/* the request, as the server saw it */
		assert_int_equal(b.n, 1);
		assert_int_equal(b.proto, SIP_PROTO_UDP);
		assert_true(sa_eq(&b.peer, &abound));
		assert_true(sa_eq(&b.local, &bbound));
		assert_null(b.conn);
		assert_false(b.cert);
		assert_string_equal(b.method, "OPTIONS");
		assert_string_equal(b.callid, "udp-1");
		/* the answer, back from the server's UDP socket */
		assert_int_equal(a.n, 1);
		assert_int_equal(a.nresp, 1);
		assert_int_equal(a.scode, 200);
		assert_true(sa_eq(&a.peer, &bbound));
		assert_true(sa_eq(&a.local, &abound));
		assert_string_equal(a.callid, "udp-1");
		assert_int_equal(stats(&a).tx_msgs, 1);
		assert_int_equal(stats(&b).rx_msgs, 1);
		assert_int_equal(stats(&b).conns, 0);

		/* a CRLF ping and a STUN-looking datagram are not messages */
		int fd = socket(sa_family(&bbound), SOCK_DGRAM, 0);
		assert_true(fd >= 0);
		assert_int_equal(
		    sendto(fd, "\r\n\r\n", 4, 0, &bbound.u.sa, bbound.len), 4);
		run_for(50);
		assert_int_equal(b.n, 1);
		assert_int_equal(stats(&b).rx_bad, 0);
		close(fd);

		buf_free(&m);
		sip_tp_free(a.tp);
		sip_tp_free(b.tp);
	}
}

static void
test_tcp(void **state)
{
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct peer a, b;
		struct sa abound, bbound;
		struct sip_conn *c1 = NULL, *c2 = NULL;
		struct buf m1, m2;

		peer_init(&a, NULL);
		peer_init(&b, NULL);
		b.autoreply = true;
		peer_listen(&a, SIP_PROTO_TCP, families[i], NULL, &abound);
		peer_listen(&b, SIP_PROTO_TCP, families[i], NULL, &bbound);

		buf_init(&m1);
		buf_init(&m2);
		mk_req(&m1, "OPTIONS", SIP_PROTO_TCP, &abound, "tcp-1", 1);
		mk_req(&m2, "OPTIONS", SIP_PROTO_TCP, &abound, "tcp-2", 2);
		assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TCP, &bbound, NULL,
		                     NULL, m1.p, m1.len, &c1),
		    0);
		assert_non_null(c1);
		/* the second takes the same connection, before it is even up */
		assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TCP, &bbound, NULL,
		                     NULL, m2.p, m2.len, &c2),
		    0);
		assert_ptr_equal(c1, c2);
		assert_int_equal(sip_conn_proto(c1), SIP_PROTO_TCP);
		assert_true(sa_eq(sip_conn_peer(c1), &bbound));
		assert_null(sip_conn_ssl(c1));
		WAIT_FOR(b.n == 2 && a.n == 2, 2000);

		assert_int_equal(b.n, 2);
		assert_int_equal(b.proto, SIP_PROTO_TCP);
		assert_non_null(b.conns[0]);
		assert_ptr_equal(b.conns[0], b.conns[1]);
		assert_true(sa_eq(&b.peer, sip_conn_peer(b.conns[0])));
		assert_true(sa_eq(&b.local, &bbound));
		assert_true(sa_is_loopback(&b.peer));
		assert_int_equal(sa_family(&b.peer), sa_family(&bbound));
		assert_false(b.cert);
		assert_string_equal(b.callid, "tcp-2");
		/* answers come back over the same connection */
		assert_int_equal(a.nresp, 2);
		assert_ptr_equal(a.conns[0], c1);
		assert_ptr_equal(a.conns[1], c1);
		assert_true(sa_eq(&a.peer, &bbound));
		/* each end's local address is the other's peer */
		assert_true(sa_eq(&a.local, &b.peer));
		assert_int_equal(stats(&a).conns, 1);
		assert_int_equal(stats(&b).conns, 1);

		/* a third, after the connection is up, reuses it too */
		struct sip_conn *c3 = NULL;
		assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TCP, &bbound, NULL,
		                     NULL, m1.p, m1.len, &c3),
		    0);
		assert_ptr_equal(c3, c1);
		WAIT_FOR(b.n == 3, 2000);
		assert_int_equal(b.n, 3);
		assert_int_equal(stats(&a).conns, 1);

		/* closing one end closes the other */
		sip_conn_ref(c1);
		sip_conn_close(c1);
		assert_false(sip_conn_open(c1));
		sip_conn_unref(c1);
		assert_int_equal(stats(&a).conns, 0);
		WAIT_FOR(stats(&b).conns == 0, 2000);
		assert_int_equal(stats(&b).conns, 0);

		buf_free(&m1);
		buf_free(&m2);
		sip_tp_free(a.tp);
		sip_tp_free(b.tp);
	}
}

static void
test_tcp_connect_refused(void **state)
{
	struct peer a;
	struct sa dst;
	struct sip_conn *c = NULL;
	struct buf m;
	int fd;

	(void)state;
	peer_init(&a, NULL);
	/* a port nobody listens on: bound but never listened to */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(sa_set_str(&dst, "127.0.0.1", 0), 0);
	assert_int_equal(bind(fd, &dst.u.sa, dst.len), 0);
	socklen_t len = sizeof(dst.u.ss);
	getsockname(fd, &dst.u.sa, &len);
	buf_init(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "refused", 1);
	int err =
	    sip_tp_send(a.tp, SIP_PROTO_TCP, &dst, NULL, NULL, m.p, m.len, &c);
	if (err == 0) {
		sip_conn_ref(c);
		WAIT_FOR(!sip_conn_open(c), 2000);
		assert_false(sip_conn_open(c));
		sip_conn_unref(c);
	} else {
		assert_int_equal(err, ECONNREFUSED);
	}
	assert_int_equal(stats(&a).conns, 0);
	buf_free(&m);
	close(fd);
	sip_tp_free(a.tp);
}

static void
test_tls(void **state)
{
	SSL_CTX *sctx = testcert_ctx(true, &server_id, &ca);
	SSL_CTX *cctx = testcert_ctx(false, &client_id, &ca);

	(void)state;
	assert_non_null(sctx);
	assert_non_null(cctx);
	for (size_t i = 0; i < 2; i++) {
		struct peer a, b;
		struct sa bbound;
		struct sip_conn *c1 = NULL, *c2 = NULL;
		struct buf m1, m2;

		peer_init(&a, NULL);
		peer_init(&b, NULL);
		b.autoreply = true;
		sip_tp_set_client_tls(a.tp, cctx);
		peer_listen(&b, SIP_PROTO_TLS, families[i], sctx, &bbound);

		buf_init(&m1);
		buf_init(&m2);
		mk_req(&m1, "OPTIONS", SIP_PROTO_TLS, NULL, "tls-1", 1);
		mk_req(&m2, "OPTIONS", SIP_PROTO_TLS, NULL, "tls-2", 2);
		assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TLS, &bbound, NULL,
		                     SERVER_NAME, m1.p, m1.len, &c1),
		    0);
		assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TLS, &bbound, NULL,
		                     SERVER_NAME, m2.p, m2.len, &c2),
		    0);
		assert_non_null(c1);
		assert_ptr_equal(c1, c2);
		WAIT_FOR(b.n == 2 && a.n == 2, 5000);

		/* the server saw the client's verified certificate */
		assert_int_equal(b.n, 2);
		assert_int_equal(b.proto, SIP_PROTO_TLS);
		assert_true(b.cert);
		assert_string_equal(b.cn, CLIENT_NAME);
		assert_ptr_equal(b.conns[0], b.conns[1]);
		assert_true(sa_is_loopback(&b.peer));
		assert_string_equal(b.callid, "tls-2");
		/* and the client the server's */
		assert_int_equal(a.nresp, 2);
		assert_int_equal(a.proto, SIP_PROTO_TLS);
		assert_true(a.cert);
		assert_string_equal(a.cn, SERVER_NAME);
		assert_ptr_equal(a.conns[0], c1);
		assert_true(sa_eq(&a.peer, &bbound));
		assert_true(sa_eq(&b.local, &bbound));
		assert_true(sa_eq(&a.local, &b.peer));
		assert_int_equal(stats(&a).conns, 1);
		assert_int_equal(stats(&b).conns, 1);

		SSL *ssl = sip_conn_ssl(c1);
		assert_non_null(ssl);
		assert_true(SSL_version(ssl) >= TLS1_2_VERSION);
		ssl = sip_conn_ssl(b.conns[0]);
		assert_non_null(ssl);
		assert_true(SSL_version(ssl) >= TLS1_2_VERSION);

		buf_free(&m1);
		buf_free(&m2);
		sip_tp_free(a.tp);
		sip_tp_free(b.tp);
	}
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/*
 * Reload: the server's certificate is replaced while a connection is open.
 * A new handshake sees the new certificate; the open connection keeps
 * working on its old session.
 */
static void
test_tls_reload(void **state)
{
	struct testcert new_id;
	SSL_CTX *sctx = testcert_ctx(true, &server_id, &ca);
	SSL_CTX *cctx = testcert_ctx(false, &client_id, &ca);
	SSL_CTX *sctx2;
	struct peer a, a2, b;
	struct sa bbound;
	struct sip_conn *c1 = NULL, *c2 = NULL;
	struct buf m;
	char cn[128];

	(void)state;
	assert_int_equal(testcert_make(&new_id, SERVER_NAME, &ca), 0);
	sctx2 = testcert_ctx(true, &new_id, &ca);
	assert_non_null(sctx2);
	peer_init(&a, NULL);
	peer_init(&a2, NULL);
	peer_init(&b, NULL);
	b.autoreply = true;
	sip_tp_set_client_tls(a.tp, cctx);
	sip_tp_set_client_tls(a2.tp, cctx);
	peer_listen(&b, SIP_PROTO_TLS, "127.0.0.1", sctx, &bbound);

	buf_init(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TLS, NULL, "before", 1);
	assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TLS, &bbound, NULL,
	                     SERVER_NAME, m.p, m.len, &c1),
	    0);
	WAIT_FOR(a.nresp == 1, 5000);
	assert_int_equal(a.nresp, 1);
	X509 *old_cert = SSL_get0_peer_certificate(sip_conn_ssl(c1));
	assert_int_equal(X509_cmp(old_cert, server_id.cert), 0);

	/* reload: the old context goes away at once */
	assert_int_equal(sip_tp_replace_tls(b.tp, sctx, sctx2), 1);
	SSL_CTX_free(sctx);

	/* a new connection sees the new certificate */
	buf_reset(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TLS, NULL, "after", 1);
	assert_int_equal(sip_tp_send(a2.tp, SIP_PROTO_TLS, &bbound, NULL,
	                     SERVER_NAME, m.p, m.len, &c2),
	    0);
	WAIT_FOR(a2.nresp == 1, 5000);
	assert_int_equal(a2.nresp, 1);
	assert_int_equal(
	    X509_cmp(SSL_get0_peer_certificate(sip_conn_ssl(c2)), new_id.cert),
	    0);
	assert_string_equal(
	    testcert_cn(new_id.cert, cn, sizeof(cn)), SERVER_NAME);

	/* the old connection still carries requests */
	buf_reset(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TLS, NULL, "still", 2);
	struct sip_conn *c3 = NULL;
	assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TLS, &bbound, NULL,
	                     SERVER_NAME, m.p, m.len, &c3),
	    0);
	assert_ptr_equal(c3, c1);
	WAIT_FOR(a.nresp == 2, 5000);
	assert_int_equal(a.nresp, 2);
	assert_string_equal(a.callid, "still");

	buf_free(&m);
	sip_tp_free(a.tp);
	sip_tp_free(a2.tp);
	sip_tp_free(b.tp);
	SSL_CTX_free(sctx2);
	SSL_CTX_free(cctx);
	testcert_free(&new_id);
}

/* A client the server must turn away: the handshake fails, nothing arrives. */
static void
tls_refused(SSL_CTX *sctx, SSL_CTX *cctx, const char *tls_name)
{
	struct peer a, b;
	struct sa bbound;
	struct sip_conn *c = NULL;
	struct buf m;

	peer_init(&a, NULL);
	peer_init(&b, NULL);
	b.autoreply = true;
	sip_tp_set_client_tls(a.tp, cctx);
	peer_listen(&b, SIP_PROTO_TLS, "127.0.0.1", sctx, &bbound);

	buf_init(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TLS, NULL, "tls-bad", 1);
	assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TLS, &bbound, NULL,
	                     tls_name, m.p, m.len, &c),
	    0);
	assert_non_null(c);
	sip_conn_ref(c);
	/* wait until the server has seen the connection and dropped it */
	WAIT_FOR(!sip_conn_open(c) && stats(&b).conns == 0 &&
	             stats(&b).rx_msgs + stats(&b).rx_bad == 0,
	    5000);
	run_for(50);
	assert_false(sip_conn_open(c));
	assert_int_equal(stats(&a).conns, 0);
	assert_int_equal(stats(&b).conns, 0);
	assert_int_equal(b.n, 0);
	assert_int_equal(a.n, 0);
	sip_conn_unref(c);

	buf_free(&m);
	sip_tp_free(a.tp);
	sip_tp_free(b.tp);
}

static void
test_tls_no_client_cert(void **state)
{
	SSL_CTX *sctx = testcert_ctx(true, &server_id, &ca);
	SSL_CTX *cctx = testcert_ctx(false, NULL, &ca);

	(void)state;
	assert_non_null(sctx);
	assert_non_null(cctx);
	tls_refused(sctx, cctx, SERVER_NAME);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

static void
test_tls_other_ca(void **state)
{
	SSL_CTX *sctx = testcert_ctx(true, &server_id, &ca);
	/* trusts the right CA but presents a certificate from another one */
	SSL_CTX *cctx = testcert_ctx(false, &rogue_id, &ca);

	(void)state;
	assert_non_null(sctx);
	assert_non_null(cctx);
	tls_refused(sctx, cctx, SERVER_NAME);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

static void
test_tls_wrong_server(void **state)
{
	SSL_CTX *sctx = testcert_ctx(true, &server_id, &ca);
	SSL_CTX *cctx = testcert_ctx(false, &client_id, &ca);
	SSL_CTX *cctx2 = testcert_ctx(false, &client_id, &other_ca);

	(void)state;
	assert_non_null(sctx);
	assert_non_null(cctx);
	assert_non_null(cctx2);
	/* the server's certificate does not name the host we asked for */
	tls_refused(sctx, cctx, "cucm.ngvoice.localhost");
	/* the server's certificate is not from a CA the client trusts */
	tls_refused(sctx, cctx2, SERVER_NAME);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	SSL_CTX_free(cctx2);
}

/* A raw TCP client against a listener; lim may shrink the limits. */
struct rawsrv {
	struct peer b;
	struct sa bound;
};

static void
rawsrv_init(struct rawsrv *r, const struct sip_tp_conf *conf)
{
	peer_init(&r->b, conf);
	peer_listen(&r->b, SIP_PROTO_TCP, "127.0.0.1", NULL, &r->bound);
}

static void
test_stream_split(void **state)
{
	struct rawsrv r;
	struct buf m;
	char rbuf[4096];
	bool closed;
	int fd;

	(void)state;
	rawsrv_init(&r, NULL);
	r.b.autoreply = true;
	fd = raw_connect(&r.bound);
	buf_init(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "split", 1);

	/* one byte per write, the loop running in between */
	for (size_t i = 0; i < m.len; i++) {
		raw_send(fd, m.p + i, 1);
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (i % 16 == 0)
			loop_once();
	}
	raw_read(fd, rbuf, sizeof(rbuf), "\r\n\r\n", 2000, &closed);
	assert_false(closed);
	assert_non_null(strstr(rbuf, "SIP/2.0 200 OK\r\n"));
	run_for(50);
	assert_int_equal(r.b.n, 1);
	assert_string_equal(r.b.callid, "split");
	assert_int_equal(stats(&r.b).rx_bad, 0);

	/* a body split from its headers waits for the rest */
	buf_reset(&m);
	{
		char branch[32], via[96];
		sip_branch_new(branch);
		snprintf(via, sizeof(via),
		    "SIP/2.0/TCP 127.0.0.1:5060;branch=%s", branch);
		sip_enc_request_line(&m, SLICE_LIT("MESSAGE"),
		    SLICE_LIT("sip:echo@ngvoice.localhost"));
		sip_enc_hdr_id(&m, SIP_HDR_VIA, slice_cstr(via));
		sip_enc_hdr_id(&m, SIP_HDR_FROM,
		    SLICE_LIT("<sip:test@ngvoice.localhost>;tag=f00"));
		sip_enc_hdr_id(
		    &m, SIP_HDR_TO, SLICE_LIT("<sip:echo@ngvoice.localhost>"));
		sip_enc_hdr_id(&m, SIP_HDR_CALL_ID, SLICE_LIT("body"));
		sip_enc_cseq(&m, 2, SLICE_LIT("MESSAGE"));
		sip_enc_body(&m, SLICE_LIT("text/plain"), SLICE_LIT("hello"));
	}
	raw_send(fd, m.p, m.len - 3);
	run_for(50);
	assert_int_equal(r.b.n, 1);
	raw_send(fd, m.p + m.len - 3, 3);
	WAIT_FOR(r.b.n == 2, 2000);
	assert_int_equal(r.b.n, 2);
	assert_string_equal(r.b.method, "MESSAGE");

	buf_free(&m);
	close(fd);
	sip_tp_free(r.b.tp);
}

static void
test_stream_two_in_one(void **state)
{
	struct rawsrv r;
	struct buf m;
	char rbuf[4096];
	bool closed;
	int fd;

	(void)state;
	rawsrv_init(&r, NULL);
	fd = raw_connect(&r.bound);
	buf_init(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "first", 1);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "second", 2);
	raw_send(fd, m.p, m.len);
	WAIT_FOR(r.b.n == 2, 2000);
	run_for(50);
	assert_int_equal(r.b.n, 2);
	assert_string_equal(r.b.callid, "second");
	assert_ptr_equal(r.b.conns[0], r.b.conns[1]);

	/* a keep-alive ping gets its pong; the stream still works after */
	raw_send(fd, "\r\n\r\n", 4);
	size_t n = raw_read(fd, rbuf, sizeof(rbuf), "\r\n", 2000, &closed);
	assert_false(closed);
	assert_int_equal(n, 2);
	assert_memory_equal(rbuf, "\r\n", 2);
	assert_int_equal(stats(&r.b).keepalives, 1);
	assert_int_equal(r.b.n, 2);

	/* a ping in front of a message: pong, then the message */
	buf_reset(&m);
	BUF_LIT(&m, "\r\n\r\n");
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "third", 3);
	raw_send(fd, m.p, m.len);
	n = raw_read(fd, rbuf, sizeof(rbuf), "\r\n", 2000, &closed);
	assert_int_equal(n, 2);
	WAIT_FOR(r.b.n == 3, 2000);
	assert_int_equal(r.b.n, 3);
	assert_string_equal(r.b.callid, "third");
	assert_int_equal(stats(&r.b).keepalives, 2);
	assert_int_equal(stats(&r.b).rx_bad, 0);

	buf_free(&m);
	close(fd);
	sip_tp_free(r.b.tp);
}

static void
test_stream_header_limit(void **state)
{
	struct sip_tp_conf conf;
	struct rawsrv r;
	struct buf m;
	char rbuf[4096];
	bool closed;
	int fd;

	(void)state;
	sip_tp_conf_default(&conf);
	conf.lim.max_header_bytes = 2048;
	rawsrv_init(&r, &conf);
	fd = raw_connect(&r.bound);

	/* a request whose header section never ends within the limit */
	buf_init(&m);
	BUF_LIT(&m, "OPTIONS sip:echo@ngvoice.localhost SIP/2.0\r\n"
	            "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKbig\r\n");
	for (int i = 0; i < 100; i++)
		buf_printf(&m, "X-Pad-%d: %040d\r\n", i, i);
	assert_true(m.len > 2 * conf.lim.max_header_bytes);
	raw_send(fd, m.p, m.len);
	raw_read(fd, rbuf, sizeof(rbuf), NULL, 3000, &closed);
	assert_true(closed);
	assert_int_equal(r.b.n, 0);
	assert_true(stats(&r.b).rx_bad >= 1);
	WAIT_FOR(stats(&r.b).conns == 0, 2000);
	assert_int_equal(stats(&r.b).conns, 0);
	close(fd);

	/* a header section that fits is fine on a fresh connection */
	fd = raw_connect(&r.bound);
	buf_reset(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "small", 1);
	raw_send(fd, m.p, m.len);
	WAIT_FOR(r.b.n == 1, 2000);
	assert_int_equal(r.b.n, 1);

	buf_free(&m);
	close(fd);
	sip_tp_free(r.b.tp);
}

static void
test_stream_malformed(void **state)
{
	struct rawsrv r;
	struct sip_msg resp;
	struct sip_perr perr;
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	char rbuf[4096];
	bool closed;
	size_t n;
	int fd;

	(void)state;
	rawsrv_init(&r, NULL);
	fd = raw_connect(&r.bound);

	/* frames fine, does not validate: 400 naming the problem, stays open */
	static const char bad_cseq[] =
	    "OPTIONS sip:echo@ngvoice.localhost SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKbad1\r\n"
	    "From: <sip:test@ngvoice.localhost>;tag=1\r\n"
	    "To: <sip:echo@ngvoice.localhost>\r\n"
	    "Call-ID: bad-cseq\r\n"
	    "CSeq: 1 INVITE\r\n"
	    "Content-Length: 0\r\n\r\n";
	raw_send(fd, bad_cseq, sizeof(bad_cseq) - 1);
	n = raw_read(fd, rbuf, sizeof(rbuf), "\r\n\r\n", 2000, &closed);
	assert_false(closed);
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&resp, rbuf, n, true, &lim, &perr), 0);
	assert_false(resp.req);
	assert_int_equal(resp.scode, 400);
	assert_true(slice_eq_cstr(
	    resp.reason, "CSeq method does not match request method"));
	assert_true(slice_eq_cstr(resp.callid, "bad-cseq"));
	assert_true(slice_eq_cstr(resp.via.branch, "z9hG4bKbad1"));
	assert_int_equal(r.b.n, 0);
	assert_int_equal(stats(&r.b).rx_bad, 1);

	/* the connection still carries good requests */
	struct buf m;
	buf_init(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "good", 2);
	raw_send(fd, m.p, m.len);
	WAIT_FOR(r.b.n == 1, 2000);
	assert_int_equal(r.b.n, 1);
	assert_int_equal(stats(&r.b).conns, 1);

	/* framing lost (Content-Length unreadable): 400, then closed */
	static const char bad_clen[] =
	    "OPTIONS sip:echo@ngvoice.localhost SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKbad2\r\n"
	    "From: <sip:test@ngvoice.localhost>;tag=1\r\n"
	    "To: <sip:echo@ngvoice.localhost>\r\n"
	    "Call-ID: bad-clen\r\n"
	    "CSeq: 3 OPTIONS\r\n"
	    "Content-Length: many\r\n\r\n";
	raw_send(fd, bad_clen, sizeof(bad_clen) - 1);
	n = raw_read(fd, rbuf, sizeof(rbuf), NULL, 3000, &closed);
	assert_true(closed);
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&resp, rbuf, n, true, &lim, &perr), 0);
	assert_int_equal(resp.scode, 400);
	assert_true(resp.reason.n > 0);
	assert_non_null(
	    memmem(resp.reason.p, resp.reason.n, "Content-Length", 14));
	assert_true(slice_eq_cstr(resp.callid, "bad-clen"));
	assert_int_equal(r.b.n, 1);
	WAIT_FOR(stats(&r.b).conns == 0, 2000);
	assert_int_equal(stats(&r.b).conns, 0);

	buf_free(&m);
	close(fd);
	sip_tp_free(r.b.tp);
}

static void
test_udp_malformed(void **state)
{
	struct peer b;
	struct sa bound;
	struct sip_msg resp;
	struct sip_perr perr;
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	char rbuf[4096];
	int fd;

	(void)state;
	peer_init(&b, NULL);
	peer_listen(&b, SIP_PROTO_UDP, "127.0.0.1", NULL, &bound);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	static const char bad_cseq[] =
	    "OPTIONS sip:echo@ngvoice.localhost SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbad1;rport\r\n"
	    "From: <sip:test@ngvoice.localhost>;tag=1\r\n"
	    "To: <sip:echo@ngvoice.localhost>\r\n"
	    "Call-ID: bad-udp\r\n"
	    "CSeq: 1 INVITE\r\n\r\n";
	assert_int_equal(sendto(fd, bad_cseq, sizeof(bad_cseq) - 1, 0,
	                     &bound.u.sa, bound.len),
	    (ssize_t)sizeof(bad_cseq) - 1);
	ssize_t n = -1;
	uint64_t end = now_ms() + 2000;
	while (now_ms() < end) {
		n = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (n > 0)
			break;
		loop_once();
	}
	assert_true(n > 0);
	assert_int_equal(
	    sip_msg_parse(&resp, rbuf, (size_t)n, false, &lim, &perr), 0);
	assert_int_equal(resp.scode, 400);
	assert_true(slice_eq_cstr(
	    resp.reason, "CSeq method does not match request method"));
	assert_int_equal(b.n, 0);
	assert_int_equal(stats(&b).rx_bad, 1);
	close(fd);
	sip_tp_free(b.tp);
}

static void
test_idle_timeout(void **state)
{
	struct sip_tp_conf conf;
	struct rawsrv r;
	struct buf m;
	char rbuf[256];
	bool closed;
	int fd;

	(void)state;
	sip_tp_conf_default(&conf);
	conf.idle_timeout_s = 1;
	rawsrv_init(&r, &conf);
	fd = raw_connect(&r.bound);
	buf_init(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "idle", 1);
	raw_send(fd, m.p, m.len);
	WAIT_FOR(r.b.n == 1, 2000);
	assert_int_equal(r.b.n, 1);
	assert_int_equal(stats(&r.b).conns, 1);

	/* nothing more is said: the server hangs up */
	raw_read(fd, rbuf, sizeof(rbuf), NULL, 5000, &closed);
	assert_true(closed);
	assert_int_equal(stats(&r.b).conns, 0);

	/* and its own outgoing connections idle out too */
	struct peer a;
	struct sip_conn *c = NULL;
	peer_init(&a, &conf);
	r.b.autoreply = true;
	buf_reset(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "idle-out", 2);
	assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TCP, &r.bound, NULL, NULL,
	                     m.p, m.len, &c),
	    0);
	sip_conn_ref(c);
	WAIT_FOR(a.nresp == 1, 2000);
	assert_int_equal(a.nresp, 1);
	WAIT_FOR(!sip_conn_open(c) && stats(&r.b).conns == 0, 5000);
	assert_false(sip_conn_open(c));
	assert_int_equal(stats(&a).conns, 0);
	assert_int_equal(stats(&r.b).conns, 0);
	sip_conn_unref(c);

	buf_free(&m);
	close(fd);
	sip_tp_free(a.tp);
	sip_tp_free(r.b.tp);
}

static void
test_max_conns(void **state)
{
	struct sip_tp_conf conf;
	struct rawsrv r;
	struct buf m;
	char rbuf[256];
	bool closed;
	int fd[3];

	(void)state;
	sip_tp_conf_default(&conf);
	conf.max_conns = 2;
	rawsrv_init(&r, &conf);
	fd[0] = raw_connect(&r.bound);
	fd[1] = raw_connect(&r.bound);
	WAIT_FOR(stats(&r.b).conns == 2, 2000);
	assert_int_equal(stats(&r.b).conns, 2);
	fd[2] = raw_connect(&r.bound);
	raw_read(fd[2], rbuf, sizeof(rbuf), NULL, 2000, &closed);
	assert_true(closed);
	assert_int_equal(stats(&r.b).conns_refused, 1);
	assert_int_equal(stats(&r.b).conns, 2);

	/* the two admitted connections still work */
	buf_init(&m);
	for (int i = 0; i < 2; i++) {
		char id[16];
		snprintf(id, sizeof(id), "conn-%d", i);
		buf_reset(&m);
		mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, id, 1);
		raw_send(fd[i], m.p, m.len);
	}
	WAIT_FOR(r.b.n == 2, 2000);
	assert_int_equal(r.b.n, 2);
	assert_ptr_not_equal(r.b.conns[0], r.b.conns[1]);

	/* a freed slot takes a new connection */
	close(fd[0]);
	WAIT_FOR(stats(&r.b).conns == 1, 2000);
	assert_int_equal(stats(&r.b).conns, 1);
	close(fd[2]);
	fd[2] = raw_connect(&r.bound);
	buf_reset(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "conn-2", 1);
	raw_send(fd[2], m.p, m.len);
	WAIT_FOR(r.b.n == 3, 2000);
	assert_int_equal(r.b.n, 3);
	assert_string_equal(r.b.callid, "conn-2");
	assert_int_equal(stats(&r.b).conns_refused, 1);

	/* the cap holds for our own outgoing connections too */
	struct sip_conn *c = NULL;
	struct sip_tp_conf one;
	struct peer a;
	sip_tp_conf_default(&one);
	one.max_conns = 1;
	peer_init(&a, &one);
	assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TCP, &r.bound, NULL, NULL,
	                     m.p, m.len, &c),
	    0);
	struct sa other = r.bound;
	sa_set_port(&other, (uint16_t)(sa_port(&r.bound) ^ 1));
	assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TCP, &other, NULL, NULL,
	                     m.p, m.len, &c),
	    ENOBUFS);
	sip_tp_free(a.tp);

	buf_free(&m);
	close(fd[1]);
	close(fd[2]);
	sip_tp_free(r.b.tp);
}

/* A MESSAGE with a body of n bytes of 'x'. */
static void
mk_message(struct buf *b, enum sip_proto proto, const char *callid, size_t n)
{
	char branch[32], via[96];
	struct buf body;

	sip_branch_new(branch);
	snprintf(via, sizeof(via), "SIP/2.0/%s 127.0.0.1:5060;branch=%s",
	    sip_proto_name(proto), branch);
	buf_init(&body);
	for (size_t i = 0; i < n; i++)
		BUF_LIT(&body, "x");
	sip_enc_request_line(
	    b, SLICE_LIT("MESSAGE"), SLICE_LIT("sip:echo@ngvoice.localhost"));
	sip_enc_hdr_id(b, SIP_HDR_VIA, slice_cstr(via));
	sip_enc_hdr_id(
	    b, SIP_HDR_FROM, SLICE_LIT("<sip:test@ngvoice.localhost>;tag=f00"));
	sip_enc_hdr_id(
	    b, SIP_HDR_TO, SLICE_LIT("<sip:echo@ngvoice.localhost>"));
	sip_enc_hdr_id(b, SIP_HDR_CALL_ID, slice_cstr(callid));
	sip_enc_cseq(b, 1, SLICE_LIT("MESSAGE"));
	sip_enc_body(b, SLICE_LIT("text/plain"), buf_slice(&body));
	buf_free(&body);
	assert_int_equal(b->err, 0);
}

static void
test_stream_pipeline(void **state)
{
	struct rawsrv r;
	struct buf m;
	int fd;

	(void)state;
	rawsrv_init(&r, NULL);
	fd = raw_connect(&r.bound);
	buf_init(&m);
	for (unsigned i = 0; i < 100; i++) {
		char id[16];
		snprintf(id, sizeof(id), "pipe-%u", i);
		mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, id, i + 1);
	}
	raw_send(fd, m.p, m.len);
	WAIT_FOR(r.b.n == 100, 3000);
	run_for(50);
	assert_int_equal(r.b.n, 100);
	assert_string_equal(r.b.callid, "pipe-99");
	assert_int_equal(stats(&r.b).rx_bad, 0);
	buf_free(&m);
	close(fd);
	sip_tp_free(r.b.tp);
}

/* Bodies much bigger than one read arrive whole, over TCP and TLS. */
static void
test_stream_large(void **state)
{
	SSL_CTX *sctx = testcert_ctx(true, &server_id, &ca);
	SSL_CTX *cctx = testcert_ctx(false, &client_id, &ca);
	const enum sip_proto protos[] = {SIP_PROTO_TCP, SIP_PROTO_TLS};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct peer a, b;
		struct sa bbound;
		struct buf m;

		peer_init(&a, NULL);
		peer_init(&b, NULL);
		b.autoreply = true;
		sip_tp_set_client_tls(a.tp, cctx);
		peer_listen(&b, protos[i], "127.0.0.1", sctx, &bbound);
		buf_init(&m);
		mk_message(&m, protos[i], "large-1", 60000);
		mk_message(&m, protos[i], "large-2", 30000);
		assert_int_equal(sip_tp_send(a.tp, protos[i], &bbound, NULL,
		                     SERVER_NAME, m.p, m.len, NULL),
		    0);
		WAIT_FOR(b.n == 2 && a.n == 2, 5000);
		assert_int_equal(b.n, 2);
		assert_string_equal(b.method, "MESSAGE");
		assert_string_equal(b.callid, "large-2");
		assert_int_equal(b.bodylen, 30000);
		assert_int_equal(a.nresp, 2);
		assert_int_equal(stats(&b).rx_bad, 0);
		buf_free(&m);
		sip_tp_free(a.tp);
		sip_tp_free(b.tp);
	}
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/* A handler may close the connection it is reading from. */
static void
test_stream_close_in_handler(void **state)
{
	struct rawsrv r;
	struct buf m;
	char rbuf[256];
	bool closed;
	int fd;

	(void)state;
	rawsrv_init(&r, NULL);
	r.b.close_on_msg = true;
	fd = raw_connect(&r.bound);
	buf_init(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "close-1", 1);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "close-2", 2);
	raw_send(fd, m.p, m.len);
	raw_read(fd, rbuf, sizeof(rbuf), NULL, 2000, &closed);
	assert_true(closed);
	run_for(20);
	assert_int_equal(r.b.n, 1);
	assert_string_equal(r.b.callid, "close-1");
	assert_int_equal(stats(&r.b).conns, 0);
	buf_free(&m);
	close(fd);
	sip_tp_free(r.b.tp);
}

/* A Content-Length over the body limit: 413, then closed. */
static void
test_stream_body_limit(void **state)
{
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	struct sip_msg resp;
	struct sip_perr perr;
	struct rawsrv r;
	char rbuf[4096];
	bool closed;
	int fd;

	(void)state;
	rawsrv_init(&r, NULL);
	fd = raw_connect(&r.bound);
	static const char huge[] =
	    "MESSAGE sip:echo@ngvoice.localhost SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKhuge\r\n"
	    "From: <sip:test@ngvoice.localhost>;tag=1\r\n"
	    "To: <sip:echo@ngvoice.localhost>\r\n"
	    "Call-ID: huge\r\n"
	    "CSeq: 1 MESSAGE\r\n"
	    "Content-Length: 10000000\r\n\r\n"
	    "some of it";
	raw_send(fd, huge, sizeof(huge) - 1);
	size_t n = raw_read(fd, rbuf, sizeof(rbuf), NULL, 3000, &closed);
	assert_true(closed);
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&resp, rbuf, n, true, &lim, &perr), 0);
	assert_int_equal(resp.scode, 413);
	assert_true(slice_eq_cstr(resp.callid, "huge"));
	assert_int_equal(r.b.n, 0);
	close(fd);
	sip_tp_free(r.b.tp);
}

/* The server side of a flow sends its own requests back over it. */
static void
test_stream_reverse_reuse(void **state)
{
	struct peer a, b;
	struct sa bbound;
	struct sip_conn *c = NULL, *back = NULL;
	struct buf m;

	(void)state;
	peer_init(&a, NULL);
	peer_init(&b, NULL);
	peer_listen(&b, SIP_PROTO_TCP, "127.0.0.1", NULL, &bbound);
	buf_init(&m);
	mk_req(&m, "REGISTER", SIP_PROTO_TCP, NULL, "flow", 1);
	assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TCP, &bbound, NULL, NULL,
	                     m.p, m.len, &c),
	    0);
	WAIT_FOR(b.n == 1, 2000);
	assert_int_equal(b.n, 1);

	/* to the flow's source address, no connection given: reused */
	struct sa src = b.peer;
	buf_reset(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TCP, NULL, "flow-back", 1);
	assert_int_equal(sip_tp_send(b.tp, SIP_PROTO_TCP, &src, NULL, NULL, m.p,
	                     m.len, &back),
	    0);
	assert_ptr_equal(back, b.conns[0]);
	WAIT_FOR(a.n == 1, 2000);
	assert_int_equal(a.n, 1);
	assert_ptr_equal(a.conn, c);
	assert_string_equal(a.method, "OPTIONS");
	assert_int_equal(stats(&a).conns, 1);
	assert_int_equal(stats(&b).conns, 1);

	/* once closed, a send with only that connection fails */
	sip_conn_ref(back);
	sip_conn_close(back);
	assert_int_equal(sip_tp_send(b.tp, SIP_PROTO_TCP, NULL, back, NULL, m.p,
	                     m.len, NULL),
	    ECONNRESET);
	sip_conn_unref(back);

	buf_free(&m);
	sip_tp_free(a.tp);
	sip_tp_free(b.tp);
}

/* Output bigger than the per-connection limit is refused. */
static void
test_stream_output_limit(void **state)
{
	struct sip_tp_conf conf;
	struct rawsrv r;
	struct peer a;
	struct buf m;

	(void)state;
	rawsrv_init(&r, NULL);
	sip_tp_conf_default(&conf);
	conf.max_conn_buf = 4096;
	peer_init(&a, &conf);
	buf_init(&m);
	mk_message(&m, SIP_PROTO_TCP, "too-big", 5000);
	assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TCP, &r.bound, NULL, NULL,
	                     m.p, m.len, NULL),
	    ENOBUFS);
	assert_int_equal(stats(&a).conns, 0);
	buf_reset(&m);
	mk_message(&m, SIP_PROTO_TCP, "fits", 1000);
	assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TCP, &r.bound, NULL, NULL,
	                     m.p, m.len, NULL),
	    0);
	WAIT_FOR(r.b.n == 1, 2000);
	assert_int_equal(r.b.n, 1);
	assert_string_equal(r.b.callid, "fits");
	buf_free(&m);
	sip_tp_free(a.tp);
	sip_tp_free(r.b.tp);
}

/* Traffic keeps a connection from idling out. */
static void
test_idle_reset(void **state)
{
	struct sip_tp_conf conf;
	struct rawsrv r;
	char rbuf[256];
	bool closed;
	int fd;

	(void)state;
	sip_tp_conf_default(&conf);
	conf.idle_timeout_s = 1;
	rawsrv_init(&r, &conf);
	fd = raw_connect(&r.bound);
	for (int i = 0; i < 6; i++) {
		raw_send(fd, "\r\n\r\n", 4);
		raw_read(fd, rbuf, sizeof(rbuf), "\r\n", 1000, &closed);
		assert_false(closed);
		run_for(300);
	}
	assert_int_equal(stats(&r.b).conns, 1);
	assert_int_equal(stats(&r.b).keepalives, 6);
	raw_read(fd, rbuf, sizeof(rbuf), NULL, 5000, &closed);
	assert_true(closed);
	assert_int_equal(stats(&r.b).conns, 0);
	close(fd);
	sip_tp_free(r.b.tp);
}

/* TLS listeners: silent, plaintext and keep-alive peers. */
static void
test_tls_stream(void **state)
{
	SSL_CTX *sctx = testcert_ctx(true, &server_id, &ca);
	SSL_CTX *cctx = testcert_ctx(false, &client_id, &ca);
	struct sip_tp_conf conf;
	struct peer a, b;
	struct sa bbound;
	struct sip_conn *c = NULL;
	char rbuf[1024];
	struct buf m;
	bool closed;
	int fd;

	(void)state;
	sip_tp_conf_default(&conf);
	conf.tls_handshake_s = 1;
	peer_init(&b, &conf);
	peer_listen(&b, SIP_PROTO_TLS, "127.0.0.1", sctx, &bbound);
	buf_init(&m);

	/* connects and says nothing: the handshake times out */
	fd = raw_connect(&bbound);
	WAIT_FOR(stats(&b).conns == 1, 2000);
	assert_int_equal(stats(&b).conns, 1);
	raw_read(fd, rbuf, sizeof(rbuf), NULL, 5000, &closed);
	assert_true(closed);
	assert_int_equal(stats(&b).conns, 0);
	close(fd);

	/* speaks SIP in the clear: no handshake, nothing delivered */
	fd = raw_connect(&bbound);
	mk_req(&m, "OPTIONS", SIP_PROTO_TLS, NULL, "cleartext", 1);
	raw_send(fd, m.p, m.len);
	raw_read(fd, rbuf, sizeof(rbuf), NULL, 3000, &closed);
	assert_true(closed);
	assert_int_equal(b.n, 0);
	WAIT_FOR(stats(&b).conns == 0, 2000);
	assert_int_equal(stats(&b).conns, 0);
	close(fd);

	/* a real client: its CRLFCRLF ping gets a pong over TLS */
	peer_init(&a, NULL);
	sip_tp_set_client_tls(a.tp, cctx);
	b.autoreply = true;
	buf_reset(&m);
	mk_req(&m, "OPTIONS", SIP_PROTO_TLS, NULL, "tls-ka", 1);
	assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TLS, &bbound, NULL,
	                     SERVER_NAME, m.p, m.len, &c),
	    0);
	WAIT_FOR(a.n == 1, 3000);
	assert_int_equal(a.n, 1);
	assert_int_equal(sip_tp_send(a.tp, SIP_PROTO_TLS, &bbound, c, NULL,
	                     "\r\n\r\n", 4, NULL),
	    0);
	WAIT_FOR(stats(&b).keepalives == 1, 2000);
	assert_int_equal(stats(&b).keepalives, 1);
	run_for(50);
	assert_int_equal(stats(&a).conns, 1);
	assert_int_equal(stats(&a).rx_bad + stats(&b).rx_bad, 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(b.n, 1);

	buf_free(&m);
	sip_tp_free(a.tp);
	sip_tp_free(b.tp);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/* Requests that frame but do not validate, and what each gets back. */
static const struct {
	const char *first;  /* the request line */
	const char *extra;  /* an extra header line, CRLF-terminated */
	const char *omit;   /* a header left out: "Call-ID", "CSeq" or "" */
	uint16_t status;    /* 0: dropped, nothing to answer with */
	const char *reason; /* the reason phrase naming the problem */
} malformed[] = {
    {"OPTIONS sip:echo@ngvoice.localhost SIP/2.0", "Max-Forwards: lots\r\n", "",
        400, "Malformed Max-Forwards header"},
    {"OPTIONS sip:echo@ngvoice.localhost SIP/2.0", "Expires: soon\r\n", "", 400,
        "Malformed Expires header"},
    {"OPTIONS sip:echo@ngvoice.localhost SIP/2.0", "Content-Type: ;\r\n", "",
        400, "Malformed Content-Type header"},
    {"OPTIONS sip:echo ngvoice.localhost SIP/2.0", "", "", 400,
        "Whitespace in Request-URI"},
    {"OPTIONS sip:echo@ngvoice.localhost SIP/3.0", "", "", 505,
        "Version Not Supported"},
    /* Via and CSeq are enough to answer (RFC 4475 3.3.1) */
    {"OPTIONS sip:echo@ngvoice.localhost SIP/2.0", "", "Call-ID", 400,
        "Missing Call-ID header"},
    /* without a CSeq the client could not match an answer */
    {"OPTIONS sip:echo@ngvoice.localhost SIP/2.0", "", "CSeq", 0, NULL},
};

static void
malformed_text(struct buf *b, size_t i, const char *proto)
{
	bool callid = strcmp(malformed[i].omit, "Call-ID") != 0;
	bool cseq = strcmp(malformed[i].omit, "CSeq") != 0;

	buf_printf(b,
	    "%s\r\n"
	    "Via: SIP/2.0/%s 127.0.0.1:5060;branch=z9hG4bKbad%zu;rport\r\n"
	    "From: <sip:test@ngvoice.localhost>;tag=1\r\n"
	    "To: <sip:echo@ngvoice.localhost>\r\n"
	    "%s%s%s"
	    "Content-Length: 0\r\n\r\n",
	    malformed[i].first, proto, i,
	    callid ? "Call-ID: malformed\r\n" : "",
	    cseq ? "CSeq: 1 OPTIONS\r\n" : "", malformed[i].extra);
}

static void
check_malformed_reply(size_t i, const char *p, size_t n)
{
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	struct sip_msg resp;
	struct sip_perr perr;
	char line[160];

	snprintf(line, sizeof(line), "SIP/2.0 %u %s\r\n", malformed[i].status,
	    malformed[i].reason);
	assert_true(n > strlen(line));
	assert_memory_equal(p, line, strlen(line));
	assert_non_null(memmem(p, n, "branch=z9hG4bKbad", 17));
	if (strcmp(malformed[i].omit, "Call-ID") == 0)
		return; /* the answer copies what was there: no Call-ID */
	assert_int_equal(sip_msg_parse(&resp, p, n, true, &lim, &perr), 0);
	assert_false(resp.req);
	assert_int_equal(resp.scode, malformed[i].status);
	assert_true(slice_eq_cstr(resp.callid, "malformed"));
}

static void
test_malformed_table(void **state)
{
	struct peer b;
	struct sa ubound, tbound;
	char rbuf[4096];
	struct buf m;
	bool closed;
	int ufd, tfd;

	(void)state;
	peer_init(&b, NULL);
	peer_listen(&b, SIP_PROTO_UDP, "127.0.0.1", NULL, &ubound);
	peer_listen(&b, SIP_PROTO_TCP, "127.0.0.1", NULL, &tbound);
	ufd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(ufd >= 0);
	tfd = raw_connect(&tbound);
	buf_init(&m);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		/* over UDP */
		buf_reset(&m);
		malformed_text(&m, i, "UDP");
		assert_int_equal(
		    sendto(ufd, m.p, m.len, 0, &ubound.u.sa, ubound.len),
		    (ssize_t)m.len);
		ssize_t n = -1;
		uint64_t end = now_ms() + (malformed[i].status ? 2000 : 100);
		while (now_ms() < end) {
			n = recv(ufd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
			if (n > 0)
				break;
			loop_once();
		}
		if (malformed[i].status) {
			assert_true(n > 0);
			check_malformed_reply(i, rbuf, (size_t)n);
		} else {
			assert_true(n <= 0);
		}

		/* over TCP: the same answer, and the connection stays */
		buf_reset(&m);
		malformed_text(&m, i, "TCP");
		raw_send(tfd, m.p, m.len);
		size_t k = raw_read(tfd, rbuf, sizeof(rbuf), "\r\n\r\n",
		    malformed[i].status ? 2000 : 100, &closed);
		assert_false(closed);
		if (malformed[i].status)
			check_malformed_reply(i, rbuf, k);
		else
			assert_int_equal(k, 0);
	}
	size_t nbad = sizeof(malformed) / sizeof(malformed[0]);
	assert_int_equal(stats(&b).rx_bad, 2 * nbad);
	assert_int_equal(b.n, 0);
	assert_int_equal(stats(&b).conns, 1);

	buf_free(&m);
	close(ufd);
	close(tfd);
	sip_tp_free(b.tp);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_udp),
	    T(test_udp_malformed),
	    T(test_tcp),
	    T(test_tcp_connect_refused),
	    T(test_tls),
	    T(test_tls_reload),
	    T(test_tls_no_client_cert),
	    T(test_tls_other_ca),
	    T(test_tls_wrong_server),
	    T(test_tls_stream),
	    T(test_stream_split),
	    T(test_stream_two_in_one),
	    T(test_stream_pipeline),
	    T(test_stream_large),
	    T(test_stream_close_in_handler),
	    T(test_stream_header_limit),
	    T(test_stream_body_limit),
	    T(test_stream_malformed),
	    T(test_malformed_table),
	    T(test_stream_reverse_reuse),
	    T(test_stream_output_limit),
	    T(test_idle_timeout),
	    T(test_idle_reset),
	    T(test_max_conns),
	};
#undef T
	/* A peer may close first: EPIPE, not a signal, as in the daemons. */
	signal(SIGPIPE, SIG_IGN);
	if (getenv("NGV_TEST_FILTER"))
		cmocka_set_test_filter(getenv("NGV_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
