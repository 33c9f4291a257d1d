/* The Route 53 data model: hosted zones, atomic change batches with Route
 * 53's rules (each rejected batch names every failing change and leaves
 * the store byte-for-byte unchanged), typed batches from JSON
 * (change_batch_compile), export/import (zone_text), whole zones loaded
 * from typed record sets (what the FSM snapshot restores), and the
 * compiled zone answering queries. */
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

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/zone_store.h"
#include "node/control/zone_text.h"
#include "node/dns/query.h"
#include "node/dnsdata/dname.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "tests/unit/support/route53_data.h"

#define ZID  "Z0123456789ABC"
#define ZID2 "Z0123456789ABD"

static const char *const NS[] = {"ns1.quorum53.test", "ns2.quorum53.test."};

static char *load_data(const char *name, size_t *len)
{
	return route53_data_load(name, len);
}

static void create(struct zone_store *s, const char *id, const char *name)
{
	char err[512];
	struct zone_store_create_params p = {
	    .id = id, .name = name, .nameservers = NS, .nnameservers = 2};
	if (zone_store_create(s, &p, err, sizeof(err)) != 0)
		fail_msg("create: %s", err);
}

static int setup(void **state)
{
	struct zone_store *s = malloc(sizeof(*s));
	zone_store_init(s);
	create(s, ZID, "Example.COM");
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	zone_store_free(*state);
	free(*state);
	return 0;
}

struct snap {
	uint8_t *p;
	size_t len;
};

static void put_str(FILE *f, const char *t)
{
	fprintf(f, "%zu:%s", t ? strlen(t) : (size_t)-1, t ? t : "");
}

/* The store's whole state as bytes, every field of every set (the FSM's
 * snapshot is control_fsm.c's; this is the tests' own witness). */
static struct snap snap(const struct zone_store *s)
{
	struct snap n;
	struct zone_store_info info;
	char *p = NULL;
	FILE *f = open_memstream(&p, &n.len);
	assert_non_null(f);
	for (size_t i = 0; zone_store_get_at(s, i, &info) == 0; i++) {
		put_str(f, info.id);
		put_str(f, info.name);
		put_str(f, info.comment);
		put_str(f, info.caller_reference);
		fprintf(f, "%u %zu", info.serial, info.nrrsets);
		for (size_t k = 0; k < info.nrrsets; k++) {
			const struct zone_store_rrset *r =
			    zone_store_info_rrset(&info, k);
			fwrite(r->owner, 1, r->owner_len, f);
			fprintf(f, " %u %u %d %u ", r->type, r->ttl,
				(int)zone_store_rrset_failover(r), r->count);
			put_str(f, zone_store_rrset_set_id(r));
			put_str(f, zone_store_rrset_health_check(r));
			for (uint16_t j = 0; j < r->count; j++) {
				fprintf(f, "%u:", r->rdata[j].len);
				fwrite(r->rdata[j].data, 1, r->rdata[j].len, f);
			}
		}
	}
	fclose(f);
	n.p = (uint8_t *)p;
	return n;
}

/* Typed record sets of a zone as zone_store_get shows them. */
struct typed_sets {
	struct rrset_data *sets;
	struct rrset_rdata *rd;
	size_t n;
};

static struct typed_sets typed_of(const struct zone_store_info *info)
{
	struct typed_sets t = {0};
	size_t nr = 0;
	for (size_t k = 0; k < info->nrrsets; k++)
		nr += zone_store_info_rrset(info, k)->count;
	t.sets = calloc(info->nrrsets + 1, sizeof(*t.sets));
	t.rd = calloc(nr + 1, sizeof(*t.rd));
	assert_non_null(t.sets);
	assert_non_null(t.rd);
	nr = 0;
	for (size_t k = 0; k < info->nrrsets; k++) {
		const struct zone_store_rrset *r =
		    zone_store_info_rrset(info, k);
		t.sets[k] = (struct rrset_data){
		    .owner = r->owner,
		    .owner_len = r->owner_len,
		    .type = r->type,
		    .ttl = r->ttl,
		    .rdata = t.rd + nr,
		    .nrdata = r->count,
		    .set_identifier = zone_store_rrset_set_id(r),
		    .failover = zone_store_rrset_failover(r),
		    .health_check_id = zone_store_rrset_health_check(r),
		};
		for (uint16_t j = 0; j < r->count; j++, nr++)
			t.rd[nr] = (struct rrset_rdata){r->rdata[j].data,
							r->rdata[j].len};
	}
	t.n = info->nrrsets;
	return t;
}

static void typed_free(struct typed_sets *t)
{
	free(t->sets);
	free(t->rd);
}

/* Every zone of from loaded into to (which must be empty), as the FSM's
 * restore does. */
static int reload(const struct zone_store *from, struct zone_store *to,
		  char *err, size_t errlen)
{
	struct zone_store_info info;
	int rc = 0;
	for (size_t i = 0; rc == 0 && zone_store_get_at(from, i, &info) == 0;
	     i++) {
		struct typed_sets t = typed_of(&info);
		struct zone_store_load_params p = {
		    .id = info.id,
		    .origin = info.origin,
		    .origin_len = dname_wire_len(info.origin, 255),
		    .comment = info.comment,
		    .caller_reference = info.caller_reference,
		};
		rc = zone_store_load(to, &p, t.sets, t.n, err, errlen);
		typed_free(&t);
	}
	return rc;
}

static void snap_same(struct snap a, struct snap b)
{
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.p, b.p, a.len);
	free(a.p);
	free(b.p);
}

/* A parsed batch, typed as the serving node types it, applied. */
static int apply_batch(struct zone_store *s, const char *id,
		       const struct change_batch *b, zone_store_check_fn exists,
		       char *err, size_t errlen)
{
	struct change_batch_typed t;
	int rc = change_batch_compile(b, &t);
	assert_int_equal(rc, 0);
	rc = zone_store_apply_with_checks(s, id, &t.batch, exists, NULL, err,
					  errlen);
	change_batch_typed_free(&t);
	return rc;
}

static int apply_json(struct zone_store *s, const char *id, const char *json,
		      char *err, size_t errlen)
{
	struct change_batch *b;
	int rc = change_batch_parse(&b, json, strlen(json), err, errlen);
	if (rc != 0)
		return rc;
	rc = apply_batch(s, id, b, NULL, err, errlen);
	change_batch_free(b);
	return rc;
}

/* The health checks that exist for apply_checked. */
static bool known_check(void *ctx, const char *id)
{
	static const char *const KNOWN[] = {"HC_PRIMARY_ID", "hc-p", "hc-s",
					    "hc-x"};
	(void)ctx;
	for (size_t i = 0; i < sizeof(KNOWN) / sizeof(KNOWN[0]); i++)
		if (strcmp(id, KNOWN[i]) == 0)
			return true;
	return false;
}

static int apply_checked(struct zone_store *s, const char *json, char *err,
			 size_t errlen)
{
	struct change_batch *b;
	int rc = change_batch_parse(&b, json, strlen(json), err, errlen);
	if (rc != 0)
		return rc;
	rc = apply_batch(s, ZID, b, known_check, err, errlen);
	change_batch_free(b);
	return rc;
}

