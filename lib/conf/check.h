/* What the daemons' configuration loaders share: section kinds, path and pair checks, warnings, secrets wiped. */
#ifndef NGV_CONF_CHECK_H
#define NGV_CONF_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"

/* A section type of a daemon's file, and whether it takes a name. */
struct conf_sec_type {
	const char *type;
	bool named;
};

/* The index of type in t (n types), -1 if none. */
int conf_sec_kind(const struct conf_sec_type *t, size_t n, const char *type);

/*
 * Checks every section of c against the n types of t and counts them by
 * kind into count[n]: an unknown section (the message lists t in order), a
 * named type without a name and an unnamed one with a name are errors (a
 * section given twice the parser refuses). Returns 0 or EINVAL with err.
 */
int conf_sections_check(const struct conf *c, struct conf_err *err,
    const struct conf_sec_type *t, size_t n, size_t *count);

/*
 * A legal but risky setting: one warning log line "file:line: message"
 * ("file: message" for line 0), counted in *nwarnings.
 */
void conf_warn(const struct conf *c, unsigned *nwarnings, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* conf_path() for the item of key in s, at its line (the section's if unset). */
int conf_item_path(const struct conf *c, struct conf_err *err,
    const struct conf_section *s, const char *key, const char *dir,
    char **pathp, unsigned flags);

/*
 * A certificate and its key go together: either set without the other
 * (keys ck and kk, values cv and kv) is an error at its line. 0 or EINVAL.
 */
int conf_check_pair(const struct conf *c, struct conf_err *err,
    const struct conf_section *s, const char *ck, const char *cv,
    const char *kk, const char *kv);

/* 1 to max digits and nothing else. */
bool conf_all_digits(const char *s, size_t max);

/* An IPv4 or IPv6 address, or a host name. */
bool conf_is_host(const char *s);

/*
 * Wipes the values of keys (NULL-terminated) in the sections of c whose
 * type is one of types (NULL-terminated; NULL: every section): secrets
 * the file's text held. c may be NULL.
 */
void conf_wipe_values(
    struct conf *c, const char *const *types, const char *const *keys);

#endif
