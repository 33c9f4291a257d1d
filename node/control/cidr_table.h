/* The CIDR collections of IP-based routing (Route 53's
 * CreateCidrCollection / ChangeCidrCollection / DeleteCidrCollection):
 * part of the control FSM's state, pure (no I/O), by id; each collection's
 * locations by name, each location's blocks by (family, address, length).
 * Memory from the raft heap (raft_heap_set makes it fail). Errors start
 * with Route 53's code ("Code: message"). */
#ifndef Q53_NODE_CONTROL_CIDR_TABLE_H
#define Q53_NODE_CONTROL_CIDR_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/control/cidr_block.h"
#include "node/control/command.h"

/* Route 53's shapes (service-2.json) and quotas. */
#define CIDR_COLLECTIONS_MAX  5	   /* per account (LimitsExceeded) */
#define CIDR_BLOCKS_MAX	      1000 /* per collection (LimitsExceeded) */
#define CIDR_NAME_MAX	      64   /* CollectionName */
#define CIDR_CALLER_MAX	      64   /* CidrNonce */
#define CIDR_LOCATION_MAX     16   /* CidrLocationName... */
#define CIDR_CHANGES_MAX      1000 /* CidrCollectionChanges */
#define CIDR_LIST_MAX	      1000 /* CidrList */
#define CIDR_ID_LEN	      36   /* a UUID */
#define CIDR_DEFAULT_LOCATION "*"

struct cidr_location {
	char *name;
	struct cidr_block *blocks; /* n > 0, sorted, distinct */
	size_t n;
};

struct cidr_collection {
	char *id;
	char *name;
	char *caller_reference;
	uint64_t version;	    /* 1 at creation, +1 per change */
	struct cidr_location *locs; /* by name (strcmp) */
	size_t n_locs;
	size_t n_blocks; /* over every location */
};

struct cidr_table {
	struct cidr_collection *v; /* by id */
	size_t n;
	size_t cap;
};

/* Whether record sets use (collection id, location): location NULL means
 * any location of it. A pure function of the caller's state. */
typedef bool (*cidr_in_use_fn)(void *ctx, const char *id, const char *location);

void cidr_table_init(struct cidr_table *t);
void cidr_table_free(struct cidr_table *t);

/* Route 53's patterns: [0-9A-Za-z_-], 1..64 (collection) / 1..16
 * (location); a location of a record set may also be "*". */
bool cidr_collection_name_ok(const char *name);
bool cidr_location_name_ok(const char *name, bool default_allowed);
/* A lowercase UUID ("8-4-4-4-12" hex). */
bool cidr_id_ok(const char *id);

/* Creates a collection (version 1). A collection with this name and the
 * same caller reference already there: 0 with *existing set to it (a
 * retry, nothing changes). Errors: "InvalidInput: ..." (Q53_EINVAL),
 * "CidrCollectionAlreadyExistsException: ..." (Q53_EEXIST: the name, or
 * the caller reference, is another collection's), "LimitsExceeded: ..."
 * (Q53_ELIMIT), Q53_ENOMEM. Unchanged unless 0 with *existing NULL. */
int cidr_table_create(struct cidr_table *t,
		      const struct command_create_cidr_collection *c,
		      const struct cidr_collection **existing, char *err,
		      size_t errlen);

/* Checks a change's shape on its own (what the proposer checks; apply
 * again): 1..CIDR_CHANGES_MAX changes, each with a valid location name,
 * a known action and 1..CIDR_LIST_MAX valid blocks. 0 or Q53_EINVAL
 * ("InvalidInput: ..."). */
int cidr_table_check_change(const struct command_change_cidr_collection *c,
			    char *err, size_t errlen);

/* Applies c (changes in order, all or nothing) and bumps the version.
 * Errors: "NoSuchCidrCollectionException" (Q53_ENOENT),
 * "CidrCollectionVersionMismatchException" (Q53_EEXIST),
 * "InvalidInput" (a block another location holds; the shape),
 * "CidrBlockInUseException" (a location that record sets use would lose
 * its last block), "LimitsExceeded" (more than CIDR_BLOCKS_MAX blocks),
 * Q53_ENOMEM; t unchanged unless 0. in_use may be NULL (nothing used). */
int cidr_table_change(struct cidr_table *t,
		      const struct command_change_cidr_collection *c,
		      cidr_in_use_fn in_use, void *ctx, char *err,
		      size_t errlen);

/* Deletes a collection. Errors: "NoSuchCidrCollectionException",
 * "CidrCollectionVersionMismatchException" (version given and not
 * current), "CidrCollectionInUseException" (record sets use it, or it
 * still holds locations: Route 53 deletes only empty collections). */
int cidr_table_delete(struct cidr_table *t, const char *id, uint64_t version,
		      cidr_in_use_fn in_use, void *ctx, char *err,
		      size_t errlen);

/* The collection with id, NULL when none. Valid until t changes. */
const struct cidr_collection *cidr_table_get(const struct cidr_table *t,
					     const char *id);
/* The collection named name, NULL when none. */
const struct cidr_collection *cidr_table_by_name(const struct cidr_table *t,
						 const char *name);
/* The location named name of c, NULL when none. */
const struct cidr_location *
cidr_collection_location(const struct cidr_collection *c, const char *name);

/* Adds a collection (untrusted: a snapshot) after every one t holds: ids
 * increasing, names once, locations by name each with sorted distinct
 * valid blocks, within the limits. Takes the locations' arrays as given
 * (copied). 0, Q53_EMALF or Q53_ENOMEM (t unchanged). */
int cidr_table_load(struct cidr_table *t, const char *id, const char *name,
		    const char *caller_reference, uint64_t version,
		    const struct cidr_location *locs, size_t n_locs);

#endif
