/* Crash recovery at store_open(): reconcile message files, sidecars and rows. */
#include <dirent.h>
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

/* A recording shorter than this is a hang-up before speaking: dropped. */
#define RECOVER_MIN_MS 1000

struct row_ref {
	int64_t id;
	char mailbox[STORE_MAILBOX_MAX + 1];
	char file[64];
};

static bool
has_suffix(const char *s, const char *suffix, size_t *stem)
{
	size_t n = strlen(s), m = strlen(suffix);

	if (n <= m || strcmp(s + n - m, suffix) != 0)
		return false;
	*stem = n - m;
	return true;
}

/* Rows whose file is gone cannot be played: log and remove them. */
static int
recover_rows(struct store *st)
{
	struct row_ref *v = NULL, *nv;
	size_t n = 0, cap = 0;
	char path[PATH_MAX];
	sqlite3_stmt *s, *d;
	struct stat sb;
	int rc, e = 0;

	s = store_stmt(st, ST_MSG_ALL);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				sqlite3_reset(s);
				free(v);
				return ENOMEM;
			}
			v = nv;
		}
		v[n].id = sqlite3_column_int64(s, 0);
		snprintf(v[n].mailbox, sizeof(v[n].mailbox), "%s",
		    (const char *)sqlite3_column_text(s, 1));
		snprintf(v[n].file, sizeof(v[n].file), "%s",
		    (const char *)sqlite3_column_text(s, 2));
		n++;
	}
	if (rc != SQLITE_DONE)
		e = store_dberr(st, "read the message rows");
	sqlite3_reset(s);
	for (size_t i = 0; e == 0 && i < n; i++) {
		if (store_path(path, sizeof(path), st->msgdir, v[i].mailbox,
		        v[i].file) == 0 &&
		    (stat(path, &sb) == 0 || errno != ENOENT))
			continue;
		if ((e = store_tx_begin(st)) != 0)
			break;
		d = store_stmt(st, ST_MSG_DELETE);
		sqlite3_bind_int64(d, 1, v[i].id);
		rc = sqlite3_step(d);
		sqlite3_reset(d);
		if (rc != SQLITE_DONE) {
			e = store_dberr(st, "remove a message without file");
			store_tx_rollback(st);
			break;
		}
		if ((e = store_mwi_touch(st, v[i].mailbox)) != 0) {
			store_tx_rollback(st);
			break;
		}
		if ((e = store_tx_commit(st)) != 0)
			break;
		log_warn("store: mailbox %s: message %" PRId64
		         " has no file %s; its row is removed",
		    v[i].mailbox, v[i].id, path);
	}
	free(v);
	return e;
}

/* Inserts a recovered message; creates the mailbox row if it is missing. */
static int
recover_insert(struct store *st, const char *mbx, const char *file,
    const struct store_meta *m, int64_t *idp)
{
	sqlite3_stmt *s;
	bool exists;
	int e;

	if ((e = store_tx_begin(st)) != 0)
		return e;
	if ((e = store_mbx_exists(st, mbx, &exists)) != 0)
		goto out;
	if (!exists) {
		s = store_stmt(st, ST_MBX_ENSURE);
		sqlite3_bind_text(s, 1, mbx, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, m->received);
		if (sqlite3_step(s) != SQLITE_DONE) {
			e = store_dberr(st, "create a recovered mailbox");
			sqlite3_reset(s);
			goto out;
		}
		sqlite3_reset(s);
		log_warn(
		    "store: mailbox %s had messages but no row; created", mbx);
	}
	if ((e = store_row_insert(st, mbx, file, m, idp)) != 0)
		goto out;
	return store_tx_commit(st);
out:
	store_tx_rollback(st);
	return e;
}

static void
remove_pair(const char *a, const char *b)
{
	if (a != NULL && unlink(a) < 0 && errno != ENOENT)
		log_warn("store: cannot remove %s: %s", a, strerror(errno));
	if (b != NULL && unlink(b) < 0 && errno != ENOENT)
		log_warn("store: cannot remove %s: %s", b, strerror(errno));
}

/*
 * A .wav.part is a recording a crash interrupted. With at least a second
 * of readable audio it becomes a message (reason "interrupted"); otherwise
 * it is deleted. Returns a database error only; file trouble is logged.
 */
static int
recover_part(
    struct store *st, const char *mbxdir, const char *mbx, const char *uuid)
{
	char part[PATH_MAX], wav[PATH_MAX], meta[PATH_MAX], file[64];
	struct store_meta m;
	struct store_wav w;
	struct stat sb;
	int64_t id = 0; /* recover_insert() sets it when it returns 0 */
	uint32_t ms;
	int fd, e, me;

