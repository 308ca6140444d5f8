/* libFuzzer driver for the SIP URI parser: slices, equality, parameters and unescaping. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/slice.h"
#include "sip/uri.h"

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
	fprintf(stderr, "fuzz_uri.c:%d: invariant broken: %s\n", line, what);
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

/* Decodes into buffers of several sizes; a success is always terminated. */
static void
check_unescape(struct slice in)
{
	static char out[8192 + 1];
	const size_t sizes[] = {0, 1, in.n / 2, in.n, in.n + 1};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t outlen = (size_t)-1, sz = sizes[i];
		if (sz > sizeof(out))
			continue;
		if (sip_unescape(in, out, sz, &outlen) != 0)
			continue;
		CHECK(outlen <= in.n);
		if (sz == 0) {
			/* Nothing to write to: only an empty input fits. */
			CHECK(in.n == 0 && outlen == 0);
		} else {
			CHECK(outlen < sz && out[outlen] == '\0');
		}
	}
}

/* Looks up fixed names and every name the list holds. */
static void
check_params(struct slice params)
{
	static const char *const names[] = {
	    "transport",
	    "lr",
	    "maddr",
	    "user",
	    "tag",
	    "method",
	    "ttl",
	    "",
	};
	const char *p = params.p, *end = params.n ? p + params.n : p;
	struct slice v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (sip_param_get(params, names[i], &v) == 0)
			CHECK(inside(v, params));
	}
	while (p < end) {
		char name[64];
		const char *q = p + 1;
		while (q < end && *q != ';' && *q != '=')
			q++;
		slice_strlcpy(
		    name, sizeof(name), slice_make(p + 1, (size_t)(q - p - 1)));
		if (sip_param_get(params, name, &v) == 0)
			CHECK(inside(v, params));
		while (q < end && *q != ';')
			q++;
		p = q;
	}
}

static void
check_uri(const struct sip_uri *u, struct slice s)
{
	CHECK(u->raw.p == s.p && u->raw.n == s.n);
	CHECK(u->scheme_s.n > 0 && inside(u->scheme_s, s));
	CHECK(inside(u->user, s) && inside(u->password, s));
	CHECK(inside(u->host, s) && inside(u->params, s));
	CHECK(inside(u->headers, s) && inside(u->opaque, s));
	switch (u->scheme) {
	case SIP_URI_SIP:
	case SIP_URI_SIPS:
		CHECK(u->host.n > 0 && u->opaque.n == 0);
		CHECK(u->params.n == 0 || u->params.p[0] == ';');
		break;
	case SIP_URI_TEL:
		CHECK(inside(u->user, u->opaque));
		CHECK(inside(u->params, u->opaque));
		break;
	case SIP_URI_OTHER:
		CHECK(u->opaque.n > 0);
		break;
	}
	CHECK(sip_uri_port(u) != 0);
	CHECK(sip_uri_eq(u, u));

	check_unescape(u->user);
	check_unescape(u->password);
	check_unescape(u->host);
	check_unescape(u->params);
	check_unescape(u->headers);
	check_unescape(u->opaque);
	check_params(u->params);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice s = slice_make((const char *)data, size);
	struct sip_uri u, u2, a, b;
	ptrdiff_t nl;

	if (sip_uri_parse(&u, s) == 0) {
		/* Equality must not depend on where the bytes live. */
		char *copy = malloc(size ? size : 1);
		if (copy == NULL)
			return 0;
		memcpy(copy, data, size);
		check_uri(&u, s);
		CHECK(sip_uri_parse(&u2, slice_make(copy, size)) == 0);
		CHECK(sip_uri_eq(&u, &u2) && sip_uri_eq(&u2, &u));
		free(copy);
	} else {
		/* A rejected URI leaves nothing pointing outside the input. */
		CHECK(inside(u.user, s) && inside(u.host, s));
		CHECK(inside(u.params, s) && inside(u.headers, s));
	}

	/* Two URIs separated by a newline: equality is symmetric. */
	nl = slice_chr(s, '\n');
	if (nl >= 0 && sip_uri_parse(&a, slice_make(s.p, (size_t)nl)) == 0 &&
	    sip_uri_parse(
	        &b, slice_make(s.p + nl + 1, size - (size_t)nl - 1)) == 0)
		CHECK(sip_uri_eq(&a, &b) == sip_uri_eq(&b, &a));
	return 0;
}
