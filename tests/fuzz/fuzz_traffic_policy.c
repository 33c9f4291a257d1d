/* libFuzzer target for Traffic Flow policy documents (CreateTrafficPolicy's
 * Document, the only untrusted JSON a policy brings): traffic_policy_parse
 * on the whole input. A document it accepts must pass traffic_policy_check
 * (what every replica runs on the typed form), survive the log's protobuf
 * round trip into a store (command_flow: the FSM's path) unchanged in
 * shape, and compile: a policy record of it in a zone builds, and the
 * zone answers a query for the record's name. A refused one must say why,
 * naming a JSON path ("$...").
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_traffic_policy CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/command_flow.h"
#include "node/control/traffic_policy.h"
#include "node/control/zone_store.h"
#include "node/control/zone_store_flow.h"
#include "node/zone/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why) __attribute__((noreturn));
static void fail(const char *why)
{
	fprintf(stderr, "\n*** traffic policy invariant violated: %s\n", why);
	abort();
}

static const char *const NS[] = {"ns1.example.", "ns2.example."};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct traffic_policy p;
	char err[1024];
	char *doc = malloc(size + 1);
	if (doc == NULL)
		return 0;
	memcpy(doc, data, size);
	doc[size] = '\0';
	int rc = traffic_policy_parse(doc, size, &p, err, sizeof(err));
	if (rc == Q53_ENOMEM) {
		free(doc);
		return 0;
	}
	if (rc != 0) {
		if (rc != Q53_EINVAL || strncmp(err, "$", 1) != 0)
			fail("a refusal without a JSON path");
		free(doc);
		return 0;
	}
	if (traffic_policy_check(&p, err, sizeof(err)) != 0)
		fail("parse accepted what check refuses");
	/* Through the log's encoding into a store, as the FSM applies it. */
	struct command_payload pl = {0};
	struct command_traffic_policy c = {.id = "tp-1",
					   .version = 1,
					   .name = "fuzz",
					   .document = doc,
					   .policy = &p};
	if (command_encode_traffic_policy(&c, &pl) != 0) {
		traffic_policy_free(&p);
		free(doc);
		return 0;
	}
	struct zone_store s;
	struct zone_store_create_params zp = {.id = "Z0123456789ABC",
					      .name = "example.com",
					      .nameservers = NS,
					      .nnameservers = 2};
	char zid[ZONE_STORE_ID_MAX + 1];
	zone_store_init(&s);
	if (zone_store_create(&s, &zp, err, sizeof(err)) != 0)
		fail("zone create");
	rc = command_flow_apply(&s, pl.type, pl.data, pl.len, false, zid, err,
				sizeof(err));
	command_payload_clear(&pl);
	if (rc == Q53_ENOMEM)
		goto out;
	if (rc != 0)
		fail("the store refused a parsed policy");
	const struct zone_store_tpolicy *t =
	    zone_store_policy_get(&s, "tp-1", 1);
	if (t == NULL || t->p.nrules != p.nrules ||
	    t->p.nendpoints != p.nendpoints || t->p.type != p.type ||
	    t->p.start != p.start || t->p.start_is_rule != p.start_is_rule)
		fail("round trip changed the policy's shape");
	for (size_t i = 0; i < p.nrules; i++) {
		if (t->p.rules[i].nitems != p.rules[i].nitems ||
		    t->p.rules[i].type != p.rules[i].type)
			fail("round trip changed a rule");
		for (size_t k = 0; k < p.rules[i].nitems; k++) {
			const struct traffic_item *a = &p.rules[i].items[k],
						  *b = &t->p.rules[i].items[k];
			if (a->gp_lat != b->gp_lat || a->gp_lon != b->gp_lon ||
			    a->gp_bias != b->gp_bias ||
			    strcmp(a->gp_region, b->gp_region) != 0 ||
			    strcmp(a->cidr_collection, b->cidr_collection) !=
				0 ||
			    strcmp(a->cidr_location, b->cidr_location) != 0)
				fail("round trip changed a geoproximity or "
				     "cidr item");
		}
	}
	uint8_t www[] = "\3www\7example\3com";
	rc = zone_store_instance_create(&s, "i-1", "Z0123456789ABC", www, 60,
					"tp-1", 1, err, sizeof(err));
	if (rc == 0) {
		struct zone *z;
		rc = zone_store_build(&s, "Z0123456789ABC", &z, err,
				      sizeof(err));
		if (rc == 0)
			zone_release(z);
		else if (rc != Q53_ENOMEM &&
			 strstr(err, "does not fit") == NULL)
			fail("a policy record's zone does not build");
	} else if (rc != Q53_ENOMEM) {
		fail("a policy record of a parsed policy refused");
	}
out:
	zone_store_free(&s);
	traffic_policy_free(&p);
	free(doc);
	return 0;
}
