/* The query path: parse one DNS message (question + OPT), look it up in a
 * serving view, write the precompiled answer. No allocation, no locks, no
 * system calls: it is the code that the fuzzer and the benchmark measure. */
#ifndef Q53_NODE_DNS_QUERY_H
#define Q53_NODE_DNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct serving_view;
struct geo_db;
struct zone;

/* What the query path saw of one query, for counting
 * (node/dns/dns_stats.h): written by dns_query_answer_from when
 * dns_query_params.seen is set (every field, for every query it answers). */
struct dns_query_seen {
	const struct zone *zone; /* the zone that answered, NULL: none */
	uint16_t qtype;		 /* 0 when the question did not parse */
	uint8_t rcode;		 /* the full RCODE (BADVERS is 16) */
	/* The EDNS Client Subnet asked (answered queries only): family 1
	 * or 2 (0: none), SOURCE PREFIX-LENGTH, address bytes. */
	uint8_t ecs_family;
	uint8_t ecs_source;
	uint8_t ecs_addr[16];
};

#define DNS_UDP_PAYLOAD_DEFAULT 1232
#define DNS_MSG_MAX		65535

struct dns_query_params {
	/* EDNS payload size we advertise and the cap of UDP answers. */
	uint16_t udp_payload;
	/* The message came over TCP: no size cap but 65535, no TC. */
	bool tcp;
	/* Client locations for geolocation routing (NULL: unknown, only
	 * defaults answer). */
	const struct geo_db *geo;
	/* CHAOS TXT answers (--identity, --server-version): hostname.bind and
	 * id.server get identity, version.bind and version.server version;
	 * NULL: REFUSED, like every other class but IN. At most 255 bytes. */
	const char *identity;
	const char *version;
	/* NULL, or where each query's zone, type and RCODE are written
	 * (the thread's own). */
	struct dns_query_seen *seen;
};

/* Answers the message q[0..qlen) (untrusted) from view (may be NULL: every
 * name is then REFUSED). Writes the response into out, which must hold at
 * least DNS_MSG_MAX bytes for TCP and p->udp_payload (>= 512) for UDP.
 * Returns the response length, or 0 when the message must be dropped
 * (shorter than a header, or a response: QR=1). */
size_t dns_query_answer(const struct serving_view *view,
			const struct dns_query_params *p, const uint8_t *q,
			size_t qlen, uint8_t *out, size_t outcap);

/* Where a query came from: weighted and multivalue answers are picked by
 * a hash of the query and the client's network (its address masked to
 * /24 for IPv4, /56 for IPv6). family: 4 (addr[0..4)), 6 (addr[0..16)),
 * 0 unknown. */
struct dns_client {
	uint8_t family;
	uint8_t addr[16];
};

/* The client's address from a socket address (AF_INET, AF_INET6; an
 * IPv4-mapped IPv6 address counts as IPv4); family 0 for others. */
struct sockaddr;
void dns_client_from_sockaddr(struct dns_client *c, const struct sockaddr *sa);

/* dns_query_answer for a query from client (NULL: unknown). */
size_t dns_query_answer_from(const struct serving_view *view,
			     const struct dns_query_params *p,
			     const struct dns_client *client, const uint8_t *q,
			     size_t qlen, uint8_t *out, size_t outcap);

/* What an answer was, for response rate limiting (node/dns/rrl.h) and
 * for truncating it (dns_query_truncate). */
struct dns_answer_info {
	uint16_t qname_len; /* the echoed question's name; 0: no question */
	uint16_t zone_off;  /* the zone's name in it: qname[zone_off..]; the
			     * root (qname_len - 1) when no zone answered */
	bool wildcard;	    /* synthesized from a wildcard */
	bool has_opt;	    /* the answer carries OPT */
	uint16_t edns_flags;
};

/* dns_query_answer_from that also describes the answer in *info (valid
 * when the return value is not 0). */
size_t dns_query_answer_info(const struct serving_view *view,
			     const struct dns_query_params *p,
			     const struct dns_client *client, const uint8_t *q,
			     size_t qlen, uint8_t *out, size_t outcap,
			     struct dns_answer_info *info);

/* Rewrites the answer in out (described by info) into an empty truncated
 * one: header and question, TC=1, no records but OPT when it had one (a
 * "slipped" answer: the client retries over TCP). Returns its length (not
 * more than the original's). */
size_t dns_query_truncate(const struct dns_query_params *p,
			  const struct dns_answer_info *info, uint8_t *out);

#endif
