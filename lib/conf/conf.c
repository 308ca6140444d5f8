/* INI-style configuration: parsing with line numbers, schema binding, clear errors. */
#include "conf/conf.h"
#include "core/secure.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_MAX_BYTES (4 * 1024 * 1024)

const char *
conf_err_str(const struct conf_err *err, char *buf, size_t sz)
{
	if (err->line)
		snprintf(buf, sz, "%s:%u: %s", err->file, err->line, err->msg);
	else
		snprintf(buf, sz, "%s: %s", err->file, err->msg);
	return buf;
}

static void
err_set(struct conf_err *err, const char *file, unsigned line, const char *fmt,
    va_list ap)
{
	if (err == NULL)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "?");
	err->line = line;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

static int fail(struct conf_err *err, const char *file, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail(
    struct conf_err *err, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_set(err, file, line, fmt, ap);
	va_end(ap);
	return EBADMSG;
}

int
conf_fail(struct conf_err *err, const struct conf *c, unsigned line,
    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_set(err, c ? c->file : "?", line, fmt, ap);
	va_end(ap);
	return EINVAL;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nsecs; i++) {
		struct conf_section *s = &c->secs[i];
		for (size_t j = 0; j < s->nitems; j++) {
			/* Values may be passwords: wipe before freeing. */
			if (s->items[j].val)
				secure_wipe(
				    s->items[j].val, strlen(s->items[j].val));
			free(s->items[j].key);
			free(s->items[j].val);
		}
		free(s->items);
		free(s->type);
		free(s->name);
	}
	free(c->secs);
	free(c->file);
	free(c);
}

