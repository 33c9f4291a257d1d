/* The container of a zone's record sets (zone_store_sets: blocks under a
 * directory, forks copied on write) against a plain sorted array, and the
 * zone store over it: large zones keep canonical order through many
 * changes, and a failing batch in the middle of a large zone leaves it
 * byte-for-byte as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/zone_store.h"
#include "node/control/zone_store_sets.h"
#include "node/dnsdata/rrtype.h"

#define ZID "Z0123456789ABC"

/* --- the container alone: sets keyed by their ttl --- */

static uint64_t rnd_state = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state % n);
}

static int ttl_cmp(const void *key, const struct zone_store_rrset *s)
{
	uint32_t k = *(const uint32_t *)key;
	return k == s->ttl ? 0 : (k < s->ttl ? -1 : 1);
}

static struct zone_store_rrset *set_of(uint32_t key)
{
	struct zone_store_rrset *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->ttl = key;
	return s;
}

/* The reference: a sorted array of pointers. */
struct ref {
	struct zone_store_rrset **v;
	size_t n;
};

static size_t ref_lower_bound(const struct ref *r, uint32_t key)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->v[mid]->ttl < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void ref_copy(struct ref *dst, const struct ref *src, size_t cap)
{
	dst->v = malloc(cap * sizeof(*dst->v));
	assert_non_null(dst->v);
	memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	dst->n = src->n;
}

/* q holds exactly r's pointers, in order, and its directory agrees. */
static void same(const struct zone_store_sets *q, const struct ref *r)
{
	assert_int_equal(zone_store_sets_count(q), r->n);
	size_t total = 0;
	for (size_t b = 0; b < q->nblocks; b++) {
		assert_int_equal(q->dir[b].start, total);
		assert_true(q->dir[b].block->n > 0);
		assert_true(q->dir[b].block->n <= ZONE_STORE_SETS_BLOCK);
		total += q->dir[b].block->n;
	}
	assert_int_equal(total, r->n);
	for (size_t i = 0; i < r->n; i++)
		assert_ptr_equal(zone_store_sets_at(q, i), r->v[i]);
	for (size_t i = 0; i + 1 < r->n; i++)
		assert_true(r->v[i]->ttl < r->v[i + 1]->ttl);
}

/* One random insert (of a key not held) or remove on both. */
static void random_op(struct zone_store_sets *q, struct ref *r,
		      struct ref *garbage, uint32_t keys)
{
	uint32_t key = rnd(keys);
	size_t pos = zone_store_sets_lower_bound(q, ttl_cmp, &key);
	assert_int_equal(pos, ref_lower_bound(r, key));
	if (pos < r->n && r->v[pos]->ttl == key) {
		if (rnd(4) == 0) {
			/* Replace with an equal key. */
			struct zone_store_rrset *s = set_of(key);
			assert_int_equal(zone_store_sets_replace(q, pos, s), 0);
			garbage->v[garbage->n++] = r->v[pos];
			r->v[pos] = s;
			return;
		}
		assert_int_equal(zone_store_sets_remove(q, pos), 0);
		garbage->v[garbage->n++] = r->v[pos];
		memmove(&r->v[pos], &r->v[pos + 1],
			(r->n - pos - 1) * sizeof(*r->v));
		r->n--;
		return;
	}
	struct zone_store_rrset *s = set_of(key);
	assert_int_equal(zone_store_sets_insert(q, pos, s), 0);
	memmove(&r->v[pos + 1], &r->v[pos], (r->n - pos) * sizeof(*r->v));
	r->v[pos] = s;
	r->n++;
}

static void free_sets(struct ref *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	r->n = 0;
}

