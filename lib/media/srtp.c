/* SRTP and SRTCP (RFC 3711, RFC 7714) on OpenSSL EVP: keys, indexes, replay. */

/*
 * HMAC-SHA1 uses the SHA1_* functions, deprecated in OpenSSL 3: with them
 * the HMAC state after the padded key is a plain struct that a packet copies.
 * In OpenSSL 3.0 every EVP_MAC_init() or EVP_DigestInit_ex2() on a live
 * context allocates a new provider context (measured: two mallocs per
 * HMAC), which this module promises never to do per packet.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "media/srtp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

/* RFC 3711 4.1.1: AES-CM may not produce more than 2^16 blocks per packet;
 * this also keeps every length an int for EVP. */
#define SRTP_PKT_MAX (1u << 20)

#define RTP_HDR_MIN   12
#define RTCP_HDR_LEN  8
#define SRTCP_E_BIT   0x80000000u
#define SRTCP_IDX_MAX 0x7fffffffu
#define GCM_TAG       16
#define GCM_IV        12
#define SHA1_LEN      20
#define AUTH_KEY_LEN  20

static const struct srtp_suite_info suites[SRTP_SUITE_COUNT] = {
    [SRTP_AES_CM_128_HMAC_SHA1_80] = {"AES_CM_128_HMAC_SHA1_80", 16, 14, 10, 10,
        0},
    [SRTP_AES_CM_128_HMAC_SHA1_32] = {"AES_CM_128_HMAC_SHA1_32", 16, 14, 4, 10,
        0},
    [SRTP_AEAD_AES_128_GCM] = {"AEAD_AES_128_GCM", 16, 12, 16, 16, 1},
    [SRTP_AEAD_AES_256_GCM] = {"AEAD_AES_256_GCM", 32, 12, 16, 16, 1},
};

/* protocol-notes 2.2: the guide's labels and the server's priority order. */
static const enum srtp_suite opt_all[] = {SRTP_AEAD_AES_256_GCM,
    SRTP_AEAD_AES_128_GCM, SRTP_AES_CM_128_HMAC_SHA1_32,
    SRTP_AES_CM_128_HMAC_SHA1_80};
static const enum srtp_suite opt_gcm[] = {
    SRTP_AEAD_AES_256_GCM, SRTP_AEAD_AES_128_GCM};
static const enum srtp_suite opt_gcm256[] = {SRTP_AEAD_AES_256_GCM};

static const struct {
	const char *label;
	const char *slug;
	const enum srtp_suite *list;
	size_t n;
} options[SRTP_OPT_COUNT] = {
    [SRTP_OPT_ALL] = {"All supported AES-256, AES-128 ciphers", "all", opt_all,
        sizeof(opt_all) / sizeof(opt_all[0])},
    [SRTP_OPT_GCM] = {"AEAD AES-256, AES-128 GCM-based ciphers", "gcm", opt_gcm,
        sizeof(opt_gcm) / sizeof(opt_gcm[0])},
    [SRTP_OPT_GCM256] = {"AEAD AES256 GCM-based ciphers only", "gcm256",
        opt_gcm256, 1},
};

/* Fetched once by srtp_init(), never freed (they live as long as the
 * process, like the default library context they come from). */
static EVP_CIPHER *ctr128, *ctr256, *gcm128, *gcm256;

/* One SSRC's sequence state in one direction. */
struct srtp_ssrc {
	uint32_t ssrc; /* (64 bytes: one cache line) */
	bool used;
	bool rtp_init;  /* rtp_top holds a packet's index */
	bool rtcp_init; /* rtcp_top holds a packet's index */
	uint64_t last_use;
	/* RFC 3711 3.3.1: the highest index seen is ROC << 16 | s_l. */
	uint64_t rtp_top;
	uint64_t rtp_win[SRTP_REPLAY_WINDOW / 64]; /* bit d: top - d seen */
	uint64_t rtcp_top;                         /* highest SRTCP index */
	uint64_t rtcp_win[SRTP_REPLAY_WINDOW / 64];
};

