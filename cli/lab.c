/* ngvoice lab: sets the system up on loopback and verifies, step by step, what is built so far. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/lab.h"
#include "core/log.h"
#include "media/stream.h"
#include "pki/ca.h"
#include "pki/cert.h"
#include "pki/csr.h"
#include "sip/auth.h"
#include "sip/dialog.h"
#include "sip/enc.h"
#include "sip/trans.h"
#include "tls/ctx.h"
#include "voicemail/config.h"

#define CM_NAME "cucm.ngvoice.localhost"
#define VM_NAME "cuc.ngvoice.localhost"

/* One side of the lab: a SIP stack with its identity. */
struct side {
	const char *name;   /* FQDN: CN of the RSA identity */
	const char *rsa_id; /* the guide's names: CallManager, tomcat */
	const char *ec_id;  /* CallManager-ECDSA, tomcat-ECDSA */
	struct sip_stack *stack;
	SSL_CTX *sctx, *cctx;
	struct sa udp, tcp, tls;
	char rsa_cert[512], rsa_key[512], ec_cert[512], ec_key[512];
	char trust[512]; /* the peer's two certificates */
};

struct lab {
	struct event_base *base;
	struct side cm, vm;
	struct sip_auth_server *auth;
	int pending;
	int failed;
	int passed;
	/* the probe in flight */
	const char *what;
	enum sip_proto proto;
	double t0;
	uint16_t status;
	char detail[256];
	struct sip_conn *conn;
	struct sip_auth_params chal;
	char chalbuf[512];
};

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
step(struct lab *lab, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "[ok]  " : "[FAIL]");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		lab->passed++;
	else
		lab->failed++;
}

/* The call manager side answers OPTIONS, and REGISTER with digest auth. */
static void
cm_req_h(struct sip_stack *s, const struct sip_msg *m, const struct sip_rx *rx,
    void *arg)
{
	struct lab *lab = arg;
	struct sip_strans *st;
	struct buf b;

	if (sip_method_eq(m->method, "ACK") ||
	    sip_strans_alloc(&st, s, m, rx, NULL, NULL) != 0)
		return;
	if (sip_method_eq(m->method, "REGISTER")) {
		const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION);
		struct sip_auth_params cred;
		if (h && sip_auth_parse(&cred, h->val) == 0 &&
		    sip_auth_verify(
		        lab->auth, &cred, m->method, "lab-secret", NULL) == 0) {
			sip_strans_reply(st, 200, NULL, SLICE_LIT("r"),
			    SLICE_LIT("Expires: 600\r\n"), SLICE_NULL,
			    SLICE_NULL);
			return;
		}
		buf_init(&b);
		BUF_LIT(&b, "WWW-Authenticate: ");
		sip_auth_challenge(lab->auth, SIP_AUTH_SHA256, false, &b);
		BUF_LIT(&b, "\r\n");
		sip_strans_reply(st, 401, NULL, SLICE_LIT("r"), buf_slice(&b),
		    SLICE_NULL, SLICE_NULL);
		buf_free(&b);
		return;
	}
	sip_strans_reply(st, sip_method_eq(m->method, "OPTIONS") ? 200 : 501,
	    NULL, SLICE_LIT("o"), SLICE_NULL, SLICE_NULL, SLICE_NULL);
}

static void
vm_req_h(struct sip_stack *s, const struct sip_msg *m, const struct sip_rx *rx,
    void *arg)
{
	(void)arg;
	if (!sip_method_eq(m->method, "ACK"))
		sip_stack_reply(
		    s, m, rx, 501, NULL, SLICE_LIT("v"), SLICE_NULL);
}

static void
probe_h(int err, const struct sip_msg *resp, void *arg)
{
	struct lab *lab = arg;

	if (!err && resp->scode < 200)
		return;
	lab->status = err ? 0 : resp->scode;
	if (err)
		snprintf(lab->detail, sizeof(lab->detail), "%s", strerror(err));
	if (!err && resp->scode == 401) {
		const struct sip_hdr *h =
		    sip_msg_hdr(resp, SIP_HDR_WWW_AUTHENTICATE);
		if (h && h->val.n < sizeof(lab->chalbuf)) {
			memcpy(lab->chalbuf, h->val.p, h->val.n);
			sip_auth_parse(
			    &lab->chal, slice_make(lab->chalbuf, h->val.n));
		}
	}
	lab->pending = 0;
	event_base_loopbreak(lab->base);
}