static void test_sets_against_sorted_array(void **state)
{
	(void)state;
	enum { KEYS = 20000, OPS = 30000, ROUNDS = 40, ROUND_OPS = 300 };
	struct zone_store_sets q;
	struct ref r = {malloc(KEYS * sizeof(*r.v)), 0};
	/* Sets a committed round displaced (kept until the end: the aborted
	 * rounds' references must stay valid), and a round's own. */
	struct ref gone = {malloc((OPS + ROUNDS * ROUND_OPS) * sizeof(*r.v)),
			   0};
	struct ref made = {malloc(ROUND_OPS * sizeof(*r.v)), 0};
	assert_non_null(r.v);
	assert_non_null(gone.v);
	assert_non_null(made.v);

	zone_store_sets_init(&q);
	/* Built in order (a load), then changed in place. */
	for (uint32_t k = 0; k < KEYS; k += 2) {
		r.v[r.n] = set_of(k);
		assert_int_equal(zone_store_sets_push(&q, r.v[r.n]), 0);
		r.n++;
	}
	same(&q, &r);
	for (size_t i = 0; i < OPS; i++) {
		random_op(&q, &r, &gone, KEYS);
		if (i % 1000 == 0)
			same(&q, &r);
	}
	same(&q, &r);

	/* Batches: a fork takes ROUND_OPS changes, then commits or aborts;
	 * an abort leaves the base exactly as it was. */
	for (int round = 0; round < ROUNDS; round++) {
		struct zone_store_sets fork;
		struct ref before, work, dropped = {0};
		ref_copy(&before, &r, KEYS);
		ref_copy(&work, &r, KEYS);
		dropped.v = malloc(ROUND_OPS * sizeof(*dropped.v));
		assert_non_null(dropped.v);
		assert_int_equal(zone_store_sets_fork(&fork, &q), 0);
		size_t nins = 0;
		for (int i = 0; i < ROUND_OPS; i++) {
			size_t had = work.n;
			random_op(&fork, &work, &dropped, KEYS);
			nins += work.n > had;
		}
		same(&fork, &work);
		same(&q, &before); /* the base never moved */
		bool commit = round % 2 == 0;
		if (commit) {
			zone_store_sets_commit(&q, &fork);
			free(r.v);
			r = work;
			for (size_t k = 0; k < dropped.n; k++)
				gone.v[gone.n++] = dropped.v[k];
		} else {
			zone_store_sets_abort(&fork);
			/* The sets the round made are in work, not in r. */
			made.n = 0;
			for (size_t k = 0; k < work.n; k++) {
				size_t p = ref_lower_bound(&r, work.v[k]->ttl);
				if (p == r.n || r.v[p] != work.v[k])
					made.v[made.n++] = work.v[k];
			}
			/* Replaced ones of the round are in dropped but
			 * not in r either. */
			for (size_t k = 0; k < dropped.n; k++) {
				size_t p =
				    ref_lower_bound(&r, dropped.v[k]->ttl);
				if (p == r.n || r.v[p] != dropped.v[k])
					made.v[made.n++] = dropped.v[k];
			}
			(void)nins;
			free_sets(&made);
			free(work.v);
		}
		same(&q, &r);
		free(before.v);
		free(dropped.v);
	}
	zone_store_sets_free(&q);
	free_sets(&r);
	free_sets(&gone);
	free(r.v);
	free(gone.v);
	free(made.v);
}

