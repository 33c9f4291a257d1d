/* Response rate limiting (node/dns/rrl.c) and the answers around it
 * (dns_query_answer_info, dns_query_truncate, CHAOS TXT), in process:
 * buckets per network and class, burst and refill, SLIP, whitelist; the
 * truncated and CHAOS answers re-parsed with libknot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libknot/libknot.h>

#include "node/common/errcode.h"
#include "node/dns/query.h"
#include "node/dns/rrl.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"

static const char ZONE[] = "$TTL 300\n"
			   "@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n"
			   "@ NS ns1\n"
			   "ns1 A 192.0.2.53\n"
			   "www A 192.0.2.1\n"
			   "other A 192.0.2.2\n"
			   "*.wild A 192.0.2.99\n";

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

/* A query for name/type/class with OPT (payload 1232, DO) when edns. */
static size_t make_query(uint8_t *buf, const char *name, uint16_t type,
			 uint16_t cls, bool edns)
{
	memset(buf, 0, 512);
	knot_pkt_t *q = knot_pkt_new(buf, 512, NULL);
	knot_dname_t *qname = knot_dname_from_str_alloc(name);
	assert_non_null(qname);
	knot_wire_set_id(q->wire, 0x4242);
	assert_int_equal(knot_pkt_put_question(q, qname, cls, type), 0);
	free(qname);
	size_t qlen = q->size;
	knot_pkt_free(q);
	if (edns) {
		memcpy(buf + qlen,
		       "\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00", 11);
		qlen += 11;
		buf[11] = 1;
	}
	return qlen;
}

static const struct dns_query_params params = {.udp_payload = 1232};

/* Answers name/type from client 4-byte addr; returns the verdict. */
static enum dns_rrl_action ask(struct dns_rrl *t, const char *name,
			       uint16_t type, const uint8_t addr[4],
			       uint32_t now, size_t *len,
			       struct dns_answer_info *info)
{
	uint8_t q[512];
	struct dns_client c = {.family = 4};
	size_t qlen = make_query(q, name, type, KNOT_CLASS_IN, true);
	memcpy(c.addr, addr, 4);
	*len = dns_query_answer_info(view, &params, &c, q, qlen, out,
				     sizeof(out), info);
	assert_true(*len >= 12);
	return dns_rrl_check(t, &c, info, out, *len, now);
}

static void counts(struct dns_rrl *t, const char *name, uint16_t type,
		   const uint8_t addr[4], uint32_t now, unsigned n,
		   unsigned *pass, unsigned *slip, unsigned *drop)
{
	*pass = *slip = *drop = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t len;
		struct dns_answer_info info;
		switch (ask(t, name, type, addr, now, &len, &info)) {
		case DNS_RRL_PASS:
			(*pass)++;
			break;
		case DNS_RRL_SLIP:
			(*slip)++;
			break;
		case DNS_RRL_DROP:
			(*drop)++;
			break;
		}
	}
}

static void test_parse_net(void **state)
{
	struct dns_rrl_net n;
	(void)state;
	assert_int_equal(dns_rrl_parse_net("192.0.2.0/24", &n), 0);
	assert_int_equal(n.family, 4);
	assert_int_equal(n.prefix, 24);
	assert_int_equal(dns_rrl_parse_net("10.1.2.3", &n), 0);
	assert_int_equal(n.prefix, 32);
	assert_int_equal(dns_rrl_parse_net("2001:db8::/56", &n), 0);
	assert_int_equal(n.family, 6);
	assert_int_equal(n.prefix, 56);
	assert_int_equal(dns_rrl_parse_net("0.0.0.0/0", &n), 0);
	assert_int_equal(dns_rrl_parse_net("10.1.2.3/8", &n), Q53_EINVAL);
	assert_int_equal(dns_rrl_parse_net("10.0.0.0/33", &n), Q53_EINVAL);
	assert_int_equal(dns_rrl_parse_net("10.0.0.0/", &n), Q53_EINVAL);
	assert_int_equal(dns_rrl_parse_net("10.0.0.0/2x", &n), Q53_EINVAL);
	assert_int_equal(dns_rrl_parse_net("/24", &n), Q53_EINVAL);
	assert_int_equal(dns_rrl_parse_net("example.com", &n), Q53_EINVAL);
	assert_int_equal(dns_rrl_parse_net("::/129", &n), Q53_EINVAL);
}

