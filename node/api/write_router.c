/* Write routing (see write_router.h). */
#include "node/api/write_router.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "cluster/member_rpc.h"
#include "node/api/api.h"
#include "node/common/errcode.h"
#include "node/control/control_fsm.h"
#include "proto/api.pb-c.h"

#define CN_FORWARD_TIMEOUT_MS 8000

struct write_router {
	struct cluster_ops ops;
	struct member_rpc *rpc;
	void (*execute)(void *data, struct api_call *call);
	void *data;
	struct cn_write *waiting;
	struct cn_write
	    *catching;		  /* answered by the leader, not applied here */
	uint64_t scanned_applied; /* the FSM index catching was last
				     scanned at */
};

/* A write waiting for a leader (election) or forwarded to it. */
struct cn_write {
	struct write_router *n;
	struct cn_write *next; /* waiting list */
	struct api_call *call;
	uint64_t deadline; /* uv_now: give up waiting for a leader */
	/* Catching up: the leader's answer, sent once this node applied
	 * write_index (or at the deadline). */
	uint8_t *answer;
	size_t answer_len;
	uint64_t write_index;
};

/* How long a forwarded write's answer waits for this node to apply it. */
#define CN_CATCH_UP_MS 2000

int write_router_new(struct write_router **out,
		     const struct write_router_config *config)
{
	struct write_router *r = calloc(1, sizeof(*r));

	*out = r;
	if (r == NULL)
		return Q53_ENOMEM;
	r->ops = config->ops;
	r->rpc = config->rpc;
	r->execute = config->execute;
	r->data = config->data;
	return 0;
}

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
	struct write_router *n = w->n;

	if (status == 0) {
		Q53__Api__Response *r =
		    q53__api__response__unpack(NULL, len, buf);
		bool again = r != NULL && r->retryable &&
			     !cluster_closing(&n->ops) &&
			     uv_now(n->ops.loop) < w->deadline &&
			     (strcmp(r->error, API_ERR_NOT_LEADER) == 0 ||
			      strcmp(r->error, API_ERR_UNAVAILABLE) == 0);
		uint64_t index = r != NULL ? r->write_index : 0;
		if (r != NULL)
			q53__api__response__free_unpacked(r, NULL);
		if (again) {
			/* The leader moved: wait for the next one. */
			cn_write_park(w);
			return;
		}
		/* Read-your-writes: what this node answers next (a read)
		 * includes the write it just acknowledged. */
		if (index > control_fsm_applied(n->ops.fsm) &&
		    !cluster_closing(&n->ops) &&
		    (w->answer = malloc(len ? len : 1)) != NULL) {
			memcpy(w->answer, buf, len);
			w->answer_len = len;
			w->write_index = index;
			w->deadline = uv_now(n->ops.loop) + CN_CATCH_UP_MS;
			w->next = n->catching;
			n->catching = w;
			return;
		}
		api_reply_raw(w->call, buf, len);
	} else if (status == -ENOTCONN && !cluster_closing(&n->ops) &&
		   uv_now(n->ops.loop) < w->deadline) {
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
				(unsigned long long)n->ops.node_id);
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
	struct write_router *n = w->n;
	const char *api;

	if (cluster_is_leader(&n->ops)) {
		struct api_call *call = w->call;
		free(w);
		n->execute(n->data, call);
		return true;
	}
	api = cluster_leader_api(&n->ops, NULL);
	if (api != NULL) {
		cn_write_forward(w, api);
		return true;
	}
	return false;
}

static bool cn_write_route(struct write_router *n, struct api_call *call)
{
	struct cn_write *w;
	const char *api;

	if (cluster_closing(&n->ops)) {
		api_reply_error(call, API_ERR_UNAVAILABLE, true,
				"node %llu is shutting down",
				(unsigned long long)n->ops.node_id);
		return false;
	}
	if (cluster_is_leader(&n->ops))
		return true;
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		api_reply_error(call, API_ERR_UNAVAILABLE, true,
				"out of memory");
		return false;
	}
	w->n = n;
	w->call = call;
	w->deadline = uv_now(n->ops.loop) + CLUSTER_NODE_ELECTION_WAIT_MS;
	api = cluster_leader_api(&n->ops, NULL);
	if (api != NULL)
		cn_write_forward(w, api);
	else
		cn_write_park(w);
	return false;
}

static void cn_catching_scan(struct write_router *n)
{
	struct cn_write **pp = &n->catching;
	uint64_t applied = control_fsm_applied(n->ops.fsm);
	uint64_t now = uv_now(n->ops.loop);

	n->scanned_applied = applied;
	while (*pp != NULL) {
		struct cn_write *w = *pp;
		if (w->write_index > applied && now < w->deadline &&
		    !cluster_closing(&n->ops)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		api_reply_raw(w->call, w->answer, w->answer_len);
		free(w->answer);
		free(w);
	}
}

/* Every loop turn: the list only when something was applied since (the
 * deadlines are the tick's; a follower under load holds hundreds of
 * forwarded writes here, and the loop turns far more often than it
 * applies). */
void write_router_after_apply(struct write_router *n)
{
	if (n->catching == NULL ||
	    (control_fsm_applied(n->ops.fsm) == n->scanned_applied &&
	     !cluster_closing(&n->ops)))
		return;
	cn_catching_scan(n);
}

void write_router_tick(struct write_router *n)
{
	cn_catching_scan(n); /* deadlines */
	struct cn_write *list = n->waiting, *next;
	uint64_t now = uv_now(n->ops.loop);

	n->waiting = NULL;
	for (; list != NULL; list = next) {
		next = list->next;
		list->next = NULL;
		if (cluster_closing(&n->ops)) {
			api_reply_error(list->call, API_ERR_UNAVAILABLE, true,
					"node %llu is shutting down",
					(unsigned long long)n->ops.node_id);
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

void write_router_submit(struct write_router *n, struct api_call *call)
{
	if (cn_write_route(n, call))
		n->execute(n->data, call);
}

void write_router_free(struct write_router *r)
{
	free(r);
}
