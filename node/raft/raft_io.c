/* DESIGN: NNG runs its own I/O threads (we do not create any). The only
 * code of ours they run is pipe_event(), which touches two atomics per
 * peer; everything else, including every raft callback, runs on the libuv
 * loop thread. The contract numbers (#N) below refer to
 * RAFT_OVER_NNG.md (shared project docs). */
#include "node/raft/raft_io.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <raft/uv.h>

#include "node/common/errcode.h"
#include "node/common/nng_close.h"
#include "node/common/pipe_guard.h"
#include "node/raft/raft_compat.h"
#include "node/raft/raft_msg.h"

/* Messages taken from the PULL socket per loop wake-up, so a busy peer
 * cannot starve timers and disk completions. */
#define RECV_BUDGET 64

#define DEFAULT_MAX_MESSAGE_SIZE ((size_t)256 << 20)
#define DEFAULT_RECONNECT_MIN_MS 50
#define DEFAULT_RECONNECT_MAX_MS 500
#define DEFAULT_SEND_QUEUE	 256

/* One PUSH socket + dialer per peer: its own queue, so a dead peer blocks
 * nobody. */
struct peer {
	raft_id id;
	char *address;
	nng_socket sock;
	bool open;
	atomic_int pipes; /* pipes attached now; written by NNG threads */
	atomic_bool lost; /* a pipe went away since the socket was opened */
};

/* A send completion waiting for the idle handle (#3). */
struct send_done {
	struct send_done *next;
	struct raft_io_send *req;
	raft_io_send_cb cb;
	int status;
};

enum io_state {
	IO_NEW,	    /* q53_raft_io_init done, io->init not (successfully) run */
	IO_READY,   /* listening, inner raft_uv initialised */
	IO_STARTED, /* handles running, raft receives */
	IO_CLOSING,
	IO_CLOSED,
};

struct nng_io {
	struct raft_io *outer;
	struct raft_io inner;		    /* raft_uv: all disk I/O */
	struct raft_uv_transport transport; /* stub, raft_uv never sends */
	uv_loop_t *loop;
	enum io_state state;
	bool inner_alive; /* raft_uv_init done, raft_uv_close not yet */

	size_t max_message_size;
	unsigned reconnect_min_ms;
	unsigned reconnect_max_ms;
	unsigned send_queue;
	void (*log)(void *data, const char *line);
	void *log_data;
	raft_term term_bound;
	nng_tls_config *tls_server; /* NULL: plain TCP */
	unsigned max_connections;
	unsigned idle_ms;
	struct q53_pipe_guard *guard; /* the PULL listener's connections */
	nng_tls_config *tls_client;
	/* per guard verdict: when it was last logged, how many since */
	raft_time refused_logged_ms[Q53_RAFT_GUARD_N_VERDICTS];
	unsigned long long refused_unlogged[Q53_RAFT_GUARD_N_VERDICTS];

	raft_id id;
	char address[Q53_RAFT_MSG_ADDRESS_MAX + 1];
	/* Our address's host when it is an IP literal: peers are dialled from
	 * it, so that members see our connections come from our address. */
	bool have_source;
	nng_sockaddr source;
	nng_socket pull;
	bool pull_open;
	int recv_fd; /* owned by NNG: polled, never read */

	uv_poll_t poll;
	bool poll_init;
	uv_idle_t idle;
	bool idle_init;
	/* Defers the last steps of close past raft_uv's own timer close. */
	uv_timer_t reap;
	bool reaping;
	unsigned handles_closing;

	struct send_done *done_head;
	struct send_done **done_tail;

	struct peer **peers;
	unsigned n_peers;

	raft_io_tick_cb tick;
	raft_io_recv_cb recv;
	raft_io_close_cb close_cb;

	/* libraft 0.15 workarounds: deliver() opens the window, io_send()
	 * clamps the result raft sends inside it. */
	struct q53_raft_compat compat;

	struct q53_raft_io_stats stats;
};

static struct nng_io *impl_of(struct raft_io *io)
{
	return io->impl;
}

static void set_errmsg(struct nng_io *impl, const char *what, int nng_rv)
{
	snprintf(impl->outer->errmsg, sizeof(impl->outer->errmsg), "%s: %s",
		 what, nng_strerror(nng_rv));
}

