/* IAM policies and access keys: the policy parser and evaluator
 * (node/control/iam_policy.h), the REST request's action and resource
 * (node/api/route53/rest_auth.h), and the keys in the control FSM
 * (CreateAccessKey / DeleteAccessKey, snapshot, restore). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>

#include "node/api/route53/rest_auth.h"
#include "node/common/errcode.h"
#include "node/control/access_key_gen.h"
#include "node/control/command.h"
#include "node/control/control_fsm.h"
#include "node/control/iam_policy.h"
#include "proto/command.pb-c.h"

#define ZARN "arn:aws:route53:::hostedzone/"

static Q53__Command__AccessPolicy *parse_ok(const char *json)
{
	Q53__Command__AccessPolicy *p = NULL;
	char err[512];

	int rv = iam_policy_parse(json, strlen(json), &p, err, sizeof(err));
	if (rv != 0)
		print_error("unexpected: %s\n", err);
	assert_int_equal(rv, 0);
	assert_non_null(p);
	return p;
}

static void parse_bad(const char *json, const char *words)
{
	Q53__Command__AccessPolicy *p = NULL;
	char err[512];

	assert_int_equal(
	    iam_policy_parse(json, strlen(json), &p, err, sizeof(err)),
	    Q53_EINVAL);
	assert_null(p);
	assert_non_null(strstr(err, "MalformedPolicyDocument: "));
	if (strstr(err, words) == NULL)
		print_error("'%s' lacks '%s'\n", err, words);
	assert_non_null(strstr(err, words));
}

/* The evaluator's verdict on one request (no condition values). */
static enum iam_decision eval(const Q53__Command__AccessPolicy *p,
			      const char *action, const char *resource)
{
	struct iam_request r = {.action = action, .resource = resource};

	return iam_policy_evaluate(p, &r);
}

static enum iam_decision eval_batch(const Q53__Command__AccessPolicy *p,
				    const char *zone, const char *action,
				    const char *name, const char *type)
{
	char res[128], norm[256];
	const char *names[] = {norm}, *types[] = {type}, *actions[] = {action};
	struct iam_request r = {
	    .action = "route53:ChangeResourceRecordSets",
	    .resource = res,
	    .names = names,
	    .n_names = 1,
	    .types = types,
	    .n_types = 1,
	    .actions = actions,
	    .n_actions = 1,
	};

	snprintf(res, sizeof(res), ZARN "%s", zone);
	iam_normalize_name(name, norm, sizeof(norm));
	return iam_policy_evaluate(p, &r);
}

static void test_allow_deny_precedence(void **state)
{
	(void)state;
	Q53__Command__AccessPolicy *p = parse_ok(
	    "{\"Version\":\"2012-10-17\",\"Statement\":["
	    "{\"Effect\":\"Allow\",\"Action\":\"route53:*\",\"Resource\":\"*\"}"
	    ","
	    "{\"Effect\":\"Deny\",\"Action\":\"route53:DeleteHostedZone\","
	    "\"Resource\":\"" ZARN "ZKEEP\"}]}");

	assert_int_equal(eval(p, "route53:DeleteHostedZone", ZARN "ZOTHER"),
			 IAM_ALLOW);
	assert_int_equal(eval(p, "route53:DeleteHostedZone", ZARN "ZKEEP"),
			 IAM_DENY_EXPLICIT);
	/* The Deny first or last: the same verdict. */
	iam_policy_free(p);
	p = parse_ok(
	    "{\"Statement\":["
	    "{\"Effect\":\"Deny\",\"Action\":\"route53:Delete*\","
	    "\"Resource\":\"*\"},"
	    "{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}"
	    "]}");
	assert_int_equal(eval(p, "route53:DeleteHealthCheck", "*"),
			 IAM_DENY_EXPLICIT);
	assert_int_equal(eval(p, "route53:ListHostedZones", "*"), IAM_ALLOW);
	iam_policy_free(p);
	/* Nothing allows it: denied by default. */
	p = parse_ok("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":"
		     "\"route53:GetChange\",\"Resource\":\"*\"}}");
	assert_int_equal(eval(p, "route53:ListHostedZones", "*"),
			 IAM_DENY_DEFAULT);
	assert_int_equal(eval(NULL, "route53:GetChange", "*"),
			 IAM_DENY_DEFAULT);
	iam_policy_free(p);
}

