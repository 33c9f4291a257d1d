/* What the DNS workers count for /metrics: one shard per serving thread
 * (each UDP thread, each worker's TCP thread), cache-line aligned, written
 * by that thread alone with relaxed loads and stores (plain moves on
 * x86-64: no lock prefix, no cache line shared between threads on the
 * query path), and summed by the control loop when /metrics is scraped
 * (relaxed loads: a scrape may miss the increments of the batch in
 * progress, never tears a counter).
 *
 * Counted per query: the zone that answered (by apex name; the first
 * DNS_STATS_ZONES zones a thread sees get their own slot, the rest count
 * as "other"), the question's type (a fixed table of common types, the
 * rest as "other"), the RCODE and the protocol; truncated answers; dropped
 * messages (no answer: malformed; UDP datagrams longer than we read; TCP
 * connections over a limit); UDP datagrams received, TCP connections
 * accepted and closed; and a histogram of the time from receipt to answer
 * (UDP: per batch, every query of a batch is received by one recvmmsg and
 * answered by one sendmmsg, so they share the batch's time; TCP: per
 * message, answer computed).
 *
 * Loop thread: dns_stats_new, dns_stats_render, dns_stats_free (after the
 * workers stopped). */
#ifndef Q53_NODE_DNS_DNS_STATS_H
#define Q53_NODE_DNS_DNS_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "node/dns/query.h"
#include "node/dns/query_log_ring.h"

#define DNS_STATS_ZONES	  32			/* named zone slots per shard */
#define DNS_STATS_ZSLOTS  (DNS_STATS_ZONES + 2) /* + none, + other */
#define DNS_STATS_QTYPES  16
#define DNS_STATS_RCODES  8
#define DNS_STATS_BUCKETS 11 /* response time, the last one +Inf */

enum dns_stats_proto { DNS_STATS_UDP, DNS_STATS_TCP, DNS_STATS_PROTOS };

enum dns_stats_drop {
	DNS_STATS_DROP_MALFORMED, /* no answer (short, or a response) */
	DNS_STATS_DROP_OVERSIZE,  /* UDP datagram longer than we read */
	DNS_STATS_DROP_TCP_LIMIT, /* TCP connection over a limit */
	DNS_STATS_DROPS,
};

struct dns_stats_zone_slot {
	_Atomic uint8_t used; /* set (release) once name is written */
	uint8_t len;
	uint8_t name[255]; /* wire form, lowercase, as the view has it */
};

typedef _Atomic uint64_t dns_stats_counter;

struct dns_stats_shard {
	_Alignas(64)
	    dns_stats_counter queries[DNS_STATS_PROTOS][DNS_STATS_ZSLOTS]
				     [DNS_STATS_QTYPES][DNS_STATS_RCODES];
	dns_stats_counter latency[DNS_STATS_PROTOS][DNS_STATS_BUCKETS];
	dns_stats_counter latency_sum_ns[DNS_STATS_PROTOS];
	dns_stats_counter truncated[DNS_STATS_PROTOS];
	dns_stats_counter dropped[DNS_STATS_DROPS];
	dns_stats_counter udp_received;
	dns_stats_counter tcp_accepted;
	dns_stats_counter tcp_closed;
	struct dns_stats_zone_slot zones[DNS_STATS_ZONES];
	/* query logging's records for the loop (empty without
	 * --query-log-dir) */
	struct query_log_ring qlog;
	/* The writer's own: what the query path saw of the last query
	 * (dns_query_params.seen points here), and the last zone's slot. */
	struct dns_query_seen seen;
	const struct zone *last_zone;
	unsigned last_slot;
	/* per named zone slot, for the logged zones of generation
	 * qlog_gen: 0 unknown, 1 logged, 2 not */
	uint64_t qlog_gen;
	uint8_t qlog_verdict[DNS_STATS_ZONES];
};

struct dns_stats;

/* nshards shards, zeroed, each with a query log ring of ring_size records
 * (a power of two; 0: no query logging). 0 or Q53_ENOMEM / Q53_EINVAL.
 * Free with dns_stats_free. */
int dns_stats_new(struct dns_stats **out, size_t nshards, uint32_t ring_size);
void dns_stats_free(struct dns_stats *s);
size_t dns_stats_nshards(const struct dns_stats *s);
/* Shard i (< nshards), for the thread that writes it. */
struct dns_stats_shard *dns_stats_shard(struct dns_stats *s, size_t i);

static inline void dns_stats_add(dns_stats_counter *c, uint64_t n)
{
	/* One writer: a relaxed load and store, no read-modify-write. */
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t dns_stats_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The zones whose queries go to the query log rings (apex names, wire,
 * lowercase; copied), published to the workers through RCU: the old set
 * is freed after a grace period, never waited for. n = 0: none. Loop
 * thread. 0 or Q53_ENOMEM (the old set stays). */
int dns_stats_set_logged_zones(const uint8_t *const *origins,
			       const size_t *lens, size_t n);

/* One query from client answered (len > 0: the answer resp[0..len); 0:
 * dropped as malformed), from s->seen; pushed to the query log ring too
 * when it is enabled and a zone answered. */
void dns_stats_count(struct dns_stats_shard *s, enum dns_stats_proto proto,
		     const struct dns_client *client, const uint8_t *resp,
		     size_t len);
/* A TCP message answered (dns_stats_count) that started at t0
 * (dns_stats_now_ns): counted with its time. */
void dns_stats_tcp_answered(struct dns_stats_shard *s,
			    const struct dns_client *client,
			    const uint8_t *resp, size_t len, uint64_t t0);
/* n queries answered in ns nanoseconds each. */
void dns_stats_latency(struct dns_stats_shard *s, enum dns_stats_proto proto,
		       uint64_t ns, uint64_t n);

/* Writes the Prometheus text of every family (q53_dns_*) to out, the
 * shards summed (zones merged by name). 0 or Q53_ENOMEM. */
int dns_stats_render(const struct dns_stats *s, FILE *out);

#endif
