/* A small secure SIP user agent: registers a line, places or answers one call with SRTP, plays, records, sends digits, takes MWI. */
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/phone_ua.h"
#include "core/log.h"
#include "core/secure.h"
#include "media/stream.h"
#include "sdp/sdp.h"
#include "sip/auth.h"
#include "sip/dialog.h"
#include "sip/enc.h"
#include "sip/trans.h"
#include "tls/ctx.h"

#define PHONE_UA_NAME      "ngvoice-phone"
#define PHONE_EXPIRES_DEF  600
#define PHONE_AUTH_TRIES   2 /* answers to challenges per request */
#define PHONE_DTMF_BODY_SZ 64

enum call_state {
	CALL_IDLE,
	CALL_INVITING, /* our INVITE is pending */
	CALL_RINGING,  /* an incoming INVITE we answered 180 */
	CALL_UP,
	CALL_BYE, /* our BYE is pending */
};

/* The one call a phone handles at a time. */
struct phone_call {
	enum call_state state;
	bool outgoing;
	char callid[40];
	char ltag[16];
	char ruri[300]; /* the INVITE's Request-URI */
	char to[320];
	uint32_t cseq;
	unsigned auth_tries;
	char *invite; /* our last INVITE, owned: makes the UAC dialog */
	size_t invite_len;
	struct sip_ctrans *ct;  /* pending INVITE, borrowed from the stack */
	struct sip_strans *st;  /* incoming INVITE not answered yet */
	struct sip_dialog *dlg; /* owned */
	struct sdp_offer offer; /* our offer and its keys (wiped) */
	struct media_stream *ms;
	struct sa rtp_local;
	struct media_clip *clip;
	struct phone_call_opts opts;
	bool recording;
	double t_answer; /* ms, monotonic */
	size_t next_digit;
	struct event *hangup_ev;
	struct event *digit_ev;
};

struct phone_ua {
	struct event_base *base; /* borrowed */
	struct phone_ua_conf conf;
	phone_event_h *h;
	void *arg;
	unsigned pending; /* events to deliver, one bit each */
	struct event *defer;

	struct sip_stack *stack;
	SSL_CTX *cctx, *sctx;
	struct media_loop *ml;
	struct sa dst;  /* the registrar */
	char host[256]; /* registrar host as given */
	char domain[256];
	char tls_name[256];
	char local_ip[64];
	uint16_t via_port; /* our listener, 0 when none */
	char contact[320];
	char aor[320];         /* <sip:user@domain> */
	struct sip_conn *flow; /* the registration's connection, referenced */

	/* registration */
	char reg_callid[40];
	char reg_tag[16];
	uint32_t reg_cseq;
	unsigned reg_auth_tries;
	uint32_t reg_expires; /* what we ask for; 0 while un-registering */
	struct event *refresh_ev;

	struct phone_call call;
	struct phone_call_opts answer_opts;
	struct phone_report rep;
};

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- events: always delivered from the loop ---- */

static void
defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct phone_ua *ua = arg;

	(void)fd;
	(void)what;
	while (ua->pending) {
		unsigned bit = (unsigned)__builtin_ctz(ua->pending);
		ua->pending &= ~(1u << bit);
		if (ua->h)
			ua->h((enum phone_event)bit, ua->arg);
	}
}

static void
emit(struct phone_ua *ua, enum phone_event ev)
{
	ua->pending |= 1u << ev;
	event_active(ua->defer, EV_TIMEOUT, 0);
}

static void
timer_set(struct event *ev, uint32_t ms)
{
	struct timeval tv = {
	    .tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(ev, &tv);
}

/* ---- sending ---- */

static void
flow_update(struct phone_ua *ua)
{
	struct sip_conn *c;
	SSL *ssl;

	if (ua->conf.proto == SIP_PROTO_UDP)
		return;
	c = sip_tp_conn(sip_stack_tp(ua->stack), ua->conf.proto, &ua->dst);
	if (c && c != ua->flow) {
		sip_conn_unref(ua->flow);
		ua->flow = sip_conn_ref(c);
	}
	if (ua->flow && (ssl = sip_conn_ssl(ua->flow)) != NULL) {
		snprintf(ua->rep.tls_version, sizeof(ua->rep.tls_version), "%s",
		    SSL_get_version(ssl));
		snprintf(ua->rep.tls_cipher, sizeof(ua->rep.tls_cipher), "%s",
		    SSL_get_cipher_name(ssl));
	}
}

static const char *
tls_name(const struct phone_ua *ua)
{
	return ua->tls_name[0] ? ua->tls_name : NULL;
}

/* Fills the Via part of a request spec. */
static void
spec_via(struct phone_ua *ua, struct sip_req_spec *sp, char *branch)
{
	sip_branch_new(branch);
	sp->proto = ua->conf.proto;
	sp->via_host = slice_cstr(ua->local_ip);
	sp->via_port = ua->via_port;
	sp->branch = branch;
}

static struct sip_conn *
flow(struct phone_ua *ua)
{
	return ua->flow && sip_conn_open(ua->flow) ? ua->flow : NULL;
}

/* Sends complete request bytes to the registrar in a client transaction. */
static int
send_ctrans(struct phone_ua *ua, const struct buf *b, sip_resp_h *h,
    struct sip_ctrans **ctp)
{
	struct sip_ctrans *ct;
	int err;

	if (b->err)
		return b->err;
	err = sip_ctrans_request(&ct, ua->stack, ua->conf.proto, &ua->dst,
	    tls_name(ua), flow(ua), b->p, b->len, h, ua);
	if (err == 0 && ctp)
		*ctp = ct;
	return err;
}

/*
 * Answers a 401 or 407 (RFC 3261 22.2, 22.3): the first challenge we can
 * answer, as an Authorization or Proxy-Authorization header line in out.
 */
static int
auth_answer(struct phone_ua *ua, const struct sip_msg *resp, const char *method,
    const char *uri, struct buf *out)
{
	bool proxy = resp->scode == 407;
	enum sip_hdr_id id =
	    proxy ? SIP_HDR_PROXY_AUTHENTICATE : SIP_HDR_WWW_AUTHENTICATE;
	int err = ENOENT;

	if (ua->conf.password == NULL)
		return EACCES;
	for (const struct sip_hdr *h = sip_msg_hdr(resp, id); h;
	     h = sip_msg_hdr_next(resp, h)) {
		struct sip_auth_params chal;
		struct buf v;
		if (sip_auth_parse(&chal, h->val) != 0 || !chal.digest)
			continue;
		buf_init(&v);
		err = sip_auth_respond(&v, &chal, slice_cstr(method),
		    slice_cstr(uri), ua->conf.user, ua->conf.password, 1, NULL);
		if (err == 0) {
			buf_append_str(out, proxy ? "Proxy-Authorization: "
			                          : "Authorization: ");
			buf_append_slice(out, buf_slice(&v));
			BUF_LIT(out, "\r\n");
		}
		buf_free(&v);
		if (err == 0)
			return out->err;
	}
	return err;
}

/* ---- registration (RFC 3261 section 10) ---- */

static void reg_resp_h(int err, const struct sip_msg *resp, void *arg);

static int
reg_send(struct phone_ua *ua, const char *auth)
{
	char branch[32], ruri[300], from[400], contact[400], extra[2048];
	struct sip_req_spec sp;
	struct buf b;
	int err;

	snprintf(ruri, sizeof(ruri), "sip:%s", ua->domain);
	snprintf(from, sizeof(from), "%s;tag=%s", ua->aor, ua->reg_tag);
	snprintf(contact, sizeof(contact), "%s;expires=%u", ua->contact,
	    ua->reg_expires);
	snprintf(extra, sizeof(extra), "%sExpires: %u\r\n", auth ? auth : "",
	    ua->reg_expires);
	memset(&sp, 0, sizeof(sp));
	sp.method = "REGISTER";
	sp.ruri = slice_cstr(ruri);
	spec_via(ua, &sp, branch);
	sp.from = slice_cstr(from);
	sp.to = slice_cstr(ua->aor);
	sp.callid = slice_cstr(ua->reg_callid);
	sp.cseq = ++ua->reg_cseq;
	sp.contact = slice_cstr(contact);
	sp.extra = slice_cstr(extra);
	buf_init(&b);
	err = sip_req_build(&b, &sp);
	if (err == 0)
		err = send_ctrans(ua, &b, reg_resp_h, NULL);
	buf_free(&b);
	return err;
}

static void
refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct phone_ua *ua = arg;

	(void)fd;
	(void)what;
	ua->reg_auth_tries = 0;
	if (reg_send(ua, NULL) != 0)
		log_warn(
		    "phone %s: cannot refresh the registration", ua->conf.user);
}

