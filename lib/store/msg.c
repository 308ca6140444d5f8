/* Recording a message: begin (path + sidecar), commit in crash-safe order, abort. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/secure.h"
#include "store/store_int.h"

static int
uuid_new(char out[37])
{
	unsigned char r[16];
	int e;

	if ((e = secure_random(r, sizeof(r))) != 0)
		return e;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
	    r[11], r[12], r[13], r[14], r[15]);
	return 0;
}

static int
pending_paths(struct store *st, struct store_pending *p)
{
	char name[64];

	snprintf(name, sizeof(name), "%s.wav.part", p->uuid);
	if (store_path(p->part, sizeof(p->part), st->msgdir, p->mailbox, name))
		return ENAMETOOLONG;
	snprintf(name, sizeof(name), "%s.wav", p->uuid);
	if (store_path(p->wav, sizeof(p->wav), st->msgdir, p->mailbox, name))
		return ENAMETOOLONG;
	snprintf(name, sizeof(name), "%s.part.meta", p->uuid);
	if (store_path(p->meta, sizeof(p->meta), st->msgdir, p->mailbox, name))
		return ENAMETOOLONG;
	return 0;
}

static void pending_merge(
    struct store_pending *p, const struct store_msg_meta *m);

int
store_pending_new(struct store *st, const char *mailbox,
    const struct store_msg_meta *m, struct store_pending **pp)
{
	struct store_pending *p;
	bool exists;
	int e;

	if (!store_mailbox_valid(mailbox))
		return EINVAL;
	if ((e = store_mbx_exists(st, mailbox, &exists)) != 0)
		return e;
	if (!exists)
		return ENOENT;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return ENOMEM;
	snprintf(p->mailbox, sizeof(p->mailbox), "%s", mailbox);
	if ((e = uuid_new(p->uuid)) != 0 || (e = pending_paths(st, p)) != 0) {
		free(p);
		return e;
	}
	store_meta_from(&p->m, mailbox, NULL);
	pending_merge(p, m);
	if (p->m.received == 0)
		p->m.received = (int64_t)time(NULL);
	*pp = p;
	return 0;
}

int
store_begin_run(struct store *st, struct store_pending *p)
{
	char dir[PATH_MAX];
	int e;

	if (store_path(dir, sizeof(dir), st->msgdir, p->mailbox, NULL))
		return EINVAL;
	if ((e = store_mkdir(dir)) != 0) {
		log_err("store: cannot create %s: %s", dir, strerror(e));
		return store_errno_map(e);
	}
	/*
	 * The sidecar, and the directory entry naming it, are on disk before
	 * the recorder writes a byte: recovery can always tell what a .part
	 * or an unregistered .wav belongs to.
	 */
	return store_meta_write(p->meta, &p->m, true);
}

int
store_msg_begin(struct store *st, const char *mailbox,
    struct store_pending **pp, const char **pathp)
{
	struct store_pending *p;
	int e;

	if (st == NULL || pp == NULL || pathp == NULL)
		return EINVAL;
	if ((e = store_pending_new(st, mailbox, NULL, &p)) != 0)
		return e;
	if ((e = store_begin_run(st, p)) != 0) {
		free(p);
		return e;
	}
	*pathp = p->part;
	*pp = p;
	return 0;
}

/* Merges m into the sidecar's view: given fields win, others stay. */
static void
pending_merge(struct store_pending *p, const struct store_msg_meta *m)
{
	struct store_meta n;

	if (m == NULL)
		return;
	store_meta_from(&n, p->mailbox, m);
#define MERGE_STR(f)                                                           \
	if (n.f[0] != '\0')                                                    \
	memcpy(p->m.f, n.f, sizeof(p->m.f))
	MERGE_STR(caller_id);
	MERGE_STR(caller_name);
	MERGE_STR(reason);
	MERGE_STR(call_id);
	MERGE_STR(security);
#undef MERGE_STR
	if (n.received != 0)
		p->m.received = n.received;
	if (n.duration_ms != 0)
		p->m.duration_ms = n.duration_ms;
}

int
store_msg_note(
    struct store *st, struct store_pending *p, const struct store_msg_meta *m)
{
	if (st == NULL || p == NULL)
		return EINVAL;
	pending_merge(p, m);
	return store_meta_write(p->meta, &p->m, false);
}

