/* SIP URI parser: strict for sip/sips, tolerant absoluteURI for the rest. */
#include "sip/uri.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "sip/lex.h"

/* Checks that s holds only chars of cls or valid %HH escapes. */
static bool
check_escaped(struct slice s, unsigned cls)
{
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '%') {
			if (s.n - i < 3 || !lex_is((unsigned char)s.p[i + 1], LEX_HEX) ||
			    !lex_is((unsigned char)s.p[i + 2], LEX_HEX))
				return false;
			i += 2;
		} else if (!lex_is(c, cls)) {
			return false;
		}
	}
	return true;
}

/* Parses host[:port] (hostname, IPv4 or [IPv6]) filling the whole slice. */
static int
parse_hostport(struct sip_uri *u, struct slice s)
{
	const char *p = s.p, *end = s.p + s.n;

	if (p >= end)
		return EBADMSG;
	if (*p == '[') {
		const char *q = memchr(p, ']', (size_t)(end - p));
		if (q == NULL || q == p + 1)
			return EBADMSG;
		for (const char *r = p + 1; r < q; r++) {
			if (!lex_is((unsigned char)*r, LEX_HEX) && *r != ':' &&
			    *r != '.')
				return EBADMSG;
		}
		u->host = slice_make(p + 1, (size_t)(q - p - 1));
		u->ipv6 = true;
		p = q + 1;
	} else {
		const char *h = p;
		while (p < end && lex_is((unsigned char)*p, LEX_HOST))
			p++;
		if (p == h)
			return EBADMSG;
		u->host = slice_make(h, (size_t)(p - h));
	}
	if (p < end) {
		uint64_t port;
		if (*p != ':')
			return EBADMSG;
		p++;
		if (slice_u64(slice_make(p, (size_t)(end - p)), 65535, &port) ||
		    port == 0)
			return EBADMSG;
		u->port = (uint16_t)port;
	}
	return 0;
}

/* Validates ;name[=value] URI parameters (RFC 3261 uri-parameters). */
static bool
check_uri_params(struct slice s)
{
	const char *p = s.p, *end = s.p + s.n;

	while (p < end) {
		const char *q;
		if (*p != ';')
			return false;
		p++;
		q = p;
		while (q < end && *q != ';')
			q++;
		struct slice one = slice_make(p, (size_t)(q - p));
		ptrdiff_t eq = slice_chr(one, '=');
		struct slice name = eq < 0 ? one : slice_make(one.p, (size_t)eq);
		if (name.n == 0 || !check_escaped(name, LEX_PARAM | LEX_UNRES))
			return false;
		if (eq >= 0) {
			struct slice v = slice_make(one.p + eq + 1,
			    one.n - (size_t)eq - 1);
			if (v.n == 0 || !check_escaped(v, LEX_PARAM | LEX_UNRES))
				return false;
		}
		p = q;
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
		if (!check_escaped(slice_make(one.p, (size_t)eq),
			LEX_HNV | LEX_UNRES) ||
		    !check_escaped(slice_make(one.p + eq + 1,
					   one.n - (size_t)eq - 1),
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
		struct slice user = slice_make(p,
		    (size_t)((colon ? colon : at) - p));
		if (user.n == 0 ||
		    !check_escaped(user, LEX_UNRES | LEX_USER))
			return EBADMSG;
		u->user = user;
		if (colon) {
			u->password = slice_make(colon + 1,
			    (size_t)(at - colon - 1));
			if (!check_escaped(u->password, LEX_UNRES | LEX_PASS))
				return EBADMSG;
		}
		hp = at + 1;
	} else {
		hp = p;
	}

	/* hostport ends at ';' or '?' (an IPv6 reference holds neither). */
	hend = hp;
	while (hend < end && *hend != ';' && *hend != '?')
		hend++;
	if (parse_hostport(u, slice_make(hp, (size_t)(hend - hp))))
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

int
sip_uri_parse(struct sip_uri *u, struct slice s)
{
	const char *p = s.p, *end = s.p + s.n, *colon;

	memset(u, 0, sizeof(*u));
	u->raw = s;
	if (s.n == 0)
		return EBADMSG;

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

	if (slice_caseeq_cstr(u->scheme_s, "sip")) {
		u->scheme = SIP_URI_SIP;
		return parse_sip(u, p, end);
	}
	if (slice_caseeq_cstr(u->scheme_s, "sips")) {
		u->scheme = SIP_URI_SIPS;
		return parse_sip(u, p, end);
	}

	u->scheme = slice_caseeq_cstr(u->scheme_s, "tel") ? SIP_URI_TEL
							  : SIP_URI_OTHER;
	u->opaque = slice_make(p, (size_t)(end - p));
	if (u->opaque.n == 0 || !check_escaped(u->opaque, LEX_URIC | LEX_UNRES))
		return EBADMSG;
	if (u->scheme == SIP_URI_TEL) {
		ptrdiff_t semi = slice_chr(u->opaque, ';');
		u->user = semi < 0 ? u->opaque
				   : slice_make(u->opaque.p, (size_t)semi);
		if (semi >= 0)
			u->params = slice_make(u->opaque.p + semi,
			    u->opaque.n - (size_t)semi);
	}
	return 0;
}

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
		while (p < end && *p != ';' && *p != '=' && !lex_is_lws(*p))
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
				while (p < end && *p != ';' && !lex_is_lws(*p))
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
    "user", "ttl", "method", "maddr", "transport",
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
	     i < sizeof(uri_strict_params) / sizeof(uri_strict_params[0]); i++) {
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
