/* The registrar: REGISTER with digest authentication, bindings with expiry, per line security mode. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callmgr/cm.h"
#include "core/log.h"
#include "sip/enc.h"
#include "tls/ctx.h"

#define REG_DEFAULT_EXPIRES 3600
#define REG_MIN_EXPIRES     60
#define REG_MAX_EXPIRES     7200
#define REG_MAX_BINDINGS    8

static void
binding_free(struct cm_binding *b)
{
	list_del(&b->le);
	sip_conn_unref(b->conn);
	free(b->contact);
	free(b->uri);
	free(b->callid);
	free(b->user_agent);
	free(b);
}

void
cm_registrar_init(struct callmgr *cm)
{
	cm->nlines = cm->cfg->ndns;
	cm->lines = calloc(cm->nlines ? cm->nlines : 1, sizeof(*cm->lines));
	for (size_t i = 0; cm->lines && i < cm->nlines; i++) {
		cm->lines[i].dn = &cm->cfg->dns[i];
		list_init(&cm->lines[i].bindings);
	}
}

void
cm_registrar_free(struct callmgr *cm)
{
	for (size_t i = 0; cm->lines && i < cm->nlines; i++) {
		struct list *pos, *tmp;
		list_for_each_safe(pos, tmp, &cm->lines[i].bindings)
		    binding_free(container_of(pos, struct cm_binding, le));
	}
	free(cm->lines);
	cm->lines = NULL;
	cm->nlines = 0;
}

int
cm_registrar_rebind(struct callmgr *cm, const struct cm_config *old)
{
	size_t n = cm->cfg->ndns;
	struct cm_line *nl = calloc(n ? n : 1, sizeof(*nl));

	(void)old;
	if (nl == NULL)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		nl[i].dn = &cm->cfg->dns[i];
		list_init(&nl[i].bindings);
		struct cm_line *ol = cm_line_find(cm, nl[i].dn->number);
		if (ol == NULL)
			continue;
		/* The number stays: its registrations and lamp stay too. */
		struct list *pos, *tmp;
		list_for_each_safe(pos, tmp, &ol->bindings)
		{
			list_del(pos);
			list_add_tail(&nl[i].bindings, pos);
		}
		nl[i].mwi_on = ol->mwi_on;
		memcpy(
		    nl[i].mwi_counts, ol->mwi_counts, sizeof(nl[i].mwi_counts));
	}
	/* Lines that are gone: their registrations end. */
	cm_registrar_free(cm);
	cm->lines = nl;
	cm->nlines = n;
	return 0;
}

struct cm_line *
cm_line_find(struct callmgr *cm, const char *number)
{
	for (size_t i = 0; i < cm->nlines; i++) {
		if (strcmp(cm->lines[i].dn->number, number) == 0)
			return &cm->lines[i];
	}
	return NULL;
}

void
cm_registrar_sweep(struct callmgr *cm)
{
	time_t now = cm_now();

	for (size_t i = 0; i < cm->nlines; i++) {
		struct list *pos, *tmp;
		list_for_each_safe(pos, tmp, &cm->lines[i].bindings)
		{
			struct cm_binding *b =
			    container_of(pos, struct cm_binding, le);
			if (b->expires_at <= now) {
				log_info("registrar: line %s: %s expired",
				    cm->lines[i].dn->number, b->uri);
				binding_free(b);
			}
		}
	}
}

static void
reply(struct callmgr *cm, const struct sip_msg *m, const struct sip_rx *rx,
    uint16_t code, const char *reason, const char *extra)
{
	struct sip_strans *st;

	if (sip_strans_alloc(&st, cm->stack, m, rx, NULL, NULL) != 0)
		return;
	sip_strans_reply(st, code, reason, SLICE_LIT("reg"),
	    slice_cstr(extra ? extra : ""), SLICE_NULL, SLICE_NULL);
}

