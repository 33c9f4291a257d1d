/* libFuzzer target for client API requests: arbitrary bytes, as any client
 * of q53d's --api port may send them, go to api_msg_request_decode. It must
 * never crash or leak; a refusal carries a documented code and an
 * "InvalidInput: " reason; an accepted request names a known operation, a
 * version this build speaks and its required fields. The error answer
 * built from a refusal must encode and decode back (what api.c sends).
 * (No re-encode check: protobuf-c keeps unknown fields numbered 0 that it
 * then cannot read back; harmless here, requests are relayed verbatim.)
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_api_request CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "cluster/api_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why)
{
	fprintf(stderr, "\n*** api request invariant violated: %s\n", why);
	abort();
}

/* What api.c answers a refused request with. */
static void check_error_answer(const char *err)
{
	char code[64];
	const char *message;
	api_msg_split_error(err, code, sizeof(code), &message);
	if (strcmp(code, API_ERR_INVALID_INPUT) != 0)
		fail("refusal reason does not split into InvalidInput");
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	r.error = code;
	r.message = (char *)message;
	if (!api_msg_response_matches(Q53__API__REQUEST__BODY__NOT_SET, &r))
		fail("an error answer does not match");
	size_t n = api_msg_response_packed_size(&r);
	uint8_t *buf = malloc(n + 1);
	if (buf == NULL)
		return;
	if (api_msg_response_pack(&r, buf) != n)
		fail("packed size differs");
	Q53__Api__Response *back = q53__api__response__unpack(NULL, n, buf);
	if (back == NULL || strcmp(back->error, code) != 0)
		fail("error answer does not decode back");
	q53__api__response__free_unpacked(back, NULL);
	free(buf);
}

static void check_accepted(const Q53__Api__Request *r)
{
	if (r->version > API_MSG_VERSION)
		fail("accepted a newer version");
	if (strcmp(api_msg_op_name(r->body_case), "none") == 0)
		fail("accepted a request without a known operation");
	Q53__Api__Response ok = Q53__API__RESPONSE__INIT;
	ok.body_case = (Q53__Api__Response__BodyCase)r->body_case;
	if (!api_msg_response_matches(r->body_case, &ok))
		fail("the matching success body is refused");
	switch (r->body_case) {
	case Q53__API__REQUEST__BODY_CREATE_ZONE:
		if (r->create_zone == NULL || r->create_zone->name[0] == '\0')
			fail("create_zone without a name");
		break;
	case Q53__API__REQUEST__BODY_CHANGE_BATCH:
		if (r->change_batch == NULL ||
		    r->change_batch->zone[0] == '\0' ||
		    r->change_batch->change_batch_json.len == 0)
			fail("change_batch without zone or JSON");
		break;
	case Q53__API__REQUEST__BODY_ADD_NODE:
		if (r->add_node == NULL || r->add_node->id == 0 ||
		    r->add_node->address[0] == '\0')
			fail("add_node without id or address");
		break;
	case Q53__API__REQUEST__BODY_REMOVE_NODE:
		if (r->remove_node == NULL || r->remove_node->id == 0)
			fail("remove_node without id");
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Q53__Api__Request *r = NULL;
	char err[512];
	memset(err, 'E', sizeof(err));
	int rc = api_msg_request_decode(data, size, &r, err, sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL)
		fail("err is not NUL-terminated");
	if (rc != 0) {
		if (r != NULL)
			fail("a refusal left a request");
		if (rc == Q53_ENOMEM)
			return 0;
		if (rc != Q53_EMALF && rc != Q53_EINVAL)
			fail("unexpected error code");
		if (strncmp(err, "InvalidInput: ", 14) != 0)
			fail("refusal without the InvalidInput prefix");
		check_error_answer(err);
		return 0;
	}
	if (r == NULL)
		fail("success without a request");
	check_accepted(r);
	api_msg_request_free(r);
	return 0;
}
