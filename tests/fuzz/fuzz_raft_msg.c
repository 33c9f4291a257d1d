/* libFuzzer target for the peer wire format: arbitrary bytes, as a PULL
 * socket would deliver them from any host, go to q53_raft_msg_decode. It
 * must never crash or leak (a rejected message leaves nothing allocated). A
 * message it accepts must encode again, and encoding is a fixed point:
 * decode(encode(m)) encodes to the same bytes and names the same sender.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_raft_msg CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/raft/raft_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why, int rv)
{
	fprintf(stderr, "\n*** raft_msg invariant violated: %s (rv=%d: %s)\n",
		why, rv, q53_strerror(rv));
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct q53_raft_msg_in a, b;
	uint8_t *wire1 = NULL, *wire2 = NULL;
	size_t len1 = 0, len2 = 0;

	int rv = q53_raft_msg_decode(data, size, &a);
	if (rv != 0) {
		if (rv != Q53_EMALF && rv != Q53_ENOMEM)
			fail("decode: unexpected error code", rv);
		return 0;
	}
	if (a.message.server_id == 0 || a.message.server_address != a.address ||
	    a.address[0] == '\0' ||
	    memchr(a.address, '\0', sizeof(a.address)) == NULL)
		fail("decode accepted a message without a sender", 0);

	rv = q53_raft_msg_encode(&a.message, a.message.server_id, a.address,
				 &wire1, &len1);
	if (rv == Q53_ENOMEM)
		goto out_a;
	if (rv != 0)
		fail("a decoded message does not encode", rv);

	rv = q53_raft_msg_decode(wire1, len1, &b);
	if (rv == Q53_ENOMEM)
		goto out_wire1;
	if (rv != 0)
		fail("an encoded message does not decode", rv);
	if (b.message.type != a.message.type ||
	    b.message.server_id != a.message.server_id ||
	    strcmp(b.address, a.address) != 0)
		fail("decode(encode(m)) has another type or sender", 0);

	rv = q53_raft_msg_encode(&b.message, b.message.server_id, b.address,
				 &wire2, &len2);
	if (rv == Q53_ENOMEM)
		goto out_b;
	if (rv != 0)
		fail("a re-decoded message does not encode", rv);
	if (len1 != len2 || memcmp(wire1, wire2, len1) != 0)
		fail("encode(decode(encode(m))) != encode(m)", 0);
	free(wire2);
out_b:
	q53_raft_msg_discard(&b.message);
out_wire1:
	free(wire1);
out_a:
	q53_raft_msg_discard(&a.message);
	return 0;
}
