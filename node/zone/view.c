/* A serving view is the list of compiled zones (deepest origin first) and
 * an index of their origins: building or replacing one costs O(zones),
 * never O(names). Each zone version carries its own (persistent) name
 * index, shared with its neighbours (name_index.h). */
#include "node/zone/view.h"

#include <stdlib.h>
#include <urcu-qsbr.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"
#include "node/zone/name_table.h"
#include "node/zone/node.h"
#include "node/zone/view_impl.h"
#include "node/zone/zone.h"

static int by_depth(const void *a, const void *b)
{
	const struct zone *x = *(struct zone *const *)a;
	const struct zone *y = *(struct zone *const *)b;
	return (int)y->origin_len - (int)x->origin_len;
}

int serving_view_build(struct serving_view **out, struct zone *const *zones,
		       size_t nzones)
{
	struct serving_view *v = calloc(1, sizeof(*v));
	int rc = Q53_ENOMEM;
	if (v == NULL)
		return Q53_ENOMEM;
	v->zones = calloc(nzones ? nzones : 1, sizeof(*v->zones));
	if (v->zones == NULL)
		goto err_after_view;
	rc = name_table_init(&v->origins, nzones);
	if (rc != 0)
		goto err_after_zones;
	for (size_t i = 0; i < nzones; i++)
		v->zones[i] = zones[i];
	qsort(v->zones, nzones, sizeof(*v->zones), by_depth);
	for (size_t i = 0; i < nzones; i++) {
		struct zone *z = v->zones[i];
		/* Two versions of one origin: the first given wins. */
		if (name_table_get(&v->origins, z->origin, z->origin_len,
				   dname_hash(z->origin, z->origin_len)))
			continue;
		rc = name_table_put(&v->origins, z->origin, z->origin_len, z,
				    NULL);
		if (rc != 0)
			goto err_after_table;
	}
	for (size_t i = 0; i < nzones; i++)
		zone_retain(v->zones[i]);
	v->nzones = nzones;
	*out = v;
	return 0;

err_after_table:
	name_table_free(&v->origins);
err_after_zones:
	free(v->zones);
err_after_view:
	free(v);
	return rc;
}

void serving_view_free(struct serving_view *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nzones; i++)
		zone_release(v->zones[i]);
	free(v->zones);
	name_table_free(&v->origins);
	free(v);
}

size_t serving_view_zone_count(const struct serving_view *v)
{
	return v->nzones;
}

struct zone *serving_view_zone(const struct serving_view *v, size_t i)
{
	return i < v->nzones ? v->zones[i] : NULL;
}

/* The zones enclosing name (deepest first) with the index into labels of
 * their origin; at most max. */
static size_t enclosing(const struct serving_view *v, const uint8_t *name,
			size_t name_len, const uint8_t *labels, size_t nlabels,
			const struct zone **zs, size_t *at, size_t max)
{
	size_t n = 0;
	for (size_t j = 0; j <= nlabels && n < max; j++) {
		size_t off = j < nlabels ? labels[j] : name_len - 1;
		size_t len = name_len - off;
		const struct zone *z = name_table_get(
		    &v->origins, name + off, len, dname_hash(name + off, len));
		if (z != NULL) {
			zs[n] = z;
			at[n++] = j;
		}
	}
	return n;
}

const struct zone_node *
serving_view_lookup(const struct serving_view *v, const uint8_t *name,
		    size_t name_len, const uint8_t *labels, size_t nlabels,
		    size_t *matched, const struct zone **zone)
{
	const struct zone *zs[DNAME_MAXLABELS + 1];
	size_t at[DNAME_MAXLABELS + 1];
	size_t nz;

	if (v->nzones == 1) {
		/* One zone: is its origin a suffix at a label boundary? */
		const struct zone *z = v->zones[0];
		size_t off = name_len - z->origin_len;
		nz = 0;
		if (z->origin_len <= name_len &&
		    memcmp(name + off, z->origin, z->origin_len) == 0) {
			for (size_t j = 0; j <= nlabels; j++) {
				size_t o =
				    j < nlabels ? labels[j] : name_len - 1;
				if (o == off) {
					zs[0] = z;
					at[0] = j;
					nz = 1;
					break;
				}
			}
		}
	} else {
		nz = enclosing(v, name, name_len, labels, nlabels, zs, at,
			       DNAME_MAXLABELS + 1);
	}
	if (nz == 0)
		return NULL;
	for (size_t i = 0; i <= at[nz - 1]; i++) {
		size_t off = i < nlabels ? labels[i] : name_len - 1;
		size_t len = name_len - off;
		uint64_t h = dname_hash(name + off, len);
		for (size_t k = 0; k < nz; k++) {
			if (at[k] < i)
				continue;
			const struct zone_node *n =
			    name_index_get(&zs[k]->index, name + off, len, h);
			if (n != NULL) {
				*matched = i;
				*zone = zs[k];
				return n;
			}
		}
	}
	return NULL;
}

const struct zone_node *serving_view_parent_side(const struct serving_view *v,
						 const struct zone *z,
						 const struct zone **parent)
{
	const struct zone_node *apex = z->apex;
	const uint8_t *name = apex->name;
	size_t len = apex->name_len;
	uint64_t h = dname_hash(name, len);
	if (v->nzones < 2)
		return NULL;
	/* The zones above z, deepest first: each suffix of the origin. */
	const uint8_t *s = name;
	size_t slen = len;
	while (slen > 1) {
		slen -= 1u + s[0];
		s += 1u + s[0];
		const struct zone *p =
		    name_table_get(&v->origins, s, slen, dname_hash(s, slen));
		if (p == NULL)
			continue;
		const struct zone_node *n =
		    name_index_get(&p->index, name, len, h);
		if (n != NULL) {
			*parent = p;
			return n;
		}
	}
	return NULL;
}
