/* Weighted and multivalue answer groups to query-time choice tables (see
 * zone_store_routing.h). */
#include "node/control/zone_store_routing.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/cidr_block.h"
#include "node/control/latency_table.h"
#include "node/zone/prefix.h"

static bool member_healthy(const struct zone_store_rrset *s,
			   zone_store_check_fn healthy, void *ctx)
{
	return zone_store_rrset_health_check(s) == NULL || healthy == NULL ||
	       healthy(ctx, zone_store_rrset_health_check(s));
}

/* The members that may answer: the healthy ones, or all (fail open). */
static size_t eligible(struct zone_store_rrset *const *g, size_t n,
		       zone_store_check_fn healthy, void *ctx,
		       const struct zone_store_rrset **out)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (member_healthy(g[i], healthy, ctx))
			out[m++] = g[i];
	}
	if (m == 0) {
		for (size_t i = 0; i < n; i++)
			out[m++] = g[i];
	}
	return m;
}

static int weighted(struct zone_store_routing *t,
		    const struct zone_store_rrset *const *e, size_t m)
{
	size_t nrec = 0, nonzero = 0;
	for (size_t i = 0; i < m; i++)
		nonzero += zone_store_rrset_weight(e[i]) > 0;
	for (size_t i = 0; i < m; i++)
		nrec += e[i]->count;
	t->records = malloc((nrec ? nrec : 1) * sizeof(*t->records));
	if (t->records == NULL)
		return Q53_ENOMEM;
	size_t r = 0;
	for (size_t i = 0; i < m; i++) {
		const struct zone_store_rrset *s = e[i];
		if (nonzero > 0 && zone_store_rrset_weight(s) == 0)
			continue;
		struct zone_choice_leaf *l = &t->leaf[t->n];
		l->weight = nonzero > 0 ? zone_store_rrset_weight(s) : 1;
		l->ttl = s->ttl;
		l->rdata = &t->records[r];
		l->count = s->count;
		for (uint16_t k = 0; k < s->count; k++, r++) {
			t->records[r].data = s->rdata[k].data;
			t->records[r].len = s->rdata[k].len;
		}
		t->member[t->n++] = s;
	}
	return 0;
}

static int multivalue(struct zone_store_routing *t,
		      const struct zone_store_rrset *const *e, size_t m)
{
	size_t nrec = 0;
	uint32_t ttl = UINT32_MAX;
	for (size_t i = 0; i < m; i++) {
		nrec += e[i]->count;
		if (e[i]->ttl < ttl)
			ttl = e[i]->ttl;
	}
	/* The distinct records, then the leaves' windows over them. */
	struct zone_choice_record *all = malloc(nrec * sizeof(*all));
	if (all == NULL)
		return Q53_ENOMEM;
	size_t d = 0;
	for (size_t i = 0; i < m; i++) {
		for (uint16_t k = 0; k < e[i]->count; k++) {
			const struct zone_store_rdata *rd = &e[i]->rdata[k];
			bool seen = false;
			for (size_t j = 0; j < d && !seen; j++)
				seen =
				    all[j].len == rd->len &&
				    memcmp(all[j].data, rd->data, rd->len) == 0;
			if (!seen)
				all[d++] = (struct zone_choice_record){rd->data,
								       rd->len};
		}
	}
	size_t per =
	    d < ZONE_STORE_MULTIVALUE_MAX ? d : ZONE_STORE_MULTIVALUE_MAX;
	size_t leaves =
	    d < ZONE_STORE_MULTIVALUE_LEAVES ? d : ZONE_STORE_MULTIVALUE_LEAVES;
	t->records = malloc(leaves * per * sizeof(*t->records));
	if (t->records == NULL) {
		free(all);
		return Q53_ENOMEM;
	}
	for (size_t r = 0; r < leaves; r++) {
		size_t start = r * d / leaves;
		struct zone_choice_leaf *l = &t->leaf[t->n];
		l->weight = 1;
		l->ttl = ttl;
		l->rdata = &t->records[r * per];
		l->count = per;
		for (size_t k = 0; k < per; k++)
			t->records[r * per + k] = all[(start + k) % d];
		t->member[t->n++] = NULL;
	}
	free(all);
	return 0;
}

/* Geolocation: a leaf per eligible member, its weight its location; the
 * query path answers with the most specific one containing the client
 * (node/zone/choice.h), so an unhealthy member's location falls back to
 * the next less specific healthy one. */
static int geo(struct zone_store_routing *t,
	       const struct zone_store_rrset *const *e, size_t m)
{
	int rc = weighted(t, e, m);
	for (size_t i = 0; rc == 0 && i < t->n; i++)
		t->leaf[i].weight = zone_store_rrset_geo(t->member[i]);
	t->kind = ZONE_CHOICE_GEO;
	return rc;
}

