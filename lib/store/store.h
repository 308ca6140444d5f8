/* The voicemail message store: SQLite metadata plus one WAV file per message. */
#ifndef NGV_STORE_STORE_H
#define NGV_STORE_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

/*
 * Errors: every function returns 0 or a positive errno value:
 *   EINVAL  a caller bug (NULL argument, bad mailbox name)
 *   ENOENT  no such mailbox or message
 *   ENOMEM  out of memory
 *   ENOSPC  the disk, a quota or the process file size limit is exhausted
 *           (SQLITE_FULL, or a write failing with ENOSPC, EDQUOT or EFBIG)
 *   EIO     any other SQLite or file system failure; the log line carries
 *           sqlite3_errmsg() or strerror() and the path
 *   EBUSY   store_open(): another process holds the store
 *   EPROTO  store_open(): the database was written by a newer ngvoice
 * A store is used from one thread at a time (the daemon's event loop);
 * store_attach() adds a thread of its own that commits messages through a
 * second connection, so that the loop never waits for their fsyncs.
 * See docs/storage.md for the layout, the schema and the crash rules.
 */

struct store;
struct store_pending; /* a message being recorded */

/* Longest mailbox name (an extension: letters, digits, '.', '_', '+', '-'). */
#define STORE_MAILBOX_MAX 31

/*
 * Opens (creating if needed, mode 0700) the store in dir: dir/ngvoice.db
 * (WAL, synchronous=FULL, schema migrated to the current version) and
 * dir/messages/<mailbox>/. Runs crash recovery before returning (see
 * docs/storage.md), logging one line per file or row it fixes. On failure
 * err receives a sentence naming the file and the problem.
 */
int store_open(struct store **sp, const char *dir, char *err, size_t errlen);
/* Finishes the commits still queued (store_drain(): their handlers are
 * called here, so what they use must still exist), stops the commit
 * thread, finalizes the statements and closes the database; NULL is
 * accepted. */
void store_close(struct store *st);
/* The storage directory the store was opened on (borrowed). */
const char *store_dir(const struct store *st);

/* Creates the mailbox (and its directory) or updates its owner's name. */
int store_mailbox_ensure(
    struct store *st, const char *mailbox, const char *owner_name);

/* What is known about a message; every pointer is borrowed, NULL means "". */
struct store_msg_meta {
	const char *caller_id;
	const char *caller_name;
	const char *reason;   /* no-answer, user-busy, unconditional, direct */
	uint32_t duration_ms; /* 0: computed from the WAV file */
	int64_t received;     /* unix time; 0: now */
	const char *call_id;
	const char *security; /* "TLS1.2 ECDHE-ECDSA-AES256-GCM-SHA384, SRTP
	                         AEAD_AES_256_GCM" */
};

/*
 * Starts a message in an existing mailbox (ENOENT otherwise): allocates
 * the path messages/<mailbox>/<uuid>.wav.part for the recorder to create
 * and write (*pathp is owned by *pp), and writes the sidecar
 * <uuid>.part.meta that recovery uses after a crash. The pending message
 * must end in exactly one of store_msg_commit() or store_msg_abort().
 */
int store_msg_begin(struct store *st, const char *mailbox,
    struct store_pending **pp, const char **pathp);
/*
 * Optional, any time between begin and commit: records the caller details
 * in the sidecar now, so a recording interrupted by a crash keeps them.
 */
int store_msg_note(
    struct store *st, struct store_pending *p, const struct store_msg_meta *m);
/*
 * Commits atomically: rewrites the sidecar with m, fsyncs the audio file,
 * renames .wav.part to .wav, fsyncs the directory, then inserts the row in
 * one transaction (synchronous=FULL). Always consumes p. On failure neither
 * the file nor the row remains (ENOENT: the recorder never created the
 * file); *idp (may be NULL) is written only on success.
 */
int store_msg_commit(struct store *st, struct store_pending *p,
    const struct store_msg_meta *m, int64_t *idp);
/* Drops the recording (too short, hung up before the beep); consumes p. */
void store_msg_abort(struct store *st, struct store_pending *p);

/* err: 0 or what store_msg_commit() would have returned; id: the new
 * message's id (0 on error). */
typedef void(store_commit_h)(int err, int64_t id, void *arg);
/* err: 0, with the pending message (the caller's now, to commit or abort)
 * and the path to record into (owned by p); or the error of
 * store_msg_begin() writing the sidecar, with p and path NULL. */
