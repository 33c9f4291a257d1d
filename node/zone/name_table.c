#include "node/zone/name_table.h"

#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"

int name_table_init(struct name_table *t, size_t expected)
{
	size_t cap = 16;
	while (cap < expected * 2)
		cap <<= 1;
	t->slots = calloc(cap, sizeof(*t->slots));
	if (t->slots == NULL)
		return Q53_ENOMEM;
	t->mask = cap - 1;
	t->count = 0;
	return 0;
}

void name_table_free(struct name_table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->mask = 0;
	t->count = 0;
}

static int grow(struct name_table *t)
{
	struct name_table bigger;
	int rc = name_table_init(&bigger, (t->mask + 1));
	if (rc != 0)
		return rc;
	for (size_t i = 0; i <= t->mask; i++) {
		struct name_table_slot *s = &t->slots[i];
		if (s->name == NULL)
			continue;
		size_t j = s->hash & bigger.mask;
		while (bigger.slots[j].name != NULL)
			j = (j + 1) & bigger.mask;
		bigger.slots[j] = *s;
		bigger.count++;
	}
	free(t->slots);
	*t = bigger;
	return 0;
}

int name_table_put(struct name_table *t, const uint8_t *name, size_t len,
		   void *value, void **old)
{
	if ((t->count + 1) * 2 > t->mask + 1) {
		int rc = grow(t);
		if (rc != 0)
			return rc;
	}
	uint64_t hash = dname_hash(name, len);
	size_t i = hash & t->mask;
	for (;;) {
		struct name_table_slot *s = &t->slots[i];
		if (s->name == NULL) {
			s->hash = hash;
			s->name = name;
			s->len = (uint8_t)len;
			s->value = value;
			t->count++;
			if (old)
				*old = NULL;
			return 0;
		}
		if (s->hash == hash && s->len == len &&
		    memcmp(s->name, name, len) == 0) {
			if (old)
				*old = s->value;
			s->value = value;
			return 0;
		}
		i = (i + 1) & t->mask;
	}
}
