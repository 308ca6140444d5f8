/* Unit tests for SIP message parsing, framing, typed headers and the encoder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/enc.h"
#include "sip/msg.h"

static struct sip_msg m;
static const struct sip_limits lim_default = SIP_LIMITS_DEFAULT;

static char *
load(const char *file, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/rfc4475/%s", TORTURE_DIR, file);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(8192);
	*len = fread(buf, 1, 8192, f);
	fclose(f);
	return buf;
}

#define INVITE_TEXT                                                                        \
	"INVITE sip:2000@cucm.ngvoice.localhost SIP/2.0\r\n"                               \
	"Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK776asdhds;rport\r\n"                \
	"Via: SIP/2.0/UDP [::1]:5070;branch=z9hG4bKnashds8;received=::1\r\n"               \
	"Max-Forwards: 70\r\n"                                                             \
	"To: <sip:2000@cucm.ngvoice.localhost>\r\n"                                        \
	"From: \"Line 1001\" <sip:1001@cucm.ngvoice.localhost>;tag=1928301774\r\n"         \
	"Call-ID: a84b4c76e66710@pc33.ngvoice.localhost\r\n"                               \
	"CSeq: 314159 INVITE\r\n"                                                          \
	"Contact: <sip:1001@127.0.0.1:5070;transport=tls>;expires=60;q=0.5\r\n"            \
	"Diversion: \"Alice\" <sip:1020@cucm>;reason=no-answer;privacy=off;screen=yes\r\n" \
	"Call-Info: <sip:cucm>;method=\"NOTIFY;Event=telephone-event;Duration=500\"\r\n"   \
	"Event: message-summary;id=7\r\n"                                                  \
	"Subscription-State: active;expires=3600\r\n"                                      \
	"Expires: 120\r\n"                                                                 \
	"k: timer, replaces\r\n"                                                           \
	"Require: 100rel\r\n"                                                              \
	"User-Agent: ngvoice test\r\n"                                                     \
	"X-Custom: one\r\n"                                                                \
	"c: application/sdp\r\n"                                                           \
	"l: 5\r\n"                                                                         \
	"\r\n"                                                                             \
	"v=0\r\n"

static void
test_typed_access(void **state)
{
	(void)state;
	struct sip_perr err;
	const char *t = INVITE_TEXT;
	assert_int_equal(
	    sip_msg_parse(&m, t, strlen(t), true, &lim_default, &err), 0);
	assert_true(m.req);
	assert_true(slice_eq_cstr(m.method, "INVITE"));
	assert_true(slice_eq_cstr(m.ruri.user, "2000"));
	assert_true(slice_eq_cstr(m.via.transport, "TLS"));
	assert_true(slice_eq_cstr(m.via.branch, "z9hG4bK776asdhds"));
	assert_true(m.via.has_rport);
	assert_int_equal(m.via.port, 5061);
	assert_true(slice_eq_cstr(m.from.dname, "Line 1001"));
	assert_true(slice_eq_cstr(m.from.tag, "1928301774"));
	assert_false(slice_isset(m.to.tag));
	assert_int_equal(m.cseq.num, 314159);
	assert_int_equal(m.maxfwd, 70);
	assert_int_equal(m.expires, 120);
	assert_true(
	    slice_eq_cstr(m.callid, "a84b4c76e66710@pc33.ngvoice.localhost"));
	assert_true(slice_eq_cstr(m.ctype.subtype, "sdp"));
	assert_true(slice_eq_cstr(m.body, "v=0\r\n"));

	/* second Via through the value iterator */
	struct sip_values it;
	struct slice v;
	struct sip_via via;
	sip_values_init(&it, &m, SIP_HDR_VIA);
	assert_true(sip_values_next(&it, &v));
	assert_true(sip_values_next(&it, &v));
	assert_int_equal(sip_via_parse(&via, v), 0);
	assert_true(via.ipv6);
	assert_true(slice_eq_cstr(via.host, "::1"));
	assert_true(slice_eq_cstr(via.received, "::1"));
	assert_false(sip_values_next(&it, &v));

	struct sip_addr a;
	assert_int_equal(
	    sip_addr_parse(&a, sip_msg_hdr(&m, SIP_HDR_CONTACT)->val), 0);
	struct slice q;
	assert_int_equal(sip_param_get(a.params, "q", &q), 0);
	assert_true(slice_eq_cstr(q, "0.5"));
	assert_int_equal(a.uri.port, 5070);

	assert_int_equal(
	    sip_addr_parse(&a, sip_msg_hdr(&m, SIP_HDR_DIVERSION)->val), 0);
	assert_true(slice_eq_cstr(a.uri.user, "1020"));
	assert_int_equal(sip_param_get(a.params, "reason", &q), 0);
	assert_true(slice_eq_cstr(q, "no-answer"));

	assert_int_equal(
	    sip_addr_parse(&a, sip_msg_hdr(&m, SIP_HDR_CALL_INFO)->val), 0);
	assert_int_equal(sip_param_get(a.params, "method", &q), 0);
	assert_true(
	    slice_eq_cstr(q, "\"NOTIFY;Event=telephone-event;Duration=500\""));

	struct sip_event ev;
	assert_int_equal(
	    sip_event_parse(&ev, sip_msg_hdr(&m, SIP_HDR_EVENT)->val), 0);
	assert_true(slice_eq_cstr(ev.package, "message-summary"));
	assert_true(slice_eq_cstr(ev.id, "7"));
	struct sip_substate ss;
	assert_int_equal(sip_substate_parse(&ss,
	                     sip_msg_hdr(&m, SIP_HDR_SUBSCRIPTION_STATE)->val),
	    0);
	assert_true(slice_eq_cstr(ss.state, "active"));
	assert_int_equal(ss.expires, 3600);

	assert_true(sip_msg_has_token(&m, SIP_HDR_SUPPORTED, "replaces"));
	assert_false(sip_msg_has_token(&m, SIP_HDR_SUPPORTED, "100rel"));
	assert_true(sip_msg_has_token(&m, SIP_HDR_REQUIRE, "100rel"));
	assert_true(
	    slice_eq_cstr(sip_msg_hdr_byname(&m, "x-custom")->val, "one"));
	assert_true(slice_eq_cstr(
	    sip_msg_hdr_byname(&m, "User-Agent")->val, "ngvoice test"));
}

