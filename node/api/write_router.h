/* Write routing of the request edge: a write runs on the leader. On the
 * leader write_router_submit runs it at once (the execute function given
 * at init); on a follower it forwards the raw request to the leader's API
 * (member_rpc) and relays the answer; with no leader known it parks the
 * call until one is elected, up to CLUSTER_NODE_ELECTION_WAIT_MS, then
 * answers Unavailable (retryable). A forwarded write the leader answered
 * NotLeader / Unavailable (retryable) waits for the next leader.
 * Loop thread only. */
#ifndef Q53_NODE_API_WRITE_ROUTER_H
#define Q53_NODE_API_WRITE_ROUTER_H

#include <stdbool.h>

#include "node/runtime/cluster_ops.h"

/* How long a write waits for a leader during an election. */
#define CLUSTER_NODE_ELECTION_WAIT_MS 5000

struct api_call;
struct member_rpc;
struct write_router;

struct write_router_config {
	struct cluster_ops ops;
	struct member_rpc *rpc; /* borrowed */
	/* Runs call on this node, the leader. */
	void (*execute)(void *data, struct api_call *call);
	void *data;
};

/* 0 or Q53_ENOMEM. */
int write_router_new(struct write_router **out,
		     const struct write_router_config *config);
/* Routes call: runs it (leader), forwards it, parks it or answers it. */
void write_router_submit(struct write_router *r, struct api_call *call);
/* A forwarded write the leader answered is answered here once this node
 * applied it too (so a read that follows sees it), or after 2 s: call
 * after the FSM applied entries (and the tick does). */
void write_router_after_apply(struct write_router *r);
/* Dispatches or expires parked calls (the node's tick). While the node
 * is closing, answers every parked call (Unavailable). */
void write_router_tick(struct write_router *r);
/* Frees r (after write_router_tick answered everything while closing;
 * forwards in flight hold r until member_rpc answered them). */
void write_router_free(struct write_router *r);

#endif
