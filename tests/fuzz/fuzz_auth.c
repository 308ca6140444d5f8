/* libFuzzer driver for the digest header parser and client responses, with invariant checks. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/slice.h"
#include "sip/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant aborts so that libFuzzer keeps the input. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			fail(__LINE__, #cond);                                 \
	} while (0)

static void
fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_auth.c:%d: invariant broken: %s\n", line, what);
	abort();
}

/* True when s is unset or lies within outer; empty slices may sit at its end. */
static bool
inside(struct slice s, struct slice outer)
{
	uintptr_t sp = (uintptr_t)s.p, lo = (uintptr_t)outer.p;
	uintptr_t hi = lo + outer.n;

	if (s.p == NULL)
		return s.n == 0;
	return sp >= lo && sp <= hi && s.n <= hi - sp;
}

/* The parameter slices of a parse result, in a fixed order. */
static void
fields(const struct sip_auth_params *a, struct slice f[14])
{
	f[0] = a->scheme;
	f[1] = a->rest;
	f[2] = a->realm;
	f[3] = a->nonce;
	f[4] = a->opaque;
	f[5] = a->algorithm;
	f[6] = a->qop;
	f[7] = a->stale;
	f[8] = a->username;
	f[9] = a->uri;
	f[10] = a->response;
	f[11] = a->cnonce;
	f[12] = a->nc;
	f[13] = a->userhash;
}

/* Two results of parsing the same bytes at p and q agree, offset for offset. */
static bool
same_parse(const struct sip_auth_params *a, const char *p,
    const struct sip_auth_params *b, const char *q)
{
	struct slice fa[14], fb[14];

	if (a->digest != b->digest)
		return false;
	fields(a, fa);
	fields(b, fb);
	for (size_t i = 0; i < 14; i++) {
		if (slice_isset(fa[i]) != slice_isset(fb[i]) ||
		    fa[i].n != fb[i].n)
			return false;
		if (slice_isset(fa[i]) && fa[i].p - p != fb[i].p - q)
			return false;
	}
	return true;
}

/* A quoted value decodes into buffers of several sizes without overflow. */
static void
check_unescape(struct slice in)
{
	static char out[8192 + 1];
	const size_t sizes[] = {0, 1, in.n / 2, in.n + 1};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t outlen = (size_t)-1, sz = sizes[i];
		int rc;

		if (sz > sizeof(out))
			continue;
		rc = sip_auth_unescape(in, out, sz, &outlen);
		CHECK(rc == 0 || rc == ENOSPC);
		if (rc == 0)
			CHECK(outlen <= in.n && outlen < sz &&
			      out[outlen] == '\0');
	}
	/* Room for every octet always suffices. */
	if (in.n + 1 <= sizeof(out))
		CHECK(sip_auth_unescape(in, out, in.n + 1, NULL) == 0);
}

/* What unescaping s gives, compared with plain text. */
static bool
unescapes_to(struct slice s, const char *plain)
{
	/* Escaped text can be twice the input: size the buffer from it. */
	char *out = malloc(s.n + 1);
	size_t n;
	bool eq;

	if (out == NULL)
		return true; /* nothing can be said */
	eq = sip_auth_unescape(s, out, s.n + 1, &n) == 0 &&
	     n == strlen(plain) && memcmp(out, plain, n) == 0;
	free(out);
	return eq;
}

