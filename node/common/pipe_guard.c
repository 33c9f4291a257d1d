#include "node/common/pipe_guard.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/common/errcode.h"

struct slot {
	uint32_t id;
	bool seen;
	uint64_t added_ms;
};

struct q53_pipe_guard {
	pthread_mutex_t mu;
	unsigned max;
	unsigned idle_ms;
	struct slot *slots; /* max of them, n in use */
	unsigned n;
	unsigned long long rejected;
	unsigned long long idle_closed;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct q53_pipe_guard *g = arg;
	uint32_t id = (uint32_t)nng_pipe_id(p);
	bool reject = false;

	pthread_mutex_lock(&g->mu);
	if (ev == NNG_PIPE_EV_ADD_PRE) {
		if (g->n >= g->max) {
			g->rejected++;
			reject = true;
		} else {
			g->slots[g->n].id = id;
			g->slots[g->n].seen = false;
			g->slots[g->n].added_ms = now_ms();
			g->n++;
		}
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		for (unsigned i = 0; i < g->n; i++)
			if (g->slots[i].id == id) {
				g->slots[i] = g->slots[--g->n];
				break;
			}
	}
	pthread_mutex_unlock(&g->mu);
	/* In ADD_PRE: the pipe is never added to the socket. */
	if (reject)
		nng_pipe_close(p);
}

int q53_pipe_guard_new(struct q53_pipe_guard **out, nng_socket sock,
		       unsigned max_pipes, unsigned idle_ms)
{
	struct q53_pipe_guard *g;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return Q53_ENOMEM;
	g->max = max_pipes > 0 ? max_pipes : Q53_PIPE_GUARD_DEFAULT_MAX;
	g->idle_ms = idle_ms > 0 ? idle_ms : Q53_PIPE_GUARD_DEFAULT_IDLE_MS;
	g->slots = calloc(g->max, sizeof(*g->slots));
	if (g->slots == NULL) {
		free(g);
		return Q53_ENOMEM;
	}
	pthread_mutex_init(&g->mu, NULL);
	if (nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, on_pipe, g) != 0 ||
	    nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, on_pipe, g) != 0) {
		nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, NULL, NULL);
		nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
		q53_pipe_guard_free(g);
		return Q53_EINVAL;
	}
	*out = g;
	return 0;
}

void q53_pipe_guard_seen(struct q53_pipe_guard *g, nng_pipe p)
{
	uint32_t id = (uint32_t)nng_pipe_id(p);

	if (g == NULL || nng_pipe_id(p) <= 0)
		return;
	pthread_mutex_lock(&g->mu);
	for (unsigned i = 0; i < g->n; i++)
		if (g->slots[i].id == id) {
			g->slots[i].seen = true;
			break;
		}
	pthread_mutex_unlock(&g->mu);
}

unsigned q53_pipe_guard_sweep(struct q53_pipe_guard *g)
{
	uint32_t ids[256];
	unsigned n = 0, i;
	uint64_t now = now_ms();

	if (g == NULL)
		return 0;
	pthread_mutex_lock(&g->mu);
	/* Only under pressure (pipe_guard.h). */
	for (i = 0;
	     g->n > g->max / 2 && i < g->n && n < sizeof(ids) / sizeof(ids[0]);
	     i++)
		if (!g->slots[i].seen &&
		    now - g->slots[i].added_ms >= g->idle_ms) {
			ids[n++] = g->slots[i].id;
			/* not again: its REM_POST removes the slot */
			g->slots[i].seen = true;
		}
	g->idle_closed += n;
	pthread_mutex_unlock(&g->mu);
	/* Outside the mutex: closing runs REM_POST, which takes it. */
	for (i = 0; i < n; i++) {
		nng_pipe p = NNG_PIPE_INITIALIZER;

		p.id = ids[i];
		nng_pipe_close(p);
	}
	return n;
}

void q53_pipe_guard_stats(struct q53_pipe_guard *g,
			  struct q53_pipe_guard_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	out->active = g->n;
	out->rejected = g->rejected;
	out->idle_closed = g->idle_closed;
	pthread_mutex_unlock(&g->mu);
}

void q53_pipe_guard_free(struct q53_pipe_guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->mu);
	free(g->slots);
	free(g);
}
