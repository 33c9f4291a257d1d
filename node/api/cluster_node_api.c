/* The client API of a cluster node (struct api_backend, node/api/api.h):
 * writes routed to the leader (cn_write_route) and proposed there as one
 * command each, answered from the raft_apply callback (after commit);
 * reads answered from this node's FSM; get-change and node list ask every
 * member's API for its applied FSM index (a status fan-out with a short
 * timeout) to tell PENDING from INSYNC. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "cluster/api_msg.h"
#include "node/api/api_render.h"
#include "node/runtime/cluster_node_impl.h"
#include "cluster/member_rpc.h"
#include "node/control/command_text.h"
#include "node/control/control_fsm.h"
#include "node/control/zone_text.h"
#include "node/control/zone_store.h"
#include "proto/api.pb-c.h"

#ifndef Q53_VERSION
#define Q53_VERSION "0.1.0"
#endif

/* A voter that does not answer in this time counts as not in sync. */
#define CN_FANOUT_TIMEOUT_MS 300

static const struct zone_store *cn_store(struct cluster_node *n)
{
	return control_fsm_zone_store(n->fsm);
}

static void cn_change_info(Q53__Api__ChangeInfo *ci,
			   const struct command_change_info *c)
{
	q53__api__change_info__init(ci);
	ci->id = (char *)(c->id != NULL ? c->id : "");
	ci->status = Q53__API__CHANGE_STATUS__PENDING;
	ci->submitted_at_ms = c->submitted_ms;
	ci->comment = (char *)(c->comment != NULL ? c->comment : "");
}

/* --- writes (leader) -------------------------------------------------------
 */

