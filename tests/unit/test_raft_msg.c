/* Raft RPC <-> protobuf: every message type round-trips, decoded memory has
 * the layout raft frees, and untrusted bytes give a clean error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/common/errcode.h"
#include "node/raft/raft_msg.h"
#include "proto/raft_msg.pb-c.h"

#define SENDER_ID   7
#define SENDER_ADDR "tcp://127.0.0.1:7007"

/* Encode, decode, check the envelope; the caller checks the body and
 * discards. */
static void round_trip(const struct raft_message *m, struct q53_raft_msg_in *in)
{
	uint8_t *buf;
	size_t len;

	assert_int_equal(
	    q53_raft_msg_encode(m, SENDER_ID, SENDER_ADDR, &buf, &len), 0);
	assert_int_equal(q53_raft_msg_decode(buf, len, in), 0);
	free(buf);
	assert_int_equal(in->message.type, m->type);
	assert_int_equal(in->message.server_id, SENDER_ID);
	assert_string_equal(in->message.server_address, SENDER_ADDR);
	assert_ptr_equal(in->message.server_address, in->address);
}

static void test_append_entries(void **state)
{
	static const char *payloads[] = {"", "hello", "0123456789abcdef", "x"};
	static const unsigned short types[] = {RAFT_CHANGE, RAFT_COMMAND,
					       RAFT_COMMAND, RAFT_BARRIER};
	struct raft_entry entries[4];
	struct raft_message m = {0};
	struct q53_raft_msg_in in;
	struct raft_append_entries *got;
	unsigned i;

	(void)state;
	for (i = 0; i < 4; i++) {
		entries[i].term = 3 + i;
		entries[i].type = types[i];
		entries[i].buf.base = (void *)payloads[i];
		entries[i].buf.len = strlen(payloads[i]);
		entries[i].batch = NULL;
	}
	m.type = RAFT_IO_APPEND_ENTRIES;
	m.server_id = 2;
	m.server_address = "tcp://127.0.0.1:7002";
	m.append_entries.term = 9;
	m.append_entries.prev_log_index = 41;
	m.append_entries.prev_log_term = 8;
	m.append_entries.leader_commit = 40;
	m.append_entries.entries = entries;
	m.append_entries.n_entries = 4;
	round_trip(&m, &in);

	got = &in.message.append_entries;
	assert_int_equal(got->term, 9);
	assert_int_equal(got->prev_log_index, 41);
	assert_int_equal(got->prev_log_term, 8);
	assert_int_equal(got->leader_commit, 40);
	assert_int_equal(got->n_entries, 4);
	for (i = 0; i < 4; i++) {
		const struct raft_entry *e = &got->entries[i];
		uintptr_t off = (uintptr_t)e->buf.base - (uintptr_t)e->batch;

		assert_int_equal(e->term, 3 + i);
		assert_int_equal(e->type, types[i]);
		assert_int_equal(e->buf.len, strlen(payloads[i]));
		assert_memory_equal(e->buf.base, payloads[i], e->buf.len + 0);
		/* one batch for all payloads, 8-byte aligned offsets */
		assert_ptr_equal(e->batch, got->entries[0].batch);
		assert_ptr_not_equal(e->batch, (void *)got->entries);
		assert_int_equal(off % 8, 0);
	}
	q53_raft_msg_discard(&in.message);
	assert_null(in.message.append_entries.entries);
}

static void test_heartbeat(void **state)
{
	struct raft_message m = {0};
	struct q53_raft_msg_in in;

	(void)state;
	m.type = RAFT_IO_APPEND_ENTRIES;
	m.append_entries.term = 2;
	m.append_entries.prev_log_index = 5;
	m.append_entries.prev_log_term = 2;
	m.append_entries.leader_commit = 5;
	round_trip(&m, &in);
	assert_int_equal(in.message.append_entries.n_entries, 0);
	assert_null(in.message.append_entries.entries);
	assert_int_equal(in.message.append_entries.leader_commit, 5);
	q53_raft_msg_discard(&in.message);
}

