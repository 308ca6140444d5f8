/* The call manager daemon: configuration, TLS identities, listeners, request dispatch, signals. */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "callmgr/cm.h"
#include "callmgr/tftp.h"
#include "core/ctl.h"
#include "core/log.h"
#include "daemon/daemon.h"
#include "sip/enc.h"
#include "tls/ctx.h"
#include "tls/ident.h"
#include "tls/peer.h"

time_t
cm_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void
cm_local_addr(struct callmgr *cm, enum sip_proto proto, int family,
    struct sa *la, char *host, size_t hostsz)
{
	if (sip_tp_laddr(sip_stack_tp(cm->stack), proto, family, la) != 0)
		*la = cm->sip_addr;
	sa_ntop(la, host, hostsz);
}

double
cm_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* TLS options from [certificates] and the TLS Ciphers enterprise parameter. */
static bool
tls_opts_of(const struct cm_config *cfg, struct tls_opts *o)
{
	const struct cm_certificates *c = &cfg->certs;
	const struct tls_ident_files f = {.rsa_cert = c->callmanager,
	    .rsa_key = c->callmanager_key,
	    .ec_cert = c->callmanager_ecdsa,
	    .ec_key = c->callmanager_ecdsa_key,
	    .trust = c->callmanager_trust};

	if (!tls_opts_identities(o, &f))
		return false; /* no TLS: validation allows it only without Encrypted */
	o->ciphers = cfg->enterprise.tls_ciphers;
	/* Authenticated lines or trunk profiles share the TLS port. */
	for (size_t i = 0; i < cfg->ndns; i++)
		if (cfg->dns[i].device_security_mode == CM_SEC_AUTHENTICATED)
			o->also_authenticated = true;
	for (size_t i = 0; i < cfg->nprofiles; i++)
		if (cfg->profiles[i].device_security_mode ==
		    CM_SEC_AUTHENTICATED)
			o->also_authenticated = true;
	o->allow_tls13 = cfg->enterprise.tls13;
	o->keylog_file = cfg->enterprise.keylog_file;
	o->what = "callmanager SIP TLS";
	return true;
}

/* The TLS contexts, both NULL without an identity. */
static int
make_tls(struct callmgr *cm, SSL_CTX **sctx, SSL_CTX **cctx)
{
	struct tls_opts o;

	return tls_ctx_pair_new(
	    sctx, cctx, tls_opts_of(cm->cfg, &o) ? &o : NULL);
}

int
cm_check_identities(struct cm_config *cfg, char *why, size_t whysz)
{
	struct tls_opts o;

	return tls_ctx_pair_check(tls_opts_of(cfg, &o) ? &o : NULL, why, whysz);
}

/*
 * The trunk a request came from: its source address is one of the trunk's
 * destinations and, over TLS, its verified certificate carries the
 * profile's X.509 subject name. NULL when none.
 */
static const struct cm_trunk_rt *
trunk_of(struct callmgr *cm, const struct sip_rx *rx, char *why, size_t whysz)
{
	why[0] = '\0';
	for (size_t i = 0; i < cm->ntrunks; i++) {
		const struct cm_trunk_rt *t = &cm->trunks[i];
		for (size_t j = 0; j < t->ndests; j++) {
			struct sa a = t->dests[j].addr, p = rx->peer;
			sa_set_port(&a, 0);
			sa_set_port(&p, 0);
			if (!t->dests[j].resolved || !sa_eq(&a, &p))
				continue;
			if (t->proto == SIP_PROTO_TLS &&
			    rx->proto != SIP_PROTO_TLS)
				continue;
			if (t->proto == SIP_PROTO_TLS && rx->conn &&
			    t->cfg->profile->device_security_mode ==
			        CM_SEC_ENCRYPTED &&
			    !tls_ssl_encrypted(sip_conn_ssl(rx->conn))) {
				snprintf(why, whysz,
				    "trunk %s is Encrypted, the peer "
				    "negotiated NULL-SHA",
				    t->cfg->name);
				continue;
			}
			if (t->proto == SIP_PROTO_TLS &&
			    !tls_peer_name_ok(rx->peer_cert,
			        t->cfg->profile->x509_subject_name)) {
				/*
				 * Said only if the request is refused in the
				 * end: on one host, phones share the address.
				 */
				char src[SA_FMT_MAX];
				sa_fmt(&rx->peer, src, sizeof(src));
				tls_peer_name_why(rx->peer_cert, src,
				    t->cfg->profile->x509_subject_name, why,
				    whysz);
				continue;
			}
			return t;
		}
	}
	return NULL;
}

