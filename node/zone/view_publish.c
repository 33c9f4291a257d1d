/* The node-wide "current serving view" slot (declared in node/zone/view.h).
 * Readers (DNS workers) are urcu-qsbr threads: they load the pointer without
 * a lock and announce quiescent states between batches. The one writer (the
 * control thread) swaps the pointer, waits for a grace period, then frees the
 * view it replaced. */
#include "node/zone/view.h"

#include <urcu-qsbr.h>

static struct serving_view *serving_view_slot;

struct serving_view *serving_view_current(void)
{
	return rcu_dereference(serving_view_slot);
}

void serving_view_publish(struct serving_view *v)
{
	struct serving_view *old;

	old = rcu_xchg_pointer(&serving_view_slot, v);
	if (old == NULL)
		return;
	/* Every reader that could have loaded old has passed a quiescent
	 * state (or gone offline) when this returns. */
	synchronize_rcu();
	serving_view_free(old);
}