/* #7: raft reads the outer io's errmsg. */
static int inner_result(struct nng_io *impl, int rv)
{
	if (rv != 0)
		memcpy(impl->outer->errmsg, impl->inner.errmsg,
		       sizeof(impl->outer->errmsg));
	return rv;
}

/* --- stub transport (#2) ------------------------------------------------ */

static int transport_init(struct raft_uv_transport *t, raft_id id,
			  const char *address)
{
	(void)t;
	(void)id;
	(void)address;
	return 0;
}

static int transport_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
	(void)t;
	(void)cb;
	return 0;
}

static int transport_connect(struct raft_uv_transport *t,
			     struct raft_uv_connect *req, raft_id id,
			     const char *address, raft_uv_connect_cb cb)
{
	/* raft_uv only connects from its own send, which we never call. */
	(void)t;
	(void)req;
	(void)id;
	(void)address;
	(void)cb;
	return RAFT_NOCONNECTION;
}

static void transport_close(struct raft_uv_transport *t,
			    raft_uv_transport_close_cb cb)
{
	/* raft_uv's close waits for this callback. */
	cb(t);
}

/* --- trampolines (#1): raft_uv calls back with ITS io ----------------- */

static void peers_prune(struct nng_io *impl);

static void tick_trampoline(struct raft_io *inner)
{
	struct nng_io *impl = inner->data;

	if (impl->tick != NULL)
		impl->tick(impl->outer);
	/* After raft's tick: a configuration change it applied is seen. */
	if (impl->state == IO_STARTED) {
		peers_prune(impl);
		q53_pipe_guard_sweep(impl->guard);
	}
}

static void recv_trampoline(struct raft_io *inner, struct raft_message *m)
{
	struct nng_io *impl = inner->data;

	impl->recv(impl->outer, m);
}

/* --- peers ---------------------------------------------------------------- */

static void pipe_event(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	struct peer *peer = arg;

	(void)pipe;
	/* REM_POST follows every ADD_PRE, even for a pipe rejected later. */
	if (ev == NNG_PIPE_EV_ADD_PRE) {
		atomic_fetch_add(&peer->pipes, 1);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		atomic_fetch_sub(&peer->pipes, 1);
		atomic_store(&peer->lost, true);
	}
}

static void peer_close_socket(struct peer *peer)
{
	if (peer->open) {
		/* Returns after every pipe callback of this socket ran. */
		q53_nng_close(peer->sock, Q53_NNG_CLOSE_TIMEOUT_MS);
		peer->open = false;
	}
}

static int peer_open_socket(struct nng_io *impl, struct peer *peer)
{
	nng_dialer dialer;
	int rv;

	rv = nng_push0_open(&peer->sock);
	if (rv != 0)
		return rv;
	peer->open = true;
	atomic_store(&peer->pipes, 0);
	atomic_store(&peer->lost, false);
	/* Socket values are the defaults of the dialer created below (#10). */
	if ((rv = nng_socket_set_ms(peer->sock, NNG_OPT_RECONNMINT,
				    (nng_duration)impl->reconnect_min_ms)) ||
	    (rv = nng_socket_set_ms(peer->sock, NNG_OPT_RECONNMAXT,
				    (nng_duration)impl->reconnect_max_ms)) ||
	    (rv = nng_socket_set_int(peer->sock, NNG_OPT_SENDBUF,
				     (int)impl->send_queue)) ||
	    (rv = nng_pipe_notify(peer->sock, NNG_PIPE_EV_ADD_PRE, pipe_event,
				  peer)) ||
	    (rv = nng_pipe_notify(peer->sock, NNG_PIPE_EV_REM_POST, pipe_event,
				  peer)))
		goto err_after_open;
	/* Non-blocking: a blocking dial fails once and never retries. From
	 * our own address's IP: receivers check a member's connections come
	 * from the IP of its address (node/raft/raft_guard.h). */
	rv = nng_dialer_create(&dialer, peer->sock, peer->address);
	if (rv != 0)
		goto err_after_open;
	if (impl->have_source &&
	    (rv = nng_dialer_set_addr(dialer, NNG_OPT_LOCADDR,
				      &impl->source)) != 0)
		goto err_after_open;
	if (impl->tls_client != NULL &&
	    (rv = nng_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG,
				     impl->tls_client)) != 0)
		goto err_after_open;
	rv = nng_dialer_start(dialer, NNG_FLAG_NONBLOCK);
	if (rv != 0)
		goto err_after_open;
	return 0;

