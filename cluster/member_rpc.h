/* Asynchronous requests from one node to another node's client API (an NNG
 * REQ socket per peer address, one nng_ctx + nng_aio per request), answered
 * on the node's libuv loop. The cluster runtime uses it to forward writes
 * to the leader, to ask voters for their applied index (INSYNC) and to ask
 * a member to add this node (--join).
 *
 * NNG never re-sends a request by itself here: NNG_OPT_REQ_RESENDTIME is
 * infinite on every socket and context (checked), so neither a timer nor
 * a dropped connection (NNG otherwise re-queues a pending request on
 * another pipe) sends it again; the call then fails with -EIO. A forwarded
 * write must not be applied twice, e.g. after a leader change.
 *
 * Lifecycle (house style #10): member_rpc_init -> calls ->
 * member_rpc_close(cb). Everything but the NNG-side hand-off runs on
 * the loop thread. */
#ifndef Q53_CLUSTER_MEMBER_RPC_H
#define Q53_CLUSTER_MEMBER_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <uv.h>

struct member_rpc;

/* The answer to one call, on the loop thread: status 0 and the response
 * bytes (borrowed: valid during the callback only), or a negative errno
 * (-ENOTCONN: no connection took the request within a second, so the
 * peer never saw it; -ETIMEDOUT: sent, no answer in time; -ECANCELED: the
 * client is closing; -EIO: anything else) with buf NULL. Except for
 * -ENOTCONN, whether the request reached the peer is unknown. */
typedef void (*member_rpc_cb)(void *data, int status, const uint8_t *buf,
			      size_t len);

/* Allocates the client on loop (one uv_async_t). 0 or Q53_ENOMEM. */
int member_rpc_init(struct member_rpc **out, uv_loop_t *loop);

/* Mutual TLS (node/common/peer_tls.h, client mode) for peers opened from
 * now on: "HOST:PORT" addresses are then dialled as tls+tcp://. NULL =
 * plain TCP. Borrowed: must outlive c. */
void member_rpc_set_tls(struct member_rpc *c, nng_tls_config *tls);

/* Dial peers opened from now on from this numeric IP (port 0), NULL or ""
 * for the kernel's choice. 0 or Q53_EINVAL (not an IP literal). */
int member_rpc_set_source(struct member_rpc *c, const char *ip);

/* Sends req[0..len) (copied) to the API at address ("HOST:PORT" or an NNG
 * URL) and calls cb(data, ...) exactly once, later, on the loop thread,
 * unless this returns non-zero (Q53_ENOMEM, Q53_EINVAL for a bad address,
 * or -ECANCELED when closing), in which case cb is never called. */
int member_rpc_call(struct member_rpc *c, const char *address,
		    const uint8_t *req, size_t len, unsigned timeout_ms,
		    member_rpc_cb cb, void *data);

/* Requests in flight (for tests and shutdown bookkeeping). */
unsigned member_rpc_inflight(const struct member_rpc *c);

/* Cancels every call (their callbacks run now with -ECANCELED), closes the
 * sockets and frees c; done(data) runs on the loop thread afterwards. */
void member_rpc_close(struct member_rpc *c, void (*done)(void *), void *data);

#endif
