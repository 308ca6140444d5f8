/* SIP trunks: OPTIONS ping per destination and the trunk status of the guide ("Full Service"). */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callmgr/cm.h"
#include "core/log.h"
#include "sip/dialog.h"
#include "sip/enc.h"

const char *
cm_trunk_status_label(enum cm_trunk_status s)
{
	switch (s) {
	case CM_TRUNK_UNKNOWN_NO_PING:
		return "Unknown - OPTIONS Ping not enabled";
	case CM_TRUNK_FULL:
		return "Full Service";
	case CM_TRUNK_PARTIAL:
		return "Partial Service";
	case CM_TRUNK_NONE:
		return "No Service";
	}
	return "?";
}

static enum sip_proto
trunk_proto(const struct cm_trunk *t)
{
	const struct cm_trunk_security_profile *p = t->profile;

	if (p == NULL)
		return SIP_PROTO_UDP;
	if (p->device_security_mode != CM_SEC_NON_SECURE ||
	    p->outgoing_transport_type == CM_TP_TLS)
		return SIP_PROTO_TLS;
	if (p->outgoing_transport_type == CM_TP_TCP)
		return SIP_PROTO_TCP;
	return SIP_PROTO_UDP;
}

static void
trunk_update(struct cm_trunk_rt *t, const char *why)
{
	size_t up = 0, known = 0;
	enum cm_trunk_status st;

	for (size_t i = 0; i < t->ndests; i++) {
		up += t->dests[i].state == CM_DEST_UP;
		known += t->dests[i].state != CM_DEST_UNKNOWN;
	}
	if (t->cfg->sip_prof == NULL || !t->cfg->sip_prof->enable_options_ping)
		st = CM_TRUNK_UNKNOWN_NO_PING;
	else if (up == t->ndests && t->ndests)
		st = CM_TRUNK_FULL;
	else if (up)
		st = CM_TRUNK_PARTIAL;
	else
		st = CM_TRUNK_NONE;
	if (st != t->status || t->status_since == 0) {
		if (st != t->status || known)
			log_info("trunk %s: %s (%s)", t->cfg->name,
			    cm_trunk_status_label(st), why);
		t->status = st;
		t->status_since = time(NULL);
	}
}

static void dest_ping(struct cm_dest_rt *d);

static void
dest_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dest_ping(arg);
}

static void
dest_schedule(struct cm_dest_rt *d)
{
	const struct cm_sip_profile *sp = d->trunk->cfg->sip_prof;
	unsigned secs = d->state == CM_DEST_UP
	                    ? sp->options_ping_interval_in_service
	                    : sp->options_ping_interval_out_of_service;
	struct timeval tv = {.tv_sec = secs, .tv_usec = 0};

	evtimer_add(d->timer, &tv);
}

static void
dest_set(struct cm_dest_rt *d, enum cm_dest_state st, const char *why)
{
	char line[256];

	if (d->state != st)
		log_info("trunk %s: destination %s:%u %s (%s)",
		    d->trunk->cfg->name, d->dest->host, d->dest->port,
		    st == CM_DEST_UP ? "up" : "down", why);
	d->state = st;
	snprintf(
	    line, sizeof(line), "%s:%u %s", d->dest->host, d->dest->port, why);
	trunk_update(d->trunk, line);
}

/*
 * The guide's rules (protocol-notes 4): no reply, 408, 503 or a failed
 * TCP/TLS connection mean down; any other response means up.
 */
static void
ping_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct cm_dest_rt *d = arg;
	char why[160];

	if (!err && resp->scode < 200)
		return;
	d->ping = NULL;
	d->last_rtt_ms = cm_now_ms() - d->t_sent;
	if (err) {
		d->last_status = 0;
		snprintf(d->last_error, sizeof(d->last_error), "%s",
		    err == ETIMEDOUT ? "no reply" : strerror(err));
		snprintf(why, sizeof(why), "OPTIONS: %s", d->last_error);
		dest_set(d, CM_DEST_DOWN, why);
	} else {
		d->last_status = resp->scode;
		d->last_error[0] = '\0';
		snprintf(why, sizeof(why), "OPTIONS %u in %.0f ms", resp->scode,
		    d->last_rtt_ms);
		dest_set(d,
		    resp->scode == 408 || resp->scode == 503 ? CM_DEST_DOWN
		                                             : CM_DEST_UP,
		    why);
	}
	dest_schedule(d);
}

