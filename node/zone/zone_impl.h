/* Internals shared by the zone loader (zone.c), the incremental builder
 * (zone_update.c) and the answer compiler (compile.c). Not for other
 * modules. */
#ifndef Q53_NODE_ZONE_ZONE_IMPL_H
#define Q53_NODE_ZONE_ZONE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "node/zone/node.h"

struct zone_loader {
	struct zone *z;
	const char *name; /* file path or label, for messages */
	char *err;
	size_t errlen;
	int rc;
};

int zone_load_fail(struct zone_loader *l, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An empty zone version for origin (wire, any case) with its apex node
 * (when with_apex: a full build, whose nodes come from a slab), or NULL. */
struct zone *zone_alloc(const uint8_t *origin, size_t olen, int with_apex);
/* Links, checks and compiles the zone l->z holds (the loader's last step;
 * on failure the message is in l->err and l->z is the caller's to
 * destroy). */
int zone_loader_finish(struct zone_loader *l);
void zone_destroy(struct zone *z);

/* A new node named name (lowercase) in z's index (replacing a node of the
 * same name), or the node already created by this build. NULL: no
 * memory. The node is recorded in z->nodes (build time). */
struct zone_node *zone_node_add(struct zone *z, const uint8_t *name,
				size_t len);
/* Adds one record (the zone file's checks), creating its node. */
int zone_record_add(struct zone_loader *l, const uint8_t *owner_any, size_t len,
		    uint16_t rclass, uint16_t type, uint32_t ttl,
		    const uint8_t *rdata, size_t rdlen, uint64_t line);
/* The CNAME rules of one node (RFC 1034 3.6.2), and the apex's SOA/NS. */
int zone_node_check(struct zone_loader *l, const struct zone_node *n);
int zone_apex_check(struct zone_loader *l);
/* Sets n->cut and, for a "*" node, its parent's wildcard, from z's index
 * (every ancestor of n already current). */
void zone_node_mark(struct zone *z, struct zone_node *n);
/* Moves n's record data into one allocation (no record may be added
 * after). 0 or Q53_ENOMEM (n unchanged). */
int zone_node_compact(struct zone *z, struct zone_node *n);
/* Memory for n's packed data or answers, from where n itself came (z's
 * slab for a ZONE_NODE_SLAB node, else malloc); freed by
 * zone_node_mem_free. NULL: no memory. */
void *zone_node_mem_alloc(struct zone *z, const struct zone_node *n,
			  size_t size);
void zone_node_mem_free(const struct zone_node *n, void *p);
/* One choice of a draft's tree (preorder: nodes[0] is the root, a
 * child after its parent): its kind, extra data and its leaves, the
 * draft's slots first..first + n. */
struct zone_choice_draft_node {
	uint8_t kind; /* enum zone_choice_kind */
	uint32_t n;
	uint32_t first;
	const void *extra; /* in the draft's mem */
	size_t extra_len;
};
/* A query-time choice being built: owner's type answers with one of the
 * tree's leaves (packed RRsets of that type, one allocation mem with
 * weights). n slots over all nodes; slot s is leaf s - first of its
 * node, an answer (leaves[s]) or, child[s] >= 0, the nested node
 * nodes[child[s]] (leaves[s] empty). kind, extra: the root's. */
struct zone_choice_draft {
	uint8_t owner[255];
	uint8_t owner_len;
	uint16_t type;
	uint32_t n;
	uint8_t kind;			 /* enum zone_choice_kind */
	const uint32_t *weights;	 /* shares (> 0) or keys */
	const struct zone_rrset *leaves; /* packed */
	const void *extra;		 /* in mem */
	size_t extra_len;
	uint32_t nnodes; /* >= 1 */
	const struct zone_choice_draft_node *nodes;
	const int32_t *child;
	void *mem;
};
struct zone_choice_spec;
/* Copies a choice for owner (lowercase, a node of this build) into
 * z->choices and flags the node. 0, Q53_EINVAL (no such node, no leaves,
 * too many, a weight 0 in a WEIGHTED choice, an unknown kind), Q53_ENOMEM. */
int zone_choice_add(struct zone *z, const uint8_t *owner, size_t len,
		    uint16_t type, const struct zone_choice_spec *spec);
/* Sorts z->choices by owner (before compiling) / frees them (after). */
void zone_choices_sort(struct zone *z);
void zone_choices_free(struct zone *z);
/* The drafts of node n: *count of them from the returned one (NULL: 0). */
const struct zone_choice_draft *
zone_choices_of(const struct zone *z, const struct zone_node *n, size_t *count);

/* Puts the nodes a grouped build created since the last call into the
 * index (name_index_put_batch). 0, Q53_ENOMEM, Q53_ERANGE or Q53_EEXIST
 * (a name added twice, apart). */
int zone_index_pending(struct zone *z);
/* Records n's name in z->vol. 0 or Q53_ENOMEM. */
int zone_vol_add(struct zone *z, const struct zone_node *n);
/* Sets z->build_id to a new process-wide unique value. */
void zone_new_build_id(struct zone *z);

#endif