/*
 * Who may place a call: a line over the flow it registered on (the same
 * connection, or the same address for UDP), or a trunk's destination
 * (over TLS its certificate carries the X.509 subject name).
 */
static bool
cm_caller_allowed(struct callmgr *cm, const struct sip_msg *m,
    const struct sip_rx *rx, const struct cm_trunk_rt *from_trunk,
    const struct cm_dn **caller)
{
	char user[64];

	if (sip_unescape(m->from.uri.user, user, sizeof(user), NULL) == 0) {
		struct cm_line *l = cm_line_find(cm, user);
		struct list *pos;
		for (pos = l ? l->bindings.next : NULL;
		     l && pos != &l->bindings; pos = pos->next) {
			struct cm_binding *b =
			    container_of(pos, struct cm_binding, le);
			if (b->proto == rx->proto &&
			    ((rx->conn && b->conn == rx->conn) ||
			        (!rx->conn && sa_eq(&b->src, &rx->peer)))) {
				*caller = l->dn;
				return true;
			}
		}
	}
	*caller = NULL;
	return from_trunk != NULL;
}

static void
req_h(struct sip_stack *s, const struct sip_msg *m, const struct sip_rx *rx,
    void *arg)
{
	struct callmgr *cm = arg;

	if (sip_method_eq(m->method, "ACK"))
		return;
	if (sip_method_eq(m->method, "REGISTER")) {
		cm_registrar_request(cm, m, rx);
		return;
	}
	if (sip_method_eq(m->method, "OPTIONS")) {
		sip_stack_reply(s, m, rx, 200, NULL, SLICE_LIT("cm"),
		    SLICE_LIT("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, "
		              "REGISTER, NOTIFY\r\n"
		              "Accept: application/sdp\r\n"));
		return;
	}
	if (slice_isset(m->to.tag)) {
		if (!cm_call_in_dialog(cm, m, rx))
			sip_stack_reply(
			    s, m, rx, 481, NULL, SLICE_NULL, SLICE_NULL);
		return;
	}
	/*
	 * The trunk security profile's accept flags (protocol-notes 5.1):
	 * what a profile does not accept gets 403 with the reason.
	 */
	char trunk_why[800];
	const struct cm_trunk_rt *from_trunk =
	    trunk_of(cm, rx, trunk_why, sizeof(trunk_why));
	if (from_trunk) {
		const struct cm_trunk_security_profile *p =
		    from_trunk->cfg->profile;
		const char *refused = NULL;
		if (sip_method_eq(m->method, "REFER") &&
		    !p->accept_out_of_dialog_refer)
			refused =
			    "Out-of-dialog REFER not accepted on this trunk";
		else if (sip_method_eq(m->method, "SUBSCRIBE") &&
		         !p->accept_presence_subscription)
			refused = "Presence subscription not accepted on this "
			          "trunk";
		else if (sip_method_eq(m->method, "INVITE") &&
		         sip_msg_hdr_byname(m, "Replaces") &&
		         !p->accept_replaces_header)
			refused = "Replaces not accepted on this trunk";
		if (!refused && p->enable_digest_authentication &&
		    !sip_method_eq(m->method, "CANCEL") &&
		    !cm_trunk_authorised(cm, m, rx, from_trunk->cfg->name))
			return;
		if (refused) {
			log_info("trunk %s: %.*s refused by security profile "
			         "%s: %s",
			    from_trunk->cfg->name, (int)m->method.n,
			    m->method.p, p->name, refused);
			sip_stack_reply(s, m, rx, 403, refused, SLICE_LIT("cm"),
			    SLICE_NULL);
			return;
		}
	}
	if (sip_method_eq(m->method, "INVITE")) {
		const struct cm_dn *caller = NULL;
		if (!cm_caller_allowed(cm, m, rx, from_trunk, &caller)) {
			char a[SA_FMT_MAX];
			log_warn("call from %s refused: neither a registered "
			         "line's flow nor a trunk destination%s%s",
			    sa_fmt(&rx->peer, a, sizeof(a)),
			    trunk_why[0] ? ": " : "", trunk_why);
			sip_stack_reply(s, m, rx, 403,
			    "Not a registered line or a known trunk",
			    SLICE_LIT("cm"), SLICE_NULL);
			return;
		}
		cm_call_invite(cm, m, rx, caller);
		return;
	}
	if (sip_method_eq(m->method, "NOTIFY")) {
		if (from_trunk == NULL && trunk_why[0])
			log_warn("mwi: NOTIFY refused: %s", trunk_why);
		cm_mwi_request(cm, m, rx, from_trunk);
		return;
	}
	struct sip_strans *st;
	if (sip_strans_alloc(&st, s, m, rx, NULL, NULL) == 0)
		sip_strans_reply(st, 501, "Not implemented in this build",
		    SLICE_LIT("cm"),
		    SLICE_LIT("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, "
		              "REGISTER\r\n"),
		    SLICE_NULL, SLICE_NULL);
}