static void
reg_failed(struct phone_ua *ua, uint16_t code, const char *why)
{
	ua->rep.registered = false;
	ua->rep.reg_status = code;
	snprintf(ua->rep.reg_reason, sizeof(ua->rep.reg_reason), "%.*s",
	    (int)sizeof(ua->rep.reg_reason) - 1, why);
	emit(ua, ua->reg_expires ? PHONE_EV_REG_FAILED : PHONE_EV_UNREGISTERED);
}

/* The expiry the registrar granted to our contact, else Expires. */
static uint32_t
granted_expires(const struct phone_ua *ua, const struct sip_msg *resp)
{
	struct sip_values it;
	struct slice v, ev;
	uint64_t e;
	char mine[320];

	/* Our contact without its angle brackets, to find it in the list. */
	snprintf(mine, sizeof(mine), "%.*s", (int)strlen(ua->contact) - 2,
	    ua->contact + 1);
	sip_values_init(&it, resp, SIP_HDR_CONTACT);
	while (sip_values_next(&it, &v)) {
		struct sip_addr a;
		if (sip_addr_parse(&a, v) == 0 &&
		    slice_eq_cstr(a.uri_s, mine) &&
		    sip_param_get(a.params, "expires", &ev) == 0 &&
		    slice_u64(ev, UINT32_MAX, &e) == 0)
			return (uint32_t)e;
	}
	return resp->has_expires ? resp->expires : ua->reg_expires;
}

static void
reg_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct phone_ua *ua = arg;
	char why[160], ruri[300];

	if (err) {
		if (err == ETIMEDOUT)
			snprintf(why, sizeof(why),
			    "no answer from the registrar (Timer F)");
		else
			snprintf(why, sizeof(why),
			    "%s connection to the registrar failed (%s)%s",
			    sip_proto_name(ua->conf.proto), strerror(err),
			    ua->conf.proto == SIP_PROTO_TLS
			        ? ": see the TLS log line above"
			        : "");
		reg_failed(ua, 0, why);
		return;
	}
	if (resp->scode < 200)
		return;
	flow_update(ua);
	if ((resp->scode == 401 || resp->scode == 407) &&
	    ua->reg_auth_tries < PHONE_AUTH_TRIES) {
		struct buf auth;
		int aerr;
		ua->reg_auth_tries++;
		snprintf(ruri, sizeof(ruri), "sip:%s", ua->domain);
		buf_init(&auth);
		aerr = auth_answer(ua, resp, "REGISTER", ruri, &auth);
		if (aerr == 0) {
			buf_append(&auth, "", 1);
			aerr = auth.err ? auth.err : reg_send(ua, auth.p);
		}
		buf_free(&auth);
		if (aerr == 0)
			return;
		snprintf(why, sizeof(why), "%u %.*s: %s", resp->scode,
		    (int)resp->reason.n, resp->reason.p,
		    aerr == EACCES    ? "no password given"
		    : aerr == ENOTSUP ? "no challenge with an algorithm we know"
		                      : strerror(aerr));
		reg_failed(ua, resp->scode, why);
		return;
	}
	if (resp->scode >= 300) {
		snprintf(why, sizeof(why), "%.*s", (int)resp->reason.n,
		    resp->reason.p);
		reg_failed(ua, resp->scode, why);
		return;
	}
	ua->reg_auth_tries = 0;
	ua->rep.reg_status = resp->scode;
	snprintf(ua->rep.reg_reason, sizeof(ua->rep.reg_reason), "%.*s",
	    (int)resp->reason.n, resp->reason.p);
	if (ua->reg_expires == 0) {
		ua->rep.registered = false;
		evtimer_del(ua->refresh_ev);
		emit(ua, PHONE_EV_UNREGISTERED);
		return;
	}
	ua->rep.registered = true;
	uint32_t e = granted_expires(ua, resp);
	timer_set(ua->refresh_ev, (e > 10 ? e / 2 : 5) * 1000);
	emit(ua, PHONE_EV_REGISTERED);
}

int
phone_ua_register(struct phone_ua *ua)
{
	if (ua == NULL)
		return EINVAL;
	ua->reg_expires =
	    ua->conf.expires ? ua->conf.expires : PHONE_EXPIRES_DEF;
	ua->reg_auth_tries = 0;
	return reg_send(ua, NULL);
}

