/* The health side of a node (see health_votes.h):
 * the node's prober follows the FSM's health checks, its verdicts become
 * HealthVote commands proposed through the leader, and nothing here
 * decides a status: the FSM does, from the committed votes.
 *
 * Votes are edges, not a stream: a node proposes only when its local
 * verdict differs from the vote the FSM holds for it (or from the vote it
 * last got committed while the FSM has not applied it yet), and on the
 * observer's slow refresh. One vote per check is in flight at a time; one
 * that fails (no leader, leader moved, rejected) is tried again after
 * CN_VOTE_RETRY_MS while the node still knows a leader, so a lost vote does
 * not wait for the next verdict change. A node that knows no leader (cut
 * off, election) proposes nothing and serves the last committed health. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/runtime/health_votes.h"
#include "cluster/api_msg.h"
#include "cluster/member_rpc.h"
#include "node/control/control_fsm.h"
#include "node/control/latency_table.h"
#include "node/control/zone_store.h"
#include "node/health/check_config.h"
#include "node/health/observer.h"
#include "node/health/prober.h"
#include "proto/api.pb-c.h"

#define CN_VOTE_RETRY_MS   500
#define CN_VOTE_TIMEOUT_MS 3000
#define CN_VOTE_SCAN_MS	   100 /* the tick looks for votes to retry */
/* Latency routing's measured rows: a node reports its site's RTT to each
 * region at most once per CN_LATENCY_MIN_MS, and only regions whose RTT
 * moved by more than CN_LATENCY_MOVE_PCT percent and CN_LATENCY_MOVE_MS
 * from what the FSM holds for its site (or that it holds none of). */
#define CN_LATENCY_MIN_MS     10000
#define CN_LATENCY_MOVE_PCT   20
#define CN_LATENCY_MOVE_MS    2
#define CN_LATENCY_TIMEOUT_MS 3000

/* This node's view of one FSM health check , kept
 * in the FSM's order (by id). The vote it last got committed (sent_*)
 * is what it compares its verdict with, until the FSM shows that vote;
 * then the FSM's record is the reference. */
struct cn_check {
	char id[CLUSTER_CHECK_ID_MAX + 1];
	uint64_t version; /* config version the prober runs */
	bool probing;	  /* added to the prober (not CALCULATED) */
	bool has_verdict; /* the observer left UNKNOWN */
	bool verdict;	  /* local verdict (Inverted applied) */
	char reason[CLUSTER_REASON_MAX];
	uint64_t observed_ms; /* wall clock of the verdict (change) */
	bool refresh_due;     /* the observer's slow refresh asked a vote */
	bool inflight;	      /* a vote is being committed */
	uint64_t retry_due;   /* uv_now: no vote before this */
	bool sent_ok;	      /* sent_healthy was committed ... */
	bool sent_healthy;
	uint64_t sent_index; /* ... at this FSM index */
	/* the last probe result, for health status */
	char last_reason[CLUSTER_REASON_MAX];
	uint64_t last_ms; /* wall clock, 0 = none yet */
	uint64_t probes;
	/* the last failed probe result */
	char failure_reason[CLUSTER_REASON_MAX];
	uint64_t failure_ms; /* wall clock, 0 = none yet */
	uint64_t votes_sent; /* committed votes of this node */
	/* latency routing: the smoothed connect time of healthy probes,
	 * microseconds; -1 = none yet */
	int64_t rtt_us;
};

struct health_votes {
	struct cluster_ops ops;
	struct member_rpc *rpc;
	void (*on_probe)(void *data, const char *check_id, bool healthy,
			 int64_t connect_us);
	void *probe_data;
	uv_loop_t *loop;
	struct control_fsm *fsm;
	uint64_t id;
	struct health_prober *prober;
	char probe_source[64]; /* host of the raft address, "" = any */
	struct cn_check *checks;
	size_t n_checks;
	uint64_t checks_synced; /* FSM index the checks were synced at */
	bool checks_sync_all;	/* sync even if the index did not move */
	unsigned votes_inflight;
	uint64_t vote_scan_due;	   /* uv_now of the tick's next vote scan */
	uint64_t latency_due;	   /* uv_now: no latency report before */
	uint64_t latency_scan_due; /* uv_now of the next look (1 s) */
	bool latency_inflight;
};

