/* GET /metrics of a node (Prometheus text format 0.0.4): the DNS
 * workers' counters (node/dns/dns_stats.h), raft (term, commit and applied
 * index, leader changes, proposal latency, snapshots), the health checks
 * (decided status, this node's observation, probe connect-time
 * histogram, probes, transitions) and the HTTP API's requests by
 * operation and status. Names zones and health checks, never records.
 *
 * This module keeps what no other module counts (per check: probes,
 * their histogram, transitions), fed by the hooks cluster_node.c wires
 * (health_votes_config.on_probe, webhook_config.on_transition); the rest
 * is read from the sources handed to node_metrics_render. Loop thread
 * only. */
#ifndef Q53_NODE_RUNTIME_NODE_METRICS_H
#define Q53_NODE_RUNTIME_NODE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/runtime/cluster_ops.h"
#include "node/runtime/raft_host.h"

struct dns_stats;
struct node_metrics;
struct route53_rest;

/* 0 or Q53_ENOMEM. ops is copied (the FSM, status and observations). */
int node_metrics_new(struct node_metrics **out, const struct cluster_ops *ops);
void node_metrics_free(struct node_metrics *m);

/* The hooks (health_votes_config.on_probe, webhook_config.on_transition;
 * data: the node_metrics). */
void node_metrics_on_probe(void *data, const char *check_id, bool healthy,
			   int64_t connect_us);
void node_metrics_on_transition(void *data, const char *check_id, bool healthy);
/* webhook_config.on_alarm: an alarm's outcome. */
void node_metrics_on_alarm(void *data, const char *check_id, const char *target,
			   const char *result);

struct node_metrics_sources {
	const struct dns_stats *dns;	 /* NULL: not counted */
	const struct route53_rest *rest; /* NULL: none */
	struct raft_host_stats raft;
};

/* The whole text (malloc'd, NUL-terminated, *len without the NUL), NULL
 * when out of memory. */
char *node_metrics_render(struct node_metrics *m,
			  const struct node_metrics_sources *src, size_t *len);

#endif
