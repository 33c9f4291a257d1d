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

#endif
