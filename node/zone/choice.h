/* Query-time choices (weighted and multivalue answer routing): a node's
 * answer to one type can be a table of precompiled answers (the leaves),
 * each with a share, instead of one answer. The query path picks a leaf
 * with a fixed hash of the query (name, type, ID, client subnet): no seed,
 * no state, no clock, so every node that serves the same view sends the
 * same bytes for the same query packet, and over many query IDs the leaves
 * are picked in proportion to their shares. The shares themselves (health,
 * weight 0, fail open) are the zone store's business
 * (node/control/zone_store_build.c); this file only picks. */
#ifndef Q53_NODE_ZONE_CHOICE_H
#define Q53_NODE_ZONE_CHOICE_H

#include <endian.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The leaves a zone builder keeps for one choice (zone_builder_choice). */
#define ZONE_CHOICE_MAX_LEAVES 256

/* Nesting (one decision tree per name and type): a leaf of a choice may
 * be another choice instead of an answer (Route 53's nested record sets,
 * Traffic Flow rules). A tree holds at most ZONE_CHOICE_MAX_NODES choices
 * on at most ZONE_CHOICE_MAX_DEPTH levels (the root is level 1); the
 * query path walks it from the root in one pass, one pick per level,
 * whatever the kinds of its nodes. */
#define ZONE_CHOICE_MAX_DEPTH 8
#define ZONE_CHOICE_MAX_NODES 64

/* The kinds of choice: how the query path picks a leaf. WEIGHTED: by a
 * hash of the query, in proportion to the leaves' shares (weighted,
 * multivalue answer); GEO: the most specific location (below) containing
 * the client's; IP, LATENCY, GEOPROX: the client's network through the
 * choice's extra data (a prefix table, node/zone/prefix.h), a latency table
 * or coordinates. */
enum zone_choice_kind {
	ZONE_CHOICE_WEIGHTED = 0,
	ZONE_CHOICE_GEO = 1,
	ZONE_CHOICE_IP = 2,
	ZONE_CHOICE_LATENCY = 3,
	ZONE_CHOICE_GEOPROX = 4,
};

/* A leaf as given to the builder (zone.h): an RRset of the choice's type
 * with its share (WEIGHTED: > 0) or its key (the other kinds: a location,
 * an index into the choice's extra data...). */
struct zone_choice_record {
	const uint8_t *data;
	uint16_t len;
};
struct zone_choice_leaf {
	uint32_t weight; /* its share (WEIGHTED, > 0) or its key */
	uint32_t ttl;
	const struct zone_choice_record *rdata; /* in answer order */
	size_t count;				/* >= 1 */
};

/* A choice as given to the builder (zone_builder_choice): its kind, its
 * leaves, and extra_len bytes of extra data the kind's pick reads at query
 * time (copied after the leaves, 8-aligned: zone_choice_extra; it must not
 * hold pointers). */
struct zone_choice_spec {
	uint8_t kind; /* enum zone_choice_kind */
	const struct zone_choice_leaf *leaves;
	size_t n;
	const void *extra;
	size_t extra_len;
	/* NULL, or n entries: subs[i] non-NULL makes leaf i that nested
	 * choice (the leaf's weight or key still counts; its records are
	 * ignored, count may be 0). */
	const struct zone_choice_spec *const *subs;
};

/* In a node's answer block (8-aligned): n leaves. WEIGHTED: leaf i picked
 * for hash values in [cum[i-1], cum[i]) of [0, total); other kinds: cum is
 * the leaf's key, total 0. off: the leaf's answer, as a byte offset from
 * the start of the block (0: the zone's NODATA), or with ZONE_CHOICE_SUB
 * set the offset (| ZONE_CHOICE_SUB) of a nested choice, always after c in
 * the block. Then the extra data. */
#define ZONE_CHOICE_SUB 1u
struct zone_choice {
	uint32_t total;
	uint16_t n;
	uint8_t kind;
	uint8_t reserved;
	struct {
		uint32_t cum;
		uint32_t off;
	} leaf[];
};

/* The bytes of c up to its extra data. */
static inline size_t zone_choice_head_bytes(uint32_t n)
{
	return (sizeof(struct zone_choice) + n * 2 * sizeof(uint32_t) + 7) &
	       ~(size_t)7;
}

/* The extra data of c (zone_choice_spec.extra), 8-aligned. */
static inline const void *zone_choice_extra(const struct zone_choice *c)
{
	return (const uint8_t *)c + zone_choice_head_bytes(c->n);
}

/* A point on the earth as a unit vector (geoproximity routing); has 0:
 * no point. */
struct zone_geo_point {
	double x, y, z;
	uint32_t has;
	uint32_t reserved;
};

