#include "node/zone/view.h"

#include <stdlib.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"
#include "node/zone/name_table.h"
#include "node/zone/node.h"
#include "node/zone/zone.h"

struct serving_view {
	struct zone **zones;
	size_t nzones;
	struct name_table index; /* every name of every zone */
	/* Where two zones share a name (a delegation in the parent and the
	 * child's apex), the parent's node: DS lives there (RFC 4035 3.1.4.1).
	 */
	struct name_table parent_side;
};

int serving_view_build(struct serving_view **out, struct zone *const *zones,
		       size_t nzones)
{
	struct serving_view *v = calloc(1, sizeof(*v));
	size_t names = 0;
	int rc = Q53_ENOMEM;
	if (v == NULL)
		return Q53_ENOMEM;
	v->zones = calloc(nzones ? nzones : 1, sizeof(*v->zones));
	if (v->zones == NULL)
		goto err_after_view;
	for (size_t i = 0; i < nzones; i++)
		names += zones[i]->nnodes;
	rc = name_table_init(&v->index, names);
	if (rc != 0)
		goto err_after_zones;
	rc = name_table_init(&v->parent_side, nzones);
	if (rc != 0)
		goto err_after_index;
	for (size_t i = 0; i < nzones; i++) {
		struct zone *z = zones[i];
		for (size_t j = 0; j < z->nnodes; j++) {
			struct zone_node *n = z->nodes[j];
			void *old;
			rc = name_table_put(&v->index, n->name, n->name_len, n,
					    &old);
			if (rc != 0)
				goto err_after_index;
			/* A name in two zones (a delegation and the child's
			 * apex): the deeper zone answers. */
			const struct zone_node *o = old;
			if (o == NULL)
				continue;
			const struct zone_node *parent = n;
			if (o->zone->origin_len > n->zone->origin_len) {
				rc = name_table_put(&v->index, o->name,
						    o->name_len, old, NULL);
				if (rc != 0)
					goto err_after_index;
			} else {
				parent = o;
			}
			rc = name_table_put(&v->parent_side, parent->name,
					    parent->name_len, (void *)parent,
					    NULL);
			if (rc != 0)
				goto err_after_index;
		}
		zone_retain(z);
		v->zones[v->nzones++] = z;
	}
	*out = v;
	return 0;

err_after_index:
	for (size_t i = 0; i < v->nzones; i++)
		zone_release(v->zones[i]);
	name_table_free(&v->parent_side);
	name_table_free(&v->index);
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
	name_table_free(&v->parent_side);
	name_table_free(&v->index);
	free(v);
}

const struct zone_node *serving_view_parent_side(const struct serving_view *v,
						 const struct zone_node *apex)
{
	if (v->parent_side.count == 0)
		return NULL;
	return name_table_get(&v->parent_side, apex->name, apex->name_len,
			      dname_hash(apex->name, apex->name_len));
}

size_t serving_view_zone_count(const struct serving_view *v)
{
	return v->nzones;
}

struct zone *serving_view_zone(const struct serving_view *v, size_t i)
{
	return i < v->nzones ? v->zones[i] : NULL;
}

const struct zone_node *serving_view_lookup(const struct serving_view *v,
					    const uint8_t *name,
					    size_t name_len,
					    const uint8_t *labels,
					    size_t nlabels, size_t *matched)
{
	for (size_t i = 0; i <= nlabels; i++) {
		size_t off = i < nlabels ? labels[i] : name_len - 1;
		size_t len = name_len - off;
		const struct zone_node *n = name_table_get(
		    &v->index, name + off, len, dname_hash(name + off, len));
		if (n != NULL) {
			*matched = i;
			return n;
		}
	}
	return NULL;
}
