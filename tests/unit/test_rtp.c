/* Tests for lib/media/rtp: RFC 3550 headers, RFC 4733 telephone-events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "media/rtp.h"

static void
test_build_parse(void **state)
{
	struct rtp_hdr h = {true, 0, 0xfffe, 0x80000001u, 0xdeadbeefu};
	uint8_t b[12 + 160];
	struct rtp_pkt p;

	(void)state;
	assert_int_equal(rtp_build(b, 11, &h), 0);
	assert_int_equal(rtp_build(b, sizeof(b), &h), 12);
	const uint8_t want[12] = {
	    0x80, 0x80, 0xff, 0xfe, 0x80, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef};
	assert_memory_equal(b, want, 12);
	memset(b + 12, 0xff, 160);
	assert_int_equal(rtp_parse(&p, b, sizeof(b)), 0);
	assert_true(p.h.marker);
	assert_int_equal(p.h.pt, 0);
	assert_int_equal(p.h.seq, 0xfffe);
	assert_int_equal(p.h.ts, 0x80000001u);
	assert_int_equal(p.h.ssrc, 0xdeadbeefu);
	assert_int_equal(p.cc, 0);
	assert_false(p.ext);
	assert_ptr_equal(p.payload, b + 12);
	assert_int_equal(p.plen, 160);

	h.marker = false;
	h.pt = 101;
	rtp_build(b, sizeof(b), &h);
	assert_int_equal(rtp_parse(&p, b, 12), 0);
	assert_false(p.h.marker);
	assert_int_equal(p.h.pt, 101);
	assert_int_equal(p.plen, 0);
}

static void
test_csrc_ext_padding(void **state)
{
	/* V=2 P=1 X=1 CC=2, PT 8, two CSRCs, a 2-word extension, 3 bytes of
	 * payload and 5 of padding. */
	uint8_t b[] = {0xb2, 0x08, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4,
	    /* CSRC */ 9, 9, 9, 9, 8, 8, 8, 8,
	    /* ext */ 0xbe, 0xde, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8,
	    /* payload */ 0xaa, 0xbb, 0xcc,
	    /* padding */ 0, 0, 0, 0, 5};
	struct rtp_pkt p;

	(void)state;
	assert_int_equal(rtp_parse(&p, b, sizeof(b)), 0);
	assert_int_equal(p.cc, 2);
	assert_true(p.ext);
	assert_int_equal(p.ext_profile, 0xbede);
	assert_int_equal(p.pad, 5);
	assert_int_equal(p.plen, 3);
	assert_int_equal(p.payload[0], 0xaa);
	assert_int_equal(p.h.pt, 8);
	assert_int_equal(p.h.ts, 160);

	/* Each cut short by one byte or more is malformed somewhere. */
	assert_int_equal(rtp_parse(&p, b, 11), EBADMSG);
	assert_int_equal(rtp_parse(&p, b, 19), EBADMSG); /* CSRC */
	assert_int_equal(rtp_parse(&p, b, 23), EBADMSG); /* ext header */
	assert_int_equal(rtp_parse(&p, b, 31), EBADMSG); /* ext body */

	/* Padding longer than the payload. */
	b[sizeof(b) - 1] = 9;
	assert_int_equal(rtp_parse(&p, b, sizeof(b)), EBADMSG);
	b[sizeof(b) - 1] = 0;
	assert_int_equal(rtp_parse(&p, b, sizeof(b)), EBADMSG);
	b[sizeof(b) - 1] = 8; /* exactly payload + padding: empty payload */
	assert_int_equal(rtp_parse(&p, b, sizeof(b)), 0);
	assert_int_equal(p.plen, 0);

	/* Version 1. */
	b[0] = 0x40;
	assert_int_equal(rtp_parse(&p, b, sizeof(b)), EBADMSG);
	assert_int_equal(rtp_parse(NULL, b, sizeof(b)), EINVAL);
}

static void
test_rtcp_detect(void **state)
{
	uint8_t sr[8] = {0x80, 200, 0, 6, 1, 2, 3, 4};
	uint8_t rtp[12] = {0x80, 0, 0, 1};

	(void)state;
	assert_true(rtp_is_rtcp(sr, sizeof(sr)));
	for (int pt = 200; pt <= 204; pt++) {
		sr[1] = (uint8_t)pt;
		assert_true(rtp_is_rtcp(sr, sizeof(sr)));
	}
	assert_false(rtp_is_rtcp(rtp, sizeof(rtp)));
	rtp[1] = 0x80 | 101; /* marker + PT 101: still RTP */
	assert_false(rtp_is_rtcp(rtp, sizeof(rtp)));
	assert_false(rtp_is_rtcp(sr, 4));
}

