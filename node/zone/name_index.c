#include "node/zone/name_index.h"

#include <stdbool.h>
#include <stdlib.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"

#define PAGE_MAX   48 /* entries before a page splits (load 0.75) */
#define DEPTH_MAX  26
#define CHUNK_BITS NAME_INDEX_CHUNK_BITS

static struct name_index_page *page_new(uint8_t depth)
{
	struct name_index_page *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->refs = 1;
	p->depth = depth;
	return p;
}

static void page_retain(struct name_index_page *p)
{
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
}

static void page_release(struct name_index_page *p)
{
	if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < NAME_INDEX_SLOTS; i++) {
		if (p->node[i] != NULL)
			zone_node_release(p->node[i]);
	}
	free(p);
}

static uint64_t node_hash(const struct zone_node *n)
{
	size_t len;
	const uint8_t *name = zone_node_key(n, &len);

	return dname_hash(name, len);
}

/* Directory entries per chunk and chunks of an index of this depth. */
static size_t chunk_entries(uint8_t depth)
{
	return (size_t)1 << (depth < CHUNK_BITS ? depth : CHUNK_BITS);
}

static size_t chunk_count(uint8_t depth)
{
	return (size_t)1 << (depth > CHUNK_BITS ? depth - CHUNK_BITS : 0);
}

/* The number of directory entries pointing at a page of local depth ld
 * (all in one chunk). */
static size_t span_of(uint8_t depth, uint8_t ld)
{
	return (size_t)1 << (depth - ld);
}

static struct name_index_chunk *chunk_new(uint8_t depth)
{
	struct name_index_chunk *c =
	    malloc(sizeof(*c) + chunk_entries(depth) * sizeof(c->page[0]));
	if (c == NULL)
		return NULL;
	c->refs = 1;
	c->depth = depth;
	return c;
}

/* Takes one reference of every page c holds. */
static void chunk_retain_pages(struct name_index_chunk *c)
{
	size_t n = chunk_entries(c->depth);
	for (size_t k = 0; k < n; k += span_of(c->depth, c->page[k]->depth))
		page_retain(c->page[k]);
}

static void chunk_release(struct name_index_chunk *c)
{
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	size_t n = chunk_entries(c->depth);
	for (size_t k = 0; k < n;) {
		struct name_index_page *p = c->page[k];
		k += span_of(c->depth, p->depth);
		page_release(p);
	}
	free(c);
}

static struct name_index_page **entry(struct name_index *ix, size_t d)
{
	return &ix->chunk[d >> CHUNK_BITS]
		    ->page[d & (((size_t)1 << CHUNK_BITS) - 1)];
}

int name_index_init(struct name_index *ix)
{
	ix->chunk = malloc(sizeof(*ix->chunk));
	if (ix->chunk == NULL)
		return Q53_ENOMEM;
	ix->chunk[0] = chunk_new(0);
	struct name_index_page *p = page_new(0);
	if (ix->chunk[0] == NULL || p == NULL) {
		free(ix->chunk[0]);
		free(p);
		free(ix->chunk);
		ix->chunk = NULL;
		return Q53_ENOMEM;
	}
	ix->chunk[0]->page[0] = p;
	ix->depth = 0;
	ix->count = 0;
	return 0;
}

int name_index_clone(struct name_index *dst, const struct name_index *src)
{
	size_t n = chunk_count(src->depth);
	dst->chunk = malloc(n * sizeof(*dst->chunk));
	if (dst->chunk == NULL)
		return Q53_ENOMEM;
	memcpy(dst->chunk, src->chunk, n * sizeof(*dst->chunk));
	dst->depth = src->depth;
	dst->count = src->count;
	for (size_t c = 0; c < n; c++)
		__atomic_add_fetch(&dst->chunk[c]->refs, 1, __ATOMIC_RELAXED);
	return 0;
}

void name_index_free(struct name_index *ix)
{
	if (ix->chunk == NULL)
		return;
	size_t n = chunk_count(ix->depth);
	for (size_t c = 0; c < n; c++)
		chunk_release(ix->chunk[c]);
	free(ix->chunk);
	ix->chunk = NULL;
	ix->count = 0;
}

void name_index_each(const struct name_index *ix,
		     void (*fn)(void *arg, struct zone_node *n), void *arg)
{
	size_t n = (size_t)1 << ix->depth;
	for (size_t d = 0; d < n;) {
		const struct name_index_page *p = name_index_page_at(ix, d);
		d += span_of(ix->depth, p->depth);
		for (size_t i = 0; i < NAME_INDEX_SLOTS; i++) {
			if (p->node[i] != NULL)
				fn(arg, p->node[i]);
		}
	}
}

