/* SDES a=crypto (RFC 4568): suite names, key parameters, base64. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/secure.h"
#include "sdp/sdp.h"

/*
 * Suite names as peers write them. The RFC 4568, RFC 7714 names map to our
 * suites; the others are real suites (RFC 4568 F8, RFC 6188 AES-192/256 in
 * both the RFC's and the older "AES_CM_256" spelling used by some stacks,
 * the NULL ones rtpengine and libsrtp know, libsrtp's short-tag GCM, RFC
 * 8269 ARIA) that we know we do not implement, so the line is skipped.
 */
struct suite_name {
	const char *name;
	int suite; /* enum srtp_suite, or -1 for known but unsupported */
};

static const struct suite_name suite_names[] = {
    {"AES_CM_128_HMAC_SHA1_80", SRTP_AES_CM_128_HMAC_SHA1_80},
    {"AES_CM_128_HMAC_SHA1_32", SRTP_AES_CM_128_HMAC_SHA1_32},
    {"AEAD_AES_128_GCM", SRTP_AEAD_AES_128_GCM},
    {"AEAD_AES_256_GCM", SRTP_AEAD_AES_256_GCM},
    {"F8_128_HMAC_SHA1_80", -1},
    {"F8_128_HMAC_SHA1_32", -1},
    {"AES_192_CM_HMAC_SHA1_80", -1},
    {"AES_192_CM_HMAC_SHA1_32", -1},
    {"AES_256_CM_HMAC_SHA1_80", -1},
    {"AES_256_CM_HMAC_SHA1_32", -1},
    {"AES_CM_192_HMAC_SHA1_80", -1},
    {"AES_CM_192_HMAC_SHA1_32", -1},
    {"AES_CM_256_HMAC_SHA1_80", -1},
    {"AES_CM_256_HMAC_SHA1_32", -1},
    {"NULL_HMAC_SHA1_80", -1},
    {"NULL_HMAC_SHA1_32", -1},
    {"AEAD_AES_128_GCM_8", -1},
    {"AEAD_AES_256_GCM_8", -1},
    {"ARIA_128_CTR_HMAC_SHA1_80", -1},
    {"ARIA_128_CTR_HMAC_SHA1_32", -1},
    {"ARIA_256_CTR_HMAC_SHA1_80", -1},
    {"ARIA_256_CTR_HMAC_SHA1_32", -1},
    {"AEAD_ARIA_128_GCM", -1},
    {"AEAD_ARIA_256_GCM", -1},
};

int
sdp_crypto_suite(struct slice name, enum srtp_suite *sp)
{
	for (size_t i = 0; i < sizeof(suite_names) / sizeof(suite_names[0]);
	     i++) {
		if (!slice_caseeq_cstr(name, suite_names[i].name))
			continue;
		if (suite_names[i].suite < 0)
			return ENOTSUP;
		if (sp)
			*sp = (enum srtp_suite)suite_names[i].suite;
		return 0;
	}
	return ENOTSUP;
}

/* ---- base64 (RFC 4648 section 4) ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
sdp_base64_decode(
    const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0, npad = 0;
	int rc = 0;

	if ((in == NULL && n) || outlen == NULL || (out == NULL && cap))
		return EINVAL;
	*outlen = 0;
	/* Padding, when present, completes the last group of four. */
	while (npad < n && npad < 2 && in[n - 1 - npad] == '=')
		npad++;
	if (npad && n % 4 != 0)
		return EBADMSG;
	n -= npad;
	if (n % 4 == 1)
		return EBADMSG; /* one character carries no whole byte */
	for (size_t i = 0; i < n; i++) {
		int v = b64_val((unsigned char)in[i]);
		if (v < 0) {
			rc = EBADMSG;
			goto out;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap) {
				rc = ENOMEM;
				goto out;
			}
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* The unused low bits of the last character must be zero, or two
	 * different strings would decode to the same key. */
	if (acc != 0)
		rc = EBADMSG;
out:
	secure_wipe(&acc, sizeof(acc));
	if (rc) {
		secure_wipe(out, o);
		o = 0;
	}
	*outlen = o;
	return rc;
}

