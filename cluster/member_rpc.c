/* DESIGN: NNG completes each request's aio on its own threads (we create
 * none). The only code of ours they run is rpc_aio_cb(): it pushes the
 * request onto a mutex-protected done list and wakes the loop with
 * uv_async_send. The loop thread owns everything else: it reads the aio's
 * result, starts the receive after the send, and calls the user's
 * callback (house style #9). A request is owned by NNG while an operation
 * is pending and by the loop thread once it is on the done list. */
#include "cluster/member_rpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "node/common/errcode.h"
#include "node/common/nng_close.h"
#include "node/common/peer_tls.h"

#define RPC_MAX_RESPONSE     ((size_t)256 << 20)
#define RPC_RECONNECT_MIN_MS 50
#define RPC_RECONNECT_MAX_MS 500
#define RPC_URL_MAX	     300
#define RPC_SEND_MS	     1000

struct rpc_peer {
	struct rpc_peer *next;
	char url[RPC_URL_MAX];
	nng_socket sock;
};

enum rpc_phase {
	RPC_SEND,
	RPC_RECV,
};

struct rpc_req {
	struct member_rpc *c;
	struct rpc_req *prev, *next; /* in flight (loop thread) */
	struct rpc_req *done_next;   /* done list (under mutex) */
	nng_ctx ctx;
	nng_aio *aio;
	enum rpc_phase phase;
	uint64_t deadline; /* uv_now */
	member_rpc_cb cb;
	void *data;
};

struct member_rpc {
	uv_loop_t *loop;
	uv_async_t async;
	pthread_mutex_t mu;
	struct rpc_req *done; /* pushed by NNG threads */
	struct rpc_req *inflight;
	unsigned n_inflight;
	struct rpc_peer *peers;
	bool closing;
	nng_tls_config *tls; /* member_rpc_set_tls, NULL: plain TCP */
	bool have_source; /* dial from this address (member_rpc_set_source) */
	nng_sockaddr source;
	void (*close_cb)(void *);
	void *close_data;
};

static int rpc_errno(int nng_rv)
{
	switch (nng_rv) {
	case 0:
		return 0;
	case NNG_ETIMEDOUT:
		return -ETIMEDOUT;
	case NNG_ECANCELED:
	case NNG_ECLOSED:
		return -ECANCELED;
	case NNG_ECONNREFUSED:
		return -ECONNREFUSED;
	case NNG_ENOMEM:
		return Q53_ENOMEM;
	default:
		return -EIO;
	}
}

static void rpc_aio_cb(void *arg)
{
	struct rpc_req *r = arg;
	struct member_rpc *c = r->c;

	pthread_mutex_lock(&c->mu);
	r->done_next = c->done;
	c->done = r;
	pthread_mutex_unlock(&c->mu);
	uv_async_send(&c->async);
}

static void rpc_unlink(struct member_rpc *c, struct rpc_req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		c->inflight = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	c->n_inflight--;
}

/* Ends r: one user callback, then r is freed. */
static void rpc_finish(struct rpc_req *r, int status, nng_msg *msg)
{
	struct member_rpc *c = r->c;

	rpc_unlink(c, r);
	if (status == 0 && msg != NULL)
		r->cb(r->data, 0, nng_msg_body(msg), nng_msg_len(msg));
	else
		r->cb(r->data, status != 0 ? status : -EIO, NULL, 0);
	if (msg != NULL)
		nng_msg_free(msg);
	nng_ctx_close(r->ctx);
	nng_aio_free(r->aio);
	free(r);
}

static void rpc_step(struct rpc_req *r)
{
	struct member_rpc *c = r->c;
	int rv = nng_aio_result(r->aio);
	nng_msg *msg = nng_aio_get_msg(r->aio);

	if (r->phase == RPC_SEND) {
		if (rv != 0 || c->closing) {
			/* A failed send leaves the message with us. */
			if (rv != 0 && msg != NULL)
				nng_msg_free(msg);
			/* Never handed to a connection: not delivered. */
			rpc_finish(r,
				   rv == 0 || rpc_errno(rv) == -ECANCELED
				       ? -ECANCELED
				       : -ENOTCONN,
				   NULL);
			return;
		}
		uint64_t now = uv_now(c->loop);
		if (now >= r->deadline) {
			rpc_finish(r, -ETIMEDOUT, NULL);
			return;
		}
		r->phase = RPC_RECV;
		nng_aio_set_timeout(r->aio, (nng_duration)(r->deadline - now));
		nng_ctx_recv(r->ctx, r->aio);
		return;
	}
	if (rv != 0) {
		rpc_finish(r, rpc_errno(rv), NULL);
		return;
	}
	rpc_finish(r, c->closing ? -ECANCELED : 0, msg);
}

