/* loadgen_vm: a call manager toward `ngvoice voicemail` that places N concurrent secure calls (TLS, SRTP AEAD_AES_256_GCM) which hear a greeting and leave a message; and the UDP floor. */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include "core/log.h"
#include "media/stream.h"
#include "sdp/sdp.h"
#include "sip/dialog.h"
#include "sip/enc.h"
#include "sip/trans.h"
#include "tls/ctx.h"

#define LOOP_SOCKS_MAX 1023 /* odd, under media_loop's 1024 */
#define CALLS_PER_LOOP (4 * LOOP_SOCKS_MAX)
#define VM_SOCKS       4    /* the daemon's media sockets (its default) */
#define STOP_BEFORE_MS 250  /* our audio stops this long before the BYE */
#define MSG_LEAD_MS    300  /* after the longest greeting: then we speak */
#define MIN_MSG_MS     2500 /* shortest message we leave */

enum cstate { C_IDLE, C_INVITING, C_UP, C_BYE, C_DONE };

struct gen;

/* One call: its dialog, its media stream in one of our loops. */
struct call {
	struct gen *g;
	unsigned idx;
	enum cstate st;
	char callid[40], ltag[16], mailbox[16];
	char *invite; /* our INVITE, owned: makes the UAC dialog */
	size_t invite_len;
	struct sip_dialog *dlg;
	struct sdp_offer offer;
	struct media_stream *ms;
	struct sa rtp_local;
	struct event *ev;                   /* stop audio, then BYE */
	uint64_t t_invite, t_answer, t_end; /* µs, monotonic */
	uint64_t bye_at;                    /* when the BYE is due */
	uint64_t rx, tx, rx_expected, rx_bad;
	bool answered, ended_by_vm, failed;
	uint16_t status;
};

struct gen {
	struct event_base *base;
	struct sip_stack *stack;
	SSL_CTX *cctx;
	struct sa dst;
	char ruri[128], tls_name[128], via_host[64];
	struct media_loop **loops;
	unsigned nloops;
	struct media_clip *speech; /* silence during the greeting, then tone */
	/* The mailboxes: first, first+1, ..., each with its greeting length. */
	unsigned mb_first, mb_count;
	uint64_t *mb_pkts; /* packets of each mailbox's spoken greeting */
	uint32_t greet_max_ms;
	/* Run parameters. */
	unsigned n, rate;
	uint32_t hold_ms, call_ms;
	pid_t vm_pid;
	struct call *calls;
	unsigned started, answered, done, failed, failed_up, ended_by_vm;
	uint64_t t0, t_last_answer, t_first_stop, t_end;
	struct event *ramp_ev, *options_ev, *deadline;
	bool steady_started, steady_ended;
	/* Daemon samples. */
	uint64_t vm_cpu_begin, vm_cpu_steady0, vm_cpu_steady1, vm_cpu_end;
	uint64_t vm_rss_begin, vm_rss_steady;
	uint64_t t_steady0, t_steady1;
	double gen_cpu_steady0, gen_cpu_steady1;
	int exit_code;
};

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The daemon's CPU in ns: every thread's schedstat (the recording writer
 * thread too). 0 when there is no daemon to watch. */
static uint64_t
vm_cpu_ns(pid_t pid)
{
	char path[64], line[400];
	uint64_t sum = 0;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	DIR *d = opendir(path);
	struct dirent *de;
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		unsigned long long ns;
		FILE *f;
		if (de->d_name[0] == '.')
			continue;
		snprintf(
		    line, sizeof(line), "%s/%s/schedstat", path, de->d_name);
		if ((f = fopen(line, "r")) == NULL)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}

static uint64_t
vm_rss_kb(pid_t pid)
{
	char path[64];
	unsigned long long size, rss;
	FILE *f;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/statm", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * (uint64_t)sysconf(_SC_PAGESIZE) / 1024u;
}

/* ---- the end of a call, and of the run ---- */

/* The steady window: every call is up (from the last answer to the first
 * call that stops speaking). */
static void
steady_begin(struct gen *g)
{
	g->steady_started = true;
	g->t_steady0 = mono_us();
	g->vm_cpu_steady0 = vm_cpu_ns(g->vm_pid);
	g->gen_cpu_steady0 = self_cpu_s();
}

static void
steady_end(struct gen *g)
{
	if (g->steady_ended || !g->steady_started)
		return;
	g->steady_ended = true;
	g->t_steady1 = mono_us();
	g->vm_cpu_steady1 = vm_cpu_ns(g->vm_pid);
	g->vm_rss_steady = vm_rss_kb(g->vm_pid);
	g->gen_cpu_steady1 = self_cpu_s();
}

static void
finish_run(struct gen *g)
{
	g->t_end = mono_us();
	g->vm_cpu_end = vm_cpu_ns(g->vm_pid);
	event_base_loopexit(g->base, NULL);
}

