#include "node/dns/dns_stats.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/common/prom_text.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rrtype.h"
#include "node/zone/node.h"

#include <urcu-qsbr.h>

struct dns_stats {
	size_t nshards;
	struct dns_stats_shard *shards;
};

#define ZSLOT_NONE  DNS_STATS_ZONES
#define ZSLOT_OTHER (DNS_STATS_ZONES + 1)

/* The types with their own label; index DNS_STATS_QTYPES - 1 is "other". */
static const uint16_t qtype_code[DNS_STATS_QTYPES - 1] = {
    RRTYPE_A,	   RRTYPE_NS,	RRTYPE_CNAME, RRTYPE_SOA,  RRTYPE_PTR,
    RRTYPE_MX,	   16 /*TXT*/,	RRTYPE_AAAA,  RRTYPE_SRV,  RRTYPE_DS,
    48 /*DNSKEY*/, RRTYPE_SVCB, RRTYPE_HTTPS, 257 /*CAA*/, RRTYPE_ANY,
};
static const char *const qtype_name[DNS_STATS_QTYPES] = {
    "A",   "NS", "CNAME",  "SOA",  "PTR",   "MX",  "TXT", "AAAA",
    "SRV", "DS", "DNSKEY", "SVCB", "HTTPS", "CAA", "ANY", "other",
};
/* RCODEs 0..5 their own, BADVERS, the rest "other". */
static const char *const rcode_name[DNS_STATS_RCODES] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
    "NOTIMP",  "REFUSED", "BADVERS",  "other",
};
static const char *const proto_name[DNS_STATS_PROTOS] = {"udp", "tcp"};
static const char *const drop_name[DNS_STATS_DROPS] = {"malformed", "oversize",
						       "tcp_limit"};
/* Response time bounds, seconds. */
static const double latency_bounds[DNS_STATS_BUCKETS - 1] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1};

int dns_stats_new(struct dns_stats **out, size_t nshards, uint32_t ring_size)
{
	struct dns_stats *s = calloc(1, sizeof(*s));
	size_t bytes = nshards * sizeof(struct dns_stats_shard);

	*out = NULL;
	if (s == NULL)
		return Q53_ENOMEM;
	s->shards = aligned_alloc(64, bytes ? bytes : 64);
	if (s->shards == NULL) {
		free(s);
		return Q53_ENOMEM;
	}
	memset(s->shards, 0, bytes);
	s->nshards = nshards;
	for (size_t i = 0; ring_size > 0 && i < nshards; i++) {
		int rv = query_log_ring_init(&s->shards[i].qlog, ring_size);
		if (rv != 0) {
			dns_stats_free(s);
			return rv;
		}
	}
	*out = s;
	return 0;
}

void dns_stats_free(struct dns_stats *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->shards != NULL && i < s->nshards; i++)
		query_log_ring_free(&s->shards[i].qlog);
	free(s->shards);
	free(s);
}

size_t dns_stats_nshards(const struct dns_stats *s)
{
	return s->nshards;
}

struct dns_stats_shard *dns_stats_shard(struct dns_stats *s, size_t i)
{
	return i < s->nshards ? &s->shards[i] : NULL;
}

static unsigned qtype_index(uint16_t t)
{
	for (unsigned i = 0; i < DNS_STATS_QTYPES - 1; i++)
		if (qtype_code[i] == t)
			return i;
	return DNS_STATS_QTYPES - 1;
}

static unsigned rcode_index(uint8_t rc)
{
	if (rc <= RCODE_REFUSED)
		return rc;
	return rc == RCODE_BADVERS ? 6 : 7;
}

/* The zone's slot: the last zone's (most queries of a batch go to one
 * zone), else a named slot found or taken, else "other". A zone freed and
 * another allocated at its address is caught by the name check. */
static unsigned zone_slot(struct dns_stats_shard *s, const struct zone *z)
{
	if (z == NULL)
		return ZSLOT_NONE;
	if (z == s->last_zone) {
		const struct dns_stats_zone_slot *l = &s->zones[s->last_slot];
		if (s->last_slot < DNS_STATS_ZONES && l->len == z->origin_len &&
		    memcmp(l->name, z->origin, z->origin_len) == 0)
			return s->last_slot;
	}
	unsigned slot = ZSLOT_OTHER;
	for (unsigned i = 0; i < DNS_STATS_ZONES; i++) {
		struct dns_stats_zone_slot *zs = &s->zones[i];
		if (!atomic_load_explicit(&zs->used, memory_order_relaxed)) {
			memcpy(zs->name, z->origin, z->origin_len);
			zs->len = z->origin_len;
			atomic_store_explicit(&zs->used, 1,
					      memory_order_release);
			slot = i;
			break;
		}
		if (zs->len == z->origin_len &&
		    memcmp(zs->name, z->origin, z->origin_len) == 0) {
			slot = i;
			break;
		}
	}
	s->last_zone = z;
	s->last_slot = slot;
	return slot;
}

