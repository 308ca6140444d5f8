/* Log lines with a timestamp and level, written with one write(2) each, or
 * gathered per turn of an event loop (log_batch_start). */
#include "core/log.h"

#include <event2/event.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level cur_level = LOG_INFO;
static int log_fd = 2;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/*
 * Batching: lines written while the loop thread handles one turn of events
 * go out in one write(2) at the end of that turn (a zero timeout made active
 * by the first line), not one each: at thousands of calls a second the log
 * was several write(2) calls per call. Other threads, and lines longer than
 * what is left, flush what is gathered and write directly, so the order
 * holds. A crash loses at most the lines of the turn it happened in.
 */
static struct {
	pthread_mutex_t mu;
	struct event *ev; /* NULL: not batching */
	pthread_t loop;
	bool pending;
	size_t n;
	char buf[16384];
} lb = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void
lb_flush_locked(void)
{
	if (lb.n)
		(void)!write(log_fd, lb.buf, lb.n);
	lb.n = 0;
}

void
log_set_level(enum log_level lvl)
{
	cur_level = lvl;
}

enum log_level
log_get_level(void)
{
	return cur_level;
}

void
log_set_fd(int fd)
{
	pthread_mutex_lock(&lb.mu);
	lb_flush_locked();
	log_fd = fd;
	pthread_mutex_unlock(&lb.mu);
}

static void
lb_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	pthread_mutex_lock(&lb.mu);
	lb.pending = false;
	lb_flush_locked();
	pthread_mutex_unlock(&lb.mu);
}

int
log_batch_start(struct event_base *base)
{
	struct event *ev = event_new(base, -1, 0, lb_flush_cb, NULL);

	if (ev == NULL)
		return -1;
	pthread_mutex_lock(&lb.mu);
	lb_flush_locked();
	if (lb.ev)
		event_free(lb.ev);
	lb.ev = ev;
	lb.loop = pthread_self();
	lb.pending = false;
	pthread_mutex_unlock(&lb.mu);
	return 0;
}

void
log_batch_stop(void)
{
	pthread_mutex_lock(&lb.mu);
	lb_flush_locked();
	if (lb.ev)
		event_free(lb.ev);
	lb.ev = NULL;
	lb.pending = false;
	pthread_mutex_unlock(&lb.mu);
}

static void
log_write(const char *line, size_t n)
{
	pthread_mutex_lock(&lb.mu);
	if (lb.ev == NULL || !pthread_equal(pthread_self(), lb.loop) ||
	    n > sizeof(lb.buf) - lb.n) {
		lb_flush_locked();
		(void)!write(log_fd, line, n);
	} else {
		memcpy(lb.buf + lb.n, line, n);
		lb.n += n;
		if (!lb.pending) {
			lb.pending = true;
			event_active(lb.ev, EV_TIMEOUT, 0);
		}
	}
	pthread_mutex_unlock(&lb.mu);
}

/* "YYYY-MM-DDTHH:MM:SS" of the second of the last line, formatted once a
 * second rather than once a line. */
static _Thread_local struct {
	time_t sec;
	char text[32];
	size_t n;
} stamp = {.sec = -1};

static void
log_vmsg(enum log_level lvl, const char *suffix, const char *fmt, va_list ap)
{
	char line[2048];
	struct timespec ts;
	size_t n;
	int r;

	if (lvl > cur_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != stamp.sec) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		stamp.n = strftime(
		    stamp.text, sizeof(stamp.text), "%Y-%m-%dT%H:%M:%S", &tm);
		stamp.sec = ts.tv_sec;
	}
	memcpy(line, stamp.text, stamp.n);
	n = stamp.n;
	r = snprintf(line + n, sizeof(line) - n,
	    ".%03ldZ %s: ", ts.tv_nsec / 1000000L, level_names[lvl]);
	if (r > 0)
		n += (size_t)r;
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (suffix) {
		size_t sl = strlen(suffix);
		if (n + sl >= sizeof(line))
			sl = sizeof(line) - 1 - n;
		memcpy(line + n, suffix, sl);
		n += sl;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	log_write(line, n);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, NULL, fmt, ap);
	va_end(ap);
}

static void
log_print_plain(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, NULL, fmt, ap);
	va_end(ap);
}

void
log_openssl(enum log_level lvl, const char *what)
{
	char errs[1024];
	size_t n = 0;
	unsigned long e;

	errs[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];
		ERR_error_string_n(e, one, sizeof(one));
		int r = snprintf(
		    errs + n, sizeof(errs) - n, "%s%s", n ? "; " : "", one);
		if (r > 0 && (size_t)r < sizeof(errs) - n)
			n += (size_t)r;
	}
	log_print_plain(lvl, "%s: %s", what, n ? errs : "no OpenSSL detail");
}
