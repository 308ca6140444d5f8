/* Voicemail server configuration: the guide's Unity Connection objects bound from one INI file and cross-checked with file:line. */
#include "voicemail/config.h"
#include "conf/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/secure.h"

#define F(st, k, t) .key = #k, .type = (t), .offset = offsetof(struct st, k)
#define NFIELDS(a)  (sizeof(a) / sizeof((a)[0]))

#define VM_NUMBER_MAX 32 /* digits of an extension */

#ifndef NGV_PROMPTS_DIR
#define NGV_PROMPTS_DIR "/usr/share/ngvoice/prompts"
#endif

const char *
vm_default_prompts_dir(void)
{
	return NGV_PROMPTS_DIR;
}

/* ---- labels ---- */

static const struct conf_label profile_labels[] = {
    {VM_PROFILE_5061_TLS, "5061/TLS"},
    {VM_PROFILE_5060_TCP, "5060/TCP"},
    {VM_PROFILE_5060_UDP, "5060/UDP"},
    {VM_PROFILE_5061_TLS, "TLS"},
    {VM_PROFILE_5060_TCP, "TCP"},
    {VM_PROFILE_5060_UDP, "UDP"},
    {0, NULL},
};

static const struct conf_label secmode_labels[] = {
    {VM_SEC_ENCRYPTED, "Encrypted"},
    {VM_SEC_AUTHENTICATED, "Authenticated"},
    {0, NULL},
};

/* CUC's Recording Format names, and short ones. */
static const struct conf_label recfmt_labels[] = {
    {MEDIA_REC_ULAW, "G.711 mu-law"},
    {MEDIA_REC_ALAW, "G.711 A-law"},
    {MEDIA_REC_PCM16, "PCM 8 kHz 16-bit"},
    {MEDIA_REC_ULAW, "ulaw"},
    {MEDIA_REC_ALAW, "alaw"},
    {MEDIA_REC_PCM16, "pcm16"},
    {MEDIA_REC_PCM16, "PCM"},
    {0, NULL},
};

static const struct conf_label diversion_labels[] = {
    {VM_DIVERSION_FIRST, "first"},
    {VM_DIVERSION_LAST, "last"},
    {0, NULL},
};

const char *
vm_profile_label(enum vm_sip_security_profile p)
{
	return conf_label_of(profile_labels, (int)p);
}

const char *
vm_rec_format_label(enum media_rec_format f)
{
	return conf_label_of(recfmt_labels, (int)f);
}

static int
parse_profile(const char *v, void *dst, char *why, size_t whysz)
{
	if (conf_label_find(profile_labels, v, dst) == 0)
		return 0;
	snprintf(why, whysz, "expected 5061/TLS, 5060/TCP or 5060/UDP");
	return EINVAL;
}

static int
parse_secmode(const char *v, void *dst, char *why, size_t whysz)
{
	if (conf_label_find(secmode_labels, v, dst) == 0)
		return 0;
	snprintf(why, whysz, "expected Encrypted or Authenticated");
	return EINVAL;
}

static int
parse_recfmt(const char *v, void *dst, char *why, size_t whysz)
{
	if (conf_label_find(recfmt_labels, v, dst) == 0)
		return 0;
	snprintf(why, whysz,
	    "expected G.711 mu-law, G.711 A-law or PCM 8 kHz 16-bit (or "
	    "ulaw, alaw, pcm16)");
	return EINVAL;
}

static int
parse_diversion(const char *v, void *dst, char *why, size_t whysz)
{
	if (conf_label_find(diversion_labels, v, dst) == 0)
		return 0;
	snprintf(why, whysz, "expected first or last");
	return EINVAL;
}

static int
parse_tls_ciphers(const char *v, void *dst, char *why, size_t whysz)
{
	enum tls_ciphers tc;

	if (tls_ciphers_parse(v, &tc) != 0) {
		snprintf(why, whysz,
		    "expected a TLS Ciphers label (e.g. 'Strongest - AES-256 "
		    "SHA-384 Only: RSA Preferred') or its short name");
		return EINVAL;
	}
	*(enum tls_ciphers *)dst = tc;
	return 0;
}

