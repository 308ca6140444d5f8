/* The message store: open, schema migrations, mailboxes, counts, MWI state. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "store/store_int.h"

#define STORE_DB_NAME   "ngvoice.db"
#define STORE_LOCK_NAME "ngvoice.lock"
#define STORE_MSG_DIR   "messages"
#define STORE_BUSY_MS   5000

/*
 * Schema migrations: migration[i] takes the database from user_version i to
 * i + 1, inside one transaction together with the version bump. Append new
 * steps; never edit one that has shipped.
 */
static const char *const migrations[] = {
    /* 0 -> 1: mailboxes with their MWI state, messages. */
    "CREATE TABLE mailboxes ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " owner_name TEXT NOT NULL DEFAULT '',"
    " created INTEGER NOT NULL,"
    " mwi_sent INTEGER NOT NULL DEFAULT -1 CHECK (mwi_sent IN (-1, 0, 1)),"
    " mwi_pending INTEGER NOT NULL DEFAULT 0 CHECK (mwi_pending IN (0, 1)));"
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " mailbox TEXT NOT NULL REFERENCES mailboxes(name),"
    " file TEXT NOT NULL,"
    " caller_id TEXT NOT NULL DEFAULT '',"
    " caller_name TEXT NOT NULL DEFAULT '',"
    " reason TEXT NOT NULL DEFAULT '',"
    " duration_ms INTEGER NOT NULL DEFAULT 0,"
    " received INTEGER NOT NULL,"
    " call_id TEXT NOT NULL DEFAULT '',"
    " security TEXT NOT NULL DEFAULT '',"
    " heard INTEGER NOT NULL DEFAULT 0 CHECK (heard IN (0, 1)),"
    " heard_at INTEGER,"
    " UNIQUE (mailbox, file));"
    "CREATE INDEX messages_by_mailbox"
    " ON messages(mailbox, heard, received, id);",
};
#define STORE_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define MSG_COLS                                                               \
	"id, mailbox, file, caller_id, caller_name, reason, duration_ms,"      \
	" received, heard"

/* The lamp state the mailbox should show: 1 while it has unheard messages. */
#define LAMP_SQL(mbx)                                                          \
	"(SELECT count(*) > 0 FROM messages m WHERE m.mailbox = " mbx          \
	" AND m.heard = 0)"

static const char *const stmt_sql[ST_NSTMT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_MBX_ENSURE] = "INSERT INTO mailboxes (name, owner_name, created)"
                      " VALUES (?1, ?2, ?3) ON CONFLICT (name)"
                      " DO UPDATE SET owner_name = excluded.owner_name"
                      " WHERE owner_name IS NOT excluded.owner_name",
    [ST_MBX_EXISTS] = "SELECT 1 FROM mailboxes WHERE name = ?1",
    [ST_MSG_INSERT] = "INSERT INTO messages (mailbox, file, caller_id,"
                      " caller_name, reason, duration_ms, received, call_id,"
                      " security) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_MSG_GET] = "SELECT " MSG_COLS " FROM messages WHERE id = ?1",
    [ST_MSG_BY_FILE] = "SELECT id FROM messages"
                       " WHERE mailbox = ?1 AND file = ?2",
    [ST_MSG_ALL] = "SELECT id, mailbox, file FROM messages ORDER BY id",
    [ST_LIST] = "SELECT " MSG_COLS " FROM messages WHERE mailbox = ?1"
                " AND (?2 = 0 OR heard = 0) ORDER BY received, id",
    [ST_MARK_HEARD] = "UPDATE messages SET heard = 1, heard_at = ?2"
                      " WHERE id = ?1 AND heard = 0",
    [ST_MSG_DELETE] = "DELETE FROM messages WHERE id = ?1",
    [ST_COUNTS] = "SELECT (SELECT count(*) FROM messages"
                  " WHERE mailbox = ?1 AND heard = 0),"
                  " (SELECT count(*) FROM messages"
                  " WHERE mailbox = ?1 AND heard = 1)"
                  " FROM mailboxes WHERE name = ?1",
    [ST_MWI_GET] = "SELECT mwi_sent, mwi_pending FROM mailboxes"
                   " WHERE name = ?1",
    [ST_MWI_SET] = "UPDATE mailboxes SET mwi_sent = ?2, mwi_pending = ?3"
                   " WHERE name = ?1",
    [ST_MWI_TOUCH] = "UPDATE mailboxes SET mwi_pending = 1"
                     " WHERE name = ?1 AND mwi_pending = 0"
                     " AND mwi_sent <> " LAMP_SQL("?1"),
    [ST_MWI_TOUCH_ALL] = "UPDATE mailboxes SET mwi_pending = 1"
                         " WHERE mwi_pending = 0"
                         " AND mwi_sent <> " LAMP_SQL("mailboxes.name"),
    [ST_MAILBOXES] = "SELECT b.name, b.owner_name, b.mwi_sent,"
                     " b.mwi_pending,"
                     " (SELECT count(*) FROM messages m"
                     " WHERE m.mailbox = b.name AND m.heard = 0),"
                     " (SELECT count(*) FROM messages m"
                     " WHERE m.mailbox = b.name AND m.heard = 1)"
                     " FROM mailboxes b ORDER BY b.name",
};

