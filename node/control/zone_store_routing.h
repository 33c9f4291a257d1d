/* The query-time choice of a weighted or multivalue answer group: which
 * record sets may answer given their health, and with which shares (Route
 * 53's rules). Pure: the same group and the same health give the same
 * table on every node. zone_store_build.c hands the table to the zone
 * builder (zone_builder_choice), whose query path picks a leaf per query.
 *
 * Weighted: a member's share is its weight over the sum of the eligible
 * weights. Eligible are the healthy members (a set without a health check
 * is healthy), or every member when none is healthy (as if all were);
 * among them, weight-0 members only when no non-zero one is eligible, and
 * then with equal shares (so all weights 0 means equal shares).
 *
 * Multivalue answer: the records of the healthy members (every member's
 * when none is healthy), distinct, in set identifier order; each leaf is
 * up to ZONE_STORE_MULTIVALUE_MAX of them, starting at a different record
 * (a rotation), so that every eligible record is answered and answers
 * differ between queries.
 *
 * Geolocation: a leaf per eligible member keyed by its location.
 * Geoproximity: a leaf per eligible member, its location and bias factor
 * in the extra data (struct zone_geoprox_leaf, choice.h); a client without
 * coordinates gets the member of the largest Bias (the first of them in
 * set identifier order). */
#ifndef Q53_NODE_CONTROL_ZONE_STORE_ROUTING_H
#define Q53_NODE_CONTROL_ZONE_STORE_ROUTING_H

#include <stddef.h>

#include "node/control/zone_store.h"
#include "node/zone/choice.h"
#include "node/zone/choice_ip.h"
#include "node/zone/zone.h"

/* Records per multivalue answer (Route 53's eight) and answers (leaves)
 * per multivalue group. */
#define ZONE_STORE_MULTIVALUE_MAX    8
#define ZONE_STORE_MULTIVALUE_LEAVES 64

struct zone_store_routing {
	uint8_t kind; /* enum zone_choice_kind */
	size_t n;     /* leaves, >= 1 */
	struct zone_choice_leaf leaf[ZONE_CHOICE_MAX_LEAVES];
	/* Weighted: the set each leaf answers with; multivalue: NULL. */
	const struct zone_store_rrset *member[ZONE_CHOICE_MAX_LEAVES];
	struct zone_choice_record *records; /* the leaves' (malloc'd) */
	/* The choice's extra data (latency: struct zone_latency_extra and
	 * a prefix table), malloc'd; NULL when none. */
	void *extra;
	size_t extra_len;
};

/* The table of the weighted or multivalue group g[0..n) (one name and
 * type, n >= 1, at most ZONE_CHOICE_MAX_LEAVES members read). healthy:
 * see zone_store_check_fn (NULL: all healthy). lat: a latency group's
 * inputs (NULL: no table, no site). 0, Q53_EINVAL (g is not such a group)
 * or Q53_ENOMEM; free with zone_store_routing_free.
 *
 * Latency: a leaf per eligible member (healthy, or all when none is), in
 * set identifier order, its key its index. The extra data maps client
 * networks to leaves: each row of the latency table to the leaf of the
 * lowest RTT among the regions the row lists (ties: the first leaf); a
 * row that lists none of the group's regions, and every network no row
 * covers, to the default leaf: the lowest RTT of this node's own site's
 * measured row (ties: the node's own region), else the leaf of the node's
 * own region, else the first. API rows break ties by the first leaf, never
 * by the node, so that every node answers a covered client alike. */
int zone_store_routing_build(struct zone_store_routing *t,
			     struct zone_store_rrset *const *g, size_t n,
			     zone_store_check_fn healthy, void *ctx,
			     const struct zone_store_latency *lat);

/* The leaf (index) of t's latency leaves with the lowest RTT in rtt[0..n)
 * (regions absent from it do not count), or t->n when none is listed.
 * Ties: the leaf of region prefer (NULL: none), else the first. */
struct latency_rtt;
uint32_t zone_store_routing_latency_best(const struct zone_store_routing *t,
					 const struct latency_rtt *rtt,
					 size_t n, const char *prefer);
void zone_store_routing_free(struct zone_store_routing *t);

/* The table of the IP-based group g[0..n) (CidrRoutingConfig, one
 * collection): a leaf per eligible member (key 0 for "*", else 1 + its
 * position), and in *extra (malloc'd, *extra_len bytes; free with free())
 * the struct zone_ip_extra (node/zone/choice_ip.h) of the collection's
 * blocks as cidr (see zone_store_cidr_fn) gives them: each eligible
 * location's blocks answer with its leaf; an unhealthy one's with the
 * default (NODATA without a healthy default). 0, Q53_EINVAL (not such a
 * group) or Q53_ENOMEM; free t with zone_store_routing_free. */
int zone_store_routing_ip(struct zone_store_routing *t,
			  struct zone_store_rrset *const *g, size_t n,
			  zone_store_check_fn healthy, void *ctx,
			  zone_store_cidr_fn cidr, void *cidr_ctx, void **extra,
			  size_t *extra_len);

#endif