static int
parse_https_ciphers(const char *v, void *dst, char *why, size_t whysz)
{
	enum tls_ciphers tc;

	if (tls_https_ciphers_parse(v, &tc) != 0) {
		snprintf(why, whysz,
		    "expected an HTTPS Ciphers label ('RSA Ciphers Only', 'All Supported EC and RSA Ciphers') or a TLS Ciphers label (e.g. 'Strongest - AES-256 "
		    "SHA-384 Only: RSA Preferred') or its short name");
		return EINVAL;
	}
	*(enum tls_ciphers *)dst = tc;
	return 0;
}

static int
parse_srtp(const char *v, void *dst, char *why, size_t whysz)
{
	enum srtp_option o;

	if (srtp_option_parse(v, &o) == 0) {
		*(int *)dst = (int)o;
		return 0;
	}
	snprintf(why, whysz, "expected '%s', '%s', '%s' (or all, gcm, gcm256)",
	    srtp_option_label(SRTP_OPT_ALL), srtp_option_label(SRTP_OPT_GCM),
	    srtp_option_label(SRTP_OPT_GCM256));
	return EINVAL;
}

/* ---- schema ---- */

static const struct conf_field general_fields[] = {
    {F(vm_general, host_name, CONF_STR), .required = true},
    {F(vm_general, listen_address, CONF_STR), .def = "127.0.0.1"},
    {F(vm_general, sip_tls_port, CONF_PORT), .def = "5061"},
    {F(vm_general, sip_port, CONF_PORT), .def = "5060"},
    {F(vm_general, tls_ciphers, CONF_ENUM), .parse = parse_tls_ciphers,
        .def = "All Ciphers RSA Preferred"},
    {F(vm_general, srtp_ciphers, CONF_ENUM), .parse = parse_srtp, .def = "all"},
    {F(vm_general, https_ciphers, CONF_ENUM), .parse = parse_https_ciphers,
        .def = "RSA Ciphers Only"},
    {F(vm_general, recording_format, CONF_ENUM), .parse = parse_recfmt,
        .def = "G.711 mu-law"},
    {F(vm_general, maximum_greeting_length, CONF_UINT), .min = 1, .max = 1200,
        .def = "90"},
    {F(vm_general, maximum_message_length, CONF_UINT), .min = 1, .max = 3600,
        .def = "300"},
    {F(vm_general, minimum_message_length, CONF_UINT), .min = 0, .max = 60000,
        .def = "1000"},
    {F(vm_general, end_of_message_silence, CONF_UINT), .min = 0, .max = 60000,
        .def = "5000"},
    {F(vm_general, default_language, CONF_STR), .def = "en-US"},
    {F(vm_general, storage_path, CONF_STR), .required = true},
    {F(vm_general, prompts_dir, CONF_STR)},
    {F(vm_general, diversion_mailbox, CONF_ENUM), .parse = parse_diversion,
        .def = "first"},
    {F(vm_general, pin_attempts, CONF_UINT), .min = 1, .max = 10, .def = "3"},
    {F(vm_general, rtp_address, CONF_STR)},
    {F(vm_general, pid_file, CONF_STR)},
    {F(vm_general, control_socket, CONF_STR)},
    {F(vm_general, keylog_file, CONF_STR)},
    {F(vm_general, tls13, CONF_BOOL), .def = "no"},
};

static const struct conf_field cert_fields[] = {
    {F(vm_certificates, tomcat, CONF_STR)},
    {F(vm_certificates, tomcat_key, CONF_STR)},
    {F(vm_certificates, tomcat_ecdsa, CONF_STR)},
    {F(vm_certificates, tomcat_ecdsa_key, CONF_STR)},
    {F(vm_certificates, callmanager_trust, CONF_STR)},
    {F(vm_certificates, tomcat_trust, CONF_STR)},
    {F(vm_certificates, itl_signer, CONF_STR)},
};

