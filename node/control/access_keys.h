/* The REST API's access keys in the replicated state: a table by id that
 * the control FSM (control_fsm.c) applies CreateAccessKey / DeleteAccessKey
 * to, snapshots (FsmSnapshot.access_keys) and restores. Each key carries
 * its typed IAM policy (proto/command.proto AccessPolicy), parsed once at
 * the edge (node/control/iam_policy.h); here only its ranges are
 * checked, since log entries are untrusted bytes. Pure: no I/O, no clock.
 * Memory: raft_malloc (raft_heap_set fails it in tests). */
#ifndef Q53_NODE_CONTROL_ACCESS_KEYS_H
#define Q53_NODE_CONTROL_ACCESS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/control/command.h"

#define ACCESS_KEYS_MAX		     1000
#define ACCESS_KEY_ID_MIN	     16
#define ACCESS_KEY_ID_MAX	     128
#define ACCESS_KEY_SECRET_LEN	     40
#define ACCESS_KEY_DESCRIPTION_MAX   1000
#define ACCESS_POLICY_DOCUMENT_MAX   10240
#define ACCESS_POLICY_STATEMENTS_MAX 100
#define ACCESS_POLICY_ITEMS_MAX	     100 /* actions, resources, values */
#define ACCESS_POLICY_TEXT_MAX	     1024

/* enum iam_condition_op / iam_condition_key (iam_policy.h): the ranges */
#define ACCESS_POLICY_OP_MAX  2
#define ACCESS_POLICY_KEY_MAX 3

struct Q53__Command__AccessKey;

struct access_key {
	char *id;
	char *secret;
	char *description;     /* "" when none */
	char *policy_document; /* as given */
	uint64_t created_ms;
	uint64_t created_index;
	struct Q53__Command__AccessPolicy *policy; /* owned (arena) */
	void *arena;
};

struct access_keys {
	struct access_key *v; /* by id */
	size_t n;
	size_t cap;
};

void access_keys_init(struct access_keys *t);
void access_keys_free(struct access_keys *t);

/* The key with this id, NULL when none. Valid until the table changes. */
const struct access_key *access_keys_find(const struct access_keys *t,
					  const char *id);

/* Whether c may be added: 0, or a q53_err with "Name: message" in err
 * (InvalidInput, EntityAlreadyExists, LimitExceeded). *same: the key
 * exists with this very secret (a retried proposal: nothing to do). */
int access_keys_check(const struct access_keys *t,
		      const struct command_create_access_key *c, bool *same,
		      char *err, size_t errlen);

/* Copies c into *k (release with access_key_clear) and reserves room for
 * one more key. 0 or Q53_ENOMEM. */
int access_keys_prepare(struct access_keys *t,
			const struct command_create_access_key *c,
			uint64_t index, struct access_key *k);
void access_key_clear(struct access_key *k);
/* Moves *k in (after access_keys_prepare); cannot fail. */
void access_keys_insert(struct access_keys *t, struct access_key *k);
/* 0 or Q53_ENOENT. */
int access_keys_remove(struct access_keys *t, const char *id);

/* The snapshot form: *items and *ptrs (raft_malloc'd, release both with
 * raft_free) point into t. 0 or Q53_ENOMEM. */
int access_keys_to_pb(const struct access_keys *t,
		      struct Q53__Command__AccessKey **items,
		      struct Q53__Command__AccessKey ***ptrs);
/* Fills the empty t from a snapshot's keys (untrusted): 0, Q53_EMALF
 * (not by id, a field out of range, created after applied) or
 * Q53_ENOMEM. */
int access_keys_restore(struct access_keys *t,
			struct Q53__Command__AccessKey *const *keys, size_t n,
			uint64_t applied);

#endif
