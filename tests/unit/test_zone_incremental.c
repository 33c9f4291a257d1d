/* Incremental zone builds (zone_store_build_update) against full builds:
 * a seeded random sequence of change batches (names created and deleted,
 * empty non-terminals appearing and going, wildcards, CNAME chains, MX and
 * SRV targets, delegations with glue, failover, weighted, multivalue and
 * latency groups, health flips and latency table changes),
 * and after each one every query of a fixed set answered from the
 * incrementally built zone and from a full build, byte for byte. Unchanged
 * names must be shared with the previous version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/latency_table.h"
#include "node/control/zone_store.h"
#include "node/control/zone_text.h"
#include "node/dns/query.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rdata_text.h"
#include "node/dnsdata/rrtype.h"
#include "node/zone/node.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"

#define ZID   "Z0INCREMENTAL01"
#define STEPS 400

static const char *const NS[] = {"ns1.inc.test."};

/* Owner names, relative to inc.test. ("" is the apex). */
static const char *const POOL[] = {
    "a",  "b.a",   "c.b.a", "*",     "*.w",   "x.w", "d",   "ns.d", "deep.ns.d",
    "cn", "cn2",   "mx",    "fo",    "e.f.g", "*.g", "srv", "",	    "ns1",
    "d2", "ns.d2", "y.x.w", "*.b.a", "t",     "wt",  "mv",  "lt"};
#define NPOOL (sizeof(POOL) / sizeof(POOL[0]))

/* Extra query names: synthesised, below cuts, absent. */
static const char *const EXTRA[] = {
    "zz.a",	"q.w",	   "a-rather-long-label-for-pointer-fixups.q.w",
    "sub.d",	"x.y.b.a", "nope",
    "zz.e.f.g", "a.g",	   "k.x.w",
    "q.b.a",	"static",  "z.static",
    "f.g",	"g",	   "w",
    "b.ns.d2",	"cnw",	   "wt"};
#define NEXTRA (sizeof(EXTRA) / sizeof(EXTRA[0]))

static const uint16_t QTYPES[] = {
    RRTYPE_A, RRTYPE_AAAA, RRTYPE_NS,  RRTYPE_SOA, RRTYPE_CNAME, RRTYPE_MX,
    16,	      RRTYPE_DS,   RRTYPE_ANY, RRTYPE_SRV, 65280};
#define NQTYPES (sizeof(QTYPES) / sizeof(QTYPES[0]))

static bool health[2] = {true, true};

/* Latency routing's inputs: a table the sequence changes, this node's
 * site and region. */
static struct latency_table lat_table;
static const struct zone_store_latency lat_in = {
    .table = &lat_table, .site = "fra", .region = "eu-central-1"};
static const char *const REGIONS[] = {"eu-central-1", "us-east-1",
				      "ap-south-1"};

static bool healthy_fn(void *ctx, const char *id)
{
	(void)ctx;
	return strcmp(id, "hc1") == 0 ? health[0] : health[1];
}

