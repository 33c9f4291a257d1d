/* Compiling hosted zones for serving: the full build (zone_builder over
 * every record set) and the incremental one (zone_update_build over the
 * owners the mutations since the previous build touched), with the dirty
 * tracking the mutations in zone_store.c feed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/zone_store.h"
#include "node/control/zone_store_flow.h"
#include "node/control/zone_store_impl.h"
#include "node/control/zone_store_routing.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rrtype.h"
#include "node/health/vote_rule.h"
#include "node/zone/zone.h"

static bool set_healthy(const struct zone_store_rrset *set,
			zone_store_check_fn healthy, void *ctx)
{
	return zone_store_rrset_health_check(set) == NULL || healthy == NULL ||
	       healthy(ctx, zone_store_rrset_health_check(set));
}

/* The members of a group the builds read: a plain set, a PRIMARY and a
 * SECONDARY, or up to ZONE_CHOICE_MAX_LEAVES weighted or multivalue sets
 * (members beyond are not answered). */
#define GROUP_MAX ZONE_CHOICE_MAX_LEAVES

/* The set that answers for the group g[0..n) (only the first GROUP_MAX
 * members are in g): a plain set itself; of a failover group the first
 * eligible of PRIMARY, SECONDARY, where eligible is healthy, or every
 * member when none is (fail open). */
static const struct zone_store_rrset *
group_pick(struct zone_store_rrset *const *g, size_t n,
	   zone_store_check_fn healthy, void *ctx)
{
	static const enum change_failover ORDER[] = {CHANGE_FAILOVER_PRIMARY,
						     CHANGE_FAILOVER_SECONDARY};
	const struct zone_store_rrset *cand[2];
	bool ok[2] = {false, false};
	size_t m = 0;

	if (n == 1 && zone_store_rrset_set_id(g[0]) == NULL)
		return g[0];
	if (zone_store_rrset_policy(g[0]) != CHANGE_POLICY_FAILOVER)
		return NULL;
	if (n > GROUP_MAX)
		n = GROUP_MAX;
	for (size_t r = 0; r < 2; r++) {
		for (size_t k = 0; k < n && m < 2; k++) {
			if (zone_store_rrset_failover(g[k]) != ORDER[r])
				continue;
			cand[m] = g[k];
			ok[m] = set_healthy(g[k], healthy, ctx);
			m++;
			break;
		}
	}
	health_vote_fail_open(ok, m, ok);
	for (size_t k = 0; k < m; k++) {
		if (ok[k])
			return cand[k];
	}
	return NULL; /* not a group the store keeps */
}

/* --- aliases --- */

/* The health check id an alias resolved to an unhealthy target carries in
 * its resolved copy (compared by address). */
static const char ALIAS_DOWN[] = "alias target unhealthy";

/* Memory that lives while one group is added (the nested choices of its
 * tree and their records): a list of malloc'd blocks. */
struct arena {
	void **v;
	size_t n, cap;
};