static void
call_done(struct call *c)
{
	struct gen *g = c->g;
	struct media_stream_stats st;

	if (c->st == C_DONE)
		return;
	if (c->ms) {
		media_stream_get_stats(c->ms, &st);
		c->rx = st.rx_packets;
		c->tx = st.tx_packets;
		c->rx_bad = st.rx_auth_fail + st.rx_replay + st.rx_malformed;
		media_stream_free(c->ms);
		c->ms = NULL;
	}
	c->t_end = mono_us();
	c->st = C_DONE;
	if (c->failed && !c->answered)
		g->failed++;
	else if (c->failed)
		g->failed_up++;
	if (c->ended_by_vm)
		g->ended_by_vm++;
	sip_dialog_free(c->dlg);
	c->dlg = NULL;
	free(c->invite);
	c->invite = NULL;
	sdp_offer_wipe(&c->offer);
	if (!g->steady_started && g->answered > 0 &&
	    g->answered + g->failed == g->n)
		steady_begin(g);
	if (++g->done == g->n)
		finish_run(g);
}

/* ---- SIP requests ---- */

static void
spec_via(struct gen *g, struct sip_req_spec *sp, char *branch)
{
	sip_branch_new(branch);
	sp->proto = SIP_PROTO_TLS;
	sp->via_host = slice_cstr(g->via_host);
	sp->via_port = 5061;
	sp->branch = branch;
}

static void
send_ack(struct call *c)
{
	struct gen *g = c->g;
	struct sip_req_spec sp;
	char branch[32];
	struct buf b;

	memset(&sp, 0, sizeof(sp));
	sp.method = "ACK";
	spec_via(g, &sp, branch);
	buf_init(&b);
	if (sip_dialog_request(c->dlg, &b, &sp, NULL, NULL, 0) == 0 &&
	    b.err == 0)
		sip_tp_send(sip_stack_tp(g->stack), SIP_PROTO_TLS, &g->dst,
		    NULL, g->tls_name, b.p, b.len, NULL);
	buf_free(&b);
}

static void
bye_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct call *c = arg;

	if (!err && resp->scode < 200)
		return;
	if (err || resp->scode >= 300)
		c->failed = true;
	call_done(c);
}

static void
send_bye(struct call *c)
{
	struct gen *g = c->g;
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	char branch[32];
	struct buf b;

	c->st = C_BYE;
	memset(&sp, 0, sizeof(sp));
	sp.method = "BYE";
	spec_via(g, &sp, branch);
	buf_init(&b);
	if (sip_dialog_request(c->dlg, &b, &sp, NULL, NULL, 0) != 0 ||
	    b.err != 0 ||
	    sip_ctrans_request(&ct, g->stack, SIP_PROTO_TLS, &g->dst,
	        g->tls_name, NULL, b.p, b.len, bye_resp_h, c) != 0) {
		c->failed = true;
		call_done(c);
	}
	buf_free(&b);
}

/* First the audio stops (so that nothing is in flight at the BYE), then
 * the BYE goes. */
static void
call_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	uint64_t now = mono_us();

	(void)fd;
	(void)what;
	if (c->st != C_UP)
		return;
	if (c->ms && media_stream_playing(c->ms)) {
		struct timeval tv = {0, STOP_BEFORE_MS * 1000};
		steady_end(c->g);
		media_stream_stop_play(c->ms);
		evtimer_add(c->ev, &tv);
		return;
	}
	(void)now;
	send_bye(c);
}

static int
media_start(struct call *c, const struct sdp_neg *n)
{
	struct srtp *tx = NULL, *rx = NULL;
	const struct media_clip *clips[1] = {c->g->speech};
	int err;

	err = media_stream_set_remote(c->ms, &n->remote,
	    n->pcma ? MEDIA_PCMA : MEDIA_PCMU,
	    n->te_pt >= 0 ? (uint8_t)n->te_pt : 0);
	if (err == 0 && !n->srtp)
		err = EPROTO; /* the point is SRTP */
	if (err == 0 &&
	    ((err = srtp_alloc(&tx, n->suite, n->tx_key, n->key_len)) ||
	        (err = srtp_alloc(&rx, n->suite, n->rx_key, n->key_len)))) {
		srtp_free(tx);
		return err;
	}
	if (err)
		return err;
	media_stream_set_srtp(c->ms, tx, rx);
	return media_stream_play(c->ms, clips, 1, NULL, NULL);
}