/* A vote on its way (the check may move in n->checks meanwhile). */
struct cn_vote {
	struct health_votes *n;
	char id[CLUSTER_CHECK_ID_MAX + 1];
	bool healthy;
};

#define cn_hlog(n, ...) cluster_log((n)->id, __VA_ARGS__)

static struct cn_check *cn_check_find(struct health_votes *n, const char *id)
{
	size_t lo = 0, hi = n->n_checks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(n->checks[mid].id, id);
		if (c == 0)
			return &n->checks[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int health_votes_observe(const struct health_votes *n, const char *id,
			 struct cluster_check_observation *out)
{
	const struct cn_check *c = cn_check_find((struct health_votes *)n, id);
	struct health_observer obs;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return Q53_ENOENT;
	if (!c->probing)
		return 0;
	out->probing = true;
	if (n->prober != NULL &&
	    health_prober_observer(n->prober, id, &obs) == 0)
		snprintf(
		    out->state, sizeof(out->state), "%s",
		    health_observer_state_name(health_observer_state(&obs)));
	snprintf(out->reason, sizeof(out->reason), "%s", c->last_reason);
	out->observed_ms = c->last_ms;
	out->probes = c->probes;
	snprintf(out->failure_reason, sizeof(out->failure_reason), "%s",
		 c->failure_reason);
	out->failure_ms = c->failure_ms;
	return 0;
}

/* --- votes ------------------------------------------------------------------
 */

static void cn_vote_finish(struct cn_vote *v, bool committed, uint64_t index)
{
	struct health_votes *n = v->n;
	struct cn_check *c = cn_check_find(n, v->id);

	n->votes_inflight--;
	if (c != NULL) {
		c->inflight = false;
		if (committed) {
			c->sent_ok = true;
			c->sent_healthy = v->healthy;
			c->sent_index = index;
			c->votes_sent++;
			if (c->has_verdict && c->verdict == v->healthy)
				c->refresh_due = false;
		} else {
			c->retry_due = uv_now(n->loop) + CN_VOTE_RETRY_MS;
		}
	}
	free(v);
}

static void cn_vote_done(struct proposal *s, int status,
			 const struct q53_fsm_log_result *res)
{
	struct cn_vote *v = s->arg;
	bool ok = status == 0 &&
		  (res->status == Q53_FSM_LOG_APPLIED ||
		   res->status == Q53_FSM_LOG_DUPLICATE) &&
		  res->code == 0;

	/* The leader's FSM applied it just before this callback. */
	cn_vote_finish(v, ok, ok ? control_fsm_applied(v->n->fsm) : 0);
}

static void cn_vote_forwarded(void *data, int status, const uint8_t *buf,
			      size_t len)
{
	struct cn_vote *v = data;
	Q53__Api__Response *r = NULL;
	bool ok = false;
	uint64_t index = 0;

	if (status == 0)
		r = q53__api__response__unpack(NULL, len, buf);
	if (r != NULL && r->error[0] == '\0' &&
	    r->body_case == Q53__API__RESPONSE__BODY_HEALTH_VOTE &&
	    r->health_vote != NULL) {
		ok = true;
		index = r->health_vote->index;
	}
	if (r != NULL)
		q53__api__response__free_unpacked(r, NULL);
	cn_vote_finish(v, ok, index);
}

/* Proposes c's verdict: on the leader directly, else through the leader's
 * API. Returns true when a vote is on its way. */
static bool cn_vote_send(struct health_votes *n, struct cn_check *c)
{
	struct cn_vote *v = calloc(1, sizeof(*v));
	const char *leader;
	int rv;

	if (v == NULL)
		return false;
	v->n = n;
	v->healthy = c->verdict;
	memcpy(v->id, c->id, sizeof(v->id));
	if (cluster_is_leader(&n->ops)) {
		struct command_payload p = {0};
		struct command_health_vote cmd = {
		    .member_id = n->id,
		    .check_id = c->id,
		    .healthy = c->verdict,
		    .reason = c->reason,
		    .time_ms = c->observed_ms,
		};
		rv = command_encode_health_vote(&cmd, &p);
		if (rv == 0)
			rv = cluster_propose(&n->ops, &p, NULL, cn_vote_done, v,
					     NULL);
		else
			command_payload_clear(&p);
	} else if ((leader = cluster_leader_api(&n->ops, NULL)) != NULL) {
		Q53__Api__Request req = Q53__API__REQUEST__INIT;
		Q53__Api__HealthVoteRequest hv =
		    Q53__API__HEALTH_VOTE_REQUEST__INIT;
		uint8_t *buf;
		size_t len;

		hv.member_id = n->id;
		hv.check_id = c->id;
		hv.healthy = c->verdict;
		hv.reason = c->reason;
		hv.observed_at_ms = c->observed_ms;
		req.version = API_MSG_VERSION;
		req.body_case = Q53__API__REQUEST__BODY_HEALTH_VOTE;
		req.health_vote = &hv;
		len = q53__api__request__get_packed_size(&req);
		buf = malloc(len + 1);
		if (buf == NULL) {
			free(v);
			return false;
		}
		q53__api__request__pack(&req, buf);
		rv = member_rpc_call(n->rpc, leader, buf, len,
				     CN_VOTE_TIMEOUT_MS, cn_vote_forwarded, v);
		free(buf);
	} else {
		rv = Q53_EINVAL; /* no leader known: not in a quorum */
	}
	if (rv != 0) {
		free(v);
		c->retry_due = uv_now(n->loop) + CN_VOTE_RETRY_MS;
		return false;
	}
	c->inflight = true;
	n->votes_inflight++;
	return true;
}

/* Whether c's verdict differs from what the cluster holds of this node. */
static bool cn_vote_needed(struct health_votes *n, const struct cn_check *c)
{
	struct control_fsm_health_check hc;
	bool have = false, healthy = false;

	if (!c->probing || !c->has_verdict)
		return false;
	if (c->refresh_due)
		return true;
	if (c->sent_ok && control_fsm_applied(n->fsm) < c->sent_index) {
		have = true; /* committed, not applied here yet */
		healthy = c->sent_healthy;
	} else if (control_fsm_health_check_get(n->fsm, c->id, &hc) == 0) {
		for (size_t i = 0; i < hc.n_votes; i++) {
			if (hc.votes[i].member_id == n->id) {
				have = true;
				healthy = hc.votes[i].healthy;
			}
		}
	}
	return !have || healthy != c->verdict;
}

/* Votes where needed, if this node may vote at all: it serves (caught
 * up), is a member (has metadata) and knows a leader. */
static void cn_votes_run(struct health_votes *n, struct cn_check *only)
{
	struct control_fsm_node meta;
	uint64_t now = uv_now(n->loop);

	if (cluster_closing(&n->ops) || !cluster_served(&n->ops) ||
	    control_fsm_node_get(n->fsm, n->id, &meta) != 0)
		return;
	if (!cluster_is_leader(&n->ops) &&
	    cluster_leader_api(&n->ops, NULL) == NULL)
		return;
	for (size_t i = 0; i < n->n_checks; i++) {
		struct cn_check *c = &n->checks[i];
		if (only != NULL && c != only)
			continue;
		if (c->inflight || now < c->retry_due || !cn_vote_needed(n, c))
			continue;
		cn_vote_send(n, c);
	}
}

/* --- the prober -------------------------------------------------------------
 */

static void cn_on_verdict(void *data, const struct health_prober_event *ev)
{
	struct health_votes *n = data;
	struct cn_check *c = cn_check_find(n, ev->check_id);

	if (c == NULL)
		return;
	c->has_verdict = true;
	c->verdict = ev->healthy;
	c->observed_ms = ids_wall_ms();
	snprintf(c->reason, sizeof(c->reason), "%s", ev->reason);
	if (ev->kind == HEALTH_PROBER_REFRESH)
		c->refresh_due = true;
	else
		cn_hlog(n, "health check %s: locally %s (%s)", c->id,
			c->verdict ? "healthy" : "unhealthy", c->reason);
	c->retry_due = 0; /* a new verdict goes out at once */
	cn_votes_run(n, c);
}

static void cn_on_result(void *data, const struct health_prober_event *ev)
{
	struct health_votes *n = data;
	struct cn_check *c = cn_check_find(n, ev->check_id);

	if (c == NULL)
		return;
	if (n->on_probe != NULL)
		n->on_probe(n->probe_data, ev->check_id, ev->healthy,
			    ev->connect_us);
	c->probes++;
	c->last_ms = ids_wall_ms();
	snprintf(c->last_reason, sizeof(c->last_reason), "%s", ev->reason);
	if (ev->healthy && ev->connect_us >= 0)
		c->rtt_us = c->rtt_us < 0
				? ev->connect_us
				: (3 * c->rtt_us + ev->connect_us) / 4;
	if (!ev->healthy) {
		c->failure_ms = c->last_ms;
		snprintf(c->failure_reason, sizeof(c->failure_reason), "%s",
			 ev->reason);
	}
}

/* The host of "tcp://HOST:PORT" if it is an IP literal other than the
 * wildcard, else "". */
static void cn_probe_source(const char *url, char *out, size_t len)
{
	const char *h = strstr(url, "://");
	const char *end;
	char host[64];
	unsigned char bin[16];
	size_t hl;

	out[0] = '\0';
	h = h != NULL ? h + 3 : url;
	if (*h == '[') {
		h++;
		end = strchr(h, ']');
	} else {
		end = strrchr(h, ':');
	}
	if (end == NULL || (hl = (size_t)(end - h)) == 0 || hl >= sizeof(host))
		return;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, bin) == 1) {
		if (strcmp(host, "0.0.0.0") != 0)
			snprintf(out, len, "%s", host);
	} else if (inet_pton(AF_INET6, host, bin) == 1) {
		if (strcmp(host, "::") != 0)
			snprintf(out, len, "%s", host);
	}
}

