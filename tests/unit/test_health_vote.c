/* The replicated vote rule: HealthyShare boundaries, "enough votes",
 * members and non-members, latest vote wins, vote ageing, Disabled,
 * CALCULATED and the routing fail-open helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/common/errcode.h"
#include "node/health/check_config.h"
#include "node/health/vote_rule.h"

#define H true
#define U false

static struct health_check_config endpoint(unsigned share)
{
	struct health_check_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.type = HEALTH_CHECK_HTTP;
	cfg.failure_threshold = 3;
	cfg.request_interval = 10;
	cfg.healthy_share = share;
	return cfg;
}

/* Members 1..n_members; votes[i] from member i + 1 at index 100 + i. */
static struct health_vote_decision decide(const struct health_check_config *cfg,
					  size_t n_members, const bool *votes,
					  size_t n_votes)
{
	uint64_t members[16];
	struct health_vote v[16] = {0};
	struct health_vote_decision d = {0};
	size_t i;

	for (i = 0; i < n_members; i++)
		members[i] = i + 1;
	for (i = 0; i < n_votes; i++) {
		v[i].member_id = i + 1;
		v[i].healthy = votes[i];
		v[i].log_index = 100 + i;
		v[i].time_ms = 1000;
	}
	assert_int_equal(health_vote_decide(cfg, members, n_members, v, n_votes,
					    2000, 0, &d),
			 0);
	return d;
}

static void test_majority_boundaries(void **state)
{
	struct health_check_config cfg = endpoint(50);
	struct health_vote_decision d;

	(void)state;
	/* 3 members all reporting: 2 healthy of 3 > 50% */
	d = decide(&cfg, 3, (bool[]){H, H, U}, 3);
	assert_true(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_QUORUM);
	assert_int_equal(d.reporting, 3);
	assert_int_equal(d.healthy_votes, 2);
	d = decide(&cfg, 3, (bool[]){H, U, U}, 3);
	assert_false(d.healthy);
	/* 4 reporting: 2 of 4 is exactly 50%, not more: unhealthy */
	d = decide(&cfg, 4, (bool[]){H, H, U, U}, 4);
	assert_false(d.healthy);
	d = decide(&cfg, 4, (bool[]){H, H, H, U}, 4);
	assert_true(d.healthy);
	/* 5 members, 3 reporting (enough): 2 of 3 */
	d = decide(&cfg, 5, (bool[]){H, H, U}, 3);
	assert_true(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_QUORUM);
	d = decide(&cfg, 5, (bool[]){H, U, U}, 3);
	assert_false(d.healthy);
	/* single member */
	d = decide(&cfg, 1, (bool[]){U}, 1);
	assert_false(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_QUORUM);
}

static void test_share_boundaries(void **state)
{
	struct health_check_config r53 = endpoint(18);
	struct health_check_config any = endpoint(0);
	struct health_check_config most = endpoint(99);
	struct health_check_config third = endpoint(33);
	struct health_vote_decision d;

	(void)state;
	/* Route 53's 18%: 1 of 5 = 20% > 18% */
	d = decide(&r53, 5, (bool[]){H, U, U, U, U}, 5);
	assert_true(d.healthy);
	d = decide(&r53, 6, (bool[]){H, U, U, U, U, U}, 6); /* 16.7% */
	assert_false(d.healthy);
	/* 0: any one healthy vote suffices, none is not enough */
	d = decide(&any, 3, (bool[]){U, U, H}, 3);
	assert_true(d.healthy);
	d = decide(&any, 3, (bool[]){U, U, U}, 3);
	assert_false(d.healthy);
	/* 99: unanimity for up to 100 voters */
	d = decide(&most, 3, (bool[]){H, H, U}, 3);
	assert_false(d.healthy);
	d = decide(&most, 3, (bool[]){H, H, H}, 3);
	assert_true(d.healthy);
	/* 33: 1 of 3 = 33.3% > 33% */
	d = decide(&third, 3, (bool[]){H, U, U}, 3);
	assert_true(d.healthy);
}

static void test_too_few_votes(void **state)
{
	struct health_check_config cfg = endpoint(50);
	struct health_vote_decision d;

	(void)state;
	/* New check: no votes at all */
	d = decide(&cfg, 3, NULL, 0);
	assert_true(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_TOO_FEW);
	assert_int_equal(d.needed, 2);
	/* 1 of 3 reporting unhealthy: not enough */
	d = decide(&cfg, 3, (bool[]){U}, 1);
	assert_true(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_TOO_FEW);
	/* 2 of 3: enough */
	d = decide(&cfg, 3, (bool[]){U, U}, 2);
	assert_false(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_QUORUM);
	/* 2 of 4 is not a majority of members; 3 of 4 is */
	d = decide(&cfg, 4, (bool[]){U, U}, 2);
	assert_true(d.healthy);
	assert_int_equal(d.needed, 3);
	d = decide(&cfg, 4, (bool[]){U, U, U}, 3);
	assert_false(d.healthy);
	/* no members */
	d = decide(&cfg, 0, NULL, 0);
	assert_true(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_TOO_FEW);
}

