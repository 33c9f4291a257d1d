/* Traffic policy documents from JSON (jansson): Route 53's
 * AWSPolicyFormatVersion 2015-10-01 into a typed struct traffic_policy.
 * Every key of the documented shape is recognised, anything else is an
 * error naming its JSON path. The edge of the control plane: not part of
 * the FSM library. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/cidr_table.h"
#include "node/control/geoprox.h"
#include "node/control/geo_codes.h"
#include "node/control/latency_table.h"
#include "node/control/traffic_policy.h"
#include "node/dnsdata/rdata_text.h"
#include "node/dnsdata/rrtype.h"

#define PATH_MAX_LEN 512

struct parse {
	struct traffic_policy *p;
	json_t *rules, *endpoints; /* the objects, or NULL */
	char *err;
	size_t errlen;
};

static int bad(struct parse *ps, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct parse *ps, const char *path, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return q53_fail(ps->err, ps->errlen, Q53_EINVAL, "%s: %s", path, why);
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s);
	char *c = malloc(n + 1);
	if (c != NULL)
		memcpy(c, s, n + 1);
	return c;
}

/* Keys of rules and endpoints: 1..TRAFFIC_POLICY_KEY_MAX printable ASCII
 * characters other than quote and backslash (they appear in paths). */
static bool key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > TRAFFIC_POLICY_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];
		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* Every key of o is one of keys[0..n); else the first other one's path. */
static int only_keys(struct parse *ps, const char *path, json_t *o,
		     const char *const *keys, size_t n)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		size_t i = 0;
		while (i < n && strcmp(k, keys[i]) != 0)
			i++;
		if (i == n) {
			if (!key_ok(k))
				return bad(ps, path, "unknown key");
			return bad(ps, path, "unknown key \"%s\"", k);
		}
	}
	return 0;
}

/* The index of key k of object o (in iteration order), or -1. */
static long index_of(json_t *o, const char *k)
{
	long i = 0;
	const char *key;
	json_t *v;
	if (o == NULL)
		return -1;
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, k) == 0)
			return i;
		i++;
	}
	return -1;
}

static int string_at(struct parse *ps, const char *path, json_t *o,
		     const char *key, bool required, const char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (v == NULL) {
		if (required)
			return bad(ps, path, "%s is required", key);
		return 0;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return bad(ps, path, "%s must be a non-empty string", key);
	*out = json_string_value(v);
	return 0;
}

/* A coordinate of a geoproximity location: a string (as Route 53's
 * documents give it) or a JSON number, at most two decimals, into
 * hundredths of a degree. false when it is neither. */
static bool coord_of(json_t *v, int32_t *out)
{
	char buf[32];
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < -1000 || i > 1000)
			return false;
		*out = (int32_t)(i * 100);
		return true;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v) * 100.0;
		if (!(d > -100000.0 && d < 100000.0))
			return false;
		double r =
		    d < 0 ? -(double)(long)(-d + 0.5) : (double)(long)(d + 0.5);
		if (d - r > 1e-6 || r - d > 1e-6)
			return false;
		*out = (int32_t)r;
		return true;
	}
	if (!json_is_string(v) || json_string_length(v) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", json_string_value(v));
	const char *c = buf;
	bool neg = *c == '-';
	if (neg || *c == '+')
		c++;
	int32_t whole = 0, frac = 0;
	size_t nd = 0, nf = 0;
	while (*c >= '0' && *c <= '9' && nd < 3)
		whole = whole * 10 + (*c++ - '0'), nd++;
	if (nd == 0)
		return false;
	if (*c == '.') {
		c++;
		while (*c >= '0' && *c <= '9' && nf < 2)
			frac = frac * 10 + (*c++ - '0'), nf++;
		if (nf == 0)
			return false;
		if (nf == 1)
			frac *= 10;
	}
	if (*c != '\0')
		return false;
	*out = (neg ? -1 : 1) * (whole * 100 + frac);
	return true;
}

/* An integer given as a JSON integer or a string of digits (Route 53's
 * documents quote them), in lo..hi. */
