#include "node/zone/name_index.h"

#include <stdbool.h>
#include <stdlib.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"

#define PAGE_MAX  48 /* entries before a page splits (load 0.75) */
#define DEPTH_MAX 26

static struct name_index_page *page_new(uint8_t depth)
{
	struct name_index_page *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->refs = 1;
	p->depth = depth;
	return p;
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

/* The directory range [first, first + span) that points at the page of
 * directory entry d with local depth ld. */
static size_t span_of(const struct name_index *ix, uint8_t ld)
{
	return (size_t)1 << (ix->depth - ld);
}

int name_index_init(struct name_index *ix)
{
	ix->dir = malloc(sizeof(*ix->dir));
	if (ix->dir == NULL)
		return Q53_ENOMEM;
	ix->dir[0] = page_new(0);
	if (ix->dir[0] == NULL) {
		free(ix->dir);
		ix->dir = NULL;
		return Q53_ENOMEM;
	}
	ix->depth = 0;
	ix->count = 0;
	return 0;
}

int name_index_clone(struct name_index *dst, const struct name_index *src)
{
	size_t n = (size_t)1 << src->depth;
	dst->dir = malloc(n * sizeof(*dst->dir));
	if (dst->dir == NULL)
		return Q53_ENOMEM;
	memcpy(dst->dir, src->dir, n * sizeof(*dst->dir));
	dst->depth = src->depth;
	dst->count = src->count;
	for (size_t d = 0; d < n; d += span_of(src, src->dir[d]->depth))
		__atomic_add_fetch(&dst->dir[d]->refs, 1, __ATOMIC_RELAXED);
	return 0;
}

void name_index_free(struct name_index *ix)
{
	if (ix->dir == NULL)
		return;
	size_t n = (size_t)1 << ix->depth;
	for (size_t d = 0; d < n;) {
		struct name_index_page *p = ix->dir[d];
		d += span_of(ix, p->depth);
		page_release(p);
	}
	free(ix->dir);
	ix->dir = NULL;
	ix->count = 0;
}

void name_index_each(const struct name_index *ix,
		     void (*fn)(void *arg, struct zone_node *n), void *arg)
{
	size_t n = (size_t)1 << ix->depth;
	for (size_t d = 0; d < n;) {
		const struct name_index_page *p = ix->dir[d];
		d += span_of(ix, p->depth);
		for (size_t i = 0; i < NAME_INDEX_SLOTS; i++) {
			if (p->node[i] != NULL)
				fn(arg, p->node[i]);
		}
	}
}

/* Points the directory range of old (local depth ld, containing entry d)
 * at p0 (lower half) / p1 (upper half), or at p0 alone when p1 is NULL. */
static void dir_replace(struct name_index *ix, size_t d, uint8_t ld,
			struct name_index_page *p0, struct name_index_page *p1)
{
	size_t span = span_of(ix, ld);
	size_t first = d & ~(span - 1);
	for (size_t k = 0; k < span; k++)
		ix->dir[first + k] = (p1 != NULL && k >= span / 2) ? p1 : p0;
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

/* Makes the page of directory entry d writable (owned by this index
 * alone), copying it when shared. Returns it or NULL (no memory). */
static struct name_index_page *page_own(struct name_index *ix, size_t d)
{
	struct name_index_page *p = ix->dir[d];
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

/* Splits the (owned) page of entry d in two, doubling the directory when
 * its depth is the page's. */
static int page_split(struct name_index *ix, size_t d)
{
	struct name_index_page *p = ix->dir[d];
	if (p->depth >= DEPTH_MAX)
		return Q53_ERANGE;
	if (p->depth == ix->depth) {
		size_t n = (size_t)1 << ix->depth;
		struct name_index_page **dir = malloc(2 * n * sizeof(*dir));
		if (dir == NULL)
			return Q53_ENOMEM;
		for (size_t k = 0; k < n; k++)
			dir[2 * k] = dir[2 * k + 1] = ix->dir[k];
		free(ix->dir);
		ix->dir = dir;
		ix->depth++;
		d = 2 * d;
	}
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

int name_index_put(struct name_index *ix, struct zone_node *n)
{
	uint64_t h = node_hash(n);
	uint32_t tag = (uint32_t)h;
	for (;;) {
		size_t d = dir_entry(ix, h);
		struct name_index_page *p = page_own(ix, d);
		if (p == NULL)
			return Q53_ENOMEM;
		size_t len;
		const uint8_t *name = zone_node_key(n, &len);
		ptrdiff_t at = slot_find(p, tag, name, len);
		if (at >= 0) {
			struct zone_node *old = p->node[at];
			zone_node_retain(n);
			p->node[at] = n;
			zone_node_release(old);
			return 0;
		}
		if (p->count < PAGE_MAX) {
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

int name_index_del(struct name_index *ix, const uint8_t *name, size_t len)
{
	uint64_t h = dname_hash(name, len);
	uint32_t tag = (uint32_t)h;
	size_t d = dir_entry(ix, h);
	if (slot_find(ix->dir[d], tag, name, len) < 0)
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
	size_t n = (size_t)1 << depth;
	bigger.dir = calloc(n, sizeof(*bigger.dir));
	if (bigger.dir == NULL)
		return Q53_ENOMEM;
	bigger.depth = depth;
	bigger.count = 0;
	for (size_t d = 0; d < n; d++) {
		bigger.dir[d] = page_new(depth);
		if (bigger.dir[d] == NULL) {
			for (size_t k = 0; k < d; k++)
				free(bigger.dir[k]);
			free(bigger.dir);
			return Q53_ENOMEM;
		}
	}
	/* Move the nodes over (their page references move with them). */
	size_t old = (size_t)1 << ix->depth;
	for (size_t d = 0; d < old;) {
		struct name_index_page *p = ix->dir[d];
		d += span_of(ix, p->depth);
		for (size_t i = 0; i < NAME_INDEX_SLOTS; i++) {
			struct zone_node *nd = p->node[i];
			if (nd == NULL)
				continue;
			uint64_t h = node_hash(nd);
			slot_put(bigger.dir[h >> (64 - depth)], p->tag[i], nd);
			bigger.count++;
			p->node[i] = NULL;
		}
		page_release(p);
	}
	free(ix->dir);
	*ix = bigger;
	return 0;
}
