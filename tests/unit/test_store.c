/* Unit tests for lib/store: messages, counts, MWI state, crash recovery. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "core/log.h"
#include "store/store.h"

#define MBX "1001"

/* Each test gets its own scratch directory under /tmp. */
struct fixture {
	char dir[64];
	char mbxdir[128];
};

static int
rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ngv-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->mbxdir, sizeof(f->mbxdir), "%s/messages/%s", f->dir, MBX);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * A recorder stand-in: a 44-byte RIFF/WAVE header, then ms of 8 kHz mono
 * mu-law (format 7) or PCM16 (format 1). With sizes false the header
 * carries zero sizes, as a recorder killed before finishing leaves it.
 */
static int
write_wav(const char *path, unsigned ms, int format, bool sizes)
{
	unsigned bps = format == 1 ? 2 : 1;
	uint32_t n = ms * 8 * bps;
	unsigned char h[44], data[800];
	int fd;

	memcpy(h, "RIFF", 4);
	put32(h + 4, sizes ? 36 + n : 0);
	memcpy(h + 8, "WAVEfmt ", 8);
	put32(h + 16, 16);
	put16(h + 20, (uint16_t)format);
	put16(h + 22, 1);
	put32(h + 24, 8000);
	put32(h + 28, 8000 * bps);
	put16(h + 32, (uint16_t)bps);
	put16(h + 34, (uint16_t)(8 * bps));
	memcpy(h + 36, "data", 4);
	put32(h + 40, sizes ? n : 0);
	memset(data, 0xff, sizeof(data));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return errno;
	if (write(fd, h, sizeof(h)) != (ssize_t)sizeof(h))
		goto fail;
	while (n > 0) {
		size_t c = n < sizeof(data) ? n : sizeof(data);
		if (write(fd, data, c) != (ssize_t)c)
			goto fail;
		n -= (uint32_t)c;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return errno ? errno : EIO;
}

/* Files in dir whose names end in suffix. */
static unsigned
count_files(const char *dir, const char *suffix)
{
	size_t m = strlen(suffix);
	struct dirent *de;
	unsigned n = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] != '.' && l > m &&
		    strcmp(de->d_name + l - m, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static struct store *
open_ok(const struct fixture *f)
{
	struct store *st = NULL;
	char err[512];

	err[0] = '\0';
	assert_int_equal(store_open(&st, f->dir, err, sizeof(err)), 0);
	assert_non_null(st);
	return st;
}

/* Records and commits one message; returns its id. */
static int64_t
record(struct store *st, const char *mbx, unsigned ms,
    const struct store_msg_meta *m)
{
	struct store_pending *p;
	const char *path;
	int64_t id = -1;

	assert_int_equal(store_msg_begin(st, mbx, &p, &path), 0);
	assert_int_equal(write_wav(path, ms, 7, true), 0);
	assert_int_equal(store_msg_commit(st, p, m, &id), 0);
	return id;
}

static void
test_messages(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct store_msg_meta m = {.caller_id = "2001",
	    .caller_name = "Bob \xc3\xa9tienne",
	    .reason = "no-answer",
	    .received = 1700000000,
	    .call_id = "abc@10.0.0.1",
	    .security = "TLS1.2 ECDHE-ECDSA-AES256-GCM-SHA384, SRTP "
	                "AEAD_AES_256_GCM"};
	struct store_pending *p;
	struct store_msg *v, one;
	struct store_mailbox *mb;
	const char *path;
	unsigned nnew, nold;
	struct stat sb;
	size_t n;
	int64_t id;
	int sent;
	bool pending;

	/* mailboxes: names are path components, so they are checked */
	assert_int_equal(store_mailbox_ensure(st, "../x", "Evil"), EINVAL);
	assert_int_equal(store_mailbox_ensure(st, "", "Nobody"), EINVAL);
	assert_int_equal(store_msg_begin(st, "2002", &p, &path), ENOENT);
	assert_int_equal(store_counts(st, "2002", &nnew, &nold), ENOENT);
	assert_int_equal(store_mailbox_ensure(st, MBX, "Alice"), 0);
	assert_int_equal(stat(f->mbxdir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew + nold, 0);

	/* begin: a .wav.part path in the mailbox and its sidecar */
	assert_int_equal(store_msg_begin(st, MBX, &p, &path), 0);
	assert_non_null(strstr(path, "/messages/" MBX "/"));
	assert_non_null(strstr(path, ".wav.part"));
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 1);
	assert_int_equal(write_wav(path, 2500, 7, true), 0);
	assert_int_equal(store_msg_commit(st, p, &m, &id), 0);
	assert_true(id > 0);
	assert_int_equal(count_files(f->mbxdir, ".wav.part"), 0);
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 0);
	assert_int_equal(count_files(f->mbxdir, ".wav"), 1);

	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew, 1);
	assert_int_equal(nold, 0);
	assert_int_equal(store_list(st, MBX, false, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, id);
	assert_string_equal(v[0].mailbox, MBX);
	assert_string_equal(v[0].caller_id, "2001");
	assert_string_equal(v[0].caller_name, "Bob \xc3\xa9tienne");
	assert_string_equal(v[0].reason, "no-answer");
	assert_int_equal(v[0].received, 1700000000);
	assert_int_equal(v[0].duration_ms, 0 + 2500);
	assert_false(v[0].heard);
	assert_int_equal(stat(v[0].path, &sb), 0);
	assert_int_equal(sb.st_size, 44 + 2500 * 8);
	assert_int_equal(sb.st_mode & 0777, 0600);
	free(v);
	assert_int_equal(store_msg_get(st, id, &one), 0);
	assert_string_equal(one.caller_id, "2001");
	assert_int_equal(store_msg_get(st, id + 100, &one), ENOENT);

	/* the lamp should go on: a send is pending */
	assert_int_equal(store_mwi_get(st, MBX, &sent, &pending), 0);
	assert_int_equal(sent, -1);
	assert_true(pending);
	assert_int_equal(store_mwi_set(st, MBX, 1, false), 0);

	/* heard: new -> old, and the lamp should go off */
	assert_int_equal(store_mark_heard(st, id), 0);
	assert_int_equal(store_mark_heard(st, id), 0);
	assert_int_equal(store_mark_heard(st, id + 100), ENOENT);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew, 0);
	assert_int_equal(nold, 1);
	assert_int_equal(store_list(st, MBX, true, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(store_mwi_get(st, MBX, &sent, &pending), 0);
	assert_int_equal(sent, 1);
	assert_true(pending);
	assert_int_equal(store_mwi_set(st, MBX, 0, false), 0);

	assert_int_equal(store_mailboxes(st, &mb, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(mb[0].name, MBX);
	assert_string_equal(mb[0].owner_name, "Alice");
	assert_int_equal(mb[0].new_count, 0);
	assert_int_equal(mb[0].old_count, 1);
	assert_int_equal(mb[0].mwi_sent, 0);
	assert_false(mb[0].mwi_pending);
	free(mb);

	/* delete: row, then file */
	assert_int_equal(store_delete(st, id), 0);
	assert_int_equal(store_delete(st, id), ENOENT);
	assert_int_equal(count_files(f->mbxdir, ".wav"), 0);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew + nold, 0);
	/* heard messages going away do not change the lamp */
	assert_int_equal(store_mwi_get(st, MBX, &sent, &pending), 0);
	assert_false(pending);
	store_close(st);
}

static void
test_abort(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct store_pending *p;
	const char *path;
	unsigned nnew, nold;
	int64_t id = -7;

	assert_int_equal(store_mailbox_ensure(st, MBX, "Alice"), 0);
	assert_int_equal(store_msg_begin(st, MBX, &p, &path), 0);
	assert_int_equal(write_wav(path, 300, 7, true), 0);
	store_msg_abort(st, p);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_files(f->mbxdir, ""), 0);

	/* the recorder never created the file: ENOENT, nothing left */
	assert_int_equal(store_msg_begin(st, MBX, &p, &path), 0);
	assert_int_equal(store_msg_commit(st, p, NULL, &id), ENOENT);
	assert_int_equal(id, -7);
	assert_int_equal(count_files(f->mbxdir, ""), 0);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew + nold, 0);
	store_close(st);
}

static void
test_reopen(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f), *st2 = NULL;
	struct store_msg_meta m = {.caller_id = "2001", .reason = "user-busy"};
	struct store_mailbox *mb;
	struct store_msg *v;
	unsigned nnew, nold;
	int64_t ids[3];
	char err[512];
	size_t n;
	int sent;
	bool pending;

	assert_int_equal(store_mailbox_ensure(st, MBX, "Alice"), 0);
	assert_int_equal(store_mailbox_ensure(st, "1002", "Carol"), 0);
	/* received out of order: the list is oldest first */
	m.received = 300;
	ids[0] = record(st, MBX, 1000, &m);
	m.received = 100;
	ids[1] = record(st, MBX, 1000, &m);
	m.received = 200;
	m.caller_id = NULL; /* unknown caller */
	ids[2] = record(st, MBX, 1000, &m);
	assert_int_equal(store_mark_heard(st, ids[1]), 0);
	assert_int_equal(store_mwi_set(st, MBX, 1, false), 0);
	assert_int_equal(store_mwi_set(st, "1002", 0, true), 0);

	/* a second process on the same store is refused */
	assert_int_equal(store_open(&st2, f->dir, err, sizeof(err)), EBUSY);
	assert_null(st2);
	assert_non_null(strstr(err, f->dir));
	store_close(st);

	st = open_ok(f);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew, 2);
	assert_int_equal(nold, 1);
	assert_int_equal(store_list(st, MBX, false, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].id, ids[1]);
	assert_true(v[0].heard);
	assert_int_equal(v[1].id, ids[2]);
	assert_string_equal(v[1].caller_id, "");
	assert_int_equal(v[2].id, ids[0]);
	assert_string_equal(v[2].reason, "user-busy");
	free(v);
	assert_int_equal(store_list(st, MBX, true, &v, &n), 0);
	assert_int_equal(n, 2);
	free(v);
	assert_int_equal(store_mwi_get(st, MBX, &sent, &pending), 0);
	assert_int_equal(sent, 1);
	assert_false(pending);
	assert_int_equal(store_mwi_get(st, "1002", &sent, &pending), 0);
	assert_int_equal(sent, 0);
	assert_true(pending);
	assert_int_equal(store_mailbox_ensure(st, "1002", "Carol Jones"), 0);
	assert_int_equal(store_mailboxes(st, &mb, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(mb[0].name, MBX);
	assert_int_equal(mb[0].new_count, 2);
	assert_string_equal(mb[1].owner_name, "Carol Jones");
	free(mb);
	store_close(st);
}

static void
test_mwi(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	int sent = 9;
	bool pending = true;

	assert_int_equal(store_mwi_get(st, MBX, &sent, &pending), ENOENT);
	assert_int_equal(store_mwi_set(st, MBX, 1, false), ENOENT);
	assert_int_equal(store_mailbox_ensure(st, MBX, "Alice"), 0);
	assert_int_equal(store_mwi_get(st, MBX, &sent, &pending), 0);
	assert_int_equal(sent, -1);
	assert_false(pending);
	assert_int_equal(store_mwi_set(st, MBX, 2, false), EINVAL);
	for (int s = -1; s <= 1; s++) {
		for (int pd = 0; pd <= 1; pd++) {
			assert_int_equal(store_mwi_set(st, MBX, s, pd), 0);
			assert_int_equal(
			    store_mwi_get(st, MBX, &sent, &pending), 0);
			assert_int_equal(sent, s);
			assert_int_equal(pending, pd);
		}
	}
	store_close(st);
	st = open_ok(f);
	assert_int_equal(store_mwi_get(st, MBX, &sent, &pending), 0);
	assert_int_equal(sent, 1);
	assert_true(pending);
	store_close(st);
}

static void
test_open_errors(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char path[PATH_MAX], err[512];
	sqlite3 *db;
	int fd;

	/* the storage path is a file: the error names it */
	snprintf(path, sizeof(path), "%s/plain", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_not_equal(store_open(&st, path, err, sizeof(err)), 0);
	assert_null(st);
	assert_non_null(strstr(err, path));

	/* a database from a newer schema is not touched */
	st = open_ok(f);
	store_close(st);
	snprintf(path, sizeof(path), "%s/ngvoice.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	st = NULL;
	assert_int_equal(store_open(&st, f->dir, err, sizeof(err)), EPROTO);
	assert_null(st);
	assert_non_null(strstr(err, "newer"));
	assert_non_null(strstr(err, "ngvoice.db"));
}

/*
 * Runs fn in a child process that then dies without cleaning up: the
 * store is never closed and a pending message never ends, as after kill -9.
 */
static void
crash_child(const struct fixture *f, void (*fn)(struct store *st))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *st = NULL;
		char err[512];
		if (store_open(&st, f->dir, err, sizeof(err)) != 0 ||
		    store_mailbox_ensure(st, MBX, "Alice") != 0)
			_exit(3);
		fn(st);
		_exit(0); /* no store_close, no atexit: a crash */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static const struct store_msg_meta crash_meta = {.caller_id = "2001",
    .caller_name = "Bob",
    .reason = "no-answer",
    .call_id = "crash@test"};

static void
crash_mid_recording(struct store *st)
{
	struct store_pending *p;
	const char *path;

	if (store_msg_begin(st, MBX, &p, &path) != 0 ||
	    store_msg_note(st, p, &crash_meta) != 0 ||
	    write_wav(path, 3000, 1, false) != 0)
		_exit(4);
}

static void
crash_short_recording(struct store *st)
{
	struct store_pending *p;
	const char *path;

	if (store_msg_begin(st, MBX, &p, &path) != 0 ||
	    store_msg_note(st, p, &crash_meta) != 0 ||
	    write_wav(path, 600, 7, false) != 0)
		_exit(4);
}

static void
crash_short_and_garbage(struct store *st)
{
	struct store_pending *p;
	const char *path;
	int fd;

	crash_short_recording(st);
	if (store_msg_begin(st, MBX, &p, &path) != 0)
		_exit(4);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || write(fd, "RIFF", 4) != 4)
		_exit(5);
	close(fd);
}

/* The commit's rename is done, the row is not: the crash window. */
static void
crash_after_rename(struct store *st)
{
	struct store_pending *p;
	const char *path;
	char wav[PATH_MAX];

	if (store_msg_begin(st, MBX, &p, &path) != 0 ||
	    store_msg_note(st, p, &crash_meta) != 0 ||
	    write_wav(path, 2000, 7, true) != 0)
		_exit(4);
	snprintf(wav, sizeof(wav), "%.*s", (int)(strlen(path) - 5), path);
	if (rename(path, wav) != 0)
		_exit(5);
}

static void
test_recover_part(void **state)
{
	struct fixture *f = *state;
	unsigned char h[44];
	struct store *st;
	struct store_msg *v;
	unsigned nnew, nold;
	struct stat sb;
	size_t n;
	int fd;

	crash_child(f, crash_mid_recording);
	assert_int_equal(count_files(f->mbxdir, ".wav.part"), 1);
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 1);
	st = open_ok(f);
	assert_int_equal(count_files(f->mbxdir, ".wav.part"), 0);
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 0);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew, 1);
	assert_int_equal(store_list(st, MBX, false, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].reason, "interrupted");
	assert_string_equal(v[0].caller_id, "2001");
	assert_string_equal(v[0].caller_name, "Bob");
	assert_int_equal(v[0].duration_ms, 3000);
	assert_true(v[0].received > 0);
	/* the RIFF sizes now describe the file */
	fd = open(v[0].path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, h, sizeof(h)), sizeof(h));
	assert_int_equal(fstat(fd, &sb), 0);
	close(fd);
	assert_int_equal(get32(h + 4), sb.st_size - 8);
	assert_int_equal(get32(h + 40), sb.st_size - 44);
	assert_int_equal(get32(h + 40), 3000 * 16);
	free(v);
	/* the lamp needs to go on */
	{
		int sent;
		bool pending;
		assert_int_equal(store_mwi_get(st, MBX, &sent, &pending), 0);
		assert_true(pending);
	}
	store_close(st);
}

