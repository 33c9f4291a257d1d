/* The query path against a compiled zone, in process: every response is
 * re-parsed with libknot (an independent parser) and checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libknot/libknot.h>

#include "node/dns/query.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"

static const char ZONE[] =
    "$TTL 300\n"
    "@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n"
    "@ NS ns1\n"
    "@ NS ns2.other.net.\n"
    "@ MX 10 mail\n"
    "ns1 A 192.0.2.53\n"
    "mail A 192.0.2.25\n"
    "www A 192.0.2.1\n"
    "www A 192.0.2.2\n"
    "www AAAA 2001:db8::1\n"
    "alias CNAME www\n"
    "chain CNAME alias\n"
    "dangling CNAME nowhere\n"
    "outside CNAME www.other.net.\n"
    "a.b.c.deep TXT \"deep\"\n"
    "*.wild A 192.0.2.99\n"
    "*.wild TXT \"wild\"\n"
    "sub NS ns.sub\n"
    "sub DS 12345 13 2 "
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
    "ns.sub A 192.0.2.77\n"
    /* An answer that fits in 512 bytes, its additional section not:
     * cut between the two, without TC (RFC 2181 9). */
    "fat MX 10 fatmail\n"
    "fatmail AAAA 2001:db8::1\n"
    "fatmail AAAA 2001:db8::2\n"
    "fatmail AAAA 2001:db8::3\n"
    "fatmail AAAA 2001:db8::4\n"
    "fatmail AAAA 2001:db8::5\n"
    "fatmail AAAA 2001:db8::6\n"
    "fatmail AAAA 2001:db8::7\n"
    "fatmail AAAA 2001:db8::8\n"
    "fatmail AAAA 2001:db8::9\n"
    "fatmail AAAA 2001:db8::a\n"
    "fatmail AAAA 2001:db8::b\n"
    "fatmail AAAA 2001:db8::c\n"
    "fatmail AAAA 2001:db8::d\n"
    "fatmail AAAA 2001:db8::e\n"
    "fatmail AAAA 2001:db8::f\n"
    "fatmail AAAA 2001:db8::10\n"
    "fatmail AAAA 2001:db8::11\n"
    "fatmail AAAA 2001:db8::12\n"
    "fatmail AAAA 2001:db8::13\n"
    "fatmail AAAA 2001:db8::14\n"
    "fatmail AAAA 2001:db8::15\n"
    "fatmail AAAA 2001:db8::16\n"
    "fatmail AAAA 2001:db8::17\n"
    "fatmail AAAA 2001:db8::18\n"
    "fatmail AAAA 2001:db8::19\n"
    "fatmail AAAA 2001:db8::1a\n"
    "fatmail AAAA 2001:db8::1b\n"
    "fatmail AAAA 2001:db8::1c\n"
    "fatmail AAAA 2001:db8::1d\n"
    "fatmail AAAA 2001:db8::1e\n"
    "fatmail AAAA 2001:db8::1f\n"
    "fatmail AAAA 2001:db8::20\n"
    "fatmail AAAA 2001:db8::21\n"
    "fatmail AAAA 2001:db8::22\n"
    "fatmail AAAA 2001:db8::23\n"
    "fatmail AAAA 2001:db8::24\n"
    "fatmail AAAA 2001:db8::25\n"
    "fatmail AAAA 2001:db8::26\n"
    "fatmail AAAA 2001:db8::27\n"
    "fatmail AAAA 2001:db8::28\n"
    "big TXT \"" /* a large RRset, for truncation */
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "\"\n"
    "big TXT \"b\" \"c\"\n"
    "big TXT \"" /* 3 x 280 bytes > 512 */
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
    "\"\n"
    "big TXT \""
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "\"\n";

static struct serving_view *view;
static uint8_t out[DNS_MSG_MAX];

static int setup(void **state)
{
	struct zone *z;
	char err[512];
	(void)state;
	int rc = zone_load_text(&z, "example.com", ZONE, sizeof(ZONE) - 1,
				"test", err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "zone: %s\n", err);
		return -1;
	}
	rc = serving_view_build(&view, &z, 1);
	zone_release(z);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	serving_view_free(view);
	return 0;
}

/* Builds a query for name/type (optionally with OPT of the given payload
 * and DO), answers it, parses the answer. Caller frees with knot_pkt_free. */
