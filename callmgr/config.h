/* Call manager configuration: the objects of the guide's Unified CM screens, read from one INI file. */
#ifndef NGV_CALLMGR_CONFIG_H
#define NGV_CALLMGR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "sip/transport.h"
#include "tls/profile.h"

/* Device Security Mode (trunk security profile, phone security). */
enum cm_security_mode {
	CM_SEC_NON_SECURE,    /* "Non Secure": UDP/TCP */
	CM_SEC_AUTHENTICATED, /* "Authenticated": TLS NULL-SHA */
	CM_SEC_ENCRYPTED,     /* "Encrypted": TLS with encryption */
};

/* Incoming/outgoing transport type of a security profile. */
enum cm_transport { CM_TP_TCP_UDP, CM_TP_TCP, CM_TP_UDP, CM_TP_TLS };

/* "Consider Traffic on This Trunk Secure" (protocol-notes 3.5). */
enum cm_traffic_secure {
	CM_SECURE_SRTP_AND_TLS, /* "When using both sRTP and TLS" (default) */
	CM_SECURE_SRTP_ONLY,    /* "When using sRTP Only" */
};

/* A trunk has at most this many destinations (AXL XSipTrunk). */
#define CM_MAX_DESTINATIONS 16

/* "SRTP Ciphers" enterprise parameter. */
enum cm_srtp_ciphers {
	CM_SRTP_ALL,    /* All supported AES-256, AES-128 ciphers (default) */
	CM_SRTP_GCM,    /* AEAD AES-256, AES-128 GCM-based ciphers */
	CM_SRTP_GCM256, /* AEAD AES256 GCM-based cipher only */
};

/* [enterprise]: enterprise parameters and the node's own addresses. */
struct cm_enterprise {
	char *cluster_security_mode; /* "mixed" (default) or "non-secure" */
	enum tls_ciphers
	    tls_ciphers;  /* TLS Ciphers, default All Ciphers RSA Preferred */
	int srtp_ciphers; /* enum cm_srtp_ciphers */
	enum tls_ciphers https_ciphers; /* HTTPS Ciphers */
	char *host_name;       /* FQDN of this node: cucm.ngvoice.localhost */
	char *listen_address;  /* default 127.0.0.1 */
	uint16_t sip_port;     /* UDP/TCP, default 5060 */
	uint16_t sip_tls_port; /* default 5061 */
	uint16_t tftp_https_port; /* default 6972 */
	char
	    *tftp_file_signature_algorithm; /* "SHA-512" (default) or "SHA-1" */
	char *control_socket;
	char *pid_file;
	/* written at start, for `ngvoice reload` */ /* unix socket for `ngvoice status` */
	char *keylog_file; /* NSS key log; off by default */
	bool tls13;
	/*
	 * Digest algorithms offered to phones, in order, one challenge
	 * header each (RFC 8760). Default "SHA-256, MD5"; some phones take
	 * only the first header and know only MD5: list MD5 first for them.
	 */
	int digest_algorithms[3];  /* enum sip_auth_alg */
	size_t ndigest_algorithms; /* allow TLS 1.3 (off: NGE is TLS 1.2) */
};

/* [certificates] */
struct cm_certificates {
	char *callmanager; /* CallManager (RSA) certificate PEM */
	char *callmanager_key;
	char *callmanager_ecdsa; /* CallManager-ECDSA certificate PEM */
	char *callmanager_ecdsa_key;
	char *callmanager_trust; /* PEM bundle or directory */
	char *itlrecovery;       /* signs the ITL */
	char *itlrecovery_key;
	char *tomcat; /* presented on :6972 */
	char *tomcat_key;
};

/* [sip-trunk-security-profile "NAME"] (protocol-notes 5.1) */
struct cm_trunk_security_profile {
	char *name;
	char *description;
	int device_security_mode; /* enum cm_security_mode, default Non Secure */
	int incoming_transport_type; /* enum cm_transport, default TCP+UDP */
	int outgoing_transport_type; /* enum cm_transport, default TCP */
	bool enable_digest_authentication;
	unsigned nonce_validity_time; /* seconds, default 600 */
	char *x509_subject_name;      /* names separated by space , ; : */
	uint16_t incoming_port;       /* default 5060; 5061 for TLS */
	bool enable_application_level_authorization;
	bool accept_presence_subscription;
	bool accept_out_of_dialog_refer;
	bool accept_unsolicited_notification;
	bool accept_replaces_header;
	bool transmit_security_status;
	bool allow_charging_header;
	unsigned line;
};

/* [sip-profile "NAME"]: the OPTIONS ping part of the SIP Profile. */
struct cm_sip_profile {
	char *name;
	bool
	    enable_options_ping; /* "Enable OPTIONS Ping to monitor destination status" */
	unsigned options_ping_interval_in_service;     /* s, default 60 */
	unsigned options_ping_interval_out_of_service; /* s, default 120 */
	unsigned sip_retry_timer;                      /* ms, default 500 */
	unsigned sip_retry_count;                      /* default 6 */
	unsigned line;
};

/* One destination of a trunk: address or host name, port. */
struct cm_destination {
	char *host;    /* IP literal without brackets, or a DNS name */
	uint16_t port; /* 0 when the trunk's destination is an SRV name */
	unsigned line;
};

