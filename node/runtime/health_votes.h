/* The health side of a node: its prober (node/health/prober.h) follows
 * the FSM's health checks after each apply (added, re-added on a new
 * version, removed), probes from the host of the raft address (so
 * endpoints can tell nodes apart) and, when its local verdict on a check
 * differs from the vote the FSM holds for it (a verdict change, or the
 * slow refresh), proposes a HealthVote: directly when leader, else
 * forwarded to the leader's API. Only a node that knows a leader (is part
 * of a quorum) votes; a vote that cannot be committed is retried later,
 * never decided locally: a cut-off node keeps serving the last committed
 * health (fail-static). Nothing here decides a status: the FSM does, from
 * the committed votes. Loop thread only. */
#ifndef Q53_NODE_RUNTIME_HEALTH_VOTES_H
#define Q53_NODE_RUNTIME_HEALTH_VOTES_H

#include <stddef.h>

#include "node/runtime/cluster_ops.h"

struct health_votes;
struct member_rpc;

struct health_votes_config {
	struct cluster_ops ops;
	struct member_rpc *rpc; /* borrowed */
	const char *raft_url;	/* probes leave from its host */
	/* Optional, for /metrics: every probe result of a check, its
	 * connect time in microseconds (-1: it did not connect). */
	void (*on_probe)(void *data, const char *check_id, bool healthy,
			 int64_t connect_us);
	void *probe_data;
};

/* Sets up the prober (nothing runs). 0 or a q53_err with err. */
int health_votes_init(struct health_votes **out,
		      const struct health_votes_config *config, char *err,
		      size_t errlen);
/* Starts probing (the checks the FSM holds now and later). */
int health_votes_start(struct health_votes *h);
/* After applies (each loop turn): follow the FSM's checks. */
void health_votes_after_apply(struct health_votes *h);
/* The periodic part: retries votes that could not be committed. */
void health_votes_tick(struct health_votes *h);
/* This node's own observation of check id: 0 or Q53_ENOENT. */
int health_votes_observe(const struct health_votes *h, const char *id,
			 struct cluster_check_observation *out);
/* Closes the prober; done(data) once it is gone. */
void health_votes_close(struct health_votes *h, void (*done)(void *data),
			void *data);
/* Frees h (after close). */
void health_votes_free(struct health_votes *h);

#endif
