/* SIP message parser: framing, start line, header table and validation. */
#include "sip/msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sip/lex.h"

/* Canonical names and their lengths; compact forms are in hdr_compact. */
struct hdr_name {
	const char *name;
	size_t len;
};
#define HDR(s)                                                                 \
	{                                                                      \
		.name = (s), .len = sizeof(s) - 1                              \
	}

static const struct hdr_name hdr_names[SIP_HDR__COUNT] = {
    [SIP_HDR_ACCEPT] = HDR("Accept"),
    [SIP_HDR_ALLOW] = HDR("Allow"),
    [SIP_HDR_ALLOW_EVENTS] = HDR("Allow-Events"),
    [SIP_HDR_AUTHORIZATION] = HDR("Authorization"),
    [SIP_HDR_CALL_ID] = HDR("Call-ID"),
    [SIP_HDR_CALL_INFO] = HDR("Call-Info"),
    [SIP_HDR_CONTACT] = HDR("Contact"),
    [SIP_HDR_CONTENT_ENCODING] = HDR("Content-Encoding"),
    [SIP_HDR_CONTENT_LENGTH] = HDR("Content-Length"),
    [SIP_HDR_CONTENT_TYPE] = HDR("Content-Type"),
    [SIP_HDR_CSEQ] = HDR("CSeq"),
    [SIP_HDR_DATE] = HDR("Date"),
    [SIP_HDR_DIVERSION] = HDR("Diversion"),
    [SIP_HDR_EVENT] = HDR("Event"),
    [SIP_HDR_EXPIRES] = HDR("Expires"),
    [SIP_HDR_FROM] = HDR("From"),
    [SIP_HDR_MAX_FORWARDS] = HDR("Max-Forwards"),
    [SIP_HDR_MIN_EXPIRES] = HDR("Min-Expires"),
    [SIP_HDR_PROXY_AUTHENTICATE] = HDR("Proxy-Authenticate"),
    [SIP_HDR_PROXY_AUTHORIZATION] = HDR("Proxy-Authorization"),
    [SIP_HDR_PROXY_REQUIRE] = HDR("Proxy-Require"),
    [SIP_HDR_RECORD_ROUTE] = HDR("Record-Route"),
    [SIP_HDR_REFER_TO] = HDR("Refer-To"),
    [SIP_HDR_REQUIRE] = HDR("Require"),
    [SIP_HDR_ROUTE] = HDR("Route"),
    [SIP_HDR_SERVER] = HDR("Server"),
    [SIP_HDR_SESSION_EXPIRES] = HDR("Session-Expires"),
    [SIP_HDR_SUBJECT] = HDR("Subject"),
    [SIP_HDR_SUBSCRIPTION_STATE] = HDR("Subscription-State"),
    [SIP_HDR_SUPPORTED] = HDR("Supported"),
    [SIP_HDR_TO] = HDR("To"),
    [SIP_HDR_UNSUPPORTED] = HDR("Unsupported"),
    [SIP_HDR_USER_AGENT] = HDR("User-Agent"),
    [SIP_HDR_VIA] = HDR("Via"),
    [SIP_HDR_WWW_AUTHENTICATE] = HDR("WWW-Authenticate"),
};
#undef HDR

const char *
sip_hdr_name(enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_HDR__COUNT)
		return NULL;
	return hdr_names[id].name;
}

/* ASCII case folding, as strncasecmp() does in the C locale. */
static inline unsigned char
ascii_lower(unsigned char c)
{
	return (unsigned char)((unsigned)c - 'A' < 26u ? c | 0x20 : c);
}

/*
 * True when the n octets at p spell name, which is in lower case, in any
 * case: strncasecmp() in the C locale, without its call.
 */
static inline bool
name_caseeq(const char *p, const char *name, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ascii_lower((unsigned char)p[i]) != (unsigned char)name[i])
			return false;
	}
	return true;
}

