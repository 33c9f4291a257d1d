/* Answers for writes whose proposal came back (zone_api.c, health_api.c). */
#ifndef Q53_NODE_API_COMMIT_REPLY_H
#define Q53_NODE_API_COMMIT_REPLY_H

#include <stdbool.h>

#include "node/control/command.h"
#include "node/raft/fsm_log.h"

struct api_call;

/* Answers a write whose apply failed (leadership lost: Unavailable, not
 * retryable) or was rejected by the FSM (its Route 53 error); returns true
 * when it answered. Otherwise cr holds the decoded result (*decoded: free
 * it with command_result_free). */
bool commit_reply_failure(struct api_call *call, int status,
			  const struct q53_fsm_log_result *res,
			  struct command_result *cr, bool *decoded);

#endif
