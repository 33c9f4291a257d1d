/* Route 53 change batches from JSON, and record values <-> wire RDATA:
 * the AWS CLI files parse (failover routing and health checks included),
 * malformed and not-yet-supported ones are refused with the change index
 * and the reason, and a formatted batch parses back to the same batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/dnsdata/rdata_text.h"
#include "tests/unit/support/route53_data.h"

/* Test data sits beside this file (tests/unit/data/route53), unless
 * Q53_ROUTE53_DATA points elsewhere. */
static char *load_data(const char *name, size_t *len)
{
	return route53_data_load(name, len);
}

static void expect_refused(const char *json, const char *const *needles)
{
	struct change_batch *b = NULL;
	char err[4096];
	int rc = change_batch_parse(&b, json, strlen(json), err, sizeof(err));
	if (rc == 0) {
		change_batch_free(b);
		fail_msg("accepted: %s", json);
	}
	assert_int_equal(rc, Q53_EINVAL);
	assert_null(b);
	for (; *needles != NULL; needles++) {
		if (strstr(err, *needles) == NULL)
			fail_msg("error '%s' does not contain '%s'", err,
				 *needles);
	}
}

#define REFUSED(json, ...)                                                     \
	expect_refused(json, (const char *const[]){__VA_ARGS__, NULL})

