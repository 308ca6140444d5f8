/* A daemon's TLS: options from its identity files, its server and client contexts, and their --check. */
#ifndef NGV_TLS_IDENT_H
#define NGV_TLS_IDENT_H

#include <stdbool.h>
#include <stddef.h>

#include "tls/ctx.h"

/* The identity files of a daemon's [certificates], all borrowed, any NULL. */
struct tls_ident_files {
	const char *rsa_cert, *rsa_key; /* CallManager, tomcat */
	const char *ec_cert, *ec_key;   /* CallManager-ECDSA, tomcat-ECDSA */
	const char *trust; /* CallManager-trust: PEM or directory */
};

/*
 * Fills o with the defaults (tls_opts_default()) and the identities of f:
 * the RSA one first when both are given, the EC one as the second (the
 * certificate presented follows the negotiated suite), f->trust as the
 * trust store. False when f gives neither identity: the daemon has no TLS.
 */
bool tls_opts_identities(struct tls_opts *o, const struct tls_ident_files *f);

/*
 * A daemon's server and client contexts from o: o->what names the server
 * in log lines, "WHAT client" the client. Returns 0 with both (both NULL
 * when o is NULL: no TLS), or an error of tls_ctx_new() with both NULL.
 */
int tls_ctx_pair_new(SSL_CTX **sctx, SSL_CTX **cctx, const struct tls_opts *o);

/*
 * --check: the contexts of o build, and their identities are within their
 * validity periods now (o NULL: no TLS, nothing to check). Returns 0, or
 * an error with why saying what is not.
 */
int tls_ctx_pair_check(const struct tls_opts *o, char *why, size_t whysz);

#endif
