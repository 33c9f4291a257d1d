/* node/raft/fsm_log.c: entry framing, exactly-once sessions, snapshot /
 * restore symmetry, and allocation failure on demand (house style #15):
 * a seeded failing raft_heap makes any allocation of the adapter or the
 * FSM fail; every failed call must leave the state untouched and every
 * successful one must match a reference that never failed; nothing leaks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>

#include "node/common/errcode.h"
#include "tests/unit/support/fsm_counter.h"
#include "node/raft/fsm_log.h"

/* --- failing heap ------------------------------------------------------- */

static struct {
	uint64_t rng;
	unsigned fail_permille; /* 0: never */
	long outstanding;
	unsigned long failures;
} heap;

static bool heap_fail(void)
{
	uint64_t z;

	if (heap.fail_permille == 0)
		return false;
	z = (heap.rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	if (z % 1000 < heap.fail_permille) {
		heap.failures++;
		return true;
	}
	return false;
}

static void *heap_malloc(void *data, size_t size)
{
	void *p;

	(void)data;
	if (heap_fail())
		return NULL;
	p = malloc(size);
	heap.outstanding += p != NULL;
	return p;
}

static void heap_free(void *data, void *ptr)
{
	(void)data;
	heap.outstanding -= ptr != NULL;
	free(ptr);
}

static void *heap_calloc(void *data, size_t nmemb, size_t size)
{
	void *p;

	(void)data;
	if (heap_fail())
		return NULL;
	p = calloc(nmemb, size);
	heap.outstanding += p != NULL;
	return p;
}

static void *heap_realloc(void *data, void *ptr, size_t size)
{
	void *p;

	(void)data;
	if (heap_fail())
		return NULL;
	p = realloc(ptr, size);
	if (ptr == NULL && p != NULL)
		heap.outstanding++;
	return p;
}

static void *heap_aligned_alloc(void *data, size_t alignment, size_t size)
{
	void *p;

	(void)data;
	if (heap_fail())
		return NULL;
	p = aligned_alloc(alignment, size);
	heap.outstanding += p != NULL;
	return p;
}

static void heap_aligned_free(void *data, size_t alignment, void *ptr)
{
	(void)alignment;
	heap_free(data, ptr);
}

static struct raft_heap failing_heap = {
    .malloc = heap_malloc,
    .free = heap_free,
    .calloc = heap_calloc,
    .realloc = heap_realloc,
    .aligned_alloc = heap_aligned_alloc,
    .aligned_free = heap_aligned_free,
};

static int setup_heap(void **state)
{
	(void)state;
	memset(&heap, 0, sizeof(heap));
	raft_heap_set(&failing_heap);
	return 0;
}

static int teardown_heap(void **state)
{
	(void)state;
	raft_heap_set_default();
	assert_int_equal(heap.outstanding, 0);
	return 0;
}

/* --- helpers -----------------------------------------------------------------
 */

struct fsm_pair {
	struct q53_fsm_counter counter;
	struct q53_fsm_log log;
};

static void pair_init(struct fsm_pair *p, unsigned max_sessions)
{
	struct q53_fsm_log_config config = {.max_sessions = max_sessions};

	q53_fsm_counter_init(&p->counter);
	assert_int_equal(q53_fsm_log_init(&p->log, &p->counter.fsm, &config),
			 0);
}

static void pair_close(struct fsm_pair *p)
{
	q53_fsm_log_close(&p->log);
	q53_fsm_counter_close(&p->counter);
}

static struct raft_buffer entry(uint16_t type, uint64_t client,
				uint64_t request, uint64_t id, size_t len)
{
	struct q53_fsm_log_command cmd = {0};
	uint8_t payload[32] = {0};
	struct raft_buffer buf;
	unsigned saved = heap.fail_permille;

	assert_true(len <= sizeof(payload));
	memcpy(payload, &id, len < 8 ? len : 8);
	cmd.type = type;
	cmd.client_id = client;
	cmd.request_id = request;
	cmd.payload = payload;
	cmd.len = len;
	heap.fail_permille = 0;
	assert_int_equal(q53_fsm_log_encode(&cmd, &buf), 0);
	heap.fail_permille = saved;
	return buf;
}

static const struct q53_fsm_log_result *apply(struct fsm_pair *p,
					      struct raft_buffer buf)
{
	void *result = NULL;

	assert_int_equal(p->log.raft_fsm.apply(&p->log.raft_fsm, &buf, &result),
			 0);
	raft_free(buf.base);
	return result;
}

/* The adapter's snapshot in one raft_malloc'd buffer (what restore gets). */
static struct raft_buffer snapshot_one(struct fsm_pair *p)
{
	struct raft_fsm *fsm = &p->log.raft_fsm;
	struct raft_buffer *bufs = NULL, out;
	unsigned n = 0, i;
	unsigned saved = heap.fail_permille;
	size_t off = 0;

	heap.fail_permille = 0;
	assert_int_equal(fsm->snapshot(fsm, &bufs, &n), 0);
	out.len = 0;
	for (i = 0; i < n; i++)
		out.len += bufs[i].len;
	out.base = raft_malloc(out.len);
	assert_non_null(out.base);
	for (i = 0; i < n; i++) {
		memcpy((uint8_t *)out.base + off, bufs[i].base, bufs[i].len);
		off += bufs[i].len;
	}
	fsm->snapshot_finalize(fsm, &bufs, &n);
	heap.fail_permille = saved;
	return out;
}

static void assert_same_state(struct fsm_pair *a, struct fsm_pair *b)
{
	struct raft_buffer sa = snapshot_one(a), sb = snapshot_one(b);

	assert_int_equal(sa.len, sb.len);
	assert_memory_equal(sa.base, sb.base, sa.len);
	raft_free(sa.base);
	raft_free(sb.base);
}

/* --- framing -------------------------------------------------------------- */

static void test_framing(void **state)
{
	struct q53_fsm_log_command cmd, out;
	uint8_t payload[40];
	struct raft_buffer buf;
	size_t len;

	(void)state;
	for (len = 0; len < sizeof(payload); len++) {
		memset(payload, 0xa5, sizeof(payload));
		cmd = (struct q53_fsm_log_command){.type = 3,
						   .client_id = 9,
						   .request_id = 77,
						   .payload = payload,
						   .len = len};
		assert_int_equal(q53_fsm_log_encode(&cmd, &buf), 0);
		assert_int_equal(buf.len % 8, 0);
		assert_int_equal(buf.len,
				 Q53_FSM_LOG_HEADER_SIZE + ((len + 7) / 8) * 8);
		assert_int_equal(q53_fsm_log_decode(&buf, &out), 0);
		assert_int_equal(out.type, 3);
		assert_int_equal(out.client_id, 9);
		assert_int_equal(out.request_id, 77);
		assert_int_equal(out.len, len);
		if (len > 0)
			assert_memory_equal(out.payload, payload, len);
		if (len % 8 != 0) { /* padding must be zero */
			((uint8_t *)buf.base)[buf.len - 1] = 1;
			assert_int_equal(q53_fsm_log_decode(&buf, &out),
					 Q53_EMALF);
		}
		buf.len -= 1; /* short */
		assert_int_equal(q53_fsm_log_decode(&buf, &out), Q53_EMALF);
		raft_free(buf.base);
	}
	/* session without request id */
	cmd = (struct q53_fsm_log_command){.client_id = 1};
	assert_int_equal(q53_fsm_log_encode(&cmd, &buf), Q53_EINVAL);
	/* unknown format */
	buf = entry(1, 1, 1, 1, 8);
	((uint8_t *)buf.base)[0] = 2;
	assert_int_equal(q53_fsm_log_decode(&buf, &out), Q53_EMALF);
	raft_free(buf.base);
}

/* --- exactly once ----------------------------------------------------------
 */

static void test_sessions(void **state)
{
	const struct q53_fsm_log_result *r;
	struct fsm_pair p;
	struct raft_buffer junk;
	uint64_t first;

	(void)state;
	pair_init(&p, 2);
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 1, 1, 101, 8));
	assert_int_equal(r->status, Q53_FSM_LOG_APPLIED);
	assert_int_equal(r->len, 8);
	memcpy(&first, r->bytes, 8);
	assert_int_equal(first, 1);
	/* the retry is a no-op answered with the first result */
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 1, 1, 101, 8));
	assert_int_equal(r->status, Q53_FSM_LOG_DUPLICATE);
	assert_int_equal(r->len, 8);
	assert_memory_equal(r->bytes, &first, 8);
	assert_int_equal(p.counter.n, 1);
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 1, 2, 102, 13));
	assert_int_equal(r->status, Q53_FSM_LOG_APPLIED);
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 1, 1, 101, 8));
	assert_int_equal(r->status, Q53_FSM_LOG_STALE);
	/* no session: always applied */
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 0, 0, 5, 8));
	assert_int_equal(r->status, Q53_FSM_LOG_APPLIED);
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 0, 0, 5, 8));
	assert_int_equal(r->status, Q53_FSM_LOG_APPLIED);
	/* rejected by the FSM: applied as a no-op, remembered */
	r = apply(&p, entry(99, 2, 1, 0, 0));
	assert_int_equal(r->status, Q53_FSM_LOG_APPLIED);
	assert_int_equal(r->code, Q53_FSM_COUNTER_REJECTED);
	r = apply(&p, entry(99, 2, 1, 0, 0));
	assert_int_equal(r->status, Q53_FSM_LOG_DUPLICATE);
	assert_int_equal(r->code, Q53_FSM_COUNTER_REJECTED);
	/* malformed entries are skipped (format 0: never a valid format) */
	junk = entry(1, 0, 0, 0, 8);
	((uint8_t *)junk.base)[0] = 0;
	r = apply(&p, junk);
	assert_int_equal(r->status, Q53_FSM_LOG_MALFORMED);
	assert_int_equal(p.counter.n, 4);
	/* table of 2: client 3 evicts client 1 (applied longest ago) */
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 3, 1, 301, 8));
	assert_int_equal(r->status, Q53_FSM_LOG_APPLIED);
	assert_int_equal(q53_fsm_log_last_request(&p.log, 1), 0);
	assert_int_equal(q53_fsm_log_last_request(&p.log, 2), 1);
	assert_int_equal(q53_fsm_log_last_request(&p.log, 3), 1);
	pair_close(&p);
}

