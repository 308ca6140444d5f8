/* libFuzzer driver for the SIP message parser, stream framer and reply encoder, with invariant checks. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/slice.h"
#include "sip/enc.h"
#include "sip/msg.h"
#include "sip/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A broken invariant aborts, naming the check, so that libFuzzer keeps the
 * input as a crash artifact.
 */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			fail(__LINE__, #cond);                                 \
	} while (0)

static void
fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_msg.c:%d: invariant broken: %s\n", line, what);
	abort();
}

/* True when s is unset or lies within [p, p+n]; empty slices may sit at p+n. */
static bool
inside(struct slice s, const char *p, size_t n)
{
	uintptr_t sp = (uintptr_t)s.p, lo = (uintptr_t)p, hi = lo + n;

	if (s.p == NULL)
		return s.n == 0;
	return sp >= lo && sp <= hi && s.n <= hi - sp;
}

static bool
inside_slice(struct slice s, struct slice outer)
{
	return inside(s, outer.p, outer.n);
}

static void
check_uri(const struct sip_uri *u, struct slice text)
{
	CHECK(slice_eq(u->raw, text));
	CHECK(inside_slice(u->scheme_s, u->raw));
	CHECK(inside_slice(u->user, u->raw));
	CHECK(inside_slice(u->password, u->raw));
	CHECK(inside_slice(u->host, u->raw));
	CHECK(inside_slice(u->params, u->raw));
	CHECK(inside_slice(u->headers, u->raw));
	CHECK(inside_slice(u->opaque, u->raw));
	if (u->scheme == SIP_URI_SIP || u->scheme == SIP_URI_SIPS)
		CHECK(u->host.n > 0);
	CHECK(sip_uri_eq(u, u));
}

static void
check_addr(const struct sip_addr *a, struct slice text)
{
	CHECK(inside_slice(a->raw, text));
	CHECK(inside_slice(a->dname, a->raw));
	CHECK(inside_slice(a->params, a->raw));
	CHECK(inside_slice(a->tag, a->params));
	if (a->star)
		return;
	CHECK(inside_slice(a->uri_s, a->raw));
	check_uri(&a->uri, a->uri_s);
}

static void
check_via(const struct sip_via *v, struct slice text)
{
	CHECK(inside_slice(v->raw, text));
	CHECK(v->proto_name.n > 0 && inside_slice(v->proto_name, v->raw));
	CHECK(v->proto_ver.n > 0 && inside_slice(v->proto_ver, v->raw));
	CHECK(v->transport.n > 0 && inside_slice(v->transport, v->raw));
	CHECK(v->sentby.n > 0 && inside_slice(v->sentby, v->raw));
	CHECK(v->host.n > 0 && inside_slice(v->host, v->sentby));
	CHECK(!v->ipv6 || v->sentby.p[0] == '[');
	CHECK(inside_slice(v->params, v->raw));
	CHECK(inside_slice(v->branch, v->params));
	CHECK(inside_slice(v->received, v->params));
	CHECK(inside_slice(v->rport, v->params));
	CHECK(v->has_rport == slice_isset(v->rport));
}

/* Runs the parsers a caller would use on the headers it cares about. */
static void
exercise_headers(const struct sip_msg *m)
{
	static const enum sip_hdr_id addr_ids[] = {
	    SIP_HDR_ROUTE,
	    SIP_HDR_RECORD_ROUTE,
	    SIP_HDR_DIVERSION,
	    SIP_HDR_CALL_INFO,
	    SIP_HDR_REFER_TO,
	};
	const struct sip_hdr *h;
	struct sip_values it;
	struct slice v;

	for (size_t i = 0; i < sizeof(addr_ids) / sizeof(addr_ids[0]); i++) {
		sip_values_init(&it, m, addr_ids[i]);
		while (sip_values_next(&it, &v)) {
			struct sip_addr a;
			if (sip_addr_parse(&a, v) == 0)
				check_addr(&a, v);
		}
	}
	if ((h = sip_msg_hdr(m, SIP_HDR_EVENT)) != NULL) {
		struct sip_event e;
		if (sip_event_parse(&e, h->val) == 0) {
			CHECK(inside_slice(e.package, h->val));
			CHECK(inside_slice(e.id, h->val));
		}
	}
	if ((h = sip_msg_hdr(m, SIP_HDR_SUBSCRIPTION_STATE)) != NULL) {
		struct sip_substate ss;
		if (sip_substate_parse(&ss, h->val) == 0) {
			CHECK(inside_slice(ss.state, h->val));
			CHECK(inside_slice(ss.reason, h->val));
		}
	}
	for (unsigned i = 0; i < m->hdrc; i++) {
		struct sip_cseq c;
		struct slice pv;
		(void)sip_params_check(m->hdr[i].val);
		if (sip_cseq_parse(&c, m->hdr[i].val) == 0)
			CHECK(inside_slice(c.method, m->hdr[i].val));
		if (sip_param_get(m->hdr[i].val, "tag", &pv) == 0)
			CHECK(inside_slice(pv, m->hdr[i].val));
	}
	(void)sip_msg_has_token(m, SIP_HDR_SUPPORTED, "timer");
	(void)sip_msg_has_token(m, SIP_HDR_REQUIRE, "100rel");
	h = sip_msg_hdr_byname(m, "X-Custom");
	CHECK(h == NULL || h->id == SIP_HDR_OTHER);
	h = sip_msg_hdr_byname(m, "v");
	CHECK(h == sip_msg_hdr(m, SIP_HDR_VIA));
}

