/* The cluster runtime (see cluster_node.h): raft + q53_raft_io + fsm_log +
 * control_fsm on the loop thread, the coalesced serving-view rebuild, write
 * routing (leader / forward / wait for an election), membership changes on
 * the leader, the join state machine of a new node and the seeding of zones
 * on first boot. The client API operations live in cluster_node_api.c. */
#include "node/runtime/cluster_node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "node/common/errcode.h"
#include "cluster/api_msg.h"
#include "node/api/api_render.h"
#include "node/runtime/cluster_node_impl.h"
#include "cluster/member_rpc.h"
#include "node/control/control_fsm.h"
#include "node/raft/raft_io.h"
#include "node/control/zone_store.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "proto/api.pb-c.h"

#define CN_TICK_MS		20
#define CN_FORWARD_TIMEOUT_MS	8000
#define CN_JOIN_TIMEOUT_MS	10000
#define CN_JOIN_BACKOFF_MIN_MS	100
#define CN_JOIN_BACKOFF_MAX_MS	2000
#define CN_SELF_META_RETRY_MS	1000
#define CN_ASSIGN_ATTEMPTS	5
#define CN_ASSIGN_RETRY_MS	200
#define CN_DEFAULT_SNAPSHOT	1024
#define CN_DEFAULT_ELECTION_MS	1000
#define CN_DEFAULT_HEARTBEAT_MS 100

#define cn_log(n, ...)                                                         \
	do {                                                                   \
		fprintf(stderr, "q53d[%llu]: ", (unsigned long long)(n)->id);  \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
	} while (0)

/* --- small helpers --------------------------------------------------------
 */

uint64_t cn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cn_new_id(char prefix, char out[CN_ID_LEN + 1])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t rnd[CN_ID_LEN];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* Not expected on Linux >= 3.17; fall back to the clock. */
		uint64_t t = cn_now_ms() ^ (uint64_t)clock();
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(t >> ((i % 8) * 8)) ^ (uint8_t)i;
	}
	out[0] = prefix;
	for (size_t i = 1; i < CN_ID_LEN; i++)
		out[i] = alphabet[rnd[i] & 31];
	out[CN_ID_LEN] = '\0';
}

