/* The request edge (see api_edge.h): wiring of the API server, the backend
 * halves, write routing and change tracking. */
#include "node/api/api_edge.h"

#include <stdio.h>
#include <stdlib.h>

#include "cluster/api_msg.h"
#include "node/api/change_status.h"
#include "node/api/peer_admit.h"
#include "node/api/write_router.h"
#include "node/api/zone_api.h"
#include "node/common/errcode.h"

/* Requests a node answers concurrently (NNG contexts of its API socket).
 * Every write waiting for its commit holds one, on the node that took it
 * and, when forwarded, on the leader too: with the server's default of 64
 * the whole cluster had at most 64 writes on their way, so the write rate
 * was bounded by 64 / commit latency however the proposals were grouped
 * (issue 8). A slot is an nng_ctx + nng_aio; a request's memory exists
 * only while it is received (NNG_OPT_RECVMAXSZ still bounds each one). */
#define API_EDGE_MAX_INFLIGHT 1024

/* The NNG API's callers, by source IP (node/api/peer_admit.h). */
static bool edge_admit(void *data, const char *peer_ip,
		       const Q53__Api__Request *req, char *why, size_t why_len)
{
	struct api_edge *e = data;

	uint64_t now;

	if (peer_admit(e->ops.configuration(e->ops.data), e->fsm, peer_ip, req,
		       why, why_len))
		return true;
	/* One line a second at most, with the number left out. */
	now = uv_now(e->ops.loop);
	if (e->denied_logged_ms != 0 && now - e->denied_logged_ms < 1000) {
		e->denied_unlogged++;
		return false;
	}
	fprintf(stderr,
		"q53d[%llu]: API: refused %s from %s: %s (%llu more refused "
		"since the last report)\n",
		(unsigned long long)e->id, api_msg_op_name(req->body_case),
		peer_ip, why, e->denied_unlogged);
	e->denied_logged_ms = now != 0 ? now : 1;
	e->denied_unlogged = 0;
	return false;
}

int api_edge_init(struct api_edge **out, uv_loop_t *loop,
		  const struct api_edge_config *c, char *err, size_t errlen)
{
	struct api_server_config api_cfg = {0};
	struct write_router_config wr = {0};
	struct change_status_config cs = {0};
	struct api_backend backend;
	struct api_edge *e;
	int rv;

	*out = e = calloc(1, sizeof(*e));
	if (e == NULL)
		goto nomem;
	e->ops = c->ops;
	e->id = c->ops.node_id;
	e->fsm = c->ops.fsm;
	e->api_address = c->api_address;
	e->geoip_sha256 = c->geoip_sha256;
	e->geo = c->geo;
	e->nameservers = (char **)c->nameservers;
	e->n_nameservers = c->n_nameservers;
	e->zone_record_limit = c->zone_record_limit;
	e->rpc = c->rpc;
	e->peer_tls = c->tls != NULL;
	e->member_add = c->member_add;
	e->member_remove = c->member_remove;
	e->data = c->data;
	wr.ops = c->ops;
	wr.rpc = c->rpc;
	wr.execute = zone_api_execute;
	wr.data = e;
	cs.ops = c->ops;
	cs.rpc = c->rpc;
	if (write_router_new(&e->router, &wr) != 0 ||
	    change_status_new(&e->changes, &cs) != 0)
		goto nomem;
	zone_api_backend(&backend);
	backend.data = e;
	api_cfg.listen = c->api_address;
	api_cfg.max_inflight = API_EDGE_MAX_INFLIGHT;
	api_cfg.admit = edge_admit;
	api_cfg.tls = c->tls;
	api_cfg.max_connections = c->max_connections;
	api_cfg.idle_ms = c->idle_ms;
	api_cfg.admit_data = e;
	rv = api_server_init(&e->api, loop, &backend, &api_cfg);
	if (rv != 0) {
		snprintf(err, errlen, "API server: %s", q53_strerror(rv));
		return rv;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return Q53_ENOMEM;
}

int api_edge_start(struct api_edge *e, char *err, size_t errlen)
{
	int rv = api_server_start(e->api);

	if (rv != 0)
		snprintf(err, errlen, "API: %s", api_server_errmsg(e->api));
	return rv;
}

struct api_server *api_edge_server(struct api_edge *e)
{
	return e->api;
}

void api_edge_after_apply(struct api_edge *e)
{
	if (e->router != NULL)
		write_router_after_apply(e->router);
}

void api_edge_tick(struct api_edge *e)
{
	if (e->router != NULL)
		write_router_tick(e->router);
	if (e->api != NULL)
		api_server_tick(e->api);
}

void api_edge_close(struct api_edge *e, void (*cb)(void *data), void *data)
{
	struct api_server *api = e->api;

	if (e->router != NULL)
		write_router_tick(e->router); /* answers every waiting write */
	e->api = NULL;
	if (api == NULL) {
		cb(data);
		return;
	}
	api_server_close(api, cb, data);
}

void api_edge_free(struct api_edge *e)
{
	if (e == NULL)
		return;
	write_router_free(e->router);
	change_status_free(e->changes);
	free(e);
}