bool cn_reply_failure(struct api_call *call, int status,
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

static void cn_done_change(struct cn_submit *s, int status,
			   const struct q53_fsm_log_result *res)
{
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ChangeInfo ci;
	Q53__Api__DeleteZoneResponse del = Q53__API__DELETE_ZONE_RESPONSE__INIT;
	Q53__Api__ImportZoneResponse imp = Q53__API__IMPORT_ZONE_RESPONSE__INIT;
	Q53__Api__ChangeBatchResponse cb =
	    Q53__API__CHANGE_BATCH_RESPONSE__INIT;
	struct command_result cr;
	bool decoded;

	if (cn_reply_failure(s->call, status, res, &cr, &decoded))
		goto out;
	cn_change_info(&ci, &cr.change);
	switch (api_call_request(s->call)->body_case) {
	case Q53__API__REQUEST__BODY_DELETE_ZONE:
		del.change = &ci;
		r.body_case = Q53__API__RESPONSE__BODY_DELETE_ZONE;
		r.delete_zone = &del;
		break;
	case Q53__API__REQUEST__BODY_IMPORT_ZONE:
		imp.change = &ci;
		r.body_case = Q53__API__RESPONSE__BODY_IMPORT_ZONE;
		r.import_zone = &imp;
		break;
	default:
		cb.change = &ci;
		r.body_case = Q53__API__RESPONSE__BODY_CHANGE_BATCH;
		r.change_batch = &cb;
		break;
	}
	api_reply(s->call, &r);
out:
	if (decoded)
		command_result_free(&cr);
}

static void cn_done_create_zone(struct cn_submit *s, int status,
				const struct q53_fsm_log_result *res)
{
	struct cluster_node *n = s->n;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__CreateZoneResponse cz = Q53__API__CREATE_ZONE_RESPONSE__INIT;
	Q53__Api__HostedZone hz;
	Q53__Api__ChangeInfo ci;
	struct zone_store_info info;
	struct command_result cr;
	char **names = NULL;
	size_t n_names = 0;
	bool decoded;

	if (cn_reply_failure(s->call, status, res, &cr, &decoded))
		goto out;
	/* The apply callback runs right after the FSM applied it here. */
	if (zone_store_get(cn_store(n), s->zone_id, &info) != 0 ||
	    api_render_nameservers(&info, &names, &n_names) != 0) {
		api_reply_error(s->call, API_ERR_INTERNAL, false,
				"zone %s created but not readable", s->zone_id);
		goto out;
	}
	api_render_zone(&hz, &info);
	cn_change_info(&ci, &cr.change);
	cz.zone = &hz;
	cz.change = &ci;
	cz.nameservers = names;
	cz.n_nameservers = n_names;
	r.body_case = Q53__API__RESPONSE__BODY_CREATE_ZONE;
	r.create_zone = &cz;
	api_reply(s->call, &r);
	api_render_strings_free(names, n_names);
out:
	if (decoded)
		command_result_free(&cr);
}

static void cn_propose(struct cluster_node *n, struct api_call *call,
		       struct command_payload *p, int encode_rv,
		       cn_submit_done done, const char *zone_id)
{
	struct cn_submit *s;
	int rv = encode_rv;

	if (rv != 0) {
		command_payload_clear(p);
	} else {
		rv = cn_submit(n, p, call, done, NULL, &s);
	}
	if (rv == 0) {
		if (zone_id != NULL)
			snprintf(s->zone_id, sizeof(s->zone_id), "%s", zone_id);
		return;
	}
	if (rv == RAFT_NOTLEADER) {
		/* Lost leadership since routing: route again. */
		if (cn_write_route(n, call))
			cn_api_execute(n, call);
		return;
	}
	api_reply_error(call, API_ERR_UNAVAILABLE, true,
			"cannot propose the change: %s",
			rv < 0 ? q53_strerror(rv) : raft_strerror(rv));
}

/* Resolves a zone reference into id (copied); answers on failure. */
static bool cn_resolve(struct cluster_node *n, struct api_call *call,
		       const char *ref, char id[ZONE_STORE_ID_MAX + 1])
{
	struct zone_store_info info;
	char err[512];

	if (api_render_resolve(cn_store(n), ref, &info, err, sizeof(err)) !=
	    0) {
		api_reply_error_text(call, err);
		return false;
	}
	snprintf(id, ZONE_STORE_ID_MAX + 1, "%s", info.id);
	return true;
}

static void be_get_change(void *data, struct api_call *call,
			  const Q53__Api__GetChangeRequest *req);

void cn_api_execute(struct cluster_node *n, struct api_call *call)
{
	const Q53__Api__Request *req = api_call_request(call);
	struct command_payload p = {0};
	char zone_id[ZONE_STORE_ID_MAX + 1];
	char change_id[CN_ID_LEN + 1];
	uint64_t now = cn_now_ms();
	int rv;

	cn_new_id('C', change_id);
	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_CREATE_ZONE: {
		const Q53__Api__CreateZoneRequest *c = req->create_zone;
		char new_id[CN_ID_LEN + 1];
		cn_new_id('Z', new_id);
		struct command_create_hosted_zone cmd = {
		    .id = new_id,
		    .name = c->name,
		    .caller_reference = c->caller_reference,
		    .comment = c->comment,
		    .nameservers = (const char *const *)n->nameservers,
		    .n_nameservers = n->n_nameservers,
		    .change_id = change_id,
		    .time_ms = now,
		};
		rv = command_encode_create_hosted_zone(&cmd, &p);
		cn_propose(n, call, &p, rv, cn_done_create_zone, new_id);
		return;
	}
	case Q53__API__REQUEST__BODY_DELETE_ZONE: {
		if (!cn_resolve(n, call, req->delete_zone->zone, zone_id))
			return;
		struct command_delete_hosted_zone cmd = {
		    .id = zone_id, .change_id = change_id, .time_ms = now};
		rv = command_encode_delete_hosted_zone(&cmd, &p);
		cn_propose(n, call, &p, rv, cn_done_change, zone_id);
		return;
	}
	case Q53__API__REQUEST__BODY_IMPORT_ZONE: {
		const ProtobufCBinaryData *t = &req->import_zone->zone_file;
		if (!cn_resolve(n, call, req->import_zone->zone, zone_id))
			return;
		/* Parsed here, once; the log carries the record sets. */
		char err[1024];
		rv = command_text_import_zone(
		    cn_store(n), zone_id, change_id,
		    t->data != NULL ? (const char *)t->data : "", t->len, now,
		    &p, err, sizeof(err));
		if (rv == Q53_EINVAL) {
			api_reply_error_text(call, err);
			return;
		}
		cn_propose(n, call, &p, rv, cn_done_change, zone_id);
		return;
	}
	case Q53__API__REQUEST__BODY_CHANGE_BATCH: {
		const ProtobufCBinaryData *j =
		    &req->change_batch->change_batch_json;
		if (!cn_resolve(n, call, req->change_batch->zone, zone_id))
			return;
		/* Parsed and converted here, once (wire names and RDATA);
		 * apply decides what depends on the zone's state. */
		char err[4096];
		rv = command_text_change_rrsets(
		    zone_id, change_id,
		    j->data != NULL ? (const char *)j->data : "", j->len, now,
		    &p, err, sizeof(err));
		if (rv == Q53_EINVAL) {
			api_reply_error_text(call, err);
			return;
		}
		cn_propose(n, call, &p, rv, cn_done_change, zone_id);
		return;
	}
	case Q53__API__REQUEST__BODY_ADD_NODE:
		cn_member_add(n, call, req->add_node->id,
			      req->add_node->address,
			      req->add_node->api_address,
			      req->add_node->dns_address, req->add_node->name);
		return;
	case Q53__API__REQUEST__BODY_REMOVE_NODE:
		cn_member_remove(n, call, req->remove_node->id);
		return;
	case Q53__API__REQUEST__BODY_GET_CHANGE:
		/* A get-change that waited for a leader (see be_get_change). */
		be_get_change(n, call, req->get_change);
		return;
	case Q53__API__REQUEST__BODY_CREATE_HEALTH_CHECK:
	case Q53__API__REQUEST__BODY_UPDATE_HEALTH_CHECK:
	case Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK:
	case Q53__API__REQUEST__BODY_HEALTH_VOTE:
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK:
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK_STATUS:
		cn_health_api_execute(n, call);
		return;
	default:
		api_reply_error(call, API_ERR_INTERNAL, false,
				"not a write operation");
		return;
	}
}