err_after_open:
	peer_close_socket(peer);
	return rv;
}

static struct peer *peer_find(struct nng_io *impl, raft_id id)
{
	unsigned i;

	for (i = 0; i < impl->n_peers; i++)
		if (impl->peers[i]->id == id)
			return impl->peers[i];
	return NULL;
}

/* The peer for (id, address), created or re-pointed on demand; NULL when it
 * cannot be reached now (bad URL, no memory): the send is then dropped. */
static struct peer *peer_get(struct nng_io *impl, raft_id id,
			     const char *address)
{
	struct peer *peer = peer_find(impl, id);
	struct peer **peers;
	char *copy;

	if (peer != NULL && strcmp(peer->address, address) != 0) {
		copy = strdup(address);
		if (copy == NULL)
			return NULL;
		peer_close_socket(peer);
		free(peer->address);
		peer->address = copy;
	}
	if (peer == NULL) {
		peers =
		    realloc(impl->peers, (impl->n_peers + 1) * sizeof(*peers));
		if (peers == NULL)
			return NULL;
		impl->peers = peers;
		peer = calloc(1, sizeof(*peer));
		if (peer == NULL)
			return NULL;
		peer->address = strdup(address);
		if (peer->address == NULL) {
			free(peer);
			return NULL;
		}
		peer->id = id;
		atomic_init(&peer->pipes, 0);
		atomic_init(&peer->lost, false);
		impl->peers[impl->n_peers++] = peer;
	}
	if (!peer->open && peer_open_socket(impl, peer) != 0)
		return NULL;
	return peer;
}

static bool in_configuration(const struct raft_configuration *conf, raft_id id)
{
	unsigned i;

	for (i = 0; i < conf->n; i++)
		if (conf->servers[i].id == id)
			return true;
	return false;
}

/* Close and forget the peers that left raft's configuration (raft_remove):
 * otherwise their PUSH socket and dialer would retry forever. raft sends to
 * servers of its current configuration only, and peer_get opens a peer
 * again should one come back. raft_init set outer->data to the raft
 * instance (RAFT_OVER_NNG.md #1). */
static void peers_prune(struct nng_io *impl)
{
	const struct raft *r = impl->outer->data;
	unsigned i = 0;

	if (r == NULL || r->configuration.n == 0)
		return;
	while (i < impl->n_peers) {
		struct peer *peer = impl->peers[i];

		if (in_configuration(&r->configuration, peer->id)) {
			i++;
			continue;
		}
		peer_close_socket(peer);
		free(peer->address);
		free(peer);
		impl->peers[i] = impl->peers[--impl->n_peers];
		impl->stats.pruned++;
	}
}

static void peers_close_sockets(struct nng_io *impl)
{
	unsigned i;

	for (i = 0; i < impl->n_peers; i++)
		peer_close_socket(impl->peers[i]);
}

static void peers_free(struct nng_io *impl)
{
	unsigned i;

	for (i = 0; i < impl->n_peers; i++) {
		free(impl->peers[i]->address);
		free(impl->peers[i]);
	}
	free(impl->peers);
	impl->peers = NULL;
	impl->n_peers = 0;
}

/* --- send ------------------------------------------------------------------
 */

/* Encode and queue one message; returns the status for raft's callback. */
static int send_to_peer(struct nng_io *impl, const struct raft_message *m)
{
	struct q53_raft_msg_out *out;
	struct peer *peer;
	nng_msg *msg;
	size_t size;
	int rv;

	if (impl->state != IO_STARTED)
		return RAFT_NOCONNECTION;
	peer = peer_get(impl, m->server_id, m->server_address);
	if (peer == NULL)
		return RAFT_NOCONNECTION;
	/* #11: PUSH keeps queued messages across a reconnect and would replay
	 * stale RPCs: after a lost pipe start over with an empty socket. */
	if (atomic_load(&peer->lost)) {
		peer_close_socket(peer);
		if (peer_open_socket(impl, peer) != 0)
			return RAFT_NOCONNECTION;
	}
	/* Without a pipe PUSH would queue, and replay later: drop now. */
	if (atomic_load(&peer->pipes) <= 0)
		return RAFT_NOCONNECTION;

	rv = q53_raft_msg_prepare(m, impl->id, impl->address, &out);
	if (rv != 0)
		return rv == Q53_ENOMEM ? RAFT_NOMEM : RAFT_INVALID;
	size = q53_raft_msg_packed_size(out);
	rv = nng_msg_alloc(&msg, size);
	if (rv != 0) {
		q53_raft_msg_out_free(out);
		return RAFT_NOMEM;
	}
	q53_raft_msg_pack(out, nng_msg_body(msg));
	q53_raft_msg_out_free(out);
	rv = nng_sendmsg(peer->sock, msg, NNG_FLAG_NONBLOCK);
	if (rv != 0) {
		nng_msg_free(msg); /* still ours when sendmsg fails */
		return RAFT_NOCONNECTION;
	}
	return 0;
}