static char *
dupn(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *
trim_end(const char *s, const char *p)
{
	while (p > s && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\r'))
		p--;
	return p;
}

/* Parses "quoted \"text\"" at p; returns a new string or NULL (bad). */
static char *
unquote(const char *p, const char *end, const char **after)
{
	char *out = malloc((size_t)(end - p) + 1);
	size_t n = 0;

	if (out == NULL)
		return NULL;
	for (p++; p < end; p++) {
		if (*p == '"') {
			out[n] = '\0';
			*after = p + 1;
			return out;
		}
		if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
			p++;
		out[n++] = *p;
	}
	free(out);
	return NULL;
}

static bool
valid_key(const char *p, size_t n)
{
	if (n == 0 || !islower((unsigned char)p[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!islower((unsigned char)c) && !isdigit((unsigned char)c) &&
		    c != '_')
			return false;
	}
	return true;
}

static bool
valid_type(const char *p, size_t n)
{
	if (n == 0 || !islower((unsigned char)p[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!islower((unsigned char)c) && !isdigit((unsigned char)c) &&
		    c != '-' && c != '_')
			return false;
	}
	return true;
}

static int
add_section(
    struct conf *c, char *type, char *name, unsigned line, struct conf_err *err)
{
	struct conf_section *ns;

	for (size_t i = 0; i < c->nsecs; i++) {
		struct conf_section *s = &c->secs[i];
		if (strcmp(s->type, type) == 0 &&
		    ((!s->name && !name) ||
		        (s->name && name && strcasecmp(s->name, name) == 0))) {
			int rc = fail(err, c->file, line,
			    "[%s%s%s%s] is defined twice (first at line %u)",
			    type, name ? " \"" : "", name ? name : "",
			    name ? "\"" : "", s->line);
			free(type);
			free(name);
			return rc;
		}
	}
	ns = realloc(c->secs, (c->nsecs + 1) * sizeof(*ns));
	if (ns == NULL) {
		free(type);
		free(name);
		return ENOMEM;
	}
	c->secs = ns;
	memset(&ns[c->nsecs], 0, sizeof(*ns));
	ns[c->nsecs].type = type;
	ns[c->nsecs].name = name;
	ns[c->nsecs].line = line;
	c->nsecs++;
	return 0;
}

static int
parse_section(struct conf *c, const char *p, const char *end, unsigned line,
    struct conf_err *err)
{
	const char *q = skip_ws(p + 1, end), *ts = q;
	char *type, *name = NULL;

	while (q < end && *q != ']' && *q != ' ' && *q != '\t' && *q != '"')
		q++;
	if (!valid_type(ts, (size_t)(q - ts)))
		return fail(err, c->file, line,
		    "bad section header: expected [type] or [type \"name\"]");
	type = dupn(ts, (size_t)(q - ts));
	q = skip_ws(q, end);
	if (q < end && *q == '"') {
		name = unquote(q, end, &q);
		if (name == NULL || name[0] == '\0') {
			free(type);
			free(name);
			return fail(err, c->file, line,
			    "bad section name: unterminated or empty quotes");
		}
		q = skip_ws(q, end);
	}
	if (q >= end || *q != ']' || skip_ws(q + 1, end) != end) {
		free(type);
		free(name);
		return fail(err, c->file, line,
		    "bad section header: missing ']' or text after it");
	}
	return add_section(c, type, name, line, err);
}

static int
parse_item(struct conf *c, const char *p, const char *end, unsigned line,
    struct conf_err *err)
{
	const char *eq = memchr(p, '=', (size_t)(end - p));
	const char *ke, *vs;
	struct conf_section *s;
	struct conf_item *ni;
	char *val;

	if (eq == NULL)
		return fail(err, c->file, line,
		    "expected 'key = value', '[section]' or a comment");
	ke = trim_end(p, eq);
	if (!valid_key(p, (size_t)(ke - p)))
		return fail(err, c->file, line,
		    "bad option name '%.*s': use lower case letters, digits "
		    "and '_'",
		    (int)(ke - p), p);
	if (c->nsecs == 0)
		return fail(err, c->file, line,
		    "option '%.*s' outside of any [section]", (int)(ke - p), p);
	vs = skip_ws(eq + 1, end);
	if (vs < end && *vs == '"') {
		const char *after;
		val = unquote(vs, end, &after);
		if (val == NULL)
			return fail(
			    err, c->file, line, "unterminated quoted value");
		if (skip_ws(after, end) != end) {
			free(val);
			return fail(
			    err, c->file, line, "text after the closing quote");
		}
	} else {
		val = dupn(vs, (size_t)(trim_end(vs, end) - vs));
	}
	if (val == NULL)
		return ENOMEM;
	s = &c->secs[c->nsecs - 1];
	ni = realloc(s->items, (s->nitems + 1) * sizeof(*ni));
	if (ni == NULL) {
		free(val);
		return ENOMEM;
	}
	s->items = ni;
	ni[s->nitems].key = dupn(p, (size_t)(ke - p));
	ni[s->nitems].val = val;
	ni[s->nitems].line = line;
	ni[s->nitems].used = false;
	s->nitems++;
	return ni[s->nitems - 1].key ? 0 : ENOMEM;
}

int
conf_parse(struct conf **cp, const char *name, const char *text, size_t len,
    struct conf_err *err)
{
	struct conf *c;
	const char *p = text, *end = text + len;
	unsigned line = 0;
	int rc = 0;

	if (cp == NULL || (text == NULL && len))
		return EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->file = strdup(name ? name : "-")) == NULL) {
		free(c);
		return ENOMEM;
	}
	while (p < end && rc == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s;
		line++;
		if (memchr(p, '\0', (size_t)(le - p))) {
			rc = fail(err, c->file, line, "NUL byte in the file");
			break;
		}
		s = skip_ws(p, le);
		le = trim_end(s, le);
		if (s == le || *s == '#' || *s == ';')
			; /* blank or comment */
		else if (*s == '[')
			rc = parse_section(c, s, le, line, err);
		else
			rc = parse_item(c, s, le, line, err);
		p = nl ? nl + 1 : end;
	}
	if (rc) {
		conf_free(c);
		return rc;
	}
	*cp = c;
	return 0;
}

int
conf_load(struct conf **cp, const char *path, struct conf_err *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (f == NULL) {
		rc = errno;
		if (err) {
			snprintf(err->file, sizeof(err->file), "%s", path);
			err->line = 0;
			snprintf(err->msg, sizeof(err->msg), "cannot open: %s",
			    strerror(rc));
		}
		return rc;
	}
	for (;;) {
		if (n == cap) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			/* Not realloc: the old copy may hold passwords. */
			if (cap > CONF_MAX_BYTES + 1 ||
			    (nb = malloc(cap)) == NULL) {
				if (buf)
					secure_wipe(buf, n);
				free(buf);
				fclose(f);
				return fail(err, path, 0,
				    "file too large (over %d bytes)",
				    CONF_MAX_BYTES);
			}
			if (n) {
				memcpy(nb, buf, n);
				secure_wipe(buf, n);
			}
			free(buf);
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	rc = conf_parse(cp, path, buf, n, err);
	if (buf)
		secure_wipe(buf, n);
	free(buf);
	return rc;
}

const struct conf_section *
conf_find(const struct conf *c, const char *type, const char *name)
{
	for (size_t i = 0; i < c->nsecs; i++) {
		const struct conf_section *s = &c->secs[i];
		if (strcmp(s->type, type) != 0)
			continue;
		if ((!name && !s->name) ||
		    (name && s->name && strcasecmp(name, s->name) == 0))
			return s;
	}
	return NULL;
}

/* ---- binding ---- */

static int
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return EINVAL;
}

static int
parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	unsigned long long n = 0;

	if (*v == '\0')
		return EINVAL;
	for (const char *p = v; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return EINVAL;
		n = n * 10 + (unsigned)(*p - '0');
		if (n > UINT32_MAX)
			return ERANGE;
	}
	if (n < min || n > max)
		return ERANGE;
	*out = (unsigned)n;
	return 0;
}

static void
list_free(char **l)
{
	if (l == NULL)
		return;
	for (char **p = l; *p; p++)
		free(*p);
	free(l);
}

/* Appends the comma-separated parts of v to *lp. */
static int
list_add(char ***lp, const char *v)
{
	size_t n = 0;
	char **l = *lp;

	while (l && l[n])
		n++;
	const char *p = v;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		const char *s = p;
		while (*p && *p != ',')
			p++;
		const char *e = trim_end(s, p);
		char **nl = realloc(l, (n + 2) * sizeof(*nl));
		if (nl == NULL)
			return ENOMEM;
		/* realloc() freed the old array: *lp must follow at once. */
		l = nl;
		*lp = l;
		l[n] = dupn(s, (size_t)(e - s));
		if (l[n] == NULL)
			return ENOMEM;
		l[++n] = NULL;
	}
	return 0;
}

