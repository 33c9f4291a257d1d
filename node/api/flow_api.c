/* Traffic Flow through the client API (see flow_api.h). */
#include "node/api/flow_api.h"

#include <libknot/libknot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "node/api/commit_reply.h"
#include "node/api/edge_state.h"
#include "node/api/write_router.h"
#include "node/common/errcode.h"
#include "node/common/ids.h"
#include "node/control/change_batch.h"
#include "node/control/cidr_table.h"
#include "node/control/command_flow.h"
#include "node/control/control_fsm.h"
#include "node/control/traffic_policy.h"
#include "node/control/zone_store_flow.h"
#include "node/dnsdata/dname.h"
#include "proto/api.pb-c.h"

#define OP(x)	     Q53__API__TRAFFIC_FLOW_REQUEST__OP__##x
#define PAGE_DEFAULT 100

static const struct zone_store *store(struct api_edge *n)
{
	return control_fsm_zone_store(n->fsm);
}

static const char *type_name(uint16_t t)
{
	const char *s = change_batch_type_name(t);
	return s != NULL ? s : "";
}

static void policy_info(Q53__Api__TrafficPolicyInfo *o,
			const struct zone_store_tpolicy *p)
{
	q53__api__traffic_policy_info__init(o);
	o->id = (char *)p->id;
	o->version = p->version;
	o->name = p->name;
	o->type = (char *)type_name(p->p.type);
	o->document = p->document;
	o->comment = p->comment;
}

/* Room for one instance's rendered name. */
struct inst_text {
	char name[DNAME_MAXLEN * 4 + 2];
};

static void instance_info(Q53__Api__TrafficPolicyInstanceInfo *o,
			  const struct zone_store_tinstance *t,
			  struct inst_text *txt)
{
	q53__api__traffic_policy_instance_info__init(o);
	dname_to_text(t->name, txt->name, sizeof(txt->name));
	o->id = (char *)t->id;
	o->zone_id = (char *)t->zone_id;
	o->name = txt->name;
	o->ttl = t->ttl;
	o->state = "Applied";
	o->message = "";
	o->policy_id = (char *)t->policy_id;
	o->policy_version = t->policy_version;
	o->policy_type = (char *)type_name(t->type);
}

static void reply_flow(struct api_edge *n, struct api_call *call,
		       Q53__Api__TrafficFlowResponse *tf)
{
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	r.body_case = Q53__API__RESPONSE__BODY_TRAFFIC_FLOW;
	r.traffic_flow = tf;
	r.write_index = control_fsm_applied(n->fsm);
	api_reply(call, &r);
}

static void reply_policy(struct api_edge *n, struct api_call *call,
			 const struct zone_store_tpolicy *p)
{
	Q53__Api__TrafficFlowResponse tf =
	    Q53__API__TRAFFIC_FLOW_RESPONSE__INIT;
	Q53__Api__TrafficPolicyInfo info, *ptr = &info;
	policy_info(&info, p);
	tf.policies = &ptr;
	tf.n_policies = 1;
	reply_flow(n, call, &tf);
}

static void reply_instance(struct api_edge *n, struct api_call *call,
			   const struct zone_store_tinstance *t)
{
	Q53__Api__TrafficFlowResponse tf =
	    Q53__API__TRAFFIC_FLOW_RESPONSE__INIT;
	Q53__Api__TrafficPolicyInstanceInfo info, *ptr = &info;
	struct inst_text txt;
	instance_info(&info, t, &txt);
	tf.instances = &ptr;
	tf.n_instances = 1;
	reply_flow(n, call, &tf);
}

static void no_such_policy(struct api_call *call, const char *id,
			   uint32_t version)
{
	api_reply_error(call, "NoSuchTrafficPolicy", false,
			"No traffic policy found with ID %.80s and version %u",
			id, (unsigned)version);
}

static void no_such_instance(struct api_call *call, const char *id)
{
	api_reply_error(call, "NoSuchTrafficPolicyInstance", false,
			"No traffic policy instance found with ID %.80s", id);
}

/* --- writes --- */

