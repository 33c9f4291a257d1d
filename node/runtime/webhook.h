/* Health-check webhooks (a check's WebhookUrl): after each loop turn's
 * applies, takes the FSM's decided transitions; on the leader POSTs each
 * one to its check's WebhookUrl (followers drop them). See webhook.c for
 * the body, the retries and the delivery guarantee. Loop thread only. */
#ifndef Q53_NODE_RUNTIME_WEBHOOK_H
#define Q53_NODE_RUNTIME_WEBHOOK_H

#include "node/runtime/cluster_ops.h"

struct webhook;

struct webhook_config {
	struct cluster_ops ops;
	const char *name; /* the node's name in the body (copied) */
	/* --alarm-exec: a command (/bin/sh -c) the leader runs once per
	 * decided transition, with the transition in its environment
	 * (Q53_HEALTH_CHECK_ID, Q53_STATUS, Q53_INDEX, Q53_TIME, Q53_NODE
	 * and Q53_ALARM_JSON, the webhook's body). NULL: none. Copied. */
	const char *alarm_exec;
	/* Optional, for /metrics: every alarm's outcome (target "webhook"
	 * or "exec"; result "delivered", "failed", "dropped"). */
	void (*on_alarm)(void *data, const char *check_id, const char *target,
			 const char *result);
	void *alarm_data;
	/* Optional, for /metrics: every decided transition this node
	 * applies (leader or not). */
	void (*on_transition)(void *data, const char *check_id, bool healthy);
	void *transition_data;
};

/* Sets up the sender (libcurl multi on the loop; nothing runs). 0 or
 * Q53_ENOMEM. */
int webhook_init(struct webhook **out, const struct webhook_config *config);
/* After applies: takes the FSM's transitions and fires them (leader). */
void webhook_after_apply(struct webhook *w);
/* The last WEBHOOK_HISTORY_MAX alarms' outcomes on this node (the
 * leader's: followers fire none), oldest first. */
#define WEBHOOK_HISTORY_MAX 256
struct webhook_alarm {
	char check_id[CLUSTER_CHECK_ID_MAX + 1];
	uint64_t index;	    /* the transition's FSM index */
	bool healthy;	    /* its new status */
	unsigned attempts;  /* webhook: POSTs made; exec: 1 */
	const char *target; /* "webhook", "exec" */
	const char *result; /* "delivered", "failed", "dropped" */
	uint64_t time_ms;   /* wall clock of the outcome */
};
void webhook_history(const struct webhook *w,
		     void (*fn)(void *ctx, const struct webhook_alarm *a),
		     void *ctx);
/* Cancels deliveries in flight; frees w, then done(data) once every
 * handle is closed. */
void webhook_close(struct webhook *w, void (*done)(void *data), void *data);

#endif