static void
challenge(struct callmgr *cm, const struct sip_msg *m, const struct sip_rx *rx,
    bool stale)
{
	struct buf b;

	const struct cm_enterprise *e = &cm->cfg->enterprise;
	buf_init(&b);
	/* One header per algorithm, preferred first (RFC 8760 2.4). */
	for (size_t i = 0; i < e->ndigest_algorithms; i++) {
		BUF_LIT(&b, "WWW-Authenticate: ");
		sip_auth_challenge(cm->auth,
		    (enum sip_auth_alg)e->digest_algorithms[i], stale, &b);
		BUF_LIT(&b, "\r\n");
	}
	buf_append(&b, "", 1);
	if (b.err == 0)
		reply(cm, m, rx, 401, NULL, b.p);
	else
		reply(cm, m, rx, 500, "Out of memory", NULL);
	buf_free(&b);
}

/* Checks the credentials; replies and returns false when they do not pass. */
static bool
authorised(struct callmgr *cm, const struct cm_dn *dn, const struct sip_msg *m,
    const struct sip_rx *rx)
{
	const char *user = dn->digest_user ? dn->digest_user : dn->number;
	bool stale = false;

	if (cm_authfail_blocked(cm, &rx->peer)) {
		cm_authfail_note(
		    cm, &rx->peer, "blocked REGISTER for line", dn->number);
		reply(cm, m, rx, 403, "Too many authentication failures", NULL);
		return false;
	}

	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_auth_params cred;
		if (sip_auth_parse(&cred, h->val) != 0 || !cred.digest ||
		    !slice_eq_cstr(cred.username, user))
			continue;
		int err = sip_auth_verify(
		    cm->auth, &cred, m->method, dn->digest_password, NULL);
		if (err == 0)
			return true;
		if (err == ETIMEDOUT) {
			stale = true;
			continue;
		}
		cm_authfail_note(cm, &rx->peer,
		    err == EACCES ? "wrong digest password for line"
		                  : "malformed credentials for line",
		    dn->number);
		if (err == EACCES) {
			reply(cm, m, rx, 403, "Authentication failed", NULL);
			return false;
		}
	}
	challenge(cm, m, rx, stale);
	return false;
}

/*
 * A request from a trunk whose security profile enables digest
 * authentication: its credentials must be an application user's Digest
 * Credentials (the voicemail port group's "Authenticate with SIP Server").
 * Replies (401 challenge, 403) and returns false when they do not pass.
 */
bool
cm_trunk_authorised(struct callmgr *cm, const struct sip_msg *m,
    const struct sip_rx *rx, const char *trunk)
{
	bool stale = false;
	char a[SA_FMT_MAX];

	if (cm_authfail_blocked(cm, &rx->peer)) {
		cm_authfail_note(
		    cm, &rx->peer, "blocked request on trunk", trunk);
		reply(cm, m, rx, 403, "Too many authentication failures", NULL);
		return false;
	}

	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct sip_auth_params cred;
		const struct cm_app_user *u;
		if (sip_auth_parse(&cred, h->val) != 0 || !cred.digest ||
		    (u = cm_config_app_user(cm->cfg, cred.username)) == NULL)
			continue;
		int err = sip_auth_verify(
		    cm->auth, &cred, m->method, u->digest_credentials, NULL);
		if (err == 0)
			return true;
		if (err == ETIMEDOUT) {
			stale = true;
			continue;
		}
		cm_authfail_note(cm, &rx->peer,
		    err == EACCES ? "wrong Digest Credentials for application"
		                  : "malformed credentials for application",
		    u->name);
		if (err == EACCES) {
			reply(cm, m, rx, 403, "Authentication failed", NULL);
			return false;
		}
	}
	log_info("trunk %s: %.*s from %s challenged (digest authentication)",
	    trunk, (int)m->method.n, m->method.p,
	    sa_fmt(&rx->peer, a, sizeof(a)));
	challenge(cm, m, rx, stale);
	return false;
}