static const struct conf_field group_fields[] = {
    {F(vm_port_group, display_name, CONF_STR)},
    {F(vm_port_group, phone_system, CONF_STR), .def = "PhoneSystem"},
    {F(vm_port_group, authenticate_with_sip_server, CONF_BOOL), .def = "no"},
    {F(vm_port_group, authentication_user_name, CONF_STR)},
    {F(vm_port_group, authentication_password, CONF_STR)},
    {F(vm_port_group, contact_line_name, CONF_STR)},
    {F(vm_port_group, sip_security_profile, CONF_ENUM), .parse = parse_profile,
        .def = "5061/TLS"},
    {F(vm_port_group, enable_next_generation_encryption, CONF_BOOL),
        .def = "yes"},
    {F(vm_port_group, security_mode, CONF_ENUM), .parse = parse_secmode,
        .def = "Encrypted"},
    {F(vm_port_group, secure_rtp, CONF_BOOL), .def = "yes"},
    {F(vm_port_group, ip_address_or_host_name, CONF_STR), .required = true},
    {F(vm_port_group, port, CONF_PORT)},
    {F(vm_port_group, sip_server, CONF_LIST)},
    {F(vm_port_group, tftp_server, CONF_LIST)},
    {F(vm_port_group, tftp_https_port, CONF_PORT), .def = "6972"},
};

static const struct conf_field ports_fields[] = {
    {F(vm_ports, enabled, CONF_BOOL), .def = "yes"},
    {F(vm_ports, number_of_ports, CONF_UINT), .min = 1, .max = 20000,
        .def = "2"},
    {F(vm_ports, answer_calls, CONF_BOOL), .def = "yes"},
    {F(vm_ports, perform_message_notification, CONF_BOOL), .def = "yes"},
    {F(vm_ports, send_mwi_requests, CONF_BOOL), .def = "yes"},
    {F(vm_ports, allow_trap_connections, CONF_BOOL), .def = "yes"},
};

static const struct conf_field mailbox_fields[] = {
    {F(vm_mailbox, owner_name, CONF_STR)},
    {F(vm_mailbox, pin, CONF_STR)},
    {F(vm_mailbox, standard_greeting, CONF_STR)},
    {F(vm_mailbox, busy_greeting, CONF_STR)},
    {F(vm_mailbox, greetings_dir, CONF_STR)},
};

enum sec_kind {
	SEC_GENERAL,
	SEC_CERTIFICATES,
	SEC_GROUP,
	SEC_PORTS,
	SEC_MAILBOX,
	SEC__COUNT
};

static const struct conf_sec_type sec_types[SEC__COUNT] = {
    [SEC_GENERAL] = {"general", false},
    [SEC_CERTIFICATES] = {"certificates", false},
    [SEC_GROUP] = {"port-group", true},
    [SEC_PORTS] = {"ports", true},
    [SEC_MAILBOX] = {"mailbox", true},
};

/* The file's text holds PINs and passwords: wiped after parsing. */
static const char *const secret_keys[] = {
    "pin", "authentication_password", NULL};

struct loader {
	struct conf *c;
	struct vm_config *cfg;
	struct conf_err *err;
	mode_t mode;
};

/*
 * The line of the key's item whose value holds entry v: a list option
 * (sip_server, tftp_server) may be repeated, and each entry keeps the line
 * it was written on. Entries are split as conf_bind splits them.
 */
static unsigned
item_line_entry(const struct conf_section *s, const char *key, const char *v)
{
	size_t n = strlen(v);

	for (size_t i = 0; s && i < s->nitems; i++) {
		const char *p = s->items[i].val, *e, *t;
		if (strcmp(s->items[i].key, key) != 0)
			continue;
		while (*p) {
			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			for (e = p; *e && *e != ','; e++)
				;
			for (t = e; t > p && (t[-1] == ' ' || t[-1] == '\t' ||
			                         t[-1] == '\r');
			     t--)
				;
			if ((size_t)(t - p) == n && strncmp(p, v, n) == 0)
				return s->items[i].line;
			p = e;
		}
	}
	return conf_item_line(s, key);
}

/* ---- binding ---- */

