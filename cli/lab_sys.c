/* ngvoice lab, second part: the guide's system running in one process: the call manager, the voicemail server with its ITL download, two phones, greetings, a message, the lamp, sign-in. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "callmgr/cm.h"
#include "cli/lab.h"
#include "cli/phone_ua.h"
#include "core/log.h"
#include "media/corr.h"
#include "media/wav.h"
#include "pki/cert.h"
#include "store/store.h"
#include "voicemail/vm.h"

#define CM_HOST "cucm.ngvoice.localhost"
#define VM_HOST "cuc.ngvoice.localhost"
#define PIN     "24680"

struct lab_phone {
	struct phone_ua *ua;
	const char *line;
	bool registered, reg_failed, answered, failed, ended, mwi;
};

static double
ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Runs the loop until *flag is set or ms pass; true if it was set. */
static bool
run_until(struct event_base *base, const bool *flag, unsigned ms)
{
	struct event *tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 5000};
	double end = ms_now() + ms;

	if (tick)
		event_add(tick, &tv);
	while (!*flag && ms_now() < end)
		event_base_loop(base, EVLOOP_ONCE);
	if (tick)
		event_free(tick);
	return *flag;
}

static void
phone_h(enum phone_event ev, void *arg)
{
	struct lab_phone *p = arg;

	switch (ev) {
	case PHONE_EV_REGISTERED:
		p->registered = true;
		break;
	case PHONE_EV_REG_FAILED:
		p->reg_failed = true;
		break;
	case PHONE_EV_ANSWERED:
		p->answered = true;
		break;
	case PHONE_EV_CALL_FAILED:
		p->failed = p->ended = true;
		break;
	case PHONE_EV_CALL_ENDED:
		p->ended = true;
		break;
	case PHONE_EV_MWI:
		p->mwi = true;
		break;
	default:
		break;
	}
}

static int
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(text);

	if (fd < 0)
		return errno;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		return EIO;
	}
	return close(fd) == 0 ? 0 : EIO;
}

static unsigned
free_port(void)
{
	/* A port nobody uses now; the kernel picks it. */
	struct sa a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned port = 0;

	sa_set_str(&a, "127.0.0.1", 0);
	if (fd >= 0 && bind(fd, &a.u.sa, a.len) == 0) {
		socklen_t len = sizeof(a.u.ss);
		if (getsockname(fd, &a.u.sa, &len) == 0)
			port = sa_port(&a);
	}
	if (fd >= 0)
		close(fd);
	return port;
}

