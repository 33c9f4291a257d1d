/* Route 53 change batches from JSON (jansson). Every key of the documented
 * shape is recognised; anything else is an error, so that a typo never
 * silently drops a field. The edge of the control plane: not part of the
 * FSM library. */
#include "node/control/change_batch.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rdata_policy.h"
#include "node/dnsdata/rdata_text.h"
#include "node/dnsdata/rrtype.h"

#include <libknot/libknot.h>

/* Reports one problem of change i and returns Q53_EINVAL. */
#define BAD(...) (change_batch_errors_add(e, i, __VA_ARGS__), Q53_EINVAL)

/* Fields of a ResourceRecordSet served: failover, weighted, multivalue
 * answer, geolocation, latency, IP-based and geoproximity routing, health
 * checks and alias records. */
static const char *const ROUTING[] = {
    "SetIdentifier",	 "Failover",
    "HealthCheckId",	 "Weight",
    "MultiValueAnswer",	 "GeoLocation",
    "AliasTarget",	 "Region",
    "CidrRoutingConfig", "GeoProximityLocation",
};

/* Fields of a ResourceRecordSet this version recognises but does not serve
 * yet (traffic policies). */
static const char *const UNSUPPORTED[] = {
    "TrafficPolicyInstanceId",
};

/* The routing policies a SetIdentifier needs exactly one of, with
 * Route 53's names. */
static const char *const POLICIES[] = {
    "Weight",
    "Region",
    "Failover",
    "GeoLocation",
    "MultiValueAnswer",
    "CidrRoutingConfig",
    "GeoProximityLocation",
};

static char *dup_string(const json_t *s)
{
	size_t n = json_string_length(s);
	char *c = malloc(n + 1);
	if (c != NULL) {
		memcpy(c, json_string_value(s), n);
		c[n] = '\0';
	}
	return c;
}

static bool key_in(const char *key, const char *const *keys, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (strcmp(key, keys[k]) == 0)
			return true;
	}
	return false;
}

/* Checks that obj has only the given keys, each present one of the given
 * JSON type (JSON_TRUE stands for any boolean), and all of the first
 * nrequired. where names the object in messages. */
static int check_object(const json_t *obj, const char *where,
			const char *const *keys, const json_type *types,
			size_t nkeys, size_t nrequired,
			struct change_batch_errors *e, size_t i)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return BAD("%s must be an object", where);
	json_object_foreach((json_t *)obj, key, v)
	{
		size_t k;
		for (k = 0; k < nkeys; k++) {
			if (strcmp(key, keys[k]) == 0)
				break;
		}
		if (k == nkeys)
			return BAD("unknown key '%s' in %s", key, where);
		bool ok = types[k] == JSON_TRUE ? json_is_boolean(v)
						: json_typeof(v) == types[k];
		if (!ok)
			return BAD("%s.%s has the wrong JSON type", where, key);
	}
	for (size_t k = 0; k < nrequired; k++) {
		if (json_object_get(obj, keys[k]) != NULL)
			continue;
		/* The change itself: the AWS CLI's words for its own check. */
		if (strncmp(where, "ChangeBatch.", 12) == 0)
			return BAD("Missing required parameter in %s: \"%s\"",
				   where, keys[k]);
		return BAD("%s.%s is required", where, keys[k]);
	}
	return 0;
}

/* A coordinate of the API's pattern ([-+]?[0-9]{1,2 or 3}(\.[0-9]{0,2})?)
 * in hundredths of a degree; false when it does not match. */
static bool parse_coordinate(const char *s, size_t len, unsigned maxint,
			     int32_t *out)
{
	size_t i = 0, nint = 0, nfrac = 0;
	int32_t v = 0, frac = 0;
	bool neg = false;
	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i++;
	}
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, nint++) {
		if (nint >= maxint)
			return false; /* too many digits: refuse before v
					 overflows */
		v = v * 10 + (s[i] - '0');
	}
	if (nint < 1)
		return false;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nfrac++) {
			if (nfrac >= 2)
				return false;
			frac = frac * 10 + (s[i] - '0');
		}
		if (nfrac == 1)
			frac *= 10;
	}
	if (i != len)
		return false;
	v = v * 100 + frac;
	*out = neg ? -v : v;
	return true;
}

/* GeoProximityLocation's shape (botocore's service model): AWSRegion and
 * LocalZoneGroup strings of 1 to 64 characters, Coordinates {Latitude,
 * Longitude} (both required, strings with at most two decimals), Bias an
 * integer. Ranges and "exactly one location" are the store's checks. */
