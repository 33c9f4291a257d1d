/* libFuzzer target for the peer wire format: arbitrary bytes, as a PULL
 * socket would deliver them from any host, go to q53_raft_msg_decode. It
 * must never crash or leak (a rejected message leaves nothing allocated). A
 * message it accepts must encode again, and encoding is a fixed point:
 * decode(encode(m)) encodes to the same bytes and names the same sender.
 * Every accepted message also goes through node/raft/raft_guard.c (what
 * raft_io.c does before raft sees it) as received by a follower with a
 * leader, a leader and a node still joining: a verdict, never a crash.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_raft_msg CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/raft/raft_guard.h"
#include "node/raft/raft_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why, int rv)
{
	fprintf(stderr, "\n*** raft_msg invariant violated: %s (rv=%d: %s)\n",
		why, rv, q53_strerror(rv));
	abort();
}

/* Receivers for the guard: members 1..3 on 127.0.0.1..3; [2] has no
 * configuration yet (joining). */
static struct raft receivers[3];

static void guard_setup(void)
{
	static int done;
	static const char *addr[] = {
	    "tcp://127.0.0.1:7001", "tcp://127.0.0.2:7002", "tcp://[::1]:7003"};

	if (done)
		return;
	done = 1;
	for (int r = 0; r < 2; r++) {
		raft_configuration_init(&receivers[r].configuration);
		for (unsigned i = 0; i < 3; i++)
			if (raft_configuration_add(&receivers[r].configuration,
						   i + 1, addr[i],
						   RAFT_VOTER) != 0)
				abort();
		receivers[r].current_term = 7;
	}
	receivers[0].id = 2;
	receivers[0].state = RAFT_FOLLOWER;
	receivers[0].follower_state.current_leader.id = 1;
	receivers[1].id = 1;
	receivers[1].state = RAFT_LEADER;
	raft_configuration_init(&receivers[2].configuration);
	receivers[2].id = 4;
	receivers[2].state = RAFT_FOLLOWER;
}

static void guard_check(const struct raft_message *m)
{
	static const char *ips[] = {"127.0.0.1", "127.0.0.2", "::1", "", NULL};

	guard_setup();
	for (int r = 0; r < 3; r++)
		for (int i = 0; i < 5; i++) {
			int v = (int)q53_raft_guard_check(&receivers[r], m,
							  ips[i], 0);
			if (v < 0 || v >= Q53_RAFT_GUARD_N_VERDICTS)
				fail("raft_guard: verdict out of range", v);
			if (q53_raft_guard_reason(v) == NULL)
				fail("raft_guard: no reason", v);
		}
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
	guard_check(&a.message);

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
