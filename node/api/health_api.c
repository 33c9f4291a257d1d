/* The health-check operations of the client API (struct api_backend,
 * node/api/api.h): create / update / delete and members' votes are
 * writes, routed to the leader and proposed there as one command each
 * (command_encode_*), answered after commit; get / list / status read this
 * node's FSM. A check this node has not applied yet is looked up on the
 * leader. The full status asks every member's API for its own observation
 * (GetHealthCheckStatus with local_only) and adds the votes and the
 * decision this node's FSM holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "node/common/errcode.h"
#include "cluster/api_msg.h"
#include "node/api/edge_state.h"
#include "node/api/commit_reply.h"
#include "node/api/health_api.h"
#include "node/api/write_router.h"
#include "cluster/member_rpc.h"
#include "node/control/control_fsm.h"
#include "node/control/command_text.h"
#include "node/health/check_config_json.h"
#include "proto/api.pb-c.h"

/* A member that does not answer in this time shows as unreachable. */
#define CN_HEALTH_FANOUT_TIMEOUT_MS 500

/* --- rendering --------------------------------------------------------------
 */

/* hc borrows the FSM's strings: reply before the next apply. The config
 * is written here as canonical JSON (the FSM holds it typed): release
 * out->config_json.data with free() after the reply (cn_render_done). */
static void cn_render_check(Q53__Api__HealthCheck *out,
			    const struct control_fsm_health_check *hc)
{
	char *json = NULL;

	q53__api__health_check__init(out);
	out->id = (char *)hc->id;
	out->caller_reference = (char *)hc->caller_reference;
	if (health_check_config_format(hc->config, &json) == 0) {
		out->config_json.data = (uint8_t *)json;
		out->config_json.len = strlen(json);
	}
	out->version = hc->version;
	out->healthy = hc->healthy;
	out->transition_index = hc->transition_index;
	out->transition_at_ms = hc->transition_ms;
	out->created_index = hc->created_index;
	out->created_at_ms = hc->created_ms;
}

static void cn_render_done(Q53__Api__HealthCheck *out)
{
	free(out->config_json.data);
	out->config_json.data = NULL;
	out->config_json.len = 0;
}

static const char *cn_check_ref(const char *id)
{
	return strncmp(id, "/healthcheck/", 13) == 0 ? id + 13 : id;
}

static void cn_reply_no_check(struct api_call *call, const char *id)
{
	api_reply_error(call, API_ERR_NO_SUCH_HEALTH_CHECK, false,
			"no health check found with ID: %.200s", id);
}

/* Not applied here (yet?): a follower that knows a leader asks it. Returns
 * true when the call went there (or waits for a leader). */
static bool cn_read_on_leader(struct api_edge *n, struct api_call *call)
{
	if (cluster_is_leader(&n->ops) || cluster_closing(&n->ops) ||
	    cluster_leader_api(&n->ops, NULL) == NULL)
		return false;
	write_router_submit(n->router, call);
	return true;
}

/* --- writes (leader) --------------------------------------------------------
 */

static void cn_done_health_write(struct proposal *s, int status,
				 const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__HealthCheck hc;
	Q53__Api__CreateHealthCheckResponse cr_ =
	    Q53__API__CREATE_HEALTH_CHECK_RESPONSE__INIT;
	Q53__Api__UpdateHealthCheckResponse ur =
	    Q53__API__UPDATE_HEALTH_CHECK_RESPONSE__INIT;
	Q53__Api__DeleteHealthCheckResponse dr =
	    Q53__API__DELETE_HEALTH_CHECK_RESPONSE__INIT;
	Q53__Api__HealthVoteResponse vr = Q53__API__HEALTH_VOTE_RESPONSE__INIT;
	struct control_fsm_health_check fc;
	struct command_result cr;
	bool decoded;

	if (commit_reply_failure(s->call, status, res, &cr, &decoded))
		goto out;
	switch (api_call_request(s->call)->body_case) {
	case Q53__API__REQUEST__BODY_CREATE_HEALTH_CHECK:
	case Q53__API__REQUEST__BODY_UPDATE_HEALTH_CHECK:
		/* The apply callback runs right after the FSM applied it. */
		if (control_fsm_health_check_get(n->fsm, cr.health_check.id,
						 &fc) != 0) {
			api_reply_error(s->call, API_ERR_INTERNAL, false,
					"health check %s applied but not "
					"readable",
					cr.health_check.id);
			goto out;
		}
		cn_render_check(&hc, &fc);
		if (api_call_request(s->call)->body_case ==
		    Q53__API__REQUEST__BODY_CREATE_HEALTH_CHECK) {
			cr_.health_check = &hc;
			r.body_case =
			    Q53__API__RESPONSE__BODY_CREATE_HEALTH_CHECK;
			r.create_health_check = &cr_;
		} else {
			ur.health_check = &hc;
			r.body_case =
			    Q53__API__RESPONSE__BODY_UPDATE_HEALTH_CHECK;
			r.update_health_check = &ur;
		}
		break;
	case Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK:
		r.body_case = Q53__API__RESPONSE__BODY_DELETE_HEALTH_CHECK;
		r.delete_health_check = &dr;
		break;
	default:
		vr.index = cr.index;
		r.body_case = Q53__API__RESPONSE__BODY_HEALTH_VOTE;
		r.health_vote = &vr;
		break;
	}
	r.write_index = control_fsm_applied(n->fsm);
	api_reply(s->call, &r);
	if (r.body_case == Q53__API__RESPONSE__BODY_CREATE_HEALTH_CHECK ||
	    r.body_case == Q53__API__RESPONSE__BODY_UPDATE_HEALTH_CHECK)
		cn_render_done(&hc);
out:
	if (decoded)
		command_result_free(&cr);
}

