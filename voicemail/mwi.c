/* MWI: unsolicited NOTIFY (message-summary) to the call manager when a mailbox's lamp state changes, retried until accepted. */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sip/auth.h"
#include "sip/dialog.h"
#include "sip/enc.h"
#include "store/store.h"
#include "voicemail/vm.h"

#define MWI_RETRY_S    15 /* pending notifications are retried this often */
#define MWI_MAX_FLIGHT 256

/* One NOTIFY in flight. */
struct mwi_tx {
	struct voicemail *vm;
	struct vm_group_rt *g;
	char mbx[32];
	int state;
	unsigned nnew, nold;
	char callid[40];
	char ftag[16];
	uint32_t cseq;
	bool authed;
};

static struct mwi_tx *inflight[MWI_MAX_FLIGHT];

static bool
busy(const char *mbx)
{
	for (size_t i = 0; i < MWI_MAX_FLIGHT; i++) {
		if (inflight[i] && strcmp(inflight[i]->mbx, mbx) == 0)
			return true;
	}
	return false;
}

static bool
track(struct mwi_tx *t, bool on)
{
	for (size_t i = 0; i < MWI_MAX_FLIGHT; i++) {
		if (on && inflight[i] == NULL) {
			inflight[i] = t;
			return true;
		}
		if (!on && inflight[i] == t) {
			inflight[i] = NULL;
			return true;
		}
	}
	return false;
}

/* The port group that sends MWI: its ports have "Send MWI Requests". */
static struct vm_group_rt *
mwi_group(struct voicemail *vm)
{
	for (size_t i = 0; i < vm->ngroups; i++) {
		const struct vm_ports *p = vm->groups[i].cfg->ports;
		if (p && p->enabled && p->send_mwi_requests &&
		    vm->groups[i].nservers)
			return &vm->groups[i];
	}
	return NULL;
}

static void resp_h(int err, const struct sip_msg *resp, void *arg);

static int
send_notify(struct mwi_tx *t, const struct sip_msg *challenge)
{
	struct voicemail *vm = t->vm;
	struct vm_group_rt *g = t->g;
	const struct vm_server_rt *srv = &g->servers[0];
	char ruri[200], from[260], to[200], via[64], branch[32];
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	struct buf body, extra, req;
	struct sa dst, la;
	int err;

	if (sa_resolve(&dst, srv->host,
	        g->proto == SIP_PROTO_TLS ? srv->tls_port : srv->port, 0) != 0)
		return ENOENT;
	vm_local_addr(vm, g->proto, sa_family(&dst), &la, via, sizeof(via));
	snprintf(ruri, sizeof(ruri), "sip:%s@%s", t->mbx, srv->host);
	snprintf(from, sizeof(from), "<sip:%s@%s>;tag=%s",
	    g->cfg->contact_line_name ? g->cfg->contact_line_name : "voicemail",
	    vm->cfg->general.host_name, t->ftag);
	snprintf(to, sizeof(to), "<sip:%s@%s>", t->mbx, srv->host);
	sip_branch_new(branch);
	buf_init(&body);
	buf_init(&extra);
	buf_init(&req);
	buf_printf(&body,
	    "Messages-Waiting: %s\r\nMessage-Account: sip:%s@%s\r\n"
	    "Voice-Message: %u/%u (0/0)\r\n",
	    t->state ? "yes" : "no", t->mbx, vm->cfg->general.host_name,
	    t->nnew, t->nold);
	BUF_LIT(&extra, "Event: message-summary\r\n"
	                "Subscription-State: terminated;reason=timeout\r\n");
	if (challenge) {
		/* Authenticate with SIP Server (the port group's account). */
		const struct sip_hdr *h = sip_msg_hdr(challenge,
		    challenge->scode == 407 ? SIP_HDR_PROXY_AUTHENTICATE
		                            : SIP_HDR_WWW_AUTHENTICATE);
		struct sip_auth_params ap;
		if (h == NULL || sip_auth_parse(&ap, h->val) != 0) {
			err = EPROTO;
			goto out;
		}
		buf_append_str(&extra, challenge->scode == 407
		                           ? "Proxy-Authorization: "
		                           : "Authorization: ");
		if ((err = sip_auth_respond(&extra, &ap, SLICE_LIT("NOTIFY"),
		         slice_cstr(ruri), g->cfg->authentication_user_name,
		         g->cfg->authentication_password, 1, NULL)) != 0)
			goto out;
		BUF_LIT(&extra, "\r\n");
	}
	memset(&sp, 0, sizeof(sp));
	sp.method = "NOTIFY";
	sp.ruri = slice_cstr(ruri);
	sp.proto = g->proto;
	sp.via_host = slice_cstr(via);
	sp.via_port = sa_port(&la);
	sp.branch = branch;
	sp.from = slice_cstr(from);
	sp.to = slice_cstr(to);
	sp.callid = slice_cstr(t->callid);
	sp.cseq = ++t->cseq;
	sp.extra = buf_slice(&extra);
	sp.ctype = SLICE_LIT("application/simple-message-summary");
	sp.body = buf_slice(&body);
	if (body.err || extra.err || sip_req_build(&req, &sp) != 0) {
		err = ENOMEM;
		goto out;
	}
	err = sip_ctrans_request(&ct, vm->stack, g->proto, &dst,
	    g->proto == SIP_PROTO_TLS && !conf_is_ipv4(srv->host) &&
	            !conf_is_ipv6(srv->host)
	        ? srv->host
	        : NULL,
	    NULL, req.p, req.len, resp_h, t);
out:
	buf_free(&body);
	buf_free(&extra);
	buf_free(&req);
	return err;
}

