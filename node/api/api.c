/* DESIGN: NNG runs its own I/O threads (we create none). The only code of
 * ours they run is call_aio_cb(), the completion of a slot's receive or
 * send: it touches the slot (owned by NNG while an operation is pending),
 * pushes the slot onto a lock-free stack and wakes the loop with
 * uv_async_send. Everything else, the backend included, runs on the loop
 * thread (house style #9). A slot is owned by exactly one side at a time:
 *
 *   RECV (NNG) --request--> LOOP (loop thread, maybe in the backend)
 *   LOOP --api_reply--> SEND (NNG) --sent--> RECV ...
 *   RECV/SEND --closing--> PARKED (loop thread counts it; never restarts)
 *
 * Closing: `closing` is set, pending receives are cancelled, replies still
 * go out; once every slot is parked the socket closes and the memory goes
 * (#10). */
#include "node/api/api.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "node/common/errcode.h"
#include "cluster/api_msg.h"
#include "node/common/nng_close.h"
#include "node/common/pipe_guard.h"

#define DEFAULT_MAX_INFLIGHT	 64
#define DEFAULT_MAX_REQUEST_SIZE ((size_t)64 << 20)
#define DEFAULT_SEND_TIMEOUT_MS	 5000

enum call_phase {
	PHASE_IDLE,   /* never started */
	PHASE_RECV,   /* NNG: receive pending */
	PHASE_LOOP,   /* loop thread: queued, decoding or in the backend */
	PHASE_SEND,   /* NNG: reply pending */
	PHASE_PARKED, /* stopped (closing, or a receive error to retry) */
};

enum call_event {
	EVENT_REQUEST, /* msg holds a request */
	EVENT_PARKED,  /* the slot stopped */
};

struct api_call {
	struct api_server *server;
	nng_ctx ctx;
	nng_aio *aio;
	atomic_int phase;
	/* Written by the NNG thread before the push, read by the loop thread
	 * after the pop (the stack's release/acquire orders them). */
	enum call_event event;
	nng_msg *msg;
	struct api_call *next;
	/* Loop thread only. */
	Q53__Api__Request *req;
	char peer_ip[INET6_ADDRSTRLEN]; /* the NNG client's IP, "" = local */
	/* A local call (api_server_submit): not a slot; answered to this. */
	api_local_reply_fn local_cb;
	void *local_ctx;
};

struct api_server {
	uv_loop_t *loop;
	uv_async_t async;
	struct api_backend backend;
	char *url;
	unsigned max_inflight;
	size_t max_request_size;
	unsigned send_timeout_ms;
	api_admit_fn admit;
	void *admit_data;
	nng_tls_config *tls;
	unsigned max_connections;
	unsigned idle_ms;
	struct q53_pipe_guard *guard; /* the listener's connections */

	nng_socket sock;
	bool sock_open;
	int port;
	struct api_call *calls;
	unsigned ncalls;

	_Atomic(struct api_call *) inbox; /* pushed by NNG, taken by loop */
	atomic_bool closing;

	bool close_called;
	unsigned parked;  /* slots parked since closing */
	unsigned n_local; /* local calls not answered yet */
	api_server_close_cb close_cb;
	void *close_data;

	struct api_server_stats stats;
	char errmsg[256];
};

/* --- NNG side --------------------------------------------------------- */

static void inbox_push(struct api_server *s, struct api_call *c)
{
	struct api_call *head =
	    atomic_load_explicit(&s->inbox, memory_order_relaxed);
	do {
		c->next = head;
	} while (!atomic_compare_exchange_weak_explicit(
	    &s->inbox, &head, c, memory_order_release, memory_order_relaxed));
	uv_async_send(&s->async);
}

/* Any thread. The second look at `closing` pairs with api_server_close,
 * which sets it and then cancels every slot it sees in RECV: one of the
 * two always cancels this receive (both are seq_cst). */
