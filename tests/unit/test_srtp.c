/* Unit tests for lib/media/srtp: RFC vectors, round trips, replay, wraps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "core/secure.h"
#include "core/slice.h"
#include "media/srtp.h"

#define PKT_CAP 1500

/* Decodes hex, skipping spaces; returns the byte count. */
static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *h; h++) {
		int v;
		if (*h >= '0' && *h <= '9')
			v = *h - '0';
		else if (*h >= 'a' && *h <= 'f')
			v = *h - 'a' + 10;
		else if (*h >= 'A' && *h <= 'F')
			v = *h - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

/* A 12-byte RTP header (PT 0) and a payload of plen pattern bytes. */
static size_t
make_rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, size_t plen)
{
	p[0] = 0x80;
	p[1] = 0x00;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = p[5] = p[6] = 0;
	p[7] = (uint8_t)seq;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < plen; i++)
		p[12 + i] = (uint8_t)(i * 7 + seq);
	return 12 + plen;
}

/* A receiver report with one report block: 32 bytes. */
static size_t
make_rtcp(uint8_t *p, uint32_t ssrc, uint8_t fill)
{
	memset(p, fill, 32);
	p[0] = 0x81;
	p[1] = 201;
	p[2] = 0;
	p[3] = 7;
	p[4] = (uint8_t)(ssrc >> 24);
	p[5] = (uint8_t)(ssrc >> 16);
	p[6] = (uint8_t)(ssrc >> 8);
	p[7] = (uint8_t)ssrc;
	return 32;
}

/* A sender and a receiver on one random master key. */
static void
pair(enum srtp_suite suite, struct srtp **tx, struct srtp **rx)
{
	const struct srtp_suite_info *si = srtp_suite_info(suite);
	uint8_t key[SRTP_MAX_KEY_SALT];
	size_t kl = si->key_len + si->salt_len;

	assert_int_equal(secure_random(key, kl), 0);
	assert_int_equal(srtp_alloc(tx, suite, key, kl), 0);
	assert_int_equal(srtp_alloc(rx, suite, key, kl), 0);
	secure_wipe(key, sizeof(key));
}

/* Protects seq for ssrc and unprotects it at once; returns unprotect's
 * result after checking the plain packet came back. */
