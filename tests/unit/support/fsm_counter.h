/* A tiny struct q53_fsm for tests of the replication machinery: it keeps the
 * list of applied command ids (the first 8 bytes of each payload,
 * little-endian; 0 when shorter) and a running FNV-1a hash of every applied
 * (type, payload). Two nodes with the same list and hash applied the same
 * commands in the same order.
 *
 * Commands: Q53_FSM_COUNTER_APPEND appends and answers code 0 with 8 bytes:
 * the new length of the list (little-endian u64). Any other type is
 * rejected as a no-op with code Q53_FSM_COUNTER_REJECTED and no body.
 * All memory comes from raft_malloc (failures are injected there). */
#ifndef Q53_TESTS_UNIT_SUPPORT_FSM_COUNTER_H
#define Q53_TESTS_UNIT_SUPPORT_FSM_COUNTER_H

#include <stddef.h>
#include <stdint.h>

#include "node/raft/fsm.h"

#define Q53_FSM_COUNTER_APPEND	 1
#define Q53_FSM_COUNTER_REJECTED 22

struct q53_fsm_counter {
	struct q53_fsm fsm; /* hand &c->fsm to q53_fsm_log_init */
	uint64_t *ids;	    /* applied ids, in order */
	size_t n;
	size_t cap;
	uint64_t hash;
};

/* Set up an empty counter (caller-owned memory); cannot fail. */
void q53_fsm_counter_init(struct q53_fsm_counter *c);

/* Free the id list. */
void q53_fsm_counter_close(struct q53_fsm_counter *c);

#endif
