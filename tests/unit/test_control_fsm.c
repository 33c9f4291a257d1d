/* The control FSM (node/control/control_fsm.h): every command applied and
 * rejected, a change batch answered by the serving view built from the
 * store, health decisions from member votes, snapshot / restore byte for
 * byte, garbage snapshots, and allocation failures at every point of apply
 * (raft_heap_set for the FSM's memory, json_set_alloc_funcs for the JSON
 * parsers the upgrade module runs) leaving the state unchanged.
 *
 * Commands are written as the previous release wrote them (JSON, zone
 * text) and applied through the upgrade module (node/control/upgrade.h),
 * which parses them as the serving node parses requests and hands the
 * typed commands to the FSM: the rejections are the ones apply gave when
 * it parsed the text. tests/unit/test_fsm_pure.c applies typed commands
 * with no parser linked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <libknot/libknot.h>
#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/command.h"
#include "node/control/command_legacy.h"
#include "node/control/command_text.h"
#include "node/control/cidr_table.h"
#include "node/control/control_fsm.h"
#include "node/control/tag_table.h"
#include "node/control/upgrade.h"
#include "node/control/zone_store.h"
#include "node/dns/query.h"
#include "node/health/check_config.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "proto/command.pb-c.h"

#define ZID  "Z0123456789ABC"
#define ZID2 "Z0123456789ABD"

static const char *const NS[] = {"ns1.quorum53.test", "ns2.quorum53.test."};

static const char BATCH_WWW[] =
    "{\"Comment\": \"www\", \"Changes\": [{\"Action\": \"CREATE\", "
    "\"ResourceRecordSet\": {\"Name\": \"www.example.com\", \"Type\": \"A\", "
    "\"TTL\": 300, \"ResourceRecords\": [{\"Value\": \"192.0.2.10\"}]}}]}";
static const char BATCH_DEL_WWW[] =
    "{\"Changes\": [{\"Action\": \"DELETE\", \"ResourceRecordSet\": "
    "{\"Name\": \"www.example.com\", \"Type\": \"A\", \"TTL\": 300, "
    "\"ResourceRecords\": [{\"Value\": \"192.0.2.10\"}]}}]}";
/* A failover group on shop.example.com: PRIMARY with hc1, SECONDARY with
 * hc4 (CREATE, or DELETE with the same values). */
#define FAILOVER_BATCH(action)                                                 \
	"{\"Changes\": [{\"Action\": \"" action "\", \"ResourceRecordSet\": "  \
	"{\"Name\": \"shop.example.com\", \"Type\": \"A\", \"TTL\": 30, "      \
	"\"SetIdentifier\": \"p\", \"Failover\": \"PRIMARY\", "                \
	"\"HealthCheckId\": \"hc1\", \"ResourceRecords\": [{\"Value\": "       \
	"\"192.0.2.51\"}]}}, {\"Action\": \"" action "\", "                    \
	"\"ResourceRecordSet\": {\"Name\": \"shop.example.com\", \"Type\": "   \
	"\"A\", \"TTL\": 60, \"SetIdentifier\": \"s\", \"Failover\": "         \
	"\"SECONDARY\", \"HealthCheckId\": \"hc4\", \"ResourceRecords\": "     \
	"[{\"Value\": \"192.0.2.52\"}]}}]}"
static const char HC_HTTP[] =
    "{\"IPAddress\": \"192.0.2.80\", \"Port\": 8080, \"Type\": \"HTTP\", "
    "\"ResourcePath\": \"/health\", \"RequestInterval\": 10}";
static const char HC_TCP[] =
    "{\"IPAddress\": \"192.0.2.81\", \"Port\": 25, \"Type\": \"TCP\"}";

/* --- allocation failures on demand (raft heap + jansson) --- */

static long fault_at = -1; /* fail the allocation with this number */
static long alloc_no;	   /* allocations since arming */
static bool fault_hit;

static bool fault_now(void)
{
	if (fault_at < 0)
		return false;
	if (alloc_no++ == fault_at) {
		fault_hit = true;
		return true;
	}
	return false;
}

static void arm(long n)
{
	fault_at = n;
	alloc_no = 0;
	fault_hit = false;
}

static void disarm(void)
{
	fault_at = -1;
}

static void *heap_malloc(void *data, size_t size)
{
	(void)data;
	return fault_now() ? NULL : malloc(size);
}

static void heap_free(void *data, void *p)
{
	(void)data;
	free(p);
}

static void *heap_calloc(void *data, size_t n, size_t size)
{
	(void)data;
	return fault_now() ? NULL : calloc(n, size);
}

static void *heap_realloc(void *data, void *p, size_t size)
{
	(void)data;
	return fault_now() ? NULL : realloc(p, size);
}

static void *heap_aligned_alloc(void *data, size_t alignment, size_t size)
{
	(void)data;
	return fault_now() ? NULL : aligned_alloc(alignment, size);
}

static void heap_aligned_free(void *data, size_t alignment, void *p)
{
	(void)data;
	(void)alignment;
	free(p);
}

static struct raft_heap test_heap = {
    .malloc = heap_malloc,
    .free = heap_free,
    .calloc = heap_calloc,
    .realloc = heap_realloc,
    .aligned_alloc = heap_aligned_alloc,
    .aligned_free = heap_aligned_free,
};

static void *json_test_malloc(size_t size)
{
	return fault_now() ? NULL : malloc(size);
}

static void json_test_free(void *p)
{
	free(p);
}

/* --- helpers --- */

struct snap {
	uint8_t *p;
	size_t len;
};

static struct snap snap(struct control_fsm *f)
{
	struct q53_fsm *b = control_fsm_base(f);
	struct snap s;

	assert_int_equal(b->snapshot(b, &s.p, &s.len), 0);
	return s;
}

static void snap_same(struct snap a, struct snap b)
{
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.p, b.p, a.len);
	raft_free(b.p);
}

/* Applies p (consumed); fills *r when r != NULL (release with
 * command_result_free). Returns the FSM's code. */
static int32_t run(struct control_fsm *f, struct command_payload p,
		   struct command_result *r)
{
	struct control_upgrade *u;
	int32_t code = 12345;
	uint8_t *out = NULL;
	size_t len = 0;

	assert_int_equal(control_upgrade_new(f, &u), 0);
	struct q53_fsm *b = control_upgrade_base(u);
	assert_int_equal(b->apply(b, p.type, p.data, p.len, &code, &out, &len),
			 0);
	control_upgrade_free(u);
	assert_non_null(out);
	if (r != NULL)
		assert_int_equal(command_result_decode(out, len, r), 0);
	raft_free(out);
	command_payload_clear(&p);
	return code;
}

/* Applies p and expects a rejection named err_name; the state must not
 * change. */
static void refused(struct control_fsm *f, struct command_payload p,
		    int32_t code, const char *err_name, const char *needle)
{
	struct command_result r;
	struct snap before = snap(f);
	uint64_t applied = control_fsm_applied(f);

	assert_int_equal(run(f, p, &r), code);
	if (strcmp(r.error_name, err_name) != 0)
		fail_msg("error %s: %s, expected %s", r.error_name,
			 r.error_message, err_name);
	if (needle != NULL && strstr(r.error_message, needle) == NULL)
		fail_msg("'%s' lacks '%s'", r.error_message, needle);
	assert_int_equal(r.index, 0);
	command_result_free(&r);
	assert_int_equal(control_fsm_applied(f), applied);
	snap_same(before, snap(f));
	raft_free(before.p);
}

static void ok(struct control_fsm *f, struct command_payload p)
{
	struct command_result r;

	if (run(f, p, &r) != 0)
		fail_msg("refused: %s: %s", r.error_name, r.error_message);
	command_result_free(&r);
}

static struct command_payload p_zone(const char *id, const char *name,
				     const char *caller, const char *change)
{
	struct command_create_hosted_zone c = {
	    .id = id,
	    .name = name,
	    .caller_reference = caller,
	    .comment = "a zone",
	    .nameservers = NS,
	    .n_nameservers = 2,
	    .change_id = change,
	    .time_ms = 1000,
	    .access_key_id = "AKIAZONECREATOR00001",
	};
	struct command_payload p;

	assert_int_equal(command_encode_create_hosted_zone(&c, &p), 0);
	return p;
}

static struct command_payload p_zone_delete(const char *id, const char *change)
{
	struct command_delete_hosted_zone c = {
	    .id = id, .change_id = change, .time_ms = 2000};
	struct command_payload p;

	assert_int_equal(command_encode_delete_hosted_zone(&c, &p), 0);
	return p;
}

static struct command_payload p_batch(const char *zone, const char *change,
				      const char *json)
{
	struct command_legacy_change_rrsets c = {
	    .zone_id = zone,
	    .change_id = change,
	    .batch_json = json,
	    .batch_len = strlen(json),
	    .time_ms = 3000,
	};
	struct command_payload p;

	assert_int_equal(command_legacy_encode_change_rrsets(&c, &p), 0);
	return p;
}

static struct command_payload p_import(const char *zone, const char *text)
{
	struct command_legacy_import_zone c = {.zone_id = zone,
					       .text = text,
					       .len = strlen(text),
					       .time_ms = 4000};
	struct command_payload p;

	assert_int_equal(command_legacy_encode_import_zone(&c, &p), 0);
	return p;
}

static struct command_payload p_check(const char *id, const char *caller,
				      const char *json)
{
	struct command_legacy_health_check c = {
	    .id = id,
	    .caller_reference = caller,
	    .config_json = json,
	    .config_len = strlen(json),
	    .time_ms = 5000,
	};
	struct command_payload p;

	assert_int_equal(command_legacy_encode_create_health_check(&c, &p), 0);
	return p;
}

static struct command_payload p_check_update(const char *id, uint64_t version,
					     const char *json)
{
	struct command_legacy_health_check c = {
	    .id = id,
	    .version = version,
	    .config_json = json,
	    .config_len = strlen(json),
	    .time_ms = 6000,
	};
	struct command_payload p;

	assert_int_equal(command_legacy_encode_update_health_check(&c, &p), 0);
	return p;
}

static struct command_payload p_check_delete(const char *id)
{
	struct command_delete_health_check c = {.id = id, .time_ms = 7000};
	struct command_payload p;

	assert_int_equal(command_encode_delete_health_check(&c, &p), 0);
	return p;
}

static struct command_payload p_vote(uint64_t member, const char *check,
				     bool healthy, uint64_t ms)
{
	struct command_health_vote c = {
	    .member_id = member,
	    .check_id = check,
	    .healthy = healthy,
	    .reason = healthy ? "HTTP 200" : "connection refused",
	    .time_ms = ms,
	};
	struct command_payload p;

	assert_int_equal(command_encode_health_vote(&c, &p), 0);
	return p;
}

static struct command_payload p_node(uint64_t id, const char *name)
{
	char raft[64];
	struct command_set_node c = {
	    .node_id = id,
	    .raft_address = raft,
	    .dns_address = "192.0.2.53:53",
	    .api_address = "tcp://192.0.2.53:8053",
	    .name = name,
	    .time_ms = 100 * id,
	};
	struct command_payload p;

	snprintf(raft, sizeof(raft), "tcp://10.0.0.%u:7000", (unsigned)id);
	assert_int_equal(command_encode_set_node(&c, &p), 0);
	return p;
}

static struct command_payload p_node_remove(uint64_t id, uint64_t ms)
{
	struct command_remove_node c = {.node_id = id, .time_ms = ms};
	struct command_payload p;

	assert_int_equal(command_encode_remove_node(&c, &p), 0);
	return p;
}

static struct command_payload p_tags(const char *type, const char *id,
				     const struct command_tag *add,
				     size_t n_add, const char *const *remove,
				     size_t n_remove)
{
	struct command_change_tags c = {
	    .resource_type = type,
	    .resource_id = id,
	    .add = add,
	    .n_add = n_add,
	    .remove_keys = remove,
	    .n_remove = n_remove,
	    .time_ms = 3000,
	};
	struct command_payload p;

	assert_int_equal(command_encode_change_tags(&c, &p), 0);
	return p;
}

static struct command_payload p_comment(const char *zone, const char *comment)
{
	struct command_update_zone_comment c = {
	    .zone_id = zone, .comment = comment, .time_ms = 3000};
	struct command_payload p;

	assert_int_equal(command_encode_update_zone_comment(&c, &p), 0);
	return p;
}

