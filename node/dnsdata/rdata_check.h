/* Is a record's RDATA well-formed for its type? Checked with libknot's wire
 * parser (the type's descriptor: fixed sizes, names, length-prefixed
 * strings). Zone files and stored records pass through it, so an RFC 3597
 * "\# 3 ..." A record (3 bytes) never reaches an answer or a dumper. */
#ifndef Q53_NODE_DNSDATA_RDATA_CHECK_H
#define Q53_NODE_DNSDATA_RDATA_CHECK_H

#include <stdint.h>

/* Returns 0, Q53_EMALF (not valid for type, or not in the form libknot
 * stores it: e.g. a compressed name) or Q53_ENOMEM. */
int rdata_check(uint16_t type, const uint8_t *rdata, uint16_t rdlen);

#endif
