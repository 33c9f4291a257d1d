/* Membership (see membership.h): configuration changes on the leader,
 * the join of a new node, the node's own metadata. */
#include "node/runtime/membership.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "cluster/member_rpc.h"
#include "node/api/api.h"
#include "node/common/errcode.h"
#include "node/common/peer_tls.h"
#include "node/control/control_fsm.h"
#include "proto/api.pb-c.h"

#define CN_JOIN_TIMEOUT_MS     10000
#define CN_JOIN_BACKOFF_MIN_MS 100
#define CN_JOIN_BACKOFF_MAX_MS 2000
#define CN_SELF_META_RETRY_MS  1000
#define CN_ASSIGN_ATTEMPTS     5
#define CN_ASSIGN_RETRY_MS     200

#define cn_log(n, ...) cluster_log((n)->id, __VA_ARGS__)

/* The join of a node started with --join (house style #13):
 *
 *   ASK --request sent--> ASKING --added--> CATCHING_UP --applied--> DONE
 *    ^                       |
 *    +---- back-off ---------+ (error, timeout, NotLeader: follow hint)
 *
 * NONE: not joining (bootstrap or restart as a member). */
enum cn_join_state {
	CN_JOIN_NONE,
	CN_JOIN_ASK,
	CN_JOIN_ASKING,
	CN_JOIN_CATCHING_UP,
	CN_JOIN_DONE,
};

/* A membership change run by the leader, one at a time (raft allows one
 * configuration change in flight). Add: RAFT_ADD -> ASSIGN_DUE (raft_assign
 * on the next tick, contract 16) -> ASSIGNING -> METADATA -> reply.
 * Remove: METADATA (RemoveNodeMetadata) -> DEMOTE (raft_assign STANDBY, for
 * a voter other than this leader) -> DEMOTE_WAIT (until the node holds the
 * demotion, or two election timeouts) -> RAFT_REMOVE -> reply. Both are
 * idempotent, so a failed one is answered as retryable.
 *
 * Why demote first: raft_remove stops replication to the node at once, so
 * it never learns it was removed, keeps its old configuration and
 * campaigns forever (issue 11). A standby does not campaign (libraft 0.15
 * tickFollower: voters only) and is still replicated to, so it takes the
 * STANDBY configuration (raft uses a configuration as soon as it is
 * appended) before it is dropped; raft_host_status then says "removed". */
enum cn_member_step {
	CN_STEP_RAFT_ADD,
	CN_STEP_ASSIGN_DUE,
	CN_STEP_ASSIGNING,
	CN_STEP_METADATA,
	CN_STEP_DEMOTE,
	CN_STEP_DEMOTE_WAIT,
	CN_STEP_RAFT_REMOVE,
};

struct cn_member_op {
	struct membership *n;
	bool remove;
	enum cn_member_step step;
	struct api_call *call; /* NULL: the node's own metadata */
	uint64_t id;
	char raft_url[CLUSTER_ADDR_MAX];
	char api[CLUSTER_ADDR_MAX];
	char dns[CLUSTER_ADDR_MAX];
	char name[CLUSTER_NAME_MAX];
	char geoip_path[CLUSTER_ADDR_MAX];
	char geoip_sha256[65];
	char site[CLUSTER_NAME_MAX];
	char site_region[CLUSTER_NAME_MAX];
	bool in_config; /* remove: still in raft's configuration */
	struct raft_change change;
	unsigned assign_attempts;
	uint64_t due; /* uv_now of the next raft_assign attempt, or the end of
		       * DEMOTE_WAIT */
	raft_index demote_index; /* DEMOTE_WAIT: the node must hold this */
};

struct membership {
	struct cluster_ops ops;
	struct raft *raft;
	struct member_rpc *rpc;
	uint64_t id;
	char raft_url[CLUSTER_ADDR_MAX];
	char *api_address;
	char *dns_address;
	char *name;
	char *geoip_path;   /* "" = none */
	char *geoip_sha256; /* "" = none */
	char *site;	    /* "" = none */
	char *site_region;  /* "" = none */
	char *join;
	void (*on_joined)(void *data);
	void *data;

	struct cn_member_op *member_op;
	bool self_meta_inflight;
	uint64_t geoip_seen_index; /* node metadata checked up to */
	uint64_t self_meta_due;