static struct control_fsm *fsm_new(void)
{
	struct control_fsm *f;

	assert_int_equal(control_fsm_new(&f), 0);
	return f;
}

static bool dirty_has(const struct control_fsm_dirty *d, const char *id)
{
	for (size_t i = 0; i < d->n_zone_ids; i++)
		if (strcmp(d->zone_ids[i], id) == 0)
			return true;
	return false;
}

/* Asks view for name/type; returns the rcode and the answer count. */
static int ask(const struct serving_view *view, const char *name, uint16_t type,
	       uint16_t *ancount, uint8_t *out)
{
	uint8_t qbuf[512] = {0};
	knot_pkt_t *q = knot_pkt_new(qbuf, sizeof(qbuf), NULL);
	knot_dname_t *qname = knot_dname_from_str_alloc(name);
	struct dns_query_params p = {.udp_payload = 1232};
	size_t n;

	knot_wire_set_id(q->wire, 7);
	assert_int_equal(knot_pkt_put_question(q, qname, KNOT_CLASS_IN, type),
			 0);
	free(qname);
	n = dns_query_answer(view, &p, q->wire, q->size, out, 1232);
	knot_pkt_free(q);
	assert_true(n >= 12);
	*ancount = knot_wire_get_ancount(out);
	return knot_wire_get_rcode(out);
}

/* --- codec --- */

static void test_command_codec(void **state)
{
	struct command_payload p = p_zone(ZID, "example.com", "ref", "C1");
	struct command c;

	(void)state;
	assert_int_equal(p.type, COMMAND_CREATE_HOSTED_ZONE);
	assert_int_equal(command_decode(p.type, p.data, p.len, &c), 0);
	assert_string_equal(c.u.create_hosted_zone.id, ZID);
	assert_string_equal(c.u.create_hosted_zone.name, "example.com");
	assert_int_equal(c.u.create_hosted_zone.n_nameservers, 2);
	assert_string_equal(c.u.create_hosted_zone.nameservers[1],
			    "ns2.quorum53.test.");
	assert_int_equal(c.u.create_hosted_zone.time_ms, 1000);
	assert_string_equal(c.u.create_hosted_zone.access_key_id,
			    "AKIAZONECREATOR00001");
	command_free(&c);
	/* A delete without a key (an entry of 0.5.0): "" (local). */
	struct command_payload d = p_zone_delete(ZID, "C2");
	assert_int_equal(command_decode(d.type, d.data, d.len, &c), 0);
	assert_string_equal(c.u.delete_hosted_zone.access_key_id, "");
	command_free(&c);
	command_payload_clear(&d);
	/* Unknown type, garbage. */
	assert_int_equal(command_decode(99, p.data, p.len, &c), Q53_EMALF);
	assert_int_equal(command_decode(COMMAND_CREATE_HOSTED_ZONE,
					(const uint8_t *)"\xff\xff\xff", 3, &c),
			 Q53_EMALF);
	command_payload_clear(&p);

	/* Absent strings decode as "". */
	struct command_health_vote v = {.member_id = 3};
	assert_int_equal(command_encode_health_vote(&v, &p), 0);
	assert_int_equal(command_decode(p.type, p.data, p.len, &c), 0);
	assert_string_equal(c.u.health_vote.check_id, "");
	assert_string_equal(c.u.health_vote.reason, "");
	assert_int_equal(c.u.health_vote.member_id, 3);
	command_free(&c);
	command_payload_clear(&p);

	struct command_create_hosted_zone bad = {.n_nameservers = 1};
	assert_int_equal(command_encode_create_hosted_zone(&bad, &p),
			 Q53_EINVAL);
}

/* --- hosted zones --- */

static void test_zones(void **state)
{
	struct control_fsm *f = fsm_new();
	struct control_fsm_dirty d;
	struct control_fsm_change ch;
	struct command_result r;
	struct zone_store_info info;

	(void)state;
	control_fsm_take_dirty(f, &d);
	assert_true(d.all); /* a fresh FSM: build everything (nothing) */
	control_fsm_dirty_clear(&d);

	assert_int_equal(run(f, p_zone(ZID, "Example.COM", "ref-1", "C0"), &r),
			 0);
	assert_int_equal(r.index, 1);
	assert_string_equal(r.hosted_zone.id, ZID);
	assert_string_equal(r.hosted_zone.name, "example.com.");
	assert_string_equal(r.hosted_zone.caller_reference, "ref-1");
	assert_int_equal(r.hosted_zone.n_nameservers, 2);
	assert_int_equal(r.hosted_zone.record_set_count, 2);
	assert_string_equal(r.change.id, "C0");
	assert_int_equal(r.change.submitted_ms, 1000);
	command_result_free(&r);
	assert_int_equal(control_fsm_applied(f), 1);
	control_fsm_take_dirty(f, &d);
	assert_false(d.all);
	assert_int_equal(d.n_zone_ids, 1);
	assert_string_equal(d.zone_ids[0], ZID);
	control_fsm_dirty_clear(&d);

	/* Duplicates and conflicts change nothing. */
	refused(f, p_zone(ZID, "other.com", NULL, NULL), Q53_EEXIST,
		"HostedZoneAlreadyExists", ZID);
	refused(f, p_zone(ZID2, "example.com.", NULL, NULL), Q53_EEXIST,
		"ConflictingDomainExists", NULL);
	refused(f, p_zone(ZID2, "other.com", "ref-1", NULL), Q53_EEXIST,
		"HostedZoneAlreadyExists", "ref-1");
	refused(f, p_zone("Zbad", "other.com", NULL, NULL), Q53_EINVAL,
		"InvalidInput", NULL);
	refused(f, p_zone(ZID2, "other.com", NULL, "C0"), Q53_EEXIST,
		"InvalidInput", "already used");
	refused(f, p_zone(ZID2, "other.com", NULL, "bad id!"), Q53_EINVAL,
		"InvalidInput", "change ID");
	control_fsm_take_dirty(f, &d);
	assert_int_equal(d.n_zone_ids, 0); /* refusals mark nothing */
	control_fsm_dirty_clear(&d);

	/* A change batch: recorded with its index, answered by the view. */
	assert_int_equal(run(f, p_batch(ZID, "C1", BATCH_WWW), &r), 0);
	assert_int_equal(r.index, 2);
	assert_string_equal(r.change.id, "C1");
	assert_string_equal(r.change.comment, "www");
	assert_int_equal(r.change.submitted_ms, 3000);
	command_result_free(&r);
	assert_int_equal(control_fsm_change_get(f, "C1", &ch), 0);
	assert_string_equal(ch.zone_id, ZID);
	assert_int_equal(ch.index, 2);
	assert_int_equal(ch.submitted_ms, 3000);
	assert_int_equal(control_fsm_change_get(f, "C0", &ch), 0);
	assert_int_equal(ch.index, 1);
	assert_int_equal(control_fsm_change_get(f, "C9", &ch), Q53_ENOENT);
	control_fsm_take_dirty(f, &d);
	assert_int_equal(d.n_zone_ids, 1);
	assert_true(dirty_has(&d, ZID));
	control_fsm_dirty_clear(&d);

	struct zone *z;
	struct serving_view *view;
	char err[512];
	uint8_t out[1232];
	uint16_t an;

	if (zone_store_build(control_fsm_zone_store(f), ZID, &z, err,
			     sizeof(err)) != 0)
		fail_msg("build: %s", err);
	assert_int_equal(serving_view_build(&view, &z, 1), 0);
	zone_release(z);
	assert_int_equal(ask(view, "www.example.com", KNOT_RRTYPE_A, &an, out),
			 0);
	assert_int_equal(an, 1);
	assert_non_null(memmem(out, sizeof(out), "\xc0\x00\x02\x0a", 4));
	assert_int_equal(
	    ask(view, "nothere.example.com", KNOT_RRTYPE_A, &an, out),
	    KNOT_RCODE_NXDOMAIN);
	serving_view_free(view);

	/* Rejected batches. */
	refused(f, p_batch(ZID, "C2", BATCH_WWW), Q53_EINVAL,
		"InvalidChangeBatch", "change 0");
	refused(f, p_batch(ZID, "C2", "{not json"), Q53_EINVAL, "InvalidInput",
		"not valid JSON");
	refused(f, p_batch(ZID2, "C2", BATCH_WWW), Q53_ENOENT,
		"NoSuchHostedZone", ZID2);
	refused(f, p_batch(ZID, "C1", BATCH_DEL_WWW), Q53_EEXIST,
		"InvalidInput", "already used");
	refused(f, p_batch(ZID, "", BATCH_DEL_WWW), Q53_EINVAL, "InvalidInput",
		"change ID");
	refused(f,
		p_batch(ZID, "C2",
			"{\"Changes\": [{\"Action\": \"CREATE\", "
			"\"ResourceRecordSet\": {\"Name\": \"w.example.com\", "
			"\"Type\": \"A\", \"TTL\": 60, \"SetIdentifier\": "
			"\"a\", \"Region\": \"x\", \"ResourceRecords\": "
			"[{\"Value\": \"192.0.2.1\"}]}}]}"),
		Q53_EINVAL, "InvalidChangeBatch",
		"Region 'x' is not a known region");

	/* Not empty, then empty. */
	refused(f, p_zone_delete(ZID, "C3"), Q53_EINVAL, "HostedZoneNotEmpty",
		NULL);
	refused(f, p_zone_delete(ZID2, NULL), Q53_ENOENT, "NoSuchHostedZone",
		NULL);
	ok(f, p_batch(ZID, "C3", BATCH_DEL_WWW));

	/* Import replaces the records. */
	ok(f,
	   p_import(ZID,
		    "www 60 IN A 192.0.2.99\nmail 60 IN AAAA 2001:db8::1\n"));
	assert_int_equal(zone_store_get(control_fsm_zone_store(f), ZID, &info),
			 0);
	assert_int_equal(info.nrrsets, 4);
	refused(f, p_import(ZID, "www 60 IN A 192.0.2.999\n"), Q53_EINVAL,
		"InvalidInput", NULL);
	refused(f, p_import(ZID2, "www 60 IN A 192.0.2.1\n"), Q53_ENOENT,
		"NoSuchHostedZone", NULL);
	ok(f, p_import(ZID, ""));

	assert_int_equal(run(f, p_zone_delete(ZID, "C4"), &r), 0);
	assert_string_equal(r.change.id, "C4");
	command_result_free(&r);
	assert_int_equal(zone_store_count(control_fsm_zone_store(f)), 0);
	control_fsm_take_dirty(f, &d);
	assert_int_equal(d.n_zone_ids, 1); /* deleted: drop it from the view */
	assert_true(dirty_has(&d, ZID));
	control_fsm_dirty_clear(&d);
	/* Change records outlive their zone. */
	assert_int_equal(control_fsm_change_count(f), 4); /* C0 C1 C3 C4 */
	assert_int_equal(control_fsm_change_get(f, "C4", &ch), 0);
	assert_int_equal(ch.index, control_fsm_applied(f));
	control_fsm_free(f);
}

/* The change records keep the newest CONTROL_FSM_CHANGES_MAX: each new one
 * past that evicts the one of the lowest index (an age ring beside the
 * by-id array). Ids in an order unrelated to the indexes; a node restored
 * from a snapshot halfway evicts the same records as the one that applied
 * everything. */
static void change_id_of(unsigned i, char out[16])
{
	/* a permutation of 0..16410 (16411 is prime) */
	snprintf(out, 16, "C%05u", (unsigned)((i * 7919u) % 16411u));
}

/* Weighted (Weight 0 too), multivalue and geoproximity sets survive a
 * snapshot and its restore: the same store, every routing field. */
/* A snapshot is format 3 unless it holds what 0.3.0 would silently drop
 * (here a latency set); then 4, which 0.3.0 refuses (it stops, upgrade
 * this node) instead of diverging. */
