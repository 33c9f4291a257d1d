/* Deterministic cluster simulation (house style #14) of the replicated
 * control plane's log: raft_fixture (simulated time, in-memory disk and
 * network) runs 3- or 5-node clusters whose FSM is node/raft/fsm_log.c
 * around the test FSM tests/unit/support/fsm_counter.c. A seeded schedule mixes
 * client submissions, one-way and two-way link partitions (saturate /
 * desaturate), leader deposition and transfer, kills and revivals, and
 * stepping; clients retry an unanswered request with the SAME request id
 * on whichever node leads now. After healing everything the run checks:
 * - every node applied the same commands in the same order (list + hash,
 *   and byte-identical adapter snapshots, sessions included);
 * - every acknowledged request is in that list exactly once, at the place
 *   its acknowledgement reported;
 * - no request was applied twice (duplicates became no-ops) and each
 *   client's requests were applied in order.
 *
 * Seeds: Q53_SIM_SEED=<n> (or argv[1]) runs one seed; otherwise
 * Q53_SIM_SEEDS seeds (default 1000) starting at Q53_SIM_FIRST_SEED (1).
 * A failure names its seed. Q53_TEST_VERBOSE=1 prints per-seed stats.
 *
 * Limits of raft_fixture 0.15: a killed server keeps its memory (a crash
 * with an intact disk and a frozen process, not a restart from disk), and
 * messages are never reordered within a link. Two libraft 0.15 defects
 * are worked around at the fixture io by node/raft/raft_compat.c, as in
 * node/raft/raft_io.c (sim_io_shim; Q53_SIM_RAW_RAFT=1 shows them). */
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

#include "tests/unit/support/fsm_counter.h"
#include "node/raft/fsm_log.h"
#include "node/raft/raft_compat.h"

#define MAX_SERVERS 5
#define N_CLIENTS   4
/* Actions of the faulty phase, and how long (simulated ms) the healed
 * cluster gets to finish every client's request and converge. */
#define FAULT_ACTIONS 2000
#define HEAL_MS	      120000
/* A client whose attempt got no answer for this long tries again. */
#define RETRY_MS     2500
#define MAX_INFLIGHT 3

struct sim;

struct attempt {
	struct raft_apply req;
	struct sim *sim;
	unsigned client;
	uint64_t request_id;
	unsigned server;
};

struct client {
	uint64_t id;
	uint64_t next;	     /* request being submitted: 1, 2, ... */
	bool pending;	     /* `next` was submitted, not acknowledged */
	bool retry;	     /* the last attempt failed */
	unsigned in_flight;  /* attempts whose callback has not fired */
	raft_time last_sent; /* simulated time of the last attempt */
	uint64_t *acked_at;  /* [r - 1]: list length reported for request r */
	size_t n_acked;
};

struct sim {
	struct raft_fixture f;
	unsigned n;
	uint64_t seed;
	uint64_t rng;
	bool healing;
	struct q53_fsm_counter counters[MAX_SERVERS];
	struct q53_fsm_log logs[MAX_SERVERS];
	struct client clients[N_CLIENTS];
	bool failed;
	char why[256];
	/* stats */
	unsigned attempts, acks, errors, duplicates, stales, kills, cuts;
	unsigned restores, barriers;
	bool barrier_in_flight;
};

static bool verbose;

/* Counts InstallSnapshot restores around the adapter's own restore. */
static int (*log_restore)(struct raft_fsm *fsm, struct raft_buffer *buf);
static struct sim *current;

static int counting_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	int rv = log_restore(fsm, buf);

	current->restores++;
	if (rv != 0 && verbose)
		printf("restore failed: %d\n", rv);
	return rv;
}

/* --- helpers ------------------------------------------------------------ */

