/* A q53d node (see cluster_node.h): wires the runtime's modules together.
 * Each module gets the ops table below at init and never calls another
 * module; only this file calls into them. */
#include "node/runtime/cluster_node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster/member_rpc.h"
#include "node/api/api_edge.h"
#include "node/api/route53/rest.h"
#include "node/common/errcode.h"
#include "node/common/peer_tls.h"
#include "node/control/control_fsm.h"
#include "node/control/zone_store.h"
#include "node/raft/raft_guard.h"
#include "node/runtime/admin_key.h"
#include "node/runtime/health_votes.h"
#include "node/runtime/membership.h"
#include "node/runtime/node_metrics.h"
#include "node/runtime/query_log.h"
#include "node/control/query_log_table.h"
#include "node/control/zone_store.h"
#include "node/dnsdata/dname.h"
#include "node/runtime/raft_host.h"
#include "node/runtime/view_publisher.h"
#include "node/runtime/webhook.h"
#include "node/runtime/xfr_server.h"
#include "node/runtime/zone_seed.h"

#define CN_TICK_MS		20
#define CN_DEFAULT_SNAPSHOT	1024
#define CN_DEFAULT_ELECTION_MS	1000
#define CN_DEFAULT_HEARTBEAT_MS 100

#define cn_log(n, ...) cluster_log((n)->id, __VA_ARGS__)

struct cluster_node {
	uv_loop_t *loop;

	/* configuration (owned copies) */
	uint64_t id;
	char raft_url[CLUSTER_ADDR_MAX];
	struct q53_peer_tls peer_tls; /* both NULL: plain TCP */
	char *api_address;
	char *http_address; /* NULL = no REST API */
	char *http_keys;
	char *http_tls_cert;
	char *http_tls_key;
	bool http_insecure;
	struct http_server_limits http_limits;
	uint64_t zone_record_limit;
	struct route53_rest *rest; /* NULL without --http */
	struct admin_key *admin;   /* the first boot's key; NULL: none */
	char *data_dir;
	char *dns_address;
	char *name;
	const char *geoip_sha256; /* borrowed (cluster_node_config) */
	const struct geo_db *geo; /* borrowed (cluster_node_config) */
	char **nameservers;
	size_t n_nameservers;
	bool join; /* started with a join address */

	/* the modules, each with its own state */
	struct raft_host *raft;
	struct view_publisher *views;
	struct api_edge *edge;
	struct membership *members;
	struct zone_seed *seed;
	struct health_votes *health;
	struct webhook *webhook;
	struct xfr_server *xfr; /* AXFR / IXFR and NOTIFY */
	struct node_metrics *metrics;
	const struct dns_stats *dns_stats; /* borrowed (cluster_node_config) */
	struct query_log *query_log;	   /* borrowed; NULL: none */
	uint64_t query_log_version;	   /* of the FSM's table, followed */
	struct member_rpc *rpc; /* shared client of the members' APIs */
	bool bootstrapped;	/* this boot created the cluster */

	uv_check_t check; /* coalesced rebuild + publish */
	uv_timer_t tick;  /* waits, deferred raft calls, join, seeds */
	bool handles_init;

	bool closing;
	unsigned close_pending;
	void (*close_cb)(void *data);
	void *close_data;
};

/* --- the ops table --- */

static bool cn_ops_is_leader(void *data)
{
	struct cluster_node *n = data;

	return raft_host_is_leader(n->raft);
}

static const char *cn_ops_leader_api(void *data, uint64_t *leader_id)
{
	struct cluster_node *n = data;

	return raft_host_leader_api(n->raft, leader_id);
}

static int cn_ops_propose(void *data, struct command_payload *p,
			  struct api_call *call, proposal_done done, void *arg,
			  struct proposal **out)
{
	struct cluster_node *n = data;

	if (n->closing) {
		if (out != NULL)
			*out = NULL;
		command_payload_clear(p);
		return RAFT_NOTLEADER;
	}
	if (raft_host_is_leader(n->raft))
		view_publisher_prebuild(n->views, p); /* a zone import */
	return raft_host_propose(n->raft, p, call, done, arg, out);
}

static const struct raft_configuration *cn_ops_configuration(void *data)
{
	struct cluster_node *n = data;

	return &raft_host_raft(n->raft)->configuration;
}

