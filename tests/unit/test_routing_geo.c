/* Geolocation routing: the AWS CLI file accepted verbatim, Route 53's
 * code lists and change-time rules, the typed log form (command version
 * 3), and the answers: the most specific location containing the client
 * wins (subdivision, country, continent, default), no match and no
 * default is NODATA, an unhealthy match falls back to the next less
 * specific one. Client locations come from a stub locate (the MaxMind DB
 * lookup itself: tests/system/test_routing_geo.py). */
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
#include "node/control/geo_codes.h"
#include "node/control/zone_store.h"
#include "node/zone/node.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "tests/unit/support/route53_data.h"

#define ZID "Z0123456789ABC"

static const char *const NS[] = {"ns1.quorum53.test", "ns2.quorum53.test."};

struct health {
	const char *down[8];
};

static bool healthy(void *ctx, const char *id)
{
	const struct health *h = ctx;
	for (size_t i = 0; h != NULL && i < 8 && h->down[i] != NULL; i++)
		if (strcmp(h->down[i], id) == 0)
			return false;
	return true;
}

static bool exists(void *ctx, const char *id)
{
	(void)ctx;
	return strncmp(id, "hc", 2) == 0;
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

static void refused(struct zone_store *s, const char *json, const char *needle)
{
	char err[4096];
	int rc = apply(s, json, err, sizeof(err));
	if (rc == 0 || strstr(err, needle) == NULL)
		fail_msg("rc %d, '%s' lacks '%s'", rc, err, needle);
}

#define CH(action, rrs)                                                        \
	"{\"Action\": \"" action "\", \"ResourceRecordSet\": {" rrs "}}"
#define BATCH(changes) "{\"Changes\": [" changes "]}"
#define G(id, geo, value, extra)                                               \
	"\"Name\": \"g.example.com\", \"Type\": \"A\", \"TTL\": 60, "          \
	"\"SetIdentifier\": \"" id "\", \"GeoLocation\": {" geo "}, "          \
	"\"ResourceRecords\": [{\"Value\": \"192.0.2." value "\"}]" extra
#define HC(id) ", \"HealthCheckId\": \"" id "\""

/* The client location stub: the key's geo points at the location. */
static uint32_t stub_locate(struct zone_choice_key *k)
{
	k->scope = 24;
	return *(const uint32_t *)k->geo;
}

static uint32_t loc(const char *cont, const char *cc, const char *sub)
{
	return geo_location_of(cont, cont ? strlen(cont) : 0, cc,
			       cc ? strlen(cc) : 0, sub, sub ? strlen(sub) : 0);
}

/* The last octet of the A record name answers for a client at l, 0 for
 * NODATA. */
static int answer(const struct zone_store *s, struct health *h,
		  const char *name, uint32_t l)
{
	struct zone *z;
	struct serving_view *v;
	char err[512];
	uint8_t wire[256], labels[128];
	if (zone_store_build_with_health(s, ZID, healthy, h, &z, err,
					 sizeof(err)) != 0)
		fail_msg("build: %s", err);
	assert_int_equal(serving_view_build(&v, &z, 1), 0);
	zone_release(z);
	knot_dname_t *d = knot_dname_from_str(wire, name, sizeof(wire));
	assert_non_null(d);
	size_t len = knot_dname_size(wire), nl = 0;
	for (size_t o = 0; wire[o] != 0; o += 1u + wire[o])
		labels[nl++] = (uint8_t)o;
	size_t matched;
	const struct zone *zz;
	const struct zone_node *n =
	    serving_view_lookup(v, wire, len, labels, nl, &matched, &zz);
	assert_non_null(n);
	assert_int_equal(matched, 0);
	struct zone_choice_key key = {.qname = wire,
				      .qname_len = len,
				      .qtype = KNOT_RRTYPE_A,
				      .locate = stub_locate,
				      .geo = &l};
	const struct zone_answer *a = zone_node_answer(n, KNOT_RRTYPE_A, &key);
	int last = 0;
	for (size_t i = 0; a != NULL && a->an > 0 && i + 4 <= a->len; i++)
		if (a->body[i] == 0 && a->body[i + 1] == 4 &&
		    a->body[i + 2] == 192 && a->body[i + 3] == 0 &&
		    a->body[i + 4] == 2)
			last = a->body[i + 5];
	if (!key.picked)
		fail_msg("not a choice: %s", name);
	serving_view_free(v);
	return last;
}

/* The AWS CLI file, verbatim: most specific wins, '*' is the default. */
static void test_file_most_specific(void **state)
{
	(void)state;
	struct zone_store s;
	size_t len;
	store_new(&s);
	char *json = route53_data_load("batch-geolocation.json", &len);
	apply_ok(&s, json);
	free(json);
	const char *q = "geo.example.com";
	assert_int_equal(answer(&s, NULL, q, loc("EU", "DE", NULL)), 72);
	assert_int_equal(answer(&s, NULL, q, loc("EU", "FR", NULL)), 71);
	assert_int_equal(answer(&s, NULL, q, loc("NA", "US", "CA")), 73);
	assert_int_equal(answer(&s, NULL, q, loc("NA", "US", "NY")), 79);
	assert_int_equal(answer(&s, NULL, q, loc("AS", "JP", NULL)), 79);
	assert_int_equal(answer(&s, NULL, q, 0), 79);
	zone_store_free(&s);
}

/* No match and no default: NODATA. */
static void test_no_default_nodata(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	apply_ok(&s, BATCH(CH("CREATE",
			      G("eu", "\"ContinentCode\": \"EU\"", "1",
				"")) "," CH("CREATE",
					    G("de", "\"CountryCode\": \"DE\"",
					      "2", ""))));
	assert_int_equal(
	    answer(&s, NULL, "g.example.com", loc("EU", "DE", NULL)), 2);
	assert_int_equal(
	    answer(&s, NULL, "g.example.com", loc("AS", "JP", NULL)), 0);
	assert_int_equal(answer(&s, NULL, "g.example.com", 0), 0);
	zone_store_free(&s);
}

/* Unhealthy: subdivision -> country -> continent -> default. */
static void test_unhealthy_fallback(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	apply_ok(
	    &s,
	    BATCH(CH(
		"CREATE",
		G("ca", "\"CountryCode\": \"US\", \"SubdivisionCode\": \"CA\"",
		  "4",
		  HC("hc-ca"))) "," CH("CREATE",
				       G("us", "\"CountryCode\": \"US\"", "3",
					 HC("hc-us"))) "," CH("CREATE",
							      G("na",
								"\"ContinentCod"
								"e\": \"NA\"",
								"2",
								HC("hc-na"))) "," CH("CREATE",
										     G("all",
										       "\"CountryCode\": \"*\"",
										       "1",
										       ""))));
	uint32_t ca = loc("NA", "US", "CA");
	struct health h0 = {{NULL}};
	struct health h1 = {{"hc-ca"}};
	struct health h2 = {{"hc-ca", "hc-us"}};
	struct health h3 = {{"hc-ca", "hc-us", "hc-na"}};
	assert_int_equal(answer(&s, &h0, "g.example.com", ca), 4);
	assert_int_equal(answer(&s, &h1, "g.example.com", ca), 3);
	assert_int_equal(answer(&s, &h2, "g.example.com", ca), 2);
	assert_int_equal(answer(&s, &h3, "g.example.com", ca), 1);
	/* Another state's client never had the subdivision. */
	assert_int_equal(
	    answer(&s, &h0, "g.example.com", loc("NA", "US", "TX")), 3);
	zone_store_free(&s);
}

/* Route 53's code lists and rules at change time. */
static void test_validation(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	refused(
	    &s,
	    BATCH(CH("CREATE", G("x", "\"ContinentCode\": \"XX\"", "1", ""))),
	    "unknown ContinentCode \"XX\"");
	refused(&s,
		BATCH(CH("CREATE", G("x", "\"CountryCode\": \"QQ\"", "1", ""))),
		"unknown CountryCode \"QQ\"");
	refused(
	    &s,
	    BATCH(CH("CREATE", G("x", "\"SubdivisionCode\": \"CA\"", "1", ""))),
	    "a SubdivisionCode needs a CountryCode");
	refused(&s,
		BATCH(CH("CREATE", G("x",
				     "\"CountryCode\": \"US\", "
				     "\"SubdivisionCode\": \"ZZ\"",
				     "1", ""))),
		"unknown SubdivisionCode \"ZZ\"");
	refused(&s,
		BATCH(CH("CREATE", G("x",
				     "\"CountryCode\": \"DE\", "
				     "\"ContinentCode\": \"EU\"",
				     "1", ""))),
		"exactly one of ContinentCode and CountryCode");
	refused(
	    &s,
	    BATCH(
		CH("CREATE", G("a", "\"CountryCode\": \"DE\"", "1", "")) "," CH(
		    "CREATE", G("b", "\"CountryCode\": \"DE\"", "2", ""))),
	    "already has the same GeoLocation");
	refused(&s,
		BATCH(CH("CREATE", G("a", "\"CountryCode\": \"DE\"", "1",
				     ", \"Weight\": 1"))),
		"Expected exactly one of");
	apply_ok(&s, BATCH(CH("CREATE",
			      G("a", "\"CountryCode\": \"DE\"", "1", ""))));
	refused(&s,
		BATCH(CH("CREATE",
			 "\"Name\": \"g.example.com\", \"Type\": \"A\", "
			 "\"TTL\": 60, \"SetIdentifier\": \"w\", "
			 "\"Weight\": 1, \"ResourceRecords\": [{\"Value\": "
			 "\"192.0.2.9\"}]")),
		"non weighted rrset exists");
	apply_ok(&s, BATCH(CH("CREATE", G("ua",
					  "\"CountryCode\": \"UA\", "
					  "\"SubdivisionCode\": \"05\"",
					  "2", ""))));
	zone_store_free(&s);
}

/* The typed log form: GeoLocation survives encode/decode, with command
 * version 3 (a release that knows only 2 stops instead of dropping it). */
static void test_typed_log(void **state)
{
	(void)state;
	struct change_batch *b;
	struct change_batch_typed t = {0};
	char err[512];
	const char *json = BATCH(CH("UPSERT", G("ca",
						"\"CountryCode\": \"US\", "
						"\"SubdivisionCode\": \"CA\"",
						"4", "")));
	assert_int_equal(
	    change_batch_parse(&b, json, strlen(json), err, sizeof(err)), 0);
	assert_int_equal(change_batch_compile(b, &t), 0);
	struct command_change_rrsets c = {
	    .zone_id = ZID, .change_id = "C1", .batch = t.batch};
	struct command_payload p;
	assert_int_equal(command_encode_change_rrsets(&c, &p), 0);
	assert_int_equal(command_peek_version(p.data, p.len),
			 COMMAND_VERSION_GEO_ALIAS);
	assert_int_equal(command_version_max(COMMAND_CHANGE_RRSETS),
			 COMMAND_VERSION_MAX);
	struct command out;
	assert_int_equal(
	    command_decode(COMMAND_CHANGE_RRSETS, p.data, p.len, &out), 0);
	const struct rrset_data *r = &out.u.change_rrsets.batch.changes[0].set;
	assert_null(r->geo_continent);
	assert_string_equal(r->geo_country, "US");
	assert_string_equal(r->geo_subdivision, "CA");
	command_free(&out);
	raft_free(p.data);
	change_batch_typed_free(&t);
	change_batch_free(b);
}

/* A geolocation member may be an alias: it keeps its location and
 * answers with its target's records (the routing fields and the alias
 * share the out-of-line policy). */
static void test_alias_member(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	apply_ok(&s,
		 BATCH(CH("CREATE", "\"Name\": \"t.example.com\", \"Type\": "
				    "\"A\", \"TTL\": 60, \"ResourceRecords\": "
				    "[{\"Value\": \"192.0.2.9\"}]")));
	apply_ok(&s, BATCH(CH("CREATE",
			      G("eu", "\"ContinentCode\": \"EU\"", "1",
				"")) "," CH("CREATE", "\"Name\": "
						      "\"g.example.com\", "
						      "\"Type\": \"A\", "
						      "\"SetIdentifier\": "
						      "\"de\", "
						      "\"GeoLocation\": "
						      "{\"CountryCode\": "
						      "\"DE\"}, "
						      "\"AliasTarget\": "
						      "{\"HostedZoneId\": "
						      "\"" ZID "\", "
						      "\"DNSName\": "
						      "\"t.example.com\", "
						      "\"EvaluateTargetHealth"
						      "\": false}")));
	assert_int_equal(
	    answer(&s, NULL, "g.example.com", loc("EU", "DE", NULL)), 9);
	assert_int_equal(
	    answer(&s, NULL, "g.example.com", loc("EU", "FR", NULL)), 1);
	assert_int_equal(answer(&s, NULL, "g.example.com", 0), 0);
	zone_store_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_most_specific),
	    cmocka_unit_test(test_no_default_nodata),
	    cmocka_unit_test(test_unhealthy_fallback),
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_typed_log),
	    cmocka_unit_test(test_alias_member),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