int health_votes_init(struct health_votes **out,
		      const struct health_votes_config *config, char *err,
		      size_t errlen)
{
	struct health_votes *n = calloc(1, sizeof(*n));
	struct health_prober_options opt = {
	    .on_verdict = cn_on_verdict,
	    .on_result = cn_on_result,
	    .data = n,
	};
	int rv;

	*out = n;
	if (n == NULL) {
		snprintf(err, errlen, "out of memory");
		return Q53_ENOMEM;
	}
	n->ops = config->ops;
	n->rpc = config->rpc;
	n->on_probe = config->on_probe;
	n->probe_data = config->probe_data;
	n->loop = config->ops.loop;
	n->fsm = config->ops.fsm;
	n->id = config->ops.node_id;
	opt.data = n;
	cn_probe_source(config->raft_url, n->probe_source,
			sizeof(n->probe_source));
	opt.source_address = n->probe_source;
	n->checks_sync_all = true;
	rv = health_prober_init(&n->prober, n->loop, &opt);
	if (rv != 0) {
		n->prober = NULL;
		snprintf(err, errlen, "health prober: %s", q53_strerror(rv));
	}
	return rv;
}

int health_votes_start(struct health_votes *n)
{
	int rv = health_prober_start(n->prober);

	health_votes_after_apply(n);
	return rv;
}

