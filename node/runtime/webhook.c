/* DESIGN: no thread is created here. libcurl's multi interface is driven
 * from the loop thread (node/common/curl_loop.h, shared with the prober);
 * libcurl's threaded resolver may start a thread per name lookup of a
 * WebhookUrl host, which only hands the answer back to libcurl.
 *
 * Health check webhooks (a check's WebhookUrl, check_config.h): after each
 * loop turn's applies the runtime takes the FSM's decided transitions
 * (control_fsm_take_transitions). The leader POSTs one JSON object per
 * transition:
 *
 *   {"HealthCheckId": ID, "Status": "Healthy" | "Unhealthy",
 *    "Index": FSM index, "Time": RFC 3339 (the transition's time),
 *    "Reason": why (when known), "Node": the leader's name}
 *
 * with a 2 s timeout per attempt and up to two retries (0.5 s, then 1 s
 * later) when the attempt fails or the answer is not 2xx; the loop never
 * blocks. Followers drop the transitions they apply.
 *
 * Delivery is "at least once, from the leader", best effort: a leader that
 * dies (or loses a POST's every attempt) loses it; a new leader fires the
 * transitions it applies as leader, which may repeat one the old leader
 * sent (the old leader applied it, fired, died before the followers
 * committed it). Receivers de-duplicate by (HealthCheckId, Index).
 * Transitions older than CN_WEBHOOK_STALE_MS (a restarted lone node
 * replaying its log) are not fired. Proxies from the environment are not
 * used; https:// certificates are verified. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "node/common/curl_loop.h"
#include "node/common/errcode.h"
#include "node/common/ids.h"
#include "node/runtime/webhook.h"
#include "node/control/control_fsm.h"
#include "node/health/check_config.h"
#include "node/health/vote_rule.h"

#define CN_WEBHOOK_TIMEOUT_MS  2000
#define CN_WEBHOOK_ATTEMPTS    3 /* the first and two retries */
#define CN_WEBHOOK_RETRY_MS    500
#define CN_WEBHOOK_PENDING_MAX 256 /* POSTs in flight or waiting */
#define CN_WEBHOOK_STALE_MS    (5 * 60 * 1000)
#define CN_WEBHOOK_AGENT       "quorum53-webhook"
#define CN_ALARM_EXEC_MAX      64 /* --alarm-exec processes at once */

#define cn_wlog(n, ...) cluster_log((n)->id, __VA_ARGS__)

/* One transition's POST, across its attempts. */
struct webhook_post {
	struct webhook *w;
	struct webhook_post *prev, *next;
	CURL *easy; /* NULL between attempts */
	struct curl_slist *headers;
	char *url;  /* malloc'd */
	char *body; /* json_dumps'd, freed with free() */
	char check_id[CLUSTER_CHECK_ID_MAX + 1];
	uint64_t index;
	bool healthy;
	unsigned attempt; /* attempts started */
	uint64_t due;	  /* uv_now of the next attempt (easy == NULL) */
};

/* The fields the rest of the file reads as n->... */
struct webhook_node {
	struct cluster_ops ops;
	uv_loop_t *loop;
	struct control_fsm *fsm;
	uint64_t id;
	char *name;
	struct webhook *webhook;
	void (*on_transition)(void *data, const char *check_id, bool healthy);
	void *transition_data;
	char *alarm_exec;				   /* NULL: none */
	struct webhook_alarm history[WEBHOOK_HISTORY_MAX]; /* a ring */
	uint64_t history_next;
	void (*on_alarm)(void *data, const char *check_id, const char *target,
			 const char *result);
	void *alarm_data;
};

/* One --alarm-exec process. */
struct alarm_proc {
	uv_process_t proc;
	struct webhook *w;
	char check_id[CLUSTER_CHECK_ID_MAX + 1];
	uint64_t index;
	bool healthy;
};

