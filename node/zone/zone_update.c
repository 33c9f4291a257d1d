/* Incremental builds: the next version of a compiled zone rebuilds the
 * names a change touched and what depends on them, and shares every other
 * node with the previous version through the copy-on-write name index.
 *
 * Which names are rebuilt (the worklist, each name once):
 * - the changed owners, the apex (its SOA serial) and the previous
 *   version's volatile names (answers carrying the SOA, following other
 *   names: CNAME chains and additional-section targets, or health);
 * - the ancestors of a changed owner whose existence (as a name or an
 *   empty non-terminal) changed;
 * - for a "*" name, its parent (which points at its wildcard child);
 * - for a delegation (before or after), every name below it (they carry
 *   its referral).
 * A rebuilt node is a fresh copy: every pointer a shared node holds (its
 * cut, its wildcard) names a node that is shared too, since replacing
 * either rebuilds it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rrtype.h"
#include "node/zone/compile.h"
#include "node/zone/name_index.h"
#include "node/zone/name_table.h"
#include "node/zone/node.h"
#include "node/zone/zone.h"
#include "node/zone/zone_impl.h"

struct zone_update {
	struct zone *z;
	const struct zone *prev;
	struct zone_loader l;
	char label[DNAME_MAXLEN * 4 + 1];
	struct name_table seen; /* names in work */
	uint8_t **work;
	size_t nwork, cap;
	bool nomem;
};

static void enqueue(struct zone_update *u, const uint8_t *name, size_t len)
{
	if (u->nomem ||
	    name_table_get(&u->seen, name, len, dname_hash(name, len)) != NULL)
		return;
	if (u->nwork == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 64;
		uint8_t **w = realloc(u->work, cap * sizeof(*w));
		if (w == NULL) {
			u->nomem = true;
			return;
		}
		u->work = w;
		u->cap = cap;
	}
	uint8_t *copy = malloc(len);
	if (copy == NULL) {
		u->nomem = true;
		return;
	}
	memcpy(copy, name, len);
	if (name_table_put(&u->seen, copy, len, copy, NULL) != 0) {
		free(copy);
		u->nomem = true;
		return;
	}
	u->work[u->nwork++] = copy;
}

static size_t wlen(const uint8_t *name)
{
	return dname_wire_len(name, DNAME_MAXLEN);
}

static bool in_zone(const struct zone *z, const uint8_t *name, size_t len)
{
	return len > 0 && dname_is_sub(name, len, z->origin, z->origin_len);
}

struct below_ctx {
	struct zone_update *u;
	size_t top_len; /* the delegation's name length */
};

/* An owner below a delegation, and the names between it and the cut. */
static int below_cb(void *arg, const uint8_t *owner, size_t len)
{
	struct below_ctx *c = arg;
	while (len > c->top_len) {
		enqueue(c->u, owner, len);
		len -= 1u + owner[0];
		owner += 1u + owner[0];
	}
	return c->u->nomem ? Q53_ENOMEM : 0;
}

static size_t node_records(const struct zone_node *n)
{
	size_t k = 0;
	for (uint32_t i = 0; n != NULL && i < n->nrrsets; i++)
		k += n->rrsets[i].count;
	return k;
}

int zone_update_add(struct zone_update *u, const uint8_t *owner, uint16_t type,
		    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t len = wlen(owner);
	int rc = zone_record_add(&u->l, owner, len, RRCLASS_IN, type, ttl,
				 rdata, rdlen, 0);
	if (rc != 0 && u->l.rc == 0)
		zone_load_fail(&u->l, 0, "%s", q53_strerror(rc));
	return rc;
}

void zone_update_volatile(struct zone_update *u, const uint8_t *owner)
{
	size_t len = wlen(owner);
	struct zone_node *n = len ? zone_find_node(u->z, owner, len) : NULL;
	if (n != NULL && (n->flags & ZONE_NODE_FRESH))
		n->flags |= ZONE_NODE_HEALTH;
}

int zone_update_choice(struct zone_update *u, const uint8_t *owner,
		       uint16_t type, const struct zone_choice_spec *spec)
{
	size_t len = wlen(owner);
	return len ? zone_choice_add(u->z, owner, len, type, spec) : Q53_EINVAL;
}

/* Rebuilds the structure of name (its records, or its removal) and queues
 * what depends on it. */
