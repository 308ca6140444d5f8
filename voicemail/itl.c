/* The voicemail server's ITL: HTTPS download from the TFTP servers, signature and trust-on-first-use rules, the stored copy. */
#include "voicemail/itl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/ctl.h"
#include "core/log.h"
#include "core/sa.h"
#include "pki/file.h"
#include "pki/itl.h"
#include "pki/store.h"
#include "tls/ctx.h"
#include "tls/diag.h"
#include "tls/peer.h"

#define DEFAULT_TIMEOUT_MS 5000

/* What the .meta file next to a stored ITL says. */
struct meta {
	char sha256[65];
	time_t fetched;
	char url[320];
	char signer[512];
	char signer_serial[132];
	bool tofu;
};

/* A stored ITL: its bytes (owned) and its meta. */
struct stored {
	unsigned char *data;
	size_t len;
	struct meta m;
};

struct vm_itl_fetch {
	struct event_base *base; /* borrowed */
	vm_itl_h *done;
	void *arg;
	/* the request, copied */
	char *portgroup, *cache_dir;
	char **hosts;
	size_t nhosts, cur;
	uint16_t port;
	unsigned timeout_ms;
	SSL_CTX *ctx;
	bool verify_server; /* tomcat-trust holds something */
	X509 *pinned;       /* the configured signer, NULL: none */
	struct stored prev; /* data NULL: nothing stored */
	/* the attempt in progress */
	struct evhttp_connection *evcon;
	struct event *step; /* deferred work, out of evhttp's callbacks */
	bool attempt_done;
	char host[256], url[320];
	int status; /* HTTP status, 0: no answer */
	int att_err;
	char att_why[700];
	struct buf body;
	struct vm_itl_result res;
};

/* ---- small helpers ---- */

static void
hex(char *out, size_t outsz, const unsigned char *p, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o + 3 <= outsz; i++, o += 2)
		snprintf(out + o, outsz - o, "%02x", p[i]);
}

static void
sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;
	hex(out, 65, md, mdlen);
}

/* Appends "; "-separated text to why. */
static void why_add(char *why, size_t sz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
why_add(char *why, size_t sz, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n && n + 2 < sz) {
		memcpy(why + n, "; ", 3);
		n += 2;
	}
	if (n + 1 >= sz)
		return;
	va_start(ap, fmt);
	vsnprintf(why + n, sz - n, fmt, ap);
	va_end(ap);
}

