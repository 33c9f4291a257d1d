/* The Traffic Flow operations of the client API (flow_api.c): every one
 * goes to the leader (reads too, so that a write is read back at once);
 * writes are the typed commands of node/control/command_flow.h, the
 * policy document parsed here, once. */
#ifndef Q53_NODE_API_FLOW_API_H
#define Q53_NODE_API_FLOW_API_H

#include "node/api/api.h"

struct api_edge;

/* On the leader: the TrafficFlowRequest of call. */
void flow_api_execute(struct api_edge *n, struct api_call *call);
/* Registers the backend entry (routes to the leader). */
void flow_api_backend(struct api_backend *b);

#endif
