/* Zone building: the loader (zone_file.c: libzscanner) and the builder
 * (zone_store_build) hand wire-format records in; this file builds the name
 * tree (with empty non-terminals, delegations and wildcards marked), checks the
 * zone is servable, and hands it to the answer compiler. */
#include "node/zone/zone.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rdata_check.h"
#include "node/dnsdata/rrtype.h"
#include "node/zone/compile.h"
#include "node/zone/name_index.h"
#include "node/zone/node.h"
#include "node/zone/zone_impl.h"

int zone_load_fail(struct zone_loader *l, uint64_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(l->err, l->errlen, "%s:%llu: %s", l->name,
			 (unsigned long long)line, msg);
	else
		snprintf(l->err, l->errlen, "%s: %s", l->name, msg);
	l->rc = Q53_EZONE;
	return Q53_EZONE;
}

struct zone_node *zone_find_node(const struct zone *z, const uint8_t *name,
				 size_t len)
{
	/* Nodes not indexed yet (a grouped build): only the last one is
	 * looked up before zone_index_pending. */
	if (z->grouped && z->indexed < z->nnodes) {
		struct zone_node *last = z->nodes[z->nnodes - 1];
		if (last->name_len == len && memcmp(last->name, name, len) == 0)
			return last;
	}
	return name_index_get(&z->index, name, len, dname_hash(name, len));
}

/* A node of a name indexed already, left out by a grouped batch. Its
 * record data is in the build's scratch memory or freed with the build. */
static void node_discard(void *arg, struct zone_node *n)
{
	(void)arg;
	zone_node_mem_free(n, n);
}

int zone_index_pending(struct zone *z)
{
	if (!z->grouped || z->indexed >= z->nnodes)
		return 0;
	int rc =
	    name_index_put_batch(&z->index, z->nodes + z->indexed,
				 z->nnodes - z->indexed, node_discard, NULL);
	/* Q53_EEXIST: a name came back after others (not grouped after
	 * all); the build fails rather than keep two nodes of one name. */
	z->indexed = z->nnodes;
	return rc;
}

const struct zone_rrset *zone_node_rrset(const struct zone_node *n,
					 uint16_t type)
{
	for (uint32_t i = 0; i < n->nrrsets; i++) {
		if (n->rrsets[i].type == type)
			return &n->rrsets[i];
	}
	return NULL;
}

struct zone_node *zone_node_add(struct zone *z, const uint8_t *name, size_t len)
{
	/* Nodes created by this build are the last ones in z->nodes; a
	 * node found in the index that is not among them is a shared one
	 * of the previous version, replaced by a fresh one. Builders add
	 * an owner's sets one after the other: the last node first. */
	if (z->nnodes > 0) {
		struct zone_node *last = z->nodes[z->nnodes - 1];
		if ((last->flags & ZONE_NODE_FRESH) && last->name_len == len &&
		    memcmp(last->name, name, len) == 0)
			return last;
	}
	if (z->nnodes == z->nodes_cap) {
		size_t cap = z->nodes_cap ? z->nodes_cap * 2 : 64;
		struct zone_node **nodes =
		    realloc(z->nodes, cap * sizeof(*nodes));
		if (nodes == NULL)
			return NULL;
		z->nodes = nodes;
		z->nodes_cap = cap;
	}
	/* Not sizeof: the name starts in the struct's tail padding. */
	size_t head = offsetof(struct zone_node, name);
	struct zone_node *n = z->use_slab
				  ? zone_slab_alloc(&z->slab, head + len)
				  : malloc(head + len);
	if (n == NULL)
		return NULL;
	memset(n, 0, head);
	memcpy(n->name, name, len);
	n->name_len = (uint8_t)len;
	n->flags = ZONE_NODE_FRESH |
		   (z->use_slab ? ZONE_NODE_SLAB | ZONE_NODE_SCRATCH : 0);
	if (z->grouped) {
		/* Indexed later, in one batch (zone_index_pending). */
		if (name[0] == 1 && name[1] == '*' && z->nwild != SIZE_MAX)
			z->nwild++;
		z->nodes[z->nnodes++] = n;
		return n;
	}
	/* One probe of the index: insert unless the name is there. */
	struct zone_node *found;
	int rc = name_index_put_new(&z->index, n, &found);
	if (rc == 0 && found != NULL) {
		if (found->flags & ZONE_NODE_FRESH) {
			zone_node_mem_free(n, n);
			return found;
		}
		rc = name_index_put(&z->index, n);
	}
	if (rc != 0) {
		zone_node_mem_free(n, n);
		return NULL;
	}
	if (name[0] == 1 && name[1] == '*' && z->nwild != SIZE_MAX)
		z->nwild++;
	z->nodes[z->nnodes++] = n;
	return n;
}

