/* The tags of hosted zones and health checks (Route 53's
 * ChangeTagsForResource / ListTagsForResource): part of the control FSM's
 * state, pure (no I/O), kept by (resource type, id), each resource's tags
 * by key. Memory from the raft heap (raft_heap_set makes it fail). */
#ifndef Q53_NODE_CONTROL_TAG_TABLE_H
#define Q53_NODE_CONTROL_TAG_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "node/control/command.h"

#define TAG_TABLE_TYPE_ZONE  "hostedzone"
#define TAG_TABLE_TYPE_CHECK "healthcheck"

struct tag_kv {
	char *key;
	char *value;
};

struct tag_resource {
	char *type; /* TAG_TABLE_TYPE_* */
	char *id;
	struct tag_kv *tags; /* by key (strcmp), n > 0 */
	size_t n;
};

struct tag_table {
	struct tag_resource *v; /* by (type, id) */
	size_t n;
	size_t cap;
};

void tag_table_init(struct tag_table *t);
void tag_table_free(struct tag_table *t);

/* True for "hostedzone" and "healthcheck". */
bool tag_table_type_ok(const char *type);

/* Checks a change on its own (Route 53's rules: 1 to
 * COMMAND_TAG_CHANGES_MAX additions or removals, keys of 1 to
 * COMMAND_TAG_KEY_MAX characters not starting with "aws:", values up to
 * COMMAND_TAG_VALUE_MAX, a key once per list). 0 or Q53_EINVAL with
 * "InvalidInput: ..." in err. What the proposer checks; apply checks it
 * again (log entries are untrusted). */
int tag_table_check_change(const struct command_change_tags *c, char *err,
			   size_t errlen);

/* Applies c (removals, then additions; a key added again gets the new
 * value) to the resource's tags, all or nothing. 0, Q53_EINVAL
 * ("InvalidInput: ..." in err: the change is invalid, or the resource
 * would hold more than COMMAND_TAGS_MAX tags) or Q53_ENOMEM; t is
 * unchanged unless 0. That the resource exists is the caller's to
 * check. */
int tag_table_change(struct tag_table *t, const struct command_change_tags *c,
		     char *err, size_t errlen);

/* Drops a resource's tags (it was deleted). Cannot fail. */
void tag_table_drop(struct tag_table *t, const char *type, const char *id);

/* The resource's tags, NULL when it has none. Valid until t changes. */
const struct tag_resource *tag_table_get(const struct tag_table *t,
					 const char *type, const char *id);

/* Adds a resource with tags[0..n) (untrusted: a snapshot) after every
 * resource t holds: (type, id) increasing, keys increasing, each tag
 * valid. 0, Q53_EMALF or Q53_ENOMEM (t unchanged). */
int tag_table_load(struct tag_table *t, const char *type, const char *id,
		   const struct command_tag *tags, size_t n);

#endif
