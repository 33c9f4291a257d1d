/* The request edge of a node: the client API server (node/api/api.h) and
 * its backend: zone and health requests (zone_api.c, health_api.c), write
 * routing to the leader (write_router.h) and change tracking
 * (change_status.h). It reaches Raft and the FSM only through the struct
 * cluster_ops it is given, and membership through two callbacks.
 * Lifecycle: api_edge_init -> api_edge_start -> api_edge_close(cb) ->
 * api_edge_free (after cb and after raft closed). Loop thread only. */
#ifndef Q53_NODE_API_API_EDGE_H
#define Q53_NODE_API_API_EDGE_H

#include <stddef.h>
#include <stdint.h>

#include "node/api/api.h"
#include "node/api/edge_state.h"
#include "node/runtime/cluster_ops.h"

struct member_rpc;

struct api_edge_config {
	struct cluster_ops ops;
	struct member_rpc *rpc;	 /* borrowed */
	const char *api_address; /* HOST:PORT to listen on (borrowed) */
	nng_tls_config *tls;	 /* mutual TLS (server mode), NULL: plain TCP */
	/* the listener's connection cap and idle timeout, 0 = defaults */
	unsigned max_connections;
	unsigned idle_ms;
	const char *geoip_sha256; /* --geoip file's, NULL: none (borrowed) */
	const struct geo_db *geo; /* the --geoip file, NULL: none (borrowed) */
	char *const *nameservers; /* of new zones (borrowed) */
	size_t n_nameservers;
	/* MAX_RRSETS_BY_ZONE of new zones (q53d --zone-record-limit): 0
	 * none. */
	uint64_t zone_record_limit;
	api_edge_member_add member_add;
	api_edge_member_remove member_remove;
	void *data; /* of member_add / member_remove */
};

/* Sets up the API server (nothing listens). 0 or a q53_err with err; on
 * failure *out may be set: close it. */
int api_edge_init(struct api_edge **out, uv_loop_t *loop,
		  const struct api_edge_config *config, char *err,
		  size_t errlen);
/* Listens. 0 or a q53_err with err. */
int api_edge_start(struct api_edge *e, char *err, size_t errlen);
/* The API server (for other edges of the node: api_server_submit). */
struct api_server *api_edge_server(struct api_edge *e);
/* After the FSM applied entries: forwarded writes waiting to be applied
 * here. */
void api_edge_after_apply(struct api_edge *e);
/* The node's tick: writes waiting for a leader. */
void api_edge_tick(struct api_edge *e);
/* Answers the writes waiting for a leader and stops the API server (calls
 * it holds are answered), then cb(data). */
void api_edge_close(struct api_edge *e, void (*cb)(void *data), void *data);
/* Frees e: after close's cb and once no proposal or forward holds a call
 * (raft and member_rpc closed). */
void api_edge_free(struct api_edge *e);

#endif
