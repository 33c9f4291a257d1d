/* Query logging (Route 53's, per hosted zone): the loop's side. The DNS
 * workers push a record per query answered from a zone while logging is
 * on (node/dns/query_log_ring.h, one lock-free ring per serving thread);
 * a uv_timer here drains every ring, keeps the records of the zones that
 * have a query logging config (query_log_set_zones), and appends one JSON
 * line per query to DIR/queries.log:
 *
 *   {"version":"1.0","query_timestamp":"2026-12-04T03:50:00.123Z",
 *    "hosted_zone_id":"Z...","query_name":"www.example.com",
 *    "query_type":"A","response_code":"NOERROR","protocol":"UDP",
 *    "edge_location":NODE NAME,"resolver_ip":"192.0.2.1",
 *    "edns_client_subnet":"198.51.100.0/24" or "-"}
 *
 * Route 53's fields, with the answering node's name in place of the edge
 * location. Writes are buffered stdio on the loop thread, flushed per
 * drain (the file is local; a slow disk slows the drain, never the query
 * path: the rings fill and drop, counted). Loop thread only. */
#ifndef Q53_NODE_RUNTIME_QUERY_LOG_H
#define Q53_NODE_RUNTIME_QUERY_LOG_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct dns_stats;
struct query_log;

struct query_log_config {
	const char *dir;	 /* DIR/queries.log, appended (copied) */
	const char *node_name;	 /* edge_location (copied) */
	struct dns_stats *stats; /* the rings (borrowed, outlives the log) */
	unsigned drain_ms;	 /* 0 = 10 */
};

/* Opens the file, starts the timer. 0 or a q53_err with err. */
int query_log_start(struct query_log **out, uv_loop_t *loop,
		    const struct query_log_config *config, char *err,
		    size_t errlen);

/* A zone whose queries are logged: its apex name (wire, lowercase) and
 * hosted zone id. */
struct query_log_zone {
	const uint8_t *origin;
	size_t origin_len;
	const char *zone_id;
};
/* Replaces the logged zones (copied); the workers push records only while
 * there is one. 0 or Q53_ENOMEM (the old set stays). */
int query_log_set_zones(struct query_log *l, const struct query_log_zone *z,
			size_t n);
/* The node's name (edge_location) once known (copied). */
void query_log_set_node_name(struct query_log *l, const char *name);
/* Lines written so far. */
uint64_t query_log_lines(const struct query_log *l);
/* Drains what the rings hold, flushes, closes the file and the timer;
 * frees l once the timer is closed. */
void query_log_close(struct query_log *l);

#endif