static void test_snapshot_format_of_040_fields(void **state)
{
	(void)state;
	struct control_fsm *f = fsm_new();
	ok(f, p_zone(ZID, "example.com", NULL, "CZ"));
	ok(f, p_batch(ZID, "C1",
		      "{\"Changes\": [{\"Action\": \"CREATE\", "
		      "\"ResourceRecordSet\": {\"Name\": \"w.example.com\", "
		      "\"Type\": \"A\", \"TTL\": 60, \"SetIdentifier\": \"z\", "
		      "\"Weight\": 5, \"ResourceRecords\": [{\"Value\": "
		      "\"192.0.2.1\"}]}}]}"));
	struct snap a = snap(f);
	assert_int_equal(control_upgrade_snapshot_format(a.p, a.len), 3);
	raft_free(a.p);
	ok(f, p_batch(ZID, "C2",
		      "{\"Changes\": [{\"Action\": \"CREATE\", "
		      "\"ResourceRecordSet\": {\"Name\": \"l.example.com\", "
		      "\"Type\": \"A\", \"TTL\": 60, \"SetIdentifier\": \"e\", "
		      "\"Region\": \"us-east-1\", \"ResourceRecords\": "
		      "[{\"Value\": \"192.0.2.2\"}]}}]}"));
	a = snap(f);
	assert_int_equal(control_upgrade_snapshot_format(a.p, a.len), 4);
	raft_free(a.p);
	control_fsm_free(f);
}

static void test_routing_sets_snapshot(void **state)
{
	struct control_fsm *f = fsm_new(), *g = fsm_new();
	struct q53_fsm *gb = control_fsm_base(g);
	struct zone_store_info info;
	(void)state;
	ok(f, p_zone(ZID, "example.com", NULL, "CZ"));
	ok(f,
	   p_batch(ZID, "C1",
		   "{\"Changes\": [{\"Action\": \"CREATE\", "
		   "\"ResourceRecordSet\": {\"Name\": \"w.example.com\", "
		   "\"Type\": \"A\", \"TTL\": 60, \"SetIdentifier\": \"z\", "
		   "\"Weight\": 0, \"ResourceRecords\": [{\"Value\": "
		   "\"192.0.2.1\"}]}}, {\"Action\": \"CREATE\", "
		   "\"ResourceRecordSet\": {\"Name\": \"m.example.com\", "
		   "\"Type\": \"A\", \"TTL\": 60, \"SetIdentifier\": \"m\", "
		   "\"MultiValueAnswer\": true, \"ResourceRecords\": "
		   "[{\"Value\": \"192.0.2.2\"}]}}, {\"Action\": \"CREATE\", "
		   "\"ResourceRecordSet\": {\"Name\": \"gp.example.com\", "
		   "\"Type\": \"A\", \"TTL\": 60, \"SetIdentifier\": \"r\", "
		   "\"GeoProximityLocation\": {\"AWSRegion\": "
		   "\"us-east-1\", \"Bias\": -5}, \"ResourceRecords\": "
		   "[{\"Value\": \"192.0.2.3\"}]}}, {\"Action\": \"CREATE\", "
		   "\"ResourceRecordSet\": {\"Name\": \"gp.example.com\", "
		   "\"Type\": \"A\", \"TTL\": 60, \"SetIdentifier\": \"c\", "
		   "\"GeoProximityLocation\": {\"Coordinates\": "
		   "{\"Latitude\": \"-1.5\", \"Longitude\": \"-179.99\"}}, "
		   "\"ResourceRecords\": [{\"Value\": \"192.0.2.4\"}]}}]}"));
	struct snap a = snap(f);
	assert_int_equal(gb->restore(gb, a.p, a.len), 0);
	snap_same(a, snap(g));
	raft_free(a.p);
	assert_int_equal(zone_store_get(control_fsm_zone_store(g), ZID, &info),
			 0);
	int weighted = 0, multivalue = 0, geoprox = 0;
	for (size_t i = 0; i < info.nrrsets; i++) {
		const struct zone_store_rrset *r =
		    zone_store_info_rrset(&info, i);
		int32_t lat, lon, bias;
		if (zone_store_rrset_geoprox(r, &lat, &lon, &bias)) {
			const char *sid = zone_store_rrset_set_id(r);
			if (strcmp(sid, "r") == 0)
				assert_true(lat == 3904 && lon == -7749 &&
					    bias == -5 &&
					    strcmp(r->policy->geoprox_region,
						   "us-east-1") == 0);
			else
				assert_true(lat == -150 && lon == -17999 &&
					    bias == 0 &&
					    r->policy->geoprox_region[0] == 0);
			geoprox++;
		}
		weighted +=
		    zone_store_rrset_policy(r) == CHANGE_POLICY_WEIGHTED &&
		    zone_store_rrset_weight(r) == 0;
		multivalue +=
		    zone_store_rrset_policy(r) == CHANGE_POLICY_MULTIVALUE;
	}
	assert_int_equal(weighted, 1);
	assert_int_equal(multivalue, 1);
	assert_int_equal(geoprox, 2);
	control_fsm_free(f);
	control_fsm_free(g);
}

/* The leader applies an import in the typed form it encoded it from
 * (command_payload.decoded, q53_fsm.apply_decoded): the state and result
 * are byte for byte what decoding the payload gives, which is what every
 * follower does. Also a rejected one, and an import with no change id. */
static void test_import_decoded_same_as_payload(void **state)
{
	(void)state;
	static const char text[] =
	    "$TTL 300\n"
	    "@ SOA ns1 hostmaster 2024010101 3600 900 604800 300\n"
	    "@ NS ns1\n@ NS ns2.other.test.\n@ MX 10 mail\n"
	    "@ TXT \"v=spf1 -all\" \"two\"\n"
	    "ns1 A 192.0.2.53\nns1 AAAA 2001:db8::53\n"
	    "mail 60 A 192.0.2.25\nmail A 192.0.2.26\n"
	    "*.wild CNAME target.example.com.\n"
	    "sub NS ns.sub\nns.sub A 192.0.2.99\n"
	    "_sip._tcp SRV 10 60 5060 sip\nsip A 192.0.2.7\n"
	    "caa CAA 0 issue \"ca.example\"\n"
	    "deep.a.b.c A 198.51.100.1\n";
	const char *changes[] = {"CIMPORT1", NULL};
	for (size_t k = 0; k < 2; k++) {
		struct control_fsm *a = fsm_new(), *b = fsm_new();
		ok(a, p_zone("ZEXAMPLE000001", "example.com", "c1", NULL));
		ok(b, p_zone("ZEXAMPLE000001", "example.com", "c1", NULL));
		struct command_payload p, q;
		char err[256];
		assert_int_equal(command_text_import_zone(
				     control_fsm_zone_store(a),
				     "ZEXAMPLE000001", changes[k], text,
				     strlen(text), 4000, &p, err, sizeof(err)),
				 0);
		assert_non_null(p.decoded);
		assert_int_equal(command_text_import_zone(
				     control_fsm_zone_store(b),
				     "ZEXAMPLE000001", changes[k], text,
				     strlen(text), 4000, &q, err, sizeof(err)),
				 0);
		struct q53_fsm *fa = control_fsm_base(a),
			       *fb = control_fsm_base(b);
		int32_t ca = -1, cb = -1;
		uint8_t *oa = NULL, *ob = NULL;
		size_t la = 0, lb = 0;
		assert_int_equal(fa->apply_decoded(fa, p.type, p.decoded,
						   p.data, p.len, &ca, &oa,
						   &la),
				 0);
		assert_int_equal(
		    fb->apply(fb, q.type, q.data, q.len, &cb, &ob, &lb), 0);
		assert_int_equal(ca, 0);
		assert_int_equal(ca, cb);
		assert_int_equal(la, lb);
		assert_memory_equal(oa, ob, la);
		raft_free(oa);
		raft_free(ob);
		struct snap sa = snap(a);
		snap_same(sa, snap(b));
		raft_free(sa.p);
		/* The same import again: the change id is taken (refused
		 * alike), or (no id) applied alike. */
		oa = ob = NULL;
		assert_int_equal(fa->apply_decoded(fa, p.type, p.decoded,
						   p.data, p.len, &ca, &oa,
						   &la),
				 0);
		assert_int_equal(
		    fb->apply(fb, q.type, q.data, q.len, &cb, &ob, &lb), 0);
		assert_int_equal(ca, cb);
		assert_int_equal(la, lb);
		assert_memory_equal(oa, ob, la);
		raft_free(oa);
		raft_free(ob);
		sa = snap(a);
		snap_same(sa, snap(b));
		raft_free(sa.p);
		command_payload_clear(&p);
		command_payload_clear(&q);
		control_fsm_free(a);
		control_fsm_free(b);
	}
}

/* CIDR collections (fsm_log types 20, 21) in the FSM: versions, record
 * sets using them, the refusals while used, the zones a change marks,
 * and FsmSnapshot field 10 through a snapshot and a restore. */
#define CIDR_ID "0b6b2a5e-1c1d-4e8f-9a0b-1c2d3e4f5a6b"

static struct command_payload p_cidr_create(const char *id, const char *name,
					    const char *ref)
{
	struct command_create_cidr_collection c = {id, name, ref, 1000};
	struct command_payload p;
	assert_int_equal(command_encode_create_cidr_collection(&c, &p), 0);
	return p;
}

static struct command_payload p_cidr_put(const char *loc, const char *cidr,
					 uint64_t version, bool del)
{
	struct cidr_block b;
	char err[256];
	struct command_payload p;
	assert_int_equal(cidr_block_parse(cidr, &b, err, sizeof(err)), 0);
	struct command_cidr_change ch = {
	    del ? COMMAND_CIDR_DELETE_IF_EXISTS : COMMAND_CIDR_PUT, loc, &b, 1};
	struct command_change_cidr_collection c = {
	    .id = CIDR_ID, .version = version, .changes = &ch, .n_changes = 1};
	assert_int_equal(command_encode_change_cidr_collection(&c, &p), 0);
	return p;
}

static struct command_payload p_cidr_delete(void)
{
	struct command_change_cidr_collection c = {.id = CIDR_ID,
						   .delete_collection = true};
	struct command_payload p;
	assert_int_equal(command_encode_change_cidr_collection(&c, &p), 0);
	return p;
}

static void test_cidr_collections(void **state)
{
	struct control_fsm *f = fsm_new(), *g = fsm_new();
	struct q53_fsm *gb = control_fsm_base(g);
	struct control_fsm_dirty d;
	(void)state;
	ok(f, p_zone(ZID, "example.com", NULL, "CZ"));
	ok(f, p_cidr_create(CIDR_ID, "offices", "r1"));
	/* A retry changes nothing. */
	uint64_t applied = control_fsm_applied(f);
	ok(f, p_cidr_create("1b6b2a5e-1c1d-4e8f-9a0b-1c2d3e4f5a6b", "offices",
			    "r1"));
	assert_int_equal(control_fsm_applied(f), applied);
	refused(f, p_cidr_create(CIDR_ID, "other", "r2"), Q53_EEXIST,
		"CidrCollectionAlreadyExistsException", NULL);
	ok(f, p_cidr_put("berlin", "10.49.0.0/16", 1, false));
	refused(f, p_cidr_put("nyc", "10.212.0.0/16", 1, false), Q53_EEXIST,
		"CidrCollectionVersionMismatchException", "does not match");
	ok(f, p_cidr_put("nyc", "10.212.0.0/16", 2, false));
	const struct cidr_collection *c =
	    cidr_table_get(control_fsm_cidrs(f), CIDR_ID);
	assert_non_null(c);
	assert_int_equal(c->version, 3);
	assert_int_equal(c->n_locs, 2);
	/* Record sets: a known location, an unknown one. */
	refused(
	    f,
	    p_batch(ZID, "C2",
		    "{\"Changes\": [{\"Action\": \"CREATE\", "
		    "\"ResourceRecordSet\": {\"Name\": \"i.example.com\", "
		    "\"Type\": \"A\", \"TTL\": 60, \"SetIdentifier\": "
		    "\"t\", \"CidrRoutingConfig\": {\"CollectionId\": "
		    "\"" CIDR_ID "\", \"LocationName\": \"tokyo\"}, "
		    "\"ResourceRecords\": [{\"Value\": \"192.0.2.1\"}]}}]}"),
	    Q53_EINVAL, "InvalidChangeBatch", "has no location tokyo");
	ok(f, p_batch(ZID, "C1",
		      "{\"Changes\": [{\"Action\": \"CREATE\", "
		      "\"ResourceRecordSet\": {\"Name\": \"i.example.com\", "
		      "\"Type\": \"A\", \"TTL\": 60, \"SetIdentifier\": "
		      "\"b\", \"CidrRoutingConfig\": {\"CollectionId\": "
		      "\"offices\", \"LocationName\": \"berlin\"}, "
		      "\"ResourceRecords\": [{\"Value\": \"192.0.2.1\"}]}}]}"));
	/* Refused while used. */
	refused(f, p_cidr_delete(), Q53_EINVAL, "CidrCollectionInUseException",
		NULL);
	refused(f, p_cidr_put("berlin", "10.49.0.0/16", 0, true), Q53_EINVAL,
		"CidrBlockInUseException", NULL);
	/* A change of the collection marks the zones using it. */
	control_fsm_take_dirty(f, &d);
	control_fsm_dirty_clear(&d);
	ok(f, p_cidr_put("berlin", "10.50.0.0/16", 0, false));
	control_fsm_take_dirty(f, &d);
	assert_false(d.all);
	assert_int_equal(d.n_zone_ids, 1);
	assert_string_equal(d.zone_ids[0], ZID);
	control_fsm_dirty_clear(&d);
	/* Snapshot and restore: the same bytes, the same table. */
	struct snap a = snap(f);
	assert_int_equal(gb->restore(gb, a.p, a.len), 0);
	snap_same(a, snap(g));
	raft_free(a.p);
	c = cidr_table_get(control_fsm_cidrs(g), CIDR_ID);
	assert_non_null(c);
	assert_int_equal(c->version, 4);
	assert_int_equal(c->n_blocks, 3);
	/* The restored FSM checks against its own collections. */
	refused(g, p_cidr_delete(), Q53_EINVAL, "CidrCollectionInUseException",
		NULL);
	ok(g, p_batch(ZID, "C3",
		      "{\"Changes\": [{\"Action\": \"DELETE\", "
		      "\"ResourceRecordSet\": {\"Name\": \"i.example.com\", "
		      "\"Type\": \"A\", \"TTL\": 60, \"SetIdentifier\": "
		      "\"b\", \"CidrRoutingConfig\": {\"CollectionId\": "
		      "\"" CIDR_ID "\", \"LocationName\": \"berlin\"}, "
		      "\"ResourceRecords\": [{\"Value\": \"192.0.2.1\"}]}}]}"));
	refused(g, p_cidr_delete(), Q53_EINVAL, "CidrCollectionInUseException",
		"still holds 2 locations");
	ok(g, p_cidr_put("berlin", "10.49.0.0/16", 0, true));
	ok(g, p_cidr_put("berlin", "10.50.0.0/16", 0, true));
	ok(g, p_cidr_put("nyc", "10.212.0.0/16", 0, true));
	ok(g, p_cidr_delete());
	assert_int_equal(control_fsm_cidrs(g)->n, 0);
	control_fsm_free(f);
	control_fsm_free(g);
}

