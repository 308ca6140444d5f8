/* SIP message parser: framing, start line, header table and validation. */
#include "sip/msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sip/lex.h"

struct hdr_name {
	const char *name;
	char compact;
};

static const struct hdr_name hdr_names[SIP_HDR__COUNT] = {
    [SIP_HDR_ACCEPT] = {"Accept", 0},
    [SIP_HDR_ALLOW] = {"Allow", 0},
    [SIP_HDR_ALLOW_EVENTS] = {"Allow-Events", 'u'},
    [SIP_HDR_AUTHORIZATION] = {"Authorization", 0},
    [SIP_HDR_CALL_ID] = {"Call-ID", 'i'},
    [SIP_HDR_CALL_INFO] = {"Call-Info", 0},
    [SIP_HDR_CONTACT] = {"Contact", 'm'},
    [SIP_HDR_CONTENT_ENCODING] = {"Content-Encoding", 'e'},
    [SIP_HDR_CONTENT_LENGTH] = {"Content-Length", 'l'},
    [SIP_HDR_CONTENT_TYPE] = {"Content-Type", 'c'},
    [SIP_HDR_CSEQ] = {"CSeq", 0},
    [SIP_HDR_DATE] = {"Date", 0},
    [SIP_HDR_DIVERSION] = {"Diversion", 0},
    [SIP_HDR_EVENT] = {"Event", 'o'},
    [SIP_HDR_EXPIRES] = {"Expires", 0},
    [SIP_HDR_FROM] = {"From", 'f'},
    [SIP_HDR_MAX_FORWARDS] = {"Max-Forwards", 0},
    [SIP_HDR_MIN_EXPIRES] = {"Min-Expires", 0},
    [SIP_HDR_PROXY_AUTHENTICATE] = {"Proxy-Authenticate", 0},
    [SIP_HDR_PROXY_AUTHORIZATION] = {"Proxy-Authorization", 0},
    [SIP_HDR_PROXY_REQUIRE] = {"Proxy-Require", 0},
    [SIP_HDR_RECORD_ROUTE] = {"Record-Route", 0},
    [SIP_HDR_REFER_TO] = {"Refer-To", 'r'},
    [SIP_HDR_REQUIRE] = {"Require", 0},
    [SIP_HDR_ROUTE] = {"Route", 0},
    [SIP_HDR_SERVER] = {"Server", 0},
    [SIP_HDR_SESSION_EXPIRES] = {"Session-Expires", 'x'},
    [SIP_HDR_SUBJECT] = {"Subject", 's'},
    [SIP_HDR_SUBSCRIPTION_STATE] = {"Subscription-State", 0},
    [SIP_HDR_SUPPORTED] = {"Supported", 'k'},
    [SIP_HDR_TO] = {"To", 't'},
    [SIP_HDR_UNSUPPORTED] = {"Unsupported", 0},
    [SIP_HDR_USER_AGENT] = {"User-Agent", 0},
    [SIP_HDR_VIA] = {"Via", 'v'},
    [SIP_HDR_WWW_AUTHENTICATE] = {"WWW-Authenticate", 0},
};

const char *
sip_hdr_name(enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_HDR__COUNT)
		return NULL;
	return hdr_names[id].name;
}

enum sip_hdr_id
sip_hdr_lookup(struct slice name)
{
	if (name.n == 0)
		return SIP_HDR_OTHER;
	if (name.n == 1) {
		char c = (char)(name.p[0] | 0x20);
		for (int i = 1; i < SIP_HDR__COUNT; i++) {
			if (hdr_names[i].compact == c)
				return (enum sip_hdr_id)i;
		}
		return SIP_HDR_OTHER;
	}
	/*
	 * Few names share a first letter and length; checking both before
	 * strncasecmp keeps this to about one comparison per header.
	 */
	char first = (char)(name.p[0] | 0x20);
	for (int i = 1; i < SIP_HDR__COUNT; i++) {
		const char *n = hdr_names[i].name;
		if ((n[0] | 0x20) == first && strlen(n) == name.n &&
		    strncasecmp(n, name.p, name.n) == 0)
			return (enum sip_hdr_id)i;
	}
	return SIP_HDR_OTHER;
}

static void
perr_set(struct sip_perr *e, uint16_t status, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL || e->reason[0])
		return; /* keep the first problem found */
	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
}