static int
bind_all(struct loader *ld)
{
	size_t count[SEC__COUNT] = {0};
	struct vm_config *cfg = ld->cfg;
	struct conf *c = ld->c;
	int rc;

	if ((rc = conf_sections_check(
	         c, ld->err, sec_types, SEC__COUNT, count)) != 0)
		return rc;
	if (count[SEC_GENERAL] == 0)
		return conf_fail(ld->err, c, 0,
		    "no [general] section: it needs at least host_name (this "
		    "server's FQDN, the CN of its tomcat certificate) and "
		    "storage_path");
	if ((count[SEC_GROUP] && !(cfg->groups = calloc(count[SEC_GROUP],
	                               sizeof(*cfg->groups)))) ||
	    (count[SEC_PORTS] && !(cfg->ports = calloc(count[SEC_PORTS],
	                               sizeof(*cfg->ports)))) ||
	    (count[SEC_MAILBOX] && !(cfg->mailboxes = calloc(count[SEC_MAILBOX],
	                                 sizeof(*cfg->mailboxes)))))
		return ENOMEM;
	for (size_t i = 0; i < c->nsecs; i++) {
		const struct conf_section *s = &c->secs[i];
		char **namep = NULL;
		unsigned *linep = NULL;
		switch (conf_sec_kind(sec_types, SEC__COUNT, s->type)) {
		case SEC_GENERAL:
			rc = conf_bind(c, s, general_fields,
			    NFIELDS(general_fields), &cfg->general, ld->err);
			break;
		case SEC_CERTIFICATES:
			rc = conf_bind(c, s, cert_fields, NFIELDS(cert_fields),
			    &cfg->certs, ld->err);
			break;
		case SEC_GROUP: {
			struct vm_port_group *g = &cfg->groups[cfg->ngroups++];
			namep = &g->name;
			linep = &g->line;
			rc = conf_bind(c, s, group_fields,
			    NFIELDS(group_fields), g, ld->err);
			break;
		}
		case SEC_PORTS: {
			struct vm_ports *p = &cfg->ports[cfg->nports++];
			namep = &p->port_group;
			linep = &p->line;
			rc = conf_bind(c, s, ports_fields,
			    NFIELDS(ports_fields), p, ld->err);
			break;
		}
		case SEC_MAILBOX: {
			struct vm_mailbox *m =
			    &cfg->mailboxes[cfg->nmailboxes++];
			if (!conf_all_digits(s->name, VM_NUMBER_MAX))
				return conf_fail(ld->err, c, s->line,
				    "mailbox extension '%s': digits only, at "
				    "most %d",
				    s->name, VM_NUMBER_MAX);
			namep = &m->extension;
			linep = &m->line;
			rc = conf_bind(c, s, mailbox_fields,
			    NFIELDS(mailbox_fields), m, ld->err);
			break;
		}
		default:
			return EINVAL;
		}
		if (namep) {
			*linep = s->line;
			if ((*namep = strdup(s->name)) == NULL)
				return ENOMEM;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- checks ---- */

static int
check_general(struct loader *ld)
{
	struct vm_general *g = &ld->cfg->general;
	const struct conf_section *s = conf_find(ld->c, "general", NULL);
	const char *dir = ld->cfg->dir;
	int rc;

	if (!conf_valid_hostname(g->host_name) || conf_looks_ipv4(g->host_name))
		return conf_fail(ld->err, ld->c, conf_item_line(s, "host_name"),
		    "host_name '%s' must be this server's FQDN (the CN of its "
		    "tomcat certificate), not an address",
		    g->host_name);
	if (!conf_is_host(g->listen_address))
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "listen_address"),
		    "listen_address '%s' is not an address or a host name",
		    g->listen_address);
	if (g->rtp_address && !conf_is_ipv4(g->rtp_address) &&
	    !conf_is_ipv6(g->rtp_address))
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "rtp_address"),
		    "rtp_address '%s' must be an IP address (it goes into SDP)",
		    g->rtp_address);
	if ((rc = conf_item_path(ld->c, ld->err, s, "storage_path", dir,
	         &g->storage_path, CONF_PATH_MAY_NOT_EXIST)) != 0)
		return rc;
	if (g->prompts_dir == NULL &&
	    (g->prompts_dir = strdup(vm_default_prompts_dir())) == NULL)
		return ENOMEM;
	if (conf_item_find(s, "prompts_dir") &&
	    (rc = conf_item_path(ld->c, ld->err, s, "prompts_dir", dir,
	         &g->prompts_dir, CONF_PATH_DIR_OK | CONF_PATH_DIR_ONLY)) != 0)
		return rc;
	if (g->pid_file &&
	    (rc = conf_item_path(ld->c, ld->err, s, "pid_file", dir,
	         &g->pid_file, CONF_PATH_MAY_NOT_EXIST)) != 0)
		return rc;
	if (g->control_socket &&
	    (rc = conf_item_path(ld->c, ld->err, s, "control_socket", dir,
	         &g->control_socket, CONF_PATH_MAY_NOT_EXIST)) != 0)
		return rc;
	if (g->keylog_file) {
		if ((rc = conf_item_path(ld->c, ld->err, s, "keylog_file", dir,
		         &g->keylog_file, CONF_PATH_MAY_NOT_EXIST)) != 0)
			return rc;
		conf_warn(ld->c, &ld->cfg->nwarnings,
		    conf_item_line(s, "keylog_file"),
		    "keylog_file is set: TLS session keys are written to %s, "
		    "anyone who reads it can decrypt the signalling and the "
		    "SRTP keys in it",
		    g->keylog_file);
	}
	if (g->minimum_message_length > g->maximum_message_length * 1000u)
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "minimum_message_length"),
		    "minimum_message_length (%u ms) is longer than "
		    "maximum_message_length (%u s)",
		    g->minimum_message_length, g->maximum_message_length);
	return 0;
}

