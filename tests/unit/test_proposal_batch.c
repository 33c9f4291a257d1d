/* The proposal queue (node/runtime/proposal_batch.h) on a 3-node
 * raft_fixture cluster, each node a counter FSM (tests/unit/support)
 * behind the fsm_log adapter: several entries of the queue in flight at
 * once (up to PROPOSAL_BATCH_MAX_INFLIGHT), each grouping what waited;
 * every proposal answered exactly once, in the order it was added, with
 * its own command's result (a rejected command between two accepted ones
 * fails neither); every node applies the commands in that order; and
 * proposals still waiting when leadership is gone are answered with the
 * error while the entries in flight are raft's to answer. */
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>
#include <raft/fixture.h>

#include "node/raft/fsm_log.h"
#include "node/runtime/proposal_batch.h"
#include "tests/unit/support/fsm_counter.h"

#define SERVERS	     3
#define CLIENT_ID    7
#define N_PROPS	     120
#define REJECT_EVERY 13 /* proposals k % REJECT_EVERY == 5 are rejected */

struct cluster {
	struct raft_fixture f;
	struct q53_fsm_counter fsm[SERVERS];
	struct q53_fsm_log log[SERVERS];
};

static void cluster_start(struct cluster *c)
{
	struct raft_configuration conf;

	memset(c, 0, sizeof(*c)); /* raft 0.15 reads it before setting it */
	assert_int_equal(raft_fixture_initialize(&c->f), 0);
	for (unsigned i = 0; i < SERVERS; i++) {
		q53_fsm_counter_init(&c->fsm[i]);
		assert_int_equal(
		    q53_fsm_log_init(&c->log[i], &c->fsm[i].fsm, NULL), 0);
		assert_int_equal(raft_fixture_grow(&c->f, &c->log[i].raft_fsm),
				 0);
	}
	assert_int_equal(raft_fixture_configuration(&c->f, SERVERS, &conf), 0);
	assert_int_equal(raft_fixture_bootstrap(&c->f, &conf), 0);
	raft_configuration_close(&conf);
	assert_int_equal(raft_fixture_start(&c->f), 0);
	assert_true(raft_fixture_step_until_has_leader(&c->f, 10000));
}

static void cluster_close(struct cluster *c)
{
	raft_fixture_close(&c->f);
	for (unsigned i = 0; i < SERVERS; i++) {
		q53_fsm_log_close(&c->log[i]);
		q53_fsm_counter_close(&c->fsm[i]);
	}
}

/* One proposal and what came back. */
struct prop {
	unsigned k; /* position in the order of proposal_batch_add */
	unsigned calls;
	int status;
	enum q53_fsm_log_status log_status;
	int32_t code;
	uint64_t request_id;
	uint64_t length;      /* the counter's answer: list length after it */
	unsigned answered_as; /* how many proposals were answered before */
};

static unsigned n_answered;

static void done_cb(void *arg, int status, const struct q53_fsm_log_result *res)
{
	struct prop *p = arg;

	p->calls++;
	p->status = status;
	p->answered_as = n_answered++;
	if (status != 0) {
		assert_null(res);
		return;
	}
	assert_non_null(res);
	p->log_status = res->status;
	p->code = res->code;
	p->request_id = res->request_id;
	if (res->code == 0) {
		assert_int_equal(res->len, 8);
		memcpy(&p->length, res->bytes, 8);
		p->length = le64toh(p->length);
	}
}

static struct raft_buffer frame(unsigned k)
{
	uint64_t id = 1000 + k;
	struct q53_fsm_log_command cmd = {
	    .type = k % REJECT_EVERY == 5 ? 99 : Q53_FSM_COUNTER_APPEND,
	    .client_id = CLIENT_ID,
	    .request_id = k + 1,
	    .payload = (const uint8_t *)&id,
	    .len = sizeof(id),
	};
	struct raft_buffer buf;

	assert_int_equal(q53_fsm_log_encode(&cmd, &buf), 0);
	return buf;
}

