/* The call manager daemon in-process: registrar with digest over TLS, and trunk status by OPTIONS ping. */
#include <errno.h>
#include <event2/event.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "callmgr/cm.h"
#include "core/log.h"
#include "pki/cert.h"
#include "sip/auth.h"
#include "sip/dialog.h"
#include "sip/enc.h"
#include "tls/ctx.h"

static char dir[64];
static struct event_base *base;

/* A phone or a trunk peer: a SIP stack of our own. */
struct peer {
	struct sip_stack *stack;
	SSL_CTX *sctx, *cctx;
	struct sa udp, tls;
	bool answer_options;
	unsigned options_seen;
	/* as a phone or voicemail answering calls */
	uint16_t invite_answer; /* 0: do not expect INVITEs */
	unsigned invites, acks, byes;
	char diversion[300];
	char last_ruri[200];
	unsigned notifies;
	char mwi_body[200];
	/* as a caller */
	char *req;
	size_t reqlen;
	struct sip_dialog *dlg;
	char callinfo[200];
	/* the last client transaction's outcome */
	bool done;
	int err;
	uint16_t code;
	char wwwauth[600];
	char contacts[600];
};

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define WAIT_FOR(cond, ms)                                                     \
	do {                                                                   \
		uint64_t end_ = now_ms() + (ms);                               \
		while (!(cond) && now_ms() < end_)                             \
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),  \
			    usleep(1000);                                      \
	} while (0)

static void
path(char *out, size_t sz, const char *name)
{
	snprintf(out, sz, "%s/%s", dir, name);
}

static const char sdp_srtp[] =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\nm=audio 40000 RTP/SAVP 0\r\n"
    "a=crypto:1 AEAD_AES_256_GCM inline:"
    "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWI=\r\n";

static void
peer_req_h(struct sip_stack *s, const struct sip_msg *m,
    const struct sip_rx *rx, void *arg)
{
	struct peer *p = arg;
	struct sip_strans *st;

	if (sip_method_eq(m->method, "OPTIONS")) {
		p->options_seen++;
		if (p->answer_options)
			sip_stack_reply(
			    s, m, rx, 200, NULL, SLICE_LIT("p"), SLICE_NULL);
		return;
	}
	if (sip_method_eq(m->method, "ACK")) {
		p->acks++;
		return;
	}
	if (sip_strans_alloc(&st, s, m, rx, NULL, NULL) != 0)
		return;
	if (sip_method_eq(m->method, "INVITE") && p->invite_answer) {
		const struct sip_hdr *d = sip_msg_hdr(m, SIP_HDR_DIVERSION);
		p->invites++;
		slice_strlcpy(p->diversion, sizeof(p->diversion),
		    d ? d->val : SLICE_LIT(""));
		slice_strlcpy(p->last_ruri, sizeof(p->last_ruri), m->ruri_s);
		sip_strans_reply(st, 180, NULL, SLICE_LIT("ph"), SLICE_NULL,
		    SLICE_NULL, SLICE_NULL);
		if (p->invite_answer == 200) {
			char contact[100];
			snprintf(contact, sizeof(contact),
			    "Contact: <sip:ph@127.0.0.1:%u>\r\n",
			    sa_port(rx->proto == SIP_PROTO_TLS ? &p->tls
			                                       : &p->udp));
			sip_strans_reply(st, 200, NULL, SLICE_LIT("ph"),
			    slice_cstr(contact), SLICE_LIT("application/sdp"),
			    slice_cstr(sdp_srtp));
		} else {
			sip_strans_reply(st, p->invite_answer, NULL,
			    SLICE_LIT("ph"), SLICE_NULL, SLICE_NULL,
			    SLICE_NULL);
		}
		return;
	}
	if (sip_method_eq(m->method, "NOTIFY")) {
		p->notifies++;
		slice_strlcpy(p->mwi_body, sizeof(p->mwi_body), m->body);
		sip_strans_reply(st, 200, NULL, SLICE_LIT("n"), SLICE_NULL,
		    SLICE_NULL, SLICE_NULL);
		return;
	}
	if (sip_method_eq(m->method, "BYE")) {
		p->byes++;
		sip_strans_reply(st, 200, NULL, SLICE_NULL, SLICE_NULL,
		    SLICE_NULL, SLICE_NULL);
		return;
	}
	sip_strans_reply(
	    st, 501, NULL, SLICE_LIT("p"), SLICE_NULL, SLICE_NULL, SLICE_NULL);
}

