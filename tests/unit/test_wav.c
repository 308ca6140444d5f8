/* Tests for lib/media/wav: round trips, crash tolerance, named errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/g711.h"
#include "media/wav.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/ngv-wav-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *
tpath(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static int16_t *
make_signal(size_t n)
{
	int16_t *s = malloc(n * sizeof(*s));

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (int16_t)((int32_t)((i * 7919u) % 60001u) - 30000);
	return s;
}

static void
round_trip(enum wav_format fmt, const char *name)
{
	const size_t n = 12345; /* odd: 8-bit data gets a pad byte */
	int16_t *sig = make_signal(n), *back = NULL;
	struct wav_writer *w;
	enum wav_format got;
	uint64_t written;
	size_t nb = 0;
	struct stat st;
	char err[256];

	assert_int_equal(wav_writer_open(&w, tpath(name), fmt), 0);
	assert_int_equal(wav_writer_write(w, sig, 5000), 0);
	assert_int_equal(wav_writer_write(w, sig + 5000, n - 5000), 0);
	assert_int_equal(wav_writer_samples(w), n);
	assert_int_equal(wav_writer_close(w, &written), 0);
	assert_int_equal(written, n);

	assert_int_equal(stat(tpath(name), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size % 2, 0);

	assert_int_equal(
	    wav_load(tpath(name), &back, &nb, &got, err, sizeof(err)), 0);
	assert_int_equal(got, fmt);
	assert_int_equal(nb, n);
	for (size_t i = 0; i < n; i++) {
		int16_t want = sig[i];
		if (fmt == WAV_ULAW)
			want = g711_ulaw_dec(g711_ulaw_enc(sig[i]));
		else if (fmt == WAV_ALAW)
			want = g711_alaw_dec(g711_alaw_enc(sig[i]));
		assert_int_equal(back[i], want);
	}
	/* A new file only: never overwrite. */
	assert_int_equal(wav_writer_open(&w, tpath(name), fmt), EEXIST);
	free(back);
	free(sig);
}

static void
test_round_trip_pcm(void **state)
{
	(void)state;
	round_trip(WAV_PCM16, "pcm.wav");
}

static void
test_round_trip_ulaw(void **state)
{
	(void)state;
	round_trip(WAV_ULAW, "ulaw.wav");
}

static void
test_round_trip_alaw(void **state)
{
	(void)state;
	round_trip(WAV_ALAW, "alaw.wav");
}

static void
test_coded_and_truncate(void **state)
{
	uint8_t codes[3000];
	struct wav_writer *w;
	int16_t *back = NULL, pcm[4] = {0};
	size_t nb = 0;
	uint64_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(codes); i++)
		codes[i] = (uint8_t)i;
	assert_int_equal(wav_writer_open(&w, tpath("coded.wav"), WAV_ULAW), 0);
	for (int k = 0; k < 4; k++)
		assert_int_equal(
		    wav_writer_write_coded(w, codes, sizeof(codes)), 0);
	assert_int_equal(wav_writer_samples(w), 12000);
	assert_int_equal(wav_writer_truncate(w, 10000), 0);
	assert_int_equal(wav_writer_write(w, pcm, 4), 0);
	assert_int_equal(wav_writer_close(w, &n), 0);
	assert_int_equal(n, 10004);
	assert_int_equal(
	    wav_load(tpath("coded.wav"), &back, &nb, NULL, NULL, 0), 0);
	assert_int_equal(nb, 10004);
	for (size_t i = 0; i < 10000; i++)
		assert_int_equal(back[i], g711_ulaw_dec(codes[i % 3000]));
	free(back);

	/* Into a PCM file, bytes are little-endian samples: whole ones. */
	assert_int_equal(wav_writer_open(&w, tpath("pcmc.wav"), WAV_PCM16), 0);
	assert_int_equal(wav_writer_write_coded(w, codes, 11), EINVAL);
	for (int k = 0; k < 3; k++)
		assert_int_equal(
		    wav_writer_write_coded(w, codes, sizeof(codes)), 0);
	assert_int_equal(wav_writer_close(w, &n), 0);
	assert_int_equal(n, 4500);
	assert_int_equal(
	    wav_load(tpath("pcmc.wav"), &back, &nb, NULL, NULL, 0), 0);
	assert_int_equal(nb, 4500);
	assert_int_equal(back[0], 0x0100);
	assert_int_equal(back[1], 0x0302);
	free(back);
}