static void test_membership(void **state)
{
	struct health_check_config cfg = endpoint(50);
	struct health_vote votes[] = {
	    {.member_id = 1, .healthy = U, .log_index = 10, .time_ms = 1},
	    {.member_id = 2, .healthy = U, .log_index = 11, .time_ms = 1},
	    {.member_id = 3, .healthy = H, .log_index = 12, .time_ms = 1},
	    {.member_id = 9, .healthy = H, .log_index = 13, .time_ms = 1},
	};
	uint64_t all[] = {1, 2, 3};
	uint64_t without2[] = {1, 3};
	uint64_t dup[] = {3, 1, 3, 2, 1};
	struct health_vote_decision d;

	(void)state;
	/* Member 9 is not a member: ignored. */
	assert_int_equal(health_vote_decide(&cfg, all, 3, votes, 4, 0, 0, &d),
			 0);
	assert_false(d.healthy);
	assert_int_equal(d.members, 3);
	assert_int_equal(d.reporting, 3);
	/* Member 2 removed: its vote drops; 1 of 2 is not > 50%. */
	assert_int_equal(
	    health_vote_decide(&cfg, without2, 2, votes, 4, 0, 0, &d), 0);
	assert_int_equal(d.members, 2);
	assert_int_equal(d.reporting, 2);
	assert_false(d.healthy);
	/* Member 1 also removed -> only 3, healthy */
	assert_int_equal(
	    health_vote_decide(&cfg, &without2[1], 1, votes, 4, 0, 0, &d), 0);
	assert_true(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_QUORUM);
	/* Duplicated member ids count once. */
	assert_int_equal(health_vote_decide(&cfg, dup, 5, votes, 4, 0, 0, &d),
			 0);
	assert_int_equal(d.members, 3);
	assert_int_equal(d.reporting, 3);
	assert_false(d.healthy);
}

static void test_latest_vote_wins(void **state)
{
	struct health_check_config cfg = endpoint(50);
	/* Member 1 flipped to healthy at index 30, given out of order. */
	struct health_vote votes[] = {
	    {.member_id = 1, .healthy = H, .log_index = 30, .time_ms = 3},
	    {.member_id = 2, .healthy = H, .log_index = 20, .time_ms = 2},
	    {.member_id = 1, .healthy = U, .log_index = 10, .time_ms = 1},
	    {.member_id = 3, .healthy = U, .log_index = 15, .time_ms = 1},
	};
	struct health_vote reversed[4];
	uint64_t members[] = {1, 2, 3};
	struct health_vote_decision d, d2;
	size_t i;

	(void)state;
	assert_int_equal(
	    health_vote_decide(&cfg, members, 3, votes, 4, 0, 0, &d), 0);
	assert_true(d.healthy);
	assert_int_equal(d.reporting, 3);
	assert_int_equal(d.healthy_votes, 2);
	for (i = 0; i < 4; i++)
		reversed[i] = votes[3 - i];
	assert_int_equal(
	    health_vote_decide(&cfg, members, 3, reversed, 4, 0, 0, &d2), 0);
	assert_memory_equal(&d, &d2, sizeof(d));
}

static void test_vote_ageing(void **state)
{
	struct health_check_config cfg = endpoint(50);
	struct health_vote votes[] = {
	    {.member_id = 1, .healthy = U, .log_index = 10, .time_ms = 1000},
	    {.member_id = 2, .healthy = U, .log_index = 11, .time_ms = 5000},
	    {.member_id = 3, .healthy = U, .log_index = 12, .time_ms = 9000},
	};
	uint64_t members[] = {1, 2, 3};
	struct health_vote_decision d;

	(void)state;
	/* max age 0: nothing ages */
	assert_int_equal(
	    health_vote_decide(&cfg, members, 3, votes, 3, 100000, 0, &d), 0);
	assert_false(d.healthy);
	/* at 10000 with max age 5000: vote 1 (age 9000) dropped, 2 (age
	 * exactly 5000) kept -> 2 of 3 reporting, still enough */
	assert_int_equal(
	    health_vote_decide(&cfg, members, 3, votes, 3, 10000, 5000, &d), 0);
	assert_int_equal(d.reporting, 2);
	assert_false(d.healthy);
	/* at 10001: vote 2 too -> 1 of 3, too few -> healthy */
	assert_int_equal(
	    health_vote_decide(&cfg, members, 3, votes, 3, 10001, 5000, &d), 0);
	assert_int_equal(d.reporting, 1);
	assert_true(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_TOO_FEW);
}