static void
peer_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct peer *p = arg;
	const struct sip_hdr *h;
	size_t n = 0;

	if (!err && resp->scode < 200)
		return;
	p->done = true;
	p->err = err;
	p->code = err ? 0 : resp->scode;
	p->wwwauth[0] = p->contacts[0] = '\0';
	if (err)
		return;
	h = sip_msg_hdr_byname(resp, "Call-Info");
	if (h)
		slice_strlcpy(p->callinfo, sizeof(p->callinfo), h->val);
	if (p->req && resp->scode < 300 && p->dlg == NULL) {
		static struct sip_msg inv;
		struct sip_limits lim = SIP_LIMITS_DEFAULT;
		struct sip_perr perr;
		if (sip_msg_parse(&inv, p->req, p->reqlen, true, &lim, &perr) ==
		    0)
			sip_dialog_uac(
			    &p->dlg, &inv, resp, SIP_PROTO_TLS, NULL);
	}
	h = sip_msg_hdr(resp, SIP_HDR_WWW_AUTHENTICATE);
	if (h)
		slice_strlcpy(p->wwwauth, sizeof(p->wwwauth), h->val);
	for (h = sip_msg_hdr(resp, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(resp, h)) {
		int r = snprintf(p->contacts + n, sizeof(p->contacts) - n,
		    "%s%.*s", n ? "|" : "", (int)h->val.n, h->val.p);
		if (r > 0 && (size_t)r < sizeof(p->contacts) - n)
			n += (size_t)r;
	}
}

static void
peer_up(struct peer *p, const char *cert, const char *key, const char *trust)
{
	struct sip_stack_conf sc;
	struct tls_opts o;
	struct sa a;

	memset(p, 0, sizeof(*p));
	sip_stack_conf_default(&sc);
	sc.timers.t1 = 50;
	assert_int_equal(
	    sip_stack_alloc(&p->stack, base, &sc, peer_req_h, p), 0);
	tls_opts_default(&o);
	o.cert = cert;
	o.key = key;
	o.ca_file = trust;
	assert_int_equal(tls_ctx_new(&p->sctx, true, &o), 0);
	assert_int_equal(tls_ctx_new(&p->cctx, false, &o), 0);
	sip_tp_set_client_tls(sip_stack_tp(p->stack), p->cctx);
	sa_set_str(&a, "127.0.0.1", 0);
	assert_int_equal(sip_tp_listen(sip_stack_tp(p->stack), SIP_PROTO_UDP,
	                     &a, NULL, &p->udp),
	    0);
	assert_int_equal(sip_tp_listen(sip_stack_tp(p->stack), SIP_PROTO_TLS,
	                     &a, p->sctx, &p->tls),
	    0);
}

static void
peer_down(struct peer *p)
{
	sip_stack_free(p->stack);
	sip_dialog_free(p->dlg);
	free(p->req);
	SSL_CTX_free(p->sctx);
	SSL_CTX_free(p->cctx);
}

/* REGISTER for a line over proto, with an Authorization value or none. */
static void
do_register(struct peer *p, struct callmgr *cm, enum sip_proto proto,
    const char *user, const char *auth, uint32_t cseq, unsigned expires)
{
	char branch[32], ruri[128], from[128], contact[160], extra[800];
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	struct buf b;
	const struct sa *dst =
	    proto == SIP_PROTO_TLS ? &cm->tls_addr : &cm->sip_addr;
	const struct sa *me = proto == SIP_PROTO_TLS ? &p->tls : &p->udp;

	snprintf(
	    ruri, sizeof(ruri), "sip:cucm.ngvoice.localhost:%u", sa_port(dst));
	snprintf(from, sizeof(from), "<sip:%s@cucm.ngvoice.localhost>;tag=t%u",
	    user, cseq);
	snprintf(contact, sizeof(contact),
	    "<sip:%s@127.0.0.1:%u;transport=%s>;expires=%u", user, sa_port(me),
	    sip_proto_name(proto), expires);
	snprintf(extra, sizeof(extra), "%s%s%s", auth ? "Authorization: " : "",
	    auth ? auth : "", auth ? "\r\n" : "");
	memset(&sp, 0, sizeof(sp));
	sip_branch_new(branch);
	sp.method = "REGISTER";
	sp.ruri = slice_cstr(ruri);
	sp.proto = proto;
	sp.via_host = SLICE_LIT("127.0.0.1");
	sp.via_port = sa_port(me);
	sp.branch = branch;
	sp.from = slice_cstr(from);
	char to[128];
	snprintf(to, sizeof(to), "<sip:%s@cucm.ngvoice.localhost>", user);
	sp.to = slice_cstr(to);
	sp.callid = SLICE_LIT("reg-call-1");
	sp.cseq = cseq;
	sp.contact = slice_cstr(contact);
	sp.extra = slice_cstr(extra);
	buf_init(&b);
	sip_req_build(&b, &sp);
	p->done = false;
	assert_int_equal(
	    sip_ctrans_request(&ct, p->stack, proto, dst,
	        proto == SIP_PROTO_TLS ? "cucm.ngvoice.localhost" : NULL, NULL,
	        b.p, b.len, peer_resp_h, p),
	    0);
	buf_free(&b);
	WAIT_FOR(p->done, 5000);
	assert_true(p->done);
}

