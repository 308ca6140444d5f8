/* lib/store internals shared by its files: the store, statements, helpers. */
#ifndef NGV_STORE_STORE_INT_H
#define NGV_STORE_STORE_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/list.h"
#include "store/store.h"

/* Prepared once in store_open(), finalized in store_close(). */
enum store_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_MBX_ENSURE,
	ST_MBX_EXISTS,
	ST_MSG_INSERT,
	ST_MSG_GET,
	ST_MSG_BY_FILE,
	ST_MSG_ALL,
	ST_LIST,
	ST_MARK_HEARD,
	ST_MSG_DELETE,
	ST_COUNTS,
	ST_MWI_GET,
	ST_MWI_SET,
	ST_MWI_TOUCH,
	ST_MWI_TOUCH_ALL,
	ST_MAILBOXES,
	ST_NSTMT
};

struct store_async;

/*
 * The store of the loop thread, and also the commit thread's own
 * connection (async.c): that one has the same paths, lockfd -1 and no as.
 */
struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_NSTMT];
	char dir[PATH_MAX];     /* the storage directory, as given */
	char dbpath[PATH_MAX];  /* dir/ngvoice.db */
	char msgdir[PATH_MAX];  /* dir/messages */
	int lockfd;             /* dir/ngvoice.lock, flock()ed while open */
	struct store_async *as; /* the commit thread, once attached; owned */
};

/* What the sidecar <uuid>.part.meta holds; strings owned by the struct. */
struct store_meta {
	char mailbox[STORE_MAILBOX_MAX + 1];
	char caller_id[256];
	char caller_name[256];
	char reason[32];
	char call_id[256];
	char security[256];
	int64_t received;
	uint32_t duration_ms;
};

struct store_pending {
	char mailbox[STORE_MAILBOX_MAX + 1];
	char uuid[37];
	char part[PATH_MAX]; /* <uuid>.wav.part, given to the recorder */
	char wav[PATH_MAX];  /* <uuid>.wav */
	char meta[PATH_MAX]; /* <uuid>.part.meta */
	struct store_meta m;
	/* store_msg_begin_async() and store_msg_commit_async(): its place in
	 * the store thread's queues (under its mutex), what to do there, the
	 * handler, and the result. */
	struct list le;
	bool begin;        /* store_begin_run(), else store_commit_run() */
	store_begin_h *bh; /* begin */
	store_commit_h *h; /* commit */
	void *arg;
	int err;
	int64_t id;
};

/* store.c */
bool store_mailbox_valid(const char *name);
/* Opens st->dbpath and sets the connection up (WAL, synchronous=FULL,
 * busy timeout...); then store_db_prepare() once the schema is there. */
int store_db_connect(struct store *st, char *err, size_t errlen);
int store_db_prepare(struct store *st, char *err, size_t errlen);
/* Logs the SQLite error of what and maps it: ENOSPC, ENOMEM or EIO. */
int store_dberr(struct store *st, const char *what);
/* Resets and clears bindings of a statement, returning it. */
sqlite3_stmt *store_stmt(struct store *st, enum store_stmt s);
int store_tx_begin(struct store *st);
int store_tx_commit(struct store *st);
void store_tx_rollback(struct store *st);
/* Runs ST_MWI_TOUCH for one mailbox (inside the caller's transaction). */
int store_mwi_touch(struct store *st, const char *mailbox);
/* Inserts a message row inside the caller's transaction. */
int store_row_insert(struct store *st, const char *mailbox, const char *file,
    const struct store_meta *m, int64_t *idp);
int store_mbx_exists(struct store *st, const char *mailbox, bool *yes);
void store_meta_from(
    struct store_meta *d, const char *mailbox, const struct store_msg_meta *m);

/* file.c: errno helpers, sidecars, WAV headers. */
/* Maps a write-side errno: ENOSPC, EDQUOT and EFBIG become ENOSPC. */
int store_errno_map(int e);
int store_fsync_path(const char *path, bool dir);
int store_mkdir(const char *path);
int store_path(
    char *buf, size_t sz, const char *a, const char *b, const char *c);
/* Writes the sidecar atomically (tmp, fsync, rename); fsyncs dir if asked. */
int store_meta_write(
    const char *path, const struct store_meta *m, bool sync_dir);
/* Reads a sidecar; missing keys stay zero. ENOENT, EIO or EBADMSG. */
int store_meta_read(const char *path, struct store_meta *m);

struct store_wav {
	uint16_t format; /* 1 PCM, 6 A-law, 7 mu-law */
	uint16_t channels;
	uint32_t rate;
	uint32_t byte_rate;
	uint16_t block_align;
	uint16_t bits;
	uint64_t data_off; /* where the samples start */
	uint64_t data_len; /* from the file size, whole blocks only */
	uint64_t file_len; /* what the file should be cut to */
};

/*
 * Reads the RIFF/WAVE header of an open file and sizes its data from the
 * file size (the header's sizes may be stale after a crash). EBADMSG when
 * it is not a WAV file we can play.
 */
int store_wav_probe(int fd, struct store_wav *w);
/* Writes RIFF and data sizes that match the file (cutting a partial block). */
int store_wav_fix(int fd, const struct store_wav *w);
uint32_t store_wav_ms(const struct store_wav *w);

/* msg.c */
/* The loop's half of a begin: checks the mailbox (ENOENT), picks the
 * uuid and paths, takes m (may be NULL) and the time; nothing on disk. */
int store_pending_new(struct store *st, const char *mailbox,
    const struct store_msg_meta *m, struct store_pending **pp);
/* The disk's half: the mailbox directory, the sidecar, both fsync'd;
 * never frees p. */
int store_begin_run(struct store *st, struct store_pending *p);
/* Merges m into p's metadata (strings copied) and dates it if need be. */
void store_pending_meta(
    struct store_pending *p, const struct store_msg_meta *m);
/* The commit's work through st's connection (the commit thread's for
 * store_msg_commit_async()); never frees p. */
int store_commit_run(struct store *st, struct store_pending *p, int64_t *idp);

/* async.c */
/* Finishes the queued commits and stops the thread (store_close()). */
void store_async_stop(struct store *st);

/* recover.c */
int store_recover(struct store *st);

#endif