static void flush_done(struct nng_io *impl)
{
	struct send_done *d;

	while ((d = impl->done_head) != NULL) {
		impl->done_head = d->next;
		if (impl->done_head == NULL)
			impl->done_tail = &impl->done_head;
		/* NULL for TimeoutNow. */
		if (d->cb != NULL)
			d->cb(d->req, d->status);
		free(d);
	}
}

static void idle_cb(uv_idle_t *idle)
{
	struct nng_io *impl = idle->data;

	uv_idle_stop(idle);
	flush_done(impl);
}

/* #3 raft still uses req after send returns: complete on a later loop turn.
 * #4 a non-zero return would make a follower UNAVAILABLE for good, so a
 * lost message is reported through the callback only.
 * A result raft sends while deliver() hands it an AppendEntries is clamped
 * (node/raft/raft_compat.h) on a copy: send_to_peer encodes it before
 * returning, so the copy may live on this stack. */
static int io_send(struct raft_io *io, struct raft_io_send *req,
		   const struct raft_message *message, raft_io_send_cb cb)
{
	struct nng_io *impl = impl_of(io);
	struct raft_message m = *message;
	struct send_done *d;

	d = malloc(sizeof(*d));
	if (d == NULL)
		return RAFT_NOMEM;
	d->next = NULL;
	d->req = req;
	d->cb = cb;
	q53_raft_compat_send(&impl->compat, &m);
	d->status = send_to_peer(impl, &m);
	if (d->status == 0)
		impl->stats.sent++;
	else
		impl->stats.dropped++;
	*impl->done_tail = d;
	impl->done_tail = &d->next;
	if (impl->idle_init)
		uv_idle_start(&impl->idle, idle_cb);
	return 0;
}

/* --- receive -----------------------------------------------------------------
 */

/* The numeric IP the message's connection comes from ("" if unknown). */
static void remote_ip(nng_msg *msg, char *ip, size_t len)
{
	nng_pipe pipe = nng_msg_get_pipe(msg);
	nng_sockaddr sa;

	ip[0] = '\0';
	if (nng_pipe_id(pipe) <= 0 ||
	    nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET) {
		if (inet_ntop(AF_INET, &sa.s_in.sa_addr, ip, (socklen_t)len) ==
		    NULL)
			ip[0] = '\0';
	} else if (sa.s_family == NNG_AF_INET6) {
		if (inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, (socklen_t)len) ==
		    NULL)
			ip[0] = '\0';
	}
}

/* One line per reason per second at most, with the count left out. */
static void log_refused(struct nng_io *impl, enum q53_raft_guard_verdict v,
			const struct raft_message *m, const char *ip)
{
	raft_time now = impl->inner.time(&impl->inner);
	const struct raft *r = impl->outer->data;
	char line[512];

	if (impl->log == NULL)
		return;
	if (impl->refused_logged_ms[v] != 0 &&
	    now - impl->refused_logged_ms[v] < 1000) {
		impl->refused_unlogged[v]++;
		return;
	}
	snprintf(line, sizeof(line),
		 "raft: refused message type %d from id %llu at %.200s "
		 "(connection from %s), term %llu (ours %llu): %s; %llu more "
		 "refused for this reason since the last report",
		 (int)m->type, (unsigned long long)m->server_id,
		 m->server_address, ip[0] != '\0' ? ip : "?",
		 (unsigned long long)q53_raft_guard_term_of(m),
		 (unsigned long long)(r != NULL ? r->current_term : 0),
		 q53_raft_guard_reason(v), impl->refused_unlogged[v]);
	impl->refused_logged_ms[v] = now != 0 ? now : 1;
	impl->refused_unlogged[v] = 0;
	impl->log(impl->log_data, line);
}