static int
write_cm_conf(const char *path, const struct lab_files *f,
    const struct lab_opts *o, unsigned sip, unsigned tls, unsigned tftp,
    unsigned vm_port)
{
	char text[6000];

	snprintf(text, sizeof(text),
	    "# Written by ngvoice lab: the guide's Unified CM configuration.\n"
	    "[enterprise]\n"
	    "host_name = " CM_HOST "\n"
	    "listen_address = 127.0.0.1\n"
	    "sip_port = %u\nsip_tls_port = %u\ntftp_https_port = %u\n"
	    "tls_ciphers = %s\n"
	    "srtp_ciphers = %s\n"
	    "control_socket = %s/cm.sock\n"
	    "# libre-based phones (baresip) know MD5 only\n"
	    "digest_algorithms = %s\n\n"
	    "[certificates]\n"
	    "callmanager = %s\ncallmanager_key = %s\n"
	    "callmanager_ecdsa = %s\ncallmanager_ecdsa_key = %s\n"
	    "callmanager_trust = %s\n"
	    "itlrecovery = %s/ITLRecovery.pem\n"
	    "itlrecovery_key = %s/ITLRecovery.key\n\n"
	    "[sip-trunk-security-profile \"cuc-secure-profile-EDCS\"]\n"
	    "device_security_mode = Encrypted\n"
	    "incoming_transport_type = TLS\n"
	    "outgoing_transport_type = TLS\n"
	    "x509_subject_name = " VM_HOST "\n"
	    "incoming_port = 5061\n"
	    "accept_unsolicited_notification = yes\n"
	    "accept_replaces_header = yes\n\n"
	    "[sip-profile \"Standard SIP Profile For Cisco VVM\"]\n"
	    "enable_options_ping = yes\n"
	    "options_ping_interval_out_of_service = 1\n\n"
	    "[sip-trunk \"CUCv11\"]\n"
	    "destination = 127.0.0.1:%u\n"
	    "sip_trunk_security_profile = cuc-secure-profile-EDCS\n"
	    "sip_profile = Standard SIP Profile For Cisco VVM\n"
	    "srtp_allowed = yes\n"
	    "redirecting_diversion_header_delivery_inbound = yes\n"
	    "redirecting_diversion_header_delivery_outbound = yes\n\n"
	    "[route-pattern \"2000\"]\ngateway_or_route_list = CUCv11\n\n"
	    "[voicemail-pilot \"2000\"]\nmake_this_the_default = yes\n\n"
	    "[voicemail-profile \"VoiceMailProfile-8000\"]\n"
	    "voice_mail_pilot = 2000\nmake_this_the_default = yes\n\n"
	    "[directory-number \"1001\"]\n"
	    "display_name = Line 1001\n"
	    "digest_password = lab-secret-1001\n"
	    "voice_mail_profile = VoiceMailProfile-8000\n\n"
	    "[directory-number \"1002\"]\n"
	    "display_name = Line 1002\n"
	    "digest_password = lab-secret-1002\n"
	    "voice_mail_profile = VoiceMailProfile-8000\n"
	    "forward_busy_to_voicemail = yes\n"
	    "forward_no_answer_to_voicemail = yes\n",
	    sip, tls, tftp, tls_ciphers_label(o->tls),
	    srtp_option_label(o->srtp), f->dir,
	    o->keep ? "MD5" : "SHA-256, MD5", f->cm_rsa, f->cm_rsa_key,
	    f->cm_ec, f->cm_ec_key, f->cm_trust, f->dir, f->dir, vm_port);
	return write_file(path, text);
}

static int
write_vm_conf(const char *path, const struct lab_files *f,
    const struct lab_opts *o, unsigned vm_tls, unsigned cm_tls, unsigned tftp,
    const char *prompts)
{
	char text[4000];

	snprintf(text, sizeof(text),
	    "# Written by ngvoice lab: the guide's Unity Connection "
	    "configuration.\n"
	    "[general]\n"
	    "host_name = " VM_HOST "\n"
	    "listen_address = 127.0.0.1\n"
	    "sip_tls_port = %u\nsip_port = %u\n"
	    "tls_ciphers = %s\n"
	    "srtp_ciphers = %s\n"
	    "https_ciphers = RSA Ciphers Only\n"
	    "storage_path = %s/voicemail\n"
	    "prompts_dir = %s\n"
	    "control_socket = %s/vm.sock\n\n"
	    "# Self-signed path: nothing uploaded; the call manager's\n"
	    "# certificates come from its ITL. With a CA, its root and\n"
	    "# intermediate are uploaded to CallManager-trust.\n"
	    "[certificates]\n"
	    "tomcat = %s\ntomcat_key = %s\n"
	    "tomcat_ecdsa = %s\ntomcat_ecdsa_key = %s\n%s%s\n\n"
	    "[port-group \"PhoneSystem-1\"]\n"
	    "contact_line_name = 2000\n"
	    "sip_security_profile = 5061/TLS\n"
	    "enable_next_generation_encryption = yes\n"
	    "secure_rtp = yes\n"
	    "ip_address_or_host_name = " CM_HOST "\n"
	    "port = %u\n"
	    "tftp_server = " CM_HOST "\n"
	    "tftp_https_port = %u\n\n"
	    "[ports \"PhoneSystem-1\"]\n"
	    "number_of_ports = 2\n\n"
	    "[mailbox \"1002\"]\n"
	    "owner_name = Line 1002\n"
	    "pin = " PIN "\n",
	    vm_tls, free_port(), tls_ciphers_label(o->tls),
	    srtp_option_label(o->srtp), f->dir, prompts, f->dir, f->vm_rsa,
	    f->vm_rsa_key, f->vm_ec, f->vm_ec_key,
	    o->ca ? "callmanager_trust = " : "", o->ca ? f->vm_trust : "",
	    cm_tls, tftp);
	return write_file(path, text);
}