bool
store_mailbox_valid(const char *name)
{
	size_t n;

	if (name == NULL || name[0] == '\0' || name[0] == '.')
		return false;
	n = strlen(name);
	if (n > STORE_MAILBOX_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		        (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
		        c == '+' || c == '-'))
			return false;
	}
	return true;
}

/*
 * SQLite reports a failed write as SQLITE_FULL only for ENOSPC; EFBIG (the
 * file size limit) and EDQUOT come back as SQLITE_IOERR_WRITE, often with
 * the errno lost. Look at the room we have left to tell them apart.
 */
static int
room_exhausted(const struct store *st)
{
	char wal[PATH_MAX + 8];
	struct statvfs vfs;
	struct rlimit rl;
	struct stat sb;
	off_t big = 0;

	if (statvfs(st->dir, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < 64 * 1024)
		return ENOSPC;
	if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	snprintf(wal, sizeof(wal), "%s-wal", st->dbpath);
	if (stat(st->dbpath, &sb) == 0)
		big = sb.st_size;
	if (stat(wal, &sb) == 0 && sb.st_size > big)
		big = sb.st_size;
	/* A transaction writes a few pages at most past the current end. */
	return (uint64_t)big + 256 * 1024 >= (uint64_t)rl.rlim_cur ? EFBIG : 0;
}

int
store_dberr(struct store *st, const char *what)
{
	int rc = sqlite3_extended_errcode(st->db);
	int se = 0;

	/* The system errno is only meaningful right after an I/O error. */
	if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL ||
	    (rc & 0xff) == SQLITE_CANTOPEN)
		se = sqlite3_system_errno(st->db);
	if (se == 0 && (rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC ||
	                   rc == SQLITE_IOERR_TRUNCATE))
		se = room_exhausted(st);
	log_err("store %s: %s: %s (sqlite error %d%s%s)", st->dbpath, what,
	    sqlite3_errmsg(st->db), rc, se ? ", " : "", se ? strerror(se) : "");
	if ((rc & 0xff) == SQLITE_FULL || se == ENOSPC || se == EDQUOT ||
	    se == EFBIG)
		return ENOSPC;
	if ((rc & 0xff) == SQLITE_NOMEM)
		return ENOMEM;
	return EIO;
}

sqlite3_stmt *
store_stmt(struct store *st, enum store_stmt s)
{
	sqlite3_stmt *stmt = st->stmt[s];

	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return stmt;
}

/* Steps a statement that returns no rows, then resets it. */
static int
step_done(struct store *st, sqlite3_stmt *stmt, const char *what)
{
	int rc = sqlite3_step(stmt), e = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		e = store_dberr(st, what);
	sqlite3_reset(stmt);
	return e;
}

