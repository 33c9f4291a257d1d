/* node/raft/raft_compat.c against real libraft 0.15 raft instances run
 * by raft_fixture: each test brings a follower into the state that
 * triggers one defect, builds the AppendEntries its leader sends, checks
 * the rewrite, hands the message to the follower's own recv callback and
 * checks the result it sends (captured at its io->send, clamped there as
 * node/raft/raft_io.c does). The raw variants show the 0.15 defect on
 * the same state, so the tests would notice a libraft that no longer has
 * it (then re-check raft_compat's version guard). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>
#include <raft/fixture.h>

#include "node/raft/raft_compat.h"

#define N_SERVERS 3
#define FOLLOWER  1 /* index of the server under test */

/* --- a minimal FSM: counts applied entries --------------------------- */

struct counter {
	struct raft_fsm fsm;
	unsigned applied;
};

static int counter_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
			 void **result)
{
	struct counter *c = fsm->data;

	(void)buf;
	c->applied++;
	*result = NULL;
	return 0;
}

static int counter_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			    unsigned *n_bufs)
{
	struct counter *c = fsm->data;

	*bufs = raft_malloc(sizeof(**bufs));
	if (*bufs == NULL)
		return RAFT_NOMEM;
	(*bufs)[0].len = sizeof(c->applied);
	(*bufs)[0].base = raft_malloc(sizeof(c->applied));
	if ((*bufs)[0].base == NULL) {
		raft_free(*bufs);
		return RAFT_NOMEM;
	}
	memcpy((*bufs)[0].base, &c->applied, sizeof(c->applied));
	*n_bufs = 1;
	return 0;
}

static int counter_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct counter *c = fsm->data;

	if (buf->len == sizeof(c->applied))
		memcpy(&c->applied, buf->base, sizeof(c->applied));
	raft_free(buf->base);
	return 0;
}

/* --- the follower's io: raft's recv callback and what it sends -------- */

struct harness {
	struct raft_fixture f;
	struct counter fsms[N_SERVERS];
	/* the follower's io, wrapped */
	raft_io_recv_cb recv;
	int (*start)(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
		     raft_io_recv_cb recv);
	int (*send)(struct raft_io *io, struct raft_io_send *req,
		    const struct raft_message *message, raft_io_send_cb cb);
	struct q53_raft_compat compat;
	struct raft_message sent; /* last AppendEntries result sent */
	unsigned n_results;
};

static struct harness *current;

static int wrapped_send(struct raft_io *io, struct raft_io_send *req,
			const struct raft_message *message, raft_io_send_cb cb)
{
	struct raft_message m = *message;

	q53_raft_compat_send(&current->compat, &m);
	if (m.type == RAFT_IO_APPEND_ENTRIES_RESULT) {
		current->sent = m;
		current->n_results++;
	}
	return current->send(io, req, &m, cb);
}

static int wrapped_start(struct raft_io *io, unsigned msecs,
			 raft_io_tick_cb tick, raft_io_recv_cb recv)
{
	current->recv = recv;
	return current->start(io, msecs, tick, recv);
}

static struct raft *follower(struct harness *h)
{
	return raft_fixture_get(&h->f, FOLLOWER);
}

/* Hand `m` to the follower as raft_io.c's deliver() does (with `fixes`
 * Q53_RAFT_COMPAT_* on) and return the number of results it sent. */
static unsigned deliver(struct harness *h, struct raft_message *m,
			unsigned fixes)
{
	struct raft_io *io = &h->f.servers[FOLLOWER].io;
	unsigned before = h->n_results;

	q53_raft_compat_init(&h->compat, fixes);
	q53_raft_compat_recv(&h->compat, follower(h), m);
	h->recv(io, m);
	q53_raft_compat_recv_done(&h->compat);
	return h->n_results - before;
}

