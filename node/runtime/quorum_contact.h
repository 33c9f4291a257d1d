/* Quorum contact, measured from when each server was last heard from (the
 * raft host notes every message raft receives):
 *   leader:   a majority of the voters (itself included) heard from within
 *             timeout_ms;
 *   follower: the current leader heard from within timeout_ms;
 *   no leader known (candidate, cut off): none.
 * Pure: no clock, no I/O (tests/unit/test_quorum_contact.c). What the
 * anycast announcer (node/anycast/) and `q53 status` read. */
#ifndef Q53_NODE_RUNTIME_QUORUM_CONTACT_H
#define Q53_NODE_RUNTIME_QUORUM_CONTACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct quorum_contact_peer {
	uint64_t id;
	bool voter;
	uint64_t last_ms; /* loop time last heard from, 0 = never */
};

/* peers: raft's configuration (self included, its last_ms ignored).
 * Returns whether this node is in contact with a quorum; *age_ms gets the
 * time since that contact (leader: since the majority-th most recent
 * voter was heard; follower: since the leader was), UINT64_MAX when there
 * was none. */
bool quorum_contact_measure(bool leader, uint64_t self_id, uint64_t leader_id,
			    const struct quorum_contact_peer *peers, size_t n,
			    uint64_t now_ms, uint64_t timeout_ms,
			    uint64_t *age_ms);

#endif
