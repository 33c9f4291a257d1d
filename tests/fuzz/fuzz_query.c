/* libFuzzer target for the query path: one untrusted DNS message is parsed,
 * looked up and encoded by dns_query_answer, over UDP (1232 and 512 byte
 * payloads) and TCP, against a serving view built once from zones that reach
 * every lookup branch (wildcards, CNAME chains and loops, a delegation with
 * glue, a nested hosted zone, empty non-terminals, many types, RRsets larger
 * than any UDP payload, weighted and multivalue answer choices, alias
 * records compiled by the zone store: at the apex, across zones, chained,
 * in failover and weighted groups, to a weighted group, to a CNAME).
 * response_check.c holds the invariants. Also: CHAOS TXT answers
 * (--identity, --server-version), and response rate limiting on one table
 * that every input goes through (rate 1: most inputs are limited) with the
 * truncated (slipped) answer checked like any other.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_query CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include "node/control/change_batch.h"
#include "node/control/cidr_table.h"
#include "node/control/zone_store.h"
#include "node/dns/query.h"
#include "node/dns/rrl.h"
#include "node/geo/geo.h"
#include "node/zone/choice.h"
#include "node/zone/prefix.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "tests/fuzz/response_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char zone_example[] =
    "$ORIGIN example.com.\n"
    "$TTL 3600\n"
    "@\tIN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n"
    "@\tNS ns1\n"
    "@\tNS ns2.other.test.\n"
    "@\tA 192.0.2.1\n"
    "@\tAAAA 2001:db8::1\n"
    "@\tMX 10 mail\n"
    "@\tMX 20 mail.other.test.\n"
    "@\tTXT \"v=spf1 -all\"\n"
    "@\tCAA 0 issue \"letsencrypt.org\"\n"
    "ns1\tA 192.0.2.53\n"
    "ns1\tAAAA 2001:db8::53\n"
    "mail\tA 192.0.2.25\n"
    "www\tA 192.0.2.80\n"
    "www\tA 192.0.2.81\n"
    "www\tAAAA 2001:db8::80\n"
    "www\tSSHFP 1 1 0123456789abcdef0123456789abcdef01234567\n"
    "_443._tcp.www\tTLSA 3 1 1 "
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
    "MiXeD\tA 192.0.2.7\n"
    "www2\tCNAME WWW\n"
    /* CNAME chains: short, long, looping, leaving the zone, into the
     * other hosted zone, into a delegation, into a wildcard. */
    "chain1\tCNAME chain2\n"
    "chain2\tCNAME chain3\n"
    "chain3\tCNAME www\n"
    "long1\tCNAME long2\n"
    "long2\tCNAME long3\n"
    "long3\tCNAME long4\n"
    "long4\tCNAME long5\n"
    "long5\tCNAME long6\n"
    "long6\tCNAME long7\n"
    "long7\tCNAME long8\n"
    "long8\tCNAME long9\n"
    "long9\tCNAME long10\n"
    "long10\tCNAME long11\n"
    "long11\tCNAME long12\n"
    "long12\tCNAME big\n"
    "loop1\tCNAME loop2\n"
    "loop2\tCNAME loop1\n"
    "self\tCNAME self\n"
    "ext\tCNAME www.example.net.\n"
    "cross\tCNAME www.other.test.\n"
    "crossback\tCNAME back.other.test.\n"
    "tonested\tCNAME host.nested\n"
    "todeleg\tCNAME host.sub\n"
    "towild\tCNAME foo.wild\n"
    "tocnamewild\tCNAME x.cnamewild\n"
    "tonx\tCNAME nothere\n"
    "tobig\tCNAME bigtxt\n"
    /* Wildcards: plain, with children (so *.wild is not a leaf), CNAME
     * wildcard, wildcard below an empty non-terminal. */
    "*.wild\tA 192.0.2.100\n"
    "*.wild\tTXT \"wildcard\"\n"
    "*.wild\tMX 10 mail\n"
    "deeper.*.wild\tA 192.0.2.101\n"
    "exists.wild\tAAAA 2001:db8::100\n"
    "*.cnamewild\tCNAME www\n"
    "*.a.ent2\tA 192.0.2.102\n"
    /* Empty non-terminals: c.ent and b.c.ent exist only as parents. */
    "a.b.c.ent\tA 192.0.2.2\n"
    "x.ent\tTXT \"sibling\"\n"
    "_sip._tcp\tSRV 10 60 5060 sip\n"
    "_sip._udp\tSRV 0 0 0 .\n"
    "sip\tA 192.0.2.60\n"
    "naptr\tNAPTR 100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .\n"
    "hinfo\tHINFO \"PC\" \"Linux\"\n"
    "ptr\tPTR www\n"
    "rp\tRP hostmaster txt\n"
    "txt\tTXT \"a\" \"\" \"multi string\" \"\\\"quoted\\\"\" \"\\255\\000\"\n"
    "spf\tSPF \"v=spf1 -all\"\n"
    "loc\tLOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m\n"
    "caa\tCAA 128 tbs \"unknown\"\n"
    "svcb\tSVCB 1 . alpn=h2,h3 port=8443\n"
    "https\tHTTPS 1 . alpn=h2\n"
    /* RFC 3597: an unknown type, an empty one, and a known type written
     * in generic form. */
    "unknown\tTYPE65534 \\# 4 0a000001\n"
    "empty\tTYPE65280 \\# 0\n"
    "generic\tTYPE1 \\# 4 c0000201\n"
    "generic\tTYPE16 \\# 6 05 68656c6c6f\n"
    /* Odd owners: escaped dot and space, a 63-byte label, a name close
     * to 255 bytes, a CNAME towards it (compression of long names). */
    "dot\\.in\\.label\tA 192.0.2.3\n"
    "sp\\032ace\tA 192.0.2.4\n"
    "l63-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\t"
    "A 192.0.2.5\n"
    "tolong\tCNAME "
    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "dddddddddddddddddddddddddddddddddddddddd\n"
    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "dddddddddddddddddddddddddddddddddddddddd\tMX 10 "
    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "dddddddddddddddddddddddddddddddddddddddd\n"
    /* A delegation with in-bailiwick glue, one with only out-of-zone
     * NS, and the parent side of the hosted child zone nested. */
    "sub\tNS ns1.sub\n"
    "sub\tNS ns2.sub\n"
    "sub\tNS ns2.other.test.\n"
    "sub\tDS 12345 13 2 "
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
    "ns1.sub\tA 192.0.2.54\n"
    "ns1.sub\tAAAA 2001:db8::54\n"
    "ns2.sub\tA 192.0.2.57\n"
    "host.sub\tA 192.0.2.58\n"
    "outdeleg\tNS ns.example.net.\n"
    "nested\tNS ns1.nested\n"
    "ns1.nested\tA 192.0.2.55\n";

