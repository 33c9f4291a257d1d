#include "node/control/control_fsm.h"
#include "node/control/query_log_table.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/access_keys.h"
#include "node/control/command_flow.h"
#include "node/control/change_batch.h"
#include "node/control/command.h"
#include "node/control/cidr_table.h"
#include "node/control/tag_table.h"
#include "node/control/dyn_update.h"
#include "node/control/xfr_config.h"
#include "node/control/zone_store.h"
#include "node/control/zone_store_flow.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rrtype.h"
#include "node/health/check_config.h"
#include "node/control/latency_table.h"
#include "proto/command.pb-c.h"

/* 1: 0.1.0 (read by node/control/upgrade.c); 2: 0.2.0; 3: adds access
 * keys, tags and the routing fields of record sets (weighted, multivalue,
 * geolocation, alias targets: RecordSet 16..18), which a 0.2.0 node would
 * silently drop: it stops on format 3 instead. */
#define SNAPSHOT_FORMAT	    3
#define SNAPSHOT_FORMAT_MIN 2
/* 4 (0.4.0): with what a release reading 3 would silently drop, so that
 * a 0.3.0 node in a mixed cluster stops instead of diverging: traffic
 * policies or policy records (FsmSnapshot 12, 13), the latency table (11),
 * CIDR collections (10), or record sets with a Region, a
 * CidrRoutingConfig or a GeoProximityLocation (RecordSet 19..22); written
 * only when there are some. */
#define SNAPSHOT_FORMAT_FLOW 4
/* 5 (0.5.0): FsmSnapshot.ext is present (state a 0.4.0 node would drop);
 * written only when there is some. */
#define SNAPSHOT_FORMAT_EXT 5
#define SNAPSHOT_FORMAT_MAX SNAPSHOT_FORMAT_EXT
_Static_assert(SNAPSHOT_FORMAT_MAX == CONTROL_FSM_SNAPSHOT_FORMAT_MAX,
	       "control_fsm.h's CONTROL_FSM_SNAPSHOT_FORMAT_MAX");
#define SNAPSHOT_END 0x51353346u /* FsmSnapshot.end */
#define ERR_MAX	     4096
/* A handler's verdict besides 0 and Q53_ENOMEM: rejected, see apply.err. */
#define REJECTED 1

/* --- state --- */

struct check {
	char *id;
	char *caller_reference;
	struct health_check_config cfg;
	uint64_t version;
	uint64_t created_index;
	uint64_t created_ms;
	struct health_vote *votes; /* by member id */
	char **reasons;
	size_t n_votes;
	size_t cap_votes;
	bool healthy;
	uint64_t transition_index;
	uint64_t transition_ms;
	struct health_vote_decision decision;
	bool flipped; /* local: status changed in this apply, zones to mark */
	bool flipped_from; /* local: the status before this apply */
};

/* One (health check, hosted zone) pair such that a record set of the zone
 * names the check. Derived from the zones (not in the snapshot); the
 * pointers borrow the check's id and the zone's id (zone_store_info.id),
 * which live as long as the pair: a check in use cannot be deleted, and a
 * zone's pairs are redone whenever its record sets change. */
struct health_ref {
	const struct check *check;
	const char *zone_id;
	size_t sets; /* how many of the zone's record sets name the check */
};

struct node {
	char *raft_address;
	char *dns_address;
	char *api_address;
	char *name;
	char *geoip_path;
	char *geoip_sha256;
	char *site;	   /* "" = none */
	char *site_region; /* "" = none */
	uint64_t index;
	uint64_t time_ms;
};

struct change_rec {
	char *id;
	char *zone_id;
	char *comment;
	char *access_key_id; /* "" = local */
	uint64_t submitted_ms;
	uint64_t index;
};

struct change_age {
	const char *id; /* the id string of some change_rec */
	uint64_t index;
};

/* The change records by id: a sorted sequence of blocks of at most
 * CHANGE_BLOCK_MAX, so that an insert or an eviction moves part of one
 * block (ids are random: in one sorted array of 10,000 records each
 * change moved a third of them, on every node; issue 8). */
#define CHANGE_BLOCK_MAX  128
#define CHANGE_BLOCK_FILL 96 /* per block on restore */

struct change_block {
	size_t n;
	struct change_rec rec[CHANGE_BLOCK_MAX];
};

/* Everything the snapshot holds; restore builds a new one and swaps. */
struct state {
	struct zone_store zones;
	uint64_t applied;
	struct check **checks; /* by id */
	size_t n_checks;
	size_t cap_checks;
	uint64_t *node_ids; /* by id; parallel to nodes */
	struct node *nodes;
	size_t n_nodes;
	size_t cap_nodes;
	struct change_block **blocks; /* by id, none empty */
	size_t n_blocks;
	size_t cap_blocks;
	size_t n_changes; /* in all blocks */
	/* One block allocated ahead (prepare_change), so that commit, which
	 * cannot fail, has one to split into. */
	struct change_block *spare;
	/* The same records oldest first, by (index, id): the order commit
	 * evicts them in once there are CONTROL_FSM_CHANGES_MAX (the first
	 * of the lowest index in id order, as the scan it replaces). A ring
	 * of CONTROL_FSM_CHANGES_MAX slots (NULL until the first change)
	 * whose ids point at the strings of the blocks' records; n_changes of
	 * them from age_head. Derived: rebuilt on restore, not in the snapshot.
	 */
	struct change_age *age;
	size_t age_head;
	/* Which zones use which check: by (check id, zone id), each pair
	 * once. Rebuilt on restore, redone per zone on every change. */
	struct health_ref *refs;
	size_t n_refs;
	size_t cap_refs;
	struct access_keys keys; /* the REST API's */
	struct tag_table tags;	 /* of zones and checks; dropped with them */
	struct latency_table latency; /* latency routing's */
	struct cidr_table cidrs;      /* CIDR collections (IP-based routing) */
	struct xfr_table xfr;	      /* outbound transfers (ext field 4) */
	struct query_log_table qlog;  /* query logging configs */
};

struct control_fsm {
	struct q53_fsm base;
	struct state s;
	/* Local marks for the runtime, not replicated. */
	char **dirty;
	size_t n_dirty;
	size_t cap_dirty;
	bool dirty_all;
	bool dirty_health;
	bool dirty_latency; /* the latency table changed */
	bool flipped;	    /* some check's flipped is set */
	/* Latency routing's build inputs: the table (the state's) and this
	 * node's own site and region (local, not replicated). */
	struct zone_store_latency latency_in;
	char site[LATENCY_NAME_MAX + 1];
	char site_region[LATENCY_NAME_MAX + 1];
	struct control_fsm_transition *transitions; /* for the webhooks */
	size_t n_transitions;
	size_t cap_transitions;
	uint64_t transitions_dropped;
};

/* --- small helpers --- */

static char *rmemdup(const char *p, size_t len)
{
	char *c = raft_malloc(len + 1);

	if (c == NULL)
		return NULL;
	if (len > 0)
		memcpy(c, p, len);
	c[len] = '\0';
	return c;
}

static char *rstrdup(const char *s)
{
	return rmemdup(s, strlen(s));
}

/* Grow *v (elements of size) to hold at least need; 0 or Q53_ENOMEM. */
static int reserve(void **v, size_t *cap, size_t need, size_t size)
{
	size_t n;
	void *grown;

	if (need <= *cap)
		return 0;
	n = *cap < 4 ? 4 : *cap * 2;
	if (n < need)
		n = need;
	grown = raft_realloc(*v, n * size);
	if (grown == NULL)
		return Q53_ENOMEM;
	*v = grown;
	*cap = n;
	return 0;
}

/* Ids of changes and health checks: 1..64 of [A-Za-z0-9_-]. */
static bool id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > CONTROL_FSM_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static size_t check_find(const struct state *s, const char *id, bool *found)
{
	size_t lo = 0, hi = s->n_checks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->checks[mid]->id, id);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct check *check_get(const struct state *s, const char *id)
{
	bool found;
	size_t pos = check_find(s, id, &found);

	return found ? s->checks[pos] : NULL;
}