/* Offers (q53_fsm_log_offer): the typed form goes to apply_decoded for the
 * command with the offered session ids and type only, until withdrawn;
 * without apply_decoded nothing is offered. */
static unsigned decoded_calls;
static const void *decoded_seen;

static int counter_apply_decoded(struct q53_fsm *fsm, uint16_t type,
				 const void *decoded, const uint8_t *payload,
				 size_t len, int32_t *code, uint8_t **out,
				 size_t *out_len)
{
	decoded_calls++;
	decoded_seen = decoded;
	return fsm->apply(fsm, type, payload, len, code, out, out_len);
}

static void test_offers(void **state)
{
	const struct q53_fsm_log_result *r;
	struct fsm_pair p;
	static const int typed = 53;

	(void)state;
	pair_init(&p, 4);
	/* no apply_decoded: refused */
	assert_false(
	    q53_fsm_log_offer(&p.log, 1, 1, Q53_FSM_COUNTER_APPEND, &typed));
	p.counter.fsm.apply_decoded = counter_apply_decoded;
	assert_false(
	    q53_fsm_log_offer(&p.log, 0, 1, Q53_FSM_COUNTER_APPEND, &typed));
	assert_true(
	    q53_fsm_log_offer(&p.log, 1, 2, Q53_FSM_COUNTER_APPEND, &typed));
	decoded_calls = 0;
	/* another request of the session, another type: decoded */
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 1, 1, 101, 8));
	assert_int_equal(r->status, Q53_FSM_LOG_APPLIED);
	r = apply(&p, entry(99, 1, 2, 0, 0));
	assert_int_equal(decoded_calls, 0);
	/* another client with the same request id: decoded */
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 2, 2, 201, 8));
	assert_int_equal(decoded_calls, 0);
	/* the offered one */
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 1, 3, 103, 8));
	assert_int_equal(decoded_calls, 0);
	assert_true(
	    q53_fsm_log_offer(&p.log, 1, 4, Q53_FSM_COUNTER_APPEND, &typed));
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 1, 4, 104, 8));
	assert_int_equal(r->status, Q53_FSM_LOG_APPLIED);
	assert_int_equal(decoded_calls, 1);
	assert_ptr_equal(decoded_seen, &typed);
	/* its retry is a duplicate: not applied, not decoded */
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 1, 4, 104, 8));
	assert_int_equal(r->status, Q53_FSM_LOG_DUPLICATE);
	assert_int_equal(decoded_calls, 1);
	/* withdrawn: decoded again */
	assert_true(
	    q53_fsm_log_offer(&p.log, 1, 5, Q53_FSM_COUNTER_APPEND, &typed));
	q53_fsm_log_withdraw(&p.log, 1, 5);
	r = apply(&p, entry(Q53_FSM_COUNTER_APPEND, 1, 5, 105, 8));
	assert_int_equal(r->status, Q53_FSM_LOG_APPLIED);
	assert_int_equal(decoded_calls, 1);
	q53_fsm_log_withdraw(&p.log, 1, 2);
	q53_fsm_log_withdraw(&p.log, 1, 4);
	/* the slots are few: one offer more is refused, a withdrawal
	 * frees one */
	for (uint64_t i = 0; i < Q53_FSM_LOG_OFFERS; i++)
		assert_true(q53_fsm_log_offer(&p.log, 7, 10 + i,
					      Q53_FSM_COUNTER_APPEND, &typed));
	assert_false(
	    q53_fsm_log_offer(&p.log, 7, 20, Q53_FSM_COUNTER_APPEND, &typed));
	q53_fsm_log_withdraw(&p.log, 7, 11);
	assert_true(
	    q53_fsm_log_offer(&p.log, 7, 20, Q53_FSM_COUNTER_APPEND, &typed));
	assert_int_equal(p.counter.n, 5);
	pair_close(&p);
}