static uint64_t rnd(struct sim *s)
{
	/* splitmix64: tiny, good enough, same stream on every box */
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned below(struct sim *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

static void sim_fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = true;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

static uint64_t command_id(uint64_t client, uint64_t request)
{
	return client << 40 | request;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* --- clients --------------------------------------------------------------
 */

static void record_ack(struct sim *s, struct client *c, uint64_t request,
		       uint64_t at)
{
	if (request != c->n_acked + 1) {
		sim_fail(s, "client %llu: ack of request %llu after %zu",
			 (unsigned long long)c->id, (unsigned long long)request,
			 c->n_acked);
		return;
	}
	c->acked_at = realloc(c->acked_at, (c->n_acked + 1) * sizeof(at));
	assert_non_null(c->acked_at);
	c->acked_at[c->n_acked++] = at;
	c->next = request + 1;
	c->pending = false;
	c->retry = false;
	s->acks++;
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct attempt *a = req->data;
	struct sim *s = a->sim;
	struct client *c = &s->clients[a->client];
	const struct q53_fsm_log_result *r = result;
	uint64_t at;

	c->in_flight--;
	if (status != 0) {
		s->errors++;
		if (a->request_id == c->next)
			c->retry = true;
		free(a);
		return;
	}
	/* raft 0.15 calls back right after fsm->apply: the adapter's slot
	 * still holds this entry's result. */
	if (r != &s->logs[a->server].last) {
		sim_fail(s, "apply result is not the adapter's slot");
		free(a);
		return;
	}
	switch (r->status) {
	case Q53_FSM_LOG_APPLIED:
	case Q53_FSM_LOG_DUPLICATE:
		if (r->status == Q53_FSM_LOG_DUPLICATE)
			s->duplicates++;
		if (r->code != 0 || r->len != 8) {
			sim_fail(s, "bad result code %d len %zu", r->code,
				 r->len);
			break;
		}
		at = le64(r->bytes);
		if (a->request_id == c->next && c->pending)
			record_ack(s, c, a->request_id, at);
		else if (a->request_id > c->n_acked ||
			 c->acked_at[a->request_id - 1] != at)
			sim_fail(s,
				 "client %llu request %llu: answered %llu, "
				 "first answer %llu",
				 (unsigned long long)c->id,
				 (unsigned long long)a->request_id,
				 (unsigned long long)at,
				 a->request_id <= c->n_acked
				     ? (unsigned long long)
					   c->acked_at[a->request_id - 1]
				     : 0ull);
		break;
	case Q53_FSM_LOG_STALE:
		s->stales++;
		/* Only a request the client has moved past can be stale. */
		if (a->request_id >= c->next)
			sim_fail(s, "client %llu request %llu: stale",
				 (unsigned long long)c->id,
				 (unsigned long long)a->request_id);
		break;
	default:
		sim_fail(s, "entry applied as status %d", (int)r->status);
	}
	free(a);
}

/* A live leader, chosen at random when a partition leaves two. */
static int pick_leader(struct sim *s)
{
	unsigned leaders[MAX_SERVERS], n = 0, i;

	for (i = 0; i < s->n; i++)
		if (raft_fixture_alive(&s->f, i) &&
		    raft_state(raft_fixture_get(&s->f, i)) == RAFT_LEADER)
			leaders[n++] = i;
	return n == 0 ? -1 : (int)leaders[below(s, n)];
}

static void client_submit(struct sim *s, unsigned ci)
{
	struct client *c = &s->clients[ci];
	struct q53_fsm_log_command cmd = {0};
	uint8_t payload[24];
	struct raft_buffer buf;
	struct attempt *a;
	raft_time now = raft_fixture_time(&s->f);
	unsigned i;
	int leader;

	if (!c->pending) {
		if (s->healing)
			return; /* no new work once healing starts */
		c->pending = true;
		c->retry = false;
	} else if (c->in_flight > 0 && !c->retry &&
		   now - c->last_sent < RETRY_MS) {
		return; /* still waiting for an answer */
	}
	if (c->in_flight >= MAX_INFLIGHT)
		return;
	leader = pick_leader(s);
	if (leader < 0)
		return;

	/* 8..24 bytes: exercises the padding to 8. */
	cmd.len = 8 + below(s, 17);
	memset(payload, 0, sizeof(payload));
	for (i = 0; i < 8; i++)
		payload[i] = (uint8_t)(command_id(c->id, c->next) >> (8 * i));
	cmd.type = Q53_FSM_COUNTER_APPEND;
	cmd.client_id = c->id;
	cmd.request_id = c->next;
	cmd.payload = payload;
	assert_int_equal(q53_fsm_log_encode(&cmd, &buf), 0);
	a = calloc(1, sizeof(*a));
	assert_non_null(a);
	a->sim = s;
	a->client = ci;
	a->request_id = c->next;
	a->server = (unsigned)leader;
	a->req.data = a;
	if (raft_apply(raft_fixture_get(&s->f, (unsigned)leader), &a->req, &buf,
		       1, apply_cb) != 0) {
		raft_free(buf.base);
		free(a);
		return;
	}
	c->in_flight++;
	c->retry = false;
	c->last_sent = now;
	s->attempts++;
}

/* --- faults ----------------------------------------------------------------
 */

static unsigned n_alive(struct sim *s)
{
	unsigned i, n = 0;

	for (i = 0; i < s->n; i++)
		n += raft_fixture_alive(&s->f, i);
	return n;
}

static bool any_saturated(struct sim *s)
{
	unsigned i, j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->n; j++)
			if (i != j && raft_fixture_saturated(&s->f, i, j))
				return true;
	return false;
}

static void heal_links(struct sim *s)
{
	unsigned i, j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->n; j++)
			if (i != j && raft_fixture_saturated(&s->f, i, j))
				raft_fixture_desaturate(&s->f, i, j);
}

static void transfer_cb(struct raft_transfer *req)
{
	free(req);
}

static void fault(struct sim *s)
{
	unsigned i = below(s, s->n), j = below(s, s->n), k;
	unsigned roll = below(s, 100);

	if (roll < 20) { /* cut a link, one way or both */
		if (i == j)
			return;
		raft_fixture_saturate(&s->f, i, j);
		if (below(s, 2))
			raft_fixture_saturate(&s->f, j, i);
		s->cuts++;
	} else if (roll < 30) { /* isolate a server */
		for (k = 0; k < s->n; k++) {
			if (k == i)
				continue;
			raft_fixture_saturate(&s->f, i, k);
			raft_fixture_saturate(&s->f, k, i);
		}
		s->cuts++;
	} else if (roll < 50) { /* repair one link or everything */
		if (below(s, 3) == 0)
			heal_links(s);
		else if (i != j) {
			if (raft_fixture_saturated(&s->f, i, j))
				raft_fixture_desaturate(&s->f, i, j);
			if (raft_fixture_saturated(&s->f, j, i))
				raft_fixture_desaturate(&s->f, j, i);
		}
	} else if (roll < 65) { /* kill, keeping a majority most of the time */
		if (raft_fixture_alive(&s->f, i) &&
		    (n_alive(s) > s->n / 2 + 1 || below(s, 8) == 0) &&
		    n_alive(s) > 1) {
			raft_fixture_kill(&s->f, i);
			s->kills++;
		}
	} else if (roll < 85) { /* revive */
		if (!raft_fixture_alive(&s->f, i))
			raft_fixture_revive(&s->f, i);
	} else if (roll < 92) { /* leader hands over */
		int l = pick_leader(s);
		struct raft_transfer *t;

		if (l < 0)
			return;
		t = calloc(1, sizeof(*t));
		assert_non_null(t);
		if (raft_transfer(raft_fixture_get(&s->f, (unsigned)l), t, 0,
				  transfer_cb) != 0)
			free(t);
	} else { /* depose: only where the fixture's asserts hold */
		if (s->f.leader_id != 0 && n_alive(s) == s->n &&
		    !any_saturated(s) &&
		    raft_state(raft_fixture_get(
			&s->f, (unsigned)s->f.leader_id - 1)) == RAFT_LEADER)
			raft_fixture_depose(&s->f);
	}
}

/* --- the run ---------------------------------------------------------------
 */

static bool all_done(struct raft_fixture *f, void *arg)
{
	struct sim *s = arg;
	raft_index last = 0;
	unsigned i;
	int leader;

	(void)f;
	for (i = 0; i < N_CLIENTS; i++)
		if (s->clients[i].pending || s->clients[i].in_flight > 0)
			return false;
	leader = pick_leader(s);
	if (leader < 0)
		return false;
	last = raft_last_index(raft_fixture_get(&s->f, (unsigned)leader));
	for (i = 0; i < s->n; i++)
		if (raft_last_applied(raft_fixture_get(&s->f, i)) != last)
			return false;
	return true;
}

static void check_converged(struct sim *s)
{
	struct q53_fsm_counter *c0 = &s->counters[0];
	struct raft_buffer *bufs0 = NULL, *bufs = NULL;
	unsigned n0 = 0, nb = 0, i, b;
	size_t k;

	for (i = 1; i < s->n && !s->failed; i++) {
		struct q53_fsm_counter *c = &s->counters[i];

		if (c->n != c0->n || c->hash != c0->hash ||
		    (c->n > 0 &&
		     memcmp(c->ids, c0->ids, c->n * sizeof(*c->ids)) != 0))
			sim_fail(s, "server %u applied %zu, server 1 %zu",
				 i + 1, c->n, c0->n);
	}
	/* Adapter state (sessions included) byte for byte. */
	assert_int_equal(
	    s->logs[0].raft_fsm.snapshot(&s->logs[0].raft_fsm, &bufs0, &n0), 0);
	for (i = 1; i < s->n && !s->failed; i++) {
		struct raft_fsm *fsm = &s->logs[i].raft_fsm;

		assert_int_equal(fsm->snapshot(fsm, &bufs, &nb), 0);
		if (nb != n0)
			sim_fail(s, "snapshot of %u has %u buffers", i + 1, nb);
		for (b = 0; b < nb && b < n0; b++)
			if (bufs[b].len != bufs0[b].len ||
			    memcmp(bufs[b].base, bufs0[b].base, bufs[b].len))
				sim_fail(s, "snapshot of %u differs", i + 1);
		fsm->snapshot_finalize(fsm, &bufs, &nb);
	}
	s->logs[0].raft_fsm.snapshot_finalize(&s->logs[0].raft_fsm, &bufs0,
					      &n0);

	/* Exactly once, in each client's order, where the ack said. */
	{
		uint64_t last[N_CLIENTS] = {0};

		for (k = 0; k < c0->n && !s->failed; k++) {
			uint64_t client = c0->ids[k] >> 40;
			uint64_t request = c0->ids[k] & ((1ull << 40) - 1);

			if (client < 1 || client > N_CLIENTS) {
				sim_fail(s, "unknown id %llx",
					 (unsigned long long)c0->ids[k]);
				break;
			}
			if (request <= last[client - 1])
				sim_fail(s,
					 "client %llu request %llu applied "
					 "after %llu",
					 (unsigned long long)client,
					 (unsigned long long)request,
					 (unsigned long long)last[client - 1]);
			last[client - 1] = request;
		}
	}
	for (i = 0; i < N_CLIENTS && !s->failed; i++) {
		struct client *cl = &s->clients[i];

		for (k = 0; k < cl->n_acked; k++) {
			uint64_t at = cl->acked_at[k];

			if (at == 0 || at > c0->n ||
			    c0->ids[at - 1] != command_id(cl->id, k + 1)) {
				sim_fail(s,
					 "acked request %zu of client %llu "
					 "not at %llu",
					 k + 1, (unsigned long long)cl->id,
					 (unsigned long long)at);
				break;
			}
		}
	}
}

/* raft_fixture 0.15's in-memory disk assumes its entry array starts at index
 * 1: after an InstallSnapshot emptied it, a truncation reads past the array
 * (fixture.c ioMethodTruncate, found by this test under ASan). Its entries
 * are only read back by io->load at raft_start, which a fixture never
 * repeats (kill/revive keep memory), so truncating them is skipped. */
static int sim_io_truncate(struct raft_io *io, raft_index index)
{
	(void)io;
	(void)index;
	return 0;
}

/* Two libraft 0.15 defects (an AppendEntries acknowledged and committed
 * past prev_log_index + n_entries: seeds 17, 24, ...; one below the
 * follower's snapshot crashing it: seed 752) are worked around by
 * node/raft/raft_compat.c, the code node/raft/raft_io.c runs at its
 * delivery and send points. The simulation applies it at the fixture io,
 * so it checks the cluster the product runs. Q53_SIM_RAW_RAFT=1 (or
 * =commit, =snapshot for one of the two) turns it off to show the
 * defects. */
struct sim_io_shim {
	raft_io_recv_cb recv;
	int (*start)(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
		     raft_io_recv_cb recv);
	int (*send)(struct raft_io *io, struct raft_io_send *req,
		    const struct raft_message *message, raft_io_send_cb cb);
	struct q53_raft_compat compat;
};

static struct sim_io_shim shims[MAX_SERVERS];
static unsigned compat_fixes = Q53_RAFT_COMPAT_ALL;

static struct sim_io_shim *shim_of(struct raft_io *io)
{
	unsigned i;

	for (i = 0; i < MAX_SERVERS; i++)
		if (io == &current->f.servers[i].io)
			return &shims[i];
	fail_msg("unknown io");
	return NULL;
}

static void shim_recv(struct raft_io *io, struct raft_message *m)
{
	struct sim_io_shim *sh = shim_of(io);

	/* raft_init set io->data to the raft instance. */
	q53_raft_compat_recv(&sh->compat, io->data, m);
	sh->recv(io, m);
	q53_raft_compat_recv_done(&sh->compat);
}

static int shim_send(struct raft_io *io, struct raft_io_send *req,
		     const struct raft_message *message, raft_io_send_cb cb)
{
	struct sim_io_shim *sh = shim_of(io);
	struct raft_message m = *message;

	/* The fixture copies the message before returning. */
	q53_raft_compat_send(&sh->compat, &m);
	return sh->send(io, req, &m, cb);
}

static int shim_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
		      raft_io_recv_cb recv)
{
	struct sim_io_shim *sh = shim_of(io);

	sh->recv = recv;
	return sh->start(io, msecs, tick, shim_recv);
}