/* The writer is left open, as a crashed process leaves it: the file on disk
 * must read back with the length of the last header fix-up. */
static void
test_crash_leaves_readable_file(void **state)
{
	int16_t *sig = make_signal(20000), *back = NULL;
	struct wav_writer *w;
	size_t nb = 0;
	char err[256];

	(void)state;
	assert_int_equal(wav_writer_open(&w, tpath("crash.wav"), WAV_PCM16), 0);
	assert_int_equal(wav_writer_write(w, sig, 20000), 0);
	assert_int_equal(
	    wav_load(tpath("crash.wav"), &back, &nb, NULL, err, sizeof(err)),
	    0);
	assert_int_equal(nb, 2 * WAV_SYNC_SAMPLES);
	assert_memory_equal(back, sig, nb * sizeof(*sig));
	free(back);
	back = NULL;

	/* Same for a compressed format, which has a fact chunk too. */
	struct wav_writer *w2;
	assert_int_equal(
	    wav_writer_open(&w2, tpath("crash-a.wav"), WAV_ALAW), 0);
	assert_int_equal(wav_writer_write(w2, sig, 9000), 0);
	assert_int_equal(
	    wav_load(tpath("crash-a.wav"), &back, &nb, NULL, err, sizeof(err)),
	    0);
	assert_int_equal(nb, WAV_SYNC_SAMPLES);
	free(back);
	back = NULL;

	/* An explicit sync makes everything so far readable. */
	assert_int_equal(wav_writer_sync(w), 0);
	assert_int_equal(
	    wav_load(tpath("crash.wav"), &back, &nb, NULL, err, sizeof(err)),
	    0);
	assert_int_equal(nb, 20000);
	free(back);
	assert_int_equal(wav_writer_close(w, NULL), 0);
	assert_int_equal(wav_writer_close(w2, NULL), 0);
	free(sig);
}

static void
test_truncated_file(void **state)
{
	int16_t *sig = make_signal(8000), *back = NULL;
	struct wav_writer *w;
	size_t nb = 0;

	(void)state;
	assert_int_equal(wav_writer_open(&w, tpath("cut.wav"), WAV_PCM16), 0);
	assert_int_equal(wav_writer_write(w, sig, 8000), 0);
	assert_int_equal(wav_writer_close(w, NULL), 0);
	/* Cut mid-sample: the header claims 16000 bytes, 1001 are there. */
	assert_int_equal(truncate(tpath("cut.wav"), 44 + 1001), 0);
	assert_int_equal(
	    wav_load(tpath("cut.wav"), &back, &nb, NULL, NULL, 0), 0);
	assert_int_equal(nb, 500);
	assert_memory_equal(back, sig, 500 * sizeof(*sig));
	free(back);
	free(sig);
}

/* ---- hand-made headers ---- */

struct hdr {
	uint8_t b[256];
	size_t n;
};

static void
put(struct hdr *h, const void *p, size_t n)
{
	memcpy(h->b + h->n, p, n);
	h->n += n;
}

static void
put32(struct hdr *h, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 24)};
	put(h, b, 4);
}

static void
put16(struct hdr *h, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	put(h, b, 2);
}

static void
fmt_chunk(
    struct hdr *h, uint16_t tag, uint16_t ch, uint32_t rate, uint16_t bits)
{
	put(h, "fmt ", 4);
	put32(h, 16);
	put16(h, tag);
	put16(h, ch);
	put32(h, rate);
	put32(h, rate * ch * bits / 8);
	put16(h, (uint16_t)(ch * bits / 8));
	put16(h, bits);
}

static void
wav_start(struct hdr *h)
{
	h->n = 0;
	put(h, "RIFF", 4);
	put32(h, 0);
	put(h, "WAVE", 4);
}