/* --- snapshot / restore ----------------------------------------------------
 */

/* Version 3 (q53_fsm_log_set_async): snapshot captures, the state moves
 * on, snapshot_async (raft's thread-pool step) fills in the FSM's part,
 * finalize frees: the same bytes as a version-2 snapshot at capture time;
 * under allocation failures every step fails cleanly and leaks nothing. */
static void test_snapshot_async(void **state)
{
	struct fsm_pair a;
	struct raft_fsm *fsm = &a.log.raft_fsm;
	struct raft_buffer ref, *bufs;
	unsigned n, i;
	uint64_t k;

	(void)state;
	pair_init(&a, 0);
	assert_int_equal(fsm->version, 2);
	assert_null(fsm->snapshot_async);
	for (k = 1; k <= 30; k++)
		apply(&a, entry(Q53_FSM_COUNTER_APPEND, k % 5, k, k, k % 11));
	ref = snapshot_one(&a);
	assert_int_equal(q53_fsm_log_set_async(&a.log, true), 0);
	assert_int_equal(fsm->version, 3);
	assert_non_null(fsm->snapshot_async);
	for (long round = 0; round < 200; round++) {
		int rv;

		heap.fail_permille = round == 0 ? 0 : 150;
		bufs = NULL;
		n = 0;
		rv = fsm->snapshot(fsm, &bufs, &n);
		if (rv != 0) {
			assert_int_equal(rv, RAFT_NOMEM);
			continue;
		}
		heap.fail_permille = 0;
		/* applies go on while the thread encodes */
		apply(&a,
		      entry(Q53_FSM_COUNTER_APPEND, 9, 1000 + round, 77, 3));
		heap.fail_permille = round == 0 ? 0 : 150;
		rv = fsm->snapshot_async(fsm, &bufs, &n);
		heap.fail_permille = 0;
		if (rv == 0) {
			size_t off = 0, len = 0;

			for (i = 0; i < n; i++)
				len += bufs[i].len;
			assert_int_equal(len, ref.len);
			for (i = 0; i < n; i++) {
				assert_memory_equal((uint8_t *)ref.base + off,
						    bufs[i].base, bufs[i].len);
				off += bufs[i].len;
			}
		} else {
			assert_int_equal(rv, RAFT_NOMEM);
		}
		assert_int_equal(fsm->snapshot_finalize(fsm, &bufs, &n), 0);
		/* the next round's reference: the state now */
		raft_free(ref.base);
		assert_int_equal(q53_fsm_log_set_async(&a.log, false), 0);
		ref = snapshot_one(&a);
		assert_int_equal(q53_fsm_log_set_async(&a.log, true), 0);
	}
	heap.fail_permille = 0;
	raft_free(ref.base);
	pair_close(&a);
}