/* [sip-trunk "NAME"] */
struct cm_trunk {
	char *name;
	char *description;
	char *device_pool;
	char **destination; /* "host[:port]" each, up to 16, in order */
	bool destination_is_srv;
	char *sip_trunk_security_profile;
	char *sip_profile;
	bool srtp_allowed;
	int consider_traffic_on_this_trunk_secure; /* enum cm_traffic_secure */
	bool run_on_all_active_unified_cm_nodes;
	unsigned significant_digits; /* 99 = all */
	char *prefix_dn;
	bool redirecting_diversion_header_delivery_inbound;
	bool redirecting_diversion_header_delivery_outbound;
	char *
	    dtmf_signaling_method; /* "No Preference", "RFC 2833", "OOB and RFC 2833" */
	unsigned line;
	/* resolved by validation */
	struct cm_destination *dests;
	size_t ndests;
	const struct cm_trunk_security_profile *profile;
	const struct cm_sip_profile
	    *sip_prof; /* NULL: no sip_profile, no OPTIONS ping */
};

/* [route-pattern "2000"] */
struct cm_route_pattern {
	char *pattern; /* digits, X = any digit, ! = one or more */
	char *gateway_or_route_list; /* trunk name */
	char *description;
	unsigned line;
	const struct cm_trunk *trunk;
};

/* [voicemail-pilot "2000"] */
struct cm_vm_pilot {
	char *number;
	char *calling_search_space;
	char *description;
	bool make_this_the_default;
	unsigned line;
};

/* [voicemail-profile "NAME"] */
struct cm_vm_profile {
	char *name;
	char *description;
	char *voice_mail_pilot; /* pilot number */
	char *voice_mail_box_mask;
	bool make_this_the_default;
	unsigned line;
	const struct cm_vm_pilot *pilot;
};

/* [directory-number "1001"]: a phone line */
struct cm_dn {
	char *number;
	char *display_name;
	char *digest_user;        /* default: the number */
	char *digest_password;    /* wiped on free */
	int device_security_mode; /* enum cm_security_mode, default Encrypted */
	char *voice_mail_profile;
	bool forward_no_answer_to_voicemail;
	bool forward_busy_to_voicemail;
	bool forward_all_to_voicemail;
	unsigned no_answer_ring_duration; /* s, default 12 */
	unsigned line;
	const struct cm_vm_profile *vm_profile;
};

/*
 * [application-user "NAME"]: the Application User whose Digest Credentials
 * a trunk peer (the voicemail port group's "Authenticate with SIP Server")
 * uses when its security profile enables digest authentication.
 */
struct cm_app_user {
	char *name;               /* the digest user name */
	char *digest_credentials; /* the password; wiped on free */
	unsigned line;
};

struct cm_config {
	char *file;
	struct cm_enterprise enterprise;
	struct cm_certificates certs;
	struct cm_trunk_security_profile *profiles;
	size_t nprofiles;
	struct cm_sip_profile *sip_profiles;
	size_t nsip_profiles;
	struct cm_trunk *trunks;
	size_t ntrunks;
	struct cm_route_pattern *routes;
	size_t nroutes;
	struct cm_vm_pilot *pilots;
	size_t npilots;
	struct cm_vm_profile *vm_profiles;
	size_t nvm_profiles;
	struct cm_dn *dns;
	size_t ndns;
	struct cm_app_user *app_users;
	size_t napp_users;
	unsigned nwarnings;             /* warnings logged while loading */
	struct cm_config *retired_next; /* replaced by a reload, still in use */
};

/*
 * Loads and validates a configuration file: unknown sections and options,
 * bad values, and references to objects that do not exist (a trunk's
 * security profile, a route pattern's trunk, a profile's pilot) are errors
 * naming file:line. Relative certificate paths are taken from the file's
 * directory. Legal but risky settings are logged as warnings (counted in
 * nwarnings). Returns 0 with *cfgp, or with err filled: ENOENT/EACCES (the
 * file does not open), EBADMSG (syntax), EINVAL (a value or a cross-check),
 * ENOMEM. docs/callmanager-config.md lists every option.
 */
int cm_config_load(
    struct cm_config **cfgp, const char *path, struct conf_err *err);
/* Frees everything; digest passwords are wiped first. NULL is fine. */
void cm_config_free(struct cm_config *cfg);

/* Lookups; NULL when absent. Names compare case-insensitively, numbers exactly. */
const struct cm_trunk *cm_config_trunk(
    const struct cm_config *c, const char *name);
const struct cm_dn *cm_config_dn(const struct cm_config *c, const char *number);
/* The route pattern that matches a dialled number best (most specific), or NULL. */
const struct cm_route_pattern *cm_config_route(
    const struct cm_config *c, const char *digits);
/* The DN's voicemail pilot number (through its profile or the default), or NULL. */
const char *cm_config_vm_pilot(
    const struct cm_config *c, const struct cm_dn *dn);

/* Labels as the guide's screens show them. */
const char *cm_security_mode_label(enum cm_security_mode m);
const char *cm_transport_label(enum cm_transport t);
const char *cm_srtp_ciphers_label(enum cm_srtp_ciphers s);
const char *cm_traffic_secure_label(enum cm_traffic_secure t);

/* The application user of a digest user name, NULL if none. */
const struct cm_app_user *cm_config_app_user(
    const struct cm_config *c, struct slice name);

#endif
