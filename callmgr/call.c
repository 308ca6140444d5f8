/* Calls: a B2BUA with an A leg (the caller) and a B leg (a line or a trunk), forward to voicemail with Diversion. */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callmgr/cm.h"
#include "core/log.h"
#include "sip/dialog.h"
#include "sip/enc.h"

enum call_state { CALL_ROUTING, CALL_UP, CALL_GONE };

struct cm_call {
	struct list le;
	struct callmgr *cm;
	unsigned id;
	enum call_state state;
	/* A leg: we are its UAS */
	struct sip_strans *a_st; /* until the final answer */
	struct sip_dialog *a_dlg;
	char a_tag[16];
	enum sip_proto a_proto;
	char *a_callid;
	const struct cm_dn *caller; /* NULL when it came from a trunk */
	char *from_user;
	/* the offer, kept to forward the call */
	char *sdp;
	char *ctype;
	/* B leg: we are its UAC */
	struct sip_ctrans *b_ct; /* while the INVITE is pending */
	struct sip_dialog *b_dlg;
	char *b_invite;
	size_t b_len;
	enum sip_proto b_proto;
	struct sa b_dst;
	struct sip_conn *b_conn; /* a line's registration flow, referenced */
	char *b_tls_name;
	const struct cm_dn *callee; /* when calling a line */
	const char *fwd_reason;     /* set when B is cancelled to forward */
	bool forwarded;
	struct event *noanswer;
	char target[64];
	struct cm_reinvite *reinv; /* a re-INVITE/UPDATE being relayed */
	unsigned redirects;        /* 3xx followed so far */
	bool b_security; /* the trunk's profile: Transmit Security Status */
	char srtp[32];   /* the SRTP suite the answer chose, "" for RTP */
};

/*
 * A target refresh (re-INVITE or UPDATE, RFC 3261 14, RFC 3311) relayed to
 * the other leg: the originator's server transaction waits for its answer.
 */
struct cm_reinvite {
	struct cm_call *c; /* NULL once the call is gone */
	struct sip_strans *st;
	struct sip_ctrans *ct;
	bool from_a;
	bool invite;
	struct sip_dialog *other; /* borrowed from c */
	struct sa dst;            /* the other leg's peer */
	int orig_family;          /* the originator's address family */
};

static unsigned next_id = 1;

static void
call_free(struct cm_call *c)
{
	list_del(&c->le);
	if (c->b_ct)
		sip_ctrans_abandon(c->b_ct);
	if (c->reinv) {
		/* The call ends under a pending re-INVITE: answer it. */
		sip_strans_reply(c->reinv->st, 487, NULL, SLICE_NULL,
		    SLICE_NULL, SLICE_NULL, SLICE_NULL);
		if (c->reinv->ct)
			sip_ctrans_abandon(c->reinv->ct);
		free(c->reinv);
	}
	if (c->noanswer)
		event_free(c->noanswer);
	sip_dialog_free(c->a_dlg);
	sip_dialog_free(c->b_dlg);
	sip_conn_unref(c->b_conn);
	free(c->a_callid);
	free(c->from_user);
	free(c->sdp);
	free(c->ctype);
	free(c->b_invite);
	free(c->b_tls_name);
	free(c);
}

void
cm_calls_init(struct callmgr *cm)
{
	list_init(&cm->calls);
}

void
cm_calls_free(struct callmgr *cm)
{
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &cm->calls)
	    call_free(container_of(pos, struct cm_call, le));
}

/*
 * The guide's padlock: Encrypted when both legs' signalling is TLS and the
 * media is SRTP (SDES keys in SDP), Authenticated with TLS and plain RTP.
 */
static const char *
security_of(const struct cm_call *c, struct slice sdp)
{
	bool tls = c->a_proto == SIP_PROTO_TLS && c->b_proto == SIP_PROTO_TLS;
	bool srtp = sdp.n && memmem(sdp.p, sdp.n, "RTP/SAVP", 8) &&
	            memmem(sdp.p, sdp.n, "a=crypto:", 9);

	if (tls && srtp)
		return "Encrypted";
	if (tls)
		return "Authenticated";
	return "NotAuthenticated";
}

static const char *
security(const struct cm_call *c, const char *sdp)
{
	return security_of(c, sdp ? slice_cstr(sdp) : SLICE_NULL);
}

static const char *
transport_param(enum sip_proto p)
{
	return p == SIP_PROTO_TCP   ? ";transport=tcp"
	       : p == SIP_PROTO_TLS ? ";transport=tls"
	                            : "";
}

/* Header lines are appended to fixed buffers, not formatted: a few per
 * message, thousands of messages a second. */