static void deliver(struct nng_io *impl, nng_msg *msg)
{
	struct q53_raft_msg_in in;
	enum q53_raft_guard_verdict v;
	char ip[INET6_ADDRSTRLEN];
	nng_pipe pipe = nng_msg_get_pipe(msg);
	int rv;

	remote_ip(msg, ip, sizeof(ip));
	rv = q53_raft_msg_decode(nng_msg_body(msg), nng_msg_len(msg), &in);
	nng_msg_free(msg);
	if (rv != 0 || in.message.server_id == impl->id) {
		if (rv == 0)
			q53_raft_msg_discard(&in.message);
		impl->stats.malformed++;
		return;
	}
	/* Before raft or the compat layer look at it: non-members, forged
	 * addresses, runaway terms (node/raft/raft_guard.h). raft_init set
	 * outer->data to the raft instance (#1). */
	v = q53_raft_guard_check(impl->outer->data, &in.message, ip,
				 impl->term_bound);
	if (v != Q53_RAFT_GUARD_OK) {
		impl->stats.refused++;
		impl->stats.refused_by[v]++;
		log_refused(impl, v, &in.message, ip);
		q53_raft_msg_discard(&in.message);
		return;
	}
	impl->stats.received++;
	/* A connection that delivered a member's message is not idle. */
	q53_pipe_guard_seen(impl->guard, pipe);
	/* libraft 0.15 workarounds (node/raft/raft_compat.h). */
	q53_raft_compat_recv(&impl->compat, impl->outer->data, &in.message);
	/* raft owns entries, conf and snapshot data from here on. */
	impl->recv(impl->outer, &in.message);
	q53_raft_compat_recv_done(&impl->compat);
}

static void poll_cb(uv_poll_t *poll, int status, int events)
{
	struct nng_io *impl = poll->data;
	nng_msg *msg;
	int i;

	(void)events;
	if (status < 0)
		return;
	for (i = 0; i < RECV_BUDGET && impl->state == IO_STARTED; i++) {
		if (nng_recvmsg(impl->pull, &msg, NNG_FLAG_NONBLOCK) != 0)
			break; /* NNG_EAGAIN: the fd clears itself */
		deliver(impl, msg);
	}
}

/* --- lifecycle
 * ----------------------------------------------------------------- */

/* Dial from our address's IP when it is a literal other than a wildcard. */
static void source_of(struct nng_io *impl)
{
	char ip[INET6_ADDRSTRLEN];

	impl->have_source = false;
	memset(&impl->source, 0, sizeof(impl->source));
	if (!q53_raft_guard_address_ip(impl->address, ip, sizeof(ip)))
		return;
	if (inet_pton(AF_INET, ip, &impl->source.s_in.sa_addr) == 1) {
		if (impl->source.s_in.sa_addr == 0)
			return;
		impl->source.s_in.sa_family = NNG_AF_INET;
		impl->have_source = true;
	} else if (inet_pton(AF_INET6, ip, impl->source.s_in6.sa_addr) == 1) {
		static const uint8_t any[16];

		if (memcmp(impl->source.s_in6.sa_addr, any, sizeof(any)) == 0)
			return;
		impl->source.s_in6.sa_family = NNG_AF_INET6;
		impl->have_source = true;
	}
}

