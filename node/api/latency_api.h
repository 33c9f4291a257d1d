/* The latency table on the request edge (latency_api.c): latency_set and
 * latency_delete are writes, routed to the leader and proposed as one
 * SetLatencyRows command each (command 22), answered after commit;
 * latency_list reads this node's FSM (the API rows and the prober-measured
 * site rows). Loop thread only. */
#ifndef Q53_NODE_API_LATENCY_API_H
#define Q53_NODE_API_LATENCY_API_H

#include "node/api/api.h"

struct api_edge;

/* Fills b's latency operations (b->data: the struct api_edge). */
void latency_api_backend(struct api_backend *b);
/* The writes, on the leader. */
void latency_api_execute(struct api_edge *n, struct api_call *call);

#endif