static void apply_ok(struct zone_store *s, const char *json)
{
	char err[4096];
	if (apply_checked(s, json, err, sizeof(err)) != 0)
		fail_msg("refused: %s\n%s", err, json);
}

static void apply_file(struct zone_store *s, const char *file)
{
	size_t len;
	char *json = load_data(file, &len);
	apply_ok(s, json);
	free(json);
}

/* The batch is refused, err holds every needle, the store is unchanged. */
static void refused(struct zone_store *s, const char *json,
		    const char *const *needles)
{
	char err[8192];
	struct snap before = snap(s);
	int rc = apply_checked(s, json, err, sizeof(err));
	if (rc == 0)
		fail_msg("accepted: %s", json);
	assert_int_equal(rc, Q53_EINVAL);
	for (; *needles != NULL; needles++) {
		if (strstr(err, *needles) == NULL)
			fail_msg("error '%s' does not contain '%s'", err,
				 *needles);
	}
	snap_same(before, snap(s));
}

#define REFUSED(s, json, ...)                                                  \
	refused(s, json, (const char *const[]){__VA_ARGS__, NULL})

/* One change; rrs is the inside of a ResourceRecordSet. */
#define CH(action, rrs)                                                        \
	"{\"Action\": \"" action "\", \"ResourceRecordSet\": {" rrs "}}"
#define BATCH(changes) "{\"Changes\": [" changes "]}"
#define RRS(name, type, ttl, values)                                           \
	"\"Name\": \"" name "\", \"Type\": \"" type "\", \"TTL\": " #ttl       \
	", \"ResourceRecords\": [" values "]"
#define V(x) "{\"Value\": \"" x "\"}"
/* A failover member: RRS plus its set identifier and role. */
#define FO(name, type, ttl, id, role, values)                                  \
	RRS(name, type, ttl, values)                                           \
	", \"SetIdentifier\": \"" id "\", \"Failover\": \"" role "\""
#define HC(id) ", \"HealthCheckId\": \"" id "\""

static const struct zone_store_rrset *find(const struct zone_store *s,
					   const char *name, uint16_t type)
{
	struct zone_store_info info;
	uint8_t wire[KNOT_DNAME_MAXLEN];
	assert_int_equal(zone_store_get(s, ZID, &info), 0);
	assert_non_null(knot_dname_from_str(wire, name, sizeof(wire)));
	for (size_t i = 0; i < info.nrrsets; i++) {
		const struct zone_store_rrset *r =
		    zone_store_info_rrset(&info, i);
		if (r->type == type && r->owner_len == knot_dname_size(wire) &&
		    memcmp(r->owner, wire, r->owner_len) == 0)
			return r;
	}
	return NULL;
}

static uint32_t serial(const struct zone_store *s)
{
	struct zone_store_info info;
	assert_int_equal(zone_store_get(s, ZID, &info), 0);
	const struct zone_store_rrset *soa = find(s, info.name, 6);
	assert_non_null(soa);
	const uint8_t *p = soa->rdata[0].data + soa->rdata[0].len - 20;
	uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		     (uint32_t)p[2] << 8 | p[3];
	assert_int_equal(v, info.serial);
	return v;
}

static void test_create(void **state)
{
	struct zone_store *s = *state;
	struct zone_store_info info;
	char err[512];

	assert_int_equal(zone_store_count(s), 1);
	assert_int_equal(zone_store_get_at(s, 0, &info), 0);
	assert_string_equal(info.id, ZID);
	assert_string_equal(info.name, "example.com.");
	assert_int_equal(info.nrrsets, 2);
	assert_int_equal(serial(s), 1);
	const struct zone_store_rrset *ns = find(s, "example.com", 2);
	assert_non_null(ns);
	assert_int_equal(ns->count, 2);
	assert_int_equal(ns->ttl, ZONE_STORE_NS_TTL);
	assert_int_equal(find(s, "example.com", 6)->ttl, ZONE_STORE_SOA_TTL);
	assert_int_equal(zone_store_get(s, "ZNOPE0000000000", &info),
			 Q53_ENOENT);

	struct zone_store_create_params p = {.id = ZID2,
					     .name = "example.org",
					     .caller_reference = "ref-1",
					     .comment = "second",
					     .nameservers = NS,
					     .nnameservers = 1};
	struct snap before = snap(s);
	p.id = "z0123456789ABC";
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(strstr(err, "InvalidInput: hosted zone ID"));
	p.id = "Z0123";
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)),
			 Q53_EINVAL);
	p.id = ZID;
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)),
			 Q53_EEXIST);
	assert_non_null(strstr(err, "HostedZoneAlreadyExists"));
	p.id = ZID2;
	p.name = "EXAMPLE.com.";
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)),
			 Q53_EEXIST);
	assert_non_null(strstr(err, "ConflictingDomainExists"));
	p.name = "bad..name";
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(strstr(err, "InvalidDomainName"));
	p.name = ".";
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)),
			 Q53_EINVAL);
	p.name = "example.org";
	p.nnameservers = 0;
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)),
			 Q53_EINVAL);
	snap_same(before, snap(s));

	p.nnameservers = 1;
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)), 0);
	assert_int_equal(zone_store_count(s), 2);
	assert_int_equal(zone_store_get(s, ZID2, &info), 0);
	assert_string_equal(info.comment, "second");
	assert_string_equal(info.caller_reference, "ref-1");
	p.id = "Z0123456789ABE";
	p.name = "example.net";
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)),
			 Q53_EEXIST);
	assert_non_null(strstr(err, "caller reference 'ref-1'"));
	/* Nested zones are separate hosted zones. */
	p.caller_reference = NULL;
	p.name = "sub.example.com";
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)), 0);
	assert_int_equal(zone_store_count(s), 3);
}

static void test_files_apply(void **state)
{
	struct zone_store *s = *state;
	apply_file(s, "batch-simple.json");
	assert_int_equal(serial(s), 2);
	const struct zone_store_rrset *a = find(s, "www.example.com", 1);
	assert_non_null(a);
	assert_int_equal(a->count, 2);
	assert_int_equal(a->ttl, 300);
	assert_non_null(find(s, "www.example.com", 28));
	assert_non_null(find(s, "example.com", 15));
	assert_int_equal(find(s, "example.com", 16)->count, 2);
	assert_non_null(find(s, "blog.example.com", 5));
	assert_non_null(find(s, "_sip._tcp.example.com", 33));
	assert_non_null(find(s, "example.com", 257));

	apply_file(s, "batch-upsert-delete.json");
	assert_int_equal(serial(s), 3);
	a = find(s, "www.example.com", 1);
	assert_int_equal(a->count, 1);
	assert_int_equal(a->ttl, 60);
	assert_memory_equal(a->rdata[0].data, "\xc0\x00\x02\x14", 4);
	assert_null(find(s, "blog.example.com", 5));

	/* Rejected whole, both reasons named. */
	size_t len;
	char *json = load_data("batch-invalid.json", &len);
	REFUSED(s, json,
		"InvalidChangeBatch: change 1: RRSet of type CNAME with DNS "
		"name api.example.com. is not permitted because a conflicting "
		"RRSet of type A",
		"; change 3: [name='www.example.com.', type='AAAA'] is already "
		"changed by change 2");
	free(json);
	assert_int_equal(serial(s), 3);
	assert_null(find(s, "api.example.com", 1));

	/* What is not served yet (traffic policies) is refused before it
	 * reaches the store. */
	{
		char err[2048];
		assert_int_equal(
		    apply_json(
			s, ZID,
			"{\"Changes\": [{\"Action\": \"CREATE\", "
			"\"ResourceRecordSet\": {\"Name\": "
			"\"tp.example.com.\", \"Type\": \"A\", "
			"\"TrafficPolicyInstanceId\": \"t\", \"TTL\": 1, "
			"\"ResourceRecords\": [{\"Value\": "
			"\"192.0.2.1\"}]}}]}",
			err, sizeof(err)),
		    Q53_EINVAL);
		assert_non_null(strstr(err, "not yet supported"));
	}
	/* Failover applies once its health check exists. */
	char err[2048];
	struct snap before = snap(s);
	json = load_data("batch-failover.json", &len);
	assert_int_equal(apply_json(s, ZID, json, err, sizeof(err)),
			 Q53_ENOENT);
	assert_string_equal(err, "NoSuchHealthCheck: change 0: no health "
				 "check found with ID: HC_PRIMARY_ID");
	snap_same(before, snap(s));
	assert_int_equal(apply_checked(s, json, err, sizeof(err)), 0);
	assert_int_equal(serial(s), 4);
	free(json);
}