static int check_geoprox_shape(const json_t *v, struct change_batch_errors *e,
			       size_t i)
{
	static const char *const GP[] = {"AWSRegion", "LocalZoneGroup",
					 "Coordinates", "Bias"};
	static const json_type GP_T[] = {JSON_STRING, JSON_STRING, JSON_OBJECT,
					 JSON_INTEGER};
	static const char *const CO[] = {"Latitude", "Longitude"};
	static const json_type CO_T[] = {JSON_STRING, JSON_STRING};
	int32_t x;
	int rc = check_object(v, "GeoProximityLocation", GP, GP_T, 4, 0, e, i);
	if (rc != 0)
		return rc;
	for (size_t k = 0; k < 2; k++) {
		const json_t *s = json_object_get(v, GP[k]);
		if (s != NULL &&
		    (json_string_length(s) < 1 || json_string_length(s) > 64 ||
		     strlen(json_string_value(s)) != json_string_length(s)))
			return BAD("GeoProximityLocation.%s must be a string "
				   "of 1 to 64 characters",
				   GP[k]);
	}
	const json_t *c = json_object_get(v, "Coordinates");
	if (c != NULL) {
		rc = check_object(c, "GeoProximityLocation.Coordinates", CO,
				  CO_T, 2, 2, e, i);
		if (rc != 0)
			return rc;
		const json_t *lat = json_object_get(c, "Latitude");
		const json_t *lon = json_object_get(c, "Longitude");
		if (!parse_coordinate(json_string_value(lat),
				      json_string_length(lat), 2, &x))
			return BAD("GeoProximityLocation.Coordinates.Latitude "
				   "must be a number of degrees with at most "
				   "two decimals (-90 to 90)");
		if (!parse_coordinate(json_string_value(lon),
				      json_string_length(lon), 3, &x))
			return BAD("GeoProximityLocation.Coordinates.Longitude "
				   "must be a number of degrees with at most "
				   "two decimals (-180 to 180)");
	}
	const json_t *b = json_object_get(v, "Bias");
	if (b != NULL &&
	    (json_integer_value(b) < -99 || json_integer_value(b) > 99))
		return BAD("GeoProximityLocation.Bias %lld is out of range "
			   "(-99 to 99)",
			   (long long)json_integer_value(b));
	if (json_object_size(v) == 0)
		return BAD("GeoProximityLocation must name a location");
	return 0;
}

/* Shape of the routing fields, served or not, so a malformed one is
 * reported as malformed rather than as unsupported. */
static int check_routing_shapes(const json_t *rrs,
				struct change_batch_errors *e, size_t i)
{
	static const char *const GEO[] = {"ContinentCode", "CountryCode",
					  "SubdivisionCode"};
	static const json_type GEO_T[] = {JSON_STRING, JSON_STRING,
					  JSON_STRING};
	static const char *const ALIAS[] = {"HostedZoneId", "DNSName",
					    "EvaluateTargetHealth"};
	static const json_type ALIAS_T[] = {JSON_STRING, JSON_STRING,
					    JSON_TRUE};
	static const char *const CIDR[] = {"CollectionId", "LocationName"};
	static const json_type CIDR_T[] = {JSON_STRING, JSON_STRING};
	const json_t *v;
	int rc;

	v = json_object_get(rrs, "SetIdentifier");
	if (v != NULL &&
	    (!json_is_string(v) || json_string_length(v) < 1 ||
	     strlen(json_string_value(v)) != json_string_length(v) ||
	     json_string_length(v) > CHANGE_BATCH_MAX_SET_ID))
		return BAD("SetIdentifier must be a string of 1 to %d "
			   "characters",
			   CHANGE_BATCH_MAX_SET_ID);
	v = json_object_get(rrs, "Weight");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
			  json_integer_value(v) > 255))
		return BAD("Weight must be an integer from 0 to 255");
	v = json_object_get(rrs, "Region");
	if (v != NULL &&
	    (!json_is_string(v) || json_string_length(v) < 1 ||
	     json_string_length(v) > 64 ||
	     strlen(json_string_value(v)) != json_string_length(v)))
		return BAD("Region must be a string of 1 to 64 characters");
	v = json_object_get(rrs, "GeoLocation");
	if (v != NULL) {
		rc = check_object(v, "GeoLocation", GEO, GEO_T, 3, 0, e, i);
		if (rc != 0)
			return rc;
		if (json_object_size(v) == 0)
			return BAD("GeoLocation must name a location");
	}
	v = json_object_get(rrs, "GeoProximityLocation");
	if (v != NULL) {
		rc = check_geoprox_shape(v, e, i);
		if (rc != 0)
			return rc;
	}
	v = json_object_get(rrs, "Failover");
	if (v != NULL && (!json_is_string(v) ||
			  (strcmp(json_string_value(v), "PRIMARY") != 0 &&
			   strcmp(json_string_value(v), "SECONDARY") != 0)))
		return BAD("Failover must be PRIMARY or SECONDARY");
	v = json_object_get(rrs, "MultiValueAnswer");
	if (v != NULL && !json_is_boolean(v))
		return BAD("MultiValueAnswer must be true or false");
	v = json_object_get(rrs, "HealthCheckId");
	if (v != NULL &&
	    (!json_is_string(v) || json_string_length(v) < 1 ||
	     json_string_length(v) > CHANGE_BATCH_MAX_HEALTH_CHECK_ID ||
	     strlen(json_string_value(v)) != json_string_length(v)))
		return BAD("HealthCheckId must be a string of 1 to %d "
			   "characters",
			   CHANGE_BATCH_MAX_HEALTH_CHECK_ID);
	v = json_object_get(rrs, "AliasTarget");
	if (v != NULL) {
		rc = check_object(v, "AliasTarget", ALIAS, ALIAS_T, 3, 3, e, i);
		if (rc != 0)
			return rc;
	}
	v = json_object_get(rrs, "CidrRoutingConfig");
	if (v != NULL) {
		rc = check_object(v, "CidrRoutingConfig", CIDR, CIDR_T, 2, 2, e,
				  i);
		if (rc != 0)
			return rc;
	}
	v = json_object_get(rrs, "TrafficPolicyInstanceId");
	if (v != NULL && !json_is_string(v))
		return BAD("TrafficPolicyInstanceId must be a string");
	return 0;
}

static int parse_values(const json_t *rrs, struct change *c,
			struct change_batch_errors *e, size_t i)
{
	const json_t *list = json_object_get(rrs, "ResourceRecords");
	size_t idx;
	json_t *rr;

