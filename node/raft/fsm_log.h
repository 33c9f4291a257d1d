/* Log entries of the replicated control plane and the adapter that applies
 * them to a struct q53_fsm (node/raft/fsm.h) on behalf of raft.
 *
 * Entry framing (the one place that knows it; all integers little-endian).
 * Format 1 (Q53_FSM_LOG_FORMAT), one command:
 *
 *   0  u8  format       1
 *   1  u8  reserved     0
 *   2  u16 type         command type, passed to the FSM
 *   4  u32 payload_len
 *   8  u64 client_id    0 = no session (no duplicate filtering)
 *  16  u64 request_id   per client, strictly increasing, first is 1
 *  24  payload, then zeros up to a multiple of 8 bytes (RAFT_OVER_NNG.md
 *      #14: unaligned payloads read back corrupted after a raft_uv restart)
 *
 * Format 2 (Q53_FSM_LOG_FORMAT_BATCH), commands proposed together under
 * load (one fsync, one replication round and one publication for all):
 *
 *   0  u8  format       2
 *   1  u8  reserved     0
 *   2  u16 reserved     0
 *   4  u32 count        1 .. Q53_FSM_LOG_BATCH_MAX
 *   8  count format-1 frames back to back (each 8-aligned, each with a
 *      client session: client_id != 0), in the order they are applied.
 *
 * Every command of a batch keeps its own session and result, exactly as if
 * it were an entry of its own; a batch is validated whole before anything
 * applies (a malformed frame skips the whole entry on every node).
 * An entry whose format byte is newer than Q53_FSM_LOG_FORMAT_MAX (written
 * by a newer release) is never skipped: the adapter stops applying at it
 * (q53_fsm_log_newer_format) and the node must stop and be upgraded.
 *
 * Exactly once: the adapter remembers, per client, the last applied
 * request id and its result. A client retries a request it got no answer
 * for (leader lost, timeout) with the SAME request id, on whichever node
 * leads now; if the first attempt was committed after all, the retry is a
 * no-op answered with the first result. A client has one request in flight
 * at a time (retries of it aside): anything older than its last applied
 * request is answered Q53_FSM_LOG_STALE. Sessions are part of the
 * replicated state (snapshotted); when there are max_sessions of them, the
 * one applied longest ago is forgotten (deterministic: same on every node),
 * after which a late duplicate of its last request would apply again.
 *
 * raft_fsm version 2 (raft 0.15; RAFT_OVER_NNG.md #8) by default: snapshot
 * serialises synchronously on the loop thread and snapshot_finalize frees
 * it. With q53_fsm_log_set_async, version 3: snapshot, on the loop, writes
 * the sessions and has the FSM capture its state (q53_fsm's
 * snapshot_capture: cheap, independent of later applies); snapshot_async,
 * on raft's thread pool (io->async_work), has the FSM encode the capture
 * while the loop goes on applying and replicating; snapshot_finalize, on
 * the loop, frees both. The bytes are the same in both modes.
 *
 * Everything else runs on the raft loop thread; nothing here locks (raft
 * takes one snapshot at a time, queues the thread work after snapshot and
 * calls finalize after it returned). */
#ifndef Q53_NODE_RAFT_FSM_LOG_H
#define Q53_NODE_RAFT_FSM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <raft.h>

#include "node/raft/fsm.h"

#define Q53_FSM_LOG_FORMAT	      1
#define Q53_FSM_LOG_FORMAT_BATCH      2
#define Q53_FSM_LOG_FORMAT_MAX	      2 /* the newest this release applies */
#define Q53_FSM_LOG_HEADER_SIZE	      24
#define Q53_FSM_LOG_BATCH_HEADER_SIZE 8
#define Q53_FSM_LOG_BATCH_MAX	      1024 /* commands in one batch entry */
/* Largest payload accepted by the encoder (and so on the log); also the
 * bound of the frames of one batch together. */
#define Q53_FSM_LOG_PAYLOAD_MAX		 ((size_t)64 << 20)
#define Q53_FSM_LOG_DEFAULT_MAX_SESSIONS 4096