static void
write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char cm_rsa[128], cm_rsa_key[128], cm_ec[128], cm_ec_key[128];
static char vm_cert[128], vm_key[128], phone_cert[128], phone_key[128];
static char cm_trust[128], peer_trust[128], cfg_file[128];

static int
group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ngv-test-cm-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	path(cm_rsa, 128, "CallManager.pem");
	path(cm_rsa_key, 128, "CallManager.key");
	path(cm_ec, 128, "CallManager-ECDSA.pem");
	path(cm_ec_key, 128, "CallManager-ECDSA.key");
	path(vm_cert, 128, "tomcat.pem");
	path(vm_key, 128, "tomcat.key");
	path(phone_cert, 128, "phone.pem");
	path(phone_key, 128, "phone.key");
	path(cm_trust, 128, "callmanager-trust.pem");
	path(peer_trust, 128, "peer-trust.pem");
	path(cfg_file, 128, "cm.conf");
	if (pki_selfsigned(PKI_KEY_RSA2048, "cucm.ngvoice.localhost",
	        "DNS:cucm.ngvoice.localhost", 1, cm_rsa, cm_rsa_key) ||
	    pki_selfsigned(PKI_KEY_EC_P256, "cucm-EC.ngvoice.localhost",
	        "DNS:cucm.ngvoice.localhost", 1, cm_ec, cm_ec_key) ||
	    pki_selfsigned(PKI_KEY_EC_P256, "cuc.ngvoice.localhost",
	        "DNS:cuc.ngvoice.localhost", 1, vm_cert, vm_key) ||
	    pki_selfsigned(PKI_KEY_EC_P256, "phone1001.ngvoice.localhost",
	        "DNS:phone1001.ngvoice.localhost", 1, phone_cert, phone_key))
		return -1;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cat %s %s > %s && cat %s %s > %s", vm_cert,
	    phone_cert, cm_trust, cm_rsa, cm_ec, peer_trust);
	if (system(cmd) != 0)
		return -1;
	log_set_level(getenv("NGV_TEST_LOG") ? LOG_DEBUG : LOG_ERR);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The guide's call manager, with the trunk pointing at port vm_port. */
static void
write_config(unsigned vm_port, const char *x509)
{
	char text[4096];
	snprintf(text, sizeof(text),
	    "[enterprise]\n"
	    "host_name = cucm.ngvoice.localhost\n"
	    "listen_address = 127.0.0.1\n"
	    "sip_port = %u\n"
	    "sip_tls_port = %u\n"
	    "tls_ciphers = All Ciphers RSA Preferred\n"
	    "[certificates]\n"
	    "callmanager = %s\ncallmanager_key = %s\n"
	    "callmanager_ecdsa = %s\ncallmanager_ecdsa_key = %s\n"
	    "callmanager_trust = %s\n"
	    "[sip-trunk-security-profile \"cuc-secure-profile-EDCS\"]\n"
	    "device_security_mode = Encrypted\n"
	    "incoming_transport_type = TLS\n"
	    "outgoing_transport_type = TLS\n"
	    "x509_subject_name = %s\n"
	    "incoming_port = %u\n"
	    "accept_unsolicited_notification = yes\n"
	    "[sip-profile \"Standard SIP Profile For Cisco VVM\"]\n"
	    "enable_options_ping = yes\n"
	    "options_ping_interval_in_service = 1\n"
	    "options_ping_interval_out_of_service = 1\n"
	    "[sip-trunk \"CUCv11\"]\n"
	    "destination = 127.0.0.1:%u\n"
	    "sip_trunk_security_profile = cuc-secure-profile-EDCS\n"
	    "sip_profile = Standard SIP Profile For Cisco VVM\n"
	    "srtp_allowed = yes\n"
	    "redirecting_diversion_header_delivery_outbound = yes\n"
	    "[route-pattern \"2000\"]\n"
	    "gateway_or_route_list = CUCv11\n"
	    "[voicemail-pilot \"2000\"]\n"
	    "make_this_the_default = yes\n"
	    "[voicemail-profile \"VoiceMailProfile-8000\"]\n"
	    "voice_mail_pilot = 2000\n"
	    "make_this_the_default = yes\n"
	    "[directory-number \"1001\"]\n"
	    "digest_password = secret1001\n"
	    "voice_mail_profile = VoiceMailProfile-8000\n"
	    "[directory-number \"1002\"]\n"
	    "digest_password = secret1002\n"
	    "device_security_mode = Non Secure\n"
	    "[directory-number \"1003\"]\n"
	    "digest_password = secret1003\n"
	    "voice_mail_profile = VoiceMailProfile-8000\n"
	    "forward_busy_to_voicemail = yes\n",
	    25060 + (unsigned)(getpid() % 2000) * 2,
	    25061 + (unsigned)(getpid() % 2000) * 2, cm_rsa, cm_rsa_key, cm_ec,
	    cm_ec_key, cm_trust, x509, 5061, vm_port);
	write_file(cfg_file, text);
}