static void test_create_delete_rules(void **state)
{
	struct zone_store *s = *state;
	apply_ok(s,
		 BATCH(CH("CREATE", RRS("www.example.com", "A", 300,
					V("192.0.2.1") "," V("192.0.2.2")))));
	REFUSED(
	    s,
	    BATCH(
		CH("CREATE", RRS("WWW.example.com.", "A", 60, V("192.0.2.9")))),
	    "InvalidChangeBatch: change 0: Tried to create resource record "
	    "set [name='www.example.com.', type='A'] but it already exists");
	REFUSED(s,
		BATCH(CH("DELETE", RRS("www.example.com", "AAAA", 300,
				       V("2001:db8::1")))),
		"change 0: Tried to delete resource record set "
		"[name='www.example.com.', type='AAAA'] but it was not found");
	REFUSED(s,
		BATCH(CH("DELETE", RRS("www.example.com", "A", 60,
				       V("192.0.2.1") "," V("192.0.2.2")))),
		"change 0: Tried to delete resource record set "
		"[name='www.example.com.', type='A'] but the values provided "
		"do not match the current values");
	REFUSED(s,
		BATCH(CH("DELETE",
			 RRS("www.example.com", "A", 300, V("192.0.2.1")))),
		"change 0:", "do not match");
	REFUSED(s,
		BATCH(CH("DELETE", RRS("www.example.com", "A", 300,
				       V("192.0.2.1") "," V("192.0.2.3")))),
		"change 0:", "do not match");
	/* Exact match in any order and case deletes. */
	apply_ok(s,
		 BATCH(CH("DELETE", RRS("WwW.Example.Com.", "A", 300,
					V("192.0.2.2") "," V("192.0.2.1")))));
	assert_null(find(s, "www.example.com", 1));
	assert_int_equal(serial(s), 3);
}

static void test_upsert_and_duplicates(void **state)
{
	struct zone_store *s = *state;
	apply_ok(s, BATCH(CH("UPSERT", RRS("x.example.com", "TXT", 60,
					   V("\\\"one\\\"")))));
	apply_ok(s, BATCH(CH("UPSERT", RRS("x.example.com", "TXT", 120,
					   V("\\\"two\\\"")))));
	const struct zone_store_rrset *t = find(s, "x.example.com", 16);
	assert_int_equal(t->ttl, 120);
	assert_memory_equal(t->rdata[0].data, "\3two", 4);

	REFUSED(s,
		BATCH(CH("CREATE",
			 RRS("y.example.com", "A", 60,
			     V("192.0.2.1"))) "," CH("UPSERT",
						     RRS("Y.example.com", "A",
							 60, V("192.0.2.2")))),
		"change 1: [name='y.example.com.', type='A'] is already "
		"changed by change 0 of this batch");
	REFUSED(
	    s,
	    BATCH(CH("UPSERT", RRS("x.example.com", "TXT", 60, V("a"))) "," CH(
		"DELETE", RRS("x.example.com", "TXT", 60, V("a")))),
	    "change 1:", "already changed by change 0");
	/* DELETE then CREATE replaces, the idiom from before UPSERT. */
	apply_ok(s, BATCH(CH("DELETE",
			     RRS("x.example.com", "TXT", 120,
				 V("\\\"two\\\""))) "," CH("CREATE",
							   RRS("x.example.com",
							       "TXT", 30,
							       V("three")))));
	assert_int_equal(find(s, "x.example.com", 16)->ttl, 30);
	/* Duplicate values within one set. */
	REFUSED(
	    s,
	    BATCH(CH("CREATE", RRS("z.example.com", "AAAA", 60,
				   V("2001:db8::1") "," V("2001:DB8:0::1")))),
	    "change 0: [name='z.example.com.', type='AAAA']: duplicate "
	    "value '2001:DB8:0::1'");
	assert_int_equal(serial(s), 4);
}

static void test_cname_rules(void **state)
{
	struct zone_store *s = *state;
	apply_ok(
	    s,
	    BATCH(CH("CREATE",
		     RRS("a.example.com", "A", 60,
			 V("192.0.2.1"))) "," CH("CREATE",
						 RRS("c.example.com", "CNAME",
						     60, V("a.example.com")))));
	/* CNAME beside existing data. */
	REFUSED(s,
		BATCH(CH("CREATE", RRS("a.example.com", "CNAME", 60,
				       V("b.example.com")))),
		"change 0: RRSet of type CNAME with DNS name a.example.com. is "
		"not permitted because a conflicting RRSet of type A with the "
		"same DNS name exists in zone example.com.");
	/* Data beside an existing CNAME. */
	REFUSED(s, BATCH(CH("CREATE", RRS("c.example.com", "TXT", 60, V("x")))),
		"change 0: RRSet of type TXT with DNS name c.example.com. is "
		"not permitted because a conflicting RRSet of type CNAME");
	/* In the resulting state: the A goes in the same batch, fine. */
	apply_ok(
	    s,
	    BATCH(CH("DELETE",
		     RRS("a.example.com", "A", 60,
			 V("192.0.2.1"))) "," CH("CREATE",
						 RRS("a.example.com", "CNAME",
						     60, V("b.example.com")))));
	REFUSED(s,
		BATCH(CH("CREATE",
			 RRS("example.com", "CNAME", 60, V("b.example.com")))),
		"change 0: [name='example.com.', type='CNAME']: a CNAME record "
		"set is not permitted at the zone apex");
	REFUSED(
	    s,
	    BATCH(CH("CREATE", RRS("d.example.com", "CNAME", 60,
				   V("b.example.com") "," V("e.example.com")))),
	    "change 0:", "a CNAME record set holds exactly one record, not 2");
}