static void cn_check_prober_add(struct health_votes *n, struct cn_check *c,
				const struct control_fsm_health_check *hc)
{
	int rv;

	c->version = hc->version;
	c->probing = false;
	c->has_verdict = false;
	c->refresh_due = false;
	c->probes = 0;
	c->last_ms = 0;
	c->last_reason[0] = '\0';
	c->rtt_us = -1;
	if (hc->config->type == HEALTH_CHECK_CALCULATED)
		return; /* decided from its children, never probed */
	rv = health_prober_add(n->prober, c->id, hc->config);
	if (rv != 0) {
		cn_hlog(n, "health check %s: cannot probe: %s", c->id,
			q53_strerror(rv));
		return;
	}
	c->probing = true;
}

/* Makes n->checks follow the FSM's checks (both sorted by id): new ones
 * are added to the prober, a new config version re-adds, gone ones are
 * removed. */
static void cn_checks_sync(struct health_votes *n)
{
	size_t total = control_fsm_health_check_count(n->fsm);
	struct cn_check *next = calloc(total + 1, sizeof(*next));
	size_t i = 0, k = 0;

	if (next == NULL) {
		n->checks_sync_all = true; /* try again next turn */
		return;
	}
	while (i < total || k < n->n_checks) {
		struct control_fsm_health_check hc;
		int cmp;

		if (i < total &&
		    control_fsm_health_check_at(n->fsm, i, &hc) != 0) {
			i++;
			continue;
		}
		cmp = i >= total	 ? 1
		      : k >= n->n_checks ? -1
					 : strcmp(hc.id, n->checks[k].id);
		if (cmp > 0) { /* gone from the FSM */
			if (n->checks[k].probing)
				health_prober_remove(n->prober,
						     n->checks[k].id);
			k++;
			continue;
		}
		struct cn_check *c = &next[i];
		if (cmp == 0) {
			*c = n->checks[k++];
			if (c->version != hc.version) {
				if (c->probing)
					health_prober_remove(n->prober, c->id);
				cn_check_prober_add(n, c, &hc);
			}
		} else {
			snprintf(c->id, sizeof(c->id), "%s", hc.id);
			cn_check_prober_add(n, c, &hc);
		}
		i++;
	}
	free(n->checks);
	n->checks = next;
	n->n_checks = total;
}