static bool int_of(json_t *v, long lo, long hi, long *out)
{
	long x;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < lo || i > hi)
			return false;
		*out = (long)i;
		return true;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > 4)
		return false;
	const char *s = json_string_value(v);
	char *end;
	if (!((*s >= '0' && *s <= '9') || *s == '-'))
		return false;
	x = strtol(s, &end, 10);
	if (*end != '\0' || end == s || (s[0] == '-' && end == s + 1) ||
	    x < lo || x > hi)
		return false;
	*out = x;
	return true;
}

/* The fields of a geoproximity location (Region, or Latitude and
 * Longitude; Bias) of the item at path into it. */
static int geoprox_parse(struct parse *ps, const char *path, json_t *o,
			 struct traffic_item *it)
{
	char sub[PATH_MAX_LEN + 32], why[256];
	const char *region;
	int rc = string_at(ps, path, o, "Region", false, &region);
	if (rc != 0)
		return rc;
	json_t *lat = json_object_get(o, "Latitude");
	json_t *lon = json_object_get(o, "Longitude");
	json_t *bias = json_object_get(o, "Bias");
	struct change_geoprox g = {.present = true};
	if ((region != NULL) == (lat != NULL || lon != NULL))
		return bad(ps, path,
			   "exactly one of Region and Latitude with "
			   "Longitude is required");
	if (region != NULL) {
		/* Route 53's form is aws:route53:REGION; the bare code too. */
		if (strncmp(region, "aws:route53:", 12) == 0)
			region += 12;
		snprintf(sub, sizeof(sub), "%s.Region", path);
		if (strlen(region) > TRAFFIC_POLICY_GP_REGION_MAX)
			return bad(ps, sub, "not an AWS Region");
		g.region = (char *)region;
	} else {
		if (lat == NULL || lon == NULL)
			return bad(ps, path,
				   "Latitude and Longitude go together");
		g.has_coordinates = true;
		snprintf(sub, sizeof(sub), "%s.Latitude", path);
		if (!coord_of(lat, &g.latitude))
			return bad(ps, sub,
				   "must be degrees with at most two "
				   "decimals");
		snprintf(sub, sizeof(sub), "%s.Longitude", path);
		if (!coord_of(lon, &g.longitude))
			return bad(ps, sub,
				   "must be degrees with at most two "
				   "decimals");
	}
	if (bias != NULL) {
		long b;
		snprintf(sub, sizeof(sub), "%s.Bias", path);
		if (!int_of(bias, -99, 99, &b))
			return bad(ps, sub, "must be an integer -99 to 99");
		g.bias = (int32_t)b;
	}
	if (geoprox_check(&g, &it->gp_lat, &it->gp_lon, why, sizeof(why)) != 0)
		return bad(ps, path, "%s", why);
	it->gp_bias = g.bias;
	snprintf(it->gp_region, sizeof(it->gp_region), "%s",
		 region != NULL ? region : "");
	return 0;
}

/* The fields of a cidr rule's location (CollectionId, LocationName, as
 * a record set's CidrRoutingConfig) of the item at path into it. */
static int cidr_parse(struct parse *ps, const char *path, json_t *o,
		      struct traffic_item *it)
{
	char sub[PATH_MAX_LEN + 32];
	const char *id, *loc;
	int rc;
	if ((rc = string_at(ps, path, o, "CollectionId", true, &id)) != 0 ||
	    (rc = string_at(ps, path, o, "LocationName", true, &loc)) != 0)
		return rc;
	snprintf(sub, sizeof(sub), "%s.CollectionId", path);
	if (strlen(id) > TRAFFIC_POLICY_CIDR_ID_MAX || !cidr_id_ok(id))
		return bad(ps, sub, "not a CIDR collection id");
	snprintf(sub, sizeof(sub), "%s.LocationName", path);
	if (strlen(loc) > TRAFFIC_POLICY_CIDR_LOCATION_MAX ||
	    !cidr_location_name_ok(loc, true))
		return bad(ps, sub, "not a CIDR location name (or \"*\")");
	snprintf(it->cidr_collection, sizeof(it->cidr_collection), "%s", id);
	snprintf(it->cidr_location, sizeof(it->cidr_location), "%s", loc);
	return 0;
}

/* One item (a failover side, a weighted or multivalue item, a location)
 * at path into *it. */
