/* WAV files of 8 kHz mono audio: a reader and a crash-tolerant writer. */
#ifndef NGV_MEDIA_WAV_H
#define NGV_MEDIA_WAV_H

#include <stddef.h>
#include <stdint.h>

enum wav_format {
	WAV_PCM16 = 1, /* WAVE_FORMAT_PCM, 16 bits */
	WAV_ALAW = 6,  /* WAVE_FORMAT_ALAW, 8 bits */
	WAV_ULAW = 7   /* WAVE_FORMAT_MULAW, 8 bits */
};

/* Largest file the reader takes (a little over an hour of PCM16). */
#define WAV_MAX_BYTES (64u * 1024 * 1024)

/*
 * Parses a whole WAV image held in memory: 8 kHz, mono, PCM16, A-law or
 * µ-law. *pcmp gets malloc'd linear samples (the caller frees them), *np
 * their count and *fmtp the stored format (either may be NULL). A data
 * chunk longer than the file (a recording cut short by a crash, or a
 * streaming writer's 0xffffffff) is taken as far as it goes.
 * Errors: EBADMSG (err says what is wrong), ENOMEM.
 */
int wav_parse(const uint8_t *buf, size_t len, int16_t **pcmp, size_t *np,
    enum wav_format *fmtp, char *err, size_t errlen);

/* wav_parse() on a file. Errors: ENOENT (and other open/read errnos, named
 * in err), EFBIG, EBADMSG, ENOMEM. */
int wav_load(const char *path, int16_t **pcmp, size_t *np,
    enum wav_format *fmtp, char *err, size_t errlen);

/*
 * The writer creates a new file (O_EXCL, mode 0600), writes a header with
 * zero sizes, and appends samples through a small buffer. Every
 * WAV_SYNC_SAMPLES samples (one second of audio) it writes out what it has
 * and fixes the RIFF and data sizes, so a file left behind by a crash is a
 * valid WAV of all but the last second.
 */
#define WAV_SYNC_SAMPLES 8000

struct wav_writer;

/* Errors: EINVAL, EEXIST, ENOMEM and the errnos of open(2). */
int wav_writer_open(
    struct wav_writer **wp, const char *path, enum wav_format fmt);
/* Appends linear samples, encoded to the file's format. Errors: the
 * errno of write(2) (ENOSPC, EIO...); after one, every call fails. */
int wav_writer_write(struct wav_writer *w, const int16_t *pcm, size_t n);
/* Appends bytes already in the file's format: G.711 codes, or PCM16
 * little-endian (n even, else EINVAL). */
int wav_writer_write_coded(struct wav_writer *w, const uint8_t *b, size_t n);
/* Drops samples from the end (trailing silence); n is the new length. */
int wav_writer_truncate(struct wav_writer *w, uint64_t n);
/* Writes out the buffer and fixes the header now. */
int wav_writer_sync(struct wav_writer *w);
uint64_t wav_writer_samples(const struct wav_writer *w);
/* Flushes, fixes the header, fsyncs and closes; *np (may be NULL) gets the
 * number of samples. Frees w even on error. NULL is fine. */
int wav_writer_close(struct wav_writer *w, uint64_t *np);

#endif
