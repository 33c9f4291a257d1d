#include "node/zone/slab.h"

#include <stdlib.h>

/* At the start of every chunk (ZONE_SLAB_CHUNK-aligned): the number of
 * live objects in it, plus one while a slab carves it. */
struct chunk_head {
	size_t live; /* atomic */
	uint64_t pad;
};

#define HEAD_SIZE sizeof(struct chunk_head)

static size_t live_chunks; /* atomic */

size_t zone_slab_live_chunks(void)
{
	return __atomic_load_n(&live_chunks, __ATOMIC_RELAXED);
}

static struct chunk_head *chunk_of(const void *p)
{
	return (struct chunk_head *)((uintptr_t)p &
				     ~(uintptr_t)(ZONE_SLAB_CHUNK - 1));
}

static void chunk_put(struct chunk_head *h)
{
	if (__atomic_sub_fetch(&h->live, 1, __ATOMIC_ACQ_REL) == 0) {
		__atomic_sub_fetch(&live_chunks, 1, __ATOMIC_RELAXED);
		free(h);
	}
}

static struct chunk_head *chunk_new(size_t size, size_t live)
{
	size_t bytes = (size + ZONE_SLAB_CHUNK - 1) & ~(ZONE_SLAB_CHUNK - 1);
	struct chunk_head *h = aligned_alloc(ZONE_SLAB_CHUNK, bytes);
	if (h == NULL)
		return NULL;
	h->live = live;
	h->pad = 0;
	__atomic_add_fetch(&live_chunks, 1, __ATOMIC_RELAXED);
	return h;
}

void zone_slab_init(struct zone_slab *s)
{
	s->chunk = NULL;
	s->used = 0;
	s->chunks = 0;
}

void *zone_slab_alloc(struct zone_slab *s, size_t size)
{
	size = (size + 7) & ~(size_t)7;
	if (size == 0)
		size = 8;
	if (size > ZONE_SLAB_CHUNK - HEAD_SIZE) {
		/* A chunk of its own, returned with the object. */
		if (size > SIZE_MAX - 2 * ZONE_SLAB_CHUNK)
			return NULL;
		struct chunk_head *h = chunk_new(HEAD_SIZE + size, 1);
		if (h == NULL)
			return NULL;
		s->chunks++;
		return (uint8_t *)h + HEAD_SIZE;
	}
	if (s->chunk == NULL || s->used + size > ZONE_SLAB_CHUNK) {
		struct chunk_head *h = chunk_new(ZONE_SLAB_CHUNK, 1);
		if (h == NULL)
			return NULL;
		zone_slab_finish(s);
		s->chunk = (uint8_t *)h;
		s->used = HEAD_SIZE;
		s->chunks++;
	}
	void *p = s->chunk + s->used;
	s->used += size;
	__atomic_add_fetch(&((struct chunk_head *)s->chunk)->live, 1,
			   __ATOMIC_RELAXED);
	return p;
}

void zone_slab_free(void *p)
{
	if (p != NULL)
		chunk_put(chunk_of(p));
}

void zone_slab_finish(struct zone_slab *s)
{
	if (s->chunk != NULL)
		chunk_put((struct chunk_head *)s->chunk);
	s->chunk = NULL;
	s->used = 0;
}

#define SCRATCH_BLOCK ((size_t)1 << 20)

void zone_scratch_init(struct zone_scratch *s)
{
	s->block = NULL;
	s->used = 0;
	s->cap = 0;
}

void *zone_scratch_alloc(struct zone_scratch *s, size_t size)
{
	size = (size + 7) & ~(size_t)7;
	if (s->block == NULL || size > s->cap - s->used) {
		size_t cap = SCRATCH_BLOCK;
		if (size > cap - 8) {
			if (size > SIZE_MAX - 8)
				return NULL;
			cap = size + 8;
		}
		uint8_t *b = malloc(cap);
		if (b == NULL)
			return NULL;
		*(uint8_t **)(void *)b = s->block;
		s->block = b;
		s->used = 8;
		s->cap = cap;
	}
	void *p = s->block + s->used;
	s->used += size;
	return p;
}

void zone_scratch_free(struct zone_scratch *s)
{
	while (s->block != NULL) {
		uint8_t *prev = *(uint8_t **)(void *)s->block;
		free(s->block);
		s->block = prev;
	}
	s->used = s->cap = 0;
}