static void test_change_records_oldest_evicted(void **state)
{
	const unsigned n = CONTROL_FSM_CHANGES_MAX + 40, cut = n - 60;
	struct control_fsm *f = fsm_new(), *g = fsm_new();
	struct q53_fsm *gb = control_fsm_base(g);
	struct control_fsm_change ch;
	struct snap a, b;
	char id[16];

	(void)state;
	ok(f, p_zone(ZID, "example.com", NULL, "CZ"));
	for (unsigned i = 0; i < n; i++) {
		change_id_of(i, id);
		if (i == cut) {
			a = snap(f);
			assert_int_equal(gb->restore(gb, a.p, a.len), 0);
			raft_free(a.p);
		}
		ok(f, p_batch(ZID, id, i % 2 ? BATCH_DEL_WWW : BATCH_WWW));
		if (i >= cut)
			ok(g,
			   p_batch(ZID, id, i % 2 ? BATCH_DEL_WWW : BATCH_WWW));
	}
	/* 1 + n records made, the oldest 41 gone: CZ and batches 0..39 */
	assert_int_equal(control_fsm_change_count(f), CONTROL_FSM_CHANGES_MAX);
	assert_int_equal(control_fsm_change_count(g), CONTROL_FSM_CHANGES_MAX);
	assert_int_equal(control_fsm_change_get(f, "CZ", &ch), Q53_ENOENT);
	for (unsigned i = 0; i < n; i++) {
		change_id_of(i, id);
		if (i < 40) {
			assert_int_equal(control_fsm_change_get(f, id, &ch),
					 Q53_ENOENT);
			continue;
		}
		assert_int_equal(control_fsm_change_get(f, id, &ch), 0);
		assert_int_equal(ch.index, 2 + i);
	}
	for (size_t k = 1; k < control_fsm_change_count(f); k++) {
		struct control_fsm_change prev;

		assert_int_equal(control_fsm_change_at(f, k - 1, &prev), 0);
		assert_int_equal(control_fsm_change_at(f, k, &ch), 0);
		assert_true(strcmp(prev.id, ch.id) < 0);
	}
	a = snap(f);
	b = snap(g);
	snap_same(a, b); /* frees b */
	raft_free(a.p);
	control_fsm_free(f);
	control_fsm_free(g);
}

/* The records sit in blocks of at most 128 (control_fsm.c): ids that
 * only ever go in front split the first block again and again, and with
 * the oldest (the largest id) evicted from the end, the last block
 * empties and leaves over and over. Order, lookups and the snapshot stay
 * those of one sorted array; a restored node continues the same way. */
static void test_change_records_front_inserts_tail_evictions(void **state)
{
	const unsigned n = CONTROL_FSM_CHANGES_MAX + 300;
	struct control_fsm *f = fsm_new(), *g = fsm_new();
	struct q53_fsm *gb = control_fsm_base(g);
	struct control_fsm_change ch, prev;
	struct snap a, b;
	char id[16];

	(void)state;
	ok(f, p_zone(ZID, "example.com", NULL, "CZ"));
	ok(g, p_zone(ZID, "example.com", NULL, "CZ"));
	for (unsigned i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "C%05u", n - i); /* decreasing */
		ok(f, p_batch(ZID, id, i % 2 ? BATCH_DEL_WWW : BATCH_WWW));
		if (i == n - 150) {
			a = snap(f);
			assert_int_equal(gb->restore(gb, a.p, a.len), 0);
			raft_free(a.p);
		} else if (i > n - 150) {
			ok(g,
			   p_batch(ZID, id, i % 2 ? BATCH_DEL_WWW : BATCH_WWW));
		}
	}
	assert_int_equal(control_fsm_change_count(f), CONTROL_FSM_CHANGES_MAX);
	/* kept: the newest 10,000, ids C00001 .. C10000 */
	assert_int_equal(control_fsm_change_get(f, "CZ", &ch), Q53_ENOENT);
	assert_int_equal(control_fsm_change_get(f, "C10001", &ch), Q53_ENOENT);
	assert_int_equal(control_fsm_change_get(f, "C10000", &ch), 0);
	assert_int_equal(control_fsm_change_get(f, "C00001", &ch), 0);
	assert_int_equal(ch.index, control_fsm_applied(f));
	for (size_t k = 0; k < CONTROL_FSM_CHANGES_MAX; k++) {
		assert_int_equal(control_fsm_change_at(f, k, &ch), 0);
		snprintf(id, sizeof(id), "C%05zu", k + 1);
		assert_string_equal(ch.id, id);
		if (k > 0)
			assert_true(strcmp(prev.id, ch.id) < 0);
		prev = ch;
	}
	assert_int_equal(control_fsm_change_at(f, CONTROL_FSM_CHANGES_MAX, &ch),
			 Q53_ENOENT);
	a = snap(f);
	b = snap(g);
	snap_same(a, b); /* frees b */
	raft_free(a.p);
	control_fsm_free(f);
	control_fsm_free(g);
}

static void test_malformed_commands(void **state)
{
	struct control_fsm *f = fsm_new();
	struct command_payload p = {0};
	struct command_result r;

	(void)state;
	ok(f, p_zone(ZID, "example.com", NULL, NULL));
	/* The FSM alone refuses a type it does not know (the upgrade module
	 * stops the node before: test_newer_versions). */
	{
		struct q53_fsm *b = control_fsm_base(f);
		int32_t code;
		uint8_t *out;
		size_t len;
		assert_int_equal(b->apply(b, 77, NULL, 0, &code, &out, &len),
				 0);
		assert_int_equal(code, Q53_EMALF);
		assert_int_equal(command_result_decode(out, len, &r), 0);
		assert_string_equal(r.error_name, "InvalidInput");
		assert_non_null(strstr(r.error_message, "malformed"));
		command_result_free(&r);
		raft_free(out);
		/* Nor does it read the previous release's text forms. */
		struct command_payload legacy = p_batch(ZID, "CX", BATCH_WWW);
		assert_int_equal(b->apply(b, legacy.type, legacy.data,
					  legacy.len, &code, &out, &len),
				 0);
		assert_int_equal(code, Q53_EMALF);
		raft_free(out);
		command_payload_clear(&legacy);
	}
	p = (struct command_payload){.type = COMMAND_CHANGE_RRSETS};
	p.data = raft_malloc(4);
	memcpy(p.data, "\x0a\xff\x01\x02", 4);
	p.len = 4;
	refused(f, p, Q53_EMALF, "InvalidInput", "ChangeResourceRecordSets");
	/* An empty payload is a command with every field absent. */
	p = (struct command_payload){.type = COMMAND_DELETE_HOSTED_ZONE};
	refused(f, p, Q53_ENOENT, "NoSuchHostedZone", NULL);
	assert_int_equal(run(f, p_zone_delete(ZID, NULL), &r), 0);
	assert_string_equal(r.change.id, "");
	command_result_free(&r);
	control_fsm_free(f);
}

/* An entry or a snapshot written by a newer release stops the node (the
 * fatal hook) instead of being misapplied or skipped; nothing changes. */
static char fatal_msg[512];
static int fatal_calls;

static void fatal_record(void *ctx, const char *message)
{
	(void)ctx;
	fatal_calls++;
	snprintf(fatal_msg, sizeof(fatal_msg), "%s", message);
}

static void test_newer_versions(void **state)
{
	struct control_fsm *f = fsm_new();
	struct control_upgrade *u;
	int32_t code;
	uint8_t *out = NULL;
	size_t len = 0;

	(void)state;
	ok(f, p_zone(ZID, "example.com", NULL, NULL));
	assert_int_equal(control_upgrade_new(f, &u), 0);
	control_upgrade_set_fatal(u, fatal_record, NULL);
	struct q53_fsm *b = control_upgrade_base(u);
	struct snap before = snap(f);

	/* An unknown, newer command type. */
	fatal_calls = 0;
	assert_int_equal(
	    b->apply(b, COMMAND_TYPE_MAX + 1, NULL, 0, &code, &out, &len),
	    Q53_ENOMEM);
	assert_int_equal(fatal_calls, 1);
	char want[256];
	snprintf(want, sizeof(want),
		 "log entry at FSM index 2 has command type %d written by a "
		 "newer quorum53: upgrade this node",
		 COMMAND_TYPE_MAX + 1);
	assert_string_equal(fatal_msg, want);
	assert_null(out);

	/* A known typed command of a newer command_version. */
	struct command_payload p = p_batch(ZID, "C1", BATCH_WWW);
	struct command_payload typed;
	char err[512];
	assert_int_equal(control_upgrade_command(f, p.type, p.data, p.len,
						 &typed, err, sizeof(err)),
			 0);
	command_payload_clear(&p);
	assert_int_equal(typed.type, COMMAND_CHANGE_RRSETS);
	assert_int_equal(typed.data[0], 0x08);
	assert_int_equal(typed.data[1], COMMAND_VERSION);
	typed.data[1] = COMMAND_VERSION_MAX + 1;
	assert_int_equal(
	    b->apply(b, typed.type, typed.data, typed.len, &code, &out, &len),
	    Q53_ENOMEM);
	assert_int_equal(fatal_calls, 2);
	snprintf(want, sizeof(want),
		 "has command type 11 version %d written by a newer "
		 "quorum53: upgrade this node",
		 COMMAND_VERSION_MAX + 1);
	assert_non_null(strstr(fatal_msg, want));
	/* The same entry at the current version applies. */
	typed.data[1] = COMMAND_VERSION;
	assert_int_equal(
	    b->apply(b, typed.type, typed.data, typed.len, &code, &out, &len),
	    0);
	assert_int_equal(code, 0);
	raft_free(out);
	command_payload_clear(&typed);
	assert_int_equal(fatal_calls, 2);

	/* A snapshot of a newer format. */
	struct snap now = snap(f);
	assert_int_equal(now.p[0], 0x08);
	assert_int_equal(now.p[1], 3);
	now.p[1] = 6; /* 5: with FsmSnapshotExt */
	assert_int_equal(b->restore(b, now.p, now.len), Q53_EMALF);
	assert_int_equal(fatal_calls, 3);
	assert_string_equal(fatal_msg, "snapshot has format 6 written by a "
				       "newer quorum53: upgrade this node");
	/* Format 5 goes through to control_fsm, which reads it. */
	now.p[1] = 5;
	assert_int_equal(b->restore(b, now.p, now.len), 0);
	assert_int_equal(fatal_calls, 3);
	/* Format 2 (0.2.0: no access keys, tags or routing fields) is read. */
	now.p[1] = 2;
	assert_int_equal(b->restore(b, now.p, now.len), 0);
	now.p[1] = 3;
	snap_same(now, snap(f));
	raft_free(now.p);
	raft_free(before.p);
	control_upgrade_free(u);
	control_fsm_free(f);
}

