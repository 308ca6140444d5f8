/* The control socket: status of trunks, lines and calls as JSON for `ngvoice status`. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "callmgr/cm.h"
#include "core/buf.h"
#include "core/log.h"

/* Appends s as a JSON string. */
static void
json_str(struct buf *b, const char *s)
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
status_trunks(struct callmgr *cm, struct buf *b)
{
	time_t now = time(NULL);

	BUF_LIT(b, "\"trunks\":[");
	for (size_t i = 0; i < cm->ntrunks; i++) {
		const struct cm_trunk_rt *t = &cm->trunks[i];
		if (i)
			BUF_LIT(b, ",");
		BUF_LIT(b, "{\"name\":");
		json_str(b, t->cfg->name);
		BUF_LIT(b, ",\"status\":");
		json_str(b, cm_trunk_status_label(t->status));
		buf_printf(b, ",\"seconds_in_status\":%lld,\"transport\":",
		    (long long)(now - t->status_since));
		json_str(b, sip_proto_name(t->proto));
		BUF_LIT(b, ",\"destinations\":[");
		for (size_t j = 0; j < t->ndests; j++) {
			const struct cm_dest_rt *d = &t->dests[j];
			if (j)
				BUF_LIT(b, ",");
			BUF_LIT(b, "{\"host\":");
			json_str(b, d->dest->host);
			buf_printf(b, ",\"port\":%u,\"state\":", d->dest->port);
			json_str(b, d->state == CM_DEST_UP     ? "up"
			            : d->state == CM_DEST_DOWN ? "down"
			                                       : "unknown");
			buf_printf(b,
			    ",\"last_options_status\":%u,\"last_rtt_ms\":%.1f,"
			    "\"last_error\":",
			    d->last_status, d->last_rtt_ms);
			json_str(b, d->last_error);
			BUF_LIT(b, "}");
		}
		BUF_LIT(b, "]}");
	}
	BUF_LIT(b, "]");
}

static void
status_lines(struct callmgr *cm, struct buf *b)
{
	time_t now = cm_now();

	BUF_LIT(b, "\"lines\":[");
	for (size_t i = 0; i < cm->nlines; i++) {
		const struct cm_line *l = &cm->lines[i];
		if (i)
			BUF_LIT(b, ",");
		BUF_LIT(b, "{\"number\":");
		json_str(b, l->dn->number);
		BUF_LIT(b, ",\"security_mode\":");
		json_str(
		    b, cm_security_mode_label(l->dn->device_security_mode));
		buf_printf(b, ",\"mwi\":%s,\"contacts\":[",
		    l->mwi_on ? "true" : "false");
		size_t k = 0;
		for (const struct list *p = l->bindings.next; p != &l->bindings;
		     p = p->next, k++) {
			const struct cm_binding *bd =
			    container_of(p, struct cm_binding, le);
			char src[SA_FMT_MAX];
			if (k)
				BUF_LIT(b, ",");
			BUF_LIT(b, "{\"uri\":");
			json_str(b, bd->uri);
			BUF_LIT(b, ",\"transport\":");
			json_str(b, sip_proto_name(bd->proto));
			BUF_LIT(b, ",\"source\":");
			json_str(b, sa_fmt(&bd->src, src, sizeof(src)));
			buf_printf(b, ",\"expires_in\":%lld,\"user_agent\":",
			    (long long)(bd->expires_at - now));
			json_str(b, bd->user_agent ? bd->user_agent : "");
			BUF_LIT(b, "}");
		}
		BUF_LIT(b, "]}");
	}
	BUF_LIT(b, "]");
}

static void
status_calls(struct callmgr *cm, struct buf *b)
{
	BUF_LIT(b, "\"calls\":");
	cm_calls_json(cm, b);
}

/* "Time In Full Service: 0 day 0 hour 3 minute", as the guide's trunk list. */
static void
text_trunks(struct callmgr *cm, struct buf *b)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < cm->ntrunks; i++) {
		const struct cm_trunk_rt *t = &cm->trunks[i];
		long long s = (long long)(now - t->status_since);
		const char *label = cm_trunk_status_label(t->status);
		buf_printf(b, "trunk %s (%s): %s", t->cfg->name,
		    sip_proto_name(t->proto), label);
		if (t->status != CM_TRUNK_UNKNOWN_NO_PING)
			buf_printf(b,
			    ", Time In %s: %lld day %lld hour %lld minute",
			    label, s / 86400, s % 86400 / 3600, s % 3600 / 60);
		BUF_LIT(b, "\n");
		for (size_t j = 0; j < t->ndests; j++) {
			const struct cm_dest_rt *d = &t->dests[j];
			buf_printf(b, "  destination %s:%u %s", d->dest->host,
			    d->dest->port,
			    d->state == CM_DEST_UP     ? "up"
			    : d->state == CM_DEST_DOWN ? "down"
			                               : "unknown");
			if (d->last_status)
				buf_printf(b, ", OPTIONS %u in %.0f ms",
				    d->last_status, d->last_rtt_ms);
			else if (d->last_error[0])
				buf_printf(b, ", %s", d->last_error);
			BUF_LIT(b, "\n");
		}
	}
}