static void
data_chunk(struct hdr *h, size_t n)
{
	put(h, "data", 4);
	put32(h, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		h->b[h->n++] = (uint8_t)(0x10 + i);
}

static void
expect_err(const struct hdr *h, const char *what)
{
	int16_t *pcm = NULL;
	size_t n = 0;
	char err[256] = "";

	assert_int_equal(
	    wav_parse(h->b, h->n, &pcm, &n, NULL, err, sizeof(err)), EBADMSG);
	assert_null(pcm);
	if (strstr(err, what) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, what);
}

static void
test_bad_headers(void **state)
{
	struct hdr h;

	(void)state;
	h.n = 0;
	put(&h, "RIFF", 4);
	expect_err(&h, "too short");

	wav_start(&h);
	memcpy(h.b, "OggS", 4);
	expect_err(&h, "not a RIFF file");

	wav_start(&h);
	memcpy(h.b, "RIFX", 4);
	expect_err(&h, "big-endian");

	wav_start(&h);
	memcpy(h.b + 8, "AVI ", 4);
	expect_err(&h, "not WAVE");

	wav_start(&h);
	expect_err(&h, "no fmt chunk");

	wav_start(&h);
	put(&h, "fmt ", 4);
	put32(&h, 12);
	put32(&h, 0);
	put32(&h, 0);
	put32(&h, 0);
	expect_err(&h, "fmt chunk too short");

	wav_start(&h);
	fmt_chunk(&h, 3, 1, 8000, 32);
	data_chunk(&h, 8);
	expect_err(&h, "unsupported format tag 3");

	wav_start(&h);
	fmt_chunk(&h, 1, 1, 16000, 16);
	data_chunk(&h, 8);
	expect_err(&h, "sample rate 16000 Hz");

	wav_start(&h);
	fmt_chunk(&h, 1, 2, 8000, 16);
	data_chunk(&h, 8);
	expect_err(&h, "2 channels");

	wav_start(&h);
	fmt_chunk(&h, 1, 1, 8000, 8);
	data_chunk(&h, 8);
	expect_err(&h, "PCM with 8 bits");

	wav_start(&h);
	fmt_chunk(&h, 7, 1, 8000, 16);
	data_chunk(&h, 8);
	expect_err(&h, "mu-law with 16 bits");

	wav_start(&h);
	fmt_chunk(&h, 1, 1, 8000, 16);
	expect_err(&h, "no data chunk");

	wav_start(&h);
	data_chunk(&h, 8);
	fmt_chunk(&h, 1, 1, 8000, 16);
	expect_err(&h, "data chunk before the fmt chunk");
}

static void
test_other_chunks_skipped(void **state)
{
	struct hdr h;
	int16_t *pcm = NULL;
	size_t n = 0;
	enum wav_format f;

	(void)state;
	wav_start(&h);
	put(&h, "LIST", 4); /* odd size: padded to even */
	put32(&h, 3);
	put(&h, "abc\0", 4);
	fmt_chunk(&h, 6, 1, 8000, 8);
	data_chunk(&h, 5);
	assert_int_equal(wav_parse(h.b, h.n, &pcm, &n, &f, NULL, 0), 0);
	assert_int_equal(f, WAV_ALAW);
	assert_int_equal(n, 5);
	assert_int_equal(pcm[0], g711_alaw_dec(0x10));
	free(pcm);

	/* A streaming writer's data size of 0xffffffff: take what is there. */
	wav_start(&h);
	fmt_chunk(&h, 1, 1, 8000, 16);
	data_chunk(&h, 6);
	h.b[h.n - 10] = h.b[h.n - 9] = h.b[h.n - 8] = h.b[h.n - 7] = 0xff;
	assert_int_equal(wav_parse(h.b, h.n, &pcm, &n, &f, NULL, 0), 0);
	assert_int_equal(n, 3);
	free(pcm);
}

static void
test_missing_file(void **state)
{
	int16_t *pcm = NULL;
	size_t n = 0;
	char err[256] = "";

	(void)state;
	assert_int_equal(
	    wav_load(tpath("nope.wav"), &pcm, &n, NULL, err, sizeof(err)),
	    ENOENT);
	assert_non_null(strstr(err, "nope.wav"));

	/* A parse error names the file too. */
	FILE *f = fopen(tpath("junk.wav"), "w");
	assert_non_null(f);
	fputs("this is not a wav file at all", f);
	fclose(f);
	assert_int_equal(
	    wav_load(tpath("junk.wav"), &pcm, &n, NULL, err, sizeof(err)),
	    EBADMSG);
	assert_non_null(strstr(err, "junk.wav: not a RIFF file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_pcm),
	    cmocka_unit_test(test_round_trip_ulaw),
	    cmocka_unit_test(test_round_trip_alaw),
	    cmocka_unit_test(test_coded_and_truncate),
	    cmocka_unit_test(test_crash_leaves_readable_file),
	    cmocka_unit_test(test_truncated_file),
	    cmocka_unit_test(test_bad_headers),
	    cmocka_unit_test(test_other_chunks_skipped),
	    cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
