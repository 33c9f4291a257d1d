/* Probes health-check endpoints from one libuv loop and feeds each result
 * to the check's observer (node/health/observer.h); reports the local
 * verdict's changes (and slow refreshes) through a callback, which is where
 * the node proposes a vote.
 *
 * Probes, as Route 53 defines them:
 *   HTTP, HTTPS (no certificate validation): a TCP connection within
 *   connect_timeout_ms (4 s; for HTTPS this includes the TLS handshake),
 *   then the status line within response_timeout_ms (2 s) of connecting;
 *   2xx and 3xx are healthy (redirects are not followed). *_STR_MATCH:
 *   also SearchString within the first 5,120 bytes of the body, received
 *   within the same response_timeout_ms. Each probe is a fresh connection;
 *   libcurl's multi interface runs on the loop (CURLMOPT_SOCKETFUNCTION /
 *   TIMERFUNCTION with uv_poll_t / uv_timer_t). Proxies from the environment
 *   are ignored.
 *   TCP: a libuv connect within tcp_timeout_ms (10 s).
 * With IPAddress and FullyQualifiedDomainName, the address is probed and
 * the name is sent as Host (and as SNI with EnableSNI). With only a name,
 * it is resolved to an IPv4 address per probe, as Route 53 does (libcurl's
 * resolver thread, uv_getaddrinfo for TCP); such HTTPS probes always send
 * SNI.
 * With source_address, HTTP(S) probes bind to it (CURLOPT_INTERFACE
 * "host!ADDR") and TCP probes bind to it, port 0, before connecting.
 * Every check is probed at once when the prober starts (or when added to a
 * started prober), then every RequestInterval. One probe per check at a
 * time: a probe still running when the next is due makes it skip a round.
 * CALCULATED checks are not probed (their status comes from their
 * children, see node/health/vote_rule.h); Disabled checks are kept but not
 * probed (their observer is HEALTHY and silent).
 *
 * Reasons (text in events): "HTTP 200", "HTTP 503", "HTTP 200, search string
 * found", "search string not found", "connected" (TCP), "connect refused",
 * "connect timeout", "timeout" (no response in time after connecting),
 * "resolve failed", "TLS handshake failed", "empty reply", "connection
 * reset", "malformed reply", or libcurl's / libuv's own text.
 *
 * Threads: every call and every callback happens on the loop thread
 * (house style #9); libcurl may run its resolver in a helper thread.
 * Lifecycle: health_prober_init -> add... -> health_prober_start -> add /
 * remove... -> health_prober_close(cb): the prober is freed just before cb
 * runs. Callbacks may call add, remove and close. */
#ifndef Q53_NODE_HEALTH_PROBER_H
#define Q53_NODE_HEALTH_PROBER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "node/health/observer.h"

struct health_check_config;
struct health_prober;

enum health_prober_event_kind {
	HEALTH_PROBER_RESULT,  /* one probe finished (every probe) */
	HEALTH_PROBER_CHANGED, /* local verdict changed: propose a vote */
	HEALTH_PROBER_REFRESH, /* verdict unchanged but due again */
};

/* Valid only during the callback; copy what you keep. */
struct health_prober_event {
	enum health_prober_event_kind kind;
	const char *check_id;
	/* RESULT: the probe's own outcome (before Inverted). CHANGED and
	 * REFRESH: the local verdict (Inverted applied) to vote. */
	bool healthy;
	const char *reason; /* of the probe that led to this event */
	uint64_t time_ms;   /* uv_now() of the loop */
	uint64_t results;   /* results fed to this check's observer */
	enum health_observer_state state; /* observer state after it */
	/* RESULT: how long the probe took to connect (TCP: the connect;
	 * HTTP(S): libcurl's connect time without the name lookup, TLS not
	 * included), in microseconds; -1 when it did not connect. Latency
	 * routing's measured RTT (node/runtime/health_votes.c). */
	int64_t connect_us;
};

typedef void (*health_prober_event_cb)(void *data,
				       const struct health_prober_event *ev);
typedef void (*health_prober_close_cb)(void *data);

struct health_prober_options {
	/* CHANGED and REFRESH events (required). */
	health_prober_event_cb on_verdict;
	/* RESULT events (optional: metrics, tests). */
	health_prober_event_cb on_result;
	void *data; /* passed to both */
	/* 0 keeps the Route 53 values; tests shrink them. */
	unsigned connect_timeout_ms;  /* 0 = 4000 */
	unsigned response_timeout_ms; /* 0 = 2000 */
	unsigned tcp_timeout_ms;      /* 0 = 10000 */
	unsigned interval_unit_ms;    /* one RequestInterval second; 0=1000 */
	/* Observer refresh period; 0 = 15 minutes, UINT64_MAX = never. */
	uint64_t refresh_ms;
	/* Local IPv4 or IPv6 address every probe connects from (copied);
	 * NULL or "" = the kernel's choice. A cluster node passes its own
	 * address so endpoints see (and may filter) each node apart. Probes
	 * of the other address family are not bound. */
	const char *source_address;
};

/* Allocates a prober on loop (options copied). Nothing runs until
 * health_prober_start. Returns 0, Q53_EINVAL (no on_verdict, or a
 * source_address that is not an IP address) or Q53_ENOMEM. Free only through
 * health_prober_close. */
int health_prober_init(struct health_prober **out, uv_loop_t *loop,
		       const struct health_prober_options *opt);

/* Starts probing every check added so far. Returns 0 or Q53_EINVAL
 * (already started or closing). */
int health_prober_start(struct health_prober *p);

/* Adds a check under id (1..HEALTH_CHECK_ID_MAX chars, copied) with a
 * deep copy of cfg; its observer starts UNKNOWN. Returns 0, Q53_EEXIST (id
 * in use), Q53_EINVAL (bad id, invalid or CALCULATED config, prober
 * closing) or Q53_ENOMEM. To change a check's config, remove and add. */
int health_prober_add(struct health_prober *p, const char *id,
		      const struct health_check_config *cfg);

/* Stops a check: its running probe is abandoned (no more events for it);
 * memory goes back once libuv gives the handles back. Returns 0 or
 * Q53_ENOENT. */
int health_prober_remove(struct health_prober *p, const char *id);

/* Copies the check's observer (state, counters) into *out. Returns 0 or
 * Q53_ENOENT. */
int health_prober_observer(const struct health_prober *p, const char *id,
			   struct health_observer *out);

/* Abandons every probe, closes every handle and frees the prober, then
 * calls cb(data) (cb may be NULL). No event is delivered after this call.
 * Call once. */
void health_prober_close(struct health_prober *p, health_prober_close_cb cb,
			 void *data);

#endif
