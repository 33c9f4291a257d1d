/* Online membership over the real q53 raft_io (raft_uv on temp dirs + NNG on
 * 127.0.0.1), with the fsm_log adapter around the counter FSM: three
 * bootstrapped nodes; a fourth starts WITHOUT bootstrap, is raft_add'ed as a
 * spare and promoted with raft_assign(VOTER) from the loop, not from the
 * change callback (RAFT_OVER_NNG.md #16); it catches up and applies; then an
 * old follower is removed (the leader's io closes its PUSH socket), then the
 * leader removes itself (it steps down after the commit, the others elect a
 * new one); commits go on, and every remaining node ends with the same FSM
 * state. Commands carry a client session and are retried with the same
 * request id, so nothing is applied twice. Every wait is bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <raft.h>
#include <uv.h>

#include "tests/unit/support/fsm_counter.h"
#include "node/raft/fsm_log.h"
#include "node/raft/raft_io.h"

#define N_NODES		     4
#define DEADLINE_MS	     10000
#define ELECTION_TIMEOUT_MS  400
#define HEARTBEAT_TIMEOUT_MS 50
#define SEGMENT_SIZE	     (32 * 1024)
#define CLIENT_ID	     7

struct node {
	raft_id id;
	char address[64];
	char dir[128];
	struct raft raft;
	struct raft_io io;
	struct q53_fsm_counter counter;
	struct q53_fsm_log log;
	bool running; /* raft_init done, close callback not yet run */
	bool member;  /* in the configuration the test expects */
};

struct cluster {
	uv_loop_t loop;
	uv_timer_t deadline;
	bool expired;
	char root[64];
	struct node nodes[N_NODES];
	uint64_t next_request;
};

/* --- bounded waits (as in test_raft_io.c) ------------------------------ */

typedef bool (*cond_fn)(struct cluster *c, void *arg);

static void deadline_cb(uv_timer_t *t)
{
	struct cluster *c = t->data;

	c->expired = true;
}

static bool run_until(struct cluster *c, cond_fn cond, void *arg,
		      unsigned timeout_ms)
{
	bool ok;

	c->expired = false;
	uv_timer_start(&c->deadline, deadline_cb, timeout_ms, 0);
	while (!(ok = cond(c, arg)) && !c->expired)
		uv_run(&c->loop, UV_RUN_ONCE);
	uv_timer_stop(&c->deadline);
	return ok;
}

static unsigned short free_port(void)
{
	struct sockaddr_in sa = {0};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* --- nodes ------------------------------------------------------------------
 */

static void node_close_cb(struct raft *r)
{
	struct node *n = r->data;

	q53_raft_io_release(&n->io);
	q53_fsm_log_close(&n->log);
	q53_fsm_counter_close(&n->counter);
	n->running = false;
}

static void node_start(struct cluster *c, struct node *n, bool bootstrap)
{
	struct q53_raft_io_config config = {0};
	struct raft_configuration conf;
	unsigned i;

	config.dir = n->dir;
	config.segment_size = SEGMENT_SIZE;
	assert_int_equal(q53_raft_io_init(&n->io, &c->loop, &config), 0);
	q53_fsm_counter_init(&n->counter);
	assert_int_equal(q53_fsm_log_init(&n->log, &n->counter.fsm, NULL), 0);
	if (raft_init(&n->raft, &n->io, &n->log.raft_fsm, n->id, n->address) !=
	    0)
		fail_msg("raft_init %llu: %s", n->id, n->raft.errmsg);
	n->raft.data = n;
	n->running = true;
	raft_set_election_timeout(&n->raft, ELECTION_TIMEOUT_MS);
	raft_set_heartbeat_timeout(&n->raft, HEARTBEAT_TIMEOUT_MS);
	raft_set_snapshot_threshold(&n->raft, 32);
	raft_set_snapshot_trailing(&n->raft, 8);
	if (bootstrap) {
		raft_configuration_init(&conf);
		for (i = 0; i < 3; i++)
			assert_int_equal(raft_configuration_add(
					     &conf, c->nodes[i].id,
					     c->nodes[i].address, RAFT_VOTER),
					 0);
		assert_int_equal(raft_bootstrap(&n->raft, &conf), 0);
		raft_configuration_close(&conf);
	}
	if (raft_start(&n->raft) != 0)
		fail_msg("raft_start %llu: %s", n->id, raft_errmsg(&n->raft));
}

static bool node_stopped(struct cluster *c, void *arg)
{
	struct node *n = arg;

	(void)c;
	return !n->running;
}

static void node_stop(struct cluster *c, struct node *n)
{
	raft_close(&n->raft, node_close_cb);
	assert_true(run_until(c, node_stopped, n, DEADLINE_MS));
}

/* The leader all running members agree on, or NULL. */
static struct node *agreed_leader(struct cluster *c)
{
	struct node *leader = NULL;
	const char *address;
	raft_id id;
	unsigned i;

	for (i = 0; i < N_NODES; i++) {
		struct node *n = &c->nodes[i];

		if (n->running && n->member &&
		    raft_state(&n->raft) == RAFT_LEADER) {
			if (leader != NULL)
				return NULL;
			leader = n;
		}
	}
	for (i = 0; leader != NULL && i < N_NODES; i++) {
		struct node *n = &c->nodes[i];

		if (!n->running || !n->member)
			continue;
		raft_leader(&n->raft, &id, &address);
		if (id != leader->id)
			return NULL;
	}
	return leader;
}

static bool has_leader(struct cluster *c, void *arg)
{
	(void)arg;
	return agreed_leader(c) != NULL;
}

/* --- commands -----------------------------------------------------------
 */

struct apply_req {
	struct raft_apply req;
	bool *done;
	int *status;
	enum q53_fsm_log_status *how;
};

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct apply_req *a = req->data;
	const struct q53_fsm_log_result *r = result;

	*a->status = status;
	if (status == 0)
		*a->how = r->status;
	*a->done = true;
	free(a);
}

