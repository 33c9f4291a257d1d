/* The local observer state machine: verdicts change exactly after
 * FailureThreshold consecutive results the other way, flapping faster than
 * that changes nothing, Inverted flips each result once, Disabled stays
 * healthy and silent, refreshes come only when due. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/health/check_config.h"
#include "node/health/observer.h"

#define H	   true
#define U	   false
#define NO_REFRESH 0

static struct health_check_config config(unsigned threshold, bool inverted,
					 bool disabled)
{
	struct health_check_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.type = HEALTH_CHECK_HTTP;
	cfg.failure_threshold = threshold;
	cfg.inverted = inverted;
	cfg.disabled = disabled;
	return cfg;
}

/* Feeds results[0..n) one second apart from *now; returns the index of
 * the only CHANGED event (or -1), failing on a second one. */
static int feed_all(struct health_observer *obs, const bool *results, size_t n,
		    uint64_t *now)
{
	int changed = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		*now += 1000;
		if (health_observer_feed(obs, results[i], *now) ==
		    HEALTH_OBSERVER_CHANGED) {
			assert_int_equal(changed, -1);
			changed = (int)i;
		}
	}
	return changed;
}

static void test_transitions_table(void **state)
{
	(void)state;
	assert_true(health_observer_allowed(HEALTH_OBSERVER_UNKNOWN,
					    HEALTH_OBSERVER_HEALTHY));
	assert_true(health_observer_allowed(HEALTH_OBSERVER_UNKNOWN,
					    HEALTH_OBSERVER_UNHEALTHY));
	assert_true(health_observer_allowed(HEALTH_OBSERVER_HEALTHY,
					    HEALTH_OBSERVER_UNHEALTHY));
	assert_true(health_observer_allowed(HEALTH_OBSERVER_UNHEALTHY,
					    HEALTH_OBSERVER_HEALTHY));
	assert_false(health_observer_allowed(HEALTH_OBSERVER_HEALTHY,
					     HEALTH_OBSERVER_UNKNOWN));
	assert_false(health_observer_allowed(HEALTH_OBSERVER_UNHEALTHY,
					     HEALTH_OBSERVER_UNKNOWN));
	assert_false(health_observer_allowed(HEALTH_OBSERVER_HEALTHY,
					     HEALTH_OBSERVER_HEALTHY));
	assert_false(health_observer_allowed(HEALTH_OBSERVER_UNKNOWN,
					     HEALTH_OBSERVER_UNKNOWN));
	assert_string_equal(
	    health_observer_state_name(HEALTH_OBSERVER_UNHEALTHY), "UNHEALTHY");
}

static void test_threshold_counting(void **state)
{
	struct health_check_config cfg = config(3, false, false);
	struct health_observer obs;
	uint64_t now = 0;
	static const bool up[] = {H, H, H, H};
	static const bool down[] = {U, U, U, U, U};

	(void)state;
	health_observer_init(&obs, &cfg, NO_REFRESH);
	assert_int_equal(health_observer_state(&obs), HEALTH_OBSERVER_UNKNOWN);
	/* UNKNOWN -> HEALTHY on the 3rd healthy result, then quiet. */
	assert_int_equal(feed_all(&obs, up, 4, &now), 2);
	assert_int_equal(health_observer_state(&obs), HEALTH_OBSERVER_HEALTHY);
	assert_true(health_observer_healthy(&obs));
	/* HEALTHY -> UNHEALTHY on the 3rd unhealthy result. */
	assert_int_equal(feed_all(&obs, down, 5, &now), 2);
	assert_int_equal(health_observer_state(&obs),
			 HEALTH_OBSERVER_UNHEALTHY);
	assert_false(health_observer_healthy(&obs));
	/* and back */
	assert_int_equal(feed_all(&obs, up, 4, &now), 2);
	assert_true(health_observer_healthy(&obs));
	assert_int_equal(obs.changes, 3);
	assert_int_equal(obs.results, 13);
}

static void test_unknown_needs_a_run(void **state)
{
	struct health_check_config cfg = config(3, false, false);
	struct health_observer obs;
	uint64_t now = 0;
	/* Mixed results never reach 3 in a row: stays UNKNOWN. */
	static const bool mixed[] = {H, H, U, U, H, H, U, U, H};
	static const bool then[] = {U, U, U};

	(void)state;
	health_observer_init(&obs, &cfg, NO_REFRESH);
	assert_int_equal(feed_all(&obs, mixed, 9, &now), -1);
	assert_int_equal(health_observer_state(&obs), HEALTH_OBSERVER_UNKNOWN);
	assert_int_equal(feed_all(&obs, then, 3, &now), 2);
	assert_int_equal(health_observer_state(&obs),
			 HEALTH_OBSERVER_UNHEALTHY);
}

static void test_flapping_below_threshold(void **state)
{
	struct health_check_config cfg = config(3, false, false);
	struct health_observer obs;
	uint64_t now = 0;
	static const bool up[] = {H, H, H};
	/* Two failures, one success, repeatedly: never 3 failures in a
	 * row. */
	static const bool flap[] = {U, U, H, U, U, H, U, H, U, U, H, U, U};

	(void)state;
	health_observer_init(&obs, &cfg, NO_REFRESH);
	assert_int_equal(feed_all(&obs, up, 3, &now), 2);
	assert_int_equal(feed_all(&obs, flap, 13, &now), -1);
	assert_true(health_observer_healthy(&obs));
	assert_int_equal(obs.changes, 1);
}