static int
check_certificates(struct loader *ld)
{
	struct vm_certificates *ct = &ld->cfg->certs;
	const struct conf_section *s = conf_find(ld->c, "certificates", NULL);
	const char *dir = ld->cfg->dir;
	int rc;

	if (s == NULL)
		return 0;
	if ((rc = conf_item_path(
	         ld->c, ld->err, s, "tomcat", dir, &ct->tomcat, 0)) ||
	    (rc = conf_item_path(ld->c, ld->err, s, "tomcat_key", dir,
	         &ct->tomcat_key, CONF_PATH_SECRET)) ||
	    (rc = conf_item_path(ld->c, ld->err, s, "tomcat_ecdsa", dir,
	         &ct->tomcat_ecdsa, 0)) ||
	    (rc = conf_item_path(ld->c, ld->err, s, "tomcat_ecdsa_key", dir,
	         &ct->tomcat_ecdsa_key, CONF_PATH_SECRET)) ||
	    (rc = conf_item_path(ld->c, ld->err, s, "callmanager_trust", dir,
	         &ct->callmanager_trust, CONF_PATH_DIR_OK)) ||
	    (rc = conf_item_path(ld->c, ld->err, s, "tomcat_trust", dir,
	         &ct->tomcat_trust, CONF_PATH_DIR_OK)) ||
	    (rc = conf_item_path(
	         ld->c, ld->err, s, "itl_signer", dir, &ct->itl_signer, 0)) ||
	    (rc = conf_check_pair(ld->c, ld->err, s, "tomcat", ct->tomcat,
	         "tomcat_key", ct->tomcat_key)) ||
	    (rc = conf_check_pair(ld->c, ld->err, s, "tomcat_ecdsa",
	         ct->tomcat_ecdsa, "tomcat_ecdsa_key", ct->tomcat_ecdsa_key)))
		return rc;
	return 0;
}

/* A port of a sip_server line: digits only, 1-65535. */
static bool
server_port(const char *w, unsigned *out)
{
	unsigned long n;

	if (!conf_all_digits(w, 5))
		return false;
	n = strtoul(w, NULL, 10);
	if (n == 0 || n > 65535)
		return false;
	*out = (unsigned)n;
	return true;
}

/*
 * "host [port [tls_port]]". Each word is checked whole: sscanf's %u alone
 * would take "5O61" as port 5 and ignore words after the third.
 */
static int
parse_server(struct loader *ld, const struct conf_section *s, const char *v,
    struct vm_sip_server *out)
{
	char host[256], ps[16], ts[16], extra[2];
	unsigned port = 5060, tls = 5061;
	int n = sscanf(v, "%255s %15s %15s %1s", host, ps, ts, extra);
	unsigned line = item_line_entry(s, "sip_server", v);