static void
test_recover_short(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	unsigned nnew, nold;

	crash_child(f, crash_short_and_garbage);
	assert_int_equal(count_files(f->mbxdir, ".wav.part"), 2);
	st = open_ok(f);
	assert_int_equal(count_files(f->mbxdir, ""), 0);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew + nold, 0);
	store_close(st);
}

static void
test_recover_wav_without_row(void **state)
{
	struct fixture *f = *state;
	char orphan[PATH_MAX];
	struct store *st;
	struct store_msg *v;
	unsigned nnew, nold;
	size_t n;

	crash_child(f, crash_after_rename);
	assert_int_equal(count_files(f->mbxdir, ".wav"), 1);
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 1);
	/* and a file whose delete was cut short: no row, no sidecar */
	snprintf(orphan, sizeof(orphan), "%s/%s", f->mbxdir,
	    "00000000-0000-4000-8000-000000000000.wav");
	assert_int_equal(write_wav(orphan, 2000, 7, true), 0);

	st = open_ok(f);
	assert_int_equal(access(orphan, F_OK), -1);
	assert_int_equal(count_files(f->mbxdir, ".wav"), 1);
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 0);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew, 1);
	assert_int_equal(store_list(st, MBX, false, &v, &n), 0);
	assert_int_equal(n, 1);
	/* a finished recording: it keeps its own reason */
	assert_string_equal(v[0].reason, "no-answer");
	assert_string_equal(v[0].caller_id, "2001");
	assert_int_equal(v[0].duration_ms, 2000);
	assert_int_equal(access(v[0].path, R_OK), 0);
	free(v);
	store_close(st);
}