static void test_snapshot_restore(void **state)
{
	struct fsm_pair a, b;
	struct raft_buffer snap, bad;
	uint64_t i;

	(void)state;
	pair_init(&a, 0);
	pair_init(&b, 0);
	for (i = 1; i <= 50; i++)
		apply(&a, entry(Q53_FSM_COUNTER_APPEND, i % 7, i, i, i % 20));
	snap = snapshot_one(&a);
	/* truncated or corrupted: refused, state unchanged */
	for (i = 0; i < snap.len; i += 1 + snap.len / 40) {
		bad.len = (size_t)i;
		bad.base = raft_malloc(snap.len);
		memcpy(bad.base, snap.base, snap.len);
		assert_int_equal(b.log.raft_fsm.restore(&b.log.raft_fsm, &bad),
				 RAFT_MALFORMED);
		raft_free(bad.base); /* raft frees it when restore fails */
	}
	assert_int_equal(b.counter.n, 0);
	assert_int_equal(b.log.raft_fsm.restore(&b.log.raft_fsm, &snap), 0);
	assert_same_state(&a, &b);
	/* and they go on identically */
	apply(&a, entry(Q53_FSM_COUNTER_APPEND, 3, 1000, 1, 8));
	apply(&b, entry(Q53_FSM_COUNTER_APPEND, 3, 1000, 1, 8));
	assert_same_state(&a, &b);
	assert_int_equal(a.counter.hash, b.counter.hash);
	pair_close(&a);
	pair_close(&b);
}

/* --- allocation failures
 * ------------------------------------------------------
 */

