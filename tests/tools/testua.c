/* ngv-testua: a small UAS/UAC built on the ngvoice SIP stack, for torture and interop tests. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "pki/cert.h"
#include "sip/auth.h"
#include "sip/dialog.h"
#include "sip/enc.h"
#include "sip/trans.h"
#include "tls/ctx.h"

#define MAX_DIALOGS 4096

struct ua {
	struct event_base *base;
	struct sip_stack *stack;
	struct sip_auth_server *auth;
	const char *password;
	struct sip_dialog *dialogs[MAX_DIALOGS];
	struct event *sigint, *sigterm;
	/* UAC mode */
	const char *call_uri;
	enum sip_proto call_proto;
	unsigned calls_total, calls_started, calls_ok, calls_failed;
	unsigned calls_active, parallel;
	unsigned hold_ms;
	unsigned linger_ms;
	unsigned long invites, byes;
};

static const char sdp_answer[] = "v=0\r\n"
                                 "o=ngv 1 1 IN IP4 127.0.0.1\r\n"
                                 "s=ngv-testua\r\n"
                                 "c=IN IP4 127.0.0.1\r\n"
                                 "t=0 0\r\n"
                                 "m=audio 40000 RTP/AVP 0\r\n"
                                 "a=rtpmap:0 PCMU/8000\r\n"
                                 "a=sendrecv\r\n";

static int
dialog_slot(struct ua *ua)
{
	for (int i = 0; i < MAX_DIALOGS; i++) {
		if (ua->dialogs[i] == NULL)
			return i;
	}
	return -1;
}

static int
dialog_find(struct ua *ua, const struct sip_msg *m)
{
	for (int i = 0; i < MAX_DIALOGS; i++) {
		if (ua->dialogs[i] && sip_dialog_match(ua->dialogs[i], m))
			return i;
	}
	return -1;
}

/* RFC 3261 8.2.2.3: extensions we understand (none needed here). */
static bool
require_unsupported(const struct sip_msg *m, struct buf *unsup)
{
	struct sip_values it;
	struct slice v;
	bool any = false;

	sip_values_init(&it, m, SIP_HDR_REQUIRE);
	while (sip_values_next(&it, &v)) {
		if (slice_caseeq_cstr(v, "timer"))
			continue;
		buf_append_str(unsup, any ? ", " : "Unsupported: ");
		buf_append_slice(unsup, v);
		any = true;
	}
	if (any)
		BUF_LIT(unsup, "\r\n");
	return any;
}

static bool
accepts_sdp(const struct sip_msg *m)
{
	struct sip_values it;
	struct slice v;
	bool have = false;

	sip_values_init(&it, m, SIP_HDR_ACCEPT);
	while (sip_values_next(&it, &v)) {
		struct sip_ctype ct;
		have = true;
		if (sip_ctype_parse(&ct, v) != 0)
			continue;
		if ((slice_eq_cstr(ct.type, "*") ||
		        slice_caseeq_cstr(ct.type, "application")) &&
		    (slice_eq_cstr(ct.subtype, "*") ||
		        slice_caseeq_cstr(ct.subtype, "sdp")))
			return true;
	}
	return !have;
}

static void
reply(struct sip_strans *st, uint16_t code, const char *tag, const char *extra)
{
	sip_strans_reply(st, code, NULL, slice_cstr(tag), slice_cstr(extra),
	    SLICE_NULL, SLICE_NULL);
}

static void
invite_cancel_h(struct sip_strans *st, void *arg)
{
	(void)arg;
	reply(st, 487, "cancelled", "");
}

static void
handle_register(struct ua *ua, struct sip_strans *st, const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION);
	struct buf b;
	bool stale = false;

	if (ua->auth && h) {
		struct sip_auth_params cred;
		if (sip_auth_parse(&cred, h->val) == 0 && cred.digest) {
			int err = sip_auth_verify(
			    ua->auth, &cred, m->method, ua->password, NULL);
			if (err == 0) {
				reply(st, 200, "reg", "Expires: 600\r\n");
				return;
			}
			stale = err == ETIMEDOUT;
		}
	}
	buf_init(&b);
	BUF_LIT(&b, "WWW-Authenticate: ");
	if (sip_auth_challenge(ua->auth, SIP_AUTH_SHA256, stale, &b) == 0) {
		BUF_LIT(&b, "\r\nWWW-Authenticate: ");
		sip_auth_challenge(ua->auth, SIP_AUTH_MD5, stale, &b);
		BUF_LIT(&b, "\r\n");
		buf_append(&b, "", 1);
		reply(st, 401, "reg", b.p);
	} else {
		reply(st, 500, "reg", "");
	}
	buf_free(&b);
}

