/* The hosted-zone store (node/control/zone_store.h) as client API
 * messages (proto/api.proto): zone references resolved, zones, record
 * sets and pages of them rendered. Read-only on the store; runs wherever
 * the store is read (the FSM's loop thread).
 *
 * Ownership: the *_free functions release exactly what the matching
 * function allocated; strings a rendered message borrows from the store
 * (zone ids, names, comments) stay valid only until the store changes, so
 * reply before changing it. Errors: 0 or a negative q53_err, with a
 * "Code: message" reason in err where one is taken (api_reply_error_text
 * answers with it). */
#ifndef Q53_NODE_API_API_RENDER_H
#define Q53_NODE_API_API_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "node/control/zone_store.h"
#include "proto/api.pb-c.h"

/* The zone a client means by ref: a zone id ("Z..."), "/hostedzone/Z...",
 * or a zone name with or without the final dot (case-insensitive); ids
 * win. Returns 0 and *info, or Q53_ENOENT with "NoSuchHostedZone: ...". */
int api_render_resolve(const struct zone_store *s, const char *ref,
		       struct zone_store_info *info, char *err, size_t errlen);

/* hz borrows info's strings. */
void api_render_zone(Q53__Api__HostedZone *hz,
		     const struct zone_store_info *info);

/* The apex NS names of the zone, absolute with the final dot: *names is
 * an array of *n malloc'd strings, freed with api_render_strings_free.
 * Returns 0 or Q53_ENOMEM. */
int api_render_nameservers(const struct zone_store_info *info, char ***names,
			   size_t *n);
void api_render_strings_free(char **names, size_t n);

/* One page of zones in id order, starting at the first id >= marker
 * ("" = the first); next_marker is the id after the page. max_items 0 =
 * API_MSG_PAGE_DEFAULT. Fills out (initialised here); free with
 * api_render_zones_free. Returns 0 or Q53_ENOMEM. */
int api_render_zones(const struct zone_store *s, const char *marker,
		     uint32_t max_items, Q53__Api__ListZonesResponse *out);
void api_render_zones_free(Q53__Api__ListZonesResponse *out);

/* One page of req->max_items of the zone's record sets in canonical order,
 * from req->start_name/type/identifier (Route 53's StartRecord*: the first
 * set at or after it) or else req->marker, the decimal position of the
 * page's first set (opaque to clients; a change between pages can shift
 * it). The next page's first set is in next_name/type/identifier and
 * next_marker. Fills out (initialised here); free with
 * api_render_records_free. Returns 0, Q53_EINVAL ("InvalidInput: bad
 * marker", a bad start name or type) or Q53_ENOMEM. */
int api_render_records(const struct zone_store_info *info,
		       const Q53__Api__ListRecordsRequest *req,
		       Q53__Api__ListRecordsResponse *out, char *err,
		       size_t errlen);
/* The same, the zone's policy records (traffic policy instances of store
 * s, NULL: none) listed among its sets in canonical position (owner, type;
 * no identifier), each a RecordSet with traffic_policy_instance_id and the
 * instance's TTL; the marker counts both. */
int api_render_records_flow(const struct zone_store_info *info,
			    const struct zone_store *s,
			    const Q53__Api__ListRecordsRequest *req,
			    Q53__Api__ListRecordsResponse *out, char *err,
			    size_t errlen);
void api_render_records_free(Q53__Api__ListRecordsResponse *out);

#endif
