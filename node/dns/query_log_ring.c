#include "node/dns/query_log_ring.h"

#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"

int query_log_ring_init(struct query_log_ring *r, uint32_t size)
{
	memset(r, 0, sizeof(*r));
	if (size < 2 || (size & (size - 1)) != 0)
		return Q53_EINVAL;
	r->recs = calloc(size, sizeof(*r->recs));
	if (r->recs == NULL)
		return Q53_ENOMEM;
	r->mask = size - 1;
	return 0;
}

void query_log_ring_free(struct query_log_ring *r)
{
	free(r->recs);
	r->recs = NULL;
}

size_t query_log_ring_drain(struct query_log_ring *r,
			    void (*fn)(void *ctx,
				       const struct query_log_rec *rec),
			    void *ctx)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	size_t n = 0;

	if (r->recs == NULL)
		return 0;
	for (; t != h; t++, n++)
		fn(ctx, &r->recs[t & r->mask]);
	atomic_store_explicit(&r->tail, t, memory_order_release);
	return n;
}
