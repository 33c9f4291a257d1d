/* Membership of a node: the configuration changes the leader runs (add,
 * remove; one at a time, as raft allows), the join state machine of a node
 * started with --join, and the node's own metadata (API, DNS address,
 * name) kept right in the FSM.
 *
 * AddNodeRequest carries the raft address ("HOST:PORT" or
 * "tcp://HOST:PORT") and, in their own fields, the node metadata: API
 * address (what forwarding and INSYNC need), DNS address and name. Every
 * voter keeps its own metadata right by asking the leader to add itself
 * again (idempotent) when the FSM's record differs from its configuration.
 *
 * Join (house style #13):
 *
 *   ASK --request sent--> ASKING --added--> CATCHING_UP --applied--> DONE
 *    ^                       |
 *    +---- back-off ---------+ (error, timeout, NotLeader: follow hint)
 *
 * Loop thread only. */
#ifndef Q53_NODE_RUNTIME_MEMBERSHIP_H
#define Q53_NODE_RUNTIME_MEMBERSHIP_H

#include <stdbool.h>
#include <stdint.h>

#include "node/runtime/cluster_ops.h"

struct api_call;
struct member_rpc;
struct membership;

struct membership_config {
	struct cluster_ops ops;
	struct raft *raft;	/* borrowed: raft_add / assign / remove */
	struct member_rpc *rpc; /* borrowed */
	const char *raft_url;	/* this node's, tcp://HOST:PORT */
	const char *api_address;
	const char *dns_address;
	const char *name;
	const char *geoip_path;	  /* NULL = none */
	const char *geoip_sha256; /* NULL = none */
	const char *site;	  /* NULL = none */
	const char *site_region;  /* NULL = none */
	const char *join;	  /* any member's API, NULL = none */
	/* Called once when a joining node caught up. */
	void (*on_joined)(void *data);
	void *data;
};

/* Copies config's strings. 0 or Q53_ENOMEM. */
int membership_new(struct membership **out,
		   const struct membership_config *config);
/* At start: joins (returns true) when the node is not in raft's
 * configuration and has a join address. */
bool membership_start(struct membership *m);
/* Leader side; the call is answered. address: the raft address; api,
 * dns, name: the node metadata ("" or NULL = keep what the FSM has). */
void membership_add(struct membership *m, struct api_call *call, uint64_t id,
		    const char *address, const char *api, const char *dns,
		    const char *name, const char *geoip_path,
		    const char *geoip_sha256, const char *site,
		    const char *site_region);
void membership_remove(struct membership *m, struct api_call *call,
		       uint64_t id);
/* The tick: deferred raft_assign, join retries, own metadata. */
void membership_tick(struct membership *m);
/* After applies: a joining node that caught up starts serving. */
void membership_after_apply(struct membership *m);
/* Ends the change in progress with Unavailable ("node is shutting
 * down"): only one waiting for the tick unless any. */
void membership_cancel(struct membership *m, bool any);
void membership_free(struct membership *m);

#endif
