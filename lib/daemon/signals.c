/* A daemon's signals on its libevent loop: SIGHUP reloads, SIGTERM and SIGINT stop. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>

#include "core/log.h"
#include "daemon/daemon.h"

/* Shared by the three events, owned by them (freed with them). */
struct sig_ctx {
	struct event_base *base;
	const char *who;
	void (*reload_h)(void *arg);
	void *arg;
};

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct sig_ctx *sc = arg;

	(void)what;
	if (sig == SIGHUP) {
		sc->reload_h(sc->arg);
		return;
	}
	log_info("%s: stopping on signal %d", sc->who, (int)sig);
	event_base_loopbreak(sc->base);
}

int
daemon_signals_add(struct event_base *base, const char *who,
    void (*reload_h)(void *arg), void *arg, struct event **hup,
    struct event **term, struct event **intr)
{
	struct sig_ctx *sc = calloc(1, sizeof(*sc));

	*hup = *term = *intr = NULL;
	if (sc == NULL)
		return ENOMEM;
	sc->base = base;
	sc->who = who;
	sc->reload_h = reload_h;
	sc->arg = arg;
	*hup = evsignal_new(base, SIGHUP, signal_cb, sc);
	*term = evsignal_new(base, SIGTERM, signal_cb, sc);
	*intr = evsignal_new(base, SIGINT, signal_cb, sc);
	if (*hup == NULL || *term == NULL || *intr == NULL ||
	    event_add(*hup, NULL) || event_add(*term, NULL) ||
	    event_add(*intr, NULL)) {
		/* daemon_signals_free() finds the context through *hup. */
		if (*hup == NULL)
			free(sc);
		daemon_signals_free(hup, term, intr);
		return ENOMEM;
	}
	return 0;
}

void
daemon_signals_free(
    struct event **hup, struct event **term, struct event **intr)
{
	struct sig_ctx *sc = *hup ? event_get_callback_arg(*hup) : NULL;

	if (*hup)
		event_free(*hup);
	if (*term)
		event_free(*term);
	if (*intr)
		event_free(*intr);
	*hup = *term = *intr = NULL;
	free(sc);
}