	if (n < 1 || n > 3)
		return conf_fail(ld->err, ld->c, line,
		    "sip_server '%s': expected 'HOST [PORT [TLS_PORT]]'", v);
	if ((n >= 2 && !server_port(ps, &port)) ||
	    (n == 3 && !server_port(ts, &tls)))
		return conf_fail(ld->err, ld->c, line,
		    "sip_server '%s': ports are 1-65535", v);
	if (!conf_is_host(host))
		return conf_fail(ld->err, ld->c, line,
		    "sip_server '%s': '%s' is not an address or a host name", v,
		    host);
	if ((out->host = strdup(host)) == NULL)
		return ENOMEM;
	out->port = (uint16_t)port;
	out->tls_port = (uint16_t)tls;
	out->line = line;
	return 0;
}

static int
check_group(struct loader *ld, struct vm_port_group *g)
{
	const struct conf_section *s = conf_find(ld->c, "port-group", g->name);
	bool tls = g->sip_security_profile == VM_PROFILE_5061_TLS;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < ld->cfg->ngroups; i++) {
		const struct vm_port_group *o = &ld->cfg->groups[i];
		if (o != g && strcasecmp(o->name, g->name) == 0 &&
		    o->line < g->line)
			return conf_fail(ld->err, ld->c, g->line,
			    "port group '%s' is defined twice (first at line "
			    "%u)",
			    g->name, o->line);
	}
	if (g->display_name == NULL &&
	    (g->display_name = strdup(g->name)) == NULL)
		return ENOMEM;
	if (g->authenticate_with_sip_server &&
	    (!g->authentication_user_name || !g->authentication_password))
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "authenticate_with_sip_server"),
		    "port group '%s': Authenticate with SIP Server needs "
		    "authentication_user_name and authentication_password",
		    g->name);
	if (!tls && conf_item_find(s, "enable_next_generation_encryption") &&
	    g->enable_next_generation_encryption)
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "enable_next_generation_encryption"),
		    "port group '%s': Enable Next Generation Encryption works "
		    "only with a secure TLS port (sip_security_profile = "
		    "5061/TLS)",
		    g->name);
	if (!tls)
		g->enable_next_generation_encryption = false;
	if (!tls && conf_item_find(s, "secure_rtp") && g->secure_rtp)
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "secure_rtp"),
		    "port group '%s': Secure RTP needs the TLS port "
		    "(sip_security_profile = 5061/TLS): SRTP keys would cross "
		    "the network in clear text",
		    g->name);
	if (!tls)
		g->secure_rtp = false;
	if (g->enable_next_generation_encryption &&
	    conf_item_find(s, "security_mode"))
		conf_warn(ld->c, &ld->cfg->nwarnings,
		    conf_item_line(s, "security_mode"),
		    "port group '%s': security_mode does not apply with Next "
		    "Generation Encryption (the call is Encrypted)",
		    g->name);
	if (tls && !g->enable_next_generation_encryption &&
	    g->security_mode == VM_SEC_AUTHENTICATED && g->secure_rtp)
		conf_warn(ld->c, &ld->cfg->nwarnings,
		    conf_item_line(s, "security_mode"),
		    "port group '%s': Authenticated mode sends SRTP keys in "
		    "clear text (NULL-SHA signalling)",
		    g->name);
	if (g->port == 0)
		g->port = tls ? 5061 : 5060;
	if (!conf_is_host(g->ip_address_or_host_name))
		return conf_fail(ld->err, ld->c,
		    conf_item_line(s, "ip_address_or_host_name"),
		    "port group '%s': '%s' is not an address or a host name",
		    g->name, g->ip_address_or_host_name);
	for (char **p = g->sip_server; p && *p; p++)
		n++;
	g->servers = calloc(n + 1, sizeof(*g->servers));
	if (g->servers == NULL)
		return ENOMEM;
	if ((g->servers[0].host = strdup(g->ip_address_or_host_name)) == NULL)
		return ENOMEM;
	g->servers[0].port = tls ? 5060 : g->port;
	g->servers[0].tls_port = tls ? g->port : 5061;
	g->servers[0].line = conf_item_line(s, "ip_address_or_host_name");
	g->nservers = 1;
	for (size_t i = 0; i < n; i++) {
		if ((rc = parse_server(ld, s, g->sip_server[i],
		         &g->servers[g->nservers])) != 0)
			return rc;
		g->nservers++;
	}
	for (char **p = g->tftp_server; p && *p; p++) {
		if (!conf_is_host(*p))
			return conf_fail(ld->err, ld->c,
			    item_line_entry(s, "tftp_server", *p),
			    "port group '%s': tftp_server '%s' is not a host "
			    "name",
			    g->name, *p);
		/* Legal, but the ITL download will refuse it (the guide). */
		if (conf_is_ipv4(*p) || conf_is_ipv6(*p))
			conf_warn(ld->c, &ld->cfg->nwarnings,
			    item_line_entry(s, "tftp_server", *p),
			    "port group '%s': tftp_server %s is an IP address: "
			    "the ITL download needs the host name that is the "
			    "CN of the call manager's CallManager certificate",
			    g->name, *p);
	}
	if (tls && g->enable_next_generation_encryption && !g->tftp_server &&
	    !ld->cfg->certs.callmanager_trust)
		return conf_fail(ld->err, ld->c, g->line,
		    "port group '%s': with Next Generation Encryption the call "
		    "manager must be trusted: give tftp_server (the ITL "
		    "download) or callmanager_trust in [certificates]",
		    g->name);
	return 0;
}