static void test_simple_file(void **state)
{
	(void)state;
	size_t len;
	char err[1024];
	struct change_batch *b = NULL;
	char *json = load_data("batch-simple.json", &len);
	int rc = change_batch_parse(&b, json, len, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(b->comment, "basic record types");
	assert_int_equal(b->nchanges, 7);
	const struct change *c = &b->changes[0];
	assert_int_equal(c->action, CHANGE_CREATE);
	assert_string_equal(c->rrset.name, "www.example.com");
	assert_int_equal(c->rrset.type, 1);
	assert_int_equal(c->rrset.ttl, 300);
	assert_int_equal(c->rrset.nvalues, 2);
	assert_string_equal(c->rrset.values[1], "192.0.2.11");
	assert_null(c->rrset.set_identifier);
	c = &b->changes[3];
	assert_int_equal(c->rrset.type, 16);
	assert_string_equal(c->rrset.values[1], "\"part one\" \"part two\"");
	assert_int_equal(b->changes[6].rrset.type, 257);
	change_batch_free(b);
	free(json);

	json = load_data("batch-upsert-delete.json", &len);
	assert_int_equal(change_batch_parse(&b, json, len, err, sizeof(err)),
			 0);
	assert_int_equal(b->changes[0].action, CHANGE_UPSERT);
	assert_int_equal(b->changes[1].action, CHANGE_DELETE);
	change_batch_free(b);
	free(json);

	/* Rejected later by the store, but well-formed. */
	json = load_data("batch-invalid.json", &len);
	assert_int_equal(change_batch_parse(&b, json, len, err, sizeof(err)),
			 0);
	assert_int_equal(b->nchanges, 4);
	change_batch_free(b);
	free(json);
}

static void test_routing_files(void **state)
{
	(void)state;
	/* Failover and health checks are served: the file parses (that its
	 * health checks must exist is the store's rule). */
	size_t flen;
	char ferr[1024];
	struct change_batch *fb = NULL;
	char *fjson = load_data("batch-failover.json", &flen);
	if (change_batch_parse(&fb, fjson, flen, ferr, sizeof(ferr)) != 0)
		fail_msg("batch-failover.json: %s", ferr);
	assert_int_equal(fb->nchanges, 2);
	assert_string_equal(fb->changes[0].rrset.set_identifier,
			    "shop-primary");
	assert_int_equal(fb->changes[0].rrset.failover,
			 CHANGE_FAILOVER_PRIMARY);
	assert_string_equal(fb->changes[0].rrset.health_check_id,
			    "HC_PRIMARY_ID");
	assert_string_equal(fb->changes[1].rrset.set_identifier,
			    "shop-secondary");
	assert_int_equal(fb->changes[1].rrset.failover,
			 CHANGE_FAILOVER_SECONDARY);
	assert_null(fb->changes[1].rrset.health_check_id);
	change_batch_free(fb);
	free(fjson);

	/* Every routing policy is served now (latency: test_routing_latency.c,
	 * IP-based: test_routing_ip.c); what is still refused as not yet
	 * supported (TrafficPolicyInstanceId): test_shape_errors. */
}

#define ONE(rrs)                                                               \
	"{\"Changes\": [{\"Action\": \"CREATE\", \"ResourceRecordSet\": " rrs  \
	"}]}"
#define WWW_A "\"Name\": \"www.example.com\", \"Type\": \"A\""
#define VALUE "\"ResourceRecords\": [{\"Value\": \"192.0.2.1\"}]"

static void test_shape_errors(void **state)
{
	(void)state;
	REFUSED("{\"Changes\": [", "InvalidInput: change batch is not valid "
				   "JSON: line 1");
	REFUSED("[]", "InvalidInput: change batch must be a JSON object");
	REFUSED("{\"Changes\": [], \"Comment\": \"x\"}",
		"Changes must be a non-empty array");
	REFUSED("{\"Comment\": \"x\"}", "Changes must be a non-empty array");
	REFUSED("{\"Changes\": [{}], \"Extra\": 1}",
		"InvalidInput: unknown key 'Extra'");
	REFUSED("{\"Changes\": [{}], \"Changes\": [{}]}", "duplicate");
	REFUSED("{\"Comment\": 5, \"Changes\": [{}]}", "Comment must be");
	REFUSED("{\"Changes\": [5]}",
		"change 0: ChangeBatch.Changes[0] must be an object");
	REFUSED("{\"Changes\": [{\"Action\": \"CREATE\"}]}",
		"change 0: Missing required parameter in "
		"ChangeBatch.Changes[0]: \"ResourceRecordSet\"");
	REFUSED(
	    "{\"Changes\": [{\"Action\": \"MODIFY\", \"ResourceRecordSet\": "
	    "{" WWW_A ", \"TTL\": 1, " VALUE "}}]}",
	    "change 0: Action must be CREATE, DELETE or UPSERT");
	REFUSED("{\"Changes\": [{\"Action\": \"CREATE\", \"Typo\": 1, "
		"\"ResourceRecordSet\": {" WWW_A ", \"TTL\": 1, " VALUE "}}]}",
		"change 0: unknown key 'Typo' in ChangeBatch.Changes[0]");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"Ttl\": 1, " VALUE "}"),
		"change 0: unknown key 'Ttl' in ResourceRecordSet");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"ResourceRecords\": "
		    "[{\"Value\": \"192.0.2.1\", \"Weight\": 1}]}"),
		"change 0: unknown key 'Weight' in ResourceRecords[0]");
	REFUSED(ONE("{" WWW_A ", " VALUE "}"),
		"change 0: ResourceRecordSet.TTL is required");
	REFUSED(ONE("{" WWW_A ", \"TTL\": -1, " VALUE "}"),
		"change 0: TTL must be an integer from 0 to 2147483647");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 2147483648, " VALUE "}"),
		"change 0: TTL must be an integer");
	REFUSED(ONE("{" WWW_A ", \"TTL\": \"300\", " VALUE "}"),
		"change 0: TTL must be an integer");
	REFUSED(ONE("{\"Name\": \"x.example.com\", \"Type\": \"LOC\", "
		    "\"TTL\": 1, " VALUE "}"),
		"change 0: record type 'LOC' is not supported");
	REFUSED(ONE("{\"Name\": \"x.example.com\", \"Type\": \"a\", "
		    "\"TTL\": 1, " VALUE "}"),
		"record type 'a' is not supported");
	REFUSED(ONE("{\"Type\": \"A\", \"TTL\": 1, " VALUE "}"),
		"change 0: ResourceRecordSet.Name must be");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"ResourceRecords\": []}"),
		"change 0: ResourceRecords must hold at least one record");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1}"),
		"change 0: ResourceRecords is required");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"ResourceRecords\": "
		    "[{\"Value\": 1}]}"),
		"ResourceRecords[0] must be {\"Value\": string}");
	/* Malformed routing fields are malformed before unsupported. */
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"Weight\": 256, " VALUE "}"),
		"change 0: Weight must be an integer from 0 to 255");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"Failover\": \"TERTIARY\", " VALUE
		    "}"),
		"change 0: Failover must be PRIMARY or SECONDARY");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"GeoLocation\": {\"Planet\": "
		    "\"Mars\"}, " VALUE "}"),
		"change 0: unknown key 'Planet' in GeoLocation");
	REFUSED(ONE("{" WWW_A ", \"AliasTarget\": {\"DNSName\": \"x\"}}"),
		"change 0: AliasTarget.HostedZoneId is required");
	REFUSED(
	    ONE("{" WWW_A ", \"TTL\": 1, \"HealthCheckId\": \"\", " VALUE "}"),
	    "change 0: HealthCheckId must be a string of 1 to 64");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"HealthCheckId\": 7, " VALUE "}"),
		"change 0: HealthCheckId must be a string");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"HealthCheckId\": "
		    "\"x1234567890123456789012345678901234567890123456789012345"
		    "678901234\", " VALUE "}"),
		"change 0: HealthCheckId must be a string of 1 to 64");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"SetIdentifier\": \"\", "
		    "\"Failover\": \"PRIMARY\", " VALUE "}"),
		"change 0: SetIdentifier must be a string of 1 to 128");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"TrafficPolicyInstanceId\": "
		    "\"t\", " VALUE "}"),
		"change 0: TrafficPolicyInstanceId: not yet supported");
}

