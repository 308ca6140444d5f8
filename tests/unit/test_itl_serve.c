/* The call manager's TFTP HTTPS service and the voicemail server's ITL download, in one process on 127.0.0.1. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "callmgr/cm.h"
#include "callmgr/tftp.h"
#include "core/log.h"
#include "pki/cert.h"
#include "pki/file.h"
#include "pki/itl.h"
#include "voicemail/itl.h"

#define CM_HOST "cucm.ngvoice.localhost"

static char dir[64];
static struct event_base *base;
static struct callmgr *cm;
static uint16_t tftp_port;

static char cm_rsa[128], cm_rsa_key[128], cm_ec[128], cm_ec_key[128];
static char itlr[128], itlr_key[128], itlr_old[128], tomcat[128],
    tomcat_key[128], other[128], other_key[128], cfg_file[128];

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
			    usleep(500);                                       \
	} while (0)

static void
path(char *out, size_t sz, const char *name)
{
	snprintf(out, sz, "%s/%s", dir, name);
}

/* ---- the voicemail side: one fetch, waited for ---- */

struct got {
	bool done;
	struct vm_itl_result r;
	int ncerts;
	X509 *ccm_tftp; /* the first certificate handed back */
};

static void
done_h(struct vm_itl_result *r, void *arg)
{
	struct got *g = arg;

	g->done = true;
	g->r = *r;
	g->r.certs = NULL;
	g->ncerts = r->certs ? sk_X509_num(r->certs) : -1;
	if (g->ncerts > 0) {
		g->ccm_tftp = sk_X509_value(r->certs, 0);
		X509_up_ref(g->ccm_tftp);
	}
}

static void
got_free(struct got *g)
{
	X509_free(g->ccm_tftp);
	memset(g, 0, sizeof(*g));
}

static void
fetch_ex(struct got *g, const char *cache, const char *const *hosts,
    size_t nhosts, uint16_t port, const char *signer, const char *trust)
{
	struct vm_itl_req rq;
	char cdir[128];

	memset(g, 0, sizeof(*g));
	path(cdir, sizeof(cdir), cache);
	memset(&rq, 0, sizeof(rq));
	rq.portgroup = "PhoneSystem-1 Port Group";
	rq.hosts = hosts;
	rq.nhosts = nhosts;
	rq.port = port;
	rq.cache_dir = cdir;
	rq.signer_cert = signer;
	rq.https_ciphers = TLS_CIPHERS_ALL_RSA;
	rq.tomcat_trust = trust;
	rq.timeout_ms = 3000;
	assert_int_equal(vm_itl_fetch(NULL, base, &rq, done_h, g), 0);
	assert_false(g->done); /* never synchronously */
	WAIT_FOR(g->done, 8000);
	assert_true(g->done);
	if (getenv("NGV_TEST_LOG"))
		fprintf(stderr, "fetch: err %d source %s why: %s\n", g->r.err,
		    vm_itl_source_name(g->r.source), g->r.why);
}

static void
fetch(struct got *g, const char *cache, const char *host)
{
	const char *hosts[] = {host};
	fetch_ex(g, cache, hosts, 1, tftp_port, NULL, NULL);
}

/* ---- a plain HTTPS client for paths and methods ---- */

struct http_res {
	bool done;
	int code;
	size_t len;
	char clen[24];
};

static void
http_cb(struct evhttp_request *req, void *arg)
{
	struct http_res *h = arg;
	const char *cl;

	h->done = true;
	if (req == NULL)
		return;
	h->code = evhttp_request_get_response_code(req);
	h->len = evbuffer_get_length(evhttp_request_get_input_buffer(req));
	cl = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Length");
	snprintf(h->clen, sizeof(h->clen), "%s", cl ? cl : "");
}