/*
 * What every SRTP packet reads fills the first cache line and the first
 * SSRC slot the second: one 128-byte aligned pair, which the CPU fetches
 * together, so that thousands of contexts stay cheap.
 * One cipher context serves SRTP and SRTCP: an SRTCP packet (one every few
 * seconds) loads its session key and the next SRTP packet loads the SRTP
 * key back, which sets a key schedule but allocates nothing. The count of
 * good packets doubles as the clock of the slots' LRU order.
 */
struct srtp {
	const struct srtp_suite_info *info;
	EVP_CIPHER_CTX *c; /* owned; holds the session key named by keyed */
	uint8_t rtp_salt[14];
	uint8_t keyed; /* KEY_RTP or KEY_RTCP */
	struct srtp_stats st;
	_Alignas(64) struct srtp_ssrc ss[SRTP_MAX_SSRC];
	uint8_t rtcp_salt[14];
	enum srtp_suite suite;
	uint8_t rtp_key[32], rtcp_key[32]; /* session keys, for switching */
	/* HMAC suites only: SRTP inner, outer; SRTCP inner, outer. */
	SHA_CTX hmac[];
};

enum { KEY_RTP, KEY_RTCP };

/* Session secrets before they go into a struct srtp. */
struct sess {
	uint8_t enc[32];
	uint8_t salt[14];
	uint8_t auth[AUTH_KEY_LEN];
};

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- suites and options ---- */

const struct srtp_suite_info *
srtp_suite_info(enum srtp_suite s)
{
	if ((unsigned)s >= SRTP_SUITE_COUNT)
		return NULL;
	return &suites[s];
}

int
srtp_suite_from_name(struct slice name, enum srtp_suite *sp)
{
	if (sp == NULL)
		return EINVAL;
	for (int i = 0; i < SRTP_SUITE_COUNT; i++) {
		if (slice_eq_cstr(name, suites[i].name)) {
			*sp = (enum srtp_suite)i;
			return 0;
		}
	}
	return ENOTSUP;
}

size_t
srtp_option_suites(enum srtp_option o, const enum srtp_suite **listp)
{
	if ((unsigned)o >= SRTP_OPT_COUNT) {
		if (listp)
			*listp = NULL;
		return 0;
	}
	if (listp)
		*listp = options[o].list;
	return options[o].n;
}

const char *
srtp_option_label(enum srtp_option o)
{
	return (unsigned)o < SRTP_OPT_COUNT ? options[o].label : NULL;
}

const char *
srtp_option_slug(enum srtp_option o)
{
	return (unsigned)o < SRTP_OPT_COUNT ? options[o].slug : NULL;
}

int
srtp_option_parse(const char *s, enum srtp_option *op)
{
	if (s == NULL || op == NULL)
		return EINVAL;
	for (int i = 0; i < SRTP_OPT_COUNT; i++) {
		if (strcasecmp(s, options[i].label) == 0 ||
		    strcasecmp(s, options[i].slug) == 0) {
			*op = (enum srtp_option)i;
			return 0;
		}
	}
	return EBADMSG;
}

/* ---- setup ---- */

int
srtp_init(void)
{
	if (ctr128 && ctr256 && gcm128 && gcm256)
		return 0;
	if (ctr128 == NULL)
		ctr128 = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
	if (ctr256 == NULL)
		ctr256 = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
	if (gcm128 == NULL)
		gcm128 = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	if (gcm256 == NULL)
		gcm256 = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	return ctr128 && ctr256 && gcm128 && gcm256 ? 0 : ENOTSUP;
}

/* The cipher that encrypts packets of a suite. */
static const EVP_CIPHER *
suite_cipher(enum srtp_suite s)
{
	switch (s) {
	case SRTP_AEAD_AES_128_GCM:
		return gcm128;
	case SRTP_AEAD_AES_256_GCM:
		return gcm256;
	default:
		return ctr128;
	}
}

int
srtp_kdf(enum srtp_suite suite, const uint8_t *key, size_t len,
    enum srtp_label label, uint8_t *out, size_t n)
{
	const struct srtp_suite_info *info = srtp_suite_info(suite);
	EVP_CIPHER_CTX *c;
	uint8_t iv[16] = {0};
	int ol, err;