/* Every value of every header id: iteration ends and stays in its header. */
static void
check_values(const struct sip_msg *m)
{
	for (int id = 1; id < SIP_HDR__COUNT; id++) {
		struct sip_values it;
		struct slice v;
		size_t n = 0;

		sip_values_init(&it, m, (enum sip_hdr_id)id);
		while (sip_values_next(&it, &v)) {
			CHECK(++n <= m->len);
			CHECK(it.h != NULL && it.h->id == id);
			CHECK(inside_slice(v, it.h->val));
		}
	}
}

static void
check_msg(const struct sip_msg *m, const char *buf, size_t len, bool stream,
    const struct sip_limits *lim)
{
	uint16_t count[SIP_HDR__COUNT], first[SIP_HDR__COUNT];
	struct sip_values it;
	struct slice v, all = slice_make(buf, len);
	const struct sip_hdr *h;
	bool top = true;

	CHECK(m->buf == buf && m->len == len);
	CHECK(m->hdrc <= SIP_HDR_CAP && m->hdrc <= lim->max_headers);

	/* The header table: slices, ids, chains and counts agree. */
	memset(count, 0, sizeof(count));
	memset(first, 0, sizeof(first));
	for (unsigned i = 0; i < m->hdrc; i++) {
		h = &m->hdr[i];
		CHECK(h->name.n > 0 && inside_slice(h->name, all));
		CHECK(inside_slice(h->val, all));
		CHECK(h->val.p >= h->name.p + h->name.n);
		CHECK(h->id < SIP_HDR__COUNT);
		CHECK(h->id == sip_hdr_lookup(h->name));
		if (h->id == SIP_HDR_OTHER) {
			CHECK(h->next == 0);
			continue;
		}
		if (h->next) {
			CHECK(h->next > i + 1 && h->next <= m->hdrc);
			CHECK(m->hdr[h->next - 1].id == h->id);
		}
		if (count[h->id]++ == 0)
			first[h->id] = (uint16_t)(i + 1);
		/* Headers come in order and the body starts after them. */
		CHECK(h->val.p + h->val.n <= m->body.p);
	}
	for (int id = 1; id < SIP_HDR__COUNT; id++) {
		size_t n = 0;
		CHECK(m->count[id] == count[id] && m->first[id] == first[id]);
		for (h = sip_msg_hdr(m, (enum sip_hdr_id)id); h;
		     h = sip_msg_hdr_next(m, h))
			n++;
		CHECK(n == count[id]);
	}

	/* Start line. */
	if (m->req) {
		CHECK(m->method.n > 0 && inside_slice(m->method, all));
		CHECK(inside_slice(m->ruri_s, all));
		check_uri(&m->ruri, m->ruri_s);
		CHECK(m->scode == 0);
	} else {
		CHECK(m->scode >= 100 && m->scode <= 699);
		CHECK(inside_slice(m->reason, all));
	}

	/* The typed copies match the headers they came from. */
	check_via(&m->via, all);
	sip_values_init(&it, m, SIP_HDR_VIA);
	while (sip_values_next(&it, &v)) {
		struct sip_via via;
		CHECK(sip_via_parse(&via, v) == 0);
		check_via(&via, v);
		if (top)
			CHECK(via.raw.p == m->via.raw.p &&
			      via.raw.n == m->via.raw.n);
		top = false;
	}
	CHECK(!top);
	CHECK(!m->from.star && !m->to.star);
	check_addr(&m->from, sip_msg_hdr(m, SIP_HDR_FROM)->val);
	check_addr(&m->to, sip_msg_hdr(m, SIP_HDR_TO)->val);
	CHECK(m->callid.n > 0 &&
	      slice_eq(m->callid, sip_msg_hdr(m, SIP_HDR_CALL_ID)->val));
	CHECK(m->cseq.num <= 0x7fffffffu && m->cseq.method.n > 0);
	CHECK(inside_slice(m->cseq.method, sip_msg_hdr(m, SIP_HDR_CSEQ)->val));
	if (m->req)
		CHECK(slice_eq(m->cseq.method, m->method));
	CHECK(!m->has_maxfwd || m->maxfwd <= 255);
	CHECK(m->has_maxfwd == (m->count[SIP_HDR_MAX_FORWARDS] == 1));
	CHECK(m->has_expires == (m->count[SIP_HDR_EXPIRES] == 1));
	if ((h = sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE)) != NULL) {
		CHECK(m->ctype.type.n > 0 && m->ctype.subtype.n > 0);
		CHECK(inside_slice(m->ctype.type, h->val));
		CHECK(inside_slice(m->ctype.params, h->val));
	}
	sip_values_init(&it, m, SIP_HDR_CONTACT);
	while (sip_values_next(&it, &v)) {
		struct sip_addr a;
		CHECK(sip_addr_parse(&a, v) == 0);
		check_addr(&a, v);
	}

	/* Body: framed by Content-Length, inside the buffer. */
	CHECK(inside_slice(m->body, all) && m->body.p != NULL);
	CHECK(m->body.n == m->clen && m->clen <= lim->max_body);
	CHECK(m->has_clen == (m->count[SIP_HDR_CONTENT_LENGTH] == 1));
	if (stream && !m->has_clen)
		CHECK(m->clen == 0);
	if (!stream && !m->has_clen)
		CHECK(m->body.p + m->body.n == buf + len);

	check_values(m);
	exercise_headers(m);
}