static int io_init(struct raft_io *io, raft_id id, const char *address)
{
	struct nng_io *impl = impl_of(io);
	nng_listener listener;
	int rv;

	assert(impl->state == IO_NEW);
	if (id == 0 || address == NULL ||
	    strlen(address) > Q53_RAFT_MSG_ADDRESS_MAX) {
		snprintf(io->errmsg, sizeof(io->errmsg), "bad id or address");
		return RAFT_INVALID;
	}
	impl->id = id;
	strcpy(impl->address, address);
	source_of(impl);

	rv = nng_pull0_open(&impl->pull);
	if (rv != 0) {
		set_errmsg(impl, "open PULL socket", rv);
		return RAFT_NOMEM;
	}
	/* #9: AppendEntries has no size limit and a snapshot is one message;
	 * a message over this closes the pipe. */
	if ((rv = nng_socket_set_size(impl->pull, NNG_OPT_RECVMAXSZ,
				      impl->max_message_size)) ||
	    (rv = nng_socket_set_int(impl->pull, NNG_OPT_RECVBUF,
				     (int)impl->send_queue))) {
		set_errmsg(impl, "set PULL options", rv);
		rv = RAFT_INVALID;
		goto err_after_pull;
	}
	rv = q53_pipe_guard_new(&impl->guard, impl->pull, impl->max_connections,
				impl->idle_ms);
	if (rv != 0) {
		snprintf(io->errmsg, sizeof(io->errmsg),
			 "PULL connection guard: %s", q53_strerror(rv));
		rv = RAFT_NOMEM;
		goto err_after_pull;
	}
	rv = nng_listener_create(&listener, impl->pull, address);
	if (rv == 0 && impl->tls_server != NULL)
		rv = nng_listener_set_ptr(listener, NNG_OPT_TLS_CONFIG,
					  impl->tls_server);
	if (rv == 0)
		rv = nng_listener_start(listener, 0);
	if (rv != 0) {
		snprintf(io->errmsg, sizeof(io->errmsg), "listen on %s: %s",
			 address, nng_strerror(rv));
		rv = RAFT_IOERR;
		goto err_after_pull;
	}
	rv = nng_socket_get_int(impl->pull, NNG_OPT_RECVFD, &impl->recv_fd);
	if (rv != 0) {
		set_errmsg(impl, "get PULL receive fd", rv);
		rv = RAFT_IOERR;
		goto err_after_pull;
	}
	rv = inner_result(impl, impl->inner.init(&impl->inner, id, address));
	if (rv != 0)
		goto err_after_pull;
	impl->pull_open = true;
	impl->state = IO_READY;
	return 0;

err_after_pull:
	q53_nng_close(impl->pull, Q53_NNG_CLOSE_TIMEOUT_MS);
	q53_pipe_guard_free(impl->guard);
	impl->guard = NULL;
	return rv;
}

static int io_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
		    raft_io_recv_cb recv)
{
	struct nng_io *impl = impl_of(io);
	int rv;

	assert(impl->state == IO_READY);
	impl->tick = tick;
	impl->recv = recv;
	rv = uv_poll_init(impl->loop, &impl->poll, impl->recv_fd);
	if (rv != 0) {
		snprintf(io->errmsg, sizeof(io->errmsg), "poll NNG fd: %s",
			 uv_strerror(rv));
		return RAFT_IOERR;
	}
	impl->poll.data = impl;
	impl->poll_init = true;
	uv_idle_init(impl->loop, &impl->idle);
	impl->idle.data = impl;
	impl->idle_init = true;
	rv = inner_result(impl,
			  impl->inner.start(&impl->inner, msecs,
					    tick_trampoline, recv_trampoline));
	if (rv != 0)
		return rv; /* raft_close tears down what is set up */
	uv_poll_start(&impl->poll, UV_READABLE, poll_cb);
	impl->state = IO_STARTED;
	return 0;
}

static void reap_closed(uv_handle_t *handle)
{
	struct nng_io *impl = handle->data;

	/* After the poll handle is gone: NNG owns the fd it watched. */
	if (impl->pull_open) {
		q53_nng_close(impl->pull, Q53_NNG_CLOSE_TIMEOUT_MS);
		impl->pull_open = false;
	}
	/* After the socket: its notifications use the guard. */
	q53_pipe_guard_free(impl->guard);
	impl->guard = NULL;
	peers_close_sockets(impl);
	raft_uv_close(&impl->inner);
	impl->inner_alive = false;
	impl->state = IO_CLOSED;
	/* May call q53_raft_io_release: impl is not touched after this. */
	impl->close_cb(impl->outer);
}

static void reap_cb(uv_timer_t *timer)
{
	uv_close((uv_handle_t *)timer, reap_closed);
}

/* raft_uv 0.15 may call its close callback more than once (seen when a
 * snapshot write completes during close: uvMaybeFireCloseCb runs again with
 * every condition still true) and keeps using its state in the same
 * callback. So the first call only schedules the rest for the next loop
 * iteration (a 0 ms timer), and later calls are ignored; freeing raft_uv
 * here made it call us again with a garbage io pointer. */
static void inner_closed(struct raft_io *inner)
{
	struct nng_io *impl = inner->data;

	if (impl->reaping)
		return;
	impl->reaping = true;
	uv_timer_init(impl->loop, &impl->reap);
	impl->reap.data = impl;
	uv_timer_start(&impl->reap, reap_cb, 0, 0);
}

static void close_inner(struct nng_io *impl)
{
	/* Waits for in-flight disk work (KAIO, thread pool) to finish. */
	impl->inner.close(&impl->inner, inner_closed);
}