static const char zone_other[] = "$ORIGIN other.test.\n"
				 "$TTL 300\n"
				 "@ SOA ns2 admin 1 3600 600 86400 60\n"
				 "@ NS ns2\n"
				 "ns2 A 198.51.100.2\n"
				 "mail A 198.51.100.25\n"
				 "www A 198.51.100.80\n"
				 "* A 198.51.100.99\n"
				 "*.deep TXT \"deep wildcard\"\n"
				 "back CNAME www.example.com.\n"
				 "pingpong CNAME crossback.example.com.\n";

static const char zone_nested[] = "$ORIGIN nested.example.com.\n"
				  "$TTL 60\n"
				  "@ SOA ns1 admin 7 3600 600 86400 60\n"
				  "@ NS ns1\n"
				  "ns1 A 192.0.2.55\n"
				  "host A 192.0.2.56\n"
				  "* CNAME host\n";

static struct serving_view *view;
static struct geo_db *geo;

/* The fixed zones must load: without them the target tests nothing. */
static struct zone *load(const char *origin, const char *text, size_t len)
{
	struct zone *z = NULL;
	char err[512];
	if (zone_load_text(&z, origin, text, len, origin, err, sizeof(err))) {
		fprintf(stderr, "fuzz_query: zone %s failed: %s\n", origin,
			err);
		abort();
	}
	return z;
}

static void append(char *buf, size_t cap, size_t *off, const char *s)
{
	size_t n = strlen(s);
	if (*off + n >= cap)
		abort();
	memcpy(buf + *off, s, n + 1);
	*off += n;
}

/* big.test: RRsets of n 255-byte TXT records, at an exact name and under a
 * wildcard, n as large as the zone compiler accepts: answers just under the
 * 64 KiB of a TCP message, which a long query name pushes over; and a large
 * wildcard MX RRset full of compressed names. */
static struct zone *load_big_zone(void)
{
	size_t cap = 1 << 20;
	char *b = malloc(cap), line[640], s255[256];
	if (b == NULL)
		abort();
	memset(s255, 'x', 255);
	s255[255] = '\0';
	struct zone *z = NULL;
	for (int n = 250; n > 200 && z == NULL; n--) {
		size_t off = 0;
		append(b, cap, &off,
		       "$ORIGIN big.test.\n$TTL 60\n@ SOA ns admin 1 2 3 4 5\n"
		       "@ NS ns\nns A 203.0.113.53\n");
		for (int i = 0; i < n; i++) {
			snprintf(line, sizeof(line),
				 "exact TXT \"%03d%s\"\n*.w TXT \"%03d%s\"\n",
				 i, s255 + 3, i, s255 + 3);
			append(b, cap, &off, line);
		}
		/* A wildcard answer of ~30 KB whose names compress against
		 * names past offset 16 KiB: the pointers that move with a
		 * longer query name must stay below 0x4000. */
		for (int i = 0; i < 700; i++) {
			snprintf(line, sizeof(line),
				 "*.mx MX %d x.h%04d\n*.mx MX %d y.h%04d\n", i,
				 i, i + 1000, i);
			append(b, cap, &off, line);
		}
		char err[512];
		if (zone_load_text(&z, "big.test.", b, off, "big.test.", err,
				   sizeof(err)) != 0)
			z = NULL;
	}
	fprintf(stderr, "fuzz_query: zone big.test. %s\n",
		z ? "loaded" : "skipped (no RRset size accepted)");
	free(b);
	return z;
}

