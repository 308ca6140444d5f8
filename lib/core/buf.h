/* Growable output buffers for encoders: append bytes, numbers and slices. */
#ifndef NGV_CORE_BUF_H
#define NGV_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

/*
 * A byte buffer that owns its storage. When fixed is set the storage is
 * caller-provided and never grows: appends past the end fail with ENOMEM and
 * set the sticky err field, so encoders can append freely and check once.
 */
struct buf {
	char *p;
	size_t len;
	size_t cap;
	int err;
	unsigned fixed : 1;
};

void buf_init(struct buf *b);
void buf_init_fixed(struct buf *b, char *mem, size_t cap);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_slice(struct buf *b, struct slice s);
int buf_append_str(struct buf *b, const char *s);
int buf_append_u64(struct buf *b, uint64_t v);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline struct slice
buf_slice(const struct buf *b)
{
	return slice_make(b->p, b->len);
}

/* s must be a string literal ("" s refuses anything else). */
#define BUF_LIT(b, s) buf_append((b), "" s, sizeof(s) - 1)

#endif
