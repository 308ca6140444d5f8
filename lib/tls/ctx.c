/* TLS context construction on OpenSSL 3: NGE profiles, dual identities, key log. */
#include "tls/ctx.h"
#include "pki/show.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "tls/diag.h"

/* One key log file for the process: a debugging aid, opened on demand. */
static FILE *keylog_fp;
static char keylog_path[512];

static void
keylog_cb(const SSL *ssl, const char *line)
{
	(void)ssl;
	if (keylog_fp) {
		fprintf(keylog_fp, "%s\n", line);
		fflush(keylog_fp);
	}
}

static int
keylog_open(const char *path)
{
	if (keylog_fp && strcmp(path, keylog_path) == 0)
		return 0;
	FILE *f = fopen(path, "a");
	if (f == NULL)
		return errno;
	if (keylog_fp)
		fclose(keylog_fp);
	keylog_fp = f;
	snprintf(keylog_path, sizeof(keylog_path), "%s", path);
	return 0;
}

void
tls_opts_default(struct tls_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ciphers = TLS_CIPHERS_DEFAULT_OPTION;
	o->verify_peer = true;
	o->what = "TLS";
}

static int
load_identity(SSL_CTX *ctx, const char *cert, const char *key, const char *what,
    int *type)
{
	char line[1200];
	X509 *x;
	EVP_PKEY *pk;

	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(line, sizeof(line), "%s: loading certificate %s", what,
		    cert);
		log_openssl(LOG_ERR, line);
		return EPROTO;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(line, sizeof(line),
		    "%s: loading private key %s (it must match %s)", what, key,
		    cert);
		log_openssl(LOG_ERR, line);
		return EPROTO;
	}
	/* The certificate just loaded is the current one of its slot. */
	x = SSL_CTX_get0_certificate(ctx);
	pk = x ? X509_get0_pubkey(x) : NULL;
	*type = pk ? EVP_PKEY_get_base_id(pk) : 0;
	return 0;
}