void health_votes_after_apply(struct health_votes *n)
{
	uint64_t applied = control_fsm_applied(n->fsm);

	if (n->prober == NULL || cluster_closing(&n->ops))
		return;
	if (!n->checks_sync_all && applied == n->checks_synced)
		return;
	n->checks_sync_all = false;
	n->checks_synced = applied;
	cn_checks_sync(n);
}

/* --- latency routing: measured rows -----------------------------------------
 */

static void cn_latency_finish(struct health_votes *n)
{
	n->latency_inflight = false;
}

static void cn_latency_done(struct proposal *s, int status,
			    const struct q53_fsm_log_result *res)
{
	(void)status;
	(void)res;
	cn_latency_finish(s->arg);
}

static void cn_latency_forwarded(void *data, int status, const uint8_t *buf,
				 size_t len)
{
	(void)status;
	(void)buf;
	(void)len;
	cn_latency_finish(data);
}

/* This node's measured RTT to each region of a latency record set with a
 * health check that the prober probes (the lowest of the region's
 * checks), rounded to milliseconds (at least 1). Returns how many. */
static size_t cn_latency_measure(struct health_votes *n,
				 struct latency_rtt *out)
{
	const struct zone_store *s = control_fsm_zone_store(n->fsm);
	struct zone_store_info info;
	size_t m = 0;

	for (size_t z = 0; zone_store_get_at(s, z, &info) == 0; z++) {
		if (zone_store_latency_count(s, z) == 0)
			continue;
		for (size_t k = 0; k < info.nrrsets; k++) {
			const struct zone_store_rrset *r =
			    zone_store_info_rrset(&info, k);
			const char *region = zone_store_rrset_region(r);
			const char *hc = zone_store_rrset_health_check(r);
			const struct cn_check *c = region != NULL && hc != NULL
						       ? cn_check_find(n, hc)
						       : NULL;
			if (c == NULL || !c->probing || c->rtt_us < 0)
				continue;
			uint32_t ms = (uint32_t)((c->rtt_us + 999) / 1000);
			if (ms == 0)
				ms = 1;
			if (ms > LATENCY_RTT_MAX)
				ms = LATENCY_RTT_MAX;
			size_t j = 0;
			while (j < m && strcmp(out[j].region, region) != 0)
				j++;
			if (j == m) {
				if (m == LATENCY_ROW_REGIONS)
					continue;
				snprintf(out[m].region, sizeof(out[m].region),
					 "%s", region);
				out[m++].rtt_ms = ms;
			} else if (ms < out[j].rtt_ms) {
				out[j].rtt_ms = ms;
			}
		}
	}
	return m;
}

/* Whether the FSM's row of site should take v (moved enough, or absent). */
static bool cn_latency_moved(const struct latency_site *row,
			     const struct latency_rtt *v)
{
	uint32_t old;
	if (row == NULL || !latency_rtt_of(row->rtt, row->n, v->region, &old))
		return true;
	uint32_t d = v->rtt_ms > old ? v->rtt_ms - old : old - v->rtt_ms;
	return d > CN_LATENCY_MOVE_MS && d * 100 > old * CN_LATENCY_MOVE_PCT;
}

