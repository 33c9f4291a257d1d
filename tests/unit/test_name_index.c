/* The persistent name index (name_index.h): a version made from another
 * by name_index_clone and changed leaves the other exactly as it was,
 * shares every chunk a change did not touch, and versions can be freed in
 * any order (ASan counts the nodes and pages). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/dnsdata/dname.h"
#include "node/zone/name_index.h"
#include "node/zone/node.h"

/* A node holding nothing but its name "n<k>.test.": freed by the index
 * when its last page lets go of it (zone_node_release). */
static struct zone_node *node_of(uint32_t k)
{
	char label[16];
	int n = snprintf(label, sizeof(label), "n%u", k);
	size_t len = 1 + (size_t)n + 6;
	struct zone_node *nd = calloc(1, sizeof(*nd) + len);
	assert_non_null(nd);
	nd->name[0] = (uint8_t)n;
	memcpy(nd->name + 1, label, (size_t)n);
	memcpy(nd->name + 1 + n, "\004test\000", 6);
	nd->name_len = (uint8_t)len;
	return nd;
}

static struct zone_node *get(const struct name_index *ix, uint32_t k)
{
	struct zone_node *probe = node_of(k);
	struct zone_node *n =
	    name_index_get(ix, probe->name, probe->name_len,
			   dname_hash(probe->name, probe->name_len));
	free(probe);
	return n;
}

static void del(struct name_index *ix, uint32_t k)
{
	struct zone_node *probe = node_of(k);
	assert_int_equal(name_index_del(ix, probe->name, probe->name_len), 0);
	free(probe);
}

/* ix maps exactly the keys [0, n) with want[k] (NULL: absent). */
static void holds(const struct name_index *ix, struct zone_node *const *want,
		  uint32_t n)
{
	size_t count = 0;
	for (uint32_t k = 0; k < n; k++) {
		assert_ptr_equal(get(ix, k), want[k]);
		count += want[k] != NULL;
	}
	assert_int_equal(ix->count, count);
}

static size_t chunks_of(const struct name_index *ix)
{
	return ix->depth > NAME_INDEX_CHUNK_BITS
		   ? (size_t)1 << (ix->depth - NAME_INDEX_CHUNK_BITS)
		   : 1;
}

static void test_old_version_unchanged(void **state)
{
	(void)state;
	enum { N = 40000, MORE = 60000 };
	static struct zone_node *v0[N + MORE], *v1[N + MORE];
	struct name_index a, b;

	assert_int_equal(name_index_init(&a), 0);
	memset(v0, 0, sizeof(v0));
	for (uint32_t k = 0; k < N; k++) {
		v0[k] = node_of(k);
		assert_int_equal(name_index_put(&a, v0[k]), 0);
	}
	holds(&a, v0, N + MORE);
	assert_true(a.depth > NAME_INDEX_CHUNK_BITS); /* several chunks */

	/* One changed name: one chunk differs, every other is shared. */
	assert_int_equal(name_index_clone(&b, &a), 0);
	memcpy(v1, v0, sizeof(v1));
	v1[7] = node_of(7);
	assert_int_equal(name_index_put(&b, v1[7]), 0);
	size_t differ = 0;
	for (size_t c = 0; c < chunks_of(&a); c++)
		differ += a.chunk[c] != b.chunk[c];
	assert_int_equal(differ, 1);
	holds(&a, v0, N + MORE);
	holds(&b, v1, N + MORE);

	/* Deletes and enough new names to split pages and double the
	 * directory of b while a shares it. */
	for (uint32_t k = 100; k < 3000; k += 3) {
		del(&b, k);
		v1[k] = NULL;
	}
	for (uint32_t k = N; k < N + MORE; k++) {
		v1[k] = node_of(k);
		assert_int_equal(name_index_put(&b, v1[k]), 0);
	}
	assert_true(b.depth > a.depth);
	holds(&a, v0, N + MORE);
	holds(&b, v1, N + MORE);

	/* The old version goes first (the RCU thread frees it), the new
	 * one still holds everything it holds. */
	name_index_free(&a);
	holds(&b, v1, N + MORE);
	name_index_free(&b);
}

/* A chain of versions, one change each, all kept, then freed in a
 * scrambled order: each version answers as when it was made. */
static void test_chain_of_versions(void **state)
{
	(void)state;
	enum { N = 20000, VERSIONS = 64 };
	static struct zone_node *want[VERSIONS][N + VERSIONS];
	static struct name_index ix[VERSIONS];

	assert_int_equal(name_index_init(&ix[0]), 0);
	memset(want, 0, sizeof(want));
	for (uint32_t k = 0; k < N; k++) {
		want[0][k] = node_of(k);
		assert_int_equal(name_index_put(&ix[0], want[0][k]), 0);
	}
	for (int v = 1; v < VERSIONS; v++) {
		assert_int_equal(name_index_clone(&ix[v], &ix[v - 1]), 0);
		memcpy(want[v], want[v - 1], sizeof(want[v]));
		uint32_t k = (uint32_t)(v * 7919) % N;
		switch (v % 3) {
		case 0: /* replaced */
			want[v][k] = node_of(k);
			assert_int_equal(name_index_put(&ix[v], want[v][k]), 0);
			break;
		case 1: /* removed */
			if (want[v][k] != NULL)
				del(&ix[v], k);
			want[v][k] = NULL;
			break;
		default: /* added */
			want[v][N + v] = node_of(N + (uint32_t)v);
			assert_int_equal(name_index_put(&ix[v], want[v][N + v]),
					 0);
		}
	}
	for (int v = 0; v < VERSIONS; v++)
		holds(&ix[v], want[v], N + VERSIONS);
	for (int i = 0; i < VERSIONS; i++) {
		int v = (i * 37) % VERSIONS; /* 37 is prime to 64 */
		name_index_free(&ix[v]);
		for (int w = v + 1; w < VERSIONS && w < v + 4; w++) {
			if (ix[w].chunk != NULL)
				holds(&ix[w], want[w], N + VERSIONS);
		}
	}
}

/* name_index_put_new inserts a new name (through page splits and a
 * shared version's pages) and leaves a present one in place, not taking
 * the candidate. */
static void test_put_new(void **state)
{
	(void)state;
	enum { N = 30000 };
	static struct zone_node *want[N];
	struct name_index a, b;
	struct zone_node *found;

	assert_int_equal(name_index_init(&a), 0);
	for (uint32_t k = 0; k < N; k++) {
		want[k] = node_of(k);
		assert_int_equal(name_index_put_new(&a, want[k], &found), 0);
		assert_null(found);
	}
	holds(&a, want, N);
	assert_int_equal(name_index_clone(&b, &a), 0);
	for (uint32_t k = 0; k < N; k += 7) {
		struct zone_node *again = node_of(k);
		assert_int_equal(name_index_put_new(&b, again, &found), 0);
		assert_ptr_equal(found, want[k]);
		free(again); /* not taken */
	}
	holds(&a, want, N);
	holds(&b, want, N);
	name_index_free(&a);
	holds(&b, want, N);
	name_index_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_old_version_unchanged),
	    cmocka_unit_test(test_chain_of_versions),
	    cmocka_unit_test(test_put_new),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
