#include "node/api/limit_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "node/api/api_render.h"
#include "node/api/commit_reply.h"
#include "node/api/edge_state.h"
#include "node/api/write_router.h"
#include "node/common/errcode.h"
#include "node/common/ids.h"
#include "node/control/command.h"
#include "node/control/control_fsm.h"
#include "node/control/zone_store.h"
#include "proto/api.pb-c.h"

/* The one limit type there is ("" means it). */
static bool limit_type_checked(struct api_call *call, const char *type)
{
	if (type == NULL || type[0] == '\0' ||
	    strcmp(type, COMMAND_ZONE_LIMIT_MAX_RRSETS) == 0)
		return true;
	api_reply_error(call, API_ERR_INVALID_INPUT, false,
			"limit type '%.40s' is not %s", type,
			COMMAND_ZONE_LIMIT_MAX_RRSETS);
	return false;
}

static void limit_reply(struct api_call *call,
			Q53__Api__Response__BodyCase body,
			const struct zone_store_info *info, uint64_t index)
{
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ZoneLimitResponse zl = Q53__API__ZONE_LIMIT_RESPONSE__INIT;

	zl.type = (char *)COMMAND_ZONE_LIMIT_MAX_RRSETS;
	zl.value = info->max_rrsets;
	zl.count = info->nrrsets;
	r.body_case = body;
	if (body == Q53__API__RESPONSE__BODY_GET_ZONE_LIMIT)
		r.get_zone_limit = &zl;
	else
		r.set_zone_limit = &zl;
	r.write_index = index;
	api_reply(call, &r);
}

/* --- the write (leader) ---------------------------------------------------
 */

static void limit_done(struct proposal *s, int status,
		       const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	struct zone_store_info info;
	struct command_result cr;
	bool decoded;

	if (commit_reply_failure(s->call, status, res, &cr, &decoded))
		goto out;
	/* The apply callback runs right after the FSM applied it. */
	if (zone_store_get(control_fsm_zone_store(n->fsm), s->zone_id, &info) !=
	    0) {
		api_reply_error(s->call, API_ERR_NO_SUCH_ZONE, false,
				"No hosted zone found with ID: %s", s->zone_id);
		goto out;
	}
	limit_reply(s->call, Q53__API__RESPONSE__BODY_SET_ZONE_LIMIT, &info,
		    control_fsm_applied(n->fsm));
out:
	if (decoded)
		command_result_free(&cr);
}

static void limit_set(struct api_edge *n, struct api_call *call,
		      const Q53__Api__SetZoneLimitRequest *l)
{
	struct command_payload p = {0};
	struct zone_store_info info;
	char err[512], id[ZONE_STORE_ID_MAX + 1];

	if (!limit_type_checked(call, l->type))
		return;
	if (api_render_resolve(control_fsm_zone_store(n->fsm), l->zone, &info,
			       err, sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	/* Checked here, once more by apply (the log is untrusted). */
	if (l->value > ZONE_STORE_MAX_RRSETS_LIMIT) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"a %s of %llu is more than %d",
				COMMAND_ZONE_LIMIT_MAX_RRSETS,
				(unsigned long long)l->value,
				ZONE_STORE_MAX_RRSETS_LIMIT);
		return;
	}
	snprintf(id, sizeof(id), "%s", info.id);
	struct command_set_zone_limit cmd = {
	    .zone_id = id,
	    .limit_type = COMMAND_ZONE_LIMIT_MAX_RRSETS,
	    .value = l->value,
	    .time_ms = ids_wall_ms(),
	};
	commit_reply_propose(n, call, &p,
			     command_encode_set_zone_limit(&cmd, &p),
			     limit_done, id);
}

/* --- the read ---------------------------------------------------------------
 */

static void limit_get(struct api_edge *n, struct api_call *call,
		      const Q53__Api__GetZoneLimitRequest *l)
{
	struct zone_store_info info;
	char err[512];

	if (!limit_type_checked(call, l->type))
		return;
	if (api_render_resolve(control_fsm_zone_store(n->fsm), l->zone, &info,
			       err, sizeof(err)) != 0) {
		/* Not applied here yet? The leader knows. */
		if (!cluster_is_leader(&n->ops) && !cluster_closing(&n->ops) &&
		    cluster_leader_api(&n->ops, NULL) != NULL) {
			write_router_submit(n->router, call);
			return;
		}
		api_reply_error_text(call, err);
		return;
	}
	limit_reply(call, Q53__API__RESPONSE__BODY_GET_ZONE_LIMIT, &info, 0);
}

void limit_api_execute(struct api_edge *n, struct api_call *call)
{
	const Q53__Api__Request *req = api_call_request(call);

	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_SET_ZONE_LIMIT:
		limit_set(n, call, req->set_zone_limit);
		return;
	case Q53__API__REQUEST__BODY_GET_ZONE_LIMIT:
		limit_get(n, call, req->get_zone_limit);
		return;
	default:
		api_reply_error(call, API_ERR_INTERNAL, false,
				"not a limit operation");
		return;
	}
}

static void be_set_zone_limit(void *data, struct api_call *call,
			      const Q53__Api__SetZoneLimitRequest *req)
{
	struct api_edge *n = data;
	(void)req;
	write_router_submit(n->router, call);
}

static void be_get_zone_limit(void *data, struct api_call *call,
			      const Q53__Api__GetZoneLimitRequest *req)
{
	limit_get(data, call, req);
}

void limit_api_backend(struct api_backend *b)
{
	b->get_zone_limit = be_get_zone_limit;
	b->set_zone_limit = be_set_zone_limit;
}
