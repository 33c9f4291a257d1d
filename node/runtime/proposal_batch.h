/* Grouping this node's proposals into Raft entries under load.
 *
 * Commands to propose arrive one by one (API writes, health votes, seeding)
 * as format-1 frames (node/raft/fsm_log.h). While an entry of this queue is
 * still on its way (appended, replicated, applied), new frames wait here;
 * at the end of the loop turn (proposal_batch_flush, from the node's
 * uv_check) everything waiting goes out as ONE entry: a format-2 batch, or
 * the frame itself when it is alone. So an idle node proposes at once, and
 * a busy one pays one fsync, one replication round and one publication per
 * batch instead of per command. Every command keeps its own client session
 * and result: the raft_apply callback fans the per-command results of the
 * entry out to each proposal's done callback, in order.
 *
 * Limits per entry: PROPOSAL_BATCH_MAX_COMMANDS commands and
 * PROPOSAL_BATCH_MAX_BYTES of frames (a bigger frame goes alone).
 *
 * Loop thread only; nothing here locks. */
#ifndef Q53_NODE_RUNTIME_PROPOSAL_BATCH_H
#define Q53_NODE_RUNTIME_PROPOSAL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <raft.h>

#include "node/raft/fsm_log.h"

#define PROPOSAL_BATCH_MAX_COMMANDS 256
#define PROPOSAL_BATCH_MAX_BYTES    ((size_t)4 << 20)
#define PROPOSAL_BATCH_MAX_INFLIGHT 4 /* entries of the queue on their way */

/* status: raft's (0 = committed and applied; res valid during the call
 * only, the result of this proposal's command). Also called with an error
 * and res NULL when the entry could not be proposed (raft_apply failed). */
typedef void (*proposal_batch_done)(void *arg, int status,
				    const struct q53_fsm_log_result *res);

struct proposal_batch_item;
struct proposal_batch_entry;

/* Caller-owned; fields are private except the counters. */
struct proposal_batch {
	struct raft *raft;
	struct proposal_batch_item *head, *tail; /* waiting */
	unsigned n_waiting;
	struct proposal_batch_entry *inflight; /* proposed, not called back */
	unsigned n_inflight;
	uint64_t entries;  /* proposed so far */
	uint64_t commands; /* in those entries */
};

/* Set up an empty queue proposing to raft (borrowed). Cannot fail. */
void proposal_batch_init(struct proposal_batch *q, struct raft *raft);

/* Queue `frame` (from q53_fsm_log_encode; ownership passes to the queue,
 * also on failure). done(arg, ...) is called exactly once, from a later
 * proposal_batch_flush or raft_apply callback, unless proposal_batch_close
 * runs first. Returns 0 or Q53_ENOMEM (frame freed, done not called). */
int proposal_batch_add(struct proposal_batch *q, struct raft_buffer frame,
		       proposal_batch_done done, void *arg);

/* Propose what waits, as far as the in-flight limit allows. Once per loop
 * turn, on the leader. */
void proposal_batch_flush(struct proposal_batch *q);

/* Answer every waiting proposal with status (e.g. RAFT_NOTLEADER after a
 * lost leadership); entries in flight are raft's to call back. */
void proposal_batch_fail_waiting(struct proposal_batch *q, int status);

/* After raft_close's callback: free everything without calling done (the
 * caller answers its own proposals). */
void proposal_batch_close(struct proposal_batch *q);

#endif