/* One command as the client submits it. */
struct q53_fsm_log_command {
	uint16_t type;
	uint64_t client_id;  /* 0: no session */
	uint64_t request_id; /* > 0 when client_id != 0 */
	const uint8_t *payload;
	size_t len;
};

/* Frame `cmd` into buf->base / buf->len (raft_malloc'd, padded to 8): what
 * raft_apply takes (raft owns it once raft_apply succeeded; raft_free it
 * otherwise). Returns 0, Q53_EINVAL (payload too big, request_id 0 for a
 * session) or Q53_ENOMEM. */
int q53_fsm_log_encode(const struct q53_fsm_log_command *cmd,
		       struct raft_buffer *buf);

/* Parse a format-1 entry; cmd->payload points into buf. Returns 0,
 * Q53_ERANGE (format byte newer than Q53_FSM_LOG_FORMAT_MAX) or Q53_EMALF
 * (short, a batch, unknown format, bad length, non-zero padding,
 * request_id 0 with a client). */
int q53_fsm_log_decode(const struct raft_buffer *buf,
		       struct q53_fsm_log_command *cmd);

/* One entry of n format-1 frames (each from q53_fsm_log_encode, borrowed)
 * into buf (raft_malloc'd, as q53_fsm_log_encode): n == 1 copies the frame
 * (format 1), n > 1 makes a format-2 batch. Returns 0, Q53_EINVAL (n 0 or
 * above Q53_FSM_LOG_BATCH_MAX, a frame that does not decode, a frame
 * without a client session when n > 1, frames above
 * Q53_FSM_LOG_PAYLOAD_MAX together) or Q53_ENOMEM. */
int q53_fsm_log_encode_batch(const struct raft_buffer *frames, unsigned n,
			     struct raft_buffer *buf);

/* Reading the commands of an entry of either format. */
struct q53_fsm_log_entry {
	const uint8_t *p; /* the next frame */
	size_t left;
	unsigned count; /* commands in the entry */
	unsigned next;	/* commands returned so far */
	bool batch;	/* format 2 */
};

/* Validate the whole entry in buf (borrowed; must outlive e) and set up e
 * to read its commands. Returns 0, Q53_ERANGE with *format the entry's
 * format byte (newer than this release), or Q53_EMALF (any frame
 * malformed, count 0 or above Q53_FSM_LOG_BATCH_MAX, a batch command
 * without a session, trailing bytes). format may be NULL. */
int q53_fsm_log_entry_open(const struct raft_buffer *buf,
			   struct q53_fsm_log_entry *e, unsigned *format);

/* The next command of an opened entry (payload points into its buffer):
 * 0, or Q53_ENOENT after the last. */
int q53_fsm_log_entry_next(struct q53_fsm_log_entry *e,
			   struct q53_fsm_log_command *cmd);

/* How an entry was applied. */
enum q53_fsm_log_status {
	Q53_FSM_LOG_APPLIED = 0, /* first time: the FSM ran it */
	Q53_FSM_LOG_DUPLICATE,	 /* retry of the client's last request */
	Q53_FSM_LOG_STALE,	 /* older than the client's last request */
	Q53_FSM_LOG_MALFORMED,	 /* bad framing: skipped on every node */
};

/* What the `result` argument of a raft_apply callback points to. Owned by
 * the adapter and overwritten by the next apply: valid only inside the
 * callback (raft 0.15 fires it from within fsm->apply's caller,
 * replication.c applyCommand); copy what you keep.
 *
 * The callback's result is that of the entry's first command and carries
 * the results of all of them: results[0 .. n_results - 1], in the order of
 * the frames (n_results 1 and results == the result itself for a format-1
 * entry and for a MALFORMED entry of either format). In results[i > 0],
 * n_results and results are 0 / NULL. */
struct q53_fsm_log_result {
	enum q53_fsm_log_status status;
	int32_t code;	      /* FSM verdict (APPLIED and DUPLICATE) */
	const uint8_t *bytes; /* FSM result body (APPLIED and DUPLICATE) */
	size_t len;
	uint64_t seq;	     /* commands applied so far, this one included */
	uint64_t client_id;  /* of the command (0 when MALFORMED) */
	uint64_t request_id; /* of the command (0 when MALFORMED) */
	unsigned n_results;
	const struct q53_fsm_log_result *results;
};

