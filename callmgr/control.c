/* The control socket: status of trunks, lines and calls as JSON for `ngvoice status`. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "callmgr/cm.h"
#include "core/buf.h"
#include "core/ctl.h"
#include "core/log.h"

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
		buf_json_str(b, t->cfg->name);
		BUF_LIT(b, ",\"status\":");
		buf_json_str(b, cm_trunk_status_label(t->status));
		buf_printf(b, ",\"seconds_in_status\":%lld,\"transport\":",
		    (long long)(now - t->status_since));
		buf_json_str(b, sip_proto_name(t->proto));
		BUF_LIT(b, ",\"destinations\":[");
		for (size_t j = 0; j < t->ndests; j++) {
			const struct cm_dest_rt *d = &t->dests[j];
			if (j)
				BUF_LIT(b, ",");
			BUF_LIT(b, "{\"host\":");
			buf_json_str(b, d->dest->host);
			buf_printf(b, ",\"port\":%u,\"state\":", d->dest->port);
			buf_json_str(b, d->state == CM_DEST_UP     ? "up"
			                : d->state == CM_DEST_DOWN ? "down"
			                                           : "unknown");
			buf_printf(b,
			    ",\"last_options_status\":%u,\"last_rtt_ms\":%.1f,"
			    "\"last_error\":",
			    d->last_status, d->last_rtt_ms);
			buf_json_str(b, d->last_error);
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
		buf_json_str(b, l->dn->number);
		BUF_LIT(b, ",\"security_mode\":");
		buf_json_str(
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
			buf_json_str(b, bd->uri);
			BUF_LIT(b, ",\"transport\":");
			buf_json_str(b, sip_proto_name(bd->proto));
			BUF_LIT(b, ",\"source\":");
			buf_json_str(b, sa_fmt(&bd->src, src, sizeof(src)));
			buf_printf(b, ",\"expires_in\":%lld,\"user_agent\":",
			    (long long)(bd->expires_at - now));
			buf_json_str(b, bd->user_agent ? bd->user_agent : "");
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
ctl_request_h(const char *line, struct buf *out, void *arg)
{
	struct callmgr *cm = arg;
	if (strncmp(line, "text ", 5) == 0) {
		const char *w = line + 5;
		bool every = strcmp(w, "all") == 0;
		if (every || strcmp(w, "trunks") == 0)
			text_trunks(cm, out);
		if (every || strcmp(w, "lines") == 0)
			text_lines(cm, out);
		if (every || strcmp(w, "calls") == 0) {
			cm_calls_json(cm, out);
			BUF_LIT(out, "\n");
		}
		return;
	}
	BUF_LIT(out, "{");
	bool all = line[0] == '\0' || strcmp(line, "all") == 0;
	bool any = false;
	if (all || strcmp(line, "trunks") == 0) {
		status_trunks(cm, out);
		any = true;
	}
	if (all || strcmp(line, "lines") == 0) {
		if (any)
			BUF_LIT(out, ",");
		status_lines(cm, out);
		any = true;
	}
	if (all || strcmp(line, "calls") == 0) {
		if (any)
			BUF_LIT(out, ",");
		status_calls(cm, out);
		any = true;
	}
	if (!any) {
		BUF_LIT(out, "\"error\":");
		buf_json_str(
		    out, "unknown request: use trunks, lines, calls or all");
	}
	BUF_LIT(out, "}\n");
}

int
cm_control_start(struct callmgr *cm)
{
	const char *path = cm->cfg->enterprise.control_socket;

	if (path == NULL)
		return 0;
	return ctl_listen(&cm->control, cm->base, path, ctl_request_h, cm);
}

void
cm_control_stop(struct callmgr *cm)
{
	ctl_close(cm->control);
	cm->control = NULL;
}
