/* RFC 4475: every torture message through the parser, outcome checked against expected.txt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/msg.h"
#include "torture_table.h"

static void
test_all(void **state)
{
	struct torture_case cases[64];
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	static struct sip_msg m;
	int n, failures = 0;

	(void)state;
	n = torture_load(TORTURE_DIR, cases, 64);
	assert_int_equal(n, 49);
	for (int i = 0; i < n; i++) {
		struct sip_perr err;
		size_t len;
		char *buf = torture_read(TORTURE_DIR, cases[i].file, &len);
		assert_non_null(buf);
		int rc = sip_msg_parse(&m, buf, len, false, &lim, &err);
		int got = rc == 0 ? 0 : (err.status ? err.status : -1);
		if (got != cases[i].parse) {
			fprintf(stderr, "%s: expected %d, got %d (%s)\n",
			    cases[i].file, cases[i].parse, got, err.reason);
			failures++;
		}
		if (rc != 0 && err.status)
			assert_true(err.reason[0] != '\0');
		free(buf);
	}
	assert_int_equal(failures, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