static void test_append_entries_result(void **state)
{
	struct raft_message m = {0};
	struct q53_raft_msg_in in;

	(void)state;
	m.type = RAFT_IO_APPEND_ENTRIES_RESULT;
	m.append_entries_result.term = 4;
	m.append_entries_result.rejected = 17;
	m.append_entries_result.last_log_index = 16;
	round_trip(&m, &in);
	assert_int_equal(in.message.append_entries_result.term, 4);
	assert_int_equal(in.message.append_entries_result.rejected, 17);
	assert_int_equal(in.message.append_entries_result.last_log_index, 16);
}

static void test_request_vote(void **state)
{
	struct raft_message m = {0};
	struct q53_raft_msg_in in;
	int flags;

	(void)state;
	for (flags = 0; flags < 4; flags++) {
		m.type = RAFT_IO_REQUEST_VOTE;
		m.request_vote.term = 12;
		m.request_vote.candidate_id = SENDER_ID;
		m.request_vote.last_log_index = 1ULL << 40;
		m.request_vote.last_log_term = 11;
		m.request_vote.disrupt_leader = (flags & 1) != 0;
		m.request_vote.pre_vote = (flags & 2) != 0;
		round_trip(&m, &in);
		assert_int_equal(in.message.request_vote.term, 12);
		assert_int_equal(in.message.request_vote.candidate_id,
				 SENDER_ID);
		assert_int_equal(in.message.request_vote.last_log_index,
				 1ULL << 40);
		assert_int_equal(in.message.request_vote.last_log_term, 11);
		assert_int_equal(in.message.request_vote.disrupt_leader,
				 (flags & 1) != 0);
		assert_int_equal(in.message.request_vote.pre_vote,
				 (flags & 2) != 0);
	}
}

static void test_request_vote_result(void **state)
{
	static const raft_tribool values[] = {
	    raft_tribool_unknown, raft_tribool_true, raft_tribool_false};
	struct raft_message m = {0};
	struct q53_raft_msg_in in;
	unsigned i;

	(void)state;
	for (i = 0; i < 3; i++) {
		m.type = RAFT_IO_REQUEST_VOTE_RESULT;
		m.request_vote_result.term = 5;
		m.request_vote_result.vote_granted = i == 1;
		m.request_vote_result.pre_vote = values[i];
		round_trip(&m, &in);
		assert_int_equal(in.message.request_vote_result.term, 5);
		assert_int_equal(in.message.request_vote_result.vote_granted,
				 i == 1);
		assert_int_equal(in.message.request_vote_result.pre_vote,
				 values[i]);
	}
}

static void test_install_snapshot(void **state)
{
	static const char data[] = "snapshot bytes, any length";
	struct raft_message m = {0};
	struct q53_raft_msg_in in;
	struct raft_install_snapshot *got;

	(void)state;
	m.type = RAFT_IO_INSTALL_SNAPSHOT;
	m.install_snapshot.term = 6;
	m.install_snapshot.last_index = 1000;
	m.install_snapshot.last_term = 5;
	m.install_snapshot.conf_index = 900;
	raft_configuration_init(&m.install_snapshot.conf);
	assert_int_equal(raft_configuration_add(&m.install_snapshot.conf, 1,
						"tcp://127.0.0.1:7001",
						RAFT_VOTER),
			 0);
	assert_int_equal(raft_configuration_add(&m.install_snapshot.conf, 2,
						"tcp://127.0.0.1:7002",
						RAFT_STANDBY),
			 0);
	assert_int_equal(raft_configuration_add(&m.install_snapshot.conf, 3,
						"tcp://127.0.0.1:7003",
						RAFT_SPARE),
			 0);
	m.install_snapshot.data.base = (void *)data;
	m.install_snapshot.data.len = sizeof(data);
	round_trip(&m, &in);
	raft_configuration_close(&m.install_snapshot.conf);

	got = &in.message.install_snapshot;
	assert_int_equal(got->term, 6);
	assert_int_equal(got->last_index, 1000);
	assert_int_equal(got->last_term, 5);
	assert_int_equal(got->conf_index, 900);
	assert_int_equal(got->conf.n, 3);
	assert_int_equal(got->conf.servers[0].id, 1);
	assert_string_equal(got->conf.servers[0].address,
			    "tcp://127.0.0.1:7001");
	assert_int_equal(got->conf.servers[0].role, RAFT_VOTER);
	assert_int_equal(got->conf.servers[1].role, RAFT_STANDBY);
	assert_int_equal(got->conf.servers[2].role, RAFT_SPARE);
	assert_string_equal(got->conf.servers[2].address,
			    "tcp://127.0.0.1:7003");
	assert_int_equal(got->data.len, sizeof(data));
	assert_memory_equal(got->data.base, data, sizeof(data));
	q53_raft_msg_discard(&in.message);
}