/* Points the directory range of the page of local depth ld containing
 * entry d at p0 (lower half) / p1 (upper half), or at p0 alone when p1 is
 * NULL. The range's chunk must be owned. */
static void dir_replace(struct name_index *ix, size_t d, uint8_t ld,
			struct name_index_page *p0, struct name_index_page *p1)
{
	size_t span = span_of(ix->depth, ld);
	size_t first = d & ~(span - 1);
	for (size_t k = 0; k < span; k++)
		*entry(ix, first + k) = (p1 != NULL && k >= span / 2) ? p1 : p0;
}

static void slot_put(struct name_index_page *p, uint32_t tag,
		     struct zone_node *n)
{
	size_t i = tag & (NAME_INDEX_SLOTS - 1);
	while (p->node[i] != NULL)
		i = (i + 1) & (NAME_INDEX_SLOTS - 1);
	p->node[i] = n;
	p->tag[i] = tag;
	p->count++;
}

/* Makes chunk c writable (held by this index alone), copying it when
 * shared. 0 or Q53_ENOMEM. */
static int chunk_own(struct name_index *ix, size_t c)
{
	struct name_index_chunk *k = ix->chunk[c];
	if (__atomic_load_n(&k->refs, __ATOMIC_ACQUIRE) == 1)
		return 0;
	struct name_index_chunk *copy = chunk_new(k->depth);
	if (copy == NULL)
		return Q53_ENOMEM;
	memcpy(copy->page, k->page,
	       chunk_entries(k->depth) * sizeof(k->page[0]));
	chunk_retain_pages(copy);
	ix->chunk[c] = copy;
	chunk_release(k);
	return 0;
}

/* Makes the page of directory entry d writable (owned by this index
 * alone), copying its chunk and it when shared. Returns it or NULL (no
 * memory). */
static struct name_index_page *page_own(struct name_index *ix, size_t d)
{
	if (chunk_own(ix, d >> CHUNK_BITS) != 0)
		return NULL;
	struct name_index_page *p = *entry(ix, d);
	if (__atomic_load_n(&p->refs, __ATOMIC_ACQUIRE) == 1)
		return p;
	struct name_index_page *c = malloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	memcpy(c, p, sizeof(*c));
	c->refs = 1;
	for (size_t i = 0; i < NAME_INDEX_SLOTS; i++) {
		if (c->node[i] != NULL)
			zone_node_retain(c->node[i]);
	}
	dir_replace(ix, d, p->depth, c, NULL);
	page_release(p);
	return c;
}

/* Splits the page of entry d, whose local depth is below the index's, in
 * two (making it writable first). */
static int page_split_below(struct name_index *ix, size_t d)
{
	struct name_index_page *p = page_own(ix, d);
	if (p == NULL)
		return Q53_ENOMEM;
	uint8_t nd = (uint8_t)(p->depth + 1);
	struct name_index_page *p0 = page_new(nd), *p1 = page_new(nd);
	if (p0 == NULL || p1 == NULL) {
		free(p0);
		free(p1);
		return Q53_ENOMEM;
	}
	for (size_t i = 0; i < NAME_INDEX_SLOTS; i++) {
		struct zone_node *n = p->node[i];
		if (n == NULL)
			continue;
		uint64_t h = node_hash(n);
		bool hi = (h >> (63 - p->depth)) & 1;
		slot_put(hi ? p1 : p0, p->tag[i], n);
	}
	dir_replace(ix, d, p->depth, p0, p1);
	/* The nodes moved: the old page goes without releasing them. */
	free(p);
	return 0;
}

/* Doubles the directory: every entry becomes two. New chunks replace the
 * old ones (which stay valid for the versions still holding them). */
static int dir_double(struct name_index *ix)
{
	uint8_t depth = ix->depth;
	if (depth >= CHUNK_BITS) {
		/* A page spanning a whole chunk would span two: split it. */
		size_t n = (size_t)1 << depth;
		for (size_t d = 0; d < n; d += chunk_entries(depth)) {
			if ((*entry(ix, d))->depth + CHUNK_BITS > depth)
				continue;
			int rc = page_split_below(ix, d);
			if (rc != 0)
				return rc;
		}
	}
	uint8_t nd = (uint8_t)(depth + 1);
	size_t nold = chunk_count(depth), nnew = chunk_count(nd);
	size_t per = chunk_entries(nd);
	struct name_index_chunk **chunks = calloc(nnew, sizeof(*chunks));
	if (chunks == NULL)
		return Q53_ENOMEM;
	for (size_t c = 0; c < nnew; c++) {
		chunks[c] = chunk_new(nd);
		if (chunks[c] == NULL) {
			for (size_t k = 0; k < c; k++)
				free(chunks[k]);
			free(chunks);
			return Q53_ENOMEM;
		}
		for (size_t k = 0; k < per; k++) {
			size_t d = c * per + k; /* entry at the new depth */
			chunks[c]->page[k] = *entry(ix, d >> 1);
		}
		chunk_retain_pages(chunks[c]);
	}
	for (size_t c = 0; c < nold; c++)
		chunk_release(ix->chunk[c]);
	free(ix->chunk);
	ix->chunk = chunks;
	ix->depth = nd;
	return 0;
}

