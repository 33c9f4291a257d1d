#include "node/control/dyn_update.h"

#include <stdio.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"

#define CLASS_IN   1
#define CLASS_NONE 254
#define CLASS_ANY  255
#define TYPE_SOA   6
#define TYPE_NS	   2
#define TYPE_ANY   255

/* A record set the update touches: its records as they become. */
struct entry {
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	const struct zone_store_rrset *orig; /* NULL: new */
	struct rrset_rdata *rd;		     /* into the plan's pool */
	size_t n, cap;
};

struct work {
	const struct zone_store_rrset **sets;
	size_t nsets;
	struct entry *e;
	size_t ne, cape;
	struct rrset_rdata *pool; /* every entry's rdata, cap each */
	size_t npool, cappool;
};

static bool same_name(const uint8_t *a, size_t alen, const uint8_t *b,
		      size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static bool in_zone(const struct zone_store_info *info, const uint8_t *o,
		    size_t len)
{
	size_t zl = dname_wire_len(info->origin, 255), off = 0;

	if (len < zl || dname_wire_len(o, len) != len)
		return false;
	while (off < len - zl)
		off += 1 + (size_t)o[off];
	return off == len - zl && memcmp(o + off, info->origin, zl) == 0;
}

static bool apex(const struct zone_store_info *info, const uint8_t *o,
		 size_t len)
{
	return same_name(o, len, info->origin,
			 dname_wire_len(info->origin, 255));
}

/* Whether any set (or an entry still holding records) is at owner. */
static bool name_in_use(const struct work *w, const uint8_t *o, size_t len)
{
	for (size_t i = 0; i < w->nsets; i++)
		if (same_name(w->sets[i]->owner, w->sets[i]->owner_len, o, len))
			return true;
	return false;
}

/* The simple set (owner, type), NULL: none. *routing: a routing set is
 * there. */
static const struct zone_store_rrset *find_set(const struct work *w,
					       const uint8_t *o, size_t len,
					       uint16_t type, bool *routing)
{
	const struct zone_store_rrset *found = NULL;

	*routing = false;
	for (size_t i = 0; i < w->nsets; i++) {
		const struct zone_store_rrset *s = w->sets[i];
		if (s->type != type ||
		    !same_name(s->owner, s->owner_len, o, len))
			continue;
		if (zone_store_rrset_set_id(s) != NULL ||
		    (zone_store_rrset_routing(s) & ZONE_STORE_ALIAS))
			*routing = true;
		else
			found = s;
	}
	return found;
}

static int entry_of(struct work *w, const uint8_t *o, size_t len, uint16_t type,
		    struct entry **out, char *err, size_t errlen)
{
	const struct zone_store_rrset *s;
	struct entry *e;
	bool routing;

	for (size_t i = 0; i < w->ne; i++)
		if (w->e[i].type == type &&
		    same_name(w->e[i].owner, w->e[i].owner_len, o, len)) {
			*out = &w->e[i];
			return 0;
		}
	s = find_set(w, o, len, type, &routing);
	if (routing) {
		snprintf(err, errlen,
			 "a name's routing record sets (SetIdentifier, "
			 "alias) change through the API only");
		return DYN_RCODE_REFUSED;
	}
	if (w->ne == w->cape) {
		size_t cap = w->cape < 8 ? 8 : w->cape * 2;
		struct entry *v = raft_realloc(w->e, cap * sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		w->e = v;
		w->cape = cap;
	}
	e = &w->e[w->ne++];
	memset(e, 0, sizeof(*e));
	e->owner = o;
	e->owner_len = len;
	e->type = type;
	e->orig = s;
	if (s != NULL) {
		e->owner = s->owner;
		e->ttl = s->ttl;
		e->cap = s->count;
		e->rd = raft_calloc(e->cap + 1, sizeof(*e->rd));
		if (e->rd == NULL)
			return Q53_ENOMEM;
		for (uint16_t k = 0; k < s->count; k++) {
			e->rd[k].data = s->rdata[k].data;
			e->rd[k].len = s->rdata[k].len;
		}
		e->n = s->count;
	}
	*out = e;
	return 0;
}

static int entry_add(struct entry *e, const uint8_t *rd, size_t len)
{
	for (size_t k = 0; k < e->n; k++)
		if (e->rd[k].len == len && memcmp(e->rd[k].data, rd, len) == 0)
			return 0;
	if (e->n == e->cap) {
		size_t cap = e->cap < 4 ? 4 : e->cap * 2;
		struct rrset_rdata *v =
		    raft_realloc(e->rd, (cap + 1) * sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		e->rd = v;
		e->cap = cap;
	}
	e->rd[e->n].data = rd;
	e->rd[e->n].len = len;
	e->n++;
	return 0;
}

static void entry_del(struct entry *e, const uint8_t *rd, size_t len)
{
	for (size_t k = 0; k < e->n; k++)
		if (e->rd[k].len == len &&
		    memcmp(e->rd[k].data, rd, len) == 0) {
			e->rd[k] = e->rd[--e->n];
			return;
		}
}

/* Section 3.2: 0 or the rcode. */
static int check_prereqs(struct work *w, const struct zone_store_info *info,
			 const struct command_dynamic_update *u, char *err,
			 size_t errlen)
{
	for (size_t i = 0; i < u->n_prereqs; i++) {
		const struct command_dyn_rr *p = &u->prereqs[i];
		const struct zone_store_rrset *s;
		bool routing;

		if (!in_zone(info, p->owner, p->owner_len)) {
			snprintf(err, errlen,
				 "prerequisite %zu: outside the "
				 "zone",
				 i + 1);
			return DYN_RCODE_NOTZONE;
		}
		if (p->ttl != 0) {
			snprintf(err, errlen, "prerequisite %zu: TTL not 0",
				 i + 1);
			return DYN_RCODE_FORMERR;
		}
		if (p->rclass == CLASS_ANY || p->rclass == CLASS_NONE) {
			bool want = p->rclass == CLASS_ANY;
			bool have;
			if (p->rdlen != 0) {
				snprintf(err, errlen,
					 "prerequisite %zu: RDATA with class "
					 "ANY or NONE",
					 i + 1);
				return DYN_RCODE_FORMERR;
			}
			if (p->type == TYPE_ANY)
				have = name_in_use(w, p->owner, p->owner_len);
			else {
				s = find_set(w, p->owner, p->owner_len, p->type,
					     &routing);
				have = s != NULL || routing;
			}
			if (have == want)
				continue;
			snprintf(err, errlen, "prerequisite %zu: %s", i + 1,
				 p->type == TYPE_ANY
				     ? (want ? "the name is not in use"
					     : "the name is in use")
				     : (want ? "the record set does not exist"
					     : "the record set exists"));
			return p->type == TYPE_ANY ? (want ? DYN_RCODE_NXDOMAIN
							   : DYN_RCODE_YXDOMAIN)
						   : (want ? DYN_RCODE_NXRRSET
							   : DYN_RCODE_YXRRSET);
		}
		if (p->rclass != CLASS_IN || p->type == TYPE_ANY) {
			snprintf(err, errlen, "prerequisite %zu: bad class",
				 i + 1);
			return DYN_RCODE_FORMERR;
		}
		/* Value dependent: the set holds exactly the records given
		 * (all of this (name, type)'s prerequisites together). */
		bool first = true;
		for (size_t k = 0; k < i; k++)
			if (u->prereqs[k].rclass == CLASS_IN &&
			    u->prereqs[k].type == p->type &&
			    same_name(u->prereqs[k].owner,
				      u->prereqs[k].owner_len, p->owner,
				      p->owner_len))
				first = false;
		if (!first)
			continue;
		s = find_set(w, p->owner, p->owner_len, p->type, &routing);
		size_t given = 0;
		bool all = s != NULL;
		for (size_t k = i; all && k < u->n_prereqs; k++) {
			const struct command_dyn_rr *q = &u->prereqs[k];
			if (q->rclass != CLASS_IN || q->type != p->type ||
			    !same_name(q->owner, q->owner_len, p->owner,
				       p->owner_len))
				continue;
			bool dup = false;
			for (size_t j = i; j < k; j++)
				if (u->prereqs[j].rclass == CLASS_IN &&
				    u->prereqs[j].type == q->type &&
				    same_name(u->prereqs[j].owner,
					      u->prereqs[j].owner_len, q->owner,
					      q->owner_len) &&
				    u->prereqs[j].rdlen == q->rdlen &&
				    memcmp(u->prereqs[j].rdata, q->rdata,
					   q->rdlen) == 0)
					dup = true;
			if (dup)
				continue;
			given++;
			bool there = false;
			for (uint16_t r = 0; r < s->count; r++)
				if (s->rdata[r].len == q->rdlen &&
				    memcmp(s->rdata[r].data, q->rdata,
					   q->rdlen) == 0)
					there = true;
			all = there;
		}
		if (!all || given != s->count) {
			snprintf(err, errlen,
				 "prerequisite %zu: the record set is not "
				 "exactly the records given",
				 i + 1);
			return DYN_RCODE_NXRRSET;
		}
	}
	return 0;
}

static bool meta_type(uint16_t t)
{
	return t == 0 || (t >= 128 && t <= 255);
}

int dyn_update_plan(const struct zone_store_info *info,
		    const struct command_dynamic_update *u,
		    struct dyn_update_plan *out, char *err, size_t errlen)
{
	struct work w = {0};
	struct entry *e;
	int rv;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	w.nsets = info->nrrsets;
	w.sets = raft_calloc(w.nsets + 1, sizeof(*w.sets));
	if (w.sets == NULL)
		return Q53_ENOMEM;
	zone_store_info_copy_rrsets(info, w.sets);
	rv = check_prereqs(&w, info, u, err, errlen);
	if (rv != 0)
		goto out;
	/* Section 3.4.1: every update checked before any is done. */
	for (size_t i = 0; i < u->n_updates; i++) {
		const struct command_dyn_rr *p = &u->updates[i];
		if (!in_zone(info, p->owner, p->owner_len)) {
			snprintf(err, errlen, "update %zu: outside the zone",
				 i + 1);
			rv = DYN_RCODE_NOTZONE;
			goto out;
		}
		bool ok = p->rclass == CLASS_IN ? !meta_type(p->type)
			  : p->rclass == CLASS_ANY
			      ? p->ttl == 0 && p->rdlen == 0 &&
				    (!meta_type(p->type) || p->type == TYPE_ANY)
			  : p->rclass == CLASS_NONE
			      ? p->ttl == 0 && !meta_type(p->type)
			      : false;
		if (!ok) {
			snprintf(err, errlen,
				 "update %zu: bad class, type, "
				 "TTL or RDATA",
				 i + 1);
			rv = DYN_RCODE_FORMERR;
			goto out;
		}
	}
	for (size_t i = 0; i < u->n_updates; i++) {
		const struct command_dyn_rr *p = &u->updates[i];
		bool at_apex = apex(info, p->owner, p->owner_len);
		if (p->type == TYPE_SOA && at_apex)
			continue; /* the store keeps the SOA */
		if (p->rclass == CLASS_ANY && p->type == TYPE_ANY) {
			/* Every set at the name (the apex keeps SOA, NS). */
			for (size_t k = 0; k < w.nsets; k++) {
				const struct zone_store_rrset *s = w.sets[k];
				if (!same_name(s->owner, s->owner_len, p->owner,
					       p->owner_len) ||
				    (at_apex && (s->type == TYPE_SOA ||
						 s->type == TYPE_NS)))
					continue;
				rv = entry_of(&w, p->owner, p->owner_len,
					      s->type, &e, err, errlen);
				if (rv != 0)
					goto out;
				e->n = 0;
			}
			for (size_t k = 0; k < w.ne; k++)
				if (same_name(w.e[k].owner, w.e[k].owner_len,
					      p->owner, p->owner_len) &&
				    !(at_apex && (w.e[k].type == TYPE_SOA ||
						  w.e[k].type == TYPE_NS)))
					w.e[k].n = 0;
			continue;
		}
		if (at_apex && p->type == TYPE_NS && p->rclass != CLASS_IN)
			continue; /* the apex NS stays (3.4.2.4) */
		rv = entry_of(&w, p->owner, p->owner_len, p->type, &e, err,
			      errlen);
		if (rv != 0)
			goto out;
		if (p->rclass == CLASS_ANY)
			e->n = 0;
		else if (p->rclass == CLASS_NONE)
			entry_del(e, p->rdata, p->rdlen);
		else {
			if (e->n == 0 || e->ttl != p->ttl)
				e->ttl = p->ttl;
			rv = entry_add(e, p->rdata, p->rdlen);
			if (rv != 0)
				goto out;
		}
	}
	/* The batch: a DELETE of what was there for a set left empty, an
	 * UPSERT of every other touched set that changed. */
	out->changes = raft_calloc(w.ne + 1, sizeof(*out->changes));
	if (out->changes == NULL) {
		rv = Q53_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < w.ne; k++) {
		struct entry *x = &w.e[k];
		struct rrset_change *c = &out->changes[out->n];
		if (x->n == 0 && x->orig == NULL)
			continue;
		if (x->orig != NULL && x->n == x->orig->count &&
		    x->ttl == x->orig->ttl) {
			bool same = true;
			for (size_t r = 0; r < x->n; r++)
				if (x->rd[r].data != x->orig->rdata[r].data)
					same = false;
			if (same)
				continue;
		}
		memset(c, 0, sizeof(*c));
		c->set.owner = x->owner;
		c->set.owner_len = x->owner_len;
		c->set.type = x->type;
		if (x->n == 0) {
			c->action = CHANGE_DELETE;
			c->set.ttl = x->orig->ttl;
			for (uint16_t r = 0; r < x->orig->count; r++) {
				x->rd[r].data = x->orig->rdata[r].data;
				x->rd[r].len = x->orig->rdata[r].len;
			}
			c->set.rdata = x->rd;
			c->set.nrdata = x->orig->count;
		} else {
			c->action = CHANGE_UPSERT;
			c->set.ttl = x->ttl;
			c->set.rdata = x->rd;
			c->set.nrdata = x->n;
		}
		out->n++;
	}
	/* The entries' rdata arrays now belong to the plan. */
	out->mem = w.e;
	w.e = NULL;
	out->changes[out->n].set.nrdata = w.ne; /* entries to free */
	rv = 0;
out:
	if (w.e != NULL) {
		for (size_t k = 0; k < w.ne; k++)
			raft_free(w.e[k].rd);
		raft_free(w.e);
	}
	raft_free(w.sets);
	if (rv != 0)
		dyn_update_plan_free(out);
	return rv;
}

void dyn_update_plan_free(struct dyn_update_plan *p)
{
	struct entry *e = p->mem;

	if (e != NULL) {
		size_t ne = p->changes[p->n].set.nrdata;
		for (size_t k = 0; k < ne; k++)
			raft_free(e[k].rd);
		raft_free(e);
	}
	raft_free(p->changes);
	memset(p, 0, sizeof(*p));
}

static const char *const RCODES[] = {
    [DYN_RCODE_FORMERR] = "FORMERR",   [DYN_RCODE_SERVFAIL] = "SERVFAIL",
    [DYN_RCODE_NXDOMAIN] = "NXDOMAIN", [DYN_RCODE_REFUSED] = "REFUSED",
    [DYN_RCODE_YXDOMAIN] = "YXDOMAIN", [DYN_RCODE_YXRRSET] = "YXRRSET",
    [DYN_RCODE_NXRRSET] = "NXRRSET",   [DYN_RCODE_NOTZONE] = "NOTZONE",
};

const char *dyn_rcode_name(int rcode)
{
	if (rcode > 0 && (size_t)rcode < sizeof(RCODES) / sizeof(RCODES[0]) &&
	    RCODES[rcode] != NULL)
		return RCODES[rcode];
	return "REFUSED";
}

int dyn_rcode_of(const char *name)
{
	for (size_t i = 0;
	     name != NULL && i < sizeof(RCODES) / sizeof(RCODES[0]); i++)
		if (RCODES[i] != NULL && strcmp(RCODES[i], name) == 0)
			return (int)i;
	return DYN_RCODE_REFUSED;
}