uint32_t zone_store_routing_latency_best(const struct zone_store_routing *t,
					 const struct latency_rtt *rtt,
					 size_t n, const char *prefer)
{
	uint32_t best = (uint32_t)t->n, best_rtt = UINT32_MAX;
	for (size_t i = 0; i < t->n; i++) {
		uint32_t v;
		const char *region = zone_store_rrset_region(t->member[i]);
		if (region == NULL || !latency_rtt_of(rtt, n, region, &v))
			continue;
		if (v < best_rtt || (v == best_rtt && prefer != NULL &&
				     strcmp(region, prefer) == 0)) {
			best = (uint32_t)i;
			best_rtt = v;
		}
	}
	return best;
}

/* Latency: a leaf per eligible member (its key its index), and the
 * table from client networks to leaves (zone_store_routing.h). */
static int latency(struct zone_store_routing *t,
		   const struct zone_store_rrset *const *e, size_t m,
		   const struct zone_store_latency *lat)
{
	int rc = weighted(t, e, m);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < t->n; i++)
		t->leaf[i].weight = (uint32_t)i;
	const struct latency_table *tab = lat != NULL ? lat->table : NULL;
	uint32_t dflt = (uint32_t)t->n;
	const struct latency_site *site =
	    tab != NULL && lat->site != NULL
		? latency_table_site(tab, lat->site)
		: NULL;
	if (site != NULL)
		dflt = zone_store_routing_latency_best(t, site->rtt, site->n,
						       lat->region);
	for (size_t i = 0;
	     dflt == t->n && lat != NULL && lat->region != NULL && i < t->n;
	     i++) {
		const char *region = zone_store_rrset_region(t->member[i]);
		if (region != NULL && strcmp(region, lat->region) == 0)
			dflt = (uint32_t)i;
	}
	if (dflt == t->n)
		dflt = 0;
	size_t nrows = tab != NULL ? tab->nrows : 0;
	struct prefix_entry *in = malloc((nrows ? nrows : 1) * sizeof(*in));
	if (in == NULL)
		return Q53_ENOMEM;
	for (size_t r = 0; r < nrows; r++) {
		const struct latency_row *row = &tab->rows[r];
		uint32_t best =
		    zone_store_routing_latency_best(t, row->rtt, row->n, NULL);
		in[r].family = row->family;
		in[r].len = row->prefix_len;
		memcpy(in[r].addr, row->addr, 16);
		in[r].value = best < t->n ? best : dflt;
	}
	void *blob = NULL;
	size_t blob_len = 0;
	rc = prefix_table_build(in, nrows, &blob, &blob_len);
	free(in);
	if (rc != 0)
		return rc;
	struct zone_latency_extra *x = malloc(sizeof(*x) + blob_len);
	if (x == NULL) {
		free(blob);
		return Q53_ENOMEM;
	}
	x->dflt = dflt;
	x->reserved = 0;
	memcpy(x + 1, blob, blob_len);
	free(blob);
	t->extra = x;
	t->extra_len = sizeof(*x) + blob_len;
	t->kind = ZONE_CHOICE_LATENCY;
	return 0;
}

/* Geoproximity: a leaf per eligible member, the locations in the extra
 * data. */
static int geoprox(struct zone_store_routing *t,
		   const struct zone_store_rrset *const *e, size_t m)
{
	int rc = weighted(t, e, m);
	if (rc != 0)
		return rc;
	size_t len = sizeof(struct zone_geoprox) +
		     t->n * sizeof(struct zone_geoprox_leaf);
	uint8_t *x = calloc(1, len);
	if (x == NULL)
		return Q53_ENOMEM;
	struct zone_geoprox *h = (struct zone_geoprox *)(void *)x;
	struct zone_geoprox_leaf *l =
	    (struct zone_geoprox_leaf *)(void *)(x + sizeof(*h));
	int32_t best = -100;
	for (size_t i = 0; i < t->n; i++) {
		int32_t lat = 0, lon = 0, bias = 0;
		zone_store_rrset_geoprox(t->member[i], &lat, &lon, &bias);
		zone_geo_point_set(&l[i].at, lat / 100.0, lon / 100.0);
		l[i].factor = zone_geoprox_factor(bias);
		t->leaf[i].weight = (uint32_t)(bias + 100);
		if (bias > best) {
			best = bias;
			h->fallback = (uint32_t)i;
		}
	}
	t->extra = x;
	t->extra_len = len;
	t->kind = ZONE_CHOICE_GEOPROX;
	return 0;
}

int zone_store_routing_build(struct zone_store_routing *t,
			     struct zone_store_rrset *const *g, size_t n,
			     zone_store_check_fn healthy, void *ctx,
			     const struct zone_store_latency *lat)
{
	const struct zone_store_rrset *e[ZONE_CHOICE_MAX_LEAVES];
	t->n = 0;
	t->records = NULL;
	t->extra = NULL;
	t->extra_len = 0;
	t->kind = ZONE_CHOICE_WEIGHTED;
	if (n == 0)
		return Q53_EINVAL;
	if (n > ZONE_CHOICE_MAX_LEAVES)
		n = ZONE_CHOICE_MAX_LEAVES;
	enum change_policy p = zone_store_rrset_policy(g[0]);
	size_t m = eligible(g, n, healthy, ctx, e);
	int rc;
	if (p == CHANGE_POLICY_WEIGHTED)
		rc = weighted(t, e, m);
	else if (p == CHANGE_POLICY_MULTIVALUE)
		rc = multivalue(t, e, m);
	else if (p == CHANGE_POLICY_GEO)
		rc = geo(t, e, m);
	else if (p == CHANGE_POLICY_GEOPROX)
		rc = geoprox(t, e, m);
	else if (p == CHANGE_POLICY_LATENCY)
		rc = latency(t, e, m, lat);
	else
		rc = Q53_EINVAL;
	if (rc != 0)
		zone_store_routing_free(t);
	return rc;
}

