/* SIP digest authentication: parser, stateless-nonce server, client responses. */
#include "sip/auth.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/log.h"
#include "core/secure.h"
#include "sip/lex.h"

/*
 * Nonce layout before base64url: issue time (8 bytes, big endian), the
 * algorithm (1), a random salt (8) so that two challenges in one second
 * differ, then a truncated HMAC-SHA256 tag (16) over those and the realm.
 * 33 bytes encode to exactly 44 characters, no padding.
 */
#define NONCE_TS       8
#define NONCE_ALG      8
#define NONCE_SALT     9
#define NONCE_SALT_LEN 8
#define NONCE_SIGNED   17
#define NONCE_TAG_LEN  16
#define NONCE_RAW      (NONCE_SIGNED + NONCE_TAG_LEN)
#define NONCE_B64      (NONCE_RAW / 3 * 4)
/* Opaque: a tag over the whole nonce, so it is echoed per challenge. */
#define OPAQUE_RAW 12
#define OPAQUE_B64 (OPAQUE_RAW / 3 * 4)
/* Random cnonce bytes, sent as hex. */
#define CNONCE_RAW 16

struct sip_auth_server {
	char *realm;           /* owned */
	unsigned char key[32]; /* secret: wiped on free */
	uint32_t lifetime;     /* seconds */
	bool require_qop;
	EVP_MAC *mac; /* owned: HMAC implementation */
	uint64_t (*now)(void *arg);
	void *now_arg;
};

/* One piece of hashed input; quoted pieces have their escapes decoded. */
struct hpart {
	struct slice s;
	bool quoted;
};

static const char b64u_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hexdig[] = "0123456789abcdef";

/* Known auth-params and where they go. */
static const struct {
	const char *name;
	size_t off;
} auth_fields[] = {
    {"realm", offsetof(struct sip_auth_params, realm)},
    {"nonce", offsetof(struct sip_auth_params, nonce)},
    {"opaque", offsetof(struct sip_auth_params, opaque)},
    {"algorithm", offsetof(struct sip_auth_params, algorithm)},
    {"qop", offsetof(struct sip_auth_params, qop)},
    {"stale", offsetof(struct sip_auth_params, stale)},
    {"username", offsetof(struct sip_auth_params, username)},
    {"uri", offsetof(struct sip_auth_params, uri)},
    {"response", offsetof(struct sip_auth_params, response)},
    {"cnonce", offsetof(struct sip_auth_params, cnonce)},
    {"nc", offsetof(struct sip_auth_params, nc)},
    {"userhash", offsetof(struct sip_auth_params, userhash)},
};

static const struct {
	const char *name;
	const char *evp;
	size_t hexlen;
} auth_algs[] = {
    [SIP_AUTH_MD5] = {"MD5", "MD5", 32},
    [SIP_AUTH_SHA256] = {"SHA-256", "SHA2-256", 64},
    [SIP_AUTH_SHA512_256] = {"SHA-512-256", "SHA2-512/256", 64},
};
#define AUTH_NALGS (sizeof(auth_algs) / sizeof(auth_algs[0]))

/*
 * Bytes allowed in an unquoted parameter value. Tokens would do by the
 * grammar, but peers send base64 nonces and URIs bare, so anything visible
 * goes except the delimiters and the escape character, which would change
 * meaning when the value is echoed inside quotes.
 */
static bool
bare_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != ',' && c != '"' && c != '\\';
}

