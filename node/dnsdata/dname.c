#include "node/dnsdata/dname.h"

#include <stdio.h>

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

size_t dname_wire_len(const uint8_t *p, size_t max)
{
	size_t len = 0;
	for (;;) {
		if (len >= max)
			return 0;
		uint8_t l = p[len];
		if (l == 0)
			break;
		if (l > 63)
			return 0;
		len += 1u + l;
		if (len > DNAME_MAXLEN - 1)
			return 0;
	}
	return len + 1;
}

size_t dname_label_count(const uint8_t *name)
{
	size_t n = 0;
	while (*name) {
		name += 1u + *name;
		n++;
	}
	return n;
}

void dname_lower_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = lower(src[i]);
}

bool dname_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		if (*a == 0)
			return true;
		size_t l = *a;
		for (size_t i = 1; i <= l; i++) {
			if (lower(a[i]) != lower(b[i]))
				return false;
		}
		a += l + 1;
		b += l + 1;
	}
}

bool dname_is_sub(const uint8_t *name, size_t name_len, const uint8_t *parent,
		  size_t parent_len)
{
	if (name_len < parent_len)
		return false;
	const uint8_t *p = name;
	while ((size_t)(name + name_len - p) > parent_len)
		p += 1u + *p;
	if ((size_t)(name + name_len - p) != parent_len)
		return false;
	return dname_equal(p, parent);
}

void dname_to_text(const uint8_t *name, char *out, size_t outlen)
{
	size_t o = 0;
	if (outlen == 0)
		return;
	if (*name == 0) {
		snprintf(out, outlen, ".");
		return;
	}
	while (*name && o + 1 < outlen) {
		uint8_t l = *name++;
		for (uint8_t i = 0; i < l && o + 1 < outlen; i++) {
			uint8_t c = name[i];
			if (c == '.' || c == '\\') {
				if (o + 2 >= outlen)
					break;
				out[o++] = '\\';
				out[o++] = (char)c;
			} else if (c > 0x20 && c < 0x7f) {
				out[o++] = (char)c;
			} else {
				if (o + 4 >= outlen)
					break;
				o += (size_t)snprintf(out + o, outlen - o,
						      "\\%03u", c);
			}
		}
		name += l;
		if (o + 1 < outlen)
			out[o++] = '.';
	}
	out[o] = '\0';
}