static int update_name(struct zone_update *u,
		       const struct zone_update_source *src,
		       const uint8_t *name, size_t len)
{
	struct zone *z = u->z;
	const struct zone_node *old = zone_find_node(u->prev, name, len);
	struct zone_node *n = NULL;
	int rc;

	z->nrecords -= node_records(old);
	if (len == z->origin_len || src->exists(src->ctx, name, len)) {
		n = zone_node_add(z, name, len);
		if (n == NULL)
			return Q53_ENOMEM;
		/* zone_record_add counts what it adds. */
		rc = src->records(src->ctx, u, name, len);
		if (rc != 0)
			return rc;
	} else if (old != NULL) {
		rc = name_index_del(&z->index, name, len);
		if (rc != 0)
			return rc;
	}
	if (name[0] == 1 && name[1] == '*' && len > z->origin_len)
		enqueue(u, name + 2, len - 2);
	bool was_cut = old != NULL && old->cut == old;
	bool is_cut = n != NULL && len != z->origin_len &&
		      zone_node_rrset(n, RRTYPE_NS) != NULL;
	if (was_cut || is_cut) {
		struct below_ctx c = {.u = u, .top_len = len};
		rc = src->each_below(src->ctx, name, len, below_cb, &c);
		if (rc != 0)
			return rc;
	}
	return u->nomem ? Q53_ENOMEM : 0;
}

/* Queues the ancestors of a changed owner whose existence changed. */
static void seed_ancestors(struct zone_update *u,
			   const struct zone_update_source *src,
			   const uint8_t *name, size_t len)
{
	const struct zone *z = u->z;
	while (len > z->origin_len) {
		len -= 1u + name[0];
		name += 1u + name[0];
		if (len <= z->origin_len)
			break;
		bool was = zone_find_node(u->prev, name, len) != NULL;
		bool is = src->exists(src->ctx, name, len);
		if (was != is)
			enqueue(u, name, len);
	}
}

static int update_run(struct zone_update *u, const uint8_t *const *changed,
		      size_t n, const struct zone_update_source *src)
{
	struct zone *z = u->z;
	const struct zone *prev = u->prev;
	int rc;

	enqueue(u, z->origin, z->origin_len);
	for (size_t i = 0; i < n; i++) {
		size_t len = wlen(changed[i]);
		if (!in_zone(z, changed[i], len))
			continue;
		enqueue(u, changed[i], len);
		seed_ancestors(u, src, changed[i], len);
	}
	for (size_t i = 0; i < prev->nvol; i++)
		enqueue(u, prev->vol[i], wlen(prev->vol[i]));
	if (u->nomem)
		return Q53_ENOMEM;
	for (size_t i = 0; i < u->nwork; i++) {
		const uint8_t *name = u->work[i];
		rc = update_name(u, src, name, wlen(name));
		if (rc != 0)
			return rc;
	}
	z->apex = zone_find_node(z, z->origin, z->origin_len);
	if (z->apex == NULL)
		return zone_load_fail(&u->l, 0,
				      "no SOA record at the zone apex");
	rc = zone_apex_check(&u->l);
	for (size_t i = 0; i < z->nnodes && rc == 0; i++)
		rc = zone_node_check(&u->l, z->nodes[i]);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < z->nnodes && rc == 0; i++)
		rc = zone_node_compact(z, z->nodes[i]);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < z->nnodes; i++)
		zone_node_mark(z, z->nodes[i]);
	zone_choices_sort(z);
	rc = zone_compile_nodes(z, z->nodes, z->nnodes, u->l.err, u->l.errlen);
	zone_choices_free(z);
	if (rc != 0) {
		char inner[256];
		snprintf(inner, sizeof(inner), "%s", u->l.err);
		snprintf(u->l.err, u->l.errlen, "%s: %s", u->label, inner);
	}
	return rc;
}

int zone_update_build(struct zone **out, const struct zone *prev,
		      const uint8_t *const *changed, size_t n,
		      const struct zone_update_source *src, char *errbuf,
		      size_t errlen)
{
	struct zone_update u = {.prev = prev};
	int rc = Q53_ENOMEM;

	errbuf[0] = '\0';
	u.z = zone_alloc(prev->origin, prev->origin_len, 0);
	if (u.z == NULL)
		return Q53_ENOMEM;
	name_index_free(&u.z->index);
	if (name_index_clone(&u.z->index, &prev->index) != 0)
		goto out;
	if (name_table_init(&u.seen, 64) != 0)
		goto out;
	u.z->nrecords = prev->nrecords;
	u.z->nwild = SIZE_MAX; /* the shared nodes may hold some */
	dname_to_text(prev->origin, u.label, sizeof(u.label));
	u.l = (struct zone_loader){
	    .z = u.z, .name = u.label, .err = errbuf, .errlen = errlen};
	rc = update_run(&u, changed, n, src);
	if (rc == Q53_ENOMEM && errbuf[0] == '\0')
		snprintf(errbuf, errlen, "%s: %s", u.label, q53_strerror(rc));
out:
	for (size_t i = 0; i < u.nwork; i++)
		free(u.work[i]);
	free(u.work);
	name_table_free(&u.seen);
	if (rc != 0) {
		zone_destroy(u.z);
		return rc;
	}
	for (size_t i = 0; i < u.z->nnodes; i++)
		u.z->nodes[i]->flags &= (uint8_t)~ZONE_NODE_FRESH;
	free(u.z->nodes);
	u.z->nodes = NULL;
	u.z->nnodes = u.z->nodes_cap = 0;
	*out = u.z;
	return 0;
}