/* Finds "\r\n\r\n" in [p, p+n); returns the offset after it or 0. */
static size_t
find_hdr_end(const char *p, size_t n)
{
	const char *q = p, *end = p + n;

	while (q < end) {
		q = memchr(q, '\n', (size_t)(end - q));
		if (q == NULL)
			return 0;
		/* q at '\n'; need "\r\n\r\n" ending here: q-3..q */
		if (q - p >= 3 && q[-1] == '\r' && q[-2] == '\n' &&
		    q[-3] == '\r')
			return (size_t)(q + 1 - p);
		q++;
	}
	return 0;
}

/* Parses a Content-Length value (digits, LWS around). */
static int
parse_clen(struct slice v, size_t max, size_t *out)
{
	uint64_t n;
	int r;

	v = slice_trim(v);
	r = slice_u64(v, UINT32_MAX, &n);
	if (r == ERANGE)
		return EMSGSIZE;
	if (r)
		return EBADMSG;
	if (n > max)
		return EMSGSIZE;
	*out = (size_t)n;
	return 0;
}

/* True when a header line starting at p is named Content-Length or l. */
static bool
line_is_clen(const char *p, const char *end, struct slice *val)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));
	struct slice name;

	if (colon == NULL)
		return false;
	name = slice_trim(slice_make(p, (size_t)(colon - p)));
	if (!slice_caseeq_cstr(name, "content-length") &&
	    !slice_caseeq_cstr(name, "l"))
		return false;
	*val = slice_make(colon + 1, (size_t)(end - colon - 1));
	return true;
}

int
sip_msg_frame(const char *buf, size_t len, const struct sip_limits *lim,
    size_t *skip, size_t *msglen, struct sip_perr *err)
{
	size_t s = 0, hend, clen = 0, avail;
	bool have_clen = false;

	while (s < len && (buf[s] == '\r' || buf[s] == '\n'))
		s++;
	*skip = s;
	*msglen = 0;
	if (s == len)
		return ENODATA;
	avail = len - s;
	hend = find_hdr_end(buf + s,
	    avail < lim->max_header_bytes ? avail : lim->max_header_bytes);
	if (hend == 0) {
		if (avail >= lim->max_header_bytes) {
			perr_set(err, 413, "Header section exceeds %zu bytes",
			    lim->max_header_bytes);
			return EMSGSIZE;
		}
		return ENODATA;
	}

	/* Walk the header lines for Content-Length; folded lines continue. */
	const char *p = buf + s, *end = buf + s + hend;
	const char *line = memchr(p, '\n', (size_t)(end - p));
	if (line == NULL)
		return EBADMSG;
	line++;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			break;
		while (nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t')) {
			const char *nn = memchr(nl + 1, '\n',
			    (size_t)(end - nl - 1));
			if (nn == NULL)
				break;
			nl = nn;
		}
		struct slice v;
		if (line_is_clen(line, nl, &v)) {
			size_t n;
			int r = parse_clen(v, lim->max_body, &n);
			if (r == EMSGSIZE) {
				perr_set(err, 413, "Content-Length exceeds %zu",
				    lim->max_body);
				return EMSGSIZE;
			}
			if (r || (have_clen && n != clen)) {
				perr_set(err, 400, "Bad Content-Length");
				return EBADMSG;
			}
			clen = n;
			have_clen = true;
		}
		line = nl + 1;
	}
	if (avail - hend < clen)
		return ENODATA;
	*msglen = hend + clen;
	return 0;
}

