/* ngvoice lab, second part: the guide's call manager running, a phone, and the secure trunk to the voicemail side. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "callmgr/cm.h"
#include "cli/lab.h"
#include "core/log.h"
#include "pki/cert.h"
#include "sip/auth.h"
#include "sip/dialog.h"
#include "sip/enc.h"
#include "tls/ctx.h"

/* The voicemail stand-in and the phone: SIP stacks with what they saw. */
struct agent {
	struct sip_stack *stack;
	SSL_CTX *sctx, *cctx;
	struct sa tls;
	unsigned options, invites, byes;
	char diversion[200];
	/* last client transaction */
	bool done;
	int err;
	uint16_t code;
	char wwwauth[600];
	char callinfo[200];
	char *req;
	size_t reqlen;
	struct sip_dialog *dlg;
};

static const char sdp_offer[] =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=ngvoice-lab\r\n"
    "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/SAVP 0\r\n"
    "a=crypto:1 AEAD_AES_256_GCM inline:"
    "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWI=\r\n";

static double
ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
wait_for(struct event_base *base, const bool *flag, unsigned ms)
{
	double end = ms_now() + ms;
	while (!*flag && ms_now() < end) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(500);
	}
}

static void
agent_req_h(struct sip_stack *s, const struct sip_msg *m,
    const struct sip_rx *rx, void *arg)
{
	struct agent *a = arg;
	struct sip_strans *st;

	if (sip_method_eq(m->method, "ACK"))
		return;
	if (sip_strans_alloc(&st, s, m, rx, NULL, NULL) != 0)
		return;
	if (sip_method_eq(m->method, "OPTIONS")) {
		a->options++;
		sip_strans_reply(st, 200, NULL, SLICE_LIT("vm"), SLICE_NULL,
		    SLICE_NULL, SLICE_NULL);
	} else if (sip_method_eq(m->method, "INVITE")) {
		const struct sip_hdr *d = sip_msg_hdr(m, SIP_HDR_DIVERSION);
		char contact[100];
		a->invites++;
		slice_strlcpy(a->diversion, sizeof(a->diversion),
		    d ? d->val : SLICE_LIT(""));
		snprintf(contact, sizeof(contact),
		    "Contact: <sips:voicemail@127.0.0.1:%u>\r\n",
		    sa_port(&a->tls));
		sip_strans_reply(st, 200, NULL, SLICE_LIT("vm"),
		    slice_cstr(contact), SLICE_LIT("application/sdp"),
		    slice_cstr(sdp_offer));
	} else if (sip_method_eq(m->method, "BYE")) {
		a->byes++;
		sip_strans_reply(st, 200, NULL, SLICE_NULL, SLICE_NULL,
		    SLICE_NULL, SLICE_NULL);
	} else {
		sip_strans_reply(st, 200, NULL, SLICE_LIT("ph"), SLICE_NULL,
		    SLICE_NULL, SLICE_NULL);
	}
}

static void
agent_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct agent *a = arg;
	const struct sip_hdr *h;

	if (!err && resp->scode < 200)
		return;
	a->done = true;
	a->err = err;
	a->code = err ? 0 : resp->scode;
	if (err)
		return;
	h = sip_msg_hdr(resp, SIP_HDR_WWW_AUTHENTICATE);
	a->wwwauth[0] = '\0';
	if (h)
		slice_strlcpy(a->wwwauth, sizeof(a->wwwauth), h->val);
	h = sip_msg_hdr_byname(resp, "Call-Info");
	a->callinfo[0] = '\0';
	if (h)
		slice_strlcpy(a->callinfo, sizeof(a->callinfo), h->val);
	if (a->req && resp->scode < 300 && a->dlg == NULL) {
		static struct sip_msg inv;
		struct sip_limits lim = SIP_LIMITS_DEFAULT;
		struct sip_perr perr;
		if (sip_msg_parse(&inv, a->req, a->reqlen, true, &lim, &perr) ==
		    0)
			sip_dialog_uac(
			    &a->dlg, &inv, resp, SIP_PROTO_TLS, NULL);
	}
}

