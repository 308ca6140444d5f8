/* SIP dialogs: creation from the INVITE and its answer, route sets, in-dialog requests. */
#include "sip/dialog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sip/enc.h"

int
sip_req_build(struct buf *b, const struct sip_req_spec *sp)
{
	sip_enc_request_line(b, slice_cstr(sp->method), sp->ruri);
	BUF_LIT(b, "Via: SIP/2.0/");
	buf_append_str(b, sip_proto_name(sp->proto));
	BUF_LIT(b, " ");
	if (slice_chr(sp->via_host, ':') >= 0) {
		BUF_LIT(b, "[");
		buf_append_slice(b, sp->via_host);
		BUF_LIT(b, "]");
	} else {
		buf_append_slice(b, sp->via_host);
	}
	if (sp->via_port) {
		BUF_LIT(b, ":");
		buf_append_u64(b, sp->via_port);
	}
	BUF_LIT(b, ";branch=");
	buf_append_str(b, sp->branch);
	BUF_LIT(b, ";rport\r\n");
	sip_enc_hdr_u64(
	    b, SIP_HDR_MAX_FORWARDS, sp->max_forwards ? sp->max_forwards : 70);
	if (sp->routes.n)
		sip_enc_hdr_id(b, SIP_HDR_ROUTE, sp->routes);
	sip_enc_hdr_id(b, SIP_HDR_FROM, sp->from);
	sip_enc_hdr_id(b, SIP_HDR_TO, sp->to);
	sip_enc_hdr_id(b, SIP_HDR_CALL_ID, sp->callid);
	sip_enc_cseq(b, sp->cseq, slice_cstr(sp->method));
	if (sp->contact.n)
		sip_enc_hdr_id(b, SIP_HDR_CONTACT, sp->contact);
	buf_append_slice(b, sp->extra);
	sip_enc_body(b, sp->ctype, sp->body);
	return b->err;
}

/* Collects Record-Route values, in order or reversed, as one Route value. */
static char *
route_set(const struct sip_msg *m, bool reverse)
{
	struct slice vals[64];
	size_t n = 0;
	struct sip_values it;
	struct slice v;
	struct buf b;

	sip_values_init(&it, m, SIP_HDR_RECORD_ROUTE);
	while (n < 64 && sip_values_next(&it, &v))
		vals[n++] = v;
	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (i)
			BUF_LIT(&b, ", ");
		buf_append_slice(&b, vals[reverse ? n - 1 - i : i]);
	}
	buf_append(&b, "", 1);
	if (b.err) {
		buf_free(&b);
		return NULL;
	}
	return b.p;
}

static int
first_contact(const struct sip_msg *m, struct sip_addr *a)
{
	struct sip_values it;
	struct slice v;

	sip_values_init(&it, m, SIP_HDR_CONTACT);
	if (!sip_values_next(&it, &v))
		return EBADMSG;
	if (sip_addr_parse(a, v) || a->star)
		return EBADMSG;
	return 0;
}

static int
dialog_finish(struct sip_dialog *d)
{
	if (!d->callid || !d->ltag || !d->rtag || !d->lhdr || !d->rhdr ||
	    !d->target || !d->routes) {
		sip_dialog_free(d);
		return ENOMEM;
	}
	return 0;
}

int
sip_dialog_uac(struct sip_dialog **dp, const struct sip_msg *req,
    const struct sip_msg *resp, enum sip_proto proto, struct sip_conn *conn)
{
	struct sip_dialog *d;
	struct sip_addr c;
	int err;

	if (dp == NULL || req == NULL || resp == NULL)
		return EINVAL;
	if (!slice_isset(resp->to.tag) || resp->to.tag.n == 0 ||
	    first_contact(resp, &c) != 0)
		return EBADMSG;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return ENOMEM;
	d->callid = slice_strdup(req->callid);
	d->ltag = slice_strdup(req->from.tag);
	d->rtag = slice_strdup(resp->to.tag);
	d->lhdr = slice_strdup(sip_msg_hdr(req, SIP_HDR_FROM)->val);
	d->rhdr = slice_strdup(sip_msg_hdr(resp, SIP_HDR_TO)->val);
	d->target = slice_strdup(c.uri_s);
	/* RFC 3261 12.1.2: the response's Record-Route, reversed. */
	d->routes = route_set(resp, true);
	d->lseq = req->cseq.num;
	d->invite_cseq = req->cseq.num;
	d->secure = req->ruri.scheme == SIP_URI_SIPS;
	d->proto = proto;
	d->conn = sip_conn_ref(conn);
	if ((err = dialog_finish(d)) != 0)
		return err;
	*dp = d;
	return 0;
}

