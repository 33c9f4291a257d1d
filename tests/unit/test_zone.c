/* Zone loading: good zones load, bad ones are refused with the file, the
 * line and the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "node/common/errcode.h"
#include "node/zone/zone.h"

#define HEAD "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\n"

static void expect_error(const char *text, const char *needle)
{
	struct zone *z = NULL;
	char err[512];
	int rc = zone_load_text(&z, "example.com.", text, strlen(text),
				"bad.zone", err, sizeof(err));
	if (rc == 0)
		zone_release(z);
	assert_int_not_equal(rc, 0);
	assert_null(z);
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, needle);
}

static void test_good(void **state)
{
	(void)state;
	struct zone *z = NULL;
	char err[512];
	const char text[] = HEAD "www A 192.0.2.1\nwww A 192.0.2.1\n"
				 "other.org. A 192.0.2.9\n"
				 "x TYPE65400 \\# 4 0a000001\n";
	assert_int_equal(zone_load_text(&z, "example.com", text,
					sizeof(text) - 1, "good", err,
					sizeof(err)),
			 0);
	/* SOA, NS, one www A (duplicates merge), x; out-of-zone ignored */
	assert_int_equal(zone_record_count(z), 4);
	zone_release(z);
}

static void test_bad(void **state)
{
	(void)state;
	expect_error("$TTL 300\n@ NS ns1\n", "bad.zone: no SOA record");
	expect_error("$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n",
		     "no NS records at the zone apex");
	expect_error(HEAD "www A 192.0.2.1\nwww CNAME x\n",
		     "bad.zone:5: CNAME and other data");
	expect_error(HEAD "www A 192.0.2.1\nbad A 300.1.1.1\n", "bad.zone:5:");
	expect_error(HEAD "$INCLUDE /etc/passwd\n",
		     "bad.zone:4: $INCLUDE is not supported");
	expect_error(HEAD "www CH TXT \"x\"\n", "bad.zone:4:");
	expect_error(HEAD "a CNAME b\na CNAME c\n", "more than one CNAME");
	expect_error(HEAD "sub SOA ns1 host 1 2 3 4 5\n",
		     "SOA record outside the zone apex");
	expect_error(HEAD "@ SOA ns2 host 2 2 3 4 5\n",
		     "more than one SOA record");
	expect_error(HEAD "x DNAME y\n", "DNAME is not supported");
	expect_error(HEAD "bad TYPE1 \\# 3 c00002\n",
		     "bad.zone:4: RDATA of 3 bytes is malformed for type 1");
	expect_error(HEAD "x \"unterminated\n", "bad.zone:4:");
}

static void test_file(void **state)
{
	(void)state;
	struct zone *z = NULL;
	char err[512];
	int rc = zone_load_file(&z, "example.com", "/nonexistent/q53.zone", err,
				sizeof(err));
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(err, "/nonexistent/q53.zone"));
}

static void test_builder(void **state)
{
	(void)state;
	struct zone_builder *b;
	struct zone *z = NULL;
	char err[512];
	const uint8_t origin[] = "\7example\3com";
	const uint8_t www[] = "\3WWW\7example\3com";
	const uint8_t soa[] = "\3ns1\0\4host\0"
			      "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5";
	const uint8_t ns[] = "\3ns1\0";
	const uint8_t a[] = {192, 0, 2, 1};

	assert_int_equal(zone_builder_new(&b, origin), 0);
	assert_int_equal(zone_builder_add(b, origin, 6, 300, soa,
					  sizeof(soa) - 1, err, sizeof(err)),
			 0);
	assert_int_equal(zone_builder_add(b, origin, 2, 300, ns, sizeof(ns) - 1,
					  err, sizeof(err)),
			 0);
	assert_int_equal(
	    zone_builder_add(b, www, 1, 300, a, sizeof(a), err, sizeof(err)),
	    0);
	assert_int_not_equal(
	    zone_builder_add(b, www, 41, 300, a, sizeof(a), err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, "example.com.: type 41 cannot be stored"));
	assert_int_equal(zone_builder_finish(b, &z, err, sizeof(err)), 0);
	assert_int_equal(zone_record_count(z), 3);
	zone_release(z);

	/* CNAME beside other data is refused at finish. */
	assert_int_equal(zone_builder_new(&b, origin), 0);
	zone_builder_add(b, origin, 6, 300, soa, sizeof(soa) - 1, err,
			 sizeof(err));
	zone_builder_add(b, origin, 2, 300, ns, sizeof(ns) - 1, err,
			 sizeof(err));
	zone_builder_add(b, www, 1, 300, a, sizeof(a), err, sizeof(err));
	zone_builder_add(b, www, 5, 300, ns, sizeof(ns) - 1, err, sizeof(err));
	assert_int_not_equal(zone_builder_finish(b, &z, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "CNAME and other data"));
}

/* A grouped build (zone_builder_grouped: names indexed in one batch)
 * builds what an ordinary one does, finds names not indexed yet for
 * zone_builder_volatile, and fails when a name comes back apart. */
static void test_builder_grouped(void **state)
{
	(void)state;
	struct zone_builder *b;
	struct zone *z = NULL;
	char err[512];
	const uint8_t origin[] = "\7example\3com";
	const uint8_t ab[] = "\1a\1b\7example\3com";
	const uint8_t wild[] = "\1*\1w\7example\3com";
	const uint8_t www[] = "\3www\7example\3com";
	const uint8_t soa[] = "\3ns1\0\4host\0"
			      "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5";
	const uint8_t ns[] = "\3ns1\0";
	const uint8_t a[] = {192, 0, 2, 1};
	const uint8_t aaaa[16] = {0x20, 0x01, 0x0d, 0xb8};

	for (int apart = 0; apart < 2; apart++) {
		assert_int_equal(zone_builder_new(&b, origin), 0);
		zone_builder_grouped(b);
		assert_int_equal(zone_builder_add(b, origin, 6, 300, soa,
						  sizeof(soa) - 1, err,
						  sizeof(err)),
				 0);
		assert_int_equal(zone_builder_add(b, origin, 2, 300, ns,
						  sizeof(ns) - 1, err,
						  sizeof(err)),
				 0);
		assert_int_equal(zone_builder_add(b, ab, 1, 300, a, sizeof(a),
						  err, sizeof(err)),
				 0);
		assert_int_equal(zone_builder_add(b, wild, 1, 300, a, sizeof(a),
						  err, sizeof(err)),
				 0);
		assert_int_equal(zone_builder_add(b, www, 1, 300, a, sizeof(a),
						  err, sizeof(err)),
				 0);
		assert_int_equal(zone_builder_add(b, www, 28, 300, aaaa,
						  sizeof(aaaa), err,
						  sizeof(err)),
				 0);
		/* Not the last name: found after a batch. */
		assert_int_equal(zone_builder_volatile(b, ab), 0);
		if (apart)
			assert_int_equal(
			    zone_builder_add(b, wild, 16, 300,
					     (const uint8_t *)"\1x", 2, err,
					     sizeof(err)),
			    0);
		int rc = zone_builder_finish(b, &z, err, sizeof(err));
		if (apart) {
			assert_int_not_equal(rc, 0);
			assert_non_null(strstr(err, "given apart"));
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(zone_record_count(z), 6);
		zone_release(z);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_file),
	    cmocka_unit_test(test_builder),
	    cmocka_unit_test(test_builder_grouped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