static bool exists_fn(void *ctx, const char *id)
{
	(void)ctx;
	return strcmp(id, "hc1") == 0 || strcmp(id, "hc2") == 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void fqdn(const char *rel, char *out, size_t cap)
{
	if (rel[0] == '\0')
		snprintf(out, cap, "inc.test.");
	else
		snprintf(out, cap, "%s.inc.test.", rel);
}

/* A target for CNAME / MX / SRV / NS: a pool name or outside the zone. */
static void target(char *out, size_t cap)
{
	unsigned k = rnd(NPOOL + 2);
	if (k >= NPOOL) {
		snprintf(out, cap,
			 k == NPOOL ? "ext.example." : "cn.inc.test.");
		return;
	}
	const char *rel = POOL[k];
	if (rel[0] == '*')
		rel = "a"; /* a "*" owner as a target means itself: fine too */
	fqdn(rel, out, cap);
}

static void wire_name(const char *text, uint8_t *out, size_t *len)
{
	size_t o = 0;
	const char *p = text;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		out[o++] = (uint8_t)l;
		memcpy(out + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
	}
	out[o++] = 0;
	*len = o;
}

/* Applies a batch of the one change c (typed as the log carries it). */
static int apply_one(struct zone_store *s, struct change *c)
{
	char err[1024];
	struct change_batch b = {.changes = c, .nchanges = 1};
	struct change_batch_typed tb;
	assert_int_equal(change_batch_compile(&b, &tb), 0);
	int rc = zone_store_apply_with_checks(s, ZID, &tb.batch, exists_fn,
					      NULL, err, sizeof(err));

	change_batch_typed_free(&tb);
	return rc;
}

/* Applies an UPSERT of r (name relative, ttl chosen here). */
static int upsert_set(struct zone_store *s, const char *rel,
		      struct change_rrset r)
{
	char name[300];
	fqdn(rel, name, sizeof(name));
	r.name = name;
	r.ttl = 300 + rnd(3);
	struct change ch = {.action = CHANGE_UPSERT, .rrset = r};
	return apply_one(s, &ch);
}

/* A weighted (weight >= 0) or multivalue member. */
static int upsert_routed(struct zone_store *s, const char *rel, uint16_t type,
			 char **values, size_t nvalues, const char *set_id,
			 int weight, bool multivalue, const char *hc)
{
	return upsert_set(
	    s, rel,
	    (struct change_rrset){.type = type,
				  .values = values,
				  .nvalues = nvalues,
				  .set_identifier = (char *)set_id,
				  .has_weight = weight >= 0,
				  .weight = (uint8_t)(weight < 0 ? 0 : weight),
				  .multivalue = multivalue,
				  .health_check_id = (char *)hc});
}

/* Applies one UPSERT built from the arguments; returns the apply result. */
static int upsert(struct zone_store *s, const char *rel, uint16_t type,
		  char **values, size_t nvalues, const char *set_id,
		  enum change_failover fo, const char *hc)
{
	return upsert_set(
	    s, rel,
	    (struct change_rrset){.type = type,
				  .values = values,
				  .nvalues = nvalues,
				  .set_identifier = (char *)set_id,
				  .failover = fo,
				  .health_check_id = (char *)hc});
}

/* Deletes one random record set that is not the apex SOA or NS. */
static int delete_random(struct zone_store *s)
{
	struct zone_store_info info;
	char name[1100];
	char vals[8][600];
	char *values[8];
	assert_int_equal(zone_store_get(s, ZID, &info), 0);
	if (info.nrrsets <= 2)
		return -1;
	const struct zone_store_rrset *set =
	    zone_store_info_rrset(&info, rnd((unsigned)info.nrrsets));
	if (set->owner_len == 10 &&
	    (set->type == RRTYPE_SOA || set->type == RRTYPE_NS))
		return -1;
	dname_to_text(set->owner, name, sizeof(name));
	if (strcmp(name, "static.inc.test.") == 0)
		return -1; /* the name whose sharing is checked */
	size_t n = set->count < 8 ? set->count : 8;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rdata_text_from_wire(set->type,
						      set->rdata[i].data,
						      set->rdata[i].len,
						      vals[i], sizeof(vals[i])),
				 0);
		values[i] = vals[i];
	}
	if (n != set->count)
		return -1;
	struct change ch = {
	    .action = CHANGE_DELETE,
	    .rrset = {.name = name,
		      .type = set->type,
		      .ttl = set->ttl,
		      .values = values,
		      .nvalues = n,
		      .set_identifier = (char *)zone_store_rrset_set_id(set),
		      .failover = zone_store_rrset_failover(set),
		      .has_weight =
			  zone_store_rrset_routing(set) & ZONE_STORE_WEIGHTED,
		      .weight = zone_store_rrset_weight(set),
		      .multivalue =
			  zone_store_rrset_routing(set) & ZONE_STORE_MULTIVALUE,
		      .health_check_id =
			  (char *)zone_store_rrset_health_check(set),
		      .region = (char *)zone_store_rrset_region(set)}};
	return apply_one(s, &ch);
}