int
phone_ua_unregister(struct phone_ua *ua)
{
	if (ua == NULL)
		return EINVAL;
	evtimer_del(ua->refresh_ev);
	ua->reg_expires = 0;
	ua->reg_auth_tries = 0;
	return reg_send(ua, NULL);
}

/* ---- calls ---- */

static void
call_media_stop(struct phone_ua *ua)
{
	struct phone_call *c = &ua->call;
	struct media_stream_stats st;

	if (c->ms == NULL)
		return;
	media_stream_get_stats(c->ms, &st);
	ua->rep.tx_packets = st.tx_packets;
	ua->rep.rx_packets = st.rx_packets;
	ua->rep.rx_dropped = st.rx_auth_fail + st.rx_replay + st.rx_malformed;
	if (c->recording) {
		uint32_t ms = 0;
		if (media_stream_stop_record(c->ms, &ms) == 0)
			ua->rep.heard_ms = ms;
		c->recording = false;
	} else if (c->opts.record == NULL) {
		ua->rep.heard_ms = (uint32_t)(st.rx_packets * 20);
	}
	media_stream_free(c->ms);
	c->ms = NULL;
}

/* Forgets the call: media, timers, dialog. Emits nothing. */
static void
call_clear(struct phone_ua *ua)
{
	struct phone_call *c = &ua->call;

	call_media_stop(ua);
	if (c->ct)
		sip_ctrans_abandon(c->ct);
	if (c->st) /* a final answer hands it to the stack */
		sip_strans_reply(c->st, 480, NULL, slice_cstr(c->ltag),
		    SLICE_NULL, SLICE_NULL, SLICE_NULL);
	if (c->hangup_ev)
		event_free(c->hangup_ev);
	if (c->digit_ev)
		event_free(c->digit_ev);
	sip_dialog_free(c->dlg);
	media_clip_free(c->clip);
	free(c->invite);
	sdp_offer_wipe(&c->offer);
	memset(c, 0, sizeof(*c));
	c->state = CALL_IDLE;
}

static void
call_end(struct phone_ua *ua, bool by_peer)
{
	ua->rep.ended_by_peer = by_peer;
	call_clear(ua);
	emit(ua, PHONE_EV_CALL_ENDED);
}

static void call_fail(struct phone_ua *ua, uint16_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
call_fail(struct phone_ua *ua, uint16_t code, const char *fmt, ...)
{
	va_list ap;

	ua->rep.call_status = code;
	va_start(ap, fmt);
	vsnprintf(ua->rep.call_reason, sizeof(ua->rep.call_reason), fmt, ap);
	va_end(ap);
	call_clear(ua);
	emit(ua, PHONE_EV_CALL_FAILED);
}

static void indialog_resp_h(int err, const struct sip_msg *resp, void *arg);

/* Sends an in-dialog request through the registrar's flow. */
static int
send_in_dialog(struct phone_ua *ua, const char *method, struct slice ctype,
    struct slice body, sip_resp_h *h)
{
	struct phone_call *c = &ua->call;
	struct sip_req_spec sp;
	char branch[32];
	struct buf b;
	int err;

	if (c->dlg == NULL)
		return EPROTO;
	memset(&sp, 0, sizeof(sp));
	sp.method = method;
	spec_via(ua, &sp, branch);
	sp.contact = slice_cstr(ua->contact);
	sp.ctype = ctype;
	sp.body = body;
	buf_init(&b);
	err = sip_dialog_request(c->dlg, &b, &sp, NULL, NULL, 0);
	if (err == 0 && b.err)
		err = b.err;
	if (err == 0 && strcmp(method, "ACK") == 0)
		err = sip_tp_send(sip_stack_tp(ua->stack), ua->conf.proto,
		    &ua->dst, flow(ua), tls_name(ua), b.p, b.len, NULL);
	else if (err == 0)
		err = send_ctrans(ua, &b, h, NULL);
	buf_free(&b);
	return err;
}

static void
bye_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct phone_ua *ua = arg;

	if (!err && resp->scode < 200)
		return;
	if (ua->call.state == CALL_BYE)
		call_end(ua, false);
}

int
phone_ua_hangup(struct phone_ua *ua)
{
	struct phone_call *c = &ua->call;

	switch (c->state) {
	case CALL_IDLE:
	case CALL_BYE:
		return EPROTO;
	case CALL_INVITING:
		/* The INVITE's 487 ends the call through its callback. */
		return c->ct ? sip_ctrans_cancel(c->ct) : EPROTO;
	case CALL_RINGING:
		call_end(ua, false); /* answers 480 */
		return 0;
	case CALL_UP:
		break;
	}
	call_media_stop(ua);
	c->state = CALL_BYE;
	if (send_in_dialog(ua, "BYE", SLICE_NULL, SLICE_NULL, bye_resp_h) != 0)
		call_end(ua, false);
	return 0;
}

static void
hangup_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	phone_ua_hangup(arg);
}

static void
info_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct phone_ua *ua = arg;

	if (!err && resp->scode < 200)
		return;
	ua->rep.digit_status = err ? 0 : resp->scode;
	if (!err && resp->scode < 300)
		ua->rep.digits_sent++;
	else
		ua->rep.digits_refused++;
	emit(ua, PHONE_EV_DIGIT_SENT);
}

static void
digit_schedule(struct phone_ua *ua)
{
	struct phone_call *c = &ua->call;
	double due;

	if (c->next_digit >= c->opts.ndigits)
		return;
	due = c->t_answer + c->opts.digits[c->next_digit].at_ms - now_ms();
	timer_set(c->digit_ev, due > 0 ? (uint32_t)due : 0);
}

/*
 * Digits go as RFC 4733 telephone-events in the media (160 ms each); when
 * the far end did not offer telephone-event, as SIP INFO with
 * application/dtmf-relay in the dialog, which the voicemail server reads
 * as well.
 */
static void
digit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct phone_ua *ua = arg;
	struct phone_call *c = &ua->call;
	char body[PHONE_DTMF_BODY_SZ];
	char d;

	(void)fd;
	(void)what;
	if (c->state != CALL_UP || c->next_digit >= c->opts.ndigits)
		return;
	d = c->opts.digits[c->next_digit++].digit;
	if (c->ms && media_stream_send_dtmf(c->ms, d, 160) == 0) {
		ua->rep.digits_sent++;
		emit(ua, PHONE_EV_DIGIT_SENT);
	} else {
		snprintf(
		    body, sizeof(body), "Signal=%c\r\nDuration=160\r\n", d);
		if (send_in_dialog(ua, "INFO",
		        SLICE_LIT("application/dtmf-relay"), slice_cstr(body),
		        info_resp_h) != 0)
			ua->rep.digits_refused++;
	}
	digit_schedule(ua);
}

