/* Unit tests for SIP digest authentication: RFC vectors, round trips, refusals, parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "sip/auth.h"

#define REALM "ngvoice.lab"
#define RURI  "sip:ngvoice.lab"

/* RFC 7616 section 3.9.1: one challenge, answered with MD5 and SHA-256. */
#define RFC_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"

static uint64_t
fake_clock(void *arg)
{
	return *(uint64_t *)arg;
}

static struct sip_auth_params
must_parse(const char *s)
{
	struct sip_auth_params a;

	assert_int_equal(sip_auth_parse(&a, slice_cstr(s)), 0);
	return a;
}

/* Answers the RFC 7616 challenge with the RFC's cnonce; returns the value. */
static void
rfc7616_answer(const char *alg, struct buf *out)
{
	char hdr[512];
	struct sip_auth_params ch;

	/* As it arrives from the parser: folded, with the RFC's layout. */
	snprintf(hdr, sizeof(hdr),
	    "Digest\r\n    realm=\"http-auth@example.org\",\r\n"
	    "    qop=\"auth, auth-int\",\r\n    algorithm=%s,\r\n"
	    "    nonce=\"" RFC_NONCE "\",\r\n    opaque=\"" RFC_OPAQUE "\"",
	    alg);
	ch = must_parse(hdr);
	assert_true(ch.digest);
	assert_true(slice_eq_cstr(ch.realm, "http-auth@example.org"));
	assert_true(slice_eq_cstr(ch.qop, "auth, auth-int"));
	assert_true(slice_eq_cstr(ch.algorithm, alg));
	buf_init(out);
	assert_int_equal(sip_auth_respond(out, &ch, SLICE_LIT("GET"),
	                     SLICE_LIT("/dir/index.html"), "Mufasa",
	                     "Circle of Life", 1, RFC_CNONCE),
	    0);
	assert_int_equal(buf_append(out, "", 1), 0);
}

static void
test_rfc7616_md5(void **state)
{
	struct buf out;

	(void)state;
	rfc7616_answer("MD5", &out);
	assert_string_equal(out.p,
	    "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
	    "nonce=\"" RFC_NONCE "\", uri=\"/dir/index.html\", "
	    "response=\"8ca523f5e9506fed4657c9700eebdbec\", algorithm=MD5, "
	    "cnonce=\"" RFC_CNONCE "\", qop=auth, nc=00000001, "
	    "opaque=\"" RFC_OPAQUE "\"");
	buf_free(&out);
}

static void
test_rfc7616_sha256(void **state)
{
	struct buf out;
	struct sip_auth_params a;

	(void)state;
	rfc7616_answer("SHA-256", &out);
	a = must_parse(out.p);
	assert_true(
	    slice_eq_cstr(a.response, "753927fa0e85d155564e2e272a28d180"
	                              "2ca10daf4496794697cf8db5856cb6c1"));
	assert_true(slice_eq_cstr(a.algorithm, "SHA-256"));
	assert_true(slice_eq_cstr(a.qop, "auth"));
	assert_true(slice_eq_cstr(a.nc, "00000001"));
	assert_true(slice_eq_cstr(a.opaque, RFC_OPAQUE));
	buf_free(&out);
}

/* The Authorization example of RFC 7616 section 3.9.1 as a peer sends it. */
static void
test_rfc7616_parse_credentials(void **state)
{
	struct sip_auth_params a;
	enum sip_auth_alg alg;

	(void)state;
	a = must_parse("Digest username=\"Mufasa\",\r\n"
	               "    realm=\"http-auth@example.org\",\r\n"
	               "    uri=\"/dir/index.html\",\r\n"
	               "    algorithm=MD5,\r\n"
	               "    nonce=\"" RFC_NONCE "\",\r\n"
	               "    nc=00000001,\r\n"
	               "    cnonce=\"" RFC_CNONCE "\",\r\n"
	               "    qop=auth,\r\n"
	               "    response=\"8ca523f5e9506fed4657c9700eebdbec\",\r\n"
	               "    opaque=\"" RFC_OPAQUE "\"");
	assert_true(slice_eq_cstr(a.username, "Mufasa"));
	assert_true(slice_eq_cstr(a.uri, "/dir/index.html"));
	assert_true(slice_eq_cstr(a.nonce, RFC_NONCE));
	assert_true(slice_eq_cstr(a.cnonce, RFC_CNONCE));
	assert_true(slice_eq_cstr(a.nc, "00000001"));
	assert_true(slice_eq_cstr(a.qop, "auth"));
	assert_true(
	    slice_eq_cstr(a.response, "8ca523f5e9506fed4657c9700eebdbec"));
	assert_false(slice_isset(a.stale));
	assert_false(slice_isset(a.userhash));
	assert_int_equal(sip_auth_alg_parse(a.algorithm, &alg), 0);
	assert_int_equal(alg, SIP_AUTH_MD5);
}