	if (info == NULL || key == NULL || out == NULL ||
	    len != info->key_len + info->salt_len ||
	    (unsigned)label > SRTP_LABEL_RTCP_SALT || n > 1024)
		return EINVAL;
	if ((err = srtp_init()) != 0)
		return err;
	/*
	 * RFC 3711 4.3.3 with kdr = 0: x = key_id XOR master salt, where
	 * key_id = label || 48 zero bits sits at the low end of the 112-bit
	 * salt; the keystream of AES-CM under the master key at IV x * 2^16
	 * is the session key. A 12-byte GCM salt is first multiplied by 2^16
	 * (RFC 7714 errata 4938), i.e. padded with two zero bytes.
	 */
	memcpy(iv, key + info->key_len, info->salt_len);
	iv[7] ^= (uint8_t)label;
	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return ENOMEM;
	memset(out, 0, n);
	err = 0;
	if (EVP_EncryptInit_ex2(
	        c, info->key_len == 32 ? ctr256 : ctr128, key, iv, NULL) != 1 ||
	    (n > 0 && EVP_EncryptUpdate(c, out, &ol, out, (int)n) != 1))
		err = ENOMEM;
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(iv, sizeof(iv));
	return err;
}

/* RFC 2104: the SHA-1 states after the inner and the outer padded key. */
static void
hmac_setkey(SHA_CTX h[2], const uint8_t *key, size_t n)
{
	uint8_t pad[64];

	memset(pad, 0x36, sizeof(pad));
	for (size_t i = 0; i < n; i++)
		pad[i] ^= key[i];
	SHA1_Init(&h[0]);
	SHA1_Update(&h[0], pad, sizeof(pad));
	memset(pad, 0x5c, sizeof(pad));
	for (size_t i = 0; i < n; i++)
		pad[i] ^= key[i];
	SHA1_Init(&h[1]);
	SHA1_Update(&h[1], pad, sizeof(pad));
	OPENSSL_cleanse(pad, sizeof(pad));
}

/* HMAC-SHA1 over p[0..n) || tail[0..tn). */
static void
hmac_sha1(const SHA_CTX h[2], const uint8_t *p, size_t n, const uint8_t *tail,
    size_t tn, uint8_t out[SHA1_LEN])
{
	SHA_CTX c = h[0];

	SHA1_Update(&c, p, n);
	if (tn)
		SHA1_Update(&c, tail, tn);
	SHA1_Final(out, &c);
	c = h[1];
	SHA1_Update(&c, out, SHA1_LEN);
	SHA1_Final(out, &c);
}

/* The bytes of a context: the HMAC states only for the HMAC suites. */
static size_t
srtp_size(const struct srtp_suite_info *info)
{
	return sizeof(struct srtp) + (info->aead ? 0 : 4 * sizeof(SHA_CTX));
}