static void
invite_answered(struct call *c, const struct sip_msg *resp)
{
	struct gen *g = c->g;
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	struct sip_msg *inv = calloc(1, sizeof(*inv));
	struct sip_perr perr;
	struct sdp_session ans;
	struct sdp_neg neg;
	char why[SDP_REASON_MAX];
	uint64_t now = mono_us();

	if (inv == NULL ||
	    sip_msg_parse(inv, c->invite, c->invite_len, true, &lim, &perr) ||
	    sip_dialog_uac(&c->dlg, inv, resp, SIP_PROTO_TLS, NULL) != 0) {
		free(inv);
		c->failed = true;
		call_done(c);
		return;
	}
	free(inv);
	memset(&neg, 0, sizeof(neg));
	if (resp->body.n == 0 ||
	    sdp_parse(&ans, resp->body.p, resp->body.n, why, sizeof(why)) !=
	        0 ||
	    sdp_offer_answered(&neg, &c->offer, &ans, why, sizeof(why)) != 0 ||
	    neg.suite != SRTP_AEAD_AES_256_GCM || media_start(c, &neg) != 0) {
		sdp_neg_wipe(&neg);
		fprintf(
		    stderr, "loadgen_vm: call %u: unusable answer\n", c->idx);
		send_ack(c);
		c->failed = true;
		send_bye(c);
		return;
	}
	sdp_neg_wipe(&neg);
	sdp_offer_wipe(&c->offer);
	/* Media first, so that the greeting's first packet finds us. */
	send_ack(c);
	c->st = C_UP;
	c->answered = true;
	c->t_answer = now;
	g->answered++;
	g->t_last_answer = now;
	/* Every call lasts the ramp plus the hold: all are up together for
	 * the hold, and they end in the order they came. */
	uint64_t stop = c->bye_at - STOP_BEFORE_MS * 1000u;
	uint64_t in = stop > now ? stop - now : 0;
	struct timeval tv = {
	    (time_t)(in / 1000000u), (suseconds_t)(in % 1000000u)};
	evtimer_add(c->ev, &tv);
	if (g->answered + g->failed == g->n && !g->steady_started)
		steady_begin(g);
}

static void
invite_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct call *c = arg;

	if (c->st != C_INVITING) {
		if (!err && resp->scode >= 200 && resp->scode < 300 && c->dlg)
			send_ack(c); /* a retransmitted 2xx */
		return;
	}
	if (err) {
		c->failed = true;
		call_done(c);
		return;
	}
	if (resp->scode < 200)
		return;
	c->status = resp->scode;
	if (resp->scode >= 300) {
		if (c->g->failed < 5)
			fprintf(stderr, "loadgen_vm: call %u: %u %.*s\n",
			    c->idx, resp->scode, (int)resp->reason.n,
			    resp->reason.p);
		c->failed = true;
		call_done(c);
		return;
	}
	invite_answered(c, resp);
}

static struct media_loop *
loop_of(struct gen *g, unsigned idx)
{
	return g->loops[idx / CALLS_PER_LOOP];
}

static void
call_start(struct gen *g, unsigned idx)
{
	struct call *c = &g->calls[idx];
	struct sdp_policy pol;
	struct sdp_local loc;
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	char branch[32], from[200], to[200], contact[200], extra[400];
	struct buf body, b;
	unsigned mb = idx % g->mb_count;

	c->g = g;
	c->idx = idx;
	c->t_invite = mono_us();
	c->rx_expected = g->mb_pkts[mb];
	snprintf(c->mailbox, sizeof(c->mailbox), "%u", g->mb_first + mb);
	/* Each call ends ramp + hold after its slot in the ramp. */
	c->bye_at = g->t0 + (uint64_t)idx * 1000000u / g->rate +
	            (uint64_t)g->call_ms * 1000u;
	sip_token_new(c->callid, sizeof(c->callid));
	sip_token_new(c->ltag, sizeof(c->ltag));
	c->ev = evtimer_new(g->base, call_timer_cb, c);
	memset(&pol, 0, sizeof(pol));
	pol.secure_rtp = true;
	pol.srtp = SRTP_OPT_GCM256;
	pol.pcmu = true;
	pol.telephone_event = true;
	if (c->ev == NULL ||
	    media_stream_alloc(&c->ms, loop_of(g, idx), &c->rtp_local) != 0 ||
	    sdp_offer_make(&c->offer, &pol) != 0) {
		c->failed = true;
		call_done(c);
		return;
	}
	memset(&loc, 0, sizeof(loc));
	loc.username = "CiscoSystemsCCM-SIP";
	loc.sess_id = idx + 1;
	loc.sess_version = 1;
	loc.name = "SIP Call";
	loc.addr = c->rtp_local;
	buf_init(&body);
	if (sdp_encode_offer(&body, &loc, &c->offer) != 0) {
		buf_free(&body);
		c->failed = true;
		call_done(c);
		return;
	}
	/* A caller forwarded to voicemail on no answer, as the call manager
	 * sends it (Diversion: RFC 5806). */
	snprintf(from, sizeof(from),
	    "\"Load %u\" <sip:%u@cucm.ngvoice.localhost>;tag=%s", idx,
	    10000 + idx, c->ltag);
	snprintf(to, sizeof(to), "<%s>", g->ruri);
	snprintf(contact, sizeof(contact), "<sip:%u@%s:5061;transport=tls>",
	    10000 + idx, g->via_host);
	snprintf(extra, sizeof(extra),
	    "Diversion: <sip:%s@cucm.ngvoice.localhost>;reason=no-answer;"
	    "privacy=off;screen=no\r\n"
	    "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY\r\n",
	    c->mailbox);
	memset(&sp, 0, sizeof(sp));
	sp.method = "INVITE";
	sp.ruri = slice_cstr(g->ruri);
	spec_via(g, &sp, branch);
	sp.from = slice_cstr(from);
	sp.to = slice_cstr(to);
	sp.callid = slice_cstr(c->callid);
	sp.cseq = 101;
	sp.contact = slice_cstr(contact);
	sp.extra = slice_cstr(extra);
	sp.ctype = SLICE_LIT("application/sdp");
	sp.body = buf_slice(&body);
	buf_init(&b);
	int err = sip_req_build(&b, &sp);
	buf_free(&body);
	if (err != 0 || b.err != 0) {
		buf_free(&b);
		c->failed = true;
		call_done(c);
		return;
	}
	c->invite = b.p; /* kept for the dialog */
	c->invite_len = b.len;
	c->st = C_INVITING;
	if (sip_ctrans_request(&ct, g->stack, SIP_PROTO_TLS, &g->dst,
	        g->tls_name, NULL, c->invite, c->invite_len, invite_resp_h,
	        c) != 0) {
		c->failed = true;
		call_done(c);
	}
}

