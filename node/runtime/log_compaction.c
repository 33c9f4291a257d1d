/* Log compaction after a large entry (see log_compaction.h). */
#include "node/runtime/log_compaction.h"

void log_compaction_applied(struct log_compaction_state *s, uint64_t index,
			    uint64_t len)
{
	if (len >= LOG_COMPACTION_ENTRY_BYTES && index > s->target)
		s->target = index;
}

struct log_compaction_action
log_compaction_step(struct log_compaction_state *s,
		    const struct log_compaction_input *in)
{
	struct log_compaction_action a = {0};

	if (s->target == 0)
		return a;
	if (in->log_offset >= s->target) {
		s->target = 0;
		return a;
	}
	/* The leader keeps the entry while a server may still need it. */
	if (in->leader && in->min_peer_match < s->target)
		return a;
	a.keep_one = true;
	/* One snapshot at a time; after this one, the threshold is the
	 * configured one again until it has been looked at. */
	if (in->snapshot_running)
		return a;
	a.compact = true;
	a.barrier = in->leader && in->last_index <= s->target;
	return a;
}