	snprintf(file, sizeof(file), "%.58s.wav", uuid);
	if (snprintf(part, sizeof(part), "%s/%s.wav.part", mbxdir, uuid) >=
	        (int)sizeof(part) ||
	    snprintf(wav, sizeof(wav), "%s/%s", mbxdir, file) >=
	        (int)sizeof(wav) ||
	    snprintf(meta, sizeof(meta), "%s/%s.part.meta", mbxdir, uuid) >=
	        (int)sizeof(meta))
		return 0;
	me = store_meta_read(meta, &m);
	if (me != 0)
		store_meta_from(&m, mbx, NULL);
	fd = open(part, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		log_warn("store: cannot open %s: %s", part, strerror(errno));
		return 0;
	}
	if (store_wav_probe(fd, &w) != 0) {
		close(fd);
		remove_pair(part, meta);
		log_warn("store: mailbox %s: interrupted recording %s is not a"
		         " readable WAV file; removed",
		    mbx, uuid);
		return 0;
	}
	ms = store_wav_ms(&w);
	if (ms < RECOVER_MIN_MS) {
		close(fd);
		remove_pair(part, meta);
		log_warn("store: mailbox %s: interrupted recording %s has only"
		         " %" PRIu32 " ms of audio; removed",
		    mbx, uuid, ms);
		return 0;
	}
	snprintf(m.mailbox, sizeof(m.mailbox), "%s", mbx);
	snprintf(m.reason, sizeof(m.reason), "interrupted");
	m.duration_ms = ms;
	if (m.received == 0)
		m.received = fstat(fd, &sb) == 0 ? (int64_t)sb.st_mtime : 0;
	/*
	 * The same order as a commit, so a crash during recovery is
	 * recovered the next time: durable sidecar, durable samples, rename,
	 * durable directory, then the row.
	 */
	if (store_wav_fix(fd, &w) != 0 || fsync(fd) < 0 ||
	    store_meta_write(meta, &m, true) != 0) {
		close(fd);
		log_err("store: mailbox %s: cannot save interrupted recording"
		        " %s; left for the next start",
		    mbx, part);
		return 0;
	}
	close(fd);
	if (rename(part, wav) < 0 || store_fsync_path(mbxdir, true) != 0) {
		log_err("store: cannot rename %s to %s: %s", part, wav,
		    strerror(errno));
		return 0;
	}
	if ((e = recover_insert(st, mbx, file, &m, &id)) != 0)
		return e; /* the .wav and its sidecar wait for the next start */
	unlink(meta);
	log_warn("store: mailbox %s: recording %s interrupted by a crash kept"
	         " as message %" PRId64 " (%" PRIu32 " ms, caller %s)",
	    mbx, uuid, id, ms, m.caller_id[0] ? m.caller_id : "unknown");
	return 0;
}

/*
 * A .wav without a row: with a sidecar, the crash came between the rename
 * and the insert of a commit, so the message is committed now; without
 * one, it is a deleted message whose file outlived its row.
 */
static int
recover_wav(
    struct store *st, const char *mbxdir, const char *mbx, const char *uuid)
{
	char wav[PATH_MAX], meta[PATH_MAX], file[64];
	struct store_meta m;
	struct store_wav w;
	struct stat sb;
	sqlite3_stmt *s;
	int64_t id = 0; /* recover_insert() sets it when it returns 0 */
	int rc, fd, e;

	snprintf(file, sizeof(file), "%.58s.wav", uuid);
	s = store_stmt(st, ST_MSG_BY_FILE);
	sqlite3_bind_text(s, 1, mbx, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, file, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return store_dberr(st, "look up a message file");
	if (snprintf(wav, sizeof(wav), "%s/%s", mbxdir, file) >=
	        (int)sizeof(wav) ||
	    snprintf(meta, sizeof(meta), "%s/%s.part.meta", mbxdir, uuid) >=
	        (int)sizeof(meta))
		return 0;
	if (store_meta_read(meta, &m) != 0) {
		remove_pair(wav, meta);
		log_warn("store: mailbox %s: file %s has no row and no sidecar"
		         " (a delete interrupted by a crash); removed",
		    mbx, file);
		return 0;
	}
	snprintf(m.mailbox, sizeof(m.mailbox), "%s", mbx);
	fd = open(wav, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		if (m.duration_ms == 0 && store_wav_probe(fd, &w) == 0)
			m.duration_ms = store_wav_ms(&w);
		if (m.received == 0 && fstat(fd, &sb) == 0)
			m.received = (int64_t)sb.st_mtime;
		close(fd);
	}
	if ((e = recover_insert(st, mbx, file, &m, &id)) != 0)
		return e;
	unlink(meta);
	log_warn("store: mailbox %s: message file %s was saved but not"
	         " registered before a crash; committed as message %" PRId64
	         " (caller %s)",
	    mbx, file, id, m.caller_id[0] ? m.caller_id : "unknown");
	return 0;
}

static int
names_add(char ***v, size_t *n, size_t *cap, const char *name)
{
	char **nv;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		nv = realloc(*v, *cap * sizeof(**v));
		if (nv == NULL)
			return ENOMEM;
		*v = nv;
	}
	if (((*v)[*n] = strdup(name)) == NULL)
		return ENOMEM;
	(*n)++;
	return 0;
}