static void
ramp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gen *g = arg;
	uint64_t el = mono_us() - g->t0;
	uint64_t want = el * g->rate / 1000000u + 1;

	(void)fd;
	(void)what;
	if (want > g->n)
		want = g->n;
	while (g->started < want)
		call_start(g, g->started++);
	if (g->started >= g->n)
		event_del(g->ramp_ev);
}

/* Requests from the voicemail server: a BYE of a call it ended. */
static void
req_h(struct sip_stack *s, const struct sip_msg *m, const struct sip_rx *rx,
    void *arg)
{
	struct gen *g = arg;
	struct sip_strans *st;

	if (sip_method_eq(m->method, "ACK"))
		return;
	if (sip_strans_alloc(&st, s, m, rx, NULL, NULL) != 0)
		return;
	if (sip_method_eq(m->method, "BYE")) {
		for (unsigned i = 0; i < g->started; i++) {
			struct call *c = &g->calls[i];
			if (c->dlg && sip_dialog_match(c->dlg, m)) {
				c->ended_by_vm = true;
				sip_strans_reply(st, 200, NULL, SLICE_NULL,
				    SLICE_NULL, SLICE_NULL, SLICE_NULL);
				if (c->st == C_UP || c->st == C_BYE)
					call_done(c);
				return;
			}
		}
		sip_strans_reply(st, 481, NULL, SLICE_NULL, SLICE_NULL,
		    SLICE_NULL, SLICE_NULL);
		return;
	}
	sip_strans_reply(
	    st, 200, NULL, SLICE_LIT("lg"), SLICE_NULL, SLICE_NULL, SLICE_NULL);
}

/* The voicemail server answers our OPTIONS 200 only when it takes us for
 * its port group's SIP server: then the calls start. */
static void
options_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct gen *g = arg;
	struct timeval tv = {0, 5000};

	if (!err && resp->scode < 200)
		return;
	if (err || resp->scode != 200) {
		fprintf(stderr,
		    "loadgen_vm: OPTIONS to the voicemail server: %s%.*s "
		    "(not taken for its port group's SIP server?)\n",
		    err ? strerror(err) : "", err ? 0 : (int)resp->reason.n,
		    err ? "" : resp->reason.p);
		g->exit_code = 1;
		event_base_loopexit(g->base, NULL);
		return;
	}
	g->vm_rss_begin = vm_rss_kb(g->vm_pid);
	g->vm_cpu_begin = vm_cpu_ns(g->vm_pid);
	g->t0 = mono_us();
	event_add(g->ramp_ev, &tv);
	ramp_cb(-1, 0, g);
}

static int
send_options(struct gen *g)
{
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	char branch[32], from[128], tag[16], callid[40];
	struct buf b;
	int err;

	sip_token_new(tag, sizeof(tag));
	sip_token_new(callid, sizeof(callid));
	snprintf(
	    from, sizeof(from), "<sip:cucm.ngvoice.localhost>;tag=%s", tag);
	memset(&sp, 0, sizeof(sp));
	sp.method = "OPTIONS";
	sp.ruri = slice_cstr(g->ruri);
	spec_via(g, &sp, branch);
	sp.from = slice_cstr(from);
	sp.to = slice_cstr(g->ruri);
	sp.callid = slice_cstr(callid);
	sp.cseq = 1;
	buf_init(&b);
	err = sip_req_build(&b, &sp);
	if (err == 0 && b.err == 0)
		err = sip_ctrans_request(&ct, g->stack, SIP_PROTO_TLS, &g->dst,
		    g->tls_name, NULL, b.p, b.len, options_resp_h, g);
	buf_free(&b);
	return err;
}