/* --- the previous release's snapshots --- */

struct bytes {
	uint8_t p[2048];
	size_t n;
};

static void b_put(struct bytes *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->p));
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void b_u(struct bytes *b, uint32_t v, size_t n)
{
	for (size_t i = n; i-- > 0;)
		b->p[b->n++] = (uint8_t)(v >> (8 * i));
}

static void b_str16(struct bytes *b, const char *s)
{
	b_u(b, (uint32_t)strlen(s), 2);
	b_put(b, s, strlen(s));
}

static void b_name(struct bytes *b, const char *wire, size_t n)
{
	b_u(b, (uint32_t)n, 1);
	b_put(b, wire, n);
}

/* A record set in zone_store's private layout of version v. */
static void b_set(struct bytes *b, unsigned v, const char *owner, size_t olen,
		  uint16_t type, uint32_t ttl, const char *set_id,
		  unsigned failover, const char *hc, const char *rdata,
		  size_t rdlen)
{
	b_name(b, owner, olen);
	b_u(b, type, 2);
	b_u(b, ttl, 4);
	b_u(b, set_id != NULL, 1);
	if (set_id != NULL)
		b_str16(b, set_id);
	if (v >= 2) {
		b_u(b, failover, 1);
		b_u(b, hc != NULL, 1);
		if (hc != NULL)
			b_str16(b, hc);
	}
	b_u(b, 1, 2);
	b_u(b, (uint32_t)rdlen, 2);
	b_put(b, rdata, rdlen);
}

/* FsmSnapshot format 1 as 0.1.0 wrote it: zone_store bytes (version v of
 * its layout) and a health check's config as JSON. */
static struct snap legacy_snapshot(unsigned v)
{
	static const char ORIGIN[] = "\7example\3com";
	static const char SOA[] = "\3ns1\7example\3net\0\12hostmaster\7example"
				  "\3com\0\0\0\0\x11\0\0\x1c\x20\0\0\x03\x84"
				  "\0\x12\x75\0\0\x01\x51\x80";
	static const char NSR[] = "\3ns1\7example\3net";
	static const char SHOP[] = "\4shop\7example\3com";
	static const char HC[] = "{\"IPAddress\": \"192.0.2.80\", \"Port\": "
				 "8080, \"Type\": \"HTTP\"}";
	struct bytes b = {.n = 0};

	b_put(&b, "Q53ZSTOR", 8);
	b_u(&b, v, 4);
	b_u(&b, 1, 4);
	b_str16(&b, ZID);
	b_name(&b, ORIGIN, sizeof(ORIGIN));
	b_u(&b, 1, 1);
	b_str16(&b, "old zone");
	b_u(&b, 0, 1);
	b_u(&b, v >= 2 ? 3 : 2, 4);
	b_set(&b, v, ORIGIN, sizeof(ORIGIN), 2, 172800, NULL, 0, NULL, NSR,
	      sizeof(NSR));
	b_set(&b, v, ORIGIN, sizeof(ORIGIN), 6, 900, NULL, 0, NULL, SOA,
	      sizeof(SOA) - 1);
	if (v >= 2)
		b_set(&b, v, SHOP, sizeof(SHOP), 1, 30, "p", 1, "hc1",
		      "\xc0\x00\x02\x33", 4);

	Q53__Command__FsmSnapshot m = Q53__COMMAND__FSM_SNAPSHOT__INIT;
	Q53__Command__SnapshotHealthCheck hc =
	    Q53__COMMAND__SNAPSHOT_HEALTH_CHECK__INIT;
	Q53__Command__SnapshotHealthCheck *hcs[] = {&hc};
	hc.id = "hc1";
	hc.caller_reference = "ref";
	hc.config_json.data = (uint8_t *)HC;
	hc.config_json.len = strlen(HC);
	hc.version = 1;
	hc.created_index = 1;
	hc.healthy = true;
	hc.basis = HEALTH_VOTE_TOO_FEW;
	hc.transition_index = 1;
	m.format = 1;
	m.applied = 7;
	m.zone_store.data = b.p;
	m.zone_store.len = b.n;
	m.n_health_checks = 1;
	m.health_checks = hcs;
	m.end = 0x51353346u;
	struct snap out;
	out.len = protobuf_c_message_get_packed_size(&m.base);
	out.p = raft_malloc(out.len);
	protobuf_c_message_pack(&m.base, out.p);
	return out;
}

static void test_legacy_snapshots(void **state)
{
	(void)state;
	for (unsigned v = 1; v <= 2; v++) {
		struct control_fsm *f = fsm_new();
		struct control_upgrade *u;
		struct snap old = legacy_snapshot(v);

		assert_int_equal(control_upgrade_new(f, &u), 0);
		struct q53_fsm *b = control_upgrade_base(u);
		/* The FSM alone does not read format 1. */
		struct q53_fsm *fb = control_fsm_base(f);
		assert_int_equal(fb->restore(fb, old.p, old.len), Q53_EMALF);
		assert_int_equal(b->restore(b, old.p, old.len), 0);
		assert_int_equal(control_fsm_applied(f), 7);
		struct zone_store_info info;
		assert_int_equal(
		    zone_store_get(control_fsm_zone_store(f), ZID, &info), 0);
		assert_string_equal(info.name, "example.com.");
		assert_string_equal(info.comment, "old zone");
		assert_int_equal(info.serial, 0x11);
		assert_int_equal(info.nrrsets, v >= 2 ? 3 : 2);
		if (v >= 2) {
			assert_string_equal(
			    zone_store_rrset_set_id(
				zone_store_info_rrset(&info, 2)),
			    "p");
			assert_int_equal(zone_store_rrset_failover(
					     zone_store_info_rrset(&info, 2)),
					 CHANGE_FAILOVER_PRIMARY);
			assert_string_equal(
			    zone_store_rrset_health_check(
				zone_store_info_rrset(&info, 2)),
			    "hc1");
		}
		struct control_fsm_health_check hc;
		assert_int_equal(control_fsm_health_check_get(f, "hc1", &hc),
				 0);
		assert_int_equal(hc.config->port, 8080);
		assert_int_equal(hc.config->request_interval, 30);
		/* Written back in this release's format, read back alone. */
		struct snap now = snap(f);
		assert_int_equal(now.p[1], 3);
		struct control_fsm *g = fsm_new();
		struct q53_fsm *gb = control_fsm_base(g);
		assert_int_equal(gb->restore(gb, now.p, now.len), 0);
		snap_same(now, snap(g));
		raft_free(now.p);
		/* Every cut of the old snapshot is refused, the state kept. */
		struct snap keep = snap(g);
		struct control_upgrade *gu;
		assert_int_equal(control_upgrade_new(g, &gu), 0);
		struct q53_fsm *gub = control_upgrade_base(gu);
		for (size_t n = 0; n < old.len; n++)
			assert_int_not_equal(gub->restore(gub, old.p, n), 0);
		snap_same(keep, snap(g));
		raft_free(keep.p);
		control_upgrade_free(gu);
		control_fsm_free(g);
		raft_free(old.p);
		control_upgrade_free(u);
		control_fsm_free(f);
	}
}

/* --- nodes and health --- */

static void status(struct control_fsm *f, const char *id, bool healthy,
		   uint64_t transition_index)
{
	struct control_fsm_health_check hc;

	assert_int_equal(control_fsm_health_check_get(f, id, &hc), 0);
	if (hc.healthy != healthy || hc.transition_index != transition_index)
		fail_msg("%s: healthy %d at %llu, expected %d at %llu", id,
			 hc.healthy, (unsigned long long)hc.transition_index,
			 healthy, (unsigned long long)transition_index);
}

static void test_nodes(void **state)
{
	struct control_fsm *f = fsm_new();
	struct control_fsm_node n;

	(void)state;
	ok(f, p_node(2, "b"));
	ok(f, p_node(1, "a"));
	assert_int_equal(control_fsm_node_count(f), 2);
	assert_int_equal(control_fsm_node_at(f, 0, &n), 0);
	assert_int_equal(n.id, 1);
	assert_string_equal(n.name, "a");
	assert_string_equal(n.raft_address, "tcp://10.0.0.1:7000");
	assert_int_equal(n.index, 2);
	ok(f, p_node(1, "renamed"));
	assert_int_equal(control_fsm_node_get(f, 1, &n), 0);
	assert_string_equal(n.name, "renamed");
	assert_int_equal(n.index, 3);
	assert_int_equal(control_fsm_node_count(f), 2);
	refused(f, p_node(0, "zero"), Q53_EINVAL, "InvalidInput", NULL);
	struct command_set_node c = {.node_id = 5};
	struct command_payload p;
	assert_int_equal(command_encode_set_node(&c, &p), 0);
	refused(f, p, Q53_EINVAL, "InvalidInput", "Raft address");
	refused(f, p_node_remove(9, 1), Q53_ENOENT, "NoSuchNode", NULL);
	ok(f, p_node_remove(2, 1));
	assert_int_equal(control_fsm_node_get(f, 2, &n), Q53_ENOENT);
	assert_int_equal(control_fsm_node_count(f), 1);
	control_fsm_free(f);
}

/* The --geoip path and SHA-256 in a node's metadata: applied, kept in
 * the snapshot, "" when a SetNodeMetadata has none. */
static void test_node_geoip(void **state)
{
	struct control_fsm *f = fsm_new(), *g = fsm_new();
	struct q53_fsm *gb = control_fsm_base(g);
	struct control_fsm_node n;
	struct command_set_node c = {
	    .node_id = 1,
	    .raft_address = "tcp://10.0.0.1:7000",
	    .name = "a",
	    .geoip_path = "/var/lib/q53/city.mmdb",
	    .geoip_sha256 = "abcdef0123456789",
	};
	struct command_payload p;
	struct snap a;

	(void)state;
	assert_int_equal(command_encode_set_node(&c, &p), 0);
	ok(f, p);
	ok(f, p_node(2, "b"));
	assert_int_equal(control_fsm_node_get(f, 1, &n), 0);
	assert_string_equal(n.geoip_path, "/var/lib/q53/city.mmdb");
	assert_string_equal(n.geoip_sha256, "abcdef0123456789");
	assert_int_equal(control_fsm_node_get(f, 2, &n), 0);
	assert_string_equal(n.geoip_sha256, "");
	a = snap(f);
	assert_int_equal(gb->restore(gb, a.p, a.len), 0);
	assert_int_equal(control_fsm_node_get(g, 1, &n), 0);
	assert_string_equal(n.geoip_path, "/var/lib/q53/city.mmdb");
	assert_string_equal(n.geoip_sha256, "abcdef0123456789");
	assert_int_equal(control_fsm_node_get(g, 2, &n), 0);
	assert_string_equal(n.geoip_path, "");
	raft_free(a.p);
	control_fsm_free(f);
	control_fsm_free(g);
}