typedef void(store_begin_h)(
    int err, struct store_pending *p, const char *path, void *arg);

/*
 * Starts the commit thread for store_msg_commit_async(), with its own
 * database connection (WAL: the loop's connection keeps reading while it
 * writes; a write on the loop's waits for it under the busy timeout). Its
 * handlers are called from base's loop thread; base must outlive the store.
 * Idempotent with the same base. Errors: EINVAL (NULL, or another base),
 * ENOMEM, EIO (the second connection), the errnos of eventfd(2) and
 * pthread_create(3).
 */
int store_attach(struct store *st, struct event_base *base);
/*
 * store_msg_begin() with the sidecar written on the store's thread: the
 * mailbox is checked at once (ENOENT), m (may be NULL) is recorded in the
 * sidecar from the start (its strings copied), and h(err, p, path, arg)
 * is called once from the loop when the sidecar and its directory entry
 * are fsync'd: only then may the recorder create the file. Queued with
 * the commits, in order. Errors (h is not called): EINVAL, EPROTO (no
 * store_attach()), ENOENT, ENOMEM, EIO.
 */
int store_msg_begin_async(struct store *st, const char *mailbox,
    const struct store_msg_meta *m, store_begin_h *h, void *arg);
/*
 * store_msg_commit() on the commit thread, in the same crash-safe order:
 * m is merged into p before this returns (its strings are copied), then
 * the audio is fsync'd and renamed, the directory fsync'd and the row
 * committed off the loop, and h(err, id, arg) (h may be NULL) is called
 * once from the loop afterwards; p is consumed then. Commits run in the
 * order they are queued. Errors (h is not called, p is not consumed: the
 * caller may still commit or abort it): EINVAL, EPROTO (no store_attach()).
 */
int store_msg_commit_async(struct store *st, struct store_pending *p,
    const struct store_msg_meta *m, store_commit_h *h, void *arg);
/*
 * Waits for every queued commit and makes their handler calls before it
 * returns (handlers that queue more are waited for too). Blocks: for
 * shutdown, never from a handler. Nothing to do without store_attach().
 */
void store_drain(struct store *st);

/* New (unheard) and old (heard) message counts; ENOENT for no mailbox. */
int store_counts(
    struct store *st, const char *mailbox, unsigned *newp, unsigned *oldp);

struct store_msg {
	int64_t id;
	char mailbox[32];
	char caller_id[64];   /* truncated to fit, on a UTF-8 boundary */
	char caller_name[64]; /* truncated to fit, on a UTF-8 boundary */
	char reason[16];
	uint32_t duration_ms;
	int64_t received;
	bool heard;
	char path[PATH_MAX]; /* absolute WAV path */
};

/*
 * The mailbox's messages (only unheard ones if new_only), oldest first.
 * *msgs is one malloc'd array (free() it; NULL when *n is 0).
 */
int store_list(struct store *st, const char *mailbox, bool new_only,
    struct store_msg **msgs, size_t *n);
/* One message by id; ENOENT if there is none. */
int store_msg_get(struct store *st, int64_t id, struct store_msg *m);
/* Marks a message heard (idempotent); ENOENT if there is none. */
int store_mark_heard(struct store *st, int64_t id);
/* Deletes the row (committed), then the file; ENOENT if there is none. */
int store_delete(struct store *st, int64_t id);

/*
 * MWI bookkeeping per mailbox: the state last sent to the call manager
 * (-1 never, 0 off, 1 on) and whether a send is pending. Committing,
 * marking heard, deleting and recovery set pending themselves, in the same
 * transaction, whenever the mailbox's lamp state (new > 0) differs from
 * last_sent; the sender clears it with store_mwi_set(st, mbx, state, false)
 * once the call manager has accepted the NOTIFY.
 */
int store_mwi_get(
    struct store *st, const char *mailbox, int *last_sent, bool *pending);
int store_mwi_set(
    struct store *st, const char *mailbox, int sent_state, bool pending);

struct store_mailbox {
	char name[32];
	char owner_name[64];
	unsigned new_count;
	unsigned old_count;
	int mwi_sent; /* -1 never, 0 off, 1 on */
	bool mwi_pending;
};

/* All mailboxes by name with their counts; *list is malloc'd (free()). */
int store_mailboxes(struct store *st, struct store_mailbox **list, size_t *n);

#endif
