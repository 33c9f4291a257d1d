/* q53 traffic-policy / policy-record (see cli_flow.h). */
#include "cluster/cli/cli_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define OP(x) Q53__API__TRAFFIC_FLOW_REQUEST__OP__##x

static const char POLICY_USAGE[] =
    "q53 traffic-policy create NAME FILE|- [--comment C] | version ID "
    "FILE|- [--comment C] | get ID VERSION | list | versions ID | comment "
    "ID VERSION TEXT | delete ID VERSION";
static const char RECORD_USAGE[] =
    "q53 policy-record create ZONE-ID NAME TTL POLICY-ID VERSION | get ID | "
    "list [--zone ZONE-ID] [--policy ID --version N] | update ID TTL "
    "POLICY-ID VERSION | delete ID | count";

static json_t *policy_json(const Q53__Api__TrafficPolicyInfo *p)
{
	json_t *o = json_pack("{s:s,s:I,s:s,s:s,s:s}", "Id", p->id, "Version",
			      (json_int_t)p->version, "Name", p->name, "Type",
			      p->type, "Document", p->document);
	if (o != NULL && p->comment != NULL && p->comment[0] != '\0')
		json_object_set_new(o, "Comment", json_string(p->comment));
	return o;
}

static json_t *instance_json(const Q53__Api__TrafficPolicyInstanceInfo *i)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:I,s:s}", "Id", i->id,
			 "HostedZoneId", i->zone_id, "Name", i->name, "TTL",
			 (json_int_t)i->ttl, "State", i->state, "Message",
			 i->message, "TrafficPolicyId", i->policy_id,
			 "TrafficPolicyVersion", (json_int_t)i->policy_version,
			 "TrafficPolicyType", i->policy_type);
}

static int number(const char *s, const char *what, uint32_t *out)
{
	unsigned long long v;
	if (cli_parse_u64(s, &v) != 0 || v > UINT32_MAX)
		return cli_usage_error("%s '%s': expected a number", what, s);
	*out = (uint32_t)v;
	return CLI_EXIT_OK;
}

/* Sends t, prints the answer in Route 53's shape for its op. */
static int flow_call(struct cli *cli, Q53__Api__TrafficFlowRequest *t)
{
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__Response *r;
	req.body_case = Q53__API__REQUEST__BODY_TRAFFIC_FLOW;
	req.traffic_flow = t;
	int rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_TRAFFIC_FLOW, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	const Q53__Api__TrafficFlowResponse *f = r->traffic_flow;
	json_t *out = NULL;
	switch (t->op) {
	case OP(CREATE_POLICY):
	case OP(CREATE_POLICY_VERSION):
	case OP(GET_POLICY):
	case OP(UPDATE_POLICY_COMMENT):
		if (f->n_policies == 1)
			out = json_pack("{s:o}", "TrafficPolicy",
					policy_json(f->policies[0]));
		break;
	case OP(LIST_POLICIES): {
		json_t *a = json_array();
		for (size_t i = 0; i < f->n_summaries; i++) {
			const Q53__Api__TrafficPolicySummary *s =
			    f->summaries[i];
			json_array_append_new(
			    a, json_pack(
				   "{s:s,s:s,s:s,s:I,s:I}", "Id", s->id, "Name",
				   s->name, "Type", s->type, "LatestVersion",
				   (json_int_t)s->latest_version,
				   "TrafficPolicyCount", (json_int_t)s->count));
		}
		out = json_pack("{s:o,s:b}", "TrafficPolicySummaries", a,
				"IsTruncated", f->truncated);
		break;
	}
	case OP(LIST_POLICY_VERSIONS): {
		json_t *a = json_array();
		for (size_t i = 0; i < f->n_policies; i++)
			json_array_append_new(a, policy_json(f->policies[i]));
		out = json_pack("{s:o,s:b}", "TrafficPolicies", a,
				"IsTruncated", f->truncated);
		break;
	}
	case OP(CREATE_INSTANCE):
	case OP(GET_INSTANCE):
	case OP(UPDATE_INSTANCE):
		if (f->n_instances == 1)
			out = json_pack("{s:o}", "TrafficPolicyInstance",
					instance_json(f->instances[0]));
		break;
	case OP(LIST_INSTANCES):
	case OP(LIST_INSTANCES_BY_ZONE):
	case OP(LIST_INSTANCES_BY_POLICY): {
		json_t *a = json_array();
		for (size_t i = 0; i < f->n_instances; i++)
			json_array_append_new(a,
					      instance_json(f->instances[i]));
		out = json_pack("{s:o,s:b}", "TrafficPolicyInstances", a,
				"IsTruncated", f->truncated);
		break;
	}
	case OP(GET_INSTANCE_COUNT):
		out = json_pack("{s:I}", "TrafficPolicyInstanceCount",
				(json_int_t)f->count);
		break;
	default: /* deletes */
		cli_response_free(r);
		return CLI_EXIT_OK;
	}
	cli_response_free(r);
	if (out == NULL)
		return cli_fail(cli, CLI_EXIT_API, "InternalError",
				"incomplete answer");
	return cli_print_json(out);
}