static void
handle_invite(struct ua *ua, struct sip_strans *st, const struct sip_msg *m,
    const struct sip_rx *rx)
{
	char tag[16], contact[160], hostport[80];
	struct sip_dialog *d;
	struct buf extra;
	int slot;

	if (slice_isset(m->to.tag)) {
		/* re-INVITE */
		slot = dialog_find(ua, m);
		if (slot < 0) {
			reply(st, 481, "", "");
			return;
		}
		d = ua->dialogs[slot];
		if (sip_dialog_check_rseq(d, m) != 0) {
			reply(st, 500, "", "");
			return;
		}
		sip_dialog_set_target(d, m);
		sip_strans_reply(st, 200, NULL, SLICE_NULL, SLICE_NULL,
		    SLICE_LIT("application/sdp"), SLICE_LIT(sdp_answer));
		return;
	}
	sip_token_new(tag, sizeof(tag));
	slot = dialog_slot(ua);
	if (slot < 0 || sip_dialog_uas(&d, m, tag, rx->proto, rx->conn) != 0) {
		/* no Contact or no room: still answer, without a dialog */
		reply(st, slot < 0 ? 503 : 400, tag, "");
		return;
	}
	ua->dialogs[slot] = d;
	ua->invites++;
	sa_fmt(&rx->local, hostport, sizeof(hostport));
	snprintf(contact, sizeof(contact),
	    "Contact: <sip:ua@%s;transport=%s>\r\n", hostport,
	    sip_proto_name(rx->proto));
	buf_init(&extra);
	buf_append_str(&extra, contact);
	sip_strans_reply(st, 180, NULL, slice_cstr(tag), buf_slice(&extra),
	    SLICE_NULL, SLICE_NULL);
	sip_strans_reply(st, 200, NULL, slice_cstr(tag), buf_slice(&extra),
	    SLICE_LIT("application/sdp"), SLICE_LIT(sdp_answer));
	buf_free(&extra);
}

static void
ua_req_h(struct sip_stack *s, const struct sip_msg *m, const struct sip_rx *rx,
    void *arg)
{
	struct ua *ua = arg;
	struct sip_strans *st;
	struct buf unsup;

	if (sip_method_eq(m->method, "ACK"))
		return; /* ACK for our 2xx: the stack stopped retransmitting */
	if (sip_strans_alloc(&st, s, m, rx,
	        sip_method_eq(m->method, "INVITE") ? invite_cancel_h : NULL,
	        ua) != 0)
		return;

	/* The order of RFC 3261 8.2: method, URI, extensions, body. */
	static const char *const known[] = {
	    "INVITE",
	    "ACK",
	    "BYE",
	    "CANCEL",
	    "OPTIONS",
	    "REGISTER",
	    "MESSAGE",
	};
	bool ok = false;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		ok |= sip_method_eq(m->method, known[i]);
	if (!ok) {
		reply(st, 501, "x",
		    "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, "
		    "MESSAGE\r\n");
		return;
	}
	if (m->ruri.scheme != SIP_URI_SIP && m->ruri.scheme != SIP_URI_SIPS) {
		reply(st, 416, "x", "");
		return;
	}
	if (m->ruri.headers.n) {
		/* RFC 4475 3.1.2.11: never act on headers in a Request-URI. */
		sip_strans_reply(st, 400, "Headers in Request-URI",
		    SLICE_LIT("x"), SLICE_NULL, SLICE_NULL, SLICE_NULL);
		return;
	}
	buf_init(&unsup);
	if (require_unsupported(m, &unsup)) {
		buf_append(&unsup, "", 1);
		reply(st, 420, "x", unsup.p);
		buf_free(&unsup);
		return;
	}
	buf_free(&unsup);
	if (sip_method_eq(m->method, "INVITE") && m->body.n &&
	    !(slice_caseeq_cstr(m->ctype.type, "application") &&
	        slice_caseeq_cstr(m->ctype.subtype, "sdp"))) {
		reply(st, 415, "x", "Accept: application/sdp\r\n");
		return;
	}
	if (sip_method_eq(m->method, "INVITE") && !accepts_sdp(m)) {
		reply(st, 406, "x", "Accept: application/sdp\r\n");
		return;
	}

	if (sip_method_eq(m->method, "REGISTER")) {
		handle_register(ua, st, m);
	} else if (sip_method_eq(m->method, "INVITE")) {
		handle_invite(ua, st, m, rx);
	} else if (sip_method_eq(m->method, "BYE")) {
		int slot = dialog_find(ua, m);
		if (slot < 0) {
			reply(st, 481, "", "");
			return;
		}
		ua->byes++;
		sip_dialog_free(ua->dialogs[slot]);
		ua->dialogs[slot] = NULL;
		reply(st, 200, "", "");
	} else {
		reply(st, 200, "x",
		    "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, "
		    "REGISTER, MESSAGE\r\n");
	}
}