/* Sends one request from the voicemail side to the call manager side. */
static int
probe(
    struct lab *lab, const char *method, enum sip_proto proto, const char *auth)
{
	const struct sa *dst = proto == SIP_PROTO_UDP   ? &lab->cm.udp
	                       : proto == SIP_PROTO_TCP ? &lab->cm.tcp
	                                                : &lab->cm.tls;
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	char branch[32], tag[16], callid[32], host[64], ruri[128];
	char extra[1024];
	struct sa la;
	struct buf b;
	int err;

	memset(&sp, 0, sizeof(sp));
	sip_branch_new(branch);
	sip_token_new(tag, sizeof(tag));
	sip_token_new(callid, sizeof(callid));
	sip_tp_laddr(sip_stack_tp(lab->vm.stack), proto, AF_INET, &la);
	sa_ntop(&la, host, sizeof(host));
	snprintf(ruri, sizeof(ruri), "sip%s:%s:%u",
	    proto == SIP_PROTO_TLS ? "s" : "", CM_NAME, sa_port(dst));
	sp.method = method;
	sp.ruri = slice_cstr(ruri);
	sp.proto = proto;
	sp.via_host = slice_cstr(host);
	sp.via_port = sa_port(&la);
	sp.branch = branch;
	char from[128];
	snprintf(from, sizeof(from), "<sip:1001@%s>;tag=%s", CM_NAME, tag);
	sp.from = slice_cstr(from);
	sp.to = SLICE_LIT("<sip:1001@" CM_NAME ">");
	sp.callid = slice_cstr(callid);
	sp.cseq = 1;
	extra[0] = '\0';
	if (auth)
		snprintf(extra, sizeof(extra), "Authorization: %s\r\n", auth);
	sp.extra = slice_cstr(extra);
	buf_init(&b);
	sip_req_build(&b, &sp);
	lab->status = 0;
	lab->detail[0] = '\0';
	lab->pending = 1;
	lab->t0 = now_ms();
	err = sip_ctrans_request(&ct, lab->vm.stack, proto, dst, CM_NAME, NULL,
	    b.p, b.len, probe_h, lab);
	buf_free(&b);
	if (err) {
		snprintf(lab->detail, sizeof(lab->detail), "%s", strerror(err));
		return err;
	}
	lab->conn = sip_ctrans_conn(ct);
	struct timeval tv = {.tv_sec = 10, .tv_usec = 0};
	event_base_loopexit(lab->base, &tv);
	event_base_dispatch(lab->base);
	return lab->pending ? ETIMEDOUT : 0;
}

/* With --ca: the lab CA's directory (root + intermediate), else NULL. */
static const char *lab_cadir;

/*
 * An identity: self-signed, or with --ca the guide's third-party path: a
 * key and a CSR, signed by the lab CA's intermediate.
 */
static int
ident(const char *dir, const char *id, enum pki_keytype kt, const char *cn,
    const char *fqdn, char *cert, char *key)
{
	char san[256], csr[600];
	struct pki_err e;

	snprintf(cert, 512, "%s/%s.pem", dir, id);
	snprintf(key, 512, "%s/%s.key", dir, id);
	snprintf(san, sizeof(san), "DNS:%s", fqdn);
	if (lab_cadir == NULL)
		return pki_selfsigned(kt, cn, san, 365, cert, key);
	struct pki_ident_spec spec = {.key = kt,
	    .profile = PKI_PROFILE_TLS,
	    .cn = cn,
	    .san = san,
	    .days = 365};
	snprintf(csr, sizeof(csr), "%s/%s.csr", dir, id);
	if (pki_csr_generate(&spec, csr, key, &e) != 0 ||
	    pki_ca_sign(lab_cadir, csr, cert, 365, NULL, &e) != 0) {
		fprintf(stderr, "ngvoice lab: %s: %s\n", id, e.msg);
		return EPROTO;
	}
	return 0;
}

