/* DNS over UDP for one worker: a socket bound with SO_REUSEPORT (one per
 * worker per address, so the kernel spreads queries over the workers) and a
 * preallocated batch of messages served with recvmmsg/sendmmsg. Nothing on
 * the serving path allocates or locks. */
#ifndef Q53_NODE_DNS_UDP_H
#define Q53_NODE_DNS_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "node/dns/query.h"
#include "node/dns/rrl.h"

struct serving_view;
struct dns_stats_shard;

/* Largest query we read; a longer datagram is dropped (MSG_TRUNC). */
#define DNS_UDP_QUERY_MAX 4096
/* Messages per recvmmsg/sendmmsg call. */
#define DNS_UDP_BATCH 64

/* Opens a non-blocking UDP socket with SO_REUSEPORT bound to addr.
 * Returns the descriptor (caller closes it) or a negative errno; on failure
 * *what names the step that failed ("socket", "bind", ...). */
int dns_udp_open(const struct sockaddr *addr, socklen_t addrlen,
		 const char **what);

/* Per-worker buffers of one batch: DNS_UDP_BATCH queries and answers. */
struct dns_udp_batch {
	struct dns_query_params params;
	struct mmsghdr rx[DNS_UDP_BATCH];
	struct iovec rx_iov[DNS_UDP_BATCH];
	struct sockaddr_storage peer[DNS_UDP_BATCH];
	struct mmsghdr tx[DNS_UDP_BATCH];
	struct iovec tx_iov[DNS_UDP_BATCH];
	uint8_t *in;   /* DNS_UDP_BATCH * DNS_UDP_QUERY_MAX */
	uint8_t *out;  /* DNS_UDP_BATCH * params.udp_payload */
	unsigned used; /* rx headers the last recvmmsg filled (to reset) */
	/* Response rate limiting of this batch's thread (NULL: off). */
	struct dns_rrl *rrl;
	struct dns_rrl rrl_table;
	/* NULL, or this thread's counters (dns_stats.h; params.seen then
	 * points into it). */
	struct dns_stats_shard *stats;
};

/* Allocates the batch buffers; udp_payload is the EDNS size we advertise and
 * the cap of every answer (512..4096). Returns 0 or Q53_ENOMEM / Q53_EINVAL.
 * Release with dns_udp_batch_free (also safe after a failed init). */
int dns_udp_batch_init(struct dns_udp_batch *b, uint16_t udp_payload);
void dns_udp_batch_free(struct dns_udp_batch *b);

/* Receives up to one batch on fd. flags: MSG_DONTWAIT, or MSG_WAITFORONE
 * to block until a datagram arrives and take what else is queued. Returns
 * the number of datagrams received, 0 when none (or the socket was shut
 * down for reading), negative errno on EINTR and the like. */
int dns_udp_recv(struct dns_udp_batch *b, int fd, int flags);

/* Turns on response rate limiting for this batch (one table per batch:
 * one per UDP thread; nshares: the UDP threads of this address, which
 * share the rate, see dns_rrl_init). Returns 0, Q53_EINVAL (rate 0) or
 * Q53_ENOMEM.
 * cfg must outlive b. */
int dns_udp_batch_rrl(struct dns_udp_batch *b, const struct dns_rrl_config *cfg,
		      unsigned nshares);

/* Answers the n datagrams just received from view (may be NULL: REFUSED),
 * rate limited when dns_udp_batch_rrl was called, and sends the answers
 * back from fd. The view must stay valid until
 * return (the caller is an online urcu-qsbr reader). Answers the kernel
 * cannot take now (full socket buffer) are dropped, as any UDP server
 * under overload would. */
void dns_udp_reply(struct dns_udp_batch *b, int fd, int n,
		   const struct serving_view *view);

#endif