static int
check_ports(struct loader *ld)
{
	struct vm_config *cfg = ld->cfg;

	for (size_t i = 0; i < cfg->nports; i++) {
		struct vm_ports *p = &cfg->ports[i];
		struct vm_port_group *g = NULL;
		for (size_t j = 0; j < cfg->ngroups; j++) {
			if (strcasecmp(cfg->groups[j].name, p->port_group) == 0)
				g = &cfg->groups[j];
		}
		if (g == NULL)
			return conf_fail(ld->err, ld->c, p->line,
			    "[ports \"%s\"]: there is no [port-group \"%s\"]",
			    p->port_group, p->port_group);
		if (g->ports)
			return conf_fail(ld->err, ld->c, p->line,
			    "[ports \"%s\"] is given twice (first at line %u)",
			    p->port_group, g->ports->line);
		g->ports = p;
	}
	for (size_t j = 0; j < cfg->ngroups; j++) {
		if (cfg->groups[j].ports == NULL)
			conf_warn(ld->c, &ld->cfg->nwarnings,
			    cfg->groups[j].line,
			    "port group '%s' has no [ports \"%s\"] section: it "
			    "answers no calls",
			    cfg->groups[j].name, cfg->groups[j].name);
	}
	if (cfg->ngroups == 0)
		return conf_fail(ld->err, ld->c, 0,
		    "no [port-group \"NAME\"]: the voicemail server needs a "
		    "port group to integrate with the call manager");
	return 0;
}

static int
check_mailboxes(struct loader *ld)
{
	struct vm_config *cfg = ld->cfg;
	int rc;

	for (size_t i = 0; i < cfg->nmailboxes; i++) {
		struct vm_mailbox *m = &cfg->mailboxes[i];
		const struct conf_section *s =
		    conf_find(ld->c, "mailbox", m->extension);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->mailboxes[j].extension, m->extension) ==
			    0)
				return conf_fail(ld->err, ld->c, m->line,
				    "mailbox %s is defined twice (first at "
				    "line %u)",
				    m->extension, cfg->mailboxes[j].line);
		}
		if (m->pin &&
		    (!conf_all_digits(m->pin, 20) || strlen(m->pin) < 4))
			return conf_fail(ld->err, ld->c,
			    conf_item_line(s, "pin"),
			    "mailbox %s: the PIN must be 4 to 20 digits",
			    m->extension);
		if (m->pin && (ld->mode & 077))
			conf_warn(ld->c, &ld->cfg->nwarnings,
			    conf_item_line(s, "pin"),
			    "mailbox %s: this file holds PINs and is readable "
			    "by group or others (mode %03o): chmod 600 it",
			    m->extension, (unsigned)(ld->mode & 0777));
		if ((rc = conf_item_path(ld->c, ld->err, s, "standard_greeting",
		         cfg->dir, &m->standard_greeting, 0)) ||
		    (rc = conf_item_path(ld->c, ld->err, s, "busy_greeting",
		         cfg->dir, &m->busy_greeting, 0)) ||
		    (rc = conf_item_path(ld->c, ld->err, s, "greetings_dir",
		         cfg->dir, &m->greetings_dir,
		         CONF_PATH_DIR_OK | CONF_PATH_DIR_ONLY)))
			return rc;
		if (m->owner_name == NULL &&
		    (m->owner_name = strdup(m->extension)) == NULL)
			return ENOMEM;
	}
	return 0;
}