/* realloc for n's record data before compaction: in its build's scratch
 * memory for a ZONE_NODE_SCRATCH node (the old copy stays there). */
static void *data_realloc(struct zone *z, const struct zone_node *n, void *p,
			  size_t old, size_t size)
{
	if (!(n->flags & ZONE_NODE_SCRATCH))
		return realloc(p, size);
	void *q = zone_scratch_alloc(&z->scratch, size);
	if (q != NULL && old > 0)
		memcpy(q, p, old);
	return q;
}

static int rrset_add(struct zone_loader *l, struct zone_node *n, uint16_t type,
		     uint32_t ttl, const uint8_t *rdata, uint16_t rdlen,
		     uint64_t line)
{
	struct zone *z = l->z;
	struct zone_rrset *rr = (struct zone_rrset *)zone_node_rrset(n, type);
	if (rr == NULL) {
		if (n->nrrsets == UINT16_MAX)
			return Q53_ERANGE;
		struct zone_rrset *sets =
		    data_realloc(z, n, n->rrsets, n->nrrsets * sizeof(*sets),
				 (n->nrrsets + 1) * sizeof(*sets));
		if (sets == NULL)
			return Q53_ENOMEM;
		n->rrsets = sets;
		rr = &sets[n->nrrsets++];
		memset(rr, 0, sizeof(*rr));
		rr->type = type;
		rr->ttl = ttl;
		rr->first_line =
		    line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	}
	/* Identical records are one record (RFC 2181 5). The first TTL of
	 * an RRset wins, as in Knot. */
	for (uint32_t i = 0; i < rr->count; i++) {
		if (rr->rdata[i].len == rdlen &&
		    memcmp(rr->rdata[i].data, rdata, rdlen) == 0)
			return 0;
	}
	if (rr->count >= ((uint32_t)1 << 24))
		return Q53_ERANGE; /* never fits in a message anyway */
	if (rr->count == 0 ||
	    (rr->count >= 2 && zone_rrset_cap(rr->count) == rr->count)) {
		uint32_t cap = zone_rrset_cap(rr->count + 1);
		struct zone_rdata *rd =
		    data_realloc(z, n, rr->rdata, rr->count * sizeof(*rd),
				 cap * sizeof(*rd));
		if (rd == NULL)
			return Q53_ENOMEM;
		rr->rdata = rd;
	}
	uint8_t *copy = n->flags & ZONE_NODE_SCRATCH
			    ? zone_scratch_alloc(&z->scratch, rdlen ? rdlen : 1)
			    : malloc(rdlen ? rdlen : 1);
	if (copy == NULL)
		return Q53_ENOMEM;
	memcpy(copy, rdata, rdlen);
	rr->rdata[rr->count].len = rdlen;
	rr->rdata[rr->count].data = copy;
	rr->count++;
	l->z->nrecords++;
	return 0;
}

