/* Interop of lib/media/srtp with libsrtp2: each side unprotects the other. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/secure.h"
#include "media/srtp.h"

/* From test_srtp_libsrtp_ref.c (libsrtp2 through dlopen). */
struct ref;
int ref_open(const char *path);
int ref_create(struct ref **rp, int suite, const uint8_t *key, int outbound);
void ref_free(struct ref *r);
int ref_protect(struct ref *r, uint8_t *pkt, int *lenp);
int ref_unprotect(struct ref *r, uint8_t *pkt, int *lenp);
int ref_protect_rtcp(struct ref *r, uint8_t *pkt, int *lenp);
int ref_unprotect_rtcp(struct ref *r, uint8_t *pkt, int *lenp);

#define PKT_CAP 1500
#define NPKT    40 /* from 65520: the sequence number wraps halfway */

static size_t
make_rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, size_t plen)
{
	p[0] = 0x80;
	p[1] = 0x08; /* PCMA */
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = 0x12;
	p[5] = 0x34;
	p[6] = (uint8_t)(seq >> 8);
	p[7] = (uint8_t)seq;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < plen; i++)
		p[12 + i] = (uint8_t)(0xd5 ^ (i + seq));
	return 12 + plen;
}

/* A sender report (28 bytes) and an SDES with a CNAME: a compound packet. */
static size_t
make_rtcp(uint8_t *p, uint32_t ssrc, int n)
{
	static const uint8_t sr[] = {0x80, 200, 0, 6, 0, 0, 0, 0, 0xe9, 0x30,
	    0x4c, 0x75, 0x6e, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
	    0x2a, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00};
	static const uint8_t sdes[] = {
	    0x81, 202, 0, 3, 0, 0, 0, 0, 1, 6, 'n', 'g', 'v', '@', 'l', 'o'};

	memcpy(p, sr, sizeof(sr));
	memcpy(p + sizeof(sr), sdes, sizeof(sdes));
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
		p[sizeof(sr) + 4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	p[19] = (uint8_t)n;
	return sizeof(sr) + sizeof(sdes);
}

static void
keys(enum srtp_suite su, uint8_t *key, size_t *klp)
{
	const struct srtp_suite_info *si = srtp_suite_info(su);

	*klp = si->key_len + si->salt_len;
	assert_int_equal(secure_random(key, *klp), 0);
}

/* Ours protects, libsrtp2 unprotects. */
static void
test_ours_to_libsrtp(void **state)
{
	(void)state;
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		uint8_t key[SRTP_MAX_KEY_SALT], pkt[PKT_CAP], plain[PKT_CAP];
		size_t kl, n, len;
		struct srtp *tx;
		struct ref *rx;
		int ilen;

		keys(su, key, &kl);
		assert_int_equal(srtp_alloc(&tx, su, key, kl), 0);
		assert_int_equal(ref_create(&rx, su, key, 0), 0);
		for (int i = 0; i < NPKT; i++) {
			uint16_t seq = (uint16_t)(65520 + i);
			n = make_rtp(plain, seq, 0x5eed0001, 160);
			memcpy(pkt, plain, n);
			len = n;
			assert_int_equal(
			    srtp_protect(tx, pkt, &len, sizeof(pkt)), 0);
			ilen = (int)len;
			assert_int_equal(ref_unprotect(rx, pkt, &ilen), 0);
			assert_int_equal(ilen, (int)n);
			assert_memory_equal(pkt, plain, n);
		}
		for (int i = 0; i < 10; i++) {
			n = make_rtcp(plain, 0x5eed0001, i);
			memcpy(pkt, plain, n);
			len = n;
			assert_int_equal(
			    srtcp_protect(tx, pkt, &len, sizeof(pkt)), 0);
			ilen = (int)len;
			assert_int_equal(ref_unprotect_rtcp(rx, pkt, &ilen), 0);
			assert_int_equal(ilen, (int)n);
			assert_memory_equal(pkt, plain, n);
		}
		/* And a forgery is refused by the reference too. */
		n = make_rtp(pkt, 30, 0x5eed0001, 160);
		len = n;
		assert_int_equal(srtp_protect(tx, pkt, &len, sizeof(pkt)), 0);
		pkt[len - 1] ^= 1;
		ilen = (int)len;
		assert_int_not_equal(ref_unprotect(rx, pkt, &ilen), 0);
		srtp_free(tx);
		ref_free(rx);
	}
}