static bool flag_set(struct cluster *c, void *arg)
{
	(void)c;
	return *(bool *)arg;
}

/* Commit `count` commands one by one; an unanswered one is retried with the
 * same request id on whoever leads now. */
static void apply_commands(struct cluster *c, unsigned count)
{
	unsigned i, attempts;

	for (i = 0; i < count; i++) {
		uint64_t request = ++c->next_request;
		bool acked = false;

		for (attempts = 0; !acked; attempts++) {
			struct q53_fsm_log_command cmd = {0};
			enum q53_fsm_log_status how = Q53_FSM_LOG_MALFORMED;
			uint8_t payload[8];
			struct raft_buffer buf;
			struct apply_req *a;
			bool done = false;
			int status = -1;
			struct node *leader;

			assert_true(attempts < 20);
			assert_true(
			    run_until(c, has_leader, NULL, DEADLINE_MS));
			leader = agreed_leader(c);
			memcpy(payload, &request, sizeof(payload));
			cmd.type = Q53_FSM_COUNTER_APPEND;
			cmd.client_id = CLIENT_ID;
			cmd.request_id = request;
			cmd.payload = payload;
			cmd.len = sizeof(payload);
			assert_int_equal(q53_fsm_log_encode(&cmd, &buf), 0);
			a = calloc(1, sizeof(*a));
			assert_non_null(a);
			a->req.data = a;
			a->done = &done;
			a->status = &status;
			a->how = &how;
			if (raft_apply(&leader->raft, &a->req, &buf, 1,
				       apply_cb) != 0) {
				raft_free(buf.base);
				free(a);
				continue;
			}
			/* `done` lives until the callback: wait for it even
			 * past the deadline (raft_close fires it at worst). */
			if (!run_until(c, flag_set, &done, DEADLINE_MS))
				assert_true(run_until(c, flag_set, &done,
						      DEADLINE_MS * 3));
			acked = status == 0;
			if (acked)
				assert_true(how == Q53_FSM_LOG_APPLIED ||
					    how == Q53_FSM_LOG_DUPLICATE);
		}
	}
}

/* Every running member applied the same entries, at least *min_index. */
static bool converged(struct cluster *c, void *arg)
{
	const raft_index *min_index = arg;
	struct node *first = NULL;
	unsigned i;

	for (i = 0; i < N_NODES; i++) {
		struct node *n = &c->nodes[i];

		if (!n->running || !n->member)
			continue;
		if (raft_last_applied(&n->raft) < *min_index)
			return false;
		if (first == NULL) {
			first = n;
			continue;
		}
		if (raft_last_applied(&n->raft) !=
			raft_last_applied(&first->raft) ||
		    n->counter.n != first->counter.n ||
		    n->counter.hash != first->counter.hash)
			return false;
	}
	return first != NULL;
}