struct webhook {
	struct webhook_node *n;
	struct curl_loop *curl; /* NULL once closing */
	uv_timer_t retry_timer;
	struct webhook_post *posts;
	size_t n_posts;
	unsigned n_procs; /* --alarm-exec processes running */
	struct alarm_proc *procs[CN_ALARM_EXEC_MAX]; /* NULL: free slot */
	unsigned open; /* the retry timer + the curl loop not closed yet */
	bool closing;
	void (*close_cb)(void *data);
	void *close_data;
};

/* --- lifecycle of the pieces --- */

static void webhook_maybe_free(struct webhook *w)
{
	void (*cb)(void *data) = w->close_cb;
	void *data = w->close_data;

	if (!w->closing || w->open != 0)
		return;
	free(w->n->name);
	free(w->n->alarm_exec);
	free(w->n);
	free(w);
	if (cb != NULL)
		cb(data);
}

static void post_free(struct webhook_post *p)
{
	struct webhook *w = p->w;

	if (p->easy != NULL) {
		if (w->curl != NULL)
			curl_loop_remove(w->curl, p->easy);
		curl_easy_cleanup(p->easy);
	}
	curl_slist_free_all(p->headers);
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		w->posts = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	w->n_posts--;
	free(p->url);
	free(p->body);
	free(p);
}

static void webhook_schedule_retry(struct webhook *w);

/* An alarm's outcome: counted (on_alarm) and kept in the history. */
static void alarm_outcome_at(struct webhook_node *n, const char *check_id,
			     uint64_t index, bool healthy, unsigned attempts,
			     const char *target, const char *result)
{
	if (n->on_alarm != NULL)
		n->on_alarm(n->alarm_data, check_id, target, result);
	struct webhook_alarm *a =
	    &n->history[n->history_next++ % WEBHOOK_HISTORY_MAX];
	snprintf(a->check_id, sizeof(a->check_id), "%s", check_id);
	a->index = index;
	a->healthy = healthy;
	a->attempts = attempts;
	a->target = target;
	a->result = result;
	a->time_ms = ids_wall_ms();
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *userp)
{
	(void)buf;
	(void)userp;
	return size * nmemb; /* the receiver's answer body is not kept */
}

/* --- attempts --- */

/* Starts the next attempt of p. 0, or Q53_ENOMEM (p unchanged, no
 * handle). */
static int post_attempt(struct webhook_post *p)
{
	struct webhook *w = p->w;
	CURL *e = curl_easy_init();
	CURLcode rc = CURLE_OK;

	if (e == NULL)
		return Q53_ENOMEM;
	if (p->headers == NULL) {
		p->headers =
		    curl_slist_append(NULL, "Content-Type: application/json");
		if (p->headers == NULL)
			goto err;
	}
	rc |= curl_easy_setopt(e, CURLOPT_URL, p->url);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, p);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_PROXY, "");
	rc |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, CN_WEBHOOK_AGENT);
	rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
	rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->body);
	rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(p->body));
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			       (long)CN_WEBHOOK_TIMEOUT_MS);
	rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			       (long)CN_WEBHOOK_TIMEOUT_MS);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	if (rc != CURLE_OK)
		goto err;
	if (curl_loop_add(w->curl, e) != 0)
		goto err;
	p->easy = e;
	p->attempt++;
	return 0;
err:
	curl_easy_cleanup(e);
	return Q53_ENOMEM;
}

