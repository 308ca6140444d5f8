/* The call manager's TFTP service over HTTPS (:6972): builds, signs and serves ITLFile.tlv with evhttp over bufferevent_openssl. */
#include "callmgr/tftp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "callmgr/config.h"
#include "core/log.h"
#include "core/sa.h"
#include "pki/file.h"
#include "pki/itl.h"
#include "tls/ctx.h"
#include "tls/peer.h"

struct cm_tftp {
	struct event_base *base; /* borrowed */
	struct evhttp *http;
	SSL_CTX *ctx;    /* new connections take a reference (SSL_new) */
	struct buf itl;  /* the file served; len 0: none */
	char what[800];  /* "ITLFile.tlv (3 records, signed by ...)" */
	struct sa laddr; /* bound */
};

int
cm_itl_build(struct buf *out, const struct cm_config *cfg, uint32_t timestamp,
    struct pki_err *e)
{
	const struct cm_certificates *c;
	const char *signer, *signer_key;
	struct itl_build_opts bo;
	struct itl_entry ent[2];
	struct itl_file *f = NULL;
	struct itl_err ie;
	X509 *sx = NULL, *rx[2] = {NULL, NULL};
	EVP_PKEY *sk = NULL;
	uint8_t ip[4];
	bool has_ip;
	size_t n = 0, start;
	int rc = EINVAL;

	if (out == NULL || cfg == NULL || e == NULL)
		return EINVAL;
	c = &cfg->certs;
	start = out->len;
	signer = c->itlrecovery ? c->itlrecovery : c->callmanager;
	signer_key = c->itlrecovery ? c->itlrecovery_key : c->callmanager_key;
	if (signer == NULL) {
		snprintf(e->msg, sizeof(e->msg),
		    "%s: no ITL signer: set itlrecovery and itlrecovery_key in "
		    "[certificates]",
		    cfg->file ? cfg->file : "configuration");
		return EINVAL;
	}
	if (c->callmanager == NULL && c->callmanager_ecdsa == NULL) {
		snprintf(e->msg, sizeof(e->msg),
		    "%s: no CallManager certificate to list in the ITL",
		    cfg->file ? cfg->file : "configuration");
		return EINVAL;
	}
	if (pki_cert_load(&sx, signer, e) != 0 ||
	    pki_key_load(&sk, signer_key, NULL, e) != 0)
		goto out;
	/* The TFTP node's address, as the call manager lists it. */
	has_ip = inet_pton(AF_INET, cfg->enterprise.listen_address, ip) == 1 &&
	         memcmp(ip, "\0\0\0\0", 4) != 0;
	memset(ent, 0, sizeof(ent));
	if (c->callmanager) {
		if (pki_cert_load(&rx[n], c->callmanager, e) != 0)
			goto out;
		/* CUC looks for the CCM+TFTP record (notes 1.8). */
		ent[n].role = ITL_ROLE_CCM_TFTP;
		ent[n].cert = rx[n];
		n++;
	}
	if (c->callmanager_ecdsa) {
		if (pki_cert_load(&rx[n], c->callmanager_ecdsa, e) != 0)
			goto out;
		/* It signs no TFTP files: CCM (docs/itl.md). */
		ent[n].role = ITL_ROLE_CCM;
		ent[n].cert = rx[n];
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		ent[i].has_ip = has_ip;
		memcpy(ent[i].ip, ip, 4);
	}
	memset(&bo, 0, sizeof(bo));
	bo.signer = sx;
	bo.signer_key = sk;
	bo.hash =
	    strcmp(cfg->enterprise.tftp_file_signature_algorithm, "SHA-1") == 0
	        ? ITL_HASH_SHA1
	        : ITL_HASH_SHA512;
	bo.timestamp = timestamp;
	bo.entries = ent;
	bo.nentries = n;
	if ((rc = itl_build(out, &bo, e)) != 0) {
		rc = rc == ENOMEM ? ENOMEM : EINVAL;
		goto out;
	}
	/* What is served must parse and verify with its own signer. */
	if (itl_parse(&f, out->p + start, out->len - start, &ie) != 0 ||
	    itl_verify(f, sx, NULL, &ie) != 0) {
		snprintf(e->msg, sizeof(e->msg),
		    "internal error: the built ITL does not check: offset %zu: "
		    "%s",
		    ie.offset, ie.msg);
		rc = EINVAL;
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		out->len = start;
	itl_free(f);
	X509_free(sx);
	X509_free(rx[0]);
	X509_free(rx[1]);
	EVP_PKEY_free(sk);
	return rc;
}

/* A refused handshake says why in the log: the peer and the alert we sent. */
static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct sa peer;
	socklen_t len = sizeof(peer.u.ss);
	char a[SA_FMT_MAX];
	const char *hint = "";
	int fd;

