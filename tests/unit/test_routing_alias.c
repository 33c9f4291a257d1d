/* Alias records (AliasTarget): the AWS CLI file accepted verbatim (with
 * its zone id filled in), answers at the apex with the target's records
 * and TTL (never a CNAME), targets in another zone of the store, alias
 * chains, EvaluateTargetHealth deciding a failover group, the change-time
 * refusals (loops, missing targets, outside the target zone) in Route
 * 53's words, the typed log form, and incremental builds answering as full
 * ones after the target changes. */
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

#include "node/api/route53/r53_route.h"
#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/command.h"
#include "node/control/zone_store.h"
#include "node/dns/query.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "tests/unit/support/route53_data.h"

#define ZID  "Z0123456789ABC"
#define ZID2 "Z0123456789XYZ"

static const char *const NS[] = {"ns1.quorum53.test", "ns2.quorum53.test."};

struct health {
	const char *down[4];
};

static bool healthy(void *ctx, const char *id)
{
	const struct health *h = ctx;
	for (size_t i = 0; h != NULL && i < 4 && h->down[i] != NULL; i++) {
		if (strcmp(h->down[i], id) == 0)
			return false;
	}
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
	struct zone_store_create_params p2 = {.id = ZID2,
					      .name = "other.test",
					      .nameservers = NS,
					      .nnameservers = 2};
	zone_store_init(s);
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)), 0);
	assert_int_equal(zone_store_create(s, &p2, err, sizeof(err)), 0);
}

static int apply_in(struct zone_store *s, const char *zid, const char *json,
		    char *err, size_t errlen)
{
	struct change_batch *b;
	struct change_batch_typed t = {0};
	int rc = change_batch_parse(&b, json, strlen(json), err, errlen);
	if (rc != 0)
		return rc;
	rc = change_batch_compile(b, &t);
	if (rc == 0)
		rc = zone_store_apply_with_checks(s, zid, &t.batch, exists,
						  NULL, err, errlen);
	change_batch_typed_free(&t);
	change_batch_free(b);
	return rc;
}

static void apply_ok(struct zone_store *s, const char *zid, const char *json)
{
	char err[4096];
	if (apply_in(s, zid, json, err, sizeof(err)) != 0)
		fail_msg("%s\n%s", err, json);
}

static void refused(struct zone_store *s, const char *zid, const char *json,
		    const char *needle)
{
	char err[4096];
	int rc = apply_in(s, zid, json, err, sizeof(err));
	if (rc != Q53_EINVAL || strstr(err, needle) == NULL)
		fail_msg("rc %d, '%s' lacks '%s'", rc, err, needle);
}

#define CH(action, rrs)                                                        \
	"{\"Action\": \"" action "\", \"ResourceRecordSet\": {" rrs "}}"
#define BATCH(changes) "{\"Changes\": [" changes "]}"
#define PLAIN(name, type, ttl, value)                                          \
	"\"Name\": \"" name "\", \"Type\": \"" type "\", \"TTL\": " #ttl       \
	", \"ResourceRecords\": [{\"Value\": \"" value "\"}]"
#define ALIAS(name, type, zid, target, eval)                                   \
	"\"Name\": \"" name "\", \"Type\": \"" type "\", \"AliasTarget\": "    \
	"{\"HostedZoneId\": \"" zid "\", \"DNSName\": \"" target               \
	"\", \"EvaluateTargetHealth\": " eval "}"

struct reply {
	int rcode;
	size_t n;	  /* answer records */
	uint16_t type[8]; /* their types */
	uint32_t ttl[8];  /* their TTLs */
	uint8_t last[8];  /* an A record's last octet */
	uint8_t wire[1232];
	size_t len;
};

static struct reply ask(const struct serving_view *v, const char *name,
			uint16_t type)
{
	uint8_t qbuf[512] = {0};
	struct dns_query_params p = {.udp_payload = 1232};
	struct reply r = {0};
	knot_pkt_t *q = knot_pkt_new(qbuf, sizeof(qbuf), NULL);
	knot_dname_t *qname = knot_dname_from_str_alloc(name);
	knot_wire_set_id(q->wire, 7);
	assert_int_equal(knot_pkt_put_question(q, qname, KNOT_CLASS_IN, type),
			 0);
	free(qname);
	r.len = dns_query_answer_from(v, &p, NULL, q->wire, q->size, r.wire,
				      sizeof(r.wire));
	knot_pkt_free(q);
	assert_true(r.len >= 12);
	r.rcode = knot_wire_get_rcode(r.wire);
	knot_pkt_t *resp = knot_pkt_new(r.wire, r.len, NULL);
	assert_int_equal(knot_pkt_parse(resp, 0), 0);
	const knot_pktsection_t *an = knot_pkt_section(resp, KNOT_ANSWER);
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t k = 0; k < rr->rrs.count && r.n < 8; k++) {
			r.type[r.n] = rr->type;
			r.ttl[r.n] = rr->ttl;
			r.last[r.n] =
			    rr->type == KNOT_RRTYPE_A ? rd->data[3] : 0;
			r.n++;
			rd = knot_rdataset_next(rd);
		}
	}
	knot_pkt_free(resp);
	return r;
}

