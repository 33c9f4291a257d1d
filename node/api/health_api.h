/* The health-check operations of the request edge (health_api.c).
 * Loop thread only. */
#ifndef Q53_NODE_API_HEALTH_API_H
#define Q53_NODE_API_HEALTH_API_H

#include "node/api/api.h"

struct api_edge;

/* Fills b's health-check operations (b->data: the struct api_edge). */
void health_api_backend(struct api_backend *b);
/* Health-check writes and leader reads on the leader. */
void health_api_execute(struct api_edge *n, struct api_call *call);

#endif
