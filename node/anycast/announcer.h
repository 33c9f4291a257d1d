/* Anycast announcement of a q53d node (`q53d --anycast ADDR/PREFIX[@IFACE]`):
 * the address is on IFACE (default "lo"; added and removed through
 * rtnetlink, which needs CAP_NET_ADMIN) while the node's own DNS responder
 * answers and the node is in contact with a quorum, and removed otherwise.
 * A routing daemon exporting the interface's addresses (BIRD's "direct"
 * protocol, deploy/bird/node.conf) then announces or withdraws the route.
 * The same in Docker, on the local cluster and by hand.
 *
 * Every interval_ms the announcer sends one DNS query (SOA of check_name,
 * or of "." when none is given: then any answer counts) to the responder
 * and reads quorum contact from the node (the same measure `q53 status`
 * shows as QuorumContact); node/anycast/anycast_decision.h decides. Each
 * change is logged and, with state_file, written there (atomically, one
 * line: "announced ADDR/PREFIX dev IFACE" or "withdrawn ADDR/PREFIX: why")
 * for operators and tests. On close the address is removed.
 * Loop thread only. */
#ifndef Q53_NODE_ANYCAST_ANNOUNCER_H
#define Q53_NODE_ANYCAST_ANNOUNCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct anycast_announcer;

struct anycast_config {
	uint64_t node_id;	 /* for log lines */
	const char *spec;	 /* ADDR/PREFIX[@IFACE] */
	const char *responder;	 /* HOST:PORT of the node's DNS (UDP) */
	const char *check_name;	 /* NULL or "": "." */
	const char *state_file;	 /* NULL: none */
	unsigned interval_ms;	 /* 0 = 500 */
	unsigned withdraw_after; /* failed checks in a row, 0 = 2 */
	/* Quorum contact now (the node's measure). */
	bool (*quorum_contact)(void *data);
	void *data;
};

/* Parses the spec and opens the netlink and UDP sockets (nothing is
 * announced). 0, or Q53_EINVAL (bad spec or interface: reason in err) or
 * Q53_ENOMEM. */
int anycast_init(struct anycast_announcer **out, uv_loop_t *loop,
		 const struct anycast_config *config, char *err, size_t errlen);
/* Removes a stale address left by an earlier process, starts checking. */
int anycast_start(struct anycast_announcer *a);
/* Withdraws (at once), closes the handles, frees a, then cb(data). */
void anycast_close(struct anycast_announcer *a, void (*cb)(void *data),
		   void *data);

#endif
