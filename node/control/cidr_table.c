#include "node/control/cidr_table.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"

/* --- blocks --- */

static bool host_bits_zero(const uint8_t *addr, size_t bytes, unsigned len)
{
	for (size_t i = 0; i < bytes; i++) {
		unsigned first = (unsigned)i * 8;
		uint8_t mask;
		if (first + 8 <= len)
			continue;
		mask = first >= len ? 0xff : (uint8_t)(0xff >> (len - first));
		if (addr[i] & mask)
			return false;
	}
	return true;
}

bool cidr_block_valid(const struct cidr_block *b)
{
	if (b->family == 4)
		return b->len >= 1 && b->len <= CIDR_BLOCK_V4_MAX &&
		       host_bits_zero(b->addr, 16, b->len);
	if (b->family == 6)
		return b->len >= 1 && b->len <= CIDR_BLOCK_V6_MAX &&
		       host_bits_zero(b->addr, 16, b->len);
	return false;
}

int cidr_block_parse(const char *text, struct cidr_block *out, char *err,
		     size_t errlen)
{
	char addr[CIDR_BLOCK_TEXT_MAX + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash != NULL ? (size_t)(slash - text) : 0;
	unsigned long len = 0;
	char *end;

	memset(out, 0, sizeof(*out));
	if (strlen(text) > CIDR_BLOCK_TEXT_MAX || slash == NULL || alen == 0 ||
	    alen >= sizeof(addr) || slash[1] < '0' || slash[1] > '9')
		goto bad;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	len = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || end - (slash + 1) > 3)
		goto bad;
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = 4;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = 6;
	else
		goto bad;
	unsigned max = out->family == 4 ? CIDR_BLOCK_V4_MAX : CIDR_BLOCK_V6_MAX;
	if (len < 1 || len > max) {
		snprintf(err, errlen,
			 "InvalidInput: CIDR block %.50s: IPv%u prefix lengths "
			 "are 1 to %u (use the \"*\" location for /0)",
			 text, out->family, max);
		return Q53_EINVAL;
	}
	out->len = (uint8_t)len;
	if (!host_bits_zero(out->addr, 16, out->len)) {
		snprintf(err, errlen,
			 "InvalidInput: CIDR block %.50s has bits set past its "
			 "prefix length",
			 text);
		return Q53_EINVAL;
	}
	return 0;
bad:
	snprintf(err, errlen, "InvalidInput: '%.60s' is not a CIDR block",
		 text);
	return Q53_EINVAL;
}

void cidr_block_format(const struct cidr_block *b, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(b->family == 4 ? AF_INET : AF_INET6, b->addr, a,
		      sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(out, outlen, "%s/%u", a, b->len);
}

int cidr_block_cmp(const struct cidr_block *a, const struct cidr_block *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, 16);
	if (c != 0)
		return c;
	return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

bool cidr_block_contains(const struct cidr_block *b, uint8_t family,
			 const uint8_t *addr)
{
	unsigned full = b->len / 8, rest = b->len % 8;

	if (b->family != family)
		return false;
	if (memcmp(b->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (addr[full] & mask) == b->addr[full];
}

/* --- names --- */

static bool name_chars_ok(const char *s, size_t max, bool star)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || c == '_' || c == '-' ||
		      (star && c == '*')))
			return false;
	}
	return true;
}

bool cidr_collection_name_ok(const char *name)
{
	return name_chars_ok(name, CIDR_NAME_MAX, false);
}

bool cidr_location_name_ok(const char *name, bool default_allowed)
{
	return name_chars_ok(name, CIDR_LOCATION_MAX, default_allowed);
}

bool cidr_id_ok(const char *id)
{
	if (strlen(id) != CIDR_ID_LEN)
		return false;
	for (size_t i = 0; i < CIDR_ID_LEN; i++) {
		char c = id[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? c != '-'
			 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static bool caller_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CIDR_CALLER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == '\0')
			return false;
	return true;
}

/* --- table --- */

static char *ct_strdup(const char *s)
{
	size_t n = strlen(s);
	char *c = raft_malloc(n + 1);

	if (c != NULL)
		memcpy(c, s, n + 1);
	return c;
}

static void locs_free(struct cidr_location *locs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		raft_free(locs[i].name);
		raft_free(locs[i].blocks);
	}
	raft_free(locs);
}