/* Every failing change is named, not only the first. */
static void test_each_change_named(void **state)
{
	(void)state;
	REFUSED("{\"Changes\": ["
		"{\"Action\": \"CREATE\", \"ResourceRecordSet\": {" WWW_A
		", \"TTL\": 1, " VALUE "}},"
		"{\"Action\": \"DROP\", \"ResourceRecordSet\": {" WWW_A
		", \"TTL\": 1, " VALUE "}},"
		"{\"Action\": \"CREATE\", \"ResourceRecordSet\": {" WWW_A
		", \"TTL\": 1, " VALUE "}},"
		"{\"Action\": \"UPSERT\", \"ResourceRecordSet\": {" WWW_A
		", \"TrafficPolicyInstanceId\": \"t\", \"SetIdentifier\": "
		"\"x\", \"Weight\": 1, \"TTL\": 1, " VALUE "}}]}",
		"InvalidChangeBatch: change 1: Action must be",
		"; change 3: TrafficPolicyInstanceId: not yet supported");
}

/* Route 53's rules of one routed record set, in its words. */
static void test_routing_fields(void **state)
{
	(void)state;
	/* Failover needs a SetIdentifier. */
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"Failover\": \"PRIMARY\", " VALUE
		    "}"),
		"InvalidChangeBatch: change 0: Invalid request: Missing field "
		"'SetIdentifier' in Change with [Action=CREATE, "
		"Name=www.example.com., Type=A, SetIdentifier=null]");
	/* A SetIdentifier needs a routing policy. */
	REFUSED(
	    ONE("{" WWW_A ", \"TTL\": 1, \"SetIdentifier\": \"x\", " VALUE "}"),
	    "InvalidChangeBatch: change 0: Invalid request: Expected "
	    "exactly one of [Weight, Region, Failover, GeoLocation, "
	    "MultiValueAnswer, CidrRoutingConfig, GeoProximityLocation], but "
	    "found none in "
	    "Change with [Action=CREATE, Name=www.example.com., Type=A, "
	    "SetIdentifier=x]");
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"SetIdentifier\": \"x\", "
		    "\"HealthCheckId\": \"hc\", " VALUE "}"),
		"found none in Change with");
	/* Failover and latency at once: mixed policies. */
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"SetIdentifier\": \"x\", "
		    "\"Failover\": \"PRIMARY\", \"Region\": \"x\", " VALUE "}"),
		"but found more than one in Change with");
	/* Two served policies at once. */
	REFUSED(ONE("{" WWW_A ", \"TTL\": 1, \"SetIdentifier\": \"x\", "
		    "\"Failover\": \"PRIMARY\", \"Weight\": 1, " VALUE "}"),
		"but found more than one in Change with");
	/* Each failing change is named. */
	REFUSED("{\"Changes\": ["
		"{\"Action\": \"DELETE\", \"ResourceRecordSet\": {" WWW_A
		", \"TTL\": 1, \"SetIdentifier\": \"p\", \"Failover\": "
		"\"PRIMARY\", " VALUE "}},"
		"{\"Action\": \"UPSERT\", \"ResourceRecordSet\": "
		"{\"Name\": \"shop.example.com.\", \"Type\": \"AAAA\", "
		"\"TTL\": 1, \"Failover\": \"SECONDARY\", \"ResourceRecords\": "
		"[{\"Value\": \"2001:db8::1\"}]}}]}",
		"InvalidChangeBatch: change 1: Invalid request: Missing field "
		"'SetIdentifier' in Change with [Action=UPSERT, "
		"Name=shop.example.com., Type=AAAA, SetIdentifier=null]");

	/* Accepted: a failover member, and a plain set with a health check
	 * (allowed; only a group member's health changes answers). */
	const char *json =
	    "{\"Changes\": [{\"Action\": \"UPSERT\", \"ResourceRecordSet\": "
	    "{" WWW_A ", \"TTL\": 5, \"SetIdentifier\": \"s\", \"Failover\": "
	    "\"SECONDARY\", \"HealthCheckId\": \"hc-2\", " VALUE "}},"
	    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
	    "\"plain.example.com\", \"Type\": \"A\", \"TTL\": 5, "
	    "\"HealthCheckId\": \"hc-3\", " VALUE "}}]}";
	struct change_batch *b = NULL;
	char err[1024];
	if (change_batch_parse(&b, json, strlen(json), err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(b->changes[0].rrset.set_identifier, "s");
	assert_int_equal(b->changes[0].rrset.failover,
			 CHANGE_FAILOVER_SECONDARY);
	assert_string_equal(b->changes[0].rrset.health_check_id, "hc-2");
	assert_null(b->changes[1].rrset.set_identifier);
	assert_int_equal(b->changes[1].rrset.failover, CHANGE_FAILOVER_NONE);
	assert_string_equal(b->changes[1].rrset.health_check_id, "hc-3");
	change_batch_free(b);
	assert_string_equal(change_batch_failover_name(CHANGE_FAILOVER_PRIMARY),
			    "PRIMARY");
	assert_string_equal(change_batch_failover_name(CHANGE_FAILOVER_NONE),
			    "");
}

static void batch_equal(const struct change_batch *a,
			const struct change_batch *b)
{
	assert_int_equal(a->nchanges, b->nchanges);
	if (a->comment == NULL)
		assert_null(b->comment);
	else
		assert_string_equal(a->comment, b->comment);
	for (size_t i = 0; i < a->nchanges; i++) {
		const struct change_rrset *x = &a->changes[i].rrset,
					  *y = &b->changes[i].rrset;
		assert_int_equal(a->changes[i].action, b->changes[i].action);
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->ttl, y->ttl);
		assert_int_equal(x->failover, y->failover);
		assert_true((x->set_identifier == NULL) ==
			    (y->set_identifier == NULL));
		if (x->set_identifier != NULL)
			assert_string_equal(x->set_identifier,
					    y->set_identifier);
		assert_true((x->health_check_id == NULL) ==
			    (y->health_check_id == NULL));
		if (x->health_check_id != NULL)
			assert_string_equal(x->health_check_id,
					    y->health_check_id);
		assert_int_equal(x->nvalues, y->nvalues);
		for (size_t k = 0; k < x->nvalues; k++)
			assert_string_equal(x->values[k], y->values[k]);
	}
}