static void
test_register(void **state)
{
	struct callmgr *cm;
	struct conf_err err;
	struct peer phone;
	struct sip_auth_params chal;
	struct buf b;
	char msg[400];

	(void)state;
	base = event_base_new();
	write_config(9, "cuc.ngvoice.localhost");
	if (cm_alloc(&cm, base, cfg_file, &err) != 0)
		fail_msg("%s", conf_err_str(&err, msg, sizeof(msg)));
	assert_int_equal(cm_start(cm), 0);
	peer_up(&phone, phone_cert, phone_key, peer_trust);

	/* line 1001 is Encrypted: REGISTER over UDP is refused */
	do_register(&phone, cm, SIP_PROTO_UDP, "1001", NULL, 1, 600);
	assert_int_equal(phone.code, 403);
	/* over TLS, challenged with digest */
	do_register(&phone, cm, SIP_PROTO_TLS, "1001", NULL, 2, 600);
	assert_int_equal(phone.code, 401);
	assert_int_equal(sip_auth_parse(&chal, slice_cstr(phone.wwwauth)), 0);
	assert_true(chal.digest);
	/* a wrong password is refused */
	char saved[600];
	memcpy(saved, phone.wwwauth, sizeof(saved));
	assert_int_equal(sip_auth_parse(&chal, slice_cstr(saved)), 0);
	buf_init(&b);
	assert_int_equal(sip_auth_respond(&b, &chal, SLICE_LIT("REGISTER"),
	                     SLICE_LIT("sip:cucm.ngvoice.localhost"), "1001",
	                     "wrong", 1, NULL),
	    0);
	buf_append(&b, "", 1);
	do_register(&phone, cm, SIP_PROTO_TLS, "1001", b.p, 3, 600);
	assert_int_equal(phone.code, 403);
	buf_free(&b);
	/* the right one registers; the 200 lists the contact */
	buf_init(&b);
	assert_int_equal(sip_auth_respond(&b, &chal, SLICE_LIT("REGISTER"),
	                     SLICE_LIT("sip:cucm.ngvoice.localhost"), "1001",
	                     "secret1001", 2, NULL),
	    0);
	buf_append(&b, "", 1);
	do_register(&phone, cm, SIP_PROTO_TLS, "1001", b.p, 4, 600);
	assert_int_equal(phone.code, 200);
	assert_non_null(strstr(phone.contacts, "sip:1001@127.0.0.1"));
	assert_non_null(strstr(phone.contacts, ";expires=600"));
	struct cm_line *l = cm_line_find(cm, "1001");
	assert_non_null(l);
	assert_int_equal(list_count(&l->bindings), 1);
	/* an unknown line */
	do_register(&phone, cm, SIP_PROTO_TLS, "1999", NULL, 5, 600);
	assert_int_equal(phone.code, 404);
	/* too short an expiry */
	do_register(&phone, cm, SIP_PROTO_TLS, "1001", b.p, 6, 10);
	assert_int_equal(phone.code, 423);
	/* unregister */
	do_register(&phone, cm, SIP_PROTO_TLS, "1001", b.p, 7, 0);
	assert_int_equal(phone.code, 200);
	assert_int_equal(list_count(&l->bindings), 0);
	buf_free(&b);
	/* line 1002 is Non Secure: UDP is fine */
	do_register(&phone, cm, SIP_PROTO_UDP, "1002", NULL, 8, 600);
	assert_int_equal(phone.code, 401);

	peer_down(&phone);
	cm_free(cm);
	event_base_free(base);
}

