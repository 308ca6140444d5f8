/* Call manager configuration: the guide's objects bound from one INI file, cross-checked with file:line, and looked up. */
#include "callmgr/config.h"
#include "conf/check.h"
#include "sip/auth.h"
#include "sip/msg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/secure.h"

#define CM_CONF_MAX_BYTES (4 * 1024 * 1024)
#define CM_X509_NAME_MAX  4096 /* AXL x509SubjectName is String4096 */
#define CM_NUMBER_MAX     32   /* digits of a DN, pilot or pattern */

/* ---- labels ---- */

static const struct conf_label secmode_labels[] = {
    {CM_SEC_NON_SECURE, "Non Secure"},
    {CM_SEC_AUTHENTICATED, "Authenticated"},
    {CM_SEC_ENCRYPTED, "Encrypted"},
    {0, NULL},
};

static const struct conf_label transport_labels[] = {
    {CM_TP_TCP_UDP, "TCP+UDP"},
    {CM_TP_TCP, "TCP"},
    {CM_TP_UDP, "UDP"},
    {CM_TP_TLS, "TLS"},
    {CM_TP_TCP_UDP, "UDP+TCP"},
    {0, NULL},
};

/* protocol-notes 2.2; the CUCM screen's "All Supported Ciphers"; slugs. */
static const struct conf_label srtp_labels[] = {
    {CM_SRTP_ALL, "All supported AES-256, AES-128 ciphers"},
    {CM_SRTP_GCM, "AEAD AES-256, AES-128 GCM-based ciphers"},
    {CM_SRTP_GCM256, "AEAD AES256 GCM-based ciphers only"},
    {CM_SRTP_GCM256, "AEAD AES256 GCM-based cipher only"},
    {CM_SRTP_ALL, "All Supported Ciphers"},
    {CM_SRTP_ALL, "all"},
    {CM_SRTP_GCM, "gcm"},
    {CM_SRTP_GCM256, "gcm256"},
    {0, NULL},
};

static const struct conf_label traffic_labels[] = {
    {CM_SECURE_SRTP_AND_TLS, "When using both sRTP and TLS"},
    {CM_SECURE_SRTP_ONLY, "When using sRTP Only"},
    {CM_SECURE_SRTP_AND_TLS, "srtp-and-tls"},
    {CM_SECURE_SRTP_ONLY, "srtp-only"},
    {0, NULL},
};

const char *
cm_security_mode_label(enum cm_security_mode m)
{
	return conf_label_of(secmode_labels, (int)m);
}

const char *
cm_transport_label(enum cm_transport t)
{
	return conf_label_of(transport_labels, (int)t);
}

const char *
cm_srtp_ciphers_label(enum cm_srtp_ciphers s)
{
	return conf_label_of(srtp_labels, (int)s);
}

const char *
cm_traffic_secure_label(enum cm_traffic_secure t)
{
	return conf_label_of(traffic_labels, (int)t);
}

/* ---- value parsers for conf_field.parse ---- */

static int
parse_secmode(const char *v, void *dst, char *why, size_t whysz)
{
	if (conf_label_find(secmode_labels, v, dst) == 0)
		return 0;
	snprintf(why, whysz, "expected Non Secure, Authenticated or Encrypted");
	return EINVAL;
}

static int
parse_transport(const char *v, void *dst, char *why, size_t whysz)
{
	if (conf_label_find(transport_labels, v, dst) == 0)
		return 0;
	snprintf(why, whysz, "expected TCP+UDP, TCP, UDP or TLS");
	return EINVAL;
}

static int
parse_srtp(const char *v, void *dst, char *why, size_t whysz)
{
	if (conf_label_find(srtp_labels, v, dst) == 0)
		return 0;
	snprintf(why, whysz,
	    "expected an SRTP Ciphers label ('All supported AES-256, AES-128 "
	    "ciphers', ...) or all, gcm, gcm256");
	return EINVAL;
}

static int
parse_traffic(const char *v, void *dst, char *why, size_t whysz)
{
	if (conf_label_find(traffic_labels, v, dst) == 0)
		return 0;
	snprintf(why, whysz,
	    "expected 'When using both sRTP and TLS' or 'When using sRTP "
	    "Only'");
	return EINVAL;
}

/* "SHA-256, MD5": digest algorithms in order, no repeats. */
static int
parse_digest_algs(const char *v, void *dst, char *why, size_t whysz)
{
	struct cm_enterprise *e =
	    (struct cm_enterprise *)((char *)dst -
	                             offsetof(struct cm_enterprise,
	                                 digest_algorithms));
	struct slice rest = slice_cstr(v), item;
	size_t n = 0;

	while (sip_list_next(&rest, &item)) {
		enum sip_auth_alg alg;
		if (sip_auth_alg_parse(item, &alg) != 0) {
			snprintf(why, whysz,
			    "'%.*s' is not SHA-256, SHA-512-256 or MD5",
			    (int)item.n, item.p);
			return EINVAL;
		}
		for (size_t i = 0; i < n; i++) {
			if (e->digest_algorithms[i] == (int)alg) {
				snprintf(why, whysz, "'%.*s' is listed twice",
				    (int)item.n, item.p);
				return EINVAL;
			}
		}
		if (n == 3) {
			snprintf(why, whysz, "at most three algorithms");
			return EINVAL;
		}
		e->digest_algorithms[n++] = (int)alg;
	}
	if (n == 0) {
		snprintf(why, whysz, "no algorithm given");
		return EINVAL;
	}
	e->ndigest_algorithms = n;
	return 0;
}

static int
parse_tls_ciphers(const char *v, void *dst, char *why, size_t whysz)
{
	enum tls_ciphers tc;
	size_t n;

	if (tls_ciphers_parse(v, &tc) == 0) {
		*(enum tls_ciphers *)dst = tc;
		return 0;
	}
	n = (size_t)snprintf(why, whysz,
	    "expected a TLS Ciphers label ('%s', ...) or one of",
	    tls_ciphers_label(TLS_CIPHERS_DEFAULT_OPTION));
	for (int i = 0; i < TLS_CIPHERS__COUNT && n < whysz; i++)
		n += (size_t)snprintf(why + n, whysz - n, "%s %s", i ? "," : "",
		    tls_ciphers_slug((enum tls_ciphers)i));
	return EINVAL;
}

static int
parse_https_ciphers(const char *v, void *dst, char *why, size_t whysz)
{
	enum tls_ciphers tc;
	size_t n;

	if (tls_https_ciphers_parse(v, &tc) == 0) {
		*(enum tls_ciphers *)dst = tc;
		return 0;
	}
	n = (size_t)snprintf(why, whysz,
	    "expected an HTTPS Ciphers label ('RSA Ciphers Only', 'All Supported EC and RSA Ciphers') or a TLS Ciphers label ('%s', ...) or one of",
	    tls_ciphers_label(TLS_CIPHERS_DEFAULT_OPTION));
	for (int i = 0; i < TLS_CIPHERS__COUNT && n < whysz; i++)
		n += (size_t)snprintf(why + n, whysz - n, "%s %s", i ? "," : "",
		    tls_ciphers_slug((enum tls_ciphers)i));
	return EINVAL;
}

/* "All" (the screen's choice) or a count of digits; 99 means all. */
static int
parse_sigdigits(const char *v, void *dst, char *why, size_t whysz)
{
	unsigned n = 0;

	if (strcasecmp(v, "all") == 0) {
		*(unsigned *)dst = 99;
		return 0;
	}
	if (*v == '\0' || strlen(v) > 2)
		goto bad;
	for (const char *p = v; *p; p++) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		n = n * 10 + (unsigned)(*p - '0');
	}
	*(unsigned *)dst = n;
	return 0;
bad:
	snprintf(why, whysz, "expected All or a number from 0 to 99");
	return EINVAL;
}

/* ---- field tables: the guide's defaults ---- */

#define F(st, k, t) .key = #k, .type = (t), .offset = offsetof(struct st, k)
#define NFIELDS(a)  (sizeof(a) / sizeof((a)[0]))

