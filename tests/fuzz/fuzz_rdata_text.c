/* libFuzzer target for record values: presentation text from API clients
 * (rdata_text_to_wire) and stored wire RDATA from snapshots
 * (rdata_text_check_wire, rdata_text_from_wire). Input: one mode byte, the
 * record type (2 bytes, big endian), then the value text or the RDATA.
 *
 *  text mode: a value that to_wire accepts must pass check_wire (or a
 *    snapshot holding it could not be restored), print as one line, parse
 *    back to the same bytes, and refuse with Q53_ENOSPC a buffer one byte
 *    too small without writing past it.
 *  wire mode: from_wire always prints (generic form at worst) one line;
 *    RDATA that check_wire accepts parses back from that text to itself.
 *  both: Route 53's checks (rdata_policy.h) of the text, of what it parsed
 *    to and of checked RDATA answer 0 or Q53_EINVAL with a reason, and
 *    the message of a value that does not parse is never empty.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_rdata_text CRASH-FILE */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/dnsdata/rdata_policy.h"
#include "node/dnsdata/rdata_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why, uint16_t type, int rc)
{
	fprintf(stderr,
		"\n*** rdata_text invariant violated: %s (type %u, rc=%d: "
		"%s)\n",
		why, type, rc, q53_strerror(rc));
	abort();
}

/* Prints rdata, checks the text is one NUL-terminated line, returns it
 * (caller frees). */
static char *print(uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	size_t cap = (size_t)rdlen * 8 + 1024;
	char *text = malloc(cap);
	if (text == NULL)
		abort();
	int rc = rdata_text_from_wire(type, rdata, rdlen, text, cap);
	if (rc == Q53_ENOMEM) {
		free(text);
		return NULL;
	}
	if (rc != 0)
		fail("from_wire failed with a large buffer", type, rc);
	if (memchr(text, '\0', cap) == NULL || strchr(text, '\n') != NULL)
		fail("from_wire text is not one NUL-terminated line", type, 0);
	return text;
}

/* rdata_policy's answer: 0, or Q53_EINVAL with a NUL-terminated reason
 * (Q53_ENOMEM allowed when may_nomem). */
static void policy_answer(uint16_t type, int rc, const char *err, size_t errlen,
			  bool may_nomem)
{
	if (memchr(err, '\0', errlen) == NULL)
		fail("rdata_policy err is not NUL-terminated", type, rc);
	if (rc == Q53_ENOMEM && may_nomem)
		return;
	if (rc != 0 && rc != Q53_EINVAL)
		fail("rdata_policy: unexpected error code", type, rc);
	if (rc == Q53_EINVAL && strncmp(err, "FATAL problem: ", 15) != 0)
		fail("rdata_policy refused without Route 53's form", type, rc);
}