int
sip_auth_parse(struct sip_auth_params *a, struct slice value)
{
	struct sip_auth_params r;
	struct slice v, name, val;
	const char *p, *end, *q;
	uint32_t seen = 0;
	size_t i;

	memset(&r, 0, sizeof(r));
	v = slice_trim(value);
	if (v.n == 0)
		return EBADMSG;
	p = v.p;
	end = v.p + v.n;
	q = lex_token(p, end);
	if (q == p)
		return EBADMSG;
	r.scheme = slice_make(p, (size_t)(q - p));
	r.digest = slice_caseeq_cstr(r.scheme, "Digest");
	p = q;
	if (p < end) {
		/* RFC 3261 challenge/credentials: the scheme ends at LWS. */
		q = lex_skip_lws(p, end);
		if (q == p)
			return EBADMSG;
		p = q;
	}
	r.rest = slice_make(p, (size_t)(end - p));
	if (!r.digest) {
		*a = r;
		return 0;
	}

	while (p < end) {
		/* Empty list elements are allowed by the #rule. */
		if (*p == ',') {
			p = lex_skip_lws(p + 1, end);
			continue;
		}
		q = lex_token(p, end);
		if (q == p)
			return EBADMSG;
		name = slice_make(p, (size_t)(q - p));
		p = lex_skip_lws(q, end);
		if (p >= end || *p != '=')
			return EBADMSG;
		p = lex_skip_lws(p + 1, end);
		if (p < end && *p == '"') {
			if ((q = lex_quoted(p, end)) == NULL)
				return EBADMSG;
			val = slice_make(p + 1, (size_t)(q - p - 2));
		} else {
			for (q = p; q < end && bare_char((unsigned char)*q);)
				q++;
			if (q == p)
				return EBADMSG;
			val = slice_make(p, (size_t)(q - p));
		}
		p = lex_skip_lws(q, end);
		if (p < end) {
			if (*p != ',')
				return EBADMSG;
			p = lex_skip_lws(p + 1, end);
		}

		for (i = 0; i < sizeof(auth_fields) / sizeof(auth_fields[0]);
		     i++) {
			if (!slice_caseeq_cstr(name, auth_fields[i].name))
				continue;
			/* Two values for one field would be ambiguous. */
			if (seen & (1u << i))
				return EBADMSG;
			seen |= 1u << i;
			*(struct slice *)((char *)&r + auth_fields[i].off) =
			    val;
			break;
		}
	}
	*a = r;
	return 0;
}

int
sip_auth_unescape(struct slice in, char *out, size_t outsz, size_t *outlen)
{
	size_t i, j = 0;
	char c;

	if (outsz == 0)
		return ENOSPC;
	for (i = 0; i < in.n; i++) {
		c = in.p[i];
		if (c == '\\' && i + 1 < in.n)
			c = in.p[++i];
		if (j + 1 >= outsz)
			return ENOSPC;
		out[j++] = c;
	}
	out[j] = '\0';
	if (outlen)
		*outlen = j;
	return 0;
}

/* Compares an escaped quoted value with plain text. */
static bool
unq_eq(struct slice esc, const char *plain)
{
	size_t i, j = 0, n = strlen(plain);
	char c;

	for (i = 0; i < esc.n; i++) {
		c = esc.p[i];
		if (c == '\\' && i + 1 < esc.n)
			c = esc.p[++i];
		if (j >= n || plain[j] != c)
			return false;
		j++;
	}
	return j == n;
}

bool
sip_auth_qop_has(struct slice qop, const char *tok)
{
	struct slice rest = qop, item;
	ptrdiff_t comma;

	while (rest.n) {
		comma = slice_chr(rest, ',');
		if (comma < 0) {
			item = rest;
			rest.n = 0;
		} else {
			item = slice_make(rest.p, (size_t)comma);
			rest.p += comma + 1;
			rest.n -= (size_t)comma + 1;
		}
		if (slice_caseeq_cstr(slice_trim(item), tok))
			return true;
	}
	return false;
}

bool
sip_auth_is_stale(const struct sip_auth_params *a)
{
	return slice_caseeq_cstr(a->stale, "true");
}

int
sip_auth_alg_parse(struct slice s, enum sip_auth_alg *alg)
{
	size_t i;

	if (!slice_isset(s)) {
		*alg = SIP_AUTH_MD5;
		return 0;
	}
	for (i = 0; i < AUTH_NALGS; i++) {
		if (slice_caseeq_cstr(s, auth_algs[i].name)) {
			*alg = (enum sip_auth_alg)i;
			return 0;
		}
	}
	return ENOTSUP;
}

const char *
sip_auth_alg_name(enum sip_auth_alg alg)
{
	return (size_t)alg < AUTH_NALGS ? auth_algs[alg].name : NULL;
}

size_t
sip_auth_alg_hexlen(enum sip_auth_alg alg)
{
	return (size_t)alg < AUTH_NALGS ? auth_algs[alg].hexlen : 0;
}