int zone_record_add(struct zone_loader *l, const uint8_t *owner_any, size_t len,
		    uint16_t rclass, uint16_t type, uint32_t ttl,
		    const uint8_t *rdata, size_t rdlen, uint64_t line)
{
	struct zone *z = l->z;
	uint8_t owner[DNAME_MAXLEN];

	if (rclass != RRCLASS_IN)
		return zone_load_fail(
		    l, line, "class %u is not supported (only IN)", rclass);
	if (rrtype_is_meta(type))
		return zone_load_fail(
		    l, line, "type %u cannot be stored in a zone", type);
	if (type == RRTYPE_DNAME)
		return zone_load_fail(
		    l, line, "DNAME is not supported (use CNAME records)");
	if (len == 0 || dname_wire_len(owner_any, len) != len)
		return zone_load_fail(l, line, "malformed owner name");
	dname_lower_copy(owner, owner_any, len);
	/* Out-of-zone data is ignored, as Knot and NSD do. */
	if (!dname_is_sub(owner, len, z->origin, z->origin_len))
		return 0;
	if (type == RRTYPE_SOA && len != z->origin_len)
		return zone_load_fail(l, line,
				      "SOA record outside the zone apex");
	if (rdlen > UINT16_MAX)
		return zone_load_fail(l, line, "RDATA too long");
	int rc = rdata_check(type, rdata, (uint16_t)rdlen);
	if (rc == Q53_EMALF)
		return zone_load_fail(
		    l, line, "RDATA of %u bytes is malformed for type %u",
		    (unsigned)rdlen, type);
	if (rc != 0)
		return rc;
	struct zone_node *n = zone_node_add(z, owner, len);
	if (n == NULL)
		return Q53_ENOMEM;
	return rrset_add(l, n, type, ttl, rdata, (uint16_t)rdlen, line);
}

/* Adds the empty non-terminals between every name and the apex. */
static int tree_link(struct zone *z)
{
	/* The parent found last (most names share a few parents). */
	const struct zone_node *last = NULL;
	for (size_t i = 0; i < z->nnodes; i++) {
		const struct zone_node *n = z->nodes[i];
		const uint8_t *name = n->name;
		size_t len = n->name_len;
		while (len > z->origin_len) {
			const uint8_t *pname = name + 1 + name[0];
			size_t plen = len - 1u - name[0];
			if (last != NULL && last->name_len == plen &&
			    memcmp(last->name, pname, plen) == 0)
				break;
			const struct zone_node *found =
			    zone_find_node(z, pname, plen);
			if (found != NULL) {
				last = found;
				break;
			}
			struct zone_node *p = zone_node_add(z, pname, plen);
			if (p == NULL)
				return Q53_ENOMEM;
			name = p->name;
			len = plen;
		}
	}
	return 0;
}

int zone_apex_check(struct zone_loader *l)
{
	struct zone *z = l->z;
	const struct zone_rrset *soa = zone_node_rrset(z->apex, RRTYPE_SOA);
	if (soa == NULL)
		return zone_load_fail(l, 0, "no SOA record at the zone apex");
	if (soa->count != 1)
		return zone_load_fail(l, soa->first_line,
				      "more than one SOA record at the zone "
				      "apex");
	if (zone_node_rrset(z->apex, RRTYPE_NS) == NULL)
		return zone_load_fail(l, 0, "no NS records at the zone apex");
	return 0;
}

int zone_node_check(struct zone_loader *l, const struct zone_node *n)
{
	char text[DNAME_MAXLEN * 4 + 1];
	const struct zone_rrset *cname = zone_node_rrset(n, RRTYPE_CNAME);
	if (cname == NULL)
		return 0;
	dname_to_text(n->name, text, sizeof(text));
	if (cname->count > 1)
		return zone_load_fail(l, cname->first_line,
				      "more than one CNAME record at %s", text);
	if (n->nrrsets > 1)
		return zone_load_fail(l, cname->first_line,
				      "CNAME and other data at %s (RFC "
				      "1034 3.6.2)",
				      text);
	if (n == l->z->apex)
		return zone_load_fail(l, cname->first_line,
				      "CNAME at the zone apex");
	return 0;
}

