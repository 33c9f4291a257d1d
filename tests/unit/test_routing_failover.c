/* Failover routing resolved when a zone is built: the selection truth table
 * (primary healthy / unhealthy x secondary healthy / unhealthy / without a
 * check), fail open, each answer with its own TTL; and through the FSM:
 * votes of a majority flip the primary's check, the zone using it is
 * marked dirty, and the rebuilt zone answers the secondary (a serving view
 * asked with dns_query_answer); votes back give the primary again; a
 * single dissenting node flips nothing and marks nothing. */
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
#include "node/control/command_text.h"
#include "node/control/control_fsm.h"
#include "node/control/zone_store.h"
#include "node/dns/query.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"

#define ZID  "Z0123456789ABC"
#define ZID2 "Z0123456789ABD"

static const char *const NS[] = {"ns1.quorum53.test", "ns2.quorum53.test."};

/* --- asking a compiled zone --- */

struct answer {
	int rcode;
	uint16_t ancount;
	uint32_t ttl; /* of the first answer record */
	uint8_t a[4]; /* its RDATA when it is an A record */
};

static struct answer ask(struct zone *z, const char *name, uint16_t type)
{
	struct serving_view *view;
	uint8_t qbuf[512] = {0}, out[1232];
	struct dns_query_params p = {.udp_payload = 1232};
	struct answer r = {0};

	assert_int_equal(serving_view_build(&view, &z, 1), 0);
	knot_pkt_t *q = knot_pkt_new(qbuf, sizeof(qbuf), NULL);
	knot_dname_t *qname = knot_dname_from_str_alloc(name);
	knot_wire_set_id(q->wire, 7);
	assert_int_equal(knot_pkt_put_question(q, qname, KNOT_CLASS_IN, type),
			 0);
	free(qname);
	size_t n =
	    dns_query_answer(view, &p, q->wire, q->size, out, sizeof(out));
	knot_pkt_free(q);
	serving_view_free(view);
	assert_true(n >= 12);
	knot_pkt_t *resp = knot_pkt_new(out, n, NULL);
	assert_int_equal(knot_pkt_parse(resp, 0), 0);
	r.rcode = knot_wire_get_rcode(out);
	r.ancount = knot_wire_get_ancount(out);
	const knot_pktsection_t *an = knot_pkt_section(resp, KNOT_ANSWER);
	if (an->count > 0) {
		const knot_rrset_t *rr = knot_pkt_rr(an, 0);
		r.ttl = rr->ttl;
		if (rr->type == KNOT_RRTYPE_A)
			memcpy(r.a, rr->rrs.rdata->data, 4);
	}
	knot_pkt_free(resp);
	return r;
}

/* --- the store on its own --- */

/* Health of the two checks for zone_store_build_with_health. */
struct health {
	bool p;
	bool s;
};

static bool lookup(void *ctx, const char *id)
{
	const struct health *h = ctx;
	if (strcmp(id, "hc-p") == 0)
		return h->p;
	if (strcmp(id, "hc-s") == 0)
		return h->s;
	return true;
}

static bool exists(void *ctx, const char *id)
{
	(void)ctx;
	return strcmp(id, "hc-p") == 0 || strcmp(id, "hc-s") == 0;
}

static void apply(struct zone_store *s, const char *json)
{
	struct change_batch *b;
	struct change_batch_typed t = {0};
	char err[2048];
	if (change_batch_parse(&b, json, strlen(json), err, sizeof(err)) != 0 ||
	    change_batch_compile(b, &t) != 0 ||
	    zone_store_apply_with_checks(s, ZID, &t.batch, exists, NULL, err,
					 sizeof(err)) != 0)
		fail_msg("%s\n%s", err, json);
	change_batch_typed_free(&t);
	change_batch_free(b);
}

#define CH(action, rrs)                                                        \
	"{\"Action\": \"" action "\", \"ResourceRecordSet\": {" rrs "}}"