static void
a_reply(struct cm_call *c, uint16_t code, const char *reason,
    struct slice ctype, struct slice body)
{
	char mem[512];
	struct buf x;
	struct callmgr *cm = c->cm;
	const struct sa *la =
	    c->a_proto == SIP_PROTO_TLS ? &cm->tls_addr : &cm->sip_addr;
	char host[64];

	if (c->a_st == NULL)
		return;
	sa_ntop(la, host, sizeof(host));
	buf_init_fixed(&x, mem, sizeof(mem));
	/* sip: with transport=tls, not sips: (libre-based phones send the
	 * ACK nowhere for a sips: Contact). */
	BUF_LIT(&x, "Contact: <sip:");
	buf_append_str(&x, host);
	BUF_LIT(&x, ":");
	buf_append_u64(&x, sa_port(la));
	buf_append_str(&x, transport_param(c->a_proto));
	BUF_LIT(
	    &x, ">\r\nCall-Info: <urn:x-cisco-remotecc:callinfo>;security=");
	buf_append_str(&x, body.n ? security_of(c, body) : security(c, c->sdp));
	BUF_LIT(&x, "\r\n");
	sip_strans_reply(c->a_st, code, reason, slice_cstr(c->a_tag),
	    buf_slice(&x), ctype, body);
	if (code >= 200)
		c->a_st = NULL; /* the stack owns it now */
}

static void b_resp_h(int err, const struct sip_msg *resp, void *arg);
static void strip_srtp(struct cm_call *c);

static void
noanswer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cm_call *c = arg;

	(void)fd;
	(void)what;
	if (c->b_ct == NULL || c->state != CALL_ROUTING)
		return;
	log_info("call %u: %s did not answer in %u s: forwarding to "
	         "voicemail",
	    c->id, c->target, c->callee->no_answer_ring_duration);
	c->fwd_reason = "no-answer";
	sip_ctrans_cancel(c->b_ct);
}

/* Where the B leg goes: a line's flow or a trunk destination that is up. */
static int
b_leg_send(
    struct cm_call *c, const char *ruri, const char *to, const char *diversion)
{
	struct callmgr *cm = c->cm;
	char branch[32], callid[40], via[64];
	char fmem[256], cmem[200], xmem[640];
	struct buf from, contact, extra;
	struct sip_req_spec sp;
	struct sa la;
	struct buf b;
	int err;

	cm_local_addr(
	    cm, c->b_proto, sa_family(&c->b_dst), &la, via, sizeof(via));
	sip_branch_new(branch);
	sip_token_new(callid, sizeof(callid));
	buf_init_fixed(&from, fmem, sizeof(fmem));
	BUF_LIT(&from, "<sip:");
	buf_append_str(&from, c->from_user);
	BUF_LIT(&from, "@");
	buf_append_str(&from, cm->cfg->enterprise.host_name);
	BUF_LIT(&from, ">;tag=b");
	buf_append_u64(&from, c->id);
	buf_init_fixed(&contact, cmem, sizeof(cmem));
	BUF_LIT(&contact, "<sip:");
	buf_append_str(&contact, via);
	BUF_LIT(&contact, ":");
	buf_append_u64(&contact, sa_port(&la));
	buf_append_str(&contact, transport_param(c->b_proto));
	BUF_LIT(&contact, ">");
	buf_init_fixed(&extra, xmem, sizeof(xmem));
	if (diversion) {
		BUF_LIT(&extra, "Diversion: ");
		buf_append_str(&extra, diversion);
		BUF_LIT(&extra, "\r\n");
	}
	if (c->b_security) {
		/* Transmit Security Status: the caller's leg as we know it. */
		BUF_LIT(&extra,
		    "Call-Info: <urn:x-cisco-remotecc:callinfo>;security=");
		buf_append_str(&extra,
		    c->a_proto != SIP_PROTO_TLS             ? "NotAuthenticated"
		    : c->sdp && strstr(c->sdp, "a=crypto:") ? "Encrypted"
		                                            : "Authenticated");
		BUF_LIT(&extra, "\r\n");
	}
	BUF_LIT(&extra, "User-Agent: ngvoice-callmanager\r\n");
	if (from.err || contact.err || extra.err)
		return ENOMEM; /* a From user or Diversion beyond any sense */
	memset(&sp, 0, sizeof(sp));
	sp.method = "INVITE";
	sp.ruri = slice_cstr(ruri);
	sp.proto = c->b_proto;
	sp.via_host = slice_cstr(via);
	sp.via_port = sa_port(&la);
	sp.branch = branch;
	sp.from = buf_slice(&from);
	sp.to = slice_cstr(to);
	sp.callid = slice_cstr(callid);
	sp.cseq = 1;
	sp.contact = buf_slice(&contact);
	sp.extra = buf_slice(&extra);
	sp.ctype = c->ctype ? slice_cstr(c->ctype) : SLICE_NULL;
	sp.body = c->sdp ? slice_cstr(c->sdp) : SLICE_NULL;
	buf_init(&b);
	if (sip_req_build(&b, &sp) != 0) {
		buf_free(&b);
		return ENOMEM;
	}
	free(c->b_invite);
	c->b_invite = b.p;
	c->b_len = b.len;
	err = sip_ctrans_request(&c->b_ct, cm->stack, c->b_proto, &c->b_dst,
	    c->b_tls_name, c->b_conn, c->b_invite, c->b_len, b_resp_h, c);
	if (err)
		c->b_ct = NULL;
	return err;
}

