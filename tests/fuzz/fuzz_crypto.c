/* libFuzzer driver for a=crypto (RFC 4568) values and the base64 codec. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/slice.h"
#include "sdp/sdp.h"

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
	fprintf(stderr, "fuzz_crypto.c:%d: invariant broken: %s\n", line, what);
	abort();
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i])
			return false;
	}
	return true;
}

/*
 * Decoding accepts only canonical base64, so what decodes re-encodes to
 * the same characters (padding aside) and decodes to the same bytes.
 */
static void
check_base64(const char *in, size_t n)
{
	uint8_t out[256], again[256];
	size_t len, len2, m = n;
	struct buf b;
	int rc;

	rc = sdp_base64_decode(in, n, out, sizeof(out), &len);
	CHECK(rc == 0 || rc == EBADMSG || rc == ENOMEM);
	if (rc) {
		CHECK(len == 0);
		return;
	}
	CHECK(len <= sizeof(out) && len <= n * 3 / 4);
	buf_init(&b);
	CHECK(sdp_base64_encode(&b, out, len) == 0);
	CHECK(b.len % 4 == 0);
	while (m && in[m - 1] == '=')
		m--;
	size_t e = b.len;
	while (e && b.p[e - 1] == '=')
		e--;
	CHECK(e == m && (m == 0 || memcmp(b.p, in, m) == 0));
	CHECK(sdp_base64_decode(b.p, b.len, again, sizeof(again), &len2) == 0);
	CHECK(len2 == len && memcmp(again, out, len) == 0);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_crypto c, c2;
	char err[SDP_ERR_MAX];
	struct slice in = slice_make((const char *)data, size);
	struct buf b;
	int rc;

	check_base64(in.p, in.n);

	rc = sdp_crypto_parse(&c, in, err, sizeof(err));
	CHECK(rc == 0 || rc == EBADMSG || rc == ENOTSUP);
	CHECK(strlen(err) < sizeof(err));
	if (rc) {
		CHECK(err[0] != '\0');
		CHECK(c.key_len == 0 && all_zero(c.key, sizeof(c.key)));
		return 0;
	}
	const struct srtp_suite_info *si = srtp_suite_info(c.suite);
	CHECK(si != NULL);
	CHECK(c.key_len == si->key_len + si->salt_len);
	CHECK(c.tag <= 999999999);
	CHECK(c.nkeys >= 1);
	CHECK(!c.has_mki || (c.mki_len >= 1 && c.mki_len <= 128));
	CHECK(c.suite_name.p >= in.p &&
	      c.suite_name.p + c.suite_name.n <= in.p + in.n);

	/* What we would send for it parses back to the same key. */
	buf_init(&b);
	buf_printf(&b, "%u %s inline:", c.tag, si->name);
	sdp_base64_encode(&b, c.key, c.key_len);
	CHECK(b.err == 0);
	CHECK(sdp_crypto_parse(&c2, buf_slice(&b), NULL, 0) == 0);
	CHECK(c2.tag == c.tag && c2.suite == c.suite);
	CHECK(c2.key_len == c.key_len && memcmp(c2.key, c.key, c.key_len) == 0);
	CHECK(c2.lifetime == 0 && !c2.has_mki && c2.flags == 0);
	buf_free(&b);
	sdp_crypto_wipe(&c);
	sdp_crypto_wipe(&c2);
	CHECK(c.key_len == 0 && all_zero(c.key, sizeof(c.key)));
	return 0;
}