static void
test_tev_codec(void **state)
{
	struct rtp_tev ev = {11, true, 10, 1600}, d;
	uint8_t b[4];

	(void)state;
	rtp_tev_encode(b, &ev);
	const uint8_t want[4] = {11, 0x8a, 0x06, 0x40};
	assert_memory_equal(b, want, 4);
	assert_int_equal(rtp_tev_decode(&d, b, 4), 0);
	assert_int_equal(d.event, 11);
	assert_true(d.end);
	assert_int_equal(d.volume, 10);
	assert_int_equal(d.duration, 1600);
	assert_int_equal(rtp_tev_decode(&d, b, 3), EBADMSG);
	/* The R bit is ignored. */
	b[1] = 0x40 | 7;
	assert_int_equal(rtp_tev_decode(&d, b, 4), 0);
	assert_false(d.end);
	assert_int_equal(d.volume, 7);

	const char *keys = "0123456789*#ABCD";
	for (uint8_t e = 0; e < 16; e++) {
		uint8_t back;
		assert_int_equal(rtp_tev_char(e), keys[e]);
		assert_int_equal(rtp_tev_from_char(keys[e], &back), 0);
		assert_int_equal(back, e);
	}
	assert_int_equal(rtp_tev_char(16), '\0');
	assert_int_equal(rtp_tev_from_char('x', NULL), EINVAL);
}

static size_t
feed(struct rtp_tev_rx *st, uint32_t ts, uint8_t event, bool end, char *out)
{
	struct rtp_tev ev = {event, end, 10, 160};

	return rtp_tev_rx_feed(st, ts, &ev, out);
}

static void
test_tev_dedupe(void **state)
{
	struct rtp_tev_rx st;
	char out[2];

	(void)state;
	memset(&st, 0, sizeof(st));
	/* '5': start, updates, then three end packets (RFC 4733 2.5.1.4). */
	assert_int_equal(feed(&st, 1000, 5, false, out), 0);
	assert_int_equal(feed(&st, 1000, 5, false, out), 0);
	assert_int_equal(feed(&st, 1000, 5, true, out), 1);
	assert_int_equal(out[0], '5');
	assert_int_equal(feed(&st, 1000, 5, true, out), 0);
	assert_int_equal(feed(&st, 1000, 5, true, out), 0);

	/* The same key again is a new event: a new timestamp. */
	assert_int_equal(feed(&st, 2000, 5, false, out), 0);
	assert_int_equal(feed(&st, 2000, 5, true, out), 1);
	assert_int_equal(out[0], '5');

	/* Only end packets got through: reported once. */
	assert_int_equal(feed(&st, 3000, 11, true, out), 1);
	assert_int_equal(out[0], '#');
	assert_int_equal(feed(&st, 3000, 11, true, out), 0);

	/* A late end packet of an earlier event is ignored. */
	assert_int_equal(feed(&st, 2000, 5, true, out), 0);

	/* All end packets of '1' lost: reported when '2' starts. */
	assert_int_equal(feed(&st, 4000, 1, false, out), 0);
	assert_int_equal(feed(&st, 5000, 2, false, out), 1);
	assert_int_equal(out[0], '1');
	assert_int_equal(feed(&st, 5000, 2, true, out), 1);
	assert_int_equal(out[0], '2');

	/* ...and when that next event is an end packet, both come at once. */
	assert_int_equal(feed(&st, 6000, 3, false, out), 0);
	assert_int_equal(feed(&st, 7000, 4, true, out), 2);
	assert_int_equal(out[0], '3');
	assert_int_equal(out[1], '4');

	/* Events that are not keys (flash, tones) are not reported. */
	assert_int_equal(feed(&st, 8000, 16, true, out), 0);

	/* Timestamps wrap (a fresh receiver: a jump back is a late packet). */
	memset(&st, 0, sizeof(st));
	assert_int_equal(feed(&st, 0xffffff00u, 7, true, out), 1);
	assert_int_equal(feed(&st, 0x00000100u, 8, true, out), 1);
	assert_int_equal(out[0], '8');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_parse),
	    cmocka_unit_test(test_csrc_ext_padding),
	    cmocka_unit_test(test_rtcp_detect),
	    cmocka_unit_test(test_tev_codec),
	    cmocka_unit_test(test_tev_dedupe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