/* Request-Line: Method SP Request-URI SP SIP-Version (exactly). */
static int
parse_request_line(struct sip_msg *m, struct slice l, struct sip_perr *err)
{
	const char *p = l.p, *end = l.p + l.n;
	const char *sp1, *sp2;

	sp1 = memchr(p, ' ', l.n);
	sp2 = NULL;
	for (const char *q = end; q > p; q--) {
		if (q[-1] == ' ') {
			sp2 = q - 1;
			break;
		}
	}
	if (sp1 == NULL || sp2 == NULL || sp2 == sp1) {
		perr_set(err, 400, "Malformed Request-Line");
		return EBADMSG;
	}
	m->method = slice_make(p, (size_t)(sp1 - p));
	m->ruri_s = slice_make(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	struct slice ver = slice_make(sp2 + 1, (size_t)(end - sp2 - 1));

	if (m->method.n == 0 || lex_token(m->method.p, sp1) != sp1) {
		perr_set(err, 400, "Malformed method in Request-Line");
		return EBADMSG;
	}
	if (ver.n < 5 || strncasecmp(ver.p, "SIP/", 4) != 0) {
		perr_set(err, 400, "Malformed SIP-Version in Request-Line");
		return EBADMSG;
	}
	if (!slice_eq_cstr(slice_make(ver.p + 4, ver.n - 4), "2.0")) {
		perr_set(err, 505, "Version Not Supported");
		return EBADMSG;
	}
	for (size_t i = 0; i < m->ruri_s.n; i++) {
		char c = m->ruri_s.p[i];
		if (c == ' ' || c == '\t') {
			perr_set(err, 400, "Whitespace in Request-URI");
			return EBADMSG;
		}
	}
	if (sip_uri_parse(&m->ruri, m->ruri_s)) {
		perr_set(err, 400, "Malformed Request-URI");
		return EBADMSG;
	}
	return 0;
}

/* Status-Line: SIP-Version SP Status-Code SP Reason-Phrase. */
static int
parse_status_line(struct sip_msg *m, struct slice l, struct sip_perr *err)
{
	const char *p = l.p, *end = l.p + l.n;

	if (l.n < 12 || strncasecmp(p, "SIP/2.0 ", 8) != 0) {
		perr_set(err, 0, "Malformed Status-Line");
		return EBADMSG;
	}
	p += 8;
	if (!lex_is((unsigned char)p[0], LEX_DIGIT) ||
	    !lex_is((unsigned char)p[1], LEX_DIGIT) ||
	    !lex_is((unsigned char)p[2], LEX_DIGIT) || p[0] < '1' ||
	    p[0] > '6' || (p + 3 < end && p[3] != ' ')) {
		perr_set(err, 0, "Malformed Status-Code");
		return EBADMSG;
	}
	m->scode = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 +
	    (p[2] - '0'));
	p += 3;
	if (p < end)
		p++;
	m->reason = slice_make(p, (size_t)(end - p));
	for (size_t i = 0; i < m->reason.n; i++) {
		unsigned char c = (unsigned char)m->reason.p[i];
		if (c < 0x20 && c != '\t') {
			perr_set(err, 0, "Control character in Reason-Phrase");
			return EBADMSG;
		}
	}
	return 0;
}

/* True for header ids that may appear only once per message. */
static bool
hdr_is_single(enum sip_hdr_id id)
{
	switch (id) {
	case SIP_HDR_CALL_ID:
	case SIP_HDR_CONTENT_LENGTH:
	case SIP_HDR_CONTENT_TYPE:
	case SIP_HDR_CSEQ:
	case SIP_HDR_EXPIRES:
	case SIP_HDR_FROM:
	case SIP_HDR_MAX_FORWARDS:
	case SIP_HDR_TO:
		return true;
	default:
		return false;
	}
}

/* Splits the header section into the header table. */
static int
split_headers(struct sip_msg *m, const char *p, const char *end,
    const struct sip_limits *lim, struct sip_perr *err)
{
	unsigned maxh = lim->max_headers < SIP_HDR_CAP ? lim->max_headers
						       : SIP_HDR_CAP;
	uint16_t last[SIP_HDR__COUNT];
	int rc = 0;

	memset(last, 0, sizeof(last));
	while (p < end) {
		const char *nl, *colon, *ne;
		struct slice name, val;

		if (*p == ' ' || *p == '\t') {
			perr_set(err, 400, "Continuation line without header");
			return EBADMSG;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL || nl == p || nl[-1] != '\r') {
			perr_set(err, 400, "Header line not ended by CRLF");
			return EBADMSG;
		}
		/* Folding: a line starting with SP or HT continues this one. */
		while (nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t')) {
			const char *nn = memchr(nl + 1, '\n',
			    (size_t)(end - nl - 1));
			if (nn == NULL || nn[-1] != '\r') {
				perr_set(err, 400,
				    "Header line not ended by CRLF");
				return EBADMSG;
			}
			nl = nn;
		}
		ne = lex_token(p, nl);
		name = slice_make(p, (size_t)(ne - p));
		colon = lex_skip_lws(ne, nl - 1);
		if (name.n == 0 || colon >= nl - 1 || *colon != ':') {
			perr_set(err, 400, "Malformed header line");
			rc = EBADMSG;
			p = nl + 1;
			continue;
		}
		val = slice_trim(slice_make(colon + 1,
		    (size_t)(nl - 1 - colon - 1)));
		if (m->hdrc >= maxh) {
			perr_set(err, 400, "More than %u header lines", maxh);
			return EBADMSG;
		}
		struct sip_hdr *h = &m->hdr[m->hdrc];
		enum sip_hdr_id id = sip_hdr_lookup(name);
		h->name = name;
		h->val = val;
		h->id = (uint16_t)id;
		h->next = 0;
		m->hdrc++;
		if (id != SIP_HDR_OTHER) {
			if (last[id])
				m->hdr[last[id] - 1].next = (uint16_t)m->hdrc;
			else
				m->first[id] = (uint16_t)m->hdrc;
			last[id] = (uint16_t)m->hdrc;
			m->count[id]++;
		}
		p = nl + 1;
	}
	return rc;
}

