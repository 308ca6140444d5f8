/* SIP URI parser: strict for sip/sips, tolerant absoluteURI for the rest. */
#include "sip/uri.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "sip/lex.h"

/* True when p, at '%', starts a %HH escape before end. */
static inline bool
is_escape(const char *p, const char *end)
{
	return end - p >= 3 && lex_is((unsigned char)p[1], LEX_HEX) &&
	       lex_is((unsigned char)p[2], LEX_HEX);
}

/* Checks that s holds only chars of cls or valid %HH escapes. */
static bool
check_escaped(struct slice s, unsigned cls)
{
	const char *p = s.p, *end = s.p + s.n;
	/* A '%' is always an escape, even where cls holds it (uric). */
	bool pct_in_cls = lex_is('%', cls);

	while (p < end) {
		if (*p == '%') {
			if (!is_escape(p, end))
				return false;
			p += 3;
		} else if (!lex_is((unsigned char)*p, cls)) {
			return false;
		} else {
			p = pct_in_cls ? p + 1 : lex_span(p + 1, end, cls);
		}
	}
	return true;
}

/*
 * Parses host[:port] (hostname, IPv4 or [IPv6]) from p; it must end at ';',
 * '?' or end. Returns where it ends, or NULL when it is malformed.
 */
static const char *
parse_hostport(struct sip_uri *u, const char *p, const char *end)
{
	uint64_t port = 0;

	if (p >= end)
		return NULL;
	if (*p == '[') {
		/* An IPv6 reference holds neither ';' nor '?'. */
		const char *hend = p, *q;
		while (hend < end && *hend != ';' && *hend != '?')
			hend++;
		q = memchr(p, ']', (size_t)(hend - p));
		if (q == NULL || q == p + 1)
			return NULL;
		for (const char *r = p + 1; r < q; r++) {
			if (!lex_is((unsigned char)*r, LEX_HEX) && *r != ':' &&
			    *r != '.')
				return NULL;
		}
		u->host = slice_make(p + 1, (size_t)(q - p - 1));
		u->ipv6 = true;
		p = q + 1;
	} else {
		const char *h = p;
		p = lex_span(p, end, LEX_HOST);
		if (p == h)
			return NULL;
		u->host = slice_make(h, (size_t)(p - h));
	}
	if (p < end && *p == ':') {
		const char *ds = ++p;
		while (p < end && lex_is((unsigned char)*p, LEX_DIGIT))
			p++;
		if (lex_u64(ds, (size_t)(p - ds), 65535, &port) || port == 0)
			return NULL;
	}
	if (p < end && *p != ';' && *p != '?')
		return NULL;
	u->port = (uint16_t)port;
	return p;
}

/*
 * Advances over paramchar octets (param-unreserved / unreserved / escaped);
 * returns the first other octet, or NULL at a broken escape.
 */
static const char *
skip_paramchars(const char *p, const char *end)
{
	for (;;) {
		p = lex_span(p, end, LEX_PARAM | LEX_UNRES);
		if (p >= end || *p != '%')
			return p;
		if (!is_escape(p, end))
			return NULL;
		p += 3;
	}
}

/*
 * Validates ;name[=value] URI parameters (RFC 3261 uri-parameters): names
 * and values non-empty, of paramchars, one pass over the octets.
 */
static bool
check_uri_params(struct slice s)
{
	const char *p = s.p, *end = s.p + s.n, *q;

	while (p < end) {
		if (*p != ';')
			return false;
		q = skip_paramchars(p + 1, end);
		if (q == NULL || q == p + 1)
			return false;
		p = q;
		if (p < end && *p == '=') {
			q = skip_paramchars(p + 1, end);
			if (q == NULL || q == p + 1)
				return false;
			p = q;
		}
	}
	return true;
}

static bool
check_uri_headers(struct slice s)
{
	const char *p = s.p, *end = s.p + s.n;

	if (s.n == 0)
		return false;
	while (p <= end) {
		const char *q = p;
		while (q < end && *q != '&')
			q++;
		struct slice one = slice_make(p, (size_t)(q - p));
		ptrdiff_t eq = slice_chr(one, '=');
		if (eq <= 0)
			return false;
		if (!check_escaped(
		        slice_make(one.p, (size_t)eq), LEX_HNV | LEX_UNRES) ||
		    !check_escaped(
		        slice_make(one.p + eq + 1, one.n - (size_t)eq - 1),
		        LEX_HNV | LEX_UNRES))
			return false;
		if (q == end)
			break;
		p = q + 1;
	}
	return true;
}