static void test_timeout_now(void **state)
{
	struct raft_message m = {0};
	struct q53_raft_msg_in in;

	(void)state;
	m.type = RAFT_IO_TIMEOUT_NOW;
	m.timeout_now.term = 3;
	m.timeout_now.last_log_index = 77;
	m.timeout_now.last_log_term = 2;
	round_trip(&m, &in);
	assert_int_equal(in.message.timeout_now.term, 3);
	assert_int_equal(in.message.timeout_now.last_log_index, 77);
	assert_int_equal(in.message.timeout_now.last_log_term, 2);
}

static void test_encode_rejects(void **state)
{
	struct raft_message m = {0};
	char long_address[Q53_RAFT_MSG_ADDRESS_MAX + 2];
	uint8_t *buf;
	size_t len;

	(void)state;
	m.type = 0;
	assert_int_equal(q53_raft_msg_encode(&m, 1, SENDER_ADDR, &buf, &len),
			 Q53_EINVAL);
	m.type = RAFT_IO_TIMEOUT_NOW;
	assert_int_equal(q53_raft_msg_encode(&m, 0, SENDER_ADDR, &buf, &len),
			 Q53_EINVAL);
	assert_int_equal(q53_raft_msg_encode(&m, 1, "", &buf, &len),
			 Q53_EINVAL);
	memset(long_address, 'a', sizeof(long_address) - 1);
	long_address[sizeof(long_address) - 1] = '\0';
	assert_int_equal(q53_raft_msg_encode(&m, 1, long_address, &buf, &len),
			 Q53_EINVAL);
}

/* Decode whatever comes; on success the result must be releasable. */
static int decode_any(const uint8_t *buf, size_t len)
{
	struct q53_raft_msg_in in;
	int rv = q53_raft_msg_decode(buf, len, &in);

	if (rv == 0) {
		assert_true(in.message.server_id > 0);
		assert_non_null(in.message.server_address);
		q53_raft_msg_discard(&in.message);
	} else {
		assert_true(rv == Q53_EMALF || rv == Q53_ENOMEM);
	}
	return rv;
}

static void pack_and_expect(const Q53__Raft__RaftMessage *pb, int expected)
{
	size_t len = q53__raft__raft_message__get_packed_size(pb);
	uint8_t *buf = malloc(len + 1);

	assert_non_null(buf);
	q53__raft__raft_message__pack(pb, buf);
	assert_int_equal(decode_any(buf, len), expected);
	free(buf);
}