static void
test_wsinv_folding(void **state)
{
	(void)state;
	size_t len;
	struct sip_perr err;
	char *buf = load("wsinv.dat", &len);
	assert_int_equal(
	    sip_msg_parse(&m, buf, len, false, &lim_default, &err), 0);
	assert_true(slice_eq_cstr(m.to.tag, "1918181833n"));
	assert_true(slice_eq_cstr(m.from.tag, "98asjd8"));
	assert_int_equal(m.maxfwd, 68);
	assert_int_equal(m.cseq.num, 9);
	assert_true(slice_eq_cstr(m.cseq.method, "INVITE"));
	assert_true(slice_eq_cstr(m.via.transport, "UDP"));
	assert_true(slice_eq_cstr(m.via.branch, "390skdjuw"));
	assert_int_equal(m.count[SIP_HDR_VIA], 2);
	assert_int_equal(m.clen, 150);
	/* the folded Via header holds two values; the last branch folds after '=' */
	struct sip_values it;
	struct slice v;
	struct sip_via via;
	sip_values_init(&it, &m, SIP_HDR_VIA);
	int n = 0;
	while (sip_values_next(&it, &v)) {
		assert_int_equal(sip_via_parse(&via, v), 0);
		n++;
	}
	assert_int_equal(n, 3);
	assert_true(slice_eq_cstr(via.branch, "z9hG4bK30239"));
	assert_true(slice_eq_cstr(via.host, "192.168.255.111"));
	free(buf);
}

static void
test_torture_details(void **state)
{
	(void)state;
	size_t len;
	struct sip_perr err;
	char *buf;
	struct sip_addr a;
	struct slice v;

	/* 3.3.12: the parameter belongs to the Contact header */
	buf = load("cparam01.dat", &len);
	assert_int_equal(
	    sip_msg_parse(&m, buf, len, false, &lim_default, &err), 0);
	assert_int_equal(
	    sip_addr_parse(&a, sip_msg_hdr(&m, SIP_HDR_CONTACT)->val), 0);
	assert_int_equal(a.uri.params.n, 0);
	assert_int_equal(sip_param_get(a.params, "unknownparam", &v), 0);
	free(buf);
	/* 3.3.13: ... and here to the URI */
	buf = load("cparam02.dat", &len);
	assert_int_equal(
	    sip_msg_parse(&m, buf, len, false, &lim_default, &err), 0);
	assert_int_equal(
	    sip_addr_parse(&a, sip_msg_hdr(&m, SIP_HDR_CONTACT)->val), 0);
	assert_int_equal(sip_param_get(a.uri.params, "unknownparam", &v), 0);
	free(buf);
	/* 3.3.14: the escaped header stays in the contact URI */
	buf = load("regescrt.dat", &len);
	assert_int_equal(
	    sip_msg_parse(&m, buf, len, false, &lim_default, &err), 0);
	assert_int_equal(
	    sip_addr_parse(&a, sip_msg_hdr(&m, SIP_HDR_CONTACT)->val), 0);
	assert_true(a.uri.headers.n > 0);
	free(buf);
	/* 3.1.1.8: Content-Length governs; trailing octets ignored */
	buf = load("dblreq.dat", &len);
	assert_int_equal(
	    sip_msg_parse(&m, buf, len, false, &lim_default, &err), 0);
	assert_int_equal(m.body.n, 0);
	assert_true(m.len > (size_t)(m.body.p - m.buf) + 100);
	free(buf);
	/* 3.1.2.16 names the version */
	buf = load("badvers.dat", &len);
	assert_int_equal(
	    sip_msg_parse(&m, buf, len, false, &lim_default, &err), EBADMSG);
	assert_int_equal(err.status, 505);
	assert_true(err.can_reply);
	free(buf);
	/* 3.3.1 names what is missing */
	buf = load("insuf.dat", &len);
	assert_int_equal(
	    sip_msg_parse(&m, buf, len, false, &lim_default, &err), EBADMSG);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.reason, "Missing"));
	free(buf);
}