/* Routes to a trunk by its route pattern; 0 or the status to answer A with. */
static uint16_t
route_trunk(struct cm_call *c, const char *digits, const char *diversion)
{
	struct callmgr *cm = c->cm;
	const struct cm_route_pattern *rp = cm_config_route(cm->cfg, digits);
	struct cm_trunk_rt *t = NULL;
	struct cm_dest_rt *d = NULL;
	char ruri[300], to[320];

	if (rp == NULL)
		return 404;
	for (size_t i = 0; i < cm->ntrunks; i++) {
		if (cm->trunks[i].cfg == rp->trunk)
			t = &cm->trunks[i];
	}
	if (t == NULL)
		return 404;
	/* Calls go only to destinations that are up, in order. */
	for (size_t i = 0; i < t->ndests && d == NULL; i++) {
		if (t->dests[i].resolved &&
		    (t->dests[i].state == CM_DEST_UP ||
		        t->status == CM_TRUNK_UNKNOWN_NO_PING))
			d = &t->dests[i];
	}
	if (d == NULL) {
		log_warn("call %u: trunk %s is in %s: %s not routed", c->id,
		    t->cfg->name, cm_trunk_status_label(t->status), digits);
		return 503;
	}
	c->b_proto = t->proto;
	c->b_dst = d->addr;
	sip_conn_unref(c->b_conn);
	c->b_conn = NULL;
	free(c->b_tls_name);
	c->b_tls_name =
	    t->proto == SIP_PROTO_TLS && t->cfg->profile->x509_subject_name
	        ? strdup(t->cfg->profile->x509_subject_name)
	        : NULL;
	c->callee = NULL;
	snprintf(ruri, sizeof(ruri), "%s:%s@%s:%u%s",
	    t->proto == SIP_PROTO_TLS ? "sips" : "sip", digits, d->dest->host,
	    d->dest->port, t->proto == SIP_PROTO_TCP ? ";transport=tcp" : "");
	snprintf(to, sizeof(to), "<%s>", ruri);
	snprintf(c->target, sizeof(c->target), "%s via trunk %s", digits,
	    t->cfg->name);
	if (c->sdp && strstr(c->sdp, "a=crypto:")) {
		if (!t->cfg->srtp_allowed) {
			if (!t->warned_srtp)
				log_warn(
				    "trunk %s: SRTP Allowed is off: offers "
				    "go on as plain RTP, their keys "
				    "removed (logged once per trunk)",
				    t->cfg->name);
			t->warned_srtp = true;
			strip_srtp(c);
		} else if (t->proto != SIP_PROTO_TLS && !t->warned_keys) {
			/* The guide's warning for SRTP Allowed. */
			log_warn("trunk %s: SRTP keys cross it in clear text: "
			         "its signalling is %s, not TLS (logged once "
			         "per trunk)",
			    t->cfg->name, sip_proto_name(t->proto));
			t->warned_keys = true;
		}
	}
	c->b_security = t->cfg->profile->transmit_security_status;
	if (!t->cfg->redirecting_diversion_header_delivery_outbound)
		diversion = NULL;
	if (b_leg_send(c, ruri, to, diversion) != 0)
		return 503;
	log_info("call %u: %s -> %s over %s%s%s", c->id, c->from_user,
	    c->target, sip_proto_name(c->b_proto),
	    diversion ? ", Diversion: " : "", diversion ? diversion : "");
	return 0;
}

/*
 * A trunk without "SRTP Allowed" carries no keys (protocol-notes 3.5): the
 * offer goes on as plain RTP, its a=crypto lines removed.
 */