static void rpc_drain(struct member_rpc *c)
{
	struct rpc_req *list, *next;

	pthread_mutex_lock(&c->mu);
	list = c->done;
	c->done = NULL;
	pthread_mutex_unlock(&c->mu);
	/* Oldest first (the list is a stack). */
	struct rpc_req *rev = NULL;
	for (; list != NULL; list = next) {
		next = list->done_next;
		list->done_next = rev;
		rev = list;
	}
	for (; rev != NULL; rev = next) {
		next = rev->done_next;
		rpc_step(rev);
	}
}

static void rpc_async_cb(uv_async_t *a)
{
	rpc_drain(a->data);
}

int member_rpc_init(struct member_rpc **out, uv_loop_t *loop)
{
	struct member_rpc *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return Q53_ENOMEM;
	c->loop = loop;
	if (pthread_mutex_init(&c->mu, NULL) != 0)
		goto err_free;
	if (uv_async_init(loop, &c->async, rpc_async_cb) != 0)
		goto err_mutex;
	c->async.data = c;
	*out = c;
	return 0;
err_mutex:
	pthread_mutex_destroy(&c->mu);
err_free:
	free(c);
	return Q53_ENOMEM;
}

static int rpc_url(const struct member_rpc *c, const char *address, char *url,
		   size_t len)
{
	return q53_peer_url(address, c->tls != NULL, url, len);
}

static int rpc_peer_get(struct member_rpc *c, const char *address,
			struct rpc_peer **out)
{
	char url[RPC_URL_MAX];
	struct rpc_peer *p;
	nng_dialer d;
	int rv;

	rv = rpc_url(c, address, url, sizeof(url));
	if (rv != 0)
		return rv;
	for (p = c->peers; p != NULL; p = p->next) {
		if (strcmp(p->url, url) == 0) {
			*out = p;
			return 0;
		}
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return Q53_ENOMEM;
	memcpy(p->url, url, sizeof(url));
	if (nng_req0_open(&p->sock) != 0) {
		free(p);
		return Q53_ENOMEM;
	}
	/* Never re-send (neither on a timer nor when the connection drops:
	 * NNG re-queues a pending request on another pipe when its pipe
	 * closes unless the resend time is infinite); a forwarded write
	 * re-sent after a leader change could be applied twice. */
	if (nng_socket_set_ms(p->sock, NNG_OPT_REQ_RESENDTIME,
			      NNG_DURATION_INFINITE) != 0) {
		q53_nng_close(p->sock, Q53_NNG_CLOSE_TIMEOUT_MS);
		free(p);
		return Q53_EINVAL;
	}
	nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ, RPC_MAX_RESPONSE);
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, RPC_RECONNECT_MIN_MS);
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, RPC_RECONNECT_MAX_MS);
	/* Non-blocking: the dialer keeps retrying in the background. From
	 * the source address when one is set: a member's API requests come
	 * from its own address's IP (node/api/api_edge.c admits by it). */
	if (nng_dialer_create(&d, p->sock, p->url) != 0 ||
	    (c->have_source &&
	     nng_dialer_set_addr(d, NNG_OPT_LOCADDR, &c->source) != 0) ||
	    (c->tls != NULL &&
	     nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, c->tls) != 0) ||
	    nng_dialer_start(d, NNG_FLAG_NONBLOCK) != 0) {
		q53_nng_close(p->sock, Q53_NNG_CLOSE_TIMEOUT_MS);
		free(p);
		return Q53_EINVAL;
	}
	p->next = c->peers;
	c->peers = p;
	*out = p;
	return 0;
}