int
store_tx_begin(struct store *st)
{
	return step_done(st, store_stmt(st, ST_BEGIN), "begin transaction");
}

int
store_tx_commit(struct store *st)
{
	int e = step_done(st, store_stmt(st, ST_COMMIT), "commit");

	if (e)
		store_tx_rollback(st);
	return e;
}

void
store_tx_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return; /* SQLite already rolled back */
	sqlite3_step(store_stmt(st, ST_ROLLBACK));
	sqlite3_reset(st->stmt[ST_ROLLBACK]);
}

int
store_mwi_touch(struct store *st, const char *mailbox)
{
	sqlite3_stmt *s = store_stmt(st, ST_MWI_TOUCH);

	sqlite3_bind_text(s, 1, mailbox, -1, SQLITE_STATIC);
	return step_done(st, s, "flag a pending MWI update");
}

int
store_mbx_exists(struct store *st, const char *mailbox, bool *yes)
{
	sqlite3_stmt *s = store_stmt(st, ST_MBX_EXISTS);
	int rc;

	sqlite3_bind_text(s, 1, mailbox, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		int e = store_dberr(st, "look up a mailbox");
		sqlite3_reset(s);
		return e;
	}
	*yes = rc == SQLITE_ROW;
	sqlite3_reset(s);
	return 0;
}

int
store_row_insert(struct store *st, const char *mailbox, const char *file,
    const struct store_meta *m, int64_t *idp)
{
	sqlite3_stmt *s = store_stmt(st, ST_MSG_INSERT);
	int e;

	sqlite3_bind_text(s, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, file, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, m->caller_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, m->caller_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, m->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, m->duration_ms);
	sqlite3_bind_int64(s, 7, m->received);
	sqlite3_bind_text(s, 8, m->call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, m->security, -1, SQLITE_STATIC);
	if ((e = step_done(st, s, "insert a message")) != 0)
		return e;
	*idp = sqlite3_last_insert_rowid(st->db);
	return store_mwi_touch(st, mailbox);
}

void
store_meta_from(
    struct store_meta *d, const char *mailbox, const struct store_msg_meta *m)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->mailbox, sizeof(d->mailbox), "%s", mailbox);
	if (m == NULL)
		return;
#define META_STR(f) snprintf(d->f, sizeof(d->f), "%s", m->f != NULL ? m->f : "")
	META_STR(caller_id);
	META_STR(caller_name);
	META_STR(reason);
	META_STR(call_id);
	META_STR(security);
#undef META_STR
	d->received = m->received;
	d->duration_ms = m->duration_ms;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* mkdir -p with mode 0700 for every directory it creates. */
static int
mkdirs(const char *path)
{
	char buf[PATH_MAX];
	int e;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return ENAMETOOLONG;
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		e = store_mkdir(buf);
		*p = '/';
		if (e)
			return e;
	}
	return store_mkdir(buf);
}

static int
db_exec(struct store *st, const char *sql, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

	sqlite3_free(msg);
	return rc == SQLITE_OK ? 0 : store_dberr(st, what);
}

static int
db_int(struct store *st, const char *sql, int *vp)
{
	sqlite3_stmt *s;
	int rc, e = 0;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_dberr(st, sql);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*vp = sqlite3_column_int(s, 0);
	else
		e = store_dberr(st, sql);
	sqlite3_finalize(s);
	return e;
}

int
store_db_prepare(struct store *st, char *err, size_t errlen)
{
	for (int i = 0; i < ST_NSTMT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		        SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
		        NULL) != SQLITE_OK) {
			seterr(err, errlen,
			    "%s: cannot prepare a statement: %s", st->dbpath,
			    sqlite3_errmsg(st->db));
			return store_dberr(st, stmt_sql[i]);
		}
	}
	return 0;
}

