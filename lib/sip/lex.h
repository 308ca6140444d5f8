/* Lexical helpers of the SIP grammar (RFC 3261 section 25.1): character classes, LWS. */
#ifndef NGV_SIP_LEX_H
#define NGV_SIP_LEX_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	LEX_TOKEN = 1 << 0, /* token */
	LEX_ALNUM = 1 << 1, /* alphanum */
	LEX_UNRES = 1 << 2, /* unreserved = alphanum / mark */
	LEX_USER = 1 << 3,  /* user-unreserved: & = + $ , ; ? / */
	LEX_PASS = 1 << 4,  /* password extras: & = + $ , */
	LEX_PARAM = 1 << 5, /* param-unreserved: [ ] / : & + $ */
	LEX_HNV = 1 << 6,   /* hnv-unreserved: [ ] / ? : + $ */
	LEX_HOST = 1 << 7,  /* hostname chars: alphanum - . */
	LEX_WORD = 1 << 8,  /* word (Call-ID) */
	LEX_DIGIT = 1 << 9,
	LEX_HEX = 1 << 10,
	LEX_URIC = 1 << 11, /* uric (absoluteURI) */
};

/* Read-only after start-up. */
extern uint16_t sip_lex_class[256];

static inline bool
lex_is(unsigned char c, unsigned cls)
{
	return (sip_lex_class[c] & cls) != 0;
}

/*
 * Skips linear whitespace: SP, HT and folded line ends (CRLF followed by SP
 * or HT). A CRLF that is not followed by whitespace is left in place.
 */
static inline const char *
lex_skip_lws(const char *p, const char *end)
{
	/* Usually there is none: one comparison says so. */
	while (p < end && (unsigned char)*p <= ' ') {
		if (*p == ' ' || *p == '\t')
			p++;
		else if (end - p >= 3 && p[0] == '\r' && p[1] == '\n' &&
		         (p[2] == ' ' || p[2] == '\t'))
			p += 3;
		else
			break;
	}
	return p;
}

/* SP, HT, CR or LF: one shift and test instead of four comparisons. */
static inline bool
lex_is_lws(char c)
{
	unsigned char u = (unsigned char)c;

	return u <= ' ' && (UINT64_C(0x100002600) >> u & 1) != 0;
}

/*
 * Advances over octets of class cls; returns the first other position. Four
 * at a time: one bounds check for four octets.
 */
static inline const char *
lex_span(const char *p, const char *end, unsigned cls)
{
	while (end - p >= 4) {
		if (!lex_is((unsigned char)p[0], cls))
			return p;
		if (!lex_is((unsigned char)p[1], cls))
			return p + 1;
		if (!lex_is((unsigned char)p[2], cls))
			return p + 2;
		if (!lex_is((unsigned char)p[3], cls))
			return p + 3;
		p += 4;
	}
	while (p < end && lex_is((unsigned char)*p, cls))
		p++;
	return p;
}

/* Advances over a token; returns the first non-token position. */
static inline const char *
lex_token(const char *p, const char *end)
{
	return lex_span(p, end, LEX_TOKEN);
}

/*
 * Parses an unsigned decimal number that fills the n octets at p, with the
 * results of slice_u64(): EBADMSG for no digits or a non-digit, ERANGE above
 * max, whichever comes first. It needs no division, which matters in a
 * parser that reads several numbers per message; max must be below 2^60.
 */
static inline int
lex_u64(const char *p, size_t n, uint64_t max, uint64_t *vp)
{
	uint64_t v = 0;

	if (n == 0)
		return EBADMSG;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)p[i] - (unsigned)'0';
		if (d > 9)
			return EBADMSG;
		v = v * 10 + d;
		if (v > max)
			return ERANGE;
	}
	*vp = v;
	return 0;
}

/*
 * Advances over a quoted-string starting at the opening quote. Returns the
 * position after the closing quote, or NULL when it is not terminated or
 * holds a bare CR/LF (RFC 3261 quoted-pair excludes them).
 */
const char *lex_quoted(const char *p, const char *end);

#endif