static void
https_req(struct http_res *h, enum evhttp_cmd_type cmd, const char *uri)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct bufferevent *bev;
	struct evhttp_connection *evcon;
	struct evhttp_request *req;

	memset(h, 0, sizeof(*h));
	assert_non_null(ctx);
	bev = bufferevent_openssl_socket_new(base, -1, SSL_new(ctx),
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	evcon = evhttp_connection_base_bufferevent_new(
	    base, NULL, bev, "127.0.0.1", tftp_port);
	req = evhttp_request_new(http_cb, h);
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Host", CM_HOST);
	assert_int_equal(evhttp_make_request(evcon, req, cmd, uri), 0);
	WAIT_FOR(h->done, 5000);
	assert_true(h->done);
	evhttp_connection_free(evcon);
	SSL_CTX_free(ctx);
}

/* ---- a bare TLS handshake with a given client context ---- */

static void
probe_cb(struct bufferevent *bev, short what, void *arg)
{
	int *st = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		*st = 1;
	else if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))
		*st = -1;
}

/* 1: the handshake completed, -1: refused. */
static int
probe(SSL_CTX *ctx)
{
	struct sa a;
	struct bufferevent *bev;
	int st = 0;

	assert_int_equal(sa_set_str(&a, "127.0.0.1", tftp_port), 0);
	bev = bufferevent_openssl_socket_new(base, -1, SSL_new(ctx),
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, NULL, NULL, probe_cb, &st);
	assert_int_equal(bufferevent_socket_connect(bev, &a.u.sa, a.len), 0);
	WAIT_FOR(st != 0, 5000);
	bufferevent_free(bev);
	SSL_CTX_free(ctx);
	return st;
}

/* ---- a third-party client as a child process ---- */