static void random_change(struct zone_store *s)
{
	char v[4][300];
	char *values[4] = {v[0], v[1], v[2], v[3]};
	unsigned op = rnd(26);
	const char *rel = POOL[rnd(NPOOL)];

	if (op == 23 || op == 24) {
		/* A latency member at "lt" (two of one region: refused). */
		static const char *const ids[] = {"l1", "l2", "l3"};
		static const char *const hcs[] = {"hc1", "hc2", NULL};
		snprintf(v[0], sizeof(v[0]), "192.0.2.%u", 40 + rnd(6));
		upsert_set(s, "lt",
			   (struct change_rrset){
			       .type = RRTYPE_A,
			       .values = values,
			       .nvalues = 1,
			       .set_identifier = (char *)ids[rnd(3)],
			       .health_check_id = (char *)hcs[rnd(3)],
			       .region = (char *)REGIONS[rnd(3)]});
		return;
	}
	if (op == 25) {
		/* The latency table: a row set or deleted, a site sample;
		 * nothing in the zone changes (control_fsm marks it dirty). */
		static const char *const NETS[] = {
		    "198.51.100.0/24", "198.51.0.0/16", "2001:db8::/32"};
		struct latency_row r;
		char why[160];
		memset(&r, 0, sizeof(r));
		assert_true(latency_cidr_parse(NETS[rnd(3)], &r));
		unsigned k = rnd(4);
		if (k == 0) {
			latency_table_delete(&lat_table, &r);
			return;
		}
		struct latency_rtt rtt[3];
		for (size_t i = 0; i < 3; i++) {
			snprintf(rtt[i].region, sizeof(rtt[i].region), "%s",
				 REGIONS[i]);
			rtt[i].rtt_ms = 1 + rnd(50);
		}
		if (k == 1) {
			assert_int_equal(latency_table_sample(&lat_table, "fra",
							      1, 1, rtt,
							      1 + rnd(3)),
					 0);
			return;
		}
		r.n = (uint8_t)(1 + rnd(3));
		memcpy(r.rtt, rtt, sizeof(rtt));
		assert_int_equal(latency_row_check(&r, why, sizeof(why)), 0);
		assert_int_equal(latency_table_set(&lat_table, &r), 0);
		return;
	}

	if (op >= 20) {
		/* A weighted (weight 0 too) or multivalue group member,
		 * with or without a check; "a" and "mv" also take other
		 * policies, which the store refuses. */
		static const char *const ids[] = {"w1", "w2", "w3", "w4"};
		static const char *const hcs[] = {"hc1", "hc2", NULL};
		bool mv = op == 22;
		snprintf(v[0], sizeof(v[0]), "192.0.2.%u", 20 + rnd(6));
		size_t n = 1;
		if (rnd(3) == 0) {
			snprintf(v[1], sizeof(v[1]), "192.0.2.%u", 30 + rnd(2));
			n = 2;
		}
		const char *at =
		    mv ? (rnd(3) ? "mv" : "a") : (rnd(3) ? "wt" : "*.w");
		if (!mv && rnd(4) == 0) {
			/* A weighted CNAME at its own name. */
			target(v[0], sizeof(v[0]));
			upsert_routed(s, "cnw", RRTYPE_CNAME, values, 1,
				      ids[rnd(4)], (int)rnd(3), false,
				      hcs[rnd(3)]);
			return;
		}
		upsert_routed(s, at, RRTYPE_A, values, n, ids[rnd(4)],
			      mv ? -1 : (int)rnd(4) * 30, mv, hcs[rnd(3)]);
		return;
	}

	if (op < 5) {
		delete_random(s);
		return;
	}
	if (op == 5) {
		health[rnd(2)] ^= true;
		return;
	}
	if (op == 6) {
		/* A failover group member. */
		bool primary = rnd(2);
		snprintf(v[0], sizeof(v[0]), "192.0.2.%u", rnd(4));
		upsert(s, rnd(2) ? "fo" : "a", RRTYPE_A, values, 1,
		       primary ? "p" : "s",
		       primary ? CHANGE_FAILOVER_PRIMARY
			       : CHANGE_FAILOVER_SECONDARY,
		       primary ? "hc1" : "hc2");
		return;
	}
	if (op == 7 || op == 8) {
		/* A delegation (or its glue). */
		const char *cut = rnd(3) == 0 ? "x.w" : (rnd(2) ? "d" : "d2");
		size_t n = 1 + rnd(2);
		for (size_t i = 0; i < n; i++) {
			unsigned k = rnd(3);
			snprintf(v[i], sizeof(v[i]), "%s",
				 k == 0	  ? "ns.d.inc.test."
				 : k == 1 ? "ns.d2.inc.test."
					  : "ns.ext.example.");
		}
		if (n == 2 && strcmp(v[0], v[1]) == 0)
			n = 1;
		upsert(s, cut, RRTYPE_NS, values, n, NULL, CHANGE_FAILOVER_NONE,
		       NULL);
		return;
	}
	uint16_t type;
	size_t n = 1;
	switch (op % 6) {
	case 0:
		type = RRTYPE_CNAME;
		target(v[0], sizeof(v[0]));
		break;
	case 1:
		type = RRTYPE_MX;
		snprintf(v[0], sizeof(v[0]), "10 ");
		target(v[0] + 3, sizeof(v[0]) - 3);
		break;
	case 2:
		type = RRTYPE_SRV;
		snprintf(v[0], sizeof(v[0]), "0 0 53 ");
		target(v[0] + 7, sizeof(v[0]) - 7);
		break;
	case 3:
		type = RRTYPE_AAAA;
		snprintf(v[0], sizeof(v[0]), "2001:db8::%u", rnd(3));
		break;
	case 4:
		type = 16;
		snprintf(v[0], sizeof(v[0]), "\"t%u\"", rnd(3));
		break;
	default:
		type = RRTYPE_A;
		n = 1 + rnd(2);
		snprintf(v[0], sizeof(v[0]), "192.0.2.%u", 10 + rnd(3));
		snprintf(v[1], sizeof(v[1]), "198.51.100.%u", rnd(3));
		break;
	}
	upsert(s, rel, type, values, n, NULL, CHANGE_FAILOVER_NONE, NULL);
}

