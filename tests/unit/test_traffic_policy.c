/* Traffic Flow: policy documents (Route 53's JSON) parsed and validated
 * with errors naming the JSON path, the store's policies, versions and
 * policy records with Route 53's error codes, and the proof that a
 * policy record compiles to the same decision tree as the equivalent
 * nested record sets: the same bytes for many query keys, under every
 * health state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libknot/libknot.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/cidr_block.h"
#include "node/control/cidr_table.h"
#include "node/control/command.h"
#include "node/control/zone_store.h"
#include "node/control/command_flow.h"
#include "node/control/control_fsm.h"
#include "node/control/traffic_policy.h"
#include <raft.h>
#include "node/control/zone_store_flow.h"
#include "proto/command.pb-c.h"
#include "node/dns/query.h"
#include "node/zone/node.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "tests/unit/support/routing_fixture.h"

/* --- tests --- */

#define NQ 10000

/* A weighted rule (192.0.2.1 weight 3 with hc1, 192.0.2.2 weight 1 with
 * hc2) under a failover rule's primary (EvaluateTargetHealth), the
 * secondary 192.0.2.9 (hc9). */
static const char DOC[] =
    "{\"AWSPolicyFormatVersion\": \"2015-10-01\", \"RecordType\": \"A\","
    " \"StartRule\": \"site\","
    " \"Endpoints\": {\"a\": {\"Type\": \"value\", \"Value\": \"192.0.2.1\"},"
    "  \"b\": {\"Type\": \"value\", \"Value\": \"192.0.2.2\"},"
    "  \"s\": {\"Type\": \"value\", \"Value\": \"192.0.2.9\"}},"
    " \"Rules\": {\"site\": {\"RuleType\": \"failover\","
    "   \"Primary\": {\"RuleReference\": \"pool\", "
    "\"EvaluateTargetHealth\": true},"
    "   \"Secondary\": {\"EndpointReference\": \"s\", \"HealthCheck\": "
    "\"hc9\"}},"
    "  \"pool\": {\"RuleType\": \"weighted\", \"Items\": ["
    "   {\"EndpointReference\": \"a\", \"Weight\": \"3\", \"HealthCheck\": "
    "\"hc1\"},"
    "   {\"EndpointReference\": \"b\", \"Weight\": 1, \"HealthCheck\": "
    "\"hc2\"}]}}}";

#define FO_ALIAS(name, id, role, target, eval)                                 \
	"\"Name\": \"" name "\", \"Type\": \"A\", \"SetIdentifier\": \"" id    \
	"\", \"Failover\": \"" role "\", \"AliasTarget\": {\"HostedZoneId\": " \
	"\"" ZID "\", \"DNSName\": \"" target                                  \
	"\", \"EvaluateTargetHealth\": " eval "}"
#define FO(name, id, role, value)                                              \
	"\"Name\": \"" name "\", \"Type\": \"A\", \"TTL\": 60, "               \
	"\"SetIdentifier\": \"" id "\", \"Failover\": \"" role "\", "          \
	"\"ResourceRecords\": [{\"Value\": \"" value "\"}]"

static void parse_ok(const char *doc, struct traffic_policy *p)
{
	char err[512];
	if (traffic_policy_parse(doc, strlen(doc), p, err, sizeof(err)) != 0)
		fail_msg("%s\n%s", err, doc);
}

/* doc is refused with a message holding needle (its JSON path). */
static void doc_refused(const char *doc, const char *needle)
{
	struct traffic_policy p;
	char err[512];
	int rc = traffic_policy_parse(doc, strlen(doc), &p, err, sizeof(err));
	if (rc != Q53_EINVAL || strstr(err, needle) == NULL)
		fail_msg("rc %d, '%s' lacks '%s'\n%s", rc, err, needle, doc);
}

#define HEAD                                                                   \
	"{\"AWSPolicyFormatVersion\": \"2015-10-01\", \"RecordType\": \"A\", "
#define EP                                                                     \
	"\"Endpoints\": {\"e\": {\"Type\": \"value\", \"Value\": "             \
	"\"192.0.2.1\"}}"

static void test_document_errors(void **state)
{
	(void)state;
	struct traffic_policy p;
	parse_ok(DOC, &p);
	assert_int_equal(p.type, KNOT_RRTYPE_A);
	assert_int_equal(p.nrules, 2);
	assert_int_equal(p.nendpoints, 3);
	assert_true(p.start_is_rule);
	assert_string_equal(p.rules[p.start].name, "site");
	assert_int_equal(p.rules[1].items[0].weight, 3);
	assert_string_equal(p.rules[1].items[1].health_check, "hc2");
	traffic_policy_free(&p);
	parse_ok(HEAD "\"StartEndpoint\": \"e\", " EP "}", &p);
	traffic_policy_free(&p);

	doc_refused("{", "$: not valid JSON");
	doc_refused("[]", "$: the document must be a JSON object");
	doc_refused("{\"AWSPolicyFormatVersion\": \"2016-01-01\"}",
		    "$.AWSPolicyFormatVersion: must be \"2015-10-01\"");
	doc_refused(HEAD "\"Bogus\": 1}", "$: unknown key \"Bogus\"");
	doc_refused("{\"AWSPolicyFormatVersion\": \"2015-10-01\", "
		    "\"RecordType\": \"NS\", \"StartEndpoint\": \"e\", " EP "}",
		    "$.RecordType");
	doc_refused(HEAD "\"StartEndpoint\": \"e\"}",
		    "$: Endpoints is required");
	doc_refused(HEAD EP "}", "exactly one of StartRule and StartEndpoint");
	doc_refused(HEAD "\"StartEndpoint\": \"x\", " EP "}",
		    "$.StartEndpoint: no endpoint named \"x\"");
	doc_refused(HEAD "\"StartEndpoint\": \"e\", \"Endpoints\": {\"e\": "
			 "{\"Type\": \"elastic-load-balancer\", \"Value\": "
			 "\"x.elb.amazonaws.com\"}}}",
		    "$.Endpoints.e.Type: endpoint type "
		    "\"elastic-load-balancer\" is not supported");
	doc_refused(HEAD "\"StartEndpoint\": \"e\", \"Endpoints\": {\"e\": "
			 "{\"Type\": \"value\", \"Value\": \"not-an-ip\"}}}",
		    "$.Endpoints.e.Value: not a valid A value");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"latency\", "
			 "\"Regions\": []}}}",
		    "$.Rules.r.Regions: must be an array of 1 to 256 items");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"latency\", "
			 "\"Regions\": [{\"Region\": \"us-east-1\", "
			 "\"EndpointReference\": \"e\"}, {\"Region\": "
			 "\"us-east-1\", \"EndpointReference\": \"e\"}]}}}",
		    "$.Rules.r.Regions[1]: the same Region as item 0");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"latency\", "
			 "\"Regions\": [{\"Region\": \"no such!\", "
			 "\"EndpointReference\": \"e\"}]}}}",
		    "$.Rules.r.Regions[0].Region: not a region");
	doc_refused(HEAD
		    "\"StartRule\": \"r\", " EP
		    ", \"Rules\": {\"r\": {\"RuleType\": \"geoproximity\"}}}",
		    "$.Rules.r: GeoproximityLocations is required");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"weighted\", "
			 "\"Items\": [{\"EndpointReference\": \"e\", "
			 "\"Weight\": 256}]}}}",
		    "$.Rules.r.Items[0].Weight: must be an integer 0 to 255");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"weighted\", "
			 "\"Items\": [{\"EndpointReference\": \"e\", "
			 "\"Weight\": 1}, {\"RuleReference\": \"q\", "
			 "\"Weight\": 1}]}}}",
		    "$.Rules.r.Items[1].RuleReference: no rule named \"q\"");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"failover\", "
			 "\"Primary\": {\"EndpointReference\": \"e\"}}}}",
		    "$.Rules.r: Secondary is required");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"failover\", "
			 "\"Primary\": {\"EndpointReference\": \"e\", "
			 "\"RuleReference\": \"r\"}, \"Secondary\": "
			 "{\"EndpointReference\": \"e\"}}}}",
		    "$.Rules.r.Primary: exactly one of EndpointReference and "
		    "RuleReference");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"failover\", "
			 "\"Primary\": {\"RuleReference\": \"r\"}, "
			 "\"Secondary\": {\"EndpointReference\": \"e\"}}}}",
		    "loop");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"geo\", "
			 "\"Locations\": [{\"EndpointReference\": \"e\", "
			 "\"Country\": \"ZZ\"}]}}}",
		    "$.Rules.r.Locations[0]");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"geo\", "
			 "\"Locations\": [{\"EndpointReference\": \"e\", "
			 "\"IsDefault\": true}, {\"EndpointReference\": \"e\", "
			 "\"IsDefault\": true}]}}}",
		    "$.Rules.r.Locations[1]: the same location as item 0");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"multivalue\", "
			 "\"Items\": [{\"RuleReference\": \"r\"}]}}}",
		    "$.Rules.r.Items[0]: a multivalue rule's items must be "
		    "endpoints");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"weighted\", "
			 "\"Primary\": {}, \"Items\": []}}}",
		    "$.Rules.r: a weighted rule takes no Primary");
	doc_refused(HEAD "\"StartEndpoint\": \"e\", " EP ", \"Endpoints\": {}}",
		    "$: not valid JSON"); /* duplicate key */
	/* Nesting deeper than TRAFFIC_POLICY_DEPTH_MAX rules. */
	char deep[4096];
	size_t o = (size_t)snprintf(deep, sizeof(deep),
				    HEAD "\"StartRule\": \"r0\", " EP
					 ", \"Rules\": {");
	for (int i = 0; i <= TRAFFIC_POLICY_DEPTH_MAX; i++) {
		char ref[64];
		if (i < TRAFFIC_POLICY_DEPTH_MAX)
			snprintf(ref, sizeof(ref), "\"RuleReference\": \"r%d\"",
				 i + 1);
		else
			snprintf(ref, sizeof(ref),
				 "\"EndpointReference\": \"e\"");
		o += (size_t)snprintf(deep + o, sizeof(deep) - o,
				      "%s\"r%d\": {\"RuleType\": \"weighted\", "
				      "\"Items\": [{%s, \"Weight\": 1}]}",
				      i ? ", " : "", i, ref);
	}
	snprintf(deep + o, sizeof(deep) - o, "}}");
	doc_refused(deep, "nest deeper than");
	/* A rule referred to by 8 items of a rule referred to by 9 items:
	 * 1 + 9 * (1 + 8) > TRAFFIC_POLICY_TREE_MAX unfolded. */
	char wide[8192];
	o = (size_t)snprintf(wide, sizeof(wide),
			     HEAD "\"StartRule\": \"top\", " EP
				  ", \"Rules\": {\"leaf\": {\"RuleType\": "
				  "\"weighted\", \"Items\": [{"
				  "\"EndpointReference\": \"e\", \"Weight\": "
				  "1}]}");
	const char *names[] = {"mid", "top"};
	const char *refs[] = {"leaf", "mid"};
	int count[] = {8, 9};
	for (int r = 0; r < 2; r++) {
		o += (size_t)snprintf(wide + o, sizeof(wide) - o,
				      ", \"%s\": {\"RuleType\": \"weighted\", "
				      "\"Items\": [",
				      names[r]);
		for (int i = 0; i < count[r]; i++)
			o += (size_t)snprintf(wide + o, sizeof(wide) - o,
					      "%s{\"RuleReference\": \"%s\", "
					      "\"Weight\": 1}",
					      i ? ", " : "", refs[r]);
		o += (size_t)snprintf(wide + o, sizeof(wide) - o, "]}");
	}
	snprintf(wide + o, sizeof(wide) - o, "}}");
	doc_refused(wide, "unfold to more than");
}

