/* lib/store file helpers: fsync, paths, the metadata sidecar, WAV sizes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "store/store_int.h"

#define META_MAGIC "ngvoice-message-meta 1"
#define META_MAX   4096

int
store_errno_map(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG: /* RLIMIT_FSIZE: no room for us either */
		return ENOSPC;
	case ENOENT:
	case ENOMEM:
		return e;
	default:
		return EIO;
	}
}

int
store_fsync_path(const char *path, bool dir)
{
	int fd, e = 0;

	fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		log_err(
		    "store: cannot open %s to sync it: %s", path, strerror(e));
		return store_errno_map(e);
	}
	if (fsync(fd) < 0) {
		e = errno;
		log_err("store: fsync %s: %s", path, strerror(e));
		e = store_errno_map(e);
	}
	close(fd);
	return e;
}

int
store_mkdir(const char *path)
{
	struct stat sb;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return errno;
	if (stat(path, &sb) < 0)
		return errno;
	return S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
}

int
store_path(char *buf, size_t sz, const char *a, const char *b, const char *c)
{
	int r;

	if (c != NULL)
		r = snprintf(buf, sz, "%s/%s/%s", a, b, c);
	else
		r = snprintf(buf, sz, "%s/%s", a, b);
	return (r < 0 || (size_t)r >= sz) ? ENAMETOOLONG : 0;
}

/* Appends key=value, replacing control characters so a value is one line. */
static void
meta_put(char *out, size_t sz, size_t *len, const char *key, const char *v)
{
	size_t n = *len;
	int r;

	r = snprintf(out + n, sz - n, "%s=", key);
	if (r < 0 || (size_t)r >= sz - n)
		return;
	n += (size_t)r;
	for (; v != NULL && *v != '\0' && n + 2 < sz; v++) {
		unsigned char ch = (unsigned char)*v;
		out[n++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	out[n++] = '\n';
	out[n] = '\0';
	*len = n;
}

int
store_meta_write(const char *path, const struct store_meta *m, bool sync_dir)
{
	char buf[META_MAX], tmp[PATH_MAX], num[32], dir[PATH_MAX];
	size_t len = 0, off = 0;
	ssize_t w;
	int fd, e = 0;
	char *slash;

	len = (size_t)snprintf(buf, sizeof(buf), "%s\n", META_MAGIC);
	meta_put(buf, sizeof(buf), &len, "mailbox", m->mailbox);
	meta_put(buf, sizeof(buf), &len, "caller_id", m->caller_id);
	meta_put(buf, sizeof(buf), &len, "caller_name", m->caller_name);
	meta_put(buf, sizeof(buf), &len, "reason", m->reason);
	meta_put(buf, sizeof(buf), &len, "call_id", m->call_id);
	meta_put(buf, sizeof(buf), &len, "security", m->security);
	snprintf(num, sizeof(num), "%" PRId64, m->received);
	meta_put(buf, sizeof(buf), &len, "received", num);
	snprintf(num, sizeof(num), "%" PRIu32, m->duration_ms);
	meta_put(buf, sizeof(buf), &len, "duration_ms", num);

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		log_err("store: cannot create %s: %s", tmp, strerror(e));
		return store_errno_map(e);
	}
	while (off < len) {
		w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : ENOSPC;
			log_err("store: cannot write %s: %s", tmp, strerror(e));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		e = errno;
		log_err("store: fsync %s: %s", tmp, strerror(e));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		log_err("store: cannot rename %s to %s: %s", tmp, path,
		    strerror(e));
		goto out;
	}
	if (sync_dir) {
		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0';
		close(fd);
		return store_fsync_path(dir, true);
	}
out:
	close(fd);
	if (e) {
		unlink(tmp);
		return store_errno_map(e);
	}
	return 0;
}

static void
meta_copy(char *dst, size_t sz, const char *v)
{
	snprintf(dst, sz, "%s", v);
}

int
store_meta_read(const char *path, struct store_meta *m)
{
	char buf[META_MAX + 1], *line, *next, *eq;
	size_t len = 0;
	ssize_t r;
	int fd, e;

	memset(m, 0, sizeof(*m));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? ENOENT : EIO;
	while (len < META_MAX) {
		r = read(fd, buf + len, META_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			close(fd);
			log_warn(
			    "store: cannot read %s: %s", path, strerror(e));
			return EIO;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	if (strncmp(buf, META_MAGIC "\n", sizeof(META_MAGIC)) != 0)
		return EBADMSG;
	/* A sidecar torn by a crash still yields the keys written whole. */
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next == NULL)
			break; /* the last line was cut short */
		*next++ = '\0';
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "mailbox") == 0)
			meta_copy(m->mailbox, sizeof(m->mailbox), eq);
		else if (strcmp(line, "caller_id") == 0)
			meta_copy(m->caller_id, sizeof(m->caller_id), eq);
		else if (strcmp(line, "caller_name") == 0)
			meta_copy(m->caller_name, sizeof(m->caller_name), eq);
		else if (strcmp(line, "reason") == 0)
			meta_copy(m->reason, sizeof(m->reason), eq);
		else if (strcmp(line, "call_id") == 0)
			meta_copy(m->call_id, sizeof(m->call_id), eq);
		else if (strcmp(line, "security") == 0)
			meta_copy(m->security, sizeof(m->security), eq);
		else if (strcmp(line, "received") == 0)
			m->received = strtoll(eq, NULL, 10);
		else if (strcmp(line, "duration_ms") == 0)
			m->duration_ms = (uint32_t)strtoul(eq, NULL, 10);
	}
	return 0;
}

static uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static int
pread_all(int fd, void *buf, size_t n, off_t off)
{
	ssize_t r;

	do
		r = pread(fd, buf, n, off);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return EIO;
	return (size_t)r == n ? 0 : EBADMSG;
}

static int
pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t r;

	do
		r = pwrite(fd, buf, n, off);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return store_errno_map(errno);
	return (size_t)r == n ? 0 : ENOSPC;
}

/* The formats the player understands: PCM16, A-law and mu-law at 8-48 kHz. */
static bool
wav_fmt_ok(const struct store_wav *w)
{
	if (w->channels < 1 || w->channels > 2)
		return false;
	if (w->rate < 8000 || w->rate > 48000)
		return false;
	if (w->format == 1 && w->bits != 16)
		return false;
	if ((w->format == 6 || w->format == 7) && w->bits != 8)
		return false;
	if (w->format != 1 && w->format != 6 && w->format != 7)
		return false;
	if (w->block_align != w->channels * (w->bits / 8))
		return false;
	return w->byte_rate == w->rate * w->block_align;
}

int
store_wav_probe(int fd, struct store_wav *w)
{
	unsigned char h[12], ch[8], fmt[16];
	struct stat sb;
	uint64_t off = 12, size, avail;
	bool have_fmt = false;
	int e;

	memset(w, 0, sizeof(*w));
	if (fstat(fd, &sb) < 0)
		return EIO;
	size = (uint64_t)sb.st_size;
	if (size > UINT32_MAX)
		return EBADMSG;
	if ((e = pread_all(fd, h, sizeof(h), 0)) != 0)
		return e;
	if (memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0)
		return EBADMSG;
	/* Walk the chunks up to "data"; only its size may be stale. */
	for (int i = 0; i < 16; i++) {
		if ((e = pread_all(fd, ch, sizeof(ch), (off_t)off)) != 0)
			return e;
		uint32_t clen = le32(ch + 4);
		if (memcmp(ch, "data", 4) == 0) {
			if (!have_fmt)
				return EBADMSG;
			w->data_off = off + 8;
			avail = size - w->data_off;
			w->data_len = avail - avail % w->block_align;
			w->file_len = w->data_off + w->data_len;
			return 0;
		}
		if (memcmp(ch, "fmt ", 4) == 0) {
			if (clen < 16 ||
			    pread_all(fd, fmt, 16, (off_t)off + 8) != 0)
				return EBADMSG;
			w->format = le16(fmt);
			w->channels = le16(fmt + 2);
			w->rate = le32(fmt + 4);
			w->byte_rate = le32(fmt + 8);
			w->block_align = le16(fmt + 12);
			w->bits = le16(fmt + 14);
			if (!wav_fmt_ok(w))
				return EBADMSG;
			have_fmt = true;
		}
		off += 8 + (uint64_t)clen + (clen & 1);
		if (off + 8 > size)
			return EBADMSG;
	}
	return EBADMSG;
}

int
store_wav_fix(int fd, const struct store_wav *w)
{
	unsigned char b[4], cur[4];
	struct stat sb;
	int e;

	if (fstat(fd, &sb) < 0)
		return EIO;
	if ((uint64_t)sb.st_size != w->file_len &&
	    ftruncate(fd, (off_t)w->file_len) < 0)
		return store_errno_map(errno);
	/* Write only what differs, so a finalized file is left untouched. */
	if ((e = pread_all(fd, cur, 4, 4)) != 0)
		return e;
	if (le32(cur) != (uint32_t)(w->file_len - 8)) {
		put_le32(b, (uint32_t)(w->file_len - 8));
		if ((e = pwrite_all(fd, b, 4, 4)) != 0)
			return e;
	}
	if ((e = pread_all(fd, cur, 4, (off_t)w->data_off - 4)) != 0)
		return e;
	if (le32(cur) != (uint32_t)w->data_len) {
		put_le32(b, (uint32_t)w->data_len);
		return pwrite_all(fd, b, 4, (off_t)w->data_off - 4);
	}
	return 0;
}

uint32_t
store_wav_ms(const struct store_wav *w)
{
	if (w->byte_rate == 0)
		return 0;
	return (uint32_t)(w->data_len * 1000 / w->byte_rate);
}