/* --trace: once a second, when our own packets went out late. */
static void
trace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gen *g = arg;
	struct media_loop_stats ls;
	uint64_t late = 0, worst = 0;

	(void)fd;
	(void)what;
	for (unsigned i = 0; i < g->nloops; i++) {
		media_loop_get_stats(g->loops[i], &ls);
		late += ls.tx_late;
		if (ls.max_late_us > worst)
			worst = ls.max_late_us;
	}
	fprintf(stderr,
	    "trace t=%.1f started=%u answered=%u done=%u gen_tx_late=%llu "
	    "gen_max_late_us=%llu\n",
	    g->t0 ? (double)(mono_us() - g->t0) / 1e6 : 0, g->started,
	    g->answered, g->done, (unsigned long long)late,
	    (unsigned long long)worst);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gen *g = arg;

	(void)fd;
	(void)what;
	fprintf(stderr, "loadgen_vm: deadline: %u of %u calls finished\n",
	    g->done, g->n);
	g->exit_code = 1;
	finish_run(g);
}

/* ---- prompts: the greeting each mailbox plays ---- */

static int
clip_samples(const char *dir, const char *name, uint64_t *samples)
{
	char path[4096], err[200];
	struct media_clip *c;

	snprintf(path, sizeof(path), "%s/%s.wav", dir, name);
	if (media_clip_load(&c, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "loadgen_vm: %s: %s\n", path, err);
		return -1;
	}
	*samples = c->samples;
	media_clip_free(c);
	return 0;
}

/*
 * A mailbox without a recorded greeting plays greeting_standard_pre, its
 * extension digit by digit, greeting_unavailable and the beep, back to
 * back (voicemail/call.c start_greeting): ceil(samples / 160) packets.
 */
static int
greetings_load(struct gen *g, const char *dir)
{
	uint64_t pre, unav, beep, digit[10];
	char name[16];

	if (clip_samples(dir, "greeting_standard_pre", &pre) ||
	    clip_samples(dir, "greeting_unavailable", &unav) ||
	    clip_samples(dir, "beep", &beep))
		return -1;
	for (int d = 0; d < 10; d++) {
		snprintf(name, sizeof(name), "digit_%d", d);
		if (clip_samples(dir, name, &digit[d]))
			return -1;
	}
	g->mb_pkts = calloc(g->mb_count, sizeof(*g->mb_pkts));
	if (g->mb_pkts == NULL)
		return -1;
	for (unsigned i = 0; i < g->mb_count; i++) {
		char ext[16];
		uint64_t s = pre + unav + beep;
		snprintf(ext, sizeof(ext), "%u", g->mb_first + i);
		for (char *p = ext; *p; p++)
			s += digit[*p - '0'];
		g->mb_pkts[i] = (s + 159) / 160;
		if ((uint32_t)(s / 8) > g->greet_max_ms)
			g->greet_max_ms = (uint32_t)(s / 8);
	}
	return 0;
}

/* What the caller says: silence while the longest greeting plays, then a
 * 440 Hz tone well above the silence level until the end of the call. */
static int
speech_make(struct gen *g)
{
	size_t lead = (size_t)(g->greet_max_ms + MSG_LEAD_MS) * 8;
	size_t total = (size_t)g->call_ms * 8 + 8000;
	int16_t *pcm = calloc(total, sizeof(*pcm));
	int rc;

	if (pcm == NULL)
		return ENOMEM;
	for (size_t i = lead; i < total; i++)
		pcm[i] = (int16_t)(6000 * sin(2 * 3.14159265358979 * 440 *
		                              (double)i / 8000));
	rc = media_clip_from_pcm(&g->speech, "speech", pcm, total);
	free(pcm);
	return rc;
}

/* ---- the UDP floor: send + receive of one SRTP-sized packet ---- */

static double
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * Kernel cost of a packet on loopback: sendmmsg from one socket to
 * another and recvmmsg there, in one thread, batch packets per system
 * call. Returns the CPU ns of one send plus one receive (median of reps).
 */