static bool
is_hex(struct slice s)
{
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/* The caller's side of a response: who answers, for what. */
struct creds {
	const char *user;
	const char *uri;
	const char *password;
	const char *method;
};

/*
 * Answers a parsed challenge. sip_auth_respond() must not crash; when it
 * succeeds its output parses back as Digest credentials that carry the
 * challenge's realm, nonce and opaque and a response of the right length.
 */
static void
check_respond(const struct sip_auth_params *ch, const struct creds *c,
    uint32_t nc, const char *cnonce)
{
	struct sip_auth_params cr;
	enum sip_auth_alg alg;
	struct buf b;
	int rc;

	buf_init(&b);
	BUF_LIT(&b, "x"); /* a failure must leave what was there */
	rc = sip_auth_respond(&b, ch, slice_cstr(c->method), slice_cstr(c->uri),
	    c->user, c->password, nc, cnonce);
	CHECK(rc == 0 || rc == EINVAL || rc == EBADMSG || rc == ENOTSUP ||
	      rc == ENOMEM || rc == EIO);
	if (rc != 0) {
		CHECK(b.len == 1);
		buf_free(&b);
		return;
	}
	CHECK(b.len > 1 && b.err == 0);
	if (sip_auth_parse(&cr, slice_make(b.p + 1, b.len - 1)) != 0) {
		fprintf(stderr, "response does not parse: %.*s\n",
		    (int)b.len - 1, b.p + 1);
		fail(__LINE__, "response parses");
	}
	CHECK(cr.digest);
	CHECK(slice_isset(cr.username) && slice_isset(cr.realm) &&
	      slice_isset(cr.nonce) && slice_isset(cr.response));
	CHECK(slice_eq(cr.realm, ch->realm));
	CHECK(slice_eq(cr.nonce, ch->nonce));
	CHECK(slice_isset(cr.opaque) == slice_isset(ch->opaque));
	if (slice_isset(ch->opaque))
		CHECK(slice_eq(cr.opaque, ch->opaque));
	CHECK(sip_auth_alg_parse(ch->algorithm, &alg) == 0);
	CHECK(sip_auth_alg_parse(cr.algorithm, &alg) == 0);
	CHECK(cr.response.n == sip_auth_alg_hexlen(alg) && is_hex(cr.response));
	CHECK(unescapes_to(cr.uri, c->uri));
	if (!slice_caseeq_cstr(ch->userhash, "true"))
		CHECK(unescapes_to(cr.username, c->user));
	CHECK(slice_isset(cr.qop) == slice_isset(ch->qop));
	if (slice_isset(cr.qop))
		CHECK(slice_caseeq_cstr(cr.qop, "auth") &&
		      slice_isset(cr.cnonce) && cr.nc.n == 8);
	buf_free(&b);
}

/* Runs the accessors a caller would, on whatever was parsed. */
static void
exercise(const struct sip_auth_params *a)
{
	enum sip_auth_alg alg;
	struct slice f[14];
	int rc;

	rc = sip_auth_alg_parse(a->algorithm, &alg);
	CHECK(rc == 0 || rc == ENOTSUP);
	if (rc == 0)
		CHECK(sip_auth_alg_name(alg) != NULL &&
		      sip_auth_alg_hexlen(alg) > 0);
	(void)sip_auth_is_stale(a);
	(void)sip_auth_qop_has(a->qop, "auth");
	(void)sip_auth_qop_has(a->qop, "auth-int");
	fields(a, f);
	for (size_t i = 2; i < 14; i++)
		check_unescape(f[i]);
}

static struct sip_auth_server *srv;

/* Our server, made once; NULL when the crypto library cannot make one. */
static struct sip_auth_server *
server(void)
{
	if (srv == NULL && sip_auth_server_alloc(&srv, "fuzz.example", 0) != 0)
		srv = NULL;
	return srv;
}

/* Verifying whatever was parsed gives one of the documented answers. */
static void
check_verify(const struct sip_auth_params *cred, const struct creds *c)
{
	static const char ha1[] = "0123456789abcdef0123456789ABCDEF";
	int rc;

	if (server() == NULL)
		return;
	rc = sip_auth_verify(
	    srv, cred, slice_cstr(c->method), c->password, NULL);
	CHECK(rc == 0 || rc == EACCES || rc == ETIMEDOUT || rc == EBADMSG ||
	      rc == ENOTSUP);
	rc = sip_auth_verify(srv, cred, slice_cstr(c->method), NULL, ha1);
	CHECK(rc == 0 || rc == EACCES || rc == ETIMEDOUT || rc == EBADMSG ||
	      rc == EINVAL || rc == ENOTSUP);
	CHECK(sip_auth_verify(srv, cred, slice_cstr(c->method), NULL, NULL) ==
	      EINVAL);
}

/*
 * A whole exchange with our own server: its challenge, parsed and answered
 * with the fuzzer's name, URI and password, must verify; a wrong password
 * must not.
 */
static void
check_exchange(const struct creds *c, unsigned pick)
{
	static const enum sip_auth_alg algs[] = {
	    SIP_AUTH_MD5, SIP_AUTH_SHA256, SIP_AUTH_SHA512_256};
	struct sip_auth_params ch, cr;
	struct buf b, r;
	int rc;

	if (server() == NULL)
		return;
	buf_init(&b);
	buf_init(&r);
	if (sip_auth_challenge(srv, algs[pick % 3], pick & 4, &b) != 0)
		goto out;
	CHECK(sip_auth_parse(&ch, buf_slice(&b)) == 0 && ch.digest);
	rc = sip_auth_respond(&r, &ch, slice_cstr(c->method),
	    slice_cstr(c->uri), c->user, c->password, 1 + pick % 7,
	    pick & 8 ? NULL : "0a4f113b");
	if (rc != 0) {
		/* Only names and URIs that cannot be sent may fail. */
		CHECK(rc == EINVAL || rc == ENOMEM || rc == ENOTSUP);
		goto out;
	}
	CHECK(sip_auth_parse(&cr, buf_slice(&r)) == 0 && cr.digest);
	rc =
	    sip_auth_verify(srv, &cr, slice_cstr(c->method), c->password, NULL);
	CHECK(rc == 0 || rc == ENOTSUP);
	if (rc == 0)
		CHECK(sip_auth_verify(srv, &cr, slice_cstr(c->method),
		          "not the password", NULL) == EACCES ||
		      strcmp(c->password, "not the password") == 0);
out:
	buf_free(&b);
	buf_free(&r);
}

/*
 * Input: a header value, optionally followed by NUL-separated user, URI,
 * password and method for the responses. Seeds are plain header values.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char copy[8192];
	const char *buf = (const char *)data;
	const char *nul = memchr(buf, '\0', size);
	size_t vlen = nul ? (size_t)(nul - buf) : size;
	struct slice value = slice_make(buf, vlen);
	struct sip_auth_params a, b;
	struct creds c = {"alice", "sip:bob@example.com", "secret", "INVITE"};
	char *extra = NULL;
	int rc;

	if (nul) {
		/* The rest, NUL-terminated, split at its NULs. */
		const char **slot[] = {&c.user, &c.uri, &c.password, &c.method};
		size_t n = size - vlen - 1;
		if ((extra = malloc(n + 1)) == NULL)
			return 0;
		memcpy(extra, nul + 1, n);
		extra[n] = '\0';
		for (size_t i = 0, off = 0; i < 4 && off <= n; i++) {
			*slot[i] = extra + off;
			off += strlen(extra + off) + 1;
		}
	}

	memset(&a, 0x5a, sizeof(a));
	rc = sip_auth_parse(&a, value);
	CHECK(rc == 0 || rc == EBADMSG);
	if (rc == 0) {
		struct slice f[14];
		fields(&a, f);
		for (size_t i = 0; i < 14; i++)
			CHECK(inside(f[i], value));
		CHECK(a.scheme.n > 0);
		if (!a.digest)
			for (size_t i = 2; i < 14; i++)
				CHECK(!slice_isset(f[i]));
		/* The same bytes elsewhere parse alike. */
		if (vlen <= sizeof(copy)) {
			memcpy(copy, buf, vlen);
			CHECK(sip_auth_parse(&b, slice_make(copy, vlen)) == 0);
			CHECK(same_parse(&a, buf, &b, copy));
		}
		exercise(&a);
		check_verify(&a, &c);
		if (a.digest) {
			check_respond(
			    &a, &c, 1 + (uint32_t)(size % 5), "0a4f113b");
			check_respond(&a, &c, 0xffffffffu, NULL);
		}
	}
	if (nul)
		check_exchange(&c, (unsigned)size);
	free(extra);
	return 0;
}
