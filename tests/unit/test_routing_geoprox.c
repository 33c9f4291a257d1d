/* Geoproximity routing: the AWS CLI file accepted verbatim, the
 * change-time checks of GeoProximityLocation (indexed InvalidChangeBatch
 * messages), the typed log form (command version 6), and the answers: the
 * healthy location of the smallest biased distance to the client wins
 * (Route 53's bias: distance * (1 - bias/100), or / (1 + bias/100) for a
 * negative one), a bias moves the boundary, all unhealthy answers as if
 * all were healthy, and a client without coordinates gets the location
 * of the largest Bias. Client coordinates come from a stub locate (the
 * MaxMind lookup itself: test_geo_table.c, test_routing_geoprox.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <libknot/libknot.h>
#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/command.h"
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
#define G(id, gp, value, extra)                                                \
	"\"Name\": \"g.example.com\", \"Type\": \"A\", \"TTL\": 60, "          \
	"\"SetIdentifier\": \"" id "\", \"GeoProximityLocation\": {" gp        \
	"}, \"ResourceRecords\": [{\"Value\": \"192.0.2." value "\"}]" extra
#define AT(lat, lon)                                                           \
	"\"Coordinates\": {\"Latitude\": \"" lat "\", \"Longitude\": \"" lon   \
	"\"}"
#define HC(id) ", \"HealthCheckId\": \"" id "\""

/* A client: its coordinates, or none. */
struct client {
	bool has;
	double lat, lon;
};

/* The stub locate: the key's geo points at the client. */
static uint32_t stub_locate(struct zone_choice_key *k)
{
	const struct client *c = k->geo;
	k->scope = 24;
	if (c->has)
		zone_geo_point_set(&k->point, c->lat, c->lon);
	else
		k->point.has = 0;
	return 0;
}

/* The last octet of the A record name answers for client c, 0 for
 * NODATA. */
static int answer_at(const struct zone_store *s, struct health *h,
		     const char *name, struct client c)
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
				      .geo = &c};
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

static struct client at(double lat, double lon)
{
	return (struct client){true, lat, lon};
}

static const struct client NOWHERE = {false, 0, 0};

/* The AWS CLI file, verbatim: Regions and coordinates. */
static void test_file_closest(void **state)
{
	(void)state;
	struct zone_store s;
	size_t len;
	store_new(&s);
	char *json = route53_data_load("batch-geoproximity.json", &len);
	apply_ok(&s, json);
	free(json);
	const char *q = "geoprox.example.com";
	assert_int_equal(answer_at(&s, NULL, q, at(40.71, -74.01)), 81);
	assert_int_equal(answer_at(&s, NULL, q, at(52.52, 13.40)), 82);
	assert_int_equal(answer_at(&s, NULL, q, at(-37.81, 144.96)), 83);
	/* Tokyo: Sydney is 70 degrees away, Frankfurt 84, but their biases
	 * (-20, +10) make that 87.8 and 75.6. */
	assert_int_equal(answer_at(&s, NULL, q, at(35.68, 139.69)), 82);
	/* No coordinates: the location of the largest Bias (frankfurt). */
	assert_int_equal(answer_at(&s, NULL, q, NOWHERE), 82);
	zone_store_free(&s);
}

/* Two locations on the equator 20 degrees apart, a client at 9 degrees:
 * the nearer one, until a bias moves the boundary past it. */