static void
test_recover_row_without_file(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct store_msg *v;
	unsigned nnew, nold;
	int64_t keep, lost;
	size_t n;

	assert_int_equal(store_mailbox_ensure(st, MBX, "Alice"), 0);
	keep = record(st, MBX, 1000, &crash_meta);
	lost = record(st, MBX, 1000, &crash_meta);
	assert_int_equal(store_list(st, MBX, false, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[1].id, lost);
	assert_int_equal(unlink(v[1].path), 0);
	free(v);
	store_close(st);

	st = open_ok(f);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew, 1);
	assert_int_equal(store_list(st, MBX, false, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, keep);
	free(v);
	store_close(st);
}

/* After any crash: rows and files agree, the counts are the rows. */
static size_t
check_consistent(const struct fixture *f, struct store *st)
{
	struct store_msg *v;
	unsigned nnew, nold;
	size_t n;

	assert_int_equal(store_list(st, MBX, false, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(access(v[i].path, R_OK), 0);
	free(v);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew + nold, n);
	assert_int_equal(count_files(f->mbxdir, ".wav"), n);
	assert_int_equal(count_files(f->mbxdir, ".wav.part"), 0);
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 0);
	return n;
}

/* A real crash: SIGKILL while a child commits messages in a loop. */
static void
test_kill9(void **state)
{
	struct fixture *f = *state;
	size_t total = 0;

	srand((unsigned)getpid());
	for (int round = 0; round < 4; round++) {
		int64_t ids[4096], id;
		size_t nids = 0;
		int fds[2], status;
		struct store *st;
		ssize_t r;
		pid_t pid;

		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct store *cst = NULL;
			char err[512];
			close(fds[0]);
			if (store_open(&cst, f->dir, err, sizeof(err)) != 0 ||
			    store_mailbox_ensure(cst, MBX, "Alice") != 0)
				_exit(3);
			for (int i = 0; i < 4000; i++) {
				struct store_pending *p;
				const char *path;
				if (store_msg_begin(cst, MBX, &p, &path) != 0)
					_exit(4);
				store_msg_note(cst, p, &crash_meta);
				if (write_wav(path, 1000 + (unsigned)i % 500, 7,
				        true) != 0)
					_exit(5);
				if (i % 7 == 3) {
					store_msg_abort(cst, p);
					continue;
				}
				if (store_msg_commit(
				        cst, p, &crash_meta, &id) != 0)
					_exit(6);
				if (i % 5 == 0)
					store_mark_heard(cst, id);
				/* reported only once the commit returned */
				if (write(fds[1], &id, sizeof(id)) !=
				    sizeof(id))
					_exit(7);
			}
			_exit(0);
		}
		close(fds[1]);
		/* let it commit a few, then kill it at a random moment */
		while (nids < 3 + (size_t)round * 4 &&
		       read(fds[0], &ids[nids], sizeof(id)) == sizeof(id))
			nids++;
		usleep((useconds_t)(rand() % 20000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		while (nids < 4096 &&
		       (r = read(fds[0], &ids[nids], sizeof(id))) == sizeof(id))
			nids++;
		close(fds[0]);

		st = open_ok(f);
		total = check_consistent(f, st);
		/* every commit that returned survived the crash */
		for (size_t i = 0; i < nids; i++) {
			struct store_msg m;
			assert_int_equal(store_msg_get(st, ids[i], &m), 0);
		}
		assert_true(total >= nids);
		store_close(st);
	}
	assert_true(total > 0);
}

/*
 * ENOSPC without root: a child with RLIMIT_FSIZE low and SIGXFSZ ignored
 * gets EFBIG (or a short write) as soon as the WAL outgrows the limit; the
 * store must say ENOSPC and leave neither a file nor a row behind.
 */
static void
test_enospc(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	int status;
	pid_t pid;

	st = open_ok(f);
	assert_int_equal(store_mailbox_ensure(st, MBX, "Alice"), 0);
	store_close(st);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {
		    .rlim_cur = 96 * 1024, .rlim_max = RLIM_INFINITY};
		struct store *cst = NULL;
		char err[512];
		int e = 0;
		signal(SIGXFSZ, SIG_IGN);
		if (store_open(&cst, f->dir, err, sizeof(err)) != 0)
			_exit(3);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(4);
		for (int i = 0; i < 500 && e == 0; i++) {
			struct store_pending *p;
			const char *path;
			int64_t id;
			if ((e = store_msg_begin(cst, MBX, &p, &path)) != 0)
				break;
			if (write_wav(path, 1000, 7, true) != 0) {
				store_msg_abort(cst, p);
				_exit(5);
			}
			e = store_msg_commit(cst, p, &crash_meta, &id);
		}
		store_close(cst);
		_exit(e == ENOSPC ? 0 : e == 0 ? 10 : 11);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* whatever got in is whole; what failed left nothing */
	st = open_ok(f);
	assert_true(check_consistent(f, st) > 0);
	record(st, MBX, 1000, &crash_meta); /* and it works again */
	store_close(st);
}

/* ---- commits on the store's thread (store_msg_commit_async) ---- */

struct done {
	int calls;
	int err;
	int64_t id;
};

static void
done_h(int err, int64_t id, void *arg)
{
	struct done *d = arg;

	d->calls++;
	d->err = err;
	d->id = id;
}

/* Runs the loop until d has been called (or 10 s pass). */
static void
wait_done(struct event_base *base, const struct done *d)
{
	for (int i = 0; i < 10000 && d->calls == 0; i++) {
		struct timeval tv = {0, 1000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	assert_int_equal(d->calls, 1);
}

static void
test_commit_async(void **state)
{
	struct fixture *f = *state;
	struct event_base *base = event_base_new(), *other = event_base_new();
	struct store *st = open_ok(f);
	char caller[16], name[16], callid[32];
	struct store_msg_meta m = {.caller_id = caller,
	    .caller_name = name,
	    .reason = "user-busy",
	    .call_id = callid,
	    .security = "TLS1.2, SRTP AEAD_AES_256_GCM"};
	struct store_pending *p;
	struct done d = {0};
	struct store_msg one;
	const char *path;
	unsigned nnew, nold;
	int sent;
	bool pending;

	assert_non_null(base);
	assert_non_null(other);
	assert_int_equal(store_mailbox_ensure(st, MBX, "Alice"), 0);
	assert_int_equal(store_msg_begin(st, MBX, &p, &path), 0);
	assert_int_equal(write_wav(path, 1500, 7, false), 0);
	/* no thread yet: refused, p still ours */
	assert_int_equal(store_msg_commit_async(st, p, &m, done_h, &d), EPROTO);
	assert_int_equal(store_attach(NULL, base), EINVAL);
	assert_int_equal(store_attach(st, NULL), EINVAL);
	assert_int_equal(store_attach(st, base), 0);
	assert_int_equal(store_attach(st, base), 0);
	assert_int_equal(store_attach(st, other), EINVAL);
	assert_int_equal(
	    store_msg_commit_async(st, NULL, &m, done_h, &d), EINVAL);

	/* the strings are the caller's: gone as soon as the call returns */
	strcpy(caller, "2001");
	strcpy(name, "Bob");
	strcpy(callid, "async@test");
	assert_int_equal(store_msg_commit_async(st, p, &m, done_h, &d), 0);
	memset(caller, 'x', sizeof(caller) - 1);
	memset(name, 'y', sizeof(name) - 1);
	memset(callid, 'z', sizeof(callid) - 1);
	assert_int_equal(d.calls, 0); /* only ever from the loop */
	/* the loop's connection reads meanwhile */
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	wait_done(base, &d);
	assert_int_equal(d.err, 0);
	assert_true(d.id > 0);

	/* the row and the file agree, with the copied details */
	assert_int_equal(store_msg_get(st, d.id, &one), 0);
	assert_string_equal(one.caller_id, "2001");
	assert_string_equal(one.caller_name, "Bob");
	assert_string_equal(one.reason, "user-busy");
	assert_int_equal(one.duration_ms, 1500);
	assert_int_equal(access(one.path, R_OK), 0);
	assert_int_equal(count_files(f->mbxdir, ".wav"), 1);
	assert_int_equal(count_files(f->mbxdir, ".wav.part"), 0);
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 0);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), 0);
	assert_int_equal(nnew, 1);
	assert_int_equal(store_mwi_get(st, MBX, &sent, &pending), 0);
	assert_true(pending);
	/* the loop's connection still writes */
	assert_int_equal(store_mark_heard(st, d.id), 0);
	store_close(st);

	/* and after a reopen, with recovery, it is all still there */
	st = open_ok(f);
	assert_int_equal(check_consistent(f, st), 1);
	assert_int_equal(store_msg_get(st, d.id, &one), 0);
	assert_true(one.heard);
	store_close(st);
	event_base_free(other);
	event_base_free(base);
}

#define ASYNC_MANY 40

/* A handler that queues one more commit. */
struct chain {
	struct store *st;
	struct store_pending *next;
	struct done d, d2;
};

static void
chain_h(int err, int64_t id, void *arg)
{
	struct chain *c = arg;

	done_h(err, id, &c->d);
	assert_int_equal(
	    store_msg_commit_async(c->st, c->next, &crash_meta, done_h, &c->d2),
	    0);
}

/* Commits queued, then the store closed at once: every one is committed
 * and its handler called before store_close() returns. */
static void
test_commit_async_close(void **state)
{
	struct fixture *f = *state;
	struct event_base *base = event_base_new();
	struct store *st = open_ok(f);
	struct done d[ASYNC_MANY];
	struct chain ch = {.st = st};
	struct store_msg one;
	const char *cpath;

	memset(d, 0, sizeof(d));
	assert_int_equal(store_mailbox_ensure(st, MBX, "Alice"), 0);
	assert_int_equal(store_attach(st, base), 0);
	/* the first one's handler queues another, while the store closes */
	assert_int_equal(store_msg_begin(st, MBX, &ch.next, &cpath), 0);
	assert_int_equal(write_wav(cpath, 3000, 7, true), 0);
	for (int i = 0; i < ASYNC_MANY; i++) {
		struct store_pending *p;
		const char *path;
		assert_int_equal(store_msg_begin(st, MBX, &p, &path), 0);
		assert_int_equal(
		    write_wav(path, 1000 + (unsigned)i * 10, 7, true), 0);
		assert_int_equal(store_msg_commit_async(st, p, &crash_meta,
		                     i == 0 ? chain_h : done_h,
		                     i == 0 ? (void *)&ch : (void *)&d[i]),
		    0);
	}
	store_close(st);
	d[0] = ch.d;
	assert_int_equal(ch.d2.calls, 1);
	assert_int_equal(ch.d2.err, 0);
	for (int i = 0; i < ASYNC_MANY; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].err, 0);
		/* in the order they were queued */
		if (i > 0)
			assert_true(d[i].id > d[i - 1].id);
	}

	st = open_ok(f);
	assert_int_equal(check_consistent(f, st), ASYNC_MANY + 1);
	for (int i = 0; i < ASYNC_MANY; i++) {
		assert_int_equal(store_msg_get(st, d[i].id, &one), 0);
		assert_int_equal(one.duration_ms, 1000 + (unsigned)i * 10);
	}
	assert_int_equal(store_msg_get(st, ch.d2.id, &one), 0);
	assert_int_equal(one.duration_ms, 3000);
	store_close(st);
	event_base_free(base);
}

