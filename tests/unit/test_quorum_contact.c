/* Quorum contact (node/runtime/quorum_contact.h) and the anycast decision
 * (node/anycast/anycast_decision.h): leader with a majority, a minority,
 * a follower hearing or not hearing its leader, no leader, one node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "node/anycast/anycast_decision.h"
#include "node/runtime/quorum_contact.h"

#define T 1000 /* election timeout */

static void test_leader_majority(void **state)
{
	struct quorum_contact_peer p[] = {
	    {1, true, 0}, {2, true, 9500}, {3, true, 8000}};
	uint64_t age;

	(void)state;
	/* self + node 2 (500 ms ago) = 2 of 3 */
	assert_true(quorum_contact_measure(true, 1, 1, p, 3, 10000, T, &age));
	assert_int_equal(age, 500);
	/* node 2 too old: only self */
	p[1].last_ms = 8500;
	assert_false(quorum_contact_measure(true, 1, 1, p, 3, 10000, T, &age));
	assert_int_equal(age, 1500);
}

static void test_leader_ignores_non_voters(void **state)
{
	struct quorum_contact_peer p[] = {
	    {1, true, 0}, {2, false, 9900}, {3, true, 0}};
	uint64_t age;

	(void)state;
	/* the spare does not count; node 3 never heard */
	assert_false(quorum_contact_measure(true, 1, 1, p, 3, 10000, T, &age));
	assert_int_equal(age, UINT64_MAX);
}

static void test_leader_alone(void **state)
{
	struct quorum_contact_peer p[] = {{1, true, 0}};
	uint64_t age;

	(void)state;
	assert_true(quorum_contact_measure(true, 1, 1, p, 1, 10000, T, &age));
	assert_int_equal(age, 0);
}

static void test_follower(void **state)
{
	struct quorum_contact_peer p[] = {
	    {1, true, 9900}, {2, true, 0}, {3, true, 9990}};
	uint64_t age;

	(void)state;
	assert_true(quorum_contact_measure(false, 2, 1, p, 3, 10000, T, &age));
	assert_int_equal(age, 100);
	/* the leader silent for longer than the timeout: cut off, even if
	 * another follower was heard */
	assert_false(quorum_contact_measure(false, 2, 1, p, 3, 11000, T, &age));
	assert_int_equal(age, 1100);
	/* no leader known (candidate) */
	assert_false(quorum_contact_measure(false, 2, 0, p, 3, 10000, T, &age));
	assert_int_equal(age, UINT64_MAX);
	/* a leader not in the configuration */
	assert_false(quorum_contact_measure(false, 2, 7, p, 3, 10000, T, &age));
}

static void test_decision(void **state)
{
	struct anycast_decision d;

	(void)state;
	anycast_decision_init(&d, 2);
	/* nothing announced before the responder answered once */
	assert_false(anycast_decision_step(&d, false, true));
	assert_true(anycast_decision_step(&d, true, true));
	assert_true(d.announced);
	/* one failed responder check is tolerated, two withdraw */
	assert_true(anycast_decision_step(&d, false, true));
	assert_false(anycast_decision_step(&d, false, true));
	assert_int_equal(d.why, ANYCAST_WHY_RESPONDER);
	assert_true(anycast_decision_step(&d, true, true));
	/* quorum contact lost: withdraw at once (the measure already waited
	 * an election timeout) */
	assert_false(anycast_decision_step(&d, true, false));
	assert_int_equal(d.why, ANYCAST_WHY_NO_QUORUM);
	assert_true(anycast_decision_step(&d, true, true));
	assert_int_equal(d.why, ANYCAST_WHY_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_leader_majority),
	    cmocka_unit_test(test_leader_ignores_non_voters),
	    cmocka_unit_test(test_leader_alone),
	    cmocka_unit_test(test_follower),
	    cmocka_unit_test(test_decision),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
