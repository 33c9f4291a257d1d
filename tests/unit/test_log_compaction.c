/* Log compaction after a large entry (node/runtime/log_compaction.h): a
 * large entry asks for a snapshot past it with one trailing entry; the
 * leader waits for every other server and appends a barrier when nothing
 * follows; one snapshot at a time; done once the entry left raft's log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "node/runtime/log_compaction.h"

#define BIG LOG_COMPACTION_ENTRY_BYTES

static void test_small_entries_change_nothing(void **state)
{
	struct log_compaction_state s = {0};
	struct log_compaction_input in = {.leader = true, .last_index = 9};
	struct log_compaction_action a;

	(void)state;
	log_compaction_applied(&s, 5, BIG - 1);
	a = log_compaction_step(&s, &in);
	assert_false(a.compact || a.keep_one || a.barrier);
	assert_int_equal(s.target, 0);
}

static void test_leader_alone_compacts_with_a_barrier(void **state)
{
	struct log_compaction_state s = {0};
	struct log_compaction_input in = {
	    .leader = true, .last_index = 3, .min_peer_match = UINT64_MAX};
	struct log_compaction_action a;

	(void)state;
	log_compaction_applied(&s, 3, BIG);
	/* nothing after the entry: a barrier, threshold 1, trailing 1 */
	a = log_compaction_step(&s, &in);
	assert_true(a.compact && a.keep_one && a.barrier);
	/* the barrier is in the log: no second one */
	in.last_index = 4;
	a = log_compaction_step(&s, &in);
	assert_true(a.compact && a.keep_one);
	assert_false(a.barrier);
	/* raft takes the snapshot at 4: keep trailing 1, but no new one */
	in.snapshot_running = true;
	a = log_compaction_step(&s, &in);
	assert_false(a.compact);
	assert_true(a.keep_one);
	/* stored at 4, entries up to 3 dropped: done, the configured values
	 * again */
	in.snapshot_running = false;
	in.log_offset = 3;
	a = log_compaction_step(&s, &in);
	assert_false(a.compact || a.keep_one || a.barrier);
	assert_int_equal(s.target, 0);
}

static void test_leader_waits_for_every_peer(void **state)
{
	struct log_compaction_state s = {0};
	struct log_compaction_input in = {
	    .leader = true, .last_index = 7, .min_peer_match = 6};
	struct log_compaction_action a;

	(void)state;
	log_compaction_applied(&s, 7, BIG);
	a = log_compaction_step(&s, &in);
	assert_false(a.compact || a.keep_one || a.barrier);
	assert_int_equal(s.target, 7);
	in.min_peer_match = 7;
	a = log_compaction_step(&s, &in);
	assert_true(a.compact && a.keep_one && a.barrier);
}

static void test_done_only_when_the_entry_left_the_log(void **state)
{
	struct log_compaction_state s = {0};
	struct log_compaction_input in = {.leader = false, .last_index = 8};
	struct log_compaction_action a;

	(void)state;
	log_compaction_applied(&s, 8, BIG);
	/* a snapshot at 8 kept entry 8 as its trailing one (offset 7) */
	in.log_offset = 7;
	a = log_compaction_step(&s, &in);
	assert_true(a.compact && a.keep_one);
	assert_false(a.barrier); /* followers wait for the leader's */
	assert_int_equal(s.target, 8);
	in.snapshot_running = true;
	a = log_compaction_step(&s, &in);
	assert_int_equal(s.target, 8);
	assert_true(a.keep_one);
	in.snapshot_running = false;
	in.log_offset = 8;
	a = log_compaction_step(&s, &in);
	assert_int_equal(s.target, 0);
}

/* A server joins while the snapshot is being taken: the leader goes back
 * to the configured trailing count (the newcomer may need the entry), so
 * that snapshot leaves the entry in the log, and compaction goes on once
 * the newcomer has it (found at 1M records: the leader kept the 35 MB
 * entry after "compacting"). */
static void test_peer_joining_during_the_snapshot(void **state)
{
	struct log_compaction_state s = {0};
	struct log_compaction_input in = {
	    .leader = true, .last_index = 4, .min_peer_match = UINT64_MAX};
	struct log_compaction_action a;

	(void)state;
	log_compaction_applied(&s, 3, BIG);
	a = log_compaction_step(&s, &in);
	assert_true(a.compact && a.keep_one);
	in.snapshot_running = true;
	in.min_peer_match = 0; /* the newcomer */
	in.last_index = 5;
	a = log_compaction_step(&s, &in);
	assert_false(a.compact || a.keep_one || a.barrier);
	/* stored, with the configured trailing count: the entry is there */
	in.snapshot_running = false;
	a = log_compaction_step(&s, &in);
	assert_int_equal(s.target, 3);
	assert_false(a.compact || a.keep_one);
	/* the newcomer has it: compact again (no barrier: 4 and 5 follow) */
	in.min_peer_match = 5;
	a = log_compaction_step(&s, &in);
	assert_true(a.compact && a.keep_one);
	assert_false(a.barrier);
	in.log_offset = 5;
	a = log_compaction_step(&s, &in);
	assert_int_equal(s.target, 0);
}

static void test_a_later_large_entry_moves_the_target(void **state)
{
	struct log_compaction_state s = {0};

	(void)state;
	log_compaction_applied(&s, 3, BIG);
	log_compaction_applied(&s, 5, 10);
	assert_int_equal(s.target, 3);
	log_compaction_applied(&s, 6, BIG * 4);
	assert_int_equal(s.target, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_entries_change_nothing),
	    cmocka_unit_test(test_leader_alone_compacts_with_a_barrier),
	    cmocka_unit_test(test_leader_waits_for_every_peer),
	    cmocka_unit_test(test_done_only_when_the_entry_left_the_log),
	    cmocka_unit_test(test_peer_joining_during_the_snapshot),
	    cmocka_unit_test(test_a_later_large_entry_moves_the_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
