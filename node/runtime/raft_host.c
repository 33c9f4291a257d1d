/* The Raft host (see raft_host.h): raft + q53_raft_io + fsm_log + the
 * control FSM, the proposals of this process and the commit-propagation
 * barrier. Also measures quorum contact: the io's receive callback is
 * wrapped to note when each server was last heard from. */
#include "node/runtime/raft_host.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "node/common/errcode.h"
#include "node/common/prom_text.h"
#include "node/control/control_fsm.h"
#include "node/control/upgrade.h"
#include "node/raft/raft_io.h"
#include "node/runtime/log_compaction.h"
#include "node/runtime/proposal_batch.h"
#include "node/runtime/quorum_contact.h"

#define RH_HEARD_MAX 64 /* servers whose last contact is tracked */
/* exit status of a node stopped at a log entry of a newer release: the
 * same as node/control/upgrade.c's for a newer command type (EX_SOFTWARE) */
#define RH_EXIT_NEWER_FORMAT 70

/* Proposal latency buckets (seconds). */
static const double rh_proposal_bounds[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

struct raft_host {
	uv_loop_t *loop;
	uint64_t id;
	char *data_dir;
	char raft_url[CLUSTER_ADDR_MAX];
	unsigned election_timeout_ms;
	unsigned snapshot_threshold; /* configured; also the trailing count */

	struct raft raft;
	struct raft_io io;
	struct control_fsm *fsm;
	struct control_upgrade *upgrade; /* over fsm, for fsm_log */
	struct q53_fsm_log log;
	struct proposal_batch proposals; /* raft_host_propose's queue */
	bool io_inited;
	bool raft_inited;
	bool closing;
	bool removed_logged; /* the REMOVED line was written */

	/* the fsm_log session of this process */
	uint64_t client_id;
	uint64_t next_request;
	struct proposal *submits; /* in flight, with or without a call */

	/* commit propagation: see raft_host_after_turn */
	struct raft_barrier barrier;
	bool barrier_inflight;
	bool committed_since_barrier;

	/* quorum contact: uv_now when each server was last heard from */
	int (*io_start)(struct raft_io *io, unsigned msecs,
			raft_io_tick_cb tick, raft_io_recv_cb recv);
	raft_io_recv_cb raft_recv;
	struct quorum_contact_peer heard[RH_HEARD_MAX];
	size_t n_heard;

	void (*close_cb)(void *data);
	void *close_data;

	/* the fsm_log adapter's snapshot methods, wrapped to log how long
	 * each one holds the loop (rh_fsm_*) */
	int (*fsm_snapshot)(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			    unsigned *n_bufs);
	int (*fsm_snapshot_async)(struct raft_fsm *fsm,
				  struct raft_buffer *bufs[], unsigned *n_bufs);
	int (*fsm_restore)(struct raft_fsm *fsm, struct raft_buffer *buf);
	uint64_t snapshot_started_ns; /* uv_hrtime at rh_fsm_snapshot */
	/* /metrics (raft_host_stats); the encoded size is written by the
	 * thread pool's encoding, hence atomic */
	uint64_t leader_changes, last_leader;
	uint64_t snapshots_taken, snapshots_installed, installed_bytes_last;
	_Atomic uint64_t snapshot_bytes_last, snapshot_bytes_total;
	struct prom_hist proposal_seconds;

	/* the adapter's apply, wrapped to note large entries */
	int (*fsm_apply)(struct raft_fsm *fsm, const struct raft_buffer *buf,
			 void **result);
	struct log_compaction_state compaction;
	struct raft_barrier compaction_barrier;
	bool compaction_barrier_inflight;
	bool compacting; /* threshold or trailing lowered */
};

static struct raft_host *rh_of_io(struct raft_io *io)
{
	return (struct raft_host *)((char *)io -
				    offsetof(struct raft_host, io));
}

static void rh_on_recv(struct raft_io *io, struct raft_message *m)
{
	struct raft_host *h = rh_of_io(io);
	uint64_t now = uv_now(h->loop);
	size_t i;

	for (i = 0; i < h->n_heard; i++)
		if (h->heard[i].id == m->server_id)
			break;
	if (i == h->n_heard && h->n_heard < RH_HEARD_MAX)
		h->heard[h->n_heard++].id = m->server_id;
	if (i < h->n_heard)
		h->heard[i].last_ms = now;
	h->raft_recv(io, m);
}

static void rh_io_log(void *data, const char *line)
{
	struct raft_host *h = data;

	cluster_log(h->id, "%s", line);
}

static int rh_io_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
		       raft_io_recv_cb recv)
{
	struct raft_host *h = rh_of_io(io);

	h->raft_recv = recv;
	return h->io_start(io, msecs, tick, rh_on_recv);
}