static void flow_done(struct proposal *s, int status,
		      const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	const Q53__Api__TrafficFlowRequest *t =
	    api_call_request(s->call)->traffic_flow;
	struct command_result cr;
	bool decoded;

	if (commit_reply_failure(s->call, status, res, &cr, &decoded))
		goto out;
	switch (t->op) {
	case OP(CREATE_POLICY):
	case OP(CREATE_POLICY_VERSION): {
		const struct zone_store_tpolicy *p =
		    zone_store_policy_get(store(n), s->zone_id, 0);
		if (p == NULL)
			no_such_policy(s->call, s->zone_id, 0);
		else
			reply_policy(n, s->call, p);
		break;
	}
	case OP(UPDATE_POLICY_COMMENT): {
		const struct zone_store_tpolicy *p =
		    zone_store_policy_get(store(n), t->id, t->version);
		if (p == NULL)
			no_such_policy(s->call, t->id, t->version);
		else
			reply_policy(n, s->call, p);
		break;
	}
	case OP(CREATE_INSTANCE):
	case OP(UPDATE_INSTANCE): {
		const struct zone_store_tinstance *i =
		    zone_store_instance_get(store(n), s->zone_id);
		if (i == NULL)
			no_such_instance(s->call, s->zone_id);
		else
			reply_instance(n, s->call, i);
		break;
	}
	default: {
		Q53__Api__TrafficFlowResponse tf =
		    Q53__API__TRAFFIC_FLOW_RESPONSE__INIT;
		reply_flow(n, s->call, &tf);
		break;
	}
	}
out:
	if (decoded)
		command_result_free(&cr);
}

static void create_policy(struct api_edge *n, struct api_call *call,
			  const Q53__Api__TrafficFlowRequest *t, bool version)
{
	struct traffic_policy p;
	struct command_payload pl = {0};
	char err[1024], id[ZONE_STORE_FLOW_ID_MAX + 1];
	uint32_t v = 1;
	const char *name = t->name;

	if (version) {
		const struct zone_store_tpolicy *cur =
		    zone_store_policy_get(store(n), t->id, 0);
		if (cur == NULL) {
			no_such_policy(call, t->id, 0);
			return;
		}
		snprintf(id, sizeof(id), "%s", cur->id);
		v = cur->version + 1;
		name = cur->name;
	} else {
		if (name == NULL || name[0] == '\0' ||
		    strlen(name) > TRAFFIC_POLICY_NAME_MAX) {
			api_reply_error(call, API_ERR_INVALID_INPUT, false,
					"Name must be 1 to %d characters",
					TRAFFIC_POLICY_NAME_MAX);
			return;
		}
		ids_new('T', id);
	}
	if (traffic_policy_parse(t->document, strlen(t->document), &p, err,
				 sizeof(err)) != 0) {
		api_reply_error(call, "InvalidTrafficPolicyDocument", false,
				"%s", err);
		return;
	}
	/* Every HealthCheck names a health check of the cluster. */
	for (size_t r = 0; r < p.nrules; r++) {
		for (size_t k = 0; k < p.rules[r].nitems; k++) {
			const char *hc = p.rules[r].items[k].health_check;
			struct control_fsm_health_check info;
			if (hc == NULL || control_fsm_health_check_get(
					      n->fsm, hc, &info) == 0)
				continue;
			api_reply_error(call, "NoSuchHealthCheck", false,
					"No health check found with ID %.80s "
					"($.Rules.%.128s)",
					hc, p.rules[r].name);
			traffic_policy_free(&p);
			return;
		}
	}
	/* Every cidr rule names a CIDR collection of the cluster (its
	 * locations may come later: a missing one answers as "*"). */
	for (size_t r = 0; r < p.nrules; r++) {
		const struct traffic_rule *ru = &p.rules[r];
		if (ru->type != TRAFFIC_RULE_CIDR ||
		    cidr_table_get(control_fsm_cidrs(n->fsm),
				   ru->items[0].cidr_collection) != NULL)
			continue;
		api_reply_error(call, "NoSuchCidrCollectionException", false,
				"No CIDR collection found with ID %.40s "
				"($.Rules.%.128s)",
				ru->items[0].cidr_collection, ru->name);
		traffic_policy_free(&p);
		return;
	}
	struct command_traffic_policy c = {.id = id,
					   .version = v,
					   .name = name,
					   .comment = t->comment,
					   .document = t->document,
					   .policy = &p,
					   .time_ms = ids_wall_ms()};
	int rc = command_encode_traffic_policy(&c, &pl);
	traffic_policy_free(&p);
	commit_reply_propose(n, call, &pl, rc, flow_done, id);
}

static void policy_change(struct api_edge *n, struct api_call *call,
			  const Q53__Api__TrafficFlowRequest *t, uint16_t type)
{
	struct command_payload pl = {0};
	if (zone_store_policy_get(store(n), t->id, t->version) == NULL ||
	    t->version == 0) {
		no_such_policy(call, t->id, t->version);
		return;
	}
	struct command_traffic_policy_change c = {.id = t->id,
						  .version = t->version,
						  .comment = t->comment,
						  .time_ms = ids_wall_ms()};
	commit_reply_propose(
	    n, call, &pl, command_encode_traffic_policy_change(type, &c, &pl),
	    flow_done, NULL);
}

