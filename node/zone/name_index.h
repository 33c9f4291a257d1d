/* The name index of a compiled zone version: lowercase wire names to
 * nodes, persistent (copy-on-write) so that consecutive versions of a zone
 * share everything a change does not touch. Extendible hashing: a
 * directory of 2^depth page pointers indexed by the top bits of the name
 * hash, each page a small open-addressing table. The directory is cut in
 * chunks of at most 2^NAME_INDEX_CHUNK_BITS entries (a page never spans
 * two chunks), so a new version copies the chunk pointers only and, on the
 * first write below them, that chunk and that page: a version with one
 * changed name copies O(sqrt(names)) pointers, not the directory. Nodes
 * are shared by reference count (zone_node.refs counts the pages holding
 * a node, page refs the chunks holding a page, chunk refs the indexes
 * holding a chunk). Counts are atomic: old versions are released on the
 * RCU reclamation thread while the control thread builds. Readers need no
 * lock: a published index is never written again. */
#ifndef Q53_NODE_ZONE_NAME_INDEX_H
#define Q53_NODE_ZONE_NAME_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct zone_node;

#define NAME_INDEX_SLOTS 64 /* per page, a power of two */

struct name_index_page {
	int refs; /* atomic: directories holding this page */
	uint8_t depth;
	uint8_t count;
	uint32_t tag[NAME_INDEX_SLOTS];		  /* low 32 bits of the hash */
	struct zone_node *node[NAME_INDEX_SLOTS]; /* NULL: empty */
};

#define NAME_INDEX_CHUNK_BITS 8

/* 2^min(depth, NAME_INDEX_CHUNK_BITS) directory entries. */
struct name_index_chunk {
	int refs;      /* atomic: indexes holding this chunk */
	uint8_t depth; /* of the indexes holding it */
	struct name_index_page *page[];
};

struct name_index {
	/* 2^max(depth - NAME_INDEX_CHUNK_BITS, 0) chunks */
	struct name_index_chunk **chunk;
	uint8_t depth;
	size_t count;
};

/* The page of directory entry d (< 2^depth). */
static inline struct name_index_page *
name_index_page_at(const struct name_index *ix, size_t d)
{
	return ix->chunk[d >> NAME_INDEX_CHUNK_BITS]
	    ->page[d & (((size_t)1 << NAME_INDEX_CHUNK_BITS) - 1)];
}

/* An empty index (one page). 0 or Q53_ENOMEM. */
int name_index_init(struct name_index *ix);
/* dst becomes a copy of src sharing every chunk (O(chunks), the square
 * root of the directory at most). 0 or Q53_ENOMEM (dst is then empty and
 * needs no free). */
int name_index_clone(struct name_index *dst, const struct name_index *src);
/* Grows the directory of an index that is not shared (a build's) to hold
 * about expected names without splitting. 0 or Q53_ENOMEM (unchanged). */
int name_index_reserve(struct name_index *ix, size_t expected);
/* Drops the index's pages (and through them its node references). */
void name_index_free(struct name_index *ix);

/* Inserts n, or replaces the node of the same name (whose reference the
 * index drops). Takes one reference of n's (refs is set by the caller to
 * 0 for a new node: the index counts pages). 0, Q53_ENOMEM or Q53_ERANGE
 * (pathological hash collisions). */
int name_index_put(struct name_index *ix, struct zone_node *n);
/* Inserts n (taking one reference) unless a node of the same name is
 * there: then *found is that node and n is not taken (*found is NULL
 * when n was inserted). One probe where name_index_get then
 * name_index_put take two. 0, Q53_ENOMEM or Q53_ERANGE. */
int name_index_put_new(struct name_index *ix, struct zone_node *n,
		       struct zone_node **found);
/* Inserts nodes[0..n) (taking a reference to each), whose names should
 * not be in ix, in the order of their hashes: a million new names then
 * fill the pages one after the other instead of each touching a random
 * one. A node whose name is there already (or came before in this
 * batch) is not inserted but given to dup(arg, node), and the call goes
 * on with the others and returns Q53_EEXIST. 0, Q53_ENOMEM or Q53_ERANGE
 * (the nodes not inserted are given to dup too), or Q53_EEXIST. */
int name_index_put_batch(struct name_index *ix, struct zone_node *const *nodes,
			 size_t n, void (*dup)(void *arg, struct zone_node *n),
			 void *arg);
/* Removes the node named name (if any). 0 or Q53_ENOMEM. */
int name_index_del(struct name_index *ix, const uint8_t *name, size_t len);

/* Calls fn for every node (unspecified order). */
void name_index_each(const struct name_index *ix,
		     void (*fn)(void *arg, struct zone_node *n), void *arg);

/* What the index needs of the nodes it holds, provided by the compiled
 * zone (node/zone/zone.c), so the index does not depend on the node
 * layout (node/zone/node.h builds on this header): take and release one
 * reference (freeing the node at zero), and the node's lowercase wire
 * name (borrowed from n). */
void zone_node_retain(struct zone_node *n);
void zone_node_release(struct zone_node *n);
const uint8_t *zone_node_key(const struct zone_node *n, size_t *len);

/* name_index_get (the lookup) is in node/zone/node.h, inline. */

#endif
