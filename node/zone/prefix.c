/* The longest-prefix table (prefix.h).
 *
 * Blob layout (host byte order, 8-aligned; built and read in one process):
 *   uint32_t n4, n6;                    ranges per family, each >= 1
 *   uint32_t start4[n4], value4[n4];    padded to 8
 *   uint64_t hi6[n6], lo6[n6];          range starts
 *   uint32_t value6[n6];                padded to 8
 * Range i covers [start[i], start[i+1]) (the last: to the family's end);
 * start[0] is 0. */
#include "node/zone/prefix.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"

typedef unsigned __int128 u128;

static u128 key_of(const uint8_t *addr, unsigned bytes)
{
	u128 k = 0;
	for (unsigned i = 0; i < bytes; i++)
		k = k << 8 | addr[i];
	return k;
}

struct span {
	u128 start, end;
	uint8_t len;
	uint32_t value;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->len == y->len ? 0 : (x->len < y->len ? -1 : 1);
}

struct ranges {
	u128 *start;
	uint32_t *value;
	size_t n;
};

static void emit(struct ranges *r, u128 at, uint32_t value)
{
	if (r->n > 0 && r->value[r->n - 1] == value)
		return;
	r->start[r->n] = at;
	r->value[r->n] = value;
	r->n++;
}

/* The ranges of the n spans of one family (bits wide) into r (room for
 * 2n + 1). Q53_EINVAL for one network with two values. */
static int sweep(struct span *s, size_t n, unsigned bits, struct ranges *r)
{
	u128 max = bits == 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
	struct span **stack = malloc((n ? n : 1) * sizeof(*stack));
	if (stack == NULL)
		return Q53_ENOMEM;
	qsort(s, n, sizeof(*s), span_cmp);
	size_t top = 0, i = 0;
	u128 cur = 0;
	int rc = 0;
	r->n = 0;
	for (;;) {
		while (top > 0 && stack[top - 1]->end < cur)
			top--;
		while (i < n && s[i].start == cur) {
			if (top > 0 && stack[top - 1]->start == s[i].start &&
			    stack[top - 1]->len == s[i].len) {
				if (stack[top - 1]->value != s[i].value) {
					rc = Q53_EINVAL;
					goto out;
				}
			} else {
				stack[top++] = &s[i];
			}
			i++;
		}
		emit(r, cur, top > 0 ? stack[top - 1]->value : PREFIX_NONE);
		bool more = false;
		u128 next = max;
		if (i < n) {
			next = s[i].start;
			more = true;
		}
		if (top > 0 && stack[top - 1]->end < max &&
		    (!more || stack[top - 1]->end + 1 < next)) {
			next = stack[top - 1]->end + 1;
			more = true;
		}
		if (!more)
			break;
		cur = next;
	}
out:
	free(stack);
	return rc;
}

static size_t pad8(size_t x)
{
	return (x + 7) & ~(size_t)7;
}

