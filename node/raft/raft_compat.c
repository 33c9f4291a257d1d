#include "node/raft/raft_compat.h"

#include <stddef.h>
#include <string.h>

/* Written against libraft 0.15.0, whose raft.h has no version macro; later
 * releases define RAFT_VERSION_NUMBER. Both defects and the struct raft
 * fields read here must be checked again before building against one. */
#if defined(RAFT_VERSION_NUMBER) || defined(RAFT_VERSION_MAJOR)
#error "raft_compat.c targets libraft 0.15.0: re-check its two workarounds"
#endif
/* 0.15 identifies itself by shape: error codes as macros ending at
 * RAFT_TOOMANY 23 (0.17 and later: an enum), the log cache and the
 * snapshot put request embedded in struct raft, as read below. */
#if !defined(RAFT_TOOMANY) || RAFT_TOOMANY != 23
#error "raft_compat.c targets libraft 0.15.0 (RAFT_TOOMANY 23 as a macro)"
#endif
_Static_assert(sizeof(((struct raft *)NULL)->log) == sizeof(struct raft_log),
	       "libraft 0.15: struct raft embeds its struct raft_log");
_Static_assert(sizeof(((struct raft *)NULL)->snapshot.put) ==
		   sizeof(struct raft_io_snapshot_put),
	       "libraft 0.15: struct raft holds the snapshot put request");

void q53_raft_compat_init(struct q53_raft_compat *c, unsigned fixes)
{
	memset(c, 0, sizeof(*c));
	c->fixes = fixes & Q53_RAFT_COMPAT_ALL;
}

/* Defect 2: entries up to the follower's snapshot are committed, hence the
 * leader's: start the request at the snapshot (same array, same batch:
 * raft frees both), or drop its entries when it holds nothing newer. */
static void skip_snapshotted(const struct raft *r,
			     struct raft_append_entries *ae)
{
	raft_index snap = r->log.snapshot.last_index, skip;

	/* While a snapshot is stored (taken or installed) raft's own rules
	 * apply: it ignores entries then. */
	if (snap == 0 || ae->prev_log_index >= snap ||
	    r->snapshot.put.data != NULL)
		return;
	skip = snap - ae->prev_log_index;
	if (skip >= ae->n_entries) {
		/* As raft 0.15 frees an inbound request: one batch per
		 * message, entries[0].batch, then the array. */
		if (ae->n_entries > 0)
			raft_free(ae->entries[0].batch);
		raft_free(ae->entries);
		ae->entries = NULL;
		ae->n_entries = 0;
	} else {
		memmove(ae->entries, ae->entries + skip,
			(ae->n_entries - skip) * sizeof(*ae->entries));
		ae->n_entries -= (unsigned)skip;
	}
	ae->prev_log_index = snap;
	ae->prev_log_term = r->log.snapshot.last_term;
}

void q53_raft_compat_recv(struct q53_raft_compat *c, const struct raft *r,
			  struct raft_message *m)
{
	struct raft_append_entries *ae = &m->append_entries;

	c->in_append = false;
	if (m->type != RAFT_IO_APPEND_ENTRIES || ae->term < r->current_term)
		return;
	if (c->fixes & Q53_RAFT_COMPAT_SNAPSHOT)
		skip_snapshotted(r, ae);
	if (!(c->fixes & Q53_RAFT_COMPAT_COMMIT))
		return;
	/* Defect 1: nothing past prev_log_index + n_entries was verified. */
	c->verified = ae->prev_log_index + ae->n_entries;
	if (ae->leader_commit > c->verified)
		ae->leader_commit = c->verified;
	c->in_append = true;
}

void q53_raft_compat_recv_done(struct q53_raft_compat *c)
{
	c->in_append = false;
}

void q53_raft_compat_send(const struct q53_raft_compat *c,
			  struct raft_message *m)
{
	struct raft_append_entries_result *res = &m->append_entries_result;

	if (m->type == RAFT_IO_APPEND_ENTRIES_RESULT && c->in_append &&
	    res->rejected == 0 && res->last_log_index > c->verified)
		res->last_log_index = c->verified;
}