static int
set_value(const struct conf *c, const struct conf_field *f, const char *v,
    unsigned line, const char *where, void *out, struct conf_err *err)
{
	char *dst = (char *)out + f->offset;
	char why[160] = "";
	unsigned u;
	bool b;

	if (f->parse) {
		if (f->parse(v, dst, why, sizeof(why)) != 0)
			return conf_fail(err, c, line,
			    "bad value '%s' for %s in %s: %s", v, f->key, where,
			    why[0] ? why : "not accepted");
		return 0;
	}
	switch (f->type) {
	case CONF_STR: {
		char *s = strdup(v);
		if (s == NULL)
			return ENOMEM;
		free(*(char **)dst);
		*(char **)dst = s;
		return 0;
	}
	case CONF_BOOL:
		if (parse_bool(v, &b) != 0)
			return conf_fail(err, c, line,
			    "bad value '%s' for %s in %s: expected yes or no",
			    v, f->key, where);
		*(bool *)dst = b;
		return 0;
	case CONF_UINT:
		if (parse_uint(v, f->min, f->max, &u) != 0)
			return conf_fail(err, c, line,
			    "bad value '%s' for %s in %s: expected a whole "
			    "number from %u to %u",
			    v, f->key, where, f->min, f->max);
		*(unsigned *)dst = u;
		return 0;
	case CONF_PORT:
		if (parse_uint(v, 1, 65535, &u) != 0)
			return conf_fail(err, c, line,
			    "bad value '%s' for %s in %s: expected a port from "
			    "1 to 65535",
			    v, f->key, where);
		*(uint16_t *)dst = (uint16_t)u;
		return 0;
	case CONF_ENUM:
		for (int i = 0; f->names && f->names[i]; i++) {
			if (strcasecmp(v, f->names[i]) == 0) {
				*(int *)dst = i;
				return 0;
			}
		}
		{
			char opts[400] = "";
			size_t n = 0;
			for (int i = 0; f->names && f->names[i]; i++) {
				int r = snprintf(opts + n, sizeof(opts) - n,
				    "%s'%s'", i ? ", " : "", f->names[i]);
				if (r < 0 || (size_t)r >= sizeof(opts) - n)
					break;
				n += (size_t)r;
			}
			return conf_fail(err, c, line,
			    "bad value '%s' for %s in %s: expected one of %s",
			    v, f->key, where, opts);
		}
	case CONF_LIST:
		return list_add((char ***)dst, v) == 0 ? 0 : ENOMEM;
	}
	return EINVAL;
}