static const struct conf_field enterprise_fields[] = {
    {F(cm_enterprise, cluster_security_mode, CONF_STR), .def = "mixed"},
    {F(cm_enterprise, tls_ciphers, CONF_ENUM), .parse = parse_tls_ciphers,
        .def = "All Ciphers RSA Preferred"},
    {F(cm_enterprise, srtp_ciphers, CONF_ENUM), .parse = parse_srtp,
        .def = "All supported AES-256, AES-128 ciphers"},
    {F(cm_enterprise, https_ciphers, CONF_ENUM), .parse = parse_https_ciphers,
        .def = "All Ciphers RSA Preferred"},
    {F(cm_enterprise, host_name, CONF_STR), .required = true},
    {F(cm_enterprise, listen_address, CONF_STR), .def = "127.0.0.1"},
    {F(cm_enterprise, sip_port, CONF_PORT), .def = "5060"},
    {F(cm_enterprise, sip_tls_port, CONF_PORT), .def = "5061"},
    {F(cm_enterprise, tftp_https_port, CONF_PORT), .def = "6972"},
    {F(cm_enterprise, tftp_file_signature_algorithm, CONF_STR),
        .def = "SHA-512"},
    {F(cm_enterprise, control_socket, CONF_STR)},
    {F(cm_enterprise, pid_file, CONF_STR)},
    {F(cm_enterprise, keylog_file, CONF_STR)},
    {F(cm_enterprise, tls13, CONF_BOOL), .def = "no"},
    {F(cm_enterprise, digest_algorithms, CONF_STR), .parse = parse_digest_algs,
        .def = "SHA-256, MD5"},
};

static const struct conf_field cert_fields[] = {
    {F(cm_certificates, callmanager, CONF_STR)},
    {F(cm_certificates, callmanager_key, CONF_STR)},
    {F(cm_certificates, callmanager_ecdsa, CONF_STR)},
    {F(cm_certificates, callmanager_ecdsa_key, CONF_STR)},
    {F(cm_certificates, callmanager_trust, CONF_STR)},
    {F(cm_certificates, itlrecovery, CONF_STR)},
    {F(cm_certificates, itlrecovery_key, CONF_STR)},
    {F(cm_certificates, tomcat, CONF_STR)},
    {F(cm_certificates, tomcat_key, CONF_STR)},
};

static const struct conf_field profile_fields[] = {
    {F(cm_trunk_security_profile, description, CONF_STR)},
    {F(cm_trunk_security_profile, device_security_mode, CONF_ENUM),
        .parse = parse_secmode, .def = "Non Secure"},
    {F(cm_trunk_security_profile, incoming_transport_type, CONF_ENUM),
        .parse = parse_transport, .def = "TCP+UDP"},
    {F(cm_trunk_security_profile, outgoing_transport_type, CONF_ENUM),
        .parse = parse_transport, .def = "TCP"},
    {F(cm_trunk_security_profile, enable_digest_authentication, CONF_BOOL),
        .def = "no"},
    {F(cm_trunk_security_profile, nonce_validity_time, CONF_UINT), .min = 1,
        .max = 86400, .def = "600"},
    {F(cm_trunk_security_profile, x509_subject_name, CONF_STR)},
    /* No default here: 5061 for TLS, else 5060 (set after binding). */
    {F(cm_trunk_security_profile, incoming_port, CONF_PORT)},
    {F(cm_trunk_security_profile, enable_application_level_authorization,
         CONF_BOOL),
        .def = "no"},
    {F(cm_trunk_security_profile, accept_presence_subscription, CONF_BOOL),
        .def = "no"},
    {F(cm_trunk_security_profile, accept_out_of_dialog_refer, CONF_BOOL),
        .def = "no"},
    {F(cm_trunk_security_profile, accept_unsolicited_notification, CONF_BOOL),
        .def = "no"},
    {F(cm_trunk_security_profile, accept_replaces_header, CONF_BOOL),
        .def = "no"},
    {F(cm_trunk_security_profile, transmit_security_status, CONF_BOOL),
        .def = "no"},
    {F(cm_trunk_security_profile, allow_charging_header, CONF_BOOL),
        .def = "no"},
};

static const struct conf_field sip_profile_fields[] = {
    {F(cm_sip_profile, enable_options_ping, CONF_BOOL), .def = "no"},
    /* The guide gives 5-600 s; shorter intervals are for tests. */
    {F(cm_sip_profile, options_ping_interval_in_service, CONF_UINT), .min = 1,
        .max = 600, .def = "60"},
    {F(cm_sip_profile, options_ping_interval_out_of_service, CONF_UINT),
        .min = 1, .max = 600, .def = "120"},
    {F(cm_sip_profile, sip_retry_timer, CONF_UINT), .min = 10, .max = 10000,
        .def = "500"},
    {F(cm_sip_profile, sip_retry_count, CONF_UINT), .min = 0, .max = 10,
        .def = "6"},
};

static const struct conf_field trunk_fields[] = {
    {F(cm_trunk, description, CONF_STR)},
    {F(cm_trunk, device_pool, CONF_STR), .def = "Default"},
    {F(cm_trunk, destination, CONF_LIST), .required = true},
    {F(cm_trunk, destination_is_srv, CONF_BOOL), .def = "no"},
    {F(cm_trunk, sip_trunk_security_profile, CONF_STR), .required = true},
    {F(cm_trunk, sip_profile, CONF_STR)},
    {F(cm_trunk, srtp_allowed, CONF_BOOL), .def = "no"},
    {F(cm_trunk, consider_traffic_on_this_trunk_secure, CONF_ENUM),
        .parse = parse_traffic, .def = "When using both sRTP and TLS"},
    {F(cm_trunk, run_on_all_active_unified_cm_nodes, CONF_BOOL), .def = "no"},
    {F(cm_trunk, significant_digits, CONF_UINT), .parse = parse_sigdigits,
        .def = "All"},
    {F(cm_trunk, prefix_dn, CONF_STR)},
    {F(cm_trunk, redirecting_diversion_header_delivery_inbound, CONF_BOOL),
        .def = "no"},
    {F(cm_trunk, redirecting_diversion_header_delivery_outbound, CONF_BOOL),
        .def = "no"},
    {F(cm_trunk, dtmf_signaling_method, CONF_STR), .def = "No Preference"},
};

static const struct conf_field route_fields[] = {
    {F(cm_route_pattern, gateway_or_route_list, CONF_STR), .required = true},
    {F(cm_route_pattern, description, CONF_STR)},
};

static const struct conf_field pilot_fields[] = {
    {F(cm_vm_pilot, calling_search_space, CONF_STR)},
    {F(cm_vm_pilot, description, CONF_STR)},
    {F(cm_vm_pilot, make_this_the_default, CONF_BOOL), .def = "no"},
};

static const struct conf_field vm_profile_fields[] = {
    {F(cm_vm_profile, description, CONF_STR)},
    {F(cm_vm_profile, voice_mail_pilot, CONF_STR), .required = true},
    {F(cm_vm_profile, voice_mail_box_mask, CONF_STR)},
    {F(cm_vm_profile, make_this_the_default, CONF_BOOL), .def = "no"},
};

static const struct conf_field app_user_fields[] = {
    {F(cm_app_user, digest_credentials, CONF_STR), .required = true},
};

static const struct conf_field dn_fields[] = {
    {F(cm_dn, display_name, CONF_STR)},
    {F(cm_dn, digest_user, CONF_STR)},
    {F(cm_dn, digest_password, CONF_STR), .required = true},
    {F(cm_dn, device_security_mode, CONF_ENUM), .parse = parse_secmode,
        .def = "Encrypted"},
    {F(cm_dn, voice_mail_profile, CONF_STR)},
    {F(cm_dn, forward_no_answer_to_voicemail, CONF_BOOL), .def = "no"},
    {F(cm_dn, forward_busy_to_voicemail, CONF_BOOL), .def = "no"},
    {F(cm_dn, forward_all_to_voicemail, CONF_BOOL), .def = "no"},
    {F(cm_dn, no_answer_ring_duration, CONF_UINT), .min = 1, .max = 300,
        .def = "12"},
};

/* ---- section types ---- */

enum sec_kind {
	SEC_ENTERPRISE,
	SEC_CERTIFICATES,
	SEC_PROFILE,
	SEC_SIP_PROFILE,
	SEC_TRUNK,
	SEC_ROUTE,
	SEC_PILOT,
	SEC_VM_PROFILE,
	SEC_DN,
	SEC_APP_USER,
	SEC__COUNT
};