static void
tx_done(struct mwi_tx *t)
{
	track(t, false);
	free(t);
}

static void
resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct mwi_tx *t = arg;
	struct voicemail *vm = t->vm;
	char mbx[32];

	if (!err && resp->scode < 200)
		return;
	if (!err && (resp->scode == 401 || resp->scode == 407) && !t->authed &&
	    t->g->cfg->authenticate_with_sip_server) {
		t->authed = true;
		int aerr = send_notify(t, resp);
		if (aerr == 0)
			return;
		log_warn("mwi: mailbox %s: cannot answer the digest challenge "
		         "of %s: %s",
		    t->mbx, t->g->servers[0].host, strerror(aerr));
	}
	snprintf(mbx, sizeof(mbx), "%s", t->mbx);
	if (!err && resp->scode < 300) {
		vm->mwi_sent++;
		store_mwi_set(vm->store, t->mbx, t->state, false);
		log_info("mwi: mailbox %s lamp %s (%u new, %u old): accepted "
		         "by %s",
		    t->mbx, t->state ? "on" : "off", t->nnew, t->nold,
		    t->g->servers[0].host);
		tx_done(t);
		/* The counts may have moved while it was in flight. */
		vm_mwi_kick(vm, mbx);
		return;
	}
	vm->mwi_failed++;
	log_warn("mwi: mailbox %s lamp %s refused by %s: %s%s (retried in "
	         "%d s)",
	    t->mbx, t->state ? "on" : "off", t->g->servers[0].host,
	    err ? "no answer: " : "",
	    err ? strerror(err) : sip_reason(resp->scode), MWI_RETRY_S);
	tx_done(t);
}

static void
kick_one(struct voicemail *vm, struct vm_group_rt *g, const char *mbx)
{
	unsigned nnew = 0, nold = 0;
	int last = -1;
	bool pending = false;
	struct mwi_tx *t;

	if (busy(mbx))
		return;
	if (store_mwi_get(vm->store, mbx, &last, &pending) != 0 || !pending)
		return;
	if (store_counts(vm->store, mbx, &nnew, &nold) != 0)
		return;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return;
	t->vm = vm;
	t->g = g;
	snprintf(t->mbx, sizeof(t->mbx), "%s", mbx);
	t->state = nnew > 0;
	t->nnew = nnew;
	t->nold = nold;
	sip_token_new(t->callid, sizeof(t->callid));
	sip_token_new(t->ftag, sizeof(t->ftag));
	if (!track(t, true)) {
		free(t);
		return;
	}
	int err = send_notify(t, NULL);
	if (err != 0) {
		vm->mwi_failed++;
		log_warn("mwi: mailbox %s: NOTIFY not sent: %s (retried in %d "
		         "s)",
		    mbx, strerror(err), MWI_RETRY_S);
		tx_done(t);
	}
}

void
vm_mwi_kick(struct voicemail *vm, const char *mailbox)
{
	struct vm_group_rt *g = mwi_group(vm);

	if (g == NULL || vm->store == NULL)
		return;
	if (mailbox) {
		kick_one(vm, g, mailbox);
		return;
	}
	struct store_mailbox *list = NULL;
	size_t n = 0;
	if (store_mailboxes(vm->store, &list, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (list[i].mwi_pending)
			kick_one(vm, g, list[i].name);
	}
	free(list);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	vm_mwi_kick(arg, NULL);
}

int
vm_mwi_start(struct voicemail *vm)
{
	/* A first round at once: what a restart left pending. */
	vm->mwi_timer = event_new(vm->base, -1, EV_PERSIST, retry_cb, vm);
	if (vm->mwi_timer == NULL)
		return ENOMEM;
	struct timeval tv = {.tv_sec = MWI_RETRY_S, .tv_usec = 0};
	event_add(vm->mwi_timer, &tv);
	event_active(vm->mwi_timer, EV_TIMEOUT, 0);
	return 0;
}

void
vm_mwi_stop(struct voicemail *vm)
{
	if (vm->mwi_timer)
		event_free(vm->mwi_timer);
	vm->mwi_timer = NULL;
	for (size_t i = 0; i < MWI_MAX_FLIGHT; i++) {
		if (inflight[i] && inflight[i]->vm == vm) {
			/* The stack is freed after: its callbacks never come. */
			free(inflight[i]);
			inflight[i] = NULL;
		}
	}
}
