#include "node/api/tag_api.h"

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
#include "node/control/control_fsm.h"
#include "node/control/tag_table.h"
#include "node/control/zone_store.h"
#include "proto/api.pb-c.h"

static const char *tag_strip(const char *id, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(id, prefix, n) == 0 ? id + n : id;
}

/* The resource's id as the FSM keys it ("Z..." / the check's id), or NULL
 * when this node does not have it. */
static const char *tag_resource_id(struct api_edge *n, const char *type,
				   const char *ref, char *buf, size_t len)
{
	if (strcmp(type, TAG_TABLE_TYPE_ZONE) == 0) {
		struct zone_store_info info;
		const char *id = tag_strip(ref, "/hostedzone/");
		if (zone_store_get(control_fsm_zone_store(n->fsm), id, &info) !=
		    0)
			return NULL;
		snprintf(buf, len, "%s", info.id);
		return buf;
	}
	struct control_fsm_health_check hc;
	const char *id = tag_strip(ref, "/healthcheck/");
	if (control_fsm_health_check_get(n->fsm, id, &hc) != 0)
		return NULL;
	snprintf(buf, len, "%s", hc.id);
	return buf;
}

static void tag_reply_missing(struct api_call *call, const char *type,
			      const char *ref)
{
	if (strcmp(type, TAG_TABLE_TYPE_ZONE) == 0)
		api_reply_error(call, API_ERR_NO_SUCH_ZONE, false,
				"No hosted zone found with ID: %.200s", ref);
	else
		api_reply_error(call, API_ERR_NO_SUCH_HEALTH_CHECK, false,
				"No health check found with ID: %.200s", ref);
}

static bool tag_type_checked(struct api_call *call, const char *type)
{
	if (tag_table_type_ok(type))
		return true;
	api_reply_error(call, API_ERR_INVALID_INPUT, false,
			"ResourceType '%.40s' must be hostedzone or "
			"healthcheck",
			type);
	return false;
}

/* --- writes (leader) -------------------------------------------------------
 */

static void tag_done(struct proposal *s, int status,
		     const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ChangeTagsResponse ct = Q53__API__CHANGE_TAGS_RESPONSE__INIT;
	Q53__Api__UpdateZoneCommentResponse uc =
	    Q53__API__UPDATE_ZONE_COMMENT_RESPONSE__INIT;
	Q53__Api__HostedZone hz;
	struct zone_store_info info;
	struct command_result cr;
	bool decoded;

	if (commit_reply_failure(s->call, status, res, &cr, &decoded))
		goto out;
	if (api_call_request(s->call)->body_case ==
	    Q53__API__REQUEST__BODY_CHANGE_TAGS) {
		r.body_case = Q53__API__RESPONSE__BODY_CHANGE_TAGS;
		r.change_tags = &ct;
	} else {
		/* The apply callback runs right after the FSM applied it. */
		if (zone_store_get(control_fsm_zone_store(n->fsm), s->zone_id,
				   &info) != 0) {
			api_reply_error(s->call, API_ERR_NO_SUCH_ZONE, false,
					"No hosted zone found with ID: %s",
					s->zone_id);
			goto out;
		}
		api_render_zone(&hz, &info);
		uc.zone = &hz;
		r.body_case = Q53__API__RESPONSE__BODY_UPDATE_ZONE_COMMENT;
		r.update_zone_comment = &uc;
	}
	r.write_index = control_fsm_applied(n->fsm);
	api_reply(s->call, &r);
out:
	if (decoded)
		command_result_free(&cr);
}