static struct serving_view *view_of(struct zone **z, size_t n)
{
	struct serving_view *v;
	assert_int_equal(serving_view_build(&v, z, n), 0);
	for (size_t i = 0; i < n; i++)
		zone_release(z[i]);
	return v;
}

static struct serving_view *build_view(const struct zone_store *s,
				       struct health *h)
{
	struct zone *z[2];
	char err[512];
	if (zone_store_build_with_health(s, ZID, healthy, h, &z[0], err,
					 sizeof(err)) != 0 ||
	    zone_store_build_with_health(s, ZID2, healthy, h, &z[1], err,
					 sizeof(err)) != 0)
		fail_msg("build: %s", err);
	return view_of(z, 2);
}

/* --- tests --- */

/* The AWS CLI file, its zone id filled in: the apex answers A with the
 * target's records and TTL; no CNAME anywhere; the listing keeps the
 * AliasTarget and format + parse gives it back. */
static void test_apex_alias(void **state)
{
	(void)state;
	struct zone_store s;
	size_t len;
	store_new(&s);
	apply_ok(
	    &s, ZID,
	    BATCH(CH("CREATE",
		     PLAIN("shop.example.com", "A", 77,
			   "192.0.2.7")) "," CH("CREATE",
						PLAIN("shop.example.com", "TXT",
						      55, "\\\"t\\\""))));
	char *file = route53_data_load("batch-alias-apex.json", &len);
	char *p = strstr(file, "SAME_ZONE_ID");
	assert_non_null(p);
	char json[1024];
	snprintf(json, sizeof(json), "%.*s%s%s", (int)(p - file), file, ZID,
		 p + strlen("SAME_ZONE_ID"));
	free(file);
	apply_ok(&s, ZID, json);

	struct serving_view *v = build_view(&s, NULL);
	struct reply r = ask(v, "example.com.", KNOT_RRTYPE_A);
	assert_int_equal(r.rcode, KNOT_RCODE_NOERROR);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.type[0], KNOT_RRTYPE_A);
	assert_int_equal(r.ttl[0], 77);
	assert_int_equal(r.last[0], 7);
	/* The alias is of type A only: TXT at the apex is NODATA. */
	r = ask(v, "example.com.", KNOT_RRTYPE_TXT);
	assert_int_equal(r.rcode, KNOT_RCODE_NOERROR);
	assert_int_equal(r.n, 0);
	serving_view_free(v);

	struct zone_store_info info;
	assert_int_equal(zone_store_get(&s, ZID, &info), 0);
	bool seen = false;
	for (size_t i = 0; i < info.nrrsets; i++) {
		const struct zone_store_rrset *set =
		    zone_store_info_rrset(&info, i);
		struct zone_store_alias a;
		if (!zone_store_rrset_alias(set, &a))
			continue;
		seen = true;
		assert_string_equal(a.zone_id, ZID);
		assert_true(a.evaluate);
		assert_int_equal(set->type, KNOT_RRTYPE_A);
	}
	assert_true(seen);
	zone_store_free(&s);
}

/* An alias of type CNAME answers the target's CNAME; an alias of type A to
 * a name whose target is itself an alias (a chain) follows it, across
 * zones, with the last target's TTL. */
static void test_cross_zone_chain(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	apply_ok(&s, ZID2,
		 BATCH(CH("CREATE",
			  PLAIN("lb.other.test", "A", 33, "198.51.100.9"))));
	apply_ok(&s, ZID,
		 BATCH(CH("CREATE", ALIAS("www.example.com", "A", ZID2,
					  "lb.other.test", "false"))));
	apply_ok(&s, ZID,
		 BATCH(CH("CREATE", ALIAS("example.com", "A", ZID,
					  "www.example.com", "false"))));
	struct serving_view *v = build_view(&s, NULL);
	for (int k = 0; k < 2; k++) {
		struct reply r = ask(v, k ? "www.example.com." : "example.com.",
				     KNOT_RRTYPE_A);
		assert_int_equal(r.n, 1);
		assert_int_equal(r.type[0], KNOT_RRTYPE_A);
		assert_int_equal(r.ttl[0], 33);
		assert_int_equal(r.last[0], 9);
	}
	serving_view_free(v);
	zone_store_free(&s);
}

