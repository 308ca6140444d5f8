/* What the two daemons share around their loop: the command line that runs them, their signals. */
#ifndef NGV_DAEMON_DAEMON_H
#define NGV_DAEMON_DAEMON_H

#include <stdio.h>

struct conf_err;
struct event;
struct event_base;

/* One daemon as `ngvoice NAME` runs it; the functions are the daemon's. */
struct daemon_cli {
	const char *name; /* "callmanager": in messages and log lines */
	void (*usage)(FILE *f);
	/* --check: validates config, prints the verdict, returns 0 or 1. */
	int (*check)(const char *config);
	/* The loop to run on (the media loop wants its own kind). */
	struct event_base *(*base_new)(void);
	/* Reads config: 0 with *dp, or an error with err filled. */
	int (*alloc)(void **dp, struct event_base *base, const char *config,
	    struct conf_err *err);
	int (*start)(void *d); /* 0, or an errno value */
	void (*free)(void *d);
};

/*
 * `ngvoice NAME --config FILE [--check] [--debug]`: parses the arguments,
 * then checks the file, or runs the daemon until a signal breaks its loop.
 * Returns the exit status: 0, 1 (not valid, not started) or 2 (usage).
 */
int daemon_main(const struct daemon_cli *dc, int argc, char **argv);

/* An event loop for a daemon: epoll's change list on (no dup'd file
 * descriptors here, the one case it mishandles). NULL when out of memory. */
struct event_base *daemon_event_base_new(void);

/*
 * Adds a daemon's signal events to base: SIGHUP calls reload_h(arg);
 * SIGTERM and SIGINT log "WHO: stopping on signal N" and break the loop.
 * who is borrowed (a string literal). The events share one context that
 * daemon_signals_free() releases. Returns 0 with the three events, or
 * ENOMEM with all three NULL and nothing left behind.
 */
int daemon_signals_add(struct event_base *base, const char *who,
    void (*reload_h)(void *arg), void *arg, struct event **hup,
    struct event **term, struct event **intr);

/* Frees what daemon_signals_add() made and sets the pointers NULL; NULLs are fine. */
void daemon_signals_free(
    struct event **hup, struct event **term, struct event **intr);

#endif