/* The transport a line's Device Security Mode asks for. */
static bool
transport_allowed(const struct cm_dn *dn, enum sip_proto p)
{
	if (dn->device_security_mode == CM_SEC_NON_SECURE)
		return true;
	return p == SIP_PROTO_TLS;
}

static struct cm_binding *
binding_find(struct cm_line *l, struct slice uri)
{
	struct list *pos;

	for (pos = l->bindings.next; pos != &l->bindings; pos = pos->next) {
		struct cm_binding *b = container_of(pos, struct cm_binding, le);
		struct sip_uri a, c;
		if (sip_uri_parse(&a, slice_cstr(b->uri)) == 0 &&
		    sip_uri_parse(&c, uri) == 0 && sip_uri_eq(&a, &c))
			return b;
	}
	return NULL;
}

/* Appends "Contact: <uri>;expires=N" for every binding of l. */
static void
list_contacts(struct cm_line *l, struct buf *out)
{
	time_t now = cm_now();
	struct list *pos;

	for (pos = l->bindings.next; pos != &l->bindings; pos = pos->next) {
		struct cm_binding *b = container_of(pos, struct cm_binding, le);
		BUF_LIT(out, "Contact: <");
		buf_append_str(out, b->uri);
		BUF_LIT(out, ">;expires=");
		buf_append_u64(out,
		    b->expires_at > now ? (uint64_t)(b->expires_at - now) : 0);
		BUF_LIT(out, "\r\n");
	}
}

void
cm_registrar_request(
    struct callmgr *cm, const struct sip_msg *m, const struct sip_rx *rx)
{
	char number[64], a[SA_FMT_MAX];
	struct cm_line *l;
	struct sip_values it;
	struct slice v;
	uint32_t def_expires =
	    m->has_expires ? m->expires : REG_DEFAULT_EXPIRES;
	struct cm_binding *notify[8];
	size_t nnotify = 0;

	sa_fmt(&rx->peer, a, sizeof(a));
	if (m->to.uri.scheme != SIP_URI_SIP &&
	    m->to.uri.scheme != SIP_URI_SIPS) {
		reply(cm, m, rx, 404, "Not a SIP address", NULL);
		return;
	}
	if (sip_unescape(m->to.uri.user, number, sizeof(number), NULL) != 0 ||
	    (l = cm_line_find(cm, number)) == NULL) {
		char who[64];
		slice_strlcpy(who, sizeof(who), m->to.uri.user);
		cm_authfail_note(
		    cm, &rx->peer, "REGISTER for unknown line", who);
		reply(cm, m, rx, 404, "No such directory number", NULL);
		return;
	}
	if (!transport_allowed(l->dn, rx->proto)) {
		log_warn("registrar: line %s from %s over %s refused: device "
		         "security mode %s needs TLS",
		    number, a, sip_proto_name(rx->proto),
		    cm_security_mode_label(l->dn->device_security_mode));
		reply(
		    cm, m, rx, 403, "Device security mode requires TLS", NULL);
		return;
	}
	/* Encrypted means an encrypting suite, not the NULL-SHA of
	 * Authenticated devices (one listener serves both). */
	if (l->dn->device_security_mode == CM_SEC_ENCRYPTED && rx->conn &&
	    !tls_ssl_encrypted(sip_conn_ssl(rx->conn))) {
		log_warn("registrar: line %s from %s refused: device security "
		         "mode Encrypted, but the phone negotiated NULL-SHA "
		         "(Authenticated)",
		    number, a);
		reply(cm, m, rx, 403,
		    "Device security mode Encrypted requires an encrypting TLS "
		    "suite",
		    NULL);
		return;
	}
	if (!authorised(cm, l->dn, m, rx))
		return;

