/* DNS over TCP (RFC 7766) for one worker: listeners bound with SO_REUSEPORT,
 * non-blocking connections with 2-byte length framing, pipelined queries
 * answered in order, partial reads and writes, an idle timeout (only a
 * query that gets an answer, or progress sending one, counts as activity:
 * zero-length frames, runts and responses do not keep a connection open),
 * and limits on connections (total and per client address) shared by all
 * workers.
 *
 * Limit policy: a connection beyond a limit is accepted and closed at once
 * (the client sees EOF immediately rather than hanging in the backlog). */
#ifndef Q53_NODE_DNS_TCP_H
#define Q53_NODE_DNS_TCP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "node/dns/query.h"

/* Every object a worker registers in its epoll set starts with this kind, so
 * the worker can dispatch an event from data.ptr alone. */
enum dns_poll_kind {
	DNS_POLL_WAKE = 1,
	DNS_POLL_UDP,
	DNS_POLL_TCP_LISTEN,
	DNS_POLL_TCP_CONN,
};

/* Opens a non-blocking TCP listener with SO_REUSEPORT bound to addr.
 * Returns the descriptor (caller closes it) or a negative errno; *what names
 * the step that failed. */
int dns_tcp_listen_open(const struct sockaddr *addr, socklen_t addrlen,
			const char **what);

/* --- connection limits, shared by every worker (locked on accept and close
 * only, never on the query path) --- */

struct dns_tcp_limit_slot;

struct dns_tcp_limits {
	pthread_mutex_t lock;
	unsigned max_total;
	unsigned max_per_client;
	unsigned total;
	size_t cap; /* power of two, > 2 * max_total */
	struct dns_tcp_limit_slot *slots;
};

/* Returns 0, Q53_EINVAL (a zero limit) or Q53_ENOMEM. */
int dns_tcp_limits_init(struct dns_tcp_limits *l, unsigned max_total,
			unsigned max_per_client);
void dns_tcp_limits_free(struct dns_tcp_limits *l);
/* Counts one more connection from peer; Q53_ELIMIT when a limit is reached
 * (nothing counted then). */
int dns_tcp_limits_acquire(struct dns_tcp_limits *l,
			   const struct sockaddr_storage *peer);
/* Undoes one successful acquire for the same peer. */
void dns_tcp_limits_release(struct dns_tcp_limits *l,
			    const struct sockaddr_storage *peer);

/* --- one worker's connections --- */

struct dns_tcp_conn;

struct dns_tcp_pool {
	int epfd;		       /* the worker's epoll set (borrowed) */
	struct dns_tcp_limits *limits; /* shared (borrowed) */
	uint64_t idle_timeout_ms;
	struct dns_query_params params; /* tcp = true */
	uint8_t *scratch;		/* 2 + DNS_MSG_MAX: one answer */
	struct dns_tcp_conn *oldest;	/* idle order: head expires first */
	struct dns_tcp_conn *newest;
	size_t count;
	/* Closed connections kept for reuse (at most DNS_TCP_SPARE_MAX),
	 * so a short connection costs no malloc/free. */
	struct dns_tcp_conn *spare;
	size_t nspare;
	/* NULL, or this thread's counters (node/dns/dns_stats.h). */
	struct dns_stats_shard *stats;
};

/* epfd and limits are borrowed and must outlive the pool. udp_payload is
 * the EDNS payload size advertised in answers (--edns-size). Returns 0 or
 * Q53_ENOMEM. */
int dns_tcp_pool_init(struct dns_tcp_pool *p, int epfd,
		      struct dns_tcp_limits *limits, uint64_t idle_timeout_ms,
		      uint16_t udp_payload);
/* Closes every connection and frees the pool's buffers. */
void dns_tcp_pool_close(struct dns_tcp_pool *p);

/* Accepts what is waiting on listen_fd (bounded per call) and registers the
 * new connections in epfd with data.ptr pointing at them (kind
 * DNS_POLL_TCP_CONN). now_ms: CLOCK_MONOTONIC in ms. */
void dns_tcp_pool_accept(struct dns_tcp_pool *p, int listen_fd,
			 uint64_t now_ms);

/* Handles epoll events for a connection (data.ptr of a DNS_POLL_TCP_CONN
 * registration); answers complete queries from serving_view_current(), so
 * the calling thread must be an online urcu-qsbr reader. May close and free
 * the connection. */
void dns_tcp_pool_event(struct dns_tcp_pool *p, void *conn, uint32_t events,
			uint64_t now_ms);

/* Closes connections idle since their deadline. Returns the milliseconds
 * until the next deadline, or -1 when there is no connection. */
int dns_tcp_pool_expire(struct dns_tcp_pool *p, uint64_t now_ms);

#endif
