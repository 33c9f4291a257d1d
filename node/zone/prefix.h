/* An immutable longest-prefix table: IPv4 and IPv6 networks, each with a
 * 32-bit value, built once (when a view or a location table is built) into
 * one flat blob without pointers, so it can be copied into a choice's extra
 * data (choice.h) or kept on its own, and looked up at query time with no
 * allocation and no lock.
 *
 * The blob holds, per family, the address space cut into disjoint ranges,
 * each with the value of the longest prefix covering it (PREFIX_NONE where
 * none does); neighbouring ranges of one value are merged. A lookup is a
 * binary search, and also tells the ECS scope: the shortest prefix length
 * of the address whose whole network gets the same value (RFC 7871's
 * SCOPE PREFIX-LENGTH for an answer that depends only on the value). */
#ifndef Q53_NODE_ZONE_PREFIX_H
#define Q53_NODE_ZONE_PREFIX_H

#include <stddef.h>
#include <stdint.h>

#define PREFIX_NONE UINT32_MAX

/* A network given to prefix_table_build: family 4 (addr[0..4)) or 6
 * (addr[0..16)), len <= 32 or 128 (host bits are ignored). */
struct prefix_entry {
	uint8_t family;
	uint8_t len;
	uint8_t addr[16];
	uint32_t value; /* not PREFIX_NONE */
};

/* Builds the table of in[0..n) into *blob (malloc'd, *blob_len bytes, a
 * multiple of 8; free with free()). in is reordered. 0, Q53_EINVAL (a bad
 * family or length, the value PREFIX_NONE, or one network given twice
 * with different values) or Q53_ENOMEM. n == 0 gives a table where
 * everything is PREFIX_NONE. */
int prefix_table_build(struct prefix_entry *in, size_t n, void **blob,
		       size_t *blob_len);

/* The value of the longest prefix of blob holding addr (family 4: 4 bytes,
 * 6: 16 bytes), or PREFIX_NONE; *scope (may be NULL): the ECS scope as
 * above (0 .. 32 or 128). blob: 8-aligned, from prefix_table_build. */
uint32_t prefix_table_lookup(const void *blob, uint8_t family,
			     const uint8_t *addr, uint8_t *scope);

/* Ranges in the table (both families): a size for benchmarks and tests. */
size_t prefix_table_ranges(const void *blob);

#endif