/* An attempt ended: done, another attempt later, or given up. */
static void post_finished(struct webhook_post *p, CURLcode result)
{
	struct webhook *w = p->w;
	struct webhook_node *n = w->n;
	long code = 0;
	char why[96];

	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_loop_remove(w->curl, p->easy);
	curl_easy_cleanup(p->easy);
	p->easy = NULL;
	if (result == CURLE_OK && code >= 200 && code <= 299) {
		cn_wlog(n,
			"health check %s: webhook for index %" PRIu64
			" delivered (HTTP %ld)",
			p->check_id, p->index, code);
		alarm_outcome_at(n, p->check_id, p->index, p->healthy,
				 p->attempt, "webhook", "delivered");
		post_free(p);
		return;
	}
	if (result != CURLE_OK)
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(result));
	else
		snprintf(why, sizeof(why), "HTTP %ld", code);
	if (p->attempt >= CN_WEBHOOK_ATTEMPTS) {
		cn_wlog(n,
			"health check %s: webhook for index %" PRIu64
			" failed after %u attempts (%s)",
			p->check_id, p->index, p->attempt, why);
		alarm_outcome_at(n, p->check_id, p->index, p->healthy,
				 p->attempt, "webhook", "failed");
		post_free(p);
		return;
	}
	cn_wlog(n,
		"health check %s: webhook for index %" PRIu64
		" attempt %u failed (%s), retrying",
		p->check_id, p->index, p->attempt, why);
	p->due = uv_now(n->loop) + (uint64_t)CN_WEBHOOK_RETRY_MS * p->attempt;
	webhook_schedule_retry(w);
}

static void webhook_on_curl_done(void *data, CURL *easy, CURLcode result)
{
	struct webhook *w = data;
	struct webhook_post *p = NULL;

	if (w->closing)
		return;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
	post_finished(p, result);
}

static void on_retry(uv_timer_t *t)
{
	struct webhook *w = t->data;
	uint64_t now = uv_now(w->n->loop);
	struct webhook_post *p, *next;

	for (p = w->posts; p != NULL; p = next) {
		next = p->next;
		if (p->easy != NULL || p->due > now)
			continue;
		if (post_attempt(p) != 0) {
			cn_wlog(w->n,
				"health check %s: webhook for index "
				"%" PRIu64 " dropped: out of memory",
				p->check_id, p->index);
			post_free(p);
		}
	}
	webhook_schedule_retry(w);
}

/* Arms the retry timer for the earliest waiting POST. */
static void webhook_schedule_retry(struct webhook *w)
{
	uint64_t now = uv_now(w->n->loop), first = UINT64_MAX;
	const struct webhook_post *p;

	for (p = w->posts; p != NULL; p = p->next)
		if (p->easy == NULL && p->due < first)
			first = p->due;
	if (first == UINT64_MAX) {
		uv_timer_stop(&w->retry_timer);
		return;
	}
	uv_timer_start(&w->retry_timer, on_retry, first > now ? first - now : 0,
		       0);
}

/* --- the body --- */

/* "2006-01-02T15:04:05.000Z". */
static void rfc3339(uint64_t ms, char out[32])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out + strlen(out), 32 - strlen(out), ".%03uZ",
		 (unsigned)(ms % 1000));
}

/* Why hc is in its current state, when t is its latest transition: the
 * newest vote of a member agreeing with the status, or the basis of the
 * decision when no vote decided it. NULL when unknown. */
static const char *transition_reason(const struct control_fsm_transition *t,
				     const struct control_fsm_health_check *hc)
{
	const char *why = NULL;
	uint64_t newest = 0;

	if (hc->transition_index != t->index || hc->healthy != t->healthy)
		return NULL; /* superseded within the same loop turn */
	if (hc->decision.basis != HEALTH_VOTE_QUORUM)
		return health_vote_basis_name(hc->decision.basis);
	for (size_t i = 0; i < hc->n_votes; i++) {
		if (hc->votes[i].healthy != t->healthy ||
		    hc->votes[i].log_index < newest)
			continue;
		newest = hc->votes[i].log_index;
		why = hc->reasons[i];
	}
	return why != NULL && why[0] != '\0' ? why : NULL;
}

