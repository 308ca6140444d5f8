/* Unit tests for lib/tls: the TLS Ciphers options in real in-memory handshakes, identities, peer names. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "pki/cert.h"
#include "tls/ctx.h"
#include "tls/diag.h"
#include "tls/peer.h"
#include "tls/profile.h"

static char dir[64];
static char rsa_cert[128], rsa_key[128], ec_cert[128], ec_key[128];
static char cli_cert[128], cli_key[128], trust[128];

static void
path(char *out, const char *name)
{
	snprintf(out, 128, "%s/%s", dir, name);
}

static void
cat(const char *out, const char *a, const char *b)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cat %s %s > %s", a, b, out);
	assert_int_equal(system(cmd), 0);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ngv-test-tls-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	path(rsa_cert, "rsa.pem");
	path(rsa_key, "rsa.key");
	path(ec_cert, "ec.pem");
	path(ec_key, "ec.key");
	path(cli_cert, "cli.pem");
	path(cli_key, "cli.key");
	path(trust, "trust.pem");
	if (pki_selfsigned(PKI_KEY_RSA2048, "cucm.lab", "DNS:cucm.lab", 1,
	        rsa_cert, rsa_key) ||
	    pki_selfsigned(PKI_KEY_EC_P256, "cucm-EC.lab", "DNS:cucm.lab", 1,
	        ec_cert, ec_key) ||
	    pki_selfsigned(PKI_KEY_EC_P384, "cuc.lab", "DNS:cuc.lab", 1,
	        cli_cert, cli_key))
		return -1;
	char tmp[128];
	path(tmp, "srv.pem");
	cat(tmp, rsa_cert, ec_cert);
	cat(trust, tmp, cli_cert);
	log_set_level(LOG_ERR);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct hs {
	bool ok;
	char cipher[64];
	char version[16];
	int server_key; /* EVP_PKEY_RSA / EVP_PKEY_EC of the cert shown */
	bool client_verified;
};

/* Runs a handshake between two contexts over a BIO pair, in memory. */
static struct hs
handshake(SSL_CTX *sctx, SSL_CTX *cctx)
{
	struct hs r;
	BIO *sb, *cb;
	SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
	int sdone = 0, cdone = 0;

	memset(&r, 0, sizeof(r));
	BIO_new_bio_pair(&sb, 0, &cb, 0);
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (int i = 0; i < 100 && !(sdone && cdone); i++) {
		if (!cdone) {
			int rc = SSL_do_handshake(c);
			if (rc == 1)
				cdone = 1;
			else if (SSL_get_error(c, rc) != SSL_ERROR_WANT_READ)
				break;
		}
		if (!sdone) {
			int rc = SSL_do_handshake(s);
			if (rc == 1)
				sdone = 1;
			else if (SSL_get_error(s, rc) != SSL_ERROR_WANT_READ)
				break;
		}
	}
	ERR_clear_error();
	r.ok = sdone && cdone;
	if (r.ok) {
		snprintf(
		    r.cipher, sizeof(r.cipher), "%s", SSL_get_cipher_name(c));
		snprintf(
		    r.version, sizeof(r.version), "%s", SSL_get_version(c));
		X509 *pc = SSL_get0_peer_certificate(c);
		r.server_key =
		    pc ? EVP_PKEY_get_base_id(X509_get0_pubkey(pc)) : 0;
		r.client_verified = SSL_get0_peer_certificate(s) != NULL &&
		                    SSL_get_verify_result(s) == X509_V_OK;
	}
	SSL_free(s);
	SSL_free(c);
	return r;
}

static SSL_CTX *
server(enum tls_ciphers c, bool rsa, bool ec)
{
	struct tls_opts o;
	SSL_CTX *ctx = NULL;

	tls_opts_default(&o);
	o.ciphers = c;
	if (rsa) {
		o.cert = rsa_cert;
		o.key = rsa_key;
	}
	if (ec) {
		if (rsa) {
			o.cert2 = ec_cert;
			o.key2 = ec_key;
		} else {
			o.cert = ec_cert;
			o.key = ec_key;
		}
	}
	o.ca_file = trust;
	assert_int_equal(tls_ctx_new(&ctx, true, &o), 0);
	return ctx;
}

static SSL_CTX *
client(enum tls_ciphers c)
{
	struct tls_opts o;
	SSL_CTX *ctx = NULL;

	tls_opts_default(&o);
	o.ciphers = c;
	o.cert = cli_cert;
	o.key = cli_key;
	o.ca_file = trust;
	assert_int_equal(tls_ctx_new(&ctx, false, &o), 0);
	return ctx;
}

