/* POST /q53/api's IAM side (node/api/route53/rest_q53.h): every kind of
 * q53.api.Request has an action (the test iterates the oneof of the
 * generated descriptor, so a kind added to api.proto without an entry
 * fails here), the resources named by each kind, and the policies' view of
 * them (q53: actions only for an administrator policy). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/api/route53/rest_auth.h"
#include "node/api/route53/rest_q53.h"
#include "node/control/iam_policy.h"
#include "proto/api.pb-c.h"

static void test_every_kind_has_an_action(void **state)
{
	(void)state;
	const ProtobufCMessageDescriptor *d = &q53__api__request__descriptor;
	unsigned in_oneof = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0)
			continue;
		in_oneof++;
		const char *a =
		    rest_q53_action((Q53__Api__Request__BodyCase)f->id);
		if (a == NULL)
			fail_msg("request kind %s (%u) has no IAM action in "
				 "rest_q53_action",
				 f->name, f->id);
		assert_true(strncmp(a, "route53:", 8) == 0 ||
			    strncmp(a, "q53:", 4) == 0);
		assert_true(strlen(a) < REST_AUTH_ACTION_MAX);
	}
	assert_true(in_oneof >= 28); /* the kinds of this version at least */
	assert_null(rest_q53_action(Q53__API__REQUEST__BODY__NOT_SET));
	assert_null(rest_q53_action((Q53__Api__Request__BodyCase)89));
}

static bool resolve(void *ctx, const char *ref, char *id, size_t idlen)
{
	(void)ctx;
	if (strcmp(ref, "example.com") != 0 && strcmp(ref, "example.com.") != 0)
		return false;
	snprintf(id, idlen, "ZEXAMPLE");
	return true;
}

static void test_targets(void **state)
{
	(void)state;
	struct rest_auth_target t;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;

	/* a zone named: resolved to its id */
	Q53__Api__ChangeBatchRequest cb = Q53__API__CHANGE_BATCH_REQUEST__INIT;
	cb.zone = "example.com";
	req.body_case = Q53__API__REQUEST__BODY_CHANGE_BATCH;
	req.change_batch = &cb;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "route53:ChangeResourceRecordSets");
	assert_string_equal(t.resource,
			    "arn:aws:route53:::hostedzone/ZEXAMPLE");
	assert_true(t.change_batch);
	assert_ptr_equal(rest_q53_zone_ref(&req), &cb.zone);
	/* an id, with or without its prefix; unknown: as given */
	cb.zone = "/hostedzone/ZOTHER";
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.resource, "arn:aws:route53:::hostedzone/ZOTHER");
	cb.zone = "ZOTHER";
	rest_q53_target(&req, NULL, NULL, &t);
	assert_string_equal(t.resource, "arn:aws:route53:::hostedzone/ZOTHER");

	Q53__Api__ImportZoneRequest iz = Q53__API__IMPORT_ZONE_REQUEST__INIT;
	iz.zone = "example.com.";
	req.body_case = Q53__API__REQUEST__BODY_IMPORT_ZONE;
	req.import_zone = &iz;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "q53:ImportZone");
	assert_string_equal(t.resource,
			    "arn:aws:route53:::hostedzone/ZEXAMPLE");
	assert_false(t.change_batch);

	Q53__Api__GetChangeRequest gc = Q53__API__GET_CHANGE_REQUEST__INIT;
	gc.id = "/change/C1";
	req.body_case = Q53__API__REQUEST__BODY_GET_CHANGE;
	req.get_change = &gc;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "route53:GetChange");
	assert_string_equal(t.resource, "arn:aws:route53:::change/C1");
	assert_null(rest_q53_zone_ref(&req));

	Q53__Api__DeleteHealthCheckRequest dh =
	    Q53__API__DELETE_HEALTH_CHECK_REQUEST__INIT;
	dh.id = "H1";
	req.body_case = Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK;
	req.delete_health_check = &dh;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "route53:DeleteHealthCheck");
	assert_string_equal(t.resource, "arn:aws:route53:::healthcheck/H1");

	Q53__Api__AddNodeRequest an = Q53__API__ADD_NODE_REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_ADD_NODE;
	req.add_node = &an;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "q53:AddNode");
	assert_string_equal(t.resource, "*");

	char *ids[] = {"Z1", "Z2"};
	Q53__Api__ListTagsRequest lt = Q53__API__LIST_TAGS_REQUEST__INIT;
	lt.resource_type = "hostedzone";
	lt.resource_ids = ids;
	lt.n_resource_ids = 1;
	req.body_case = Q53__API__REQUEST__BODY_LIST_TAGS;
	req.list_tags = &lt;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "route53:ListTagsForResource");
	assert_string_equal(t.resource, "arn:aws:route53:::hostedzone/Z1");
	lt.n_resource_ids = 2;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "route53:ListTagsForResources");
	assert_string_equal(t.resource, "*");

	/* every zone's changes: "*"; one zone's: that zone */
	Q53__Api__ListChangesRequest lc = Q53__API__LIST_CHANGES_REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_LIST_CHANGES;
	req.list_changes = &lc;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "q53:ListChanges");
	assert_string_equal(t.resource, "*");
	assert_null(rest_q53_zone_ref(&req));
	lc.zone = "example.com";
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.resource,
			    "arn:aws:route53:::hostedzone/ZEXAMPLE");

	/* CIDR collections: Route 53's actions; the collection named, or
	 * "*" for a create and the listing of collections. */
	Q53__Api__CreateCidrCollectionRequest ccr =
	    Q53__API__CREATE_CIDR_COLLECTION_REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_CREATE_CIDR_COLLECTION;
	req.create_cidr_collection = &ccr;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "route53:CreateCidrCollection");
	assert_string_equal(t.resource, "*");
	Q53__Api__ChangeCidrCollectionRequest chr =
	    Q53__API__CHANGE_CIDR_COLLECTION_REQUEST__INIT;
	chr.id = "0b6b2a5e-1c1d-4e8f-9a0b-1c2d3e4f5a6b";
	req.body_case = Q53__API__REQUEST__BODY_CHANGE_CIDR_COLLECTION;
	req.change_cidr_collection = &chr;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "route53:ChangeCidrCollection");
	assert_string_equal(t.resource, "arn:aws:route53:::cidrcollection/"
					"0b6b2a5e-1c1d-4e8f-9a0b-1c2d3e4f5a6b");
	Q53__Api__DeleteCidrCollectionRequest dcr =
	    Q53__API__DELETE_CIDR_COLLECTION_REQUEST__INIT;
	dcr.id = "/cidrcollection/K1";
	req.body_case = Q53__API__REQUEST__BODY_DELETE_CIDR_COLLECTION;
	req.delete_cidr_collection = &dcr;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "route53:DeleteCidrCollection");
	assert_string_equal(t.resource, "arn:aws:route53:::cidrcollection/K1");
	Q53__Api__ListCidrCollectionsRequest lcr =
	    Q53__API__LIST_CIDR_COLLECTIONS_REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_LIST_CIDR_COLLECTIONS;
	req.list_cidr_collections = &lcr;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "route53:ListCidrCollections");
	assert_string_equal(t.resource, "*");
	Q53__Api__ListCidrLocationsRequest llr =
	    Q53__API__LIST_CIDR_LOCATIONS_REQUEST__INIT;
	llr.collection_id = "K2";
	req.body_case = Q53__API__REQUEST__BODY_LIST_CIDR_LOCATIONS;
	req.list_cidr_locations = &llr;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "route53:ListCidrLocations");
	assert_string_equal(t.resource, "arn:aws:route53:::cidrcollection/K2");
	Q53__Api__ListCidrBlocksRequest lbr =
	    Q53__API__LIST_CIDR_BLOCKS_REQUEST__INIT;
	lbr.collection_id = "K3";
	req.body_case = Q53__API__REQUEST__BODY_LIST_CIDR_BLOCKS;
	req.list_cidr_blocks = &lbr;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "route53:ListCidrBlocks");
	assert_string_equal(t.resource, "arn:aws:route53:::cidrcollection/K3");
	assert_null(rest_q53_zone_ref(&req));

	req.body_case = Q53__API__REQUEST__BODY__NOT_SET;
	rest_q53_target(&req, resolve, NULL, &t);
	assert_string_equal(t.action, "q53:Unknown");
	assert_string_equal(t.resource, "*");
}