const struct sip_hdr *
sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_HDR__COUNT || id == SIP_HDR_OTHER ||
	    m->first[id] == 0)
		return NULL;
	return &m->hdr[m->first[id] - 1];
}

const struct sip_hdr *
sip_msg_hdr_next(const struct sip_msg *m, const struct sip_hdr *h)
{
	if (h == NULL || h->next == 0)
		return NULL;
	return &m->hdr[h->next - 1];
}

const struct sip_hdr *
sip_msg_hdr_byname(const struct sip_msg *m, const char *name)
{
	struct slice n = slice_cstr(name);
	enum sip_hdr_id id = sip_hdr_lookup(n);

	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(m, id);
	for (unsigned i = 0; i < m->hdrc; i++) {
		if (m->hdr[i].id == SIP_HDR_OTHER &&
		    slice_casecmp_eq(m->hdr[i].name, n))
			return &m->hdr[i];
	}
	return NULL;
}

bool
sip_list_next(struct slice *rest, struct slice *v)
{
	const char *p = rest->p, *end = rest->p + rest->n, *s;
	int angle = 0;

	for (;;) {
		p = lex_skip_lws(p, end);
		if (p >= end)
			return false;
		if (*p != ',')
			break;
		p++; /* empty list elements are skipped (RFC 7230-style) */
	}
	s = p;
	while (p < end) {
		if (*p == '"') {
			const char *q = lex_quoted(p, end);
			p = q ? q : end;
			continue;
		}
		if (*p == '<')
			angle = 1;
		else if (*p == '>')
			angle = 0;
		else if (*p == ',' && !angle)
			break;
		p++;
	}
	*v = slice_trim(slice_make(s, (size_t)(p - s)));
	if (p < end)
		p++;
	*rest = slice_make(p, (size_t)(end - p));
	return true;
}

void
sip_values_init(struct sip_values *it, const struct sip_msg *m,
    enum sip_hdr_id id)
{
	it->m = m;
	it->h = sip_msg_hdr(m, id);
	it->rest = it->h ? it->h->val : SLICE_NULL;
}

bool
sip_values_next(struct sip_values *it, struct slice *v)
{
	while (it->h) {
		if (sip_list_next(&it->rest, v))
			return true;
		it->h = sip_msg_hdr_next(it->m, it->h);
		it->rest = it->h ? it->h->val : SLICE_NULL;
	}
	return false;
}

bool
sip_msg_has_token(const struct sip_msg *m, enum sip_hdr_id id, const char *tok)
{
	struct sip_values it;
	struct slice v;

	sip_values_init(&it, m, id);
	while (sip_values_next(&it, &v)) {
		if (slice_caseeq_cstr(v, tok))
			return true;
	}
	return false;
}

bool
sip_method_eq(struct slice m, const char *name)
{
	return slice_eq_cstr(m, name);
}

/* Parses one generic-param: token [ = ( token / host / quoted-string ) ]. */
static const char *
param_one(const char *p, const char *end, struct slice *name,
    struct slice *val)
{
	const char *ns = p;

	p = lex_token(p, end);
	if (p == ns)
		return NULL;
	*name = slice_make(ns, (size_t)(p - ns));
	*val = slice_make(p, 0);
	const char *q = lex_skip_lws(p, end);
	if (q < end && *q == '=') {
		q = lex_skip_lws(q + 1, end);
		const char *vs = q;
		if (q < end && *q == '"') {
			q = lex_quoted(q, end);
			if (q == NULL)
				return NULL;
		} else if (q < end && *q == '[') {
			const char *rb = memchr(q, ']', (size_t)(end - q));
			if (rb == NULL)
				return NULL;
			q = rb + 1;
		} else {
			/* token, or an IPv6 address as in received=::1 */
			while (q < end && (lex_is((unsigned char)*q, LEX_TOKEN) ||
					      *q == ':'))
				q++;
			if (q == vs)
				return NULL;
		}
		*val = slice_make(vs, (size_t)(q - vs));
		return q;
	}
	return p;
}