/* --- snapshot timing --- */

static struct raft_host *rh_of_fsm(struct raft_fsm *fsm)
{
	return (struct raft_host *)((char *)fsm -
				    offsetof(struct raft_host, log.raft_fsm));
}

static size_t rh_bufs_len(struct raft_buffer *bufs, unsigned n)
{
	size_t len = 0;

	for (unsigned i = 0; bufs != NULL && i < n; i++)
		len += bufs[i].len;
	return len;
}

static void rh_snapshot_size(struct raft_host *h, uint64_t len)
{
	atomic_store(&h->snapshot_bytes_last, len);
	atomic_fetch_add(&h->snapshot_bytes_total, len);
}

/* On the loop: the whole snapshot (synchronous fsm) or its capture. */
static int rh_fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			   unsigned *n_bufs)
{
	struct raft_host *h = rh_of_fsm(fsm);
	uint64_t t0 = uv_hrtime();
	int rv = h->fsm_snapshot(fsm, bufs, n_bufs);

	h->snapshot_started_ns = t0;
	if (rv == 0) {
		h->snapshots_taken++;
		if (h->fsm_snapshot_async == NULL)
			rh_snapshot_size(h, rh_bufs_len(*bufs, *n_bufs));
	}
	if (rv == 0 && h->fsm_snapshot_async == NULL)
		cluster_log(h->id,
			    "snapshot at %llu: %zu bytes, %.1f ms on the loop",
			    (unsigned long long)raft_last_applied(&h->raft),
			    rh_bufs_len(*bufs, *n_bufs),
			    (double)(uv_hrtime() - t0) / 1e6);
	else if (rv == 0)
		cluster_log(h->id, "snapshot at %llu: captured in %.1f ms",
			    (unsigned long long)raft_last_applied(&h->raft),
			    (double)(uv_hrtime() - t0) / 1e6);
	return rv;
}

/* On a thread-pool thread: the encoding of the captured state. */
static int rh_fsm_snapshot_async(struct raft_fsm *fsm,
				 struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct raft_host *h = rh_of_fsm(fsm);
	uint64_t t0 = uv_hrtime();
	int rv = h->fsm_snapshot_async(fsm, bufs, n_bufs);

	if (rv == 0)
		rh_snapshot_size(h, rh_bufs_len(*bufs, *n_bufs));
	if (rv == 0)
		cluster_log(h->id,
			    "snapshot encoded: %zu bytes, %.1f ms off the "
			    "loop",
			    rh_bufs_len(*bufs, *n_bufs),
			    (double)(uv_hrtime() - t0) / 1e6);
	return rv;
}

static int rh_fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct raft_host *h = rh_of_fsm(fsm);
	uint64_t t0 = uv_hrtime();
	size_t len = buf->len;
	int rv = h->fsm_restore(fsm, buf);

	if (rv == 0) {
		h->snapshots_installed++;
		h->installed_bytes_last = len;
	}

	cluster_log(h->id, "snapshot restore: %zu bytes, %.1f ms on the loop%s",
		    len, (double)(uv_hrtime() - t0) / 1e6,
		    rv == 0 ? "" : " (failed)");
	return rv;
}