/* What the caller says after the beep: silence over the greeting, then speech. */
static int
write_message(const char *path, const char *speech)
{
	struct wav_writer *w;
	int16_t *pcm = NULL, zero[800] = {0};
	size_t n;
	char err[200];
	int rc;

	if ((rc = wav_load(speech, &pcm, &n, NULL, err, sizeof(err))) != 0)
		return rc;
	unlink(path);
	if ((rc = wav_writer_open(&w, path, WAV_PCM16)) == 0) {
		for (int i = 0; rc == 0 && i < 110; i++) /* 11 s */
			rc = wav_writer_write(w, zero, 800);
		if (rc == 0)
			rc = wav_writer_write(w, pcm, n);
		int rc2 = wav_writer_close(w, NULL);
		rc = rc ? rc : rc2;
	}
	free(pcm);
	return rc;
}

/* How well a prompt appears in what a phone recorded. */
static double
heard(const char *rec, const char *clip, double *off)
{
	int16_t *a = NULL, *b = NULL;
	size_t na, nb;
	char err[200];
	double c = -2;

	*off = 0;
	if (wav_load(rec, &a, &na, NULL, err, sizeof(err)) == 0 &&
	    wav_load(clip, &b, &nb, NULL, err, sizeof(err)) == 0)
		c = media_corr(a, na, b, nb, off);
	free(a);
	free(b);
	return c;
}

static int
phone_up(struct lab_phone *p, struct event_base *base,
    const struct lab_files *f, const struct lab_opts *o, const char *line,
    const char *pw, unsigned cm_tls, enum phone_incoming in)
{
	static char reg[64];
	struct phone_ua_conf pc;

	snprintf(reg, sizeof(reg), "127.0.0.1:%u", cm_tls);
	memset(&pc, 0, sizeof(pc));
	pc.registrar = reg;
	pc.user = line;
	pc.password = pw;
	pc.domain = CM_HOST;
	pc.proto = SIP_PROTO_TLS;
	pc.cert = f->phone;
	pc.key = f->phone_key;
	pc.trust = f->vm_trust; /* holds CallManager and CallManager-ECDSA */
	pc.tls_name = CM_HOST;
	pc.tls_ciphers = o->tls;
	pc.secure_rtp = true;
	pc.srtp_option = o->srtp;
	pc.incoming = in;
	pc.local_ip = "127.0.0.1";
	p->line = line;
	return phone_ua_alloc(&p->ua, base, &pc, phone_h, p);
}

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