/* ---- UAC mode: place calls for interop with a sipp UAS ---- */

struct call {
	struct ua *ua;
	struct sip_dialog *d;
	struct sa dst;
	char *invite;
	size_t invite_len;
	struct event *hold;
	bool done;
};

static void start_calls(struct ua *ua);

static void
call_end(struct call *c, bool ok)
{
	struct ua *ua = c->ua;

	if (ok)
		ua->calls_ok++;
	else
		ua->calls_failed++;
	ua->calls_active--;
	if (c->hold)
		event_free(c->hold);
	sip_dialog_free(c->d);
	free(c->invite);
	free(c);
	if (ua->calls_ok + ua->calls_failed == ua->calls_total) {
		/* Stay a while so the peer can close its calls on our flow. */
		struct timeval tv = {.tv_sec = ua->linger_ms / 1000,
		    .tv_usec = (suseconds_t)(ua->linger_ms % 1000) * 1000};
		event_base_loopexit(ua->base, &tv);
	} else
		start_calls(ua);
}

static void
spec_via(struct ua *ua, struct sip_req_spec *sp, char *host, size_t hostsz)
{
	struct sa la;

	sp->proto = ua->call_proto;
	if (sip_tp_laddr(
	        sip_stack_tp(ua->stack), ua->call_proto, AF_INET, &la) != 0 &&
	    sip_tp_laddr(
	        sip_stack_tp(ua->stack), SIP_PROTO_UDP, AF_INET, &la) != 0)
		sa_set_str(&la, "127.0.0.1", 5060);
	sa_ntop(&la, host, hostsz);
	sp->via_host = slice_cstr(host);
	sp->via_port = sa_port(&la);
}

static void
bye_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct call *c = arg;

	if (!err && resp->scode < 200)
		return;
	call_end(c, !err && resp->scode < 300);
}

static void
hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	struct ua *ua = c->ua;
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	char host[64], branch[32];
	struct buf b;

	(void)fd;
	(void)what;
	memset(&sp, 0, sizeof(sp));
	sp.method = "BYE";
	spec_via(ua, &sp, host, sizeof(host));
	sip_branch_new(branch);
	sp.branch = branch;
	buf_init(&b);
	if (sip_dialog_request(c->d, &b, &sp, NULL, NULL, 0) != 0 ||
	    sip_ctrans_request(&ct, ua->stack, ua->call_proto, &c->dst, NULL,
	        c->d->conn, b.p, b.len, bye_resp_h, c) != 0) {
		buf_free(&b);
		call_end(c, false);
		return;
	}
	buf_free(&b);
}

