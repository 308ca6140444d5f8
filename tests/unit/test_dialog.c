/* Unit tests for dialogs: creation, route sets, matching, CSeq and in-dialog requests. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sip/dialog.h"

static const struct sip_limits lim = SIP_LIMITS_DEFAULT;
static struct sip_msg req, resp, m;

static const char invite[] =
    "INVITE sip:2000@cucm.ngvoice.localhost SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKinv1\r\n"
    "Max-Forwards: 70\r\n"
    "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
    "Record-Route: <sip:p3.example.com;lr>\r\n"
    "From: <sip:1001@cucm.ngvoice.localhost>;tag=alice\r\n"
    "To: <sip:2000@cucm.ngvoice.localhost>\r\n"
    "Call-ID: dlg-1@127.0.0.1\r\n"
    "CSeq: 10 INVITE\r\n"
    "Contact: <sip:1001@127.0.0.1:5070;transport=tls>\r\n"
    "Content-Length: 0\r\n\r\n";

static const char ok200[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKinv1\r\n"
    "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
    "Record-Route: <sip:p3.example.com;lr>\r\n"
    "From: <sip:1001@cucm.ngvoice.localhost>;tag=alice\r\n"
    "To: <sip:2000@cucm.ngvoice.localhost>;tag=bob\r\n"
    "Call-ID: dlg-1@127.0.0.1\r\n"
    "CSeq: 10 INVITE\r\n"
    "Contact: <sip:vm@127.0.0.2:5061;transport=tls>\r\n"
    "Content-Length: 0\r\n\r\n";

static void
parse(struct sip_msg *out, const char *s)
{
	struct sip_perr err;
	assert_int_equal(sip_msg_parse(out, s, strlen(s), true, &lim, &err), 0);
}

static void
parse_buf(struct sip_msg *out, const struct buf *b)
{
	struct sip_perr err;
	assert_int_equal(sip_msg_parse(out, b->p, b->len, true, &lim, &err), 0);
}

static void
test_uac(void **state)
{
	struct sip_dialog *d;
	struct sip_req_spec sp;
	struct buf b;

	(void)state;
	parse(&req, invite);
	parse(&resp, ok200);
	assert_int_equal(
	    sip_dialog_uac(&d, &req, &resp, SIP_PROTO_TLS, NULL), 0);
	assert_string_equal(d->ltag, "alice");
	assert_string_equal(d->rtag, "bob");
	assert_string_equal(d->target, "sip:vm@127.0.0.2:5061;transport=tls");
	/* UAC route set: the response's Record-Route reversed */
	assert_string_equal(d->routes, "<sip:p3.example.com;lr>, "
	                               "<sip:p2.example.com;lr>, "
	                               "<sip:p1.example.com;lr>");

	memset(&sp, 0, sizeof(sp));
	sp.method = "BYE";
	sp.proto = SIP_PROTO_TLS;
	sp.via_host = SLICE_LIT("127.0.0.1");
	sp.via_port = 5061;
	sp.branch = "z9hG4bKbye1";
	buf_init(&b);
	struct sip_uri hop;
	char hopbuf[128];
	assert_int_equal(
	    sip_dialog_request(d, &b, &sp, &hop, hopbuf, sizeof(hopbuf)), 0);
	parse_buf(&m, &b);
	/* loose routing: target in the Request-URI, next hop is p3 */
	assert_true(
	    slice_eq_cstr(m.ruri_s, "sip:vm@127.0.0.2:5061;transport=tls"));
	assert_true(slice_eq_cstr(hop.host, "p3.example.com"));
	assert_int_equal(m.cseq.num, 11);
	assert_true(slice_eq_cstr(m.from.tag, "alice"));
	assert_true(slice_eq_cstr(m.to.tag, "bob"));
	assert_true(slice_eq_cstr(m.callid, "dlg-1@127.0.0.1"));
	assert_int_equal(m.count[SIP_HDR_ROUTE], 1);
	buf_free(&b);

	/* ACK reuses the INVITE's CSeq */
	sp.method = "ACK";
	buf_init(&b);
	assert_int_equal(sip_dialog_request(d, &b, &sp, NULL, NULL, 0), 0);
	parse_buf(&m, &b);
	assert_int_equal(m.cseq.num, 10);
	assert_true(slice_eq_cstr(m.cseq.method, "ACK"));
	buf_free(&b);

	/* a response in this dialog matches, from another does not */
	assert_true(sip_dialog_match(d, &resp));
	sip_dialog_free(d);
}