static void shim_install(struct raft_io *io, struct sim_io_shim *sh)
{
	memset(sh, 0, sizeof(*sh));
	if (compat_fixes == 0)
		return;
	q53_raft_compat_init(&sh->compat, compat_fixes);
	sh->start = io->start;
	sh->send = io->send;
	io->start = shim_start;
	io->send = shim_send;
}

static void sim_setup(struct sim *s, uint64_t seed)
{
	struct raft_configuration conf;
	unsigned i;

	memset(s, 0, sizeof(*s)); /* the fixture too: RAFT_OVER_NNG.md #17 */
	current = s;
	s->seed = seed;
	s->rng = seed;
	s->n = below(s, 2) ? 5 : 3;
	assert_int_equal(raft_fixture_initialize(&s->f), 0);
	for (i = 0; i < s->n; i++) {
		q53_fsm_counter_init(&s->counters[i]);
		assert_int_equal(
		    q53_fsm_log_init(&s->logs[i], &s->counters[i].fsm, NULL),
		    0);
		assert_int_equal(raft_fixture_grow(&s->f, &s->logs[i].raft_fsm),
				 0);
		s->f.servers[i].io.truncate = sim_io_truncate;
		shim_install(&s->f.servers[i].io, &shims[i]);
		log_restore = s->logs[i].raft_fsm.restore;
		s->logs[i].raft_fsm.restore = counting_restore;
	}
	for (i = 0; i < s->n; i++) {
		struct raft *r = raft_fixture_get(&s->f, i);

		/* Small thresholds: snapshots, InstallSnapshot and restore
		 * happen in most runs. */
		raft_set_snapshot_threshold(r, 8 + below(s, 40));
		raft_set_snapshot_trailing(r, 2 + below(s, 10));
		raft_fixture_set_randomized_election_timeout(
		    &s->f, i, 1000 + below(s, 1000));
		raft_fixture_set_network_latency(&s->f, i, 5 + below(s, 40));
		raft_fixture_set_disk_latency(&s->f, i, 5 + below(s, 30));
	}
	for (i = 0; i < N_CLIENTS; i++) {
		s->clients[i].id = i + 1;
		s->clients[i].next = 1;
	}
	raft_configuration_init(&conf);
	assert_int_equal(raft_fixture_configuration(&s->f, s->n, &conf), 0);
	assert_int_equal(raft_fixture_bootstrap(&s->f, &conf), 0);
	raft_configuration_close(&conf);
	assert_int_equal(raft_fixture_start(&s->f), 0);
}