/* Refused at change time, each change named: a self alias, a loop A -> B
 * -> A, a target that is not there (name, type), outside its zone, a zone
 * that does not exist, TTL or records beside AliasTarget, multivalue. */
static void test_refusals(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	refused(&s, ZID,
		BATCH(CH("CREATE", ALIAS("a.example.com", "A", ZID,
					 "a.example.com", "false"))),
		"change 0: Tried to create an alias that targets "
		"a.example.com., type A in zone " ZID
		", but the alias would form a loop");
	apply_ok(
	    &s, ZID,
	    BATCH(CH("CREATE", PLAIN("b.example.com", "A", 60, "192.0.2.1"))));
	apply_ok(&s, ZID,
		 BATCH(CH("CREATE", ALIAS("a.example.com", "A", ZID,
					  "b.example.com", "false"))));
	refused(&s, ZID,
		BATCH(CH("DELETE",
			 PLAIN("b.example.com", "A", 60,
			       "192.0.2.1")) "," CH("CREATE",
						    ALIAS("b.example.com", "A",
							  ZID, "a.example.com",
							  "false"))),
		"change 1: Tried to create an alias that targets "
		"a.example.com., type A in zone " ZID
		", but the alias would form a loop");
	refused(&s, ZID,
		BATCH(CH("CREATE", ALIAS("c.example.com", "AAAA", ZID,
					 "b.example.com", "false"))),
		"change 0: Tried to create an alias that targets "
		"b.example.com., type AAAA in zone " ZID
		", but that target was not found");
	refused(&s, ZID,
		BATCH(CH("CREATE", ALIAS("c.example.com", "A", ZID2,
					 "b.example.com", "false"))),
		"but the alias target name does not lie within the target "
		"zone");
	refused(
	    &s, ZID,
	    BATCH(CH("CREATE", ALIAS("c.example.com", "A", "Z99999999999999",
				     "b.example.com", "false"))),
	    "but the target zone was not found");
	refused(&s, ZID,
		BATCH(CH("CREATE",
			 "\"TTL\": 60, " ALIAS("c.example.com", "A", ZID,
					       "b.example.com", "false"))),
		"neither TTL nor ResourceRecords");
	refused(&s, ZID,
		BATCH(CH("CREATE", "\"SetIdentifier\": \"m\", "
				   "\"MultiValueAnswer\": true, " ALIAS(
				       "c.example.com", "A", ZID,
				       "b.example.com", "false"))),
		"Multivalue answer routing is not supported for alias");
	zone_store_free(&s);
}

/* A failover PRIMARY alias with EvaluateTargetHealth fails over when its
 * target's health check fails, and comes back; without
 * EvaluateTargetHealth it stays. */
static void test_evaluate_target_health(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	apply_ok(
	    &s, ZID2,
	    BATCH(CH("CREATE",
		     PLAIN("lb.other.test", "A", 30,
			   "198.51.100.1") ","
					   "\"HealthCheckId\": \"hc-lb\"")));
	apply_ok(
	    &s, ZID,
	    BATCH(CH(
		"CREATE",
		"\"SetIdentifier\": \"p\", \"Failover\": "
		"\"PRIMARY\", " ALIAS(
		    "example.com", "A", ZID2, "lb.other.test",
		    "true")) "," CH("CREATE",
				    "\"SetIdentifier\": \"s\", \"Failover\": "
				    "\"SECONDARY\", " PLAIN(
					"example.com", "A", 40,
					"192.0.2.2")) "," CH("CREATE",
							     "\"SetIdentifier\""
							     ": \"p\", "
							     "\"Failover\": "
							     "\"PRIMARY\","
							     " " ALIAS(
								 "noeval."
								 "example.com",
								 "A", ZID2,
								 "lb.other."
								 "test",
								 "false")) "," CH("CREATE",
										  "\"SetIdentifier\": \"s\", \"Failover\": "
										  "\"SECONDARY\", " PLAIN(
										      "noeval.example.com",
										      "A",
										      40,
										      "192.0.2.2"))));
	struct health up = {{NULL}}, down = {{"hc-lb"}};
	struct serving_view *v = build_view(&s, &up);
	struct reply r = ask(v, "example.com.", KNOT_RRTYPE_A);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.last[0], 1);
	assert_int_equal(r.ttl[0], 30);
	serving_view_free(v);

	v = build_view(&s, &down);
	r = ask(v, "example.com.", KNOT_RRTYPE_A);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.last[0], 2);
	assert_int_equal(r.ttl[0], 40);
	r = ask(v, "noeval.example.com.", KNOT_RRTYPE_A);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.last[0], 1);
	serving_view_free(v);
	zone_store_free(&s);
}

