/* Writes proposed on the leader and their answers once the proposal came
 * back (zone_api.c, health_api.c, tag_api.c). */
#ifndef Q53_NODE_API_COMMIT_REPLY_H
#define Q53_NODE_API_COMMIT_REPLY_H

#include <stdbool.h>

#include "node/control/command.h"
#include "node/raft/fsm_log.h"
#include "node/runtime/cluster_ops.h"

struct api_call;

/* Answers a write whose apply failed (leadership lost: Unavailable, not
 * retryable) or was rejected by the FSM (its Route 53 error); returns true
 * when it answered. Otherwise cr holds the decoded result (*decoded: free
 * it with command_result_free). */
bool commit_reply_failure(struct api_call *call, int status,
			  const struct q53_fsm_log_result *res,
			  struct command_result *cr, bool *decoded);

/* Proposes p (consumed) for call on the leader, encode_rv being what
 * encoding it returned: done answers after the commit (the proposal's arg
 * is n; with zone_id non-NULL the proposal remembers it); lost leadership
 * routes call again; any other failure answers Unavailable. */
struct api_edge;
void commit_reply_propose(struct api_edge *n, struct api_call *call,
			  struct command_payload *p, int encode_rv,
			  proposal_done done, const char *zone_id);

#endif