/* Makes the header sizes match the samples written; fills duration if 0. */
static int
commit_fix_wav(struct store_pending *p, int fd)
{
	struct store_wav w;
	int e;

	if (store_wav_probe(fd, &w) != 0) {
		/* Not ours to judge: the player will say what is wrong. */
		log_warn("store: %s is not a WAV file we understand;"
		         " stored as it is",
		    p->part);
		return 0;
	}
	if ((e = store_wav_fix(fd, &w)) != 0) {
		log_err("store: cannot fix the WAV header of %s: %s", p->part,
		    strerror(e));
		return e;
	}
	if (p->m.duration_ms == 0)
		p->m.duration_ms = store_wav_ms(&w);
	return 0;
}

void
store_pending_meta(struct store_pending *p, const struct store_msg_meta *m)
{
	pending_merge(p, m);
	if (p->m.received == 0)
		p->m.received = (int64_t)time(NULL);
}

int
store_msg_commit(struct store *st, struct store_pending *p,
    const struct store_msg_meta *m, int64_t *idp)
{
	int e;

	if (st == NULL || p == NULL)
		return EINVAL;
	store_pending_meta(p, m);
	e = store_commit_run(st, p, idp);
	free(p);
	return e;
}

/*
 * The steps of docs/storage.md in their order. st is the connection to
 * use: the loop's for store_msg_commit(), the commit thread's own for
 * store_msg_commit_async() (nothing here touches the loop's).
 */
int
store_commit_run(struct store *st, struct store_pending *p, int64_t *idp)
{
	char dir[PATH_MAX], file[64], *slash;
	bool renamed = false;
	int64_t id = 0;
	int fd, e;

	snprintf(dir, sizeof(dir), "%s", p->wav);
	slash = strrchr(dir, '/');
	*slash = '\0';
	snprintf(file, sizeof(file), "%s", slash + 1);

	fd = open(p->part, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		e = errno;
		log_err("store: cannot open the recording %s: %s", p->part,
		    strerror(e));
		e = store_errno_map(e);
		goto fail;
	}
	(void)fchmod(fd, 0600); /* messages are private whatever the umask */
	if ((e = commit_fix_wav(p, fd)) != 0)
		goto fail;
	/* 1. The sidecar has everything, in case we die before the row. */
	if ((e = store_meta_write(p->meta, &p->m, false)) != 0)
		goto fail;
	/* 2. The samples are on disk before any name points at them. */
	if (fsync(fd) < 0) {
		e = errno;
		log_err("store: fsync %s: %s", p->part, strerror(e));
		e = store_errno_map(e);
		goto fail;
	}
	close(fd);
	fd = -1;
	/* 3. The final name, atomically, and 4. that rename made durable. */
	if (rename(p->part, p->wav) < 0) {
		e = errno;
		log_err("store: cannot rename %s to %s: %s", p->part, p->wav,
		    strerror(e));
		e = store_errno_map(e);
		goto fail;
	}
	renamed = true;
	if ((e = store_fsync_path(dir, true)) != 0)
		goto fail;
	/* 5. The row, committed with synchronous=FULL. */
	if ((e = store_tx_begin(st)) != 0)
		goto fail;
	if ((e = store_row_insert(st, p->mailbox, file, &p->m, &id)) != 0) {
		store_tx_rollback(st);
		goto fail;
	}
	if ((e = store_tx_commit(st)) != 0)
		goto fail;
	/* The sidecar has served; a leftover one is removed by recovery. */
	unlink(p->meta);
	log_info("store: mailbox %s: message %" PRId64 " from %s%s%s%s"
	         " (%s, %" PRIu32 " ms)",
	    p->mailbox, id, p->m.caller_id[0] ? p->m.caller_id : "unknown",
	    p->m.caller_name[0] ? " \"" : "", p->m.caller_name,
	    p->m.caller_name[0] ? "\"" : "",
	    p->m.reason[0] ? p->m.reason : "no reason", p->m.duration_ms);
	if (idp != NULL)
		*idp = id;
	return 0;
fail:
	/* Nothing half-done stays: no row was committed, so no file either. */
	if (fd >= 0)
		close(fd);
	unlink(renamed ? p->wav : p->part);
	unlink(p->meta);
	if (renamed)
		(void)store_fsync_path(dir, true);
	log_err("store: mailbox %s: message from %s not stored: %s", p->mailbox,
	    p->m.caller_id[0] ? p->m.caller_id : "unknown", strerror(e));
	return e;
}

void
store_msg_abort(struct store *st, struct store_pending *p)
{
	char tmp[PATH_MAX];

	(void)st;
	if (p == NULL)
		return;
	if (unlink(p->part) < 0 && errno != ENOENT)
		log_warn(
		    "store: cannot remove %s: %s", p->part, strerror(errno));
	unlink(p->meta);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", p->meta) < (int)sizeof(tmp))
		unlink(tmp);
	log_debug(
	    "store: mailbox %s: recording %s dropped", p->mailbox, p->uuid);
	free(p);
}