int
sip_params_check(struct slice params)
{
	const char *p = params.p, *end = params.p + params.n;
	struct slice n, v;

	for (;;) {
		p = lex_skip_lws(p, end);
		if (p >= end)
			return 0;
		if (*p != ';')
			return EBADMSG;
		p = lex_skip_lws(p + 1, end);
		p = param_one(p, end, &n, &v);
		if (p == NULL)
			return EBADMSG;
	}
}

int
sip_addr_parse(struct sip_addr *a, struct slice s)
{
	const char *p, *end, *us, *ue;

	memset(a, 0, sizeof(*a));
	s = slice_trim(s);
	a->raw = s;
	p = s.p;
	end = s.p + s.n;
	if (s.n == 0)
		return EBADMSG;
	if (*p == '*') {
		const char *q = lex_skip_lws(p + 1, end);
		if (q == end || *q == ';') {
			a->star = true;
			a->params = slice_make(q, (size_t)(end - q));
			return sip_params_check(a->params);
		}
	}

	if (*p == '"') {
		const char *q = lex_quoted(p, end);
		if (q == NULL)
			return EBADMSG;
		a->dname = slice_make(p + 1, (size_t)(q - p - 2));
		p = lex_skip_lws(q, end);
		if (p >= end || *p != '<')
			return EBADMSG;
	} else {
		/* name-addr with a token display name, or a plain addr-spec */
		const char *lt = memchr(p, '<', s.n);
		const char *semi = memchr(p, ';', s.n);
		if (lt && (semi == NULL || lt < semi)) {
			const char *q = p;
			while (q < lt) {
				const char *t = lex_token(q, lt);
				if (t == q)
					return EBADMSG;
				q = lex_skip_lws(t, lt);
			}
			if (lt > p)
				a->dname = slice_trim(
				    slice_make(p, (size_t)(lt - p)));
			p = lt;
		}
	}

	if (*p == '<') {
		us = p + 1;
		ue = memchr(us, '>', (size_t)(end - us));
		if (ue == NULL)
			return EBADMSG;
		p = ue + 1;
	} else {
		/*
		 * addr-spec without brackets: parameters after it belong to the
		 * header (RFC 3261 20.10), so the URI ends at the first ';'.
		 */
		us = p;
		ue = p;
		while (ue < end && *ue != ';' && *ue != ' ' && *ue != '\t' &&
		    *ue != '\r')
			ue++;
		p = ue;
	}
	a->uri_s = slice_make(us, (size_t)(ue - us));
	if (sip_uri_parse(&a->uri, a->uri_s))
		return EBADMSG;
	a->params = slice_make(p, (size_t)(end - p));
	if (sip_params_check(a->params))
		return EBADMSG;
	if (sip_param_get(a->params, "tag", &a->tag) != 0)
		a->tag = SLICE_NULL;
	return 0;
}

