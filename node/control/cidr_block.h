/* A CIDR block of IP-based routing (Route 53's CIDR collections): the
 * typed form the log, the snapshot, the collection table and the zone
 * builder share. Pure. */
#ifndef Q53_NODE_CONTROL_CIDR_BLOCK_H
#define Q53_NODE_CONTROL_CIDR_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Route 53's prefix lengths: IPv4 1 to 24, IPv6 1 to 48 (0.0.0.0/0 and
 * ::/0 are the "*" default location, not blocks). */
#define CIDR_BLOCK_V4_MAX 24
#define CIDR_BLOCK_V6_MAX 48
/* "ffff:ffff:ffff::/48" and the like; Route 53's Cidr is 1..50. */
#define CIDR_BLOCK_TEXT_MAX 50

struct cidr_block {
	uint8_t family;	  /* 4 or 6 */
	uint8_t len;	  /* prefix length */
	uint8_t addr[16]; /* network address (host bits zero); 4 used for v4 */
};

/* Parses "ADDR/LEN" (Route 53's Cidr). 0, or Q53_EINVAL with
 * "InvalidInput: ..." in err (not an address, a length out of Route 53's
 * range, bits set past the prefix). */
int cidr_block_parse(const char *text, struct cidr_block *out, char *err,
		     size_t errlen);
/* The block as text ("10.1.0.0/16", "2001:db8::/32") into
 * out[CIDR_BLOCK_TEXT_MAX + 1]. */
void cidr_block_format(const struct cidr_block *b, char *out, size_t outlen);
/* Family 4 or 6, length in range, host bits zero (untrusted input). */
bool cidr_block_valid(const struct cidr_block *b);
/* Orders by family, address, length. */
int cidr_block_cmp(const struct cidr_block *a, const struct cidr_block *b);
/* Whether the address addr (family's bytes) lies in b. */
bool cidr_block_contains(const struct cidr_block *b, uint8_t family,
			 const uint8_t *addr);

#endif