#define BATCH(changes) "{\"Changes\": [" changes "]}"
#define MEMBER(name, ttl, id, role, value)                                     \
	"\"Name\": \"" name "\", \"Type\": \"A\", \"TTL\": " #ttl              \
	", \"SetIdentifier\": \"" id "\", \"Failover\": \"" role               \
	"\", \"ResourceRecords\": [{\"Value\": \"" value "\"}]"
#define HC(id) ", \"HealthCheckId\": \"" id "\""

static const uint8_t IP_P[4] = {192, 0, 2, 51}, IP_S[4] = {192, 0, 2, 52};

static struct answer build_ask(const struct zone_store *s, struct health h,
			       const char *name)
{
	struct zone *z;
	char err[512];
	if (zone_store_build_with_health(s, ZID, lookup, &h, &z, err,
					 sizeof(err)) != 0)
		fail_msg("build: %s", err);
	struct answer a = ask(z, name, KNOT_RRTYPE_A);
	zone_release(z);
	return a;
}

static void expect(struct answer a, const uint8_t *ip, uint32_t ttl)
{
	assert_int_equal(a.rcode, 0);
	assert_int_equal(a.ancount, 1);
	assert_memory_equal(a.a, ip, 4);
	assert_int_equal(a.ttl, ttl);
}

static void test_truth_table(void **state)
{
	struct zone_store s;
	char err[512];
	struct zone_store_create_params p = {.id = ZID,
					     .name = "example.com",
					     .nameservers = NS,
					     .nnameservers = 2};

	(void)state;
	zone_store_init(&s);
	assert_int_equal(zone_store_create(&s, &p, err, sizeof(err)), 0);
	/* shop: secondary with a check; bare: secondary without one. */
	apply(
	    &s,
	    BATCH(
		CH("CREATE", MEMBER("shop.example.com", 30, "p", "PRIMARY", "192.0.2.51") HC("hc-p")) "," CH(
		    "CREATE",
		    MEMBER("shop.example.com", 60, "s", "SECONDARY",
			   "192.0.2.52")
			HC("hc-s")) "," CH("CREATE",
					   MEMBER(
					       "bare.example.com",
					       30,
					       "p", "PRIMARY",
					       "192.0.2.51")
					       HC("hc-p")) "," CH("CREATE",
								  MEMBER(
								      "bare."
								      "example."
								      "com",
								      60, "s",
								      "SECONDAR"
								      "Y",
								      "192.0.2."
								      "52"))));
	static const struct {
		bool p, s;
		bool primary_shop; /* secondary with a check */
		bool primary_bare; /* secondary without one */
	} table[] = {
	    {true, true, true, true},
	    {true, false, true, true},
	    {false, true, false, false},
	    {false, false, true, false}, /* shop: both down, fail open */
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct health h = {table[i].p, table[i].s};
		struct answer a = build_ask(&s, h, "shop.example.com");
		if (table[i].primary_shop)
			expect(a, IP_P, 30);
		else
			expect(a, IP_S, 60); /* each set keeps its TTL */
		a = build_ask(&s, h, "bare.example.com");
		if (table[i].primary_bare)
			expect(a, IP_P, 30);
		else
			expect(a, IP_S, 60);
	}
	/* NULL lookup: everything healthy. */
	struct zone *z;
	assert_int_equal(zone_store_build(&s, ZID, &z, err, sizeof(err)), 0);
	expect(ask(z, "shop.example.com", KNOT_RRTYPE_A), IP_P, 30);
	zone_release(z);

	/* Groups of one, and a plain set with a check: every member down is
	 * answered as if all were up. */
	apply(
	    &s,
	    BATCH(CH(
		"CREATE",
		MEMBER("lonep.example.com", 10, "p", "PRIMARY", "192.0.2.51")
		    HC("hc-p")) "," CH("CREATE",
				       MEMBER("lones.example.com", 20, "s",
					      "SECONDARY", "192.0.2.52")
					   HC("hc-s")) "," CH("CREATE",
							      "\"Name\": "
							      "\"plain.example."
							      "com\", "
							      "\"Type\": "
							      "\"A\", "
							      "\"TTL\": 5, "
							      "\"ResourceRecord"
							      "s\": "
							      "[{\"Value\": "
							      "\"192.0.2.51\"}"
							      "]" HC("hc-p"))));
	struct health down = {false, false};
	expect(build_ask(&s, down, "lonep.example.com"), IP_P, 10);
	expect(build_ask(&s, down, "lones.example.com"), IP_S, 20);
	expect(build_ask(&s, down, "plain.example.com"), IP_P, 5);
	/* A group never answers with two sets. */
	struct health up = {true, true};
	assert_int_equal(build_ask(&s, up, "shop.example.com").ancount, 1);
	zone_store_free(&s);
}