static void
strip_srtp(struct cm_call *c)
{
	char *in = c->sdp, *out, *o;
	const char *p = in;

	if (in == NULL || (out = malloc(strlen(in) + 1)) == NULL)
		return;
	o = out;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (strncmp(p, "a=crypto:", 9) != 0) {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	for (char *m = strstr(out, "RTP/SAVP"); m; m = strstr(m, "RTP/SAVP")) {
		/* "RTP/SAVP" -> "RTP/AVP" (and SAVPF -> AVPF) */
		memmove(m + 4, m + 5, strlen(m + 5) + 1);
	}
	free(c->sdp);
	c->sdp = out;
}

/* The SRTP suite an SDP answer chose: its a=crypto line's suite. */
static void
note_srtp(struct cm_call *c, struct slice body)
{
	const char *p = body.n ? memmem(body.p, body.n, "a=crypto:", 9) : NULL;
	size_t left, i = 0;

	c->srtp[0] = '\0';
	if (p == NULL)
		return;
	left = body.n - (size_t)(p - body.p) - 9;
	p += 9;
	while (left && *p != ' ') { /* the tag */
		p++;
		left--;
	}
	while (left && *p == ' ') {
		p++;
		left--;
	}
	while (left && i + 1 < sizeof(c->srtp) && *p != ' ' && *p != '\r' &&
	       *p != '\n') {
		c->srtp[i++] = *p++;
		left--;
	}
	c->srtp[i] = '\0';
}

/* Forwards to the line's voicemail pilot with a Diversion header. */
static uint16_t
forward_to_vm(struct cm_call *c, const struct cm_dn *dn, const char *reason)
{
	const char *pilot = cm_config_vm_pilot(c->cm->cfg, dn);
	char div[300];

	if (pilot == NULL)
		return 0;
	c->forwarded = true;
	snprintf(div, sizeof(div),
	    "<sip:%s@%s>;reason=%s;counter=1;privacy=off;screen=yes",
	    dn->number, c->cm->cfg->enterprise.host_name, reason);
	return route_trunk(c, pilot, div);
}

/* Calls a line: its first registered contact, over its own flow. */
static uint16_t
route_line(struct cm_call *c, struct cm_line *l)
{
	struct cm_binding *b;
	char to[200];

	if (l->dn->forward_all_to_voicemail) {
		uint16_t st = forward_to_vm(c, l->dn, "unconditional");
		if (st != 0 || c->forwarded)
			return st;
	}
	if (list_empty(&l->bindings))
		return 480; /* RFC 3261: unregistered lines are unreachable */
	b = container_of(l->bindings.next, struct cm_binding, le);
	c->callee = l->dn;
	c->b_proto = b->proto;
	c->b_dst = b->src;
	sip_conn_unref(c->b_conn);
	c->b_conn = sip_conn_ref(b->conn);
	free(c->b_tls_name);
	c->b_tls_name = NULL;
	snprintf(c->target, sizeof(c->target), "line %s", l->dn->number);
	snprintf(to, sizeof(to), "<sip:%s@%s>", l->dn->number,
	    c->cm->cfg->enterprise.host_name);
	if (b_leg_send(c, b->uri, to, NULL) != 0)
		return 480;
	log_info("call %u: %s -> line %s (%s over %s)", c->id, c->from_user,
	    l->dn->number, b->uri, sip_proto_name(b->proto));
	if (l->dn->forward_no_answer_to_voicemail &&
	    cm_config_vm_pilot(c->cm->cfg, l->dn)) {
		struct timeval tv = {
		    .tv_sec = l->dn->no_answer_ring_duration, .tv_usec = 0};
		c->noanswer = evtimer_new(c->cm->base, noanswer_cb, c);
		if (c->noanswer)
			evtimer_add(c->noanswer, &tv);
	}
	return 0;
}

static struct sip_ctrans *send_in_dialog_body(struct callmgr *cm,
    struct sip_dialog *d, const char *method, const struct sa *dst,
    struct slice ctype, struct slice body, sip_resp_h *h, void *arg);

static void
send_in_dialog(struct callmgr *cm, struct sip_dialog *d, const char *method,
    const struct sa *dst, sip_resp_h *h, void *arg)
{
	send_in_dialog_body(cm, d, method, dst, SLICE_NULL, SLICE_NULL, h, arg);
}

/* Our Contact toward a leg: "<sip:ADDR:PORT;transport=..>". */
static void
leg_contact(struct callmgr *cm, enum sip_proto proto, int family, char *out,
    size_t outsz)
{
	char host[64];
	struct sa la;

	cm_local_addr(cm, proto, family, &la, host, sizeof(host));
	snprintf(out, outsz, "<sip:%s%s%s:%u%s>", family == AF_INET6 ? "[" : "",
	    host, family == AF_INET6 ? "]" : "", sa_port(&la),
	    proto == SIP_PROTO_TCP   ? ";transport=tcp"
	    : proto == SIP_PROTO_TLS ? ";transport=tls"
	                             : "");
}

/*
 * Sends an in-dialog request; returns its client transaction (NULL for ACK
 * or on failure).
 */
static struct sip_ctrans *
send_in_dialog_body(struct callmgr *cm, struct sip_dialog *d,
    const char *method, const struct sa *dst, struct slice ctype,
    struct slice body, sip_resp_h *h, void *arg)
{
	struct sip_req_spec sp;
	struct sip_ctrans *ct = NULL;
	char branch[32], via[64], contact[200];
	struct sa la;
	struct buf b;

	cm_local_addr(cm, d->proto, sa_family(dst), &la, via, sizeof(via));
	sip_branch_new(branch);
	memset(&sp, 0, sizeof(sp));
	sp.method = method;
	sp.proto = d->proto;
	sp.via_host = slice_cstr(via);
	sp.via_port = sa_port(&la);
	sp.branch = branch;
	sp.ctype = ctype;
	sp.body = body;
	if (strcmp(method, "INVITE") == 0 || strcmp(method, "UPDATE") == 0) {
		/* A target refresh carries our Contact (RFC 3261 12.2.1.1). */
		leg_contact(
		    cm, d->proto, sa_family(dst), contact, sizeof(contact));
		sp.contact = slice_cstr(contact);
	}
	buf_init(&b);
	if (sip_dialog_request(d, &b, &sp, NULL, NULL, 0) == 0) {
		if (strcmp(method, "ACK") == 0) {
			sip_tp_send(sip_stack_tp(cm->stack), d->proto, dst,
			    d->conn, NULL, b.p, b.len, NULL);
		} else if (sip_ctrans_request(&ct, cm->stack, d->proto, dst,
		               NULL, d->conn, b.p, b.len, h, arg) != 0) {
			ct = NULL;
		}
	}
	buf_free(&b);
	return ct;
}

/* The answer to a relayed re-INVITE/UPDATE goes back to its originator. */
static void
reinv_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct cm_reinvite *r = arg;
	struct cm_call *c = r->c;
	char extra[400], contact[200];

	if (!err && resp->scode < 200)
		return;
	if (c == NULL) {
		free(r);
		return;
	}
	if (!err && resp->scode < 300) {
		if (r->invite)
			send_in_dialog(
			    c->cm, r->other, "ACK", &r->dst, NULL, NULL);
		/* Its 2xx retransmissions would call again: stop them. */
		sip_ctrans_abandon(r->ct);
		leg_contact(c->cm, r->from_a ? c->a_proto : c->b_proto,
		    r->orig_family, contact, sizeof(contact));
		snprintf(extra, sizeof(extra), "Contact: %s\r\n", contact);
		sip_strans_reply(r->st, resp->scode, NULL, SLICE_NULL,
		    slice_cstr(extra),
		    resp->body.n ? SLICE_LIT("application/sdp") : SLICE_NULL,
		    resp->body);
		log_info("call %u: %s relayed, answered %u", c->id,
		    r->invite ? "re-INVITE" : "UPDATE", resp->scode);
	} else {
		uint16_t code =
		    err ? (err == ETIMEDOUT ? 408 : 503) : resp->scode;
		sip_strans_reply(r->st, code, NULL, SLICE_NULL, SLICE_NULL,
		    SLICE_NULL, SLICE_NULL);
		log_info("call %u: %s relayed, refused %u", c->id,
		    r->invite ? "re-INVITE" : "UPDATE", code);
	}
	c->reinv = NULL;
	free(r);
}