int
sdp_base64_encode(struct buf *b, const uint8_t *p, size_t n)
{
	char q[4];

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		q[0] = b64_alphabet[(v >> 18) & 63];
		q[1] = b64_alphabet[(v >> 12) & 63];
		q[2] = left > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
		q[3] = left > 2 ? b64_alphabet[v & 63] : '=';
		buf_append(b, q, sizeof(q));
		secure_wipe(&v, sizeof(v));
	}
	secure_wipe(q, sizeof(q));
	return b->err;
}

/* ---- a=crypto ---- */

static int cfail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
cfail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		/* messages may quote the offer: they go to logs and 488s */
		for (char *q = err; *q; q++)
			if ((unsigned char)*q < 0x20 ||
			    (unsigned char)*q >= 0x7f)
				*q = '?';
	}
	return rc;
}

static bool
next_tok(struct slice *rest, struct slice *tok)
{
	size_t i = 0;

	while (i < rest->n && (rest->p[i] == ' ' || rest->p[i] == '\t'))
		i++;
	size_t start = i;
	while (i < rest->n && rest->p[i] != ' ' && rest->p[i] != '\t')
		i++;
	*tok = slice_make(rest->p + start, i - start);
	*rest = slice_make(rest->p + i, rest->n - i);
	return tok->n != 0;
}

static bool
starts_with(struct slice s, const char *pfx)
{
	size_t n = strlen(pfx);

	return s.n >= n && memcmp(s.p, pfx, n) == 0;
}

/* "2^20" or "1048576" (RFC 4568 section 6.1): packets under this key. */
static int
parse_lifetime(struct slice s, uint64_t *vp)
{
	uint64_t v;

	if (s.n > 2 && s.p[0] == '2' && s.p[1] == '^') {
		if (slice_u64(slice_make(s.p + 2, s.n - 2), 63, &v) != 0 ||
		    v == 0)
			return EBADMSG;
		*vp = (uint64_t)1 << v;
		return 0;
	}
	if (slice_u64(s, (uint64_t)1 << 63, &v) != 0 || v == 0)
		return EBADMSG;
	*vp = v;
	return 0;
}

/*
 * The first key-param: "inline:" key-salt ["|" lifetime] ["|" mki ":"
 * length]. Lifetime and MKI are told apart by the colon only MKI has.
 */
static int
parse_key_param(struct sdp_crypto *c, struct slice kp, size_t want, char *err,
    size_t errlen)
{
	struct slice parts[4];
	size_t nparts = 0;
	uint64_t v;
	int rc;

	if (!starts_with(kp, "inline:"))
		return cfail(err, errlen, EBADMSG,
		    "crypto tag %u: key method is not inline:", c->tag);
	kp.p += 7;
	kp.n -= 7;
	while (nparts < 4) {
		ptrdiff_t bar = slice_chr(kp, '|');
		if (bar < 0) {
			parts[nparts++] = kp;
			break;
		}
		parts[nparts++] = slice_make(kp.p, (size_t)bar);
		kp = slice_make(kp.p + bar + 1, kp.n - (size_t)bar - 1);
		if (nparts == 3)
			return cfail(err, errlen, EBADMSG,
			    "crypto tag %u: too many | fields", c->tag);
	}
	for (size_t i = 1; i < nparts; i++) {
		ptrdiff_t colon = slice_chr(parts[i], ':');
		if (colon < 0) {
			if (i != 1 || parse_lifetime(parts[i], &c->lifetime))
				return cfail(err, errlen, EBADMSG,
				    "crypto tag %u: bad lifetime", c->tag);
			continue;
		}
		/* The MKI is an integer of up to 128 bytes on the wire; we
		 * read values that fit 32 bits (all that peers use). */
		if (c->has_mki ||
		    slice_u64(slice_make(parts[i].p, (size_t)colon), UINT32_MAX,
		        &v) != 0)
			return cfail(err, errlen, EBADMSG,
			    "crypto tag %u: bad MKI", c->tag);
		c->mki = (uint32_t)v;
		if (slice_u64(slice_make(parts[i].p + colon + 1,
		                  parts[i].n - (size_t)colon - 1),
		        128, &v) != 0 ||
		    v == 0)
			return cfail(err, errlen, EBADMSG,
			    "crypto tag %u: bad MKI length", c->tag);
		c->mki_len = (unsigned)v;
		c->has_mki = true;
	}
	rc = sdp_base64_decode(
	    parts[0].p, parts[0].n, c->key, sizeof(c->key), &c->key_len);
	if (rc == 0 && c->key_len != want) {
		rc = EBADMSG;
		cfail(err, errlen, rc,
		    "crypto tag %u: %.*s key is %zu bytes, needs %zu", c->tag,
		    (int)c->suite_name.n, c->suite_name.p, c->key_len, want);
		secure_wipe(c->key, sizeof(c->key));
		c->key_len = 0;
		return rc;
	}
	if (rc)
		return cfail(err, errlen, EBADMSG,
		    "crypto tag %u: key is not base64 of %zu bytes", c->tag,
		    want);
	return 0;
}