static void must(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "fuzz_query: routing.test. %s: %d\n", what, rc);
		abort();
	}
}

/* Adds an A record of owner to b. */
static void add_a(struct zone_builder *b, const uint8_t *owner, uint32_t ip)
{
	uint8_t rd[4] = {(uint8_t)(ip >> 24), (uint8_t)(ip >> 16),
			 (uint8_t)(ip >> 8), (uint8_t)ip};
	char err[256];
	must(zone_builder_add(b, owner, 1, 60, rd, 4, err, sizeof(err)), err);
}

/* routing.test.: weighted and multivalue answer choices (zone.h), the way
 * the zone store hands them over: weighted A with unequal shares, a
 * 12-leaf multivalue A of 8 records each, a weighted wildcard TXT whose
 * leaves are larger and smaller than a 512-byte answer (TC on some
 * leaves only), a weighted CNAME into the zone and out of it, a plain
 * CNAME into the weighted name (chain.), an MX whose
 * exchange is the weighted name (additional section), an ANY. */
static struct zone *load_routing_zone(void)
{
	static const uint8_t origin[] = "\7routing\4test";
	static const uint8_t w[] = "\1w\7routing\4test";
	static const uint8_t mv[] = "\2mv\7routing\4test";
	static const uint8_t wild[] = "\1*\4wild\7routing\4test";
	static const uint8_t cw[] = "\2cw\7routing\4test";
	static const uint8_t mx[] = "\2mx\7routing\4test";
	static const uint8_t geo[] = "\3geo\7routing\4test";
	static const uint8_t geonodef[] = "\10geonodef\7routing\4test";
	static const uint8_t nest[] = "\4nest\7routing\4test";
	static const uint8_t lat[] = "\3lat\7routing\4test";
	static uint8_t soa[64], ns[32], target_in[32], target_out[32];
	static uint8_t txt_big[3][256], txt_small[8];
	struct zone_builder *b;
	char err[256];
	size_t n;

	must(zone_builder_new(&b, origin), "new");
	static const uint8_t mname[] = "\2ns\7routing\4test";
	static const uint8_t rname[] = "\1h\7routing\4test";
	memcpy(soa, mname, sizeof(mname));
	memcpy(soa + sizeof(mname), rname, sizeof(rname));
	n = sizeof(mname) + sizeof(rname);
	memset(soa + n, 0, 20);
	soa[n + 3] = 1;	  /* serial */
	soa[n + 19] = 60; /* minimum */
	must(zone_builder_add(b, origin, 6, 60, soa, (uint16_t)(n + 20), err,
			      sizeof(err)),
	     err);
	memcpy(ns, "\2ns\7routing\4test", 17);
	must(zone_builder_add(b, origin, 2, 60, ns, 17, err, sizeof(err)), err);
	add_a(b, ns, 0xC0000235);

	/* w: 90 / 10 / 1 (two records). */
	struct zone_choice_record r[96];
	uint8_t ips[96][4];
	for (int i = 0; i < 96; i++) {
		ips[i][0] = 192;
		ips[i][1] = 0;
		ips[i][2] = 2;
		ips[i][3] = (uint8_t)(i + 1);
		r[i] = (struct zone_choice_record){ips[i], 4};
	}
	add_a(b, w, 0xC0000201);
	struct zone_choice_leaf wl[] = {
	    {90, 60, &r[0], 1}, {10, 30, &r[1], 1}, {1, 60, &r[2], 2}};
	must(zone_builder_choice(
		 b, w, 1,
		 &(struct zone_choice_spec){
		     .kind = ZONE_CHOICE_WEIGHTED, .leaves = wl, .n = 3}),
	     "choice w");

	/* mv: 12 leaves, windows of 8 over 12 records. */
	static struct zone_choice_record win[12][8];
	struct zone_choice_leaf ml[12];
	for (int l = 0; l < 12; l++) {
		for (int k = 0; k < 8; k++)
			win[l][k] = r[10 + (l + k) % 12];
		ml[l] = (struct zone_choice_leaf){1, 60, win[l], 8};
	}
	for (int k = 0; k < 8; k++)
		must(zone_builder_add(b, mv, 1, 60, win[0][k].data, 4, err,
				      sizeof(err)),
		     err);
	must(zone_builder_choice(
		 b, mv, 1,
		 &(struct zone_choice_spec){
		     .kind = ZONE_CHOICE_WEIGHTED, .leaves = ml, .n = 12}),
	     "choice mv");