static int zone_check(struct zone_loader *l)
{
	struct zone *z = l->z;
	int rc = zone_apex_check(l);
	for (size_t i = 0; i < z->nnodes && rc == 0; i++)
		rc = zone_node_check(l, z->nodes[i]);
	return rc;
}

void zone_node_mark(struct zone *z, struct zone_node *n)
{
	const struct zone_node *cut = NULL;
	const uint8_t *name = n->name;
	size_t len = n->name_len;
	/* The topmost delegation at or above n wins. */
	while (len > z->origin_len) {
		const struct zone_node *a =
		    name == n->name ? n : zone_find_node(z, name, len);
		if (a != NULL && zone_node_rrset(a, RRTYPE_NS) != NULL)
			cut = a;
		len -= 1u + name[0];
		name += 1u + name[0];
	}
	n->cut = cut;
	n->wildcard = NULL;
	if (z->nwild != 0 && n->name_len + 2u <= DNAME_MAXLEN) {
		uint8_t w[DNAME_MAXLEN];
		w[0] = 1;
		w[1] = '*';
		memcpy(w + 2, n->name, n->name_len);
		n->wildcard = zone_find_node(z, w, n->name_len + 2u);
	}
}

/* Marks delegations and wildcard children. */
static void tree_mark(struct zone *z)
{
	for (size_t i = 0; i < z->nnodes; i++)
		zone_node_mark(z, z->nodes[i]);
}

void *zone_node_mem_alloc(struct zone *z, const struct zone_node *n,
			  size_t size)
{
	if (n->flags & ZONE_NODE_SLAB)
		return zone_slab_alloc(&z->slab, size);
	return malloc(size);
}

void zone_node_mem_free(const struct zone_node *n, void *p)
{
	if (n->flags & ZONE_NODE_SLAB)
		zone_slab_free(p);
	else
		free(p);
}

int zone_node_compact(struct zone *z, struct zone_node *n)
{
	size_t nrd = 0, bytes = 0;
	if (n->flags & ZONE_NODE_PACKED)
		return 0;
	for (uint32_t i = 0; i < n->nrrsets; i++) {
		nrd += n->rrsets[i].count;
		for (uint32_t j = 0; j < n->rrsets[i].count; j++)
			bytes += n->rrsets[i].rdata[j].len;
	}
	size_t size = n->nrrsets * sizeof(struct zone_rrset) + 2 * nrd + bytes;
	bool scratch = n->flags & ZONE_NODE_SCRATCH;
	if (size == 0) {
		/* An empty non-terminal. */
		if (!scratch)
			free(n->rrsets);
		n->rrsets = NULL;
		n->flags = (uint8_t)((n->flags | ZONE_NODE_PACKED) &
				     ~ZONE_NODE_SCRATCH);
		return 0;
	}
	uint8_t *block = zone_node_mem_alloc(z, n, size);
	if (block == NULL)
		return Q53_ENOMEM;
	struct zone_rrset *sets = (struct zone_rrset *)block;
	uint8_t *data = block + n->nrrsets * sizeof(*sets);
	for (uint32_t i = 0; i < n->nrrsets; i++) {
		struct zone_rrset *o = &n->rrsets[i];
		sets[i] = *o;
		sets[i].packed = data;
		for (uint32_t j = 0; j < o->count; j++) {
			uint16_t len = o->rdata[j].len;
			data[0] = (uint8_t)(len >> 8);
			data[1] = (uint8_t)len;
			memcpy(data + 2, o->rdata[j].data, len);
			data += 2u + len;
			if (!scratch)
				free(o->rdata[j].data);
		}
		if (!scratch)
			free(o->rdata);
	}
	if (!scratch)
		free(n->rrsets);
	n->rrsets = sets;
	n->flags =
	    (uint8_t)((n->flags | ZONE_NODE_PACKED) & ~ZONE_NODE_SCRATCH);
	return 0;
}

void zone_node_retain(struct zone_node *n)
{
	__atomic_add_fetch(&n->refs, 1, __ATOMIC_RELAXED);
}