static void cn_ops_status(void *data, struct cluster_raft_status *out)
{
	struct cluster_node *n = data;

	raft_host_status(n->raft, out);
}

static bool cn_ops_serving(void *data, uint64_t *applied)
{
	struct cluster_node *n = data;

	return view_publisher_serving(n->views, applied);
}

static int cn_ops_observe_check(void *data, const char *id,
				struct cluster_check_observation *out)
{
	struct cluster_node *n = data;

	if (n->health == NULL)
		return Q53_ENOENT;
	return health_votes_observe(n->health, id, out);
}

static bool cn_ops_closing(void *data)
{
	struct cluster_node *n = data;

	return n->closing;
}

struct cn_alarms {
	json_t *list;
	const char *check_id;
};

static void cn_alarm_json(void *ctx, const struct webhook_alarm *a)
{
	struct cn_alarms *x = ctx;
	if (x->check_id != NULL && strcmp(x->check_id, a->check_id) != 0)
		return;
	json_array_append_new(
	    x->list,
	    json_pack("{s:s,s:I,s:s,s:s,s:s,s:i,s:I}", "HealthCheckId",
		      a->check_id, "Index", (json_int_t)a->index, "Status",
		      a->healthy ? "Healthy" : "Unhealthy", "Target", a->target,
		      "Result", a->result, "Attempts", (int)a->attempts,
		      "TimeMs", (json_int_t)a->time_ms));
}

/* GET /q53/alarms (route53_rest_config.alarms). */
static char *cn_alarms(void *data, const char *check_id, size_t *len)
{
	struct cluster_node *n = data;
	struct cn_alarms x = {.list = json_array(), .check_id = check_id};
	char *text = NULL;

	if (x.list == NULL)
		return NULL;
	if (n->webhook != NULL)
		webhook_history(n->webhook, cn_alarm_json, &x);
	json_t *o = json_pack("{s:o}", "Alarms", x.list);
	if (o != NULL)
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	*len = text != NULL ? strlen(text) : 0;
	return text;
}

/* GET /metrics (route53_rest_config.metrics). */
static char *cn_metrics(void *data, size_t *len)
{
	struct cluster_node *n = data;
	struct node_metrics_sources src = {
	    .dns = n->dns_stats,
	    .rest = n->rest,
	};
	raft_host_stats(n->raft, &src.raft);
	return node_metrics_render(n->metrics, &src, len);
}

static struct cluster_ops cn_ops(struct cluster_node *n)
{
	struct cluster_ops o = {
	    .data = n,
	    .node_id = n->id,
	    .loop = n->loop,
	    .fsm = raft_host_fsm(n->raft),
	    .is_leader = cn_ops_is_leader,
	    .leader_api = cn_ops_leader_api,
	    .propose = cn_ops_propose,
	    .configuration = cn_ops_configuration,
	    .status = cn_ops_status,
	    .serving = cn_ops_serving,
	    .observe_check = cn_ops_observe_check,
	    .closing = cn_ops_closing,
	};
	return o;
}

static void cn_member_add(void *data, struct api_call *call, uint64_t id,
			  const char *address, const char *api, const char *dns,
			  const char *name, const char *geoip_path,
			  const char *geoip_sha256, const char *site,
			  const char *site_region)
{
	struct cluster_node *n = data;

	membership_add(n->members, call, id, address, api, dns, name,
		       geoip_path, geoip_sha256, site, site_region);
}

static void cn_member_remove(void *data, struct api_call *call, uint64_t id)
{
	struct cluster_node *n = data;

	membership_remove(n->members, call, id);
}

/* --- the loop turn and the tick --- */

static void cn_start_serving(void *data)
{
	struct cluster_node *n = data;

	view_publisher_start(n->views);
}

/* The query log follows the FSM's query logging configs: the zones it
 * logs are those with a config (their apex names, from the zone store). */
static void cn_query_log_follow(struct cluster_node *n)
{
	const struct query_log_table *t;
	struct control_fsm *fsm;

	if (n->query_log == NULL)
		return;
	fsm = raft_host_fsm(n->raft);
	t = control_fsm_query_logging(fsm);
	if (t->version == n->query_log_version)
		return;
	struct query_log_zone *z = calloc(t->n + 1, sizeof(*z));
	size_t nz = 0;
	if (z == NULL)
		return; /* retried next turn */
	for (size_t i = 0; i < t->n; i++) {
		struct zone_store_info info;
		if (zone_store_get(control_fsm_zone_store(fsm), t->v[i].zone_id,
				   &info) != 0)
			continue;
		z[nz].origin = info.origin;
		z[nz].origin_len = dname_wire_len(info.origin, DNAME_MAXLEN);
		z[nz].zone_id = t->v[i].zone_id;
		nz++;
	}
	if (query_log_set_zones(n->query_log, z, nz) == 0)
		n->query_log_version = t->version;
	free(z);
}

