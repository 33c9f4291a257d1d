/* Log compaction after a large entry: when should raft snapshot so that it
 * can drop an entry of several megabytes (a zone import: ~35 B per record
 * in raft's in-memory log, and as much again in raft_uv's write buffer of
 * the open segment, on every node, until the next regular snapshot, which
 * a quiet zone may never reach; issue 8: bytes per record at 1M).
 *
 * The host notes the index of such an entry once applied; each loop turn it
 * asks log_compaction_step what to set: raft takes a snapshot past the
 * entry with one trailing entry kept, so that the entry leaves the log.
 * The leader first waits until every other server has stored the entry
 * (it drops what a follower still needs only then), and appends a barrier
 * when nothing comes after the entry (a snapshot is considered only after
 * an apply, and one at the entry itself would keep it as the trailing
 * one). Pure: no raft calls (tests/unit/test_log_compaction.c). */
#ifndef Q53_NODE_RUNTIME_LOG_COMPACTION_H
#define Q53_NODE_RUNTIME_LOG_COMPACTION_H

#include <stdbool.h>
#include <stdint.h>

/* Entries of at least this many bytes are compacted away once applied. */
#define LOG_COMPACTION_ENTRY_BYTES ((uint64_t)1 << 20)

struct log_compaction_state {
	uint64_t target; /* index of the entry to drop; 0: none */
};

struct log_compaction_input {
	bool leader;
	uint64_t last_index; /* raft_last_index */
	/* raft's in-memory log holds the entries after this index
	 * (log.offset): the target is gone once it reaches it, whatever
	 * snapshot did it (one taken while the leader kept the entry for a
	 * joining server keeps it) */
	uint64_t log_offset;
	bool snapshot_running; /* taken or stored right now */
	/* leader: the lowest match index of the other servers (UINT64_MAX
	 * when there are none) */
	uint64_t min_peer_match;
};

struct log_compaction_action {
	bool compact;  /* snapshot threshold 1 (else the configured one) */
	bool keep_one; /* snapshot trailing 1 (else the configured one) */
	bool barrier;  /* leader: append a barrier entry now */
};

/* An entry of len bytes was applied at index. */
void log_compaction_applied(struct log_compaction_state *s, uint64_t index,
			    uint64_t len);

/* What to set this turn; clears the target once the entry left the log. */
struct log_compaction_action
log_compaction_step(struct log_compaction_state *s,
		    const struct log_compaction_input *in);

#endif
