#include "node/api/route53/r53_route.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"

#define R53_PREFIX	"/2013-04-01"
#define SEGS_MAX	4
#define ZONES_PAGE_MAX	100
#define RRSETS_PAGE_MAX 300

static const char *no_query(void *ctx, const char *name)
{
	(void)ctx, (void)name;
	return NULL;
}

static unsigned page(const char *v, unsigned dflt, unsigned max)
{
	char *end;
	unsigned long k;

	if (v == NULL || *v < '0' || *v > '9')
		return dflt;
	k = strtoul(v, &end, 10);
	if (*end != '\0' || k == 0)
		return dflt;
	return k > max ? max : (unsigned)k;
}

static const char *strip(const char *id, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(id, prefix, n) == 0 ? id + n : id;
}

struct segs {
	char s[SEGS_MAX][R53_ROUTE_SEG_MAX + 1];
	size_t n;
};

/* Splits path after the version into segments; empty ones (double
 * slashes) are skipped. false: not this version, too many or too long. */
static bool split(const char *path, struct segs *g)
{
	g->n = 0;
	if (strncmp(path, R53_PREFIX "/", sizeof(R53_PREFIX)) != 0)
		return false;
	for (const char *p = path + sizeof(R53_PREFIX); *p != '\0';) {
		size_t n = strcspn(p, "/");
		if (n > 0) {
			if (g->n == SEGS_MAX || n > R53_ROUTE_SEG_MAX)
				return false;
			/* dot segments name no resource */
			if ((n == 1 && p[0] == '.') ||
			    (n == 2 && p[0] == '.' && p[1] == '.'))
				return false;
			memcpy(g->s[g->n], p, n);
			g->s[g->n][n] = '\0';
			g->n++;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

static bool is(const struct segs *g, size_t i, const char *v)
{
	return i < g->n && strcmp(g->s[i], v) == 0;
}

static void set(char *dst, const char *src)
{
	snprintf(dst, R53_ROUTE_SEG_MAX + 1, "%s", src);
}

void r53_route_parse(const char *method, const char *path, r53_query_fn query,
		     void *ctx, struct r53_route *out)
{
	struct segs g;
	bool get = strcmp(method, "GET") == 0,
	     post = strcmp(method, "POST") == 0,
	     del = strcmp(method, "DELETE") == 0;

	memset(out, 0, sizeof(*out));
	if (query == NULL)
		query = no_query;
	if (!split(path, &g) || g.n == 0)
		return;
	const char *s0 = g.s[0];
	enum r53_op op = R53_UNKNOWN;

	if (strcmp(s0, "hostedzone") == 0) {
		if (g.n == 1)
			op = post  ? R53_CREATE_ZONE
			     : get ? R53_LIST_ZONES
				   : R53_UNKNOWN;
		else if (g.n == 2)
			op = get    ? R53_GET_ZONE
			     : del  ? R53_DELETE_ZONE
			     : post ? R53_UPDATE_ZONE_COMMENT
				    : R53_UNKNOWN;
		else if (g.n == 3 && is(&g, 2, "rrset"))
			op = post  ? R53_CHANGE_RRSETS
			     : get ? R53_LIST_RRSETS
				   : R53_UNKNOWN;
		else if (g.n == 3 && is(&g, 2, "dnssec") && get)
			op = R53_GET_DNSSEC;
		if (g.n >= 2)
			set(out->id, g.s[1]);
	} else if (strcmp(s0, "hostedzonesbyname") == 0 && g.n == 1 && get) {
		op = R53_ZONES_BY_NAME;
	} else if (strcmp(s0, "hostedzonecount") == 0 && g.n == 1 && get) {
		op = R53_ZONE_COUNT;
	} else if (strcmp(s0, "change") == 0 && g.n == 2 && get) {
		op = R53_GET_CHANGE;
		set(out->id, g.s[1]);
	} else if (strcmp(s0, "healthcheck") == 0) {
		if (g.n == 1)
			op = post  ? R53_CREATE_HC
			     : get ? R53_LIST_HCS
				   : R53_UNKNOWN;
		else if (g.n == 2)
			op = get    ? R53_GET_HC
			     : del  ? R53_DELETE_HC
			     : post ? R53_UPDATE_HC
				    : R53_UNKNOWN;
		else if (g.n == 3 && is(&g, 2, "status") && get)
			op = R53_HC_STATUS;
		else if (g.n == 3 && is(&g, 2, "lastfailurereason") && get)
			op = R53_HC_LAST_FAILURE;
		if (g.n >= 2)
			set(out->id, g.s[1]);
	} else if (strcmp(s0, "healthcheckcount") == 0 && g.n == 1 && get) {
		op = R53_HC_COUNT;
	} else if (strcmp(s0, "tags") == 0 && g.n >= 2) {
		set(out->kind, g.s[1]);
		if (g.n == 2 && post)
			op = R53_LIST_TAGS_MANY;
		else if (g.n == 3)
			op = post  ? R53_CHANGE_TAGS
			     : get ? R53_LIST_TAGS
				   : R53_UNKNOWN;
		if (g.n == 3)
			set(out->id, g.s[2]);
	} else if (strcmp(s0, "checkeripranges") == 0 && g.n == 1 && get) {
		op = R53_CHECKER_IPS;
	} else if (strcmp(s0, "hostedzonelimit") == 0 && g.n == 3 && get) {
		op = R53_ZONE_LIMIT;
		set(out->id, g.s[1]);
		set(out->kind, g.s[2]);
	} else if (strcmp(s0, "testdnsanswer") == 0 && g.n == 1 && get) {
		op = R53_TEST_DNS_ANSWER;
	} else if (strcmp(s0, "trafficpolicy") == 0) {
		if (g.n == 1 && post)
			op = R53_CREATE_TP;
		else if (g.n == 2 && post)
			op = R53_CREATE_TP_VERSION;
		else if (g.n == 3)
			op = get    ? R53_GET_TP
			     : post ? R53_UPDATE_TP_COMMENT
			     : del  ? R53_DELETE_TP
				    : R53_UNKNOWN;
		if (g.n >= 2)
			set(out->id, g.s[1]);
		if (g.n >= 3)
			set(out->kind, g.s[2]);
	} else if (strcmp(s0, "trafficpolicies") == 0 && get) {
		if (g.n == 1)
			op = R53_LIST_TPS;
		else if (g.n == 3 && is(&g, 2, "versions")) {
			op = R53_LIST_TP_VERSIONS;
			set(out->id, g.s[1]);
		}
	} else if (strcmp(s0, "trafficpolicyinstance") == 0) {
		if (g.n == 1 && post)
			op = R53_CREATE_TPI;
		else if (g.n == 2)
			op = get    ? R53_GET_TPI
			     : post ? R53_UPDATE_TPI
			     : del  ? R53_DELETE_TPI
				    : R53_UNKNOWN;
		if (g.n >= 2)
			set(out->id, g.s[1]);
	} else if (strcmp(s0, "trafficpolicyinstances") == 0 && get) {
		if (g.n == 1)
			op = R53_LIST_TPIS;
		else if (g.n == 2 && is(&g, 1, "hostedzone"))
			op = R53_LIST_TPIS_BY_ZONE;
		else if (g.n == 2 && is(&g, 1, "trafficpolicy"))
			op = R53_LIST_TPIS_BY_POLICY;
	} else if (strcmp(s0, "trafficpolicyinstancecount") == 0 && g.n == 1 &&
		   get) {
		op = R53_TPI_COUNT;
	} else if (strcmp(s0, "cidrcollection") == 0) {
		if (g.n == 1)
			op = post  ? R53_CREATE_CIDR
			     : get ? R53_LIST_CIDRS
				   : R53_UNKNOWN;
		else if (g.n == 2)
			op = post  ? R53_CHANGE_CIDR
			     : del ? R53_DELETE_CIDR
			     : get ? R53_LIST_CIDR_LOCATIONS
				   : R53_UNKNOWN;
		else if (g.n == 3 && is(&g, 2, "cidrblocks") && get)
			op = R53_LIST_CIDR_BLOCKS;
		if (g.n >= 2)
			set(out->id, g.s[1]);
	} else if (strcmp(s0, "queryloggingconfig") == 0) {
		if (g.n == 1)
			op = post  ? R53_CREATE_QLC
			     : get ? R53_LIST_QLCS
				   : R53_UNKNOWN;
		else if (g.n == 2)
			op = get   ? R53_GET_QLC
			     : del ? R53_DELETE_QLC
				   : R53_UNKNOWN;
		if (g.n == 2)
			set(out->id, g.s[1]);
	} else if (strcmp(s0, "accountlimit") == 0 && g.n == 2 && get) {
		op = R53_ACCOUNT_LIMIT;
		set(out->kind, g.s[1]);
	}
	out->op = op;

	/* parameters */
	const char *marker = NULL;
	switch (op) {
	case R53_LIST_ZONES:
		marker = query(ctx, "marker");
		if (marker != NULL)
			marker = strip(marker, "/hostedzone/");
		out->max_items = page(query(ctx, "maxitems"), ZONES_PAGE_MAX,
				      ZONES_PAGE_MAX);
		break;
	case R53_LIST_HCS:
		marker = query(ctx, "marker");
		out->max_items = page(query(ctx, "maxitems"),
				      API_MSG_PAGE_DEFAULT, API_MSG_PAGE_MAX);
		break;
	case R53_HC_COUNT:
		out->max_items = API_MSG_PAGE_MAX;
		break;
	case R53_ZONES_BY_NAME:
		out->dns_name = query(ctx, "dnsname");
		out->zone_id = query(ctx, "hostedzoneid");
		out->max_items = page(query(ctx, "maxitems"), ZONES_PAGE_MAX,
				      ZONES_PAGE_MAX);
		if (out->zone_id != NULL && out->dns_name == NULL)
			out->invalid = "HostedZoneId needs DNSName";
		break;
	case R53_TEST_DNS_ANSWER:
		out->zone_id = query(ctx, "hostedzoneid");
		if (out->zone_id != NULL)
			out->zone_id = strip(out->zone_id, "/hostedzone/");
		out->record_name = query(ctx, "recordname");
		out->record_type = query(ctx, "recordtype");
		out->resolver_ip = query(ctx, "resolverip");
		out->ecs_ip = query(ctx, "edns0clientsubnetip");
		out->ecs_mask = query(ctx, "edns0clientsubnetmask");
		if (out->zone_id == NULL || out->record_name == NULL ||
		    out->record_type == NULL)
			out->invalid = "The input is not valid: hostedzoneid, "
				       "recordname and recordtype are required";
		else if (out->ecs_mask != NULL && out->ecs_ip == NULL)
			out->invalid = "The input is not valid: "
				       "edns0clientsubnetmask needs "
				       "edns0clientsubnetip";
		break;
	case R53_LIST_TPS:
		marker = query(ctx, "trafficpolicyid");
		out->max_items = page(query(ctx, "maxitems"),
				      API_MSG_PAGE_DEFAULT, API_MSG_PAGE_MAX);
		break;
	case R53_LIST_TP_VERSIONS:
		marker = query(ctx, "trafficpolicyversion");
		out->max_items = page(query(ctx, "maxitems"),
				      API_MSG_PAGE_DEFAULT, API_MSG_PAGE_MAX);
		break;
	case R53_LIST_TPIS:
	case R53_LIST_TPIS_BY_ZONE:
	case R53_LIST_TPIS_BY_POLICY:
		/* Route 53's markers: the next page starts at (hosted
		 * zone, name, type). */
		out->zone_id = query(ctx, "hostedzoneid");
		if (out->zone_id != NULL)
			out->zone_id = strip(out->zone_id, "/hostedzone/");
		out->name = query(ctx, "trafficpolicyinstancename");
		out->type = query(ctx, "trafficpolicyinstancetype");
		out->flow_id = query(ctx, "id");
		out->flow_version = query(ctx, "version");
		out->max_items = page(query(ctx, "maxitems"),
				      API_MSG_PAGE_DEFAULT, API_MSG_PAGE_MAX);
		if (op == R53_LIST_TPIS_BY_ZONE && out->flow_id == NULL)
			out->invalid = "The input is not valid: id (the hosted "
				       "zone) is required";
		if (op == R53_LIST_TPIS_BY_POLICY &&
		    (out->flow_id == NULL || out->flow_version == NULL))
			out->invalid = "The input is not valid: id and version "
				       "are required";
		break;
	case R53_LIST_CIDR_BLOCKS:
		out->location = query(ctx, "location");
		/* fall through */
	case R53_LIST_CIDRS:
	case R53_LIST_CIDR_LOCATIONS:
		out->next_token = query(ctx, "nexttoken");
		out->max_items = page(query(ctx, "maxresults"),
				      API_MSG_PAGE_DEFAULT, API_MSG_PAGE_MAX);
		if (out->next_token != NULL &&
		    strlen(out->next_token) > API_MSG_NAME_MAX)
			out->invalid = "The input is not valid: NextToken is "
				       "too long";
		break;
	case R53_LIST_RRSETS:
		out->name = query(ctx, "name");
		out->type = query(ctx, "type");
		out->identifier = query(ctx, "identifier");
		out->max_items = page(query(ctx, "maxitems"), RRSETS_PAGE_MAX,
				      RRSETS_PAGE_MAX);
		if (out->type != NULL && out->name == NULL)
			out->invalid = "The input is not valid: "
				       "StartRecordType needs StartRecordName";
		break;
	default:
		break;
	}
	if (marker != NULL)
		snprintf(out->marker, sizeof(out->marker), "%s", marker);
}

const char *r53_op_name(enum r53_op op)
{
	static const char *const names[] = {
	    [R53_UNKNOWN] = "Unknown",
	    [R53_CREATE_ZONE] = "CreateHostedZone",
	    [R53_GET_ZONE] = "GetHostedZone",
	    [R53_LIST_ZONES] = "ListHostedZones",
	    [R53_DELETE_ZONE] = "DeleteHostedZone",
	    [R53_UPDATE_ZONE_COMMENT] = "UpdateHostedZoneComment",
	    [R53_ZONES_BY_NAME] = "ListHostedZonesByName",
	    [R53_ZONE_COUNT] = "GetHostedZoneCount",
	    [R53_CHANGE_RRSETS] = "ChangeResourceRecordSets",
	    [R53_LIST_RRSETS] = "ListResourceRecordSets",
	    [R53_GET_CHANGE] = "GetChange",
	    [R53_CREATE_HC] = "CreateHealthCheck",
	    [R53_GET_HC] = "GetHealthCheck",
	    [R53_LIST_HCS] = "ListHealthChecks",
	    [R53_UPDATE_HC] = "UpdateHealthCheck",
	    [R53_DELETE_HC] = "DeleteHealthCheck",
	    [R53_HC_STATUS] = "GetHealthCheckStatus",
	    [R53_HC_LAST_FAILURE] = "GetHealthCheckLastFailureReason",
	    [R53_HC_COUNT] = "GetHealthCheckCount",
	    [R53_CHANGE_TAGS] = "ChangeTagsForResource",
	    [R53_LIST_TAGS] = "ListTagsForResource",
	    [R53_LIST_TAGS_MANY] = "ListTagsForResources",
	    [R53_CHECKER_IPS] = "GetCheckerIpRanges",
	    [R53_ZONE_LIMIT] = "GetHostedZoneLimit",
	    [R53_ACCOUNT_LIMIT] = "GetAccountLimit",
	    [R53_GET_DNSSEC] = "GetDNSSEC",
	    [R53_TEST_DNS_ANSWER] = "TestDNSAnswer",
	    [R53_CREATE_TP] = "CreateTrafficPolicy",
	    [R53_CREATE_TP_VERSION] = "CreateTrafficPolicyVersion",
	    [R53_GET_TP] = "GetTrafficPolicy",
	    [R53_LIST_TPS] = "ListTrafficPolicies",
	    [R53_LIST_TP_VERSIONS] = "ListTrafficPolicyVersions",
	    [R53_UPDATE_TP_COMMENT] = "UpdateTrafficPolicyComment",
	    [R53_DELETE_TP] = "DeleteTrafficPolicy",
	    [R53_CREATE_TPI] = "CreateTrafficPolicyInstance",
	    [R53_GET_TPI] = "GetTrafficPolicyInstance",
	    [R53_LIST_TPIS] = "ListTrafficPolicyInstances",
	    [R53_LIST_TPIS_BY_ZONE] = "ListTrafficPolicyInstancesByHostedZone",
	    [R53_LIST_TPIS_BY_POLICY] = "ListTrafficPolicyInstancesByPolicy",
	    [R53_UPDATE_TPI] = "UpdateTrafficPolicyInstance",
	    [R53_DELETE_TPI] = "DeleteTrafficPolicyInstance",
	    [R53_TPI_COUNT] = "GetTrafficPolicyInstanceCount",
	    [R53_CREATE_QLC] = "CreateQueryLoggingConfig",
	    [R53_GET_QLC] = "GetQueryLoggingConfig",
	    [R53_LIST_QLCS] = "ListQueryLoggingConfigs",
	    [R53_DELETE_QLC] = "DeleteQueryLoggingConfig",
	    [R53_CREATE_CIDR] = "CreateCidrCollection",
	    [R53_CHANGE_CIDR] = "ChangeCidrCollection",
	    [R53_DELETE_CIDR] = "DeleteCidrCollection",
	    [R53_LIST_CIDRS] = "ListCidrCollections",
	    [R53_LIST_CIDR_LOCATIONS] = "ListCidrLocations",
	    [R53_LIST_CIDR_BLOCKS] = "ListCidrBlocks",
	};
	return (unsigned)op < sizeof(names) / sizeof(names[0]) &&
		       names[op] != NULL
		   ? names[op]
		   : "Unknown";
}
