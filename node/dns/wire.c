#include "node/dns/wire.h"

bool wire_skip_name(struct wire_cursor *w)
{
	if (w->err)
		return false;
	const uint8_t *p = w->pos;
	const uint8_t *after = NULL;   /* where the cursor resumes */
	const uint8_t *limit = w->pos; /* pointers must go below this */
	size_t expanded = 0;
	bool root = true;
	for (;;) {
		if (p >= w->end)
			goto bad;
		uint8_t l = *p;
		if ((l & 0xC0) == 0xC0) {
			if (p + 1 >= w->end)
				goto bad;
			size_t target = (size_t)(l & 0x3F) << 8 | p[1];
			if (after == NULL)
				after = p + 2;
			/* Strictly backwards from the pointer itself and
			 * from every earlier jump: no loops. */
			if (w->start + target >= limit)
				goto bad;
			limit = w->start + target;
			p = w->start + target;
			continue;
		}
		if (l > 63)
			goto bad;
		expanded += 1u + l;
		if (expanded > 255)
			goto bad;
		if (l == 0)
			break;
		root = false;
		p += 1u + l;
		if (p > w->end)
			goto bad;
		if (after == NULL)
			limit = p;
	}
	w->pos = after ? after : p + 1;
	return root;
bad:
	w->err = true;
	w->pos = w->end;
	return false;
}