static void
test_commit_async_errors(void **state)
{
	struct fixture *f = *state;
	struct event_base *base = event_base_new();
	struct store *st = open_ok(f);
	struct store_pending *p;
	struct done d = {0}, d2 = {0};
	const char *path;
	unsigned nnew, nold;
	char sql[128];
	sqlite3 *db;

	assert_int_equal(store_mailbox_ensure(st, MBX, "Alice"), 0);
	assert_int_equal(store_attach(st, base), 0);

	/* the recorder never created the file: ENOENT through the handler */
	assert_int_equal(store_msg_begin(st, MBX, &p, &path), 0);
	assert_int_equal(
	    store_msg_commit_async(st, p, &crash_meta, done_h, &d), 0);
	wait_done(base, &d);
	assert_int_equal(d.err, ENOENT);
	assert_int_equal(d.id, 0);
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 0);

	/*
	 * The row cannot go in (its mailbox is gone behind the store's back:
	 * a foreign key): the file was already renamed, and is removed.
	 */
	assert_int_equal(store_msg_begin(st, MBX, &p, &path), 0);
	assert_int_equal(write_wav(path, 2000, 7, true), 0);
	snprintf(sql, sizeof(sql), "%s/ngvoice.db", f->dir);
	assert_int_equal(sqlite3_open(sql, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(
	    sqlite3_exec(db, "DELETE FROM mailboxes WHERE name = '" MBX "'",
	        NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(
	    store_msg_commit_async(st, p, &crash_meta, done_h, &d2), 0);
	wait_done(base, &d2);
	assert_int_equal(d2.err, EIO);
	assert_int_equal(d2.id, 0);
	assert_int_equal(count_files(f->mbxdir, ".wav"), 0);
	assert_int_equal(count_files(f->mbxdir, ".wav.part"), 0);
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 0);
	assert_int_equal(store_counts(st, MBX, &nnew, &nold), ENOENT);
	store_close(st);
	event_base_free(base);
}

/* The crash rules hold with the commit thread: a child committing in the
 * background is killed; every commit it was told about is there. */
struct bg {
	int fd;
	int inflight;
};

static void
bg_done_h(int err, int64_t id, void *arg)
{
	struct bg *b = arg;

	b->inflight--;
	if (err != 0)
		_exit(6);
	if (write(b->fd, &id, sizeof(id)) != sizeof(id))
		_exit(7);
}

static void
test_kill9_async(void **state)
{
	struct fixture *f = *state;
	int64_t ids[4096], id;
	size_t nids = 0;
	int fds[2], status;
	struct store *st;
	pid_t pid;

	srand((unsigned)getpid());
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct event_base *cbase = event_base_new();
		struct bg b = {fds[1], 0};
		struct store *cst = NULL;
		char err[512];
		close(fds[0]);
		if (cbase == NULL ||
		    store_open(&cst, f->dir, err, sizeof(err)) != 0 ||
		    store_mailbox_ensure(cst, MBX, "Alice") != 0 ||
		    store_attach(cst, cbase) != 0)
			_exit(3);
		for (int i = 0; i < 4000; i++) {
			struct store_pending *p;
			const char *path;
			if (store_msg_begin(cst, MBX, &p, &path) != 0 ||
			    write_wav(path, 1000, 7, true) != 0)
				_exit(4);
			if (store_msg_commit_async(
			        cst, p, &crash_meta, bg_done_h, &b) != 0)
				_exit(5);
			b.inflight++;
			while (b.inflight >= 4)
				event_base_loop(cbase, EVLOOP_ONCE);
		}
		_exit(0);
	}
	close(fds[1]);
	while (nids < 6 && read(fds[0], &ids[nids], sizeof(id)) == sizeof(id))
		nids++;
	usleep((useconds_t)(rand() % 20000));
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	while (
	    nids < 4096 && read(fds[0], &ids[nids], sizeof(id)) == sizeof(id))
		nids++;
	close(fds[0]);

	st = open_ok(f);
	assert_true(check_consistent(f, st) >= nids);
	for (size_t i = 0; i < nids; i++) {
		struct store_msg m;
		assert_int_equal(store_msg_get(st, ids[i], &m), 0);
	}
	store_close(st);
}

/* ---- begins on the store's thread (store_msg_begin_async) ---- */

struct begun {
	int calls;
	int err;
	struct store_pending *p;
	char path[PATH_MAX];
	struct store *abort_in; /* the handler aborts p there when set */
};

static void
begun_h(int err, struct store_pending *p, const char *path, void *arg)
{
	struct begun *b = arg;

	b->calls++;
	b->err = err;
	b->p = p;
	if (path != NULL)
		snprintf(b->path, sizeof(b->path), "%s", path);
	if (b->abort_in != NULL && p != NULL) {
		store_msg_abort(b->abort_in, p);
		b->p = NULL;
	}
}

static void
wait_begun(struct event_base *base, const struct begun *b)
{
	for (int i = 0; i < 10000 && b->calls == 0; i++) {
		struct timeval tv = {0, 1000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	assert_int_equal(b->calls, 1);
}

static void
test_begin_async(void **state)
{
	struct fixture *f = *state;
	struct event_base *base = event_base_new();
	struct store *st = open_ok(f);
	char caller[16];
	struct store_msg_meta m = {.caller_id = caller,
	    .caller_name = "Carol",
	    .reason = "no-answer",
	    .call_id = "begin@test"};
	struct begun b = {0}, b2 = {0};
	struct done d = {0};
	struct store_msg one;

	assert_int_equal(store_mailbox_ensure(st, MBX, "Alice"), 0);
	assert_int_equal(
	    store_msg_begin_async(st, MBX, &m, begun_h, &b), EPROTO);
	assert_int_equal(store_attach(st, base), 0);
	/* the mailbox is checked at once; the handler is not called */
	assert_int_equal(
	    store_msg_begin_async(st, "2002", &m, begun_h, &b), ENOENT);
	assert_int_equal(
	    store_msg_begin_async(st, "../x", &m, begun_h, &b), EINVAL);
	assert_int_equal(store_msg_begin_async(st, MBX, &m, NULL, &b), EINVAL);

	strcpy(caller, "2001");
	assert_int_equal(store_msg_begin_async(st, MBX, &m, begun_h, &b), 0);
	memset(caller, 'x', sizeof(caller) - 1);
	assert_int_equal(b.calls, 0);
	wait_begun(base, &b);
	assert_int_equal(b.err, 0);
	assert_non_null(b.p);
	assert_non_null(strstr(b.path, "/messages/" MBX "/"));
	assert_non_null(strstr(b.path, ".wav.part"));
	/* the sidecar is there before the recorder writes a byte */
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 1);
	assert_int_equal(count_files(f->mbxdir, ".wav.part"), 0);

	/* recorded, then committed with no new details: begin's are kept */
	assert_int_equal(write_wav(b.path, 1200, 7, true), 0);
	assert_int_equal(store_msg_commit_async(st, b.p, NULL, done_h, &d), 0);
	wait_done(base, &d);
	assert_int_equal(d.err, 0);
	assert_int_equal(store_msg_get(st, d.id, &one), 0);
	assert_string_equal(one.caller_id, "2001");
	assert_string_equal(one.caller_name, "Carol");
	assert_string_equal(one.reason, "no-answer");
	assert_int_equal(one.duration_ms, 1200);

	/* a begin still queued when the store closes: its handler is
	 * called (here it aborts), nothing is left behind */
	b2.abort_in = st;
	assert_int_equal(store_msg_begin_async(st, MBX, &m, begun_h, &b2), 0);
	store_close(st);
	assert_int_equal(b2.calls, 1);
	assert_int_equal(b2.err, 0);
	assert_null(b2.p);
	st = open_ok(f);
	assert_int_equal(check_consistent(f, st), 1);
	store_close(st);
	event_base_free(base);
}

/* A crash mid-recording after an asynchronous begin: the sidecar had the
 * caller's details from the start, and recovery keeps them. */
static void
crash_mid_recording_async(struct store *st)
{
	struct event_base *cbase = event_base_new();
	struct begun b = {0};

	if (cbase == NULL || store_attach(st, cbase) != 0 ||
	    store_msg_begin_async(st, MBX, &crash_meta, begun_h, &b) != 0)
		_exit(4);
	while (b.calls == 0)
		event_base_loop(cbase, EVLOOP_ONCE);
	if (b.err != 0 || write_wav(b.path, 3000, 1, false) != 0)
		_exit(5);
}

static void
test_recover_part_async(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct store_msg *v;
	size_t n;

	crash_child(f, crash_mid_recording_async);
	assert_int_equal(count_files(f->mbxdir, ".wav.part"), 1);
	assert_int_equal(count_files(f->mbxdir, ".part.meta"), 1);
	st = open_ok(f);
	assert_int_equal(check_consistent(f, st), 1);
	assert_int_equal(store_list(st, MBX, false, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].reason, "interrupted");
	assert_string_equal(v[0].caller_id, "2001");
	assert_string_equal(v[0].caller_name, "Bob");
	assert_int_equal(v[0].duration_ms, 3000);
	free(v);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mwi, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recover_part, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_recover_short, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_recover_wav_without_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_recover_row_without_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_async, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_commit_async_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_commit_async_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kill9_async, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_begin_async, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_recover_part_async, setup, teardown),
	};

	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
