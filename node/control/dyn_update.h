/* RFC 2136 UPDATE applied to a hosted zone (command 33): the
 * prerequisites (section 3.2) checked against the zone as it is at apply,
 * then the updates (section 3.4.2) turned into one change batch (UPSERT
 * of every touched record set's final records, DELETE of a set left
 * empty) that the store applies with Route 53's rules, all or nothing.
 * Pure (q53_fsm). The apex SOA is the store's (its serial moves on every
 * change): updates of it are ignored, as are deletions of the apex NS.
 * Names holding routing record sets (SetIdentifier) are the API's: an
 * update touching one is REFUSED. */
#ifndef Q53_NODE_CONTROL_DYN_UPDATE_H
#define Q53_NODE_CONTROL_DYN_UPDATE_H

#include <stddef.h>

#include "node/control/change_batch.h"
#include "node/control/command.h"
#include "node/control/zone_store.h"

/* DNS rcodes of an UPDATE's answer. */
#define DYN_RCODE_FORMERR  1
#define DYN_RCODE_SERVFAIL 2
#define DYN_RCODE_NXDOMAIN 3
#define DYN_RCODE_REFUSED  5
#define DYN_RCODE_YXDOMAIN 6
#define DYN_RCODE_YXRRSET  7
#define DYN_RCODE_NXRRSET  8
#define DYN_RCODE_NOTZONE  10

struct dyn_update_plan {
	struct rrset_change *changes;
	size_t n;
	void *mem; /* private */
};

/* 0: out holds the batch (possibly empty; release with
 * dyn_update_plan_free); a positive DNS rcode (DYN_RCODE_*) with err
 * saying why; or Q53_ENOMEM. */
int dyn_update_plan(const struct zone_store_info *info,
		    const struct command_dynamic_update *u,
		    struct dyn_update_plan *out, char *err, size_t errlen);
void dyn_update_plan_free(struct dyn_update_plan *p);
/* "NXRRSET", ... for a DYN_RCODE_*. */
const char *dyn_rcode_name(int rcode);
/* The DYN_RCODE_* of a name dyn_rcode_name gave, DYN_RCODE_REFUSED for
 * any other error name. */
int dyn_rcode_of(const char *name);

#endif
