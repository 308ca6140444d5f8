/* SIP, SIPS and other URIs (RFC 3261 section 19.1, 25.1; RFC 3966 for tel). */
#ifndef NGV_SIP_URI_H
#define NGV_SIP_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/slice.h"

enum sip_uri_scheme {
	SIP_URI_SIP,
	SIP_URI_SIPS,
	SIP_URI_TEL,
	SIP_URI_OTHER, /* absoluteURI: kept as data, e.g. in To or Contact */
};

/*
 * A parsed URI. Every slice borrows from the parsed text and is kept in its
 * escaped form; sip_unescape() decodes a part when its value matters.
 */
struct sip_uri {
	enum sip_uri_scheme scheme;
	struct slice scheme_s; /* as written */
	struct slice user;     /* userinfo user, or the tel number */
	struct slice password;
	struct slice host; /* without the brackets of an IPv6 reference */
	uint16_t port;     /* 0 when absent */
	bool ipv6;
	struct slice params;  /* ";a=b;lr", starting at the first ';' */
	struct slice headers; /* after '?' */
	struct slice opaque;  /* for SIP_URI_OTHER: everything after ':' */
	struct slice raw;
};

/*
 * Parses a URI that must fill the whole slice. sip: and sips: are parsed
 * strictly; tel: and other schemes are accepted as absoluteURI text.
 * Returns 0 or EBADMSG.
 */
int sip_uri_parse(struct sip_uri *u, struct slice s);

/*
 * Looks up a ;name[=value] parameter in a parameter list such as
 * sip_uri.params or a header's parameters (case-insensitive names, LWS
 * around ';' and '=' tolerated). Returns 0 with *val set (empty when the
 * parameter has no value), or ENOENT.
 */
int sip_param_get(struct slice params, const char *name, struct slice *val);

/* Decodes %HH escapes into out (NUL-terminated). Returns 0, EBADMSG or ENOSPC. */
int sip_unescape(struct slice in, char *out, size_t outsz, size_t *outlen);

/* Compares two SIP URIs by the rules of RFC 3261 section 19.1.4. */
bool sip_uri_eq(const struct sip_uri *a, const struct sip_uri *b);

/* Default port of a URI: the given one, or 5061 for sips and 5060 otherwise. */
uint16_t sip_uri_port(const struct sip_uri *u);

#endif