static const struct conf_sec_type sec_types[SEC__COUNT] = {
    [SEC_ENTERPRISE] = {"enterprise", false},
    [SEC_CERTIFICATES] = {"certificates", false},
    [SEC_PROFILE] = {"sip-trunk-security-profile", true},
    [SEC_SIP_PROFILE] = {"sip-profile", true},
    [SEC_TRUNK] = {"sip-trunk", true},
    [SEC_ROUTE] = {"route-pattern", true},
    [SEC_PILOT] = {"voicemail-pilot", true},
    [SEC_VM_PROFILE] = {"voicemail-profile", true},
    [SEC_DN] = {"directory-number", true},
    [SEC_APP_USER] = {"application-user", true},
};

/* The file's text holds the lines' digest passwords: wiped after parsing. */
static const char *const secret_secs[] = {
    "directory-number", "application-user", NULL};
static const char *const secret_keys[] = {
    "digest_password", "digest_credentials", NULL};

/* ---- loading context and helpers ---- */

struct loader {
	struct conf *c;
	struct cm_config *cfg;
	struct conf_err *err;
	char *dir;   /* absolute directory of the file, for relative paths */
	mode_t mode; /* the file's permissions */
};

/* "[sip-trunk "CUCv11"]" */
static const char *
sec_name(const struct conf_section *s, char *buf, size_t sz)
{
	snprintf(buf, sz, "[%s%s%s%s]", s->type, s->name ? " \"" : "",
	    s->name ? s->name : "", s->name ? "\"" : "");
	return buf;
}

static const struct conf_section *
find_sec(const struct loader *ld, enum sec_kind k, const char *name)
{
	return conf_find(ld->c, sec_types[k].type, name);
}

static int
replace_str(char **dst, const char *val)
{
	char *s = strdup(val);

	if (s == NULL)
		return ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

/* A string option with a fixed set of values, stored as its canonical one. */
struct choice {
	const char *canon;
	const char *alias[3];
};

static int
check_choice(struct loader *ld, const struct conf_section *s, const char *key,
    char **val, const struct choice *ch, const char *expected)
{
	char where[200];

	if (*val == NULL)
		return 0;
	for (; ch->canon; ch++) {
		bool hit = conf_label_eq(*val, ch->canon);
		for (size_t i = 0; !hit && i < 3 && ch->alias[i]; i++)
			hit = conf_label_eq(*val, ch->alias[i]);
		if (hit)
			return strcmp(*val, ch->canon) == 0
			           ? 0
			           : replace_str(val, ch->canon);
	}
	return conf_fail(ld->err, ld->c, conf_item_line(s, key),
	    "bad value '%s' for %s in %s: expected %s", *val, key,
	    sec_name(s, where, sizeof(where)), expected);
}

/* ---- reading the file ---- */

/*
 * Like conf_load(), but the file's bytes are wiped after parsing: they hold
 * the lines' digest passwords.
 */
static int
read_conf(struct loader *ld, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t n = 0, cap = 0, r;
	struct stat st;
	int rc;

	if (f == NULL) {
		rc = errno;
		if (ld->err) {
			snprintf(
			    ld->err->file, sizeof(ld->err->file), "%s", path);
			ld->err->line = 0;
			snprintf(ld->err->msg, sizeof(ld->err->msg),
			    "cannot open: %s", strerror(rc));
		}
		return rc;
	}
	if (fstat(fileno(f), &st) == 0)
		ld->mode = st.st_mode;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > CM_CONF_MAX_BYTES + 1) {
				conf_fail(ld->err, NULL, 0,
				    "file too large (over %d bytes)",
				    CM_CONF_MAX_BYTES);
				rc = EBADMSG;
				if (ld->err)
					snprintf(ld->err->file,
					    sizeof(ld->err->file), "%s", path);
				goto out;
			}
			if ((nb = malloc(cap)) == NULL) {
				rc = ENOMEM;
				goto out;
			}
			if (n) {
				memcpy(nb, buf, n);
				secure_wipe(buf, n);
			}
			free(buf);
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		conf_fail(ld->err, NULL, 0, "cannot read: %s", strerror(errno));
		if (ld->err)
			snprintf(
			    ld->err->file, sizeof(ld->err->file), "%s", path);
		rc = EIO;
		goto out;
	}
	rc = conf_parse(&ld->c, path, buf, n, ld->err);
out:
	if (buf)
		secure_wipe(buf, cap);
	free(buf);
	fclose(f);
	return rc;
}

/* ---- sections and binding ---- */

/* A route pattern: digits, X (one digit), ! (one or more, last), '.' ignored. */
static bool
valid_pattern(const char *p)
{
	size_t n = 0;
	bool bang = false;

	for (; *p; p++) {
		if (*p == '.')
			continue;
		if (bang)
			return false; /* '!' must be the last */
		if (*p == '!')
			bang = true;
		else if (!isdigit((unsigned char)*p) && *p != 'X' && *p != 'x')
			return false;
		n++;
	}
	return n > 0 && n <= CM_NUMBER_MAX;
}

static int
bind_one(struct loader *ld, const struct conf_section *s, int k)
{
	struct cm_config *cfg = ld->cfg;
	struct conf *c = ld->c;
	struct conf_err *err = ld->err;
	char **namep = NULL;
	unsigned *linep = NULL;
	int rc;

	switch (k) {
	case SEC_ENTERPRISE:
		return conf_bind(c, s, enterprise_fields,
		    NFIELDS(enterprise_fields), &cfg->enterprise, err);
	case SEC_CERTIFICATES:
		return conf_bind(
		    c, s, cert_fields, NFIELDS(cert_fields), &cfg->certs, err);
	case SEC_PROFILE: {
		struct cm_trunk_security_profile *p =
		    &cfg->profiles[cfg->nprofiles++];
		namep = &p->name;
		linep = &p->line;
		rc = conf_bind(
		    c, s, profile_fields, NFIELDS(profile_fields), p, err);
		break;
	}
	case SEC_SIP_PROFILE: {
		struct cm_sip_profile *p =
		    &cfg->sip_profiles[cfg->nsip_profiles++];
		namep = &p->name;
		linep = &p->line;
		rc = conf_bind(c, s, sip_profile_fields,
		    NFIELDS(sip_profile_fields), p, err);
		break;
	}
	case SEC_TRUNK: {
		struct cm_trunk *t = &cfg->trunks[cfg->ntrunks++];
		namep = &t->name;
		linep = &t->line;
		rc = conf_bind(
		    c, s, trunk_fields, NFIELDS(trunk_fields), t, err);
		break;
	}
	case SEC_ROUTE: {
		struct cm_route_pattern *r = &cfg->routes[cfg->nroutes++];
		if (!valid_pattern(s->name))
			return conf_fail(err, c, s->line,
			    "route pattern '%s': use digits, X (any digit), "
			    "! (one or more digits, only at the end) and . "
			    "(ignored), at most %d",
			    s->name, CM_NUMBER_MAX);
		namep = &r->pattern;
		linep = &r->line;
		rc = conf_bind(
		    c, s, route_fields, NFIELDS(route_fields), r, err);
		break;
	}
	case SEC_PILOT: {
		struct cm_vm_pilot *p = &cfg->pilots[cfg->npilots++];
		if (!conf_all_digits(s->name, CM_NUMBER_MAX))
			return conf_fail(err, c, s->line,
			    "voicemail pilot number '%s': digits only, at "
			    "most %d",
			    s->name, CM_NUMBER_MAX);
		namep = &p->number;
		linep = &p->line;
		rc = conf_bind(
		    c, s, pilot_fields, NFIELDS(pilot_fields), p, err);
		break;
	}
	case SEC_VM_PROFILE: {
		struct cm_vm_profile *p =
		    &cfg->vm_profiles[cfg->nvm_profiles++];
		namep = &p->name;
		linep = &p->line;
		rc = conf_bind(c, s, vm_profile_fields,
		    NFIELDS(vm_profile_fields), p, err);
		break;
	}
	case SEC_APP_USER: {
		struct cm_app_user *u = &cfg->app_users[cfg->napp_users++];
		namep = &u->name;
		linep = &u->line;
		rc = conf_bind(
		    c, s, app_user_fields, NFIELDS(app_user_fields), u, err);
		break;
	}
	case SEC_DN: {
		struct cm_dn *d = &cfg->dns[cfg->ndns++];
		if (!conf_all_digits(s->name, CM_NUMBER_MAX))
			return conf_fail(err, c, s->line,
			    "directory number '%s': digits only, at most %d",
			    s->name, CM_NUMBER_MAX);
		namep = &d->number;
		linep = &d->line;
		rc = conf_bind(c, s, dn_fields, NFIELDS(dn_fields), d, err);
		break;
	}
	default:
		return EINVAL;
	}
	*linep = s->line;
	if ((*namep = strdup(s->name)) == NULL)
		return ENOMEM;
	return rc;
}