static void call_start_recv(struct api_call *c)
{
	atomic_store(&c->phase, PHASE_RECV);
	nng_aio_set_timeout(c->aio, NNG_DURATION_INFINITE);
	nng_ctx_recv(c->ctx, c->aio);
	if (atomic_load(&c->server->closing))
		nng_aio_cancel(c->aio);
}

static void call_park(struct api_call *c)
{
	atomic_store(&c->phase, PHASE_PARKED);
	c->event = EVENT_PARKED;
	inbox_push(c->server, c);
}

/* NNG thread. */
static void call_aio_cb(void *arg)
{
	struct api_call *c = arg;
	struct api_server *s = c->server;
	int rv = nng_aio_result(c->aio);

	switch (atomic_load(&c->phase)) {
	case PHASE_RECV:
		if (rv != 0) {
			/* Cancelled or closed; any other failure is retried
			 * from the loop thread, so it cannot spin here. */
			call_park(c);
			return;
		}
		c->msg = nng_aio_get_msg(c->aio);
		nng_aio_set_msg(c->aio, NULL);
		atomic_store(&c->phase, PHASE_LOOP);
		c->event = EVENT_REQUEST;
		inbox_push(s, c);
		return;
	case PHASE_SEND:
		if (rv != 0) {
			/* The client went away or stalled: the reply is
			 * dropped, the client's own timeout tells it. */
			nng_msg *m = nng_aio_get_msg(c->aio);
			nng_aio_set_msg(c->aio, NULL);
			if (m != NULL)
				nng_msg_free(m);
		}
		if (atomic_load(&s->closing))
			call_park(c);
		else
			call_start_recv(c);
		return;
	default:
		assert(!"api: aio completion in an unexpected phase");
		return;
	}
}

/* --- loop side -------------------------------------------------------- */

static void server_finish_close(struct api_server *s);

static void server_maybe_closed(struct api_server *s)
{
	if (s->close_called && s->parked == s->ncalls && s->n_local == 0)
		server_finish_close(s);
}

static void call_release_request(struct api_call *c)
{
	api_msg_request_free(c->req);
	c->req = NULL;
	if (c->msg != NULL) {
		nng_msg_free(c->msg);
		c->msg = NULL;
	}
}

/* The slot gives up on its current request without a reply (no memory
 * for one): REP allows receiving again. */
static void local_finish(struct api_call *c, const uint8_t *resp, size_t len)
{
	struct api_server *s = c->server;
	api_local_reply_fn cb = c->local_cb;
	void *ctx = c->local_ctx;

	call_release_request(c);
	free(c);
	s->n_local--;
	cb(ctx, resp, len);
	server_maybe_closed(s);
}

static void call_abandon(struct api_call *c)
{
	struct api_server *s = c->server;
	if (c->local_cb != NULL) {
		local_finish(c, NULL, 0);
		return;
	}
	call_release_request(c);
	if (atomic_load(&s->closing)) {
		atomic_store(&c->phase, PHASE_PARKED);
		s->parked++;
		server_maybe_closed(s);
	} else {
		call_start_recv(c);
	}
}

static void call_send(struct api_call *c, nng_msg *m)
{
	struct api_server *s = c->server;
	if (c->local_cb != NULL) {
		s->stats.replies++;
		local_finish(c, nng_msg_body(m), nng_msg_len(m));
		nng_msg_free(m);
		return;
	}
	call_release_request(c);
	s->stats.replies++;
	atomic_store(&c->phase, PHASE_SEND);
	nng_aio_set_msg(c->aio, m);
	nng_aio_set_timeout(c->aio, (nng_duration)s->send_timeout_ms);
	nng_ctx_send(c->ctx, c->aio);
}

static void call_reply_packed(struct api_call *c, const Q53__Api__Response *r)
{
	size_t n = api_msg_response_packed_size(r);
	nng_msg *m;
	if (nng_msg_alloc(&m, n) != 0) {
		call_abandon(c);
		return;
	}
	api_msg_response_pack(r, nng_msg_body(m));
	call_send(c, m);
}

