/* Query logging configs on the request edge (query_log_api.c):
 * CreateQueryLoggingConfig and DeleteQueryLoggingConfig are writes,
 * routed to the leader and proposed as one command each (fsm_log type 34,
 * node/control/query_log_table.h), answered after commit;
 * ListQueryLoggingConfigs reads this node's FSM. Loop thread only. */
#ifndef Q53_NODE_API_QUERY_LOG_API_H
#define Q53_NODE_API_QUERY_LOG_API_H

#include "node/api/api.h"

struct api_edge;

/* Fills b->query_logging (b->data: the struct api_edge). */
void query_log_api_backend(struct api_backend *b);
/* The writes, on the leader. */
void query_log_api_execute(struct api_edge *n, struct api_call *call);

#endif