static bool zone_logged(struct dns_stats_shard *s, unsigned zs,
			const struct zone *z);

/* The query log's record of an answered query (its zone answered). */
static void query_log(struct dns_stats_shard *s, enum dns_stats_proto proto,
		      const struct dns_client *client, const uint8_t *resp,
		      size_t len)
{
	const struct dns_query_seen *q = &s->seen;
	struct query_log_rec *r = query_log_ring_slot(&s->qlog);
	struct timespec ts;
	size_t n = 0;

	if (r == NULL)
		return;
	/* the question's name as sent (echoed uncompressed at offset 12) */
	while (12 + n < len && resp[12 + n] != 0 && n < 254)
		n += 1u + resp[12 + n];
	if (12 + n >= len || n + 1 > 255 || n + 1 < q->zone->origin_len)
		return; /* cannot happen for an answer we wrote */
	n++;
	memcpy(r->qname, resp + 12, n);
	r->qname_len = (uint8_t)n;
	r->zone_len = q->zone->origin_len;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	r->qtype = q->qtype;
	r->rcode = q->rcode;
	r->tcp = proto == DNS_STATS_TCP;
	r->client_family = client != NULL ? client->family : 0;
	if (client != NULL)
		memcpy(r->client, client->addr, 16);
	r->ecs_family = q->ecs_family;
	r->ecs_source = q->ecs_source;
	if (q->ecs_family != 0) {
		memset(r->ecs_addr, 0, 16);
		memcpy(r->ecs_addr, q->ecs_addr, (q->ecs_source + 7u) / 8);
	}
	query_log_ring_push(&s->qlog);
}

void dns_stats_count(struct dns_stats_shard *s, enum dns_stats_proto proto,
		     const struct dns_client *client, const uint8_t *resp,
		     size_t len)
{
	if (len < 12) {
		dns_stats_add(&s->dropped[DNS_STATS_DROP_MALFORMED], 1);
		return;
	}
	const struct dns_query_seen *q = &s->seen;
	unsigned zs = zone_slot(s, q->zone);
	dns_stats_add(&s->queries[proto][zs][qtype_index(q->qtype)]
				 [rcode_index(q->rcode)],
		      1);
	if (resp[2] & 0x02)
		dns_stats_add(&s->truncated[proto], 1);
	if (q->zone != NULL &&
	    atomic_load_explicit(&s->qlog.enabled, memory_order_relaxed) &&
	    zone_logged(s, zs, q->zone))
		query_log(s, proto, client, resp, len);
}

void dns_stats_latency(struct dns_stats_shard *s, enum dns_stats_proto proto,
		       uint64_t ns, uint64_t n)
{
	double sec = (double)ns / 1e9;
	unsigned i = 0;
	while (i + 1 < DNS_STATS_BUCKETS && sec > latency_bounds[i])
		i++;
	dns_stats_add(&s->latency[proto][i], n);
	dns_stats_add(&s->latency_sum_ns[proto], ns * n);
}

void dns_stats_tcp_answered(struct dns_stats_shard *s,
			    const struct dns_client *client,
			    const uint8_t *resp, size_t len, uint64_t t0)
{
	dns_stats_count(s, DNS_STATS_TCP, client, resp, len);
	if (len > 0)
		dns_stats_latency(s, DNS_STATS_TCP, dns_stats_now_ns() - t0, 1);
}

/* --- which zones are logged (RCU-published) --- */

struct logged_zones {
	struct rcu_head rcu;
	uint64_t gen;
	size_t n;
	struct {
		uint8_t len;
		uint8_t name[255];
	} z[];
};

static struct logged_zones *logged_slot;
static uint64_t logged_gen;

static void logged_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct logged_zones, rcu));
}

int dns_stats_set_logged_zones(const uint8_t *const *origins,
			       const size_t *lens, size_t n)
{
	struct logged_zones *lz = NULL, *old;

	if (n > 0) {
		lz = calloc(1, sizeof(*lz) + n * sizeof(lz->z[0]));
		if (lz == NULL)
			return Q53_ENOMEM;
		lz->gen = ++logged_gen;
		lz->n = n;
		for (size_t i = 0; i < n; i++) {
			size_t l = lens[i] < 255 ? lens[i] : 255;
			lz->z[i].len = (uint8_t)l;
			dname_lower_copy(lz->z[i].name, origins[i], l);
		}
	}
	old = rcu_xchg_pointer(&logged_slot, lz);
	if (old != NULL)
		call_rcu(&old->rcu, logged_free_cb);
	return 0;
}

