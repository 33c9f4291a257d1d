/* IP-based routing: the CIDR collection table (Route 53's versions,
 * PUT / DELETE_IF_EXISTS, limits, in-use refusals, snapshot load), the
 * typed log form (fsm_log types 20 and 21, command version 4 for a record
 * set with CidrRoutingConfig), change-time validation, and the answers:
 * the longest prefix of the client's network picks the location, '*'
 * answers the rest (or NODATA), an unhealthy location falls back to the
 * default, and the ECS scope is the prefix the answer holds for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <libknot/libknot.h>
#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/cidr_table.h"
#include "node/control/command.h"
#include "node/control/zone_store.h"
#include "node/zone/node.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "tests/unit/support/route53_data.h"

#define ZID  "Z0123456789ABC"
#define CID  "0b6b2a5e-1c1d-4e8f-9a0b-1c2d3e4f5a6b"
#define CID2 "1b6b2a5e-1c1d-4e8f-9a0b-1c2d3e4f5a6b"

static const char *const NS[] = {"ns1.quorum53.test", "ns2.quorum53.test."};

/* --- the collection table --- */

static void create(struct cidr_table *t, const char *id, const char *name,
		   const char *ref, int want)
{
	char err[512];
	const struct cidr_collection *existing;
	struct command_create_cidr_collection c = {id, name, ref, 1};
	int rc = cidr_table_create(t, &c, &existing, err, sizeof(err));
	if (rc != want)
		fail_msg("create %s: %d (%s)", name, rc, err);
}

static struct cidr_block B(const char *text) {
	struct cidr_block b;
	char err[256];
	if (cidr_block_parse(text, &b, err, sizeof(err)) != 0)
		fail_msg("%s: %s", text, err);
	return b;
}

/* One change of one location with blocks texts[0..n). */
static int
change1(struct cidr_table *t, const char *id, uint64_t version,
	enum command_cidr_action action, const char *loc,
	const char *const *texts, size_t n, cidr_in_use_fn used, void *ctx,
	char *err, size_t errlen)
{
	struct cidr_block *bl = calloc(n + 1, sizeof(*bl));
	for (size_t i = 0; i < n; i++)
		bl[i] = B(texts[i]);
	struct command_cidr_change ch = {action, loc, bl, n};
	struct command_change_cidr_collection c = {
	    .id = id, .version = version, .changes = &ch, .n_changes = 1};
	int rc = cidr_table_change(t, &c, used, ctx, err, errlen);
	free(bl);
	return rc;
}

static bool used_loc(void *ctx, const char *id, const char *location)
{
	const char *want = ctx;
	(void)id;
	return location == NULL || strcmp(location, want) == 0;
}

static void test_block_parse(void **state)
{
	(void)state;
	struct cidr_block b;
	char err[256], text[64];
	assert_int_equal(cidr_block_parse("10.1.0.0/16", &b, err, sizeof(err)),
			 0);
	assert_int_equal(b.family, 4);
	assert_int_equal(b.len, 16);
	cidr_block_format(&b, text, sizeof(text));
	assert_string_equal(text, "10.1.0.0/16");
	assert_int_equal(
	    cidr_block_parse("2001:DB8::/32", &b, err, sizeof(err)), 0);
	cidr_block_format(&b, text, sizeof(text));
	assert_string_equal(text, "2001:db8::/32");
	const char *bad[] = {"10.0.0.0/25",
			     "10.0.0.0/0",
			     "2001:db8::/49",
			     "10.0.0.1/24",
			     "10.0.0.0",
			     "10.0.0.0/",
			     "nonsense/8",
			     "10.0.0.0/8x",
			     "10.0.0.0/-1",
			     "",
			     "/8",
			     "10.0.0.0/0008"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cidr_block_parse(bad[i], &b, err, sizeof(err)) !=
		    Q53_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(err, "InvalidInput: "));
	}
	assert_true(cidr_id_ok(CID));
	assert_false(cidr_id_ok("0B6B2A5E-1C1D-4E8F-9A0B-1C2D3E4F5A6B"));
	assert_false(cidr_id_ok("collection"));
	assert_true(cidr_location_name_ok("*", true));
	assert_false(cidr_location_name_ok("*", false));
	assert_false(cidr_location_name_ok("seventeen-chars-x", false));
}