static void
b_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct cm_call *c = arg;
	struct callmgr *cm = c->cm;

	if (!err && resp->scode < 200) {
		if (resp->scode == 180 || resp->scode == 183)
			a_reply(c, resp->scode, NULL,
			    resp->body.n ? SLICE_LIT("application/sdp")
			                 : SLICE_NULL,
			    resp->body);
		return;
	}
	if (!err && resp->scode < 300) {
		if (c->b_dlg) {
			/* a retransmitted 2xx: ACK it again */
			send_in_dialog(
			    cm, c->b_dlg, "ACK", &c->b_dst, NULL, NULL);
			return;
		}
		/* The dialog keeps the flow the INVITE took (a trunk's
		 * connection): in-dialog requests reuse it, and its loss ends
		 * the call. */
		struct sip_conn *flow = c->b_conn ? c->b_conn
		                        : c->b_ct ? sip_ctrans_conn(c->b_ct)
		                                  : NULL;
		c->b_ct = NULL;
		struct sip_msg *inv =
		    malloc(sizeof(*inv)) /* sip_msg_parse sets it up */;
		struct sip_perr perr;
		if (inv == NULL ||
		    sip_msg_parse(inv, c->b_invite, c->b_len, true,
		        &sip_stack_conf(cm->stack)->tp.lim, &perr) != 0 ||
		    sip_dialog_uac(&c->b_dlg, inv, resp, c->b_proto, flow) !=
		        0) {
			free(inv);
			log_warn("call %u: the answer from %s has no usable "
			         "dialog",
			    c->id, c->target);
			a_reply(c, 502, "Bad answer from the called side",
			    SLICE_NULL, SLICE_NULL);
			return;
		}
		free(inv);
		send_in_dialog(cm, c->b_dlg, "ACK", &c->b_dst, NULL, NULL);
		if (c->noanswer)
			evtimer_del(c->noanswer);
		c->state = CALL_UP;
		note_srtp(c, resp->body);
		char *body = slice_strdup(resp->body);
		a_reply(c, 200, NULL,
		    resp->body.n ? SLICE_LIT("application/sdp") : SLICE_NULL,
		    resp->body);
		log_info("call %u: %s answered, security %s", c->id, c->target,
		    security(c, body));
		free(body);
		return;
	}

	/*
	 * A redirection (RFC 3261 8.1.3.4): the first Contact's number is
	 * routed like a dialled one, a few times at most.
	 */
	if (!err && resp->scode >= 300 && resp->scode < 400 &&
	    c->redirects < 3) {
		char to_num[64];
		c->b_ct = NULL;
		if (c->noanswer)
			evtimer_del(c->noanswer);
		const struct sip_hdr *ch = sip_msg_hdr(resp, SIP_HDR_CONTACT);
		struct sip_addr ca;
		if (ch && sip_addr_parse(&ca, ch->val) == 0 && ca.uri.user.n &&
		    sip_unescape(ca.uri.user, to_num, sizeof(to_num), NULL) ==
		        0) {
			struct cm_line *rl = cm_line_find(cm, to_num);
			uint16_t st;
			c->redirects++;
			log_info("call %u: %s redirected the call (%u) to %s",
			    c->id, c->target, resp->scode, to_num);
			st = rl ? route_line(c, rl)
			        : route_trunk(c, to_num, NULL);
			if (st == 0)
				return;
			a_reply(c, st, "Redirect target unreachable",
			    SLICE_NULL, SLICE_NULL);
			call_free(c);
			return;
		}
	}

	/* A failure: forward to voicemail if the line says so. */
	uint16_t code = err ? (err == ETIMEDOUT ? 408 : 503) : resp->scode;
	c->b_ct = NULL;
	if (c->noanswer)
		evtimer_del(c->noanswer);
	const struct cm_dn *dn = c->callee;
	const char *why = NULL;
	if (dn && c->fwd_reason)
		why = c->fwd_reason;
	else if (dn && (code == 486 || code == 600) &&
	         dn->forward_busy_to_voicemail)
		why = "user-busy";
	else if (dn && (code == 408 || code == 480) &&
	         dn->forward_no_answer_to_voicemail)
		why = "no-answer";
	if (why && !c->forwarded) {
		uint16_t st = forward_to_vm(c, dn, why);
		if (st == 0 && c->forwarded)
			return;
		code = st ? st : code;
	}
	a_reply(c, code,
	    err ? (err == ETIMEDOUT ? "No answer" : "Unreachable") : NULL,
	    SLICE_NULL, SLICE_NULL);
	call_free(c);
}

