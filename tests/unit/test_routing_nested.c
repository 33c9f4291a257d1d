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

#define ZID "Z0123456789ABC"

static const char *const NS[] = {"ns1.quorum53.test", "ns2.quorum53.test."};

/* --- the store --- */

/* Health: the checks named in down[] are unhealthy, every other one
 * healthy; every check whose id starts with "hc" or "HC" exists. */
struct health {
	const char *down[16];
};

static bool healthy(void *ctx, const char *id)
{
	const struct health *h = ctx;
	for (size_t i = 0; h != NULL && i < 16 && h->down[i] != NULL; i++) {
		if (strcmp(h->down[i], id) == 0)
			return false;
	}
	return true;
}

static bool exists(void *ctx, const char *id)
{
	(void)ctx;
	return strncmp(id, "hc", 2) == 0 || strncmp(id, "HC", 2) == 0;
}

static void store_new(struct zone_store *s)
{
	char err[512];
	struct zone_store_create_params p = {.id = ZID,
					     .name = "example.com",
					     .nameservers = NS,
					     .nnameservers = 2};
	zone_store_init(s);
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)), 0);
}

/* Parses, compiles and applies json; the error text in err. */
static int apply(struct zone_store *s, const char *json, char *err,
		 size_t errlen)
{
	struct change_batch *b;
	struct change_batch_typed t = {0};
	int rc = change_batch_parse(&b, json, strlen(json), err, errlen);
	if (rc != 0)
		return rc;
	rc = change_batch_compile(b, &t);
	if (rc == 0)
		rc = zone_store_apply_with_checks(s, ZID, &t.batch, exists,
						  NULL, err, errlen);
	change_batch_typed_free(&t);
	change_batch_free(b);
	return rc;
}

static void apply_ok(struct zone_store *s, const char *json)
{
	char err[4096];
	if (apply(s, json, err, sizeof(err)) != 0)
		fail_msg("%s\n%s", err, json);
}

#define CH(action, rrs)                                                        \
	"{\"Action\": \"" action "\", \"ResourceRecordSet\": {" rrs "}}"
#define BATCH(changes) "{\"Changes\": [" changes "]}"
#define W(name, id, w, value)                                                  \
	"\"Name\": \"" name "\", \"Type\": \"A\", \"TTL\": 60, "               \
	"\"SetIdentifier\": \"" id "\", \"Weight\": " #w                       \
	", \"ResourceRecords\": [{\"Value\": \"" value "\"}]"
#define MV(name, id, value)                                                    \
	"\"Name\": \"" name "\", \"Type\": \"A\", \"TTL\": 60, "               \
	"\"SetIdentifier\": \"" id "\", \"MultiValueAnswer\": true, "          \
	"\"ResourceRecords\": [{\"Value\": \"" value "\"}]"
#define HC(id) ", \"HealthCheckId\": \"" id "\""

/* --- asking a compiled zone --- */

struct reply {
	uint8_t wire[1232];
	size_t len;
	int rcode;
	bool tc;
	size_t n;	  /* A records in the answer */
	uint8_t last[16]; /* their last octets */
	uint8_t ecs[32];  /* the ECS option's data in the answer */
	uint16_t ecs_len; /* 0: none */
};

/* An EDNS Client Subnet option's data (RFC 7871 6) to send, or none. */
struct ecs {
	uint8_t data[32];
	uint16_t len; /* 0: none */
	bool twice;   /* the option twice */
};

static struct reply ask_ecs(const struct serving_view *v, const char *name,
			    uint16_t type, uint16_t id, const char *client,
			    uint16_t payload, const struct ecs *ecs);

static struct reply ask(const struct serving_view *v, const char *name,
			uint16_t type, uint16_t id, const char *client,
			uint16_t payload)
{
	return ask_ecs(v, name, type, id, client, payload, NULL);
}