/* raft calls apply with last_applied one below the entry's index. */
static int rh_fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
			void **result)
{
	struct raft_host *h = rh_of_fsm(fsm);
	int rv = h->fsm_apply(fsm, buf, result);

	if (rv == 0)
		log_compaction_applied(
		    &h->compaction, raft_last_applied(&h->raft) + 1, buf->len);
	return rv;
}

static void rh_wrap_fsm(struct raft_host *h)
{
	struct raft_fsm *fsm = &h->log.raft_fsm;

	h->fsm_apply = fsm->apply;
	fsm->apply = rh_fsm_apply;
	h->fsm_snapshot = fsm->snapshot;
	h->fsm_restore = fsm->restore;
	fsm->snapshot = rh_fsm_snapshot;
	fsm->restore = rh_fsm_restore;
	if (fsm->version >= 3 && fsm->snapshot_async != NULL) {
		h->fsm_snapshot_async = fsm->snapshot_async;
		fsm->snapshot_async = rh_fsm_snapshot_async;
	}
}

int raft_host_init(struct raft_host **out, uv_loop_t *loop,
		   const struct raft_host_config *cfg, char *err, size_t errlen)
{
	struct q53_raft_io_config io_cfg = {0};
	struct raft_host *h;
	int rv;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		goto nomem;
	*out = h;
	h->loop = loop;
	h->id = cfg->id;
	h->election_timeout_ms = cfg->election_timeout_ms;
	h->snapshot_threshold = cfg->snapshot_threshold;
	h->proposal_seconds.bounds_s = rh_proposal_bounds;
	h->proposal_seconds.n =
	    sizeof(rh_proposal_bounds) / sizeof(rh_proposal_bounds[0]) + 1;
	h->data_dir = strdup(cfg->data_dir);
	if (h->data_dir == NULL)
		goto nomem;
	snprintf(h->raft_url, sizeof(h->raft_url), "%s", cfg->raft_url);
	if (getrandom(&h->client_id, sizeof(h->client_id), 0) !=
		(ssize_t)sizeof(h->client_id) ||
	    h->client_id == 0)
		h->client_id = (ids_wall_ms() << 16) ^ h->id;
	h->next_request = 1;

	if (control_fsm_new(&h->fsm) != 0 ||
	    control_upgrade_new(h->fsm, &h->upgrade) != 0)
		goto nomem;
	/* The log's entries and snapshots reach the FSM through the upgrade
	 * module (the previous release's text commands). */
	rv = q53_fsm_log_init(&h->log, control_upgrade_base(h->upgrade), NULL);
	if (rv != 0) {
		snprintf(err, errlen, "fsm log: %s", q53_strerror(rv));
		return rv;
	}
	proposal_batch_init(&h->proposals, &h->raft);
	io_cfg.dir = h->data_dir;
	io_cfg.log = rh_io_log;
	io_cfg.log_data = h;
	io_cfg.max_connections = cfg->max_connections;
	io_cfg.idle_ms = cfg->idle_ms;
	if (cfg->peer_tls != NULL) {
		io_cfg.tls_server = cfg->peer_tls->server;
		io_cfg.tls_client = cfg->peer_tls->client;
	}
	rv = q53_raft_io_init(&h->io, loop, &io_cfg);
	if (rv != 0) {
		snprintf(err, errlen, "raft io: %s", q53_strerror(rv));
		return rv;
	}
	h->io_inited = true;
	/* Snapshots encode on the thread pool (fsm_log.h): at a million
	 * records a synchronous one holds the loop for about a second, and a
	 * leader that misses heartbeats for an election timeout is replaced. */
	if (h->io.async_work != NULL) {
		rv = q53_fsm_log_set_async(&h->log, true);
		if (rv != 0) {
			snprintf(err, errlen, "fsm log: %s", q53_strerror(rv));
			return rv;
		}
	}
	rh_wrap_fsm(h);
	h->io_start = h->io.start;
	h->io.start = rh_io_start;
	rv = raft_init(&h->raft, &h->io, &h->log.raft_fsm, h->id, h->raft_url);
	if (rv != 0) {
		snprintf(err, errlen, "raft init (%s, %s): %s", h->raft_url,
			 h->data_dir, raft_errmsg(&h->raft));
		return Q53_EINVAL;
	}
	h->raft_inited = true;
	h->raft.data = h;
	raft_set_election_timeout(&h->raft, cfg->election_timeout_ms);
	raft_set_heartbeat_timeout(&h->raft, cfg->heartbeat_ms);
	/* A follower that could not read heartbeats for an election timeout
	 * (restoring a large snapshot holds its loop for seconds) must not
	 * depose a leader the others still hear: it asks for pre-votes first
	 * and only a majority that lost the leader too lets it stand. */
	raft_set_pre_vote(&h->raft, true);
	raft_set_snapshot_threshold(&h->raft, cfg->snapshot_threshold);
	raft_set_snapshot_trailing(&h->raft, cfg->snapshot_threshold);
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return Q53_ENOMEM;
}

