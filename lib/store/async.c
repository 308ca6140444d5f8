/* The store's thread: message begins and commits (fsyncs, rename, SQLite COMMIT) off the event loop. */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "store/store_int.h"

/*
 * A commit fsyncs the audio, the directory and the WAL (synchronous=FULL),
 * a begin the sidecar and the directory: milliseconds each on a real disk,
 * during which a loop that paces RTP for every call would send nothing.
 * So the loop queues the pending message here; one thread runs the jobs in
 * queue order through a connection of its own (a SQLite connection is
 * used by one thread at a time), and the loop learns of each end through
 * an eventfd, the way the recordings' writer of lib/media/stream.c reports
 * closed files.
 */
struct store_async {
	struct store *db;        /* the thread's connection; owned */
	struct event_base *base; /* borrowed */
	struct event *ev;        /* efd readable: commits are done */
	int efd;
	pthread_t thr;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* the thread: work or quit */
	pthread_cond_t cv_idle; /* store_drain(): the queue is empty */
	/* Under mu: */
	bool quit, busy;
	struct list todo, done; /* struct store_pending */
};

static void *
async_main(void *arg)
{
	struct store_async *as = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&as->mu);
	for (;;) {
		struct store_pending *p;

		while (list_empty(&as->todo) && !as->quit)
			pthread_cond_wait(&as->cv, &as->mu);
		if (list_empty(&as->todo))
			break;
		p = container_of(as->todo.next, struct store_pending, le);
		list_del(&p->le);
		as->busy = true;
		pthread_mutex_unlock(&as->mu);
		if (p->begin)
			p->err = store_begin_run(as->db, p);
		else
			p->err = store_commit_run(as->db, p, &p->id);
		pthread_mutex_lock(&as->mu);
		as->busy = false;
		list_add_tail(&as->done, &p->le);
		if (write(as->efd, &one, sizeof(one)) < 0) {
			/* The counter is non-zero: the loop will look. */
		}
		if (list_empty(&as->todo))
			pthread_cond_broadcast(&as->cv_idle);
	}
	pthread_mutex_unlock(&as->mu);
	return NULL;
}

/* The loop side: the handler calls of the commits done so far. Returns how
 * many were made. */
static size_t
async_deliver(struct store_async *as)
{
	struct list done, *le, *tmp;
	uint64_t cnt;
	size_t n = 0;

	if (read(as->efd, &cnt, sizeof(cnt)) < 0) {
		/* Nothing to read: fine, the list says what is done. */
	}
	list_init(&done);
	pthread_mutex_lock(&as->mu);
	if (!list_empty(&as->done)) {
		done.next = as->done.next;
		done.prev = as->done.prev;
		done.next->prev = &done;
		done.prev->next = &done;
		list_init(&as->done);
	}
	pthread_mutex_unlock(&as->mu);
	list_for_each_safe(le, tmp, &done)
	{
		struct store_pending *p =
		    container_of(le, struct store_pending, le);

		list_del(&p->le);
		n++;
		if (p->begin) {
			/* Begun: p is the caller's from here on. */
			p->begin = false;
			if (p->err == 0) {
				p->bh(0, p, p->part, p->arg);
				continue;
			}
			p->bh(p->err, NULL, NULL, p->arg);
		} else if (p->h != NULL) {
			p->h(p->err, p->err == 0 ? p->id : 0, p->arg);
		}
		free(p);
	}
	return n;
}

static void
async_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	async_deliver(arg);
}

/* Undoes store_attach() as far as it got; the queues must be empty. */
static void
async_free(struct store_async *as)
{
	if (as == NULL)
		return;
	if (as->running) {
		pthread_mutex_lock(&as->mu);
		as->quit = true;
		pthread_cond_signal(&as->cv);
		pthread_mutex_unlock(&as->mu);
		pthread_join(as->thr, NULL);
	}
	if (as->ev != NULL)
		event_free(as->ev);
	if (as->efd >= 0)
		close(as->efd);
	store_close(as->db);
	pthread_mutex_destroy(&as->mu);
	pthread_cond_destroy(&as->cv);
	pthread_cond_destroy(&as->cv_idle);
	free(as);
}

