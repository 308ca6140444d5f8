/* Unit tests for lib/core: slices, buffers, addresses, secrets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/sa.h"
#include "core/secure.h"
#include "core/slice.h"

static void
test_slice(void **state)
{
	uint64_t v;
	char out[8];

	(void)state;
	assert_int_equal(slice_u64(SLICE_LIT("0009"), 100, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(slice_u64(SLICE_LIT("4294967295"), UINT32_MAX, &v), 0);
	assert_int_equal(
	    slice_u64(SLICE_LIT("4294967296"), UINT32_MAX, &v), ERANGE);
	assert_int_equal(
	    slice_u64(SLICE_LIT("18446744073709551616"), UINT64_MAX, &v),
	    ERANGE);
	assert_int_equal(slice_u64(SLICE_LIT(""), 10, &v), EBADMSG);
	assert_int_equal(slice_u64(SLICE_LIT("-1"), 10, &v), EBADMSG);
	assert_int_equal(slice_u64(SLICE_LIT("1 "), 10, &v), EBADMSG);
	assert_true(slice_eq(
	    slice_trim(SLICE_LIT(" \t\r\n ab \r\n")), SLICE_LIT("ab")));
	assert_true(slice_casecmp_eq(SLICE_LIT("Via"), SLICE_LIT("vIA")));
	assert_false(slice_eq(SLICE_LIT("Via"), SLICE_LIT("vIA")));
	slice_strlcpy(out, sizeof(out), SLICE_LIT("truncated"));
	assert_string_equal(out, "truncat");
	assert_int_equal(slice_chr(SLICE_LIT("a;b"), ';'), 1);
	assert_int_equal(slice_chr(SLICE_NULL, ';'), -1);
}

static void
test_buf(void **state)
{
	struct buf b;
	char mem[8];

	(void)state;
	buf_init(&b);
	for (int i = 0; i < 1000; i++)
		buf_append_u64(&b, 1234567890);
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.err, 0);
	buf_reset(&b);
	buf_append_u64(&b, 0);
	BUF_LIT(&b, "/");
	buf_append_u64(&b, UINT64_MAX);
	assert_int_equal(b.len, 22);
	assert_memory_equal(b.p, "0/18446744073709551615", 22);
	buf_free(&b);

	/* a fixed buffer never grows; the error sticks */
	buf_init_fixed(&b, mem, sizeof(mem));
	assert_int_equal(buf_append_str(&b, "1234"), 0);
	assert_int_equal(buf_append_str(&b, "56789"), ENOMEM);
	assert_int_equal(buf_append_str(&b, "x"), ENOMEM);
	assert_int_equal(b.len, 4);
	assert_int_equal(buf_printf(&b, "%d", 1), ENOMEM);
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%s-%d", "ab", 12), 0);
	assert_memory_equal(b.p, "ab-12", 5);
}

static void
test_sa(void **state)
{
	struct sa a, b;
	char s[SA_FMT_MAX];

	(void)state;
	assert_int_equal(sa_set_str(&a, "127.0.0.1", 5060), 0);
	assert_string_equal(sa_fmt(&a, s, sizeof(s)), "127.0.0.1:5060");
	assert_true(sa_is_loopback(&a));
	assert_int_equal(sa_set_str(&b, "::1", 5061), 0);
	assert_string_equal(sa_fmt(&b, s, sizeof(s)), "[::1]:5061");
	assert_true(sa_is_loopback(&b));
	assert_false(sa_eq(&a, &b));
	sa_set_port(&b, 5060);
	assert_int_equal(sa_port(&b), 5060);
	assert_int_equal(sa_set_str(&a, "not-an-ip", 1), EINVAL);
	assert_int_equal(sa_set(&a, SLICE_LIT("192.0.2.1"), 9), 0);
	assert_false(sa_is_loopback(&a));
	/* the IPv4 formatting without inet_ntop, at its edges */
	assert_int_equal(sa_set_str(&a, "0.0.0.0", 0), 0);
	assert_string_equal(sa_fmt(&a, s, sizeof(s)), "0.0.0.0:0");
	assert_int_equal(sa_set_str(&a, "255.255.255.255", 65535), 0);
	assert_string_equal(sa_fmt(&a, s, sizeof(s)), "255.255.255.255:65535");
	assert_string_equal(sa_ntop(&a, s, sizeof(s)), "255.255.255.255");
	assert_int_equal(sa_set_str(&a, "10.100.9.199", 10), 0);
	assert_string_equal(sa_fmt(&a, s, sizeof(s)), "10.100.9.199:10");
	{
		char small[8]; /* too small: cut, never overrun */
		sa_ntop(&a, small, sizeof(small));
		assert_true(strlen(small) < sizeof(small));
	}

	/* RFC 6761: .localhost names are loopback without any lookup */
	assert_int_equal(sa_resolve(&a, "cucm.ngvoice.localhost", 5061, 0), 0);
	assert_string_equal(sa_fmt(&a, s, sizeof(s)), "127.0.0.1:5061");
	assert_int_equal(
	    sa_resolve(&a, "CUC.NGVOICE.LOCALHOST.", 1, AF_INET6), 0);
	assert_string_equal(sa_fmt(&a, s, sizeof(s)), "[::1]:1");
	assert_int_equal(sa_resolve(&a, "[::1]", 7, 0), 0);
	assert_int_equal(sa_family(&a), AF_INET6);
	assert_int_equal(sa_resolve(&a, "", 7, 0), EINVAL);
	sa_set_str(&a, "10.0.0.1", 1);
	sa_set_str(&b, "10.0.0.1", 1);
	assert_int_equal(sa_hash(&a), sa_hash(&b));
	sa_set_port(&b, 2);
	assert_int_not_equal(sa_hash(&a), sa_hash(&b));
}

static void
test_secure(void **state)
{
	unsigned char k[32], z[32];

	(void)state;
	assert_true(secure_eq("abc", 3, "abc", 3));
	assert_false(secure_eq("abc", 3, "abd", 3));
	assert_false(secure_eq("abc", 3, "abcd", 4));
	assert_true(secure_eq(NULL, 0, NULL, 0));
	assert_int_equal(secure_random(k, sizeof(k)), 0);
	memset(z, 0, sizeof(z));
	assert_memory_not_equal(k, z, sizeof(k));
	secure_wipe(k, sizeof(k));
	assert_memory_equal(k, z, sizeof(k));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slice),
	    cmocka_unit_test(test_buf),
	    cmocka_unit_test(test_sa),
	    cmocka_unit_test(test_secure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
