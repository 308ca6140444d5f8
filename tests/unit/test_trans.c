/* Unit tests for SIP transactions: two stacks on loopback over UDP (through a lossy relay), TCP and TLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
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

/*
 * Short timers keep the suite fast; every bound below is in these units.
 * Tests that mostly wait for Timer B/F/J/L run with shorter ones still.
 */
static const struct sip_timers timers_short = {.t1 = 50, .t2 = 400, .t4 = 500};
static const struct sip_timers timers_fast = {.t1 = 20, .t2 = 160, .t4 = 200};
static struct sip_timers tm;
#define T1 ((uint64_t)tm.t1)
#define T2 ((uint64_t)tm.t2)
#define T4 ((uint64_t)tm.t4)

/*
 * At least about ms apart. libevent arms timers from the loop's cached time,
 * so a timer can fire a few ms before a wall-clock reading says it should;
 * the bounds check the mechanism (T1, 2*T1, T2...), never speed.
 */
#define AT_LEAST(dt, ms) ((dt) + 10 >= (ms)*3 / 4)

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

/* ------------------------------------------------------------ UDP relay */

/*
 * A UDP socket between the client and the server stack that forwards both
 * ways, logs what passes and drops what a rule names. The server answers the
 * relay (symmetric responses); the relay knows the client as the last source
 * that was not the server.
 */
struct rmsg {
	uint64_t t;
	bool to_server;
	bool dropped;
	char key[32]; /* "INVITE", "ACK", "486 INVITE", "200 CANCEL" */
};

struct drop_rule {
	bool to_server;
	const char *key;
	unsigned n;
};

struct relay {
	int fd;
	struct event *ev;
	struct sa addr;
	struct sa server;
	struct sa client;
	bool have_client;
	struct drop_rule rules[4];
	struct rmsg log[512];
	unsigned nlog;
};

static struct relay relay;

static void
msg_key(const struct sip_msg *m, char *key, size_t sz)
{
	if (m->req)
		slice_strlcpy(key, sz, m->method);
	else
		snprintf(key, sz, "%u %.*s", m->scode, (int)m->cseq.method.n,
		    m->cseq.method.p);
}

static void
relay_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct sip_msg m;
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct sip_perr perr;
	char buf[65536];
	struct sa from;
	ssize_t n;

	(void)what;
	(void)arg;
	n = recvfrom(
	    fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
	if (n <= 0)
		return;
	sa_from(&from, (struct sockaddr *)&ss, sl);
	bool to_server = !sa_eq(&from, &relay.server);
	if (to_server) {
		relay.client = from;
		relay.have_client = true;
	} else if (!relay.have_client) {
		return;
	}
	struct rmsg *e = &relay.log[relay.nlog < 512 ? relay.nlog : 511];
	if (relay.nlog < 512)
		relay.nlog++;
	memset(e, 0, sizeof(*e));
	e->t = now_ms();
	e->to_server = to_server;
	if (sip_msg_parse(&m, buf, (size_t)n, false, &lim, &perr) == 0)
		msg_key(&m, e->key, sizeof(e->key));
	else
		snprintf(e->key, sizeof(e->key), "?");
	for (size_t i = 0; i < 4; i++) {
		struct drop_rule *r = &relay.rules[i];
		if (r->key && r->n && r->to_server == to_server &&
		    strcmp(r->key, e->key) == 0) {
			r->n--;
			e->dropped = true;
			return;
		}
	}
	const struct sa *dst = to_server ? &relay.server : &relay.client;
	sendto(fd, buf, (size_t)n, 0, &dst->u.sa, dst->len);
}

static void
relay_drop(bool to_server, const char *key, unsigned n)
{
	for (size_t i = 0; i < 4; i++) {
		if (relay.rules[i].key == NULL) {
			relay.rules[i] = (struct drop_rule){to_server, key, n};
			return;
		}
	}
	fail_msg("too many drop rules");
}

/* How many key messages went that way (dropped ones too, if asked). */
static unsigned
relay_count(bool to_server, const char *key, bool with_dropped)
{
	unsigned n = 0;
	for (unsigned i = 0; i < relay.nlog; i++) {
		const struct rmsg *e = &relay.log[i];
		if (e->to_server == to_server && strcmp(e->key, key) == 0 &&
		    (with_dropped || !e->dropped))
			n++;
	}
	return n;
}

/* Arrival times of the key messages that went that way, dropped or not. */
static unsigned
relay_times(bool to_server, const char *key, uint64_t *t, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < relay.nlog && n < max; i++) {
		const struct rmsg *e = &relay.log[i];
		if (e->to_server == to_server && strcmp(e->key, key) == 0)
			t[n++] = e->t;
	}
	return n;
}

/* ------------------------------------------------------------ server TU */

enum srv_mode {
	SRV_IGNORE, /* never answers, creates no transaction */
	SRV_OK,     /* 200 at once */
	SRV_BUSY,   /* 180 at once, 486 a little later */
	SRV_RING,   /* 180, then waits for a CANCEL */
	SRV_ACCEPT, /* 180, then 200 with a To tag */
	SRV_SLOW,   /* non-INVITE: 100 at once, 200 a little later */
};

struct srv {
	struct sip_stack *s;
	enum srv_mode mode;
	unsigned nreq;    /* new requests handed to the TU */
	unsigned nack;    /* ACKs handed to the TU (2xx ACKs) */
	unsigned ncancel; /* cancel callbacks */
	char method[16];
	struct sip_strans *st; /* the INVITE's, until its final response */
	struct event *later;
	unsigned later_ms; /* delay of the SRV_BUSY / SRV_SLOW final */
	uint16_t later_code;
	int reply_rc;
	struct sip_rx rx; /* of the last request (conn not kept) */
};

static struct srv srv;

static void
srv_final(uint16_t code)
{
	if (srv.st == NULL)
		return;
	srv.reply_rc = sip_strans_reply(srv.st, code, NULL, SLICE_LIT("b-tag"),
	    code < 300 ? SLICE_LIT("Contact: <sip:b@127.0.0.1>\r\n")
	               : SLICE_NULL,
	    SLICE_NULL, SLICE_NULL);
	srv.st = NULL;
}

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	srv_final(srv.later_code);
}

static void
srv_cancel_h(struct sip_strans *st, void *arg)
{
	(void)arg;
	srv.ncancel++;
	assert_ptr_equal(st, srv.st);
	/* RFC 3261 9.2: the TU answers the cancelled INVITE with 487. */
	srv_final(487);
}

static void
srv_req_h(struct sip_stack *s, const struct sip_msg *m, const struct sip_rx *rx,
    void *arg)
{
	struct sip_strans *st;

	(void)arg;
	assert_ptr_equal(s, srv.s);
	srv.rx = *rx;
	srv.rx.conn = NULL;
	if (sip_method_eq(m->method, "ACK")) {
		srv.nack++;
		return;
	}
	srv.nreq++;
	slice_strlcpy(srv.method, sizeof(srv.method), m->method);
	if (srv.mode == SRV_IGNORE)
		return;
	assert_int_equal(
	    sip_strans_alloc(&st, s, m, rx, srv_cancel_h, NULL), 0);
	if (srv.mode == SRV_SLOW && !sip_method_eq(m->method, "INVITE")) {
		struct timeval tv = {0, (suseconds_t)srv.later_ms * 1000};
		srv.st = st;
		assert_int_equal(sip_strans_reply(st, 100, NULL, SLICE_NULL,
		                     SLICE_NULL, SLICE_NULL, SLICE_NULL),
		    0);
		srv.later_code = 200;
		evtimer_add(srv.later, &tv);
		return;
	}
	if (!sip_method_eq(m->method, "INVITE") || srv.mode == SRV_OK) {
		assert_int_equal(
		    sip_strans_reply(st, 200, NULL, SLICE_LIT("b-tag"),
		        SLICE_NULL, SLICE_NULL, SLICE_NULL),
		    0);
		return;
	}
	srv.st = st;
	assert_int_equal(sip_strans_reply(st, 180, NULL, SLICE_LIT("b-tag"),
	                     SLICE_NULL, SLICE_NULL, SLICE_NULL),
	    0);
	if (srv.mode == SRV_BUSY) {
		struct timeval tv = {0, (suseconds_t)srv.later_ms * 1000};
		srv.later_code = 486;
		evtimer_add(srv.later, &tv);
	} else if (srv.mode == SRV_ACCEPT) {
		srv_final(200);
	}
}