	if (list == NULL)
		return BAD("ResourceRecords is required");
	if (!json_is_array(list))
		return BAD("ResourceRecords must be an array");
	if (json_array_size(list) == 0)
		return BAD("ResourceRecords must hold at least one record");
	c->rrset.values = calloc(json_array_size(list), sizeof(char *));
	if (c->rrset.values == NULL)
		return Q53_ENOMEM;
	json_array_foreach(list, idx, rr)
	{
		const char *key;
		json_t *v;
		json_object_foreach(rr, key, v)
		{
			if (strcmp(key, "Value") != 0)
				return BAD("unknown key '%s' in "
					   "ResourceRecords[%zu]",
					   key, idx);
		}
		v = json_object_get(rr, "Value");
		if (!json_is_object(rr) || !json_is_string(v))
			return BAD("ResourceRecords[%zu] must be {\"Value\": "
				   "string}",
				   idx);
		if (json_string_length(v) > CHANGE_BATCH_MAX_VALUE_LEN)
			return BAD("ResourceRecords[%zu].Value is longer than "
				   "%d characters",
				   idx, CHANGE_BATCH_MAX_VALUE_LEN);
		c->rrset.values[idx] = dup_string(v);
		if (c->rrset.values[idx] == NULL)
			return Q53_ENOMEM;
		c->rrset.nvalues++;
	}
	return 0;
}

/* Route 53's description of a change in its "Invalid request" messages:
 * "[Action=CREATE, Name=www.example.com., Type=A, SetIdentifier=x]". */
static void change_text(const json_t *rrs, const struct change *c, char *out,
			size_t outlen)
{
	const char *name = c->rrset.name;
	size_t n = strlen(name);
	const json_t *set_id = json_object_get(rrs, "SetIdentifier");
	const json_t *type = json_object_get(rrs, "Type");

	snprintf(out, outlen,
		 "[Action=%s, Name=%.*s%s, Type=%s, SetIdentifier=%.*s]",
		 change_batch_action_name(c->action), (int)(n > 255 ? 255 : n),
		 name, n > 0 && name[n - 1] == '.' ? "" : ".",
		 json_string_value(type),
		 set_id ? (int)json_string_length(set_id) : 4,
		 set_id ? json_string_value(set_id) : "null");
}

/* SetIdentifier, Failover and HealthCheckId of change i (shapes already
 * checked, no unsupported field present): a SetIdentifier needs exactly
 * one routing policy and a routing policy needs a SetIdentifier. */
static int parse_routing(const json_t *rrs, struct change *c,
			 struct change_batch_errors *e, size_t i)
{
	const json_t *set_id = json_object_get(rrs, "SetIdentifier");
	const json_t *failover = json_object_get(rrs, "Failover");
	const json_t *hc = json_object_get(rrs, "HealthCheckId");
	const json_t *weight = json_object_get(rrs, "Weight");
	const json_t *mv = json_object_get(rrs, "MultiValueAnswer");
	char text[512];
	size_t policies = 0;

	/* MultiValueAnswer false is no policy (Route 53 reads it so). */
	for (size_t k = 0; k < sizeof(POLICIES) / sizeof(POLICIES[0]); k++) {
		const json_t *p = json_object_get(rrs, POLICIES[k]);
		policies += p != NULL && !json_is_false(p);
	}
	change_text(rrs, c, text, sizeof(text));
	if (set_id != NULL && policies != 1) {
		char list[256] = "";
		size_t o = 0;
		for (size_t k = 0; k < sizeof(POLICIES) / sizeof(POLICIES[0]);
		     k++)
			o +=
			    (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
					     k ? ", " : "", POLICIES[k]);
		return BAD("Invalid request: Expected exactly one of [%s], "
			   "but found %s in Change with %s",
			   list, policies == 0 ? "none" : "more than one",
			   text);
	}
	if (set_id == NULL && policies > 0)
		return BAD("Invalid request: Missing field 'SetIdentifier' in "
			   "Change with %s",
			   text);
	if (weight != NULL) {
		c->rrset.has_weight = true;
		c->rrset.weight = (uint8_t)json_integer_value(weight);
	}
	c->rrset.multivalue = mv != NULL && json_is_true(mv);
	if (set_id != NULL) {
		c->rrset.set_identifier = dup_string(set_id);
		if (c->rrset.set_identifier == NULL)
			return Q53_ENOMEM;
	}
	if (failover != NULL)
		c->rrset.failover =
		    strcmp(json_string_value(failover), "PRIMARY") == 0
			? CHANGE_FAILOVER_PRIMARY
			: CHANGE_FAILOVER_SECONDARY;
	if (hc != NULL) {
		c->rrset.health_check_id = dup_string(hc);
		if (c->rrset.health_check_id == NULL)
			return Q53_ENOMEM;
	}
	const json_t *region = json_object_get(rrs, "Region");
	if (region != NULL) {
		c->rrset.region = dup_string(region);
		if (c->rrset.region == NULL)
			return Q53_ENOMEM;
	}
	const json_t *cidr = json_object_get(rrs, "CidrRoutingConfig");
	if (cidr != NULL) {
		const json_t *id = json_object_get(cidr, "CollectionId");
		const json_t *loc = json_object_get(cidr, "LocationName");
		if (strlen(json_string_value(id)) != json_string_length(id) ||
		    strlen(json_string_value(loc)) != json_string_length(loc))
			return BAD("CidrRoutingConfig holds a NUL character");
		c->rrset.cidr_collection_id = dup_string(id);
		c->rrset.cidr_location = dup_string(loc);
		if (c->rrset.cidr_collection_id == NULL ||
		    c->rrset.cidr_location == NULL)
			return Q53_ENOMEM;
	}
	const json_t *geo = json_object_get(rrs, "GeoLocation");
	if (geo != NULL) {
		static const char *const KEYS[] = {
		    "ContinentCode", "CountryCode", "SubdivisionCode"};
		char **dst[] = {&c->rrset.geo_continent, &c->rrset.geo_country,
				&c->rrset.geo_subdivision};
		for (size_t k = 0; k < 3; k++) {
			const json_t *v = json_object_get(geo, KEYS[k]);
			if (v == NULL)
				continue;
			*dst[k] = dup_string(v);
			if (*dst[k] == NULL)
				return Q53_ENOMEM;
		}
	}
	const json_t *gp = json_object_get(rrs, "GeoProximityLocation");
	if (gp != NULL) {
		struct change_geoprox *x = &c->rrset.geoprox;
		const json_t *r = json_object_get(gp, "AWSRegion");
		const json_t *lz = json_object_get(gp, "LocalZoneGroup");
		const json_t *co = json_object_get(gp, "Coordinates");
		const json_t *b = json_object_get(gp, "Bias");
		x->present = true;
		if (r != NULL && (x->region = dup_string(r)) == NULL)
			return Q53_ENOMEM;
		if (lz != NULL &&
		    (x->local_zone_group = dup_string(lz)) == NULL)
			return Q53_ENOMEM;
		if (co != NULL) {
			const json_t *lat = json_object_get(co, "Latitude");
			const json_t *lon = json_object_get(co, "Longitude");
			x->has_coordinates = true;
			parse_coordinate(json_string_value(lat),
					 json_string_length(lat), 2,
					 &x->latitude);
			parse_coordinate(json_string_value(lon),
					 json_string_length(lon), 3,
					 &x->longitude);
		}
		x->bias = b != NULL ? (int32_t)json_integer_value(b) : 0;
	}
	return 0;
}

