/* Change tracking of the request edge: get-change answers PENDING or
 * INSYNC (every voter's published serving view holds the change's FSM
 * index) and node list shows each member's applied index. Both ask every
 * member's API for its status (a fan-out with a short timeout); a change
 * once seen INSYNC is answered without asking (INSYNC never goes back).
 * Loop thread only. */
#include "node/api/change_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "cluster/member_rpc.h"
#include "node/api/api.h"
#include "node/common/errcode.h"
#include "proto/api.pb-c.h"

/* A voter that does not answer in this time counts as not in sync. */
#define CN_FANOUT_TIMEOUT_MS 300

struct change_status {
	struct cluster_ops ops;
	struct member_rpc *rpc;
	uint64_t insync_index; /* every voter reported >= this */
};

int change_status_new(struct change_status **out,
		      const struct change_status_config *config)
{
	struct change_status *n = calloc(1, sizeof(*n));

	*out = n;
	if (n == NULL)
		return Q53_ENOMEM;
	n->ops = config->ops;
	n->rpc = config->rpc;
	return 0;
}

void change_status_free(struct change_status *n)
{
	free(n);
}

static int cn_api_pack_status(uint8_t **buf, size_t *len)
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

struct cn_fan_member {
	struct cn_fanout *f;
	uint64_t id;
	char name[CLUSTER_NAME_MAX];
	char raft[CLUSTER_ADDR_MAX];
	char api[CLUSTER_ADDR_MAX];
	char geoip_sha256[65];
	char site[40];
	char site_region[40];
	int role;
	bool leader;
	bool reachable;
	uint64_t applied;
};

struct cn_fanout {
	struct change_status *n;
	struct api_call *call;
	bool nodes; /* node list (else get-change) */
	struct control_fsm_change change;
	char change_id[IDS_LEN + 64];
	char comment[300];
	char access_key_id[CONTROL_FSM_ID_MAX * 2 + 1];
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
	struct change_status *n = f->n;
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
				nodes[i].geoip_sha256 = m->geoip_sha256;
				nodes[i].site = m->site;
				nodes[i].site_region = m->site_region;
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
		ci.access_key_id = f->access_key_id;
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
static void cn_fanout_start(struct change_status *n, struct cn_fanout *f)
{
	const struct raft_configuration *conf =
	    n->ops.configuration(n->ops.data);
	uint64_t leader_id = 0;
	uint8_t *status_req = NULL;
	size_t status_len = 0;

	cluster_leader_api(&n->ops, &leader_id);
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
		if (control_fsm_node_get(n->ops.fsm, srv->id, &meta) == 0) {
			snprintf(m->api, sizeof(m->api), "%s",
				 meta.api_address);
			snprintf(m->name, sizeof(m->name), "%s", meta.name);
			snprintf(m->geoip_sha256, sizeof(m->geoip_sha256), "%s",
				 meta.geoip_sha256);
			snprintf(m->site, sizeof(m->site), "%s", meta.site);
			snprintf(m->site_region, sizeof(m->site_region), "%s",
				 meta.site_region);
		}
		if (srv->id == n->ops.node_id) {
			m->reachable = n->ops.serving(n->ops.data, NULL);
			m->applied = cluster_served(&n->ops);
			continue;
		}
		if (m->api[0] == '\0')
			continue;
		f->pending++;
		if (member_rpc_call(n->rpc, m->api, status_req, status_len,
				    CN_FANOUT_TIMEOUT_MS, cn_fanout_cb, m) != 0)
			f->pending--;
	}
	free(status_req);
	if (--f->pending == 0)
		cn_fanout_reply(f);
}

void change_status_get(struct change_status *n, struct api_call *call,
		       const struct control_fsm_change *change)
{
	struct control_fsm_change c = *change;
	struct cn_fanout *f;

	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		return;
	}
	f->call = call;
	f->change = c;
	snprintf(f->change_id, sizeof(f->change_id), "%s", c.id);
	snprintf(f->comment, sizeof(f->comment), "%s", c.comment);
	snprintf(f->access_key_id, sizeof(f->access_key_id), "%s",
		 c.access_key_id != NULL ? c.access_key_id : "");
	if (c.index <= n->insync_index) {
		/* Known in sync already (INSYNC never goes back). */
		Q53__Api__Response r = Q53__API__RESPONSE__INIT;
		Q53__Api__GetChangeResponse gc =
		    Q53__API__GET_CHANGE_RESPONSE__INIT;
		Q53__Api__ChangeInfo ci = Q53__API__CHANGE_INFO__INIT;
		const struct raft_configuration *conf =
		    n->ops.configuration(n->ops.data);
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
			if (control_fsm_node_get(
				n->ops.fsm, conf->servers[i].id, &meta) == 0)
				na[voters].name = (char *)meta.name;
			na[voters].applied_index =
			    conf->servers[i].id == n->ops.node_id &&
				    cluster_served(&n->ops) != 0
				? cluster_served(&n->ops)
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
		ci.access_key_id = f->access_key_id;
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

uint64_t change_status_insync(const struct change_status *n)
{
	return n->insync_index;
}

void change_status_list_nodes(struct change_status *n, struct api_call *call)
{
	struct cn_fanout *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		return;
	}
	f->call = call;
	f->nodes = true;
	cn_fanout_start(n, f);
}
