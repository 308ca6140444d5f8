/* libFuzzer driver for the SDP parser, offer/answer and the answer encoder. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/sa.h"
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
	fprintf(stderr, "fuzz_sdp.c:%d: invariant broken: %s\n", line, what);
	abort();
}

/* True when s is unset or lies within [p, p + n). */
static bool
inside(struct slice s, const char *p, size_t n)
{
	uintptr_t sp = (uintptr_t)s.p, lo = (uintptr_t)p, hi = lo + n;

	if (s.p == NULL)
		return s.n == 0;
	return sp >= lo && sp <= hi && s.n <= hi - sp;
}

static bool
has_crlf(struct slice s)
{
	return slice_chr(s, '\r') >= 0 || slice_chr(s, '\n') >= 0 ||
	       slice_chr(s, '\0') >= 0;
}

static void
check_conn(const struct sdp_conn *c, const char *p, size_t n)
{
	if (!c->set)
		return;
	CHECK(inside(c->nettype, p, n) && c->nettype.n);
	CHECK(inside(c->addrtype, p, n) && c->addrtype.n);
	CHECK(inside(c->addr, p, n) && c->addr.n);
	CHECK(slice_chr(c->addr, '/') < 0);
}

static void
check_session(const struct sdp_session *s, const char *p, size_t n)
{
	CHECK(s->version == 0);
	CHECK(s->nmedia <= SDP_MAX_MEDIA);
	CHECK(inside(s->origin.username, p, n) && s->origin.username.n);
	CHECK(inside(s->origin.sess_id, p, n) && s->origin.sess_id.n);
	CHECK(inside(s->origin.addr, p, n));
	CHECK(inside(s->name, p, n) && !has_crlf(s->name));
	check_conn(&s->c, p, n);
	for (size_t i = 0; i < s->nmedia; i++) {
		const struct sdp_media *m = &s->media[i];

		CHECK(inside(m->type, p, n) && m->type.n);
		CHECK(inside(m->proto, p, n) && m->proto.n);
		CHECK(inside(m->fmts, p, n) && !has_crlf(m->fmts));
		CHECK(m->nports >= 1);
		CHECK(m->nfmt <= SDP_MAX_FMTS && m->nrtpmap <= SDP_MAX_RTPMAP);
		CHECK(m->nfmtp <= SDP_MAX_FMTP && m->ncrypto <= SDP_MAX_CRYPTO);
		CHECK(s->dir == SDP_DIR_UNSET || m->dir != SDP_DIR_UNSET);
		for (size_t j = 0; j < m->nfmt; j++)
			CHECK(m->fmt[j] <= 127);
		for (size_t j = 0; j < m->nrtpmap; j++) {
			CHECK(m->rtpmap[j].pt <= 127 && m->rtpmap[j].rate);
			CHECK(inside(m->rtpmap[j].enc, p, n));
		}
		for (size_t j = 0; j < m->ncrypto; j++)
			CHECK(inside(m->crypto[j], p, n) &&
			      !has_crlf(m->crypto[j]));
		check_conn(&m->c, p, n);
		check_conn(&m->rtcp_c, p, n);
	}
}

/* Answers with one policy; an answer must parse and carry what we chose. */
static void
check_answer(const struct sdp_session *s, const struct sdp_policy *pol)
{
	struct sdp_neg n;
	struct sdp_session a;
	struct sdp_crypto c;
	struct sdp_local l = {.sess_id = 1, .sess_version = 1};
	char reason[SDP_REASON_MAX], err[SDP_ERR_MAX];
	struct buf b;
	int rc;

	rc = sdp_answer(&n, s, pol, reason, sizeof(reason));
	CHECK(rc == 0 || rc == ENOTSUP);
	CHECK(strlen(reason) < sizeof(reason));
	for (const char *q = reason; *q; q++)
		CHECK(*q >= 0x20 && *q < 0x7f && *q != '"');
	if (rc) {
		CHECK(reason[0] != '\0');
		return;
	}
	CHECK(n.media_index < s->nmedia);
	const struct sdp_media *m = &s->media[n.media_index];
	CHECK(slice_caseeq_cstr(m->type, "audio") && m->port != 0);
	CHECK(sa_port(&n.remote) == m->port);
	CHECK(n.pt <= 127 && n.te_pt <= 127);
	CHECK(n.dir != SDP_DIR_UNSET);
	if (pol->secure_rtp)
		CHECK(n.srtp);
	if (n.srtp) {
		const struct srtp_suite_info *si = srtp_suite_info(n.suite);
		CHECK(si && n.key_len == si->key_len + si->salt_len);
		CHECK(n.tag <= 999999999);
	}

	sa_set_str(&l.addr, "192.0.2.9", 4000);
	buf_init(&b);
	CHECK(sdp_encode_answer(&b, &l, s, &n) == 0);
	rc = sdp_parse(&a, b.p, b.len, err, sizeof(err));
	if (rc)
		fprintf(stderr, "answer does not parse: %s\n", err);
	CHECK(rc == 0);
	CHECK(a.nmedia == s->nmedia);
	for (size_t i = 0; i < a.nmedia; i++) {
		CHECK(a.media[i].port == (i == n.media_index ? 4000 : 0));
		CHECK(slice_eq(a.media[i].proto, s->media[i].proto));
	}
	const struct sdp_media *am = &a.media[n.media_index];
	CHECK(am->ncrypto == (n.srtp ? 1u : 0u));
	CHECK(am->nfmt == (n.te_pt >= 0 ? 2u : 1u) && am->fmt[0] == n.pt);
	if (n.srtp) {
		CHECK(sdp_crypto_parse(&c, am->crypto[0], NULL, 0) == 0);
		CHECK(c.tag == n.tag && c.suite == n.suite);
		CHECK(c.key_len == n.key_len &&
		      memcmp(c.key, n.tx_key, c.key_len) == 0);
		sdp_crypto_wipe(&c);
	}
	buf_free(&b);
	sdp_neg_wipe(&n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_session s;
	char err[SDP_ERR_MAX];
	const char *p = (const char *)data;
	int rc;

	rc = sdp_parse(&s, p, size, err, sizeof(err));
	CHECK(rc == 0 || rc == EBADMSG);
	CHECK(strlen(err) < sizeof(err));
	if (rc) {
		CHECK(err[0] != '\0');
		return 0;
	}
	check_session(&s, p, size);
	for (int o = 0; o < SRTP_OPT_COUNT; o++) {
		struct sdp_policy pol = {.secure_rtp = true,
		    .srtp = (enum srtp_option)o,
		    .pcmu = true,
		    .pcma = true,
		    .telephone_event = true};
		check_answer(&s, &pol);
	}
	struct sdp_policy plain = {.pcma = true, .telephone_event = false};
	check_answer(&s, &plain);
	return 0;
}