	/* Only handshakes: evhttp closing a finished session is no news. */
	if (!(where & SSL_CB_ALERT) || !(where & SSL_CB_WRITE) ||
	    (ret >> 8) != SSL3_AL_FATAL || SSL_is_init_finished(ssl))
		return;
	fd = SSL_get_fd(ssl);
	if (fd < 0)
		return;
	if (getpeername(fd, &peer.u.sa, &len) != 0)
		return; /* the peer is gone already */
	peer.len = len;
	sa_fmt(&peer, a, sizeof(a));
	switch (ret & 0xff) {
	case SSL3_AD_HANDSHAKE_FAILURE:
		hint = ": no TLS suite or group in common with the HTTPS "
		       "Ciphers option";
		break;
	case SSL_AD_PROTOCOL_VERSION:
		hint = ": the client offers no TLS 1.2";
		break;
	default:
		break;
	}
	log_info("tftp: refused TLS from %s: alert %s%s", a,
	    SSL_alert_desc_string_long(ret), hint);
}

/* The HTTPS context: tomcat, else the CallManager identities (notes 1.8). */
static int
make_ctx(SSL_CTX **ctxp, const struct cm_config *cfg, char *who, size_t whosz)
{
	const struct cm_certificates *c = &cfg->certs;
	struct tls_opts o;

	tls_opts_default(&o);
	if (c->tomcat) {
		o.cert = c->tomcat;
		o.key = c->tomcat_key;
		snprintf(who, whosz, "tomcat");
	} else if (c->callmanager || c->callmanager_ecdsa) {
		o.cert = c->callmanager ? c->callmanager : c->callmanager_ecdsa;
		o.key = c->callmanager ? c->callmanager_key
		                       : c->callmanager_ecdsa_key;
		if (c->callmanager && c->callmanager_ecdsa) {
			o.cert2 = c->callmanager_ecdsa;
			o.key2 = c->callmanager_ecdsa_key;
		}
		snprintf(who, whosz, "CallManager (no tomcat configured)");
	} else
		return ENOENT;
	o.verify_peer = false; /* HTTPS: no client certificate */
	o.ciphers = cfg->enterprise.https_ciphers;
	o.allow_tls13 = cfg->enterprise.tls13;
	o.keylog_file = cfg->enterprise.keylog_file;
	o.what = "callmanager TFTP HTTPS";
	if (tls_ctx_new(ctxp, true, &o) != 0)
		return EINVAL;
	SSL_CTX_set_info_callback(*ctxp, info_cb);
	return 0;
}

/* Builds the ITL and describes it for log lines; out is left empty on error. */
static int
make_itl(
    struct buf *out, char *what, size_t whatsz, const struct cm_config *cfg)
{
	struct pki_err e;
	struct itl_file *f = NULL;
	struct itl_err ie;
	struct itl_verified v;
	int err;