/* ------------------------------------------------------------ client TU */

struct call {
	struct sip_ctrans *ct;
	enum sip_proto proto;
	struct sa dst;
	const char *tls_name;
	unsigned n; /* callbacks */
	int err;
	uint16_t codes[64];
	unsigned ncodes;
	unsigned n2xx;
	bool done; /* final response or failure seen */
	uint64_t t_start, t_done;
	bool cancel_on_180;
	bool close_on_180; /* drop the connection under the transaction */
	int cancel_rc;
	unsigned ack_on_2xx; /* send the TU's ACK on this 2xx (1-based) */
	bool acked;
	char callid[64];
	uint32_t cseq;
};

static struct sip_stack *cli;
static struct sa cli_addr[3]; /* per enum sip_proto */
static struct sa srv_addr[3];
static SSL_CTX *sctx, *cctx;
static struct testcert ca, server_id, client_id;

/* The TU's ACK for a 2xx (RFC 3261 13.2.2.4): a new transaction of its own. */
static void
send_2xx_ack(struct call *c, const struct sip_msg *resp)
{
	char branch[32], via[160], sentby[SA_FMT_MAX];
	struct sip_conn *conn = sip_ctrans_conn(c->ct);
	struct buf b;

	sip_branch_new(branch);
	sa_fmt(&cli_addr[c->proto], sentby, sizeof(sentby));
	snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%s;rport",
	    sip_proto_name(c->proto), sentby, branch);
	buf_init(&b);
	sip_enc_request_line(
	    &b, SLICE_LIT("ACK"), SLICE_LIT("sip:b@127.0.0.1"));
	sip_enc_hdr_id(&b, SIP_HDR_VIA, slice_cstr(via));
	sip_enc_hdr_u64(&b, SIP_HDR_MAX_FORWARDS, 70);
	sip_enc_hdr_id(&b, SIP_HDR_FROM, sip_msg_hdr(resp, SIP_HDR_FROM)->val);
	sip_enc_hdr_id(&b, SIP_HDR_TO, sip_msg_hdr(resp, SIP_HDR_TO)->val);
	sip_enc_hdr_id(&b, SIP_HDR_CALL_ID, resp->callid);
	sip_enc_cseq(&b, resp->cseq.num, SLICE_LIT("ACK"));
	sip_enc_body(&b, SLICE_NULL, SLICE_NULL);
	assert_int_equal(b.err, 0);
	assert_int_equal(sip_tp_send(sip_stack_tp(cli), c->proto, &c->dst, conn,
	                     c->tls_name, b.p, b.len, NULL),
	    0);
	buf_free(&b);
	c->acked = true;
}

static void
call_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct call *c = arg;

	c->n++;
	if (err) {
		assert_null(resp);
		assert_false(c->done);
		c->err = err;
		c->done = true;
		c->t_done = now_ms();
		return;
	}
	assert_non_null(resp);
	assert_true(slice_eq_cstr(resp->callid, c->callid));
	if (c->ncodes < 64)
		c->codes[c->ncodes++] = resp->scode;
	if (resp->scode >= 200 && !c->done) {
		c->done = true;
		c->t_done = now_ms();
	}
	if (resp->scode == 180 && c->cancel_on_180)
		c->cancel_rc = sip_ctrans_cancel(c->ct);
	if (resp->scode == 180 && c->close_on_180) {
		assert_non_null(sip_ctrans_conn(c->ct));
		sip_conn_close(sip_ctrans_conn(c->ct));
	}
	if (resp->scode >= 200 && resp->scode < 300) {
		c->n2xx++;
		if (c->ack_on_2xx && c->n2xx == c->ack_on_2xx)
			send_2xx_ack(c, resp);
	}
}

/* Finals seen: responses >= 200 delivered to the callback. */
static unsigned
call_finals(const struct call *c)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->ncodes; i++)
		n += c->codes[i] >= 200;
	return n;
}

static bool
call_has(const struct call *c, uint16_t code)
{
	for (unsigned i = 0; i < c->ncodes; i++)
		if (c->codes[i] == code)
			return true;
	return false;
}

/* Where requests go: the relay for UDP, the server's listener otherwise. */
static const struct sa *
dst_for(enum sip_proto proto)
{
	return proto == SIP_PROTO_UDP ? &relay.addr : &srv_addr[proto];
}

static void
mk_req(struct buf *b, const char *method, enum sip_proto proto,
    const char *branch, const char *callid, uint32_t cseq)
{
	char via[160], sentby[SA_FMT_MAX];

	sa_fmt(&cli_addr[proto], sentby, sizeof(sentby));
	if (branch)
		snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%s;rport",
		    sip_proto_name(proto), sentby, branch);
	else
		snprintf(via, sizeof(via), "SIP/2.0/%s %s",
		    sip_proto_name(proto), sentby);
	sip_enc_request_line(
	    b, slice_cstr(method), SLICE_LIT("sip:b@ngvoice.localhost"));
	sip_enc_hdr_id(b, SIP_HDR_VIA, slice_cstr(via));
	sip_enc_hdr_u64(b, SIP_HDR_MAX_FORWARDS, 70);
	sip_enc_hdr_id(b, SIP_HDR_FROM,
	    SLICE_LIT("\"A\" <sip:a@ngvoice.localhost>;tag=a-tag"));
	sip_enc_hdr_id(b, SIP_HDR_TO, SLICE_LIT("<sip:b@ngvoice.localhost>"));
	sip_enc_hdr_id(b, SIP_HDR_CALL_ID, slice_cstr(callid));
	sip_enc_cseq(b, cseq, slice_cstr(method));
	if (strcmp(method, "INVITE") == 0)
		sip_enc_hdr_id(
		    b, SIP_HDR_CONTACT, SLICE_LIT("<sip:a@127.0.0.1>"));
	sip_enc_body(b, SLICE_NULL, SLICE_NULL);
	assert_int_equal(b->err, 0);
}

/* Starts a client transaction for method over proto. */
static void
call_start(struct call *c, const char *method, enum sip_proto proto,
    const char *callid)
{
	char branch[32];
	struct buf b;

	memset(c, 0, sizeof(*c));
	c->proto = proto;
	c->dst = *dst_for(proto);
	c->tls_name = proto == SIP_PROTO_TLS ? SERVER_NAME : NULL;
	snprintf(c->callid, sizeof(c->callid), "%s", callid);
	c->cseq = 1;
	sip_branch_new(branch);
	buf_init(&b);
	mk_req(&b, method, proto, branch, callid, c->cseq);
	c->t_start = now_ms();
	assert_int_equal(sip_ctrans_request(&c->ct, cli, proto, &c->dst,
	                     c->tls_name, NULL, b.p, b.len, call_resp_h, c),
	    0);
	buf_free(&b);
}