/* After every loop turn: rebuild what the applies dirtied, webhooks and
 * health follow the FSM, a joining node may be caught up, and followers
 * hear about new commits at once (raft_host_after_turn). */
static void cn_on_check(uv_check_t *h)
{
	struct cluster_node *n = h->data;

	if (n->closing)
		return;
	view_publisher_update(n->views);
	webhook_after_apply(n->webhook);
	cn_query_log_follow(n);
	health_votes_after_apply(n->health);
	membership_after_apply(n->members);
	api_edge_after_apply(n->edge);
	xfr_server_after_apply(n->xfr);
	raft_host_after_turn(n->raft);
}

static void cn_on_tick(uv_timer_t *t)
{
	struct cluster_node *n = t->data;

	if (n->closing)
		return;
	api_edge_tick(n->edge);
	membership_tick(n->members);
	zone_seed_tick(n->seed, n->bootstrapped);
	admin_key_tick(n->admin);
	health_votes_tick(n->health);
}

/* --- lifecycle --- */

static char *cn_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* 127.0.0.0/8, ::1 or localhost: plain TCP stays on this host. */
static bool cn_loopback(const char *address)
{
	char ip[64];

	if (strstr(address, "localhost:") != NULL)
		return true;
	if (!q53_raft_guard_address_ip(address, ip, sizeof(ip)))
		return false;
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

int cluster_node_init(struct cluster_node **out, uv_loop_t *loop,
		      const struct cluster_node_config *cfg, char *err,
		      size_t errlen)
{
	struct raft_host_config rh = {0};
	struct view_publisher_config vp = {0};
	struct api_edge_config ae = {0};
	char src_ip[64];
	struct membership_config mc = {0};
	struct zone_seed_config zs = {0};
	struct health_votes_config hv = {0};
	struct webhook_config wh = {0};
	struct cluster_node *n;
	char name[32];
	int rv;

	*out = NULL;
	if (cfg->id == 0 || cfg->data_dir == NULL ||
	    cfg->raft_address == NULL || cfg->api_address == NULL ||
	    cfg->n_nameservers == 0) {
		snprintf(err, errlen,
			 "cluster node: id, data dir, raft and "
			 "API addresses and nameservers are "
			 "required");
		return Q53_EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		goto nomem;
	n->loop = loop;
	n->id = cfg->id;
	snprintf(name, sizeof(name), "node%llu", (unsigned long long)cfg->id);
	n->api_address = cn_strdup(cfg->api_address);
	n->geoip_sha256 = cfg->geoip_sha256;
	n->geo = cfg->geo;
	n->dns_stats = cfg->dns_stats;
	n->query_log = cfg->query_log;
	n->query_log_version = UINT64_MAX;
	n->dns_address = cn_strdup(cfg->dns_address);
	n->http_insecure = cfg->http_insecure;
	n->http_limits = cfg->http_limits;
	n->zone_record_limit = cfg->zone_record_limit_set
				   ? cfg->zone_record_limit
				   : ZONE_STORE_DEFAULT_MAX_RRSETS;
	if (cfg->http_address != NULL &&
	    ((n->http_address = strdup(cfg->http_address)) == NULL ||
	     (cfg->http_keys != NULL &&
	      (n->http_keys = strdup(cfg->http_keys)) == NULL) ||
	     (cfg->http_tls_cert != NULL &&
	      (n->http_tls_cert = strdup(cfg->http_tls_cert)) == NULL) ||
	     (cfg->http_tls_key != NULL &&
	      (n->http_tls_key = strdup(cfg->http_tls_key)) == NULL)))
		goto nomem_free;
	n->name = cn_strdup(cfg->name != NULL ? cfg->name : name);
	if (n->query_log != NULL && n->name != NULL)
		query_log_set_node_name(n->query_log, n->name);
	n->data_dir = cn_strdup(cfg->data_dir);
	if (n->data_dir == NULL)
		goto nomem_free;
	n->nameservers = calloc(cfg->n_nameservers, sizeof(char *));
	if (n->api_address == NULL || n->dns_address == NULL ||
	    n->name == NULL || n->nameservers == NULL)
		goto nomem_free;
	if (n->http_address != NULL) {
		struct route53_rest_config rc = {
		    .listen = n->http_address,
		    .keys_file = n->http_keys,
		    .tls_cert_file = n->http_tls_cert,
		    .tls_key_file = n->http_tls_key,
		    .allow_plain = n->http_insecure,
		};
		rv = route53_rest_check(&rc, err, errlen);
		if (rv != 0)
			goto err_free;
	}
	for (size_t i = 0; i < cfg->n_nameservers; i++) {
		n->nameservers[i] = strdup(cfg->nameservers[i]);
		n->n_nameservers++;
		if (n->nameservers[i] == NULL)
			goto nomem_free;
	}
	if (cfg->peer_tls_ca != NULL || cfg->peer_tls_cert != NULL ||
	    cfg->peer_tls_key != NULL) {
		if (cfg->peer_tls_ca == NULL || cfg->peer_tls_cert == NULL ||
		    cfg->peer_tls_key == NULL) {
			snprintf(err, errlen,
				 "--peer-tls-ca, --peer-tls-cert and "
				 "--peer-tls-key go together");
			rv = Q53_EINVAL;
			goto err_free;
		}
		rv = q53_peer_tls_load(&n->peer_tls, cfg->peer_tls_ca,
				       cfg->peer_tls_cert, cfg->peer_tls_key,
				       err, errlen);
		if (rv != 0)
			goto err_free;
	}
	if (n->peer_tls.server == NULL && !cfg->peer_insecure &&
	    !cn_loopback(cfg->raft_address)) {
		snprintf(err, errlen,
			 "--raft %s is not a loopback address: give "
			 "--peer-tls-ca, --peer-tls-cert and --peer-tls-key "
			 "(mutual TLS between members), or --peer-insecure "
			 "to run Raft and the NNG API over plain TCP anyway "
			 "(then anyone who reaches these ports can forge "
			 "members' messages; q53 status says INSECURE)",
			 cfg->raft_address);
		rv = Q53_EINVAL;
		goto err_free;
	}
	if (q53_peer_url(cfg->raft_address, n->peer_tls.server != NULL,
			 n->raft_url, sizeof(n->raft_url)) != 0) {
		snprintf(err, errlen, "bad raft address '%s'",
			 cfg->raft_address);
		rv = Q53_EINVAL;
		goto err_free;
	}
	n->join = cfg->join != NULL;

	rh.id = n->id;
	rh.data_dir = cfg->data_dir;
	rh.raft_url = n->raft_url;
	rh.peer_tls = n->peer_tls.server != NULL ? &n->peer_tls : NULL;
	rh.max_connections = cfg->peer_max_connections;
	rh.idle_ms = cfg->peer_idle_ms;
	rh.snapshot_threshold = cfg->snapshot_threshold
				    ? cfg->snapshot_threshold
				    : CN_DEFAULT_SNAPSHOT;
	rh.election_timeout_ms = cfg->election_timeout_ms
				     ? cfg->election_timeout_ms
				     : CN_DEFAULT_ELECTION_MS;
	rh.heartbeat_ms =
	    cfg->heartbeat_ms ? cfg->heartbeat_ms : CN_DEFAULT_HEARTBEAT_MS;
	rv = raft_host_init(&n->raft, loop, &rh, err, errlen);
	if (rv != 0)
		goto err_free;
	rv = member_rpc_init(&n->rpc, loop);
	if (rv != 0)
		goto nomem_free;
	member_rpc_set_tls(n->rpc, n->peer_tls.client);
	/* Our API requests come from our API address's IP: members admit
	 * each other by it (node/api/peer_admit.h). */
	if (q53_raft_guard_address_ip(n->api_address, src_ip, sizeof(src_ip)) &&
	    strcmp(src_ip, "0.0.0.0") != 0 && strcmp(src_ip, "::") != 0)
		member_rpc_set_source(n->rpc, src_ip);

	vp.id = n->id;
	vp.fsm = raft_host_fsm(n->raft);
	control_fsm_set_site(vp.fsm, cfg->site, cfg->site_region);
	vp.on_serving = cfg->on_serving;
	vp.data = cfg->data;
	if (view_publisher_new(&n->views, &vp) != 0)
		goto nomem_free;
	mc.ops = cn_ops(n);
	mc.raft = raft_host_raft(n->raft);
	mc.rpc = n->rpc;
	mc.raft_url = n->raft_url;
	mc.api_address = n->api_address;
	mc.dns_address = n->dns_address;
	mc.name = n->name;
	mc.geoip_path = cfg->geoip_path;
	mc.geoip_sha256 = cfg->geoip_sha256;
	mc.site = cfg->site;
	mc.site_region = cfg->site_region;
	mc.join = cfg->join;
	mc.on_joined = cn_start_serving;
	mc.data = n;
	if (membership_new(&n->members, &mc) != 0)
		goto nomem_free;
	zs.ops = cn_ops(n);
	zs.seeds = cfg->seeds;
	zs.n_seeds = cfg->n_seeds;
	zs.nameservers = (const char *const *)n->nameservers;
	zs.n_nameservers = n->n_nameservers;
	if (zone_seed_new(&n->seed, &zs) != 0)
		goto nomem_free;
	struct cluster_ops mops = cn_ops(n);
	if (node_metrics_new(&n->metrics, &mops) != 0)
		goto nomem_free;
	hv.ops = cn_ops(n);
	hv.rpc = n->rpc;
	hv.raft_url = n->raft_url;
	hv.on_probe = node_metrics_on_probe;
	hv.probe_data = n->metrics;
	rv = health_votes_init(&n->health, &hv, err, errlen);
	if (rv != 0)
		goto err_free;
	wh.ops = cn_ops(n);
	wh.name = n->name;
	wh.on_transition = node_metrics_on_transition;
	wh.transition_data = n->metrics;
	wh.alarm_exec = cfg->alarm_exec;
	wh.on_alarm = node_metrics_on_alarm;
	wh.alarm_data = n->metrics;
	if (webhook_init(&n->webhook, &wh) != 0)
		goto nomem_free;
	ae.ops = cn_ops(n);
	ae.rpc = n->rpc;
	ae.tls = n->peer_tls.server;
	ae.max_connections = cfg->peer_max_connections;
	ae.idle_ms = cfg->peer_idle_ms;
	ae.api_address = n->api_address;
	ae.geoip_sha256 = n->geoip_sha256;
	ae.geo = n->geo;
	ae.nameservers = n->nameservers;
	ae.n_nameservers = n->n_nameservers;
	ae.zone_record_limit = n->zone_record_limit;
	ae.member_add = cn_member_add;
	ae.member_remove = cn_member_remove;
	ae.data = n;
	rv = api_edge_init(&n->edge, loop, &ae, err, errlen);
	if (rv != 0)
		goto err_free;
	struct xfr_server_config xc = {.ops = cn_ops(n),
				       .dns_address = n->dns_address};
	if (xfr_server_init(&n->xfr, loop, &xc) != 0)
		goto nomem_free;
	uv_check_init(loop, &n->check);
	n->check.data = n;
	uv_timer_init(loop, &n->tick);
	n->tick.data = n;
	n->handles_init = true;
	*out = n;
	return 0;

nomem_free:
	snprintf(err, errlen, "out of memory");
	rv = Q53_ENOMEM;
err_free:
	/* Partially built: cluster_node_close knows each piece. */
	*out = n;
	return rv;
nomem:
	snprintf(err, errlen, "out of memory");
	return Q53_ENOMEM;
}

int cluster_node_start(struct cluster_node *n, char *err, size_t errlen)
{
	int rv;

	rv = raft_host_start(n->raft, !n->join, &n->bootstrapped, err, errlen);
	if (rv != 0)
		return rv;
	rv = api_edge_start(n->edge, err, errlen);
	if (rv != 0)
		return rv;
	if (n->http_address != NULL) {
		struct admin_key_config ak = {
		    .ops = cn_ops(n),
		    .data_dir = n->data_dir,
		    .bootstrapped = n->bootstrapped,
		};
		rv = admin_key_new(&n->admin, &ak, err, errlen);
		if (rv != 0)
			return rv;
	}
	if (n->http_address != NULL) {
		struct cluster_ops ops = cn_ops(n);
		struct route53_rest_config rc = {
		    .listen = n->http_address,
		    .keys_file = n->http_keys,
		    .api = api_edge_server(n->edge),
		    .ops = &ops,
		    .tls_cert_file = n->http_tls_cert,
		    .tls_key_file = n->http_tls_key,
		    .allow_plain = n->http_insecure,
		    .limits = n->http_limits,
		    .metrics = cn_metrics,
		    .metrics_data = n,
		    .alarms = cn_alarms,
		    .alarms_data = n,
		};
		rv = route53_rest_start(&n->rest, n->loop, &rc, err, errlen);
		if (rv != 0)
			return rv;
	}
	uv_check_start(&n->check, cn_on_check);
	uv_timer_start(&n->tick, cn_on_tick, CN_TICK_MS, CN_TICK_MS);
	rv = health_votes_start(n->health);
	if (rv != 0) {
		snprintf(err, errlen, "health prober: %s", q53_strerror(rv));
		return rv;
	}
	if (!membership_start(n->members))
		cn_start_serving(n);
	cn_log(n, "raft %s, API %s, FSM index %llu", n->raft_url,
	       n->api_address,
	       (unsigned long long)control_fsm_applied(raft_host_fsm(n->raft)));
	return 0;
}

void cluster_node_status(struct cluster_node *n,
			 struct cluster_raft_status *out)
{
	raft_host_status(n->raft, out);
}

/* --- close --- */

static void cn_free(struct cluster_node *n)
{
	node_metrics_free(n->metrics);
	void (*cb)(void *) = n->close_cb;
	void *data = n->close_data;

	view_publisher_free(n->views);
	health_votes_free(n->health);
	api_edge_free(n->edge);
	membership_free(n->members);
	zone_seed_free(n->seed);
	raft_host_free(n->raft);
	for (size_t i = 0; i < n->n_nameservers; i++)
		free(n->nameservers[i]);
	free(n->nameservers);
	free(n->api_address);
	free(n->http_address);
	free(n->http_keys);
	free(n->http_tls_cert);
	q53_peer_tls_free(&n->peer_tls);
	free(n->http_tls_key);
	admin_key_free(n->admin);
	free(n->data_dir);
	free(n->dns_address);
	free(n->name);
	free(n);
	if (cb != NULL)
		cb(data);
}

static void cn_close_part(void *data)
{
	struct cluster_node *n = data;

	if (--n->close_pending == 0)
		cn_free(n);
}

static void cn_handle_closed(uv_handle_t *h)
{
	cn_close_part(h->data);
}

static void cn_raft_closed(void *data)
{
	struct cluster_node *n = data;

	/* After raft answered its proposals: a change still in progress. */
	if (n->members != NULL)
		membership_cancel(n->members, true);
	cn_close_part(n);
}

void cluster_node_close(struct cluster_node *n, void (*cb)(void *data),
			void *data)
{
	n->closing = true;
	n->close_cb = cb;
	n->close_data = data;
	n->close_pending = 1; /* this function's own reference */
	if (n->edge != NULL)
		api_edge_tick(n->edge); /* answers every waiting write */
	/* The REST edge first: the API server's close still answers the
	 * requests it handed in (their answers are dropped). */
	route53_rest_close(n->rest);
	n->rest = NULL;
	if (n->members != NULL)
		membership_cancel(n->members, false);
	if (n->edge != NULL) {
		n->close_pending++;
		api_edge_close(n->edge, cn_close_part, n);
	}
	if (n->health != NULL) {
		n->close_pending++;
		health_votes_close(n->health, cn_close_part, n);
	}
	if (n->webhook != NULL) {
		n->close_pending++;
		webhook_close(n->webhook, cn_close_part, n);
		n->webhook = NULL;
	}
	if (n->xfr != NULL) {
		n->close_pending++;
		xfr_server_close(n->xfr, cn_close_part, n);
		n->xfr = NULL;
	}
	if (n->rpc != NULL) {
		n->close_pending++;
		member_rpc_close(n->rpc, cn_close_part, n);
		n->rpc = NULL;
	}
	if (n->raft != NULL) {
		n->close_pending++;
		raft_host_close(n->raft, cn_raft_closed, n);
	}
	if (n->handles_init) {
		n->close_pending += 2;
		uv_close((uv_handle_t *)&n->check, cn_handle_closed);
		uv_close((uv_handle_t *)&n->tick, cn_handle_closed);
	}
	cn_close_part(n);
}
