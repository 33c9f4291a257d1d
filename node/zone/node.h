/* The compiled form of a zone shared by the zone compiler (zone.c,
 * compile.c), the serving view (view.c) and the query path (query.c).
 * Everything here is immutable once the zone is loaded. */
#ifndef Q53_NODE_ZONE_NODE_H
#define Q53_NODE_ZONE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "node/zone/choice.h"
#include "node/zone/choice_ip.h"
#include "node/zone/name_index.h"
#include "node/zone/prefix.h"
#include "node/zone/slab.h"

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
 * is delta bytes longer every compression pointer listed in the fix table
 * moves by delta (the body follows the question, and the names it points
 * at are suffixes of the query name). Pointers to offset 12 written for a
 * wildcard owner stay: there the whole query name is the owner.
 *
 * One allocation: this header, body[len], (2-aligned) the cut table,
 * then the fix table (nfix offsets into body, ascending; none in an answer
 * only ever given to its own name: there delta is 0).
 *
 * The cuts, ascending by end, are ncut: cut 0, the empty body (required:
 * first_required), is not stored, nor is the cut after the last RRset
 * (the whole body: a body that does not fit never fits there); the table
 * holds cuts 1..ncut-1. */
struct zone_answer {
	uint8_t rcode;
	bool aa;
	uint8_t qname_len;
	uint8_t first_required;
	uint16_t an, ns, ar;
	uint16_t len;
	uint16_t nfix;
	uint16_t ncut;
	uint8_t body[];
};

static inline const struct zone_answer_cut *
zone_answer_cuts(const struct zone_answer *a)
{
	return (const struct zone_answer_cut *)(const void *)(a->body +
							      ((a->len + 1u) &
							       ~1u));
}

static inline const uint16_t *zone_answer_fixes(const struct zone_answer *a)
{
	return (const uint16_t *)(const void *)(zone_answer_cuts(a) + a->ncut -
						1);
}

struct zone_rdata {
	uint16_t len;
	uint8_t *data;
};

struct zone_rrset {
	uint16_t type;
	uint32_t ttl;
	uint32_t count;
	uint32_t first_line; /* where it was defined, for messages */
	union {
		/* Being built: room for zone_rrset_cap(count). */
		struct zone_rdata *rdata;
		/* Packed (ZONE_NODE_PACKED, what compile.c reads): count
		 * times a 2-byte big-endian length and the bytes; read with
		 * zone_rdata_next. */
		const uint8_t *packed;
	};
};

/* Reads the packed record at p into *rd; returns where the next starts. */
static inline const uint8_t *zone_rdata_next(const uint8_t *p,
					     struct zone_rdata *rd)
{
	rd->len = (uint16_t)((unsigned)p[0] << 8 | p[1]);
	rd->data = (uint8_t *)(uintptr_t)(p + 2);
	return p + 2 + rd->len;
}

/* One answer of a node: at byte offset off of its block (0: the zone's
 * NODATA). */
struct zone_answer_entry {
	uint16_t type;
	/* ZONE_ENTRY_CHOICE: off is a struct zone_choice (choice.h), whose
	 * leaves are the answers. A choice entry of type 0, last, answers
	 * every type not listed (a weighted CNAME). ZONE_ENTRY_CHAIN: a
	 * CNAME chain ending at a choice; off is a length byte and the
	 * end's name (8-aligned), then its choice, picked with the key's
	 * qname set to that name. */
	uint8_t choice;
	uint32_t off;
};

#define ZONE_ENTRY_CHOICE 1
#define ZONE_ENTRY_CHAIN  2

struct zone;

/* A name of a compiled zone. Immutable once its version is built, and
 * shared between consecutive versions of the zone (see name_index.h): it
 * never points at per-version data (the zone's SOA-carrying negative
 * answers are reached through the zone, never copied here), only at nodes
 * that every version holding it holds too (its cut and wildcard: a change
 * to either rebuilds this node). */
struct zone_node {
	/* The delegation at or above this node (itself when it is one), below
	 * the apex; NULL in authoritative data. */
	const struct zone_node *cut;
	/* The "*" child, if the zone has one. */
	const struct zone_node *wildcard;

	/* Compile-time data. */
	struct zone_rrset *rrsets;