static size_t ask(const struct serving_view *v, const char *qname,
		  uint16_t qtype, bool edns, uint16_t id, uint8_t *out,
		  size_t cap)
{
	uint8_t q[512] = {(uint8_t)(id >> 8),
			  (uint8_t)id,
			  0x01,
			  0x00,
			  0,
			  1,
			  0,
			  0,
			  0,
			  0,
			  0,
			  0};
	size_t len;
	wire_name(qname, q + 12, &len);
	size_t o = 12 + len;
	q[o++] = (uint8_t)(qtype >> 8);
	q[o++] = (uint8_t)qtype;
	q[o++] = 0;
	q[o++] = 1;
	if (edns) {
		static const uint8_t opt[] = {0, 0, 41, 0x10, 0, 0,
					      0, 0, 0,	0,    0};
		memcpy(q + o, opt, sizeof(opt));
		o += sizeof(opt);
		q[11] = 1;
	}
	struct dns_query_params p = {.udp_payload = 1232, .tcp = false};
	/* From a network some latency rows cover, and from one none does. */
	struct dns_client c = {
	    .family = 4, .addr = {198, 51, (uint8_t)(id & 1 ? 100 : 7), 9}};
	if (id % 3 == 0)
		c = (struct dns_client){.family = 4, .addr = {203, 0, 113, 9}};
	return dns_query_answer_from(v, &p, &c, q, o, out, cap);
}

static void compare(struct zone *inc, struct zone *full, int step)
{
	struct serving_view *vi, *vf;
	static uint8_t ai[DNS_MSG_MAX], af[DNS_MSG_MAX];
	char name[300];
	assert_int_equal(serving_view_build(&vi, &inc, 1), 0);
	assert_int_equal(serving_view_build(&vf, &full, 1), 0);
	assert_int_equal(zone_record_count(inc), zone_record_count(full));
	for (size_t i = 0; i < NPOOL + NEXTRA; i++) {
		const char *rel = i < NPOOL ? POOL[i] : EXTRA[i - NPOOL];
		fqdn(rel, name, sizeof(name));
		for (size_t t = 0; t < NQTYPES; t++) {
			for (int e = 0; e < 4; e++) {
				/* Query IDs pick weighted / multivalue
				 * leaves: several per question. */
				uint16_t id = (uint16_t)(0x1234 + e * 7919 +
							 step * 31 + t);
				size_t li = ask(vi, name, QTYPES[t], e & 1, id,
						ai, sizeof(ai));
				size_t lf = ask(vf, name, QTYPES[t], e & 1, id,
						af, sizeof(af));
				if (li != lf || memcmp(ai, af, li) != 0)
					fail_msg("step %d: %s type %u edns %d: "
						 "incremental answer (%zu "
						 "bytes) differs from the "
						 "full build's (%zu)",
						 step, name, QTYPES[t], e, li,
						 lf);
			}
		}
	}
	serving_view_free(vi);
	serving_view_free(vf);
}

