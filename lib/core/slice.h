/* Byte slices: zero-copy views into buffers owned by someone else. */
#ifndef NGV_CORE_SLICE_H
#define NGV_CORE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A borrowed, non-NUL-terminated view: p points into a buffer owned elsewhere. */
struct slice {
	const char *p;
	size_t n;
};

#define SLICE_NULL   ((struct slice){NULL, 0})
#define SLICE_LIT(s) ((struct slice){(s), sizeof(s) - 1})

static inline struct slice
slice_make(const char *p, size_t n)
{
	return (struct slice){p, n};
}

static inline struct slice
slice_cstr(const char *s)
{
	return (struct slice){s, s ? strlen(s) : 0};
}

static inline bool
slice_isset(struct slice s)
{
	return s.p != NULL;
}

bool slice_eq(struct slice a, struct slice b);
bool slice_casecmp_eq(struct slice a, struct slice b);
bool slice_eq_cstr(struct slice a, const char *s);
bool slice_caseeq_cstr(struct slice a, const char *s);

/* Strips SP, HT, CR and LF (folded whitespace) from both ends. */
struct slice slice_trim(struct slice s);

/*
 * Parses an unsigned decimal number that must fill the whole slice.
 * Returns 0, EBADMSG for a non-digit or an empty slice, ERANGE above max.
 */
int slice_u64(struct slice s, uint64_t max, uint64_t *vp);

/* A malloc'd NUL-terminated copy (the caller frees it), NULL on ENOMEM. */
char *slice_strdup(struct slice s);

/* Copies into a NUL-terminated buffer, truncating; returns dst. */
char *slice_strlcpy(char *dst, size_t dstsz, struct slice s);

/* Finds the first occurrence of c; returns its offset or -1. */
static inline ptrdiff_t
slice_chr(struct slice s, char c)
{
	const char *q = s.n ? memchr(s.p, c, s.n) : NULL;
	return q ? q - s.p : -1;
}

#endif
