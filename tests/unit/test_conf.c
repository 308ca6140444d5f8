/* Unit tests for the configuration reader: syntax, binding, and errors with file:line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf.h"

struct trunk {
	char *security_profile;
	bool srtp_allowed;
	unsigned significant_digits;
	uint16_t port;
	int mode;
	char **destination;
};

static const char *const modes[] = {
    "Non Secure", "Authenticated", "Encrypted", NULL};

static const struct conf_field trunk_fields[] = {
    {.key = "security_profile",
        .type = CONF_STR,
        .offset = offsetof(struct trunk, security_profile),
        .required = true},
    {.key = "srtp_allowed",
        .type = CONF_BOOL,
        .offset = offsetof(struct trunk, srtp_allowed),
        .def = "no"},
    {.key = "significant_digits",
        .type = CONF_UINT,
        .offset = offsetof(struct trunk, significant_digits),
        .min = 0,
        .max = 99,
        .def = "99"},
    {.key = "port",
        .type = CONF_PORT,
        .offset = offsetof(struct trunk, port),
        .def = "5061"},
    {.key = "device_security_mode",
        .type = CONF_ENUM,
        .offset = offsetof(struct trunk, mode),
        .names = modes,
        .def = "Encrypted"},
    {.key = "destination",
        .type = CONF_LIST,
        .offset = offsetof(struct trunk, destination)},
};
#define NF (sizeof(trunk_fields) / sizeof(trunk_fields[0]))

static const char good[] =
    "# the guide's trunk\n"
    "[enterprise]\n"
    "tls_ciphers = All Ciphers RSA Preferred\n"
    "\n"
    "[sip-trunk \"CUCv11\"]\n"
    "  security_profile = \"cuc-secure-profile-EDCS\"\n"
    "srtp_allowed = Yes\n"
    "device_security_mode = encrypted\n"
    "destination = cuc.ngvoice.localhost:5061, 127.0.0.2:5061\n"
    "destination = [::1]:5061\n"
    "; a comment\n"
    "quoted = \"a \\\"b\\\" \\\\ c\"   \n";

static void
test_parse_and_bind(void **state)
{
	struct conf *c;
	struct conf_err err;
	struct trunk t;

	(void)state;
	assert_int_equal(
	    conf_parse(&c, "cm.conf", good, strlen(good), &err), 0);
	assert_int_equal(c->nsecs, 2);
	const struct conf_section *e = conf_find(c, "enterprise", NULL);
	assert_non_null(e);
	assert_string_equal(e->items[0].val, "All Ciphers RSA Preferred");
	const struct conf_section *s = conf_find(c, "sip-trunk", "cucv11");
	assert_non_null(s);
	assert_int_equal(s->line, 5);
	assert_string_equal(s->items[5].val, "a \"b\" \\ c");

	/* the unknown 'quoted' option is refused with its line */
	memset(&t, 0, sizeof(t));
	assert_int_equal(conf_bind(c, s, trunk_fields, NF, &t, &err), EINVAL);
	assert_int_equal(err.line, 12);
	assert_non_null(strstr(err.msg, "unknown option 'quoted'"));
	conf_unbind(trunk_fields, NF, &t);
	conf_free(c);

	/* without it, everything binds */
	char text[sizeof(good)];
	memcpy(text, good, sizeof(good));
	*strstr(text, "quoted") = '#';
	assert_int_equal(
	    conf_parse(&c, "cm.conf", text, strlen(text), &err), 0);
	s = conf_find(c, "sip-trunk", "CUCv11");
	memset(&t, 0, sizeof(t));
	assert_int_equal(conf_bind(c, s, trunk_fields, NF, &t, &err), 0);
	assert_string_equal(t.security_profile, "cuc-secure-profile-EDCS");
	assert_true(t.srtp_allowed);
	assert_int_equal(t.significant_digits, 99);
	assert_int_equal(t.port, 5061);
	assert_int_equal(t.mode, 2);
	assert_string_equal(t.destination[0], "cuc.ngvoice.localhost:5061");
	assert_string_equal(t.destination[1], "127.0.0.2:5061");
	assert_string_equal(t.destination[2], "[::1]:5061");
	assert_null(t.destination[3]);
	conf_unbind(trunk_fields, NF, &t);
	conf_free(c);
}

struct bad {
	const char *text;
	unsigned line;
	const char *msg;
};