	/* *.wild TXT: 3 x 255 bytes against 7 bytes. */
	struct zone_choice_record tb[3], ts;
	for (int i = 0; i < 3; i++) {
		txt_big[i][0] = 254;
		memset(txt_big[i] + 1, 'a' + i, 254);
		tb[i] = (struct zone_choice_record){txt_big[i], 255};
	}
	memcpy(txt_small, "\6small!", 7);
	ts = (struct zone_choice_record){txt_small, 7};
	must(zone_builder_add(b, wild, 16, 60, txt_small, 7, err, sizeof(err)),
	     err);
	struct zone_choice_leaf tl[] = {{1, 60, tb, 3}, {1, 60, &ts, 1}};
	must(zone_builder_choice(
		 b, wild, 16,
		 &(struct zone_choice_spec){
		     .kind = ZONE_CHOICE_WEIGHTED, .leaves = tl, .n = 2}),
	     "choice wild");

	/* cw CNAME: w (in zone, followed) or out of the zone. */
	memcpy(target_in, w, sizeof(w));
	memcpy(target_out, "\3www\7example\3net", 17);
	must(zone_builder_add(b, cw, 5, 60, target_in, sizeof(w), err,
			      sizeof(err)),
	     err);
	struct zone_choice_record c_in = {target_in, sizeof(w)},
				  c_out = {target_out, 17};
	struct zone_choice_leaf cl[] = {{3, 60, &c_in, 1}, {1, 60, &c_out, 1}};
	must(zone_builder_choice(
		 b, cw, 5,
		 &(struct zone_choice_spec){
		     .kind = ZONE_CHOICE_WEIGHTED, .leaves = cl, .n = 2}),
	     "choice cw");

	/* chain: a plain CNAME into the weighted w, picked
	 * per query as w's own (ZONE_ENTRY_CHAIN). */
	static const uint8_t chain[] = "\5chain\7routing\4test";
	must(zone_builder_add(b, chain, 5, 60, w, sizeof(w), err, sizeof(err)),
	     err);

	/* mx: MX 10 w.routing.test. */
	uint8_t mxrd[2 + sizeof(w)] = {0, 10};
	memcpy(mxrd + 2, w, sizeof(w));
	must(zone_builder_add(b, mx, 15, 60, mxrd, sizeof(mxrd), err,
			      sizeof(err)),
	     err);

	/* geo: a geolocation table (choice.h) with a default, and one
	 * without (NODATA for a client it does not place; no --geoip here:
	 * every client is unplaced). */
	struct zone_choice_leaf gl[] = {
	    {ZONE_GEO_CHOICE | ZONE_GEO_CONTINENT << 29 | 4u << 26, 60, &r[40],
	     1},
	    {ZONE_GEO_CHOICE | ZONE_GEO_COUNTRY << 29 | 82u << 16, 60, &r[41],
	     1},
	    {ZONE_GEO_CHOICE | ZONE_GEO_DEFAULT << 29, 60, &r[42], 2}};
	add_a(b, geo, 0xC0000229);
	must(zone_builder_choice(
		 b, geo, 1,
		 &(struct zone_choice_spec){
		     .kind = ZONE_CHOICE_GEO, .leaves = gl, .n = 3}),
	     "choice geo");
	add_a(b, geonodef, 0xC0000229);
	must(zone_builder_choice(
		 b, geonodef, 1,
		 &(struct zone_choice_spec){
		     .kind = ZONE_CHOICE_GEO, .leaves = gl, .n = 2}),
	     "choice geonodef");

	/* nest: a weighted root (one answer, a nested geolocation choice
	 * whose default leads to a nested weighted one). */
	struct zone_choice_leaf nw[] = {{1, 60, &r[50], 1}, {2, 60, &r[51], 1}};
	struct zone_choice_spec nws = {
	    .kind = ZONE_CHOICE_WEIGHTED, .leaves = nw, .n = 2};
	struct zone_choice_leaf ng[] = {
	    {ZONE_GEO_CHOICE | ZONE_GEO_COUNTRY << 29 | 1u << 16, 60, &r[52],
	     1},
	    {ZONE_GEO_CHOICE | ZONE_GEO_DEFAULT << 29, 0, NULL, 0}};
	const struct zone_choice_spec *ngsub[] = {NULL, &nws};
	struct zone_choice_spec ngs = {
	    .kind = ZONE_CHOICE_GEO, .leaves = ng, .n = 2, .subs = ngsub};
	struct zone_choice_leaf nr[] = {{3, 60, &r[53], 1}, {1, 0, NULL, 0}};
	const struct zone_choice_spec *nrsub[] = {NULL, &ngs};
	add_a(b, nest, 0xC0000236);
	must(zone_builder_choice(
		 b, nest, 1,
		 &(struct zone_choice_spec){.kind = ZONE_CHOICE_WEIGHTED,
					    .leaves = nr,
					    .n = 2,
					    .subs = nrsub}),
	     "choice nest");
	/* lat: a latency choice (choice.h): a prefix table of client
	 * networks to leaves (node/zone/prefix.h), a default leaf. */
	struct prefix_entry pe[] = {
	    {4, 24, {198, 51, 100, 0}, 1},
	    {4, 16, {100, 64, 0, 0}, 0},
	    {6, 32, {0x20, 0x01, 0x0d, 0xb8}, 2},
	};
	void *blob;
	size_t blob_len;
	must(prefix_table_build(pe, 3, &blob, &blob_len), "prefix table");
	static uint8_t lat_extra[4096] __attribute__((aligned(8)));
	struct zone_latency_extra lx = {.dflt = 2};
	if (sizeof(lx) + blob_len > sizeof(lat_extra))
		abort();
	memcpy(lat_extra, &lx, sizeof(lx));
	memcpy(lat_extra + sizeof(lx), blob, blob_len);
	free(blob);
	struct zone_choice_leaf ll[] = {
	    {0, 60, &r[40], 1}, {1, 60, &r[41], 1}, {2, 30, &r[42], 2}};
	add_a(b, lat, 0xC0000229);
	must(zone_builder_choice(b, lat, 1,
				 &(struct zone_choice_spec){
				     .kind = ZONE_CHOICE_LATENCY,
				     .leaves = ll,
				     .n = 3,
				     .extra = lat_extra,
				     .extra_len = sizeof(lx) + blob_len}),
	     "choice lat");