/* format is parse's mirror: every file that parses comes back equal. */
static void test_format_round_trip(void **state)
{
	(void)state;
	static const char *const files[] = {
	    "batch-simple.json", "batch-upsert-delete.json",
	    "batch-invalid.json", "batch-failover.json"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len, len2;
		char err[1024], *text;
		struct change_batch *a = NULL, *b = NULL;
		char *json = load_data(files[i], &len);
		assert_int_equal(
		    change_batch_parse(&a, json, len, err, sizeof(err)), 0);
		assert_int_equal(change_batch_format(a, &text, &len2), 0);
		assert_int_equal(strlen(text), len2);
		if (change_batch_parse(&b, text, len2, err, sizeof(err)) != 0)
			fail_msg("%s: %s\n%s", files[i], err, text);
		batch_equal(a, b);
		change_batch_free(a);
		change_batch_free(b);
		free(text);
		free(json);
	}
	/* A type the module does not know cannot be written. */
	struct change c = {.action = CHANGE_CREATE,
			   .rrset = {.name = "x.", .type = 99 + 1000}};
	struct change_batch bad = {.changes = &c, .nchanges = 1};
	char *text;
	size_t len;
	assert_int_equal(change_batch_format(&bad, &text, &len), Q53_EINVAL);
}

static char *batch_of(size_t nchanges, size_t values_each, const char *action,
		      size_t value_len)
{
	size_t cap = 64 + nchanges * (200 + values_each * (value_len + 32));
	char *json = malloc(cap);
	size_t o = (size_t)snprintf(json, cap, "{\"Changes\": [");
	char *value = malloc(value_len + 1);
	memset(value, 'a', value_len);
	value[value_len] = '\0';
	for (size_t i = 0; i < nchanges; i++) {
		o += (size_t)snprintf(json + o, cap - o,
				      "%s{\"Action\": \"%s\", "
				      "\"ResourceRecordSet\": {\"Name\": "
				      "\"n%zu.example.com\", \"Type\": "
				      "\"TXT\", \"TTL\": 60, "
				      "\"ResourceRecords\": [",
				      i ? "," : "", action, i);
		for (size_t k = 0; k < values_each; k++)
			o += (size_t)snprintf(json + o, cap - o,
					      "%s{\"Value\": \"%s\"}",
					      k ? "," : "", value);
		o += (size_t)snprintf(json + o, cap - o, "]}}");
	}
	snprintf(json + o, cap - o, "]}");
	free(value);
	return json;
}