static struct sip_tp_stats
tp_stats(struct sip_stack *s)
{
	struct sip_tp_stats st;
	sip_tp_stats(sip_stack_tp(s), &st);
	return st;
}

/* ------------------------------------------------------------ fixtures */

static void
stack_conf(struct sip_stack_conf *conf)
{
	sip_stack_conf_default(conf);
	conf->timers = tm;
}

static int
group_setup(void **state)
{
	(void)state;
	const char *lvl = getenv("NGV_TEST_LOG");
	log_set_level(lvl && strcmp(lvl, "debug") == 0 ? LOG_DEBUG : LOG_ERR);
	if (testcert_make(&ca, "Test CA", NULL) != 0 ||
	    testcert_make(&server_id, SERVER_NAME, &ca) != 0 ||
	    testcert_make(&client_id, CLIENT_NAME, &ca) != 0)
		return -1;
	sctx = testcert_ctx(true, &server_id, &ca);
	cctx = testcert_ctx(false, &client_id, &ca);
	return sctx && cctx ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	testcert_free(&ca);
	testcert_free(&server_id);
	testcert_free(&client_id);
	return 0;
}

static void
stack_listen(struct sip_stack *s, struct sa *bound)
{
	struct sa a;

	assert_int_equal(sa_set_str(&a, "127.0.0.1", 0), 0);
	assert_int_equal(sip_tp_listen(sip_stack_tp(s), SIP_PROTO_UDP, &a, NULL,
	                     &bound[SIP_PROTO_UDP]),
	    0);
	assert_int_equal(sip_tp_listen(sip_stack_tp(s), SIP_PROTO_TCP, &a, NULL,
	                     &bound[SIP_PROTO_TCP]),
	    0);
	assert_int_equal(sip_tp_listen(sip_stack_tp(s), SIP_PROTO_TLS, &a, sctx,
	                     &bound[SIP_PROTO_TLS]),
	    0);
}

static void
cli_req_h(struct sip_stack *s, const struct sip_msg *m, const struct sip_rx *rx,
    void *arg)
{
	(void)s;
	(void)m;
	(void)rx;
	(void)arg;
	fail_msg("the client stack got a request");
}

static int
setup_with(const struct sip_timers *timers)
{
	struct timeval tv = {0, 2000};
	struct sip_stack_conf conf;
	struct sa a;
	socklen_t sl;

	tm = *timers;
	base = event_base_new();
	tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	if (base == NULL || tick == NULL || event_add(tick, &tv) != 0)
		return -1;

	stack_conf(&conf);
	memset(&srv, 0, sizeof(srv));
	srv.later_ms = 20;
	if (sip_stack_alloc(&srv.s, base, &conf, srv_req_h, NULL) != 0 ||
	    sip_stack_alloc(&cli, base, &conf, cli_req_h, NULL) != 0)
		return -1;
	srv.later = evtimer_new(base, later_cb, NULL);
	stack_listen(srv.s, srv_addr);
	stack_listen(cli, cli_addr);
	sip_tp_set_client_tls(sip_stack_tp(cli), cctx);

	memset(&relay, 0, sizeof(relay));
	relay.server = srv_addr[SIP_PROTO_UDP];
	relay.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	sa_set_str(&a, "127.0.0.1", 0);
	if (relay.fd < 0 || bind(relay.fd, &a.u.sa, a.len) != 0)
		return -1;
	sl = sizeof(a.u.ss);
	getsockname(relay.fd, &a.u.sa, &sl);
	sa_from(&relay.addr, &a.u.sa, sl);
	relay.ev =
	    event_new(base, relay.fd, EV_READ | EV_PERSIST, relay_cb, NULL);
	if (relay.ev == NULL || event_add(relay.ev, NULL) != 0)
		return -1;
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	return setup_with(&timers_short);
}

static int
setup_fast(void **state)
{
	(void)state;
	return setup_with(&timers_fast);
}

static int
teardown(void **state)
{
	(void)state;
	sip_stack_free(cli);
	sip_stack_free(srv.s);
	event_free(srv.later);
	event_free(relay.ev);
	close(relay.fd);
	event_free(tick);
	event_base_free(base);
	cli = NULL;
	base = NULL;
	return 0;
}

/* ------------------------------------------------------------ tests */

/* OPTIONS answered 200: one callback, both sides forget it after J / K. */
static void
nict_ok(enum sip_proto proto)
{
	struct call c;

	srv.mode = SRV_OK;
	call_start(&c, "OPTIONS", proto, "nict-ok");
	WAIT_FOR(c.done, 2000);
	assert_true(c.done);
	assert_int_equal(c.err, 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.codes[0], 200);
	assert_int_equal(srv.nreq, 1);
	assert_string_equal(srv.method, "OPTIONS");
	assert_int_equal(srv.rx.proto, proto);

	if (proto == SIP_PROTO_UDP) {
		/* Timer K (T4) ends the client, Timer J (64*T1) the server. */
		WAIT_FOR(sip_stack_ntrans(cli) == 0, 4 * T4);
		assert_int_equal(sip_stack_ntrans(cli), 0);
		assert_int_equal(sip_stack_ntrans(srv.s), 1);
		WAIT_FOR(sip_stack_ntrans(srv.s) == 0, 64 * T1 + 2000);
		assert_int_equal(sip_stack_ntrans(srv.s), 0);
		/* each copy of the request (one, unless slow) got the 200 */
		assert_true(relay_count(true, "OPTIONS", true) >= 1);
		assert_int_equal(relay_count(false, "200 OPTIONS", true),
		    relay_count(true, "OPTIONS", true));
	} else {
		/* Timers K and J are zero over streams. */
		WAIT_FOR(
		    sip_stack_ntrans(cli) == 0 && sip_stack_ntrans(srv.s) == 0,
		    T4 / 2);
		assert_int_equal(sip_stack_ntrans(cli), 0);
		assert_int_equal(sip_stack_ntrans(srv.s), 0);
		/* no retransmissions either way */
		run_for(8 * T1);
		assert_int_equal(tp_stats(cli).tx_msgs, 1);
		assert_int_equal(tp_stats(srv.s).rx_msgs, 1);
		assert_int_equal(tp_stats(srv.s).tx_msgs, 1);
		assert_int_equal(tp_stats(cli).rx_msgs, 1);
		assert_int_equal(tp_stats(cli).conns, 1);
	}
	assert_int_equal(c.n, 1);
	assert_int_equal(srv.nreq, 1);
}

static void
test_nict_udp(void **state)
{
	(void)state;
	nict_ok(SIP_PROTO_UDP);
}

static void
test_nict_tcp(void **state)
{
	(void)state;
	nict_ok(SIP_PROTO_TCP);
}

static void
test_nict_tls(void **state)
{
	(void)state;
	nict_ok(SIP_PROTO_TLS);
}

/* Lost requests: Timer E resends, doubling; the third copy gets through. */
static void
test_nict_lost_request(void **state)
{
	uint64_t t[16];
	struct call c;

	(void)state;
	srv.mode = SRV_OK;
	relay_drop(true, "OPTIONS", 3);
	call_start(&c, "OPTIONS", SIP_PROTO_UDP, "lost-req");
	WAIT_FOR(c.done, 64 * T1);
	assert_true(c.done);
	assert_int_equal(c.err, 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.codes[0], 200);
	assert_int_equal(srv.nreq, 1);
	unsigned n = relay_times(true, "OPTIONS", t, 16);
	assert_int_equal(n, 4);
	/* Timer E: T1, then doubling (2*T1, 4*T1) below T2 */
	assert_true(AT_LEAST(t[1] - t[0], T1));
	assert_true(AT_LEAST(t[2] - t[1], 2 * T1));
	assert_true(AT_LEAST(t[3] - t[2], 4 * T1));
	/* Completed: no more retransmissions */
	run_for(8 * T1);
	assert_int_equal(relay_count(true, "OPTIONS", true), 4);
}