static knot_pkt_t *ask(const char *name, uint16_t type, int payload, bool tcp)
{
	uint8_t qbuf[512] = {0};
	knot_pkt_t *q = knot_pkt_new(qbuf, sizeof(qbuf), NULL);
	knot_dname_t *qname = knot_dname_from_str_alloc(name);
	assert_non_null(qname);
	knot_wire_set_id(q->wire, 0x1234);
	knot_wire_set_rd(q->wire);
	assert_int_equal(knot_pkt_put_question(q, qname, KNOT_CLASS_IN, type),
			 0);
	free(qname);
	size_t qlen = q->size;
	if (payload > 0) {
		uint8_t *o = q->wire + qlen;
		memcpy(o, "\x00\x00\x29", 3);
		o[3] = (uint8_t)(payload >> 8);
		o[4] = (uint8_t)payload;
		memcpy(o + 5, "\x00\x00\x80\x00\x00\x00", 6);
		qlen += 11;
		knot_wire_set_arcount(q->wire, 1);
	}
	struct dns_query_params p = {.udp_payload = 1232, .tcp = tcp};
	size_t n = dns_query_answer(view, &p, q->wire, qlen, out,
				    tcp ? DNS_MSG_MAX : 1232);
	knot_pkt_free(q);
	assert_true(n >= 12);
	size_t limit = tcp ? 65535 : payload > 0 ? (size_t)payload : 512;
	assert_true(n <= limit);
	knot_pkt_t *r = knot_pkt_new(out, (uint16_t)n, NULL);
	assert_int_equal(knot_pkt_parse(r, 0), 0);
	assert_int_equal(knot_wire_get_id(r->wire), 0x1234);
	assert_true(knot_wire_get_qr(r->wire));
	assert_true(knot_wire_get_rd(r->wire));
	return r;
}

static uint16_t count(knot_pkt_t *r, knot_section_t s)
{
	return knot_pkt_section(r, s)->count;
}

static void owner_is(knot_pkt_t *r, knot_section_t s, int i, const char *name)
{
	const knot_rrset_t *rr =
	    knot_pkt_rr(knot_pkt_section(r, s), (uint16_t)i);
	char text[KNOT_DNAME_TXT_MAXLEN];
	knot_dname_to_str(text, rr->owner, sizeof(text));
	assert_string_equal(text, name);
}

static void test_positive(void **state)
{
	(void)state;
	knot_pkt_t *r = ask("www.example.com", KNOT_RRTYPE_A, 0, false);
	assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NOERROR);
	assert_true(knot_wire_get_aa(r->wire));
	assert_int_equal(count(r, KNOT_ANSWER), 2); /* libknot counts RRs */
	owner_is(r, KNOT_ANSWER, 0, "www.example.com.");
	knot_pkt_free(r);
}

static void test_case_preserved(void **state)
{
	(void)state;
	knot_pkt_t *r = ask("WwW.ExAmPlE.cOm", KNOT_RRTYPE_AAAA, 1232, false);
	/* libknot lowercases its qname copy: read the wire. */
	assert_memory_equal(r->wire + 12, "\3WwW\7ExAmPlE\3cOm", 17);
	assert_int_equal(count(r, KNOT_ANSWER), 1);
	assert_non_null(r->opt_rr);
	knot_pkt_free(r);
}

static void test_nxdomain_nodata(void **state)
{
	(void)state;
	knot_pkt_t *r = ask("x.y.nope.example.com", KNOT_RRTYPE_A, 0, false);
	assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NXDOMAIN);
	assert_true(knot_wire_get_aa(r->wire));
	assert_int_equal(count(r, KNOT_AUTHORITY), 1);
	owner_is(r, KNOT_AUTHORITY, 0, "example.com.");
	const knot_rrset_t *soa =
	    knot_pkt_rr(knot_pkt_section(r, KNOT_AUTHORITY), 0);
	assert_int_equal(soa->ttl, 60); /* min(300, SOA minimum 60) */
	knot_pkt_free(r);
	/* empty non-terminal */
	r = ask("b.c.deep.example.com", KNOT_RRTYPE_A, 0, false);
	assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NOERROR);
	assert_int_equal(count(r, KNOT_ANSWER), 0);
	assert_int_equal(count(r, KNOT_AUTHORITY), 1);
	knot_pkt_free(r);
}

