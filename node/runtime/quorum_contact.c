#include "node/runtime/quorum_contact.h"

#define QC_VOTERS_MAX 64

static uint64_t qc_age(uint64_t last_ms, uint64_t now_ms)
{
	if (last_ms == 0)
		return UINT64_MAX;
	return now_ms > last_ms ? now_ms - last_ms : 0;
}

bool quorum_contact_measure(bool leader, uint64_t self_id, uint64_t leader_id,
			    const struct quorum_contact_peer *peers, size_t n,
			    uint64_t now_ms, uint64_t timeout_ms,
			    uint64_t *age_ms)
{
	uint64_t ages[QC_VOTERS_MAX];
	size_t voters = 0;

	*age_ms = UINT64_MAX;
	if (!leader) {
		if (leader_id == 0 || leader_id == self_id)
			return false;
		for (size_t i = 0; i < n; i++) {
			if (peers[i].id != leader_id)
				continue;
			*age_ms = qc_age(peers[i].last_ms, now_ms);
			return *age_ms <= timeout_ms;
		}
		return false;
	}
	/* Ages of the voters, this node at 0, sorted ascending (insertion:
	 * a configuration has a handful of voters). */
	for (size_t i = 0; i < n && voters < QC_VOTERS_MAX; i++) {
		uint64_t a;
		size_t k;

		if (!peers[i].voter)
			continue;
		a = peers[i].id == self_id ? 0
					   : qc_age(peers[i].last_ms, now_ms);
		for (k = voters; k > 0 && ages[k - 1] > a; k--)
			ages[k] = ages[k - 1];
		ages[k] = a;
		voters++;
	}
	if (voters == 0)
		return false;
	/* The majority-th most recent contact. */
	*age_ms = ages[voters / 2];
	return *age_ms <= timeout_ms;
}