static void test_health_votes(void **state)
{
	struct control_fsm *f = fsm_new();
	struct control_fsm_health_check hc;
	struct control_fsm_dirty d;
	struct command_result r;

	(void)state;
	ok(f, p_node(1, "a")); /* 1 */
	ok(f, p_node(2, "b")); /* 2 */
	ok(f, p_node(3, "c")); /* 3 */

	/* A new check is healthy, its creation the first transition. */
	assert_int_equal(run(f, p_check("hc1", "ref-1", HC_HTTP), &r), 0);
	assert_int_equal(r.index, 4);
	assert_string_equal(r.health_check.id, "hc1");
	assert_int_equal(r.health_check.version, 1);
	assert_non_null(r.health_check.config);
	assert_int_equal(r.health_check.config->port, 8080);
	assert_string_equal(r.health_check.config->resource_path, "/health");
	command_result_free(&r);
	status(f, "hc1", true, 4);
	assert_int_equal(control_fsm_health_check_get(f, "hc1", &hc), 0);
	assert_int_equal(hc.decision.basis, HEALTH_VOTE_TOO_FEW);
	assert_int_equal(hc.created_ms, 5000);
	assert_int_equal(hc.transition_ms, 5000);
	control_fsm_take_dirty(f, &d);
	control_fsm_dirty_clear(&d);

	/* One node alone cannot fail it. */
	ok(f, p_vote(1, "hc1", false, 10000)); /* 5 */
	status(f, "hc1", true, 4);
	/* A majority can. */
	ok(f, p_vote(2, "hc1", false, 10001)); /* 6 */
	status(f, "hc1", false, 6);
	assert_int_equal(control_fsm_health_check_get(f, "hc1", &hc), 0);
	assert_int_equal(hc.transition_ms, 10001);
	assert_int_equal(hc.decision.basis, HEALTH_VOTE_QUORUM);
	assert_int_equal(hc.n_votes, 2);
	assert_int_equal(hc.votes[1].member_id, 2);
	assert_int_equal(hc.votes[1].log_index, 6);
	assert_string_equal(hc.reasons[1], "connection refused");
	control_fsm_take_dirty(f, &d);
	assert_true(d.health);
	control_fsm_dirty_clear(&d);
	/* The third agrees with neither: still 2 of 3 unhealthy. */
	ok(f, p_vote(3, "hc1", true, 10002)); /* 7 */
	status(f, "hc1", false, 6);
	/* Node 1 recovers: 2 of 3 healthy. */
	ok(f, p_vote(1, "hc1", true, 10003)); /* 8 */
	status(f, "hc1", true, 8);
	/* A single dissenting node does not flip it back. */
	ok(f, p_vote(2, "hc1", false, 10004)); /* 9 */
	status(f, "hc1", true, 8);
	ok(f, p_vote(1, "hc1", false, 10005)); /* 10 */
	status(f, "hc1", false, 10);

	/* Removing node 1 drops its vote: 1 healthy of 2 reporting is not a
	 * strict majority. Removing node 2 too: 1 of 1 healthy. */
	ok(f, p_node_remove(1, 20000)); /* 11 */
	assert_int_equal(control_fsm_health_check_get(f, "hc1", &hc), 0);
	assert_int_equal(hc.n_votes, 2);
	assert_int_equal(hc.votes[0].member_id, 2);
	status(f, "hc1", false, 10);
	ok(f, p_node_remove(2, 20001)); /* 12 */
	status(f, "hc1", true, 12);
	assert_int_equal(control_fsm_health_check_get(f, "hc1", &hc), 0);
	assert_int_equal(hc.transition_ms, 20001);
	assert_int_equal(hc.n_votes, 1);
	/* A returning member starts without a vote: 1 of 2 reporting is
	 * enough for a majority of 2? No: 2 * 1 > 2 is false: too few. */
	ok(f, p_node(2, "b")); /* 13 */
	assert_int_equal(control_fsm_health_check_get(f, "hc1", &hc), 0);
	assert_int_equal(hc.decision.basis, HEALTH_VOTE_TOO_FEW);
	status(f, "hc1", true, 12);

	/* Refusals. */
	refused(f, p_vote(1, "hc1", false, 1), Q53_ENOENT, "NoSuchNode", "1");
	refused(f, p_vote(3, "nope", false, 1), Q53_ENOENT, "NoSuchHealthCheck",
		"nope");
	refused(f, p_check("hc1", "ref-9", HC_TCP), Q53_EEXIST,
		"HealthCheckAlreadyExists", NULL);
	refused(f, p_check("hc2", "ref-1", HC_TCP), Q53_EEXIST,
		"HealthCheckAlreadyExists", "ref-1");
	refused(f, p_check("bad id", NULL, HC_TCP), Q53_EINVAL, "InvalidInput",
		NULL);
	refused(f, p_check("hc2", NULL, "{\"Type\": \"TCP\"}"), Q53_EINVAL,
		"InvalidInput", "Port");
	refused(f, p_check("hc2", NULL, "{\"Type\""), Q53_EINVAL,
		"InvalidInput", "JSON");
	/* The same caller reference and config: the existing check, nothing
	 * changes. */
	{
		struct snap before = snap(f);
		uint64_t applied = control_fsm_applied(f);

		assert_int_equal(run(f, p_check("hc9", "ref-1", HC_HTTP), &r),
				 0);
		assert_string_equal(r.health_check.id, "hc1");
		assert_int_equal(r.index, 4);
		command_result_free(&r);
		assert_int_equal(control_fsm_applied(f), applied);
		snap_same(before, snap(f));
		raft_free(before.p);
	}

	/* Update: versions, type, Disabled. */
	refused(f, p_check_update("hc1", 7, HC_HTTP), Q53_EINVAL,
		"HealthCheckVersionMismatch", NULL);
	refused(f, p_check_update("hc1", 1, HC_TCP), Q53_EINVAL, "InvalidInput",
		"Type");
	refused(f, p_check_update("nope", 0, HC_TCP), Q53_ENOENT,
		"NoSuchHealthCheck", NULL);
	ok(f, p_vote(2, "hc1", false, 30000)); /* 14 */
	status(f, "hc1", false, 14); /* 1 of 2 healthy: not more than 50% */
	ok(f, p_vote(3, "hc1", false, 30001)); /* 15 */
	status(f, "hc1", false, 14);
	assert_int_equal(
	    run(f,
		p_check_update(
		    "hc1", 1,
		    "{\"IPAddress\": \"192.0.2.80\", \"Port\": 8080, "
		    "\"Type\": \"HTTP\", \"Disabled\": true}"),
		&r),
	    0); /* 16 */
	assert_int_equal(r.health_check.version, 2);
	command_result_free(&r);
	status(f, "hc1", true, 16);
	assert_int_equal(control_fsm_health_check_get(f, "hc1", &hc), 0);
	assert_int_equal(hc.decision.basis, HEALTH_VOTE_DISABLED);
	assert_int_equal(hc.transition_ms, 6000);
	assert_int_equal(hc.version, 2);
	ok(f, p_check_update("hc1", 0, HC_HTTP)); /* 17 */
	status(f, "hc1", false, 17);

	/* CALCULATED: children must exist, no cycle, no votes, in use. */
	ok(f, p_check("hc2", NULL, HC_TCP)); /* 18 */
	refused(f,
		p_check("calc", NULL,
			"{\"Type\": \"CALCULATED\", \"ChildHealthChecks\": "
			"[\"hc1\", \"nope\"], \"HealthThreshold\": 1}"),
		Q53_EINVAL, "InvalidInput", "nope");
	ok(f, p_check("calc", NULL,
		      "{\"Type\": \"CALCULATED\", \"ChildHealthChecks\": "
		      "[\"hc1\", \"hc2\"], \"HealthThreshold\": 2}")); /* 19 */
	status(f, "calc", false, 19); /* hc1 down */
	ok(f, p_check("calc2", NULL,
		      "{\"Type\": \"CALCULATED\", \"ChildHealthChecks\": "
		      "[\"calc\"], \"HealthThreshold\": 1}")); /* 20 */
	status(f, "calc2", false, 20);
	refused(f,
		p_check_update("calc", 0,
			       "{\"Type\": \"CALCULATED\", "
			       "\"ChildHealthChecks\": [\"calc2\"], "
			       "\"HealthThreshold\": 1}"),
		Q53_EINVAL, "InvalidInput", "itself");
	refused(f,
		p_check_update("calc", 0,
			       "{\"Type\": \"CALCULATED\", "
			       "\"ChildHealthChecks\": [\"calc\"], "
			       "\"HealthThreshold\": 1}"),
		Q53_EINVAL, "InvalidInput", "own child");
	refused(f, p_vote(2, "calc", true, 1), Q53_EINVAL, "InvalidInput",
		"CALCULATED");
	refused(f, p_check_delete("hc1"), Q53_EINVAL, "HealthCheckInUse",
		"calc");
	/* hc1 recovers: both calculated checks follow at the same index. */
	ok(f, p_vote(2, "hc1", true, 40000)); /* 21 */
	ok(f, p_vote(3, "hc1", true, 40001)); /* 22 */
	status(f, "hc1", true, 22);
	status(f, "calc", true, 22);
	status(f, "calc2", true, 22);

	ok(f, p_check_delete("calc2")); /* 23 */
	ok(f, p_check_delete("calc"));	/* 24 */
	ok(f, p_check_delete("hc1"));	/* 25 */
	refused(f, p_check_delete("hc1"), Q53_ENOENT, "NoSuchHealthCheck",
		NULL);
	assert_int_equal(control_fsm_health_check_count(f), 1);
	assert_int_equal(control_fsm_applied(f), 25);
	control_fsm_free(f);
}

/* --- snapshots --- */

/* A history touching every part of the state. */
/* The transitions the runtime's webhooks take: one per decided status
 * change, stamped with the FSM index and time, in apply order (a
 * CALCULATED parent after its child); creation and unchanged decisions
 * record none; a take empties the list; beyond the cap they are counted
 * as dropped. */
static void test_health_transitions(void **state)
{
	struct control_fsm *f = fsm_new();
	struct control_fsm_transitions t;

	(void)state;
	ok(f, p_node(1, "a"));		    /* 1 */
	ok(f, p_node(2, "b"));		    /* 2 */
	ok(f, p_node(3, "c"));		    /* 3 */
	ok(f, p_check("hc1", "", HC_HTTP)); /* 4 */
	ok(f, p_check("hc2", "",
		      "{\"Type\": \"CALCULATED\", \"ChildHealthChecks\": "
		      "[\"hc1\"], \"HealthThreshold\": 1}")); /* 5 */
	control_fsm_take_transitions(f, &t);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.dropped, 0);
	control_fsm_transitions_clear(&t);

	ok(f, p_vote(1, "hc1", false, 10000)); /* 6: no change */
	ok(f, p_vote(2, "hc1", false, 10001)); /* 7: both flip */
	refused(f, p_vote(9, "hc1", true, 10002), Q53_ENOENT, "NoSuchNode",
		NULL);
	control_fsm_take_transitions(f, &t);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.items[0].check_id, "hc1");
	assert_false(t.items[0].healthy);
	assert_int_equal(t.items[0].index, 7);
	assert_int_equal(t.items[0].time_ms, 10001);
	assert_string_equal(t.items[1].check_id, "hc2");
	assert_false(t.items[1].healthy);
	assert_int_equal(t.items[1].index, 7);
	control_fsm_transitions_clear(&t);
	assert_null(t.items);
	control_fsm_take_transitions(f, &t);
	assert_int_equal(t.n, 0);
	control_fsm_transitions_clear(&t);

	/* Two applies before a take: both, in order. */
	ok(f, p_vote(1, "hc1", true, 10003));  /* 8: no change (1 of 2) */
	ok(f, p_vote(3, "hc1", true, 10004));  /* 9: healthy */
	ok(f, p_vote(3, "hc1", false, 10005)); /* 10: unhealthy */
	control_fsm_take_transitions(f, &t);
	assert_int_equal(t.n, 4);
	assert_true(t.items[0].healthy);
	assert_int_equal(t.items[0].index, 9);
	assert_string_equal(t.items[1].check_id, "hc2");
	assert_false(t.items[2].healthy);
	assert_int_equal(t.items[2].index, 10);
	assert_int_equal(t.items[2].time_ms, 10005);
	control_fsm_transitions_clear(&t);

	/* Untaken ones are capped; the rest are counted. */
	for (unsigned i = 0; i < CONTROL_FSM_TRANSITIONS_MAX; i++)
		ok(f, p_vote(3, "hc1", i % 2 == 0, 20000 + i));
	control_fsm_take_transitions(f, &t);
	assert_int_equal(t.n, CONTROL_FSM_TRANSITIONS_MAX);
	assert_int_equal(t.dropped, CONTROL_FSM_TRANSITIONS_MAX);
	control_fsm_transitions_clear(&t);
	control_fsm_free(f);
}