/* Whether z (in slot zs) is logged: once per slot and generation, the
 * names compared; the overflow slot compares every time. */
static bool zone_logged(struct dns_stats_shard *s, unsigned zs,
			const struct zone *z)
{
	const struct logged_zones *lz = rcu_dereference(logged_slot);
	bool v = false;

	if (lz == NULL)
		return false;
	if (s->qlog_gen != lz->gen) {
		memset(s->qlog_verdict, 0, sizeof(s->qlog_verdict));
		s->qlog_gen = lz->gen;
	}
	if (zs < DNS_STATS_ZONES && s->qlog_verdict[zs] != 0)
		return s->qlog_verdict[zs] == 1;
	for (size_t i = 0; i < lz->n && !v; i++)
		v = lz->z[i].len == z->origin_len &&
		    memcmp(lz->z[i].name, z->origin, z->origin_len) == 0;
	if (zs < DNS_STATS_ZONES)
		s->qlog_verdict[zs] = v ? 1 : 2;
	return v;
}

static uint64_t ld(const dns_stats_counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* The scrape's zones, merged over the shards by name. */
struct zone_sum {
	uint8_t name[255];
	uint8_t len;
	uint64_t q[DNS_STATS_PROTOS][DNS_STATS_QTYPES][DNS_STATS_RCODES];
};

static struct zone_sum *zone_sum_find(struct zone_sum *zs, size_t *n,
				      const uint8_t *name, uint8_t len)
{
	for (size_t i = 0; i < *n; i++)
		if (zs[i].len == len && memcmp(zs[i].name, name, len) == 0)
			return &zs[i];
	memset(&zs[*n], 0, sizeof(zs[*n]));
	memcpy(zs[*n].name, name, len);
	zs[*n].len = len;
	return &zs[(*n)++];
}

static void zone_label(const struct zone_sum *z, char *out, size_t outlen)
{
	if (z->len == 0)
		snprintf(out, outlen, "%s", "none");
	else if (z->len == 1 && z->name[0] == 0xff)
		snprintf(out, outlen, "%s", "other");
	else
		dname_to_text(z->name, out, outlen);
}

/* The sum a shard's slot z adds to; NULL for a named slot not taken. */
static struct zone_sum *slot_sum(const struct dns_stats_shard *sh, unsigned z,
				 struct zone_sum *zs, size_t *nz)
{
	static const uint8_t none_name[1] = {0}, other_name[1] = {0xff};

	if (z == ZSLOT_NONE)
		return zone_sum_find(zs, nz, none_name, 0);
	if (z == ZSLOT_OTHER)
		return zone_sum_find(zs, nz, other_name, 1);
	const struct dns_stats_zone_slot *sl = &sh->zones[z];
	if (!atomic_load_explicit(&sl->used, memory_order_acquire))
		return NULL;
	return zone_sum_find(zs, nz, sl->name, sl->len);
}

int dns_stats_render(const struct dns_stats *s, FILE *out)
{
	/* Named slots of every shard, plus "none" and "other". */
	size_t cap = s->nshards * DNS_STATS_ZONES + 2, nz = 0;
	struct zone_sum *zs = calloc(cap, sizeof(*zs));
	uint64_t lat[DNS_STATS_PROTOS][DNS_STATS_BUCKETS] = {{0}};
	uint64_t lat_ns[DNS_STATS_PROTOS] = {0}, tc[DNS_STATS_PROTOS] = {0};
	uint64_t drop[DNS_STATS_DROPS] = {0};
	uint64_t udp_rx = 0, tcp_acc = 0, tcp_closed = 0, qlog_drop = 0;

	if (zs == NULL)
		return Q53_ENOMEM;
	for (size_t i = 0; i < s->nshards; i++) {
		const struct dns_stats_shard *sh = &s->shards[i];
		for (unsigned z = 0; z < DNS_STATS_ZSLOTS; z++) {
			struct zone_sum *sum = slot_sum(sh, z, zs, &nz);
			if (sum == NULL)
				continue;
			for (unsigned p = 0; p < DNS_STATS_PROTOS; p++)
				for (unsigned t = 0; t < DNS_STATS_QTYPES; t++)
					for (unsigned r = 0;
					     r < DNS_STATS_RCODES; r++)
						sum->q[p][t][r] += ld(
						    &sh->queries[p][z][t][r]);
		}
		for (unsigned p = 0; p < DNS_STATS_PROTOS; p++) {
			for (unsigned b = 0; b < DNS_STATS_BUCKETS; b++)
				lat[p][b] += ld(&sh->latency[p][b]);
			lat_ns[p] += ld(&sh->latency_sum_ns[p]);
			tc[p] += ld(&sh->truncated[p]);
		}
		for (unsigned d = 0; d < DNS_STATS_DROPS; d++)
			drop[d] += ld(&sh->dropped[d]);
		udp_rx += ld(&sh->udp_received);
		qlog_drop += ld(&sh->qlog.dropped);
		tcp_acc += ld(&sh->tcp_accepted);
		tcp_closed += ld(&sh->tcp_closed);
	}

	fputs("# HELP q53_dns_queries_total DNS queries answered, by the zone "
	      "that answered (none: no zone, REFUSED), question type, RCODE "
	      "and protocol.\n"
	      "# TYPE q53_dns_queries_total counter\n",
	      out);
	for (size_t i = 0; i < nz; i++) {
		char name[DNAME_MAXLEN * 4 + 8];
		zone_label(&zs[i], name, sizeof(name));
		for (unsigned p = 0; p < DNS_STATS_PROTOS; p++)
			for (unsigned t = 0; t < DNS_STATS_QTYPES; t++)
				for (unsigned r = 0; r < DNS_STATS_RCODES;
				     r++) {
					if (zs[i].q[p][t][r] == 0)
						continue;
					fputs("q53_dns_queries_total{zone=\"",
					      out);
					prom_write_label(out, name);
					fprintf(out,
						"\",qtype=\"%s\",rcode=\"%s\","
						"proto=\"%s\"} %llu\n",
						qtype_name[t], rcode_name[r],
						proto_name[p],
						(unsigned long long)zs[i]
						    .q[p][t][r]);
				}
	}
	free(zs);

	fputs("# HELP q53_dns_response_seconds Time from a query's receipt to "
	      "its answer (UDP: its recvmmsg batch's).\n"
	      "# TYPE q53_dns_response_seconds histogram\n",
	      out);
	for (unsigned p = 0; p < DNS_STATS_PROTOS; p++) {
		char labels[32];
		snprintf(labels, sizeof(labels), "proto=\"%s\"", proto_name[p]);
		prom_write_histogram(out, "q53_dns_response_seconds", labels,
				     latency_bounds, lat[p], DNS_STATS_BUCKETS,
				     (double)lat_ns[p] / 1e9);
	}
	fputs("# HELP q53_dns_truncated_total Answers sent with TC=1.\n"
	      "# TYPE q53_dns_truncated_total counter\n",
	      out);
	for (unsigned p = 0; p < DNS_STATS_PROTOS; p++)
		fprintf(out, "q53_dns_truncated_total{proto=\"%s\"} %llu\n",
			proto_name[p], (unsigned long long)tc[p]);
	fputs("# HELP q53_dns_dropped_total Messages or connections dropped "
	      "without an answer, by reason.\n"
	      "# TYPE q53_dns_dropped_total counter\n",
	      out);
	for (unsigned d = 0; d < DNS_STATS_DROPS; d++)
		fprintf(out, "q53_dns_dropped_total{reason=\"%s\"} %llu\n",
			drop_name[d], (unsigned long long)drop[d]);
	fprintf(out,
		"# HELP q53_dns_udp_received_total UDP datagrams received.\n"
		"# TYPE q53_dns_udp_received_total counter\n"
		"q53_dns_udp_received_total %llu\n"
		"# HELP q53_dns_tcp_connections_total TCP connections "
		"accepted.\n"
		"# TYPE q53_dns_tcp_connections_total counter\n"
		"q53_dns_tcp_connections_total %llu\n"
		"# HELP q53_dns_tcp_connections_open TCP connections open "
		"now.\n"
		"# TYPE q53_dns_tcp_connections_open gauge\n"
		"q53_dns_tcp_connections_open %llu\n"
		"# HELP q53_query_log_dropped_total Query log records dropped "
		"because a worker's ring was full.\n"
		"# TYPE q53_query_log_dropped_total counter\n"
		"q53_query_log_dropped_total %llu\n",
		(unsigned long long)udp_rx, (unsigned long long)tcp_acc,
		(unsigned long long)(tcp_acc > tcp_closed ? tcp_acc - tcp_closed
							  : 0),
		(unsigned long long)qlog_drop);
	return 0;
}
