/* A daemon's control socket: a 0600 unix socket answering one request line per connection (ngvoice status, reset). */
#ifndef NGV_CORE_CTL_H
#define NGV_CORE_CTL_H

#include "core/buf.h"

struct event_base;
struct ctl;

/* Answers one request line (without its end of line) into out. */
typedef void(ctl_h)(const char *line, struct buf *out, void *arg);

/*
 * Listens on path (replacing a stale socket file), readable only by the
 * owner. Returns 0, EINVAL (path too long) or an errno of bind(2).
 */
int ctl_listen(struct ctl **cp, struct event_base *base, const char *path,
    ctl_h *h, void *arg);
/* Stops listening and removes the socket file. NULL is fine. */
void ctl_close(struct ctl *c);

/*
 * Writes this process's id to path (for `ngvoice reload`). Returns 0, or an
 * errno value after logging "WHO: cannot write pid_file PATH: why".
 */
int ctl_pidfile_write(const char *path, const char *who);

/* Appends s as a JSON string (quoted, escaped). */
void buf_json_str(struct buf *b, const char *s);

#endif
