/* A hosted zone's limit on the request edge (limit_api.c): Route 53's
 * GetHostedZoneLimit (MAX_RRSETS_BY_ZONE: the limit and the zone's count of
 * record sets) reads this node's FSM (the leader's when the zone is not
 * applied here yet); setting it (q53 zone limit, an administrator's limit
 * increase) is a write, routed to the leader and proposed as one
 * SetHostedZoneLimit command (type 28), answered after commit. Loop thread
 * only. */
#ifndef Q53_NODE_API_LIMIT_API_H
#define Q53_NODE_API_LIMIT_API_H

#include "node/api/api.h"

struct api_edge;

/* Fills b's limit operations (b->data: the struct api_edge). */
void limit_api_backend(struct api_backend *b);
/* The write, and reads routed to the leader, on the leader. */
void limit_api_execute(struct api_edge *n, struct api_call *call);

#endif
