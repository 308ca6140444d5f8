/* WAV files of 8 kHz mono audio: a reader and a crash-tolerant writer. */
#include "media/wav.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/g711.h"

#define WAV_RATE           8000
#define WAVE_FORMAT_EXTENS 0xfffe

static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* A chunk id for messages: printable characters, others as '?'. */
static const char *
fourcc(const uint8_t *p, char buf[5])
{
	for (int i = 0; i < 4; i++)
		buf[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	buf[4] = '\0';
	return buf;
}

int
wav_parse(const uint8_t *buf, size_t len, int16_t **pcmp, size_t *np,
    enum wav_format *fmtp, char *err, size_t errlen)
{
	const uint8_t *data = NULL;
	size_t off, dlen = 0;
	uint16_t tag = 0, channels = 0, bits = 0;
	uint32_t rate = 0;
	bool have_fmt = false;
	size_t bps, n;
	int16_t *pcm;
	char cc[5];

	if (buf == NULL || pcmp == NULL || np == NULL)
		return EINVAL;
	if (len < 12)
		return fail(err, errlen, EBADMSG,
		    "file too short for a RIFF header (%zu bytes)", len);
	if (memcmp(buf, "RIFX", 4) == 0)
		return fail(err, errlen, EBADMSG,
		    "big-endian RIFX file: not supported");
	if (memcmp(buf, "RIFF", 4) != 0)
		return fail(err, errlen, EBADMSG,
		    "not a RIFF file (starts with \"%s\")", fourcc(buf, cc));
	if (memcmp(buf + 8, "WAVE", 4) != 0)
		return fail(err, errlen, EBADMSG,
		    "RIFF form type is \"%s\", not WAVE", fourcc(buf + 8, cc));

	/* The RIFF size is not trusted: crashed writers leave it short. */
	for (off = 12; off + 8 <= len && data == NULL;) {
		const uint8_t *ch = buf + off;
		uint32_t csz = rd32(ch + 4);
		size_t avail = len - off - 8;

		if (memcmp(ch, "fmt ", 4) == 0) {
			if (csz < 16 || avail < 16)
				return fail(err, errlen, EBADMSG,
				    "fmt chunk too short (%u bytes, need 16)",
				    csz < avail ? csz : (unsigned)avail);
			tag = rd16(ch + 8);
			channels = rd16(ch + 10);
			rate = rd32(ch + 12);
			bits = rd16(ch + 22);
			if (tag == WAVE_FORMAT_EXTENS) {
				/* The sub-format GUID starts with the tag. */
				if (csz < 40 || avail < 40)
					return fail(err, errlen, EBADMSG,
					    "WAVE_FORMAT_EXTENSIBLE fmt chunk "
					    "too short (%u bytes, need 40)",
					    csz);
				tag = rd16(ch + 8 + 24);
			}
			have_fmt = true;
		} else if (memcmp(ch, "data", 4) == 0) {
			if (!have_fmt)
				return fail(err, errlen, EBADMSG,
				    "data chunk before the fmt chunk");
			data = ch + 8;
			dlen = csz < avail ? csz : avail;
			break;
		}
		if (csz > avail)
			break;
		off += 8 + (size_t)csz + (csz & 1);
	}
	if (!have_fmt)
		return fail(err, errlen, EBADMSG, "no fmt chunk");
	switch (tag) {
	case WAV_PCM16:
		if (bits != 16)
			return fail(err, errlen, EBADMSG,
			    "PCM with %u bits per sample (want 16)", bits);
		break;
	case WAV_ALAW:
	case WAV_ULAW:
		if (bits != 8)
			return fail(err, errlen, EBADMSG,
			    "%s with %u bits per sample (want 8)",
			    tag == WAV_ALAW ? "A-law" : "mu-law", bits);
		break;
	default:
		return fail(err, errlen, EBADMSG,
		    "unsupported format tag %u (want 1 PCM, 6 A-law or "
		    "7 mu-law)",
		    tag);
	}
	if (channels != 1)
		return fail(
		    err, errlen, EBADMSG, "%u channels (want mono)", channels);
	if (rate != WAV_RATE)
		return fail(err, errlen, EBADMSG,
		    "sample rate %u Hz (want 8000)", rate);
	if (data == NULL)
		return fail(err, errlen, EBADMSG, "no data chunk");

	bps = tag == WAV_PCM16 ? 2 : 1;
	n = dlen / bps;
	pcm = malloc(n ? n * sizeof(*pcm) : 1);
	if (pcm == NULL)
		return fail(err, errlen, ENOMEM, "out of memory");
	if (tag == WAV_PCM16) {
		for (size_t i = 0; i < n; i++)
			pcm[i] = (int16_t)rd16(data + 2 * i);
	} else if (tag == WAV_ULAW) {
		g711_ulaw_dec_buf(pcm, data, n);
	} else {
		g711_alaw_dec_buf(pcm, data, n);
	}
	*pcmp = pcm;
	*np = n;
	if (fmtp != NULL)
		*fmtp = (enum wav_format)tag;
	return 0;
}

int
wav_load(const char *path, int16_t **pcmp, size_t *np, enum wav_format *fmtp,
    char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, e;

	if (path == NULL || pcmp == NULL || np == NULL)
		return EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		return fail(err, errlen, e, "%s: %s", path, strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		e = fail(err, errlen, e, "%s: %s", path, strerror(e));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		e = fail(err, errlen, EBADMSG, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > WAV_MAX_BYTES) {
		e = fail(err, errlen, EFBIG, "%s: %lld bytes (limit %u)", path,
		    (long long)st.st_size, WAV_MAX_BYTES);
		goto out;
	}
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (buf == NULL) {
		e = fail(err, errlen, ENOMEM, "%s: out of memory", path);
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			e = fail(
			    err, errlen, e, "%s: read: %s", path, strerror(e));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	e = wav_parse(buf, len, pcmp, np, fmtp, err, errlen);
	if (e != 0 && err != NULL && errlen > 0) {
		/* Prefix the path to what the parser said. */
		char tmp[256];
		snprintf(tmp, sizeof(tmp), "%s", err);
		snprintf(err, errlen, "%s: %s", path, tmp);
	}
out:
	free(buf);
	close(fd);
	return e;
}

/* ---- the writer ---- */

#define WAV_WBUF 4096

struct wav_writer {
	int fd;
	int err; /* sticky write error */
	enum wav_format fmt;
	size_t bps;         /* bytes per sample */
	size_t data_off;    /* where the samples start */
	uint64_t samples;   /* appended so far (buffered included) */
	uint64_t next_sync; /* sample count of the next header fix-up */
	size_t blen;
	uint8_t buf[WAV_WBUF];
};

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			return EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
pwrite32(int fd, off_t off, uint32_t v)
{
	uint8_t b[4];

	wr32(b, v);
	for (;;) {
		ssize_t r = pwrite(fd, b, 4, off);
		if (r == 4)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? errno : EIO;
	}
}

static int
flush_buf(struct wav_writer *w)
{
	int e;

	if (w->err != 0)
		return w->err;
	if (w->blen == 0)
		return 0;
	e = write_all(w->fd, w->buf, w->blen);
	w->blen = 0;
	if (e != 0)
		w->err = e;
	return e;
}

/* Sizes in the header; padding of an odd data chunk counts in RIFF. */
static int
fix_header(struct wav_writer *w, bool pad)
{
	uint64_t dbytes = w->samples * w->bps;
	uint32_t d32 = dbytes > 0xfffffff0u ? 0xfffffff0u : (uint32_t)dbytes;
	uint32_t riff = (uint32_t)(w->data_off - 8) + d32 + (pad ? 1 : 0);
	int e;

	if ((e = pwrite32(w->fd, 4, riff)) != 0 ||
	    (e = pwrite32(w->fd, (off_t)w->data_off - 4, d32)) != 0)
		return w->err = e;
	if (w->fmt != WAV_PCM16 &&
	    (e = pwrite32(w->fd, 46, (uint32_t)w->samples)) != 0)
		return w->err = e;
	return 0;
}

int
wav_writer_sync(struct wav_writer *w)
{
	int e;

	if (w == NULL)
		return EINVAL;
	if ((e = flush_buf(w)) != 0)
		return e;
	return fix_header(w, false);
}

int
wav_writer_open(struct wav_writer **wp, const char *path, enum wav_format fmt)
{
	struct wav_writer *w;
	uint8_t h[58];
	size_t hl;
	int e;

	if (wp == NULL || path == NULL ||
	    (fmt != WAV_PCM16 && fmt != WAV_ALAW && fmt != WAV_ULAW))
		return EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return ENOMEM;
	w->fmt = fmt;
	w->bps = fmt == WAV_PCM16 ? 2 : 1;
	w->next_sync = WAV_SYNC_SAMPLES;

	memset(h, 0, sizeof(h));
	memcpy(h, "RIFF", 4);
	memcpy(h + 8, "WAVE", 4);
	memcpy(h + 12, "fmt ", 4);
	wr16(h + 20, (uint16_t)fmt);
	wr16(h + 22, 1);
	wr32(h + 24, WAV_RATE);
	wr32(h + 28, (uint32_t)(WAV_RATE * w->bps));
	wr16(h + 32, (uint16_t)w->bps);
	wr16(h + 34, (uint16_t)(8 * w->bps));
	if (fmt == WAV_PCM16) {
		wr32(h + 16, 16);
		memcpy(h + 36, "data", 4);
		hl = 44;
	} else {
		/* Non-PCM formats carry cbSize and a fact chunk. */
		wr32(h + 16, 18);
		wr16(h + 36, 0);
		memcpy(h + 38, "fact", 4);
		wr32(h + 42, 4);
		memcpy(h + 50, "data", 4);
		hl = 58;
	}
	w->data_off = hl;
	wr32(h + 4, (uint32_t)(hl - 8));

	w->fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		e = errno;
		free(w);
		return e;
	}
	if ((e = write_all(w->fd, h, hl)) != 0) {
		close(w->fd);
		unlink(path);
		free(w);
		return e;
	}
	*wp = w;
	return 0;
}

/* Makes room in the buffer and syncs on each second boundary. */
static int
after_append(struct wav_writer *w)
{
	if (w->samples >= w->next_sync) {
		while (w->next_sync <= w->samples)
			w->next_sync += WAV_SYNC_SAMPLES;
		return wav_writer_sync(w);
	}
	return 0;
}

int
wav_writer_write(struct wav_writer *w, const int16_t *pcm, size_t n)
{
	int e;

	if (w == NULL || (pcm == NULL && n > 0))
		return EINVAL;
	if (w->err != 0)
		return w->err;
	for (size_t i = 0; i < n; i++) {
		if (w->blen + 2 > sizeof(w->buf) && (e = flush_buf(w)) != 0)
			return e;
		switch (w->fmt) {
		case WAV_PCM16:
			wr16(w->buf + w->blen, (uint16_t)pcm[i]);
			w->blen += 2;
			break;
		case WAV_ULAW:
			w->buf[w->blen++] = g711_ulaw_enc(pcm[i]);
			break;
		case WAV_ALAW:
			w->buf[w->blen++] = g711_alaw_enc(pcm[i]);
			break;
		}
		w->samples++;
		if (w->samples == w->next_sync && (e = after_append(w)) != 0)
			return e;
	}
	return 0;
}

int
wav_writer_write_coded(struct wav_writer *w, const uint8_t *b, size_t n)
{
	int e;

	if (w == NULL || (b == NULL && n > 0) || n % w->bps != 0)
		return EINVAL;
	if (w->err != 0)
		return w->err;
	while (n > 0) {
		size_t room = (sizeof(w->buf) - w->blen) / w->bps;
		size_t to_sync = (size_t)(w->next_sync - w->samples);
		size_t k = n / w->bps; /* samples */

		if (k > room)
			k = room;
		if (k > to_sync)
			k = to_sync;
		memcpy(w->buf + w->blen, b, k * w->bps);
		w->blen += k * w->bps;
		w->samples += k;
		b += k * w->bps;
		n -= k * w->bps;
		if (w->blen + w->bps > sizeof(w->buf) &&
		    (e = flush_buf(w)) != 0)
			return e;
		if ((e = after_append(w)) != 0)
			return e;
	}
	return 0;
}

int
wav_writer_truncate(struct wav_writer *w, uint64_t n)
{
	int e;

	if (w == NULL)
		return EINVAL;
	if (n >= w->samples)
		return w->err;
	if ((e = flush_buf(w)) != 0)
		return e;
	if (ftruncate(w->fd, (off_t)(w->data_off + n * w->bps)) < 0)
		return w->err = errno;
	if (lseek(w->fd, 0, SEEK_END) < 0)
		return w->err = errno;
	w->samples = n;
	w->next_sync = (n / WAV_SYNC_SAMPLES + 1) * WAV_SYNC_SAMPLES;
	return fix_header(w, false);
}

uint64_t
wav_writer_samples(const struct wav_writer *w)
{
	return w != NULL ? w->samples : 0;
}

int
wav_writer_close(struct wav_writer *w, uint64_t *np)
{
	bool pad;
	int e;

	if (w == NULL)
		return 0;
	pad = (w->samples * w->bps) & 1;
	e = flush_buf(w);
	if (e == 0 && pad) {
		/* RIFF chunks are word aligned. */
		uint8_t z = 0;
		e = write_all(w->fd, &z, 1);
	}
	if (e == 0)
		e = fix_header(w, pad);
	if (e == 0 && fsync(w->fd) < 0)
		e = errno;
	if (close(w->fd) < 0 && e == 0)
		e = errno;
	if (np != NULL)
		*np = w->samples;
	free(w);
	return e;
}