/* A lost response: the retransmitted request is answered by the transaction. */
static void
test_nict_lost_response(void **state)
{
	struct call c;

	(void)state;
	srv.mode = SRV_OK;
	relay_drop(false, "200 OPTIONS", 1);
	call_start(&c, "OPTIONS", SIP_PROTO_UDP, "lost-resp");
	WAIT_FOR(c.done, 64 * T1);
	assert_true(c.done);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.codes[0], 200);
	/* every copy of the request drew the 200; the first was lost */
	run_for(2 * T1); /* let a late copy and its answer land */
	assert_true(relay_count(true, "OPTIONS", true) >= 2);
	assert_int_equal(relay_count(false, "200 OPTIONS", true),
	    relay_count(true, "OPTIONS", true));
	/* the TU saw the request once */
	assert_int_equal(srv.nreq, 1);
	run_for(4 * T1);
	assert_int_equal(srv.nreq, 1);
	assert_int_equal(c.n, 1);
}

/* No answer: Timer F after 64*T1, Timer E capped at T2 on the way. */
static void
test_nict_timeout(void **state)
{
	uint64_t t[64];
	struct call c;

	(void)state;
	srv.mode = SRV_IGNORE;
	call_start(&c, "OPTIONS", SIP_PROTO_UDP, "timeout-f");
	WAIT_FOR(c.done, 64 * T1 + 3000);
	assert_true(c.done);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.err, ETIMEDOUT);
	assert_int_equal(c.ncodes, 0);
	assert_true(AT_LEAST(c.t_done - c.t_start, 64 * T1));
	assert_int_equal(sip_stack_ntrans(cli), 0);
	run_for(2 * T1); /* a last copy may still be on its way */
	unsigned n = relay_times(true, "OPTIONS", t, 64);
	/*
	 * Doubling without the T2 cap would give 7 copies in 64*T1; capped
	 * at T2 = 8*T1 there are 11.
	 */
	assert_true(n >= 9);
	for (unsigned i = 1; i < n; i++)
		assert_true(AT_LEAST(t[i] - t[i - 1], T1));
	assert_int_equal(srv.nreq, n);
	/* nothing after Timer F */
	run_for(4 * T1);
	assert_int_equal(relay_count(true, "OPTIONS", true), n);
	assert_int_equal(c.n, 1);
}

/* No answer to an INVITE: Timer A doubles without cap, Timer B fires. */
static void
test_ict_timeout(void **state)
{
	uint64_t t[64];
	struct call c;

	(void)state;
	srv.mode = SRV_IGNORE;
	call_start(&c, "INVITE", SIP_PROTO_UDP, "timeout-b");
	WAIT_FOR(c.done, 64 * T1 + 3000);
	assert_true(c.done);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.err, ETIMEDOUT);
	assert_true(AT_LEAST(c.t_done - c.t_start, 64 * T1));
	assert_int_equal(sip_stack_ntrans(cli), 0);
	run_for(2 * T1); /* a last copy may still be on its way */
	unsigned n = relay_times(true, "INVITE", t, 64);
	/* 0, 1, 3, 7, 15, 31 and 63 T1: seven copies at most */
	assert_true(n >= 5 && n <= 7);
	for (unsigned i = 1; i < n; i++)
		assert_true(AT_LEAST(t[i] - t[i - 1], T1 << (i - 1)));
}

/* Timer B over TCP: no retransmissions, still ETIMEDOUT after 64*T1. */
static void
test_ict_timeout_tcp(void **state)
{
	struct call c;

	(void)state;
	srv.mode = SRV_IGNORE;
	call_start(&c, "INVITE", SIP_PROTO_TCP, "timeout-b-tcp");
	WAIT_FOR(c.done, 64 * T1 + 3000);
	assert_true(c.done);
	assert_int_equal(c.err, ETIMEDOUT);
	assert_true(AT_LEAST(c.t_done - c.t_start, 64 * T1));
	assert_int_equal(tp_stats(cli).tx_msgs, 1);
	assert_int_equal(tp_stats(srv.s).rx_msgs, 1);
	assert_int_equal(srv.nreq, 1);
}

/* INVITE, 100 (automatic), 180, 486, ACK; proto selects the transport. */
static void
ict_busy(enum sip_proto proto)
{
	struct call c;

	srv.mode = SRV_BUSY;
	call_start(&c, "INVITE", proto, "busy");
	WAIT_FOR(c.done, 2000);
	assert_true(c.done);
	assert_int_equal(c.err, 0);
	if (proto == SIP_PROTO_UDP) {
		/* a slow 100 could let Timer A resend and bring it twice */
		assert_int_equal(c.codes[0], 100);
		assert_true(call_has(&c, 180));
	} else {
		assert_int_equal(c.ncodes, 3);
		assert_int_equal(c.codes[0], 100);
		assert_int_equal(c.codes[1], 180);
	}
	assert_int_equal(c.codes[c.ncodes - 1], 486);
	assert_int_equal(call_finals(&c), 1);
	assert_int_equal(srv.reply_rc, 0);
	assert_int_equal(srv.nreq, 1);

	if (proto == SIP_PROTO_UDP) {
		/* The ACK reached the server: Confirmed, Timer I ends it. */
		WAIT_FOR(relay_count(true, "ACK", true) >= 1 &&
		             sip_stack_ntrans(srv.s) == 0,
		    4 * T4);
		assert_int_equal(sip_stack_ntrans(srv.s), 0);
		/* one ACK per 486 (a Timer G copy may cross the first ACK) */
		unsigned n486 = relay_count(false, "486 INVITE", true);
		assert_true(n486 >= 1);
		assert_int_equal(relay_count(true, "ACK", true), n486);
		/* Confirmed: no Timer G retransmissions after the ACK */
		run_for(4 * T1);
		assert_int_equal(relay_count(false, "486 INVITE", true), n486);
		assert_int_equal(relay_count(true, "ACK", true), n486);
	} else {
		/* Timer D and Timer I are zero over streams. */
		WAIT_FOR(
		    sip_stack_ntrans(cli) == 0 && sip_stack_ntrans(srv.s) == 0,
		    T4 / 2);
		assert_int_equal(sip_stack_ntrans(cli), 0);
		assert_int_equal(sip_stack_ntrans(srv.s), 0);
		run_for(8 * T1);
		/* INVITE and ACK; 100, 180 and 486: nothing resent */
		assert_int_equal(tp_stats(cli).tx_msgs, 2);
		assert_int_equal(tp_stats(srv.s).rx_msgs, 2);
		assert_int_equal(tp_stats(srv.s).tx_msgs, 3);
		assert_int_equal(tp_stats(cli).rx_msgs, 3);
	}
	/* the ACK for a non-2xx never reaches the TU */
	assert_int_equal(srv.nack, 0);
	assert_int_equal(call_finals(&c), 1);
}

static void
test_ict_busy_udp(void **state)
{
	(void)state;
	ict_busy(SIP_PROTO_UDP);
}

static void
test_ict_busy_tcp(void **state)
{
	(void)state;
	ict_busy(SIP_PROTO_TCP);
}

static void
test_ict_busy_tls(void **state)
{
	(void)state;
	ict_busy(SIP_PROTO_TLS);
}