void member_rpc_set_tls(struct member_rpc *c, nng_tls_config *tls)
{
	c->tls = tls;
}

int member_rpc_set_source(struct member_rpc *c, const char *ip)
{
	nng_sockaddr sa;

	memset(&sa, 0, sizeof(sa));
	if (ip == NULL || ip[0] == '\0') {
		c->have_source = false;
		return 0;
	}
	if (inet_pton(AF_INET, ip, &sa.s_in.sa_addr) == 1)
		sa.s_in.sa_family = NNG_AF_INET;
	else if (inet_pton(AF_INET6, ip, sa.s_in6.sa_addr) == 1)
		sa.s_in6.sa_family = NNG_AF_INET6;
	else
		return Q53_EINVAL;
	c->source = sa;
	c->have_source = true;
	return 0;
}

int member_rpc_call(struct member_rpc *c, const char *address,
		    const uint8_t *req, size_t len, unsigned timeout_ms,
		    member_rpc_cb cb, void *data)
{
	struct rpc_peer *p;
	struct rpc_req *r;
	nng_msg *msg = NULL;
	int rv;

	if (c->closing)
		return -ECANCELED;
	rv = rpc_peer_get(c, address, &p);
	if (rv != 0)
		return rv;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return Q53_ENOMEM;
	r->c = c;
	r->cb = cb;
	r->data = data;
	r->phase = RPC_SEND;
	r->deadline = uv_now(c->loop) + timeout_ms;
	if (nng_ctx_open(&r->ctx, p->sock) != 0)
		goto err_free;
	/* Contexts copy the socket's resend time when opened; set it on the
	 * context too so no NNG version can re-send this request. */
	if (nng_ctx_set_ms(r->ctx, NNG_OPT_REQ_RESENDTIME,
			   NNG_DURATION_INFINITE) != 0)
		goto err_ctx;
	if (nng_aio_alloc(&r->aio, rpc_aio_cb, r) != 0)
		goto err_ctx;
	if (nng_msg_alloc(&msg, 0) != 0 || nng_msg_append(msg, req, len) != 0)
		goto err_aio;
	/* A live peer takes the request at once; waiting longer for a
	 * connection only delays the caller's retry elsewhere. */
	nng_aio_set_timeout(r->aio, (nng_duration)(timeout_ms < RPC_SEND_MS
						       ? timeout_ms
						       : RPC_SEND_MS));
	nng_aio_set_msg(r->aio, msg);
	r->next = c->inflight;
	if (c->inflight != NULL)
		c->inflight->prev = r;
	c->inflight = r;
	c->n_inflight++;
	nng_ctx_send(r->ctx, r->aio);
	return 0;
err_aio:
	if (msg != NULL)
		nng_msg_free(msg);
	nng_aio_free(r->aio);
err_ctx:
	nng_ctx_close(r->ctx);
err_free:
	free(r);
	return Q53_ENOMEM;
}

unsigned member_rpc_inflight(const struct member_rpc *c)
{
	return c->n_inflight;
}

static void rpc_closed(uv_handle_t *h)
{
	struct member_rpc *c = h->data;
	void (*cb)(void *) = c->close_cb;
	void *data = c->close_data;

	pthread_mutex_destroy(&c->mu);
	free(c);
	if (cb != NULL)
		cb(data);
}

void member_rpc_close(struct member_rpc *c, void (*done)(void *), void *data)
{
	struct rpc_peer *p, *next;

	c->closing = true;
	c->close_cb = done;
	c->close_data = data;
	/* nng_aio_stop waits for the callback: afterwards every request is
	 * on the done list and NNG holds none. */
	for (struct rpc_req *r = c->inflight; r != NULL; r = r->next)
		nng_aio_stop(r->aio);
	rpc_drain(c);
	while (c->inflight != NULL)
		rpc_finish(c->inflight, -ECANCELED, NULL);
	for (p = c->peers; p != NULL; p = next) {
		next = p->next;
		q53_nng_close(p->sock, Q53_NNG_CLOSE_TIMEOUT_MS);
		free(p);
	}
	c->peers = NULL;
	uv_close((uv_handle_t *)&c->async, rpc_closed);
}