static void collection_clear(struct cidr_collection *c)
{
	raft_free(c->id);
	raft_free(c->name);
	raft_free(c->caller_reference);
	locs_free(c->locs, c->n_locs);
	memset(c, 0, sizeof(*c));
}

void cidr_table_init(struct cidr_table *t)
{
	memset(t, 0, sizeof(*t));
}

void cidr_table_free(struct cidr_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		collection_clear(&t->v[i]);
	raft_free(t->v);
	memset(t, 0, sizeof(*t));
}

static size_t find(const struct cidr_table *t, const char *id, bool *found)
{
	size_t lo = 0, hi = t->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(id, t->v[mid].id);
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

const struct cidr_collection *cidr_table_get(const struct cidr_table *t,
					     const char *id)
{
	bool found;
	size_t pos = find(t, id, &found);

	return found ? &t->v[pos] : NULL;
}

const struct cidr_collection *cidr_table_by_name(const struct cidr_table *t,
						 const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	return NULL;
}

const struct cidr_location *
cidr_collection_location(const struct cidr_collection *c, const char *name)
{
	size_t lo = 0, hi = c->n_locs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(name, c->locs[mid].name);
		if (r == 0)
			return &c->locs[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int reserve_one(struct cidr_table *t)
{
	if (t->n < t->cap)
		return 0;
	size_t cap = t->cap < 4 ? 4 : t->cap * 2;
	struct cidr_collection *v = raft_realloc(t->v, cap * sizeof(*v));
	if (v == NULL)
		return Q53_ENOMEM;
	t->v = v;
	t->cap = cap;
	return 0;
}

int cidr_table_create(struct cidr_table *t,
		      const struct command_create_cidr_collection *c,
		      const struct cidr_collection **existing, char *err,
		      size_t errlen)
{
	bool found;
	size_t pos;

	*existing = NULL;
	if (!cidr_id_ok(c->id))
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: '%.40s' is not a CIDR "
				"collection id",
				c->id);
	if (!cidr_collection_name_ok(c->name))
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: Name must be 1 to %d letters, "
				"digits, '_' or '-'",
				CIDR_NAME_MAX);
	if (!caller_ok(c->caller_reference))
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: CallerReference must be 1 to "
				"%d ASCII characters",
				CIDR_CALLER_MAX);
	for (size_t i = 0; i < t->n; i++) {
		const struct cidr_collection *o = &t->v[i];
		bool same_name = strcmp(o->name, c->name) == 0;
		bool same_ref =
		    strcmp(o->caller_reference, c->caller_reference) == 0;
		if (same_name && same_ref) {
			*existing = o;
			return 0;
		}
		if (same_name)
			return q53_fail(
			    err, errlen, Q53_EEXIST,
			    "CidrCollectionAlreadyExistsException: A CIDR "
			    "collection with the name %s and a different "
			    "caller reference already exists",
			    c->name);
		if (same_ref)
			return q53_fail(
			    err, errlen, Q53_EEXIST,
			    "CidrCollectionAlreadyExistsException: the caller "
			    "reference %.64s was used for the CIDR collection "
			    "%s",
			    c->caller_reference, o->name);
	}
	if (t->n >= CIDR_COLLECTIONS_MAX)
		return q53_fail(err, errlen, Q53_ELIMIT,
				"LimitsExceeded: This account already has "
				"the maximum of %d CIDR collections",
				CIDR_COLLECTIONS_MAX);
	pos = find(t, c->id, &found);
	if (found)
		return q53_fail(err, errlen, Q53_EEXIST,
				"CidrCollectionAlreadyExistsException: a CIDR "
				"collection with the id %s already exists",
				c->id);
	if (reserve_one(t) != 0)
		return Q53_ENOMEM;
	struct cidr_collection n = {0};
	n.id = ct_strdup(c->id);
	n.name = ct_strdup(c->name);
	n.caller_reference = ct_strdup(c->caller_reference);
	n.version = 1;
	if (n.id == NULL || n.name == NULL || n.caller_reference == NULL) {
		collection_clear(&n);
		return Q53_ENOMEM;
	}
	memmove(&t->v[pos + 1], &t->v[pos], (t->n - pos) * sizeof(*t->v));
	t->v[pos] = n;
	t->n++;
	return 0;
}