static void test_alloc_failures(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 200; seed++) {
		struct fsm_pair faulty, ref;
		uint64_t requests[6] = {0};
		unsigned op;

		heap.rng = seed * 7919;
		pair_init(&faulty, 4);
		pair_init(&ref, 4);
		for (op = 0; op < 60; op++) {
			unsigned roll, tries;
			uint64_t client, request;
			struct raft_buffer buf, before;
			void *result = NULL;
			int rv;

			heap.fail_permille = 0;
			roll = (unsigned)(heap.rng % 10);
			heap.rng = heap.rng * 6364136223846793005ull + seed;
			if (roll < 7) {
				/* apply: repeats and old ids included */
				const struct q53_fsm_log_result *want;
				struct q53_fsm_log_result got;

				client = heap.rng % 6;
				request =
				    requests[client] + 1 - (heap.rng >> 8) % 3;
				if (client != 0 && request == 0)
					request = 1;
				if (request > requests[client])
					requests[client] = request;
				buf = entry(Q53_FSM_COUNTER_APPEND, client,
					    request, op, (heap.rng >> 16) % 24);
				before = snapshot_one(&faulty);
				heap.fail_permille = 300;
				for (tries = 0;; tries++) {
					assert_true(tries < 1000);
					rv = faulty.log.raft_fsm.apply(
					    &faulty.log.raft_fsm, &buf,
					    &result);
					if (rv == 0)
						break;
					assert_int_equal(rv, RAFT_NOMEM);
					/* nothing changed */
					{
						struct raft_buffer now =
						    snapshot_one(&faulty);

						assert_int_equal(now.len,
								 before.len);
						assert_memory_equal(now.base,
								    before.base,
								    now.len);
						raft_free(now.base);
					}
				}
				heap.fail_permille = 0;
				got =
				    *(const struct q53_fsm_log_result *)result;
				want = apply(&ref, buf); /* frees buf */
				assert_int_equal(got.status, want->status);
				assert_int_equal(got.code, want->code);
				assert_int_equal(got.len, want->len);
				if (got.len > 0)
					assert_memory_equal(
					    got.bytes, want->bytes, got.len);
				raft_free(before.base);
			} else if (roll < 8) {
				/* snapshot may fail, never leaks */
				struct raft_buffer *bufs = NULL;
				unsigned n = 0;

				heap.fail_permille = 300;
				rv = faulty.log.raft_fsm.snapshot(
				    &faulty.log.raft_fsm, &bufs, &n);
				heap.fail_permille = 0;
				if (rv == 0)
					faulty.log.raft_fsm.snapshot_finalize(
					    &faulty.log.raft_fsm, &bufs, &n);
				else
					assert_int_equal(rv, RAFT_NOMEM);
			} else {
				/* restore of the reference: all or nothing */
				buf = snapshot_one(&ref);
				before = snapshot_one(&faulty);
				heap.fail_permille = 300;
				rv = faulty.log.raft_fsm.restore(
				    &faulty.log.raft_fsm, &buf);
				heap.fail_permille = 0;
				if (rv != 0) {
					struct raft_buffer now =
					    snapshot_one(&faulty);

					assert_int_equal(rv, RAFT_NOMEM);
					assert_int_equal(now.len, before.len);
					assert_memory_equal(
					    now.base, before.base, now.len);
					raft_free(now.base);
					raft_free(buf.base);
					/* retry without failures */
					buf = snapshot_one(&ref);
					assert_int_equal(
					    faulty.log.raft_fsm.restore(
						&faulty.log.raft_fsm, &buf),
					    0);
				}
				raft_free(before.base);
			}
			assert_same_state(&faulty, &ref);
		}
		heap.fail_permille = 0;
		assert_int_equal(faulty.counter.hash, ref.counter.hash);
		pair_close(&faulty);
		pair_close(&ref);
		assert_int_equal(heap.outstanding, 0);
	}
	assert_true(heap.failures > 100);
}

/* --- batches (format 2) ----------------------------------------------------
 */

/* A batch entry of the n format-1 frames (freed). */
static struct raft_buffer batch_of(struct raft_buffer *frames, unsigned n)
{
	struct raft_buffer buf;
	unsigned saved = heap.fail_permille, i;