static enum cm_trunk_status
trunk_status(struct callmgr *cm)
{
	return cm->trunks[0].status;
}

static void
test_trunk_status(void **state)
{
	struct callmgr *cm;
	struct conf_err err;
	struct peer vm;
	char msg[400];

	(void)state;
	base = event_base_new();
	/* the voicemail side: presents tomcat, trusts the call manager */
	peer_up(&vm, vm_cert, vm_key, peer_trust);
	vm.answer_options = true;
	write_config(sa_port(&vm.tls), "cuc.ngvoice.localhost");
	if (cm_alloc(&cm, base, cfg_file, &err) != 0)
		fail_msg("%s", conf_err_str(&err, msg, sizeof(msg)));
	assert_int_equal(cm_start(cm), 0);
	WAIT_FOR(trunk_status(cm) == CM_TRUNK_FULL, 5000);
	assert_int_equal(trunk_status(cm), CM_TRUNK_FULL);
	assert_string_equal(
	    cm_trunk_status_label(trunk_status(cm)), "Full Service");
	assert_int_equal(cm->trunks[0].dests[0].last_status, 200);
	unsigned seen = vm.options_seen;
	/* pings keep coming, over the same TLS connection */
	WAIT_FOR(vm.options_seen >= seen + 2, 5000);
	assert_true(vm.options_seen >= seen + 2);
	struct sip_tp_stats st;
	sip_tp_stats(sip_stack_tp(vm.stack), &st);
	assert_int_equal(st.conns, 1);

	/* the far end stops: No Service */
	peer_down(&vm);
	WAIT_FOR(trunk_status(cm) == CM_TRUNK_NONE, 8000);
	assert_int_equal(trunk_status(cm), CM_TRUNK_NONE);
	cm_free(cm);
	event_base_free(base);
}

/* A far end whose certificate name is not the X.509 subject name: No Service. */
static void
test_trunk_wrong_name(void **state)
{
	struct callmgr *cm;
	struct conf_err err;
	struct peer vm;
	char msg[400];

	(void)state;
	base = event_base_new();
	peer_up(&vm, vm_cert, vm_key, peer_trust);
	vm.answer_options = true;
	write_config(sa_port(&vm.tls), "someone-else.ngvoice.localhost");
	if (cm_alloc(&cm, base, cfg_file, &err) != 0)
		fail_msg("%s", conf_err_str(&err, msg, sizeof(msg)));
	assert_int_equal(cm_start(cm), 0);
	WAIT_FOR(trunk_status(cm) == CM_TRUNK_NONE &&
	             cm->trunks[0].dests[0].state == CM_DEST_DOWN,
	    5000);
	assert_int_equal(trunk_status(cm), CM_TRUNK_NONE);
	assert_int_equal(vm.options_seen, 0);
	cm_free(cm);
	peer_down(&vm);
	event_base_free(base);
}

/* Registers a phone for a line (challenge, then credentials). */
static void
register_line(struct peer *p, struct callmgr *cm, enum sip_proto proto,
    const char *user, const char *password)
{
	struct sip_auth_params chal;
	char saved[600];
	struct buf b;

	do_register(p, cm, proto, user, NULL, 1, 600);
	assert_int_equal(p->code, 401);
	memcpy(saved, p->wwwauth, sizeof(saved));
	assert_int_equal(sip_auth_parse(&chal, slice_cstr(saved)), 0);
	buf_init(&b);
	assert_int_equal(sip_auth_respond(&b, &chal, SLICE_LIT("REGISTER"),
	                     SLICE_LIT("sip:cucm.ngvoice.localhost"), user,
	                     password, 1, NULL),
	    0);
	buf_append(&b, "", 1);
	do_register(p, cm, proto, user, b.p, 2, 600);
	assert_int_equal(p->code, 200);
	buf_free(&b);
}