static void test_threshold_one_and_ten(void **state)
{
	struct health_check_config one = config(1, false, false);
	struct health_check_config ten = config(10, false, false);
	struct health_observer obs;
	uint64_t now = 0;
	bool down[10];
	size_t i;

	(void)state;
	health_observer_init(&obs, &one, NO_REFRESH);
	assert_int_equal(health_observer_feed(&obs, U, 1),
			 HEALTH_OBSERVER_CHANGED);
	assert_int_equal(health_observer_feed(&obs, H, 2),
			 HEALTH_OBSERVER_CHANGED);
	assert_int_equal(health_observer_feed(&obs, H, 3),
			 HEALTH_OBSERVER_NONE);

	for (i = 0; i < 10; i++)
		down[i] = U;
	health_observer_init(&obs, &ten, NO_REFRESH);
	assert_int_equal(feed_all(&obs, down, 10, &now), 9);
	assert_false(health_observer_healthy(&obs));
}

static void test_inverted(void **state)
{
	struct health_check_config cfg = config(2, true, false);
	struct health_observer obs;
	uint64_t now = 0;
	static const bool up[] = {H, H};
	static const bool down[] = {U, U};

	(void)state;
	health_observer_init(&obs, &cfg, NO_REFRESH);
	/* Endpoint answers healthy twice: verdict UNHEALTHY. */
	assert_int_equal(feed_all(&obs, up, 2, &now), 1);
	assert_int_equal(health_observer_state(&obs),
			 HEALTH_OBSERVER_UNHEALTHY);
	assert_int_equal(feed_all(&obs, down, 2, &now), 1);
	assert_true(health_observer_healthy(&obs));
}

static void test_disabled(void **state)
{
	struct health_check_config cfg = config(1, true, true);
	struct health_observer obs;
	int i;

	(void)state;
	health_observer_init(&obs, &cfg, 1000);
	assert_int_equal(health_observer_state(&obs), HEALTH_OBSERVER_HEALTHY);
	for (i = 0; i < 20; i++) {
		assert_int_equal(
		    health_observer_feed(&obs, i % 2 == 0, (uint64_t)i * 5000),
		    HEALTH_OBSERVER_NONE);
		assert_int_equal(
		    health_observer_tick(&obs, (uint64_t)i * 5000 + 1),
		    HEALTH_OBSERVER_NONE);
	}
	assert_true(health_observer_healthy(&obs));
	assert_int_equal(obs.changes, 0);
}

static void test_refresh(void **state)
{
	struct health_check_config cfg = config(2, false, false);
	struct health_observer obs;

	(void)state;
	health_observer_init(&obs, &cfg, 60000);
	/* No refresh while UNKNOWN. */
	assert_int_equal(health_observer_tick(&obs, 120000),
			 HEALTH_OBSERVER_NONE);
	assert_int_equal(health_observer_feed(&obs, H, 130000),
			 HEALTH_OBSERVER_NONE);
	assert_int_equal(health_observer_feed(&obs, H, 140000),
			 HEALTH_OBSERVER_CHANGED);
	assert_int_equal(health_observer_feed(&obs, H, 199999),
			 HEALTH_OBSERVER_NONE);
	assert_int_equal(health_observer_feed(&obs, H, 200000),
			 HEALTH_OBSERVER_REFRESH);
	assert_int_equal(health_observer_feed(&obs, H, 210000),
			 HEALTH_OBSERVER_NONE);
	assert_int_equal(health_observer_tick(&obs, 259999),
			 HEALTH_OBSERVER_NONE);
	assert_int_equal(health_observer_tick(&obs, 260000),
			 HEALTH_OBSERVER_REFRESH);
	/* A change restarts the refresh clock and wins over a due refresh. */
	assert_int_equal(health_observer_feed(&obs, U, 400000),
			 HEALTH_OBSERVER_REFRESH);
	assert_int_equal(health_observer_feed(&obs, U, 500000),
			 HEALTH_OBSERVER_CHANGED);
	assert_int_equal(health_observer_tick(&obs, 559999),
			 HEALTH_OBSERVER_NONE);
	assert_int_equal(health_observer_tick(&obs, 560000),
			 HEALTH_OBSERVER_REFRESH);
	/* refresh 0: never */
	health_observer_init(&obs, &cfg, NO_REFRESH);
	health_observer_feed(&obs, H, 1);
	health_observer_feed(&obs, H, 2);
	assert_int_equal(health_observer_tick(&obs, UINT64_MAX),
			 HEALTH_OBSERVER_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transitions_table),
	    cmocka_unit_test(test_threshold_counting),
	    cmocka_unit_test(test_unknown_needs_a_run),
	    cmocka_unit_test(test_flapping_below_threshold),
	    cmocka_unit_test(test_threshold_one_and_ten),
	    cmocka_unit_test(test_inverted),
	    cmocka_unit_test(test_disabled),
	    cmocka_unit_test(test_refresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
