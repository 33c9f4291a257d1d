#include "tests/unit/support/fsm_counter.h"

#include <endian.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"

#define SNAPSHOT_MAGIC 0x43333551u /* "Q53C" little-endian */
#define FNV_OFFSET     0xcbf29ce484222325ull
#define FNV_PRIME      0x100000001b3ull

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static void set_u64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static int counter_apply(struct q53_fsm *fsm, uint16_t type,
			 const uint8_t *payload, size_t len, int32_t *code,
			 uint8_t **out, size_t *out_len)
{
	struct q53_fsm_counter *c = fsm->data;
	uint8_t type_le[2] = {(uint8_t)(type & 0xff), (uint8_t)(type >> 8)};
	uint8_t *result;

	*out = NULL;
	*out_len = 0;
	if (type != Q53_FSM_COUNTER_APPEND) {
		*code = Q53_FSM_COUNTER_REJECTED;
		return 0;
	}
	/* Everything that can fail comes before the first change. */
	if (c->n == c->cap) {
		size_t cap = c->cap == 0 ? 16 : c->cap * 2;
		uint64_t *ids = raft_realloc(c->ids, cap * sizeof(*ids));

		if (ids == NULL)
			return Q53_ENOMEM;
		c->ids = ids;
		c->cap = cap;
	}
	result = raft_malloc(8);
	if (result == NULL)
		return Q53_ENOMEM;
	c->ids[c->n++] = len >= 8 ? get_u64(payload) : 0;
	c->hash = fnv(fnv(c->hash, type_le, 2), payload, len);
	set_u64(result, c->n);
	*code = 0;
	*out = result;
	*out_len = 8;
	return 0;
}

/* magic u64, n u64, hash u64, ids[n] u64 */
static int counter_snapshot(struct q53_fsm *fsm, uint8_t **buf, size_t *len)
{
	struct q53_fsm_counter *c = fsm->data;
	uint8_t *p;
	size_t i;

	*len = 24 + c->n * 8;
	*buf = raft_malloc(*len);
	if (*buf == NULL)
		return Q53_ENOMEM;
	p = *buf;
	set_u64(p, SNAPSHOT_MAGIC);
	set_u64(p + 8, c->n);
	set_u64(p + 16, c->hash);
	for (i = 0; i < c->n; i++)
		set_u64(p + 24 + i * 8, c->ids[i]);
	return 0;
}

/* Two-step snapshot: the capture is the snapshot itself (in a
 * raft_malloc'd holder), the encoding hands over a copy. */
struct counter_capture {
	uint8_t *buf;
	size_t len;
};

static int counter_capture(struct q53_fsm *fsm, void **out)
{
	struct counter_capture *cap = raft_malloc(sizeof(*cap));

	*out = NULL;
	if (cap == NULL)
		return Q53_ENOMEM;
	if (counter_snapshot(fsm, &cap->buf, &cap->len) != 0) {
		raft_free(cap);
		return Q53_ENOMEM;
	}
	*out = cap;
	return 0;
}

static int counter_encode(void *arg, uint8_t **buf, size_t *len)
{
	struct counter_capture *cap = arg;

	*buf = raft_malloc(cap->len);
	*len = *buf != NULL ? cap->len : 0;
	if (*buf == NULL)
		return Q53_ENOMEM;
	memcpy(*buf, cap->buf, cap->len);
	return 0;
}

static void counter_release(struct q53_fsm *fsm, void *arg)
{
	struct counter_capture *cap = arg;

	(void)fsm;
	raft_free(cap->buf);
	raft_free(cap);
}

static int counter_restore(struct q53_fsm *fsm, const uint8_t *buf, size_t len)
{
	struct q53_fsm_counter *c = fsm->data;
	uint64_t *ids = NULL;
	uint64_t n;
	size_t i;

	if (len < 24 || get_u64(buf) != SNAPSHOT_MAGIC)
		return Q53_EMALF;
	n = get_u64(buf + 8);
	if (n != (len - 24) / 8 || (len - 24) % 8 != 0)
		return Q53_EMALF;
	if (n > 0) {
		ids = raft_malloc((size_t)n * sizeof(*ids));
		if (ids == NULL)
			return Q53_ENOMEM;
		for (i = 0; i < n; i++)
			ids[i] = get_u64(buf + 24 + i * 8);
	}
	raft_free(c->ids);
	c->ids = ids;
	c->n = (size_t)n;
	c->cap = (size_t)n;
	c->hash = get_u64(buf + 16);
	return 0;
}

void q53_fsm_counter_init(struct q53_fsm_counter *c)
{
	memset(c, 0, sizeof(*c));
	c->hash = FNV_OFFSET;
	c->fsm.data = c;
	c->fsm.apply = counter_apply;
	c->fsm.snapshot = counter_snapshot;
	c->fsm.restore = counter_restore;
	c->fsm.snapshot_capture = counter_capture;
	c->fsm.snapshot_encode = counter_encode;
	c->fsm.snapshot_release = counter_release;
}

void q53_fsm_counter_close(struct q53_fsm_counter *c)
{
	raft_free(c->ids);
	c->ids = NULL;
	c->n = 0;
	c->cap = 0;
}