static void instance_write(struct api_edge *n, struct api_call *call,
			   const Q53__Api__TrafficFlowRequest *t,
			   enum command_instance_action action)
{
	struct command_payload pl = {0};
	uint8_t wire[KNOT_DNAME_MAXLEN];
	char id[ZONE_STORE_FLOW_ID_MAX + 1];
	size_t len = 0;
	if (action == COMMAND_INSTANCE_CREATE) {
		if (t->name == NULL || t->name[0] == '\0' ||
		    knot_dname_from_str(wire, t->name, sizeof(wire)) == NULL) {
			api_reply_error(call, API_ERR_INVALID_INPUT, false,
					"Name '%.300s' is not a domain name",
					t->name != NULL ? t->name : "");
			return;
		}
		len = knot_dname_size(wire);
		ids_new('I', id);
	} else {
		if (zone_store_instance_get(store(n), t->id) == NULL) {
			no_such_instance(call, t->id);
			return;
		}
		snprintf(id, sizeof(id), "%s", t->id);
	}
	const char *zid = t->zone_id;
	if (zid != NULL && strncmp(zid, "/hostedzone/", 12) == 0)
		zid += 12;
	struct command_traffic_instance c = {.action = action,
					     .id = id,
					     .zone_id = zid,
					     .name = len > 0 ? wire : NULL,
					     .name_len = len,
					     .ttl = t->ttl,
					     .policy_id = t->policy_id,
					     .policy_version =
						 t->policy_version,
					     .time_ms = ids_wall_ms()};
	commit_reply_propose(n, call, &pl,
			     command_encode_traffic_instance(&c, &pl),
			     flow_done, id);
}

/* --- reads --- */

static uint32_t page_of(const Q53__Api__TrafficFlowRequest *t)
{
	return t->max_items > 0 ? t->max_items : PAGE_DEFAULT;
}

static void list_policies(struct api_edge *n, struct api_call *call,
			  const Q53__Api__TrafficFlowRequest *t, bool versions)
{
	const struct zone_store *s = store(n);
	size_t np = zone_store_policy_count(s), max = page_of(t);
	Q53__Api__TrafficFlowResponse tf =
	    Q53__API__TRAFFIC_FLOW_RESPONSE__INIT;
	Q53__Api__TrafficPolicyInfo *infos = calloc(np + 1, sizeof(*infos));
	Q53__Api__TrafficPolicyInfo **iptr = calloc(np + 1, sizeof(*iptr));
	Q53__Api__TrafficPolicySummary *sums = calloc(np + 1, sizeof(*sums));
	Q53__Api__TrafficPolicySummary **sptr = calloc(np + 1, sizeof(*sptr));
	char marker[ZONE_STORE_FLOW_ID_MAX + 1] = "";
	if (infos == NULL || iptr == NULL || sums == NULL || sptr == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, true, "out of memory");
		goto out;
	}
	if (versions && zone_store_policy_get(s, t->id, 0) == NULL) {
		no_such_policy(call, t->id, 0);
		goto out;
	}
	uint32_t from = versions && t->marker[0] != '\0'
			    ? (uint32_t)strtoul(t->marker, NULL, 10)
			    : 0;
	for (size_t i = 0; i < np; i++) {
		const struct zone_store_tpolicy *p = zone_store_policy_at(s, i);
		if (versions) {
			if (strcmp(p->id, t->id) != 0 || p->version < from)
				continue;
			if (tf.n_policies == max) {
				tf.truncated = true;
				snprintf(marker, sizeof(marker), "%u",
					 (unsigned)p->version);
				break;
			}
			policy_info(&infos[tf.n_policies], p);
			iptr[tf.n_policies] = &infos[tf.n_policies];
			tf.n_policies++;
			continue;
		}
		if (t->marker[0] != '\0' && strcmp(p->id, t->marker) < 0)
			continue;
		if (tf.n_summaries > 0 &&
		    strcmp(sums[tf.n_summaries - 1].id, p->id) == 0) {
			Q53__Api__TrafficPolicySummary *x =
			    &sums[tf.n_summaries - 1];
			x->count++;
			x->latest_version = p->version;
			x->type = (char *)type_name(p->p.type);
			continue;
		}
		if (tf.n_summaries == max) {
			tf.truncated = true;
			snprintf(marker, sizeof(marker), "%s", p->id);
			break;
		}
		Q53__Api__TrafficPolicySummary *x = &sums[tf.n_summaries];
		q53__api__traffic_policy_summary__init(x);
		x->id = (char *)p->id;
		x->name = p->name;
		x->type = (char *)type_name(p->p.type);
		x->latest_version = p->version;
		x->count = 1;
		sptr[tf.n_summaries] = x;
		tf.n_summaries++;
	}
	tf.policies = iptr;
	tf.summaries = sptr;
	tf.next_marker = marker;
	reply_flow(n, call, &tf);