static void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* Feeds a piece, skipping the backslash of each quoted-pair if quoted. */
static bool
hash_update(EVP_MD_CTX *ctx, const struct hpart *part)
{
	const char *p = part->s.p, *end = part->s.p + part->s.n, *run = p;

	if (part->s.n == 0)
		return true;
	if (part->quoted) {
		while (p < end) {
			if (*p == '\\' && p + 1 < end) {
				if (EVP_DigestUpdate(
				        ctx, run, (size_t)(p - run)) != 1)
					return false;
				run = p + 1;
				p += 2;
			} else {
				p++;
			}
		}
	}
	return EVP_DigestUpdate(ctx, run, (size_t)(end - run)) == 1;
}

/*
 * Hashes the parts joined by ':' (RFC 7616 section 3.4) into lowercase hex.
 * hex holds SIP_AUTH_HEX_BUFSZ bytes. Returns 0, ENOMEM or ENOTSUP.
 */
static int
hash_hex(enum sip_auth_alg alg, const struct hpart *parts, size_t n, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	EVP_MD *md_alg = NULL;
	size_t i;
	int err = ENOTSUP;

	if ((size_t)alg >= AUTH_NALGS)
		return EINVAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		err = ENOMEM;
		goto out;
	}
	/* Fetching lets a FIPS-only library refuse MD5 cleanly. */
	if ((md_alg = EVP_MD_fetch(NULL, auth_algs[alg].evp, NULL)) == NULL ||
	    EVP_DigestInit_ex(ctx, md_alg, NULL) != 1)
		goto out;
	for (i = 0; i < n; i++) {
		if (i > 0 && EVP_DigestUpdate(ctx, ":", 1) != 1)
			goto out;
		if (!hash_update(ctx, &parts[i]))
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
	    (size_t)mdlen * 2 != auth_algs[alg].hexlen)
		goto out;
	hex_encode(md, mdlen, hex);
	err = 0;
out:
	if (err == ENOTSUP) {
		char what[64];

		snprintf(what, sizeof(what), "sip auth: %s digest",
		    auth_algs[alg].name);
		log_openssl(LOG_ERR, what);
	}
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md_alg);
	secure_wipe(md, sizeof(md));
	return err;
}

static bool
is_hex(struct slice s)
{
	size_t i;

	for (i = 0; i < s.n; i++)
		if (!lex_is((unsigned char)s.p[i], LEX_HEX))
			return false;
	return true;
}

/* Copies the hex digits of s into out, lowercased and NUL-terminated. */
static void
hex_lower(struct slice s, char *out)
{
	size_t i;
	char c;

	for (i = 0; i < s.n; i++) {
		c = s.p[i];
		out[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
	}
	out[s.n] = '\0';
}

int
sip_auth_ha1(enum sip_auth_alg alg, struct slice user, struct slice realm,
    const char *password, char *hex, size_t hexsz)
{
	struct hpart parts[3];
	char tmp[SIP_AUTH_HEX_BUFSZ];
	size_t hexlen = sip_auth_alg_hexlen(alg);
	int err;

	if (hexlen == 0 || password == NULL || hex == NULL || hexsz <= hexlen)
		return EINVAL;
	parts[0] = (struct hpart){user, false};
	parts[1] = (struct hpart){realm, false};
	parts[2] = (struct hpart){slice_cstr(password), false};
	if ((err = hash_hex(alg, parts, 3, tmp)) == 0)
		memcpy(hex, tmp, hexlen + 1);
	secure_wipe(tmp, sizeof(tmp));
	return err;
}

/* Appends s inside double quotes, escaping '"' and '\' (RFC 3261 quoted-pair). */
static void
append_quoted(struct buf *b, struct slice s)
{
	size_t i, run = 0;

	buf_append(b, "\"", 1);
	for (i = 0; i < s.n; i++) {
		if (s.p[i] == '"' || s.p[i] == '\\') {
			buf_append(b, s.p + run, i - run);
			buf_append(b, "\\", 1);
			run = i;
		}
	}
	buf_append(b, s.p + run, s.n - run);
	buf_append(b, "\"", 1);
}

/*
 * True when s may go out inside a quoted-string. A quoted-pair cannot carry
 * CR or LF (RFC 3261 section 25.1), so a name or URI holding one would end
 * the header line early; other control characters have no business in a
 * name, a URI or a cnonce either.
 */
static bool
quotable(struct slice s)
{
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* Appends an already escaped value (as parsed) inside double quotes. */
static void
append_requoted(struct buf *b, struct slice s)
{
	buf_append(b, "\"", 1);
	buf_append_slice(b, s);
	buf_append(b, "\"", 1);
}

/* Base64url without padding, for lengths that are multiples of 3. */
static void
b64u_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, j = 0;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[j++] = b64u_alphabet[v >> 18 & 63];
		out[j++] = b64u_alphabet[v >> 12 & 63];
		out[j++] = b64u_alphabet[v >> 6 & 63];
		out[j++] = b64u_alphabet[v & 63];
	}
	out[j] = '\0';
}