int cidr_table_check_change(const struct command_change_cidr_collection *c,
			    char *err, size_t errlen)
{
	if (!cidr_id_ok(c->id))
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: '%.40s' is not a CIDR "
				"collection id",
				c->id);
	if (c->delete_collection) {
		if (c->n_changes != 0)
			return q53_fail(err, errlen, Q53_EINVAL,
					"InvalidInput: a deletion carries no "
					"changes");
		return 0;
	}
	if (c->n_changes < 1 || c->n_changes > CIDR_CHANGES_MAX)
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: Changes must hold 1 to %d "
				"changes",
				CIDR_CHANGES_MAX);
	for (size_t i = 0; i < c->n_changes; i++) {
		const struct command_cidr_change *x = &c->changes[i];
		if (x->action != COMMAND_CIDR_PUT &&
		    x->action != COMMAND_CIDR_DELETE_IF_EXISTS)
			return q53_fail(err, errlen, Q53_EINVAL,
					"InvalidInput: change %zu: Action must "
					"be PUT or DELETE_IF_EXISTS",
					i);
		if (!cidr_location_name_ok(x->location, false))
			return q53_fail(err, errlen, Q53_EINVAL,
					"InvalidInput: change %zu: "
					"LocationName must be 1 to %d "
					"letters, digits, '_' or '-'",
					i, CIDR_LOCATION_MAX);
		if (x->n_blocks < 1 || x->n_blocks > CIDR_LIST_MAX)
			return q53_fail(err, errlen, Q53_EINVAL,
					"InvalidInput: change %zu: CidrList "
					"must hold 1 to %d blocks",
					i, CIDR_LIST_MAX);
		for (size_t k = 0; k < x->n_blocks; k++)
			if (!cidr_block_valid(&x->blocks[k]))
				return q53_fail(err, errlen, Q53_EINVAL,
						"InvalidInput: change %zu: "
						"block %zu is not a valid "
						"CIDR block",
						i, k);
	}
	return 0;
}

/* The working state of a change: each block with its location. */
struct entry {
	struct cidr_block b;
	size_t loc;
};

struct work {
	const char **names; /* borrowed */
	size_t n_names;
	size_t cap_names;
	struct entry *e; /* by block */
	size_t n;
};

static size_t work_name(struct work *w, const char *name)
{
	for (size_t i = 0; i < w->n_names; i++)
		if (strcmp(w->names[i], name) == 0)
			return i;
	return SIZE_MAX;
}

static size_t work_find(const struct work *w, const struct cidr_block *b,
			bool *found)
{
	size_t lo = 0, hi = w->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cidr_block_cmp(b, &w->e[mid].b);
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

static int loc_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cidr_location *)a)->name,
		      ((const struct cidr_location *)b)->name);
}