static void test_decode_rejects(void **state)
{
	Q53__Raft__RaftMessage pb = Q53__RAFT__RAFT_MESSAGE__INIT;
	Q53__Raft__TimeoutNow tn = Q53__RAFT__TIMEOUT_NOW__INIT;
	Q53__Raft__RequestVote rv = Q53__RAFT__REQUEST_VOTE__INIT;
	Q53__Raft__RequestVoteResult rvr = Q53__RAFT__REQUEST_VOTE_RESULT__INIT;
	Q53__Raft__AppendEntries ae = Q53__RAFT__APPEND_ENTRIES__INIT;
	Q53__Raft__Entry entry = Q53__RAFT__ENTRY__INIT;
	Q53__Raft__Entry *entry_ptr = &entry;
	Q53__Raft__InstallSnapshot is = Q53__RAFT__INSTALL_SNAPSHOT__INIT;
	Q53__Raft__Server s1 = Q53__RAFT__SERVER__INIT;
	Q53__Raft__Server s2 = Q53__RAFT__SERVER__INIT;
	Q53__Raft__Server *servers[] = {&s1, &s2};

	(void)state;
	assert_int_equal(decode_any((const uint8_t *)"", 0), Q53_EMALF);

	/* envelope: no body, no sender id, no address */
	pb.sender_id = 1;
	pb.sender_address = "tcp://127.0.0.1:1";
	pack_and_expect(&pb, Q53_EMALF);
	pb.body_case = Q53__RAFT__RAFT_MESSAGE__BODY_TIMEOUT_NOW;
	pb.timeout_now = &tn;
	pack_and_expect(&pb, 0);
	pb.sender_id = 0;
	pack_and_expect(&pb, Q53_EMALF);
	pb.sender_id = 1;
	pb.sender_address = "";
	pack_and_expect(&pb, Q53_EMALF);
	pb.sender_address = "tcp://127.0.0.1:1";

	/* RequestVote from candidate 0; out-of-range tribool */
	rv.candidate_id = 0;
	pb.body_case = Q53__RAFT__RAFT_MESSAGE__BODY_REQUEST_VOTE;
	pb.request_vote = &rv;
	pack_and_expect(&pb, Q53_EMALF);
	rvr.pre_vote = (Q53__Raft__Tribool)7;
	pb.body_case = Q53__RAFT__RAFT_MESSAGE__BODY_REQUEST_VOTE_RESULT;
	pb.request_vote_result = &rvr;
	pack_and_expect(&pb, Q53_EMALF);

	/* entries with a bad type, term 0 */
	entry.term = 1;
	entry.type = 99;
	ae.n_entries = 1;
	ae.entries = &entry_ptr;
	pb.body_case = Q53__RAFT__RAFT_MESSAGE__BODY_APPEND_ENTRIES;
	pb.append_entries = &ae;
	pack_and_expect(&pb, Q53_EMALF);
	entry.type = RAFT_COMMAND;
	entry.term = 0;
	pack_and_expect(&pb, Q53_EMALF);
	entry.term = 1;
	pack_and_expect(&pb, 0);

	/* snapshot: empty conf, duplicate id, bad role, id 0 */
	pb.body_case = Q53__RAFT__RAFT_MESSAGE__BODY_INSTALL_SNAPSHOT;
	pb.install_snapshot = &is;
	pack_and_expect(&pb, Q53_EMALF);
	s1.id = 1;
	s1.address = "a";
	s1.role = RAFT_VOTER;
	s2.id = 1;
	s2.address = "b";
	s2.role = RAFT_VOTER;
	is.n_conf = 2;
	is.conf = servers;
	pack_and_expect(&pb, Q53_EMALF);
	s2.id = 2;
	s2.role = 9;
	pack_and_expect(&pb, Q53_EMALF);
	s2.role = RAFT_SPARE;
	s2.id = 0;
	pack_and_expect(&pb, Q53_EMALF);
	s2.id = 2;
	pack_and_expect(&pb, 0); /* empty snapshot data is allowed */
}

/* xorshift: reproducible garbage without libc rand state. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_garbage(void **state)
{
	struct raft_entry entries[2];
	struct raft_message m = {0};
	uint8_t *valid;
	size_t valid_len;
	uint8_t buf[512];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t i, j, len;

	(void)state;
	/* random bytes */
	for (i = 0; i < 20000; i++) {
		len = next_random(&seed) % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)next_random(&seed);
		decode_any(buf, len);
	}

	/* every truncation and many mutations of a valid message */
	entries[0].term = 2;
	entries[0].type = RAFT_COMMAND;
	entries[0].buf.base = "abcdefgh";
	entries[0].buf.len = 8;
	entries[1] = entries[0];
	m.type = RAFT_IO_APPEND_ENTRIES;
	m.append_entries.term = 2;
	m.append_entries.entries = entries;
	m.append_entries.n_entries = 2;
	assert_int_equal(
	    q53_raft_msg_encode(&m, SENDER_ID, SENDER_ADDR, &valid, &valid_len),
	    0);
	assert_true(valid_len <= sizeof(buf));
	for (len = 0; len < valid_len; len++)
		decode_any(valid, len);
	for (i = 0; i < 20000; i++) {
		memcpy(buf, valid, valid_len);
		for (j = 0; j < 1 + next_random(&seed) % 4; j++)
			buf[next_random(&seed) % valid_len] =
			    (uint8_t)next_random(&seed);
		decode_any(buf, valid_len);
	}
	free(valid);
}

