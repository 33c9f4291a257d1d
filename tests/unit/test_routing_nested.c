/* Nested routing, one decision tree per name and type: a choice whose
 * leaves are choices evaluated in one pass (the zone builder), an alias
 * to a weighted group picking per query, failover whose primary is an
 * alias to a weighted group, health resolved at build time. */
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
#include "node/control/command.h"
#include "node/control/zone_store.h"
#include "node/dns/query.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "tests/unit/support/routing_fixture.h"

/* --- tests --- */

#define NQ 10000

#define ALIASW(name, id, w, target, eval)                                      \
	"\"Name\": \"" name "\", \"Type\": \"A\", \"SetIdentifier\": \"" id    \
	"\", \"Weight\": " #w ", \"AliasTarget\": {\"HostedZoneId\": \"" ZID   \
	"\", \"DNSName\": \"" target "\", \"EvaluateTargetHealth\": " eval "}"
#define FO_ALIAS(name, id, role, target, eval)                                 \
	"\"Name\": \"" name "\", \"Type\": \"A\", \"SetIdentifier\": \"" id    \
	"\", \"Failover\": \"" role "\", \"AliasTarget\": {\"HostedZoneId\": " \
	"\"" ZID "\", \"DNSName\": \"" target                                  \
	"\", \"EvaluateTargetHealth\": " eval "}"
#define FO(name, id, role, value)                                              \
	"\"Name\": \"" name "\", \"Type\": \"A\", \"TTL\": 60, "               \
	"\"SetIdentifier\": \"" id "\", \"Failover\": \"" role "\", "          \
	"\"ResourceRecords\": [{\"Value\": \"" value "\"}]"

/* How often each last octet answers name over NQ query IDs. */
static void shares(const struct serving_view *v, const char *name,
		   size_t *count)
{
	memset(count, 0, 256 * sizeof(*count));
	for (unsigned id = 0; id < NQ; id++) {
		struct reply r = ask(v, name, KNOT_RRTYPE_A, (uint16_t)id,
				     "198.51.100.7", 0);
		assert_int_equal(r.rcode, 0);
		assert_int_equal(r.n, 1);
		count[r.last[0]]++;
	}
}

static void expect_shares(const size_t *count, const uint8_t *last,
			  const double *share, size_t k)
{
	size_t c[8], sum = 0;
	for (size_t i = 0; i < k; i++) {
		c[i] = count[last[i]];
		sum += c[i];
	}
	if (sum != NQ)
		fail_msg("%zu of %d answers from the expected records", sum,
			 NQ);
	double x = chi2(c, share, k, NQ);
	if (x > CHI2_999[k - 1])
		fail_msg("chi2 %.2f over %zu leaves: %zu %zu %zu %zu", x, k,
			 c[0], c[1], k > 2 ? c[2] : 0, k > 3 ? c[3] : 0);
}

/* --- the tree in the zone builder --- */

static const uint8_t ORIGIN[] = "\7example\3com";
static const uint8_t WWW[] = "\3www\7example\3com";

static struct zone_builder *builder_apex(void)
{
	struct zone_builder *b;
	char err[256];
	const uint8_t soa[] = "\3ns1\0\4host\0"
			      "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5";
	const uint8_t ns[] = "\3ns1\0";
	assert_int_equal(zone_builder_new(&b, ORIGIN), 0);
	assert_int_equal(zone_builder_add(b, ORIGIN, 6, 300, soa,
					  sizeof(soa) - 1, err, sizeof(err)),
			 0);
	assert_int_equal(zone_builder_add(b, ORIGIN, 2, 300, ns, sizeof(ns) - 1,
					  err, sizeof(err)),
			 0);
	return b;
}

/* A weighted root of one answer (.1, weight 2) and a nested weighted
 * choice (weight 2) of .2 (1) and a geolocation choice (3) whose only
 * location is the default (.3): .1 half, .2 an eighth, .3 3/8; levels
 * pick independently. A tree deeper than ZONE_CHOICE_MAX_DEPTH or of more
 * than ZONE_CHOICE_MAX_NODES nodes is refused. */