static double
udp_floor(unsigned batch, unsigned reps, unsigned pkts)
{
	enum { PLEN = 188 }; /* 12 + 160 + 16 (AEAD_AES_256_GCM tag) */
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	struct mmsghdr tm[64], rm[64];
	struct iovec tv[64], rv[64];
	static uint8_t tb[64][PLEN], rb[64][1500];
	double res[32];
	int big = 1 << 20;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int r = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0 || r < 0 || batch == 0 || batch > 64 || reps > 32)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(r, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(r, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(r, (struct sockaddr *)&a, &al) != 0)
		return -1;
	memset(tm, 0, sizeof(tm));
	memset(rm, 0, sizeof(rm));
	for (unsigned i = 0; i < batch; i++) {
		tv[i].iov_base = tb[i];
		tv[i].iov_len = PLEN;
		tm[i].msg_hdr.msg_name = &a;
		tm[i].msg_hdr.msg_namelen = sizeof(a);
		tm[i].msg_hdr.msg_iov = &tv[i];
		tm[i].msg_hdr.msg_iovlen = 1;
		rv[i].iov_base = rb[i];
		rv[i].iov_len = sizeof(rb[i]);
		rm[i].msg_hdr.msg_iov = &rv[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}
	for (unsigned k = 0; k < reps; k++) {
		double t0 = thread_cpu_ns();
		unsigned sent = 0;
		while (sent < pkts) {
			int n = sendmmsg(s, tm, batch, 0);
			if (n <= 0)
				return -1;
			int got = 0;
			while (got < n) {
				int m = recvmmsg(
				    r, rm, (unsigned)(n - got), 0, NULL);
				if (m <= 0)
					return -1;
				got += m;
			}
			sent += (unsigned)n;
		}
		res[k] = (thread_cpu_ns() - t0) / sent;
	}
	close(s);
	close(r);
	/* median */
	for (unsigned i = 1; i < reps; i++)
		for (unsigned j = i; j > 0 && res[j - 1] > res[j]; j--) {
			double t = res[j];
			res[j] = res[j - 1];
			res[j - 1] = t;
		}
	return res[reps / 2];
}

/*
 * The machine's own timer noise: a thread that wakes every 5 ms on an
 * absolute clock, as the media loop's tick does, and counts wakeups more
 * than 2.5 ms late (a tick that late lets a packet out more than 5 ms
 * after its time). Nothing else runs in it: what it sees is the machine.
 */
static volatile sig_atomic_t jitter_stop;

static void
jitter_term(int sig)
{
	(void)sig;
	jitter_stop = 1;
}

/* Ends at the time given or at SIGTERM, and then prints what it saw. */
static void
jitter(double seconds)
{
	struct timespec next;
	uint64_t n = 0, late = 0, late5 = 0, worst = 0;
	uint64_t end = mono_us() + (uint64_t)(seconds * 1e6);

	signal(SIGTERM, jitter_term);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (mono_us() < end && !jitter_stop) {
		next.tv_nsec += 5000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		if (clock_nanosleep(
		        CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0)
			break; /* SIGTERM */
		uint64_t due = (uint64_t)next.tv_sec * 1000000u +
		               (uint64_t)next.tv_nsec / 1000u;
		uint64_t now = mono_us(), l = now > due ? now - due : 0;
		n++;
		if (l > 2500)
			late++;
		if (l > 5000)
			late5++;
		if (l > worst)
			worst = l;
	}
	printf("jitter_wakeups=%llu jitter_late_2500us=%llu "
	       "jitter_late_5000us=%llu jitter_worst_us=%llu\n",
	    (unsigned long long)n, (unsigned long long)late,
	    (unsigned long long)late5, (unsigned long long)worst);
}

/* ---- main ---- */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen_vm --vm HOST:PORT --cert F --key F --ca F "
	    "--prompts DIR\n"
	    "         --calls N [--rate CALLS_PER_S] [--hold S] "
	    "[--mailbox FIRST] [--mailboxes N]\n"
	    "         [--vm-pid PID] [--tls-name NAME]\n"
	    "       loadgen_vm --udp-floor [--smoke]\n"
	    "       loadgen_vm --jitter SECONDS\n");
	exit(2);
}

static void
print_results(struct gen *g)
{
	uint64_t rx = 0, rx_exp = 0, tx = 0, rx_bad = 0, short_calls = 0;
	uint64_t setup_max = 0, setup_sum = 0;
	double call_s = 0;
	unsigned answered = 0;
	struct media_loop_stats ls, tot;

	memset(&tot, 0, sizeof(tot));
	for (unsigned i = 0; i < g->nloops; i++) {
		media_loop_get_stats(g->loops[i], &ls);
		tot.tx_late += ls.tx_late;
		if (ls.max_late_us > tot.max_late_us)
			tot.max_late_us = ls.max_late_us;
		tot.rx_unknown += ls.rx_unknown;
		tot.tx_errors += ls.tx_errors;
	}
	for (unsigned i = 0; i < g->n; i++) {
		struct call *c = &g->calls[i];
		if (!c->answered)
			continue;
		answered++;
		rx += c->rx;
		tx += c->tx;
		rx_bad += c->rx_bad;
		rx_exp += c->rx_expected;
		if (c->rx < c->rx_expected)
			short_calls++;
		uint64_t su = c->t_answer - c->t_invite;
		setup_sum += su;
		if (su > setup_max)
			setup_max = su;
		if (c->t_end > c->t_answer)
			call_s += (double)(c->t_end - c->t_answer) / 1e6;
	}
	double steady_s = (double)(g->t_steady1 - g->t_steady0) / 1e6;
	printf("calls=%u answered=%u failed=%u failed_after_answer=%u "
	       "ended_by_vm=%u\n",
	    g->n, answered, g->failed, g->failed_up, g->ended_by_vm);
	printf("rx_packets=%llu rx_expected=%llu rx_lost=%lld "
	       "calls_with_loss=%llu rx_bad=%llu rx_unknown=%llu\n",
	    (unsigned long long)rx, (unsigned long long)rx_exp,
	    (long long)rx_exp - (long long)rx, (unsigned long long)short_calls,
	    (unsigned long long)rx_bad, (unsigned long long)tot.rx_unknown);
	printf("tx_packets=%llu gen_tx_late=%llu gen_max_late_us=%llu "
	       "gen_tx_errors=%llu\n",
	    (unsigned long long)tx, (unsigned long long)tot.tx_late,
	    (unsigned long long)tot.max_late_us,
	    (unsigned long long)tot.tx_errors);
	printf("setup_ms_mean=%.1f setup_ms_max=%.1f greeting_ms_max=%u "
	       "call_ms=%u\n",
	    answered ? (double)setup_sum / answered / 1000 : 0,
	    (double)setup_max / 1000, g->greet_max_ms, g->call_ms);
	printf("steady_s=%.3f vm_cpu_steady_s=%.4f gen_cpu_steady_s=%.4f\n",
	    g->steady_ended ? steady_s : 0,
	    g->steady_ended
	        ? (double)(g->vm_cpu_steady1 - g->vm_cpu_steady0) / 1e9
	        : 0,
	    g->steady_ended ? g->gen_cpu_steady1 - g->gen_cpu_steady0 : 0);
	printf("call_seconds=%.3f vm_cpu_whole_s=%.4f wall_s=%.3f\n", call_s,
	    (double)(g->vm_cpu_end - g->vm_cpu_begin) / 1e9,
	    (double)(g->t_end - g->t0) / 1e6);
	printf("vm_rss_begin_kb=%llu vm_rss_steady_kb=%llu\n",
	    (unsigned long long)g->vm_rss_begin,
	    (unsigned long long)g->vm_rss_steady);
}