int prefix_table_build(struct prefix_entry *in, size_t n, void **blob,
		       size_t *blob_len)
{
	*blob = NULL;
	*blob_len = 0;
	size_t n4 = 0, n6 = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned bits = in[i].family == 4 ? 32 : 128;
		if ((in[i].family != 4 && in[i].family != 6) ||
		    in[i].len > bits || in[i].value == PREFIX_NONE)
			return Q53_EINVAL;
		if (in[i].family == 4)
			n4++;
		else
			n6++;
	}
	struct span *s4 = malloc((n4 ? n4 : 1) * sizeof(*s4));
	struct span *s6 = malloc((n6 ? n6 : 1) * sizeof(*s6));
	struct ranges r4 = {malloc((2 * n4 + 1) * sizeof(u128)),
			    malloc((2 * n4 + 1) * sizeof(uint32_t)), 0};
	struct ranges r6 = {malloc((2 * n6 + 1) * sizeof(u128)),
			    malloc((2 * n6 + 1) * sizeof(uint32_t)), 0};
	int rc = Q53_ENOMEM;
	if (s4 == NULL || s6 == NULL || r4.start == NULL || r4.value == NULL ||
	    r6.start == NULL || r6.value == NULL)
		goto out;
	size_t k4 = 0, k6 = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned bits = in[i].family == 4 ? 32 : 128;
		u128 key = key_of(in[i].addr, bits / 8);
		u128 host =
		    in[i].len == 0
			? (bits == 128 ? ~(u128)0 : ((u128)1 << bits) - 1)
			: (((u128)1 << (bits - in[i].len)) - 1);
		struct span sp = {key & ~host, (key & ~host) | host, in[i].len,
				  in[i].value};
		if (in[i].family == 4)
			s4[k4++] = sp;
		else
			s6[k6++] = sp;
	}
	if ((rc = sweep(s4, n4, 32, &r4)) != 0 ||
	    (rc = sweep(s6, n6, 128, &r6)) != 0)
		goto out;
	size_t off4 = 8, off6 = off4 + pad8(r4.n * 8);
	size_t offv6 = off6 + r6.n * 16;
	size_t len = pad8(offv6 + r6.n * 4);
	uint8_t *b = calloc(1, len);
	rc = Q53_ENOMEM;
	if (b == NULL)
		goto out;
	uint32_t h[2] = {(uint32_t)r4.n, (uint32_t)r6.n};
	memcpy(b, h, sizeof(h));
	uint32_t *st4 = (uint32_t *)(void *)(b + off4), *v4 = st4 + r4.n;
	for (size_t i = 0; i < r4.n; i++) {
		st4[i] = (uint32_t)r4.start[i];
		v4[i] = r4.value[i];
	}
	uint64_t *hi = (uint64_t *)(void *)(b + off6), *lo = hi + r6.n;
	uint32_t *v6 = (uint32_t *)(void *)(b + offv6);
	for (size_t i = 0; i < r6.n; i++) {
		hi[i] = (uint64_t)(r6.start[i] >> 64);
		lo[i] = (uint64_t)r6.start[i];
		v6[i] = r6.value[i];
	}
	*blob = b;
	*blob_len = len;
	rc = 0;
out:
	free(s4);
	free(s6);
	free(r4.start);
	free(r4.value);
	free(r6.start);
	free(r6.value);
	return rc;
}

/* Leading bits a and b share (a != b), in a space of bits. */
static unsigned cpl(u128 a, u128 b, unsigned bits)
{
	u128 x = a ^ b;
	uint64_t h = (uint64_t)(x >> 64), l = (uint64_t)x;
	unsigned z = h ? (unsigned)__builtin_clzll(h)
		       : 64u + (unsigned)__builtin_clzll(l);
	return z - (128 - bits);
}

uint32_t prefix_table_lookup(const void *blob, uint8_t family,
			     const uint8_t *addr, uint8_t *scope)
{
	const uint8_t *b = blob;
	uint32_t h[2];
	memcpy(h, b, sizeof(h));
	if (family != 4 && family != 6) {
		if (scope != NULL)
			*scope = 0;
		return PREFIX_NONE;
	}
	unsigned bits = family == 4 ? 32 : 128;
	size_t n = family == 4 ? h[0] : h[1];
	const uint32_t *st4 = (const uint32_t *)(const void *)(b + 8);
	size_t off6 = 8 + pad8((size_t)h[0] * 8);
	const uint64_t *hi = (const uint64_t *)(const void *)(b + off6);
	const uint64_t *lo = hi + h[1];
	const uint32_t *val =
	    family == 4 ? st4 + h[0]
			: (const uint32_t *)(const void *)(b + off6 +
							   (size_t)h[1] * 16);
	u128 key = key_of(addr, bits / 8);
#define START(i) (family == 4 ? (u128)st4[i] : ((u128)hi[i] << 64 | lo[i]))
	size_t l = 0, r = n; /* the last start <= key is in [l, r) */
	while (r - l > 1) {
		size_t m = l + (r - l) / 2;
		if (START(m) <= key)
			l = m;
		else
			r = m;
	}
	if (scope != NULL) {
		unsigned s = 0, c;
		if (l > 0 && (c = cpl(key, START(l) - 1, bits) + 1) > s)
			s = c;
		if (l + 1 < n && (c = cpl(key, START(l + 1), bits) + 1) > s)
			s = c;
		*scope = (uint8_t)s;
	}
#undef START
	return val[l];
}

size_t prefix_table_ranges(const void *blob)
{
	uint32_t h[2];
	memcpy(h, blob, sizeof(h));
	return (size_t)h[0] + h[1];
}
