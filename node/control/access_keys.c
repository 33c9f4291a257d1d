#include "node/control/access_keys.h"

#include <stdio.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "proto/command.pb-c.h"

void access_keys_init(struct access_keys *t)
{
	memset(t, 0, sizeof(*t));
}

void access_key_clear(struct access_key *k)
{
	raft_free(k->id);
	raft_free(k->secret);
	raft_free(k->description);
	raft_free(k->policy_document);
	command_policy_free(k->arena);
	memset(k, 0, sizeof(*k));
}

void access_keys_free(struct access_keys *t)
{
	for (size_t i = 0; i < t->n; i++)
		access_key_clear(&t->v[i]);
	raft_free(t->v);
	memset(t, 0, sizeof(*t));
}

static size_t find(const struct access_keys *t, const char *id, bool *found)
{
	size_t lo = 0, hi = t->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->v[mid].id, id);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct access_key *access_keys_find(const struct access_keys *t,
					  const char *id)
{
	bool found;
	size_t pos = find(t, id, &found);

	return found ? &t->v[pos] : NULL;
}

static bool id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n < ACCESS_KEY_ID_MIN || n > ACCESS_KEY_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= '0' && id[i] <= '9')))
			return false;
	return true;
}

static bool secret_ok(const char *s)
{
	size_t n = strlen(s);

	if (n != ACCESS_KEY_SECRET_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
		      s[i] == '/'))
			return false;
	return true;
}

static bool texts_ok(char *const *v, size_t n)
{
	if (n == 0 || n > ACCESS_POLICY_ITEMS_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] == NULL || v[i][0] == '\0' ||
		    strlen(v[i]) > ACCESS_POLICY_TEXT_MAX)
			return false;
	return true;
}

/* The typed policy's shape: what the edge's parser guarantees. */
static bool policy_ok(const Q53__Command__AccessPolicy *p)
{
	if (p == NULL || p->n_statements > ACCESS_POLICY_STATEMENTS_MAX)
		return false;
	for (size_t i = 0; i < p->n_statements; i++) {
		const Q53__Command__PolicyStatement *s = p->statements[i];

		if (!texts_ok(s->actions, s->n_actions) ||
		    !texts_ok(s->resources, s->n_resources) ||
		    s->n_conditions > ACCESS_POLICY_ITEMS_MAX ||
		    strlen(s->sid) > ACCESS_POLICY_TEXT_MAX)
			return false;
		for (size_t k = 0; k < s->n_conditions; k++) {
			const Q53__Command__PolicyCondition *c =
			    s->conditions[k];

			if (c->op == 0 || c->op > ACCESS_POLICY_OP_MAX ||
			    c->key == 0 || c->key > ACCESS_POLICY_KEY_MAX ||
			    !texts_ok(c->values, c->n_values))
				return false;
		}
	}
	return true;
}

int access_keys_check(const struct access_keys *t,
		      const struct command_create_access_key *c, bool *same,
		      char *err, size_t errlen)
{
	const struct access_key *k;

	*same = false;
	if (!id_ok(c->id)) {
		snprintf(err, errlen,
			 "InvalidInput: access key ID '%.40s' must be %d to %d "
			 "capital letters or digits",
			 c->id, ACCESS_KEY_ID_MIN, ACCESS_KEY_ID_MAX);
		return Q53_EINVAL;
	}
	if (!secret_ok(c->secret) ||
	    strlen(c->description) > ACCESS_KEY_DESCRIPTION_MAX ||
	    strlen(c->policy_document) > ACCESS_POLICY_DOCUMENT_MAX ||
	    !policy_ok(c->policy)) {
		snprintf(err, errlen,
			 "InvalidInput: access key %s: a malformed secret, "
			 "description or policy",
			 c->id);
		return Q53_EINVAL;
	}
	k = access_keys_find(t, c->id);
	if (k != NULL) {
		*same = strcmp(k->secret, c->secret) == 0;
		snprintf(err, errlen,
			 "EntityAlreadyExists: access key %s already exists",
			 c->id);
		return Q53_EEXIST;
	}
	if (t->n >= ACCESS_KEYS_MAX) {
		snprintf(err, errlen,
			 "LimitExceeded: cannot exceed quota for access keys: "
			 "%d",
			 ACCESS_KEYS_MAX);
		return Q53_EINVAL;
	}
	return 0;
}

static char *rstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = raft_malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