/* AliasTarget (shape checked) of change i: no TTL, no ResourceRecords. */
static int parse_alias(const json_t *rrs, const json_t *alias, struct change *c,
		       struct change_batch_errors *e, size_t i)
{
	static const char PREFIX[] = "/hostedzone/";
	if (json_object_get(rrs, "TTL") != NULL ||
	    json_object_get(rrs, "ResourceRecords") != NULL)
		return BAD("an alias record set (AliasTarget) has neither TTL "
			   "nor ResourceRecords");
	const json_t *zid = json_object_get(alias, "HostedZoneId");
	const json_t *name = json_object_get(alias, "DNSName");
	const char *z = json_string_value(zid);
	if (strncmp(z, PREFIX, sizeof(PREFIX) - 1) == 0)
		z += sizeof(PREFIX) - 1;
	if (json_string_length(name) == 0 || z[0] == '\0' ||
	    strlen(json_string_value(name)) != json_string_length(name))
		return BAD("AliasTarget needs a HostedZoneId and a DNSName");
	c->rrset.alias_zone_id = strdup(z);
	c->rrset.alias_dns_name = dup_string(name);
	if (c->rrset.alias_zone_id == NULL || c->rrset.alias_dns_name == NULL)
		return Q53_ENOMEM;
	c->rrset.alias_evaluate =
	    json_is_true(json_object_get(alias, "EvaluateTargetHealth"));
	return 0;
}

/* Every string of a ResourceRecordSet but its Values (which have their own
 * limit) at most CHANGE_BATCH_MAX_FIELD_LEN: no field of any length
 * reaches the log (a 64 MB Name used to, refused only at apply). */
static int check_field_lengths(const json_t *v, const char *key,
			       struct change_batch_errors *e, size_t i)
{
	const char *k;
	size_t idx;
	json_t *x;
	int rc;

	if (json_is_string(v) &&
	    json_string_length(v) > CHANGE_BATCH_MAX_FIELD_LEN)
		return BAD("%s is longer than %d characters", key,
			   CHANGE_BATCH_MAX_FIELD_LEN);
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
		{
			if (strcmp(k, "ResourceRecords") == 0)
				continue;
			if ((rc = check_field_lengths(x, k, e, i)) != 0)
				return rc;
		}
	}
	if (json_is_array(v)) {
		json_array_foreach(v, idx, x)
		{
			if ((rc = check_field_lengths(x, key, e, i)) != 0)
				return rc;
		}
	}
	return 0;
}

/* Parses change i into c (which the caller frees, also on error). */
static int parse_change(const json_t *obj, struct change *c,
			struct change_batch_errors *e, size_t i)
{
	static const char *const CHANGE_KEYS[] = {"Action",
						  "ResourceRecordSet"};
	static const json_type CHANGE_T[] = {JSON_STRING, JSON_OBJECT};
	static const char *const RRS_KEYS[] = {"Name", "Type", "TTL",
					       "ResourceRecords"};
	const char *key;
	json_t *v;
	int rc;

	char where[64];
	snprintf(where, sizeof(where), "ChangeBatch.Changes[%zu]", i);
	rc = check_object(obj, where, CHANGE_KEYS, CHANGE_T, 2, 2, e, i);
	if (rc != 0)
		return rc;
	const char *action = json_string_value(json_object_get(obj, "Action"));
	if (strcmp(action, "CREATE") == 0)
		c->action = CHANGE_CREATE;
	else if (strcmp(action, "DELETE") == 0)
		c->action = CHANGE_DELETE;
	else if (strcmp(action, "UPSERT") == 0)
		c->action = CHANGE_UPSERT;
	else
		return BAD("Action must be CREATE, DELETE or UPSERT");

