#include "node/api/query_log_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "node/api/commit_reply.h"
#include "node/api/edge_state.h"
#include "node/api/write_router.h"
#include "node/common/ids.h"
#include "node/control/control_fsm.h"
#include "node/control/query_log_table.h"
#include "node/control/zone_store.h"
#include "proto/api.pb-c.h"

/* "Z123" from "/hostedzone/Z123" or "Z123". */
static const char *bare_zone(const char *id)
{
	static const char prefix[] = "/hostedzone/";
	return strncmp(id, prefix, sizeof(prefix) - 1) == 0
		   ? id + sizeof(prefix) - 1
		   : id;
}

static void render(Q53__Api__QueryLoggingConfig *m,
		   const struct query_log_config_entry *e)
{
	q53__api__query_logging_config__init(m);
	m->id = (char *)e->id;
	m->hosted_zone_id = (char *)e->zone_id;
	m->cloud_watch_logs_log_group_arn = (char *)e->arn;
}

static void qlog_done(struct proposal *s, int status,
		      const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	const Q53__Api__Request *req = api_call_request(s->call);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__CreateQueryLoggingConfigResponse cr =
	    Q53__API__CREATE_QUERY_LOGGING_CONFIG_RESPONSE__INIT;
	Q53__Api__DeleteQueryLoggingConfigResponse dr =
	    Q53__API__DELETE_QUERY_LOGGING_CONFIG_RESPONSE__INIT;
	Q53__Api__QueryLoggingConfig cfg;
	struct command_result result;
	bool decoded;

	if (commit_reply_failure(s->call, status, res, &result, &decoded))
		goto out;
	if (req->body_case == Q53__API__REQUEST__BODY_CREATE_QUERY_LOGGING) {
		const struct query_log_config_entry *e =
		    query_log_table_by_zone(control_fsm_query_logging(n->fsm),
					    s->zone_id);
		if (e == NULL) {
			api_reply_error(s->call, API_ERR_INTERNAL, false,
					"the query logging config is gone");
			goto out;
		}
		render(&cfg, e);
		cr.config = &cfg;
		r.body_case = Q53__API__RESPONSE__BODY_CREATE_QUERY_LOGGING;
		r.create_query_logging = &cr;
	} else {
		r.body_case = Q53__API__RESPONSE__BODY_DELETE_QUERY_LOGGING;
		r.delete_query_logging = &dr;
	}
	r.write_index = control_fsm_applied(n->fsm);
	api_reply(s->call, &r);
out:
	if (decoded)
		command_result_free(&result);
}

void query_log_api_execute(struct api_edge *n, struct api_call *call)
{
	const Q53__Api__Request *req = api_call_request(call);
	struct command_payload p = {0};
	char id[37];

	if (req->body_case == Q53__API__REQUEST__BODY_CREATE_QUERY_LOGGING) {
		const Q53__Api__CreateQueryLoggingConfigRequest *c =
		    req->create_query_logging;
		const char *zone = bare_zone(c->hosted_zone_id);
		if (strlen(zone) > ZONE_STORE_ID_MAX ||
		    strlen(c->cloud_watch_logs_log_group_arn) >
			QUERY_LOG_ARN_MAX) {
			api_reply_error(call, API_ERR_INVALID_INPUT, false,
					"HostedZoneId or "
					"CloudWatchLogsLogGroupArn too long");
			return;
		}
		ids_new_uuid(id);
		struct command_change_query_logging cmd = {
		    .id = id,
		    .zone_id = zone,
		    .arn = c->cloud_watch_logs_log_group_arn,
		    .time_ms = ids_wall_ms(),
		};
		commit_reply_propose(
		    n, call, &p, command_encode_change_query_logging(&cmd, &p),
		    qlog_done, zone);
		return;
	}
	if (req->body_case == Q53__API__REQUEST__BODY_DELETE_QUERY_LOGGING) {
		struct command_change_query_logging cmd = {
		    .delete_id = req->delete_query_logging->id,
		    .time_ms = ids_wall_ms(),
		};
		commit_reply_propose(
		    n, call, &p, command_encode_change_query_logging(&cmd, &p),
		    qlog_done, NULL);
		return;
	}
	api_reply_error(call, API_ERR_INTERNAL, false,
			"not a query logging write");
}

static void list_configs(struct api_edge *n, struct api_call *call,
			 const Q53__Api__ListQueryLoggingConfigsRequest *req)
{
	const struct query_log_table *t = control_fsm_query_logging(n->fsm);
	const char *zone = bare_zone(req->hosted_zone_id);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ListQueryLoggingConfigsResponse lr =
	    Q53__API__LIST_QUERY_LOGGING_CONFIGS_RESPONSE__INIT;
	Q53__Api__QueryLoggingConfig *items = calloc(t->n + 1, sizeof(*items));
	Q53__Api__QueryLoggingConfig **ptrs = calloc(t->n + 1, sizeof(*ptrs));

	if (items == NULL || ptrs == NULL) {
		free(items);
		free(ptrs);
		api_reply_error(call, API_ERR_INTERNAL, true, "out of memory");
		return;
	}
	if (zone[0] != '\0') {
		struct zone_store_info info;
		if (zone_store_get(control_fsm_zone_store(n->fsm), zone,
				   &info) != 0) {
			free(items);
			free(ptrs);
			api_reply_error(call, API_ERR_NO_SUCH_ZONE, false,
					"No hosted zone found with ID: %s",
					zone);
			return;
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		if (zone[0] != '\0' && strcmp(t->v[i].zone_id, zone) != 0)
			continue;
		render(&items[lr.n_configs], &t->v[i]);
		ptrs[lr.n_configs] = &items[lr.n_configs];
		lr.n_configs++;
	}
	lr.configs = ptrs;
	r.body_case = Q53__API__RESPONSE__BODY_LIST_QUERY_LOGGING;
	r.list_query_logging = &lr;
	api_reply(call, &r);
	free(items);
	free(ptrs);
}

static void be_query_logging(void *data, struct api_call *call)
{
	struct api_edge *n = data;
	const Q53__Api__Request *req = api_call_request(call);

	if (req->body_case == Q53__API__REQUEST__BODY_LIST_QUERY_LOGGING)
		list_configs(n, call, req->list_query_logging);
	else
		write_router_submit(n->router, call);
}

void query_log_api_backend(struct api_backend *b)
{
	b->query_logging = be_query_logging;
}