/* The typed log form: AliasTarget survives encode/decode, with command
 * version 3. */
static void test_command_typed(void **state)
{
	(void)state;
	static const uint8_t owner[] = "\x07"
				       "example"
				       "\x03"
				       "com";
	static const uint8_t target[] = "\x04"
					"shop"
					"\x07"
					"example"
					"\x03"
					"com";
	struct rrset_change c = {.action = CHANGE_UPSERT};
	c.set.owner = owner;
	c.set.owner_len = sizeof(owner);
	c.set.type = KNOT_RRTYPE_A;
	c.set.alias_zone_id = ZID;
	c.set.alias_name = target;
	c.set.alias_name_len = sizeof(target);
	c.set.alias_evaluate = true;
	struct command_change_rrsets cc = {.zone_id = ZID, .change_id = "C1"};
	cc.batch.changes = &c;
	cc.batch.nchanges = 1;
	struct command_payload p;
	struct command out;
	assert_int_equal(command_encode_change_rrsets(&cc, &p), 0);
	assert_int_equal(command_peek_version(p.data, p.len),
			 COMMAND_VERSION_GEO_ALIAS);
	assert_int_equal(command_decode(p.type, p.data, p.len, &out), 0);
	const struct rrset_data *d = &out.u.change_rrsets.batch.changes[0].set;
	assert_string_equal(d->alias_zone_id, ZID);
	assert_int_equal(d->alias_name_len, sizeof(target));
	assert_memory_equal(d->alias_name, target, sizeof(target));
	assert_true(d->alias_evaluate);
	command_free(&out);
	command_payload_clear(&p);
}

/* Incremental builds answer as full ones after the target changes, in
 * the same zone and in another. */
static void test_incremental(void **state)
{
	(void)state;
	struct zone_store s;
	struct zone *inc[2], *next;
	char err[512];
	store_new(&s);
	apply_ok(&s, ZID2,
		 BATCH(CH("CREATE",
			  PLAIN("lb.other.test", "A", 30, "198.51.100.1"))));
	apply_ok(
	    &s, ZID,
	    BATCH(CH(
		"CREATE",
		PLAIN("t.example.com", "A", 30,
		      "192.0.2.1")) "," CH("CREATE",
					   ALIAS(
					       "example.com", "A", ZID,
					       "t.example.com",
					       "false")) "," CH("CREATE",
								ALIAS(
								    "x.example."
								    "com",
								    "A", ZID2,
								    "lb.other."
								    "test",
								    "false"))));
	const char *ids[2] = {ZID, ZID2};
	for (int k = 0; k < 2; k++)
		assert_int_equal(zone_store_build_update(&s, ids[k], NULL, NULL,
							 NULL, &inc[k], err,
							 sizeof(err)),
				 0);
	apply_ok(
	    &s, ZID,
	    BATCH(CH("UPSERT", PLAIN("t.example.com", "A", 31, "192.0.2.5"))));
	apply_ok(&s, ZID2,
		 BATCH(CH("UPSERT",
			  PLAIN("lb.other.test", "A", 32, "198.51.100.6"))));
	for (int k = 0; k < 2; k++) {
		assert_int_equal(zone_store_build_update(&s, ids[k], inc[k],
							 NULL, NULL, &next, err,
							 sizeof(err)),
				 0);
		zone_release(inc[k]);
		inc[k] = next;
	}
	struct serving_view *vi = view_of(inc, 2);
	struct serving_view *vf = build_view(&s, NULL);
	static const char *const names[] = {"example.com.", "x.example.com.",
					    "t.example.com.", "lb.other.test."};
	for (size_t i = 0; i < 4; i++) {
		struct reply a = ask(vi, names[i], KNOT_RRTYPE_A);
		struct reply b = ask(vf, names[i], KNOT_RRTYPE_A);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.wire, b.wire, a.len);
		assert_int_equal(a.n, 1);
	}
	assert_int_equal(ask(vf, "example.com.", KNOT_RRTYPE_A).last[0], 5);
	assert_int_equal(ask(vf, "x.example.com.", KNOT_RRTYPE_A).ttl[0], 32);
	serving_view_free(vi);
	serving_view_free(vf);
	zone_store_free(&s);
}

