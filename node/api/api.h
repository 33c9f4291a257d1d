/* The client API server: an NNG REP socket (proto/api.proto over
 * tcp://HOST:PORT) answering requests through an abstract backend that
 * runs on the node's libuv loop.
 *
 * Several requests are in flight at once: one nng_ctx + nng_aio per slot
 * (config.max_inflight). NNG completes receives on its own threads; those
 * hand the request to the loop thread through a lock-free queue and
 * uv_async_send. The loop thread decodes it and calls the backend, which
 * answers later (on the loop thread, e.g. after a Raft commit) with
 * api_reply; the reply goes back through the slot's aio.
 *
 * Lifecycle (house style #10): api_server_init (allocates, no sockets) ->
 * api_server_start (listens) -> api_server_close(cb). Everything but the
 * NNG-side hand-off runs on the loop thread: init, start, close and every
 * api_reply* call. */
#ifndef Q53_NODE_API_API_H
#define Q53_NODE_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "node/common/peer_tls.h"
#include "proto/api.pb-c.h"

struct api_server;

/* One request being answered. Handed to a backend function; valid until
 * the backend answers it with exactly one api_reply* call, never after. */
struct api_call;

/* The operations. Each function is called on the loop thread with the
 * decoded, checked request (api_msg_request_decode: required fields are
 * present) that stays valid until the call is answered. The backend must
 * answer every call exactly once, now or later, on the loop thread; calls
 * pending when the server closes must still be answered (with Unavailable
 * if the backend is going away, e.g. when raft cancels its applies): the
 * close callback waits for them. A NULL function answers NotImplemented. */
struct api_backend {
	void *data; /* passed back as each function's first argument */
	void (*create_zone)(void *data, struct api_call *call,
			    const Q53__Api__CreateZoneRequest *req);
	void (*list_zones)(void *data, struct api_call *call,
			   const Q53__Api__ListZonesRequest *req);
	void (*get_zone)(void *data, struct api_call *call,
			 const Q53__Api__GetZoneRequest *req);
	void (*delete_zone)(void *data, struct api_call *call,
			    const Q53__Api__DeleteZoneRequest *req);
	void (*import_zone)(void *data, struct api_call *call,
			    const Q53__Api__ImportZoneRequest *req);
	void (*export_zone)(void *data, struct api_call *call,
			    const Q53__Api__ExportZoneRequest *req);
	void (*change_batch)(void *data, struct api_call *call,
			     const Q53__Api__ChangeBatchRequest *req);
	void (*get_change)(void *data, struct api_call *call,
			   const Q53__Api__GetChangeRequest *req);
	void (*list_records)(void *data, struct api_call *call,
			     const Q53__Api__ListRecordsRequest *req);
	void (*list_nodes)(void *data, struct api_call *call,
			   const Q53__Api__ListNodesRequest *req);
	void (*add_node)(void *data, struct api_call *call,
			 const Q53__Api__AddNodeRequest *req);
	void (*remove_node)(void *data, struct api_call *call,
			    const Q53__Api__RemoveNodeRequest *req);
	void (*status)(void *data, struct api_call *call,
		       const Q53__Api__StatusRequest *req);
	void (*create_health_check)(
	    void *data, struct api_call *call,
	    const Q53__Api__CreateHealthCheckRequest *req);
	void (*get_health_check)(void *data, struct api_call *call,
				 const Q53__Api__GetHealthCheckRequest *req);
	void (*list_health_checks)(
	    void *data, struct api_call *call,
	    const Q53__Api__ListHealthChecksRequest *req);
	void (*update_health_check)(
	    void *data, struct api_call *call,
	    const Q53__Api__UpdateHealthCheckRequest *req);
	void (*delete_health_check)(
	    void *data, struct api_call *call,
	    const Q53__Api__DeleteHealthCheckRequest *req);
	void (*get_health_check_status)(
	    void *data, struct api_call *call,
	    const Q53__Api__GetHealthCheckStatusRequest *req);
	void (*health_vote)(void *data, struct api_call *call,
			    const Q53__Api__HealthVoteRequest *req);
	void (*create_access_key)(void *data, struct api_call *call,
				  const Q53__Api__CreateAccessKeyRequest *req);
	void (*delete_access_key)(void *data, struct api_call *call,
				  const Q53__Api__DeleteAccessKeyRequest *req);
	void (*list_access_keys)(void *data, struct api_call *call,
				 const Q53__Api__ListAccessKeysRequest *req);
	void (*list_changes)(void *data, struct api_call *call,
			     const Q53__Api__ListChangesRequest *req);
	void (*update_zone_comment)(
	    void *data, struct api_call *call,
	    const Q53__Api__UpdateZoneCommentRequest *req);
	void (*change_tags)(void *data, struct api_call *call,
			    const Q53__Api__ChangeTagsRequest *req);
	void (*list_tags)(void *data, struct api_call *call,
			  const Q53__Api__ListTagsRequest *req);
	void (*test_answer)(void *data, struct api_call *call,
			    const Q53__Api__TestAnswerRequest *req);
	void (*traffic_flow)(void *data, struct api_call *call,
			     const Q53__Api__TrafficFlowRequest *req);
	void (*latency_set)(void *data, struct api_call *call,
			    const Q53__Api__LatencySetRequest *req);
	void (*latency_delete)(void *data, struct api_call *call,
			       const Q53__Api__LatencyDeleteRequest *req);
	void (*latency_list)(void *data, struct api_call *call,
			     const Q53__Api__LatencyListRequest *req);
	void (*latency_samples)(void *data, struct api_call *call,
				const Q53__Api__LatencySamplesRequest *req);
	/* A hosted zone's limit (node/api/limit_api.c). */
	void (*get_zone_limit)(void *data, struct api_call *call,
			       const Q53__Api__GetZoneLimitRequest *req);
	void (*set_zone_limit)(void *data, struct api_call *call,
			       const Q53__Api__SetZoneLimitRequest *req);
	/* CIDR collections (node/api/cidr_api.c): the request's body is
	 * read from the call. */
	void (*cidr)(void *data, struct api_call *call);
	/* Outbound zone transfers (node/api/xfr_api.c): set and get, the
	 * request's body read from the call. */
	void (*zone_transfer)(void *data, struct api_call *call);
	/* query logging configs, every kind (node/api/query_log_api.h) */
	void (*query_logging)(void *data, struct api_call *call);
};