const uint8_t *zone_node_key(const struct zone_node *n, size_t *len)
{
	*len = n->name_len;
	return n->name;
}

void zone_node_release(struct zone_node *n)
{
	if (__atomic_sub_fetch(&n->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (n->flags & ZONE_NODE_PACKED) {
		zone_node_mem_free(n, n->rrsets);
	} else if (!(n->flags & ZONE_NODE_SCRATCH)) {
		for (uint32_t i = 0; i < n->nrrsets; i++) {
			for (uint32_t j = 0; j < n->rrsets[i].count; j++)
				free(n->rrsets[i].rdata[j].data);
			free(n->rrsets[i].rdata);
		}
		free(n->rrsets);
	}
	zone_node_mem_free(n, n->block);
	zone_node_mem_free(n, n);
}

int zone_vol_add(struct zone *z, const struct zone_node *n)
{
	if (z->nvol == z->vol_cap) {
		size_t cap = z->vol_cap ? z->vol_cap * 2 : 16;
		uint8_t **v = realloc(z->vol, cap * sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		z->vol = v;
		z->vol_cap = cap;
	}
	uint8_t *copy = malloc(n->name_len);
	if (copy == NULL)
		return Q53_ENOMEM;
	memcpy(copy, n->name, n->name_len);
	z->vol[z->nvol++] = copy;
	return 0;
}

/* The size of the tree spec (depth its level, 1 the root): its nodes,
 * slots and bytes of extra data and records into *t; Q53_EINVAL for a
 * node the builder refuses. */
struct tree_size {
	size_t nodes, slots, bytes;
};

static int tree_measure(const struct zone_choice_spec *spec, unsigned depth,
			struct tree_size *t)
{
	const struct zone_choice_leaf *leaves = spec->leaves;
	size_t n = spec->n;
	if (depth > ZONE_CHOICE_MAX_DEPTH ||
	    ++t->nodes > ZONE_CHOICE_MAX_NODES || n == 0 ||
	    n > ZONE_CHOICE_MAX_LEAVES || spec->kind > ZONE_CHOICE_GEOPROX ||
	    spec->extra_len > UINT32_MAX ||
	    (spec->extra_len > 0 && spec->extra == NULL) || leaves == NULL)
		return Q53_EINVAL;
	t->slots += n;
	t->bytes += spec->extra_len;
	for (size_t i = 0; i < n; i++) {
		const struct zone_choice_spec *sub =
		    spec->subs != NULL ? spec->subs[i] : NULL;
		if (spec->kind == ZONE_CHOICE_WEIGHTED && leaves[i].weight == 0)
			return Q53_EINVAL;
		if (sub != NULL) {
			int rc = tree_measure(sub, depth + 1, t);
			if (rc != 0)
				return rc;
			continue;
		}
		if (leaves[i].count == 0 || leaves[i].count > UINT16_MAX)
			return Q53_EINVAL;
		for (size_t k = 0; k < leaves[i].count; k++)
			t->bytes += 2u + leaves[i].rdata[k].len;
	}
	return 0;
}

/* Where tree_flatten writes: the draft's arrays and its data cursor. */
struct tree_out {
	struct zone_choice_draft_node *nodes;
	struct zone_rrset *rr;
	uint32_t *w;
	int32_t *child;
	uint8_t *data;
	uint16_t type;
	uint32_t nnodes, nslots;
};

/* Appends spec's node (preorder) and its leaves; its index. */
static uint32_t tree_flatten(const struct zone_choice_spec *spec,
			     struct tree_out *o)
{
	uint32_t me = o->nnodes++;
	uint32_t first = o->nslots;
	struct zone_choice_draft_node *dn = &o->nodes[me];
	o->nslots += (uint32_t)spec->n;
	dn->kind = spec->kind;
	dn->n = (uint32_t)spec->n;
	dn->first = first;
	dn->extra = NULL;
	dn->extra_len = spec->extra_len;
	if (spec->extra_len > 0) {
		memcpy(o->data, spec->extra, spec->extra_len);
		dn->extra = o->data;
		o->data += spec->extra_len;
	}
	for (size_t i = 0; i < spec->n; i++) {
		const struct zone_choice_leaf *l = &spec->leaves[i];
		uint32_t s = first + (uint32_t)i;
		o->w[s] = l->weight;
		o->child[s] = -1;
		o->rr[s] = (struct zone_rrset){.type = o->type, .ttl = l->ttl};
		o->rr[s].packed = o->data;
		if (spec->subs != NULL && spec->subs[i] != NULL)
			continue;
		o->rr[s].count = (uint32_t)l->count;
		for (size_t k = 0; k < l->count; k++) {
			uint16_t len = l->rdata[k].len;
			o->data[0] = (uint8_t)(len >> 8);
			o->data[1] = (uint8_t)len;
			memcpy(o->data + 2, l->rdata[k].data, len);
			o->data += 2u + len;
		}
	}
	for (size_t i = 0; spec->subs != NULL && i < spec->n; i++) {
		if (spec->subs[i] != NULL)
			o->child[first + i] =
			    (int32_t)tree_flatten(spec->subs[i], o);
	}
	return me;
}

int zone_choice_add(struct zone *z, const uint8_t *owner, size_t len,
		    uint16_t type, const struct zone_choice_spec *spec)
{
	struct tree_size t = {0};
	struct zone_node *node = zone_find_node(z, owner, len);
	if (node == NULL && z->grouped && z->indexed < z->nnodes) {
		int rc = zone_index_pending(z);
		if (rc != 0)
			return rc;
		node = zone_find_node(z, owner, len);
	}
	if (node == NULL || !(node->flags & ZONE_NODE_FRESH) ||
	    tree_measure(spec, 1, &t) != 0)
		return Q53_EINVAL;
	if (z->nchoices == z->choices_cap) {
		size_t cap = z->choices_cap ? z->choices_cap * 2 : 8;
		struct zone_choice_draft *v =
		    realloc(z->choices, cap * sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		z->choices = v;
		z->choices_cap = cap;
	}
	uint8_t *mem =
	    malloc(t.slots * sizeof(struct zone_rrset) +
		   t.nodes * sizeof(struct zone_choice_draft_node) +
		   t.slots * (sizeof(uint32_t) + sizeof(int32_t)) + t.bytes);
	if (mem == NULL)
		return Q53_ENOMEM;
	struct tree_out o = {.type = type};
	o.rr = (struct zone_rrset *)(void *)mem;
	o.nodes = (struct zone_choice_draft_node *)(void *)(o.rr + t.slots);
	o.w = (uint32_t *)(void *)(o.nodes + t.nodes);
	o.child = (int32_t *)(void *)(o.w + t.slots);
	o.data = (uint8_t *)(o.child + t.slots);
	tree_flatten(spec, &o);
	struct zone_choice_draft *d = &z->choices[z->nchoices++];
	memcpy(d->owner, owner, len);
	d->owner_len = (uint8_t)len;
	d->type = type;
	d->n = o.nslots;
	d->kind = o.nodes[0].kind;
	d->extra = o.nodes[0].extra;
	d->extra_len = o.nodes[0].extra_len;
	d->weights = o.w;
	d->leaves = o.rr;
	d->nnodes = o.nnodes;
	d->nodes = o.nodes;
	d->child = o.child;
	d->mem = mem;
	node->flags |= ZONE_NODE_CHOICE | ZONE_NODE_HEALTH;
	return 0;
}

static int draft_cmp(const void *a, const void *b)
{
	const struct zone_choice_draft *x = a, *y = b;
	if (x->owner_len != y->owner_len)
		return x->owner_len < y->owner_len ? -1 : 1;
	int c = memcmp(x->owner, y->owner, x->owner_len);
	if (c != 0)
		return c;
	return x->type == y->type ? 0 : (x->type < y->type ? -1 : 1);
}

void zone_choices_sort(struct zone *z)
{
	if (z->nchoices > 1)
		qsort(z->choices, z->nchoices, sizeof(*z->choices), draft_cmp);
}

void zone_choices_free(struct zone *z)
{
	for (size_t i = 0; i < z->nchoices; i++)
		free(z->choices[i].mem);
	free(z->choices);
	z->choices = NULL;
	z->nchoices = z->choices_cap = 0;
}

const struct zone_choice_draft *
zone_choices_of(const struct zone *z, const struct zone_node *n, size_t *count)
{
	struct zone_choice_draft key;
	size_t lo = 0, hi = z->nchoices;
	*count = 0;
	memcpy(key.owner, n->name, n->name_len);
	key.owner_len = n->name_len;
	key.type = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (draft_cmp(&z->choices[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < z->nchoices && z->choices[end].owner_len == n->name_len &&
	       memcmp(z->choices[end].owner, n->name, n->name_len) == 0)
		end++;
	*count = end - lo;
	return end > lo ? &z->choices[lo] : NULL;
}

void zone_new_build_id(struct zone *z)
{
	static uint64_t next_build_id;
	z->build_id = __atomic_add_fetch(&next_build_id, 1, __ATOMIC_RELAXED);
}

void zone_destroy(struct zone *z)
{
	zone_slab_finish(&z->slab);
	name_index_free(&z->index);
	zone_scratch_free(&z->scratch);
	free(z->nodes);
	free((void *)z->nxdomain);
	free((void *)z->nodata);
	for (size_t i = 0; i < z->nvol; i++)
		free(z->vol[i]);
	free(z->vol);
	zone_choices_free(z);
	free(z);
}

void zone_retain(struct zone *z)
{
	__atomic_add_fetch(&z->refs, 1, __ATOMIC_RELAXED);
}

void zone_release(struct zone *z)
{
	if (z && __atomic_sub_fetch(&z->refs, 1, __ATOMIC_ACQ_REL) == 0)
		zone_destroy(z);
}

const uint8_t *zone_origin(const struct zone *z)
{
	return z->origin;
}

size_t zone_record_count(const struct zone *z)
{
	return z->nrecords;
}

int zone_loader_finish(struct zone_loader *l)
{
	int rc = zone_index_pending(l->z);
	l->z->grouped = false;
	if (rc == Q53_EEXIST)
		return zone_load_fail(l, 0,
				      "records of one name were given apart "
				      "to a grouped build");
	if (rc != 0)
		return zone_load_fail(l, 0, "%s", q53_strerror(rc));
	rc = tree_link(l->z);
	if (rc != 0)
		return zone_load_fail(l, 0, "%s", q53_strerror(rc));
	rc = zone_check(l);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < l->z->nnodes; i++) {
		rc = zone_node_compact(l->z, l->z->nodes[i]);
		if (rc != 0)
			return zone_load_fail(l, 0, "%s", q53_strerror(rc));
	}
	zone_scratch_free(&l->z->scratch);
	tree_mark(l->z);
	zone_choices_sort(l->z);
	rc = zone_compile(l->z, l->err, l->errlen);
	zone_choices_free(l->z);
	if (rc != 0) {
		char inner[256];
		snprintf(inner, sizeof(inner), "%s", l->err);
		snprintf(l->err, l->errlen, "%s: %s", l->name, inner);
		return rc;
	}
	for (size_t i = 0; i < l->z->nnodes; i++)
		l->z->nodes[i]->flags &= (uint8_t)~ZONE_NODE_FRESH;
	l->z->use_slab = false;
	zone_slab_finish(&l->z->slab);
	free(l->z->nodes);
	l->z->nodes = NULL;
	l->z->nnodes = l->z->nodes_cap = 0;
	return 0;
}

struct zone *zone_alloc(const uint8_t *origin, size_t olen, int with_apex)
{
	struct zone *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return NULL;
	z->refs = 1;
	zone_new_build_id(z);
	if (name_index_init(&z->index) != 0) {
		free(z);
		return NULL;
	}
	dname_lower_copy(z->origin, origin, olen);
	z->origin_len = (uint8_t)olen;
	zone_slab_init(&z->slab);
	zone_scratch_init(&z->scratch);
	z->use_slab = with_apex != 0;
	if (with_apex) {
		z->apex = zone_node_add(z, z->origin, olen);
		if (z->apex == NULL) {
			zone_destroy(z);
			return NULL;
		}
	}
	return z;
}

struct zone_builder {
	struct zone *z;
	char name[DNAME_MAXLEN * 4 + 1];
};

int zone_builder_new(struct zone_builder **out, const uint8_t *origin)
{
	size_t olen = dname_wire_len(origin, DNAME_MAXLEN);
	if (olen == 0)
		return Q53_EINVAL;
	struct zone_builder *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return Q53_ENOMEM;
	b->z = zone_alloc(origin, olen, 1);
	if (b->z == NULL) {
		free(b);
		return Q53_ENOMEM;
	}
	dname_to_text(b->z->origin, b->name, sizeof(b->name));
	*out = b;
	return 0;
}

int zone_builder_add(struct zone_builder *b, const uint8_t *owner,
		     uint16_t type, uint32_t ttl, const uint8_t *rdata,
		     uint16_t rdlen, char *errbuf, size_t errlen)
{
	struct zone_loader l = {
	    .z = b->z, .name = b->name, .err = errbuf, .errlen = errlen};
	size_t len = dname_wire_len(owner, DNAME_MAXLEN);
	int rc = zone_record_add(&l, owner, len, RRCLASS_IN, type, ttl, rdata,
				 rdlen, 0);
	if (rc != 0 && l.rc == 0)
		zone_load_fail(&l, 0, "%s", q53_strerror(rc));
	return rc;
}

int zone_builder_finish(struct zone_builder *b, struct zone **out, char *errbuf,
			size_t errlen)
{
	struct zone_loader l = {
	    .z = b->z, .name = b->name, .err = errbuf, .errlen = errlen};
	int rc = zone_loader_finish(&l);
	if (rc == 0) {
		*out = b->z;
		b->z = NULL;
	}
	zone_builder_abort(b);
	return rc;
}

void zone_builder_abort(struct zone_builder *b)
{
	if (b == NULL)
		return;
	if (b->z != NULL)
		zone_destroy(b->z);
	free(b);
}

int zone_builder_volatile(struct zone_builder *b, const uint8_t *owner)
{
	uint8_t lname[DNAME_MAXLEN];
	size_t len = dname_wire_len(owner, DNAME_MAXLEN);
	if (len == 0)
		return Q53_EINVAL;
	dname_lower_copy(lname, owner, len);
	struct zone_node *n = zone_find_node(b->z, lname, len);
	if (n == NULL && b->z->grouped && b->z->indexed < b->z->nnodes) {
		int rc = zone_index_pending(b->z);
		if (rc != 0)
			return rc;
		n = zone_find_node(b->z, lname, len);
	}
	if (n == NULL)
		return Q53_ENOENT;
	n->flags |= ZONE_NODE_HEALTH;
	return 0;
}

int zone_builder_choice(struct zone_builder *b, const uint8_t *owner,
			uint16_t type, const struct zone_choice_spec *spec)
{
	uint8_t lname[DNAME_MAXLEN];
	size_t len = dname_wire_len(owner, DNAME_MAXLEN);
	if (len == 0)
		return Q53_EINVAL;
	dname_lower_copy(lname, owner, len);
	return zone_choice_add(b->z, lname, len, type, spec);
}

uint64_t zone_build_id(const struct zone *z)
{
	return z->build_id;
}

int zone_builder_reserve(struct zone_builder *b, size_t names)
{
	return name_index_reserve(&b->z->index, names);
}

void zone_builder_grouped(struct zone_builder *b)
{
	b->z->grouped = true;
	b->z->indexed = b->z->nnodes; /* the apex is in the index */
}