/* Versions, PUT / DELETE_IF_EXISTS, optimistic concurrency. */
static void test_table_versions(void **state)
{
	(void)state;
	struct cidr_table t;
	char err[512];
	cidr_table_init(&t);
	create(&t, CID, "isps", "ref-1", 0);
	const struct cidr_collection *c = cidr_table_get(&t, CID);
	assert_non_null(c);
	assert_int_equal(c->version, 1);
	/* A retry answers the same collection; another reference or name
	 * reused is refused. */
	create(&t, CID2, "isps", "ref-1", 0);
	assert_int_equal(t.n, 1);
	create(&t, CID2, "isps", "ref-2", Q53_EEXIST);
	create(&t, CID2, "other", "ref-1", Q53_EEXIST);
	create(&t, "not-a-uuid", "x", "r", Q53_EINVAL);
	create(&t, CID2, "bad name!", "r", Q53_EINVAL);

	const char *a[] = {"10.0.0.0/8", "192.0.2.0/24"};
	assert_int_equal(change1(&t, CID, 1, COMMAND_CIDR_PUT, "east", a, 2,
				 NULL, NULL, err, sizeof(err)),
			 0);
	c = cidr_table_get(&t, CID);
	assert_int_equal(c->version, 2);
	assert_int_equal(c->n_locs, 1);
	assert_int_equal(c->n_blocks, 2);
	/* Stale version. */
	assert_int_equal(change1(&t, CID, 1, COMMAND_CIDR_PUT, "west", a, 1,
				 NULL, NULL, err, sizeof(err)),
			 Q53_EEXIST);
	assert_non_null(
	    strstr(err, "CidrCollectionVersionMismatchException: "));
	/* A block of another location. */
	assert_int_equal(change1(&t, CID, 0, COMMAND_CIDR_PUT, "west", a, 1,
				 NULL, NULL, err, sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(strstr(err, "already in the location east"));
	assert_int_equal(cidr_table_get(&t, CID)->version, 2);
	/* PUT again is a no-op on the blocks but a new version. */
	assert_int_equal(change1(&t, CID, 2, COMMAND_CIDR_PUT, "east", a, 2,
				 NULL, NULL, err, sizeof(err)),
			 0);
	c = cidr_table_get(&t, CID);
	assert_int_equal(c->version, 3);
	assert_int_equal(c->n_blocks, 2);
	/* DELETE_IF_EXISTS: absent blocks and locations are fine; the last
	 * block takes the location with it. */
	const char *gone[] = {"192.0.2.0/24", "198.51.100.0/24"};
	assert_int_equal(change1(&t, CID, 3, COMMAND_CIDR_DELETE_IF_EXISTS,
				 "east", gone, 2, NULL, NULL, err, sizeof(err)),
			 0);
	assert_int_equal(change1(&t, CID, 0, COMMAND_CIDR_DELETE_IF_EXISTS,
				 "nowhere", gone, 2, NULL, NULL, err,
				 sizeof(err)),
			 0);
	c = cidr_table_get(&t, CID);
	assert_int_equal(c->version, 5);
	assert_int_equal(c->n_blocks, 1);
	assert_non_null(cidr_collection_location(c, "east"));
	/* Unknown collection. */
	assert_int_equal(change1(&t, CID2, 0, COMMAND_CIDR_PUT, "x", a, 1, NULL,
				 NULL, err, sizeof(err)),
			 Q53_ENOENT);
	assert_non_null(strstr(err, "NoSuchCidrCollectionException: "));
	cidr_table_free(&t);
}

/* Limits, in-use refusals, deletion. */
static void test_table_limits_in_use(void **state)
{
	(void)state;
	struct cidr_table t;
	char err[512], id[64], name[32], ref[32];
	cidr_table_init(&t);
	for (int i = 0; i < CIDR_COLLECTIONS_MAX; i++) {
		snprintf(id, sizeof(id), "%08x-1c1d-4e8f-9a0b-1c2d3e4f5a6b", i);
		snprintf(name, sizeof(name), "c%d", i);
		snprintf(ref, sizeof(ref), "r%d", i);
		create(&t, id, name, ref, 0);
	}
	create(&t, CID, "one-too-many", "r-x", Q53_ELIMIT);
	char cid[CIDR_ID_LEN + 1];
	snprintf(cid, sizeof(cid), "%s", t.v[0].id);
	/* CIDR_BLOCKS_MAX blocks per collection. */
	struct cidr_block *bl = calloc(CIDR_BLOCKS_MAX + 1, sizeof(*bl));
	for (int i = 0; i <= CIDR_BLOCKS_MAX; i++) {
		bl[i].family = 4;
		bl[i].len = 24;
		bl[i].addr[0] = 10;
		bl[i].addr[1] = (uint8_t)(i >> 8);
		bl[i].addr[2] = (uint8_t)i;
	}
	struct command_cidr_change two[2] = {
	    {COMMAND_CIDR_PUT, "big", bl, CIDR_BLOCKS_MAX},
	    {COMMAND_CIDR_PUT, "more", bl + CIDR_BLOCKS_MAX, 1}};
	struct command_change_cidr_collection c2 = {
	    .id = cid, .changes = two, .n_changes = 2};
	assert_int_equal(
	    cidr_table_change(&t, &c2, NULL, NULL, err, sizeof(err)),
	    Q53_ELIMIT);
	assert_non_null(strstr(err, "LimitsExceeded: "));
	assert_int_equal(cidr_table_get(&t, cid)->n_blocks, 0);
	struct command_cidr_change ch = {COMMAND_CIDR_PUT, "big", bl,
					 CIDR_BLOCKS_MAX};
	struct command_change_cidr_collection c = {
	    .id = cid, .changes = &ch, .n_changes = 1};
	assert_int_equal(
	    cidr_table_change(&t, &c, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(cidr_table_get(&t, cid)->n_blocks, CIDR_BLOCKS_MAX);
	/* Emptying a location record sets use. */
	ch.action = COMMAND_CIDR_DELETE_IF_EXISTS;
	assert_int_equal(
	    cidr_table_change(&t, &c, used_loc, "big", err, sizeof(err)),
	    Q53_EINVAL);
	assert_non_null(strstr(err, "CidrBlockInUseException: "));
	/* Deletion: refused while used, then while not empty. */
	assert_int_equal(
	    cidr_table_delete(&t, cid, 0, used_loc, "big", err, sizeof(err)),
	    Q53_EINVAL);
	assert_non_null(strstr(err, "CidrCollectionInUseException: record"));
	assert_int_equal(
	    cidr_table_delete(&t, cid, 0, NULL, NULL, err, sizeof(err)),
	    Q53_EINVAL);
	assert_non_null(strstr(err, "CidrCollectionInUseException: the"));
	assert_int_equal(
	    cidr_table_change(&t, &c, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(
	    cidr_table_delete(&t, cid, 1, NULL, NULL, err, sizeof(err)),
	    Q53_EEXIST);
	assert_int_equal(
	    cidr_table_delete(&t, cid, 0, NULL, NULL, err, sizeof(err)), 0);
	assert_null(cidr_table_get(&t, cid));
	assert_int_equal(
	    cidr_table_delete(&t, cid, 0, NULL, NULL, err, sizeof(err)),
	    Q53_ENOENT);
	/* The shape of a change. */
	struct command_cidr_change bad = {COMMAND_CIDR_PUT, "*", bl, 1};
	struct command_change_cidr_collection cb = {
	    .id = t.v[0].id, .changes = &bad, .n_changes = 1};
	assert_int_equal(cidr_table_check_change(&cb, err, sizeof(err)),
			 Q53_EINVAL);
	bad.location = "ok";
	bad.n_blocks = 0;
	assert_int_equal(cidr_table_check_change(&cb, err, sizeof(err)),
			 Q53_EINVAL);
	free(bl);
	cidr_table_free(&t);
}

/* Snapshot load refuses what a table could never hold. */
static void test_table_load(void **state)
{
	(void)state;
	struct cidr_table t;
	cidr_table_init(&t);
	struct cidr_block a[2] = {B("10.0.0.0/8"), B("10.1.0.0/16")};
	struct cidr_block dup[1] = {B("10.0.0.0/8")};
	struct cidr_location ok[2] = {{"a", a, 2}, {"b", a + 1, 0}};
	assert_int_equal(cidr_table_load(&t, CID, "n", "r", 3, ok, 1), 0);
	assert_int_equal(cidr_table_get(&t, CID)->version, 3);
	/* ids in order, names once */
	assert_int_equal(cidr_table_load(&t, CID, "m", "r", 1, NULL, 0),
			 Q53_EMALF);
	assert_int_equal(cidr_table_load(&t, CID2, "n", "r", 1, NULL, 0),
			 Q53_EMALF);
	/* an empty location, a block twice, unsorted blocks */
	assert_int_equal(cidr_table_load(&t, CID2, "m", "r", 1, ok, 2),
			 Q53_EMALF);
	struct cidr_location two[2] = {{"a", a, 1}, {"b", dup, 1}};
	assert_int_equal(cidr_table_load(&t, CID2, "m", "r", 1, two, 2),
			 Q53_EMALF);
	struct cidr_block rev[2] = {a[1], a[0]};
	struct cidr_location unsorted[1] = {{"a", rev, 2}};
	assert_int_equal(cidr_table_load(&t, CID2, "m", "r", 1, unsorted, 1),
			 Q53_EMALF);
	assert_int_equal(t.n, 1);
	cidr_table_free(&t);
}

/* --- record sets and answers --- */

static int lookup(void *ctx, const char *ref, const char *location,
		  const struct cidr_block **blocks, size_t *n, const char **id)
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

struct health {
	const char *down[4];
};

static bool healthy(void *ctx, const char *id)
{
	const struct health *h = ctx;
	for (size_t i = 0; h != NULL && i < 4 && h->down[i] != NULL; i++)
		if (strcmp(h->down[i], id) == 0)
			return false;
	return true;
}

static bool exists(void *ctx, const char *id)
{
	(void)ctx;
	return strncmp(id, "hc", 2) == 0;
}

struct fixture {
	struct cidr_table t;
	struct zone_store s;
};

/* Collection CID: "wide" 10.0.0.0/8 and 2001:db8::/32, "narrow"
 * 10.1.0.0/16 and 2001:db8:1::/48, "other" 198.51.100.0/24. */
static void fixture_new(struct fixture *f)
{
	char err[512];
	cidr_table_init(&f->t);
	create(&f->t, CID, "isps", "r", 0);
	const char *wide[] = {"10.0.0.0/8", "2001:db8::/32"};
	const char *narrow[] = {"10.1.0.0/16", "2001:db8:1::/48"};
	const char *other[] = {"198.51.100.0/24"};
	assert_int_equal(change1(&f->t, CID, 0, COMMAND_CIDR_PUT, "wide", wide,
				 2, NULL, NULL, err, sizeof(err)),
			 0);
	assert_int_equal(change1(&f->t, CID, 0, COMMAND_CIDR_PUT, "narrow",
				 narrow, 2, NULL, NULL, err, sizeof(err)),
			 0);
	assert_int_equal(change1(&f->t, CID, 0, COMMAND_CIDR_PUT, "other",
				 other, 1, NULL, NULL, err, sizeof(err)),
			 0);
	create(&f->t, CID2, "second", "r2", 0);
	assert_int_equal(change1(&f->t, CID2, 0, COMMAND_CIDR_PUT, "wide",
				 other, 1, NULL, NULL, err, sizeof(err)),
			 0);
	struct zone_store_create_params p = {.id = ZID,
					     .name = "example.com",
					     .nameservers = NS,
					     .nnameservers = 2};
	zone_store_init(&f->s);
	zone_store_set_cidr(&f->s, lookup, &f->t);
	assert_int_equal(zone_store_create(&f->s, &p, err, sizeof(err)), 0);
}

static void fixture_free(struct fixture *f)
{
	zone_store_free(&f->s);
	cidr_table_free(&f->t);
}

static int apply(struct fixture *f, const char *json, char *err, size_t errlen)
{
	struct change_batch *b;
	struct change_batch_typed t = {0};
	int rc = change_batch_parse(&b, json, strlen(json), err, errlen);
	if (rc != 0)
		return rc;
	rc = change_batch_compile(b, &t);
	if (rc == 0)
		rc = zone_store_apply_with_checks(&f->s, ZID, &t.batch, exists,
						  NULL, err, errlen);
	change_batch_typed_free(&t);
	change_batch_free(b);
	return rc;
}

static void apply_ok(struct fixture *f, const char *json)
{
	char err[4096];
	if (apply(f, json, err, sizeof(err)) != 0)
		fail_msg("%s\n%s", err, json);
}

static void refused(struct fixture *f, const char *json, const char *needle)
{
	char err[4096];
	int rc = apply(f, json, err, sizeof(err));
	if (rc == 0 || strstr(err, needle) == NULL)
		fail_msg("rc %d, '%s' lacks '%s'", rc, err, needle);
}

#define CH(action, rrs)                                                        \
	"{\"Action\": \"" action "\", \"ResourceRecordSet\": {" rrs "}}"
#define BATCH(changes) "{\"Changes\": [" changes "]}"
#define IP(id, coll, loc, value, extra)                                        \
	"\"Name\": \"ip.example.com\", \"Type\": \"A\", \"TTL\": 60, "         \
	"\"SetIdentifier\": \"" id "\", \"CidrRoutingConfig\": "               \
	"{\"CollectionId\": \"" coll "\", \"LocationName\": \"" loc "\"}, "    \
	"\"ResourceRecords\": [{\"Value\": \"192.0.2." value "\"}]" extra
#define HC(id) ", \"HealthCheckId\": \"" id "\""

/* The last octet of the answer's 192.0.2.x for a client at addr/source
 * (ECS when ecs, else the source address), 0 for NODATA; *scope the ECS
 * scope. */
static int answer(struct fixture *f, struct health *h, const char *addr,
		  unsigned source, bool ecs, uint8_t *scope)
{
	struct zone *z;
	struct serving_view *v;
	char err[512];
	uint8_t wire[256], labels[128], a16[16] = {0};
	if (zone_store_build_with_health(&f->s, ZID, healthy, h, &z, err,
					 sizeof(err)) != 0)
		fail_msg("build: %s", err);
	assert_int_equal(serving_view_build(&v, &z, 1), 0);
	zone_release(z);
	assert_non_null(knot_dname_from_str(wire, "ip.example.com", 256));
	size_t len = knot_dname_size(wire), nl = 0;
	for (size_t o = 0; wire[o] != 0; o += 1u + wire[o])
		labels[nl++] = (uint8_t)o;
	size_t matched;
	const struct zone *zz;
	const struct zone_node *n =
	    serving_view_lookup(v, wire, len, labels, nl, &matched, &zz);
	assert_non_null(n);
	struct zone_choice_key key = {
	    .qname = wire, .qname_len = len, .qtype = KNOT_RRTYPE_A};
	bool v6 = strchr(addr, ':') != NULL;
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, addr, a16), 1);
	key.family = v6 ? 6 : 4;
	/* What query.c's choice_key makes of it. */
	unsigned bits = ecs ? source : (v6 ? 56 : 24);
	if (bits > (v6 ? 56u : 24u))
		bits = v6 ? 56 : 24;
	key.subnet_len = (uint8_t)((bits + 7) / 8);
	memcpy(key.subnet, a16, key.subnet_len);
	if (bits & 7)
		key.subnet[key.subnet_len - 1] &=
		    (uint8_t)(0xFFu << (8 - (bits & 7)));
	key.scope = ecs ? (uint8_t)bits : 0;
	const struct zone_answer *a = zone_node_answer(n, KNOT_RRTYPE_A, &key);
	int last = 0;
	for (size_t i = 0; a != NULL && a->an > 0 && i + 5 < a->len; i++)
		if (a->body[i] == 0 && a->body[i + 1] == 4 &&
		    a->body[i + 2] == 192 && a->body[i + 3] == 0 &&
		    a->body[i + 4] == 2)
			last = a->body[i + 5];
	if (!key.picked)
		fail_msg("not a choice");
	if (scope != NULL)
		*scope = key.scope;
	serving_view_free(v);
	return last;
}

#define GROUP                                                                  \
	BATCH(CH("CREATE", IP("w", CID, "wide", "1", HC("hc-w"))) "," CH(      \
	    "CREATE", IP("n", CID, "narrow", "2",                              \
			 HC("hc-n"))) "," CH("CREATE",                         \
					     IP("d", CID, "*", "9", "")))

static void test_longest_prefix(void **state)
{
	(void)state;
	struct fixture f;
	uint8_t scope;
	fixture_new(&f);
	apply_ok(&f, GROUP);
	/* Longest prefix; the scope is the matched prefix. */
	assert_int_equal(answer(&f, NULL, "10.1.2.0", 24, true, &scope), 2);
	assert_int_equal(scope, 16);
	assert_int_equal(answer(&f, NULL, "10.2.0.0", 24, true, &scope), 1);
	assert_int_equal(scope, 15); /* 10.2/15 is all wide */
	assert_int_equal(answer(&f, NULL, "10.200.0.0", 24, true, &scope), 1);
	assert_int_equal(scope, 9);
	/* The source address (no ECS). */
	assert_int_equal(answer(&f, NULL, "10.1.9.7", 0, false, NULL), 2);
	assert_int_equal(answer(&f, NULL, "2001:db8:1::1", 0, false, NULL), 2);
	assert_int_equal(answer(&f, NULL, "2001:db8:2::1", 0, false, NULL), 1);
	/* Unmatched: the default, for the whole network the scope names. */
	assert_int_equal(answer(&f, NULL, "192.0.2.0", 24, true, &scope), 9);
	assert_true(scope >= 1 && scope <= 24);
	assert_int_equal(answer(&f, NULL, "2001:db9::", 48, true, NULL), 9);
	/* A location of the collection no set names ("other") answers
	 * the default. */
	assert_int_equal(answer(&f, NULL, "198.51.100.0", 24, true, NULL), 9);
	/* ECS shorter than the narrow block: only blocks no longer than the
	 * source prefix match (Route 53's rule). */
	assert_int_equal(answer(&f, NULL, "10.0.0.0", 12, true, &scope), 1);
	assert_int_equal(scope, 12);
	assert_int_equal(answer(&f, NULL, "2001:db8::", 40, true, &scope), 1);
	assert_int_equal(scope, 40);
	fixture_free(&f);
}

static void test_unhealthy_and_nodata(void **state)
{
	(void)state;
	struct fixture f;
	fixture_new(&f);
	apply_ok(&f, GROUP);
	struct health narrow_down = {{"hc-n"}};
	struct health both_down = {{"hc-n", "hc-w"}};
	/* An unhealthy location falls back to the default, not to the
	 * wider location. */
	assert_int_equal(answer(&f, &narrow_down, "10.1.2.0", 24, true, NULL),
			 9);
	assert_int_equal(answer(&f, &narrow_down, "10.2.0.0", 24, true, NULL),
			 1);
	assert_int_equal(answer(&f, &both_down, "10.2.0.0", 24, true, NULL), 9);
	/* No default: unmatched is NODATA. */
	apply_ok(&f, BATCH(CH("DELETE", IP("d", CID, "*", "9", ""))));
	assert_int_equal(answer(&f, NULL, "192.0.2.0", 24, true, NULL), 0);
	assert_int_equal(answer(&f, NULL, "10.1.0.0", 24, true, NULL), 2);
	assert_int_equal(answer(&f, &narrow_down, "10.1.2.0", 24, true, NULL),
			 0);
	/* Every member unhealthy: as if all were healthy (fail open). */
	assert_int_equal(answer(&f, &both_down, "10.1.2.0", 24, true, NULL), 2);
	fixture_free(&f);
}

/* The collection's blocks are read when the zone is built: a change of
 * them changes the next build's answers. */
static void test_collection_change(void **state)
{
	(void)state;
	struct fixture f;
	char err[512];
	fixture_new(&f);
	apply_ok(&f, GROUP);
	assert_true(zone_store_cidr_in_use(&f.s, CID, NULL));
	assert_true(zone_store_cidr_in_use(&f.s, CID, "narrow"));
	assert_false(zone_store_cidr_in_use(&f.s, CID, "other"));
	assert_false(zone_store_cidr_in_use(&f.s, CID2, NULL));
	assert_int_equal(answer(&f, NULL, "203.0.113.0", 24, true, NULL), 9);
	const char *more[] = {"203.0.113.0/24"};
	assert_int_equal(change1(&f.t, CID, 0, COMMAND_CIDR_PUT, "narrow", more,
				 1, NULL, NULL, err, sizeof(err)),
			 0);
	assert_int_equal(answer(&f, NULL, "203.0.113.0", 24, true, NULL), 2);
	fixture_free(&f);
}

static void test_validation(void **state)
{
	(void)state;
	struct fixture f;
	fixture_new(&f);
	refused(&f,
		BATCH(CH("CREATE", IP("x",
				      "2b6b2a5e-1c1d-4e8f-9a0b-"
				      "1c2d3e4f5a6b",
				      "wide", "1", ""))),
		"change 0: [name='ip.example.com.', type='A', "
		"set-identifier='x']: No CIDR collection found with ID");
	refused(&f, BATCH(CH("CREATE", IP("x", CID, "nowhere", "1", ""))),
		"has no location nowhere");
	refused(&f, BATCH(CH("CREATE", IP("x", "unknown", "wide", "1", ""))),
		"No CIDR collection found with ID unknown");
	refused(&f, BATCH(CH("CREATE", IP("x", "not a name", "wide", "1", ""))),
		"CidrRoutingConfig needs a CollectionId");
	refused(&f, BATCH(CH("CREATE", IP("x", CID, "bad loc", "1", ""))),
		"CidrRoutingConfig needs a CollectionId");
	/* One location twice, two collections, two changes of one set. */
	refused(&f,
		BATCH(CH("CREATE", IP("a", CID, "wide", "1", "")) "," CH(
		    "CREATE", IP("b", CID, "wide", "2", ""))),
		"already has the CIDR location wide");
	refused(&f,
		BATCH(CH("CREATE", IP("a", CID, "wide", "1", "")) "," CH(
		    "CREATE", IP("b", CID2, "wide", "2", ""))),
		"uses another CIDR collection");
	refused(&f,
		BATCH(CH("CREATE", IP("a", CID, "wide", "1", "")) "," CH(
		    "CREATE", IP("a", CID, "narrow", "2", ""))),
		"change 1");
	/* SetIdentifier is required; one policy only. */
	refused(&f,
		BATCH(CH("CREATE",
			 "\"Name\": \"ip.example.com\", \"Type\": \"A\", "
			 "\"TTL\": 60, \"CidrRoutingConfig\": "
			 "{\"CollectionId\": \"" CID
			 "\", \"LocationName\": \"wide\"}, "
			 "\"ResourceRecords\": [{\"Value\": \"192.0.2.1\"}]")),
		"Missing field 'SetIdentifier'");
	refused(
	    &f,
	    BATCH(CH("CREATE", IP("a", CID, "wide", "1", ", \"Weight\": 1"))),
	    "Expected exactly one of");
	refused(&f,
		BATCH(CH("CREATE", "\"Name\": \"ip.example.com\", "
				   "\"Type\": \"A\", \"TTL\": 60, "
				   "\"SetIdentifier\": \"a\", "
				   "\"CidrRoutingConfig\": "
				   "{\"CollectionId\": \"" CID "\"}, "
				   "\"ResourceRecords\": [{\"Value\": "
				   "\"192.0.2.1\"}]")),
		"CidrRoutingConfig");
	apply_ok(&f, BATCH(CH("CREATE", IP("a", CID, "wide", "1", ""))));
	/* Mixed policies, a SetIdentifier used already. */
	refused(&f,
		BATCH(CH("CREATE",
			 "\"Name\": \"ip.example.com\", \"Type\": \"A\", "
			 "\"TTL\": 60, \"SetIdentifier\": \"w\", "
			 "\"Weight\": 1, \"ResourceRecords\": [{\"Value\": "
			 "\"192.0.2.9\"}]")),
		"non weighted rrset exists");
	refused(&f, BATCH(CH("CREATE", IP("a", CID, "narrow", "2", ""))),
		"already exists");
	/* Latency and IP-based routing are two policies: not in one set,
	 * not in one group, either way round. */
	refused(&f,
		BATCH(CH("CREATE", IP("r", CID, "narrow", "3",
				      ", \"Region\": \"us-east-1\""))),
		"but found more than one");
	refused(&f,
		BATCH(CH("CREATE",
			 "\"Name\": \"ip.example.com\", \"Type\": \"A\", "
			 "\"TTL\": 60, \"SetIdentifier\": \"l\", "
			 "\"Region\": \"us-east-1\", \"ResourceRecords\": "
			 "[{\"Value\": \"192.0.2.8\"}]")),
		"a non latency rrset exists");
	apply_ok(&f, BATCH(CH("CREATE",
			      "\"Name\": \"lat.example.com\", \"Type\": "
			      "\"A\", \"TTL\": 60, \"SetIdentifier\": \"l\", "
			      "\"Region\": \"us-east-1\", \"ResourceRecords\": "
			      "[{\"Value\": \"192.0.2.8\"}]")));
	refused(&f,
		BATCH(CH("CREATE",
			 "\"Name\": \"lat.example.com\", \"Type\": \"A\", "
			 "\"TTL\": 60, \"SetIdentifier\": \"c\", "
			 "\"CidrRoutingConfig\": {\"CollectionId\": \"" CID
			 "\", \"LocationName\": \"wide\"}, "
			 "\"ResourceRecords\": [{\"Value\": \"192.0.2.1\"}]")),
		"a non IP-based rrset exists");
	fixture_free(&f);
}

/* An alias member keeps its location (named by the collection's name)
 * and answers with its target's record. */
static void test_alias_member(void **state)
{
	(void)state;
	struct fixture f;
	fixture_new(&f);
	apply_ok(&f, BATCH(CH("CREATE", "\"Name\": \"t.example.com\", "
					"\"Type\": \"A\", \"TTL\": 60, "
					"\"ResourceRecords\": [{\"Value\": "
					"\"192.0.2.7\"}]")));
	apply_ok(&f, BATCH(CH("CREATE", IP("w", CID, "wide", "1", "")) "," CH(
			 "CREATE",
			 "\"Name\": \"ip.example.com\", \"Type\": \"A\", "
			 "\"SetIdentifier\": \"n\", \"CidrRoutingConfig\": "
			 "{\"CollectionId\": \"isps\", \"LocationName\": "
			 "\"narrow\"}, \"AliasTarget\": {\"HostedZoneId\": "
			 "\"" ZID "\", \"DNSName\": \"t.example.com\", "
			 "\"EvaluateTargetHealth\": false}")));
	assert_int_equal(answer(&f, NULL, "10.1.2.0", 24, true, NULL), 7);
	assert_int_equal(answer(&f, NULL, "10.9.0.0", 24, true, NULL), 1);
	assert_int_equal(answer(&f, NULL, "192.0.2.0", 24, true, NULL), 0);
	fixture_free(&f);
}

/* The AWS CLI file, verbatim: its CollectionId names the collection
 * ("offices"); the store keeps the collection's id. */
static void test_file_verbatim(void **state)
{
	(void)state;
	struct fixture f;
	char err[512];
	size_t len;
	fixture_new(&f);
	create(&f.t, "2b6b2a5e-1c1d-4e8f-9a0b-1c2d3e4f5a6b", "offices", "o", 0);
	const char *berlin[] = {"10.49.0.0/16"};
	const char *nyc[] = {"10.212.0.0/16"};
	const char *oid = "2b6b2a5e-1c1d-4e8f-9a0b-1c2d3e4f5a6b";
	assert_int_equal(change1(&f.t, oid, 0, COMMAND_CIDR_PUT, "berlin",
				 berlin, 1, NULL, NULL, err, sizeof(err)),
			 0);
	assert_int_equal(change1(&f.t, oid, 0, COMMAND_CIDR_PUT, "nyc", nyc, 1,
				 NULL, NULL, err, sizeof(err)),
			 0);
	char *json = route53_data_load("batch-cidr.json", &len);
	apply_ok(&f, json);
	free(json);
	struct zone_store_info info;
	assert_int_equal(zone_store_get(&f.s, ZID, &info), 0);
	bool seen = false;
	for (size_t i = 0; i < info.nrrsets; i++) {
		const struct zone_store_rrset *r =
		    zone_store_info_rrset(&info, i);
		if (zone_store_rrset_cidr_collection(r) != NULL) {
			assert_string_equal(zone_store_rrset_cidr_collection(r),
					    oid);
			seen = true;
		}
	}
	assert_true(seen);
	assert_true(zone_store_cidr_in_use(&f.s, oid, "berlin"));
	fixture_free(&f);
}

/* The typed log: CidrRoutingConfig travels with command version 4 (read
 * by this release, whose maximum is latency's 5); the
 * collection commands round-trip. */
static void test_typed_log(void **state)
{
	(void)state;
	struct change_batch *b;
	struct change_batch_typed t = {0};
	char err[512];
	const char *json = BATCH(CH("UPSERT", IP("n", CID, "narrow", "2", "")));
	assert_int_equal(
	    change_batch_parse(&b, json, strlen(json), err, sizeof(err)), 0);
	assert_int_equal(change_batch_compile(b, &t), 0);
	struct command_change_rrsets c = {
	    .zone_id = ZID, .change_id = "C1", .batch = t.batch};
	struct command_payload p;
	assert_int_equal(command_encode_change_rrsets(&c, &p), 0);
	assert_int_equal(command_peek_version(p.data, p.len),
			 COMMAND_VERSION_CIDR);
	/* Accepted beside the latency sets' newer version 5. */
	assert_true(command_version_max(COMMAND_CHANGE_RRSETS) >=
		    COMMAND_VERSION_CIDR);
	struct command out;
	assert_int_equal(
	    command_decode(COMMAND_CHANGE_RRSETS, p.data, p.len, &out), 0);
	const struct rrset_data *r = &out.u.change_rrsets.batch.changes[0].set;
	assert_string_equal(r->cidr_collection_id, CID);
	assert_string_equal(r->cidr_location, "narrow");
	command_free(&out);
	raft_free(p.data);
	/* The JSON form reads back the same. */
	char *again;
	size_t len;
	assert_int_equal(change_batch_format(b, &again, &len), 0);
	assert_non_null(strstr(again, "\"CidrRoutingConfig\":{\"CollectionId"
				      "\":\"" CID "\",\"LocationName\":"
				      "\"narrow\"}"));
	free(again);
	change_batch_typed_free(&t);
	change_batch_free(b);

	struct command_create_cidr_collection cc = {CID, "isps", "ref", 7};
	assert_int_equal(command_encode_create_cidr_collection(&cc, &p), 0);
	assert_int_equal(p.type, COMMAND_CREATE_CIDR_COLLECTION);
	assert_int_equal(command_decode(p.type, p.data, p.len, &out), 0);
	assert_string_equal(out.u.create_cidr_collection.name, "isps");
	assert_string_equal(out.u.create_cidr_collection.caller_reference,
			    "ref");
	command_free(&out);
	raft_free(p.data);

	struct cidr_block bl[2] = {B("10.0.0.0/8"), B("2001:db8::/32")};
	struct command_cidr_change ch[2] = {
	    {COMMAND_CIDR_PUT, "a", bl, 2},
	    {COMMAND_CIDR_DELETE_IF_EXISTS, "b", bl + 1, 1}};
	struct command_change_cidr_collection cg = {
	    .id = CID, .version = 3, .changes = ch, .n_changes = 2};
	assert_int_equal(command_encode_change_cidr_collection(&cg, &p), 0);
	assert_int_equal(p.type, COMMAND_CHANGE_CIDR_COLLECTION);
	assert_true(command_type_versioned(p.type));
	assert_int_equal(command_decode(p.type, p.data, p.len, &out), 0);
	const struct command_change_cidr_collection *d =
	    &out.u.change_cidr_collection;
	assert_int_equal(d->version, 3);
	assert_int_equal(d->n_changes, 2);
	assert_int_equal(d->changes[1].action, COMMAND_CIDR_DELETE_IF_EXISTS);
	assert_int_equal(d->changes[0].n_blocks, 2);
	assert_int_equal(cidr_block_cmp(&d->changes[0].blocks[1], &bl[1]), 0);
	assert_false(d->delete_collection);
	command_free(&out);
	raft_free(p.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_block_parse),
	    cmocka_unit_test(test_table_versions),
	    cmocka_unit_test(test_table_limits_in_use),
	    cmocka_unit_test(test_table_load),
	    cmocka_unit_test(test_longest_prefix),
	    cmocka_unit_test(test_unhealthy_and_nodata),
	    cmocka_unit_test(test_collection_change),
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_file_verbatim),
	    cmocka_unit_test(test_alias_member),
	    cmocka_unit_test(test_typed_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