static void test_burst_slip_refill(void **state)
{
	struct dns_rrl_config cfg;
	struct dns_rrl t;
	static const uint8_t a[4] = {198, 51, 100, 7};
	static const uint8_t same24[4] = {198, 51, 100, 200};
	static const uint8_t other24[4] = {198, 51, 101, 7};
	unsigned pass, slip, drop;
	(void)state;
	dns_rrl_config_default(&cfg);
	cfg.rate = 10;
	cfg.slip = 2;
	assert_int_equal(dns_rrl_init(&t, &cfg, 1), 0);
	/* A burst of DNS_RRL_WINDOW seconds' worth, then half slip. */
	counts(&t, "www.example.com.", KNOT_RRTYPE_A, a, 100, 100, &pass, &slip,
	       &drop);
	assert_int_equal(pass, 10 * DNS_RRL_WINDOW);
	assert_int_equal(slip, 30);
	assert_int_equal(drop, 30);
	/* Same /24: the same bucket. */
	counts(&t, "www.example.com.", KNOT_RRTYPE_A, same24, 100, 1, &pass,
	       &slip, &drop);
	assert_int_equal(pass, 0);
	/* Another /24, another name: their own buckets. */
	counts(&t, "www.example.com.", KNOT_RRTYPE_A, other24, 100, 5, &pass,
	       &slip, &drop);
	assert_int_equal(pass, 5);
	counts(&t, "other.example.com.", KNOT_RRTYPE_A, a, 100, 5, &pass, &slip,
	       &drop);
	assert_int_equal(pass, 5);
	/* Case does not make a new bucket. */
	counts(&t, "WWW.Example.COM.", KNOT_RRTYPE_A, a, 100, 1, &pass, &slip,
	       &drop);
	assert_int_equal(pass, 0);
	/* One second later: `rate` more. */
	counts(&t, "www.example.com.", KNOT_RRTYPE_A, a, 101, 20, &pass, &slip,
	       &drop);
	assert_int_equal(pass, 10);
	struct dns_rrl_stats st = {0};
	dns_rrl_stats_add(&t, &st);
	assert_int_equal(st.limited, st.slipped + st.dropped);
	assert_int_equal(st.limited, 60 + 1 + 1 + 10);
	dns_rrl_free(&t);
}

/* nshares tables share the rate: each allows ceil(rate / nshares). */
static void test_shares(void **state)
{
	struct dns_rrl_config cfg;
	struct dns_rrl t;
	static const uint8_t a[4] = {198, 51, 100, 7};
	unsigned pass, slip, drop;
	(void)state;
	dns_rrl_config_default(&cfg);
	cfg.rate = 20;
	assert_int_equal(dns_rrl_init(&t, &cfg, 3), 0);
	counts(&t, "www.example.com.", KNOT_RRTYPE_A, a, 9, 100, &pass, &slip,
	       &drop);
	assert_int_equal(pass, 7 * DNS_RRL_WINDOW);
	dns_rrl_free(&t);
	assert_int_equal(dns_rrl_init(&t, &cfg, 0), Q53_EINVAL);
	dns_rrl_free(&t);
}