int
vm_config_load(struct vm_config **cp, const char *path, struct conf_err *err)
{
	struct loader ld = {.err = err};
	struct stat st;
	int rc;

	if (cp == NULL || path == NULL)
		return EINVAL;
	if ((rc = conf_load(&ld.c, path, err)) != 0)
		return rc;
	if (stat(path, &st) == 0)
		ld.mode = st.st_mode;
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL ||
	    (ld.cfg->path = strdup(path)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	if ((rc = conf_file_dir(path, &ld.cfg->dir)) != 0) {
		rc = conf_fail(err, ld.c, 0, "cannot resolve its directory: %s",
		    strerror(rc));
		goto out;
	}
	if ((rc = bind_all(&ld)) || (rc = check_general(&ld)) ||
	    (rc = check_certificates(&ld)))
		goto out;
	for (size_t i = 0; i < ld.cfg->ngroups; i++) {
		if ((rc = check_group(&ld, &ld.cfg->groups[i])) != 0)
			goto out;
	}
	if ((rc = check_ports(&ld)) || (rc = check_mailboxes(&ld)))
		goto out;
	for (size_t i = 0; i < ld.cfg->ngroups; i++) {
		const struct vm_port_group *g = &ld.cfg->groups[i];
		if (g->sip_security_profile == VM_PROFILE_5061_TLS &&
		    !ld.cfg->certs.tomcat && !ld.cfg->certs.tomcat_ecdsa) {
			rc = conf_fail(err, ld.c, g->line,
			    "port group '%s' uses 5061/TLS but [certificates] "
			    "gives neither tomcat nor tomcat_ecdsa (the "
			    "identity presented to the call manager)",
			    g->name);
			goto out;
		}
	}
out:
	conf_wipe_values(ld.c, NULL, secret_keys);
	conf_free(ld.c);
	if (rc) {
		vm_config_free(ld.cfg);
		return rc;
	}
	*cp = ld.cfg;
	return 0;
}

void
vm_config_free(struct vm_config *c)
{
	if (c == NULL)
		return;
	conf_unbind(general_fields, NFIELDS(general_fields), &c->general);
	conf_unbind(cert_fields, NFIELDS(cert_fields), &c->certs);
	for (size_t i = 0; i < c->ngroups; i++) {
		struct vm_port_group *g = &c->groups[i];
		/* Secrets: wiped before conf_unbind frees them (config.h). */
		if (g->authentication_password)
			secure_wipe(g->authentication_password,
			    strlen(g->authentication_password));
		for (size_t j = 0; j < g->nservers; j++)
			free(g->servers[j].host);
		free(g->servers);
		free(g->name);
		conf_unbind(group_fields, NFIELDS(group_fields), g);
	}
	for (size_t i = 0; i < c->nports; i++) {
		free(c->ports[i].port_group);
		conf_unbind(ports_fields, NFIELDS(ports_fields), &c->ports[i]);
	}
	for (size_t i = 0; i < c->nmailboxes; i++) {
		if (c->mailboxes[i].pin)
			secure_wipe(
			    c->mailboxes[i].pin, strlen(c->mailboxes[i].pin));
		free(c->mailboxes[i].extension);
		conf_unbind(
		    mailbox_fields, NFIELDS(mailbox_fields), &c->mailboxes[i]);
	}
	free(c->groups);
	free(c->ports);
	free(c->mailboxes);
	free(c->path);
	free(c->dir);
	free(c);
}

const struct vm_mailbox *
vm_config_mailbox(const struct vm_config *c, const char *extension)
{
	for (size_t i = 0; i < c->nmailboxes; i++) {
		if (strcmp(c->mailboxes[i].extension, extension) == 0)
			return &c->mailboxes[i];
	}
	return NULL;
}

const struct vm_port_group *
vm_config_group(const struct vm_config *c, const char *name)
{
	for (size_t i = 0; i < c->ngroups; i++) {
		if (strcasecmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	}
	return NULL;
}