static char *transition_body(const struct webhook_node *n,
			     const struct control_fsm_transition *t,
			     const struct control_fsm_health_check *hc)
{
	const char *reason = transition_reason(t, hc);
	char when[32], node[32];
	json_t *o;
	char *text;

	rfc3339(t->time_ms, when);
	if (n->name == NULL || n->name[0] == '\0')
		snprintf(node, sizeof(node), "%" PRIu64, n->id);
	o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "HealthCheckId", t->check_id,
		      "Status", t->healthy ? "Healthy" : "Unhealthy", "Index",
		      (json_int_t)t->index, "Time", when, "Node",
		      n->name != NULL && n->name[0] != '\0' ? n->name : node);
	if (o == NULL)
		return NULL;
	if (reason != NULL &&
	    json_object_set_new(o, "Reason", json_string(reason)) != 0) {
		json_decref(o);
		return NULL;
	}
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

/* Queues and starts the POST of t. 0 or Q53_ENOMEM. */
static int webhook_fire(struct webhook *w,
			const struct control_fsm_transition *t,
			const struct control_fsm_health_check *hc)
{
	struct webhook_post *p = calloc(1, sizeof(*p));
	int rv = Q53_ENOMEM;

	if (p == NULL)
		return Q53_ENOMEM;
	p->w = w;
	p->index = t->index;
	p->healthy = t->healthy;
	snprintf(p->check_id, sizeof(p->check_id), "%s", t->check_id);
	p->url = strdup(hc->config->webhook_url);
	p->body = transition_body(w->n, t, hc);
	if (p->url == NULL || p->body == NULL)
		goto err;
	p->next = w->posts;
	if (w->posts != NULL)
		w->posts->prev = p;
	w->posts = p;
	w->n_posts++;
	rv = post_attempt(p);
	if (rv != 0) {
		post_free(p);
		return rv;
	}
	return 0;
err:
	free(p->url);
	free(p->body);
	free(p);
	return rv;
}

/* --- --alarm-exec --- */

static void alarm_proc_closed(uv_handle_t *h)
{
	struct alarm_proc *a = h->data;
	struct webhook *w = a->w;

	for (unsigned i = 0; i < CN_ALARM_EXEC_MAX; i++)
		if (w->procs[i] == a)
			w->procs[i] = NULL;
	free(a);
	w->n_procs--;
	w->open--;
	webhook_maybe_free(w);
}

static void alarm_proc_exit(uv_process_t *proc, int64_t status, int sig)
{
	struct alarm_proc *a = proc->data;
	struct webhook_node *n = a->w->n;

	if (status == 0 && sig == 0) {
		cn_wlog(n,
			"health check %s: alarm command for index %" PRIu64
			" done",
			a->check_id, a->index);
		alarm_outcome_at(n, a->check_id, a->index, a->healthy, 1,
				 "exec", "delivered");
	} else {
		cn_wlog(n,
			"health check %s: alarm command for index %" PRIu64
			" failed (exit %lld, signal %d)",
			a->check_id, a->index, (long long)status, sig);
		alarm_outcome_at(n, a->check_id, a->index, a->healthy, 1,
				 "exec", "failed");
	}
	uv_close((uv_handle_t *)proc, alarm_proc_closed);
}

