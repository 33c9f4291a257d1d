/* The project's struct raft_io: disk through an inner raft_uv, Raft RPCs
 * over NNG (one PULL listener per node at the node's own raft address, one
 * PUSH socket with a non-blocking dialer per peer, messages encoded by
 * node/raft/raft_msg.c). NNG is driven from the libuv loop: a uv_poll_t
 * watches the PULL socket's NNG_OPT_RECVFD. Everything runs on the loop
 * thread; only NNG's pipe notifications touch two atomics per peer.
 *
 * A server's raft address is the NNG URL it listens on, e.g.
 * "tcp://127.0.0.1:7001"; peers dial the address raft gives for them.
 *
 * Peers are dialled on first send and closed on the tick after they left
 * raft's configuration (raft_remove).
 *
 * Lifecycle: q53_raft_io_init -> raft_init(r, io, ...) (io->init listens)
 * -> raft_start -> ... -> raft_close(r, cb) (io->close tears everything
 * down, then raft's close runs) -> in cb or later: q53_raft_io_release(io).
 * Contracts this relies on: RAFT_OVER_NNG.md (shared project docs). */
#ifndef Q53_NODE_RAFT_RAFT_IO_H
#define Q53_NODE_RAFT_RAFT_IO_H

#include <stddef.h>

#include <raft.h>
#include <uv.h>

#include "node/common/peer_tls.h"
#include "node/raft/raft_guard.h"

struct q53_raft_io_config {
	/* raft_uv data directory; must exist and pass raft_uv's probe
	 * (O_DIRECT or tmpfs/ZFS, Linux AIO). Copied. */
	const char *dir;
	/* raft_uv open segment size in bytes; 0 keeps raft_uv's 8 MiB. */
	size_t segment_size;
	/* Largest inbound message (NNG_OPT_RECVMAXSZ); a larger one closes
	 * the pipe. Must hold the biggest snapshot. 0 = 256 MiB. */
	size_t max_message_size;
	/* Dialer back-off (NNG_OPT_RECONNMINT/MAXT) in ms. 0 = 50 / 500;
	 * keep the maximum at or below the election timeout. */
	unsigned reconnect_min_ms;
	unsigned reconnect_max_ms;
	/* Messages queued per peer while its pipe is busy (NNG_OPT_SENDBUF);
	 * past that, sends are dropped (raft retries). 0 = 256. */
	unsigned send_queue;
	/* Messages refused at the io boundary (node/raft/raft_guard.h) are
	 * reported here, at most one line per reason per second (with the
	 * number left out); NULL = not reported. */
	void (*log)(void *data, const char *line);
	void *log_data;
	/* The TERM_AHEAD bound; 0 = Q53_RAFT_GUARD_TERM_BOUND. */
	raft_term term_bound;
	/* Mutual TLS (node/common/peer_tls.h): the listener's and the
	 * dialers' configurations, NULL = plain TCP. Held while in use; the
	 * address given to raft_init is then a tls+tcp:// URL. */
	nng_tls_config *tls_server;
	nng_tls_config *tls_client;
	/* The listener's connection cap and idle timeout
	 * (node/common/pipe_guard.h); 0 = its defaults. */
	unsigned max_connections;
	unsigned idle_ms;
};

/* Set up `io` (caller-owned memory, zeroed here) on `loop`. Nothing is
 * opened yet: raft_init calls io->init, which listens on the address given
 * to raft_init. Returns 0, Q53_EINVAL (bad config) or Q53_ENOMEM. After
 * success, free with q53_raft_io_release once raft's close callback fired,
 * or right away if raft_init failed or was never called. */
int q53_raft_io_init(struct raft_io *io, uv_loop_t *loop,
		     const struct q53_raft_io_config *config);

/* Counters since q53_raft_io_init, for tests and metrics. */
struct q53_raft_io_stats {
	unsigned long long sent;      /* handed to NNG */
	unsigned long long dropped;   /* no pipe to the peer, queue full, ... */
	unsigned long long received;  /* decoded and given to raft */
	unsigned long long malformed; /* undecodable or claiming our own id */
	unsigned long long pruned;    /* peers closed after leaving the
					 configuration (raft_remove) */
	unsigned long long refused;   /* decoded but refused by raft_guard */
	unsigned long long refused_by[Q53_RAFT_GUARD_N_VERDICTS];
};

/* The PULL listener's connections: attached, refused over the cap, closed
 * idle (node/common/pipe_guard.h). */
void q53_raft_io_conn_stats(struct raft_io *io, unsigned *active,
			    unsigned long long *rejected,
			    unsigned long long *idle_closed);

/* Number of peers with an open PUSH socket + dialer (for tests). */
unsigned q53_raft_io_open_peers(struct raft_io *io);

/* Copy the counters of an io set up by q53_raft_io_init. */
void q53_raft_io_stats(struct raft_io *io, struct q53_raft_io_stats *stats);

/* Free what q53_raft_io_init allocated. Valid only while io->init was never
 * successfully run, or after io->close completed (raft's close callback
 * fired). */
void q53_raft_io_release(struct raft_io *io);

#endif