static int
bind_all(struct loader *ld)
{
	size_t count[SEC__COUNT] = {0};
	struct cm_config *cfg = ld->cfg;
	int rc;

	if ((rc = conf_sections_check(
	         ld->c, ld->err, sec_types, SEC__COUNT, count)) != 0)
		return rc;
#define ALLOC(arr, k)                                                          \
	do {                                                                   \
		if (count[k] &&                                                \
		    (cfg->arr = calloc(count[k], sizeof(*cfg->arr))) == NULL)  \
			return ENOMEM;                                         \
	} while (0)
	ALLOC(profiles, SEC_PROFILE);
	ALLOC(sip_profiles, SEC_SIP_PROFILE);
	ALLOC(trunks, SEC_TRUNK);
	ALLOC(routes, SEC_ROUTE);
	ALLOC(pilots, SEC_PILOT);
	ALLOC(vm_profiles, SEC_VM_PROFILE);
	ALLOC(dns, SEC_DN);
	ALLOC(app_users, SEC_APP_USER);
#undef ALLOC
	/* In file order, so that the first error in the file is the one shown. */
	for (size_t i = 0; i < ld->c->nsecs; i++) {
		const struct conf_section *s = &ld->c->secs[i];
		if ((rc = bind_one(ld, s,
		         conf_sec_kind(sec_types, SEC__COUNT, s->type))) != 0)
			return rc;
	}
	if (count[SEC_ENTERPRISE] == 0)
		return conf_fail(ld->err, ld->c, 0,
		    "no [enterprise] section: it needs at least host_name "
		    "(this node's FQDN, the CN of its CallManager "
		    "certificate)");
	return 0;
}

/* ---- [enterprise] ---- */

static const struct choice cluster_modes[] = {
    {"mixed", {"Mixed Mode", "1", NULL}},
    {"non-secure", {"Non Secure Mode", "0", NULL}},
    {NULL, {NULL}},
};

static const struct choice sig_algs[] = {
    {"SHA-512", {NULL}},
    {"SHA-1", {NULL}},
    {NULL, {NULL}},
};

static const struct choice dtmf_methods[] = {
    {"No Preference", {NULL}},
    {"RFC 2833", {NULL}},
    {"OOB and RFC 2833", {NULL}},
    {NULL, {NULL}},
};

static int
check_enterprise(struct loader *ld)
{
	struct cm_enterprise *e = &ld->cfg->enterprise;
	const struct conf_section *s = find_sec(ld, SEC_ENTERPRISE, NULL);
	int rc;

	if ((rc = check_choice(ld, s, "cluster_security_mode",
	         &e->cluster_security_mode, cluster_modes,
	         "mixed or non-secure")) != 0 ||
	    (rc = check_choice(ld, s, "tftp_file_signature_algorithm",
	         &e->tftp_file_signature_algorithm, sig_algs,
	         "SHA-512 or SHA-1")) != 0)
		return rc;
	if (conf_is_ipv4(e->host_name) || conf_is_ipv6(e->host_name))
		conf_warn(ld->c, &ld->cfg->nwarnings,
		    conf_item_line(s, "host_name"),
		    "host_name %s is an address: the voicemail server's TFTP "
		    "server must be the host name that is the CN of the "
		    "CallManager certificate, an IP address does not work",
		    e->host_name);
	else if (!conf_valid_hostname(e->host_name))
		return conf_fail(ld->err, ld->c, conf_item_line(s, "host_name"),
		    "bad value '%s' for host_name in [enterprise]: expected "
		    "a host name such as cucm.example.com",
		    e->host_name);
	if (!conf_is_ipv4(e->listen_address) &&
	    !conf_is_ipv6(e->listen_address))
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "listen_address"),
		    "bad value '%s' for listen_address in [enterprise]: "
		    "expected an IPv4 or IPv6 address",
		    e->listen_address);
	if (strcmp(e->tftp_file_signature_algorithm, "SHA-1") == 0)
		conf_warn(ld->c, &ld->cfg->nwarnings,
		    conf_item_line(s, "tftp_file_signature_algorithm"),
		    "tftp_file_signature_algorithm SHA-1: the ITL file is "
		    "signed with a weak hash (SHA-512 is the default)");
	if (e->keylog_file)
		conf_warn(ld->c, &ld->cfg->nwarnings,
		    conf_item_line(s, "keylog_file"),
		    "keylog_file is set: the TLS session secrets of every "
		    "connection are written to %s; use it for debugging only",
		    e->keylog_file);
	return 0;
}

/* ---- [certificates] ---- */

/*
 * Certificate paths are made absolute (relative to the file's directory)
 * and must read: a regular file, or for a trust store a directory. A
 * certificate and its key go together.
 */
static int
check_certificates(struct loader *ld)
{
	struct cm_certificates *ct = &ld->cfg->certs;
	const struct conf_section *s = find_sec(ld, SEC_CERTIFICATES, NULL);
	const struct conf *c = ld->c;
	struct conf_err *err = ld->err;
	int rc;

	if (s == NULL)
		return 0;
	if ((rc = conf_item_path(c, err, s, "callmanager", ld->dir,
	         &ct->callmanager, 0)) != 0 ||
	    (rc = conf_item_path(c, err, s, "callmanager_key", ld->dir,
	         &ct->callmanager_key, CONF_PATH_SECRET)) != 0 ||
	    (rc = conf_item_path(c, err, s, "callmanager_ecdsa", ld->dir,
	         &ct->callmanager_ecdsa, 0)) != 0 ||
	    (rc = conf_item_path(c, err, s, "callmanager_ecdsa_key", ld->dir,
	         &ct->callmanager_ecdsa_key, CONF_PATH_SECRET)) != 0 ||
	    (rc = conf_item_path(c, err, s, "callmanager_trust", ld->dir,
	         &ct->callmanager_trust, CONF_PATH_DIR_OK)) != 0 ||
	    (rc = conf_item_path(c, err, s, "itlrecovery", ld->dir,
	         &ct->itlrecovery, 0)) != 0 ||
	    (rc = conf_item_path(c, err, s, "itlrecovery_key", ld->dir,
	         &ct->itlrecovery_key, CONF_PATH_SECRET)) != 0 ||
	    (rc = conf_item_path(
	         c, err, s, "tomcat", ld->dir, &ct->tomcat, 0)) != 0 ||
	    (rc = conf_item_path(c, err, s, "tomcat_key", ld->dir,
	         &ct->tomcat_key, CONF_PATH_SECRET)) != 0)
		return rc;
	if ((rc = conf_check_pair(c, err, s, "callmanager", ct->callmanager,
	         "callmanager_key", ct->callmanager_key)) != 0 ||
	    (rc = conf_check_pair(c, err, s, "callmanager_ecdsa",
	         ct->callmanager_ecdsa, "callmanager_ecdsa_key",
	         ct->callmanager_ecdsa_key)) != 0 ||
	    (rc = conf_check_pair(c, err, s, "itlrecovery", ct->itlrecovery,
	         "itlrecovery_key", ct->itlrecovery_key)) != 0 ||
	    (rc = conf_check_pair(c, err, s, "tomcat", ct->tomcat, "tomcat_key",
	         ct->tomcat_key)) != 0)
		return rc;
	return 0;
}

/* ---- [sip-trunk-security-profile] ---- */

/*
 * The guide forces TLS for Authenticated and Encrypted profiles and TCP/UDP
 * for Non Secure ones: an unset transport follows the mode, a transport set
 * against the mode is an error naming both lines.
 */
static int
check_transport(struct loader *ld, const struct conf_section *s,
    struct cm_trunk_security_profile *p, const char *key, int *tp)
{
	const struct conf_item *it = conf_item_find(s, key);
	unsigned ml = conf_item_line(s, "device_security_mode");
	char where[200];