static const struct zone_node *node_of(const struct zone *z, const char *rel)
{
	char name[300];
	uint8_t w[DNAME_MAXLEN];
	size_t len;
	fqdn(rel, name, sizeof(name));
	wire_name(name, w, &len);
	return zone_find_node(z, w, len);
}

/* Whether n answers some type with a query-time choice. */
static bool has_choice(const struct zone_node *n)
{
	const struct zone_answer_entry *e = n != NULL ? n->block : NULL;
	for (uint32_t i = 0; e != NULL && i < n->nanswers; i++) {
		if (e[i].choice)
			return true;
	}
	return false;
}

static void test_random_changes_match_full_builds(void **state)
{
	struct zone_store s;
	char err[1024];
	struct zone *inc = NULL;
	(void)state;
	zone_store_init(&s);
	latency_table_init(&lat_table);
	s.latency = &lat_in;
	struct zone_store_create_params p = {.id = ZID,
					     .name = "inc.test",
					     .nameservers = NS,
					     .nnameservers = 1};
	assert_int_equal(zone_store_create(&s, &p, err, sizeof(err)), 0);
	char v0[] = "192.0.2.1";
	char *values[] = {v0};
	assert_int_equal(upsert(&s, "static", RRTYPE_A, values, 1, NULL,
				CHANGE_FAILOVER_NONE, NULL),
			 0);
	assert_int_equal(zone_store_build_update(&s, ZID, NULL, healthy_fn,
						 NULL, &inc, err, sizeof(err)),
			 0);
	int shared = 0, built = 0, wt = 0, mv = 0, lt = 0;
	for (int step = 0; step < STEPS; step++) {
		random_change(&s);

		struct zone *next, *full;
		int rc = zone_store_build_update(&s, ZID, inc, healthy_fn, NULL,
						 &next, err, sizeof(err));
		int rf = zone_store_build_with_health(&s, ZID, healthy_fn, NULL,
						      &full, err, sizeof(err));
		assert_int_equal(rc, rf);
		if (rc != 0)
			continue; /* both refuse the zone: keep serving inc */
		compare(next, full, step);
		built++;
		/* The untouched name is the previous version's node. */
		if (node_of(next, "static") == node_of(inc, "static"))
			shared++;
		wt += has_choice(node_of(full, "wt")) ||
		      has_choice(node_of(full, "*.w"));
		mv += has_choice(node_of(full, "mv"));
		lt += has_choice(node_of(full, "lt"));

		zone_release(full);
		zone_release(inc);
		inc = next;
	}
	assert_int_equal(shared, built);
	assert_true(built > STEPS / 2);
	/* The sequence did reach weighted and multivalue choices. */
	if (wt < STEPS / 10 || mv < STEPS / 10 || lt < STEPS / 10)
		fail_msg("only %d / %d / %d steps with weighted / multivalue / "
			 "latency choices",
			 wt, mv, lt);
	zone_release(inc);
	zone_store_free(&s);
	latency_table_free(&lat_table);
}

/* An import compiled ahead of its apply (zone_store_prebuild, on the
 * proposing node) and finished after it (zone_store_build_adopt: the apex
 * and what changed since) answers exactly as a full build: with the
 * file's own SOA and NS or the zone's, an older or newer serial in the
 * file, and changes applied between the import and the build. */