static int
side_up(struct lab *lab, struct side *sd, const char *dir, sip_req_h *reqh)
{
	struct sip_stack_conf conf;
	struct sa any;
	char eccn[128];
	int err;

	/* RSA: CN = FQDN; EC: its own CN, the FQDN in the SAN (guide 6.1/6.2) */
	snprintf(eccn, sizeof(eccn), "%s-EC", sd->name);
	if ((err = ident(dir, sd->rsa_id, PKI_KEY_RSA2048, sd->name, sd->name,
	         sd->rsa_cert, sd->rsa_key)) ||
	    (err = ident(dir, sd->ec_id, PKI_KEY_EC_P256, eccn, sd->name,
	         sd->ec_cert, sd->ec_key)))
		return err;
	sip_stack_conf_default(&conf);
	conf.user_agent = "ngvoice-lab";
	if ((err = sip_stack_alloc(&sd->stack, lab->base, &conf, reqh, lab)))
		return err;
	sa_set_str(&any, "127.0.0.1", 0);
	if ((err = sip_tp_listen(sip_stack_tp(sd->stack), SIP_PROTO_UDP, &any,
	         NULL, &sd->udp)) ||
	    (err = sip_tp_listen(
	         sip_stack_tp(sd->stack), SIP_PROTO_TCP, &any, NULL, &sd->tcp)))
		return err;
	return 0;
}

/* The peer's RSA and EC certificates in one PEM bundle: its trust store. */
static int
trust_bundle(struct side *sd, const struct side *peer, const char *dir)
{
	const char *files[2] = {peer->rsa_cert, peer->ec_cert};
	char root[600], inter[600];
	FILE *out;
	char buf[4096];
	size_t n;

	if (lab_cadir) {
		/* The guide's third-party case: the CA root and intermediate
		 * are what each side uploads to its trust store. */
		snprintf(root, sizeof(root), "%s/" PKI_CA_ROOT_CERT, lab_cadir);
		snprintf(
		    inter, sizeof(inter), "%s/" PKI_CA_INT_CERT, lab_cadir);
		files[0] = root;
		files[1] = inter;
	}

	snprintf(
	    sd->trust, sizeof(sd->trust), "%s/%s-trust.pem", dir, sd->rsa_id);
	if ((out = fopen(sd->trust, "w")) == NULL)
		return errno;
	for (int i = 0; i < 2; i++) {
		FILE *in = fopen(files[i], "r");
		if (in == NULL) {
			fclose(out);
			return errno;
		}
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, out);
		fclose(in);
	}
	return fclose(out) == 0 ? 0 : EIO;
}

/* Once both identities exist: mutual TLS, each trusting the other's. */
static int
client_ctx(struct side *sd, enum tls_ciphers ciphers, SSL_CTX **ctxp)
{
	struct tls_opts o;

	tls_opts_default(&o);
	o.cert = sd->rsa_cert;
	o.key = sd->rsa_key;
	o.cert2 = sd->ec_cert;
	o.key2 = sd->ec_key;
	o.ca_file = sd->trust;
	o.ciphers = ciphers;
	o.what = sd->name;
	return tls_ctx_new(ctxp, false, &o);
}

/* Once both identities exist: mutual TLS, each trusting the other's. */
static int
side_tls(struct side *sd)
{
	struct tls_opts o;
	struct sa any;
	int err;

	tls_opts_default(&o);
	o.cert = sd->rsa_cert;
	o.key = sd->rsa_key;
	o.cert2 = sd->ec_cert;
	o.key2 = sd->ec_key;
	o.ca_file = sd->trust;
	o.what = sd->name;
	if ((err = tls_ctx_new(&sd->sctx, true, &o)) ||
	    (err = client_ctx(sd, TLS_CIPHERS_DEFAULT_OPTION, &sd->cctx)))
		return err;
	sip_tp_set_client_tls(sip_stack_tp(sd->stack), sd->cctx);
	sa_set_str(&any, "127.0.0.1", 0);
	return sip_tp_listen(
	    sip_stack_tp(sd->stack), SIP_PROTO_TLS, &any, sd->sctx, &sd->tls);
}