static void test_apex_rules(void **state)
{
	struct zone_store *s = *state;
	const struct zone_store_rrset *soa = find(s, "example.com", 6);
	REFUSED(s,
		BATCH(CH("DELETE", RRS("example.com", "NS", 172800,
				       V("ns1.quorum53.test") "," V(
					   "ns2.quorum53.test")))),
		"change 0: [name='example.com.', type='NS']: the NS record set "
		"at the zone apex cannot be deleted");
	REFUSED(s,
		BATCH(CH("DELETE",
			 RRS("example.com", "SOA", 900,
			     V("ns1.quorum53.test. hostmaster.example.com. 1 "
			       "7200 900 1209600 86400")))),
		"change 0:",
		"the SOA record set at the zone apex cannot be "
		"deleted");
	REFUSED(s,
		BATCH(CH("CREATE",
			 RRS("example.com", "NS", 60, V("ns9.quorum53.test")))),
		"change 0: Tried to create resource record set "
		"[name='example.com.', type='NS'] but it already exists");
	REFUSED(s,
		BATCH(CH("CREATE", RRS("www.example.com", "SOA", 60,
				       V("a. b. 1 2 3 4 5")))),
		"change 0:",
		"an SOA record set is only permitted at the zone "
		"apex");
	REFUSED(s,
		BATCH(CH("UPSERT",
			 RRS("example.com", "SOA", 60,
			     V("a. b. 1 2 3 4 5") "," V("a. b. 2 2 3 4 5")))),
		"change 0:", "exactly one record, not 2");
	(void)soa;
	/* UPSERT is how they change; the store keeps the serial. */
	apply_ok(s, BATCH(CH("UPSERT", RRS("example.com", "NS", 3600,
					   V("ns9.quorum53.test")))));
	assert_int_equal(find(s, "example.com", 2)->count, 1);
	apply_ok(s, BATCH(CH("UPSERT", RRS("example.com", "SOA", 300,
					   V("ns9.quorum53.test. "
					     "admin.example.com. 777 1 2 3 "
					     "4")))));
	assert_int_equal(serial(s), 3);
	soa = find(s, "example.com", 6);
	assert_int_equal(soa->ttl, 300);
	/* Delegations below the apex are ordinary sets. */
	apply_ok(s, BATCH(CH("CREATE", RRS("sub.example.com", "NS", 60,
					   V("ns.sub.example.com")))));
	apply_ok(s, BATCH(CH("DELETE", RRS("sub.example.com", "NS", 60,
					   V("ns.sub.example.com")))));
}

static void test_names_and_values(void **state)
{
	struct zone_store *s = *state;
	REFUSED(s,
		BATCH(CH("CREATE",
			 RRS("www.example.net", "A", 60, V("192.0.2.1")))),
		"change 0: RRSet with DNS name www.example.net. is not "
		"permitted in zone example.com.");
	REFUSED(
	    s,
	    BATCH(CH("CREATE", RRS("notexample.com", "A", 60, V("192.0.2.1")))),
	    "change 0: RRSet with DNS name notexample.com. is not "
	    "permitted");
	REFUSED(
	    s,
	    BATCH(CH("CREATE", RRS("a..example.com", "A", 60, V("1.2.3.4")))),
	    "change 0: 'a..example.com' is not a valid DNS name");
	REFUSED(s,
		BATCH(CH(
		    "CREATE",
		    RRS("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaaaaaaaa.example.com",
			"A", 60, V("192.0.2.1")))),
		"change 0:", "is not a valid DNS name");
	REFUSED(s,
		BATCH(CH("CREATE",
			 RRS("www.example.com", "A", 60, V("300.1.1.1")))),
		"change 0: [name='www.example.com.', type='A']: [Invalid "
		"Resource Record: 'FATAL problem: InvalidRDATA (expected for "
		"A: an IPv4 address",
		"encountered with '300.1.1.1'");
	REFUSED(
	    s,
	    BATCH(CH("CREATE", RRS("www.example.com", "A", 60,
				   V("192.0.2.1\\nevil 60 IN A 192.0.2.66")))),
	    "change 0:", "line break");
	REFUSED(s,
		BATCH(CH("CREATE", RRS("m.example.com", "MX", 60,
				       V("mail.example.com")))),
		"change 0:", "expected for MX: priority mail-server");
	/* Every failing change named, the good ones do not slip through. */
	REFUSED(
	    s,
	    BATCH(CH("CREATE", RRS("ok.example.com", "A", 60, V("192.0.2.1"))) "," CH(
		"CREATE",
		RRS("www.example.org", "A", 60,
		    V("192.0.2.1"))) "," CH("CREATE",
					    RRS("ok2.example.com", "A", 60,
						V("192.0.2.1"))) "," CH("CREAT"
									"E",
									RRS("ba"
									    "d."
									    "ex"
									    "am"
									    "pl"
									    "e."
									    "co"
									    "m",
									    "AA"
									    "A"
									    "A",
									    60,
									    V("1.2.3.4")))),
	    "change 1: RRSet with DNS name www.example.org.",
	    "; change 3: [name='bad.example.com.', type='AAAA']");
	assert_null(find(s, "ok.example.com", 1));

	/* Wildcards; Route 53 octal escapes; case folding. */
	apply_ok(s, BATCH(CH("CREATE",
			     RRS("*.example.com", "A", 60, V("192.0.2.99")))));
	assert_non_null(find(s, "*.example.com", 1));
	REFUSED(s,
		BATCH(CH("CREATE",
			 RRS("\\\\052.EXAMPLE.com", "A", 60, V("192.0.2.98")))),
		"change 0: Tried to create resource record set "
		"[name='*.example.com.', type='A'] but it already exists");
	apply_ok(s, BATCH(CH("CREATE", RRS("MiXeD.Example.Com", "TXT", 0,
					   V("\\\"t\\\"")))));
	assert_int_equal(find(s, "mixed.example.com", 16)->ttl, 0);
	apply_ok(s, BATCH(CH("CREATE", RRS("max.example.com", "TXT", 2147483647,
					   V("\\\"t\\\"")))));
}

static char *export(const struct zone_store *s, const char *id)
{
	char *text, err[512];
	size_t len;
	if (zone_text_export(s, id, &text, &len, err, sizeof(err)) != 0)
		fail_msg("export: %s", err);
	assert_int_equal(strlen(text), len);
	return text;
}

/* Route 53's group rules, each refusal naming the change, the store
 * unchanged. */