	struct zone *z;
	must(zone_builder_finish(b, &z, err, sizeof(err)), err);
	return z;
}

/* alias.test. and target.test. as the zone store compiles their alias
 * records (AWS CLI JSON through change_batch_parse, as the API does). */
#define ALIAS_ZID  "ZALIASFUZZ00001"
#define TARGET_ZID "ZTARGETFUZZ0001"
static const char alias_target_batch[] =
    "{\"Changes\": ["
    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
    "\"www.target.test\", \"Type\": \"A\", \"TTL\": 30, "
    "\"ResourceRecords\": [{\"Value\": \"198.51.100.1\"}, {\"Value\": "
    "\"198.51.100.2\"}]}},"
    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
    "\"www.target.test\", \"Type\": \"MX\", \"TTL\": 30, "
    "\"ResourceRecords\": [{\"Value\": \"10 www.target.test\"}]}},"
    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
    "\"cn.target.test\", \"Type\": \"CNAME\", \"TTL\": 30, "
    "\"ResourceRecords\": [{\"Value\": \"www.target.test\"}]}},"
    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
    "\"lb.target.test\", \"Type\": \"A\", \"TTL\": 20, "
    "\"SetIdentifier\": \"a\", \"Weight\": 3, \"ResourceRecords\": "
    "[{\"Value\": \"198.51.100.11\"}]}},"
    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
    "\"lb.target.test\", \"Type\": \"A\", \"TTL\": 20, "
    "\"SetIdentifier\": \"b\", \"Weight\": 1, \"ResourceRecords\": "
    "[{\"Value\": \"198.51.100.12\"}]}}]}";
#define ALIAS_CH(name, type, extra, zid, target, eval)                         \
	"{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": \"" name   \
	"\", \"Type\": \"" type "\", " extra "\"AliasTarget\": "               \
	"{\"HostedZoneId\": \"" zid "\", \"DNSName\": \"" target               \
	"\", \"EvaluateTargetHealth\": " eval "}}}"
static const char alias_batch[] =
    "{\"Changes\": [" ALIAS_CH("alias.test", "A", "", TARGET_ZID, "www.target.test", "true") "," ALIAS_CH("alias.test", "MX", "", TARGET_ZID, "www.target.test", "false") "," ALIAS_CH(
	"chain.alias.test", "A", "", ALIAS_ZID, "alias.test",
	"false") "," ALIAS_CH("cn.alias.test", "CNAME", "", TARGET_ZID,
			      "cn.target.test",
			      "false") "," ALIAS_CH("lb.alias.test", "A", "",
						    TARGET_ZID,
						    "lb.target.test",
						    "true") "," ALIAS_CH("fo."
									 "alias"
									 ".tes"
									 "t",
									 "A",
									 "\"Set"
									 "Ident"
									 "ifier"
									 "\": "
									 "\"p\""
									 ", "
									 "\"Fai"
									 "lover"
									 "\": "
									 "\"PRI"
									 "MARY"
									 "\", ",
									 TARGET_ZID,
									 "www."
									 "targe"
									 "t."
									 "test",
									 "true") ","
										 "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
										 "\"fo.alias.test\", \"Type\": \"A\", \"TTL\": 40, "
										 "\"SetIdentifier\": \"s\", \"Failover\": \"SECONDARY\", "
										 "\"ResourceRecords\": [{\"Value\": \"192.0.2.2\"}]}}," ALIAS_CH(
										     "wa.alias.test",
										     "A",
										     "\"SetIdentifier\": \"x\", \"Weight\": 2, ",
										     TARGET_ZID,
										     "www.target.test",
										     "false") "," ALIAS_CH("wa.alias.test",
													   "A",
													   "\"SetIdentifier\": \"y\", \"Weight\": 1, ",
													   TARGET_ZID,
													   "lb.target.test",
													   "false") "]}";

