/* libFuzzer target for the body of POST /q53/api (node/api/route53/
 * rest_q53.h), the q53 CLI's signed request: the input is the HTTP body,
 * decoded as rest.c does (api_msg_request_decode), then its IAM target
 * (rest_q53_target, with a resolver that knows one zone), a change
 * batch's condition keys (rest_auth_batch_parse on the JSON as rest.c
 * copies it), and the zone-reference and submitter rewrite followed by a
 * re-pack that must decode again. Invariants: never a crash or leak; the
 * action is one of the table's (or q53:Unknown) and the resource "*" or an
 * ARN, both NUL-terminated within their buffers.
 *
 * Seeds: tests/fuzz/make_corpus_q53_api.py. Reproduce:
 * build/fuzz/tests/fuzz/fuzz_q53_api CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "node/api/route53/rest_auth.h"
#include "node/api/route53/rest_q53.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why) __attribute__((noreturn));
static void fail(const char *why)
{
	fprintf(stderr, "\n*** /q53/api invariant violated: %s\n", why);
	abort();
}

static bool resolve(void *ctx, const char *ref, char *id, size_t idlen)
{
	(void)ctx;
	if (strcmp(ref, "example.com") != 0 && strcmp(ref, "ZEXAMPLE") != 0)
		return false;
	snprintf(id, idlen, "ZEXAMPLE");
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Q53__Api__Request *req = NULL;
	char err[512];
	struct rest_auth_target t;

	if (api_msg_request_decode(data, size, &req, err, sizeof(err)) != 0)
		return 0;
	rest_q53_target(req, resolve, NULL, &t);
	if (memchr(t.action, '\0', sizeof(t.action)) == NULL ||
	    memchr(t.resource, '\0', sizeof(t.resource)) == NULL)
		fail("action or resource not terminated");
	const char *a = rest_q53_action(req->body_case);
	/* The table's action, or the one operation a body names: several
	 * tags resources, a Traffic Flow operation (rest_q53_target). */
	bool flow = req->body_case == Q53__API__REQUEST__BODY_TRAFFIC_FLOW &&
		    strncmp(t.action, "route53:", 8) == 0 &&
		    strstr(t.action, "TrafficPolic") != NULL;
	if (strcmp(t.action, a != NULL ? a : "q53:Unknown") != 0 &&
	    strcmp(t.action, "route53:ListTagsForResources") != 0 && !flow)
		fail("action not the table's");
	if (strcmp(t.resource, "*") != 0 &&
	    strncmp(t.resource, "arn:aws:route53:::", 18) != 0)
		fail("resource neither * nor an ARN");
	if (t.change_batch) {
		const ProtobufCBinaryData *j =
		    &req->change_batch->change_batch_json;
		char *json = malloc(j->len + 1);
		if (json != NULL) {
			if (j->len > 0)
				memcpy(json, j->data, j->len);
			json[j->len] = '\0';
			struct rest_auth_batch b = {0};
			if (memchr(json, '\0', j->len) == NULL &&
			    rest_auth_batch_parse(json, &b) == 0)
				rest_auth_batch_free(&b);
			free(json);
		}
	}
	/* The rewrite rest.c makes, and the re-pack the node decodes. */
	char zone_id[64];
	char akid[] = "AKIAFUZZFUZZFUZZFUZZ";
	char **zone = rest_q53_zone_ref(req);
	char *zone_was = zone != NULL ? *zone : NULL;
	char *akid_was = NULL;
	if (zone != NULL && *zone != NULL &&
	    resolve(NULL, *zone, zone_id, sizeof(zone_id)))
		*zone = zone_id;
	if (req->body_case == Q53__API__REQUEST__BODY_CHANGE_BATCH) {
		akid_was = req->change_batch->access_key_id;
		req->change_batch->access_key_id = akid;
	}
	size_t n = q53__api__request__get_packed_size(req);
	uint8_t *buf = malloc(n ? n : 1);
	if (buf != NULL) {
		q53__api__request__pack(req, buf);
		Q53__Api__Request *again = NULL;
		if (api_msg_request_decode(buf, n, &again, err, sizeof(err)) ==
		    0) {
			if (again->body_case != req->body_case)
				fail("re-packed request changed kind");
			if (again->body_case ==
				Q53__API__REQUEST__BODY_CHANGE_BATCH &&
			    strcmp(again->change_batch->access_key_id, akid) !=
				0)
				fail("submitter not the signing key");
			api_msg_request_free(again);
		}
		free(buf);
	}
	if (zone != NULL)
		*zone = zone_was;
	if (req->body_case == Q53__API__REQUEST__BODY_CHANGE_BATCH)
		req->change_batch->access_key_id = akid_was;
	api_msg_request_free(req);
	return 0;
}