static void
text_lines(struct callmgr *cm, struct buf *b)
{
	time_t now = cm_now();

	for (size_t i = 0; i < cm->nlines; i++) {
		const struct cm_line *l = &cm->lines[i];
		size_t n = list_count(&l->bindings);
		buf_printf(b, "line %s (%s): %s%s\n", l->dn->number,
		    cm_security_mode_label(l->dn->device_security_mode),
		    n ? "registered" : "not registered",
		    l->mwi_on ? ", message waiting" : "");
		for (const struct list *p = l->bindings.next; p != &l->bindings;
		     p = p->next) {
			const struct cm_binding *bd =
			    container_of(p, struct cm_binding, le);
			char src[SA_FMT_MAX];
			buf_printf(b,
			    "  %s over %s from %s, expires in %lld s\n",
			    bd->uri, sip_proto_name(bd->proto),
			    sa_fmt(&bd->src, src, sizeof(src)),
			    (long long)(bd->expires_at - now));
		}
	}
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct callmgr *cm = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_ANY);
	struct buf b;

	if (line == NULL) {
		if (evbuffer_get_length(in) > 256)
			bufferevent_free(bev);
		return;
	}
	buf_init(&b);
	if (strncmp(line, "text ", 5) == 0) {
		const char *w = line + 5;
		bool every = strcmp(w, "all") == 0;
		if (every || strcmp(w, "trunks") == 0)
			text_trunks(cm, &b);
		if (every || strcmp(w, "lines") == 0)
			text_lines(cm, &b);
		if (every || strcmp(w, "calls") == 0) {
			cm_calls_json(cm, &b);
			BUF_LIT(&b, "\n");
		}
		goto send;
	}
	BUF_LIT(&b, "{");
	bool all = line[0] == '\0' || strcmp(line, "all") == 0;
	bool any = false;
	if (all || strcmp(line, "trunks") == 0) {
		status_trunks(cm, &b);
		any = true;
	}
	if (all || strcmp(line, "lines") == 0) {
		if (any)
			BUF_LIT(&b, ",");
		status_lines(cm, &b);
		any = true;
	}
	if (all || strcmp(line, "calls") == 0) {
		if (any)
			BUF_LIT(&b, ",");
		status_calls(cm, &b);
		any = true;
	}
	if (!any) {
		BUF_LIT(&b, "\"error\":");
		json_str(
		    &b, "unknown request: use trunks, lines, calls or all");
	}
	BUF_LIT(&b, "}\n");
send:
	free(line);
	if (b.err == 0)
		bufferevent_write(bev, b.p, b.len);
	buf_free(&b);
	/* one answer per connection: close once it is written */
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
	struct callmgr *cm = arg;
	struct bufferevent *bev;

	(void)l;
	(void)sa;
	(void)len;
	bev = bufferevent_socket_new(cm->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, ctl_read_cb, ctl_write_cb, ctl_event_cb, cm);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int
cm_control_start(struct callmgr *cm)
{
	const char *path = cm->cfg->enterprise.control_socket;
	struct sockaddr_un sun;

	if (path == NULL)
		return 0;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err("control_socket %s: path too long", path);
		return EINVAL;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	unlink(path);
	/* Only the owner may read the status (it names phones and peers). */
	mode_t old = umask(0077);
	cm->control = evconnlistener_new_bind(cm->base, ctl_accept_cb, cm,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (cm->control == NULL) {
		log_err("control_socket %s: %s", path, strerror(errno));
		return errno ? errno : EINVAL;
	}
	return 0;
}

void
cm_control_stop(struct callmgr *cm)
{
	if (cm->control) {
		evconnlistener_free(cm->control);
		cm->control = NULL;
		unlink(cm->cfg->enterprise.control_socket);
	}
}