	sec_name(s, where, sizeof(where));
	if (p->device_security_mode != CM_SEC_NON_SECURE) {
		if (it == NULL) {
			*tp = CM_TP_TLS;
			return 0;
		}
		if (*tp != CM_TP_TLS)
			return conf_fail(ld->err, ld->c, it->line,
			    "%s %s contradicts device_security_mode %s (line "
			    "%u) in %s: the guide forces TLS for Authenticated "
			    "and Encrypted profiles",
			    key, cm_transport_label(*tp),
			    cm_security_mode_label(p->device_security_mode), ml,
			    where);
	} else if (*tp == CM_TP_TLS) {
		return conf_fail(ld->err, ld->c, it ? it->line : s->line,
		    "%s TLS contradicts device_security_mode Non Secure "
		    "(line %u) in %s: Non Secure is TCP or UDP; TLS needs "
		    "Authenticated or Encrypted",
		    key, ml, where);
	}
	return 0;
}

static int
check_profile(struct loader *ld, struct cm_trunk_security_profile *p)
{
	const struct conf_section *s = find_sec(ld, SEC_PROFILE, p->name);
	char where[200];
	int rc;

	sec_name(s, where, sizeof(where));
	if (p->outgoing_transport_type == CM_TP_TCP_UDP)
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "outgoing_transport_type"),
		    "outgoing_transport_type TCP+UDP in %s: an outgoing "
		    "transport is TCP, UDP or TLS",
		    where);
	if ((rc = check_transport(ld, s, p, "incoming_transport_type",
	         &p->incoming_transport_type)) != 0 ||
	    (rc = check_transport(ld, s, p, "outgoing_transport_type",
	         &p->outgoing_transport_type)) != 0)
		return rc;
	if (p->incoming_port == 0)
		p->incoming_port =
		    p->incoming_transport_type == CM_TP_TLS ? 5061 : 5060;
	if (p->x509_subject_name &&
	    strlen(p->x509_subject_name) > CM_X509_NAME_MAX)
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "x509_subject_name"),
		    "x509_subject_name in %s is longer than %d characters",
		    where, CM_X509_NAME_MAX);
	if (p->device_security_mode != CM_SEC_NON_SECURE &&
	    (p->x509_subject_name == NULL ||
	        strspn(p->x509_subject_name, " ,;:") ==
	            strlen(p->x509_subject_name)))
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "device_security_mode"),
		    "%s is %s but has no x509_subject_name: list the names "
		    "of the voicemail server's certificate (its FQDN)",
		    where, cm_security_mode_label(p->device_security_mode));
	if (p->enable_application_level_authorization &&
	    !p->enable_digest_authentication)
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "enable_application_level_authorization"),
		    "enable_application_level_authorization in %s needs "
		    "enable_digest_authentication",
		    where);
	return 0;
}

/* ---- [sip-trunk] ---- */

static const struct cm_trunk_security_profile *
find_profile(const struct cm_config *c, const char *name)
{
	for (size_t i = 0; i < c->nprofiles; i++) {
		if (strcasecmp(c->profiles[i].name, name) == 0)
			return &c->profiles[i];
	}
	return NULL;
}

static const struct cm_sip_profile *
find_sip_profile(const struct cm_config *c, const char *name)
{
	for (size_t i = 0; i < c->nsip_profiles; i++) {
		if (strcasecmp(c->sip_profiles[i].name, name) == 0)
			return &c->sip_profiles[i];
	}
	return NULL;
}

/*
 * Parses one destination: host, host:port, IPv4:port, [IPv6]:port or a bare
 * IPv6 address. Without a port, defport; an SRV name takes none (port 0).
 */
static int
parse_dest(const char *tok, size_t len, bool srv, uint16_t defport,
    struct cm_destination *d, char *why, size_t whysz)
{
	char buf[300];
	char *host = buf, *port = NULL;
	bool ip = false;

	if (len == 0 || len >= sizeof(buf)) {
		snprintf(why, whysz, "expected host[:port] or [IPv6]:port");
		return EINVAL;
	}
	memcpy(buf, tok, len);
	buf[len] = '\0';
	if (buf[0] == '[') {
		char *rb = strchr(buf, ']');
		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':')) {
			snprintf(why, whysz, "expected [IPv6]:port");
			return EINVAL;
		}
		*rb = '\0';
		host = buf + 1;
		if (rb[1] == ':')
			port = rb + 2;
		if (!conf_is_ipv6(host)) {
			snprintf(
			    why, whysz, "'%s' is not an IPv6 address", host);
			return EINVAL;
		}
		ip = true;
	} else {
		char *colon = strchr(buf, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* Two colons: an IPv6 address without a port. */
			if (!conf_is_ipv6(buf)) {
				snprintf(why, whysz,
				    "'%s' is not an IPv6 address (write "
				    "[IPv6]:port)",
				    buf);
				return EINVAL;
			}
			ip = true;
		} else {
			if (colon) {
				*colon = '\0';
				port = colon + 1;
			}
			if (conf_looks_ipv4(host)) {
				if (!conf_is_ipv4(host)) {
					snprintf(why, whysz,
					    "'%s' is not an IPv4 address",
					    host);
					return EINVAL;
				}
				ip = true;
			} else if (!conf_valid_hostname(host)) {
				snprintf(why, whysz,
				    "'%s' is not a host name or an address",
				    host);
				return EINVAL;
			}
		}
	}
	d->port = defport;
	if (port) {
		unsigned long n = 0;
		bool ok = *port != '\0' && strlen(port) <= 5;
		for (const char *q = port; ok && *q; q++) {
			ok = isdigit((unsigned char)*q);
			n = n * 10 + (unsigned long)(*q - '0');
		}
		if (!ok || n < 1 || n > 65535) {
			snprintf(why, whysz,
			    "bad port '%s': expected 1 to 65535", port);
			return EINVAL;
		}
		d->port = (uint16_t)n;
	}
	if (srv) {
		if (ip) {
			snprintf(why, whysz,
			    "destination_is_srv: '%s' is an address, not an "
			    "SRV name",
			    host);
			return EINVAL;
		}
		if (port) {
			snprintf(why, whysz,
			    "destination_is_srv: an SRV name takes no port "
			    "(its records give the ports)");
			return EINVAL;
		}
		d->port = 0;
	}
	if ((d->host = strdup(host)) == NULL)
		return ENOMEM;
	return 0;
}

/* Destinations with the line of each, from the items themselves. */
static int
parse_dests(struct loader *ld, const struct conf_section *s, struct cm_trunk *t)
{
	uint16_t defport =
	    t->profile->outgoing_transport_type == CM_TP_TLS ? 5061 : 5060;
	char where[200], why[400];

	sec_name(s, where, sizeof(where));
	t->dests = calloc(CM_MAX_DESTINATIONS, sizeof(*t->dests));
	if (t->dests == NULL)
		return ENOMEM;
	for (size_t i = 0; i < s->nitems; i++) {
		const struct conf_item *it = &s->items[i];
		const char *p = it->val;
		if (strcmp(it->key, "destination") != 0)
			continue;
		while (*p) {
			const char *st, *en;
			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			if (*p == '\0')
				break;
			st = p;
			while (*p && *p != ',')
				p++;
			en = p;
			while (en > st && (en[-1] == ' ' || en[-1] == '\t'))
				en--;
			if (t->ndests == CM_MAX_DESTINATIONS)
				return conf_fail(ld->err, ld->c, it->line,
				    "%s has more than %d destinations", where,
				    CM_MAX_DESTINATIONS);
			struct cm_destination *d = &t->dests[t->ndests];
			int rc = parse_dest(st, (size_t)(en - st),
			    t->destination_is_srv, defport, d, why,
			    sizeof(why));
			if (rc == ENOMEM)
				return rc;
			if (rc)
				return conf_fail(ld->err, ld->c, it->line,
				    "bad destination '%.*s' in %s: %s",
				    (int)(en - st), st, where, why);
			d->line = it->line;
			t->ndests++;
			for (size_t j = 0; j + 1 < t->ndests; j++) {
				if (strcasecmp(t->dests[j].host, d->host) ==
				        0 &&
				    t->dests[j].port == d->port)
					return conf_fail(ld->err, ld->c,
					    it->line,
					    "destination '%.*s' of %s is "
					    "listed twice (first at line %u)",
					    (int)(en - st), st, where,
					    t->dests[j].line);
			}
		}
	}
	if (t->ndests == 0)
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "destination"), "%s has no destination",
		    where);
	return 0;
}