static int
recover_mailbox(struct store *st, const char *mbx)
{
	char mbxdir[PATH_MAX], uuid[64], path[PATH_MAX];
	char **names = NULL;
	size_t n = 0, cap = 0, stem;
	struct dirent *de;
	DIR *d;
	int e = 0;

	if (store_path(mbxdir, sizeof(mbxdir), st->msgdir, mbx, NULL))
		return 0;
	d = opendir(mbxdir);
	if (d == NULL) {
		log_warn("store: cannot read %s: %s", mbxdir, strerror(errno));
		return 0;
	}
	/* Names first: the passes below rename and unlink in this directory. */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((e = names_add(&names, &n, &cap, de->d_name)) != 0)
			break;
	}
	closedir(d);
	/* Pass 1: interrupted recordings and unregistered files. */
	for (size_t i = 0; e == 0 && i < n; i++) {
		const char *nm = names[i];
		if (has_suffix(nm, ".wav.part", &stem) && stem < sizeof(uuid)) {
			snprintf(uuid, sizeof(uuid), "%.*s", (int)stem, nm);
			e = recover_part(st, mbxdir, mbx, uuid);
		} else if (has_suffix(nm, ".wav", &stem) &&
		           stem < sizeof(uuid)) {
			snprintf(uuid, sizeof(uuid), "%.*s", (int)stem, nm);
			e = recover_wav(st, mbxdir, mbx, uuid);
		}
	}
	/*
	 * Pass 2: a sidecar still here belongs to nothing any more, unless
	 * pass 1 could not save its recording (kept for the next start).
	 */
	for (size_t i = 0; e == 0 && i < n; i++) {
		struct stat sb;
		size_t pl;
		if (has_suffix(names[i], ".part.meta", &stem) &&
		    stem < sizeof(uuid)) {
			snprintf(
			    uuid, sizeof(uuid), "%.*s", (int)stem, names[i]);
			if (store_path(
			        path, sizeof(path), mbxdir, uuid, NULL) == 0 &&
			    (pl = strlen(path)) + 10 < sizeof(path)) {
				memcpy(path + pl, ".wav.part", 10);
				if (stat(path, &sb) == 0)
					continue;
			}
		} else if (!has_suffix(names[i], ".part.meta.tmp", &stem)) {
			continue;
		}
		if (store_path(path, sizeof(path), mbxdir, names[i], NULL))
			continue;
		if (unlink(path) == 0)
			log_info("store: mailbox %s: stale sidecar %s removed",
			    mbx, names[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return e;
}

int
store_recover(struct store *st)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	sqlite3_stmt *s;
	DIR *d;
	int e;

	if ((e = recover_rows(st)) != 0)
		return e;
	d = opendir(st->msgdir);
	if (d == NULL) {
		e = errno;
		log_err("store: cannot read %s: %s", st->msgdir, strerror(e));
		return store_errno_map(e);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (!store_mailbox_valid(de->d_name)) {
			log_warn("store: %s/%s is not a mailbox; ignored",
			    st->msgdir, de->d_name);
			continue;
		}
		if ((e = names_add(&names, &n, &cap, de->d_name)) != 0)
			break;
	}
	closedir(d);
	for (size_t i = 0; e == 0 && i < n; i++)
		e = recover_mailbox(st, names[i]);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (e)
		return e;
	/* Whatever changed while we were down, the lamps get resent. */
	s = store_stmt(st, ST_MWI_TOUCH_ALL);
	if (sqlite3_step(s) != SQLITE_DONE)
		e = store_dberr(st, "flag pending MWI updates");
	sqlite3_reset(s);
	return e;
}