static void
record_h(enum media_end why, uint32_t ms, void *arg)
{
	struct phone_ua *ua = arg;

	ua->call.recording = false;
	ua->rep.heard_ms = ms;
	if (why == MEDIA_END_ERROR)
		log_warn("phone %s: recording %s failed", ua->conf.user,
		    ua->call.opts.record);
}

/* The call is up: SRTP keys in place; start playing, recording, digits. */
static int
media_start(struct phone_ua *ua, const struct sdp_neg *n)
{
	struct phone_call *c = &ua->call;
	struct srtp *tx = NULL, *rx = NULL;
	int err;

	err = media_stream_set_remote(c->ms, &n->remote,
	    n->pcma ? MEDIA_PCMA : MEDIA_PCMU,
	    n->te_pt >= 0 ? (uint8_t)n->te_pt : 0);
	if (err == 0 && n->srtp) {
		if ((err = srtp_alloc(&tx, n->suite, n->tx_key, n->key_len)) ||
		    (err = srtp_alloc(&rx, n->suite, n->rx_key, n->key_len))) {
			srtp_free(tx);
			return err;
		}
	}
	if (err)
		return err;
	media_stream_set_srtp(c->ms, tx, rx);
	ua->rep.srtp = n->srtp;
	ua->rep.suite = n->suite;
	snprintf(ua->rep.codec, sizeof(ua->rep.codec), "%s",
	    n->pcma ? "PCMA" : "PCMU");
	if (c->clip) {
		const struct media_clip *clips[1] = {c->clip};
		if ((err = media_stream_play(c->ms, clips, 1, NULL, NULL)) != 0)
			return err;
	}
	if (c->opts.record) {
		struct media_rec_opts ro;
		memset(&ro, 0, sizeof(ro));
		ro.format = MEDIA_REC_PCM16;
		if ((err = media_stream_record(
		         c->ms, c->opts.record, &ro, record_h, ua)) != 0) {
			log_err("phone %s: cannot record to %s: %s",
			    ua->conf.user, c->opts.record, strerror(err));
			return err;
		}
		c->recording = true;
	}
	c->t_answer = now_ms();
	c->hangup_ev = evtimer_new(ua->base, hangup_cb, ua);
	c->digit_ev = evtimer_new(ua->base, digit_cb, ua);
	if (c->hangup_ev == NULL || c->digit_ev == NULL)
		return ENOMEM;
	if (c->opts.duration_ms)
		timer_set(c->hangup_ev, c->opts.duration_ms);
	digit_schedule(ua);
	c->state = CALL_UP;
	return 0;
}

static int
offer_make(struct phone_ua *ua, struct sdp_offer *o)
{
	struct sdp_policy pol;

	memset(&pol, 0, sizeof(pol));
	pol.secure_rtp = ua->conf.secure_rtp;
	pol.srtp = ua->conf.srtp_option;
	pol.pcmu = pol.pcma = pol.telephone_event = true;
	if (!ua->conf.secure_rtp || ua->conf.nsuites == 0)
		return sdp_offer_make(o, &pol);
	/* An explicit list: the struct by hand, tags 1..n in its order. */
	memset(o, 0, sizeof(*o));
	o->secure_rtp = true;
	o->pcmu = o->pcma = true;
	o->te_pt = 101;
	for (size_t i = 0; i < ua->conf.nsuites; i++) {
		const struct srtp_suite_info *si =
		    srtp_suite_info(ua->conf.suites[i]);
		if (si == NULL)
			return EINVAL;
		if (secure_random(o->key[i], si->key_len + si->salt_len)) {
			sdp_offer_wipe(o);
			return EIO;
		}
		o->suite[o->ncrypto++] = ua->conf.suites[i];
	}
	return 0;
}

static void
sdp_local_fill(struct phone_ua *ua, struct sdp_local *l)
{
	memset(l, 0, sizeof(*l));
	l->username = ua->conf.user;
	l->sess_id = (uint64_t)time(NULL);
	l->sess_version = 1;
	l->name = PHONE_UA_NAME;
	if (sa_set_str(&l->addr, ua->local_ip, sa_port(&ua->call.rtp_local)))
		l->addr = ua->call.rtp_local;
}

static void invite_resp_h(int err, const struct sip_msg *resp, void *arg);

static int
invite_send(struct phone_ua *ua, const char *auth)
{
	struct phone_call *c = &ua->call;
	char branch[32], from[400], extra[2048];
	struct sip_req_spec sp;
	struct sdp_local loc;
	struct buf body, b;
	int err;

	sdp_local_fill(ua, &loc);
	buf_init(&body);
	if ((err = sdp_encode_offer(&body, &loc, &c->offer)) != 0) {
		buf_free(&body);
		return err;
	}
	snprintf(from, sizeof(from), "%s;tag=%s", ua->aor, c->ltag);
	snprintf(extra, sizeof(extra),
	    "%sAllow: INVITE, ACK, BYE, CANCEL, "
	    "OPTIONS, INFO, NOTIFY\r\n",
	    auth ? auth : "");
	memset(&sp, 0, sizeof(sp));
	sp.method = "INVITE";
	sp.ruri = slice_cstr(c->ruri);
	spec_via(ua, &sp, branch);
	sp.from = slice_cstr(from);
	sp.to = slice_cstr(c->to);
	sp.callid = slice_cstr(c->callid);
	sp.cseq = ++c->cseq;
	sp.contact = slice_cstr(ua->contact);
	sp.extra = slice_cstr(extra);
	sp.ctype = SLICE_LIT("application/sdp");
	sp.body = buf_slice(&body);
	buf_init(&b);
	err = sip_req_build(&b, &sp);
	buf_free(&body);
	if (err == 0 && b.err == 0) {
		free(c->invite);
		c->invite = b.p; /* kept for the dialog */
		c->invite_len = b.len;
		err = send_ctrans(ua, &b, invite_resp_h, &c->ct);
		return err;
	}
	buf_free(&b);
	return err ? err : ENOMEM;
}