static void wait_converged(struct cluster *c)
{
	raft_index index;

	assert_true(run_until(c, has_leader, NULL, DEADLINE_MS));
	index = raft_last_applied(&agreed_leader(c)->raft);
	assert_true(run_until(c, converged, &index, DEADLINE_MS));
}

/* --- membership changes ---------------------------------------------------
 */

struct change_req {
	struct raft_change req;
	bool *done;
	int *status;
};

static void change_cb(struct raft_change *req, int status)
{
	struct change_req *ch = req->data;

	/* Only record: the next step (raft_assign) runs from the loop. */
	*ch->status = status;
	*ch->done = true;
	free(ch);
}

enum change_kind { CHANGE_ADD, CHANGE_ASSIGN, CHANGE_REMOVE };

/* Run one configuration change on the current leader until it succeeds. */
static void change(struct cluster *c, enum change_kind kind, struct node *n)
{
	unsigned attempts;

	for (attempts = 0; attempts < 10; attempts++) {
		struct node *leader;
		struct change_req *ch;
		bool done = false;
		int status = -1, rv;

		assert_true(run_until(c, has_leader, NULL, DEADLINE_MS));
		leader = agreed_leader(c);
		ch = calloc(1, sizeof(*ch));
		assert_non_null(ch);
		ch->req.data = ch;
		ch->done = &done;
		ch->status = &status;
		switch (kind) {
		case CHANGE_ADD:
			rv = raft_add(&leader->raft, &ch->req, n->id,
				      n->address, change_cb);
			break;
		case CHANGE_ASSIGN:
			rv = raft_assign(&leader->raft, &ch->req, n->id,
					 RAFT_VOTER, change_cb);
			break;
		default:
			rv = raft_remove(&leader->raft, &ch->req, n->id,
					 change_cb);
			break;
		}
		if (rv != 0) {
			free(ch);
			/* RAFT_CANTCHANGE: a change is still in flight. */
			assert_true(rv == RAFT_CANTCHANGE ||
				    rv == RAFT_NOTLEADER);
			assert_true(
			    run_until(c, has_leader, NULL, DEADLINE_MS));
			uv_run(&c->loop, UV_RUN_ONCE);
			continue;
		}
		if (!run_until(c, flag_set, &done, DEADLINE_MS))
			assert_true(
			    run_until(c, flag_set, &done, DEADLINE_MS * 3));
		if (status == 0)
			return;
		if (kind == CHANGE_ADD && status == RAFT_DUPLICATEID)
			return; /* an earlier attempt made it after all */
	}
	fail_msg("membership change %d of node %llu never succeeded", kind,
		 n->id);
}

static bool pruned(struct cluster *c, void *arg)
{
	struct node *leader = agreed_leader(c);
	struct q53_raft_io_stats stats;

	(void)arg;
	if (leader == NULL)
		return false;
	q53_raft_io_stats(&leader->io, &stats);
	return stats.pruned >= 1;
}

static bool stepped_down(struct cluster *c, void *arg)
{
	struct node *old = arg;
	struct node *leader = agreed_leader(c);

	return raft_state(&old->raft) != RAFT_LEADER && leader != NULL &&
	       leader != old;
}

