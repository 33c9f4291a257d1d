/* An open-addressing hash index from lowercase wire names to values. The
 * names are borrowed (the caller keeps them alive as long as the table).
 * Built once, then read-only: lookups need no lock. */
#ifndef Q53_NODE_ZONE_NAME_TABLE_H
#define Q53_NODE_ZONE_NAME_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct name_table_slot {
	uint64_t hash;
	const uint8_t *name; /* NULL: empty slot */
	void *value;
	uint8_t len;
};

struct name_table {
	struct name_table_slot *slots;
	size_t mask; /* capacity - 1, capacity a power of two */
	size_t count;
};

/* Initialises an empty table sized for about expected entries.
 * Returns 0 or Q53_ENOMEM. */
int name_table_init(struct name_table *t, size_t expected);
void name_table_free(struct name_table *t);

/* Inserts or replaces name -> value. Returns 0 or Q53_ENOMEM. The previous
 * value (or NULL) is stored in *old if old is not NULL. */
int name_table_put(struct name_table *t, const uint8_t *name, size_t len,
		   void *value, void **old);

/* The value stored for name (len bytes, lowercase, hash precomputed with
 * dname_hash), or NULL. */
static inline void *name_table_get(const struct name_table *t,
				   const uint8_t *name, size_t len,
				   uint64_t hash)
{
	size_t i = hash & t->mask;
	for (;;) {
		const struct name_table_slot *s = &t->slots[i];
		if (s->name == NULL)
			return NULL;
		if (s->hash == hash && s->len == len &&
		    __builtin_memcmp(s->name, name, len) == 0)
			return s->value;
		i = (i + 1) & t->mask;
	}
}

#endif