/* A 2xx to our INVITE: the dialog, the answer, the ACK. */
static void
invite_answered(struct phone_ua *ua, const struct sip_msg *resp)
{
	struct phone_call *c = &ua->call;
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	struct sip_msg *inv = calloc(1, sizeof(*inv));
	struct sdp_session ans;
	struct sdp_neg neg;
	struct sip_perr perr;
	char why[SDP_REASON_MAX];
	const struct sip_hdr *h;
	struct slice sec;
	int err;

	c->ct = NULL;
	if (inv == NULL ||
	    sip_msg_parse(inv, c->invite, c->invite_len, true, &lim, &perr) ||
	    sip_dialog_uac(&c->dlg, inv, resp, ua->conf.proto, flow(ua))) {
		free(inv);
		call_fail(ua, resp->scode,
		    "answered %u without a usable dialog (To tag, Contact)",
		    resp->scode);
		return;
	}
	free(inv);
	flow_update(ua);
	ua->rep.call_status = resp->scode;
	snprintf(ua->rep.call_reason, sizeof(ua->rep.call_reason), "%.*s",
	    (int)resp->reason.n, resp->reason.p);
	h = sip_msg_hdr(resp, SIP_HDR_CALL_INFO);
	if (h && sip_param_get(h->val, "security", &sec) == 0)
		slice_strlcpy(ua->rep.security, sizeof(ua->rep.security),
		    slice_trim(sec));
	/* ACK first (RFC 3261 13.2.2.4), whatever we think of the answer. */
	err = send_in_dialog(ua, "ACK", SLICE_NULL, SLICE_NULL, NULL);
	if (err)
		log_warn("phone %s: cannot send the ACK: %s", ua->conf.user,
		    strerror(err));
	memset(&neg, 0, sizeof(neg));
	why[0] = '\0';
	if (resp->body.n == 0)
		snprintf(why, sizeof(why), "no SDP in the 200");
	else if (sdp_parse(
	             &ans, resp->body.p, resp->body.n, why, sizeof(why)) != 0)
		;
	else if (sdp_offer_answered(&neg, &c->offer, &ans, why, sizeof(why)) ==
	             0 &&
	         (err = media_start(ua, &neg)) != 0) {
		call_media_stop(ua);
		snprintf(why, sizeof(why), "%s", strerror(err));
		sdp_neg_wipe(&neg);
		send_in_dialog(
		    ua, "BYE", SLICE_NULL, SLICE_NULL, indialog_resp_h);
		call_fail(ua, resp->scode,
		    "answered %u but our media did not start: %s", resp->scode,
		    why);
		return;
	}
	sdp_neg_wipe(&neg);
	sdp_offer_wipe(&c->offer);
	if (c->state == CALL_UP) {
		emit(ua, PHONE_EV_ANSWERED);
		return;
	}
	/* Unusable answer: hang up what the far end thinks is a call. */
	send_in_dialog(ua, "BYE", SLICE_NULL, SLICE_NULL, indialog_resp_h);
	call_fail(ua, resp->scode,
	    "answered %u but the SDP answer is not usable: %.*s", resp->scode,
	    (int)(sizeof(ua->rep.call_reason) - 64), why);
}

static void
invite_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct phone_ua *ua = arg;
	struct phone_call *c = &ua->call;

	/* Late answers to an earlier call's INVITE. */
	if (c->state == CALL_IDLE || !c->outgoing ||
	    (resp && !slice_eq_cstr(resp->callid, c->callid)))
		return;
	if (err) {
		c->ct = NULL;
		call_fail(ua, 0, "%s",
		    err == ETIMEDOUT ? "no answer to the INVITE (Timer B)"
		                     : strerror(err));
		return;
	}
	/* err 0 means a response (lib/sip/trans.h sip_resp_h). */
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
	if (resp->scode < 200) {
		if (resp->scode == 180 || resp->scode == 183)
			emit(ua, PHONE_EV_RINGING);
		return;
	}
	if (resp->scode < 300) {
		if (c->dlg) /* a retransmission: its ACK got lost */
			send_in_dialog(ua, "ACK", SLICE_NULL, SLICE_NULL, NULL);
		else if (c->state == CALL_INVITING)
			invite_answered(ua, resp);
		return;
	}
	c->ct = NULL;
	if ((resp->scode == 401 || resp->scode == 407) &&
	    c->auth_tries < PHONE_AUTH_TRIES) {
		struct buf auth;
		int aerr;
		c->auth_tries++;
		buf_init(&auth);
		aerr = auth_answer(ua, resp, "INVITE", c->ruri, &auth);
		if (aerr == 0) {
			buf_append(&auth, "", 1);
			aerr = auth.err ? auth.err : invite_send(ua, auth.p);
		}
		buf_free(&auth);
		if (aerr == 0)
			return;
	}
	call_fail(ua, resp->scode, "%.*s", (int)resp->reason.n, resp->reason.p);
}

static void
indialog_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	(void)err;
	(void)resp;
	(void)arg;
}

/* Forgets what the last call left in the report. */
static void
rep_call_reset(struct phone_report *r)
{
	r->call_status = 0;
	r->call_reason[0] = r->security[0] = r->codec[0] = '\0';
	r->srtp = false;
	r->suite = SRTP_AES_CM_128_HMAC_SHA1_80;
	r->tx_packets = r->rx_packets = r->rx_dropped = 0;
	r->heard_ms = 0;
	r->ended_by_peer = false;
	r->digits_sent = r->digits_refused = 0;
	r->digit_status = 0;
}

int
phone_ua_dial(
    struct phone_ua *ua, const char *number, const struct phone_call_opts *o)
{
	struct phone_call *c;
	char err_s[128];
	int err;

	if (ua == NULL || number == NULL || *number == '\0' ||
	    strpbrk(number, " \t\r\n<>\"") != NULL)
		return EINVAL;
	c = &ua->call;
	if (c->state != CALL_IDLE)
		return EPROTO;
	memset(c, 0, sizeof(*c));
	c->outgoing = true;
	if (o)
		c->opts = *o;
	if (c->opts.play && (err = media_clip_load(&c->clip, c->opts.play,
	                         err_s, sizeof(err_s))) != 0) {
		log_err("phone %s: cannot play %s: %s", ua->conf.user,
		    c->opts.play, err == EBADMSG ? err_s : strerror(err));
		call_clear(ua);
		return err;
	}
	if (strchr(number, ':'))
		snprintf(c->ruri, sizeof(c->ruri), "%s", number);
	else
		snprintf(
		    c->ruri, sizeof(c->ruri), "sip:%s@%s", number, ua->domain);
	snprintf(c->to, sizeof(c->to), "<%s>", c->ruri);
	sip_token_new(c->callid, sizeof(c->callid));
	sip_token_new(c->ltag, sizeof(c->ltag));
	rep_call_reset(&ua->rep);
	if ((err = media_stream_alloc(&c->ms, ua->ml, &c->rtp_local)) != 0 ||
	    (err = offer_make(ua, &c->offer)) != 0 ||
	    (err = invite_send(ua, NULL)) != 0) {
		call_clear(ua);
		return err;
	}
	c->state = CALL_INVITING;
	return 0;
}