/* Splits the (owned) page of entry d in two, doubling the directory when
 * its depth is the page's. */
static int page_split(struct name_index *ix, size_t d)
{
	struct name_index_page *p = *entry(ix, d);
	if (p->depth >= DEPTH_MAX)
		return Q53_ERANGE;
	if (p->depth == ix->depth) {
		int rc = dir_double(ix);
		if (rc != 0)
			return rc;
		d = 2 * d;
	}
	return page_split_below(ix, d);
}

static size_t dir_entry(const struct name_index *ix, uint64_t h)
{
	return ix->depth ? (size_t)(h >> (64 - ix->depth)) : 0;
}

static ptrdiff_t slot_find(const struct name_index_page *p, uint32_t tag,
			   const uint8_t *name, size_t len)
{
	size_t i = tag & (NAME_INDEX_SLOTS - 1);
	for (size_t k = 0; k < NAME_INDEX_SLOTS; k++) {
		const struct zone_node *n = p->node[i];
		if (n == NULL)
			return -1;
		size_t nlen;
		const uint8_t *nname;
		if (p->tag[i] == tag &&
		    (nname = zone_node_key(n, &nlen), nlen == len) &&
		    memcmp(nname, name, len) == 0)
			return (ptrdiff_t)i;
		i = (i + 1) & (NAME_INDEX_SLOTS - 1);
	}
	return -1;
}

/* Whether p holds a node of n's name with tag: its slot, or -1. n's
 * name is read only when a tag matches. */
static ptrdiff_t slot_find_node(const struct name_index_page *p, uint32_t tag,
				const struct zone_node *n)
{
	size_t i = tag & (NAME_INDEX_SLOTS - 1);
	for (size_t k = 0; k < NAME_INDEX_SLOTS; k++) {
		if (p->node[i] == NULL)
			return -1;
		if (p->tag[i] == tag) {
			size_t len;
			const uint8_t *name = zone_node_key(n, &len);
			ptrdiff_t at = slot_find(p, tag, name, len);
			return at;
		}
		i = (i + 1) & (NAME_INDEX_SLOTS - 1);
	}
	return -1;
}

/* Inserts n of hash h; a node of the same name is replaced (replace) or
 * left in place and returned in *found. retained: the caller took n's
 * reference already (and drops it when n is not inserted). */
static int put_hashed(struct name_index *ix, struct zone_node *n, uint64_t h,
		      bool replace, bool retained, struct zone_node **found)
{
	uint32_t tag = (uint32_t)h;
	*found = NULL;
	for (;;) {
		size_t d = dir_entry(ix, h);
		struct name_index_page *p = page_own(ix, d);
		if (p == NULL)
			return Q53_ENOMEM;
		ptrdiff_t at = slot_find_node(p, tag, n);
		if (at >= 0 && !replace) {
			*found = p->node[at];
			return 0;
		}
		if (at >= 0) {
			struct zone_node *old = p->node[at];
			if (!retained)
				zone_node_retain(n);
			p->node[at] = n;
			zone_node_release(old);
			return 0;
		}
		if (p->count < PAGE_MAX) {
			if (!retained)
				zone_node_retain(n);
			slot_put(p, tag, n);
			ix->count++;
			return 0;
		}
		int rc = page_split(ix, d);
		if (rc != 0)
			return rc;
	}
}

static int put(struct name_index *ix, struct zone_node *n, bool replace,
	       struct zone_node **found)
{
	return put_hashed(ix, n, node_hash(n), replace, false, found);
}

int name_index_put(struct name_index *ix, struct zone_node *n)
{
	struct zone_node *found;
	return put(ix, n, true, &found);
}

int name_index_put_new(struct name_index *ix, struct zone_node *n,
		       struct zone_node **found)
{
	return put(ix, n, false, found);
}

