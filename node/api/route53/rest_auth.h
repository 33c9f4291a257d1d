/* What a Route 53 REST request asks for in IAM's terms, for the policy
 * check (iam_policy.h) of node/api/route53/rest.c: the action
 * ("route53:ChangeResourceRecordSets") and resource
 * ("arn:aws:route53:::hostedzone/Z1", "*") of a method and path, as IAM
 * names them for Route 53, and a change batch's condition-key values.
 * Pure; the action and resource come from the router's operation
 * (r53_route.h), the one parser of the paths. */
#ifndef Q53_NODE_API_ROUTE53_REST_AUTH_H
#define Q53_NODE_API_ROUTE53_REST_AUTH_H

#include <stddef.h>

#include "node/api/route53/r53_route.h"
#include "node/control/iam_policy.h"

#define REST_AUTH_ACTION_MAX   64
#define REST_AUTH_RESOURCE_MAX 600

struct rest_auth_target {
	char action[REST_AUTH_ACTION_MAX];     /* "route53:GetChange" */
	char resource[REST_AUTH_RESOURCE_MAX]; /* ARN or "*" */
	bool change_batch; /* ChangeResourceRecordSets: conditions apply */
};

/* Never fails: an unknown operation is "route53:Unknown" on "*" (only a
 * policy allowing everything passes it on to the router's 404). The
 * /q53/accesskeys paths (rest_keys.h) are the q53:* actions; every other
 * path goes through r53_route_parse. */
void rest_auth_target(const char *method, const char *path,
		      struct rest_auth_target *out);
/* The same for a request already routed (rt as r53_route_parse made it). */
void rest_auth_target_of(const struct r53_route *rt,
			 struct rest_auth_target *out);
/* The IAM action's name of an operation ("GetChange", without the
 * "route53:" prefix; R53_UNKNOWN: "Unknown"), NULL past R53_OP_COUNT
 * or for a kind without one. Static. */
const char *rest_auth_action(enum r53_op op);

/* A change batch's condition-key values (the AWS CLI's JSON, as
 * r53_xml_change_batch makes it), filled into r's names / types /
 * actions: every change's normalized name, type and action, each once.
 * 0, Q53_EINVAL (not a change batch: the router refuses it) or
 * Q53_ENOMEM. Release with rest_auth_batch_free. */
struct rest_auth_batch {
	char **names;
	char **types;
	char **actions;
	size_t n_names, n_types, n_actions;
};
int rest_auth_batch_parse(const char *json, struct rest_auth_batch *out);
void rest_auth_batch_free(struct rest_auth_batch *b);
/* Points r's condition values at b. */
void rest_auth_batch_request(const struct rest_auth_batch *b,
			     struct iam_request *r);

#endif