/* Runs --alarm-exec for t (not waited for: its exit is logged). */
static void alarm_exec_fire(struct webhook *w,
			    const struct control_fsm_transition *t,
			    const struct control_fsm_health_check *hc)
{
	struct webhook_node *n = w->n;
	char when[32], e_id[96], e_status[32], e_index[48], e_time[48];
	char e_node[160];
	char *body = transition_body(n, t, hc), *e_json = NULL;
	struct alarm_proc *a = NULL;
	int rv;

	if (w->n_procs >= CN_ALARM_EXEC_MAX) {
		cn_wlog(n,
			"health check %s: alarm command for index %" PRIu64
			" dropped: %d running",
			t->check_id, t->index, CN_ALARM_EXEC_MAX);
		alarm_outcome_at(n, t->check_id, t->index, t->healthy, 0,
				 "exec", "dropped");
		free(body);
		return;
	}
	rfc3339(t->time_ms, when);
	snprintf(e_id, sizeof(e_id), "Q53_HEALTH_CHECK_ID=%s", t->check_id);
	snprintf(e_status, sizeof(e_status), "Q53_STATUS=%s",
		 t->healthy ? "Healthy" : "Unhealthy");
	snprintf(e_index, sizeof(e_index), "Q53_INDEX=%" PRIu64, t->index);
	snprintf(e_time, sizeof(e_time), "Q53_TIME=%s", when);
	snprintf(e_node, sizeof(e_node), "Q53_NODE=%.128s", n->name);
	if (body != NULL && (e_json = malloc(strlen(body) + 16)) != NULL)
		sprintf(e_json, "Q53_ALARM_JSON=%s", body);
	a = calloc(1, sizeof(*a));
	if (a == NULL || e_json == NULL) {
		cn_wlog(n,
			"health check %s: alarm command dropped: out of "
			"memory",
			t->check_id);
		alarm_outcome_at(n, t->check_id, t->index, t->healthy, 0,
				 "exec", "dropped");
		goto out;
	}
	char *args[] = {"/bin/sh", "-c", n->alarm_exec, NULL};
	char *env[] = {e_id,
		       e_status,
		       e_index,
		       e_time,
		       e_node,
		       e_json,
		       "PATH=/usr/bin:/bin",
		       NULL};
	uv_stdio_container_t stdio[3] = {
	    {.flags = UV_IGNORE},
	    {.flags = UV_INHERIT_FD, .data.fd = 2},
	    {.flags = UV_INHERIT_FD, .data.fd = 2}};
	uv_process_options_t opt = {
	    .exit_cb = alarm_proc_exit,
	    .file = "/bin/sh",
	    .args = args,
	    .env = env,
	    .stdio_count = 3,
	    .stdio = stdio,
	};
	a->w = w;
	a->index = t->index;
	a->healthy = t->healthy;
	snprintf(a->check_id, sizeof(a->check_id), "%s", t->check_id);
	a->proc.data = a;
	rv = uv_spawn(n->loop, &a->proc, &opt);
	if (rv != 0) {
		cn_wlog(n, "health check %s: alarm command: %s", t->check_id,
			uv_strerror(rv));
		alarm_outcome_at(n, t->check_id, t->index, t->healthy, 1,
				 "exec", "failed");
		/* uv_spawn failed: the handle still needs closing */
		w->n_procs++;
		w->open++;
		uv_close((uv_handle_t *)&a->proc, alarm_proc_closed);
		a = NULL;
		goto out;
	}
	w->n_procs++;
	w->open++;
	for (unsigned i = 0; i < CN_ALARM_EXEC_MAX; i++)
		if (w->procs[i] == NULL) {
			w->procs[i] = a;
			break;
		}
	a = NULL;
out:
	free(a);
	free(body);
	free(e_json);
}

/* --- API (webhook.h) --- */

void webhook_history(const struct webhook *hook,
		     void (*fn)(void *ctx, const struct webhook_alarm *a),
		     void *ctx)
{
	const struct webhook_node *n = hook->n;
	uint64_t first = n->history_next > WEBHOOK_HISTORY_MAX
			     ? n->history_next - WEBHOOK_HISTORY_MAX
			     : 0;
	for (uint64_t i = first; i < n->history_next; i++)
		fn(ctx, &n->history[i % WEBHOOK_HISTORY_MAX]);
}

int webhook_init(struct webhook **out, const struct webhook_config *config)
{
	struct webhook_node *n;
	struct webhook *w;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return Q53_ENOMEM;
	n->ops = config->ops;
	n->on_transition = config->on_transition;
	n->transition_data = config->transition_data;
	n->on_alarm = config->on_alarm;
	n->alarm_data = config->alarm_data;
	if (config->alarm_exec != NULL &&
	    (n->alarm_exec = strdup(config->alarm_exec)) == NULL) {
		free(n);
		return Q53_ENOMEM;
	}
	n->loop = config->ops.loop;
	n->fsm = config->ops.fsm;
	n->id = config->ops.node_id;
	n->name = strdup(config->name != NULL ? config->name : "");

	w = calloc(1, sizeof(*w));
	if (w == NULL || n->name == NULL) {
		free(w);
		free(n->name);
		free(n);
		return Q53_ENOMEM;
	}
	w->n = n;
	if (curl_loop_init(&w->curl, n->loop, webhook_on_curl_done, w) != 0) {
		free(w);
		free(n->name);
		free(n);
		return Q53_ENOMEM;
	}
	/* Timer init on a live loop cannot fail. */
	uv_timer_init(n->loop, &w->retry_timer);
	w->retry_timer.data = w;
	w->open = 2;
	n->webhook = w;
	*out = w;
	return 0;
}