int raft_host_start(struct raft_host *h, bool bootstrap, bool *bootstrapped,
		    char *err, size_t errlen)
{
	struct raft_configuration conf;
	int rv;

	*bootstrapped = false;
	if (bootstrap) {
		raft_configuration_init(&conf);
		rv = raft_configuration_add(&conf, h->id, h->raft_url,
					    RAFT_VOTER);
		if (rv == 0)
			rv = raft_bootstrap(&h->raft, &conf);
		raft_configuration_close(&conf);
		if (rv == 0) {
			*bootstrapped = true;
			cluster_log(h->id,
				    "bootstrapped a one-node cluster in %s",
				    h->data_dir);
		} else if (rv != RAFT_CANTBOOTSTRAP) {
			snprintf(err, errlen, "raft bootstrap in %s: %s",
				 h->data_dir, raft_errmsg(&h->raft));
			return Q53_EINVAL;
		}
	}
	rv = raft_start(&h->raft);
	if (rv != 0) {
		snprintf(err, errlen, "raft start (%s): %s", h->data_dir,
			 raft_errmsg(&h->raft));
		return Q53_EINVAL;
	}
	return 0;
}

struct control_fsm *raft_host_fsm(struct raft_host *h)
{
	return h->fsm;
}

struct raft *raft_host_raft(struct raft_host *h)
{
	return &h->raft;
}

bool raft_host_is_leader(struct raft_host *h)
{
	return h->raft_inited && raft_state(&h->raft) == RAFT_LEADER;
}

const char *raft_host_leader_api(struct raft_host *h, uint64_t *leader_id)
{
	struct control_fsm_node node;
	const char *address;
	raft_id id = 0;

	raft_leader(&h->raft, &id, &address);
	if (leader_id != NULL)
		*leader_id = id;
	if (id == 0 || id == h->id)
		return NULL;
	if (control_fsm_node_get(h->fsm, id, &node) != 0 ||
	    node.api_address[0] == '\0')
		return NULL;
	return node.api_address;
}

const struct raft_server *raft_host_server(struct raft_host *h, uint64_t id)
{
	for (unsigned i = 0; i < h->raft.configuration.n; i++)
		if (h->raft.configuration.servers[i].id == id)
			return &h->raft.configuration.servers[i];
	return NULL;
}

/* Removed from the cluster: the leader demotes a voter to STANDBY before
 * raft_remove (node/runtime/membership.c), the last configuration the node
 * receives. Nothing else makes a node a standby. */
