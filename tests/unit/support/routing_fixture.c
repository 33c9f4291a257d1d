/* The routing unit tests' shared fixture (routing_fixture.h). */
#include "tests/unit/support/routing_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libknot/libknot.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/dns/query.h"
#include "node/zone/zone.h"

const char *const NS[2] = {"ns1.quorum53.test", "ns2.quorum53.test."};

/* --- the store --- */

bool healthy(void *ctx, const char *id)
{
	const struct health *h = ctx;
	for (size_t i = 0; h != NULL && i < 16 && h->down[i] != NULL; i++) {
		if (strcmp(h->down[i], id) == 0)
			return false;
	}
	return true;
}

bool exists(void *ctx, const char *id)
{
	(void)ctx;
	return strncmp(id, "hc", 2) == 0 || strncmp(id, "HC", 2) == 0;
}

void store_new(struct zone_store *s)
{
	char err[512];
	struct zone_store_create_params p = {.id = ZID,
					     .name = "example.com",
					     .nameservers = NS,
					     .nnameservers = 2};
	zone_store_init(s);
	assert_int_equal(zone_store_create(s, &p, err, sizeof(err)), 0);
}

/* Parses, compiles and applies json; the error text in err. */
int apply(struct zone_store *s, const char *json, char *err, size_t errlen)
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

void apply_ok(struct zone_store *s, const char *json)
{
	char err[4096];
	if (apply(s, json, err, sizeof(err)) != 0)
		fail_msg("%s\n%s", err, json);
}

/* --- asking a compiled zone --- */

struct reply ask(const struct serving_view *v, const char *name, uint16_t type,
		 uint16_t id, const char *client, uint16_t payload)
{
	return ask_ecs(v, name, type, id, client, payload, NULL);
}

struct reply ask_ecs(const struct serving_view *v, const char *name,
		     uint16_t type, uint16_t id, const char *client,
		     uint16_t payload, const struct ecs *ecs)
{
	uint8_t qbuf[512] = {0};
	struct dns_query_params p = {.udp_payload = 1232};
	struct reply r = {0};
	struct dns_client c = {0};

	if (client != NULL) {
		c.family = 4;
		assert_int_equal(sscanf(client, "%hhu.%hhu.%hhu.%hhu",
					&c.addr[0], &c.addr[1], &c.addr[2],
					&c.addr[3]),
				 4);
	}
	knot_pkt_t *q = knot_pkt_new(qbuf, sizeof(qbuf), NULL);
	knot_dname_t *qname = knot_dname_from_str_alloc(name);
	knot_wire_set_id(q->wire, id);
	assert_int_equal(knot_pkt_put_question(q, qname, KNOT_CLASS_IN, type),
			 0);
	free(qname);
	if (payload > 0) {
		knot_rrset_t opt;
		assert_int_equal(knot_edns_init(&opt, payload, 0, 0, NULL), 0);
		for (int k = 0;
		     ecs != NULL && ecs->len > 0 && k < 1 + ecs->twice; k++)
			assert_int_equal(
			    knot_edns_add_option(&opt,
						 KNOT_EDNS_OPTION_CLIENT_SUBNET,
						 ecs->len, ecs->data, NULL),
			    0);
		knot_pkt_begin(q, KNOT_ADDITIONAL);
		assert_int_equal(knot_pkt_put(q, 0, &opt, KNOT_PF_FREE), 0);
	}
	r.len = dns_query_answer_from(v, &p, client ? &c : NULL, q->wire,
				      q->size, r.wire, sizeof(r.wire));
	knot_pkt_free(q);
	assert_true(r.len >= 12);
	r.rcode = knot_wire_get_rcode(r.wire);
	r.tc = knot_wire_get_tc(r.wire);
	knot_pkt_t *resp = knot_pkt_new(r.wire, r.len, NULL);
	assert_int_equal(knot_pkt_parse(resp, 0), 0);
	if (resp->opt_rr != NULL) {
		uint8_t *o = knot_edns_get_option(
		    resp->opt_rr, KNOT_EDNS_OPTION_CLIENT_SUBNET, NULL);
		if (o != NULL) {
			r.ecs_len = knot_edns_opt_get_length(o);
			memcpy(r.ecs, knot_edns_opt_get_data(o),
			       r.ecs_len < 32 ? r.ecs_len : 32);
		}
	}
	const knot_pktsection_t *an = knot_pkt_section(resp, KNOT_ANSWER);
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->type != KNOT_RRTYPE_A)
			continue;
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t k = 0; k < rr->rrs.count; k++) {
			if (r.n < 16)
				r.last[r.n++] = rd->data[3];
			rd = knot_rdataset_next(rd);
		}
	}
	knot_pkt_free(resp);
	return r;
}

struct serving_view *build_view(const struct zone_store *s, struct health *h)
{
	struct zone *z;
	struct serving_view *v;
	char err[512];
	if (zone_store_build_with_health(s, ZID, healthy, h, &z, err,
					 sizeof(err)) != 0)
		fail_msg("build: %s", err);
	assert_int_equal(serving_view_build(&v, &z, 1), 0);
	zone_release(z);
	return v;
}

/* Chi-square statistic of counts against expected shares. */
double chi2(const size_t *count, const double *share, size_t k, size_t total)
{
	double x = 0;
	for (size_t i = 0; i < k; i++) {
		double e = share[i] * (double)total;
		double d = (double)count[i] - e;
		x += d * d / e;
	}
	return x;
}

/* The critical values at p = 0.001 for 1..4 degrees of freedom. */
const double CHI2_999[5] = {0, 10.828, 13.816, 16.266, 18.467};
void refused(struct zone_store *s, const char *json, const char *needle)
{
	char err[4096];
	int rc = apply(s, json, err, sizeof(err));
	if (rc != Q53_EINVAL || strstr(err, needle) == NULL)
		fail_msg("rc %d, '%s' lacks '%s'", rc, err, needle);
}