static int
db_configure(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	bool wal = false;
	int e;

	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
	        NULL) != SQLITE_OK) {
		e = store_dberr(st, "set WAL mode");
		seterr(err, errlen, "%s: cannot set WAL mode: %s", st->dbpath,
		    sqlite3_errmsg(st->db));
		return e;
	}
	if (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *mode = sqlite3_column_text(s, 0);
		wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
	}
	sqlite3_finalize(s);
	if (!wal) {
		seterr(err, errlen,
		    "%s: cannot switch the database to WAL mode: %s",
		    st->dbpath, sqlite3_errmsg(st->db));
		log_err("store %s: cannot switch to WAL mode", st->dbpath);
		return EIO;
	}
	/*
	 * FULL: a commit is on disk when COMMIT returns, so a row never
	 * outlives a crash without its (already fsynced) file and vice versa.
	 */
	e = db_exec(st,
	    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
	    " PRAGMA secure_delete = ON; PRAGMA trusted_schema = OFF;",
	    "set pragmas");
	if (e)
		seterr(err, errlen, "%s: cannot set pragmas: %s", st->dbpath,
		    sqlite3_errmsg(st->db));
	return e;
}

static int
db_migrate(struct store *st, char *err, size_t errlen)
{
	char sql[64];
	int v = 0, e;

	if ((e = db_int(st, "PRAGMA user_version", &v)) != 0) {
		seterr(err, errlen, "%s: cannot read the schema version: %s",
		    st->dbpath, sqlite3_errmsg(st->db));
		return e;
	}
	if (v > STORE_SCHEMA_VERSION) {
		seterr(err, errlen,
		    "%s: schema version %d was written by a newer ngvoice"
		    " (this one knows up to %d)",
		    st->dbpath, v, STORE_SCHEMA_VERSION);
		log_err("store %s: schema version %d is newer than %d",
		    st->dbpath, v, STORE_SCHEMA_VERSION);
		return EPROTO;
	}
	for (; v < STORE_SCHEMA_VERSION; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((e = db_exec(st, "BEGIN IMMEDIATE", "begin migration")) ||
		    (e = db_exec(st, migrations[v], "migrate the schema")) ||
		    (e = db_exec(st, sql, "set the schema version")) ||
		    (e = db_exec(st, "COMMIT", "commit migration"))) {
			seterr(err, errlen,
			    "%s: cannot migrate the schema from version %d to"
			    " %d: %s",
			    st->dbpath, v, v + 1, sqlite3_errmsg(st->db));
			if (!sqlite3_get_autocommit(st->db))
				sqlite3_exec(
				    st->db, "ROLLBACK", NULL, NULL, NULL);
			return e;
		}
		log_info("store %s: schema migrated to version %d", st->dbpath,
		    v + 1);
	}
	return 0;
}

static int
store_lock(struct store *st, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int e;

	if (store_path(path, sizeof(path), st->dir, STORE_LOCK_NAME, NULL))
		return ENAMETOOLONG;
	st->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lockfd < 0) {
		e = errno;
		seterr(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return store_errno_map(e);
	}
	/* Two daemons recovering one store would delete each other's work. */
	if (flock(st->lockfd, LOCK_EX | LOCK_NB) < 0) {
		e = errno;
		if (e == EWOULDBLOCK) {
			seterr(err, errlen,
			    "%s: the store is in use by another process", path);
			return EBUSY;
		}
		seterr(err, errlen, "%s: cannot lock: %s", path, strerror(e));
		return EIO;
	}
	return 0;
}

