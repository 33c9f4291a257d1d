/* The client's location for geolocation routing, from a MaxMind DB file
 * (q53d --geoip FILE; libmaxminddb). Opened once at start, read-only
 * after: any thread may look up at any time. A lookup allocates nothing
 * (MMDB_lookup_sockaddr and MMDB_get_value walk the mapped file). */
#ifndef Q53_NODE_GEO_GEO_H
#define Q53_NODE_GEO_GEO_H

#include <stddef.h>
#include <stdint.h>

struct geo_db;

/* Opens path (memory-mapped) and computes its SHA-256. 0, or a negative
 * q53_err with a reason in err. */
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

#endif
