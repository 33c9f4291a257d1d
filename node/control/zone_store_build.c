/* Compiling hosted zones for serving: the full build (zone_builder over
 * every record set) and the incremental one (zone_update_build over the
 * owners the mutations since the previous build touched), with the dirty
 * tracking the mutations in zone_store.c feed. */
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/zone_store.h"
#include "node/control/zone_store_impl.h"
#include "node/control/zone_store_routing.h"
#include "node/dnsdata/dname.h"
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

/* Where a group's records go: a full build's builder or an incremental
 * build's update. */
struct group_sink {
	struct zone_builder *b;
	struct zone_update *u;
	char *err;
	size_t errlen;
	struct zone_store_routing *table; /* scratch, malloc'd */
};

static int sink_add(struct group_sink *k, const uint8_t *owner, uint16_t type,
		    uint32_t ttl, const uint8_t *data, uint16_t len)
{
	if (k->b != NULL)
		return zone_builder_add(k->b, owner, type, ttl, data, len,
					k->err, k->errlen);
	return zone_update_add(k->u, owner, type, ttl, data, len);
}

/* Adds the group g[0..n) (n counts every member, the first GROUP_MAX in
 * g) to k: the answering set of a plain or failover group, or a weighted
 * or multivalue group's choice table with its first leaf's records. */
static int group_add(struct group_sink *k, struct zone_store_rrset *const *g,
		     size_t n, zone_store_check_fn healthy, void *ctx)
{
	enum change_policy p = zone_store_rrset_policy(g[0]);
	int rc;
	if (p == CHANGE_POLICY_WEIGHTED || p == CHANGE_POLICY_MULTIVALUE ||
	    p == CHANGE_POLICY_GEO) {
		if (k->table == NULL) {
			k->table = malloc(sizeof(*k->table));
			if (k->table == NULL)
				return Q53_ENOMEM;
		}
		struct zone_store_routing *t = k->table;
		rc = zone_store_routing_build(
		    t, g, n > GROUP_MAX ? GROUP_MAX : n, healthy, ctx);
		if (rc == Q53_EINVAL)
			return 0; /* not a group the store keeps */
		if (rc != 0)
			return rc;
		const struct zone_choice_leaf *l0 = &t->leaf[0];
		for (size_t r = 0; r < l0->count && rc == 0; r++)
			rc = sink_add(k, g[0]->owner, g[0]->type, l0->ttl,
				      l0->rdata[r].data, l0->rdata[r].len);
		if (rc == 0)
			rc =
			    k->b != NULL
				? zone_builder_choice(k->b, g[0]->owner,
						      g[0]->type, t->leaf, t->n)
				: zone_update_choice(k->u, g[0]->owner,
						     g[0]->type, t->leaf, t->n);
		zone_store_routing_free(t);
		return rc;
	}
	const struct zone_store_rrset *set = group_pick(g, n, healthy, ctx);
	for (uint16_t r = 0; set != NULL && r < set->count; r++) {
		rc = sink_add(k, set->owner, set->type, set->ttl,
			      set->rdata[r].data, set->rdata[r].len);
		if (rc != 0)
			return rc;
	}
	if (set != NULL && zone_store_rrset_set_id(set) != NULL) {
		if (k->b != NULL)
			return zone_builder_volatile(k->b, set->owner) ==
				       Q53_ENOMEM
				   ? Q53_ENOMEM
				   : 0;
		zone_update_volatile(k->u, set->owner);
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
	struct group_sink k = {.b = b, .err = err, .errlen = errlen};
	for (size_t i = 0; i < nsets;) {
		struct zone_store_rrset *g[GROUP_MAX];
		size_t j = zone_store_impl_group_end(&z->sets, i, g, GROUP_MAX);
		rc = group_add(&k, g, j - i, healthy, ctx);
		if (rc != 0) {
			free(k.table);
			zone_builder_abort(b);
			return rc;
		}
		i = j;
	}
	free(k.table);
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
	uint8_t **names;
	size_t n, cap;
};

static void track_clear(struct zone_store_track *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->names[i]);
	t->n = 0;
	t->overflow = false;
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
	const struct zone_store_zone *z;
	zone_store_check_fn healthy;
	void *ctx;
	struct zone_store_routing *table; /* scratch for group_add */
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
		struct group_sink k = {.u = u, .table = b->table};
		int rc = group_add(&k, g, j - i, b->healthy, b->ctx);
		b->table = k.table;
		if (rc != 0)
			return rc;
		i = j;
	}
	return 0;
}

static bool src_exists(void *arg, const uint8_t *name, size_t len)
{
	const struct build_src *b = arg;
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
		struct build_src src = {z, healthy, ctx, NULL};
		struct zone_update_source us = {
		    .ctx = &src,
		    .records = src_records,
		    .exists = src_exists,
		    .each_below = src_each_below,
		};
		rc = zone_update_build(out, prev,
				       (const uint8_t *const *)t->names, t->n,
				       &us, err, errlen);
		free(src.table);
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
