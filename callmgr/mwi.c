/* MWI relay: unsolicited NOTIFY (message-summary) from a trunk to the registered phones of a line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callmgr/cm.h"
#include "core/log.h"
#include "sip/dialog.h"
#include "sip/enc.h"

static void
notify_done_h(int err, const struct sip_msg *resp, void *arg)
{
	(void)arg;
	if (err || resp->scode >= 300)
		log_info("mwi: a phone did not take the NOTIFY (%s)",
		    err ? strerror(err) : "refused");
}

/* Sends the line's state to one registered contact (SIP Line Messaging). */
static void
notify_binding(struct callmgr *cm, struct cm_line *l, struct cm_binding *b)
{
	char branch[32], tag[16], callid[40], via[64], from[200], to[200];
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	struct sa la;
	struct buf body, req;

	cm_local_addr(cm, b->proto, sa_family(&b->src), &la, via, sizeof(via));
	sip_branch_new(branch);
	sip_token_new(tag, sizeof(tag));
	sip_token_new(callid, sizeof(callid));
	snprintf(from, sizeof(from), "<sip:%s@%s>;tag=%s", l->dn->number,
	    cm->cfg->enterprise.host_name, tag);
	snprintf(to, sizeof(to), "<sip:%s@%s>", l->dn->number,
	    cm->cfg->enterprise.host_name);
	buf_init(&body);
	buf_printf(&body,
	    "Messages-Waiting: %s\r\nMessage-Account: sip:%s@%s\r\n",
	    l->mwi_on ? "yes" : "no", l->dn->number,
	    cm->cfg->enterprise.host_name);
	if (l->mwi_counts[0])
		buf_printf(&body, "Voice-Message: %s\r\n", l->mwi_counts);
	memset(&sp, 0, sizeof(sp));
	sp.method = "NOTIFY";
	sp.ruri = slice_cstr(b->uri);
	sp.proto = b->proto;
	sp.via_host = slice_cstr(via);
	sp.via_port = sa_port(&la);
	sp.branch = branch;
	sp.from = slice_cstr(from);
	sp.to = slice_cstr(to);
	sp.callid = slice_cstr(callid);
	sp.cseq = 1;
	sp.extra = SLICE_LIT("Event: message-summary\r\n"
	                     "Subscription-State: active\r\n");
	sp.ctype = SLICE_LIT("application/simple-message-summary");
	sp.body = buf_slice(&body);
	buf_init(&req);
	if (body.err == 0 && sip_req_build(&req, &sp) == 0)
		sip_ctrans_request(&ct, cm->stack, b->proto, &b->src, NULL,
		    b->conn, req.p, req.len, notify_done_h, NULL);
	buf_free(&req);
	buf_free(&body);
}

void
cm_mwi_notify_line(
    struct callmgr *cm, struct cm_line *l, struct cm_binding *only)
{
	struct list *pos;

	if (only) {
		notify_binding(cm, l, only);
		return;
	}
	for (pos = l->bindings.next; pos != &l->bindings; pos = pos->next)
		notify_binding(cm, l, container_of(pos, struct cm_binding, le));
}

/* Parses "Messages-Waiting: yes" (RFC 3842) and the voice counts line. */
static int
parse_summary(struct slice body, bool *on, char *counts, size_t sz)
{
	const char *p = body.p, *end = body.p + body.n;
	bool have = false;

	counts[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct slice line =
		    slice_trim(slice_make(p, (size_t)((nl ? nl : end) - p)));
		ptrdiff_t colon = slice_chr(line, ':');
		if (colon > 0) {
			struct slice k =
			    slice_trim(slice_make(line.p, (size_t)colon));
			struct slice v = slice_trim(slice_make(
			    line.p + colon + 1, line.n - (size_t)colon - 1));
			if (slice_caseeq_cstr(k, "Messages-Waiting")) {
				if (slice_caseeq_cstr(v, "yes"))
					*on = true;
				else if (slice_caseeq_cstr(v, "no"))
					*on = false;
				else
					return EBADMSG;
				have = true;
			} else if (slice_caseeq_cstr(k, "Voice-Message")) {
				slice_strlcpy(counts, sz, v);
			}
		}
		p = nl ? nl + 1 : end;
	}
	return have ? 0 : EBADMSG;
}

/*
 * An out-of-dialog NOTIFY. Accepted only from a trunk whose security
 * profile has "Accept Unsolicited Notification"; the target line is the
 * Request-URI's user. Answered 200 even when no phone is registered: the
 * state is kept and sent at the next registration.
 */
void
cm_mwi_request(struct callmgr *cm, const struct sip_msg *m,
    const struct sip_rx *rx, const struct cm_trunk_rt *trunk)
{
	struct sip_strans *st;
	struct sip_event ev;
	char number[64], counts[64], a[SA_FMT_MAX];
	struct cm_line *l;
	bool on = false;
	const struct sip_hdr *eh = sip_msg_hdr(m, SIP_HDR_EVENT);

	if (sip_strans_alloc(&st, cm->stack, m, rx, NULL, NULL) != 0)
		return;
	sa_fmt(&rx->peer, a, sizeof(a));
	if (trunk == NULL) {
		log_warn("mwi: NOTIFY from %s refused: not from a trunk", a);
		sip_strans_reply(st, 403, "Unsolicited NOTIFY only from trunks",
		    SLICE_LIT("mwi"), SLICE_NULL, SLICE_NULL, SLICE_NULL);
		return;
	}
	if (!trunk->cfg->profile->accept_unsolicited_notification) {
		log_warn("mwi: NOTIFY on trunk %s refused: its security "
		         "profile %s does not accept unsolicited notification",
		    trunk->cfg->name, trunk->cfg->profile->name);
		sip_strans_reply(st, 403,
		    "Unsolicited notification not accepted on this trunk",
		    SLICE_LIT("mwi"), SLICE_NULL, SLICE_NULL, SLICE_NULL);
		return;
	}
	if (eh == NULL || sip_event_parse(&ev, eh->val) != 0 ||
	    !slice_caseeq_cstr(ev.package, "message-summary")) {
		sip_strans_reply(st, 489, NULL, SLICE_LIT("mwi"),
		    SLICE_LIT("Allow-Events: message-summary\r\n"), SLICE_NULL,
		    SLICE_NULL);
		return;
	}
	if (sip_unescape(m->ruri.user, number, sizeof(number), NULL) != 0 ||
	    (l = cm_line_find(cm, number)) == NULL) {
		sip_strans_reply(st, 404, "No such directory number",
		    SLICE_LIT("mwi"), SLICE_NULL, SLICE_NULL, SLICE_NULL);
		return;
	}
	if (parse_summary(m->body, &on, counts, sizeof(counts)) != 0) {
		sip_strans_reply(st, 400, "Bad message-summary body",
		    SLICE_LIT("mwi"), SLICE_NULL, SLICE_NULL, SLICE_NULL);
		return;
	}
	l->mwi_on = on;
	snprintf(l->mwi_counts, sizeof(l->mwi_counts), "%s", counts);
	sip_strans_reply(st, 200, NULL, SLICE_LIT("mwi"), SLICE_NULL,
	    SLICE_NULL, SLICE_NULL);
	log_info("mwi: line %s lamp %s (from trunk %s), %zu phone(s)", number,
	    on ? "on" : "off", trunk->cfg->name, list_count(&l->bindings));
	cm_mwi_notify_line(cm, l, NULL);
}