int cidr_table_change(struct cidr_table *t,
		      const struct command_change_cidr_collection *c,
		      cidr_in_use_fn in_use, void *ctx, char *err,
		      size_t errlen)
{
	struct work w = {0};
	struct cidr_location *locs = NULL;
	size_t *counts = NULL, n_locs = 0;
	bool found;
	int rv;

	rv = cidr_table_check_change(c, err, errlen);
	if (rv != 0)
		return rv;
	size_t pos = find(t, c->id, &found);
	if (!found)
		return q53_fail(err, errlen, Q53_ENOENT,
				"NoSuchCidrCollectionException: No CIDR "
				"collection found with ID %s",
				c->id);
	struct cidr_collection *col = &t->v[pos];
	if (c->version != 0 && c->version != col->version)
		return q53_fail(err, errlen, Q53_EEXIST,
				"CidrCollectionVersionMismatchException: "
				"CollectionVersion %llu does not match the "
				"collection's version %llu",
				(unsigned long long)c->version,
				(unsigned long long)col->version);
	if (c->delete_collection)
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: not a change");
	/* Every name the result may hold: the current ones, then the
	 * changes'. */
	w.cap_names = col->n_locs + c->n_changes;
	w.names = raft_calloc(w.cap_names + 1, sizeof(*w.names));
	w.e = raft_calloc(CIDR_BLOCKS_MAX + 1, sizeof(*w.e));
	if (w.names == NULL || w.e == NULL) {
		rv = Q53_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < col->n_locs; i++) {
		w.names[w.n_names++] = col->locs[i].name;
		for (size_t k = 0; k < col->locs[i].n; k++) {
			size_t at =
			    work_find(&w, &col->locs[i].blocks[k], &found);
			memmove(&w.e[at + 1], &w.e[at],
				(w.n - at) * sizeof(*w.e));
			w.e[at] = (struct entry){col->locs[i].blocks[k], i};
			w.n++;
		}
	}
	for (size_t i = 0; i < c->n_changes; i++) {
		const struct command_cidr_change *x = &c->changes[i];
		size_t li = work_name(&w, x->location);
		if (x->action == COMMAND_CIDR_DELETE_IF_EXISTS) {
			if (li == SIZE_MAX)
				continue;
			for (size_t k = 0; k < x->n_blocks; k++) {
				size_t at =
				    work_find(&w, &x->blocks[k], &found);
				if (!found || w.e[at].loc != li)
					continue;
				memmove(&w.e[at], &w.e[at + 1],
					(w.n - at - 1) * sizeof(*w.e));
				w.n--;
			}
			continue;
		}
		if (li == SIZE_MAX) {
			li = w.n_names;
			w.names[w.n_names++] = x->location;
		}
		for (size_t k = 0; k < x->n_blocks; k++) {
			size_t at = work_find(&w, &x->blocks[k], &found);
			char text[CIDR_BLOCK_TEXT_MAX + 1];
			if (found && w.e[at].loc == li)
				continue;
			if (found) {
				cidr_block_format(&x->blocks[k], text,
						  sizeof(text));
				rv = q53_fail(err, errlen, Q53_EINVAL,
					      "InvalidInput: change %zu: the "
					      "CIDR block %s is already in "
					      "the location %s",
					      i, text, w.names[w.e[at].loc]);
				goto out;
			}
			if (w.n >= CIDR_BLOCKS_MAX) {
				rv = q53_fail(err, errlen, Q53_ELIMIT,
					      "LimitsExceeded: a CIDR "
					      "collection holds at most %d "
					      "CIDR blocks",
					      CIDR_BLOCKS_MAX);
				goto out;
			}
			memmove(&w.e[at + 1], &w.e[at],
				(w.n - at) * sizeof(*w.e));
			w.e[at] = (struct entry){x->blocks[k], li};
			w.n++;
		}
	}
	counts = raft_calloc(w.n_names + 1, sizeof(*counts));
	if (counts == NULL) {
		rv = Q53_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w.n; i++)
		counts[w.e[i].loc]++;
	for (size_t i = 0; i < col->n_locs; i++) {
		if (counts[i] == 0 && in_use != NULL &&
		    in_use(ctx, col->id, col->locs[i].name)) {
			rv = q53_fail(err, errlen, Q53_EINVAL,
				      "CidrBlockInUseException: the location "
				      "%s of CIDR collection %s would lose "
				      "its last CIDR block, and record sets "
				      "use it",
				      col->locs[i].name, col->id);
			goto out;
		}
	}
	for (size_t i = 0; i < w.n_names; i++)
		n_locs += counts[i] > 0;
	locs = raft_calloc(n_locs + 1, sizeof(*locs));
	if (locs == NULL) {
		rv = Q53_ENOMEM;
		goto out;
	}
	size_t o = 0;
	for (size_t i = 0; i < w.n_names; i++) {
		if (counts[i] == 0)
			continue;
		locs[o].name = ct_strdup(w.names[i]);
		locs[o].blocks =
		    raft_malloc(counts[i] * sizeof(struct cidr_block));
		if (locs[o].name == NULL || locs[o].blocks == NULL) {
			locs_free(locs, o + 1);
			locs = NULL;
			rv = Q53_ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < w.n; k++)
			if (w.e[k].loc == i)
				locs[o].blocks[locs[o].n++] = w.e[k].b;
		o++;
	}
	qsort(locs, n_locs, sizeof(*locs), loc_cmp);
	locs_free(col->locs, col->n_locs);
	col->locs = locs;
	col->n_locs = n_locs;
	col->n_blocks = w.n;
	col->version++;
	rv = 0;
out:
	raft_free(counts);
	raft_free(w.names);
	raft_free(w.e);
	return rv;
}