static bool
is_ip_literal(const char *h)
{
	unsigned char b[16];
	char tmp[64];
	size_t n = strlen(h);

	if (n >= 2 && h[0] == '[' && h[n - 1] == ']' && n - 2 < sizeof(tmp)) {
		memcpy(tmp, h + 1, n - 2);
		tmp[n - 2] = '\0';
		h = tmp;
	}
	return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

/* dir/<portgroup><ext>, the name reduced to [A-Za-z0-9._-]. */
static int
store_path(
    char *out, size_t sz, const char *dir, const char *pg, const char *ext)
{
	char name[200];
	size_t i;

	for (i = 0; pg[i] && i + 1 < sizeof(name); i++) {
		char c = pg[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		          c == '_';
		name[i] = ok ? c : '_';
	}
	name[i] = '\0';
	if (i == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return EINVAL;
	if (snprintf(out, sz, "%s/%s%s", dir, name, ext) >= (int)sz)
		return EINVAL;
	return 0;
}

static void
cstr(char *out, size_t sz, struct slice s)
{
	size_t n = s.n < sz - 1 ? s.n : sz - 1;

	if (s.p)
		memcpy(out, s.p, n);
	else
		n = 0;
	out[n] = '\0';
}

/* ---- the .meta file ---- */

static int
meta_write(const char *path, const struct meta *m, struct pki_err *e)
{
	char text[1400];
	int n = snprintf(text, sizeof(text),
	    "# ngvoice: the ITL stored next to this file\n"
	    "sha256=%s\nfetched=%lld\nurl=%s\nsigner=%s\n"
	    "signer_serial=%s\ntofu=%s\n",
	    m->sha256, (long long)m->fetched, m->url, m->signer,
	    m->signer_serial, m->tofu ? "yes" : "no");

	if (n < 0 || (size_t)n >= sizeof(text))
		return EINVAL;
	return itl_write_file(path, text, (size_t)n, e);
}

static int
meta_read(const char *path, struct meta *m)
{
	char line[1024];
	FILE *fp = fopen(path, "r");

	memset(m, 0, sizeof(*m));
	if (fp == NULL)
		return errno;
	while (fgets(line, sizeof(line), fp)) {
		char *eq = strchr(line, '='), *v;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || eq == NULL)
			continue;
		*eq = '\0';
		v = eq + 1;
		if (strcmp(line, "sha256") == 0)
			snprintf(m->sha256, sizeof(m->sha256), "%s", v);
		else if (strcmp(line, "fetched") == 0)
			m->fetched = (time_t)strtoll(v, NULL, 10);
		else if (strcmp(line, "url") == 0)
			snprintf(m->url, sizeof(m->url), "%s", v);
		else if (strcmp(line, "signer") == 0)
			snprintf(m->signer, sizeof(m->signer), "%s", v);
		else if (strcmp(line, "signer_serial") == 0)
			snprintf(m->signer_serial, sizeof(m->signer_serial),
			    "%s", v);
		else if (strcmp(line, "tofu") == 0)
			m->tofu = strcmp(v, "yes") == 0;
	}
	fclose(fp);
	return 0;
}

/* ---- verification ---- */

/* The certificates to trust for SIP: CCM+TFTP and CCM records. */
static int
sip_certs(const struct itl_file *f, STACK_OF(X509) * *skp)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	if (sk == NULL)
		return ENOMEM;
	for (size_t i = 0; i < f->nrecs; i++) {
		const struct itl_record *r = &f->recs[i];
		X509 *x;
		if (!r->has_role ||
		    (r->role != ITL_ROLE_CCM_TFTP && r->role != ITL_ROLE_CCM))
			continue;
		if (itl_record_cert(r, &x) != 0)
			continue;
		if (sk_X509_push(sk, x) == 0) {
			X509_free(x);
			sk_X509_pop_free(sk, X509_free);
			return ENOMEM;
		}
	}
	*skp = sk;
	return 0;
}

/* Fills the descriptive fields of r from a verified file. */
static void
describe(struct vm_itl_result *r, const struct itl_file *f,
    const struct itl_verified *v, const void *data, size_t len)
{
	snprintf(r->signer, sizeof(r->signer), "%s", v->signer);
	hex(r->signer_serial, sizeof(r->signer_serial),
	    (const unsigned char *)f->signer_serial.p, f->signer_serial.n);
	sha256_hex(data, len, r->sha256);
	r->nrecords = f->nrecs;
}

/*
 * The trust rule (docs/security.md). With nothing stored and no pinned
 * signer: the file's own SAST record (trust on first use). Otherwise the
 * signature must verify with the pinned signer or with a certificate the
 * stored ITL lists (its signer is listed as SAST).
 */
static int
check_signer(const struct vm_itl_fetch *ft, const struct itl_file *f,
    struct itl_verified *v, bool *tofu, char *why, size_t whysz)
{
	struct itl_file *pf = NULL;
	struct itl_err ie;
	char hdr[300], serial[132];
	int rc = EBADMSG;

	*tofu = false;
	cstr(hdr, sizeof(hdr), f->signer_name);
	hex(serial, sizeof(serial), (const unsigned char *)f->signer_serial.p,
	    f->signer_serial.n);
	if (ft->pinned == NULL && ft->prev.data == NULL) {
		if (itl_verify(f, NULL, v, &ie) != 0) {
			snprintf(
			    why, whysz, "offset %zu: %s", ie.offset, ie.msg);
			return EBADMSG;
		}
		*tofu = true;
		return 0;
	}
	if (ft->pinned && itl_verify(f, ft->pinned, v, &ie) == 0)
		return 0;
	if (ft->prev.data &&
	    itl_parse(&pf, ft->prev.data, ft->prev.len, &ie) == 0) {
		for (size_t i = 0; i < pf->nrecs && rc != 0; i++) {
			X509 *x;
			if (itl_record_cert(&pf->recs[i], &x) != 0)
				continue;
			if (itl_verify(f, x, v, &ie) == 0)
				rc = 0;
			X509_free(x);
		}
	}
	itl_free(pf);
	if (rc == 0)
		return 0;
	/* Say which rule refused it, and whether the file is even whole. */
	if (itl_verify(f, NULL, v, &ie) != 0)
		snprintf(why, whysz, "bad signature: offset %zu: %s", ie.offset,
		    ie.msg);
	else if (ft->prev.data)
		snprintf(why, whysz,
		    "signed by %.200s serial %.64s, which is neither the "
		    "signer of the stored ITL (%.200s serial %.64s) nor a "
		    "certificate it lists%s: refused, the stored ITL stays",
		    hdr, serial, ft->prev.m.signer, ft->prev.m.signer_serial,
		    ft->pinned ? ", nor the configured signer" : "");
	else
		snprintf(why, whysz,
		    "signed by %s serial %s, not by the configured signer "
		    "certificate",
		    hdr, serial);
	return EBADMSG;
}

/*
 * The guide's rule: a CCM+TFTP record whose certificate carries the TFTP
 * host name (CN or DNS SAN).
 */
static int
check_host(const struct itl_file *f, const char *host, char *why, size_t whysz)
{
	char names[600] = "";
	size_t n = 0;

	for (size_t i = 0; i < f->nrecs; i++) {
		const struct itl_record *r = &f->recs[i];
		X509 *x;
		char one[300];
		if (!r->has_role || r->role != ITL_ROLE_CCM_TFTP ||
		    itl_record_cert(r, &x) != 0)
			continue;
		n++;
		if (tls_peer_name_ok(x, host)) {
			X509_free(x);
			return 0;
		}
		tls_cert_names(x, one, sizeof(one));
		why_add(names, sizeof(names), "%s", one);
		X509_free(x);
	}
	if (n == 0)
		snprintf(why, whysz,
		    "the ITL has no CCM+TFTP record (the call manager must be "
		    "in mixed mode and list its CallManager certificate)");
	else
		snprintf(why, whysz,
		    "the ITL's CCM+TFTP certificate (%s) does not carry the "
		    "TFTP server name %s: the TFTP server must be the host "
		    "name that is the CN of the CallManager certificate",
		    names, host);
	return EBADMSG;
}

/* ---- the stored copy ---- */

static void
stored_free(struct stored *s)
{
	free(s->data);
	memset(s, 0, sizeof(*s));
}

/* Reads and checks the stored ITL; fills r when given. */
static int
stored_load(struct stored *s, const char *dir, const char *pg,
    struct vm_itl_result *r, char *why, size_t whysz)
{
	char ip[4200], mp[4200], sum[65];
	struct itl_file *f = NULL;
	struct itl_verified v;
	struct itl_err ie;
	struct pki_err e;
	struct stat st;
	int rc;

	memset(s, 0, sizeof(*s));
	if (store_path(ip, sizeof(ip), dir, pg, ".itl") ||
	    store_path(mp, sizeof(mp), dir, pg, ".meta"))
		return EINVAL;
	if (stat(ip, &st) != 0)
		return ENOENT;
	if (itl_read_file(ip, &s->data, &s->len, &e) != 0) {
		snprintf(why, whysz, "%s", e.msg);
		return EBADMSG;
	}
	if (meta_read(mp, &s->m) != 0) {
		/* The file verifies on its own; its download time is lost. */
		memset(&s->m, 0, sizeof(s->m));
		s->m.fetched = st.st_mtime;
	}
	sha256_hex(s->data, s->len, sum);
	if (s->m.sha256[0] && strcmp(sum, s->m.sha256) != 0) {
		snprintf(why, whysz,
		    "%.1024s: SHA-256 %s differs from %.64s in its .meta: the "
		    "stored ITL is damaged",
		    ip, sum, s->m.sha256);
		stored_free(s);
		return EBADMSG;
	}
	if (itl_parse(&f, s->data, s->len, &ie) != 0 ||
	    itl_verify(f, NULL, &v, &ie) != 0) {
		snprintf(why, whysz, "%.1024s: offset %zu: %.512s", ip,
		    ie.offset, ie.msg);
		itl_free(f);
		stored_free(s);
		return EBADMSG;
	}
	rc = 0;
	if (r) {
		r->source = VM_ITL_STORED;
		describe(r, f, &v, s->data, s->len);
		if (s->m.signer[0])
			snprintf(
			    r->signer, sizeof(r->signer), "%s", s->m.signer);
		snprintf(r->url, sizeof(r->url), "%s", s->m.url);
		r->fetched = s->m.fetched;
		r->tofu = s->m.tofu;
		rc = sip_certs(f, &r->certs);
	}
	itl_free(f);
	if (rc)
		stored_free(s);
	return rc;
}

/* Writes dir/<pg>.itl and .meta, each atomically, then syncs dir. */
static int
store(const char *dir, const char *pg, const void *data, size_t len,
    const struct meta *m, char *why, size_t whysz)
{
	char ip[4200], mp[4200];
	struct pki_err e;
	int fd;

	if (store_path(ip, sizeof(ip), dir, pg, ".itl") ||
	    store_path(mp, sizeof(mp), dir, pg, ".meta")) {
		snprintf(why, whysz, "%s: bad port group name for a file", pg);
		return EIO;
	}
	if (pki_dir_make(dir, 0700, &e) != 0 ||
	    itl_write_file(ip, data, len, &e) != 0 ||
	    meta_write(mp, m, &e) != 0) {
		snprintf(why, whysz, "the ITL cannot be stored: %.600s", e.msg);
		return EIO;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

/* ---- the fetch ---- */

void
vm_itl_result_clear(struct vm_itl_result *r)
{
	if (r && r->certs) {
		sk_X509_pop_free(r->certs, X509_free);
		r->certs = NULL;
	}
}

const char *
vm_itl_source_name(enum vm_itl_source s)
{
	switch (s) {
	case VM_ITL_FETCHED:
		return "fetched";
	case VM_ITL_STORED:
		return "stored";
	default:
		return "none";
	}
}

static void
fetch_free(struct vm_itl_fetch *f)
{
	if (f == NULL)
		return;
	if (f->evcon)
		evhttp_connection_free(f->evcon);
	if (f->step)
		event_free(f->step);
	SSL_CTX_free(f->ctx);
	X509_free(f->pinned);
	stored_free(&f->prev);
	buf_free(&f->body);
	vm_itl_result_clear(&f->res);
	for (size_t i = 0; i < f->nhosts; i++)
		free(f->hosts[i]);
	free(f->hosts);
	free(f->portgroup);
	free(f->cache_dir);
	free(f);
}

static void
schedule(struct vm_itl_fetch *f)
{
	struct timeval tv = {0, 0};

	event_add(f->step, &tv);
}

static void
finish(struct vm_itl_fetch *f)
{
	struct vm_itl_result *r = &f->res;

	if (r->err == 0) {
		log_info("itl: port group %s: %s verified and stored: %zu "
		         "records, signed by %s%s",
		    f->portgroup, r->url, r->nrecords, r->signer,
		    r->tofu ? " (trusted on first use)" : "");
	} else if (f->prev.data) {
		struct itl_file *pf = NULL;
		struct itl_err ie;
		struct itl_verified v;
		char when[40];
		struct tm tm;
		/* The stored ITL stays in effect. */
		r->source = VM_ITL_STORED;
		if (itl_parse(&pf, f->prev.data, f->prev.len, &ie) == 0 &&
		    itl_verify(pf, NULL, &v, &ie) == 0) {
			describe(r, pf, &v, f->prev.data, f->prev.len);
			if (f->prev.m.signer[0])
				snprintf(r->signer, sizeof(r->signer), "%s",
				    f->prev.m.signer);
			snprintf(r->url, sizeof(r->url), "%s", f->prev.m.url);
			r->fetched = f->prev.m.fetched;
			r->tofu = f->prev.m.tofu;
			if (sip_certs(pf, &r->certs) != 0)
				r->certs = NULL;
		}
		itl_free(pf);
		gmtime_r(&r->fetched, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		why_add(r->why, sizeof(r->why),
		    "using the ITL stored on %s from %s", when,
		    r->url[0] ? r->url : "(unknown)");
		log_warn("itl: port group %s: no ITL downloaded: %s",
		    f->portgroup, r->why);
	} else {
		r->source = VM_ITL_NONE;
		log_warn("itl: port group %s: no ITL downloaded and none "
		         "stored: %s",
		    f->portgroup, r->why);
	}
	f->done(r, f->arg);
	fetch_free(f);
}

/* The downloaded body of the current attempt: verify, store, fill res. */
static int
accept_itl(struct vm_itl_fetch *f, char *why, size_t whysz)
{
	struct itl_file *itl = NULL;
	struct itl_verified v;
	struct itl_err ie;
	struct meta m;
	STACK_OF(X509) *certs = NULL;
	bool tofu;
	int rc;

	if (itl_parse(&itl, f->body.p, f->body.len, &ie) != 0) {
		snprintf(why, whysz, "not an ITL: offset %zu: %s", ie.offset,
		    ie.msg);
		return EBADMSG;
	}
	if ((rc = check_signer(f, itl, &v, &tofu, why, whysz)) != 0 ||
	    (rc = check_host(itl, f->host, why, whysz)) != 0)
		goto out;
	if ((rc = sip_certs(itl, &certs)) != 0) {
		snprintf(why, whysz, "out of memory");
		goto out;
	}
	memset(&m, 0, sizeof(m));
	sha256_hex(f->body.p, f->body.len, m.sha256);
	m.fetched = time(NULL);
	snprintf(m.url, sizeof(m.url), "%s", f->url);
	snprintf(m.signer, sizeof(m.signer), "%s", v.signer);
	hex(m.signer_serial, sizeof(m.signer_serial),
	    (const unsigned char *)itl->signer_serial.p, itl->signer_serial.n);
	m.tofu = tofu || (f->prev.data && f->prev.m.tofu && !f->pinned);
	if ((rc = store(f->cache_dir, f->portgroup, f->body.p, f->body.len, &m,
	         why, whysz)) != 0)
		goto out;
	f->res.err = 0;
	f->res.source = VM_ITL_FETCHED;
	describe(&f->res, itl, &v, f->body.p, f->body.len);
	snprintf(f->res.url, sizeof(f->res.url), "%s", f->url);
	f->res.fetched = m.fetched;
	f->res.tofu = tofu;
	f->res.certs = certs;
	certs = NULL;
out:
	if (certs)
		sk_X509_pop_free(certs, X509_free);
	itl_free(itl);
	return rc;
}

static void
attempt_error_cb(enum evhttp_request_error e, void *arg)
{
	struct vm_itl_fetch *f = arg;
	struct bufferevent *bev =
	    f->evcon ? evhttp_connection_get_bufferevent(f->evcon) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	unsigned long oe = 0, x;
	char tw[500];

	while (bev && (x = bufferevent_get_openssl_error(bev)) != 0)
		if (oe == 0)
			oe = x;
	if (e == EVREQ_HTTP_TIMEOUT) {
		f->att_err = ETIMEDOUT;
		snprintf(f->att_why, sizeof(f->att_why),
		    "no answer within %u ms", f->timeout_ms);
	} else if (e == EVREQ_HTTP_DATA_TOO_LONG) {
		f->att_err = EBADMSG;
		snprintf(f->att_why, sizeof(f->att_why),
		    "the file is larger than %u bytes", ITL_MAX_FILE);
	} else if (ssl &&
	           (oe != 0 || SSL_get_verify_result(ssl) != X509_V_OK)) {
		f->att_err = EPROTO;
		snprintf(f->att_why, sizeof(f->att_why), "TLS failed: %s",
		    tls_handshake_why(ssl, oe, tw, sizeof(tw)));
	} else if (ssl && !SSL_is_init_finished(ssl)) {
		f->att_err = ECONNREFUSED;
		snprintf(f->att_why, sizeof(f->att_why),
		    "no TLS connection (nothing listening, or the server "
		    "closed it during the handshake)");
	} else {
		f->att_err = EPROTO;
		snprintf(f->att_why, sizeof(f->att_why),
		    "the connection closed before a whole HTTP answer");
	}
}

static void
attempt_cb(struct evhttp_request *req, void *arg)
{
	struct vm_itl_fetch *f = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;

	f->attempt_done = true;
	if (code == 0) {
		if (f->att_err == 0) {
			f->att_err = ECONNREFUSED;
			snprintf(f->att_why, sizeof(f->att_why),
			    "no connection or no HTTP answer (nothing listening "
			    "on port %u?)",
			    f->port);
		}
	} else {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		f->status = code;
		if (code != 200) {
			const char *l =
			    evhttp_request_get_response_code_line(req);
			f->att_err = ENOENT;
			snprintf(f->att_why, sizeof(f->att_why), "HTTP %d %s",
			    code, l ? l : "");
		} else if (buf_reserve(&f->body, n) != 0) {
			f->att_err = ENOMEM;
			snprintf(
			    f->att_why, sizeof(f->att_why), "out of memory");
		} else {
			evbuffer_remove(in, f->body.p, n);
			f->body.len = n;
		}
	}
	/* The connection is freed outside of evhttp's callback. */
	schedule(f);
}

/* Starts the request to hosts[cur]. 0: in flight; else why is set. */
static int
attempt_start(struct vm_itl_fetch *f)
{
	struct evhttp_request *req = NULL;
	struct bufferevent *bev;
	struct evkeyvalq *h;
	struct timeval tv;
	struct sa a;
	SSL *ssl;
	char ip[INET6_ADDRSTRLEN + 2], hosthdr[300];

	snprintf(f->host, sizeof(f->host), "%s", f->hosts[f->cur]);
	snprintf(f->url, sizeof(f->url), "https://%s%s%s:%u/ITLFile.tlv",
	    strchr(f->host, ':') ? "[" : "", f->host,
	    strchr(f->host, ':') ? "]" : "", f->port);
	f->status = 0;
	f->att_err = 0;
	f->att_why[0] = '\0';
	f->attempt_done = false;
	buf_reset(&f->body);
	if (is_ip_literal(f->host)) {
		/* The guide's warning (GUIDE.md, port group servers). */
		f->att_err = EINVAL;
		snprintf(f->att_why, sizeof(f->att_why),
		    "TFTP server %s is an IP address: the ITL cannot be "
		    "downloaded from an IP address; give the host name that "
		    "matches the CN of the call manager's CallManager "
		    "certificate",
		    f->host);
		return EINVAL;
	}
	if (sa_resolve(&a, f->host, f->port, 0) != 0) {
		f->att_err = ENOENT;
		snprintf(f->att_why, sizeof(f->att_why), "%s does not resolve",
		    f->host);
		return ENOENT;
	}
	sa_ntop(&a, ip, sizeof(ip));
	if ((ssl = SSL_new(f->ctx)) == NULL)
		goto nomem;
	SSL_set_tlsext_host_name(ssl, f->host);
	if (f->verify_server && SSL_set1_host(ssl, f->host) != 1) {
		SSL_free(ssl);
		goto nomem;
	}
	bev = bufferevent_openssl_socket_new(f->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		goto nomem;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	f->evcon = evhttp_connection_base_bufferevent_new(
	    f->base, NULL, bev, ip, f->port);
	if (f->evcon == NULL) {
		bufferevent_free(bev);
		goto nomem;
	}
	tv.tv_sec = f->timeout_ms / 1000;
	tv.tv_usec = (f->timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(f->evcon, &tv);
	evhttp_connection_set_retries(f->evcon, 0);
	evhttp_connection_set_max_body_size(f->evcon, ITL_MAX_FILE);
	if ((req = evhttp_request_new(attempt_cb, f)) == NULL)
		goto nomem;
	evhttp_request_set_error_cb(req, attempt_error_cb);
	h = evhttp_request_get_output_headers(req);
	snprintf(hosthdr, sizeof(hosthdr), "%s:%u", f->host, f->port);
	evhttp_add_header(h, "Host", hosthdr);
	evhttp_add_header(h, "User-Agent", "ngvoice-voicemail");
	evhttp_add_header(h, "Connection", "close");
	/* On failure evhttp frees the request itself. */
	if (evhttp_make_request(
	        f->evcon, req, EVHTTP_REQ_GET, "/ITLFile.tlv") != 0)
		goto nomem_noreq;
	return 0;
nomem:
	if (req)
		evhttp_request_free(req);
nomem_noreq:
	if (f->evcon) {
		evhttp_connection_free(f->evcon);
		f->evcon = NULL;
	}
	f->att_err = ENOMEM;
	snprintf(f->att_why, sizeof(f->att_why), "cannot start the request");
	return ENOMEM;
}

/* Records the current attempt's failure in res. */
static void
attempt_failed(struct vm_itl_fetch *f)
{
	if (f->res.err == 0)
		f->res.err = f->att_err ? f->att_err : EPROTO;
	why_add(f->res.why, sizeof(f->res.why), "%s: %s", f->url, f->att_why);
}

static void
step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vm_itl_fetch *f = arg;

	(void)fd;
	(void)what;
	if (f->evcon && f->attempt_done) {
		evhttp_connection_free(f->evcon);
		f->evcon = NULL;
		if (f->att_err == 0 && (f->att_err = accept_itl(f, f->att_why,
		                            sizeof(f->att_why))) == 0) {
			finish(f);
			return;
		}
		attempt_failed(f);
		f->cur++;
	}
	if (f->res.err == 0 && f->res.why[0]) /* a setup error */
		f->cur = f->nhosts;
	while (f->cur < f->nhosts) {
		if (attempt_start(f) == 0)
			return; /* attempt_cb schedules the next step */
		attempt_failed(f);
		f->cur++;
	}
	if (f->res.err == 0)
		f->res.err = EINVAL;
	finish(f);
}

/* The HTTPS client context: the HTTPS Ciphers option, tomcat-trust. */
static int
make_ctx(struct vm_itl_fetch *f, const struct vm_itl_req *req)
{
	struct tls_opts o;
	X509_STORE *st = NULL;
	struct pki_err e;
	int rc;

	tls_opts_default(&o);
	o.verify_peer = false;
	o.ciphers = req->https_ciphers;
	o.allow_tls13 = req->allow_tls13;
	o.what = "voicemail ITL download";
	if ((rc = tls_ctx_new(&f->ctx, false, &o)) != 0)
		return rc;
	if (req->tomcat_trust == NULL)
		return 0;
	rc = pki_trust_load(&st, req->tomcat_trust, &e);
	if (rc == ENODATA)
		return 0; /* empty: the ITL's signature protects it */
	if (rc != 0) {
		why_add(f->res.why, sizeof(f->res.why),
		    "tomcat-trust does not load: %s", e.msg);
		return 0; /* reported through done, with the stored ITL */
	}
	SSL_CTX_set_cert_store(f->ctx, st);
	tls_diag_init();
	SSL_CTX_set_verify(f->ctx, SSL_VERIFY_PEER, tls_verify_cb);
	f->verify_server = true;
	return 0;
}

int
vm_itl_fetch(struct vm_itl_fetch **fp, struct event_base *base,
    const struct vm_itl_req *req, vm_itl_h *done, void *arg)
{
	struct vm_itl_fetch *f;
	struct pki_err e;
	char why[800] = "";
	int rc;

	if (base == NULL || req == NULL || done == NULL ||
	    req->portgroup == NULL || req->cache_dir == NULL ||
	    (req->nhosts && req->hosts == NULL) ||
	    (unsigned)req->https_ciphers >= TLS_CIPHERS__COUNT)
		return EINVAL;
	for (size_t i = 0; i < req->nhosts; i++)
		if (req->hosts[i] == NULL || req->hosts[i][0] == '\0')
			return EINVAL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return ENOMEM;
	f->base = base;
	f->done = done;
	f->arg = arg;
	f->port = req->port ? req->port : VM_ITL_PORT;
	f->timeout_ms = req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
	buf_init(&f->body);
	f->portgroup = strdup(req->portgroup);
	f->cache_dir = strdup(req->cache_dir);
	f->hosts = calloc(req->nhosts ? req->nhosts : 1, sizeof(char *));
	f->step = event_new(base, -1, 0, step_cb, f);
	if (!f->portgroup || !f->cache_dir || !f->hosts || !f->step)
		goto nomem;
	for (; f->nhosts < req->nhosts; f->nhosts++)
		if ((f->hosts[f->nhosts] = strdup(req->hosts[f->nhosts])) ==
		    NULL)
			goto nomem;
	if (store_path(why, sizeof(why), f->cache_dir, f->portgroup, ".itl")) {
		fetch_free(f);
		return EINVAL;
	}
	why[0] = '\0';
	if ((rc = make_ctx(f, req)) != 0) {
		fetch_free(f);
		return rc == ENOMEM ? ENOMEM : EINVAL;
	}
	if (req->signer_cert &&
	    pki_cert_load(&f->pinned, req->signer_cert, &e) != 0)
		why_add(f->res.why, sizeof(f->res.why),
		    "the configured ITL signer does not load: %s", e.msg);
	/* The stored ITL: what the new one must chain to, and the fallback. */
	rc = stored_load(
	    &f->prev, f->cache_dir, f->portgroup, NULL, why, sizeof(why));
	if (rc == EBADMSG)
		log_warn("itl: port group %s: the stored ITL is not used: %s",
		    f->portgroup, why);
	if (req->nhosts == 0 && f->res.why[0] == '\0')
		why_add(f->res.why, sizeof(f->res.why),
		    "the port group has no TFTP server");
	schedule(f);
	if (fp)
		*fp = f;
	return 0;
nomem:
	fetch_free(f);
	return ENOMEM;
}

void
vm_itl_fetch_cancel(struct vm_itl_fetch *f)
{
	fetch_free(f);
}

int
vm_itl_load_stored(const struct vm_itl_req *req, struct vm_itl_result *r)
{
	struct stored s;
	int rc;

	if (req == NULL || r == NULL || req->portgroup == NULL ||
	    req->cache_dir == NULL)
		return EINVAL;
	memset(r, 0, sizeof(*r));
	rc = stored_load(
	    &s, req->cache_dir, req->portgroup, r, r->why, sizeof(r->why));
	if (rc != 0) {
		vm_itl_result_clear(r);
		r->source = VM_ITL_NONE;
		r->err = rc;
		return rc;
	}
	stored_free(&s);
	return 0;
}

void
vm_itl_result_json(const struct vm_itl_result *r, struct buf *b)
{
	buf_append_str(b, "{\"source\":");
	buf_json_str(b, vm_itl_source_name(r->source));
	buf_append_str(b, ",\"url\":");
	buf_json_str(b, r->url);
	buf_append_str(b, ",\"signer\":");
	buf_json_str(b, r->signer);
	buf_append_str(b, ",\"signer_serial\":");
	buf_json_str(b, r->signer_serial);
	buf_printf(b, ",\"records\":%zu,\"fetched\":%lld,\"tofu\":%s",
	    r->nrecords, (long long)r->fetched, r->tofu ? "true" : "false");
	buf_append_str(b, ",\"sha256\":");
	buf_json_str(b, r->sha256);
	buf_append_str(b, ",\"warning\":");
	buf_json_str(b, r->why);
	buf_append_str(b, "}");
}