static const struct sip_limits lim_default = SIP_LIMITS_DEFAULT;
static const struct sip_limits lim_tight = {
    .max_start_line = 64,
    .max_headers = 8,
    .max_header_bytes = 512,
    .max_body = 64,
};

static struct sip_msg req, msg2, rep;

/*
 * A reply to an accepted request must parse too, and carry the request's
 * transaction and dialog identifiers. It is parsed with room for the
 * expansion of compact header names and the added lines.
 */
static void
check_reply(const struct sip_msg *m, size_t pick)
{
	static const uint16_t codes[] = {
	    100, 180, 200, 302, 404, 486, 503, 603};
	uint16_t code = codes[pick % (sizeof(codes) / sizeof(codes[0]))];
	struct slice tag = SLICE_LIT("fz8ac1"), sdp = SLICE_LIT("v=0\r\n");
	struct slice extra =
	    SLICE_LIT("Contact: <sip:fuzz@127.0.0.1:5060>\r\n");
	struct slice ctype = SLICE_LIT("application/sdp");
	struct sip_limits lim = lim_default;
	struct sip_perr err;
	struct sip_values it1, it2;
	struct slice v1, v2;
	size_t skip, mlen;
	struct buf b;
	bool body = code == 200;

	buf_init(&b);
	CHECK(sip_enc_reply(&b, m, code, NULL, tag, extra,
	          body ? ctype : SLICE_NULL, body ? sdp : SLICE_NULL) == 0);
	lim.max_headers = SIP_HDR_CAP;
	lim.max_header_bytes = b.len + 1;

	for (int stream = 0; stream < 2; stream++) {
		if (sip_msg_parse(&rep, b.p, b.len, stream, &lim, &err) != 0) {
			fprintf(stderr, "reply does not parse: %s\n%.*s\n",
			    err.reason, (int)b.len, b.p);
			fail(__LINE__, "reply to an accepted request parses");
		}
		check_msg(&rep, b.p, b.len, stream, &lim);
		CHECK(!rep.req && rep.scode == code);
		CHECK(slice_eq(rep.callid, m->callid));
		CHECK(rep.cseq.num == m->cseq.num &&
		      slice_eq(rep.cseq.method, m->cseq.method));
		CHECK(slice_eq(rep.from.tag, m->from.tag));
		if (slice_isset(m->to.tag) || code == 100)
			CHECK(slice_eq(rep.to.tag, m->to.tag));
		else
			CHECK(slice_eq(rep.to.tag, tag));
		CHECK(slice_eq(rep.body, body ? sdp : SLICE_NULL));
		sip_values_init(&it1, m, SIP_HDR_VIA);
		sip_values_init(&it2, &rep, SIP_HDR_VIA);
		for (;;) {
			bool n1 = sip_values_next(&it1, &v1);
			bool n2 = sip_values_next(&it2, &v2);
			CHECK(n1 == n2);
			if (!n1)
				break;
			CHECK(slice_eq(v1, v2));
		}
	}
	CHECK(sip_msg_frame(b.p, b.len, &lim, &skip, &mlen, &err) == 0);
	CHECK(skip == 0 && mlen == b.len);
	buf_free(&b);
}

