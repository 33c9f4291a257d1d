/* The answer compiler: resolves every (name, type) a zone can be asked for
 * with the full RFC 1034 4.3.2 algorithm once, at load time, and stores
 * the wire-format response tail, so the query path only copies it. */
#ifndef Q53_NODE_ZONE_COMPILE_H
#define Q53_NODE_ZONE_COMPILE_H

#include <stddef.h>

struct zone;

/* Compiles answers for every node of z (tree already linked and marked).
 * Returns 0, or a negative q53_err with a reason in errbuf. */
int zone_compile(struct zone *z, char *errbuf, size_t errlen);

struct zone_node;

/* Compiles nodes[0..n) of z (every node they depend on already linked and
 * marked in z's index) and z's negative answers when z has none yet;
 * records the volatile ones in z->vol. Same errors. */
int zone_compile_nodes(struct zone *z, struct zone_node *const *nodes, size_t n,
		       char *errbuf, size_t errlen);

#endif