static bool rh_removed(struct raft_host *h)
{
	const struct raft_configuration *conf = &h->raft.configuration;

	for (unsigned i = 0; i < conf->n; i++)
		if (conf->servers[i].id == h->id)
			return conf->servers[i].role == RAFT_STANDBY;
	return false;
}

static const char *rh_state_name(struct raft_host *h)
{
	if (rh_removed(h))
		return "removed";
	switch (raft_state(&h->raft)) {
	case RAFT_LEADER:
		return "leader";
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_CANDIDATE:
		return "candidate";
	default:
		return "unavailable";
	}
}

void raft_host_status(struct raft_host *h, struct cluster_raft_status *out)
{
	const struct raft_configuration *conf = &h->raft.configuration;
	struct quorum_contact_peer peers[RH_HEARD_MAX];
	size_t n = 0;
	raft_id leader = 0;
	const char *address;

	out->state = rh_state_name(h);
	out->term = h->raft.current_term;
	out->commit_index = h->raft.commit_index;
	out->nodes = conf->n;
	for (unsigned i = 0; i < conf->n && n < RH_HEARD_MAX; i++) {
		peers[n].id = conf->servers[i].id;
		peers[n].voter = conf->servers[i].role == RAFT_VOTER;
		peers[n].last_ms = 0;
		for (size_t k = 0; k < h->n_heard; k++)
			if (h->heard[k].id == peers[n].id)
				peers[n].last_ms = h->heard[k].last_ms;
		n++;
	}
	raft_leader(&h->raft, &leader, &address);
	out->quorum_contact = quorum_contact_measure(
	    raft_host_is_leader(h), h->id, leader, peers, n, uv_now(h->loop),
	    h->election_timeout_ms, &out->contact_age_ms);
}

/* --- proposing commands --- */