static int
send_one(struct srtp *tx, struct srtp *rx, uint16_t seq, uint32_t ssrc)
{
	uint8_t pkt[PKT_CAP], plain[PKT_CAP];
	size_t n = make_rtp(plain, seq, ssrc, 160), len = n;
	int err;

	memcpy(pkt, plain, n);
	assert_int_equal(srtp_protect(tx, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(len, n + srtp_suite_info(srtp_get_suite(tx))->rtp_tag);
	if ((err = srtp_unprotect(rx, pkt, &len)) == 0) {
		assert_int_equal(len, n);
		assert_memory_equal(pkt, plain, n);
	}
	return err;
}

static void
test_suites_and_options(void **state)
{
	const enum srtp_suite *l;
	enum srtp_suite s;
	enum srtp_option o;

	(void)state;
	assert_string_equal(
	    srtp_suite_info(SRTP_AEAD_AES_256_GCM)->name, "AEAD_AES_256_GCM");
	assert_int_equal(srtp_suite_info(SRTP_AEAD_AES_256_GCM)->key_len, 32);
	assert_int_equal(srtp_suite_info(SRTP_AEAD_AES_128_GCM)->salt_len, 12);
	assert_int_equal(
	    srtp_suite_info(SRTP_AES_CM_128_HMAC_SHA1_32)->rtp_tag, 4);
	assert_int_equal(
	    srtp_suite_info(SRTP_AES_CM_128_HMAC_SHA1_32)->rtcp_tag, 10);
	assert_int_equal(
	    srtp_suite_info(SRTP_AES_CM_128_HMAC_SHA1_80)->salt_len, 14);
	assert_null(srtp_suite_info(SRTP_SUITE_COUNT));
	for (int i = 0; i < SRTP_SUITE_COUNT; i++) {
		const struct srtp_suite_info *si = srtp_suite_info(i);
		assert_int_equal(
		    srtp_suite_from_name(slice_cstr(si->name), &s), 0);
		assert_int_equal(s, i);
		assert_true(si->key_len + si->salt_len <= SRTP_MAX_KEY_SALT);
		assert_true(si->rtcp_tag + 4 <= SRTP_MAX_TRAILER);
	}
	assert_int_equal(
	    srtp_suite_from_name(SLICE_LIT("F8_128_HMAC_SHA1_80"), &s),
	    ENOTSUP);
	assert_int_equal(
	    srtp_suite_from_name(SLICE_LIT("aead_aes_256_gcm"), &s), ENOTSUP);

	assert_int_equal(srtp_option_suites(SRTP_OPT_ALL, &l), 4);
	assert_int_equal(l[0], SRTP_AEAD_AES_256_GCM);
	assert_int_equal(l[1], SRTP_AEAD_AES_128_GCM);
	assert_int_equal(l[2], SRTP_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(l[3], SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(srtp_option_suites(SRTP_OPT_GCM, &l), 2);
	assert_int_equal(l[0], SRTP_AEAD_AES_256_GCM);
	assert_int_equal(l[1], SRTP_AEAD_AES_128_GCM);
	assert_int_equal(srtp_option_suites(SRTP_OPT_GCM256, &l), 1);
	assert_int_equal(l[0], SRTP_AEAD_AES_256_GCM);
	assert_string_equal(srtp_option_label(SRTP_OPT_ALL),
	    "All supported AES-256, AES-128 ciphers");
	assert_string_equal(srtp_option_label(SRTP_OPT_GCM),
	    "AEAD AES-256, AES-128 GCM-based ciphers");
	assert_string_equal(srtp_option_label(SRTP_OPT_GCM256),
	    "AEAD AES256 GCM-based ciphers only");
	assert_string_equal(srtp_option_slug(SRTP_OPT_ALL), "all");
	assert_string_equal(srtp_option_slug(SRTP_OPT_GCM), "gcm");
	assert_string_equal(srtp_option_slug(SRTP_OPT_GCM256), "gcm256");
	for (int i = 0; i < SRTP_OPT_COUNT; i++) {
		assert_int_equal(
		    srtp_option_parse(srtp_option_label(i), &o), 0);
		assert_int_equal(o, i);
		assert_int_equal(srtp_option_parse(srtp_option_slug(i), &o), 0);
		assert_int_equal(o, i);
	}
	assert_int_equal(srtp_option_parse("GCM256", &o), 0);
	assert_int_equal(o, SRTP_OPT_GCM256);
	assert_int_equal(
	    srtp_option_parse("aead aes-256, aes-128 gcm-based ciphers", &o),
	    0);
	assert_int_equal(o, SRTP_OPT_GCM);
	assert_int_equal(srtp_option_parse("aes", &o), EBADMSG);
	assert_int_equal(srtp_option_parse("", &o), EBADMSG);
}

/* RFC 3711 B.2: the AES-CM keystream, read as the ciphertext of zeros. */
static void
test_rfc3711_keystream(void **state)
{
	static const char *blocks[][2] = {
	    {"0000", "E03EAD0935C95E80E166B16DD92B4EB4"},
	    {"0001", "D23513162B02D0F72A43A2FE4A5F97AB"},
	    {"0002", "41E95B3BB0A2E8DD477901E4FCA894C0"},
	    {"FEFF", "EC8CDF7398607CB0F2D21675EA9EA1E4"},
	    {"FF00", "362B7C3C6773516318A077D7FC5073AE"},
	    {"FF01", "6A2CC3787889374FBEB4C81B17BA6C44"},
	};
	uint8_t key[50], want[16];
	size_t plen = 0xff02 * 16, len, cap = 12 + plen + 10;
	uint8_t *pkt = calloc(1, cap);
	struct srtp *s;

	(void)state;
	assert_non_null(pkt);
	unhex("2B7E151628AED2A6ABF7158809CF4F3C" /* session key */
	      "F0F1F2F3F4F5F6F7F8F9FAFBFCFD"     /* session salt */
	      "0000000000000000000000000000000000000000",
	    key, sizeof(key));
	assert_int_equal(
	    srtp_alloc_session(&s, SRTP_AES_CM_128_HMAC_SHA1_80, key, 50), 0);
	/* SSRC 0, sequence number 0, ROC 0. */
	pkt[0] = 0x80;
	len = 12 + plen;
	assert_int_equal(srtp_protect(s, pkt, &len, cap), 0);
	assert_int_equal(len, 12 + plen + 10);
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		size_t blk = strtoul(blocks[i][0], NULL, 16);
		unhex(blocks[i][1], want, sizeof(want));
		assert_memory_equal(pkt + 12 + 16 * blk, want, 16);
	}
	srtp_free(s);
	free(pkt);
}

/* RFC 3711 B.3: the key derivation. */
static void
test_rfc3711_kdf(void **state)
{
	uint8_t master[30], out[94], want[94], sess[50];
	uint8_t a[PKT_CAP], b[PKT_CAP];
	size_t la, lb;
	struct srtp *s1, *s2;

	(void)state;
	unhex("E1F97A0D3E018BE0D64FA32C06DE4139"
	      "0EC675AD498AFEEBB6960B3AABE6",
	    master, sizeof(master));
	assert_int_equal(srtp_kdf(SRTP_AES_CM_128_HMAC_SHA1_80, master, 30,
	                     SRTP_LABEL_RTP_ENC, out, 16),
	    0);
	unhex("C61E7A93744F39EE10734AFE3FF7A087", want, sizeof(want));
	assert_memory_equal(out, want, 16);
	memcpy(sess, out, 16);
	assert_int_equal(srtp_kdf(SRTP_AES_CM_128_HMAC_SHA1_80, master, 30,
	                     SRTP_LABEL_RTP_SALT, out, 14),
	    0);
	unhex("30CBBC08863D8C85D49DB34A9AE1", want, sizeof(want));
	assert_memory_equal(out, want, 14);
	memcpy(sess + 16, out, 14);
	assert_int_equal(srtp_kdf(SRTP_AES_CM_128_HMAC_SHA1_80, master, 30,
	                     SRTP_LABEL_RTP_AUTH, out, 94),
	    0);
	unhex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE"
	      "E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25"
	      "6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2",
	    want, sizeof(want));
	assert_memory_equal(out, want, 94);
	memcpy(sess + 30, out, 20);
	assert_int_equal(srtp_kdf(SRTP_AES_CM_128_HMAC_SHA1_80, master, 29,
	                     SRTP_LABEL_RTP_AUTH, out, 20),
	    EINVAL);

	/* srtp_alloc() protects with exactly these SRTP session keys. */
	assert_int_equal(
	    srtp_alloc(&s1, SRTP_AES_CM_128_HMAC_SHA1_80, master, 30), 0);
	assert_int_equal(
	    srtp_alloc_session(&s2, SRTP_AES_CM_128_HMAC_SHA1_80, sess, 50), 0);
	la = lb = make_rtp(a, 4711, 0x11223344, 160);
	make_rtp(b, 4711, 0x11223344, 160);
	assert_int_equal(srtp_protect(s1, a, &la, sizeof(a)), 0);
	assert_int_equal(srtp_protect(s2, b, &lb, sizeof(b)), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	srtp_free(s1);
	srtp_free(s2);
	assert_int_equal(
	    srtp_alloc(&s1, SRTP_AES_CM_128_HMAC_SHA1_80, master, 29), EINVAL);
}

/* RFC 7714 16 and 17 (session keys given, no key derivation). */
struct gcm_vec {
	enum srtp_suite suite;
	const char *key;
	const char *rtp_enc;
	const char *rtcp_enc;
	const char *rtcp_auth; /* E = 0: authenticated only */
};

static const char gcm_salt[] = "517569642070726f2071756f";
static const char rtp_plain[] = "8040f17b 8041f8d3 5501a0b2 47616c6c"
                                "69612065 7374206f 6d6e6973 20646976"
                                "69736120 696e2070 61727465 73207472"
                                "6573";
static const char rtcp_plain[] = "81c8000d 4d617273 4e545031 4e545032"
                                 "52545020 0000042a 0000e930 4c756e61"
                                 "deadbeef deadbeef deadbeef deadbeef"
                                 "deadbeef";

static const struct gcm_vec gcm_vecs[] = {
    {SRTP_AEAD_AES_128_GCM, "000102030405060708090a0b0c0d0e0f",
        "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca"
        "be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1"
        "6a9152cf 765ee439 0cce",
        "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7"
        "6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458"
        "96cf4d2f c5abf872 45d9eade 800005d4",
        "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930"
        "4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968"
        "3dd78ec9 2ae58790 125f62b3 000005d4"},
    {SRTP_AEAD_AES_256_GCM,
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa"
        "b1801238 9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff"
        "d6b0f9bb 7878d7a7 6c13",
        "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d"
        "bffe0a50 a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c"
        "4446839f 57ff6f6c b26ac3be 800005d4",
        "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930"
        "4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 91db4afb"
        "feee5a97 8fab4393 ed2615fe 000005d4"},
};

static void
test_rfc7714_vectors(void **state)
{
	(void)state;
	for (size_t v = 0; v < sizeof(gcm_vecs) / sizeof(gcm_vecs[0]); v++) {
		const struct gcm_vec *g = &gcm_vecs[v];
		uint8_t key[64], plain[PKT_CAP], want[PKT_CAP], pkt[PKT_CAP];
		size_t kl, pl, wl, len;
		struct srtp *tx, *rx;

		kl = unhex(g->key, key, sizeof(key));
		kl += unhex(gcm_salt, key + kl, sizeof(key) - kl);
		assert_int_equal(srtp_alloc_session(&tx, g->suite, key, kl), 0);
		assert_int_equal(srtp_alloc_session(&rx, g->suite, key, kl), 0);

		/* SRTP: sequence f17b, ROC 0. */
		pl = unhex(rtp_plain, plain, sizeof(plain));
		wl = unhex(g->rtp_enc, want, sizeof(want));
		memcpy(pkt, plain, pl);
		len = pl;
		assert_int_equal(srtp_protect(tx, pkt, &len, sizeof(pkt)), 0);
		assert_int_equal(len, wl);
		assert_memory_equal(pkt, want, wl);
		assert_int_equal(srtp_unprotect(rx, pkt, &len), 0);
		assert_int_equal(len, pl);
		assert_memory_equal(pkt, plain, pl);

		/* SRTCP index 0x5d4: the sender first uses 0 .. 0x5d3. */
		pl = unhex(rtcp_plain, plain, sizeof(plain));
		for (int i = 0; i < 0x5d4; i++) {
			memcpy(pkt, plain, pl);
			len = pl;
			assert_int_equal(
			    srtcp_protect(tx, pkt, &len, sizeof(pkt)), 0);
		}
		wl = unhex(g->rtcp_enc, want, sizeof(want));
		memcpy(pkt, plain, pl);
		len = pl;
		assert_int_equal(srtcp_protect(tx, pkt, &len, sizeof(pkt)), 0);
		assert_int_equal(len, wl);
		assert_memory_equal(pkt, want, wl);
		assert_int_equal(srtcp_unprotect(rx, pkt, &len), 0);
		assert_int_equal(len, pl);
		assert_memory_equal(pkt, plain, pl);

		/* The authenticated-only form (E = 0) of the same index is a
		 * replay now; a fresh receiver takes it. */
		wl = unhex(g->rtcp_auth, want, sizeof(want));
		memcpy(pkt, want, wl);
		len = wl;
		assert_int_equal(srtcp_unprotect(rx, pkt, &len), EALREADY);
		srtp_free(rx);
		assert_int_equal(srtp_alloc_session(&rx, g->suite, key, kl), 0);
		memcpy(pkt, want, wl);
		len = wl;
		assert_int_equal(srtcp_unprotect(rx, pkt, &len), 0);
		assert_int_equal(len, pl);
		assert_memory_equal(pkt, plain, pl);
		srtp_free(tx);
		srtp_free(rx);
	}
}

static void
test_round_trip(void **state)
{
	(void)state;
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		const struct srtp_suite_info *si = srtp_suite_info(su);
		struct srtp *tx, *rx;
		struct srtp_stats st;

		pair(su, &tx, &rx);
		assert_int_equal(srtp_get_suite(tx), su);
		for (int i = 0; i < 100; i++)
			assert_int_equal(send_one(tx, rx, 1000 + i, 0xcafe), 0);
		for (int i = 0; i < 20; i++) {
			uint8_t pkt[PKT_CAP], plain[PKT_CAP];
			size_t n = make_rtcp(plain, 0xcafe, (uint8_t)i),
			       len = n;
			memcpy(pkt, plain, n);
			assert_int_equal(
			    srtcp_protect(tx, pkt, &len, sizeof(pkt)), 0);
			assert_int_equal(len, n + 4 + si->rtcp_tag);
			/* Encrypted: the body no longer reads as plain. */
			assert_memory_not_equal(pkt + 8, plain + 8, n - 8);
			assert_int_equal(srtcp_unprotect(rx, pkt, &len), 0);
			assert_int_equal(len, n);
			assert_memory_equal(pkt, plain, n);
		}
		/* A header with CSRCs and an extension stays in clear. */
		{
			uint8_t pkt[PKT_CAP], plain[PKT_CAP];
			size_t len = make_rtp(plain, 1100, 0xcafe, 60);
			plain[0] = 0x92; /* X, CC = 2 */
			plain[20] = 0xbe;
			plain[21] = 0xde;
			plain[22] = 0;
			plain[23] = 1; /* one extension word */
			memcpy(pkt, plain, len);
			assert_int_equal(
			    srtp_protect(tx, pkt, &len, sizeof(pkt)), 0);
			assert_memory_equal(pkt, plain, 28);
			assert_memory_not_equal(pkt + 28, plain + 28, 44);
			assert_int_equal(srtp_unprotect(rx, pkt, &len), 0);
			assert_int_equal(len, 72);
			assert_memory_equal(pkt, plain, 72);
		}
		srtp_get_stats(rx, &st);
		assert_int_equal(st.ok, 121);
		assert_int_equal(st.auth_fail + st.replay + st.malformed, 0);
		srtp_free(tx);
		srtp_free(rx);
	}
}

static void
test_tamper(void **state)
{
	(void)state;
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		const struct srtp_suite_info *si = srtp_suite_info(su);
		uint8_t pkt[PKT_CAP], good[PKT_CAP];
		size_t n, len, flips[] = {1, 5, 11, 12, 100, 0};
		struct srtp *tx, *rx;
		struct srtp_stats st;

		pair(su, &tx, &rx);
		n = make_rtp(good, 7, 0x1234, 160);
		assert_int_equal(srtp_protect(tx, good, &n, sizeof(good)), 0);
		flips[5] = n - 1; /* the last tag byte */
		for (size_t f = 0; f < 6; f++) {
			memcpy(pkt, good, n);
			pkt[flips[f]] ^= 0x01;
			len = n;
			assert_int_equal(srtp_unprotect(rx, pkt, &len), EACCES);
		}
		/* A failure leaves no trace: the real packet still passes. */
		memcpy(pkt, good, n);
		len = n;
		assert_int_equal(srtp_unprotect(rx, pkt, &len), 0);

		n = make_rtcp(good, 0x1234, 9);
		assert_int_equal(srtcp_protect(tx, good, &n, sizeof(good)), 0);
		for (size_t off = 0; off < n; off += 3) {
			memcpy(pkt, good, n);
			pkt[off] ^= 0x40;
			len = n;
			/* Flipping the version bits is malformed, not forged. */
			assert_int_equal(srtcp_unprotect(rx, pkt, &len),
			    off == 0 ? EBADMSG : EACCES);
		}
		memcpy(pkt, good, n);
		len = n;
		assert_int_equal(srtcp_unprotect(rx, pkt, &len), 0);
		srtp_get_stats(rx, &st);
		assert_int_equal(st.ok, 2);
		assert_int_equal(st.auth_fail, 6 + (n + 2) / 3 - 1);
		assert_int_equal(st.malformed, 1);
		(void)si;
		srtp_free(tx);
		srtp_free(rx);
	}
}

static void
test_replay(void **state)
{
	(void)state;
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		uint8_t pkt[PKT_CAP], copy[PKT_CAP], old[PKT_CAP];
		size_t n, len, oldn;
		struct srtp *tx, *rx;
		struct srtp_stats st;

		pair(su, &tx, &rx);
		oldn = make_rtp(old, 100, 1, 160);
		assert_int_equal(srtp_protect(tx, old, &oldn, sizeof(old)), 0);
		n = make_rtp(pkt, 101, 1, 160);
		assert_int_equal(srtp_protect(tx, pkt, &n, sizeof(pkt)), 0);
		memcpy(copy, pkt, n);
		len = n;
		assert_int_equal(srtp_unprotect(rx, pkt, &len), 0);
		len = n;
		assert_int_equal(srtp_unprotect(rx, copy, &len), EALREADY);
		/* Late but inside the window: accepted once. */
		memcpy(copy, old, oldn);
		len = oldn;
		assert_int_equal(srtp_unprotect(rx, copy, &len), 0);
		len = oldn;
		assert_int_equal(srtp_unprotect(rx, old, &len), EALREADY);
		/* Outside the window. */
		oldn = make_rtp(old, 300, 1, 160);
		assert_int_equal(srtp_protect(tx, old, &oldn, sizeof(old)), 0);
		for (int i = 0; i <= SRTP_REPLAY_WINDOW; i++)
			assert_int_equal(send_one(tx, rx, 301 + i, 1), 0);
		len = oldn;
		assert_int_equal(srtp_unprotect(rx, old, &len), EALREADY);
		/* The sender refuses to reuse an index. */
		n = make_rtp(pkt, 301, 1, 160);
		assert_int_equal(
		    srtp_protect(tx, pkt, &n, sizeof(pkt)), EALREADY);

		/* SRTCP. */
		n = make_rtcp(pkt, 1, 0);
		assert_int_equal(srtcp_protect(tx, pkt, &n, sizeof(pkt)), 0);
		memcpy(copy, pkt, n);
		len = n;
		assert_int_equal(srtcp_unprotect(rx, pkt, &len), 0);
		len = n;
		assert_int_equal(srtcp_unprotect(rx, copy, &len), EALREADY);
		srtp_get_stats(rx, &st);
		assert_int_equal(st.replay, 4);
		srtp_free(tx);
		srtp_free(rx);
	}
}

