/* Log entries of the replicated control plane and the adapter that applies
 * them to a struct q53_fsm (node/raft/fsm.h) on behalf of raft.
 *
 * Entry framing (the one place that knows it; all integers little-endian):
 *
 *   0  u8  format       Q53_FSM_LOG_FORMAT
 *   1  u8  reserved     0
 *   2  u16 type         command type, passed to the FSM
 *   4  u32 payload_len
 *   8  u64 client_id    0 = no session (no duplicate filtering)
 *  16  u64 request_id   per client, strictly increasing, first is 1
 *  24  payload, then zeros up to a multiple of 8 bytes (RAFT_OVER_NNG.md
 *      #14: unaligned payloads read back corrupted after a raft_uv restart)
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
 * raft_fsm version 2 (raft 0.15; RAFT_OVER_NNG.md #8): snapshot serialises
 * synchronously on the loop thread and snapshot_finalize frees it. Version 3
 * (snapshot_async on the thread pool) would need a copy-on-write FSM, as the
 * loop keeps applying while the worker serialises.
 *
 * Everything runs on the raft loop thread; nothing here locks. */
#ifndef Q53_NODE_RAFT_FSM_LOG_H
#define Q53_NODE_RAFT_FSM_LOG_H

#include <stddef.h>
#include <stdint.h>

#include <raft.h>

#include "node/raft/fsm.h"

#define Q53_FSM_LOG_FORMAT	1
#define Q53_FSM_LOG_HEADER_SIZE 24
/* Largest payload accepted by the encoder (and so on the log). */
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

/* Parse an entry; cmd->payload points into buf. Returns 0 or Q53_EMALF
 * (short, unknown format, bad length, non-zero padding, request_id 0 with a
 * client). */
int q53_fsm_log_decode(const struct raft_buffer *buf,
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
 * replication.c applyCommand); copy what you keep. */
struct q53_fsm_log_result {
	enum q53_fsm_log_status status;
	int32_t code;	      /* FSM verdict (APPLIED and DUPLICATE) */
	const uint8_t *bytes; /* FSM result body (APPLIED and DUPLICATE) */
	size_t len;
	uint64_t seq; /* entries applied so far, this one included */
};

struct q53_fsm_log_config {
	unsigned max_sessions; /* 0 = Q53_FSM_LOG_DEFAULT_MAX_SESSIONS */
};

struct q53_fsm_log_session;

/* The adapter. Caller-owned memory; fields are private. */
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
};

/* Set up `log` around `fsm` (borrowed: must outlive log). config may be
 * NULL. Returns 0 or Q53_EINVAL. Nothing is allocated until the first
 * apply. */
int q53_fsm_log_init(struct q53_fsm_log *log, struct q53_fsm *fsm,
		     const struct q53_fsm_log_config *config);

/* Free the session table; only after raft_close's callback (raft may still
 * apply until then). The wrapped fsm is not touched. */
void q53_fsm_log_close(struct q53_fsm_log *log);

/* The session of client_id: its last applied request id (0 if none known).
 * For tests and for a node answering "was my request applied?". */
uint64_t q53_fsm_log_last_request(const struct q53_fsm_log *log,
				  uint64_t client_id);

#endif