static int
alloc_keys(struct srtp **sp, enum srtp_suite suite, const struct sess *rtp,
    const struct sess *rtcp)
{
	const struct srtp_suite_info *info = &suites[suite];
	size_t size = srtp_size(info);
	struct srtp *s;

	if (posix_memalign((void **)&s, 128, size) != 0)
		return ENOMEM;
	memset(s, 0, size);
	s->suite = suite;
	s->info = info;
	s->keyed = KEY_RTP;
	memcpy(s->rtp_key, rtp->enc, info->key_len);
	memcpy(s->rtcp_key, rtcp->enc, info->key_len);
	memcpy(s->rtp_salt, rtp->salt, info->salt_len);
	memcpy(s->rtcp_salt, rtcp->salt, info->salt_len);
	if (!info->aead) {
		hmac_setkey(&s->hmac[0], rtp->auth, AUTH_KEY_LEN);
		hmac_setkey(&s->hmac[2], rtcp->auth, AUTH_KEY_LEN);
	}
	if ((s->c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex2(
	        s->c, suite_cipher(suite), s->rtp_key, NULL, 1, NULL) != 1) {
		srtp_free(s);
		return ENOMEM;
	}
	*sp = s;
	return 0;
}

/* Makes the cipher context hold the SRTP or the SRTCP session key. */
static inline int
use_key(struct srtp *s, uint8_t which)
{
	if (s->keyed == which)
		return 0;
	if (EVP_CipherInit_ex2(s->c, NULL,
	        which == KEY_RTCP ? s->rtcp_key : s->rtp_key, NULL, -1,
	        NULL) != 1)
		return EPROTO;
	s->keyed = which;
	return 0;
}

int
srtp_alloc(
    struct srtp **sp, enum srtp_suite suite, const uint8_t *key, size_t len)
{
	const struct srtp_suite_info *info = srtp_suite_info(suite);
	struct sess k[2];
	int err;

	if (sp == NULL || info == NULL || key == NULL ||
	    len != info->key_len + info->salt_len)
		return EINVAL;
	if ((err = srtp_init()) != 0)
		return err;
	memset(k, 0, sizeof(k));
	for (int i = 0; i < 2 && err == 0; i++) {
		enum srtp_label base =
		    i ? SRTP_LABEL_RTCP_ENC : SRTP_LABEL_RTP_ENC;
		err = srtp_kdf(suite, key, len, base, k[i].enc, info->key_len);
		if (err == 0 && !info->aead)
			err = srtp_kdf(
			    suite, key, len, base + 1, k[i].auth, AUTH_KEY_LEN);
		if (err == 0)
			err = srtp_kdf(suite, key, len, base + 2, k[i].salt,
			    info->salt_len);
	}
	if (err == 0)
		err = alloc_keys(sp, suite, &k[0], &k[1]);
	OPENSSL_cleanse(k, sizeof(k));
	return err;
}

int
srtp_alloc_session(
    struct srtp **sp, enum srtp_suite suite, const uint8_t *key, size_t len)
{
	const struct srtp_suite_info *info = srtp_suite_info(suite);
	struct sess k;
	size_t want;
	int err;

	if (sp == NULL || info == NULL || key == NULL)
		return EINVAL;
	want = info->key_len + info->salt_len + (info->aead ? 0 : AUTH_KEY_LEN);
	if (len != want)
		return EINVAL;
	if ((err = srtp_init()) != 0)
		return err;
	memset(&k, 0, sizeof(k));
	memcpy(k.enc, key, info->key_len);
	memcpy(k.salt, key + info->key_len, info->salt_len);
	if (!info->aead)
		memcpy(
		    k.auth, key + info->key_len + info->salt_len, AUTH_KEY_LEN);
	err = alloc_keys(sp, suite, &k, &k);
	OPENSSL_cleanse(&k, sizeof(k));
	return err;
}

void
srtp_free(struct srtp *s)
{
	if (s == NULL)
		return;
	/* EVP_CIPHER_CTX_free() wipes the key schedule; the session keys,
	 * salts and HMAC states are wiped with the rest of the struct. */
	EVP_CIPHER_CTX_free(s->c);
	OPENSSL_cleanse(s, srtp_size(s->info));
	free(s);
}

void
srtp_get_stats(const struct srtp *s, struct srtp_stats *st)
{
	if (s && st)
		*st = s->st;
}

enum srtp_suite
srtp_get_suite(const struct srtp *s)
{
	return s->suite;
}

/* ---- per-SSRC state ---- */

static struct srtp_ssrc *
ssrc_find(struct srtp *s, uint32_t ssrc)
{
	for (size_t i = 0; i < SRTP_MAX_SSRC; i++) {
		if (s->ss[i].used && s->ss[i].ssrc == ssrc)
			return &s->ss[i];
	}
	return NULL;
}

/* A fresh slot for ssrc: a free one, else the least recently used. */
static struct srtp_ssrc *
ssrc_take(struct srtp *s, uint32_t ssrc)
{
	struct srtp_ssrc *e = &s->ss[0];

	for (size_t i = 0; i < SRTP_MAX_SSRC; i++) {
		if (!s->ss[i].used) {
			e = &s->ss[i];
			break;
		}
		if (s->ss[i].last_use < e->last_use)
			e = &s->ss[i];
	}
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->ssrc = ssrc;
	return e;
}

/*
 * RFC 3711 3.3.1 and appendix A: the index of seq, guessed from the highest
 * index seen (s_l and ROC). EALREADY for a packet from before ROC 0 (too
 * old), EPROTO when the ROC would pass 2^32 (the key is exhausted).
 */
static int
rtp_estimate(const struct srtp_ssrc *e, uint16_t seq, uint64_t *idxp)
{
	uint32_t roc = (uint32_t)(e->rtp_top >> 16);
	uint16_t s_l = (uint16_t)e->rtp_top;
	int64_t v = roc;

	if (!e->rtp_init) {
		*idxp = seq; /* a new SSRC starts at ROC 0 */
		return 0;
	}
	if (s_l < 32768) {
		if ((int)seq - (int)s_l > 32768)
			v = (int64_t)roc - 1;
	} else if ((int)s_l - 32768 > (int)seq) {
		v = (int64_t)roc + 1;
	}
	if (v < 0)
		return EALREADY;
	if (v > (int64_t)UINT32_MAX)
		return EPROTO;
	*idxp = (uint64_t)v << 16 | seq;
	return 0;
}

/* RFC 3711 3.3.2: 0 when idx is new, EALREADY when seen or too old. */
static int
replay_check(bool init, uint64_t top, const uint64_t *win, uint64_t idx)
{
	uint64_t d;

	if (!init || idx > top)
		return 0;
	d = top - idx;
	if (d >= SRTP_REPLAY_WINDOW)
		return EALREADY;
	return (win[d / 64] >> (d % 64)) & 1 ? EALREADY : 0;
}

/* Records idx as seen; the window slides when idx is the new highest. */
static void
replay_add(bool *init, uint64_t *top, uint64_t *win, uint64_t idx)
{
	const size_t nw = SRTP_REPLAY_WINDOW / 64;
	uint64_t d;

	if (!*init) {
		*init = true;
		*top = idx;
		memset(win, 0, nw * sizeof(*win));
		win[0] = 1;
		return;
	}
	if (idx <= *top) {
		d = *top - idx;
		win[d / 64] |= UINT64_C(1) << (d % 64);
		return;
	}
	d = idx - *top;
	*top = idx;
	if (d >= SRTP_REPLAY_WINDOW) {
		memset(win, 0, nw * sizeof(*win));
	} else {
		size_t words = (size_t)(d / 64), bits = (size_t)(d % 64);
		for (size_t i = nw; i-- > 0;) {
			uint64_t v = 0;
			if (i >= words) {
				v = win[i - words] << bits;
				if (bits && i > words)
					v |= win[i - words - 1] >> (64 - bits);
			}
			win[i] = v;
		}
	}
	win[0] |= 1;
}

/* ---- packets ---- */

/* RFC 3550 5.1: the length of the fixed header, CSRCs and extension. */
static int
rtp_header_len(const uint8_t *p, size_t len, size_t *hlp)
{
	size_t hl;

	if (len < RTP_HDR_MIN || (p[0] >> 6) != 2)
		return EBADMSG;
	hl = RTP_HDR_MIN + 4 * (size_t)(p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (len < hl + 4)
			return EBADMSG;
		hl += 4 + 4 * (size_t)be16(p + hl + 2);
	}
	if (hl > len)
		return EBADMSG;
	*hlp = hl;
	return 0;
}

/* RFC 3711 4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16). */
static void
cm_iv(uint8_t iv[16], const uint8_t salt[14], uint32_t ssrc, uint64_t idx)
{
	memcpy(iv, salt, 14);
	iv[14] = iv[15] = 0;
	iv[4] ^= (uint8_t)(ssrc >> 24);
	iv[5] ^= (uint8_t)(ssrc >> 16);
	iv[6] ^= (uint8_t)(ssrc >> 8);
	iv[7] ^= (uint8_t)ssrc;
	for (int i = 0; i < 6; i++)
		iv[8 + i] ^= (uint8_t)(idx >> (40 - 8 * i));
}

/* RFC 7714 8.1 and 9.1: 00 00 || SSRC || hi || lo, XOR the salt, where
 * hi.lo is ROC.SEQ for SRTP and 0000.index for SRTCP. */
static void
gcm_iv(uint8_t iv[GCM_IV], const uint8_t salt[12], uint32_t ssrc, uint32_t hi,
    uint16_t lo)
{
	iv[0] = iv[1] = 0;
	put32(iv + 2, ssrc);
	put32(iv + 6, hi);
	iv[10] = (uint8_t)(lo >> 8);
	iv[11] = (uint8_t)lo;
	for (int i = 0; i < GCM_IV; i++)
		iv[i] ^= salt[i];
}

/* AES-CM over p[0..n) in place (encryption and decryption alike). */
static int
cm_crypt(EVP_CIPHER_CTX *c, const uint8_t iv[16], uint8_t *p, size_t n)
{
	int ol;

	if (EVP_CipherInit_ex2(c, NULL, NULL, iv, 1, NULL) != 1)
		return EPROTO;
	if (n && EVP_CipherUpdate(c, p, &ol, p, (int)n) != 1)
		return EPROTO;
	return 0;
}

/*
 * AES-GCM over p[0..n) in place with aad || aad2 authenticated. Sealing
 * writes the tag; opening checks it and returns EACCES when it is wrong (p
 * then holds unauthenticated bytes the caller must drop).
 */
static int
gcm_crypt(EVP_CIPHER_CTX *c, int enc, const uint8_t iv[GCM_IV],
    const uint8_t *aad, size_t an, const uint8_t *aad2, size_t an2, uint8_t *p,
    size_t n, uint8_t tag[GCM_TAG])
{
	uint8_t last[16];
	int ol;

	if (EVP_CipherInit_ex2(c, NULL, NULL, iv, enc, NULL) != 1 ||
	    EVP_CipherUpdate(c, NULL, &ol, aad, (int)an) != 1 ||
	    (an2 && EVP_CipherUpdate(c, NULL, &ol, aad2, (int)an2) != 1) ||
	    (n && EVP_CipherUpdate(c, p, &ol, p, (int)n) != 1))
		return EPROTO;
	if (enc) {
		if (EVP_CipherFinal_ex(c, last, &ol) != 1 ||
		    EVP_CIPHER_CTX_ctrl(
		        c, EVP_CTRL_AEAD_GET_TAG, GCM_TAG, tag) != 1)
			return EPROTO;
		return 0;
	}
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, GCM_TAG, tag) != 1)
		return EPROTO;
	return EVP_CipherFinal_ex(c, last, &ol) == 1 ? 0 : EACCES;
}

