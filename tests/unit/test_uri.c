/* Unit tests for the SIP URI parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sip/uri.h"

static struct sip_uri
must_parse(const char *s)
{
	struct sip_uri u;
	assert_int_equal(sip_uri_parse(&u, slice_cstr(s)), 0);
	return u;
}

static void
test_full(void **state)
{
	(void)state;
	struct sip_uri u = must_parse(
	    "sips:alice:secret@atlanta.example.com:5071;transport=tls;lr"
	    "?subject=project%20x&priority=urgent");
	assert_int_equal(u.scheme, SIP_URI_SIPS);
	assert_true(slice_eq_cstr(u.user, "alice"));
	assert_true(slice_eq_cstr(u.password, "secret"));
	assert_true(slice_eq_cstr(u.host, "atlanta.example.com"));
	assert_int_equal(u.port, 5071);
	assert_true(slice_eq_cstr(u.params, ";transport=tls;lr"));
	assert_true(
	    slice_eq_cstr(u.headers, "subject=project%20x&priority=urgent"));
	struct slice v;
	assert_int_equal(sip_param_get(u.params, "transport", &v), 0);
	assert_true(slice_eq_cstr(v, "tls"));
	assert_int_equal(sip_param_get(u.params, "lr", &v), 0);
	assert_int_equal(v.n, 0);
	assert_int_equal(sip_param_get(u.params, "maddr", &v), ENOENT);
	assert_int_equal(sip_uri_port(&u), 5071);
}

static void
test_ipv6_and_defaults(void **state)
{
	(void)state;
	struct sip_uri u = must_parse("sip:[2001:db8::10]:5070");
	assert_true(u.ipv6);
	assert_true(slice_eq_cstr(u.host, "2001:db8::10"));
	assert_int_equal(u.port, 5070);
	u = must_parse("sip:[::1]");
	assert_int_equal(sip_uri_port(&u), 5060);
	u = must_parse("sips:cucm.ngvoice.localhost");
	assert_int_equal(sip_uri_port(&u), 5061);
	assert_int_equal(u.user.n, 0);
}

static void
test_phone_and_escapes(void **state)
{
	(void)state;
	char out[64];
	size_t n;
	struct sip_uri u =
	    must_parse("sip:+1-212-555-1212:1234@gateway.com;user=phone");
	assert_true(slice_eq_cstr(u.user, "+1-212-555-1212"));
	assert_true(slice_eq_cstr(u.password, "1234"));
	u = must_parse("sip:user;par=u%40example.net@example.com");
	assert_true(slice_eq_cstr(u.user, "user;par=u%40example.net"));
	assert_int_equal(sip_unescape(u.user, out, sizeof(out), &n), 0);
	assert_string_equal(out, "user;par=u@example.net");
	u = must_parse("sip:%61lice%00x@example.com");
	assert_int_equal(sip_unescape(u.user, out, sizeof(out), &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(out[5], '\0');
	u = must_parse("tel:+16505552222;phone-context=example.com");
	assert_int_equal(u.scheme, SIP_URI_TEL);
	assert_true(slice_eq_cstr(u.user, "+16505552222"));
	u = must_parse("soap.beep://192.0.2.103:3002");
	assert_int_equal(u.scheme, SIP_URI_OTHER);
}

static void
test_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "sip:",
	    "sip:user@",
	    "<sip:a@b>",
	    "sip:a b@c",
	    "sip:a@b:0",
	    "sip:a@b:70000",
	    "sip:a@b;",
	    "sip:a@b;=x",
	    "sip:a@b?",
	    "sip:a@[::1",
	    "sip:a%4@b",
	    "sip:a@b c",
	    "1sip:a@b",
	    ":abc",
	    "sip:a@b;lr ",
	    "sip:@b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sip_uri u;
		if (sip_uri_parse(&u, slice_cstr(bad[i])) != EBADMSG)
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void
test_compare(void **state)
{
	(void)state;
	struct sip_uri a, b;
	/* RFC 3261 19.1.4 examples of equal URIs. */
	a = must_parse("sip:%61lice@atlanta.com;transport=TCP");
	b = must_parse("sip:alice@AtLanTa.CoM;Transport=tcp");
	assert_true(sip_uri_eq(&a, &b));
	a = must_parse("sip:carol@chicago.com");
	b = must_parse("sip:carol@chicago.com;newparam=5");
	assert_true(sip_uri_eq(&a, &b));
	/* and unequal ones */
	a = must_parse("sip:alice@atlanta.com");
	b = must_parse("sip:ALICE@atlanta.com");
	assert_false(sip_uri_eq(&a, &b));
	a = must_parse("sip:bob@biloxi.com");
	b = must_parse("sip:bob@biloxi.com:5060");
	assert_false(sip_uri_eq(&a, &b));
	a = must_parse("sip:carol@chicago.com;security=on");
	b = must_parse("sip:carol@chicago.com;security=off");
	assert_false(sip_uri_eq(&a, &b));
	a = must_parse("sip:bob@biloxi.com;transport=udp");
	b = must_parse("sip:bob@biloxi.com");
	assert_false(sip_uri_eq(&a, &b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_ipv6_and_defaults),
	    cmocka_unit_test(test_phone_and_escapes),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