static int item_parse(struct parse *ps, const char *path, json_t *o,
		      enum traffic_rule_type type, struct traffic_item *it)
{
	static const char *const COMMON[] = {"EndpointReference",
					     "RuleReference",
					     "HealthCheck",
					     "EvaluateTargetHealth",
					     "Weight",
					     "IsDefault",
					     "Continent",
					     "Country",
					     "Subdivision"};
	size_t nkeys = 4;
	if (type == TRAFFIC_RULE_WEIGHTED)
		nkeys = 5;
	else if (type == TRAFFIC_RULE_GEO)
		nkeys = 9;
	char sub[PATH_MAX_LEN];
	int rc;
	memset(it, 0, sizeof(*it));
	if (!json_is_object(o))
		return bad(ps, path, "must be an object");
	if (type == TRAFFIC_RULE_LATENCY) {
		static const char *const LAT[] = {
		    "EndpointReference", "RuleReference", "HealthCheck",
		    "EvaluateTargetHealth", "Region"};
		rc = only_keys(ps, path, o, LAT, 5);
	} else if (type == TRAFFIC_RULE_GEOPROX) {
		static const char *const GP[] = {"EndpointReference",
						 "RuleReference",
						 "HealthCheck",
						 "EvaluateTargetHealth",
						 "Region",
						 "Latitude",
						 "Longitude",
						 "Bias"};
		rc = only_keys(ps, path, o, GP, 8);
	} else if (type == TRAFFIC_RULE_CIDR) {
		static const char *const CI[] = {
		    "EndpointReference",    "RuleReference", "HealthCheck",
		    "EvaluateTargetHealth", "CollectionId",  "LocationName"};
		rc = only_keys(ps, path, o, CI, 6);
	} else if (type == TRAFFIC_RULE_GEO) {
		static const char *const GEO[] = {
		    "EndpointReference", "RuleReference",
		    "HealthCheck",	 "EvaluateTargetHealth",
		    "IsDefault",	 "Continent",
		    "Country",		 "Subdivision"};
		rc = only_keys(ps, path, o, GEO, 8);
	} else {
		rc = only_keys(ps, path, o, COMMON, nkeys);
	}
	if (rc != 0)
		return rc;
	const char *eref, *rref, *hc;
	if ((rc = string_at(ps, path, o, "EndpointReference", false, &eref)) !=
		0 ||
	    (rc = string_at(ps, path, o, "RuleReference", false, &rref)) != 0 ||
	    (rc = string_at(ps, path, o, "HealthCheck", false, &hc)) != 0)
		return rc;
	if ((eref == NULL) == (rref == NULL))
		return bad(ps, path,
			   "exactly one of EndpointReference and "
			   "RuleReference is required");
	if (type == TRAFFIC_RULE_MULTIVALUE && rref != NULL)
		return bad(ps, path,
			   "a multivalue rule's items must be endpoints "
			   "(EndpointReference)");
	long idx = eref != NULL ? index_of(ps->endpoints, eref)
				: index_of(ps->rules, rref);
	if (idx < 0) {
		snprintf(sub, sizeof(sub), "%s.%s", path,
			 eref != NULL ? "EndpointReference" : "RuleReference");
		return bad(ps, sub, "no %s named \"%s\"",
			   eref != NULL ? "endpoint" : "rule",
			   key_ok(eref != NULL ? eref : rref)
			       ? (eref != NULL ? eref : rref)
			       : "?");
	}
	it->is_rule = rref != NULL;
	it->ref = (uint32_t)idx;
	json_t *ev = json_object_get(o, "EvaluateTargetHealth");
	if (ev != NULL && !json_is_boolean(ev)) {
		snprintf(sub, sizeof(sub), "%s.EvaluateTargetHealth", path);
		return bad(ps, sub, "must be true or false");
	}
	/* Route 53's default: evaluate the target's health. */
	it->evaluate = ev == NULL || json_is_true(ev);
	if (hc != NULL) {
		if (strlen(hc) > 64) {
			snprintf(sub, sizeof(sub), "%s.HealthCheck", path);
			return bad(ps, sub, "not a health check id");
		}
		it->health_check = dup_str(hc);
		if (it->health_check == NULL)
			return Q53_ENOMEM;
	}
	if (type == TRAFFIC_RULE_WEIGHTED) {
		json_t *w = json_object_get(o, "Weight");
		json_int_t v = -1;
		snprintf(sub, sizeof(sub), "%s.Weight", path);
		if (w == NULL)
			return bad(ps, path, "Weight is required");
		if (json_is_integer(w)) {
			v = json_integer_value(w);
		} else if (json_is_string(w)) {
			const char *s = json_string_value(w);
			char *end;
			long l = strtol(s, &end, 10);
			if (*s >= '0' && *s <= '9' && *end == '\0' &&
			    strlen(s) <= 3)
				v = l;
		}
		if (v < 0 || v > 255)
			return bad(ps, sub, "must be an integer 0 to 255");
		it->weight = (uint8_t)v;
	}
	if (type == TRAFFIC_RULE_LATENCY) {
		const char *region;
		if ((rc = string_at(ps, path, o, "Region", true, &region)) != 0)
			return rc;
		if (strlen(region) > TRAFFIC_POLICY_REGION_MAX ||
		    !latency_name_valid(region)) {
			snprintf(sub, sizeof(sub), "%s.Region", path);
			return bad(ps, sub, "not a region");
		}
		snprintf(it->region, sizeof(it->region), "%s", region);
	}
	if (type == TRAFFIC_RULE_GEOPROX)
		return geoprox_parse(ps, path, o, it);
	if (type == TRAFFIC_RULE_CIDR)
		return cidr_parse(ps, path, o, it);
	if (type == TRAFFIC_RULE_GEO) {
		json_t *def = json_object_get(o, "IsDefault");
		const char *cont, *cc, *subd;
		if (def != NULL && !json_is_boolean(def)) {
			snprintf(sub, sizeof(sub), "%s.IsDefault", path);
			return bad(ps, sub, "must be true or false");
		}
		if ((rc = string_at(ps, path, o, "Continent", false, &cont)) !=
			0 ||
		    (rc = string_at(ps, path, o, "Country", false, &cc)) != 0 ||
		    (rc = string_at(ps, path, o, "Subdivision", false,
				    &subd)) != 0)
			return rc;
		bool is_def = def != NULL && json_is_true(def);
		char why[256];
		if (is_def && (cont != NULL || cc != NULL || subd != NULL))
			return bad(ps, path,
				   "IsDefault takes no Continent, Country or "
				   "Subdivision");
		if (is_def) {
			cc = "*";
		} else if (cont == NULL && cc == NULL) {
			return bad(ps, path,
				   "one of Continent, Country and IsDefault "
				   "is required");
		}
		if (geo_location_check(cont, cc, subd, &it->geo, why,
				       sizeof(why)) != 0)
			return bad(ps, path, "%s", why);
		snprintf(it->continent, sizeof(it->continent), "%s",
			 cont != NULL ? cont : "");
		snprintf(it->country, sizeof(it->country), "%s",
			 cc != NULL ? cc : "");
		snprintf(it->subdivision, sizeof(it->subdivision), "%s",
			 subd != NULL ? subd : "");
	}
	return 0;
}

