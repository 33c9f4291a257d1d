/* The precomputed location table (node/geo/geo.c) against libmaxminddb on
 * a generated GeoIP2-City DB (tests/unit/data/geo/city-test.mmdb, written
 * by make_city_db.py): every network of the DB gets its location and
 * coordinates, and for addresses at and around every network boundary and
 * for many pseudo-random ones (and their /24, /56 and ECS-masked forms,
 * as the query path looks them up), the table gives exactly what
 * MMDB_lookup_sockaddr gives: location, prefix length (the ECS scope) and
 * coordinates; also through the DB's aliases of its IPv4 subtree
 * (::ffff:0:0/96, 2002::/16). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "node/control/geo_codes.h"
#include "node/geo/geo.h"

static struct geo_db *open_db(void)
{
	char path[4096], err[512];
	const char *slash = strrchr(__FILE__, '/');
	int n = slash ? (int)(slash - __FILE__) : 1;
	snprintf(path, sizeof(path), "%.*s/data/geo/city-test.mmdb", n,
		 slash ? __FILE__ : ".");
	struct geo_db *db = NULL;
	if (geo_open(path, &db, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return db;
}

static uint32_t loc(const char *cont, const char *cc, const char *sub)
{
	return geo_location_of(cont, cont ? strlen(cont) : 0, cc,
			       cc ? strlen(cc) : 0, sub, sub ? strlen(sub) : 0);
}

/* The table and libmaxminddb agree on addr. */
static void agree(const struct geo_db *db, int family, const uint8_t *addr)
{
	uint8_t pt = 0, pm = 0;
	struct zone_geo_point m;
	uint32_t lm = geo_locate_mmdb(db, family, addr, &pm, &m);
	const struct geo_place *p = geo_find(db, family, addr, &pt);
	uint32_t lt = geo_locate(db, family, addr, &pt);
	char text[64];
	inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, text, sizeof(text));
	if (lt != lm || pt != pm)
		fail_msg("%s: table %08x/%u, libmaxminddb %08x/%u", text, lt,
			 pt, lm, pm);
	if ((p != NULL ? p->loc : 0) != lm)
		fail_msg("%s: geo_find %08x, libmaxminddb %08x", text,
			 p ? p->loc : 0, lm);
	bool has = p != NULL && p->point.has;
	if (has != (m.has != 0) ||
	    (has &&
	     (p->point.x != m.x || p->point.y != m.y || p->point.z != m.z)))
		fail_msg("%s: coordinates differ", text);
}

/* addr with the bits past len cleared. */
static void mask(uint8_t *a, unsigned bytes, unsigned len)
{
	for (unsigned b = 0; b < bytes * 8; b++)
		if (b >= len)
			a[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
}

static void agree_forms(const struct geo_db *db, int family,
			const uint8_t *addr)
{
	unsigned bytes = family == 4 ? 4 : 16;
	uint8_t a[16];
	agree(db, family, addr);
	/* The query path's client network (/24, /56) and ECS sources. */
	static const unsigned lens[] = {0,  1,	7,  8,	12, 15, 16, 20, 23,
					24, 25, 31, 32, 47, 48, 56, 64, 127};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		if (lens[i] > bytes * 8)
			continue;
		memcpy(a, addr, bytes);
		mask(a, bytes, lens[i]);
		agree(db, family, a);
	}
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint8_t next_byte(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 24);
}

struct net {
	const char *cidr;
	const char *cont, *cc, *sub;
	int coords; /* the record has location.latitude/longitude */
	int last;   /* probe its last address (a more specific network of
		     * the list starts at its first) */
};

