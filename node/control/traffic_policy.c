/* Typed traffic policies: the checks every replica runs on untrusted
 * typed policies, and freeing (see traffic_policy.h). No JSON here. */
#include "node/control/traffic_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"

const char *traffic_rule_type_name(enum traffic_rule_type t)
{
	switch (t) {
	case TRAFFIC_RULE_FAILOVER:
		return "failover";
	case TRAFFIC_RULE_WEIGHTED:
		return "weighted";
	case TRAFFIC_RULE_GEO:
		return "geo";
	case TRAFFIC_RULE_MULTIVALUE:
		return "multivalue";
	case TRAFFIC_RULE_LATENCY:
		return "latency";
	case TRAFFIC_RULE_GEOPROX:
		return "geoproximity";
	case TRAFFIC_RULE_CIDR:
		return "cidr";
	}
	return "unknown";
}

bool traffic_policy_needs_geo_version(const struct traffic_policy *p)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].type == TRAFFIC_RULE_GEOPROX ||
		    p->rules[i].type == TRAFFIC_RULE_CIDR)
			return true;
	return false;
}

static bool str_in(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

/* The checks of a geoproximity or cidr item it (item k of rule r, items
 * before it: r->items[0..k)). */
static int item_check_geo(const struct traffic_rule *r, size_t i, size_t k,
			  char *err, size_t errlen)
{
	const struct traffic_item *it = &r->items[k];
	if (r->type == TRAFFIC_RULE_GEOPROX) {
		if (it->gp_lat < -9000 || it->gp_lat > 9000 ||
		    it->gp_lon < -18000 || it->gp_lon > 18000 ||
		    it->gp_bias < -99 || it->gp_bias > 99 ||
		    !str_in(it->gp_region, sizeof(it->gp_region)))
			return q53_fail(err, errlen, Q53_EINVAL,
					"rule %zu item %zu: a geoproximity "
					"location out of range",
					i, k);
		return 0;
	}
	if (!str_in(it->cidr_collection, sizeof(it->cidr_collection)) ||
	    !str_in(it->cidr_location, sizeof(it->cidr_location)) ||
	    it->cidr_collection[0] == '\0' || it->cidr_location[0] == '\0')
		return q53_fail(err, errlen, Q53_EINVAL,
				"rule %zu item %zu: no CIDR collection or "
				"location",
				i, k);
	for (size_t j = 0; j < k; j++) {
		if (strcmp(r->items[j].cidr_collection, it->cidr_collection) !=
		    0)
			return q53_fail(err, errlen, Q53_EINVAL,
					"rule %zu item %zu: every location "
					"of a cidr rule is of one collection",
					i, k);
		if (strcmp(r->items[j].cidr_location, it->cidr_location) == 0)
			return q53_fail(err, errlen, Q53_EINVAL,
					"rule %zu item %zu: location %s twice",
					i, k, it->cidr_location);
	}
	return 0;
}

void traffic_policy_free(struct traffic_policy *p)
{
	for (size_t i = 0; p->rules != NULL && i < p->nrules; i++) {
		struct traffic_rule *r = &p->rules[i];
		for (size_t k = 0; r->items != NULL && k < r->nitems; k++)
			free(r->items[k].health_check);
		free(r->items);
		free(r->name);
	}
	free(p->rules);
	for (size_t i = 0; p->endpoints != NULL && i < p->nendpoints; i++) {
		free(p->endpoints[i].name);
		free(p->endpoints[i].value);
		free(p->endpoints[i].rdata);
	}
	free(p->endpoints);
	memset(p, 0, sizeof(*p));
}

/* Depth-first from rule r: 1 on a cycle or too deep a path. state: 0
 * unvisited, 1 on the path, 2 done; depth[] the longest path below. */
static int walk(const struct traffic_policy *p, size_t r, unsigned char *state,
		unsigned *below)
{
	if (state[r] == 1)
		return 1;
	if (state[r] == 2)
		return below[r] + 1 > TRAFFIC_POLICY_DEPTH_MAX;
	state[r] = 1;
	unsigned deepest = 0;
	const struct traffic_rule *rule = &p->rules[r];
	for (size_t k = 0; k < rule->nitems; k++) {
		const struct traffic_item *it = &rule->items[k];
		if (!it->is_rule)
			continue;
		if (walk(p, it->ref, state, below) != 0)
			return 1;
		if (below[it->ref] + 1 > deepest)
			deepest = below[it->ref] + 1;
	}
	state[r] = 2;
	below[r] = deepest;
	return deepest + 1 > TRAFFIC_POLICY_DEPTH_MAX;
}

int traffic_policy_check(const struct traffic_policy *p, char *err,
			 size_t errlen)
{
	if (p->nrules > TRAFFIC_POLICY_RULES_MAX ||
	    p->nendpoints > TRAFFIC_POLICY_ENDPOINTS_MAX ||
	    (p->nrules > 0 && p->rules == NULL) ||
	    (p->nendpoints > 0 && p->endpoints == NULL))
		return q53_fail(err, errlen, Q53_EINVAL,
				"too many rules or endpoints");
	if (p->start_is_rule ? p->start >= p->nrules
			     : p->start >= p->nendpoints)
		return q53_fail(
		    err, errlen, Q53_EINVAL, "start %s %u out of range",
		    p->start_is_rule ? "rule" : "endpoint", (unsigned)p->start);
	for (size_t i = 0; i < p->nendpoints; i++) {
		const struct traffic_endpoint *e = &p->endpoints[i];
		if (e->name == NULL || e->value == NULL ||
		    (e->rdlen > 0 && e->rdata == NULL))
			return q53_fail(err, errlen, Q53_EINVAL,
					"endpoint %zu incomplete", i);
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct traffic_rule *r = &p->rules[i];
		size_t lo = 1, hi = TRAFFIC_POLICY_ITEMS_MAX;
		if (r->type == TRAFFIC_RULE_FAILOVER)
			lo = hi = 2;
		else if (r->type != TRAFFIC_RULE_WEIGHTED &&
			 r->type != TRAFFIC_RULE_GEO &&
			 r->type != TRAFFIC_RULE_MULTIVALUE &&
			 r->type != TRAFFIC_RULE_LATENCY &&
			 r->type != TRAFFIC_RULE_GEOPROX &&
			 r->type != TRAFFIC_RULE_CIDR)
			return q53_fail(err, errlen, Q53_EINVAL,
					"rule %zu: unknown type %d", i,
					(int)r->type);
		if (r->name == NULL || r->nitems < lo || r->nitems > hi ||
		    r->items == NULL)
			return q53_fail(err, errlen, Q53_EINVAL,
					"rule %zu: %zu items", i, r->nitems);
		for (size_t k = 0; k < r->nitems; k++) {
			const struct traffic_item *it = &r->items[k];
			if (it->is_rule ? it->ref >= p->nrules
					: it->ref >= p->nendpoints)
				return q53_fail(err, errlen, Q53_EINVAL,
						"rule %zu item %zu: reference "
						"out of range",
						i, k);
			if (r->type == TRAFFIC_RULE_MULTIVALUE && it->is_rule)
				return q53_fail(err, errlen, Q53_EINVAL,
						"rule %zu item %zu: a "
						"multivalue item must be an "
						"endpoint",
						i, k);
			if (r->type == TRAFFIC_RULE_LATENCY &&
			    (it->region[0] == '\0' ||
			     memchr(it->region, '\0', sizeof(it->region)) ==
				 NULL))
				return q53_fail(err, errlen, Q53_EINVAL,
						"rule %zu item %zu: no region",
						i, k);
			if (r->type == TRAFFIC_RULE_GEO && it->geo == 0)
				return q53_fail(err, errlen, Q53_EINVAL,
						"rule %zu item %zu: no "
						"location",
						i, k);
			if ((r->type == TRAFFIC_RULE_GEOPROX ||
			     r->type == TRAFFIC_RULE_CIDR) &&
			    item_check_geo(r, i, k, err, errlen) != 0)
				return Q53_EINVAL;
		}
	}
	if (p->nrules == 0)
		return 0;
	unsigned char state[TRAFFIC_POLICY_RULES_MAX] = {0};
	unsigned below[TRAFFIC_POLICY_RULES_MAX] = {0};
	for (size_t i = 0; i < p->nrules; i++) {
		if (state[i] == 0 && walk(p, i, state, below) != 0)
			return q53_fail(err, errlen, Q53_EINVAL,
					"rule %s: its references form a loop "
					"or nest deeper than %d rules",
					p->rules[i].name,
					TRAFFIC_POLICY_DEPTH_MAX);
	}
	/* Unfolded (a rule referred to twice counts twice), the tree of
	 * every rule holds at most TRAFFIC_POLICY_TREE_MAX rules: what a
	 * build expands. Children first: the walk above found no loop, so
	 * depth order (below[]) is a topological one. */
	size_t size[TRAFFIC_POLICY_RULES_MAX];
	for (unsigned d = 0; d < TRAFFIC_POLICY_DEPTH_MAX; d++) {
		for (size_t i = 0; i < p->nrules; i++) {
			if (below[i] != d)
				continue;
			const struct traffic_rule *r = &p->rules[i];
			size_t n = 1;
			for (size_t k = 0; k < r->nitems; k++) {
				if (r->items[k].is_rule)
					n += size[r->items[k].ref];
				if (n > TRAFFIC_POLICY_TREE_MAX)
					n = TRAFFIC_POLICY_TREE_MAX + 1;
			}
			size[i] = n;
			if (n > TRAFFIC_POLICY_TREE_MAX)
				return q53_fail(err, errlen, Q53_EINVAL,
						"rule %s: its references "
						"unfold to more than %d rules",
						r->name,
						TRAFFIC_POLICY_TREE_MAX);
		}
	}
	return 0;
}
