/* The configuration reader: INI-style sections, typed fields bound by a schema, errors with file:line. */
#ifndef NGV_CONF_CONF_H
#define NGV_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * File syntax:
 *   # comment              (also ';'), whole lines only
 *   [section]              e.g. [enterprise]
 *   [section "name"]       e.g. [sip-trunk "CUCv11"]
 *   key = value            value to end of line, trimmed; or "quoted" with
 *                          \" \\ escapes; keys are lower case with '_'
 */

/* An error: where and what, ready to print as "file:line: message". */
struct conf_err {
	char file[256];
	unsigned line;
	char msg[256];
};

/* Formats err as "file:line: message" into buf; returns buf. */
const char *conf_err_str(const struct conf_err *err, char *buf, size_t sz);

struct conf_item {
	char *key;
	char *val;
	unsigned line;
	bool used; /* set by binding; unused items are unknown options */
};

struct conf_section {
	char *type;
	char *name; /* NULL for [type] without a name */
	unsigned line;
	struct conf_item *items;
	size_t nitems;
};

struct conf {
	char *file;
	struct conf_section *secs;
	size_t nsecs;
};

/* Reads and parses a file. Returns 0, ENOENT/EACCES (open), EBADMSG (syntax) with err. */
int conf_load(struct conf **cp, const char *path, struct conf_err *err);
/* Parses text; name is used in errors. Same returns as conf_load. */
int conf_parse(struct conf **cp, const char *name, const char *text, size_t len,
    struct conf_err *err);
void conf_free(struct conf *c);

/* ---- typed binding ---- */

enum conf_type {
	CONF_STR,  /* char * (owned copy) */
	CONF_BOOL, /* bool: yes/no, true/false, on/off, 1/0 */
	CONF_UINT, /* unsigned, within [min, max] */
	CONF_ENUM, /* int: index into names (case-insensitive) */
	CONF_LIST, /* char ** NULL-terminated, from repeated keys or a
		      comma-separated value */
	CONF_PORT, /* uint16_t, 1-65535 */
};

struct conf_field {
	const char *key;
	enum conf_type type;
	size_t offset;            /* in the bound struct */
	unsigned min, max;        /* CONF_UINT */
	const char *const *names; /* CONF_ENUM, NULL-terminated */
	/*
	 * Optional parser for values the types above cannot express (e.g.
	 * a TLS Ciphers label): returns 0, or EINVAL and writes why.
	 */
	int (*parse)(const char *val, void *dst, char *why, size_t whysz);
	const char *def; /* default as text, NULL: zero */
	bool required;
};

/*
 * Binds one section to a struct using fields: applies defaults, then the
 * section's items. Unknown keys, bad values, duplicates of non-list keys and
 * missing required keys are errors naming the line. Returns 0 or EINVAL.
 */
int conf_bind(const struct conf *c, const struct conf_section *s,
    const struct conf_field *fields, size_t nfields, void *out,
    struct conf_err *err);

/* Frees what conf_bind allocated in out (strings and lists). */
void conf_unbind(const struct conf_field *fields, size_t nfields, void *out);

/* Sets err for a line of c (printf format). Returns EINVAL. */
int conf_fail(struct conf_err *err, const struct conf *c, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Finds a section by type and name (name NULL for unnamed); NULL if none. */
const struct conf_section *conf_find(
    const struct conf *c, const char *type, const char *name);

/*
 * Compares two option labels ignoring case, spaces, '-', '_' and ',':
 * "Non Secure", "non-secure" and "NonSecure" are the same option.
 */
bool conf_label_eq(const char *a, const char *b);
/* A DNS name: labels of letters, digits, '-' and '_', 1-63 each. */
bool conf_valid_hostname(const char *s);
bool conf_is_ipv4(const char *s);
bool conf_is_ipv6(const char *s);
/* Only digits and dots: meant as an IPv4 address, not a name. */
bool conf_looks_ipv4(const char *s);

#define CONF_PATH_DIR_OK        0x1 /* a directory is fine (trust stores) */
#define CONF_PATH_DIR_ONLY      0x2 /* must be a directory (with DIR_OK) */
#define CONF_PATH_SECRET        0x4 /* a private key: report open modes */
#define CONF_PATH_MAY_NOT_EXIST 0x8 /* only resolve (created later) */
/*
 * Resolves a path option against dir (the configuration file's directory)
 * in place and checks it can be read. A secret file readable by group or
 * others is refused (EINVAL); *open_mode then gets its permission bits. Returns 0, ENOMEM, or
 * EINVAL with err naming line and key.
 */
int conf_path(const struct conf *c, struct conf_err *err, unsigned line,
    const char *key, const char *dir, char **pathp, unsigned flags,
    unsigned *open_mode);

/* An option's accepted spellings: the first of a value is the guide's. */
struct conf_label {
	int val;
	const char *s;
};
/* Finds v (conf_label_eq) in a table ending with s NULL: 0 or EINVAL. */
int conf_label_find(const struct conf_label *t, const char *v, int *out);
/* The first label of a value, "?" if none. */
const char *conf_label_of(const struct conf_label *t, int v);
/* The item of key in s (NULL if none or s NULL). */
const struct conf_item *conf_item_find(
    const struct conf_section *s, const char *key);
/* The line that set key, or the section's line when the default applies. */
unsigned conf_item_line(const struct conf_section *s, const char *key);
/* The absolute directory of a file (malloc'd), for relative paths. */
int conf_file_dir(const char *path, char **dirp);

#endif
