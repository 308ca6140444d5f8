/* The voicemail daemon: configuration, TLS identities and trust (with the ITL), listeners, prompts, port groups, request dispatch, signals. */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ctl.h"
#include "core/log.h"
#include "daemon/daemon.h"
#include "media/stream.h"
#include "sip/enc.h"
#include "store/store.h"
#include "tls/ctx.h"
#include "tls/ident.h"
#include "tls/peer.h"
#include "voicemail/itl.h"
#include "voicemail/vm.h"

/* Prompts the call flow cannot do without. */
static const char *const required_prompts[] = {
    "opening_greeting",
    "greeting_standard_pre",
    "greeting_unavailable",
    "greeting_busy",
    "beep",
    "enter_pin",
    "goodbye",
    "digit_0",
    NULL,
};

void
vm_local_addr(struct voicemail *vm, enum sip_proto proto, int family,
    struct sa *la, char *host, size_t hostsz)
{
	if (sip_tp_laddr(sip_stack_tp(vm->stack), proto, family, la) != 0)
		*la = proto == SIP_PROTO_TLS ? vm->tls_addr : vm->sip_addr;
	sa_ntop(la, host, hostsz);
}

const struct media_clip *
vm_prompt(const struct voicemail *vm, const char *name)
{
	for (size_t i = 0; i < vm->nprompts; i++) {
		if (strcmp(vm->prompts[i].name, name) == 0)
			return vm->prompts[i].clip;
	}
	return NULL;
}

const struct media_clip *
vm_greeting(const struct voicemail *vm, const struct vm_mailbox *mb, bool busy)
{
	size_t i = (size_t)(mb - vm->cfg->mailboxes);

	if (vm->greetings == NULL || i >= vm->cfg->nmailboxes)
		return NULL;
	if (busy && vm->greetings[2 * i + 1])
		return vm->greetings[2 * i + 1];
	return vm->greetings[2 * i];
}

/* ---- prompts and greetings ---- */