/* Reports what moved, when this node has a site, may vote and is due. */
static void cn_latency_run(struct health_votes *n, uint64_t now)
{
	struct control_fsm_node meta;
	struct latency_rtt rtt[LATENCY_ROW_REGIONS];
	const char *region;
	const char *site = control_fsm_site(n->fsm, &region);
	const char *leader = NULL;
	int rv;

	if (site[0] == '\0' || n->latency_inflight || now < n->latency_due ||
	    now < n->latency_scan_due || cluster_closing(&n->ops) ||
	    !cluster_served(&n->ops) ||
	    control_fsm_node_get(n->fsm, n->id, &meta) != 0)
		return;
	if (!cluster_is_leader(&n->ops) &&
	    (leader = cluster_leader_api(&n->ops, NULL)) == NULL)
		return;
	n->latency_scan_due = now + 1000;
	size_t m = cn_latency_measure(n, rtt), k = 0;
	const struct latency_site *row =
	    latency_table_site(control_fsm_latency(n->fsm), site);
	for (size_t i = 0; i < m; i++)
		if (cn_latency_moved(row, &rtt[i]))
			rtt[k++] = rtt[i];
	if (k == 0)
		return;
	n->latency_due = now + CN_LATENCY_MIN_MS;
	if (leader == NULL) {
		struct command_payload p = {0};
		struct command_latency_samples cmd = {.node_id = n->id,
						      .site = site,
						      .rtt = rtt,
						      .n = k,
						      .time_ms = ids_wall_ms()};
		rv = command_encode_latency_samples(&cmd, &p);
		if (rv == 0)
			rv = cluster_propose(&n->ops, &p, NULL, cn_latency_done,
					     n, NULL);
		else
			command_payload_clear(&p);
	} else {
		Q53__Api__Request req = Q53__API__REQUEST__INIT;
		Q53__Api__LatencySamplesRequest ls =
		    Q53__API__LATENCY_SAMPLES_REQUEST__INIT;
		char *regions[LATENCY_ROW_REGIONS];
		uint32_t ms[LATENCY_ROW_REGIONS];
		for (size_t i = 0; i < k; i++) {
			regions[i] = rtt[i].region;
			ms[i] = rtt[i].rtt_ms;
		}
		ls.node_id = n->id;
		ls.site = (char *)site;
		ls.regions = regions;
		ls.n_regions = k;
		ls.rtt_ms = ms;
		ls.n_rtt_ms = k;
		ls.measured_at_ms = ids_wall_ms();
		req.version = API_MSG_VERSION;
		req.body_case = Q53__API__REQUEST__BODY_LATENCY_SAMPLES;
		req.latency_samples = &ls;
		size_t len = q53__api__request__get_packed_size(&req);
		uint8_t *buf = malloc(len + 1);
		if (buf == NULL)
			return;
		q53__api__request__pack(&req, buf);
		rv = member_rpc_call(n->rpc, leader, buf, len,
				     CN_LATENCY_TIMEOUT_MS,
				     cn_latency_forwarded, n);
		free(buf);
	}
	if (rv == 0)
		n->latency_inflight = true;
	else
		cn_hlog(n, "latency samples: cannot propose: %s",
			q53_strerror(rv));
}

void health_votes_tick(struct health_votes *n)
{
	uint64_t now = uv_now(n->loop);

	if (n->prober == NULL || cluster_closing(&n->ops) ||
	    now < n->vote_scan_due)
		return;
	n->vote_scan_due = now + CN_VOTE_SCAN_MS;
	cn_votes_run(n, NULL);
	cn_latency_run(n, now);
}

void health_votes_close(struct health_votes *n, void (*done)(void *data),
			void *data)
{
	struct health_prober *p = n->prober;

	n->prober = NULL;
	if (p == NULL) {
		done(data);
		return;
	}
	health_prober_close(p, done, data);
}

void health_votes_free(struct health_votes *n)
{
	if (n == NULL)
		return;
	free(n->checks);
	free(n);
}
