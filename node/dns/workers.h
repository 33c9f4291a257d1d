/* The DNS workers: one thread per core, each with its own epoll set, its own
 * UDP socket and TCP listener on every configured address (SO_REUSEPORT lets
 * the kernel spread clients over them), its own preallocated buffers, and a
 * urcu-qsbr registration to read the published serving view without locks.
 * Workers never touch control state; the only thing they share is the view
 * and the TCP connection limits. */
#ifndef Q53_NODE_DNS_WORKERS_H
#define Q53_NODE_DNS_WORKERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "node/dns/rrl.h"

struct dns_workers;
struct dns_stats;
struct geo_db;

struct dns_workers_config {
	const struct sockaddr_storage *addrs; /* addresses to serve on */
	size_t naddrs;
	unsigned nworkers;	      /* >= 1 */
	uint16_t udp_payload;	      /* EDNS size we advertise, 512..4096 */
	unsigned tcp_idle_timeout_ms; /* >= 1 */
	unsigned tcp_max_clients;     /* total over all workers, >= 1 */
	unsigned tcp_max_per_client;  /* per client IP address, >= 1 */
	const struct geo_db *geo;     /* --geoip (NULL: none) */
	struct dns_rrl_config rrl;    /* UDP response rate limiting */
	const char *identity;	      /* CHAOS TXT hostname.bind (NULL: no) */
	const char *version;	      /* CHAOS TXT version.bind (NULL: no) */
	/* NULL, or the counters, with at least dns_workers_nshards(cfg)
	 * shards (borrowed: must outlive the workers). */
	struct dns_stats *stats;
};

/* The counter shards the workers of cfg write: one per UDP thread and
 * one per TCP thread. */
size_t dns_workers_nshards(const struct dns_workers_config *cfg);

/* Opens every socket (so a bind error is reported here, before any thread
 * runs), then starts the threads. cfg is copied (addrs too). On failure
 * returns a negative q53_err/errno, writes a one-line reason naming the
 * address into errbuf (always NUL-terminated) and leaves nothing behind. On
 * success *out must be released with dns_workers_stop. */
int dns_workers_start(struct dns_workers **out,
		      const struct dns_workers_config *cfg, char *errbuf,
		      size_t errlen);

/* Wakes every worker, joins it, closes every socket and connection and frees
 * w. Call from the thread that started them. */
void dns_workers_stop(struct dns_workers *w);

/* The response rate limiting counters summed over every UDP thread (all
 * zero when RRL is off). Any thread, while w runs. */
void dns_workers_rrl_stats(const struct dns_workers *w,
			   struct dns_rrl_stats *out);

/* Formats addr as "127.0.0.1:53" or "[::1]:53" into buf (NUL-terminated). */
void dns_workers_format_addr(const struct sockaddr_storage *addr, char *buf,
			     size_t len);

#endif