/* --- through the FSM --- */

static struct command_payload p_node(uint64_t id)
{
	char raft[64];
	struct command_set_node c = {
	    .node_id = id, .raft_address = raft, .time_ms = id};
	struct command_payload p;
	snprintf(raft, sizeof(raft), "tcp://10.0.0.%u:7000", (unsigned)id);
	assert_int_equal(command_encode_set_node(&c, &p), 0);
	return p;
}

static struct command_payload p_zone(const char *id, const char *name)
{
	struct command_create_hosted_zone c = {
	    .id = id, .name = name, .nameservers = NS, .n_nameservers = 2};
	struct command_payload p;
	assert_int_equal(command_encode_create_hosted_zone(&c, &p), 0);
	return p;
}

static struct command_payload p_batch(const char *zone, const char *change,
				      const char *json)
{
	struct command_payload p;
	char err[2048];
	if (command_text_change_rrsets(zone, change, json, strlen(json), 0, &p,
				       err, sizeof(err)) != 0)
		fail_msg("%s\n%s", err, json);
	return p;
}

static struct command_payload p_check(const char *id, const char *json)
{
	struct command_payload p;
	char err[512];
	if (command_text_create_health_check(id, NULL, json, strlen(json), 0,
					     &p, err, sizeof(err)) != 0)
		fail_msg("%s\n%s", err, json);
	return p;
}

static struct command_payload p_check_update(const char *id, const char *json)
{
	struct command_payload p;
	char err[512];
	if (command_text_update_health_check(id, 0, json, strlen(json), 0, &p,
					     err, sizeof(err)) != 0)
		fail_msg("%s\n%s", err, json);
	return p;
}

static struct command_payload p_check_delete(const char *id)
{
	struct command_delete_health_check c = {.id = id};
	struct command_payload p;
	assert_int_equal(command_encode_delete_health_check(&c, &p), 0);
	return p;
}

static struct command_payload p_vote(uint64_t member, const char *check,
				     bool healthy)
{
	struct command_health_vote c = {.member_id = member,
					.check_id = check,
					.healthy = healthy,
					.reason = healthy ? "ok" : "down"};
	struct command_payload p;
	assert_int_equal(command_encode_health_vote(&c, &p), 0);
	return p;
}

static struct command_payload p_node_remove(uint64_t id)
{
	struct command_remove_node c = {.node_id = id};
	struct command_payload p;
	assert_int_equal(command_encode_remove_node(&c, &p), 0);
	return p;
}

/* Applies p; returns the code, with the error name in name (if given). */
static int32_t run(struct control_fsm *f, struct command_payload p, char *name,
		   size_t namelen, char *msg, size_t msglen)
{
	struct q53_fsm *b = control_fsm_base(f);
	int32_t code;
	uint8_t *out;
	size_t len;
	struct command_result r;

	assert_int_equal(b->apply(b, p.type, p.data, p.len, &code, &out, &len),
			 0);
	assert_int_equal(command_result_decode(out, len, &r), 0);
	if (name != NULL)
		snprintf(name, namelen, "%s", r.error_name);
	if (msg != NULL)
		snprintf(msg, msglen, "%s", r.error_message);
	command_result_free(&r);
	raft_free(out);
	command_payload_clear(&p);
	return code;
}

