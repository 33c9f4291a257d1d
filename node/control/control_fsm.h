/* The control plane's replicated state machine (a struct q53_fsm, see
 * node/raft/fsm.h): hosted zones (a zone_store), change records, health
 * checks with every member's latest vote and the decided status, and node
 * metadata. Pure (house style #12): it decodes one command
 * (node/control/command.h), mutates memory, answers a result; no I/O, no
 * clock (times come inside commands), no randomness.
 *
 * The FSM index. fsm.h's apply is not told the raft index, so the FSM
 * counts: every command that changes the state gets the next index (1, 2,
 * ...), the same on every node at the same log position; rejected commands
 * (and no-op successes, such as a CreateHealthCheck repeating a caller
 * reference with the same config) do not advance it. Change records and
 * health transitions carry this index; the runtime compares it with
 * control_fsm_applied() of each voter to decide INSYNC.
 *
 * Members. The members whose health votes count are the nodes with
 * metadata (SetNodeMetadata adds or replaces one, RemoveNodeMetadata
 * removes one and drops its votes). The runtime proposes SetNodeMetadata
 * when a node joins the Raft configuration and RemoveNodeMetadata when it
 * leaves. Votes from non-members are rejected (NoSuchNode).
 *
 * Health decision (node/health/vote_rule.h), re-run after every command
 * that can change it: votes never age (max_age 0), a new check is healthy,
 * a status change is a transition stamped with the index and time_ms of the
 * command that caused it. CALCULATED checks take no votes; their children
 * must exist, cannot form a cycle, and a child in use cannot be deleted
 * (HealthCheckInUse).
 *
 * Failover. Record sets may name a health check (HealthCheckId; it must
 * exist when the batch applies, else NoSuchHealthCheck). Routing by health
 * is resolved when a zone is built, not per query: the FSM keeps which
 * zones use which check (derived, rebuilt on restore, redone per zone on
 * each change batch or import), and when a check's decided status changes
 * (vote, member added or removed, config update) it marks every zone using
 * it dirty, so all nodes rebuild the same zones after the same index. A
 * check used by record sets cannot be deleted (HealthCheckInUse; Route 53
 * allows it and leaves the answers undefined, we refuse).
 *
 * Apply results: *code 0 (applied) or a negative q53_err classifying the
 * rejection (Q53_ENOENT: no such thing, Q53_EEXIST: already exists or
 * conflicts, Q53_EINVAL: invalid, Q53_EMALF: undecodable command); the body
 * is a CommandResult (command_result_decode) with the Route 53 error name
 * and message. A rejection changes nothing. Q53_ENOMEM from apply changes
 * nothing either.
 *
 * Commands are typed (node/control/command.h): apply parses no JSON and
 * no text, and the FSM has no globals. The FSM library (q53_fsm) links
 * neither jansson nor libzscanner; the previous release's text commands
 * and snapshots are converted before they reach it (node/control/upgrade.h).
 *
 * Memory: the FSM's own memory comes from raft_malloc (raft_heap_set fails
 * it in tests); the zone_store uses malloc.
 *
 * Threads: one (the raft loop). Query results point into the FSM and are
 * valid until the next apply / restore. */
#ifndef Q53_NODE_CONTROL_CONTROL_FSM_H
#define Q53_NODE_CONTROL_CONTROL_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/raft/fsm.h"
#include "node/health/vote_rule.h"

struct control_fsm;
struct zone;
struct zone_store;
struct health_check_config;

/* Change records kept; beyond, the one with the lowest index goes. */
#define CONTROL_FSM_CHANGES_MAX	  10000
#define CONTROL_FSM_ID_MAX	  64  /* change, health check ids */
#define CONTROL_FSM_CALLER_MAX	  64  /* health check caller reference */
#define CONTROL_FSM_REASON_MAX	  256 /* vote reason */
#define CONTROL_FSM_ADDRESS_MAX	  255
#define CONTROL_FSM_NODE_NAME_MAX 64
/* The newest snapshot format this release reads (and writes when its
 * state needs it); control_fsm.c says what each adds. */
#define CONTROL_FSM_SNAPSHOT_FORMAT_MAX 5

/* A new, empty FSM in *out (free with control_fsm_free). 0 or
 * Q53_ENOMEM. */
