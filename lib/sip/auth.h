/* SIP digest authentication: parse, challenge, verify and respond (RFC 3261 section 22, RFC 7616, RFC 8760). */
#ifndef NGV_SIP_AUTH_H
#define NGV_SIP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/slice.h"

/* Digest algorithms (RFC 7616 section 3.3, RFC 8760); no -sess variants. */
enum sip_auth_alg {
	SIP_AUTH_MD5,
	SIP_AUTH_SHA256,
	SIP_AUTH_SHA512_256,
};

/* Longest hex digest (SHA-256, SHA-512-256) and a buffer for it with NUL. */
#define SIP_AUTH_HEX_MAX   64
#define SIP_AUTH_HEX_BUFSZ (SIP_AUTH_HEX_MAX + 1)
/* Nonce validity time in seconds when none is configured. */
#define SIP_AUTH_LIFETIME_DEFAULT 300

/*
 * One WWW-Authenticate, Proxy-Authenticate, Authorization or
 * Proxy-Authorization header value. Every slice borrows from the parsed
 * value. Quoted values are given without their quotes but still escaped:
 * pass them through sip_auth_unescape() when the text matters. Unset
 * parameters are SLICE_NULL; an empty quoted value is set with length 0.
 */
struct sip_auth_params {
	struct slice scheme; /* as written, e.g. "Digest" */
	bool digest;         /* scheme is Digest (any case) */
	/* All after the scheme: the only thing kept for other schemes. */
	struct slice rest;
	struct slice realm;
	struct slice nonce;
	struct slice opaque;
	struct slice algorithm; /* unset means MD5 */
	struct slice qop;       /* a list in challenges: "auth,auth-int" */
	struct slice stale;
	struct slice username;
	struct slice uri;
	struct slice response;
	struct slice cnonce;
	struct slice nc;
	struct slice userhash;
};

/*
 * Parses a header value: the scheme, then for Digest the comma-separated
 * auth-params (token or quoted-string values, LWS and folded lines allowed
 * around '=' and ','). Unknown parameters are skipped; a known one given twice
 * is an error. A value with another scheme parses with digest false and its
 * parameters left unparsed in rest. Returns 0 or EBADMSG.
 */
int sip_auth_parse(struct sip_auth_params *a, struct slice value);

/*
 * Decodes the quoted-pair escapes of a quoted value into out, NUL-terminated.
 * Returns 0, or ENOSPC when out is too small.
 */
int sip_auth_unescape(struct slice in, char *out, size_t outsz, size_t *outlen);

/* True when a qop list such as "auth, auth-int" holds tok (any case). */
bool sip_auth_qop_has(struct slice qop, const char *tok);

/* True when a challenge carries stale=true (any case). */
bool sip_auth_is_stale(const struct sip_auth_params *a);

/*
 * Maps an algorithm parameter; an unset slice is MD5 (RFC 7616 section
 * 3.3). Returns 0, or ENOTSUP for an algorithm we do not implement
 * (including the -sess variants).
 */
int sip_auth_alg_parse(struct slice s, enum sip_auth_alg *alg);

/* The token of an algorithm ("SHA-256"), NULL when out of range. */
const char *sip_auth_alg_name(enum sip_auth_alg alg);

/* Hex length of the algorithm's digest: 32 or 64, 0 when out of range. */
size_t sip_auth_alg_hexlen(enum sip_auth_alg alg);

/*
 * Computes HA1 = H(user ":" realm ":" password) in lowercase hex, to store
 * hashed credentials instead of passwords. user and realm are plain (not
 * escaped) text. hex must hold sip_auth_alg_hexlen(alg) + 1 bytes. Returns
 * 0, EINVAL, or ENOTSUP when the crypto library lacks the algorithm.
 */
int sip_auth_ha1(enum sip_auth_alg alg, struct slice user, struct slice realm,
    const char *password, char *hex, size_t hexsz);