	e.msg[0] = '\0';
	if ((err = cm_itl_build(out, cfg, 0, &e)) != 0) {
		log_err("tftp: ITLFile.tlv cannot be built, it is answered "
		        "with 404: %s",
		    e.msg);
		snprintf(what, whatsz, "no ITLFile.tlv (%s)", e.msg);
		return err;
	}
	if (itl_parse(&f, out->p, out->len, &ie) == 0 &&
	    itl_verify(f, NULL, &v, &ie) == 0)
		snprintf(what, whatsz,
		    "ITLFile.tlv (%zu bytes, %zu records, %s, signed by %s)",
		    out->len, f->nrecs, itl_hash_name(f->hash_alg), v.signer);
	else
		snprintf(what, whatsz, "ITLFile.tlv (%zu bytes)", out->len);
	itl_free(f);
	return 0;
}

static void
peer_of(struct evhttp_request *req, char *buf, size_t sz)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *addr = NULL;
	uint16_t port = 0;

	if (evcon)
		evhttp_connection_get_peer(evcon, &addr, &port);
	if (addr && strchr(addr, ':'))
		snprintf(buf, sz, "[%s]:%u", addr, port);
	else
		snprintf(buf, sz, "%s:%u", addr ? addr : "?", port);
}

static void
req_cb(struct evhttp_request *req, void *arg)
{
	struct cm_tftp *t = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evbuffer *body;
	char peer[SA_FMT_MAX + 8], len[24];

	peer_of(req, peer, sizeof(peer));
	/* Only ever over TLS: bevcb makes every connection's bufferevent. */
	if (evcon == NULL ||
	    bufferevent_openssl_get_ssl(
	        evhttp_connection_get_bufferevent(evcon)) == NULL) {
		evhttp_send_error(req, HTTP_BADREQUEST, "HTTPS only");
		return;
	}
	evhttp_add_header(oh, "Server", "ngvoice-callmanager");
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(oh, "Allow", "GET, HEAD");
		evhttp_send_error(req, 405, "Method Not Allowed");
		log_info("tftp: 405 for a request other than GET or HEAD from "
		         "%s",
		    peer);
		return;
	}
	/* One file, no directory listing; TFTP names are exact. */
	if (path == NULL || strcmp(path, CM_TFTP_ITL_PATH) != 0 ||
	    t->itl.len == 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		log_info("tftp: 404 for %.200s from %s%s",
		    evhttp_request_get_uri(req), peer,
		    t->itl.len == 0 && path &&
		            strcmp(path, CM_TFTP_ITL_PATH) == 0
		        ? " (no ITL could be built)"
		        : "");
		return;
	}
	evhttp_add_header(oh, "Content-Type", "application/octet-stream");
	evhttp_add_header(oh, "Cache-Control", "no-cache");
	if (cmd == EVHTTP_REQ_HEAD) {
		/* evhttp adds no length to a HEAD answer: say the file's. */
		snprintf(len, sizeof(len), "%zu", t->itl.len);
		evhttp_add_header(oh, "Content-Length", len);
		evhttp_send_reply(req, HTTP_OK, "OK", NULL);
		log_info("tftp: HEAD ITLFile.tlv from %s (%zu bytes)", peer,
		    t->itl.len);
		return;
	}
	if ((body = evbuffer_new()) == NULL ||
	    evbuffer_add(body, t->itl.p, t->itl.len) != 0) {
		if (body)
			evbuffer_free(body);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
	log_info("tftp: sent ITLFile.tlv to %s (%zu bytes)", peer, t->itl.len);
}