int control_fsm_new(struct control_fsm **out);
void control_fsm_free(struct control_fsm *f);

/* The struct q53_fsm to hand to q53_fsm_log_init (owned by f). */
struct q53_fsm *control_fsm_base(struct control_fsm *f);

/* The index of the last command that changed the state (0: none). */
uint64_t control_fsm_applied(const struct control_fsm *f);

/* --- what the runtime rebuilds --- */

/* Zones whose records changed (or that were created or deleted), or whose
 * answers changed because a health check they use changed status, since
 * the last take, in the order first marked; all = every zone (after a
 * restore, initially, and when memory for a mark ran out): rebuild
 * everything and drop compiled zones that zone_store_get no longer finds.
 * health: some decided status changed. */
struct control_fsm_dirty {
	bool all;
	bool health;
	char *
	    *zone_ids; /* raft_malloc'd; release with control_fsm_dirty_clear */
	size_t n_zone_ids;
};

/* Moves the marks into *out and clears them; never fails. */
void control_fsm_take_dirty(struct control_fsm *f,
			    struct control_fsm_dirty *out);
void control_fsm_dirty_clear(struct control_fsm_dirty *d);

/* Decided status changes since the last take, for the leader's webhooks
 * (node/runtime/cluster_node_webhook.c): one entry per check and apply
 * whose status differs after the apply from before it (a status that
 * flips and flips back within one apply is none; creation is none), in
 * apply order. Local, not replicated, not in the snapshot: a restore
 * records none. At most CONTROL_FSM_TRANSITIONS_MAX are kept untaken;
 * beyond, and when memory runs out, new ones are counted in dropped. */
#define CONTROL_FSM_TRANSITIONS_MAX 1024

struct control_fsm_transition {
	char check_id[CONTROL_FSM_ID_MAX + 1];
	bool healthy;	  /* the new status */
	uint64_t index;	  /* FSM index of the command that caused it */
	uint64_t time_ms; /* that command's time */
};

struct control_fsm_transitions {
	struct control_fsm_transition *items; /* raft_malloc'd */
	size_t n;
	uint64_t dropped;
};

/* Moves the recorded transitions into *out (release with
 * control_fsm_transitions_clear) and clears them; never fails. */
void control_fsm_take_transitions(struct control_fsm *f,
				  struct control_fsm_transitions *out);
void control_fsm_transitions_clear(struct control_fsm_transitions *t);

/* --- queries for the API (read-only) --- */

/* The hosted zones: zone_store_count / _get_at / _get for list zones, get
 * zone and list record sets. */
const struct zone_store *control_fsm_zone_store(const struct control_fsm *f);

/* Compiles a hosted zone for serving with the decided health statuses
 * (failover groups answered accordingly, see
 * zone_store_build_with_health): what the
 * runtime calls for each dirty zone before publishing a serving view.
 * *out carries one reference (zone_release). 0, Q53_ENOENT
 * (NoSuchHostedZone: dropped from the view), Q53_ENOMEM or another
 * zone_builder error, with a message in err. */
int control_fsm_build_zone(const struct control_fsm *f, const char *zone_id,
			   struct zone **out, char *err, size_t errlen);

/* The health lookup behind control_fsm_build_zone, for
 * zone_store_build_with_health(store, id, control_fsm_health_lookup, fsm,
 * ...): fsm is
 * a struct control_fsm *, the answer is the check's decided status (true
 * for an id that names no check). */
bool control_fsm_health_lookup(void *fsm, const char *check_id);

/* The zones whose record sets name check_id, in id order: writes up to max
 * of them into zone_ids (pointers valid until the next apply / restore)
 * and returns how many there are. */
size_t control_fsm_zones_using(const struct control_fsm *f,
			       const char *check_id, const char **zone_ids,
			       size_t max);

struct control_fsm_change {
	const char *id;
	const char *zone_id;
	const char *comment;	   /* "" when none */
	const char *access_key_id; /* who submitted it; "" = local */
	uint64_t submitted_ms;
	uint64_t index; /* PENDING until every voter applied this index */
};