int
tls_ctx_new(SSL_CTX **ctxp, bool server, const struct tls_opts *o)
{
	const char *what;
	SSL_CTX *ctx;
	char line[1200];
	int t1 = 0, t2 = 0;
	bool have_rsa, have_ec;

	if (ctxp == NULL || o == NULL ||
	    (unsigned)o->ciphers >= TLS_CIPHERS__COUNT ||
	    (server && (!o->cert || !o->key)) || (!o->cert != !o->key) ||
	    (!o->cert2 != !o->key2))
		return EINVAL;
	what = o->what ? o->what : "TLS";
	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL) {
		log_openssl(LOG_ERR, "SSL_CTX_new");
		return EPROTO;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, o->allow_tls13 && !o->authenticated
	                                       ? TLS1_3_VERSION
	                                       : TLS1_2_VERSION);
	SSL_CTX_set_options(
	    ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	/*
	 * Idle connections give back their record buffers (about 32 kB each,
	 * bench/bench_tls.c); phones and trunks stay connected and idle.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/*
	 * A session id context lets a server that verifies peers resume
	 * sessions; without it OpenSSL fails a client offering a ticket.
	 */
	if (server)
		SSL_CTX_set_session_id_context(
		    ctx, (const unsigned char *)"ngvoice-sip", 11);
	/* The client's order decides (guide); the server only restricts. */
	SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	char both[1024];
	snprintf(both, sizeof(both), "%s:NULL-SHA:@SECLEVEL=0",
	    tls_ciphers_openssl(o->ciphers));
	if (SSL_CTX_set_cipher_list(
	        ctx, o->authenticated ? TLS_CIPHERS_AUTHENTICATED
	             : o->also_authenticated
	                 ? both
	                 : tls_ciphers_openssl(o->ciphers)) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, tls_ciphers_tls13(o->ciphers)) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, tls_ciphers_groups(o->ciphers)) !=
	        1 ||
	    SSL_CTX_set1_sigalgs_list(ctx,
	        "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:"
	        "RSA+SHA256:RSA+SHA384:RSA+SHA512:"
	        "RSA-PSS+SHA256:RSA-PSS+SHA384:RSA-PSS+SHA512") != 1) {
		snprintf(line, sizeof(line), "%s: setting TLS suites", what);
		log_openssl(LOG_ERR, line);
		goto fail;
	}
	if (o->cert && load_identity(ctx, o->cert, o->key, what, &t1) != 0)
		goto fail;
	if (o->cert2 && load_identity(ctx, o->cert2, o->key2, what, &t2) != 0)
		goto fail;
	have_rsa = t1 == EVP_PKEY_RSA || t2 == EVP_PKEY_RSA;
	have_ec = t1 == EVP_PKEY_EC || t2 == EVP_PKEY_EC;
	if (o->cert2 && t1 == t2) {
		log_err("%s: %s and %s have the same key type; one RSA and one "
		        "EC identity are expected",
		    what, o->cert, o->cert2);
		goto fail;
	}
	if (server && !o->authenticated && (!have_rsa || !have_ec))
		log_info("%s: only an %s identity: with \"%s\" only its "
		         "ECDHE-%s suites can be negotiated",
		    what, have_ec ? "EC" : "RSA", tls_ciphers_label(o->ciphers),
		    have_ec ? "ECDSA" : "RSA");
	if (o->also_authenticated && !o->authenticated)
		log_warn(
		    "%s: Authenticated devices configured: NULL-SHA is "
		    "accepted besides the TLS Ciphers suites (signalling "
		    "in clear for those devices; Encrypted ones are held to "
		    "encrypting suites)",
		    what);
	if (o->authenticated)
		log_warn("%s: device security mode Authenticated: TLS with "
		         "NULL-SHA, signalling is not encrypted and SRTP keys "
		         "in SDP would travel in clear",
		    what);
	if (o->ca_file &&
	    SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
		snprintf(line, sizeof(line), "%s: loading trust store %s", what,
		    o->ca_file);
		log_openssl(LOG_ERR, line);
		goto fail;
	}
	if (o->verify_peer) {
		tls_diag_init();
		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER |
		        (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
		    tls_verify_cb);
	}
	/* SSLKEYLOGFILE, as browsers and curl read it, when nothing is set. */
	const char *keylog =
	    o->keylog_file ? o->keylog_file : getenv("SSLKEYLOGFILE");
	if (keylog && *keylog) {
		int err = keylog_open(keylog);
		if (err) {
			log_err("%s: cannot open key log %s: %s", what, keylog,
			    strerror(err));
			goto fail;
		}
		SSL_CTX_set_keylog_callback(ctx, keylog_cb);
		log_warn("%s: TLS session keys are written to %s: anyone who "
		         "reads it can decrypt the signalling",
		    what, keylog);
	}
	*ctxp = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return EPROTO;
}

bool
tls_ssl_encrypted(SSL *ssl)
{
	const SSL_CIPHER *c = ssl ? SSL_get_current_cipher(ssl) : NULL;

	return c != NULL && SSL_CIPHER_get_cipher_nid(c) != NID_undef;
}

/*
 * Every identity in ctx is within its validity period. One that has expired
 * (or is not yet valid) fails every new handshake, so a reload that brings
 * one is refused and a start warns. why says which, and since when.
 */
bool
tls_ctx_identities_current(SSL_CTX *ctx, char *why, size_t sz)
{
	char subj[256], when[64];
	int r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);

	for (; r == 1; r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT)) {
		X509 *x = SSL_CTX_get0_certificate(ctx);
		bool old =
		    x && X509_cmp_current_time(X509_get0_notAfter(x)) <= 0;
		bool early =
		    x && X509_cmp_current_time(X509_get0_notBefore(x)) >= 0;
		if (!old && !early)
			continue;
		snprintf(why, sz, "%s %s %s",
		    pki_subject_fmt(x, subj, sizeof(subj)),
		    old ? "expired on" : "is not valid before",
		    pki_time_fmt(
		        old ? X509_get0_notAfter(x) : X509_get0_notBefore(x),
		        when, sizeof(when)));
		return false;
	}
	return true;
}