static void
test_wrap(void **state)
{
	(void)state;
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		uint8_t held[PKT_CAP], held2[PKT_CAP];
		size_t hn, hn2, len;
		struct srtp *tx, *rx;

		pair(su, &tx, &rx);
		/* 65530 .. 65535, 0 .. 13: the ROC goes to 1 on both sides. */
		for (int i = 0; i < 20; i++)
			assert_int_equal(
			    send_one(tx, rx, (uint16_t)(65530 + i), 42), 0);
		/* Reordered across the next wrap: 65535 of ROC 1 arrives
		 * after 0 and 1 of ROC 2, and 2 after 3. */
		for (uint32_t q = 14; q < 65535; q += 1000)
			assert_int_equal(send_one(tx, rx, (uint16_t)q, 42), 0);
		assert_int_equal(send_one(tx, rx, 65534, 42), 0);
		hn = make_rtp(held, 65535, 42, 160);
		assert_int_equal(srtp_protect(tx, held, &hn, sizeof(held)), 0);
		assert_int_equal(send_one(tx, rx, 0, 42), 0);
		assert_int_equal(send_one(tx, rx, 1, 42), 0);
		hn2 = make_rtp(held2, 2, 42, 160);
		assert_int_equal(
		    srtp_protect(tx, held2, &hn2, sizeof(held2)), 0);
		assert_int_equal(send_one(tx, rx, 3, 42), 0);
		len = hn;
		assert_int_equal(srtp_unprotect(rx, held, &len), 0);
		len = hn2;
		assert_int_equal(srtp_unprotect(rx, held2, &len), 0);
		assert_int_equal(send_one(tx, rx, 4, 42), 0);
		srtp_free(rx);
		srtp_free(tx);
	}
}

