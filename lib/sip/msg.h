/* SIP messages: zero-copy parsing, typed header access and limits (RFC 3261 sections 7, 20, 25). */
#ifndef NGV_SIP_MSG_H
#define NGV_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"
#include "sip/uri.h"

/* Header names the stack knows; everything else is SIP_HDR_OTHER. */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_ACCEPT,
	SIP_HDR_ALLOW,
	SIP_HDR_ALLOW_EVENTS,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_CALL_ID,
	SIP_HDR_CALL_INFO,
	SIP_HDR_CONTACT,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_CSEQ,
	SIP_HDR_DATE,
	SIP_HDR_DIVERSION,
	SIP_HDR_EVENT,
	SIP_HDR_EXPIRES,
	SIP_HDR_FROM,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_REFER_TO,
	SIP_HDR_REQUIRE,
	SIP_HDR_ROUTE,
	SIP_HDR_SERVER,
	SIP_HDR_SESSION_EXPIRES,
	SIP_HDR_SUBJECT,
	SIP_HDR_SUBSCRIPTION_STATE,
	SIP_HDR_SUPPORTED,
	SIP_HDR_TO,
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_USER_AGENT,
	SIP_HDR_VIA,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR__COUNT
};

/* Canonical name of a known header ("Call-ID"), NULL for SIP_HDR_OTHER. */
const char *sip_hdr_name(enum sip_hdr_id id);
/* Maps a header name, long or compact form, case-insensitively. */
enum sip_hdr_id sip_hdr_lookup(struct slice name);

/* One header line; slices borrow from the message buffer. */
struct sip_hdr {
	struct slice name;
	struct slice val; /* trimmed; may hold folded CRLF+WS inside */
	uint16_t id;      /* enum sip_hdr_id */
	uint16_t next; /* index+1 of the next header with the same id, 0 ends */
};

/* Limits checked while parsing, before any structure is built. */
struct sip_limits {
	size_t max_start_line;   /* bytes of the request or status line */
	unsigned max_headers;    /* header lines, at most SIP_HDR_CAP */
	size_t max_header_bytes; /* start line + headers + blank line */
	size_t max_body;         /* Content-Length / datagram body */
};

#define SIP_HDR_CAP 256
/* Defaults: documented in docs/configuration.md ("SIP message limits"). */
#define SIP_LIMITS_DEFAULT                                                     \
	{                                                                      \
		.max_start_line = 4096, .max_headers = 128,                    \
		.max_header_bytes = 16384, .max_body = 65536                   \
	}

/* A header value such as From, To, Contact, Route, Diversion, Call-Info. */
struct sip_addr {
	struct slice dname; /* display name, without quotes */
	struct slice uri_s; /* the URI text */
	struct sip_uri uri;
	struct slice params; /* header parameters, from the first ';' */
	struct slice tag;    /* the tag parameter, if any */
	bool star;           /* Contact: * */
	struct slice raw;
};

struct sip_via {
	struct slice proto_name; /* "SIP" */
	struct slice proto_ver;  /* "2.0" */
	struct slice transport;  /* "UDP", "TCP", "TLS", ... */
	struct slice sentby;     /* host[:port] as written */
	struct slice host;       /* without IPv6 brackets */
	uint16_t port;           /* 0 when absent */
	bool ipv6;
	struct slice params; /* from the first ';' */
	struct slice branch;
	struct slice received;
	bool has_rport;
	struct slice rport; /* value, empty when only ";rport" */
	struct slice raw;
};

struct sip_cseq {
	uint32_t num;
	struct slice method;
};

struct sip_ctype {
	struct slice type;
	struct slice subtype;
	struct slice params;
};

/*
 * A parsed message. It borrows buf: the bytes must outlive the struct.
 * Parsing allocates nothing; the header table is inline.
 */
struct sip_msg {
	const char *buf;
	size_t len;
	bool req;

	/* Request line */
	struct slice method;
	struct slice ruri_s;
	struct sip_uri ruri;
	/* Status line */
	uint16_t scode;
	struct slice reason;