static const char *const IMPORT_TEXT[] = {
    /* a serial newer than the zone's */
    "@ 900 SOA ns1.inc.test. hostmaster.inc.test. 4000000000 7200 900 "
    "1209600 300\n"
    "@ 900 NS ns1\n"
    "fo 60 A 192.0.2.40\n",
    /* no SOA or NS: the zone's stay; a newer serial cannot come */
    "a 60 A 192.0.2.7\n"
    "*.g 60 A 192.0.2.70\n"
    "t 60 TXT \"t\"\n"
    "d2 60 NS ns.d2\n"
    "ns.d2 60 A 192.0.2.72\n",
    /* SOA and NS of its own, a serial older than the zone's */
    "@ 900 SOA ns1.inc.test. hostmaster.inc.test. 7 7200 900 1209600 300\n"
    "@ 900 NS ns1\n"
    "@ 60 A 192.0.2.80\n"
    "a 60 A 192.0.2.1\n"
    "a 60 A 192.0.2.2\n"
    "a 60 A 192.0.2.3\n"
    "b.a 60 AAAA 2001:db8::1\n"
    "c.b.a 300 TXT \"one\" \"two\"\n"
    "* 60 A 192.0.2.9\n"
    "*.w 60 MX 10 mx.inc.test.\n"
    "x.w 60 CNAME cn\n"
    "cn 60 CNAME cn2\n"
    "cn2 60 A 192.0.2.22\n"
    "d 60 NS ns.d\n"
    "ns.d 60 A 192.0.2.53\n"
    "deep.ns.d 60 A 192.0.2.54\n"
    "mx 60 A 192.0.2.25\n"
    "e.f.g 60 TXT \"deep\"\n"
    "srv 60 SRV 0 5 5060 mx.inc.test.\n"
    "ns1 60 A 192.0.2.100\n"};

static void test_import_compiled_ahead(void **state)
{
	struct zone_store s;
	char err[1024];
	(void)state;
	zone_store_init(&s);
	latency_table_init(&lat_table);
	s.latency = &lat_in;
	struct zone_store_create_params p = {.id = ZID,
					     .name = "inc.test",
					     .nameservers = NS,
					     .nnameservers = 1};
	assert_int_equal(zone_store_create(&s, &p, err, sizeof(err)), 0);
	struct zone *inc = NULL;
	assert_int_equal(zone_store_build_update(&s, ZID, NULL, healthy_fn,
						 NULL, &inc, err, sizeof(err)),
			 0);
	uint64_t tag = 41;
	for (size_t t = 0; t < sizeof(IMPORT_TEXT) / sizeof(IMPORT_TEXT[0]);
	     t++) {
		struct zone_store_info info;
		struct zone_text_sets sets;
		const char *text = IMPORT_TEXT[t];
		assert_int_equal(zone_store_get(&s, ZID, &info), 0);
		int rc = zone_text_parse(&info, text, strlen(text), &sets, err,
					 sizeof(err));
		if (rc != 0)
			fail_msg("import %zu: %s", t, err);
		struct zone *pre = NULL;
		struct zone_store_apex apex;
		assert_int_equal(zone_store_apex_copy(&s, ZID, &apex), 0);
		assert_int_equal(apex.n, 2);
		/* Without SOA and NS of its own the builder refuses... */
		rc = zone_store_prebuild(info.origin, sets.sets, sets.n, NULL,
					 NULL, NULL, &pre, err, sizeof(err));
		assert_true(t == 1 ? rc != 0 : rc == 0);
		if (pre != NULL)
			zone_release(pre);
		pre = NULL;
		/* ...the zone's current ones are added. */
		rc = zone_store_prebuild(info.origin, sets.sets, sets.n, &apex,
					 NULL, NULL, &pre, err, sizeof(err));
		if (rc != 0)
			fail_msg("import %zu: prebuild: %s", t, err);
		zone_store_apex_free(&apex);
		assert_int_equal(zone_store_replace(&s, ZID, sets.sets, sets.n,
						    err, sizeof(err)),
				 0);
		zone_store_note_import(&s, ZID, ++tag);
		assert_int_equal(zone_store_import_tag(&s, ZID), tag);
		/* Changes between the apply and the build are tracked. */
		for (size_t k = 0; k < t; k++)
			random_change(&s);
		struct zone *next = NULL, *full = NULL;
		{
			/* Only its own import fits. */
			assert_int_equal(zone_store_build_adopt(
					     &s, ZID, tag - 1, pre, healthy_fn,
					     NULL, &next, err, sizeof(err)),
					 Q53_EINVAL);
			rc = zone_store_build_adopt(&s, ZID, tag, pre,
						    healthy_fn, NULL, &next,
						    err, sizeof(err));
			if (rc != 0)
				fail_msg("import %zu: adopt: %s", t, err);
			zone_release(pre);
			/* Built: the note is gone, the next update is an
			 * incremental one from next. */
			assert_int_equal(zone_store_import_tag(&s, ZID), 0);
		}
		assert_int_equal(
		    zone_store_build_with_health(&s, ZID, healthy_fn, NULL,
						 &full, err, sizeof(err)),
		    0);
		compare(next, full, (int)t);
		zone_release(full);
		zone_release(inc);
		inc = next;
		/* And the next change builds on it incrementally. */
		random_change(&s);
		assert_int_equal(
		    zone_store_build_update(&s, ZID, inc, healthy_fn, NULL,
					    &next, err, sizeof(err)),
		    0);
		assert_int_equal(
		    zone_store_build_with_health(&s, ZID, healthy_fn, NULL,
						 &full, err, sizeof(err)),
		    0);
		compare(next, full, 100 + (int)t);
		zone_release(full);
		zone_release(inc);
		inc = next;
		zone_text_sets_free(&sets);
	}
	zone_release(inc);
	zone_store_free(&s);
	latency_table_free(&lat_table);
}