static void
a_cancel_h(struct sip_strans *st, void *arg)
{
	struct cm_call *c = arg;

	(void)st;
	log_info("call %u: cancelled by the caller", c->id);
	if (c->b_ct) {
		sip_ctrans_cancel(c->b_ct);
		sip_ctrans_abandon(c->b_ct);
		c->b_ct = NULL;
	}
	a_reply(c, 487, NULL, SLICE_NULL, SLICE_NULL);
	call_free(c);
}

void
cm_call_invite(struct callmgr *cm, const struct sip_msg *m,
    const struct sip_rx *rx, const struct cm_dn *caller)
{
	char digits[64];
	struct cm_call *c;
	uint16_t st;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	c->cm = cm;
	c->id = next_id++;
	list_add_tail(&cm->calls, &c->le);
	c->a_proto = rx->proto;
	c->caller = caller;
	c->from_user = slice_strdup(
	    m->from.uri.user.n ? m->from.uri.user : SLICE_LIT("anonymous"));
	c->a_callid = slice_strdup(m->callid);
	if (m->body.n) {
		c->sdp = slice_strdup(m->body);
		c->ctype = strdup("application/sdp");
	}
	sip_token_new(c->a_tag, sizeof(c->a_tag));
	if (sip_strans_alloc(&c->a_st, cm->stack, m, rx, a_cancel_h, c) != 0) {
		call_free(c);
		return;
	}
	if (sip_dialog_uas(&c->a_dlg, m, c->a_tag, rx->proto, rx->conn) != 0) {
		a_reply(c, 400, "Missing Contact", SLICE_NULL, SLICE_NULL);
		call_free(c);
		return;
	}
	if (sip_unescape(m->ruri.user, digits, sizeof(digits), NULL) != 0 ||
	    digits[0] == '\0') {
		a_reply(c, 404, "No number dialled", SLICE_NULL, SLICE_NULL);
		call_free(c);
		return;
	}
	struct cm_line *l = cm_line_find(cm, digits);
	st = l ? route_line(c, l) : route_trunk(c, digits, NULL);
	if (st != 0) {
		a_reply(c, st,
		    st == 404   ? "No route for the dialled number"
		    : st == 480 ? "Line not registered"
		                : NULL,
		    SLICE_NULL, SLICE_NULL);
		call_free(c);
	}
}