/* Appends a PEM file to a trust bundle. */
static int
trust_add(const char *bundle, const char *pem)
{
	FILE *in = fopen(pem, "r"), *out = fopen(bundle, "a");
	char buf[4096];
	size_t n;
	int err = 0;

	if (in == NULL || out == NULL)
		err = errno ? errno : EIO;
	while (!err && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			err = EIO;
	if (in)
		fclose(in);
	if (out && fclose(out) != 0 && !err)
		err = EIO;
	return err;
}

static void
lab_step(void *arg, bool ok, const char *fmt, ...)
{
	struct lab *lab = arg;
	va_list ap;

	printf("%s ", ok ? "[ok]  " : "[FAIL]");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		lab->passed++;
	else
		lab->failed++;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ngvoice lab [--dir DIR] [--tls-ciphers OPTION] "
	    "[--srtp-ciphers OPTION]\n                  [--ca] [--keep] [--debug]\n\n"
	    "Sets up, on 127.0.0.1, the system of the configuration guide and "
	    "verifies it\nstep by step, printing each result. Certificates and "
	    "files go to DIR (default:\na new directory under /tmp). Exit "
	    "status 0 when every check passed.\n\n"
	    "Part one checks the TLS layer: the six TLS Ciphers options, the "
	    "certificate\nthat follows the suite, digest authentication. Part "
	    "two runs the guide's\nsystem in this process: `ngvoice "
	    "callmanager` (trunk CUCv11, route pattern\n2000, voicemail pilot "
	    "and profile, lines 1001 and 1002) and `ngvoice voicemail`\n"
	    "(port group PhoneSystem-1 with NGE and Secure RTP, mailbox "
	    "1002), the ITL\ndownload that makes the voicemail server trust "
	    "the call manager, the trunk in\nFull Service, two phones over "
	    "TLS and SRTP: Messages and the opening greeting\n(compared with "
	    "the prompt), 1002 busy and a message left, the lamp on, 1002\n"
	    "signing in with its PIN, hearing and deleting the message, the "
	    "lamp off.\n\n"
	    "  --tls-ciphers OPTION   TLS Ciphers of the daemons and phones "
	    "(label or slug,\n                         e.g. strongest-ecdsa; "
	    "default All Ciphers RSA Preferred)\n"
	    "  --srtp-ciphers OPTION  SRTP Ciphers: all (default), gcm, "
	    "gcm256, or the label\n"
	    "  --ca                   the guide's third-party CA path: a lab "
	    "CA (root and\n                         intermediate) signs "
	    "every identity from a CSR,\n                         its "
	    "certificates are the trust stores' content\n"
	    "  --keep                 leave the system running afterwards and "
	    "print how to\n                         point baresip or ngvoice "
	    "phone at it (Ctrl-C stops)\n"
	    "  --dir DIR              where the files go (kept)\n"
	    "  --debug                the daemons' log too\n");
}

