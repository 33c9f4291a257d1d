/* The answer to a write whose proposal came back (node/api/). */
#include "node/api/commit_reply.h"

#include <stdio.h>

#include "cluster/api_msg.h"
#include "node/api/api.h"
#include "node/api/edge_state.h"
#include "node/api/write_router.h"
#include "node/common/errcode.h"

bool commit_reply_failure(struct api_call *call, int status,
			  const struct q53_fsm_log_result *res,
			  struct command_result *cr, bool *decoded)
{
	*decoded = false;
	if (status != 0) {
		api_reply_error(call, API_ERR_UNAVAILABLE, false,
				"leadership lost before the commit was "
				"confirmed (%s); the change may or may not "
				"have been applied: check before retrying",
				raft_strerror(status));
		return true;
	}
	if (res->status != Q53_FSM_LOG_APPLIED &&
	    res->status != Q53_FSM_LOG_DUPLICATE) {
		api_reply_error(call, API_ERR_INTERNAL, false,
				"log entry not applied (status %d)",
				(int)res->status);
		return true;
	}
	if (command_result_decode(res->bytes, res->len, cr) != 0) {
		api_reply_error(call, API_ERR_INTERNAL, false,
				"undecodable command result");
		return true;
	}
	*decoded = true;
	if (res->code != 0) {
		api_reply_error(
		    call, cr->error_name[0] ? cr->error_name : API_ERR_INTERNAL,
		    false, "%s", cr->error_message);
		return true;
	}
	return false;
}

void commit_reply_propose(struct api_edge *n, struct api_call *call,
			  struct command_payload *p, int encode_rv,
			  proposal_done done, const char *zone_id)
{
	struct proposal *s;
	int rv = encode_rv;

	if (rv != 0) {
		command_payload_clear(p);
	} else {
		rv = cluster_propose(&n->ops, p, call, done, n, &s);
	}
	if (rv == 0) {
		if (zone_id != NULL)
			snprintf(s->zone_id, sizeof(s->zone_id), "%s", zone_id);
		return;
	}
	if (rv == RAFT_NOTLEADER) {
		/* Lost leadership since routing: route again. */
		write_router_submit(n->router, call);
		return;
	}
	api_reply_error(call, API_ERR_UNAVAILABLE, true,
			"cannot propose the change: %s",
			rv < 0 ? q53_strerror(rv) : raft_strerror(rv));
}