	struct sip_hdr hdr[SIP_HDR_CAP];
	unsigned hdrc;
	uint16_t first[SIP_HDR__COUNT]; /* index+1 of first header by id */
	uint16_t count[SIP_HDR__COUNT];

	/* Typed copies of what every message needs. */
	struct sip_via via; /* the top Via */
	struct sip_addr from;
	struct sip_addr to;
	struct slice callid;
	struct sip_cseq cseq;
	uint32_t maxfwd;
	bool has_maxfwd;
	uint32_t expires;
	bool has_expires;
	size_t clen;
	bool has_clen;
	struct sip_ctype ctype;
	struct slice body;
};

/*
 * What went wrong in a message that did not parse: the status code to answer
 * with (0 when nothing may be answered, e.g. a broken response), and a
 * reason phrase naming the problem.
 */
struct sip_perr {
	uint16_t status;
	char reason[96];
	bool can_reply; /* a request with Via and CSeq: an answer can be made */
};

/*
 * Parses a whole message. With stream set, the body is exactly
 * Content-Length bytes (0 when absent) and buf holds exactly one framed
 * message (see sip_msg_frame()); otherwise buf is a datagram, the body runs to
 * its end or is cut at Content-Length. Returns 0 or EBADMSG with *err filled.
 */
int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, bool stream,
    const struct sip_limits *lim, struct sip_perr *err);

/*
 * Finds where the next message on a stream ends. Leading CRLFs (RFC 5626
 * keep-alives) are reported in *skip and not part of the message. Returns 0
 * with *msglen set, ENODATA when more bytes are needed, EBADMSG when framing is
 * lost (the connection should close) with *err filled, or EMSGSIZE when a
 * limit is exceeded.
 */
int sip_msg_frame(const char *buf, size_t len, const struct sip_limits *lim,
    size_t *skip, size_t *msglen, struct sip_perr *err);

/* First header with this id, or NULL. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id);
/* Next header with the same id as h, or NULL. */
const struct sip_hdr *sip_msg_hdr_next(
    const struct sip_msg *m, const struct sip_hdr *h);
/* First header with this name (any header, compact forms mapped), or NULL. */
const struct sip_hdr *sip_msg_hdr_byname(
    const struct sip_msg *m, const char *name);

/*
 * Iterates over the comma-separated values of all headers with one id, in
 * order (Via, Contact, Route, Supported...). Commas in quoted strings and
 * inside <...> do not split. Initialise it with sip_values_init().
 */
struct sip_values {
	const struct sip_msg *m;
	const struct sip_hdr *h;
	struct slice rest;
};
void sip_values_init(
    struct sip_values *it, const struct sip_msg *m, enum sip_hdr_id id);
/* Returns true with *v set (trimmed), false at the end. */
bool sip_values_next(struct sip_values *it, struct slice *v);
/* Splits one value off a comma-separated slice; false at the end. */
bool sip_list_next(struct slice *rest, struct slice *v);

/* True when a token list header (Supported, Require, Allow...) holds tok. */
bool sip_msg_has_token(
    const struct sip_msg *m, enum sip_hdr_id id, const char *tok);

/* Header value parsers: each takes one value and returns 0 or EBADMSG. */
int sip_addr_parse(struct sip_addr *a, struct slice s);
int sip_via_parse(struct sip_via *v, struct slice s);
int sip_cseq_parse(struct sip_cseq *c, struct slice s);
int sip_ctype_parse(struct sip_ctype *c, struct slice s);
/*
 * Checks a ;name[=value] header parameter list (LWS allowed around ';' and
 * '='; values are tokens, quoted strings or hosts). Empty names fail.
 */
int sip_params_check(struct slice params);

/* Event: package and id parameter (RFC 6665). */
struct sip_event {
	struct slice package;
	struct slice id;
};
int sip_event_parse(struct sip_event *e, struct slice s);

/* Subscription-State: state, expires, reason (RFC 6665). */
struct sip_substate {
	struct slice state;
	struct slice reason;
	uint32_t expires;
	bool has_expires;
};
int sip_substate_parse(struct sip_substate *ss, struct slice s);

/* True for a method token (RFC 3261 Method). */
bool sip_method_eq(struct slice m, const char *name);

#endif