	const json_t *rrs = json_object_get(obj, "ResourceRecordSet");
	rc = check_field_lengths(rrs, "ResourceRecordSet", e, i);
	if (rc != 0)
		return rc;
	json_object_foreach((json_t *)rrs, key, v)
	{
		if (!key_in(key, RRS_KEYS, 4) &&
		    !key_in(key, ROUTING,
			    sizeof(ROUTING) / sizeof(ROUTING[0])) &&
		    !key_in(key, UNSUPPORTED,
			    sizeof(UNSUPPORTED) / sizeof(UNSUPPORTED[0])))
			return BAD("unknown key '%s' in ResourceRecordSet",
				   key);
	}
	v = json_object_get(rrs, "Name");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return BAD("ResourceRecordSet.Name must be a non-empty string");
	c->rrset.name = dup_string(v);
	if (c->rrset.name == NULL)
		return Q53_ENOMEM;
	v = json_object_get(rrs, "Type");
	if (!json_is_string(v))
		return BAD("ResourceRecordSet.Type must be a string");
	if (change_batch_type_from_name(json_string_value(v), &c->rrset.type))
		return BAD("record type '%s' is not supported",
			   json_string_value(v));

	rc = check_routing_shapes(rrs, e, i);
	if (rc != 0)
		return rc;
	char fields[256] = "";
	size_t flen = 0;
	for (size_t k = 0; k < sizeof(UNSUPPORTED) / sizeof(UNSUPPORTED[0]);
	     k++) {
		if (json_object_get(rrs, UNSUPPORTED[k]) == NULL)
			continue;
		flen +=
		    (size_t)snprintf(fields + flen, sizeof(fields) - flen,
				     "%s%s", flen ? ", " : "", UNSUPPORTED[k]);
	}
	if (flen > 0)
		return BAD("%s: not yet supported (traffic policies come "
			   "in a later version)",
			   fields);

	rc = parse_routing(rrs, c, e, i);
	if (rc != 0)
		return rc;
	v = json_object_get(rrs, "AliasTarget");
	if (v != NULL)
		return parse_alias(rrs, v, c, e, i);
	v = json_object_get(rrs, "TTL");
	if (v == NULL)
		return BAD("ResourceRecordSet.TTL is required");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)CHANGE_BATCH_MAX_TTL)
		return BAD("TTL must be an integer from 0 to %u",
			   CHANGE_BATCH_MAX_TTL);
	c->rrset.ttl = (uint32_t)json_integer_value(v);
	return parse_values(rrs, c, e, i);
}

static int check_limits(const struct change_batch *b,
			struct change_batch_errors *e)
{
	size_t records = 0, chars = 0;
	for (size_t i = 0; i < b->nchanges; i++) {
		const struct change *c = &b->changes[i];
		size_t weight = c->action == CHANGE_UPSERT ? 2 : 1;
		records += weight * c->rrset.nvalues;
		for (size_t k = 0; k < c->rrset.nvalues; k++)
			chars += weight * strlen(c->rrset.values[k]);
	}
	if (records > CHANGE_BATCH_MAX_RECORDS)
		change_batch_errors_add(
		    e, SIZE_MAX,
		    "%zu ResourceRecord elements exceed the limit of %d per "
		    "batch (UPSERT counts twice)",
		    records, CHANGE_BATCH_MAX_RECORDS);
	if (chars > CHANGE_BATCH_MAX_VALUE_CHARS)
		change_batch_errors_add(
		    e, SIZE_MAX,
		    "%zu characters of values exceed the limit of %d per "
		    "batch (UPSERT counts twice)",
		    chars, CHANGE_BATCH_MAX_VALUE_CHARS);
	return e->count ? Q53_EINVAL : 0;
}

int change_batch_parse(struct change_batch **out, const char *json, size_t len,
		       char *err, size_t errlen)
{
	struct change_batch_errors errs;
	json_error_t jerr;
	const char *key;
	json_t *v;
	int rc;

	change_batch_errors_init(&errs, err, errlen);
	if (len > CHANGE_BATCH_MAX_JSON) {
		snprintf(err, errlen,
			 "InvalidInput: the change batch is %zu bytes, more "
			 "than the limit of %d",
			 len, CHANGE_BATCH_MAX_JSON);
		return Q53_EINVAL;
	}
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	/* Out of memory is not the text's fault (the upgrade module must
	 * not reject on one node an old entry another accepts). */
	if (root == NULL &&
	    (json_error_code(&jerr) == json_error_out_of_memory ||
	     jerr.text[0] == '\0'))
		return Q53_ENOMEM;
	if (root == NULL &&
	    json_error_code(&jerr) == json_error_null_character) {
		snprintf(err, errlen,
			 "InvalidInput: change batch is not valid JSON: line "
			 "%d column %d: a string holds a NUL character "
			 "(\\u0000), which no field may contain",
			 jerr.line, jerr.column);
		return Q53_EINVAL;
	}
	if (root == NULL) {
		snprintf(err, errlen,
			 "InvalidInput: change batch is not valid JSON: line "
			 "%d column %d: %s",
			 jerr.line, jerr.column, jerr.text);
		return Q53_EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen,
			 "InvalidInput: change batch must be a JSON object");
		rc = Q53_EINVAL;
		goto err_after_root;
	}
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "Comment") != 0 &&
		    strcmp(key, "Changes") != 0) {
			snprintf(err, errlen,
				 "InvalidInput: unknown key '%s' in the change "
				 "batch",
				 key);
			rc = Q53_EINVAL;
			goto err_after_root;
		}
	}
	const json_t *comment = json_object_get(root, "Comment");
	const json_t *changes = json_object_get(root, "Changes");
	if (comment != NULL &&
	    (!json_is_string(comment) ||
	     json_string_length(comment) > CHANGE_BATCH_MAX_COMMENT)) {
		snprintf(err, errlen,
			 "InvalidInput: Comment must be a string of at most %d "
			 "characters",
			 CHANGE_BATCH_MAX_COMMENT);
		rc = Q53_EINVAL;
		goto err_after_root;
	}
	if (!json_is_array(changes) || json_array_size(changes) == 0) {
		snprintf(err, errlen,
			 "InvalidInput: Changes must be a non-empty array");
		rc = Q53_EINVAL;
		goto err_after_root;
	}

	struct change_batch *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		rc = Q53_ENOMEM;
		goto err_after_root;
	}
	b->changes = calloc(json_array_size(changes), sizeof(*b->changes));
	if (b->changes == NULL) {
		rc = Q53_ENOMEM;
		goto err_after_batch;
	}
	if (comment != NULL) {
		b->comment = dup_string(comment);
		if (b->comment == NULL) {
			rc = Q53_ENOMEM;
			goto err_after_batch;
		}
	}
	b->nchanges = json_array_size(changes);
	for (size_t i = 0; i < b->nchanges; i++) {
		rc = parse_change(json_array_get(changes, i), &b->changes[i],
				  &errs, i);
		if (rc == Q53_ENOMEM)
			goto err_after_batch;
	}
	if (errs.count == 0)
		check_limits(b, &errs);
	if (errs.count > 0) {
		rc = Q53_EINVAL;
		goto err_after_batch;
	}
	json_decref(root);
	*out = b;
	return 0;