static void
bye_done_h(int err, const struct sip_msg *resp, void *arg)
{
	(void)err;
	(void)resp;
	(void)arg;
}

/* In-dialog requests: BYE ends both legs; others are answered here. */
bool
cm_call_in_dialog(
    struct callmgr *cm, const struct sip_msg *m, const struct sip_rx *rx)
{
	struct list *pos;

	for (pos = cm->calls.next; pos != &cm->calls; pos = pos->next) {
		struct cm_call *c = container_of(pos, struct cm_call, le);
		bool from_a = c->a_dlg && sip_dialog_match(c->a_dlg, m);
		bool from_b = c->b_dlg && sip_dialog_match(c->b_dlg, m);
		if (!from_a && !from_b)
			continue;
		if (sip_method_eq(m->method, "ACK"))
			return true;
		struct sip_strans *st;
		if (sip_strans_alloc(&st, cm->stack, m, rx, NULL, NULL) != 0)
			return true;
		if (sip_method_eq(m->method, "INFO") && c->state == CALL_UP) {
			/*
			 * Out-of-band DTMF (application/dtmf-relay) and the
			 * like: relayed to the other leg, answered here.
			 */
			const struct sip_hdr *ct =
			    sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE);
			struct sip_dialog *other = from_a ? c->b_dlg : c->a_dlg;
			struct sa dst;
			if (from_a)
				dst = c->b_dst;
			else if (c->a_dlg && c->a_dlg->conn)
				dst = *sip_conn_peer(c->a_dlg->conn);
			else
				dst = rx->peer;
			sip_strans_reply(st, 200, NULL, SLICE_NULL, SLICE_NULL,
			    SLICE_NULL, SLICE_NULL);
			if (other)
				send_in_dialog_body(cm, other, "INFO", &dst,
				    ct ? ct->val : SLICE_NULL, m->body,
				    bye_done_h, NULL);
			return true;
		}
		if ((sip_method_eq(m->method, "INVITE") ||
		        sip_method_eq(m->method, "UPDATE")) &&
		    c->state == CALL_UP) {
			struct sip_dialog *self = from_a ? c->a_dlg : c->b_dlg;
			if (c->reinv) {
				/* One offer at a time (RFC 3261 14.1). */
				sip_strans_reply(st, 491, NULL, SLICE_NULL,
				    SLICE_LIT("Retry-After: 1\r\n"), SLICE_NULL,
				    SLICE_NULL);
				return true;
			}
			struct cm_reinvite *r = calloc(1, sizeof(*r));
			if (r == NULL) {
				sip_strans_reply(st, 500, NULL, SLICE_NULL,
				    SLICE_NULL, SLICE_NULL, SLICE_NULL);
				return true;
			}
			r->c = c;
			r->st = st;
			r->from_a = from_a;
			r->invite = sip_method_eq(m->method, "INVITE");
			r->orig_family = sa_family(&rx->peer);
			r->other = from_a ? c->b_dlg : c->a_dlg;
			if (r->other == NULL || self == NULL) {
				/* A leg without its dialog: nothing to relay to. */
				free(r);
				sip_strans_reply(st, 481, NULL, SLICE_NULL,
				    SLICE_NULL, SLICE_NULL, SLICE_NULL);
				return true;
			}
			if (from_a)
				r->dst = c->b_dst;
			else if (c->a_dlg->conn)
				r->dst = *sip_conn_peer(c->a_dlg->conn);
			else
				r->dst = rx->peer;
			if (sip_dialog_check_rseq(self, m) == 0)
				sip_dialog_set_target(self, m);
			c->reinv = r;
			const struct sip_hdr *cth =
			    sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE);
			r->ct = send_in_dialog_body(cm, r->other,
			    r->invite ? "INVITE" : "UPDATE", &r->dst,
			    cth ? cth->val : SLICE_NULL, m->body, reinv_resp_h,
			    r);
			if (r->ct == NULL) {
				c->reinv = NULL;
				free(r);
				sip_strans_reply(st, 503, NULL, SLICE_NULL,
				    SLICE_NULL, SLICE_NULL, SLICE_NULL);
			}
			return true;
		}
		if (!sip_method_eq(m->method, "BYE")) {
			sip_strans_reply(st, 501, "Not supported in a call yet",
			    SLICE_NULL, SLICE_NULL, SLICE_NULL, SLICE_NULL);
			return true;
		}
		sip_strans_reply(st, 200, NULL, SLICE_NULL, SLICE_NULL,
		    SLICE_NULL, SLICE_NULL);
		log_info("call %u: %s hung up", c->id,
		    from_a ? c->from_user : c->target);
		if (from_a && c->b_dlg)
			send_in_dialog(
			    cm, c->b_dlg, "BYE", &c->b_dst, bye_done_h, NULL);
		else if (from_a && c->b_ct) {
			sip_ctrans_cancel(c->b_ct);
		} else if (from_b && c->a_dlg && c->state == CALL_UP) {
			struct sa dst;
			struct sip_uri u;
			enum sip_proto p;
			if (c->a_dlg->conn)
				dst = *sip_conn_peer(c->a_dlg->conn);
			else if (sip_uri_parse(
			             &u, slice_cstr(c->a_dlg->target)) != 0 ||
			         sip_uri_dest(&u, &dst, &p) != 0)
				dst = rx->peer;
			send_in_dialog(
			    cm, c->a_dlg, "BYE", &dst, bye_done_h, NULL);
		}
		call_free(c);
		return true;
	}
	return false;
}

