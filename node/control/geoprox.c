/* GeoProximityLocation checks and the AWS Region table (geoprox.h). */
#include "node/control/geoprox.h"

#include <stdio.h>
#include <string.h>

/* The AWS Regions of the aws, aws-cn and aws-us-gov partitions as
 * botocore lists them (botocore/data/endpoints.json, "regions", in the
 * test venv's botocore), each at a point of the place its description
 * names, in hundredths of a degree. Route 53 does not publish the point it
 * uses for a Region, so these are ours: the centre of the city the
 * description names (Tokyo, Frankfurt, ...), or, where it names an area
 * (N. Virginia, Ohio, Ireland, UAE, GovCloud, ...), of the city named in
 * the comment; city centres as the cities' Wikipedia articles give them,
 * rounded to 0.01 degree. A client near the middle between two Regions
 * may therefore be answered differently from Route 53. */
static const struct {
	const char *name;
	int16_t lat, lon;
} REGIONS[] = {
    {"af-south-1", -3392, 1842},      /* Cape Town */
    {"ap-east-1", 2232, 11417},	      /* Hong Kong */
    {"ap-northeast-1", 3568, 13969},  /* Tokyo */
    {"ap-northeast-2", 3757, 12698},  /* Seoul */
    {"ap-northeast-3", 3469, 13550},  /* Osaka */
    {"ap-south-1", 1908, 7288},	      /* Mumbai */
    {"ap-south-2", 1739, 7849},	      /* Hyderabad */
    {"ap-southeast-1", 135, 10382},   /* Singapore */
    {"ap-southeast-2", -3387, 15121}, /* Sydney */
    {"ap-southeast-3", -621, 10685},  /* Jakarta */
    {"ap-southeast-4", -3781, 14496}, /* Melbourne */
    {"ca-central-1", 4550, -7357},    /* Canada (Central): Montreal */
    {"ca-west-1", 5105, -11407},      /* Calgary */
    {"cn-north-1", 3990, 11641},      /* Beijing */
    {"cn-northwest-1", 3849, 10623},  /* Ningxia: Yinchuan */
    {"eu-central-1", 5011, 868},      /* Frankfurt */
    {"eu-central-2", 4738, 854},      /* Zurich */
    {"eu-north-1", 5933, 1807},	      /* Stockholm */
    {"eu-south-1", 4546, 919},	      /* Milan */
    {"eu-south-2", 4042, -370},	      /* Spain: Madrid */
    {"eu-west-1", 5335, -626},	      /* Ireland: Dublin */
    {"eu-west-2", 5151, -13},	      /* London */
    {"eu-west-3", 4886, 235},	      /* Paris */
    {"il-central-1", 3209, 3478},     /* Tel Aviv */
    {"me-central-1", 2520, 5527},     /* UAE: Dubai */
    {"me-south-1", 2623, 5059},	      /* Bahrain: Manama */
    {"sa-east-1", -2355, -4663},      /* Sao Paulo */
    {"us-east-1", 3904, -7749},	      /* N. Virginia: Ashburn */
    {"us-east-2", 3996, -8300},	      /* Ohio: Columbus */
    {"us-gov-east-1", 3996, -8300},   /* GovCloud (US-East): Columbus */
    {"us-gov-west-1", 4552, -12268},  /* GovCloud (US-West): Portland */
    {"us-west-1", 3777, -12242},      /* N. California: San Francisco */
    {"us-west-2", 4552, -12268},      /* Oregon: Portland */
};

static long long abs_i32(int32_t v)
{
	return v < 0 ? -(long long)v : (long long)v;
}

int aws_region_coordinates(const char *name, int32_t *lat, int32_t *lon)
{
	for (size_t i = 0; i < sizeof(REGIONS) / sizeof(REGIONS[0]); i++) {
		if (strcmp(REGIONS[i].name, name) == 0) {
			*lat = REGIONS[i].lat;
			*lon = REGIONS[i].lon;
			return 0;
		}
	}
	return -1;
}

int geoprox_check(const struct change_geoprox *g, int32_t *lat, int32_t *lon,
		  char *why, size_t whylen)
{
	int n = (g->region != NULL) + (g->local_zone_group != NULL) +
		g->has_coordinates;
	*lat = *lon = 0;
	if (n != 1) {
		snprintf(why, whylen,
			 "GeoProximityLocation needs exactly one of "
			 "AWSRegion, LocalZoneGroup and Coordinates");
		return -1;
	}
	if (g->bias < -99 || g->bias > 99) {
		snprintf(why, whylen,
			 "GeoProximityLocation.Bias %d is out of range (-99 "
			 "to 99)",
			 (int)g->bias);
		return -1;
	}
	if (g->local_zone_group != NULL) {
		snprintf(why, whylen,
			 "GeoProximityLocation.LocalZoneGroup \"%.64s\": "
			 "Local Zone Groups are not supported (no public "
			 "table gives their coordinates); use Coordinates",
			 g->local_zone_group);
		return -1;
	}
	if (g->region != NULL) {
		if (aws_region_coordinates(g->region, lat, lon) != 0) {
			snprintf(why, whylen,
				 "GeoProximityLocation.AWSRegion \"%.64s\" "
				 "is not a known AWS Region",
				 g->region);
			return -1;
		}
		return 0;
	}
	if (g->latitude < -9000 || g->latitude > 9000) {
		snprintf(
		    why, whylen,
		    "GeoProximityLocation.Coordinates.Latitude %s%lld.%02lld "
		    "is out of range (-90 to 90)",
		    g->latitude < 0 ? "-" : "", abs_i32(g->latitude) / 100,
		    abs_i32(g->latitude) % 100);
		return -1;
	}
	if (g->longitude < -18000 || g->longitude > 18000) {
		snprintf(why, whylen,
			 "GeoProximityLocation.Coordinates.Longitude "
			 "%s%lld.%02lld is out of range (-180 to 180)",
			 g->longitude < 0 ? "-" : "",
			 abs_i32(g->longitude) / 100,
			 abs_i32(g->longitude) % 100);
		return -1;
	}
	*lat = g->latitude;
	*lon = g->longitude;
	return 0;
}
