/* A bounded cursor over untrusted wire data with a sticky error: reads past
 * the end yield zeros and set err, checked once at the end (house style
 * #7, after Knot's wire_ctx). */
#ifndef Q53_NODE_DNS_WIRE_H
#define Q53_NODE_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire_cursor {
	const uint8_t *start;
	const uint8_t *pos;
	const uint8_t *end;
	bool err;
};

static inline void wire_init(struct wire_cursor *w, const uint8_t *p,
			     size_t len)
{
	w->start = p;
	w->pos = p;
	w->end = p + len;
	w->err = false;
}

static inline size_t wire_left(const struct wire_cursor *w)
{
	return (size_t)(w->end - w->pos);
}

static inline size_t wire_offset(const struct wire_cursor *w)
{
	return (size_t)(w->pos - w->start);
}

static inline void wire_skip(struct wire_cursor *w, size_t n)
{
	if (w->err || wire_left(w) < n) {
		w->err = true;
		w->pos = w->end;
		return;
	}
	w->pos += n;
}

static inline uint8_t wire_u8(struct wire_cursor *w)
{
	if (w->err || wire_left(w) < 1) {
		w->err = true;
		return 0;
	}
	return *w->pos++;
}

static inline uint16_t wire_u16(struct wire_cursor *w)
{
	if (w->err || wire_left(w) < 2) {
		w->err = true;
		w->pos = w->end;
		return 0;
	}
	uint16_t v = (uint16_t)(w->pos[0] << 8 | w->pos[1]);
	w->pos += 2;
	return v;
}

static inline uint32_t wire_u32(struct wire_cursor *w)
{
	uint32_t hi = wire_u16(w);
	return hi << 16 | wire_u16(w);
}

/* Skips a possibly compressed name (RFC 1035 4.1.4). Pointers must point
 * strictly backwards and stay inside the message, labels must be <= 63
 * bytes and the expanded name <= 255 bytes; otherwise err is set. Returns
 * true when the name is the root (a single zero byte). */
bool wire_skip_name(struct wire_cursor *w);

#endif