static int
parse_sip(struct sip_uri *u, const char *p, const char *end)
{
	const char *at, *hp, *hend, *q;

	/* '@' cannot appear in params or headers, so the first one ends userinfo. */
	at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		struct slice user =
		    slice_make(p, (size_t)((colon ? colon : at) - p));
		if (user.n == 0 || !check_escaped(user, LEX_UNRES | LEX_USER))
			return EBADMSG;
		u->user = user;
		if (colon) {
			u->password =
			    slice_make(colon + 1, (size_t)(at - colon - 1));
			if (!check_escaped(u->password, LEX_UNRES | LEX_PASS))
				return EBADMSG;
		}
		hp = at + 1;
	} else {
		hp = p;
	}

	/* hostport ends at ';' or '?'. */
	hend = parse_hostport(u, hp, end);
	if (hend == NULL)
		return EBADMSG;

	q = hend;
	if (q < end && *q == ';') {
		const char *pe = memchr(q, '?', (size_t)(end - q));
		if (pe == NULL)
			pe = end;
		u->params = slice_make(q, (size_t)(pe - q));
		if (!check_uri_params(u->params))
			return EBADMSG;
		q = pe;
	}
	if (q < end) {
		/* q points at '?' */
		u->headers = slice_make(q + 1, (size_t)(end - q - 1));
		if (!check_uri_headers(u->headers))
			return EBADMSG;
	}
	return 0;
}

/* True when a scheme is the lower-case name, in any case. */
static inline bool
scheme_is(struct slice s, const char *name)
{
	size_t i;

	for (i = 0; i < s.n && name[i]; i++) {
		if ((s.p[i] | 0x20) != name[i])
			return false;
	}
	return i == s.n && name[i] == '\0';
}

