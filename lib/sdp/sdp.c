/* SDP parser (RFC 4566): zero-copy, bounded, into a fixed struct. */
#include "sdp/sdp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Where the parser is, for error messages. */
struct pstate {
	struct sdp_session *s;
	struct sdp_media *m; /* the current m= section, NULL at session level */
	unsigned lineno;
	char type;
	char *err;
	size_t errlen;
};

static int fail(struct pstate *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct pstate *ps, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (ps->err == NULL || ps->errlen == 0)
		return EBADMSG;
	if (ps->lineno)
		n = snprintf(ps->err, ps->errlen, "line %u (%c=): ", ps->lineno,
		    ps->type);
	if (n < 0 || (size_t)n >= ps->errlen)
		return EBADMSG;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return EBADMSG;
}

static inline bool
is_sp(char c)
{
	return c == ' ' || c == '\t';
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Takes the next space-separated token off *rest. Peers sometimes put two
 * spaces where one is meant, so runs of blanks count as one.
 */
static bool
next_tok(struct slice *rest, struct slice *tok)
{
	size_t i = 0;

	while (i < rest->n && is_sp(rest->p[i]))
		i++;
	size_t start = i;
	while (i < rest->n && !is_sp(rest->p[i]))
		i++;
	if (i == start) {
		*rest = slice_make(rest->p + i, 0);
		return false;
	}
	*tok = slice_make(rest->p + start, i - start);
	*rest = slice_make(rest->p + i, rest->n - i);
	return true;
}

/* What is left after the tokens taken, without blanks at either end. */
static struct slice
rest_trim(struct slice rest)
{
	while (rest.n && is_sp(rest.p[0])) {
		rest.p++;
		rest.n--;
	}
	while (rest.n && is_sp(rest.p[rest.n - 1]))
		rest.n--;
	return rest;
}

static bool
all_digits(struct slice s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (!is_digit(s.p[i]))
			return false;
	}
	return true;
}

/* Splits at the first c: *head before it, *tail after; false without c. */
static bool
split_at(struct slice s, char c, struct slice *head, struct slice *tail)
{
	ptrdiff_t i = slice_chr(s, c);

	if (i < 0) {
		*head = s;
		*tail = slice_make(s.p + s.n, 0);
		return false;
	}
	*head = slice_make(s.p, (size_t)i);
	*tail = slice_make(s.p + i + 1, s.n - (size_t)i - 1);
	return true;
}

/* "IN IP4 192.0.2.1[/ttl[/n]]" (RFC 4566 section 5.7). */
static int
parse_conn(struct pstate *ps, struct slice v, struct sdp_conn *c)
{
	struct slice tail, extra;

	if (!next_tok(&v, &c->nettype) || !next_tok(&v, &c->addrtype) ||
	    !next_tok(&v, &c->addr))
		return fail(ps, "needs nettype, addrtype and address");
	if (next_tok(&v, &extra))
		return fail(ps, "extra text after the address");
	/* A multicast TTL or address count follows a slash; we keep the
	 * address only. */
	split_at(c->addr, '/', &c->addr, &tail);
	if (c->addr.n == 0)
		return fail(ps, "empty address");
	c->set = true;
	return 0;
}

static int
parse_origin(struct pstate *ps, struct slice v)
{
	struct sdp_session *s = ps->s;
	struct slice extra;

	if (!next_tok(&v, &s->origin.username) ||
	    !next_tok(&v, &s->origin.sess_id) ||
	    !next_tok(&v, &s->origin.sess_version) ||
	    !next_tok(&v, &s->origin.nettype) ||
	    !next_tok(&v, &s->origin.addrtype) ||
	    !next_tok(&v, &s->origin.addr))
		return fail(ps, "needs 6 fields");
	if (next_tok(&v, &extra))
		return fail(ps, "more than 6 fields");
	if (!all_digits(s->origin.sess_id) ||
	    !all_digits(s->origin.sess_version))
		return fail(ps, "session id and version must be numeric");
	return 0;
}