static void be_write(void *data, struct api_call *call)
{
	struct cluster_node *n = data;

	if (cn_write_route(n, call))
		cn_api_execute(n, call);
}

#define WRITE_OP(op, type)                                                     \
	static void be_##op(void *data, struct api_call *call,                 \
			    const type *req)                                   \
	{                                                                      \
		(void)req;                                                     \
		be_write(data, call);                                          \
	}

WRITE_OP(create_zone, Q53__Api__CreateZoneRequest)
WRITE_OP(delete_zone, Q53__Api__DeleteZoneRequest)
WRITE_OP(import_zone, Q53__Api__ImportZoneRequest)
WRITE_OP(change_batch, Q53__Api__ChangeBatchRequest)
WRITE_OP(add_node, Q53__Api__AddNodeRequest)
WRITE_OP(remove_node, Q53__Api__RemoveNodeRequest)

/* --- reads (local FSM) -----------------------------------------------------
 */

static void be_list_zones(void *data, struct api_call *call,
			  const Q53__Api__ListZonesRequest *req)
{
	struct cluster_node *n = data;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ListZonesResponse lz;

	if (api_render_zones(cn_store(n), req->marker, req->max_items, &lz) !=
	    0) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		return;
	}
	r.body_case = Q53__API__RESPONSE__BODY_LIST_ZONES;
	r.list_zones = &lz;
	api_reply(call, &r);
	api_render_zones_free(&lz);
}

