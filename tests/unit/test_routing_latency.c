/* Latency routing: the replicated latency table (longest prefix, rows
 * replaced and deleted, measured site rows, the snapshot round trip, the
 * typed commands 22 and 23), Region at change time (Route 53's codes, the
 * cluster's site regions, duplicates, mixed policies, the typed log at
 * command_version 5), and the answers: the lowest RTT of the client's
 * row wins, unhealthy records are skipped (all unhealthy: as if all were
 * healthy), clients no row covers get the node's own site's measured
 * row, else its region, else the first record, and the ECS scope is the
 * table's. */
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
#include "node/control/control_fsm.h"
#include "node/control/latency_table.h"
#include "node/control/zone_store.h"
#include "node/raft/fsm.h"
#include "node/zone/node.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "tests/unit/support/route53_data.h"

#define ZID "Z0123456789ABC"

static const char *const NS[] = {"ns1.quorum53.test", "ns2.quorum53.test."};

/* --- helpers --- */

static struct latency_row row(const char *cidr, const char *r1, uint32_t t1,
			      const char *r2, uint32_t t2)
{
	struct latency_row r;
	char why[160];
	memset(&r, 0, sizeof(r));
	assert_true(latency_cidr_parse(cidr, &r));
	if (r1 != NULL) {
		snprintf(r.rtt[r.n].region, sizeof(r.rtt[0].region), "%s", r1);
		r.rtt[r.n++].rtt_ms = t1;
	}
	if (r2 != NULL) {
		snprintf(r.rtt[r.n].region, sizeof(r.rtt[0].region), "%s", r2);
		r.rtt[r.n++].rtt_ms = t2;
	}
	assert_int_equal(latency_row_check(&r, why, sizeof(why)), 0);
	return r;
}

static const struct latency_row *lookup(const struct latency_table *t,
					const char *addr, unsigned bits)
{
	struct latency_row a;
	char cidr[64];
	snprintf(cidr, sizeof(cidr), "%s/%u", addr, bits);
	memset(&a, 0, sizeof(a));
	/* The address itself, host bits and all. */
	if (!latency_cidr_parse(cidr, &a)) {
		snprintf(cidr, sizeof(cidr), "%s/%u", addr,
			 strchr(addr, ':') ? 128 : 32);
		assert_true(latency_cidr_parse(cidr, &a));
	}
	return latency_table_lookup(t, a.family, a.addr, bits);
}

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

static bool site_region(void *ctx, const char *region)
{
	(void)ctx;
	return strcmp(region, "lab-west") == 0;
}