/* Set up N_SERVERS servers (not started); the follower's io is wrapped. */
static void harness_init(struct harness *h)
{
	unsigned i;

	memset(h, 0, sizeof(*h)); /* RAFT_OVER_NNG.md #17 */
	current = h;
	assert_int_equal(raft_fixture_initialize(&h->f), 0);
	for (i = 0; i < N_SERVERS; i++) {
		h->fsms[i].fsm.version = 1;
		h->fsms[i].fsm.data = &h->fsms[i];
		h->fsms[i].fsm.apply = counter_apply;
		h->fsms[i].fsm.snapshot = counter_snapshot;
		h->fsms[i].fsm.restore = counter_restore;
		assert_int_equal(raft_fixture_grow(&h->f, &h->fsms[i].fsm), 0);
	}
	h->start = h->f.servers[FOLLOWER].io.start;
	h->send = h->f.servers[FOLLOWER].io.send;
	h->f.servers[FOLLOWER].io.start = wrapped_start;
	h->f.servers[FOLLOWER].io.send = wrapped_send;
}

static void harness_bootstrap(struct harness *h)
{
	struct raft_configuration conf;

	raft_configuration_init(&conf);
	assert_int_equal(raft_fixture_configuration(&h->f, N_SERVERS, &conf),
			 0);
	assert_int_equal(raft_fixture_bootstrap(&h->f, &conf), 0);
	raft_configuration_close(&conf);
}

static void harness_close(struct harness *h)
{
	raft_fixture_close(&h->f); /* fires pending send callbacks */
}

/* An AppendEntries from server 1 ("1") to the follower, entries
 * first..first+n-1 of term `term` in one batch as raft_msg.c decodes them
 * (array + one batch, both raft_malloc'd), each payload its own index. */
static void make_append(struct raft_message *m, raft_term term, raft_index prev,
			raft_term prev_term, raft_index leader_commit,
			unsigned n)
{
	uint8_t *batch;
	unsigned i;

	memset(m, 0, sizeof(*m));
	m->type = RAFT_IO_APPEND_ENTRIES;
	m->server_id = 1;
	m->server_address = "1";
	m->append_entries.term = term;
	m->append_entries.prev_log_index = prev;
	m->append_entries.prev_log_term = prev_term;
	m->append_entries.leader_commit = leader_commit;
	if (n == 0)
		return;
	m->append_entries.entries =
	    raft_malloc(n * sizeof(*m->append_entries.entries));
	batch = raft_malloc(n * 8);
	assert_non_null(m->append_entries.entries);
	assert_non_null(batch);
	for (i = 0; i < n; i++) {
		struct raft_entry *e = &m->append_entries.entries[i];
		uint64_t index = prev + 1 + i;

		e->term = term;
		e->type = RAFT_COMMAND;
		e->buf.base = batch + 8 * i;
		e->buf.len = 8;
		e->batch = batch;
		memcpy(e->buf.base, &index, 8);
	}
	m->append_entries.n_entries = n;
}

static uint64_t payload_index(const struct raft_entry *e)
{
	uint64_t v;

	memcpy(&v, e->buf.base, 8);
	return v;
}

/* --- defect 1: a stale tail acknowledged and committed ---------------- */

/* The follower's persisted state: bootstrap configuration at 1 (term 1),
 * entries 2 and 3 from term 1 that no majority holds, current term 2.
 * The leader of term 2 has other entries at 2 and 3 and has committed
 * them; its heartbeat says prev_log_index 1, leader_commit 3. */