int cidr_table_delete(struct cidr_table *t, const char *id, uint64_t version,
		      cidr_in_use_fn in_use, void *ctx, char *err,
		      size_t errlen)
{
	bool found;
	size_t pos = find(t, id, &found);

	if (!found)
		return q53_fail(err, errlen, Q53_ENOENT,
				"NoSuchCidrCollectionException: No CIDR "
				"collection found with ID %.40s",
				id);
	struct cidr_collection *col = &t->v[pos];
	if (version != 0 && version != col->version)
		return q53_fail(err, errlen, Q53_EEXIST,
				"CidrCollectionVersionMismatchException: "
				"CollectionVersion %llu does not match the "
				"collection's version %llu",
				(unsigned long long)version,
				(unsigned long long)col->version);
	if (in_use != NULL && in_use(ctx, id, NULL))
		return q53_fail(err, errlen, Q53_EINVAL,
				"CidrCollectionInUseException: record sets "
				"use the CIDR collection %s",
				id);
	if (col->n_locs > 0)
		return q53_fail(err, errlen, Q53_EINVAL,
				"CidrCollectionInUseException: the CIDR "
				"collection %s still holds %zu locations; "
				"delete their CIDR blocks first",
				id, col->n_locs);
	collection_clear(col);
	memmove(&t->v[pos], &t->v[pos + 1], (t->n - pos - 1) * sizeof(*t->v));
	t->n--;
	return 0;
}

int cidr_table_load(struct cidr_table *t, const char *id, const char *name,
		    const char *caller_reference, uint64_t version,
		    const struct cidr_location *locs, size_t n_locs)
{
	size_t total = 0;

	if (!cidr_id_ok(id) || !cidr_collection_name_ok(name) ||
	    !caller_ok(caller_reference) || version < 1 ||
	    t->n >= CIDR_COLLECTIONS_MAX ||
	    (t->n > 0 && strcmp(t->v[t->n - 1].id, id) >= 0) ||
	    cidr_table_by_name(t, name) != NULL)
		return Q53_EMALF;
	for (size_t i = 0; i < n_locs; i++) {
		if (!cidr_location_name_ok(locs[i].name, false) ||
		    locs[i].n == 0 ||
		    (i > 0 && strcmp(locs[i - 1].name, locs[i].name) >= 0))
			return Q53_EMALF;
		for (size_t k = 0; k < locs[i].n; k++)
			if (!cidr_block_valid(&locs[i].blocks[k]) ||
			    (k > 0 && cidr_block_cmp(&locs[i].blocks[k - 1],
						     &locs[i].blocks[k]) >= 0))
				return Q53_EMALF;
		total += locs[i].n;
		if (total > CIDR_BLOCKS_MAX)
			return Q53_EMALF;
	}
	/* A block in two locations. */
	for (size_t i = 0; i < n_locs; i++)
		for (size_t j = i + 1; j < n_locs; j++)
			for (size_t k = 0; k < locs[i].n; k++)
				for (size_t l = 0; l < locs[j].n; l++)
					if (cidr_block_cmp(
						&locs[i].blocks[k],
						&locs[j].blocks[l]) == 0)
						return Q53_EMALF;
	if (reserve_one(t) != 0)
		return Q53_ENOMEM;
	struct cidr_collection n = {0};
	n.id = ct_strdup(id);
	n.name = ct_strdup(name);
	n.caller_reference = ct_strdup(caller_reference);
	n.version = version;
	n.locs = raft_calloc(n_locs + 1, sizeof(*n.locs));
	if (n.id == NULL || n.name == NULL || n.caller_reference == NULL ||
	    n.locs == NULL)
		goto nomem;
	for (size_t i = 0; i < n_locs; i++) {
		n.locs[i].name = ct_strdup(locs[i].name);
		n.locs[i].blocks =
		    raft_malloc(locs[i].n * sizeof(struct cidr_block));
		n.n_locs = i + 1;
		if (n.locs[i].name == NULL || n.locs[i].blocks == NULL)
			goto nomem;
		memcpy(n.locs[i].blocks, locs[i].blocks,
		       locs[i].n * sizeof(struct cidr_block));
		n.locs[i].n = locs[i].n;
	}
	n.n_blocks = total;
	t->v[t->n++] = n;
	return 0;
nomem:
	collection_clear(&n);
	return Q53_ENOMEM;
}