	/* Query-time data. An answer pointer NULL means the zone's NODATA. */
	const struct zone_answer *default_answer; /* any other type */
	const struct zone_answer *referral;	  /* for a delegation */
	/* The answers this node owns, one allocation: nanswers
	 * struct zone_answer_entry (by type, in compile order), then the
	 * answers they, default_answer and referral point at. */
	void *block;

	/* The small fields last, the name right after them (no padding). */
	int refs; /* atomic: index pages holding it */
	uint16_t nrrsets;
	uint16_t nanswers; /* entries at the start of block */
	uint8_t name_len;
	uint8_t flags;	/* ZONE_NODE_* */
	uint8_t name[]; /* lowercase wire */
};

/* Rebuilt by every incremental build: its answers carry the apex SOA,
 * follow other names (CNAME, additional targets) or health. */
#define ZONE_NODE_VOLATILE 0x01
/* Created by the build in progress (cleared when it finishes). */
#define ZONE_NODE_FRESH 0x02
/* Answers by health (a failover group): volatile whatever it holds. */
#define ZONE_NODE_HEALTH 0x04
/* Its record data is one allocation (n->rrsets), see zone_node_compact. */
#define ZONE_NODE_PACKED 0x08
/* The node, its packed record data and its answer block come from the
 * slab of a full build (slab.h), not from malloc. */
#define ZONE_NODE_SLAB 0x10
/* Its record data (not packed yet) is in its build's scratch memory. */
#define ZONE_NODE_SCRATCH 0x20
/* Build time: the build holds query-time choices for it (z->choices). */
#define ZONE_NODE_CHOICE 0x40

/* The leaf of latency choice c for the client of key: the value of the
 * longest prefix of its table holding the client's network (the key's
 * subnet: the ECS network or the source /24, /56), else the default leaf.
 * Sets key->scope to the prefix length the answer holds for. */
static inline uint32_t zone_latency_pick(const struct zone_choice *c,
					 struct zone_choice_key *key)
{
	const struct zone_latency_extra *x = zone_choice_extra(c);
	uint32_t l = x->dflt;
	if (key->family == 4 || key->family == 6) {
		uint8_t addr[16] = {0}, scope = 0;
		memcpy(addr, key->subnet,
		       key->subnet_len < 16 ? key->subnet_len : 16);
		uint32_t v =
		    prefix_table_lookup(x + 1, key->family, addr, &scope);
		if (v != PREFIX_NONE && v < c->n)
			l = v;
		key->scope = scope;
	}
	return l;
}

/* The answer a node gives to qtype; NULL: the zone's NODATA. Where the
 * answer is a choice, key (hashed only then) picks the leaf and
 * key->picked is set. */
static inline const struct zone_answer *
zone_node_answer(const struct zone_node *n, uint16_t qtype,
		 struct zone_choice_key *key)
{
	const struct zone_answer_entry *e = n->block;
	const uint8_t *base = n->block;
	uint32_t i = 0;
	while (i < n->nanswers && e[i].type != qtype)
		i++;
	if (i == n->nanswers) {
		if (i == 0 || e[i - 1].type != 0 || !e[i - 1].choice)
			return n->default_answer;
		i--;
	}
	uint32_t off = e[i].off;
	if (e[i].choice) {
		/* One pass down the tree: a pick per level, no allocation. */
		uint64_t h = 0;
		bool hashed = false;
		const uint8_t *qname = key->qname;
		size_t qname_len = key->qname_len;
		if (e[i].choice == ZONE_ENTRY_CHAIN) {
			/* A CNAME chain into a choice: picked as a query
			 * for the chain's end (its name heads the entry). */
			const uint8_t *hn = base + off;
			key->qname = hn + 1;
			key->qname_len = hn[0];
			off += ((uint32_t)1 + hn[0] + 7) & ~(uint32_t)7;
		}
		for (unsigned depth = 0;; depth++) {
			const struct zone_choice *c =
			    (const struct zone_choice *)(const void *)(base +
								       off);
			uint32_t l = c->n; /* none: NODATA */
			switch (c->kind) {
			case ZONE_CHOICE_WEIGHTED:
				if (!hashed) {
					h = zone_choice_hash(key);
					hashed = true;
				}
				l = zone_choice_pick(
				    c, zone_choice_hash_at(h, depth));
				break;
			case ZONE_CHOICE_GEO:
				l = zone_geo_pick(c, key->locate != NULL
							 ? key->locate(key)
							 : 0);
				break;
			case ZONE_CHOICE_LATENCY:
				l = zone_latency_pick(c, key);
				break;
			case ZONE_CHOICE_IP:
				l = zone_ip_pick(c, key);
				break;
			case ZONE_CHOICE_GEOPROX:
				if (key->locate != NULL)
					key->locate(key);
				else
					key->point.has = 0;
				l = zone_geoprox_pick(c, &key->point);
				break;
			default:
				break;
			}
			off = l < c->n ? c->leaf[l].off : 0;
			if (!(off & ZONE_CHOICE_SUB))
				break;
			off &= ~ZONE_CHOICE_SUB;
			if (depth + 1 >= ZONE_CHOICE_MAX_DEPTH) {
				off = 0; /* never built: NODATA */
				break;
			}
		}
		key->picked = true;
		key->qname = qname;
		key->qname_len = qname_len;
	}
	return off == 0
		   ? NULL
		   : (const struct zone_answer *)(const void *)(base + off);
}