/* Counts a dropped packet by its error. */
static int
drop(struct srtp *s, int err)
{
	switch (err) {
	case EBADMSG:
		s->st.malformed++;
		break;
	case EACCES:
		s->st.auth_fail++;
		break;
	case EALREADY:
		s->st.replay++;
		break;
	default:
		break;
	}
	return err;
}

int
srtp_protect(struct srtp *s, uint8_t *pkt, size_t *lenp, size_t cap)
{
	struct srtp_ssrc *e, fresh;
	size_t len, hl, tl;
	uint8_t iv[16], roc[4], mac[SHA1_LEN];
	uint64_t idx;
	uint32_t ssrc;
	int err;

	if (s == NULL || pkt == NULL || lenp == NULL)
		return EINVAL;
	len = *lenp;
	tl = s->info->rtp_tag;
	if (len > SRTP_PKT_MAX || rtp_header_len(pkt, len, &hl) != 0)
		return drop(s, EBADMSG);
	if (cap < len + tl)
		return ENOMEM;
	ssrc = be32(pkt + 8);
	/* As on the receiving side, a packet that fails changes nothing. */
	if ((e = ssrc_find(s, ssrc)) == NULL) {
		memset(&fresh, 0, sizeof(fresh));
		e = &fresh;
	}
	if ((err = rtp_estimate(e, be16(pkt + 2), &idx)) != 0 ||
	    (err = replay_check(e->rtp_init, e->rtp_top, e->rtp_win, idx)) != 0)
		return drop(s, err);

	if ((err = use_key(s, KEY_RTP)) != 0)
		return err;
	if (s->info->aead) {
		gcm_iv(iv, s->rtp_salt, ssrc, (uint32_t)(idx >> 16),
		    (uint16_t)idx);
		err = gcm_crypt(s->c, 1, iv, pkt, hl, NULL, 0, pkt + hl,
		    len - hl, pkt + len);
	} else {
		cm_iv(iv, s->rtp_salt, ssrc, idx);
		err = cm_crypt(s->c, iv, pkt + hl, len - hl);
		if (err == 0) {
			/* RFC 3711 4.2: the tag covers packet || ROC. */
			put32(roc, (uint32_t)(idx >> 16));
			hmac_sha1(&s->hmac[0], pkt, len, roc, 4, mac);
			memcpy(pkt + len, mac, tl);
		}
	}
	if (err != 0)
		return err;
	if (e == &fresh)
		e = ssrc_take(s, ssrc);
	e->last_use = ++s->st.ok;
	replay_add(&e->rtp_init, &e->rtp_top, e->rtp_win, idx);
	*lenp = len + tl;
	return 0;
}