static void stale_tail_setup(struct harness *h)
{
	unsigned i;

	harness_init(h);
	harness_bootstrap(h);
	for (i = 0; i < 2; i++) {
		struct raft_entry e = {.term = 1, .type = RAFT_COMMAND};

		e.buf.len = 8;
		e.buf.base = raft_malloc(8); /* the fixture's disk owns it */
		assert_non_null(e.buf.base);
		memset(e.buf.base, 0xee, 8);
		raft_fixture_add_entry(&h->f, FOLLOWER, &e);
	}
	raft_fixture_set_term(&h->f, FOLLOWER, 2);
	/* Started but never stepped: no tick, no election, no traffic. */
	assert_int_equal(raft_fixture_start(&h->f), 0);
	assert_int_equal(raft_state(follower(h)), RAFT_FOLLOWER);
	assert_int_equal(follower(h)->current_term, 2);
	assert_int_equal(raft_last_index(follower(h)), 3);
	assert_int_equal(follower(h)->last_stored, 3);
	assert_int_equal(follower(h)->commit_index, 1);
}

static void test_stale_tail_heartbeat(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct raft_message m;

	(void)state;
	assert_non_null(h);
	stale_tail_setup(h);
	make_append(&m, 2, 1, 1, 3, 0);
	q53_raft_compat_init(&h->compat, Q53_RAFT_COMPAT_ALL);
	q53_raft_compat_recv(&h->compat, follower(h), &m);
	/* Rewrite: only index 1 is verified; nothing to skip. */
	assert_int_equal(m.append_entries.prev_log_index, 1);
	assert_int_equal(m.append_entries.leader_commit, 1);
	assert_null(m.append_entries.entries);
	assert_int_equal(m.append_entries.n_entries, 0);
	assert_true(h->compat.in_append);
	assert_int_equal(h->compat.verified, 1);
	q53_raft_compat_recv_done(&h->compat);
	assert_false(h->compat.in_append);

	/* Through the follower: the answer stops at 1, nothing stale is
	 * committed or applied. */
	make_append(&m, 2, 1, 1, 3, 0);
	assert_int_equal(deliver(h, &m, Q53_RAFT_COMPAT_ALL), 1);
	assert_int_equal(h->sent.append_entries_result.rejected, 0);
	assert_int_equal(h->sent.append_entries_result.last_log_index, 1);
	assert_int_equal(follower(h)->commit_index, 1);
	assert_int_equal(h->fsms[FOLLOWER].applied, 0);
	harness_close(h);
	free(h);
}

/* The same heartbeat to raw libraft 0.15: it claims its whole log and
 * commits (and applies) its stale tail. */
static void test_stale_tail_heartbeat_raw(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct raft_message m;

	(void)state;
	assert_non_null(h);
	stale_tail_setup(h);
	make_append(&m, 2, 1, 1, 3, 0);
	assert_int_equal(deliver(h, &m, 0), 1);
	assert_int_equal(h->sent.append_entries_result.rejected, 0);
	assert_int_equal(h->sent.append_entries_result.last_log_index, 3);
	assert_int_equal(follower(h)->commit_index, 3);
	harness_close(h);
	free(h);
}

/* --- defect 2: AppendEntries below the follower's snapshot ------------ */

static void applied_cb(struct raft_apply *req, int status, void *result)
{
	(void)status;
	(void)result;
	free(req);
}

static bool snapshot_compacted(struct raft_fixture *f, void *arg)
{
	struct raft *r = raft_fixture_get(f, FOLLOWER);
	raft_index last = *(raft_index *)arg;

	return r->last_applied == last && r->log.snapshot.last_index >= 6 &&
	       r->log.offset >= 2 && r->snapshot.put.data == NULL;
}

static void leader_apply(struct harness *h, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct raft_apply *req = calloc(1, sizeof(*req));
		struct raft_buffer buf = {.len = 8};

		assert_non_null(req);
		buf.base = raft_calloc(1, 8);
		assert_non_null(buf.base);
		assert_int_equal(raft_apply(raft_fixture_get(&h->f, 0), req,
					    &buf, 1, applied_cb),
				 0);
	}
}

/* A running cluster, server 0 leading in term 2, 15 commands applied
 * everywhere; the follower snapshotted at >= 6, compacted its log (entry
 * 1 gone) and holds entries past its snapshot. Returns the leader's last
 * index. */