/* Levenshtein distance, capped, for "did you mean" hints. */
static unsigned
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned d = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned x = prev[j] + 1, y = cur[j - 1] + 1;
			cur[j] = d < x ? (d < y ? d : y) : (x < y ? x : y);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(unsigned));
	}
	return prev[lb];
}

int
conf_bind(const struct conf *c, const struct conf_section *s,
    const struct conf_field *fields, size_t nfields, void *out,
    struct conf_err *err)
{
	char where[200];
	int rc;

	snprintf(where, sizeof(where), "[%s%s%s%s]", s->type,
	    s->name ? " \"" : "", s->name ? s->name : "", s->name ? "\"" : "");
	for (size_t i = 0; i < nfields; i++) {
		if (fields[i].def &&
		    (rc = set_value(c, &fields[i], fields[i].def, s->line,
		         where, out, err)) != 0)
			return rc;
	}
	for (size_t j = 0; j < s->nitems; j++) {
		struct conf_item *it = &s->items[j];
		const struct conf_field *f = NULL;
		for (size_t i = 0; i < nfields; i++) {
			if (strcmp(fields[i].key, it->key) == 0) {
				f = &fields[i];
				break;
			}
		}
		if (f == NULL) {
			const char *best = NULL;
			unsigned bd = 3;
			for (size_t i = 0; i < nfields; i++) {
				unsigned d = distance(it->key, fields[i].key);
				if (d < bd) {
					bd = d;
					best = fields[i].key;
				}
			}
			return conf_fail(err, c, it->line,
			    "unknown option '%s' in %s%s%s%s", it->key, where,
			    best ? " (did you mean '" : "", best ? best : "",
			    best ? "'?)" : "");
		}
		if (f->type != CONF_LIST) {
			for (size_t k = 0; k < j; k++) {
				if (strcmp(s->items[k].key, it->key) == 0)
					return conf_fail(err, c, it->line,
					    "%s is set twice in %s (first at "
					    "line %u)",
					    it->key, where, s->items[k].line);
			}
		}
		/* A list set in the file replaces its default. */
		if (f->type == CONF_LIST && f->def) {
			bool first = true;
			for (size_t k = 0; k < j; k++)
				first &= strcmp(s->items[k].key, it->key) != 0;
			if (first) {
				char **dst = (char **)((char *)out + f->offset);
				list_free((char **)*(void **)dst);
				*(void **)dst = NULL;
			}
		}
		if ((rc = set_value(
		         c, f, it->val, it->line, where, out, err)) != 0)
			return rc;
		it->used = true;
	}
	for (size_t i = 0; i < nfields; i++) {
		if (!fields[i].required)
			continue;
		bool found = false;
		for (size_t j = 0; j < s->nitems && !found; j++)
			found = strcmp(s->items[j].key, fields[i].key) == 0;
		if (!found)
			return conf_fail(err, c, s->line, "%s needs %s", where,
			    fields[i].key);
	}
	return 0;
}

void
conf_unbind(const struct conf_field *fields, size_t nfields, void *out)
{
	for (size_t i = 0; i < nfields; i++) {
		void *dst = (char *)out + fields[i].offset;
		if (fields[i].parse)
			continue;
		if (fields[i].type == CONF_STR) {
			free(*(char **)dst);
			*(char **)dst = NULL;
		} else if (fields[i].type == CONF_LIST) {
			list_free(*(char ***)dst);
			*(char ***)dst = NULL;
		}
	}
}

/* ---- value helpers shared by the daemons' loaders ---- */

/*
 * Compares two labels ignoring case, spaces, '-', '_' and ',': "Non Secure",
 * "non-secure" and "NonSecure" are the same option, as are "AEAD AES256
 * GCM-based ciphers only" and "aead aes256 gcm based ciphers only".
 */
bool
conf_label_eq(const char *a, const char *b)
{
	static const char skip[] = " \t-_,";

	for (;;) {
		while (*a && strchr(skip, *a))
			a++;
		while (*b && strchr(skip, *b))
			b++;
		if (*a == '\0' || *b == '\0')
			return *a == '\0' && *b == '\0';
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		a++;
		b++;
	}
}