static void expect_batch(char *json, int want, const char *needle)
{
	struct change_batch *b = NULL;
	char err[4096];
	int rc = change_batch_parse(&b, json, strlen(json), err, sizeof(err));
	if (rc != want)
		fail_msg("rc %d, want %d: %s", rc, want, err);
	if (needle != NULL && strstr(err, needle) == NULL)
		fail_msg("'%s' lacks '%s'", err, needle);
	change_batch_free(b);
	free(json);
}

static void test_limits(void **state)
{
	(void)state;
	expect_batch(batch_of(10, 100, "CREATE", 1), 0, NULL);
	expect_batch(batch_of(7, 143, "CREATE", 1), Q53_EINVAL,
		     "1001 ResourceRecord elements exceed the limit of 1000");
	/* UPSERT values count twice. */
	expect_batch(batch_of(5, 100, "UPSERT", 1), 0, NULL);
	expect_batch(batch_of(1, 501, "UPSERT", 1), Q53_EINVAL,
		     "1002 ResourceRecord elements");
	expect_batch(batch_of(8, 1, "CREATE", 4000), 0, NULL);
	expect_batch(batch_of(9, 1, "CREATE", 4000), Q53_EINVAL,
		     "36000 characters of values exceed the limit of 32000");
	expect_batch(batch_of(4, 1, "UPSERT", 4000), 0, NULL); /* the limit */
	expect_batch(batch_of(5, 1, "UPSERT", 3201), Q53_EINVAL,
		     "32010 characters");
	expect_batch(batch_of(1, 1, "CREATE", 4001), Q53_EINVAL,
		     "change 0: ResourceRecords[0].Value is longer than 4000");
}

/* A and AAAA values that inet_pton reads take a fast path; a leading blank
 * sends the same value through libzscanner. Both must give the same
 * answer (accepted with the same wire, or refused). */