static int
run(const char *cmd)
{
	pid_t pid = fork(), w = 0;
	int status = -1;

	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	WAIT_FOR((w = waitpid(pid, &status, WNOHANG)) == pid, 15000);
	assert_int_equal(w, pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- fixtures ---- */

static int
write_config(void)
{
	unsigned p = 31000 + (unsigned)(getpid() % 3000) * 3;
	FILE *f = fopen(cfg_file, "w");

	if (f == NULL)
		return -1;
	fprintf(f,
	    "[enterprise]\n"
	    "host_name = " CM_HOST "\n"
	    "listen_address = 127.0.0.1\n"
	    "sip_port = %u\nsip_tls_port = %u\ntftp_https_port = %u\n"
	    "https_ciphers = All Ciphers RSA Preferred\n"
	    "[certificates]\n"
	    "callmanager = %s\ncallmanager_key = %s\n"
	    "callmanager_ecdsa = %s\ncallmanager_ecdsa_key = %s\n"
	    "itlrecovery = %s\nitlrecovery_key = %s\n"
	    "tomcat = %s\ntomcat_key = %s\n",
	    p, p + 1, p + 2, cm_rsa, cm_rsa_key, cm_ec, cm_ec_key, itlr,
	    itlr_key, tomcat, tomcat_key);
	fclose(f);
	return 0;
}

static int
make_signer(const char *cert, const char *key)
{
	struct pki_ident_spec sp = {.key = PKI_KEY_RSA2048,
	    .profile = PKI_PROFILE_SIGNER,
	    .cn = "ITLRecovery_" CM_HOST,
	    .days = 2};
	struct pki_err e;

	return pki_ident_generate(&sp, cert, key, &e);
}

static int
group_setup(void **state)
{
	struct conf_err err;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ngv-test-itlsrv-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	path(cm_rsa, 128, "CallManager.pem");
	path(cm_rsa_key, 128, "CallManager.key");
	path(cm_ec, 128, "CallManager-ECDSA.pem");
	path(cm_ec_key, 128, "CallManager-ECDSA.key");
	path(itlr, 128, "ITLRecovery.pem");
	path(itlr_key, 128, "ITLRecovery.key");
	path(itlr_old, 128, "ITLRecovery-first.pem");
	path(tomcat, 128, "tomcat.pem");
	path(tomcat_key, 128, "tomcat.key");
	path(other, 128, "other.pem");
	path(other_key, 128, "other.key");
	path(cfg_file, 128, "cm.conf");
	log_set_level(getenv("NGV_TEST_LOG") ? LOG_DEBUG : LOG_ERR);
	signal(SIGPIPE, SIG_IGN);
	if (pki_selfsigned(PKI_KEY_RSA2048, CM_HOST, "DNS:" CM_HOST, 2, cm_rsa,
	        cm_rsa_key) ||
	    pki_selfsigned(PKI_KEY_EC_P256, "cucm-EC.ngvoice.localhost",
	        "DNS:" CM_HOST, 2, cm_ec, cm_ec_key) ||
	    pki_selfsigned(PKI_KEY_RSA2048, CM_HOST, "DNS:" CM_HOST, 2, tomcat,
	        tomcat_key) ||
	    pki_selfsigned(PKI_KEY_EC_P256, "someone.else", "DNS:someone.else",
	        2, other, other_key) ||
	    make_signer(itlr, itlr_key) != 0 || write_config() != 0)
		return -1;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "cp %s %s", itlr, itlr_old);
	if (system(cmd) != 0)
		return -1;
	base = event_base_new();
	if (cm_alloc(&cm, base, cfg_file, &err) != 0 || cm_start(cm) != 0 ||
	    cm->tftp == NULL)
		return -1;
	tftp_port = cm_tftp_port(cm->tftp);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	cm_free(cm);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static bool
exists(const char *rel)
{
	char p[200];
	struct stat st;

	path(p, sizeof(p), rel);
	return stat(p, &st) == 0;
}

/* ---- the cases ---- */

static void
test_build_from_config(void **state)
{
	struct cm_config *cfg;
	struct conf_err ce;
	struct pki_err e;
	struct itl_file *f;
	struct itl_err ie;
	struct itl_verified v;
	X509 *signer;
	struct buf b;

	(void)state;
	buf_init(&b);
	assert_int_equal(cm_config_load(&cfg, cfg_file, &ce), 0);
	assert_int_equal(cm_itl_build(&b, cfg, 1700000000, &e), 0);
	assert_int_equal(itl_parse(&f, b.p, b.len, &ie), 0);
	assert_int_equal(pki_cert_load(&signer, itlr, &e), 0);
	assert_int_equal(itl_verify(f, signer, &v, &ie), 0);
	assert_int_equal(v.record, 0);
	assert_int_equal(f->hash_alg, ITL_HASH_SHA512);
	assert_int_equal(f->nrecs, 3);
	assert_int_equal(f->recs[0].role, ITL_ROLE_SAST);
	assert_int_equal(f->recs[1].role, ITL_ROLE_CCM_TFTP);
	assert_int_equal(f->recs[2].role, ITL_ROLE_CCM);
	assert_int_equal(f->recs[1].ip.n, 4);
	assert_memory_equal(f->recs[1].ip.p, "\x7f\0\0\x01", 4);
	assert_int_equal(f->timestamp, 1700000000);
	/* The service serves the same records. */
	assert_true(cm_tftp_itl(cm->tftp)->len > 0);
	X509_free(signer);
	itl_free(f);
	buf_free(&b);
	cm_config_free(cfg);
}

static void
test_fetch_ok(void **state)
{
	struct got g;
	struct vm_itl_result st;
	struct vm_itl_req rq;
	char cdir[128], cm_fp[65];
	X509 *x;
	struct pki_err e;

	(void)state;
	fetch(&g, "cache1", CM_HOST);
	assert_int_equal(g.r.err, 0);
	assert_int_equal(g.r.source, VM_ITL_FETCHED);
	assert_true(g.r.tofu);
	assert_int_equal(g.r.nrecords, 3);
	assert_int_equal(g.ncerts, 2); /* CCM+TFTP and CCM */
	assert_non_null(strstr(g.r.signer, "CN=ITLRecovery_" CM_HOST));
	assert_non_null(strstr(g.r.url, "https://" CM_HOST ":"));
	assert_true(g.r.fetched > 0);
	/* The CCM+TFTP certificate handed back is the CallManager one. */
	assert_int_equal(pki_cert_load(&x, cm_rsa, &e), 0);
	assert_int_equal(X509_cmp(x, g.ccm_tftp), 0);
	X509_free(x);
	assert_true(exists("cache1/PhoneSystem-1_Port_Group.itl"));
	assert_true(exists("cache1/PhoneSystem-1_Port_Group.meta"));
	snprintf(cm_fp, sizeof(cm_fp), "%s", g.r.sha256);
	got_free(&g);

	/* At start: the stored copy, with the same hash. */
	path(cdir, sizeof(cdir), "cache1");
	memset(&rq, 0, sizeof(rq));
	rq.portgroup = "PhoneSystem-1 Port Group";
	rq.cache_dir = cdir;
	assert_int_equal(vm_itl_load_stored(&rq, &st), 0);
	assert_int_equal(st.source, VM_ITL_STORED);
	assert_string_equal(st.sha256, cm_fp);
	assert_int_equal(st.nrecords, 3);
	assert_int_equal(sk_X509_num(st.certs), 2);
	vm_itl_result_clear(&st);
	rq.portgroup = "never fetched";
	assert_int_equal(vm_itl_load_stored(&rq, &st), ENOENT);
	assert_int_equal(st.source, VM_ITL_NONE);
}

static void
test_http(void **state)
{
	struct http_res h;
	char n[24];

	(void)state;
	https_req(&h, EVHTTP_REQ_GET, "/ITLFile.tlv");
	assert_int_equal(h.code, 200);
	assert_int_equal(h.len, cm_tftp_itl(cm->tftp)->len);
	https_req(&h, EVHTTP_REQ_HEAD, "/ITLFile.tlv");
	assert_int_equal(h.code, 200);
	assert_int_equal(h.len, 0);
	snprintf(n, sizeof(n), "%zu", cm_tftp_itl(cm->tftp)->len);
	assert_string_equal(h.clen, n);
	https_req(&h, EVHTTP_REQ_GET, "/other");
	assert_int_equal(h.code, 404);
	https_req(&h, EVHTTP_REQ_GET, "/"); /* no directory listing */
	assert_int_equal(h.code, 404);
	https_req(&h, EVHTTP_REQ_GET, "/ITLFile.tlv/../CTLFile.tlv");
	assert_int_equal(h.code, 404);
	https_req(&h, EVHTTP_REQ_POST, "/ITLFile.tlv");
	assert_int_equal(h.code, 405);
	https_req(&h, EVHTTP_REQ_PUT, "/ITLFile.tlv");
	assert_int_equal(h.code, 405);
}

static void
test_ip_address(void **state)
{
	const char *both[] = {"127.0.0.1", CM_HOST};
	const char *v6[] = {"::1"};
	struct got g;

	(void)state;
	fetch(&g, "cache1", "127.0.0.1");
	assert_int_equal(g.r.err, EINVAL);
	assert_non_null(strstr(g.r.why, "127.0.0.1 is an IP address"));
	assert_non_null(strstr(g.r.why,
	    "host name that matches the CN of the call manager's "
	    "CallManager certificate"));
	/* The stored ITL stays in effect, with a warning. */
	assert_int_equal(g.r.source, VM_ITL_STORED);
	assert_int_equal(g.ncerts, 2);
	assert_non_null(strstr(g.r.why, "using the ITL stored on"));
	got_free(&g);
	fetch_ex(&g, "cache-ip", v6, 1, tftp_port, NULL, NULL);
	assert_int_equal(g.r.err, EINVAL);
	assert_int_equal(g.r.source, VM_ITL_NONE);
	assert_int_equal(g.ncerts, -1);
	got_free(&g);
	/* The next TFTP server in order is tried. */
	fetch_ex(&g, "cache-ip", both, 2, tftp_port, NULL, NULL);
	assert_int_equal(g.r.err, 0);
	assert_int_equal(g.r.source, VM_ITL_FETCHED);
	got_free(&g);
}

static void
test_wrong_name(void **state)
{
	struct got g;

	(void)state;
	/* It resolves to the same server, but is not the CN. */
	fetch(&g, "cache-name", "tftp.ngvoice.localhost");
	assert_int_equal(g.r.err, EBADMSG);
	assert_non_null(strstr(g.r.why, "does not carry the TFTP server name "
	                                "tftp.ngvoice.localhost"));
	assert_false(exists("cache-name/PhoneSystem-1_Port_Group.itl"));
	got_free(&g);
}

static void
test_tampered(void **state)
{
	struct buf *served = (struct buf *)cm_tftp_itl(cm->tftp);
	struct itl_file *f;
	struct itl_err ie;
	struct got before, g;
	size_t off;

	(void)state;
	fetch(&before, "cache1", CM_HOST);
	assert_int_equal(before.r.err, 0);
	assert_int_equal(itl_parse(&f, served->p, served->len, &ie), 0);
	/* One byte of the CCM+TFTP record's subject name. */
	off = f->recs[1].off + 40;
	itl_free(f);
	served->p[off] ^= 0x01;
	fetch(&g, "cache1", CM_HOST);
	served->p[off] ^= 0x01;
	assert_int_equal(g.r.err, EBADMSG);
	assert_non_null(strstr(g.r.why, "bad signature"));
	assert_int_equal(g.r.source, VM_ITL_STORED);
	assert_string_equal(g.r.sha256, before.r.sha256);
	assert_int_equal(g.ncerts, 2);
	assert_int_equal(X509_cmp(g.ccm_tftp, before.ccm_tftp), 0);
	got_free(&g);
	got_free(&before);
}

static void
test_unreachable(void **state)
{
	struct got g;
	const char *hosts[] = {CM_HOST};

	(void)state;
	/* Port 9 (discard) on loopback: nothing listens. */
	fetch_ex(&g, "cache1", hosts, 1, 9, NULL, NULL);
	assert_int_not_equal(g.r.err, 0);
	assert_int_equal(g.r.source, VM_ITL_STORED);
	assert_int_equal(g.ncerts, 2);
	got_free(&g);
}

/* Reloads the call manager (SIGHUP) and waits for a newly signed ITL. */
static void
reload_cm(void)
{
	const struct buf *b = cm_tftp_itl(cm->tftp);
	char *old = malloc(b->len);
	size_t oldlen = b->len;

	assert_non_null(old);
	memcpy(old, b->p, oldlen);
	raise(SIGHUP);
	WAIT_FOR(b->len != oldlen || memcmp(b->p, old, oldlen) != 0, 5000);
	assert_true(b->len != oldlen || memcmp(b->p, old, oldlen) != 0);
	free(old);
}

static void
test_regenerated(void **state)
{
	struct got g;
	X509 *x;
	struct pki_err e;
	char cmd[300];

	(void)state;
	/* A regenerated CallManager certificate, same signer. */
	assert_int_equal(pki_selfsigned(PKI_KEY_RSA2048, CM_HOST,
	                     "DNS:" CM_HOST, 2, cm_rsa, cm_rsa_key),
	    0);
	reload_cm();
	fetch(&g, "cache1", CM_HOST);
	assert_int_equal(g.r.err, 0);
	assert_int_equal(g.r.source, VM_ITL_FETCHED);
	assert_false(g.r.tofu);
	assert_int_equal(pki_cert_load(&x, cm_rsa, &e), 0);
	assert_int_equal(X509_cmp(x, g.ccm_tftp), 0);
	got_free(&g);

	/* A new signer the stored ITL does not list: refused. */
	assert_int_equal(make_signer(itlr, itlr_key), 0);
	reload_cm();
	fetch(&g, "cache1", CM_HOST);
	assert_int_equal(g.r.err, EBADMSG);
	assert_non_null(strstr(g.r.why, "neither the signer of the stored"));
	assert_int_equal(g.r.source, VM_ITL_STORED);
	assert_int_equal(X509_cmp(x, g.ccm_tftp), 0);
	got_free(&g);

	/* First contact with a configured signer: only that one. */
	const char *hosts[] = {CM_HOST};
	fetch_ex(&g, "cache-pin-old", hosts, 1, tftp_port, itlr_old, NULL);
	assert_int_equal(g.r.err, EBADMSG);
	assert_non_null(strstr(g.r.why, "not by the configured signer"));
	assert_int_equal(g.r.source, VM_ITL_NONE);
	got_free(&g);
	fetch_ex(&g, "cache-pin-new", hosts, 1, tftp_port, itlr, NULL);
	assert_int_equal(g.r.err, 0);
	assert_false(g.r.tofu);
	assert_int_equal(X509_cmp(x, g.ccm_tftp), 0);
	got_free(&g);
	/* A fresh cache trusts the new signer on first use. */
	fetch(&g, "cache-fresh", CM_HOST);
	assert_int_equal(g.r.err, 0);
	assert_true(g.r.tofu);
	got_free(&g);
	X509_free(x);
	snprintf(cmd, sizeof(cmd),
	    "test -s %s/cache1/PhoneSystem-1_Port_Group.meta", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_tomcat_trust(void **state)
{
	const char *hosts[] = {CM_HOST};
	struct got g;

	(void)state;
	/* tomcat-trust holding the server's certificate: verified. */
	fetch_ex(&g, "cache-tt", hosts, 1, tftp_port, NULL, tomcat);
	assert_int_equal(g.r.err, 0);
	got_free(&g);
	/* Holding something else: the HTTPS server is not trusted. */
	fetch_ex(&g, "cache-tt2", hosts, 1, tftp_port, NULL, other);
	assert_int_equal(g.r.err, EPROTO);
	assert_non_null(strstr(g.r.why, "TLS failed"));
	assert_non_null(strstr(g.r.why, "not trusted"));
	got_free(&g);
}

static void
test_tls_versions_and_suites(void **state)
{
	SSL_CTX *c;

	(void)state;
	/* A TLS 1.2 client with a listed suite: accepted. */
	c = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(c, "ECDHE-RSA-AES128-GCM-SHA256");
	assert_int_equal(probe(c), 1);
	/* TLS 1.1 at most: refused. */
	c = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(c, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(c, TLS1_1_VERSION);
	SSL_CTX_set_cipher_list(c, "DEFAULT:@SECLEVEL=0");
	assert_int_equal(probe(c), -1);
	/* TLS 1.2 with suites the HTTPS Ciphers option does not list. */
	c = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(
	    c, "AES256-SHA:ECDHE-RSA-CHACHA20-POLY1305:AES256-SHA256");
	assert_int_equal(probe(c), -1);
	/* TLS 1.3 is off unless tls13 = yes. */
	c = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
	assert_int_equal(probe(c), -1);
}

static void
test_cancel(void **state)
{
	const char *hosts[] = {CM_HOST};
	struct vm_itl_req rq;
	struct vm_itl_fetch *f = NULL;
	struct got g;
	char cdir[128];

	(void)state;
	memset(&g, 0, sizeof(g));
	memset(&rq, 0, sizeof(rq));
	path(cdir, sizeof(cdir), "cache-cancel");
	rq.portgroup = "pg";
	rq.hosts = hosts;
	rq.nhosts = 1;
	rq.port = tftp_port;
	rq.cache_dir = cdir;
	/* Before the loop ran. */
	assert_int_equal(vm_itl_fetch(&f, base, &rq, done_h, &g), 0);
	vm_itl_fetch_cancel(f);
	WAIT_FOR(false, 100);
	assert_false(g.done);
	/* In flight: a listener that never answers the handshake. */
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sa la;
	socklen_t ll = sizeof(la.u.ss);
	assert_int_equal(sa_set_str(&la, "127.0.0.1", 0), 0);
	assert_int_equal(bind(lfd, &la.u.sa, la.len), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, &la.u.sa, &ll), 0);
	rq.port = sa_port(&la);
	assert_int_equal(vm_itl_fetch(&f, base, &rq, done_h, &g), 0);
	WAIT_FOR(false, 100);
	assert_false(g.done);
	vm_itl_fetch_cancel(f);
	WAIT_FOR(false, 100);
	assert_false(g.done);
	close(lfd);
	/* Bad requests fail at once and never call back. */
	rq.portgroup = NULL;
	assert_int_equal(vm_itl_fetch(NULL, base, &rq, done_h, &g), EINVAL);
	rq.portgroup = "..";
	assert_int_equal(vm_itl_fetch(NULL, base, &rq, done_h, &g), EINVAL);
	assert_false(g.done);
}

/* Third-party clients: openssl s_client and, when installed, curl. */
static void
test_interop(void **state)
{
	char cmd[1200], out[200], got[200];
	struct stat st;

	(void)state;
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		skip();
		return;
	}
	path(out, sizeof(out), "s_client.out");
	snprintf(cmd, sizeof(cmd),
	    "printf 'GET /ITLFile.tlv HTTP/1.1\\r\\nHost: %s\\r\\nConnection: "
	    "close\\r\\n\\r\\n' | timeout 10 openssl s_client -connect "
	    "127.0.0.1:%u -servername %s -tls1_2 -quiet >%s 2>/dev/null; "
	    "grep -a -q '^HTTP/1.1 200' %s && grep -a -q -i "
	    "'^Content-Length: %zu' %s",
	    CM_HOST, tftp_port, CM_HOST, out, out, cm_tftp_itl(cm->tftp)->len,
	    out);
	assert_int_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd),
	    "timeout 10 openssl s_client -connect 127.0.0.1:%u -tls1_1 "
	    "-cipher 'DEFAULT:@SECLEVEL=0' </dev/null >/dev/null 2>&1",
	    tftp_port);
	assert_int_not_equal(run(cmd), 0);
	if (system("command -v curl >/dev/null 2>&1") != 0)
		return;
	path(got, sizeof(got), "curl.tlv");
	snprintf(cmd, sizeof(cmd),
	    "curl -sf --cacert %s --resolve %s:%u:127.0.0.1 -o %s "
	    "https://%s:%u/ITLFile.tlv",
	    tomcat, CM_HOST, tftp_port, got, CM_HOST, tftp_port);
	assert_int_equal(run(cmd), 0);
	assert_int_equal(stat(got, &st), 0);
	assert_int_equal((size_t)st.st_size, cm_tftp_itl(cm->tftp)->len);
	snprintf(cmd, sizeof(cmd),
	    "curl -s -o /dev/null -w '%%{http_code}' -k "
	    "https://127.0.0.1:%u/nothing | grep -q 404",
	    tftp_port);
	assert_int_equal(run(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_from_config),
	    cmocka_unit_test(test_fetch_ok),
	    cmocka_unit_test(test_http),
	    cmocka_unit_test(test_ip_address),
	    cmocka_unit_test(test_wrong_name),
	    cmocka_unit_test(test_tampered),
	    cmocka_unit_test(test_unreachable),
	    cmocka_unit_test(test_tls_versions_and_suites),
	    cmocka_unit_test(test_tomcat_trust),
	    cmocka_unit_test(test_interop),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_regenerated),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
