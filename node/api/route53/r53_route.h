/* Route 53 REST routing: method + path (as libmicrohttpd gives it, %-
 * decoded) + query parameters -> the operation, its ids and its paging
 * parameters. Pure (no server, no allocation): fuzzed by
 * tests/fuzz/fuzz_route53_route.c. */
#ifndef Q53_NODE_API_ROUTE53_R53_ROUTE_H
#define Q53_NODE_API_ROUTE53_R53_ROUTE_H

#include <stddef.h>

enum r53_op {
	R53_UNKNOWN = 0,
	R53_CREATE_ZONE,
	R53_GET_ZONE,
	R53_LIST_ZONES,
	R53_DELETE_ZONE,
	R53_UPDATE_ZONE_COMMENT,
	R53_ZONES_BY_NAME,
	R53_ZONE_COUNT,
	R53_CHANGE_RRSETS,
	R53_LIST_RRSETS,
	R53_GET_CHANGE,
	R53_CREATE_HC,
	R53_GET_HC,
	R53_LIST_HCS,
	R53_UPDATE_HC,
	R53_DELETE_HC,
	R53_HC_STATUS,
	R53_HC_LAST_FAILURE,
	R53_HC_COUNT,
	R53_CHANGE_TAGS,
	R53_LIST_TAGS,
	R53_LIST_TAGS_MANY,
	R53_CHECKER_IPS,
	R53_ZONE_LIMIT,
	R53_ACCOUNT_LIMIT,
	R53_GET_DNSSEC,
	R53_TEST_DNS_ANSWER,
	R53_CREATE_CIDR,
	R53_CHANGE_CIDR,
	R53_DELETE_CIDR,
	R53_LIST_CIDRS,
	R53_LIST_CIDR_LOCATIONS,
	R53_LIST_CIDR_BLOCKS,
	/* Traffic Flow (id: the policy's or instance's, kind: the version) */
	R53_CREATE_TP,
	R53_CREATE_TP_VERSION,
	R53_GET_TP,
	R53_LIST_TPS,
	R53_LIST_TP_VERSIONS,
	R53_UPDATE_TP_COMMENT,
	R53_DELETE_TP,
	R53_CREATE_TPI,
	R53_GET_TPI,
	R53_LIST_TPIS,
	R53_LIST_TPIS_BY_ZONE,
	R53_LIST_TPIS_BY_POLICY,
	R53_UPDATE_TPI,
	R53_DELETE_TPI,
	R53_TPI_COUNT,
	/* query logging configs (id: the config's) */
	R53_CREATE_QLC,
	R53_GET_QLC,
	R53_LIST_QLCS,
	R53_DELETE_QLC,
	R53_OP_COUNT /* not an operation: the number of kinds */
};

#define R53_ROUTE_SEG_MAX 255 /* bytes of one path segment */

/* Query parameters by name (NULL when absent); borrowed. */
typedef const char *(*r53_query_fn)(void *ctx, const char *name);

struct r53_route {
	enum r53_op op;
	/* The path's ids, "/hostedzone/" style prefixes already gone from
	 * the path: id = zone / change / health check / tagged resource;
	 * kind = tag resource type or limit type ("" when none). */
	char id[R53_ROUTE_SEG_MAX + 1];
	char kind[R53_ROUTE_SEG_MAX + 1];
	/* Paging: marker (ListHostedZones / ListHealthChecks, without a
	 * "/hostedzone/" prefix) and the page size (the operation's default
	 * when maxitems is absent or not a positive number, capped at its
	 * maximum). */
	char marker[128];
	unsigned max_items;
	/* ListResourceRecordSets / ListHostedZonesByName: borrowed from the
	 * query (NULL when absent). */
	const char *name, *type, *identifier;
	const char *dns_name, *zone_id;
	/* TestDNSAnswer (zone_id: hostedzoneid): borrowed, NULL when
	 * absent. */
	const char *record_name, *record_type, *resolver_ip, *ecs_ip, *ecs_mask;
	/* CIDR listings (id: the collection): nexttoken, location; borrowed,
	 * NULL when absent; max_items from maxresults. */
	const char *next_token, *location;
	/* ListTrafficPolicyInstancesByPolicy (id, version) and ...ByHostedZone
	 * (id: flow_id): borrowed, NULL when absent. The instance listings'
	 * markers: zone_id (hostedzoneid), name (trafficpolicyinstancename),
	 * type (trafficpolicyinstancetype). */
	const char *flow_id, *flow_version;
	/* Non-NULL: the request is a known operation with parameters Route
	 * 53 refuses (InvalidInput, this message). */
	const char *invalid;
};

/* Fills *out. Never fails: an unknown path or method gives R53_UNKNOWN.
 * method and path NUL-terminated; query may be NULL (no parameters). */
void r53_route_parse(const char *method, const char *path, r53_query_fn query,
		     void *ctx, struct r53_route *out);

/* "ListHostedZones", ...: for messages. */
const char *r53_op_name(enum r53_op op);

#endif
