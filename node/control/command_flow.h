/* The Traffic Flow commands (fsm_log types 24..27, command_version 7;
 * proto/command.proto TrafficPolicy, TrafficPolicyChange,
 * TrafficPolicyInstance): encoded by the API edge from a typed policy
 * (the document is parsed once, there), decoded and applied to the zone
 * store by the FSM (control_fsm.c), and the same messages as the
 * snapshot's fields 12 and 13. Decoding checks shape only; the store
 * checks meaning (traffic_policy_check and zone_store_flow.h). */
#ifndef Q53_NODE_CONTROL_COMMAND_FLOW_H
#define Q53_NODE_CONTROL_COMMAND_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/control/command.h"
#include "node/control/traffic_policy.h"
#include "node/control/zone_store.h"

enum command_instance_action {
	COMMAND_INSTANCE_CREATE = 1,
	COMMAND_INSTANCE_UPDATE = 2,
	COMMAND_INSTANCE_DELETE = 3,
};

/* [24]: policy is the typed document (borrowed). */
struct command_traffic_policy {
	const char *id;
	uint32_t version;
	const char *name;
	const char *comment;
	const char *document;
	const struct traffic_policy *policy;
	uint64_t time_ms;
};

/* [25] (comment) and [26] (delete). */
struct command_traffic_policy_change {
	const char *id;
	uint32_t version;
	const char *comment;
	uint64_t time_ms;
};

/* [27] */
struct command_traffic_instance {
	enum command_instance_action action;
	const char *id;
	const char *zone_id;
	const uint8_t *name; /* wire; create only */
	size_t name_len;
	uint32_t ttl;
	const char *policy_id;
	uint32_t policy_version;
	uint64_t time_ms;
};

int command_encode_traffic_policy(const struct command_traffic_policy *c,
				  struct command_payload *out);
/* type 25 or 26. */
int command_encode_traffic_policy_change(
    uint16_t type, const struct command_traffic_policy_change *c,
    struct command_payload *out);
int command_encode_traffic_instance(const struct command_traffic_instance *c,
				    struct command_payload *out);

/* Applies payload[0..len) of type (24..27, untrusted) to s: 0; a
 * rejection (Q53_EINVAL, Q53_ENOENT, Q53_EEXIST, Q53_ELIMIT) with
 * "Code: message" in err; Q53_EMALF (not a message of that type);
 * Q53_ENOMEM. *zone_id (room for ZONE_STORE_ID_MAX + 1): the zone whose
 * answers it changes ("" for none), set before s changes, on every
 * outcome but Q53_EMALF. dry_run: only *zone_id and the decoding. */
int command_flow_apply(struct zone_store *s, uint16_t type,
		       const uint8_t *payload, size_t len, bool dry_run,
		       char *zone_id, char *err, size_t errlen);

/* The snapshot's fields 12 and 13: messages pointing into s (valid while
 * s is unchanged), held by *out until command_flow_pb_free. */
struct Q53__Command__TrafficPolicy;
struct Q53__Command__TrafficPolicyInstance;
struct command_flow_pb {
	struct Q53__Command__TrafficPolicy **pol;
	size_t npol;
	struct Q53__Command__TrafficPolicyInstance **inst;
	size_t ninst;
	void *mem; /* private */
};
int command_flow_pb_fill(const struct zone_store *s,
			 struct command_flow_pb *out);
void command_flow_pb_free(struct command_flow_pb *x);
/* Loads the snapshot's policies, then its instances, into s (whose zones
 * are loaded). 0, Q53_EMALF (a message the store refuses), Q53_ENOMEM. */
int command_flow_restore(
    struct zone_store *s, struct Q53__Command__TrafficPolicy *const *pol,
    size_t npol, struct Q53__Command__TrafficPolicyInstance *const *inst,
    size_t ninst);

#endif