/* Changes by id. 0 or Q53_ENOENT. */
size_t control_fsm_change_count(const struct control_fsm *f);
int control_fsm_change_at(const struct control_fsm *f, size_t i,
			  struct control_fsm_change *out);
int control_fsm_change_get(const struct control_fsm *f, const char *id,
			   struct control_fsm_change *out);

struct control_fsm_health_check {
	const char *id;
	const char *caller_reference;		  /* "" when none */
	const struct health_check_config *config; /* JSON: the API's business */
	uint64_t version; /* 1 at creation, +1 per update */
	uint64_t created_index;
	uint64_t created_ms;
	/* The decided status and the last transition (creation counts). */
	bool healthy;
	uint64_t transition_index;
	uint64_t transition_ms;
	struct health_vote_decision decision; /* how it was decided */
	/* Every current member's latest vote, by member id. */
	const struct health_vote *votes;
	const char *const *reasons; /* reasons[i] for votes[i] */
	size_t n_votes;
};

/* The query logging configs (node/control/query_log_table.h). */
struct query_log_table;
const struct query_log_table *
control_fsm_query_logging(const struct control_fsm *f);

/* Health checks by id. 0 or Q53_ENOENT. */
size_t control_fsm_health_check_count(const struct control_fsm *f);
int control_fsm_health_check_at(const struct control_fsm *f, size_t i,
				struct control_fsm_health_check *out);
int control_fsm_health_check_get(const struct control_fsm *f, const char *id,
				 struct control_fsm_health_check *out);

struct control_fsm_node {
	uint64_t id;
	const char *raft_address;
	const char *dns_address;  /* "" when none */
	const char *api_address;  /* "" when none */
	const char *name;	  /* "" when none */
	const char *geoip_path;	  /* "" when none */
	const char *geoip_sha256; /* "" when none */
	const char *site;	  /* "" when none */
	const char *site_region;  /* "" when none */
	uint64_t index;		  /* last SetNodeMetadata */
	uint64_t time_ms;
};

/* This node's own site and region (q53d --site NAME[:REGION]; NULL or ""
 * none): latency groups answer uncovered clients by the site's measured
 * row, else the region (a local input of the build, not replicated). */
void control_fsm_set_site(struct control_fsm *f, const char *site,
			  const char *region);
/* This node's site ("" = none) and its region (*region). */
const char *control_fsm_site(const struct control_fsm *f, const char **region);
/* The replicated latency table (API rows, measured site rows). */
struct latency_table;
const struct latency_table *control_fsm_latency(const struct control_fsm *f);
/* The zones' outbound transfer configurations (node/control/xfr_config.h). */
struct xfr_table;
const struct xfr_table *control_fsm_xfr(const struct control_fsm *f);

/* Nodes (= members) by id. 0 or Q53_ENOENT. */
size_t control_fsm_node_count(const struct control_fsm *f);
int control_fsm_node_at(const struct control_fsm *f, size_t i,
			struct control_fsm_node *out);
int control_fsm_node_get(const struct control_fsm *f, uint64_t id,
			 struct control_fsm_node *out);

/* The REST API's access keys (CreateAccessKey / DeleteAccessKey). */
struct Q53__Command__AccessPolicy;
struct control_fsm_access_key {
	const char *id;
	const char *secret;
	const char *description; /* "" when none */
	const char *policy_document;
	const struct Q53__Command__AccessPolicy *policy; /* typed */
	uint64_t created_ms;
	uint64_t created_index;
};

/* Access keys by id. 0 or Q53_ENOENT. */
size_t control_fsm_access_key_count(const struct control_fsm *f);
int control_fsm_access_key_at(const struct control_fsm *f, size_t i,
			      struct control_fsm_access_key *out);
int control_fsm_access_key_get(const struct control_fsm *f, const char *id,
			       struct control_fsm_access_key *out);
/* The tags of a resource ("hostedzone" / "healthcheck", id), NULL when it
 * has none (node/control/tag_table.h). Valid until the next apply. */
struct tag_resource;
const struct tag_resource *control_fsm_tags(const struct control_fsm *f,
					    const char *type, const char *id);

/* The CIDR collections (IP-based routing), node/control/cidr_table.h. */
struct cidr_table;
const struct cidr_table *control_fsm_cidrs(const struct control_fsm *f);

#endif
