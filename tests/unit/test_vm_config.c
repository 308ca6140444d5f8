/* Unit tests for the voicemail server configuration: the guide's example, defaults, labels, errors with file:line and warnings. */
#include "cfgtest.h"
#include "voicemail/config.h"

CFGTEST_LOADERS(vm_config, vm_config_load)

/* ---- fixtures ---- */

/*
 * A directory with the files of the guide's [certificates], a trust store,
 * a prompts directory and a greetings directory. The loader only checks
 * that they exist and read; their contents are the daemon's.
 */
static int
group_setup(void **state)
{
	static const char *const pems[] = {"tomcat.pem", "tomcat-ECDSA.pem",
	    "itl-signer.pem", "callmanager-trust/cucm.ngvoice.localhost.pem"};
	static const char *const keys[] = {"tomcat.key", "tomcat-ECDSA.key"};
	static const char *const dirs[] = {
	    "certs", "certs/callmanager-trust", "prompts", "greetings"};
	char path[256];

	(void)state;
	if (tmpdir_make("/tmp/ngv-vmcfg-XXXXXX") != 0)
		return -1;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, dirs[i]);
		if (mkdir(path, 0755) != 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof(pems) / sizeof(pems[0]); i++) {
		snprintf(path, sizeof(path), "certs/%s", pems[i]);
		write_file(path, "-----BEGIN CERTIFICATE-----\n", 0644);
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(path, sizeof(path), "certs/%s", keys[i]);
		write_file(path, "-----BEGIN PRIVATE KEY-----\n", 0600);
	}
	write_file("greetings/standard.wav", "RIFF", 0644);
	return 0;
}

/* The line number of the first line of text that starts with prefix. */
static unsigned
line_of(const char *text, const char *prefix)
{
	unsigned line = 1;

	for (const char *p = text; p && *p; line++) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return line;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return 0;
}

#define GEN                                                                    \
	"[general]\nhost_name = cuc.example.com\n"                             \
	"storage_path = store\n" /* 3 lines */
#define CERTS                                                                  \
	"[certificates]\ntomcat = certs/tomcat.pem\n"                          \
	"tomcat_key = certs/tomcat.key\n" /* 3 lines */
#define PG                                                                     \
	"[port-group \"pg\"]\nip_address_or_host_name = cucm.example.com\n"    \
	"tftp_server = cucm.example.com\n" /* 3 lines */
#define PORTS "[ports \"pg\"]\n"           /* 1 line */
#define BASE  GEN CERTS PG PORTS           /* 10 lines */

/* ---- the guide's example ---- */

