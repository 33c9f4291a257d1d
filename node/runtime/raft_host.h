/* The Raft host of a node: canonical/raft 0.15 over q53_raft_io (raft_uv
 * disk + NNG), the fsm_log adapter around the control FSM (apply,
 * snapshots), this process's exactly-once client session and the
 * proposals in flight. It knows nothing of the modules above it: they get
 * its functions through struct cluster_ops (node/runtime/cluster_ops.h).
 *
 * Exactly-once sessions: one fsm_log client session per q53d process (a
 * random client id drawn at init, request ids 1, 2, ... in raft_apply
 * order), so every entry this process proposes is framed and ordered.
 *
 * Commit propagation: raft 0.15 sends the new commit index only with the
 * next AppendEntries (a heartbeat, up to heartbeat_ms later); after a loop
 * turn that committed something and with nothing else in flight,
 * raft_host_after_turn proposes a barrier so followers apply (and INSYNC
 * comes) about one round trip after commit.
 *
 * Lifecycle: raft_host_init -> raft_host_start -> raft_host_close(cb) ->
 * raft_host_free (after cb). Loop thread only. */
#ifndef Q53_NODE_RUNTIME_RAFT_HOST_H
#define Q53_NODE_RUNTIME_RAFT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <raft.h>
#include <uv.h>

#include "node/runtime/cluster_ops.h"

struct raft_host;

struct raft_host_config {
	uint64_t id;
	const char *data_dir; /* copied */
	const char *raft_url; /* tcp://HOST:PORT, copied */
	unsigned snapshot_threshold;
	unsigned election_timeout_ms;
	unsigned heartbeat_ms;
	/* mutual TLS between members, NULL = plain TCP (borrowed) */
	const struct q53_peer_tls *peer_tls;
	/* the Raft listener's connection cap and idle timeout, 0 = defaults
	 * (node/common/pipe_guard.h) */
	unsigned max_connections;
	unsigned idle_ms;
};

/* Creates the control FSM, the fsm_log, the io and raft (nothing runs).
 * 0 or a q53_err with the reason in err; on failure *out may still be
 * set: close it. */
int raft_host_init(struct raft_host **out, uv_loop_t *loop,
		   const struct raft_host_config *config, char *err,
		   size_t errlen);

/* Bootstraps a one-node cluster when bootstrap and the data dir is empty
 * (*bootstrapped tells), then starts raft. 0 or Q53_EINVAL with err. */
int raft_host_start(struct raft_host *h, bool bootstrap, bool *bootstrapped,
		    char *err, size_t errlen);

struct control_fsm *raft_host_fsm(struct raft_host *h);
/* Raft itself, for membership changes (raft_add / assign / remove). */
struct raft *raft_host_raft(struct raft_host *h);

bool raft_host_is_leader(struct raft_host *h);
const char *raft_host_leader_api(struct raft_host *h, uint64_t *leader_id);
/* See cluster_ops.propose. */
int raft_host_propose(struct raft_host *h, struct command_payload *p,
		      struct api_call *call, proposal_done done, void *arg,
		      struct proposal **out);
/* The server id in raft's configuration, NULL when not a member. */
const struct raft_server *raft_host_server(struct raft_host *h, uint64_t id);
void raft_host_status(struct raft_host *h, struct cluster_raft_status *out);

/* What /metrics shows of raft (node/runtime/node_metrics.h). */
struct prom_hist;
struct raft_host_stats {
	uint64_t applied_index;
	uint64_t leader_changes;       /* a new leader seen by this node */
	uint64_t snapshots_taken;      /* by this node */
	uint64_t snapshot_bytes_last;  /* the last one taken, encoded */
	uint64_t snapshot_bytes_total; /* every one taken */
	uint64_t snapshots_installed; /* restored from a leader's, or at boot */
	uint64_t snapshot_installed_bytes_last;
	/* proposals of this node, propose to applied here (seconds) */
	const struct prom_hist *proposal_seconds;
};
void raft_host_stats(struct raft_host *h, struct raft_host_stats *out);
/* After each loop turn: the commit-propagation barrier (see above). */
void raft_host_after_turn(struct raft_host *h);

/* Closes raft; proposals it did not call back are answered with
 * RAFT_SHUTDOWN, then cb(data). */
void raft_host_close(struct raft_host *h, void (*cb)(void *data), void *data);
/* Frees the FSM and everything else (after close's cb, or after a failed
 * init). */
void raft_host_free(struct raft_host *h);

#endif