static void store_new(struct zone_store *s)
{
	char err[512];
	struct zone_store_create_params p = {.id = ZID,
					     .name = "example.com",
					     .nameservers = NS,
					     .nnameservers = 2};
	zone_store_init(s);
	s->site_region = site_region;
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
#define L(id, region, value, extra)                                            \
	"\"Name\": \"l.example.com\", \"Type\": \"A\", \"TTL\": 60, "          \
	"\"SetIdentifier\": \"" id "\", \"Region\": \"" region "\", "          \
	"\"ResourceRecords\": [{\"Value\": \"192.0.2." value "\"}]" extra
#define HC(id) ", \"HealthCheckId\": \"" id "\""

/* Three records: eu-central-1 .1 (hc-eu), us-east-1 .2 (hc-us),
 * ap-south-1 .3. */
static void three(struct zone_store *s)
{
	apply_ok(
	    s,
	    BATCH(
		CH("CREATE", L("fra", "eu-central-1", "1", HC("hc-eu"))) "," CH(
		    "CREATE",
		    L("iad", "us-east-1", "2",
		      HC("hc-us"))) "," CH("CREATE",
					   L("bom", "ap-south-1", "3", ""))));
}

/* The last octet of the A record the client (an ECS network "a.b.c.d/n",
 * NULL: none) gets, with the ECS scope in *scope. */
static int answer_name(struct zone_store *s,
		       const struct zone_store_latency *lat, struct health *h,
		       const char *qname, const char *client, uint8_t *scope)
{
	struct zone *z;
	struct serving_view *v;
	char err[512];
	uint8_t wire[256], labels[128];
	s->latency = lat;
	if (zone_store_build_with_health(s, ZID, healthy, h, &z, err,
					 sizeof(err)) != 0)
		fail_msg("build: %s", err);
	assert_int_equal(serving_view_build(&v, &z, 1), 0);
	zone_release(z);
	assert_non_null(knot_dname_from_str(wire, qname, 256));
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
	if (client != NULL) {
		struct latency_row net;
		assert_true(latency_cidr_parse(client, &net));
		key.family = net.family;
		key.subnet_len = (uint8_t)((net.prefix_len + 7) / 8);
		memcpy(key.subnet, net.addr, key.subnet_len);
		key.scope = net.prefix_len;
	}
	const struct zone_answer *a = zone_node_answer(n, KNOT_RRTYPE_A, &key);
	int last = 0;
	for (size_t i = 0; a != NULL && a->an > 0 && i + 4 <= a->len; i++)
		if (a->body[i] == 0 && a->body[i + 1] == 4 &&
		    a->body[i + 2] == 192 && a->body[i + 3] == 0 &&
		    a->body[i + 4] == 2)
			last = a->body[i + 5];
	if (!key.picked)
		fail_msg("not a choice");
	if (scope != NULL)
		*scope = key.scope;
	serving_view_free(v);
	s->latency = NULL;
	return last;
}

static int answer(struct zone_store *s, const struct zone_store_latency *lat,
		  struct health *h, const char *client, uint8_t *scope)
{
	return answer_name(s, lat, h, "l.example.com", client, scope);
}

/* --- the table --- */

static void test_table_longest_prefix(void **state)
{
	(void)state;
	struct latency_table t;
	latency_table_init(&t);
	struct latency_row r;
	assert_false(latency_cidr_parse("10.0.0.1/8", &r)); /* host bits */
	assert_false(latency_cidr_parse("10.0.0.0/33", &r));
	assert_false(latency_cidr_parse("10.0.0.0", &r));
	assert_false(latency_cidr_parse("nonsense/8", &r));
	struct latency_row a = row("10.0.0.0/8", "us-east-1", 80, NULL, 0);
	struct latency_row b = row("10.1.0.0/16", "eu-central-1", 20, NULL, 0);
	struct latency_row c = row("10.1.2.0/24", "ap-south-1", 5, NULL, 0);
	struct latency_row d = row("2001:db8::/32", "us-east-1", 9, NULL, 0);
	assert_int_equal(latency_table_set(&t, &c), 0);
	assert_int_equal(latency_table_set(&t, &a), 0);
	assert_int_equal(latency_table_set(&t, &d), 0);
	assert_int_equal(latency_table_set(&t, &b), 0);
	assert_int_equal(t.nrows, 4);
	assert_int_equal(lookup(&t, "10.1.2.3", 32)->prefix_len, 24);
	assert_int_equal(lookup(&t, "10.1.3.3", 32)->prefix_len, 16);
	assert_int_equal(lookup(&t, "10.9.3.3", 32)->prefix_len, 8);
	/* Rows longer than the client's network do not match. */
	assert_int_equal(lookup(&t, "10.1.2.0", 20)->prefix_len, 16);
	assert_null(lookup(&t, "11.1.2.3", 32));
	assert_int_equal(lookup(&t, "2001:db8:1::1", 128)->prefix_len, 32);
	assert_null(lookup(&t, "2001:db9::1", 128));
	/* IPv4 rows never answer IPv6 clients. */
	assert_null(lookup(&t, "::a01:203", 128));
	char text[64];
	latency_cidr_format(&d, text, sizeof(text));
	assert_string_equal(text, "2001:db8::/32");
	latency_table_free(&t);
}

static void test_table_replace_delete(void **state)
{
	(void)state;
	struct latency_table t;
	latency_table_init(&t);
	struct latency_row a =
	    row("192.0.2.0/24", "us-east-1", 80, "eu-central-1", 10);
	assert_int_equal(latency_table_set(&t, &a), 0);
	/* Regions sorted, distinct. */
	assert_string_equal(t.rows[0].rtt[0].region, "eu-central-1");
	struct latency_row a2 = row("192.0.2.0/24", "us-east-1", 5, NULL, 0);
	assert_int_equal(latency_table_set(&t, &a2), 0);
	assert_int_equal(t.nrows, 1);
	assert_int_equal(t.rows[0].n, 1);
	assert_int_equal(t.rows[0].rtt[0].rtt_ms, 5);
	/* Another prefix length is another row. */
	struct latency_row b = row("192.0.2.0/25", "us-east-1", 1, NULL, 0);
	assert_int_equal(latency_table_set(&t, &b), 0);
	assert_int_equal(t.nrows, 2);
	assert_int_equal(latency_table_delete(&t, &a), 0);
	assert_int_equal(latency_table_delete(&t, &a), Q53_ENOENT);
	assert_int_equal(t.nrows, 1);
	assert_int_equal(t.rows[0].prefix_len, 25);
	/* Rows that do not check. */
	char why[160];
	struct latency_row bad = a;
	bad.rtt[1] = bad.rtt[0];
	assert_int_equal(latency_row_check(&bad, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "twice"));
	bad = a;
	bad.rtt[0].rtt_ms = LATENCY_RTT_MAX + 1;
	assert_int_equal(latency_row_check(&bad, why, sizeof(why)), -1);
	bad = a;
	snprintf(bad.rtt[0].region, sizeof(bad.rtt[0].region), "EU_West");
	assert_int_equal(latency_row_check(&bad, why, sizeof(why)), -1);
	bad = a;
	bad.addr[3] = 1;
	assert_int_equal(latency_row_check(&bad, why, sizeof(why)), -1);
	/* Measured site rows: samples replace per region. */
	struct latency_rtt s1[] = {{"us-east-1", 90}, {"eu-central-1", 12}};
	assert_int_equal(latency_table_sample(&t, "fra", 1, 100, s1, 2), 0);
	struct latency_rtt s2[] = {{"eu-central-1", 15}};
	assert_int_equal(latency_table_sample(&t, "fra", 2, 200, s2, 1), 0);
	const struct latency_site *fra = latency_table_site(&t, "fra");
	assert_non_null(fra);
	assert_int_equal(fra->n, 2);
	uint32_t v;
	assert_true(latency_rtt_of(fra->rtt, fra->n, "eu-central-1", &v));
	assert_int_equal(v, 15);
	assert_true(latency_rtt_of(fra->rtt, fra->n, "us-east-1", &v));
	assert_int_equal(v, 90);
	assert_int_equal(fra->node_id, 2);
	assert_null(latency_table_site(&t, "iad"));
	latency_table_free(&t);
}

/* --- through the FSM: commands 22, 23 and the snapshot --- */

static int32_t fsm_run(struct control_fsm *f, struct command_payload p,
		       char *err, size_t errlen)
{
	struct q53_fsm *b = control_fsm_base(f);
	int32_t code = 12345;
	uint8_t *out = NULL;
	size_t len = 0;
	assert_int_equal(b->apply(b, p.type, p.data, p.len, &code, &out, &len),
			 0);
	struct command_result r;
	assert_int_equal(command_result_decode(out, len, &r), 0);
	snprintf(err, errlen, "%s: %s", r.error_name, r.error_message);
	command_result_free(&r);
	raft_free(out);
	command_payload_clear(&p);
	return code;
}

static struct command_payload p_rows(const struct latency_row *set, size_t nset,
				     const struct latency_row *remove,
				     size_t nremove, bool clear)
{
	struct command_set_latency_rows c = {.set = set,
					     .n_set = nset,
					     .remove = remove,
					     .n_remove = nremove,
					     .clear = clear,
					     .time_ms = 7};
	struct command_payload p;
	assert_int_equal(command_encode_set_latency_rows(&c, &p), 0);
	assert_int_equal(p.type, COMMAND_SET_LATENCY_ROWS);
	return p;
}

static void test_fsm_commands_snapshot(void **state)
{
	(void)state;
	struct control_fsm *f, *g;
	char err[512];
	assert_int_equal(control_fsm_new(&f), 0);
	assert_int_equal(control_fsm_new(&g), 0);
	struct latency_row rows[] = {
	    row("198.51.100.0/24", "us-east-1", 90, "eu-central-1", 10),
	    row("2001:db8::/32", "us-east-1", 9, NULL, 0),
	    row("203.0.113.0/24", "ap-south-1", 40, NULL, 0),
	};
	assert_int_equal(
	    fsm_run(f, p_rows(rows, 3, NULL, 0, false), err, sizeof(err)), 0);
	assert_int_equal(control_fsm_latency(f)->nrows, 3);
	/* Delete one; deleting it again is NoSuchLatencyRow and changes
	 * nothing. */
	assert_int_equal(
	    fsm_run(f, p_rows(NULL, 0, &rows[2], 1, false), err, sizeof(err)),
	    0);
	assert_int_equal(control_fsm_latency(f)->nrows, 2);
	assert_int_not_equal(
	    fsm_run(f, p_rows(rows, 1, &rows[2], 1, false), err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, "NoSuchLatencyRow: no latency row for "
				    "203.0.113.0/24"));
	assert_int_equal(control_fsm_latency(f)->nrows, 2);
	/* A row that does not check is refused by apply. */
	struct latency_row bad = rows[0];
	bad.addr[3] = 7;
	assert_int_not_equal(
	    fsm_run(f, p_rows(&bad, 1, NULL, 0, false), err, sizeof(err)), 0);
	assert_non_null(strstr(err, "InvalidInput"));
	/* Samples: only from a member, for its own site. */
	struct latency_rtt rtt[] = {{"us-east-1", 95}, {"eu-central-1", 11}};
	struct command_latency_samples sm = {
	    .node_id = 1, .site = "fra", .rtt = rtt, .n = 2, .time_ms = 9};
	struct command_payload p;
	assert_int_equal(command_encode_latency_samples(&sm, &p), 0);
	assert_int_not_equal(fsm_run(f, p, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "node 1 is not a member at site fra"));
	struct command_set_node n1 = {.node_id = 1,
				      .raft_address = "tcp://127.0.0.1:7053",
				      .dns_address = "",
				      .api_address = "",
				      .name = "n1",
				      .geoip_path = "",
				      .geoip_sha256 = "",
				      .site = "fra",
				      .site_region = "eu-central-1",
				      .time_ms = 8};
	assert_int_equal(command_encode_set_node(&n1, &p), 0);
	assert_int_equal(fsm_run(f, p, err, sizeof(err)), 0);
	sm.site = "iad";
	assert_int_equal(command_encode_latency_samples(&sm, &p), 0);
	assert_int_not_equal(fsm_run(f, p, err, sizeof(err)), 0);
	sm.site = "fra";
	assert_int_equal(command_encode_latency_samples(&sm, &p), 0);
	assert_int_equal(fsm_run(f, p, err, sizeof(err)), 0);
	sm.site = "Not A Site";
	assert_int_equal(command_encode_latency_samples(&sm, &p), 0);
	assert_int_not_equal(fsm_run(f, p, err, sizeof(err)), 0);
	const struct latency_site *fra =
	    latency_table_site(control_fsm_latency(f), "fra");
	assert_non_null(fra);
	assert_int_equal(fra->n, 2);
	/* The snapshot round trip, byte for byte. */
	struct q53_fsm *fb = control_fsm_base(f), *gb = control_fsm_base(g);
	uint8_t *a, *b;
	size_t alen, blen;
	assert_int_equal(fb->snapshot(fb, &a, &alen), 0);
	assert_int_equal(gb->restore(gb, a, alen), 0);
	assert_int_equal(gb->snapshot(gb, &b, &blen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	const struct latency_table *gt = control_fsm_latency(g);
	assert_int_equal(gt->nrows, 2);
	assert_int_equal(gt->nsites, 1);
	assert_memory_equal(gt->rows, control_fsm_latency(f)->rows,
			    2 * sizeof(gt->rows[0]));
	raft_free(a);
	raft_free(b);
	/* clear: every API row goes, the site rows stay. */
	assert_int_equal(
	    fsm_run(f, p_rows(NULL, 0, NULL, 0, true), err, sizeof(err)), 0);
	assert_int_equal(control_fsm_latency(f)->nrows, 0);
	assert_int_equal(control_fsm_latency(f)->nsites, 1);
	control_fsm_free(f);
	control_fsm_free(g);
}

/* A Region that is none of Route 53's codes is accepted once some node's
 * site is in it (the FSM's node metadata, replicated). */
static void test_fsm_site_region(void **state)
{
	(void)state;
	struct control_fsm *f;
	char err[512];
	assert_int_equal(control_fsm_new(&f), 0);
	struct command_payload p;
	struct command_create_hosted_zone z = {.id = ZID,
					       .name = "example.com",
					       .nameservers = NS,
					       .n_nameservers = 2,
					       .time_ms = 1};
	assert_int_equal(command_encode_create_hosted_zone(&z, &p), 0);
	assert_int_equal(fsm_run(f, p, err, sizeof(err)), 0);
	const char *json = BATCH(CH("CREATE", L("lab", "lab-west", "1", "")));
	struct change_batch *b;
	struct change_batch_typed t = {0};
	assert_int_equal(
	    change_batch_parse(&b, json, strlen(json), err, sizeof(err)), 0);
	assert_int_equal(change_batch_compile(b, &t), 0);
	struct command_change_rrsets c = {
	    .zone_id = ZID, .change_id = "C1", .batch = t.batch, .time_ms = 2};
	assert_int_equal(command_encode_change_rrsets(&c, &p), 0);
	assert_int_not_equal(fsm_run(f, p, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "Region 'lab-west' is not a known region"));
	struct command_set_node n = {.node_id = 1,
				     .raft_address = "tcp://127.0.0.1:7053",
				     .dns_address = "",
				     .api_address = "",
				     .name = "n1",
				     .geoip_path = "",
				     .geoip_sha256 = "",
				     .site = "lab",
				     .site_region = "lab-west",
				     .time_ms = 3};
	assert_int_equal(command_encode_set_node(&n, &p), 0);
	assert_int_equal(fsm_run(f, p, err, sizeof(err)), 0);
	struct control_fsm_node meta;
	assert_int_equal(control_fsm_node_get(f, 1, &meta), 0);
	assert_string_equal(meta.site, "lab");
	assert_string_equal(meta.site_region, "lab-west");
	c.change_id = "C2";
	assert_int_equal(command_encode_change_rrsets(&c, &p), 0);
	assert_int_equal(fsm_run(f, p, err, sizeof(err)), 0);
	/* A site name that is not one is refused with the node. */
	n.site = "Not A Site";
	assert_int_equal(command_encode_set_node(&n, &p), 0);
	assert_int_not_equal(fsm_run(f, p, err, sizeof(err)), 0);
	/* The node's site survives a snapshot and restore. */
	struct control_fsm *g;
	assert_int_equal(control_fsm_new(&g), 0);
	struct q53_fsm *fb = control_fsm_base(f), *gb = control_fsm_base(g);
	uint8_t *a;
	size_t alen;
	assert_int_equal(fb->snapshot(fb, &a, &alen), 0);
	assert_int_equal(gb->restore(gb, a, alen), 0);
	raft_free(a);
	assert_int_equal(control_fsm_node_get(g, 1, &meta), 0);
	assert_string_equal(meta.site_region, "lab-west");
	/* This node's own site: a local input, listed by status. */
	const char *region;
	control_fsm_set_site(g, "lab", "lab-west");
	assert_string_equal(control_fsm_site(g, &region), "lab");
	assert_string_equal(region, "lab-west");
	control_fsm_free(f);
	control_fsm_free(g);
	change_batch_typed_free(&t);
	change_batch_free(b);
}

/* --- Region at change time --- */

static void test_validation(void **state)
{
	(void)state;
	struct zone_store s;
	store_new(&s);
	size_t len;
	char *json = route53_data_load("batch-latency.json", &len);
	apply_ok(&s, json);
	free(json);
	refused(&s, BATCH(CH("CREATE", L("x", "mars-north-1", "1", ""))),
		"change 0: [name='l.example.com.', type='A', "
		"set-identifier='x']: Region 'mars-north-1' is not a known "
		"region");
	/* A site region of the cluster is one. */
	apply_ok(&s, BATCH(CH("CREATE", L("lab", "lab-west", "1", ""))));
	refused(&s,
		BATCH(CH("CREATE", L("a", "us-east-1", "1", "")) "," CH(
		    "CREATE", L("b", "us-east-1", "2", ""))),
		"change 1: RRSet with DNS name l.example.com., type A, "
		"SetIdentifier \"b\" cannot be created because the rrset with "
		"SetIdentifier \"a\" already has the Region us-east-1");
	refused(&s, BATCH(CH("CREATE", L("lab", "us-east-1", "1", ""))),
		"change 0: ");
	/* Mixed policies at one name and type. */
	refused(&s,
		BATCH(CH("CREATE", "\"Name\": \"l.example.com\", \"Type\": "
				   "\"A\", \"TTL\": 60, \"SetIdentifier\": "
				   "\"w\", \"Weight\": 1, \"ResourceRecords\": "
				   "[{\"Value\": \"192.0.2.9\"}]")),
		"change 0: RRSet with DNS name l.example.com., type A, "
		"SetIdentifier \"w\" cannot be created because");
	refused(&s,
		BATCH(CH("CREATE", "\"Name\": \"l.example.com\", \"Type\": "
				   "\"A\", \"TTL\": 60, \"SetIdentifier\": "
				   "\"w\", \"Weight\": 1, \"Region\": "
				   "\"us-east-1\", \"ResourceRecords\": "
				   "[{\"Value\": \"192.0.2.9\"}]")),
		"but found more than one");
	refused(&s,
		BATCH(CH("CREATE", "\"Name\": \"l.example.com\", \"Type\": "
				   "\"A\", \"TTL\": 60, \"Region\": "
				   "\"us-east-1\", \"ResourceRecords\": "
				   "[{\"Value\": \"192.0.2.9\"}]")),
		"SetIdentifier");
	zone_store_free(&s);
}

static void test_typed_log(void **state)
{
	(void)state;
	struct change_batch *b;
	struct change_batch_typed t = {0};
	char err[512];
	const char *json =
	    BATCH(CH("UPSERT", L("fra", "eu-central-1", "1", "")));
	assert_int_equal(
	    change_batch_parse(&b, json, strlen(json), err, sizeof(err)), 0);
	assert_int_equal(change_batch_compile(b, &t), 0);
	struct command_change_rrsets c = {
	    .zone_id = ZID, .change_id = "C1", .batch = t.batch};
	struct command_payload p;
	assert_int_equal(command_encode_change_rrsets(&c, &p), 0);
	assert_int_equal(command_peek_version(p.data, p.len),
			 COMMAND_VERSION_LATENCY);
	struct command out;
	assert_int_equal(
	    command_decode(COMMAND_CHANGE_RRSETS, p.data, p.len, &out), 0);
	const struct rrset_data *r = &out.u.change_rrsets.batch.changes[0].set;
	assert_string_equal(r->region, "eu-central-1");
	command_free(&out);
	raft_free(p.data);
	change_batch_typed_free(&t);
	change_batch_free(b);
}

/* --- the answers --- */

static void test_lowest_rtt_wins(void **state)
{
	(void)state;
	struct zone_store s;
	struct latency_table t;
	store_new(&s);
	three(&s);
	latency_table_init(&t);
	struct latency_row r1 =
	    row("198.51.100.0/24", "us-east-1", 90, "eu-central-1", 10);
	struct latency_row r2 =
	    row("203.0.0.0/8", "us-east-1", 30, "ap-south-1", 31);
	struct latency_row r3 =
	    row("203.0.113.0/24", "ap-south-1", 3, "eu-central-1", 50);
	/* A row of regions the group does not have: the default. */
	struct latency_row r4 = row("192.0.2.0/24", "sa-east-1", 1, NULL, 0);
	assert_int_equal(latency_table_set(&t, &r1), 0);
	assert_int_equal(latency_table_set(&t, &r2), 0);
	assert_int_equal(latency_table_set(&t, &r3), 0);
	assert_int_equal(latency_table_set(&t, &r4), 0);
	struct zone_store_latency lat = {.table = &t};
	uint8_t scope;
	assert_int_equal(answer(&s, &lat, NULL, "198.51.100.0/24", &scope), 1);
	assert_int_equal(scope, 24);
	assert_int_equal(answer(&s, &lat, NULL, "203.1.0.0/16", &scope), 2);
	assert_int_equal(answer(&s, &lat, NULL, "203.0.113.0/24", &scope), 3);
	/* The first record (set identifier order: bom) without any site. */
	assert_int_equal(answer(&s, &lat, NULL, "192.0.2.0/24", &scope), 3);
	assert_int_equal(answer(&s, &lat, NULL, NULL, &scope), 3);
	/* Without a table: the node's region, else the first. */
	struct zone_store_latency own = {.region = "us-east-1"};
	assert_int_equal(answer(&s, &own, NULL, "198.51.100.0/24", NULL), 2);
	assert_int_equal(answer(&s, NULL, NULL, "198.51.100.0/24", NULL), 3);
	zone_store_free(&s);
	latency_table_free(&t);
}

static void test_unhealthy_skipped(void **state)
{
	(void)state;
	struct zone_store s;
	struct latency_table t;
	store_new(&s);
	three(&s);
	latency_table_init(&t);
	struct latency_row r1 =
	    row("198.51.100.0/24", "us-east-1", 20, "eu-central-1", 10);
	assert_int_equal(latency_table_set(&t, &r1), 0);
	struct zone_store_latency lat = {.table = &t, .region = "eu-central-1"};
	struct health eu = {{"hc-eu"}};
	struct health both = {{"hc-eu", "hc-us"}};
	assert_int_equal(answer(&s, &lat, NULL, "198.51.100.0/24", NULL), 1);
	assert_int_equal(answer(&s, &lat, &eu, "198.51.100.0/24", NULL), 2);
	/* Neither region of the row is healthy: the default (the node's
	 * own region is unhealthy too: the first healthy record). */
	assert_int_equal(answer(&s, &lat, &both, "198.51.100.0/24", NULL), 3);
	assert_int_equal(answer(&s, &lat, &eu, NULL, NULL), 3);
	zone_store_free(&s);
	/* Every record unhealthy: as if all were healthy. */
	store_new(&s);
	apply_ok(
	    &s,
	    BATCH(
		CH("CREATE", L("fra", "eu-central-1", "1", HC("hc-eu"))) "," CH(
		    "CREATE", L("iad", "us-east-1", "2", HC("hc-us")))));
	assert_int_equal(answer(&s, &lat, &both, "198.51.100.0/24", NULL), 1);
	zone_store_free(&s);
	latency_table_free(&t);
}

static void test_site_fallback(void **state)
{
	(void)state;
	struct zone_store s;
	struct latency_table t;
	store_new(&s);
	three(&s);
	latency_table_init(&t);
	struct latency_row r1 =
	    row("198.51.100.0/24", "us-east-1", 20, "eu-central-1", 10);
	assert_int_equal(latency_table_set(&t, &r1), 0);
	struct latency_rtt fra[] = {{"eu-central-1", 8}, {"us-east-1", 95}};
	struct latency_rtt iad[] = {{"eu-central-1", 90}, {"us-east-1", 4}};
	assert_int_equal(latency_table_sample(&t, "fra", 1, 1, fra, 2), 0);
	assert_int_equal(latency_table_sample(&t, "iad", 3, 1, iad, 2), 0);
	struct zone_store_latency at_fra = {
	    .table = &t, .site = "fra", .region = "ap-south-1"};
	struct zone_store_latency at_iad = {
	    .table = &t, .site = "iad", .region = "ap-south-1"};
	struct zone_store_latency at_bom = {
	    .table = &t, .site = "bom", .region = "ap-south-1"};
	/* Covered by the API table: the same everywhere. */
	assert_int_equal(answer(&s, &at_fra, NULL, "198.51.100.0/24", NULL), 1);
	assert_int_equal(answer(&s, &at_iad, NULL, "198.51.100.0/24", NULL), 1);
	/* Not covered: the answering node's site row, else its region. */
	assert_int_equal(answer(&s, &at_fra, NULL, "192.0.2.0/24", NULL), 1);
	assert_int_equal(answer(&s, &at_iad, NULL, "192.0.2.0/24", NULL), 2);
	assert_int_equal(answer(&s, &at_bom, NULL, "192.0.2.0/24", NULL), 3);
	assert_int_equal(answer(&s, &at_iad, NULL, NULL, NULL), 2);
	/* A tie in the site's row: the node's own region. */
	struct latency_rtt tie[] = {{"eu-central-1", 1}, {"us-east-1", 1}};
	assert_int_equal(latency_table_sample(&t, "iad", 3, 2, tie, 2), 0);
	struct zone_store_latency at_iad_us = {
	    .table = &t, .site = "iad", .region = "us-east-1"};
	assert_int_equal(answer(&s, &at_iad_us, NULL, "192.0.2.0/24", NULL), 2);
	assert_int_equal(answer(&s, &at_iad, NULL, "192.0.2.0/24", NULL), 1);
	/* ... but never in an API row (the same answer on every node). */
	struct latency_row r2 =
	    row("198.51.101.0/24", "us-east-1", 7, "eu-central-1", 7);
	assert_int_equal(latency_table_set(&t, &r2), 0);
	assert_int_equal(answer(&s, &at_iad_us, NULL, "198.51.101.0/24", NULL),
			 1);
	assert_int_equal(latency_table_sample(&t, "iad", 3, 3, iad, 2), 0);
	/* The site's best region unhealthy: its next best. */
	struct health us = {{"hc-us"}};
	assert_int_equal(answer(&s, &at_iad, &us, "192.0.2.0/24", NULL), 1);
	zone_store_free(&s);
	latency_table_free(&t);
}

/* A simple alias to a latency group answers as the group does. */
static void test_alias_to_group(void **state)
{
	(void)state;
	struct zone_store s;
	struct latency_table t;
	store_new(&s);
	three(&s);
	apply_ok(&s, BATCH(CH("CREATE",
			      "\"Name\": \"a.example.com\", \"Type\": \"A\", "
			      "\"AliasTarget\": {\"HostedZoneId\": \"" ZID
			      "\", \"DNSName\": \"l.example.com\", "
			      "\"EvaluateTargetHealth\": true}")));
	latency_table_init(&t);
	struct latency_row r1 =
	    row("198.51.100.0/24", "us-east-1", 9, "eu-central-1", 10);
	assert_int_equal(latency_table_set(&t, &r1), 0);
	struct zone_store_latency lat = {.table = &t};
	uint8_t scope;
	assert_int_equal(answer_name(&s, &lat, NULL, "a.example.com",
				     "198.51.100.0/24", &scope),
			 2);
	assert_int_equal(scope, 24);
	struct health us = {{"hc-us"}};
	assert_int_equal(answer_name(&s, &lat, &us, "a.example.com",
				     "198.51.100.0/24", NULL),
			 1);
	zone_store_free(&s);
	latency_table_free(&t);
}

static void test_ecs_scope(void **state)
{
	(void)state;
	struct zone_store s;
	struct latency_table t;
	store_new(&s);
	three(&s);
	latency_table_init(&t);
	struct latency_row r1 = row("10.0.0.0/8", "us-east-1", 20, NULL, 0);
	struct latency_row r2 = row("10.20.0.0/16", "eu-central-1", 5, NULL, 0);
	struct latency_row r6 =
	    row("2001:db8::/32", "eu-central-1", 5, NULL, 0);
	assert_int_equal(latency_table_set(&t, &r1), 0);
	assert_int_equal(latency_table_set(&t, &r2), 0);
	assert_int_equal(latency_table_set(&t, &r6), 0);
	struct zone_store_latency lat = {.table = &t};
	uint8_t scope;
	/* Inside the /16: its answer holds for the /16. */
	assert_int_equal(answer(&s, &lat, NULL, "10.20.30.0/24", &scope), 1);
	assert_int_equal(scope, 16);
	/* The /8 around a /16 of another answer: 10.21/16 is the widest
	 * network of one answer. */
	assert_int_equal(answer(&s, &lat, NULL, "10.21.0.0/24", &scope), 2);
	assert_int_equal(scope, 16);
	assert_int_equal(answer(&s, &lat, NULL, "10.128.0.0/24", &scope), 2);
	assert_int_equal(scope, 1 + 8);
	/* No row: the default, for the widest network no row touches. */
	assert_int_equal(answer(&s, &lat, NULL, "192.0.2.0/24", &scope), 3);
	assert_int_equal(scope, 1);
	assert_int_equal(answer(&s, &lat, NULL, "2001:db8:1::/48", &scope), 1);
	assert_int_equal(scope, 32);
	zone_store_free(&s);
	latency_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_longest_prefix),
	    cmocka_unit_test(test_table_replace_delete),
	    cmocka_unit_test(test_fsm_commands_snapshot),
	    cmocka_unit_test(test_fsm_site_region),
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_typed_log),
	    cmocka_unit_test(test_lowest_rtt_wins),
	    cmocka_unit_test(test_unhealthy_skipped),
	    cmocka_unit_test(test_site_fallback),
	    cmocka_unit_test(test_alias_to_group),
	    cmocka_unit_test(test_ecs_scope),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