int
srtp_unprotect(struct srtp *s, uint8_t *pkt, size_t *lenp)
{
	struct srtp_ssrc *e, fresh;
	size_t len, hl, tl;
	uint8_t iv[16], roc[4], mac[SHA1_LEN];
	uint64_t idx;
	uint32_t ssrc;
	int err;

	if (s == NULL || pkt == NULL || lenp == NULL)
		return EINVAL;
	len = *lenp;
	tl = s->info->rtp_tag;
	if (len > SRTP_PKT_MAX || len < RTP_HDR_MIN + tl ||
	    rtp_header_len(pkt, len - tl, &hl) != 0)
		return drop(s, EBADMSG);
	len -= tl;
	ssrc = be32(pkt + 8);
	/* An unknown SSRC gets a slot only once a packet authenticates, so
	 * forged packets cannot push real streams out of the table. */
	if ((e = ssrc_find(s, ssrc)) == NULL) {
		memset(&fresh, 0, sizeof(fresh));
		e = &fresh;
	}
	if ((err = rtp_estimate(e, be16(pkt + 2), &idx)) != 0)
		return drop(s, err == EPROTO ? EALREADY : err);
	if ((err = replay_check(e->rtp_init, e->rtp_top, e->rtp_win, idx)) != 0)
		return drop(s, err);

	if ((err = use_key(s, KEY_RTP)) != 0)
		return err;
	if (s->info->aead) {
		gcm_iv(iv, s->rtp_salt, ssrc, (uint32_t)(idx >> 16),
		    (uint16_t)idx);
		err = gcm_crypt(s->c, 0, iv, pkt, hl, NULL, 0, pkt + hl,
		    len - hl, pkt + len);
	} else {
		put32(roc, (uint32_t)(idx >> 16));
		hmac_sha1(&s->hmac[0], pkt, len, roc, 4, mac);
		if (CRYPTO_memcmp(mac, pkt + len, tl) != 0)
			return drop(s, EACCES);
		cm_iv(iv, s->rtp_salt, ssrc, idx);
		err = cm_crypt(s->c, iv, pkt + hl, len - hl);
	}
	if (err != 0)
		return drop(s, err);
	if (e == &fresh)
		e = ssrc_take(s, ssrc);
	e->last_use = ++s->st.ok;
	replay_add(&e->rtp_init, &e->rtp_top, e->rtp_win, idx);
	*lenp = len;
	return 0;
}