int
sip_via_parse(struct sip_via *v, struct slice s)
{
	const char *p, *end, *t;

	memset(v, 0, sizeof(*v));
	s = slice_trim(s);
	v->raw = s;
	p = s.p;
	end = s.p + s.n;

	/* sent-protocol = name SLASH version SLASH transport, SLASH = SWS "/" SWS */
	t = lex_token(p, end);
	if (t == p)
		return EBADMSG;
	v->proto_name = slice_make(p, (size_t)(t - p));
	p = lex_skip_lws(t, end);
	if (p >= end || *p != '/')
		return EBADMSG;
	p = lex_skip_lws(p + 1, end);
	t = lex_token(p, end);
	if (t == p)
		return EBADMSG;
	v->proto_ver = slice_make(p, (size_t)(t - p));
	p = lex_skip_lws(t, end);
	if (p >= end || *p != '/')
		return EBADMSG;
	p = lex_skip_lws(p + 1, end);
	t = lex_token(p, end);
	if (t == p)
		return EBADMSG;
	v->transport = slice_make(p, (size_t)(t - p));
	p = lex_skip_lws(t, end);
	if (p == t)
		return EBADMSG; /* LWS is required before sent-by */

	/* sent-by = host [ COLON port ] */
	const char *hs = p;
	if (p < end && *p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (rb == NULL)
			return EBADMSG;
		p = rb + 1;
	} else {
		while (p < end && lex_is((unsigned char)*p, LEX_HOST))
			p++;
	}
	const char *he = p;
	const char *q = lex_skip_lws(p, end);
	if (q < end && *q == ':') {
		q = lex_skip_lws(q + 1, end);
		const char *ps = q;
		while (q < end && lex_is((unsigned char)*q, LEX_DIGIT))
			q++;
		uint64_t port;
		if (slice_u64(slice_make(ps, (size_t)(q - ps)), 65535, &port) ||
		    port == 0)
			return EBADMSG;
		v->port = (uint16_t)port;
		p = q;
	}
	if (he == hs)
		return EBADMSG;
	v->sentby = slice_make(hs, (size_t)(p - hs));
	if (*hs == '[') {
		v->host = slice_make(hs + 1, (size_t)(he - hs - 2));
		v->ipv6 = true;
		if (v->host.n == 0)
			return EBADMSG;
	} else {
		v->host = slice_make(hs, (size_t)(he - hs));
	}

	v->params = slice_make(p, (size_t)(end - p));
	if (sip_params_check(v->params))
		return EBADMSG;
	if (sip_param_get(v->params, "branch", &v->branch) != 0)
		v->branch = SLICE_NULL;
	if (sip_param_get(v->params, "received", &v->received) != 0)
		v->received = SLICE_NULL;
	if (sip_param_get(v->params, "rport", &v->rport) == 0)
		v->has_rport = true;
	else
		v->rport = SLICE_NULL;
	return 0;
}

int
sip_cseq_parse(struct sip_cseq *c, struct slice s)
{
	const char *p = s.p, *end = s.p + s.n, *ds;
	uint64_t n;

	memset(c, 0, sizeof(*c));
	p = lex_skip_lws(p, end);
	ds = p;
	while (p < end && lex_is((unsigned char)*p, LEX_DIGIT))
		p++;
	/* RFC 3261 8.1.1.5: the sequence number MUST be less than 2**31. */
	if (slice_u64(slice_make(ds, (size_t)(p - ds)), 0x7fffffffu, &n))
		return EBADMSG;
	const char *ms = lex_skip_lws(p, end);
	if (ms == p)
		return EBADMSG;
	const char *me = lex_token(ms, end);
	if (me == ms || lex_skip_lws(me, end) != end)
		return EBADMSG;
	c->num = (uint32_t)n;
	c->method = slice_make(ms, (size_t)(me - ms));
	return 0;
}

int
sip_ctype_parse(struct sip_ctype *c, struct slice s)
{
	const char *p = s.p, *end = s.p + s.n, *t;

	memset(c, 0, sizeof(*c));
	p = lex_skip_lws(p, end);
	t = lex_token(p, end);
	if (t == p)
		return EBADMSG;
	c->type = slice_make(p, (size_t)(t - p));
	p = lex_skip_lws(t, end);
	if (p >= end || *p != '/')
		return EBADMSG;
	p = lex_skip_lws(p + 1, end);
	t = lex_token(p, end);
	if (t == p)
		return EBADMSG;
	c->subtype = slice_make(p, (size_t)(t - p));
	c->params = slice_make(t, (size_t)(end - t));
	return sip_params_check(c->params);
}

int
sip_event_parse(struct sip_event *e, struct slice s)
{
	const char *p = s.p, *end = s.p + s.n, *t;

	memset(e, 0, sizeof(*e));
	p = lex_skip_lws(p, end);
	t = lex_token(p, end);
	if (t == p)
		return EBADMSG;
	e->package = slice_make(p, (size_t)(t - p));
	struct slice params = slice_make(t, (size_t)(end - t));
	if (sip_params_check(params))
		return EBADMSG;
	if (sip_param_get(params, "id", &e->id))
		e->id = SLICE_NULL;
	return 0;
}