	/* RFC 3261 10.3 step 6: "*" removes everything, with Expires: 0. */
	sip_values_init(&it, m, SIP_HDR_CONTACT);
	while (sip_values_next(&it, &v)) {
		struct sip_addr c;
		if (sip_addr_parse(&c, v) != 0) {
			reply(cm, m, rx, 400, "Malformed Contact", NULL);
			return;
		}
		if (c.star) {
			if (!m->has_expires || m->expires != 0 ||
			    m->count[SIP_HDR_CONTACT] > 1) {
				reply(cm, m, rx, 400,
				    "Contact * needs Expires: 0 and no other "
				    "Contact",
				    NULL);
				return;
			}
			struct list *pos, *tmp;
			list_for_each_safe(pos, tmp, &l->bindings) binding_free(
			    container_of(pos, struct cm_binding, le));
			log_info("registrar: line %s: all contacts removed "
			         "by %s",
			    number, a);
			continue;
		}
		struct slice ev;
		uint64_t exp = def_expires;
		if (sip_param_get(c.params, "expires", &ev) == 0 &&
		    slice_u64(ev, UINT32_MAX, &exp) != 0)
			exp =
			    REG_MAX_EXPIRES; /* huge: clamp (RFC 4475 3.1.2.4) */
		if (exp != 0 && exp < REG_MIN_EXPIRES) {
			char extra[64];
			snprintf(extra, sizeof(extra), "Min-Expires: %d\r\n",
			    REG_MIN_EXPIRES);
			reply(cm, m, rx, 423, NULL, extra);
			return;
		}
		if (exp > REG_MAX_EXPIRES)
			exp = REG_MAX_EXPIRES;

		struct cm_binding *b = binding_find(l, c.uri_s);
		bool fresh = false;
		if (b && slice_eq_cstr(m->callid, b->callid) &&
		    m->cseq.num <= b->cseq) {
			/* RFC 3261 10.3 step 7: an old request, ignore. */
			continue;
		}
		if (exp == 0) {
			if (b) {
				log_info("registrar: line %s: %s removed",
				    number, b->uri);
				binding_free(b);
			}
			continue;
		}
		if (b == NULL) {
			if (list_count(&l->bindings) >= REG_MAX_BINDINGS) {
				reply(
				    cm, m, rx, 403, "Too many contacts", NULL);
				return;
			}
			b = calloc(1, sizeof(*b));
			if (b == NULL ||
			    (b->uri = slice_strdup(c.uri_s)) == NULL) {
				free(b);
				reply(cm, m, rx, 500, "Out of memory", NULL);
				return;
			}
			list_add_tail(&l->bindings, &b->le);
			fresh = true;
			log_info("registrar: line %s registered %s over %s "
			         "from %s for %u s",
			    number, b->uri, sip_proto_name(rx->proto), a,
			    (unsigned)exp);
		}
		free(b->contact);
		free(b->callid);
		free(b->user_agent);
		b->contact = slice_strdup(v);
		b->callid = slice_strdup(m->callid);
		const struct sip_hdr *ua = sip_msg_hdr(m, SIP_HDR_USER_AGENT);
		b->user_agent = ua ? slice_strdup(ua->val) : NULL;
		b->cseq = m->cseq.num;
		b->expires_at = cm_now() + (time_t)exp;
		b->proto = rx->proto;
		b->src = rx->peer;
		if (b->conn != rx->conn) {
			sip_conn_unref(b->conn);
			b->conn = sip_conn_ref(rx->conn);
		}
		/* The lamp state goes to every phone when it registers. */
		if (fresh && nnotify < 8)
			notify[nnotify++] = b;
	}

	struct buf extra;
	buf_init(&extra);
	list_contacts(l, &extra);
	buf_append(&extra, "", 1);
	reply(cm, m, rx, 200, NULL, extra.err ? NULL : extra.p);
	buf_free(&extra);
	for (size_t i = 0; i < nnotify; i++)
		cm_mwi_notify_line(cm, l, notify[i]);
}