void
phone_ua_set_answer_opts(struct phone_ua *ua, const struct phone_call_opts *o)
{
	if (ua && o)
		ua->answer_opts = *o;
}

bool
phone_ua_in_call(const struct phone_ua *ua)
{
	return ua && ua->call.state != CALL_IDLE;
}

/* ---- incoming requests ---- */

static void
reply_simple(struct sip_stack *s, const struct sip_msg *m,
    const struct sip_rx *rx, uint16_t code, const char *reason)
{
	struct sip_strans *st;

	if (sip_strans_alloc(&st, s, m, rx, NULL, NULL) == 0)
		sip_strans_reply(st, code, reason, SLICE_LIT("ph"), SLICE_NULL,
		    SLICE_NULL, SLICE_NULL);
}

/* RFC 3842 message-summary: the lamp. */
static void
got_notify(
    struct phone_ua *ua, const struct sip_msg *m, const struct sip_rx *rx)
{
	const struct sip_hdr *ev = sip_msg_hdr(m, SIP_HDR_EVENT);
	struct sip_event e;
	struct slice rest = m->body, line;

	if (ev == NULL || sip_event_parse(&e, ev->val) != 0 ||
	    !slice_caseeq_cstr(e.package, "message-summary")) {
		reply_simple(ua->stack, m, rx, 489, NULL);
		return;
	}
	reply_simple(ua->stack, m, rx, 200, NULL);
	while (rest.n) {
		ptrdiff_t nl = slice_chr(rest, '\n');
		size_t n = nl < 0 ? rest.n : (size_t)nl;
		line = slice_make(rest.p, n);
		rest = slice_make(
		    rest.p + (nl < 0 ? n : n + 1), nl < 0 ? 0 : rest.n - n - 1);
		ptrdiff_t colon = slice_chr(line, ':');
		if (colon < 0)
			continue;
		struct slice k = slice_trim(slice_make(line.p, (size_t)colon));
		struct slice v = slice_trim(
		    slice_make(line.p + colon + 1, line.n - (size_t)colon - 1));
		if (slice_caseeq_cstr(k, "Messages-Waiting"))
			ua->rep.mwi = slice_caseeq_cstr(v, "yes") ? 1 : 0;
		else if (slice_caseeq_cstr(k, "Voice-Message"))
			slice_strlcpy(
			    ua->rep.mwi_counts, sizeof(ua->rep.mwi_counts), v);
	}
	ua->rep.mwi_notifies++;
	emit(ua, PHONE_EV_MWI);
}

static void
ring_cancel_h(struct sip_strans *st, void *arg)
{
	struct phone_ua *ua = arg;

	if (ua->call.st != st)
		return;
	sip_strans_reply(st, 487, NULL, slice_cstr(ua->call.ltag), SLICE_NULL,
	    SLICE_NULL, SLICE_NULL);
	ua->call.st = NULL;
	call_end(ua, true);
}

static void
incoming_answer(struct phone_ua *ua, const struct sip_msg *m)
{
	struct phone_call *c = &ua->call;
	struct sdp_session offer;
	struct sdp_policy pol;
	struct sdp_neg neg;
	struct sdp_local loc;
	char why[SDP_REASON_MAX], extra[400];
	struct buf body;
	int err;

	memset(&neg, 0, sizeof(neg));
	why[0] = '\0';
	if (m->body.n == 0) {
		sip_strans_reply(c->st, 488,
		    "No SDP offer (delayed offer "
		    "not supported)",
		    slice_cstr(c->ltag), SLICE_NULL, SLICE_NULL, SLICE_NULL);
		c->st = NULL;
		call_clear(ua);
		return;
	}
	memset(&pol, 0, sizeof(pol));
	pol.secure_rtp = ua->conf.secure_rtp;
	pol.srtp = ua->conf.srtp_option;
	pol.pcmu = pol.pcma = pol.telephone_event = true;
	buf_init(&body);
	if (sdp_parse(&offer, m->body.p, m->body.n, why, sizeof(why)) != 0 ||
	    sdp_answer(&neg, &offer, &pol, why, sizeof(why)) != 0 ||
	    media_stream_alloc(&c->ms, ua->ml, &c->rtp_local) != 0) {
		sdp_neg_wipe(&neg);
		sip_strans_reply(c->st, 488, why[0] ? why : NULL,
		    slice_cstr(c->ltag), SLICE_NULL, SLICE_NULL, SLICE_NULL);
		c->st = NULL;
		buf_free(&body);
		call_clear(ua);
		return;
	}
	sdp_local_fill(ua, &loc);
	err = sdp_encode_answer(&body, &loc, &offer, &neg);
	if (err == 0)
		err = media_start(ua, &neg);
	sdp_neg_wipe(&neg);
	if (err) {
		sip_strans_reply(c->st, 500, "Cannot set up the media",
		    slice_cstr(c->ltag), SLICE_NULL, SLICE_NULL, SLICE_NULL);
		c->st = NULL;
		buf_free(&body);
		call_clear(ua);
		return;
	}
	snprintf(extra, sizeof(extra), "Contact: %s\r\n", ua->contact);
	sip_strans_reply(c->st, 200, NULL, slice_cstr(c->ltag),
	    slice_cstr(extra), SLICE_LIT("application/sdp"), buf_slice(&body));
	c->st = NULL;
	buf_free(&body);
	ua->rep.call_status = 200;
}

static void
got_invite(
    struct phone_ua *ua, const struct sip_msg *m, const struct sip_rx *rx)
{
	struct phone_call *c = &ua->call;