static void test_disabled_and_inverted(void **state)
{
	struct health_check_config cfg = endpoint(50);
	struct health_vote_decision d;

	(void)state;
	cfg.disabled = true;
	d = decide(&cfg, 3, (bool[]){U, U, U}, 3);
	assert_true(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_DISABLED);
	/* Inverted is already in the votes: not applied again. */
	cfg.disabled = false;
	cfg.inverted = true;
	d = decide(&cfg, 3, (bool[]){U, U, U}, 3);
	assert_false(d.healthy);
	d = decide(&cfg, 3, (bool[]){H, H, U}, 3);
	assert_true(d.healthy);
}

static void test_calculated(void **state)
{
	char children[3][HEALTH_CHECK_ID_MAX + 1] = {"a", "b", "c"};
	struct health_check_config cfg;
	struct health_check_config ep = endpoint(50);
	struct health_vote_decision d;
	uint64_t members[] = {1};

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.type = HEALTH_CHECK_CALCULATED;
	cfg.children = children;
	cfg.n_children = 3;
	cfg.health_threshold = 2;
	assert_int_equal(
	    health_vote_decide_calculated(&cfg, (bool[]){H, H, U}, 3, &d), 0);
	assert_true(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_CALCULATED);
	assert_int_equal(d.healthy_votes, 2);
	assert_int_equal(
	    health_vote_decide_calculated(&cfg, (bool[]){H, U, U}, 3, &d), 0);
	assert_false(d.healthy);
	/* threshold 0: always healthy; threshold 3: all */
	cfg.health_threshold = 0;
	health_vote_decide_calculated(&cfg, (bool[]){U, U, U}, 3, &d);
	assert_true(d.healthy);
	cfg.health_threshold = 3;
	health_vote_decide_calculated(&cfg, (bool[]){H, H, U}, 3, &d);
	assert_false(d.healthy);
	health_vote_decide_calculated(&cfg, (bool[]){H, H, H}, 3, &d);
	assert_true(d.healthy);
	/* Inverted applies here (no observer for CALCULATED) */
	cfg.inverted = true;
	health_vote_decide_calculated(&cfg, (bool[]){H, H, H}, 3, &d);
	assert_false(d.healthy);
	/* Disabled wins */
	cfg.disabled = true;
	health_vote_decide_calculated(&cfg, (bool[]){H, H, H}, 3, &d);
	assert_true(d.healthy);
	assert_int_equal(d.basis, HEALTH_VOTE_DISABLED);
	/* misuse */
	assert_int_equal(
	    health_vote_decide_calculated(&cfg, (bool[]){H, H}, 2, &d),
	    Q53_EINVAL);
	assert_int_equal(health_vote_decide_calculated(&ep, (bool[]){H}, 1, &d),
			 Q53_EINVAL);
	assert_int_equal(
	    health_vote_decide(&cfg, members, 1, NULL, 0, 0, 0, &d),
	    Q53_EINVAL);
}

static void test_fail_open(void **state)
{
	bool eligible[4];
	bool inplace[3] = {U, U, U};

	(void)state;
	assert_int_equal(
	    health_vote_fail_open((bool[]){H, U, H, U}, 4, eligible), 2);
	assert_true(eligible[0] && !eligible[1] && eligible[2] && !eligible[3]);
	assert_int_equal(
	    health_vote_fail_open((bool[]){U, U, U, U}, 4, eligible), 4);
	assert_true(eligible[0] && eligible[1] && eligible[2] && eligible[3]);
	assert_int_equal(
	    health_vote_fail_open((bool[]){U, U, U, H}, 4, eligible), 1);
	assert_true(!eligible[0] && !eligible[1] && !eligible[2] &&
		    eligible[3]);
	assert_int_equal(health_vote_fail_open(inplace, 3, inplace), 3);
	assert_true(inplace[0] && inplace[1] && inplace[2]);
	assert_int_equal(health_vote_fail_open(NULL, 0, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_majority_boundaries),
	    cmocka_unit_test(test_share_boundaries),
	    cmocka_unit_test(test_too_few_votes),
	    cmocka_unit_test(test_membership),
	    cmocka_unit_test(test_latest_vote_wins),
	    cmocka_unit_test(test_vote_ageing),
	    cmocka_unit_test(test_disabled_and_inverted),
	    cmocka_unit_test(test_calculated),
	    cmocka_unit_test(test_fail_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