static void
test_frame(void **state)
{
	(void)state;
	const char *t = INVITE_TEXT;
	size_t tl = strlen(t), skip, ml;
	struct sip_perr err;
	char buf[4096];

	/* keep-alive CRLFs, then the message, then half of another */
	memcpy(buf, "\r\n\r\n", 4);
	memcpy(buf + 4, t, tl);
	memcpy(buf + 4 + tl, t, 40);
	assert_int_equal(
	    sip_msg_frame(buf, 4 + tl + 40, &lim_default, &skip, &ml, &err), 0);
	assert_int_equal(skip, 4);
	assert_int_equal(ml, tl);
	assert_int_equal(
	    sip_msg_frame(buf + 4 + tl, 40, &lim_default, &skip, &ml, &err),
	    ENODATA);
	/* body not complete yet */
	assert_int_equal(
	    sip_msg_frame(t, tl - 2, &lim_default, &skip, &ml, &err), ENODATA);
	assert_int_equal(
	    sip_msg_frame("\r\n", 2, &lim_default, &skip, &ml, &err), ENODATA);
	assert_int_equal(skip, 2);

	/* header section beyond the limit */
	struct sip_limits small = lim_default;
	small.max_header_bytes = 64;
	memset(buf, 'a', 100);
	assert_int_equal(
	    sip_msg_frame(buf, 100, &small, &skip, &ml, &err), EMSGSIZE);
	/* a body beyond the limit */
	const char *big =
	    "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999\r\n\r\n";
	assert_int_equal(
	    sip_msg_frame(big, strlen(big), &lim_default, &skip, &ml, &err),
	    EMSGSIZE);
	/* negative length loses framing */
	const char *neg = "OPTIONS sip:a@b SIP/2.0\r\nl: -5\r\n\r\n";
	assert_int_equal(
	    sip_msg_frame(neg, strlen(neg), &lim_default, &skip, &ml, &err),
	    EBADMSG);
}

static void
test_limits(void **state)
{
	(void)state;
	struct sip_limits lim = lim_default;
	struct sip_perr err;
	char buf[8192];
	size_t n = 0;

	n += (size_t)sprintf(buf + n,
	    "OPTIONS sip:a@b SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	    "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
	    "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n");
	for (int i = 0; i < 20; i++)
		n += (size_t)sprintf(buf + n, "X-H%d: v\r\n", i);
	n += (size_t)sprintf(buf + n, "\r\n");
	assert_int_equal(sip_msg_parse(&m, buf, n, false, &lim, &err), 0);
	lim.max_headers = 10;
	assert_int_equal(sip_msg_parse(&m, buf, n, false, &lim, &err), EBADMSG);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.reason, "header lines"));
	lim = lim_default;
	lim.max_start_line = 10;
	/* a request line over the limit: 414 naming it, with the headers
	 * read so that the answer can be built */
	assert_int_equal(sip_msg_parse(&m, buf, n, false, &lim, &err), EBADMSG);
	assert_int_equal(err.status, 414);
	assert_true(err.can_reply);
	assert_non_null(strstr(err.reason, "exceeds 10 bytes"));
	assert_int_equal(m.count[SIP_HDR_VIA], 1);
	{
		struct buf rb;
		buf_init(&rb);
		assert_int_equal(
		    sip_enc_reply(&rb, &m, err.status, err.reason, SLICE_NULL,
		        SLICE_NULL, SLICE_NULL, SLICE_NULL),
		    0);
		assert_non_null(
		    strstr(rb.p, "SIP/2.0 414 Request line exceeds"));
		assert_non_null(
		    memmem(rb.p, rb.len, "Via: SIP/2.0/UDP h;branch=", 26));
		buf_free(&rb);
	}
	/* a status line over the limit, or a line that never ends: dropped */
	assert_int_equal(sip_msg_parse(&m, "SIP/2.0 200 OK-very-long\r\n\r\n",
	                     28, false, &lim, &err),
	    EBADMSG);
	assert_int_equal(err.status, 0);
	assert_int_equal(
	    sip_msg_parse(&m, "OPTIONS sip:a@b SIP/2.0", 23, false, &lim, &err),
	    EBADMSG);
	assert_int_equal(err.status, 0);
	lim = lim_default;
	lim.max_header_bytes = 100;
	assert_int_equal(sip_msg_parse(&m, buf, n, false, &lim, &err), EBADMSG);
}