int
main(int argc, char **argv)
{
	static struct gen g;
	const char *vm = NULL, *cert = NULL, *key = NULL, *ca = NULL;
	const char *prompts = NULL, *tls_name = "cuc.ngvoice.localhost";
	bool floor_mode = false, smoke = false, trace = false;
	struct sip_stack_conf sc;
	struct tls_opts to;
	char host[128];
	int opt;
	static const struct option opts[] = {
	    {"vm", required_argument, NULL, 'v'},
	    {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"ca", required_argument, NULL, 'a'},
	    {"prompts", required_argument, NULL, 'p'},
	    {"calls", required_argument, NULL, 'n'},
	    {"rate", required_argument, NULL, 'r'},
	    {"hold", required_argument, NULL, 'H'},
	    {"mailbox", required_argument, NULL, 'm'},
	    {"mailboxes", required_argument, NULL, 'M'},
	    {"vm-pid", required_argument, NULL, 'P'},
	    {"tls-name", required_argument, NULL, 't'},
	    {"udp-floor", no_argument, NULL, 'u'},
	    {"smoke", no_argument, NULL, 's'},
	    {"jitter", required_argument, NULL, 'j'},
	    {"trace", no_argument, NULL, 'T'},
	    {NULL, 0, NULL, 0},
	};

	g.rate = 200;
	g.hold_ms = 12000;
	g.mb_first = 3000;
	g.mb_count = 100;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			vm = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'a':
			ca = optarg;
			break;
		case 'p':
			prompts = optarg;
			break;
		case 'n':
			g.n = (unsigned)atoi(optarg);
			break;
		case 'r':
			g.rate = (unsigned)atoi(optarg);
			break;
		case 'H':
			g.hold_ms = (uint32_t)(atof(optarg) * 1000);
			break;
		case 'm':
			g.mb_first = (unsigned)atoi(optarg);
			break;
		case 'M':
			g.mb_count = (unsigned)atoi(optarg);
			break;
		case 'P':
			g.vm_pid = (pid_t)atol(optarg);
			break;
		case 't':
			tls_name = optarg;
			break;
		case 'u':
			floor_mode = true;
			break;
		case 's':
			smoke = true;
			break;
		case 'T':
			trace = true;
			break;
		case 'j':
			jitter(atof(optarg));
			return 0;
		default:
			usage();
		}
	}
	if (floor_mode) {
		unsigned pk = smoke ? 20000 : 400000, reps = smoke ? 3 : 7;
		printf("udp_pair_ns_batch32=%.1f udp_pair_ns_batch1=%.1f\n",
		    udp_floor(32, reps, pk), udp_floor(1, reps, pk / 4));
		return 0;
	}
	if (!vm || !cert || !key || !ca || !prompts || g.n == 0 ||
	    g.rate == 0 || g.mb_count == 0)
		usage();
	const char *colon = strrchr(vm, ':');
	if (colon == NULL || (size_t)(colon - vm) >= sizeof(host))
		usage();
	memcpy(host, vm, (size_t)(colon - vm));
	host[colon - vm] = '\0';
	if (sa_resolve(&g.dst, host, (uint16_t)atoi(colon + 1), 0) != 0) {
		fprintf(stderr, "loadgen_vm: %s does not resolve\n", host);
		return 2;
	}
	snprintf(g.ruri, sizeof(g.ruri), "sip:2000@%s;transport=tls", vm);
	snprintf(g.tls_name, sizeof(g.tls_name), "%s", tls_name);
	snprintf(g.via_host, sizeof(g.via_host), "127.0.0.1");
	signal(SIGPIPE, SIG_IGN);

	/* Room for every stream's sockets. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (srtp_init() != 0 || greetings_load(&g, prompts) != 0)
		return 1;
	g.call_ms = (uint32_t)((uint64_t)g.n * 1000 / g.rate) + g.hold_ms;
	if (g.call_ms < g.greet_max_ms + MSG_LEAD_MS + MIN_MSG_MS)
		g.call_ms = g.greet_max_ms + MSG_LEAD_MS + MIN_MSG_MS;
	if (speech_make(&g) != 0)
		return 1;
	g.base = media_event_base_new();
	g.calls = calloc(g.n, sizeof(*g.calls));
	if (g.base == NULL || g.calls == NULL)
		return 1;
	sip_stack_conf_default(&sc);
	sc.user_agent = "ngvoice-loadgen-vm";
	sc.tp.max_conn_buf = 64u << 20;
	if (sip_stack_alloc(&g.stack, g.base, &sc, req_h, &g) != 0)
		return 1;
	tls_opts_default(&to);
	to.cert = cert;
	to.key = key;
	to.ca_file = ca;
	to.verify_peer = true;
	to.ciphers = TLS_CIPHERS_ALL_ECDSA;
	to.what = "loadgen_vm TLS client";
	if (tls_ctx_new(&g.cctx, false, &to) != 0)
		return 1;
	sip_tp_set_client_tls(sip_stack_tp(g.stack), g.cctx);

	/*
	 * The daemon tells streams apart by (its socket, our address). Its
	 * media loop has 4 sockets taken in turn, and our streams take our
	 * sockets in turn: with an odd number K of ours, calls i < 4K meet
	 * distinct pairs (i mod 4, i mod K), since 4 and K are coprime.
	 */
	g.nloops = (g.n + CALLS_PER_LOOP - 1) / CALLS_PER_LOOP;
	g.loops = calloc(g.nloops, sizeof(*g.loops));
	if (g.loops == NULL)
		return 1;
	for (unsigned j = 0; j < g.nloops; j++) {
		struct media_loop_opts mo;
		unsigned in = g.n - j * CALLS_PER_LOOP;
		if (in > CALLS_PER_LOOP)
			in = CALLS_PER_LOOP;
		memset(&mo, 0, sizeof(mo));
		sa_set_str(&mo.local, "127.0.0.1", 0);
		mo.nsockets = (in + VM_SOCKS - 1) / VM_SOCKS;
		mo.nsockets |= 1;
		if (media_loop_alloc(&g.loops[j], g.base, &mo) != 0) {
			fprintf(stderr,
			    "loadgen_vm: media loop of %u sockets "
			    "failed\n",
			    mo.nsockets);
			return 1;
		}
	}
	g.ramp_ev = event_new(g.base, -1, EV_PERSIST, ramp_cb, &g);
	g.deadline = evtimer_new(g.base, deadline_cb, &g);
	struct timeval dl = {(time_t)(g.call_ms / 1000 * 2 + 60), 0};
	evtimer_add(g.deadline, &dl);
	struct event *tr = event_new(g.base, -1, EV_PERSIST, trace_cb, &g);
	struct timeval one = {1, 0};
	if (trace && tr)
		event_add(tr, &one);
	if (send_options(&g) != 0) {
		fprintf(stderr, "loadgen_vm: cannot send OPTIONS\n");
		return 1;
	}
	fprintf(stderr,
	    "loadgen_vm: %u calls at %u/s, each %.1f s (greeting up to "
	    "%.1f s, then a message), %u mailboxes from %u\n",
	    g.n, g.rate, g.call_ms / 1000.0, g.greet_max_ms / 1000.0,
	    g.mb_count, g.mb_first);
	event_base_dispatch(g.base);
	steady_end(&g);
	print_results(&g);
	for (unsigned i = 0; i < g.n; i++) {
		struct call *c = &g.calls[i];
		media_stream_free(c->ms);
		sip_dialog_free(c->dlg);
		free(c->invite);
		sdp_offer_wipe(&c->offer);
		if (c->ev)
			event_free(c->ev);
	}
	sip_stack_free(g.stack);
	for (unsigned j = 0; j < g.nloops; j++)
		media_loop_free(g.loops[j]);
	media_clip_free(g.speech);
	SSL_CTX_free(g.cctx);
	event_free(g.ramp_ev);
	event_free(g.deadline);
	if (tr)
		event_free(tr);
	event_base_free(g.base);
	free(g.calls);
	free(g.loops);
	free(g.mb_pkts);
	if (g.exit_code == 0 && g.failed + g.failed_up > 0)
		g.exit_code = 3;
	return g.exit_code;
}
