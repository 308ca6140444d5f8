/* Secret handling: wipe memory, compare in constant time. */
#ifndef NGV_CORE_SECURE_H
#define NGV_CORE_SECURE_H

#include <stdbool.h>
#include <stddef.h>

/* Overwrites n bytes at p so the compiler cannot elide it. */
void secure_wipe(void *p, size_t n);

/*
 * Compares two byte strings in time that depends only on their lengths.
 * Returns true when equal.
 */
bool secure_eq(const void *a, size_t an, const void *b, size_t bn);

/* Fills p with n cryptographically random bytes; returns 0 or EIO. */
int secure_random(void *p, size_t n);

#endif