static void sim_teardown(struct sim *s)
{
	unsigned i;

	raft_fixture_close(&s->f); /* fires what is still pending */
	for (i = 0; i < N_CLIENTS; i++) {
		assert_int_equal(s->clients[i].in_flight, 0);
		free(s->clients[i].acked_at);
	}
	for (i = 0; i < s->n; i++) {
		q53_fsm_log_close(&s->logs[i]);
		q53_fsm_counter_close(&s->counters[i]);
	}
}

static void barrier_cb(struct raft_barrier *req, int status)
{
	struct sim *s = req->data;

	(void)status;
	s->barrier_in_flight = false;
	free(req);
}

/* Once per healing round (500 ms):
 * - new election timeouts: raft_uv draws one per election, the fixture's
 *   io->random returns a fixed one per server, with which two servers can
 *   split every election for ever (seed 481: the most up-to-date server
 *   always times out just after a shorter log won);
 * - a barrier when no client has work left but the leader's log goes past
 *   its commit index: entries of older terms commit only under an entry of
 *   the leader's own term (Raft §5.4.2), and the product's leader issues
 *   one the same way. */
static void heal_round(struct sim *s)
{
	struct raft_barrier *b;
	struct raft *r;
	unsigned i;
	int leader;

	for (i = 0; i < s->n; i++)
		raft_fixture_set_randomized_election_timeout(
		    &s->f, i, 1000 + below(s, 1000));
	for (i = 0; i < N_CLIENTS; i++)
		if (s->clients[i].pending || s->clients[i].in_flight > 0)
			return;
	leader = pick_leader(s);
	if (leader < 0 || s->barrier_in_flight)
		return;
	r = raft_fixture_get(&s->f, (unsigned)leader);
	if (r->commit_index >= raft_last_index(r))
		return;
	b = calloc(1, sizeof(*b));
	assert_non_null(b);
	b->data = s;
	if (raft_barrier(r, b, barrier_cb) != 0) {
		free(b);
		return;
	}
	s->barrier_in_flight = true;
	s->barriers++;
}