static void test_window_order(void **state)
{
	static struct cluster c;
	struct proposal_batch q;
	struct prop props[N_PROPS];
	struct raft *leader;
	unsigned k = 0, max_inflight = 0, accepted = 0;

	(void)state;
	n_answered = 0;
	cluster_start(&c);
	leader = raft_fixture_get(&c.f, raft_fixture_leader_index(&c.f));
	proposal_batch_init(&q, leader);
	memset(props, 0, sizeof(props));
	/* Loop turns: a few proposals arrive, the turn ends with a flush,
	 * raft makes a little progress; until everything is answered. */
	for (unsigned turn = 0; n_answered < N_PROPS; turn++) {
		assert_true(turn < 20000);
		for (unsigned j = 0; j < 1 + turn % 7 && k < N_PROPS;
		     j++, k++) {
			props[k].k = k;
			assert_int_equal(proposal_batch_add(&q, frame(k),
							    done_cb, &props[k]),
					 0);
		}
		proposal_batch_flush(&q);
		assert_true(q.n_inflight <= PROPOSAL_BATCH_MAX_INFLIGHT);
		if (q.n_inflight > max_inflight)
			max_inflight = q.n_inflight;
		raft_fixture_step(&c.f);
		assert_ptr_equal(
		    raft_fixture_get(&c.f, raft_fixture_leader_index(&c.f)),
		    leader);
	}
	assert_int_equal(q.n_waiting, 0);
	assert_int_equal(q.n_inflight, 0);
	assert_int_equal(q.commands, N_PROPS);
	/* grouped: fewer entries than commands, and the window was used */
	assert_true(q.entries < N_PROPS);
	assert_true(max_inflight >= 2);
	assert_int_equal(max_inflight, PROPOSAL_BATCH_MAX_INFLIGHT);
	for (k = 0; k < N_PROPS; k++) {
		struct prop *p = &props[k];

		assert_int_equal(p->calls, 1);
		assert_int_equal(p->status, 0);
		assert_int_equal(p->answered_as, k); /* in order */
		assert_int_equal(p->log_status, Q53_FSM_LOG_APPLIED);
		assert_int_equal(p->request_id, k + 1);
		if (k % REJECT_EVERY == 5) {
			assert_int_equal(p->code, Q53_FSM_COUNTER_REJECTED);
		} else {
			assert_int_equal(p->code, 0);
			accepted++;
			/* its own result: the list length after it */
			assert_int_equal(p->length, accepted);
		}
	}
	/* Every node applied the accepted ones in the order of adding. */
	assert_true(raft_fixture_step_until_applied(
	    &c.f, SERVERS, raft_last_applied(leader), 10000));
	for (unsigned i = 0; i < SERVERS; i++) {
		unsigned n = 0;

		assert_int_equal(c.fsm[i].n, accepted);
		for (k = 0; k < N_PROPS; k++)
			if (k % REJECT_EVERY != 5)
				assert_int_equal(c.fsm[i].ids[n++], 1000 + k);
		assert_int_equal(c.fsm[i].hash, c.fsm[0].hash);
	}
	proposal_batch_close(&q);
	cluster_close(&c);
}

/* The leader loses its followers with a full window and more waiting:
 * the waiting ones are answered at once with the error, exactly once;
 * the ones in flight only by raft (here: when it steps down), never with
 * success unless their entry was committed. */
static void test_leadership_lost(void **state)
{
	static struct cluster c;
	struct proposal_batch q;
	struct prop props[40];
	unsigned li, k = 0, waiting;
	struct raft *leader;

	(void)state;
	n_answered = 0;
	cluster_start(&c);
	li = raft_fixture_leader_index(&c.f);
	leader = raft_fixture_get(&c.f, li);
	proposal_batch_init(&q, leader);
	memset(props, 0, sizeof(props));
	for (unsigned i = 0; i < SERVERS; i++)
		if (i != li)
			raft_fixture_kill(&c.f, i);
	for (unsigned e = 0; e < PROPOSAL_BATCH_MAX_INFLIGHT + 2; e++) {
		for (unsigned j = 0; j < 4; j++, k++) {
			props[k].k = k;
			assert_int_equal(proposal_batch_add(&q, frame(k),
							    done_cb, &props[k]),
					 0);
		}
		proposal_batch_flush(&q);
	}
	assert_int_equal(q.n_inflight, PROPOSAL_BATCH_MAX_INFLIGHT);
	waiting = q.n_waiting;
	assert_int_equal(waiting, k - 4 * PROPOSAL_BATCH_MAX_INFLIGHT);
	proposal_batch_fail_waiting(&q, RAFT_NOTLEADER);
	assert_int_equal(q.n_waiting, 0);
	assert_int_equal(n_answered, waiting);
	for (unsigned i = k - waiting; i < k; i++) {
		assert_int_equal(props[i].calls, 1);
		assert_int_equal(props[i].status, RAFT_NOTLEADER);
	}
	/* Without a quorum nothing commits; the leader steps down and raft
	 * answers the entries in flight with an error. */
	for (unsigned s = 0; s < 20000 && n_answered < k; s++)
		raft_fixture_step(&c.f);
	assert_int_equal(n_answered, k);
	for (unsigned i = 0; i < k; i++) {
		assert_int_equal(props[i].calls, 1);
		assert_int_not_equal(props[i].status, 0);
	}
	assert_int_equal(q.n_inflight, 0);
	assert_int_equal(c.fsm[li].n, 0);
	proposal_batch_close(&q);
	cluster_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_order),
	    cmocka_unit_test(test_leadership_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
