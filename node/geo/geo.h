/* The client's location for geolocation and geoproximity routing, from a
 * MaxMind DB file (q53d --geoip FILE; libmaxminddb). Opened once at start,
 * read-only after: any thread may look up at any time.
 *
 * geo_open walks the file's whole search tree once (MMDB_read_node) and
 * precomputes a longest-prefix table (node/zone/prefix.h) of every
 * network it holds, data or empty, to the network's place: its location
 * code and, from GeoIP2-City's location.latitude/longitude, coordinates.
 * A lookup is then one table walk: no libmaxminddb, no allocation, and the
 * same location and prefix length libmaxminddb's lookup gives (IPv6
 * networks that MaxMind aliases to the IPv4 subtree, ::/96, ::ffff:0:0/96,
 * 2002::/16, are looked up in the IPv4 table with the bits that follow).
 * A file whose tree cannot be walked (corrupt, or more than 2^25
 * networks) keeps the per-query libmaxminddb lookup. */
#ifndef Q53_NODE_GEO_GEO_H
#define Q53_NODE_GEO_GEO_H

#include <stddef.h>
#include <stdint.h>

#include "node/zone/choice.h"

struct geo_db;

/* What a network of the file says (entries shared by networks share it). */
struct geo_place {
	uint32_t loc;		     /* geo_location_of, 0 when none */
	struct zone_geo_point point; /* has == 0: no coordinates */
};

/* Aliases of the IPv4 subtree kept at most. */
#define GEO_MAX_ALIASES 8

/* Opens path (memory-mapped), computes its SHA-256 and builds the table.
 * 0, or a negative q53_err with a reason in err. */
int geo_open(const char *path, struct geo_db **out, char *err, size_t errlen);
void geo_close(struct geo_db *db);

/* The file's SHA-256, 64 lowercase hex digits. */
const char *geo_sha256(const struct geo_db *db);

/* The location (geo_location_of, node/control/geo_codes.h) of the network
 * holding addr (family 4: 4 bytes, 6: 16 bytes), 0 when the file has none;
 * *prefix: the prefix length of the matched network in addr's family (0
 * when nothing matched). */
uint32_t geo_locate(const struct geo_db *db, int family, const uint8_t *addr,
		    uint8_t *prefix);

/* The place of the network holding addr from the table (NULL: no data or
 * no table), *prefix as geo_locate's. Needs geo_table_size(db) > 0. */
const struct geo_place *geo_find(const struct geo_db *db, int family,
				 const uint8_t *addr, uint8_t *prefix);

/* The lookup through libmaxminddb (what the table reproduces; tests and
 * the fallback): the location, *prefix, and *point when not NULL. */
uint32_t geo_locate_mmdb(const struct geo_db *db, int family,
			 const uint8_t *addr, uint8_t *prefix,
			 struct zone_geo_point *point);

/* 1 + the number of places of the table, 0 when there is none. */
size_t geo_table_size(const struct geo_db *db);

#endif