/* What would not enter the store as it is is not compiled ahead. */
static void test_import_ahead_only_plain_sets(void **state)
{
	(void)state;
	static const uint8_t origin[] = "\3inc\4test";
	static const uint8_t upper[] = "\1A\3inc\4test";
	static const uint8_t lower[] = "\1a\3inc\4test";
	struct rrset_rdata r2[] = {{(const uint8_t *)"\xc0\0\2\2", 4},
				   {(const uint8_t *)"\xc0\0\2\1", 4}};
	struct rrset_data set = {.owner = upper,
				 .owner_len = sizeof(upper),
				 .type = RRTYPE_A,
				 .ttl = 60,
				 .rdata = r2,
				 .nrdata = 1};
	struct zone *z = NULL;
	char err[256];
	assert_int_equal(zone_store_prebuild(origin, &set, 1, NULL, NULL, NULL,
					     &z, err, sizeof(err)),
			 Q53_EINVAL);
	set.owner = lower;
	set.nrdata = 2; /* out of the store's order */
	assert_int_equal(zone_store_prebuild(origin, &set, 1, NULL, NULL, NULL,
					     &z, err, sizeof(err)),
			 Q53_EINVAL);
	set.nrdata = 1;
	set.set_identifier = "w";
	set.has_weight = true;
	assert_int_equal(zone_store_prebuild(origin, &set, 1, NULL, NULL, NULL,
					     &z, err, sizeof(err)),
			 Q53_EINVAL);
	assert_null(z);
}

/* A full build from the store after a sequence of incremental ones frees
 * everything the versions shared (run under ASan: no leaks, no use after
 * free when versions are released out of order). */
static void test_versions_released_out_of_order(void **state)
{
	struct zone_store s;
	char err[1024];
	struct zone *v[8];
	(void)state;
	zone_store_init(&s);
	struct zone_store_create_params p = {.id = ZID,
					     .name = "inc.test",
					     .nameservers = NS,
					     .nnameservers = 1};
	assert_int_equal(zone_store_create(&s, &p, err, sizeof(err)), 0);
	assert_int_equal(zone_store_build_update(&s, ZID, NULL, NULL, NULL,
						 &v[0], err, sizeof(err)),
			 0);
	for (int i = 1; i < 8; i++) {
		char val[32], name[16];
		char *values[] = {val};
		snprintf(val, sizeof(val), "192.0.2.%d", i);
		snprintf(name, sizeof(name), "n%d", i % 3);
		assert_int_equal(upsert(&s, name, RRTYPE_A, values, 1, NULL,
					CHANGE_FAILOVER_NONE, NULL),
				 0);
		assert_int_equal(zone_store_build_update(&s, ZID, v[i - 1],
							 NULL, NULL, &v[i], err,
							 sizeof(err)),
				 0);
	}
	static const int order[8] = {3, 0, 7, 5, 1, 6, 2, 4};
	for (int i = 0; i < 8; i++)
		zone_release(v[order[i]]);
	zone_store_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_changes_match_full_builds),
	    cmocka_unit_test(test_import_compiled_ahead),
	    cmocka_unit_test(test_import_ahead_only_plain_sets),
	    cmocka_unit_test(test_versions_released_out_of_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
