/* Byte slice helpers: comparison, trimming, number parsing. */
#include "core/slice.h"

#include <errno.h>
#include <stdlib.h>
#include <strings.h>

bool
slice_eq(struct slice a, struct slice b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool
slice_casecmp_eq(struct slice a, struct slice b)
{
	return a.n == b.n && (a.n == 0 || strncasecmp(a.p, b.p, a.n) == 0);
}

bool
slice_eq_cstr(struct slice a, const char *s)
{
	return slice_eq(a, slice_cstr(s));
}

bool
slice_caseeq_cstr(struct slice a, const char *s)
{
	return slice_casecmp_eq(a, slice_cstr(s));
}

static inline bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct slice
slice_trim(struct slice s)
{
	while (s.n && is_ws(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_ws(s.p[s.n - 1]))
		s.n--;
	return s;
}

int
slice_u64(struct slice s, uint64_t max, uint64_t *vp)
{
	uint64_t v = 0;

	if (s.n == 0)
		return EBADMSG;
	for (size_t i = 0; i < s.n; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';
		if (d > 9)
			return EBADMSG;
		if (v > (max - d) / 10)
			return ERANGE;
		v = v * 10 + d;
	}
	*vp = v;
	return 0;
}

char *
slice_strlcpy(char *dst, size_t dstsz, struct slice s)
{
	size_t n;

	if (dstsz == 0)
		return dst;
	n = s.n < dstsz - 1 ? s.n : dstsz - 1;
	if (n)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
	return dst;
}

char *
slice_strdup(struct slice s)
{
	char *p = malloc(s.n + 1);

	if (p)
		slice_strlcpy(p, s.n + 1, s);
	return p;
}
