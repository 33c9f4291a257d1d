/* The zone, change and node operations of the request edge (struct
 * api_backend, node/api/api.h): writes routed to the leader
 * (node/api/write_router.h) and proposed there as one command each,
 * answered from the raft_apply callback (after commit); reads answered
 * from this node's FSM; get-change and node list go to the change
 * tracking (node/api/change_status.h) to tell PENDING from INSYNC. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "cluster/api_msg.h"
#include "node/control/change_batch.h"
#include "node/api/answer_api.h"
#include "node/api/api_render.h"
#include "node/api/change_status.h"
#include "node/api/health_api.h"
#include "node/api/key_api.h"
#include "node/api/flow_api.h"
#include "node/api/latency_api.h"
#include "node/api/cidr_api.h"
#include "node/api/limit_api.h"
#include "node/api/query_log_api.h"
#include "node/api/tag_api.h"
#include "node/api/xfr_api.h"
#include "node/api/zone_api.h"
#include "node/api/edge_state.h"
#include "node/api/commit_reply.h"
#include "node/api/write_router.h"
#include "node/control/command_text.h"
#include "node/control/control_fsm.h"
#include "node/control/zone_text.h"
#include "node/control/zone_store.h"
#include "proto/api.pb-c.h"

static const struct zone_store *cn_store(struct api_edge *n)
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

static void cn_done_change(struct proposal *s, int status,
			   const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ChangeInfo ci;
	Q53__Api__DeleteZoneResponse del = Q53__API__DELETE_ZONE_RESPONSE__INIT;
	Q53__Api__ImportZoneResponse imp = Q53__API__IMPORT_ZONE_RESPONSE__INIT;
	Q53__Api__ChangeBatchResponse cb =
	    Q53__API__CHANGE_BATCH_RESPONSE__INIT;
	struct command_result cr;
	bool decoded;

	if (commit_reply_failure(s->call, status, res, &cr, &decoded))
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
	r.write_index = control_fsm_applied(n->fsm);
	api_reply(s->call, &r);
out:
	if (decoded)
		command_result_free(&cr);
}

static void cn_done_create_zone(struct proposal *s, int status,
				const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__CreateZoneResponse cz = Q53__API__CREATE_ZONE_RESPONSE__INIT;
	Q53__Api__HostedZone hz;
	Q53__Api__ChangeInfo ci;
	struct zone_store_info info;
	struct command_result cr;
	char **names = NULL;
	size_t n_names = 0;
	bool decoded;

	if (commit_reply_failure(s->call, status, res, &cr, &decoded))
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
	r.write_index = control_fsm_applied(n->fsm);
	api_reply(s->call, &r);
	api_render_strings_free(names, n_names);
out:
	if (decoded)
		command_result_free(&cr);
}

/* Resolves a zone reference into id (copied); answers on failure. */
static bool cn_resolve(struct api_edge *n, struct api_call *call,
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

_Static_assert(API_MSG_CHANGE_BATCH_MAX == CHANGE_BATCH_MAX_JSON,
	       "api_msg.h refuses what change_batch_parse would");

void zone_api_execute(void *data, struct api_call *call)
{
	struct api_edge *n = data;
	const Q53__Api__Request *req = api_call_request(call);
	struct command_payload p = {0};
	char zone_id[ZONE_STORE_ID_MAX + 1];
	char change_id[IDS_LEN + 1];
	uint64_t now = ids_wall_ms();
	int rv;

	ids_new('C', change_id);
	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_CREATE_ZONE: {
		const Q53__Api__CreateZoneRequest *c = req->create_zone;
		char new_id[IDS_LEN + 1];
		ids_new('Z', new_id);
		struct command_create_hosted_zone cmd = {
		    .id = new_id,
		    .name = c->name,
		    .caller_reference = c->caller_reference,
		    .comment = c->comment,
		    .nameservers = (const char *const *)n->nameservers,
		    .n_nameservers = n->n_nameservers,
		    .change_id = change_id,
		    .time_ms = now,
		    .max_rrsets = n->zone_record_limit,
		    .access_key_id = c->access_key_id,
		};
		rv = command_encode_create_hosted_zone(&cmd, &p);
		commit_reply_propose(n, call, &p, rv, cn_done_create_zone,
				     new_id);
		return;
	}
	case Q53__API__REQUEST__BODY_DELETE_ZONE: {
		if (!cn_resolve(n, call, req->delete_zone->zone, zone_id))
			return;
		struct command_delete_hosted_zone cmd = {
		    .id = zone_id,
		    .change_id = change_id,
		    .time_ms = now,
		    .access_key_id = req->delete_zone->access_key_id};
		rv = command_encode_delete_hosted_zone(&cmd, &p);
		commit_reply_propose(n, call, &p, rv, cn_done_change, zone_id);
		return;
	}
	case Q53__API__REQUEST__BODY_IMPORT_ZONE: {
		const ProtobufCBinaryData *t = &req->import_zone->zone_file;
		if (!cn_resolve(n, call, req->import_zone->zone, zone_id))
			return;
		/* Parsed here, once; the log carries the record sets. */
		char err[1024];
		rv = command_text_import_zone_deferred(
		    cn_store(n), zone_id, change_id,
		    t->data != NULL ? (const char *)t->data : "", t->len, now,
		    &p, err, sizeof(err));
		if (rv == Q53_EINVAL) {
			api_reply_error_text(call, err);
			return;
		}
		commit_reply_propose(n, call, &p, rv, cn_done_change, zone_id);
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
		rv = command_text_change_rrsets_by(
		    zone_id, change_id, req->change_batch->access_key_id,
		    j->data != NULL ? (const char *)j->data : "", j->len, now,
		    &p, err, sizeof(err));
		if (rv == Q53_EINVAL) {
			api_reply_error_text(call, err);
			return;
		}
		commit_reply_propose(n, call, &p, rv, cn_done_change, zone_id);
		return;
	}
	case Q53__API__REQUEST__BODY_ADD_NODE:
		n->member_add(
		    n->data, call, req->add_node->id, req->add_node->address,
		    req->add_node->api_address, req->add_node->dns_address,
		    req->add_node->name, req->add_node->geoip_path,
		    req->add_node->geoip_sha256, req->add_node->site,
		    req->add_node->site_region);
		return;
	case Q53__API__REQUEST__BODY_REMOVE_NODE:
		n->member_remove(n->data, call, req->remove_node->id);
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
		health_api_execute(n, call);
		return;
	case Q53__API__REQUEST__BODY_CREATE_ACCESS_KEY:
	case Q53__API__REQUEST__BODY_DELETE_ACCESS_KEY:
		key_api_execute(n, call);
		return;
	case Q53__API__REQUEST__BODY_CHANGE_TAGS:
	case Q53__API__REQUEST__BODY_UPDATE_ZONE_COMMENT:
	case Q53__API__REQUEST__BODY_LIST_TAGS:
		tag_api_execute(n, call);
		return;
	case Q53__API__REQUEST__BODY_TRAFFIC_FLOW:
		flow_api_execute(n, call);
		return;
	case Q53__API__REQUEST__BODY_SET_ZONE_TRANSFER:
	case Q53__API__REQUEST__BODY_GET_ZONE_TRANSFER:
		xfr_api_execute(n, call);
		return;
	case Q53__API__REQUEST__BODY_LATENCY_SET:
	case Q53__API__REQUEST__BODY_LATENCY_DELETE:
	case Q53__API__REQUEST__BODY_LATENCY_SAMPLES:
		latency_api_execute(n, call);
		return;
	case Q53__API__REQUEST__BODY_CREATE_CIDR_COLLECTION:
	case Q53__API__REQUEST__BODY_CHANGE_CIDR_COLLECTION:
	case Q53__API__REQUEST__BODY_DELETE_CIDR_COLLECTION:
	case Q53__API__REQUEST__BODY_LIST_CIDR_LOCATIONS:
	case Q53__API__REQUEST__BODY_LIST_CIDR_BLOCKS:
		cidr_api_execute(n, call);
		return;
	case Q53__API__REQUEST__BODY_GET_ZONE_LIMIT:
	case Q53__API__REQUEST__BODY_SET_ZONE_LIMIT:
		limit_api_execute(n, call);
		return;
	case Q53__API__REQUEST__BODY_CREATE_QUERY_LOGGING:
	case Q53__API__REQUEST__BODY_DELETE_QUERY_LOGGING:
		query_log_api_execute(n, call);
		return;
	default:
		api_reply_error(call, API_ERR_INTERNAL, false,
				"not a write operation");
		return;
	}
}