static enum iam_decision decide(const char *policy, const char *action,
				const char *resource)
{
	Q53__Command__AccessPolicy *p = NULL;
	char err[256];
	assert_int_equal(
	    iam_policy_parse(policy, strlen(policy), &p, err, sizeof(err)), 0);
	struct iam_request r = {.action = action, .resource = resource};
	enum iam_decision d = iam_policy_evaluate(p, &r);
	iam_policy_free(p);
	return d;
}

/* q53: actions pass an administrator policy (Action "*"), never
 * "route53:*". */
static void test_q53_actions_need_an_administrator(void **state)
{
	(void)state;
	const char *r53all =
	    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
	    "\"Action\":\"route53:*\",\"Resource\":\"*\"}]}";
	const char *admin =
	    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
	    "\"Action\":\"*\",\"Resource\":\"*\"}]}";
	const ProtobufCMessageDescriptor *d = &q53__api__request__descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0)
			continue;
		const char *a =
		    rest_q53_action((Q53__Api__Request__BodyCase)f->id);
		assert_int_equal(decide(admin, a, "*"), IAM_ALLOW);
		if (strncmp(a, "q53:", 4) == 0)
			assert_int_not_equal(decide(r53all, a, "*"), IAM_ALLOW);
		else
			assert_int_equal(decide(r53all, a, "*"), IAM_ALLOW);
	}
	assert_string_equal(
	    rest_q53_action(Q53__API__REQUEST__BODY_REMOVE_NODE),
	    "q53:RemoveNode");
	assert_string_equal(
	    rest_q53_action(Q53__API__REQUEST__BODY_CREATE_ACCESS_KEY),
	    "q53:CreateAccessKey");
	assert_string_equal(rest_q53_action(Q53__API__REQUEST__BODY_LIST_ZONES),
			    "route53:ListHostedZones");
	assert_true(rest_q53_match("/q53/api"));
	assert_false(rest_q53_match("/q53/api/"));
	assert_false(rest_q53_match("/q53/accesskeys"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_kind_has_an_action),
	    cmocka_unit_test(test_targets),
	    cmocka_unit_test(test_q53_actions_need_an_administrator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
