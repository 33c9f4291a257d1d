/* A zone's record sets in canonical order: a sorted sequence of set
 * pointers held as a directory of blocks of at most ZONE_STORE_SETS_BLOCK
 * pointers, so that one insert or remove moves at most a block and
 * updates the directory (O(sqrt n)), never the whole zone.
 *
 * All-or-nothing batches fork the sequence: the fork copies the directory
 * only and shares every block with its base; a block is copied on its
 * first write through the fork. Committing the fork frees the base's
 * blocks it replaced; aborting it frees the blocks it made. Either way
 * the base's blocks are never written while a fork exists, so a failing
 * batch leaves the base exactly as it was.
 *
 * The sequence holds set pointers but owns the sets only where a
 * function says so (zone_store_sets_free_all). Positions are global
 * indexes 0..n. Not thread-safe (the FSM's loop only). */
#ifndef Q53_NODE_CONTROL_ZONE_STORE_SETS_H
#define Q53_NODE_CONTROL_ZONE_STORE_SETS_H

#include <stddef.h>
#include <stdint.h>

struct zone_store_rrset;

#define ZONE_STORE_SETS_BLOCK 512

struct zone_store_sets_block {
	uint64_t gen; /* the sequence that made it; only it writes here */
	size_t n;
	struct zone_store_rrset *v[ZONE_STORE_SETS_BLOCK];
};

struct zone_store_sets_entry {
	struct zone_store_sets_block *block; /* never empty */
	size_t start;			     /* global index of block->v[0] */
};

struct zone_store_sets {
	struct zone_store_sets_entry *dir;
	size_t nblocks, cap;
	size_t n;     /* sets */
	uint64_t gen; /* blocks of this gen are writable */
	int forked;   /* blocks of another gen belong to the base */
	/* A fork's: the base's blocks it copied (freed on commit). */
	struct zone_store_sets_block **displaced;
	size_t ndisplaced, capdisplaced;
};

/* Orders a key against a set: <0, 0, >0 (the key before, at, after). */
typedef int (*zone_store_sets_cmp_fn)(const void *key,
				      const struct zone_store_rrset *s);

/* Empty. */
void zone_store_sets_init(struct zone_store_sets *q);
/* Frees the blocks and the directory, not the sets. */
void zone_store_sets_free(struct zone_store_sets *q);
/* Frees the sets with free(), then the rest. */
void zone_store_sets_free_all(struct zone_store_sets *q);

static inline size_t zone_store_sets_count(const struct zone_store_sets *q)
{
	return q->n;
}

/* The set at position i (< count): O(log blocks). */
struct zone_store_rrset *zone_store_sets_at(const struct zone_store_sets *q,
					    size_t i);
/* The first position whose set is not before key (count when none). */
size_t zone_store_sets_lower_bound(const struct zone_store_sets *q,
				   zone_store_sets_cmp_fn cmp, const void *key);

/* Copies the sets in order into out[0..count): O(count). */
void zone_store_sets_copy_out(const struct zone_store_sets *q,
			      const struct zone_store_rrset **out);
/* Inserts s at position i (<= count), removes or replaces the set at i
 * (the removed set is not freed). 0 or Q53_ENOMEM (q unchanged). */
int zone_store_sets_insert(struct zone_store_sets *q, size_t i,
			   struct zone_store_rrset *s);
int zone_store_sets_remove(struct zone_store_sets *q, size_t i);
int zone_store_sets_replace(struct zone_store_sets *q, size_t i,
			    struct zone_store_rrset *s);
/* Appends s (the caller keeps the order): 0 or Q53_ENOMEM. */
int zone_store_sets_push(struct zone_store_sets *q, struct zone_store_rrset *s);

/* fork becomes a writable view of base sharing its blocks: O(blocks).
 * base must not change until fork is committed or aborted. 0 or
 * Q53_ENOMEM (fork empty, nothing to abort). */
int zone_store_sets_fork(struct zone_store_sets *fork,
			 const struct zone_store_sets *base);
/* base takes fork's contents (fork is left empty). */
void zone_store_sets_commit(struct zone_store_sets *base,
			    struct zone_store_sets *fork);
/* Drops fork, base unchanged. */
void zone_store_sets_abort(struct zone_store_sets *fork);

#endif
