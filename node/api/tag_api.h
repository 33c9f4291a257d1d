/* Hosted-zone comments and the tags of zones and health checks on the
 * request edge (tag_api.c): UpdateHostedZoneComment and ChangeTags are
 * writes, routed to the leader and proposed as one typed command each
 * (command_encode_update_zone_comment / _change_tags), answered after
 * commit; ListTags reads this node's FSM (the leader's when a resource is
 * not applied here yet). Loop thread only. */
#ifndef Q53_NODE_API_TAG_API_H
#define Q53_NODE_API_TAG_API_H

#include "node/api/api.h"

struct api_edge;

/* Fills b's comment and tag operations (b->data: the struct api_edge). */
void tag_api_backend(struct api_backend *b);
/* The writes, and reads routed to the leader, on the leader. */
void tag_api_execute(struct api_edge *n, struct api_call *call);

#endif