static int
check_trunk(struct loader *ld, struct cm_trunk *t)
{
	const struct conf_section *s = find_sec(ld, SEC_TRUNK, t->name);
	char where[200];
	int rc;

	sec_name(s, where, sizeof(where));
	t->profile = find_profile(ld->cfg, t->sip_trunk_security_profile);
	if (t->profile == NULL)
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "sip_trunk_security_profile"),
		    "%s uses sip_trunk_security_profile \"%s\", which is not "
		    "defined (no [sip-trunk-security-profile \"%s\"])",
		    where, t->sip_trunk_security_profile,
		    t->sip_trunk_security_profile);
	if (t->sip_profile) {
		t->sip_prof = find_sip_profile(ld->cfg, t->sip_profile);
		if (t->sip_prof == NULL)
			return conf_fail(ld->err, ld->c,
			    conf_item_line(s, "sip_profile"),
			    "%s uses sip_profile \"%s\", which is not defined "
			    "(no [sip-profile \"%s\"])",
			    where, t->sip_profile, t->sip_profile);
	}
	if ((rc = parse_dests(ld, s, t)) != 0)
		return rc;
	if (t->prefix_dn && t->prefix_dn[0] &&
	    !conf_all_digits(
	        t->prefix_dn + (t->prefix_dn[0] == '+'), CM_NUMBER_MAX))
		return conf_fail(ld->err, ld->c, conf_item_line(s, "prefix_dn"),
		    "bad value '%s' for prefix_dn in %s: expected digits, "
		    "optionally after a '+'",
		    t->prefix_dn, where);
	if ((rc = check_choice(ld, s, "dtmf_signaling_method",
	         &t->dtmf_signaling_method, dtmf_methods,
	         "No Preference, RFC 2833 or OOB and RFC 2833")) != 0)
		return rc;
	if (t->srtp_allowed &&
	    t->profile->device_security_mode != CM_SEC_ENCRYPTED)
		conf_warn(ld->c, &ld->cfg->nwarnings,
		    conf_item_line(s, "srtp_allowed"),
		    "%s has srtp_allowed, but its security profile \"%s\" is "
		    "%s: SRTP keys would travel in clear in the signalling "
		    "(use an Encrypted profile)",
		    where, t->profile->name,
		    cm_security_mode_label(t->profile->device_security_mode));
	return 0;
}

/* ---- route patterns ---- */

/* Whether pattern p matches all of the dialled digits d. */
static bool
route_match(const char *p, const char *d)
{
	for (;; p++) {
		if (*p == '.')
			continue;
		if (*p == '\0')
			return *d == '\0';
		if (*p == '!') {
			/* One or more digits, to the end ('!' is last). */
			if (!isdigit((unsigned char)*d))
				return false;
			while (isdigit((unsigned char)*d))
				d++;
			return *d == '\0';
		}
		if (*p == 'X' || *p == 'x') {
			if (!isdigit((unsigned char)*d))
				return false;
		} else if (*p != *d) {
			return false;
		}
		d++;
	}
}

/*
 * How specific a pattern is: one without '!' matches fewer numbers than
 * one with it; then more literal digits match fewer numbers (for numbers of
 * one length, fewer X).
 */
struct route_rank {
	bool bang;
	unsigned literal;
};

static struct route_rank
route_rank(const char *p)
{
	struct route_rank r = {false, 0};

	for (; *p; p++) {
		if (*p == '!')
			r.bang = true;
		else if (isdigit((unsigned char)*p))
			r.literal++;
	}
	return r;
}

static bool
route_better(struct route_rank a, struct route_rank b)
{
	if (a.bang != b.bang)
		return !a.bang;
	return a.literal > b.literal;
}

/* The pattern without dots, X in capitals: to compare two patterns. */
static void
route_norm(const char *p, char *out, size_t sz)
{
	size_t n = 0;

	for (; *p && n + 1 < sz; p++) {
		if (*p != '.')
			out[n++] = (char)toupper((unsigned char)*p);
	}
	out[n] = '\0';
}

static int
check_routes(struct loader *ld)
{
	struct cm_config *cfg = ld->cfg;

	for (size_t i = 0; i < cfg->nroutes; i++) {
		struct cm_route_pattern *r = &cfg->routes[i];
		const struct conf_section *s =
		    find_sec(ld, SEC_ROUTE, r->pattern);
		char a[CM_NUMBER_MAX + 1], b[CM_NUMBER_MAX + 1];

		r->trunk = cm_config_trunk(cfg, r->gateway_or_route_list);
		if (r->trunk == NULL)
			return conf_fail(ld->err, ld->c,
			    conf_item_line(s, "gateway_or_route_list"),
			    "route pattern %s points to trunk %s, which is "
			    "not defined",
			    r->pattern, r->gateway_or_route_list);
		route_norm(r->pattern, a, sizeof(a));
		for (size_t j = 0; j < i; j++) {
			route_norm(cfg->routes[j].pattern, b, sizeof(b));
			if (strcmp(a, b) == 0)
				return conf_fail(ld->err, ld->c, r->line,
				    "route pattern %s is the same as route "
				    "pattern %s (line %u)",
				    r->pattern, cfg->routes[j].pattern,
				    cfg->routes[j].line);
		}
	}
	return 0;
}

/* ---- voicemail pilots and profiles ---- */

static const struct cm_vm_pilot *
find_pilot(const struct cm_config *c, const char *number)
{
	for (size_t i = 0; i < c->npilots; i++) {
		if (strcmp(c->pilots[i].number, number) == 0)
			return &c->pilots[i];
	}
	return NULL;
}

static const struct cm_vm_profile *
find_vm_profile(const struct cm_config *c, const char *name)
{
	for (size_t i = 0; i < c->nvm_profiles; i++) {
		if (strcasecmp(c->vm_profiles[i].name, name) == 0)
			return &c->vm_profiles[i];
	}
	return NULL;
}

static const struct cm_vm_pilot *
default_pilot(const struct cm_config *c)
{
	for (size_t i = 0; i < c->npilots; i++) {
		if (c->pilots[i].make_this_the_default)
			return &c->pilots[i];
	}
	return NULL;
}

static const struct cm_vm_profile *
default_vm_profile(const struct cm_config *c)
{
	for (size_t i = 0; i < c->nvm_profiles; i++) {
		if (c->vm_profiles[i].make_this_the_default)
			return &c->vm_profiles[i];
	}
	return NULL;
}

static int
check_voicemail(struct loader *ld)
{
	struct cm_config *cfg = ld->cfg;
	const struct cm_vm_pilot *dp = NULL;
	const struct cm_vm_profile *dprof = NULL;

	for (size_t i = 0; i < cfg->npilots; i++) {
		const struct cm_vm_pilot *p = &cfg->pilots[i];
		const struct conf_section *s =
		    find_sec(ld, SEC_PILOT, p->number);
		if (!p->make_this_the_default)
			continue;
		if (dp)
			return conf_fail(ld->err, ld->c,
			    conf_item_line(s, "make_this_the_default"),
			    "voicemail pilot %s is made the default, but so "
			    "is voicemail pilot %s (line %u): only one can be",
			    p->number, dp->number, dp->line);
		dp = p;
	}
	for (size_t i = 0; i < cfg->nvm_profiles; i++) {
		struct cm_vm_profile *p = &cfg->vm_profiles[i];
		const struct conf_section *s =
		    find_sec(ld, SEC_VM_PROFILE, p->name);
		p->pilot = find_pilot(cfg, p->voice_mail_pilot);
		if (p->pilot == NULL)
			return conf_fail(ld->err, ld->c,
			    conf_item_line(s, "voice_mail_pilot"),
			    "voicemail profile %s names voice_mail_pilot %s, "
			    "which is not defined (no [voicemail-pilot "
			    "\"%s\"])",
			    p->name, p->voice_mail_pilot, p->voice_mail_pilot);
		if (p->voice_mail_box_mask && p->voice_mail_box_mask[0]) {
			const char *m = p->voice_mail_box_mask;
			bool ok = strlen(m) <= CM_NUMBER_MAX;
			for (; ok && *m; m++)
				ok = isdigit((unsigned char)*m) || *m == 'X' ||
				     *m == 'x';
			if (!ok)
				return conf_fail(ld->err, ld->c,
				    conf_item_line(s, "voice_mail_box_mask"),
				    "bad value '%s' for voice_mail_box_mask "
				    "in voicemail profile %s: expected digits "
				    "and X",
				    p->voice_mail_box_mask, p->name);
		}
		if (!p->make_this_the_default)
			continue;
		if (dprof)
			return conf_fail(ld->err, ld->c,
			    conf_item_line(s, "make_this_the_default"),
			    "voicemail profile %s is made the default, but so "
			    "is voicemail profile %s (line %u): only one can be",
			    p->name, dprof->name, dprof->line);
		dprof = p;
	}
	return 0;
}

