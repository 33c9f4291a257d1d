/* Route 53's geolocation codes (GeoLocation: ContinentCode, CountryCode,
 * SubdivisionCode) and their packed form (a ZONE_GEO_* location,
 * node/zone/choice.h). Pure: no I/O, no allocation. */
#ifndef Q53_NODE_CONTROL_GEO_CODES_H
#define Q53_NODE_CONTROL_GEO_CODES_H

#include <stddef.h>
#include <stdint.h>

/* Checks a GeoLocation (each field NULL when absent): exactly one of
 * continent and country ("*": the default), a subdivision only with a
 * country that has them (US states, Ukraine's oblasts), every code one
 * Route 53 knows. Returns 0 and sets *loc (ZONE_GEO_CHOICE | ...), or -1
 * with the reason in why. */
int geo_location_check(const char *continent, const char *country,
		       const char *subdivision, uint32_t *loc, char *why,
		       size_t whylen);

/* The client location of the codes a MaxMind DB gives (each NULL or not
 * known: that field 0); kind bits 0. */
uint32_t geo_location_of(const char *continent, size_t clen,
			 const char *country, size_t cclen,
			 const char *subdivision, size_t slen);

#endif