/* A phone dials: INVITE with an SRTP offer over its registration flow. */
static void
dial(struct peer *p, struct callmgr *cm, enum sip_proto proto,
    const char *from_user, const char *digits)
{
	char branch[32], ruri[128], from[128], contact[128], callid[32];
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	struct buf b;
	const struct sa *dst =
	    proto == SIP_PROTO_TLS ? &cm->tls_addr : &cm->sip_addr;
	const struct sa *me = proto == SIP_PROTO_TLS ? &p->tls : &p->udp;

	snprintf(ruri, sizeof(ruri), "sip:%s@cucm.ngvoice.localhost", digits);
	snprintf(from, sizeof(from), "<sip:%s@cucm.ngvoice.localhost>;tag=c1",
	    from_user);
	snprintf(contact, sizeof(contact), "<sip:%s@127.0.0.1:%u>", from_user,
	    sa_port(me));
	sip_token_new(callid, sizeof(callid));
	memset(&sp, 0, sizeof(sp));
	sip_branch_new(branch);
	sp.method = "INVITE";
	sp.ruri = slice_cstr(ruri);
	sp.proto = proto;
	sp.via_host = SLICE_LIT("127.0.0.1");
	sp.via_port = sa_port(me);
	sp.branch = branch;
	sp.from = slice_cstr(from);
	sp.to = slice_cstr(ruri);
	sp.callid = slice_cstr(callid);
	sp.cseq = 1;
	sp.contact = slice_cstr(contact);
	sp.ctype = SLICE_LIT("application/sdp");
	sp.body = slice_cstr(sdp_srtp);
	buf_init(&b);
	sip_req_build(&b, &sp);
	free(p->req);
	p->req = b.p;
	p->reqlen = b.len;
	sip_dialog_free(p->dlg);
	p->dlg = NULL;
	p->done = false;
	p->callinfo[0] = '\0';
	assert_int_equal(
	    sip_ctrans_request(&ct, p->stack, proto, dst,
	        proto == SIP_PROTO_TLS ? "cucm.ngvoice.localhost" : NULL, NULL,
	        p->req, p->reqlen, peer_resp_h, p),
	    0);
	WAIT_FOR(p->done, 8000);
	assert_true(p->done);
}

/* The caller sends ACK then BYE in its dialog. */
static void
hang_up(struct peer *p, struct callmgr *cm)
{
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	char branch[32];
	struct buf b;

	assert_non_null(p->dlg);
	for (int i = 0; i < 2; i++) {
		memset(&sp, 0, sizeof(sp));
		sip_branch_new(branch);
		sp.method = i == 0 ? "ACK" : "BYE";
		sp.proto = SIP_PROTO_TLS;
		sp.via_host = SLICE_LIT("127.0.0.1");
		sp.via_port = sa_port(&p->tls);
		sp.branch = branch;
		buf_init(&b);
		assert_int_equal(
		    sip_dialog_request(p->dlg, &b, &sp, NULL, NULL, 0), 0);
		if (i == 0) {
			sip_tp_send(sip_stack_tp(p->stack), SIP_PROTO_TLS,
			    &cm->tls_addr, NULL, "cucm.ngvoice.localhost", b.p,
			    b.len, NULL);
		} else {
			p->done = false;
			assert_int_equal(
			    sip_ctrans_request(&ct, p->stack, SIP_PROTO_TLS,
			        &cm->tls_addr, "cucm.ngvoice.localhost", NULL,
			        b.p, b.len, peer_resp_h, p),
			    0);
		}
		buf_free(&b);
	}
	WAIT_FOR(p->done, 5000);
	assert_int_equal(p->code, 200);
}

/*
 * Calls through the B2BUA: line to line, line to the voicemail pilot over
 * the secure trunk (Encrypted), and busy forwarded to voicemail with a
 * Diversion header naming the original called number.
 */
