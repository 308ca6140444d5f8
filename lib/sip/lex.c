/* Character classes of the SIP grammar, built once as a table. */
#include "sip/lex.h"

#include <stddef.h>

#define A LEX_ALNUM
#define T LEX_TOKEN
#define U LEX_UNRES
#define W LEX_WORD
#define C LEX_URIC

/* Filled once, before main(), by the constructor below from the RFC 3261 sets. */
uint16_t sip_lex_class[256];

static void
set_chars(const char *s, unsigned cls)
{
	for (; *s; s++)
		sip_lex_class[(unsigned char)*s] |= (uint16_t)cls;
}

__attribute__((constructor)) static void
lex_init(void)
{
	const char *mark = "-_.!~*'()";
	for (int c = 0; c < 256; c++) {
		unsigned cls = 0;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			cls |= A | T | U | W | C | LEX_HOST | LEX_USER |
			       LEX_PASS | LEX_PARAM | LEX_HNV;
		if (c >= '0' && c <= '9')
			cls |= LEX_DIGIT | LEX_HEX;
		if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			cls |= LEX_HEX;
		sip_lex_class[c] = (uint16_t)cls;
	}
	set_chars(mark, U | LEX_USER | LEX_PASS | LEX_PARAM | LEX_HNV | C);
	set_chars("-.!%*_+`'~", T);
	set_chars("-.!%*_+`'~()<>:\\\"/[]?{}", W);
	set_chars("&=+$,;?/", LEX_USER);
	set_chars("&=+$,", LEX_PASS);
	set_chars("[]/:&+$", LEX_PARAM);
	set_chars("[]/?:+$", LEX_HNV);
	set_chars("-.", LEX_HOST);
	set_chars(";/?:@&=+$,%", C);
}

/* The octets that end a run of plain characters inside a quoted-string. */
static const unsigned char quoted_stop[256] = {
    ['"'] = 1,
    ['\\'] = 1,
    ['\r'] = 1,
    ['\n'] = 1,
};

const char *
lex_quoted(const char *p, const char *end)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		/* Most octets are plain: skip them four at a time. */
		while (end - p >= 4 && !quoted_stop[(unsigned char)p[0]] &&
		       !quoted_stop[(unsigned char)p[1]] &&
		       !quoted_stop[(unsigned char)p[2]] &&
		       !quoted_stop[(unsigned char)p[3]])
			p += 4;
		while (p < end && !quoted_stop[(unsigned char)*p])
			p++;
		if (p == end)
			break;
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			/* quoted-pair: any octet except CR and LF */
			if (p + 1 >= end || p[1] == '\r' || p[1] == '\n')
				return NULL;
			p++;
		} else {
			/* Only folded whitespace may break a quoted string. */
			if (end - p >= 3 && p[0] == '\r' && p[1] == '\n' &&
			    (p[2] == ' ' || p[2] == '\t'))
				p += 2;
			else
				return NULL;
		}
	}
	return NULL;
}
