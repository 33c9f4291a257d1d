/* Traffic Flow policy documents (Route 53's AWSPolicyFormatVersion
 * 2015-10-01), typed: the JSON is parsed once, at the edge
 * (traffic_policy_parse, traffic_policy_json.c, jansson), into the
 * struct traffic_policy below, which is what the control plane keeps and
 * what a policy record (a traffic policy instance) compiles from. Rules
 * and endpoints are referred to by index; the document as given is kept
 * for display (GetTrafficPolicy).
 *
 * A policy compiles to the same decision tree as the equivalent nested
 * record sets (zone_store_build.c): a rule is a group of one routing
 * policy (failover, weighted, geolocation, multivalue answer, latency,
 * geoproximity, IP-based), each item
 * a member of it; an item naming an endpoint is a record set holding the
 * endpoint's value, an item naming a rule an alias to that rule's group,
 * with the item's HealthCheck and EvaluateTargetHealth. */
#ifndef Q53_NODE_CONTROL_TRAFFIC_POLICY_H
#define Q53_NODE_CONTROL_TRAFFIC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Route 53's limits, and this implementation's bounds. */
#define TRAFFIC_POLICY_DOC_MAX	     102400 /* characters of a document */
#define TRAFFIC_POLICY_NAME_MAX	     512    /* characters of a policy's name */
#define TRAFFIC_POLICY_RULES_MAX     64	    /* rules of one document */
#define TRAFFIC_POLICY_ENDPOINTS_MAX 256    /* endpoints of one document */
#define TRAFFIC_POLICY_ITEMS_MAX     256    /* items of one rule */
#define TRAFFIC_POLICY_DEPTH_MAX     8	    /* rules on a path from the start */
#define TRAFFIC_POLICY_KEY_MAX	     128 /* characters of a rule/endpoint key */
/* Rules of the unfolded tree of one rule (a rule referred to twice counts
 * twice): ZONE_CHOICE_MAX_NODES, what one decision tree holds. */
#define TRAFFIC_POLICY_TREE_MAX 64

enum traffic_rule_type {
	TRAFFIC_RULE_FAILOVER = 1,
	TRAFFIC_RULE_WEIGHTED = 2,
	TRAFFIC_RULE_GEO = 3,
	TRAFFIC_RULE_MULTIVALUE = 4,
	TRAFFIC_RULE_LATENCY = 5,
	/* Written with command_version 10 (COMMAND_VERSION_TRAFFIC_FLOW_GEO):
	 * a release that knows only 1..5 stops rather than compile them. */
	TRAFFIC_RULE_GEOPROX = 6, /* "geoproximity": GeoproximityLocations */
	TRAFFIC_RULE_CIDR = 7,	  /* "cidr": Locations of a CIDR collection */
};
#define TRAFFIC_RULE_TYPE_MAX		 TRAFFIC_RULE_CIDR
#define TRAFFIC_POLICY_REGION_MAX	 32 /* characters of a Region */
#define TRAFFIC_POLICY_GP_REGION_MAX	 15 /* a geoproximity AWS Region */
#define TRAFFIC_POLICY_CIDR_ID_MAX	 36 /* a CidrCollection's Id (UUID) */
#define TRAFFIC_POLICY_CIDR_LOCATION_MAX 16 /* CIDR_LOCATION_MAX */

/* An item of a rule: where it leads and its routing fields. */
struct traffic_item {
	bool is_rule; /* ref is a rule index, else an endpoint's */
	uint32_t ref;
	char *health_check; /* NULL: none */
	bool evaluate;	    /* EvaluateTargetHealth (rule references) */
	uint8_t weight;	    /* weighted */
	/* geo: the location (ZONE_GEO_CHOICE | ..., choice.h) and the
	 * codes as given ("" when absent; "*" country for IsDefault). */
	uint32_t geo;
	char continent[3];
	char country[3];
	char subdivision[4];
	/* latency: the Region (Route 53's code or a site's region). */
	char region[TRAFFIC_POLICY_REGION_MAX + 1];
	/* geoproximity: the location in hundredths of a degree (an AWS
	 * Region's coordinates when gp_region is not ""), the Bias. */
	int32_t gp_lat, gp_lon, gp_bias;
	char gp_region[TRAFFIC_POLICY_GP_REGION_MAX + 1];
	/* cidr: the collection (the same in every item of a rule) and the
	 * location name ("*": the default). */
	char cidr_collection[TRAFFIC_POLICY_CIDR_ID_MAX + 1];
	char cidr_location[TRAFFIC_POLICY_CIDR_LOCATION_MAX + 1];
};

struct traffic_rule {
	char *name;
	enum traffic_rule_type type;
	/* failover: item 0 the primary, item 1 the secondary. */
	struct traffic_item *items;
	size_t nitems;
};

struct traffic_endpoint {
	char *name;
	char *value; /* as given */
	uint8_t *rdata;
	uint16_t rdlen;
};

struct traffic_policy {
	uint16_t type; /* RecordType */
	bool start_is_rule;
	uint32_t start; /* StartRule or StartEndpoint: an index */
	struct traffic_rule *rules;
	size_t nrules;
	struct traffic_endpoint *endpoints;
	size_t nendpoints;
};

/* Parses and validates document[0..len) (traffic_policy_json.c). 0 with
 * *out filled (free with traffic_policy_free); Q53_EINVAL with the reason
 * in err, naming the JSON path of the offending value (e.g.
 * "$.Rules.site.Items[1].Weight: ..."), as Route 53's
 * InvalidTrafficPolicyDocument message; Q53_ENOMEM. */
int traffic_policy_parse(const char *document, size_t len,
			 struct traffic_policy *out, char *err, size_t errlen);

/* Checks a typed policy (from an untrusted log entry or snapshot): every
 * reference in range, items per rule as the rule type wants, no cycle,
 * depth at most TRAFFIC_POLICY_DEPTH_MAX, unfolded trees of at most
 * TRAFFIC_POLICY_TREE_MAX rules. 0 or Q53_EINVAL (reason in
 * err). traffic_policy_parse's result always passes. */
int traffic_policy_check(const struct traffic_policy *p, char *err,
			 size_t errlen);

/* Whether p holds a geoproximity or cidr rule: its commands are
 * command_version 10 (COMMAND_VERSION_TRAFFIC_FLOW_GEO), else 7. */
bool traffic_policy_needs_geo_version(const struct traffic_policy *p);

/* "failover", "weighted", "geo", "multivalue", "latency",
 * "geoproximity", "cidr". */
const char *traffic_rule_type_name(enum traffic_rule_type t);

void traffic_policy_free(struct traffic_policy *p);

#endif
