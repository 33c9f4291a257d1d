/* The node-wide "current serving view" slot (declared in node/zone/view.h).
 * Readers (DNS workers) are urcu-qsbr threads: they load the pointer without
 * a lock and announce quiescent states between batches. The one writer (the
 * control thread) swaps the pointer and hands the view it replaced to
 * call_rcu: urcu's reclamation thread frees it after a grace period, so
 * publishing never waits for readers. */
#include "node/zone/view.h"

#include <urcu-qsbr.h>

#include "node/zone/view_impl.h"

static struct serving_view *serving_view_slot;

struct serving_view *serving_view_current(void)
{
	return rcu_dereference(serving_view_slot);
}

static void view_free_cb(struct rcu_head *head)
{
	serving_view_free(caa_container_of(head, struct serving_view, rcu));
}

void serving_view_publish(struct serving_view *v)
{
	struct serving_view *old;

	old = rcu_xchg_pointer(&serving_view_slot, v);
	if (old != NULL)
		call_rcu(&old->rcu, view_free_cb);
	/* Stopping: everything replaced is freed before we return. */
	if (v == NULL)
		rcu_barrier();
}

void serving_view_reclaim_wait(void)
{
	rcu_barrier();
}