static void cn_health_propose(struct api_edge *n, struct api_call *call,
			      struct command_payload *p, int encode_rv)
{
	int rv = encode_rv;

	if (rv != 0)
		command_payload_clear(p);
	else
		rv = cluster_propose(&n->ops, p, call, cn_done_health_write, n,
				     NULL);
	if (rv == 0)
		return;
	if (rv == RAFT_NOTLEADER) {
		/* Lost leadership since routing: route again. */
		write_router_submit(n->router, call);
		return;
	}
	api_reply_error(call, API_ERR_UNAVAILABLE, true,
			"cannot propose the change: %s",
			rv < 0 ? q53_strerror(rv) : raft_strerror(rv));
}

/* The current config with the request's fields laid over it (Route 53's
 * UpdateHealthCheck names only what changes). *out malloc'd. */
static bool cn_config_merge(struct api_call *call, const char *current,
			    const ProtobufCBinaryData *update, char **out)
{
	json_error_t jerr;
	json_t *cur = json_loads(current, 0, &jerr);
	json_t *upd =
	    json_loadb((const char *)update->data, update->len, 0, &jerr);
	bool ok = false;

	*out = NULL;
	if (upd == NULL || !json_is_object(upd)) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"the update is not a JSON object: %s",
				upd == NULL ? jerr.text : "another JSON type");
	} else if (cur == NULL || json_object_update(cur, upd) != 0 ||
		   (*out = json_dumps(cur, JSON_COMPACT)) == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, false,
				"cannot merge the update into the current "
				"configuration");
	} else {
		ok = true;
	}
	json_decref(cur);
	json_decref(upd);
	return ok;
}

static void be_get_check(struct api_edge *n, struct api_call *call,
			 const Q53__Api__GetHealthCheckRequest *req);
static void be_check_status(struct api_edge *n, struct api_call *call,
			    const Q53__Api__GetHealthCheckStatusRequest *req);

void health_api_execute(struct api_edge *n, struct api_call *call)
{
	const Q53__Api__Request *req = api_call_request(call);
	struct command_payload p = {0};
	uint64_t now = ids_wall_ms();
	int rv;

	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_CREATE_HEALTH_CHECK: {
		const Q53__Api__CreateHealthCheckRequest *c =
		    req->create_health_check;
		char id[37], err[512];
		ids_new_uuid(id);
		/* Parsed here, once: the log carries the typed config. */
		rv = command_text_create_health_check(
		    id, c->caller_reference, (const char *)c->config_json.data,
		    c->config_json.len, now, &p, err, sizeof(err));
		if (rv == Q53_EINVAL) {
			api_reply_error_text(call, err);
			return;
		}
		cn_health_propose(n, call, &p, rv);
		return;
	}
	case Q53__API__REQUEST__BODY_UPDATE_HEALTH_CHECK: {
		const Q53__Api__UpdateHealthCheckRequest *u =
		    req->update_health_check;
		const char *id = cn_check_ref(u->id);
		struct control_fsm_health_check hc;
		char *merged, *current = NULL, err[512];
		if (control_fsm_health_check_get(n->fsm, id, &hc) != 0) {
			cn_reply_no_check(call, u->id);
			return;
		}
		if (health_check_config_format(hc.config, &current) != 0) {
			api_reply_error(call, API_ERR_UNAVAILABLE, true,
					"out of memory");
			return;
		}
		bool merged_ok =
		    cn_config_merge(call, current, &u->config_json, &merged);
		free(current);
		if (!merged_ok)
			return;
		rv = command_text_update_health_check(id, u->version, merged,
						      strlen(merged), now, &p,
						      err, sizeof(err));
		free(merged);
		if (rv == Q53_EINVAL) {
			api_reply_error_text(call, err);
			return;
		}
		cn_health_propose(n, call, &p, rv);
		return;
	}
	case Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK: {
		struct command_delete_health_check cmd = {
		    .id = cn_check_ref(req->delete_health_check->id),
		    .time_ms = now,
		};
		rv = command_encode_delete_health_check(&cmd, &p);
		cn_health_propose(n, call, &p, rv);
		return;
	}
	case Q53__API__REQUEST__BODY_HEALTH_VOTE: {
		const Q53__Api__HealthVoteRequest *v = req->health_vote;
		struct command_health_vote cmd = {
		    .member_id = v->member_id,
		    .check_id = v->check_id,
		    .healthy = v->healthy,
		    .reason = v->reason,
		    .time_ms = v->observed_at_ms,
		};
		rv = command_encode_health_vote(&cmd, &p);
		cn_health_propose(n, call, &p, rv);
		return;
	}
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK:
		be_get_check(n, call, req->get_health_check);
		return;
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK_STATUS:
		be_check_status(n, call, req->get_health_check_status);
		return;
	default:
		api_reply_error(call, API_ERR_INTERNAL, false,
				"not a health-check operation");
		return;
	}
}