/* p from a latitude and longitude in degrees. */
static inline void zone_geo_point_set(struct zone_geo_point *p, double lat,
				      double lon)
{
	const double rad = 3.14159265358979323846 / 180.0;
	double la = lat * rad, lo = lon * rad;
	p->x = cos(la) * cos(lo);
	p->y = cos(la) * sin(lo);
	p->z = sin(la);
	p->has = 1;
	p->reserved = 0;
}

/* What the pick hashes. qname: lowercase wire, qname_len bytes. subnet:
 * the client's network (its address masked to the prefix the query path
 * uses), subnet_len bytes of it (0: unknown). */
struct zone_choice_key {
	const uint8_t *qname;
	size_t qname_len;
	uint16_t qtype;
	uint16_t id;
	uint8_t family;	    /* 0 unknown, 4, 6 */
	uint8_t subnet_len; /* <= 8 */
	uint8_t subnet[16];
	/* Not hashed: the prefix length subnet stands for (ECS scope), and
	 * whether a pick used the key (set by zone_node_answer). */
	uint8_t scope;
	bool picked;
	/* Geolocation: the client's location (ZONE_GEO_* fields, kind
	 * ignored; 0 unknown) from its network, looked up on the first
	 * geolocation pick (locate NULL: unknown); locate may set scope to
	 * the prefix length of the network it matched. */
	uint32_t (*locate)(struct zone_choice_key *k);
	const void *geo;
	/* Geoproximity: the client's coordinates, set by locate (has 0:
	 * none). */
	struct zone_geo_point point;
};

static inline uint64_t zone_choice_load64(const uint8_t *p)
{
	/* Little-endian whatever the host: the same hash on every node. */
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

static inline uint64_t zone_choice_mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 32);
}

