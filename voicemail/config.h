/* Voicemail server configuration: the guide's Unity Connection screens (port groups, ports, general configuration, mailboxes) read from one INI file. */
#ifndef NGV_VOICEMAIL_CONFIG_H
#define NGV_VOICEMAIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "media/srtp.h"
#include "media/stream.h"
#include "tls/profile.h"

/* The port group's "SIP Security Profile" (protocol-notes 5.2). */
enum vm_sip_security_profile {
	VM_PROFILE_5061_TLS, /* "5061/TLS" (the guide's choice) */
	VM_PROFILE_5060_TCP, /* "5060/TCP" */
	VM_PROFILE_5060_UDP, /* "5060/UDP" */
};

/* "Security Mode": only without NGE on a TLS port. */
enum vm_security_mode { VM_SEC_AUTHENTICATED, VM_SEC_ENCRYPTED };

/* Which redirecting number of a chain of Diversion headers is the mailbox. */
enum vm_diversion_pick { VM_DIVERSION_FIRST, VM_DIVERSION_LAST };

/* [general]: General Configuration and the server's own addresses. */
struct vm_general {
	char *host_name;       /* FQDN: the CN of the tomcat certificate */
	char *listen_address;  /* default 127.0.0.1 */
	uint16_t sip_tls_port; /* default 5061 */
	uint16_t sip_port;     /* TCP/UDP, default 5060 (5060 profiles) */
	enum tls_ciphers tls_ciphers;     /* TLS Ciphers */
	int srtp_ciphers;                 /* enum srtp_option */
	enum tls_ciphers https_ciphers;   /* HTTPS Ciphers (ITL download) */
	int recording_format;             /* enum media_rec_format */
	unsigned maximum_greeting_length; /* seconds, default 90 */
	unsigned maximum_message_length;  /* seconds, default 300 */
	unsigned minimum_message_length;  /* ms, default 1000 */
	unsigned end_of_message_silence;  /* ms, default 5000; 0 = off */
	char *default_language;           /* "en-US" */
	char *storage_path;               /* messages and the database */
	char *prompts_dir;                /* default: the built prompts */
	int diversion_mailbox;            /* enum vm_diversion_pick */
	unsigned pin_attempts;            /* default 3 */
	char *rtp_address;                /* default: listen_address */
	char *pid_file;
	char *control_socket;
	char *keylog_file;
	bool tls13;
};

/* [certificates] */
struct vm_certificates {
	char *tomcat; /* RSA identity, CN = host_name */
	char *tomcat_key;
	char *tomcat_ecdsa; /* EC identity, host_name in its SAN */
	char *tomcat_ecdsa_key;
	char *callmanager_trust; /* CallManager-trust: CA roots (third-party) */
	char *tomcat_trust;      /* tomcat-trust: for the :6972 server */
	char *itl_signer; /* pins the ITL signer (else trust on first use) */
};

/* A SIP server of a port group (Edit > Servers). */
struct vm_sip_server {
	char *host;
	uint16_t port;     /* default 5060 */
	uint16_t tls_port; /* default 5061 */
	unsigned line;
};

/* [port-group "NAME"]: the New Port Group screen. */
struct vm_port_group {
	char *name;
	char *display_name;
	char *phone_system; /* default "PhoneSystem" */
	bool authenticate_with_sip_server;
	char *authentication_user_name;
	char *authentication_password;
	char *contact_line_name;
	int sip_security_profile; /* enum vm_sip_security_profile */
	bool enable_next_generation_encryption; /* default on */
	int security_mode; /* enum vm_security_mode, only without NGE */
	bool secure_rtp;   /* default on */
	char *ip_address_or_host_name; /* primary server */
	uint16_t port;                 /* primary server's port */
	char **sip_server;  /* more servers, "host [port [tls_port]]" each */
	char **tftp_server; /* TFTP servers by host name, in order */
	uint16_t tftp_https_port; /* the ITL's HTTPS port, default 6972 */
	unsigned line;
	/* resolved by validation: the primary first, then sip_server */
	struct vm_sip_server *servers;
	size_t nservers;
	struct vm_ports *ports; /* its [ports] section, may be NULL */
};

/* [ports "PORT-GROUP"]: the ports of a port group. */
struct vm_ports {
	char *port_group;
	bool enabled;
	unsigned number_of_ports; /* default 2 */
	bool answer_calls;
	bool perform_message_notification;
	bool send_mwi_requests;
	bool allow_trap_connections;
	unsigned line;
};

/* [mailbox "EXTENSION"]: a user with a voice mailbox. */
struct vm_mailbox {
	char *extension;
	char *owner_name;
	char *pin; /* digits; wiped when the configuration is freed */
	char *standard_greeting; /* WAV, optional (else a spoken one) */
	char *busy_greeting;     /* WAV, optional */
	char *greetings_dir;     /* holds standard.wav and busy.wav */
	unsigned line;
};

struct vm_config {
	char *path;
	char *dir; /* the file's directory, for relative paths */
	struct vm_general general;
	struct vm_certificates certs;
	struct vm_port_group *groups;
	size_t ngroups;
	struct vm_ports *ports;
	size_t nports;
	struct vm_mailbox *mailboxes;
	size_t nmailboxes;
	unsigned nwarnings;
};

/*
 * Reads and checks the file. Relative paths are taken from the file's
 * directory. Returns 0, or an errno value with err naming file:line and
 * what is wrong.
 */
int vm_config_load(
    struct vm_config **cp, const char *path, struct conf_err *err);
void vm_config_free(struct vm_config *c);

const struct vm_mailbox *vm_config_mailbox(
    const struct vm_config *c, const char *extension);
const struct vm_port_group *vm_config_group(
    const struct vm_config *c, const char *name);

const char *vm_profile_label(enum vm_sip_security_profile p);
const char *vm_rec_format_label(enum media_rec_format f);

/* The compiled-in prompts directory (the build's, or the installed one). */
const char *vm_default_prompts_dir(void);

#endif