static int
load_prompts(struct voicemail *vm)
{
	const char *dir = vm->cfg->general.prompts_dir;
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	if (d == NULL) {
		log_err(
		    "voicemail: prompts directory %s: %s (build the prompts "
		    "with make, or set prompts_dir in [general])",
		    dir, strerror(errno));
		return ENOENT;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char path[4096], err[200];
		struct media_clip *clip;
		if (n < 5 || strcmp(de->d_name + n - 4, ".wav") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (media_clip_load(&clip, path, err, sizeof(err)) != 0) {
			log_warn("voicemail: prompt %s skipped: %s", path, err);
			continue;
		}
		if (vm->nprompts == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct vm_prompt *np =
			    realloc(vm->prompts, nc * sizeof(*np));
			if (np == NULL) {
				media_clip_free(clip);
				closedir(d);
				return ENOMEM;
			}
			vm->prompts = np;
			cap = nc;
		}
		vm->prompts[vm->nprompts].name = strndup(de->d_name, n - 4);
		vm->prompts[vm->nprompts].clip = clip;
		vm->nprompts++;
	}
	closedir(d);
	for (const char *const *p = required_prompts; *p; p++) {
		if (vm_prompt(vm, *p) == NULL) {
			log_err("voicemail: prompts directory %s has no %s.wav "
			        "(build the prompts with make, or set "
			        "prompts_dir in [general])",
			    dir, *p);
			return ENOENT;
		}
	}
	log_info("voicemail: %zu prompts from %s", vm->nprompts, dir);
	return 0;
}

static int
load_clip(const char *path, struct media_clip **cp)
{
	char err[200];
	int rc = media_clip_load(cp, path, err, sizeof(err));

	if (rc != 0)
		log_err("voicemail: greeting %s: %s", path, err);
	return rc;
}

static int
load_greetings(struct voicemail *vm)
{
	const struct vm_config *cfg = vm->cfg;
	int rc;

	if (cfg->nmailboxes == 0)
		return 0;
	vm->greetings = calloc(2 * cfg->nmailboxes, sizeof(*vm->greetings));
	if (vm->greetings == NULL)
		return ENOMEM;
	for (size_t i = 0; i < cfg->nmailboxes; i++) {
		const struct vm_mailbox *m = &cfg->mailboxes[i];
		char path[4096];
		for (int busy = 0; busy < 2; busy++) {
			const char *p =
			    busy ? m->busy_greeting : m->standard_greeting;
			if (p == NULL && m->greetings_dir) {
				snprintf(path, sizeof(path), "%s/%s",
				    m->greetings_dir,
				    busy ? "busy.wav" : "standard.wav");
				if (access(path, R_OK) == 0)
					p = path;
			}
			if (p &&
			    (rc = load_clip(p, &vm->greetings[2 * i + busy])))
				return rc;
		}
	}
	return 0;
}

/* ---- TLS ---- */

/* TLS options from [certificates] and the TLS Ciphers option. */
static bool
tls_opts_of(const struct vm_config *cfg, struct tls_opts *o)
{
	const struct vm_certificates *c = &cfg->certs;
	const struct tls_ident_files f = {.rsa_cert = c->tomcat,
	    .rsa_key = c->tomcat_key,
	    .ec_cert = c->tomcat_ecdsa,
	    .ec_key = c->tomcat_ecdsa_key,
	    .trust = c->callmanager_trust};

	if (!tls_opts_identities(o, &f))
		return false;
	o->ciphers = cfg->general.tls_ciphers;
	/* A port group in Security Mode Authenticated (no NGE): NULL-SHA. */
	for (size_t i = 0; i < cfg->ngroups; i++) {
		const struct vm_port_group *g = &cfg->groups[i];
		if (g->sip_security_profile == VM_PROFILE_5061_TLS &&
		    !g->enable_next_generation_encryption &&
		    g->security_mode == VM_SEC_AUTHENTICATED)
			o->also_authenticated = true;
	}
	o->allow_tls13 = cfg->general.tls13;
	o->keylog_file = cfg->general.keylog_file;
	o->what = "voicemail SIP TLS";
	return true;
}

/*
 * Contexts from [certificates] and TLS Ciphers: the tomcat and
 * tomcat-ECDSA identities, CallManager-trust, plus the call manager
 * certificates that the port groups' ITLs list.
 */
static int
make_tls(struct voicemail *vm, SSL_CTX **sctx, SSL_CTX **cctx)
{
	struct tls_opts o;
	int err;

	if ((err = tls_ctx_pair_new(
	         sctx, cctx, tls_opts_of(vm->cfg, &o) ? &o : NULL)) != 0 ||
	    *sctx == NULL)
		return err; /* failed, or no TLS */
	for (size_t i = 0; i < vm->ngroups; i++) {
		STACK_OF(X509) *certs = vm->groups[i].itl_certs;
		for (int j = 0; certs && j < sk_X509_num(certs); j++) {
			X509 *x = sk_X509_value(certs, j);
			X509_STORE_add_cert(SSL_CTX_get_cert_store(*sctx), x);
			X509_STORE_add_cert(SSL_CTX_get_cert_store(*cctx), x);
		}
	}
	return 0;
}

int
vm_check_identities(struct vm_config *cfg, char *why, size_t whysz)
{
	struct tls_opts o;

	return tls_ctx_pair_check(tls_opts_of(cfg, &o) ? &o : NULL, why, whysz);
}

int
vm_tls_refresh(struct voicemail *vm)
{
	SSL_CTX *s, *c;
	int err;

	if ((err = make_tls(vm, &s, &c)) != 0)
		return err;
	if (s == NULL)
		return 0;
	if (vm->tls_server) {
		sip_tp_replace_tls(sip_stack_tp(vm->stack), vm->tls_server, s);
		sip_tp_replace_tls(sip_stack_tp(vm->stack), vm->tls_client, c);
		SSL_CTX_free(vm->tls_server);
		SSL_CTX_free(vm->tls_client);
	}
	vm->tls_server = s;
	vm->tls_client = c;
	return 0;
}

/* ---- port groups ---- */

static void
group_servers_free(struct vm_group_rt *g)
{
	for (size_t i = 0; i < g->nservers; i++)
		free(g->servers[i].host);
	free(g->servers);
	g->servers = NULL;
	g->nservers = 0;
	for (size_t i = 0; i < g->ntftp; i++)
		free(g->tftp[i]);
	free(g->tftp);
	g->tftp = NULL;
	g->ntftp = 0;
}

/* Copies the server lists of a port group's configuration. */
static int
group_servers_set(struct vm_group_rt *g, const struct vm_port_group *pg)
{
	size_t n = 0;

	group_servers_free(g);
	g->servers = calloc(pg->nservers, sizeof(*g->servers));
	for (char **p = pg->tftp_server; p && *p; p++)
		n++;
	g->tftp = calloc(n + 1, sizeof(*g->tftp));
	if (g->servers == NULL || g->tftp == NULL)
		return ENOMEM;
	for (size_t i = 0; i < pg->nservers; i++) {
		struct vm_server_rt *s = &g->servers[g->nservers++];
		if ((s->host = strdup(pg->servers[i].host)) == NULL)
			return ENOMEM;
		s->port = pg->servers[i].port;
		s->tls_port = pg->servers[i].tls_port;
		s->resolved = sa_resolve(&s->addr, s->host, 0, 0) == 0;
		if (!s->resolved)
			log_warn(
			    "port group %s: SIP server %s does not resolve "
			    "(calls from it are refused)",
			    pg->name, s->host);
	}
	for (size_t i = 0; i < n; i++) {
		if ((g->tftp[i] = strdup(pg->tftp_server[i])) == NULL)
			return ENOMEM;
		g->ntftp++;
	}
	return 0;
}

static bool
group_lists_equal(const struct vm_group_rt *g, const struct vm_port_group *pg)
{
	size_t n = 0;

	if (g->nservers != pg->nservers)
		return false;
	for (size_t i = 0; i < pg->nservers; i++) {
		if (strcasecmp(g->servers[i].host, pg->servers[i].host) != 0 ||
		    g->servers[i].port != pg->servers[i].port ||
		    g->servers[i].tls_port != pg->servers[i].tls_port)
			return false;
	}
	for (char **p = pg->tftp_server; p && *p; p++, n++) {
		if (n >= g->ntftp || strcasecmp(g->tftp[n], *p) != 0)
			return false;
	}
	return n == g->ntftp;
}

static int
groups_init(struct voicemail *vm)
{
	const struct vm_config *cfg = vm->cfg;
	int rc;

	vm->groups = calloc(cfg->ngroups, sizeof(*vm->groups));
	if (vm->groups == NULL)
		return ENOMEM;
	vm->ngroups = cfg->ngroups;
	for (size_t i = 0; i < cfg->ngroups; i++) {
		struct vm_group_rt *g = &vm->groups[i];
		const struct vm_port_group *pg = &cfg->groups[i];
		g->vm = vm;
		g->cfg = pg;
		g->proto = pg->sip_security_profile == VM_PROFILE_5061_TLS
		               ? SIP_PROTO_TLS
		           : pg->sip_security_profile == VM_PROFILE_5060_TCP
		               ? SIP_PROTO_TCP
		               : SIP_PROTO_UDP;
		if ((rc = group_servers_set(g, pg)) != 0)
			return rc;
		if (pg->ports && pg->ports->enabled) {
			g->nports = pg->ports->number_of_ports;
			g->ports = calloc(g->nports, sizeof(*g->ports));
			if (g->ports == NULL)
				return ENOMEM;
			for (size_t j = 0; j < g->nports; j++)
				g->ports[j].number = (unsigned)j + 1;
		}
	}
	return 0;
}

/* ---- the ITL ---- */

static void
itl_req(struct voicemail *vm, struct vm_group_rt *g, struct vm_itl_req *r,
    char *cache, size_t cachesz)
{
	snprintf(cache, cachesz, "%s/itl", vm->cfg->general.storage_path);
	memset(r, 0, sizeof(*r));
	r->portgroup = g->cfg->name;
	r->hosts = (const char *const *)g->tftp;
	r->nhosts = g->ntftp;
	r->port = g->cfg->tftp_https_port;
	r->cache_dir = cache;
	r->signer_cert = vm->cfg->certs.itl_signer;
	r->https_ciphers = vm->cfg->general.https_ciphers;
	r->allow_tls13 = vm->cfg->general.tls13;
	r->tomcat_trust = vm->cfg->certs.tomcat_trust;
}

/* Takes the ITL's certificates into the group's trust. */
static void
itl_apply(struct vm_group_rt *g, struct vm_itl_result *r)
{
	snprintf(g->itl_source, sizeof(g->itl_source), "%s%s%s",
	    vm_itl_source_name(r->source), r->url[0] ? " " : "", r->url);
	snprintf(g->itl_signer, sizeof(g->itl_signer), "%s", r->signer);
	g->itl_records = (unsigned)r->nrecords;
	g->itl_fetched = r->fetched;
	snprintf(
	    g->itl_error, sizeof(g->itl_error), "%s", r->err ? r->why : "");
	if (r->certs) {
		if (g->itl_certs)
			sk_X509_pop_free(g->itl_certs, X509_free);
		g->itl_certs = r->certs;
		r->certs = NULL;
	}
}

static void
itl_done_h(struct vm_itl_result *r, void *arg)
{
	struct vm_group_rt *g = arg;

	g->itl_fetch = NULL;
	if (r->err)
		log_warn("port group %s: ITL download failed: %s%s",
		    g->cfg->name, r->why,
		    r->source == VM_ITL_STORED ? " (the stored ITL stays)"
		                               : "");
	else
		log_info("port group %s: ITL from %s: %zu records, signature "
		         "OK%s, signer %s",
		    g->cfg->name, r->url, r->nrecords,
		    r->tofu ? " (trusted on first use)" : "", r->signer);
	itl_apply(g, r);
	if (vm_tls_refresh(g->vm) != 0)
		log_err("port group %s: the TLS trust could not be rebuilt "
		        "with the ITL",
		    g->cfg->name);
}

static void
itl_start(struct voicemail *vm, struct vm_group_rt *g)
{
	struct vm_itl_req r;
	char cache[4096];

	if (g->ntftp == 0 || g->itl_fetch)
		return;
	itl_req(vm, g, &r, cache, sizeof(cache));
	if (vm_itl_fetch(&g->itl_fetch, vm->base, &r, itl_done_h, g) != 0)
		g->itl_fetch = NULL;
}

/* At start: the stored ITL counts until the download finishes. */
static void
itl_load(struct voicemail *vm, struct vm_group_rt *g)
{
	struct vm_itl_result res;
	struct vm_itl_req r;
	char cache[4096];

	if (g->ntftp == 0)
		return;
	itl_req(vm, g, &r, cache, sizeof(cache));
	memset(&res, 0, sizeof(res));
	if (vm_itl_load_stored(&r, &res) == 0)
		itl_apply(g, &res);
	vm_itl_result_clear(&res);
}

int
vm_group_reset(struct voicemail *vm, const char *name, char *msg, size_t msgsz)
{
	struct vm_config *ncfg;
	struct conf_err err;
	char e[600];

	for (size_t i = 0; i < vm->ngroups; i++) {
		struct vm_group_rt *g = &vm->groups[i];
		if (strcasecmp(g->cfg->name, name) != 0)
			continue;
		if (vm_config_load(&ncfg, vm->cfg_path, &err) != 0) {
			snprintf(msg, msgsz,
			    "reset refused, the port group keeps its servers: "
			    "%s",
			    conf_err_str(&err, e, sizeof(e)));
			return EINVAL;
		}
		const struct vm_port_group *npg = vm_config_group(ncfg, name);
		if (npg && group_servers_set(g, npg) != 0) {
			vm_config_free(ncfg);
			snprintf(msg, msgsz, "out of memory");
			return ENOMEM;
		}
		vm_config_free(ncfg);
		g->reset_required = false;
		vm_itl_fetch_cancel(g->itl_fetch);
		g->itl_fetch = NULL;
		itl_start(vm, g);
		snprintf(msg, msgsz,
		    "port group %s reset: %zu SIP server(s), %zu TFTP "
		    "server(s)%s",
		    g->cfg->name, g->nservers, g->ntftp,
		    g->ntftp ? ", ITL download started" : "");
		log_info("%s", msg);
		return 0;
	}
	snprintf(msg, msgsz, "no port group named %s", name);
	return ENOENT;
}

/* ---- requests ---- */

/*
 * The port group a request came from: its source address is one of the
 * group's SIP servers, over the group's transport, and over TLS the
 * server's verified certificate carries the server's host name.
 */
static struct vm_group_rt *
group_of(struct voicemail *vm, const struct sip_rx *rx, char *why, size_t whysz)
{
	char src[SA_FMT_MAX];

	why[0] = '\0';
	sa_fmt(&rx->peer, src, sizeof(src));
	for (size_t i = 0; i < vm->ngroups; i++) {
		struct vm_group_rt *g = &vm->groups[i];
		for (size_t j = 0; j < g->nservers; j++) {
			struct vm_server_rt *s = &g->servers[j];
			struct sa p = rx->peer;
			sa_set_port(&p, 0);
			if (!s->resolved || !sa_eq(&s->addr, &p))
				continue;
			if (rx->proto != g->proto) {
				snprintf(why, whysz,
				    "%s is a SIP server of port group %s, "
				    "which takes %s only (came over %s)",
				    src, g->cfg->name, sip_proto_name(g->proto),
				    sip_proto_name(rx->proto));
				continue;
			}
			if (g->proto == SIP_PROTO_TLS &&
			    !conf_is_ipv4(s->host) && !conf_is_ipv6(s->host) &&
			    !tls_peer_name_ok(rx->peer_cert, s->host)) {
				tls_peer_name_why(
				    rx->peer_cert, src, s->host, why, whysz);
				continue;
			}
			return g;
		}
	}
	if (why[0] == '\0')
		snprintf(why, whysz, "%s is not a SIP server of any port group",
		    src);
	return NULL;
}

static void
req_h(struct sip_stack *s, const struct sip_msg *m, const struct sip_rx *rx,
    void *arg)
{
	struct voicemail *vm = arg;
	char why[600];

	if (slice_isset(m->to.tag) || sip_method_eq(m->method, "ACK")) {
		if (!vm_call_in_dialog(vm, m, rx) &&
		    !sip_method_eq(m->method, "ACK"))
			sip_stack_reply(
			    s, m, rx, 481, NULL, SLICE_NULL, SLICE_NULL);
		return;
	}
	struct vm_group_rt *g = group_of(vm, rx, why, sizeof(why));
	if (g == NULL) {
		log_warn("voicemail: %.*s refused: %s", (int)m->method.n,
		    m->method.p, why);
		vm->calls_refused++;
		sip_stack_reply(s, m, rx, 403,
		    "Not a SIP server of a port group", SLICE_LIT("vm"),
		    SLICE_NULL);
		return;
	}
	if (sip_method_eq(m->method, "OPTIONS")) {
		/* The call manager's OPTIONS ping: we are in service. */
		sip_stack_reply(s, m, rx, 200, NULL, SLICE_LIT("vm"),
		    SLICE_LIT("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, "
		              "INFO, NOTIFY\r\n"
		              "Accept: application/sdp\r\n"));
		return;
	}
	if (sip_method_eq(m->method, "INVITE")) {
		vm_call_invite(vm, g, m, rx);
		return;
	}
	struct sip_strans *st;
	if (sip_strans_alloc(&st, s, m, rx, NULL, NULL) == 0)
		sip_strans_reply(st, 405, NULL, SLICE_LIT("vm"),
		    SLICE_LIT("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, "
		              "INFO\r\n"),
		    SLICE_NULL, SLICE_NULL);
}

static void
conn_lost_h(struct sip_conn *c, int err, void *arg)
{
	(void)err;
	vm_calls_conn_lost(arg, c);
}

/* ---- signals ---- */

/*
 * SIGHUP: re-read the file. Certificates, trust and TLS Ciphers apply to
 * new connections; a port group whose server lists changed shows "Reset
 * Required" until `ngvoice portgroup reset` (the guide's Reset button).
 */
static void
reload_h(void *arg)
{
	struct voicemail *vm = arg;
	struct vm_config *ncfg, *old = vm->cfg;
	struct conf_err err;
	char msg[600];

	if (vm_config_load(&ncfg, vm->cfg_path, &err) != 0) {
		log_err("reload refused, the running configuration stays: %s",
		    conf_err_str(&err, msg, sizeof(msg)));
		return;
	}
	for (size_t i = 0; i < vm->ngroups; i++) {
		struct vm_group_rt *g = &vm->groups[i];
		const struct vm_port_group *npg =
		    vm_config_group(ncfg, g->cfg->name);
		if (npg && !group_lists_equal(g, npg)) {
			g->reset_required = true;
			log_info("port group %s: servers changed: Reset "
			         "Required (ngvoice portgroup reset %s)",
			    g->cfg->name, g->cfg->name);
		}
	}
	/* Certificates: build with the new paths, keep the old objects. */
	struct vm_certificates oc = old->certs;
	old->certs = ncfg->certs;
	SSL_CTX *ts = NULL, *tc = NULL;
	if (make_tls(vm, &ts, &tc) == 0 && ts &&
	    !tls_ctx_identities_current(ts, msg, sizeof(msg)))
		log_err("reload: %s; the running TLS identities stay", msg);
	else if (vm_tls_refresh(vm) != 0)
		log_err("reload: the TLS identities of %s do not load; the old "
		        "ones stay",
		    vm->cfg_path);
	SSL_CTX_free(ts);
	SSL_CTX_free(tc);
	old->certs = oc;
	vm_config_free(ncfg);
	log_info("reloaded %s: certificates and trust apply to new "
	         "connections; other changes need a restart",
	    vm->cfg_path);
}

/* ---- life cycle ---- */

int
vm_alloc(struct voicemail **vp, struct event_base *base, const char *path,
    struct conf_err *err)
{
	struct voicemail *vm = calloc(1, sizeof(*vm));
	int rc;

	if (vm == NULL)
		return ENOMEM;
	vm->base = base;
	vm_calls_init(vm);
	if ((vm->cfg_path = strdup(path)) == NULL) {
		free(vm);
		return ENOMEM;
	}
	if ((rc = vm_config_load(&vm->cfg, path, err)) != 0) {
		free(vm->cfg_path);
		free(vm);
		return rc;
	}
	*vp = vm;
	return 0;
}

static int
open_store(struct voicemail *vm)
{
	const struct vm_config *cfg = vm->cfg;
	char err[512];
	int rc;

	if ((rc = store_open(&vm->store, cfg->general.storage_path, err,
	         sizeof(err))) != 0) {
		log_err("voicemail: %s", err);
		return rc;
	}
	for (size_t i = 0; i < cfg->nmailboxes; i++) {
		if ((rc = store_mailbox_ensure(vm->store,
		         cfg->mailboxes[i].extension,
		         cfg->mailboxes[i].owner_name)) != 0)
			return rc;
	}
	return 0;
}

static int
start_listeners(struct voicemail *vm)
{
	const struct vm_general *ge = &vm->cfg->general;
	struct sip_tp *tp = sip_stack_tp(vm->stack);
	bool want_tls = false, want_plain = false;
	struct sa a;
	int err;

	for (size_t i = 0; i < vm->ngroups; i++) {
		if (vm->groups[i].proto == SIP_PROTO_TLS)
			want_tls = true;
		else
			want_plain = true;
	}
	if (sa_resolve(&a, ge->listen_address, ge->sip_port, 0) != 0) {
		log_err("voicemail: listen_address %s does not resolve",
		    ge->listen_address);
		return EINVAL;
	}
	if (want_plain &&
	    ((err = sip_tp_listen(
	          tp, SIP_PROTO_UDP, &a, NULL, &vm->sip_addr)) ||
	        (err = sip_tp_listen(tp, SIP_PROTO_TCP, &a, NULL, NULL)))) {
		log_err("voicemail: cannot listen on %s port %u: %s",
		    ge->listen_address, ge->sip_port, strerror(err));
		return err;
	}
	if (want_tls) {
		if (vm->tls_server == NULL) {
			log_err(
			    "voicemail: 5061/TLS needs the tomcat identity");
			return EINVAL;
		}
		sa_set_port(&a, ge->sip_tls_port);
		if ((err = sip_tp_listen(tp, SIP_PROTO_TLS, &a, vm->tls_server,
		         &vm->tls_addr))) {
			log_err(
			    "voicemail: cannot listen on %s TLS port %u: %s",
			    ge->listen_address, ge->sip_tls_port,
			    strerror(err));
			return err;
		}
	}
	return 0;
}

int
vm_start(struct voicemail *vm)
{
	const struct vm_general *ge = &vm->cfg->general;
	struct sip_stack_conf sc;
	struct media_loop_opts mo;
	char why[400];
	int err;

	if ((err = srtp_init()) != 0) {
		log_err("voicemail: SRTP ciphers unavailable in this OpenSSL");
		return err;
	}
	if ((err = groups_init(vm)) != 0 || (err = load_prompts(vm)) != 0 ||
	    (err = load_greetings(vm)) != 0 || (err = open_store(vm)) != 0)
		return err;
	for (size_t i = 0; i < vm->ngroups; i++)
		itl_load(vm, &vm->groups[i]);
	if ((err = make_tls(vm, &vm->tls_server, &vm->tls_client)) != 0)
		return err;
	if (vm->tls_server &&
	    !tls_ctx_identities_current(vm->tls_server, why, sizeof(why)))
		log_warn("voicemail: %s: TLS peers will refuse it", why);
	sip_stack_conf_default(&sc);
	sc.user_agent = "ngvoice-voicemail";
	if ((err = sip_stack_alloc(&vm->stack, vm->base, &sc, req_h, vm)) != 0)
		return err;
	if (vm->tls_client)
		sip_tp_set_client_tls(sip_stack_tp(vm->stack), vm->tls_client);
	sip_stack_set_conn_lost_h(vm->stack, conn_lost_h, vm);
	if ((err = start_listeners(vm)) != 0)
		return err;
	memset(&mo, 0, sizeof(mo));
	if (sa_resolve(&mo.local,
	        ge->rtp_address ? ge->rtp_address : ge->listen_address, 0,
	        0) != 0) {
		log_err("voicemail: the RTP address does not resolve");
		return EINVAL;
	}
	if ((err = media_loop_alloc(&vm->media, vm->base, &mo)) != 0) {
		log_err("voicemail: cannot open the media sockets: %s",
		    strerror(err));
		return err;
	}
	vm->rtp_addr = mo.local;
	if (ge->pid_file &&
	    (err = ctl_pidfile_write(ge->pid_file, "voicemail")) != 0)
		return err;
	if ((err = vm_control_start(vm)) != 0 || (err = vm_mwi_start(vm)) != 0)
		return err;
	if ((err = daemon_signals_add(vm->base, "voicemail", reload_h, vm,
	         &vm->sig_hup, &vm->sig_term, &vm->sig_int)) != 0)
		return err;

	char t[SA_FMT_MAX], u[SA_FMT_MAX];
	unsigned nports = 0;
	for (size_t i = 0; i < vm->ngroups; i++)
		nports += (unsigned)vm->groups[i].nports;
	log_info("voicemail %s: SIP%s%s%s%s, %u ports, TLS Ciphers \"%s\", "
	         "SRTP Ciphers \"%s\"",
	    ge->host_name, vm->tls_server ? " TLS on " : "",
	    vm->tls_server ? sa_fmt(&vm->tls_addr, t, sizeof(t)) : "",
	    sa_port(&vm->sip_addr) ? " UDP/TCP on " : "",
	    sa_port(&vm->sip_addr) ? sa_fmt(&vm->sip_addr, u, sizeof(u)) : "",
	    nports, tls_ciphers_label(ge->tls_ciphers),
	    srtp_option_label((enum srtp_option)ge->srtp_ciphers));
	for (size_t i = 0; i < vm->ngroups; i++)
		itl_start(vm, &vm->groups[i]);
	return 0;
}

void
vm_free(struct voicemail *vm)
{
	if (vm == NULL)
		return;
	daemon_signals_free(&vm->sig_hup, &vm->sig_term, &vm->sig_int);
	if (vm->cfg && vm->cfg->general.pid_file && vm->stack)
		unlink(vm->cfg->general.pid_file);
	vm_control_stop(vm);
	vm_calls_free(vm);
	media_loop_free(vm->media);
	/* The stack may end transactions (MWI among them) as it goes. */
	sip_stack_free(vm->stack);
	vm_mwi_stop(vm);
	for (size_t i = 0; i < vm->ngroups; i++)
		vm_itl_fetch_cancel(vm->groups[i].itl_fetch);
	SSL_CTX_free(vm->tls_server);
	SSL_CTX_free(vm->tls_client);
	store_close(vm->store);
	for (size_t i = 0; i < vm->nprompts; i++) {
		free(vm->prompts[i].name);
		media_clip_free(vm->prompts[i].clip);
	}
	free(vm->prompts);
	for (size_t i = 0; vm->greetings && i < 2 * vm->cfg->nmailboxes; i++)
		media_clip_free(vm->greetings[i]);
	free(vm->greetings);
	for (size_t i = 0; i < vm->ngroups; i++) {
		group_servers_free(&vm->groups[i]);
		free(vm->groups[i].ports);
		if (vm->groups[i].itl_certs)
			sk_X509_pop_free(vm->groups[i].itl_certs, X509_free);
	}
	free(vm->groups);
	vm_config_free(vm->cfg);
	free(vm->cfg_path);
	free(vm);
}