static void be_write(void *data, struct api_call *call)
{
	struct api_edge *n = data;

	write_router_submit(n->router, call);
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
	struct api_edge *n = data;
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
	struct api_edge *n = data;
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
	struct api_edge *n = data;
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
	struct api_edge *n = data;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ListRecordsResponse lr;
	struct zone_store_info info;
	char err[512];

	if (api_render_resolve(cn_store(n), req->zone, &info, err,
			       sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	if (api_render_records_flow(&info, cn_store(n), req, &lr, err,
				    sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	r.body_case = Q53__API__RESPONSE__BODY_LIST_RECORDS;
	r.list_records = &lr;
	api_reply(call, &r);
	api_render_records_free(&lr);
}

/* "yes" when every member's replicated --geoip SHA-256 is the same,
 * else "no: NAME SHA12..., ..." (truncated to len). */
static void geoip_consistency(struct api_edge *n, char *out, size_t len)
{
	size_t count = control_fsm_node_count(n->fsm), used;
	struct control_fsm_node first, meta;
	bool same = true;

	snprintf(out, len, "yes");
	if (count == 0 || control_fsm_node_at(n->fsm, 0, &first) != 0)
		return;
	for (size_t i = 1; i < count; i++)
		if (control_fsm_node_at(n->fsm, i, &meta) == 0 &&
		    strcmp(meta.geoip_sha256, first.geoip_sha256) != 0)
			same = false;
	if (same)
		return;
	used = (size_t)snprintf(out, len, "no:");
	for (size_t i = 0; i < count && used < len; i++) {
		if (control_fsm_node_at(n->fsm, i, &meta) != 0)
			continue;
		used += (size_t)snprintf(
		    out + used, len - used, "%s %s %.12s%s", i ? "," : "",
		    meta.name[0] ? meta.name : "?",
		    meta.geoip_sha256[0] ? meta.geoip_sha256 : "-",
		    meta.geoip_sha256[0] ? "..." : "");
	}
}

static void be_status(void *data, struct api_call *call,
		      const Q53__Api__StatusRequest *req)
{
	char geo[512];
	struct api_edge *n = data;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__StatusResponse st = Q53__API__STATUS_RESPONSE__INIT;
	uint64_t leader_id = 0;
	const char *leader_api = cluster_leader_api(&n->ops, &leader_id);
	struct cluster_raft_status rs;

	(void)req;
	n->ops.status(n->ops.data, &rs);
	st.node_id = n->id;
	st.state = (char *)rs.state;
	st.leader_id = leader_id;
	if (leader_id == n->id)
		leader_api = n->api_address;
	st.leader_api = (char *)(leader_api != NULL ? leader_api : "");
	st.term = rs.term;
	st.commit_index = rs.commit_index;
	/* The FSM index the published serving view holds (what INSYNC
	 * compares); 0 while a joining node is still catching up. */
	st.applied_index = cluster_served(&n->ops);
	st.zones = (uint32_t)zone_store_count(cn_store(n));
	st.nodes = rs.nodes;
	st.quorum_contact = rs.quorum_contact;
	st.contact_age_ms =
	    rs.contact_age_ms == UINT64_MAX ? -1 : (int64_t)rs.contact_age_ms;
	st.version = Q53_VERSION;
	st.geoip_sha256 = (char *)(n->geoip_sha256 ? n->geoip_sha256 : "");
	geoip_consistency(n, geo, sizeof(geo));
	st.geoip_consistent = geo;
	const char *site_region;
	st.site = (char *)control_fsm_site(n->fsm, &site_region);
	st.site_region = (char *)site_region;
	st.peer_transport =
	    (char *)(n->peer_tls ? "mutual-tls" : "INSECURE: plain TCP");
	r.body_case = Q53__API__RESPONSE__BODY_STATUS;
	r.status = &st;
	api_reply(call, &r);
}

static void be_get_change(void *data, struct api_call *call,
			  const Q53__Api__GetChangeRequest *req)
{
	struct api_edge *n = data;
	struct control_fsm_change c;
	const char *id = req->id;

	if (strncmp(id, "/change/", 8) == 0)
		id += 8;
	if (control_fsm_change_get(n->fsm, id, &c) != 0) {
		/* Not applied here yet: the leader knows every committed
		 * change. */
		const char *leader = cluster_is_leader(&n->ops)
					 ? NULL
					 : cluster_leader_api(&n->ops, NULL);
		if (leader != NULL && !cluster_closing(&n->ops)) {
			write_router_submit(n->router, call);
			return;
		}
		api_reply_error(call, API_ERR_NO_SUCH_CHANGE, false,
				"no change with ID '%s'", req->id);
		return;
	}
	change_status_get(n->changes, call, &c);
}

static void be_list_nodes(void *data, struct api_call *call,
			  const Q53__Api__ListNodesRequest *req)
{
	struct api_edge *n = data;

	(void)req;
	change_status_list_nodes(n->changes, call);
}

void zone_api_backend(struct api_backend *out)
{
	struct api_backend b = {
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
	};

	health_api_backend(&b);
	key_api_backend(&b);
	tag_api_backend(&b);
	flow_api_backend(&b);
	latency_api_backend(&b);
	xfr_api_backend(&b);
	cidr_api_backend(&b);
	query_log_api_backend(&b);
	answer_api_backend(&b);
	limit_api_backend(&b);
	*out = b;
}