bool
conf_is_ipv4(const char *s)
{
	struct in_addr a;
	return inet_pton(AF_INET, s, &a) == 1;
}

bool
conf_is_ipv6(const char *s)
{
	struct in6_addr a;
	return inet_pton(AF_INET6, s, &a) == 1;
}

/* Only digits and dots: meant as an IPv4 address, not a name. */
bool
conf_looks_ipv4(const char *s)
{
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) && *s != '.')
			return false;
	}
	return true;
}

/* A DNS name: labels of letters, digits, '-' and '_', 1-63 each. */
bool
conf_valid_hostname(const char *s)
{
	size_t n = strlen(s), lab = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!isalnum((unsigned char)ch) && ch != '-' && ch != '_')
			return false;
		if (lab == 0 && ch == '-')
			return false;
		if (++lab > 63)
			return false;
	}
	return lab > 0 && s[n - 1] != '-';
}

int
conf_path(const struct conf *c, struct conf_err *err, unsigned line,
    const char *key, const char *dir, char **pathp, unsigned flags,
    unsigned *open_mode)
{
	struct stat st;
	char *abs;

	*open_mode = 0;
	if (*pathp == NULL)
		return 0;
	if ((*pathp)[0] == '\0')
		return conf_fail(err, c, line, "%s is empty", key);
	if ((*pathp)[0] != '/' && dir) {
		size_t n = strlen(dir) + strlen(*pathp) + 2;
		if ((abs = malloc(n)) == NULL)
			return ENOMEM;
		snprintf(abs, n, "%s%s%s", dir,
		    strcmp(dir, "/") == 0 ? "" : "/", *pathp);
		free(*pathp);
		*pathp = abs;
	}
	if (flags & CONF_PATH_MAY_NOT_EXIST)
		return 0;
	if (stat(*pathp, &st) != 0)
		return conf_fail(err, c, line, "%s: cannot read %s: %s", key,
		    *pathp, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if (!(flags & CONF_PATH_DIR_OK))
			return conf_fail(err, c, line,
			    "%s: %s is a directory, not a PEM file", key,
			    *pathp);
		if (access(*pathp, R_OK | X_OK) != 0)
			return conf_fail(err, c, line, "%s: cannot read %s: %s",
			    key, *pathp, strerror(errno));
		return 0;
	}
	if (flags & CONF_PATH_DIR_ONLY)
		return conf_fail(
		    err, c, line, "%s: %s is not a directory", key, *pathp);
	if (!S_ISREG(st.st_mode))
		return conf_fail(
		    err, c, line, "%s: %s is not a regular file", key, *pathp);
	if (access(*pathp, R_OK) != 0)
		return conf_fail(err, c, line, "%s: cannot read %s: %s", key,
		    *pathp, strerror(errno));
	if ((flags & CONF_PATH_SECRET) && (st.st_mode & 077)) {
		/* A daemon does not start with a key others can read. */
		*open_mode = (unsigned)(st.st_mode & 0777);
		return conf_fail(err, c, line,
		    "%s: the private key %s is readable by group or others "
		    "(mode %03o): chmod 600 it",
		    key, *pathp, *open_mode);
	}
	return 0;
}

int
conf_label_find(const struct conf_label *t, const char *v, int *out)
{
	for (; t->s; t++) {
		if (conf_label_eq(v, t->s)) {
			*out = t->val;
			return 0;
		}
	}
	return EINVAL;
}

const char *
conf_label_of(const struct conf_label *t, int v)
{
	for (; t->s; t++) {
		if (t->val == v)
			return t->s;
	}
	return "?";
}

const struct conf_item *
conf_item_find(const struct conf_section *s, const char *key)
{
	for (size_t i = 0; s && i < s->nitems; i++) {
		if (strcmp(s->items[i].key, key) == 0)
			return &s->items[i];
	}
	return NULL;
}

unsigned
conf_item_line(const struct conf_section *s, const char *key)
{
	const struct conf_item *it = conf_item_find(s, key);
	return it ? it->line : (s ? s->line : 0);
}

int
conf_file_dir(const char *path, char **dirp)
{
	char *abs = realpath(path, NULL), *slash;

	if (abs == NULL)
		return errno ? errno : ENOENT;
	slash = strrchr(abs, '/');
	if (slash == abs)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	*dirp = abs;
	return 0;
}