void webhook_after_apply(struct webhook *hook)
{
	struct webhook_node *n = hook->n;
	struct webhook *w = n->webhook;
	struct control_fsm_transitions ts;
	uint64_t now = ids_wall_ms();
	bool leader;

	control_fsm_take_transitions(n->fsm, &ts);
	for (size_t i = 0; n->on_transition != NULL && i < ts.n; i++)
		n->on_transition(n->transition_data, ts.items[i].check_id,
				 ts.items[i].healthy);
	if (w == NULL || w->closing || (ts.n == 0 && ts.dropped == 0))
		goto out;
	leader = cluster_is_leader(&n->ops);
	if (leader && ts.dropped > 0)
		cn_wlog(n, "webhooks: %" PRIu64 " transitions lost (memory)",
			ts.dropped);
	for (size_t i = 0; leader && i < ts.n; i++) {
		const struct control_fsm_transition *t = &ts.items[i];
		struct control_fsm_health_check hc;

		if (control_fsm_health_check_get(n->fsm, t->check_id, &hc) !=
			0 ||
		    (hc.config->webhook_url[0] == '\0' &&
		     n->alarm_exec == NULL))
			continue;
		if (t->time_ms + CN_WEBHOOK_STALE_MS < now) {
			cn_wlog(n,
				"health check %s: transition at index "
				"%" PRIu64 " is stale, webhook not fired",
				t->check_id, t->index);
			continue;
		}
		if (n->alarm_exec != NULL)
			alarm_exec_fire(w, t, &hc);
		if (hc.config->webhook_url[0] == '\0')
			continue;
		if (w->n_posts >= CN_WEBHOOK_PENDING_MAX) {
			cn_wlog(n,
				"health check %s: webhook for index "
				"%" PRIu64 " dropped: %d pending",
				t->check_id, t->index, CN_WEBHOOK_PENDING_MAX);
			continue;
		}
		if (webhook_fire(w, t, &hc) != 0)
			cn_wlog(n,
				"health check %s: webhook for index "
				"%" PRIu64 " dropped: out of memory",
				t->check_id, t->index);
	}
out:
	control_fsm_transitions_clear(&ts);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct webhook *w = h->data;

	w->open--;
	webhook_maybe_free(w);
}

static void on_curl_closed(void *data)
{
	struct webhook *w = data;

	w->open--;
	webhook_maybe_free(w);
}

void webhook_close(struct webhook *hook, void (*done)(void *data), void *data)
{
	struct webhook_node *n = hook->n;
	struct webhook *w = n->webhook;

	n->webhook = NULL;
	w->closing = true;
	w->close_cb = done;
	w->close_data = data;
	w->open++; /* this function's own reference */
	while (w->posts != NULL)
		post_free(w->posts);
	/* Alarm commands still running are told to stop; their exits close
	 * them. */
	for (unsigned i = 0; i < CN_ALARM_EXEC_MAX; i++)
		if (w->procs[i] != NULL)
			uv_process_kill(&w->procs[i]->proc, SIGTERM);
	/* Every easy handle is out. */
	curl_loop_close(w->curl, on_curl_closed, w);
	w->curl = NULL;
	uv_close((uv_handle_t *)&w->retry_timer, on_timer_closed);
	w->open--;
	webhook_maybe_free(w);
}