/* RFC 2617 section 3.5, which RFC 3261 section 22.4 builds on. */
static void
test_rfc2617_md5(void **state)
{
	struct sip_auth_params ch, a;
	struct buf out;
	char ha1[SIP_AUTH_HEX_BUFSZ];

	(void)state;
	ch = must_parse("Digest realm=\"testrealm@host.com\", "
	                "qop=\"auth,auth-int\", "
	                "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	                "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
	buf_init(&out);
	assert_int_equal(sip_auth_respond(&out, &ch, SLICE_LIT("GET"),
	                     SLICE_LIT("/dir/index.html"), "Mufasa",
	                     "Circle Of Life", 1, "0a4f113b"),
	    0);
	buf_append(&out, "", 1);
	a = must_parse(out.p);
	assert_true(
	    slice_eq_cstr(a.response, "6629fae49393a05397450978507c4ef1"));
	assert_true(slice_eq_cstr(a.cnonce, "0a4f113b"));
	assert_true(
	    slice_eq_cstr(a.opaque, "5ccc069c403ebaf9f0171e9517f40e41"));
	buf_free(&out);

	assert_int_equal(sip_auth_ha1(SIP_AUTH_MD5, SLICE_LIT("Mufasa"),
	                     SLICE_LIT("testrealm@host.com"), "Circle Of Life",
	                     ha1, sizeof(ha1)),
	    0);
	assert_string_equal(ha1, "939e7578ed9e3c518a452acee763bce9");
	assert_int_equal(sip_auth_ha1(SIP_AUTH_SHA256, SLICE_LIT("Mufasa"),
	                     SLICE_LIT("http-auth@example.org"),
	                     "Circle of Life", ha1, sizeof(ha1)),
	    0);
	assert_string_equal(ha1, "7987c64c30e25f1b74be53f966b49b90"
	                         "f2808aa92faf9a00262392d7b4794232");
	assert_int_equal(sip_auth_ha1(SIP_AUTH_SHA256, SLICE_LIT("Mufasa"),
	                     SLICE_LIT("r"), "p", ha1, 64),
	    EINVAL);
}

/*
 * RFC 7616 section 3.9.2 (SHA-512-256, userhash) with the values of errata
 * 4897: the printed ones came from a draft SHA-512/256, not the standard.
 */
static void
test_rfc7616_sha512_256_userhash(void **state)
{
	struct sip_auth_params ch, a;
	struct buf out;

	(void)state;
	ch = must_parse(
	    "Digest\r\n realm=\"api@example.org\",\r\n"
	    " qop=\"auth\",\r\n algorithm=SHA-512-256,\r\n"
	    " nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\","
	    "\r\n opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\","
	    "\r\n charset=UTF-8,\r\n userhash=true");
	assert_true(slice_eq_cstr(ch.userhash, "true"));
	buf_init(&out);
	assert_int_equal(sip_auth_respond(&out, &ch, SLICE_LIT("GET"),
	                     SLICE_LIT("/doe.json"), "J\xc3\xa4s\xc3\xb8n Doe",
	                     "Secret, or not?", 1,
	                     "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v"),
	    0);
	buf_append(&out, "", 1);
	a = must_parse(out.p);
	assert_true(
	    slice_eq_cstr(a.username, "793263caabb707a56211940d90411ea4"
	                              "a575adeccb7e360aeb624ed06ece9b0b"));
	assert_true(
	    slice_eq_cstr(a.response, "3798d4131c277846293534c3edc11bd8"
	                              "a5e4cdcbff78b05db9d95eeb1cec68a5"));
	assert_true(slice_eq_cstr(a.userhash, "true"));
	assert_true(slice_eq_cstr(a.algorithm, "SHA-512-256"));
	buf_free(&out);
}

struct rig {
	struct sip_auth_server *srv;
	uint64_t now;
	struct buf chal; /* the last challenge value */
	struct buf cred; /* the last credentials value */
	struct sip_auth_params ch;
};

static void
rig_init(struct rig *r, const char *realm)
{
	memset(r, 0, sizeof(*r));
	r->now = 1000000;
	assert_int_equal(sip_auth_server_alloc(&r->srv, realm, 0), 0);
	sip_auth_server_set_clock(r->srv, fake_clock, &r->now);
	buf_init(&r->chal);
	buf_init(&r->cred);
}

static void
rig_free(struct rig *r)
{
	sip_auth_server_free(r->srv);
	buf_free(&r->chal);
	buf_free(&r->cred);
}

/* Challenges with alg and parses the challenge into r->ch. */
static void
rig_challenge(struct rig *r, enum sip_auth_alg alg, bool stale)
{
	buf_reset(&r->chal);
	assert_int_equal(sip_auth_challenge(r->srv, alg, stale, &r->chal), 0);
	assert_int_equal(buf_append(&r->chal, "", 1), 0);
	r->ch = must_parse(r->chal.p);
}

/* Answers r->ch as user with password; r->cred holds the value. */
static void
rig_answer(struct rig *r, const char *user, const char *password, uint32_t nc)
{
	buf_reset(&r->cred);
	assert_int_equal(
	    sip_auth_respond(&r->cred, &r->ch, SLICE_LIT("REGISTER"),
	        SLICE_LIT(RURI), user, password, nc, NULL),
	    0);
	assert_int_equal(buf_append(&r->cred, "", 1), 0);
}

static int
verify_text(struct rig *r, const char *cred, const char *method,
    const char *password, const char *ha1)
{
	struct sip_auth_params a;
	int err;

	if ((err = sip_auth_parse(&a, slice_cstr(cred))) != 0)
		return err;
	return sip_auth_verify(r->srv, &a, slice_cstr(method), password, ha1);
}

static int
verify_cred(struct rig *r, const char *password, const char *ha1)
{
	return verify_text(r, r->cred.p, "REGISTER", password, ha1);
}

static void
roundtrip(enum sip_auth_alg alg)
{
	struct rig r;
	char ha1[SIP_AUTH_HEX_BUFSZ];
	enum sip_auth_alg got;
	struct sip_auth_params a;
	size_t i;

	rig_init(&r, REALM);
	rig_challenge(&r, alg, false);
	assert_true(r.ch.digest);
	assert_true(slice_eq_cstr(r.ch.realm, REALM));
	assert_true(slice_eq_cstr(r.ch.qop, "auth"));
	assert_true(slice_isset(r.ch.nonce) && r.ch.nonce.n > 16);
	assert_true(slice_isset(r.ch.opaque) && r.ch.opaque.n > 0);
	assert_int_equal(sip_auth_alg_parse(r.ch.algorithm, &got), 0);
	assert_int_equal(got, alg);
	assert_false(sip_auth_is_stale(&r.ch));

	rig_answer(&r, "1001", "s3cret pass", 1);
	assert_int_equal(verify_cred(&r, "s3cret pass", NULL), 0);
	assert_int_equal(verify_cred(&r, "s3cret pasS", NULL), EACCES);
	assert_int_equal(verify_cred(&r, "", NULL), EACCES);
	/* The method is part of HA2. */
	assert_int_equal(
	    verify_text(&r, r.cred.p, "INVITE", "s3cret pass", NULL), EACCES);

	/* Stored HA1 instead of the password, in either case of hex. */
	assert_int_equal(sip_auth_ha1(alg, SLICE_LIT("1001"), SLICE_LIT(REALM),
	                     "s3cret pass", ha1, sizeof(ha1)),
	    0);
	assert_int_equal(strlen(ha1), sip_auth_alg_hexlen(alg));
	assert_int_equal(verify_cred(&r, NULL, ha1), 0);
	for (i = 0; ha1[i]; i++)
		if (ha1[i] >= 'a' && ha1[i] <= 'f')
			ha1[i] = (char)(ha1[i] - 'a' + 'A');
	assert_int_equal(verify_cred(&r, NULL, ha1), 0);
	ha1[0] = ha1[0] == '0' ? '1' : '0';
	assert_int_equal(verify_cred(&r, NULL, ha1), EACCES);
	/* HA1 of the wrong length is a caller bug. */
	ha1[10] = '\0';
	assert_int_equal(verify_cred(&r, NULL, ha1), EINVAL);
	assert_int_equal(verify_cred(&r, "s3cret pass", "00"), EINVAL);
	assert_int_equal(verify_cred(&r, NULL, NULL), EINVAL);

	/* Another user's response under the same nonce does not pass. */
	rig_answer(&r, "1002", "s3cret pass", 1);
	a = must_parse(r.cred.p);
	assert_true(slice_eq_cstr(a.username, "1002"));
	assert_int_equal(verify_cred(&r, "s3cret pass", NULL), 0);
	assert_int_equal(
	    sip_auth_verify(r.srv, &a, SLICE_LIT("REGISTER"), NULL, ha1),
	    EINVAL);

	/* Later requests on one nonce count up. */
	rig_answer(&r, "1001", "s3cret pass", 7);
	a = must_parse(r.cred.p);
	assert_true(slice_eq_cstr(a.nc, "00000007"));
	assert_int_equal(verify_cred(&r, "s3cret pass", NULL), 0);
	rig_free(&r);
}

static void
test_roundtrip_md5(void **state)
{
	(void)state;
	roundtrip(SIP_AUTH_MD5);
}

static void
test_roundtrip_sha256(void **state)
{
	(void)state;
	roundtrip(SIP_AUTH_SHA256);
}

static void
test_roundtrip_sha512_256(void **state)
{
	(void)state;
	roundtrip(SIP_AUTH_SHA512_256);
}

static void
test_nonces_differ(void **state)
{
	struct rig r;
	struct buf first;
	struct sip_auth_params a;

	(void)state;
	rig_init(&r, REALM);
	rig_challenge(&r, SIP_AUTH_SHA256, false);
	buf_init(&first);
	buf_append_slice(&first, r.ch.nonce);
	rig_challenge(&r, SIP_AUTH_SHA256, false);
	assert_false(slice_eq(buf_slice(&first), r.ch.nonce));
	buf_free(&first);

	/* A random cnonce each time, both accepted. */
	rig_answer(&r, "1001", "pw", 1);
	a = must_parse(r.cred.p);
	assert_int_equal(a.cnonce.n, 32);
	buf_init(&first);
	buf_append_slice(&first, a.cnonce);
	rig_answer(&r, "1001", "pw", 1);
	a = must_parse(r.cred.p);
	assert_false(slice_eq(buf_slice(&first), a.cnonce));
	assert_int_equal(verify_cred(&r, "pw", NULL), 0);
	buf_free(&first);
	rig_free(&r);
}

static void
test_expired_nonce(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r, REALM);
	rig_challenge(&r, SIP_AUTH_SHA256, false);
	rig_answer(&r, "1001", "pw", 1);
	r.now += SIP_AUTH_LIFETIME_DEFAULT;
	assert_int_equal(verify_cred(&r, "pw", NULL), 0);
	r.now += 1;
	assert_int_equal(verify_cred(&r, "pw", NULL), ETIMEDOUT);
	/* Stale is only for a right answer: a wrong one stays refused. */
	assert_int_equal(verify_cred(&r, "wrong", NULL), EACCES);
	/* A nonce issued in the future of the clock is not one of ours. */
	r.now -= 2 * SIP_AUTH_LIFETIME_DEFAULT;
	assert_int_equal(verify_cred(&r, "pw", NULL), EBADMSG);

	/* The re-challenge says stale, and its answer passes. */
	r.now += 10 * SIP_AUTH_LIFETIME_DEFAULT;
	rig_challenge(&r, SIP_AUTH_SHA256, true);
	assert_true(sip_auth_is_stale(&r.ch));
	assert_non_null(strstr(r.chal.p, ", stale=true"));
	rig_answer(&r, "1001", "pw", 1);
	assert_int_equal(verify_cred(&r, "pw", NULL), 0);
	rig_free(&r);

	/* A configured lifetime. */
	rig_init(&r, REALM);
	sip_auth_server_free(r.srv);
	assert_int_equal(sip_auth_server_alloc(&r.srv, REALM, 30), 0);
	sip_auth_server_set_clock(r.srv, fake_clock, &r.now);
	rig_challenge(&r, SIP_AUTH_MD5, false);
	rig_answer(&r, "1001", "pw", 1);
	r.now += 31;
	assert_int_equal(verify_cred(&r, "pw", NULL), ETIMEDOUT);
	rig_free(&r);
}