	heap.fail_permille = 0;
	assert_int_equal(q53_fsm_log_encode_batch(frames, n, &buf), 0);
	for (i = 0; i < n; i++)
		raft_free(frames[i].base);
	heap.fail_permille = saved;
	return buf;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_batch_framing(void **state)
{
	struct q53_fsm_log_command cmd;
	struct q53_fsm_log_entry e;
	struct raft_buffer frames[3], buf, one;
	unsigned format, i;
	size_t cut;

	(void)state;
	frames[0] = entry(Q53_FSM_COUNTER_APPEND, 5, 1, 11, 8);
	frames[1] = entry(7, 6, 9, 12, 3);
	frames[2] = entry(Q53_FSM_COUNTER_APPEND, 5, 2, 13, 0);
	buf = batch_of(frames, 3);
	assert_int_equal(buf.len % 8, 0);
	assert_int_equal(buf.len, Q53_FSM_LOG_BATCH_HEADER_SIZE + 32 + 32 + 24);
	assert_int_equal(((uint8_t *)buf.base)[0], Q53_FSM_LOG_FORMAT_BATCH);
	/* not one command */
	assert_int_equal(q53_fsm_log_decode(&buf, &cmd), Q53_EMALF);
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, &format), 0);
	assert_int_equal(format, 2);
	assert_int_equal(e.count, 3);
	assert_true(e.batch);
	assert_int_equal(q53_fsm_log_entry_next(&e, &cmd), 0);
	assert_int_equal(cmd.client_id, 5);
	assert_int_equal(cmd.request_id, 1);
	assert_int_equal(cmd.len, 8);
	assert_int_equal(q53_fsm_log_entry_next(&e, &cmd), 0);
	assert_int_equal(cmd.type, 7);
	assert_int_equal(cmd.client_id, 6);
	assert_int_equal(cmd.request_id, 9);
	assert_int_equal(cmd.len, 3);
	assert_int_equal(q53_fsm_log_entry_next(&e, &cmd), 0);
	assert_int_equal(cmd.request_id, 2);
	assert_null(cmd.payload);
	assert_int_equal(q53_fsm_log_entry_next(&e, &cmd), Q53_ENOENT);

	/* every truncation is malformed, never a crash */
	for (cut = 0; cut < buf.len; cut++) {
		struct raft_buffer shorter = {.base = buf.base, .len = cut};

		assert_int_equal(q53_fsm_log_entry_open(&shorter, &e, NULL),
				 Q53_EMALF);
	}
	/* count that does not match the frames, 0, above the limit */
	put_le32((uint8_t *)buf.base + 4, 4);
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, NULL), Q53_EMALF);
	put_le32((uint8_t *)buf.base + 4, 2); /* trailing frame */
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, NULL), Q53_EMALF);
	put_le32((uint8_t *)buf.base + 4, 0);
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, NULL), Q53_EMALF);
	put_le32((uint8_t *)buf.base + 4, Q53_FSM_LOG_BATCH_MAX + 1);
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, NULL), Q53_EMALF);
	put_le32((uint8_t *)buf.base + 4, 3);
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, NULL), 0);
	/* reserved bytes */
	((uint8_t *)buf.base)[1] = 1;
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, NULL), Q53_EMALF);
	((uint8_t *)buf.base)[1] = 0;
	((uint8_t *)buf.base)[3] = 1;
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, NULL), Q53_EMALF);
	((uint8_t *)buf.base)[3] = 0;
	/* a nested batch or a newer frame inside a batch is malformed */
	((uint8_t *)buf.base)[8] = Q53_FSM_LOG_FORMAT_BATCH;
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, NULL), Q53_EMALF);
	((uint8_t *)buf.base)[8] = 9;
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, NULL), Q53_EMALF);
	((uint8_t *)buf.base)[8] = Q53_FSM_LOG_FORMAT;
	/* a command without a session inside a batch */
	memset((uint8_t *)buf.base + 8 + 8, 0, 16);
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, NULL), Q53_EMALF);
	raft_free(buf.base);

	/* a newer format: ERANGE and the format byte, both ways in */
	buf = entry(Q53_FSM_COUNTER_APPEND, 1, 1, 1, 8);
	((uint8_t *)buf.base)[0] = Q53_FSM_LOG_FORMAT_MAX + 1;
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, &format), Q53_ERANGE);
	assert_int_equal(format, Q53_FSM_LOG_FORMAT_MAX + 1);
	assert_int_equal(q53_fsm_log_decode(&buf, &cmd), Q53_ERANGE);
	((uint8_t *)buf.base)[0] = 0;
	assert_int_equal(q53_fsm_log_entry_open(&buf, &e, &format), Q53_EMALF);
	raft_free(buf.base);

	/* encoder: n == 1 is the frame itself (format 1) */
	frames[0] = entry(Q53_FSM_COUNTER_APPEND, 0, 0, 3, 5);
	assert_int_equal(q53_fsm_log_encode_batch(frames, 1, &one), 0);
	assert_int_equal(one.len, frames[0].len);
	assert_memory_equal(one.base, frames[0].base, one.len);
	assert_int_equal(q53_fsm_log_entry_open(&one, &e, &format), 0);
	assert_int_equal(format, 1);
	assert_false(e.batch);
	raft_free(one.base);
	/* limits: no frames, too many, no session in a batch, garbage */
	assert_int_equal(q53_fsm_log_encode_batch(frames, 0, &one), Q53_EINVAL);
	frames[1] = entry(Q53_FSM_COUNTER_APPEND, 4, 1, 3, 5);
	assert_int_equal(q53_fsm_log_encode_batch(frames, 2, &one), Q53_EINVAL);
	{
		struct raft_buffer many[Q53_FSM_LOG_BATCH_MAX + 1];

		for (i = 0; i <= Q53_FSM_LOG_BATCH_MAX; i++)
			many[i] = frames[1];
		assert_int_equal(q53_fsm_log_encode_batch(
				     many, Q53_FSM_LOG_BATCH_MAX + 1, &one),
				 Q53_EINVAL);
		assert_int_equal(
		    q53_fsm_log_encode_batch(many, Q53_FSM_LOG_BATCH_MAX, &one),
		    0);
		assert_int_equal(q53_fsm_log_entry_open(&one, &e, NULL), 0);
		assert_int_equal(e.count, Q53_FSM_LOG_BATCH_MAX);
		raft_free(one.base);
	}
	((uint8_t *)frames[1].base)[0] = 0;
	assert_int_equal(q53_fsm_log_encode_batch(&frames[1], 1, &one),
			 Q53_EINVAL);
	raft_free(frames[0].base);
	raft_free(frames[1].base);
}

static uint64_t body_u64(const struct q53_fsm_log_result *r)
{
	uint64_t v;

	assert_int_equal(r->len, 8);
	memcpy(&v, r->bytes, 8);
	return v;
}