static void retired_free(struct callmgr *cm);

static void
conn_lost_h(struct sip_conn *c, int err, void *arg)
{
	cm_calls_conn_lost(arg, c, err);
}

static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct callmgr *cm = arg;

	(void)fd;
	(void)what;
	cm_registrar_sweep(cm);
	if (cm->retired && list_empty(&cm->calls))
		retired_free(cm);
}

/*
 * Settings the sockets and files were opened with: a reload keeps the
 * running values (copied into the new configuration) and names them.
 */
static void
keep_sockets(
    const struct cm_config *old, struct cm_config *n, char *why, size_t whysz)
{
	struct cm_enterprise *ne = &n->enterprise;
	const struct cm_enterprise *oe = &old->enterprise;
	size_t len = 0;

#define KEEP_STR(f)                                                            \
	do {                                                                   \
		if ((oe->f == NULL) != (ne->f == NULL) ||                      \
		    (oe->f && strcmp(oe->f, ne->f) != 0)) {                    \
			len += (size_t)snprintf(why + len,                     \
			    len < whysz ? whysz - len : 0, "%s%s",             \
			    len ? ", " : "", #f);                              \
			free(ne->f);                                           \
			ne->f = oe->f ? strdup(oe->f) : NULL;                  \
		}                                                              \
	} while (0)
#define KEEP_NUM(f)                                                            \
	do {                                                                   \
		if (oe->f != ne->f) {                                          \
			len += (size_t)snprintf(why + len,                     \
			    len < whysz ? whysz - len : 0, "%s%s",             \
			    len ? ", " : "", #f);                              \
			ne->f = oe->f;                                         \
		}                                                              \
	} while (0)
	KEEP_STR(host_name);
	KEEP_STR(listen_address);
	KEEP_NUM(sip_port);
	KEEP_NUM(sip_tls_port);
	KEEP_NUM(tftp_https_port);
	KEEP_STR(control_socket);
	KEEP_STR(pid_file);
#undef KEEP_STR
#undef KEEP_NUM
}

/* An old configuration stays until no call uses it. */
static void
retire(struct callmgr *cm, struct cm_config *old)
{
	if (list_empty(&cm->calls)) {
		cm_config_free(old);
		return;
	}
	old->retired_next = cm->retired;
	cm->retired = old;
}

static void
retired_free(struct callmgr *cm)
{
	while (cm->retired) {
		struct cm_config *c = cm->retired;
		cm->retired = c->retired_next;
		cm_config_free(c);
	}
}

/*
 * SIGHUP: re-read the file. Certificates, trust and the TLS Ciphers option
 * apply to new connections at once (open ones keep their sessions); the
 * rest of the file is checked, and changes to it need a restart for now.
 */
static void
reload_h(void *arg)
{
	struct callmgr *cm = arg;
	struct cm_config *ncfg, *old = cm->cfg;
	struct conf_err err;
	SSL_CTX *s, *c;
	char msg[600];

	if (cm_config_load(&ncfg, cm->cfg_path, &err) != 0) {
		log_err("reload refused, the running configuration stays: %s",
		    conf_err_str(&err, msg, sizeof(msg)));
		return;
	}
	cm->cfg = ncfg;
	if (make_tls(cm, &s, &c) != 0) {
		log_err("reload refused: the TLS identities of %s do not load",
		    cm->cfg_path);
		cm->cfg = old;
		cm_config_free(ncfg);
		return;
	}
	if (s && !tls_ctx_identities_current(s, msg, sizeof(msg))) {
		log_err(
		    "reload refused: %s; the running TLS identities stay", msg);
		SSL_CTX_free(s);
		SSL_CTX_free(c);
		cm->cfg = old;
		cm_config_free(ncfg);
		return;
	}
	if (s && cm->tls_server) {
		sip_tp_replace_tls(sip_stack_tp(cm->stack), cm->tls_server, s);
		sip_tp_replace_tls(sip_stack_tp(cm->stack), cm->tls_client, c);
		SSL_CTX_free(cm->tls_server);
		SSL_CTX_free(cm->tls_client);
		cm->tls_server = s;
		cm->tls_client = c;
	} else {
		SSL_CTX_free(s);
		SSL_CTX_free(c);
	}
	if (cm->tftp)
		cm_tftp_reload(cm->tftp, ncfg); /* re-signs the ITL */

	/*
	 * The rest of the file: what the sockets were opened with stays
	 * until a restart; lines, trunks, routes, pilots, profiles and the
	 * other enterprise parameters apply now. Registrations and trunk
	 * status carry over by name; calls in progress keep the objects they
	 * started with (the old configuration lives until they end).
	 */
	char restart[300] = "";
	keep_sockets(old, ncfg, restart, sizeof(restart));
	cm->cfg = ncfg;
	if (cm_registrar_rebind(cm, old) != 0 || cm_trunks_restart(cm) != 0) {
		/* Something may still point into the old one: keep it. */
		log_err("reload: out of memory while applying %s; restart the "
		        "call manager",
		    cm->cfg_path);
	} else {
		retire(cm, old);
	}
	log_info("reloaded %s: %zu line(s), %zu trunk(s), %zu route "
	         "pattern(s); certificates, trust and TLS Ciphers apply to new "
	         "connections%s%s",
	    cm->cfg_path, ncfg->ndns, ncfg->ntrunks, ncfg->nroutes,
	    restart[0] ? "; needs a restart: " : "", restart);
}

int
cm_alloc(struct callmgr **cmp, struct event_base *base, const char *path,
    struct conf_err *err)
{
	struct callmgr *cm = calloc(1, sizeof(*cm));
	int rc;

	if (cm == NULL)
		return ENOMEM;
	cm->base = base;
	cm_calls_init(cm);
	cm->cfg_path = strdup(path);
	if (cm->cfg_path == NULL) {
		free(cm);
		return ENOMEM;
	}
	if ((rc = cm_config_load(&cm->cfg, path, err)) != 0) {
		free(cm->cfg_path);
		free(cm);
		return rc;
	}
	*cmp = cm;
	return 0;
}

int
cm_start(struct callmgr *cm)
{
	const struct cm_enterprise *e = &cm->cfg->enterprise;
	struct sip_stack_conf sc;
	struct sa a;
	char why[400];
	int err;

	if ((err = make_tls(cm, &cm->tls_server, &cm->tls_client)) != 0)
		return err;
	if (cm->tls_server &&
	    !tls_ctx_identities_current(cm->tls_server, why, sizeof(why)))
		log_warn("callmanager: %s: TLS peers will refuse it", why);
	sip_stack_conf_default(&sc);
	sc.user_agent = "ngvoice-callmanager";
	if ((err = sip_stack_alloc(&cm->stack, cm->base, &sc, req_h, cm)) != 0)
		return err;
	if ((err = sip_auth_server_alloc(&cm->auth, e->host_name, 600)) != 0)
		return err;
	if (cm->tls_client)
		sip_tp_set_client_tls(sip_stack_tp(cm->stack), cm->tls_client);
	sip_stack_set_conn_lost_h(cm->stack, conn_lost_h, cm);
	if (sa_resolve(&a, e->listen_address, e->sip_port, 0) != 0) {
		log_err("callmanager: listen_address %s does not resolve",
		    e->listen_address);
		return EINVAL;
	}
	struct sip_tp *tp = sip_stack_tp(cm->stack);
	if ((err = sip_tp_listen(tp, SIP_PROTO_UDP, &a, NULL, &cm->sip_addr)) ||
	    (err = sip_tp_listen(tp, SIP_PROTO_TCP, &a, NULL, NULL))) {
		log_err("callmanager: cannot listen on %s port %u: %s",
		    e->listen_address, e->sip_port, strerror(err));
		return err;
	}
	if (cm->tls_server) {
		sa_set_port(&a, e->sip_tls_port);
		if ((err = sip_tp_listen(tp, SIP_PROTO_TLS, &a, cm->tls_server,
		         &cm->tls_addr))) {
			log_err("callmanager: cannot listen on %s TLS port %u: "
			        "%s",
			    e->listen_address, e->sip_tls_port, strerror(err));
			return err;
		}
	}
	if (e->pid_file &&
	    (err = ctl_pidfile_write(e->pid_file, "callmanager")) != 0)
		return err;
	char u[SA_FMT_MAX], t[SA_FMT_MAX];
	log_info("callmanager %s: SIP on %s (UDP, TCP)%s%s, TLS Ciphers \"%s\"",
	    e->host_name, sa_fmt(&cm->sip_addr, u, sizeof(u)),
	    cm->tls_server ? " and TLS on " : "",
	    cm->tls_server ? sa_fmt(&cm->tls_addr, t, sizeof(t)) : "",
	    tls_ciphers_label(e->tls_ciphers));

	/*
	 * The ITL service is not fatal: the SIP side runs without it (and
	 * another call manager on the host may hold port 6972).
	 */
	if ((err = cm_tftp_start(&cm->tftp, cm->base, cm->cfg)) != 0)
		log_err(
		    "callmanager: no TFTP HTTPS service (%s): the voicemail "
		    "server cannot download ITLFile.tlv",
		    strerror(err));

	cm_registrar_init(cm);
	if (cm->lines == NULL)
		return ENOMEM;
	if ((err = cm_trunks_start(cm)) != 0)
		return err;
	if ((err = cm_control_start(cm)) != 0)
		return err;
	cm->sweep = event_new(cm->base, -1, EV_PERSIST, sweep_cb, cm);
	struct timeval tv = {.tv_sec = 5, .tv_usec = 0};
	if (cm->sweep == NULL || event_add(cm->sweep, &tv) != 0)
		return ENOMEM;
	return daemon_signals_add(cm->base, "callmanager", reload_h, cm,
	    &cm->sig_hup, &cm->sig_term, &cm->sig_int);
}

void
cm_free(struct callmgr *cm)
{
	if (cm == NULL)
		return;
	daemon_signals_free(&cm->sig_hup, &cm->sig_term, &cm->sig_int);
	if (cm->sweep)
		event_free(cm->sweep);
	if (cm->cfg && cm->cfg->enterprise.pid_file && cm->stack)
		unlink(cm->cfg->enterprise.pid_file);
	cm_control_stop(cm);
	cm_tftp_free(cm->tftp);
	cm_calls_free(cm);
	cm_trunks_free(cm);
	cm_registrar_free(cm);
	cm_authfail_free(cm);
	sip_stack_free(cm->stack);
	sip_auth_server_free(cm->auth);
	SSL_CTX_free(cm->tls_server);
	SSL_CTX_free(cm->tls_client);
	cm_config_free(cm->cfg);
	retired_free(cm);
	free(cm->cfg_path);
	free(cm);
}