/* Replaces the first occurrence of from in s (same length) in place. */
static void
patch(char *s, const char *from, const char *to)
{
	char *p = strstr(s, from);

	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
}

static void
test_tampered_nonce(void **state)
{
	struct rig r, other;
	char *copy, *p;
	struct sip_auth_params a;
	struct buf cred;

	(void)state;
	rig_init(&r, REALM);
	rig_challenge(&r, SIP_AUTH_SHA256, false);
	rig_answer(&r, "1001", "pw", 1);
	assert_int_equal(verify_cred(&r, "pw", NULL), 0);

	/* One character of the nonce changed, in both copies. */
	copy = strdup(r.cred.p);
	assert_non_null(copy);
	p = strstr(copy, "nonce=\"") + 7;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(
	    verify_text(&r, copy, "REGISTER", "pw", NULL), EBADMSG);
	free(copy);

	/*
	 * A forged nonce answered correctly (as by someone who knows the
	 * password and wants a nonce that never expires): one salt character
	 * changed, opaque dropped so only the nonce tag can tell.
	 */
	copy = strdup(r.chal.p);
	assert_non_null(copy);
	p = strstr(copy, "nonce=\"") + 7 + 20;
	*p = *p == 'A' ? 'B' : 'A';
	r.ch = must_parse(copy);
	r.ch.opaque = SLICE_NULL;
	rig_answer(&r, "1001", "pw", 1);
	assert_int_equal(verify_cred(&r, "pw", NULL), EBADMSG);
	free(copy);
	rig_challenge(&r, SIP_AUTH_SHA256, false);
	rig_answer(&r, "1001", "pw", 1);

	/* Truncated, and not base64url at all. */
	a = must_parse(r.cred.p);
	a.nonce.n--;
	assert_int_equal(
	    sip_auth_verify(r.srv, &a, SLICE_LIT("REGISTER"), "pw", NULL),
	    EBADMSG);
	a = must_parse(r.cred.p);
	a.nonce = SLICE_LIT("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
	assert_int_equal(
	    sip_auth_verify(r.srv, &a, SLICE_LIT("REGISTER"), "pw", NULL),
	    EBADMSG);

	/* A nonce from another server (another key, same realm). */
	rig_init(&other, REALM);
	other.now = r.now;
	assert_int_equal(
	    verify_text(&other, r.cred.p, "REGISTER", "pw", NULL), EBADMSG);
	rig_free(&other);

	/*
	 * An SHA-256 nonce answered with MD5: the algorithm is bound into the
	 * nonce, so a downgrade fails even with the right password.
	 */
	r.ch.algorithm = SLICE_LIT("MD5");
	buf_init(&cred);
	assert_int_equal(sip_auth_respond(&cred, &r.ch, SLICE_LIT("REGISTER"),
	                     SLICE_LIT(RURI), "1001", "pw", 1, NULL),
	    0);
	buf_append(&cred, "", 1);
	assert_non_null(strstr(cred.p, "algorithm=MD5"));
	assert_int_equal(
	    verify_text(&r, cred.p, "REGISTER", "pw", NULL), EBADMSG);
	buf_free(&cred);

	/* A changed opaque; a dropped one is tolerated. */
	r.ch.algorithm = SLICE_LIT("SHA-256");
	rig_answer(&r, "1001", "pw", 1);
	a = must_parse(r.cred.p);
	a.opaque = SLICE_LIT("AAAAAAAAAAAAAAAA");
	assert_int_equal(
	    sip_auth_verify(r.srv, &a, SLICE_LIT("REGISTER"), "pw", NULL),
	    EBADMSG);
	a.opaque = SLICE_NULL;
	assert_int_equal(
	    sip_auth_verify(r.srv, &a, SLICE_LIT("REGISTER"), "pw", NULL), 0);
	rig_free(&r);
}

static void
test_wrong_realm(void **state)
{
	struct rig r;
	char *copy;

	(void)state;
	rig_init(&r, REALM);
	rig_challenge(&r, SIP_AUTH_SHA256, false);
	/* The client computed its answer for a realm of the same length. */
	r.ch.realm = SLICE_LIT("ngvoice.LAB");
	rig_answer(&r, "1001", "pw", 1);
	assert_int_equal(verify_cred(&r, "pw", NULL), EACCES);
	/* Realm text edited after the right computation. */
	r.ch.realm = SLICE_LIT(REALM);
	rig_answer(&r, "1001", "pw", 1);
	assert_int_equal(verify_cred(&r, "pw", NULL), 0);
	copy = strdup(r.cred.p);
	assert_non_null(copy);
	patch(copy, "realm=\"" REALM "\"", "realm=\"ngvoice.la\"\"");
	assert_int_equal(
	    verify_text(&r, copy, "REGISTER", "pw", NULL), EBADMSG);
	patch(copy, "realm=\"ngvoice.la\"\"", "realm=\"ngvoice.lax\"");
	assert_int_equal(verify_text(&r, copy, "REGISTER", "pw", NULL), EACCES);
	free(copy);
	rig_free(&r);
}

/* A realm that needs escaping travels both ways and still verifies. */
static void
test_escaped_realm(void **state)
{
	struct rig r;
	char out[64];
	size_t n;

	(void)state;
	rig_init(&r, "lab \"east\" \\ 1");
	rig_challenge(&r, SIP_AUTH_SHA256, false);
	assert_non_null(strstr(r.chal.p, "realm=\"lab \\\"east\\\" \\\\ 1\""));
	assert_int_equal(
	    sip_auth_unescape(r.ch.realm, out, sizeof(out), &n), 0);
	assert_string_equal(out, "lab \"east\" \\ 1");
	rig_answer(&r, "us\"er", "pw", 1);
	assert_non_null(strstr(r.cred.p, "username=\"us\\\"er\""));
	assert_int_equal(verify_cred(&r, "pw", NULL), 0);
	assert_int_equal(verify_cred(&r, "pW", NULL), EACCES);
	rig_free(&r);

	assert_int_equal(
	    sip_auth_server_alloc(&r.srv, "bad\r\nrealm", 0), EINVAL);
}

/* RFC 2069 style clients answer without qop, cnonce and nc. */
static void
test_no_qop(void **state)
{
	struct rig r;
	struct sip_auth_params a;

	(void)state;
	rig_init(&r, REALM);
	rig_challenge(&r, SIP_AUTH_MD5, false);
	r.ch.qop = SLICE_NULL;
	rig_answer(&r, "1001", "pw", 1);
	a = must_parse(r.cred.p);
	assert_false(slice_isset(a.qop));
	assert_false(slice_isset(a.cnonce));
	assert_false(slice_isset(a.nc));
	assert_int_equal(verify_cred(&r, "pw", NULL), 0);
	assert_int_equal(verify_cred(&r, "px", NULL), EACCES);
	sip_auth_server_require_qop(r.srv, true);
	assert_int_equal(verify_cred(&r, "pw", NULL), EACCES);
	rig_free(&r);
}

static void
test_malformed_credentials(void **state)
{
	struct rig r;
	struct sip_auth_params a, good;

	(void)state;
	rig_init(&r, REALM);
	rig_challenge(&r, SIP_AUTH_SHA256, false);
	rig_answer(&r, "1001", "pw", 1);
	good = must_parse(r.cred.p);
	assert_int_equal(
	    sip_auth_verify(r.srv, &good, SLICE_LIT("REGISTER"), "pw", NULL),
	    0);

#define REFUSE(field, val, want)                                               \
	do {                                                                   \
		a = good;                                                      \
		a.field = (val);                                               \
		assert_int_equal(sip_auth_verify(r.srv, &a,                    \
		                     SLICE_LIT("REGISTER"), "pw", NULL),       \
		    (want));                                                   \
	} while (0)

	REFUSE(response, SLICE_NULL, EBADMSG);
	REFUSE(username, SLICE_NULL, EBADMSG);
	REFUSE(username, SLICE_LIT("1002"), EACCES);
	REFUSE(realm, SLICE_NULL, EBADMSG);
	REFUSE(nonce, SLICE_NULL, EBADMSG);
	REFUSE(uri, SLICE_NULL, EBADMSG);
	REFUSE(uri, SLICE_LIT("sip:other.lab"), EACCES);
	REFUSE(nc, SLICE_NULL, EBADMSG);
	REFUSE(nc, SLICE_LIT("0000001"), EBADMSG);
	REFUSE(nc, SLICE_LIT("0000000g"), EBADMSG);
	REFUSE(nc, SLICE_LIT("00000002"), EACCES);
	REFUSE(cnonce, SLICE_NULL, EBADMSG);
	REFUSE(cnonce, SLICE_LIT(""), EBADMSG);
	REFUSE(qop, SLICE_LIT("auth-int"), EBADMSG);
	REFUSE(algorithm, SLICE_LIT("SHA-256-sess"), EBADMSG);
	REFUSE(algorithm, SLICE_LIT("SHA-512-256"), EBADMSG);
	REFUSE(userhash, SLICE_LIT("true"), EBADMSG);
	REFUSE(userhash, SLICE_LIT("false"), 0);
	REFUSE(response, SLICE_LIT("00"), EBADMSG);
	REFUSE(response,
	    SLICE_LIT(
	        "zz00000000000000000000000000000000000000000000000000000000000000"),
	    EBADMSG);
	REFUSE(response,
	    SLICE_LIT(
	        "0000000000000000000000000000000000000000000000000000000000000000"),
	    EACCES);
	REFUSE(digest, false, EBADMSG);
#undef REFUSE

	/* Upper-case hex in the response is the same response. */
	{
		char up[SIP_AUTH_HEX_BUFSZ];
		size_t i;

		for (i = 0; i < good.response.n; i++) {
			char c = good.response.p[i];
			up[i] = (c >= 'a' && c <= 'f') ? (char)(c - 32) : c;
		}
		a = good;
		a.response = slice_make(up, good.response.n);
		assert_int_equal(sip_auth_verify(r.srv, &a,
		                     SLICE_LIT("REGISTER"), "pw", NULL),
		    0);
	}
	assert_int_equal(
	    verify_text(&r, "NoOneKnowsThisScheme opaque-data=here", "REGISTER",
	        "pw", NULL),
	    EBADMSG);
	rig_free(&r);
}

static void
test_respond_refusals(void **state)
{
	struct sip_auth_params ch;
	struct buf out;
	char small[40];

	(void)state;
	buf_init(&out);
#define RESPOND(c, nc)                                                         \
	sip_auth_respond(&out, &(c), SLICE_LIT("REGISTER"), SLICE_LIT(RURI),   \
	    "u", "p", (nc), "abc")

	ch = must_parse("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"");
	assert_int_equal(RESPOND(ch, 1), ENOTSUP);
	ch = must_parse("Digest realm=\"r\", nonce=\"n\", algorithm=SHA3-256");
	assert_int_equal(RESPOND(ch, 1), ENOTSUP);
	ch = must_parse("Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess");
	assert_int_equal(RESPOND(ch, 1), ENOTSUP);
	ch = must_parse("Digest realm=\"r\", qop=auth");
	assert_int_equal(RESPOND(ch, 1), EBADMSG);
	ch = must_parse("Digest nonce=\"n\"");
	assert_int_equal(RESPOND(ch, 1), EBADMSG);
	ch = must_parse("Basic realm=\"r\"");
	assert_int_equal(RESPOND(ch, 1), EBADMSG);
	ch = must_parse("Digest realm=\"r\", nonce=\"n\", qop=\"auth\"");
	assert_int_equal(RESPOND(ch, 0), EINVAL);
	assert_int_equal(out.len, 0);
	assert_int_equal(RESPOND(ch, 0xffffffff), 0);
	assert_non_null(memmem(out.p, out.len, "nc=ffffffff", 11));
	buf_free(&out);

	/* A full buffer fails whole: nothing half-written stays. */
	buf_init_fixed(&out, small, sizeof(small));
	BUF_LIT(&out, "x");
	assert_int_equal(RESPOND(ch, 1), ENOMEM);
	assert_int_equal(out.len, 1);
#undef RESPOND
}

static void
test_challenge_format(void **state)
{
	struct rig r;
	char small[32];
	struct buf out;

	(void)state;
	rig_init(&r, REALM);
	rig_challenge(&r, SIP_AUTH_SHA256, false);
	assert_int_equal(
	    strncmp(r.chal.p, "Digest realm=\"" REALM "\", nonce=\"",
	        strlen("Digest realm=\"" REALM "\", nonce=\"")),
	    0);
	assert_non_null(strstr(r.chal.p, ", algorithm=SHA-256, qop=\"auth\""));
	assert_null(strstr(r.chal.p, "stale"));
	rig_challenge(&r, SIP_AUTH_SHA512_256, false);
	assert_non_null(strstr(r.chal.p, ", algorithm=SHA-512-256,"));
	rig_challenge(&r, SIP_AUTH_MD5, false);
	assert_non_null(strstr(r.chal.p, ", algorithm=MD5,"));

	assert_int_equal(
	    sip_auth_challenge(r.srv, (enum sip_auth_alg)7, false, &r.chal),
	    EINVAL);
	buf_init_fixed(&out, small, sizeof(small));
	assert_int_equal(
	    sip_auth_challenge(r.srv, SIP_AUTH_MD5, false, &out), ENOMEM);
	assert_int_equal(out.len, 0);
	rig_free(&r);
}

static void
test_parse_folded_quoted(void **state)
{
	struct sip_auth_params a;
	char out[64];
	size_t n;

	(void)state;
	a = must_parse("dIgEsT  realm = \"a \\\"quoted\\\" realm\" ,\r\n\t"
	               "nonce=abc/def+=,qop=\"auth, auth-int\" \r\n , "
	               "stale=TRUE, ,opaque=\"\",domain=\"sip:a sip:b\","
	               "charset=UTF-8,");
	assert_true(a.digest);
	assert_true(slice_eq_cstr(a.scheme, "dIgEsT"));
	assert_true(slice_eq_cstr(a.realm, "a \\\"quoted\\\" realm"));
	assert_int_equal(sip_auth_unescape(a.realm, out, sizeof(out), &n), 0);
	assert_string_equal(out, "a \"quoted\" realm");
	assert_int_equal(n, 16);
	assert_int_equal(sip_auth_unescape(a.realm, out, 16, &n), ENOSPC);
	assert_int_equal(sip_auth_unescape(a.realm, out, 17, &n), 0);
	assert_true(slice_eq_cstr(a.nonce, "abc/def+="));
	assert_true(sip_auth_qop_has(a.qop, "auth"));
	assert_true(sip_auth_qop_has(a.qop, "AUTH-INT"));
	assert_false(sip_auth_qop_has(a.qop, "auth-in"));
	assert_true(sip_auth_is_stale(&a));
	assert_true(slice_isset(a.opaque));
	assert_int_equal(a.opaque.n, 0);
	assert_false(slice_isset(a.username));

	/* A quoted string may itself hold a folded line. */
	a = must_parse("Digest realm=\"two\r\n lines\"");
	assert_true(slice_eq_cstr(a.realm, "two\r\n lines"));
	/* No parameters at all is still a Digest value. */
	a = must_parse("Digest");
	assert_true(a.digest);
	assert_int_equal(a.rest.n, 0);
}

/* RFC 4475 regaut01: an unknown scheme is not an error. */
static void
test_parse_unknown_scheme(void **state)
{
	struct sip_auth_params a;

	(void)state;
	a = must_parse("NoOneKnowsThisScheme opaque-data=here");
	assert_false(a.digest);
	assert_true(slice_eq_cstr(a.scheme, "NoOneKnowsThisScheme"));
	assert_true(slice_eq_cstr(a.rest, "opaque-data=here"));
	assert_false(slice_isset(a.opaque));
	a = must_parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	assert_false(a.digest);
	assert_true(slice_eq_cstr(a.rest, "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
}

static void
test_parse_errors(void **state)
{
	static const char *bad[] = {
	    "",
	    "   ",
	    "\"Digest\" realm=x",
	    "Digest,realm=x",
	    "Digest realm",
	    "Digest realm=",
	    "Digest realm=,nonce=x",
	    "Digest =x",
	    "Digest realm=\"open",
	    "Digest realm=\"a\"\"b\"",
	    "Digest realm=a b",
	    "Digest realm=a\\b",
	    "Digest realm=x nonce=y",
	    "Digest realm=x,\r\nnonce=y",
	    "Digest realm=\"a\rb\"",
	    "Digest realm=x, realm=y",
	    "Digest nonce=\"a\", NONCE=\"b\"",
	};
	struct sip_auth_params a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_auth_parse(&a, slice_cstr(bad[i])) != EBADMSG)
			fail_msg("parsed: \"%s\"", bad[i]);
	}
}

static void
test_algorithms(void **state)
{
	enum sip_auth_alg alg;

	(void)state;
	assert_int_equal(sip_auth_alg_parse(SLICE_NULL, &alg), 0);
	assert_int_equal(alg, SIP_AUTH_MD5);
	assert_int_equal(sip_auth_alg_parse(SLICE_LIT("sha-256"), &alg), 0);
	assert_int_equal(alg, SIP_AUTH_SHA256);
	assert_int_equal(sip_auth_alg_parse(SLICE_LIT("SHA-512-256"), &alg), 0);
	assert_int_equal(alg, SIP_AUTH_SHA512_256);
	assert_int_equal(
	    sip_auth_alg_parse(SLICE_LIT("MD5-sess"), &alg), ENOTSUP);
	assert_int_equal(sip_auth_alg_parse(SLICE_LIT(""), &alg), ENOTSUP);
	assert_string_equal(
	    sip_auth_alg_name(SIP_AUTH_SHA512_256), "SHA-512-256");
	assert_null(sip_auth_alg_name((enum sip_auth_alg)3));
	assert_int_equal(sip_auth_alg_hexlen(SIP_AUTH_MD5), 32);
	assert_int_equal(sip_auth_alg_hexlen(SIP_AUTH_SHA256), 64);
	assert_int_equal(sip_auth_alg_hexlen((enum sip_auth_alg)3), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7616_md5),
	    cmocka_unit_test(test_rfc7616_sha256),
	    cmocka_unit_test(test_rfc7616_parse_credentials),
	    cmocka_unit_test(test_rfc2617_md5),
	    cmocka_unit_test(test_rfc7616_sha512_256_userhash),
	    cmocka_unit_test(test_roundtrip_md5),
	    cmocka_unit_test(test_roundtrip_sha256),
	    cmocka_unit_test(test_roundtrip_sha512_256),
	    cmocka_unit_test(test_nonces_differ),
	    cmocka_unit_test(test_expired_nonce),
	    cmocka_unit_test(test_tampered_nonce),
	    cmocka_unit_test(test_wrong_realm),
	    cmocka_unit_test(test_escaped_realm),
	    cmocka_unit_test(test_no_qop),
	    cmocka_unit_test(test_malformed_credentials),
	    cmocka_unit_test(test_respond_refusals),
	    cmocka_unit_test(test_challenge_format),
	    cmocka_unit_test(test_parse_folded_quoted),
	    cmocka_unit_test(test_parse_unknown_scheme),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_algorithms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