void cn_new_uuid(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rnd[16];
	size_t o = 0;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		uint64_t t = cn_now_ms() ^ (uint64_t)clock();
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] =
			    (uint8_t)(t >> ((i % 8) * 8)) ^ (uint8_t)(i * 37);
	}
	rnd[6] = (uint8_t)((rnd[6] & 0x0f) | 0x40); /* version 4 */
	rnd[8] = (uint8_t)((rnd[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (size_t i = 0; i < sizeof(rnd); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[rnd[i] >> 4];
		out[o++] = hex[rnd[i] & 15];
	}
	out[o] = '\0';
}

/* "HOST:PORT" -> "tcp://HOST:PORT"; URLs stay as they are. */
static int cn_url(const char *address, char *out, size_t len)
{
	int w;

	if (address == NULL || address[0] == '\0')
		return Q53_EINVAL;
	w = snprintf(out, len, "%s%s",
		     strstr(address, "://") != NULL ? "" : "tcp://", address);
	return w < 0 || (size_t)w >= len ? Q53_EINVAL : 0;
}

static char *cn_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

bool cn_is_leader(struct cluster_node *n)
{
	return n->raft_inited && raft_state(&n->raft) == RAFT_LEADER;
}

const char *cn_leader_api(struct cluster_node *n, uint64_t *leader_id)
{
	struct control_fsm_node node;
	const char *address;
	raft_id id = 0;

	raft_leader(&n->raft, &id, &address);
	if (leader_id != NULL)
		*leader_id = id;
	if (id == 0 || id == n->id)
		return NULL;
	if (control_fsm_node_get(n->fsm, id, &node) != 0 ||
	    node.api_address[0] == '\0')
		return NULL;
	return node.api_address;
}

static const struct raft_server *cn_config_server(struct cluster_node *n,
						  uint64_t id)
{
	for (unsigned i = 0; i < n->raft.configuration.n; i++)
		if (n->raft.configuration.servers[i].id == id)
			return &n->raft.configuration.servers[i];
	return NULL;
}

/* --- the serving view -----------------------------------------------------
 */

static void cn_zone_drop(struct cluster_node *n, size_t i)
{
	zone_release(n->zones[i].zone);
	free(n->zones[i].id);
	memmove(&n->zones[i], &n->zones[i + 1],
		(n->n_zones - i - 1) * sizeof(*n->zones));
	n->n_zones--;
}

static void cn_zones_clear(struct cluster_node *n)
{
	while (n->n_zones > 0)
		cn_zone_drop(n, n->n_zones - 1);
}

/* Compiles zone id from the store (or drops it when gone). Returns true
 * when the compiled set changed. */
static bool cn_zone_rebuild(struct cluster_node *n, const char *id)
{
	const struct zone_store *s = control_fsm_zone_store(n->fsm);
	struct zone_store_info info;
	struct zone *z;
	char err[512];
	size_t i;

	for (i = 0; i < n->n_zones; i++)
		if (strcmp(n->zones[i].id, id) == 0)
			break;
	if (zone_store_get(s, id, &info) != 0) {
		if (i == n->n_zones)
			return false;
		cn_zone_drop(n, i);
		return true;
	}
	/* Health-aware: failover groups follow the decided statuses.
	 * Incremental: only what changed since the version served. */
	if (zone_store_build_update(s, id,
				    i < n->n_zones ? n->zones[i].zone : NULL,
				    control_fsm_health_lookup, n->fsm, &z, err,
				    sizeof(err)) != 0) {
		cn_log(n,
		       "zone %s: cannot compile: %s (serving the previous "
		       "version)",
		       info.name, err);
		return false;
	}
	if (i < n->n_zones) {
		zone_release(n->zones[i].zone);
		n->zones[i].zone = z;
		return true;
	}
	struct cn_zone *grown =
	    realloc(n->zones, (n->n_zones + 1) * sizeof(*n->zones));
	char *copy = strdup(id);
	if (grown == NULL || copy == NULL) {
		if (grown != NULL)
			n->zones = grown;
		free(copy);
		zone_release(z);
		cn_log(n, "zone %s: out of memory", info.name);
		return false;
	}
	n->zones = grown;
	n->zones[n->n_zones].id = copy;
	n->zones[n->n_zones].zone = z;
	n->n_zones++;
	return true;
}

static bool cn_rebuild_all(struct cluster_node *n)
{
	const struct zone_store *s = control_fsm_zone_store(n->fsm);
	struct zone_store_info info;

	cn_zones_clear(n);
	for (size_t i = 0; i < zone_store_count(s); i++)
		if (zone_store_get_at(s, i, &info) == 0)
			cn_zone_rebuild(n, info.id);
	return true;
}

static void cn_publish_view(struct cluster_node *n)
{
	struct serving_view *v;
	struct zone **zs = NULL;
	int rv;

	if (n->n_zones > 0) {
		zs = calloc(n->n_zones, sizeof(*zs));
		if (zs == NULL) {
			cn_log(n, "publish: out of memory");
			return;
		}
		for (size_t i = 0; i < n->n_zones; i++)
			zs[i] = n->zones[i].zone;
	}
	rv = serving_view_build(&v, zs, n->n_zones);
	free(zs);
	if (rv != 0) {
		cn_log(n, "cannot build the serving view: %s",
		       q53_strerror(rv));
		return;
	}
	serving_view_publish(v);
}

/* Takes the FSM's dirty marks; while serving, rebuilds and publishes. */
static void cn_publish(struct cluster_node *n)
{
	struct control_fsm_dirty d;
	bool changed = false;

	control_fsm_take_dirty(n->fsm, &d);
	if (!n->serving) {
		if (d.all || d.n_zone_ids > 0)
			n->rebuild_all = true;
		control_fsm_dirty_clear(&d);
		return;
	}
	if (d.all || n->rebuild_all) {
		changed = cn_rebuild_all(n);
		n->rebuild_all = false;
	} else {
		for (size_t i = 0; i < d.n_zone_ids; i++)
			changed |= cn_zone_rebuild(n, d.zone_ids[i]);
	}
	control_fsm_dirty_clear(&d);
	if (changed)
		cn_publish_view(n);
	n->published_applied = control_fsm_applied(n->fsm);
}

static void cn_start_serving(struct cluster_node *n)
{
	if (n->serving)
		return;
	n->serving = true;
	n->rebuild_all = true;
	cn_publish(n);
	/* An empty view too: the node answers REFUSED, not silence. */
	if (n->n_zones == 0)
		cn_publish_view(n);
	cn_log(n, "serving %zu zone%s at FSM index %llu", n->n_zones,
	       n->n_zones == 1 ? "" : "s",
	       (unsigned long long)n->published_applied);
	if (n->on_serving != NULL)
		n->on_serving(n->data);
}

static void cn_barrier_cb(struct raft_barrier *req, int status)
{
	struct cluster_node *n = req->data;

	(void)status;
	n->barrier_inflight = false;
}

/* After every loop turn: rebuild what the applies dirtied, and tell the
 * followers about new commits at once. raft 0.15 sends the new commit
 * index only with the next AppendEntries (a heartbeat, up to
 * heartbeat_ms later); a barrier entry is such an AppendEntries, so
 * followers apply (and INSYNC comes) about one round trip after commit. */
static void cn_on_check(uv_check_t *h)
{
	struct cluster_node *n = h->data;

	if (n->closing)
		return;
	cn_publish(n);
	cn_webhook_after_apply(n);
	cn_health_after_apply(n);
	if (n->join_state == CN_JOIN_CATCHING_UP &&
	    control_fsm_applied(n->fsm) >= n->join_applied_target) {
		n->join_state = CN_JOIN_DONE;
		cn_log(n, "caught up (FSM index %llu): joined",
		       (unsigned long long)control_fsm_applied(n->fsm));
		cn_start_serving(n);
	}
	/* Only when nothing else is on its way: entries still being
	 * replicated carry the new commit index to the followers anyway, and
	 * a barrier per turn under load costs one more fsync per commit. */
	if (n->committed_since_barrier && !n->barrier_inflight &&
	    n->submits == NULL && cn_is_leader(n)) {
		n->barrier.data = n;
		if (raft_barrier(&n->raft, &n->barrier, cn_barrier_cb) == 0)
			n->barrier_inflight = true;
		n->committed_since_barrier = false;
	}
}

/* --- proposing commands ---------------------------------------------------
 */

static void cn_submit_unlink(struct cluster_node *n, struct cn_submit *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		n->submits = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

static void cn_apply_cb(struct raft_apply *req, int status, void *result)
{
	struct cn_submit *s = req->data;
	struct cluster_node *n = s->n;

	cn_submit_unlink(n, s);
	if (status == 0)
		n->committed_since_barrier = true;
	s->done(s, status, status == 0 ? result : NULL);
	free(s);
}

int cn_submit(struct cluster_node *n, struct command_payload *p,
	      struct api_call *call, cn_submit_done done, void *arg,
	      struct cn_submit **out)
{
	struct q53_fsm_log_command cmd = {
	    .type = p->type,
	    .client_id = n->client_id,
	    .request_id = n->next_request,
	    .payload = p->data,
	    .len = p->len,
	};
	struct raft_buffer buf;
	struct cn_submit *s;
	int rv;

	if (out != NULL)
		*out = NULL;
	if (n->closing || !cn_is_leader(n)) {
		command_payload_clear(p);
		return RAFT_NOTLEADER;
	}
	rv = q53_fsm_log_encode(&cmd, &buf);
	command_payload_clear(p);
	if (rv != 0)
		return rv;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		raft_free(buf.base);
		return Q53_ENOMEM;
	}
	s->n = n;
	s->call = call;
	s->done = done;
	s->arg = arg;
	s->req.data = s;
	rv = raft_apply(&n->raft, &s->req, &buf, 1, cn_apply_cb);
	if (rv != 0) {
		raft_free(buf.base);
		free(s);
		return rv;
	}
	n->next_request++;
	s->next = n->submits;
	if (n->submits != NULL)
		n->submits->prev = s;
	n->submits = s;
	if (out != NULL)
		*out = s;
	return 0;
}

/* --- write routing -----------------------------------------------------------
 */

static void cn_write_forward(struct cn_write *w, const char *leader_api);

static void cn_write_park(struct cn_write *w)
{
	w->next = w->n->waiting;
	w->n->waiting = w;
}

static void cn_forward_cb(void *data, int status, const uint8_t *buf,
			  size_t len)
{
	struct cn_write *w = data;
	struct cluster_node *n = w->n;

	if (status == 0) {
		Q53__Api__Response *r =
		    q53__api__response__unpack(NULL, len, buf);
		bool again = r != NULL && r->retryable && !n->closing &&
			     uv_now(n->loop) < w->deadline &&
			     (strcmp(r->error, API_ERR_NOT_LEADER) == 0 ||
			      strcmp(r->error, API_ERR_UNAVAILABLE) == 0);
		if (r != NULL)
			q53__api__response__free_unpacked(r, NULL);
		if (again) {
			/* The leader moved: wait for the next one. */
			cn_write_park(w);
			return;
		}
		api_reply_raw(w->call, buf, len);
	} else if (status == -ENOTCONN && !n->closing &&
		   uv_now(n->loop) < w->deadline) {
		/* Never delivered (the leader is gone?): wait for one. */
		cn_write_park(w);
		return;
	} else if (status == -ENOTCONN) {
		api_reply_error(w->call, API_ERR_UNAVAILABLE, true,
				"cannot reach the leader; nothing was "
				"applied, retry");
	} else if (status == -ECANCELED) {
		api_reply_error(w->call, API_ERR_UNAVAILABLE, false,
				"node %llu is shutting down; the change may "
				"or may not have been applied",
				(unsigned long long)n->id);
	} else {
		api_reply_error(w->call, API_ERR_UNAVAILABLE, false,
				"no answer from the leader (%s); the change "
				"may or may not have been applied: check with "
				"get-change / records list",
				q53_strerror(status));
	}
	free(w);
}

static void cn_write_forward(struct cn_write *w, const char *leader_api)
{
	const uint8_t *raw;
	size_t len;
	int rv;

	raw = api_call_raw(w->call, &len);
	rv = member_rpc_call(w->n->rpc, leader_api, raw, len,
				   CN_FORWARD_TIMEOUT_MS, cn_forward_cb, w);
	if (rv != 0) {
		api_reply_error(w->call, API_ERR_UNAVAILABLE, true,
				"cannot forward to the leader at %s: %s",
				leader_api, q53_strerror(rv));
		free(w);
	}
}

/* Dispatches w now if a leader is known; returns false to keep waiting. */
static bool cn_write_try(struct cn_write *w)
{
	struct cluster_node *n = w->n;
	const char *api;

	if (cn_is_leader(n)) {
		struct api_call *call = w->call;
		free(w);
		cn_api_execute(n, call);
		return true;
	}
	api = cn_leader_api(n, NULL);
	if (api != NULL) {
		cn_write_forward(w, api);
		return true;
	}
	return false;
}

bool cn_write_route(struct cluster_node *n, struct api_call *call)
{
	struct cn_write *w;
	const char *api;

	if (n->closing) {
		api_reply_error(call, API_ERR_UNAVAILABLE, true,
				"node %llu is shutting down",
				(unsigned long long)n->id);
		return false;
	}
	if (cn_is_leader(n))
		return true;
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		api_reply_error(call, API_ERR_UNAVAILABLE, true,
				"out of memory");
		return false;
	}
	w->n = n;
	w->call = call;
	w->deadline = uv_now(n->loop) + CLUSTER_NODE_ELECTION_WAIT_MS;
	api = cn_leader_api(n, NULL);
	if (api != NULL)
		cn_write_forward(w, api);
	else
		cn_write_park(w);
	return false;
}

static void cn_waiting_run(struct cluster_node *n)
{
	struct cn_write *list = n->waiting, *next;
	uint64_t now = uv_now(n->loop);

	n->waiting = NULL;
	for (; list != NULL; list = next) {
		next = list->next;
		list->next = NULL;
		if (n->closing) {
			api_reply_error(list->call, API_ERR_UNAVAILABLE, true,
					"node %llu is shutting down",
					(unsigned long long)n->id);
			free(list);
		} else if (cn_write_try(list)) {
			continue;
		} else if (now >= list->deadline) {
			api_reply_error(
			    list->call, API_ERR_UNAVAILABLE, true,
			    "no Raft leader within %.1f s (election in "
			    "progress or no quorum); nothing was applied, "
			    "retry",
			    CLUSTER_NODE_ELECTION_WAIT_MS / 1000.0);
			free(list);
		} else {
			cn_write_park(list);
		}
	}
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
		node.applied_index = control_fsm_applied(op->n->fsm);
		an.node = &node;
		r.body_case = Q53__API__RESPONSE__BODY_ADD_NODE;
		r.add_node = &an;
	}
	api_reply(op->call, &r);
}