/* gp.alias.test.: a geoproximity group (AWSRegion, Coordinates, biases),
 * compiled by the zone store like the alias records. */
static const char geoprox_batch[] =
    "{\"Changes\": ["
    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
    "\"gp.alias.test\", \"Type\": \"A\", \"TTL\": 30, "
    "\"SetIdentifier\": \"fra\", \"GeoProximityLocation\": "
    "{\"AWSRegion\": \"eu-central-1\", \"Bias\": 30}, "
    "\"ResourceRecords\": [{\"Value\": \"198.51.100.21\"}]}},"
    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
    "\"gp.alias.test\", \"Type\": \"A\", \"TTL\": 30, "
    "\"SetIdentifier\": \"tyo\", \"GeoProximityLocation\": "
    "{\"Coordinates\": {\"Latitude\": \"35.68\", \"Longitude\": "
    "\"139.69\"}, \"Bias\": -40}, "
    "\"ResourceRecords\": [{\"Value\": \"198.51.100.22\"}]}},"
    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
    "\"gp.alias.test\", \"Type\": \"A\", \"TTL\": 30, "
    "\"SetIdentifier\": \"sfo\", \"GeoProximityLocation\": "
    "{\"AWSRegion\": \"us-west-1\"}, "
    "\"ResourceRecords\": [{\"Value\": \"198.51.100.23\"}, "
    "{\"Value\": \"198.51.100.24\"}]}}]}";

static void alias_apply(struct zone_store *s, const char *zid, const char *json)
{
	struct change_batch *b;
	struct change_batch_typed t;
	char err[2048];
	must(change_batch_parse(&b, json, strlen(json), err, sizeof(err)), err);
	must(change_batch_compile(b, &t), "compile");
	must(zone_store_apply(s, zid, &t.batch, err, sizeof(err)), err);
	change_batch_typed_free(&t);
	change_batch_free(b);
}

static void load_alias_zones(struct zone **out)
{
	static const char *const ns[] = {"ns1.alias.test"};
	struct zone_store s;
	char err[512];
	struct zone_store_create_params a = {.id = ALIAS_ZID,
					     .name = "alias.test",
					     .nameservers = ns,
					     .nnameservers = 1};
	struct zone_store_create_params t = {.id = TARGET_ZID,
					     .name = "target.test",
					     .nameservers = ns,
					     .nnameservers = 1};
	zone_store_init(&s);
	must(zone_store_create(&s, &a, err, sizeof(err)), err);
	must(zone_store_create(&s, &t, err, sizeof(err)), err);
	alias_apply(&s, TARGET_ZID, alias_target_batch);
	alias_apply(&s, ALIAS_ZID, alias_batch);
	alias_apply(&s, ALIAS_ZID, geoprox_batch);
	must(zone_store_build(&s, ALIAS_ZID, &out[0], err, sizeof(err)), err);
	must(zone_store_build(&s, TARGET_ZID, &out[1], err, sizeof(err)), err);
	zone_store_free(&s);
}

/* ip.test.: IP-based routing as the zone store compiles it (a CIDR
 * collection with two nested IPv4 locations and an IPv6 one, a '*'
 * default at www, none at nodef, an unhealthy-less group): queries with
 * and without ECS of every length reach zone_ip_pick and its short-source
 * scan. */
#define IP_ZID "ZIPFUZZ00000001"
#define IP_CID "0b6b2a5e-1c1d-4e8f-9a0b-1c2d3e4f5a6b"
#define IP_CH(name, id, loc, value)                                            \
	"{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": \"" name   \
	"\", \"Type\": \"A\", \"TTL\": 30, \"SetIdentifier\": \"" id           \
	"\", \"CidrRoutingConfig\": {\"CollectionId\": \"" IP_CID              \
	"\", \"LocationName\": \"" loc "\"}, \"ResourceRecords\": "            \
	"[{\"Value\": \"" value "\"}]}}"
static const char ip_batch[] =
    "{\"Changes\": [" IP_CH("www.ip.test", "w", "wide", "198.51.100.1") "," IP_CH(
	"www.ip.test", "n", "narrow",
	"198.51.100.2") "," IP_CH("www.ip.test", "s", "six",
				  "198.51.100.3") "," IP_CH("www.ip."
							    "test",
							    "d", "*",
							    "198.51.100."
							    "9") "," IP_CH("nod"
									   "ef."
									   "ip."
									   "tes"
									   "t",
									   "n",
									   "nar"
									   "ro"
									   "w",
									   "198"
									   ".51"
									   ".10"
									   "0."
									   "2") "]}";

