/* A daemon's TLS: options from its identity files, its server and client contexts, and their --check. */
#include "tls/ident.h"

#include <errno.h>
#include <stdio.h>

bool
tls_opts_identities(struct tls_opts *o, const struct tls_ident_files *f)
{
	tls_opts_default(o);
	if (f->rsa_cert == NULL && f->ec_cert == NULL)
		return false;
	o->cert = f->rsa_cert ? f->rsa_cert : f->ec_cert;
	o->key = f->rsa_cert ? f->rsa_key : f->ec_key;
	if (f->rsa_cert && f->ec_cert) {
		o->cert2 = f->ec_cert;
		o->key2 = f->ec_key;
	}
	o->ca_file = f->trust;
	return true;
}

int
tls_ctx_pair_new(SSL_CTX **sctx, SSL_CTX **cctx, const struct tls_opts *o)
{
	struct tls_opts co;
	char what[200];
	int err;

	*sctx = *cctx = NULL;
	if (o == NULL)
		return 0;
	if ((err = tls_ctx_new(sctx, true, o)) != 0)
		return err;
	co = *o;
	snprintf(what, sizeof(what), "%s client", o->what ? o->what : "TLS");
	co.what = what;
	if ((err = tls_ctx_new(cctx, false, &co)) != 0) {
		SSL_CTX_free(*sctx);
		*sctx = NULL;
		return err;
	}
	return 0;
}

int
tls_ctx_pair_check(const struct tls_opts *o, char *why, size_t whysz)
{
	SSL_CTX *s, *c;
	int err;

	if (o == NULL)
		return 0;
	if ((err = tls_ctx_pair_new(&s, &c, o)) != 0) {
		snprintf(
		    why, whysz, "the TLS identities do not load (see above)");
		return err;
	}
	if (!tls_ctx_identities_current(s, why, whysz))
		err = EINVAL;
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	return err;
}
