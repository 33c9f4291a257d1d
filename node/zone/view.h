/* The serving view: an immutable set of compiled zones, each with its own
 * name index. DNS workers read the current view without locks; the
 * control thread builds the next one and publishes it with one pointer swap
 * (userspace RCU, QSBR flavour: workers announce quiescent states between
 * batches). */
#ifndef Q53_NODE_ZONE_VIEW_H
#define Q53_NODE_ZONE_VIEW_H

#include <stddef.h>
#include <stdint.h>

struct zone;
struct zone_node;
struct serving_view;

/* Builds a view over zones[0..n). Takes a new reference on every zone (the
 * caller keeps its own). Where two zones nest, names resolve in the deeper
 * zone. Returns 0 or a negative q53_err. */
int serving_view_build(struct serving_view **out, struct zone *const *zones,
		       size_t nzones);
/* Frees the view and drops its zone references. Only after no reader can
 * still see it (serving_view_publish takes care of that). */
void serving_view_free(struct serving_view *v);

size_t serving_view_zone_count(const struct serving_view *v);
struct zone *serving_view_zone(const struct serving_view *v, size_t i);

/* Closest-encloser lookup. name: lowercase wire name of name_len bytes,
 * labels: offsets of each label start in name (labels[0] == 0), nlabels
 * count (root excluded). Returns the node of the longest suffix of name that
 * exists in any zone (*matched = index into labels of that suffix, 0 for an
 * exact match; *zone = the zone holding it, the deeper one where two
 * zones hold the suffix), or NULL when no zone encloses name. Never
 * allocates. */
const struct zone_node *
serving_view_lookup(const struct serving_view *v, const uint8_t *name,
		    size_t name_len, const uint8_t *labels, size_t nlabels,
		    size_t *matched, const struct zone **zone);

/* For zone z whose parent zone is served too, the parent's node of z's
 * apex name (the delegation, which holds the DS RRset), with that zone in
 * *parent; NULL otherwise. */
const struct zone_node *serving_view_parent_side(const struct serving_view *v,
						 const struct zone *z,
						 const struct zone **parent);

/* --- publication (node-wide slot) --- */

/* Reader side: the current view or NULL. Call only from a thread registered
 * with urcu-qsbr and online; the pointer stays valid until the thread's next
 * quiescent state. */
struct serving_view *serving_view_current(void);

/* Writer side (one control thread): makes v current and hands the
 * previous view to call_rcu, which frees it once every reader has passed a
 * quiescent state. Never waits for readers, except when v is NULL (stop
 * serving, at shutdown once the readers are gone): then it returns once
 * every replaced view is freed. */
void serving_view_publish(struct serving_view *v);

/* Waits until every view replaced so far is freed (rcu_barrier). Not from
 * a reader thread that is online. For shutdown and tests. */
void serving_view_reclaim_wait(void);

#endif
