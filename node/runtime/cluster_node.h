/* The replicated control plane of one q53d node: raft (canonical/raft 0.15)
 * over q53_raft_io (raft_uv disk + NNG), the fsm_log adapter around the
 * control_fsm, the client API server (node/api/api.h) and the serving
 * view the DNS workers read. Everything runs on the one libuv loop given to
 * cluster_node_init (house style #9).
 *
 * Boot: an empty data dir without a join address bootstraps a one-node
 * cluster (and seeds the --zone files through the log once leader); an
 * empty data dir with a join address asks that member's API to add this
 * node (retrying with back-off) and serves only once caught up; a data dir
 * with raft state restarts from raft_uv (snapshot + log tail).
 *
 * Applies are coalesced: a uv_check_t rebuilds the zones the FSM marked
 * dirty (zone_store_build) and publishes one serving view per loop turn.
 *
 * Writes (client API) are acknowledged after commit: the leader encodes a
 * command (command_encode_*), frames it under the node's client session,
 * queues it (node/runtime/proposal_batch.h: under load, one log entry for
 * all the proposals of a loop turn) and replies from the raft_apply
 * callback with that command's own result; a follower forwards the raw
 * request to the leader's API and relays the answer; with no leader known
 * a write waits up to CLUSTER_NODE_ELECTION_WAIT_MS, then Unavailable
 * (retryable).
 *
 * Exactly-once sessions: one fsm_log client session per q53d process (a
 * random client id drawn at start, request ids 1, 2, ... in raft_apply
 * order), so every entry this process proposes is framed and ordered; a
 * request whose raft_apply failed after it was proposed is answered as "may
 * or may not have been applied" (not retryable) rather than re-proposed.
 *
 * Membership: AddNodeRequest carries the raft address ("HOST:PORT" or
 * "tcp://HOST:PORT") and, in their own fields, the node metadata: API
 * address (what forwarding and INSYNC need), DNS address and name. Every
 * voter also keeps its own metadata right by asking the leader to add
 * itself again (idempotent) when the FSM's record differs from its
 * configuration.
 *
 * Health (cluster_node_health.c): every node runs a prober
 * (node/health/prober.h) that follows the FSM's health checks after each
 * apply (added, re-added on a new version, removed), probes from the host
 * of the raft address (so endpoints can tell nodes apart) and, when its
 * local verdict on a check differs from the vote the FSM holds for it (a
 * verdict change, or the slow refresh), proposes a HealthVote: directly
 * when leader, else forwarded to the leader's API. Only a node that knows
 * a leader (is part of a quorum) votes; a vote that cannot be committed is
 * retried later, never decided locally: a cut-off node keeps serving the
 * last committed health (fail-static). Zones whose answers depend on a
 * check are rebuilt (control_fsm_build_zone) when its decided status
 * changes, so all nodes switch at the same FSM index.
 *
 * Lifecycle (house style #10): cluster_node_init -> cluster_node_start ->
 * cluster_node_close(cb); memory is freed before cb runs. */
#ifndef Q53_NODE_RUNTIME_CLUSTER_NODE_H
#define Q53_NODE_RUNTIME_CLUSTER_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* How long a write waits for a leader during an election. */
#define CLUSTER_NODE_ELECTION_WAIT_MS 5000

struct cluster_node;

/* A zone to create on first boot: ORIGIN and the zone file (read once
 * leader). Borrowed until cluster_node_close. */
struct cluster_node_seed {
	const char *origin;
	const char *path;
};

struct cluster_node_config {
	uint64_t id;		  /* >= 1 */
	const char *data_dir;	  /* raft_uv directory, must exist */
	const char *raft_address; /* HOST:PORT to listen on for raft */
	const char *api_address;  /* HOST:PORT for the client API */
	const char *dns_address;  /* shown in node metadata; "" = none */
	const char *join;	  /* any member's API HOST:PORT, NULL = none */
	const char *name;	  /* node name, NULL = "node<ID>" */
	/* Apex NS names of zones created through the API (>= 1). */
	const char *const *nameservers;
	size_t n_nameservers;
	const struct cluster_node_seed *seeds;
	size_t n_seeds;
	unsigned snapshot_threshold;  /* 0 = 1024 */
	unsigned election_timeout_ms; /* 0 = 1000 */
	unsigned heartbeat_ms;	      /* 0 = 100 */
	/* Called once, on the loop thread, when the node first publishes a
	 * serving view (immediately on bootstrap and restart; once caught up
	 * after a join): open the DNS sockets then. */
	void (*on_serving)(void *data);
	void *data;
};

/* Allocates the node (copies config) and sets up raft, its io, the FSM and
 * the API server; nothing listens yet. Returns 0 or a negative q53_err
 * with a one-line reason in err. After success always finish with
 * cluster_node_close. */
int cluster_node_init(struct cluster_node **out, uv_loop_t *loop,
		      const struct cluster_node_config *config, char *err,
		      size_t errlen);

/* Loads raft state (or bootstraps / prepares to join), starts raft and the
 * API server. 0 or a negative q53_err with the reason in err; on failure
 * close the node with cluster_node_close. */
int cluster_node_start(struct cluster_node *n, char *err, size_t errlen);

/* Stops the API (calls it holds are answered), closes raft and every
 * handle, frees n, then cb(data) on the loop thread. Call once. */
void cluster_node_close(struct cluster_node *n, void (*cb)(void *data),
			void *data);

#endif
