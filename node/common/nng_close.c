/* Bounded nng_close (nng_close.h). */
#include "node/common/nng_close.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct closer {
	nng_socket sock;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	bool abandoned; /* the waiter left: the thread frees this */
};

static atomic_uint stuck;

static void closer_free(struct closer *c)
{
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static void *close_thread(void *arg)
{
	struct closer *c = arg;
	nng_close(c->sock);
	pthread_mutex_lock(&c->mu);
	c->done = true;
	bool abandoned = c->abandoned;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (abandoned) {
		atomic_fetch_sub(&stuck, 1);
		closer_free(c);
	}
	return NULL;
}

bool q53_nng_close(nng_socket s, int timeout_ms)
{
	struct closer *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;
	if (c == NULL) {
		nng_close(s);
		return true;
	}
	c->sock = s;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, close_thread, c);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		closer_free(c);
		nng_close(s);
		return true;
	}
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while (!c->done) {
		if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT)
			break;
	}
	bool done = c->done;
	if (!done) {
		c->abandoned = true;
		atomic_fetch_add(&stuck, 1);
	}
	pthread_mutex_unlock(&c->mu);
	if (done) {
		closer_free(c);
		return true;
	}
	fprintf(stderr,
		"warning: NNG did not close socket %u within %d ms (NNG "
		"1.5.2's close hang, nanomsg/nng#1543); going on without it\n",
		nng_socket_id(s), timeout_ms);
	return false;
}

unsigned q53_nng_close_stuck(void)
{
	return atomic_load(&stuck);
}