/* The receiver starts with ROC 0; both sides must agree across wraps,
 * which GCM and HMAC (both keyed on the ROC) prove on every packet. */
static void
test_wrap_long(void **state)
{
	struct srtp *tx, *rx;

	(void)state;
	pair(SRTP_AEAD_AES_128_GCM, &tx, &rx);
	for (uint32_t i = 0; i < 3 * 65536 + 10; i += 97)
		assert_int_equal(send_one(tx, rx, (uint16_t)i, 7), 0);
	srtp_free(tx);
	srtp_free(rx);
}

static void
test_ssrc_change(void **state)
{
	(void)state;
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		uint8_t pkt[PKT_CAP], forged[PKT_CAP], old[PKT_CAP];
		size_t n, oldn;
		struct srtp *tx, *rx;

		pair(su, &tx, &rx);
		oldn = make_rtp(old, 10, 1, 160);
		assert_int_equal(srtp_protect(tx, old, &oldn, sizeof(old)), 0);
		memcpy(pkt, old, oldn);
		n = oldn;
		assert_int_equal(srtp_unprotect(rx, pkt, &n), 0);
		/* Four SSRCs, each with its own sequence space. */
		for (uint32_t ssrc = 2; ssrc <= SRTP_MAX_SSRC; ssrc++)
			assert_int_equal(send_one(tx, rx, 50000, ssrc), 0);
		assert_int_equal(send_one(tx, rx, 11, 1), 0);
		/* A forged packet of a fifth SSRC evicts nobody: SSRC 1
		 * still remembers its packets. */
		n = make_rtp(forged, 3, 99, 160);
		memset(forged + n, 0xaa, 16);
		n += srtp_suite_info(su)->rtp_tag;
		assert_int_equal(srtp_unprotect(rx, forged, &n), EACCES);
		n = oldn;
		memcpy(pkt, old, oldn);
		assert_int_equal(srtp_unprotect(rx, pkt, &n), EALREADY);
		/* A real fifth SSRC takes the least recently used slot (2). */
		assert_int_equal(send_one(tx, rx, 3, 99), 0);
		assert_int_equal(send_one(tx, rx, 12, 1), 0);
		n = oldn;
		memcpy(pkt, old, oldn);
		assert_int_equal(srtp_unprotect(rx, pkt, &n), EALREADY);
		/* Back to SSRC 2: it starts over as a new stream. */
		assert_int_equal(send_one(tx, rx, 50001, 2), 0);
		srtp_free(tx);
		srtp_free(rx);
	}
}