static void test_per_zone_classes(void **state)
{
	struct dns_rrl_config cfg;
	struct dns_rrl t;
	static const uint8_t a[4] = {203, 0, 113, 1};
	unsigned pass, slip, drop;
	(void)state;
	dns_rrl_config_default(&cfg);
	cfg.rate = 5;
	cfg.slip = 0;
	assert_int_equal(dns_rrl_init(&t, &cfg, 1), 0);
	/* NXDOMAIN is limited per zone: random names share one bucket. */
	char name[64];
	unsigned passed = 0;
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "nx%d.example.com.", i);
		counts(&t, name, KNOT_RRTYPE_A, a, 7, 1, &pass, &slip, &drop);
		passed += pass;
		assert_int_equal(slip, 0); /* slip 0: every one dropped */
	}
	assert_int_equal(passed, 5 * DNS_RRL_WINDOW);
	/* So are wildcard answers: a class of their own. */
	passed = 0;
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "w%d.wild.example.com.", i);
		counts(&t, name, KNOT_RRTYPE_A, a, 7, 1, &pass, &slip, &drop);
		passed += pass;
	}
	assert_int_equal(passed, 5 * DNS_RRL_WINDOW);
	/* NODATA is per qname and not NXDOMAIN's bucket. */
	counts(&t, "www.example.com.", KNOT_RRTYPE_MX, a, 7, 3, &pass, &slip,
	       &drop);
	assert_int_equal(pass, 3);
	dns_rrl_free(&t);
}

static void test_whitelist(void **state)
{
	struct dns_rrl_config cfg;
	struct dns_rrl t;
	static const uint8_t in[4] = {192, 0, 2, 77};
	static const uint8_t out4[4] = {192, 0, 3, 77};
	unsigned pass, slip, drop;
	(void)state;
	dns_rrl_config_default(&cfg);
	cfg.rate = 1;
	assert_int_equal(dns_rrl_parse_net("192.0.2.64/26", &cfg.whitelist[0]),
			 0);
	cfg.nwhitelist = 1;
	assert_int_equal(dns_rrl_init(&t, &cfg, 1), 0);
	counts(&t, "www.example.com.", KNOT_RRTYPE_A, in, 1, 50, &pass, &slip,
	       &drop);
	assert_int_equal(pass, 50);
	counts(&t, "www.example.com.", KNOT_RRTYPE_A, out4, 1, 50, &pass, &slip,
	       &drop);
	assert_int_equal(pass, DNS_RRL_WINDOW);
	dns_rrl_free(&t);
	cfg.rate = 0;
	assert_int_equal(dns_rrl_init(&t, &cfg, 1), Q53_EINVAL);
	dns_rrl_free(&t);
}

/* A full table: new ids evict buckets that are not limiting, never the
 * flood's own (its burst must not come back). */
static void test_churn_keeps_limited_bucket(void **state)
{
	struct dns_rrl_config cfg;
	struct dns_rrl t;
	static const uint8_t flood[4] = {198, 51, 100, 1};
	unsigned pass, slip, drop;
	(void)state;
	dns_rrl_config_default(&cfg);
	cfg.rate = 2;
	cfg.table_size = 64;
	assert_int_equal(dns_rrl_init(&t, &cfg, 1), 0);
	counts(&t, "www.example.com.", KNOT_RRTYPE_A, flood, 50, 20, &pass,
	       &slip, &drop);
	assert_int_equal(pass, 2 * DNS_RRL_WINDOW);
	for (unsigned i = 0; i < 2000; i++) {
		uint8_t other[4] = {10, (uint8_t)(i >> 8), (uint8_t)i, 1};
		counts(&t, "www.example.com.", KNOT_RRTYPE_A, other, 50, 1,
		       &pass, &slip, &drop);
	}
	counts(&t, "www.example.com.", KNOT_RRTYPE_A, flood, 50, 10, &pass,
	       &slip, &drop);
	assert_int_equal(pass, 0);
	dns_rrl_free(&t);
}