err_after_batch:
	change_batch_free(b);
err_after_root:
	json_decref(root);
	return rc;
}

/* One ResourceRecordSet object, keys in Route 53's order; NULL on
 * failure (*bad set when the type or action is unknown). */
/* A coordinate in hundredths of a degree as the API writes it. */
static json_t *coordinate_json(int32_t v)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%s%d.%02d", v < 0 ? "-" : "",
		 (v < 0 ? -v : v) / 100, (v < 0 ? -v : v) % 100);
	return json_string(buf);
}

/* GeoProximityLocation of x into rrs; nonzero on failure. */
static int format_geoprox(const struct change_geoprox *x, json_t *rrs)
{
	json_t *g = json_object();
	int rc = g == NULL;
	if (g == NULL)
		return 1;
	if (x->region != NULL)
		rc |=
		    json_object_set_new(g, "AWSRegion", json_string(x->region));
	if (x->local_zone_group != NULL)
		rc |= json_object_set_new(g, "LocalZoneGroup",
					  json_string(x->local_zone_group));
	if (x->has_coordinates)
		rc |= json_object_set_new(
		    g, "Coordinates",
		    json_pack("{s:o,s:o}", "Latitude",
			      coordinate_json(x->latitude), "Longitude",
			      coordinate_json(x->longitude)));
	if (x->bias != 0)
		rc |= json_object_set_new(g, "Bias", json_integer(x->bias));
	return rc | json_object_set_new(rrs, "GeoProximityLocation", g);
}

static json_t *format_change(const struct change *c, bool *bad)
{
	const struct change_rrset *r = &c->rrset;
	const char *type = change_batch_type_name(r->type);
	const char *action = change_batch_action_name(c->action);
	json_t *rrs = json_object(), *values = json_array(),
	       *ch = json_object();
	int rc = 0;

	if (type == NULL || strcmp(action, "?") == 0) {
		*bad = true;
		goto err;
	}
	if (rrs == NULL || values == NULL || ch == NULL)
		goto err;
	rc |= json_object_set_new(rrs, "Name", json_string(r->name));
	rc |= json_object_set_new(rrs, "Type", json_string(type));
	if (r->set_identifier != NULL)
		rc |= json_object_set_new(rrs, "SetIdentifier",
					  json_string(r->set_identifier));
	if (r->failover != CHANGE_FAILOVER_NONE)
		rc |= json_object_set_new(
		    rrs, "Failover",
		    json_string(change_batch_failover_name(r->failover)));
	if (r->has_weight)
		rc |=
		    json_object_set_new(rrs, "Weight", json_integer(r->weight));
	if (r->multivalue)
		rc |= json_object_set_new(rrs, "MultiValueAnswer", json_true());
	if (r->region != NULL)
		rc |=
		    json_object_set_new(rrs, "Region", json_string(r->region));
	if (r->geo_continent != NULL || r->geo_country != NULL ||
	    r->geo_subdivision != NULL) {
		json_t *g = json_object();
		rc |= g == NULL;
		if (g != NULL && r->geo_continent != NULL)
			rc |= json_object_set_new(
			    g, "ContinentCode", json_string(r->geo_continent));
		if (g != NULL && r->geo_country != NULL)
			rc |= json_object_set_new(g, "CountryCode",
						  json_string(r->geo_country));
		if (g != NULL && r->geo_subdivision != NULL)
			rc |= json_object_set_new(
			    g, "SubdivisionCode",
			    json_string(r->geo_subdivision));
		if (g != NULL)
			rc |= json_object_set_new(rrs, "GeoLocation", g);
	}
	if (r->cidr_collection_id != NULL)
		rc |= json_object_set_new(
		    rrs, "CidrRoutingConfig",
		    json_pack("{s:s,s:s}", "CollectionId",
			      r->cidr_collection_id, "LocationName",
			      r->cidr_location != NULL ? r->cidr_location
						       : ""));
	if (r->geoprox.present)
		rc |= format_geoprox(&r->geoprox, rrs);
	if (r->alias_zone_id != NULL)
		rc |= json_object_set_new(
		    rrs, "AliasTarget",
		    json_pack("{s:s,s:s,s:b}", "HostedZoneId", r->alias_zone_id,
			      "DNSName", r->alias_dns_name,
			      "EvaluateTargetHealth", (int)r->alias_evaluate));
	else
		rc |= json_object_set_new(rrs, "TTL", json_integer(r->ttl));
	for (size_t k = 0; k < r->nvalues; k++)
		rc |= json_array_append_new(
		    values, json_pack("{s:s}", "Value", r->values[k]));
	if (r->health_check_id != NULL)
		rc |= json_object_set_new(rrs, "HealthCheckId",
					  json_string(r->health_check_id));
	if (r->alias_zone_id == NULL)
		rc |= json_object_set(rrs, "ResourceRecords", values);
	rc |= json_object_set_new(ch, "Action", json_string(action));
	rc |= json_object_set(ch, "ResourceRecordSet", rrs);
	if (rc != 0)
		goto err;
	json_decref(values);
	json_decref(rrs);
	return ch;

err:
	json_decref(values);
	json_decref(rrs);
	json_decref(ch);
	return NULL;
}