static void rich_history(struct control_fsm *f)
{
	char id[32], change[32], json[512];

	ok(f, p_node(1, "a"));
	ok(f, p_node(2, "b"));
	ok(f, p_node(3, "c"));
	ok(f, p_zone(ZID, "example.com", "ref-1", "C0"));
	ok(f, p_zone(ZID2, "example.net", NULL, NULL));
	ok(f, p_batch(ZID, "C1", BATCH_WWW));
	ok(f, p_import(ZID2, "@ 300 IN MX 10 mail.example.net.\n"
			     "mail 300 IN A 192.0.2.25\n"));
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "hc%d", i);
		snprintf(json, sizeof(json),
			 "{\"IPAddress\": \"192.0.2.%d\", \"Port\": %d, "
			 "\"Type\": \"TCP\"}",
			 i + 1, 1000 + i);
		snprintf(change, sizeof(change), "ref-%d", i);
		ok(f, p_check(id, i % 2 ? change : NULL, json));
		if (i % 2)
			continue;
		for (uint64_t m = 1; m <= 3; m++)
			ok(f, p_vote(m, id, m != 2, 1000 * m + i));
	}
	ok(f, p_check("calc", "calc-ref",
		      "{\"Type\": \"CALCULATED\", \"ChildHealthChecks\": "
		      "[\"hc0\", \"hc1\", \"hc2\"], \"HealthThreshold\": 2}"));
	ok(f, p_batch(ZID, "CF", FAILOVER_BATCH("CREATE")));
	ok(f, p_batch(ZID2, "CF2",
		      "{\"Changes\": [{\"Action\": \"CREATE\", "
		      "\"ResourceRecordSet\": {\"Name\": \"x.example.net\", "
		      "\"Type\": \"A\", \"TTL\": 5, \"HealthCheckId\": "
		      "\"calc\", \"ResourceRecords\": [{\"Value\": "
		      "\"192.0.2.9\"}]}}]}"));
	ok(f, p_node_remove(3, 99));
	for (int i = 0; i < 4; i++) {
		snprintf(change, sizeof(change), "CX%d", i);
		ok(f, p_batch(ZID, change, i % 2 ? BATCH_WWW : BATCH_DEL_WWW));
	}
	ok(f, p_check_update("hc1", 1,
			     "{\"IPAddress\": \"192.0.2.2\", \"Port\": 1001, "
			     "\"Type\": \"TCP\", \"Inverted\": true}"));
	static const struct command_tag tags[] = {{"env", "prod"},
						  {"team", ""}};
	ok(f, p_tags("hostedzone", ZID, tags, 2, NULL, 0));
	ok(f, p_tags("healthcheck", "hc3", tags, 1, NULL, 0));
	ok(f, p_comment(ZID2, "renamed"));
}

/* Alias record sets: a snapshot holding one is format 3 like any other
 * (format 3 is this release's, alias fields included; 4 is refused) and
 * restores to the same bytes; a change in
 * another zone dirties the zone holding an alias (its target may be
 * there). */
static void test_snapshot_alias(void **state)
{
	struct control_fsm *f = fsm_new(), *g = fsm_new();
	struct q53_fsm *gb = control_fsm_base(g);
	struct control_fsm_dirty d;

	(void)state;
	ok(f, p_zone(ZID, "example.com", NULL, NULL));
	ok(f, p_zone(ZID2, "example.net", NULL, NULL));
	ok(f, p_batch(ZID2, "C1",
		      "{\"Changes\": [{\"Action\": \"CREATE\", "
		      "\"ResourceRecordSet\": {\"Name\": \"www.example.net\", "
		      "\"Type\": \"A\", \"TTL\": 60, \"ResourceRecords\": "
		      "[{\"Value\": \"192.0.2.1\"}]}}]}"));
	struct snap plain = snap(f);
	assert_int_equal(plain.p[1], 3);
	raft_free(plain.p);
	ok(f, p_batch(ZID, "C2",
		      "{\"Changes\": [{\"Action\": \"CREATE\", "
		      "\"ResourceRecordSet\": {\"Name\": \"example.com\", "
		      "\"Type\": \"A\", \"AliasTarget\": {\"HostedZoneId\": "
		      "\"" ZID2 "\", \"DNSName\": \"www.example.net\", "
		      "\"EvaluateTargetHealth\": false}}}]}"));
	struct snap a = snap(f);
	assert_int_equal(a.p[0], 0x08);
	assert_int_equal(a.p[1], 3);
	a.p[1] = 6; /* newer than this release (5: FsmSnapshotExt) */
	assert_int_not_equal(gb->restore(gb, a.p, a.len), 0);
	a.p[1] = 3;
	assert_int_equal(gb->restore(gb, a.p, a.len), 0);
	snap_same(a, snap(g));
	raft_free(a.p);

	control_fsm_take_dirty(f, &d);
	control_fsm_dirty_clear(&d);
	ok(f, p_batch(ZID2, "C3",
		      "{\"Changes\": [{\"Action\": \"UPSERT\", "
		      "\"ResourceRecordSet\": {\"Name\": \"www.example.net\", "
		      "\"Type\": \"A\", \"TTL\": 60, \"ResourceRecords\": "
		      "[{\"Value\": \"192.0.2.2\"}]}}]}"));
	control_fsm_take_dirty(f, &d);
	bool seen = false;
	for (size_t i = 0; i < d.n_zone_ids; i++)
		seen = seen || strcmp(d.zone_ids[i], ZID) == 0;
	assert_true(seen);
	control_fsm_dirty_clear(&d);
	control_fsm_free(f);
	control_fsm_free(g);
}

static void test_snapshot_round_trip(void **state)
{
	struct control_fsm *f = fsm_new(), *g = fsm_new(), *e = fsm_new();
	struct q53_fsm *gb = control_fsm_base(g);
	struct control_fsm_dirty d;
	struct snap a, b;

	(void)state;
	rich_history(f);
	a = snap(f);
	b = snap(f); /* deterministic */
	snap_same(a, b);
	assert_int_equal(gb->restore(gb, a.p, a.len), 0);
	snap_same(a, snap(g));
	assert_int_equal(control_fsm_applied(g), control_fsm_applied(f));
	control_fsm_take_dirty(g, &d);
	assert_true(d.all);
	assert_true(d.health);
	control_fsm_dirty_clear(&d);

	/* Both go on the same way. */
	ok(f, p_vote(1, "hc0", false, 77));
	ok(g, p_vote(1, "hc0", false, 77));
	ok(f, p_batch(ZID, "CY", BATCH_DEL_WWW));
	ok(g, p_batch(ZID, "CY", BATCH_DEL_WWW));
	b = snap(f);
	snap_same(b, snap(g));

	/* Restoring the empty FSM's snapshot empties g. */
	struct snap empty = snap(e);
	assert_int_equal(gb->restore(gb, empty.p, empty.len), 0);
	snap_same(empty, snap(g));
	assert_int_equal(control_fsm_applied(g), 0);
	assert_int_equal(control_fsm_node_count(g), 0);
	raft_free(empty.p);
	raft_free(a.p);
	raft_free(b.p);
	control_fsm_free(f);
	control_fsm_free(g);
	control_fsm_free(e);
}

/* The snapshot in two steps (capture now, encode later, as raft's thread
 * pool does): the bytes are the snapshot of the state at capture time,
 * whatever applies after it (sets replaced and deleted, the SOA serial
 * bumped in place, a zone emptied by import, nodes and checks changed)
 * and even after the FSM is gone; allocation failures in either step are
 * Q53_ENOMEM with nothing leaked. */
static void test_snapshot_capture(void **state)
{
	struct control_fsm *f = fsm_new(), *g = fsm_new();
	struct q53_fsm *b = control_fsm_base(f), *gb = control_fsm_base(g);
	struct control_upgrade *u;
	struct snap before, t;
	void *cap, *cap2;

	(void)state;
	assert_non_null(b->snapshot_capture);
	rich_history(f);
	before = snap(f);
	assert_int_equal(b->snapshot_capture(b, &cap), 0);
	ok(f, p_batch(ZID, "CZ1", BATCH_DEL_WWW));
	ok(f, p_batch(ZID, "CZ2", FAILOVER_BATCH("DELETE")));
	ok(f, p_import(ZID2, "b 60 IN A 192.0.2.2\n"));
	ok(f, p_vote(1, "hc0", false, 4242));
	ok(f, p_node(7, "late"));
	ok(f, p_import(ZID2, "@ 60 IN TXT \"emptied\"\n"));
	ok(f, p_batch(ZID2, "CZ5",
		      "{\"Changes\": [{\"Action\": \"DELETE\", "
		      "\"ResourceRecordSet\": {\"Name\": \"example.net\", "
		      "\"Type\": \"TXT\", \"TTL\": 60, \"ResourceRecords\": "
		      "[{\"Value\": \"\\\"emptied\\\"\"}]}}]}"));
	ok(f, p_zone_delete(ZID2, "CZ4"));
	struct snap after = snap(f);
	assert_true(after.len != before.len ||
		    memcmp(after.p, before.p, after.len) != 0);
	/* a second capture of the later state, encoded first */
	assert_int_equal(b->snapshot_capture(b, &cap2), 0);
	assert_int_equal(b->snapshot_encode(cap2, &t.p, &t.len), 0);
	b->snapshot_release(b, cap2);
	snap_same(after, t);
	/* the first capture, encoded last */
	assert_int_equal(b->snapshot_encode(cap, &t.p, &t.len), 0);
	b->snapshot_release(b, cap);
	assert_int_equal(t.len, before.len);
	assert_memory_equal(t.p, before.p, t.len);
	assert_int_equal(gb->restore(gb, t.p, t.len), 0);
	raft_free(t.p);
	snap_same(before, snap(g));
	/* the store let go of the sets it kept for the captures */
	ok(f, p_batch(ZID, "CZ3", BATCH_WWW));
	control_fsm_free(f);

	/* through the upgrade module, as the node takes it */
	assert_int_equal(control_upgrade_new(g, &u), 0);
	struct q53_fsm *ub = control_upgrade_base(u);
	assert_int_equal(ub->snapshot_capture(ub, &cap), 0);
	assert_int_equal(ub->snapshot_encode(cap, &t.p, &t.len), 0);
	ub->snapshot_release(ub, cap);
	snap_same(before, t);

	/* under allocation failures */
	for (long n = 0;; n++) {
		int rv;

		arm(n);
		rv = gb->snapshot_capture(gb, &cap);
		disarm();
		if (rv == 0) {
			gb->snapshot_release(gb, cap);
			break;
		}
		assert_int_equal(rv, Q53_ENOMEM);
	}
	assert_int_equal(gb->snapshot_capture(gb, &cap), 0);
	for (long n = 0;; n++) {
		int rv;

		arm(n);
		rv = gb->snapshot_encode(cap, &t.p, &t.len);
		disarm();
		if (rv == 0) {
			snap_same(before, t);
			break;
		}
		assert_int_equal(rv, Q53_ENOMEM);
	}
	gb->snapshot_release(gb, cap);
	control_upgrade_free(u);
	raft_free(before.p);
	raft_free(after.p);
	control_fsm_free(g);
}

static void test_snapshot_garbage(void **state)
{
	struct control_fsm *f = fsm_new(), *g = fsm_new();
	struct q53_fsm *gb = control_fsm_base(g);
	struct snap a, before;
	uint8_t junk[64];

	(void)state;
	rich_history(f);
	ok(g, p_node(7, "g")); /* g holds something of its own */
	before = snap(g);
	a = snap(f);
	/* Every truncation but the whole fails and leaves g as it was. */
	for (size_t n = 0; n < a.len; n += n < 256 ? 1 : 97) {
		int rv = gb->restore(gb, a.p, n);

		if (rv == 0)
			fail_msg("truncation at %zu of %zu restored", n, a.len);
		assert_int_equal(rv, Q53_EMALF);
		snap_same(before, snap(g));
	}
	/* Flipped bytes: refused, or (when the flip lands in a free-form
	 * field) a consistent state that snapshots to what it restored. */
	for (size_t i = 0; i < a.len; i += 7) {
		struct control_fsm *h = fsm_new();
		struct q53_fsm *hb = control_fsm_base(h);
		int rv;

		a.p[i] ^= 0x41;
		rv = hb->restore(hb, a.p, a.len);
		assert_true(rv == 0 || rv == Q53_EMALF);
		if (rv == 0) {
			struct snap s1 = snap(h), s2;
			struct control_fsm *k = fsm_new();
			struct q53_fsm *kb = control_fsm_base(k);

			assert_int_equal(kb->restore(kb, s1.p, s1.len), 0);
			s2 = snap(k);
			snap_same(s1, s2);
			raft_free(s1.p);
			control_fsm_free(k);
		}
		a.p[i] ^= 0x41;
		control_fsm_free(h);
	}
	memset(junk, 0xa5, sizeof(junk));
	assert_int_equal(gb->restore(gb, junk, sizeof(junk)), Q53_EMALF);
	snap_same(before, snap(g));
	raft_free(a.p);
	raft_free(before.p);
	control_fsm_free(f);
	control_fsm_free(g);
}

