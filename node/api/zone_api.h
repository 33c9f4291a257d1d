/* The zone, change and node operations of the request edge (zone_api.c).
 * Loop thread only. */
#ifndef Q53_NODE_API_ZONE_API_H
#define Q53_NODE_API_ZONE_API_H

#include "node/api/api.h"

/* Fills b's zone, change, node and status operations (b->data: the
 * struct api_edge), and through health_api_backend the health ones. */
void zone_api_backend(struct api_backend *b);
/* Runs a write on the leader, as write_router_submit decided (data: the
 * struct api_edge): zone writes, membership, get-change, health. */
void zone_api_execute(void *data, struct api_call *call);

#endif