static void
dest_ping(struct cm_dest_rt *d)
{
	struct cm_trunk_rt *t = d->trunk;
	struct callmgr *cm = t->cm;
	const char *host = cm->cfg->enterprise.host_name;
	char branch[32], tag[16], callid[40], ruri[300], from[300], to[310];
	char via_host[64];
	struct sip_req_spec sp;
	struct sa la;
	struct buf b;
	int err;

	if (d->ping)
		return;
	if (!d->resolved) {
		dest_set(d, CM_DEST_DOWN, "host name does not resolve");
		dest_schedule(d);
		return;
	}
	cm_local_addr(
	    cm, t->proto, sa_family(&d->addr), &la, via_host, sizeof(via_host));
	sip_branch_new(branch);
	sip_token_new(tag, sizeof(tag));
	sip_token_new(callid, sizeof(callid));
	snprintf(ruri, sizeof(ruri), "%s:%s:%u%s",
	    t->proto == SIP_PROTO_TLS ? "sips" : "sip", d->dest->host,
	    d->dest->port, t->proto == SIP_PROTO_TCP ? ";transport=tcp" : "");
	snprintf(from, sizeof(from), "<sip:%s>;tag=%s", host, tag);
	snprintf(to, sizeof(to), "<%s>", ruri);
	memset(&sp, 0, sizeof(sp));
	sp.method = "OPTIONS";
	sp.ruri = slice_cstr(ruri);
	sp.proto = t->proto;
	sp.via_host = slice_cstr(via_host);
	sp.via_port = sa_port(&la);
	sp.branch = branch;
	sp.from = slice_cstr(from);
	sp.to = slice_cstr(to);
	sp.callid = slice_cstr(callid);
	sp.cseq = 1;
	sp.extra = SLICE_LIT("User-Agent: ngvoice-callmanager\r\n");
	buf_init(&b);
	sip_req_build(&b, &sp);
	d->t_sent = cm_now_ms();
	/* The ping reuses the trunk's connection (sip_tp_send finds it). */
	err = sip_ctrans_request(&d->ping, cm->stack, t->proto, &d->addr,
	    t->proto == SIP_PROTO_TLS ? t->cfg->profile->x509_subject_name
	                              : NULL,
	    NULL, b.p, b.len, ping_resp_h, d);
	buf_free(&b);
	if (err) {
		d->ping = NULL;
		char why[128];
		snprintf(
		    why, sizeof(why), "OPTIONS not sent: %s", strerror(err));
		dest_set(d, CM_DEST_DOWN, why);
		dest_schedule(d);
	}
}

/*
 * A reload rebuilds the trunks from the new configuration; a trunk of the
 * same name keeps its status, its time in it, and what is known of the
 * destinations it still has.
 */
struct trunk_snap {
	char *name;
	enum cm_trunk_status status;
	time_t since;
	size_t ndests;
	struct {
		char *host;
		uint16_t port;
		enum cm_dest_state state;
		double rtt;
		uint16_t last_status;
	} * d;
};

/* The running trunks as a reload found them (cm_trunks_restart). */
struct trunk_snaps {
	struct trunk_snap *v;
	size_t n;
};

static bool
restore_status(struct cm_trunk_rt *t, const struct trunk_snaps *snaps)
{
	for (size_t i = 0; snaps && i < snaps->n; i++) {
		const struct trunk_snap *sn = &snaps->v[i];
		if (strcmp(sn->name, t->cfg->name) != 0)
			continue;
		for (size_t j = 0; j < t->ndests; j++) {
			struct cm_dest_rt *d = &t->dests[j];
			for (size_t k = 0; k < sn->ndests; k++) {
				if (sn->d[k].host != NULL && /* out of memory */
				    strcmp(sn->d[k].host, d->dest->host) == 0 &&
				    sn->d[k].port == d->dest->port) {
					d->state = sn->d[k].state;
					d->last_rtt_ms = sn->d[k].rtt;
					d->last_status = sn->d[k].last_status;
				}
			}
		}
		t->status = sn->status;
		t->status_since = sn->since;
		/* Destinations added or gone: the status follows at once. */
		trunk_update(t, "reloaded");
		return true;
	}
	return false;
}

