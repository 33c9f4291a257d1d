/* A connection cap and an idle timeout for an NNG listener's socket (the
 * Raft PULL socket, the NNG API's REP socket): ~20,000 connections that
 * complete the SP handshake and then idle exhausted a leader's descriptors
 * (issue 11). NNG 1.5.2 closes a connection that does not finish the SP
 * handshake within 10 s; past it, nothing did.
 *
 * - cap: a pipe beyond max_pipes is closed in its NNG_PIPE_EV_ADD_PRE
 *   notification (never added: the descriptor goes at once);
 * - idle: while more than half of max_pipes are attached, a pipe that
 *   delivered no message within idle_ms of being added is closed by the
 *   next q53_pipe_guard_sweep. A pipe that delivered one (the owner calls
 *   q53_pipe_guard_seen) stays: members' connections may idle for long
 *   (two followers talk only during elections). Below half the cap nothing
 *   is closed: a member's Raft dialer drops the first message it sends on
 *   a new connection (raft_io.c), so closing a quiet member connection in
 *   normal operation would cost the next election a round.
 *
 * Threads: the notifications run on NNG's threads and take the guard's
 * mutex; seen and sweep run on the owner's thread. The guard must outlive
 * the socket (free it after nng_close returned). */
#ifndef Q53_NODE_COMMON_PIPE_GUARD_H
#define Q53_NODE_COMMON_PIPE_GUARD_H

#include <stdint.h>

#include <nng/nng.h>

#define Q53_PIPE_GUARD_DEFAULT_MAX     1024
#define Q53_PIPE_GUARD_DEFAULT_IDLE_MS 10000

struct q53_pipe_guard;

struct q53_pipe_guard_stats {
	unsigned active;		/* pipes attached now */
	unsigned long long rejected;	/* over the cap */
	unsigned long long idle_closed; /* no message within idle_ms */
};

/* Registers the notifications on sock (before it listens). max_pipes 0 =
 * Q53_PIPE_GUARD_DEFAULT_MAX, idle_ms 0 = Q53_PIPE_GUARD_DEFAULT_IDLE_MS.
 * 0, Q53_ENOMEM or Q53_EINVAL. */
int q53_pipe_guard_new(struct q53_pipe_guard **out, nng_socket sock,
		       unsigned max_pipes, unsigned idle_ms);

/* A message arrived on pipe p. */
void q53_pipe_guard_seen(struct q53_pipe_guard *g, nng_pipe p);

/* Closes the pipes idle past idle_ms; call periodically (a few times per
 * idle_ms). Returns how many it closed. */
unsigned q53_pipe_guard_sweep(struct q53_pipe_guard *g);

void q53_pipe_guard_stats(struct q53_pipe_guard *g,
			  struct q53_pipe_guard_stats *out);

/* After the socket was closed. NULL is fine. */
void q53_pipe_guard_free(struct q53_pipe_guard *g);

#endif