	ua->rep.incoming++;
	slice_strlcpy(ua->rep.incoming_from, sizeof(ua->rep.incoming_from),
	    m->from.uri_s);
	emit(ua, PHONE_EV_INCOMING);
	if (c->state != CALL_IDLE || ua->conf.incoming == PHONE_IN_BUSY) {
		reply_simple(ua->stack, m, rx, 486, NULL);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->opts = ua->answer_opts;
	sip_token_new(c->ltag, sizeof(c->ltag));
	slice_strlcpy(c->callid, sizeof(c->callid), m->callid);
	rep_call_reset(&ua->rep);
	if (sip_strans_alloc(&c->st, ua->stack, m, rx, ring_cancel_h, ua))
		return;
	if (sip_dialog_uas(&c->dlg, m, c->ltag, rx->proto, rx->conn) != 0) {
		sip_strans_reply(c->st, 400, "Missing Contact",
		    slice_cstr(c->ltag), SLICE_NULL, SLICE_NULL, SLICE_NULL);
		c->st = NULL;
		call_clear(ua);
		return;
	}
	if (c->opts.play) {
		char err_s[128];
		if (media_clip_load(
		        &c->clip, c->opts.play, err_s, sizeof(err_s)) != 0)
			log_warn("phone %s: cannot play %s", ua->conf.user,
			    c->opts.play);
	}
	c->state = CALL_RINGING;
	sip_strans_reply(c->st, 180, NULL, slice_cstr(c->ltag), SLICE_NULL,
	    SLICE_NULL, SLICE_NULL);
	if (ua->conf.incoming == PHONE_IN_ANSWER)
		incoming_answer(ua, m);
}

static void
req_h(struct sip_stack *s, const struct sip_msg *m, const struct sip_rx *rx,
    void *arg)
{
	struct phone_ua *ua = arg;
	struct phone_call *c = &ua->call;

	(void)s;
	if (slice_isset(m->to.tag)) {
		bool mine = c->dlg && sip_dialog_match(c->dlg, m);
		if (sip_method_eq(m->method, "ACK"))
			return;
		if (!mine) {
			reply_simple(ua->stack, m, rx, 481, NULL);
			return;
		}
		if (sip_method_eq(m->method, "BYE")) {
			reply_simple(ua->stack, m, rx, 200, NULL);
			call_end(ua, true);
		} else if (sip_method_eq(m->method, "INFO") ||
		           sip_method_eq(m->method, "NOTIFY")) {
			reply_simple(ua->stack, m, rx, 200, NULL);
		} else {
			reply_simple(ua->stack, m, rx, 488,
			    "Re-negotiation not supported");
		}
		return;
	}
	if (sip_method_eq(m->method, "ACK"))
		return;
	if (sip_method_eq(m->method, "NOTIFY"))
		got_notify(ua, m, rx);
	else if (sip_method_eq(m->method, "INVITE"))
		got_invite(ua, m, rx);
	else if (sip_method_eq(m->method, "OPTIONS"))
		reply_simple(ua->stack, m, rx, 200, NULL);
	else
		reply_simple(ua->stack, m, rx, 501, NULL);
}

/* ---- setup ---- */

/* The source address the kernel would use toward dst (no packet sent). */
static int
guess_local(const struct sa *dst, char *out, size_t sz)
{
	struct sa a;
	socklen_t len = sizeof(a.u.ss);
	int fd, err = 0;

	if (sa_is_loopback(dst)) {
		snprintf(out, sz, "%s",
		    sa_family(dst) == AF_INET6 ? "::1" : "127.0.0.1");
		return 0;
	}
	fd = socket(sa_family(dst), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, &dst->u.sa, dst->len) != 0 ||
	    getsockname(fd, &a.u.sa, &len) != 0)
		err = errno;
	else
		sa_ntop(&a, out, sz);
	close(fd);
	return err;
}

/* "host:port", "[v6]:port" or "host". */
static int
split_hostport(const char *s, char *host, size_t hsz, uint16_t *port)
{
	const char *colon;
	unsigned long p;
	char *end;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || (size_t)(rb - s - 1) >= hsz)
			return EINVAL;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] && !colon)
			return EINVAL;
	} else {
		colon = strrchr(s, ':');
		size_t n = colon ? (size_t)(colon - s) : strlen(s);
		if (n == 0 || n >= hsz)
			return EINVAL;
		memcpy(host, s, n);
		host[n] = '\0';
	}
	if (colon) {
		errno = 0;
		p = strtoul(colon + 1, &end, 10);
		if (*end || p == 0 || p > 65535 || errno)
			return EINVAL;
		*port = (uint16_t)p;
	}
	return 0;
}

static int
tls_setup(struct phone_ua *ua)
{
	const struct phone_ua_conf *cf = &ua->conf;
	struct tls_opts o;
	int err;

	tls_opts_default(&o);
	o.cert = cf->cert;
	o.key = cf->key;
	o.ca_file = cf->trust;
	o.verify_peer = cf->trust != NULL;
	o.ciphers = cf->tls_ciphers;
	o.what = "phone SIP TLS";
	if (cf->trust == NULL)
		log_warn(
		    "phone %s: no trust store: the registrar's certificate "
		    "is not verified",
		    cf->user);
	if ((err = tls_ctx_new(&ua->cctx, false, &o)) != 0)
		return err;
	sip_tp_set_client_tls(sip_stack_tp(ua->stack), ua->cctx);
	if (cf->cert == NULL)
		return 0;
	/* With an identity we can take connections too (other phones). */
	if ((err = tls_ctx_new(&ua->sctx, true, &o)) != 0)
		return err;
	return 0;
}