/* Whether a request that came over NNG from peer_ip (numeric; "-" for
 * ipc:// or inproc://, "" unknown) is answered; false: it is refused with
 * AccessDenied and the reason written into why[why_len]. Loop thread. */
typedef bool (*api_admit_fn)(void *data, const char *peer_ip,
			     const Q53__Api__Request *req, char *why,
			     size_t why_len);

struct api_server_config {
	/* "HOST:PORT" ("[::1]:8053" for IPv6, port 0 for any free one) or
	 * an NNG URL ("tcp://...", "ipc://..."). Copied. Required. */
	const char *listen;
	/* Requests answered concurrently (NNG contexts); more wait in NNG.
	 * 0 = 64. */
	unsigned max_inflight;
	/* Largest request accepted (NNG_OPT_RECVMAXSZ); a larger one drops
	 * the client's connection. 0 = 64 MiB (zone imports). */
	size_t max_request_size;
	/* How long a reply may wait for a slow client, in ms. 0 = 5000. */
	unsigned send_timeout_ms;
	/* Mutual TLS (node/common/peer_tls.h, server mode): "HOST:PORT" is
	 * then listened on as tls+tcp://. NULL = plain TCP. */
	nng_tls_config *tls;
	/* The listener's connection cap and idle timeout
	 * (node/common/pipe_guard.h); 0 = its defaults. */
	unsigned max_connections;
	unsigned idle_ms;
	/* Checked before each NNG request is dispatched; NULL = all. */
	api_admit_fn admit;
	void *admit_data;
};

/* Closes the NNG connections idle past the idle timeout; call a few times
 * per timeout (api_edge_tick). */
