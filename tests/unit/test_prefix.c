/* The longest-prefix table (node/zone/prefix.h) against a brute-force
 * longest-prefix match: every address of a /16 under random networks, and
 * the ECS scope it reports is the shortest network of one value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "node/common/errcode.h"
#include "node/zone/prefix.h"

#define SPACE 65536u /* 10.0.0.0/16 */

static struct prefix_entry v4(uint32_t a, uint8_t len, uint32_t value)
{
	struct prefix_entry e = {.family = 4, .len = len, .value = value};
	e.addr[0] = (uint8_t)(a >> 24);
	e.addr[1] = (uint8_t)(a >> 16);
	e.addr[2] = (uint8_t)(a >> 8);
	e.addr[3] = (uint8_t)a;
	return e;
}

static uint32_t look4(const void *t, uint32_t a, uint8_t *scope)
{
	uint8_t b[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16),
			(uint8_t)(a >> 8), (uint8_t)a};
	return prefix_table_lookup(t, 4, b, scope);
}

/* The brute-force value of every address of the /16. */
static void naive(const struct prefix_entry *e, size_t n, uint32_t *v)
{
	for (uint32_t i = 0; i < SPACE; i++) {
		uint32_t a = 0x0A000000u | i;
		int best = -1;
		v[i] = PREFIX_NONE;
		for (size_t k = 0; k < n; k++) {
			uint32_t p = (uint32_t)e[k].addr[0] << 24 |
				     (uint32_t)e[k].addr[1] << 16 |
				     (uint32_t)e[k].addr[2] << 8 | e[k].addr[3];
			uint32_t m = e[k].len == 0 ? 0 : ~0u << (32 - e[k].len);
			if ((a & m) == (p & m) && (int)e[k].len > best) {
				best = e[k].len;
				v[i] = e[k].value;
			}
		}
	}
}

static void test_random_v4(void **state)
{
	(void)state;
	uint32_t *v = malloc(SPACE * sizeof(*v));
	uint32_t *changes = malloc((SPACE + 1) * sizeof(*changes));
	assert_non_null(v);
	assert_non_null(changes);
	srand(53);
	for (int round = 0; round < 20; round++) {
		struct prefix_entry e[40], copy[40];
		size_t n = 1 + (size_t)(rand() % 40);
		for (size_t k = 0; k < n; k++) {
			uint8_t len = (uint8_t)(16 + rand() % 17);
			/* Few values, so neighbouring ranges merge. */
			uint32_t a = 0x0A000000u | (uint32_t)(rand() % SPACE);
			e[k] =
			    v4(a & ~0u << (32 - len), len, (uint32_t)(k % 4));
			/* One network, one value: drop repeats. */
			for (size_t j = 0; j < k; j++)
				if (e[j].len == len &&
				    memcmp(e[j].addr, e[k].addr, 4) == 0)
					e[k].value = e[j].value;
		}
		memcpy(copy, e, sizeof(e));
		naive(e, n, v);
		void *t;
		size_t len;
		assert_int_equal(prefix_table_build(copy, n, &t, &len), 0);
		assert_int_equal(len % 8, 0);
		changes[0] = 0;
		for (uint32_t i = 1; i < SPACE; i++)
			changes[i] = changes[i - 1] + (v[i] != v[i - 1]);
		for (uint32_t i = 0; i < SPACE; i++) {
			uint8_t s;
			uint32_t a = 0x0A000000u | i;
			assert_int_equal(look4(t, a, &s), v[i]);
			if (s < 16) {
				/* The whole /16 is one value (then outside
				 * it differs unless it is NONE). */
				assert_int_equal(changes[SPACE - 1], 0);
				continue;
			}
			uint32_t m = ~0u << (32 - s), lo = (a & m) & 0xFFFF,
				 hi = lo | (~m & 0xFFFF);
			assert_int_equal(changes[hi] - changes[lo], 0);
			if (s > 16) {
				/* One bit shorter is not one value. */
				uint32_t m1 = ~0u << (33 - s);
				uint32_t lo1 = (a & m1) & 0xFFFF,
					 hi1 = lo1 | (~m1 & 0xFFFF);
				assert_true(changes[hi1] - changes[lo1] > 0);
			}
		}
		free(t);
	}
	free(v);
	free(changes);
}