static void test_wildcards(void **state)
{
	(void)state;
	Q53__Command__AccessPolicy *p = parse_ok(
	    "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"route53:Get*"
	    "\","
	    "\"ROUTE53:list*\"],\"Resource\":\"*\"},"
	    "{\"Effect\":\"Allow\",\"Action\":\"route53:Change?esource*\","
	    "\"Resource\":\"" ZARN "Z1*\"}]}");

	/* Actions: case-insensitive, * and ?. */
	assert_int_equal(eval(p, "route53:GetHostedZone", ZARN "Z9"),
			 IAM_ALLOW);
	assert_int_equal(eval(p, "route53:ListResourceRecordSets", ZARN "Z9"),
			 IAM_ALLOW);
	assert_int_equal(eval(p, "route53:CreateHostedZone", "*"),
			 IAM_DENY_DEFAULT);
	assert_int_equal(
	    eval(p, "route53:ChangeResourceRecordSets", ZARN "Z1ABC"),
	    IAM_ALLOW);
	/* Resources: case-sensitive; a zone's ARN is not "*". */
	assert_int_equal(
	    eval(p, "route53:ChangeResourceRecordSets", ZARN "Z2ABC"),
	    IAM_DENY_DEFAULT);
	assert_int_equal(
	    eval(p, "route53:ChangeResourceRecordSets", ZARN "z1abc"),
	    IAM_DENY_DEFAULT);
	assert_int_equal(eval(p, "route53:ChangeResourceRecordSets", "*"),
			 IAM_DENY_DEFAULT);
	iam_policy_free(p);

	assert_true(iam_wildcard_match("a*b*c", "aXXbYYc", false));
	assert_false(iam_wildcard_match("a*b*c", "aXXbYY", false));
	assert_true(iam_wildcard_match("*", "", false));
	assert_true(iam_wildcard_match("a?c", "abc", false));
	assert_false(iam_wildcard_match("a?c", "ac", false));
	assert_true(iam_wildcard_match("AB*", "abc", true));
	assert_false(iam_wildcard_match("AB*", "abc", false));
	/* No exponential backtracking. */
	assert_false(iam_wildcard_match(
	    "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    false));
}

static const char CERTBOT[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
    "\"Action\":\"route53:ChangeResourceRecordSets\","
    "\"Resource\":\"" ZARN "ZCERT\",\"Condition\":{"
    "\"ForAllValues:StringLike\":{"
    "\"route53:ChangeResourceRecordSetsNormalizedRecordNames\":"
    "[\"_acme-challenge.*\"]},"
    "\"ForAllValues:StringEquals\":{"
    "\"route53:ChangeResourceRecordSetsRecordTypes\":[\"TXT\"],"
    "\"route53:ChangeResourceRecordSetsActions\":[\"UPSERT\",\"DELETE\"]}}}]}";

static void test_conditions(void **state)
{
	(void)state;
	Q53__Command__AccessPolicy *p = parse_ok(CERTBOT);

	assert_int_equal(eval_batch(p, "ZCERT", "UPSERT",
				    "_acme-challenge.example.com.", "TXT"),
			 IAM_ALLOW);
	assert_int_equal(eval_batch(p, "ZCERT", "DELETE",
				    "_ACME-challenge.Example.com", "TXT"),
			 IAM_ALLOW);
	/* each key on its own */
	assert_int_equal(eval_batch(p, "ZCERT", "UPSERT",
				    "_acme-challenge.example.com.", "A"),
			 IAM_DENY_DEFAULT);
	assert_int_equal(
	    eval_batch(p, "ZCERT", "UPSERT", "www.example.com.", "TXT"),
	    IAM_DENY_DEFAULT);
	assert_int_equal(eval_batch(p, "ZCERT", "CREATE",
				    "_acme-challenge.example.com.", "TXT"),
			 IAM_DENY_DEFAULT);
	assert_int_equal(eval_batch(p, "ZOTHER", "UPSERT",
				    "_acme-challenge.example.com.", "TXT"),
			 IAM_DENY_DEFAULT);
	/* ForAllValues: every value must match, one bad one denies. */
	const char *names[] = {"_acme-challenge.example.com",
			       "www.example.com"};
	const char *types[] = {"TXT"}, *actions[] = {"UPSERT"};
	struct iam_request r = {
	    .action = "route53:ChangeResourceRecordSets",
	    .resource = ZARN "ZCERT",
	    .names = names,
	    .n_names = 2,
	    .types = types,
	    .n_types = 1,
	    .actions = actions,
	    .n_actions = 1,
	};
	assert_int_equal(iam_policy_evaluate(p, &r), IAM_DENY_DEFAULT);
	r.n_names = 1;
	assert_int_equal(iam_policy_evaluate(p, &r), IAM_ALLOW);
	/* ...and holds for a request without values (IAM's rule). */
	assert_int_equal(
	    eval(p, "route53:ChangeResourceRecordSets", ZARN "ZCERT"),
	    IAM_ALLOW);
	iam_policy_free(p);

	/* StringEquals is exact (case-sensitive); StringLike a pattern. */
	p = parse_ok(
	    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
	    "\"Resource\":\"*\",\"Condition\":{"
	    "\"ForAllValues:StringEquals\":{"
	    "\"route53:ChangeResourceRecordSetsNormalizedRecordNames\":"
	    "\"\\\\052.example.com\"}}}}");
	assert_int_equal(eval_batch(p, "Z", "UPSERT", "*.example.com.", "A"),
			 IAM_ALLOW);
	assert_int_equal(eval_batch(p, "Z", "UPSERT", "\\052.EXAMPLE.com", "A"),
			 IAM_ALLOW);
	assert_int_equal(eval_batch(p, "Z", "UPSERT", "x.example.com", "A"),
			 IAM_DENY_DEFAULT);
	iam_policy_free(p);

	/* A Deny with a condition: only what it names is denied. */
	p = parse_ok("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\","
		     "\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Action\":"
		     "\"route53:ChangeResourceRecordSets\",\"Resource\":\"*\","
		     "\"Condition\":{\"ForAllValues:StringEquals\":{"
		     "\"route53:ChangeResourceRecordSetsActions\":"
		     "\"DELETE\"}}}]}");
	assert_int_equal(eval_batch(p, "Z", "DELETE", "a.example.com", "A"),
			 IAM_DENY_EXPLICIT);
	assert_int_equal(eval_batch(p, "Z", "UPSERT", "a.example.com", "A"),
			 IAM_ALLOW);
	iam_policy_free(p);
}

static void test_normalize(void **state)
{
	(void)state;
	char out[64];

	iam_normalize_name("WWW.Example.COM.", out, sizeof(out));
	assert_string_equal(out, "www.example.com");
	iam_normalize_name("*.example.com", out, sizeof(out));
	assert_string_equal(out, "\\052.example.com");
	iam_normalize_name("\\052.example.com.", out, sizeof(out));
	assert_string_equal(out, "\\052.example.com");
	iam_normalize_name("_a-b.x y.com", out, sizeof(out));
	assert_string_equal(out, "_a-b.x\\040y.com");
	iam_normalize_name("a\\.b.com", out, sizeof(out));
	assert_string_equal(out, "a.b.com");
	iam_normalize_name("\\101.com", out, sizeof(out));
	assert_string_equal(out, "a.com"); /* octal 101 = 'A' */
	iam_normalize_name("abcdefghijklmnop", out, 8);
	assert_string_equal(out, "abcdefg");
}

static void test_malformed(void **state)
{
	(void)state;
	parse_bad("", "Syntax errors in policy");
	parse_bad("{\"Statement\":[", "Syntax errors in policy");
	parse_bad("[]", "must be a JSON object");
	parse_bad("{\"Version\":\"2012-10-17\"}", "no Statement");
	parse_bad("{\"Version\":\"2020-01-01\",\"Statement\":[]}", "Version");
	parse_bad("{\"Statement\":[]}", "empty list");
	parse_bad("{\"Statement\":[{\"Action\":\"*\",\"Resource\":\"*\"}]}",
		  "no Effect");
	parse_bad("{\"Statement\":{\"Effect\":\"allow\",\"Action\":\"*\","
		  "\"Resource\":\"*\"}}",
		  "Effect must be");
	parse_bad("{\"Statement\":{\"Effect\":\"Allow\",\"Resource\":\"*\"}}",
		  "no Action");
	parse_bad("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\"}}",
		  "no Resource");
	parse_bad("{\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":\"*\","
		  "\"Resource\":\"*\"}}",
		  "'NotAction' is not supported");
	parse_bad("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		  "\"Resource\":\"*\",\"Principal\":\"*\"}}",
		  "principal");
	parse_bad("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":"
		  "\"ChangeResourceRecordSets\",\"Resource\":\"*\"}}",
		  "Action 'ChangeResourceRecordSets' is not valid");
	parse_bad("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		  "\"Resource\":\"hostedzone/Z1\"}}",
		  "Resource 'hostedzone/Z1' is not valid");
	parse_bad("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[],"
		  "\"Resource\":\"*\"}}",
		  "Action must not be an empty list");
	parse_bad("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[1],"
		  "\"Resource\":\"*\"}}",
		  "Action must be a string");
	parse_bad("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		  "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{"
		  "\"route53:ChangeResourceRecordSetsActions\":\"UPSERT\"}}}}",
		  "operator 'StringEquals' is not supported");
	parse_bad(
	    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
	    "\"Resource\":\"*\",\"Condition\":{"
	    "\"ForAllValues:StringLike\":{\"aws:SourceIp\":\"1.2.3.4\"}}}}",
	    "key 'aws:SourceIp' is not supported");
	parse_bad("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		  "\"Resource\":\"*\"},\"Statement\":{}}",
		  "Syntax errors in policy"); /* duplicate key */
	parse_bad(
	    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"a\\u0000:b\","
	    "\"Resource\":\"*\"}}",
	    "not allowed");
}

/* Every operation the router knows has its own IAM action and so a
 * resource: a kind added to r53_route.h without one fails here. */
static void test_rest_every_op(void **state)
{
	(void)state;
	struct rest_auth_target t;
	struct r53_route rt;

	for (int op = R53_UNKNOWN + 1; op < R53_OP_COUNT; op++) {
		const char *a = rest_auth_action((enum r53_op)op);
		char want[REST_AUTH_ACTION_MAX];

		assert_non_null(a);
		assert_string_not_equal(a, "Unknown");
		memset(&rt, 0, sizeof(rt));
		rt.op = (enum r53_op)op;
		snprintf(rt.id, sizeof(rt.id), "ID1");
		snprintf(rt.kind, sizeof(rt.kind), "hostedzone");
		rest_auth_target_of(&rt, &t);
		snprintf(want, sizeof(want), "route53:%s", a);
		assert_string_equal(t.action, want);
		assert_true(strcmp(t.resource, "*") == 0 ||
			    strstr(t.resource, "/ID1") != NULL);
		assert_int_equal(t.change_batch, op == R53_CHANGE_RRSETS);
	}
	assert_null(rest_auth_action(R53_OP_COUNT));
	rest_auth_target(
	    "GET", "/2013-04-01/hostedzonelimit/Z7/MAX_RRSETS_BY_ZONE", &t);
	assert_string_equal(t.action, "route53:GetHostedZoneLimit");
	assert_string_equal(t.resource, ZARN "Z7");
	rest_auth_target("POST", "/2013-04-01/tags/healthcheck", &t);
	assert_string_equal(t.action, "route53:ListTagsForResources");
	assert_string_equal(t.resource, "*");
	rest_auth_target("POST", "/2013-04-01/tags/healthcheck/H1", &t);
	assert_string_equal(t.action, "route53:ChangeTagsForResource");
	assert_string_equal(t.resource, "arn:aws:route53:::healthcheck/H1");
	/* the router refuses dot segments: so does the check */
	rest_auth_target("GET", "/2013-04-01/hostedzone/..", &t);
	assert_string_equal(t.action, "route53:Unknown");
}

static void test_rest_target(void **state)
{
	(void)state;
	struct rest_auth_target t;

	rest_auth_target("POST", "/2013-04-01/hostedzone/Z1/rrset/", &t);
	assert_string_equal(t.action, "route53:ChangeResourceRecordSets");
	assert_string_equal(t.resource, ZARN "Z1");
	assert_true(t.change_batch);
	rest_auth_target("GET", "/2013-04-01/hostedzone/Z1/rrset", &t);
	assert_string_equal(t.action, "route53:ListResourceRecordSets");
	assert_false(t.change_batch);
	rest_auth_target("GET", "/2013-04-01/hostedzone", &t);
	assert_string_equal(t.action, "route53:ListHostedZones");
	assert_string_equal(t.resource, "*");
	rest_auth_target("GET", "/2013-04-01/change/C9", &t);
	assert_string_equal(t.resource, "arn:aws:route53:::change/C9");
	rest_auth_target("DELETE", "/2013-04-01/healthcheck/abc", &t);
	assert_string_equal(t.action, "route53:DeleteHealthCheck");
	assert_string_equal(t.resource, "arn:aws:route53:::healthcheck/abc");
	rest_auth_target("GET", "/2013-04-01/tags/hostedzone/Z1", &t);
	assert_string_equal(t.action, "route53:ListTagsForResource");
	assert_string_equal(t.resource, ZARN "Z1");
	rest_auth_target("PUT", "/2013-04-01/hostedzone", &t);
	assert_string_equal(t.action, "route53:Unknown");
	rest_auth_target("GET", "/other", &t);
	assert_string_equal(t.action, "route53:Unknown");
	rest_auth_target("POST", "/q53/accesskeys", &t);
	assert_string_equal(t.action, "q53:CreateAccessKey");
	assert_string_equal(t.resource, "*");
	rest_auth_target("GET", "/q53/accesskeys/", &t);
	assert_string_equal(t.action, "q53:ListAccessKeys");
	rest_auth_target("DELETE", "/q53/accesskeys/AKIA1", &t);
	assert_string_equal(t.action, "q53:DeleteAccessKey");
	rest_auth_target("DELETE", "/q53/accesskeys", &t);
	assert_string_equal(t.action, "route53:Unknown");
	/* The latency table (rest_latency.h): administrators too. */
	rest_auth_target("PUT", "/q53/latency", &t);
	assert_string_equal(t.action, "q53:SetLatencyRows");
	assert_string_equal(t.resource, "*");
	rest_auth_target("GET", "/q53/latency", &t);
	assert_string_equal(t.action, "q53:ListLatencyRows");
	rest_auth_target("DELETE", "/q53/latency/192.0.2.0/24", &t);
	assert_string_equal(t.action, "q53:DeleteLatencyRows");
	rest_auth_target("DELETE", "/q53/latency", &t);
	assert_string_equal(t.action, "route53:Unknown");
	rest_auth_target("GET", "/q53/latencyx", &t);
	assert_string_equal(t.action, "route53:Unknown");
	/* route53:* is not an administrator of keys; * is. */
	Q53__Command__AccessPolicy *p = parse_ok(
	    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"route53:*\","
	    "\"Resource\":\"*\"}}");
	assert_int_equal(eval(p, "q53:CreateAccessKey", "*"), IAM_DENY_DEFAULT);
	iam_policy_free(p);
	p = parse_ok("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		     "\"Resource\":\"*\"}}");
	assert_int_equal(eval(p, "q53:CreateAccessKey", "*"), IAM_ALLOW);
	iam_policy_free(p);

	struct rest_auth_batch b;
	assert_int_equal(
	    rest_auth_batch_parse(
		"{\"Changes\":[{\"Action\":\"UPSERT\",\"ResourceRecordSet\":"
		"{\"Name\":\"A.example.com.\",\"Type\":\"TXT\"}},{\"Action\":"
		"\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"a.example.com\","
		"\"Type\":\"TXT\"}}]}",
		&b),
	    0);
	assert_int_equal(b.n_names, 1);
	assert_string_equal(b.names[0], "a.example.com");
	assert_int_equal(b.n_types, 1);
	assert_int_equal(b.n_actions, 1);
	rest_auth_batch_free(&b);
	assert_int_equal(rest_auth_batch_parse("{}", &b), Q53_EINVAL);
}

/* --- the keys in the FSM --- */

static int apply(struct control_fsm *f, const struct command_payload *p,
		 char *err_name, size_t n)
{
	struct q53_fsm *b = control_fsm_base(f);
	struct command_result r;
	uint8_t *out;
	size_t len;
	int32_t code;

	assert_int_equal(
	    b->apply(b, p->type, p->data, p->len, &code, &out, &len), 0);
	assert_int_equal(command_result_decode(out, len, &r), 0);
	snprintf(err_name, n, "%s", r.error_name);
	command_result_free(&r);
	raft_free(out);
	return code;
}

static void create_key(struct control_fsm *f, const char *id,
		       const char *secret, const char *policy_json,
		       const char *want_error)
{
	Q53__Command__AccessPolicy *pol = parse_ok(policy_json);
	struct command_create_access_key c = {
	    .id = id,
	    .secret = secret,
	    .description = "test",
	    .policy_document = policy_json,
	    .policy = pol,
	    .time_ms = 1000,
	};
	struct command_payload p;
	char name[64];

	assert_int_equal(command_encode_create_access_key(&c, &p), 0);
	apply(f, &p, name, sizeof(name));
	assert_string_equal(name, want_error);
	command_payload_clear(&p);
	iam_policy_free(pol);
}

static void test_fsm_keys(void **state)
{
	(void)state;
	struct control_fsm *f, *g;
	struct control_fsm_access_key k;
	char id[ACCESS_KEY_GEN_ID_LEN + 1],
	    secret[ACCESS_KEY_GEN_SECRET_LEN + 1];
	char name[64];

	assert_int_equal(access_key_gen(id, secret), 0);
	assert_int_equal(strlen(id), 20);
	assert_memory_equal(id, "AKIA", 4);
	assert_int_equal(strlen(secret), 40);

	assert_int_equal(control_fsm_new(&f), 0);
	create_key(f, id, secret, CERTBOT, "");
	assert_int_equal(control_fsm_applied(f), 1);
	/* the same key again (a retried proposal): nothing changes */
	create_key(f, id, secret, CERTBOT, "");
	assert_int_equal(control_fsm_applied(f), 1);
	char other[ACCESS_KEY_GEN_SECRET_LEN + 1];
	memcpy(other, secret, sizeof(other));
	other[0] = other[0] == 'A' ? 'B' : 'A';
	create_key(f, id, other, CERTBOT, "EntityAlreadyExists");
	create_key(f, "AKIA0123456789ABCDEF", "short", CERTBOT, "InvalidInput");
	create_key(f, "akia0123456789abcdef", secret, CERTBOT, "InvalidInput");
	assert_int_equal(control_fsm_access_key_count(f), 1);
	assert_int_equal(control_fsm_access_key_get(f, id, &k), 0);
	assert_string_equal(k.secret, secret);
	assert_int_equal(k.created_index, 1);
	assert_int_equal(eval_batch(k.policy, "ZCERT", "UPSERT",
				    "_acme-challenge.x.org", "TXT"),
			 IAM_ALLOW);

	/* Snapshot, restore: the key and its policy come back. */
	struct q53_fsm *fb = control_fsm_base(f);
	uint8_t *buf;
	size_t len;
	assert_int_equal(fb->snapshot(fb, &buf, &len), 0);
	assert_int_equal(control_fsm_new(&g), 0);
	struct q53_fsm *gb = control_fsm_base(g);
	assert_int_equal(gb->restore(gb, buf, len), 0);
	raft_free(buf);
	assert_int_equal(control_fsm_access_key_get(g, id, &k), 0);
	assert_string_equal(k.secret, secret);
	assert_string_equal(k.policy_document, CERTBOT);
	assert_int_equal(eval_batch(k.policy, "ZCERT", "UPSERT",
				    "_acme-challenge.x.org", "A"),
			 IAM_DENY_DEFAULT);

	/* Delete: gone, and a second delete is refused. */
	struct command_delete_access_key d = {.id = id, .time_ms = 2000};
	struct command_payload p;
	assert_int_equal(command_encode_delete_access_key(&d, &p), 0);
	assert_int_equal(apply(g, &p, name, sizeof(name)), 0);
	assert_int_equal(control_fsm_access_key_get(g, id, &k), Q53_ENOENT);
	assert_int_not_equal(apply(g, &p, name, sizeof(name)), 0);
	assert_string_equal(name, "NoSuchEntity");
	command_payload_clear(&p);
	assert_int_equal(control_fsm_applied(g), 2);

	/* A snapshot without keys (the previous release's) still loads. */
	Q53__Command__FsmSnapshot m = Q53__COMMAND__FSM_SNAPSHOT__INIT;
	m.format = 2;
	m.end = 0x51353346u;
	m.applied = 7;
	len = q53__command__fsm_snapshot__get_packed_size(&m);
	buf = malloc(len);
	q53__command__fsm_snapshot__pack(&m, buf);
	assert_int_equal(fb->restore(fb, buf, len), 0);
	assert_int_equal(control_fsm_access_key_count(f), 0);
	assert_int_equal(control_fsm_applied(f), 7);
	free(buf);
	control_fsm_free(f);
	control_fsm_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allow_deny_precedence),
	    cmocka_unit_test(test_wildcards),
	    cmocka_unit_test(test_conditions),
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_rest_target),
	    cmocka_unit_test(test_rest_every_op),
	    cmocka_unit_test(test_fsm_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