static void test_bias_moves_boundary(void **state)
{
	(void)state;
	struct health h0 = {{NULL}};
	const struct client c = at(0, 9);
	struct {
		const char *batch;
		int want;
	} cases[] = {
	    {BATCH(CH("CREATE", G("a", AT("0", "0"), "1", "")) "," CH(
		 "CREATE", G("b", AT("0", "20"), "2", ""))),
	     1},
	    /* b +20: 11 * 0.8 = 8.8 < 9. */
	    {BATCH(CH("CREATE", G("a", AT("0", "0"), "1", "")) "," CH(
		 "CREATE", G("b", AT("0", "20") ", \"Bias\": 20", "2", ""))),
	     2},
	    /* b +5: 11 * 0.95 = 10.45 > 9. */
	    {BATCH(CH("CREATE", G("a", AT("0", "0"), "1", "")) "," CH(
		 "CREATE", G("b", AT("0", "20") ", \"Bias\": 5", "2", ""))),
	     1},
	    /* a -20: 9 / 0.8 = 11.25 > 11. */
	    {BATCH(CH("CREATE", G("a", AT("0", "0") ", \"Bias\": -20", "1",
				  "")) "," CH("CREATE",
					      G("b", AT("0", "20"), "2", ""))),
	     2},
	    /* a -10: 9 / 0.9 = 10 < 11. */
	    {BATCH(CH("CREATE", G("a", AT("0", "0") ", \"Bias\": -10", "1",
				  "")) "," CH("CREATE",
					      G("b", AT("0", "20"), "2", ""))),
	     1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zone_store s;
		store_new(&s);
		apply_ok(&s, cases[i].batch);
		if (answer_at(&s, &h0, "g.example.com", c) != cases[i].want)
			fail_msg("case %zu: want %d", i, cases[i].want);
		zone_store_free(&s);
	}
}

/* Unhealthy locations drop out; all unhealthy answer as if all were
 * healthy. */
static void test_health_fallback(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	apply_ok(
	    &s,
	    BATCH(CH("CREATE", G("a", AT("0", "0"), "1", HC("hc-a"))) "," CH(
		"CREATE", G("b", AT("0", "20"), "2",
			    HC("hc-b"))) "," CH("CREATE", G("c", AT("0", "-40"),
							    "3", HC("hc-c")))));
	struct health h0 = {{NULL}};
	struct health ha = {{"hc-a"}};
	struct health hab = {{"hc-a", "hc-b"}};
	struct health all = {{"hc-a", "hc-b", "hc-c"}};
	assert_int_equal(answer_at(&s, &h0, "g.example.com", at(0, 2)), 1);
	assert_int_equal(answer_at(&s, &ha, "g.example.com", at(0, 2)), 2);
	assert_int_equal(answer_at(&s, &hab, "g.example.com", at(0, 2)), 3);
	assert_int_equal(answer_at(&s, &all, "g.example.com", at(0, 2)), 1);
	assert_int_equal(answer_at(&s, &all, "g.example.com", at(0, 19)), 2);
	zone_store_free(&s);
}

/* Route 53's rules at change time, each refusal naming its change. */
static void test_validation(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	refused(&s, BATCH(CH("CREATE", G("x", AT("91", "0"), "1", ""))),
		"change 0: ");
	refused(&s, BATCH(CH("CREATE", G("x", AT("91", "0"), "1", ""))),
		"Latitude 91.00 is out of range (-90 to 90)");
	refused(&s, BATCH(CH("CREATE", G("x", AT("-90.5", "0"), "1", ""))),
		"Latitude -90.50 is out of range (-90 to 90)");
	refused(&s,
		BATCH(CH("CREATE", G("ok", AT("10", "10"), "9", "")) "," CH(
		    "CREATE", G("x", AT("0", "-180.01"), "1", ""))),
		"change 1: ");
	refused(&s,
		BATCH(CH("CREATE", G("ok", AT("10", "10"), "9", "")) "," CH(
		    "CREATE", G("x", AT("0", "-180.01"), "1", ""))),
		"Longitude -180.01 is out of range (-180 to 180)");
	refused(&s, BATCH(CH("CREATE", G("x", AT("1.234", "0"), "1", ""))),
		"Latitude must be a number of degrees with at most two "
		"decimals");
	/* Long digit runs are refused before they overflow (fuzz_change_batch
	 * found 1518888888 * 10 in the integer part). */
	refused(&s,
		BATCH(CH("CREATE",
			 G("x", AT("15188888888888888888", "0"), "1", ""))),
		"Latitude must be a number of degrees with at most two "
		"decimals");
	refused(&s,
		BATCH(CH("CREATE",
			 G("x", AT("1", "1.99999999999999999999"), "1", ""))),
		"Longitude must be a number of degrees with at most two "
		"decimals");
	refused(&s,
		BATCH(CH("CREATE",
			 G("x", AT("1", "2") ", \"Bias\": 100", "1", ""))),
		"Bias 100 is out of range (-99 to 99)");
	refused(&s,
		BATCH(CH("CREATE",
			 G("x", AT("1", "2") ", \"Bias\": -100", "1", ""))),
		"Bias -100 is out of range (-99 to 99)");
	refused(&s,
		BATCH(CH("CREATE",
			 G("x", "\"AWSRegion\": \"mars-north-1\"", "1", ""))),
		"AWSRegion \"mars-north-1\" is not a known AWS Region");
	refused(
	    &s,
	    BATCH(CH("CREATE", G("x", "\"LocalZoneGroup\": \"us-west-2-den-1\"",
				 "1", ""))),
	    "Local Zone Groups are not supported");
	refused(&s,
		BATCH(CH("CREATE",
			 G("x", "\"AWSRegion\": \"us-east-1\", " AT("1", "2"),
			   "1", ""))),
		"exactly one of AWSRegion, LocalZoneGroup and Coordinates");
	refused(&s, BATCH(CH("CREATE", G("x", "\"Bias\": 3", "1", ""))),
		"exactly one of AWSRegion, LocalZoneGroup and Coordinates");
	refused(&s, BATCH(CH("CREATE", G("x", "", "1", ""))),
		"GeoProximityLocation must name a location");
	refused(
	    &s,
	    BATCH(CH("CREATE", G("x", AT("1", "2"), "1", ", \"Weight\": 1"))),
	    "Expected exactly one of");
	refused(&s,
		BATCH(CH("CREATE",
			 "\"Name\": \"g.example.com\", \"Type\": \"A\", "
			 "\"TTL\": 60, \"GeoProximityLocation\": {" AT(
			     "1", "2") "}, \"ResourceRecords\": [{\"Value\": "
				       "\"192.0.2.9\"}]")),
		"Missing field 'SetIdentifier'");
	/* Mixed policies within one name and type. */
	apply_ok(&s, BATCH(CH("CREATE", G("a", AT("1", "2"), "1", ""))));
	refused(&s,
		BATCH(CH("CREATE",
			 "\"Name\": \"g.example.com\", \"Type\": \"A\", "
			 "\"TTL\": 60, \"SetIdentifier\": \"w\", "
			 "\"Weight\": 1, \"ResourceRecords\": [{\"Value\": "
			 "\"192.0.2.9\"}]")),
		"non weighted rrset exists");
	refused(&s,
		BATCH(CH("CREATE",
			 "\"Name\": \"g.example.com\", \"Type\": \"A\", "
			 "\"TTL\": 60, \"SetIdentifier\": \"g\", "
			 "\"GeoLocation\": {\"CountryCode\": \"*\"}, "
			 "\"ResourceRecords\": [{\"Value\": \"192.0.2.9\"}]")),
		"non geolocation rrset exists");
	apply_ok(&s, BATCH(CH("CREATE", G("b",
					  "\"AWSRegion\": \"us-west-2\", "
					  "\"Bias\": -99",
					  "2", ""))));
	zone_store_free(&s);
}

/* The typed log form: GeoProximityLocation survives encode/decode, with
 * command version 6 (a release without it stops instead of dropping it),
 * and the store's own form gives it back. */
static void test_typed_log(void **state)
{
	(void)state;
	struct change_batch *b;
	struct change_batch_typed t = {0};
	char err[512];
	const char *json = BATCH(
	    CH("UPSERT",
	       G("c", AT("-33.87", "151.21") ", \"Bias\": -20", "4",
		 "")) "," CH("UPSERT",
			     G("r", "\"AWSRegion\": \"eu-west-1\"", "5", "")));
	assert_int_equal(
	    change_batch_parse(&b, json, strlen(json), err, sizeof(err)), 0);
	assert_int_equal(change_batch_compile(b, &t), 0);
	struct command_change_rrsets c = {
	    .zone_id = ZID, .change_id = "C1", .batch = t.batch};
	struct command_payload p;
	assert_int_equal(command_encode_change_rrsets(&c, &p), 0);
	assert_int_equal(command_peek_version(p.data, p.len),
			 COMMAND_VERSION_GEOPROX);
	struct command out;
	assert_int_equal(
	    command_decode(COMMAND_CHANGE_RRSETS, p.data, p.len, &out), 0);
	const struct rrset_data *r = &out.u.change_rrsets.batch.changes[0].set;
	assert_true(r->geoprox.present);
	assert_true(r->geoprox.has_coordinates);
	assert_null(r->geoprox.region);
	assert_int_equal(r->geoprox.latitude, -3387);
	assert_int_equal(r->geoprox.longitude, 15121);
	assert_int_equal(r->geoprox.bias, -20);
	r = &out.u.change_rrsets.batch.changes[1].set;
	assert_true(r->geoprox.present);
	assert_false(r->geoprox.has_coordinates);
	assert_string_equal(r->geoprox.region, "eu-west-1");
	assert_int_equal(r->geoprox.bias, 0);
	command_free(&out);
	raft_free(p.data);
	/* The text form round-trips too. */
	char *text;
	size_t tlen;
	assert_int_equal(change_batch_format(b, &text, &tlen), 0);
	assert_non_null(strstr(text, "\"Latitude\":\"-33.87\""));
	assert_non_null(strstr(text, "\"AWSRegion\":\"eu-west-1\""));
	free(text);
	change_batch_typed_free(&t);
	change_batch_free(b);
}

/* The query path's acos: within 3e-8 radians of libm's everywhere. */
static void test_acos(void **state)
{
	(void)state;
	double worst = 0;
	for (int i = -200000; i <= 200000; i++) {
		double x = i / 200000.0;
		double e = fabs(zone_geo_acos(x) - acos(x));
		worst = e > worst ? e : worst;
	}
	if (worst > 3e-8)
		fail_msg("worst error %g", worst);
	/* Rounding past the unit sphere stays finite. */
	assert_true(zone_geo_acos(1.0000000001) == zone_geo_acos(1.0));
	assert_true(fabs(zone_geo_acos(-1.0000000001) - M_PI) < 3e-8);
}

/* Equal biased distances: the first member in SetIdentifier order. */
static void test_tie_first(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	apply_ok(&s, BATCH(CH("CREATE", G("b", AT("0", "10"), "2", "")) "," CH(
			 "CREATE", G("a", AT("0", "-10"), "1", ""))));
	assert_int_equal(answer_at(&s, NULL, "g.example.com", at(0, 0)), 1);
	assert_int_equal(answer_at(&s, NULL, "g.example.com", at(0, 1)), 2);
	zone_store_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_closest),
	    cmocka_unit_test(test_bias_moves_boundary),
	    cmocka_unit_test(test_health_fallback),
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_typed_log),
	    cmocka_unit_test(test_acos),
	    cmocka_unit_test(test_tie_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
