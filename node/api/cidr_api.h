/* CIDR collections on the request edge (cidr_api.c): CreateCidrCollection,
 * ChangeCidrCollection and DeleteCidrCollection are writes, routed to the
 * leader and proposed as one typed command each (fsm_log types 20, 21),
 * answered after commit; the listings read this node's FSM (the leader's
 * when the collection is not applied here yet), paged by the next item's
 * key. Loop thread only. */
#ifndef Q53_NODE_API_CIDR_API_H
#define Q53_NODE_API_CIDR_API_H

#include "node/api/api.h"

struct api_edge;

/* Fills b->cidr (b->data: the struct api_edge). */
void cidr_api_backend(struct api_backend *b);
/* The writes, and reads routed to the leader, on the leader. */
void cidr_api_execute(struct api_edge *n, struct api_call *call);

#endif