/* Strips SP, HT, CR and LF from both ends, as slice_trim() does. */
static inline struct slice
trim(struct slice s)
{
	while (s.n && lex_is_lws(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && lex_is_lws(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Unaligned loads; memcpy() compiles to one move. */
static inline uint64_t
load64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t
load32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint16_t
load16(const char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Case-insensitive comparisons of a few octets against a canonical name made
 * of letters and '-'. A letter has bit 0x40 set, '-' has not: setting bit
 * 0x20 on both sides where the name has a letter folds case, and maps no
 * octet but the two cases of that letter onto it; '-' must match exactly.
 */
static inline bool
case_eq64(const char *p, const char *name)
{
	uint64_t c = load64(name), fold = (c & 0x4040404040404040u) >> 1;

	return (load64(p) | fold) == (c | fold);
}

static inline bool
case_eq32(const char *p, const char *name)
{
	uint32_t c = load32(name), fold = (c & 0x40404040u) >> 1;

	return (load32(p) | fold) == (c | fold);
}

static inline bool
case_eq16(const char *p, const char *name)
{
	uint16_t c = load16(name), fold = (uint16_t)((c & 0x4040u) >> 1);

	return (uint16_t)(load16(p) | fold) == (uint16_t)(c | fold);
}

/* True when name spells known header id, in any case. */
static bool
hdr_name_is(struct slice name, enum sip_hdr_id id)
{
	const char *p = name.p, *c = hdr_names[id].name;
	size_t n = name.n;

	if (n != hdr_names[id].len || n < 2)
		return false;
	/* Overlapping loads cover every length without a byte loop. */
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			if (!case_eq64(p + i, c + i))
				return false;
		}
		return case_eq64(p + n - 8, c + n - 8);
	}
	if (n >= 4)
		return case_eq32(p, c) && case_eq32(p + n - 4, c + n - 4);
	return case_eq16(p, c) && case_eq16(p + n - 2, c + n - 2);
}

/*
 * The one known name a header name can be, from its length and first letter
 * (and the second for Call-ID and Contact); SIP_HDR_OTHER when none. This
 * runs for every header line, so it must cost a few comparisons, not a scan
 * of the table.
 */
static enum sip_hdr_id
hdr_candidate(const char *p, size_t n)
{
	unsigned char c = ascii_lower((unsigned char)p[0]);

	switch (n) {
	case 2:
		return c == 't' ? SIP_HDR_TO : SIP_HDR_OTHER;
	case 3:
		return c == 'v' ? SIP_HDR_VIA : SIP_HDR_OTHER;
	case 4:
		return c == 'c'   ? SIP_HDR_CSEQ
		       : c == 'd' ? SIP_HDR_DATE
		       : c == 'f' ? SIP_HDR_FROM
		                  : SIP_HDR_OTHER;
	case 5:
		return c == 'a'   ? SIP_HDR_ALLOW
		       : c == 'e' ? SIP_HDR_EVENT
		       : c == 'r' ? SIP_HDR_ROUTE
		                  : SIP_HDR_OTHER;
	case 6:
		return c == 'a'   ? SIP_HDR_ACCEPT
		       : c == 's' ? SIP_HDR_SERVER
		                  : SIP_HDR_OTHER;
	case 7:
		switch (c) {
		case 'c':
			return ascii_lower((unsigned char)p[1]) == 'a'
			           ? SIP_HDR_CALL_ID
			           : SIP_HDR_CONTACT;
		case 'e':
			return SIP_HDR_EXPIRES;
		case 'r':
			return SIP_HDR_REQUIRE;
		case 's':
			return SIP_HDR_SUBJECT;
		default:
			return SIP_HDR_OTHER;
		}
	case 8:
		return c == 'r' ? SIP_HDR_REFER_TO : SIP_HDR_OTHER;
	case 9:
		return c == 'c'   ? SIP_HDR_CALL_INFO
		       : c == 'd' ? SIP_HDR_DIVERSION
		       : c == 's' ? SIP_HDR_SUPPORTED
		                  : SIP_HDR_OTHER;
	case 10:
		return c == 'u' ? SIP_HDR_USER_AGENT : SIP_HDR_OTHER;
	case 11:
		return c == 'm'   ? SIP_HDR_MIN_EXPIRES
		       : c == 'u' ? SIP_HDR_UNSUPPORTED
		                  : SIP_HDR_OTHER;
	case 12:
		switch (c) {
		case 'a':
			return SIP_HDR_ALLOW_EVENTS;
		case 'c':
			return SIP_HDR_CONTENT_TYPE;
		case 'm':
			return SIP_HDR_MAX_FORWARDS;
		case 'r':
			return SIP_HDR_RECORD_ROUTE;
		default:
			return SIP_HDR_OTHER;
		}
	case 13:
		return c == 'a'   ? SIP_HDR_AUTHORIZATION
		       : c == 'p' ? SIP_HDR_PROXY_REQUIRE
		                  : SIP_HDR_OTHER;
	case 14:
		return c == 'c' ? SIP_HDR_CONTENT_LENGTH : SIP_HDR_OTHER;
	case 15:
		return c == 's' ? SIP_HDR_SESSION_EXPIRES : SIP_HDR_OTHER;
	case 16:
		return c == 'c'   ? SIP_HDR_CONTENT_ENCODING
		       : c == 'w' ? SIP_HDR_WWW_AUTHENTICATE
		                  : SIP_HDR_OTHER;
	case 18:
		return c == 'p'   ? SIP_HDR_PROXY_AUTHENTICATE
		       : c == 's' ? SIP_HDR_SUBSCRIPTION_STATE
		                  : SIP_HDR_OTHER;
	case 19:
		return c == 'p' ? SIP_HDR_PROXY_AUTHORIZATION : SIP_HDR_OTHER;
	default:
		return SIP_HDR_OTHER;
	}
}

/* The header a compact form (RFC 3261 7.3.3) stands for, by its letter. */
static const uint8_t hdr_compact[26] = {
    ['c' - 'a'] = SIP_HDR_CONTENT_TYPE,
    ['e' - 'a'] = SIP_HDR_CONTENT_ENCODING,
    ['f' - 'a'] = SIP_HDR_FROM,
    ['i' - 'a'] = SIP_HDR_CALL_ID,
    ['k' - 'a'] = SIP_HDR_SUPPORTED,
    ['l' - 'a'] = SIP_HDR_CONTENT_LENGTH,
    ['m' - 'a'] = SIP_HDR_CONTACT,
    ['o' - 'a'] = SIP_HDR_EVENT,
    ['r' - 'a'] = SIP_HDR_REFER_TO,
    ['s' - 'a'] = SIP_HDR_SUBJECT,
    ['t' - 'a'] = SIP_HDR_TO,
    ['u' - 'a'] = SIP_HDR_ALLOW_EVENTS,
    ['v' - 'a'] = SIP_HDR_VIA,
    ['x' - 'a'] = SIP_HDR_SESSION_EXPIRES,
};

enum sip_hdr_id
sip_hdr_lookup(struct slice name)
{
	enum sip_hdr_id id;

	if (name.n == 0)
		return SIP_HDR_OTHER;
	if (name.n == 1) {
		unsigned c = (unsigned char)(name.p[0] | 0x20) - 'a';
		return c < 26 ? (enum sip_hdr_id)hdr_compact[c] : SIP_HDR_OTHER;
	}
	id = hdr_candidate(name.p, name.n);
	if (id != SIP_HDR_OTHER && hdr_name_is(name, id))
		return id;
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

	v = trim(v);
	r = lex_u64(v.p, v.n, UINT32_MAX, &n);
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
	name = trim(slice_make(p, (size_t)(colon - p)));
	if (!(name.n == 14 && name_caseeq(name.p, "content-length", 14)) &&
	    !(name.n == 1 && (name.p[0] | 0x20) == 'l'))
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
			const char *nn =
			    memchr(nl + 1, '\n', (size_t)(end - nl - 1));
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
	if (ver.n < 5 || !name_caseeq(ver.p, "sip/", 4)) {
		perr_set(err, 400, "Malformed SIP-Version in Request-Line");
		return EBADMSG;
	}
	if (ver.n != 7 || memcmp(ver.p + 4, "2.0", 3) != 0) {
		perr_set(err, 505, "Version Not Supported");
		return EBADMSG;
	}
	if (sip_uri_parse(&m->ruri, m->ruri_s)) {
		/* A URI that parses holds no SP or HT: look only on failure. */
		bool ws = memchr(m->ruri_s.p, ' ', m->ruri_s.n) != NULL ||
		          memchr(m->ruri_s.p, '\t', m->ruri_s.n) != NULL;
		if (ws)
			memset(&m->ruri, 0, sizeof(m->ruri));
		perr_set(err, 400,
		    ws ? "Whitespace in Request-URI" : "Malformed Request-URI");
		return EBADMSG;
	}
	return 0;
}

/* Status-Line: SIP-Version SP Status-Code SP Reason-Phrase. */
static int
parse_status_line(struct sip_msg *m, struct slice l, struct sip_perr *err)
{
	const char *p = l.p, *end = l.p + l.n;

	if (l.n < 12 || !name_caseeq(p, "sip/2.0 ", 8)) {
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
	m->scode =
	    (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
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

/* Appends a header to the table, chained to the previous one of its id. */
static inline void
hdr_add(struct sip_msg *m, uint16_t *last, struct slice name, struct slice val)
{
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
}

static inline unsigned
max_headers(const struct sip_limits *lim)
{
	return lim->max_headers < SIP_HDR_CAP ? lim->max_headers : SIP_HDR_CAP;
}

/* Splits the header section into the header table. */
static int
split_headers(struct sip_msg *m, const char *p, const char *end,
    const struct sip_limits *lim, struct sip_perr *err)
{
	unsigned maxh = max_headers(lim);
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
			const char *nn =
			    memchr(nl + 1, '\n', (size_t)(end - nl - 1));
			if (nn == NULL || nn[-1] != '\r') {
				perr_set(
				    err, 400, "Header line not ended by CRLF");
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
		val = trim(slice_make(colon + 1, (size_t)(nl - 1 - colon - 1)));
		if (m->hdrc >= maxh) {
			perr_set(err, 400, "More than %u header lines", maxh);
			return EBADMSG;
		}
		hdr_add(m, last, name, val);
		p = nl + 1;
	}
	return rc;
}

/*
 * The usual header section in one pass: lines that all end in CRLF, each a
 * well-formed header, up to a blank line that ends before limit. Fills the
 * table as split_headers() does and sets *blank to the blank line. At
 * anything else (an error to report, a datagram without the blank line, a
 * limit reached) it returns false, and the caller resets the table and takes
 * the exact path, which finds the same problem and reports it in order.
 */
static bool
split_fast(struct sip_msg *m, const char *p, const char *limit, unsigned maxh,
    const char **blank)
{
	uint16_t last[SIP_HDR__COUNT];

	memset(last, 0, sizeof(last));
	for (;;) {
		const char *nl, *colon, *ne;

		if (limit - p < 2)
			return false;
		if (p[0] == '\r' && p[1] == '\n') {
			*blank = p;
			return true;
		}
		if (*p == ' ' || *p == '\t')
			return false;
		nl = memchr(p, '\n', (size_t)(limit - p));
		if (nl == NULL || nl == p || nl[-1] != '\r')
			return false;
		while (nl + 1 < limit && (nl[1] == ' ' || nl[1] == '\t')) {
			nl = memchr(nl + 1, '\n', (size_t)(limit - nl - 1));
			if (nl == NULL || nl[-1] != '\r')
				return false;
		}
		ne = lex_token(p, nl);
		colon = lex_skip_lws(ne, nl - 1);
		if (ne == p || colon >= nl - 1 || *colon != ':' ||
		    m->hdrc >= maxh)
			return false;
		hdr_add(m, last, slice_make(p, (size_t)(ne - p)),
		    trim(slice_make(colon + 1, (size_t)(nl - 1 - colon - 1))));
		p = nl + 1;
	}
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

/* The octets that matter when splitting a comma-separated list. */
static const unsigned char list_stop[256] = {
    ['"'] = 1,
    ['<'] = 1,
    ['>'] = 1,
    [','] = 1,
};

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
	/* Without a comma the rest is one value: the usual Via or Contact. */
	if (memchr(p, ',', (size_t)(end - p)) == NULL)
		p = end;
	while (p < end) {
		if (!list_stop[(unsigned char)*p]) {
			p++;
			continue;
		}
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
	*v = trim(slice_make(s, (size_t)(p - s)));
	if (p < end)
		p++;
	*rest = slice_make(p, (size_t)(end - p));
	return true;
}

void
sip_values_init(
    struct sip_values *it, const struct sip_msg *m, enum sip_hdr_id id)
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

/*
 * Parses one generic-param: token [ = ( token / host / quoted-string ) ].
 * Sets *odd when a [...] value holds ';' or whitespace, where
 * sip_param_get() would end the value early.
 */
static const char *
param_one(const char *p, const char *end, struct slice *name, struct slice *val,
    bool *odd)
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
			for (const char *r = q; r < rb; r++) {
				if (*r == ';' || lex_is_lws(*r))
					*odd = true;
			}
			q = rb + 1;
		} else {
			/* token, or an IPv6 address as in received=::1 */
			q = lex_token(q, end);
			while (q < end && *q == ':')
				q = lex_token(q + 1, end);
			if (q == vs)
				return NULL;
		}
		*val = slice_make(vs, (size_t)(q - vs));
		return q;
	}
	return p;
}

/* A parameter that params_scan() looks up; name is lower case. */
struct param_want {
	const char *name;
	size_t len;
	struct slice val;
	bool found;
};

/*
 * Checks a parameter list as sip_params_check() does and, in the same pass,
 * finds the first value of each wanted name as sip_param_get() would, so that
 * a Via or an address is walked once instead of once per parameter.
 */
static int
params_scan(struct slice params, struct param_want *want, size_t nwant)
{
	const char *p = params.p, *end = params.p + params.n;
	struct slice n, v;
	bool odd = false;

	for (;;) {
		p = lex_skip_lws(p, end);
		if (p >= end)
			break;
		if (*p != ';')
			return EBADMSG;
		p = lex_skip_lws(p + 1, end);
		p = param_one(p, end, &n, &v, &odd);
		if (p == NULL)
			return EBADMSG;
		for (size_t i = 0; i < nwant; i++) {
			if (!want[i].found && n.n == want[i].len &&
			    name_caseeq(n.p, want[i].name, n.n)) {
				want[i].val = v;
				want[i].found = true;
			}
		}
	}
	if (odd) {
		/* Rare: let sip_param_get() itself say what it finds. */
		for (size_t i = 0; i < nwant; i++)
			want[i].found = sip_param_get(params, want[i].name,
			                    &want[i].val) == 0;
	}
	return 0;
}

int
sip_params_check(struct slice params)
{
	return params_scan(params, NULL, 0);
}

int
sip_addr_parse(struct sip_addr *a, struct slice s)
{
	const char *p, *end, *us, *ue;

	memset(a, 0, sizeof(*a));
	s = trim(s);
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
	} else if (*p != '<') {
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
				a->dname =
				    trim(slice_make(p, (size_t)(lt - p)));
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
	struct param_want tag = {"tag", 3, SLICE_NULL, false};
	if (params_scan(a->params, &tag, 1))
		return EBADMSG;
	a->tag = tag.found ? tag.val : SLICE_NULL;
	return 0;
}

int
sip_via_parse(struct sip_via *v, struct slice s)
{
	const char *p, *end, *t;

	memset(v, 0, sizeof(*v));
	s = trim(s);
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
		p = lex_span(p, end, LEX_HOST);
	}
	const char *he = p;
	const char *q = lex_skip_lws(p, end);
	if (q < end && *q == ':') {
		q = lex_skip_lws(q + 1, end);
		const char *ps = q;
		while (q < end && lex_is((unsigned char)*q, LEX_DIGIT))
			q++;
		uint64_t port;
		if (lex_u64(ps, (size_t)(q - ps), 65535, &port) || port == 0)
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
	struct param_want want[] = {
	    {"branch", 6, SLICE_NULL, false},
	    {"received", 8, SLICE_NULL, false},
	    {"rport", 5, SLICE_NULL, false},
	};
	if (params_scan(v->params, want, 3))
		return EBADMSG;
	v->branch = want[0].found ? want[0].val : SLICE_NULL;
	v->received = want[1].found ? want[1].val : SLICE_NULL;
	v->has_rport = want[2].found;
	v->rport = want[2].found ? want[2].val : SLICE_NULL;
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
	if (lex_u64(ds, (size_t)(p - ds), 0x7fffffffu, &n))
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
	    SIP_HDR_VIA,
	    SIP_HDR_FROM,
	    SIP_HDR_TO,
	    SIP_HDR_CALL_ID,
	    SIP_HDR_CSEQ,
	};
	/* Headers that may appear only once, in id order. */
	static const enum sip_hdr_id single[] = {
	    SIP_HDR_CALL_ID,
	    SIP_HDR_CONTENT_LENGTH,
	    SIP_HDR_CONTENT_TYPE,
	    SIP_HDR_CSEQ,
	    SIP_HDR_EXPIRES,
	    SIP_HDR_FROM,
	    SIP_HDR_MAX_FORWARDS,
	    SIP_HDR_TO,
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
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		if (m->count[single[i]] > 1) {
			perr_set(err, st, "Multiple %s headers",
			    sip_hdr_name(single[i]));
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
			/* Only &via is taken; sip_via_parse() clears *vp first. */
			/* cppcheck-suppress uninitvar */
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
	/* callid = word [ "@" word ]: checked as word and '@' octets. */
	const char *cid_end = m->callid.p + m->callid.n;
	for (const char *p = m->callid.p;; p++) {
		p = lex_span(p, cid_end, LEX_WORD);
		if (p == cid_end)
			break;
		if (*p != '@') {
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
		struct slice v = trim(h->val);
		if (lex_u64(v.p, v.n, 255, &n)) {
			perr_set(err, st, "Malformed Max-Forwards header");
			return EBADMSG;
		}
		m->maxfwd = (uint32_t)n;
		m->has_maxfwd = true;
	}
	if ((h = sip_msg_hdr(m, SIP_HDR_EXPIRES)) != NULL) {
		struct slice v = trim(h->val);
		if (lex_u64(v.p, v.n, UINT32_MAX, &n)) {
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
	bool too_long = false;
	if (nl == NULL && sl < len && !name_caseeq(buf, "sip/", 4)) {
		/*
		 * A request line over the limit (a long Request-URI): when it
		 * ends within the header section, the headers are still read
		 * so that the request gets its 414 naming the limit.
		 */
		size_t hmax =
		    len < lim->max_header_bytes ? len : lim->max_header_bytes;
		nl = memchr(buf + sl, '\n', hmax - sl);
		too_long = nl != NULL;
	}
	if (nl == NULL || nl == buf || nl[-1] != '\r') {
		perr_set(err, 0,
		    nl ? "Start line not ended by CRLF"
		       : "Start line too long or unterminated");
		return EBADMSG;
	}
	struct slice start = slice_make(buf, (size_t)(nl - 1 - buf));
	m->req = !(start.n >= 4 && name_caseeq(buf, "sip/", 4));

	size_t scan = len < lim->max_header_bytes ? len : lim->max_header_bytes;
	const char *hp = nl + 1, *he;
	int hrc = 0;

	if (split_fast(m, hp, buf + scan, max_headers(lim), &he)) {
		hend = (size_t)(he + 2 - buf);
		rc = m->req ? parse_request_line(m, start, err)
		            : parse_status_line(m, start, err);
	} else {
		m->hdrc = 0;
		memset(m->first, 0, sizeof(m->first));
		memset(m->count, 0, sizeof(m->count));
		hend = find_hdr_end(buf, scan);
		if (hend == 0) {
			/* A datagram may end right after the last header's CRLF. */
			if (!stream && len <= lim->max_header_bytes &&
			    len >= 2 && buf[len - 2] == '\r' &&
			    buf[len - 1] == '\n') {
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
		 * Header lines run from after the start line to the blank
		 * line; when a datagram ends without one, to its end.
		 */
		he = hend == len && !ends_blank(buf, len) ? buf + len
		                                          : buf + hend - 2;
		if (hp > he)
			hp = he;
		hrc = split_headers(m, hp, he, lim, err);
	}

	/*
	 * A client matches a response by its top Via and CSeq (RFC 3261
	 * 17.1.3): with those, an answer is useful even when From, To or
	 * Call-ID are missing (RFC 4475 3.3.1); it copies what is there.
	 */
	if (err && m->req && m->count[SIP_HDR_VIA] && m->count[SIP_HDR_CSEQ])
		err->can_reply = true;
	if (too_long) {
		/* RFC 3261 21.4.12; the request line is not looked into. */
		memset(&m->ruri, 0, sizeof(m->ruri));
		m->method = SLICE_NULL;
		m->ruri_s = SLICE_NULL;
		if (err)
			err->reason[0] = '\0'; /* this one says what matters */
		perr_set(err, 414, "Request line exceeds %zu bytes",
		    lim->max_start_line);
		return EBADMSG;
	}
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
