#include "node/health/vote_rule.h"

#include <string.h>

#include "node/common/errcode.h"
#include "node/health/check_config.h"

const char *health_vote_basis_name(enum health_vote_basis basis)
{
	switch (basis) {
	case HEALTH_VOTE_DISABLED:
		return "disabled";
	case HEALTH_VOTE_TOO_FEW:
		return "too few votes";
	case HEALTH_VOTE_QUORUM:
		return "quorum";
	case HEALTH_VOTE_CALCULATED:
		return "calculated";
	}
	return "?";
}

/* The member's vote that counts, or NULL. Ties on log index (one entry can
 * only carry one vote per member, so only corrupt input) go to the later
 * time, then to unhealthy, so the result does not depend on order. */
static const struct health_vote *latest_vote(uint64_t member,
					     const struct health_vote *votes,
					     size_t n_votes, uint64_t now_ms,
					     uint64_t max_age_ms)
{
	const struct health_vote *best = NULL;
	size_t i;

	for (i = 0; i < n_votes; i++) {
		const struct health_vote *v = &votes[i];
		if (v->member_id != member)
			continue;
		if (best == NULL || v->log_index > best->log_index ||
		    (v->log_index == best->log_index &&
		     (v->time_ms > best->time_ms ||
		      (v->time_ms == best->time_ms && !v->healthy))))
			best = v;
	}
	if (best != NULL && max_age_ms != 0 && now_ms > best->time_ms &&
	    now_ms - best->time_ms > max_age_ms)
		return NULL;
	return best;
}

static bool seen_before(const uint64_t *members, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (members[j] == members[i])
			return true;
	return false;
}

int health_vote_decide(const struct health_check_config *cfg,
		       const uint64_t *members, size_t n_members,
		       const struct health_vote *votes, size_t n_votes,
		       uint64_t now_ms, uint64_t max_age_ms,
		       struct health_vote_decision *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (cfg->type == HEALTH_CHECK_CALCULATED)
		return Q53_EINVAL;
	for (i = 0; i < n_members; i++) {
		const struct health_vote *v;
		if (seen_before(members, i))
			continue;
		out->members++;
		v = latest_vote(members[i], votes, n_votes, now_ms, max_age_ms);
		if (v == NULL)
			continue;
		out->reporting++;
		if (v->healthy)
			out->healthy_votes++;
	}
	out->needed = out->members / 2 + 1;
	if (cfg->disabled) {
		out->basis = HEALTH_VOTE_DISABLED;
		out->healthy = true;
		return 0;
	}
	if (out->members == 0 || out->reporting < out->needed) {
		out->basis = HEALTH_VOTE_TOO_FEW;
		out->healthy = true;
		return 0;
	}
	out->basis = HEALTH_VOTE_QUORUM;
	out->healthy = (uint64_t)out->healthy_votes * 100 >
		       (uint64_t)cfg->healthy_share * out->reporting;
	return 0;
}

int health_vote_decide_calculated(const struct health_check_config *cfg,
				  const bool *children_healthy,
				  size_t n_children,
				  struct health_vote_decision *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (cfg->type != HEALTH_CHECK_CALCULATED ||
	    n_children != cfg->n_children)
		return Q53_EINVAL;
	out->members = n_children;
	out->reporting = n_children;
	out->needed = cfg->health_threshold;
	for (i = 0; i < n_children; i++)
		if (children_healthy[i])
			out->healthy_votes++;
	if (cfg->disabled) {
		out->basis = HEALTH_VOTE_DISABLED;
		out->healthy = true;
		return 0;
	}
	out->basis = HEALTH_VOTE_CALCULATED;
	out->healthy =
	    (out->healthy_votes >= cfg->health_threshold) != cfg->inverted;
	return 0;
}

size_t health_vote_fail_open(const bool *healthy, size_t n, bool *eligible)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		if (healthy[i])
			count++;
	for (i = 0; i < n; i++)
		eligible[i] = count == 0 ? true : healthy[i];
	return count == 0 ? n : count;
}