static int ip_lookup(void *ctx, const char *ref, const char *location,
		     const struct cidr_block **blocks, size_t *n,
		     const char **id)
{
	const struct cidr_collection *c = cidr_table_get(ctx, ref);
	*blocks = NULL;
	*n = 0;
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

static void ip_put(struct cidr_table *t, const char *loc, const char *a,
		   const char *b)
{
	struct cidr_block bl[2];
	char err[256];
	must(cidr_block_parse(a, &bl[0], err, sizeof(err)), err);
	must(cidr_block_parse(b, &bl[1], err, sizeof(err)), err);
	struct command_cidr_change ch = {COMMAND_CIDR_PUT, loc, bl, 2};
	struct command_change_cidr_collection c = {
	    .id = IP_CID, .changes = &ch, .n_changes = 1};
	must(cidr_table_change(t, &c, NULL, NULL, err, sizeof(err)), err);
}

static struct zone *load_ip_zone(void)
{
	static const char *const ns[] = {"ns1.ip.test"};
	struct cidr_table t;
	struct zone_store s;
	struct zone *z;
	const struct cidr_collection *existing;
	char err[512];
	cidr_table_init(&t);
	struct command_create_cidr_collection cc = {IP_CID, "fuzz", "r", 1};
	must(cidr_table_create(&t, &cc, &existing, err, sizeof(err)), err);
	ip_put(&t, "wide", "10.0.0.0/8", "192.0.0.0/9");
	ip_put(&t, "narrow", "10.1.0.0/16", "10.1.2.0/24");
	ip_put(&t, "six", "2001:db8::/32", "2001:db8:1::/48");
	struct zone_store_create_params p = {.id = IP_ZID,
					     .name = "ip.test",
					     .nameservers = ns,
					     .nnameservers = 1};
	zone_store_init(&s);
	zone_store_set_cidr(&s, ip_lookup, &t);
	must(zone_store_create(&s, &p, err, sizeof(err)), err);
	alias_apply(&s, IP_ZID, ip_batch);
	must(zone_store_build(&s, IP_ZID, &z, err, sizeof(err)), err);
	zone_store_free(&s);
	cidr_table_free(&t);
	return z;
}

static struct dns_rrl_config rrl_cfg;
static struct dns_rrl rrl;

/* A truncated answer: it parses, TC=1, no records but OPT, same ID and
 * question as the answer it replaces, and no longer. */
static void check_truncated(const uint8_t *q, size_t qlen, const uint8_t *full,
			    size_t nfull, uint8_t *t, size_t nt)
{
	knot_pkt_t *pkt = knot_pkt_new(t, nt, NULL);
	if (pkt == NULL)
		abort();
	if (nt > nfull || nt < 12 || memcmp(t, full, 2) != 0 ||
	    knot_pkt_parse(pkt, 0) != 0 || !knot_wire_get_tc(t) ||
	    knot_wire_get_ancount(t) != 0 || knot_wire_get_nscount(t) != 0 ||
	    knot_wire_get_arcount(t) != (pkt->opt_rr != NULL ? 1 : 0) ||
	    knot_wire_get_qdcount(t) != knot_wire_get_qdcount(full))
		response_check_fail("bad truncated (slipped) answer", q, qlen,
				    t, nt);
	knot_pkt_free(pkt);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dns_rrl_config_default(&rrl_cfg);
	rrl_cfg.rate = 1;
	rrl_cfg.slip = 1;
	rrl_cfg.table_size = 64; /* collisions and evictions too */
	(void)dns_rrl_parse_net("10.0.0.0/8", &rrl_cfg.whitelist[2]);
	rrl_cfg.nwhitelist = 3;
	if (dns_rrl_init(&rrl, &rrl_cfg, 1) != 0)
		abort();
	{
		/* tests/fuzz/ -> tests/unit/data/geo/city-test.mmdb */
		char path[4096], err[512];
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 1;
		snprintf(path, sizeof(path),
			 "%.*s/../unit/data/geo/city-test.mmdb", n,
			 slash ? __FILE__ : ".");
		if (geo_open(path, &geo, err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_query: %s\n", err);
			abort();
		}
	}
	/* The large RRsets of example.com are generated, not written out. */
	size_t cap = sizeof(zone_example) + 64 * 1024, off = 0;
	char *text = malloc(cap), line[512];
	if (text == NULL)
		abort();
	append(text, cap, &off, zone_example);
	for (int i = 0; i < 200; i++) { /* 200 A = 3200 bytes */
		snprintf(line, sizeof(line), "big\tA 10.0.%d.%d\n", i / 250,
			 i % 250 + 1);
		append(text, cap, &off, line);
	}
	for (int i = 0; i < 12; i++) { /* ~3 KiB of TXT */
		snprintf(line, sizeof(line), "bigtxt\tTXT \"%02d %0250d\"\n", i,
			 i);
		append(text, cap, &off, line);
	}

	struct zone *zones[8];
	size_t n = 0;
	zones[n++] = load_routing_zone();
	zones[n++] = load_ip_zone();
	load_alias_zones(&zones[n]);
	n += 2;
	zones[n++] = load("example.com.", text, off);
	zones[n++] = load("other.test.", zone_other, strlen(zone_other));
	zones[n++] =
	    load("nested.example.com.", zone_nested, strlen(zone_nested));
	struct zone *zb = load_big_zone();
	if (zb != NULL)
		zones[n++] = zb;
	free(text);

	int ret = serving_view_build(&view, zones, n);
	if (ret != 0) {
		fprintf(stderr, "fuzz_query: serving_view_build: %d\n", ret);
		abort();
	}
	/* The view holds its own references. */
	for (size_t i = 0; i < n; i++)
		zone_release(zones[i]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Clients are placed by the unit tests' City DB (geolocation and
	 * geoproximity picks with real locations and coordinates). */
	const struct dns_query_params udp1232 = {
	    .udp_payload = DNS_UDP_PAYLOAD_DEFAULT, .tcp = false, .geo = geo};
	const struct dns_query_params udp512 = {
	    .udp_payload = 512, .tcp = false, .geo = geo};
	const struct dns_query_params tcp = {
	    .udp_payload = DNS_UDP_PAYLOAD_DEFAULT, .tcp = true, .geo = geo};

	static uint8_t udp_out[DNS_MSG_MAX], tcp_out[DNS_MSG_MAX];

	size_t nu =
	    response_check_answer_keep(view, &udp1232, data, size, udp_out);
	response_check_answer(view, &udp512, data, size);
	size_t nt = response_check_answer_keep(view, &tcp, data, size, tcp_out);
	/* An untruncated UDP answer is the whole answer: TCP (same advertised
	 * payload) must give the same bytes. */
	if (nu > 2 && (udp_out[2] & 0x02) == 0 &&
	    (nu != nt || memcmp(udp_out, tcp_out, nu) != 0)) {
		fprintf(stderr, "UDP (1232) and TCP answers differ; TCP:\n");
		for (size_t i = 0; i < nt && i < 1024; i++)
			fprintf(stderr, "%02x%s", tcp_out[i],
				i % 32 == 31 ? "\n" : "");
		response_check_fail("UDP answer without TC != TCP answer", data,
				    size, udp_out, nu);
	}
	/* From a client (IPv4 or IPv6, from the input's last bytes): the
	 * same bytes twice (the pick is a pure function of the packet and
	 * the client's network), and the same as from another address of
	 * that network. */
	if (size >= 12) {
		static uint8_t c1[DNS_MSG_MAX], c2[DNS_MSG_MAX];
		struct dns_client a = {.family = (data[size - 1] & 1) ? 6 : 4};
		for (size_t i = 0; i < 16; i++)
			a.addr[i] = data[(size - 1 - i) % size];
		struct dns_client b = a;
		b.addr[a.family == 4 ? 3 : 15] ^= 0x5a; /* same /24, /56 */
		size_t n1 = dns_query_answer_from(view, &udp1232, &a, data,
						  size, c1, 1232);
		size_t n2 = dns_query_answer_from(view, &udp1232, &b, data,
						  size, c2, 1232);
		if (n1 != n2 || memcmp(c1, c2, n1) != 0)
			response_check_fail("same packet, same client network: "
					    "different answers",
					    data, size, c2, n2);
	}
	/* CHAOS TXT configured: the same invariants. */
	const struct dns_query_params chaos = {.udp_payload = 512,
					       .geo = geo,
					       .identity = "ns1.example",
					       .version = "q53d fuzz"};
	response_check_answer(view, &chaos, data, size);
	/* Rate limiting: the input's last bytes pick the client and the
	 * second; a slipped answer must be a valid truncated one. */
	if (size >= 12) {
		static uint8_t full[DNS_MSG_MAX], t[DNS_MSG_MAX];
		struct dns_answer_info info;
		struct dns_client c = {.family = (data[size - 2] & 1) ? 6 : 4};
		for (size_t i = 0; i < 16; i++)
			c.addr[i] = data[(size - 3 - i) % size] & 0x0f;
		c.addr[0] = data[size - 1] & 0x0b; /* 10/8 is whitelisted */
		size_t n = dns_query_answer_info(view, &udp1232, &c, data, size,
						 full, 1232, &info);
		if (n > 0) {
			uint32_t now = data[size - 1] >> 5;
			memcpy(t, full, n);
			enum dns_rrl_action act =
			    dns_rrl_check(&rrl, &c, &info, t, n, now);
			if (act != DNS_RRL_PASS && act != DNS_RRL_DROP &&
			    act != DNS_RRL_SLIP)
				abort();
			size_t ntr = dns_query_truncate(&udp1232, &info, t);
			check_truncated(data, size, full, n, t, ntr);
		}
	}
	/* No view at all: everything REFUSED, same invariants. */
	response_check_answer(NULL, &udp512, data, size);
	return 0;
}