static void
test_short(void **state)
{
	(void)state;
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		const struct srtp_suite_info *si = srtp_suite_info(su);
		uint8_t pkt[PKT_CAP];
		size_t n, len;
		struct srtp *tx, *rx;
		struct srtp_stats st;
		uint64_t bad = 0;

		pair(su, &tx, &rx);
		for (n = 0; n < 12 + si->rtp_tag; n++) {
			make_rtp(pkt, 1, 1, 100);
			len = n;
			assert_int_equal(
			    srtp_unprotect(rx, pkt, &len), EBADMSG);
			bad++;
		}
		for (n = 0; n < 8 + 4 + si->rtcp_tag; n++) {
			make_rtcp(pkt, 1, 0);
			len = n;
			assert_int_equal(
			    srtcp_unprotect(rx, pkt, &len), EBADMSG);
			bad++;
		}
		/* Version 1, CSRCs past the end, extension past the end. */
		len = make_rtp(pkt, 1, 1, 20) + si->rtp_tag;
		pkt[0] = 0x40;
		assert_int_equal(srtp_unprotect(rx, pkt, &len), EBADMSG);
		pkt[0] = 0x8f;
		assert_int_equal(srtp_unprotect(rx, pkt, &len), EBADMSG);
		pkt[0] = 0x90;
		pkt[14] = 0x10;
		assert_int_equal(srtp_unprotect(rx, pkt, &len), EBADMSG);
		bad += 3;
		srtp_get_stats(rx, &st);
		assert_int_equal(st.malformed, bad);
		assert_int_equal(st.ok, 0);

		/* Protect: not RTP, and no room for the tag. */
		len = 11;
		assert_int_equal(
		    srtp_protect(tx, pkt, &len, sizeof(pkt)), EBADMSG);
		len = make_rtp(pkt, 1, 1, 160);
		assert_int_equal(
		    srtp_protect(tx, pkt, &len, len + si->rtp_tag - 1), ENOMEM);
		assert_int_equal(len, 172);
		len = make_rtcp(pkt, 1, 0);
		assert_int_equal(
		    srtcp_protect(tx, pkt, &len, len + 4 + si->rtcp_tag - 1),
		    ENOMEM);
		len = 7;
		assert_int_equal(
		    srtcp_protect(tx, pkt, &len, sizeof(pkt)), EBADMSG);
		assert_int_equal(srtp_protect(NULL, pkt, &len, 0), EINVAL);
		srtp_free(tx);
		srtp_free(rx);
	}
	srtp_free(NULL);
}

