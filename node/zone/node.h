/* The compiled form of a zone shared by the zone compiler (zone.c,
 * compile.c), the serving view (view.c) and the query path (query.c).
 * Everything here is immutable once the zone is loaded. */
#ifndef Q53_NODE_ZONE_NODE_H
#define Q53_NODE_ZONE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/zone/name_table.h"

/* Truncation point after one RRset: the body up to `end` holds an/ns/ar
 * records. `required`: the RRset after this point is in the answer or
 * authority section, so cutting here sets TC (RFC 2181 9). */
struct zone_answer_cut {
	uint16_t end;
	uint16_t an, ns, ar;
	uint16_t next_required;
};

/* A precompiled response tail: everything after the question. It was
 * written for a question name of qname_len bytes; for a query whose name
 * is delta bytes longer every compression pointer listed in fix[] moves
 * by delta (the body follows the question, and the names it points at are
 * suffixes of the query name). Pointers to offset 12 written for a wildcard
 * owner stay: there the whole query name is the owner. */
struct zone_answer {
	uint8_t rcode;
	bool aa;
	uint8_t qname_len;
	uint16_t an, ns, ar;
	uint16_t len;
	uint16_t nfix;
	uint16_t ncut;
	const uint16_t *fix;		   /* offsets into body, ascending */
	const struct zone_answer_cut *cut; /* ascending by end */
	uint8_t body[];
};

struct zone_rdata {
	uint16_t len;
	uint8_t *data;
};

struct zone_rrset {
	uint16_t type;
	uint32_t ttl;
	uint32_t count;
	uint32_t cap;
	struct zone_rdata *rdata;
	uint64_t first_line; /* where it was defined, for messages */
};

struct zone_answer_entry {
	uint16_t type;
	const struct zone_answer *answer;
};

struct zone;

struct zone_node {
	const struct zone *zone;
	uint8_t *name; /* lowercase wire */
	uint8_t name_len;
	/* The delegation at or above this node (itself when it is one), below
	 * the apex; NULL in authoritative data. */
	const struct zone_node *cut;
	/* The "*" child, if the zone has one. */
	const struct zone_node *wildcard;
	struct zone_node *parent;

	/* Compile-time data. */
	struct zone_rrset *rrsets;
	uint32_t nrrsets;

	/* Query-time data. */
	uint32_t nanswers;
	struct zone_answer_entry *answers;	  /* by type, ascending */
	const struct zone_answer *default_answer; /* any other type */
	const struct zone_answer *referral;	  /* for a delegation */
};

/* The answer a node gives to qtype. */
static inline const struct zone_answer *
zone_node_answer(const struct zone_node *n, uint16_t qtype)
{
	for (uint32_t i = 0; i < n->nanswers; i++) {
		if (n->answers[i].type == qtype)
			return n->answers[i].answer;
	}
	return n->default_answer;
}

struct zone {
	int refs; /* atomic */
	uint8_t origin[255];
	uint8_t origin_len;
	struct zone_node *apex;
	struct zone_node **nodes;
	size_t nnodes, nodes_cap;
	struct name_table index;
	size_t nrecords;
	/* Answers shared by every name of the zone. */
	const struct zone_answer *nxdomain;
	const struct zone_answer *nodata;
	/* Every compiled answer, owned here. */
	struct zone_answer **owned;
	size_t nowned, owned_cap;
};

/* Looks a node up by lowercase wire name in its zone (compile time). */
struct zone_node *zone_find_node(const struct zone *z, const uint8_t *name,
				 size_t len);
/* The rrset of type at n, or NULL. */
const struct zone_rrset *zone_node_rrset(const struct zone_node *n,
					 uint16_t type);

#endif
