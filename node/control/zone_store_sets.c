#include "node/control/zone_store_sets.h"

#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"

void zone_store_sets_init(struct zone_store_sets *q)
{
	memset(q, 0, sizeof(*q));
	q->gen = 1;
}

void zone_store_sets_free(struct zone_store_sets *q)
{
	for (size_t b = 0; b < q->nblocks; b++) {
		if (!q->forked || q->dir[b].block->gen == q->gen)
			free(q->dir[b].block);
	}
	free(q->dir);
	free(q->displaced);
	zone_store_sets_init(q);
}

void zone_store_sets_free_all(struct zone_store_sets *q)
{
	for (size_t b = 0; b < q->nblocks; b++) {
		const struct zone_store_sets_block *k = q->dir[b].block;
		for (size_t i = 0; i < k->n; i++)
			free(k->v[i]);
	}
	zone_store_sets_free(q);
}

/* The block holding position i (< n), or for i == n the last one. */
static size_t block_of(const struct zone_store_sets *q, size_t i)
{
	/* Blocks filled by pushes (an import, a restore) are full: where
	 * that guess holds, no search. */
	size_t g = i / ZONE_STORE_SETS_BLOCK;
	if (g < q->nblocks && q->dir[g].start <= i &&
	    (g + 1 == q->nblocks || i < q->dir[g + 1].start))
		return g;
	size_t lo = 0, hi = q->nblocks;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (q->dir[mid].start <= i)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

struct zone_store_rrset *zone_store_sets_at(const struct zone_store_sets *q,
					    size_t i)
{
	const struct zone_store_sets_entry *e = &q->dir[block_of(q, i)];
	return e->block->v[i - e->start];
}

size_t zone_store_sets_lower_bound(const struct zone_store_sets *q,
				   zone_store_sets_cmp_fn cmp, const void *key)
{
	/* The first block whose last set is not before key. */
	size_t lo = 0, hi = q->nblocks;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct zone_store_sets_block *k = q->dir[mid].block;
		if (cmp(key, k->v[k->n - 1]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == q->nblocks)
		return q->n;
	const struct zone_store_sets_block *k = q->dir[lo].block;
	size_t a = 0, z = k->n;
	while (a < z) {
		size_t mid = (a + z) / 2;
		if (cmp(key, k->v[mid]) > 0)
			a = mid + 1;
		else
			z = mid;
	}
	return q->dir[lo].start + a;
}

/* The blocks from the first on moved by delta sets (the directory alone
 * is read: no block is touched). */
static void starts_shift(struct zone_store_sets *q, size_t first, int delta)
{
	for (size_t k = first; k < q->nblocks; k++)
		q->dir[k].start += (size_t)delta;
}

static int dir_reserve(struct zone_store_sets *q, size_t n)
{
	if (n <= q->cap)
		return 0;
	size_t cap = q->cap ? q->cap : 4;
	while (cap < n)
		cap *= 2;
	struct zone_store_sets_entry *d = realloc(q->dir, cap * sizeof(*d));
	if (d == NULL)
		return Q53_ENOMEM;
	q->dir = d;
	q->cap = cap;
	return 0;
}

static struct zone_store_sets_block *block_new(const struct zone_store_sets *q)
{
	struct zone_store_sets_block *k = malloc(sizeof(*k));
	if (k == NULL)
		return NULL;
	k->gen = q->gen;
	k->n = 0;
	return k;
}

/* Makes block b writable by q, copying a fork's shared block. 0 or
 * Q53_ENOMEM. */
static int block_own(struct zone_store_sets *q, size_t b)
{
	struct zone_store_sets_block *k = q->dir[b].block;
	if (k->gen == q->gen)
		return 0;
	if (!q->forked) {
		k->gen = q->gen; /* nobody else holds it */
		return 0;
	}
	if (q->ndisplaced == q->capdisplaced) {
		size_t cap = q->capdisplaced ? q->capdisplaced * 2 : 8;
		struct zone_store_sets_block **d =
		    realloc(q->displaced, cap * sizeof(*d));
		if (d == NULL)
			return Q53_ENOMEM;
		q->displaced = d;
		q->capdisplaced = cap;
	}
	struct zone_store_sets_block *c = block_new(q);
	if (c == NULL)
		return Q53_ENOMEM;
	c->n = k->n;
	memcpy(c->v, k->v, k->n * sizeof(*k->v));
	q->displaced[q->ndisplaced++] = k;
	q->dir[b].block = c;
	return 0;
}

int zone_store_sets_insert(struct zone_store_sets *q, size_t i,
			   struct zone_store_rrset *s)
{
	if (q->nblocks == 0) {
		if (dir_reserve(q, 1) != 0)
			return Q53_ENOMEM;
		struct zone_store_sets_block *k = block_new(q);
		if (k == NULL)
			return Q53_ENOMEM;
		k->v[0] = s;
		k->n = 1;
		q->dir[0].block = k;
		q->dir[0].start = 0;
		q->nblocks = 1;
		q->n = 1;
		return 0;
	}
	size_t b = block_of(q, i);
	if (block_own(q, b) != 0)
		return Q53_ENOMEM;
	struct zone_store_sets_block *k = q->dir[b].block;
	size_t off = i - q->dir[b].start;
	if (k->n == ZONE_STORE_SETS_BLOCK) {
		/* Split in halves; the new one goes after. */
		if (dir_reserve(q, q->nblocks + 1) != 0)
			return Q53_ENOMEM;
		struct zone_store_sets_block *h = block_new(q);
		if (h == NULL)
			return Q53_ENOMEM;
		size_t keep = ZONE_STORE_SETS_BLOCK / 2;
		h->n = k->n - keep;
		memcpy(h->v, k->v + keep, h->n * sizeof(*k->v));
		k->n = keep;
		memmove(&q->dir[b + 2], &q->dir[b + 1],
			(q->nblocks - b - 1) * sizeof(*q->dir));
		q->dir[b + 1].block = h;
		q->dir[b + 1].start = q->dir[b].start + keep;
		q->nblocks++;
		if (off > keep) {
			b++;
			off -= keep;
			k = h;
		}
	}
	memmove(&k->v[off + 1], &k->v[off], (k->n - off) * sizeof(*k->v));
	k->v[off] = s;
	k->n++;
	q->n++;
	starts_shift(q, b + 1, 1);
	return 0;
}

int zone_store_sets_remove(struct zone_store_sets *q, size_t i)
{
	size_t b = block_of(q, i);
	struct zone_store_sets_block *k = q->dir[b].block;
	if (k->n == 1) {
		/* The block goes: the base's stays with the base. */
		if (q->forked && k->gen != q->gen) {
			if (q->ndisplaced == q->capdisplaced) {
				size_t cap =
				    q->capdisplaced ? q->capdisplaced * 2 : 8;
				struct zone_store_sets_block **d =
				    realloc(q->displaced, cap * sizeof(*d));
				if (d == NULL)
					return Q53_ENOMEM;
				q->displaced = d;
				q->capdisplaced = cap;
			}
			q->displaced[q->ndisplaced++] = k;
		} else {
			free(k);
		}
		memmove(&q->dir[b], &q->dir[b + 1],
			(q->nblocks - b - 1) * sizeof(*q->dir));
		q->nblocks--;
		q->n--;
		starts_shift(q, b, -1);
		return 0;
	}
	if (block_own(q, b) != 0)
		return Q53_ENOMEM;
	k = q->dir[b].block;
	size_t off = i - q->dir[b].start;
	memmove(&k->v[off], &k->v[off + 1], (k->n - off - 1) * sizeof(*k->v));
	k->n--;
	q->n--;
	starts_shift(q, b + 1, -1);
	return 0;
}

int zone_store_sets_replace(struct zone_store_sets *q, size_t i,
			    struct zone_store_rrset *s)
{
	size_t b = block_of(q, i);
	if (block_own(q, b) != 0)
		return Q53_ENOMEM;
	q->dir[b].block->v[i - q->dir[b].start] = s;
	return 0;
}

int zone_store_sets_push(struct zone_store_sets *q, struct zone_store_rrset *s)
{
	size_t last = q->nblocks - 1;
	if (q->nblocks > 0 && q->dir[last].block->n < ZONE_STORE_SETS_BLOCK) {
		/* zone_store_sets_insert at the end, without its search. */
		if (block_own(q, last) != 0)
			return Q53_ENOMEM;
		struct zone_store_sets_block *k = q->dir[last].block;
		k->v[k->n++] = s;
		q->n++;
		return 0;
	}
	/* A full last block: start a new one rather than split it. */
	if (dir_reserve(q, q->nblocks + 1) != 0)
		return Q53_ENOMEM;
	struct zone_store_sets_block *k = block_new(q);
	if (k == NULL)
		return Q53_ENOMEM;
	k->v[0] = s;
	k->n = 1;
	q->dir[q->nblocks].block = k;
	q->dir[q->nblocks].start = q->n;
	q->nblocks++;
	q->n++;
	return 0;
}

int zone_store_sets_fork(struct zone_store_sets *fork,
			 const struct zone_store_sets *base)
{
	zone_store_sets_init(fork);
	if (dir_reserve(fork, base->nblocks + 1) != 0)
		return Q53_ENOMEM;
	if (base->nblocks > 0)
		memcpy(fork->dir, base->dir,
		       base->nblocks * sizeof(*fork->dir));
	fork->nblocks = base->nblocks;
	fork->n = base->n;
	fork->gen = base->gen + 1;
	fork->forked = 1;
	return 0;
}

void zone_store_sets_commit(struct zone_store_sets *base,
			    struct zone_store_sets *fork)
{
	for (size_t k = 0; k < fork->ndisplaced; k++)
		free(fork->displaced[k]);
	free(fork->displaced);
	free(base->dir);
	*base = *fork;
	base->forked = 0;
	base->displaced = NULL;
	base->ndisplaced = base->capdisplaced = 0;
	zone_store_sets_init(fork);
}

void zone_store_sets_abort(struct zone_store_sets *fork)
{
	zone_store_sets_free(fork);
}

void zone_store_sets_copy_out(const struct zone_store_sets *q,
			      const struct zone_store_rrset **out)
{
	size_t o = 0;
	for (size_t b = 0; b < q->nblocks; b++) {
		const struct zone_store_sets_block *k = q->dir[b].block;
		memcpy(&out[o], k->v, k->n * sizeof(*out));
		o += k->n;
	}
}