static void
test_calls(void **state)
{
	struct callmgr *cm;
	struct conf_err err;
	struct peer p1, p2, vm;
	char msg[400];

	(void)state;
	base = event_base_new();
	peer_up(&vm, vm_cert, vm_key, peer_trust);
	vm.answer_options = true;
	vm.invite_answer = 200;
	write_config(sa_port(&vm.tls), "cuc.ngvoice.localhost");
	if (cm_alloc(&cm, base, cfg_file, &err) != 0)
		fail_msg("%s", conf_err_str(&err, msg, sizeof(msg)));
	assert_int_equal(cm_start(cm), 0);
	WAIT_FOR(trunk_status(cm) == CM_TRUNK_FULL, 5000);
	assert_int_equal(trunk_status(cm), CM_TRUNK_FULL);
	peer_up(&p1, phone_cert, phone_key, peer_trust);
	peer_up(&p2, phone_cert, phone_key, peer_trust);
	register_line(&p1, cm, SIP_PROTO_TLS, "1001", "secret1001");
	register_line(&p2, cm, SIP_PROTO_TLS, "1003", "secret1003");

	/* line to line */
	p2.invite_answer = 200;
	dial(&p1, cm, SIP_PROTO_TLS, "1001", "1003");
	assert_int_equal(p1.code, 200);
	assert_int_equal(p2.invites, 1);
	assert_non_null(strstr(p1.callinfo, "security=Encrypted"));
	hang_up(&p1, cm);
	WAIT_FOR(p2.byes == 1, 3000);
	assert_int_equal(p2.byes, 1);
	assert_int_equal(p2.acks, 1);

	/* the Messages button: the pilot, over the trunk, no Diversion */
	dial(&p1, cm, SIP_PROTO_TLS, "1001", "2000");
	assert_int_equal(p1.code, 200);
	assert_int_equal(vm.invites, 1);
	assert_string_equal(vm.diversion, "");
	assert_non_null(strstr(vm.last_ruri, "sips:2000@127.0.0.1"));
	assert_non_null(strstr(p1.callinfo, "security=Encrypted"));
	hang_up(&p1, cm);
	WAIT_FOR(vm.byes == 1, 3000);
	assert_int_equal(vm.byes, 1);

	/* 1003 is busy and forwards busy calls to voicemail */
	p2.invite_answer = 486;
	dial(&p1, cm, SIP_PROTO_TLS, "1001", "1003");
	assert_int_equal(p1.code, 200);
	assert_int_equal(vm.invites, 2);
	assert_non_null(strstr(vm.diversion, "<sip:1003@"));
	assert_non_null(strstr(vm.diversion, "reason=user-busy"));
	hang_up(&p1, cm);

	/* an unregistered line is unreachable */
	dial(&p1, cm, SIP_PROTO_TLS, "1001", "1002");
	assert_int_equal(p1.code, 480);
	/* a number nothing routes */
	dial(&p1, cm, SIP_PROTO_TLS, "1001", "7777");
	assert_int_equal(p1.code, 404);

	peer_down(&p1);
	peer_down(&p2);
	cm_free(cm);
	peer_down(&vm);
	event_base_free(base);
}

/* The voicemail side sends an unsolicited NOTIFY for line 1001 over the trunk. */
static void
send_mwi(struct peer *p, struct callmgr *cm, const char *line, const char *yes)
{
	char branch[32], ruri[128], body[128], callid[32];
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	struct buf b;

	snprintf(ruri, sizeof(ruri), "sip:%s@cucm.ngvoice.localhost", line);
	snprintf(body, sizeof(body),
	    "Messages-Waiting: %s\r\nVoice-Message: 1/0\r\n", yes);
	sip_token_new(callid, sizeof(callid));
	memset(&sp, 0, sizeof(sp));
	sip_branch_new(branch);
	sp.method = "NOTIFY";
	sp.ruri = slice_cstr(ruri);
	sp.proto = SIP_PROTO_TLS;
	sp.via_host = SLICE_LIT("127.0.0.1");
	sp.via_port = sa_port(&p->tls);
	sp.branch = branch;
	sp.from = SLICE_LIT("<sip:cuc.ngvoice.localhost>;tag=vm");
	sp.to = slice_cstr(ruri);
	sp.callid = slice_cstr(callid);
	sp.cseq = 1;
	sp.extra = SLICE_LIT("Event: message-summary\r\n");
	sp.ctype = SLICE_LIT("application/simple-message-summary");
	sp.body = slice_cstr(body);
	buf_init(&b);
	sip_req_build(&b, &sp);
	p->done = false;
	assert_int_equal(
	    sip_ctrans_request(&ct, p->stack, SIP_PROTO_TLS, &cm->tls_addr,
	        "cucm.ngvoice.localhost", NULL, b.p, b.len, peer_resp_h, p),
	    0);
	buf_free(&b);
	WAIT_FOR(p->done, 5000);
	assert_true(p->done);
}

/*
 * MWI: an unsolicited NOTIFY from the trunk lights the lamp of the
 * registered phone; a phone that registers later gets the state at once;
 * a NOTIFY from a phone (not the trunk) is refused.
 */