int
sip_uri_parse(struct sip_uri *u, struct slice s)
{
	const char *p = s.p, *end = s.p + s.n, *colon;

	memset(u, 0, sizeof(*u));
	u->raw = s;
	if (s.n == 0)
		return EBADMSG;

	/* Nearly every URI is sip: or sips:, which need no scan for ':'. */
	if (s.n >= 4 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' &&
	    (p[2] | 0x20) == 'p') {
		if (p[3] == ':') {
			u->scheme = SIP_URI_SIP;
			u->scheme_s = slice_make(p, 3);
			return parse_sip(u, p + 4, end);
		}
		if (s.n >= 5 && (p[3] | 0x20) == 's' && p[4] == ':') {
			u->scheme = SIP_URI_SIPS;
			u->scheme_s = slice_make(p, 4);
			return parse_sip(u, p + 5, end);
		}
	}

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	colon = memchr(p, ':', s.n);
	if (colon == NULL || colon == p)
		return EBADMSG;
	if (!((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
		return EBADMSG;
	for (const char *r = p; r < colon; r++) {
		if (!lex_is((unsigned char)*r, LEX_ALNUM) && *r != '+' &&
		    *r != '-' && *r != '.')
			return EBADMSG;
	}
	u->scheme_s = slice_make(p, (size_t)(colon - p));
	p = colon + 1;

	if (scheme_is(u->scheme_s, "sip")) {
		u->scheme = SIP_URI_SIP;
		return parse_sip(u, p, end);
	}
	if (scheme_is(u->scheme_s, "sips")) {
		u->scheme = SIP_URI_SIPS;
		return parse_sip(u, p, end);
	}

	u->scheme = scheme_is(u->scheme_s, "tel") ? SIP_URI_TEL : SIP_URI_OTHER;
	u->opaque = slice_make(p, (size_t)(end - p));
	if (u->opaque.n == 0 || !check_escaped(u->opaque, LEX_URIC | LEX_UNRES))
		return EBADMSG;
	if (u->scheme == SIP_URI_TEL) {
		ptrdiff_t semi = slice_chr(u->opaque, ';');
		u->user = semi < 0 ? u->opaque
		                   : slice_make(u->opaque.p, (size_t)semi);
		if (semi >= 0)
			u->params = slice_make(
			    u->opaque.p + semi, u->opaque.n - (size_t)semi);
	}
	return 0;
}

/* Octets that end a parameter name (PSTOP_NAME) or an unquoted value. */
enum { PSTOP_NAME = 1, PSTOP_VALUE = 2 };
static const unsigned char param_stop[256] = {
    [';'] = PSTOP_NAME | PSTOP_VALUE,
    ['='] = PSTOP_NAME,
    [' '] = PSTOP_NAME | PSTOP_VALUE,
    ['\t'] = PSTOP_NAME | PSTOP_VALUE,
    ['\r'] = PSTOP_NAME | PSTOP_VALUE,
    ['\n'] = PSTOP_NAME | PSTOP_VALUE,
};

int
sip_param_get(struct slice params, const char *name, struct slice *val)
{
	const char *p, *end;
	size_t nl = strlen(name);

	/* An absent list is SLICE_NULL, and NULL + 0 is undefined in C. */
	if (params.n == 0)
		return ENOENT;
	p = params.p;
	end = p + params.n;
	while (p < end) {
		const char *ns, *ne, *vs = NULL, *ve = NULL;
		p = lex_skip_lws(p, end);
		if (p < end && *p == ';')
			p = lex_skip_lws(p + 1, end);
		ns = p;
		while (p < end && !(param_stop[(unsigned char)*p] & PSTOP_NAME))
			p++;
		ne = p;
		p = lex_skip_lws(p, end);
		if (p < end && *p == '=') {
			p = lex_skip_lws(p + 1, end);
			vs = p;
			if (p < end && *p == '"') {
				const char *qe = lex_quoted(p, end);
				p = qe ? qe : end;
			} else {
				while (
				    p < end && !(param_stop[(unsigned char)*p] &
				                   PSTOP_VALUE))
					p++;
			}
			ve = p;
			p = lex_skip_lws(p, end);
		}
		if ((size_t)(ne - ns) == nl && strncasecmp(ns, name, nl) == 0) {
			*val = vs ? slice_make(vs, (size_t)(ve - vs))
			          : slice_make(ne, 0);
			return 0;
		}
		if (p < end && *p != ';')
			p++; /* tolerate junk: move on */
	}
	return ENOENT;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
sip_unescape(struct slice in, char *out, size_t outsz, size_t *outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < in.n; i++) {
		char c = in.p[i];
		if (c == '%') {
			int h, l;
			if (in.n - i < 3 || (h = hexval(in.p[i + 1])) < 0 ||
			    (l = hexval(in.p[i + 2])) < 0)
				return EBADMSG;
			c = (char)(h << 4 | l);
			i += 2;
		}
		if (o + 1 >= outsz)
			return ENOSPC;
		out[o++] = c;
	}
	if (outsz)
		out[o] = '\0';
	if (outlen)
		*outlen = o;
	return 0;
}

/* Compares escaped strings after decoding, case-sensitively or not. */
static bool
esc_eq(struct slice a, struct slice b, bool icase)
{
	size_t i = 0, j = 0;

	while (i < a.n && j < b.n) {
		int ca = (unsigned char)a.p[i], cb = (unsigned char)b.p[j];
		if (ca == '%' && a.n - i >= 3 && hexval(a.p[i + 1]) >= 0 &&
		    hexval(a.p[i + 2]) >= 0) {
			ca = hexval(a.p[i + 1]) << 4 | hexval(a.p[i + 2]);
			i += 2;
		}
		if (cb == '%' && b.n - j >= 3 && hexval(b.p[j + 1]) >= 0 &&
		    hexval(b.p[j + 2]) >= 0) {
			cb = hexval(b.p[j + 1]) << 4 | hexval(b.p[j + 2]);
			j += 2;
		}
		if (icase && ca >= 'A' && ca <= 'Z')
			ca |= 0x20;
		if (icase && cb >= 'A' && cb <= 'Z')
			cb |= 0x20;
		if (ca != cb)
			return false;
		i++;
		j++;
	}
	return i == a.n && j == b.n;
}

/* RFC 3261 19.1.4: these parameters must match when present in either URI. */
static const char *const uri_strict_params[] = {
    "user",
    "ttl",
    "method",
    "maddr",
    "transport",
};

bool
sip_uri_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->scheme != b->scheme)
		return false;
	if (a->scheme == SIP_URI_OTHER || a->scheme == SIP_URI_TEL)
		return esc_eq(a->opaque, b->opaque, true);
	if (!esc_eq(a->user, b->user, false) ||
	    !esc_eq(a->password, b->password, false) ||
	    !slice_casecmp_eq(a->host, b->host) || a->port != b->port)
		return false;
	for (size_t i = 0;
	     i < sizeof(uri_strict_params) / sizeof(uri_strict_params[0]);
	     i++) {
		struct slice va, vb;
		int fa = sip_param_get(a->params, uri_strict_params[i], &va);
		int fb = sip_param_get(b->params, uri_strict_params[i], &vb);
		if (fa != fb || (fa == 0 && !esc_eq(va, vb, true)))
			return false;
	}
	/* Other parameters present in both must agree. */
	const char *p = a->params.p;
	const char *end = a->params.n ? a->params.p + a->params.n : p;
	while (p < end) {
		const char *q = p + 1;
		while (q < end && *q != ';')
			q++;
		struct slice one = slice_make(p + 1, (size_t)(q - p - 1));
		ptrdiff_t eq = slice_chr(one, '=');
		char name[64];
		struct slice nm = eq < 0 ? one : slice_make(one.p, (size_t)eq);
		struct slice va, vb;
		slice_strlcpy(name, sizeof(name), nm);
		/*
		 * A name given twice compares by its first value on both
		 * sides, as sip_param_get() reads it: a URI equals itself and
		 * the comparison stays symmetric.
		 */
		if (nm.n < sizeof(name) &&
		    sip_param_get(a->params, name, &va) == 0 &&
		    sip_param_get(b->params, name, &vb) == 0 &&
		    !esc_eq(va, vb, true))
			return false;
		p = q;
	}
	return esc_eq(a->headers, b->headers, true);
}

uint16_t
sip_uri_port(const struct sip_uri *u)
{
	if (u->port)
		return u->port;
	return u->scheme == SIP_URI_SIPS ? 5061 : 5060;
}