void
cm_calls_json(struct callmgr *cm, struct buf *b)
{
	struct list *pos;
	bool first = true;

	BUF_LIT(b, "[");
	for (pos = cm->calls.next; pos != &cm->calls; pos = pos->next) {
		const struct cm_call *c = container_of(pos, struct cm_call, le);
		if (!first)
			BUF_LIT(b, ",");
		first = false;
		SSL *as = c->a_dlg && c->a_dlg->conn
		              ? sip_conn_ssl(c->a_dlg->conn)
		              : NULL;
		SSL *bs = c->b_dlg && c->b_dlg->conn
		              ? sip_conn_ssl(c->b_dlg->conn)
		              : NULL;
		buf_printf(b,
		    "{\"id\":%u,\"from\":\"%s\",\"to\":\"%s\","
		    "\"state\":\"%s\",\"a_leg\":\"%s\",\"b_leg\":\"%s\","
		    "\"a_tls\":\"%s\",\"b_tls\":\"%s\",\"srtp\":\"%s\","
		    "\"forwarded\":%s,\"security\":\"%s\"}",
		    c->id, c->from_user ? c->from_user : "", c->target,
		    c->state == CALL_UP ? "connected" : "ringing",
		    sip_proto_name(c->a_proto), sip_proto_name(c->b_proto),
		    as ? SSL_get_cipher_name(as) : "",
		    bs ? SSL_get_cipher_name(bs) : "", c->srtp,
		    c->forwarded ? "true" : "false", security(c, c->sdp));
	}
	BUF_LIT(b, "]");
}

/*
 * A connection of a call's leg is gone (the voicemail server died, a phone
 * vanished): the call cannot go on; the other leg gets a BYE.
 */
void
cm_calls_conn_lost(struct callmgr *cm, struct sip_conn *conn, int err)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &cm->calls)
	{
		struct cm_call *c = container_of(pos, struct cm_call, le);
		bool a = c->a_dlg && c->a_dlg->conn == conn;
		bool b = (c->b_dlg && c->b_dlg->conn == conn) ||
		         (c->b_conn == conn && c->state == CALL_UP);
		if (!a && !b)
			continue;
		log_info("call %u: the connection of %s was lost (%s): ending "
		         "the call",
		    c->id, a ? c->from_user : c->target, strerror(err));
		if (c->state == CALL_UP) {
			if (a && c->b_dlg)
				send_in_dialog(cm, c->b_dlg, "BYE", &c->b_dst,
				    bye_done_h, NULL);
			else if (b && c->a_dlg && c->a_dlg->conn &&
			         c->a_dlg->conn != conn)
				send_in_dialog(cm, c->a_dlg, "BYE",
				    sip_conn_peer(c->a_dlg->conn), bye_done_h,
				    NULL);
		} else if (a && c->b_ct) {
			sip_ctrans_cancel(c->b_ct);
		}
		call_free(c);
	}
}