static int
b64u_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes exactly n bytes (a multiple of 3) from n / 3 * 4 characters. */
static int
b64u_decode(struct slice in, unsigned char *out, size_t n)
{
	size_t i, j = 0;
	uint32_t v;
	int d;

	if (in.n != n / 3 * 4 || n % 3 != 0)
		return EBADMSG;
	for (i = 0; i < in.n; i += 4) {
		v = 0;
		for (size_t k = 0; k < 4; k++) {
			if ((d = b64u_val(in.p[i + k])) < 0)
				return EBADMSG;
			v = v << 6 | (uint32_t)d;
		}
		out[j++] = (unsigned char)(v >> 16);
		out[j++] = (unsigned char)(v >> 8);
		out[j++] = (unsigned char)v;
	}
	return 0;
}

static uint64_t
clock_default(void *arg)
{
	struct timespec ts;

	(void)arg;
	/*
	 * Monotonic: the key dies with the process, so wall-clock time buys
	 * nothing and a clock step would expire or resurrect nonces.
	 */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec;
}

static uint64_t
server_now(const struct sip_auth_server *srv)
{
	return srv->now(srv->now_arg);
}

/*
 * HMAC-SHA256 under the server key over a domain byte, data and, when
 * with_realm is set, the realm; the first taglen bytes land in tag.
 */
static int
server_mac(const struct sip_auth_server *srv, char domain,
    const unsigned char *data, size_t n, bool with_realm, unsigned char *tag,
    size_t taglen)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[2];
	unsigned char full[EVP_MAX_MD_SIZE];
	size_t outl = 0;
	EVP_MAC_CTX *ctx;
	int err = EIO;

	params[0] =
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_MAC_CTX_new(srv->mac)) == NULL)
		return ENOMEM;
	if (EVP_MAC_init(ctx, srv->key, sizeof(srv->key), params) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)&domain, 1) != 1 ||
	    EVP_MAC_update(ctx, data, n) != 1 ||
	    (with_realm &&
	        EVP_MAC_update(ctx, (const unsigned char *)srv->realm,
	            strlen(srv->realm)) != 1) ||
	    EVP_MAC_final(ctx, full, &outl, sizeof(full)) != 1 ||
	    outl < taglen) {
		log_openssl(LOG_ERR, "sip auth: HMAC-SHA256 of a nonce");
		goto out;
	}
	memcpy(tag, full, taglen);
	err = 0;
out:
	EVP_MAC_CTX_free(ctx);
	secure_wipe(full, sizeof(full));
	return err;
}

int
sip_auth_server_alloc(
    struct sip_auth_server **srvp, const char *realm, uint32_t lifetime)
{
	struct sip_auth_server *srv;
	const unsigned char *c;
	int err;