static void
parse_session_params(struct sdp_crypto *c, struct slice rest)
{
	struct slice t;

	while (next_tok(&rest, &t)) {
		if (slice_eq_cstr(t, "UNENCRYPTED_SRTP"))
			c->flags |= SDP_CRYPTO_UNENCRYPTED_SRTP;
		else if (slice_eq_cstr(t, "UNENCRYPTED_SRTCP"))
			c->flags |= SDP_CRYPTO_UNENCRYPTED_SRTCP;
		else if (slice_eq_cstr(t, "UNAUTHENTICATED_SRTP"))
			c->flags |= SDP_CRYPTO_UNAUTHENTICATED;
		else if (starts_with(t, "KDR=") && !slice_eq_cstr(t, "KDR=0"))
			c->flags |= SDP_CRYPTO_KDR;
		else if (starts_with(t, "FEC_ORDER=") ||
		         starts_with(t, "FEC_KEY="))
			c->flags |= SDP_CRYPTO_FEC;
		/* WSH= and unknown parameters change nothing for us. */
	}
}

int
sdp_crypto_parse(
    struct sdp_crypto *c, struct slice val, char *err, size_t errlen)
{
	struct slice tag, kps, kp;
	const struct srtp_suite_info *si;
	uint64_t v;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (c == NULL || (val.p == NULL && val.n))
		return EINVAL;
	memset(c, 0, sizeof(*c));
	/* tag = 1*9DIGIT (RFC 4568 section 9.1) */
	if (!next_tok(&val, &tag) || tag.n > 9 ||
	    slice_u64(tag, 999999999, &v) != 0)
		return cfail(err, errlen, EBADMSG, "crypto: bad tag");
	c->tag = (uint32_t)v;
	if (!next_tok(&val, &c->suite_name))
		return cfail(
		    err, errlen, EBADMSG, "crypto tag %u: no suite", c->tag);
	if (!next_tok(&val, &kps))
		return cfail(err, errlen, EBADMSG,
		    "crypto tag %u: no key params", c->tag);
	rc = sdp_crypto_suite(c->suite_name, &c->suite);
	if (rc)
		return cfail(err, errlen, rc, "crypto tag %u: %.*s unsupported",
		    c->tag, (int)(c->suite_name.n > 40 ? 40 : c->suite_name.n),
		    c->suite_name.p);
	si = srtp_suite_info(c->suite);
	if (si == NULL)
		return cfail(err, errlen, ENOTSUP,
		    "crypto tag %u: suite unavailable", c->tag);
	/* Several key-params may follow, separated by ';' (section 9.1);
	 * they serve MKI rollover, which we do not do: take the first. */
	c->nkeys = 1;
	for (size_t i = 0; i < kps.n; i++) {
		if (kps.p[i] == ';')
			c->nkeys++;
	}
	ptrdiff_t semi = slice_chr(kps, ';');
	kp = semi < 0 ? kps : slice_make(kps.p, (size_t)semi);
	rc = parse_key_param(c, kp, si->key_len + si->salt_len, err, errlen);
	if (rc) {
		sdp_crypto_wipe(c);
		return rc;
	}
	parse_session_params(c, val);
	return 0;
}

void
sdp_crypto_wipe(struct sdp_crypto *c)
{
	if (c == NULL)
		return;
	secure_wipe(c->key, sizeof(c->key));
	c->key_len = 0;
}