static void test_rdata_text_address_fast_path(void **state)
{
	(void)state;
	static const struct {
		uint16_t type;
		const char *in;
	} cases[] = {
	    {1, "192.0.2.10"},
	    {1, "0.0.0.0"},
	    {1, "255.255.255.255"},
	    {1, "10.0.0.256"},
	    {1, "010.0.0.1"},
	    {1, "1.2.3"},
	    {1, "1.2.3.4.5"},
	    {1, "0x1.2.3.4"},
	    {1, "1..2.3"},
	    {28, "2001:db8::10"},
	    {28, "::"},
	    {28, "::1"},
	    {28, "::ffff:1.2.3.4"},
	    {28, "2001:DB8:0:0:0:0:0:1"},
	    {28, "1:2:3:4:5:6:7:8"},
	    {28, "1:2:3:4:5:6:7:8:9"},
	    {28, "2001:db8:::1"},
	    {28, "g::1"},
	    {28, "1.2.3.4"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t fast[RDATA_TEXT_WIRE_MAX], slow[RDATA_TEXT_WIRE_MAX];
		uint16_t flen = 0, slen = 0;
		char err[256], blank[64];

		snprintf(blank, sizeof(blank), " %s", cases[i].in);
		int frc =
		    rdata_text_to_wire(cases[i].type, cases[i].in, fast,
				       sizeof(fast), &flen, err, sizeof(err));
		int src =
		    rdata_text_to_wire(cases[i].type, blank, slow, sizeof(slow),
				       &slen, err, sizeof(err));
		if (frc != src)
			fail_msg("%s: %d fast, %d through the scanner",
				 cases[i].in, frc, src);
		if (frc == 0) {
			assert_int_equal(flen, slen);
			assert_memory_equal(fast, slow, flen);
		}
	}
	/* no room: refused, not overrun */
	uint8_t small[3];
	uint16_t len;
	char err[64];
	assert_int_not_equal(rdata_text_to_wire(1, "192.0.2.1", small,
						sizeof(small), &len, err,
						sizeof(err)),
			     0);
}

static void test_rdata_text(void **state)
{
	(void)state;
	static const struct {
		uint16_t type;
		const char *in;
		const char *out;
	} ok[] = {
	    {1, "192.0.2.10", "192.0.2.10"},
	    {28, "2001:db8::10", "2001:db8::10"},
	    {15, "10 mail.example.com", "10 mail.example.com."},
	    {16, "\"v=spf1 -all\"", "\"v=spf1 -all\""},
	    {16, "\"part one\" \"part two\"", "\"part one\" \"part two\""},
	    {5, "www.example.com", "www.example.com."},
	    {33, "10 60 5060 sip.example.com", "10 60 5060 sip.example.com."},
	    {257, "0 issue \"ca.example.net\"", "0 issue \"ca.example.net\""},
	    {2, "ns1.example.net.", "ns1.example.net."},
	    {6, "ns1.x. h.x. 1 2 3 4 5", "ns1.x. h.x. 1 2 3 4 5"},
	    {65400, "\\# 2 0a0b", "\\# 2 0A0B"},
	};
	uint8_t wire[RDATA_TEXT_WIRE_MAX];
	char err[256], text[1024];
	uint16_t len;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int rc =
		    rdata_text_to_wire(ok[i].type, ok[i].in, wire, sizeof(wire),
				       &len, err, sizeof(err));
		if (rc != 0)
			fail_msg("%s: %s", ok[i].in, err);
		assert_int_equal(rdata_text_from_wire(ok[i].type, wire, len,
						      text, sizeof(text)),
				 0);
		assert_string_equal(text, ok[i].out);
		assert_int_equal(rdata_text_check_wire(ok[i].type, wire, len),
				 0);
	}
	static const struct {
		uint16_t type;
		const char *in;
		const char *why;
	} bad[] = {
	    {1, "300.1.1.1", ""},
	    {1, "192.0.2.1 192.0.2.2", ""},
	    {1, "", "value is empty"},
	    {1, "192.0.2.1\nevil 300 IN A 192.0.2.66", "line break"},
	    {1, "192.0.2.1\r", "line break"},
	    {28, "192.0.2.1", ""},
	    {15, "mail.example.com", ""},
	    {16, "\"unterminated", ""},
	    {1, "192.0.2.1 (", ""},
	    {41, "x", "cannot be stored"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc =
		    rdata_text_to_wire(bad[i].type, bad[i].in, wire,
				       sizeof(wire), &len, err, sizeof(err));
		if (rc == 0)
			fail_msg("accepted '%s'", bad[i].in);
		assert_int_equal(rc, Q53_EINVAL);
		assert_true(err[0] != '\0');
		assert_non_null(strstr(err, bad[i].why));
	}
	/* A comment after the value is harmless: the record is the same. */
	assert_int_equal(rdata_text_to_wire(1, "192.0.2.1 ; note", wire,
					    sizeof(wire), &len, err,
					    sizeof(err)),
			 0);
	assert_int_equal(len, 4);
	/* Malformed wire data is caught. */
	assert_int_equal(rdata_text_check_wire(1, (const uint8_t *)"\1\2\3", 3),
			 Q53_EMALF);
	assert_int_equal(
	    rdata_text_check_wire(15, (const uint8_t *)"\0\1\300\14", 4),
	    Q53_EMALF);
	assert_int_equal(rdata_text_type_name(28, text, sizeof(text)), 0);
	assert_string_equal(text, "AAAA");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_file),
	    cmocka_unit_test(test_routing_files),
	    cmocka_unit_test(test_shape_errors),
	    cmocka_unit_test(test_each_change_named),
	    cmocka_unit_test(test_routing_fields),
	    cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_rdata_text),
	    cmocka_unit_test(test_rdata_text_address_fast_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