int name_index_put_batch(struct name_index *ix, struct zone_node *const *nodes,
			 size_t n, void (*dup)(void *arg, struct zone_node *n),
			 void *arg)
{
	/* A counting sort on the hash's top 16 bits (the directory of a
	 * million names has fewer entries): the order pages are filled in. */
	/* Every node is read once, in the given order (hash, reference);
	 * the insertion then reads nodes only where a tag matches. */
	enum { BITS = 16 };
	struct hashed {
		uint64_t h;
		struct zone_node *n;
	};
	size_t *start = calloc((size_t)1 << BITS, sizeof(*start));
	struct hashed *in = malloc((n ? n : 1) * sizeof(*in));
	struct hashed *order = malloc((n ? n : 1) * sizeof(*order));
	int rc = 0;
	bool dups = false;
	if (start == NULL || in == NULL || order == NULL) {
		for (size_t k = 0; k < n; k++)
			dup(arg, nodes[k]);
		rc = Q53_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		in[i] = (struct hashed){node_hash(nodes[i]), nodes[i]};
		zone_node_retain(nodes[i]); /* the index's, taken here */
		start[in[i].h >> (64 - BITS)]++;
	}
	size_t sum = 0;
	for (size_t b = 0; b < ((size_t)1 << BITS); b++) {
		size_t c = start[b];
		start[b] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++)
		order[start[in[i].h >> (64 - BITS)]++] = in[i];
	size_t i = 0;
	for (; i < n && rc == 0; i++) {
		struct zone_node *found;
		rc =
		    put_hashed(ix, order[i].n, order[i].h, false, true, &found);
		if (rc == 0 && found != NULL) {
			dup(arg, order[i].n);
			dups = true;
		}
	}
	/* Out of memory: the nodes not in go the same way as the dups. */
	for (size_t k = rc != 0 ? i - 1 : n; k < n; k++)
		dup(arg, order[k].n);
	if (rc == 0 && dups)
		rc = Q53_EEXIST;
out:
	free(start);
	free(in);
	free(order);
	return rc;
}

int name_index_del(struct name_index *ix, const uint8_t *name, size_t len)
{
	uint64_t h = dname_hash(name, len);
	uint32_t tag = (uint32_t)h;
	size_t d = dir_entry(ix, h);
	if (slot_find(name_index_page_at(ix, d), tag, name, len) < 0)
		return 0;
	struct name_index_page *p = page_own(ix, d);
	if (p == NULL)
		return Q53_ENOMEM;
	size_t i = (size_t)slot_find(p, tag, name, len);
	zone_node_release(p->node[i]);
	p->node[i] = NULL;
	p->count--;
	ix->count--;
	/* Backward shift: no tombstones. */
	const size_t mask = NAME_INDEX_SLOTS - 1;
	for (size_t j = (i + 1) & mask; p->node[j] != NULL;
	     j = (j + 1) & mask) {
		size_t home = p->tag[j] & mask;
		/* j may move to i when home is not cyclically in (i, j]. */
		bool stays = (i <= j) ? (i < home && home <= j)
				      : (i < home || home <= j);
		if (stays)
			continue;
		p->node[i] = p->node[j];
		p->tag[i] = p->tag[j];
		p->node[j] = NULL;
		i = j;
	}
	return 0;
}

int name_index_reserve(struct name_index *ix, size_t expected)
{
	uint8_t depth = 0;
	/* About 32 names a page: no splits while it fills. */
	while (((size_t)32 << depth) < expected && depth < 20)
		depth++;
	if (depth <= ix->depth)
		return 0;
	struct name_index bigger;
	size_t nc = chunk_count(depth), per = chunk_entries(depth);
	bigger.chunk = calloc(nc, sizeof(*bigger.chunk));
	if (bigger.chunk == NULL)
		return Q53_ENOMEM;
	bigger.depth = depth;
	bigger.count = 0;
	for (size_t c = 0; c < nc; c++) {
		struct name_index_chunk *k = chunk_new(depth);
		bigger.chunk[c] = k;
		for (size_t e = 0; k != NULL && e < per; e++) {
			k->page[e] = page_new(depth);
			if (k->page[e] == NULL) {
				for (size_t x = 0; x < e; x++)
					free(k->page[x]);
				free(k);
				k = bigger.chunk[c] = NULL;
			}
		}
		if (k == NULL) {
			for (size_t x = 0; x < c; x++)
				chunk_release(bigger.chunk[x]);
			free(bigger.chunk);
			return Q53_ENOMEM;
		}
	}
	/* Move the nodes over (their page references move with them). */
	size_t old = (size_t)1 << ix->depth;
	for (size_t d = 0; d < old;) {
		struct name_index_page *p = *entry(ix, d);
		d += span_of(ix->depth, p->depth);
		for (size_t i = 0; i < NAME_INDEX_SLOTS; i++) {
			struct zone_node *nd = p->node[i];
			if (nd == NULL)
				continue;
			uint64_t h = node_hash(nd);
			slot_put(*entry(&bigger, h >> (64 - depth)), p->tag[i],
				 nd);
			bigger.count++;
			p->node[i] = NULL;
		}
	}
	name_index_free(ix);
	*ix = bigger;
	return 0;
}