static void test_truncate(void **state)
{
	struct dns_answer_info info;
	uint8_t q[512];
	(void)state;
	size_t qlen = make_query(q, "www.example.com.", KNOT_RRTYPE_A,
				 KNOT_CLASS_IN, true);
	size_t n = dns_query_answer_info(view, &params, NULL, q, qlen, out,
					 sizeof(out), &info);
	size_t t = dns_query_truncate(&params, &info, out);
	assert_true(t <= n);
	knot_pkt_t *r = knot_pkt_new(out, (uint16_t)t, NULL);
	assert_int_equal(knot_pkt_parse(r, 0), 0);
	assert_true(knot_wire_get_tc(r->wire));
	assert_int_equal(knot_wire_get_id(r->wire), 0x4242);
	assert_int_equal(knot_wire_get_ancount(r->wire), 0);
	assert_int_equal(knot_wire_get_nscount(r->wire), 0);
	assert_non_null(r->opt_rr);
	assert_true(knot_edns_do(r->opt_rr));
	assert_int_equal(knot_pkt_qtype(r), KNOT_RRTYPE_A);
	knot_pkt_free(r);
	/* Without EDNS: header and question only. */
	qlen = make_query(q, "www.example.com.", KNOT_RRTYPE_A, KNOT_CLASS_IN,
			  false);
	dns_query_answer_info(view, &params, NULL, q, qlen, out, sizeof(out),
			      &info);
	assert_int_equal(dns_query_truncate(&params, &info, out), qlen);
}

static void test_chaos(void **state)
{
	struct dns_answer_info info;
	struct dns_query_params p = {.udp_payload = 1232};
	uint8_t q[512];
	(void)state;
	static const char *names[] = {"version.bind.", "version.server.",
				      "hostname.bind.", "id.server."};
	for (int i = 0; i < 4; i++) {
		for (int edns = 0; edns < 2; edns++) {
			size_t qlen = make_query(q, names[i], KNOT_RRTYPE_TXT,
						 KNOT_CLASS_CH, edns);
			/* Not configured: REFUSED. */
			p.identity = p.version = NULL;
			size_t n = dns_query_answer_info(view, &p, NULL, q,
							 qlen, out, 512, &info);
			assert_true(n >= 12);
			assert_int_equal(knot_wire_get_rcode(out),
					 KNOT_RCODE_REFUSED);
			p.identity = "node-a";
			p.version = "q53d test";
			n = dns_query_answer_info(view, &p, NULL, q, qlen, out,
						  512, &info);
			knot_pkt_t *r = knot_pkt_new(out, (uint16_t)n, NULL);
			assert_int_equal(knot_pkt_parse(r, 0), 0);
			assert_int_equal(knot_wire_get_rcode(r->wire),
					 KNOT_RCODE_NOERROR);
			assert_true(knot_wire_get_aa(r->wire));
			assert_int_equal(knot_wire_get_ancount(r->wire), 1);
			assert_int_equal(r->opt_rr != NULL, edns);
			const knot_rrset_t *rr =
			    knot_pkt_rr(knot_pkt_section(r, KNOT_ANSWER), 0);
			assert_int_equal(rr->type, KNOT_RRTYPE_TXT);
			assert_int_equal(rr->rclass, KNOT_CLASS_CH);
			const uint8_t *txt = rr->rrs.rdata->data;
			const char *want = i < 2 ? "q53d test" : "node-a";
			assert_int_equal(txt[0], strlen(want));
			assert_memory_equal(txt + 1, want, strlen(want));
			knot_pkt_free(r);
		}
	}
	/* Another CH name or type stays REFUSED. */
	size_t qlen = make_query(q, "authors.bind.", KNOT_RRTYPE_TXT,
				 KNOT_CLASS_CH, false);
	dns_query_answer_info(view, &p, NULL, q, qlen, out, 512, &info);
	assert_int_equal(knot_wire_get_rcode(out), KNOT_RCODE_REFUSED);
	qlen =
	    make_query(q, "version.bind.", KNOT_RRTYPE_A, KNOT_CLASS_CH, false);
	dns_query_answer_info(view, &p, NULL, q, qlen, out, 512, &info);
	assert_int_equal(knot_wire_get_rcode(out), KNOT_RCODE_REFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_net),
	    cmocka_unit_test(test_burst_slip_refill),
	    cmocka_unit_test(test_shares),
	    cmocka_unit_test(test_per_zone_classes),
	    cmocka_unit_test(test_whitelist),
	    cmocka_unit_test(test_churn_keeps_limited_bucket),
	    cmocka_unit_test(test_truncate),
	    cmocka_unit_test(test_chaos),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