/* Counting OpenSSL's allocations: no packet may cause one. */
static long n_alloc;

static void *
count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	n_alloc++;
	return malloc(n);
}

static void *
count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	n_alloc++;
	return realloc(p, n);
}

static void
count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

static void
test_no_alloc_per_packet(void **state)
{
	(void)state;
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		struct srtp *tx, *rx;
		uint8_t pkt[PKT_CAP];
		size_t len;
		long before;

		before = n_alloc;
		pair(su, &tx, &rx);
		assert_true(n_alloc > before); /* the counter does count */
		before = n_alloc;
		for (int i = 0; i < 200; i++) {
			assert_int_equal(send_one(tx, rx, (uint16_t)i, 5), 0);
			len = make_rtcp(pkt, 5, 1);
			assert_int_equal(
			    srtcp_protect(tx, pkt, &len, sizeof(pkt)), 0);
			assert_int_equal(srtcp_unprotect(rx, pkt, &len), 0);
		}
		assert_int_equal(n_alloc - before, 0);
		srtp_free(tx);
		srtp_free(rx);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suites_and_options),
	    cmocka_unit_test(test_rfc3711_keystream),
	    cmocka_unit_test(test_rfc3711_kdf),
	    cmocka_unit_test(test_rfc7714_vectors),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_tamper),
	    cmocka_unit_test(test_replay),
	    cmocka_unit_test(test_wrap),
	    cmocka_unit_test(test_wrap_long),
	    cmocka_unit_test(test_ssrc_change),
	    cmocka_unit_test(test_short),
	    cmocka_unit_test(test_no_alloc_per_packet),
	};

	/* Before OpenSSL allocates anything. */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		fprintf(stderr, "test_srtp: cannot count allocations\n");
	if (srtp_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
