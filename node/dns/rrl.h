/* Response rate limiting for UDP answers, with Knot's and NSD's semantics:
 * at most `rate` responses per second (a burst of DNS_RRL_WINDOW seconds'
 * worth) go to one client network (IPv4 /24, IPv6 /56) for one class of
 * response (positive, empty (NODATA, referral), large, ANY, DNSSEC: per
 * qname; NXDOMAIN, wildcard, error: per zone). Of the responses over the
 * rate, every `slip`th goes out truncated (TC=1, no records: a real client
 * retries over TCP, which is never limited) and the others are dropped.
 * Clients in a whitelisted network are never limited (by default the
 * host's own 127.0.0.1 and ::1).
 *
 * One table per UDP thread, owned by it: no lock, no allocation on the query
 * path; the threads of one address share the rate (each allows rate /
 * threads: dns_rrl_init), so a flood over many source ports, which the
 * kernel spreads over all of them, still gets the configured rate. Buckets are
 * a fixed-size hash table (4-slot probe window, the oldest bucket evicted when
 * the window is full) keyed by a keyed hash of (class, network, name), with a
 * token count refilled once per second. Counters are atomics written only by
 * the owner, read by anyone. */
#ifndef Q53_NODE_DNS_RRL_H
#define Q53_NODE_DNS_RRL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/dns/query.h"

#define DNS_RRL_RATE_DEFAULT  20    /* responses/s per network and class */
#define DNS_RRL_SLIP_DEFAULT  2	    /* every 2nd limited response slips */
#define DNS_RRL_TABLE_DEFAULT 16384 /* buckets per UDP thread */
#define DNS_RRL_WINDOW	      4	    /* seconds of burst a bucket holds */
#define DNS_RRL_WHITELIST_MAX 64

/* A network: family 4 or 6, prefix length, address (bits past the prefix
 * zero). */
struct dns_rrl_net {
	uint8_t family;
	uint8_t prefix;
	uint8_t addr[16];
};

struct dns_rrl_config {
	unsigned rate;	   /* 0: off */
	unsigned slip;	   /* 0: drop every limited response */
	size_t table_size; /* buckets, rounded up to a power of two */
	struct dns_rrl_net whitelist[DNS_RRL_WHITELIST_MAX];
	size_t nwhitelist;
};

/* rate, slip, table_size defaults; the whitelist holds 127.0.0.1 and ::1
 * (answers to them cannot be reflected off-host). */
void dns_rrl_config_default(struct dns_rrl_config *cfg);

/* Parses "192.0.2.0/24", "2001:db8::/56" or a bare address (/32, /128)
 * into out. Returns 0, or Q53_EINVAL (bad syntax, prefix too long, host
 * bits set). */
int dns_rrl_parse_net(const char *text, struct dns_rrl_net *out);

struct dns_rrl_stats {
	uint64_t limited; /* responses over the rate: slipped + dropped */
	uint64_t slipped; /* sent truncated */
	uint64_t dropped; /* not sent */
};

struct dns_rrl_bucket;

struct dns_rrl {
	struct dns_rrl_bucket *b;
	size_t mask; /* size - 1 */
	uint64_t key[2];
	unsigned rate, slip, slip_count;
	const struct dns_rrl_config *cfg; /* borrowed: the whitelist */
	_Atomic uint64_t limited, slipped, dropped;
};

/* One of nshares tables that together enforce cfg's rate: this one allows
 * ceil(rate / nshares) per second. The kernel spreads a network's queries
 * over the UDP threads by 4-tuple (SO_REUSEPORT), so a flood from random
 * source ports (spoofed, or a resolver's: RFC 5452) meets every table,
 * and the sum stays the configured rate (as one shared table would,
 * without sharing it); a client that never changes its source port meets
 * one table and gets rate / nshares. Returns 0, Q53_EINVAL (rate 0 or
 * nshares 0) or Q53_ENOMEM. cfg must outlive t. */
int dns_rrl_init(struct dns_rrl *t, const struct dns_rrl_config *cfg,
		 unsigned nshares);
void dns_rrl_free(struct dns_rrl *t);

enum dns_rrl_action {
	DNS_RRL_PASS = 0,
	DNS_RRL_DROP,
	DNS_RRL_SLIP, /* send dns_query_truncate's answer instead */
};

/* The verdict for the response out[0, len) (from dns_query_answer_info,
 * with info) to client at now_s (a monotonic clock, seconds). */
enum dns_rrl_action dns_rrl_check(struct dns_rrl *t,
				  const struct dns_client *client,
				  const struct dns_answer_info *info,
				  const uint8_t *out, size_t len,
				  uint32_t now_s);

/* Adds t's counters to *sum. Any thread. */
void dns_rrl_stats_add(const struct dns_rrl *t, struct dns_rrl_stats *sum);

#endif