static int
agent_up(struct agent *a, struct event_base *base, const char *cert,
    const char *key, const char *cert2, const char *key2, const char *trust)
{
	struct sip_stack_conf sc;
	struct tls_opts o;
	struct sa any;
	int err;

	memset(a, 0, sizeof(*a));
	sip_stack_conf_default(&sc);
	if ((err = sip_stack_alloc(&a->stack, base, &sc, agent_req_h, a)))
		return err;
	tls_opts_default(&o);
	o.cert = cert;
	o.key = key;
	o.cert2 = cert2;
	o.key2 = key2;
	o.ca_file = trust;
	o.what = "lab agent";
	if ((err = tls_ctx_new(&a->sctx, true, &o)) ||
	    (err = tls_ctx_new(&a->cctx, false, &o)))
		return err;
	sip_tp_set_client_tls(sip_stack_tp(a->stack), a->cctx);
	sa_set_str(&any, "127.0.0.1", 0);
	return sip_tp_listen(
	    sip_stack_tp(a->stack), SIP_PROTO_TLS, &any, a->sctx, &a->tls);
}

static void
agent_down(struct agent *a)
{
	sip_stack_free(a->stack);
	sip_dialog_free(a->dlg);
	free(a->req);
	SSL_CTX_free(a->sctx);
	SSL_CTX_free(a->cctx);
}

