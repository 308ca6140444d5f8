/* Authentication failures per source address: logged once per source and interval in a form fail2ban-style tools read, and refused outright past a limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callmgr/cm.h"
#include "core/log.h"

#define AUTHFAIL_SLOTS    1024 /* sources remembered; the oldest is replaced */
#define AUTHFAIL_WINDOW_S 60   /* one log line per source and window */
#define AUTHFAIL_LIMIT    50   /* failures in a window before refusing */

struct authfail {
	struct sa src; /* address only, port 0 */
	time_t start;  /* the window's start (monotonic) */
	unsigned count;
	unsigned logged_at; /* count when last logged */
	bool used;
};

static struct authfail *
slot(struct callmgr *cm, const struct sa *peer, bool create)
{
	struct sa a = *peer;
	struct authfail *oldest = NULL;

	sa_set_port(&a, 0);
	if (cm->authfail == NULL) {
		if (!create)
			return NULL;
		cm->authfail = calloc(AUTHFAIL_SLOTS, sizeof(*cm->authfail));
		if (cm->authfail == NULL)
			return NULL;
	}
	for (size_t i = 0; i < AUTHFAIL_SLOTS; i++) {
		struct authfail *f = &cm->authfail[i];
		if (f->used && sa_eq(&f->src, &a))
			return f;
		if (!f->used || oldest == NULL ||
		    (oldest->used && f->start < oldest->start))
			oldest = f;
	}
	if (!create || oldest == NULL)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	oldest->used = true;
	oldest->src = a;
	return oldest;
}

void
cm_authfail_note(struct callmgr *cm, const struct sa *peer, const char *what,
    const char *user)
{
	struct authfail *f = slot(cm, peer, true);
	time_t now = cm_now();
	char ip[SA_FMT_MAX];

	if (f == NULL)
		return;
	if (f->count && now - f->start >= AUTHFAIL_WINDOW_S) {
		if (f->count > f->logged_at)
			log_warn("ngvoice: authentication failures from %s: %u "
			         "more in the last %d s",
			    sa_ntop(&f->src, ip, sizeof(ip)),
			    f->count - f->logged_at, AUTHFAIL_WINDOW_S);
		f->count = f->logged_at = 0;
	}
	if (f->count == 0)
		f->start = now;
	f->count++;
	if (f->logged_at == 0) {
		/* "authentication failure from <HOST>": a fail2ban pattern. */
		log_warn("ngvoice: authentication failure from %s: %s user "
		         "%s (further failures from it are counted, logged "
		         "once per %d s)",
		    sa_ntop(&f->src, ip, sizeof(ip)), what, user,
		    AUTHFAIL_WINDOW_S);
		f->logged_at = f->count;
	}
}

bool
cm_authfail_blocked(struct callmgr *cm, const struct sa *peer)
{
	struct authfail *f = slot(cm, peer, false);

	return f && f->count >= AUTHFAIL_LIMIT &&
	       cm_now() - f->start < AUTHFAIL_WINDOW_S;
}

void
cm_authfail_free(struct callmgr *cm)
{
	free(cm->authfail);
	cm->authfail = NULL;
}