/* ---- [directory-number] ---- */

static int
check_dns(struct loader *ld)
{
	struct cm_config *cfg = ld->cfg;

	for (size_t i = 0; i < cfg->ndns; i++) {
		struct cm_dn *d = &cfg->dns[i];
		const struct conf_section *s = find_sec(ld, SEC_DN, d->number);
		int rc;

		if (d->digest_user == NULL &&
		    (rc = replace_str(&d->digest_user, d->number)) != 0)
			return rc;
		if (d->digest_user[0] == '\0')
			return conf_fail(ld->err, ld->c,
			    conf_item_line(s, "digest_user"),
			    "digest_user of directory number %s is empty",
			    d->number);
		if (d->digest_password[0] == '\0')
			return conf_fail(ld->err, ld->c,
			    conf_item_line(s, "digest_password"),
			    "digest_password of directory number %s is empty: "
			    "every line registers with digest authentication",
			    d->number);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->dns[j].digest_user, d->digest_user) ==
			    0)
				return conf_fail(ld->err, ld->c,
				    conf_item_line(s, "digest_user"),
				    "directory number %s has digest_user %s, "
				    "as does directory number %s (line %u)",
				    d->number, d->digest_user,
				    cfg->dns[j].number, cfg->dns[j].line);
		}
		if (d->voice_mail_profile) {
			d->vm_profile =
			    find_vm_profile(cfg, d->voice_mail_profile);
			if (d->vm_profile == NULL)
				return conf_fail(ld->err, ld->c,
				    conf_item_line(s, "voice_mail_profile"),
				    "directory number %s uses "
				    "voice_mail_profile %s, which is not "
				    "defined (no [voicemail-profile \"%s\"])",
				    d->number, d->voice_mail_profile,
				    d->voice_mail_profile);
		}
		const char *fwd =
		    d->forward_all_to_voicemail    ? "forward_all_to_voicemail"
		    : d->forward_busy_to_voicemail ? "forward_busy_to_voicemail"
		    : d->forward_no_answer_to_voicemail
		        ? "forward_no_answer_to_voicemail"
		        : NULL;
		if (fwd && cm_config_vm_pilot(cfg, d) == NULL)
			return conf_fail(ld->err, ld->c, conf_item_line(s, fwd),
			    "directory number %s has %s, but no voicemail "
			    "pilot: set voice_mail_profile, or make a "
			    "voicemail profile or pilot the default",
			    d->number, fwd);
	}
	return 0;
}

/* ---- cross-object checks ---- */

/* What a secure (TLS) profile or line needs from the rest of the file. */
static int
check_secure_needs(
    struct loader *ld, const char *what, unsigned line, int mode, bool is_trunk)
{
	const struct cm_enterprise *e = &ld->cfg->enterprise;
	const struct cm_certificates *ct = &ld->cfg->certs;
	const struct conf_section *es = find_sec(ld, SEC_ENTERPRISE, NULL);

	if (strcmp(e->cluster_security_mode, "mixed") != 0)
		return conf_fail(ld->err, ld->c, line,
		    "%s is %s, but cluster_security_mode is %s (line %u): "
		    "secure trunks and phones need mixed mode",
		    what, cm_security_mode_label(mode),
		    e->cluster_security_mode,
		    conf_item_line(es, "cluster_security_mode"));
	if (!ct->callmanager && !ct->callmanager_ecdsa)
		return conf_fail(ld->err, ld->c, line,
		    "%s is %s, but no CallManager identity is configured: "
		    "set callmanager and callmanager_key (or "
		    "callmanager_ecdsa and callmanager_ecdsa_key) in "
		    "[certificates]",
		    what, cm_security_mode_label(mode));
	if (is_trunk && !ct->callmanager_trust)
		return conf_fail(ld->err, ld->c, line,
		    "%s is %s, but [certificates] has no callmanager_trust: "
		    "the voicemail server's certificate could not be verified",
		    what, cm_security_mode_label(mode));
	return 0;
}

static int
check_security(struct loader *ld)
{
	struct cm_config *cfg = ld->cfg;
	char what[200];
	int rc;

	for (size_t i = 0; i < cfg->nprofiles; i++) {
		const struct cm_trunk_security_profile *p = &cfg->profiles[i];
		const struct conf_section *s =
		    find_sec(ld, SEC_PROFILE, p->name);
		if (p->device_security_mode == CM_SEC_NON_SECURE)
			continue;
		sec_name(s, what, sizeof(what));
		if ((rc = check_secure_needs(ld, what,
		         conf_item_line(s, "device_security_mode"),
		         p->device_security_mode, true)) != 0)
			return rc;
	}
	for (size_t i = 0; i < cfg->ndns; i++) {
		const struct cm_dn *d = &cfg->dns[i];
		const struct conf_section *s = find_sec(ld, SEC_DN, d->number);
		if (d->device_security_mode == CM_SEC_NON_SECURE)
			continue;
		snprintf(what, sizeof(what), "directory number %s", d->number);
		if ((rc = check_secure_needs(ld, what,
		         conf_item_line(s, "device_security_mode"),
		         d->device_security_mode, false)) != 0)
			return rc;
	}
	return 0;
}

/* One listening port: TCP-like listeners of different kinds cannot share. */
enum lsn_kind { LSN_TCP, LSN_TLS, LSN_HTTPS };

struct lsn {
	uint16_t port;
	enum lsn_kind kind;
	char what[160];
	unsigned line;
};

static const char *const lsn_names[] = {"TCP", "TLS", "HTTPS"};

static int
check_ports(struct loader *ld)
{
	struct cm_config *cfg = ld->cfg;
	const struct cm_enterprise *e = &cfg->enterprise;
	const struct conf_section *es = find_sec(ld, SEC_ENTERPRISE, NULL);
	struct lsn *l = calloc(cfg->nprofiles + 3, sizeof(*l));
	size_t n = 0;
	int rc = 0;

	if (l == NULL)
		return ENOMEM;
	l[n++] = (struct lsn){e->sip_port, LSN_TCP, "sip_port of [enterprise]",
	    conf_item_line(es, "sip_port")};
	l[n++] = (struct lsn){e->sip_tls_port, LSN_TLS,
	    "sip_tls_port of [enterprise]", conf_item_line(es, "sip_tls_port")};
	l[n++] = (struct lsn){e->tftp_https_port, LSN_HTTPS,
	    "tftp_https_port of [enterprise]",
	    conf_item_line(es, "tftp_https_port")};
	for (size_t i = 0; i < cfg->nprofiles; i++) {
		const struct cm_trunk_security_profile *p = &cfg->profiles[i];
		const struct conf_section *s =
		    find_sec(ld, SEC_PROFILE, p->name);
		char where[140];
		if (p->incoming_transport_type == CM_TP_UDP)
			continue; /* UDP never shares with a stream listener */
		l[n].port = p->incoming_port;
		l[n].kind =
		    p->incoming_transport_type == CM_TP_TLS ? LSN_TLS : LSN_TCP;
		snprintf(l[n].what, sizeof(l[n].what), "incoming_port of %s",
		    sec_name(s, where, sizeof(where)));
		l[n].line = conf_item_line(s, "incoming_port");
		n++;
	}
	for (size_t i = 1; i < n && rc == 0; i++) {
		for (size_t j = 0; j < i; j++) {
			if (l[i].port != l[j].port || l[i].kind == l[j].kind)
				continue;
			rc = conf_fail(ld->err, ld->c, l[i].line,
			    "port %u: %s (%s) and %s (%s, line %u) cannot share "
			    "it",
			    l[i].port, l[i].what, lsn_names[l[i].kind],
			    l[j].what, lsn_names[l[j].kind], l[j].line);
			break;
		}
	}
	free(l);
	return rc;
}