static void test_routing_rules(void **state)
{
	struct zone_store *s = *state;
	char err[2048];

	apply_ok(s, BATCH(CH("CREATE",
			     FO("shop.example.com", "A", 30, "p", "PRIMARY",
				V("192.0.2.51"))
				 HC("hc-p")) "," CH("CREATE",
						    FO("shop.example.com", "A",
						       60, "s", "SECONDARY",
						       V("192.0.2.52")))));
	const struct zone_store_rrset *p = find(s, "shop.example.com", 1);
	assert_string_equal(zone_store_rrset_set_id(p), "p");
	assert_int_equal(zone_store_rrset_failover(p), CHANGE_FAILOVER_PRIMARY);
	assert_string_equal(zone_store_rrset_health_check(p), "hc-p");

	/* One set per role. */
	REFUSED(s,
		BATCH(CH("CREATE",
			 RRS("ok.example.com", "A", 1,
			     V("192.0.2.1"))) "," CH("CREATE",
						     FO("shop.example.com", "A",
							30, "p2", "PRIMARY",
							V("192.0.2.53")))),
		"InvalidChangeBatch: change 1: RRSet with DNS name "
		"shop.example.com., type A, SetIdentifier \"p2\" cannot be "
		"created because the rrset with SetIdentifier \"p\" already "
		"has the failover role PRIMARY for the same name and type");
	assert_int_equal(zone_store_get(s, ZID, &(struct zone_store_info){0}),
			 0);
	/* Both new and of one role: both named. */
	REFUSED(s,
		BATCH(CH("CREATE",
			 FO("two.example.com", "A", 30, "a", "SECONDARY",
			    V("192.0.2.1"))) "," CH("CREATE",
						    FO("two.example.com", "A",
						       30, "b", "SECONDARY",
						       V("192.0.2.2")))),
		"change 0: RRSet with DNS name two.example.com., type A, "
		"SetIdentifier \"a\" cannot be created because the rrset with "
		"SetIdentifier \"b\"",
		"; change 1: RRSet with DNS name two.example.com., type A, "
		"SetIdentifier \"b\"");
	/* A plain set cannot join a group, nor a group a plain set. */
	REFUSED(s,
		BATCH(CH("CREATE",
			 RRS("shop.example.com", "A", 30, V("192.0.2.9")))),
		"InvalidChangeBatch: change 0: RRSet with DNS name "
		"shop.example.com., type A cannot be created because failover "
		"rrsets exist with the same name and type");
	apply_ok(s, BATCH(CH("CREATE", RRS("www.example.com", "A", 30,
					   V("192.0.2.10")))));
	REFUSED(s,
		BATCH(CH("UPSERT", FO("www.example.com", "A", 30, "x",
				      "PRIMARY", V("192.0.2.11")))),
		"InvalidChangeBatch: change 0: RRSet with DNS name "
		"www.example.com., type A, SetIdentifier \"x\" cannot be "
		"created because a non failover rrset exists with the same "
		"name and type");
	/* Replacing the plain set by a group in one batch is fine. */
	apply_ok(
	    s, BATCH(CH("DELETE",
			RRS("www.example.com", "A", 30,
			    V("192.0.2.10"))) "," CH("CREATE",
						     FO("www.example.com", "A",
							30, "x", "PRIMARY",
							V("192.0.2.11")))));
	/* Another type at the same name is another group. */
	apply_ok(s, BATCH(CH("CREATE", RRS("shop.example.com", "AAAA", 30,
					   V("2001:db8::1")) HC("hc-x"))));
	/* The apex SOA and NS take no routing. */
	REFUSED(s,
		BATCH(CH("UPSERT", RRS("example.com", "NS", 60,
				       V("ns1.quorum53.test")) HC("hc-p"))),
		"change 0: [name='example.com.', type='NS']: the NS record set "
		"at the zone apex cannot have a routing policy or a health "
		"check");
	REFUSED(s,
		BATCH(CH("CREATE", FO("example.com", "NS", 60, "n", "PRIMARY",
				      V("ns1.quorum53.test")))),
		"the NS record set at the zone apex cannot have a routing "
		"policy");
	/* DELETE matches the role and the health check too. */
	REFUSED(s,
		BATCH(CH("DELETE", FO("shop.example.com", "A", 30, "p",
				      "PRIMARY", V("192.0.2.51")))),
		"change 0: Tried to delete resource record set "
		"[name='shop.example.com.', type='A', set-identifier='p'] but "
		"the values provided do not match");
	REFUSED(s,
		BATCH(CH("DELETE", FO("shop.example.com", "A", 60, "s",
				      "PRIMARY", V("192.0.2.52")))),
		"do not match");
	REFUSED(s,
		BATCH(CH("DELETE", FO("shop.example.com", "A", 60, "q",
				      "SECONDARY", V("192.0.2.52")))),
		"[name='shop.example.com.', type='A', set-identifier='q'] but "
		"it was not found");
	/* Unknown health checks: NoSuchHealthCheck naming each change. */
	struct snap before = snap(s);
	assert_int_equal(
	    apply_checked(
		s,
		BATCH(CH(
		    "CREATE",
		    RRS("a.example.com", "A", 1, V("192.0.2.1")) HC(
			"nope")) "," CH("CREATE",
					RRS("b.example.com", "A", 1,
					    V("192.0.2.1"))
					    HC("hc-p")) "," CH("CREATE",
							       FO("c.example."
								  "com",
								  "A", 1, "c",
								  "PRIMARY",
								  V("192.0.2."
								    "1"))
								   HC("gone"))),
		err, sizeof(err)),
	    Q53_ENOENT);
	assert_string_equal(err, "NoSuchHealthCheck: change 0: no health "
				 "check found with ID: nope; change 2: no "
				 "health check found with ID: gone");
	snap_same(before, snap(s));
	/* UPSERT may swap roles when the result keeps one per role. */
	apply_ok(s, BATCH(CH("UPSERT",
			     FO("shop.example.com", "A", 30, "p", "SECONDARY",
				V("192.0.2.51"))
				 HC("hc-p")) "," CH("UPSERT",
						    FO("shop.example.com", "A",
						       60, "s", "PRIMARY",
						       V("192.0.2.52")))));
	p = find(s, "shop.example.com", 1);
	assert_int_equal(zone_store_rrset_failover(p),
			 CHANGE_FAILOVER_SECONDARY);
	apply_ok(s, BATCH(CH("DELETE",
			     FO("shop.example.com", "A", 30, "p", "SECONDARY",
				V("192.0.2.51")) HC("hc-p"))));
	/* A lone SECONDARY is a group of one. */
	assert_non_null(find(s, "shop.example.com", 1));

	before = snap(s);
	/* The store's own rules apply to hand-made batches too. */
	struct change c = {.action = CHANGE_CREATE,
			   .rrset = {.name = "h.example.com",
				     .type = 1,
				     .ttl = 1,
				     .values = (char *[]){"192.0.2.1"},
				     .nvalues = 1,
				     .set_identifier = "h"}};
	struct change_batch b = {.changes = &c, .nchanges = 1};
	assert_int_equal(apply_batch(s, ZID, &b, NULL, err, sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(
	    strstr(err, "a SetIdentifier needs exactly one routing policy"));
	snap_same(before, snap(s));
}

/* Record sets a zone file cannot hold: left out of it (with a comment),
 * given as a change batch; file + batch restore the zone; snapshots keep
 * every field. */
static void test_routing_export_snapshot(void **state)
{
	struct zone_store *s = *state;
	char err[2048], *json;
	size_t len;

	apply_file(s, "batch-simple.json");
	assert_int_equal(
	    zone_text_export_batch(s, ZID, &json, &len, err, sizeof(err)), 0);
	assert_null(json); /* nothing routed */
	apply_ok(
	    s,
	    BATCH(CH(
		"CREATE",
		FO("shop.example.com", "A", 30, "p", "PRIMARY",
		   V("192.0.2.51") "," V("192.0.2.50"))
		    HC("hc-p")) "," CH("CREATE",
				       FO("shop.example.com", "A", 60, "s",
					  "SECONDARY", V("192.0.2.52"))
					   HC("hc-s")) "," CH("CREATE",
							      FO("odd\\\\040nam"
								 "e."
								 "example.com",
								 "TXT", 60,
								 "x y",
								 "PRIMARY",
								 V("\\\"t\\"
								   "\""))) "," CH("CREATE",
										  RRS("plain.example.com",
										      "A",
										      5,
										      V("192.0.2.7"))
										      HC("hc-x"))));
	char *text = export(s, ZID);
	assert_non_null(strstr(text, "$ORIGIN example.com.\n; 4 record sets "
				     "with a SetIdentifier or a HealthCheckId "
				     "are not in this file"));
	assert_null(strstr(text, "192.0.2.5"));
	assert_null(strstr(text, "plain"));
	assert_int_equal(
	    zone_text_export_batch(s, ZID, &json, &len, err, sizeof(err)), 0);
	assert_int_equal(strlen(json), len);
	assert_non_null(
	    strstr(json, "\"Name\":\"odd\\\\040name.example.com.\""));
	assert_non_null(strstr(json, "\"SetIdentifier\":\"p\",\"Failover\":"
				     "\"PRIMARY\",\"TTL\":30"));
	assert_non_null(strstr(json, "\"HealthCheckId\":\"hc-x\""));

	/* Zone file, then the batch, into a fresh store: the same sets. */
	struct zone_store s2;
	zone_store_init(&s2);
	create(&s2, ZID, "example.com");
	if (zone_text_import(&s2, ZID, text, strlen(text), err, sizeof(err)) !=
	    0)
		fail_msg("import: %s", err);
	if (apply_checked(&s2, json, err, sizeof(err)) != 0)
		fail_msg("batch: %s\n%s", err, json);
	struct zone_store_info a, b;
	assert_int_equal(zone_store_get(s, ZID, &a), 0);
	assert_int_equal(zone_store_get(&s2, ZID, &b), 0);
	assert_int_equal(a.nrrsets, b.nrrsets);
	for (size_t i = 0; i < a.nrrsets; i++) {
		const struct zone_store_rrset *x = zone_store_info_rrset(&a, i),
					      *y = zone_store_info_rrset(&b, i);
		assert_int_equal(x->owner_len, y->owner_len);
		assert_memory_equal(x->owner, y->owner, x->owner_len);
		assert_int_equal(x->type, y->type);
		if (x->type == 6)
			continue; /* serials differ */
		assert_int_equal(x->ttl, y->ttl);
		assert_int_equal(zone_store_rrset_failover(x),
				 zone_store_rrset_failover(y));
		assert_int_equal(x->count, y->count);
		assert_true((zone_store_rrset_set_id(x) == NULL) ==
			    (zone_store_rrset_set_id(y) == NULL));
		if (zone_store_rrset_set_id(x))
			assert_string_equal(zone_store_rrset_set_id(x),
					    zone_store_rrset_set_id(y));
		assert_true((zone_store_rrset_health_check(x) == NULL) ==
			    (zone_store_rrset_health_check(y) == NULL));
		if (zone_store_rrset_health_check(x))
			assert_string_equal(zone_store_rrset_health_check(x),
					    zone_store_rrset_health_check(y));
		for (uint16_t k = 0; k < x->count; k++) {
			assert_int_equal(x->rdata[k].len, y->rdata[k].len);
			assert_memory_equal(x->rdata[k].data, y->rdata[k].data,
					    x->rdata[k].len);
		}
	}
	free(json);
	free(text);

	/* Loaded from typed sets (the FSM snapshot's form): every routing
	 * field round-trips. */
	zone_store_free(&s2);
	zone_store_init(&s2);
	if (reload(s, &s2, err, sizeof(err)) != 0)
		fail_msg("reload: %s", err);
	snap_same(snap(s), snap(&s2));
	const struct zone_store_rrset *r = NULL;
	assert_int_equal(zone_store_get(&s2, ZID, &b), 0);
	for (size_t i = 0; i < b.nrrsets; i++)
		if (zone_store_rrset_health_check(
			zone_store_info_rrset(&b, i)) != NULL &&
		    strcmp(zone_store_rrset_health_check(
			       zone_store_info_rrset(&b, i)),
			   "hc-s") == 0)
			r = zone_store_info_rrset(&b, i);
	assert_non_null(r);
	assert_int_equal(zone_store_rrset_failover(r),
			 CHANGE_FAILOVER_SECONDARY);
	assert_string_equal(zone_store_rrset_set_id(r), "s");
	zone_store_free(&s2);
}

static void test_not_found(void **state)
{
	struct zone_store *s = *state;
	char err[512];
	struct change_batch *b;
	const char *json =
	    BATCH(CH("CREATE", RRS("a.example.com", "A", 60, V("192.0.2.1"))));
	assert_int_equal(
	    change_batch_parse(&b, json, strlen(json), err, sizeof(err)), 0);
	assert_int_equal(apply_batch(s, ZID2, b, NULL, err, sizeof(err)),
			 Q53_ENOENT);
	assert_non_null(strstr(err, "NoSuchHostedZone"));
	change_batch_free(b);
	struct zone *z;
	assert_int_equal(zone_store_build(s, ZID2, &z, err, sizeof(err)),
			 Q53_ENOENT);
	assert_int_equal(zone_store_delete(s, ZID2, err, sizeof(err)),
			 Q53_ENOENT);
}

static void test_delete_zone(void **state)
{
	struct zone_store *s = *state;
	char err[512];
	apply_ok(s, BATCH(CH("CREATE",
			     RRS("a.example.com", "A", 60, V("192.0.2.1")))));
	/* Replaced SOA and NS still count as the apex's own. */
	apply_ok(s, BATCH(CH("UPSERT", RRS("example.com", "NS", 60,
					   V("ns1.quorum53.test")))));
	struct snap before = snap(s);
	assert_int_equal(zone_store_delete(s, ZID, err, sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(strstr(err, "HostedZoneNotEmpty: hosted zone " ZID));
	snap_same(before, snap(s));
	apply_ok(s, BATCH(CH("DELETE",
			     RRS("a.example.com", "A", 60, V("192.0.2.1")))));
	assert_int_equal(zone_store_delete(s, ZID, err, sizeof(err)), 0);
	assert_int_equal(zone_store_count(s), 0);
}

static void test_export_import(void **state)
{
	struct zone_store *s = *state;
	char err[1024];
	apply_file(s, "batch-simple.json");
	apply_ok(
	    s, BATCH(CH("CREATE",
			RRS("*.wild.example.com", "A", 60,
			    V("192.0.2.99"))) "," CH("CREATE",
						     RRS("esc.example.com",
							 "TXT", 60,
							 V("\\\"semi;colon\\\" "
							   "\\\"quote\\\\\\\"d"
							   "\\\"")))));
	char *text = export(s, ZID);
	assert_non_null(strstr(text, "$ORIGIN example.com.\n"));
	assert_non_null(strstr(text, "www.example.com. 300 IN A 192.0.2.10\n"));
	assert_non_null(strstr(text, "example.com. 3600 IN MX 10 "
				     "mail.example.com.\n"));

	/* Into a fresh store: the same records, the same serial. */
	struct zone_store s2;
	zone_store_init(&s2);
	create(&s2, ZID, "example.com");
	if (zone_text_import(&s2, ZID, text, strlen(text), err, sizeof(err)) !=
	    0)
		fail_msg("import: %s\n%s", err, text);
	char *text2 = export(&s2, ZID);
	assert_string_equal(text, text2);
	snap_same(snap(s), snap(&s2));
	free(text2);

	/* Bad files are refused with the line and leave the zone alone. */
	static const struct {
		const char *text;
		const char *needle;
	} bad[] = {
	    {"www A 192.0.2.1\nwww A 300.1.1.1\n", "InvalidInput: line 2:"},
	    {"www A 192.0.2.1\nother.org. A 192.0.2.1\n",
	     "line 2: other.org. is outside the zone example.com."},
	    {"$INCLUDE /etc/passwd\n", "line 1: $INCLUDE is not supported"},
	    {"www A 192.0.2.1\nwww CNAME x\n", "CNAME and other data at "
					       "www.example.com."},
	    {"@ CNAME x\n", "CNAME"},
	    {"x LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m\n",
	     "line 1: type LOC is not supported"},
	    {"www CH TXT \"x\"\n", "InvalidInput: line 1:"},
	    {"sub SOA a. b. 1 2 3 4 5\n", "SOA record outside the zone apex"},
	    {"@ SOA a. b. 1 2 3 4 5\n@ SOA a. c. 1 2 3 4 5\n",
	     "exactly one SOA"},
	    {"x \"unterminated\n", "line 1:"},
	    {"x A 192.0.2.1 (\n", "InvalidInput: line"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct snap before = snap(&s2);
		int rc =
		    zone_text_import(&s2, ZID, bad[i].text, strlen(bad[i].text),
				     err, sizeof(err));
		if (rc == 0)
			fail_msg("imported: %s", bad[i].text);
		if (strstr(err, bad[i].needle) == NULL)
			fail_msg("'%s' lacks '%s'", err, bad[i].needle);
		snap_same(before, snap(&s2));
	}
	assert_int_equal(zone_text_import(&s2, ZID2, "", 0, err, sizeof(err)),
			 Q53_ENOENT);

	/* Records are grouped into sets (first TTL wins, duplicates merge);
	 * without SOA/NS of its own the file keeps the zone's, and the
	 * serial moves on. */
	uint32_t before_serial = serial(s);
	const char grouped[] = "$TTL 60\n"
			       "www A 192.0.2.1\n"
			       "mail A 192.0.2.25\n"
			       "www 300 A 192.0.2.2\n"
			       "www A 192.0.2.1\n"
			       "WWW AAAA 2001:db8::1\n";
	assert_int_equal(zone_text_import(s, ZID, grouped, sizeof(grouped) - 1,
					  err, sizeof(err)),
			 0);
	struct zone_store_info info;
	assert_int_equal(zone_store_get(s, ZID, &info), 0);
	assert_int_equal(info.nrrsets, 5); /* SOA NS mail/A www/A www/AAAA */
	const struct zone_store_rrset *a = find(s, "www.example.com", 1);
	assert_int_equal(a->count, 2);
	assert_int_equal(a->ttl, 60);
	assert_int_equal(serial(s), before_serial + 1);
	assert_null(find(s, "blog.example.com", 5));

	free(text);
	zone_store_free(&s2);
}

static void test_snapshot(void **state)
{
	struct zone_store *s = *state;
	char err[512];
	struct zone_store_create_params p = {.id = ZID2,
					     .name = "example.org",
					     .caller_reference = "ref",
					     .comment = "comment",
					     .nameservers = NS,
					     .nnameservers = 2};
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)), 0);
	apply_file(s, "batch-simple.json");
	apply_file(s, "batch-upsert-delete.json");

	struct snap a = snap(s);
	struct zone_store s2;
	zone_store_init(&s2);
	if (reload(s, &s2, err, sizeof(err)) != 0)
		fail_msg("reload: %s", err);
	struct zone_store_info info;
	assert_int_equal(zone_store_count(&s2), 2);
	assert_int_equal(zone_store_get(&s2, ZID, &info), 0);
	assert_int_equal(info.serial, 3);
	assert_int_equal(zone_store_get(&s2, ZID2, &info), 0);
	assert_string_equal(info.comment, "comment");
	snap_same(a, snap(&s2));

	/* Untrusted typed sets: refused with a reason, the store unchanged
	 * (a zone already there, out of order, outside the zone, malformed
	 * RDATA, a broken zone rule). */
	struct snap keep = snap(&s2);
	assert_int_equal(reload(s, &s2, err, sizeof(err)), Q53_EINVAL);
	assert_non_null(strstr(err, "out of order or repeated"));
	struct zone_store s3;
	zone_store_init(&s3);
	assert_int_equal(zone_store_get(s, ZID, &info), 0);
	struct typed_sets t = typed_of(&info);
	struct zone_store_load_params lp = {
	    .id = ZID,
	    .origin = info.origin,
	    .origin_len = dname_wire_len(info.origin, 255)};
	struct rrset_data saved = t.sets[1];
	t.sets[1] = t.sets[0]; /* repeated */
	assert_int_equal(
	    zone_store_load(&s3, &lp, t.sets, t.n, err, sizeof(err)),
	    Q53_EINVAL);
	assert_non_null(strstr(err, "record set 1: record sets out of order"));
	t.sets[1] = saved;
	static const uint8_t other[] = "\7example\3org";
	saved = t.sets[t.n - 1];
	t.sets[t.n - 1].owner = other;
	t.sets[t.n - 1].owner_len = sizeof(other);
	assert_int_equal(
	    zone_store_load(&s3, &lp, t.sets, t.n, err, sizeof(err)),
	    Q53_EINVAL);
	t.sets[t.n - 1] = saved;
	for (size_t k = 0; k < t.n; k++) {
		if (t.sets[k].type != 1)
			continue;
		struct rrset_rdata bad = {(const uint8_t *)"\1\2\3", 3};
		const struct rrset_rdata *keep_rd = t.sets[k].rdata;
		size_t keep_n = t.sets[k].nrdata;
		t.sets[k].rdata = &bad;
		t.sets[k].nrdata = 1;
		assert_int_equal(
		    zone_store_load(&s3, &lp, t.sets, t.n, err, sizeof(err)),
		    Q53_EINVAL);
		assert_non_null(strstr(err, "malformed RDATA"));
		t.sets[k].rdata = keep_rd;
		t.sets[k].nrdata = keep_n;
		break;
	}
	/* Without its apex NS (the first set) the zone breaks a rule. */
	assert_int_equal(t.sets[0].type, 2);
	assert_int_equal(
	    zone_store_load(&s3, &lp, t.sets + 1, t.n - 1, err, sizeof(err)),
	    Q53_EINVAL);
	assert_non_null(strstr(err, "the zone apex needs an NS record set"));
	assert_int_equal(zone_store_count(&s3), 0);
	assert_int_equal(
	    zone_store_load(&s3, &lp, t.sets, t.n, err, sizeof(err)), 0);
	typed_free(&t);
	zone_store_free(&s3);
	snap_same(keep, snap(&s2));
	zone_store_free(&s2);
}

/* Asks view for name/type; returns the rcode and the answer count. */
static int ask(const struct serving_view *view, const char *name, uint16_t type,
	       uint16_t *ancount, uint8_t *out)
{
	uint8_t qbuf[512] = {0};
	knot_pkt_t *q = knot_pkt_new(qbuf, sizeof(qbuf), NULL);
	knot_dname_t *qname = knot_dname_from_str_alloc(name);
	knot_wire_set_id(q->wire, 7);
	assert_int_equal(knot_pkt_put_question(q, qname, KNOT_CLASS_IN, type),
			 0);
	free(qname);
	struct dns_query_params p = {.udp_payload = 1232};
	size_t n = dns_query_answer(view, &p, q->wire, q->size, out, 1232);
	knot_pkt_free(q);
	assert_true(n >= 12);
	*ancount = knot_wire_get_ancount(out);
	return knot_wire_get_rcode(out);
}

static bool has_bytes(const uint8_t *p, size_t n, const void *needle,
		      size_t len)
{
	return memmem(p, n, needle, len) != NULL;
}

static void test_build_and_answer(void **state)
{
	struct zone_store *s = *state;
	char err[512];
	uint8_t out[1232];
	uint16_t an;
	struct zone *z;
	struct serving_view *view;

	apply_file(s, "batch-simple.json");
	apply_ok(s, BATCH(CH("CREATE", RRS("new.example.com", "A", 60,
					   V("198.51.100.7")))));
	if (zone_store_build(s, ZID, &z, err, sizeof(err)) != 0)
		fail_msg("build: %s", err);
	/* SOA + 2 NS + 2 A + AAAA + 2 MX + 2 TXT + CNAME + SRV + CAA + A */
	assert_int_equal(zone_record_count(z), 14);
	assert_int_equal(serving_view_build(&view, &z, 1), 0);
	zone_release(z);

	assert_int_equal(ask(view, "new.example.com", 1, &an, out), 0);
	assert_int_equal(an, 1);
	assert_true(has_bytes(out, sizeof(out), "\xc6\x33\x64\x07", 4));
	assert_int_equal(ask(view, "www.example.com", 1, &an, out), 0);
	assert_int_equal(an, 2);
	assert_int_equal(ask(view, "blog.example.com", 1, &an, out), 0);
	assert_int_equal(an, 3); /* CNAME + the two A of www */
	assert_int_equal(ask(view, "nothere.example.com", 1, &an, out), 3);
	/* The SOA the view serves carries the store's serial (3). */
	assert_int_equal(ask(view, "example.com", 6, &an, out), 0);
	assert_int_equal(an, 1);
	serving_view_free(view);
}

/* The import sorts records into canonical order itself (the store
 * rejects sets out of order): names that differ in escaped bytes 0x00,
 * 0x01 and 0x02, in a label's length, or as ancestor and descendant. */
static void test_import_canonical_order(void **state)
{
	struct zone_store *s = *state;
	char err[512];
	const char text[] = "$TTL 60\n"
			    "z A 192.0.2.1\n"
			    "a\\002 A 192.0.2.2\n"
			    "b.a A 192.0.2.3\n"
			    "a\\000 A 192.0.2.4\n"
			    "A A 192.0.2.5\n"
			    "\\000.a A 192.0.2.6\n"
			    "ab A 192.0.2.7\n"
			    "*.a TXT \"w\"\n"
			    "a\\001 A 192.0.2.8\n"
			    "\\001 A 192.0.2.9\n"
			    "a A 192.0.2.10\n"
			    "\\000 A 192.0.2.11\n"
			    "zz.z AAAA 2001:db8::1\n"
			    "z.z A 192.0.2.12\n";
	assert_int_equal(
	    zone_text_import(s, ZID, text, sizeof(text) - 1, err, sizeof(err)),
	    0);
	struct zone_store_info info;
	assert_int_equal(zone_store_get(s, ZID, &info), 0);
	assert_int_equal(info.nrrsets, 15); /* 13 names + SOA NS */
#define W(x)                                                                   \
	{                                                                      \
		(const uint8_t *)(x "\007example\003com"), sizeof(x) + 12      \
	}
	static const struct {
		const uint8_t *wire;
		size_t len;
	} order[] = {
	    W("\001\000"),	W("\001\001"),	 W("\001a"),
	    W("\001\000\001a"), W("\001*\001a"), W("\001b\001a"),
	    W("\002a\000"),	W("\002a\001"),	 W("\002a\002"),
	    W("\002ab"),	W("\001z"),	 W("\001z\001z"),
	    W("\002zz\001z"),
	};
#undef W
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct zone_store_rrset *set =
		    zone_store_info_rrset(&info, i + 2);
		assert_int_equal(set->owner_len, order[i].len);
		assert_memory_equal(set->owner, order[i].wire, order[i].len);
	}
	assert_int_equal(find(s, "a.example.com", 1)->count, 2);
}

/* Names whose first 8 key bytes below the origin are the same (the
 * import's sort decides those by the whole key): a label and its longer
 * extensions, a child of each, and two types at one name. */
static void test_import_order_long_labels(void **state)
{
	struct zone_store *s = *state;
	char err[512];
	const char text[] = "$TTL 60\n"
			    "b.abcdefghi A 192.0.2.1\n"
			    "abcdefghi A 192.0.2.2\n"
			    "abcdefgh TXT \"t\"\n"
			    "abcdefgha A 192.0.2.3\n"
			    "x.abcdefgh A 192.0.2.4\n"
			    "abcdefgh A 192.0.2.5\n";
	assert_int_equal(
	    zone_text_import(s, ZID, text, sizeof(text) - 1, err, sizeof(err)),
	    0);
	struct zone_store_info info;
	assert_int_equal(zone_store_get(s, ZID, &info), 0);
	assert_int_equal(info.nrrsets, 8); /* 6 sets + SOA NS */
#define W(x, t)                                                                \
	{                                                                      \
		(const uint8_t *)(x "\007example\003com"), sizeof(x) + 12, t   \
	}
	static const struct {
		const uint8_t *wire;
		size_t len;
		uint16_t type;
	} order[] = {
	    W("\010abcdefgh", 1),      W("\010abcdefgh", 16),
	    W("\001x\010abcdefgh", 1), W("\011abcdefgha", 1),
	    W("\011abcdefghi", 1),     W("\001b\011abcdefghi", 1),
	};
#undef W
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct zone_store_rrset *set =
		    zone_store_info_rrset(&info, i + 2);
		assert_int_equal(set->type, order[i].type);
		assert_int_equal(set->owner_len, order[i].len);
		assert_memory_equal(set->owner, order[i].wire, order[i].len);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_create),
	    T(test_files_apply),
	    T(test_create_delete_rules),
	    T(test_upsert_and_duplicates),
	    T(test_cname_rules),
	    T(test_apex_rules),
	    T(test_names_and_values),
	    T(test_not_found),
	    T(test_delete_zone),
	    T(test_routing_rules),
	    T(test_routing_export_snapshot),
	    T(test_export_import),
	    T(test_import_canonical_order),
	    T(test_import_order_long_labels),
	    T(test_snapshot),
	    T(test_build_and_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