/* raft_heap that fails the n-th allocation from now on. */
static int heap_countdown;

static void *failing_malloc(void *data, size_t size)
{
	(void)data;
	if (heap_countdown-- == 0)
		return NULL;
	return malloc(size);
}

static void failing_free(void *data, void *ptr)
{
	(void)data;
	free(ptr);
}

static void *failing_calloc(void *data, size_t n, size_t size)
{
	(void)data;
	if (heap_countdown-- == 0)
		return NULL;
	return calloc(n, size);
}

static void *failing_realloc(void *data, void *ptr, size_t size)
{
	(void)data;
	if (heap_countdown-- == 0)
		return NULL;
	return realloc(ptr, size);
}

static void *failing_aligned_alloc(void *data, size_t alignment, size_t size)
{
	(void)data;
	if (heap_countdown-- == 0)
		return NULL;
	return aligned_alloc(alignment, size);
}

static void failing_aligned_free(void *data, size_t alignment, void *ptr)
{
	(void)data;
	(void)alignment;
	free(ptr);
}

static void test_decode_out_of_memory(void **state)
{
	struct raft_heap heap = {NULL,
				 failing_malloc,
				 failing_free,
				 failing_calloc,
				 failing_realloc,
				 failing_aligned_alloc,
				 failing_aligned_free};
	struct raft_entry entry = {1, RAFT_COMMAND, {"12345678", 8}, NULL};
	struct raft_message msgs[2];
	struct q53_raft_msg_in in;
	uint8_t *buf;
	size_t len;
	int n, i, rv;

	(void)state;
	memset(msgs, 0, sizeof(msgs));
	msgs[0].type = RAFT_IO_APPEND_ENTRIES;
	msgs[0].append_entries.term = 1;
	msgs[0].append_entries.entries = &entry;
	msgs[0].append_entries.n_entries = 1;
	msgs[1].type = RAFT_IO_INSTALL_SNAPSHOT;
	msgs[1].install_snapshot.term = 1;
	raft_configuration_init(&msgs[1].install_snapshot.conf);
	assert_int_equal(raft_configuration_add(&msgs[1].install_snapshot.conf,
						1, "one", RAFT_VOTER),
			 0);
	assert_int_equal(raft_configuration_add(&msgs[1].install_snapshot.conf,
						2, "two", RAFT_VOTER),
			 0);
	msgs[1].install_snapshot.data.base = "data";
	msgs[1].install_snapshot.data.len = 4;

	for (i = 0; i < 2; i++) {
		assert_int_equal(q53_raft_msg_encode(&msgs[i], SENDER_ID,
						     SENDER_ADDR, &buf, &len),
				 0);
		/* Fail each raft allocation in turn, until none fails. */
		for (n = 0;; n++) {
			heap_countdown = n;
			raft_heap_set(&heap);
			rv = q53_raft_msg_decode(buf, len, &in);
			raft_heap_set_default();
			if (rv == 0) {
				q53_raft_msg_discard(&in.message);
				break;
			}
			assert_int_equal(rv, Q53_ENOMEM);
		}
		assert_true(n > 0);
		free(buf);
	}
	raft_configuration_close(&msgs[1].install_snapshot.conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_entries),
	    cmocka_unit_test(test_heartbeat),
	    cmocka_unit_test(test_append_entries_result),
	    cmocka_unit_test(test_request_vote),
	    cmocka_unit_test(test_request_vote_result),
	    cmocka_unit_test(test_install_snapshot),
	    cmocka_unit_test(test_timeout_now),
	    cmocka_unit_test(test_encode_rejects),
	    cmocka_unit_test(test_decode_rejects),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_decode_out_of_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
