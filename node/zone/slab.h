/* Slab memory for the compiled zone of a full build: nodes, their packed
 * record data and their answer blocks are carved from 1 MiB chunks instead
 * of one malloc each (no per-object malloc header, no 16-byte rounding, no
 * allocator calls on the load path). Objects are freed one by one as
 * before (zone_slab_free, any thread); a chunk is returned when its last
 * object is freed. Incremental builds keep using malloc, so a chunk of the
 * full build lives as long as one of its nodes is shared by the serving
 * version: the extra memory is bounded by the full build's own size. */
#ifndef Q53_NODE_ZONE_SLAB_H
#define Q53_NODE_ZONE_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define ZONE_SLAB_CHUNK ((size_t)1 << 20)

/* The allocation state of one build (owned by the builder). */
struct zone_slab {
	uint8_t *chunk; /* the chunk being carved, or NULL */
	size_t used;	/* bytes of it handed out, header included */
	size_t chunks;	/* chunks created (statistics, tests) */
};

void zone_slab_init(struct zone_slab *s);
/* size bytes, 8-aligned, uninitialised; NULL when out of memory. Objects
 * larger than a chunk get a chunk of their own. */
void *zone_slab_alloc(struct zone_slab *s, size_t size);
/* Frees p (from zone_slab_alloc of any slab); NULL is ignored. */
void zone_slab_free(void *p);
/* Ends allocation from s: its current chunk is returned once its objects
 * are. s can be used again after (a new chunk). */
void zone_slab_finish(struct zone_slab *s);
/* Chunks allocated and not yet returned, process-wide (tests). */
size_t zone_slab_live_chunks(void);

/* Scratch memory of one build: bump-allocated from malloc'd blocks, never
 * freed one by one, all freed by zone_scratch_free. For what a build
 * throws away (the record data of nodes before zone_node_compact). */
struct zone_scratch {
	uint8_t *block; /* the newest block; each starts with the previous */
	size_t used, cap;
};

void zone_scratch_init(struct zone_scratch *s);
/* size bytes, 8-aligned; NULL when out of memory. */
void *zone_scratch_alloc(struct zone_scratch *s, size_t size);
void zone_scratch_free(struct zone_scratch *s);

#endif
