/* Workarounds for two defects of libraft 0.15.0 (Debian bookworm's version,
 * the one we must link), applied by an io layer around raft's receive
 * callback and its send method. Both the product's io
 * (node/raft/raft_io.c) and the Raft simulation
 * (tests/unit/test_raft_sim.c, at raft_fixture's io) use this module, so
 * the simulation checks the cluster the product runs.
 *
 * 1. COMMIT: a follower answers an AppendEntries that carries no new entry
 *    (a heartbeat, or entries it already has) with last_log_index =
 *    r->last_stored, its whole log, instead of prev_log_index + n_entries,
 *    and sets commit_index = min(leader_commit, last_stored). With a stale
 *    tail from an older term beyond prev_log_index the leader counts that
 *    tail as matching and commits entries only a minority holds; the
 *    follower may commit its stale tail. Fix: clamp the request's
 *    leader_commit and the synchronous success result's last_log_index to
 *    prev_log_index + n_entries (Raft's "index of last new entry"; forks
 *    fixed it the same way, cowsql/raft recvAppendEntries).
 * 2. SNAPSHOT: an AppendEntries whose prev_log_index is below the
 *    follower's snapshot is rejected ("no entry at index"), although all of
 *    it is committed and so matches; the leader probes down to 0 and the
 *    follower then appends at the wrong indexes and crashes
 *    (replicationAppend, removeSuffix). Fix: move the request's start up to
 *    the snapshot, dropping the entries it covers.
 *
 * Use, on the loop thread that runs raft:
 *   q53_raft_compat_recv(&c, r, m);  // before raft's recv callback
 *   recv(io, m);                     // raft may call io->send inside
 *   q53_raft_compat_recv_done(&c);
 * and in io->send, on a copy of the message before it is encoded:
 *   q53_raft_compat_send(&c, &copy);
 *
 * Reads these libraft 0.15 struct raft fields: current_term,
 * log.snapshot.last_index/last_term, snapshot.put.data (non-NULL while a
 * snapshot is being stored). raft.h 0.15 defines no RAFT_VERSION_*:
 * raft_compat.c refuses to build against a raft.h that does (a later
 * release: re-check both defects there before widening the guard). */
#ifndef Q53_NODE_RAFT_RAFT_COMPAT_H
#define Q53_NODE_RAFT_RAFT_COMPAT_H

#include <stdbool.h>

#include <raft.h>

/* Which workarounds are on (the simulation turns them off one by one to
 * show the defects; the product uses Q53_RAFT_COMPAT_ALL). */
#define Q53_RAFT_COMPAT_COMMIT	 (1u << 0)
#define Q53_RAFT_COMPAT_SNAPSHOT (1u << 1)
#define Q53_RAFT_COMPAT_ALL	 (Q53_RAFT_COMPAT_COMMIT | Q53_RAFT_COMPAT_SNAPSHOT)

/* Per raft instance; caller-owned, no allocation, nothing to free. */
struct q53_raft_compat {
	unsigned fixes;	     /* Q53_RAFT_COMPAT_* */
	bool in_append;	     /* raft is handling an AppendEntries now */
	raft_index verified; /* its prev_log_index + n_entries */
};

void q53_raft_compat_init(struct q53_raft_compat *c, unsigned fixes);

/* Rewrite an inbound message in place before raft sees it, and open the
 * window in which q53_raft_compat_send clamps results. Only an
 * AppendEntries with term >= r->current_term is touched (raft rejects the
 * others unchanged). Entries dropped by the SNAPSHOT fix are freed with
 * raft_free: the message must follow raft's ownership rules for inbound
 * AppendEntries (entries array and one batch, entries[0].batch, both from
 * raft_malloc; entries == NULL when n_entries == 0); the array and batch
 * stay the same objects otherwise, so raft frees them as before. `r` is
 * the receiving raft instance (io->data after raft_init). Cannot fail. */
void q53_raft_compat_recv(struct q53_raft_compat *c, const struct raft *r,
			  struct raft_message *m);

/* Close the window opened by q53_raft_compat_recv; call right after raft's
 * recv callback returned. */
void q53_raft_compat_recv_done(struct q53_raft_compat *c);

/* Clamp an outbound AppendEntries success result sent while the window is
 * open (raft answering synchronously the request being handled) to that
 * request's prev_log_index + n_entries. `m` is the caller's copy: raft's
 * message is const and may live on raft's stack. Results sent later (after
 * a disk append) are left alone: their last_stored ends with the request's
 * entries. Other messages are untouched. */
void q53_raft_compat_send(const struct q53_raft_compat *c,
			  struct raft_message *m);

#endif
