/* Internals of the zone store shared by zone_store.c (the data model) and
 * zone_store_build.c (compiling zones for serving, full and incremental).
 * Not for other modules. */
#ifndef Q53_NODE_CONTROL_ZONE_STORE_IMPL_H
#define Q53_NODE_CONTROL_ZONE_STORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/control/zone_store.h"
#include "node/control/zone_store_sets.h"
#include "node/dnsdata/dname.h"

#define NAME_TEXT_MAX (DNAME_MAXLEN * 4 + 2)

/* What changed since the zone was last compiled by
 * zone_store_build_update: a local cache, not replicated state (not in
 * snapshots, never compared between nodes). */
struct zone_store_track;

struct zone_store_zone {
	char id[ZONE_STORE_ID_MAX + 1];
	uint8_t origin[DNAME_MAXLEN];
	uint8_t origin_len;
	char name[NAME_TEXT_MAX];
	char *comment;
	char *caller_reference;
	uint32_t serial;
	struct zone_store_sets sets;	/* canonical order */
	struct zone_store_track *track; /* NULL until the first update */
	size_t nalias;	 /* alias sets: their answers follow other zones */
	size_t nlatency; /* latency sets: their answers follow the table */
	size_t ncidr;	 /* IP-based sets (CidrRoutingConfig) */
	/* MAX_RRSETS_BY_ZONE (replicated: CreateHostedZone 8,
	 * SetHostedZoneLimit); 0: none, every zone of a log before 0.5.0. */
	uint64_t max_rrsets;
};

/* The longest alias chain (alias to alias ...) apply accepts and builds
 * follow. */
#define ZONE_STORE_ALIAS_DEPTH 8

/* The (owner, type) group of sets q holds for name and type: its first
 * position, and the end (== start when there is none). */
size_t zone_store_impl_find_group(const struct zone_store_sets *q,
				  const uint8_t *name, uint16_t type,
				  size_t *end);

/* zone_store.c's helpers. */
int zone_store_impl_name_cmp(const uint8_t *a, const uint8_t *b);
struct zone_store_zone *zone_store_impl_find(const struct zone_store *s,
					     const char *id);
int zone_store_impl_no_such_zone(const char *id, char *err, size_t errlen);
/* The end of the (owner, type) group that starts at position i of q; its
 * first max members go to g[]. */
size_t zone_store_impl_group_end(const struct zone_store_sets *q, size_t i,
				 struct zone_store_rrset **g, size_t max);
/* The first set whose owner is not before owner (canonical order). */
size_t zone_store_impl_lower_bound(const struct zone_store_zone *z,
				   const uint8_t *owner);

/* Traffic Flow (zone_store_flow.c): whether zone zone_id holds a policy
 * record at (name, type) (name NULL: anywhere; type 0: of any type), and
 * freeing s's policies. */
bool zone_store_impl_has_instance(const struct zone_store *s,
				  const char *zone_id, const uint8_t *name,
				  size_t len, uint16_t type);
void zone_store_flow_free(struct zone_store *s);
/* Whether a policy record of zone zone_id compiles a cidr rule of
 * collection id (and location, unless NULL): zone_store_flow.c. */
bool zone_store_flow_uses_cidr(const struct zone_store *s, const char *zone_id,
			       const char *id, const char *location);

/* Dirty tracking (zone_store_build.c), called by the mutations: owner's
 * record sets were inserted, replaced or removed; then the mutation
 * committed (the serial moved). A mutation that calls neither makes the
 * next update a full build (the serial no longer matches). Never fail:
 * out of memory degrades to a full build. */
void zone_store_track_name(struct zone_store_zone *z, const uint8_t *owner);
void zone_store_track_commit(struct zone_store_zone *z);
void zone_store_track_free(struct zone_store_zone *z);

#endif