static raft_index snapshot_setup(struct harness *h)
{
	raft_index last;
	unsigned i;

	harness_init(h);
	for (i = 0; i < N_SERVERS; i++) {
		raft_set_snapshot_threshold(raft_fixture_get(&h->f, i), 4);
		raft_set_snapshot_trailing(raft_fixture_get(&h->f, i), 1);
	}
	harness_bootstrap(h);
	assert_int_equal(raft_fixture_start(&h->f), 0);
	raft_fixture_elect(&h->f, 0);
	assert_int_equal(raft_fixture_get(&h->f, 0)->current_term, 2);
	leader_apply(h, 12);
	last = raft_last_index(raft_fixture_get(&h->f, 0));
	assert_int_equal(last, 13);
	assert_true(
	    raft_fixture_step_until_applied(&h->f, N_SERVERS, last, 10000));
	assert_true(
	    raft_fixture_step_until(&h->f, snapshot_compacted, &last, 10000));
	/* No more snapshots: the follower's log now goes past its own. */
	for (i = 0; i < N_SERVERS; i++)
		raft_set_snapshot_threshold(raft_fixture_get(&h->f, i), 1000);
	leader_apply(h, 3);
	last += 3;
	assert_true(
	    raft_fixture_step_until_applied(&h->f, N_SERVERS, last, 10000));
	assert_int_equal(raft_state(follower(h)), RAFT_FOLLOWER);
	assert_int_equal(follower(h)->current_term, 2);
	assert_int_equal(raft_last_index(follower(h)), last);
	assert_true(follower(h)->log.snapshot.last_index < last);
	return last;
}

/* The leader probes from prev_log_index 1 (entry 1, term 1) with entries
 * 2..last: compat starts the request at the follower's snapshot, and the
 * follower accepts it. */
static void test_below_snapshot(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct raft_message m;
	raft_index last, snap;
	unsigned n;

	(void)state;
	assert_non_null(h);
	last = snapshot_setup(h);
	snap = follower(h)->log.snapshot.last_index;
	n = (unsigned)(last - 1);

	make_append(&m, 2, 1, 1, last, n);
	q53_raft_compat_init(&h->compat, Q53_RAFT_COMPAT_ALL);
	q53_raft_compat_recv(&h->compat, follower(h), &m);
	assert_int_equal(m.append_entries.prev_log_index, snap);
	assert_int_equal(m.append_entries.prev_log_term,
			 follower(h)->log.snapshot.last_term);
	assert_int_equal(m.append_entries.n_entries, last - snap);
	assert_int_equal(payload_index(&m.append_entries.entries[0]), snap + 1);
	assert_int_equal(
	    payload_index(
		&m.append_entries.entries[m.append_entries.n_entries - 1]),
	    last);
	assert_int_equal(m.append_entries.leader_commit, last);
	assert_int_equal(h->compat.verified, last);
	q53_raft_compat_recv_done(&h->compat);
	/* Same array and batch: raft frees them. */
	h->recv(&h->f.servers[FOLLOWER].io, &m);

	/* Through the follower. */
	make_append(&m, 2, 1, 1, last, n);
	assert_int_equal(deliver(h, &m, Q53_RAFT_COMPAT_ALL), 1);
	assert_int_equal(h->sent.append_entries_result.rejected, 0);
	assert_int_equal(h->sent.append_entries_result.last_log_index, last);
	harness_close(h);
	free(h);
}

/* Every entry of the request is covered by the snapshot: all are dropped
 * (array and batch freed, entries NULL) and the answer stops at the
 * snapshot although the follower's log goes further. */
