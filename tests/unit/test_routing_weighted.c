/* Weighted and multivalue answer routing: the AWS CLI files accepted
 * verbatim, the change-time rules in Route 53's words, the choice table
 * rules (health, weight 0, all zero, all unhealthy, the multivalue cap and
 * fallback), the typed log form (Weight 0 kept apart from no Weight, the
 * command version), and the answers themselves: shares over query IDs
 * within a chi-square bound, the same bytes for the same packet, the same
 * client network giving the same pick, truncation. */
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
#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/command.h"
#include "node/control/zone_store.h"
#include "node/control/zone_store_routing.h"
#include "node/dns/query.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "tests/unit/support/route53_data.h"
#include "tests/unit/support/routing_fixture.h"

/* --- tests --- */

/* The AWS CLI files apply as they are; the sets keep Weight (0 too) and
 * MultiValueAnswer, and format + parse gives them back. */
static void test_files_verbatim(void **state)
{
	struct zone_store s;
	struct zone_store_info info;
	size_t len;
	(void)state;
	store_new(&s);
	char *w = route53_data_load("batch-weighted.json", &len);
	char *m = route53_data_load("batch-multivalue.json", &len);
	apply_ok(&s, w);
	apply_ok(&s, m);
	assert_int_equal(zone_store_get(&s, ZID, &info), 0);
	size_t weighted = 0, zero = 0, mv = 0;
	for (size_t i = 0; i < info.nrrsets; i++) {
		const struct zone_store_rrset *r =
		    zone_store_info_rrset(&info, i);
		enum change_policy p = zone_store_rrset_policy(r);
		weighted += p == CHANGE_POLICY_WEIGHTED;
		zero += p == CHANGE_POLICY_WEIGHTED &&
			zone_store_rrset_weight(r) == 0;
		mv += p == CHANGE_POLICY_MULTIVALUE;
	}
	assert_int_equal(weighted, 3);
	assert_int_equal(zero, 1);
	assert_int_equal(mv, 3);

	struct change_batch *b, *b2;
	char err[1024], *json;
	size_t jlen;
	assert_int_equal(change_batch_parse(&b, w, strlen(w), err, sizeof(err)),
			 0);
	assert_true(b->changes[2].rrset.has_weight);
	assert_int_equal(b->changes[2].rrset.weight, 0);
	assert_int_equal(change_batch_format(b, &json, &jlen), 0);
	assert_non_null(strstr(json, "\"Weight\":0"));
	assert_int_equal(change_batch_parse(&b2, json, jlen, err, sizeof(err)),
			 0);
	assert_true(b2->changes[2].rrset.has_weight);
	assert_int_equal(b2->changes[0].rrset.weight, 90);
	free(json);
	change_batch_free(b2);
	change_batch_free(b);
	assert_int_equal(change_batch_parse(&b, m, strlen(m), err, sizeof(err)),
			 0);
	assert_true(b->changes[0].rrset.multivalue);
	assert_false(b->changes[0].rrset.has_weight);
	change_batch_free(b);
	free(w);
	free(m);
	zone_store_free(&s);
}

/* A typed CREATE of z.example.com A 192.0.2.1, SetIdentifier "z",
 * Weight weight (static data: one at a time). */
static struct rrset_change typed_weighted(uint32_t weight)
{
	static const uint8_t owner[] = "\1z\7example\3com";
	static const uint8_t ip[4] = {192, 0, 2, 1};
	static const struct rrset_rdata rd = {ip, 4};
	return (struct rrset_change){.action = CHANGE_CREATE,
				     .set = {.owner = owner,
					     .owner_len = sizeof(owner),
					     .type = KNOT_RRTYPE_A,
					     .ttl = 1,
					     .rdata = &rd,
					     .nrdata = 1,
					     .set_identifier = "z",
					     .has_weight = true,
					     .weight = weight}};
}

