/* Query logging's hand-off from a DNS worker thread to the control loop:
 * a lock-free single-producer single-consumer ring of fixed-size records,
 * one per serving thread (inside its dns_stats_shard). The worker pushes
 * one record per query answered from a logged zone (no allocation, no
 * lock, no system call but the clock read); the loop drains it on a timer
 * (node/runtime/query_log.h) and writes the JSON lines. A full ring drops
 * the record and counts it (q53_query_log_dropped_total).
 *
 * head is written by the producer only, tail by the consumer only, each on
 * its own cache line; a record is published by the release store of head
 * and freed by the release store of tail. */
#ifndef Q53_NODE_DNS_QUERY_LOG_RING_H
#define Q53_NODE_DNS_QUERY_LOG_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUERY_LOG_RING_DEFAULT 4096

struct query_log_rec {
	uint64_t time_ns; /* CLOCK_REALTIME */
	uint16_t qtype;
	uint8_t rcode;
	uint8_t tcp;
	uint8_t qname_len;     /* wire length, as sent (case kept) */
	uint8_t zone_len;      /* the zone: the last zone_len bytes of qname */
	uint8_t client_family; /* 4, 6, 0 unknown */
	uint8_t ecs_family;    /* 1 IPv4, 2 IPv6, 0: no ECS */
	uint8_t ecs_source;
	uint8_t client[16];
	uint8_t ecs_addr[16];
	uint8_t qname[255];
};

struct query_log_ring {
	/* the producer's line */
	_Alignas(64) _Atomic uint32_t head;
	/* the consumer's line */
	_Alignas(64) _Atomic uint32_t tail;
	/* set by the loop (which zones are logged changed), read by the
	 * producer per query: written rarely, so it stays in its cache */
	_Alignas(64) _Atomic bool enabled;
	_Atomic uint64_t dropped; /* written by the producer only */
	uint32_t mask;		  /* size - 1, size a power of two */
	struct query_log_rec *recs;
};

/* size: a power of two >= 2. 0 or Q53_ENOMEM / Q53_EINVAL. */
int query_log_ring_init(struct query_log_ring *r, uint32_t size);
void query_log_ring_free(struct query_log_ring *r);

/* Producer: the slot to fill, NULL when full (the drop is counted);
 * then query_log_ring_push publishes it. */
static inline struct query_log_rec *
query_log_ring_slot(struct query_log_ring *r)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (h - t > r->mask) {
		atomic_store_explicit(
		    &r->dropped,
		    atomic_load_explicit(&r->dropped, memory_order_relaxed) + 1,
		    memory_order_relaxed);
		return NULL;
	}
	return &r->recs[h & r->mask];
}

static inline void query_log_ring_push(struct query_log_ring *r)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

/* Consumer: calls fn for every record pushed so far, then frees them.
 * Returns how many. */
size_t query_log_ring_drain(struct query_log_ring *r,
			    void (*fn)(void *ctx,
				       const struct query_log_rec *rec),
			    void *ctx);

#endif