static void
send_ack(struct call *c)
{
	struct ua *ua = c->ua;
	struct sip_req_spec sp;
	char host[64], branch[32];
	struct buf b;

	memset(&sp, 0, sizeof(sp));
	sp.method = "ACK";
	spec_via(ua, &sp, host, sizeof(host));
	sip_branch_new(branch);
	sp.branch = branch;
	buf_init(&b);
	if (sip_dialog_request(c->d, &b, &sp, NULL, NULL, 0) == 0)
		sip_tp_send(sip_stack_tp(ua->stack), ua->call_proto, &c->dst,
		    c->d->conn, NULL, b.p, b.len, NULL);
	buf_free(&b);
}

static void
invite_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct call *c = arg;
	struct ua *ua = c->ua;

	if (err) {
		call_end(c, false);
		return;
	}
	if (resp->scode < 200)
		return;
	if (resp->scode >= 300) {
		call_end(c, false);
		return;
	}
	if (c->d) {
		send_ack(c); /* a retransmitted 2xx: ACK again */
		return;
	}
	struct sip_msg *inv = calloc(1, sizeof(*inv));
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	struct sip_perr perr;
	if (inv == NULL ||
	    sip_msg_parse(inv, c->invite, c->invite_len, true, &lim, &perr) ||
	    sip_dialog_uac(&c->d, inv, resp, ua->call_proto, NULL) != 0) {
		free(inv);
		call_end(c, false);
		return;
	}
	free(inv);
	send_ack(c);
	c->hold = evtimer_new(ua->base, hold_cb, c);
	struct timeval tv = {.tv_sec = ua->hold_ms / 1000,
	    .tv_usec = (suseconds_t)(ua->hold_ms % 1000) * 1000};
	evtimer_add(c->hold, &tv);
}

static void
start_one_call(struct ua *ua)
{
	struct call *c = calloc(1, sizeof(*c));
	struct sip_req_spec sp;
	struct sip_uri u;
	struct sip_ctrans *ct;
	char host[64], branch[32], tag[16], callid[40], from[128];
	char contact[160];
	enum sip_proto p;
	struct buf b;

	ua->calls_started++;
	ua->calls_active++;
	if (c == NULL) {
		ua->calls_active--;
		ua->calls_failed++;
		return;
	}
	c->ua = ua;
	if (sip_uri_parse(&u, slice_cstr(ua->call_uri)) != 0 ||
	    sip_uri_dest(&u, &c->dst, &p) != 0) {
		call_end(c, false);
		return;
	}
	memset(&sp, 0, sizeof(sp));
	sp.method = "INVITE";
	spec_via(ua, &sp, host, sizeof(host));
	sip_branch_new(branch);
	sip_token_new(tag, sizeof(tag));
	sip_token_new(callid, sizeof(callid));
	snprintf(from, sizeof(from), "<sip:testua@%s>;tag=%s", host, tag);
	snprintf(contact, sizeof(contact), "<sip:testua@%s:%u;transport=%s>",
	    host, sp.via_port, sip_proto_name(ua->call_proto));
	sp.branch = branch;
	sp.ruri = slice_cstr(ua->call_uri);
	sp.from = slice_cstr(from);
	sp.to = slice_cstr(ua->call_uri);
	sp.callid = slice_cstr(callid);
	sp.cseq = 1;
	sp.contact = slice_cstr(contact);
	sp.ctype = SLICE_LIT("application/sdp");
	sp.body = SLICE_LIT(sdp_answer);
	buf_init(&b);
	if (sip_req_build(&b, &sp) != 0) {
		buf_free(&b);
		call_end(c, false);
		return;
	}
	c->invite = b.p; /* owned by the call now */
	c->invite_len = b.len;
	if (sip_ctrans_request(&ct, ua->stack, ua->call_proto, &c->dst, NULL,
	        NULL, c->invite, c->invite_len, invite_resp_h, c) != 0)
		call_end(c, false);
}

static void
start_calls(struct ua *ua)
{
	while (ua->calls_started < ua->calls_total &&
	       ua->calls_active < ua->parallel)
		start_one_call(ua);
}

/* ---- TLS set-up ---- */

static SSL_CTX *
tls_ctx(bool server, const struct tls_opts *base)
{
	struct tls_opts o = *base;
	SSL_CTX *ctx;

	o.verify_peer = o.ca_file != NULL;
	o.what = server ? "testua TLS server" : "testua TLS client";
	return tls_ctx_new(&ctx, server, &o) == 0 ? ctx : NULL;
}