/* The fixed hash of k (64 bits, well mixed). */
static inline uint64_t zone_choice_hash(const struct zone_choice_key *k)
{
	uint64_t h = 0x51353346726f7574ull; /* "Q53Frout" */
	size_t i = 0;
	for (; i + 8 <= k->qname_len; i += 8)
		h = zone_choice_mix(h, zone_choice_load64(k->qname + i));
	uint64_t tail = 0;
	for (size_t j = k->qname_len; j > i; j--)
		tail = tail << 8 | k->qname[j - 1];
	h = zone_choice_mix(h, tail ^ (uint64_t)k->qname_len << 56);
	h = zone_choice_mix(h, (uint64_t)k->qtype << 32 |
				   (uint64_t)k->id << 16 |
				   (uint64_t)k->family << 8 | k->subnet_len);
	/* The network: at most 7 bytes (/56), one word. */
	uint64_t net = 0;
	for (size_t j = k->subnet_len < 8 ? k->subnet_len : 8; j > 0; j--)
		net = net << 8 | k->subnet[j - 1];
	h = zone_choice_mix(h, net);
	/* murmur3's finaliser: every input bit reaches the top bits. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* The hash a WEIGHTED choice at level depth (0: the root) of a tree
 * picks with, from the query's hash h: h itself at the root (so one
 * level answers as it always did), remixed below so that the levels'
 * picks are independent. */
static inline uint64_t zone_choice_hash_at(uint64_t h, unsigned depth)
{
	if (depth == 0)
		return h;
	h ^= (uint64_t)depth * 0x9E3779B97F4A7C15ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* The leaf of c that hash h picks: its index. */
static inline uint32_t zone_choice_pick(const struct zone_choice *c, uint64_t h)
{
	uint32_t x = (uint32_t)(((h >> 32) * (uint64_t)c->total) >> 32);
	uint32_t lo = 0, hi = c->n - 1;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (x < c->leaf[mid].cum)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Geolocation routing (zone_store_build.c): a choice of kind GEO is a
 * geolocation table, each leaf's key (cum) a location (below), and the
 * query path answers with the most specific leaf that contains the
 * client's location (subdivision, country, continent, default) or NODATA.
 * A location: ZONE_GEO_CHOICE | kind << 29 | continent << 26 | country
 * << 16 | subdivision, where continent is 1 + its index in "AF AN AS EU
 * OC NA SA", country 1 + (A..Z)*26 + (A..Z), subdivision 1 + the code in
 * base 36 (0-9, A-Z, up to 3 characters); 0 for a field not given. */
#define ZONE_GEO_CHOICE	     0x80000000u
#define ZONE_GEO_DEFAULT     0u
#define ZONE_GEO_CONTINENT   1u
#define ZONE_GEO_COUNTRY     2u
#define ZONE_GEO_SUBDIVISION 3u
#define ZONE_GEO_KIND(x)     (((x) >> 29) & 3u)
#define ZONE_GEO_CONT(x)     (((x) >> 26) & 7u)
#define ZONE_GEO_CC(x)	     (((x) >> 16) & 0x3FFu)
#define ZONE_GEO_SUB(x)	     ((x)&0xFFFFu)

/* Whether location leaf contains the client's location loc. */
static inline bool zone_geo_contains(uint32_t leaf, uint32_t loc)
{
	switch (ZONE_GEO_KIND(leaf)) {
	case ZONE_GEO_CONTINENT:
		return ZONE_GEO_CONT(loc) != 0 &&
		       ZONE_GEO_CONT(loc) == ZONE_GEO_CONT(leaf);
	case ZONE_GEO_COUNTRY:
		return ZONE_GEO_CC(loc) != 0 &&
		       ZONE_GEO_CC(loc) == ZONE_GEO_CC(leaf);
	case ZONE_GEO_SUBDIVISION:
		return ZONE_GEO_CC(loc) != 0 &&
		       ZONE_GEO_CC(loc) == ZONE_GEO_CC(leaf) &&
		       ZONE_GEO_SUB(loc) == ZONE_GEO_SUB(leaf);
	default:
		return true;
	}
}

/* The leaf of geolocation table c answering location loc: its index, or
 * c->n when none contains it. */
static inline uint32_t zone_geo_pick(const struct zone_choice *c, uint32_t loc)
{
	uint32_t best = c->n, kind = 0;
	for (uint32_t i = 0; i < c->n; i++) {
		uint32_t l = c->leaf[i].cum;
		if ((best == c->n || ZONE_GEO_KIND(l) > kind) &&
		    zone_geo_contains(l, loc)) {
			best = i;
			kind = ZONE_GEO_KIND(l);
		}
	}
	return best;
}

/* Latency routing (zone_store_routing.h): the extra data of a
 * ZONE_CHOICE_LATENCY choice is this header, then a prefix table
 * (node/zone/prefix.h) whose values are leaf indexes. A client network no
 * row covers, and a query without one, gets the default leaf. */
struct zone_latency_extra {
	uint32_t dflt; /* the default leaf */
	uint32_t reserved;
	/* the prefix table follows (8-aligned) */
};

/* Geoproximity routing (zone_store_build.c): a choice of kind GEOPROX
 * has, in its extra data, a struct zone_geoprox then one struct
 * zone_geoprox_leaf per leaf (the leaves' keys are unused). The leaf whose
 * location has the smallest biased distance to the client's coordinates
 * answers (ties: the first); a client without coordinates gets leaf
 * fallback (one zone_geo_acos per leaf). Route 53's bias: biased distance =
 * distance * (1 - bias/100) for a positive bias, distance / (1 + bias/100) for
 * a negative one, i.e. distance * factor with the factor precomputed. */
struct zone_geoprox {
	uint32_t fallback; /* the leaf of a client without coordinates */
	uint32_t reserved;
};
struct zone_geoprox_leaf {
	struct zone_geo_point at; /* the location */
	double factor;		  /* (100 - bias) / 100 or 100 / (100 + bias) */
};

/* The factor of a Bias in -99..99. */
static inline double zone_geoprox_factor(int bias)
{
	return bias >= 0 ? (100.0 - bias) / 100.0 : 100.0 / (100.0 + bias);
}

/* acos(x) for x in [-1, 1] within 2e-8 radians (Abramowitz and Stegun
 * 4.4.46; 0.2 m on the earth): plain arithmetic and one square root, no
 * libm call, the same bits on every node running the same build. */
static inline double zone_geo_acos(double x)
{
	double a = x < 0 ? -x : x;
	a = a > 1.0 ? 1.0 : a; /* rounding past the unit sphere */
	double p =
	    ((((((-0.0012624911 * a + 0.0066700901) * a - 0.0170881256) * a +
		0.0308918810) *
		   a -
	       0.0501743046) *
		  a +
	      0.0889789874) *
		 a -
	     0.2145988016) *
		a +
	    1.5707963050;
	double r = sqrt(1.0 - a) * p;
	return x < 0 ? 3.14159265358979323846 - r : r;
}

/* The leaf of geoproximity choice c answering a client at p: its index.
 * Not inlined: its loop would crowd the other kinds' picks in the query
 * path's hot function. */
__attribute__((noinline, unused)) static uint32_t
zone_geoprox_pick(const struct zone_choice *c, const struct zone_geo_point *p)
{
	const struct zone_geoprox *h = zone_choice_extra(c);
	const struct zone_geoprox_leaf *l =
	    (const struct zone_geoprox_leaf *)(const void *)(h + 1);
	if (!p->has)
		return h->fallback < c->n ? h->fallback : 0;
	uint32_t best = 0;
	double bestd = HUGE_VAL;
	for (uint32_t i = 0; i < c->n; i++) {
		double dot =
		    p->x * l[i].at.x + p->y * l[i].at.y + p->z * l[i].at.z;
		/* The central angle: the distance over the earth's radius. */
		double d = zone_geo_acos(dot) * l[i].factor;
		if (d < bestd) {
			best = i;
			bestd = d;
		}
	}
	return best;
}

#endif