/* --keep: the system stays up; how to reach it. */
static void
keep_running(struct event_base *base, const struct lab_files *f,
    unsigned cm_tls, unsigned vm_tls)
{
	struct event *sig = evsignal_new(base, SIGINT, stop_cb, base);
	struct event *term = evsignal_new(base, SIGTERM, stop_cb, base);

	printf(
	    "\nlab: the system keeps running (Ctrl-C stops it)\n"
	    "  call manager  TLS 127.0.0.1:%u (" CM_HOST "), lines 1001 "
	    "(lab-secret-1001) and 1002 (lab-secret-1002)\n"
	    "  voicemail     TLS 127.0.0.1:%u (" VM_HOST "), pilot 2000, "
	    "mailbox 1002 (PIN " PIN ")\n"
	    "  status        ngvoice status --config %s/cm.conf; ngvoice "
	    "status --config %s/vm.conf\n"
	    "  a phone       ngvoice phone --registrar 127.0.0.1:%u --user "
	    "1001 --password lab-secret-1001 \\\n"
	    "                  --cert %s --key %s --trust %s --tls-name " CM_HOST
	    " --dial 2000 --record heard.wav --duration 10\n"
	    "  baresip       accounts: <sip:1001@127.0.0.1:%u;transport=tls>"
	    ";auth_pass=lab-secret-1001;mediaenc=srtp-mand;"
	    "audio_codecs=pcmu\n"
	    "                config: sip_certificate = a PEM of %s and %s "
	    "(the lab offers MD5 digest for it)\n",
	    cm_tls, vm_tls, f->dir, f->dir, cm_tls, f->phone, f->phone_key,
	    f->vm_trust, cm_tls, f->phone, f->phone_key);
	fflush(stdout);
	if (sig && term && event_add(sig, NULL) == 0 &&
	    event_add(term, NULL) == 0)
		event_base_dispatch(base);
	if (sig)
		event_free(sig);
	if (term)
		event_free(term);
}