static void test_batch_apply(void **state)
{
	const struct q53_fsm_log_result *r = NULL;
	struct fsm_pair p, singles;
	struct raft_buffer frames[6];
	unsigned i;

	(void)state;
	pair_init(&p, 2);
	pair_init(&singles, 2);
	/* client 1 twice (the second replaces its session's result), a
	 * retry of it, a rejected command, and client 3 evicting client 2
	 * whose result is still being reported */
	for (i = 0; i < 2; i++) {
		struct fsm_pair *q = i == 0 ? &p : &singles;

		frames[0] = entry(Q53_FSM_COUNTER_APPEND, 1, 1, 101, 8);
		frames[1] = entry(Q53_FSM_COUNTER_APPEND, 2, 1, 201, 8);
		frames[2] = entry(Q53_FSM_COUNTER_APPEND, 1, 2, 102, 8);
		frames[3] = entry(Q53_FSM_COUNTER_APPEND, 1, 2, 102, 8);
		frames[4] = entry(99, 1, 3, 0, 0);
		frames[5] = entry(Q53_FSM_COUNTER_APPEND, 3, 1, 301, 8);
		if (i == 0) {
			r = apply(q, batch_of(frames, 6));
		} else {
			unsigned k;

			for (k = 0; k < 6; k++)
				apply(q, frames[k]);
		}
	}
	assert_int_equal(r->n_results, 6);
	assert_ptr_equal(&r->results[0], r);
	assert_int_equal(r->results[0].status, Q53_FSM_LOG_APPLIED);
	assert_int_equal(body_u64(&r->results[0]), 1);
	assert_int_equal(r->results[1].status, Q53_FSM_LOG_APPLIED);
	assert_int_equal(body_u64(&r->results[1]), 2);
	assert_int_equal(r->results[1].client_id, 2);
	assert_int_equal(r->results[2].status, Q53_FSM_LOG_APPLIED);
	assert_int_equal(body_u64(&r->results[2]), 3);
	assert_int_equal(r->results[3].status, Q53_FSM_LOG_DUPLICATE);
	assert_int_equal(body_u64(&r->results[3]), 3);
	assert_int_equal(r->results[3].request_id, 2);
	assert_int_equal(r->results[4].status, Q53_FSM_LOG_APPLIED);
	assert_int_equal(r->results[4].code, Q53_FSM_COUNTER_REJECTED);
	assert_int_equal(r->results[5].status, Q53_FSM_LOG_APPLIED);
	assert_int_equal(body_u64(&r->results[5]), 4);
	for (i = 0; i < 6; i++)
		assert_int_equal(r->results[i].seq, i + 1);
	/* one batch == the same commands one entry each */
	assert_same_state(&p, &singles);
	assert_int_equal(p.counter.hash, singles.counter.hash);
	assert_int_equal(q53_fsm_log_last_request(&p.log, 2), 0); /* evicted */

	/* the whole batch again (a client retrying after a lost leader):
	 * nothing applies twice */
	frames[0] = entry(Q53_FSM_COUNTER_APPEND, 1, 3, 101, 8);
	frames[1] = entry(Q53_FSM_COUNTER_APPEND, 3, 1, 301, 8);
	frames[2] = entry(Q53_FSM_COUNTER_APPEND, 1, 2, 102, 8);
	r = apply(&p, batch_of(frames, 3));
	assert_int_equal(r->n_results, 3);
	assert_int_equal(r->results[0].status, Q53_FSM_LOG_DUPLICATE);
	assert_int_equal(r->results[0].code, Q53_FSM_COUNTER_REJECTED);
	assert_int_equal(r->results[1].status, Q53_FSM_LOG_DUPLICATE);
	assert_int_equal(body_u64(&r->results[1]), 4);
	assert_int_equal(r->results[2].status, Q53_FSM_LOG_STALE);
	assert_int_equal(p.counter.n, 4);

	/* a malformed batch is skipped whole: one MALFORMED result */
	frames[0] = entry(Q53_FSM_COUNTER_APPEND, 7, 1, 701, 8);
	frames[1] = entry(Q53_FSM_COUNTER_APPEND, 8, 1, 801, 5);
	{
		struct raft_buffer bad = batch_of(frames, 2);

		((uint8_t *)bad.base)[bad.len - 1] = 1; /* padding */
		r = apply(&p, bad);
	}
	assert_int_equal(r->status, Q53_FSM_LOG_MALFORMED);
	assert_int_equal(r->n_results, 1);
	assert_int_equal(p.counter.n, 4);
	assert_int_equal(q53_fsm_log_last_request(&p.log, 7), 0);
	pair_close(&p);
	pair_close(&singles);
}

/* An entry of a newer format stops the adapter there: never skipped, and
 * nothing after it applies. */
