/* Outbound zone transfers and NOTIFY of a cluster node (xfr_server.c), on
 * the loop thread:
 *
 * - AXFR / IXFR: the DNS workers hand a transfer request over TCP here
 *   with its socket (node/dns/xfr_out.h, dns_xfr_take); the loop checks it
 *   against the zone's replicated configuration (node/control/xfr_config.h:
 *   the peer must be a configured secondary and sign with one of the
 *   zone's TSIG keys) and answers it from the FSM's record sets as they
 *   are at that moment: the SOA serial and the records of the answer
 *   belong to the same applied index. IXFR is answered from the
 *   differences this node saw between the serials it held (kept per zone,
 *   64 versions, for zones of up to 100,000 record sets: each change costs
 *   a pass over the zone), else with the whole zone (RFC 1995 4).
 * - NOTIFY: the leader only (one NOTIFY per change rather than one per
 *   node; secondaries pull from the node that notified them, which has
 *   applied the change), once the published view holds the change, to
 *   every secondary of a zone whose serial moved, TSIG-signed with the
 *   zone's first key, retried at 1, 2, 4, 8 s until answered (5 tries).
 *
 * Lifecycle: xfr_server_init -> xfr_server_close(cb). */
#ifndef Q53_NODE_RUNTIME_XFR_SERVER_H
#define Q53_NODE_RUNTIME_XFR_SERVER_H

#include "node/runtime/cluster_ops.h"

struct xfr_server;

struct xfr_server_config {
	struct cluster_ops ops;
	const char *dns_address; /* HOST:PORT, NOTIFY's source; "" = any */
};

/* Registers the DNS workers' hand-off. 0 or Q53_ENOMEM. */
int xfr_server_init(struct xfr_server **out, uv_loop_t *loop,
		    const struct xfr_server_config *cfg);
/* The loop turn after applies: NOTIFY what changed, keep IXFR history. */
void xfr_server_after_apply(struct xfr_server *s);
/* Unregisters the hand-off, closes every transfer; cb after the memory
 * is freed. */
void xfr_server_close(struct xfr_server *s, void (*cb)(void *data), void *data);

#endif