static void be_get_zone(void *data, struct api_call *call,
			const Q53__Api__GetZoneRequest *req)
{
	struct cluster_node *n = data;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__GetZoneResponse gz = Q53__API__GET_ZONE_RESPONSE__INIT;
	Q53__Api__HostedZone hz;
	struct zone_store_info info;
	char err[512];

	if (api_render_resolve(cn_store(n), req->zone, &info, err,
			       sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	api_render_zone(&hz, &info);
	gz.zone = &hz;
	if (api_render_nameservers(&info, &gz.nameservers, &gz.n_nameservers) !=
	    0) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		return;
	}
	r.body_case = Q53__API__RESPONSE__BODY_GET_ZONE;
	r.get_zone = &gz;
	api_reply(call, &r);
	api_render_strings_free(gz.nameservers, gz.n_nameservers);
}

static void be_export_zone(void *data, struct api_call *call,
			   const Q53__Api__ExportZoneRequest *req)
{
	struct cluster_node *n = data;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ExportZoneResponse ez = Q53__API__EXPORT_ZONE_RESPONSE__INIT;
	char id[ZONE_STORE_ID_MAX + 1], err[512];
	char *text;
	size_t len;

	if (!cn_resolve(n, call, req->zone, id))
		return;
	if (zone_text_export(cn_store(n), id, &text, &len, err, sizeof(err)) !=
	    0) {
		api_reply_error_text(call, err);
		return;
	}
	ez.zone_file.data = (uint8_t *)text;
	ez.zone_file.len = len;
	r.body_case = Q53__API__RESPONSE__BODY_EXPORT_ZONE;
	r.export_zone = &ez;
	api_reply(call, &r);
	free(text);
}

static void be_list_records(void *data, struct api_call *call,
			    const Q53__Api__ListRecordsRequest *req)
{
	struct cluster_node *n = data;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ListRecordsResponse lr;
	struct zone_store_info info;
	char err[512];

	if (api_render_resolve(cn_store(n), req->zone, &info, err,
			       sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	if (api_render_records(&info, req->marker, req->max_items, &lr, err,
			       sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	r.body_case = Q53__API__RESPONSE__BODY_LIST_RECORDS;
	r.list_records = &lr;
	api_reply(call, &r);
	api_render_records_free(&lr);
}

static const char *cn_state_name(struct cluster_node *n)
{
	switch (raft_state(&n->raft)) {
	case RAFT_LEADER:
		return "leader";
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_CANDIDATE:
		return "candidate";
	default:
		return "unavailable";
	}
}

static void be_status(void *data, struct api_call *call,
		      const Q53__Api__StatusRequest *req)
{
	struct cluster_node *n = data;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__StatusResponse st = Q53__API__STATUS_RESPONSE__INIT;
	uint64_t leader_id = 0;
	const char *leader_api = cn_leader_api(n, &leader_id);

	(void)req;
	st.node_id = n->id;
	st.state = (char *)cn_state_name(n);
	st.leader_id = leader_id;
	if (leader_id == n->id)
		leader_api = n->api_address;
	st.leader_api = (char *)(leader_api != NULL ? leader_api : "");
	st.term = n->raft.current_term;
	st.commit_index = n->raft.commit_index;
	/* The FSM index the published serving view holds (what INSYNC
	 * compares); 0 while a joining node is still catching up. */
	st.applied_index = n->serving ? n->published_applied : 0;
	st.zones = (uint32_t)zone_store_count(cn_store(n));
	st.nodes = n->raft.configuration.n;
	st.version = Q53_VERSION;
	r.body_case = Q53__API__RESPONSE__BODY_STATUS;
	r.status = &st;
	api_reply(call, &r);
}

/* --- status fan-out: get-change and node list ------------------------------
 */

struct cn_fan_member {
	struct cn_fanout *f;
	uint64_t id;
	char name[CN_NAME_MAX];
	char raft[CN_ADDR_MAX];
	char api[CN_ADDR_MAX];
	int role;
	bool leader;
	bool reachable;
	uint64_t applied;
};

struct cn_fanout {
	struct cluster_node *n;
	struct api_call *call;
	bool nodes; /* node list (else get-change) */
	struct control_fsm_change change;
	char change_id[CN_ID_LEN + 64];
	char comment[300];
	size_t total, pending;
	struct cn_fan_member *members;
};

static const char *cn_role_name(int role)
{
	switch (role) {
	case RAFT_VOTER:
		return "voter";
	case RAFT_STANDBY:
		return "standby";
	default:
		return "spare";
	}
}

static void cn_fanout_reply(struct cn_fanout *f)
{
	struct cluster_node *n = f->n;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;

	if (f->nodes) {
		Q53__Api__ListNodesResponse ln =
		    Q53__API__LIST_NODES_RESPONSE__INIT;
		Q53__Api__Node *nodes = calloc(f->total + 1, sizeof(*nodes));
		Q53__Api__Node **ptrs = calloc(f->total + 1, sizeof(*ptrs));
		if (nodes == NULL || ptrs == NULL) {
			api_reply_error(f->call, API_ERR_INTERNAL, false,
					"out of memory");
		} else {
			for (size_t i = 0; i < f->total; i++) {
				struct cn_fan_member *m = &f->members[i];
				q53__api__node__init(&nodes[i]);
				nodes[i].id = m->id;
				nodes[i].raft_address = m->raft;
				nodes[i].api_address = m->api;
				nodes[i].role = (char *)cn_role_name(m->role);
				nodes[i].leader = m->leader;
				nodes[i].reachable = m->reachable;
				nodes[i].applied_index = m->applied;
				ptrs[i] = &nodes[i];
			}
			ln.nodes = ptrs;
			ln.n_nodes = f->total;
			r.body_case = Q53__API__RESPONSE__BODY_LIST_NODES;
			r.list_nodes = &ln;
			api_reply(f->call, &r);
		}
		free(nodes);
		free(ptrs);
	} else {
		Q53__Api__GetChangeResponse gc =
		    Q53__API__GET_CHANGE_RESPONSE__INIT;
		Q53__Api__ChangeInfo ci = Q53__API__CHANGE_INFO__INIT;
		Q53__Api__NodeApplied *na = calloc(f->total + 1, sizeof(*na));
		Q53__Api__NodeApplied **nap =
		    calloc(f->total + 1, sizeof(*nap));
		uint32_t in_sync = 0;

		if (na == NULL || nap == NULL) {
			api_reply_error(f->call, API_ERR_INTERNAL, false,
					"out of memory");
			free(na);
			free(nap);
			goto out;
		}
		for (size_t i = 0; i < f->total; i++) {
			struct cn_fan_member *m = &f->members[i];
			q53__api__node_applied__init(&na[i]);
			na[i].id = m->id;
			na[i].name = m->name;
			na[i].applied_index = m->applied;
			na[i].reachable = m->reachable;
			na[i].in_sync =
			    m->reachable && m->applied >= f->change.index;
			in_sync += na[i].in_sync;
			nap[i] = &na[i];
		}
		gc.nodes = nap;
		gc.n_nodes = f->total;
		gc.index = f->change.index;
		ci.id = f->change_id;
		ci.comment = f->comment;
		ci.submitted_at_ms = f->change.submitted_ms;
		ci.status = f->total > 0 && in_sync == f->total
				? Q53__API__CHANGE_STATUS__INSYNC
				: Q53__API__CHANGE_STATUS__PENDING;
		if (ci.status == Q53__API__CHANGE_STATUS__INSYNC &&
		    f->change.index > n->insync_index)
			n->insync_index = f->change.index;
		gc.change = &ci;
		gc.nodes_in_sync = in_sync;
		gc.nodes_total = (uint32_t)f->total;
		r.body_case = Q53__API__RESPONSE__BODY_GET_CHANGE;
		r.get_change = &gc;
		api_reply(f->call, &r);
		free(na);
		free(nap);
	}
out:
	n->fanouts--;
	free(f->members);
	free(f);
}

static void cn_fanout_cb(void *data, int status, const uint8_t *buf, size_t len)
{
	struct cn_fan_member *m = data;
	struct cn_fanout *f = m->f;

	if (status == 0) {
		Q53__Api__Response *r =
		    q53__api__response__unpack(NULL, len, buf);
		if (r != NULL && r->error[0] == '\0' &&
		    r->body_case == Q53__API__RESPONSE__BODY_STATUS &&
		    r->status->node_id == m->id) {
			m->reachable = true;
			m->applied = r->status->applied_index;
		}
		if (r != NULL)
			q53__api__response__free_unpacked(r, NULL);
	}
	if (--f->pending == 0)
		cn_fanout_reply(f);
}

/* Asks every member (voters only for a change) for its applied index,
 * then answers f->call. */
static void cn_fanout_start(struct cluster_node *n, struct cn_fanout *f)
{
	const struct raft_configuration *conf = &n->raft.configuration;
	uint64_t leader_id = 0;
	uint8_t *status_req = NULL;
	size_t status_len = 0;

	cn_leader_api(n, &leader_id);
	f->n = n;
	f->members = calloc(conf->n + 1, sizeof(*f->members));
	if (f->members == NULL ||
	    cn_api_pack_status(&status_req, &status_len) != 0) {
		api_reply_error(f->call, API_ERR_INTERNAL, false,
				"out of memory");
		free(f->members);
		free(f);
		return;
	}
	n->fanouts++;
	f->pending = 1; /* held until every request went out */
	for (unsigned i = 0; i < conf->n; i++) {
		const struct raft_server *srv = &conf->servers[i];
		struct control_fsm_node meta;
		struct cn_fan_member *m;

		if (!f->nodes && srv->role != RAFT_VOTER)
			continue;
		m = &f->members[f->total++];
		m->f = f;
		m->id = srv->id;
		m->role = srv->role;
		m->leader = srv->id == leader_id;
		snprintf(m->raft, sizeof(m->raft), "%s", srv->address);
		if (control_fsm_node_get(n->fsm, srv->id, &meta) == 0) {
			snprintf(m->api, sizeof(m->api), "%s",
				 meta.api_address);
			snprintf(m->name, sizeof(m->name), "%s", meta.name);
		}
		if (srv->id == n->id) {
			m->reachable = n->serving;
			m->applied = n->serving ? n->published_applied : 0;
			continue;
		}
		if (m->api[0] == '\0')
			continue;
		f->pending++;
		if (member_rpc_call(n->rpc, m->api, status_req,
					  status_len, CN_FANOUT_TIMEOUT_MS,
					  cn_fanout_cb, m) != 0)
			f->pending--;
	}
	free(status_req);
	if (--f->pending == 0)
		cn_fanout_reply(f);
}

static void be_get_change(void *data, struct api_call *call,
			  const Q53__Api__GetChangeRequest *req)
{
	struct cluster_node *n = data;
	struct cn_fanout *f;
	struct control_fsm_change c;
	const char *id = req->id;

	if (strncmp(id, "/change/", 8) == 0)
		id += 8;
	if (control_fsm_change_get(n->fsm, id, &c) != 0) {
		/* Not applied here yet: the leader knows every committed
		 * change. */
		const char *leader =
		    cn_is_leader(n) ? NULL : cn_leader_api(n, NULL);
		if (leader != NULL && !n->closing) {
			if (cn_write_route(n, call))
				cn_api_execute(n, call);
			return;
		}
		api_reply_error(call, API_ERR_NO_SUCH_CHANGE, false,
				"no change with ID '%s'", req->id);
		return;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		return;
	}
	f->call = call;
	f->change = c;
	snprintf(f->change_id, sizeof(f->change_id), "%s", c.id);
	snprintf(f->comment, sizeof(f->comment), "%s", c.comment);
	if (c.index <= n->insync_index) {
		/* Known in sync already (INSYNC never goes back). */
		Q53__Api__Response r = Q53__API__RESPONSE__INIT;
		Q53__Api__GetChangeResponse gc =
		    Q53__API__GET_CHANGE_RESPONSE__INIT;
		Q53__Api__ChangeInfo ci = Q53__API__CHANGE_INFO__INIT;
		const struct raft_configuration *conf = &n->raft.configuration;
		Q53__Api__NodeApplied *na = calloc(conf->n + 1, sizeof(*na));
		Q53__Api__NodeApplied **nap = calloc(conf->n + 1, sizeof(*nap));
		unsigned voters = 0;
		if (na == NULL || nap == NULL) {
			api_reply_error(call, API_ERR_INTERNAL, false,
					"out of memory");
			free(na);
			free(nap);
			free(f);
			return;
		}
		/* Nobody asked: each voter holds at least the change. */
		for (unsigned i = 0; i < conf->n; i++) {
			struct control_fsm_node meta;
			if (conf->servers[i].role != RAFT_VOTER)
				continue;
			q53__api__node_applied__init(&na[voters]);
			na[voters].id = conf->servers[i].id;
			if (control_fsm_node_get(n->fsm, conf->servers[i].id,
						 &meta) == 0)
				na[voters].name = (char *)meta.name;
			na[voters].applied_index =
			    conf->servers[i].id == n->id && n->serving
				? n->published_applied
				: c.index;
			na[voters].in_sync = true;
			na[voters].reachable = true;
			nap[voters] = &na[voters];
			voters++;
		}
		gc.nodes = nap;
		gc.n_nodes = voters;
		gc.index = c.index;
		ci.id = f->change_id;
		ci.comment = f->comment;
		ci.submitted_at_ms = c.submitted_ms;
		ci.status = Q53__API__CHANGE_STATUS__INSYNC;
		gc.change = &ci;
		gc.nodes_in_sync = gc.nodes_total = voters;
		r.body_case = Q53__API__RESPONSE__BODY_GET_CHANGE;
		r.get_change = &gc;
		api_reply(call, &r);
		free(na);
		free(nap);
		free(f);
		return;
	}
	cn_fanout_start(n, f);
}

static void be_list_nodes(void *data, struct api_call *call,
			  const Q53__Api__ListNodesRequest *req)
{
	struct cluster_node *n = data;
	struct cn_fanout *f = calloc(1, sizeof(*f));

	(void)req;
	if (f == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		return;
	}
	f->call = call;
	f->nodes = true;
	cn_fanout_start(n, f);
}

struct api_backend cn_api_backend(struct cluster_node *n)
{
	struct api_backend b = {
	    .data = n,
	    .create_zone = be_create_zone,
	    .list_zones = be_list_zones,
	    .get_zone = be_get_zone,
	    .delete_zone = be_delete_zone,
	    .import_zone = be_import_zone,
	    .export_zone = be_export_zone,
	    .change_batch = be_change_batch,
	    .get_change = be_get_change,
	    .list_records = be_list_records,
	    .list_nodes = be_list_nodes,
	    .add_node = be_add_node,
	    .remove_node = be_remove_node,
	    .status = be_status,
	    .create_health_check = cn_be_create_health_check,
	    .get_health_check = cn_be_get_health_check,
	    .list_health_checks = cn_be_list_health_checks,
	    .update_health_check = cn_be_update_health_check,
	    .delete_health_check = cn_be_delete_health_check,
	    .get_health_check_status = cn_be_get_health_check_status,
	    .health_vote = cn_be_health_vote,
	};
	return b;
}

int cn_api_pack_status(uint8_t **buf, size_t *len)
{
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__StatusRequest st = Q53__API__STATUS_REQUEST__INIT;

	req.version = API_MSG_VERSION;
	req.body_case = Q53__API__REQUEST__BODY_STATUS;
	req.status = &st;
	*len = q53__api__request__get_packed_size(&req);
	*buf = malloc(*len + 1);
	if (*buf == NULL)
		return Q53_ENOMEM;
	q53__api__request__pack(&req, *buf);
	return 0;
}

int cn_api_pack_add_node(uint64_t id, const char *address, const char *api,
			 const char *dns, const char *name, uint8_t **buf,
			 size_t *len)
{
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__AddNodeRequest an = Q53__API__ADD_NODE_REQUEST__INIT;

	an.id = id;
	an.address = (char *)address;
	an.api_address = (char *)(api != NULL ? api : "");
	an.dns_address = (char *)(dns != NULL ? dns : "");
	an.name = (char *)(name != NULL ? name : "");
	req.version = API_MSG_VERSION;
	req.body_case = Q53__API__REQUEST__BODY_ADD_NODE;
	req.add_node = &an;
	*len = q53__api__request__get_packed_size(&req);
	*buf = malloc(*len + 1);
	if (*buf == NULL)
		return Q53_ENOMEM;
	q53__api__request__pack(&req, *buf);
	return 0;
}