/* Lost INVITEs: Timer A resends until the 100 Trying stops it. */
static void
test_ict_lost_invite(void **state)
{
	uint64_t t[16];
	struct call c;

	(void)state;
	srv.mode = SRV_BUSY;
	relay_drop(true, "INVITE", 2);
	call_start(&c, "INVITE", SIP_PROTO_UDP, "lost-invite");
	WAIT_FOR(c.done, 64 * T1);
	assert_true(c.done);
	assert_int_equal(c.codes[c.ncodes - 1], 486);
	unsigned n = relay_times(true, "INVITE", t, 16);
	assert_int_equal(n, 3);
	assert_true(AT_LEAST(t[1] - t[0], T1));
	assert_true(AT_LEAST(t[2] - t[1], 2 * T1));
	assert_int_equal(srv.nreq, 1);
	/* the provisional stopped Timer A */
	run_for(8 * T1);
	assert_int_equal(relay_count(true, "INVITE", true), 3);
}

/* A lost ACK: Timer G resends the 486, the client answers with its ACK. */
static void
test_ict_lost_ack(void **state)
{
	struct call c;

	(void)state;
	srv.mode = SRV_BUSY;
	relay_drop(true, "ACK", 2);
	call_start(&c, "INVITE", SIP_PROTO_UDP, "lost-ack");
	WAIT_FOR(c.done, 2000);
	assert_true(c.done);
	WAIT_FOR(relay_count(true, "ACK", false) >= 1 &&
	             sip_stack_ntrans(srv.s) == 0,
	    64 * T1);
	/* each 486 (first and Timer G copies) drew an ACK; two were lost */
	unsigned n486 = relay_count(false, "486 INVITE", true);
	assert_true(n486 >= 3);
	assert_int_equal(relay_count(true, "ACK", true), n486);
	assert_int_equal(relay_count(true, "ACK", false), n486 - 2);
	assert_int_equal(sip_stack_ntrans(srv.s), 0);
	/* the TU heard the 486 once and the ACK never */
	assert_int_equal(call_finals(&c), 1);
	assert_int_equal(srv.nack, 0);
	run_for(8 * T1);
	assert_int_equal(relay_count(false, "486 INVITE", true), n486);
}

/* 2xx: resent over UDP until the TU's ACK; the client hears every copy. */
static void
test_ict_2xx_udp(void **state)
{
	struct call c;

	(void)state;
	srv.mode = SRV_ACCEPT;
	call_start(&c, "INVITE", SIP_PROTO_UDP, "accept-udp");
	c.ack_on_2xx = 3;
	WAIT_FOR(srv.nack == 1, 64 * T1);
	assert_int_equal(srv.nack, 1);
	assert_true(c.acked);
	assert_int_equal(c.n2xx, 3);
	unsigned n200 = relay_count(false, "200 INVITE", true);
	assert_true(n200 >= 3);
	/* the ACK stops the retransmissions (one may be on its way) */
	run_for(4 * T2);
	assert_true(relay_count(false, "200 INVITE", true) <= n200 + 1);
	assert_true(c.n2xx >= 3);
	unsigned after = relay_count(false, "200 INVITE", true);
	run_for(4 * T2);
	assert_int_equal(relay_count(false, "200 INVITE", true), after);
	/* the 2xx ACK is a transaction of its own: the stack passed it on */
	assert_int_equal(relay_count(true, "ACK", true), 1);
	assert_int_equal(srv.nack, 1);
	assert_int_equal(srv.nreq, 1);
	/* Timers L and M end both sides */
	WAIT_FOR(sip_stack_ntrans(cli) == 0 && sip_stack_ntrans(srv.s) == 0,
	    64 * T1 + 2000);
	assert_int_equal(sip_stack_ntrans(cli), 0);
	assert_int_equal(sip_stack_ntrans(srv.s), 0);
	assert_int_equal(call_finals(&c), c.n2xx);
}

/* 2xx over a stream: sent once, no retransmission while waiting for ACK. */
static void
ict_2xx_stream(enum sip_proto proto)
{
	struct call c;

	srv.mode = SRV_ACCEPT;
	call_start(&c, "INVITE", proto, "accept-stream");
	c.ack_on_2xx = 1;
	WAIT_FOR(srv.nack == 1, 2000);
	assert_int_equal(srv.nack, 1);
	assert_int_equal(c.n2xx, 1);
	run_for(8 * T1);
	/* INVITE, ACK; 100, 180, 200 */
	assert_int_equal(tp_stats(cli).tx_msgs, 2);
	assert_int_equal(tp_stats(srv.s).tx_msgs, 3);
	assert_int_equal(c.n2xx, 1);
	assert_int_equal(tp_stats(cli).conns, 1);
}

static void
test_ict_2xx_tcp(void **state)
{
	(void)state;
	ict_2xx_stream(SIP_PROTO_TCP);
}

static void
test_ict_2xx_tls(void **state)
{
	(void)state;
	ict_2xx_stream(SIP_PROTO_TLS);
}

/* CANCEL after 180: 200 to CANCEL, 487 to INVITE, ACK. */
static void
ict_cancel(enum sip_proto proto, bool early)
{
	struct call c;

	srv.mode = SRV_RING;
	call_start(&c, "INVITE", proto, "cancel");
	if (early) {
		/* before any provisional: held until one arrives */
		assert_int_equal(sip_ctrans_cancel(c.ct), 0);
	} else {
		c.cancel_on_180 = true;
	}
	WAIT_FOR(c.done, 2000);
	assert_true(c.done);
	assert_int_equal(c.cancel_rc, 0);
	assert_int_equal(srv.ncancel, 1);
	assert_int_equal(c.codes[c.ncodes - 1], 487);
	assert_int_equal(call_finals(&c), 1);
	assert_true(call_has(&c, 100));
	assert_int_equal(srv.nreq, 1); /* the CANCEL is not the TU's */
	assert_int_equal(srv.reply_rc, 0);
	/* ACK to the 487 went out and was absorbed by the transaction */
	if (proto == SIP_PROTO_UDP) {
		WAIT_FOR(relay_count(true, "ACK", true) >= 1, 2000);
		/* one each, unless slow enough for a retransmission */
		run_for(2 * T1);
		unsigned ncancel = relay_count(true, "CANCEL", true);
		unsigned n487 = relay_count(false, "487 INVITE", true);
		assert_true(ncancel >= 1);
		assert_int_equal(
		    relay_count(false, "200 CANCEL", true), ncancel);
		assert_true(n487 >= 1);
		assert_int_equal(relay_count(true, "ACK", true), n487);
	} else {
		WAIT_FOR(
		    sip_stack_ntrans(srv.s) == 0 && sip_stack_ntrans(cli) == 0,
		    T4 / 2);
		assert_int_equal(sip_stack_ntrans(srv.s), 0);
		assert_int_equal(sip_stack_ntrans(cli), 0);
		/* INVITE, CANCEL, ACK; 100, 180, 200, 487 (100 only if late) */
		assert_int_equal(tp_stats(cli).tx_msgs, 3);
		assert_int_equal(tp_stats(srv.s).tx_msgs, early ? 3 : 4);
	}
	run_for(4 * T1);
	assert_int_equal(srv.nack, 0);
	assert_int_equal(call_finals(&c), 1);
	/* too late to cancel now */
	assert_int_equal(srv.ncancel, 1);
}

static void
test_ict_cancel_udp(void **state)
{
	(void)state;
	ict_cancel(SIP_PROTO_UDP, false);
}

static void
test_ict_cancel_early(void **state)
{
	(void)state;
	ict_cancel(SIP_PROTO_UDP, true);
}

static void
test_ict_cancel_tcp(void **state)
{
	(void)state;
	ict_cancel(SIP_PROTO_TCP, false);
}

static void
test_ict_cancel_tls(void **state)
{
	(void)state;
	ict_cancel(SIP_PROTO_TLS, false);
}