static void handle_closed(uv_handle_t *handle)
{
	struct nng_io *impl = handle->data;

	if (--impl->handles_closing == 0)
		close_inner(impl);
}

/* #12: flush deferred sends, close our handles, close raft_uv, then NNG,
 * then free raft_uv, then raft's callback with the OUTER io. */
static void io_close(struct raft_io *io, raft_io_close_cb cb)
{
	struct nng_io *impl = impl_of(io);

	assert(impl->state == IO_READY || impl->state == IO_STARTED);
	impl->state = IO_CLOSING;
	impl->close_cb = cb;
	flush_done(impl);
	impl->handles_closing = 1; /* held until both uv_close calls ran */
	if (impl->poll_init) {
		impl->handles_closing++;
		uv_close((uv_handle_t *)&impl->poll, handle_closed);
	}
	if (impl->idle_init) {
		impl->handles_closing++;
		uv_close((uv_handle_t *)&impl->idle, handle_closed);
	}
	if (--impl->handles_closing == 0)
		close_inner(impl);
}

/* --- disk: straight to raft_uv ----------------------------------------------
 */

static int io_load(struct raft_io *io, raft_term *term, raft_id *voted_for,
		   struct raft_snapshot **snapshot, raft_index *start_index,
		   struct raft_entry *entries[], size_t *n_entries)
{
	struct nng_io *impl = impl_of(io);

	return inner_result(
	    impl, impl->inner.load(&impl->inner, term, voted_for, snapshot,
				   start_index, entries, n_entries));
}

static int io_bootstrap(struct raft_io *io,
			const struct raft_configuration *conf)
{
	struct nng_io *impl = impl_of(io);

	return inner_result(impl, impl->inner.bootstrap(&impl->inner, conf));
}

static int io_recover(struct raft_io *io, const struct raft_configuration *conf)
{
	struct nng_io *impl = impl_of(io);

	return inner_result(impl, impl->inner.recover(&impl->inner, conf));
}

static int io_set_term(struct raft_io *io, raft_term term)
{
	struct nng_io *impl = impl_of(io);

	return inner_result(impl, impl->inner.set_term(&impl->inner, term));
}

static int io_set_vote(struct raft_io *io, raft_id server_id)
{
	struct nng_io *impl = impl_of(io);

	return inner_result(impl,
			    impl->inner.set_vote(&impl->inner, server_id));
}

static int io_append(struct raft_io *io, struct raft_io_append *req,
		     const struct raft_entry entries[], unsigned n,
		     raft_io_append_cb cb)
{
	struct nng_io *impl = impl_of(io);

	return inner_result(
	    impl, impl->inner.append(&impl->inner, req, entries, n, cb));
}

static int io_truncate(struct raft_io *io, raft_index index)
{
	struct nng_io *impl = impl_of(io);

	return inner_result(impl, impl->inner.truncate(&impl->inner, index));
}

static int io_snapshot_put(struct raft_io *io, unsigned trailing,
			   struct raft_io_snapshot_put *req,
			   const struct raft_snapshot *snapshot,
			   raft_io_snapshot_put_cb cb)
{
	struct nng_io *impl = impl_of(io);

	return inner_result(impl,
			    impl->inner.snapshot_put(&impl->inner, trailing,
						     req, snapshot, cb));
}

static int io_snapshot_get(struct raft_io *io, struct raft_io_snapshot_get *req,
			   raft_io_snapshot_get_cb cb)
{
	struct nng_io *impl = impl_of(io);

	return inner_result(impl,
			    impl->inner.snapshot_get(&impl->inner, req, cb));
}

static raft_time io_time(struct raft_io *io)
{
	struct nng_io *impl = impl_of(io);

	return impl->inner.time(&impl->inner);
}

static int io_random(struct raft_io *io, int min, int max)
{
	struct nng_io *impl = impl_of(io);

	return impl->inner.random(&impl->inner, min, max);
}

static int io_async_work(struct raft_io *io, struct raft_io_async_work *req,
			 raft_io_async_work_cb cb)
{
	struct nng_io *impl = impl_of(io);

	return inner_result(impl,
			    impl->inner.async_work(&impl->inner, req, cb));
}

/* --- public
 * ------------------------------------------------------------------- */