static void call_reply_error_v(struct api_call *c, const char *code,
			       bool retryable, const char *fmt, va_list ap)
{
	char message[1024];
	vsnprintf(message, sizeof(message), fmt, ap);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	r.error = (char *)code;
	r.message = message;
	r.retryable = retryable;
	call_reply_packed(c, &r);
}

static void call_reply_error(struct api_call *c, const char *code,
			     bool retryable, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void call_reply_error(struct api_call *c, const char *code,
			     bool retryable, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	call_reply_error_v(c, code, retryable, fmt, ap);
	va_end(ap);
}

static void call_dispatch(struct api_call *c)
{
	const struct api_backend *b = &c->server->backend;
	const Q53__Api__Request *r = c->req;
	void *d = b->data;

#define DISPATCH(member)                                                       \
	do {                                                                   \
		if (b->member == NULL)                                         \
			break;                                                 \
		b->member(d, c, r->member);                                    \
		return;                                                        \
	} while (0)

	switch (r->body_case) {
	case Q53__API__REQUEST__BODY_CREATE_ZONE:
		DISPATCH(create_zone);
		break;
	case Q53__API__REQUEST__BODY_LIST_ZONES:
		DISPATCH(list_zones);
		break;
	case Q53__API__REQUEST__BODY_GET_ZONE:
		DISPATCH(get_zone);
		break;
	case Q53__API__REQUEST__BODY_DELETE_ZONE:
		DISPATCH(delete_zone);
		break;
	case Q53__API__REQUEST__BODY_IMPORT_ZONE:
		DISPATCH(import_zone);
		break;
	case Q53__API__REQUEST__BODY_EXPORT_ZONE:
		DISPATCH(export_zone);
		break;
	case Q53__API__REQUEST__BODY_CHANGE_BATCH:
		DISPATCH(change_batch);
		break;
	case Q53__API__REQUEST__BODY_GET_CHANGE:
		DISPATCH(get_change);
		break;
	case Q53__API__REQUEST__BODY_LIST_RECORDS:
		DISPATCH(list_records);
		break;
	case Q53__API__REQUEST__BODY_LIST_NODES:
		DISPATCH(list_nodes);
		break;
	case Q53__API__REQUEST__BODY_ADD_NODE:
		DISPATCH(add_node);
		break;
	case Q53__API__REQUEST__BODY_REMOVE_NODE:
		DISPATCH(remove_node);
		break;
	case Q53__API__REQUEST__BODY_STATUS:
		DISPATCH(status);
		break;
	case Q53__API__REQUEST__BODY_CREATE_HEALTH_CHECK:
		DISPATCH(create_health_check);
		break;
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK:
		DISPATCH(get_health_check);
		break;
	case Q53__API__REQUEST__BODY_LIST_HEALTH_CHECKS:
		DISPATCH(list_health_checks);
		break;
	case Q53__API__REQUEST__BODY_UPDATE_HEALTH_CHECK:
		DISPATCH(update_health_check);
		break;
	case Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK:
		DISPATCH(delete_health_check);
		break;
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK_STATUS:
		DISPATCH(get_health_check_status);
		break;
	case Q53__API__REQUEST__BODY_HEALTH_VOTE:
		DISPATCH(health_vote);
		break;
	case Q53__API__REQUEST__BODY_CREATE_ACCESS_KEY:
		DISPATCH(create_access_key);
		break;
	case Q53__API__REQUEST__BODY_DELETE_ACCESS_KEY:
		DISPATCH(delete_access_key);
		break;
	case Q53__API__REQUEST__BODY_LIST_ACCESS_KEYS:
		DISPATCH(list_access_keys);
		break;
	case Q53__API__REQUEST__BODY_LIST_CHANGES:
		DISPATCH(list_changes);
		break;
	case Q53__API__REQUEST__BODY_UPDATE_ZONE_COMMENT:
		DISPATCH(update_zone_comment);
		break;
	case Q53__API__REQUEST__BODY_CHANGE_TAGS:
		DISPATCH(change_tags);
		break;
	case Q53__API__REQUEST__BODY_LIST_TAGS:
		DISPATCH(list_tags);
		break;
	case Q53__API__REQUEST__BODY_TEST_ANSWER:
		DISPATCH(test_answer);
		break;
	case Q53__API__REQUEST__BODY_TRAFFIC_FLOW:
		DISPATCH(traffic_flow);
		break;
	case Q53__API__REQUEST__BODY_LATENCY_SET:
		DISPATCH(latency_set);
		break;
	case Q53__API__REQUEST__BODY_LATENCY_DELETE:
		DISPATCH(latency_delete);
		break;
	case Q53__API__REQUEST__BODY_LATENCY_LIST:
		DISPATCH(latency_list);
		break;
	case Q53__API__REQUEST__BODY_LATENCY_SAMPLES:
		DISPATCH(latency_samples);
		break;
	case Q53__API__REQUEST__BODY_SET_ZONE_TRANSFER:
	case Q53__API__REQUEST__BODY_GET_ZONE_TRANSFER:
		if (b->zone_transfer == NULL)
			break;
		b->zone_transfer(d, c);
		return;
	case Q53__API__REQUEST__BODY_GET_ZONE_LIMIT:
		DISPATCH(get_zone_limit);
		break;
	case Q53__API__REQUEST__BODY_SET_ZONE_LIMIT:
		DISPATCH(set_zone_limit);
		break;
	case Q53__API__REQUEST__BODY_CREATE_CIDR_COLLECTION:
	case Q53__API__REQUEST__BODY_CHANGE_CIDR_COLLECTION:
	case Q53__API__REQUEST__BODY_DELETE_CIDR_COLLECTION:
	case Q53__API__REQUEST__BODY_LIST_CIDR_COLLECTIONS:
	case Q53__API__REQUEST__BODY_LIST_CIDR_LOCATIONS:
	case Q53__API__REQUEST__BODY_LIST_CIDR_BLOCKS:
		if (b->cidr == NULL)
			break;
		b->cidr(d, c);
		return;
	case Q53__API__REQUEST__BODY_CREATE_QUERY_LOGGING:
	case Q53__API__REQUEST__BODY_DELETE_QUERY_LOGGING:
	case Q53__API__REQUEST__BODY_LIST_QUERY_LOGGING:
		if (b->query_logging == NULL)
			break;
		b->query_logging(d, c);
		return;
	case Q53__API__REQUEST__BODY__NOT_SET:
	default:
		break; /* api_msg_request_decode refuses these */
	}
#undef DISPATCH
	call_reply_error(c, API_ERR_NOT_IMPLEMENTED, false,
			 "this node does not implement %s",
			 api_msg_op_name(r->body_case));
}

/* The IP the request's connection comes from. */
static void call_peer_ip(struct api_call *c)
{
	nng_pipe pipe = nng_msg_get_pipe(c->msg);
	nng_sockaddr sa;
	const void *a = NULL;
	int af = 0;

	c->peer_ip[0] = '\0';
	if (nng_pipe_id(pipe) <= 0 ||
	    nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET) {
		af = AF_INET;
		a = &sa.s_in.sa_addr;
	} else if (sa.s_family == NNG_AF_INET6) {
		af = AF_INET6;
		a = sa.s_in6.sa_addr;
	} else {
		/* ipc:// or inproc://: local; "-" keeps it apart from
		 * api_server_submit's calls. */
		snprintf(c->peer_ip, sizeof(c->peer_ip), "-");
		return;
	}
	if (inet_ntop(af, a, c->peer_ip, sizeof(c->peer_ip)) == NULL)
		c->peer_ip[0] = '\0';
}

static void call_handle_request(struct api_call *c)
{
	struct api_server *s = c->server;

	if (atomic_load(&s->closing)) {
		s->stats.refused++;
		call_reply_error(c, API_ERR_UNAVAILABLE, true,
				 "the node is shutting down; retry or use "
				 "another node");
		return;
	}
	char err[512];
	int rv =
	    api_msg_request_decode(nng_msg_body(c->msg), nng_msg_len(c->msg),
				   &c->req, err, sizeof(err));
	if (rv != 0) {
		s->stats.malformed++;
		if (rv == Q53_ENOMEM) {
			call_reply_error(c, API_ERR_UNAVAILABLE, true,
					 "out of memory decoding the request");
			return;
		}
		api_reply_error_text(c, err);
		return;
	}
	call_peer_ip(c);
	/* Over NNG only: api_server_submit's callers (the REST edge) did
	 * their own authentication. */
	if (s->admit != NULL && c->local_cb == NULL) {
		char why[256] = "";

		if (!s->admit(s->admit_data, c->peer_ip, c->req, why,
			      sizeof(why))) {
			s->stats.denied++;
			call_reply_error(c, API_ERR_ACCESS_DENIED, false, "%s",
					 why);
			return;
		}
	}
	/* A connection that delivered a request it may make is not idle. */
	if (c->local_cb == NULL)
		q53_pipe_guard_seen(s->guard, nng_msg_get_pipe(c->msg));
	s->stats.requests++;
	call_dispatch(c);
}

void api_server_tick(struct api_server *s)
{
	if (s->sock_open && !atomic_load(&s->closing))
		q53_pipe_guard_sweep(s->guard);
}

static void server_async_cb(uv_async_t *async)
{
	struct api_server *s = async->data;
	struct api_call *list =
	    atomic_exchange_explicit(&s->inbox, NULL, memory_order_acquire);

	/* The stack is newest first: answer in arrival order. */
	struct api_call *fifo = NULL;
	while (list != NULL) {
		struct api_call *next = list->next;
		list->next = fifo;
		fifo = list;
		list = next;
	}
	while (fifo != NULL) {
		struct api_call *c = fifo;
		fifo = c->next;
		c->next = NULL;
		if (c->event == EVENT_REQUEST) {
			call_handle_request(c);
		} else if (atomic_load(&s->closing)) {
			s->parked++;
		} else {
			call_start_recv(c); /* a receive error: try again */
		}
	}
	server_maybe_closed(s);
}

int api_server_submit(struct api_server *s, const uint8_t *req, size_t len,
		      api_local_reply_fn cb, void *ctx)
{
	struct api_call *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return Q53_ENOMEM;
	if (nng_msg_alloc(&c->msg, len) != 0) {
		free(c);
		return Q53_ENOMEM;
	}
	if (len > 0)
		memcpy(nng_msg_body(c->msg), req, len);
	c->server = s;
	c->local_cb = cb;
	c->local_ctx = ctx;
	atomic_init(&c->phase, PHASE_LOOP);
	s->n_local++;
	call_handle_request(c);
	return 0;
}

/* --- lifecycle -------------------------------------------------------- */

static char *server_url(const char *listen, bool tls)
{
	size_t n = strlen(listen) + sizeof("tls+tcp://");
	char *url = malloc(n);

	if (url == NULL)
		return NULL;
	if (q53_peer_url(listen, tls, url, n) != 0) {
		free(url);
		return NULL;
	}
	return url;
}

int api_server_init(struct api_server **out, uv_loop_t *loop,
		    const struct api_backend *backend,
		    const struct api_server_config *config)
{
	*out = NULL;
	if (backend == NULL || config == NULL || config->listen == NULL ||
	    config->listen[0] == '\0')
		return Q53_EINVAL;

	struct api_server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return Q53_ENOMEM;
	s->loop = loop;
	s->backend = *backend;
	s->max_inflight = config->max_inflight != 0 ? config->max_inflight
						    : DEFAULT_MAX_INFLIGHT;
	s->max_request_size = config->max_request_size != 0
				  ? config->max_request_size
				  : DEFAULT_MAX_REQUEST_SIZE;
	s->admit = config->admit;
	s->tls = config->tls;
	s->max_connections = config->max_connections;
	s->idle_ms = config->idle_ms;
	s->admit_data = config->admit_data;
	s->send_timeout_ms = config->send_timeout_ms != 0
				 ? config->send_timeout_ms
				 : DEFAULT_SEND_TIMEOUT_MS;
	atomic_init(&s->inbox, NULL);
	atomic_init(&s->closing, false);
	s->url = server_url(config->listen, config->tls != NULL);
	if (s->url == NULL)
		goto err_after_alloc;
	if (uv_async_init(loop, &s->async, server_async_cb) != 0)
		goto err_after_url;
	s->async.data = s;
	*out = s;
	return 0;

err_after_url:
	free(s->url);
err_after_alloc:
	free(s);
	return Q53_ENOMEM;
}

static int nng_to_q53(int nng_rv)
{
	switch (nng_rv) {
	case NNG_ENOMEM:
		return Q53_ENOMEM;
	case NNG_EADDRINUSE:
		return Q53_EEXIST;
	default:
		return Q53_EINVAL;
	}
}

/* Undoes the NNG part of a failed start (no operation was started). */
static void server_stop_nng(struct api_server *s)
{
	if (s->sock_open) {
		q53_nng_close(
		    s->sock,
		    Q53_NNG_CLOSE_TIMEOUT_MS); /* closes the contexts too */
		s->sock_open = false;
	}
	/* After the socket: its notifications use the guard. */
	q53_pipe_guard_free(s->guard);
	s->guard = NULL;
	for (unsigned i = 0; i < s->ncalls; i++)
		if (s->calls[i].aio != NULL)
			nng_aio_free(s->calls[i].aio);
	free(s->calls);
	s->calls = NULL;
	s->ncalls = 0;
}

int api_server_start(struct api_server *s)
{
	int rv;
	const char *what;

	assert(!s->sock_open && !s->close_called);
	if ((rv = nng_rep0_open(&s->sock)) != 0) {
		what = "open the REP socket";
		goto err;
	}
	s->sock_open = true;
	if ((rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
				      s->max_request_size)) != 0) {
		what = "set the request size limit";
		goto err_after_open;
	}
	s->calls = calloc(s->max_inflight, sizeof(*s->calls));
	if (s->calls == NULL) {
		rv = NNG_ENOMEM;
		what = "allocate request slots";
		goto err_after_open;
	}
	for (unsigned i = 0; i < s->max_inflight; i++) {
		struct api_call *c = &s->calls[i];
		c->server = s;
		atomic_init(&c->phase, PHASE_IDLE);
		s->ncalls++;
		if ((rv = nng_aio_alloc(&c->aio, call_aio_cb, c)) != 0 ||
		    (rv = nng_ctx_open(&c->ctx, s->sock)) != 0) {
			what = "set up request slots";
			goto err_after_open;
		}
	}
	nng_listener l;
	if ((rv = q53_pipe_guard_new(&s->guard, s->sock, s->max_connections,
				     s->idle_ms)) != 0) {
		what = "guard connections";
		rv = NNG_ENOMEM;
		goto err_after_open;
	}
	if ((rv = nng_listener_create(&l, s->sock, s->url)) != 0 ||
	    (s->tls != NULL &&
	     (rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, s->tls)) != 0) ||
	    (rv = nng_listener_start(l, 0)) != 0) {
		what = "listen";
		goto err_after_open;
	}
	int port = 0;
	if (nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0)
		s->port = port;
	for (unsigned i = 0; i < s->ncalls; i++)
		call_start_recv(&s->calls[i]);
	return 0;