static bool
is_rtp_proto(struct slice proto)
{
	/* RTP/AVP, RTP/SAVP, RTP/AVPF, RTP/SAVPF, UDP/TLS/RTP/SAVP(F) and
	 * TCP/RTP/AVP all carry payload types as formats. */
	for (size_t i = 0; i + 4 <= proto.n; i++) {
		if (memcmp(proto.p + i, "RTP/", 4) == 0)
			return true;
	}
	return false;
}

/* "m=<media> <port>[/<n>] <proto> <fmt> ..." (RFC 4566 section 5.14). */
static int
parse_media(struct pstate *ps, struct slice v)
{
	struct sdp_session *s = ps->s;
	struct sdp_media *m;
	struct slice port, nports, fmt;
	uint64_t u;

	if (s->nmedia == SDP_MAX_MEDIA)
		return fail(ps, "more than %d m= lines", SDP_MAX_MEDIA);
	m = &s->media[s->nmedia];
	memset(m, 0, sizeof(*m));
	if (!next_tok(&v, &m->type) || !next_tok(&v, &port) ||
	    !next_tok(&v, &m->proto))
		return fail(ps, "needs media, port and proto");
	m->nports = 1;
	if (split_at(port, '/', &port, &nports)) {
		if (slice_u64(nports, 65535, &u) != 0 || u == 0)
			return fail(ps, "bad port count");
		m->nports = (unsigned)u;
	}
	if (slice_u64(port, 65535, &u) != 0)
		return fail(ps, "bad port");
	m->port = (uint16_t)u;
	m->fmts = rest_trim(v);
	bool rtp = is_rtp_proto(m->proto);
	while (next_tok(&v, &fmt)) {
		if (!rtp)
			continue;
		if (slice_u64(fmt, 127, &u) != 0)
			return fail(ps, "bad payload type");
		if (m->nfmt < SDP_MAX_FMTS)
			m->fmt[m->nfmt++] = (unsigned)u;
	}
	s->nmedia++;
	ps->m = m;
	return 0;
}

static int
parse_pt(struct slice t, unsigned *ptp)
{
	uint64_t u;

	if (slice_u64(t, 127, &u) != 0)
		return EBADMSG;
	*ptp = (unsigned)u;
	return 0;
}

/* "a=rtpmap:<pt> <encoding>/<clock rate>[/<params>]" */
static int
parse_rtpmap(struct pstate *ps, struct slice v)
{
	struct sdp_media *m = ps->m;
	struct sdp_rtpmap r;
	struct slice pt, enc, rate, extra;
	uint64_t u;

	memset(&r, 0, sizeof(r));
	if (!next_tok(&v, &pt) || !next_tok(&v, &enc))
		return fail(ps, "bad a=rtpmap");
	if (next_tok(&v, &extra))
		return fail(ps, "bad a=rtpmap: extra text");
	if (parse_pt(pt, &r.pt) != 0)
		return fail(ps, "bad a=rtpmap payload type");
	if (!split_at(enc, '/', &r.enc, &rate) || r.enc.n == 0)
		return fail(ps, "bad a=rtpmap: needs encoding/rate");
	split_at(rate, '/', &rate, &r.params);
	if (slice_u64(rate, UINT32_MAX, &u) != 0 || u == 0)
		return fail(ps, "bad a=rtpmap clock rate");
	r.rate = (uint32_t)u;
	if (m->nrtpmap < SDP_MAX_RTPMAP)
		m->rtpmap[m->nrtpmap++] = r;
	return 0;
}

/* "a=fmtp:<format> <params>" */
static int
parse_fmtp(struct pstate *ps, struct slice v)
{
	struct sdp_media *m = ps->m;
	struct sdp_fmtp f;
	struct slice fmt;

	if (!next_tok(&v, &fmt))
		return fail(ps, "bad a=fmtp");
	/* Formats of non-RTP media are not payload types: ignore those. */
	if (!all_digits(fmt))
		return 0;
	if (parse_pt(fmt, &f.pt) != 0)
		return fail(ps, "bad a=fmtp payload type");
	f.params = rest_trim(v);
	if (m->nfmtp < SDP_MAX_FMTP)
		m->fmtp[m->nfmtp++] = f;
	return 0;
}