int
srtcp_protect(struct srtp *s, uint8_t *pkt, size_t *lenp, size_t cap)
{
	struct srtp_ssrc *e, fresh;
	size_t len, tl;
	uint8_t iv[16], mac[SHA1_LEN];
	uint64_t idx;
	uint32_t ssrc;
	int err;

	if (s == NULL || pkt == NULL || lenp == NULL)
		return EINVAL;
	len = *lenp;
	tl = s->info->rtcp_tag;
	if (len > SRTP_PKT_MAX || len < RTCP_HDR_LEN || (pkt[0] >> 6) != 2)
		return drop(s, EBADMSG);
	if (cap < len + 4 + tl)
		return ENOMEM;
	ssrc = be32(pkt + 4);
	if ((e = ssrc_find(s, ssrc)) == NULL) {
		memset(&fresh, 0, sizeof(fresh));
		e = &fresh;
	}
	/* RFC 3711 3.4: the index starts at 0 and must not wrap. */
	idx = e->rtcp_init ? e->rtcp_top + 1 : 0;
	if (idx > SRTCP_IDX_MAX)
		return EPROTO;

	if ((err = use_key(s, KEY_RTCP)) != 0)
		return err;
	if (s->info->aead) {
		/* RFC 7714 9: header || ciphertext || tag || E+index, with
		 * the E flag and index authenticated after the header. */
		uint8_t trailer[4];
		put32(trailer, SRTCP_E_BIT | (uint32_t)idx);
		gcm_iv(iv, s->rtcp_salt, ssrc, (uint32_t)(idx >> 16),
		    (uint16_t)idx);
		err = gcm_crypt(s->c, 1, iv, pkt, RTCP_HDR_LEN, trailer, 4,
		    pkt + RTCP_HDR_LEN, len - RTCP_HDR_LEN, pkt + len);
		if (err != 0)
			return err;
		memcpy(pkt + len + GCM_TAG, trailer, 4);
	} else {
		/* RFC 3711 3.4: header || ciphertext || E+index || tag. */
		cm_iv(iv, s->rtcp_salt, ssrc, idx);
		if ((err = cm_crypt(s->c, iv, pkt + RTCP_HDR_LEN,
		         len - RTCP_HDR_LEN)) != 0)
			return err;
		put32(pkt + len, SRTCP_E_BIT | (uint32_t)idx);
		hmac_sha1(&s->hmac[2], pkt, len + 4, NULL, 0, mac);
		memcpy(pkt + len + 4, mac, tl);
	}
	if (e == &fresh)
		e = ssrc_take(s, ssrc);
	e->last_use = ++s->st.ok;
	replay_add(&e->rtcp_init, &e->rtcp_top, e->rtcp_win, idx);
	*lenp = len + 4 + tl;
	return 0;
}