int
lab_system(struct event_base *base, const struct lab_files *f,
    const struct lab_opts *o, const char *prompts, lab_step_fn *step, void *arg)
{
	struct lab_phone p1 = {0}, p2 = {0};
	struct callmgr *cm = NULL;
	struct voicemail *vm = NULL;
	struct conf_err cerr;
	char cmconf[600], vmconf[600], msg[600], path[700], clip[700];
	int ok = 1;

	unsigned sip = free_port(), tls = free_port(), tftp = free_port(),
	         vm_tls = free_port();
	snprintf(cmconf, sizeof(cmconf), "%s/cm.conf", f->dir);
	snprintf(vmconf, sizeof(vmconf), "%s/vm.conf", f->dir);
	snprintf(path, sizeof(path), "%s/ITLRecovery.pem", f->dir);
	snprintf(clip, sizeof(clip), "%s/ITLRecovery.key", f->dir);
	if (pki_selfsigned(PKI_KEY_RSA2048, "ITLRecovery_" CM_HOST, NULL, 7300,
	        path, clip) != 0 ||
	    write_cm_conf(cmconf, f, o, sip, tls, tftp, vm_tls) != 0 ||
	    write_vm_conf(vmconf, f, o, vm_tls, tls, tftp, prompts) != 0) {
		step(arg, false, "write the configurations in %s", f->dir);
		return 0;
	}
	if (cm_alloc(&cm, base, cmconf, &cerr) != 0 || cm_start(cm) != 0) {
		step(arg, false, "start ngvoice callmanager (%s): %s", cmconf,
		    conf_err_str(&cerr, msg, sizeof(msg)));
		ok = 0;
		goto out;
	}
	step(arg, true,
	    "callmanager %s: trunk CUCv11 (cuc-secure-profile-EDCS, "
	    "Encrypted, TLS), route pattern 2000, pilot 2000, "
	    "VoiceMailProfile-8000, lines 1001 and 1002, ITL on :%u signed "
	    "by ITLRecovery",
	    cmconf, tftp);
	if (vm_alloc(&vm, base, vmconf, &cerr) != 0 || vm_start(vm) != 0) {
		step(arg, false, "start ngvoice voicemail (%s): %s", vmconf,
		    conf_err_str(&cerr, msg, sizeof(msg)));
		ok = 0;
		goto out;
	}
	step(arg, true,
	    "voicemail %s: port group PhoneSystem-1 (5061/TLS, NGE, Secure "
	    "RTP), 2 ports, mailbox 1002; %s",
	    vmconf,
	    o->ca ? "the CA root and intermediate uploaded to "
	            "CallManager-trust"
	          : "no call manager certificate uploaded");

	/* The port group's ITL download: the guide's trust bootstrap. */
	struct vm_group_rt *g = &vm->groups[0];
	bool itl = false;
	double t0 = ms_now();
	while (!itl && ms_now() < t0 + 8000) {
		bool done = g->itl_fetch == NULL && g->itl_fetched;
		run_until(base, &done, 50);
		itl = g->itl_fetch == NULL && g->itl_fetched != 0;
	}
	step(arg, itl && g->itl_certs,
	    "ITL from https://" CM_HOST ":%u/ITLFile.tlv: %u records, "
	    "signature OK, signer %s; %d call manager certificates trusted%s%s",
	    tftp, g->itl_records, g->itl_signer,
	    g->itl_certs ? sk_X509_num(g->itl_certs) : 0,
	    g->itl_error[0] ? ": " : "", g->itl_error);
	ok &= itl;

	/* The guide's verification 2: the trunk in Full Service. */
	bool full = false;
	t0 = ms_now();
	while (!full && ms_now() < t0 + 8000) {
		run_until(base, &full, 50);
		full = cm->trunks[0].status == CM_TRUNK_FULL;
	}
	step(arg, full, "trunk CUCv11: %s (OPTIONS %u in %.0f ms)",
	    cm_trunk_status_label(cm->trunks[0].status),
	    cm->trunks[0].dests[0].last_status,
	    cm->trunks[0].dests[0].last_rtt_ms);
	ok &= full;

	/* Two phones register over mutual TLS with digest. */
	if (phone_up(&p1, base, f, o, "1001", "lab-secret-1001", tls,
	        PHONE_IN_BUSY) != 0 ||
	    phone_up(&p2, base, f, o, "1002", "lab-secret-1002", tls,
	        PHONE_IN_BUSY) != 0 ||
	    phone_ua_register(p1.ua) != 0 || phone_ua_register(p2.ua) != 0) {
		step(arg, false, "start phones 1001 and 1002");
		ok = 0;
		goto out;
	}
	run_until(base, &p1.registered, 5000);
	run_until(base, &p2.registered, 5000);
	struct phone_report r1, r2;
	phone_ua_report(p1.ua, &r1);
	step(arg, p1.registered && p2.registered,
	    "phones 1001 and 1002 registered over %s %s with digest",
	    r1.tls_version, r1.tls_cipher);
	ok &= p1.registered && p2.registered;

	/* Verification 1 and 3: Messages, the greeting, the padlock. */
	struct phone_call_opts co;
	char rec1[600], orig[700];
	memset(&co, 0, sizeof(co));
	snprintf(rec1, sizeof(rec1), "%s/1001-heard.wav", f->dir);
	unlink(rec1);
	co.record = rec1;
	co.duration_ms = 7000;
	phone_ua_dial(p1.ua, "2000", &co);
	run_until(base, &p1.ended, 15000);
	phone_ua_report(p1.ua, &r1);
	bool call = r1.call_status == 200 && r1.srtp &&
	            strcmp(r1.security, "Encrypted") == 0;
	/* The trunk leg: the call manager's connection to the voicemail. */
	struct sip_conn *tc = sip_tp_conn(sip_stack_tp(cm->stack),
	    SIP_PROTO_TLS, &cm->trunks[0].dests[0].addr);
	SSL *tssl = tc ? sip_conn_ssl(tc) : NULL;
	call = call && tssl;
	step(arg, call,
	    "1001 pressed Messages: %u, phone leg %s %s, trunk leg %s %s, "
	    "SRTP %s, security: %s",
	    r1.call_status, r1.tls_version, r1.tls_cipher,
	    tssl ? SSL_get_version(tssl) : "none",
	    tssl ? SSL_get_cipher_name(tssl) : "",
	    r1.srtp ? srtp_suite_info(r1.suite)->name : "none",
	    r1.security[0] ? r1.security : "none");
	ok &= call;
	double off, c;
	snprintf(orig, sizeof(orig), "%s/opening_greeting.wav", prompts);
	c = heard(rec1, orig, &off);
	snprintf(path, sizeof(path), "%s/message_menu.wav", prompts);
	double other = heard(rec1, path, &off);
	step(arg, c >= 0.8 && c > other + 0.1,
	    "heard the opening greeting (%.1f s of audio, correlation %.2f; "
	    "another prompt %.2f)",
	    r1.heard_ms / 1000.0, c, other);
	ok &= c >= 0.8;

	/* 1002 is busy: forwarded with Diversion, its greeting, a message. */
	char said[600];
	snprintf(said, sizeof(said), "%s/1001-says.wav", f->dir);
	snprintf(path, sizeof(path), "%s/message_sent.wav", prompts);
	if (write_message(said, path) != 0) {
		step(arg, false, "write %s", said);
		ok = 0;
		goto out;
	}
	p1.ended = p1.answered = false;
	p2.mwi = false;
	memset(&co, 0, sizeof(co));
	co.play = said;
	co.duration_ms = 16000;
	phone_ua_dial(p1.ua, "1002", &co);
	run_until(base, &p1.ended, 25000);
	/* The voicemail server stores the message after the hang-up, off its
	 * loop (the recording closed, then committed): wait for it. */
	unsigned nnew = 0, nold = 0;
	double t_msg = ms_now();
	while (store_counts(vm->store, "1002", &nnew, &nold) == 0 &&
	       nnew == 0 && ms_now() < t_msg + 5000) {
		bool never = false;
		run_until(base, &never, 20);
	}
	struct store_msg *msgs = NULL;
	size_t nm = 0;
	store_list(vm->store, "1002", true, &msgs, &nm);
	double mc = nm ? heard(msgs[0].path, path, &off) : -2;
	step(arg, nnew == 1 && nm == 1 && mc >= 0.8,
	    "1002 busy -> forwarded to voicemail (user-busy), message left "
	    "(%.1f s, what 1001 said: correlation %.2f)",
	    nm ? msgs[0].duration_ms / 1000.0 : 0.0, mc);
	ok &= nnew == 1 && mc >= 0.8;
	free(msgs);
	run_until(base, &p2.mwi, 5000);
	phone_ua_report(p2.ua, &r2);
	step(arg, r2.mwi == 1,
	    "MWI on: the voicemail server's NOTIFY reached the call manager, "
	    "phone 1002's lamp is on (Voice-Message %s)",
	    r2.mwi_counts);
	ok &= r2.mwi == 1;

	/* 1002 signs in with its PIN, hears the message, deletes it. */
	char rec2[600];
	snprintf(rec2, sizeof(rec2), "%s/1002-heard.wav", f->dir);
	unlink(rec2);
	memset(&co, 0, sizeof(co));
	co.record = rec2;
	phone_digits_parse(&co, "2@1.0,4@1.2,6@1.4,8@1.6,0@1.8,#@2.0,7@22.0");
	co.duration_ms = 34000;
	p2.ended = false;
	p2.mwi = false;
	phone_ua_dial(p2.ua, "2000", &co);
	run_until(base, &p2.ended, 40000);
	phone_ua_report(p2.ua, &r2);
	double hc = heard(rec2, path, &off);
	store_counts(vm->store, "1002", &nnew, &nold);
	step(arg, r2.call_status == 200 && hc >= 0.8 && nnew == 0 && nold == 0,
	    "1002 signed in with its PIN, heard the message (correlation "
	    "%.2f at %.1f s) and deleted it: %u new, %u old",
	    hc, off, nnew, nold);
	ok &= hc >= 0.8 && nnew == 0;
	run_until(base, &p2.mwi, 5000);
	phone_ua_report(p2.ua, &r2);
	step(arg, r2.mwi == 0, "MWI off: phone 1002's lamp is off");
	ok &= r2.mwi == 0;
	if (o->keep)
		keep_running(base, f, tls, vm_tls);
out:
	phone_ua_free(p1.ua);
	phone_ua_free(p2.ua);
	vm_free(vm);
	cm_free(cm);
	return ok;
}