static void
sig_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void
usage(void)
{
	printf("usage: ngv-testua [options]\n"
	       "  --udp IP:PORT --tcp IP:PORT --tls IP:PORT   listeners "
	       "(port 0: any)\n"
	       "  --cert F --key F [--ca F]   TLS identity (and client "
	       "verification)\n"
	       "  --selfsigned DIR             make an EC identity in DIR "
	       "(cert.pem, key.pem)\n"
	       "  --password P                 REGISTER needs digest auth "
	       "(realm ngvoice)\n"
	       "  --call URI --calls N [--parallel N] [--hold MS] [--proto "
	       "udp|tcp]\n"
	       "                               place calls (INVITE, ACK, "
	       "BYE)\n"
	       "  --linger MS                  after the calls, wait MS "
	       "before exiting\n"
	       "  --t1 MS                      SIP timer T1\n"
	       "  --tls-ciphers OPTION         a TLS Ciphers option (label or "
	       "slug)\n"
	       "  --cert2 F --key2 F           a second identity (the other "
	       "key type)\n"
	       "  --tls13                      allow TLS 1.3\n"
	       "  --keylog F                   write NSS key log lines\n"
	       "Prints 'READY udp=P tcp=P tls=P' once listening.\n");
}

static int
parse_hostport(const char *s, struct sa *a)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	return sa_set_str(a, host, (uint16_t)atoi(colon + 1)) ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static struct ua ua;
	struct sip_stack_conf conf;
	const char *udp = NULL, *tcp = NULL, *tls = NULL, *cert = NULL;
	const char *key = NULL, *ca = NULL, *ssdir = NULL;
	char certbuf[512], keybuf[512];
	SSL_CTX *sctx = NULL, *cctx = NULL;
	struct tls_opts topts;
	struct sa a, bound;
	unsigned ports[3] = {0, 0, 0};
	int opt, rc = 0;
	static const struct option opts[] = {
	    {"udp", required_argument, NULL, 'u'},
	    {"tcp", required_argument, NULL, 't'},
	    {"tls", required_argument, NULL, 's'},
	    {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"ca", required_argument, NULL, 'a'},
	    {"selfsigned", required_argument, NULL, 'S'},
	    {"password", required_argument, NULL, 'p'},
	    {"call", required_argument, NULL, 'C'},
	    {"calls", required_argument, NULL, 'n'},
	    {"parallel", required_argument, NULL, 'P'},
	    {"hold", required_argument, NULL, 'H'},
	    {"proto", required_argument, NULL, 'r'},
	    {"t1", required_argument, NULL, 'T'},
	    {"linger", required_argument, NULL, 'L'},
	    {"tls-ciphers", required_argument, NULL, 'X'},
	    {"cert2", required_argument, NULL, '2'},
	    {"key2", required_argument, NULL, '3'},
	    {"tls13", no_argument, NULL, '4'},
	    {"keylog", required_argument, NULL, '5'},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};

	sip_stack_conf_default(&conf);
	conf.user_agent = "ngv-testua";
	tls_opts_default(&topts);
	ua.parallel = 1;
	ua.hold_ms = 100;
	ua.call_proto = SIP_PROTO_UDP;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			udp = optarg;
			break;
		case 't':
			tcp = optarg;
			break;
		case 's':
			tls = optarg;
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
		case 'S':
			ssdir = optarg;
			break;
		case 'p':
			ua.password = optarg;
			break;
		case 'C':
			ua.call_uri = optarg;
			break;
		case 'n':
			ua.calls_total = (unsigned)atoi(optarg);
			break;
		case 'P':
			ua.parallel = (unsigned)atoi(optarg);
			break;
		case 'H':
			ua.hold_ms = (unsigned)atoi(optarg);
			break;
		case 'r':
			if (sip_proto_parse(
			        slice_cstr(optarg), &ua.call_proto) != 0) {
				fprintf(stderr, "unknown --proto %s\n", optarg);
				return 2;
			}
			break;
		case 'X':
			if (tls_ciphers_parse(optarg, &topts.ciphers) != 0) {
				fprintf(stderr, "unknown --tls-ciphers %s\n",
				    optarg);
				return 2;
			}
			break;
		case '2':
			topts.cert2 = optarg;
			break;
		case '3':
			topts.key2 = optarg;
			break;
		case '4':
			topts.allow_tls13 = true;
			break;
		case '5':
			topts.keylog_file = optarg;
			break;
		case 'L':
			ua.linger_ms = (unsigned)atoi(optarg);
			break;
		case 'T':
			conf.timers.t1 = (unsigned)atoi(optarg);
			break;
		case 'd':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	ua.base = event_base_new();
	if (sip_stack_alloc(&ua.stack, ua.base, &conf, ua_req_h, &ua) != 0 ||
	    sip_auth_server_alloc(&ua.auth, "ngvoice", 300) != 0) {
		fprintf(stderr, "ngv-testua: cannot set up the stack\n");
		return 1;
	}
	if (!ua.password)
		ua.password = "secret";
	if (ssdir) {
		snprintf(certbuf, sizeof(certbuf), "%s/cert.pem", ssdir);
		snprintf(keybuf, sizeof(keybuf), "%s/key.pem", ssdir);
		if (pki_selfsigned(PKI_KEY_EC_P256, "testua.ngvoice.localhost",
		        "DNS:testua.ngvoice.localhost,DNS:127.0.0.1,"
		        "IP:127.0.0.1",
		        1, certbuf, keybuf) != 0) {
			fprintf(
			    stderr, "ngv-testua: cannot write %s\n", certbuf);
			return 1;
		}
		cert = certbuf;
		key = keybuf;
	}
	if (tls && (!cert || !key)) {
		fprintf(stderr, "ngv-testua: --tls needs --cert and --key "
		                "(or --selfsigned DIR)\n");
		return 2;
	}
	if (cert) {
		topts.cert = cert;
		topts.key = key;
		topts.ca_file = ca;
		sctx = tls_ctx(true, &topts);
		cctx = tls_ctx(false, &topts);
		if (!sctx || !cctx)
			return 1;
		sip_tp_set_client_tls(sip_stack_tp(ua.stack), cctx);
	}
	const char *addrs[3] = {udp, tcp, tls};
	const enum sip_proto protos[3] = {
	    SIP_PROTO_UDP, SIP_PROTO_TCP, SIP_PROTO_TLS};
	for (int i = 0; i < 3; i++) {
		if (addrs[i] == NULL)
			continue;
		if (parse_hostport(addrs[i], &a) != 0 ||
		    sip_tp_listen(sip_stack_tp(ua.stack), protos[i], &a, sctx,
		        &bound) != 0) {
			fprintf(stderr, "ngv-testua: cannot listen on %s %s\n",
			    sip_proto_name(protos[i]), addrs[i]);
			return 1;
		}
		ports[i] = sa_port(&bound);
	}
	printf("READY udp=%u tcp=%u tls=%u\n", ports[0], ports[1], ports[2]);
	fflush(stdout);

	ua.sigint = evsignal_new(ua.base, SIGINT, sig_cb, ua.base);
	ua.sigterm = evsignal_new(ua.base, SIGTERM, sig_cb, ua.base);
	event_add(ua.sigint, NULL);
	event_add(ua.sigterm, NULL);
	if (ua.call_uri && ua.calls_total)
		start_calls(&ua);
	event_base_dispatch(ua.base);

	if (ua.call_uri && ua.calls_total) {
		printf("calls ok=%u failed=%u\n", ua.calls_ok, ua.calls_failed);
		rc = ua.calls_ok == ua.calls_total ? 0 : 1;
	} else {
		printf("answered invites=%lu byes=%lu\n", ua.invites, ua.byes);
	}
	for (int i = 0; i < MAX_DIALOGS; i++)
		sip_dialog_free(ua.dialogs[i]);
	event_free(ua.sigint);
	event_free(ua.sigterm);
	sip_stack_free(ua.stack);
	sip_auth_server_free(ua.auth);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	event_base_free(ua.base);
	return rc;
}