static void tag_change(struct api_edge *n, struct api_call *call,
		       const Q53__Api__ChangeTagsRequest *c)
{
	struct command_tag add[COMMAND_TAG_CHANGES_MAX];
	struct command_payload p = {0};
	char idbuf[CONTROL_FSM_ID_MAX + 1], err[512];
	const char *id;

	if (!tag_type_checked(call, c->resource_type))
		return;
	id = tag_resource_id(n, c->resource_type, c->resource_id, idbuf,
			     sizeof(idbuf));
	if (id == NULL) {
		tag_reply_missing(call, c->resource_type, c->resource_id);
		return;
	}
	struct command_change_tags cmd = {
	    .resource_type = c->resource_type,
	    .resource_id = id,
	    .add = add,
	    .n_add = c->n_add,
	    .remove_keys = (const char *const *)c->remove_keys,
	    .n_remove = c->n_remove_keys,
	    .time_ms = ids_wall_ms(),
	};
	if (c->n_add > COMMAND_TAG_CHANGES_MAX)
		cmd.n_add = COMMAND_TAG_CHANGES_MAX + 1; /* refused below */
	for (size_t i = 0; i < c->n_add && i < COMMAND_TAG_CHANGES_MAX; i++) {
		add[i].key = c->add[i]->key;
		add[i].value = c->add[i]->value;
	}
	/* Checked here, once more by apply (the log is untrusted). */
	if (tag_table_check_change(&cmd, err, sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	commit_reply_propose(n, call, &p, command_encode_change_tags(&cmd, &p),
			     tag_done, NULL);
}

static void tag_update_comment(struct api_edge *n, struct api_call *call,
			       const Q53__Api__UpdateZoneCommentRequest *u)
{
	struct command_payload p = {0};
	struct zone_store_info info;
	char err[512], id[ZONE_STORE_ID_MAX + 1];

	if (api_render_resolve(control_fsm_zone_store(n->fsm), u->zone, &info,
			       err, sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	snprintf(id, sizeof(id), "%s", info.id);
	struct command_update_zone_comment cmd = {
	    .zone_id = id,
	    .comment = u->comment,
	    .time_ms = ids_wall_ms(),
	};
	commit_reply_propose(n, call, &p,
			     command_encode_update_zone_comment(&cmd, &p),
			     tag_done, id);
}

/* --- reads -----------------------------------------------------------------
 */

static void tag_list(struct api_edge *n, struct api_call *call,
		     const Q53__Api__ListTagsRequest *l)
{
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ListTagsResponse lt = Q53__API__LIST_TAGS_RESPONSE__INIT;
	Q53__Api__ResourceTags items[API_MSG_TAG_RESOURCES_MAX];
	Q53__Api__ResourceTags *ptrs[API_MSG_TAG_RESOURCES_MAX];
	Q53__Api__Tag kv[API_MSG_TAG_RESOURCES_MAX][COMMAND_TAGS_MAX];
	Q53__Api__Tag *kvp[API_MSG_TAG_RESOURCES_MAX][COMMAND_TAGS_MAX];
	char ids[API_MSG_TAG_RESOURCES_MAX][CONTROL_FSM_ID_MAX + 1];

	if (!tag_type_checked(call, l->resource_type))
		return;
	for (size_t i = 0; i < l->n_resource_ids; i++) {
		const char *ref = l->resource_ids[i];
		const char *id = tag_resource_id(n, l->resource_type, ref,
						 ids[i], sizeof(ids[i]));
		if (id == NULL) {
			/* Not applied here yet? The leader knows. */
			if (!cluster_is_leader(&n->ops) &&
			    !cluster_closing(&n->ops) &&
			    cluster_leader_api(&n->ops, NULL) != NULL) {
				write_router_submit(n->router, call);
				return;
			}
			tag_reply_missing(call, l->resource_type, ref);
			return;
		}
		const struct tag_resource *t =
		    control_fsm_tags(n->fsm, l->resource_type, id);
		q53__api__resource_tags__init(&items[i]);
		items[i].resource_type = (char *)l->resource_type;
		items[i].resource_id = (char *)id;
		items[i].tags = kvp[i];
		items[i].n_tags = t != NULL ? t->n : 0;
		for (size_t k = 0; t != NULL && k < t->n; k++) {
			q53__api__tag__init(&kv[i][k]);
			kv[i][k].key = t->tags[k].key;
			kv[i][k].value = t->tags[k].value;
			kvp[i][k] = &kv[i][k];
		}
		ptrs[i] = &items[i];
	}
	lt.resources = ptrs;
	lt.n_resources = l->n_resource_ids;
	r.body_case = Q53__API__RESPONSE__BODY_LIST_TAGS;
	r.list_tags = &lt;
	api_reply(call, &r);
}

void tag_api_execute(struct api_edge *n, struct api_call *call)
{
	const Q53__Api__Request *req = api_call_request(call);

	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_CHANGE_TAGS:
		tag_change(n, call, req->change_tags);
		return;
	case Q53__API__REQUEST__BODY_UPDATE_ZONE_COMMENT:
		tag_update_comment(n, call, req->update_zone_comment);
		return;
	case Q53__API__REQUEST__BODY_LIST_TAGS:
		tag_list(n, call, req->list_tags);
		return;
	default:
		api_reply_error(call, API_ERR_INTERNAL, false,
				"not a tag operation");
		return;
	}
}

static void be_tag_write(void *data, struct api_call *call)
{
	struct api_edge *n = data;

	write_router_submit(n->router, call);
}

static void be_change_tags(void *data, struct api_call *call,
			   const Q53__Api__ChangeTagsRequest *req)
{
	(void)req;
	be_tag_write(data, call);
}

static void
be_update_zone_comment(void *data, struct api_call *call,
		       const Q53__Api__UpdateZoneCommentRequest *req)
{
	(void)req;
	be_tag_write(data, call);
}

static void be_list_tags(void *data, struct api_call *call,
			 const Q53__Api__ListTagsRequest *req)
{
	tag_list(data, call, req);
}

void tag_api_backend(struct api_backend *b)
{
	b->change_tags = be_change_tags;
	b->update_zone_comment = be_update_zone_comment;
	b->list_tags = be_list_tags;
}