/* The store: versions, comments, TrafficPolicyInUse, policy records
 * refusing their name's record sets and the other way round. */
static void test_store_rules(void **state)
{
	(void)state;
	struct zone_store s;
	struct traffic_policy p;
	char err[512];
	uint8_t www[] = "\3www\7example\3com";
	store_new(&s);
	parse_ok(DOC, &p);
	assert_int_equal(zone_store_policy_create(&s, "tp-1", 1, "site", "c1",
						  DOC, &p, err, sizeof(err)),
			 0);
	parse_ok(DOC, &p);
	assert_int_equal(zone_store_policy_create(&s, "tp-2", 1, "site", NULL,
						  DOC, &p, err, sizeof(err)),
			 Q53_EEXIST);
	assert_non_null(strstr(err, "TrafficPolicyAlreadyExists"));
	parse_ok(DOC, &p);
	assert_int_equal(zone_store_policy_create(&s, "tp-9", 2, "x", NULL, DOC,
						  &p, err, sizeof(err)),
			 Q53_ENOENT);
	assert_non_null(strstr(err, "NoSuchTrafficPolicy"));
	parse_ok(DOC, &p);
	assert_int_equal(zone_store_policy_create(&s, "tp-1", 2, "ignored",
						  "c2", DOC, &p, err,
						  sizeof(err)),
			 0);
	assert_int_equal(zone_store_policy_get(&s, "tp-1", 0)->version, 2);
	assert_string_equal(zone_store_policy_get(&s, "tp-1", 2)->name, "site");
	assert_int_equal(
	    zone_store_policy_comment(&s, "tp-1", 1, "new", err, sizeof(err)),
	    0);
	assert_string_equal(zone_store_policy_get(&s, "tp-1", 1)->comment,
			    "new");

	assert_int_equal(zone_store_instance_create(&s, "i-1", ZID, www, 60,
						    "tp-1", 3, err,
						    sizeof(err)),
			 Q53_ENOENT);
	assert_int_equal(zone_store_instance_create(&s, "i-1", "ZNOPE", www, 60,
						    "tp-1", 1, err,
						    sizeof(err)),
			 Q53_ENOENT);
	assert_non_null(strstr(err, "NoSuchHostedZone"));
	assert_int_equal(zone_store_instance_create(&s, "i-1", ZID, www, 60,
						    "tp-1", 1, err,
						    sizeof(err)),
			 0);
	assert_int_equal(zone_store_instance_create(&s, "i-2", ZID, www, 60,
						    "tp-1", 2, err,
						    sizeof(err)),
			 Q53_EEXIST);
	assert_non_null(strstr(err, "TrafficPolicyInstanceAlreadyExists"));
	assert_int_equal(
	    zone_store_policy_delete(&s, "tp-1", 1, err, sizeof(err)),
	    Q53_EINVAL);
	assert_non_null(strstr(err, "TrafficPolicyInUse"));
	/* An ordinary set of the instance's name and type is refused, of
	 * another type accepted. */
	assert_int_equal(apply(&s,
			       BATCH(CH("CREATE", W("www.example.com", "x", 1,
						    "192.0.2.7"))),
			       err, sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(strstr(err, "traffic policy instance"));
	apply_ok(&s, BATCH(CH("CREATE", "\"Name\": \"www.example.com\", "
					"\"Type\": \"TXT\", \"TTL\": 60, "
					"\"ResourceRecords\": [{\"Value\": "
					"\"\\\"t\\\"\"}]")));
	/* CNAME exclusivity both ways. */
	assert_int_equal(
	    apply(&s,
		  BATCH(CH("CREATE", "\"Name\": \"www.example.com\", "
				     "\"Type\": \"CNAME\", \"TTL\": 60, "
				     "\"ResourceRecords\": [{\"Value\": "
				     "\"x.example.net\"}]")),
		  err, sizeof(err)),
	    Q53_EINVAL);
	static const char CNAME_DOC[] =
	    "{\"AWSPolicyFormatVersion\": \"2015-10-01\", \"RecordType\": "
	    "\"CNAME\", \"StartEndpoint\": \"e\", \"Endpoints\": {\"e\": "
	    "{\"Type\": \"value\", \"Value\": \"x.example.net\"}}}";
	parse_ok(CNAME_DOC, &p);
	assert_int_equal(zone_store_policy_create(&s, "tp-c", 1, "c", NULL,
						  CNAME_DOC, &p, err,
						  sizeof(err)),
			 0);
	assert_int_equal(zone_store_instance_create(&s, "i-c", ZID, www, 60,
						    "tp-c", 1, err,
						    sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(strstr(err, "CNAME"));
	assert_int_equal(
	    zone_store_policy_delete(&s, "tp-c", 1, err, sizeof(err)), 0);
	assert_int_equal(zone_store_instance_update(&s, "i-1", 30, "tp-1", 2,
						    err, sizeof(err)),
			 0);
	assert_int_equal(zone_store_instance_get(&s, "i-1")->policy_version, 2);
	assert_int_equal(
	    zone_store_policy_delete(&s, "tp-1", 1, err, sizeof(err)), 0);
	assert_int_equal(
	    zone_store_instance_delete(&s, "i-1", err, sizeof(err)), 0);
	assert_int_equal(
	    zone_store_instance_delete(&s, "i-1", err, sizeof(err)),
	    Q53_ENOENT);
	assert_non_null(strstr(err, "NoSuchTrafficPolicyInstance"));
	assert_int_equal(
	    zone_store_policy_delete(&s, "tp-1", 2, err, sizeof(err)), 0);
	assert_int_equal(zone_store_policy_count(&s), 0);
	zone_store_free(&s);
}

/* The nested record sets equivalent to DOC at www.example.com. */
static void nested_records(struct zone_store *s)
{
	apply_ok(s, BATCH(CH("CREATE",
			     W("pool.example.com", "0", 3, "192.0.2.1")
				 HC("hc1")) "," CH("CREATE",
						   W("pool.example.com", "1", 1,
						     "192.0.2.2") HC("hc2"))));
	apply_ok(s,
		 BATCH(CH("CREATE",
			  FO_ALIAS("www.example.com", "0", "PRIMARY",
				   "pool.example.com",
				   "true")) "," CH("CREATE",
						   FO("www.example.com", "1",
						      "SECONDARY", "192.0.2.9")
						       HC("hc9"))));
}

static void policy_record(struct zone_store *s, const char *doc)
{
	struct traffic_policy p;
	char err[512];
	uint8_t www[] = "\3www\7example\3com";
	parse_ok(doc, &p);
	if (zone_store_policy_create(s, "tp-1", 1, "site", NULL, doc, &p, err,
				     sizeof(err)) != 0 ||
	    zone_store_instance_create(s, "i-1", ZID, www, 60, "tp-1", 1, err,
				       sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* The same bytes from both for many query IDs and client networks. */
static void same_answers(struct serving_view *a, struct serving_view *b,
			 const char *name, size_t *count)
{
	static const char *const CLIENTS[] = {"198.51.100.7", "203.0.113.9",
					      "192.0.2.200", NULL};
	for (unsigned id = 0; id < NQ; id++) {
		const char *c = CLIENTS[id % 4];
		struct reply x =
		    ask(a, name, KNOT_RRTYPE_A, (uint16_t)(id * 7), c, 1232);
		struct reply y =
		    ask(b, name, KNOT_RRTYPE_A, (uint16_t)(id * 7), c, 1232);
		assert_int_equal(x.len, y.len);
		assert_memory_equal(x.wire, y.wire, x.len);
		if (count != NULL && x.n == 1)
			count[x.last[0]]++;
	}
}

/* A policy record and the equivalent nested record sets: the same bytes
 * for every query key, in every health state (the weighted shares
 * 3:1 under the primary, one member down, the whole pool down: the
 * secondary; everything down: fail open), in full and incremental
 * builds. */
static void test_policy_equals_records(void **state)
{
	(void)state;
	static const struct health STATES[] = {
	    {{NULL}},  {{"hc1"}}, {{"hc1", "hc2"}}, {{"hc1", "hc2", "hc9"}},
	    {{"hc9"}},
	};
	struct zone_store rec, pol;
	store_new(&rec);
	store_new(&pol);
	nested_records(&rec);
	/* The pool's own name, in both. */
	apply_ok(&pol, BATCH(CH("CREATE",
				W("pool.example.com", "0", 3, "192.0.2.1") HC(
				    "hc1")) "," CH("CREATE",
						   W("pool.example.com", "1", 1,
						     "192.0.2.2") HC("hc2"))));
	policy_record(&pol, DOC);
	/* Other types at the policy record's name and names after it: the
	 * grouped build takes the name's records together. */
	static const char OTHER[] = BATCH(
	    CH("CREATE",
	       "\"Name\": \"www.example.com\", \"Type\": "
	       "\"TXT\", \"TTL\": 60, \"ResourceRecords\": "
	       "[{\"Value\": \"\\\"t\\\"\"}]") "," CH("CREATE",
						      "\"Name\": "
						      "\"zzz.example.com\", "
						      "\"Type\": \"A\", "
						      "\"TTL\": 60, "
						      "\"ResourceRecords\": "
						      "[{\"Value\": "
						      "\"192.0.2.99\"}]"));
	apply_ok(&rec, OTHER);
	apply_ok(&pol, OTHER);
	for (size_t k = 0; k < sizeof(STATES) / sizeof(STATES[0]); k++) {
		struct health h = STATES[k];
		struct serving_view *a = build_view(&rec, &h);
		struct serving_view *b = build_view(&pol, &h);
		size_t count[256] = {0};
		same_answers(a, b, "www.example.com", count);
		if (k == 0) {
			double x = chi2((size_t[]){count[1], count[2]},
					(const double[]){0.75, 0.25}, 2,
					count[1] + count[2]);
			assert_int_equal(count[1] + count[2], NQ);
			assert_true(x < CHI2_999[1]);
		}
		if (k == 2)
			assert_int_equal(count[9], NQ);
		struct reply t =
		    ask(b, "www.example.com", KNOT_RRTYPE_TXT, 1, NULL, 0);
		struct reply t2 =
		    ask(a, "www.example.com", KNOT_RRTYPE_TXT, 1, NULL, 0);
		assert_int_equal(t.len, t2.len);
		assert_memory_equal(t.wire, t2.wire, t.len);
		assert_int_equal(
		    ask(b, "zzz.example.com", KNOT_RRTYPE_A, 1, NULL, 0)
			.last[0],
		    99);
		serving_view_free(a);
		serving_view_free(b);
	}
	/* test-answer's branch: the path down the policy. */
	static const uint8_t two[] = {192, 0, 2, 2};
	struct rrset_rdata ans = {.data = two, .len = 4};
	char branch[512];
	uint8_t www[] = "\3www\7example\3com";
	assert_int_equal(zone_store_answer_branch(
			     &pol, ZID, www, 1, &ans, 1, healthy,
			     &(struct health){{NULL}}, branch, sizeof(branch)),
			 0);
	if (strstr(branch, "traffic policy instance i-1 (policy tp-1 version "
			   "1) > failover \"site\" Primary > weighted "
			   "\"pool\" item 1 (b)") == NULL)
		fail_msg("branch: %s", branch);

	/* Incremental builds of the policy record answer as full ones. */
	struct zone *z0, *z1, *zf;
	char err[512];
	struct health down = {{"hc1", "hc2"}}, up = {{NULL}};
	assert_int_equal(zone_store_build_update(&pol, ZID, NULL, healthy,
						 &down, &z0, err, sizeof(err)),
			 0);
	assert_int_equal(zone_store_build_update(&pol, ZID, z0, healthy, &up,
						 &z1, err, sizeof(err)),
			 0);
	assert_int_equal(zone_store_build_with_health(&rec, ZID, healthy, &up,
						      &zf, err, sizeof(err)),
			 0);
	struct serving_view *vi, *vf;
	assert_int_equal(serving_view_build(&vi, &z1, 1), 0);
	assert_int_equal(serving_view_build(&vf, &zf, 1), 0);
	same_answers(vi, vf, "www.example.com", NULL);
	serving_view_free(vi);
	serving_view_free(vf);
	zone_release(z0);
	zone_release(z1);
	zone_release(zf);
	zone_store_free(&rec);
	zone_store_free(&pol);
}

/* A geolocation rule whose default leads to a weighted rule and a
 * multivalue rule, against the same record sets. */
static void test_policy_geo_multivalue(void **state)
{
	(void)state;
	static const char GEO_DOC[] =
	    "{\"AWSPolicyFormatVersion\": \"2015-10-01\", \"RecordType\": "
	    "\"A\", \"StartRule\": \"g\", \"Endpoints\": {"
	    " \"a\": {\"Type\": \"value\", \"Value\": \"192.0.2.1\"},"
	    " \"b\": {\"Type\": \"value\", \"Value\": \"192.0.2.2\"},"
	    " \"c\": {\"Type\": \"value\", \"Value\": \"192.0.2.3\"}},"
	    " \"Rules\": {\"g\": {\"RuleType\": \"geo\", \"Locations\": ["
	    "  {\"Country\": \"US\", \"EndpointReference\": \"c\"},"
	    "  {\"IsDefault\": true, \"RuleReference\": \"w\"}]},"
	    " \"w\": {\"RuleType\": \"weighted\", \"Items\": ["
	    "  {\"RuleReference\": \"m\", \"Weight\": 1},"
	    "  {\"EndpointReference\": \"c\", \"Weight\": 1}]},"
	    " \"m\": {\"RuleType\": \"multivalue\", \"Items\": ["
	    "  {\"EndpointReference\": \"a\", \"HealthCheck\": \"hc1\"},"
	    "  {\"EndpointReference\": \"b\"}]}}}";
	struct zone_store rec, pol;
	store_new(&rec);
	store_new(&pol);
	policy_record(&pol, GEO_DOC);
	apply_ok(&rec, BATCH(CH("CREATE",
				MV("m.example.com", "0", "192.0.2.1")
				    HC("hc1")) "," CH("CREATE",
						      MV("m.example.com", "1",
							 "192.0.2.2"))));
	apply_ok(
	    &rec,
	    BATCH(CH("CREATE", "\"Name\": \"w.example.com\", \"Type\": \"A\", "
			       "\"SetIdentifier\": \"0\", \"Weight\": 1, "
			       "\"AliasTarget\": "
			       "{\"HostedZoneId\": \"" ZID "\", \"DNSName\": "
			       "\"m.example.com\", \"EvaluateTargetHealth\": "
			       "true}") "," CH("CREATE", W("w.example.com", "1",
							   1, "192.0.2.3"))));
	apply_ok(
	    &rec,
	    BATCH(
		CH("CREATE",
		   "\"Name\": \"www.example.com\", \"Type\": \"A\", \"TTL\": "
		   "60, \"SetIdentifier\": \"0\", \"GeoLocation\": "
		   "{\"CountryCode\": \"US\"}, \"ResourceRecords\": "
		   "[{\"Value\": \"192.0.2.3\"}]") "," CH("CREATE",
							  "\"Name\": "
							  "\"www.example.com\","
							  " \"Type\": \"A\", "
							  "\"SetIdentifier\": "
							  "\"1\", "
							  "\"GeoLocation\": "
							  "{\"CountryCode\": "
							  "\"*\"}, "
							  "\"AliasTarget\": "
							  "{\"HostedZoneId\": "
							  "\"" ZID
							  "\", \"DNSName\": "
							  "\"w.example.com\", "
							  "\"EvaluateTargetHeal"
							  "th\": true}")));
	static const struct health STATES[] = {{{NULL}}, {{"hc1"}}};
	for (size_t k = 0; k < 2; k++) {
		struct health h = STATES[k];
		struct serving_view *a = build_view(&rec, &h);
		struct serving_view *b = build_view(&pol, &h);
		same_answers(a, b, "www.example.com", NULL);
		serving_view_free(a);
		serving_view_free(b);
	}
	zone_store_free(&rec);
	zone_store_free(&pol);
}

/* A latency rule (a Region per item, one of them a weighted rule) against
 * the equivalent latency record sets: the same bytes (without a latency
 * table every client gets the node's default leaf, as for the records). */
static void test_policy_latency(void **state)
{
	(void)state;
	static const char LAT_DOC[] =
	    "{\"AWSPolicyFormatVersion\": \"2015-10-01\", \"RecordType\": "
	    "\"A\", \"StartRule\": \"l\", \"Endpoints\": {"
	    " \"a\": {\"Type\": \"value\", \"Value\": \"192.0.2.1\"},"
	    " \"b\": {\"Type\": \"value\", \"Value\": \"192.0.2.2\"},"
	    " \"c\": {\"Type\": \"value\", \"Value\": \"192.0.2.3\"}},"
	    " \"Rules\": {\"l\": {\"RuleType\": \"latency\", \"Regions\": ["
	    "  {\"Region\": \"us-east-1\", \"RuleReference\": \"w\"},"
	    "  {\"Region\": \"eu-west-1\", \"EndpointReference\": \"c\", "
	    "\"HealthCheck\": \"hc3\"}]},"
	    " \"w\": {\"RuleType\": \"weighted\", \"Items\": ["
	    "  {\"EndpointReference\": \"a\", \"Weight\": 1},"
	    "  {\"EndpointReference\": \"b\", \"Weight\": 1}]}}}";
	struct zone_store rec, pol;
	struct traffic_policy p;
	parse_ok(LAT_DOC, &p);
	assert_int_equal(p.rules[0].type, TRAFFIC_RULE_LATENCY);
	assert_string_equal(p.rules[0].items[1].region, "eu-west-1");
	traffic_policy_free(&p);
	store_new(&rec);
	store_new(&pol);
	policy_record(&pol, LAT_DOC);
	apply_ok(
	    &rec,
	    BATCH(CH("CREATE", W("w.example.com", "0", 1, "192.0.2.1")) "," CH(
		"CREATE", W("w.example.com", "1", 1, "192.0.2.2"))));
	apply_ok(
	    &rec,
	    BATCH(CH(
		"CREATE",
		"\"Name\": \"www.example.com\", \"Type\": \"A\", "
		"\"SetIdentifier\": \"0\", \"Region\": \"us-east-1\", "
		"\"AliasTarget\": {\"HostedZoneId\": \"" ZID "\", "
		"\"DNSName\": \"w.example.com\", "
		"\"EvaluateTargetHealth\": true}") "," CH("CREATE",
							  "\"Name\": "
							  "\"www.example.com\","
							  " \"Type\": \"A\", "
							  "\"TTL\": 60, "
							  "\"SetIdentifier\": "
							  "\"1\", \"Region\": "
							  "\"eu-west-1\", "
							  "\"HealthCheckId\": "
							  "\"hc3\", "
							  "\"ResourceRecords\":"
							  " [{\"Value\": "
							  "\"192.0.2.3\"}]")));
	static const struct health STATES[] = {{{NULL}}, {{"hc3"}}};
	for (size_t k = 0; k < 2; k++) {
		struct health h = STATES[k];
		struct serving_view *a = build_view(&rec, &h);
		struct serving_view *b = build_view(&pol, &h);
		size_t count[256] = {0};
		same_answers(a, b, "www.example.com", count);
		/* No latency table: the first Region's leaf, the nested
		 * weighted rule, picking per query. */
		assert_true(count[1] > NQ / 4 && count[2] > NQ / 4);
		serving_view_free(a);
		serving_view_free(b);
	}
	zone_store_free(&rec);
	zone_store_free(&pol);
}

/* A CNAME chain in the zone (c -> d -> www) into a weighted group and
 * into a policy record: the answer at its end is picked per query as a
 * direct query for the end's name would pick it (same id, same client),
 * not always the first leaf; with TTLs and the CNAMEs in front. */
static void test_cname_chain_picks(void **state)
{
	(void)state;
	struct zone_store rec, pol;
	store_new(&rec);
	store_new(&pol);
	apply_ok(
	    &rec,
	    BATCH(
		CH("CREATE", W("www.example.com", "0", 1, "192.0.2.1")) "," CH(
		    "CREATE", W("www.example.com", "1", 1,
				"192.0.2.2")) "," CH("CREATE",
						     W("www.example.com", "2",
						       2, "192.0.2.3"))));
	policy_record(&pol, DOC);
	static const char CHAIN[] = BATCH(CH(
	    "CREATE",
	    "\"Name\": \"c.example.com\", \"Type\": \"CNAME\", "
	    "\"TTL\": "
	    "300, \"ResourceRecords\": [{\"Value\": "
	    "\"d.example.com\"}]") "," CH("CREATE", "\"Name\": "
						    "\"d.example.com\", "
						    "\"Type\": \"CNAME\", "
						    "\"TTL\": 300, "
						    "\"ResourceRecords\": "
						    "[{\"Value\": "
						    "\"WWW.example.com\"}]"));
	apply_ok(&rec, CHAIN);
	apply_ok(&pol, CHAIN);
	struct zone_store *stores[] = {&rec, &pol};
	for (size_t k = 0; k < 2; k++) {
		struct health h = {{NULL}};
		struct serving_view *v = build_view(stores[k], &h);
		size_t count[256] = {0};
		static const char *const CLIENTS[] = {
		    "198.51.100.7", "203.0.113.9", "192.0.2.200", NULL};
		for (unsigned id = 0; id < NQ; id++) {
			const char *c = CLIENTS[id % 4];
			struct reply d =
			    ask(v, "www.example.com", KNOT_RRTYPE_A,
				(uint16_t)id, c, 1232);
			struct reply x = ask(v, "c.example.com", KNOT_RRTYPE_A,
					     (uint16_t)id, c, 1232);
			assert_int_equal(d.n, 1);
			assert_int_equal(x.n, 1);
			assert_int_equal(x.last[0], d.last[0]);
			assert_int_equal(x.ecs_len, d.ecs_len);
			count[x.last[0]]++;
		}
		/* Every leaf answers through the chain. */
		if (k == 0) {
			assert_true(count[1] > 0 && count[2] > 0 &&
				    count[3] > 0);
			double x2 =
			    chi2((size_t[]){count[1], count[2], count[3]},
				 (const double[]){0.25, 0.25, 0.5}, 3, NQ);
			assert_true(x2 < CHI2_999[2]);
		} else {
			assert_true(count[1] > 0 && count[2] > 0);
		}
		serving_view_free(v);
	}
	/* Incremental builds pick alike (the chain's names are rebuilt). */
	struct zone *z0, *z1, *zf;
	char err[512];
	struct health down = {{"hc1"}}, up = {{NULL}};
	assert_int_equal(zone_store_build_update(&pol, ZID, NULL, healthy, &up,
						 &z0, err, sizeof(err)),
			 0);
	assert_int_equal(zone_store_build_update(&pol, ZID, z0, healthy, &down,
						 &z1, err, sizeof(err)),
			 0);
	assert_int_equal(zone_store_build_with_health(&pol, ZID, healthy, &down,
						      &zf, err, sizeof(err)),
			 0);
	struct serving_view *vi, *vf;
	assert_int_equal(serving_view_build(&vi, &z1, 1), 0);
	assert_int_equal(serving_view_build(&vf, &zf, 1), 0);
	same_answers(vi, vf, "c.example.com", NULL);
	serving_view_free(vi);
	serving_view_free(vf);
	zone_release(z0);
	zone_release(z1);
	zone_release(zf);
	zone_store_free(&rec);
	zone_store_free(&pol);
}

/* --- geoproximity and cidr rules (command_version 10) --- */

/* A client's coordinates for the stub locate (none: has false). */
struct client_at {
	bool has;
	double lat, lon;
};

static uint32_t stub_locate(struct zone_choice_key *k)
{
	const struct client_at *c = k->geo;
	k->scope = 24;
	if (c->has)
		zone_geo_point_set(&k->point, c->lat, c->lon);
	else
		k->point.has = 0;
	return 0;
}

/* What view v's node at name answers for A with key (its id, client
 * coordinates, subnet): the answer's bytes into out (0 when none). */
static size_t pick_bytes(const struct serving_view *v, const char *name,
			 struct zone_choice_key *key, uint8_t *out, size_t cap)
{
	uint8_t wire[256], labels[128];
	assert_non_null(knot_dname_from_str(wire, name, sizeof(wire)));
	size_t len = knot_dname_size(wire), nl = 0, matched;
	for (size_t o = 0; wire[o] != 0; o += 1u + wire[o])
		labels[nl++] = (uint8_t)o;
	const struct zone *zz;
	const struct zone_node *n =
	    serving_view_lookup(v, wire, len, labels, nl, &matched, &zz);
	assert_non_null(n);
	key->qname = wire;
	key->qname_len = len;
	key->qtype = KNOT_RRTYPE_A;
	key->picked = false;
	const struct zone_answer *a = zone_node_answer(n, KNOT_RRTYPE_A, key);
	if (a == NULL)
		return 0;
	assert_true(a->len <= cap);
	memcpy(out, a->body, a->len);
	return a->len;
}

/* The last octet of the 192.0.2.x record in b[0..n), 0 when none. */
static int last_octet(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i + 5 < n; i++)
		if (b[i] == 0 && b[i + 1] == 4 && b[i + 2] == 192 &&
		    b[i + 3] == 0 && b[i + 4] == 2)
			return b[i + 5];
	return 0;
}

/* A geoproximity rule (an AWS Region with Bias, London's coordinates
 * leading to a weighted rule, Sydney's with a negative Bias and a health
 * check) and the equivalent GeoProximityLocation record sets: the same
 * answer bytes for 10,000 keys (a grid of client coordinates, query ids,
 * and clients without coordinates), in every health state. */
static void test_policy_geoproximity(void **state)
{
	(void)state;
	static const char GP_DOC[] =
	    "{\"AWSPolicyFormatVersion\": \"2015-10-01\", \"RecordType\": "
	    "\"A\", \"StartRule\": \"gp\", \"Endpoints\": {"
	    " \"a\": {\"Type\": \"value\", \"Value\": \"192.0.2.1\"},"
	    " \"b\": {\"Type\": \"value\", \"Value\": \"192.0.2.2\"},"
	    " \"c\": {\"Type\": \"value\", \"Value\": \"192.0.2.3\"},"
	    " \"d\": {\"Type\": \"value\", \"Value\": \"192.0.2.4\"}},"
	    " \"Rules\": {\"gp\": {\"RuleType\": \"geoproximity\", "
	    "\"GeoproximityLocations\": ["
	    "  {\"EndpointReference\": \"a\", \"Region\": "
	    "\"aws:route53:us-east-1\", \"Bias\": \"10\", \"HealthCheck\": "
	    "\"hc1\"},"
	    "  {\"RuleReference\": \"w\", \"Latitude\": \"51.50\", "
	    "\"Longitude\": \"-0.16\", \"Bias\": 0, \"EvaluateTargetHealth\": "
	    "true},"
	    "  {\"EndpointReference\": \"d\", \"Latitude\": -33.87, "
	    "\"Longitude\": \"151.21\", \"Bias\": \"-20\", \"HealthCheck\": "
	    "\"hc4\"}]},"
	    " \"w\": {\"RuleType\": \"weighted\", \"Items\": ["
	    "  {\"EndpointReference\": \"b\", \"Weight\": 1, \"HealthCheck\": "
	    "\"hc2\"},"
	    "  {\"EndpointReference\": \"c\", \"Weight\": 1}]}}}";
	struct traffic_policy p;
	parse_ok(GP_DOC, &p);
	assert_int_equal(p.rules[0].type, TRAFFIC_RULE_GEOPROX);
	assert_string_equal(p.rules[0].items[0].gp_region, "us-east-1");
	assert_int_equal(p.rules[0].items[0].gp_bias, 10);
	assert_int_equal(p.rules[0].items[1].gp_lat, 5150);
	assert_int_equal(p.rules[0].items[1].gp_lon, -16);
	assert_int_equal(p.rules[0].items[2].gp_lat, -3387);
	assert_int_equal(p.rules[0].items[2].gp_bias, -20);
	assert_true(traffic_policy_needs_geo_version(&p));
	traffic_policy_free(&p);

	struct zone_store rec, pol;
	store_new(&rec);
	store_new(&pol);
	policy_record(&pol, GP_DOC);
	apply_ok(&rec, BATCH(CH("CREATE",
				W("w.example.com", "0", 1, "192.0.2.2")
				    HC("hc2")) "," CH("CREATE",
						      W("w.example.com", "1", 1,
							"192.0.2.3"))));
	apply_ok(&rec,
		 BATCH(CH("CREATE",
			  "\"Name\": \"www.example.com\", \"Type\": \"A\", "
			  "\"TTL\": 60, \"SetIdentifier\": \"0\", "
			  "\"GeoProximityLocation\": {\"AWSRegion\": "
			  "\"us-east-1\", "
			  "\"Bias\": 10}, \"HealthCheckId\": \"hc1\", "
			  "\"ResourceRecords\": [{\"Value\": "
			  "\"192.0.2.1\"}]") "," CH("CREATE",
						    "\"Name\": "
						    "\"www.example.com\", "
						    "\"Type\": \"A\", "
						    "\"SetIdentifier\": "
						    "\"1\", "
						    "\"GeoProximityLocation"
						    "\": "
						    "{\"Coordinates\": "
						    "{\"Latitude\": "
						    "\"51.50\", "
						    "\"Longitude\": "
						    "\"-0.16\"}, \"Bias\": "
						    "0}, "
						    "\"AliasTarget\": "
						    "{\"HostedZoneId\": "
						    "\"" ZID "\", "
						    "\"DNSName\": "
						    "\"w.example.com\", "
						    "\"EvaluateTargetHealth"
						    "\": true}") "," CH("CRE"
									"AT"
									"E",
									"\"N"
									"ame"
									"\":"
									" \""
									"www"
									".ex"
									"amp"
									"le."
									"com"
									"\","
									" \""
									"Typ"
									"e\""
									": "
									"\"A"
									"\","
									" "
									"\"T"
									"TL"
									"\":"
									" 60"
									", "
									"\"S"
									"etI"
									"den"
									"tif"
									"ier"
									"\":"
									" \""
									"2\""
									", "
									"\"G"
									"eoP"
									"rox"
									"imi"
									"tyL"
									"oca"
									"tio"
									"n\""
									": "
									"{\""
									"Coo"
									"rdi"
									"nat"
									"es"
									"\":"
									" "
									"{\""
									"Lat"
									"itu"
									"de"
									"\":"
									" \""
									"-33"
									".87"
									"\","
									" \""
									"Lon"
									"git"
									"ude"
									"\":"
									" "
									"\"1"
									"51."
									"21"
									"\"}"
									", "
									"\"B"
									"ias"
									"\":"
									" -"
									"20}"
									", "
									"\"H"
									"eal"
									"thC"
									"hec"
									"kId"
									"\":"
									" "
									"\"h"
									"c4"
									"\","
									" \""
									"Res"
									"our"
									"ceR"
									"eco"
									"rds"
									"\":"
									" [{"
									"\"V"
									"alu"
									"e\""
									": "
									"\"1"
									"92."
									"0."
									"2."
									"4\""
									"}"
									"]")));
	static const struct health STATES[] = {
	    {{NULL}},
	    {{"hc1"}},
	    {{"hc2"}},
	    {{"hc1", "hc4"}},
	    {{"hc1", "hc2", "hc4"}},
	};
	for (size_t k = 0; k < sizeof(STATES) / sizeof(STATES[0]); k++) {
		struct health h = STATES[k];
		struct serving_view *a = build_view(&rec, &h);
		struct serving_view *b = build_view(&pol, &h);
		size_t count[256] = {0};
		for (unsigned q = 0; q < NQ; q++) {
			struct client_at c = {q % 10 != 9,
					      -80.0 + (double)(q % 100) * 1.6,
					      -179.0 + (double)(q / 100) * 3.6};
			struct zone_choice_key ka = {.id = (uint16_t)(q * 13),
						     .locate = stub_locate,
						     .geo = &c};
			struct zone_choice_key kb = ka;
			uint8_t x[1024], y[1024];
			size_t nx =
			    pick_bytes(a, "www.example.com", &ka, x, sizeof(x));
			size_t ny =
			    pick_bytes(b, "www.example.com", &kb, y, sizeof(y));
			assert_int_equal(nx, ny);
			assert_memory_equal(x, y, nx);
			assert_true(ka.picked && kb.picked);
			assert_int_equal(ka.scope, kb.scope);
			count[last_octet(x, nx)]++;
		}
		/* Every location answers somewhere while healthy. */
		if (k == 0)
			assert_true(count[1] > 0 && count[4] > 0 &&
				    count[2] > 0 && count[3] > 0);
		if (k == 3)
			assert_int_equal(count[1] + count[4], 0);
		serving_view_free(a);
		serving_view_free(b);
	}
	zone_store_free(&rec);
	zone_store_free(&pol);
}

#define CIDR_ID "4b6d9e0a-1c2f-4e3d-8a7b-9c0d1e2f3a4b"

/* The stores' CIDR collections (zone_store_set_cidr). */
static int cidr_lookup(void *ctx, const char *ref, const char *location,
		       const struct cidr_block **blocks, size_t *n,
		       const char **id)
{
	const struct cidr_collection *c = cidr_table_get(ctx, ref);
	*blocks = NULL;
	*n = 0;
	if (c == NULL)
		c = cidr_table_by_name(ctx, ref);
	if (c == NULL)
		return -1;
	*id = c->id;
	const struct cidr_location *l = cidr_collection_location(c, location);
	if (l == NULL)
		return 0;
	*blocks = l->blocks;
	*n = l->n;
	return 1;
}

/* CIDR_ID: "narrow" 10.1.0.0/16, "wide" 10.0.0.0/8 and 192.0.2.0/24. */
static void cidr_fixture(struct cidr_table *t)
{
	char err[256];
	struct cidr_block narrow[1], wide[2];
	assert_int_equal(
	    cidr_block_parse("10.1.0.0/16", &narrow[0], err, sizeof(err)), 0);
	assert_int_equal(
	    cidr_block_parse("10.0.0.0/8", &wide[0], err, sizeof(err)), 0);
	assert_int_equal(
	    cidr_block_parse("192.0.2.0/24", &wide[1], err, sizeof(err)), 0);
	if (cidr_block_cmp(&wide[0], &wide[1]) > 0) {
		struct cidr_block x = wide[0];
		wide[0] = wide[1];
		wide[1] = x;
	}
	struct cidr_location locs[] = {
	    {.name = "narrow", .blocks = narrow, .n = 1},
	    {.name = "wide", .blocks = wide, .n = 2},
	};
	cidr_table_init(t);
	assert_int_equal(cidr_table_load(t, CIDR_ID, "isps", "r", 1, locs, 2),
			 0);
}

#define IPSET(id, loc, rest)                                                   \
	"\"Name\": \"www.example.com\", \"Type\": \"A\", \"SetIdentifier\": "  \
	"\"" id "\", \"CidrRoutingConfig\": {\"CollectionId\": \"" CIDR_ID     \
	"\", \"LocationName\": \"" loc "\"}, " rest

/* A cidr rule (a location with a health check, one leading to a weighted
 * rule, the "*" default) and the equivalent CidrRoutingConfig record
 * sets: the same bytes for 10,000 client networks and query ids, in every
 * health state. */
static void test_policy_cidr(void **state)
{
	(void)state;
	static const char IP_DOC[] =
	    "{\"AWSPolicyFormatVersion\": \"2015-10-01\", \"RecordType\": "
	    "\"A\", \"StartRule\": \"ip\", \"Endpoints\": {"
	    " \"a\": {\"Type\": \"value\", \"Value\": \"192.0.2.1\"},"
	    " \"b\": {\"Type\": \"value\", \"Value\": \"192.0.2.2\"},"
	    " \"c\": {\"Type\": \"value\", \"Value\": \"192.0.2.3\"},"
	    " \"d\": {\"Type\": \"value\", \"Value\": \"192.0.2.9\"}},"
	    " \"Rules\": {\"ip\": {\"RuleType\": \"cidr\", \"Locations\": ["
	    "  {\"EndpointReference\": \"a\", \"CollectionId\": \"" CIDR_ID
	    "\", \"LocationName\": \"narrow\", \"HealthCheck\": \"hc1\"},"
	    "  {\"RuleReference\": \"w\", \"CollectionId\": \"" CIDR_ID
	    "\", \"LocationName\": \"wide\"},"
	    "  {\"EndpointReference\": \"d\", \"CollectionId\": \"" CIDR_ID
	    "\", \"LocationName\": \"*\"}]},"
	    " \"w\": {\"RuleType\": \"weighted\", \"Items\": ["
	    "  {\"EndpointReference\": \"b\", \"Weight\": 1, \"HealthCheck\": "
	    "\"hc2\"},"
	    "  {\"EndpointReference\": \"c\", \"Weight\": 1}]}}}";
	struct cidr_table t;
	cidr_fixture(&t);
	struct zone_store rec, pol;
	store_new(&rec);
	store_new(&pol);
	zone_store_set_cidr(&rec, cidr_lookup, &t);
	zone_store_set_cidr(&pol, cidr_lookup, &t);
	policy_record(&pol, IP_DOC);
	assert_true(zone_store_cidr_in_use(&pol, CIDR_ID, "wide"));
	assert_false(zone_store_cidr_in_use(&pol, CIDR_ID, "other"));
	apply_ok(&rec, BATCH(CH("CREATE",
				W("w.example.com", "0", 1, "192.0.2.2")
				    HC("hc2")) "," CH("CREATE",
						      W("w.example.com", "1", 1,
							"192.0.2.3"))));
	apply_ok(
	    &rec,
	    BATCH(CH(
		"CREATE",
		IPSET(
		    "0", "narrow",
		    "\"TTL\": 60, \"HealthCheckId\": "
		    "\"hc1\", \"ResourceRecords\": "
		    "[{\"Value\": \"192.0.2.1\"}]")) "," CH("CREATE",
							    IPSET(
								"1", "wide",
								"\"AliasTarget"
								"\": "
								"{\"HostedZoneI"
								"d\": \"" ZID
								"\", "
								"\"DNSName\": "
								"\"w.example."
								"com\", "
								"\"EvaluateTarg"
								"etHealth\": "
								"true}")) "," CH("CREATE",
										 IPSET(
										     "2",
										     "*",
										     "\"TTL\": 60, \"ResourceRecords\": "
										     "[{\"Value\": \"192.0.2.9\"}]"))));
	static const struct health STATES[] = {
	    {{NULL}}, {{"hc1"}}, {{"hc2"}}, {{"hc1", "hc2"}}};
	for (size_t k = 0; k < sizeof(STATES) / sizeof(STATES[0]); k++) {
		struct health h = STATES[k];
		struct serving_view *a = build_view(&rec, &h);
		struct serving_view *b = build_view(&pol, &h);
		size_t count[256] = {0};
		for (unsigned q = 0; q < NQ; q++) {
			char client[32];
			/* 10.1/16, the rest of 10/8, 192.0.2/24, others. */
			static const char *const FMT[] = {
			    "10.1.%u.7", "10.%u.3.7", "192.0.2.%u",
			    "198.51.%u.7"};
			unsigned x = (q / 4) % 250 + 2;
			snprintf(client, sizeof(client), FMT[q % 4], x);
			struct reply ra =
			    ask(a, "www.example.com", KNOT_RRTYPE_A,
				(uint16_t)q, client, 1232);
			struct reply rb =
			    ask(b, "www.example.com", KNOT_RRTYPE_A,
				(uint16_t)q, client, 1232);
			assert_int_equal(ra.len, rb.len);
			assert_memory_equal(ra.wire, rb.wire, ra.len);
			if (ra.n == 1)
				count[ra.last[0]]++;
		}
		if (k == 0)
			assert_true(count[1] > 0 && count[2] > 0 &&
				    count[3] > 0 && count[9] > 0);
		if (k == 1)
			assert_int_equal(count[1], 0);
		serving_view_free(a);
		serving_view_free(b);
	}
	zone_store_free(&rec);
	zone_store_free(&pol);
	cidr_table_free(&t);
}

/* The new rule types' document errors. */
static void test_geo_document_errors(void **state)
{
	(void)state;
#define GPR(locs)                                                              \
	HEAD "\"StartRule\": \"r\", " EP                                       \
	     ", \"Rules\": {\"r\": {\"RuleType\": "                            \
	     "\"geoproximity\", \"GeoproximityLocations\": [" locs "]}}}"
#define CIR(locs)                                                              \
	HEAD "\"StartRule\": \"r\", " EP                                       \
	     ", \"Rules\": {\"r\": {\"RuleType\": "                            \
	     "\"cidr\", \"Locations\": [" locs "]}}}"
	doc_refused(
	    GPR("{\"EndpointReference\": \"e\"}"),
	    "$.Rules.r.GeoproximityLocations[0]: exactly one of Region");
	doc_refused(GPR("{\"EndpointReference\": \"e\", \"Region\": "
			"\"aws:route53:us-east-1\", \"Latitude\": \"1\", "
			"\"Longitude\": \"2\"}"),
		    "exactly one of Region");
	doc_refused(GPR("{\"EndpointReference\": \"e\", \"Region\": "
			"\"aws:route53:mars-1\"}"),
		    "$.Rules.r.GeoproximityLocations[0]:");
	doc_refused(GPR("{\"EndpointReference\": \"e\", \"Latitude\": "
			"\"47.611\", \"Longitude\": \"2\"}"),
		    "GeoproximityLocations[0].Latitude: must be degrees");
	doc_refused(GPR("{\"EndpointReference\": \"e\", \"Latitude\": "
			"\"91\", \"Longitude\": \"2\"}"),
		    "GeoproximityLocations[0]:");
	doc_refused(GPR("{\"EndpointReference\": \"e\", \"Latitude\": "
			"\"1\"}"),
		    "Latitude and Longitude go together");
	doc_refused(GPR("{\"EndpointReference\": \"e\", \"Latitude\": "
			"\"1\", \"Longitude\": \"2\", \"Bias\": \"100\"}"),
		    "GeoproximityLocations[0].Bias: must be an integer");
	doc_refused(GPR("{\"EndpointReference\": \"e\", \"Latitude\": "
			"\"1\", \"Longitude\": \"2\", \"Weight\": 1}"),
		    "unknown key \"Weight\"");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": "
			 "\"geoproximity\", \"Locations\": []}}}",
		    "a geoproximity rule takes no Locations");
	doc_refused(CIR("{\"EndpointReference\": \"e\", \"LocationName\": "
			"\"a\"}"),
		    "$.Rules.r.Locations[0]: CollectionId is required");
	doc_refused(CIR("{\"EndpointReference\": \"e\", \"CollectionId\": "
			"\"nope\", \"LocationName\": \"a\"}"),
		    "Locations[0].CollectionId: not a CIDR collection id");
	doc_refused(CIR("{\"EndpointReference\": \"e\", \"CollectionId\": "
			"\"" CIDR_ID "\", \"LocationName\": \"a b\"}"),
		    "Locations[0].LocationName: not a CIDR location name");
	doc_refused(CIR("{\"EndpointReference\": \"e\", \"CollectionId\": "
			"\"" CIDR_ID "\", \"LocationName\": \"a\"}, "
			"{\"EndpointReference\": \"e\", \"CollectionId\": "
			"\"" CIDR_ID "\", \"LocationName\": \"a\"}"),
		    "Locations[1]: the same LocationName as item 0");
	doc_refused(CIR("{\"EndpointReference\": \"e\", \"CollectionId\": "
			"\"" CIDR_ID "\", \"LocationName\": \"a\"}, "
			"{\"EndpointReference\": \"e\", \"CollectionId\": "
			"\"00000000-1c2f-4e3d-8a7b-9c0d1e2f3a4b\", "
			"\"LocationName\": \"b\"}"),
		    "of one CollectionId");
	doc_refused(CIR("{\"EndpointReference\": \"e\", \"CollectionId\": "
			"\"" CIDR_ID "\", \"LocationName\": \"a\", "
			"\"Country\": \"US\"}"),
		    "unknown key \"Country\"");
	doc_refused(HEAD "\"StartRule\": \"r\", " EP
			 ", \"Rules\": {\"r\": {\"RuleType\": \"ip\"}}}",
		    "must be failover, weighted, geo, multivalue, latency, "
		    "geoproximity or cidr");
	/* The typed checks a replica runs: out of range, mixed collections. */
	struct traffic_policy p;
	char err[256];
	parse_ok(GPR("{\"EndpointReference\": \"e\", \"Latitude\": \"1\", "
		     "\"Longitude\": \"2\"}"),
		 &p);
	p.rules[0].items[0].gp_bias = 100;
	assert_int_equal(traffic_policy_check(&p, err, sizeof(err)),
			 Q53_EINVAL);
	traffic_policy_free(&p);
	parse_ok(CIR("{\"EndpointReference\": \"e\", \"CollectionId\": "
		     "\"" CIDR_ID "\", \"LocationName\": \"a\"}, "
		     "{\"EndpointReference\": \"e\", \"CollectionId\": "
		     "\"" CIDR_ID "\", \"LocationName\": \"*\"}"),
		 &p);
	p.rules[0].items[1].cidr_collection[0] = '0';
	assert_int_equal(traffic_policy_check(&p, err, sizeof(err)),
			 Q53_EINVAL);
	traffic_policy_free(&p);
#undef GPR
#undef CIR
}

static int32_t fsm_do(struct control_fsm *f, struct command_payload *p)
{
	struct q53_fsm *b = control_fsm_base(f);
	int32_t code = 0;
	uint8_t *out = NULL;
	size_t len = 0;
	assert_int_equal(
	    b->apply(b, p->type, p->data, p->len, &code, &out, &len), 0);
	raft_free(out);
	command_payload_clear(p);
	return code;
}

/* The commands through the FSM (types 24..27, command_version 7), a
 * snapshot holding them (format 4) restored on another FSM with the same
 * policies and policy records, malformed commands rejected. */
static void test_fsm_commands(void **state)
{
	(void)state;
	struct control_fsm *f, *g;
	struct command_payload p = {0};
	struct traffic_policy tp;
	assert_int_equal(control_fsm_new(&f), 0);
	assert_int_equal(control_fsm_new(&g), 0);
	struct command_create_hosted_zone cz = {.id = ZID,
						.name = "example.com",
						.nameservers = NS,
						.n_nameservers = 2,
						.time_ms = 1};
	assert_int_equal(command_encode_create_hosted_zone(&cz, &p), 0);
	assert_int_equal(fsm_do(f, &p), 0);
	parse_ok(DOC, &tp);
	struct command_traffic_policy c = {.id = "tp-1",
					   .version = 1,
					   .name = "site",
					   .comment = "first",
					   .document = DOC,
					   .policy = &tp,
					   .time_ms = 2};
	assert_int_equal(command_encode_traffic_policy(&c, &p), 0);
	assert_int_equal(p.type, COMMAND_CREATE_TRAFFIC_POLICY);
	assert_int_equal(command_peek_version(p.data, p.len), 7);
	/* The upgrade layer reads version 7 of types 24..27, nothing newer. */
	for (uint16_t t = COMMAND_CREATE_TRAFFIC_POLICY;
	     t <= COMMAND_TRAFFIC_POLICY_INSTANCE; t++) {
		assert_true(command_type_versioned(t));
		assert_true(command_version_known(t, 7));
		assert_false(command_version_known(t, 8));
	}
	assert_int_equal(fsm_do(f, &p), 0);
	c.version = 2;
	assert_int_equal(command_encode_traffic_policy(&c, &p), 0);
	assert_int_equal(fsm_do(f, &p), 0);
	traffic_policy_free(&tp);
	uint8_t www[] = "\3www\7example\3com";
	struct command_traffic_instance ci = {.action = COMMAND_INSTANCE_CREATE,
					      .id = "i-1",
					      .zone_id = ZID,
					      .name = www,
					      .name_len = sizeof(www),
					      .ttl = 60,
					      .policy_id = "tp-1",
					      .policy_version = 2,
					      .time_ms = 3};
	assert_int_equal(command_encode_traffic_instance(&ci, &p), 0);
	assert_int_equal(fsm_do(f, &p), 0);
	/* In use: refused by every replica alike. */
	struct command_traffic_policy_change cd = {.id = "tp-1", .version = 2};
	assert_int_equal(command_encode_traffic_policy_change(
			     COMMAND_DELETE_TRAFFIC_POLICY, &cd, &p),
			 0);
	assert_int_not_equal(fsm_do(f, &p), 0);
	cd.version = 1;
	assert_int_equal(command_encode_traffic_policy_change(
			     COMMAND_DELETE_TRAFFIC_POLICY, &cd, &p),
			 0);
	assert_int_equal(fsm_do(f, &p), 0);
	/* Garbage of a Traffic Flow type: rejected, not applied. */
	uint8_t junk[] = {0xff, 0xff, 0xff};
	p.type = COMMAND_TRAFFIC_POLICY_INSTANCE;
	p.data = raft_malloc(sizeof(junk));
	memcpy(p.data, junk, sizeof(junk));
	p.len = sizeof(junk);
	assert_int_not_equal(fsm_do(f, &p), 0);

	/* A policy message of another command_version: rejected, whatever
	 * else it holds. */
	Q53__Command__TrafficPolicy bad = Q53__COMMAND__TRAFFIC_POLICY__INIT;
	bad.command_version = 8;
	bad.id = "tp-x";
	bad.version = 1;
	bad.record_type = 1;
	p.type = COMMAND_CREATE_TRAFFIC_POLICY;
	p.len = q53__command__traffic_policy__get_packed_size(&bad);
	p.data = raft_malloc(p.len);
	q53__command__traffic_policy__pack(&bad, p.data);
	assert_int_not_equal(fsm_do(f, &p), 0);
	assert_null(
	    zone_store_policy_get(control_fsm_zone_store(f), "tp-x", 0));

	struct q53_fsm *fb = control_fsm_base(f), *gb = control_fsm_base(g);
	uint8_t *snap;
	size_t len;
	assert_int_equal(fb->snapshot(fb, &snap, &len), 0);
	assert_int_equal(gb->restore(gb, snap, len), 0);
	raft_free(snap);
	const struct zone_store *zs = control_fsm_zone_store(g);
	assert_int_equal(zone_store_policy_count(zs), 1);
	assert_int_equal(zone_store_policy_get(zs, "tp-1", 0)->version, 2);
	assert_string_equal(zone_store_policy_get(zs, "tp-1", 2)->document,
			    DOC);
	assert_int_equal(zone_store_instance_count(zs), 1);
	assert_int_equal(zone_store_instance_get(zs, "i-1")->ttl, 60);
	/* Both answer alike. */
	struct zone *za, *zb;
	char err[256];
	assert_int_equal(zone_store_build(control_fsm_zone_store(f), ZID, &za,
					  err, sizeof(err)),
			 0);
	assert_int_equal(zone_store_build(zs, ZID, &zb, err, sizeof(err)), 0);
	struct serving_view *va, *vb;
	assert_int_equal(serving_view_build(&va, &za, 1), 0);
	assert_int_equal(serving_view_build(&vb, &zb, 1), 0);
	zone_release(za);
	zone_release(zb);
	same_answers(va, vb, "www.example.com", NULL);
	serving_view_free(va);
	serving_view_free(vb);
	control_fsm_free(f);
	control_fsm_free(g);
}

/* A document with a geoproximity rule: CreateTrafficPolicy is written with
 * command_version 10 (every other Traffic Flow command stays 7); a
 * version 7 message holding rule type 6 or 7, or a version 10 one
 * without, is malformed. What an older replica's upgrade layer does with
 * 10: stop ("newer quorum53"), as command_version_known says. */
static void test_fsm_geo_version(void **state)
{
	(void)state;
	static const char DOC10[] =
	    "{\"AWSPolicyFormatVersion\": \"2015-10-01\", \"RecordType\": "
	    "\"A\", \"StartRule\": \"gp\", \"Endpoints\": {"
	    " \"a\": {\"Type\": \"value\", \"Value\": \"192.0.2.1\"},"
	    " \"b\": {\"Type\": \"value\", \"Value\": \"192.0.2.2\"}},"
	    " \"Rules\": {\"gp\": {\"RuleType\": \"geoproximity\", "
	    "\"GeoproximityLocations\": ["
	    "  {\"EndpointReference\": \"a\", \"Region\": \"us-east-1\"},"
	    "  {\"EndpointReference\": \"b\", \"Latitude\": \"51.5\", "
	    "\"Longitude\": \"-0.16\", \"Bias\": 5}]}}}";
	struct control_fsm *f, *g;
	struct command_payload p = {0};
	struct traffic_policy tp;
	assert_true(command_version_known(COMMAND_CREATE_TRAFFIC_POLICY,
					  COMMAND_VERSION_TRAFFIC_FLOW_GEO));
	for (uint16_t t = COMMAND_CREATE_TRAFFIC_POLICY + 1;
	     t <= COMMAND_TRAFFIC_POLICY_INSTANCE; t++)
		assert_false(
		    command_version_known(t, COMMAND_VERSION_TRAFFIC_FLOW_GEO));
	assert_int_equal(control_fsm_new(&f), 0);
	assert_int_equal(control_fsm_new(&g), 0);
	struct command_create_hosted_zone cz = {.id = ZID,
						.name = "example.com",
						.nameservers = NS,
						.n_nameservers = 2,
						.time_ms = 1};
	assert_int_equal(command_encode_create_hosted_zone(&cz, &p), 0);
	assert_int_equal(fsm_do(f, &p), 0);
	parse_ok(DOC10, &tp);
	struct command_traffic_policy c = {.id = "tp-g",
					   .version = 1,
					   .name = "gp",
					   .document = DOC10,
					   .policy = &tp,
					   .time_ms = 2};
	assert_int_equal(command_encode_traffic_policy(&c, &p), 0);
	assert_int_equal(command_peek_version(p.data, p.len),
			 COMMAND_VERSION_TRAFFIC_FLOW_GEO);
	/* The same bytes relabelled 7 (what a bug, or a 0.4.0 reader that
	 * skipped the version, would see): refused, not compiled. */
	Q53__Command__TrafficPolicy *m =
	    q53__command__traffic_policy__unpack(NULL, p.len, p.data);
	assert_non_null(m);
	m->command_version = COMMAND_VERSION_TRAFFIC_FLOW;
	struct command_payload p7 = {.type = COMMAND_CREATE_TRAFFIC_POLICY};
	p7.len = q53__command__traffic_policy__get_packed_size(m);
	p7.data = raft_malloc(p7.len);
	q53__command__traffic_policy__pack(m, p7.data);
	assert_int_not_equal(fsm_do(f, &p7), 0);
	/* And a version 10 message holding only 0.4.0's rule types. */
	for (size_t i = 0; i < m->n_rules; i++)
		m->rules[i]->type = TRAFFIC_RULE_WEIGHTED;
	m->command_version = COMMAND_VERSION_TRAFFIC_FLOW_GEO;
	p7.len = q53__command__traffic_policy__get_packed_size(m);
	p7.data = raft_malloc(p7.len);
	q53__command__traffic_policy__pack(m, p7.data);
	p7.type = COMMAND_CREATE_TRAFFIC_POLICY;
	assert_int_not_equal(fsm_do(f, &p7), 0);
	q53__command__traffic_policy__free_unpacked(m, NULL);
	assert_null(
	    zone_store_policy_get(control_fsm_zone_store(f), "tp-g", 0));
	assert_int_equal(fsm_do(f, &p), 0);
	/* 0.4.0's documents still encode as 7. */
	struct traffic_policy t7;
	parse_ok(DOC, &t7);
	struct command_traffic_policy c7 = {.id = "tp-7",
					    .version = 1,
					    .name = "site",
					    .document = DOC,
					    .policy = &t7,
					    .time_ms = 3};
	assert_int_equal(command_encode_traffic_policy(&c7, &p), 0);
	assert_int_equal(command_peek_version(p.data, p.len),
			 COMMAND_VERSION_TRAFFIC_FLOW);
	command_payload_clear(&p);
	traffic_policy_free(&t7);
	/* The snapshot keeps the typed rule. */
	struct q53_fsm *fb = control_fsm_base(f), *gb = control_fsm_base(g);
	uint8_t *snap;
	size_t len;
	assert_int_equal(fb->snapshot(fb, &snap, &len), 0);
	assert_int_equal(gb->restore(gb, snap, len), 0);
	raft_free(snap);
	const struct zone_store_tpolicy *r =
	    zone_store_policy_get(control_fsm_zone_store(g), "tp-g", 1);
	assert_non_null(r);
	assert_int_equal(r->p.rules[0].type, TRAFFIC_RULE_GEOPROX);
	assert_int_equal(r->p.rules[0].items[1].gp_lat, 5150);
	assert_int_equal(r->p.rules[0].items[1].gp_bias, 5);
	assert_string_equal(r->p.rules[0].items[0].gp_region, "us-east-1");
	traffic_policy_free(&tp);
	control_fsm_free(f);
	control_fsm_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_document_errors),
	    cmocka_unit_test(test_store_rules),
	    cmocka_unit_test(test_policy_equals_records),
	    cmocka_unit_test(test_policy_geo_multivalue),
	    cmocka_unit_test(test_policy_latency),
	    cmocka_unit_test(test_cname_chain_picks),
	    cmocka_unit_test(test_policy_geoproximity),
	    cmocka_unit_test(test_policy_cidr),
	    cmocka_unit_test(test_geo_document_errors),
	    cmocka_unit_test(test_fsm_commands),
	    cmocka_unit_test(test_fsm_geo_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
