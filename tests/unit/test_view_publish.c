/* Publishing a serving view never waits for readers: with a DNS-worker-like
 * reader thread online and holding the current view (no quiescent state),
 * serving_view_publish returns, and the replaced view is freed only after
 * the reader passes a quiescent state. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

#include <cmocka.h>

#include "node/zone/node.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"

static const char ZONE[] = "@ 3600 IN SOA ns1 host 1 7200 900 1209600 300\n"
			   "@ 3600 IN NS ns1\n"
			   "ns1 3600 IN A 192.0.2.1\n";

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool reader_holds, publish_done, reader_release;
static struct serving_view *seen;

static void *reader_main(void *arg)
{
	(void)arg;
	rcu_register_thread();
	/* Online: a read-side critical section until told to leave. */
	seen = serving_view_current();
	pthread_mutex_lock(&mu);
	reader_holds = true;
	pthread_cond_broadcast(&cv);
	while (!reader_release)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	rcu_unregister_thread(); /* a quiescent state */
	return NULL;
}

static void *publisher_main(void *arg)
{
	serving_view_publish(arg);
	pthread_mutex_lock(&mu);
	publish_done = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static int zone_refs(const struct zone *z)
{
	return __atomic_load_n(&z->refs, __ATOMIC_ACQUIRE);
}

static void test_publish_does_not_wait_for_readers(void **state)
{
	struct zone *z1, *z2;
	struct serving_view *v1, *v2;
	char err[256];
	pthread_t reader, publisher;
	(void)state;

	assert_int_equal(zone_load_text(&z1, "example.com", ZONE,
					sizeof(ZONE) - 1, "t", err,
					sizeof(err)),
			 0);
	assert_int_equal(zone_load_text(&z2, "example.com", ZONE,
					sizeof(ZONE) - 1, "t", err,
					sizeof(err)),
			 0);
	assert_int_equal(serving_view_build(&v1, &z1, 1), 0);
	assert_int_equal(serving_view_build(&v2, &z2, 1), 0);
	serving_view_publish(v1);
	assert_int_equal(zone_refs(z1), 2); /* ours and v1's */

	assert_int_equal(pthread_create(&reader, NULL, reader_main, NULL), 0);
	pthread_mutex_lock(&mu);
	while (!reader_holds)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	assert_ptr_equal(seen, v1);

	/* The publication must finish while the reader still holds v1
	 * (synchronize_rcu here would never return: bounded by 20 s). */
	assert_int_equal(pthread_create(&publisher, NULL, publisher_main, v2),
			 0);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	int rc = 0;
	pthread_mutex_lock(&mu);
	while (!publish_done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&cv, &mu, &until);
	bool done = publish_done;
	pthread_mutex_unlock(&mu);
	if (!done) {
		/* Let the blocked publisher finish before failing. */
		pthread_mutex_lock(&mu);
		reader_release = true;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		pthread_join(reader, NULL);
		pthread_join(publisher, NULL);
		fail_msg("serving_view_publish waited for a reader");
	}
	pthread_join(publisher, NULL);
	/* v1 is not freed while the reader may still use it. */
	assert_int_equal(zone_refs(z1), 2);

	pthread_mutex_lock(&mu);
	reader_release = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(reader, NULL);
	serving_view_reclaim_wait();
	assert_int_equal(zone_refs(z1), 1); /* v1 freed after the reader left */

	serving_view_publish(NULL); /* frees v2 before returning */
	assert_int_equal(zone_refs(z2), 1);
	zone_release(z1);
	zone_release(z2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_publish_does_not_wait_for_readers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