/* Change-time validation, each failing change named by its index. */
static void test_validation(void **state)
{
	struct zone_store s;
	(void)state;
	store_new(&s);
	apply_ok(&s, BATCH(CH("CREATE",
			      W("app.example.com", "blue", 90, "192.0.2.41"))));
	/* Mixed policies within one name and type. */
	refused(&s,
		BATCH(CH("CREATE", MV("app.example.com", "m", "192.0.2.1"))),
		"change 0: RRSet with DNS name app.example.com., type A, "
		"SetIdentifier \"m\" cannot be created because a non "
		"multivalue rrset exists with the same name and type");
	refused(&s,
		BATCH(CH("CREATE", "\"Name\": \"app.example.com\", \"Type\": "
				   "\"A\", \"TTL\": 1, \"ResourceRecords\": "
				   "[{\"Value\": \"192.0.2.1\"}]")),
		"change 0: RRSet with DNS name app.example.com., type A "
		"cannot be created because weighted rrsets exist");
	/* A duplicate SetIdentifier: in the zone, and twice in a batch. */
	refused(
	    &s,
	    BATCH(CH("CREATE", W("app.example.com", "blue", 5, "192.0.2.9"))),
	    "change 0: Tried to create resource record set "
	    "[name='app.example.com.', type='A', set-identifier='blue']"
	    " but it already exists");
	refused(
	    &s,
	    BATCH(CH("CREATE", W("x.example.com", "a", 5, "192.0.2.9")) "," CH(
		"CREATE", W("x.example.com", "a", 6, "192.0.2.8"))),
	    "change 1: ");
	/* SetIdentifier without a policy. */
	refused(&s,
		BATCH(CH("CREATE", "\"Name\": \"y.example.com\", \"Type\": "
				   "\"A\", \"TTL\": 1, \"SetIdentifier\": "
				   "\"y\", \"ResourceRecords\": [{\"Value\": "
				   "\"192.0.2.1\"}]")),
		"change 0: Invalid request: Expected exactly one of");
	/* NS and SOA with a policy. */
	refused(&s,
		BATCH(CH("CREATE",
			 "\"Name\": \"sub.example.com\", \"Type\": \"NS\", "
			 "\"TTL\": 1, \"SetIdentifier\": \"n\", \"Weight\": 1, "
			 "\"ResourceRecords\": [{\"Value\": \"ns.test.\"}]")),
		"change 0: [name='sub.example.com.', type='NS', "
		"set-identifier='n']: an NS record set cannot have the "
		"weighted routing policy");
	refused(&s,
		BATCH(CH("UPSERT",
			 "\"Name\": \"example.com\", \"Type\": \"SOA\", "
			 "\"TTL\": 1, \"SetIdentifier\": \"n\", "
			 "\"MultiValueAnswer\": true, \"ResourceRecords\": "
			 "[{\"Value\": \"ns.test. h.test. 1 2 3 4 5\"}]")),
		"cannot have a routing policy");
	/* Multivalue with CNAME. */
	refused(&s,
		BATCH(CH("CREATE", "\"Name\": \"c.example.com\", \"Type\": "
				   "\"CNAME\", \"TTL\": 1, \"SetIdentifier\": "
				   "\"c\", \"MultiValueAnswer\": true, "
				   "\"ResourceRecords\": [{\"Value\": "
				   "\"t.test\"}]")),
		"Multivalue answer routing is not supported for record sets "
		"of type CNAME");
	/* Weight out of range: at parse time, and in a typed change. */
	refused(&s,
		BATCH(CH("CREATE", W("z.example.com", "z", 256, "192.0.2.1"))),
		"change 0: Weight must be an integer from 0 to 255");
	struct rrset_change c = typed_weighted(300);
	struct rrset_batch tb = {.changes = &c, .nchanges = 1};
	char err[1024];
	assert_int_equal(zone_store_apply(&s, ZID, &tb, err, sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(strstr(err, "change 0: "));
	assert_non_null(strstr(err, "Weight 300 is out of range"));
	/* A DELETE must name the same Weight. */
	refused(
	    &s,
	    BATCH(CH("DELETE", W("app.example.com", "blue", 91, "192.0.2.41"))),
	    "change 0: ");
	apply_ok(&s, BATCH(CH("DELETE",
			      W("app.example.com", "blue", 90, "192.0.2.41"))));
	zone_store_free(&s);
}

/* Hand-made members for zone_store_routing_build. */
struct member {
	struct zone_store_policy pol;
	uint8_t ip[4];
	struct zone_store_rrset set;
	struct zone_store_rdata rd; /* set.rdata[0] (a GNU extension) */
};
_Static_assert(offsetof(struct member, rd) ==
		   offsetof(struct member, set) +
		       sizeof(struct zone_store_rrset),
	       "rd is set.rdata[0]");

static void member_init(struct member *m, uint8_t last, int weight,
			const char *hc)
{
	memset(m, 0, sizeof(*m));
	m->ip[0] = 192;
	m->ip[1] = 0;
	m->ip[2] = 2;
	m->ip[3] = last;
	m->rd.len = 4;
	m->rd.data = m->ip;
	m->set.owner = (uint8_t *)"\3app\7example\3com";
	m->set.owner_len = 17;
	m->set.type = KNOT_RRTYPE_A;
	m->set.ttl = 60;
	m->set.count = 1;
	m->set.policy = &m->pol;
	m->pol.set_identifier = "x";
	m->pol.health_check_id = (char *)hc;
	if (weight >= 0) {
		m->pol.routing = ZONE_STORE_WEIGHTED;
		m->pol.weight = (uint8_t)weight;
	} else {
		m->pol.routing = ZONE_STORE_MULTIVALUE;
	}
}

/* The leaves' (last octet: weight) pairs as text, for comparing. */
static void table_text(const struct zone_store_routing *t, char *out,
		       size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		o += (size_t)snprintf(out + o, cap - o, "%s", i ? " " : "");
		for (size_t k = 0; k < t->leaf[i].count; k++)
			o += (size_t)snprintf(out + o, cap - o, "%s%u",
					      k ? "," : "",
					      t->leaf[i].rdata[k].data[3]);
		o += (size_t)snprintf(out + o, cap - o, ":%u",
				      t->leaf[i].weight);
	}
}

static void expect_table(struct member *m, size_t n, struct health *h,
			 const char *want)
{
	struct zone_store_rrset *g[16];
	struct zone_store_routing t;
	char text[2048];
	for (size_t i = 0; i < n; i++)
		g[i] = &m[i].set;
	assert_int_equal(zone_store_routing_build(&t, g, n, healthy, h, NULL),
			 0);
	table_text(&t, text, sizeof(text));
	if (strcmp(text, want) != 0)
		fail_msg("table '%s', expected '%s'", text, want);
	zone_store_routing_free(&t);
}

static void test_table_rules(void **state)
{
	struct member m[12];
	(void)state;
	/* Weighted: 90, 10, 0. */
	member_init(&m[0], 1, 90, "hc1");
	member_init(&m[1], 2, 10, "hc2");
	member_init(&m[2], 3, 0, "hc3");
	expect_table(m, 3, &(struct health){{NULL}}, "1:90 2:10");
	expect_table(m, 3, &(struct health){{"hc1"}}, "2:10");
	/* Weight 0 only when every non-zero one is down; equal shares. */
	expect_table(m, 3, &(struct health){{"hc1", "hc2"}}, "3:1");
	/* All down: as if all were up. */
	expect_table(m, 3, &(struct health){{"hc1", "hc2", "hc3"}},
		     "1:90 2:10");
	/* All weights 0: equal shares. */
	member_init(&m[0], 1, 0, NULL);
	member_init(&m[1], 2, 0, "hc2");
	expect_table(m, 3, &(struct health){{NULL}}, "1:1 2:1 3:1");
	expect_table(m, 3, &(struct health){{"hc2"}}, "1:1 3:1");

	/* Multivalue, 3 members: every leaf all of them, rotated. */
	for (uint8_t i = 0; i < 12; i++)
		member_init(&m[i], (uint8_t)(i + 1), -1, i < 4 ? "hc" : NULL);
	expect_table(m, 3, &(struct health){{NULL}}, "1,2,3:1 2,3,1:1 3,1,2:1");
	/* 12 members, the first 4 down (one check): 8 healthy, all in each. */
	expect_table(m, 12, &(struct health){{"hc"}},
		     "5,6,7,8,9,10,11,12:1 6,7,8,9,10,11,12,5:1 "
		     "7,8,9,10,11,12,5,6:1 8,9,10,11,12,5,6,7:1 "
		     "9,10,11,12,5,6,7,8:1 10,11,12,5,6,7,8,9:1 "
		     "11,12,5,6,7,8,9,10:1 12,5,6,7,8,9,10,11:1");
	/* 12 up: at most 8 per answer, every record in some answer. */
	struct zone_store_rrset *g[12];
	struct zone_store_routing t;
	for (size_t i = 0; i < 12; i++)
		g[i] = &m[i].set;
	assert_int_equal(zone_store_routing_build(&t, g, 12, healthy,
						  &(struct health){{NULL}},
						  NULL),
			 0);
	assert_int_equal(t.n, 12);
	bool seen[13] = {false};
	for (size_t i = 0; i < t.n; i++) {
		assert_int_equal(t.leaf[i].count, 8);
		for (size_t k = 0; k < 8; k++)
			seen[t.leaf[i].rdata[k].data[3]] = true;
	}
	for (size_t i = 1; i <= 12; i++)
		assert_true(seen[i]);
	zone_store_routing_free(&t);
	/* None healthy: up to 8 of the unhealthy ones. */
	for (uint8_t i = 0; i < 10; i++)
		member_init(&m[i], (uint8_t)(i + 1), -1, "hc");
	assert_int_equal(zone_store_routing_build(&t, g, 10, healthy,
						  &(struct health){{"hc"}},
						  NULL),
			 0);
	assert_int_equal(t.n, 10);
	assert_int_equal(t.leaf[0].count, 8);
	zone_store_routing_free(&t);
}

/* The log carries Weight 0 as a weight, and a command holding routing
 * sets says command_version 2 (1 otherwise). */
static void test_command_typed(void **state)
{
	struct rrset_change c = typed_weighted(0);
	struct command_change_rrsets cc = {.zone_id = ZID, .change_id = "C1"};
	struct command_payload p;
	struct command d;
	(void)state;
	cc.batch.comment = NULL;
	cc.batch.changes = &c;
	cc.batch.nchanges = 1;
	assert_int_equal(command_encode_change_rrsets(&cc, &p), 0);
	assert_int_equal(command_peek_version(p.data, p.len),
			 COMMAND_VERSION_ROUTING);
	assert_int_equal(command_decode(p.type, p.data, p.len, &d), 0);
	const struct rrset_data *r = &d.u.change_rrsets.batch.changes[0].set;
	assert_true(r->has_weight);
	assert_int_equal(r->weight, 0);
	assert_false(r->multivalue);
	command_free(&d);
	command_payload_clear(&p);
	c.set.has_weight = false;
	c.set.multivalue = true;
	assert_int_equal(command_encode_change_rrsets(&cc, &p), 0);
	assert_int_equal(command_decode(p.type, p.data, p.len, &d), 0);
	r = &d.u.change_rrsets.batch.changes[0].set;
	assert_false(r->has_weight);
	assert_true(r->multivalue);
	command_free(&d);
	command_payload_clear(&p);
	c.set.multivalue = false;
	c.set.set_identifier = NULL;
	assert_int_equal(command_encode_change_rrsets(&cc, &p), 0);
	assert_int_equal(command_peek_version(p.data, p.len), COMMAND_VERSION);
	command_payload_clear(&p);
}

#define NQ 10000

/* Shares over query IDs follow the weights (chi-square, p > 0.001);
 * health moves them; the same packet gives the same bytes. */
static void test_weighted_answers(void **state)
{
	struct zone_store s;
	(void)state;
	store_new(&s);
	apply_ok(
	    &s,
	    BATCH(CH(
		"CREATE",
		W("app.example.com", "a", 60, "192.0.2.1") HC(
		    "hc"
		    "1")) "," CH("CREATE",
				 W("app.example.com", "b", 30, "192.0.2.2") HC(
				     "hc2")) "," CH("CREATE",
						    W("app.example.com", "c",
						      10, "192.0.2.3")
							HC("hc3")) "," CH("CREA"
									  "TE",
									  W("ap"
									    "p."
									    "ex"
									    "am"
									    "pl"
									    "e."
									    "co"
									    "m",
									    "s",
									    0,
									    "19"
									    "2."
									    "0."
									    "2."
									    "4"))));
	struct health up = {{NULL}};
	struct serving_view *v = build_view(&s, &up);
	size_t count[5] = {0};
	for (unsigned id = 0; id < NQ; id++) {
		struct reply r = ask(v, "app.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, "198.51.100.7", 0);
		assert_int_equal(r.rcode, 0);
		assert_int_equal(r.n, 1);
		count[r.last[0]]++;
	}
	assert_int_equal(count[4], 0); /* weight 0: never while others up */
	double x = chi2(count + 1, (const double[]){0.6, 0.3, 0.1}, 3, NQ);
	if (x > CHI2_999[2])
		fail_msg("chi2 %.2f: %zu %zu %zu", x, count[1], count[2],
			 count[3]);
	/* The same packet: the same bytes, from the same view and from a
	 * second build; the same /24 picks the same. */
	struct serving_view *v2 = build_view(&s, &up);
	for (unsigned id = 0; id < 200; id++) {
		struct reply a = ask(v, "app.example.com", KNOT_RRTYPE_A,
				     (uint16_t)(id * 331), "198.51.100.7", 0);
		struct reply b = ask(v2, "app.example.com", KNOT_RRTYPE_A,
				     (uint16_t)(id * 331), "198.51.100.250", 0);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.wire, b.wire, a.len);
	}
	/* Another network: another pick for some IDs, the same shares. */
	size_t differ = 0;
	for (unsigned id = 0; id < 200; id++) {
		struct reply a = ask(v, "app.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, "198.51.100.7", 0);
		struct reply b = ask(v, "app.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, "203.0.113.7", 0);
		differ += a.last[0] != b.last[0];
	}
	assert_true(differ > 20);
	serving_view_free(v2);
	serving_view_free(v);

	/* a down: b and c at 3:1. */
	v = build_view(&s, &(struct health){{"hc1"}});
	memset(count, 0, sizeof(count));
	for (unsigned id = 0; id < NQ; id++)
		count[ask(v, "app.example.com", KNOT_RRTYPE_A, (uint16_t)id,
			  NULL, 1232)
			  .last[0]]++;
	assert_int_equal(count[1] + count[4], 0);
	x = chi2(count + 2, (const double[]){0.75, 0.25}, 2, NQ);
	assert_true(x < CHI2_999[1]);
	serving_view_free(v);
	/* Every weighted one down: the weight-0 one alone. */
	v = build_view(&s, &(struct health){{"hc1", "hc2", "hc3"}});
	for (unsigned id = 0; id < 500; id++)
		assert_int_equal(ask(v, "app.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, NULL, 0)
				     .last[0],
				 4);
	serving_view_free(v);
	zone_store_free(&s);
}

/* At most 8 records, only healthy ones, every healthy one in some answer;
 * none healthy: up to 8 of all; a TXT answer that does not fit is cut. */
static void test_multivalue_answers(void **state)
{
	struct zone_store s;
	(void)state;
	store_new(&s);
	char json[8192];
	size_t o = (size_t)snprintf(json, sizeof(json), "{\"Changes\": [");
	for (int i = 1; i <= 12; i++)
		o += (size_t)snprintf(
		    json + o, sizeof(json) - o,
		    "%s" CH("CREATE", "\"Name\": \"pool.example.com\", "
				      "\"Type\": \"A\", \"TTL\": 60, "
				      "\"SetIdentifier\": \"m%02d\", "
				      "\"MultiValueAnswer\": true, "
				      "\"HealthCheckId\": \"hc%d\", "
				      "\"ResourceRecords\": [{\"Value\": "
				      "\"192.0.2.%d\"}]"),
		    i > 1 ? "," : "", i, i <= 2 ? 1 : i, i);
	snprintf(json + o, sizeof(json) - o, "]}");
	apply_ok(&s, json);
	/* hc1 (members 1 and 2) down: 10 healthy. */
	struct serving_view *v = build_view(&s, &(struct health){{"hc1"}});
	size_t seen[13] = {0};
	for (unsigned id = 0; id < 2000; id++) {
		struct reply r = ask(v, "pool.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, "198.51.100.7", 0);
		assert_int_equal(r.n, 8);
		for (size_t k = 0; k < r.n; k++)
			seen[r.last[k]]++;
	}
	assert_int_equal(seen[1] + seen[2], 0);
	for (int i = 3; i <= 12; i++)
		assert_true(seen[i] > 0);
	serving_view_free(v);
	/* Every check down: up to 8 of the 12. */
	struct health down = {{"hc1"}};
	for (int i = 3; i <= 12; i++) {
		static char ids[16][8];
		snprintf(ids[i], sizeof(ids[i]), "hc%d", i);
		down.down[i - 2] = ids[i];
	}
	v = build_view(&s, &down);
	memset(seen, 0, sizeof(seen));
	for (unsigned id = 0; id < 2000; id++) {
		struct reply r = ask(v, "pool.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, NULL, 0);
		assert_int_equal(r.n, 8);
		for (size_t k = 0; k < r.n; k++)
			seen[r.last[k]]++;
	}
	for (int i = 1; i <= 12; i++)
		assert_true(seen[i] > 0);
	serving_view_free(v);

	/* Weighted TXT leaves of 300 bytes: 512 without EDNS cuts, with TC. */
	char txt[700];
	o = (size_t)snprintf(txt, sizeof(txt), "\\\"");
	for (int i = 0; i < 250; i++)
		txt[o++] = 'x';
	snprintf(txt + o, sizeof(txt) - o, "\\\"");
	snprintf(
	    json, sizeof(json),
	    BATCH(CH(
		"CREATE",
		"\"Name\": \"t.example.com\", \"Type\": "
		"\"TXT\", \"TTL\": 1, \"SetIdentifier\": "
		"\"a\", \"Weight\": 1, "
		"\"ResourceRecords\": [{\"Value\": "
		"\"%s\"}, {\"Value\": \"\\\"a%s\"}]") "," CH("CREATE",
							     "\"Name\": "
							     "\"t.example."
							     "com\", \"Type\": "
							     "\"TXT\", "
							     "\"TTL\": 1, "
							     "\"SetIdentifier\""
							     ": \"b\", "
							     "\"Weight\": 1, "
							     "\"ResourceRecords"
							     "\": [{\"Value\": "
							     "\"\\\"b\\\"\"}"
							     "]")),
	    txt, txt + 2);
	apply_ok(&s, json);
	v = build_view(&s, NULL);
	size_t tc = 0, small = 0;
	for (unsigned id = 0; id < 400; id++) {
		struct reply r = ask(v, "t.example.com", KNOT_RRTYPE_TXT,
				     (uint16_t)id, NULL, 0);
		assert_true(r.len <= 512);
		tc += r.tc;
		small += !r.tc;
	}
	assert_true(tc > 100 && small > 100);
	serving_view_free(v);
	zone_store_free(&s);
}

/* EDNS Client Subnet: malformed options are FORMERR; the option comes
 * back with FAMILY, SOURCE and ADDRESS as sent and SCOPE 0 for an answer
 * that does not depend on the network, the prefix the pick used
 * otherwise; the pick uses the ECS network instead of the source. */
static void test_client_subnet(void **state)
{
	struct zone_store s;
	(void)state;
	store_new(&s);
	apply_ok(
	    &s,
	    BATCH(
		CH("CREATE", W("app.example.com", "a", 50, "192.0.2.1")) "," CH(
		    "CREATE", W("app.example.com", "b", 50, "192.0.2.2"))));
	apply_ok(&s, BATCH(CH("CREATE", "\"Name\": \"plain.example.com\", "
					"\"Type\": \"A\", \"TTL\": 1, "
					"\"ResourceRecords\": [{\"Value\": "
					"\"192.0.2.9\"}]")));
	struct serving_view *v = build_view(&s, NULL);
	static const struct {
		struct ecs e;
		const char *why;
	} bad[] = {
	    {{{0, 3, 24, 0, 1, 2, 3}, 7, false}, "unknown family"},
	    {{{0, 1, 33, 0, 1, 2, 3, 4, 5}, 9, false}, "IPv4 source > 32"},
	    {{{0, 2, 129, 0}, 4, false}, "IPv6 source > 128"},
	    {{{0, 1, 24, 8, 1, 2, 3}, 7, false}, "scope in a query"},
	    {{{0, 1, 24, 0, 1, 2}, 6, false}, "address shorter than source"},
	    {{{0, 1, 16, 0, 1, 2, 3}, 7, false}, "address longer"},
	    {{{0, 1, 20, 0, 1, 2, 0x31}, 7, false}, "bits past the source"},
	    {{{0, 1}, 2, false}, "truncated"},
	    {{{0, 1, 24, 0, 1, 2, 3}, 7, true}, "two options"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct reply r = ask_ecs(v, "app.example.com", KNOT_RRTYPE_A, 1,
					 NULL, 1232, &bad[i].e);
		if (r.rcode != KNOT_RCODE_FORMERR)
			fail_msg("%s: rcode %d", bad[i].why, r.rcode);
	}
	/* Echoed, scope 0 for a plain answer, the pick's prefix otherwise. */
	struct ecs e24 = {{0, 1, 24, 0, 198, 51, 100}, 7, false};
	struct reply r =
	    ask_ecs(v, "plain.example.com", KNOT_RRTYPE_A, 1, NULL, 1232, &e24);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(r.ecs_len, 7);
	assert_memory_equal(r.ecs, ((uint8_t[]){0, 1, 24, 0, 198, 51, 100}), 7);
	r = ask_ecs(v, "app.example.com", KNOT_RRTYPE_A, 1, NULL, 1232, &e24);
	assert_memory_equal(r.ecs, ((uint8_t[]){0, 1, 24, 24, 198, 51, 100}),
			    7);
	struct ecs e32 = {{0, 1, 32, 0, 198, 51, 100, 7}, 8, false};
	r = ask_ecs(v, "app.example.com", KNOT_RRTYPE_A, 1, NULL, 1232, &e32);
	assert_int_equal(r.ecs_len, 8);
	assert_int_equal(r.ecs[3], 24);
	struct ecs e12 = {{0, 1, 12, 0, 198, 48}, 6, false};
	r = ask_ecs(v, "app.example.com", KNOT_RRTYPE_A, 1, NULL, 1232, &e12);
	assert_int_equal(r.ecs[3], 12);
	struct ecs e6 = {
	    {0, 2, 64, 0, 0x20, 1, 0xd, 0xb8, 1, 2, 3, 4}, 12, false};
	r = ask_ecs(v, "app.example.com", KNOT_RRTYPE_A, 1, NULL, 1232, &e6);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(r.ecs[3], 56);
	/* The ECS network picks, not the source: the same picks from any
	 * source as from a source in that network without ECS. */
	size_t differ = 0;
	for (unsigned id = 0; id < 300; id++) {
		struct reply a =
		    ask_ecs(v, "app.example.com", KNOT_RRTYPE_A, (uint16_t)id,
			    "203.0.113.9", 1232, &e24);
		struct reply b =
		    ask_ecs(v, "app.example.com", KNOT_RRTYPE_A, (uint16_t)id,
			    "192.0.2.200", 1232, &e32);
		struct reply c = ask(v, "app.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, "198.51.100.77", 1232);
		struct reply d = ask(v, "app.example.com", KNOT_RRTYPE_A,
				     (uint16_t)id, "203.0.113.9", 1232);
		assert_int_equal(a.last[0], b.last[0]);
		assert_int_equal(a.last[0], c.last[0]);
		differ += a.last[0] != d.last[0];
	}
	assert_true(differ > 50);
	serving_view_free(v);
	zone_store_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_files_verbatim),
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_table_rules),
	    cmocka_unit_test(test_command_typed),
	    cmocka_unit_test(test_weighted_answers),
	    cmocka_unit_test(test_multivalue_answers),
	    cmocka_unit_test(test_client_subnet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
