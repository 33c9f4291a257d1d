/* The contract every replicated state machine of the node fulfils (house
 * style #12): a pure function of the committed log. No I/O, no clock, no
 * randomness, no global state: the same commands in the same order give the
 * same state and the same results on every node, and snapshot / restore
 * mirror each other (restore(snapshot(S)) == S, byte for byte when
 * snapshotted again).
 *
 * The FSM never sees raft: node/raft/fsm_log.c frames commands (type,
 * client session, padding), filters duplicates and adapts this interface to
 * struct raft_fsm. Payloads are opaque here (later: one protobuf command).
 *
 * Memory crossing this interface is raft_malloc'd / raft_free'd, so that
 * raft_heap_set can make any of it fail in tests (house style #15). */
#ifndef Q53_NODE_RAFT_FSM_H
#define Q53_NODE_RAFT_FSM_H

#include <stddef.h>
#include <stdint.h>

struct q53_fsm {
	void *data; /* the implementation's state */

	/* Apply one command of `type` with `payload` (len bytes, borrowed:
	 * valid during the call only). All or nothing:
	 * - 0: the command was applied; *code is the FSM's verdict (0 = done,
	 *   anything else = rejected as a no-op, e.g. a failed precondition)
	 *   and *out / *out_len the result body (raft_malloc'd, ownership
	 *   passes to the caller; NULL / 0 for none).
	 * - Q53_ENOMEM: nothing changed; the same command is offered again
	 *   later.
	 * No other error: a command the FSM cannot make sense of is a no-op
	 * with a non-zero *code, identically on every node. */
	int (*apply)(struct q53_fsm *fsm, uint16_t type, const uint8_t *payload,
		     size_t len, int32_t *code, uint8_t **out, size_t *out_len);

	/* Optional: apply as above, given also `decoded`, the typed command
	 * (the FSM's own type) that this node encoded payload from, so the
	 * FSM need not decode payload again (q53_fsm_log_offer). The state
	 * and result must be exactly apply(payload)'s: decoded is used only
	 * for a command this node proposed, identified by its session ids,
	 * and its type must round-trip through the encoding unchanged. */
	int (*apply_decoded)(struct q53_fsm *fsm, uint16_t type,
			     const void *decoded, const uint8_t *payload,
			     size_t len, int32_t *code, uint8_t **out,
			     size_t *out_len);

	/* Serialise the whole state into *buf / *len (raft_malloc'd, caller
	 * frees with raft_free; *buf may be NULL when *len is 0). 0 or
	 * Q53_ENOMEM. The state is not changed. */
	int (*snapshot)(struct q53_fsm *fsm, uint8_t **buf, size_t *len);

	/* Replace the whole state with the one serialised in buf (borrowed).
	 * All or nothing: 0, or Q53_EMALF / Q53_ENOMEM with the state
	 * unchanged. */
	int (*restore)(struct q53_fsm *fsm, const uint8_t *buf, size_t len);

	/* Optional (all three or none): the snapshot in two steps, so that
	 * the costly part runs on another thread while apply goes on.
	 * - capture, on the FSM's thread: a view of the whole state as it is
	 *   now (*cap, opaque), cheap next to encoding it; later applies do
	 *   not change it (they may fail with Q53_ENOMEM while it exists, as
	 *   any apply may). No restore and no free of the FSM until it is
	 *   released (raft installs no snapshot while it takes one, and its
	 *   close waits for the thread). 0 or Q53_ENOMEM.
	 * - encode, on any thread, with no other call on cap at the same
	 *   time: *buf / *len exactly as snapshot() would have made them at
	 *   capture time (raft_malloc'd). Touches only cap. 0 or Q53_ENOMEM.
	 * - release, on the FSM's thread: frees cap (encoded or not). */
	int (*snapshot_capture)(struct q53_fsm *fsm, void **cap);
	int (*snapshot_encode)(void *cap, uint8_t **buf, size_t *len);
	void (*snapshot_release)(struct q53_fsm *fsm, void *cap);
};

#endif