/* "a=ptime:20"; some peers write "20.0". */
static int
parse_ptime(struct pstate *ps, struct slice v)
{
	struct slice whole, frac;
	uint64_t u;

	v = rest_trim(v);
	if (split_at(v, '.', &whole, &frac) && frac.n && !all_digits(frac))
		return fail(ps, "bad a=ptime");
	if (slice_u64(whole, 10000, &u) != 0 || u == 0)
		return fail(ps, "bad a=ptime");
	ps->m->ptime = (unsigned)u;
	return 0;
}

/* "a=rtcp:<port> [IN IP4 <addr>]" (RFC 3605). */
static int
parse_rtcp(struct pstate *ps, struct slice v)
{
	struct slice port;
	uint64_t u;

	if (!next_tok(&v, &port) || slice_u64(port, 65535, &u) != 0 || u == 0)
		return fail(ps, "bad a=rtcp port");
	ps->m->rtcp_port = (uint16_t)u;
	if (rest_trim(v).n)
		return parse_conn(ps, v, &ps->m->rtcp_c);
	return 0;
}

static enum sdp_dir
dir_from(struct slice name)
{
	if (slice_eq_cstr(name, "sendrecv"))
		return SDP_SENDRECV;
	if (slice_eq_cstr(name, "sendonly"))
		return SDP_SENDONLY;
	if (slice_eq_cstr(name, "recvonly"))
		return SDP_RECVONLY;
	if (slice_eq_cstr(name, "inactive"))
		return SDP_INACTIVE;
	return SDP_DIR_UNSET;
}

static int
parse_attr(struct pstate *ps, struct slice v)
{
	struct sdp_media *m = ps->m;
	struct slice name, val;
	enum sdp_dir d;

	split_at(v, ':', &name, &val);
	if (name.n == 0)
		return fail(ps, "empty attribute name");
	d = dir_from(name);
	if (m == NULL) {
		/* Session level: only the default direction matters to us;
		 * a=crypto belongs to media (RFC 4568 section 9.1). */
		if (d != SDP_DIR_UNSET)
			ps->s->dir = d;
		return 0;
	}
	if (d != SDP_DIR_UNSET) {
		m->dir = d;
		return 0;
	}
	if (slice_eq_cstr(name, "rtpmap"))
		return parse_rtpmap(ps, val);
	if (slice_eq_cstr(name, "fmtp"))
		return parse_fmtp(ps, val);
	if (slice_eq_cstr(name, "crypto")) {
		/* Kept raw: a bad crypto line only disqualifies itself. */
		if (m->ncrypto < SDP_MAX_CRYPTO)
			m->crypto[m->ncrypto++] = rest_trim(val);
		return 0;
	}
	if (slice_eq_cstr(name, "ptime"))
		return parse_ptime(ps, val);
	if (slice_eq_cstr(name, "rtcp"))
		return parse_rtcp(ps, val);
	if (slice_eq_cstr(name, "rtcp-mux")) {
		m->rtcp_mux = true;
		return 0;
	}
	return 0;
}