/* Frames messages off the input as a connection would, parsing each one. */
static void
check_stream(const char *buf, size_t len)
{
	size_t off = 0;

	for (int i = 0; i < 64 && off < len; i++) {
		struct sip_perr err;
		size_t skip, mlen;
		int rc;

		rc = sip_msg_frame(
		    buf + off, len - off, &lim_default, &skip, &mlen, &err);
		CHECK(rc == 0 || rc == ENODATA || rc == EBADMSG ||
		      rc == EMSGSIZE);
		if (rc != 0)
			return;
		CHECK(
		    mlen > 0 && skip <= len - off && mlen <= len - off - skip);
		off += skip;
		if (sip_msg_parse(&msg2, buf + off, mlen, true, &lim_default,
		        &err) == 0) {
			check_msg(&msg2, buf + off, mlen, true, &lim_default);
			/* Parser and framer agree on where the message ends. */
			CHECK(msg2.body.p + msg2.body.n == buf + off + mlen);
		}
		off += mlen;
	}
}

/* Every canonical header name maps back to its id, in any case. */
static void
check_names(void)
{
	for (int id = 1; id < SIP_HDR__COUNT; id++) {
		const char *name = sip_hdr_name((enum sip_hdr_id)id);
		char flip[32];
		size_t n = strlen(name);

		CHECK(n < sizeof(flip));
		CHECK((int)sip_hdr_lookup(slice_make(name, n)) == id);
		for (size_t i = 0; i < n; i++) {
			char c = name[i];
			flip[i] = (char)(c >= 'a' && c <= 'z'   ? c - 32
			                 : c >= 'A' && c <= 'Z' ? c + 32
			                                        : c);
		}
		CHECK((int)sip_hdr_lookup(slice_make(flip, n)) == id);
		/* One octet short or one more is another name ("T" is To). */
		if (n > 2)
			CHECK(
			    (int)sip_hdr_lookup(slice_make(name, n - 1)) != id);
		flip[n] = 'x';
		CHECK((int)sip_hdr_lookup(slice_make(flip, n + 1)) != id);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool names_checked;
	const char *buf = (const char *)data;
	struct sip_perr err;
	size_t skip, mlen;
	bool dgram_ok;

	if (!names_checked) {
		check_names();
		names_checked = true;
	}
	/* Datagram. */
	dgram_ok =
	    sip_msg_parse(&req, buf, size, false, &lim_default, &err) == 0;
	if (dgram_ok) {
		check_msg(&req, buf, size, false, &lim_default);
		if (req.req)
			check_reply(&req, size);
	} else {
		CHECK(err.reason[0] != '\0');
		CHECK(!err.can_reply || req.req);
		if (err.can_reply) {
			/* A 400 to a broken request must not crash the encoder. */
			struct buf b;
			buf_init(&b);
			(void)sip_enc_reply(&b, &req,
			    err.status ? err.status : 400, err.reason,
			    SLICE_LIT("fz1"), SLICE_NULL, SLICE_NULL,
			    SLICE_NULL);
			buf_free(&b);
		}
	}

	/* One framed stream message. */
	if (sip_msg_parse(&msg2, buf, size, true, &lim_default, &err) == 0) {
		check_msg(&msg2, buf, size, true, &lim_default);
		if (dgram_ok)
			CHECK(msg2.hdrc == req.hdrc && msg2.req == req.req &&
			      slice_eq(msg2.callid, req.callid));
		if (size && buf[0] != '\r' && buf[0] != '\n') {
			/* What the parser accepts, the framer frames alike. */
			CHECK(sip_msg_frame(buf, size, &lim_default, &skip,
			          &mlen, &err) == 0);
			CHECK(skip == 0 &&
			      buf + mlen == msg2.body.p + msg2.body.n);
		}
		if (msg2.req)
			check_reply(&msg2, size + 1);
	}

	/* Tight limits take the other paths. */
	if (sip_msg_parse(&msg2, buf, size, false, &lim_tight, &err) == 0)
		check_msg(&msg2, buf, size, false, &lim_tight);

	check_stream(buf, size);
	return 0;
}
