/* libFuzzer target for the JSON bodies of the node's own REST resources
 * (node/api/route53/rest_keys.h, rest_latency.h): POST /q53/accesskeys
 * (CreateAccessKey: PolicyDocument, Description) and PUT /q53/latency
 * (SetLatencyRows). The first input byte picks the parser (even: keys,
 * odd: latency), the rest is the HTTP body. Invariants: never a crash,
 * hang or leak; a parsed body packs into an api.proto request that the
 * node's decoder (api_msg_request_decode) reads back with the same shape
 * or rejects with a message: never a request that changes on the way.
 *
 * Seeds: tests/fuzz/corpus/q53_json_body/. Reproduce:
 * build/fuzz/tests/fuzz/fuzz_q53_json_body CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster/api_msg.h"
#include "node/api/route53/rest_keys.h"
#include "node/api/route53/rest_latency.h"
#include "proto/api.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why) __attribute__((noreturn));
static void fail(const char *why)
{
	fprintf(stderr, "\n*** /q53 JSON body invariant violated: %s\n", why);
	abort();
}

/* Packs req, decodes it again; returns the decoded request or NULL. */
static Q53__Api__Request *round_trip(Q53__Api__Request *req)
{
	char err[512];
	Q53__Api__Request *again = NULL;
	size_t n = q53__api__request__get_packed_size(req);
	uint8_t *buf = malloc(n ? n : 1);

	if (buf == NULL)
		return NULL;
	q53__api__request__pack(req, buf);
	if (api_msg_request_decode(buf, n, &again, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			fail("rejected without a message");
		again = NULL;
	}
	free(buf);
	return again;
}

static void keys(const uint8_t *body, size_t len)
{
	char *policy = NULL;
	const char *description = NULL, *why = NULL;
	json_t *root = NULL;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__CreateAccessKeyRequest c =
	    Q53__API__CREATE_ACCESS_KEY_REQUEST__INIT;

	if (rest_keys_parse_create(body, len, &policy, &description, &root,
				   &why) != 0) {
		if (why == NULL || policy != NULL)
			fail("keys: failed without why, or left a policy");
		json_decref(root);
		return;
	}
	if (policy == NULL || description == NULL)
		fail("keys: parsed without a policy or description");
	c.policy_json.data = (uint8_t *)policy;
	c.policy_json.len = strlen(policy);
	c.description = (char *)description;
	req.version = 1;
	req.body_case = Q53__API__REQUEST__BODY_CREATE_ACCESS_KEY;
	req.create_access_key = &c;
	Q53__Api__Request *again = round_trip(&req);
	if (again != NULL) {
		if (again->body_case != req.body_case ||
		    again->create_access_key->policy_json.len !=
			c.policy_json.len ||
		    strcmp(again->create_access_key->description,
			   description) != 0)
			fail("keys: the request changed on the way");
		api_msg_request_free(again);
	}
	free(policy);
	json_decref(root);
}

static void latency(const uint8_t *body, size_t len)
{
	struct rest_latency_set *st = NULL;
	const char *why = NULL;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__LatencySetRequest set = Q53__API__LATENCY_SET_REQUEST__INIT;

	if (rest_latency_parse_set(body, len, &set, &st, &why) != 0) {
		if (why == NULL)
			fail("latency: failed without why");
		rest_latency_set_free(st);
		return;
	}
	if (set.n_rows == 0 || set.rows == NULL)
		fail("latency: parsed without rows");
	for (size_t i = 0; i < set.n_rows; i++)
		if (set.rows[i]->n_regions != set.rows[i]->n_rtt_ms ||
		    set.rows[i]->n_regions == 0 || set.rows[i]->cidr == NULL)
			fail("latency: a row without matching regions/RTTs");
	req.version = 1;
	req.body_case = Q53__API__REQUEST__BODY_LATENCY_SET;
	req.latency_set = &set;
	Q53__Api__Request *again = round_trip(&req);
	if (again != NULL) {
		if (again->body_case != req.body_case ||
		    again->latency_set->n_rows != set.n_rows ||
		    again->latency_set->replace_all != set.replace_all)
			fail("latency: the request changed on the way");
		api_msg_request_free(again);
	}
	rest_latency_set_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		keys(data + 1, size - 1);
	else
		latency(data + 1, size - 1);
	return 0;
}