static void cn_member_end(struct cn_member_op *op, const char *code,
			  const char *fmt, const char *detail)
{
	struct cluster_node *n = op->n;

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
		    !op->n->closing) {
			op->step = CN_STEP_ASSIGN_DUE;
			op->due = uv_now(op->n->loop) + CN_ASSIGN_RETRY_MS;
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
		op->due = uv_now(op->n->loop);
		return;
	case CN_STEP_ASSIGNING:
		op->step = CN_STEP_METADATA;
		cn_member_step(op);
		return;
	case CN_STEP_RAFT_REMOVE:
		cn_member_end(op, NULL, NULL, NULL);
		return;
	default:
		return;
	}
}

static void cn_member_meta_done(struct cn_submit *s, int status,
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
		op->step = CN_STEP_RAFT_REMOVE;
		cn_member_step(op);
		return;
	}
	cn_member_end(op, NULL, NULL, NULL);
}

static void cn_member_step(struct cn_member_op *op)
{
	struct cluster_node *n = op->n;
	struct command_payload p = {0};
	int rv;

	op->change.data = op;
	switch (op->step) {
	case CN_STEP_RAFT_ADD:
		rv = raft_add(&n->raft, &op->change, op->id, op->raft_url,
			      cn_member_change_cb);
		break;
	case CN_STEP_ASSIGN_DUE:
		return; /* the tick runs it */
	case CN_STEP_ASSIGNING:
		rv = raft_assign(&n->raft, &op->change, op->id, RAFT_VOTER,
				 cn_member_change_cb);
		if (rv == RAFT_BADROLE) { /* a voter already */
			op->step = CN_STEP_METADATA;
			cn_member_step(op);
			return;
		}
		break;
	case CN_STEP_METADATA:
		if (op->remove) {
			struct command_remove_node c = {.node_id = op->id,
							.time_ms = cn_now_ms()};
			rv = command_encode_remove_node(&c, &p);
		} else {
			struct command_set_node c = {
			    .node_id = op->id,
			    .raft_address = op->raft_url,
			    .dns_address = op->dns,
			    .api_address = op->api,
			    .name = op->name,
			    .time_ms = cn_now_ms(),
			};
			rv = command_encode_set_node(&c, &p);
		}
		if (rv == 0)
			rv = cn_submit(n, &p, NULL, cn_member_meta_done, op,
				       NULL);
		break;
	case CN_STEP_RAFT_REMOVE:
		rv = raft_remove(&n->raft, &op->change, op->id,
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

	if (cn_url(raft, op->raft_url, sizeof(op->raft_url)) != 0 ||
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

static struct cn_member_op *cn_member_new(struct cluster_node *n,
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

void cn_member_add(struct cluster_node *n, struct api_call *call, uint64_t id,
		   const char *address, const char *api, const char *dns,
		   const char *name)
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
			    address, CN_ADDR_MAX - 1);
		free(op);
		return;
	}
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
		op->due = uv_now(n->loop);
	} else {
		op->step = CN_STEP_METADATA;
		/* Keep what metadata is known when the request says less. */
		if (control_fsm_node_get(n->fsm, id, &meta) == 0) {
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

void cn_member_remove(struct cluster_node *n, struct api_call *call,
		      uint64_t id)
{
	struct cn_member_op *op;
	struct control_fsm_node meta;
	bool in_meta = control_fsm_node_get(n->fsm, id, &meta) == 0;
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

/* The tick's part: deferred raft_assign, or give up when leadership went. */
static void cn_member_tick(struct cluster_node *n)
{
	struct cn_member_op *op = n->member_op;

	if (op == NULL || op->step != CN_STEP_ASSIGN_DUE)
		return;
	if (n->closing || !cn_is_leader(n)) {
		cn_member_end(op, API_ERR_UNAVAILABLE, "%s",
			      "leadership lost during the membership change; "
			      "retry");
		return;
	}
	if (uv_now(n->loop) < op->due)
		return;
	op->step = CN_STEP_ASSIGNING;
	cn_member_step(op);
}

/* --- own metadata and joining ---------------------------------------------
 */

static void cn_join_retry(struct cluster_node *n)
{
	n->join_state = CN_JOIN_ASK;
	n->join_due = uv_now(n->loop) + n->join_backoff_ms;
	n->join_backoff_ms = n->join_backoff_ms * 2 > CN_JOIN_BACKOFF_MAX_MS
				 ? CN_JOIN_BACKOFF_MAX_MS
				 : n->join_backoff_ms * 2;
	snprintf(n->join_target, sizeof(n->join_target), "%s", n->join);
}

static void cn_join_cb(void *data, int status, const uint8_t *buf, size_t len)
{
	struct cluster_node *n = data;
	Q53__Api__Response *r = NULL;

	if (n->join_state != CN_JOIN_ASKING) {
		/* The node's own metadata refresh (not a join). */
		n->self_meta_inflight = false;
		n->self_meta_due = uv_now(n->loop) + CN_SELF_META_RETRY_MS;
		return;
	}
	if (status != 0 || n->closing) {
		if (!n->closing)
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
		n->join_due = uv_now(n->loop);
	} else {
		cn_log(n, "join via %s: %s: %s; retrying", n->join_target,
		       r->error, r->message);
		cn_join_retry(n);
	}
	q53__api__response__free_unpacked(r, NULL);
}

static void cn_ask_add(struct cluster_node *n, const char *target)
{
	uint8_t *buf;
	size_t len;
	int rv;

	if (cn_api_pack_add_node(n->id, n->raft_url, n->api_address,
				 n->dns_address, n->name, &buf, &len) != 0)
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

static void cn_join_tick(struct cluster_node *n)
{
	if (n->join_state == CN_JOIN_ASK && uv_now(n->loop) >= n->join_due)
		cn_ask_add(n, n->join_target);
}

/* Keeps this node's metadata (API, DNS address, name) right in the FSM:
 * every node does, so a node added by hand or restarted with another API
 * address fixes its own record. */
static void cn_self_meta_tick(struct cluster_node *n)
{
	const struct raft_server *srv = cn_config_server(n, n->id);
	struct control_fsm_node meta;
	const char *api;

	if (n->self_meta_inflight || srv == NULL || srv->role != RAFT_VOTER ||
	    uv_now(n->loop) < n->self_meta_due ||
	    (n->join_state != CN_JOIN_NONE && n->join_state != CN_JOIN_DONE))
		return;
	if (control_fsm_node_get(n->fsm, n->id, &meta) == 0 &&
	    strcmp(meta.raft_address, n->raft_url) == 0 &&
	    strcmp(meta.api_address, n->api_address) == 0 &&
	    strcmp(meta.dns_address, n->dns_address) == 0 &&
	    strcmp(meta.name, n->name) == 0)
		return;
	n->self_meta_due = uv_now(n->loop) + CN_SELF_META_RETRY_MS;
	if (cn_is_leader(n)) {
		if (n->member_op == NULL)
			cn_member_add(n, NULL, n->id, n->raft_url,
				      n->api_address, n->dns_address, n->name);
		return;
	}
	api = cn_leader_api(n, NULL);
	if (api != NULL)
		cn_ask_add(n, api);
}

/* --- seeding zones on first boot ------------------------------------------
 */

static void cn_seed_next(struct cluster_node *n)
{
	n->seed_inflight = false;
	n->seed_next++;
}

static void cn_seed_import_done(struct cn_submit *s, int status,
				const struct q53_fsm_log_result *res)
{
	struct cluster_node *n = s->n;
	const struct cluster_node_seed *seed = &n->seeds[n->seed_next];

	if (status != 0) {
		n->seed_inflight = false; /* retried by the tick */
		return;
	}
	if (res->code != 0)
		cn_log(n, "seed zone %s from %s: import rejected", seed->origin,
		       seed->path);
	else
		cn_log(n, "seeded zone %s (%s) from %s", seed->origin,
		       s->zone_id, seed->path);
	cn_seed_next(n);
}

static void cn_seed_import(struct cluster_node *n, const char *zone_id)
{
	const struct cluster_node_seed *seed = &n->seeds[n->seed_next];
	struct command_payload p = {0};
	struct cn_submit *s;
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(seed->path, "rb");
	char change_id[CN_ID_LEN + 1];
	int rv = Q53_EINVAL;

	if (f != NULL) {
		if (fseek(f, 0, SEEK_END) == 0) {
			long sz = ftell(f);
			if (sz >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
			    (text = malloc((size_t)sz + 1)) != NULL) {
				len = fread(text, 1, (size_t)sz, f);
				text[len] = '\0';
				rv = 0;
			}
		}
		fclose(f);
	}
	if (rv != 0) {
		cn_log(n, "seed zone %s: cannot read %s: %s", seed->origin,
		       seed->path, strerror(errno));
		free(text);
		cn_seed_next(n);
		return;
	}
	cn_new_id('C', change_id);
	struct command_import_zone c = {.zone_id = zone_id,
					.change_id = change_id,
					.text = text,
					.len = len,
					.time_ms = cn_now_ms()};
	rv = command_encode_import_zone(&c, &p);
	free(text);
	if (rv == 0)
		rv = cn_submit(n, &p, NULL, cn_seed_import_done, NULL, &s);
	if (rv != 0) {
		n->seed_inflight = false;
		return;
	}
	snprintf(s->zone_id, sizeof(s->zone_id), "%s", zone_id);
}

static void cn_seed_create_done(struct cn_submit *s, int status,
				const struct q53_fsm_log_result *res)
{
	struct cluster_node *n = s->n;

	if (status != 0) {
		n->seed_inflight = false;
		return;
	}
	if (res->code != 0) {
		cn_log(n, "seed zone %s: create rejected",
		       n->seeds[n->seed_next].origin);
		cn_seed_next(n);
		return;
	}
	cn_seed_import(n, s->zone_id);
}

static void cn_seed_tick(struct cluster_node *n)
{
	const struct zone_store *st = control_fsm_zone_store(n->fsm);
	struct command_payload p = {0};
	struct zone_store_info info;
	struct cn_submit *s;
	char zone_id[CN_ID_LEN + 1], err[256];
	int rv;

	if (!n->bootstrapped || n->seed_inflight ||
	    n->seed_next >= n->n_seeds || !cn_is_leader(n))
		return;
	const struct cluster_node_seed *seed = &n->seeds[n->seed_next];
	if (api_render_resolve(st, seed->origin, &info, err, sizeof(err)) ==
	    0) {
		n->seed_next++;
		return;
	}
	cn_new_id('Z', zone_id);
	struct command_create_hosted_zone c = {
	    .id = zone_id,
	    .name = seed->origin,
	    .comment = "seeded from --zone",
	    .nameservers = (const char *const *)n->nameservers,
	    .n_nameservers = n->n_nameservers,
	    .time_ms = cn_now_ms(),
	};
	rv = command_encode_create_hosted_zone(&c, &p);
	if (rv == 0)
		rv = cn_submit(n, &p, NULL, cn_seed_create_done, NULL, &s);
	if (rv != 0)
		return;
	snprintf(s->zone_id, sizeof(s->zone_id), "%s", zone_id);
	n->seed_inflight = true;
}

static void cn_on_tick(uv_timer_t *t)
{
	struct cluster_node *n = t->data;

	if (n->closing)
		return;
	cn_waiting_run(n);
	cn_member_tick(n);
	cn_join_tick(n);
	cn_self_meta_tick(n);
	cn_seed_tick(n);
	cn_health_tick(n);
}

/* --- lifecycle ------------------------------------------------------------
 */

int cluster_node_init(struct cluster_node **out, uv_loop_t *loop,
		      const struct cluster_node_config *cfg, char *err,
		      size_t errlen)
{
	struct q53_raft_io_config io_cfg = {0};
	struct api_server_config api_cfg = {0};
	struct api_backend backend;
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
	n->data_dir = cn_strdup(cfg->data_dir);
	n->api_address = cn_strdup(cfg->api_address);
	n->dns_address = cn_strdup(cfg->dns_address);
	n->join = cfg->join != NULL ? strdup(cfg->join) : NULL;
	n->name = cn_strdup(cfg->name != NULL ? cfg->name : name);
	n->nameservers = calloc(cfg->n_nameservers, sizeof(char *));
	if (n->data_dir == NULL || n->api_address == NULL ||
	    n->dns_address == NULL || n->name == NULL ||
	    n->nameservers == NULL || (cfg->join != NULL && n->join == NULL))
		goto nomem_free;
	for (size_t i = 0; i < cfg->n_nameservers; i++) {
		n->nameservers[i] = strdup(cfg->nameservers[i]);
		n->n_nameservers++;
		if (n->nameservers[i] == NULL)
			goto nomem_free;
	}
	if (cn_url(cfg->raft_address, n->raft_url, sizeof(n->raft_url)) != 0) {
		snprintf(err, errlen, "bad raft address '%s'",
			 cfg->raft_address);
		rv = Q53_EINVAL;
		goto err_free;
	}
	n->seeds = cfg->seeds;
	n->n_seeds = cfg->n_seeds;
	n->snapshot_threshold = cfg->snapshot_threshold
				    ? cfg->snapshot_threshold
				    : CN_DEFAULT_SNAPSHOT;
	n->election_timeout_ms = cfg->election_timeout_ms
				     ? cfg->election_timeout_ms
				     : CN_DEFAULT_ELECTION_MS;
	n->heartbeat_ms =
	    cfg->heartbeat_ms ? cfg->heartbeat_ms : CN_DEFAULT_HEARTBEAT_MS;
	n->on_serving = cfg->on_serving;
	n->data = cfg->data;
	n->join_backoff_ms = CN_JOIN_BACKOFF_MIN_MS;
	if (getrandom(&n->client_id, sizeof(n->client_id), 0) !=
		(ssize_t)sizeof(n->client_id) ||
	    n->client_id == 0)
		n->client_id = (cn_now_ms() << 16) ^ n->id;
	n->next_request = 1;

	if (control_fsm_new(&n->fsm) != 0)
		goto nomem_free;
	rv = q53_fsm_log_init(&n->log, control_fsm_base(n->fsm), NULL);
	if (rv != 0) {
		snprintf(err, errlen, "fsm log: %s", q53_strerror(rv));
		goto err_free;
	}
	io_cfg.dir = n->data_dir;
	rv = q53_raft_io_init(&n->io, loop, &io_cfg);
	if (rv != 0) {
		snprintf(err, errlen, "raft io: %s", q53_strerror(rv));
		goto err_free;
	}
	n->io_inited = true;
	rv = raft_init(&n->raft, &n->io, &n->log.raft_fsm, n->id, n->raft_url);
	if (rv != 0) {
		snprintf(err, errlen, "raft init (%s, %s): %s", n->raft_url,
			 n->data_dir, raft_errmsg(&n->raft));
		rv = Q53_EINVAL;
		goto err_free;
	}
	n->raft_inited = true;
	n->raft.data = n;
	raft_set_election_timeout(&n->raft, n->election_timeout_ms);
	raft_set_heartbeat_timeout(&n->raft, n->heartbeat_ms);
	raft_set_snapshot_threshold(&n->raft, n->snapshot_threshold);
	raft_set_snapshot_trailing(&n->raft, n->snapshot_threshold);

	rv = member_rpc_init(&n->rpc, loop);
	if (rv != 0)
		goto nomem_free;
	rv = cn_health_init(n, err, errlen);
	if (rv != 0)
		goto err_free;
	rv = cn_webhook_init(n);
	if (rv != 0)
		goto nomem_free;
	backend = cn_api_backend(n);
	api_cfg.listen = n->api_address;
	rv = api_server_init(&n->api, loop, &backend, &api_cfg);
	if (rv != 0) {
		snprintf(err, errlen, "API server: %s", q53_strerror(rv));
		goto err_free;
	}
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
	struct raft_configuration conf;
	int rv;

	if (n->join == NULL) {
		raft_configuration_init(&conf);
		rv = raft_configuration_add(&conf, n->id, n->raft_url,
					    RAFT_VOTER);
		if (rv == 0)
			rv = raft_bootstrap(&n->raft, &conf);
		raft_configuration_close(&conf);
		if (rv == 0) {
			n->bootstrapped = true;
			cn_log(n, "bootstrapped a one-node cluster in %s",
			       n->data_dir);
		} else if (rv != RAFT_CANTBOOTSTRAP) {
			snprintf(err, errlen, "raft bootstrap in %s: %s",
				 n->data_dir, raft_errmsg(&n->raft));
			return Q53_EINVAL;
		}
	}
	rv = raft_start(&n->raft);
	if (rv != 0) {
		snprintf(err, errlen, "raft start (%s): %s", n->data_dir,
			 raft_errmsg(&n->raft));
		return Q53_EINVAL;
	}
	rv = api_server_start(n->api);
	if (rv != 0) {
		snprintf(err, errlen, "API: %s", api_server_errmsg(n->api));
		return rv;
	}
	uv_check_start(&n->check, cn_on_check);
	uv_timer_start(&n->tick, cn_on_tick, CN_TICK_MS, CN_TICK_MS);
	rv = cn_health_start(n);
	if (rv != 0) {
		snprintf(err, errlen, "health prober: %s", q53_strerror(rv));
		return rv;
	}
	if (cn_config_server(n, n->id) == NULL && n->join != NULL) {
		n->join_state = CN_JOIN_ASK;
		n->join_due = uv_now(n->loop);
		snprintf(n->join_target, sizeof(n->join_target), "%s", n->join);
		cn_log(n, "joining via %s", n->join);
	} else {
		cn_start_serving(n);
	}
	cn_log(n, "raft %s, API %s, FSM index %llu", n->raft_url,
	       n->api_address, (unsigned long long)control_fsm_applied(n->fsm));
	return 0;
}

/* --- close ----------------------------------------------------------------
 */

static void cn_free(struct cluster_node *n)
{
	void (*cb)(void *) = n->close_cb;
	void *data = n->close_data;

	cn_zones_clear(n);
	free(n->zones);
	cn_health_free(n);
	q53_fsm_log_close(&n->log);
	if (n->fsm != NULL)
		control_fsm_free(n->fsm);
	for (size_t i = 0; i < n->n_nameservers; i++)
		free(n->nameservers[i]);
	free(n->nameservers);
	free(n->data_dir);
	free(n->api_address);
	free(n->dns_address);
	free(n->join);
	free(n->name);
	free(n);
	if (cb != NULL)
		cb(data);
}

static void cn_close_part(struct cluster_node *n)
{
	if (--n->close_pending == 0)
		cn_free(n);
}

static void cn_handle_closed(uv_handle_t *h)
{
	cn_close_part(h->data);
}

static void cn_api_closed(void *data)
{
	cn_close_part(data);
}

static void cn_rpc_closed(void *data)
{
	cn_close_part(data);
}

static void cn_prober_closed(void *data)
{
	cn_close_part(data);
}

static void cn_webhook_closed(void *data)
{
	cn_close_part(data);
}

static void cn_raft_closed(struct raft *r)
{
	struct cluster_node *n = r->data;
	struct cn_submit *s;

	q53_raft_io_release(&n->io);
	n->raft_closed = true;
	/* Anything raft did not call back is answered now. */
	while ((s = n->submits) != NULL) {
		cn_submit_unlink(n, s);
		s->done(s, RAFT_SHUTDOWN, NULL);
		free(s);
	}
	if (n->member_op != NULL)
		cn_member_end(n->member_op, API_ERR_UNAVAILABLE, "%s",
			      "node is shutting down");
	cn_close_part(n);
}

void cluster_node_close(struct cluster_node *n, void (*cb)(void *data),
			void *data)
{
	n->closing = true;
	n->close_cb = cb;
	n->close_data = data;
	n->close_pending = 1; /* this function's own reference */
	cn_waiting_run(n);    /* answers every waiting write */
	if (n->member_op != NULL && n->member_op->step == CN_STEP_ASSIGN_DUE)
		cn_member_end(n->member_op, API_ERR_UNAVAILABLE, "%s",
			      "node is shutting down");
	if (n->api != NULL) {
		n->close_pending++;
		api_server_close(n->api, cn_api_closed, n);
		n->api = NULL;
	}
	if (n->prober != NULL) {
		n->close_pending++;
		cn_health_close(n, cn_prober_closed, n);
	}
	if (n->webhook != NULL) {
		n->close_pending++;
		cn_webhook_close(n, cn_webhook_closed, n);
	}
	if (n->rpc != NULL) {
		n->close_pending++;
		member_rpc_close(n->rpc, cn_rpc_closed, n);
		n->rpc = NULL;
	}
	if (n->raft_inited) {
		n->close_pending++;
		raft_close(&n->raft, cn_raft_closed);
	} else if (n->io_inited) {
		q53_raft_io_release(&n->io);
	}
	if (n->handles_init) {
		n->close_pending += 2;
		uv_close((uv_handle_t *)&n->check, cn_handle_closed);
		uv_close((uv_handle_t *)&n->tick, cn_handle_closed);
	}
	cn_close_part(n);
}
