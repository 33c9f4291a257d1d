#include "node/control/tag_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"

static char *tt_strdup(const char *s)
{
	size_t n = strlen(s);
	char *c = raft_malloc(n + 1);

	if (c != NULL)
		memcpy(c, s, n + 1);
	return c;
}

static void resource_clear(struct tag_resource *r)
{
	for (size_t i = 0; i < r->n; i++) {
		raft_free(r->tags[i].key);
		raft_free(r->tags[i].value);
	}
	raft_free(r->tags);
	raft_free(r->type);
	raft_free(r->id);
	memset(r, 0, sizeof(*r));
}

void tag_table_init(struct tag_table *t)
{
	memset(t, 0, sizeof(*t));
}

void tag_table_free(struct tag_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		resource_clear(&t->v[i]);
	raft_free(t->v);
	memset(t, 0, sizeof(*t));
}

bool tag_table_type_ok(const char *type)
{
	return strcmp(type, TAG_TABLE_TYPE_ZONE) == 0 ||
	       strcmp(type, TAG_TABLE_TYPE_CHECK) == 0;
}

/* Characters (UTF-8 code points) of s. */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int key_cmp(const char *type, const char *id,
		   const struct tag_resource *r)
{
	int c = strcmp(type, r->type);

	return c != 0 ? c : strcmp(id, r->id);
}

/* The position of (type, id), or where it would go. */
static size_t find(const struct tag_table *t, const char *type, const char *id,
		   bool *found)
{
	size_t lo = 0, hi = t->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(type, id, &t->v[mid]);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static bool key_ok(const char *key)
{
	size_t n = chars(key);

	return n >= 1 && n <= COMMAND_TAG_KEY_MAX &&
	       strncmp(key, "aws:", 4) != 0;
}

int tag_table_check_change(const struct command_change_tags *c, char *err,
			   size_t errlen)
{
	if (!tag_table_type_ok(c->resource_type))
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: ResourceType '%.40s' must be "
				"hostedzone or healthcheck",
				c->resource_type);
	if (c->n_add == 0 && c->n_remove == 0)
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: give AddTags or RemoveTagKeys");
	if (c->n_add > COMMAND_TAG_CHANGES_MAX ||
	    c->n_remove > COMMAND_TAG_CHANGES_MAX)
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: at most %d AddTags and %d "
				"RemoveTagKeys per request",
				COMMAND_TAG_CHANGES_MAX,
				COMMAND_TAG_CHANGES_MAX);
	for (size_t i = 0; i < c->n_add; i++) {
		const struct command_tag *g = &c->add[i];

		if (!key_ok(g->key))
			return q53_fail(err, errlen, Q53_EINVAL,
					"InvalidInput: tag key '%.140s' must "
					"be 1 to %d characters and not start "
					"with aws:",
					g->key, COMMAND_TAG_KEY_MAX);
		if (chars(g->value) > COMMAND_TAG_VALUE_MAX)
			return q53_fail(err, errlen, Q53_EINVAL,
					"InvalidInput: the value of tag '%s' "
					"is longer than %d characters",
					g->key, COMMAND_TAG_VALUE_MAX);
		for (size_t k = 0; k < i; k++)
			if (strcmp(c->add[k].key, g->key) == 0)
				return q53_fail(err, errlen, Q53_EINVAL,
						"InvalidInput: tag key '%s' is "
						"added twice",
						g->key);
	}
	for (size_t i = 0; i < c->n_remove; i++) {
		if (!key_ok(c->remove_keys[i]))
			return q53_fail(err, errlen, Q53_EINVAL,
					"InvalidInput: tag key '%.140s' must "
					"be 1 to %d characters and not start "
					"with aws:",
					c->remove_keys[i], COMMAND_TAG_KEY_MAX);
	}
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tag_kv *)a)->key,
		      ((const struct tag_kv *)b)->key);
}

static bool removed(const struct command_change_tags *c, const char *key)
{
	for (size_t i = 0; i < c->n_remove; i++)
		if (strcmp(c->remove_keys[i], key) == 0)
			return true;
	return false;
}

static bool added(const struct command_change_tags *c, const char *key)
{
	for (size_t i = 0; i < c->n_add; i++)
		if (strcmp(c->add[i].key, key) == 0)
			return true;
	return false;
}