err_after_open:
	server_stop_nng(s);
err:
	snprintf(s->errmsg, sizeof(s->errmsg), "api %s %s: %s", what, s->url,
		 nng_strerror(rv));
	return nng_to_q53(rv);
}

const char *api_server_errmsg(const struct api_server *s)
{
	return s->errmsg;
}

int api_server_port(const struct api_server *s)
{
	return s->port;
}

void api_server_stats(const struct api_server *s,
		      struct api_server_stats *stats)
{
	*stats = s->stats;
}

static void server_async_closed(uv_handle_t *h)
{
	struct api_server *s = h->data;
	api_server_close_cb cb = s->close_cb;
	void *data = s->close_data;
	free(s->url);
	free(s);
	if (cb != NULL)
		cb(data);
}

static void server_finish_close(struct api_server *s)
{
	if (uv_is_closing((uv_handle_t *)&s->async))
		return;
	/* Every slot is parked: nng_aio_free only waits for a completion
	 * callback that may still be returning from its uv_async_send, so
	 * the handle is closed after, not before. */
	for (unsigned i = 0; i < s->ncalls; i++)
		call_release_request(&s->calls[i]);
	server_stop_nng(s);
	uv_close((uv_handle_t *)&s->async, server_async_closed);
}

void api_server_close(struct api_server *s, api_server_close_cb cb, void *data)
{
	assert(!s->close_called);
	s->close_called = true;
	s->close_cb = cb;
	s->close_data = data;
	atomic_store(&s->closing, true);
	for (unsigned i = 0; i < s->ncalls; i++) {
		struct api_call *c = &s->calls[i];
		if (atomic_load(&c->phase) == PHASE_RECV)
			nng_aio_cancel(c->aio);
	}
	server_maybe_closed(s);
}