out:
	free(infos);
	free(iptr);
	free(sums);
	free(sptr);
}

/* Route 53's order of the instance listings: hosted zone id, then name
 * (canonical DNS order), then type. */
static int inst_order(const struct zone_store_tinstance *x, const char *zone_id,
		      const uint8_t *name, uint16_t type)
{
	int c = strcmp(x->zone_id, zone_id);
	if (c == 0)
		c = knot_dname_cmp(x->name, name);
	if (c == 0)
		c = (x->type > type) - (x->type < type);
	return c;
}

static int inst_cmp(const void *a, const void *b)
{
	const struct zone_store_tinstance *x =
	    *(const struct zone_store_tinstance *const *)a;
	const struct zone_store_tinstance *y =
	    *(const struct zone_store_tinstance *const *)b;
	return inst_order(x, y->zone_id, y->name, y->type);
}

static void list_instances(struct api_edge *n, struct api_call *call,
			   const Q53__Api__TrafficFlowRequest *t)
{
	const struct zone_store *s = store(n);
	size_t ni = zone_store_instance_count(s), max = page_of(t), nm = 0;
	Q53__Api__TrafficFlowResponse tf =
	    Q53__API__TRAFFIC_FLOW_RESPONSE__INIT;
	Q53__Api__TrafficPolicyInstanceInfo *infos =
	    calloc(ni + 1, sizeof(*infos));
	Q53__Api__TrafficPolicyInstanceInfo **ptr =
	    calloc(ni + 1, sizeof(*ptr));
	const struct zone_store_tinstance **match =
	    calloc(ni + 1, sizeof(*match));
	struct inst_text *txt = calloc(ni + 2, sizeof(*txt));
	char marker[ZONE_STORE_FLOW_ID_MAX + 1] = "", next_type[32] = "";
	const char *zid = t->zone_id;
	if (zid != NULL && strncmp(zid, "/hostedzone/", 12) == 0)
		zid += 12;
	if (infos == NULL || ptr == NULL || txt == NULL || match == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, true, "out of memory");
		goto out;
	}
	if (t->op == OP(LIST_INSTANCES_BY_ZONE)) {
		struct zone_store_info zi;
		if (zone_store_get(s, zid, &zi) != 0) {
			api_reply_error(call, API_ERR_NO_SUCH_ZONE, false,
					"No hosted zone found with ID: %.80s",
					zid);
			goto out;
		}
	}
	if (t->op == OP(LIST_INSTANCES_BY_POLICY) &&
	    zone_store_policy_get(s, t->policy_id, t->policy_version) == NULL) {
		no_such_policy(call, t->policy_id, t->policy_version);
		goto out;
	}
	/* The markers: the first instance at or after them. */
	uint8_t mname[DNAME_MAXLEN] = {0};
	uint16_t mtype = 0;
	const char *mzone =
	    t->op == OP(LIST_INSTANCES_BY_ZONE) ? zid : t->marker_zone_id;
	bool keyed = t->marker_name[0] != '\0' || t->marker_type[0] != '\0' ||
		     t->marker_zone_id[0] != '\0';
	if (mzone != NULL && strncmp(mzone, "/hostedzone/", 12) == 0)
		mzone += 12;
	if (t->marker_name[0] != '\0' &&
	    knot_dname_from_str(mname, t->marker_name, sizeof(mname)) == NULL) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"TrafficPolicyInstanceNameMarker '%.80s' is "
				"not a domain name",
				t->marker_name);
		goto out;
	}
	knot_dname_to_lower(mname);
	if (t->marker_type[0] != '\0' &&
	    change_batch_type_from_name(t->marker_type, &mtype) != 0) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"TrafficPolicyInstanceTypeMarker '%.20s' is "
				"not a record type",
				t->marker_type);
		goto out;
	}
	for (size_t i = 0; i < ni; i++) {
		const struct zone_store_tinstance *x =
		    zone_store_instance_at(s, i);
		if (t->op == OP(LIST_INSTANCES_BY_ZONE) &&
		    strcmp(x->zone_id, zid) != 0)
			continue;
		if (t->op == OP(LIST_INSTANCES_BY_POLICY) &&
		    (strcmp(x->policy_id, t->policy_id) != 0 ||
		     x->policy_version != t->policy_version))
			continue;
		match[nm++] = x;
	}
	qsort(match, nm, sizeof(*match), inst_cmp);
	size_t first = 0;
	if (keyed) {
		while (first < nm &&
		       inst_order(match[first], mzone != NULL ? mzone : "",
				  mname, mtype) < 0)
			first++;
	} else if (t->marker[0] != '\0') {
		/* q53's own marker: an instance id. */
		while (first < nm && strcmp(match[first]->id, t->marker) != 0)
			first++;
	}
	for (size_t i = first; i < nm; i++) {
		const struct zone_store_tinstance *x = match[i];
		if (tf.n_instances == max) {
			tf.truncated = true;
			snprintf(marker, sizeof(marker), "%s", x->id);
			dname_to_text(x->name, txt[ni + 1].name,
				      sizeof(txt[ni + 1].name));
			snprintf(next_type, sizeof(next_type), "%s",
				 type_name(x->type));
			tf.next_zone_id = (char *)x->zone_id;
			tf.next_name = txt[ni + 1].name;
			tf.next_type = next_type;
			break;
		}
		instance_info(&infos[tf.n_instances], x, &txt[tf.n_instances]);
		ptr[tf.n_instances] = &infos[tf.n_instances];
		tf.n_instances++;
	}
	tf.instances = ptr;
	tf.next_marker = marker;
	reply_flow(n, call, &tf);