static void be_health_write(void *data, struct api_call *call)
{
	struct api_edge *n = data;

	write_router_submit(n->router, call);
}

static void
be_create_health_check(void *data, struct api_call *call,
		       const Q53__Api__CreateHealthCheckRequest *req)
{
	(void)req;
	be_health_write(data, call);
}

static void
be_update_health_check(void *data, struct api_call *call,
		       const Q53__Api__UpdateHealthCheckRequest *req)
{
	(void)req;
	be_health_write(data, call);
}

static void
be_delete_health_check(void *data, struct api_call *call,
		       const Q53__Api__DeleteHealthCheckRequest *req)
{
	(void)req;
	be_health_write(data, call);
}

static void be_health_vote(void *data, struct api_call *call,
			   const Q53__Api__HealthVoteRequest *req)
{
	(void)req;
	be_health_write(data, call);
}

/* --- reads ------------------------------------------------------------------
 */

static void be_get_check(struct api_edge *n, struct api_call *call,
			 const Q53__Api__GetHealthCheckRequest *req)
{
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__GetHealthCheckResponse g =
	    Q53__API__GET_HEALTH_CHECK_RESPONSE__INIT;
	Q53__Api__HealthCheck hc;
	struct control_fsm_health_check fc;

	if (control_fsm_health_check_get(n->fsm, cn_check_ref(req->id), &fc) !=
	    0) {
		if (!cn_read_on_leader(n, call))
			cn_reply_no_check(call, req->id);
		return;
	}
	cn_render_check(&hc, &fc);
	g.health_check = &hc;
	r.body_case = Q53__API__RESPONSE__BODY_GET_HEALTH_CHECK;
	r.get_health_check = &g;
	api_reply(call, &r);
	cn_render_done(&hc);
}

static void be_get_health_check(void *data, struct api_call *call,
				const Q53__Api__GetHealthCheckRequest *req)
{
	be_get_check(data, call, req);
}

static void be_list_health_checks(void *data, struct api_call *call,
				  const Q53__Api__ListHealthChecksRequest *req)
{
	struct api_edge *n = data;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ListHealthChecksResponse l =
	    Q53__API__LIST_HEALTH_CHECKS_RESPONSE__INIT;
	size_t total = control_fsm_health_check_count(n->fsm);
	uint32_t max = req->max_items ? req->max_items : API_MSG_PAGE_DEFAULT;
	const char *marker = req->marker != NULL ? req->marker : "";
	Q53__Api__HealthCheck *items = calloc(max + 1, sizeof(*items));
	Q53__Api__HealthCheck **ptrs = calloc(max + 1, sizeof(*ptrs));
	size_t i = 0, k = 0;

	if (items == NULL || ptrs == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		goto out;
	}
	for (; i < total; i++) {
		struct control_fsm_health_check fc;
		if (control_fsm_health_check_at(n->fsm, i, &fc) != 0 ||
		    strcmp(fc.id, marker) < 0)
			continue;
		if (k == max) {
			l.next_marker = (char *)fc.id;
			break;
		}
		cn_render_check(&items[k], &fc);
		ptrs[k] = &items[k];
		k++;
	}
	l.health_checks = ptrs;
	l.n_health_checks = k;
	r.body_case = Q53__API__RESPONSE__BODY_LIST_HEALTH_CHECKS;
	r.list_health_checks = &l;
	api_reply(call, &r);
out:
	for (size_t j = 0; items != NULL && j < k; j++)
		cn_render_done(&items[j]);
	free(items);
	free(ptrs);
}

