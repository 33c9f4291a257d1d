/* The cluster's first administrator access key for the Route 53 REST API:
 * on the boot that bootstraps a new cluster (with --http), the node draws
 * a key (access_key_gen.h), writes it to DATA/admin-key.new (mode 0600,
 * fsync'd), proposes CreateAccessKey with a policy allowing everything
 * and, once that is applied, renames the file DATA/admin-key and logs
 * where it is. The file holds the lines an AWS SDK or CLI user needs
 * (AWS_ACCESS_KEY_ID=..., AWS_SECRET_ACCESS_KEY=...).
 *
 * Resumable: a node that finds admin-key.new at start (it died before the
 * commit) proposes that same key again on every boot until it is applied
 * (a retry of a key already there is a no-op of the FSM). After the rename
 * nothing is proposed again, so deleting the key (q53 key delete) stays
 * deleted on that node.
 *
 * A cluster without any access key (a data directory from before the
 * HTTP API, or every key deleted) is never left without an administrator:
 * a node with no DATA/admin-key that leads, caught up, for a few ticks and
 * finds no key in the FSM draws one the same way (so the q53 CLI, which
 * signs every request, can be used with --data DIR). Loop thread only. */
#ifndef Q53_NODE_RUNTIME_ADMIN_KEY_H
#define Q53_NODE_RUNTIME_ADMIN_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "node/runtime/cluster_ops.h"

#define ADMIN_KEY_FILE "admin-key"

/* The policy of the administrator key. */
#define ADMIN_KEY_POLICY                                                       \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","    \
	"\"Action\":\"*\",\"Resource\":\"*\"}]}"

struct admin_key;

struct admin_key_config {
	struct cluster_ops ops;
	const char *data_dir; /* copied */
	bool bootstrapped;    /* this boot created the cluster */
};

/* Reads or creates DATA/admin-key.new as the config says (or, without
 * either file on a boot that did not bootstrap, waits to see whether the
 * cluster has a key). 0, or a q53_err with err (the file cannot be written
 * or read). *out NULL: nothing to do. */
int admin_key_new(struct admin_key **out, const struct admin_key_config *c,
		  char *err, size_t errlen);
/* Proposes the key when leader and none is in flight; finishes when it
 * is applied. */
void admin_key_tick(struct admin_key *k);
/* After raft closed (no proposal in flight). NULL is fine. */
void admin_key_free(struct admin_key *k);

#endif