out:
	free(infos);
	free(ptr);
	free(match);
	free(txt);
}

void flow_api_execute(struct api_edge *n, struct api_call *call)
{
	const Q53__Api__TrafficFlowRequest *t =
	    api_call_request(call)->traffic_flow;
	const struct zone_store *s = store(n);
	switch (t->op) {
	case OP(CREATE_POLICY):
		create_policy(n, call, t, false);
		return;
	case OP(CREATE_POLICY_VERSION):
		create_policy(n, call, t, true);
		return;
	case OP(UPDATE_POLICY_COMMENT):
		policy_change(n, call, t,
			      COMMAND_UPDATE_TRAFFIC_POLICY_COMMENT);
		return;
	case OP(DELETE_POLICY):
		policy_change(n, call, t, COMMAND_DELETE_TRAFFIC_POLICY);
		return;
	case OP(CREATE_INSTANCE):
		instance_write(n, call, t, COMMAND_INSTANCE_CREATE);
		return;
	case OP(UPDATE_INSTANCE):
		instance_write(n, call, t, COMMAND_INSTANCE_UPDATE);
		return;
	case OP(DELETE_INSTANCE):
		instance_write(n, call, t, COMMAND_INSTANCE_DELETE);
		return;
	case OP(GET_POLICY): {
		const struct zone_store_tpolicy *p =
		    t->version > 0 ? zone_store_policy_get(s, t->id, t->version)
				   : NULL;
		if (p == NULL)
			no_such_policy(call, t->id, t->version);
		else
			reply_policy(n, call, p);
		return;
	}
	case OP(LIST_POLICIES):
		list_policies(n, call, t, false);
		return;
	case OP(LIST_POLICY_VERSIONS):
		list_policies(n, call, t, true);
		return;
	case OP(GET_INSTANCE): {
		const struct zone_store_tinstance *i =
		    zone_store_instance_get(s, t->id);
		if (i == NULL)
			no_such_instance(call, t->id);
		else
			reply_instance(n, call, i);
		return;
	}
	case OP(LIST_INSTANCES):
	case OP(LIST_INSTANCES_BY_ZONE):
	case OP(LIST_INSTANCES_BY_POLICY):
		list_instances(n, call, t);
		return;
	case OP(GET_INSTANCE_COUNT): {
		Q53__Api__TrafficFlowResponse tf =
		    Q53__API__TRAFFIC_FLOW_RESPONSE__INIT;
		tf.count = (uint32_t)zone_store_instance_count(s);
		reply_flow(n, call, &tf);
		return;
	}
	default:
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"not a Traffic Flow operation");
		return;
	}
}

static void be_traffic_flow(void *data, struct api_call *call,
			    const Q53__Api__TrafficFlowRequest *req)
{
	struct api_edge *n = data;
	(void)req;
	write_router_submit(n->router, call);
}

void flow_api_backend(struct api_backend *b)
{
	b->traffic_flow = be_traffic_flow;
}