static void check_same_state(struct cluster *c)
{
	struct raft_buffer *ref = NULL, *bufs = NULL;
	unsigned n_ref = 0, nb = 0, i, b;
	struct node *first = NULL;

	for (i = 0; i < N_NODES; i++) {
		struct node *n = &c->nodes[i];
		struct raft_fsm *fsm = &n->log.raft_fsm;

		if (!n->running || !n->member)
			continue;
		if (first == NULL) {
			first = n;
			assert_int_equal(fsm->snapshot(fsm, &ref, &n_ref), 0);
			continue;
		}
		assert_int_equal(n->counter.n, first->counter.n);
		assert_memory_equal(n->counter.ids, first->counter.ids,
				    n->counter.n * sizeof(uint64_t));
		assert_int_equal(fsm->snapshot(fsm, &bufs, &nb), 0);
		assert_int_equal(nb, n_ref);
		for (b = 0; b < nb; b++) {
			assert_int_equal(bufs[b].len, ref[b].len);
			assert_memory_equal(bufs[b].base, ref[b].base,
					    bufs[b].len);
		}
		fsm->snapshot_finalize(fsm, &bufs, &nb);
	}
	assert_non_null(first);
	first->log.raft_fsm.snapshot_finalize(&first->log.raft_fsm, &ref,
					      &n_ref);
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void test_add_assign_remove(void **state)
{
	struct cluster *c = calloc(1, sizeof(*c));
	struct node *joiner, *leader, *follower = NULL;
	unsigned i, open_before;
	uint64_t k;

	(void)state;
	assert_non_null(c);
	assert_int_equal(uv_loop_init(&c->loop), 0);
	uv_timer_init(&c->loop, &c->deadline);
	c->deadline.data = c;
	strcpy(c->root, "/tmp/q53-raft-membership-XXXXXX");
	assert_non_null(mkdtemp(c->root));
	for (i = 0; i < N_NODES; i++) {
		struct node *n = &c->nodes[i];

		n->id = i + 1;
		snprintf(n->address, sizeof(n->address), "tcp://127.0.0.1:%u",
			 free_port());
		snprintf(n->dir, sizeof(n->dir), "%s/%u", c->root, i + 1);
		assert_int_equal(mkdir(n->dir, 0700), 0);
	}

	/* three voters */
	for (i = 0; i < 3; i++) {
		node_start(c, &c->nodes[i], true);
		c->nodes[i].member = true;
	}
	apply_commands(c, 40);
	wait_converged(c);

	/* a fourth joins: no bootstrap, added as spare, promoted to voter */
	joiner = &c->nodes[3];
	node_start(c, joiner, false);
	change(c, CHANGE_ADD, joiner);
	change(c, CHANGE_ASSIGN, joiner);
	joiner->member = true; /* a spare gets no heartbeats: agrees now */
	apply_commands(c, 20);
	wait_converged(c);
	assert_int_equal(joiner->counter.n, c->nodes[0].counter.n);

	/* an old follower leaves; the leader's io closes its socket */
	leader = agreed_leader(c);
	assert_non_null(leader);
	for (i = 0; i < 3; i++)
		if (&c->nodes[i] != leader)
			follower = &c->nodes[i];
	open_before = q53_raft_io_open_peers(&leader->io);
	change(c, CHANGE_REMOVE, follower);
	follower->member = false;
	assert_true(run_until(c, pruned, NULL, DEADLINE_MS));
	leader = agreed_leader(c);
	assert_true(q53_raft_io_open_peers(&leader->io) < open_before ||
		    open_before == 0);
	node_stop(c, follower);
	apply_commands(c, 20);
	wait_converged(c);

	/* the leader removes itself: steps down once committed */
	leader = agreed_leader(c);
	change(c, CHANGE_REMOVE, leader);
	leader->member = false;
	assert_true(run_until(c, stepped_down, leader, DEADLINE_MS));
	node_stop(c, leader);
	apply_commands(c, 20);
	wait_converged(c);
	check_same_state(c);

	/* 100 commands, each once, in order */
	for (i = 0; i < N_NODES; i++) {
		struct node *n = &c->nodes[i];

		if (!n->running)
			continue;
		assert_int_equal(n->counter.n, 100);
		for (k = 0; k < 100; k++)
			assert_int_equal(n->counter.ids[k], k + 1);
		assert_int_equal(q53_fsm_log_last_request(&n->log, CLIENT_ID),
				 100);
	}

	for (i = 0; i < N_NODES; i++)
		if (c->nodes[i].running)
			node_stop(c, &c->nodes[i]);
	uv_close((uv_handle_t *)&c->deadline, NULL);
	assert_int_equal(uv_run(&c->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	assert_int_equal(nftw(c->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS),
			 0);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_assign_remove),
	};
	int rv = cmocka_run_group_tests(tests, NULL, NULL);

	nng_fini(); /* NNG's global threads and caches, for LSan */
	return rv;
}