static void
test_reply(void **state)
{
	(void)state;
	const char *t = INVITE_TEXT;
	struct sip_perr err;
	struct buf b;
	static struct sip_msg r;

	assert_int_equal(
	    sip_msg_parse(&m, t, strlen(t), true, &lim_default, &err), 0);
	buf_init(&b);
	assert_int_equal(
	    sip_enc_reply(&b, &m, 486, NULL, SLICE_LIT("abc"),
	        SLICE_LIT("Retry-After: 30\r\n"), SLICE_NULL, SLICE_NULL),
	    0);
	assert_int_equal(
	    sip_msg_parse(&r, b.p, b.len, true, &lim_default, &err), 0);
	assert_false(r.req);
	assert_int_equal(r.scode, 486);
	assert_true(slice_eq_cstr(r.reason, "Busy Here"));
	assert_int_equal(r.count[SIP_HDR_VIA], 2);
	assert_true(slice_eq_cstr(r.to.tag, "abc"));
	assert_true(slice_eq(r.from.tag, m.from.tag));
	assert_true(slice_eq(r.callid, m.callid));
	assert_int_equal(r.cseq.num, 314159);
	assert_true(
	    slice_eq_cstr(sip_msg_hdr_byname(&r, "Retry-After")->val, "30"));
	assert_int_equal(r.clen, 0);
	buf_free(&b);

	/* RFC 3261 12.1.1: Record-Route comes back in a dialog-creating
	 * answer (not in 100 or a failure). */
	const char *rr = "INVITE sip:2000@cm SIP/2.0\r\n"
	                 "Via: SIP/2.0/TLS p1;branch=z9hG4bKa\r\n"
	                 "Record-Route: <sip:p2;lr>, <sip:p3;lr>\r\n"
	                 "Record-Route: <sip:p1;lr>\r\n"
	                 "From: <sip:1001@cm>;tag=f\r\nTo: <sip:2000@cm>\r\n"
	                 "Call-ID: rr\r\nCSeq: 1 INVITE\r\n"
	                 "Contact: <sip:1001@p0>\r\nMax-Forwards: 70\r\n"
	                 "Content-Length: 0\r\n\r\n";
	assert_int_equal(
	    sip_msg_parse(&m, rr, strlen(rr), true, &lim_default, &err), 0);
	static const uint16_t codes[] = {100, 180, 200, 486};
	for (size_t i = 0; i < 4; i++) {
		buf_init(&b);
		assert_int_equal(
		    sip_enc_reply(&b, &m, codes[i], NULL, SLICE_LIT("t"),
		        SLICE_NULL, SLICE_NULL, SLICE_NULL),
		    0);
		assert_int_equal(
		    sip_msg_parse(&r, b.p, b.len, true, &lim_default, &err), 0);
		bool want = codes[i] == 180 || codes[i] == 200;
		assert_int_equal(r.count[SIP_HDR_RECORD_ROUTE], want ? 2 : 0);
		if (want)
			assert_non_null(strstr(b.p,
			    "Record-Route: <sip:p2;lr>, <sip:p3;lr>\r\n"
			    "Record-Route: <sip:p1;lr>\r\n"));
		buf_free(&b);
	}

	/* a request with a bad CSeq still gets a 400 naming the problem */
	const char *bad = "OPTIONS sip:a@b SIP/2.0\r\n"
	                  "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	                  "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
	                  "Call-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
	assert_int_equal(
	    sip_msg_parse(&m, bad, strlen(bad), false, &lim_default, &err),
	    EBADMSG);
	assert_true(err.can_reply);
	buf_init(&b);
	sip_enc_reply(&b, &m, err.status, err.reason, SLICE_LIT("t1"),
	    SLICE_NULL, SLICE_NULL, SLICE_NULL);
	assert_int_equal(
	    sip_msg_parse(&r, b.p, b.len, false, &lim_default, &err), 0);
	assert_int_equal(r.scode, 400);
	assert_true(slice_eq_cstr(
	    r.reason, "CSeq method does not match request method"));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_typed_access),
	    cmocka_unit_test(test_wsinv_folding),
	    cmocka_unit_test(test_torture_details),
	    cmocka_unit_test(test_frame),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
