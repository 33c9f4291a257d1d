/* A hosted zone compiled for serving: every name's answers precompiled to
 * wire format, immutable once loaded, shared between serving views by
 * reference count. */
#ifndef Q53_NODE_ZONE_ZONE_H
#define Q53_NODE_ZONE_ZONE_H

#include <stddef.h>
#include <stdint.h>

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

#endif