/* Every connection is TLS: evhttp takes the bufferevent made here. */
static struct bufferevent *
bev_cb(struct event_base *base, void *arg)
{
	struct cm_tftp *t = arg;
	SSL *ssl = SSL_new(t->ctx);

	/*
	 * Without an SSL object evhttp would fall back to a plain socket;
	 * req_cb refuses such a connection, and this one has no memory
	 * anyway.
	 */
	if (ssl == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(
	    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

int
cm_tftp_start(
    struct cm_tftp **tp, struct event_base *base, const struct cm_config *cfg)
{
	const struct cm_enterprise *e;
	struct evhttp_bound_socket *bs;
	struct cm_tftp *t;
	char who[64], a[SA_FMT_MAX];
	socklen_t len;
	int err;

	if (tp == NULL || base == NULL || cfg == NULL)
		return EINVAL;
	*tp = NULL;
	e = &cfg->enterprise;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ENOMEM;
	t->base = base;
	buf_init(&t->itl);
	if ((err = make_ctx(&t->ctx, cfg, who, sizeof(who))) != 0) {
		cm_tftp_free(t);
		if (err == ENOENT) {
			log_info(
			    "callmanager: no tomcat or CallManager identity: "
			    "no TFTP HTTPS service");
			return 0;
		}
		return err;
	}
	make_itl(&t->itl, t->what, sizeof(t->what), cfg);
	if ((t->http = evhttp_new(base)) == NULL) {
		cm_tftp_free(t);
		return ENOMEM;
	}
	evhttp_set_bevcb(t->http, bev_cb, t);
	evhttp_set_gencb(t->http, req_cb, t);
	/* Every method reaches req_cb, which answers 405 itself. */
	evhttp_set_allowed_methods(t->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	        EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_timeout(t->http, 10);
	evhttp_set_max_headers_size(t->http, 8192);
	evhttp_set_max_body_size(t->http, 1024);
	errno = 0;
	bs = evhttp_bind_socket_with_handle(
	    t->http, e->listen_address, e->tftp_https_port);
	if (bs == NULL) {
		err = errno ? errno : EADDRINUSE;
		log_err(
		    "callmanager: cannot listen on %s TFTP HTTPS port %u: %s",
		    e->listen_address, e->tftp_https_port, strerror(err));
		cm_tftp_free(t);
		return err;
	}
	len = sizeof(t->laddr.u.ss);
	if (getsockname(evhttp_bound_socket_get_fd(bs), &t->laddr.u.sa, &len) ==
	    0)
		t->laddr.len = len;
	log_info("callmanager: TFTP HTTPS on %s presenting %s, HTTPS Ciphers "
	         "\"%s\": %s",
	    sa_fmt(&t->laddr, a, sizeof(a)), who,
	    tls_ciphers_label(e->https_ciphers), t->what);
	*tp = t;
	return 0;
}

int
cm_tftp_reload(struct cm_tftp *t, const struct cm_config *cfg)
{
	SSL_CTX *ctx = NULL;
	struct buf nb;
	char who[64], what[sizeof(t->what)];
	int err;

	if (t == NULL || cfg == NULL)
		return EINVAL;
	buf_init(&nb);
	if ((err = make_ctx(&ctx, cfg, who, sizeof(who))) != 0) {
		log_err(
		    "tftp: reload refused, the running TLS identity and ITL "
		    "stay: the HTTPS identity of %s does not load",
		    cfg->file ? cfg->file : "the configuration");
		return err;
	}
	if ((err = make_itl(&nb, what, sizeof(what), cfg)) != 0) {
		log_err(
		    "tftp: reload refused, the running TLS identity and ITL "
		    "stay");
		SSL_CTX_free(ctx);
		buf_free(&nb);
		return err;
	}
	/* Open connections hold their own reference to the old context. */
	SSL_CTX_free(t->ctx);
	t->ctx = ctx;
	buf_free(&t->itl);
	t->itl = nb;
	snprintf(t->what, sizeof(t->what), "%s", what);
	log_info("tftp: reloaded: presenting %s, serving %s", who, t->what);
	return 0;
}

void
cm_tftp_free(struct cm_tftp *t)
{
	if (t == NULL)
		return;
	if (t->http)
		evhttp_free(t->http);
	SSL_CTX_free(t->ctx);
	buf_free(&t->itl);
	free(t);
}

const struct buf *
cm_tftp_itl(const struct cm_tftp *t)
{
	return &t->itl;
}

uint16_t
cm_tftp_port(const struct cm_tftp *t)
{
	return sa_port(&t->laddr);
}