/* Legal settings that break the guide's voicemail integration or leak secrets. */
static void
warn_risky(struct loader *ld)
{
	struct cm_config *cfg = ld->cfg;

	for (size_t i = 0; i < cfg->npilots; i++) {
		const struct cm_vm_pilot *p = &cfg->pilots[i];
		const struct cm_route_pattern *r =
		    cm_config_route(cfg, p->number);
		const struct cm_trunk *t;
		if (r == NULL) {
			conf_warn(ld->c, &ld->cfg->nwarnings, p->line,
			    "voicemail pilot %s matches no route pattern: "
			    "calls to voicemail have nowhere to go",
			    p->number);
			continue;
		}
		t = r->trunk;
		if (!t->redirecting_diversion_header_delivery_outbound)
			conf_warn(ld->c, &ld->cfg->nwarnings, t->line,
			    "trunk %s carries voicemail pilot %s (route "
			    "pattern %s) without "
			    "redirecting_diversion_header_delivery_outbound: "
			    "forwarded calls would reach the opening greeting, "
			    "not the mailbox",
			    t->name, p->number, r->pattern);
		if (!t->profile->accept_unsolicited_notification)
			conf_warn(ld->c, &ld->cfg->nwarnings, t->profile->line,
			    "security profile %s of trunk %s (voicemail pilot "
			    "%s) does not accept_unsolicited_notification: the "
			    "voicemail server's MWI NOTIFYs would be refused",
			    t->profile->name, t->name, p->number);
	}
	for (size_t i = 0; i < cfg->nprofiles; i++) {
		if (cfg->profiles[i].enable_digest_authentication &&
		    cfg->napp_users == 0)
			conf_warn(ld->c, &ld->cfg->nwarnings,
			    cfg->profiles[i].line,
			    "security profile %s enables digest authentication "
			    "but no [application-user] gives Digest "
			    "Credentials: every request from its trunks is "
			    "refused",
			    cfg->profiles[i].name);
	}
	if ((cfg->ndns || cfg->napp_users) && (ld->mode & 004))
		conf_warn(ld->c, &ld->cfg->nwarnings, 0,
		    "the file holds digest passwords and is readable by "
		    "everyone (mode %03o): chmod o-r it",
		    (unsigned)(ld->mode & 0777));
}

/* ---- load and free ---- */

int
cm_config_load(struct cm_config **cfgp, const char *path, struct conf_err *err)
{
	struct loader ld = {.err = err};
	int rc;

	if (cfgp == NULL || path == NULL)
		return EINVAL;
	if ((rc = read_conf(&ld, path)) != 0)
		return rc;
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL ||
	    (ld.cfg->file = strdup(path)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	if ((rc = conf_file_dir(path, &ld.dir)) != 0) {
		rc = conf_fail(err, ld.c, 0, "cannot resolve its directory: %s",
		    strerror(rc));
		goto out;
	}
	if ((rc = bind_all(&ld)) != 0 || (rc = check_enterprise(&ld)) != 0 ||
	    (rc = check_certificates(&ld)) != 0)
		goto out;
	for (size_t i = 0; i < ld.cfg->nprofiles; i++) {
		if ((rc = check_profile(&ld, &ld.cfg->profiles[i])) != 0)
			goto out;
	}
	for (size_t i = 0; i < ld.cfg->ntrunks; i++) {
		if ((rc = check_trunk(&ld, &ld.cfg->trunks[i])) != 0)
			goto out;
	}
	if ((rc = check_routes(&ld)) != 0 || (rc = check_voicemail(&ld)) != 0 ||
	    (rc = check_dns(&ld)) != 0 || (rc = check_security(&ld)) != 0 ||
	    (rc = check_ports(&ld)) != 0)
		goto out;
	warn_risky(&ld);
out:
	conf_wipe_values(ld.c, secret_secs, secret_keys);
	conf_free(ld.c);
	free(ld.dir);
	if (rc) {
		cm_config_free(ld.cfg);
		return rc;
	}
	*cfgp = ld.cfg;
	return 0;
}

void
cm_config_free(struct cm_config *cfg)
{
	if (cfg == NULL)
		return;
	conf_unbind(
	    enterprise_fields, NFIELDS(enterprise_fields), &cfg->enterprise);
	conf_unbind(cert_fields, NFIELDS(cert_fields), &cfg->certs);
	for (size_t i = 0; i < cfg->nprofiles; i++) {
		free(cfg->profiles[i].name);
		conf_unbind(
		    profile_fields, NFIELDS(profile_fields), &cfg->profiles[i]);
	}
	for (size_t i = 0; i < cfg->nsip_profiles; i++) {
		free(cfg->sip_profiles[i].name);
		conf_unbind(sip_profile_fields, NFIELDS(sip_profile_fields),
		    &cfg->sip_profiles[i]);
	}
	for (size_t i = 0; i < cfg->ntrunks; i++) {
		struct cm_trunk *t = &cfg->trunks[i];
		for (size_t j = 0; j < t->ndests; j++)
			free(t->dests[j].host);
		free(t->dests);
		free(t->name);
		conf_unbind(trunk_fields, NFIELDS(trunk_fields), t);
	}
	for (size_t i = 0; i < cfg->nroutes; i++) {
		free(cfg->routes[i].pattern);
		conf_unbind(
		    route_fields, NFIELDS(route_fields), &cfg->routes[i]);
	}
	for (size_t i = 0; i < cfg->npilots; i++) {
		free(cfg->pilots[i].number);
		conf_unbind(
		    pilot_fields, NFIELDS(pilot_fields), &cfg->pilots[i]);
	}
	for (size_t i = 0; i < cfg->nvm_profiles; i++) {
		free(cfg->vm_profiles[i].name);
		conf_unbind(vm_profile_fields, NFIELDS(vm_profile_fields),
		    &cfg->vm_profiles[i]);
	}
	for (size_t i = 0; i < cfg->ndns; i++) {
		struct cm_dn *d = &cfg->dns[i];
		if (d->digest_password)
			secure_wipe(
			    d->digest_password, strlen(d->digest_password));
		free(d->number);
		conf_unbind(dn_fields, NFIELDS(dn_fields), d);
	}
	free(cfg->profiles);
	free(cfg->sip_profiles);
	free(cfg->trunks);
	free(cfg->routes);
	free(cfg->pilots);
	free(cfg->vm_profiles);
	for (size_t i = 0; i < cfg->napp_users; i++) {
		struct cm_app_user *u = &cfg->app_users[i];
		if (u->digest_credentials)
			secure_wipe(u->digest_credentials,
			    strlen(u->digest_credentials));
		free(u->name);
		conf_unbind(app_user_fields, NFIELDS(app_user_fields), u);
	}
	free(cfg->app_users);
	free(cfg->dns);
	free(cfg->file);
	free(cfg);
}

/* ---- lookups ---- */

const struct cm_trunk *
cm_config_trunk(const struct cm_config *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->ntrunks; i++) {
		if (strcasecmp(c->trunks[i].name, name) == 0)
			return &c->trunks[i];
	}
	return NULL;
}

const struct cm_dn *
cm_config_dn(const struct cm_config *c, const char *number)
{
	for (size_t i = 0; c && number && i < c->ndns; i++) {
		if (strcmp(c->dns[i].number, number) == 0)
			return &c->dns[i];
	}
	return NULL;
}

const struct cm_route_pattern *
cm_config_route(const struct cm_config *c, const char *digits)
{
	const struct cm_route_pattern *best = NULL;
	struct route_rank br = {true, 0};

	for (size_t i = 0; c && digits && i < c->nroutes; i++) {
		const struct cm_route_pattern *r = &c->routes[i];
		struct route_rank rr;
		if (!route_match(r->pattern, digits))
			continue;
		rr = route_rank(r->pattern);
		/* Ties keep the first defined. */
		if (best == NULL || route_better(rr, br)) {
			best = r;
			br = rr;
		}
	}
	return best;
}

const char *
cm_config_vm_pilot(const struct cm_config *c, const struct cm_dn *dn)
{
	const struct cm_vm_profile *p;
	const struct cm_vm_pilot *pl;

	if (c == NULL)
		return NULL;
	if (dn && dn->vm_profile && dn->vm_profile->pilot)
		return dn->vm_profile->pilot->number;
	if ((p = default_vm_profile(c)) != NULL && p->pilot)
		return p->pilot->number;
	if ((pl = default_pilot(c)) != NULL)
		return pl->number;
	return NULL;
}

const struct cm_app_user *
cm_config_app_user(const struct cm_config *c, struct slice name)
{
	for (size_t i = 0; c && i < c->napp_users; i++) {
		if (slice_eq_cstr(name, c->app_users[i].name))
			return &c->app_users[i];
	}
	return NULL;
}
