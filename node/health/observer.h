/* One node's local view of one health check: an explicit state machine fed
 * with probe results. Pure: results and times (ms, any monotonic origin)
 * are inputs; no I/O, no clock, no allocation.
 *
 * States and the only allowed transitions:
 *
 *     UNKNOWN --(FailureThreshold consecutive healthy)--> HEALTHY
 *     UNKNOWN --(FailureThreshold consecutive unhealthy)-> UNHEALTHY
 *     HEALTHY --(FailureThreshold consecutive unhealthy)-> UNHEALTHY
 *     UNHEALTHY --(FailureThreshold consecutive healthy)-> HEALTHY
 *
 * (Route 53: the status changes after FailureThreshold consecutive results
 * the other way; a result agreeing with the current status resets the
 * count, so flapping faster than the threshold changes nothing.) Going back
 * to UNKNOWN is a new observer (health_observer_init, e.g. after the config
 * changed).
 *
 * Inverted is applied here, to each result, so the verdict is the one to
 * vote; nothing downstream inverts again. A Disabled check is HEALTHY from
 * init and ignores results (it needs no probe and no vote).
 *
 * Events: CHANGED at each transition (the only moments a node proposes a
 * vote) and REFRESH when the verdict was last announced refresh_ms ago or
 * more (re-proposing the same vote rarely, so a member that missed or lost
 * it, or a vote rule that ages votes out, sees it again). */
#ifndef Q53_NODE_HEALTH_OBSERVER_H
#define Q53_NODE_HEALTH_OBSERVER_H

#include <stdbool.h>
#include <stdint.h>

struct health_check_config;

enum health_observer_state {
	HEALTH_OBSERVER_UNKNOWN,
	HEALTH_OBSERVER_HEALTHY,
	HEALTH_OBSERVER_UNHEALTHY,
};

enum health_observer_event {
	HEALTH_OBSERVER_NONE,
	HEALTH_OBSERVER_CHANGED, /* verdict changed: propose a vote */
	HEALTH_OBSERVER_REFRESH, /* same verdict, due again: re-propose */
};

/* Plain value; copy or embed freely. Fields are read through the
 * functions below. */
struct health_observer {
	enum health_observer_state state;
	unsigned failure_threshold;
	bool inverted;
	bool disabled;
	unsigned run;	  /* consecutive results against the state */
	bool run_healthy; /* their direction (matters in UNKNOWN) */
	uint64_t refresh_ms;
	uint64_t announced_ms; /* time of the last CHANGED or REFRESH */
	uint64_t results;      /* results fed since init */
	uint64_t changes;      /* transitions since init */
};

/* Starts in UNKNOWN (HEALTHY if cfg->disabled). Reads FailureThreshold
 * (0, as in CALCULATED, counts as 1), Inverted and Disabled from cfg; keeps
 * no reference. refresh_ms == 0: never REFRESH. */
void health_observer_init(struct health_observer *obs,
			  const struct health_check_config *cfg,
			  uint64_t refresh_ms);

/* One probe result (as the endpoint answered, before Inverted) at now_ms.
 * Returns the event it causes, if any; a transition takes precedence over
 * a due refresh. now_ms must not go backwards. */
enum health_observer_event health_observer_feed(struct health_observer *obs,
						bool probe_healthy,
						uint64_t now_ms);

/* The slow tick without a result (e.g. when probes stall): REFRESH if
 * due, else NONE. */
enum health_observer_event health_observer_tick(struct health_observer *obs,
						uint64_t now_ms);

enum health_observer_state
health_observer_state(const struct health_observer *obs);
/* The local verdict; only meaningful when the state is not UNKNOWN. */
bool health_observer_healthy(const struct health_observer *obs);
/* Whether from -> to is an allowed transition. */
bool health_observer_allowed(enum health_observer_state from,
			     enum health_observer_state to);
/* "UNKNOWN", "HEALTHY", "UNHEALTHY"; never NULL. */
const char *health_observer_state_name(enum health_observer_state state);

#endif