int change_batch_format(const struct change_batch *b, char **json, size_t *len)
{
	json_t *root = json_object(), *changes = json_array();
	bool bad = false;
	int rc = 0;

	*json = NULL;
	*len = 0;
	if (root == NULL || changes == NULL)
		goto err_nomem;
	if (b->comment != NULL)
		rc |= json_object_set_new(root, "Comment",
					  json_string(b->comment));
	for (size_t i = 0; i < b->nchanges && rc == 0; i++) {
		json_t *ch = format_change(&b->changes[i], &bad);
		if (ch == NULL)
			goto err_nomem;
		rc |= json_array_append_new(changes, ch);
	}
	rc |= json_object_set(root, "Changes", changes);
	if (rc != 0)
		goto err_nomem;
	/* Into malloc'd memory, whatever allocator jansson was given. */
	size_t n =
	    json_dumpb(root, NULL, 0, JSON_PRESERVE_ORDER | JSON_COMPACT);
	if (n == 0 || (*json = malloc(n + 1)) == NULL)
		goto err_nomem;
	json_dumpb(root, *json, n, JSON_PRESERVE_ORDER | JSON_COMPACT);
	(*json)[n] = '\0';
	*len = n;
	json_decref(changes);
	json_decref(root);
	return 0;

err_nomem:
	json_decref(changes);
	json_decref(root);
	return bad ? Q53_EINVAL : Q53_ENOMEM;
}

/* --- the typed form --- */

#define ROUTE53_NAME_MAX 1024

size_t change_batch_name_to_wire(const char *text, uint8_t *wire)
{
	char conv[ROUTE53_NAME_MAX * 2 + 1];
	size_t n = strlen(text), o = 0;

	if (n == 0 || n > ROUTE53_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *c = text + i;
		if (c[0] == '\\' && c[1] >= '0' && c[1] <= '7' && c[2] >= '0' &&
		    c[2] <= '7' && c[3] >= '0' && c[3] <= '7') {
			/* libknot reads \DDD as decimal: convert. */
			unsigned v =
			    (unsigned)((c[1] - '0') * 64 + (c[2] - '0') * 8 +
				       (c[3] - '0'));
			if (v > 255)
				return 0;
			snprintf(conv + o, sizeof(conv) - o, "\\%03u", v);
			o += 4;
			i += 3;
		} else if (c[0] == '\\' && c[1] != '\0') {
			conv[o++] = c[0];
			conv[o++] = c[1];
			i++;
		} else {
			conv[o++] = c[0];
		}
	}
	conv[o] = '\0';
	uint8_t tmp[DNAME_MAXLEN];
	if (knot_dname_from_str(tmp, conv, sizeof(tmp)) == NULL)
		return 0;
	size_t len = dname_wire_len(tmp, sizeof(tmp));
	if (len == 0)
		return 0;
	dname_lower_copy(wire, tmp, len);
	return len;
}

/* Storage of one typed change. */
struct typed_change {
	uint8_t owner[DNAME_MAXLEN];
	uint8_t alias_name[DNAME_MAXLEN];
	struct rrset_rdata *rdata;
	char *invalid;
};

struct typed_priv {
	struct rrset_change *changes;
	struct typed_change *store;
	size_t n;
};

static void typed_priv_free(struct typed_priv *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct typed_change *t = &p->store[i];
		for (size_t k = 0;
		     t->rdata != NULL && k < p->changes[i].set.nrdata; k++)
			free((void *)t->rdata[k].data);
		free(t->rdata);
		free(t->invalid);
	}
	free(p->changes);
	free(p->store);
	free(p);
}

void change_batch_typed_free(struct change_batch_typed *t)
{
	typed_priv_free(t->priv);
	memset(t, 0, sizeof(*t));
}

static int typed_invalid(struct typed_change *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int typed_invalid(struct typed_change *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&t->invalid, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->invalid = NULL;
		return Q53_ENOMEM;
	}
	return 0;
}

/* Values of r into t (one rdata per value; conversion stops at the first
 * failure, which becomes the reason). */