static void ok(struct control_fsm *f, struct command_payload p)
{
	char name[64], msg[1024];
	if (run(f, p, name, sizeof(name), msg, sizeof(msg)) != 0)
		fail_msg("refused: %s: %s", name, msg);
}

static void refused(struct control_fsm *f, struct command_payload p,
		    const char *name, const char *needle)
{
	char n[64], msg[1024];
	uint64_t applied = control_fsm_applied(f);
	assert_int_not_equal(run(f, p, n, sizeof(n), msg, sizeof(msg)), 0);
	assert_string_equal(n, name);
	if (strstr(msg, needle) == NULL)
		fail_msg("'%s' lacks '%s'", msg, needle);
	assert_int_equal(control_fsm_applied(f), applied);
}

/* The marks since the last call: 1 when zone_id (and nothing else) is
 * marked, 0 when nothing is; health: some status changed. */
static int dirty(struct control_fsm *f, const char *zone_id, bool *health)
{
	struct control_fsm_dirty d;
	int n;
	control_fsm_take_dirty(f, &d);
	assert_false(d.all);
	n = (int)d.n_zone_ids;
	if (n > 0) {
		assert_int_equal(n, 1);
		assert_string_equal(d.zone_ids[0], zone_id);
	}
	if (health != NULL)
		*health = d.health;
	control_fsm_dirty_clear(&d);
	return n;
}

static struct answer fsm_ask(struct control_fsm *f, const char *name)
{
	struct zone *z;
	char err[512];
	if (control_fsm_build_zone(f, ZID, &z, err, sizeof(err)) != 0)
		fail_msg("build: %s", err);
	struct answer a = ask(z, name, KNOT_RRTYPE_A);
	zone_release(z);
	return a;
}