int
store_attach(struct store *st, struct event_base *base)
{
	struct store_async *as;
	char err[512];
	int e = ENOMEM;

	if (st == NULL || base == NULL)
		return EINVAL;
	if (st->as != NULL)
		return st->as->base == base ? 0 : EINVAL;
	if (!sqlite3_threadsafe()) {
		log_err("store %s: SQLite was built without thread support;"
		        " no commit thread",
		    st->dbpath);
		return EIO;
	}
	as = calloc(1, sizeof(*as));
	if (as == NULL)
		return ENOMEM;
	as->base = base;
	as->efd = -1;
	list_init(&as->todo);
	list_init(&as->done);
	pthread_mutex_init(&as->mu, NULL);
	pthread_cond_init(&as->cv, NULL);
	pthread_cond_init(&as->cv_idle, NULL);
	as->db = calloc(1, sizeof(*as->db));
	if (as->db == NULL)
		goto out;
	/* The same database and files; the lock stays with st. */
	memcpy(as->db->dir, st->dir, sizeof(st->dir));
	memcpy(as->db->dbpath, st->dbpath, sizeof(st->dbpath));
	memcpy(as->db->msgdir, st->msgdir, sizeof(st->msgdir));
	as->db->lockfd = -1;
	if ((e = store_db_connect(as->db, err, sizeof(err))) != 0 ||
	    (e = store_db_prepare(as->db, err, sizeof(err))) != 0) {
		log_err("store: no commit thread: %s", err);
		goto out;
	}
	as->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (as->efd < 0) {
		e = errno;
		goto out;
	}
	e = ENOMEM;
	as->ev = event_new(base, as->efd, EV_READ | EV_PERSIST, async_cb, as);
	if (as->ev == NULL || event_add(as->ev, NULL) != 0)
		goto out;
	if ((e = pthread_create(&as->thr, NULL, async_main, as)) != 0)
		goto out;
	as->running = true;
	st->as = as;
	return 0;
out:
	async_free(as);
	return e;
}

/* Hands p to the thread. */
static void
async_queue(struct store_async *as, struct store_pending *p)
{
	p->err = 0;
	p->id = 0;
	pthread_mutex_lock(&as->mu);
	list_add_tail(&as->todo, &p->le);
	pthread_cond_signal(&as->cv);
	pthread_mutex_unlock(&as->mu);
}

int
store_msg_begin_async(struct store *st, const char *mailbox,
    const struct store_msg_meta *m, store_begin_h *h, void *arg)
{
	struct store_pending *p;
	int e;

	if (st == NULL || h == NULL)
		return EINVAL;
	if (st->as == NULL)
		return EPROTO;
	if ((e = store_pending_new(st, mailbox, m, &p)) != 0)
		return e;
	p->begin = true;
	p->bh = h;
	p->arg = arg;
	async_queue(st->as, p);
	return 0;
}

int
store_msg_commit_async(struct store *st, struct store_pending *p,
    const struct store_msg_meta *m, store_commit_h *h, void *arg)
{
	struct store_async *as;

	if (st == NULL || p == NULL)
		return EINVAL;
	if ((as = st->as) == NULL)
		return EPROTO;
	/* m's strings are the caller's: copied into p now. */
	store_pending_meta(p, m);
	p->begin = false;
	p->h = h;
	p->arg = arg;
	async_queue(as, p);
	return 0;
}

void
store_drain(struct store *st)
{
	struct store_async *as;

	if (st == NULL || (as = st->as) == NULL)
		return;
	/* Handlers may queue more commits: wait again until a round makes
	 * no call (then nothing new can have been queued). */
	do {
		pthread_mutex_lock(&as->mu);
		while (!list_empty(&as->todo) || as->busy)
			pthread_cond_wait(&as->cv_idle, &as->mu);
		pthread_mutex_unlock(&as->mu);
	} while (async_deliver(as) > 0);
}

void
store_async_stop(struct store *st)
{
	if (st == NULL || st->as == NULL)
		return;
	/* No message is lost at shutdown: the queue is committed first. */
	store_drain(st);
	async_free(st->as);
	st->as = NULL;
}
