/* Lexical helpers of the SIP grammar (RFC 3261 section 25.1): character classes, LWS. */
#ifndef NGV_SIP_LEX_H
#define NGV_SIP_LEX_H

#include <stdbool.h>
#include <stdint.h>

enum {
	LEX_TOKEN = 1 << 0,    /* token */
	LEX_ALNUM = 1 << 1,    /* alphanum */
	LEX_UNRES = 1 << 2,    /* unreserved = alphanum / mark */
	LEX_USER = 1 << 3,     /* user-unreserved: & = + $ , ; ? / */
	LEX_PASS = 1 << 4,     /* password extras: & = + $ , */
	LEX_PARAM = 1 << 5,    /* param-unreserved: [ ] / : & + $ */
	LEX_HNV = 1 << 6,      /* hnv-unreserved: [ ] / ? : + $ */
	LEX_HOST = 1 << 7,     /* hostname chars: alphanum - . */
	LEX_WORD = 1 << 8,     /* word (Call-ID) */
	LEX_DIGIT = 1 << 9,
	LEX_HEX = 1 << 10,
	LEX_URIC = 1 << 11,    /* uric (absoluteURI) */
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
	for (;;) {
		if (p < end && (*p == ' ' || *p == '\t')) {
			p++;
		} else if (end - p >= 3 && p[0] == '\r' && p[1] == '\n' &&
		    (p[2] == ' ' || p[2] == '\t')) {
			p += 3;
		} else {
			return p;
		}
	}
}

static inline bool
lex_is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Advances over a token; returns the first non-token position. */
static inline const char *
lex_token(const char *p, const char *end)
{
	while (p < end && lex_is((unsigned char)*p, LEX_TOKEN))
		p++;
	return p;
}

/*
 * Advances over a quoted-string starting at the opening quote. Returns the
 * position after the closing quote, or NULL when it is not terminated or
 * holds a bare CR/LF (RFC 3261 quoted-pair excludes them).
 */
const char *lex_quoted(const char *p, const char *end);

#endif