/*
 * A challenging server. Nonces are stateless: they carry their issue time,
 * their algorithm and a random salt, authenticated by HMAC-SHA256 under a
 * random key made at allocation (so they die with the object); the tag also
 * covers the realm. Nothing counts nonce use, so a captured credential
 * replays until its nonce expires (TLS transports keep it from capture).
 * The struct is private.
 */
struct sip_auth_server;

/*
 * Allocates a server for realm (copied; no control characters) with a nonce
 * lifetime in seconds, 0 for SIP_AUTH_LIFETIME_DEFAULT. Returns 0, EINVAL,
 * ENOMEM, EIO when no random key can be made, or ENOTSUP without HMAC;
 * *srvp is set only on success.
 */
int sip_auth_server_alloc(
    struct sip_auth_server **srvp, const char *realm, uint32_t lifetime);

/* Wipes the key and frees the server; NULL is ignored. */
void sip_auth_server_free(struct sip_auth_server *srv);

/*
 * Replaces the clock (seconds, CLOCK_MONOTONIC by default), for tests. now
 * NULL restores the default.
 */
void sip_auth_server_set_clock(
    struct sip_auth_server *srv, uint64_t (*now)(void *arg), void *arg);

/*
 * When set, credentials without qop=auth (RFC 2069 style, no cnonce) are
 * refused with EACCES. Off by default for old phones.
 */
void sip_auth_server_require_qop(struct sip_auth_server *srv, bool on);

/*
 * Appends a challenge header value to out: Digest realm, a fresh nonce,
 * opaque, algorithm and qop="auth", plus stale=true when asked. To offer
 * several algorithms, send one header per call, preferred first (RFC 8760).
 * Returns 0, EINVAL, ENOTSUP, ENOMEM or EIO; on failure out keeps its
 * length.
 */
int sip_auth_challenge(const struct sip_auth_server *srv, enum sip_auth_alg alg,
    bool stale, struct buf *out);

/*
 * Checks credentials parsed from an Authorization or Proxy-Authorization
 * value against the request method and exactly one of the user's password
 * or stored HA1 (lowercase or uppercase hex of the credential's algorithm,
 * see sip_auth_ha1() and sip_auth_alg_parse(cred->algorithm)). The caller
 * looks the user up by cred->username and should compare cred->uri with
 * the Request-URI. Returns:
 *   0         valid;
 *   EACCES    wrong response (password, user), wrong realm, or no qop when
 *             it is required;
 *   ETIMEDOUT a correct response on an expired nonce of ours: challenge
 *             again with stale=true;
 *   EBADMSG   not Digest, missing or malformed fields, a nonce we did not
 *             issue (or dated in the future) or issued for another
 *             algorithm, a wrong opaque, userhash (we never offer it);
 *   EINVAL    a caller bug (both or neither of password and ha1, bad ha1);
 *   ENOTSUP   the crypto library lacks the algorithm.
 */
int sip_auth_verify(const struct sip_auth_server *srv,
    const struct sip_auth_params *cred, struct slice method,
    const char *password, const char *ha1);

/*
 * Appends an Authorization (or Proxy-Authorization) header value answering
 * a parsed challenge for method and uri: qop=auth when the challenge offers
 * it, the RFC 2069 form without qop when it offers none; opaque echoed;
 * username hashed when the challenge asks for userhash. nc counts the
 * requests made with this nonce, from 1. cnonce NULL draws a random one.
 * Returns 0, EINVAL (also for a user, uri or cnonce holding control
 * characters, which would break the header), EBADMSG (not Digest, no realm
 * or nonce), ENOTSUP (algorithm, or only qop=auth-int), ENOMEM or EIO; on
 * failure out keeps its length.
 */
int sip_auth_respond(struct buf *out, const struct sip_auth_params *challenge,
    struct slice method, struct slice uri, const char *user,
    const char *password, uint32_t nc, const char *cnonce);

#endif