static int typed_values(const struct change_rrset *r, struct typed_change *t,
			uint8_t *wire, bool strict)
{
	char why[1024], tname[32];
	uint16_t rdlen = 0;
	int rc;

	if (rdata_text_type_name(r->type, tname, sizeof(tname)) != 0)
		snprintf(tname, sizeof(tname), "TYPE%u", r->type);
	for (size_t k = 0; k < r->nvalues; k++) {
		if (!strict) {
			rc = rdata_text_to_wire(r->type, r->values[k], wire,
						RDATA_TEXT_WIRE_MAX, &rdlen,
						why, sizeof(why));
			if (rc == Q53_ENOMEM)
				return rc;
			if (rc != 0)
				return typed_invalid(t,
						     "value '%.64s' is not a "
						     "valid %s record: %s",
						     r->values[k], tname, why);
		} else {
			/* Route 53's checks of the text first (a TXT
			 * string the parser would split, a quoted CAA
			 * tag), then the parse, then the checks of what it
			 * parsed to. */
			rc = rdata_policy_check_text(r->type, r->values[k], why,
						     sizeof(why));
			if (rc == 0) {
				rc = rdata_text_to_wire(
				    r->type, r->values[k], wire,
				    RDATA_TEXT_WIRE_MAX, &rdlen, why,
				    sizeof(why));
				if (rc == Q53_ENOMEM)
					return rc;
				if (rc != 0) {
					char reason[sizeof(why)];
					snprintf(reason, sizeof(reason), "%s",
						 why);
					rdata_policy_parse_error(
					    r->type, r->values[k], reason, why,
					    sizeof(why));
				}
			}
			if (rc == 0)
				rc = rdata_policy_check_wire(
				    r->type, wire, rdlen, r->values[k], why,
				    sizeof(why));
			if (rc == Q53_ENOMEM)
				return rc;
			if (rc != 0)
				return typed_invalid(
				    t, "[Invalid Resource Record: '%s']", why);
		}
		for (size_t j = 0; j < k; j++) {
			if (t->rdata[j].len == rdlen &&
			    memcmp(t->rdata[j].data, wire, rdlen) == 0)
				return typed_invalid(
				    t, "duplicate value '%.64s'", r->values[k]);
		}
		uint8_t *copy = malloc(rdlen ? rdlen : 1);
		if (copy == NULL)
			return Q53_ENOMEM;
		memcpy(copy, wire, rdlen);
		t->rdata[k].data = copy;
		t->rdata[k].len = rdlen;
	}
	return 0;
}

static int compile(const struct change_batch *b, struct change_batch_typed *out,
		   bool strict)
{
	struct typed_priv *p = calloc(1, sizeof(*p));
	uint8_t *wire = malloc(RDATA_TEXT_WIRE_MAX);
	int rc = Q53_ENOMEM;

	memset(out, 0, sizeof(*out));
	if (p == NULL || wire == NULL)
		goto err;
	size_t n = b->nchanges;
	p->changes = calloc(n ? n : 1, sizeof(*p->changes));
	p->store = calloc(n ? n : 1, sizeof(*p->store));
	if (p->changes == NULL || p->store == NULL)
		goto err;
	p->n = n;
	for (size_t i = 0; i < n; i++) {
		const struct change_rrset *r = &b->changes[i].rrset;
		struct rrset_change *c = &p->changes[i];
		struct typed_change *t = &p->store[i];

		c->action = b->changes[i].action;
		c->set.type = r->type;
		c->set.ttl = r->ttl;
		c->set.set_identifier = r->set_identifier;
		c->set.failover = r->failover;
		c->set.has_weight = r->has_weight;
		c->set.weight = r->weight;
		c->set.multivalue = r->multivalue;
		c->set.health_check_id = r->health_check_id;
		c->set.geo_continent = r->geo_continent;
		c->set.geo_country = r->geo_country;
		c->set.geo_subdivision = r->geo_subdivision;
		c->set.region = r->region;
		c->set.cidr_collection_id = r->cidr_collection_id;
		c->set.cidr_location = r->cidr_location;
		c->set.geoprox = r->geoprox;
		c->set.owner = t->owner;
		c->set.owner_len = change_batch_name_to_wire(r->name, t->owner);
		t->rdata =
		    calloc(r->nvalues ? r->nvalues : 1, sizeof(*t->rdata));
		if (t->rdata == NULL)
			goto err;
		c->set.rdata = t->rdata;
		c->set.nrdata = r->nvalues;
		if (r->alias_zone_id != NULL) {
			c->set.alias_zone_id = r->alias_zone_id;
			c->set.alias_evaluate = r->alias_evaluate;
			c->set.alias_name = t->alias_name;
			c->set.alias_name_len = change_batch_name_to_wire(
			    r->alias_dns_name, t->alias_name);
		}
		char why[1024];
		if (c->set.owner_len == 0)
			rc = typed_invalid(
			    t, "'%.255s' is not a valid DNS name", r->name);
		else if (strict && rdata_policy_check_owner(
				       r->type, t->owner, c->set.owner_len, why,
				       sizeof(why)) != 0)
			rc = typed_invalid(t, "%s", why);
		else if (r->alias_zone_id != NULL && c->set.alias_name_len == 0)
			rc =
			    typed_invalid(t,
					  "AliasTarget.DNSName '%.255s' is not "
					  "a valid DNS name",
					  r->alias_dns_name);
		else
			rc = typed_values(r, t, wire, strict);
		if (rc != 0)
			goto err;
		c->invalid = t->invalid;
	}
	free(wire);
	out->batch.comment = b->comment;
	out->batch.changes = p->changes;
	out->batch.nchanges = n;
	out->priv = p;
	return 0;

err:
	free(wire);
	typed_priv_free(p);
	return Q53_ENOMEM;
}

int change_batch_compile(const struct change_batch *b,
			 struct change_batch_typed *out)
{
	return compile(b, out, true);
}

int change_batch_compile_legacy(const struct change_batch *b,
				struct change_batch_typed *out)
{
	return compile(b, out, false);
}