int
store_db_connect(struct store *st, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(st->dbpath, &st->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		seterr(err, errlen, "%s: cannot open the database: %s",
		    st->dbpath,
		    st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		return rc == SQLITE_NOMEM ? ENOMEM : EIO;
	}
	return db_configure(st, err, errlen);
}

int
store_open(struct store **sp, const char *dir, char *err, size_t errlen)
{
	struct store *st;
	struct stat sb;
	int e, fd;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (sp == NULL || dir == NULL || dir[0] == '\0') {
		seterr(err, errlen, "no storage directory given");
		return EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		seterr(err, errlen, "%s: out of memory", dir);
		return ENOMEM;
	}
	st->lockfd = -1;
	if (snprintf(st->dir, sizeof(st->dir), "%s", dir) >=
	        (int)sizeof(st->dir) ||
	    store_path(
	        st->dbpath, sizeof(st->dbpath), dir, STORE_DB_NAME, NULL) ||
	    store_path(
	        st->msgdir, sizeof(st->msgdir), dir, STORE_MSG_DIR, NULL)) {
		seterr(err, errlen, "%s: path too long", dir);
		e = ENAMETOOLONG;
		goto out;
	}
	if ((e = mkdirs(st->dir)) != 0 || (e = store_mkdir(st->msgdir)) != 0) {
		seterr(err, errlen, "%s: cannot create the directory: %s",
		    st->dir, strerror(e));
		e = store_errno_map(e);
		goto out;
	}
	if (stat(st->dir, &sb) == 0 && (sb.st_mode & 077) != 0)
		log_warn("store %s: the directory is open to group or others"
		         " (mode %03o); voicemail is private, chmod 700 it",
		    st->dir, (unsigned)(sb.st_mode & 0777));
	if ((e = store_lock(st, err, errlen)) != 0)
		goto out;

	/* Create the file first so it, and its -wal and -shm, are 0600. */
	fd = open(st->dbpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		seterr(err, errlen, "%s: cannot open: %s", st->dbpath,
		    strerror(e));
		e = store_errno_map(e);
		goto out;
	}
	close(fd);
	if ((e = store_db_connect(st, err, errlen)) != 0 ||
	    (e = db_migrate(st, err, errlen)) != 0 ||
	    (e = store_db_prepare(st, err, errlen)) != 0)
		goto out;
	if ((e = store_recover(st)) != 0) {
		seterr(err, errlen, "%s: crash recovery failed: %s", st->dir,
		    e == ENOSPC ? "no space left" : sqlite3_errmsg(st->db));
		goto out;
	}
	*sp = st;
	return 0;
out:
	store_close(st);
	return e;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_async_stop(st);
	for (int i = 0; i < ST_NSTMT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_err(
		    "store %s: close: %s", st->dbpath, sqlite3_errmsg(st->db));
	if (st->lockfd >= 0)
		close(st->lockfd);
	free(st);
}

const char *
store_dir(const struct store *st)
{
	return st->dir;
}

int
store_mailbox_ensure(
    struct store *st, const char *mailbox, const char *owner_name)
{
	char path[PATH_MAX];
	sqlite3_stmt *s;
	int e;

	if (st == NULL || !store_mailbox_valid(mailbox))
		return EINVAL;
	/* The directory first: a row always has somewhere to put files. */
	if (store_path(path, sizeof(path), st->msgdir, mailbox, NULL))
		return EINVAL;
	if ((e = store_mkdir(path)) != 0) {
		log_err("store: cannot create %s: %s", path, strerror(e));
		return store_errno_map(e);
	}
	if ((e = store_fsync_path(st->msgdir, true)) != 0)
		return e;
	s = store_stmt(st, ST_MBX_ENSURE);
	sqlite3_bind_text(s, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(
	    s, 2, owner_name != NULL ? owner_name : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
	return step_done(st, s, "create a mailbox");
}

int
store_counts(
    struct store *st, const char *mailbox, unsigned *newp, unsigned *oldp)
{
	sqlite3_stmt *s;
	int rc, e = 0;

	if (st == NULL || mailbox == NULL)
		return EINVAL;
	s = store_stmt(st, ST_COUNTS);
	sqlite3_bind_text(s, 1, mailbox, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (newp != NULL)
			*newp = (unsigned)sqlite3_column_int64(s, 0);
		if (oldp != NULL)
			*oldp = (unsigned)sqlite3_column_int64(s, 1);
	} else if (rc == SQLITE_DONE) {
		e = ENOENT;
	} else {
		e = store_dberr(st, "count messages");
	}
	sqlite3_reset(s);
	return e;
}

int
store_mwi_get(
    struct store *st, const char *mailbox, int *last_sent, bool *pending)
{
	sqlite3_stmt *s;
	int rc, e = 0;

	if (st == NULL || mailbox == NULL)
		return EINVAL;
	s = store_stmt(st, ST_MWI_GET);
	sqlite3_bind_text(s, 1, mailbox, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (last_sent != NULL)
			*last_sent = sqlite3_column_int(s, 0);
		if (pending != NULL)
			*pending = sqlite3_column_int(s, 1) != 0;
	} else if (rc == SQLITE_DONE) {
		e = ENOENT;
	} else {
		e = store_dberr(st, "read the MWI state");
	}
	sqlite3_reset(s);
	return e;
}

int
store_mwi_set(
    struct store *st, const char *mailbox, int sent_state, bool pending)
{
	sqlite3_stmt *s;
	int e;

	if (st == NULL || mailbox == NULL || sent_state < -1 || sent_state > 1)
		return EINVAL;
	s = store_stmt(st, ST_MWI_SET);
	sqlite3_bind_text(s, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, sent_state);
	sqlite3_bind_int(s, 3, pending ? 1 : 0);
	if ((e = step_done(st, s, "record the MWI state")) != 0)
		return e;
	return sqlite3_changes(st->db) == 0 ? ENOENT : 0;
}

static void
copy_col(char *dst, size_t sz, sqlite3_stmt *s, int col)
{
	const char *v = (const char *)sqlite3_column_text(s, col);
	size_t n = v != NULL ? strlen(v) : 0;

	if (n >= sz) {
		/* Cut on a UTF-8 boundary: never leave half a character. */
		n = sz - 1;
		while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
	}
	if (n > 0)
		memcpy(dst, v, n);
	dst[n] = '\0';
}

int
store_mailboxes(struct store *st, struct store_mailbox **list, size_t *n)
{
	struct store_mailbox *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *s;
	int rc, e = 0;

	if (st == NULL || list == NULL || n == NULL)
		return EINVAL;
	s = store_stmt(st, ST_MAILBOXES);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				e = ENOMEM;
				goto out;
			}
			v = nv;
		}
		struct store_mailbox *b = &v[cnt++];
		memset(b, 0, sizeof(*b));
		copy_col(b->name, sizeof(b->name), s, 0);
		copy_col(b->owner_name, sizeof(b->owner_name), s, 1);
		b->mwi_sent = sqlite3_column_int(s, 2);
		b->mwi_pending = sqlite3_column_int(s, 3) != 0;
		b->new_count = (unsigned)sqlite3_column_int64(s, 4);
		b->old_count = (unsigned)sqlite3_column_int64(s, 5);
	}
	if (rc != SQLITE_DONE)
		e = store_dberr(st, "list mailboxes");
out:
	sqlite3_reset(s);
	if (e) {
		free(v);
		return e;
	}
	*list = v;
	*n = cnt;
	return 0;
}

/* Fills m from a row of MSG_COLS. */
static int
msg_row(struct store *st, sqlite3_stmt *s, struct store_msg *m)
{
	char file[128];

	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(s, 0);
	copy_col(m->mailbox, sizeof(m->mailbox), s, 1);
	copy_col(file, sizeof(file), s, 2);
	copy_col(m->caller_id, sizeof(m->caller_id), s, 3);
	copy_col(m->caller_name, sizeof(m->caller_name), s, 4);
	copy_col(m->reason, sizeof(m->reason), s, 5);
	m->duration_ms = (uint32_t)sqlite3_column_int64(s, 6);
	m->received = sqlite3_column_int64(s, 7);
	m->heard = sqlite3_column_int(s, 8) != 0;
	return store_path(
	    m->path, sizeof(m->path), st->msgdir, m->mailbox, file);
}

int
store_list(struct store *st, const char *mailbox, bool new_only,
    struct store_msg **msgs, size_t *n)
{
	struct store_msg *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *s;
	int rc, e = 0;

	if (st == NULL || mailbox == NULL || msgs == NULL || n == NULL)
		return EINVAL;
	s = store_stmt(st, ST_LIST);
	sqlite3_bind_text(s, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, new_only ? 1 : 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				e = ENOMEM;
				goto out;
			}
			v = nv;
		}
		if ((e = msg_row(st, s, &v[cnt++])) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		e = store_dberr(st, "list messages");
out:
	sqlite3_reset(s);
	if (e) {
		free(v);
		return e;
	}
	*msgs = v;
	*n = cnt;
	return 0;
}

int
store_msg_get(struct store *st, int64_t id, struct store_msg *m)
{
	sqlite3_stmt *s;
	int rc, e;

	if (st == NULL || m == NULL)
		return EINVAL;
	s = store_stmt(st, ST_MSG_GET);
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		e = msg_row(st, s, m);
	else if (rc == SQLITE_DONE)
		e = ENOENT;
	else
		e = store_dberr(st, "read a message");
	sqlite3_reset(s);
	return e;
}

/* Reads a message's mailbox and file name inside a transaction. */
static int
msg_locate(struct store *st, int64_t id, char *mbx, size_t mbxsz, char *file,
    size_t filesz)
{
	sqlite3_stmt *s = store_stmt(st, ST_MSG_GET);
	int rc, e = 0;

	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		copy_col(mbx, mbxsz, s, 1);
		copy_col(file, filesz, s, 2);
	} else if (rc == SQLITE_DONE) {
		e = ENOENT;
	} else {
		e = store_dberr(st, "read a message");
	}
	sqlite3_reset(s);
	return e;
}