static int reserve(struct access_keys *t)
{
	if (t->n < t->cap)
		return 0;
	size_t cap = t->cap ? t->cap * 2 : 8;
	struct access_key *v = raft_realloc(t->v, cap * sizeof(*v));

	if (v == NULL)
		return Q53_ENOMEM;
	t->v = v;
	t->cap = cap;
	return 0;
}

static int key_fill(struct access_key *k, const char *id, const char *secret,
		    const char *description, const char *document,
		    const Q53__Command__AccessPolicy *policy, uint64_t ms,
		    uint64_t index)
{
	int rv;

	memset(k, 0, sizeof(*k));
	k->id = rstrdup(id);
	k->secret = rstrdup(secret);
	k->description = rstrdup(description);
	k->policy_document = rstrdup(document);
	k->created_ms = ms;
	k->created_index = index;
	if (k->id == NULL || k->secret == NULL || k->description == NULL ||
	    k->policy_document == NULL) {
		access_key_clear(k);
		return Q53_ENOMEM;
	}
	rv = command_policy_copy(policy, &k->policy, &k->arena);
	if (rv != 0)
		access_key_clear(k);
	return rv;
}

int access_keys_prepare(struct access_keys *t,
			const struct command_create_access_key *c,
			uint64_t index, struct access_key *k)
{
	int rv = reserve(t);

	if (rv != 0)
		return rv;
	return key_fill(k, c->id, c->secret, c->description, c->policy_document,
			c->policy, c->time_ms, index);
}

void access_keys_insert(struct access_keys *t, struct access_key *k)
{
	bool found;
	size_t pos = find(t, k->id, &found);

	memmove(&t->v[pos + 1], &t->v[pos], (t->n - pos) * sizeof(*t->v));
	t->v[pos] = *k;
	t->n++;
	memset(k, 0, sizeof(*k));
}

int access_keys_remove(struct access_keys *t, const char *id)
{
	bool found;
	size_t pos = find(t, id, &found);

	if (!found)
		return Q53_ENOENT;
	access_key_clear(&t->v[pos]);
	memmove(&t->v[pos], &t->v[pos + 1], (t->n - pos - 1) * sizeof(*t->v));
	t->n--;
	return 0;
}

int access_keys_to_pb(const struct access_keys *t,
		      Q53__Command__AccessKey **items,
		      Q53__Command__AccessKey ***ptrs)
{
	*items = raft_malloc(t->n * sizeof(**items) + 1);
	*ptrs = raft_malloc(t->n * sizeof(**ptrs) + 1);
	if (*items == NULL || *ptrs == NULL) {
		raft_free(*items);
		raft_free(*ptrs);
		*items = NULL;
		*ptrs = NULL;
		return Q53_ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct access_key *k = &t->v[i];
		Q53__Command__AccessKey *m = &(*items)[i];

		q53__command__access_key__init(m);
		m->id = k->id;
		m->secret = k->secret;
		m->description = k->description;
		m->policy_document = k->policy_document;
		m->created_ms = k->created_ms;
		m->created_index = k->created_index;
		m->policy = k->policy;
		(*ptrs)[i] = m;
	}
	return 0;
}

int access_keys_restore(struct access_keys *t,
			Q53__Command__AccessKey *const *keys, size_t n,
			uint64_t applied)
{
	char err[256];
	int rv;

	if (n > ACCESS_KEYS_MAX)
		return Q53_EMALF;
	for (size_t i = 0; i < n; i++) {
		const Q53__Command__AccessKey *m = keys[i];
		struct command_create_access_key c = {
		    .id = m->id,
		    .secret = m->secret,
		    .description = m->description,
		    .policy_document = m->policy_document,
		    .policy = m->policy,
		};
		struct access_key k;
		bool same;

		if ((i > 0 && strcmp(keys[i - 1]->id, m->id) >= 0) ||
		    m->created_index == 0 || m->created_index > applied)
			return Q53_EMALF;
		rv = access_keys_check(t, &c, &same, err, sizeof(err));
		if (rv != 0)
			return Q53_EMALF;
		rv = reserve(t);
		if (rv == 0)
			rv = key_fill(&k, m->id, m->secret, m->description,
				      m->policy_document, m->policy,
				      m->created_ms, m->created_index);
		if (rv != 0)
			return rv;
		t->v[t->n++] = k; /* by id: the order was checked */
	}
	return 0;
}