static int
parse_line(struct pstate *ps, struct slice v, bool *seen_o)
{
	struct sdp_session *s = ps->s;
	uint64_t u;

	switch (ps->type) {
	case 'v':
		return fail(ps, "repeated v=");
	case 'o':
		if (ps->m || *seen_o)
			return fail(ps, "misplaced o=");
		*seen_o = true;
		return parse_origin(ps, v);
	case 's':
		if (ps->m)
			return fail(ps, "s= after m=");
		s->name = v;
		return 0;
	case 'c':
		if (ps->m) {
			if (ps->m->c.set) /* multicast layers: keep the first */
				return 0;
			return parse_conn(ps, v, &ps->m->c);
		}
		if (s->c.set)
			return fail(ps, "repeated session c=");
		return parse_conn(ps, v, &s->c);
	case 'm':
		if (!*seen_o)
			return fail(ps, "m= before o=");
		return parse_media(ps, v);
	case 'a':
		return parse_attr(ps, v);
	case 't':
		/* "t=0 0" nearly always; check the shape, keep nothing. */
		{
			struct slice a, b, extra;
			if (!next_tok(&v, &a) || !next_tok(&v, &b) ||
			    next_tok(&v, &extra) ||
			    slice_u64(a, UINT64_MAX, &u) != 0 ||
			    slice_u64(b, UINT64_MAX, &u) != 0)
				return fail(ps, "bad t=");
		}
		return 0;
	default:
		/* i= u= e= p= b= r= z= k= and letters of later extensions:
		 * nothing we need, so ignore them. */
		return 0;
	}
}

int
sdp_parse(
    struct sdp_session *s, const char *p, size_t n, char *err, size_t errlen)
{
	struct pstate ps = {.s = s, .err = err, .errlen = errlen};
	const char *end = p + n;
	bool seen_v = false, seen_o = false;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (s == NULL || (p == NULL && n))
		return EINVAL;
	memset(s, 0, sizeof(*s));
	if (n == 0)
		return fail(&ps, "empty SDP");
	if (n > SDP_MAX_LEN)
		return fail(
		    &ps, "SDP too long (%zu > %d bytes)", n, SDP_MAX_LEN);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct slice line = slice_make(p, (size_t)(le - p));

		p = nl ? nl + 1 : end;
		if (++ps.lineno > SDP_MAX_LINES) {
			ps.lineno = 0;
			return fail(&ps, "more than %d lines", SDP_MAX_LINES);
		}
		if (line.n && line.p[line.n - 1] == '\r')
			line.n--;
		if (line.n == 0)
			continue; /* a blank line, often at the end: harmless */
		ps.type =
		    line.p[0] >= 0x21 && line.p[0] < 0x7f ? line.p[0] : '?';
		if (line.n > SDP_MAX_LINE)
			return fail(&ps, "line longer than %d", SDP_MAX_LINE);
		if (memchr(line.p, '\0', line.n) ||
		    memchr(line.p, '\r', line.n))
			return fail(&ps, "NUL or CR inside the line");
		if (line.n < 2 || line.p[1] != '=' || line.p[0] < 'a' ||
		    line.p[0] > 'z')
			return fail(&ps, "not <letter>=<value>");
		struct slice v = slice_make(line.p + 2, line.n - 2);
		if (!seen_v) {
			if (ps.type != 'v')
				return fail(&ps, "SDP must start with v=");
			if (!slice_eq_cstr(rest_trim(v), "0"))
				return fail(&ps, "version must be 0");
			seen_v = true;
			continue;
		}
		rc = parse_line(&ps, v, &seen_o);
		if (rc)
			return rc;
	}
	ps.lineno = 0;
	if (!seen_o)
		return fail(&ps, "no o= line");

	for (size_t i = 0; i < s->nmedia; i++) {
		if (s->media[i].dir == SDP_DIR_UNSET)
			s->media[i].dir = s->dir;
	}
	return 0;
}

const struct sdp_rtpmap *
sdp_media_rtpmap(const struct sdp_media *m, unsigned pt)
{
	for (size_t i = 0; i < m->nrtpmap; i++) {
		if (m->rtpmap[i].pt == pt)
			return &m->rtpmap[i];
	}
	return NULL;
}

const struct sdp_conn *
sdp_media_conn(const struct sdp_session *s, const struct sdp_media *m)
{
	if (m->c.set)
		return &m->c;
	if (s->c.set)
		return &s->c;
	return NULL;
}

const char *
sdp_dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_SENDONLY:
		return "sendonly";
	case SDP_RECVONLY:
		return "recvonly";
	case SDP_INACTIVE:
		return "inactive";
	default:
		return "sendrecv";
	}
}