/* One seed; returns false (with s->why) on a violated invariant. */
static bool run_seed(struct sim *s, uint64_t seed)
{
	raft_time heal_end;
	unsigned a, i;
	bool done;

	sim_setup(s, seed);
	for (a = 0; a < FAULT_ACTIONS && !s->failed; a++) {
		if (below(s, 100) < 12)
			fault(s);
		for (i = 0; i < N_CLIENTS; i++)
			if (below(s, 3) == 0)
				client_submit(s, i);
		raft_fixture_step_n(&s->f, 1 + below(s, 12));
	}

	/* heal: everyone back, every link up, finish what clients started */
	s->healing = true;
	for (i = 0; i < s->n; i++)
		if (!raft_fixture_alive(&s->f, i))
			raft_fixture_revive(&s->f, i);
	heal_links(s);
	done = false;
	heal_end = raft_fixture_time(&s->f) + HEAL_MS;
	while (!done && !s->failed && raft_fixture_time(&s->f) < heal_end) {
		for (i = 0; i < N_CLIENTS; i++)
			client_submit(s, i);
		heal_round(s);
		done = raft_fixture_step_until(&s->f, all_done, s, 500);
	}
	if (!done && !s->failed) {
		char servers[200] = "", *p = servers;

		for (i = 0; i < s->n; i++) {
			struct raft *r = raft_fixture_get(&s->f, i);

			p += snprintf(
			    p, (size_t)(servers + sizeof(servers) - p),
			    " %u:%d/t%llu/c%llu/s%llu/a%llu/l%llu", i + 1,
			    raft_state(r), (unsigned long long)r->current_term,
			    (unsigned long long)r->commit_index,
			    (unsigned long long)r->last_stored,
			    (unsigned long long)raft_last_applied(r),
			    (unsigned long long)raft_last_index(r));
		}
		sim_fail(s,
			 "no convergence after healing (t=%llu; "
			 "state/term/applied/last:%s; client 1 pending %d "
			 "in flight %u)",
			 (unsigned long long)raft_fixture_time(&s->f), servers,
			 s->clients[0].pending, s->clients[0].in_flight);
	}
	if (!s->failed)
		check_converged(s);
	if (verbose)
		printf("seed %llu: n=%u t=%llu applied=%zu attempts=%u acks=%u "
		       "errors=%u dup=%u stale=%u kills=%u cuts=%u "
		       "restores=%u barriers=%u%s\n",
		       (unsigned long long)seed, s->n,
		       (unsigned long long)raft_fixture_time(&s->f),
		       s->counters[0].n, s->attempts, s->acks, s->errors,
		       s->duplicates, s->stales, s->kills, s->cuts, s->restores,
		       s->barriers, s->failed ? " FAILED" : "");
	sim_teardown(s);
	return !s->failed;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? strtoull(v, NULL, 10) : dflt;
}

