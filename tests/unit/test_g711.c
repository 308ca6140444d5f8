/* Tests for lib/media/g711: code points, the G.191 reference, round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "media/g711.h"

/*
 * The reference definitions, written out as ITU-T G.191 (STL) g711.c has
 * them: loops over segments, no tables. The library must agree with them
 * on every input.
 */
static uint8_t
ref_ulaw_compress(int16_t lin)
{
	int32_t absno = lin < 0 ? ((~lin) >> 2) : (lin >> 2);
	int32_t i, segno, low, high;
	uint8_t out;

	absno += 33;
	if (absno > 0x1fff)
		absno = 0x1fff;
	i = absno >> 6;
	segno = 1;
	while (i != 0) {
		segno++;
		i >>= 1;
	}
	high = 0x0008 - segno;
	low = (absno >> segno) & 0x000f;
	low = 0x000f - low;
	out = (uint8_t)((high << 4) | low);
	if (lin >= 0)
		out |= 0x80;
	return out;
}

static int16_t
ref_ulaw_expand(uint8_t log)
{
	int32_t sign = log < 0x80 ? -1 : 1;
	int32_t mant = ~log & 0xff;
	int32_t exp = (mant >> 4) & 0x07;
	int32_t seg = exp + 1;
	int32_t step;

	mant &= 0x0f;
	step = 4 << seg;
	return (
	    int16_t)(sign * ((0x80 << exp) + step * mant + step / 2 - 4 * 33));
}

static uint8_t
ref_alaw_compress(int16_t lin)
{
	int32_t ix = lin < 0 ? ((~lin) >> 4) : (lin >> 4);
	int32_t iexp;

	if (ix > 15) {
		iexp = 1;
		while (ix > 16 + 15) {
			ix >>= 1;
			iexp++;
		}
		ix -= 16;
		ix += iexp << 4;
	}
	if (lin >= 0)
		ix |= 0x0080;
	return (uint8_t)(ix ^ 0x0055);
}

static int16_t
ref_alaw_expand(uint8_t log)
{
	int32_t ix = (log ^ 0x55) & 0x7f;
	int32_t iexp = ix >> 4;
	int32_t mant = ix & 0x0f;

	if (iexp > 0)
		mant += 16;
	mant = (mant << 4) + 0x08;
	if (iexp > 1)
		mant <<= iexp - 1;
	return (int16_t)(log > 127 ? mant : -mant);
}

static void
test_code_points(void **state)
{
	(void)state;
	/* µ-law: +0 is 0xff, -0 is 0x7f; the extremes are 0x80 / 0x00. */
	assert_int_equal(g711_ulaw_enc(0), 0xff);
	assert_int_equal(g711_ulaw_enc(-1), 0x7f);
	assert_int_equal(g711_ulaw_enc(32767), 0x80);
	assert_int_equal(g711_ulaw_enc(-32768), 0x00);
	assert_int_equal(g711_ulaw_dec(0xff), 0);
	assert_int_equal(g711_ulaw_dec(0x7f), 0);
	assert_int_equal(g711_ulaw_dec(0x80), 32124);
	assert_int_equal(g711_ulaw_dec(0x00), -32124);
	assert_int_equal(g711_ulaw_dec(0xfe), 8);
	assert_int_equal(g711_ulaw_dec(0xef), 132);
	/* A-law: even bits inverted; 0 is 0xd5, the extremes 0xaa / 0x2a. */
	assert_int_equal(g711_alaw_enc(0), 0xd5);
	assert_int_equal(g711_alaw_enc(-1), 0x55);
	assert_int_equal(g711_alaw_enc(32767), 0xaa);
	assert_int_equal(g711_alaw_enc(-32768), 0x2a);
	assert_int_equal(g711_alaw_dec(0xd5), 8);
	assert_int_equal(g711_alaw_dec(0x55), -8);
	assert_int_equal(g711_alaw_dec(0xaa), 32256);
	assert_int_equal(g711_alaw_dec(0x2a), -32256);
	assert_int_equal(G711_ULAW_SILENCE, g711_ulaw_enc(0));
	assert_int_equal(G711_ALAW_SILENCE, g711_alaw_enc(0));
}

static void
test_reference_all_inputs(void **state)
{
	(void)state;
	for (int32_t x = -32768; x <= 32767; x++) {
		int16_t s = (int16_t)x;
		if (g711_ulaw_enc(s) != ref_ulaw_compress(s))
			fail_msg("ulaw_enc(%d) = 0x%02x, reference 0x%02x", x,
			    g711_ulaw_enc(s), ref_ulaw_compress(s));
		if (g711_alaw_enc(s) != ref_alaw_compress(s))
			fail_msg("alaw_enc(%d) = 0x%02x, reference 0x%02x", x,
			    g711_alaw_enc(s), ref_alaw_compress(s));
	}
	for (int c = 0; c < 256; c++) {
		assert_int_equal(
		    g711_ulaw_dec((uint8_t)c), ref_ulaw_expand((uint8_t)c));
		assert_int_equal(
		    g711_alaw_dec((uint8_t)c), ref_alaw_expand((uint8_t)c));
	}
}

static void
test_codes_round_trip(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		uint8_t u = (uint8_t)c;
		/* Every code but -0 (0x7f) comes back as itself. */
		assert_int_equal(
		    g711_ulaw_enc(g711_ulaw_dec(u)), u == 0x7f ? 0xff : u);
		assert_int_equal(g711_alaw_enc(g711_alaw_dec(u)), u);
	}
}

static void
test_error_bounds(void **state)
{
	(void)state;
	/* Within range the error is at most half a step of the segment:
	 * logarithmic, so about 1/32 of the magnitude (plus a small term
	 * near zero). */
	for (int32_t x = -32000; x <= 32000; x++) {
		int32_t ax = x < 0 ? -x : x;
		int32_t eu = g711_ulaw_dec(g711_ulaw_enc((int16_t)x)) - x;
		int32_t ea = g711_alaw_dec(g711_alaw_enc((int16_t)x)) - x;
		if (eu < 0)
			eu = -eu;
		if (ea < 0)
			ea = -ea;
		if (eu > (ax + 132) / 32 + 4)
			fail_msg("ulaw error %d at %d", eu, x);
		if (ea > ax / 32 + 16)
			fail_msg("alaw error %d at %d", ea, x);
	}
}

static void
test_buffers(void **state)
{
	int16_t pcm[256], back[256];
	uint8_t u[256], a[256];

	(void)state;
	for (int i = 0; i < 256; i++)
		pcm[i] = (int16_t)(i * 251 - 32000);
	g711_ulaw_enc_buf(u, pcm, 256);
	g711_alaw_enc_buf(a, pcm, 256);
	for (int i = 0; i < 256; i++) {
		assert_int_equal(u[i], g711_ulaw_enc(pcm[i]));
		assert_int_equal(a[i], g711_alaw_enc(pcm[i]));
	}
	g711_ulaw_dec_buf(back, u, 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal(back[i], g711_ulaw_dec(u[i]));
	g711_alaw_dec_buf(back, a, 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal(back[i], g711_alaw_dec(a[i]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_code_points),
	    cmocka_unit_test(test_reference_all_inputs),
	    cmocka_unit_test(test_codes_round_trip),
	    cmocka_unit_test(test_error_bounds),
	    cmocka_unit_test(test_buffers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