/* The room of the rdata array of an RRset of count records while it is
 * built (before zone_node_compact): 2, 4, 8... */
static inline uint32_t zone_rrset_cap(uint32_t count)
{
	uint32_t cap = 2;
	while (cap < count)
		cap *= 2;
	return cap;
}

/* The node named name (len bytes, lowercase, hash from dname_hash) or
 * NULL. Never allocates, takes no lock. */
static inline struct zone_node *name_index_get(const struct name_index *ix,
					       const uint8_t *name, size_t len,
					       uint64_t hash)
{
	size_t d = ix->depth ? (size_t)(hash >> (64 - ix->depth)) : 0;
	const struct name_index_page *p = name_index_page_at(ix, d);
	uint32_t tag = (uint32_t)hash;
	size_t i = tag & (NAME_INDEX_SLOTS - 1);
	for (size_t k = 0; k < NAME_INDEX_SLOTS; k++) {
		const struct zone_node *n = p->node[i];
		if (n == NULL)
			return NULL;
		if (p->tag[i] == tag && n->name_len == len &&
		    memcmp(n->name, name, len) == 0)
			return p->node[i];
		i = (i + 1) & (NAME_INDEX_SLOTS - 1);
	}
	return NULL;
}

struct zone {
	int refs;	   /* atomic */
	uint64_t build_id; /* unique per compiled version (process-wide) */
	uint8_t origin[255];
	uint8_t origin_len;
	struct zone_node *apex;
	struct name_index index;
	size_t nrecords;
	/* Answers shared by every name of the zone (this version's SOA). */
	const struct zone_answer *nxdomain;
	const struct zone_answer *nodata;
	/* The names of the volatile nodes (flag ZONE_NODE_VOLATILE), each
	 * a malloc'd lowercase wire name. */
	uint8_t **vol;
	size_t nvol, vol_cap;
	/* "*" names created by the build; SIZE_MAX: unknown (incremental). */
	size_t nwild;
	/* Build time only (NULL once built): every node, in creation order. */
	struct zone_node **nodes;
	size_t nnodes, nodes_cap;
	/* Build time only: the query-time choices given to the build
	 * (zone_choice_add), sorted by owner when compiling. */
	struct zone_choice_draft *choices;
	size_t nchoices, choices_cap;
	/* Build time only: the builder adds each name's records together
	 * (zone_builder_grouped): new nodes wait in nodes[indexed..nnodes)
	 * and go into the index in one batch (zone_index_pending). */
	bool grouped;
	size_t indexed;
	/* Build time only: a full build carves its nodes from slab. */
	bool use_slab;
	struct zone_slab slab;
	struct zone_scratch scratch; /* with use_slab */
};

/* Looks a node up by lowercase wire name in its zone (compile time). */
struct zone_node *zone_find_node(const struct zone *z, const uint8_t *name,
				 size_t len);
/* The rrset of type at n, or NULL. */
const struct zone_rrset *zone_node_rrset(const struct zone_node *n,
					 uint16_t type);

#endif