/* The branch test-answer names: matched from the answer's records. */
static void branch(const struct zone_store *s, struct health *h,
		   const char *name, const char *want)
{
	struct serving_view *v = build_view(s, h);
	struct reply r = ask(v, name, KNOT_RRTYPE_A);
	knot_pkt_t *resp = knot_pkt_new(r.wire, r.len, NULL);
	assert_int_equal(knot_pkt_parse(resp, 0), 0);
	const knot_pktsection_t *an = knot_pkt_section(resp, KNOT_ANSWER);
	struct rrset_rdata rd[8];
	size_t n = 0;
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		knot_rdata_t *d = rr->rrs.rdata;
		for (uint16_t k = 0; k < rr->rrs.count && n < 8; k++) {
			rd[n++] = (struct rrset_rdata){d->data, d->len};
			d = knot_rdataset_next(d);
		}
	}
	uint8_t wire[KNOT_DNAME_MAXLEN];
	assert_non_null(knot_dname_from_str(wire, name, sizeof(wire)));
	char out[512];
	assert_int_equal(zone_store_answer_branch(s, ZID, wire, KNOT_RRTYPE_A,
						  rd, n, healthy, h, out,
						  sizeof(out)),
			 0);
	assert_string_equal(out, want);
	knot_pkt_free(resp);
	serving_view_free(v);
}

static void test_answer_branch(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	apply_ok(
	    &s, ZID2,
	    BATCH(CH("CREATE",
		     PLAIN("lb.other.test", "A", 30,
			   "198.51.100.1") ","
					   "\"HealthCheckId\": \"hc-lb\"")));
	apply_ok(
	    &s, ZID,
	    BATCH(
		CH("CREATE", PLAIN("t.example.com", "A", 30, "192.0.2.9")) "," CH(
		    "CREATE",
		    ALIAS("example.com", "A", ZID, "t.example.com",
			  "false")) "," CH("CREATE",
					   "\"SetIdentifier\": \"p\", "
					   "\"Failover\": "
					   "\"PRIMARY\", " ALIAS(
					       "fo.example.com", "A", ZID2,
					       "lb.other.test",
					       "true")) "," CH("CREATE",
							       "\"SetIdentifier"
							       "\": \"s\", "
							       "\"Failover\": "
							       "\"SECONDARY\","
							       " " PLAIN(
								   "fo.example."
								   "com",
								   "A", 40,
								   "192.0.2."
								   "2"))));
	struct health up = {{NULL}}, down = {{"hc-lb"}};
	branch(&s, &up, "t.example.com.", "simple");
	branch(&s, &up, "example.com.",
	       "alias t.example.com. (" ZID ") > simple");
	branch(&s, &up, "fo.example.com.",
	       "failover PRIMARY \"p\" alias lb.other.test. (" ZID2 ")");
	branch(&s, &down, "fo.example.com.", "failover SECONDARY \"s\"");
	zone_store_free(&s);
}

static const char *query_of(void *ctx, const char *name)
{
	const char *const *kv = ctx;
	for (size_t i = 0; kv[i] != NULL; i += 2) {
		if (strcmp(kv[i], name) == 0)
			return kv[i + 1];
	}
	return NULL;
}

/* GET /2013-04-01/testdnsanswer routes to TestDNSAnswer with its query
 * parameters; the required ones missing is InvalidInput. */
static void test_route(void **state)
{
	(void)state;
	static const char *const full[] = {
	    "hostedzoneid",	   "/hostedzone/" ZID, "recordname",
	    "example.com",	   "recordtype",       "A",
	    "edns0clientsubnetip", "198.51.100.7",     NULL};
	static const char *const none[] = {"recordname", "x", NULL};
	struct r53_route rt;
	r53_route_parse("GET", "/2013-04-01/testdnsanswer", query_of,
			(void *)full, &rt);
	assert_int_equal(rt.op, R53_TEST_DNS_ANSWER);
	assert_string_equal(r53_op_name(rt.op), "TestDNSAnswer");
	assert_null(rt.invalid);
	assert_string_equal(rt.zone_id, ZID);
	assert_string_equal(rt.record_name, "example.com");
	assert_string_equal(rt.ecs_ip, "198.51.100.7");
	assert_null(rt.ecs_mask);
	r53_route_parse("GET", "/2013-04-01/testdnsanswer", query_of,
			(void *)none, &rt);
	assert_int_equal(rt.op, R53_TEST_DNS_ANSWER);
	assert_non_null(rt.invalid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_apex_alias),
	    cmocka_unit_test(test_cross_zone_chain),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_evaluate_target_health),
	    cmocka_unit_test(test_command_typed),
	    cmocka_unit_test(test_incremental),
	    cmocka_unit_test(test_answer_branch),
	    cmocka_unit_test(test_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
