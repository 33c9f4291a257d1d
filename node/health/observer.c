#include "node/health/observer.h"

#include <assert.h>
#include <string.h>

#include "node/health/check_config.h"

#define N_STATES 3

static const bool ALLOWED[N_STATES][N_STATES] = {
    [HEALTH_OBSERVER_UNKNOWN] =
	{[HEALTH_OBSERVER_HEALTHY] = true, [HEALTH_OBSERVER_UNHEALTHY] = true},
    [HEALTH_OBSERVER_HEALTHY] = {[HEALTH_OBSERVER_UNHEALTHY] = true},
    [HEALTH_OBSERVER_UNHEALTHY] = {[HEALTH_OBSERVER_HEALTHY] = true},
};

bool health_observer_allowed(enum health_observer_state from,
			     enum health_observer_state to)
{
	if ((unsigned)from >= N_STATES || (unsigned)to >= N_STATES)
		return false;
	return ALLOWED[from][to];
}

const char *health_observer_state_name(enum health_observer_state state)
{
	switch (state) {
	case HEALTH_OBSERVER_UNKNOWN:
		return "UNKNOWN";
	case HEALTH_OBSERVER_HEALTHY:
		return "HEALTHY";
	case HEALTH_OBSERVER_UNHEALTHY:
		return "UNHEALTHY";
	}
	return "?";
}

void health_observer_init(struct health_observer *obs,
			  const struct health_check_config *cfg,
			  uint64_t refresh_ms)
{
	memset(obs, 0, sizeof(*obs));
	obs->failure_threshold =
	    cfg->failure_threshold > 0 ? cfg->failure_threshold : 1;
	obs->inverted = cfg->inverted;
	obs->disabled = cfg->disabled;
	obs->refresh_ms = refresh_ms;
	obs->state =
	    cfg->disabled ? HEALTH_OBSERVER_HEALTHY : HEALTH_OBSERVER_UNKNOWN;
}

static void transition(struct health_observer *obs,
		       enum health_observer_state to, uint64_t now_ms)
{
	assert(health_observer_allowed(obs->state, to));
	obs->state = to;
	obs->run = 0;
	obs->announced_ms = now_ms;
	obs->changes++;
}

enum health_observer_event health_observer_tick(struct health_observer *obs,
						uint64_t now_ms)
{
	if (obs->disabled || obs->refresh_ms == 0 ||
	    obs->state == HEALTH_OBSERVER_UNKNOWN)
		return HEALTH_OBSERVER_NONE;
	if (now_ms < obs->announced_ms ||
	    now_ms - obs->announced_ms < obs->refresh_ms)
		return HEALTH_OBSERVER_NONE;
	obs->announced_ms = now_ms;
	return HEALTH_OBSERVER_REFRESH;
}

enum health_observer_event health_observer_feed(struct health_observer *obs,
						bool probe_healthy,
						uint64_t now_ms)
{
	bool healthy = probe_healthy != obs->inverted;
	enum health_observer_state agree;

	if (obs->disabled)
		return HEALTH_OBSERVER_NONE;
	obs->results++;
	agree = healthy ? HEALTH_OBSERVER_HEALTHY : HEALTH_OBSERVER_UNHEALTHY;
	if (obs->state == agree) {
		obs->run = 0;
		return health_observer_tick(obs, now_ms);
	}
	/* In UNKNOWN a result the other way restarts the count too. */
	if (obs->run > 0 && obs->run_healthy != healthy)
		obs->run = 0;
	obs->run_healthy = healthy;
	obs->run++;
	if (obs->run >= obs->failure_threshold) {
		transition(obs, agree, now_ms);
		return HEALTH_OBSERVER_CHANGED;
	}
	return health_observer_tick(obs, now_ms);
}

enum health_observer_state
health_observer_state(const struct health_observer *obs)
{
	return obs->state;
}

bool health_observer_healthy(const struct health_observer *obs)
{
	return obs->state == HEALTH_OBSERVER_HEALTHY;
}