/* A CANCEL that matches nothing gets 481 statelessly from the stack. */
static void
test_cancel_unmatched(void **state)
{
	char branch[32];
	struct call c;
	struct buf b;

	(void)state;
	srv.mode = SRV_OK;
	memset(&c, 0, sizeof(c));
	c.proto = SIP_PROTO_UDP;
	c.dst = relay.addr;
	snprintf(c.callid, sizeof(c.callid), "stray-cancel");
	sip_branch_new(branch);
	buf_init(&b);
	mk_req(&b, "CANCEL", SIP_PROTO_UDP, branch, c.callid, 1);
	assert_int_equal(sip_ctrans_request(&c.ct, cli, SIP_PROTO_UDP, &c.dst,
	                     NULL, NULL, b.p, b.len, call_resp_h, &c),
	    0);
	buf_free(&b);
	WAIT_FOR(c.done, 2000);
	assert_true(c.done);
	assert_int_equal(c.codes[0], 481);
	assert_int_equal(srv.nreq, 0);
}

/* A raw UDP client for the RFC 2543 tests: no branch, no transaction. */
struct raw {
	int fd;
	struct sa addr;
};

static void
raw_open(struct raw *r)
{
	struct sa a;
	socklen_t sl = sizeof(a.u.ss);

	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(r->fd >= 0);
	sa_set_str(&a, "127.0.0.1", 0);
	assert_int_equal(bind(r->fd, &a.u.sa, a.len), 0);
	getsockname(r->fd, &a.u.sa, &sl);
	sa_from(&r->addr, &a.u.sa, sl);
}

static void
raw_send(struct raw *r, const struct buf *b)
{
	const struct sa *dst = &srv_addr[SIP_PROTO_UDP];
	assert_int_equal(sendto(r->fd, b->p, b->len, 0, &dst->u.sa, dst->len),
	    (ssize_t)b->len);
}

/* What a raw socket received while the loop ran. */
struct rawlog {
	unsigned n;
	char key[32][32]; /* "486 INVITE", in order */
	char last[8192];  /* the last message, as text */
};