struct q53_fsm_log_config {
	unsigned max_sessions; /* 0 = Q53_FSM_LOG_DEFAULT_MAX_SESSIONS */
};

struct q53_fsm_log_session;

/* The adapter. Caller-owned memory; fields are private. */
#define Q53_FSM_LOG_OFFERS 4

struct q53_fsm_log {
	struct raft_fsm raft_fsm; /* hand &log->raft_fsm to raft_init */
	struct q53_fsm *fsm;
	unsigned max_sessions;
	uint64_t seq; /* command entries applied (replicated state) */
	struct q53_fsm_log_session *sessions; /* sorted by client_id */
	unsigned n_sessions;
	unsigned cap_sessions;
	struct q53_fsm_log_result last; /* see struct q53_fsm_log_result */
	uint8_t *last_owned; /* result body owned by `last` (no session) */
	/* the results of a batch entry (raft_malloc'd, grown, reused) */
	struct q53_fsm_log_result *batch;
	unsigned cap_batch;
	/* result bodies a later command of the same batch replaced in (or
	 * evicted from) their session: freed with the results */
	uint8_t **graveyard;
	unsigned n_graveyard;
	/* commands of the current batch applied before an allocation failed:
	 * raft offers the same entry again and they are not applied twice */
	unsigned resume;
	unsigned newer_format; /* != 0: stopped at an entry of this format */
	void *capture; /* the FSM's, from snapshot until finalize (async) */
	/* Commands this node proposed, offered in their typed form
	 * (q53_fsm_log_offer); client_id 0: a free slot. */
	struct {
		uint64_t client_id, request_id;
		uint16_t type;
		const void *decoded;
	} offers[Q53_FSM_LOG_OFFERS];
};

/* Offers the typed form of a command this node proposes (session
 * client_id, request id request_id, of `type`; decoded borrowed until
 * q53_fsm_log_withdraw): when that command is applied, the FSM's
 * apply_decoded gets it and need not decode the payload again (a zone
 * import: the leader's own parse, not a million decoded record sets),
 * until withdrawn. False when the FSM has no apply_decoded, client_id is 0 or
 * every slot is taken (then the payload is decoded as usual). */
bool q53_fsm_log_offer(struct q53_fsm_log *log, uint64_t client_id,
		       uint64_t request_id, uint16_t type, const void *decoded);
/* Forgets an offer (used or not): decoded may be freed after this. */
void q53_fsm_log_withdraw(struct q53_fsm_log *log, uint64_t client_id,
			  uint64_t request_id);

/* Set up `log` around `fsm` (borrowed: must outlive log). config may be
 * NULL. Returns 0 or Q53_EINVAL. Nothing is allocated until the first
 * apply. */
int q53_fsm_log_init(struct q53_fsm_log *log, struct q53_fsm *fsm,
		     const struct q53_fsm_log_config *config);

/* Take snapshots in two steps (raft_fsm version 3, see above) when on and
 * the FSM has snapshot_capture; version 2 otherwise. Only before raft_init
 * (raft reads the version there), and only with an io that has
 * async_work. Returns 0 or Q53_EINVAL (on, and the FSM cannot capture). */
int q53_fsm_log_set_async(struct q53_fsm_log *log, bool on);

/* Free the session table; only after raft_close's callback (raft may still
 * apply until then). The wrapped fsm is not touched. */
void q53_fsm_log_close(struct q53_fsm_log *log);

/* 0, or the format byte of the entry the adapter stopped at: an entry
 * written by a newer quorum53 (every later apply fails too, so that the
 * state never moves past it). The node must stop: "log entry N uses
 * framing format F of a newer quorum53: upgrade this node". */
unsigned q53_fsm_log_newer_format(const struct q53_fsm_log *log);

/* The session of client_id: its last applied request id (0 if none known).
 * For tests and for a node answering "was my request applied?". */
uint64_t q53_fsm_log_last_request(const struct q53_fsm_log *log,
				  uint64_t client_id);

#endif
