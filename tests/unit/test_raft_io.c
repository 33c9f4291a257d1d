/* Three raft servers in one process and one libuv loop, each with its own
 * q53 raft_io (raft_uv on a temp dir + NNG on 127.0.0.1) and a counter FSM:
 * election, replication, leader loss, restart and catch-up (through
 * InstallSnapshot: snapshots are taken every 64 entries), garbage on the
 * wire, clean close. Every wait is bounded: the loop runs one iteration at
 * a time until a condition holds or a deadline timer fires. */
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
#include <nng/protocol/pipeline0/push.h>
#include <raft.h>
#include <uv.h>

#include "node/common/nng_close.h"
#include "node/raft/raft_io.h"

#define N_NODES		     3
#define DEADLINE_MS	     10000
#define ELECTION_TIMEOUT_MS  400
#define HEARTBEAT_TIMEOUT_MS 50
#define SNAPSHOT_THRESHOLD   64
#define SNAPSHOT_TRAILING    16
#define SEGMENT_SIZE	     (32 * 1024)
/* Snapshots are padded to this size so that InstallSnapshot is one big
 * NNG message, not a toy one. */
#define SNAPSHOT_SIZE (1024 * 1024)

struct node {
	raft_id id;
	char address[64];
	char dir[128];
	struct raft raft;
	struct raft_io io;
	struct raft_fsm fsm;
	uint64_t counter;  /* FSM state: sum of applied commands */
	unsigned restores; /* FSM restore calls since node_start returned */
	bool running;	   /* raft_init done, close callback not yet run */
};

struct cluster {
	uv_loop_t loop;
	uv_timer_t deadline;
	bool expired;
	char root[64];
	struct node nodes[N_NODES];
	unsigned apply_ok;
	unsigned apply_failed;
};

/* --- counter FSM ------------------------------------------------------- */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
		     void **result)
{
	struct node *n = fsm->data;
	uint64_t v;

	if (buf->len != sizeof(v))
		return RAFT_MALFORMED;
	memcpy(&v, buf->base, sizeof(v));
	n->counter += v;
	*result = NULL;
	return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			unsigned *n_bufs)
{
	struct node *n = fsm->data;

	*bufs = raft_malloc(sizeof(**bufs));
	if (*bufs == NULL)
		return RAFT_NOMEM;
	(*bufs)[0].base = raft_calloc(1, SNAPSHOT_SIZE);
	if ((*bufs)[0].base == NULL) {
		raft_free(*bufs);
		return RAFT_NOMEM;
	}
	(*bufs)[0].len = SNAPSHOT_SIZE;
	memcpy((*bufs)[0].base, &n->counter, sizeof(n->counter));
	*n_bufs = 1;
	return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct node *n = fsm->data;

	if (buf->len != SNAPSHOT_SIZE)
		return RAFT_MALFORMED;
	memcpy(&n->counter, buf->base, sizeof(n->counter));
	raft_free(buf->base); /* restore owns it */
	n->restores++;
	return 0;
}

/* --- bounded waits -------------------------------------------------------- */

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

/* --- nodes ------------------------------------------------------------------
 */

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

