/* Geoproximity routing's locations (GeoProximityLocation): the check of
 * one as a change gives it, and the coordinates of the AWS Regions an
 * AWSRegion names. Pure: no I/O, no allocation. */
#ifndef Q53_NODE_CONTROL_GEOPROX_H
#define Q53_NODE_CONTROL_GEOPROX_H

#include <stddef.h>
#include <stdint.h>

#include "node/control/change_batch.h"

/* Checks g (untrusted: a parsed batch or the typed log): exactly one of
 * AWSRegion (one of aws_region_coordinates'), LocalZoneGroup (refused:
 * there is no public mapping of Local Zone Groups to coordinates) and
 * Coordinates (Latitude -90..90, Longitude -180..180), Bias -99..99.
 * Returns 0 and the location's coordinates in hundredths of a degree, or
 * -1 with the reason in why. */
int geoprox_check(const struct change_geoprox *g, int32_t *lat, int32_t *lon,
		  char *why, size_t whylen);

/* The coordinates (hundredths of a degree) of AWS Region name: 0, or -1
 * for a name not in the table. */
int aws_region_coordinates(const char *name, int32_t *lat, int32_t *lon);

#endif