int
store_mark_heard(struct store *st, int64_t id)
{
	char mbx[64], file[128];
	sqlite3_stmt *s;
	int e;

	if (st == NULL)
		return EINVAL;
	if ((e = store_tx_begin(st)) != 0)
		return e;
	if ((e = msg_locate(st, id, mbx, sizeof(mbx), file, sizeof(file))))
		goto out;
	s = store_stmt(st, ST_MARK_HEARD);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
	if ((e = step_done(st, s, "mark a message heard")) != 0 ||
	    (e = store_mwi_touch(st, mbx)) != 0)
		goto out;
	return store_tx_commit(st);
out:
	store_tx_rollback(st);
	return e;
}

int
store_delete(struct store *st, int64_t id)
{
	char mbx[64], file[128], path[PATH_MAX];
	sqlite3_stmt *s;
	int e;

	if (st == NULL)
		return EINVAL;
	if ((e = store_tx_begin(st)) != 0)
		return e;
	if ((e = msg_locate(st, id, mbx, sizeof(mbx), file, sizeof(file))))
		goto out;
	s = store_stmt(st, ST_MSG_DELETE);
	sqlite3_bind_int64(s, 1, id);
	if ((e = step_done(st, s, "delete a message")) != 0 ||
	    (e = store_mwi_touch(st, mbx)) != 0)
		goto out;
	if ((e = store_tx_commit(st)) != 0)
		return e;
	/*
	 * The row is gone for good; now the file. A crash here leaves a .wav
	 * with neither row nor sidecar, which recovery deletes.
	 */
	if (store_path(path, sizeof(path), st->msgdir, mbx, file) == 0 &&
	    unlink(path) < 0 && errno != ENOENT)
		log_warn("store: message %" PRId64 " deleted, but not its file"
		         " %s: %s",
		    id, path, strerror(errno));
	log_info("store: mailbox %s: message %" PRId64 " deleted", mbx, id);
	return 0;
out:
	store_tx_rollback(st);
	return e;
}