static void
test_mwi(void **state)
{
	struct callmgr *cm;
	struct conf_err err;
	struct peer p1, p2, vm;
	char msg[400];

	(void)state;
	base = event_base_new();
	peer_up(&vm, vm_cert, vm_key, peer_trust);
	vm.answer_options = true;
	write_config(sa_port(&vm.tls), "cuc.ngvoice.localhost");
	if (cm_alloc(&cm, base, cfg_file, &err) != 0)
		fail_msg("%s", conf_err_str(&err, msg, sizeof(msg)));
	assert_int_equal(cm_start(cm), 0);
	peer_up(&p1, phone_cert, phone_key, peer_trust);
	register_line(&p1, cm, SIP_PROTO_TLS, "1001", "secret1001");
	WAIT_FOR(p1.notifies == 1, 3000);
	assert_int_equal(p1.notifies, 1);
	assert_non_null(strstr(p1.mwi_body, "Messages-Waiting: no"));

	send_mwi(&vm, cm, "1001", "yes");
	assert_int_equal(vm.code, 200);
	WAIT_FOR(p1.notifies == 2, 3000);
	assert_int_equal(p1.notifies, 2);
	assert_non_null(strstr(p1.mwi_body, "Messages-Waiting: yes"));
	assert_non_null(strstr(p1.mwi_body, "Voice-Message: 1/0"));

	/* a phone registering later learns the lamp is on */
	peer_up(&p2, phone_cert, phone_key, peer_trust);
	register_line(&p2, cm, SIP_PROTO_TLS, "1001", "secret1001");
	WAIT_FOR(p2.notifies == 1, 3000);
	assert_non_null(strstr(p2.mwi_body, "Messages-Waiting: yes"));

	/* not from the trunk: refused */
	send_mwi(&p1, cm, "1001", "no");
	assert_int_equal(p1.code, 403);
	/* an unknown line */
	send_mwi(&vm, cm, "1999", "yes");
	assert_int_equal(vm.code, 404);

	peer_down(&p1);
	peer_down(&p2);
	cm_free(cm);
	peer_down(&vm);
	event_base_free(base);
}

/* The profile's accept flags: REFER, presence SUBSCRIBE and Replaces from the trunk. */
static void
send_from_vm(
    struct peer *p, struct callmgr *cm, const char *method, const char *extra)
{
	char branch[32], callid[32];
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	struct buf b;

	sip_token_new(callid, sizeof(callid));
	memset(&sp, 0, sizeof(sp));
	sip_branch_new(branch);
	sp.method = method;
	sp.ruri = SLICE_LIT("sip:1001@cucm.ngvoice.localhost");
	sp.proto = SIP_PROTO_TLS;
	sp.via_host = SLICE_LIT("127.0.0.1");
	sp.via_port = sa_port(&p->tls);
	sp.branch = branch;
	sp.from = SLICE_LIT("<sip:cuc.ngvoice.localhost>;tag=vm");
	sp.to = SLICE_LIT("<sip:1001@cucm.ngvoice.localhost>");
	sp.callid = slice_cstr(callid);
	sp.cseq = 1;
	sp.contact = SLICE_LIT("<sip:vm@127.0.0.1>");
	sp.extra = slice_cstr(extra);
	buf_init(&b);
	sip_req_build(&b, &sp);
	p->done = false;
	assert_int_equal(
	    sip_ctrans_request(&ct, p->stack, SIP_PROTO_TLS, &cm->tls_addr,
	        "cucm.ngvoice.localhost", NULL, b.p, b.len, peer_resp_h, p),
	    0);
	buf_free(&b);
	WAIT_FOR(p->done, 5000);
	assert_true(p->done);
}

static void
test_accept_flags(void **state)
{
	struct callmgr *cm;
	struct conf_err err;
	struct peer vm;
	char msg[400];

	(void)state;
	base = event_base_new();
	peer_up(&vm, vm_cert, vm_key, peer_trust);
	vm.answer_options = true;
	write_config(sa_port(&vm.tls), "cuc.ngvoice.localhost");
	if (cm_alloc(&cm, base, cfg_file, &err) != 0)
		fail_msg("%s", conf_err_str(&err, msg, sizeof(msg)));
	assert_int_equal(cm_start(cm), 0);
	send_from_vm(&vm, cm, "REFER",
	    "Refer-To: <sip:1002@cucm.ngvoice.localhost>\r\n");
	assert_int_equal(vm.code, 403);
	send_from_vm(&vm, cm, "SUBSCRIBE", "Event: presence\r\n");
	assert_int_equal(vm.code, 403);
	send_from_vm(
	    &vm, cm, "INVITE", "Replaces: abc@host;to-tag=1;from-tag=2\r\n");
	assert_int_equal(vm.code, 403);
	/* unsolicited NOTIFY is accepted by this profile */
	send_mwi(&vm, cm, "1001", "yes");
	assert_int_equal(vm.code, 200);
	cm_free(cm);
	peer_down(&vm);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register),
	    cmocka_unit_test(test_trunk_status),
	    cmocka_unit_test(test_trunk_wrong_name),
	    cmocka_unit_test(test_calls),
	    cmocka_unit_test(test_mwi),
	    cmocka_unit_test(test_accept_flags),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
