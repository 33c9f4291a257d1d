/* The request edge's own state (node/api/api_edge.h), read by its halves
 * zone_api.c and health_api.c as n->...; header only, so the halves do
 * not depend on the edge's wiring (api_edge.c), which depends on them. */
#ifndef Q53_NODE_API_EDGE_STATE_H
#define Q53_NODE_API_EDGE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "node/runtime/cluster_ops.h"

struct api_server;
struct geo_db;
struct change_status;
struct member_rpc;
struct write_router;

/* Membership, provided by the node (node/runtime/membership.h). */
typedef void (*api_edge_member_add)(void *data, struct api_call *call,
				    uint64_t id, const char *address,
				    const char *api, const char *dns,
				    const char *name, const char *geoip_path,
				    const char *geoip_sha256, const char *site,
				    const char *site_region);
typedef void (*api_edge_member_remove)(void *data, struct api_call *call,
				       uint64_t id);

struct api_edge {
	struct cluster_ops ops;
	uint64_t id;
	struct control_fsm *fsm;
	const char *api_address;
	const char *geoip_sha256; /* NULL: no --geoip */
	const struct geo_db *geo; /* the --geoip file (test-answer), or NULL */
	char **nameservers;
	size_t n_nameservers;
	uint64_t zone_record_limit; /* of new zones, 0: none */
	struct member_rpc *rpc;
	struct api_server *api;
	struct write_router *router;
	struct change_status *changes;
	api_edge_member_add member_add;
	api_edge_member_remove member_remove;
	void *data;
	bool peer_tls; /* members talk mutual TLS (status: peer_transport) */
	/* NNG requests refused by peer_admit: last logged, left out since */
	uint64_t denied_logged_ms;
	unsigned long long denied_unlogged;
};

#endif