static char *load_failover_file(size_t *len)
{
	char path[4096];
	const char *slash = strrchr(__FILE__, '/');
	int n = slash ? (int)(slash - __FILE__) : 1;
	snprintf(path, sizeof(path), "%.*s/data/route53/batch-failover.json", n,
		 slash ? __FILE__ : ".");
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	char *buf = malloc(1 << 16);
	*len = fread(buf, 1, (1 << 16) - 1, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

#define HC_HTTP                                                                \
	"{\"IPAddress\": \"127.0.0.1\", \"Port\": 8080, \"Type\": \"HTTP\"}"

static void test_fsm_failover(void **state)
{
	struct control_fsm *f;
	bool health;
	size_t len;
	const char *zones[2];

	(void)state;
	assert_int_equal(control_fsm_new(&f), 0);
	ok(f, p_node(1));
	ok(f, p_node(2));
	ok(f, p_node(3));
	ok(f, p_zone(ZID, "example.com"));
	ok(f, p_zone(ZID2, "example.net"));
	/* The test data file: its health check must exist first. */
	char *json = load_failover_file(&len);
	refused(f, p_batch(ZID, "C1", json), "NoSuchHealthCheck",
		"change 0: no health check found with ID: HC_PRIMARY_ID");
	ok(f, p_check("HC_PRIMARY_ID", HC_HTTP));
	ok(f, p_batch(ZID, "C1", json));
	free(json);
	assert_int_equal(control_fsm_zones_using(f, "HC_PRIMARY_ID", zones, 2),
			 1);
	assert_string_equal(zones[0], ZID);
	struct control_fsm_dirty d;
	control_fsm_take_dirty(f, &d); /* everything so far */
	control_fsm_dirty_clear(&d);
	expect(fsm_ask(f, "shop.example.com"), IP_P, 30);

	/* One node alone: no flip, nothing marked. */
	ok(f, p_vote(1, "HC_PRIMARY_ID", false));
	assert_int_equal(dirty(f, ZID, &health), 0);
	assert_false(health);
	expect(fsm_ask(f, "shop.example.com"), IP_P, 30);
	/* A majority: the check fails, the zone is marked, the rebuilt zone
	 * answers the secondary. */
	ok(f, p_vote(2, "HC_PRIMARY_ID", false));
	assert_int_equal(dirty(f, ZID, &health), 1);
	assert_true(health);
	expect(fsm_ask(f, "shop.example.com"), IP_S, 30);
	/* The third node dissenting changes nothing. */
	ok(f, p_vote(3, "HC_PRIMARY_ID", true));
	assert_int_equal(dirty(f, ZID, NULL), 0);
	expect(fsm_ask(f, "shop.example.com"), IP_S, 30);
	/* Votes back: the primary again. */
	ok(f, p_vote(1, "HC_PRIMARY_ID", true));
	assert_int_equal(dirty(f, ZID, &health), 1);
	expect(fsm_ask(f, "shop.example.com"), IP_P, 30);

	/* Member removal and config updates flip through the same path. */
	ok(f, p_vote(1, "HC_PRIMARY_ID", false));
	ok(f, p_vote(2, "HC_PRIMARY_ID", false));
	assert_int_equal(dirty(f, ZID, NULL), 1);
	expect(fsm_ask(f, "shop.example.com"), IP_S, 30);
	ok(f, p_node_remove(1)); /* 1 of 2 healthy: still down */
	assert_int_equal(dirty(f, ZID, NULL), 0);
	ok(f, p_node_remove(2)); /* 1 of 1 healthy: up */
	assert_int_equal(dirty(f, ZID, NULL), 1);
	expect(fsm_ask(f, "shop.example.com"), IP_P, 30);
	ok(f, p_vote(3, "HC_PRIMARY_ID", false)); /* 0 of 1 */
	assert_int_equal(dirty(f, ZID, NULL), 1);
	expect(fsm_ask(f, "shop.example.com"), IP_S, 30);
	ok(f, p_check_update("HC_PRIMARY_ID",
			     "{\"IPAddress\": \"127.0.0.1\", \"Port\": 8080, "
			     "\"Type\": \"HTTP\", \"Disabled\": true}"));
	assert_int_equal(dirty(f, ZID, NULL), 1);
	expect(fsm_ask(f, "shop.example.com"), IP_P, 30);
	ok(f, p_check_update("HC_PRIMARY_ID", HC_HTTP));
	assert_int_equal(dirty(f, ZID, NULL), 1);

	/* Snapshot and restore: the same answers, the same index. */
	struct q53_fsm *b = control_fsm_base(f);
	uint8_t *snap;
	size_t snap_len;
	struct control_fsm *g;
	assert_int_equal(b->snapshot(b, &snap, &snap_len), 0);
	assert_int_equal(control_fsm_new(&g), 0);
	struct q53_fsm *gb = control_fsm_base(g);
	assert_int_equal(gb->restore(gb, snap, snap_len), 0);
	raft_free(snap);
	expect(fsm_ask(g, "shop.example.com"), IP_S, 30);
	assert_int_equal(control_fsm_zones_using(g, "HC_PRIMARY_ID", zones, 2),
			 1);
	control_fsm_take_dirty(g, &d);
	assert_true(d.all);
	control_fsm_dirty_clear(&d);
	/* A new member: 1 of 2 reporting is too few, healthy again. */
	ok(g, p_node(1));
	assert_int_equal(dirty(g, ZID, NULL), 1);
	expect(fsm_ask(g, "shop.example.com"), IP_P, 30);
	ok(g, p_vote(1, "HC_PRIMARY_ID", false));
	assert_int_equal(dirty(g, ZID, NULL), 1);
	expect(fsm_ask(g, "shop.example.com"), IP_S, 30);
	ok(g, p_vote(3, "HC_PRIMARY_ID", true)); /* 1 of 2: no majority */
	assert_int_equal(dirty(g, ZID, NULL), 0);
	ok(g, p_vote(1, "HC_PRIMARY_ID", true));
	assert_int_equal(dirty(g, ZID, NULL), 1);
	expect(fsm_ask(g, "shop.example.com"), IP_P, 30);
	control_fsm_free(g);

	/* A check in use cannot go; once the sets are gone it can. A second
	 * zone using the check is marked too. */
	refused(f, p_check_delete("HC_PRIMARY_ID"), "HealthCheckInUse",
		"used by record sets of hosted zone " ZID);
	ok(f, p_batch(
		  ZID2, "C2",
		  BATCH(CH("CREATE", "\"Name\": \"www.example.net\", \"Type\": "
				     "\"A\", \"TTL\": 5, \"ResourceRecords\": "
				     "[{\"Value\": \"192.0.2.1\"}]" HC(
					 "HC_PRIMARY_ID")))));
	assert_int_equal(control_fsm_zones_using(f, "HC_PRIMARY_ID", zones, 2),
			 2);
	assert_string_equal(zones[1], ZID2);
	control_fsm_take_dirty(f, &d);
	control_fsm_dirty_clear(&d);
	ok(f, p_node(1));
	ok(f, p_vote(1, "HC_PRIMARY_ID", true));
	ok(f, p_vote(3, "HC_PRIMARY_ID", true));
	control_fsm_take_dirty(f, &d);
	assert_int_equal(d.n_zone_ids, 2);
	control_fsm_dirty_clear(&d);
	ok(f, p_batch(ZID, "C3",
		      BATCH(CH("DELETE",
			       MEMBER("shop.example.com", 30, "shop-primary",
				      "PRIMARY", "192.0.2.51")
				   HC("HC_PRIMARY_ID")))));
	refused(f, p_check_delete("HC_PRIMARY_ID"), "HealthCheckInUse", ZID2);
	ok(f, p_batch(ZID2, "C4",
		      "{\"Changes\": [{\"Action\": \"UPSERT\", "
		      "\"ResourceRecordSet\": {\"Name\": "
		      "\"www.example.net\", \"Type\": \"A\", "
		      "\"TTL\": 5, \"ResourceRecords\": "
		      "[{\"Value\": \"192.0.2.1\"}]}}]}"));
	assert_int_equal(control_fsm_zones_using(f, "HC_PRIMARY_ID", zones, 2),
			 0);
	/* Two sets of one zone naming the check: removing one keeps the
	 * zone a user until the other goes too. */
	ok(f,
	   p_batch(
	       ZID2, "C5",
	       BATCH(CH(
		   "CREATE",
		   "\"Name\": \"a.example.net\", \"Type\": "
		   "\"A\", \"TTL\": 5, \"ResourceRecords\": "
		   "[{\"Value\": \"192.0.2.2\"}]" HC(
		       "HC_PRIMARY_ID")) "," CH("CREATE",
						"\"Name\": \"b.example.net\", "
						"\"Type\": "
						"\"A\", \"TTL\": 5, "
						"\"ResourceRecords\": "
						"[{\"Value\": "
						"\"192.0.2.3\"}]" HC(
						    "HC_PRIMARY_ID")))));
	assert_int_equal(control_fsm_zones_using(f, "HC_PRIMARY_ID", zones, 2),
			 1);
	ok(f,
	   p_batch(ZID2, "C6",
		   BATCH(CH("DELETE", "\"Name\": \"a.example.net\", \"Type\": "
				      "\"A\", \"TTL\": 5, \"ResourceRecords\": "
				      "[{\"Value\": \"192.0.2.2\"}]" HC(
					  "HC_PRIMARY_ID")))));
	refused(f, p_check_delete("HC_PRIMARY_ID"), "HealthCheckInUse", ZID2);
	ok(f,
	   p_batch(ZID2, "C7",
		   BATCH(CH("UPSERT", "\"Name\": \"b.example.net\", \"Type\": "
				      "\"A\", \"TTL\": 5, \"ResourceRecords\": "
				      "[{\"Value\": \"192.0.2.3\"}]"))));
	assert_int_equal(control_fsm_zones_using(f, "HC_PRIMARY_ID", zones, 2),
			 0);
	ok(f, p_check_delete("HC_PRIMARY_ID"));
	control_fsm_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_truth_table),
	    cmocka_unit_test(test_fsm_failover),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