static void node_close_cb(struct raft *r)
{
	struct node *n = r->data;

	q53_raft_io_release(&n->io);
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
	n->fsm.version = 1;
	n->fsm.data = n;
	n->fsm.apply = fsm_apply;
	n->fsm.snapshot = fsm_snapshot;
	n->fsm.restore = fsm_restore;
	n->counter = 0;
	if (raft_init(&n->raft, &n->io, &n->fsm, n->id, n->address) != 0) {
		q53_raft_io_release(&n->io);
		fail_msg("raft_init %llu: %s", n->id, n->raft.errmsg);
	}
	n->raft.data = n;
	n->running = true;
	raft_set_election_timeout(&n->raft, ELECTION_TIMEOUT_MS);
	raft_set_heartbeat_timeout(&n->raft, HEARTBEAT_TIMEOUT_MS);
	raft_set_snapshot_threshold(&n->raft, SNAPSHOT_THRESHOLD);
	raft_set_snapshot_trailing(&n->raft, SNAPSHOT_TRAILING);
	if (bootstrap) {
		raft_configuration_init(&conf);
		for (i = 0; i < N_NODES; i++)
			assert_int_equal(raft_configuration_add(
					     &conf, c->nodes[i].id,
					     c->nodes[i].address, RAFT_VOTER),
					 0);
		assert_int_equal(raft_bootstrap(&n->raft, &conf), 0);
		raft_configuration_close(&conf);
	}
	if (raft_start(&n->raft) != 0)
		fail_msg("raft_start %llu: %s", n->id, raft_errmsg(&n->raft));
	n->restores = 0; /* from here on only InstallSnapshot restores */
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

/* The leader every running node agrees on, or NULL. */
static struct node *agreed_leader(struct cluster *c)
{
	struct node *leader = NULL;
	const char *address;
	raft_id id;
	unsigned i;

	for (i = 0; i < N_NODES; i++) {
		struct node *n = &c->nodes[i];

		if (n->running && raft_state(&n->raft) == RAFT_LEADER) {
			if (leader != NULL)
				return NULL;
			leader = n;
		}
	}
	if (leader == NULL)
		return NULL;
	for (i = 0; i < N_NODES; i++) {
		struct node *n = &c->nodes[i];

		if (!n->running)
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

/* --- applying commands ------------------------------------------------------
 */

struct apply_req {
	struct raft_apply req;
	struct cluster *c;
};

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct apply_req *a = req->data;

	(void)result;
	if (status == 0)
		a->c->apply_ok++;
	else
		a->c->apply_failed++;
	free(a);
}

static bool applies_done(struct cluster *c, void *arg)
{
	unsigned *submitted = arg;

	return c->apply_ok + c->apply_failed == *submitted;
}

/* Commit `count` commands "+1", pipelined, retrying through leader
 * changes. Returns how many were reported failed (and retried): a failed
 * one may still have been committed. */
static unsigned apply_commands(struct cluster *c, unsigned count)
{
	unsigned done = 0, retried = 0, submitted, i;
	uint64_t one = 1;
	int attempts;

	for (attempts = 0; done < count; attempts++) {
		struct node *leader;

		assert_true(attempts < 20);
		assert_true(run_until(c, has_leader, NULL, DEADLINE_MS));
		leader = agreed_leader(c);
		c->apply_ok = 0;
		c->apply_failed = 0;
		submitted = count - done;
		for (i = 0; i < submitted; i++) {
			struct apply_req *a = malloc(sizeof(*a));
			struct raft_buffer buf;

			assert_non_null(a);
			buf.len = sizeof(one); /* 8 bytes: #14 */
			buf.base = raft_malloc(buf.len);
			assert_non_null(buf.base);
			memcpy(buf.base, &one, sizeof(one));
			a->c = c;
			a->req.data = a;
			if (raft_apply(&leader->raft, &a->req, &buf, 1,
				       apply_cb) != 0) {
				raft_free(buf.base);
				free(a);
				c->apply_failed++;
			}
		}
		assert_true(
		    run_until(c, applies_done, &submitted, DEADLINE_MS));
		done += c->apply_ok;
		retried += c->apply_failed;
	}
	return retried;
}

/* All running nodes applied the same index (at least *min_index) and hold
 * the same counter. */
static bool converged(struct cluster *c, void *arg)
{
	const raft_index *min_index = arg;
	const struct node *first = NULL;
	unsigned i;

	for (i = 0; i < N_NODES; i++) {
		struct node *n = &c->nodes[i];

		if (!n->running)
			continue;
		if (raft_last_applied(&n->raft) < *min_index)
			return false;
		if (first == NULL) {
			first = n;
			continue;
		}
		if (raft_last_applied(&n->raft) !=
			raft_last_applied((struct raft *)&first->raft) ||
		    n->counter != first->counter)
			return false;
	}
	return first != NULL;
}

static void wait_converged(struct cluster *c)
{
	struct node *leader;
	raft_index index;

	assert_true(run_until(c, has_leader, NULL, DEADLINE_MS));
	leader = agreed_leader(c);
	index = raft_last_applied(&leader->raft);
	assert_true(run_until(c, converged, &index, DEADLINE_MS));
}

/* --- garbage on the wire -----------------------------------------------------
 */

struct malformed_wait {
	struct node *node;
	unsigned long long target;
};

static bool malformed_seen(struct cluster *c, void *arg)
{
	struct malformed_wait *w = arg;
	struct q53_raft_io_stats stats;

	(void)c;
	q53_raft_io_stats(&w->node->io, &stats);
	return stats.malformed >= w->target;
}

static void send_garbage(struct cluster *c, struct node *n)
{
	static const char *junk[] = {"", "\x08\x01", "\xff\xff\xff\xff",
				     "\x12\x05hello", "\x0a\x80\x80\x80\x80"};
	struct q53_raft_io_stats before;
	struct malformed_wait w;
	nng_socket s;
	unsigned i;

	q53_raft_io_stats(&n->io, &before);
	assert_int_equal(nng_push0_open(&s), 0);
	/* Blocking dial is fine here: the listener is up. */
	assert_int_equal(nng_dial(s, n->address, NULL, 0), 0);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(nng_send(s, (void *)junk[i],
					  i == 0 ? 0 : strlen(junk[i]), 0),
				 0);
	w.node = n;
	w.target = before.malformed + sizeof(junk) / sizeof(junk[0]);
	assert_true(run_until(c, malformed_seen, &w, DEADLINE_MS));
	nng_close(s);
	assert_true(n->running);
}

/* --- the scenario
 * --------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A cluster of N_NODES nodes, not started, each with its port and dir. */
static struct cluster *cluster_new(void)
{
	struct cluster *c = calloc(1, sizeof(*c));
	unsigned i;

	assert_non_null(c);
	assert_int_equal(uv_loop_init(&c->loop), 0);
	uv_timer_init(&c->loop, &c->deadline);
	c->deadline.data = c;
	strcpy(c->root, "/tmp/q53-raft-io-XXXXXX");
	assert_non_null(mkdtemp(c->root));
	for (i = 0; i < N_NODES; i++) {
		struct node *n = &c->nodes[i];

		n->id = i + 1;
		snprintf(n->address, sizeof(n->address), "tcp://127.0.0.1:%u",
			 free_port());
		snprintf(n->dir, sizeof(n->dir), "%s/%u", c->root, i + 1);
		assert_int_equal(mkdir(n->dir, 0700), 0);
	}
	return c;
}

static void test_three_nodes(void **state)
{
	struct cluster *c = cluster_new();
	struct q53_raft_io_stats stats;
	struct node *old_leader;
	struct node *leader;
	unsigned i, retried = 0;

	(void)state;
	/* bootstrap, election, 100 commands everywhere */
	for (i = 0; i < N_NODES; i++)
		node_start(c, &c->nodes[i], true);
	assert_true(run_until(c, has_leader, NULL, DEADLINE_MS));
	retried += apply_commands(c, 100);
	wait_converged(c);
	assert_true(c->nodes[0].counter >= 100);
	if (retried == 0)
		assert_int_equal(c->nodes[0].counter, 100);

	/* garbage to a follower changes nothing */
	leader = agreed_leader(c);
	send_garbage(c, &c->nodes[leader == &c->nodes[0] ? 1 : 0]);

	/* the leader goes away: the two others elect one and keep going */
	old_leader = agreed_leader(c);
	node_stop(c, old_leader);
	assert_true(run_until(c, has_leader, NULL, DEADLINE_MS));
	assert_ptr_not_equal(agreed_leader(c), old_leader);
	retried += apply_commands(c, 100);
	wait_converged(c);

	/* it comes back from its data dir and catches up; the log it missed
	 * has been compacted, so this goes through InstallSnapshot */
	node_start(c, old_leader, false);
	wait_converged(c);
	assert_true(old_leader->restores >= 1);
	retried += apply_commands(c, 20);
	wait_converged(c);
	for (i = 0; i < N_NODES; i++) {
		assert_true(c->nodes[i].running);
		assert_true(c->nodes[i].counter >= 220);
		if (retried == 0)
			assert_int_equal(c->nodes[i].counter, 220);
		q53_raft_io_stats(&c->nodes[i].io, &stats);
		assert_true(stats.sent > 0);
		assert_true(stats.received > 0);
	}

	if (getenv("Q53_TEST_VERBOSE") != NULL) {
		for (i = 0; i < N_NODES; i++) {
			struct node *n = &c->nodes[i];

			q53_raft_io_stats(&n->io, &stats);
			printf(
			    "node %llu: counter %llu applied %llu restores %u "
			    "sent %llu dropped %llu received %llu "
			    "malformed %llu\n",
			    n->id, (unsigned long long)n->counter,
			    raft_last_applied(&n->raft), n->restores,
			    stats.sent, stats.dropped, stats.received,
			    stats.malformed);
		}
		printf("old leader %llu, retried %u\n", old_leader->id,
		       retried);
	}

	/* clean close: no handle left on the loop, no leak (ASan) */
	for (i = 0; i < N_NODES; i++)
		node_stop(c, &c->nodes[i]);
	uv_close((uv_handle_t *)&c->deadline, NULL);
	assert_int_equal(uv_run(&c->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	assert_int_equal(nftw(c->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS),
			 0);
	free(c);
}

/* raft_init on an address nobody can listen on fails cleanly. */
static void test_bad_address(void **state)
{
	struct q53_raft_io_config config = {0};
	struct raft_fsm fsm = {0};
	struct raft_io io;
	struct raft raft;
	char dir[] = "/tmp/q53-raft-io-XXXXXX";
	uv_loop_t loop;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(uv_loop_init(&loop), 0);
	config.dir = dir;
	assert_int_equal(q53_raft_io_init(&io, &loop, &config), 0);
	fsm.version = 1;
	fsm.apply = fsm_apply;
	fsm.snapshot = fsm_snapshot;
	fsm.restore = fsm_restore;
	assert_int_not_equal(raft_init(&raft, &io, &fsm, 1, "nope://x"), 0);
	assert_true(strlen(raft_errmsg(&raft)) > 0);
	q53_raft_io_release(&io);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void close_cb_flag(struct raft *r)
{
	bool *closed = r->data;

	*closed = true;
}

/* raft_init then raft_close without raft_start: nothing left behind. */
static void test_close_before_start(void **state)
{
	struct q53_raft_io_config config = {0};
	struct raft_fsm fsm = {0};
	struct raft_io io;
	struct raft raft;
	char dir[] = "/tmp/q53-raft-io-XXXXXX";
	char address[64];
	bool closed = false;
	uv_loop_t loop;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(uv_loop_init(&loop), 0);
	config.dir = dir;
	assert_int_equal(q53_raft_io_init(&io, &loop, &config), 0);
	fsm.version = 1;
	fsm.apply = fsm_apply;
	fsm.snapshot = fsm_snapshot;
	fsm.restore = fsm_restore;
	snprintf(address, sizeof(address), "tcp://127.0.0.1:%u", free_port());
	assert_int_equal(raft_init(&raft, &io, &fsm, 1, address), 0);
	raft.data = &closed;
	raft_close(&raft, close_cb_flag);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_true(closed);
	q53_raft_io_release(&io);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Three nodes started and stopped again and again, all in one process:
 * every stop completes (node_stop's deadline) even when NNG 1.5.2's
 * nng_close hangs (node/common/nng_close.h gives such a socket up), and
 * a restart on the same ports and data finds its log. */
static void test_stop_cycles(void **state)
{
	struct cluster *c = cluster_new();
	unsigned i, cycle;

	(void)state;
	for (cycle = 0; cycle < 8; cycle++) {
		for (i = 0; i < N_NODES; i++)
			node_start(c, &c->nodes[i], cycle == 0);
		assert_true(run_until(c, has_leader, NULL, DEADLINE_MS));
		apply_commands(c, 5);
		wait_converged(c);
		assert_true(c->nodes[0].counter >= 5 * (cycle + 1));
		for (i = 0; i < N_NODES; i++)
			node_stop(c, &c->nodes[i]);
	}
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
	    cmocka_unit_test(test_bad_address),
	    cmocka_unit_test(test_close_before_start),
	    cmocka_unit_test(test_three_nodes),
	    cmocka_unit_test(test_stop_cycles),
	};
	int rv = cmocka_run_group_tests(tests, NULL, NULL);

	/* NNG's global threads and caches, for LSan; it would hang on a
	 * socket nng_close gave up (then say so, and leave them). */
	if (q53_nng_close_stuck() == 0)
		nng_fini();
	else
		printf("%u NNG socket(s) given up on close\n",
		       q53_nng_close_stuck());
	return rv;
}
