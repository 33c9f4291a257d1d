/* Change tracking of the request edge (see change_status.c): INSYNC of
 * changes and the members' applied indexes, from a status fan-out.
 * Loop thread only. */
#ifndef Q53_NODE_API_CHANGE_STATUS_H
#define Q53_NODE_API_CHANGE_STATUS_H

#include "node/control/control_fsm.h"
#include "node/runtime/cluster_ops.h"

struct api_call;
struct change_status;
struct member_rpc;

struct change_status_config {
	struct cluster_ops ops;
	struct member_rpc *rpc; /* borrowed */
};

/* 0 or Q53_ENOMEM. */
int change_status_new(struct change_status **out,
		      const struct change_status_config *config);
/* Answers call (a GetChange) for change, applied here. */
void change_status_get(struct change_status *c, struct api_call *call,
		       const struct control_fsm_change *change);
/* The highest change index every voter reported applied (INSYNC below). */
uint64_t change_status_insync(const struct change_status *c);
/* Answers call (a ListNodes). */
void change_status_list_nodes(struct change_status *c, struct api_call *call);
void change_status_free(struct change_status *c);

#endif