/* A free TCP port on 127.0.0.1 (the kernel's pick, released at once). */
static unsigned
free_port(void)
{
	struct sa a;
	socklen_t len = sizeof(a.u.ss);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	sa_set_str(&a, "127.0.0.1", 0);
	if (fd >= 0 && bind(fd, &a.u.sa, a.len) == 0 &&
	    getsockname(fd, &a.u.sa, &len) == 0)
		port = sa_port(&a);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Sends a request from the phone to the call manager over TLS. */
static void
phone_send(struct agent *p, struct callmgr *cm, const char *method,
    const char *ruri, const char *to, const char *auth, const char *body,
    uint32_t cseq)
{
	char branch[32], callid[40], contact[128], extra[800];
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	struct buf b;

	snprintf(contact, sizeof(contact),
	    "<sips:1001@127.0.0.1:%u;transport=tls>%s", sa_port(&p->tls),
	    strcmp(method, "REGISTER") == 0 ? ";expires=600" : "");
	snprintf(extra, sizeof(extra), "%s%s%s", auth ? "Authorization: " : "",
	    auth ? auth : "", auth ? "\r\n" : "");
	sip_branch_new(branch);
	if (strcmp(method, "REGISTER") == 0)
		snprintf(callid, sizeof(callid), "lab-register-1001");
	else
		sip_token_new(callid, sizeof(callid));
	memset(&sp, 0, sizeof(sp));
	sp.method = method;
	sp.ruri = slice_cstr(ruri);
	sp.proto = SIP_PROTO_TLS;
	sp.via_host = SLICE_LIT("127.0.0.1");
	sp.via_port = sa_port(&p->tls);
	sp.branch = branch;
	sp.from = SLICE_LIT("\"Line 1001\" <sip:1001@cucm.ngvoice.localhost>"
	                    ";tag=lab1001");
	sp.to = slice_cstr(to);
	sp.callid = slice_cstr(callid);
	sp.cseq = cseq;
	sp.contact = slice_cstr(contact);
	sp.extra = slice_cstr(extra);
	if (body) {
		sp.ctype = SLICE_LIT("application/sdp");
		sp.body = slice_cstr(body);
	}
	buf_init(&b);
	sip_req_build(&b, &sp);
	free(p->req);
	p->req = NULL;
	if (strcmp(method, "INVITE") == 0) {
		p->req = malloc(b.len);
		if (p->req) {
			memcpy(p->req, b.p, b.len);
			p->reqlen = b.len;
		}
	}
	p->done = false;
	if (sip_ctrans_request(&ct, p->stack, SIP_PROTO_TLS, &cm->tls_addr,
	        "cucm.ngvoice.localhost", NULL, b.p, b.len, agent_resp_h,
	        p) != 0)
		p->done = true;
	buf_free(&b);
}

static void
phone_in_dialog(struct agent *p, struct callmgr *cm, const char *method)
{
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	char branch[32];
	struct buf b;

	if (p->dlg == NULL)
		return;
	memset(&sp, 0, sizeof(sp));
	sip_branch_new(branch);
	sp.method = method;
	sp.proto = SIP_PROTO_TLS;
	sp.via_host = SLICE_LIT("127.0.0.1");
	sp.via_port = sa_port(&p->tls);
	sp.branch = branch;
	buf_init(&b);
	if (sip_dialog_request(p->dlg, &b, &sp, NULL, NULL, 0) == 0) {
		if (strcmp(method, "ACK") == 0) {
			sip_tp_send(sip_stack_tp(p->stack), SIP_PROTO_TLS,
			    &cm->tls_addr, NULL, "cucm.ngvoice.localhost", b.p,
			    b.len, NULL);
		} else {
			p->done = false;
			sip_ctrans_request(&ct, p->stack, SIP_PROTO_TLS,
			    &cm->tls_addr, "cucm.ngvoice.localhost", NULL, b.p,
			    b.len, agent_resp_h, p);
		}
	}
	buf_free(&b);
}

static int
write_cm_conf(const char *path, const struct lab_files *f, unsigned sip,
    unsigned tls, unsigned vm_port)
{
	/* It holds the lines' digest passwords: owner only. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (out == NULL) {
		if (fd >= 0)
			close(fd);
		return errno;
	}
	fprintf(out,
	    "# Written by ngvoice lab: the guide's Unified CM configuration.\n"
	    "[enterprise]\n"
	    "host_name = cucm.ngvoice.localhost\n"
	    "listen_address = 127.0.0.1\n"
	    "sip_port = %u\n"
	    "sip_tls_port = %u\n"
	    "tls_ciphers = All Ciphers RSA Preferred\n"
	    "srtp_ciphers = All supported AES-256, AES-128 ciphers\n\n"
	    "[certificates]\n"
	    "callmanager = %s\ncallmanager_key = %s\n"
	    "callmanager_ecdsa = %s\ncallmanager_ecdsa_key = %s\n"
	    "callmanager_trust = %s\n\n"
	    "[sip-trunk-security-profile \"cuc-secure-profile-EDCS\"]\n"
	    "device_security_mode = Encrypted\n"
	    "incoming_transport_type = TLS\n"
	    "outgoing_transport_type = TLS\n"
	    "x509_subject_name = cuc.ngvoice.localhost\n"
	    "incoming_port = 5061\n"
	    "accept_unsolicited_notification = yes\n"
	    "accept_replaces_header = yes\n\n"
	    "[sip-profile \"Standard SIP Profile For Cisco VVM\"]\n"
	    "enable_options_ping = yes\n\n"
	    "[sip-trunk \"CUCv11\"]\n"
	    "destination = 127.0.0.1:%u\n"
	    "sip_trunk_security_profile = cuc-secure-profile-EDCS\n"
	    "sip_profile = Standard SIP Profile For Cisco VVM\n"
	    "srtp_allowed = yes\n"
	    "redirecting_diversion_header_delivery_inbound = yes\n"
	    "redirecting_diversion_header_delivery_outbound = yes\n\n"
	    "[route-pattern \"2000\"]\n"
	    "gateway_or_route_list = CUCv11\n\n"
	    "[voicemail-pilot \"2000\"]\n"
	    "make_this_the_default = yes\n\n"
	    "[voicemail-profile \"VoiceMailProfile-8000\"]\n"
	    "voice_mail_pilot = 2000\n"
	    "make_this_the_default = yes\n\n"
	    "[directory-number \"1001\"]\n"
	    "display_name = Line 1001\n"
	    "digest_password = lab-secret-1001\n"
	    "voice_mail_profile = VoiceMailProfile-8000\n"
	    "forward_busy_to_voicemail = yes\n"
	    "forward_no_answer_to_voicemail = yes\n\n"
	    "[directory-number \"1002\"]\n"
	    "display_name = Line 1002\n"
	    "digest_password = lab-secret-1002\n"
	    "voice_mail_profile = VoiceMailProfile-8000\n"
	    "forward_busy_to_voicemail = yes\n"
	    "forward_no_answer_to_voicemail = yes\n",
	    sip, tls, f->cm_rsa, f->cm_rsa_key, f->cm_ec, f->cm_ec_key,
	    f->cm_trust, vm_port);
	return fclose(out) == 0 ? 0 : EIO;
}

int
lab_callmanager(struct event_base *base, const struct lab_files *f,
    lab_step_fn *step, void *arg)
{
	struct agent vm, phone;
	struct callmgr *cm = NULL;
	struct conf_err cerr;
	char path[600], msg[600];
	int ok = 1;

	/* the voicemail side: tomcat identities, trusting the call manager */
	if (agent_up(&vm, base, f->vm_rsa, f->vm_rsa_key, f->vm_ec,
	        f->vm_ec_key, f->vm_trust) != 0 ||
	    agent_up(&phone, base, f->phone, f->phone_key, NULL, NULL,
	        f->vm_trust) != 0) {
		step(arg, false, "start the voicemail stand-in and phone 1001");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/cm.conf", f->dir);
	unsigned sip = free_port(), tls = free_port();
	if (write_cm_conf(path, f, sip, tls, sa_port(&vm.tls)) != 0 ||
	    cm_alloc(&cm, base, path, &cerr) != 0) {
		step(arg, false, "callmanager configuration %s: %s", path,
		    conf_err_str(&cerr, msg, sizeof(msg)));
		ok = 0;
		goto out;
	}
	step(arg, true,
	    "callmanager configuration %s: trunk CUCv11 (profile "
	    "cuc-secure-profile-EDCS, Encrypted, TLS), route pattern 2000, "
	    "voicemail pilot 2000, VoiceMailProfile-8000, lines 1001 and 1002",
	    path);
	if (cm_start(cm) != 0) {
		step(arg, false, "start ngvoice callmanager");
		ok = 0;
		goto out;
	}

	/* the guide's verification 2: the trunk in Full Service */
	double t0 = ms_now();
	bool full = false;
	while (!full && ms_now() < t0 + 5000) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		full = cm->trunks[0].status == CM_TRUNK_FULL;
		usleep(500);
	}
	step(arg, full, "trunk CUCv11: %s (OPTIONS %u in %.0f ms)",
	    cm_trunk_status_label(cm->trunks[0].status),
	    cm->trunks[0].dests[0].last_status,
	    cm->trunks[0].dests[0].last_rtt_ms);
	ok &= full;

	/* phone 1001 registers over TLS with digest */
	phone_send(&phone, cm, "REGISTER", "sip:cucm.ngvoice.localhost",
	    "<sip:1001@cucm.ngvoice.localhost>", NULL, NULL, 1);
	wait_for(base, &phone.done, 5000);
	bool reg = false;
	if (phone.code == 401) {
		struct sip_auth_params chal;
		char saved[600];
		struct buf b;
		memcpy(saved, phone.wwwauth, sizeof(saved));
		buf_init(&b);
		if (sip_auth_parse(&chal, slice_cstr(saved)) == 0 &&
		    sip_auth_respond(&b, &chal, SLICE_LIT("REGISTER"),
		        SLICE_LIT("sip:cucm.ngvoice.localhost"), "1001",
		        "lab-secret-1001", 1, NULL) == 0) {
			buf_append(&b, "", 1);
			phone_send(&phone, cm, "REGISTER",
			    "sip:cucm.ngvoice.localhost",
			    "<sip:1001@cucm.ngvoice.localhost>", b.p, NULL, 2);
			wait_for(base, &phone.done, 5000);
			reg = phone.code == 200;
		}
		buf_free(&b);
	}
	step(arg, reg, "line 1001 registered over TLS (digest SHA-256): %u",
	    phone.code);
	ok &= reg;

	/* the guide's verification 1 and 3: Messages button, padlock */
	phone_send(&phone, cm, "INVITE", "sip:2000@cucm.ngvoice.localhost",
	    "<sip:2000@cucm.ngvoice.localhost>", NULL, sdp_offer, 1);
	wait_for(base, &phone.done, 8000);
	const char *suite_a = "?", *suite_b = "?";
	SSL *sa = NULL, *sb = NULL;
	/* The flows the call used: the phone's and the trunk's connections. */
	struct sip_conn *ca = sip_tp_conn(
	    sip_stack_tp(phone.stack), SIP_PROTO_TLS, &cm->tls_addr);
	struct sip_conn *cb = sip_tp_conn(sip_stack_tp(cm->stack),
	    SIP_PROTO_TLS, &cm->trunks[0].dests[0].addr);
	if (ca && (sa = sip_conn_ssl(ca)) != NULL)
		suite_a = SSL_get_cipher_name(sa);
	if (cb && (sb = sip_conn_ssl(cb)) != NULL)
		suite_b = SSL_get_cipher_name(sb);
	const char *sec = strstr(phone.callinfo, "security=");
	bool call = phone.code == 200 && vm.invites == 1 && sec &&
	            strncmp(sec + 9, "Encrypted", 9) == 0;
	step(arg, call,
	    "1001 pressed Messages (2000): answered %u by the voicemail side "
	    "over trunk CUCv11, TLS %s %s (phone leg) and %s (trunk leg), "
	    "SRTP AEAD_AES_256_GCM offered, security: %s",
	    phone.code, sa ? SSL_get_version(sa) : "?", suite_a, suite_b,
	    sec ? sec + 9 : "none");
	ok &= call;
	phone_in_dialog(&phone, cm, "ACK");
	phone_in_dialog(&phone, cm, "BYE");
	wait_for(base, &phone.done, 5000);
	bool bye = false;
	double t1 = ms_now();
	while (!bye && ms_now() < t1 + 3000) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		bye = vm.byes == 1;
		usleep(500);
	}
	step(arg, bye && phone.code == 200,
	    "1001 hung up: BYE answered %u, the voicemail side saw BYE",
	    phone.code);
	ok &= bye;
out:
	cm_free(cm);
	agent_down(&phone);
	agent_down(&vm);
	return ok;
}
