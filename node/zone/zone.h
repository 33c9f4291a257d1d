/* A hosted zone compiled for serving: every name's answers precompiled to
 * wire format, immutable once loaded, shared between serving views by
 * reference count. */
#ifndef Q53_NODE_ZONE_ZONE_H
#define Q53_NODE_ZONE_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/zone/choice.h"

struct zone;

/* Parses the RFC 1035 zone file at path (libzscanner) for origin (text, with
 * or without the final dot) and compiles it. On success *out holds a zone
 * with one reference (release with zone_release). On failure returns a
 * negative q53_err and writes "path:line: reason" into errbuf (always
 * NUL-terminated); *out is untouched. */
int zone_load_file(struct zone **out, const char *origin, const char *path,
		   char *errbuf, size_t errlen);

/* The same from zone text in memory (tests, fuzzing). name is used in
 * messages in place of a path. */
int zone_load_text(struct zone **out, const char *origin, const char *text,
		   size_t len, const char *name, char *errbuf, size_t errlen);

/* Building a zone from records held in memory (the replicated store):
 * new -> add... -> finish (or abort). The builder copies what it is given.
 * origin and owners are wire names in any case; add refuses what a zone
 * file would refuse (class, meta types, SOA off the apex) with a reason in
 * errbuf; finish runs the zone checks (SOA and NS at the apex, CNAME
 * exclusivity) and compiles. finish and abort free the builder. */
struct zone_builder;
int zone_builder_new(struct zone_builder **out, const uint8_t *origin);
int zone_builder_add(struct zone_builder *b, const uint8_t *owner,
		     uint16_t type, uint32_t ttl, const uint8_t *rdata,
		     uint16_t rdlen, char *errbuf, size_t errlen);
int zone_builder_finish(struct zone_builder *b, struct zone **out, char *errbuf,
			size_t errlen);
void zone_builder_abort(struct zone_builder *b);

void zone_retain(struct zone *z);
void zone_release(struct zone *z);

/* The origin as lowercase wire format (owned by the zone). */
const uint8_t *zone_origin(const struct zone *z);
/* Number of resource records loaded. */
size_t zone_record_count(const struct zone *z);

/* Sizes b for about names owner names (a hint: fewer reallocations).
 * 0 or Q53_ENOMEM. */
int zone_builder_reserve(struct zone_builder *b, size_t names);
/* The caller adds every name's records together, one name after the
 * other, never coming back to one (e.g. in canonical order): the builder
 * then indexes new names in one batch instead of one by one (a large
 * zone builds faster). A name given again after others makes
 * zone_builder_finish fail. */
void zone_builder_grouped(struct zone_builder *b);

/* Marks owner (added to b already) as answering by health: its node is
 * rebuilt by every incremental build (zone_update_build). 0 or Q53_ENOMEM.
 */
int zone_builder_volatile(struct zone_builder *b, const uint8_t *owner);

/* A query-time choice (weighted, multivalue answer routing: choice.h):
 * leaves[0..n) are RRsets of one type, each with a share. The owner's own
 * RRset of that type (added as usual, e.g. leaf 0's records) is what the
 * answers that only look at the name use (ANY, additional sections, CNAME
 * chains into it); a query for the name itself is answered with a leaf
 * picked by a hash of the query. */
/* For owner (added to b already, with records of type): copies the
 * choice (its leaves and extra data). Also marks owner as answering by
 * health (zone_builder_volatile). 0, Q53_EINVAL (no such owner, no leaf,
 * more than ZONE_CHOICE_MAX_LEAVES, a weight 0 in a WEIGHTED choice, an
 * unknown kind or an empty leaf) or Q53_ENOMEM. */
int zone_builder_choice(struct zone_builder *b, const uint8_t *owner,
			uint16_t type, const struct zone_choice_spec *spec);

/* A process-wide unique id of this compiled version (never reused). */
uint64_t zone_build_id(const struct zone *z);

/* --- incremental builds --- */

/* Where an incremental build reads the zone's current records (the
 * replicated store). Names are lowercase wire names. */
struct zone_update;
struct zone_update_source {
	void *ctx;
	/* Adds every record owned by name through zone_update_add (none
	 * when it owns none); returns 0 or the error zone_update_add gave. */
	int (*records)(void *ctx, struct zone_update *u, const uint8_t *name,
		       size_t len);
	/* Whether a record is owned by name or a name below it. */
	bool (*exists)(void *ctx, const uint8_t *name, size_t len);
	/* Calls fn(arg, owner, owner_len) once for every owner strictly
	 * below name; stops at and returns fn's first nonzero result. */
	int (*each_below)(void *ctx, const uint8_t *name, size_t len,
			  int (*fn)(void *arg, const uint8_t *owner,
				    size_t owner_len),
			  void *arg);
};

/* Builds the next version of prev after the records of changed[0..n)
 * (owner names whose record sets were added, replaced or removed since prev
 * was built) changed in src; health-answered names and names whose answers
 * depend on others are rebuilt too. Everything else is shared with prev,
 * which stays valid and unchanged. The result answers every query exactly
 * as a full build of src would. *out carries one reference. Same errors as
 * zone_builder_finish, with a reason in errbuf. */
int zone_update_build(struct zone **out, const struct zone *prev,
		      const uint8_t *const *changed, size_t n,
		      const struct zone_update_source *src, char *errbuf,
		      size_t errlen);
/* From src->records: one record of owner (the name being read). */
int zone_update_add(struct zone_update *u, const uint8_t *owner, uint16_t type,
		    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
/* From src->records: owner answers by health (see zone_builder_volatile).
 */
void zone_update_volatile(struct zone_update *u, const uint8_t *owner);
/* From src->records: a choice (see zone_builder_choice). */
int zone_update_choice(struct zone_update *u, const uint8_t *owner,
		       uint16_t type, const struct zone_choice_spec *spec);

#endif