static void
test_guide_example(void **state)
{
	struct vm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], path[256], buf[600];
	char *text;

	(void)state;
	text = copy_data("vm-guide.conf", 0600);
	snprintf(path, sizeof(path), "%s/vm-guide.conf", tmpdir);
	if (load_path(path, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	assert_int_equal(cfg->nwarnings, 0);
	assert_string_equal(log, "");
	assert_string_equal(cfg->path, path);
	abs_path(buf, sizeof(buf), NULL);
	assert_string_equal(cfg->dir, buf);

	/* System Settings > General Configuration */
	const struct vm_general *g = &cfg->general;
	assert_string_equal(g->host_name, "cuc.ngvoice.localhost");
	assert_string_equal(g->listen_address, "127.0.0.2");
	assert_int_equal(g->sip_tls_port, 5061);
	assert_int_equal(g->sip_port, 5060);
	assert_int_equal(g->tls_ciphers, TLS_CIPHERS_ALL_RSA);
	assert_int_equal(g->srtp_ciphers, SRTP_OPT_ALL);
	assert_string_equal(
	    srtp_option_label((enum srtp_option)g->srtp_ciphers),
	    "All supported AES-256, AES-128 ciphers");
	assert_int_equal(g->https_ciphers, TLS_CIPHERS_ALL_RSA);
	assert_int_equal(g->recording_format, MEDIA_REC_ULAW);
	assert_int_equal(g->maximum_greeting_length, 90);
	assert_int_equal(g->maximum_message_length, 300);
	assert_int_equal(g->minimum_message_length, 1000);
	assert_int_equal(g->end_of_message_silence, 5000);
	assert_string_equal(g->default_language, "en-US");
	abs_path(buf, sizeof(buf), "vm-store");
	assert_string_equal(g->storage_path, buf);
	assert_string_equal(g->prompts_dir, vm_default_prompts_dir());
	assert_int_equal(g->diversion_mailbox, VM_DIVERSION_FIRST);
	assert_int_equal(g->pin_attempts, 3);
	assert_null(g->rtp_address);
	assert_null(g->pid_file);
	assert_null(g->control_socket);
	assert_null(g->keylog_file);
	assert_false(g->tls13);

	/* Certificate paths are made absolute from the file's directory. */
	abs_path(buf, sizeof(buf), "certs/tomcat.pem");
	assert_string_equal(cfg->certs.tomcat, buf);
	abs_path(buf, sizeof(buf), "certs/tomcat.key");
	assert_string_equal(cfg->certs.tomcat_key, buf);
	abs_path(buf, sizeof(buf), "certs/tomcat-ECDSA.pem");
	assert_string_equal(cfg->certs.tomcat_ecdsa, buf);
	abs_path(buf, sizeof(buf), "certs/tomcat-ECDSA.key");
	assert_string_equal(cfg->certs.tomcat_ecdsa_key, buf);
	assert_null(cfg->certs.callmanager_trust);
	assert_null(cfg->certs.tomcat_trust);
	assert_null(cfg->certs.itl_signer);

	/* Telephony Integrations > Port Group */
	assert_int_equal(cfg->ngroups, 1);
	const struct vm_port_group *pg = vm_config_group(cfg, "phonesystem-1");
	assert_ptr_equal(pg, &cfg->groups[0]);
	assert_null(vm_config_group(cfg, "PhoneSystem-2"));
	assert_string_equal(pg->name, "PhoneSystem-1");
	assert_string_equal(pg->display_name, "PhoneSystem-1");
	assert_string_equal(pg->phone_system, "PhoneSystem");
	assert_false(pg->authenticate_with_sip_server);
	assert_null(pg->authentication_user_name);
	assert_null(pg->authentication_password);
	assert_null(pg->contact_line_name);
	assert_int_equal(pg->sip_security_profile, VM_PROFILE_5061_TLS);
	assert_string_equal(vm_profile_label(VM_PROFILE_5061_TLS), "5061/TLS");
	assert_true(pg->enable_next_generation_encryption);
	assert_int_equal(pg->security_mode, VM_SEC_ENCRYPTED);
	assert_true(pg->secure_rtp);
	assert_string_equal(
	    pg->ip_address_or_host_name, "cucm.ngvoice.localhost");
	assert_int_equal(pg->port, 5061);
	assert_null(pg->sip_server);
	assert_int_equal(pg->tftp_https_port, 6972);
	assert_non_null(pg->tftp_server);
	assert_string_equal(pg->tftp_server[0], "cucm.ngvoice.localhost");
	assert_null(pg->tftp_server[1]);
	assert_int_equal(pg->line, line_of(text, "[port-group"));
	/* The primary server: its TLS port is the group's port. */
	assert_int_equal(pg->nservers, 1);
	assert_string_equal(pg->servers[0].host, "cucm.ngvoice.localhost");
	assert_int_equal(pg->servers[0].tls_port, 5061);
	assert_int_equal(pg->servers[0].port, 5060);
	assert_int_equal(
	    pg->servers[0].line, line_of(text, "ip_address_or_host_name"));

	/* Telephony Integrations > Port */
	assert_int_equal(cfg->nports, 1);
	assert_ptr_equal(pg->ports, &cfg->ports[0]);
	const struct vm_ports *p = pg->ports;
	assert_string_equal(p->port_group, "PhoneSystem-1");
	assert_true(p->enabled);
	assert_int_equal(p->number_of_ports, 4);
	assert_true(p->answer_calls);
	assert_true(p->perform_message_notification);
	assert_true(p->send_mwi_requests);
	assert_true(p->allow_trap_connections);
	assert_int_equal(p->line, line_of(text, "[ports"));

	/* Users */
	assert_int_equal(cfg->nmailboxes, 2);
	const struct vm_mailbox *a = vm_config_mailbox(cfg, "1001");
	const struct vm_mailbox *b = vm_config_mailbox(cfg, "1002");
	assert_ptr_equal(a, &cfg->mailboxes[0]);
	assert_ptr_equal(b, &cfg->mailboxes[1]);
	assert_null(vm_config_mailbox(cfg, "1003"));
	assert_null(vm_config_mailbox(cfg, "100"));
	assert_string_equal(a->extension, "1001");
	assert_string_equal(a->owner_name, "Alice");
	/* The parsed text is wiped; the bound copies stay until freed. */
	assert_string_equal(a->pin, "13579");
	assert_string_equal(b->owner_name, "Bob");
	assert_string_equal(b->pin, "24680");
	assert_null(a->standard_greeting);
	assert_null(a->busy_greeting);
	assert_null(a->greetings_dir);
	assert_int_equal(a->line, line_of(text, "[mailbox \"1001\"]"));
	vm_config_free(cfg);
	free(text);
}

/* ---- defaults: every field as config.c sets it ---- */

static void
test_defaults(void **state)
{
	static const char text[] = BASE "[mailbox \"1001\"]\n";
	struct vm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], buf[600];

	(void)state;
	if (load_text(text, 0600, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	assert_int_equal(cfg->nwarnings, 0);

	const struct vm_general *g = &cfg->general;
	assert_string_equal(g->listen_address, "127.0.0.1");
	assert_int_equal(g->sip_tls_port, 5061);
	assert_int_equal(g->sip_port, 5060);
	assert_int_equal(g->tls_ciphers, TLS_CIPHERS_ALL_RSA);
	assert_int_equal(g->srtp_ciphers, SRTP_OPT_ALL);
	assert_int_equal(g->https_ciphers, TLS_CIPHERS_ALL_RSA);
	assert_int_equal(g->recording_format, MEDIA_REC_ULAW);
	assert_int_equal(g->maximum_greeting_length, 90);
	assert_int_equal(g->maximum_message_length, 300);
	assert_int_equal(g->minimum_message_length, 1000);
	assert_int_equal(g->end_of_message_silence, 5000);
	assert_string_equal(g->default_language, "en-US");
	abs_path(buf, sizeof(buf), "store");
	assert_string_equal(g->storage_path, buf);
	assert_string_equal(g->prompts_dir, vm_default_prompts_dir());
	assert_int_equal(g->diversion_mailbox, VM_DIVERSION_FIRST);
	assert_int_equal(g->pin_attempts, 3);
	assert_null(g->rtp_address);
	assert_null(g->pid_file);
	assert_null(g->control_socket);
	assert_null(g->keylog_file);
	assert_false(g->tls13);
	assert_null(cfg->certs.tomcat_ecdsa);
	assert_null(cfg->certs.tomcat_ecdsa_key);
	assert_null(cfg->certs.callmanager_trust);
	assert_null(cfg->certs.tomcat_trust);
	assert_null(cfg->certs.itl_signer);

	const struct vm_port_group *pg = &cfg->groups[0];
	assert_string_equal(pg->display_name, "pg"); /* default: the name */
	assert_string_equal(pg->phone_system, "PhoneSystem");
	assert_false(pg->authenticate_with_sip_server);
	assert_null(pg->authentication_user_name);
	assert_null(pg->authentication_password);
	assert_null(pg->contact_line_name);
	assert_int_equal(pg->sip_security_profile, VM_PROFILE_5061_TLS);
	assert_true(pg->enable_next_generation_encryption);
	assert_int_equal(pg->security_mode, VM_SEC_ENCRYPTED);
	assert_true(pg->secure_rtp);
	assert_int_equal(pg->port, 5061); /* TLS: 5061 */
	assert_null(pg->sip_server);
	assert_int_equal(pg->tftp_https_port, 6972);
	assert_int_equal(pg->nservers, 1);
	assert_int_equal(pg->servers[0].port, 5060);
	assert_int_equal(pg->servers[0].tls_port, 5061);
	assert_int_equal(pg->servers[0].line, 8);
	assert_int_equal(pg->line, 7);

	const struct vm_ports *p = pg->ports;
	assert_ptr_equal(p, &cfg->ports[0]);
	assert_true(p->enabled);
	assert_int_equal(p->number_of_ports, 2);
	assert_true(p->answer_calls);
	assert_true(p->perform_message_notification);
	assert_true(p->send_mwi_requests);
	assert_true(p->allow_trap_connections);
	assert_int_equal(p->line, 10);

	const struct vm_mailbox *m = &cfg->mailboxes[0];
	assert_string_equal(m->owner_name, "1001"); /* default: the number */
	assert_null(m->pin);
	assert_null(m->standard_greeting);
	assert_null(m->busy_greeting);
	assert_null(m->greetings_dir);
	assert_int_equal(m->line, 11);
	vm_config_free(cfg);

	/* 5060/TCP: no NGE, no SRTP, port 5060, no certificates needed. */
	static const char tcp[] =
	    GEN "[port-group \"tcp\"]\nip_address_or_host_name = 10.0.0.1\n"
	        "sip_security_profile = 5060/TCP\n[ports \"TCP\"]\n";
	if (load_text(tcp, 0600, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	pg = &cfg->groups[0];
	assert_int_equal(pg->sip_security_profile, VM_PROFILE_5060_TCP);
	assert_false(pg->enable_next_generation_encryption);
	assert_false(pg->secure_rtp);
	assert_int_equal(pg->port, 5060);
	assert_int_equal(pg->servers[0].port, 5060);
	assert_int_equal(pg->servers[0].tls_port, 5061);
	assert_ptr_equal(pg->ports, &cfg->ports[0]); /* names ignore case */
	assert_null(cfg->certs.tomcat);
	assert_int_equal(cfg->nwarnings, 0);
	vm_config_free(cfg);
}

/* Everything else set, in the spellings the loader accepts. */
static void
test_options(void **state)
{
	static const char text[] =
	    "[general]\n"
	    "host_name = cuc.example.com\n"
	    "storage_path = /var/tmp/ngv-store\n"
	    "listen_address = ::1\n"
	    "sip_port = 5070\n"
	    "sip_tls_port = 5071\n"
	    "tls_ciphers = strongest-ecdsa\n"
	    "srtp_ciphers = gcm256\n"
	    "https_ciphers = Medium - AES-256 AES-128 Only: RSA Preferred\n"
	    "recording_format = alaw\n"
	    "maximum_greeting_length = 1200\n"
	    "maximum_message_length = 1\n"
	    "minimum_message_length = 1000\n"
	    "end_of_message_silence = 0\n"
	    "default_language = ja-JP\n"
	    "prompts_dir = prompts\n"
	    "diversion_mailbox = LAST\n"
	    "pin_attempts = 10\n"
	    "rtp_address = 192.0.2.5\n"
	    "pid_file = run/vm.pid\n"
	    "control_socket = run/vm.sock\n"
	    "tls13 = on\n"
	    "[certificates]\n"
	    "tomcat_ecdsa = certs/tomcat-ECDSA.pem\n"
	    "tomcat_ecdsa_key = certs/tomcat-ECDSA.key\n"
	    "callmanager_trust = certs/callmanager-trust\n"
	    "tomcat_trust = certs/callmanager-trust/cucm.ngvoice.localhost.pem\n"
	    "itl_signer = certs/itl-signer.pem\n"
	    "[port-group \"PhoneSystem-1\"]\n"
	    "display_name = Lab CUCM\n"
	    "phone_system = Lab\n"
	    "authenticate_with_sip_server = yes\n"
	    "authentication_user_name = cuc\n"
	    "authentication_password = \"s3cret pass\"\n"
	    "contact_line_name = 2000\n"
	    "sip_security_profile = tls\n"
	    "enable_next_generation_encryption = no\n"
	    "security_mode = encrypted\n"
	    "ip_address_or_host_name = 2001:db8::1\n"
	    "port = 5081\n"
	    "sip_server = cucm2.example.com\n"
	    "sip_server = 10.0.0.2 5070 5071, 2001:db8::3 5062\n"
	    "tftp_server = cucm.example.com, cucm2.example.com\n"
	    "tftp_https_port = 16972\n"
	    "[ports \"PhoneSystem-1\"]\n"
	    "enabled = no\n"
	    "number_of_ports = 20000\n"
	    "answer_calls = false\n"
	    "perform_message_notification = 0\n"
	    "send_mwi_requests = off\n"
	    "allow_trap_connections = no\n"
	    "[mailbox \"0123456789\"]\n"
	    "owner_name = Carol \"CJ\" Jones\n"
	    "pin = 00000000000000000000\n"
	    "greetings_dir = greetings\n"
	    "standard_greeting = greetings/standard.wav\n";
	struct vm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], buf[600];

	(void)state;
	if (load_text(text, 0600, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	const struct vm_general *g = &cfg->general;
	assert_string_equal(g->listen_address, "::1");
	assert_int_equal(g->sip_port, 5070);
	assert_int_equal(g->sip_tls_port, 5071);
	assert_int_equal(g->tls_ciphers, TLS_CIPHERS_STRONGEST_ECDSA);
	assert_int_equal(g->srtp_ciphers, SRTP_OPT_GCM256);
	assert_int_equal(g->https_ciphers, TLS_CIPHERS_MEDIUM_RSA);
	assert_int_equal(g->recording_format, MEDIA_REC_ALAW);
	assert_string_equal(vm_rec_format_label(MEDIA_REC_ALAW), "G.711 A-law");
	assert_int_equal(g->maximum_greeting_length, 1200);
	assert_int_equal(g->maximum_message_length, 1);
	assert_int_equal(g->minimum_message_length, 1000); /* = 1 s: fine */
	assert_int_equal(g->end_of_message_silence, 0);
	assert_string_equal(g->default_language, "ja-JP");
	assert_string_equal(g->storage_path, "/var/tmp/ngv-store");
	abs_path(buf, sizeof(buf), "prompts");
	assert_string_equal(g->prompts_dir, buf);
	assert_int_equal(g->diversion_mailbox, VM_DIVERSION_LAST);
	assert_int_equal(g->pin_attempts, 10);
	assert_string_equal(g->rtp_address, "192.0.2.5");
	abs_path(buf, sizeof(buf), "run/vm.pid"); /* need not exist yet */
	assert_string_equal(g->pid_file, buf);
	abs_path(buf, sizeof(buf), "run/vm.sock");
	assert_string_equal(g->control_socket, buf);
	assert_true(g->tls13);
	assert_null(cfg->certs.tomcat);
	abs_path(buf, sizeof(buf), "certs/callmanager-trust");
	assert_string_equal(cfg->certs.callmanager_trust, buf);
	abs_path(buf, sizeof(buf), "certs/itl-signer.pem");
	assert_string_equal(cfg->certs.itl_signer, buf);

	const struct vm_port_group *pg = &cfg->groups[0];
	assert_string_equal(pg->display_name, "Lab CUCM");
	assert_string_equal(pg->phone_system, "Lab");
	assert_true(pg->authenticate_with_sip_server);
	assert_string_equal(pg->authentication_user_name, "cuc");
	assert_string_equal(pg->authentication_password, "s3cret pass");
	assert_string_equal(pg->contact_line_name, "2000");
	assert_int_equal(pg->sip_security_profile, VM_PROFILE_5061_TLS);
	assert_false(pg->enable_next_generation_encryption);
	assert_int_equal(pg->security_mode, VM_SEC_ENCRYPTED);
	assert_true(pg->secure_rtp);
	assert_int_equal(pg->port, 5081);
	/* The primary, then sip_server in order, each with its line. */
	assert_int_equal(pg->nservers, 4);
	assert_string_equal(pg->servers[0].host, "2001:db8::1");
	assert_int_equal(pg->servers[0].tls_port, 5081);
	assert_int_equal(pg->servers[0].line, 39);
	assert_string_equal(pg->servers[1].host, "cucm2.example.com");
	assert_int_equal(pg->servers[1].port, 5060);
	assert_int_equal(pg->servers[1].tls_port, 5061);
	assert_int_equal(pg->servers[1].line, 41);
	assert_string_equal(pg->servers[2].host, "10.0.0.2");
	assert_int_equal(pg->servers[2].port, 5070);
	assert_int_equal(pg->servers[2].tls_port, 5071);
	assert_int_equal(pg->servers[2].line, 42);
	assert_string_equal(pg->servers[3].host, "2001:db8::3");
	assert_int_equal(pg->servers[3].port, 5062);
	assert_int_equal(pg->servers[3].tls_port, 5061);
	assert_int_equal(pg->servers[3].line, 42);
	assert_string_equal(pg->tftp_server[0], "cucm.example.com");
	assert_string_equal(pg->tftp_server[1], "cucm2.example.com");
	assert_null(pg->tftp_server[2]);
	assert_int_equal(pg->tftp_https_port, 16972);

	const struct vm_ports *p = pg->ports;
	assert_false(p->enabled);
	assert_int_equal(p->number_of_ports, 20000);
	assert_false(p->answer_calls);
	assert_false(p->perform_message_notification);
	assert_false(p->send_mwi_requests);
	assert_false(p->allow_trap_connections);

	const struct vm_mailbox *m = vm_config_mailbox(cfg, "0123456789");
	assert_non_null(m);
	assert_null(vm_config_mailbox(cfg, "123456789"));
	assert_string_equal(m->owner_name, "Carol \"CJ\" Jones");
	assert_string_equal(m->pin, "00000000000000000000");
	abs_path(buf, sizeof(buf), "greetings");
	assert_string_equal(m->greetings_dir, buf);
	abs_path(buf, sizeof(buf), "greetings/standard.wav");
	assert_string_equal(m->standard_greeting, buf);
	assert_null(m->busy_greeting);
	vm_config_free(cfg);
}

/* Labels of the other choice options, in several spellings. */
static void
test_labels(void **state)
{
	static const struct {
		const char *line; /* in the port group */
		int profile, mode;
	} groups[] = {
	    {"sip_security_profile = 5060/UDP", VM_PROFILE_5060_UDP, -1},
	    {"sip_security_profile = udp", VM_PROFILE_5060_UDP, -1},
	    {"sip_security_profile = 5060 / tcp", VM_PROFILE_5060_TCP, -1},
	    {"security_mode = Authenticated\n"
	     "enable_next_generation_encryption = no\nsecure_rtp = no",
	        VM_PROFILE_5061_TLS, VM_SEC_AUTHENTICATED},
	};
	static const struct {
		const char *line; /* in [general] */
		int fmt;
	} fmts[] = {
	    {"recording_format = G.711 mu-law", MEDIA_REC_ULAW},
	    {"recording_format = ulaw", MEDIA_REC_ULAW},
	    {"recording_format = g.711 a-law", MEDIA_REC_ALAW},
	    {"recording_format = PCM 8 kHz 16-bit", MEDIA_REC_PCM16},
	    {"recording_format = pcm16", MEDIA_REC_PCM16},
	    {"recording_format = PCM", MEDIA_REC_PCM16},
	};
	struct vm_config *cfg = NULL;
	struct conf_err err;
	char text[1024], log[4096], buf[600];

	(void)state;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		snprintf(text, sizeof(text),
		    BASE "[port-group \"x\"]\n"
		         "ip_address_or_host_name = cucm.example.com\n"
		         "tftp_server = cucm.example.com\n%s\n[ports \"x\"]\n",
		    groups[i].line);
		if (load_text(text, 0600, &cfg, &err, log, sizeof(log)) != 0)
			fail_msg("case %zu: %s", i,
			    conf_err_str(&err, buf, sizeof(buf)));
		const struct vm_port_group *pg = vm_config_group(cfg, "x");
		assert_int_equal(pg->sip_security_profile, groups[i].profile);
		if (groups[i].mode >= 0)
			assert_int_equal(pg->security_mode, groups[i].mode);
		vm_config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		snprintf(text, sizeof(text), GEN "%s\n" CERTS PG PORTS,
		    fmts[i].line);
		if (load_text(text, 0600, &cfg, &err, log, sizeof(log)) != 0)
			fail_msg("case %zu: %s", i,
			    conf_err_str(&err, buf, sizeof(buf)));
		assert_int_equal(cfg->general.recording_format, fmts[i].fmt);
		vm_config_free(cfg);
	}
	assert_string_equal(vm_profile_label(VM_PROFILE_5060_TCP), "5060/TCP");
	assert_string_equal(vm_profile_label(VM_PROFILE_5060_UDP), "5060/UDP");
	assert_string_equal(
	    vm_rec_format_label(MEDIA_REC_ULAW), "G.711 mu-law");
	assert_string_equal(
	    vm_rec_format_label(MEDIA_REC_PCM16), "PCM 8 kHz 16-bit");
}

/* SRTP Ciphers: the three labels exactly (any case) or their slugs. */
static void
test_srtp_ciphers(void **state)
{
	static const struct {
		const char *val;
		int opt; /* -1: refused */
	} cases[] = {
	    {"All supported AES-256, AES-128 ciphers", SRTP_OPT_ALL},
	    {"ALL SUPPORTED AES-256, AES-128 CIPHERS", SRTP_OPT_ALL},
	    {"all", SRTP_OPT_ALL},
	    {"AEAD AES-256, AES-128 GCM-based ciphers", SRTP_OPT_GCM},
	    {"aead aes-256, aes-128 gcm-based ciphers", SRTP_OPT_GCM},
	    {"gcm", SRTP_OPT_GCM},
	    {"AEAD AES256 GCM-based ciphers only", SRTP_OPT_GCM256},
	    {"gcm256", SRTP_OPT_GCM256},
	    {"GCM256", SRTP_OPT_GCM256},
	    {"\"gcm\"", SRTP_OPT_GCM},
	    {"aes", -1},
	    {"gcm128", -1},
	    {"AEAD AES-128 GCM-based ciphers", -1},
	    {"AES_CM_128_HMAC_SHA1_80", -1},
	    {"all gcm", -1},
	    {"", -1},
	};
	struct vm_config *cfg = NULL;
	struct conf_err err;
	char text[1024], log[4096], buf[600];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		snprintf(text, sizeof(text),
		    GEN "srtp_ciphers = %s\n" CERTS PG PORTS, cases[i].val);
		memset(&err, 0, sizeof(err));
		cfg = NULL;
		rc = load_text(text, 0600, &cfg, &err, log, sizeof(log));
		if (cases[i].opt >= 0) {
			if (rc != 0)
				fail_msg("case %zu '%s': %s", i, cases[i].val,
				    conf_err_str(&err, buf, sizeof(buf)));
			assert_int_equal(
			    cfg->general.srtp_ciphers, cases[i].opt);
			vm_config_free(cfg);
			continue;
		}
		if (rc == 0) {
			vm_config_free(cfg);
			fail_msg("case %zu '%s': accepted", i, cases[i].val);
		}
		assert_int_equal(rc, EINVAL);
		assert_null(cfg);
		assert_int_equal(err.line, 4);
		snprintf(buf, sizeof(buf),
		    "bad value '%s' for srtp_ciphers in [general]: expected "
		    "'All supported AES-256, AES-128 ciphers', 'AEAD AES-256, "
		    "AES-128 GCM-based ciphers', 'AEAD AES256 GCM-based "
		    "ciphers only' (or all, gcm, gcm256)",
		    cases[i].val);
		assert_string_equal(err.msg, buf);
	}
}

/* ---- errors ---- */

struct bad {
	const char *text;
	unsigned line;
	const char *msg;
};

static void
test_errors(void **state)
{
	static const struct bad cases[] = {
	    /* sections */
	    {BASE "[mailboxes \"1001\"]\n", 11,
	        "unknown section [mailboxes]: valid sections are general, "
	        "certificates, port-group, ports, mailbox"},
	    {BASE "[port-group]\n", 11,
	        "[port-group] needs a name: [port-group \"NAME\"]"},
	    {"[general \"x\"]\nhost_name = cuc.example.com\n", 1,
	        "[general \"x\"] takes no name: write [general]"},
	    {GEN CERTS PG PORTS "[general]\n", 11,
	        "[general] is defined twice (first at line 1)"},
	    {CERTS PG PORTS, 0,
	        "no [general] section: it needs at least host_name"},
	    {"[general]\nhost_name = cuc.example.com\n" CERTS PG PORTS, 1,
	        "[general] needs storage_path"},
	    {"[general]\nstorage_path = s\n" CERTS PG PORTS, 1,
	        "[general] needs host_name"},
	    {GEN CERTS, 0,
	        "no [port-group \"NAME\"]: the voicemail server needs a port "
	        "group"},
	    /* options and values */
	    {GEN "tls_cipher = all-rsa\n" CERTS PG PORTS, 4,
	        "unknown option 'tls_cipher' in [general] (did you mean "
	        "'tls_ciphers'?)"},
	    {GEN CERTS PG "secure_rpt = yes\n" PORTS, 10,
	        "unknown option 'secure_rpt' in [port-group \"pg\"] (did you "
	        "mean 'secure_rtp'?)"},
	    {GEN CERTS PG PORTS "number_of_port = 4\n", 11,
	        "unknown option 'number_of_port' in [ports \"pg\"] (did you "
	        "mean 'number_of_ports'?)"},
	    {BASE "[mailbox \"1001\"]\npassword = 1234\n", 12,
	        "unknown option 'password' in [mailbox \"1001\"]"},
	    {GEN "tls_ciphers = Strong\n" CERTS PG PORTS, 4,
	        "bad value 'Strong' for tls_ciphers in [general]: expected a "
	        "TLS Ciphers label"},
	    {GEN "recording_format = mp3\n" CERTS PG PORTS, 4,
	        "bad value 'mp3' for recording_format in [general]: expected "
	        "G.711 mu-law, G.711 A-law or PCM 8 kHz 16-bit"},
	    {GEN "diversion_mailbox = middle\n" CERTS PG PORTS, 4,
	        "expected first or last"},
	    {GEN "maximum_greeting_length = 0\n" CERTS PG PORTS, 4,
	        "bad value '0' for maximum_greeting_length in [general]: "
	        "expected a whole number from 1 to 1200"},
	    {GEN "pin_attempts = 11\n" CERTS PG PORTS, 4, "from 1 to 10"},
	    {GEN "sip_tls_port = 65536\n" CERTS PG PORTS, 4,
	        "expected a port from 1 to 65535"},
	    {GEN "tls13 = maybe\n" CERTS PG PORTS, 4, "expected yes or no"},
	    {GEN "pin_attempts = 3\npin_attempts = 4\n" CERTS PG PORTS, 5,
	        "pin_attempts is set twice in [general] (first at line 4)"},
	    {GEN "listen_address = cuc example\n" CERTS PG PORTS, 4,
	        "listen_address 'cuc example' is not an address or a host "
	        "name"},
	    {GEN "rtp_address = cuc.example.com\n" CERTS PG PORTS, 4,
	        "rtp_address 'cuc.example.com' must be an IP address"},
	    {GEN "storage_path = \n" CERTS PG PORTS, 4,
	        "storage_path is set twice"},
	    {"[general]\nhost_name = cuc.example.com\nstorage_path =\n" CERTS PG
	            PORTS,
	        3, "storage_path is empty"},
	    {GEN "prompts_dir = certs/tomcat.pem\n" CERTS PG PORTS, 4,
	        "is not a directory"},
	    {GEN "prompts_dir = nowhere\n" CERTS PG PORTS, 4,
	        "prompts_dir: cannot read "},
	    /* host_name: the CN of the tomcat certificate, not an address */
	    {"[general]\nhost_name = 10.0.0.1\nstorage_path = s\n" CERTS PG
	            PORTS,
	        2,
	        "host_name '10.0.0.1' must be this server's FQDN (the CN of "
	        "its tomcat certificate), not an address"},
	    {"[general]\nhost_name = 2001:db8::1\nstorage_path = s\n" CERTS PG
	            PORTS,
	        2, "host_name '2001:db8::1' must be this server's FQDN"},
	    {"[general]\nhost_name = cuc_.example.com!\nstorage_path = s\n" CERTS
	            PG PORTS,
	        2, "host_name 'cuc_.example.com!'"},
	    /* message lengths */
	    {GEN
	        "maximum_message_length = 1\nminimum_message_length = 1001\n" CERTS
	            PG PORTS,
	        5,
	        "minimum_message_length (1001 ms) is longer than "
	        "maximum_message_length (1 s)"},
	    {GEN "minimum_message_length = 300001\n" CERTS PG PORTS, 4,
	        "from 0 to 60000"},
	    /* certificates */
	    {GEN "[certificates]\ntomcat = certs/missing.pem\n"
	         "tomcat_key = certs/tomcat.key\n" PG PORTS,
	        5, "tomcat: cannot read "},
	    {GEN "[certificates]\ntomcat = certs/tomcat.pem\n" PG PORTS, 5,
	        "tomcat is set without tomcat_key (the private key of that "
	        "certificate)"},
	    {GEN
	        "[certificates]\ntomcat_ecdsa_key = certs/tomcat-ECDSA.key\n" PG
	            PORTS,
	        5,
	        "tomcat_ecdsa_key is set without tomcat_ecdsa (its "
	        "certificate)"},
	    {GEN
	        "[certificates]\ntomcat = certs\ntomcat_key = certs/tomcat.key\n" PG
	            PORTS,
	        5, "is a directory, not a PEM file"},
	    {GEN "[certificates]\ncallmanager_trust = certs/none\n" PG PORTS, 5,
	        "callmanager_trust: cannot read "},
	    {GEN "[certificates]\ntomcat_cert = certs/tomcat.pem\n" PG PORTS, 5,
	        "unknown option 'tomcat_cert' in [certificates]"},
	    /* 5061/TLS needs the tomcat identity */
	    {GEN PG PORTS, 4,
	        "port group 'pg' uses 5061/TLS but [certificates] gives "
	        "neither tomcat nor tomcat_ecdsa"},
	    /* port groups */
	    {GEN CERTS
	        "[port-group \"pg\"]\ntftp_server = cucm.example.com\n" PORTS,
	        7, "[port-group \"pg\"] needs ip_address_or_host_name"},
	    {GEN CERTS "[port-group \"pg\"]\n"
	               "ip_address_or_host_name = cucm!.example.com\n"
	               "tftp_server = cucm.example.com\n" PORTS,
	        8,
	        "port group 'pg': 'cucm!.example.com' is not an address or a "
	        "host name"},
	    {GEN CERTS PG "sip_security_profile = 5061/UDP\n" PORTS, 10,
	        "bad value '5061/UDP' for sip_security_profile in [port-group "
	        "\"pg\"]: expected 5061/TLS, 5060/TCP or 5060/UDP"},
	    {GEN CERTS PG "security_mode = Non Secure\n" PORTS, 10,
	        "expected Encrypted or Authenticated"},
	    {GEN CERTS PG "port = 0\n" PORTS, 10,
	        "expected a port from 1 to 65535"},
	    {GEN "[port-group \"pg\"]\nip_address_or_host_name = 10.0.0.1\n"
	         "sip_security_profile = 5060/TCP\n"
	         "enable_next_generation_encryption = yes\n" PORTS,
	        7,
	        "port group 'pg': Enable Next Generation Encryption works only "
	        "with a secure TLS port (sip_security_profile = 5061/TLS)"},
	    {GEN "[port-group \"pg\"]\nip_address_or_host_name = 10.0.0.1\n"
	         "secure_rtp = yes\nsip_security_profile = 5060/UDP\n" PORTS,
	        6,
	        "port group 'pg': Secure RTP needs the TLS port "
	        "(sip_security_profile = 5061/TLS): SRTP keys would cross the "
	        "network in clear text"},
	    {GEN CERTS PG "authenticate_with_sip_server = yes\n"
	                  "authentication_user_name = cuc\n" PORTS,
	        10,
	        "port group 'pg': Authenticate with SIP Server needs "
	        "authentication_user_name and authentication_password"},
	    {GEN CERTS PG "authentication_password = x\n"
	                  "authenticate_with_sip_server = yes\n" PORTS,
	        11, "Authenticate with SIP Server needs"},
	    {GEN CERTS "[port-group \"pg\"]\n"
	               "ip_address_or_host_name = cucm.example.com\n" PORTS,
	        7,
	        "port group 'pg': with Next Generation Encryption the call "
	        "manager must be trusted: give tftp_server (the ITL download) "
	        "or callmanager_trust in [certificates]"},
	    {GEN CERTS PG "[port-group \"PG\"]\n"
	                  "ip_address_or_host_name = cucm.example.com\n" PORTS,
	        10, "[port-group \"PG\"] is defined twice (first at line 7)"},
	    /* sip_server and tftp_server */
	    {GEN CERTS PG "sip_server = cucm2.example.com 5O61\n" PORTS, 10,
	        "sip_server 'cucm2.example.com 5O61': ports are 1-65535"},
	    {GEN CERTS PG "sip_server = cucm2.example.com 5060 70000\n" PORTS,
	        10,
	        "sip_server 'cucm2.example.com 5060 70000': ports are "
	        "1-65535"},
	    {GEN CERTS PG "sip_server = cucm2.example.com 0\n" PORTS, 10,
	        "ports are 1-65535"},
	    {GEN CERTS PG "sip_server = cucm2.example.com -1\n" PORTS, 10,
	        "ports are 1-65535"},
	    {GEN CERTS PG
	        "sip_server = cucm2.example.com 5060 5061 tls\n" PORTS,
	        10,
	        "sip_server 'cucm2.example.com 5060 5061 tls': expected 'HOST "
	        "[PORT [TLS_PORT]]'"},
	    {GEN CERTS PG "sip_server = cucm_2!.example.com\n" PORTS, 10,
	        "sip_server 'cucm_2!.example.com': 'cucm_2!.example.com' is "
	        "not an address or a host name"},
	    /* the line of the entry in error, not the first sip_server */
	    {GEN CERTS PG
	        "sip_server = cucm2.example.com\n"
	        "sip_server = cucm3.example.com 5060, cucm 5061x\n" PORTS,
	        11, "sip_server 'cucm 5061x': ports are 1-65535"},
	    {GEN CERTS PG "tftp_server = cucm2.example.com\n"
	                  "tftp_server = cucm 3\n" PORTS,
	        11, "port group 'pg': tftp_server 'cucm 3' is not a host name"},
	    /* ports */
	    {BASE "[ports \"other\"]\n", 11,
	        "[ports \"other\"]: there is no [port-group \"other\"]"},
	    {BASE "[ports \"PG\"]\n", 11,
	        "[ports \"PG\"] is defined twice (first at line 10)"},
	    {GEN CERTS PG PORTS "number_of_ports = 0\n", 11,
	        "bad value '0' for number_of_ports in [ports \"pg\"]: expected "
	        "a whole number from 1 to 20000"},
	    {GEN CERTS PG PORTS "answer_calls = sometimes\n", 11,
	        "expected yes or no"},
	    /* mailboxes */
	    {BASE "[mailbox \"10a1\"]\n", 11,
	        "mailbox extension '10a1': digits only, at most 32"},
	    {BASE "[mailbox \"+1001\"]\n", 11, "mailbox extension '+1001'"},
	    {BASE "[mailbox \"123456789012345678901234567890123\"]\n", 11,
	        "digits only, at most 32"},
	    {BASE "[mailbox \"1001\"]\nowner_name = A\npin = 123\n", 13,
	        "mailbox 1001: the PIN must be 4 to 20 digits"},
	    {BASE "[mailbox \"1001\"]\npin = 12a4\n", 12,
	        "mailbox 1001: the PIN must be 4 to 20 digits"},
	    {BASE "[mailbox \"1001\"]\npin = 123456789012345678901\n", 12,
	        "the PIN must be 4 to 20 digits"},
	    {BASE "[mailbox \"1001\"]\npin =\n", 12,
	        "the PIN must be 4 to 20 digits"},
	    {BASE
	        "[mailbox \"1001\"]\n[mailbox \"1002\"]\n[mailbox \"1001\"]\n",
	        13, "[mailbox \"1001\"] is defined twice (first at line 11)"},
	    {BASE "[mailbox \"1001\"]\nbusy_greeting = greetings/busy.wav\n",
	        12, "busy_greeting: cannot read "},
	    {BASE
	        "[mailbox \"1001\"]\ngreetings_dir = greetings/standard.wav\n",
	        12, "greetings_dir: "},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_config *cfg = NULL;
		struct conf_err err;
		char log[4096];
		int rc;

		memset(&err, 0, sizeof(err));
		rc = load_text(
		    cases[i].text, 0600, &cfg, &err, log, sizeof(log));
		if (rc == 0)
			vm_config_free(cfg);
		else
			assert_null(cfg);
		expect_error(i, rc, &err, cases[i].line, cases[i].msg);
	}
}

static void
test_open_errors(void **state)
{
	struct vm_config *cfg = NULL;
	struct conf_err err;
	char buf[400], log[64];

	(void)state;
	assert_int_equal(
	    vm_config_load(&cfg, "/nonexistent/vm.conf", &err), ENOENT);
	assert_string_equal(conf_err_str(&err, buf, sizeof(buf)),
	    "/nonexistent/vm.conf: cannot open: No such file or directory");
	assert_null(cfg);
	assert_int_equal(vm_config_load(NULL, "x", &err), EINVAL);
	assert_int_equal(vm_config_load(&cfg, NULL, &err), EINVAL);
	/* Syntax errors come from the reader, with their line. */
	assert_int_equal(load_text(GEN "[port-group \"pg\"\n", 0600, &cfg, &err,
	                     log, sizeof(log)),
	    EBADMSG);
	assert_int_equal(err.line, 4);
	assert_int_equal(load_text(GEN "Host_Name = x\n", 0600, &cfg, &err, log,
	                     sizeof(log)),
	    EBADMSG);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(err.msg, "bad option name 'Host_Name'"));
	assert_null(cfg);
	vm_config_free(NULL);
}

/* An unreadable key (not as root: root reads everything). */
static void
test_unreadable_key(void **state)
{
	struct vm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], path[256];

	(void)state;
	if (geteuid() == 0)
		skip();
	write_file("certs/locked.key", "x", 0000);
	assert_int_equal(
	    load_text(GEN "[certificates]\n"
	                  "tomcat = certs/tomcat.pem\n"
	                  "tomcat_key = certs/locked.key\n" PG PORTS,
	        0600, &cfg, &err, log, sizeof(log)),
	    EINVAL);
	assert_int_equal(err.line, 6);
	assert_non_null(strstr(err.msg, "Permission denied"));
	snprintf(path, sizeof(path), "%s/certs/locked.key", tmpdir);
	remove(path);
}

/* ---- warnings: legal but risky ---- */

struct risky {
	const char *text;
	mode_t mode;
	unsigned line;
	const char *msg;
	unsigned nwarnings;
};

static void
test_warnings(void **state)
{
	static const struct risky cases[] = {
	    /* the guide: a TFTP server given by address cannot work */
	    {GEN CERTS PG "tftp_server = 10.48.47.109\n" PORTS, 0600, 10,
	        "port group 'pg': tftp_server 10.48.47.109 is an IP address: "
	        "the ITL download needs the host name that is the CN of the "
	        "call manager's CallManager certificate",
	        1},
	    {GEN CERTS PG
	        "tftp_server = cucm2.example.com, 2001:db8::9\n" PORTS,
	        0600, 10, "tftp_server 2001:db8::9 is an IP address", 1},
	    {GEN CERTS PG "security_mode = Authenticated\n" PORTS, 0600, 10,
	        "port group 'pg': security_mode does not apply with Next "
	        "Generation Encryption (the call is Encrypted)",
	        1},
	    {GEN CERTS PG "enable_next_generation_encryption = no\n"
	                  "security_mode = authenticated\n" PORTS,
	        0600, 11,
	        "port group 'pg': Authenticated mode sends SRTP keys in clear "
	        "text (NULL-SHA signalling)",
	        1},
	    {GEN CERTS PG, 0600, 7,
	        "port group 'pg' has no [ports \"pg\"] section: it answers no "
	        "calls",
	        1},
	    {GEN "keylog_file = keys.log\n" CERTS PG PORTS, 0600, 4,
	        "keylog_file is set: TLS session keys are written to ", 1},
	    /* the file holds PINs */
	    {BASE "[mailbox \"1001\"]\npin = 1234\n", 0640, 12,
	        "mailbox 1001: this file holds PINs and is readable by group or "
	        "others (mode 640): chmod 600 it",
	        1},
	    {BASE "[mailbox \"1001\"]\npin = 1234\n[mailbox \"1002\"]\n", 0644,
	        12, "(mode 644): chmod 600 it", 1},
	    {BASE "[mailbox \"1001\"]\n", 0644, 0, NULL, 0}, /* no PIN */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_config *cfg = NULL;
		struct conf_err err;
		char buf[600], log[8192], want[200];

		if (load_text(cases[i].text, cases[i].mode, &cfg, &err, log,
		        sizeof(log)) != 0)
			fail_msg("case %zu: %s", i,
			    conf_err_str(&err, buf, sizeof(buf)));
		if (cfg->nwarnings != cases[i].nwarnings)
			fail_msg("case %zu: %u warnings, expected %u:\n%s", i,
			    cfg->nwarnings, cases[i].nwarnings, log);
		if (cases[i].msg == NULL) {
			assert_string_equal(log, "");
			vm_config_free(cfg);
			continue;
		}
		snprintf(want, sizeof(want), "warn: %s:%u: ", cfg_file,
		    cases[i].line);
		/* The message on the line that names the place. */
		expect_warning(i, log, want, cases[i].msg);
		vm_config_free(cfg);
	}

	/* A private key readable by others: the daemon does not start. */
	struct vm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], buf[600], want[600];
	write_file("certs/open.key", "x", 0644);
	assert_int_equal(
	    load_text(GEN "[certificates]\n"
	                  "tomcat_ecdsa = certs/tomcat-ECDSA.pem\n"
	                  "tomcat_ecdsa_key = certs/open.key\n" PG PORTS,
	        0600, &cfg, &err, log, sizeof(log)),
	    EINVAL);
	conf_err_str(&err, buf, sizeof(buf));
	snprintf(
	    want, sizeof(want), "t.conf:6: tomcat_ecdsa_key: the private key ");
	if (strstr(buf, want) == NULL ||
	    strstr(buf, "readable by group or others (mode 644): chmod 600 "
	                "it") == NULL)
		fail_msg("got '%s'", buf);

	/* A TFTP address: a warning. */
	if (load_text(GEN CERTS PG "tftp_server = 192.0.2.1\n" PORTS, 0600,
	        &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	assert_int_equal(cfg->nwarnings, 1);
	assert_non_null(strstr(log, "port group 'pg': tftp_server 192.0.2.1 is "
	                            "an IP address"));
	vm_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guide_example),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_srtp_ciphers),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_unreadable_key),
	    cmocka_unit_test(test_warnings),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