static uint32_t look6(const void *t, const char *text, uint8_t *scope)
{
	uint8_t a[16];
	assert_int_equal(inet_pton(AF_INET6, text, a), 1);
	return prefix_table_lookup(t, 6, a, scope);
}

static struct prefix_entry v6(const char *text, uint8_t len, uint32_t value)
{
	struct prefix_entry e = {.family = 6, .len = len, .value = value};
	assert_int_equal(inet_pton(AF_INET6, text, e.addr), 1);
	return e;
}

static void test_v6_and_both_families(void **state)
{
	(void)state;
	struct prefix_entry e[] = {v6("2001:db8::", 32, 1),
				   v6("2001:db8:1::", 48, 2),
				   v4(0xC0000200u, 24, 7), /* 192.0.2.0/24 */
				   v6("::", 0, 9)};
	void *t;
	size_t len;
	assert_int_equal(prefix_table_build(e, 4, &t, &len), 0);
	uint8_t s;
	assert_int_equal(look6(t, "2001:db8:1::5", &s), 2);
	assert_int_equal(s, 48);
	/* Between 2001:db8:1::/48 and 2001:db9::: a /47 holds one value. */
	assert_int_equal(look6(t, "2001:db8:2::1", &s), 1);
	assert_int_equal(s, 47);
	assert_int_equal(look6(t, "2001:db8:0:ffff::1", &s), 1);
	assert_int_equal(s, 48);
	/* 2001:db0::/29 is all 9: 0db7 and 0db8 part after 28 bits. */
	assert_int_equal(look6(t, "2001:db7::1", &s), 9);
	assert_int_equal(s, 29);
	/* 8000::/1 is all 9. */
	assert_int_equal(look6(t, "ffff::1", &s), 9);
	assert_int_equal(s, 1);
	assert_int_equal(look4(t, 0xC0000263u, &s), 7);
	assert_int_equal(s, 24);
	assert_int_equal(look4(t, 0x08080808u, &s), PREFIX_NONE);
	assert_int_equal(s, 1);
	assert_int_equal(prefix_table_lookup(t, 5, e[0].addr, &s), PREFIX_NONE);
	assert_int_equal(s, 0);
	free(t);
}

static void test_edges(void **state)
{
	(void)state;
	void *t;
	size_t len;
	/* Empty: everything is NONE, scope 0. */
	assert_int_equal(prefix_table_build(NULL, 0, &t, &len), 0);
	uint8_t s = 99;
	assert_int_equal(look4(t, 0x01020304u, &s), PREFIX_NONE);
	assert_int_equal(s, 0);
	assert_int_equal(prefix_table_ranges(t), 2);
	free(t);
	/* Host bits are ignored; a /32 and the very last address. */
	struct prefix_entry e[] = {v4(0x0A0000FFu, 24, 1),
				   v4(0xFFFFFFFFu, 32, 2)};
	assert_int_equal(prefix_table_build(e, 2, &t, &len), 0);
	assert_int_equal(look4(t, 0x0A000001u, &s), 1);
	assert_int_equal(s, 24);
	assert_int_equal(look4(t, 0xFFFFFFFFu, &s), 2);
	assert_int_equal(s, 32);
	assert_int_equal(look4(t, 0xFFFFFFFEu, &s), PREFIX_NONE);
	assert_int_equal(s, 32);
	free(t);
	/* One network with two values, a bad length, a bad family. */
	struct prefix_entry d[] = {v4(0x0A000000u, 8, 1),
				   v4(0x0A000000u, 8, 2)};
	assert_int_equal(prefix_table_build(d, 2, &t, &len), Q53_EINVAL);
	struct prefix_entry b = v4(0, 33, 1);
	assert_int_equal(prefix_table_build(&b, 1, &t, &len), Q53_EINVAL);
	b = v4(0, 8, PREFIX_NONE);
	assert_int_equal(prefix_table_build(&b, 1, &t, &len), Q53_EINVAL);
	b.family = 5;
	b.value = 1;
	assert_int_equal(prefix_table_build(&b, 1, &t, &len), Q53_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_v4),
	    cmocka_unit_test(test_v6_and_both_families),
	    cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