/* Removing every set, then filling again, through forks. */
static void test_sets_empty_and_refill(void **state)
{
	(void)state;
	enum { N = 3 * ZONE_STORE_SETS_BLOCK + 7 };
	struct zone_store_sets q, fork;
	struct zone_store_rrset *sets[N];
	zone_store_sets_init(&q);
	for (uint32_t k = 0; k < N; k++) {
		sets[k] = set_of(k);
		assert_int_equal(zone_store_sets_push(&q, sets[k]), 0);
	}
	/* An aborted fork that empties the sequence. */
	assert_int_equal(zone_store_sets_fork(&fork, &q), 0);
	while (zone_store_sets_count(&fork) > 0)
		assert_int_equal(zone_store_sets_remove(&fork, 0), 0);
	assert_int_equal(fork.nblocks, 0);
	zone_store_sets_abort(&fork);
	assert_int_equal(zone_store_sets_count(&q), N);
	for (uint32_t k = 0; k < N; k++)
		assert_ptr_equal(zone_store_sets_at(&q, k), sets[k]);
	/* A committed one. */
	assert_int_equal(zone_store_sets_fork(&fork, &q), 0);
	for (uint32_t k = N; k-- > 0;)
		assert_int_equal(zone_store_sets_remove(&fork, k), 0);
	zone_store_sets_commit(&q, &fork);
	assert_int_equal(zone_store_sets_count(&q), 0);
	uint32_t key = 5;
	assert_int_equal(zone_store_sets_lower_bound(&q, ttl_cmp, &key), 0);
	/* Refilled back to front (every insert at position 0). */
	for (uint32_t k = N; k-- > 0;)
		assert_int_equal(zone_store_sets_insert(&q, 0, sets[k]), 0);
	for (uint32_t k = 0; k < N; k++)
		assert_ptr_equal(zone_store_sets_at(&q, k), sets[k]);
	zone_store_sets_free_all(&q);
}

/* --- the zone store over it --- */

static void create(struct zone_store *s)
{
	static const char *const NS[] = {"ns1.quorum53.test",
					 "ns2.quorum53.test."};
	char err[512];
	struct zone_store_create_params p = {.id = ZID,
					     .name = "example.com",
					     .nameservers = NS,
					     .nnameservers = 2};
	if (zone_store_create(s, &p, err, sizeof(err)) != 0)
		fail_msg("create: %s", err);
}

/* Wire name "h<k>.example.com." and the A record 10.<k>. */
struct host {
	uint8_t owner[64];
	size_t len;
	uint8_t a[4];
	struct rrset_rdata rd;
};

static void host(struct host *h, uint32_t k, uint8_t last)
{
	char label[16];
	int n = snprintf(label, sizeof(label), "h%u", k);
	h->owner[0] = (uint8_t)n;
	memcpy(h->owner + 1, label, (size_t)n);
	memcpy(h->owner + 1 + n, "\007example\003com\000", 13);
	h->len = 1 + (size_t)n + 13;
	h->a[0] = 10;
	h->a[1] = (uint8_t)(k >> 8);
	h->a[2] = (uint8_t)k;
	h->a[3] = last;
	h->rd = (struct rrset_rdata){h->a, 4};
}

static struct rrset_change change_of(enum change_action action,
				     const struct host *h)
{
	return (struct rrset_change){.action = action,
				     .set = {.owner = h->owner,
					     .owner_len = h->len,
					     .type = RRTYPE_A,
					     .ttl = 300,
					     .rdata = &h->rd,
					     .nrdata = 1}};
}

static int apply(struct zone_store *s, const struct rrset_change *c, size_t n,
		 char *err, size_t errlen)
{
	struct rrset_batch b = {.changes = c, .nchanges = n};
	return zone_store_apply(s, ZID, &b, err, errlen);
}

/* Every set's pointer and bytes, in order (the zone as a snapshot sees
 * it, and which allocation holds each set). */
static char *witness(const struct zone_store *s, size_t *len)
{
	struct zone_store_info info;
	char *p = NULL;
	FILE *f = open_memstream(&p, len);
	assert_non_null(f);
	assert_int_equal(zone_store_get(s, ZID, &info), 0);
	fprintf(f, "%u %zu\n", info.serial, info.nrrsets);
	for (size_t k = 0; k < info.nrrsets; k++) {
		const struct zone_store_rrset *r =
		    zone_store_info_rrset(&info, k);
		fprintf(f, "%p ", (const void *)r);
		fwrite(r->owner, 1, r->owner_len, f);
		fprintf(f, " %u %u %u", r->type, r->ttl, r->count);
		for (uint16_t j = 0; j < r->count; j++)
			fwrite(r->rdata[j].data, 1, r->rdata[j].len, f);
		fputc('\n', f);
	}
	fclose(f);
	return p;
}