/* tests/unit/data/geo/make_city_db.py's NETWORKS. */
static const struct net NETS[] = {
    {"10.0.0.0/8", "AS", "JP", NULL, 1, 1},
    {"10.1.0.0/16", "EU", "DE", NULL, 1, 1},
    {"10.1.2.0/24", "EU", "FR", NULL, 1, 0},
    {"10.1.2.128/25", "NA", "US", "CA", 1, 0},
    {"10.2.0.0/15", "NA", "US", "NY", 0, 0},
    {"192.0.2.0/24", "OC", "AU", NULL, 1, 0},
    {"198.51.100.0/25", NULL, "GB", NULL, 1, 0},
    {"203.0.113.7/32", "SA", "BR", NULL, 1, 0},
    {"2001:db8:1::/48", "EU", "DE", NULL, 1, 1},
    {"2001:db8:1:2::/64", "EU", "FR", NULL, 1, 0},
    {"2001:db8:2::/47", "AS", "JP", NULL, 0, 0},
    {"2600::/12", "NA", "US", "TX", 1, 0},
};

static int parse_net(const char *cidr, uint8_t *addr, unsigned *len)
{
	char buf[64];
	const char *slash = strchr(cidr, '/');
	snprintf(buf, sizeof(buf), "%.*s", (int)(slash - cidr), cidr);
	*len = (unsigned)atoi(slash + 1);
	int family = strchr(buf, ':') ? 6 : 4;
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, buf, addr),
			 1);
	return family;
}

/* Every network of the DB: its location, its coordinates, and agreement
 * at its first and last address and just outside both. */
static void test_every_network(void **state)
{
	(void)state;
	struct geo_db *db = open_db();
	assert_true(geo_table_size(db) > 1);
	for (size_t i = 0; i < sizeof(NETS) / sizeof(NETS[0]); i++) {
		uint8_t a[16] = {0}, b[16];
		unsigned len;
		int family = parse_net(NETS[i].cidr, a, &len);
		unsigned bytes = family == 4 ? 4 : 16;
		/* Its first address, unless a more specific network of the
		 * list starts there: its last one. */
		memcpy(b, a, bytes);
		for (unsigned bit = len; bit < bytes * 8; bit++)
			b[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
		const uint8_t *probe = NETS[i].last ? b : a;
		uint8_t prefix;
		const struct geo_place *p =
		    geo_find(db, family, probe, &prefix);
		assert_non_null(p);
		if (p->loc != loc(NETS[i].cont, NETS[i].cc, NETS[i].sub))
			fail_msg("%s: location %08x", NETS[i].cidr, p->loc);
		assert_int_equal(p->point.has != 0, NETS[i].coords);
		agree_forms(db, family, a);
		agree_forms(db, family, b);
		/* Just outside. */
		for (int d = -1; d <= 1; d += 2) {
			uint8_t *c = d < 0 ? a : b;
			uint8_t o[16];
			memcpy(o, c, bytes);
			for (int k = (int)bytes - 1; k >= 0; k--) {
				o[k] = (uint8_t)(o[k] + d);
				if ((d > 0 && o[k] != 0) ||
				    (d < 0 && o[k] != 0xFF))
					break;
			}
			agree_forms(db, family, o);
		}
	}
	geo_close(db);
}

/* Pseudo-random addresses, many of them inside the DB's networks. */
static void test_random_addresses(void **state)
{
	(void)state;
	struct geo_db *db = open_db();
	for (int i = 0; i < 20000; i++) {
		uint8_t a[16];
		for (int k = 0; k < 16; k++)
			a[k] = next_byte();
		switch (i % 4) {
		case 0: /* inside 10/8 */
			a[0] = 10;
			a[1] &= 3;
			break;
		case 1: /* inside 2001:db8::/32 */
			a[0] = 0x20;
			a[1] = 0x01;
			a[2] = 0x0d;
			a[3] = 0xb8;
			a[4] = 0;
			a[5] &= 3;
			break;
		default:
			break;
		}
		agree_forms(db, (i & 1) ? 6 : 4, a);
		/* An IPv4-mapped and an IPv4-compatible address as IPv6
		 * (the DB aliases both to its IPv4 subtree), and 6to4. */
		uint8_t m[16] = {0};
		m[10] = m[11] = (i & 2) ? 0xFF : 0;
		memcpy(m + 12, a, 4);
		agree_forms(db, 6, m);
		uint8_t t[16];
		memcpy(t, a, 16);
		t[0] = 0x20;
		t[1] = 0x02;
		agree_forms(db, 6, t);
	}
	geo_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_network),
	    cmocka_unit_test(test_random_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
