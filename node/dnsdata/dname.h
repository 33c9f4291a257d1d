/* Domain names in uncompressed wire format (RFC 1035 3.1), as stored in
 * zones and looked up on the query path. Pure functions, no allocation. */
#ifndef Q53_NODE_DNSDATA_DNAME_H
#define Q53_NODE_DNSDATA_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DNAME_MAXLEN	255
#define DNAME_MAXLABELS 128

/* Length of the wire name at p (including the root byte), reading at most
 * max bytes; 0 when it is malformed (compression, a label > 63, > 255 bytes
 * or running past max). */
size_t dname_wire_len(const uint8_t *p, size_t max);

/* Number of labels (root excluded) of a well-formed name. */
size_t dname_label_count(const uint8_t *name);

/* Copies a well-formed name of len bytes to dst, lowercasing ASCII. */
void dname_lower_copy(uint8_t *dst, const uint8_t *src, size_t len);

/* Case-insensitive equality of two well-formed names. */
bool dname_equal(const uint8_t *a, const uint8_t *b);

/* True when name equals or is below parent (both well-formed, any case). */
bool dname_is_sub(const uint8_t *name, size_t name_len, const uint8_t *parent,
		  size_t parent_len);

/* Hash of len bytes of a lowercase wire name (the name index key). */
static inline uint64_t dname_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		p += 8;
		len -= 8;
	}
	if (len > 0) {
		uint64_t w = 0;
		memcpy(&w, p, len);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	}
	h ^= h >> 29;
	return h;
}

/* Writes the presentation form of a well-formed name into out (always
 * NUL-terminated, truncated to outlen). For messages, not for the wire. */
void dname_to_text(const uint8_t *name, char *out, size_t outlen);

#endif