static void text_mode(uint16_t type, const char *value)
{
	uint8_t *wire = malloc(RDATA_TEXT_WIRE_MAX);
	char err[256];
	uint16_t rdlen = 0;
	if (wire == NULL)
		abort();
	memset(err, 'E', sizeof(err));
	char perr[600];
	memset(perr, 'E', sizeof(perr));
	int prc = rdata_policy_check_text(type, value, perr, sizeof(perr));
	policy_answer(type, prc, perr, sizeof(perr), false);
	int rc = rdata_text_to_wire(type, value, wire, RDATA_TEXT_WIRE_MAX,
				    &rdlen, err, sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL)
		fail("err is not NUL-terminated", type, rc);
	if (rc == Q53_EINVAL) {
		memset(perr, 'E', sizeof(perr));
		rdata_policy_parse_error(type, value, err, perr, sizeof(perr));
		policy_answer(type, Q53_EINVAL, perr, sizeof(perr), false);
	}
	if (rc == 0) {
		memset(perr, 'E', sizeof(perr));
		prc = rdata_policy_check_wire(type, wire, rdlen, value, perr,
					      sizeof(perr));
		policy_answer(type, prc, perr, sizeof(perr), true);
	}
	if (rc != 0) {
		if (rc != Q53_EINVAL && rc != Q53_ENOMEM)
			fail("to_wire: unexpected error code", type, rc);
		if (rc == Q53_EINVAL && err[0] == '\0')
			fail("to_wire refused without a reason", type, rc);
		free(wire);
		return;
	}
	rc = rdata_text_check_wire(type, wire, rdlen);
	if (rc != 0 && rc != Q53_ENOMEM)
		fail("to_wire output fails check_wire", type, rc);

	char *text = print(type, wire, rdlen);
	if (text != NULL) {
		uint8_t *again = malloc(RDATA_TEXT_WIRE_MAX);
		uint16_t len2 = 0;
		if (again == NULL)
			abort();
		rc = rdata_text_to_wire(type, text, again, RDATA_TEXT_WIRE_MAX,
					&len2, err, sizeof(err));
		if (rc != 0 && rc != Q53_ENOMEM)
			fail("printed value does not parse again", type, rc);
		if (rc == 0 && (len2 != rdlen || memcmp(again, wire, rdlen)))
			fail("print/parse round trip changes the RDATA", type,
			     0);
		free(again);
		free(text);
	}

	if (rdlen > 0) {
		/* Exactly rdlen - 1 bytes: ASan sees any write past them. */
		uint8_t *small = malloc(rdlen - 1u ? rdlen - 1u : 1u);
		uint16_t len3 = 0;
		if (small == NULL)
			abort();
		rc = rdata_text_to_wire(type, value, small, rdlen - 1u, &len3,
					err, sizeof(err));
		if (rc != Q53_ENOSPC && rc != Q53_ENOMEM)
			fail("a too small buffer is not Q53_ENOSPC", type, rc);
		free(small);
	}
	free(wire);
}

static void wire_mode(uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	int rc = rdata_text_check_wire(type, rdata, rdlen);
	if (rc != 0 && rc != Q53_EMALF && rc != Q53_ENOMEM)
		fail("check_wire: unexpected error code", type, rc);
	if (rc == 0) {
		char perr[600];
		memset(perr, 'E', sizeof(perr));
		int prc = rdata_policy_check_wire(type, rdata, rdlen, NULL,
						  perr, sizeof(perr));
		policy_answer(type, prc, perr, sizeof(perr), true);
	}
	char *text = print(type, rdata, rdlen);
	if (text == NULL)
		return;
	if (rc == 0) {
		uint8_t *again = malloc(RDATA_TEXT_WIRE_MAX);
		char err[256];
		uint16_t len2 = 0;
		if (again == NULL)
			abort();
		int rc2 =
		    rdata_text_to_wire(type, text, again, RDATA_TEXT_WIRE_MAX,
				       &len2, err, sizeof(err));
		if (rc2 != 0 && rc2 != Q53_ENOMEM)
			fail("checked RDATA prints to unparsable text", type,
			     rc2);
		if (rc2 == 0 && (len2 != rdlen || memcmp(again, rdata, rdlen)))
			fail("checked RDATA does not round-trip", type, 0);
		free(again);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3 || size - 3 > RDATA_TEXT_WIRE_MAX)
		return -1;
	uint16_t type = (uint16_t)(data[1] << 8 | data[2]);
	const uint8_t *body = data + 3;
	size_t len = size - 3;

	if ((data[0] & 1) == 0) {
		char *value = malloc(len + 1);
		if (value == NULL)
			abort();
		memcpy(value, body, len);
		value[len] = '\0';
		text_mode(type, value);
		free(value);
	} else {
		/* An exact-size copy, so that a read past rdlen is seen. */
		uint8_t *rdata = malloc(len ? len : 1);
		if (rdata == NULL)
			abort();
		memcpy(rdata, body, len);
		wire_mode(type, rdata, (uint16_t)len);
		free(rdata);
	}
	return 0;
}