static void cn_submit_unlink(struct raft_host *n, struct proposal *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		n->submits = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

/* Frees s, and withdraws and frees the typed form it offered. */
static void proposal_free(struct raft_host *n, struct proposal *s)
{
	if (s->decoded != NULL) {
		q53_fsm_log_withdraw(&n->log, n->client_id, s->request_id);
		s->decoded_free(s->decoded);
	}
	free(s);
}

static void cn_proposal_done(void *arg, int status,
			     const struct q53_fsm_log_result *res)
{
	struct proposal *s = arg;
	struct raft_host *n = s->host;

	cn_submit_unlink(n, s);
	if (status == 0) {
		n->committed_since_barrier = true;
		prom_hist_observe(&n->proposal_seconds,
				  (double)(uv_hrtime() - s->proposed_ns) / 1e9);
	}
	s->done(s, status, status == 0 ? res : NULL);
	proposal_free(n, s);
}

int raft_host_propose(struct raft_host *n, struct command_payload *p,
		      struct api_call *call, proposal_done done, void *arg,
		      struct proposal **out)
{
	struct q53_fsm_log_command cmd = {
	    .type = p->type,
	    .client_id = n->client_id,
	    .request_id = n->next_request,
	    .payload = p->data,
	    .len = p->len,
	};
	struct raft_buffer buf;
	struct proposal *s;
	int rv;

	if (out != NULL)
		*out = NULL;
	if (n->closing || !raft_host_is_leader(n)) {
		command_payload_clear(p);
		return RAFT_NOTLEADER;
	}
	rv = command_payload_encode_pending(p);
	if (rv != 0) {
		command_payload_clear(p);
		return rv;
	}
	cmd.payload = p->data;
	cmd.len = p->len;
	rv = q53_fsm_log_encode(&cmd, &buf);
	/* The typed form, if any, stays with the proposal. */
	struct command *decoded = p->decoded;
	void (*decoded_free)(struct command *) = p->decoded_free;
	p->decoded = NULL;
	command_payload_clear(p);
	s = rv == 0 ? calloc(1, sizeof(*s)) : NULL;
	if (s == NULL) {
		if (decoded != NULL)
			decoded_free(decoded);
		if (rv != 0)
			return rv;
		raft_free(buf.base);
		return Q53_ENOMEM;
	}
	s->request_id = cmd.request_id;
	s->proposed_ns = uv_hrtime();
	if (decoded != NULL &&
	    q53_fsm_log_offer(&n->log, n->client_id, cmd.request_id, cmd.type,
			      decoded)) {
		s->decoded = decoded;
		s->decoded_free = decoded_free;
	} else if (decoded != NULL) {
		decoded_free(decoded);
	}
	s->host = n;
	s->call = call;
	s->done = done;
	s->arg = arg;
	/* proposed at the end of this loop turn, with whatever else comes */
	rv = proposal_batch_add(&n->proposals, buf, cn_proposal_done, s);
	if (rv != 0) {
		proposal_free(n, s);
		return rv;
	}
	n->next_request++;
	s->next = n->submits;
	if (n->submits != NULL)
		n->submits->prev = s;
	n->submits = s;
	if (out != NULL)
		*out = s;
	return 0;
}

void raft_host_stats(struct raft_host *h, struct raft_host_stats *out)
{
	out->applied_index = raft_last_applied(&h->raft);
	out->leader_changes = h->leader_changes;
	out->snapshots_taken = h->snapshots_taken;
	out->snapshot_bytes_last = atomic_load(&h->snapshot_bytes_last);
	out->snapshot_bytes_total = atomic_load(&h->snapshot_bytes_total);
	out->snapshots_installed = h->snapshots_installed;
	out->snapshot_installed_bytes_last = h->installed_bytes_last;
	out->proposal_seconds = &h->proposal_seconds;
}

/* --- commit propagation --- */

static void cn_barrier_cb(struct raft_barrier *req, int status)
{
	struct raft_host *n = req->data;

	(void)status;
	n->barrier_inflight = false;
}

/* --- log compaction after a large entry (log_compaction.h) --- */

static void rh_compaction_barrier_cb(struct raft_barrier *req, int status)
{
	struct raft_host *h = req->data;

	(void)status;
	h->compaction_barrier_inflight = false;
}

static void rh_compaction_turn(struct raft_host *h)
{
	struct raft *r = &h->raft;
	struct log_compaction_input in = {
	    .leader = raft_host_is_leader(h),
	    .last_index = raft_last_index(r),
	    .log_offset = r->log.offset,
	    /* libraft 0.15: a snapshot is being taken or stored */
	    .snapshot_running =
		r->snapshot.pending.term != 0 || r->snapshot.put.data != NULL,
	    .min_peer_match = UINT64_MAX,
	};
	struct log_compaction_action a;

	if (h->compaction.target == 0 && !h->compacting)
		return;
	if (in.leader)
		for (unsigned i = 0; i < r->configuration.n; i++)
			if (r->configuration.servers[i].id != h->id &&
			    r->leader_state.progress[i].match_index <
				in.min_peer_match)
				in.min_peer_match =
				    r->leader_state.progress[i].match_index;
	a = log_compaction_step(&h->compaction, &in);
	raft_set_snapshot_threshold(r, a.compact ? 1 : h->snapshot_threshold);
	raft_set_snapshot_trailing(r, a.keep_one ? 1 : h->snapshot_threshold);
	h->compacting = a.compact || a.keep_one;
	if (a.barrier && !h->compaction_barrier_inflight) {
		h->compaction_barrier.data = h;
		if (raft_barrier(r, &h->compaction_barrier,
				 rh_compaction_barrier_cb) == 0)
			h->compaction_barrier_inflight = true;
	}
	if (h->compaction.target == 0) {
		/* The entry, raft_uv's copy of it and the snapshot's transient
		 * encoding (much of it in a thread-pool arena) are free now:
		 * give the pages back (~40 MB at 1M records). */
		uint64_t t0 = uv_hrtime();

		malloc_trim(0);
		cluster_log(h->id,
			    "log compacted after a large entry (snapshot at "
			    "%llu; heap trimmed in %.1f ms)",
			    (unsigned long long)r->log.snapshot.last_index,
			    (double)(uv_hrtime() - t0) / 1e6);
	}
}

/* An entry written by a newer release: the FSM adapter stopped at it, and
 * nothing after it may apply on this node (skipping it would diverge from
 * the nodes that understand it). Stop the process; the log is intact. */
static void rh_stop_newer_format(struct raft_host *n, unsigned format)
{
	cluster_log(n->id,
		    "log entry %llu uses framing format %u of a newer "
		    "quorum53: upgrade this node",
		    (unsigned long long)raft_last_applied(&n->raft) + 1,
		    format);
	exit(RH_EXIT_NEWER_FORMAT);
}

void raft_host_after_turn(struct raft_host *n)
{
	unsigned newer = q53_fsm_log_newer_format(&n->log);

	if (newer != 0)
		rh_stop_newer_format(n, newer);
	if (n->closing)
		return;
	if (!n->removed_logged && rh_removed(n)) {
		n->removed_logged = true;
		cluster_log(n->id,
			    "REMOVED: this node was removed from the cluster "
			    "(its last configuration makes it a standby); it "
			    "no longer votes or campaigns, its data is stale "
			    "and q53 status says \"removed\": stop it, or "
			    "wipe its data and join it again");
	}
	raft_id leader = 0;
	const char *leader_addr = NULL;
	raft_leader(&n->raft, &leader, &leader_addr);
	if (leader != 0 && leader != n->last_leader) {
		n->leader_changes++;
		n->last_leader = leader;
	}
	rh_compaction_turn(n);
	/* what raft_host_propose queued this turn: one entry
	 * (proposal_batch.h) */
	if (raft_host_is_leader(n))
		proposal_batch_flush(&n->proposals);
	else
		proposal_batch_fail_waiting(&n->proposals, RAFT_NOTLEADER);
	/* Only when nothing else is on its way: entries still being
	 * replicated carry the new commit index to the followers anyway, and
	 * a barrier per turn under load costs one more fsync per commit. */
	if (n->committed_since_barrier && !n->barrier_inflight &&
	    n->submits == NULL && raft_host_is_leader(n)) {
		n->barrier.data = n;
		if (raft_barrier(&n->raft, &n->barrier, cn_barrier_cb) == 0)
			n->barrier_inflight = true;
		n->committed_since_barrier = false;
	}
}

/* --- close --- */

static void rh_raft_closed(struct raft *r)
{
	struct raft_host *n = r->data;
	struct proposal *s;

	q53_raft_io_release(&n->io);
	if (n->proposals.entries > 0)
		cluster_log(n->id, "proposed %llu commands in %llu log entries",
			    (unsigned long long)n->proposals.commands,
			    (unsigned long long)n->proposals.entries);
	proposal_batch_close(&n->proposals);
	/* Anything raft did not call back is answered now. */
	while ((s = n->submits) != NULL) {
		cn_submit_unlink(n, s);
		s->done(s, RAFT_SHUTDOWN, NULL);
		proposal_free(n, s);
	}
	n->close_cb(n->close_data);
}

void raft_host_close(struct raft_host *h, void (*cb)(void *data), void *data)
{
	h->closing = true;
	h->close_cb = cb;
	h->close_data = data;
	if (h->raft_inited) {
		raft_close(&h->raft, rh_raft_closed);
		return;
	}
	if (h->io_inited)
		q53_raft_io_release(&h->io);
	cb(data);
}

void raft_host_free(struct raft_host *h)
{
	if (h == NULL)
		return;
	q53_fsm_log_close(&h->log);
	if (h->upgrade != NULL)
		control_upgrade_free(h->upgrade);
	if (h->fsm != NULL)
		control_fsm_free(h->fsm);
	free(h->data_dir);
	free(h);
}