static int rule_parse(struct parse *ps, const char *key, json_t *o,
		      struct traffic_rule *r)
{
	char path[PATH_MAX_LEN], sub[PATH_MAX_LEN + 32];
	snprintf(path, sizeof(path), "$.Rules.%s", key);
	static const char *const KEYS[] = {"RuleType",
					   "Primary",
					   "Secondary",
					   "Items",
					   "Locations",
					   "Regions",
					   "GeoproximityLocations"};
	if (!json_is_object(o))
		return bad(ps, path, "must be an object");
	int rc = only_keys(ps, path, o, KEYS, 7);
	if (rc != 0)
		return rc;
	const char *t;
	if ((rc = string_at(ps, path, o, "RuleType", true, &t)) != 0)
		return rc;
	snprintf(sub, sizeof(sub), "%s.RuleType", path);
	const char *list = "Items";
	if (strcmp(t, "failover") == 0) {
		r->type = TRAFFIC_RULE_FAILOVER;
		list = NULL;
	} else if (strcmp(t, "weighted") == 0) {
		r->type = TRAFFIC_RULE_WEIGHTED;
	} else if (strcmp(t, "geo") == 0) {
		r->type = TRAFFIC_RULE_GEO;
		list = "Locations";
	} else if (strcmp(t, "multivalue") == 0) {
		r->type = TRAFFIC_RULE_MULTIVALUE;
	} else if (strcmp(t, "latency") == 0) {
		r->type = TRAFFIC_RULE_LATENCY;
		list = "Regions";
	} else if (strcmp(t, "geoproximity") == 0) {
		r->type = TRAFFIC_RULE_GEOPROX;
		list = "GeoproximityLocations";
	} else if (strcmp(t, "cidr") == 0) {
		r->type = TRAFFIC_RULE_CIDR;
		list = "Locations";
	} else {
		return bad(ps, sub,
			   "must be failover, weighted, geo, multivalue, "
			   "latency, geoproximity or cidr");
	}
	/* Only the fields of its type. */
	static const char *const OTHER[] = {"Primary", "Secondary",
					    "Items",   "Locations",
					    "Regions", "GeoproximityLocations"};
	size_t own = list == NULL		       ? 0
		     : r->type == TRAFFIC_RULE_GEO     ? 3
		     : r->type == TRAFFIC_RULE_CIDR    ? 3
		     : r->type == TRAFFIC_RULE_LATENCY ? 4
		     : r->type == TRAFFIC_RULE_GEOPROX ? 5
						       : 2;
	for (size_t k = 0; k < 6; k++) {
		bool mine = list != NULL ? k == own : k < 2;
		if (!mine && json_object_get(o, OTHER[k]) != NULL)
			return bad(ps, path, "a %s rule takes no %s", t,
				   OTHER[k]);
	}
	if (list == NULL) {
		r->items = calloc(2, sizeof(*r->items));
		if (r->items == NULL)
			return Q53_ENOMEM;
		for (size_t k = 0; k < 2; k++) {
			const char *side = k == 0 ? "Primary" : "Secondary";
			json_t *v = json_object_get(o, side);
			if (v == NULL)
				return bad(ps, path, "%s is required", side);
			snprintf(sub, sizeof(sub), "%s.%s", path, side);
			rc = item_parse(ps, sub, v, r->type, &r->items[k]);
			r->nitems = k + 1;
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	json_t *a = json_object_get(o, list);
	snprintf(sub, sizeof(sub), "%s.%s", path, list);
	if (a == NULL)
		return bad(ps, path, "%s is required", list);
	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > TRAFFIC_POLICY_ITEMS_MAX)
		return bad(ps, sub, "must be an array of 1 to %d items",
			   TRAFFIC_POLICY_ITEMS_MAX);
	size_t n = json_array_size(a);
	r->items = calloc(n, sizeof(*r->items));
	if (r->items == NULL)
		return Q53_ENOMEM;
	for (size_t k = 0; k < n; k++) {
		char ipath[PATH_MAX_LEN + 64];
		snprintf(ipath, sizeof(ipath), "%s[%zu]", sub, k);
		rc = item_parse(ps, ipath, json_array_get(a, k), r->type,
				&r->items[k]);
		r->nitems = k + 1;
		if (rc != 0)
			return rc;
	}
	if (r->type == TRAFFIC_RULE_LATENCY) {
		for (size_t k = 0; k < n; k++) {
			for (size_t j = 0; j < k; j++) {
				if (strcmp(r->items[j].region,
					   r->items[k].region) == 0) {
					char ipath[PATH_MAX_LEN + 64];
					snprintf(ipath, sizeof(ipath),
						 "%s[%zu]", sub, k);
					return bad(ps, ipath,
						   "the same Region as item "
						   "%zu",
						   j);
				}
			}
		}
	}
	if (r->type == TRAFFIC_RULE_CIDR) {
		for (size_t k = 0; k < n; k++) {
			for (size_t j = 0; j < k; j++) {
				char ipath[PATH_MAX_LEN + 64];
				snprintf(ipath, sizeof(ipath), "%s[%zu]", sub,
					 k);
				if (strcmp(r->items[j].cidr_collection,
					   r->items[k].cidr_collection) != 0)
					return bad(ps, ipath,
						   "a cidr rule's locations "
						   "are of one CollectionId "
						   "(item %zu has another)",
						   j);
				if (strcmp(r->items[j].cidr_location,
					   r->items[k].cidr_location) == 0)
					return bad(ps, ipath,
						   "the same LocationName as "
						   "item %zu",
						   j);
			}
		}
	}
	if (r->type == TRAFFIC_RULE_GEO) {
		for (size_t k = 0; k < n; k++) {
			for (size_t j = 0; j < k; j++) {
				if (r->items[j].geo == r->items[k].geo) {
					char ipath[PATH_MAX_LEN + 64];
					snprintf(ipath, sizeof(ipath),
						 "%s[%zu]", sub, k);
					return bad(ps, ipath,
						   "the same location as "
						   "item %zu",
						   j);
				}
			}
		}
	}
	return 0;
}

static int endpoint_parse(struct parse *ps, const char *key, json_t *o,
			  struct traffic_endpoint *e)
{
	char path[PATH_MAX_LEN], sub[PATH_MAX_LEN + 16];
	static const char *const KEYS[] = {"Type", "Value", "Region"};
	snprintf(path, sizeof(path), "$.Endpoints.%s", key);
	if (!json_is_object(o))
		return bad(ps, path, "must be an object");
	int rc = only_keys(ps, path, o, KEYS, 3);
	const char *type, *value;
	if (rc != 0 || (rc = string_at(ps, path, o, "Type", true, &type)) != 0)
		return rc;
	snprintf(sub, sizeof(sub), "%s.Type", path);
	if (strcmp(type, "value") != 0)
		return bad(ps, sub,
			   "endpoint type \"%s\" is not supported (only "
			   "\"value\")",
			   key_ok(type) ? type : "?");
	if (json_object_get(o, "Region") != NULL)
		return bad(ps, path, "a value endpoint takes no Region");
	if ((rc = string_at(ps, path, o, "Value", true, &value)) != 0)
		return rc;
	snprintf(sub, sizeof(sub), "%s.Value", path);
	uint8_t *wire = malloc(RDATA_TEXT_WIRE_MAX);
	char why[256];
	uint16_t len = 0;
	if (wire == NULL)
		return Q53_ENOMEM;
	rc = rdata_text_to_wire(ps->p->type, value, wire, RDATA_TEXT_WIRE_MAX,
				&len, why, sizeof(why));
	if (rc == Q53_ENOMEM) {
		free(wire);
		return rc;
	}
	if (rc != 0) {
		free(wire);
		return bad(ps, sub, "not a valid %s value: %s",
			   change_batch_type_name(ps->p->type), why);
	}
	e->name = dup_str(key);
	e->value = dup_str(value);
	e->rdata = malloc(len ? len : 1);
	if (e->name == NULL || e->value == NULL || e->rdata == NULL) {
		free(wire);
		return Q53_ENOMEM;
	}
	memcpy(e->rdata, wire, len);
	e->rdlen = len;
	free(wire);
	return 0;
}

static int parse_root(struct parse *ps, json_t *root)
{
	static const char *const KEYS[] = {
	    "AWSPolicyFormatVersion", "RecordType", "StartRule",
	    "StartEndpoint",	      "Endpoints",  "Rules"};
	struct traffic_policy *p = ps->p;
	const char *ver, *rt, *sr, *se;
	int rc;
	if (!json_is_object(root))
		return bad(ps, "$", "the document must be a JSON object");
	if ((rc = only_keys(ps, "$", root, KEYS, 6)) != 0 ||
	    (rc = string_at(ps, "$", root, "AWSPolicyFormatVersion", true,
			    &ver)) != 0)
		return rc;
	if (strcmp(ver, "2015-10-01") != 0)
		return bad(ps, "$.AWSPolicyFormatVersion",
			   "must be \"2015-10-01\"");
	if ((rc = string_at(ps, "$", root, "RecordType", true, &rt)) != 0)
		return rc;
	if (change_batch_type_from_name(rt, &p->type) != 0 ||
	    p->type == RRTYPE_NS || p->type == RRTYPE_SOA)
		return bad(ps, "$.RecordType",
			   "not a record type a traffic policy can have");
	ps->endpoints = json_object_get(root, "Endpoints");
	ps->rules = json_object_get(root, "Rules");
	if (ps->endpoints == NULL)
		return bad(ps, "$", "Endpoints is required");
	if (!json_is_object(ps->endpoints) ||
	    json_object_size(ps->endpoints) == 0 ||
	    json_object_size(ps->endpoints) > TRAFFIC_POLICY_ENDPOINTS_MAX)
		return bad(ps, "$.Endpoints",
			   "must be an object of 1 to %d endpoints",
			   TRAFFIC_POLICY_ENDPOINTS_MAX);
	if (ps->rules != NULL &&
	    (!json_is_object(ps->rules) ||
	     json_object_size(ps->rules) > TRAFFIC_POLICY_RULES_MAX))
		return bad(ps, "$.Rules",
			   "must be an object of at most %d rules",
			   TRAFFIC_POLICY_RULES_MAX);
	const char *key;
	json_t *v;
	json_object_foreach(ps->endpoints, key, v)
	{
		if (!key_ok(key))
			return bad(ps, "$.Endpoints",
				   "an endpoint's name must be 1 to %d "
				   "printable characters",
				   TRAFFIC_POLICY_KEY_MAX);
	}
	json_object_foreach(ps->rules, key, v)
	{
		if (!key_ok(key))
			return bad(ps, "$.Rules",
				   "a rule's name must be 1 to %d printable "
				   "characters",
				   TRAFFIC_POLICY_KEY_MAX);
	}
	size_t ne = json_object_size(ps->endpoints);
	p->endpoints = calloc(ne, sizeof(*p->endpoints));
	if (p->endpoints == NULL)
		return Q53_ENOMEM;
	json_object_foreach(ps->endpoints, key, v)
	{
		rc = endpoint_parse(ps, key, v, &p->endpoints[p->nendpoints]);
		p->nendpoints++;
		if (rc != 0)
			return rc;
	}
	size_t nr = ps->rules != NULL ? json_object_size(ps->rules) : 0;
	if (nr > 0) {
		p->rules = calloc(nr, sizeof(*p->rules));
		if (p->rules == NULL)
			return Q53_ENOMEM;
	}
	json_object_foreach(ps->rules, key, v)
	{
		struct traffic_rule *r = &p->rules[p->nrules++];
		r->name = dup_str(key);
		if (r->name == NULL)
			return Q53_ENOMEM;
		if ((rc = rule_parse(ps, key, v, r)) != 0)
			return rc;
		if (r->type == TRAFFIC_RULE_MULTIVALUE &&
		    p->type == RRTYPE_CNAME)
			return bad(ps, "$.Rules",
				   "%s: a multivalue rule cannot "
				   "be of type CNAME",
				   key);
	}
	if ((rc = string_at(ps, "$", root, "StartRule", false, &sr)) != 0 ||
	    (rc = string_at(ps, "$", root, "StartEndpoint", false, &se)) != 0)
		return rc;
	if ((sr == NULL) == (se == NULL))
		return bad(ps, "$",
			   "exactly one of StartRule and StartEndpoint is "
			   "required");
	long idx =
	    sr != NULL ? index_of(ps->rules, sr) : index_of(ps->endpoints, se);
	if (idx < 0)
		return bad(ps, sr != NULL ? "$.StartRule" : "$.StartEndpoint",
			   "no %s named \"%s\"",
			   sr != NULL ? "rule" : "endpoint",
			   key_ok(sr != NULL ? sr : se) ? (sr != NULL ? sr : se)
							: "?");
	p->start_is_rule = sr != NULL;
	p->start = (uint32_t)idx;
	char why[256];
	if (traffic_policy_check(p, why, sizeof(why)) != 0)
		return bad(ps, "$.Rules", "%s", why);
	return 0;
}

int traffic_policy_parse(const char *document, size_t len,
			 struct traffic_policy *out, char *err, size_t errlen)
{
	json_error_t jerr;
	struct parse ps = {.p = out, .err = err, .errlen = errlen};
	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (len > TRAFFIC_POLICY_DOC_MAX)
		return q53_fail(err, errlen, Q53_EINVAL,
				"$: the document is longer than %d characters",
				TRAFFIC_POLICY_DOC_MAX);
	json_t *root = json_loadb(document, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return q53_fail(err, errlen, Q53_EINVAL,
				"$: not valid JSON (line %d, column %d): %s",
				jerr.line, jerr.column, jerr.text);
	int rc = parse_root(&ps, root);
	json_decref(root);
	if (rc != 0)
		traffic_policy_free(out);
	return rc;
}
