#include "node/api/route53/rest_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "node/api/route53/rest_keys.h"
#include "node/api/route53/rest_latency.h"
#include "node/common/errcode.h"

#define ARN "arn:aws:route53:::"

/* Each operation's IAM action and resource kind: 'z' the hosted zone of
 * the route's id, 'h' the health check of its id, 'c' the change of its
 * id, 't' the tagged resource (kind/id), 'k' the CIDR collection of its
 * id, '*' none. Indexed by the router's
 * kind (r53_route.h), so that a kind added there without an entry here
 * fails to build. */
static const struct {
	const char *action;
	char resource;
} AUTH[] = {
    [R53_UNKNOWN] = {"Unknown", '*'},
    [R53_CREATE_ZONE] = {"CreateHostedZone", '*'},
    [R53_GET_ZONE] = {"GetHostedZone", 'z'},
    [R53_LIST_ZONES] = {"ListHostedZones", '*'},
    [R53_DELETE_ZONE] = {"DeleteHostedZone", 'z'},
    [R53_UPDATE_ZONE_COMMENT] = {"UpdateHostedZoneComment", 'z'},
    [R53_ZONES_BY_NAME] = {"ListHostedZonesByName", '*'},
    [R53_ZONE_COUNT] = {"GetHostedZoneCount", '*'},
    [R53_CHANGE_RRSETS] = {"ChangeResourceRecordSets", 'z'},
    [R53_LIST_RRSETS] = {"ListResourceRecordSets", 'z'},
    [R53_GET_CHANGE] = {"GetChange", 'c'},
    [R53_CREATE_HC] = {"CreateHealthCheck", '*'},
    [R53_GET_HC] = {"GetHealthCheck", 'h'},
    [R53_LIST_HCS] = {"ListHealthChecks", '*'},
    [R53_UPDATE_HC] = {"UpdateHealthCheck", 'h'},
    [R53_DELETE_HC] = {"DeleteHealthCheck", 'h'},
    [R53_HC_STATUS] = {"GetHealthCheckStatus", 'h'},
    [R53_HC_LAST_FAILURE] = {"GetHealthCheckLastFailureReason", 'h'},
    [R53_HC_COUNT] = {"GetHealthCheckCount", '*'},
    [R53_CHANGE_TAGS] = {"ChangeTagsForResource", 't'},
    [R53_LIST_TAGS] = {"ListTagsForResource", 't'},
    [R53_LIST_TAGS_MANY] = {"ListTagsForResources", '*'},
    [R53_CHECKER_IPS] = {"GetCheckerIpRanges", '*'},
    [R53_ZONE_LIMIT] = {"GetHostedZoneLimit", 'z'},
    [R53_ACCOUNT_LIMIT] = {"GetAccountLimit", '*'},
    [R53_GET_DNSSEC] = {"GetDNSSEC", 'z'},
    [R53_TEST_DNS_ANSWER] = {"TestDNSAnswer", '*'},
    [R53_CREATE_QLC] = {"CreateQueryLoggingConfig", '*'},
    [R53_GET_QLC] = {"GetQueryLoggingConfig", '*'},
    [R53_LIST_QLCS] = {"ListQueryLoggingConfigs", '*'},
    [R53_DELETE_QLC] = {"DeleteQueryLoggingConfig", '*'},
    [R53_CREATE_CIDR] = {"CreateCidrCollection", '*'},
    [R53_CHANGE_CIDR] = {"ChangeCidrCollection", 'k'},
    [R53_DELETE_CIDR] = {"DeleteCidrCollection", 'k'},
    [R53_LIST_CIDRS] = {"ListCidrCollections", '*'},
    [R53_LIST_CIDR_LOCATIONS] = {"ListCidrLocations", 'k'},
    [R53_LIST_CIDR_BLOCKS] = {"ListCidrBlocks", 'k'},
    [R53_CREATE_TP] = {"CreateTrafficPolicy", '*'},
    [R53_CREATE_TP_VERSION] = {"CreateTrafficPolicyVersion", '*'},
    [R53_GET_TP] = {"GetTrafficPolicy", '*'},
    [R53_LIST_TPS] = {"ListTrafficPolicies", '*'},
    [R53_LIST_TP_VERSIONS] = {"ListTrafficPolicyVersions", '*'},
    [R53_UPDATE_TP_COMMENT] = {"UpdateTrafficPolicyComment", '*'},
    [R53_DELETE_TP] = {"DeleteTrafficPolicy", '*'},
    [R53_CREATE_TPI] = {"CreateTrafficPolicyInstance", '*'},
    [R53_GET_TPI] = {"GetTrafficPolicyInstance", '*'},
    [R53_LIST_TPIS] = {"ListTrafficPolicyInstances", '*'},
    [R53_LIST_TPIS_BY_ZONE] = {"ListTrafficPolicyInstancesByHostedZone", '*'},
    [R53_LIST_TPIS_BY_POLICY] = {"ListTrafficPolicyInstancesByPolicy", '*'},
    [R53_UPDATE_TPI] = {"UpdateTrafficPolicyInstance", '*'},
    [R53_DELETE_TPI] = {"DeleteTrafficPolicyInstance", '*'},
    [R53_TPI_COUNT] = {"GetTrafficPolicyInstanceCount", '*'},
};
_Static_assert(sizeof(AUTH) / sizeof(AUTH[0]) == R53_OP_COUNT,
	       "every r53_op needs an IAM action in AUTH");