/* --- allocation failures --- */

/* Applies p with the n-th allocation failing, for n = 0, 1, ... until it
 * goes through: every failure is Q53_ENOMEM with the state unchanged, and
 * the final apply gives what a run without failures gives. */
static void apply_under_faults(struct control_fsm *f, struct command_payload p)
{
	struct control_upgrade *u, *ru;
	struct snap before = snap(f), after;
	struct control_fsm *ref = fsm_new();
	assert_int_equal(control_upgrade_new(f, &u), 0);
	assert_int_equal(control_upgrade_new(ref, &ru), 0);
	struct q53_fsm *b = control_upgrade_base(u);
	struct q53_fsm *rb = control_upgrade_base(ru);
	int32_t ref_code, code;
	uint8_t *ref_out, *out;
	size_t ref_len, len;
	struct control_fsm_dirty d;

	assert_int_equal(rb->restore(rb, before.p, before.len), 0);
	assert_int_equal(
	    rb->apply(rb, p.type, p.data, p.len, &ref_code, &ref_out, &ref_len),
	    0);
	after = snap(ref);
	for (long n = 0;; n++) {
		int rv;

		arm(n);
		rv = b->apply(b, p.type, p.data, p.len, &code, &out, &len);
		disarm();
		if (rv == Q53_ENOMEM) {
			assert_true(fault_hit);
			snap_same(before, snap(f));
			continue;
		}
		assert_int_equal(rv, 0);
		if (code != ref_code) {
			struct command_result r;

			assert_int_equal(command_result_decode(out, len, &r),
					 0);
			fail_msg("%s with allocation %ld failing: code %d (%s: "
				 "%s), expected %d",
				 command_type_name(p.type), n, code,
				 r.error_name, r.error_message, ref_code);
		}
		assert_int_equal(len, ref_len);
		assert_memory_equal(out, ref_out, len);
		raft_free(out);
		/* Through (possibly past a failure the FSM absorbed): the
		 * same result and state as without failures. */
		snap_same(after, snap(f));
		break;
	}
	/* Dirty marks are local: take them so ref and f can be compared
	 * again later on. */
	control_fsm_take_dirty(f, &d);
	control_fsm_dirty_clear(&d);
	raft_free(ref_out);
	raft_free(before.p);
	raft_free(after.p);
	control_upgrade_free(u);
	control_upgrade_free(ru);
	control_fsm_free(ref);
	command_payload_clear(&p);
}

static void test_allocation_failures(void **state)
{
	struct control_fsm *f = fsm_new();
	struct q53_fsm *b = control_fsm_base(f);

	(void)state;
	apply_under_faults(f, p_node(1, "a"));
	apply_under_faults(f, p_node(2, "b"));
	apply_under_faults(f, p_node(2, "b2"));
	apply_under_faults(f, p_zone(ZID, "example.com", "ref", "C0"));
	apply_under_faults(f, p_zone(ZID, "example.com", "ref", "C0"));
	apply_under_faults(f, p_zone(ZID2, "example.net", NULL, NULL));
	apply_under_faults(f, p_batch(ZID, "C1", BATCH_WWW));
	apply_under_faults(f, p_batch(ZID, "C2", BATCH_WWW));
	apply_under_faults(f, p_batch(ZID, "C2", "{bad json"));
	apply_under_faults(f, p_import(ZID2, "a 60 IN A 192.0.2.1\n"));
	apply_under_faults(f, p_check("hc1", "r1", HC_HTTP));
	apply_under_faults(f, p_check("hc2", "r1", HC_HTTP));
	apply_under_faults(f, p_check("hc3", NULL, "{\"Type\": \"TCP\"}"));
	apply_under_faults(f, p_check("hc4", NULL, HC_TCP));
	apply_under_faults(f, p_batch(ZID, "CF", FAILOVER_BATCH("CREATE")));
	apply_under_faults(f, p_batch(ZID, "CF1", FAILOVER_BATCH("CREATE")));
	apply_under_faults(f, p_vote(1, "hc1", false, 1));
	apply_under_faults(f, p_vote(2, "hc1", false, 2));
	apply_under_faults(f, p_vote(2, "hc1", true, 3));
	apply_under_faults(
	    f, p_check("calc", NULL,
		       "{\"Type\": \"CALCULATED\", \"ChildHealthChecks\": "
		       "[\"hc1\", \"hc4\"], \"HealthThreshold\": 1}"));
	apply_under_faults(f, p_check_update("hc4", 1, HC_TCP));
	apply_under_faults(f, p_check_update("hc4", 1, HC_TCP));
	apply_under_faults(f, p_check_delete("hc4")); /* in use */
	apply_under_faults(f, p_batch(ZID, "CF2", FAILOVER_BATCH("DELETE")));
	apply_under_faults(f, p_check_delete("hc4"));
	apply_under_faults(f, p_check_delete("calc"));
	apply_under_faults(f, p_node_remove(1, 4));
	apply_under_faults(f, p_batch(ZID, "C3", BATCH_DEL_WWW));
	apply_under_faults(f, p_zone_delete(ZID, "C4"));
	apply_under_faults(f, p_zone_delete(ZID, "C5"));

	/* Snapshot and restore under faults: Q53_ENOMEM, nothing changed. */
	struct snap s = snap(f), t;
	struct control_fsm *g = fsm_new();
	struct q53_fsm *gb = control_fsm_base(g);
	for (long n = 0;; n++) {
		int rv;

		arm(n);
		rv = b->snapshot(b, &t.p, &t.len);
		disarm();
		if (rv == 0) {
			snap_same(s, t);
			break;
		}
		assert_int_equal(rv, Q53_ENOMEM);
	}
	ok(g, p_node(9, "z"));
	struct snap g0 = snap(g);
	for (long n = 0;; n++) {
		int rv;

		arm(n);
		rv = gb->restore(gb, s.p, s.len);
		disarm();
		if (rv == 0)
			break;
		assert_int_equal(rv, Q53_ENOMEM);
		snap_same(g0, snap(g));
	}
	snap_same(s, snap(g));
	raft_free(g0.p);
	raft_free(s.p);
	control_fsm_free(g);
	control_fsm_free(f);
}

/* Tags (type 18) and zone comments (type 19): applied, refused with
 * Route 53's errors and no state change, dropped with their resource. */
static void test_tags_and_comments(void **state)
{
	struct control_fsm *f = fsm_new();
	const struct zone_store *st = control_fsm_zone_store(f);
	struct zone_store_info info;
	struct command_tag many[COMMAND_TAG_CHANGES_MAX];
	char keys[COMMAND_TAGS_MAX + 1][8];
	static const struct command_tag a[] = {{"b", "2"}, {"a", "1"}};
	static const char *const rm[] = {"a", "b"};
	static const struct command_tag again[] = {{"a", "new"}};

	(void)state;
	ok(f, p_zone(ZID, "example.com", NULL, NULL));
	ok(f, p_check("hc1", NULL, HC_TCP));
	ok(f, p_tags("hostedzone", ZID, a, 2, NULL, 0));
	const struct tag_resource *t = control_fsm_tags(f, "hostedzone", ZID);
	assert_non_null(t);
	assert_int_equal(t->n, 2);
	assert_string_equal(t->tags[0].key, "a"); /* by key */
	assert_string_equal(t->tags[1].value, "2");
	/* removals first: "a" removed and added again keeps the new value */
	ok(f, p_tags("hostedzone", ZID, again, 1, rm, 2));
	t = control_fsm_tags(f, "hostedzone", ZID);
	assert_int_equal(t->n, 1);
	assert_string_equal(t->tags[0].value, "new");
	assert_null(control_fsm_tags(f, "healthcheck", ZID));

	refused(f, p_tags("hostedzone", ZID2, a, 1, NULL, 0), Q53_ENOENT,
		"NoSuchHostedZone", ZID2);
	refused(f, p_tags("healthcheck", "nope", a, 1, NULL, 0), Q53_ENOENT,
		"NoSuchHealthCheck", "nope");
	refused(f, p_tags("vpc", ZID, a, 1, NULL, 0), Q53_EINVAL,
		"InvalidInput", "ResourceType");
	static const struct command_tag reserved[] = {{"aws:x", ""}};
	refused(f, p_tags("hostedzone", ZID, reserved, 1, NULL, 0), Q53_EINVAL,
		"InvalidInput", "aws:");
	refused(f, p_tags("hostedzone", ZID, NULL, 0, NULL, 0), Q53_EINVAL,
		"InvalidInput", NULL);
	/* up to 50 tags, 10 per command; the 51st is refused whole */
	for (size_t i = 0; i < COMMAND_TAGS_MAX + 1; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%02zu", i);
	for (size_t i = 0; i < COMMAND_TAGS_MAX - 1;) {
		size_t n = 0;
		for (; n < COMMAND_TAG_CHANGES_MAX && i < COMMAND_TAGS_MAX - 1;
		     n++, i++)
			many[n] = (struct command_tag){keys[i], "v"};
		ok(f, p_tags("healthcheck", "hc1", many, n, NULL, 0));
	}
	ok(f, p_tags("healthcheck", "hc1", a, 1, NULL, 0));
	assert_int_equal(control_fsm_tags(f, "healthcheck", "hc1")->n,
			 COMMAND_TAGS_MAX);
	many[0] = (struct command_tag){keys[COMMAND_TAGS_MAX], "v"};
	refused(f, p_tags("healthcheck", "hc1", many, 1, NULL, 0), Q53_EINVAL,
		"InvalidInput", "at most 50");

	/* comments */
	ok(f, p_comment(ZID, "new comment"));
	assert_int_equal(zone_store_get(st, ZID, &info), 0);
	assert_string_equal(info.comment, "new comment");
	ok(f, p_comment(ZID, ""));
	assert_int_equal(zone_store_get(st, ZID, &info), 0);
	assert_null(info.comment);
	refused(f, p_comment(ZID2, "x"), Q53_ENOENT, "NoSuchHostedZone", ZID2);
	char longc[300];
	memset(longc, 'c', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	refused(f, p_comment(ZID, longc), Q53_EINVAL, "InvalidInput", "256");

	/* deleting a resource drops its tags */
	ok(f, p_check_delete("hc1"));
	assert_null(control_fsm_tags(f, "healthcheck", "hc1"));
	ok(f, p_zone_delete(ZID, NULL));
	assert_null(control_fsm_tags(f, "hostedzone", ZID));
	control_fsm_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_command_codec),
	    cmocka_unit_test(test_zones),
	    cmocka_unit_test(test_import_decoded_same_as_payload),
	    cmocka_unit_test(test_change_records_oldest_evicted),
	    cmocka_unit_test(test_change_records_front_inserts_tail_evictions),
	    cmocka_unit_test(test_malformed_commands),
	    cmocka_unit_test(test_newer_versions),
	    cmocka_unit_test(test_legacy_snapshots),
	    cmocka_unit_test(test_nodes),
	    cmocka_unit_test(test_node_geoip),
	    cmocka_unit_test(test_health_votes),
	    cmocka_unit_test(test_health_transitions),
	    cmocka_unit_test(test_tags_and_comments),
	    cmocka_unit_test(test_snapshot_round_trip),
	    cmocka_unit_test(test_snapshot_alias),
	    cmocka_unit_test(test_routing_sets_snapshot),
	    cmocka_unit_test(test_snapshot_format_of_040_fields),
	    cmocka_unit_test(test_cidr_collections),
	    cmocka_unit_test(test_snapshot_capture),
	    cmocka_unit_test(test_snapshot_garbage),
	    cmocka_unit_test(test_allocation_failures),
	};

	/* Before any JSON exists: jansson's memory fails on demand too. */
	json_set_alloc_funcs(json_test_malloc, json_test_free);
	raft_heap_set(&test_heap);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
