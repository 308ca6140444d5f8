/* Unit tests for the call manager configuration: the guide's example, defaults, errors with file:line, warnings, routing and voicemail lookups. */
#include "callmgr/config.h"
#include "cfgtest.h"

CFGTEST_LOADERS(cm_config, cm_config_load)

/* ---- fixtures ---- */

/*
 * A directory with the files of the guide's [certificates]. The loader
 * only checks that they exist and read; their contents are the daemon's.
 */
static int
group_setup(void **state)
{
	static const char *const pems[] = {"CallManager.pem",
	    "CallManager-ECDSA.pem", "ITLRecovery.pem", "tomcat.pem",
	    "callmanager-trust/cuc.ngvoice.localhost.pem"};
	static const char *const keys[] = {"CallManager.key",
	    "CallManager-ECDSA.key", "ITLRecovery.key", "tomcat.key"};
	char path[256];

	(void)state;
	if (tmpdir_make("/tmp/ngv-cmcfg-XXXXXX") != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/certs", tmpdir);
	if (mkdir(path, 0755) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/certs/callmanager-trust", tmpdir);
	if (mkdir(path, 0755) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(pems) / sizeof(pems[0]); i++) {
		snprintf(path, sizeof(path), "certs/%s", pems[i]);
		write_file(path, "-----BEGIN CERTIFICATE-----\n", 0644);
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(path, sizeof(path), "certs/%s", keys[i]);
		write_file(path, "-----BEGIN PRIVATE KEY-----\n", 0600);
	}
	return 0;
}

#define PRE "[enterprise]\nhost_name = cucm.example.com\n" /* 2 lines */
#define NS  "[sip-trunk-security-profile \"ns\"]\n"        /* 1 line */
#define TRUNK                                                                  \
	"[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n"                 \
	"destination = 10.0.0.1\n" /* 3 lines */
#define CERTS                                                                  \
	"[certificates]\ncallmanager = certs/CallManager.pem\n"                \
	"callmanager_key = certs/CallManager.key\n"                            \
	"callmanager_trust = certs/callmanager-trust\n" /* 4 lines */
#define ENC                                                                    \
	"[sip-trunk-security-profile \"enc\"]\n"                               \
	"device_security_mode = Encrypted\n"                                   \
	"x509_subject_name = cuc.example.com\n" /* 3 lines */

/* ---- the guide's example ---- */

static void
test_guide_example(void **state)
{
	struct cm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], path[256], buf[400];

	(void)state;
	free(copy_data("cm-guide.conf", 0600));
	snprintf(path, sizeof(path), "%s/cm-guide.conf", tmpdir);
	if (load_path(path, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	assert_int_equal(cfg->nwarnings, 0);
	assert_string_equal(log, "");

	const struct cm_enterprise *e = &cfg->enterprise;
	assert_string_equal(e->cluster_security_mode, "mixed");
	assert_int_equal(e->tls_ciphers, TLS_CIPHERS_ALL_RSA);
	assert_int_equal(e->srtp_ciphers, CM_SRTP_ALL);
	assert_int_equal(e->https_ciphers, TLS_CIPHERS_ALL_RSA);
	assert_string_equal(e->host_name, "cucm.ngvoice.localhost");
	assert_string_equal(e->listen_address, "127.0.0.1");
	assert_int_equal(e->sip_port, 5060);
	assert_int_equal(e->sip_tls_port, 5061);
	assert_int_equal(e->tftp_https_port, 6972);
	assert_string_equal(e->tftp_file_signature_algorithm, "SHA-512");
	assert_null(e->control_socket);
	assert_null(e->keylog_file);
	assert_false(e->tls13);

	/* Certificate paths are made absolute from the file's directory. */
	abs_path(buf, sizeof(buf), "certs/CallManager.pem");
	assert_string_equal(cfg->certs.callmanager, buf);
	abs_path(buf, sizeof(buf), "certs/callmanager-trust");
	assert_string_equal(cfg->certs.callmanager_trust, buf);
	abs_path(buf, sizeof(buf), "certs/tomcat.key");
	assert_string_equal(cfg->certs.tomcat_key, buf);

	assert_int_equal(cfg->nprofiles, 1);
	const struct cm_trunk_security_profile *p = &cfg->profiles[0];
	assert_string_equal(p->name, "cuc-secure-profile-EDCS");
	assert_int_equal(p->device_security_mode, CM_SEC_ENCRYPTED);
	assert_int_equal(p->incoming_transport_type, CM_TP_TLS);
	assert_int_equal(p->outgoing_transport_type, CM_TP_TLS);
	assert_false(p->enable_digest_authentication);
	assert_int_equal(p->nonce_validity_time, 600);
	assert_string_equal(p->x509_subject_name, "cuc.ngvoice.localhost");
	assert_int_equal(p->incoming_port, 5061);
	assert_true(p->accept_unsolicited_notification);
	assert_true(p->accept_out_of_dialog_refer);
	assert_true(p->accept_replaces_header);
	assert_true(p->transmit_security_status);
	assert_false(p->accept_presence_subscription);
	assert_false(p->enable_application_level_authorization);
	assert_false(p->allow_charging_header);

	assert_int_equal(cfg->nsip_profiles, 1);
	const struct cm_sip_profile *sp = &cfg->sip_profiles[0];
	assert_true(sp->enable_options_ping);
	assert_int_equal(sp->options_ping_interval_in_service, 60);
	assert_int_equal(sp->options_ping_interval_out_of_service, 120);
	assert_int_equal(sp->sip_retry_timer, 500);
	assert_int_equal(sp->sip_retry_count, 6);

	const struct cm_trunk *t = cm_config_trunk(cfg, "cucv11");
	assert_non_null(t);
	assert_ptr_equal(t, &cfg->trunks[0]);
	assert_string_equal(t->name, "CUCv11");
	assert_ptr_equal(t->profile, p);
	assert_ptr_equal(t->sip_prof, sp);
	assert_int_equal(t->ndests, 1);
	assert_string_equal(t->dests[0].host, "127.0.0.2");
	assert_int_equal(t->dests[0].port, 5061);
	assert_string_equal(t->destination[0], "127.0.0.2:5061");
	assert_null(t->destination[1]);
	assert_false(t->destination_is_srv);
	assert_true(t->srtp_allowed);
	assert_int_equal(
	    t->consider_traffic_on_this_trunk_secure, CM_SECURE_SRTP_AND_TLS);
	assert_int_equal(t->significant_digits, 99);
	assert_true(t->redirecting_diversion_header_delivery_inbound);
	assert_true(t->redirecting_diversion_header_delivery_outbound);
	assert_string_equal(t->device_pool, "Default");
	assert_string_equal(t->dtmf_signaling_method, "No Preference");
	assert_false(t->run_on_all_active_unified_cm_nodes);

	const struct cm_route_pattern *r = cm_config_route(cfg, "2000");
	assert_non_null(r);
	assert_string_equal(r->pattern, "2000");
	assert_ptr_equal(r->trunk, t);
	assert_null(cm_config_route(cfg, "2001"));

	assert_int_equal(cfg->npilots, 1);
	assert_true(cfg->pilots[0].make_this_the_default);
	assert_int_equal(cfg->nvm_profiles, 1);
	assert_string_equal(cfg->vm_profiles[0].name, "VoiceMailProfile-8000");
	assert_ptr_equal(cfg->vm_profiles[0].pilot, &cfg->pilots[0]);

	const struct cm_dn *a = cm_config_dn(cfg, "1001");
	const struct cm_dn *b = cm_config_dn(cfg, "1002");
	assert_non_null(a);
	assert_non_null(b);
	assert_null(cm_config_dn(cfg, "1003"));
	assert_string_equal(a->display_name, "Alice");
	assert_string_equal(a->digest_user, "1001"); /* default: the number */
	assert_string_equal(a->digest_password, "alice-secret-1001");
	assert_int_equal(a->device_security_mode, CM_SEC_ENCRYPTED);
	assert_int_equal(b->device_security_mode, CM_SEC_ENCRYPTED);
	assert_ptr_equal(a->vm_profile, &cfg->vm_profiles[0]);
	assert_true(a->forward_no_answer_to_voicemail);
	assert_true(a->forward_busy_to_voicemail);
	assert_false(b->forward_busy_to_voicemail);
	assert_false(a->forward_all_to_voicemail);
	assert_int_equal(a->no_answer_ring_duration, 12);
	assert_int_equal(b->no_answer_ring_duration, 12);
	assert_string_equal(cm_config_vm_pilot(cfg, a), "2000");
	cm_config_free(cfg);
}

/* ---- defaults ---- */

static void
test_defaults(void **state)
{
	static const char text[] =
	    PRE NS TRUNK "[sip-profile \"sp\"]\n"
	                 "[directory-number \"1001\"]\n"
	                 "digest_password = x\n"
	                 "device_security_mode = non-secure\n";
	struct cm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], buf[400];

	(void)state;
	if (load_text(text, 0600, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	const struct cm_enterprise *e = &cfg->enterprise;
	assert_string_equal(e->cluster_security_mode, "mixed");
	assert_int_equal(e->tls_ciphers, TLS_CIPHERS_ALL_RSA);
	assert_int_equal(e->srtp_ciphers, CM_SRTP_ALL);
	assert_int_equal(e->https_ciphers, TLS_CIPHERS_ALL_RSA);
	assert_string_equal(e->listen_address, "127.0.0.1");
	assert_int_equal(e->sip_port, 5060);
	assert_int_equal(e->sip_tls_port, 5061);
	assert_int_equal(e->tftp_https_port, 6972);
	assert_string_equal(e->tftp_file_signature_algorithm, "SHA-512");
	assert_false(e->tls13);
	assert_null(cfg->certs.callmanager);

	const struct cm_trunk_security_profile *p = &cfg->profiles[0];
	assert_int_equal(p->device_security_mode, CM_SEC_NON_SECURE);
	assert_int_equal(p->incoming_transport_type, CM_TP_TCP_UDP);
	assert_int_equal(p->outgoing_transport_type, CM_TP_TCP);
	assert_int_equal(p->nonce_validity_time, 600);
	assert_int_equal(p->incoming_port, 5060);
	assert_null(p->x509_subject_name);
	assert_false(p->enable_digest_authentication);
	assert_false(p->accept_unsolicited_notification);
	assert_false(p->transmit_security_status);

	const struct cm_sip_profile *sp = &cfg->sip_profiles[0];
	assert_false(sp->enable_options_ping);
	assert_int_equal(sp->options_ping_interval_in_service, 60);
	assert_int_equal(sp->options_ping_interval_out_of_service, 120);
	assert_int_equal(sp->sip_retry_timer, 500);
	assert_int_equal(sp->sip_retry_count, 6);

	const struct cm_trunk *t = &cfg->trunks[0];
	assert_int_equal(t->ndests, 1);
	assert_int_equal(t->dests[0].port, 5060);
	assert_null(t->sip_prof); /* no SIP profile: no OPTIONS ping */
	assert_string_equal(t->device_pool, "Default");
	assert_int_equal(t->significant_digits, 99);
	assert_false(t->srtp_allowed);
	assert_int_equal(
	    t->consider_traffic_on_this_trunk_secure, CM_SECURE_SRTP_AND_TLS);
	assert_false(t->redirecting_diversion_header_delivery_outbound);
	assert_string_equal(t->dtmf_signaling_method, "No Preference");

	const struct cm_dn *d = &cfg->dns[0];
	assert_int_equal(d->device_security_mode, CM_SEC_NON_SECURE);
	assert_string_equal(d->digest_user, "1001");
	assert_int_equal(d->no_answer_ring_duration, 12);
	assert_false(d->forward_no_answer_to_voicemail);
	assert_null(d->vm_profile);
	assert_null(cm_config_vm_pilot(cfg, d));
	cm_config_free(cfg);
}

/* A secure profile forces TLS, port 5061, destinations on 5061. */
static void
test_secure_defaults(void **state)
{
	static const char text[] = PRE CERTS
	    "[sip-trunk-security-profile \"auth\"]\n"
	    "device_security_mode = Authenticated\n"
	    "x509_subject_name = cuc.example.com, cuc2.example.com\n"
	    "[sip-trunk \"t\"]\n"
	    "sip_trunk_security_profile = AUTH\n"
	    "destination = cuc.example.com, [2001:db8::1]:5071, 2001:db8::2\n"
	    "destination = 192.0.2.1:5062\n"
	    "[directory-number \"1001\"]\n"
	    "digest_password = x\n"
	    "digest_user = alice\n";
	struct cm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], buf[400];

	(void)state;
	if (load_text(text, 0600, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	const struct cm_trunk_security_profile *p = &cfg->profiles[0];
	assert_int_equal(p->device_security_mode, CM_SEC_AUTHENTICATED);
	assert_int_equal(p->incoming_transport_type, CM_TP_TLS);
	assert_int_equal(p->outgoing_transport_type, CM_TP_TLS);
	assert_int_equal(p->incoming_port, 5061);
	const struct cm_trunk *t = &cfg->trunks[0];
	assert_ptr_equal(t->profile, p);
	assert_int_equal(t->ndests, 4);
	assert_string_equal(t->dests[0].host, "cuc.example.com");
	assert_int_equal(t->dests[0].port, 5061);
	assert_int_equal(t->dests[0].line, 12);
	assert_string_equal(t->dests[1].host, "2001:db8::1");
	assert_int_equal(t->dests[1].port, 5071);
	assert_string_equal(t->dests[2].host, "2001:db8::2");
	assert_int_equal(t->dests[2].port, 5061);
	assert_string_equal(t->dests[3].host, "192.0.2.1");
	assert_int_equal(t->dests[3].port, 5062);
	assert_int_equal(t->dests[3].line, 13);
	assert_int_equal(cfg->dns[0].device_security_mode, CM_SEC_ENCRYPTED);
	assert_string_equal(cfg->dns[0].digest_user, "alice");
	cm_config_free(cfg);

	/* SRV destinations have no port. */
	static const char srv[] = PRE NS
	    "[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n"
	    "destination_is_srv = yes\ndestination = _sip._tcp.example.com\n";
	if (load_text(srv, 0600, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	assert_int_equal(cfg->trunks[0].dests[0].port, 0);
	cm_config_free(cfg);
}

/* Labels in the guide's spelling, other spellings and slugs. */
static void
test_labels(void **state)
{
	static const char text[] =
	    "[enterprise]\n"
	    "host_name = cucm.example.com\n"
	    "cluster_security_mode = 1\n"
	    "tls_ciphers = strongest-ecdsa\n"
	    "srtp_ciphers = AEAD AES256 GCM-based cipher only\n"
	    "https_ciphers = medium - aes-256 aes-128 only: rsa preferred\n"
	    "tftp_file_signature_algorithm = sha1\n"
	    "[sip-trunk-security-profile \"ns\"]\n"
	    "device_security_mode = NonSecure\n"
	    "incoming_transport_type = tcp + udp\n"
	    "outgoing_transport_type = udp\n"
	    "[sip-trunk \"t\"]\n"
	    "sip_trunk_security_profile = ns\n"
	    "destination = vm.example.com:5070\n"
	    "consider_traffic_on_this_trunk_secure = srtp-only\n"
	    "significant_digits = 4\n"
	    "dtmf_signaling_method = rfc2833\n";
	struct cm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], buf[400];

	(void)state;
	if (load_text(text, 0600, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	assert_string_equal(cfg->enterprise.cluster_security_mode, "mixed");
	assert_int_equal(
	    cfg->enterprise.tls_ciphers, TLS_CIPHERS_STRONGEST_ECDSA);
	assert_int_equal(cfg->enterprise.srtp_ciphers, CM_SRTP_GCM256);
	assert_int_equal(cfg->enterprise.https_ciphers, TLS_CIPHERS_MEDIUM_RSA);
	assert_string_equal(
	    cfg->enterprise.tftp_file_signature_algorithm, "SHA-1");
	assert_int_equal(cfg->nwarnings, 1); /* SHA-1 */
	assert_non_null(strstr(log, "t.conf:7: tftp_file_signature_algorithm"));
	assert_int_equal(
	    cfg->profiles[0].incoming_transport_type, CM_TP_TCP_UDP);
	assert_int_equal(cfg->profiles[0].outgoing_transport_type, CM_TP_UDP);
	assert_int_equal(cfg->trunks[0].consider_traffic_on_this_trunk_secure,
	    CM_SECURE_SRTP_ONLY);
	assert_int_equal(cfg->trunks[0].significant_digits, 4);
	assert_int_equal(cfg->trunks[0].dests[0].port, 5070);
	assert_string_equal(cfg->trunks[0].dtmf_signaling_method, "RFC 2833");
	cm_config_free(cfg);

	assert_string_equal(
	    cm_security_mode_label(CM_SEC_NON_SECURE), "Non Secure");
	assert_string_equal(
	    cm_security_mode_label(CM_SEC_AUTHENTICATED), "Authenticated");
	assert_string_equal(
	    cm_security_mode_label(CM_SEC_ENCRYPTED), "Encrypted");
	assert_string_equal(cm_transport_label(CM_TP_TCP_UDP), "TCP+UDP");
	assert_string_equal(cm_transport_label(CM_TP_TLS), "TLS");
	assert_string_equal(cm_srtp_ciphers_label(CM_SRTP_GCM),
	    "AEAD AES-256, AES-128 GCM-based ciphers");
	assert_string_equal(cm_traffic_secure_label(CM_SECURE_SRTP_ONLY),
	    "When using sRTP Only");
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
	    {PRE "[sip-trunks \"x\"]\n", 3,
	        "unknown section [sip-trunks]: valid sections are enterprise, "
	        "certificates, sip-trunk-security-profile, sip-profile, "
	        "sip-trunk, route-pattern, voicemail-pilot, "
	        "voicemail-profile, directory-number"},
	    {PRE "[voicemail-port \"1\"]\n", 3,
	        "unknown section [voicemail-port]"},
	    {PRE "[sip-trunk]\n", 3,
	        "[sip-trunk] needs a name: [sip-trunk \"NAME\"]"},
	    {"[enterprise \"x\"]\nhost_name = a.example.com\n", 1,
	        "[enterprise \"x\"] takes no name"},
	    {"[sip-profile \"p\"]\n", 0, "no [enterprise] section"},
	    /* options and values */
	    {PRE "tls_cipher = all-rsa\n", 3,
	        "unknown option 'tls_cipher' in [enterprise] (did you mean "
	        "'tls_ciphers'?)"},
	    {PRE "tls_ciphers = Strong\n", 3,
	        "bad value 'Strong' for tls_ciphers in [enterprise]: expected "
	        "a TLS Ciphers label ('All Ciphers RSA Preferred', ...) or one "
	        "of strongest-rsa,"},
	    {PRE "srtp_ciphers = aes\n", 3,
	        "bad value 'aes' for srtp_ciphers in [enterprise]: expected an "
	        "SRTP Ciphers label"},
	    {"[enterprise]\nsip_port = 5070\n", 1,
	        "[enterprise] needs host_name"},
	    {PRE "cluster_security_mode = maybe\n", 3,
	        "bad value 'maybe' for cluster_security_mode in [enterprise]: "
	        "expected mixed or non-secure"},
	    {PRE "tftp_file_signature_algorithm = MD5\n", 3,
	        "expected SHA-512 or SHA-1"},
	    {PRE "listen_address = localhost\n", 3,
	        "bad value 'localhost' for listen_address in [enterprise]: "
	        "expected an IPv4 or IPv6 address"},
	    {"[enterprise]\nhost_name = cucm example\n", 2,
	        "bad value 'cucm example' for host_name"},
	    {PRE "sip_port = 0\n", 3, "expected a port from 1 to 65535"},
	    {PRE "[sip-trunk-security-profile \"s\"]\n"
	         "device_security_mode = Secure\n",
	        4,
	        "bad value 'Secure' for device_security_mode in "
	        "[sip-trunk-security-profile \"s\"]: expected Non Secure, "
	        "Authenticated or Encrypted"},
	    {PRE NS "nonce_validity_time = 0\n", 4, "from 1 to 86400"},
	    {PRE "[sip-profile \"p\"]\noptions_ping_interval_in_service = 0\n",
	        4, "from 1 to 600"},
	    {PRE NS TRUNK "significant_digits = 100\n", 7,
	        "expected All or a number from 0 to 99"},
	    {PRE NS TRUNK "srtp_allowed = maybe\n", 7, "expected yes or no"},
	    {PRE NS TRUNK "dtmf_signaling_method = SIP INFO\n", 7,
	        "expected No Preference, RFC 2833 or OOB and RFC 2833"},
	    {PRE NS TRUNK "prefix_dn = 9a\n", 7,
	        "bad value '9a' for prefix_dn"},
	    /* a trunk's profiles */
	    {PRE "[sip-trunk \"CUCv11\"]\ndestination = 10.0.0.1\n"
	         "sip_trunk_security_profile = nope\n",
	        5,
	        "[sip-trunk \"CUCv11\"] uses sip_trunk_security_profile "
	        "\"nope\", which is not defined (no "
	        "[sip-trunk-security-profile \"nope\"])"},
	    {PRE NS TRUNK "sip_profile = gone\n", 7,
	        "[sip-trunk \"t\"] uses sip_profile \"gone\", which is not "
	        "defined (no [sip-profile \"gone\"])"},
	    {PRE "[sip-trunk \"t\"]\ndestination = 10.0.0.1\n", 3,
	        "[sip-trunk \"t\"] needs sip_trunk_security_profile"},
	    {PRE NS "[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n", 4,
	        "[sip-trunk \"t\"] needs destination"},
	    /* destinations */
	    {PRE NS "[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n"
	            "destination = 10.0.0.1:99999\n",
	        6,
	        "bad destination '10.0.0.1:99999' in [sip-trunk \"t\"]: bad "
	        "port '99999'"},
	    {PRE NS "[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n"
	            "destination = fe80::1::2\n",
	        6, "'fe80::1::2' is not an IPv6 address"},
	    {PRE NS "[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n"
	            "destination = [::1]5061\n",
	        6, "expected [IPv6]:port"},
	    {PRE NS "[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n"
	            "destination = 300.1.1.1:5060\n",
	        6, "'300.1.1.1' is not an IPv4 address"},
	    {PRE NS "[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n"
	            "destination = cuc!.example.com\n",
	        6, "'cuc!.example.com' is not a host name or an address"},
	    {PRE NS "[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n"
	            "destination = 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4\n"
	            "destination = 10.0.0.5, 10.0.0.6, 10.0.0.7, 10.0.0.8\n"
	            "destination = 10.0.1.1, 10.0.1.2, 10.0.1.3, 10.0.1.4\n"
	            "destination = 10.0.1.5, 10.0.1.6, 10.0.1.7, 10.0.1.8\n"
	            "destination = 10.0.2.1\n",
	        10, "[sip-trunk \"t\"] has more than 16 destinations"},
	    {PRE NS "[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n"
	            "destination = 10.0.0.1\ndestination = 10.0.0.1:5060\n",
	        7,
	        "destination '10.0.0.1:5060' of [sip-trunk \"t\"] is listed "
	        "twice (first at line 6)"},
	    {PRE NS "[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n"
	            "destination_is_srv = yes\n"
	            "destination = _sip._tcp.example.com:5060\n",
	        7, "an SRV name takes no port"},
	    {PRE NS "[sip-trunk \"t\"]\nsip_trunk_security_profile = ns\n"
	            "destination_is_srv = yes\ndestination = 10.0.0.1\n",
	        7, "'10.0.0.1' is an address, not an SRV name"},
	    /* route patterns */
	    {PRE "[route-pattern \"2000\"]\ngateway_or_route_list = CUCv12\n",
	        4,
	        "route pattern 2000 points to trunk CUCv12, which is not "
	        "defined"},
	    {PRE "[route-pattern \"2A00\"]\n", 3,
	        "route pattern '2A00': use digits, X (any digit), ! (one or "
	        "more digits, only at the end) and . (ignored)"},
	    {PRE "[route-pattern \"2!0\"]\n", 3, "route pattern '2!0'"},
	    {PRE "[route-pattern \"...\"]\n", 3, "route pattern '...'"},
	    {PRE "[route-pattern \"2000\"]\n", 3,
	        "[route-pattern \"2000\"] needs gateway_or_route_list"},
	    {PRE NS TRUNK
	        "[route-pattern \"2XXX\"]\ngateway_or_route_list = t\n"
	        "[route-pattern \"2.xxx\"]\ngateway_or_route_list = t\n",
	        9,
	        "route pattern 2.xxx is the same as route pattern 2XXX (line "
	        "7)"},
	    /* voicemail */
	    {PRE "[voicemail-profile \"VM\"]\nvoice_mail_pilot = 2000\n", 4,
	        "voicemail profile VM names voice_mail_pilot 2000, which is "
	        "not defined (no [voicemail-pilot \"2000\"])"},
	    {PRE "[voicemail-pilot \"20a\"]\n", 3,
	        "voicemail pilot number '20a': digits only"},
	    {PRE "[voicemail-pilot \"2000\"]\nmake_this_the_default = yes\n"
	         "[voicemail-pilot \"3000\"]\nmake_this_the_default = yes\n",
	        6,
	        "voicemail pilot 3000 is made the default, but so is voicemail "
	        "pilot 2000 (line 3): only one can be"},
	    {PRE "[voicemail-pilot \"2000\"]\n"
	         "[voicemail-profile \"A\"]\nvoice_mail_pilot = 2000\n"
	         "make_this_the_default = yes\n"
	         "[voicemail-profile \"B\"]\nvoice_mail_pilot = 2000\n"
	         "make_this_the_default = yes\n",
	        9,
	        "voicemail profile B is made the default, but so is voicemail "
	        "profile A (line 4): only one can be"},
	    {PRE "[voicemail-pilot \"2000\"]\n"
	         "[voicemail-profile \"A\"]\nvoice_mail_pilot = 2000\n"
	         "voice_mail_box_mask = 80#\n",
	        6, "bad value '80#' for voice_mail_box_mask"},
	    /* directory numbers */
	    {PRE "[directory-number \"1001\"]\ndigest_password = a\n"
	         "[directory-number \"1001\"]\n",
	        5,
	        "[directory-number \"1001\"] is defined twice (first at line 3)"},
	    {PRE "[directory-number \"1001\"]\n"
	         "device_security_mode = Non Secure\n",
	        3, "[directory-number \"1001\"] needs digest_password"},
	    {PRE "[directory-number \"1001\"]\ndigest_password =\n"
	         "device_security_mode = Non Secure\n",
	        4, "digest_password of directory number 1001 is empty"},
	    {PRE "[directory-number \"alice\"]\n", 3,
	        "directory number 'alice': digits only"},
	    {PRE "[directory-number \"1001\"]\ndigest_password = a\n"
	         "device_security_mode = Non Secure\n"
	         "voice_mail_profile = nope\n",
	        6,
	        "directory number 1001 uses voice_mail_profile nope, which is "
	        "not defined (no [voicemail-profile \"nope\"])"},
	    {PRE "[directory-number \"1001\"]\ndigest_password = a\n"
	         "device_security_mode = Non Secure\n"
	         "[directory-number \"1002\"]\ndigest_password = b\n"
	         "device_security_mode = Non Secure\ndigest_user = 1001\n",
	        9,
	        "directory number 1002 has digest_user 1001, as does directory "
	        "number 1001 (line 3)"},
	    {PRE "[directory-number \"1001\"]\ndigest_password = a\n"
	         "device_security_mode = Non Secure\n"
	         "forward_busy_to_voicemail = yes\n",
	        6,
	        "directory number 1001 has forward_busy_to_voicemail, but no "
	        "voicemail pilot"},
	    {PRE "[directory-number \"1001\"]\ndigest_password = a\n"
	         "device_security_mode = Non Secure\n"
	         "no_answer_ring_duration = 0\n",
	        6, "from 1 to 300"},
	    /* the transports the guide forces */
	    {PRE "[sip-trunk-security-profile \"s\"]\n"
	         "device_security_mode = Encrypted\n"
	         "outgoing_transport_type = TCP\n",
	        5,
	        "outgoing_transport_type TCP contradicts device_security_mode "
	        "Encrypted (line 4) in [sip-trunk-security-profile \"s\"]: the "
	        "guide forces TLS for Authenticated and Encrypted profiles"},
	    {PRE "[sip-trunk-security-profile \"s\"]\n"
	         "incoming_transport_type = TCP+UDP\n"
	         "device_security_mode = Authenticated\n",
	        4,
	        "incoming_transport_type TCP+UDP contradicts "
	        "device_security_mode Authenticated (line 5)"},
	    {PRE "[sip-trunk-security-profile \"s\"]\n"
	         "incoming_transport_type = TLS\n",
	        4,
	        "incoming_transport_type TLS contradicts device_security_mode "
	        "Non Secure (line 3)"},
	    {PRE "[sip-trunk-security-profile \"s\"]\n"
	         "outgoing_transport_type = TCP+UDP\n",
	        4, "an outgoing transport is TCP, UDP or TLS"},
	    {PRE "[sip-trunk-security-profile \"s\"]\n"
	         "device_security_mode = Encrypted\n",
	        4,
	        "[sip-trunk-security-profile \"s\"] is Encrypted but has no "
	        "x509_subject_name"},
	    {PRE "[sip-trunk-security-profile \"s\"]\n"
	         "enable_application_level_authorization = yes\n",
	        4, "needs enable_digest_authentication"},
	    /* what secure profiles and lines need */
	    {PRE ENC, 4,
	        "[sip-trunk-security-profile \"enc\"] is Encrypted, but no "
	        "CallManager identity is configured: set callmanager and "
	        "callmanager_key (or callmanager_ecdsa and "
	        "callmanager_ecdsa_key) in [certificates]"},
	    {PRE "[directory-number \"1001\"]\ndigest_password = a\n", 3,
	        "directory number 1001 is Encrypted, but no CallManager "
	        "identity is configured"},
	    {PRE "cluster_security_mode = non-secure\n" CERTS ENC, 9,
	        "[sip-trunk-security-profile \"enc\"] is Encrypted, but "
	        "cluster_security_mode is non-secure (line 3): secure trunks "
	        "and phones need mixed mode"},
	    {PRE "[certificates]\ncallmanager = certs/CallManager.pem\n"
	         "callmanager_key = certs/CallManager.key\n" ENC,
	        7, "is Encrypted, but [certificates] has no callmanager_trust"},
	    /* certificate files */
	    {PRE "[certificates]\ncallmanager = certs/missing.pem\n", 4,
	        "certs/missing.pem: No such file or directory"},
	    {PRE "[certificates]\ncallmanager = certs/CallManager.pem\n", 4,
	        "callmanager is set without callmanager_key"},
	    {PRE "[certificates]\ncallmanager_ecdsa_key = "
	         "certs/CallManager-ECDSA.key\n",
	        4, "callmanager_ecdsa_key is set without callmanager_ecdsa"},
	    {PRE "[certificates]\ncallmanager = certs/CallManager.pem\n"
	         "callmanager_key = certs\n",
	        5, "is a directory, not a PEM file"},
	    {PRE "[certificates]\ntomcat =\n", 4, "tomcat is empty"},
	    /* listening ports */
	    {PRE "sip_tls_port = 5060\n", 3,
	        "port 5060: sip_tls_port of [enterprise] (TLS) and sip_port of "
	        "[enterprise] (TCP, line 1) cannot share it"},
	    {PRE "[sip-trunk-security-profile \"s\"]\nincoming_port = 5061\n",
	        4,
	        "port 5061: incoming_port of [sip-trunk-security-profile \"s\"] "
	        "(TCP) and sip_tls_port of [enterprise] (TLS, line 1)"},
	    {PRE "[sip-trunk-security-profile \"s\"]\nincoming_port = 6972\n"
	         "incoming_transport_type = UDP\n",
	        0, NULL}, /* UDP shares with anything */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cm_config *cfg = NULL;
		struct conf_err err;
		char buf[600], log[4096];
		int rc;

		memset(&err, 0, sizeof(err));
		rc = load_text(
		    cases[i].text, 0600, &cfg, &err, log, sizeof(log));
		if (cases[i].msg == NULL) {
			if (rc != 0)
				fail_msg("case %zu: %s", i,
				    conf_err_str(&err, buf, sizeof(buf)));
			cm_config_free(cfg);
			continue;
		}
		if (rc == 0)
			cm_config_free(cfg);
		else
			assert_null(cfg);
		expect_error(i, rc, &err, cases[i].line, cases[i].msg);
	}
}

static void
test_open_errors(void **state)
{
	struct cm_config *cfg = NULL;
	struct conf_err err;
	char buf[400], log[64];

	(void)state;
	assert_int_equal(
	    cm_config_load(&cfg, "/nonexistent/cm.conf", &err), ENOENT);
	assert_string_equal(conf_err_str(&err, buf, sizeof(buf)),
	    "/nonexistent/cm.conf: cannot open: No such file or directory");
	assert_null(cfg);
	assert_int_equal(cm_config_load(NULL, "x", &err), EINVAL);
	/* Syntax errors come from the reader, with their line. */
	assert_int_equal(load_text(PRE "[sip-trunk \"t\"\n", 0600, &cfg, &err,
	                     log, sizeof(log)),
	    EBADMSG);
	assert_int_equal(err.line, 3);
	cm_config_free(NULL);
}

/* An unreadable certificate (not as root: root reads everything). */
static void
test_unreadable_cert(void **state)
{
	struct cm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], path[256];

	(void)state;
	if (geteuid() == 0)
		skip();
	write_file("certs/locked.pem", "x", 0000);
	assert_int_equal(
	    load_text(PRE "[certificates]\ncallmanager = certs/locked.pem\n",
	        0600, &cfg, &err, log, sizeof(log)),
	    EINVAL);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(err.msg, "Permission denied"));
	snprintf(path, sizeof(path), "%s/certs/locked.pem", tmpdir);
	remove(path);
}

/* ---- warnings: legal but risky ---- */

struct risky {
	const char *text;
	mode_t mode;
	unsigned line; /* 0: the file's own warning, without a line */
	const char *msg;
};

static void
test_warnings(void **state)
{
	static const struct risky cases[] = {
	    {PRE NS TRUNK "srtp_allowed = yes\n", 0600, 7,
	        "[sip-trunk \"t\"] has srtp_allowed, but its security profile "
	        "\"ns\" is Non Secure: SRTP keys would travel in clear in the "
	        "signalling (use an Encrypted profile)"},
	    {PRE CERTS "[sip-trunk-security-profile \"a\"]\n"
	               "device_security_mode = Authenticated\n"
	               "x509_subject_name = cuc.example.com\n"
	               "[sip-trunk \"t\"]\nsip_trunk_security_profile = a\n"
	               "destination = 10.0.0.1\nsrtp_allowed = yes\n",
	        0600, 13, "is Authenticated: SRTP keys would travel in clear"},
	    {PRE "[voicemail-pilot \"2000\"]\n", 0600, 3,
	        "voicemail pilot 2000 matches no route pattern"},
	    {PRE NS TRUNK
	        "[route-pattern \"2XXX\"]\ngateway_or_route_list = t\n"
	        "[voicemail-pilot \"2000\"]\n",
	        0600, 4,
	        "trunk t carries voicemail pilot 2000 (route pattern 2XXX) "
	        "without redirecting_diversion_header_delivery_outbound"},
	    {PRE NS TRUNK
	        "[route-pattern \"2XXX\"]\ngateway_or_route_list = t\n"
	        "[voicemail-pilot \"2000\"]\n",
	        0600, 3,
	        "security profile ns of trunk t (voicemail pilot 2000) does not "
	        "accept_unsolicited_notification"},
	    {PRE "[directory-number \"1001\"]\ndigest_password = a\n"
	         "device_security_mode = Non Secure\n",
	        0644, 0,
	        "the file holds digest passwords and is readable by everyone "
	        "(mode 644)"},
	    {"[enterprise]\nhost_name = 192.0.2.10\n", 0600, 2,
	        "host_name 192.0.2.10 is an address"},
	    {PRE "keylog_file = /tmp/keys.log\n", 0600, 3,
	        "keylog_file is set"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cm_config *cfg = NULL;
		struct conf_err err;
		char buf[600], log[8192], want[200];

		if (load_text(cases[i].text, cases[i].mode, &cfg, &err, log,
		        sizeof(log)) != 0)
			fail_msg("case %zu: %s", i,
			    conf_err_str(&err, buf, sizeof(buf)));
		assert_true(cfg->nwarnings > 0);
		if (cases[i].line)
			snprintf(want, sizeof(want), "warn: %s:%u: ", cfg_file,
			    cases[i].line);
		else
			snprintf(want, sizeof(want), "warn: %s: ", cfg_file);
		/* The message on the line that names the place. */
		expect_warning(i, log, want, cases[i].msg);
		cm_config_free(cfg);
	}

	/* A private key readable by others: the daemon does not start. */
	struct cm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], buf[600];
	write_file("certs/open.key", "x", 0644);
	assert_int_equal(load_text(PRE "[certificates]\n"
	                               "callmanager = certs/CallManager.pem\n"
	                               "callmanager_key = certs/open.key\n",
	                     0600, &cfg, &err, log, sizeof(log)),
	    EINVAL);
	conf_err_str(&err, buf, sizeof(buf));
	assert_non_null(strstr(buf, "t.conf:5: callmanager_key: the private "
	                            "key "));
	assert_non_null(strstr(buf, "(mode 644): chmod 600 it"));
}

/* ---- lookups ---- */

static void
test_routes(void **state)
{
	static const char text[] = PRE NS TRUNK
	    "[sip-trunk \"u\"]\nsip_trunk_security_profile = ns\n"
	    "destination = 10.0.0.2\n"
	    "[route-pattern \"2!\"]\ngateway_or_route_list = u\n"
	    "[route-pattern \"2XXX\"]\ngateway_or_route_list = T\n"
	    "[route-pattern \"20XX\"]\ngateway_or_route_list = t\n"
	    "[route-pattern \"2X1X\"]\ngateway_or_route_list = t\n"
	    "[route-pattern \"2000\"]\ngateway_or_route_list = t\n"
	    "[route-pattern \"9.!\"]\ngateway_or_route_list = u\n"
	    "[route-pattern \"91!\"]\ngateway_or_route_list = u\n"
	    "[route-pattern \"3.xXx\"]\ngateway_or_route_list = u\n";
	static const struct {
		const char *digits, *pattern;
	} cases[] = {
	    {"2000", "2000"}, /* exact digits beat X */
	    {"2001", "20XX"}, /* more digits beat fewer */
	    {"2010", "20XX"}, /* tie with 2X1X: the first defined */
	    {"2110", "2X1X"},
	    {"2999", "2XXX"}, /* X beats ! */
	    {"21", "2!"},
	    {"20001", "2!"},
	    {"9123", "91!"},
	    {"9", NULL}, /* ! is one or more */
	    {"95", "9.!"},
	    {"3123", "3.xXx"},
	    {"312", NULL},
	    {"31234", NULL},
	    {"", NULL},
	    {"2a00", NULL},
	    {"1000", NULL},
	};
	struct cm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], buf[400];

	(void)state;
	if (load_text(text, 0600, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cm_route_pattern *r =
		    cm_config_route(cfg, cases[i].digits);
		const char *got = r ? r->pattern : NULL;
		if ((got == NULL) != (cases[i].pattern == NULL) ||
		    (got && strcmp(got, cases[i].pattern) != 0))
			fail_msg("%s: got %s, expected %s", cases[i].digits,
			    got ? got : "none",
			    cases[i].pattern ? cases[i].pattern : "none");
	}
	assert_ptr_equal(
	    cm_config_route(cfg, "2999")->trunk, cm_config_trunk(cfg, "t"));
	assert_ptr_equal(
	    cm_config_route(cfg, "21")->trunk, cm_config_trunk(cfg, "U"));
	assert_null(cm_config_route(cfg, NULL));
	assert_null(cm_config_trunk(cfg, "v"));
	cm_config_free(cfg);
}

static void
test_vm_pilot(void **state)
{
	static const char text[] =
	    PRE "[voicemail-pilot \"2000\"]\nmake_this_the_default = yes\n"
	        "[voicemail-pilot \"3000\"]\n"
	        "[voicemail-pilot \"4000\"]\n"
	        "[voicemail-profile \"P3\"]\nvoice_mail_pilot = 3000\n"
	        "make_this_the_default = yes\n"
	        "[voicemail-profile \"P4\"]\nvoice_mail_pilot = 4000\n"
	        "[directory-number \"1001\"]\ndigest_password = a\n"
	        "device_security_mode = Non Secure\nvoice_mail_profile = p4\n"
	        "[directory-number \"1002\"]\ndigest_password = b\n"
	        "device_security_mode = Non Secure\n"
	        "forward_all_to_voicemail = yes\n";
	static const char no_default_profile[] =
	    PRE "[voicemail-pilot \"2000\"]\nmake_this_the_default = yes\n"
	        "[voicemail-pilot \"3000\"]\n"
	        "[voicemail-profile \"P3\"]\nvoice_mail_pilot = 3000\n"
	        "[directory-number \"1002\"]\ndigest_password = b\n"
	        "device_security_mode = Non Secure\n"
	        "forward_no_answer_to_voicemail = yes\n";
	static const char no_default[] =
	    PRE "[voicemail-pilot \"3000\"]\n"
	        "[voicemail-profile \"P3\"]\nvoice_mail_pilot = 3000\n"
	        "[directory-number \"1001\"]\ndigest_password = a\n"
	        "device_security_mode = Non Secure\nvoice_mail_profile = P3\n"
	        "[directory-number \"1002\"]\ndigest_password = b\n"
	        "device_security_mode = Non Secure\n";
	struct cm_config *cfg = NULL;
	struct conf_err err;
	char log[4096], buf[400];

	(void)state;
	/* The line's profile, else the default profile's pilot. */
	if (load_text(text, 0600, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	assert_string_equal(
	    cm_config_vm_pilot(cfg, cm_config_dn(cfg, "1001")), "4000");
	assert_string_equal(
	    cm_config_vm_pilot(cfg, cm_config_dn(cfg, "1002")), "3000");
	assert_string_equal(cm_config_vm_pilot(cfg, NULL), "3000");
	cm_config_free(cfg);

	/* No default profile: the default pilot. */
	if (load_text(no_default_profile, 0600, &cfg, &err, log, sizeof(log)) !=
	    0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	assert_string_equal(
	    cm_config_vm_pilot(cfg, cm_config_dn(cfg, "1002")), "2000");
	cm_config_free(cfg);

	/* No default at all: only lines with a profile have a pilot. */
	if (load_text(no_default, 0600, &cfg, &err, log, sizeof(log)) != 0)
		fail_msg("%s", conf_err_str(&err, buf, sizeof(buf)));
	assert_string_equal(
	    cm_config_vm_pilot(cfg, cm_config_dn(cfg, "1001")), "3000");
	assert_null(cm_config_vm_pilot(cfg, cm_config_dn(cfg, "1002")));
	assert_null(cm_config_vm_pilot(NULL, NULL));
	cm_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guide_example),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_secure_defaults),
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_unreadable_cert),
	    cmocka_unit_test(test_warnings),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_vm_pilot),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