int
srtcp_unprotect(struct srtp *s, uint8_t *pkt, size_t *lenp)
{
	struct srtp_ssrc *e, fresh;
	size_t len, tl, body;
	uint8_t iv[16], mac[SHA1_LEN], *trailer;
	uint32_t ssrc, w;
	uint64_t idx;
	bool enc;
	int err;

	if (s == NULL || pkt == NULL || lenp == NULL)
		return EINVAL;
	len = *lenp;
	tl = s->info->rtcp_tag;
	if (len > SRTP_PKT_MAX || len < RTCP_HDR_LEN + 4 + tl ||
	    (pkt[0] >> 6) != 2)
		return drop(s, EBADMSG);
	body = len - 4 - tl; /* the RTCP packet's own length */
	trailer = s->info->aead ? pkt + len - 4 : pkt + body;
	w = be32(trailer);
	enc = (w & SRTCP_E_BIT) != 0;
	idx = w & SRTCP_IDX_MAX;
	ssrc = be32(pkt + 4);
	if ((e = ssrc_find(s, ssrc)) == NULL) {
		memset(&fresh, 0, sizeof(fresh));
		e = &fresh;
	}
	if ((err = replay_check(e->rtcp_init, e->rtcp_top, e->rtcp_win, idx)) !=
	    0)
		return drop(s, err);

	if ((err = use_key(s, KEY_RTCP)) != 0)
		return err;
	if (s->info->aead) {
		uint8_t tw[4];
		memcpy(tw, trailer, 4);
		gcm_iv(iv, s->rtcp_salt, ssrc, (uint32_t)(idx >> 16),
		    (uint16_t)idx);
		/* RFC 7714 9.1 and 9.2: without E the whole packet is AAD. */
		if (enc)
			err = gcm_crypt(s->c, 0, iv, pkt, RTCP_HDR_LEN, tw, 4,
			    pkt + RTCP_HDR_LEN, body - RTCP_HDR_LEN,
			    pkt + body);
		else
			err = gcm_crypt(
			    s->c, 0, iv, pkt, body, tw, 4, NULL, 0, pkt + body);
	} else {
		hmac_sha1(&s->hmac[2], pkt, body + 4, NULL, 0, mac);
		if (CRYPTO_memcmp(mac, pkt + body + 4, tl) != 0)
			return drop(s, EACCES);
		err = 0;
		if (enc) {
			cm_iv(iv, s->rtcp_salt, ssrc, idx);
			err = cm_crypt(
			    s->c, iv, pkt + RTCP_HDR_LEN, body - RTCP_HDR_LEN);
		}
	}
	if (err != 0)
		return drop(s, err);
	if (e == &fresh)
		e = ssrc_take(s, ssrc);
	e->last_use = ++s->st.ok;
	replay_add(&e->rtcp_init, &e->rtcp_top, e->rtcp_win, idx);
	*lenp = body;
	return 0;
}
