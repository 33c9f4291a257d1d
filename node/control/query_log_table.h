/* Query logging configs (Route 53's CreateQueryLoggingConfig /
 * DeleteQueryLoggingConfig / ListQueryLoggingConfigs): at most one per
 * hosted zone, replicated through the log (command 34,
 * ChangeQueryLoggingConfig) and in the snapshot (FsmSnapshotExt field 5).
 * Which zones a node's DNS workers log (node/runtime/query_log.h) follows
 * this table. Pure: the proposer picks the id and the time; apply checks
 * only what depends on state. This module owns the command's and the
 * snapshot field's encoding. */
#ifndef Q53_NODE_CONTROL_QUERY_LOG_TABLE_H
#define Q53_NODE_CONTROL_QUERY_LOG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/control/command.h"
#include "proto/command.pb-c.h"

#define QUERY_LOG_ID_MAX      64
#define QUERY_LOG_ARN_MAX     512
#define QUERY_LOG_CONFIGS_MAX 10000

struct query_log_config_entry {
	char id[QUERY_LOG_ID_MAX + 1];
	char zone_id[QUERY_LOG_ID_MAX + 1];
	char arn[QUERY_LOG_ARN_MAX + 1];
	uint64_t created_ms;
};

struct query_log_table {
	struct query_log_config_entry *v; /* by id */
	size_t n, cap;
	uint64_t version; /* +1 per change (the runtime's cue) */
};

void query_log_table_init(struct query_log_table *t);
void query_log_table_free(struct query_log_table *t);
const struct query_log_config_entry *
query_log_table_get(const struct query_log_table *t, const char *id);
const struct query_log_config_entry *
query_log_table_by_zone(const struct query_log_table *t, const char *zone_id);
/* Drops the config of zone_id (its zone is deleted). */
void query_log_table_drop_zone(struct query_log_table *t, const char *zone_id);

/* The command: create (delete_id NULL) or delete. */
struct command_change_query_logging {
	const char *id; /* create: the new config's */
	const char *zone_id;
	const char *arn;
	const char *delete_id; /* delete: the config's */
	uint64_t time_ms;
};
int command_encode_change_query_logging(
    const struct command_change_query_logging *c, struct command_payload *out);

/* Applies payload (untrusted) to t: zone_exists tells whether a hosted
 * zone exists. check_only: decide without changing t. 0; Q53_EMALF
 * (malformed); Q53_ENOMEM; or Q53_ENOENT / Q53_EEXIST / Q53_EINVAL with
 * Route 53's "Name: message" in err. */
int query_log_table_apply(struct query_log_table *t, const uint8_t *payload,
			  size_t len, bool check_only,
			  bool (*zone_exists)(void *ctx, const char *zone_id),
			  void *ctx, char *err, size_t errlen);

/* The snapshot field: *out (NULL when the table is empty) and its items,
 * freed with query_log_table_pb_free. 0 or Q53_ENOMEM. */
int query_log_table_to_pb(const struct query_log_table *t,
			  Q53__Command__QueryLoggingConfig ***out, size_t *n);
void query_log_table_pb_free(Q53__Command__QueryLoggingConfig **pb, size_t n);
/* Restores t (empty) from a snapshot's configs. 0, Q53_EMALF, Q53_ENOMEM. */
int query_log_table_from_pb(struct query_log_table *t,
			    Q53__Command__QueryLoggingConfig *const *pb,
			    size_t n);

#endif