/* --- answering -------------------------------------------------------- */

const Q53__Api__Request *api_call_request(const struct api_call *call)
{
	return call->req;
}

const uint8_t *api_call_raw(const struct api_call *call, size_t *len)
{
	*len = nng_msg_len(call->msg);
	return nng_msg_body(call->msg);
}

void api_reply(struct api_call *call, const Q53__Api__Response *resp)
{
	assert(atomic_load(&call->phase) == PHASE_LOOP);
	Q53__Api__Request__BodyCase op = call->req != NULL
					     ? call->req->body_case
					     : Q53__API__REQUEST__BODY__NOT_SET;
	if (!api_msg_response_matches(op, resp)) {
		call_reply_error(call, API_ERR_INTERNAL, false,
				 "the node answered %s with the wrong message",
				 api_msg_op_name(op));
		return;
	}
	call_reply_packed(call, resp);
}

void api_reply_error(struct api_call *call, const char *code, bool retryable,
		     const char *fmt, ...)
{
	assert(atomic_load(&call->phase) == PHASE_LOOP);
	va_list ap;
	va_start(ap, fmt);
	call_reply_error_v(call, code, retryable, fmt, ap);
	va_end(ap);
}

void api_reply_error_text(struct api_call *call, const char *text)
{
	char code[64];
	const char *message;
	api_msg_split_error(text, code, sizeof(code), &message);
	api_reply_error(call, code, false, "%s", message);
}

void api_reply_not_leader(struct api_call *call, const char *leader_api)
{
	assert(atomic_load(&call->phase) == PHASE_LOOP);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	r.error = API_ERR_NOT_LEADER;
	r.message = leader_api != NULL && leader_api[0] != '\0'
			? "this node is not the leader; send to leader_api"
			: "this node is not the leader and knows none yet";
	r.retryable = true;
	if (leader_api != NULL)
		r.leader_api = (char *)leader_api;
	call_reply_packed(call, &r);
}

void api_reply_raw(struct api_call *call, const uint8_t *buf, size_t len)
{
	assert(atomic_load(&call->phase) == PHASE_LOOP);
	nng_msg *m;
	if (nng_msg_alloc(&m, len) != 0) {
		call_abandon(call);
		return;
	}
	if (len > 0)
		memcpy(nng_msg_body(m), buf, len);
	call_send(call, m);
}