static void test_below_snapshot_all_covered(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct raft_message m;
	raft_index last, snap;

	(void)state;
	assert_non_null(h);
	last = snapshot_setup(h);
	snap = follower(h)->log.snapshot.last_index;
	assert_true(snap < last);

	make_append(&m, 2, 1, 1, last, (unsigned)(snap - 2));
	q53_raft_compat_init(&h->compat, Q53_RAFT_COMPAT_ALL);
	q53_raft_compat_recv(&h->compat, follower(h), &m);
	assert_int_equal(m.append_entries.prev_log_index, snap);
	assert_null(m.append_entries.entries);
	assert_int_equal(m.append_entries.n_entries, 0);
	assert_int_equal(m.append_entries.leader_commit, snap);
	q53_raft_compat_recv_done(&h->compat);

	make_append(&m, 2, 1, 1, last, (unsigned)(snap - 2));
	assert_int_equal(deliver(h, &m, Q53_RAFT_COMPAT_ALL), 1);
	assert_int_equal(h->sent.append_entries_result.rejected, 0);
	assert_int_equal(h->sent.append_entries_result.last_log_index, snap);
	harness_close(h);
	free(h);
}

/* Raw libraft 0.15 rejects the same request although every entry up to
 * its snapshot is committed. */
static void test_below_snapshot_raw(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct raft_message m;
	raft_index last;

	(void)state;
	assert_non_null(h);
	last = snapshot_setup(h);
	make_append(&m, 2, 1, 1, last, (unsigned)(last - 1));
	assert_int_equal(deliver(h, &m, 0), 1);
	assert_int_not_equal(h->sent.append_entries_result.rejected, 0);
	harness_close(h);
	free(h);
}

/* --- what is left alone ------------------------------------------------ */

static void test_untouched(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct raft_message m, r;

	(void)state;
	assert_non_null(h);
	stale_tail_setup(h);
	q53_raft_compat_init(&h->compat, Q53_RAFT_COMPAT_ALL);

	/* An older term: raft rejects it as is, no window. */
	make_append(&m, 1, 1, 1, 3, 0);
	q53_raft_compat_recv(&h->compat, follower(h), &m);
	assert_int_equal(m.append_entries.leader_commit, 3);
	assert_false(h->compat.in_append);

	/* Not an AppendEntries. */
	memset(&m, 0, sizeof(m));
	m.type = RAFT_IO_REQUEST_VOTE;
	m.request_vote.term = 5;
	m.request_vote.last_log_index = 9;
	q53_raft_compat_recv(&h->compat, follower(h), &m);
	assert_int_equal(m.request_vote.last_log_index, 9);
	assert_false(h->compat.in_append);

	/* A result outside the window, a rejection inside it, and the
	 * commit fix off: unchanged. */
	memset(&r, 0, sizeof(r));
	r.type = RAFT_IO_APPEND_ENTRIES_RESULT;
	r.append_entries_result.last_log_index = 3;
	q53_raft_compat_send(&h->compat, &r);
	assert_int_equal(r.append_entries_result.last_log_index, 3);

	make_append(&m, 2, 1, 1, 3, 0);
	q53_raft_compat_recv(&h->compat, follower(h), &m);
	r.append_entries_result.rejected = 1;
	q53_raft_compat_send(&h->compat, &r);
	assert_int_equal(r.append_entries_result.last_log_index, 3);
	r.append_entries_result.rejected = 0;
	q53_raft_compat_send(&h->compat, &r);
	assert_int_equal(r.append_entries_result.last_log_index, 1);
	q53_raft_compat_recv_done(&h->compat);

	q53_raft_compat_init(&h->compat, Q53_RAFT_COMPAT_SNAPSHOT);
	make_append(&m, 2, 1, 1, 3, 0);
	q53_raft_compat_recv(&h->compat, follower(h), &m);
	assert_int_equal(m.append_entries.leader_commit, 3);
	assert_false(h->compat.in_append);
	harness_close(h);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stale_tail_heartbeat),
	    cmocka_unit_test(test_stale_tail_heartbeat_raw),
	    cmocka_unit_test(test_below_snapshot),
	    cmocka_unit_test(test_below_snapshot_all_covered),
	    cmocka_unit_test(test_below_snapshot_raw),
	    cmocka_unit_test(test_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