/* libsrtp2 protects, ours unprotects. */
static void
test_libsrtp_to_ours(void **state)
{
	(void)state;
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		uint8_t key[SRTP_MAX_KEY_SALT], pkt[PKT_CAP], plain[PKT_CAP];
		size_t kl, n, len;
		struct srtp *rx;
		struct srtp_stats st;
		struct ref *tx;
		int ilen;

		keys(su, key, &kl);
		assert_int_equal(ref_create(&tx, su, key, 1), 0);
		assert_int_equal(srtp_alloc(&rx, su, key, kl), 0);
		for (int i = 0; i < NPKT; i++) {
			uint16_t seq = (uint16_t)(65520 + i);
			n = make_rtp(plain, seq, 0x5eed0002, 160);
			memcpy(pkt, plain, n);
			ilen = (int)n;
			assert_int_equal(ref_protect(tx, pkt, &ilen), 0);
			len = (size_t)ilen;
			assert_int_equal(len, n + srtp_suite_info(su)->rtp_tag);
			assert_int_equal(srtp_unprotect(rx, pkt, &len), 0);
			assert_int_equal(len, n);
			assert_memory_equal(pkt, plain, n);
		}
		for (int i = 0; i < 10; i++) {
			n = make_rtcp(plain, 0x5eed0002, i);
			memcpy(pkt, plain, n);
			ilen = (int)n;
			assert_int_equal(ref_protect_rtcp(tx, pkt, &ilen), 0);
			len = (size_t)ilen;
			assert_int_equal(srtcp_unprotect(rx, pkt, &len), 0);
			assert_int_equal(len, n);
			assert_memory_equal(pkt, plain, n);
		}
		srtp_get_stats(rx, &st);
		assert_int_equal(st.ok, NPKT + 10);
		assert_int_equal(st.auth_fail + st.replay + st.malformed, 0);
		srtp_free(rx);
		ref_free(tx);
	}
}

/* Both directions at once, as in a call: each side sends and receives. */
static void
test_two_way(void **state)
{
	(void)state;
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		uint8_t ka[SRTP_MAX_KEY_SALT], kb[SRTP_MAX_KEY_SALT];
		uint8_t pkt[PKT_CAP], plain[PKT_CAP];
		size_t kl, n, len;
		struct srtp *our_tx, *our_rx;
		struct ref *ref_tx, *ref_rx;
		int ilen;

		keys(su, ka, &kl);
		keys(su, kb, &kl);
		assert_int_equal(srtp_alloc(&our_tx, su, ka, kl), 0);
		assert_int_equal(ref_create(&ref_rx, su, ka, 0), 0);
		assert_int_equal(ref_create(&ref_tx, su, kb, 1), 0);
		assert_int_equal(srtp_alloc(&our_rx, su, kb, kl), 0);
		for (int i = 0; i < 3 * NPKT; i++) {
			uint16_t seq = (uint16_t)(65500 + i);
			n = make_rtp(plain, seq, 0xa, 160);
			memcpy(pkt, plain, n);
			len = n;
			assert_int_equal(
			    srtp_protect(our_tx, pkt, &len, sizeof(pkt)), 0);
			ilen = (int)len;
			assert_int_equal(ref_unprotect(ref_rx, pkt, &ilen), 0);
			assert_memory_equal(pkt, plain, n);

			n = make_rtp(plain, (uint16_t)(seq + 7), 0xb, 160);
			memcpy(pkt, plain, n);
			ilen = (int)n;
			assert_int_equal(ref_protect(ref_tx, pkt, &ilen), 0);
			len = (size_t)ilen;
			assert_int_equal(srtp_unprotect(our_rx, pkt, &len), 0);
			assert_memory_equal(pkt, plain, n);
		}
		srtp_free(our_tx);
		srtp_free(our_rx);
		ref_free(ref_tx);
		ref_free(ref_rx);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ours_to_libsrtp),
	    cmocka_unit_test(test_libsrtp_to_ours),
	    cmocka_unit_test(test_two_way),
	};

	if (srtp_init() != 0 || ref_open(LIBSRTP2_PATH) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
