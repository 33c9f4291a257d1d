/* The replicated decision: a health check's status from the votes of the
 * current cluster members, and the fail-open rule routing applies to a
 * record-set group. Pure functions for the FSM (house style #12): no I/O, no
 * clock (times come inside commands), no allocation, deterministic for
 * equal inputs whatever their order.
 *
 * The rule for an endpoint check (HTTP*, HTTPS*, TCP):
 *   1. Disabled -> healthy.
 *   2. Only current members' votes count; of each member only its latest
 *      vote (highest log index) counts; with max_age_ms != 0, a vote whose
 *      time is more than max_age_ms before now_ms is dropped (its member is
 *      then not reporting).
 *   3. "Enough" votes = a majority of the current members reporting
 *      (2 * reporting > members). With fewer, the check is healthy: a new
 *      check is healthy until enough members have formed a verdict, as in
 *      Route 53, and a minority of nodes cannot fail an endpoint alone.
 *   4. Otherwise healthy iff 100 * healthy_votes > HealthyShare *
 *      reporting (default 50: a strict majority of the reporting members).
 * Votes already carry Inverted (the observer applies it to each result);
 * the rule never inverts them again.
 *
 * CALCULATED: healthy iff at least HealthThreshold children are healthy,
 * then Inverted (no observer exists for it), Disabled -> healthy. */
#ifndef Q53_NODE_HEALTH_VOTE_RULE_H
#define Q53_NODE_HEALTH_VOTE_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct health_check_config;

/* A member's vote as the FSM keeps it (from the applied command). */
struct health_vote {
	uint64_t member_id; /* Raft server id */
	bool healthy;	    /* the member's local verdict (Inverted applied) */
	uint64_t log_index; /* index of the entry that carried it */
	uint64_t time_ms;   /* wall-clock ms stamped in the command */
};

enum health_vote_basis {
	HEALTH_VOTE_DISABLED,	/* Disabled: healthy */
	HEALTH_VOTE_TOO_FEW,	/* not enough members reporting: healthy */
	HEALTH_VOTE_QUORUM,	/* decided by the HealthyShare rule */
	HEALTH_VOTE_CALCULATED, /* decided by HealthThreshold */
};

struct health_vote_decision {
	bool healthy;
	enum health_vote_basis basis;
	size_t members;	      /* distinct current members */
	size_t reporting;     /* members with a counted vote */
	size_t healthy_votes; /* of those, voting healthy */
	size_t needed;	      /* reporting members needed for a quorum */
};

/* Decides an endpoint check. members: ids of the current members
 * (duplicates counted once); votes: any votes the FSM holds for the check,
 * in any order (non-members' and superseded ones are ignored). now_ms and
 * max_age_ms: see rule 2 (pass max_age_ms = 0 to never age votes). Borrows
 * everything, keeps nothing. Returns 0, or Q53_EINVAL for a CALCULATED
 * config (use health_vote_decide_calculated). */
int health_vote_decide(const struct health_check_config *cfg,
		       const uint64_t *members, size_t n_members,
		       const struct health_vote *votes, size_t n_votes,
		       uint64_t now_ms, uint64_t max_age_ms,
		       struct health_vote_decision *out);

/* Decides a CALCULATED check from its children's current statuses,
 * children_healthy[i] for cfg->children[i] (the FSM decides children
 * first; a child that no longer exists should be passed as unhealthy).
 * Returns 0, or Q53_EINVAL when cfg is not CALCULATED or n_children differs
 * from cfg->n_children. */
int health_vote_decide_calculated(const struct health_check_config *cfg,
				  const bool *children_healthy,
				  size_t n_children,
				  struct health_vote_decision *out);

/* Fail open, for routing: healthy[i] is the status of candidate i of a
 * record-set group (a record without a health check is healthy). Sets
 * eligible[i] (n entries, may alias healthy) to the healthy candidates, or
 * to all of them when none is healthy (Route 53 answers as if all were
 * healthy). Returns the number eligible (n, or 0 when n is 0). */
size_t health_vote_fail_open(const bool *healthy, size_t n, bool *eligible);

/* "disabled", "too few votes", "quorum", "calculated"; never NULL. */
const char *health_vote_basis_name(enum health_vote_basis basis);

#endif