static size_t node_find(const struct state *s, uint64_t id, bool *found)
{
	size_t lo = 0, hi = s->n_nodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->node_ids[mid] == id) {
			*found = true;
			return mid;
		}
		if (s->node_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Where id is or would go: block *b (< n_blocks, or 0 when there are
 * none) and position *k in it. */
static void change_locate(const struct state *s, const char *id, size_t *b,
			  size_t *k, bool *found)
{
	size_t lo = 0, hi = s->n_blocks;
	const struct change_block *blk;

	*found = false;
	/* the first block whose last id is >= id, else the last block */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		blk = s->blocks[mid];

		if (strcmp(blk->rec[blk->n - 1].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->n_blocks == 0) {
		*b = *k = 0;
		return;
	}
	if (lo == s->n_blocks) {
		*b = lo - 1;
		*k = s->blocks[lo - 1]->n;
		return;
	}
	*b = lo;
	blk = s->blocks[lo];
	lo = 0;
	hi = blk->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(blk->rec[mid].id, id);

		if (c == 0) {
			*found = true;
			*k = mid;
			return;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*k = lo;
}

static const struct change_rec *change_find(const struct state *s,
					    const char *id)
{
	size_t b, k;
	bool found;

	change_locate(s, id, &b, &k, &found);
	return found ? &s->blocks[b]->rec[k] : NULL;
}

static size_t vote_find(const struct check *c, uint64_t member, bool *found)
{
	size_t lo = 0, hi = c->n_votes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->votes[mid].member_id == member) {
			*found = true;
			return mid;
		}
		if (c->votes[mid].member_id < member)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static void check_free(struct check *c)
{
	if (c == NULL)
		return;
	raft_free(c->id);
	raft_free(c->caller_reference);
	health_check_config_clear(&c->cfg);
	for (size_t i = 0; i < c->n_votes; i++)
		raft_free(c->reasons[i]);
	raft_free(c->votes);
	raft_free(c->reasons);
	raft_free(c);
}

static void node_clear(struct node *n)
{
	raft_free(n->raft_address);
	raft_free(n->dns_address);
	raft_free(n->api_address);
	raft_free(n->name);
	raft_free(n->geoip_path);
	raft_free(n->geoip_sha256);
	raft_free(n->site);
	raft_free(n->site_region);
	memset(n, 0, sizeof(*n));
}

static void change_clear(struct change_rec *c)
{
	raft_free(c->id);
	raft_free(c->zone_id);
	raft_free(c->comment);
	raft_free(c->access_key_id);
	memset(c, 0, sizeof(*c));
}

static void state_init(struct state *s)
{
	memset(s, 0, sizeof(*s));
	zone_store_init(&s->zones);
	tag_table_init(&s->tags);
	latency_table_init(&s->latency);
	cidr_table_init(&s->cidrs);
	xfr_table_init(&s->xfr);
	query_log_table_init(&s->qlog);
}

static void state_free(struct state *s)
{
	zone_store_free(&s->zones);
	for (size_t i = 0; i < s->n_checks; i++)
		check_free(s->checks[i]);
	raft_free(s->checks);
	for (size_t i = 0; i < s->n_nodes; i++)
		node_clear(&s->nodes[i]);
	raft_free(s->nodes);
	raft_free(s->node_ids);
	for (size_t b = 0; b < s->n_blocks; b++) {
		for (size_t k = 0; k < s->blocks[b]->n; k++)
			change_clear(&s->blocks[b]->rec[k]);
		raft_free(s->blocks[b]);
	}
	raft_free(s->blocks);
	raft_free(s->spare);
	raft_free(s->age);
	raft_free(s->refs);
	access_keys_free(&s->keys);
	tag_table_free(&s->tags);
	latency_table_free(&s->latency);
	xfr_table_free(&s->xfr);
	cidr_table_free(&s->cidrs);
	query_log_table_free(&s->qlog);
	memset(s, 0, sizeof(*s));
}

/* --- health decisions --- */

static void decide_endpoint(const struct state *s, struct check *c,
			    struct health_vote_decision *d)
{
	int rv = health_vote_decide(&c->cfg, s->node_ids, s->n_nodes, c->votes,
				    c->n_votes, 0, 0, d);

	assert(rv == 0);
	(void)rv;
}

static void decide_calculated(const struct state *s, const struct check *c,
			      struct health_vote_decision *d)
{
	bool healthy[HEALTH_CHECK_CHILDREN_MAX];
	int rv;

	for (size_t i = 0; i < c->cfg.n_children; i++) {
		const struct check *child = check_get(s, c->cfg.children[i]);

		healthy[i] = child != NULL && child->healthy;
	}
	rv = health_vote_decide_calculated(&c->cfg, healthy, c->cfg.n_children,
					   d);
	assert(rv == 0);
	(void)rv;
}

/* Record a decision; a changed status is a transition at (index, ms). */
static bool settle(struct control_fsm *f, struct check *c,
		   const struct health_vote_decision *d, uint64_t index,
		   uint64_t ms)
{
	bool changed = d->healthy != c->healthy;

	c->decision = *d;
	if (changed) {
		if (f != NULL && !c->flipped)
			c->flipped_from = c->healthy;
		c->healthy = d->healthy;
		c->transition_index = index;
		c->transition_ms = ms;
		if (f != NULL) {
			f->dirty_health = true;
			c->flipped = true;
			f->flipped = true;
		}
	}
	return changed;
}

/* Re-decide `only` (an endpoint check) or every endpoint check (NULL), then
 * the CALCULATED checks until nothing changes (children form no cycle, so
 * depth + 1 passes suffice; the bound keeps a corrupt state finite). Never
 * allocates. f may be NULL (restore: no dirty marks). */
static void redecide(struct control_fsm *f, struct state *s, struct check *only,
		     uint64_t index, uint64_t ms)
{
	struct health_vote_decision d;

	for (size_t i = 0; i < s->n_checks; i++) {
		struct check *c = s->checks[i];

		if (c->cfg.type == HEALTH_CHECK_CALCULATED ||
		    (only != NULL && c != only))
			continue;
		decide_endpoint(s, c, &d);
		settle(f, c, &d, index, ms);
	}
	for (size_t pass = 0; pass <= s->n_checks; pass++) {
		bool changed = false;

		for (size_t i = 0; i < s->n_checks; i++) {
			struct check *c = s->checks[i];

			if (c->cfg.type != HEALTH_CHECK_CALCULATED)
				continue;
			decide_calculated(s, c, &d);
			changed |= settle(f, c, &d, index, ms);
		}
		if (!changed)
			break;
	}
}

/* True when `target` is reachable from the children of cfg (so making cfg
 * the config of target would close a cycle). Depth-first over ids, bounded
 * by the number of checks. */
static bool reaches(const struct state *s,
		    const struct health_check_config *cfg, const char *target,
		    size_t depth)
{
	if (depth > s->n_checks)
		return true;
	for (size_t i = 0; i < cfg->n_children; i++) {
		const struct check *child;

		if (strcmp(cfg->children[i], target) == 0)
			return true;
		child = check_get(s, cfg->children[i]);
		if (child != NULL &&
		    child->cfg.type == HEALTH_CHECK_CALCULATED &&
		    reaches(s, &child->cfg, target, depth + 1))
			return true;
	}
	return false;
}

/* --- which zones use which health check --- */

static int ref_cmp(const struct check *c, const char *zone_id,
		   const struct health_ref *r)
{
	int k = strcmp(c->id, r->check->id);

	return k != 0 ? k : strcmp(zone_id, r->zone_id);
}

/* The first pair not before (c, zone_id); zone_id "" finds c's first. */
static size_t refs_lower(const struct state *s, const struct check *c,
			 const char *zone_id)
{
	size_t lo = 0, hi = s->n_refs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ref_cmp(c, zone_id, &s->refs[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Drops the pairs of a zone, found by the address of its id (so this
 * works after the zone is gone). Never allocates. */
static void refs_drop_zone(struct state *s, const char *zone_id)
{
	size_t o = 0;

	for (size_t i = 0; i < s->n_refs; i++)
		if (s->refs[i].zone_id != zone_id)
			s->refs[o++] = s->refs[i];
	s->n_refs = o;
}

/* Counts delta more (or fewer) sets of zone_id naming c. Needs room for
 * one more pair (the caller reserved it). Never allocates. */
static void refs_count(struct state *s, const struct check *c,
		       const char *zone_id, int delta)
{
	size_t pos = refs_lower(s, c, zone_id);
	bool found = pos < s->n_refs && s->refs[pos].check == c &&
		     strcmp(s->refs[pos].zone_id, zone_id) == 0;

	if (!found) {
		assert(delta > 0 && s->n_refs < s->cap_refs);
		memmove(&s->refs[pos + 1], &s->refs[pos],
			(s->n_refs - pos) * sizeof(*s->refs));
		s->refs[pos] = (struct health_ref){c, zone_id, 0};
		s->n_refs++;
	}
	if (delta > 0) {
		s->refs[pos].sets += (size_t)delta;
	} else {
		assert(s->refs[pos].sets >= (size_t)-delta);
		s->refs[pos].sets -= (size_t)-delta;
	}
	if (s->refs[pos].sets == 0) {
		memmove(&s->refs[pos], &s->refs[pos + 1],
			(s->n_refs - pos - 1) * sizeof(*s->refs));
		s->n_refs--;
	}
}

/* Adds the pairs of the zone's record sets. Needs room for them (the
 * caller reserved it: at most one per set naming a check). Returns 0, or
 * Q53_EMALF when a set names a check that does not exist (an untrusted
 * snapshot; apply checked existence first). */
static int refs_add_zone(struct state *s, const struct zone_store_info *info)
{
	for (size_t i = 0; i < info->nrrsets; i++) {
		const char *id = zone_store_rrset_health_check(
		    zone_store_info_rrset(info, i));
		const struct check *c;

		if (id == NULL)
			continue;
		c = check_get(s, id);
		if (c == NULL)
			return Q53_EMALF;
		refs_count(s, c, info->id, +1);
	}
	return 0;
}

/* Redoes the pairs of zone_id after its record sets were replaced (room
 * reserved by the caller). */
static void refs_redo_zone(struct state *s, const char *zone_id)
{
	struct zone_store_info info;
	int rv;

	rv = zone_store_get(&s->zones, zone_id, &info);
	assert(rv == 0);
	refs_drop_zone(s, info.id);
	rv = refs_add_zone(s, &info);
	assert(rv == 0);
	(void)rv;
}

/* For zone_store_apply_counted: one batch's sets of one zone. */
struct refs_delta {
	struct state *s;
	const char *zone_id; /* the zone's own id string */
};

static bool refs_delta_exists(void *ctx, const char *check_id)
{
	const struct refs_delta *d = ctx;

	return check_get(d->s, check_id) != NULL;
}

static void refs_delta_apply(void *ctx, const char *check_id, int delta)
{
	const struct refs_delta *d = ctx;
	const struct check *c = check_get(d->s, check_id);

	assert(c != NULL); /* apply checked that it exists */
	refs_count(d->s, c, d->zone_id, delta);
}

/* Builds every pair of a restored state. Q53_EMALF (a record set names a
 * missing check) or Q53_ENOMEM. */
static int refs_rebuild(struct state *s)
{
	struct zone_store_info info;
	size_t need = 0;
	int rv;

	for (size_t z = 0; zone_store_get_at(&s->zones, z, &info) == 0; z++)
		for (size_t i = 0; i < info.nrrsets; i++)
			need += zone_store_rrset_health_check(
				    zone_store_info_rrset(&info, i)) != NULL;
	if (reserve((void **)&s->refs, &s->cap_refs, need, sizeof(*s->refs)))
		return Q53_ENOMEM;
	s->n_refs = 0;
	for (size_t z = 0; zone_store_get_at(&s->zones, z, &info) == 0; z++) {
		rv = refs_add_zone(s, &info);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* A mark for zone_id, unless there is one; when memory runs out, every
 * zone is marked instead (marks are local hints, a superset is safe). */
static void dirty_add(struct control_fsm *f, const char *zone_id)
{
	char *copy;

	if (f->dirty_all)
		return;
	for (size_t i = 0; i < f->n_dirty; i++)
		if (strcmp(f->dirty[i], zone_id) == 0)
			return;
	if (reserve((void **)&f->dirty, &f->cap_dirty, f->n_dirty + 1,
		    sizeof(*f->dirty)) != 0 ||
	    (copy = rstrdup(zone_id)) == NULL) {
		f->dirty_all = true;
		return;
	}
	f->dirty[f->n_dirty++] = copy;
}

/* Records c's transition for the runtime; counts it as dropped when the
 * list is full or memory runs out (webhooks are best effort). */
static void transition_add(struct control_fsm *f, const struct check *c)
{
	struct control_fsm_transition *t;

	if (f->n_transitions >= CONTROL_FSM_TRANSITIONS_MAX ||
	    reserve((void **)&f->transitions, &f->cap_transitions,
		    f->n_transitions + 1, sizeof(*f->transitions)) != 0) {
		f->transitions_dropped++;
		return;
	}
	t = &f->transitions[f->n_transitions++];
	memset(t, 0, sizeof(*t));
	snprintf(t->check_id, sizeof(t->check_id), "%s", c->id);
	t->healthy = c->healthy;
	t->index = c->transition_index;
	t->time_ms = c->transition_ms;
}

/* Marks the zones of the policy records whose policy uses check id. */
static void dirty_flow(struct control_fsm *f, const char *id)
{
	const struct zone_store *zs = &f->s.zones;
	for (size_t i = 0; i < zone_store_instance_count(zs); i++) {
		const struct zone_store_tinstance *t =
		    zone_store_instance_at(zs, i);
		const struct zone_store_tpolicy *p =
		    zone_store_policy_get(zs, t->policy_id, t->policy_version);
		bool uses = false;
		for (size_t r = 0; p != NULL && !uses && r < p->p.nrules; r++)
			for (size_t k = 0; !uses && k < p->p.rules[r].nitems;
			     k++)
				uses =
				    p->p.rules[r].items[k].health_check !=
					NULL &&
				    strcmp(p->p.rules[r].items[k].health_check,
					   id) == 0;
		if (uses)
			dirty_add(f, t->zone_id);
	}
}

/* Marks every zone that uses a check whose status just changed, and
 * records the transitions. */
static void dirty_flipped(struct control_fsm *f)
{
	struct state *s = &f->s;

	if (!f->flipped)
		return;
	f->flipped = false;
	for (size_t i = 0; i < s->n_checks; i++) {
		struct check *c = s->checks[i];

		if (!c->flipped)
			continue;
		c->flipped = false;
		if (c->healthy != c->flipped_from)
			transition_add(f, c);
		for (size_t k = refs_lower(s, c, "");
		     k < s->n_refs && s->refs[k].check == c; k++)
			dirty_add(f, s->refs[k].zone_id);
		dirty_flow(f, c->id);
	}
}

/* --- apply: the frame every handler fills --- */

struct apply {
	struct control_fsm *f;
	uint64_t index; /* the index this command gets if it applies */
	int32_t code;
	char err[ERR_MAX]; /* "Name: message" */
	struct command_result res;
	uint8_t *out;
	size_t out_len;
	/* Prepared before the state changes, committed after. */
	struct change_rec change;
	bool has_change;
	char *dirty_id;
};

static int reject(struct apply *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int reject(struct apply *a, int code, const char *fmt, ...)
{
	va_list ap;

	a->code = code;
	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
	return REJECTED;
}

static int reject_no_zone(struct apply *a, const char *id)
{
	return reject(a, Q53_ENOENT,
		      "NoSuchHostedZone: no hosted zone found with ID: %s", id);
}

static int reject_no_check(struct apply *a, const char *id)
{
	return reject(a, Q53_ENOENT,
		      "NoSuchHealthCheck: no health check found with ID: %s",
		      id);
}

/* Refuses a bad or used change id; "" passes unless required. */
static int check_change_id(struct apply *a, const char *id, bool required)
{
	if (id[0] == '\0' && !required)
		return 0;
	if (!id_ok(id))
		return reject(a, Q53_EINVAL,
			      "InvalidInput: change ID '%.80s' must be 1 to %d "
			      "letters, digits, '-' or '_'",
			      id, CONTROL_FSM_ID_MAX);
	if (change_find(&a->f->s, id) != NULL)
		return reject(a, Q53_EEXIST,
			      "InvalidInput: change ID %s is already used", id);
	return 0;
}

/* A change record to insert at commit ("" id: none). */
static int prepare_change(struct apply *a, const char *id, const char *zone_id,
			  const char *comment, const char *key_id, uint64_t ms)
{
	struct state *s = &a->f->s;
	struct change_rec *c = &a->change;

	if (id[0] == '\0')
		return 0;
	if (reserve((void **)&s->blocks, &s->cap_blocks, s->n_blocks + 1,
		    sizeof(*s->blocks)) != 0)
		return Q53_ENOMEM;
	if (s->spare == NULL) {
		s->spare = raft_malloc(sizeof(*s->spare));
		if (s->spare == NULL)
			return Q53_ENOMEM;
		s->spare->n = 0;
	}
	if (s->age == NULL) {
		s->age = raft_calloc(CONTROL_FSM_CHANGES_MAX, sizeof(*s->age));
		if (s->age == NULL)
			return Q53_ENOMEM;
	}
	c->id = rstrdup(id);
	c->zone_id = rstrdup(zone_id);
	c->comment = rstrdup(comment != NULL ? comment : "");
	c->access_key_id = rstrdup(key_id);
	c->submitted_ms = ms;
	c->index = a->index;
	if (c->id == NULL || c->zone_id == NULL || c->comment == NULL ||
	    c->access_key_id == NULL) {
		change_clear(c);
		return Q53_ENOMEM;
	}
	a->has_change = true;
	a->res.change.id = c->id;
	a->res.change.comment = c->comment;
	a->res.change.submitted_ms = ms;
	return 0;
}

/* A dirty mark for zone_id, unless it is marked already. */
static int prepare_dirty(struct apply *a, const char *zone_id)
{
	struct control_fsm *f = a->f;

	if (f->dirty_all)
		return 0;
	for (size_t i = 0; i < f->n_dirty; i++)
		if (strcmp(f->dirty[i], zone_id) == 0)
			return 0;
	if (reserve((void **)&f->dirty, &f->cap_dirty, f->n_dirty + 1,
		    sizeof(*f->dirty)) != 0)
		return Q53_ENOMEM;
	a->dirty_id = rstrdup(zone_id);
	return a->dirty_id != NULL ? 0 : Q53_ENOMEM;
}

static void unprepare(struct apply *a)
{
	if (a->has_change)
		change_clear(&a->change);
	a->has_change = false;
	raft_free(a->dirty_id);
	a->dirty_id = NULL;
	raft_free(a->out);
	a->out = NULL;
	a->out_len = 0;
}

static int encode_success(struct apply *a)
{
	a->res.index = a->index;
	return command_result_encode(&a->res, &a->out, &a->out_len);
}

static bool age_before(const struct change_age *x, const struct change_age *y)
{
	return x->index < y->index ||
	       (x->index == y->index && strcmp(x->id, y->id) < 0);
}

/* Drops record k of block b; an emptied block leaves the sequence (and
 * becomes the spare if there is none). */
static void change_remove(struct state *s, size_t b, size_t k)
{
	struct change_block *blk = s->blocks[b];

	change_clear(&blk->rec[k]);
	blk->n--;
	memmove(&blk->rec[k], &blk->rec[k + 1],
		(blk->n - k) * sizeof(blk->rec[0]));
	s->n_changes--;
	if (blk->n > 0)
		return;
	memmove(&s->blocks[b], &s->blocks[b + 1],
		(s->n_blocks - b - 1) * sizeof(s->blocks[0]));
	s->n_blocks--;
	if (s->spare == NULL)
		s->spare = blk;
	else
		raft_free(blk);
}

/* Inserts *c (moved in) by id and into the age ring, first evicting the
 * oldest record when there are CONTROL_FSM_CHANGES_MAX: at most one block
 * is moved or split (per change, on every node; issue 8). Cannot fail:
 * prepare_change reserved a block and its directory slot. */
static void change_insert(struct state *s, struct change_rec *c)
{
	const size_t max = CONTROL_FSM_CHANGES_MAX;
	struct change_age mine = {.id = c->id, .index = c->index};
	struct change_block *blk;
	bool found;
	size_t b, k, n;

	if (s->n_changes >= max) {
		change_locate(s, s->age[s->age_head].id, &b, &k, &found);
		assert(found);
		s->age_head = (s->age_head + 1) % max;
		change_remove(s, b, k);
	}
	change_locate(s, c->id, &b, &k, &found);
	assert(!found);
	if (s->n_blocks == 0) {
		assert(s->spare != NULL && s->cap_blocks > 0);
		s->blocks[s->n_blocks++] = s->spare;
		s->spare = NULL;
		s->blocks[0]->n = 0;
	}
	blk = s->blocks[b];
	if (blk->n == CHANGE_BLOCK_MAX) {
		/* split: the upper half goes to the spare, after b */
		struct change_block *hi = s->spare;
		const size_t half = CHANGE_BLOCK_MAX / 2;

		assert(hi != NULL && s->n_blocks < s->cap_blocks);
		s->spare = NULL;
		hi->n = blk->n - half;
		memcpy(hi->rec, &blk->rec[half], hi->n * sizeof(hi->rec[0]));
		blk->n = half;
		memmove(&s->blocks[b + 2], &s->blocks[b + 1],
			(s->n_blocks - b - 1) * sizeof(s->blocks[0]));
		s->blocks[b + 1] = hi;
		s->n_blocks++;
		if (k > half) {
			b++;
			k -= half;
			blk = hi;
		}
	}
	memmove(&blk->rec[k + 1], &blk->rec[k],
		(blk->n - k) * sizeof(blk->rec[0]));
	blk->rec[k] = *c;
	blk->n++;
	memset(c, 0, sizeof(*c));
	/* Each command has its own index (applied + 1), so this is the
	 * tail; the loop keeps (index, id) order whatever comes. */
	n = s->n_changes;
	for (k = n; k > 0; k--) {
		struct change_age *prev = &s->age[(s->age_head + k - 1) % max];

		if (!age_before(&mine, prev))
			break;
		s->age[(s->age_head + k) % max] = *prev;
	}
	s->age[(s->age_head + k) % max] = mine;
	s->n_changes++;
}

/* The state changed: take the index, insert what was prepared. Cannot
 * fail. */
static void commit(struct apply *a)
{
	struct control_fsm *f = a->f;
	struct state *s = &f->s;

	s->applied = a->index;
	if (a->has_change)
		change_insert(s, &a->change);
	a->has_change = false;
	if (a->dirty_id != NULL) {
		f->dirty[f->n_dirty++] = a->dirty_id;
		a->dirty_id = NULL;
	}
	dirty_flipped(f);
}

/* --- hosted zones --- */

static int apply_create_hosted_zone(struct apply *a,
				    const struct command_create_hosted_zone *c)
{
	struct state *s = &a->f->s;
	struct zone_store_create_params p = {
	    .id = c->id,
	    .name = c->name,
	    .caller_reference =
		c->caller_reference[0] != '\0' ? c->caller_reference : NULL,
	    .comment = c->comment[0] != '\0' ? c->comment : NULL,
	    .nameservers = c->nameservers,
	    .nnameservers = c->n_nameservers,
	    .max_rrsets = c->max_rrsets <= ZONE_STORE_MAX_RRSETS_LIMIT
			      ? c->max_rrsets
			      : ZONE_STORE_MAX_RRSETS_LIMIT,
	};
	struct zone_store_info info;
	char err[ERR_MAX];
	int rv;

	rv = check_change_id(a, c->change_id, false);
	if (rv != 0)
		return rv;
	rv = prepare_change(a, c->change_id, c->id, c->comment,
			    c->access_key_id, c->time_ms);
	if (rv == 0)
		rv = prepare_dirty(a, c->id);
	if (rv != 0)
		return rv;
	rv = zone_store_create(&s->zones, &p, err, sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv, "%s", err);
	rv = zone_store_get(&s->zones, c->id, &info);
	assert(rv == 0);
	a->res.hosted_zone.id = info.id;
	a->res.hosted_zone.name = info.name;
	a->res.hosted_zone.caller_reference = c->caller_reference;
	a->res.hosted_zone.comment = c->comment;
	a->res.hosted_zone.nameservers = c->nameservers;
	a->res.hosted_zone.n_nameservers = c->n_nameservers;
	a->res.hosted_zone.record_set_count = info.nrrsets;
	rv = encode_success(a);
	if (rv != 0) {
		/* Undo: an empty zone is deleted without allocating. */
		rv = zone_store_delete(&s->zones, c->id, err, sizeof(err));
		assert(rv == 0);
		return Q53_ENOMEM;
	}
	commit(a);
	return 0;
}

static int apply_delete_hosted_zone(struct apply *a,
				    const struct command_delete_hosted_zone *c)
{
	struct state *s = &a->f->s;
	struct zone_store_info info;
	char err[ERR_MAX];
	int rv;

	if (zone_store_get(&s->zones, c->id, &info) != 0)
		return reject_no_zone(a, c->id);
	rv = check_change_id(a, c->change_id, false);
	if (rv != 0)
		return rv;
	rv = prepare_change(a, c->change_id, c->id, "", c->access_key_id,
			    c->time_ms);
	if (rv == 0)
		rv = prepare_dirty(a, c->id);
	if (rv == 0)
		rv = encode_success(a);
	if (rv != 0)
		return rv;
	rv = zone_store_delete(&s->zones, c->id, err, sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv, "%s", err);
	refs_drop_zone(s, info.id); /* by address: the zone is gone */
	tag_table_drop(&s->tags, TAG_TABLE_TYPE_ZONE, c->id);
	xfr_table_drop(&s->xfr, c->id);
	query_log_table_drop_zone(&s->qlog, c->id);
	commit(a);
	return 0;
}

static int apply_change_rrsets(struct apply *a,
			       const struct command_change_rrsets *c)
{
	struct state *s = &a->f->s;
	const struct rrset_batch *b = &c->batch;
	struct zone_store_info info;
	char err[ERR_MAX];
	int rv;

	if (zone_store_get(&s->zones, c->zone_id, &info) != 0)
		return reject_no_zone(a, c->zone_id);
	rv = check_change_id(a, c->change_id, true);
	if (rv != 0)
		return rv;
	if (b->comment != NULL && strlen(b->comment) > CHANGE_BATCH_MAX_COMMENT)
		return reject(a, Q53_EINVAL,
			      "InvalidInput: the comment is longer than %d "
			      "characters",
			      CHANGE_BATCH_MAX_COMMENT);
	err[0] = '\0';
	/* Room for the zone's (check, zone) pairs afterwards: at most one
	 * more per change naming a check. */
	size_t named = 0;
	for (size_t i = 0; i < b->nchanges; i++)
		named += b->changes[i].set.health_check_id != NULL;
	rv = reserve((void **)&s->refs, &s->cap_refs, s->n_refs + named,
		     sizeof(*s->refs));
	if (rv == 0)
		rv = prepare_change(a, c->change_id, c->zone_id, b->comment,
				    c->access_key_id, c->time_ms);
	if (rv == 0)
		rv = prepare_dirty(a, c->zone_id);
	if (rv == 0)
		rv = encode_success(a);
	if (rv != 0)
		return rv;
	struct refs_delta delta = {s, info.id};
	rv = zone_store_apply_counted(&s->zones, c->zone_id, b,
				      refs_delta_exists, refs_delta_apply,
				      &delta, err, sizeof(err));
	if (rv != 0 && rv != Q53_ENOMEM)
		rv = reject(a, rv, "%s", err);
	if (rv == 0)
		commit(a);
	return rv;
}

static int apply_import_zone(struct apply *a,
			     const struct command_import_zone *c)
{
	struct state *s = &a->f->s;
	struct zone_store_info info;
	char err[ERR_MAX];
	int rv;

	if (zone_store_get(&s->zones, c->zone_id, &info) != 0)
		return reject_no_zone(a, c->zone_id);
	rv = check_change_id(a, c->change_id, false);
	if (rv != 0)
		return rv;
	rv = prepare_change(a, c->change_id, c->zone_id, "", "", c->time_ms);
	if (rv == 0)
		rv = prepare_dirty(a, c->zone_id);
	if (rv == 0)
		rv = encode_success(a);
	if (rv != 0)
		return rv;
	rv = zone_store_replace(&s->zones, c->zone_id, c->sets, c->nsets, err,
				sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv, "%s", err);
	refs_redo_zone(s, c->zone_id); /* a zone file names no check */
	commit(a);
	/* This node compiled these very sets ahead (a local note). */
	zone_store_note_import(&s->zones, c->zone_id, c->prebuild_tag);
	return 0;
}

/* --- health checks --- */

/* Check a config (typed, untrusted) and copy it into *cfg: the rules of
 * health_check_config_validate, and for CALCULATED, children exist and (for
 * an update of `self`) do not lead back to it. */
static int check_config(struct apply *a, const struct health_check_config *in,
			const char *self, struct health_check_config *cfg)
{
	const struct state *s = &a->f->s;
	char err[ERR_MAX];
	int rv;

	memset(cfg, 0, sizeof(*cfg));
	err[0] = '\0';
	if (in == NULL)
		return reject(a, Q53_EINVAL,
			      "InvalidInput: HealthCheckConfig: missing");
	rv = health_check_config_validate(in, err, sizeof(err));
	if (rv != 0)
		return reject(a, Q53_EINVAL, "InvalidInput: %s", err);
	for (size_t i = 0; i < in->n_children; i++) {
		const char *child = in->children[i];

		if (check_get(s, child) == NULL)
			return reject(a, Q53_EINVAL,
				      "InvalidInput: ChildHealthChecks: no "
				      "health check with ID %.80s",
				      child);
		if (self != NULL && strcmp(child, self) == 0)
			return reject(a, Q53_EINVAL,
				      "InvalidInput: ChildHealthChecks: a "
				      "health check cannot be its own child");
	}
	if (self != NULL && reaches(s, in, self, 0))
		return reject(a, Q53_EINVAL,
			      "InvalidInput: ChildHealthChecks: %s would "
			      "monitor itself through its children",
			      self);
	return health_check_config_copy(cfg, in);
}

static int
apply_create_health_check(struct apply *a,
			  const struct command_create_health_check *c)
{
	struct state *s = &a->f->s;
	struct check *hc;
	struct health_vote_decision d;
	bool found;
	size_t pos;
	int rv;

	if (!id_ok(c->id))
		return reject(a, Q53_EINVAL,
			      "InvalidInput: health check ID '%.80s' must be "
			      "1 to %d letters, digits, '-' or '_'",
			      c->id, CONTROL_FSM_ID_MAX);
	if (strlen(c->caller_reference) > CONTROL_FSM_CALLER_MAX)
		return reject(a, Q53_EINVAL,
			      "InvalidInput: CallerReference is longer than %d "
			      "characters",
			      CONTROL_FSM_CALLER_MAX);
	pos = check_find(s, c->id, &found);
	if (found)
		return reject(a, Q53_EEXIST,
			      "HealthCheckAlreadyExists: a health check with "
			      "ID %s already exists",
			      c->id);
	hc = raft_calloc(1, sizeof(*hc));
	if (hc == NULL)
		return Q53_ENOMEM;
	rv = check_config(a, c->config, NULL, &hc->cfg);
	if (rv != 0)
		goto err;
	/* Route 53: the same caller reference again is the same request if
	 * the config is the same (answered with the existing check, nothing
	 * changes), a conflict otherwise. */
	for (size_t i = 0; c->caller_reference[0] != '\0' && i < s->n_checks;
	     i++) {
		const struct check *o = s->checks[i];

		if (strcmp(o->caller_reference, c->caller_reference) != 0)
			continue;
		if (!health_check_config_equal(&o->cfg, &hc->cfg)) {
			rv = reject(a, Q53_EEXIST,
				    "HealthCheckAlreadyExists: caller "
				    "reference '%s' was used for health check "
				    "%s with another configuration",
				    c->caller_reference, o->id);
			goto err;
		}
		a->res.index = o->created_index;
		a->res.health_check.id = o->id;
		a->res.health_check.caller_reference = o->caller_reference;
		a->res.health_check.config = &o->cfg;
		a->res.health_check.version = o->version;
		rv = command_result_encode(&a->res, &a->out, &a->out_len);
		check_free(hc);
		return rv;
	}
	hc->id = rstrdup(c->id);
	hc->caller_reference = rstrdup(c->caller_reference);
	if (hc->id == NULL || hc->caller_reference == NULL ||
	    reserve((void **)&s->checks, &s->cap_checks, s->n_checks + 1,
		    sizeof(*s->checks)) != 0) {
		rv = Q53_ENOMEM;
		goto err;
	}
	hc->version = 1;
	hc->created_index = a->index;
	hc->created_ms = c->time_ms;
	hc->transition_index = a->index;
	hc->transition_ms = c->time_ms;
	if (hc->cfg.type == HEALTH_CHECK_CALCULATED)
		decide_calculated(s, hc, &d);
	else
		decide_endpoint(s, hc, &d);
	hc->healthy = d.healthy;
	hc->decision = d;
	a->res.health_check.id = hc->id;
	a->res.health_check.caller_reference = hc->caller_reference;
	a->res.health_check.config = &hc->cfg;
	a->res.health_check.version = hc->version;
	rv = encode_success(a);
	if (rv != 0)
		goto err;
	memmove(&s->checks[pos + 1], &s->checks[pos],
		(s->n_checks - pos) * sizeof(*s->checks));
	s->checks[pos] = hc;
	s->n_checks++;
	a->f->dirty_health = true;
	commit(a);
	return 0;
err:
	check_free(hc);
	return rv;
}

static int
apply_update_health_check(struct apply *a,
			  const struct command_update_health_check *c)
{
	struct state *s = &a->f->s;
	struct check *hc = check_get(s, c->id);
	struct health_check_config cfg;
	int rv;

	if (hc == NULL)
		return reject_no_check(a, c->id);
	if (c->version != 0 && c->version != hc->version)
		return reject(a, Q53_EINVAL,
			      "HealthCheckVersionMismatch: health check %s is "
			      "at version %llu, not %llu",
			      hc->id, (unsigned long long)hc->version,
			      (unsigned long long)c->version);
	rv = check_config(a, c->config, hc->id, &cfg);
	if (rv != 0)
		return rv;
	if (cfg.type != hc->cfg.type) {
		rv = reject(a, Q53_EINVAL,
			    "InvalidInput: Type: a health check's type cannot "
			    "change (%s)",
			    health_check_type_name(hc->cfg.type));
		goto err;
	}
	a->res.health_check.id = hc->id;
	a->res.health_check.caller_reference = hc->caller_reference;
	a->res.health_check.config = &cfg;
	a->res.health_check.version = hc->version + 1;
	rv = encode_success(a);
	if (rv != 0)
		goto err;
	health_check_config_clear(&hc->cfg);
	hc->cfg = cfg;
	hc->version++;
	redecide(a->f, s, hc->cfg.type == HEALTH_CHECK_CALCULATED ? NULL : hc,
		 a->index, c->time_ms);
	commit(a);
	return 0;
err:
	health_check_config_clear(&cfg);
	return rv;
}

static int
apply_delete_health_check(struct apply *a,
			  const struct command_delete_health_check *c)
{
	struct state *s = &a->f->s;
	bool found;
	size_t pos = check_find(s, c->id, &found);
	int rv;

	if (!found)
		return reject_no_check(a, c->id);
	for (size_t i = 0; i < s->n_checks; i++) {
		const struct check *o = s->checks[i];

		for (size_t k = 0; k < o->cfg.n_children; k++)
			if (strcmp(o->cfg.children[k], c->id) == 0)
				return reject(a, Q53_EINVAL,
					      "HealthCheckInUse: health check "
					      "%s is a child of %s",
					      c->id, o->id);
	}
	size_t ref = refs_lower(s, s->checks[pos], "");
	if (ref < s->n_refs && s->refs[ref].check == s->checks[pos])
		return reject(a, Q53_EINVAL,
			      "HealthCheckInUse: health check %s is used by "
			      "record sets of hosted zone %s",
			      c->id, s->refs[ref].zone_id);
	for (size_t i = 0; i < zone_store_policy_count(&s->zones); i++) {
		const struct zone_store_tpolicy *t =
		    zone_store_policy_at(&s->zones, i);
		for (size_t r = 0; r < t->p.nrules; r++)
			for (size_t k = 0; k < t->p.rules[r].nitems; k++) {
				const char *hc =
				    t->p.rules[r].items[k].health_check;
				if (hc != NULL && strcmp(hc, c->id) == 0)
					return reject(
					    a, Q53_EINVAL,
					    "HealthCheckInUse: health check "
					    "%s is used by version %u of "
					    "traffic policy %s",
					    c->id, (unsigned)t->version, t->id);
			}
	}
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	tag_table_drop(&s->tags, TAG_TABLE_TYPE_CHECK, c->id);
	check_free(s->checks[pos]);
	memmove(&s->checks[pos], &s->checks[pos + 1],
		(s->n_checks - pos - 1) * sizeof(*s->checks));
	s->n_checks--;
	a->f->dirty_health = true;
	commit(a);
	return 0;
}

static int apply_health_vote(struct apply *a,
			     const struct command_health_vote *c)
{
	struct state *s = &a->f->s;
	struct check *hc = check_get(s, c->check_id);
	struct health_vote v = {
	    .member_id = c->member_id,
	    .healthy = c->healthy,
	    .log_index = a->index,
	    .time_ms = c->time_ms,
	};
	bool found;
	size_t pos;
	char *reason;
	int rv;

	if (hc == NULL)
		return reject_no_check(a, c->check_id);
	node_find(s, c->member_id, &found);
	if (!found)
		return reject(a, Q53_ENOENT,
			      "NoSuchNode: node %llu is not a cluster member",
			      (unsigned long long)c->member_id);
	if (hc->cfg.type == HEALTH_CHECK_CALCULATED)
		return reject(a, Q53_EINVAL,
			      "InvalidInput: health check %s is CALCULATED "
			      "and takes no votes",
			      hc->id);
	if (strlen(c->reason) > CONTROL_FSM_REASON_MAX)
		return reject(a, Q53_EINVAL,
			      "InvalidInput: vote reason longer than %d bytes",
			      CONTROL_FSM_REASON_MAX);
	pos = vote_find(hc, c->member_id, &found);
	if (!found) {
		size_t cap = hc->cap_votes;

		if (reserve((void **)&hc->votes, &cap, hc->n_votes + 1,
			    sizeof(*hc->votes)) != 0)
			return Q53_ENOMEM;
		cap = hc->cap_votes;
		if (reserve((void **)&hc->reasons, &cap, hc->n_votes + 1,
			    sizeof(*hc->reasons)) != 0)
			return Q53_ENOMEM;
		hc->cap_votes = cap;
	}
	reason = rstrdup(c->reason);
	if (reason == NULL)
		return Q53_ENOMEM;
	rv = encode_success(a);
	if (rv != 0) {
		raft_free(reason);
		return rv;
	}
	if (found) {
		raft_free(hc->reasons[pos]);
	} else {
		memmove(&hc->votes[pos + 1], &hc->votes[pos],
			(hc->n_votes - pos) * sizeof(*hc->votes));
		memmove(&hc->reasons[pos + 1], &hc->reasons[pos],
			(hc->n_votes - pos) * sizeof(*hc->reasons));
		hc->n_votes++;
	}
	hc->votes[pos] = v;
	hc->reasons[pos] = reason;
	redecide(a->f, s, hc, a->index, c->time_ms);
	commit(a);
	return 0;
}

/* --- nodes --- */

static bool text_ok(const char *t, size_t max)
{
	return strlen(t) <= max;
}

static int apply_set_node(struct apply *a, const struct command_set_node *c)
{
	struct state *s = &a->f->s;
	struct node n = {.index = a->index, .time_ms = c->time_ms};
	bool found;
	size_t pos;
	int rv;

	if (c->node_id == 0)
		return reject(a, Q53_EINVAL, "InvalidInput: node ID 0");
	if (c->raft_address[0] == '\0')
		return reject(a, Q53_EINVAL,
			      "InvalidInput: node %llu has no Raft address",
			      (unsigned long long)c->node_id);
	if (!text_ok(c->raft_address, CONTROL_FSM_ADDRESS_MAX) ||
	    !text_ok(c->dns_address, CONTROL_FSM_ADDRESS_MAX) ||
	    !text_ok(c->api_address, CONTROL_FSM_ADDRESS_MAX) ||
	    !text_ok(c->name, CONTROL_FSM_NODE_NAME_MAX) ||
	    !text_ok(c->geoip_path, CONTROL_FSM_ADDRESS_MAX) ||
	    !text_ok(c->geoip_sha256, CONTROL_FSM_NODE_NAME_MAX))
		return reject(a, Q53_EINVAL,
			      "InvalidInput: node %llu: an address is longer "
			      "than %d or the name longer than %d characters",
			      (unsigned long long)c->node_id,
			      CONTROL_FSM_ADDRESS_MAX,
			      CONTROL_FSM_NODE_NAME_MAX);
	if ((c->site[0] != '\0' && !latency_name_valid(c->site)) ||
	    (c->site_region[0] != '\0' && !latency_name_valid(c->site_region)))
		return reject(a, Q53_EINVAL,
			      "InvalidInput: node %llu: a site and its region "
			      "are names of [a-z0-9-], 1 to %d characters",
			      (unsigned long long)c->node_id, LATENCY_NAME_MAX);
	pos = node_find(s, c->node_id, &found);
	if (!found) {
		size_t cap = s->cap_nodes;

		if (reserve((void **)&s->nodes, &cap, s->n_nodes + 1,
			    sizeof(*s->nodes)) != 0)
			return Q53_ENOMEM;
		cap = s->cap_nodes;
		if (reserve((void **)&s->node_ids, &cap, s->n_nodes + 1,
			    sizeof(*s->node_ids)) != 0)
			return Q53_ENOMEM;
		s->cap_nodes = cap;
	}
	n.raft_address = rstrdup(c->raft_address);
	n.dns_address = rstrdup(c->dns_address);
	n.api_address = rstrdup(c->api_address);
	n.name = rstrdup(c->name);
	n.geoip_path = rstrdup(c->geoip_path);
	n.geoip_sha256 = rstrdup(c->geoip_sha256);
	n.site = rstrdup(c->site);
	n.site_region = rstrdup(c->site_region);
	if (n.raft_address == NULL || n.dns_address == NULL ||
	    n.api_address == NULL || n.name == NULL || n.geoip_path == NULL ||
	    n.geoip_sha256 == NULL || n.site == NULL || n.site_region == NULL) {
		node_clear(&n);
		return Q53_ENOMEM;
	}
	rv = encode_success(a);
	if (rv != 0) {
		node_clear(&n);
		return rv;
	}
	if (found) {
		node_clear(&s->nodes[pos]);
	} else {
		memmove(&s->nodes[pos + 1], &s->nodes[pos],
			(s->n_nodes - pos) * sizeof(*s->nodes));
		memmove(&s->node_ids[pos + 1], &s->node_ids[pos],
			(s->n_nodes - pos) * sizeof(*s->node_ids));
		s->n_nodes++;
	}
	s->nodes[pos] = n;
	s->node_ids[pos] = c->node_id;
	if (!found) /* one more member: every majority moves */
		redecide(a->f, s, NULL, a->index, c->time_ms);
	commit(a);
	return 0;
}

static int apply_remove_node(struct apply *a,
			     const struct command_remove_node *c)
{
	struct state *s = &a->f->s;
	bool found;
	size_t pos = node_find(s, c->node_id, &found);
	int rv;

	if (!found)
		return reject(a, Q53_ENOENT, "NoSuchNode: no node with ID %llu",
			      (unsigned long long)c->node_id);
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	node_clear(&s->nodes[pos]);
	memmove(&s->nodes[pos], &s->nodes[pos + 1],
		(s->n_nodes - pos - 1) * sizeof(*s->nodes));
	memmove(&s->node_ids[pos], &s->node_ids[pos + 1],
		(s->n_nodes - pos - 1) * sizeof(*s->node_ids));
	s->n_nodes--;
	/* Its votes go with it. */
	for (size_t i = 0; i < s->n_checks; i++) {
		struct check *hc = s->checks[i];
		size_t k = vote_find(hc, c->node_id, &found);

		if (!found)
			continue;
		raft_free(hc->reasons[k]);
		memmove(&hc->votes[k], &hc->votes[k + 1],
			(hc->n_votes - k - 1) * sizeof(*hc->votes));
		memmove(&hc->reasons[k], &hc->reasons[k + 1],
			(hc->n_votes - k - 1) * sizeof(*hc->reasons));
		hc->n_votes--;
	}
	redecide(a->f, s, NULL, a->index, c->time_ms);
	commit(a);
	return 0;
}

/* --- access keys --- */

static int apply_create_access_key(struct apply *a,
				   const struct command_create_access_key *c)
{
	struct state *s = &a->f->s;
	struct access_key k;
	bool same;
	int rv;

	rv = access_keys_check(&s->keys, c, &same, a->err, sizeof(a->err));
	if (rv != 0 && same)
		return encode_success(a); /* a retried proposal: no change */
	if (rv != 0) {
		a->code = rv;
		return REJECTED;
	}
	rv = access_keys_prepare(&s->keys, c, a->index, &k);
	if (rv != 0)
		return rv;
	rv = encode_success(a);
	if (rv != 0) {
		access_key_clear(&k);
		return rv;
	}
	access_keys_insert(&s->keys, &k);
	commit(a);
	return 0;
}

/* --- tags, zone comments --- */

static int apply_change_tags(struct apply *a,
			     const struct command_change_tags *c)
{
	struct state *s = &a->f->s;
	struct zone_store_info info;
	char err[ERR_MAX];
	int rv;

	if (strcmp(c->resource_type, TAG_TABLE_TYPE_ZONE) == 0) {
		if (zone_store_get(&s->zones, c->resource_id, &info) != 0)
			return reject_no_zone(a, c->resource_id);
	} else if (strcmp(c->resource_type, TAG_TABLE_TYPE_CHECK) == 0) {
		if (check_get(s, c->resource_id) == NULL)
			return reject_no_check(a, c->resource_id);
	}
	rv = tag_table_check_change(c, err, sizeof(err));
	if (rv != 0)
		return reject(a, rv, "%s", err);
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	rv = tag_table_change(&s->tags, c, err, sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv, "%s", err);
	commit(a);
	return 0;
}

static int apply_delete_access_key(struct apply *a,
				   const struct command_delete_access_key *c)
{
	struct state *s = &a->f->s;
	int rv;

	if (access_keys_find(&s->keys, c->id) == NULL)
		return reject(a, Q53_ENOENT,
			      "NoSuchEntity: The Access Key with id %.128s "
			      "cannot be found.",
			      c->id);
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	access_keys_remove(&s->keys, c->id);
	commit(a);
	return 0;
}

/* SetHostedZoneLimit (28): checked again here (the log is untrusted). */
static int apply_set_zone_limit(struct apply *a,
				const struct command_set_zone_limit *c)
{
	struct state *s = &a->f->s;
	struct zone_store_info info;
	char err[ERR_MAX];
	int rv;

	if (zone_store_get(&s->zones, c->zone_id, &info) != 0)
		return reject_no_zone(a, c->zone_id);
	if (strcmp(c->limit_type, COMMAND_ZONE_LIMIT_MAX_RRSETS) != 0)
		return reject(a, Q53_EINVAL,
			      "InvalidInput: limit type '%.40s' is not %s",
			      c->limit_type, COMMAND_ZONE_LIMIT_MAX_RRSETS);
	if (c->value > ZONE_STORE_MAX_RRSETS_LIMIT)
		return reject(
		    a, Q53_EINVAL, "InvalidInput: a %s of %llu is more than %d",
		    COMMAND_ZONE_LIMIT_MAX_RRSETS, (unsigned long long)c->value,
		    ZONE_STORE_MAX_RRSETS_LIMIT);
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	rv = zone_store_set_limit(&s->zones, c->zone_id, c->value, err,
				  sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv, "%s", err);
	commit(a);
	return 0;
}

static int
apply_update_zone_comment(struct apply *a,
			  const struct command_update_zone_comment *c)
{
	struct state *s = &a->f->s;
	struct zone_store_info info;
	char err[ERR_MAX];
	int rv;

	if (zone_store_get(&s->zones, c->zone_id, &info) != 0)
		return reject_no_zone(a, c->zone_id);
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	rv = zone_store_set_comment(&s->zones, c->zone_id, c->comment, err,
				    sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv, "%s", err);
	commit(a);
	return 0;
}

static int apply_set_zone_transfer(struct apply *a,
				   const struct command_set_zone_transfer *c)
{
	struct state *s = &a->f->s;
	struct zone_store_info info;
	struct xfr_config cfg = *c->config;
	char err[ERR_MAX];
	int rv;

	if (zone_store_get(&s->zones, cfg.zone_id, &info) != 0)
		return reject_no_zone(a, cfg.zone_id);
	rv = xfr_config_check(&cfg, err, sizeof(err));
	if (rv != 0)
		return reject(a, rv, "%s", err);
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	rv = xfr_table_set(&s->xfr, &cfg, err, sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv, "%s", err);
	commit(a);
	return 0;
}

/* RFC 2136 UPDATE: the prerequisites checked here, on the state the
 * command meets, then one change batch (dyn_update.h). */
static int apply_dynamic_update(struct apply *a,
				const struct command_dynamic_update *c)
{
	struct state *s = &a->f->s;
	const struct xfr_config *cfg = xfr_table_get(&s->xfr, c->zone_id);
	struct zone_store_info info;
	struct dyn_update_plan plan;
	char err[ERR_MAX], comment[128];
	int rv;

	if (zone_store_get(&s->zones, c->zone_id, &info) != 0)
		return reject_no_zone(a, c->zone_id);
	/* The key may have lost the right since the proposer checked. */
	if (cfg == NULL || !cfg->allow_update ||
	    xfr_config_key(cfg, c->key_name) == NULL)
		return reject(a, Q53_EINVAL,
			      "REFUSED: updates are not allowed with key "
			      "%.64s",
			      c->key_name);
	rv = dyn_update_plan(&info, c, &plan, err, sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv > 0)
		return reject(a, Q53_EINVAL, "%s: %s", dyn_rcode_name(rv), err);
	if (plan.n == 0) {
		/* Nothing changes (RFC 2136 3.4.2: no-op updates are fine). */
		dyn_update_plan_free(&plan);
		rv = encode_success(a);
		if (rv == 0)
			commit(a);
		return rv;
	}
	snprintf(comment, sizeof(comment), "RFC 2136 UPDATE (TSIG %.64s)",
		 c->key_name);
	struct command_change_rrsets cc = {
	    .zone_id = c->zone_id,
	    .change_id = c->change_id,
	    .batch = {.comment = comment,
		      .changes = plan.changes,
		      .nchanges = plan.n},
	    .time_ms = c->time_ms,
	    .access_key_id = "",
	};
	rv = apply_change_rrsets(a, &cc);
	dyn_update_plan_free(&plan);
	return rv;
}

/* --- Traffic Flow --- */

/* A Traffic Flow command (command_flow.h): the zone of a policy record
 * it changes is dirty. */
static int apply_flow(struct apply *a, uint16_t type, const uint8_t *payload,
		      size_t len)
{
	struct state *s = &a->f->s;
	char zone_id[ZONE_STORE_ID_MAX + 1], err[ERR_MAX];
	int rv = command_flow_apply(&s->zones, type, payload, len, true,
				    zone_id, err, sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, Q53_EMALF,
			      "InvalidInput: malformed %s command (type %u, "
			      "%zu bytes)",
			      command_type_name(type), (unsigned)type, len);
	if (zone_id[0] != '\0' &&
	    zone_store_get(&s->zones, zone_id, &(struct zone_store_info){0}) ==
		0) {
		rv = prepare_dirty(a, zone_id);
		if (rv != 0)
			return rv;
	}
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	rv = command_flow_apply(&s->zones, type, payload, len, false, zone_id,
				err, sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv, "%s", err);
	commit(a);
	return 0;
}

/* --- query logging (query_log_table.h) --- */

static bool qlog_zone_exists(void *ctx, const char *zone_id)
{
	struct zone_store_info info;
	return zone_store_get(ctx, zone_id, &info) == 0;
}

static int apply_query_logging(struct apply *a, const uint8_t *payload,
			       size_t len)
{
	struct state *s = &a->f->s;
	char err[ERR_MAX];
	int rv = query_log_table_apply(&s->qlog, payload, len, true,
				       qlog_zone_exists, &s->zones, err,
				       sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv == Q53_EMALF)
		return reject(
		    a, rv, "InvalidInput: malformed %s command (%zu bytes)",
		    command_type_name(COMMAND_CHANGE_QUERY_LOGGING), len);
	if (rv != 0)
		return reject(a, rv, "%s", err);
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	rv = query_log_table_apply(&s->qlog, payload, len, false,
				   qlog_zone_exists, &s->zones, err,
				   sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv, "%s", err);
	commit(a);
	return 0;
}

/* --- latency routing --- */

static int apply_set_latency_rows(struct apply *a,
				  const struct command_set_latency_rows *c)
{
	struct state *s = &a->f->s;
	struct latency_table t;
	char cidr[64];
	int rv;

	if (c->invalid != NULL)
		return reject(a, Q53_EINVAL, "InvalidInput: %s", c->invalid);
	/* On a copy: a row missing or memory running out leaves the table
	 * as it was. */
	rv = latency_table_copy(&t, &s->latency);
	if (rv != 0)
		return rv;
	if (c->clear)
		latency_table_clear_rows(&t);
	for (size_t i = 0; i < c->n_set && rv == 0; i++)
		rv = latency_table_set(&t, &c->set[i]);
	if (rv == Q53_EINVAL) {
		latency_table_free(&t);
		return reject(a, rv,
			      "InvalidInput: the latency table holds at most "
			      "%d rows",
			      LATENCY_ROWS_MAX);
	}
	for (size_t i = 0; i < c->n_remove && rv == 0; i++) {
		rv = latency_table_delete(&t, &c->remove[i]);
		if (rv == Q53_ENOENT) {
			latency_table_free(&t);
			latency_cidr_format(&c->remove[i], cidr, sizeof(cidr));
			return reject(a, rv,
				      "NoSuchLatencyRow: no latency row for "
				      "%s",
				      cidr);
		}
	}
	if (rv == 0)
		rv = encode_success(a);
	if (rv != 0) {
		latency_table_free(&t);
		return rv;
	}
	latency_table_free(&s->latency);
	s->latency = t;
	a->f->dirty_latency = true;
	commit(a);
	return 0;
}

static int apply_latency_samples(struct apply *a,
				 const struct command_latency_samples *c)
{
	struct state *s = &a->f->s;
	struct latency_rtt rtt[LATENCY_ROW_REGIONS];
	char why[160];
	int rv;

	if (!latency_name_valid(c->site))
		return reject(a, Q53_EINVAL,
			      "InvalidInput: '%.40s' is not a site name",
			      c->site);
	/* A node reports for its own site only (its metadata's). */
	bool found;
	size_t pos = node_find(s, c->node_id, &found);
	if (!found || strcmp(s->nodes[pos].site, c->site) != 0)
		return reject(a, Q53_EINVAL,
			      "InvalidInput: node %llu is not a member at site "
			      "%s",
			      (unsigned long long)c->node_id, c->site);
	memcpy(rtt, c->rtt, c->n * sizeof(rtt[0]));
	if (latency_rtts_check(rtt, c->n, why, sizeof(why)) != 0)
		return reject(a, Q53_EINVAL, "InvalidInput: %s", why);
	if (latency_table_site(&s->latency, c->site) == NULL &&
	    s->latency.nsites >= LATENCY_SITES_MAX)
		return reject(a, Q53_EINVAL,
			      "InvalidInput: the latency table holds at most "
			      "%d sites",
			      LATENCY_SITES_MAX);
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	rv = latency_table_sample(&s->latency, c->site, c->node_id, c->time_ms,
				  rtt, c->n);
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv,
			      "InvalidInput: more than %d regions measured "
			      "from one site",
			      LATENCY_ROW_REGIONS);
	a->f->dirty_latency = true;
	commit(a);
	return 0;
}

/* --- CIDR collections --- */

/* zone_store_cidr_fn over the FSM's collections (ctx: the control_fsm). */
static int cidr_lookup(void *ctx, const char *ref, const char *location,
		       const struct cidr_block **blocks, size_t *n,
		       const char **id)
{
	const struct control_fsm *f = ctx;
	const struct cidr_collection *c = cidr_table_get(&f->s.cidrs, ref);
	const struct cidr_location *l;

	*blocks = NULL;
	*n = 0;
	if (c == NULL)
		c = cidr_table_by_name(&f->s.cidrs, ref);
	if (c == NULL)
		return -1;
	*id = c->id;
	l = cidr_collection_location(c, location);
	if (l == NULL)
		return 0;
	*blocks = l->blocks;
	*n = l->n;
	return 1;
}

static bool cidr_used(void *ctx, const char *id, const char *location)
{
	const struct state *s = ctx;

	return zone_store_cidr_in_use(&s->zones, id, location);
}

static void cidr_mark_zone(void *ctx, const char *zone_id)
{
	dirty_add(ctx, zone_id);
}

static int
apply_create_cidr_collection(struct apply *a,
			     const struct command_create_cidr_collection *c)
{
	struct state *s = &a->f->s;
	const struct cidr_collection *existing;
	char err[ERR_MAX];
	int rv;

	existing = cidr_table_by_name(&s->cidrs, c->name);
	if (existing != NULL &&
	    strcmp(existing->caller_reference, c->caller_reference) == 0) {
		/* A retry: answered, nothing changes. */
		a->res.index = s->applied;
		return command_result_encode(&a->res, &a->out, &a->out_len);
	}
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	rv = cidr_table_create(&s->cidrs, c, &existing, err, sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv, "%s", err);
	commit(a);
	return 0;
}

static int
apply_change_cidr_collection(struct apply *a,
			     const struct command_change_cidr_collection *c)
{
	struct state *s = &a->f->s;
	char err[ERR_MAX];
	int rv;

	if (!c->delete_collection) {
		rv = cidr_table_check_change(c, err, sizeof(err));
		if (rv != 0)
			return reject(a, rv, "%s", err);
	}
	rv = encode_success(a);
	if (rv != 0)
		return rv;
	if (c->delete_collection)
		rv = cidr_table_delete(&s->cidrs, c->id, c->version, cidr_used,
				       s, err, sizeof(err));
	else
		rv = cidr_table_change(&s->cidrs, c, cidr_used, s, err,
				       sizeof(err));
	if (rv == Q53_ENOMEM)
		return rv;
	if (rv != 0)
		return reject(a, rv, "%s", err);
	/* The names answered from this collection follow its blocks. */
	if (!c->delete_collection)
		zone_store_cidr_users(&s->zones, c->id, cidr_mark_zone, a->f);
	commit(a);
	return 0;
}

/* --- q53_fsm: apply --- */

static int dispatch(struct apply *a, const struct command *cmd)
{
	switch (cmd->type) {
	case COMMAND_CREATE_HOSTED_ZONE:
		return apply_create_hosted_zone(a, &cmd->u.create_hosted_zone);
	case COMMAND_DELETE_HOSTED_ZONE:
		return apply_delete_hosted_zone(a, &cmd->u.delete_hosted_zone);
	case COMMAND_CHANGE_RRSETS:
		return apply_change_rrsets(a, &cmd->u.change_rrsets);
	case COMMAND_IMPORT_ZONE:
		return apply_import_zone(a, &cmd->u.import_zone);
	case COMMAND_CREATE_HEALTH_CHECK:
		return apply_create_health_check(a,
						 &cmd->u.create_health_check);
	case COMMAND_UPDATE_HEALTH_CHECK:
		return apply_update_health_check(a,
						 &cmd->u.update_health_check);
	case COMMAND_DELETE_HEALTH_CHECK:
		return apply_delete_health_check(a,
						 &cmd->u.delete_health_check);
	case COMMAND_HEALTH_VOTE:
		return apply_health_vote(a, &cmd->u.health_vote);
	case COMMAND_SET_NODE:
		return apply_set_node(a, &cmd->u.set_node);
	case COMMAND_REMOVE_NODE:
		return apply_remove_node(a, &cmd->u.remove_node);
	case COMMAND_CREATE_ACCESS_KEY:
		return apply_create_access_key(a, &cmd->u.create_access_key);
	case COMMAND_DELETE_ACCESS_KEY:
		return apply_delete_access_key(a, &cmd->u.delete_access_key);
	case COMMAND_CHANGE_TAGS:
		return apply_change_tags(a, &cmd->u.change_tags);
	case COMMAND_SET_ZONE_TRANSFER:
		return apply_set_zone_transfer(a, &cmd->u.set_zone_transfer);
	case COMMAND_DYNAMIC_UPDATE:
		return apply_dynamic_update(a, &cmd->u.dynamic_update);
	case COMMAND_UPDATE_ZONE_COMMENT:
		return apply_update_zone_comment(a,
						 &cmd->u.update_zone_comment);
	case COMMAND_SET_ZONE_LIMIT:
		return apply_set_zone_limit(a, &cmd->u.set_zone_limit);
	case COMMAND_SET_LATENCY_ROWS:
		return apply_set_latency_rows(a, &cmd->u.set_latency_rows);
	case COMMAND_LATENCY_SAMPLES:
		return apply_latency_samples(a, &cmd->u.latency_samples);
	case COMMAND_CREATE_CIDR_COLLECTION:
		return apply_create_cidr_collection(
		    a, &cmd->u.create_cidr_collection);
	case COMMAND_CHANGE_CIDR_COLLECTION:
		return apply_change_cidr_collection(
		    a, &cmd->u.change_cidr_collection);
	default:
		break; /* legacy types: converted before apply (upgrade.c) */
	}
	return reject(a, Q53_EMALF, "InvalidInput: unknown command");
}

/* The rejection's result body: "Name: message" split at the first ": ". */
static int encode_rejection(struct apply *a)
{
	char *sep = strstr(a->err, ": ");

	memset(&a->res, 0, sizeof(a->res));
	if (sep != NULL) {
		*sep = '\0';
		a->res.error_name = a->err;
		a->res.error_message = sep + 2;
	} else {
		a->res.error_name = "InvalidInput";
		a->res.error_message = a->err;
	}
	return command_result_encode(&a->res, &a->out, &a->out_len);
}

/* Applies payload, or given (the typed command it was encoded from, see
 * q53_fsm.apply_decoded) when not NULL. */
static int fsm_apply_cmd(struct q53_fsm *base, uint16_t type,
			 const struct command *given, const uint8_t *payload,
			 size_t len, int32_t *code, uint8_t **out,
			 size_t *out_len)
{
	struct control_fsm *f = base->data;
	struct apply *a;
	struct command cmd;
	int rv;

	*code = 0;
	*out = NULL;
	*out_len = 0;
	a = raft_calloc(1, sizeof(*a));
	if (a == NULL)
		return Q53_ENOMEM;
	a->f = f;
	a->index = f->s.applied + 1;
	if (type >= COMMAND_CREATE_TRAFFIC_POLICY &&
	    type <= COMMAND_TRAFFIC_POLICY_INSTANCE) {
		cmd.pb = NULL;
		rv = apply_flow(a, type, payload, len);
		goto done;
	}
	if (type == COMMAND_CHANGE_QUERY_LOGGING) {
		cmd.pb = NULL;
		rv = apply_query_logging(a, payload, len);
		goto done;
	}
	if (given != NULL && given->type == (enum command_type)type) {
		cmd = *given;
		cmd.pb = NULL; /* borrowed: nothing to free */
		rv = 0;
	} else {
		rv = command_decode(type, payload, len, &cmd);
	}
	if (rv == Q53_ENOMEM)
		goto out;
	if (rv != 0)
		rv = reject(a, Q53_EMALF,
			    "InvalidInput: malformed %s command (type %u, %zu "
			    "bytes)",
			    command_type_name(type), (unsigned)type, len);
	else
		rv = dispatch(a, &cmd);
done:
	if (rv == REJECTED) {
		raft_free(a->out);
		a->out = NULL;
		rv = encode_rejection(a);
		if (rv == 0)
			*code = a->code;
	}
	if (rv == 0) {
		*out = a->out;
		*out_len = a->out_len;
		a->out = NULL;
	}
	if (cmd.pb != NULL)
		command_free(&cmd);
out:
	unprepare(a);
	raft_free(a);
	assert(rv == 0 || rv == Q53_ENOMEM);
	return rv;
}

static int fsm_apply(struct q53_fsm *base, uint16_t type,
		     const uint8_t *payload, size_t len, int32_t *code,
		     uint8_t **out, size_t *out_len)
{
	return fsm_apply_cmd(base, type, NULL, payload, len, code, out,
			     out_len);
}

static int fsm_apply_decoded(struct q53_fsm *base, uint16_t type,
			     const void *decoded, const uint8_t *payload,
			     size_t len, int32_t *code, uint8_t **out,
			     size_t *out_len)
{
	return fsm_apply_cmd(base, type, decoded, payload, len, code, out,
			     out_len);
}

/* --- q53_fsm: snapshot --- */

/* The snapshot message points into the state; these hold the arrays. */
struct snap_arrays {
	Q53__Command__SnapshotHealthCheck **checks;
	Q53__Command__SnapshotHealthCheck *check_items;
	Q53__Command__SnapshotVote **votes;
	Q53__Command__SnapshotVote *vote_items;
	Q53__Command__SnapshotNode **nodes;
	Q53__Command__SnapshotNode *node_items;
	Q53__Command__SnapshotChange **changes;
	Q53__Command__SnapshotChange *change_items;
	Q53__Command__AccessKey *key_items;
	Q53__Command__AccessKey **keys;
	Q53__Command__SnapshotTags **tags;
	Q53__Command__SnapshotTags *tag_items;
	Q53__Command__Tag **kvs;
	Q53__Command__Tag *kv_items;
	Q53__Command__SnapshotCidrCollection **cidrs;
	Q53__Command__SnapshotCidrCollection *cidr_items;
	Q53__Command__SnapshotCidrLocation **cidr_locs;
	Q53__Command__SnapshotCidrLocation *cidr_loc_items;
	Q53__Command__CidrBlock **cidr_blocks;
	Q53__Command__CidrBlock *cidr_block_items;
};

static void snap_arrays_free(struct snap_arrays *x)
{
	raft_free(x->checks);
	raft_free(x->check_items);
	raft_free(x->votes);
	raft_free(x->vote_items);
	raft_free(x->nodes);
	raft_free(x->node_items);
	raft_free(x->changes);
	raft_free(x->change_items);
	raft_free(x->key_items);
	raft_free(x->keys);
	raft_free(x->tags);
	raft_free(x->tag_items);
	raft_free(x->kvs);
	raft_free(x->kv_items);
	raft_free(x->cidrs);
	raft_free(x->cidr_items);
	raft_free(x->cidr_locs);
	raft_free(x->cidr_loc_items);
	raft_free(x->cidr_blocks);
	raft_free(x->cidr_block_items);
}

/* raft_calloc that treats 0 elements as success. */
static void *calloc0(size_t n, size_t size, bool *failed)
{
	void *p;

	if (n == 0)
		return NULL;
	p = raft_calloc(n, size);
	if (p == NULL)
		*failed = true;
	return p;
}

/* The hosted zones as SnapshotZone messages pointing into the store. */
/* Whether a record set of m uses a field 0.3.0 does not read. */
static bool snap_sets_need_040(const Q53__Command__FsmSnapshot *m)
{
	for (size_t i = 0; i < m->n_zones; i++)
		for (size_t k = 0; k < m->zones[i]->n_sets; k++) {
			const Q53__Command__RecordSet *r = m->zones[i]->sets[k];
			if ((r->region != NULL && r->region[0] != '\0') ||
			    (r->cidr_collection_id != NULL &&
			     r->cidr_collection_id[0] != '\0') ||
			    r->geo_proximity_location != NULL)
				return true;
		}
	return false;
}

struct snap_zones {
	Q53__Command__SnapshotZone *zones;
	Q53__Command__SnapshotZone **zone_ptrs;
	Q53__Command__RecordSet *sets;
	Q53__Command__RecordSet **set_ptrs;
	ProtobufCBinaryData *rdata;
	struct rrset_rdata *typed_rdata;
	Q53__Command__GeoLocation *geo;
	Q53__Command__GeoProximityLocation *geoprox;
	struct zone_store_alias *alias; /* the alias sets' targets */
};

static void snap_zones_free(struct snap_zones *x)
{
	raft_free(x->alias);
	raft_free(x->zones);
	raft_free(x->zone_ptrs);
	raft_free(x->sets);
	raft_free(x->set_ptrs);
	raft_free(x->rdata);
	raft_free(x->typed_rdata);
	raft_free(x->geo);
	raft_free(x->geoprox);
}

/* A zone to snapshot: the store's (flat NULL: its sets read through
 * info) or a capture's copy (flat: the sets as they were). */
struct snap_zone {
	struct zone_store_info info;
	const struct zone_store_rrset *const *flat;
};

static const struct zone_store_rrset *snap_zone_rrset(const struct snap_zone *z,
						      size_t k)
{
	return z->flat != NULL ? z->flat[k]
			       : zone_store_info_rrset(&z->info, k);
}

/* zones[0..nz): the store's (zone_store_get_at) or a capture's copies. */
static int snap_zones_fill(const struct snap_zone *zones, size_t nz,
			   struct snap_zones *x)
{
	size_t ns = 0, nr = 0, maxr = 0, na = 0;
	bool failed = false;

	for (size_t i = 0; i < nz; i++) {
		const struct snap_zone *z = &zones[i];

		ns += z->info.nrrsets;
		for (size_t k = 0; k < z->info.nrrsets; k++) {
			const struct zone_store_rrset *r =
			    snap_zone_rrset(z, k);
			nr += r->count;
			na += (zone_store_rrset_routing(r) &
			       ZONE_STORE_ALIAS) != 0;
			if (r->count > maxr)
				maxr = r->count;
		}
	}
	x->alias = calloc0(na, sizeof(*x->alias), &failed);
	x->zones = calloc0(nz, sizeof(*x->zones), &failed);
	x->zone_ptrs = calloc0(nz, sizeof(*x->zone_ptrs), &failed);
	x->sets = calloc0(ns, sizeof(*x->sets), &failed);
	x->set_ptrs = calloc0(ns, sizeof(*x->set_ptrs), &failed);
	x->rdata = calloc0(nr, sizeof(*x->rdata), &failed);
	x->typed_rdata = calloc0(maxr, sizeof(*x->typed_rdata), &failed);
	x->geo = calloc0(ns, sizeof(*x->geo), &failed);
	x->geoprox = calloc0(ns, sizeof(*x->geoprox), &failed);
	if (failed)
		return Q53_ENOMEM;
	ns = 0;
	nr = 0;
	na = 0;
	for (size_t i = 0; i < nz; i++) {
		const struct zone_store_info info = zones[i].info;
		Q53__Command__SnapshotZone *z = &x->zones[i];

		q53__command__snapshot_zone__init(z);
		z->id = (char *)info.id;
		z->origin.data = (uint8_t *)info.origin;
		z->origin.len = dname_wire_len(info.origin, DNAME_MAXLEN);
		z->comment = (char *)(info.comment ? info.comment : "");
		z->caller_reference =
		    (char *)(info.caller_reference ? info.caller_reference
						   : "");
		z->sets = &x->set_ptrs[ns];
		z->n_sets = info.nrrsets;
		for (size_t k = 0; k < info.nrrsets; k++, ns++) {
			const struct zone_store_rrset *r =
			    snap_zone_rrset(&zones[i], k);
			struct rrset_data d;
			zone_store_rrset_data(r, &d);
			d.rdata = x->typed_rdata;
			if (zone_store_rrset_routing(r) & ZONE_STORE_ALIAS)
				zone_store_rrset_alias_data(r, &x->alias[na++],
							    &d);
			for (uint16_t j = 0; j < r->count; j++) {
				x->typed_rdata[j].data = r->rdata[j].data;
				x->typed_rdata[j].len = r->rdata[j].len;
			}
			command_set_to_pb(&d, &x->sets[ns], &x->rdata[nr],
					  &(struct command_set_room){
					      &x->geo[ns], &x->geoprox[ns]});
			nr += r->count;
			x->set_ptrs[ns] = &x->sets[ns];
		}
		x->zone_ptrs[i] = z;
	}
	return 0;
}

/* The FsmSnapshot of s with zones[0..nz) as its zones (none: the rest of
 * the state only, what a capture packs). */
static int snap_pack(const struct state *s, const struct snap_zone *zones,
		     size_t nz, uint8_t **buf, size_t *len)
{
	Q53__Command__FsmSnapshot m;
	struct snap_arrays x = {0};
	struct snap_zones zx = {0};
	struct command_flow_pb flow = {0};
	Q53__Command__HealthCheckConfig *cfgs = NULL;
	Q53__Command__LatencyTable *latency = NULL;
	Q53__Command__FsmSnapshotExt ext = Q53__COMMAND__FSM_SNAPSHOT_EXT__INIT;
	Q53__Command__ZoneTransferConfig **xfr_pb = NULL;
	char ***children = NULL;
	Q53__Command__SnapshotZoneLimit *lim_items = NULL, **lim_ptrs = NULL;
	size_t n_votes = 0, v = 0, n_kvs = 0, kv = 0;
	Q53__Command__QueryLoggingConfig **qlog_pb = NULL;
	size_t n_qlog_pb = 0;
	bool failed = false;
	int rv;

	*buf = NULL;
	*len = 0;
	for (size_t i = 0; i < s->n_checks; i++)
		n_votes += s->checks[i]->n_votes;
	for (size_t i = 0; i < s->tags.n; i++)
		n_kvs += s->tags.v[i].n;
	size_t n_clocs = 0, n_cblocks = 0;
	for (size_t i = 0; i < s->cidrs.n; i++) {
		n_clocs += s->cidrs.v[i].n_locs;
		n_cblocks += s->cidrs.v[i].n_blocks;
	}
	x.cidrs = calloc0(s->cidrs.n, sizeof(*x.cidrs), &failed);
	x.cidr_items = calloc0(s->cidrs.n, sizeof(*x.cidr_items), &failed);
	x.cidr_locs = calloc0(n_clocs, sizeof(*x.cidr_locs), &failed);
	x.cidr_loc_items = calloc0(n_clocs, sizeof(*x.cidr_loc_items), &failed);
	x.cidr_blocks = calloc0(n_cblocks, sizeof(*x.cidr_blocks), &failed);
	x.cidr_block_items =
	    calloc0(n_cblocks, sizeof(*x.cidr_block_items), &failed);
	x.tags = calloc0(s->tags.n, sizeof(*x.tags), &failed);
	x.tag_items = calloc0(s->tags.n, sizeof(*x.tag_items), &failed);
	x.kvs = calloc0(n_kvs, sizeof(*x.kvs), &failed);
	x.kv_items = calloc0(n_kvs, sizeof(*x.kv_items), &failed);
	x.checks = calloc0(s->n_checks, sizeof(*x.checks), &failed);
	x.check_items = calloc0(s->n_checks, sizeof(*x.check_items), &failed);
	x.votes = calloc0(n_votes, sizeof(*x.votes), &failed);
	x.vote_items = calloc0(n_votes, sizeof(*x.vote_items), &failed);
	x.nodes = calloc0(s->n_nodes, sizeof(*x.nodes), &failed);
	x.node_items = calloc0(s->n_nodes, sizeof(*x.node_items), &failed);
	x.changes = calloc0(s->n_changes, sizeof(*x.changes), &failed);
	x.change_items =
	    calloc0(s->n_changes, sizeof(*x.change_items), &failed);
	cfgs = calloc0(s->n_checks, sizeof(*cfgs), &failed);
	children = calloc0(s->n_checks, sizeof(*children), &failed);
	if (access_keys_to_pb(&s->keys, &x.key_items, &x.keys) != 0)
		failed = true;
	if (failed) {
		rv = Q53_ENOMEM;
		goto out;
	}
	rv = snap_zones_fill(zones, nz, &zx);
	if (rv != 0)
		goto out;

	q53__command__fsm_snapshot__init(&m);
	m.format = SNAPSHOT_FORMAT;
	m.end = SNAPSHOT_END;
	m.applied = s->applied;
	m.zones = zx.zone_ptrs;
	m.n_zones = nz;
	m.n_health_checks = s->n_checks;
	m.health_checks = x.checks;
	for (size_t i = 0; i < s->n_checks; i++) {
		const struct check *c = s->checks[i];
		Q53__Command__SnapshotHealthCheck *pc = &x.check_items[i];

		q53__command__snapshot_health_check__init(pc);
		pc->id = c->id;
		pc->caller_reference = c->caller_reference;
		rv = command_config_to_pb(&c->cfg, &cfgs[i], &children[i]);
		if (rv != 0)
			goto out;
		pc->config = &cfgs[i];
		pc->version = c->version;
		pc->created_index = c->created_index;
		pc->created_ms = c->created_ms;
		pc->n_votes = c->n_votes;
		pc->votes = c->n_votes > 0 ? &x.votes[v] : NULL;
		for (size_t k = 0; k < c->n_votes; k++, v++) {
			Q53__Command__SnapshotVote *pv = &x.vote_items[v];

			q53__command__snapshot_vote__init(pv);
			pv->member_id = c->votes[k].member_id;
			pv->healthy = c->votes[k].healthy;
			pv->reason = c->reasons[k];
			pv->index = c->votes[k].log_index;
			pv->time_ms = c->votes[k].time_ms;
			x.votes[v] = pv;
		}
		pc->healthy = c->healthy;
		pc->basis = c->decision.basis;
		pc->transition_index = c->transition_index;
		pc->transition_ms = c->transition_ms;
		x.checks[i] = pc;
	}
	m.n_nodes = s->n_nodes;
	m.nodes = x.nodes;
	for (size_t i = 0; i < s->n_nodes; i++) {
		const struct node *n = &s->nodes[i];
		Q53__Command__SnapshotNode *pn = &x.node_items[i];

		q53__command__snapshot_node__init(pn);
		pn->node_id = s->node_ids[i];
		pn->raft_address = n->raft_address;
		pn->dns_address = n->dns_address;
		pn->api_address = n->api_address;
		pn->name = n->name;
		pn->geoip_path = n->geoip_path;
		pn->geoip_sha256 = n->geoip_sha256;
		pn->site = n->site;
		pn->site_region = n->site_region;
		pn->index = n->index;
		pn->time_ms = n->time_ms;
		x.nodes[i] = pn;
	}
	m.n_changes = s->n_changes;
	m.changes = x.changes;
	for (size_t b = 0, i = 0; b < s->n_blocks; b++)
		for (size_t k = 0; k < s->blocks[b]->n; k++, i++) {
			const struct change_rec *c = &s->blocks[b]->rec[k];
			Q53__Command__SnapshotChange *pc = &x.change_items[i];

			q53__command__snapshot_change__init(pc);
			pc->id = c->id;
			pc->zone_id = c->zone_id;
			pc->comment = c->comment;
			pc->access_key_id = c->access_key_id;
			pc->submitted_ms = c->submitted_ms;
			pc->index = c->index;
			x.changes[i] = pc;
		}
	m.n_access_keys = s->keys.n;
	m.access_keys = x.keys;
	m.n_tags = s->tags.n;
	m.tags = x.tags;
	rv = command_flow_pb_fill(&s->zones, &flow);
	if (rv != 0)
		goto out;
	m.traffic_policies = flow.pol;
	m.n_traffic_policies = flow.npol;
	m.traffic_policy_instances = flow.inst;
	m.n_traffic_policy_instances = flow.ninst;
	if (flow.npol > 0 || flow.ninst > 0)
		m.format = SNAPSHOT_FORMAT_FLOW;
	for (size_t i = 0; i < s->tags.n; i++) {
		const struct tag_resource *r = &s->tags.v[i];
		Q53__Command__SnapshotTags *pt = &x.tag_items[i];

		q53__command__snapshot_tags__init(pt);
		pt->resource_type = r->type;
		pt->resource_id = r->id;
		pt->n_tags = r->n;
		pt->tags = &x.kvs[kv];
		for (size_t k = 0; k < r->n; k++, kv++) {
			q53__command__tag__init(&x.kv_items[kv]);
			x.kv_items[kv].key = r->tags[k].key;
			x.kv_items[kv].value = r->tags[k].value;
			x.kvs[kv] = &x.kv_items[kv];
		}
		x.tags[i] = pt;
	}
	if (!latency_table_empty(&s->latency)) {
		rv = latency_table_to_pb(&s->latency, &latency);
		if (rv != 0)
			goto out;
		m.latency = latency;
	}
	m.n_cidr_collections = s->cidrs.n;
	m.cidr_collections = x.cidrs;
	if (m.latency != NULL || m.n_cidr_collections > 0 ||
	    snap_sets_need_040(&m))
		m.format = SNAPSHOT_FORMAT_FLOW;
	for (size_t i = 0, l = 0, b = 0; i < s->cidrs.n; i++) {
		const struct cidr_collection *c = &s->cidrs.v[i];
		Q53__Command__SnapshotCidrCollection *pc = &x.cidr_items[i];

		q53__command__snapshot_cidr_collection__init(pc);
		pc->id = c->id;
		pc->name = c->name;
		pc->caller_reference = c->caller_reference;
		pc->version = c->version;
		pc->n_locations = c->n_locs;
		pc->locations = c->n_locs > 0 ? &x.cidr_locs[l] : NULL;
		for (size_t k = 0; k < c->n_locs; k++, l++) {
			Q53__Command__SnapshotCidrLocation *pl =
			    &x.cidr_loc_items[l];
			q53__command__snapshot_cidr_location__init(pl);
			pl->name = c->locs[k].name;
			pl->n_blocks = c->locs[k].n;
			pl->blocks = &x.cidr_blocks[b]; /* n > 0 */
			for (size_t j = 0; j < c->locs[k].n; j++, b++) {
				const struct cidr_block *cb =
				    &c->locs[k].blocks[j];
				Q53__Command__CidrBlock *pb =
				    &x.cidr_block_items[b];
				q53__command__cidr_block__init(pb);
				pb->address.data = (uint8_t *)cb->addr;
				pb->address.len = cb->family == 4 ? 4 : 16;
				pb->prefix_length = cb->len;
				x.cidr_blocks[b] = pb;
			}
			x.cidr_locs[l] = pl;
		}
		x.cidrs[i] = pc;
	}
	if (s->xfr.n > 0) {
		xfr_pb = calloc0(s->xfr.n, sizeof(*xfr_pb), &failed);
		for (size_t i = 0; !failed && i < s->xfr.n; i++)
			if (xfr_config_to_pb(s->xfr.v[i], &xfr_pb[i]) != 0)
				failed = true;
		if (failed) {
			rv = Q53_ENOMEM;
			goto out;
		}
		ext.zone_transfers = xfr_pb;
		ext.n_zone_transfers = s->xfr.n;
		m.ext = &ext;
	}
	/* The zones' stored limits (ext 1), read from the store itself on
	 * the loop (a capture packs this part there too). */
	size_t nlim = 0, nzs = zone_store_count(&s->zones);
	struct zone_store_info zi;
	for (size_t i = 0; i < nzs; i++)
		nlim += zone_store_get_at(&s->zones, i, &zi) == 0 &&
			zi.max_rrsets != 0;
	if (nlim > 0) {
		lim_items = calloc0(nlim, sizeof(*lim_items), &failed);
		lim_ptrs = calloc0(nlim, sizeof(*lim_ptrs), &failed);
		if (failed) {
			rv = Q53_ENOMEM;
			goto out;
		}
		size_t k = 0;
		for (size_t i = 0; i < nzs && k < nlim; i++) {
			if (zone_store_get_at(&s->zones, i, &zi) != 0 ||
			    zi.max_rrsets == 0)
				continue;
			q53__command__snapshot_zone_limit__init(&lim_items[k]);
			lim_items[k].zone_id = (char *)zi.id;
			lim_items[k].max_rrsets = zi.max_rrsets;
			lim_ptrs[k] = &lim_items[k];
			k++;
		}
		ext.zone_limits = lim_ptrs;
		ext.n_zone_limits = k;
		m.ext = &ext;
	}
	rv = query_log_table_to_pb(&s->qlog, &qlog_pb, &n_qlog_pb);
	if (rv != 0)
		goto out;
	if (n_qlog_pb > 0) {
		ext.query_logging = qlog_pb;
		ext.n_query_logging = n_qlog_pb;
		m.ext = &ext;
	}
	/* Features of 0.5.0 fill m.ext (FsmSnapshotExt) above this line. */
	if (m.ext != NULL)
		m.format = SNAPSHOT_FORMAT_EXT;
	*len = protobuf_c_message_get_packed_size(&m.base);
	*buf = raft_malloc(*len);
	if (*buf == NULL) {
		*len = 0;
		rv = Q53_ENOMEM;
		goto out;
	}
	protobuf_c_message_pack(&m.base, *buf);
out:
	for (size_t i = 0; xfr_pb != NULL && i < s->xfr.n; i++)
		xfr_config_pb_free(xfr_pb[i]);
	raft_free(xfr_pb);
	query_log_table_pb_free(qlog_pb, n_qlog_pb);
	latency_table_pb_free(latency);
	for (size_t i = 0; children != NULL && i < s->n_checks; i++)
		raft_free(children[i]);
	raft_free(children);
	raft_free(cfgs);
	raft_free(lim_items);
	raft_free(lim_ptrs);
	command_flow_pb_free(&flow);
	snap_zones_free(&zx);
	snap_arrays_free(&x);
	return rv;
}

/* The store's zones as snap_pack takes them (pointing into the store). */
static int snap_store_zones(const struct zone_store *st, struct snap_zone **out,
			    size_t *nz)
{
	bool failed = false;

	*nz = zone_store_count(st);
	*out = calloc0(*nz, sizeof(**out), &failed);
	if (failed)
		return Q53_ENOMEM;
	for (size_t i = 0; i < *nz; i++)
		if (zone_store_get_at(st, i, &(*out)[i].info) != 0)
			*nz = i;
	return 0;
}

static int fsm_snapshot(struct q53_fsm *base, uint8_t **buf, size_t *len)
{
	struct control_fsm *f = base->data;
	struct snap_zone *zones;
	size_t nz;
	int rv;

	*buf = NULL;
	*len = 0;
	rv = snap_store_zones(&f->s.zones, &zones, &nz);
	if (rv == 0)
		rv = snap_pack(&f->s, zones, nz, buf, len);
	raft_free(zones);
	return rv;
}

/* --- q53_fsm: snapshot in two steps (capture on the loop, encode on a
 * thread) ---
 *
 * The capture holds the zone store (zone_store_hold: the record sets it
 * drops from now on stay allocated and unchanged until the release) and
 * copies what changes in place or is freed: the rrsets array of every
 * zone (pointers), each zone's apex SOA (its serial is rewritten in place)
 * and zone-level strings, into an arena; the small parts of the state
 * (health checks, nodes, changes) are packed as an FsmSnapshot without
 * zones. The encoding, on any thread, unpacks that, adds the zones and
 * packs the whole: the same bytes snap_pack makes of the state at capture
 * time. Only the zone store's public API is used. */

#define CAP_CHUNK ((size_t)1 << 20)

struct cap_chunk {
	struct cap_chunk *next;
	size_t used;
	size_t size;
	max_align_t data[];
};

struct snap_capture {
	uint8_t *rest; /* FsmSnapshot of the state without its zones */
	size_t rest_len;
	struct snap_zone *zones; /* copies, pointing into the arena */
	size_t nzones;
	const struct zone_store_rrset **sets; /* every zone's, back to back */
	struct cap_chunk *chunks;	      /* the arena, newest first */
	struct zone_store *held;	      /* released with the capture */
};

static void *cap_alloc(struct snap_capture *c, size_t size)
{
	struct cap_chunk *k = c->chunks;
	void *p;

	size = (size + 7) & ~(size_t)7;
	if (k == NULL || k->size - k->used < size) {
		size_t room = size > CAP_CHUNK ? size : CAP_CHUNK;

		k = raft_malloc(sizeof(*k) + room);
		if (k == NULL)
			return NULL;
		k->next = c->chunks;
		k->used = 0;
		k->size = room;
		c->chunks = k;
	}
	p = (uint8_t *)k->data + k->used;
	k->used += size;
	return p;
}

static void *cap_dup(struct snap_capture *c, const void *p, size_t len,
		     bool *failed)
{
	void *d;

	if (p == NULL)
		return NULL;
	d = cap_alloc(c, len > 0 ? len : 1);
	if (d == NULL) {
		*failed = true;
		return NULL;
	}
	memcpy(d, p, len);
	return d;
}

static char *cap_str(struct snap_capture *c, const char *s, bool *failed)
{
	return s == NULL ? NULL : cap_dup(c, s, strlen(s) + 1, failed);
}

static void cap_free(struct snap_capture *c)
{
	struct cap_chunk *k, *next;

	if (c == NULL)
		return;
	if (c->held != NULL)
		zone_store_release(c->held);
	for (k = c->chunks; k != NULL; k = next) {
		next = k->next;
		raft_free(k);
	}
	raft_free(c->rest);
	raft_free(c->zones);
	raft_free(c->sets);
	raft_free(c);
}

static const struct zone_store_rrset *
cap_set(struct snap_capture *c, const struct zone_store_rrset *r, bool *failed)
{
	struct zone_store_rrset *d =
	    cap_alloc(c, sizeof(*d) + r->count * sizeof(d->rdata[0]));

	if (d == NULL) {
		*failed = true;
		return NULL;
	}
	memcpy(d, r, sizeof(*d));
	d->owner = cap_dup(c, r->owner, r->owner_len, failed);
	if (r->policy != NULL) {
		struct zone_store_policy *p =
		    cap_dup(c, r->policy, sizeof(*p), failed);
		if (p != NULL) {
			p->set_identifier =
			    cap_str(c, r->policy->set_identifier, failed);
			p->health_check_id =
			    cap_str(c, r->policy->health_check_id, failed);
			p->cidr_collection_id =
			    cap_str(c, r->policy->cidr_collection_id, failed);
			p->cidr_location =
			    cap_str(c, r->policy->cidr_location, failed);
		}
		d->policy = p;
	}
	for (uint16_t j = 0; j < r->count; j++) {
		d->rdata[j].len = r->rdata[j].len;
		d->rdata[j].data =
		    cap_dup(c, r->rdata[j].data, r->rdata[j].len, failed);
	}
	return d;
}

static int fsm_snapshot_capture(struct q53_fsm *base, void **out)
{
	struct control_fsm *f = base->data;
	const struct zone_store *st = &f->s.zones;
	struct snap_capture *c;
	struct zone_store_info info;
	size_t ns = 0;
	bool failed = false;
	int rv;

	*out = NULL;
	c = raft_calloc(1, sizeof(*c));
	if (c == NULL)
		return Q53_ENOMEM;
	rv = snap_pack(&f->s, NULL, 0, &c->rest, &c->rest_len);
	if (rv != 0)
		goto err;
	c->nzones = zone_store_count(st);
	for (size_t i = 0; i < c->nzones; i++)
		if (zone_store_get_at(st, i, &info) == 0)
			ns += info.nrrsets;
	c->zones = calloc0(c->nzones, sizeof(*c->zones), &failed);
	c->sets = calloc0(ns, sizeof(*c->sets), &failed);
	ns = 0;
	for (size_t i = 0; !failed && i < c->nzones; i++) {
		struct zone_store_info *z = &c->zones[i].info;

		if (zone_store_get_at(st, i, &info) != 0) {
			c->nzones = i;
			break;
		}
		z->id = cap_str(c, info.id, &failed);
		z->origin =
		    cap_dup(c, info.origin,
			    dname_wire_len(info.origin, DNAME_MAXLEN), &failed);
		z->comment = cap_str(c, info.comment, &failed);
		z->caller_reference =
		    cap_str(c, info.caller_reference, &failed);
		z->nrrsets = info.nrrsets;
		z->sets = NULL; /* read through flat */
		c->zones[i].flat = &c->sets[ns];
		if (info.nrrsets > 0)
			zone_store_info_copy_rrsets(&info, &c->sets[ns]);
		/* the apex SOA, the one set changed in place: among the apex
		 * sets, which come first (canonical order); no other set is
		 * read here */
		size_t olen = dname_wire_len(info.origin, DNAME_MAXLEN);
		for (size_t k = 0; !failed && k < info.nrrsets; k++) {
			const struct zone_store_rrset *r = c->sets[ns + k];

			if (r->owner_len != olen ||
			    memcmp(r->owner, info.origin, olen) != 0)
				break;
			if (r->type == RRTYPE_SOA &&
			    zone_store_rrset_set_id(r) == NULL)
				c->sets[ns + k] = cap_set(c, r, &failed);
		}
		ns += info.nrrsets;
	}
	if (failed) {
		rv = Q53_ENOMEM;
		goto err;
	}
	zone_store_hold(&f->s.zones);
	c->held = &f->s.zones;
	*out = c;
	return 0;
err:
	cap_free(c);
	return rv;
}

static int fsm_snapshot_encode(void *cap, uint8_t **buf, size_t *len)
{
	struct snap_capture *c = cap;
	struct command_pb_alloc alloc;
	Q53__Command__FsmSnapshot *m;
	struct snap_zones zx = {0};
	int rv;

	*buf = NULL;
	*len = 0;
	command_pb_alloc_init(&alloc);
	m = q53__command__fsm_snapshot__unpack(&alloc.base, c->rest_len,
					       c->rest);
	if (m == NULL)
		return Q53_ENOMEM; /* our own bytes: only allocation fails */
	rv = snap_zones_fill(c->zones, c->nzones, &zx);
	if (rv == 0) {
		m->zones = zx.zone_ptrs;
		m->n_zones = c->nzones;
		*len = protobuf_c_message_get_packed_size(&m->base);
		*buf = raft_malloc(*len);
		if (*buf == NULL) {
			*len = 0;
			rv = Q53_ENOMEM;
		} else {
			protobuf_c_message_pack(&m->base, *buf);
		}
		/* not the unpacked message's: free_unpacked must not see them
		 */
		m->zones = NULL;
		m->n_zones = 0;
	}
	snap_zones_free(&zx);
	q53__command__fsm_snapshot__free_unpacked(m, &alloc.base);
	return rv;
}

static void fsm_snapshot_release(struct q53_fsm *base, void *cap)
{
	struct control_fsm *f = base->data;
	struct snap_capture *c = cap;

	assert(c == NULL || c->held == &f->s.zones);
	(void)f;
	cap_free(c);
}

/* --- q53_fsm: restore --- */

/* Fills t from the message (untrusted). Q53_EMALF, Q53_ENOMEM or 0. */
static int restore_checks(struct state *t, const Q53__Command__FsmSnapshot *m)
{
	char err[ERR_MAX];
	int rv;

	if (m->n_health_checks == 0)
		return 0;
	t->checks = raft_calloc(m->n_health_checks, sizeof(*t->checks));
	if (t->checks == NULL)
		return Q53_ENOMEM;
	t->cap_checks = m->n_health_checks;
	for (size_t i = 0; i < m->n_health_checks; i++) {
		const Q53__Command__SnapshotHealthCheck *pc =
		    m->health_checks[i];
		struct check *c;

		if (!id_ok(pc->id) ||
		    strlen(pc->caller_reference) > CONTROL_FSM_CALLER_MAX ||
		    (i > 0 &&
		     strcmp(m->health_checks[i - 1]->id, pc->id) >= 0) ||
		    pc->version == 0 || pc->created_index == 0 ||
		    pc->transition_index < pc->created_index ||
		    pc->transition_index > m->applied ||
		    pc->basis > HEALTH_VOTE_CALCULATED)
			return Q53_EMALF;
		c = raft_calloc(1, sizeof(*c));
		if (c == NULL)
			return Q53_ENOMEM;
		t->checks[t->n_checks++] = c;
		c->id = rstrdup(pc->id);
		c->caller_reference = rstrdup(pc->caller_reference);
		if (c->id == NULL || c->caller_reference == NULL)
			return Q53_ENOMEM;
		err[0] = '\0';
		if (pc->config == NULL)
			return Q53_EMALF;
		rv = command_config_from_pb(pc->config, &c->cfg);
		if (rv == 0)
			rv = health_check_config_validate(&c->cfg, err,
							  sizeof(err));
		if (rv != 0)
			return rv == Q53_ENOMEM ? rv : Q53_EMALF;
		c->version = pc->version;
		c->created_index = pc->created_index;
		c->created_ms = pc->created_ms;
		c->healthy = pc->healthy;
		c->transition_index = pc->transition_index;
		c->transition_ms = pc->transition_ms;
		if (pc->n_votes > 0) {
			c->votes = raft_calloc(pc->n_votes, sizeof(*c->votes));
			c->reasons =
			    raft_calloc(pc->n_votes, sizeof(*c->reasons));
			if (c->votes == NULL || c->reasons == NULL)
				return Q53_ENOMEM;
			c->cap_votes = pc->n_votes;
		}
		for (size_t k = 0; k < pc->n_votes; k++) {
			const Q53__Command__SnapshotVote *pv = pc->votes[k];
			bool member;

			node_find(t, pv->member_id, &member);
			if (!member ||
			    (k > 0 &&
			     pc->votes[k - 1]->member_id >= pv->member_id) ||
			    pv->index > m->applied ||
			    strlen(pv->reason) > CONTROL_FSM_REASON_MAX ||
			    c->cfg.type == HEALTH_CHECK_CALCULATED)
				return Q53_EMALF;
			c->reasons[k] = rstrdup(pv->reason);
			if (c->reasons[k] == NULL)
				return Q53_ENOMEM;
			c->votes[k].member_id = pv->member_id;
			c->votes[k].healthy = pv->healthy;
			c->votes[k].log_index = pv->index;
			c->votes[k].time_ms = pv->time_ms;
			c->n_votes++;
		}
	}
	return 0;
}

static int restore_nodes(struct state *t, const Q53__Command__FsmSnapshot *m)
{
	if (m->n_nodes == 0)
		return 0;
	t->nodes = raft_calloc(m->n_nodes, sizeof(*t->nodes));
	t->node_ids = raft_calloc(m->n_nodes, sizeof(*t->node_ids));
	if (t->nodes == NULL || t->node_ids == NULL)
		return Q53_ENOMEM;
	t->cap_nodes = m->n_nodes;
	for (size_t i = 0; i < m->n_nodes; i++) {
		const Q53__Command__SnapshotNode *pn = m->nodes[i];
		struct node *n = &t->nodes[i];

		if (pn->node_id == 0 ||
		    (i > 0 && m->nodes[i - 1]->node_id >= pn->node_id) ||
		    pn->raft_address[0] == '\0' ||
		    !text_ok(pn->raft_address, CONTROL_FSM_ADDRESS_MAX) ||
		    !text_ok(pn->dns_address, CONTROL_FSM_ADDRESS_MAX) ||
		    !text_ok(pn->api_address, CONTROL_FSM_ADDRESS_MAX) ||
		    !text_ok(pn->name, CONTROL_FSM_NODE_NAME_MAX) ||
		    !text_ok(pn->geoip_path, CONTROL_FSM_ADDRESS_MAX) ||
		    !text_ok(pn->geoip_sha256, CONTROL_FSM_NODE_NAME_MAX) ||
		    (pn->site[0] != '\0' && !latency_name_valid(pn->site)) ||
		    (pn->site_region[0] != '\0' &&
		     !latency_name_valid(pn->site_region)) ||
		    pn->index > m->applied)
			return Q53_EMALF;
		t->node_ids[i] = pn->node_id;
		t->n_nodes++;
		n->raft_address = rstrdup(pn->raft_address);
		n->dns_address = rstrdup(pn->dns_address);
		n->api_address = rstrdup(pn->api_address);
		n->name = rstrdup(pn->name);
		n->geoip_path = rstrdup(pn->geoip_path);
		n->geoip_sha256 = rstrdup(pn->geoip_sha256);
		n->site = rstrdup(pn->site);
		n->site_region = rstrdup(pn->site_region);
		n->index = pn->index;
		n->time_ms = pn->time_ms;
		if (n->raft_address == NULL || n->dns_address == NULL ||
		    n->api_address == NULL || n->name == NULL ||
		    n->geoip_path == NULL || n->geoip_sha256 == NULL ||
		    n->site == NULL || n->site_region == NULL)
			return Q53_ENOMEM;
	}
	return 0;
}

/* The CIDR collections. */
static int restore_cidrs(struct state *t, const Q53__Command__FsmSnapshot *m)
{
	for (size_t i = 0; i < m->n_cidr_collections; i++) {
		const Q53__Command__SnapshotCidrCollection *pc =
		    m->cidr_collections[i];
		struct cidr_location *locs;
		size_t nb = 0;
		int rv = 0;

		if (pc->n_locations > CIDR_BLOCKS_MAX)
			return Q53_EMALF;
		for (size_t k = 0; k < pc->n_locations; k++) {
			nb += pc->locations[k]->n_blocks;
			if (nb > CIDR_BLOCKS_MAX)
				return Q53_EMALF;
		}
		locs = raft_calloc(pc->n_locations + 1, sizeof(*locs));
		struct cidr_block *bl = raft_calloc(nb + 1, sizeof(*bl));
		if (locs == NULL || bl == NULL) {
			raft_free(locs);
			raft_free(bl);
			return Q53_ENOMEM;
		}
		nb = 0;
		for (size_t k = 0; rv == 0 && k < pc->n_locations; k++) {
			const Q53__Command__SnapshotCidrLocation *pl =
			    pc->locations[k];
			locs[k].name = pl->name;
			locs[k].blocks = bl + nb;
			locs[k].n = pl->n_blocks;
			for (size_t j = 0; rv == 0 && j < pl->n_blocks; j++)
				rv = command_cidr_block_from_pb(pl->blocks[j],
								&bl[nb++]);
		}
		if (rv == 0)
			rv = cidr_table_load(&t->cidrs, pc->id, pc->name,
					     pc->caller_reference, pc->version,
					     locs, pc->n_locations);
		raft_free(locs);
		raft_free(bl);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* The tags, each on a resource that exists. */
static int restore_tags(struct state *t, const Q53__Command__FsmSnapshot *m)
{
	struct zone_store_info info;

	for (size_t i = 0; i < m->n_tags; i++) {
		const Q53__Command__SnapshotTags *pt = m->tags[i];
		struct command_tag kv[COMMAND_TAGS_MAX];
		int rv;

		if (pt->n_tags > COMMAND_TAGS_MAX)
			return Q53_EMALF;
		if (strcmp(pt->resource_type, TAG_TABLE_TYPE_ZONE) == 0
			? zone_store_get(&t->zones, pt->resource_id, &info) != 0
			: check_get(t, pt->resource_id) == NULL)
			return Q53_EMALF;
		for (size_t k = 0; k < pt->n_tags; k++) {
			kv[k].key = pt->tags[k]->key;
			kv[k].value = pt->tags[k]->value;
		}
		rv = tag_table_load(&t->tags, pt->resource_type,
				    pt->resource_id, kv, pt->n_tags);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* FsmSnapshotExt.zone_limits: each names a zone of the snapshot, once. */
static int restore_zone_limits(struct state *t,
			       const Q53__Command__FsmSnapshot *m)
{
	char err[ERR_MAX];

	if (m->ext == NULL)
		return 0; /* older data: no zone has a limit */
	for (size_t i = 0; i < m->ext->n_zone_limits; i++) {
		const Q53__Command__SnapshotZoneLimit *l =
		    m->ext->zone_limits[i];
		struct zone_store_info info;
		if (l->max_rrsets == 0 ||
		    zone_store_get(&t->zones, l->zone_id, &info) != 0 ||
		    info.max_rrsets != 0)
			return Q53_EMALF;
		int rv = zone_store_set_limit(&t->zones, l->zone_id,
					      l->max_rrsets, err, sizeof(err));
		if (rv != 0)
			return rv == Q53_ENOMEM ? rv : Q53_EMALF;
	}
	return 0;
}

static int age_cmp(const void *x, const void *y)
{
	return age_before(x, y) ? -1 : age_before(y, x) ? 1 : 0;
}

static int restore_changes(struct state *t, const Q53__Command__FsmSnapshot *m)
{
	size_t n_blocks;

	if (m->n_changes > CONTROL_FSM_CHANGES_MAX)
		return Q53_EMALF;
	if (m->n_changes == 0)
		return 0;
	n_blocks = (m->n_changes + CHANGE_BLOCK_FILL - 1) / CHANGE_BLOCK_FILL;
	t->blocks = raft_calloc(n_blocks, sizeof(*t->blocks));
	if (t->blocks == NULL)
		return Q53_ENOMEM;
	t->cap_blocks = n_blocks;
	for (size_t i = 0; i < m->n_changes; i++) {
		const Q53__Command__SnapshotChange *pc = m->changes[i];
		struct change_block *blk;
		struct change_rec *c;

		if (!id_ok(pc->id) ||
		    (i > 0 && strcmp(m->changes[i - 1]->id, pc->id) >= 0) ||
		    pc->index == 0 || pc->index > m->applied)
			return Q53_EMALF;
		if (i % CHANGE_BLOCK_FILL == 0) {
			blk = raft_malloc(sizeof(*blk));
			if (blk == NULL)
				return Q53_ENOMEM;
			blk->n = 0;
			t->blocks[t->n_blocks++] = blk;
		}
		blk = t->blocks[t->n_blocks - 1];
		c = &blk->rec[blk->n++];
		memset(c, 0, sizeof(*c));
		t->n_changes++;
		c->id = rstrdup(pc->id);
		c->zone_id = rstrdup(pc->zone_id);
		c->comment = rstrdup(pc->comment);
		c->access_key_id = rstrdup(pc->access_key_id);
		c->submitted_ms = pc->submitted_ms;
		c->index = pc->index;
		if (c->id == NULL || c->zone_id == NULL || c->comment == NULL ||
		    c->access_key_id == NULL)
			return Q53_ENOMEM;
	}
	t->age = raft_calloc(CONTROL_FSM_CHANGES_MAX, sizeof(*t->age));
	if (t->age == NULL)
		return Q53_ENOMEM;
	for (size_t b = 0, i = 0; b < t->n_blocks; b++)
		for (size_t k = 0; k < t->blocks[b]->n; k++, i++)
			t->age[i] = (struct change_age){
			    .id = t->blocks[b]->rec[k].id,
			    .index = t->blocks[b]->rec[k].index};
	qsort(t->age, t->n_changes, sizeof(*t->age), age_cmp);
	return 0;
}

/* The decided statuses must be what the rule decides from the votes: a
 * re-decision changes nothing in a consistent state. Stored transitions are
 * at index >= 1, so one stamped 0 here is a status the snapshot got wrong. */
static int restore_decisions(struct state *t,
			     const Q53__Command__FsmSnapshot *m)
{
	for (size_t i = 0; i < t->n_checks; i++) {
		const struct check *c = t->checks[i];

		for (size_t k = 0; k < c->cfg.n_children; k++)
			if (check_get(t, c->cfg.children[k]) == NULL)
				return Q53_EMALF;
		if (reaches(t, &c->cfg, c->id, 0))
			return Q53_EMALF;
	}
	redecide(NULL, t, NULL, 0, 0);
	for (size_t i = 0; i < t->n_checks; i++)
		if (t->checks[i]->transition_index == 0 ||
		    t->checks[i]->decision.basis != m->health_checks[i]->basis)
			return Q53_EMALF;
	return 0;
}

static int restore_zones(struct state *t, const Q53__Command__FsmSnapshot *m)
{
	char err[ERR_MAX];
	size_t maxs = 0, maxr = 0;
	int rv = 0;

	for (size_t i = 0; i < m->n_zones; i++) {
		if (m->zones[i]->n_sets > maxs)
			maxs = m->zones[i]->n_sets;
		for (size_t k = 0; k < m->zones[i]->n_sets; k++)
			maxr += m->zones[i]->sets[k]->n_rdata;
	}
	struct rrset_data *sets = raft_calloc(maxs + 1, sizeof(*sets));
	struct rrset_rdata *rd = raft_calloc(maxr + 1, sizeof(*rd));
	if (sets == NULL || rd == NULL) {
		rv = Q53_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m->n_zones && rv == 0; i++) {
		const Q53__Command__SnapshotZone *z = m->zones[i];
		size_t nr = 0;
		for (size_t k = 0; k < z->n_sets && rv == 0; k++) {
			rv = command_set_from_pb(z->sets[k], &sets[k], rd + nr);
			nr += z->sets[k]->n_rdata;
		}
		if (rv != 0)
			break;
		struct zone_store_load_params p = {
		    .id = z->id,
		    .origin = z->origin.data,
		    .origin_len = z->origin.len,
		    .comment = z->comment,
		    .caller_reference = z->caller_reference,
		};
		rv = zone_store_load(&t->zones, &p, sets, z->n_sets, err,
				     sizeof(err));
	}
	if (rv != 0 && rv != Q53_ENOMEM)
		rv = Q53_EMALF;
out:
	raft_free(sets);
	raft_free(rd);
	return rv;
}

/* Whether some node's site is in region (zone_store.site_region). */
static bool fsm_site_region(void *ctx, const char *region)
{
	const struct control_fsm *f = ctx;
	for (size_t i = 0; i < f->s.n_nodes; i++)
		if (strcmp(f->s.nodes[i].site_region, region) == 0)
			return true;
	return false;
}

/* The store's hooks into this FSM (after init and every restore). */
static void fsm_hooks(struct control_fsm *f)
{
	f->latency_in.table = &f->s.latency;
	f->latency_in.site = f->site[0] != '\0' ? f->site : NULL;
	f->latency_in.region =
	    f->site_region[0] != '\0' ? f->site_region : NULL;
	f->s.zones.site_region = fsm_site_region;
	f->s.zones.site_region_ctx = f;
	f->s.zones.latency = &f->latency_in;
	zone_store_set_cidr(&f->s.zones, cidr_lookup, f);
}

/* FsmSnapshotExt.zone_transfers (none in an older snapshot). */
static int restore_xfr(struct state *t, const Q53__Command__FsmSnapshot *m)
{
	char err[ERR_MAX];

	if (m->ext == NULL)
		return 0;
	for (size_t i = 0; i < m->ext->n_zone_transfers; i++) {
		struct xfr_config c;
		int rv = xfr_config_from_pb(m->ext->zone_transfers[i], &c, err,
					    sizeof(err));
		if (rv == 0 &&
		    zone_store_get(&t->zones, c.zone_id,
				   &(struct zone_store_info){0}) != 0)
			rv = Q53_EMALF;
		if (rv == 0)
			rv = xfr_table_set(&t->xfr, &c, err, sizeof(err));
		if (rv != 0)
			return rv == Q53_ENOMEM ? rv : Q53_EMALF;
	}
	return 0;
}

static int fsm_restore(struct q53_fsm *base, const uint8_t *buf, size_t len)
{
	struct control_fsm *f = base->data;
	struct command_pb_alloc alloc;
	Q53__Command__FsmSnapshot *m;
	struct state t;
	int rv;

	command_pb_alloc_init(&alloc);
	m = q53__command__fsm_snapshot__unpack(&alloc.base, len,
					       len > 0 ? buf : NULL);
	if (m == NULL)
		return alloc.failed ? Q53_ENOMEM : Q53_EMALF;
	state_init(&t);
	if (m->format < SNAPSHOT_FORMAT_MIN ||
	    m->format > SNAPSHOT_FORMAT_MAX || m->end != SNAPSHOT_END) {
		rv = Q53_EMALF;
		goto out;
	}
	t.applied = m->applied;
	rv = m->zone_store.len == 0 ? restore_zones(&t, m) : Q53_EMALF;
	if (rv == 0)
		rv = restore_nodes(&t, m);
	if (rv == 0)
		rv = restore_checks(&t, m);
	if (rv == 0)
		rv = restore_changes(&t, m);
	if (rv == 0)
		rv = access_keys_restore(&t.keys, m->access_keys,
					 m->n_access_keys, m->applied);
	if (rv == 0)
		rv = restore_decisions(&t, m);
	if (rv == 0)
		rv = restore_tags(&t, m);
	if (rv == 0)
		rv = restore_zone_limits(&t, m);
	if (rv == 0) {
		latency_table_free(&t.latency);
		rv = latency_table_from_pb(m->latency, &t.latency);
	}
	if (rv == 0)
		rv = restore_cidrs(&t, m);
	if (rv == 0 && m->ext != NULL)
		rv = query_log_table_from_pb(&t.qlog, m->ext->query_logging,
					     m->ext->n_query_logging);
	if (rv == 0)
		rv = command_flow_restore(
		    &t.zones, m->traffic_policies, m->n_traffic_policies,
		    m->traffic_policy_instances, m->n_traffic_policy_instances);
	if (rv == 0)
		rv = restore_xfr(&t, m);
	if (rv == 0)
		rv = refs_rebuild(&t);
	if (rv != 0)
		goto out;
	state_free(&f->s);
	f->s = t;
	state_init(&t);
	fsm_hooks(f);
	f->dirty_all = true;
	f->dirty_health = true;
	for (size_t i = 0; i < f->n_dirty; i++)
		raft_free(f->dirty[i]);
	f->n_dirty = 0;
out:
	state_free(&t);
	q53__command__fsm_snapshot__free_unpacked(m, &alloc.base);
	return rv;
}

/* --- lifecycle and queries --- */

const struct query_log_table *
control_fsm_query_logging(const struct control_fsm *f)
{
	return &f->s.qlog;
}

int control_fsm_new(struct control_fsm **out)
{
	struct control_fsm *f = raft_calloc(1, sizeof(*f));

	*out = NULL;
	if (f == NULL)
		return Q53_ENOMEM;
	state_init(&f->s);
	fsm_hooks(f);
	f->base.data = f;
	f->base.apply = fsm_apply;
	f->base.apply_decoded = fsm_apply_decoded;
	f->base.snapshot = fsm_snapshot;
	f->base.restore = fsm_restore;
	f->base.snapshot_capture = fsm_snapshot_capture;
	f->base.snapshot_encode = fsm_snapshot_encode;
	f->base.snapshot_release = fsm_snapshot_release;
	f->dirty_all = true;
	*out = f;
	return 0;
}

void control_fsm_free(struct control_fsm *f)
{
	if (f == NULL)
		return;
	state_free(&f->s);
	for (size_t i = 0; i < f->n_dirty; i++)
		raft_free(f->dirty[i]);
	raft_free(f->dirty);
	raft_free(f->transitions);
	raft_free(f);
}

struct q53_fsm *control_fsm_base(struct control_fsm *f)
{
	return &f->base;
}

uint64_t control_fsm_applied(const struct control_fsm *f)
{
	return f->s.applied;
}

void control_fsm_take_dirty(struct control_fsm *f,
			    struct control_fsm_dirty *out)
{
	/* Aliases answer with other zones' data: any change may move
	 * them, so a zone holding one is rebuilt with every other. */
	if (!f->dirty_all && f->n_dirty > 0) {
		struct zone_store_info info;
		for (size_t z = 0;
		     zone_store_get_at(&f->s.zones, z, &info) == 0; z++) {
			if (zone_store_alias_count(&f->s.zones, z) > 0)
				dirty_add(f, info.id);
		}
	}
	/* Latency groups answer by the latency table. */
	if (f->dirty_latency && !f->dirty_all) {
		struct zone_store_info info;
		for (size_t z = 0;
		     zone_store_get_at(&f->s.zones, z, &info) == 0; z++) {
			if (zone_store_latency_count(&f->s.zones, z) > 0)
				dirty_add(f, info.id);
		}
	}
	f->dirty_latency = false;
	out->all = f->dirty_all;
	out->health = f->dirty_health;
	out->zone_ids = f->dirty;
	out->n_zone_ids = f->n_dirty;
	f->dirty = NULL;
	f->n_dirty = 0;
	f->cap_dirty = 0;
	f->dirty_all = false;
	f->dirty_health = false;
}

void control_fsm_take_transitions(struct control_fsm *f,
				  struct control_fsm_transitions *out)
{
	out->items = f->transitions;
	out->n = f->n_transitions;
	out->dropped = f->transitions_dropped;
	f->transitions = NULL;
	f->n_transitions = 0;
	f->cap_transitions = 0;
	f->transitions_dropped = 0;
}

void control_fsm_transitions_clear(struct control_fsm_transitions *t)
{
	raft_free(t->items);
	memset(t, 0, sizeof(*t));
}

void control_fsm_dirty_clear(struct control_fsm_dirty *d)
{
	for (size_t i = 0; i < d->n_zone_ids; i++)
		raft_free(d->zone_ids[i]);
	raft_free(d->zone_ids);
	memset(d, 0, sizeof(*d));
}

const struct zone_store *control_fsm_zone_store(const struct control_fsm *f)
{
	return &f->s.zones;
}

bool control_fsm_health_lookup(void *fsm, const char *check_id)
{
	const struct control_fsm *f = fsm;
	const struct check *c = check_get(&f->s, check_id);

	return c == NULL || c->healthy;
}

int control_fsm_build_zone(const struct control_fsm *f, const char *zone_id,
			   struct zone **out, char *err, size_t errlen)
{
	return zone_store_build_with_health(&f->s.zones, zone_id,
					    control_fsm_health_lookup,
					    (void *)f, out, err, errlen);
}

size_t control_fsm_zones_using(const struct control_fsm *f,
			       const char *check_id, const char **zone_ids,
			       size_t max)
{
	const struct state *s = &f->s;
	const struct check *c = check_get(s, check_id);
	size_t n = 0;

	if (c == NULL)
		return 0;
	for (size_t k = refs_lower(s, c, "");
	     k < s->n_refs && s->refs[k].check == c; k++, n++)
		if (n < max)
			zone_ids[n] = s->refs[k].zone_id;
	return n;
}

size_t control_fsm_change_count(const struct control_fsm *f)
{
	return f->s.n_changes;
}

/* *out reads c (NULL: none). */
static int change_out(const struct change_rec *c,
		      struct control_fsm_change *out)
{
	if (c == NULL)
		return Q53_ENOENT;
	out->id = c->id;
	out->zone_id = c->zone_id;
	out->comment = c->comment;
	out->access_key_id = c->access_key_id;
	out->submitted_ms = c->submitted_ms;
	out->index = c->index;
	return 0;
}

int control_fsm_change_at(const struct control_fsm *f, size_t i,
			  struct control_fsm_change *out)
{
	for (size_t b = 0; b < f->s.n_blocks; b++) {
		if (i < f->s.blocks[b]->n)
			return change_out(&f->s.blocks[b]->rec[i], out);
		i -= f->s.blocks[b]->n;
	}
	return Q53_ENOENT;
}

int control_fsm_change_get(const struct control_fsm *f, const char *id,
			   struct control_fsm_change *out)
{
	return change_out(change_find(&f->s, id), out);
}

size_t control_fsm_health_check_count(const struct control_fsm *f)
{
	return f->s.n_checks;
}

int control_fsm_health_check_at(const struct control_fsm *f, size_t i,
				struct control_fsm_health_check *out)
{
	const struct check *c;

	if (i >= f->s.n_checks)
		return Q53_ENOENT;
	c = f->s.checks[i];
	out->id = c->id;
	out->caller_reference = c->caller_reference;
	out->config = &c->cfg;
	out->version = c->version;
	out->created_index = c->created_index;
	out->created_ms = c->created_ms;
	out->healthy = c->healthy;
	out->transition_index = c->transition_index;
	out->transition_ms = c->transition_ms;
	out->decision = c->decision;
	out->votes = c->votes;
	out->reasons = (const char *const *)c->reasons;
	out->n_votes = c->n_votes;
	return 0;
}

int control_fsm_health_check_get(const struct control_fsm *f, const char *id,
				 struct control_fsm_health_check *out)
{
	bool found;
	size_t pos = check_find(&f->s, id, &found);

	return found ? control_fsm_health_check_at(f, pos, out) : Q53_ENOENT;
}

size_t control_fsm_node_count(const struct control_fsm *f)
{
	return f->s.n_nodes;
}

int control_fsm_node_at(const struct control_fsm *f, size_t i,
			struct control_fsm_node *out)
{
	const struct node *n;

	if (i >= f->s.n_nodes)
		return Q53_ENOENT;
	n = &f->s.nodes[i];
	out->id = f->s.node_ids[i];
	out->raft_address = n->raft_address;
	out->dns_address = n->dns_address;
	out->api_address = n->api_address;
	out->name = n->name;
	out->geoip_path = n->geoip_path;
	out->geoip_sha256 = n->geoip_sha256;
	out->site = n->site;
	out->site_region = n->site_region;
	out->index = n->index;
	out->time_ms = n->time_ms;
	return 0;
}

int control_fsm_node_get(const struct control_fsm *f, uint64_t id,
			 struct control_fsm_node *out)
{
	bool found;
	size_t pos = node_find(&f->s, id, &found);

	return found ? control_fsm_node_at(f, pos, out) : Q53_ENOENT;
}

size_t control_fsm_access_key_count(const struct control_fsm *f)
{
	return f->s.keys.n;
}

static void access_key_out(const struct access_key *k,
			   struct control_fsm_access_key *out)
{
	out->id = k->id;
	out->secret = k->secret;
	out->description = k->description;
	out->policy_document = k->policy_document;
	out->policy = k->policy;
	out->created_ms = k->created_ms;
	out->created_index = k->created_index;
}

int control_fsm_access_key_at(const struct control_fsm *f, size_t i,
			      struct control_fsm_access_key *out)
{
	if (i >= f->s.keys.n)
		return Q53_ENOENT;
	access_key_out(&f->s.keys.v[i], out);
	return 0;
}

int control_fsm_access_key_get(const struct control_fsm *f, const char *id,
			       struct control_fsm_access_key *out)
{
	const struct access_key *k = access_keys_find(&f->s.keys, id);

	if (k == NULL)
		return Q53_ENOENT;
	access_key_out(k, out);
	return 0;
}

const struct tag_resource *control_fsm_tags(const struct control_fsm *f,
					    const char *type, const char *id)
{
	return tag_table_get(&f->s.tags, type, id);
}

void control_fsm_set_site(struct control_fsm *f, const char *site,
			  const char *region)
{
	snprintf(f->site, sizeof(f->site), "%s",
		 site != NULL && latency_name_valid(site) ? site : "");
	snprintf(f->site_region, sizeof(f->site_region), "%s",
		 region != NULL && latency_name_valid(region) ? region : "");
	fsm_hooks(f);
	f->dirty_latency = true;
}

const struct latency_table *control_fsm_latency(const struct control_fsm *f)
{
	return &f->s.latency;
}

const struct xfr_table *control_fsm_xfr(const struct control_fsm *f)
{
	return &f->s.xfr;
}

const char *control_fsm_site(const struct control_fsm *f, const char **region)
{
	*region = f->site_region;
	return f->site;
}

const struct cidr_table *control_fsm_cidrs(const struct control_fsm *f)
{
	return &f->s.cidrs;
}