const char *rest_auth_action(enum r53_op op)
{
	return (unsigned)op < R53_OP_COUNT ? AUTH[op].action : NULL;
}

void rest_auth_target_of(const struct r53_route *rt,
			 struct rest_auth_target *out)
{
	enum r53_op op =
	    (unsigned)rt->op < R53_OP_COUNT && AUTH[rt->op].action != NULL
		? rt->op
		: R53_UNKNOWN;

	memset(out, 0, sizeof(*out));
	snprintf(out->action, sizeof(out->action), "route53:%s",
		 AUTH[op].action);
	snprintf(out->resource, sizeof(out->resource), "*");
	out->change_batch = op == R53_CHANGE_RRSETS;
	switch (AUTH[op].resource) {
	case 'z':
		snprintf(out->resource, sizeof(out->resource),
			 ARN "hostedzone/%s", rt->id);
		break;
	case 'h':
		snprintf(out->resource, sizeof(out->resource),
			 ARN "healthcheck/%s", rt->id);
		break;
	case 'c':
		snprintf(out->resource, sizeof(out->resource), ARN "change/%s",
			 rt->id);
		break;
	case 't':
		snprintf(out->resource, sizeof(out->resource), ARN "%s/%s",
			 rt->kind, rt->id);
		break;
	case 'k':
		snprintf(out->resource, sizeof(out->resource),
			 ARN "cidrcollection/%s", rt->id);
		break;
	default:
		break;
	}
}

void rest_auth_target(const char *method, const char *path,
		      struct rest_auth_target *out)
{
	struct r53_route rt;

	if (rest_keys_match(path)) {
		/* quorum53's own key management: administrators only */
		bool one = path[strlen(REST_KEYS_PATH)] == '/' &&
			   path[strlen(REST_KEYS_PATH) + 1] != '\0';

		memset(out, 0, sizeof(*out));
		snprintf(out->action, sizeof(out->action), "route53:Unknown");
		snprintf(out->resource, sizeof(out->resource), "*");
		if (strcmp(method, "POST") == 0 && !one)
			snprintf(out->action, sizeof(out->action),
				 "q53:CreateAccessKey");
		else if (strcmp(method, "GET") == 0 && !one)
			snprintf(out->action, sizeof(out->action),
				 "q53:ListAccessKeys");
		else if (strcmp(method, "DELETE") == 0 && one)
			snprintf(out->action, sizeof(out->action),
				 "q53:DeleteAccessKey");
		return;
	}
	if (rest_latency_match(path)) {
		/* the latency table: administrators only */
		memset(out, 0, sizeof(*out));
		rest_latency_action(method, path, out->action,
				    sizeof(out->action));
		snprintf(out->resource, sizeof(out->resource), "*");
		return;
	}
	/* The query does not change the action or resource. */
	r53_route_parse(method, path, NULL, NULL, &rt);
	rest_auth_target_of(&rt, out);
}

/* Appends s to (*v, *n) unless there. 0 or Q53_ENOMEM. */
static int add_once(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	char **a = realloc(*v, (*n + 1) * sizeof(*a));
	if (a == NULL)
		return Q53_ENOMEM;
	*v = a;
	a[*n] = strdup(s);
	if (a[*n] == NULL)
		return Q53_ENOMEM;
	(*n)++;
	return 0;
}

int rest_auth_batch_parse(const char *json, struct rest_auth_batch *out)
{
	json_t *root = json_loads(json, 0, NULL);
	json_t *changes = json_object_get(root, "Changes");
	char name[1100];
	int rv = 0;

	memset(out, 0, sizeof(*out));
	if (!json_is_array(changes)) {
		json_decref(root);
		return Q53_EINVAL;
	}
	for (size_t i = 0; rv == 0 && i < json_array_size(changes); i++) {
		json_t *c = json_array_get(changes, i);
		json_t *set = json_object_get(c, "ResourceRecordSet");
		const char *action =
		    json_string_value(json_object_get(c, "Action"));
		const char *n = json_string_value(json_object_get(set, "Name"));
		const char *t = json_string_value(json_object_get(set, "Type"));

		if (action == NULL || n == NULL || t == NULL) {
			rv = Q53_EINVAL;
			break;
		}
		iam_normalize_name(n, name, sizeof(name));
		rv = add_once(&out->actions, &out->n_actions, action);
		if (rv == 0)
			rv = add_once(&out->names, &out->n_names, name);
		if (rv == 0)
			rv = add_once(&out->types, &out->n_types, t);
	}
	json_decref(root);
	if (rv != 0)
		rest_auth_batch_free(out);
	return rv;
}

static void strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void rest_auth_batch_free(struct rest_auth_batch *b)
{
	strings_free(b->names, b->n_names);
	strings_free(b->types, b->n_types);
	strings_free(b->actions, b->n_actions);
	memset(b, 0, sizeof(*b));
}

void rest_auth_batch_request(const struct rest_auth_batch *b,
			     struct iam_request *r)
{
	r->names = (const char *const *)b->names;
	r->n_names = b->n_names;
	r->types = (const char *const *)b->types;
	r->n_types = b->n_types;
	r->actions = (const char *const *)b->actions;
	r->n_actions = b->n_actions;
}