static const char *one_seed; /* argv[1] */

/* Seeds traced to a libraft 0.15 defect that the shim above does not work
 * around: a comma-separated list in Q53_SIM_KNOWN_BAD (tests/unit/
 * CMakeLists.txt names the defect next to it). They are skipped and named
 * in the output, so a NEW failing seed still fails the test; run one with
 * Q53_SIM_SEED=N to see it fail. */
static bool known_bad(uint64_t seed)
{
	const char *v = getenv("Q53_SIM_KNOWN_BAD");
	while (v != NULL && *v != '\0') {
		char *end;
		unsigned long long k = strtoull(v, &end, 10);
		if (end == v)
			break;
		if (k == seed)
			return true;
		v = *end == ',' ? end + 1 : end;
	}
	return false;
}

static void test_sim_seeds(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	uint64_t first, count, seed;
	unsigned failures = 0;

	(void)state;
	assert_non_null(s);
	if (one_seed != NULL || getenv("Q53_SIM_SEED") != NULL) {
		first = one_seed != NULL ? strtoull(one_seed, NULL, 10)
					 : env_u64("Q53_SIM_SEED", 1);
		count = 1;
	} else {
		first = env_u64("Q53_SIM_FIRST_SEED", 1);
		count = env_u64("Q53_SIM_SEEDS", 1000);
	}
	unsigned skipped = 0;
	for (seed = first; seed < first + count; seed++) {
		if (count > 1 && known_bad(seed)) {
			skipped++;
			continue;
		}
		if (!run_seed(s, seed) && ++failures <= 10)
			fprintf(stderr,
				"SEED %llu FAILED: %s\n"
				"  reproduce: Q53_SIM_SEED=%llu "
				"Q53_TEST_VERBOSE=1 ./test_raft_sim\n",
				(unsigned long long)seed, s->why,
				(unsigned long long)seed);
	}
	free(s);
	if (skipped > 0)
		fprintf(stderr,
			"skipped %u seed(s) listed in Q53_SIM_KNOWN_BAD (known "
			"libraft 0.15 failures): %s\n",
			skipped, getenv("Q53_SIM_KNOWN_BAD"));
	if (failures > 0)
		fail_msg("%u seed(s) failed (first %llu, %llu seeds)", failures,
			 (unsigned long long)first, (unsigned long long)count);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sim_seeds),
	};

	if (argc > 1)
		one_seed = argv[1];
	verbose = getenv("Q53_TEST_VERBOSE") != NULL;
	{
		const char *raw = getenv("Q53_SIM_RAW_RAFT");

		if (raw != NULL && strcmp(raw, "snapshot") != 0)
			compat_fixes &= ~Q53_RAFT_COMPAT_COMMIT;
		if (raw != NULL && strcmp(raw, "commit") != 0)
			compat_fixes &= ~Q53_RAFT_COMPAT_SNAPSHOT;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
