/*
 * SRTP and SRTCP (RFC 3711, RFC 7714) directly on OpenSSL EVP.
 *
 * One struct srtp is one direction of one media session under one master
 * key: the sender's context protects, the receiver's unprotects. It keeps
 * the per-SSRC state (rollover counter, highest sequence, replay window) for
 * a small number of SSRCs. Cipher objects are fetched once by
 * srtp_init(); each context owns a reusable EVP cipher context (HMAC-SHA1
 * states are precomputed per key), so no packet ever causes an implicit
 * fetch or an allocation.
 */
#ifndef NGV_MEDIA_SRTP_H
#define NGV_MEDIA_SRTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

/*
 * OpenSSL's DTLS-SRTP header (included by ssl.h) defines protection
 * profile ids named like our suites. Take it first and drop the two that
 * collide; its include guard keeps them from coming back.
 */
#include <openssl/srtp.h>
#undef SRTP_AEAD_AES_128_GCM
#undef SRTP_AEAD_AES_256_GCM

enum srtp_suite {
	SRTP_AES_CM_128_HMAC_SHA1_80,
	SRTP_AES_CM_128_HMAC_SHA1_32,
	SRTP_AEAD_AES_128_GCM,
	SRTP_AEAD_AES_256_GCM,
	SRTP_SUITE_COUNT
};

/* The "SRTP Ciphers" option of the guide (voicemail General Configuration,
 * call manager enterprise parameter). */
enum srtp_option {
	SRTP_OPT_ALL,    /* All supported AES-256, AES-128 ciphers (default) */
	SRTP_OPT_GCM,    /* AEAD AES-256, AES-128 GCM-based ciphers */
	SRTP_OPT_GCM256, /* AEAD AES256 GCM-based ciphers only */
	SRTP_OPT_COUNT
};

/* Largest master key || master salt (AEAD_AES_256_GCM: 32 + 12). */
#define SRTP_MAX_KEY_SALT 46
/* Largest expansion of a packet by protect (SRTCP: 4-byte index + tag). */
#define SRTP_MAX_TRAILER 20

struct srtp_suite_info {
	const char
	    *name;       /* RFC 4568 / RFC 7714 name, e.g. "AEAD_AES_256_GCM" */
	size_t key_len;  /* master key bytes */
	size_t salt_len; /* master salt bytes */
	size_t rtp_tag;  /* authentication tag appended to SRTP */
	size_t rtcp_tag; /* authentication tag appended to SRTCP */
	int aead;        /* 1 for the GCM suites */
};

const struct srtp_suite_info *srtp_suite_info(enum srtp_suite s);
/* Canonical names only; lib/sdp accepts the older spellings. */
int srtp_suite_from_name(struct slice name, enum srtp_suite *sp);

/* The option's suites in the server's priority order (protocol-notes 2.2). */
size_t srtp_option_suites(enum srtp_option o, const enum srtp_suite **listp);
const char *srtp_option_label(enum srtp_option o); /* the guide's label */
const char *srtp_option_slug(enum srtp_option o);  /* all, gcm, gcm256 */
/* Accepts the exact label or the slug (case-insensitive). */
int srtp_option_parse(const char *s, enum srtp_option *op);

/* Fetches the cipher objects once (srtp_alloc() calls it when needed; not
 * thread-safe: call it from main() first). 0 or ENOMEM/ENOTSUP. */
int srtp_init(void);

struct srtp;

/* key is master key || master salt (key_len + salt_len bytes). */
int srtp_alloc(
    struct srtp **sp, enum srtp_suite suite, const uint8_t *key, size_t len);
/* Wipes the keys and frees. NULL is fine. */
void srtp_free(struct srtp *s);

/*
 * Protect in place: pkt holds *lenp bytes of RTP (RTCP) and has room for cap
 * bytes; on success *lenp grows by the tag (and SRTCP index).
 * Errors: EBADMSG (not RTP), ENOMEM (cap too small), EPROTO (key exhausted).
 * Also EALREADY: this SSRC already sent that index (within the replay
 * window); protecting it again would reuse the keystream.
 */
int srtp_protect(struct srtp *s, uint8_t *pkt, size_t *lenp, size_t cap);
int srtcp_protect(struct srtp *s, uint8_t *pkt, size_t *lenp, size_t cap);

/*
 * Unprotect in place; on success *lenp shrinks to the plain packet.
 * Errors: EBADMSG (malformed), EACCES (authentication failed),
 * EALREADY (replayed or too old). Every failure is counted.
 */
int srtp_unprotect(struct srtp *s, uint8_t *pkt, size_t *lenp);
int srtcp_unprotect(struct srtp *s, uint8_t *pkt, size_t *lenp);

struct srtp_stats {
	uint64_t ok;        /* packets protected or unprotected */
	uint64_t auth_fail; /* tag mismatch: dropped */
	uint64_t replay;    /* replayed or outside the window: dropped */
	uint64_t malformed; /* too short, bad version: dropped */
};
void srtp_get_stats(const struct srtp *s, struct srtp_stats *st);
enum srtp_suite srtp_get_suite(const struct srtp *s);

/* ---- additions: key derivation and test hooks ---- */

/* How many SSRCs one context follows; the least recently used one is
 * forgotten when a new SSRC authenticates and the table is full. */
#define SRTP_MAX_SSRC 4
/* Replay window of unprotect, in packets (RFC 3711 3.3.2 asks for >= 64). */
#define SRTP_REPLAY_WINDOW 128

/* RFC 3711 4.3.3 key derivation labels (SRTCP: 3, 4, 5). */
enum srtp_label {
	SRTP_LABEL_RTP_ENC,
	SRTP_LABEL_RTP_AUTH,
	SRTP_LABEL_RTP_SALT,
	SRTP_LABEL_RTCP_ENC,
	SRTP_LABEL_RTCP_AUTH,
	SRTP_LABEL_RTCP_SALT
};

/*
 * The AES-CM PRF of RFC 3711 4.3.3 with kdr = 0 (RFC 6188 for AES-256,
 * RFC 7714 section 11 and errata 4938 for the 12-byte GCM salt): writes n
 * session key bytes for label under key (master key || master salt of the
 * suite's sizes). 0, EINVAL (bad length), ENOTSUP, ENOMEM.
 */
int srtp_kdf(enum srtp_suite suite, const uint8_t *key, size_t len,
    enum srtp_label label, uint8_t *out, size_t n);

/*
 * Like srtp_alloc() but without the key derivation: key is the session key
 * || session salt (|| the 20-byte session authentication key for the
 * HMAC-SHA1 suites), used for SRTP and SRTCP alike. Only test vectors
 * (RFC 3711 B.2, RFC 7714 16 and 17) give keys this way.
 */
int srtp_alloc_session(
    struct srtp **sp, enum srtp_suite suite, const uint8_t *key, size_t len);

#endif
