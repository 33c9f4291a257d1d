/* Closing an NNG socket without hanging the caller.
 *
 * NNG 1.5.2 (Debian bookworm's) can block in nng_close forever: the socket
 * waits for a pipe that no thread will ever remove (a lost wake-up in its
 * endpoint/pipe teardown, nanomsg/nng#1543, fixed upstream after 1.5.2 by
 * making endpoint close synchronous). Seen about once in 15 to 35 runs of
 * three Raft nodes stopping in one process (tests/unit/test_raft_io.c), and
 * it could hang q53d's SIGTERM path. q53_nng_close runs nng_close on a
 * thread of its own and waits at most timeout_ms: when NNG does not return
 * in time the socket is given up (its memory stays reachable from NNG, and
 * its listener is already closed: NNG closes endpoints before it waits for
 * pipes), a warning is logged, and the caller goes on. */
#ifndef Q53_NODE_COMMON_NNG_CLOSE_H
#define Q53_NODE_COMMON_NNG_CLOSE_H

#include <stdbool.h>

#include <nng/nng.h>

#define Q53_NNG_CLOSE_TIMEOUT_MS 2000

/* Closes s; true if nng_close returned within timeout_ms, false if it was
 * given up (or a thread could not be started: then it closes inline). */
bool q53_nng_close(nng_socket s, int timeout_ms);

/* Sockets given up since the process started. nng_fini would hang on
 * them: call it only when this is 0. */
unsigned q53_nng_close_stuck(void);

#endif
