/* libFuzzer driver for SRTP/SRTCP: unprotect of arbitrary bytes, and protect->unprotect. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/srtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant aborts so that libFuzzer keeps the input. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			fail(__LINE__, #cond);                                 \
	} while (0)

static void
fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_srtp.c:%d: invariant broken: %s\n", line, what);
	abort();
}

/*
 * Input: one control byte, then packets, each a length byte and that many
 * bytes (the last one may be short). Control bits: 0-1 the suite (enum
 * srtp_suite), 2 RTCP instead of RTP, 3 protect->unprotect instead of
 * unprotecting the packets as they are, 4-7 which byte the protect mode
 * flips in a forged copy (with the packet length).
 *
 * Unprotect mode keys with session keys as RFC 7714 16/17 does (key 00 01
 * 02 .., salt "Quid pro quo"), so its test vectors are valid seeds; the
 * HMAC suites add a 20-byte authentication key of a5 bytes.
 */
static size_t
session_key(enum srtp_suite su, uint8_t *k)
{
	const struct srtp_suite_info *si = srtp_suite_info(su);
	static const uint8_t salt[14] = "Quid pro quo";
	size_t n = 0;

	for (size_t i = 0; i < si->key_len; i++)
		k[n++] = (uint8_t)i;
	memcpy(k + n, salt, si->salt_len);
	n += si->salt_len;
	if (!si->aead) {
		memset(k + n, 0xa5, 20);
		n += 20;
	}
	return n;
}

/* The next packet of the input, or false at its end. */
static bool
next_packet(const uint8_t **dp, size_t *np, const uint8_t **pp, size_t *lp)
{
	size_t want;

	if (*np == 0)
		return false;
	want = (*dp)[0];
	(*dp)++;
	(*np)--;
	*lp = want < *np ? want : *np;
	*pp = *dp;
	*dp += *lp;
	*np -= *lp;
	return true;
}

static void
check_stats(const struct srtp *s, uint64_t calls)
{
	struct srtp_stats st;

	srtp_get_stats(s, &st);
	CHECK(st.ok + st.auth_fail + st.replay + st.malformed == calls);
}

static void
fuzz_unprotect(enum srtp_suite su, bool rtcp, const uint8_t *d, size_t n)
{
	const struct srtp_suite_info *si = srtp_suite_info(su);
	uint8_t key[SRTP_MAX_KEY_SALT + 20];
	size_t kl = session_key(su, key), len, plen;
	const uint8_t *p;
	struct srtp *rx;
	uint64_t calls = 0;

	if (srtp_alloc_session(&rx, su, key, kl) != 0)
		abort();
	while (next_packet(&d, &n, &p, &plen)) {
		/* An exact-size copy, so that ASan sees any overread. */
		uint8_t *buf = malloc(plen ? plen : 1);
		int err;
		if (buf == NULL)
			abort();
		memcpy(buf, p, plen);
		len = plen;
		err = rtcp ? srtcp_unprotect(rx, buf, &len)
		           : srtp_unprotect(rx, buf, &len);
		calls++;
		CHECK(err == 0 || err == EBADMSG || err == EACCES ||
		      err == EALREADY);
		if (err == 0)
			CHECK(len ==
			      plen - (rtcp ? si->rtcp_tag + 4 : si->rtp_tag));
		else
			CHECK(len == plen);
		free(buf);
	}
	check_stats(rx, calls);
	srtp_free(rx);
}

static void
fuzz_round_trip(
    enum srtp_suite su, bool rtcp, unsigned flip, const uint8_t *d, size_t n)
{
	const struct srtp_suite_info *si = srtp_suite_info(su);
	uint8_t key[SRTP_MAX_KEY_SALT];
	size_t kl = si->key_len + si->salt_len, plen;
	const uint8_t *p;
	struct srtp *tx, *rx;
	uint64_t rx_calls = 0;

	for (size_t i = 0; i < kl; i++)
		key[i] = (uint8_t)(0x5a ^ i);
	if (srtp_alloc(&tx, su, key, kl) != 0 ||
	    srtp_alloc(&rx, su, key, kl) != 0)
		abort();
	while (next_packet(&d, &n, &p, &plen)) {
		size_t cap = plen + SRTP_MAX_TRAILER, len = plen, flen;
		uint8_t *buf = malloc(cap), *forged = malloc(cap);
		int err;

		if (buf == NULL || forged == NULL)
			abort();
		memcpy(buf, p, plen);
		err = rtcp ? srtcp_protect(tx, buf, &len, cap)
		           : srtp_protect(tx, buf, &len, cap);
		if (err != 0) {
			/* Not RTP, or a sequence number sent already. */
			CHECK(err == EBADMSG || (!rtcp && err == EALREADY));
			CHECK(len == plen);
			free(buf);
			free(forged);
			continue;
		}
		CHECK(len == plen + (rtcp ? si->rtcp_tag + 4 : si->rtp_tag));
		if (!rtcp && plen > 12)
			CHECK(memcmp(buf, p, 12) == 0);

		/* A forged copy fails and leaves the receiver as it was. */
		memcpy(forged, buf, len);
		forged[(flip * 13 + plen) % len] ^= (uint8_t)(1u << (flip % 8));
		flen = len;
		err = rtcp ? srtcp_unprotect(rx, forged, &flen)
		           : srtp_unprotect(rx, forged, &flen);
		rx_calls++;
		CHECK(err == EBADMSG || err == EACCES || err == EALREADY);

		/* The receiver mirrors the sender: the packet comes back. */
		err = rtcp ? srtcp_unprotect(rx, buf, &len)
		           : srtp_unprotect(rx, buf, &len);
		rx_calls++;
		CHECK(err == 0);
		CHECK(len == plen);
		CHECK(memcmp(buf, p, plen) == 0);
		free(buf);
		free(forged);
	}
	check_stats(rx, rx_calls);
	srtp_free(tx);
	srtp_free(rx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum srtp_suite su;
	uint8_t ctl;

	if (size < 1)
		return 0;
	if (srtp_init() != 0)
		abort();
	ctl = data[0];
	su = (enum srtp_suite)(ctl & 3);
	if (ctl & 8)
		fuzz_round_trip(
		    su, (ctl & 4) != 0, ctl >> 4, data + 1, size - 1);
	else
		fuzz_unprotect(su, (ctl & 4) != 0, data + 1, size - 1);
	return 0;
}