int
sip_substate_parse(struct sip_substate *ss, struct slice s)
{
	const char *p = s.p, *end = s.p + s.n, *t;
	struct slice v;

	memset(ss, 0, sizeof(*ss));
	p = lex_skip_lws(p, end);
	t = lex_token(p, end);
	if (t == p)
		return EBADMSG;
	ss->state = slice_make(p, (size_t)(t - p));
	struct slice params = slice_make(t, (size_t)(end - t));
	if (sip_params_check(params))
		return EBADMSG;
	if (sip_param_get(params, "reason", &ss->reason))
		ss->reason = SLICE_NULL;
	if (sip_param_get(params, "expires", &v) == 0) {
		uint64_t n;
		if (slice_u64(v, UINT32_MAX, &n))
			return EBADMSG;
		ss->expires = (uint32_t)n;
		ss->has_expires = true;
	}
	return 0;
}

/* Validates the typed headers every message carries; fills the copies. */
static int
check_headers(struct sip_msg *m, struct sip_perr *err)
{
	static const enum sip_hdr_id required[] = {
	    SIP_HDR_VIA, SIP_HDR_FROM, SIP_HDR_TO, SIP_HDR_CALL_ID,
	    SIP_HDR_CSEQ,
	};
	uint16_t st = m->req ? 400 : 0;
	const struct sip_hdr *h;
	uint64_t n;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (m->count[required[i]] == 0) {
			perr_set(err, st, "Missing %s header",
			    sip_hdr_name(required[i]));
			return EBADMSG;
		}
	}
	for (int id = 1; id < SIP_HDR__COUNT; id++) {
		if (m->count[id] > 1 && hdr_is_single((enum sip_hdr_id)id)) {
			perr_set(err, st, "Multiple %s headers",
			    sip_hdr_name((enum sip_hdr_id)id));
			return EBADMSG;
		}
	}

	/* Every Via value must parse: responses are routed by them. */
	{
		struct sip_values it;
		struct slice v;
		bool top = true;
		sip_values_init(&it, m, SIP_HDR_VIA);
		while (sip_values_next(&it, &v)) {
			struct sip_via via, *vp = top ? &m->via : &via;
			if (sip_via_parse(vp, v)) {
				perr_set(err, st, "Malformed Via header");
				return EBADMSG;
			}
			top = false;
		}
		if (top) {
			perr_set(err, st, "Malformed Via header");
			return EBADMSG;
		}
	}
	if (sip_addr_parse(&m->from, sip_msg_hdr(m, SIP_HDR_FROM)->val) ||
	    m->from.star) {
		perr_set(err, st, "Malformed From header");
		return EBADMSG;
	}
	if (sip_addr_parse(&m->to, sip_msg_hdr(m, SIP_HDR_TO)->val) ||
	    m->to.star) {
		perr_set(err, st, "Malformed To header");
		return EBADMSG;
	}
	m->callid = sip_msg_hdr(m, SIP_HDR_CALL_ID)->val;
	for (size_t i = 0; i < m->callid.n; i++) {
		unsigned char c = (unsigned char)m->callid.p[i];
		if (!lex_is(c, LEX_WORD) && c != '@') {
			perr_set(err, st, "Malformed Call-ID header");
			return EBADMSG;
		}
	}
	if (m->callid.n == 0) {
		perr_set(err, st, "Malformed Call-ID header");
		return EBADMSG;
	}
	if (sip_cseq_parse(&m->cseq, sip_msg_hdr(m, SIP_HDR_CSEQ)->val)) {
		perr_set(err, st, "Malformed CSeq header");
		return EBADMSG;
	}
	if (m->req && !slice_eq(m->cseq.method, m->method)) {
		perr_set(err, st, "CSeq method does not match request method");
		return EBADMSG;
	}
	if ((h = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS)) != NULL) {
		if (slice_u64(slice_trim(h->val), 255, &n)) {
			perr_set(err, st, "Malformed Max-Forwards header");
			return EBADMSG;
		}
		m->maxfwd = (uint32_t)n;
		m->has_maxfwd = true;
	}
	if ((h = sip_msg_hdr(m, SIP_HDR_EXPIRES)) != NULL) {
		if (slice_u64(slice_trim(h->val), UINT32_MAX, &n)) {
			perr_set(err, st, "Malformed Expires header");
			return EBADMSG;
		}
		m->expires = (uint32_t)n;
		m->has_expires = true;
	}
	if ((h = sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE)) != NULL &&
	    sip_ctype_parse(&m->ctype, h->val)) {
		perr_set(err, st, "Malformed Content-Type header");
		return EBADMSG;
	}
	{
		/* Contacts are checked where they matter: requests that set one. */
		struct sip_values it;
		struct slice v;
		sip_values_init(&it, m, SIP_HDR_CONTACT);
		while (sip_values_next(&it, &v)) {
			struct sip_addr a;
			if (sip_addr_parse(&a, v)) {
				perr_set(err, st, "Malformed Contact header");
				return EBADMSG;
			}
		}
	}
	return 0;
}

