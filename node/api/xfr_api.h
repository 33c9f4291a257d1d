/* Outbound zone transfers on the request edge (xfr_api.c):
 * SetZoneTransfer is a write, routed to the leader, which generates the
 * secrets the user did not give (RAND_bytes) and proposes one typed
 * command (command_encode_set_zone_transfer), answered after commit with
 * the configuration, secrets included; GetZoneTransfer reads this node's
 * FSM. Loop thread only. */
#ifndef Q53_NODE_API_XFR_API_H
#define Q53_NODE_API_XFR_API_H

#include "node/api/api.h"

struct api_edge;

/* Fills b's zone_transfer (b->data: the struct api_edge). */
void xfr_api_backend(struct api_backend *b);
/* The write on the leader. */
void xfr_api_execute(struct api_edge *n, struct api_call *call);

#endif