static void
test_uas_and_strict_routing(void **state)
{
	struct sip_dialog *d;
	struct sip_req_spec sp;
	struct buf b;
	static const char inv_strict[] =
	    "INVITE sip:2000@cuc SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKs1\r\n"
	    "Record-Route: <sip:strict.example.com>\r\n"
	    "From: <sip:1001@cucm>;tag=caller\r\n"
	    "To: <sip:2000@cuc>\r\n"
	    "Call-ID: dlg-2\r\n"
	    "CSeq: 5 INVITE\r\n"
	    "Contact: <sip:1001@127.0.0.1:5070>\r\n"
	    "Content-Length: 0\r\n\r\n";

	(void)state;
	parse(&req, inv_strict);
	assert_int_equal(
	    sip_dialog_uas(&d, &req, "callee", SIP_PROTO_UDP, NULL), 0);
	assert_string_equal(d->lhdr, "<sip:2000@cuc>;tag=callee");
	assert_string_equal(d->routes, "<sip:strict.example.com>");

	memset(&sp, 0, sizeof(sp));
	sp.method = "BYE";
	sp.proto = SIP_PROTO_UDP;
	sp.via_host = SLICE_LIT("127.0.0.1");
	sp.branch = "z9hG4bKbye2";
	buf_init(&b);
	assert_int_equal(sip_dialog_request(d, &b, &sp, NULL, NULL, 0), 0);
	parse_buf(&m, &b);
	/* strict routing: the route is the Request-URI, the target goes last */
	assert_true(slice_eq_cstr(m.ruri_s, "sip:strict.example.com"));
	assert_true(slice_eq_cstr(
	    sip_msg_hdr(&m, SIP_HDR_ROUTE)->val, "<sip:1001@127.0.0.1:5070>"));
	assert_true(slice_eq_cstr(m.from.tag, "callee"));
	assert_true(slice_eq_cstr(m.to.tag, "caller"));
	assert_int_equal(m.cseq.num, 1); /* our own CSeq space */
	buf_free(&b);

	/* in-dialog requests: match by tags, CSeq must not go backwards */
	static const char bye_in[] =
	    "BYE sip:2000@127.0.0.1 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKb3\r\n"
	    "From: <sip:1001@cucm>;tag=caller\r\n"
	    "To: <sip:2000@cuc>;tag=callee\r\n"
	    "Call-ID: dlg-2\r\n"
	    "CSeq: 4 BYE\r\n"
	    "Content-Length: 0\r\n\r\n";
	parse(&m, bye_in);
	assert_true(sip_dialog_match(d, &m));
	assert_int_equal(sip_dialog_check_rseq(d, &m), EPROTO);
	static const char bye_other[] =
	    "BYE sip:2000@127.0.0.1 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKb4\r\n"
	    "From: <sip:1001@cucm>;tag=caller\r\n"
	    "To: <sip:2000@cuc>;tag=someone-else\r\n"
	    "Call-ID: dlg-2\r\n"
	    "CSeq: 6 BYE\r\n"
	    "Content-Length: 0\r\n\r\n";
	parse(&m, bye_other);
	assert_false(sip_dialog_match(d, &m));
	sip_dialog_free(d);
}

static void
test_errors_and_dest(void **state)
{
	struct sip_dialog *d;
	struct sip_uri u;
	struct sa a;
	enum sip_proto p;

	(void)state;
	/* a 200 without a To tag cannot make a dialog */
	static const char notag[] =
	    "SIP/2.0 200 OK\r\n"
	    "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKinv1\r\n"
	    "From: <sip:1001@cucm>;tag=alice\r\nTo: <sip:2000@cucm>\r\n"
	    "Call-ID: x\r\nCSeq: 10 INVITE\r\nContact: <sip:a@b>\r\n"
	    "Content-Length: 0\r\n\r\n";
	parse(&req, invite);
	parse(&resp, notag);
	assert_int_equal(
	    sip_dialog_uac(&d, &req, &resp, SIP_PROTO_TLS, NULL), EBADMSG);

	assert_int_equal(
	    sip_uri_parse(&u, SLICE_LIT("sips:cuc.ngvoice.localhost")), 0);
	assert_int_equal(sip_uri_dest(&u, &a, &p), 0);
	assert_int_equal(p, SIP_PROTO_TLS);
	assert_int_equal(sa_port(&a), 5061);
	assert_true(sa_is_loopback(&a));
	assert_int_equal(
	    sip_uri_parse(&u, SLICE_LIT("sip:[::1]:5070;transport=tcp")), 0);
	assert_int_equal(sip_uri_dest(&u, &a, &p), 0);
	assert_int_equal(p, SIP_PROTO_TCP);
	assert_int_equal(sa_family(&a), AF_INET6);
	assert_int_equal(sa_port(&a), 5070);
	assert_int_equal(
	    sip_uri_parse(&u, SLICE_LIT("sip:a@127.0.0.1;transport=sctp")), 0);
	assert_int_equal(sip_uri_dest(&u, &a, &p), EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uac),
	    cmocka_unit_test(test_uas_and_strict_routing),
	    cmocka_unit_test(test_errors_and_dest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