/* --- status -----------------------------------------------------------------
 */

struct cn_hs_member {
	struct cn_hs *hs;
	Q53__Api__HealthCheckNodeStatus st;
	char name[CLUSTER_NAME_MAX];
	char state[16];
	char reason[CLUSTER_REASON_MAX];
	char vote_reason[CONTROL_FSM_REASON_MAX + 1];
	char failure_reason[CLUSTER_REASON_MAX];
};

struct cn_hs {
	struct api_edge *n;
	struct api_call *call;
	char id[CLUSTER_CHECK_ID_MAX + 1];
	size_t total, pending;
	struct cn_hs_member *members;
};

/* This node's own observation of check id into st (strings copied into
 * m's buffers). */
static void cn_observe_self(struct api_edge *n, const char *id,
			    struct cn_hs_member *m)
{
	struct cluster_check_observation o;

	m->st.reachable = true;
	m->st.applied_index = cluster_served(&n->ops);
	if (n->ops.observe_check(n->ops.data, id, &o) != 0 || !o.probing)
		return;
	snprintf(m->state, sizeof(m->state), "%s", o.state);
	snprintf(m->reason, sizeof(m->reason), "%s", o.reason);
	m->st.observed_at_ms = o.observed_ms;
	m->st.probes = o.probes;
	snprintf(m->failure_reason, sizeof(m->failure_reason), "%s",
		 o.failure_reason);
	m->st.last_failure_at_ms = o.failure_ms;
}

static void cn_hs_reply(struct cn_hs *hs)
{
	struct api_edge *n = hs->n;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__GetHealthCheckStatusResponse st =
	    Q53__API__GET_HEALTH_CHECK_STATUS_RESPONSE__INIT;
	Q53__Api__HealthCheckNodeStatus **ptrs =
	    calloc(hs->total + 1, sizeof(*ptrs));
	struct control_fsm_health_check fc;

	if (ptrs == NULL) {
		api_reply_error(hs->call, API_ERR_INTERNAL, false,
				"out of memory");
		goto out;
	}
	/* Read the FSM now: it may have moved during the fan-out. */
	if (control_fsm_health_check_get(n->fsm, hs->id, &fc) != 0) {
		cn_reply_no_check(hs->call, hs->id);
		goto out;
	}
	for (size_t i = 0; i < hs->total; i++) {
		struct cn_hs_member *m = &hs->members[i];
		for (size_t v = 0; v < fc.n_votes; v++) {
			if (fc.votes[v].member_id != m->st.node_id)
				continue;
			m->st.voted = true;
			m->st.vote_healthy = fc.votes[v].healthy;
			m->st.vote_index = fc.votes[v].log_index;
			m->st.vote_at_ms = fc.votes[v].time_ms;
			snprintf(m->vote_reason, sizeof(m->vote_reason), "%s",
				 fc.reasons[v]);
		}
		m->st.name = m->name;
		m->st.observed_state = m->state;
		m->st.observed_reason = m->reason;
		m->st.vote_reason = m->vote_reason;
		m->st.last_failure_reason = m->failure_reason;
		ptrs[i] = &m->st;
	}
	st.id = (char *)fc.id;
	st.healthy = fc.healthy;
	st.basis = (char *)health_vote_basis_name(fc.decision.basis);
	st.members = (uint32_t)fc.decision.members;
	st.reporting = (uint32_t)fc.decision.reporting;
	st.healthy_votes = (uint32_t)fc.decision.healthy_votes;
	st.transition_index = fc.transition_index;
	st.transition_at_ms = fc.transition_ms;
	st.applied_index = cluster_served(&n->ops);
	st.answered_by = n->id;
	st.nodes = ptrs;
	st.n_nodes = hs->total;
	r.body_case = Q53__API__RESPONSE__BODY_GET_HEALTH_CHECK_STATUS;
	r.get_health_check_status = &st;
	api_reply(hs->call, &r);
out:
	free(ptrs);
	free(hs->members);
	free(hs);
}