void zone_store_routing_free(struct zone_store_routing *t)
{
	free(t->records);
	t->records = NULL;
	free(t->extra);
	t->extra = NULL;
	t->extra_len = 0;
	t->n = 0;
}

int zone_store_routing_ip(struct zone_store_routing *t,
			  struct zone_store_rrset *const *g, size_t n,
			  zone_store_check_fn healthy, void *ctx,
			  zone_store_cidr_fn cidr, void *cidr_ctx, void **extra,
			  size_t *extra_len)
{
	const struct zone_store_rrset *e[ZONE_CHOICE_MAX_LEAVES];
	struct prefix_entry *pe = NULL;
	void *table = NULL;
	size_t table_len = 0, nb = 0;
	int rc;

	*extra = NULL;
	*extra_len = 0;
	t->n = 0;
	t->records = NULL;
	t->extra = NULL; /* the IP table goes to *extra */
	t->extra_len = 0;
	t->kind = ZONE_CHOICE_IP;
	if (n == 0 || zone_store_rrset_policy(g[0]) != CHANGE_POLICY_CIDR)
		return Q53_EINVAL;
	if (n > ZONE_CHOICE_MAX_LEAVES)
		n = ZONE_CHOICE_MAX_LEAVES;
	size_t m = eligible(g, n, healthy, ctx, e);
	rc = weighted(t, e, m);
	if (rc != 0)
		goto out;
	/* Leaf keys, the default leaf. */
	uint32_t def = ZONE_IP_NODATA;
	for (size_t i = 0; i < t->n; i++) {
		bool star = strcmp(zone_store_rrset_cidr_location(t->member[i]),
				   "*") == 0;
		t->leaf[i].weight = star ? 0 : (uint32_t)(1 + i);
		if (star)
			def = (uint32_t)i;
	}
	/* Every member's blocks: its leaf's when eligible, else the
	 * default's. */
	for (size_t pass = 0; pass < 2; pass++) {
		nb = 0;
		for (size_t i = 0; i < n; i++) {
			const struct cidr_block *b = NULL;
			size_t nbl = 0;
			const char *loc = zone_store_rrset_cidr_location(g[i]);
			const char *cid;
			if (cidr == NULL ||
			    cidr(cidr_ctx,
				 zone_store_rrset_cidr_collection(g[i]), loc,
				 &b, &nbl, &cid) != 1)
				continue;
			uint32_t value = def;
			for (size_t l = 0; l < t->n; l++)
				if (t->member[l] == g[i])
					value = (uint32_t)l;
			for (size_t k = 0; k < nbl; k++, nb++) {
				if (pass == 0)
					continue;
				pe[nb].family = b[k].family;
				pe[nb].len = b[k].len;
				memcpy(pe[nb].addr, b[k].addr, 16);
				pe[nb].value = value;
			}
		}
		if (pass == 0) {
			pe = calloc(nb + 1, sizeof(*pe));
			if (pe == NULL) {
				rc = Q53_ENOMEM;
				goto out;
			}
		}
	}
	/* The blocks as the fallback scan reads them (before the table's
	 * build reorders pe). */
	size_t blocks_len = nb * sizeof(struct zone_ip_block);
	struct zone_ip_block *blocks = calloc(nb + 1, sizeof(*blocks));
	if (blocks == NULL) {
		rc = Q53_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nb; i++) {
		blocks[i].family = pe[i].family;
		blocks[i].len = pe[i].len;
		blocks[i].value = pe[i].value;
		memcpy(blocks[i].addr, pe[i].addr, 16);
	}
	rc = prefix_table_build(pe, nb, &table, &table_len);
	if (rc == 0) {
		struct zone_ip_extra x = {(uint32_t)table_len, (uint32_t)nb,
					  def, 0};
		*extra_len = sizeof(x) + table_len + blocks_len;
		uint8_t *p = malloc(*extra_len);
		if (p == NULL) {
			rc = Q53_ENOMEM;
			*extra_len = 0;
		} else {
			memcpy(p, &x, sizeof(x));
			memcpy(p + sizeof(x), table, table_len);
			memcpy(p + sizeof(x) + table_len, blocks, blocks_len);
			*extra = p;
		}
	}
	free(blocks);
out:
	free(table);
	free(pe);
	if (rc != 0)
		zone_store_routing_free(t);
	return rc;
}