	enum cn_join_state join_state;
	char join_target[CLUSTER_ADDR_MAX];
	uint64_t join_due;
	unsigned join_backoff_ms;
	uint64_t join_applied_target;
};

/* "HOST:PORT" -> "tcp://HOST:PORT", or tls+tcp:// when this node's own
 * raft address is (mutual TLS between members); URLs stay as they are. */
static int cn_url(const struct membership *n, const char *address, char *out,
		  size_t len)
{
	return q53_peer_url(address, strncmp(n->raft_url, "tls+", 4) == 0, out,
			    len);
}

static const struct raft_server *cn_config_server(struct membership *n,
						  uint64_t id)
{
	const struct raft_configuration *c = &n->raft->configuration;

	for (unsigned i = 0; i < c->n; i++)
		if (c->servers[i].id == id)
			return &c->servers[i];
	return NULL;
}

static int cn_api_pack_add_node(uint64_t id, const char *address,
				const char *api, const char *dns,
				const char *name, const char *geoip_path,
				const char *geoip_sha256, const char *site,
				const char *site_region, uint8_t **buf,
				size_t *len)
{
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__AddNodeRequest an = Q53__API__ADD_NODE_REQUEST__INIT;

	an.id = id;
	an.address = (char *)address;
	an.api_address = (char *)(api != NULL ? api : "");
	an.dns_address = (char *)(dns != NULL ? dns : "");
	an.name = (char *)(name != NULL ? name : "");
	an.geoip_path = (char *)geoip_path;
	an.geoip_sha256 = (char *)geoip_sha256;
	an.site = (char *)site;
	an.site_region = (char *)site_region;
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

/* --- membership (leader) --------------------------------------------------
 */

static void cn_member_step(struct cn_member_op *op);

static void cn_member_reply_node(struct cn_member_op *op)
{
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__AddNodeResponse an = Q53__API__ADD_NODE_RESPONSE__INIT;
	Q53__Api__Node node = Q53__API__NODE__INIT;
	Q53__Api__RemoveNodeResponse rn = Q53__API__REMOVE_NODE_RESPONSE__INIT;

	if (op->remove) {
		r.body_case = Q53__API__RESPONSE__BODY_REMOVE_NODE;
		r.remove_node = &rn;
	} else {
		node.id = op->id;
		node.raft_address = op->raft_url;
		node.api_address = op->api;
		node.role = "voter";
		node.reachable = true;
		/* The catch-up target of a joining node: the leader's FSM
		 * index once the node's metadata was applied. */
		node.applied_index = control_fsm_applied(op->n->ops.fsm);
		an.node = &node;
		r.body_case = Q53__API__RESPONSE__BODY_ADD_NODE;
		r.add_node = &an;
	}
	api_reply(op->call, &r);
}

static void cn_member_end(struct cn_member_op *op, const char *code,
			  const char *fmt, const char *detail)
{
	struct membership *n = op->n;

	if (op->call != NULL) {
		if (code == NULL)
			cn_member_reply_node(op);
		else
			api_reply_error(op->call, code,
					strcmp(code, API_ERR_UNAVAILABLE) == 0,
					fmt, detail);
	}
	if (op->call == NULL)
		n->self_meta_inflight = false;
	if (code == NULL)
		cn_log(n, "%s node %llu done", op->remove ? "remove" : "add",
		       (unsigned long long)op->id);
	else if (strcmp(code, API_ERR_UNAVAILABLE) == 0)
		cn_log(n, "%s node %llu: %s", op->remove ? "remove" : "add",
		       (unsigned long long)op->id, detail);
	n->member_op = NULL;
	free(op);
}

static void cn_member_change_cb(struct raft_change *req, int status)
{
	struct cn_member_op *op = req->data;

	if (status != 0) {
		if (op->step == CN_STEP_ASSIGNING &&
		    status == RAFT_NOCONNECTION &&
		    ++op->assign_attempts < CN_ASSIGN_ATTEMPTS &&
		    !cluster_closing(&op->n->ops)) {
			op->step = CN_STEP_ASSIGN_DUE;
			op->due = uv_now(op->n->ops.loop) + CN_ASSIGN_RETRY_MS;
			return;
		}
		cn_member_end(op, API_ERR_UNAVAILABLE,
			      "membership change failed: %s; retry (the "
			      "operation is idempotent)",
			      raft_strerror(status));
		return;
	}
	switch (op->step) {
	case CN_STEP_RAFT_ADD:
		/* Contract 16: raft_assign on the next tick, never from
		 * inside a change callback. */
		op->step = CN_STEP_ASSIGN_DUE;
		op->due = uv_now(op->n->ops.loop);
		return;
	case CN_STEP_ASSIGNING:
		op->step = CN_STEP_METADATA;
		cn_member_step(op);
		return;
	case CN_STEP_DEMOTE:
		/* Contract 16: raft_remove on a later tick. */
		op->step = CN_STEP_DEMOTE_WAIT;
		op->demote_index = raft_last_index(op->n->raft);
		op->due = uv_now(op->n->ops.loop) +
			  2 * (uint64_t)op->n->raft->election_timeout;
		return;
	case CN_STEP_RAFT_REMOVE:
		cn_member_end(op, NULL, NULL, NULL);
		return;
	default:
		return;
	}
}

static void cn_member_meta_done(struct proposal *s, int status,
				const struct q53_fsm_log_result *res)
{
	struct cn_member_op *op = s->arg;

	if (status != 0) {
		cn_member_end(op, API_ERR_UNAVAILABLE,
			      "node metadata not committed: %s; retry",
			      raft_strerror(status));
		return;
	}
	if (res->status != Q53_FSM_LOG_APPLIED &&
	    res->status != Q53_FSM_LOG_DUPLICATE) {
		cn_member_end(op, API_ERR_INTERNAL, "%s",
			      "node metadata entry was not applied");
		return;
	}
	/* A rejected RemoveNode (already gone) is fine: idempotent. */
	if (res->code != 0 && !op->remove) {
		struct command_result cr;
		if (command_result_decode(res->bytes, res->len, &cr) == 0) {
			char msg[512];
			snprintf(msg, sizeof(msg), "%s", cr.error_message);
			command_result_free(&cr);
			cn_member_end(op, API_ERR_INVALID_INPUT, "%s", msg);
		} else {
			cn_member_end(op, API_ERR_INTERNAL, "%s",
				      "undecodable result");
		}
		return;
	}
	if (op->remove && op->in_config) {
		const struct raft_server *srv = cn_config_server(op->n, op->id);

		op->step = srv != NULL && srv->role == RAFT_VOTER &&
				   op->id != op->n->id
			       ? CN_STEP_DEMOTE
			       : CN_STEP_RAFT_REMOVE;
		cn_member_step(op);
		return;
	}
	cn_member_end(op, NULL, NULL, NULL);
}

static void cn_member_step(struct cn_member_op *op)
{
	struct membership *n = op->n;
	struct command_payload p = {0};
	int rv;

	op->change.data = op;
	switch (op->step) {
	case CN_STEP_RAFT_ADD:
		rv = raft_add(n->raft, &op->change, op->id, op->raft_url,
			      cn_member_change_cb);
		break;
	case CN_STEP_ASSIGN_DUE:
		return; /* the tick runs it */
	case CN_STEP_ASSIGNING:
		rv = raft_assign(n->raft, &op->change, op->id, RAFT_VOTER,
				 cn_member_change_cb);
		if (rv == RAFT_BADROLE) { /* a voter already */
			op->step = CN_STEP_METADATA;
			cn_member_step(op);
			return;
		}
		break;
	case CN_STEP_METADATA:
		if (op->remove) {
			struct command_remove_node c = {
			    .node_id = op->id, .time_ms = ids_wall_ms()};
			rv = command_encode_remove_node(&c, &p);
		} else {
			struct command_set_node c = {
			    .node_id = op->id,
			    .raft_address = op->raft_url,
			    .dns_address = op->dns,
			    .api_address = op->api,
			    .name = op->name,
			    .geoip_path = op->geoip_path,
			    .geoip_sha256 = op->geoip_sha256,
			    .site = op->site,
			    .site_region = op->site_region,
			    .time_ms = ids_wall_ms(),
			};
			rv = command_encode_set_node(&c, &p);
		}
		if (rv == 0)
			rv = cluster_propose(&n->ops, &p, NULL,
					     cn_member_meta_done, op, NULL);
		break;
	case CN_STEP_DEMOTE:
		rv = raft_assign(n->raft, &op->change, op->id, RAFT_STANDBY,
				 cn_member_change_cb);
		if (rv == RAFT_BADROLE) { /* not a voter any more */
			op->step = CN_STEP_RAFT_REMOVE;
			cn_member_step(op);
			return;
		}
		break;
	case CN_STEP_DEMOTE_WAIT:
		return; /* the tick runs it */
	case CN_STEP_RAFT_REMOVE:
		rv = raft_remove(n->raft, &op->change, op->id,
				 cn_member_change_cb);
		break;
	default:
		rv = RAFT_INVALID;
	}
	if (rv == 0)
		return;
	if (rv == RAFT_DUPLICATEADDRESS || rv == RAFT_DUPLICATEID)
		cn_member_end(op, API_ERR_NODE_EXISTS, "%s",
			      "another node already has this ID or address");
	else
		cn_member_end(op, API_ERR_UNAVAILABLE,
			      "membership change not started: %s; retry",
			      rv < 0 ? q53_strerror(rv) : raft_strerror(rv));
}

/* Fills op's addresses: the raft address as a URL, the metadata copied.
 * Q53_EINVAL when one is empty where required or too long. */
static int cn_member_parse(struct cn_member_op *op, const char *raft,
			   const char *api, const char *dns, const char *name)
{
	int w;

	if (cn_url(op->n, raft, op->raft_url, sizeof(op->raft_url)) != 0 ||
	    strchr(raft, '?') != NULL)
		return Q53_EINVAL;
	w = snprintf(op->api, sizeof(op->api), "%s", api != NULL ? api : "");
	if (w < 0 || (size_t)w >= sizeof(op->api))
		return Q53_EINVAL;
	w = snprintf(op->dns, sizeof(op->dns), "%s", dns != NULL ? dns : "");
	if (w < 0 || (size_t)w >= sizeof(op->dns))
		return Q53_EINVAL;
	w = snprintf(op->name, sizeof(op->name), "%s",
		     name != NULL ? name : "");
	if (w < 0 || (size_t)w >= sizeof(op->name))
		return Q53_EINVAL;
	return 0;
}

static struct cn_member_op *cn_member_new(struct membership *n,
					  struct api_call *call, uint64_t id,
					  bool remove)
{
	struct cn_member_op *op;

	if (n->member_op != NULL) {
		if (call != NULL)
			api_reply_error(call, API_ERR_UNAVAILABLE, true,
					"another membership change (node "
					"%llu) is in progress; retry",
					(unsigned long long)n->member_op->id);
		return NULL;
	}
	op = calloc(1, sizeof(*op));
	if (op == NULL) {
		if (call != NULL)
			api_reply_error(call, API_ERR_UNAVAILABLE, true,
					"out of memory");
		return NULL;
	}
	op->n = n;
	op->call = call;
	op->id = id;
	op->remove = remove;
	return op;
}

void membership_add(struct membership *n, struct api_call *call, uint64_t id,
		    const char *address, const char *api, const char *dns,
		    const char *name, const char *geoip_path,
		    const char *geoip_sha256, const char *site,
		    const char *site_region)
{
	struct cn_member_op *op = cn_member_new(n, call, id, false);
	const struct raft_server *srv;
	struct control_fsm_node meta;

	if (op == NULL)
		return;
	if (cn_member_parse(op, address, api, dns, name) != 0) {
		if (call != NULL)
			api_reply_error(
			    call, API_ERR_INVALID_INPUT, false,
			    "node address '%.200s': expected HOST:PORT or "
			    "tcp://HOST:PORT (API and DNS addresses and the "
			    "name go in their own fields, at most %d bytes)",
			    address, CLUSTER_ADDR_MAX - 1);
		free(op);
		return;
	}
	snprintf(op->geoip_path, sizeof(op->geoip_path), "%s",
		 geoip_path != NULL ? geoip_path : "");
	snprintf(op->geoip_sha256, sizeof(op->geoip_sha256), "%s",
		 geoip_sha256 != NULL ? geoip_sha256 : "");
	snprintf(op->site, sizeof(op->site), "%s", site != NULL ? site : "");
	snprintf(op->site_region, sizeof(op->site_region), "%s",
		 site_region != NULL ? site_region : "");
	srv = cn_config_server(n, id);
	if (srv != NULL && strcmp(srv->address, op->raft_url) != 0) {
		if (call != NULL)
			api_reply_error(call, API_ERR_NODE_EXISTS, false,
					"node %llu is already a member with "
					"address %s",
					(unsigned long long)id, srv->address);
		free(op);
		return;
	}
	if (srv == NULL) {
		op->step = CN_STEP_RAFT_ADD;
	} else if (srv->role != RAFT_VOTER) {
		op->step = CN_STEP_ASSIGN_DUE;
		op->due = uv_now(n->ops.loop);
	} else {
		op->step = CN_STEP_METADATA;
		/* Keep what metadata is known when the request says less. */
		if (control_fsm_node_get(n->ops.fsm, id, &meta) == 0) {
			if (op->api[0] == '\0')
				snprintf(op->api, sizeof(op->api), "%s",
					 meta.api_address);
			if (op->dns[0] == '\0')
				snprintf(op->dns, sizeof(op->dns), "%s",
					 meta.dns_address);
			if (op->name[0] == '\0')
				snprintf(op->name, sizeof(op->name), "%s",
					 meta.name);
			if (strcmp(meta.raft_address, op->raft_url) == 0 &&
			    strcmp(meta.api_address, op->api) == 0 &&
			    strcmp(meta.dns_address, op->dns) == 0 &&
			    strcmp(meta.name, op->name) == 0) {
				n->member_op = op;
				cn_member_end(op, NULL, NULL, NULL);
				return;
			}
		}
	}
	n->member_op = op;
	if (call == NULL)
		n->self_meta_inflight = true;
	cn_log(n, "adding node %llu (%s api=%s)", (unsigned long long)id,
	       op->raft_url, op->api[0] ? op->api : "-");
	cn_member_step(op);
}

void membership_remove(struct membership *n, struct api_call *call, uint64_t id)
{
	struct cn_member_op *op;
	struct control_fsm_node meta;
	bool in_meta = control_fsm_node_get(n->ops.fsm, id, &meta) == 0;
	bool in_config = cn_config_server(n, id) != NULL;

	if (!in_meta && !in_config) {
		api_reply_error(call, API_ERR_NO_SUCH_NODE, false,
				"node %llu is not a member",
				(unsigned long long)id);
		return;
	}
	op = cn_member_new(n, call, id, true);
	if (op == NULL)
		return;
	op->in_config = in_config;
	op->step = in_meta ? CN_STEP_METADATA : CN_STEP_RAFT_REMOVE;
	n->member_op = op;
	cn_log(n, "removing node %llu", (unsigned long long)id);
	cn_member_step(op);
}

/* The leader's replication state for server `id`: its match index. */
static raft_index cn_match_index(struct membership *n, uint64_t id)
{
	struct raft *r = n->raft;
	unsigned i;

	if (raft_state(r) != RAFT_LEADER || r->leader_state.progress == NULL)
		return 0;
	for (i = 0; i < r->configuration.n; i++)
		if (r->configuration.servers[i].id == id)
			return r->leader_state.progress[i].match_index;
	return 0;
}

/* Remove once the demoted node holds its STANDBY configuration (it then
 * stops campaigning), or after two election timeouts (it is down). */
static void cn_member_demote_tick(struct cn_member_op *op)
{
	struct membership *n = op->n;

	if (cluster_closing(&n->ops) || !cluster_is_leader(&n->ops)) {
		cn_member_end(op, API_ERR_UNAVAILABLE, "%s",
			      "leadership lost during the membership change; "
			      "retry");
		return;
	}
	if (cn_match_index(n, op->id) < op->demote_index &&
	    uv_now(n->ops.loop) < op->due)
		return;
	op->step = CN_STEP_RAFT_REMOVE;
	cn_member_step(op);
}

/* The tick's part: deferred raft_assign, or give up when leadership went. */
static void cn_member_tick(struct membership *n)
{
	struct cn_member_op *op = n->member_op;

	if (op == NULL)
		return;
	if (op->step == CN_STEP_DEMOTE_WAIT) {
		cn_member_demote_tick(op);
		return;
	}
	if (op->step != CN_STEP_ASSIGN_DUE)
		return;
	if (cluster_closing(&n->ops) || !cluster_is_leader(&n->ops)) {
		cn_member_end(op, API_ERR_UNAVAILABLE, "%s",
			      "leadership lost during the membership change; "
			      "retry");
		return;
	}
	if (uv_now(n->ops.loop) < op->due)
		return;
	op->step = CN_STEP_ASSIGNING;
	cn_member_step(op);
}

/* --- own metadata and joining ---------------------------------------------
 */

static void cn_join_retry(struct membership *n)
{
	n->join_state = CN_JOIN_ASK;
	n->join_due = uv_now(n->ops.loop) + n->join_backoff_ms;
	n->join_backoff_ms = n->join_backoff_ms * 2 > CN_JOIN_BACKOFF_MAX_MS
				 ? CN_JOIN_BACKOFF_MAX_MS
				 : n->join_backoff_ms * 2;
	snprintf(n->join_target, sizeof(n->join_target), "%s", n->join);
}

static void cn_join_cb(void *data, int status, const uint8_t *buf, size_t len)
{
	struct membership *n = data;
	Q53__Api__Response *r = NULL;

	if (n->join_state != CN_JOIN_ASKING) {
		/* The node's own metadata refresh (not a join). */
		n->self_meta_inflight = false;
		n->self_meta_due = uv_now(n->ops.loop) + CN_SELF_META_RETRY_MS;
		return;
	}
	if (status != 0 || cluster_closing(&n->ops)) {
		if (!cluster_closing(&n->ops))
			cn_log(n, "join via %s: %s; retrying", n->join_target,
			       q53_strerror(status));
		cn_join_retry(n);
		return;
	}
	r = q53__api__response__unpack(NULL, len, buf);
	if (r == NULL) {
		cn_join_retry(n);
		return;
	}
	if (r->error[0] == '\0' &&
	    r->body_case == Q53__API__RESPONSE__BODY_ADD_NODE) {
		n->join_applied_target = r->add_node->node != NULL
					     ? r->add_node->node->applied_index
					     : 0;
		n->join_state = CN_JOIN_CATCHING_UP;
		cn_log(n, "added to the cluster; catching up to FSM index %llu",
		       (unsigned long long)n->join_applied_target);
	} else if (strcmp(r->error, API_ERR_NOT_LEADER) == 0 &&
		   r->leader_api[0] != '\0') {
		snprintf(n->join_target, sizeof(n->join_target), "%s",
			 r->leader_api);
		n->join_state = CN_JOIN_ASK;
		n->join_due = uv_now(n->ops.loop);
	} else {
		cn_log(n, "join via %s: %s: %s; retrying", n->join_target,
		       r->error, r->message);
		cn_join_retry(n);
	}
	q53__api__response__free_unpacked(r, NULL);
}

static void cn_ask_add(struct membership *n, const char *target)
{
	uint8_t *buf;
	size_t len;
	int rv;

	if (cn_api_pack_add_node(n->id, n->raft_url, n->api_address,
				 n->dns_address, n->name, n->geoip_path,
				 n->geoip_sha256, n->site, n->site_region, &buf,
				 &len) != 0)
		return;
	rv = member_rpc_call(n->rpc, target, buf, len, CN_JOIN_TIMEOUT_MS,
			     cn_join_cb, n);
	free(buf);
	if (rv == 0) {
		if (n->join_state == CN_JOIN_ASK)
			n->join_state = CN_JOIN_ASKING;
		else
			n->self_meta_inflight = true;
	}
}

static void cn_join_tick(struct membership *n)
{
	if (n->join_state == CN_JOIN_ASK && uv_now(n->ops.loop) >= n->join_due)
		cn_ask_add(n, n->join_target);
}

/* Keeps this node's metadata (API, DNS address, name) right in the FSM:
 * every node does, so a node added by hand or restarted with another API
 * address fixes its own record. */
static void cn_self_meta_tick(struct membership *n)
{
	const struct raft_server *srv = cn_config_server(n, n->id);
	struct control_fsm_node meta;
	const char *api;

	if (n->self_meta_inflight || srv == NULL || srv->role != RAFT_VOTER ||
	    uv_now(n->ops.loop) < n->self_meta_due ||
	    (n->join_state != CN_JOIN_NONE && n->join_state != CN_JOIN_DONE))
		return;
	if (control_fsm_node_get(n->ops.fsm, n->id, &meta) == 0 &&
	    strcmp(meta.raft_address, n->raft_url) == 0 &&
	    strcmp(meta.api_address, n->api_address) == 0 &&
	    strcmp(meta.dns_address, n->dns_address) == 0 &&
	    strcmp(meta.name, n->name) == 0 &&
	    strcmp(meta.geoip_path, n->geoip_path) == 0 &&
	    strcmp(meta.geoip_sha256, n->geoip_sha256) == 0 &&
	    strcmp(meta.site, n->site) == 0 &&
	    strcmp(meta.site_region, n->site_region) == 0)
		return;
	n->self_meta_due = uv_now(n->ops.loop) + CN_SELF_META_RETRY_MS;
	if (cluster_is_leader(&n->ops)) {
		if (n->member_op == NULL)
			membership_add(n, NULL, n->id, n->raft_url,
				       n->api_address, n->dns_address, n->name,
				       n->geoip_path, n->geoip_sha256, n->site,
				       n->site_region);
		return;
	}
	api = cluster_leader_api(&n->ops, NULL);
	if (api != NULL)
		cn_ask_add(n, api);
}

int membership_new(struct membership **out,
		   const struct membership_config *config)
{
	struct membership *n = calloc(1, sizeof(*n));

	*out = n;
	if (n == NULL)
		return Q53_ENOMEM;
	n->ops = config->ops;
	n->raft = config->raft;
	n->rpc = config->rpc;
	n->id = config->ops.node_id;
	snprintf(n->raft_url, sizeof(n->raft_url), "%s", config->raft_url);
	n->api_address = strdup(config->api_address);
	n->dns_address = strdup(config->dns_address);
	n->name = strdup(config->name);
	n->geoip_path = strdup(config->geoip_path ? config->geoip_path : "");
	n->geoip_sha256 =
	    strdup(config->geoip_sha256 ? config->geoip_sha256 : "");
	n->site = strdup(config->site ? config->site : "");
	n->site_region = strdup(config->site_region ? config->site_region : "");
	n->join = config->join != NULL ? strdup(config->join) : NULL;
	n->on_joined = config->on_joined;
	n->data = config->data;
	n->join_backoff_ms = CN_JOIN_BACKOFF_MIN_MS;
	if (n->api_address == NULL || n->dns_address == NULL ||
	    n->name == NULL || n->geoip_path == NULL ||
	    n->geoip_sha256 == NULL || n->site == NULL ||
	    n->site_region == NULL || (config->join != NULL && n->join == NULL))
		return Q53_ENOMEM;
	return 0;
}

bool membership_start(struct membership *n)
{
	if (cn_config_server(n, n->id) != NULL || n->join == NULL)
		return false;
	n->join_state = CN_JOIN_ASK;
	n->join_due = uv_now(n->ops.loop);
	snprintf(n->join_target, sizeof(n->join_target), "%s", n->join);
	cn_log(n, "joining via %s", n->join);
	return true;
}

void membership_tick(struct membership *n)
{
	cn_member_tick(n);
	cn_join_tick(n);
	cn_self_meta_tick(n);
}

void membership_after_apply(struct membership *n)
{
	if (n->join_state == CN_JOIN_CATCHING_UP &&
	    control_fsm_applied(n->ops.fsm) >= n->join_applied_target) {
		n->join_state = CN_JOIN_DONE;
		cn_log(n, "caught up (FSM index %llu): joined",
		       (unsigned long long)control_fsm_applied(n->ops.fsm));
		n->on_joined(n->data);
	}
	for (size_t i = 0; i < control_fsm_node_count(n->ops.fsm); i++) {
		struct control_fsm_node meta;

		if (control_fsm_node_at(n->ops.fsm, i, &meta) != 0 ||
		    meta.index <= n->geoip_seen_index)
			continue;
		if (meta.id != n->id &&
		    strcmp(meta.geoip_sha256, n->geoip_sha256) != 0)
			cn_log(n,
			       "warning: node %llu's --geoip file (sha256 "
			       "%.12s) differs from this node's (%.12s)",
			       (unsigned long long)meta.id,
			       meta.geoip_sha256[0] ? meta.geoip_sha256 : "-",
			       n->geoip_sha256[0] ? n->geoip_sha256 : "-");
	}
	n->geoip_seen_index = control_fsm_applied(n->ops.fsm);
}

void membership_cancel(struct membership *n, bool any)
{
	if (n->member_op != NULL &&
	    (any || n->member_op->step == CN_STEP_ASSIGN_DUE))
		cn_member_end(n->member_op, API_ERR_UNAVAILABLE, "%s",
			      "node is shutting down");
}

void membership_free(struct membership *n)
{
	if (n == NULL)
		return;
	free(n->api_address);
	free(n->dns_address);
	free(n->name);
	free(n->geoip_path);
	free(n->geoip_sha256);
	free(n->site);
	free(n->site_region);
	free(n->join);
	free(n);
}
