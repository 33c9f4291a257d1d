/* Hosted zones as text, at the edge of the control plane (libzscanner,
 * jansson; not part of the FSM library q53_fsm): a zone file parsed into
 * the typed record sets an ImportZone command carries and
 * zone_store_replace applies, and a zone written back as a zone file and a
 * change batch. The node serving the request parses; apply parses
 * nothing. */
#ifndef Q53_NODE_CONTROL_ZONE_TEXT_H
#define Q53_NODE_CONTROL_ZONE_TEXT_H

#include <stddef.h>

#include "node/control/change_batch.h"
#include "node/control/zone_store.h"

/* Typed record sets that own their memory. */
struct zone_text_sets {
	struct rrset_data *sets; /* canonical order, each set once */
	size_t n;
	void *priv;
};
void zone_text_sets_free(struct zone_text_sets *t);

/* Parses a zone file (text[0..len), names relative to zone) into *out
 * (release with zone_text_sets_free): records grouped into record sets in
 * canonical order (the first TTL of a set wins, identical records merge).
 * Only the types change batches take; class IN; no $INCLUDE, no names
 * outside the zone, SOA only at the apex. Returns 0, Q53_EINVAL with
 * "InvalidInput: line N: ..." in err, or Q53_ENOMEM. What depends on the
 * zone's current state (its SOA and NS when the file has none, the
 * serial, the zone rules) is zone_store_replace's. */
int zone_text_parse(const struct zone_store_info *zone, const char *text,
		    size_t len, struct zone_text_sets *out, char *err,
		    size_t errlen);

/* One import's limit of records (zone_text_parse_request): twice the
 * largest zone the benchmarks import (1,000,003 records); larger zones go
 * in as several change batches. */
#define ZONE_TEXT_MAX_RECORDS 2000000

/* zone_text_parse with Route 53's rules (node/dnsdata/rdata_policy.h: no
 * wildcard NS, CAA / DS / SSHFP / TLSA / NAPTR checked, no TXT / SPF
 * string of more than 255 bytes on a one-line record) and at most
 * ZONE_TEXT_MAX_RECORDS records: what a request is parsed with.
 * zone_text_parse keeps 0.4.0's rules, for the upgrade module's old log
 * entries, which must convert as they did. */
int zone_text_parse_request(const struct zone_store_info *zone,
			    const char *text, size_t len,
			    struct zone_text_sets *out, char *err,
			    size_t errlen);

/* zone_text_parse then zone_store_replace (tools, tests). */
int zone_text_import(struct zone_store *s, const char *id, const char *text,
		     size_t len, char *err, size_t errlen);

/* The zone as RFC 1035 text, one record per line, absolute names, in
 * canonical order. A zone file has no place for a SetIdentifier, a
 * Failover role or a HealthCheckId, so record sets carrying any of them
 * are left out (never reduced to their currently answered records); a
 * comment line after $ORIGIN says how many, and zone_text_export_batch
 * gives them. Importing the file alone therefore drops them. *text is
 * NUL-terminated, caller frees with free(). */
int zone_text_export(const struct zone_store *s, const char *id, char **text,
		     size_t *len, char *err, size_t errlen);

/* The record sets zone_text_export leaves out, every member of every
 * group with all its fields, as a Route 53 change batch of CREATEs
 * (change_batch_format) that change_batch_parse and zone_store_apply read
 * back after importing the zone file: the two together restore the
 * zone's record sets. Names use Route 53's \ooo escapes. A zone beyond
 * one batch's limits (1,000 records, 32,000 value characters) gives a
 * batch the caller must split. When there is nothing to leave out,
 * returns 0 with *json NULL and *len 0; otherwise *json is
 * NUL-terminated, caller frees with free(). */
int zone_text_export_batch(const struct zone_store *s, const char *id,
			   char **json, size_t *len, char *err, size_t errlen);

#endif
