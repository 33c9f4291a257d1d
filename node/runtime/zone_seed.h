/* Zones seeded from --zone ORIGIN=FILE: on the leader, CreateHostedZone
 * then ImportZone of the file, one seed at a time, through the log.
 *
 * Idempotent and resumable: a zone is created only on the boot that
 * bootstrapped the cluster, but the import is retried on every boot (and
 * after a failed proposal, on the tick) while the zone the seed created is
 * still as CreateHostedZone left it (comment ZONE_SEED_COMMENT, only the
 * apex SOA and NS) and the FSM holds no import change of the seed (its
 * change id is derived from the zone id). So a process that dies between
 * the two commands imports the file when it comes back.
 *
 * Test hook: with Q53_TEST_SEED_KILL_AFTER_CREATE=1 in the environment the
 * process kills itself (SIGKILL) once a seed's CreateHostedZone is
 * committed, before the ImportZone is proposed. Loop thread only. */
#ifndef Q53_NODE_RUNTIME_ZONE_SEED_H
#define Q53_NODE_RUNTIME_ZONE_SEED_H

#include <stdbool.h>
#include <stddef.h>

#include "node/runtime/cluster_ops.h"

#define ZONE_SEED_COMMENT "seeded from --zone"

struct zone_seed;

/* A zone to create on first boot: ORIGIN and the zone file (read once
 * leader). */
struct zone_seed_entry {
	const char *origin;
	const char *path;
};

struct zone_seed_config {
	struct cluster_ops ops;
	const struct zone_seed_entry *seeds; /* borrowed until free */
	size_t n_seeds;
	const char *const *nameservers; /* borrowed until free */
	size_t n_nameservers;
};

/* 0 or Q53_ENOMEM. */
int zone_seed_new(struct zone_seed **out, const struct zone_seed_config *c);
/* The tick: proposes the next step of the next seed when leader.
 * bootstrapped: this boot created the cluster (zones may be created). */
void zone_seed_tick(struct zone_seed *s, bool bootstrapped);
void zone_seed_free(struct zone_seed *s);

#endif