static void test_wildcard(void **state)
{
	(void)state;
	knot_pkt_t *r =
	    ask("a.very.long.name.wild.example.com", KNOT_RRTYPE_A, 0, false);
	assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NOERROR);
	assert_int_equal(count(r, KNOT_ANSWER), 1);
	owner_is(r, KNOT_ANSWER, 0, "a.very.long.name.wild.example.com.");
	knot_pkt_free(r);
	r = ask("q.wild.example.com", KNOT_RRTYPE_MX, 0, false);
	assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NOERROR);
	assert_int_equal(count(r, KNOT_ANSWER), 0);
	owner_is(r, KNOT_AUTHORITY, 0, "example.com.");
	knot_pkt_free(r);
}

static void test_cname(void **state)
{
	(void)state;
	knot_pkt_t *r = ask("chain.example.com", KNOT_RRTYPE_A, 0, false);
	assert_int_equal(count(r, KNOT_ANSWER), 4);
	owner_is(r, KNOT_ANSWER, 0, "chain.example.com.");
	owner_is(r, KNOT_ANSWER, 1, "alias.example.com.");
	owner_is(r, KNOT_ANSWER, 2, "www.example.com.");
	knot_pkt_free(r);
	r = ask("dangling.example.com", KNOT_RRTYPE_A, 0, false);
	assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NXDOMAIN);
	assert_int_equal(count(r, KNOT_ANSWER), 1);
	knot_pkt_free(r);
	r = ask("outside.example.com", KNOT_RRTYPE_A, 0, false);
	assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NOERROR);
	assert_int_equal(count(r, KNOT_ANSWER), 1);
	assert_int_equal(count(r, KNOT_AUTHORITY), 0);
	knot_pkt_free(r);
}

static void test_referral(void **state)
{
	(void)state;
	knot_pkt_t *r =
	    ask("host.deeper.sub.example.com", KNOT_RRTYPE_A, 0, false);
	assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NOERROR);
	assert_false(knot_wire_get_aa(r->wire));
	assert_int_equal(count(r, KNOT_ANSWER), 0);
	owner_is(r, KNOT_AUTHORITY, 0, "sub.example.com.");
	owner_is(r, KNOT_ADDITIONAL, 0, "ns.sub.example.com.");
	knot_pkt_free(r);
	r = ask("sub.example.com", KNOT_RRTYPE_DS, 0, false);
	assert_true(knot_wire_get_aa(r->wire));
	assert_int_equal(count(r, KNOT_ANSWER), 1);
	knot_pkt_free(r);
}

static void test_refused_and_truncation(void **state)
{
	(void)state;
	knot_pkt_t *r = ask("example.org", KNOT_RRTYPE_A, 0, false);
	assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_REFUSED);
	knot_pkt_free(r);
	r = ask("big.example.com", KNOT_RRTYPE_TXT, 0, false);
	assert_true(knot_wire_get_tc(r->wire));
	assert_int_equal(count(r, KNOT_ANSWER), 0); /* the first cut */
	assert_int_equal(count(r, KNOT_ADDITIONAL), 0);
	knot_pkt_free(r);
	r = ask("fat.example.com", KNOT_RRTYPE_MX, 0, false);
	assert_false(knot_wire_get_tc(r->wire));
	assert_int_equal(count(r, KNOT_ANSWER), 1);
	assert_int_equal(count(r, KNOT_ADDITIONAL), 0);
	knot_pkt_free(r);
	r = ask("fat.example.com", KNOT_RRTYPE_MX, 0, true);
	assert_false(knot_wire_get_tc(r->wire));
	assert_int_equal(count(r, KNOT_ANSWER), 1);
	assert_int_equal(count(r, KNOT_ADDITIONAL), 40);
	knot_pkt_free(r);
	r = ask("big.example.com", KNOT_RRTYPE_TXT, 1232, false);
	assert_false(knot_wire_get_tc(r->wire));
	assert_int_equal(count(r, KNOT_ANSWER), 4);
	knot_pkt_free(r);
	r = ask("big.example.com", KNOT_RRTYPE_TXT, 0, true);
	assert_false(knot_wire_get_tc(r->wire));
	knot_pkt_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_positive),
	    cmocka_unit_test(test_case_preserved),
	    cmocka_unit_test(test_nxdomain_nodata),
	    cmocka_unit_test(test_wildcard),
	    cmocka_unit_test(test_cname),
	    cmocka_unit_test(test_referral),
	    cmocka_unit_test(test_refused_and_truncation),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
