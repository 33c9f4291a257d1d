#include "node/api/route53/rest_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "node/api/route53/rest_keys.h"
#include "node/common/errcode.h"

#define R53_PREFIX "/2013-04-01/"
#define ARN	   "arn:aws:route53:::"
#define SEG_MAX	   4

/* method, segments pattern ("*" = an id), action, resource kind: 'z' the
 * hosted zone of segment 1, 'h' the health check of segment 1, 'c' the
 * change of segment 1, 't' the tagged resource (tags/TYPE/ID), '*' none. */
static const struct {
	const char *method;
	unsigned nseg;
	const char *seg0, *seg2;
	const char *action;
	char resource;
} OPS[] = {
    {"POST", 1, "hostedzone", NULL, "CreateHostedZone", '*'},
    {"GET", 1, "hostedzone", NULL, "ListHostedZones", '*'},
    {"GET", 2, "hostedzone", NULL, "GetHostedZone", 'z'},
    {"POST", 2, "hostedzone", NULL, "UpdateHostedZoneComment", 'z'},
    {"DELETE", 2, "hostedzone", NULL, "DeleteHostedZone", 'z'},
    {"POST", 3, "hostedzone", "rrset", "ChangeResourceRecordSets", 'z'},
    {"GET", 3, "hostedzone", "rrset", "ListResourceRecordSets", 'z'},
    {"GET", 3, "hostedzone", "dnssec", "GetDNSSEC", 'z'},
    {"GET", 2, "change", NULL, "GetChange", 'c'},
    {"GET", 1, "hostedzonesbyname", NULL, "ListHostedZonesByName", '*'},
    {"GET", 1, "hostedzonecount", NULL, "GetHostedZoneCount", '*'},
    {"POST", 1, "healthcheck", NULL, "CreateHealthCheck", '*'},
    {"GET", 1, "healthcheck", NULL, "ListHealthChecks", '*'},
    {"GET", 1, "healthcheckcount", NULL, "GetHealthCheckCount", '*'},
    {"GET", 2, "healthcheck", NULL, "GetHealthCheck", 'h'},
    {"POST", 2, "healthcheck", NULL, "UpdateHealthCheck", 'h'},
    {"DELETE", 2, "healthcheck", NULL, "DeleteHealthCheck", 'h'},
    {"GET", 3, "healthcheck", "status", "GetHealthCheckStatus", 'h'},
    {"GET", 3, "healthcheck", "lastfailurereason",
     "GetHealthCheckLastFailureReason", 'h'},
    {"GET", 1, "checkeripranges", NULL, "GetCheckerIpRanges", '*'},
    {"GET", 1, "testdnsanswer", NULL, "TestDNSAnswer", '*'},
    {"GET", 3, "hostedzonelimit", NULL, "GetHostedZoneLimit", 'z'},
    {"GET", 2, "accountlimit", NULL, "GetAccountLimit", '*'},
    {"POST", 3, "tags", NULL, "ChangeTagsForResource", 't'},
    {"GET", 3, "tags", NULL, "ListTagsForResource", 't'},
    {"POST", 2, "tags", NULL, "ListTagsForResources", '*'},
};

void rest_auth_target(const char *method, const char *path,
		      struct rest_auth_target *out)
{
	char seg[SEG_MAX][256];
	unsigned nseg = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->action, sizeof(out->action), "route53:Unknown");
	snprintf(out->resource, sizeof(out->resource), "*");
	if (rest_keys_match(path)) {
		/* quorum53's own key management: administrators only */
		bool one = path[strlen(REST_KEYS_PATH)] == '/' &&
			   path[strlen(REST_KEYS_PATH) + 1] != '\0';
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
	if (strncmp(path, R53_PREFIX, strlen(R53_PREFIX)) != 0)
		return;
	for (const char *p = path + strlen(R53_PREFIX); *p != '\0';) {
		size_t n = strcspn(p, "/");

		if (n > 0) {
			if (nseg == SEG_MAX || n >= sizeof(seg[0]))
				return;
			memcpy(seg[nseg], p, n);
			seg[nseg][n] = '\0';
			nseg++;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	for (size_t i = 0; i < sizeof(OPS) / sizeof(OPS[0]); i++) {
		if (strcmp(OPS[i].method, method) != 0 || OPS[i].nseg != nseg ||
		    strcmp(OPS[i].seg0, seg[0]) != 0 ||
		    (OPS[i].seg2 != NULL && strcmp(OPS[i].seg2, seg[2]) != 0))
			continue;
		snprintf(out->action, sizeof(out->action), "route53:%s",
			 OPS[i].action);
		out->change_batch = OPS[i].resource == 'z' &&
				    OPS[i].seg2 != NULL &&
				    strcmp(OPS[i].seg2, "rrset") == 0 &&
				    strcmp(method, "POST") == 0;
		switch (OPS[i].resource) {
		case 'z':
			snprintf(out->resource, sizeof(out->resource),
				 ARN "hostedzone/%s", seg[1]);
			break;
		case 'h':
			snprintf(out->resource, sizeof(out->resource),
				 ARN "healthcheck/%s", seg[1]);
			break;
		case 'c':
			snprintf(out->resource, sizeof(out->resource),
				 ARN "change/%s", seg[1]);
			break;
		case 't':
			snprintf(out->resource, sizeof(out->resource),
				 ARN "%s/%s", seg[1], seg[2]);
			break;
		default:
			break;
		}
		return;
	}
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
