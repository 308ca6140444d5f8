/* A daemon's control socket: a 0600 unix socket answering one request line per connection. */
#include "core/ctl.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"

struct ctl {
	struct evconnlistener *l;
	struct event_base *base;
	char *path;
	ctl_h *h;
	void *arg;
};

void
buf_json_str(struct buf *b, const char *s)
{
	BUF_LIT(b, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			buf_append(b, e, 2);
		} else if (c < 0x20) {
			buf_printf(b, "\\u%04x", c);
		} else {
			buf_append(b, s, 1);
		}
	}
	BUF_LIT(b, "\"");
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_ANY);
	struct buf b;

	if (line == NULL) {
		if (evbuffer_get_length(in) > 256)
			bufferevent_free(bev);
		return;
	}
	buf_init(&b);
	c->h(line, &b, c->arg);
	free(line);
	if (b.err == 0)
		bufferevent_write(bev, b.p, b.len);
	buf_free(&b);
	/* One answer per connection: close once it is written. */
	bufferevent_disable(bev, EV_READ);
}

static void
ctl_write_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    !(bufferevent_get_enabled(bev) & EV_READ))
		bufferevent_free(bev);
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static void
ctl_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int len, void *arg)
{
	struct ctl *c = arg;
	struct bufferevent *bev;

	(void)l;
	(void)sa;
	(void)len;
	bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, ctl_read_cb, ctl_write_cb, ctl_event_cb, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int
ctl_listen(struct ctl **cp, struct event_base *base, const char *path, ctl_h *h,
    void *arg)
{
	struct sockaddr_un sun;
	struct ctl *c;
	int err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err("control_socket %s: path too long", path);
		return EINVAL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		free(c);
		return ENOMEM;
	}
	c->base = base;
	c->h = h;
	c->arg = arg;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	unlink(path);
	/* Only the owner may read the status (it names phones and peers). */
	mode_t old = umask(0077);
	c->l = evconnlistener_new_bind(base, ctl_accept_cb, c,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sun, sizeof(sun));
	err = errno;
	umask(old);
	if (c->l == NULL) {
		log_err("control_socket %s: %s", path, strerror(err));
		free(c->path);
		free(c);
		return err ? err : EINVAL;
	}
	*cp = c;
	return 0;
}

void
ctl_close(struct ctl *c)
{
	if (c == NULL)
		return;
	evconnlistener_free(c->l);
	unlink(c->path);
	free(c->path);
	free(c);
}

int
ctl_pidfile_write(const char *path, const char *who)
{
	FILE *pf = fopen(path, "w");
	int err;

	if (pf == NULL) {
		err = errno;
		log_err("%s: cannot write pid_file %s: %s", who, path,
		    strerror(err));
		return err;
	}
	fprintf(pf, "%ld\n", (long)getpid());
	return fclose(pf) == 0 ? 0 : EIO;
}