int q53_raft_io_init(struct raft_io *io, uv_loop_t *loop,
		     const struct q53_raft_io_config *config)
{
	struct nng_io *impl;
	int rv;

	memset(io, 0, sizeof(*io));
	if (config == NULL || config->dir == NULL || loop == NULL)
		return Q53_EINVAL;
	impl = calloc(1, sizeof(*impl));
	if (impl == NULL)
		return Q53_ENOMEM;
	impl->outer = io;
	impl->loop = loop;
	impl->state = IO_NEW;
	impl->done_tail = &impl->done_head;
	q53_raft_compat_init(&impl->compat, Q53_RAFT_COMPAT_ALL);
	impl->max_message_size = config->max_message_size > 0
				     ? config->max_message_size
				     : DEFAULT_MAX_MESSAGE_SIZE;
	impl->reconnect_min_ms = config->reconnect_min_ms > 0
				     ? config->reconnect_min_ms
				     : DEFAULT_RECONNECT_MIN_MS;
	impl->reconnect_max_ms = config->reconnect_max_ms > 0
				     ? config->reconnect_max_ms
				     : DEFAULT_RECONNECT_MAX_MS;
	if (impl->reconnect_max_ms < impl->reconnect_min_ms)
		impl->reconnect_max_ms = impl->reconnect_min_ms;
	impl->send_queue =
	    config->send_queue > 0 ? config->send_queue : DEFAULT_SEND_QUEUE;
	impl->log = config->log;
	impl->log_data = config->log_data;
	impl->term_bound = config->term_bound;
	impl->tls_server = config->tls_server;
	impl->max_connections = config->max_connections;
	impl->idle_ms = config->idle_ms;
	impl->tls_client = config->tls_client;
	if (impl->send_queue > 8192) /* NNG's limit for SENDBUF/RECVBUF */
		impl->send_queue = 8192;

	impl->transport.impl = impl;
	impl->transport.init = transport_init;
	impl->transport.listen = transport_listen;
	impl->transport.connect = transport_connect;
	impl->transport.close = transport_close;
	rv = raft_uv_init(&impl->inner, loop, config->dir, &impl->transport);
	if (rv != 0) {
		free(impl);
		return rv == RAFT_NOMEM ? Q53_ENOMEM : Q53_EINVAL;
	}
	impl->inner_alive = true;
	impl->inner.data = impl; /* for the trampolines */
	if (config->segment_size > 0)
		raft_uv_set_segment_size(&impl->inner, config->segment_size);

	/* #8: raft_uv says version 1 although it implements async_work. */
	io->version = impl->inner.async_work != NULL ? 2 : 1;
	io->impl = impl;
	io->init = io_init;
	io->close = io_close;
	io->load = io_load;
	io->start = io_start;
	io->bootstrap = io_bootstrap;
	io->recover = io_recover;
	io->set_term = io_set_term;
	io->set_vote = io_set_vote;
	io->send = io_send;
	io->append = io_append;
	io->truncate = io_truncate;
	io->snapshot_put = io_snapshot_put;
	io->snapshot_get = io_snapshot_get;
	io->time = io_time;
	io->random = io_random;
	io->async_work = impl->inner.async_work != NULL ? io_async_work : NULL;
	return 0;
}

void q53_raft_io_release(struct raft_io *io)
{
	struct nng_io *impl = impl_of(io);

	if (impl == NULL)
		return;
	assert(impl->state == IO_NEW || impl->state == IO_CLOSED);
	assert(impl->done_head == NULL);
	if (impl->inner_alive)
		raft_uv_close(&impl->inner);
	peers_free(impl);
	free(impl);
	io->impl = NULL;
}

void q53_raft_io_stats(struct raft_io *io, struct q53_raft_io_stats *stats)
{
	*stats = impl_of(io)->stats;
}

unsigned q53_raft_io_open_peers(struct raft_io *io)
{
	struct nng_io *impl = impl_of(io);
	unsigned i, n = 0;

	for (i = 0; i < impl->n_peers; i++)
		n += impl->peers[i]->open;
	return n;
}

void q53_raft_io_conn_stats(struct raft_io *io, unsigned *active,
			    unsigned long long *rejected,
			    unsigned long long *idle_closed)
{
	struct q53_pipe_guard_stats st;

	q53_pipe_guard_stats(impl_of(io)->guard, &st);
	*active = st.active;
	*rejected = st.rejected;
	*idle_closed = st.idle_closed;
}