int
sip_dialog_uas(struct sip_dialog **dp, const struct sip_msg *req,
    const char *ltag, enum sip_proto proto, struct sip_conn *conn)
{
	struct sip_dialog *d;
	struct sip_addr c;
	struct buf b;
	int err;

	if (dp == NULL || req == NULL || ltag == NULL)
		return EINVAL;
	if (first_contact(req, &c) != 0) {
		/* RFC 2543 peers may omit Contact: the From URI is the target. */
		if (!sip_method_eq(req->method, "INVITE") ||
		    req->count[SIP_HDR_CONTACT] != 0)
			return EBADMSG;
		c = req->from;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return ENOMEM;
	d->callid = slice_strdup(req->callid);
	d->ltag = strdup(ltag);
	/* RFC 3261 12.1.1: a missing From tag is an empty remote tag. */
	d->rtag = slice_strdup(
	    slice_isset(req->from.tag) ? req->from.tag : SLICE_LIT(""));
	buf_init(&b);
	buf_append_slice(&b, sip_msg_hdr(req, SIP_HDR_TO)->val);
	if (!slice_isset(req->to.tag)) {
		BUF_LIT(&b, ";tag=");
		buf_append_str(&b, ltag);
	}
	buf_append(&b, "", 1);
	d->lhdr = b.err ? NULL : b.p;
	d->rhdr = slice_strdup(sip_msg_hdr(req, SIP_HDR_FROM)->val);
	d->target = slice_strdup(c.uri_s);
	d->routes = route_set(req, false);
	d->rseq = req->cseq.num;
	d->rseq_set = true;
	d->invite_cseq = req->cseq.num;
	d->secure = req->ruri.scheme == SIP_URI_SIPS;
	d->proto = proto;
	d->conn = sip_conn_ref(conn);
	if ((err = dialog_finish(d)) != 0)
		return err;
	*dp = d;
	return 0;
}

void
sip_dialog_free(struct sip_dialog *d)
{
	if (d == NULL)
		return;
	sip_conn_unref(d->conn);
	free(d->callid);
	free(d->ltag);
	free(d->rtag);
	free(d->lhdr);
	free(d->rhdr);
	free(d->target);
	free(d->routes);
	free(d);
}

bool
sip_dialog_match(const struct sip_dialog *d, const struct sip_msg *m)
{
	/* A request to us carries our tag in To; a response to us, in From. */
	struct slice ours = m->req ? m->to.tag : m->from.tag;
	struct slice theirs = m->req ? m->from.tag : m->to.tag;

	return slice_eq_cstr(m->callid, d->callid) &&
	       slice_eq_cstr(ours, d->ltag) &&
	       slice_eq_cstr(
	           slice_isset(theirs) ? theirs : SLICE_LIT(""), d->rtag);
}

int
sip_dialog_check_rseq(struct sip_dialog *d, const struct sip_msg *m)
{
	if (sip_method_eq(m->method, "ACK") ||
	    sip_method_eq(m->method, "CANCEL"))
		return 0;
	if (d->rseq_set && m->cseq.num < d->rseq)
		return EPROTO;
	d->rseq = m->cseq.num;
	d->rseq_set = true;
	return 0;
}

int
sip_dialog_set_target(struct sip_dialog *d, const struct sip_msg *m)
{
	struct sip_addr c;
	char *t;

	if (first_contact(m, &c) != 0)
		return EBADMSG;
	if ((t = slice_strdup(c.uri_s)) == NULL)
		return ENOMEM;
	free(d->target);
	d->target = t;
	return 0;
}

int
sip_dialog_request(struct sip_dialog *d, struct buf *b,
    struct sip_req_spec *spec, struct sip_uri *next_hop, char *hopbuf,
    size_t hopsz)
{
	struct slice routes = slice_cstr(d->routes), first = SLICE_NULL;
	struct slice rest = routes, ruri = slice_cstr(d->target);
	struct buf rb;
	struct sip_addr fr;
	int err;

	buf_init(&rb);
	if (routes.n && sip_list_next(&rest, &first) &&
	    sip_addr_parse(&fr, first) == 0) {
		struct slice lr;
		if (sip_param_get(fr.uri.params, "lr", &lr) != 0) {
			/*
			 * Strict routing (RFC 3261 12.2.1.1): the first route
			 * becomes the Request-URI, the target goes last.
			 */
			ruri = fr.uri_s;
			buf_append_slice(&rb, rest);
			if (rest.n)
				BUF_LIT(&rb, ", ");
			BUF_LIT(&rb, "<");
			buf_append_str(&rb, d->target);
			BUF_LIT(&rb, ">");
			routes = buf_slice(&rb);
		}
		if (hopbuf)
			slice_strlcpy(hopbuf, hopsz, fr.uri_s);
	} else if (hopbuf) {
		slice_strlcpy(hopbuf, hopsz, ruri);
	}
	if (next_hop && hopbuf &&
	    sip_uri_parse(next_hop, slice_cstr(hopbuf)) != 0) {
		buf_free(&rb);
		return EBADMSG;
	}

	spec->ruri = ruri;
	spec->routes = routes;
	spec->from = slice_cstr(d->lhdr);
	spec->to = slice_cstr(d->rhdr);
	spec->callid = slice_cstr(d->callid);
	if (strcmp(spec->method, "ACK") == 0)
		spec->cseq = d->invite_cseq;
	else
		spec->cseq = ++d->lseq;
	if (strcmp(spec->method, "INVITE") == 0)
		d->invite_cseq = spec->cseq;
	err = sip_req_build(b, spec);
	buf_free(&rb);
	return err;
}

int
sip_uri_dest(const struct sip_uri *u, struct sa *dst, enum sip_proto *proto)
{
	char host[256];
	struct slice tp;
	enum sip_proto p =
	    u->scheme == SIP_URI_SIPS ? SIP_PROTO_TLS : SIP_PROTO_UDP;

	if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
		return EINVAL;
	if (sip_param_get(u->params, "transport", &tp) == 0 &&
	    sip_proto_parse(tp, &p) != 0)
		return EINVAL;
	if (u->host.n == 0 || u->host.n >= sizeof(host))
		return EINVAL;
	slice_strlcpy(host, sizeof(host), u->host);
	uint16_t port = u->port ? u->port : (p == SIP_PROTO_TLS ? 5061 : 5060);
	if (sa_resolve(dst, host, port, 0) != 0)
		return ENOENT;
	*proto = p;
	return 0;
}