int
cli_lab(int argc, char **argv)
{
	static struct lab lab;
	char dir[256] = "";
	bool debug = false;
	int opt;
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"debug", no_argument, NULL, 'D'},
	    {"tls-ciphers", required_argument, NULL, 't'},
	    {"srtp-ciphers", required_argument, NULL, 's'},
	    {"keep", no_argument, NULL, 'k'},
	    {"ca", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct lab_opts lo = {
	    .tls = TLS_CIPHERS_DEFAULT_OPTION, .srtp = SRTP_OPT_ALL};

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			snprintf(dir, sizeof(dir), "%s", optarg);
			break;
		case 'D':
			debug = true;
			break;
		case 't':
			if (tls_ciphers_parse(optarg, &lo.tls) != 0) {
				fprintf(stderr,
				    "ngvoice lab: --tls-ciphers %s: not a TLS "
				    "Ciphers label or slug\n",
				    optarg);
				return 2;
			}
			break;
		case 's':
			if (srtp_option_parse(optarg, &lo.srtp) != 0) {
				fprintf(stderr,
				    "ngvoice lab: --srtp-ciphers %s: use all, "
				    "gcm, gcm256 or an SRTP Ciphers label\n",
				    optarg);
				return 2;
			}
			break;
		case 'k':
			lo.keep = true;
			break;
		case 'c':
			lo.ca = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/ngvoice-lab-XXXXXX");
		if (mkdtemp(dir) == NULL) {
			fprintf(stderr, "ngvoice lab: cannot create %s: %s\n",
			    dir, strerror(errno));
			return 1;
		}
	} else if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "ngvoice lab: cannot create %s: %s\n", dir,
		    strerror(errno));
		return 1;
	}
	/* The steps speak for themselves; the log only for problems. */
	log_set_level(debug ? LOG_DEBUG : LOG_WARN);
	printf("ngvoice lab in %s\n", dir);
	static char cadir[400];
	if (lo.ca) {
		/* The guide's "Optional: third-party CA signing". */
		struct pki_ca_spec cs = {.cn = "ngvoice lab root CA",
		    .key = PKI_KEY_EC_P384,
		    .intermediate = true,
		    .force = true};
		struct pki_err e;
		snprintf(cadir, sizeof(cadir), "%s/ca", dir);
		if (pki_ca_init(cadir, &cs, &e) != 0) {
			step(&lab, false, "lab CA in %s: %s", cadir, e.msg);
			return 1;
		}
		lab_cadir = cadir;
		step(&lab, true,
		    "lab CA in %s: root (P-384) and intermediate; every "
		    "identity below is a CSR it signs",
		    cadir);
	}
	lab.base = media_event_base_new();
	lab.cm.name = CM_NAME;
	lab.cm.rsa_id = "CallManager";
	lab.cm.ec_id = "CallManager-ECDSA";
	lab.vm.name = VM_NAME;
	lab.vm.rsa_id = "tomcat";
	lab.vm.ec_id = "tomcat-ECDSA";
	if (sip_auth_server_alloc(&lab.auth, "ngvoice", 600) != 0 ||
	    side_up(&lab, &lab.cm, dir, cm_req_h) != 0 ||
	    side_up(&lab, &lab.vm, dir, vm_req_h) != 0) {
		step(&lab, false, "start SIP stacks on 127.0.0.1");
		return 1;
	}
	struct stat kst;
	bool key0600 =
	    stat(lab.cm.rsa_key, &kst) == 0 && (kst.st_mode & 0777) == 0600 &&
	    stat(lab.vm.ec_key, &kst) == 0 && (kst.st_mode & 0777) == 0600;
	step(&lab, key0600,
	    "certificates: CallManager (RSA 2048) and CallManager-ECDSA "
	    "(P-256) for %s, tomcat and tomcat-ECDSA for %s, %s, keys mode "
	    "0600",
	    CM_NAME, VM_NAME,
	    lab_cadir ? "signed by the lab CA's intermediate" : "self-signed");
	char phone[512], phone_key[512];
	snprintf(phone, sizeof(phone), "%s/phone-1001.pem", dir);
	snprintf(phone_key, sizeof(phone_key), "%s/phone-1001.key", dir);
	bool trusted =
	    ident(dir, "phone-1001", PKI_KEY_EC_P256,
	        "phone-1001.ngvoice.localhost", "phone-1001.ngvoice.localhost",
	        phone, phone_key) == 0 &&
	    trust_bundle(&lab.cm, &lab.vm, dir) == 0 &&
	    (lab_cadir || trust_add(lab.cm.trust, phone) == 0) &&
	    trust_bundle(&lab.vm, &lab.cm, dir) == 0;
	step(&lab, trusted,
	    lab_cadir ? "trust: the CA root and intermediate in "
	                "callmanager-trust on both sides and in the phone"
	              : "trust: tomcat, tomcat-ECDSA and phone 1001 in "
	                "callmanager-trust, CallManager and CallManager-ECDSA "
	                "on the voicemail side and the phone");
	if (!trusted || side_tls(&lab.cm) != 0 || side_tls(&lab.vm) != 0) {
		step(&lab, false, "TLS contexts with mutual verification");
		return 1;
	}

	static const enum sip_proto protos[] = {
	    SIP_PROTO_UDP, SIP_PROTO_TCP, SIP_PROTO_TLS};
	for (size_t i = 0; i < 3; i++) {
		int err = probe(&lab, "OPTIONS", protos[i], NULL);
		double ms = now_ms() - lab.t0;
		char tlsinfo[400] = "";
		if (protos[i] == SIP_PROTO_TLS && lab.conn &&
		    sip_conn_ssl(lab.conn)) {
			SSL *ssl = sip_conn_ssl(lab.conn);
			X509 *pc = SSL_get0_peer_certificate(ssl);
			char cn[128] = "?";
			if (pc)
				X509_NAME_get_text_by_NID(
				    X509_get_subject_name(pc), NID_commonName,
				    cn, sizeof(cn));
			snprintf(tlsinfo, sizeof(tlsinfo),
			    " over %s %s, server %s verified, mutual",
			    SSL_get_version(ssl), SSL_get_cipher_name(ssl), cn);
		}
		step(&lab, err == 0 && lab.status == 200,
		    "SIP %s: OPTIONS %u in %.1f ms%s%s%s",
		    sip_proto_name(protos[i]), lab.status, ms, tlsinfo,
		    lab.detail[0] ? ": " : "", lab.detail);
	}

	/*
	 * Each TLS Ciphers option on the client side: the first suite of its
	 * list wins (the client's order decides) and the server presents the
	 * certificate of that suite's key type.
	 */
	for (int c = 0; c < TLS_CIPHERS__COUNT; c++) {
		SSL_CTX *cctx;
		if (lab.conn)
			sip_conn_close(lab.conn);
		lab.conn = NULL;
		if (client_ctx(&lab.vm, (enum tls_ciphers)c, &cctx) != 0) {
			step(&lab, false, "TLS client context for \"%s\"",
			    tls_ciphers_label((enum tls_ciphers)c));
			continue;
		}
		sip_tp_set_client_tls(sip_stack_tp(lab.vm.stack), cctx);
		int perr = probe(&lab, "OPTIONS", SIP_PROTO_TLS, NULL);
		SSL *ssl = lab.conn ? sip_conn_ssl(lab.conn) : NULL;
		const char *got = ssl ? SSL_get_cipher_name(ssl) : "none";
		char want[64];
		snprintf(want, sizeof(want), "%s",
		    tls_ciphers_openssl((enum tls_ciphers)c));
		want[strcspn(want, ":")] = '\0';
		X509 *pc = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
		EVP_PKEY *pk = pc ? X509_get0_pubkey(pc) : NULL;
		bool ec = pk && EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC;
		bool ok = perr == 0 && lab.status == 200 &&
		          strcmp(got, want) == 0 &&
		          ec == (strstr(want, "ECDSA") != NULL);
		step(&lab, ok, "TLS Ciphers \"%s\": %s, server presented %s",
		    tls_ciphers_label((enum tls_ciphers)c), got,
		    pk ? (ec ? "CallManager-ECDSA" : "CallManager (RSA)")
		       : "nothing");
		SSL_CTX_free(lab.vm.cctx);
		lab.vm.cctx = cctx;
	}

	/* Digest: challenge, then answer it over the same TLS connection. */
	int err = probe(&lab, "REGISTER", SIP_PROTO_TLS, NULL);
	bool chal = err == 0 && lab.status == 401 && lab.chal.digest;
	uint16_t first = lab.status;
	if (chal) {
		struct buf b;
		char ruri[128];
		buf_init(&b);
		snprintf(ruri, sizeof(ruri), "sips:%s:%u", CM_NAME,
		    sa_port(&lab.cm.tls));
		sip_auth_respond(&b, &lab.chal, SLICE_LIT("REGISTER"),
		    slice_cstr(ruri), "1001", "lab-secret", 1, NULL);
		buf_append(&b, "", 1);
		err = probe(&lab, "REGISTER", SIP_PROTO_TLS, b.p);
		buf_free(&b);
	}
	step(&lab, chal && err == 0 && lab.status == 200,
	    "digest: REGISTER challenged (%u, SHA-256) then accepted (%u)",
	    first, chal ? lab.status : 0);

	struct sip_tp_stats st;
	sip_tp_stats(sip_stack_tp(lab.vm.stack), &st);
	step(&lab, st.conns == 2 && st.tx_msgs == 11,
	    "connections reused: %u open (one TCP, one TLS) after %lu "
	    "requests",
	    st.conns, st.tx_msgs);

	/* Part two: the call manager itself, a phone, the secure trunk. */
	struct lab_files files = {
	    .dir = dir,
	    .cm_rsa = lab.cm.rsa_cert,
	    .cm_rsa_key = lab.cm.rsa_key,
	    .cm_ec = lab.cm.ec_cert,
	    .cm_ec_key = lab.cm.ec_key,
	    .cm_trust = lab.cm.trust,
	    .vm_rsa = lab.vm.rsa_cert,
	    .vm_rsa_key = lab.vm.rsa_key,
	    .vm_ec = lab.vm.ec_cert,
	    .vm_ec_key = lab.vm.ec_key,
	    .vm_trust = lab.vm.trust,
	    .phone = phone,
	    .phone_key = phone_key,
	};
	lab_system(
	    lab.base, &files, &lo, vm_default_prompts_dir(), lab_step, &lab);

	printf("lab: %d checks passed, %d failed\n", lab.passed, lab.failed);

	sip_stack_free(lab.cm.stack);
	sip_stack_free(lab.vm.stack);
	SSL_CTX_free(lab.cm.sctx);
	SSL_CTX_free(lab.cm.cctx);
	SSL_CTX_free(lab.vm.sctx);
	SSL_CTX_free(lab.vm.cctx);
	sip_auth_server_free(lab.auth);
	event_base_free(lab.base);
	return lab.failed ? 1 : 0;
}