/* Sets of the zone are in canonical order: comparing owner names with
 * the store's own rule is what the store does; here a zone of one label
 * below the origin orders by that label (RFC 4034 6.1: shorter first,
 * then bytes). */
static void check_order(const struct zone_store *s)
{
	struct zone_store_info info;
	assert_int_equal(zone_store_get(s, ZID, &info), 0);
	const struct zone_store_rrset *prev = NULL;
	for (size_t k = 0; k < info.nrrsets; k++) {
		const struct zone_store_rrset *r =
		    zone_store_info_rrset(&info, k);
		if (prev != NULL && prev->owner_len > 13 && r->owner_len > 13) {
			size_t la = prev->owner[0], lb = r->owner[0];
			size_t m = la < lb ? la : lb;
			int c = memcmp(prev->owner + 1, r->owner + 1, m);
			assert_true(
			    c < 0 || (c == 0 && la < lb) ||
			    (c == 0 && la == lb && prev->type < r->type));
		}
		prev = r;
	}
}

static void test_large_zone_batches(void **state)
{
	(void)state;
	enum { N = 6000, ROUNDS = 400 };
	struct zone_store s;
	char err[4096];
	static bool present[N];
	struct host h[3];

	zone_store_init(&s);
	create(&s);
	/* Filled in random order, a few per batch. */
	memset(present, 0, sizeof(present));
	size_t held = 0;
	for (uint32_t i = 0; i < 3 * N; i++) {
		uint32_t k = rnd(N);
		host(&h[0], k, 1);
		struct rrset_change c = change_of(
		    present[k] ? CHANGE_DELETE : CHANGE_CREATE, &h[0]);
		if (apply(&s, &c, 1, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		held += present[k] ? (size_t)-1 : 1;
		present[k] = !present[k];
	}
	struct zone_store_info info;
	assert_int_equal(zone_store_get(&s, ZID, &info), 0);
	assert_int_equal(info.nrrsets, held + 2);
	check_order(&s);

	/* Failing batches: valid changes around one that fails (a DELETE
	 * of a set not there, or a CREATE of one there) leave the zone as
	 * it was, every set where it was. */
	for (int round = 0; round < ROUNDS; round++) {
		size_t before_len, after_len;
		char *before = witness(&s, &before_len);
		uint32_t a = rnd(N), bad = rnd(N), c = rnd(N);
		if (a == bad || c == bad || a == c)
			continue;
		host(&h[0], a, 1);
		host(&h[1], bad, 1);
		host(&h[2], c, 1);
		struct rrset_change ch[3] = {
		    change_of(present[a] ? CHANGE_DELETE : CHANGE_UPSERT,
			      &h[0]),
		    change_of(present[bad] ? CHANGE_CREATE : CHANGE_DELETE,
			      &h[1]),
		    change_of(CHANGE_UPSERT, &h[2]),
		};
		assert_int_equal(apply(&s, ch, 3, err, sizeof(err)),
				 Q53_EINVAL);
		assert_non_null(strstr(err, "change 1: "));
		assert_null(strstr(err, "change 0: "));
		char *after = witness(&s, &after_len);
		assert_int_equal(before_len, after_len);
		assert_memory_equal(before, after, before_len);
		free(before);
		free(after);
		/* Then the valid part alone goes through. */
		struct rrset_change ok[2] = {ch[0], ch[2]};
		if (apply(&s, ok, 2, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		present[a] = !present[a];
		present[c] = true;
	}
	check_order(&s);
	held = 0;
	for (uint32_t k = 0; k < N; k++)
		held += present[k];
	assert_int_equal(zone_store_get(&s, ZID, &info), 0);
	assert_int_equal(info.nrrsets, held + 2);
	zone_store_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sets_against_sorted_array),
	    cmocka_unit_test(test_sets_empty_and_refill),
	    cmocka_unit_test(test_large_zone_batches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