static void test_tree_eval(void **state)
{
	(void)state;
	static const uint8_t A1[] = {192, 0, 2, 1}, A2[] = {192, 0, 2, 2},
			     A3[] = {192, 0, 2, 3};
	const struct zone_choice_record r1 = {A1, 4}, r2 = {A2, 4},
					r3 = {A3, 4};
	struct zone_choice_leaf geo_leaf = {ZONE_GEO_CHOICE, 60, &r3, 1};
	struct zone_choice_spec geo = {
	    .kind = ZONE_CHOICE_GEO, .leaves = &geo_leaf, .n = 1};
	struct zone_choice_leaf inner_l[2] = {{1, 60, &r2, 1}, {3, 0, NULL, 0}};
	const struct zone_choice_spec *inner_subs[2] = {NULL, &geo};
	struct zone_choice_spec inner = {.kind = ZONE_CHOICE_WEIGHTED,
					 .leaves = inner_l,
					 .n = 2,
					 .subs = inner_subs};
	struct zone_choice_leaf root_l[2] = {{2, 60, &r1, 1}, {2, 0, NULL, 0}};
	const struct zone_choice_spec *root_subs[2] = {NULL, &inner};
	struct zone_choice_spec root = {.kind = ZONE_CHOICE_WEIGHTED,
					.leaves = root_l,
					.n = 2,
					.subs = root_subs};
	char err[256];
	struct zone_builder *b = builder_apex();
	assert_int_equal(
	    zone_builder_add(b, WWW, 1, 60, A1, 4, err, sizeof(err)), 0);
	assert_int_equal(zone_builder_choice(b, WWW, 1, &root), 0);
	struct zone *z;
	assert_int_equal(zone_builder_finish(b, &z, err, sizeof(err)), 0);
	struct serving_view *v;
	assert_int_equal(serving_view_build(&v, &z, 1), 0);
	zone_release(z);
	size_t count[256];
	shares(v, "www.example.com", count);
	expect_shares(count, (const uint8_t[]){1, 2, 3},
		      (const double[]){0.5, 0.125, 0.375}, 3);
	/* The same packet, the same bytes. */
	for (unsigned id = 0; id < 100; id++) {
		struct reply a = ask(v, "www.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, "198.51.100.7", 0);
		struct reply c = ask(v, "www.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, "198.51.100.7", 0);
		assert_int_equal(a.len, c.len);
		assert_memory_equal(a.wire, c.wire, a.len);
	}
	serving_view_free(v);

	/* Too deep: a chain of ZONE_CHOICE_MAX_DEPTH + 1 choices. */
	struct zone_choice_spec chain[ZONE_CHOICE_MAX_DEPTH + 1];
	const struct zone_choice_spec *chain_subs[ZONE_CHOICE_MAX_DEPTH + 1][2];
	struct zone_choice_leaf chain_l[2] = {{1, 60, &r1, 1}, {1, 0, NULL, 0}};
	for (int d = ZONE_CHOICE_MAX_DEPTH; d >= 0; d--) {
		chain_subs[d][0] = NULL;
		chain_subs[d][1] =
		    d < ZONE_CHOICE_MAX_DEPTH ? &chain[d + 1] : NULL;
		chain[d] = (struct zone_choice_spec){
		    .kind = ZONE_CHOICE_WEIGHTED,
		    .leaves = chain_l,
		    .n = d < ZONE_CHOICE_MAX_DEPTH ? 2 : 1,
		    .subs = chain_subs[d]};
	}
	b = builder_apex();
	assert_int_equal(
	    zone_builder_add(b, WWW, 1, 60, A1, 4, err, sizeof(err)), 0);
	assert_int_equal(zone_builder_choice(b, WWW, 1, &chain[0]), Q53_EINVAL);
	/* At the bound: accepted, and the deepest answer is reached. */
	assert_int_equal(zone_builder_choice(b, WWW, 1, &chain[1]), 0);
	assert_int_equal(zone_builder_finish(b, &z, err, sizeof(err)), 0);
	assert_int_equal(serving_view_build(&v, &z, 1), 0);
	zone_release(z);
	shares(v, "www.example.com", count);
	assert_int_equal(count[1], NQ);
	serving_view_free(v);
}

/* --- nested record sets --- */

/* A weighted group whose member "x" is an alias to another weighted
 * group: the alias picks per query (both of the target's records
 * answer, in the target's shares within x's share), not the target's
 * first eligible member. */
static void test_alias_to_weighted(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	apply_ok(&s, BATCH(CH("CREATE",
			      W("pool.example.com", "p1", 1, "192.0.2.11") HC(
				  "hc11")) "," CH("CREATE",
						  W("pool.example.com", "p2", 3,
						    "192.0.2.12") HC("hc12"))));
	apply_ok(
	    &s,
	    BATCH(CH("CREATE",
		     ALIASW("app.example.com", "x", 1, "pool.example.com",
			    "true")) "," CH("CREATE", W("app.example.com", "y",
							1, "192.0.2.20"))));
	struct health up = {{NULL}};
	struct serving_view *v = build_view(&s, &up);
	size_t count[256];
	shares(v, "app.example.com", count);
	expect_shares(count, (const uint8_t[]){11, 12, 20},
		      (const double[]){0.125, 0.375, 0.5}, 3);
	serving_view_free(v);
	/* p2 down: x answers p1 only. */
	v = build_view(&s, &(struct health){{"hc12"}});
	shares(v, "app.example.com", count);
	expect_shares(count, (const uint8_t[]){11, 20},
		      (const double[]){0.5, 0.5}, 2);
	serving_view_free(v);
	/* Both down: x's target has no healthy record, so x is unhealthy
	 * (EvaluateTargetHealth) and y answers alone. */
	v = build_view(&s, &(struct health){{"hc11", "hc12"}});
	shares(v, "app.example.com", count);
	assert_int_equal(count[20], NQ);
	serving_view_free(v);
	zone_store_free(&s);
}

/* Failover whose PRIMARY is an alias to a weighted group: the weighted
 * shares while any of the group is healthy, the SECONDARY when none is;
 * an incremental build answers as a full one. */
static void test_failover_alias_weighted(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	apply_ok(&s, BATCH(CH("CREATE",
			      W("w.example.com", "a", 1, "192.0.2.1")
				  HC("hc1")) "," CH("CREATE",
						    W("w.example.com", "b", 1,
						      "192.0.2.2") HC("hc2"))));
	apply_ok(
	    &s, BATCH(CH(
		    "CREATE",
		    FO_ALIAS("www.example.com", "p", "PRIMARY", "w.example.com",
			     "true")) "," CH("CREATE",
					     FO("www.example.com", "s",
						"SECONDARY", "192.0.2.9"))));
	struct serving_view *v = build_view(&s, &(struct health){{NULL}});
	size_t count[256];
	shares(v, "www.example.com", count);
	expect_shares(count, (const uint8_t[]){1, 2},
		      (const double[]){0.5, 0.5}, 2);
	serving_view_free(v);
	v = build_view(&s, &(struct health){{"hc1"}});
	shares(v, "www.example.com", count);
	assert_int_equal(count[2], NQ);
	serving_view_free(v);
	v = build_view(&s, &(struct health){{"hc1", "hc2"}});
	shares(v, "www.example.com", count);
	assert_int_equal(count[9], NQ);
	serving_view_free(v);

	/* test-answer's branch names the path down the tree. */
	static const uint8_t two[] = {192, 0, 2, 2};
	struct rrset_rdata ans = {.data = two, .len = 4};
	char branch[512];
	uint8_t www[] = "\3www\7example\3com";
	assert_int_equal(zone_store_answer_branch(
			     &s, ZID, www, 1, &ans, 1, healthy,
			     &(struct health){{NULL}}, branch, sizeof(branch)),
			 0);
	if (strstr(branch, "failover PRIMARY \"p\" alias w.example.com.") ==
		NULL ||
	    strstr(branch, "> weighted \"b\"") == NULL)
		fail_msg("branch: %s", branch);

	/* Incremental: from the all-down build to the all-up one. */
	struct zone *z0, *z1, *zf;
	char err[512];
	struct health down = {{"hc1", "hc2"}}, up = {{NULL}};
	assert_int_equal(zone_store_build_update(&s, ZID, NULL, healthy, &down,
						 &z0, err, sizeof(err)),
			 0);
	assert_int_equal(zone_store_build_update(&s, ZID, z0, healthy, &up, &z1,
						 err, sizeof(err)),
			 0);
	assert_int_equal(zone_store_build_with_health(&s, ZID, healthy, &up,
						      &zf, err, sizeof(err)),
			 0);
	struct serving_view *vi, *vf;
	assert_int_equal(serving_view_build(&vi, &z1, 1), 0);
	assert_int_equal(serving_view_build(&vf, &zf, 1), 0);
	for (unsigned id = 0; id < 500; id++) {
		struct reply a = ask(vi, "www.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, "198.51.100.7", 0);
		struct reply c = ask(vf, "www.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, "198.51.100.7", 0);
		assert_int_equal(a.len, c.len);
		assert_memory_equal(a.wire, c.wire, a.len);
	}
	serving_view_free(vi);
	serving_view_free(vf);
	zone_release(z0);
	zone_release(z1);
	zone_release(zf);
	zone_store_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree_eval),
	    cmocka_unit_test(test_alias_to_weighted),
	    cmocka_unit_test(test_failover_alias_weighted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
