/* IP-based routing at query time (Route 53's CIDR collections): a choice
 * of kind ZONE_CHOICE_IP answers with the leaf of the longest CIDR block
 * holding the client's network, else its default ("*") leaf, else NODATA.
 * Its extra data (built by node/control/zone_store_routing.c when the view
 * is built; no pointers) is a struct zone_ip_extra, the longest-prefix
 * table of every block (node/zone/prefix.h: value = leaf index, or
 * ZONE_IP_NODATA for the blocks of an unhealthy location without a
 * healthy default) and the blocks themselves, for the rare client whose
 * ECS SOURCE PREFIX-LENGTH is shorter than the table would need: Route 53
 * matches such a client only with blocks no longer than its prefix. No
 * allocation, no lock. */
#ifndef Q53_NODE_ZONE_CHOICE_IP_H
#define Q53_NODE_ZONE_CHOICE_IP_H

#include <stdint.h>
#include <string.h>

#include "node/zone/choice.h"
#include "node/zone/prefix.h"

#define ZONE_IP_NODATA 0xFFFFFFFEu

struct zone_ip_extra {
	uint32_t table_len; /* bytes of the prefix table (a multiple of 8) */
	uint32_t nblocks;
	uint32_t def; /* the "*" leaf, or ZONE_IP_NODATA */
	uint32_t reserved;
	/* then the table, then nblocks struct zone_ip_block */
};

struct zone_ip_block {
	uint8_t family; /* 4 or 6 */
	uint8_t len;
	uint8_t pad[2];
	uint32_t value; /* as in the table */
	uint8_t addr[16];
};

static inline const void *zone_ip_table(const struct zone_ip_extra *x)
{
	return x + 1;
}

static inline const struct zone_ip_block *
zone_ip_blocks(const struct zone_ip_extra *x)
{
	return (
	    const struct zone_ip_block *)(const void *)((const uint8_t *)(x +
									  1) +
							x->table_len);
}

static inline int zone_ip_bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* Whether the first len bits of a and b agree. */
static inline int zone_ip_prefix_eq(const uint8_t *a, const uint8_t *b,
				    unsigned len)
{
	unsigned full = len / 8, rest = len % 8;
	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xFFu << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* The leaf of IP choice c for the key's network: its index, or c->n or
 * more for NODATA. Sets k->scope to the prefix length the answer holds
 * for (the ECS SCOPE PREFIX-LENGTH). The client's prefix: the ECS source
 * (k->scope as the query path set it) or the source address's /24, /56. */
static inline uint32_t zone_ip_pick(const struct zone_choice *c,
				    struct zone_choice_key *k)
{
	const struct zone_ip_extra *x = zone_choice_extra(c);
	uint8_t addr[16] = {0}, scope = 0;

	if ((k->family != 4 && k->family != 6) || k->subnet_len > 16) {
		k->scope = 0;
		return x->def;
	}
	unsigned src = k->scope != 0 ? k->scope : k->subnet_len * 8u;
	memcpy(addr, k->subnet, k->subnet_len);
	uint32_t v =
	    prefix_table_lookup(zone_ip_table(x), k->family, addr, &scope);
	if (scope > src) {
		/* The table's answer depends on bits the client did not
		 * give: the longest block no longer than its prefix. */
		const struct zone_ip_block *b = zone_ip_blocks(x);
		unsigned best = 0;
		v = PREFIX_NONE;
		for (uint32_t i = 0; i < x->nblocks; i++) {
			if (b[i].family != k->family || b[i].len > src ||
			    b[i].len < best ||
			    !zone_ip_prefix_eq(b[i].addr, addr, b[i].len))
				continue;
			if (b[i].len > best || v == PREFIX_NONE) {
				best = b[i].len;
				v = b[i].value;
			}
		}
		scope = (uint8_t)src;
	}
	k->scope = scope;
	return v == PREFIX_NONE ? x->def : v;
}

#endif
