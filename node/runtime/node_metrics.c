#include "node/runtime/node_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/api/route53/rest.h"
#include "node/common/errcode.h"
#include "node/common/prom_text.h"
#include "node/control/control_fsm.h"
#include "node/dns/dns_stats.h"

/* Checks followed here at most; probes of more are not counted. */
#define NM_CHECKS_MAX 4096

/* Probe connect time buckets (seconds). */
static const double nm_probe_bounds[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

struct nm_check {
	char id[CLUSTER_CHECK_ID_MAX + 1];
	uint64_t probes[2];	 /* [healthy] */
	uint64_t transitions[2]; /* [to healthy] */
	uint64_t alarms[2][3];	 /* [exec][delivered, failed, dropped] */
	struct prom_hist connect;
};

struct node_metrics {
	struct cluster_ops ops;
	struct nm_check *checks;
	size_t n_checks, cap;
};

int node_metrics_new(struct node_metrics **out, const struct cluster_ops *ops)
{
	struct node_metrics *m = calloc(1, sizeof(*m));

	*out = m;
	if (m == NULL)
		return Q53_ENOMEM;
	m->ops = *ops;
	return 0;
}

void node_metrics_free(struct node_metrics *m)
{
	if (m == NULL)
		return;
	free(m->checks);
	free(m);
}

static struct nm_check *nm_check(struct node_metrics *m, const char *id,
				 bool add)
{
	for (size_t i = 0; i < m->n_checks; i++)
		if (strcmp(m->checks[i].id, id) == 0)
			return &m->checks[i];
	if (!add || m->n_checks == NM_CHECKS_MAX ||
	    strlen(id) > CLUSTER_CHECK_ID_MAX)
		return NULL;
	if (m->n_checks == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct nm_check *c = realloc(m->checks, cap * sizeof(*c));
		if (c == NULL)
			return NULL;
		m->checks = c;
		m->cap = cap;
	}
	struct nm_check *c = &m->checks[m->n_checks++];
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->connect.bounds_s = nm_probe_bounds;
	c->connect.n = sizeof(nm_probe_bounds) / sizeof(nm_probe_bounds[0]) + 1;
	return c;
}

void node_metrics_on_probe(void *data, const char *check_id, bool healthy,
			   int64_t connect_us)
{
	struct nm_check *c = nm_check(data, check_id, true);
	if (c == NULL)
		return;
	c->probes[healthy]++;
	if (connect_us >= 0)
		prom_hist_observe(&c->connect, (double)connect_us / 1e6);
}

void node_metrics_on_transition(void *data, const char *check_id, bool healthy)
{
	struct nm_check *c = nm_check(data, check_id, true);
	if (c != NULL)
		c->transitions[healthy]++;
}

void node_metrics_on_alarm(void *data, const char *check_id, const char *target,
			   const char *result)
{
	struct nm_check *c = nm_check(data, check_id, true);
	if (c == NULL)
		return;
	int r = strcmp(result, "delivered") == 0 ? 0
		: strcmp(result, "failed") == 0	 ? 1
						 : 2;
	c->alarms[strcmp(target, "exec") == 0][r]++;
}

static void nm_family(FILE *out, const char *name, const char *type,
		      const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void nm_raft(struct node_metrics *m, const struct raft_host_stats *rs,
		    FILE *out)
{
	struct cluster_raft_status st;
	m->ops.status(m->ops.data, &st);
	nm_family(out, "q53_raft_term", "gauge", "Raft's current term.");
	fprintf(out, "q53_raft_term %llu\n", (unsigned long long)st.term);
	nm_family(out, "q53_raft_commit_index", "gauge",
		  "Raft's commit index as this node knows it.");
	fprintf(out, "q53_raft_commit_index %llu\n",
		(unsigned long long)st.commit_index);
	nm_family(out, "q53_raft_applied_index", "gauge",
		  "The last log index applied to this node's FSM.");
	fprintf(out, "q53_raft_applied_index %llu\n",
		(unsigned long long)rs->applied_index);
	nm_family(out, "q53_raft_served_index", "gauge",
		  "The FSM index of the serving view DNS answers from.");
	fprintf(out, "q53_raft_served_index %llu\n",
		(unsigned long long)cluster_served(&m->ops));
	nm_family(out, "q53_raft_leader", "gauge",
		  "1 when this node is the leader.");
	fprintf(out, "q53_raft_leader %d\n",
		cluster_is_leader(&m->ops) ? 1 : 0);
	nm_family(out, "q53_raft_nodes", "gauge",
		  "Servers in raft's configuration.");
	fprintf(out, "q53_raft_nodes %u\n", st.nodes);
	nm_family(out, "q53_raft_quorum_contact", "gauge",
		  "1 while in contact with a quorum (leader) or the leader.");
	fprintf(out, "q53_raft_quorum_contact %d\n", st.quorum_contact ? 1 : 0);
	nm_family(out, "q53_raft_leader_changes_total", "counter",
		  "A new leader seen by this node.");
	fprintf(out, "q53_raft_leader_changes_total %llu\n",
		(unsigned long long)rs->leader_changes);
	nm_family(
	    out, "q53_raft_proposal_seconds", "histogram",
	    "This node's proposals (as leader), from propose to applied.");
	if (rs->proposal_seconds != NULL)
		prom_write_histogram(out, "q53_raft_proposal_seconds", "",
				     rs->proposal_seconds->bounds_s,
				     rs->proposal_seconds->counts,
				     rs->proposal_seconds->n,
				     rs->proposal_seconds->sum_s);
	nm_family(out, "q53_raft_snapshots_taken_total", "counter",
		  "Snapshots this node took.");
	fprintf(out, "q53_raft_snapshots_taken_total %llu\n",
		(unsigned long long)rs->snapshots_taken);
	nm_family(out, "q53_raft_snapshot_bytes_total", "counter",
		  "Bytes of every snapshot this node took, encoded.");
	fprintf(out, "q53_raft_snapshot_bytes_total %llu\n",
		(unsigned long long)rs->snapshot_bytes_total);
	nm_family(out, "q53_raft_snapshot_last_bytes", "gauge",
		  "Size of the last snapshot this node took.");
	fprintf(out, "q53_raft_snapshot_last_bytes %llu\n",
		(unsigned long long)rs->snapshot_bytes_last);
	nm_family(out, "q53_raft_snapshots_installed_total", "counter",
		  "Snapshots restored (at boot, or sent by the leader).");
	fprintf(out, "q53_raft_snapshots_installed_total %llu\n",
		(unsigned long long)rs->snapshots_installed);
	nm_family(out, "q53_raft_snapshot_installed_last_bytes", "gauge",
		  "Size of the last snapshot restored.");
	fprintf(out, "q53_raft_snapshot_installed_last_bytes %llu\n",
		(unsigned long long)rs->snapshot_installed_bytes_last);
}

static void nm_label(FILE *out, const char *id)
{
	fputs("{health_check_id=\"", out);
	prom_write_label(out, id);
	fputs("\"", out);
}

static void nm_health(struct node_metrics *m, FILE *out)
{
	const struct control_fsm *f = m->ops.fsm;
	size_t n = control_fsm_health_check_count(f);

	nm_family(out, "q53_health_check_healthy", "gauge",
		  "The decided (replicated) status: 1 healthy.");
	for (size_t i = 0; i < n; i++) {
		struct control_fsm_health_check hc;
		if (control_fsm_health_check_at(f, i, &hc) != 0)
			continue;
		fputs("q53_health_check_healthy", out);
		nm_label(out, hc.id);
		fprintf(out, "} %d\n", hc.healthy ? 1 : 0);
	}
	nm_family(out, "q53_health_check_observed_healthy", "gauge",
		  "This node's own observation: 1 healthy, 0 unhealthy "
		  "(absent: not probed here, or no verdict yet).");
	for (size_t i = 0; i < n; i++) {
		struct control_fsm_health_check hc;
		struct cluster_check_observation ob;
		if (control_fsm_health_check_at(f, i, &hc) != 0 ||
		    m->ops.observe_check(m->ops.data, hc.id, &ob) != 0 ||
		    !ob.probing)
			continue;
		bool up = strcmp(ob.state, "HEALTHY") == 0;
		if (!up && strcmp(ob.state, "UNHEALTHY") != 0)
			continue;
		fputs("q53_health_check_observed_healthy", out);
		nm_label(out, hc.id);
		fprintf(out, "} %d\n", up ? 1 : 0);
	}
	/* Checks deleted since: forgotten. */
	for (size_t i = 0; i < m->n_checks;) {
		struct control_fsm_health_check hc;
		if (control_fsm_health_check_get(f, m->checks[i].id, &hc) != 0)
			m->checks[i] = m->checks[--m->n_checks];
		else
			i++;
	}
	nm_family(out, "q53_health_check_probes_total", "counter",
		  "Probes this node ran, by result (before Inverted).");
	for (size_t i = 0; i < m->n_checks; i++)
		for (int r = 0; r < 2; r++) {
			fputs("q53_health_check_probes_total", out);
			nm_label(out, m->checks[i].id);
			fprintf(out, ",result=\"%s\"} %llu\n",
				r ? "healthy" : "unhealthy",
				(unsigned long long)m->checks[i].probes[r]);
		}
	nm_family(out, "q53_health_check_probe_connect_seconds", "histogram",
		  "This node's probes' connect time (TCP connect; HTTP(S): "
		  "libcurl's, without the name lookup).");
	for (size_t i = 0; i < m->n_checks; i++) {
		const struct nm_check *c = &m->checks[i];
		char *labels = NULL;
		size_t ll = 0;
		FILE *lf = open_memstream(&labels, &ll);
		if (lf == NULL)
			continue;
		fputs("health_check_id=\"", lf);
		prom_write_label(lf, c->id);
		fputs("\"", lf);
		fclose(lf);
		prom_write_histogram(
		    out, "q53_health_check_probe_connect_seconds", labels,
		    c->connect.bounds_s, c->connect.counts, c->connect.n,
		    c->connect.sum_s);
		free(labels);
	}
	nm_family(out, "q53_health_check_transitions_total", "counter",
		  "Decided transitions this node applied, by the new status.");
	for (size_t i = 0; i < m->n_checks; i++)
		for (int r = 0; r < 2; r++) {
			fputs("q53_health_check_transitions_total", out);
			nm_label(out, m->checks[i].id);
			fprintf(
			    out, ",to=\"%s\"} %llu\n",
			    r ? "healthy" : "unhealthy",
			    (unsigned long long)m->checks[i].transitions[r]);
		}
	static const char *const targets[] = {"webhook", "exec"};
	static const char *const results[] = {"delivered", "failed", "dropped"};
	nm_family(out, "q53_health_check_alarms_total", "counter",
		  "Alarms this node sent as leader (webhook POSTs after "
		  "their retries, --alarm-exec commands), by outcome.");
	for (size_t i = 0; i < m->n_checks; i++)
		for (int t = 0; t < 2; t++)
			for (int r = 0; r < 3; r++) {
				if (m->checks[i].alarms[t][r] == 0)
					continue;
				fputs("q53_health_check_alarms_total", out);
				nm_label(out, m->checks[i].id);
				fprintf(out,
					",target=\"%s\",result=\"%s\"} "
					"%llu\n",
					targets[t], results[r],
					(unsigned long long)m->checks[i]
					    .alarms[t][r]);
			}
}

static void nm_api_count(void *ctx, const char *operation, unsigned status,
			 unsigned long long n)
{
	FILE *out = ctx;
	fputs("q53_api_requests_total{operation=\"", out);
	prom_write_label(out, operation);
	fprintf(out, "\",status=\"%u\"} %llu\n", status, n);
}

char *node_metrics_render(struct node_metrics *m,
			  const struct node_metrics_sources *src, size_t *len)
{
	char *text = NULL;
	FILE *out = open_memstream(&text, len);

	if (out == NULL)
		return NULL;
	if (src->dns != NULL && dns_stats_render(src->dns, out) != 0) {
		fclose(out);
		free(text);
		return NULL;
	}
	nm_raft(m, &src->raft, out);
	nm_health(m, out);
	nm_family(out, "q53_api_requests_total", "counter",
		  "HTTP API requests answered, by operation and status.");
	if (src->rest != NULL)
		route53_rest_counts(src->rest, nm_api_count, out);
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