int
phone_ua_alloc(struct phone_ua **uap, struct event_base *base,
    const struct phone_ua_conf *conf, phone_event_h *h, void *arg)
{
	struct sip_stack_conf sc;
	struct media_loop_opts mo;
	struct phone_ua *ua;
	struct sa la, bound;
	uint16_t port;
	int err;

	if (uap == NULL || base == NULL || conf == NULL ||
	    conf->registrar == NULL || conf->user == NULL ||
	    conf->user[0] == '\0' || strpbrk(conf->user, " \t\r\n<>@:;\"") ||
	    (conf->cert == NULL) != (conf->key == NULL) ||
	    conf->nsuites > SRTP_SUITE_COUNT)
		return EINVAL;
	if ((ua = calloc(1, sizeof(*ua))) == NULL)
		return ENOMEM;
	ua->base = base;
	ua->conf = *conf;
	ua->h = h;
	ua->arg = arg;
	ua->rep.mwi = -1;
	ua->call.state = CALL_IDLE;
	port = conf->proto == SIP_PROTO_TLS ? 5061 : 5060;
	if ((err = split_hostport(
	         conf->registrar, ua->host, sizeof(ua->host), &port)) != 0 ||
	    (err = sa_resolve(&ua->dst, ua->host, port, 0)) != 0) {
		log_err("phone: registrar '%s': %s", conf->registrar,
		    err == ENOENT ? "host name does not resolve"
		                  : "not HOST:PORT");
		err = EINVAL;
		goto out;
	}
	snprintf(ua->domain, sizeof(ua->domain), "%s",
	    conf->domain ? conf->domain : ua->host);
	if (conf->tls_name)
		snprintf(
		    ua->tls_name, sizeof(ua->tls_name), "%s", conf->tls_name);
	else if (sa_set_str(&la, ua->host, 0) != 0)
		snprintf(ua->tls_name, sizeof(ua->tls_name), "%s", ua->host);
	if (conf->local_ip)
		snprintf(
		    ua->local_ip, sizeof(ua->local_ip), "%s", conf->local_ip);
	else if ((err = guess_local(
	              &ua->dst, ua->local_ip, sizeof(ua->local_ip))) != 0)
		goto out;
	if (sa_set_str(&la, ua->local_ip, 0) != 0) {
		log_err("phone: local address '%s' is not an IP address",
		    ua->local_ip);
		err = EINVAL;
		goto out;
	}
	ua->conf.local_ip = NULL; /* ours is in local_ip[] */
	if (conf->secure_rtp && conf->proto != SIP_PROTO_TLS)
		log_warn("phone %s: SRTP over %s signalling: the keys in SDP "
		         "travel in clear (a voicemail server refuses it)",
		    conf->user, sip_proto_name(conf->proto));

	ua->defer = event_new(base, -1, 0, defer_cb, ua);
	ua->refresh_ev = evtimer_new(base, refresh_cb, ua);
	if (ua->defer == NULL || ua->refresh_ev == NULL) {
		err = ENOMEM;
		goto out;
	}
	sip_stack_conf_default(&sc);
	sc.user_agent = PHONE_UA_NAME;
	if ((err = sip_stack_alloc(&ua->stack, base, &sc, req_h, ua)) != 0)
		goto out;
	if (conf->proto == SIP_PROTO_TLS && (err = tls_setup(ua)) != 0)
		goto out;
	/* TLS listens only with an identity: else requests come back on
	 * the registration's connection. */
	if (conf->proto != SIP_PROTO_TLS || ua->sctx) {
		if ((err = sip_tp_listen(sip_stack_tp(ua->stack), conf->proto,
		         &la, ua->sctx, &bound)) != 0) {
			log_err("phone: cannot listen on %s %s: %s",
			    sip_proto_name(conf->proto), ua->local_ip,
			    strerror(err));
			goto out;
		}
		ua->via_port = sa_port(&bound);
	}
	char hostref[80];
	snprintf(hostref, sizeof(hostref),
	    sa_family(&la) == AF_INET6 ? "[%s]" : "%s", ua->local_ip);
	char portpart[8] = "";
	if (ua->via_port)
		snprintf(portpart, sizeof(portpart), ":%u", ua->via_port);
	snprintf(ua->contact, sizeof(ua->contact), "<%s:%s@%s%s%s>",
	    conf->proto == SIP_PROTO_TLS ? "sips" : "sip", conf->user, hostref,
	    portpart, conf->proto == SIP_PROTO_TCP ? ";transport=tcp" : "");
	snprintf(
	    ua->aor, sizeof(ua->aor), "<sip:%s@%s>", conf->user, ua->domain);
	sip_token_new(ua->reg_callid, sizeof(ua->reg_callid));
	sip_token_new(ua->reg_tag, sizeof(ua->reg_tag));

	if ((err = srtp_init()) != 0) {
		log_err("phone: SRTP ciphers unavailable: %s", strerror(err));
		goto out;
	}
	memset(&mo, 0, sizeof(mo));
	sa_set_str(&mo.local, ua->local_ip, 0);
	mo.nsockets = 1;
	if ((err = media_loop_alloc(&ua->ml, base, &mo)) != 0) {
		log_err("phone: media on %s: %s", ua->local_ip, strerror(err));
		goto out;
	}
	*uap = ua;
	return 0;
out:
	phone_ua_free(ua);
	return err;
}

void
phone_ua_free(struct phone_ua *ua)
{
	if (ua == NULL)
		return;
	call_clear(ua);
	/* The stack first: no transaction may call back into freed state. */
	sip_conn_unref(ua->flow);
	sip_stack_free(ua->stack);
	media_loop_free(ua->ml);
	SSL_CTX_free(ua->cctx);
	SSL_CTX_free(ua->sctx);
	if (ua->defer)
		event_free(ua->defer);
	if (ua->refresh_ev)
		event_free(ua->refresh_ev);
	free(ua);
}

void
phone_ua_report(const struct phone_ua *ua, struct phone_report *r)
{
	*r = ua->rep;
	if (ua->call.ms) {
		struct media_stream_stats st;
		media_stream_get_stats(ua->call.ms, &st);
		r->tx_packets = st.tx_packets;
		r->rx_packets = st.rx_packets;
		r->rx_dropped =
		    st.rx_auth_fail + st.rx_replay + st.rx_malformed;
		if (!ua->call.recording && ua->call.opts.record == NULL)
			r->heard_ms = (uint32_t)(st.rx_packets * 20);
	}
}

/* ---- digits ---- */

static int
digit_cmp(const void *a, const void *b)
{
	const struct phone_digit *x = a, *y = b;
	return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

int
phone_digits_parse(struct phone_call_opts *o, const char *s)
{
	const char *p = s;

	o->ndigits = 0;
	while (p && *p) {
		char d = *p;
		char *end;
		double t;
		if (strchr("0123456789*#ABCDabcd", d) == NULL || p[1] != '@' ||
		    o->ndigits >= PHONE_MAX_DIGITS)
			return EINVAL;
		errno = 0;
		t = strtod(p + 2, &end);
		if (end == p + 2 || errno || t < 0 || t > 3600 ||
		    (*end != ',' && *end != '\0'))
			return EINVAL;
		o->digits[o->ndigits].digit =
		    (d >= 'a' && d <= 'd') ? (char)(d - 'a' + 'A') : d;
		o->digits[o->ndigits++].at_ms = (uint32_t)(t * 1000 + 0.5);
		p = *end ? end + 1 : end;
	}
	/* Stable enough: digits at the same time keep no promised order. */
	qsort(o->digits, o->ndigits, sizeof(o->digits[0]), digit_cmp);
	return 0;
}