static bool
ends_blank(const char *buf, size_t len)
{
	return len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0;
}

int
sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, bool stream,
    const struct sip_limits *lim, struct sip_perr *err)
{
	size_t hend, sl;
	const char *nl;
	int rc;

	/* Reset all but the header table, which hdrc bounds. */
	memset(m, 0, offsetof(struct sip_msg, hdr));
	m->hdrc = 0;
	memset(m->first, 0, sizeof(*m) - offsetof(struct sip_msg, first));
	if (err)
		memset(err, 0, sizeof(*err));
	m->buf = buf;
	m->len = len;

	if (len == 0) {
		perr_set(err, 0, "Empty message");
		return EBADMSG;
	}
	/* The start line is bounded before anything else is looked at. */
	sl = len < lim->max_start_line + 2 ? len : lim->max_start_line + 2;
	nl = memchr(buf, '\n', sl);
	if (nl == NULL || nl == buf || nl[-1] != '\r') {
		perr_set(err, 0, nl ? "Start line not ended by CRLF"
				    : "Start line too long or unterminated");
		return EBADMSG;
	}
	struct slice start = slice_make(buf, (size_t)(nl - 1 - buf));
	m->req = !(start.n >= 4 && strncasecmp(buf, "SIP/", 4) == 0);

	size_t scan = len < lim->max_header_bytes ? len : lim->max_header_bytes;
	hend = find_hdr_end(buf, scan);
	if (hend == 0) {
		/* A datagram may end right after the last header's CRLF. */
		if (!stream && len <= lim->max_header_bytes && len >= 2 &&
		    buf[len - 2] == '\r' && buf[len - 1] == '\n') {
			hend = len;
		} else {
			perr_set(err, m->req ? 400 : 0,
			    len >= lim->max_header_bytes
				? "Header section too large"
				: "Header section not terminated");
			return EBADMSG;
		}
	}

	rc = m->req ? parse_request_line(m, start, err)
		    : parse_status_line(m, start, err);
	/*
	 * Header lines run from after the start line to the blank line; when a
	 * datagram ends without one, to its end.
	 */
	const char *hp = nl + 1;
	const char *he = hend == len && !ends_blank(buf, len) ? buf + len
							       : buf + hend - 2;
	if (hp > he)
		hp = he;
	int hrc = split_headers(m, hp, he, lim, err);

	/*
	 * A client matches a response by its top Via and CSeq (RFC 3261
	 * 17.1.3): with those, an answer is useful even when From, To or
	 * Call-ID are missing (RFC 4475 3.3.1); it copies what is there.
	 */
	if (err && m->req && m->count[SIP_HDR_VIA] && m->count[SIP_HDR_CSEQ])
		err->can_reply = true;
	if (rc || hrc)
		return EBADMSG;
	if (check_headers(m, err))
		return EBADMSG;

	/* Body framing: Content-Length governs; a datagram may carry junk after. */
	const struct sip_hdr *cl = sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH);
	size_t avail = len - hend;
	if (cl) {
		size_t n;
		int r = parse_clen(cl->val, lim->max_body, &n);
		if (r == EMSGSIZE) {
			perr_set(err, m->req ? 413 : 0,
			    "Content-Length exceeds %zu", lim->max_body);
			return EBADMSG;
		}
		if (r) {
			perr_set(err, m->req ? 400 : 0,
			    "Malformed Content-Length header");
			return EBADMSG;
		}
		if (n > avail) {
			perr_set(err, m->req ? 400 : 0,
			    "Content-Length larger than message");
			return EBADMSG;
		}
		m->clen = n;
		m->has_clen = true;
	} else if (stream) {
		m->clen = 0;
	} else {
		if (avail > lim->max_body) {
			perr_set(err, m->req ? 413 : 0, "Body exceeds %zu",
			    lim->max_body);
			return EBADMSG;
		}
		m->clen = avail;
	}
	m->body = slice_make(buf + hend, m->clen);
	return 0;
}