static struct reply ask_ecs(const struct serving_view *v, const char *name,
			    uint16_t type, uint16_t id, const char *client,
			    uint16_t payload, const struct ecs *ecs)
{
	uint8_t qbuf[512] = {0};
	struct dns_query_params p = {.udp_payload = 1232};
	struct reply r = {0};
	struct dns_client c = {0};

	if (client != NULL) {
		c.family = 4;
		assert_int_equal(sscanf(client, "%hhu.%hhu.%hhu.%hhu",
					&c.addr[0], &c.addr[1], &c.addr[2],
					&c.addr[3]),
				 4);
	}
	knot_pkt_t *q = knot_pkt_new(qbuf, sizeof(qbuf), NULL);
	knot_dname_t *qname = knot_dname_from_str_alloc(name);
	knot_wire_set_id(q->wire, id);
	assert_int_equal(knot_pkt_put_question(q, qname, KNOT_CLASS_IN, type),
			 0);
	free(qname);
	if (payload > 0) {
		knot_rrset_t opt;
		assert_int_equal(knot_edns_init(&opt, payload, 0, 0, NULL), 0);
		for (int k = 0;
		     ecs != NULL && ecs->len > 0 && k < 1 + ecs->twice; k++)
			assert_int_equal(
			    knot_edns_add_option(&opt,
						 KNOT_EDNS_OPTION_CLIENT_SUBNET,
						 ecs->len, ecs->data, NULL),
			    0);
		knot_pkt_begin(q, KNOT_ADDITIONAL);
		assert_int_equal(knot_pkt_put(q, 0, &opt, KNOT_PF_FREE), 0);
	}
	r.len = dns_query_answer_from(v, &p, client ? &c : NULL, q->wire,
				      q->size, r.wire, sizeof(r.wire));
	knot_pkt_free(q);
	assert_true(r.len >= 12);
	r.rcode = knot_wire_get_rcode(r.wire);
	r.tc = knot_wire_get_tc(r.wire);
	knot_pkt_t *resp = knot_pkt_new(r.wire, r.len, NULL);
	assert_int_equal(knot_pkt_parse(resp, 0), 0);
	if (resp->opt_rr != NULL) {
		uint8_t *o = knot_edns_get_option(
		    resp->opt_rr, KNOT_EDNS_OPTION_CLIENT_SUBNET, NULL);
		if (o != NULL) {
			r.ecs_len = knot_edns_opt_get_length(o);
			memcpy(r.ecs, knot_edns_opt_get_data(o),
			       r.ecs_len < 32 ? r.ecs_len : 32);
		}
	}
	const knot_pktsection_t *an = knot_pkt_section(resp, KNOT_ANSWER);
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->type != KNOT_RRTYPE_A)
			continue;
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t k = 0; k < rr->rrs.count; k++) {
			if (r.n < 16)
				r.last[r.n++] = rd->data[3];
			rd = knot_rdataset_next(rd);
		}
	}
	knot_pkt_free(resp);
	return r;
}

static struct serving_view *build_view(const struct zone_store *s,
				       struct health *h)
{
	struct zone *z;
	struct serving_view *v;
	char err[512];
	if (zone_store_build_with_health(s, ZID, healthy, h, &z, err,
					 sizeof(err)) != 0)
		fail_msg("build: %s", err);
	assert_int_equal(serving_view_build(&v, &z, 1), 0);
	zone_release(z);
	return v;
}

/* Chi-square statistic of counts against expected shares. */
static double chi2(const size_t *count, const double *share, size_t k,
		   size_t total)
{
	double x = 0;
	for (size_t i = 0; i < k; i++) {
		double e = share[i] * (double)total;
		double d = (double)count[i] - e;
		x += d * d / e;
	}
	return x;
}

/* The critical values at p = 0.001 for 1..4 degrees of freedom. */
static const double CHI2_999[] = {0, 10.828, 13.816, 16.266, 18.467};

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
