/* The access-key and audit operations of the request edge (key_api.c):
 * `q53 key create|list|delete` and `q53 audit`. Creating and deleting are
 * writes, routed to the leader; there the policy is parsed once
 * (node/control/iam_policy.h), the key drawn (access_key_gen.h) and a
 * CreateAccessKey / DeleteAccessKey proposed. Listing keys (never their
 * secrets) and changes reads this node's FSM. Loop thread only. */
#ifndef Q53_NODE_API_KEY_API_H
#define Q53_NODE_API_KEY_API_H

#include "node/api/api.h"

struct api_edge;

/* Fills b's access-key and audit operations (b->data: the api_edge). */
void key_api_backend(struct api_backend *b);
/* The writes, on the leader. */
void key_api_execute(struct api_edge *n, struct api_call *call);

#endif
