/* A q53d node: composes the runtime's modules on the one libuv loop given
 * to cluster_node_init (house style #9), each owning its own state and
 * given a struct cluster_ops (node/runtime/cluster_ops.h) at init:
 *
 *   raft_host       raft over q53_raft_io, fsm_log + control FSM, proposals
 *   view_publisher  coalesced rebuild + publication of the serving view
 *   api_edge        the client API (node/api/): zone and health requests,
 *                   write routing to the leader, change tracking (INSYNC)
 *   membership      configuration changes, join, own metadata
 *   zone_seed       --zone seeds, resumable
 *   health_votes    the prober and this node's HealthVotes
 *   webhook         health-check webhooks from the leader
 *
 * This file only wires them: the ops table, the loop turn (uv_check: views,
 * webhooks, health, join catch-up, commit barrier), the tick (waiting
 * writes, membership, seeds, votes) and the lifecycle.
 *
 * Boot: an empty data dir without a join address bootstraps a one-node
 * cluster (and seeds the --zone files through the log once leader); an
 * empty data dir with a join address asks that member's API to add this
 * node (retrying with back-off) and serves only once caught up; a data dir
 * with raft state restarts from raft_uv (snapshot + log tail).
 *
 * Writes (client API) are acknowledged after commit: a request whose
 * raft_apply failed after it was proposed is answered as "may or may not
 * have been applied" (not retryable) rather than re-proposed.
 *
 * Lifecycle (house style #10): cluster_node_init -> cluster_node_start ->
 * cluster_node_close(cb); memory is freed before cb runs. */
#ifndef Q53_NODE_RUNTIME_CLUSTER_NODE_H
#define Q53_NODE_RUNTIME_CLUSTER_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "node/api/http_server.h"
#include "node/runtime/cluster_ops.h"
#include "node/runtime/zone_seed.h"

struct cluster_node;

struct geo_db;

struct cluster_node_config {
	uint64_t id;		   /* >= 1 */
	const char *data_dir;	   /* raft_uv directory, must exist */
	const char *raft_address;  /* HOST:PORT to listen on for raft */
	const char *api_address;   /* HOST:PORT for the client API */
	const char *dns_address;   /* shown in node metadata; "" = none */
	const char *http_address;  /* Route 53 REST API, NULL = none */
	const char *http_keys;	   /* its access keys file */
	const char *http_tls_cert; /* PEM files for HTTPS, NULL = plain */
	const char *http_tls_key;
	bool http_insecure; /* plain HTTP on a non-loopback address */
	struct http_server_limits http_limits; /* copied; 0s: defaults */
	/* MAX_RRSETS_BY_ZONE of zones created through the API (Route 53's
	 * 10,000 unless set; 0: none). */
	bool zone_record_limit_set;
	uint64_t zone_record_limit;
	/* Mutual TLS between members (node/common/peer_tls.h): the cluster
	 * CA and this node's certificate and key, PEM files; all three or
	 * none (NULL: plain TCP, which q53 status flags as insecure). */
	const char *peer_tls_ca;
	const char *peer_tls_cert;
	const char *peer_tls_key;
	/* plain TCP between members on a non-loopback raft address */
	bool peer_insecure;
	/* Raft and NNG API listeners: connections at most (each), and how
	 * long a connection may stay without a message; 0 = 1024, 10000 ms */
	unsigned peer_max_connections;
	unsigned peer_idle_ms;
	const char *join; /* any member's API HOST:PORT, NULL = none */
	const char *name; /* node name, NULL = "node<ID>" */
	/* SHA-256 of the --geoip file (hex), NULL: none; borrowed for the
	 * node's life. */
	const char *geoip_sha256;
	const char *geoip_path; /* the --geoip FILE, NULL: none */
	/* q53d --site NAME[:REGION] (NULL: none), replicated in the node's
	 * metadata; the region is an input of latency answers. */
	const char *site;
	const char *site_region;
	/* The opened --geoip file (test-answer's client locations), NULL:
	 * none; borrowed for the node's life. */
	const struct geo_db *geo;
	/* The DNS workers' counters for /metrics (NULL: not counted);
	 * borrowed for the node's life. */
	const struct dns_stats *dns_stats;
	/* --query-log-dir's writer (NULL: none): the node gives it the
	 * zones with a query logging config after applies; borrowed. */
	struct query_log *query_log;
	/* --alarm-exec CMD (NULL: none), run by the leader once per decided
	 * transition (node/runtime/webhook.h). */
	const char *alarm_exec;
	/* Apex NS names of zones created through the API (>= 1). */
	const char *const *nameservers;
	size_t n_nameservers;
	const struct zone_seed_entry *seeds; /* borrowed until close */
	size_t n_seeds;
	unsigned snapshot_threshold;  /* 0 = 1024 */
	unsigned election_timeout_ms; /* 0 = 1000 */
	unsigned heartbeat_ms;	      /* 0 = 100 */
	/* Called once, on the loop thread, when the node first publishes a
	 * serving view (immediately on bootstrap and restart; once caught up
	 * after a join): open the DNS sockets then. */
	void (*on_serving)(void *data);
	void *data;
};

/* Allocates the node (copies config) and sets up raft, its io, the FSM and
 * the API server; nothing listens yet. Returns 0 or a negative q53_err
 * with a one-line reason in err. After success always finish with
 * cluster_node_close. */
int cluster_node_init(struct cluster_node **out, uv_loop_t *loop,
		      const struct cluster_node_config *config, char *err,
		      size_t errlen);

/* Loads raft state (or bootstraps / prepares to join), starts raft and the
 * API server. 0 or a negative q53_err with the reason in err; on failure
 * close the node with cluster_node_close. */
int cluster_node_start(struct cluster_node *n, char *err, size_t errlen);

/* Raft's state and the measured quorum contact (for the anycast
 * announcer). */
void cluster_node_status(struct cluster_node *n,
			 struct cluster_raft_status *out);

/* Stops the API (calls it holds are answered), closes raft and every
 * handle, frees n, then cb(data) on the loop thread. Call once. */
void cluster_node_close(struct cluster_node *n, void (*cb)(void *data),
			void *data);

#endif