int cli_flow_policy_main(struct cli *cli, int argc, char **argv)
{
	const char *pos[4], *comment = NULL;
	size_t npos;
	const struct cli_opt opts[] = {{"comment", &comment, NULL}};
	if (argc < 1)
		return cli_usage_error("usage: %s", POLICY_USAGE);
	const char *sub = argv[0];
	int rv = cli_parse_args(argc - 1, argv + 1, opts, 1, pos, 4, &npos,
				POLICY_USAGE);
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__TrafficFlowRequest t = Q53__API__TRAFFIC_FLOW_REQUEST__INIT;
	char *doc = NULL;
	size_t len;
	if (comment != NULL)
		t.comment = (char *)comment;
	if ((strcmp(sub, "create") == 0 || strcmp(sub, "version") == 0) &&
	    npos == 2) {
		if ((rv = cli_read_file(cli, pos[1], &doc, &len)) !=
		    CLI_EXIT_OK)
			return rv;
		t.document = doc;
		if (sub[0] == 'c') {
			t.op = OP(CREATE_POLICY);
			t.name = (char *)pos[0];
		} else {
			t.op = OP(CREATE_POLICY_VERSION);
			t.id = (char *)pos[0];
		}
	} else if ((strcmp(sub, "get") == 0 || strcmp(sub, "delete") == 0) &&
		   npos == 2) {
		t.op = sub[0] == 'g' ? OP(GET_POLICY) : OP(DELETE_POLICY);
		t.id = (char *)pos[0];
		if ((rv = number(pos[1], "VERSION", &t.version)) != CLI_EXIT_OK)
			return rv;
	} else if (strcmp(sub, "comment") == 0 && npos == 3) {
		t.op = OP(UPDATE_POLICY_COMMENT);
		t.id = (char *)pos[0];
		t.comment = (char *)pos[2];
		if ((rv = number(pos[1], "VERSION", &t.version)) != CLI_EXIT_OK)
			return rv;
	} else if (strcmp(sub, "list") == 0 && npos == 0) {
		t.op = OP(LIST_POLICIES);
	} else if (strcmp(sub, "versions") == 0 && npos == 1) {
		t.op = OP(LIST_POLICY_VERSIONS);
		t.id = (char *)pos[0];
	} else {
		return cli_usage_error("usage: %s", POLICY_USAGE);
	}
	rv = flow_call(cli, &t);
	free(doc);
	return rv;
}

int cli_flow_record_main(struct cli *cli, int argc, char **argv)
{
	const char *pos[5], *zone = NULL, *policy = NULL, *version = NULL;
	size_t npos;
	const struct cli_opt opts[] = {{"zone", &zone, NULL},
				       {"policy", &policy, NULL},
				       {"version", &version, NULL}};
	if (argc < 1)
		return cli_usage_error("usage: %s", RECORD_USAGE);
	const char *sub = argv[0];
	int rv = cli_parse_args(argc - 1, argv + 1, opts, 3, pos, 5, &npos,
				RECORD_USAGE);
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__TrafficFlowRequest t = Q53__API__TRAFFIC_FLOW_REQUEST__INIT;
	if (strcmp(sub, "create") == 0 && npos == 5) {
		t.op = OP(CREATE_INSTANCE);
		t.zone_id = (char *)pos[0];
		t.name = (char *)pos[1];
		t.policy_id = (char *)pos[3];
		if ((rv = number(pos[2], "TTL", &t.ttl)) != CLI_EXIT_OK ||
		    (rv = number(pos[4], "VERSION", &t.policy_version)) !=
			CLI_EXIT_OK)
			return rv;
	} else if (strcmp(sub, "update") == 0 && npos == 4) {
		t.op = OP(UPDATE_INSTANCE);
		t.id = (char *)pos[0];
		t.policy_id = (char *)pos[2];
		if ((rv = number(pos[1], "TTL", &t.ttl)) != CLI_EXIT_OK ||
		    (rv = number(pos[3], "VERSION", &t.policy_version)) !=
			CLI_EXIT_OK)
			return rv;
	} else if ((strcmp(sub, "get") == 0 || strcmp(sub, "delete") == 0) &&
		   npos == 1) {
		t.op = sub[0] == 'g' ? OP(GET_INSTANCE) : OP(DELETE_INSTANCE);
		t.id = (char *)pos[0];
	} else if (strcmp(sub, "count") == 0 && npos == 0) {
		t.op = OP(GET_INSTANCE_COUNT);
	} else if (strcmp(sub, "list") == 0 && npos == 0) {
		t.op = OP(LIST_INSTANCES);
		if (zone != NULL) {
			t.op = OP(LIST_INSTANCES_BY_ZONE);
			t.zone_id = (char *)zone;
		} else if (policy != NULL) {
			if (version == NULL)
				return cli_usage_error(
				    "--policy needs --version (usage: %s)",
				    RECORD_USAGE);
			t.op = OP(LIST_INSTANCES_BY_POLICY);
			t.policy_id = (char *)policy;
			if ((rv = number(version, "--version",
					 &t.policy_version)) != CLI_EXIT_OK)
				return rv;
		}
	} else {
		return cli_usage_error("usage: %s", RECORD_USAGE);
	}
	return flow_call(cli, &t);
}