static void
test_syntax_errors(void **state)
{
	static const struct bad cases[] = {
	    {"[a]\nkey value\n", 2, "expected 'key = value'"},
	    {"key = v\n", 1, "outside of any [section]"},
	    {"[a\n", 1, "missing ']'"},
	    {"[A]\n", 1, "bad section header"},
	    {"[a \"x]\n", 1, "unterminated"},
	    {"[a \"\"]\n", 1, "empty"},
	    {"[a] x\n", 1, "text after"},
	    {"[a]\nKey = 1\n", 2, "bad option name 'Key'"},
	    {"[a]\nk = \"open\n", 2, "unterminated quoted value"},
	    {"[a]\nk = \"v\" x\n", 2, "after the closing quote"},
	    {"[a \"n\"]\n[b]\n[a \"N\"]\n", 3,
	        "defined twice (first at line 1)"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *c = NULL;
		struct conf_err err;
		char buf[400];
		assert_int_equal(conf_parse(&c, "x.conf", cases[i].text,
		                     strlen(cases[i].text), &err),
		    EBADMSG);
		assert_null(c);
		if (err.line != cases[i].line ||
		    strstr(err.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: got '%s'", i,
			    conf_err_str(&err, buf, sizeof(buf)));
	}
	/* a NUL byte is refused, not truncated */
	struct conf *c = NULL;
	struct conf_err err;
	assert_int_equal(
	    conf_parse(&c, "x.conf", "[a]\nk = a\0b\n", 11, &err), EBADMSG);
	assert_int_equal(err.line, 2);
}

static void
test_bind_errors(void **state)
{
	static const struct bad cases[] = {
	    {"[t]\nsecurity_profile = p\nsrtp_allowed = maybe\n", 3,
	        "expected yes or no"},
	    {"[t]\nsecurity_profile = p\nsignificant_digits = 100\n", 3,
	        "from 0 to 99"},
	    {"[t]\nsecurity_profile = p\nport = 0\n", 3, "port from 1"},
	    {"[t]\nsecurity_profile = p\ndevice_security_mode = secure\n", 3,
	        "expected one of 'Non Secure', 'Authenticated', 'Encrypted'"},
	    {"[t]\nsrtp_allowed = no\n", 1, "[t] needs security_profile"},
	    {"[t]\nsecurity_profile = a\nsecurity_profile = b\n", 3,
	        "set twice in [t] (first at line 2)"},
	    {"[t]\nsecurity_profile = p\nsrtp_alowed = yes\n", 3,
	        "unknown option 'srtp_alowed' in [t] (did you mean "
	        "'srtp_allowed'?)"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *c = NULL;
		struct conf_err err;
		struct trunk t;
		char buf[400];
		assert_int_equal(conf_parse(&c, "cm.conf", cases[i].text,
		                     strlen(cases[i].text), &err),
		    0);
		memset(&t, 0, sizeof(t));
		assert_int_equal(
		    conf_bind(c, &c->secs[0], trunk_fields, NF, &t, &err),
		    EINVAL);
		conf_err_str(&err, buf, sizeof(buf));
		if (err.line != cases[i].line ||
		    strstr(err.msg, cases[i].msg) == NULL ||
		    strncmp(buf, "cm.conf:", 8) != 0)
			fail_msg("case %zu: got '%s'", i, buf);
		conf_unbind(trunk_fields, NF, &t);
		conf_free(c);
	}
}

static void
test_load(void **state)
{
	struct conf *c;
	struct conf_err err;
	char buf[400];

	(void)state;
	assert_int_equal(conf_load(&c, "/nonexistent/ngv.conf", &err), ENOENT);
	conf_err_str(&err, buf, sizeof(buf));
	assert_string_equal(buf,
	    "/nonexistent/ngv.conf: cannot open: No such file or directory");
	FILE *f = fopen("/tmp/ngv-test-conf.conf", "w");
	assert_non_null(f);
	fputs("[general]\r\nrecording_format = wav\r\n", f);
	fclose(f);
	assert_int_equal(conf_load(&c, "/tmp/ngv-test-conf.conf", &err), 0);
	assert_string_equal(c->secs[0].items[0].val, "wav");
	conf_free(c);
	remove("/tmp/ngv-test-conf.conf");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_bind),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_bind_errors),
	    cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