int tag_table_change(struct tag_table *t, const struct command_change_tags *c,
		     char *err, size_t errlen)
{
	struct tag_resource nr = {0};
	struct tag_kv *tags;
	bool found;
	size_t pos, n = 0, keep = 0;
	int rv = tag_table_check_change(c, err, errlen);

	if (rv != 0)
		return rv;
	pos = find(t, c->resource_type, c->resource_id, &found);
	const struct tag_resource *old = found ? &t->v[pos] : NULL;
	for (size_t i = 0; old != NULL && i < old->n; i++)
		if (!removed(c, old->tags[i].key) &&
		    !added(c, old->tags[i].key))
			keep++;
	n = keep + c->n_add;
	if (n > COMMAND_TAGS_MAX)
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: a resource can have at most %d "
				"tags; %s %s would have %zu",
				COMMAND_TAGS_MAX, c->resource_type,
				c->resource_id, n);
	if (!found && n > 0 && (t->n == t->cap)) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct tag_resource *v = raft_realloc(t->v, cap * sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	tags = n > 0 ? raft_calloc(n, sizeof(*tags)) : NULL;
	if (n > 0 && tags == NULL)
		return Q53_ENOMEM;
	nr.tags = tags;
	size_t k = 0;
	for (size_t i = 0; old != NULL && i < old->n; i++) {
		if (removed(c, old->tags[i].key) || added(c, old->tags[i].key))
			continue;
		tags[k].key = tt_strdup(old->tags[i].key);
		tags[k].value = tt_strdup(old->tags[i].value);
		nr.n = ++k;
		if (tags[k - 1].key == NULL || tags[k - 1].value == NULL)
			goto nomem;
	}
	for (size_t i = 0; i < c->n_add; i++) {
		tags[k].key = tt_strdup(c->add[i].key);
		tags[k].value = tt_strdup(c->add[i].value);
		nr.n = ++k;
		if (tags[k - 1].key == NULL || tags[k - 1].value == NULL)
			goto nomem;
	}
	if (n > 0) {
		qsort(tags, n, sizeof(*tags), kv_cmp);
		nr.type = tt_strdup(c->resource_type);
		nr.id = tt_strdup(c->resource_id);
		if (nr.type == NULL || nr.id == NULL)
			goto nomem;
	}
	/* Nothing fails from here on. */
	if (found) {
		resource_clear(&t->v[pos]);
		if (n > 0) {
			t->v[pos] = nr;
		} else {
			memmove(&t->v[pos], &t->v[pos + 1],
				(t->n - pos - 1) * sizeof(*t->v));
			t->n--;
		}
	} else if (n > 0) {
		memmove(&t->v[pos + 1], &t->v[pos],
			(t->n - pos) * sizeof(*t->v));
		t->v[pos] = nr;
		t->n++;
	}
	return 0;
nomem:
	resource_clear(&nr);
	return Q53_ENOMEM;
}

void tag_table_drop(struct tag_table *t, const char *type, const char *id)
{
	bool found;
	size_t pos = find(t, type, id, &found);

	if (!found)
		return;
	resource_clear(&t->v[pos]);
	memmove(&t->v[pos], &t->v[pos + 1], (t->n - pos - 1) * sizeof(*t->v));
	t->n--;
}

const struct tag_resource *tag_table_get(const struct tag_table *t,
					 const char *type, const char *id)
{
	bool found;
	size_t pos = find(t, type, id, &found);

	return found ? &t->v[pos] : NULL;
}

int tag_table_load(struct tag_table *t, const char *type, const char *id,
		   const struct command_tag *tags, size_t n)
{
	struct tag_resource nr = {0};

	if (!tag_table_type_ok(type) || id[0] == '\0' || n == 0 ||
	    n > COMMAND_TAGS_MAX ||
	    (t->n > 0 && key_cmp(type, id, &t->v[t->n - 1]) <= 0))
		return Q53_EMALF;
	for (size_t i = 0; i < n; i++)
		if (!key_ok(tags[i].key) ||
		    chars(tags[i].value) > COMMAND_TAG_VALUE_MAX ||
		    (i > 0 && strcmp(tags[i - 1].key, tags[i].key) >= 0))
			return Q53_EMALF;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct tag_resource *v = raft_realloc(t->v, cap * sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	nr.tags = raft_calloc(n, sizeof(*nr.tags));
	nr.type = tt_strdup(type);
	nr.id = tt_strdup(id);
	if (nr.tags == NULL || nr.type == NULL || nr.id == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		nr.tags[i].key = tt_strdup(tags[i].key);
		nr.tags[i].value = tt_strdup(tags[i].value);
		nr.n = i + 1;
		if (nr.tags[i].key == NULL || nr.tags[i].value == NULL)
			goto nomem;
	}
	t->v[t->n++] = nr;
	return 0;
nomem:
	resource_clear(&nr);
	return Q53_ENOMEM;
}
