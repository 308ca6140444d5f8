/* What the daemons' configuration loaders share: section kinds, path and pair checks, warnings, secrets wiped. */
#include "conf/check.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/secure.h"

int
conf_sec_kind(const struct conf_sec_type *t, size_t n, const char *type)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(type, t[i].type) == 0)
			return (int)i;
	}
	return -1;
}

int
conf_sections_check(const struct conf *c, struct conf_err *err,
    const struct conf_sec_type *t, size_t n, size_t *count)
{
	for (size_t i = 0; i < c->nsecs; i++) {
		const struct conf_section *s = &c->secs[i];
		int k = conf_sec_kind(t, n, s->type);
		if (k < 0) {
			char valid[512];
			size_t len = 0;
			valid[0] = '\0';
			for (size_t j = 0; j < n && len < sizeof(valid); j++)
				len += (size_t)snprintf(valid + len,
				    sizeof(valid) - len, "%s%s", j ? ", " : "",
				    t[j].type);
			return conf_fail(err, c, s->line,
			    "unknown section [%s]: valid sections are %s",
			    s->type, valid);
		}
		if (t[k].named && s->name == NULL)
			return conf_fail(err, c, s->line,
			    "[%s] needs a name: [%s \"NAME\"]", s->type,
			    s->type);
		if (!t[k].named && s->name)
			return conf_fail(err, c, s->line,
			    "[%s \"%s\"] takes no name: write [%s]", s->type,
			    s->name, s->type);
		count[k]++;
	}
	return 0;
}

void
conf_warn(const struct conf *c, unsigned *nwarnings, unsigned line,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		log_warn("%s:%u: %s", c->file, line, msg);
	else
		log_warn("%s: %s", c->file, msg);
	(*nwarnings)++;
}

int
conf_item_path(const struct conf *c, struct conf_err *err,
    const struct conf_section *s, const char *key, const char *dir,
    char **pathp, unsigned flags)
{
	unsigned open_mode = 0;

	return conf_path(
	    c, err, conf_item_line(s, key), key, dir, pathp, flags, &open_mode);
}

int
conf_check_pair(const struct conf *c, struct conf_err *err,
    const struct conf_section *s, const char *ck, const char *cv,
    const char *kk, const char *kv)
{
	if (cv && !kv)
		return conf_fail(err, c, conf_item_line(s, ck),
		    "%s is set without %s (the private key of that "
		    "certificate)",
		    ck, kk);
	if (kv && !cv)
		return conf_fail(err, c, conf_item_line(s, kk),
		    "%s is set without %s (its certificate)", kk, ck);
	return 0;
}

bool
conf_all_digits(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
	}
	return true;
}

bool
conf_is_host(const char *s)
{
	return conf_is_ipv4(s) || conf_is_ipv6(s) || conf_valid_hostname(s);
}

/* s is one of the NULL-terminated list l. */
static bool
in_list(const char *const *l, const char *s)
{
	for (; *l; l++) {
		if (strcmp(*l, s) == 0)
			return true;
	}
	return false;
}

void
conf_wipe_values(
    struct conf *c, const char *const *types, const char *const *keys)
{
	for (size_t i = 0; c && i < c->nsecs; i++) {
		struct conf_section *s = &c->secs[i];
		if (types && !in_list(types, s->type))
			continue;
		for (size_t j = 0; j < s->nitems; j++) {
			if (in_list(keys, s->items[j].key))
				secure_wipe(
				    s->items[j].val, strlen(s->items[j].val));
		}
	}
}