static void test_newer_format(void **state)
{
	struct fsm_pair p;
	struct raft_buffer buf;
	void *result = NULL;
	uint64_t seq;

	(void)state;
	pair_init(&p, 0);
	apply(&p, entry(Q53_FSM_COUNTER_APPEND, 1, 1, 1, 8));
	assert_int_equal(q53_fsm_log_newer_format(&p.log), 0);
	seq = p.log.seq;
	buf = entry(Q53_FSM_COUNTER_APPEND, 1, 2, 2, 8);
	((uint8_t *)buf.base)[0] = 7;
	assert_int_not_equal(
	    p.log.raft_fsm.apply(&p.log.raft_fsm, &buf, &result), 0);
	assert_int_equal(q53_fsm_log_newer_format(&p.log), 7);
	/* offered again (raft retries): still refused */
	assert_int_not_equal(
	    p.log.raft_fsm.apply(&p.log.raft_fsm, &buf, &result), 0);
	raft_free(buf.base);
	buf = entry(Q53_FSM_COUNTER_APPEND, 1, 2, 2, 8);
	assert_int_not_equal(
	    p.log.raft_fsm.apply(&p.log.raft_fsm, &buf, &result), 0);
	raft_free(buf.base);
	assert_int_equal(p.counter.n, 1);
	assert_int_equal(p.log.seq, seq);
	assert_int_equal(q53_fsm_log_last_request(&p.log, 1), 1);
	pair_close(&p);
}

/* Allocation failures in the middle of a batch: raft offers the entry
 * again; the commands applied before the failure are not applied twice,
 * seq and every result match a reference that never failed. */
static void test_batch_alloc_failures(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 100; seed++) {
		struct fsm_pair faulty, ref;
		uint64_t requests[5] = {0};
		unsigned op;

		heap.rng = seed * 104729;
		pair_init(&faulty, 3);
		pair_init(&ref, 3);
		for (op = 0; op < 20; op++) {
			struct raft_buffer frames[8], buf;
			const struct q53_fsm_log_result *want;
			struct q53_fsm_log_result got[8];
			unsigned n, k, tries;
			void *result = NULL;
			int rv;

			heap.fail_permille = 0;
			n = 2 + (unsigned)(heap.rng % 7);
			for (k = 0; k < n; k++) {
				uint64_t client, request;

				heap.rng =
				    heap.rng * 6364136223846793005ull + seed;
				client = 1 + (heap.rng >> 20) % 5;
				request = requests[client - 1] + 1 -
					  (heap.rng >> 40) % 3;
				if (request == 0)
					request = 1;
				if (request > requests[client - 1])
					requests[client - 1] = request;
				frames[k] = entry(Q53_FSM_COUNTER_APPEND,
						  client, request, op * 8 + k,
						  8 + (heap.rng >> 50) % 9);
			}
			buf = batch_of(frames, n);
			heap.fail_permille = 200;
			for (tries = 0;; tries++) {
				assert_true(tries < 1000);
				rv = faulty.log.raft_fsm.apply(
				    &faulty.log.raft_fsm, &buf, &result);
				if (rv == 0)
					break;
				assert_int_equal(rv, RAFT_NOMEM);
			}
			heap.fail_permille = 0;
			for (k = 0; k < n; k++) {
				const struct q53_fsm_log_result *res =
				    &((const struct q53_fsm_log_result *)result)
					 ->results[k];

				got[k] = *res;
				/* bodies stay valid until the next apply */
				if (res->len > 0) {
					uint8_t *copy = malloc(res->len);

					assert_non_null(copy);
					memcpy(copy, res->bytes, res->len);
					got[k].bytes = copy;
				}
			}
			want = apply(&ref, buf); /* frees buf */
			assert_int_equal(want->n_results, n);
			for (k = 0; k < n; k++) {
				const struct q53_fsm_log_result *w =
				    &want->results[k];

				assert_int_equal(got[k].status, w->status);
				assert_int_equal(got[k].code, w->code);
				assert_int_equal(got[k].seq, w->seq);
				assert_int_equal(got[k].len, w->len);
				if (w->len > 0)
					assert_memory_equal(got[k].bytes,
							    w->bytes, w->len);
				free((void *)got[k].bytes);
			}
			assert_same_state(&faulty, &ref);
		}
		assert_int_equal(faulty.counter.hash, ref.counter.hash);
		pair_close(&faulty);
		pair_close(&ref);
		assert_int_equal(heap.outstanding, 0);
	}
	assert_true(heap.failures > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_framing, setup_heap,
					    teardown_heap),
	    cmocka_unit_test_setup_teardown(test_sessions, setup_heap,
					    teardown_heap),
	    cmocka_unit_test_setup_teardown(test_offers, setup_heap,
					    teardown_heap),
	    cmocka_unit_test_setup_teardown(test_snapshot_async, setup_heap,
					    teardown_heap),
	    cmocka_unit_test_setup_teardown(test_snapshot_restore, setup_heap,
					    teardown_heap),
	    cmocka_unit_test_setup_teardown(test_alloc_failures, setup_heap,
					    teardown_heap),
	    cmocka_unit_test_setup_teardown(test_batch_framing, setup_heap,
					    teardown_heap),
	    cmocka_unit_test_setup_teardown(test_batch_apply, setup_heap,
					    teardown_heap),
	    cmocka_unit_test_setup_teardown(test_newer_format, setup_heap,
					    teardown_heap),
	    cmocka_unit_test_setup_teardown(test_batch_alloc_failures,
					    setup_heap, teardown_heap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