static void cn_hs_cb(void *data, int status, const uint8_t *buf, size_t len)
{
	struct cn_hs_member *m = data;
	struct cn_hs *hs = m->hs;

	if (status == 0) {
		Q53__Api__Response *r =
		    q53__api__response__unpack(NULL, len, buf);
		const Q53__Api__GetHealthCheckStatusResponse *s =
		    r != NULL ? r->get_health_check_status : NULL;
		if (r != NULL && r->error[0] == '\0' &&
		    r->body_case ==
			Q53__API__RESPONSE__BODY_GET_HEALTH_CHECK_STATUS &&
		    s->answered_by == m->st.node_id) {
			m->st.reachable = true;
			m->st.applied_index = s->applied_index;
			for (size_t i = 0; i < s->n_nodes; i++) {
				const Q53__Api__HealthCheckNodeStatus *o =
				    s->nodes[i];
				if (o->node_id != m->st.node_id)
					continue;
				snprintf(m->state, sizeof(m->state), "%s",
					 o->observed_state);
				snprintf(m->reason, sizeof(m->reason), "%s",
					 o->observed_reason);
				m->st.observed_at_ms = o->observed_at_ms;
				m->st.probes = o->probes;
				snprintf(m->failure_reason,
					 sizeof(m->failure_reason), "%s",
					 o->last_failure_reason);
				m->st.last_failure_at_ms =
				    o->last_failure_at_ms;
			}
		}
		if (r != NULL)
			q53__api__response__free_unpacked(r, NULL);
	}
	if (--hs->pending == 0)
		cn_hs_reply(hs);
}

static int cn_pack_local_status(const char *id, uint8_t **buf, size_t *len)
{
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__GetHealthCheckStatusRequest g =
	    Q53__API__GET_HEALTH_CHECK_STATUS_REQUEST__INIT;

	g.id = (char *)id;
	g.local_only = true;
	req.version = API_MSG_VERSION;
	req.body_case = Q53__API__REQUEST__BODY_GET_HEALTH_CHECK_STATUS;
	req.get_health_check_status = &g;
	*len = q53__api__request__get_packed_size(&req);
	*buf = malloc(*len + 1);
	if (*buf == NULL)
		return Q53_ENOMEM;
	q53__api__request__pack(&req, *buf);
	return 0;
}

static void be_check_status(struct api_edge *n, struct api_call *call,
			    const Q53__Api__GetHealthCheckStatusRequest *req)
{
	struct control_fsm_health_check fc;
	size_t members = control_fsm_node_count(n->fsm);
	struct cn_hs *hs;
	uint8_t *sreq = NULL;
	size_t slen = 0;

	if (control_fsm_health_check_get(n->fsm, cn_check_ref(req->id), &fc) !=
	    0) {
		if (req->local_only || !cn_read_on_leader(n, call))
			cn_reply_no_check(call, req->id);
		return;
	}
	hs = calloc(1, sizeof(*hs));
	if (hs == NULL ||
	    (hs->members = calloc(members + 1, sizeof(*hs->members))) == NULL ||
	    (!req->local_only &&
	     cn_pack_local_status(fc.id, &sreq, &slen) != 0)) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		if (hs != NULL)
			free(hs->members);
		free(hs);
		return;
	}
	hs->n = n;
	hs->call = call;
	snprintf(hs->id, sizeof(hs->id), "%s", fc.id);
	hs->pending = 1; /* held until every request went out */
	for (size_t i = 0; i < members; i++) {
		struct control_fsm_node meta;
		struct cn_hs_member *m;

		if (control_fsm_node_at(n->fsm, i, &meta) != 0)
			continue;
		if (req->local_only && meta.id != n->id)
			continue;
		m = &hs->members[hs->total++];
		q53__api__health_check_node_status__init(&m->st);
		m->hs = hs;
		m->st.node_id = meta.id;
		snprintf(m->name, sizeof(m->name), "%s", meta.name);
		if (meta.id == n->id) {
			cn_observe_self(n, hs->id, m);
			continue;
		}
		if (meta.api_address[0] == '\0')
			continue;
		hs->pending++;
		if (member_rpc_call(n->rpc, meta.api_address, sreq, slen,
				    CN_HEALTH_FANOUT_TIMEOUT_MS, cn_hs_cb,
				    m) != 0)
			hs->pending--;
	}
	free(sreq);
	if (--hs->pending == 0)
		cn_hs_reply(hs);
}

static void
be_get_health_check_status(void *data, struct api_call *call,
			   const Q53__Api__GetHealthCheckStatusRequest *req)
{
	be_check_status(data, call, req);
}

void health_api_backend(struct api_backend *b)
{
	b->create_health_check = be_create_health_check;
	b->get_health_check = be_get_health_check;
	b->list_health_checks = be_list_health_checks;
	b->update_health_check = be_update_health_check;
	b->delete_health_check = be_delete_health_check;
	b->get_health_check_status = be_get_health_check_status;
	b->health_vote = be_health_vote;
}
