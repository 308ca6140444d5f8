/* TLS context construction on OpenSSL 3. */
#include "tls/ctx.h"

#include <errno.h>
#include <stdio.h>

#include "core/log.h"

int
tls_ctx_new(SSL_CTX **ctxp, bool server, const struct tls_opts *o)
{
	SSL_CTX *ctx;
	char what[512];

	if (ctxp == NULL || o == NULL || (server && (!o->cert || !o->key)))
		return EINVAL;
	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL) {
		log_openssl(LOG_ERR, "SSL_CTX_new");
		return EPROTO;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(
	    ctx, o->allow_tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(
	    ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_set_cipher_list(
	        ctx, o->ciphers ? o->ciphers : TLS_CIPHERS_DEFAULT) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "P-256:P-384:P-521") != 1 ||
	    SSL_CTX_set1_sigalgs_list(ctx,
	        "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:"
	        "RSA+SHA256:RSA+SHA384:RSA+SHA512:"
	        "RSA-PSS+SHA256:RSA-PSS+SHA384:RSA-PSS+SHA512") != 1) {
		log_openssl(LOG_ERR, "setting TLS suites");
		goto fail;
	}
	if (o->cert) {
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
			snprintf(what, sizeof(what), "loading certificate %s",
			    o->cert);
			log_openssl(LOG_ERR, what);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(
		        ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			snprintf(what, sizeof(what),
			    "loading private key %s for %s", o->key, o->cert);
			log_openssl(LOG_ERR, what);
			goto fail;
		}
	}
	if (o->ca_file &&
	    SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
		snprintf(
		    what, sizeof(what), "loading trust store %s", o->ca_file);
		log_openssl(LOG_ERR, what);
		goto fail;
	}
	if (o->verify_peer)
		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER |
		        (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
		    NULL);
	*ctxp = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return EPROTO;
}