	if (srvp == NULL || realm == NULL)
		return EINVAL;
	/* The realm goes out quoted; control characters have no place. */
	for (c = (const unsigned char *)realm; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return EINVAL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return ENOMEM;
	srv->lifetime = lifetime ? lifetime : SIP_AUTH_LIFETIME_DEFAULT;
	srv->now = clock_default;
	if ((srv->realm = strdup(realm)) == NULL) {
		err = ENOMEM;
		goto out;
	}
	if ((err = secure_random(srv->key, sizeof(srv->key))) != 0) {
		log_openssl(LOG_ERR, "sip auth: random nonce key");
		goto out;
	}
	if ((srv->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
		log_openssl(LOG_ERR, "sip auth: fetching HMAC");
		err = ENOTSUP;
		goto out;
	}
	*srvp = srv;
	return 0;
out:
	sip_auth_server_free(srv);
	return err;
}

void
sip_auth_server_free(struct sip_auth_server *srv)
{
	if (srv == NULL)
		return;
	secure_wipe(srv->key, sizeof(srv->key));
	EVP_MAC_free(srv->mac);
	free(srv->realm);
	free(srv);
}

void
sip_auth_server_set_clock(
    struct sip_auth_server *srv, uint64_t (*now)(void *arg), void *arg)
{
	srv->now = now ? now : clock_default;
	srv->now_arg = now ? arg : NULL;
}

void
sip_auth_server_require_qop(struct sip_auth_server *srv, bool on)
{
	srv->require_qop = on;
}

static int
make_opaque(
    const struct sip_auth_server *srv, const unsigned char *nonce, char *out)
{
	unsigned char tag[OPAQUE_RAW];
	int err;

	if ((err = server_mac(
	         srv, 'O', nonce, NONCE_RAW, false, tag, sizeof(tag))) != 0)
		return err;
	b64u_encode(tag, sizeof(tag), out);
	return 0;
}

int
sip_auth_challenge(const struct sip_auth_server *srv, enum sip_auth_alg alg,
    bool stale, struct buf *out)
{
	unsigned char raw[NONCE_RAW];
	char nonce[NONCE_B64 + 1], opaque[OPAQUE_B64 + 1];
	char probe[SIP_AUTH_HEX_BUFSZ];
	struct hpart empty = {SLICE_LIT(""), false};
	uint64_t ts;
	size_t start;
	int err, i;

	if (srv == NULL || out == NULL || sip_auth_alg_name(alg) == NULL)
		return EINVAL;
	/* Never offer what we could not verify (MD5 under FIPS). */
	if ((err = hash_hex(alg, &empty, 1, probe)) != 0)
		return err;

	ts = server_now(srv);
	for (i = NONCE_TS - 1; i >= 0; i--) {
		raw[i] = (unsigned char)ts;
		ts >>= 8;
	}
	raw[NONCE_ALG] = (unsigned char)alg;
	if ((err = secure_random(raw + NONCE_SALT, NONCE_SALT_LEN)) != 0)
		return err;
	if ((err = server_mac(srv, 'N', raw, NONCE_SIGNED, true,
	         raw + NONCE_SIGNED, NONCE_TAG_LEN)) != 0)
		return err;
	b64u_encode(raw, NONCE_RAW, nonce);
	if ((err = make_opaque(srv, raw, opaque)) != 0)
		return err;

	start = out->len;
	BUF_LIT(out, "Digest realm=");
	append_quoted(out, slice_cstr(srv->realm));
	BUF_LIT(out, ", nonce=\"");
	buf_append(out, nonce, NONCE_B64);
	BUF_LIT(out, "\", opaque=\"");
	buf_append(out, opaque, OPAQUE_B64);
	BUF_LIT(out, "\", algorithm=");
	buf_append_str(out, auth_algs[alg].name);
	BUF_LIT(out, ", qop=\"auth\"");
	if (stale)
		BUF_LIT(out, ", stale=true");
	if (out->err) {
		out->len = start;
		return out->err;
	}
	return 0;
}

/* nc-value: exactly 8 hex digits (RFC 7616 section 3.4). */
static bool
nc_ok(struct slice nc)
{
	return nc.n == 8 && is_hex(nc);
}

int
sip_auth_verify(const struct sip_auth_server *srv,
    const struct sip_auth_params *cred, struct slice method,
    const char *password, const char *ha1)
{
	unsigned char raw[NONCE_RAW], tag[NONCE_TAG_LEN];
	char opaque[OPAQUE_B64 + 1];
	char h1[SIP_AUTH_HEX_BUFSZ], h2[SIP_AUTH_HEX_BUFSZ];
	char want[SIP_AUTH_HEX_BUFSZ], got[SIP_AUTH_HEX_BUFSZ];
	struct hpart parts[6];
	enum sip_auth_alg alg;
	uint64_t ts = 0, now;
	size_t hexlen, i;
	bool qop, ok;
	int err;

	if (srv == NULL || cred == NULL || (password == NULL) == (ha1 == NULL))
		return EINVAL;
	if (!cred->digest || !slice_isset(cred->username) ||
	    !slice_isset(cred->realm) || !slice_isset(cred->nonce) ||
	    !slice_isset(cred->uri) || !slice_isset(cred->response))
		return EBADMSG;
	if (sip_auth_alg_parse(cred->algorithm, &alg) != 0)
		return EBADMSG;
	hexlen = sip_auth_alg_hexlen(alg);
	if (ha1 != NULL &&
	    (strlen(ha1) != hexlen || !is_hex(slice_make(ha1, hexlen))))
		return EINVAL;
	/* We never offer userhash, so a hashed name cannot be ours. */
	if (slice_isset(cred->userhash) &&
	    !slice_caseeq_cstr(cred->userhash, "false"))
		return EBADMSG;

	/* Ours, untampered, and issued for this algorithm? */
	if (b64u_decode(cred->nonce, raw, NONCE_RAW) != 0)
		return EBADMSG;
	if ((err = server_mac(
	         srv, 'N', raw, NONCE_SIGNED, true, tag, sizeof(tag))) != 0)
		return err;
	if (!secure_eq(tag, sizeof(tag), raw + NONCE_SIGNED, NONCE_TAG_LEN))
		return EBADMSG;
	if (raw[NONCE_ALG] != (unsigned char)alg)
		return EBADMSG;
	for (i = 0; i < NONCE_TS; i++)
		ts = ts << 8 | raw[i];
	now = server_now(srv);
	if (ts > now)
		return EBADMSG;
	/* Clients must echo opaque; old ones that drop it are let through. */
	if (slice_isset(cred->opaque)) {
		if ((err = make_opaque(srv, raw, opaque)) != 0)
			return err;
		if (!secure_eq(
		        opaque, OPAQUE_B64, cred->opaque.p, cred->opaque.n))
			return EBADMSG;
	}
	if (!unq_eq(cred->realm, srv->realm))
		return EACCES;

	if (slice_isset(cred->qop)) {
		/* We offer auth only; auth-int would need the body. */
		if (!slice_caseeq_cstr(cred->qop, "auth"))
			return EBADMSG;
		if (!slice_isset(cred->cnonce) || cred->cnonce.n == 0 ||
		    !nc_ok(cred->nc))
			return EBADMSG;
		qop = true;
	} else {
		if (srv->require_qop)
			return EACCES;
		qop = false;
	}
	if (cred->response.n != hexlen || !is_hex(cred->response))
		return EBADMSG;
	hex_lower(cred->response, got);

	/* HA1 = H(username:realm:password), or as stored. */
	if (password != NULL) {
		parts[0] = (struct hpart){cred->username, true};
		parts[1] = (struct hpart){slice_cstr(srv->realm), false};
		parts[2] = (struct hpart){slice_cstr(password), false};
		if ((err = hash_hex(alg, parts, 3, h1)) != 0)
			goto out;
	} else {
		hex_lower(slice_make(ha1, hexlen), h1);
	}
	/* HA2 = H(method:uri) for qop=auth and no qop alike. */
	parts[0] = (struct hpart){method, false};
	parts[1] = (struct hpart){cred->uri, true};
	if ((err = hash_hex(alg, parts, 2, h2)) != 0)
		goto out;
	parts[0] = (struct hpart){slice_make(h1, hexlen), false};
	parts[1] = (struct hpart){cred->nonce, true};
	if (qop) {
		parts[2] = (struct hpart){cred->nc, false};
		parts[3] = (struct hpart){cred->cnonce, true};
		parts[4] = (struct hpart){SLICE_LIT("auth"), false};
		parts[5] = (struct hpart){slice_make(h2, hexlen), false};
		err = hash_hex(alg, parts, 6, want);
	} else {
		parts[2] = (struct hpart){slice_make(h2, hexlen), false};
		err = hash_hex(alg, parts, 3, want);
	}
	if (err != 0)
		goto out;
	ok = secure_eq(want, hexlen, got, hexlen);
	if (!ok)
		err = EACCES;
	/*
	 * Stale only once the response is right: the client then retries
	 * with a fresh nonce without asking the user again (RFC 7616 3.3).
	 */
	else if (now - ts > srv->lifetime)
		err = ETIMEDOUT;
out:
	secure_wipe(h1, sizeof(h1));
	secure_wipe(want, sizeof(want));
	return err;
}

int
sip_auth_respond(struct buf *out, const struct sip_auth_params *ch,
    struct slice method, struct slice uri, const char *user,
    const char *password, uint32_t nc, const char *cnonce)
{
	unsigned char rnd[CNONCE_RAW];
	char cnbuf[CNONCE_RAW * 2 + 1], ncbuf[9];
	char h1[SIP_AUTH_HEX_BUFSZ], h2[SIP_AUTH_HEX_BUFSZ];
	char resp[SIP_AUTH_HEX_BUFSZ], uh[SIP_AUTH_HEX_BUFSZ];
	struct hpart parts[6];
	enum sip_auth_alg alg;
	bool qop, userhash;
	size_t hexlen, start;
	int err;

	if (out == NULL || ch == NULL || user == NULL || password == NULL ||
	    method.n == 0 || uri.n == 0 || nc == 0)
		return EINVAL;
	/* What goes out quoted must stay inside its quotes (EINVAL). */
	if (!quotable(slice_cstr(user)) || !quotable(uri) ||
	    (cnonce != NULL && !quotable(slice_cstr(cnonce))))
		return EINVAL;
	if (!ch->digest || !slice_isset(ch->realm) || !slice_isset(ch->nonce))
		return EBADMSG;
	if ((err = sip_auth_alg_parse(ch->algorithm, &alg)) != 0)
		return err;
	hexlen = sip_auth_alg_hexlen(alg);
	qop = false;
	if (slice_isset(ch->qop)) {
		if (!sip_auth_qop_has(ch->qop, "auth"))
			return ENOTSUP;
		qop = true;
	}
	if (qop && cnonce == NULL) {
		if ((err = secure_random(rnd, sizeof(rnd))) != 0)
			return err;
		hex_encode(rnd, sizeof(rnd), cnbuf);
		cnonce = cnbuf;
	}
	if (qop && *cnonce == '\0')
		return EINVAL;
	snprintf(ncbuf, sizeof(ncbuf), "%08" PRIx32, nc);
	userhash = slice_caseeq_cstr(ch->userhash, "true");

	parts[0] = (struct hpart){slice_cstr(user), false};
	parts[1] = (struct hpart){ch->realm, true};
	parts[2] = (struct hpart){slice_cstr(password), false};
	if ((err = hash_hex(alg, parts, 3, h1)) != 0)
		goto out;
	/* RFC 7616 section 3.4.4: username = H(user:realm). */
	if (userhash && (err = hash_hex(alg, parts, 2, uh)) != 0)
		goto out;
	parts[0] = (struct hpart){method, false};
	parts[1] = (struct hpart){uri, false};
	if ((err = hash_hex(alg, parts, 2, h2)) != 0)
		goto out;
	parts[0] = (struct hpart){slice_make(h1, hexlen), false};
	parts[1] = (struct hpart){ch->nonce, true};
	if (qop) {
		parts[2] = (struct hpart){slice_make(ncbuf, 8), false};
		parts[3] = (struct hpart){slice_cstr(cnonce), false};
		parts[4] = (struct hpart){SLICE_LIT("auth"), false};
		parts[5] = (struct hpart){slice_make(h2, hexlen), false};
		err = hash_hex(alg, parts, 6, resp);
	} else {
		/* The RFC 2069 form (RFC 2617 section 3.2.2.1). */
		parts[2] = (struct hpart){slice_make(h2, hexlen), false};
		err = hash_hex(alg, parts, 3, resp);
	}
	if (err != 0)
		goto out;

	start = out->len;
	BUF_LIT(out, "Digest username=");
	if (userhash)
		append_requoted(out, slice_make(uh, hexlen));
	else
		append_quoted(out, slice_cstr(user));
	BUF_LIT(out, ", realm=");
	append_requoted(out, ch->realm);
	BUF_LIT(out, ", nonce=");
	append_requoted(out, ch->nonce);
	BUF_LIT(out, ", uri=");
	append_quoted(out, uri);
	BUF_LIT(out, ", response=");
	append_requoted(out, slice_make(resp, hexlen));
	BUF_LIT(out, ", algorithm=");
	buf_append_str(out, auth_algs[alg].name);
	if (qop) {
		BUF_LIT(out, ", cnonce=");
		append_quoted(out, slice_cstr(cnonce));
		BUF_LIT(out, ", qop=auth, nc=");
		buf_append(out, ncbuf, 8);
	}
	if (slice_isset(ch->opaque)) {
		BUF_LIT(out, ", opaque=");
		append_requoted(out, ch->opaque);
	}
	if (userhash)
		BUF_LIT(out, ", userhash=true");
	if (out->err) {
		out->len = start;
		err = out->err;
	}
out:
	secure_wipe(h1, sizeof(h1));
	return err;
}