static void
raw_gather(struct raw *r, unsigned ms, struct rawlog *lg)
{
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	static struct sip_msg m;
	struct sip_perr perr;
	uint64_t end = now_ms() + ms;
	char buf[8192];

	memset(lg, 0, sizeof(*lg));
	while (now_ms() < end) {
		ssize_t k = recv(r->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (k <= 0) {
			loop_once();
			continue;
		}
		buf[k] = '\0';
		if (sip_msg_parse(&m, buf, (size_t)k, false, &lim, &perr) != 0)
			continue;
		if (lg->n < 32)
			msg_key(&m, lg->key[lg->n++], sizeof(lg->key[0]));
		memcpy(lg->last, buf, (size_t)k + 1);
	}
}

static unsigned
rawlog_count(const struct rawlog *lg, const char *key)
{
	unsigned n = 0;
	for (unsigned i = 0; i < lg->n; i++)
		n += strcmp(lg->key[i], key) == 0;
	return n;
}

/* How many key messages arrive within ms. */
static unsigned
raw_collect(struct raw *r, const char *key, unsigned ms)
{
	struct rawlog lg;
	raw_gather(r, ms, &lg);
	return rawlog_count(&lg, key);
}

/* RFC 2543 requests (no magic cookie) match their transactions too. */
static void
test_rfc2543(void **state)
{
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	static struct sip_msg m;
	struct sip_perr perr;
	struct rawlog lg;
	struct raw r;
	struct buf b;

	(void)state;
	raw_open(&r);
	cli_addr[SIP_PROTO_UDP] = r.addr; /* Via sent-by: the raw socket */

	/* OPTIONS twice: the TU sees it once, both copies are answered */
	srv.mode = SRV_OK;
	buf_init(&b);
	mk_req(&b, "OPTIONS", SIP_PROTO_UDP, NULL, "rfc2543-options", 7);
	raw_send(&r, &b);
	assert_int_equal(raw_collect(&r, "200 OPTIONS", 3 * T1), 1);
	raw_send(&r, &b);
	assert_int_equal(raw_collect(&r, "200 OPTIONS", 3 * T1), 1);
	assert_int_equal(srv.nreq, 1);

	/* INVITE: 100 and the 486, resent until the ACK */
	srv.mode = SRV_BUSY;
	buf_reset(&b);
	mk_req(&b, "INVITE", SIP_PROTO_UDP, NULL, "rfc2543-invite", 8);
	raw_send(&r, &b);
	raw_gather(&r, 5 * T1, &lg);
	assert_int_equal(rawlog_count(&lg, "100 INVITE"), 1);
	assert_int_equal(rawlog_count(&lg, "180 INVITE"), 1);
	assert_true(rawlog_count(&lg, "486 INVITE") >= 2);
	assert_int_equal(srv.nreq, 2);
	/* a retransmitted INVITE is absorbed, the 486 comes again */
	raw_send(&r, &b);
	assert_true(raw_collect(&r, "486 INVITE", T1) >= 1);
	assert_int_equal(srv.nreq, 2);

	/* the ACK: same Via, Request-URI, Call-ID, CSeq, From; To of the 486 */
	assert_int_equal(
	    sip_msg_parse(&m, lg.last, strlen(lg.last), false, &lim, &perr), 0);
	assert_true(slice_isset(m.to.tag));
	struct buf ack;
	buf_init(&ack);
	sip_enc_request_line(
	    &ack, SLICE_LIT("ACK"), SLICE_LIT("sip:b@ngvoice.localhost"));
	sip_enc_hdr_id(&ack, SIP_HDR_VIA, m.via.raw);
	sip_enc_hdr_u64(&ack, SIP_HDR_MAX_FORWARDS, 70);
	sip_enc_hdr_id(&ack, SIP_HDR_FROM, sip_msg_hdr(&m, SIP_HDR_FROM)->val);
	sip_enc_hdr_id(&ack, SIP_HDR_TO, sip_msg_hdr(&m, SIP_HDR_TO)->val);
	sip_enc_hdr_id(&ack, SIP_HDR_CALL_ID, m.callid);
	sip_enc_cseq(&ack, m.cseq.num, SLICE_LIT("ACK"));
	sip_enc_body(&ack, SLICE_NULL, SLICE_NULL);
	raw_send(&r, &ack);
	/* Confirmed: Timer G stops, the TU never sees this ACK */
	raw_collect(&r, "486 INVITE", T1 / 2); /* one may cross the ACK */
	assert_int_equal(raw_collect(&r, "486 INVITE", 6 * T1), 0);
	assert_int_equal(srv.nack, 0);
	WAIT_FOR(sip_stack_ntrans(srv.s) == 1, 2 * T4); /* OPTIONS' Timer J */
	assert_int_equal(sip_stack_ntrans(srv.s), 1);

	buf_free(&ack);
	buf_free(&b);
	close(r.fd);
}

/* Non-INVITE answered 100 first: Timer E goes on, at T2, until the final. */
static void
test_nict_proceeding(void **state)
{
	uint64_t t[16];
	struct call c;

	(void)state;
	srv.mode = SRV_SLOW;
	srv.later_ms = 20 * T1;
	call_start(&c, "OPTIONS", SIP_PROTO_UDP, "proceeding");
	WAIT_FOR(c.done, 64 * T1);
	assert_true(c.done);
	/* every 100 is passed up while Proceeding (RFC 3261 17.1.2.2) */
	assert_true(c.ncodes >= 2);
	for (unsigned i = 0; i + 1 < c.ncodes; i++)
		assert_int_equal(c.codes[i], 100);
	assert_int_equal(c.codes[c.ncodes - 1], 200);
	assert_int_equal(call_finals(&c), 1);
	assert_int_equal(srv.nreq, 1);
	run_for(2 * T1); /* a last copy may still be on its way */
	unsigned n = relay_times(true, "OPTIONS", t, 16);
	/* at 0 and T1, then every T2 until 20*T1: four copies */
	assert_true(n >= 3);
	for (unsigned i = 2; i < n; i++)
		assert_true(AT_LEAST(t[i] - t[i - 1], T2));
	/* each copy was answered with the provisional, from the transaction */
	assert_int_equal(relay_count(false, "100 OPTIONS", true), n);
	assert_int_equal(relay_count(false, "200 OPTIONS", true), 1);
}

/* Lost provisionals: the resent INVITE gets the last one again. */
static void
test_ict_lost_provisional(void **state)
{
	struct call c;

	(void)state;
	srv.mode = SRV_RING;
	relay_drop(false, "100 INVITE", 1);
	relay_drop(false, "180 INVITE", 1);
	call_start(&c, "INVITE", SIP_PROTO_UDP, "lost-1xx");
	WAIT_FOR(c.ncodes >= 1, 64 * T1);
	assert_true(c.ncodes >= 1);
	assert_int_equal(c.codes[0], 180);
	assert_int_equal(srv.nreq, 1);
	/* each copy of the INVITE drew the 180, the first's was lost */
	run_for(2 * T1);
	unsigned ninv = relay_count(true, "INVITE", true);
	assert_true(ninv >= 2);
	assert_int_equal(relay_count(false, "180 INVITE", true), ninv);
	/* Proceeding: Timer A stopped */
	run_for(8 * T1);
	assert_int_equal(relay_count(true, "INVITE", true), ninv);
	assert_true(c.ncodes >= 1);
	for (unsigned i = 0; i < c.ncodes; i++)
		assert_int_equal(c.codes[i], 180);
	srv_final(603);
	WAIT_FOR(c.done, 2000);
	assert_int_equal(c.codes[c.ncodes - 1], 603);
}

/* No ACK for a 2xx: resent until Timer L, each copy reaching the client. */
static void
test_ict_2xx_no_ack(void **state)
{
	struct call c;

	(void)state;
	srv.mode = SRV_ACCEPT;
	call_start(&c, "INVITE", SIP_PROTO_UDP, "no-ack");
	WAIT_FOR(srv.nreq == 1, 2000);
	assert_int_equal(srv.nreq, 1);
	WAIT_FOR(sip_stack_ntrans(srv.s) == 0, 64 * T1 + 2000);
	assert_int_equal(sip_stack_ntrans(srv.s), 0);
	run_for(T1); /* the last copy may still be on its way */
	unsigned n200 = relay_count(false, "200 INVITE", true);
	/* 0, 1, 3, 7, 15, 23 ... T1 (capped at T2) within 64*T1 */
	assert_true(n200 >= 6);
	WAIT_FOR(sip_stack_ntrans(cli) == 0, 64 * T1 + 2000);
	assert_int_equal(sip_stack_ntrans(cli), 0);
	assert_int_equal(c.n2xx, n200);
	run_for(4 * T2);
	assert_int_equal(relay_count(false, "200 INVITE", true), n200);
	assert_int_equal(srv.nack, 0);
}

/* An abandoned transaction runs on but calls nobody. */
static void
test_abandon(void **state)
{
	struct call c;

	(void)state;
	srv.mode = SRV_OK;
	call_start(&c, "OPTIONS", SIP_PROTO_UDP, "abandon");
	sip_ctrans_abandon(c.ct);
	WAIT_FOR(srv.nreq == 1 && relay_count(false, "200 OPTIONS", true) == 1,
	    2000);
	WAIT_FOR(sip_stack_ntrans(cli) == 0, 4 * T4);
	assert_int_equal(sip_stack_ntrans(cli), 0);
	assert_int_equal(c.n, 0);
}

/* Many transactions at once each get their own answer. */
static void
test_many(void **state)
{
	static struct call c[40];
	unsigned done;

	(void)state;
	srv.mode = SRV_OK;
	for (unsigned i = 0; i < 40; i++) {
		char id[32];
		snprintf(id, sizeof(id), "many-%u", i);
		call_start(&c[i], i % 2 ? "OPTIONS" : "INVITE",
		    (enum sip_proto)(i % 3), id);
	}
	uint64_t end = now_ms() + 5000;
	do {
		loop_once();
		done = 0;
		for (unsigned i = 0; i < 40; i++)
			done += c[i].done;
	} while (done < 40 && now_ms() < end);
	assert_int_equal(done, 40);
	for (unsigned i = 0; i < 40; i++) {
		assert_int_equal(c[i].err, 0);
		assert_int_equal(c[i].codes[c[i].ncodes - 1], 200);
	}
	assert_int_equal(srv.nreq, 40);
	/* one connection per stream transport */
	assert_int_equal(tp_stats(cli).conns, 2);
}

/*
 * The client's connection drops before the final response: the server
 * opens a new one to the port in the Via (RFC 3261 18.2.2), not to the
 * old connection's source port.
 */
static void
test_ict_stream_reconnect(void **state)
{
	struct call c;

	(void)state;
	srv.mode = SRV_BUSY;
	srv.later_ms = 5 * T1;
	call_start(&c, "INVITE", SIP_PROTO_TCP, "reconnect");
	c.close_on_180 = true;
	WAIT_FOR(c.done, 64 * T1);
	assert_true(c.done);
	assert_int_equal(c.err, 0);
	assert_int_equal(c.codes[c.ncodes - 1], 486);
	assert_int_equal(srv.reply_rc, 0);
	/* the ACK found its way too: both transactions end at once */
	WAIT_FOR(
	    sip_stack_ntrans(cli) == 0 && sip_stack_ntrans(srv.s) == 0, T4);
	assert_int_equal(sip_stack_ntrans(cli), 0);
	assert_int_equal(sip_stack_ntrans(srv.s), 0);
	assert_int_equal(srv.nack, 0);
}

/*
 * A transport failure reaches the client transaction at once (RFC 3261
 * 17.1.4), not at Timer B/F: a refused TCP connect, and a TLS handshake
 * that fails because the server's certificate does not carry the name.
 */
static void
test_transport_failure_reported(void **state)
{
	struct call c;
	char branch[32];
	struct buf b;
	struct sa closed;
	int fd;

	(void)state;
	/* a port nothing listens on: bind, read it back, close */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa_set_str(&closed, "127.0.0.1", 0);
	assert_int_equal(bind(fd, &closed.u.sa, closed.len), 0);
	socklen_t len = sizeof(closed.u.ss);
	getsockname(fd, &closed.u.sa, &len);
	close(fd);

	memset(&c, 0, sizeof(c));
	c.proto = SIP_PROTO_TCP;
	c.dst = closed;
	snprintf(c.callid, sizeof(c.callid), "refused");
	c.cseq = 1;
	sip_branch_new(branch);
	buf_init(&b);
	mk_req(&b, "INVITE", SIP_PROTO_TCP, branch, c.callid, c.cseq);
	c.t_start = now_ms();
	assert_int_equal(sip_ctrans_request(&c.ct, cli, SIP_PROTO_TCP, &c.dst,
	                     NULL, NULL, b.p, b.len, call_resp_h, &c),
	    0);
	buf_free(&b);
	WAIT_FOR(c.done, 32 * T1);
	assert_true(c.done);
	assert_int_equal(c.err, ECONNREFUSED);
	assert_true(c.t_done - c.t_start < 32 * T1);

	memset(&c, 0, sizeof(c));
	c.proto = SIP_PROTO_TLS;
	c.dst = *dst_for(SIP_PROTO_TLS);
	snprintf(c.callid, sizeof(c.callid), "wrong-name");
	c.cseq = 1;
	sip_branch_new(branch);
	buf_init(&b);
	mk_req(&b, "OPTIONS", SIP_PROTO_TLS, branch, c.callid, c.cseq);
	c.t_start = now_ms();
	assert_int_equal(
	    sip_ctrans_request(&c.ct, cli, SIP_PROTO_TLS, &c.dst,
	        "not-the-server.invalid", NULL, b.p, b.len, call_resp_h, &c),
	    0);
	buf_free(&b);
	WAIT_FOR(c.done, 32 * T1);
	assert_true(c.done);
	assert_int_equal(c.err, EPROTO);
	assert_int_equal(c.ncodes, 0);
	WAIT_FOR(sip_stack_ntrans(cli) == 0, T4);
	assert_int_equal(sip_stack_ntrans(cli), 0);
}

/* A datagram whose header section ends without the blank line is answered. */
static void
test_udp_no_blank_line(void **state)
{
	struct raw r;
	struct buf b;

	(void)state;
	raw_open(&r);
	cli_addr[SIP_PROTO_UDP] = r.addr;
	srv.mode = SRV_OK;
	buf_init(&b);
	mk_req(&b, "OPTIONS", SIP_PROTO_UDP, "z9hG4bKnoblank", "no-blank", 1);
	assert_true(b.len > 2);
	b.len -= 2; /* "Content-Length: 0\r\n" ends it */
	raw_send(&r, &b);
	assert_int_equal(raw_collect(&r, "200 OPTIONS", 3 * T1), 1);
	assert_int_equal(srv.nreq, 1);
	/* and its retransmission too, from the transaction */
	raw_send(&r, &b);
	assert_int_equal(raw_collect(&r, "200 OPTIONS", 3 * T1), 1);
	assert_int_equal(srv.nreq, 1);
	buf_free(&b);
	close(r.fd);
}

/* An RFC 2543 CANCEL finds its INVITE by Call-ID, CSeq, From tag, URI, Via. */
static void
test_rfc2543_cancel(void **state)
{
	struct rawlog lg;
	struct raw r;
	struct buf b;

	(void)state;
	raw_open(&r);
	cli_addr[SIP_PROTO_UDP] = r.addr;
	srv.mode = SRV_RING;
	buf_init(&b);
	mk_req(&b, "INVITE", SIP_PROTO_UDP, NULL, "rfc2543-cancel", 3);
	raw_send(&r, &b);
	raw_gather(&r, 2 * T1, &lg);
	assert_int_equal(rawlog_count(&lg, "180 INVITE"), 1);
	buf_reset(&b);
	mk_req(&b, "CANCEL", SIP_PROTO_UDP, NULL, "rfc2543-cancel", 3);
	raw_send(&r, &b);
	raw_gather(&r, 2 * T1, &lg);
	assert_int_equal(rawlog_count(&lg, "200 CANCEL"), 1);
	assert_true(rawlog_count(&lg, "487 INVITE") >= 1);
	assert_int_equal(srv.ncancel, 1);
	assert_int_equal(srv.nreq, 1);
	buf_free(&b);
	close(r.fd);
}

/*
 * Where UDP responses go (RFC 3261 18.2.2, RFC 3581): to the Via port, or
 * to the source port with rport or in symmetric mode.
 */
static void
test_response_routing(void **state)
{
	struct sip_stack_conf conf;
	struct sip_stack *main_srv = srv.s, *s3;
	struct raw x, y;
	struct sa bound, a;
	char text[1024], ypeer[SA_FMT_MAX];

	(void)state;
	stack_conf(&conf);
	conf.symmetric_responses = false;
	assert_int_equal(sip_stack_alloc(&s3, base, &conf, srv_req_h, NULL), 0);
	assert_int_equal(sa_set_str(&a, "127.0.0.1", 0), 0);
	assert_int_equal(
	    sip_tp_listen(sip_stack_tp(s3), SIP_PROTO_UDP, &a, NULL, &bound),
	    0);
	raw_open(&x);
	raw_open(&y);
	sa_fmt(&y.addr, ypeer, sizeof(ypeer));
	srv.mode = SRV_OK;

	for (int i = 0; i < 3; i++) {
		/* sent from x, the Via naming y */
		bool rport = i == 1, symmetric = i == 2;
		struct sip_stack *to = symmetric ? main_srv : s3;
		const struct sa *dst =
		    symmetric ? &srv_addr[SIP_PROTO_UDP] : &bound;
		char branch[32];

		srv.s = to;
		sip_branch_new(branch);
		int n = snprintf(text, sizeof(text),
		    "OPTIONS sip:b@ngvoice.localhost SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP %s;branch=%s%s\r\n"
		    "From: <sip:a@ngvoice.localhost>;tag=r%d\r\n"
		    "To: <sip:b@ngvoice.localhost>\r\n"
		    "Call-ID: routing-%d\r\n"
		    "CSeq: 1 OPTIONS\r\n"
		    "Content-Length: 0\r\n\r\n",
		    ypeer, branch, rport ? ";rport" : "", i, i);
		assert_int_equal(
		    sendto(x.fd, text, (size_t)n, 0, &dst->u.sa, dst->len), n);
		unsigned on_x = raw_collect(&x, "200 OPTIONS", 3 * T1);
		unsigned on_y = raw_collect(&y, "200 OPTIONS", T1);
		if (rport || symmetric) {
			assert_int_equal(on_x, 1);
			assert_int_equal(on_y, 0);
		} else {
			assert_int_equal(on_x, 0);
			assert_int_equal(on_y, 1);
		}
	}
	srv.s = main_srv;
	assert_int_equal(srv.nreq, 3);
	sip_stack_free(s3);
	close(x.fd);
	close(y.fd);
}

int
main(void)
{
#define T(f)    cmocka_unit_test_setup_teardown(f, setup, teardown)
#define FAST(f) cmocka_unit_test_setup_teardown(f, setup_fast, teardown)
	const struct CMUnitTest tests[] = {
	    FAST(test_nict_udp),
	    T(test_nict_tcp),
	    T(test_nict_tls),
	    T(test_nict_lost_request),
	    T(test_nict_lost_response),
	    FAST(test_nict_timeout),
	    FAST(test_ict_timeout),
	    FAST(test_ict_timeout_tcp),
	    T(test_ict_busy_udp),
	    T(test_ict_busy_tcp),
	    T(test_ict_busy_tls),
	    T(test_ict_lost_invite),
	    T(test_ict_lost_ack),
	    FAST(test_ict_2xx_udp),
	    T(test_ict_2xx_tcp),
	    T(test_ict_2xx_tls),
	    T(test_ict_cancel_udp),
	    T(test_ict_cancel_early),
	    T(test_ict_cancel_tcp),
	    T(test_ict_cancel_tls),
	    T(test_cancel_unmatched),
	    T(test_rfc2543),
	    T(test_nict_proceeding),
	    T(test_ict_lost_provisional),
	    FAST(test_ict_2xx_no_ack),
	    T(test_abandon),
	    T(test_many),
	    T(test_ict_stream_reconnect),
	    T(test_transport_failure_reported),
	    T(test_udp_no_blank_line),
	    T(test_rfc2543_cancel),
	    T(test_response_routing),
	};
#undef T
#undef FAST
	/* A peer may close first: EPIPE, not a signal, as in the daemons. */
	signal(SIGPIPE, SIG_IGN);
	if (getenv("NGV_TEST_FILTER"))
		cmocka_set_test_filter(getenv("NGV_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