static void
test_labels(void **state)
{
	enum tls_ciphers c;

	(void)state;
	assert_int_equal(tls_ciphers_parse("Strongest - AES-256 SHA-384 Only: "
	                                   "RSA Preferred",
	                     &c),
	    0);
	assert_int_equal(c, TLS_CIPHERS_STRONGEST_RSA);
	assert_int_equal(tls_ciphers_parse("  medium -  aes-256 AES-128 only: "
	                                   "ecdsa PREFERRED ",
	                     &c),
	    0);
	assert_int_equal(c, TLS_CIPHERS_MEDIUM_ECDSA);
	assert_int_equal(tls_ciphers_parse("all-ecdsa", &c), 0);
	assert_int_equal(c, TLS_CIPHERS_ALL_ECDSA);
	assert_int_equal(tls_ciphers_parse("All Ciphers RSA Preferred", &c), 0);
	assert_int_equal(c, TLS_CIPHERS_DEFAULT_OPTION);
	assert_int_equal(tls_ciphers_parse("strongest", &c), EINVAL);
	assert_int_equal(tls_ciphers_parse("", &c), EINVAL);
	for (int i = 0; i < TLS_CIPHERS__COUNT; i++) {
		assert_int_equal(
		    tls_ciphers_parse(
		        tls_ciphers_label((enum tls_ciphers)i), &c),
		    0);
		assert_int_equal(c, i);
	}
	/* exact suite orders (protocol-notes 2.1) */
	assert_string_equal(tls_ciphers_openssl(TLS_CIPHERS_STRONGEST_ECDSA),
	    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384");
	assert_string_equal(tls_ciphers_openssl(TLS_CIPHERS_ALL_RSA),
	    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:"
	    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:"
	    "AES128-SHA");
}

/* Every client option against a server with both identities. */
static void
test_client_order_and_cert(void **state)
{
	(void)state;
	SSL_CTX *s = server(TLS_CIPHERS_ALL_RSA, true, true);
	for (int i = 0; i < TLS_CIPHERS__COUNT; i++) {
		SSL_CTX *c = client((enum tls_ciphers)i);
		struct hs r = handshake(s, c);
		char want[64];
		snprintf(want, sizeof(want), "%s",
		    tls_ciphers_openssl((enum tls_ciphers)i));
		want[strcspn(want, ":")] = '\0';
		assert_true(r.ok);
		assert_string_equal(r.cipher, want);
		assert_string_equal(r.version, "TLSv1.2");
		assert_int_equal(r.server_key,
		    strstr(want, "ECDSA") ? EVP_PKEY_EC : EVP_PKEY_RSA);
		assert_true(r.client_verified);
		SSL_CTX_free(c);
	}
	SSL_CTX_free(s);
}

/* The server restricts to its option; the client's order still wins inside it. */
static void
test_server_restricts(void **state)
{
	(void)state;
	/* Strongest server, Medium ECDSA client: AES-256 ECDSA */
	SSL_CTX *s = server(TLS_CIPHERS_STRONGEST_RSA, true, true);
	SSL_CTX *c = client(TLS_CIPHERS_MEDIUM_ECDSA);
	struct hs r = handshake(s, c);
	assert_true(r.ok);
	assert_string_equal(r.cipher, "ECDHE-ECDSA-AES256-GCM-SHA384");
	SSL_CTX_free(c);
	SSL_CTX_free(s);

	/* only an EC identity: RSA-preferring clients get the ECDSA suite */
	s = server(TLS_CIPHERS_ALL_RSA, false, true);
	c = client(TLS_CIPHERS_ALL_RSA);
	r = handshake(s, c);
	assert_true(r.ok);
	assert_string_equal(r.cipher, "ECDHE-ECDSA-AES256-GCM-SHA384");
	assert_int_equal(r.server_key, EVP_PKEY_EC);
	SSL_CTX_free(c);
	SSL_CTX_free(s);
}

static SSL_CTX *
raw_client(const char *ciphers, int maxver)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_security_level(c, 0);
	SSL_CTX_set_min_proto_version(c, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(c, maxver);
	SSL_CTX_set_cipher_list(c, ciphers);
	SSL_CTX_use_certificate_file(c, cli_cert, SSL_FILETYPE_PEM);
	SSL_CTX_use_PrivateKey_file(c, cli_key, SSL_FILETYPE_PEM);
	return c;
}

static void
test_refusals(void **state)
{
	(void)state;
	SSL_CTX *strongest = server(TLS_CIPHERS_STRONGEST_ECDSA, true, true);
	SSL_CTX *medium = server(TLS_CIPHERS_MEDIUM_RSA, true, true);
	SSL_CTX *all = server(TLS_CIPHERS_ALL_RSA, true, true);
	SSL_CTX *c;
	struct hs r;

	/* CBC only: refused by Strongest and Medium, accepted by All */
	c = raw_client("AES128-SHA", TLS1_2_VERSION);
	assert_false(handshake(strongest, c).ok);
	assert_false(handshake(medium, c).ok);
	r = handshake(all, c);
	assert_true(r.ok);
	assert_string_equal(r.cipher, "AES128-SHA");
	SSL_CTX_free(c);
	/* AES-128 GCM only: refused by Strongest */
	c = raw_client("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-"
	               "SHA256",
	    TLS1_2_VERSION);
	assert_false(handshake(strongest, c).ok);
	assert_true(handshake(medium, c).ok);
	SSL_CTX_free(c);
	/* TLS 1.0 and 1.1 are refused whatever the suites */
	c = raw_client("ALL:@SECLEVEL=0", TLS1_1_VERSION);
	assert_false(handshake(all, c).ok);
	SSL_CTX_free(c);
	c = raw_client("ALL:@SECLEVEL=0", TLS1_VERSION);
	assert_false(handshake(all, c).ok);
	SSL_CTX_free(c);
	/* no client certificate: refused (mutual TLS) */
	c = SSL_CTX_new(TLS_client_method());
	assert_false(handshake(all, c).ok);
	SSL_CTX_free(c);
	SSL_CTX_free(strongest);
	SSL_CTX_free(medium);
	SSL_CTX_free(all);
}

static void
test_authenticated_null(void **state)
{
	struct tls_opts o;
	SSL_CTX *s, *c;

	(void)state;
	tls_opts_default(&o);
	o.cert = rsa_cert;
	o.key = rsa_key;
	o.ca_file = trust;
	o.authenticated = true;
	assert_int_equal(tls_ctx_new(&s, true, &o), 0);
	tls_opts_default(&o);
	o.cert = cli_cert;
	o.key = cli_key;
	o.ca_file = trust;
	o.authenticated = true;
	assert_int_equal(tls_ctx_new(&c, false, &o), 0);
	struct hs r = handshake(s, c);
	assert_true(r.ok);
	assert_string_equal(r.cipher, "NULL-SHA");
	SSL_CTX_free(c);
	/* an Encrypted client does not talk to an Authenticated server */
	c = client(TLS_CIPHERS_ALL_RSA);
	assert_false(handshake(s, c).ok);
	SSL_CTX_free(c);
	SSL_CTX_free(s);
}

static void
test_bad_options(void **state)
{
	struct tls_opts o;
	SSL_CTX *ctx;

	(void)state;
	tls_opts_default(&o);
	assert_int_equal(tls_ctx_new(&ctx, true, &o), EINVAL); /* no identity */
	o.cert = rsa_cert;
	o.key = ec_key; /* key of another certificate */
	assert_int_equal(tls_ctx_new(&ctx, true, &o), EPROTO);
	o.key = rsa_key;
	o.cert2 = rsa_cert; /* two RSA identities */
	o.key2 = rsa_key;
	assert_int_equal(tls_ctx_new(&ctx, true, &o), EPROTO);
	o.cert2 = o.key2 = NULL;
	o.ca_file = "/nonexistent/trust.pem";
	assert_int_equal(tls_ctx_new(&ctx, true, &o), EPROTO);
	o.ca_file = NULL;
	o.ciphers = TLS_CIPHERS__COUNT;
	assert_int_equal(tls_ctx_new(&ctx, true, &o), EINVAL);
}

static X509 *
load(const char *file)
{
	FILE *f = fopen(file, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return x;
}

static void
test_peer_names(void **state)
{
	char p[128], k[128], why[512];
	X509 *x;

	(void)state;
	/* CN cuc.lab, SANs cuc.lab (the client certificate) */
	x = load(cli_cert);
	assert_non_null(x);
	assert_true(tls_peer_name_ok(x, "cuc.lab"));
	assert_true(tls_peer_name_ok(x, "CUC.LAB"));
	assert_true(tls_peer_name_ok(x, "a.lab b.lab,cuc.lab"));
	assert_true(tls_peer_name_ok(x, "a.lab;cuc.lab"));
	assert_true(tls_peer_name_ok(x, "a.lab:cuc.lab"));
	assert_true(tls_peer_name_ok(x, "  , cuc.lab ;; "));
	assert_false(tls_peer_name_ok(x, "cuc.la"));
	assert_false(tls_peer_name_ok(x, "cuc.lab.evil"));
	assert_false(tls_peer_name_ok(x, ""));
	X509_free(x);

	/* a SAN that differs from the CN is accepted through the SAN */
	path(p, "san.pem");
	path(k, "san.key");
	assert_int_equal(pki_selfsigned(PKI_KEY_EC_P256, "vm-EC",
	                     "DNS:vm.lab,DNS:vm2.lab", 1, p, k),
	    0);
	x = load(p);
	assert_true(tls_peer_name_ok(x, "vm2.lab"));
	assert_true(tls_peer_name_ok(x, "vm-ec"));
	assert_false(tls_peer_name_ok(x, "vm3.lab"));
	tls_peer_name_why(x, "127.0.0.1:5061", "cucm.lab", why, sizeof(why));
	assert_string_equal(why, "peer 127.0.0.1:5061 certificate CN=vm-EC "
	                         "DNS=vm.lab,vm2.lab does not match X.509 "
	                         "subject name cucm.lab");
	X509_free(x);

	/* no wildcards */
	path(p, "wild.pem");
	path(k, "wild.key");
	assert_int_equal(
	    pki_selfsigned(PKI_KEY_EC_P256, "*.lab", "DNS:*.lab", 1, p, k), 0);
	x = load(p);
	assert_false(tls_peer_name_ok(x, "vm.lab"));
	X509_free(x);
}

static void
test_keylog(void **state)
{
	struct tls_opts o;
	SSL_CTX *s, *c;
	char kl[128], line[512];

	(void)state;
	path(kl, "keylog.txt");
	tls_opts_default(&o);
	o.cert = ec_cert;
	o.key = ec_key;
	o.ca_file = trust;
	o.keylog_file = kl;
	assert_int_equal(tls_ctx_new(&s, true, &o), 0);
	c = client(TLS_CIPHERS_ALL_ECDSA);
	assert_true(handshake(s, c).ok);
	FILE *f = fopen(kl, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(strncmp(line, "CLIENT_RANDOM ", 14), 0);
	fclose(f);
	SSL_CTX_free(c);
	SSL_CTX_free(s);
}

/*
 * An expired client certificate: the handshake fails and the reason reads
 * "peer certificate CN=... expired on DATE" (lib/tls/diag.c).
 */
static void
test_expired_peer(void **state)
{
	char p[128], k[128], why[600];
	SSL_CTX *s = server(TLS_CIPHERS_ALL_RSA, true, true), *c;
	EVP_PKEY *pk;
	X509 *x;
	FILE *f;

	(void)state;
	/* the client identity, re-signed with a validity that ended */
	path(p, "expired.pem");
	path(k, "expired.key");
	assert_int_equal(pki_selfsigned(PKI_KEY_EC_P256, "old-phone.lab",
	                     "DNS:old-phone.lab", 1, p, k),
	    0);
	f = fopen(p, "r");
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(k, "r");
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	X509_gmtime_adj(X509_getm_notBefore(x), -3 * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), -86400);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	f = fopen(p, "w");
	PEM_write_X509(f, x);
	fclose(f);
	/* the server trusts it (it is in the bundle), but it has expired */
	char bundle[128];
	path(bundle, "trust-expired.pem");
	cat(bundle, trust, p);
	SSL_CTX_load_verify_locations(s, bundle, NULL);

	c = SSL_CTX_new(TLS_client_method());
	SSL_CTX_use_certificate_file(c, p, SSL_FILETYPE_PEM);
	SSL_CTX_use_PrivateKey(c, pk);
	/* run the handshake by hand to keep the server's SSL for the reason */
	SSL *ss = SSL_new(s), *cs = SSL_new(c);
	BIO *sb, *cb;
	BIO_new_bio_pair(&sb, 0, &cb, 0);
	SSL_set_bio(ss, sb, sb);
	SSL_set_bio(cs, cb, cb);
	SSL_set_accept_state(ss);
	SSL_set_connect_state(cs);
	unsigned long e = 0;
	for (int i = 0; i < 50; i++) {
		SSL_do_handshake(cs);
		if (SSL_do_handshake(ss) <= 0 && ERR_peek_error()) {
			e = ERR_get_error();
			break;
		}
	}
	assert_true(e != 0);
	tls_handshake_why(ss, e, why, sizeof(why));
	if (strstr(why, "peer certificate CN=old-phone.lab") == NULL ||
	    strstr(why, "expired on") == NULL)
		fail_msg("reason: %s", why);
	ERR_clear_error();
	SSL_free(ss);
	SSL_free(cs);
	SSL_CTX_free(c);
	SSL_CTX_free(s);
	X509_free(x);
	EVP_PKEY_free(pk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_client_order_and_cert),
	    cmocka_unit_test(test_server_restricts),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_authenticated_null),
	    cmocka_unit_test(test_bad_options),
	    cmocka_unit_test(test_peer_names),
	    cmocka_unit_test(test_keylog),
	    cmocka_unit_test(test_expired_peer),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
