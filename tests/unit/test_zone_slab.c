/* The slab of a full zone build (node/zone/slab.h): objects from shared
 * chunks, 8-aligned, never overlapping; a chunk is returned exactly when
 * its last object is freed and its slab is done with it; the compiled
 * zone's nodes come from it. And the build's scratch memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/zone/slab.h"
#include "node/zone/zone.h"

#define NOBJ 20000

static void test_objects(void **state)
{
	(void)state;
	static uint8_t *obj[NOBJ];
	static size_t len[NOBJ];
	struct zone_slab s;
	size_t before = zone_slab_live_chunks();

	zone_slab_init(&s);
	for (size_t i = 0; i < NOBJ; i++) {
		len[i] = 1 + (i * 37) % 301; /* ~3 MB in all */
		obj[i] = zone_slab_alloc(&s, len[i]);
		assert_non_null(obj[i]);
		assert_int_equal((uintptr_t)obj[i] % 8, 0);
		memset(obj[i], (int)(i & 255), len[i]);
	}
	assert_true(s.chunks >= 3);
	assert_int_equal(zone_slab_live_chunks(), before + s.chunks);
	/* Nothing overwrote anything. */
	for (size_t i = 0; i < NOBJ; i++) {
		for (size_t k = 0; k < len[i]; k++)
			assert_int_equal(obj[i][k], i & 255);
	}
	/* Freeing every object of the full chunks returns them; the chunk
	 * being carved stays until zone_slab_finish. */
	for (size_t i = 0; i < NOBJ; i++)
		zone_slab_free(obj[i]);
	assert_int_equal(zone_slab_live_chunks(), before + 1);
	zone_slab_finish(&s);
	assert_int_equal(zone_slab_live_chunks(), before);
}

static void test_finish_first(void **state)
{
	(void)state;
	struct zone_slab s;
	size_t before = zone_slab_live_chunks();

	zone_slab_init(&s);
	void *a = zone_slab_alloc(&s, 24);
	void *b = zone_slab_alloc(&s, 40);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_equal((uint8_t *)b, (uint8_t *)a + 24); /* no header */
	zone_slab_finish(&s);
	/* The objects outlive the slab's use of their chunk. */
	assert_int_equal(zone_slab_live_chunks(), before + 1);
	zone_slab_free(a);
	assert_int_equal(zone_slab_live_chunks(), before + 1);
	zone_slab_free(b);
	assert_int_equal(zone_slab_live_chunks(), before);
	zone_slab_free(NULL);
}

static void test_large(void **state)
{
	(void)state;
	struct zone_slab s;
	size_t before = zone_slab_live_chunks();

	zone_slab_init(&s);
	uint8_t *small = zone_slab_alloc(&s, 16);
	/* Larger than a chunk: one of its own, returned with it. */
	size_t big_len = ZONE_SLAB_CHUNK * 2 + 5;
	uint8_t *big = zone_slab_alloc(&s, big_len);
	assert_non_null(small);
	assert_non_null(big);
	memset(big, 0xAB, big_len);
	uint8_t *after = zone_slab_alloc(&s, 16);
	/* The carved chunk goes on after a large object. */
	assert_ptr_equal(after, small + 16);
	assert_int_equal(zone_slab_live_chunks(), before + 2);
	zone_slab_free(big);
	assert_int_equal(zone_slab_live_chunks(), before + 1);
	zone_slab_free(small);
	zone_slab_free(after);
	zone_slab_finish(&s);
	assert_int_equal(zone_slab_live_chunks(), before);
}

static void test_zone_nodes(void **state)
{
	(void)state;
	static char text[64 * 5000 + 128];
	size_t len = (size_t)snprintf(text, sizeof(text),
				      "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n"
				      "@ NS ns1\nns1 A 192.0.2.1\n");
	for (int i = 0; i < 5000; i++)
		len +=
		    (size_t)snprintf(text + len, sizeof(text) - len,
				     "h%d A 10.0.%d.%d\n", i, i >> 8, i & 255);
	size_t before = zone_slab_live_chunks();
	struct zone *z = NULL;
	char err[256];
	assert_int_equal(zone_load_text(&z, "example.com.", text, len, "t", err,
					sizeof(err)),
			 0);
	/* The nodes, their data and answers are in chunks (~1 MB). */
	assert_true(zone_slab_live_chunks() > before);
	zone_release(z);
	assert_int_equal(zone_slab_live_chunks(), before);
	/* A zone that fails to load returns its chunks too. */
	const char bad[] = "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n"
			   "@ NS ns1\nwww CNAME a\nwww A 192.0.2.1\n";
	assert_int_not_equal(zone_load_text(&z, "example.com.", bad,
					    sizeof(bad) - 1, "t", err,
					    sizeof(err)),
			     0);
	assert_int_equal(zone_slab_live_chunks(), before);
}

static void test_scratch(void **state)
{
	(void)state;
	struct zone_scratch s;
	zone_scratch_init(&s);
	uint8_t *prev = NULL;
	for (size_t i = 0; i < 50000; i++) {
		size_t n = 1 + i % 97;
		uint8_t *p = zone_scratch_alloc(&s, n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 8, 0);
		memset(p, 0x5A, n);
		assert_true(p != prev);
		prev = p;
	}
	uint8_t *big = zone_scratch_alloc(&s, (size_t)3 << 20);
	assert_non_null(big);
	memset(big, 1, (size_t)3 << 20);
	zone_scratch_free(&s); /* ASan: nothing leaks */
	assert_null(s.block);
	assert_non_null(zone_scratch_alloc(&s, 8)); /* usable again */
	zone_scratch_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_objects), cmocka_unit_test(test_finish_first),
	    cmocka_unit_test(test_large),   cmocka_unit_test(test_zone_nodes),
	    cmocka_unit_test(test_scratch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