/* The trunks of cm->cfg; those named in snaps (NULL: none) keep their status. */
static int
trunks_start(struct callmgr *cm, const struct trunk_snaps *snaps)
{
	cm->ntrunks = cm->cfg->ntrunks;
	cm->trunks = calloc(cm->ntrunks ? cm->ntrunks : 1, sizeof(*cm->trunks));
	if (cm->trunks == NULL)
		return ENOMEM;
	for (size_t i = 0; i < cm->ntrunks; i++) {
		struct cm_trunk_rt *t = &cm->trunks[i];
		t->cm = cm;
		t->cfg = &cm->cfg->trunks[i];
		t->proto = trunk_proto(t->cfg);
		t->ndests = t->cfg->ndests;
		t->dests = calloc(t->ndests ? t->ndests : 1, sizeof(*t->dests));
		if (t->dests == NULL)
			return ENOMEM;
		bool ping =
		    t->cfg->sip_prof && t->cfg->sip_prof->enable_options_ping;
		for (size_t j = 0; j < t->ndests; j++) {
			struct cm_dest_rt *d = &t->dests[j];
			d->trunk = t;
			d->dest = &t->cfg->dests[j];
			d->resolved = sa_resolve(&d->addr, d->dest->host,
			                  d->dest->port, 0) == 0;
			if (!d->resolved)
				log_warn("trunk %s: destination %s does not "
				         "resolve",
				    t->cfg->name, d->dest->host);
			d->timer = evtimer_new(cm->base, dest_timer_cb, d);
			if (d->timer == NULL)
				return ENOMEM;
			if (ping) {
				/* first ping right away */
				struct timeval tv = {0, 0};
				evtimer_add(d->timer, &tv);
			}
		}
		if (!restore_status(t, snaps))
			trunk_update(
			    t, ping ? "starting" : "OPTIONS ping not enabled");
	}
	return 0;
}

int
cm_trunks_start(struct callmgr *cm)
{
	return trunks_start(cm, NULL);
}

static void
snaps_free(struct trunk_snaps *snaps)
{
	for (size_t i = 0; i < snaps->n; i++) {
		for (size_t k = 0; k < snaps->v[i].ndests; k++)
			free(snaps->v[i].d[k].host);
		free(snaps->v[i].d);
		free(snaps->v[i].name);
	}
	free(snaps->v);
	snaps->v = NULL;
	snaps->n = 0;
}

int
cm_trunks_restart(struct callmgr *cm)
{
	struct trunk_snaps snaps = {NULL, 0};
	int err;

	snaps.v = calloc(cm->ntrunks ? cm->ntrunks : 1, sizeof(*snaps.v));
	if (snaps.v == NULL)
		return ENOMEM; /* the running trunks stay */
	for (size_t i = 0; i < cm->ntrunks; i++) {
		const struct cm_trunk_rt *t = &cm->trunks[i];
		struct trunk_snap *sn = &snaps.v[snaps.n++];
		sn->name = strdup(t->cfg->name);
		sn->status = t->status;
		sn->since = t->status_since;
		sn->d = calloc(t->ndests ? t->ndests : 1, sizeof(*sn->d));
		for (size_t j = 0; sn->d && j < t->ndests; j++) {
			sn->d[j].host = strdup(t->dests[j].dest->host);
			sn->d[j].port = t->dests[j].dest->port;
			sn->d[j].state = t->dests[j].state;
			sn->d[j].rtt = t->dests[j].last_rtt_ms;
			sn->d[j].last_status = t->dests[j].last_status;
			sn->ndests++;
		}
		if (sn->name == NULL) {
			for (size_t j = 0; sn->d && j < sn->ndests; j++)
				free(sn->d[j].host);
			snaps.n--;
			free(sn->d);
		}
	}
	cm_trunks_free(cm);
	err = trunks_start(cm, &snaps);
	snaps_free(&snaps);
	return err;
}

void
cm_trunks_free(struct callmgr *cm)
{
	for (size_t i = 0; cm->trunks && i < cm->ntrunks; i++) {
		struct cm_trunk_rt *t = &cm->trunks[i];
		for (size_t j = 0; j < t->ndests; j++) {
			if (t->dests[j].ping)
				sip_ctrans_abandon(t->dests[j].ping);
			if (t->dests[j].timer)
				event_free(t->dests[j].timer);
		}
		free(t->dests);
	}
	free(cm->trunks);
	cm->trunks = NULL;
	cm->ntrunks = 0;
}