static void *arena_keep(struct arena *a, void *p)
{
	if (p == NULL)
		return NULL;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		void **v = realloc(a->v, cap * sizeof(*v));
		if (v == NULL) {
			free(p);
			return NULL;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = p;
	return p;
}

static void *arena_alloc(struct arena *a, size_t size)
{
	return arena_keep(a, calloc(1, size ? size : 1));
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* Health as the builds read it: the caller's checks, and ALIAS_DOWN; the
 * arena of the group being added. */
struct build_health {
	zone_store_check_fn fn;
	void *ctx;
	struct arena *arena;
	const struct zone_store *s; /* latency table, CIDR collections */
};

static bool health_of(void *arg, const char *check_id)
{
	const struct build_health *h = arg;
	if (check_id == ALIAS_DOWN)
		return false;
	return h->fn == NULL || h->fn(h->ctx, check_id);
}

/* A group with its alias members resolved: g[0..n) of the store, or
 * copies of them (owner, routing fields) answering with their targets'
 * records and TTL; members resolving to no record are left out. */
struct resolved {
	struct zone_store_rrset **v;
	size_t n;
	bool alias;			  /* a member was an alias */
	struct zone_store_rrset **copies; /* malloc'd (each too), or NULL */
	/* copies[k]'s target answers by query-time choice: that tree (in
	 * the arena), else NULL; malloc'd with copies. */
	const struct zone_choice_spec **subs;
	size_t ncopies;
	struct zone_store_rrset **ptrs; /* malloc'd, or NULL */
};

/* Idempotent: a failing policy_group frees its out, which its caller
 * frees again. */
static void resolved_free(struct resolved *r)
{
	for (size_t k = 0; r->copies != NULL && k < r->ncopies; k++)
		free(r->copies[k]);
	free(r->copies);
	free(r->subs);
	free(r->ptrs);
	r->copies = NULL;
	r->subs = NULL;
	r->ptrs = NULL;
	r->ncopies = 0;
}

static int resolve_group(const struct zone_store *s,
			 struct zone_store_rrset *const *g, size_t n,
			 struct build_health *h, unsigned depth,
			 struct resolved *out);

/* The (name, type) group of zone id into g[0..GROUP_MAX): its size. */
static size_t target_group(const struct zone_store *s, const char *id,
			   const uint8_t *name, uint16_t type,
			   struct zone_store_rrset **g)
{
	const struct zone_store_zone *tz = zone_store_impl_find(s, id);
	size_t end;
	if (tz == NULL)
		return 0;
	size_t pos = zone_store_impl_find_group(&tz->sets, name, type, &end);
	if (pos == end)
		return 0;
	zone_store_impl_group_end(&tz->sets, pos, g, GROUP_MAX);
	return end - pos;
}

/* A nested choice as group_tree builds it (in the arena): the spec
 * first, with its tree's depth and number of nodes (zone_builder_choice's
 * bounds). */
struct tspec {
	struct zone_choice_spec spec;
	unsigned depth, nodes;
};

/* What a resolved group answers with: one set (spec NULL; set NULL:
 * nothing), or a decision tree (spec, in the arena) whose first answer
 * (following leaf 0 down) is first, the owner's own RRset. */
struct tree {
	const struct zone_store_rrset *set;
	const struct zone_choice_spec *spec;
	struct zone_choice_leaf first;
};

/* The nested tree of member m of r (an alias whose target answers by a
 * query-time choice), or NULL. */
static const struct tspec *sub_of(const struct resolved *r,
				  const struct zone_store_rrset *m)
{
	for (size_t k = 0; m != NULL && r->subs != NULL && k < r->ncopies;
	     k++) {
		if (r->copies[k] == m)
			return (const struct tspec *)r->subs[k];
	}
	return NULL;
}

static struct zone_choice_leaf first_leaf(const struct zone_choice_spec *sp)
{
	while (sp->subs != NULL && sp->subs[0] != NULL)
		sp = sp->subs[0];
	return sp->leaves[0];
}

/* The tree of the resolved group r: a weighted, multivalue or
 * geolocation group is a choice whose leaves are its members, a member
 * that is an alias to a group answering by choice that choice (nested);
 * a plain or failover group is the set it answers with, or that set's
 * nested choice. Health is resolved here (build time): only eligible
 * members are leaves (zone_store_routing.h). A tree that would be
 * deeper or larger than zone_builder_choice takes keeps its nested
 * members as one answer each (their first). */
static int group_tree(const struct resolved *r, struct build_health *h,
		      struct tree *out)
{
	memset(out, 0, sizeof(*out));
	if (r->n == 0)
		return 0;
	enum change_policy p = zone_store_rrset_policy(r->v[0]);
	if (p == CHANGE_POLICY_WEIGHTED || p == CHANGE_POLICY_MULTIVALUE ||
	    p == CHANGE_POLICY_GEO || p == CHANGE_POLICY_LATENCY ||
	    p == CHANGE_POLICY_CIDR || p == CHANGE_POLICY_GEOPROX) {
		struct zone_store_routing *t =
		    arena_keep(h->arena, malloc(sizeof(*t)));
		if (t == NULL)
			return Q53_ENOMEM;
		size_t gn = r->n > GROUP_MAX ? GROUP_MAX : r->n;
		void *ipx = NULL;
		size_t ipx_len = 0;
		int rc = p == CHANGE_POLICY_CIDR
			     ? zone_store_routing_ip(t, r->v, gn, health_of, h,
						     h->s->cidr, h->s->cidr_ctx,
						     &ipx, &ipx_len)
			     : zone_store_routing_build(t, r->v, gn, health_of,
							h, h->s->latency);
		if (rc == 0 && ipx != NULL) {
			/* IP-based: the prefix table is the extra data. */
			free(t->extra);
			t->extra = ipx;
			t->extra_len = ipx_len;
		}
		if (rc == Q53_EINVAL)
			return 0; /* not a group the store keeps */
		if (rc != 0)
			return rc;
		if (arena_keep(h->arena, t->records) == NULL ||
		    (t->extra != NULL &&
		     arena_keep(h->arena, t->extra) == NULL))
			return Q53_ENOMEM;
		struct tspec *ts = arena_alloc(h->arena, sizeof(*ts));
		if (ts == NULL)
			return Q53_ENOMEM;
		ts->spec.kind =
		    p == CHANGE_POLICY_GEO ? ZONE_CHOICE_GEO : t->kind;
		ts->spec.leaves = t->leaf;
		ts->spec.n = t->n;
		ts->spec.extra = t->extra;
		ts->spec.extra_len = t->extra_len;
		ts->depth = 1;
		ts->nodes = 1;
		const struct zone_choice_spec **subs = NULL;
		for (size_t i = 0; i < t->n; i++) {
			const struct tspec *sub = sub_of(r, t->member[i]);
			if (sub == NULL)
				continue;
			if (sub->depth + 1 > ZONE_CHOICE_MAX_DEPTH ||
			    ts->nodes + sub->nodes > ZONE_CHOICE_MAX_NODES)
				continue; /* answers with its first */
			if (subs == NULL) {
				subs =
				    arena_alloc(h->arena, t->n * sizeof(*subs));
				if (subs == NULL)
					return Q53_ENOMEM;
			}
			subs[i] = &sub->spec;
			ts->nodes += sub->nodes;
			if (sub->depth + 1 > ts->depth)
				ts->depth = sub->depth + 1;
		}
		ts->spec.subs = subs;
		out->spec = &ts->spec;
		out->first = first_leaf(&ts->spec);
		return 0;
	}
	const struct zone_store_rrset *pick =
	    group_pick(r->v, r->n, health_of, h);
	const struct tspec *sub = sub_of(r, pick);
	if (sub != NULL) {
		out->spec = &sub->spec;
		out->first = first_leaf(&sub->spec);
	} else {
		out->set = pick;
	}
	return 0;
}

/* The records of tree t (its first answer) into *count, *ttl; rd:
 * NULL, or room for them. */
static uint16_t tree_records(const struct tree *t, struct zone_store_rdata *rd,
			     uint32_t *ttl)
{
	*ttl = 0;
	if (t->spec != NULL) {
		*ttl = t->first.ttl;
		for (size_t i = 0; rd != NULL && i < t->first.count; i++)
			rd[i] = (struct zone_store_rdata){
			    .len = t->first.rdata[i].len,
			    .data =
				(uint8_t *)(uintptr_t)t->first.rdata[i].data};
		return (uint16_t)t->first.count;
	}
	if (t->set == NULL)
		return 0;
	*ttl = t->set->ttl;
	for (uint16_t i = 0; rd != NULL && i < t->set->count; i++)
		rd[i] = t->set->rdata[i];
	return t->set->count;
}

/* A copy of member m (malloc'd, one allocation): m's key and routing
 * fields (its own copy of m's policy, the alias flag cleared) answering
 * with tree t (its first answer's records and TTL; the records point
 * into the store's sets), unhealthy (ALIAS_DOWN) when m's own check is
 * or, with evaluate (EvaluateTargetHealth), when none of target_ok. */
static int alias_copy(const struct zone_store_rrset *m, const struct tree *t,
		      bool evaluate, bool target_ok, struct build_health *h,
		      struct zone_store_rrset **out)
{
	uint32_t ttl;
	uint16_t count = tree_records(t, NULL, &ttl);
	struct zone_store_rrset *c =
	    malloc(sizeof(*c) + count * sizeof(c->rdata[0]) +
		   sizeof(struct zone_store_policy));
	*out = NULL;
	if (c == NULL)
		return Q53_ENOMEM;
	struct zone_store_policy *pol =
	    (struct zone_store_policy *)&c->rdata[count];
	memcpy(c, m, sizeof(*c));
	if (m->policy != NULL)
		*pol = *m->policy;
	else
		memset(pol, 0, sizeof(*pol));
	pol->routing &= (uint8_t)~ZONE_STORE_ALIAS;
	c->policy = pol;
	c->count = tree_records(t, c->rdata, &c->ttl);
	if (!set_healthy(m, health_of, h) || (evaluate && !target_ok))
		pol->health_check_id = (char *)ALIAS_DOWN;
	*out = c;
	return 0;
}

/* Alias member m resolved into a new *out (alias_copy) answering as its
 * target group does; *sub: the target's choice when it answers by one
 * (else NULL). Healthy with EvaluateTargetHealth when a member of the
 * resolved target is. */
static int resolve_alias(const struct zone_store *s,
			 const struct zone_store_rrset *m,
			 struct build_health *h, unsigned depth,
			 struct zone_store_rrset **out,
			 const struct zone_choice_spec **sub)
{
	struct zone_store_alias a;
	struct zone_store_rrset *g[GROUP_MAX];
	struct resolved r = {0};
	struct tree t = {0};
	bool ok = false;

	*out = NULL;
	*sub = NULL;
	zone_store_rrset_alias(m, &a);
	size_t n = depth < ZONE_STORE_ALIAS_DEPTH
		       ? target_group(s, a.zone_id, a.name, m->type, g)
		       : 0;
	if (n > 0) {
		int rc = resolve_group(s, g, n, h, depth + 1, &r);
		if (rc == 0)
			rc = group_tree(&r, h, &t);
		if (rc != 0) {
			resolved_free(&r);
			return rc;
		}
		for (size_t k = 0; k < r.n; k++)
			ok = ok || set_healthy(r.v[k], health_of, h);
	}
	int rc = alias_copy(m, &t, a.evaluate, ok, h, out);
	if (rc == 0)
		*sub = t.spec;
	resolved_free(&r);
	return rc;
}

static int resolve_group(const struct zone_store *s,
			 struct zone_store_rrset *const *g, size_t n,
			 struct build_health *h, unsigned depth,
			 struct resolved *out)
{
	memset(out, 0, sizeof(*out));
	out->v = (struct zone_store_rrset **)g;
	out->n = n > GROUP_MAX ? GROUP_MAX : n;
	for (size_t k = 0; k < out->n; k++)
		out->alias = out->alias || (zone_store_rrset_routing(g[k]) &
					    ZONE_STORE_ALIAS);
	if (!out->alias)
		return 0;
	out->copies = calloc(out->n, sizeof(*out->copies));
	out->subs = calloc(out->n, sizeof(*out->subs));
	out->ptrs = malloc(out->n * sizeof(*out->ptrs));
	out->ncopies = out->copies != NULL ? out->n : 0;
	if (out->copies == NULL || out->subs == NULL || out->ptrs == NULL) {
		resolved_free(out);
		return Q53_ENOMEM;
	}
	size_t m = 0;
	for (size_t k = 0; k < out->n; k++) {
		if (!(zone_store_rrset_routing(g[k]) & ZONE_STORE_ALIAS)) {
			out->ptrs[m++] = g[k];
			continue;
		}
		int rc = resolve_alias(s, g[k], h, depth, &out->copies[k],
				       &out->subs[k]);
		if (rc != 0) {
			resolved_free(out);
			return rc;
		}
		if (out->copies[k]->count > 0)
			out->ptrs[m++] = out->copies[k];
	}
	out->v = out->ptrs;
	out->n = m;
	return 0;
}

/* Where a group's records go: a full build's builder or an incremental
 * build's update. */
struct group_sink {
	struct zone_builder *b;
	struct zone_update *u;
	char *err;
	size_t errlen;
	const struct zone_store *s; /* alias targets */
};

static int sink_add(struct group_sink *k, const uint8_t *owner, uint16_t type,
		    uint32_t ttl, const uint8_t *data, uint16_t len)
{
	if (k->b != NULL)
		return zone_builder_add(k->b, owner, type, ttl, data, len,
					k->err, k->errlen);
	return zone_update_add(k->u, owner, type, ttl, data, len);
}

/* owner answers by health or by other names' data: rebuilt by every
 * incremental build. */
static int sink_volatile(struct group_sink *k, const uint8_t *owner)
{
	if (k->b != NULL)
		return zone_builder_volatile(k->b, owner) == Q53_ENOMEM
			   ? Q53_ENOMEM
			   : 0;
	zone_update_volatile(k->u, owner);
	return 0;
}

/* Adds what the resolved group r answers with for owner to k: a choice
 * tree with its first answer as owner's own RRset, or the one set. */
static int resolved_add(struct group_sink *k, const uint8_t *owner,
			const struct resolved *r, struct build_health *h)
{
	int rc;
	struct tree t;
	rc = group_tree(r, h, &t);
	if (rc != 0 || (t.spec == NULL && t.set == NULL))
		return rc;
	if (t.spec != NULL) {
		/* The owner's own RRset: the first answer (ANY, chains). */
		const struct zone_choice_leaf *l0 = &t.first;
		for (size_t i = 0; i < l0->count && rc == 0; i++)
			rc = sink_add(k, owner, r->v[0]->type, l0->ttl,
				      l0->rdata[i].data, l0->rdata[i].len);
		if (rc == 0)
			rc = k->b != NULL
				 ? zone_builder_choice(k->b, owner,
						       r->v[0]->type, t.spec)
				 : zone_update_choice(k->u, owner,
						      r->v[0]->type, t.spec);
		return rc;
	}
	const struct zone_store_rrset *set = t.set;
	for (uint16_t i = 0; i < set->count && rc == 0; i++)
		rc = sink_add(k, owner, set->type, set->ttl, set->rdata[i].data,
			      set->rdata[i].len);
	if (rc == 0 && zone_store_rrset_set_id(set) != NULL)
		rc = sink_volatile(k, owner);
	return rc;
}

/* Adds the group g[0..n) (n counts every member, the first GROUP_MAX in
 * g), answering for owner (g's own, or a simple alias's), to k: the
 * answering set of a plain or failover group, or a weighted or multivalue
 * group's choice table with its first leaf's records. A simple alias
 * answers as its target group would; alias members of a group answer
 * with their target's set. */
static int group_add_as(struct group_sink *k, const uint8_t *owner,
			struct zone_store_rrset *const *g, size_t n,
			struct build_health *h, unsigned depth)
{
	struct zone_store_alias a;
	int rc;
	if (n == 1 && zone_store_rrset_set_id(g[0]) == NULL &&
	    zone_store_rrset_alias(g[0], &a)) {
		struct zone_store_rrset *tg[GROUP_MAX];
		size_t tn =
		    depth < ZONE_STORE_ALIAS_DEPTH
			? target_group(k->s, a.zone_id, a.name, g[0]->type, tg)
			: 0;
		rc = tn > 0 ? group_add_as(k, owner, tg, tn, h, depth + 1) : 0;
		return rc != 0 ? rc : sink_volatile(k, owner);
	}
	struct resolved r;
	rc = resolve_group(k->s, g, n, h, depth, &r);
	if (rc != 0)
		return rc;
	if (r.n == 0)
		goto out;
	rc = resolved_add(k, owner, &r, h);
out:
	if (rc == 0 && r.alias)
		rc = sink_volatile(k, owner);
	resolved_free(&r);
	return rc;
}

static int group_add(struct group_sink *k, struct zone_store_rrset *const *g,
		     size_t n, zone_store_check_fn healthy, void *ctx)
{
	struct arena arena = {0};
	struct build_health h = {healthy, ctx, &arena, k->s};
	int rc = group_add_as(k, g[0]->owner, g, n, &h, 0);
	arena_free(&arena);
	return rc;
}

/* --- policy records (traffic policy instances) --- */

/* The resolved group of rule `rule` of the policy of instance inst, as
 * the equivalent nested record sets would resolve: each item a member
 * of the rule's policy (failover PRIMARY / SECONDARY, Weight, location,
 * MultiValueAnswer) with its HealthCheck, holding its endpoint's value
 * with the instance's TTL, or an alias (EvaluateTargetHealth as given)
 * to the rule it names. */
static int policy_group(const struct zone_store_tinstance *inst,
			const struct traffic_policy *p, size_t rule,
			struct build_health *h, unsigned depth,
			struct resolved *out)
{
	const struct traffic_rule *ru = &p->rules[rule];
	memset(out, 0, sizeof(*out));
	size_t n = ru->nitems > GROUP_MAX ? GROUP_MAX : ru->nitems;
	out->alias = true; /* answers follow health: volatile */
	out->copies = calloc(n, sizeof(*out->copies));
	out->subs = calloc(n, sizeof(*out->subs));
	out->ptrs = malloc(n * sizeof(*out->ptrs));
	out->ncopies = out->copies != NULL ? n : 0;
	if (out->copies == NULL || out->subs == NULL || out->ptrs == NULL) {
		resolved_free(out);
		return Q53_ENOMEM;
	}
	size_t m = 0;
	for (size_t k = 0; k < n; k++) {
		const struct traffic_item *it = &ru->items[k];
		struct zone_store_policy pol = {0};
		char sid[16];
		snprintf(sid, sizeof(sid), "%zu", k);
		pol.set_identifier = sid;
		pol.health_check_id = it->health_check;
		if (ru->type == TRAFFIC_RULE_FAILOVER) {
			pol.failover = k == 0 ? CHANGE_FAILOVER_PRIMARY
					      : CHANGE_FAILOVER_SECONDARY;
		} else if (ru->type == TRAFFIC_RULE_WEIGHTED) {
			pol.routing = ZONE_STORE_WEIGHTED;
			pol.weight = it->weight;
		} else if (ru->type == TRAFFIC_RULE_MULTIVALUE) {
			pol.routing = ZONE_STORE_MULTIVALUE;
		} else if (ru->type == TRAFFIC_RULE_LATENCY) {
			snprintf(pol.region, sizeof(pol.region), "%s",
				 it->region);
		} else if (ru->type == TRAFFIC_RULE_GEOPROX) {
			/* As a GeoProximityLocation (zone_store.c's copy). */
			pol.routing = ZONE_STORE_GEOPROX;
			pol.geoprox_lat = (int16_t)it->gp_lat;
			pol.geoprox_lon = (int16_t)it->gp_lon;
			pol.geoprox_bias = (int8_t)it->gp_bias;
			snprintf(pol.geoprox_region, sizeof(pol.geoprox_region),
				 "%s", it->gp_region);
		} else if (ru->type == TRAFFIC_RULE_CIDR) {
			pol.cidr_collection_id = (char *)it->cidr_collection;
			pol.cidr_location = (char *)it->cidr_location;
		} else {
			pol.geo = it->geo;
		}
		struct zone_store_rrset tmpl = {
		    .owner = (uint8_t *)(uintptr_t)inst->name,
		    .policy = &pol,
		    .ttl = inst->ttl,
		    .type = p->type,
		    .owner_len = inst->name_len};
		struct tree t = {0};
		struct resolved r = {0};
		bool ok = true, evaluate = false;
		int rc = 0;
		if (!it->is_rule) {
			/* An endpoint: the set of its one value. */
			struct zone_store_rrset *one = arena_alloc(
			    h->arena,
			    sizeof(*one) + sizeof(struct zone_store_rdata));
			if (one == NULL) {
				resolved_free(out);
				return Q53_ENOMEM;
			}
			memcpy(one, &tmpl, sizeof(*one));
			one->policy = NULL;
			one->count = 1;
			one->rdata[0].len = p->endpoints[it->ref].rdlen;
			one->rdata[0].data = p->endpoints[it->ref].rdata;
			t.set = one;
		} else if (depth < TRAFFIC_POLICY_DEPTH_MAX) {
			evaluate = it->evaluate;
			rc = policy_group(inst, p, it->ref, h, depth + 1, &r);
			if (rc == 0)
				rc = group_tree(&r, h, &t);
			ok = false;
			for (size_t j = 0; rc == 0 && j < r.n; j++)
				ok = ok || set_healthy(r.v[j], health_of, h);
		}
		if (rc == 0)
			rc = alias_copy(&tmpl, &t, evaluate, ok, h,
					&out->copies[k]);
		if (rc == 0)
			out->subs[k] = t.spec;
		resolved_free(&r);
		if (rc != 0) {
			resolved_free(out);
			return rc;
		}
		if (out->copies[k]->count > 0)
			out->ptrs[m++] = out->copies[k];
	}
	out->v = out->ptrs;
	out->n = m;
	return 0;
}

/* Adds the answers of policy record inst (of zone z's store s) to k. */
static int instance_add(struct group_sink *k,
			const struct zone_store_tinstance *inst,
			zone_store_check_fn healthy, void *ctx)
{
	const struct zone_store_tpolicy *tp =
	    zone_store_policy_get(k->s, inst->policy_id, inst->policy_version);
	if (tp == NULL)
		return 0;
	const struct traffic_policy *p = &tp->p;
	struct arena arena = {0};
	struct build_health h = {healthy, ctx, &arena, k->s};
	int rc;
	if (!p->start_is_rule) {
		const struct traffic_endpoint *e = &p->endpoints[p->start];
		rc = sink_add(k, inst->name, p->type, inst->ttl, e->rdata,
			      e->rdlen);
	} else {
		struct resolved r;
		rc = policy_group(inst, p, p->start, &h, 1, &r);
		if (rc == 0 && r.n > 0)
			rc = resolved_add(k, inst->name, &r, &h);
		if (rc == 0)
			rc = sink_volatile(k, inst->name);
		resolved_free(&r);
	}
	arena_free(&arena);
	return rc;
}

/* The instances of zone id at name (all names: NULL) into k. */
static int instances_add(struct group_sink *k, const char *id,
			 const uint8_t *name, size_t len,
			 zone_store_check_fn healthy, void *ctx)
{
	for (size_t i = 0; i < zone_store_instance_count(k->s); i++) {
		const struct zone_store_tinstance *t =
		    zone_store_instance_at(k->s, i);
		if (strcmp(t->zone_id, id) != 0 ||
		    (name != NULL &&
		     (t->name_len != len || memcmp(t->name, name, len) != 0)))
			continue;
		int rc = instance_add(k, t, healthy, ctx);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The policy records of zone z at names that hold no record set, each
 * name's together (a grouped build). */
static int instances_alone_add(struct group_sink *k,
			       const struct zone_store_zone *z,
			       zone_store_check_fn healthy, void *ctx)
{
	size_t n = zone_store_instance_count(k->s);
	for (size_t i = 0; i < n; i++) {
		const struct zone_store_tinstance *t =
		    zone_store_instance_at(k->s, i);
		if (strcmp(t->zone_id, z->id) != 0)
			continue;
		size_t at = zone_store_impl_lower_bound(z, t->name);
		const struct zone_store_rrset *set =
		    at < zone_store_sets_count(&z->sets)
			? zone_store_sets_at(&z->sets, at)
			: NULL;
		if (set != NULL && set->owner_len == t->name_len &&
		    memcmp(set->owner, t->name, t->name_len) == 0)
			continue; /* added with the name's sets */
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++) {
			const struct zone_store_tinstance *u =
			    zone_store_instance_at(k->s, j);
			seen = strcmp(u->zone_id, z->id) == 0 &&
			       u->name_len == t->name_len &&
			       memcmp(u->name, t->name, t->name_len) == 0;
		}
		if (seen)
			continue;
		int rc =
		    instances_add(k, z->id, t->name, t->name_len, healthy, ctx);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int zone_store_build(const struct zone_store *s, const char *id,
		     struct zone **out, char *err, size_t errlen)
{
	return zone_store_build_with_health(s, id, NULL, NULL, out, err,
					    errlen);
}

int zone_store_build_with_health(const struct zone_store *s, const char *id,
				 zone_store_check_fn healthy, void *ctx,
				 struct zone **out, char *err, size_t errlen)
{
	struct zone_builder *b;
	err[0] = '\0';
	const struct zone_store_zone *z = zone_store_impl_find(s, id);
	if (z == NULL)
		return zone_store_impl_no_such_zone(id, err, errlen);
	int rc = zone_builder_new(&b, z->origin);
	if (rc != 0)
		return rc;
	size_t nsets = zone_store_sets_count(&z->sets);
	rc = zone_builder_reserve(b, nsets);
	if (rc != 0) {
		zone_builder_abort(b);
		return rc;
	}
	zone_builder_grouped(b); /* the store is in canonical order */
	struct group_sink k = {.b = b, .err = err, .errlen = errlen, .s = s};
	for (size_t i = 0; i < nsets;) {
		struct zone_store_rrset *g[GROUP_MAX];
		size_t j = zone_store_impl_group_end(&z->sets, i, g, GROUP_MAX);
		rc = group_add(&k, g, j - i, healthy, ctx);
		/* A grouped build: a name's policy records right after its
		 * last record set. */
		const struct zone_store_rrset *next =
		    j < nsets ? zone_store_sets_at(&z->sets, j) : NULL;
		if (rc == 0 &&
		    (next == NULL || next->owner_len != g[0]->owner_len ||
		     memcmp(next->owner, g[0]->owner, g[0]->owner_len) != 0))
			rc = instances_add(&k, z->id, g[0]->owner,
					   g[0]->owner_len, healthy, ctx);
		if (rc != 0) {
			zone_builder_abort(b);
			return rc;
		}
		i = j;
	}
	rc = instances_alone_add(&k, z, healthy, ctx);
	if (rc != 0) {
		zone_builder_abort(b);
		return rc;
	}
	return zone_builder_finish(b, out, err, errlen);
}

/* --- dirty tracking and incremental builds --- */

/* Beyond this many changed owners a full build is as cheap. */
#define TRACK_MAX 65536

struct zone_store_track {
	bool valid;	  /* base_id/serial describe a build */
	bool overflow;	  /* names were lost: build in full */
	uint64_t base_id; /* zone_build_id of the last build */
	uint32_t serial;  /* the zone's serial at that build (+ tracked) */
	/* Not 0: the zone's sets are those of the import tagged so (apart
	 * from the apex) and names[] what changed since; base_id is 0 until
	 * a build (zone_store_note_import). */
	uint64_t import_tag;
	uint8_t **names;
	size_t n, cap;
};

static void track_clear(struct zone_store_track *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->names[i]);
	t->n = 0;
	t->overflow = false;
	t->import_tag = 0;
}

void zone_store_track_free(struct zone_store_zone *z)
{
	if (z->track == NULL)
		return;
	track_clear(z->track);
	free(z->track->names);
	free(z->track);
	z->track = NULL;
}

void zone_store_track_name(struct zone_store_zone *z, const uint8_t *owner)
{
	struct zone_store_track *t = z->track;
	if (t == NULL || !t->valid || t->overflow)
		return;
	if (t->n == TRACK_MAX) {
		t->overflow = true;
		return;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		uint8_t **v = realloc(t->names, cap * sizeof(*v));
		if (v == NULL) {
			t->overflow = true;
			return;
		}
		t->names = v;
		t->cap = cap;
	}
	size_t len = dname_wire_len(owner, DNAME_MAXLEN);
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL) {
		t->overflow = true;
		return;
	}
	memcpy(copy, owner, len);
	t->names[t->n++] = copy;
}

void zone_store_track_commit(struct zone_store_zone *z)
{
	if (z->track != NULL && z->track->valid)
		z->track->serial = z->serial;
}

/* The zone_update_source over one store zone. */
struct build_src {
	const struct zone_store *s;
	const struct zone_store_zone *z;
	zone_store_check_fn healthy;
	void *ctx;
};

static int src_records(void *arg, struct zone_update *u, const uint8_t *name,
		       size_t len)
{
	struct build_src *b = arg;
	const struct zone_store_zone *z = b->z;
	size_t i = zone_store_impl_lower_bound(z, name);
	size_t nsets = zone_store_sets_count(&z->sets);
	while (i < nsets) {
		const struct zone_store_rrset *at =
		    zone_store_sets_at(&z->sets, i);
		if (at->owner_len != len || memcmp(at->owner, name, len) != 0)
			break;
		struct zone_store_rrset *g[GROUP_MAX];
		size_t j = zone_store_impl_group_end(&z->sets, i, g, GROUP_MAX);
		struct group_sink k = {.u = u, .s = b->s};
		int rc = group_add(&k, g, j - i, b->healthy, b->ctx);
		if (rc != 0)
			return rc;
		i = j;
	}
	struct group_sink k = {.u = u, .s = b->s};
	return instances_add(&k, z->id, name, len, b->healthy, b->ctx);
}

static bool src_exists(void *arg, const uint8_t *name, size_t len)
{
	const struct build_src *b = arg;
	for (size_t k = 0; k < zone_store_instance_count(b->s); k++) {
		const struct zone_store_tinstance *t =
		    zone_store_instance_at(b->s, k);
		if (strcmp(t->zone_id, b->z->id) == 0 &&
		    dname_is_sub(t->name, t->name_len, name, len))
			return true;
	}
	size_t i = zone_store_impl_lower_bound(b->z, name);
	if (i == zone_store_sets_count(&b->z->sets))
		return false;
	const struct zone_store_rrset *s = zone_store_sets_at(&b->z->sets, i);
	return dname_is_sub(s->owner, s->owner_len, name, len);
}

static int src_each_below(void *arg, const uint8_t *name, size_t len,
			  int (*fn)(void *, const uint8_t *, size_t),
			  void *fnarg)
{
	const struct build_src *b = arg;
	const struct zone_store_zone *z = b->z;
	const uint8_t *last = NULL;
	size_t last_len = 0;
	size_t nsets = zone_store_sets_count(&z->sets);
	for (size_t i = zone_store_impl_lower_bound(z, name); i < nsets; i++) {
		const struct zone_store_rrset *s =
		    zone_store_sets_at(&z->sets, i);
		if (!dname_is_sub(s->owner, s->owner_len, name, len))
			break;
		if (s->owner_len == len ||
		    (last_len == s->owner_len &&
		     memcmp(last, s->owner, s->owner_len) == 0))
			continue;
		last = s->owner;
		last_len = s->owner_len;
		int rc = fn(fnarg, s->owner, s->owner_len);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int zone_store_build_update(const struct zone_store *s, const char *id,
			    const struct zone *prev,
			    zone_store_check_fn healthy, void *ctx,
			    struct zone **out, char *err, size_t errlen)
{
	err[0] = '\0';
	struct zone_store_zone *z = zone_store_impl_find(s, id);
	if (z == NULL)
		return zone_store_impl_no_such_zone(id, err, errlen);
	struct zone_store_track *t = z->track;
	int rc;
	if (prev != NULL && t != NULL && t->valid && !t->overflow &&
	    t->base_id == zone_build_id(prev) && t->serial == z->serial &&
	    memcmp(zone_origin(prev), z->origin, z->origin_len) == 0) {
		struct build_src src = {s, z, healthy, ctx};
		struct zone_update_source us = {
		    .ctx = &src,
		    .records = src_records,
		    .exists = src_exists,
		    .each_below = src_each_below,
		};
		rc = zone_update_build(out, prev,
				       (const uint8_t *const *)t->names, t->n,
				       &us, err, errlen);
	} else {
		rc = zone_store_build_with_health(s, id, healthy, ctx, out, err,
						  errlen);
	}
	if (rc != 0)
		return rc;
	if (t == NULL) {
		/* Without a cache the next update is a full build again. */
		t = z->track = calloc(1, sizeof(*t));
		if (t == NULL)
			return 0;
	}
	track_clear(t);
	t->valid = true;
	t->base_id = zone_build_id(*out);
	t->serial = z->serial;
	return 0;
}

/* --- compiling an import ahead of its apply --- */

/* Whether the typed set r would enter the store as it is and be built as
 * a plain set: no routing field, a lowercase owner, its records in the
 * store's order (zone_store.c's rdata_cmp: bytes, then length), each
 * once. */
static bool prebuild_plain(const struct rrset_data *r)
{
	if (r->set_identifier != NULL || r->failover != 0 || r->has_weight ||
	    r->multivalue || r->health_check_id != NULL ||
	    r->geo_continent != NULL || r->geo_country != NULL ||
	    r->geo_subdivision != NULL || r->region != NULL ||
	    r->geoprox.present || r->alias_zone_id != NULL ||
	    r->cidr_collection_id != NULL || r->cidr_location != NULL ||
	    r->nrdata == 0 || r->nrdata > UINT16_MAX)
		return false;
	for (size_t i = 0; i < r->owner_len; i++)
		if (r->owner[i] >= 'A' && r->owner[i] <= 'Z')
			return false; /* (label lengths are < 'A') */
	for (size_t k = 0; k < r->nrdata; k++) {
		if (r->rdata[k].len > UINT16_MAX)
			return false;
		if (k == 0)
			continue;
		const struct rrset_rdata *a = &r->rdata[k - 1],
					 *b = &r->rdata[k];
		size_t m = a->len < b->len ? a->len : b->len;
		int c = memcmp(a->data, b->data, m);
		if (c > 0 || (c == 0 && a->len >= b->len))
			return false;
	}
	return true;
}

static int prebuild_add(struct zone_builder *b, const struct rrset_data *r,
			char *err, size_t errlen)
{
	int rc = 0;
	for (size_t k = 0; k < r->nrdata && rc == 0; k++)
		rc = zone_builder_add(b, r->owner, r->type, r->ttl,
				      r->rdata[k].data,
				      (uint16_t)r->rdata[k].len, err, errlen);
	return rc;
}

int zone_store_prebuild(const uint8_t *origin, const struct rrset_data *sets,
			size_t n, const struct zone_store_apex *apex,
			void (*input_done)(void *arg), void *arg,
			struct zone **out, char *err, size_t errlen)
{
	struct zone_builder *b = NULL;
	size_t olen = dname_wire_len(origin, DNAME_MAXLEN);
	int rc = Q53_EINVAL;
	err[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!prebuild_plain(&sets[i])) {
			snprintf(err, errlen, "record set %zu is not plain", i);
			goto done;
		}
	rc = zone_builder_new(&b, origin);
	if (rc == 0)
		rc = zone_builder_reserve(b, n + 2);
	if (rc == 0)
		zone_builder_grouped(b);
	/* The apex first (canonical order): the file's sets, then the
	 * zone's SOA and NS where the file has none of that type. */
	size_t i = 0;
	while (rc == 0 && i < n && sets[i].owner_len == olen &&
	       memcmp(sets[i].owner, origin, olen) == 0)
		rc = prebuild_add(b, &sets[i++], err, errlen);
	for (size_t a = 0; rc == 0 && apex != NULL && a < apex->n; a++) {
		bool own = false;
		for (size_t k = 0; k < i; k++)
			own = own || sets[k].type == apex->sets[a].type;
		if (!own)
			rc = prebuild_add(b, &apex->sets[a], err, errlen);
	}
	for (; rc == 0 && i < n; i++)
		rc = prebuild_add(b, &sets[i], err, errlen);
done:
	if (input_done != NULL)
		input_done(arg); /* the builder holds copies */
	if (rc != 0) {
		if (b != NULL)
			zone_builder_abort(b);
		return rc;
	}
	return zone_builder_finish(b, out, err, errlen);
}

int zone_store_apex_copy(const struct zone_store *s, const char *id,
			 struct zone_store_apex *out)
{
	memset(out, 0, sizeof(*out));
	const struct zone_store_zone *z = zone_store_impl_find(s, id);
	if (z == NULL)
		return Q53_ENOENT;
	size_t nsets = zone_store_sets_count(&z->sets);
	for (size_t i = 0; i < nsets && out->n < 2; i++) {
		const struct zone_store_rrset *r =
		    zone_store_sets_at(&z->sets, i);
		if (r->owner_len != z->origin_len ||
		    memcmp(r->owner, z->origin, z->origin_len) != 0)
			break; /* past the apex */
		if ((r->type != RRTYPE_SOA && r->type != RRTYPE_NS) ||
		    zone_store_rrset_set_id(r) != NULL || r->count == 0)
			continue;
		struct rrset_rdata *rd = calloc(r->count, sizeof(*rd));
		uint8_t *owner = malloc(r->owner_len);
		size_t total = 0;
		for (uint16_t k = 0; k < r->count; k++)
			total += r->rdata[k].len;
		uint8_t *data = malloc(total ? total : 1);
		if (rd == NULL || owner == NULL || data == NULL) {
			free(rd);
			free(owner);
			free(data);
			zone_store_apex_free(out);
			return Q53_ENOMEM;
		}
		memcpy(owner, r->owner, r->owner_len);
		for (uint16_t k = 0, o = 0; k < r->count; k++) {
			memcpy(data + o, r->rdata[k].data, r->rdata[k].len);
			rd[k] = (struct rrset_rdata){data + o, r->rdata[k].len};
			o = (uint16_t)(o + r->rdata[k].len);
		}
		out->data[out->n] = data;
		out->sets[out->n++] =
		    (struct rrset_data){.owner = owner,
					.owner_len = r->owner_len,
					.type = r->type,
					.ttl = r->ttl,
					.rdata = rd,
					.nrdata = r->count};
	}
	return 0;
}

void zone_store_apex_free(struct zone_store_apex *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free((void *)a->sets[i].owner);
		free((void *)a->sets[i].rdata);
		free(a->data[i]);
	}
	memset(a, 0, sizeof(*a));
}

void zone_store_note_import(struct zone_store *s, const char *id, uint64_t tag)
{
	struct zone_store_zone *z = zone_store_impl_find(s, id);
	if (z == NULL || tag == 0)
		return;
	struct zone_store_track *t = z->track;
	if (t == NULL) {
		t = z->track = calloc(1, sizeof(*t));
		if (t == NULL)
			return; /* a full build */
	}
	track_clear(t);
	t->valid = true;
	t->base_id = 0;
	t->serial = z->serial;
	t->import_tag = tag;
}

uint64_t zone_store_import_tag(const struct zone_store *s, const char *id)
{
	const struct zone_store_zone *z = zone_store_impl_find(s, id);
	const struct zone_store_track *t = z != NULL ? z->track : NULL;
	return t != NULL && t->valid && !t->overflow && t->base_id == 0 &&
		       t->serial == z->serial
		   ? t->import_tag
		   : 0;
}

int zone_store_build_adopt(const struct zone_store *s, const char *id,
			   uint64_t tag, const struct zone *pre,
			   zone_store_check_fn healthy, void *ctx,
			   struct zone **out, char *err, size_t errlen)
{
	err[0] = '\0';
	struct zone_store_zone *z = zone_store_impl_find(s, id);
	if (z == NULL)
		return zone_store_impl_no_such_zone(id, err, errlen);
	struct zone_store_track *t = z->track;
	/* Policy records are not in an import's sets. */
	if (tag == 0 || zone_store_import_tag(s, id) != tag || pre == NULL ||
	    memcmp(zone_origin(pre), z->origin, z->origin_len) != 0 ||
	    zone_store_impl_has_instance(s, z->id, NULL, 0, 0)) {
		snprintf(err, errlen, "not the import compiled ahead");
		return Q53_EINVAL;
	}
	/* pre holds the import's sets as given; the store kept the zone's
	 * apex SOA or NS where the file had none and moved the serial (an
	 * incremental build always rebuilds the apex): what changed since
	 * the import is rebuilt. */
	struct build_src src = {s, z, healthy, ctx};
	struct zone_update_source us = {
	    .ctx = &src,
	    .records = src_records,
	    .exists = src_exists,
	    .each_below = src_each_below,
	};
	int rc = zone_update_build(out, pre, (const uint8_t *const *)t->names,
				   t->n, &us, err, errlen);
	if (rc != 0)
		return rc;
	track_clear(t);
	t->valid = true;
	t->base_id = zone_build_id(*out);
	t->serial = z->serial;
	return 0;
}

/* --- which branch answered (test-answer) --- */

/* Whether every record of set is in answer[0..n) and it has n. */
static bool set_matches(const struct zone_store_rrset *set,
			const struct rrset_rdata *answer, size_t n)
{
	if (set->count != n)
		return false;
	for (uint16_t i = 0; i < set->count; i++) {
		size_t k = 0;
		while (k < n && !(answer[k].len == set->rdata[i].len &&
				  memcmp(answer[k].data, set->rdata[i].data,
					 answer[k].len) == 0))
			k++;
		if (k == n)
			return false;
	}
	return true;
}

/* Appends printf text to out[*o..outlen). */
static void out_add(char *out, size_t outlen, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void out_add(char *out, size_t outlen, size_t *o, const char *fmt, ...)
{
	va_list ap;
	if (*o >= outlen)
		return;
	va_start(ap, fmt);
	int w = vsnprintf(out + *o, outlen - *o, fmt, ap);
	va_end(ap);
	if (w > 0)
		*o += (size_t)w;
	if (*o >= outlen)
		*o = outlen - 1;
}

/* Whether item it of policy p leads to answer[0..n) (an endpoint whose
 * value it is, or, multivalue, is in it; a rule holding one). */
static bool item_answers(const struct traffic_policy *p,
			 const struct traffic_item *it,
			 const struct rrset_rdata *answer, size_t n,
			 unsigned depth)
{
	if (!it->is_rule) {
		const struct traffic_endpoint *e = &p->endpoints[it->ref];
		for (size_t j = 0; j < n; j++)
			if (answer[j].len == e->rdlen &&
			    memcmp(answer[j].data, e->rdata, e->rdlen) == 0)
				return true;
		return false;
	}
	const struct traffic_rule *r = &p->rules[it->ref];
	for (size_t k = 0; depth < TRAFFIC_POLICY_DEPTH_MAX && k < r->nitems;
	     k++)
		if (item_answers(p, &r->items[k], answer, n, depth + 1))
			return true;
	return false;
}

/* The path down policy p from rule `rule` to answer[0..n): " > failover
 * Primary > weighted \"pool\" item 0 (a)", ... */
static void policy_branch(const struct traffic_policy *p, size_t rule,
			  const struct rrset_rdata *answer, size_t n,
			  unsigned depth, char *out, size_t outlen, size_t *o)
{
	const struct traffic_rule *r = &p->rules[rule];
	out_add(out, outlen, o, " > %s \"%s\"", traffic_rule_type_name(r->type),
		r->name);
	for (size_t k = 0; k < r->nitems; k++) {
		const struct traffic_item *it = &r->items[k];
		if (!item_answers(p, it, answer, n, depth))
			continue;
		if (r->type == TRAFFIC_RULE_FAILOVER)
			out_add(out, outlen, o, " %s",
				k == 0 ? "Primary" : "Secondary");
		else if (r->type == TRAFFIC_RULE_LATENCY)
			out_add(out, outlen, o, " region %s", it->region);
		else if (r->type == TRAFFIC_RULE_CIDR)
			out_add(out, outlen, o, " location %s",
				it->cidr_location);
		else if (r->type == TRAFFIC_RULE_GEOPROX &&
			 it->gp_region[0] != '\0')
			out_add(out, outlen, o, " region %s", it->gp_region);
		else
			out_add(out, outlen, o, " item %zu", k);
		if (!it->is_rule) {
			out_add(out, outlen, o, " (%s)",
				p->endpoints[it->ref].name);
			if (r->type == TRAFFIC_RULE_MULTIVALUE)
				continue;
			return;
		}
		if (depth + 1 < TRAFFIC_POLICY_DEPTH_MAX)
			policy_branch(p, it->ref, answer, n, depth + 1, out,
				      outlen, o);
		return;
	}
}

/* Whether the (name, type) group of zone id, following aliases, holds a
 * set answering with answer[0..n) (or, multivalue, one of its records). */
static bool group_answers(const struct zone_store *s, const char *id,
			  const uint8_t *name, uint16_t type,
			  const struct rrset_rdata *answer, size_t n,
			  unsigned depth)
{
	struct zone_store_rrset *g[GROUP_MAX];
	struct zone_store_alias a;
	size_t gn = depth < ZONE_STORE_ALIAS_DEPTH
			? target_group(s, id, name, type, g)
			: 0;
	for (size_t k = 0; k < gn && k < GROUP_MAX; k++) {
		if (zone_store_rrset_alias(g[k], &a)) {
			if (group_answers(s, a.zone_id, a.name, type, answer, n,
					  depth + 1))
				return true;
			continue;
		}
		if (set_matches(g[k], answer, n))
			return true;
		for (size_t j = 0; zone_store_rrset_policy(g[k]) ==
				       CHANGE_POLICY_MULTIVALUE &&
				   j < n;
		     j++)
			if (set_matches(g[k], &answer[j], 1))
				return true;
	}
	return false;
}

static int branch_of(const struct zone_store *s, const char *id,
		     const uint8_t *name, uint16_t type,
		     const struct rrset_rdata *answer, size_t n,
		     struct build_health *h, unsigned depth, char *out,
		     size_t outlen, size_t *o)
{
	struct zone_store_rrset *g[GROUP_MAX];
	struct zone_store_alias a;
	size_t gn = target_group(s, id, name, type, g);
	if (gn == 0) {
		const struct zone_store_tinstance *t = zone_store_instance_find(
		    s, id, name, dname_wire_len(name, DNAME_MAXLEN), type);
		if (t == NULL)
			return 0;
		out_add(out, outlen, o,
			"traffic policy instance %s (policy %s version %u)",
			t->id, t->policy_id, (unsigned)t->policy_version);
		const struct zone_store_tpolicy *tp =
		    zone_store_policy_get(s, t->policy_id, t->policy_version);
		if (tp != NULL && tp->p.start_is_rule)
			policy_branch(&tp->p, tp->p.start, answer, n, 1, out,
				      outlen, o);
		else if (tp != NULL)
			out_add(out, outlen, o, " > endpoint %s",
				tp->p.endpoints[tp->p.start].name);
		return 0;
	}
	if (gn == 1 && zone_store_rrset_set_id(g[0]) == NULL &&
	    zone_store_rrset_alias(g[0], &a)) {
		char target[DNAME_MAXLEN * 4 + 2];
		dname_to_text(a.name, target, sizeof(target));
		out_add(out, outlen, o, "alias %s (%s) > ", target, a.zone_id);
		if (depth >= ZONE_STORE_ALIAS_DEPTH)
			return 0;
		return branch_of(s, a.zone_id, a.name, type, answer, n, h,
				 depth + 1, out, outlen, o);
	}
	struct resolved r;
	int rc = resolve_group(s, g, gn, h, depth, &r);
	if (rc != 0)
		return rc;
	enum change_policy p =
	    r.n > 0 ? zone_store_rrset_policy(r.v[0]) : CHANGE_POLICY_SIMPLE;
	out_add(out, outlen, o, "%s", change_batch_policy_name(p));
	for (size_t k = 0; k < r.n; k++) {
		const struct zone_store_rrset *m = r.v[k];
		const char *sid = zone_store_rrset_set_id(m);
		const struct zone_store_rrset *orig = g[0];
		for (size_t j = 0; sid != NULL && j < gn && j < GROUP_MAX;
		     j++) {
			const char *gid = zone_store_rrset_set_id(g[j]);
			if (gid != NULL && strcmp(gid, sid) == 0)
				orig = g[j];
		}
		bool nested = false;
		bool hit =
		    p != CHANGE_POLICY_MULTIVALUE && set_matches(m, answer, n);
		/* Multivalue: a member's one record anywhere in the answer. */
		for (size_t j = 0;
		     p == CHANGE_POLICY_MULTIVALUE && j < n && !hit; j++)
			hit = set_matches(m, &answer[j], 1);
		/* An alias member whose target answers by a choice: the
		 * answer is one of its target's. */
		if (!hit && p != CHANGE_POLICY_MULTIVALUE &&
		    zone_store_rrset_alias(orig, &a) &&
		    group_answers(s, a.zone_id, a.name, type, answer, n,
				  depth + 1))
			hit = nested = true;
		if (!hit || sid == NULL)
			continue;
		enum change_failover fo = zone_store_rrset_failover(m);
		out_add(out, outlen, o, " %s%s\"%s\"",
			change_batch_failover_name(fo),
			fo != CHANGE_FAILOVER_NONE ? " " : "", sid);
		if (zone_store_rrset_region(m) != NULL)
			out_add(out, outlen, o, " region %s",
				zone_store_rrset_region(m));
		if (zone_store_rrset_alias(orig, &a)) {
			char target[DNAME_MAXLEN * 4 + 2];
			dname_to_text(a.name, target, sizeof(target));
			out_add(out, outlen, o, " alias %s (%s)", target,
				a.zone_id);
			/* The nested tree's own branch. */
			if (nested && depth + 1 < ZONE_STORE_ALIAS_DEPTH) {
				out_add(out, outlen, o, " > ");
				rc = branch_of(s, a.zone_id, a.name, type,
					       answer, n, h, depth + 1, out,
					       outlen, o);
				if (rc != 0)
					break;
			}
		}
		if (p != CHANGE_POLICY_MULTIVALUE)
			break;
	}
	resolved_free(&r);
	return rc;
}

int zone_store_answer_branch(const struct zone_store *s, const char *id,
			     const uint8_t *name, uint16_t type,
			     const struct rrset_rdata *answer, size_t n,
			     zone_store_check_fn healthy, void *ctx, char *out,
			     size_t outlen)
{
	struct arena arena = {0};
	struct build_health h = {healthy, ctx, &arena, s};
	size_t o = 0;
	if (outlen == 0)
		return 0;
	out[0] = '\0';
	if (zone_store_impl_find(s, id) == NULL)
		return Q53_ENOENT;
	int rc =
	    branch_of(s, id, name, type, answer, n, &h, 0, out, outlen, &o);
	arena_free(&arena);
	return rc;
}