void api_server_tick(struct api_server *s);

/* Counters since init, for tests and metrics (read on the loop thread). */
struct api_server_stats {
	unsigned long long requests;  /* decoded and given to the backend */
	unsigned long long malformed; /* refused by api_msg_request_decode */
	unsigned long long refused;   /* answered Unavailable while closing */
	unsigned long long denied;    /* refused by the admit function */
	unsigned long long replies;   /* handed to NNG */
};

/* Allocates the server on `loop` (and its uv_async_t); nothing is opened.
 * backend and config are copied. Returns 0, Q53_EINVAL (no listen address,
 * a NULL backend) or Q53_ENOMEM; on failure *out is NULL. After success,
 * always finish with api_server_close, started or not. */
int api_server_init(struct api_server **out, uv_loop_t *loop,
		    const struct api_backend *backend,
		    const struct api_server_config *config);

/* Opens the REP socket, listens and starts receiving. Returns 0,
 * Q53_EINVAL (bad address: reason in api_server_errmsg), Q53_EEXIST
 * (address in use) or Q53_ENOMEM. On failure nothing stays open; close
 * the server with api_server_close. */
int api_server_start(struct api_server *s);

/* The last error's context ("listen tcp://...: Address in use"). */
const char *api_server_errmsg(const struct api_server *s);

/* The TCP port bound by api_server_start (useful with port 0), 0 for
 * non-TCP addresses or before start. */
int api_server_port(const struct api_server *s);

void api_server_stats(const struct api_server *s,
		      struct api_server_stats *stats);

/* A request from inside the node (another edge, e.g. the REST API): req
 * is a packed q53.api.Request, handled exactly as one received from a
 * client (decoded, checked, given to the backend, forwarded to the leader
 * by the backend when it must be). cb(ctx, resp, len) gets the packed
 * Response once, on the loop thread, maybe before this returns; resp NULL
 * when no answer could be made (out of memory). After close the answer is
 * Unavailable. 0 or Q53_ENOMEM (then cb is never called). Loop thread. */
typedef void (*api_local_reply_fn)(void *ctx, const uint8_t *resp, size_t len);
int api_server_submit(struct api_server *s, const uint8_t *req, size_t len,
		      api_local_reply_fn cb, void *ctx);

/* Stops taking requests: requests received but not yet given to the
 * backend are answered Unavailable (retryable); calls the backend holds
 * are still answered to their clients (each reply waits at most
 * send_timeout_ms). Once every call is answered the socket is closed, the
 * memory freed, and cb(data) runs on the loop thread (s is gone by then).
 * cb may be NULL. Call once. */
typedef void (*api_server_close_cb)(void *data);
void api_server_close(struct api_server *s, api_server_close_cb cb, void *data);

/* --- answering a call (loop thread only; exactly one per call) --------- */

/* The whole decoded request (version, body_case) of a call. */
const Q53__Api__Request *api_call_request(const struct api_call *call);

/* The request as received (for forwarding it verbatim to the leader).
 * Valid until the call is answered. */
const uint8_t *api_call_raw(const struct api_call *call, size_t *len);

/* Answers with resp, which is packed during the call (nothing is kept:
 * the caller may free resp right after). A success whose body does not
 * match the request becomes an InternalError answer. */
void api_reply(struct api_call *call, const Q53__Api__Response *resp);

/* Answers with an error: code (API_ERR_*), printf-style message. */
void api_reply_error(struct api_call *call, const char *code, bool retryable,
		     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answers with an error given as "Code: message", the form zone_store and
 * change_batch write into their err buffers. */
void api_reply_error_text(struct api_call *call, const char *text);

/* Answers NotLeader (retryable) with the leader's API address as a hint
 * (NULL or "" when unknown). */
void api_reply_not_leader(struct api_call *call, const char *leader_api);

/* Relays an encoded Response verbatim (e.g. the leader's answer to a
 * forwarded request). buf[0..len) is copied. */
void api_reply_raw(struct api_call *call, const uint8_t *buf, size_t len);

#endif
