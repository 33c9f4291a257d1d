/* Hosted zones as sorted sequences of record sets (zone_store_sets.h). A
 * change batch is applied to a fork of the zone's sequence (blocks shared
 * with the original, copied on write); the fork replaces the original only
 * when every change validated, so a failing batch leaves nothing behind. */
#include "node/control/zone_store.h"

#include <assert.h>

#include <libknot/libknot.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/cidr_table.h"
#include "node/control/geo_codes.h"
#include "node/control/geoprox.h"
#include "node/control/latency_table.h"
#include "node/control/zone_store_impl.h"
#include "node/dnsdata/rdata_check.h"
#include "node/dnsdata/rdata_text.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rrtype.h"
#include "node/health/vote_rule.h"
#include "node/zone/zone.h"

#define ROUTE53_NAME_MAX 1024

/* A growable array of record sets, kept sorted: a zone's sets while an
 * import or a restore builds them, a batch's displaced ones. */
struct set_list {
	struct zone_store_rrset **v;
	size_t n;
	size_t cap;
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* --- names --- */

static void name_text(const uint8_t *wire, char *out, size_t outlen)
{
	if (knot_dname_to_str(out, wire, outlen) == NULL)
		snprintf(out, outlen, "?");
}

/* Route 53 name (absolute, final dot optional, \ooo octal escapes) to a
 * lowercase wire name. Returns its length or 0. */
static size_t name_from_route53(const char *text, uint8_t *wire)
{
	char conv[ROUTE53_NAME_MAX + 1];
	size_t n = strlen(text), o = 0;

	if (n == 0 || n > ROUTE53_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *c = text + i;
		if (c[0] == '\\' && c[1] >= '0' && c[1] <= '7' && c[2] >= '0' &&
		    c[2] <= '7' && c[3] >= '0' && c[3] <= '7') {
			/* libknot reads \DDD as decimal: convert. */
			unsigned v =
			    (unsigned)((c[1] - '0') * 64 + (c[2] - '0') * 8 +
				       (c[3] - '0'));
			if (v > 255)
				return 0;
			snprintf(conv + o, sizeof(conv) - o, "\\%03u", v);
			o += 4;
			i += 3;
		} else if (c[0] == '\\' && c[1] != '\0') {
			conv[o++] = c[0];
			conv[o++] = c[1];
			i++;
		} else {
			conv[o++] = c[0];
		}
	}
	conv[o] = '\0';
	uint8_t tmp[DNAME_MAXLEN];
	if (knot_dname_from_str(tmp, conv, sizeof(tmp)) == NULL)
		return 0;
	size_t len = dname_wire_len(tmp, sizeof(tmp));
	if (len == 0)
		return 0;
	dname_lower_copy(wire, tmp, len);
	return len;
}

/* Canonical DNS name order (RFC 4034 6.1) of lowercase wire names. */
static int name_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t la[DNAME_MAXLABELS], lb[DNAME_MAXLABELS];
	size_t na = 0, nb = 0;
	for (size_t p = 0; a[p] != 0; p += 1u + a[p])
		la[na++] = (uint8_t)p;
	for (size_t p = 0; b[p] != 0; p += 1u + b[p])
		lb[nb++] = (uint8_t)p;
	while (na > 0 && nb > 0) {
		const uint8_t *x = a + la[--na], *y = b + lb[--nb];
		size_t m = x[0] < y[0] ? x[0] : y[0];
		int c = memcmp(x + 1, y + 1, m);
		if (c != 0)
			return c;
		if (x[0] != y[0])
			return x[0] < y[0] ? -1 : 1;
	}
	return na == nb ? 0 : (na < nb ? -1 : 1);
}

static bool name_eq(const uint8_t *a, size_t alen, const uint8_t *b,
		    size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* Same owner: lowercase wire names are equal as bytes (cheaper than
 * name_cmp's label walk where only equality matters). */
static bool owner_eq(const struct zone_store_rrset *a,
		     const struct zone_store_rrset *b)
{
	return name_eq(a->owner, a->owner_len, b->owner, b->owner_len);
}

static bool id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n < ZONE_STORE_ID_MIN || n > ZONE_STORE_ID_MAX || id[0] != 'Z')
		return false;
	for (size_t i = 1; i < n; i++) {
		if (!((id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= '0' && id[i] <= '9')))
			return false;
	}
	return true;
}

/* --- record sets --- */

static int rdata_cmp(const struct zone_store_rdata *a,
		     const struct zone_store_rdata *b)
{
	size_t m = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->data, b->data, m);
	if (c != 0)
		return c;
	return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

static int key_cmp(const uint8_t *owner, uint16_t type, const char *set_id,
		   const struct zone_store_rrset *s)
{
	int c = name_cmp(owner, s->owner);
	if (c != 0)
		return c;
	if (type != s->type)
		return type < s->type ? -1 : 1;
	const char *sid = zone_store_rrset_set_id(s);
	if (set_id == NULL || sid == NULL)
		return (set_id != NULL) - (sid != NULL);
	return strcmp(set_id, sid);
}

static int set_cmp(const struct zone_store_rrset *a,
		   const struct zone_store_rrset *b)
{
	return key_cmp(a->owner, a->type, zone_store_rrset_set_id(a), b);
}

/* A set is one allocation: the struct, its rdata array, the owner, the
 * set identifier, the health check id and the RDATA bytes. */
static void set_free(struct zone_store_rrset *s)
{
	free(s);
}

/* The routing fields of a new set; {NULL, NONE, NULL} for a plain one. */
struct set_routing {
	const char *set_id;
	enum change_failover failover;
	const char *health_check_id;
	uint8_t weight;
	uint8_t routing; /* ZONE_STORE_WEIGHTED, ZONE_STORE_MULTIVALUE */
	uint32_t geo;	 /* checked already (geo_of) */
	const char *geo_code[3];
	const char *region;  /* checked already (region_of) */
	const char *cidr_id; /* CidrRoutingConfig, NULL: none */
	const char *cidr_loc;
	/* Geoproximity (routing ZONE_STORE_GEOPROX), checked already
	 * (geoprox_of). */
	int32_t gp_lat, gp_lon, gp_bias;
	const char *gp_region;
};

static const struct set_routing PLAIN = {.failover = CHANGE_FAILOVER_NONE};

/* Whether a Region is one this store accepts: Route 53's codes, and the
 * regions of the cluster's sites. 0, or -1 with the reason in why. */
static int region_of(const struct zone_store *s, const struct rrset_data *r,
		     char *why, size_t whylen)
{
	if (r->region == NULL)
		return 0;
	if (latency_name_valid(r->region) &&
	    (latency_region_known(r->region) ||
	     (s->site_region != NULL &&
	      s->site_region(s->site_region_ctx, r->region))))
		return 0;
	snprintf(why, whylen,
		 "Region '%.64s' is not a known region (Route 53's region "
		 "codes, or the region of a site of this cluster: q53d "
		 "--site NAME:REGION)",
		 r->region);
	return -1;
}

/* The geoproximity location of typed set r into *g: 0 for none or a
 * valid one, else -1 with the reason in why. */
static int geoprox_of(const struct rrset_data *r, struct set_routing *g,
		      char *why, size_t whylen)
{
	if (!r->geoprox.present)
		return 0;
	if (geoprox_check(&r->geoprox, &g->gp_lat, &g->gp_lon, why, whylen) !=
	    0)
		return -1;
	g->gp_bias = r->geoprox.bias;
	g->gp_region = r->geoprox.region;
	return 0;
}

static bool has_geo(const struct rrset_data *r)
{
	return r->geo_continent != NULL || r->geo_country != NULL ||
	       r->geo_subdivision != NULL;
}

/* The location of typed set r: 0 (*loc 0) for none or a valid one, else
 * -1 with the reason in why. */
static int geo_of(const struct rrset_data *r, uint32_t *loc, char *why,
		  size_t whylen)
{
	*loc = 0;
	if (!has_geo(r))
		return 0;
	return geo_location_check(r->geo_continent, r->geo_country,
				  r->geo_subdivision, loc, why, whylen);
}

/* The routing fields of typed set r (weight range and geoproximity
 * location checked already). */
static struct set_routing routing_of(const struct rrset_data *r)
{
	char why[200];
	struct set_routing g = {
	    r->set_identifier,
	    r->failover,
	    r->health_check_id,
	    r->has_weight ? (uint8_t)r->weight : 0,
	    (uint8_t)((r->has_weight ? ZONE_STORE_WEIGHTED : 0) |
		      (r->multivalue ? ZONE_STORE_MULTIVALUE : 0) |
		      (r->alias_zone_id != NULL ? ZONE_STORE_ALIAS : 0) |
		      (r->geoprox.present ? ZONE_STORE_GEOPROX : 0)),
	    0,
	    {r->geo_continent, r->geo_country, r->geo_subdivision},
	    r->region,
	    r->cidr_collection_id,
	    r->cidr_location,
	    0,
	    0,
	    0,
	    NULL};
	(void)geoprox_of(r, &g, why, sizeof(why));
	return g;
}

static bool has_cidr(const struct rrset_data *r)
{
	return r->cidr_collection_id != NULL || r->cidr_location != NULL;
}

/* The shape of r's CidrRoutingConfig: both or neither, a UUID and a
 * location name (or "*"). */
static bool cidr_shape_ok(const struct rrset_data *r)
{
	if (!has_cidr(r))
		return true;
	return r->cidr_collection_id != NULL && r->cidr_location != NULL &&
	       (cidr_id_ok(r->cidr_collection_id) ||
		cidr_collection_name_ok(r->cidr_collection_id)) &&
	       (strcmp(r->cidr_location, CIDR_DEFAULT_LOCATION) == 0 ||
		cidr_location_name_ok(r->cidr_location, false));
}

static void geo_copy(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
}

static const char *geo_str(const char *s)
{
	return s[0] != '\0' ? s : NULL;
}

void zone_store_rrset_data(const struct zone_store_rrset *s,
			   struct rrset_data *out)
{
	const struct zone_store_policy *p = s->policy;
	uint8_t routing = zone_store_rrset_routing(s);
	*out = (struct rrset_data){
	    .owner = s->owner,
	    .owner_len = s->owner_len,
	    .type = s->type,
	    .ttl = s->ttl,
	    .nrdata = s->count,
	    .set_identifier = zone_store_rrset_set_id(s),
	    .failover = zone_store_rrset_failover(s),
	    .has_weight = routing & ZONE_STORE_WEIGHTED,
	    .weight = zone_store_rrset_weight(s),
	    .multivalue = routing & ZONE_STORE_MULTIVALUE,
	    .health_check_id = zone_store_rrset_health_check(s),
	    .cidr_collection_id = zone_store_rrset_cidr_collection(s),
	    .cidr_location = zone_store_rrset_cidr_location(s),
	};
	if (p != NULL && p->geo != 0) {
		out->geo_continent = geo_str(p->geo_continent);
		out->geo_country = geo_str(p->geo_country);
		out->geo_subdivision = geo_str(p->geo_subdivision);
	}
	if (routing & ZONE_STORE_GEOPROX) {
		struct change_geoprox *g = &out->geoprox;
		g->present = true;
		g->region = p->geoprox_region[0] != '\0'
				? (char *)p->geoprox_region
				: NULL;
		g->has_coordinates = g->region == NULL;
		g->latitude = p->geoprox_lat;
		g->longitude = p->geoprox_lon;
		g->bias = p->geoprox_bias;
	}
	out->region = zone_store_rrset_region(s);
}

/* An alias's one record (private): flags, zone id length, zone id, the
 * target's lowercase wire name. */
#define ALIAS_EVALUATE	0x01
#define ALIAS_RDATA_MAX (2 + ZONE_STORE_ID_MAX + DNAME_MAXLEN)

/* The record of typed alias r into out[ALIAS_RDATA_MAX]: its length, or 0
 * when the zone id or the name is malformed. */
static size_t alias_rdata(const struct rrset_data *r, uint8_t *out)
{
	size_t idlen = strlen(r->alias_zone_id);
	size_t len = r->alias_name_len;
	if (!id_valid(r->alias_zone_id) || r->alias_name == NULL || len == 0 ||
	    len > DNAME_MAXLEN || dname_wire_len(r->alias_name, len) != len)
		return 0;
	out[0] = r->alias_evaluate ? ALIAS_EVALUATE : 0;
	out[1] = (uint8_t)idlen;
	memcpy(out + 2, r->alias_zone_id, idlen);
	dname_lower_copy(out + 2 + idlen, r->alias_name, len);
	return 2 + idlen + len;
}

bool zone_store_rrset_alias(const struct zone_store_rrset *s,
			    struct zone_store_alias *out)
{
	if (!(zone_store_rrset_routing(s) & ZONE_STORE_ALIAS) || s->count != 1)
		return false;
	const uint8_t *p = s->rdata[0].data;
	size_t idlen = p[1];
	memcpy(out->zone_id, p + 2, idlen);
	out->zone_id[idlen] = '\0';
	out->name = p + 2 + idlen;
	out->name_len = (uint8_t)(s->rdata[0].len - 2 - idlen);
	out->evaluate = p[0] & ALIAS_EVALUATE;
	return true;
}

void zone_store_rrset_alias_data(const struct zone_store_rrset *s,
				 struct zone_store_alias *a,
				 struct rrset_data *d)
{
	d->alias_zone_id = NULL;
	d->alias_name = NULL;
	d->alias_name_len = 0;
	d->alias_evaluate = false;
	if (!zone_store_rrset_alias(s, a))
		return;
	d->alias_zone_id = a->zone_id;
	d->alias_name = a->name;
	d->alias_name_len = a->name_len;
	d->alias_evaluate = a->evaluate;
	d->nrdata = 0;
	d->ttl = 0;
}

enum change_policy zone_store_rrset_policy(const struct zone_store_rrset *s)
{
	uint8_t routing = zone_store_rrset_routing(s);
	return change_batch_policy(
	    zone_store_rrset_set_id(s) != NULL, zone_store_rrset_failover(s),
	    routing & ZONE_STORE_WEIGHTED, routing & ZONE_STORE_MULTIVALUE,
	    zone_store_rrset_geo(s) != 0, zone_store_rrset_region(s) != NULL,
	    zone_store_rrset_cidr_collection(s) != NULL,
	    routing & ZONE_STORE_GEOPROX);
}

/* The records of a set being built, in canonical order and distinct,
 * pointing at the caller's bytes (nothing copied until set_make). */
struct set_draft {
	struct zone_store_rdata *rd;
	uint16_t count;
	size_t cap;
	size_t bytes;
	struct zone_store_rdata small[8];
};

static void draft_init(struct set_draft *d)
{
	d->rd = d->small;
	d->count = 0;
	d->cap = sizeof(d->small) / sizeof(d->small[0]);
	d->bytes = 0;
}

static void draft_clear(struct set_draft *d)
{
	if (d->rd != d->small)
		free(d->rd);
	draft_init(d);
}

/* Adds rdata (not copied) in canonical order. Returns 0, Q53_EEXIST when
 * the draft already holds it, Q53_ELIMIT past 65535 records, Q53_ENOMEM. */
static int draft_add(struct set_draft *d, const uint8_t *data, uint16_t len)
{
	struct zone_store_rdata key = {.len = len, .data = (uint8_t *)data};
	size_t lo = 0, hi = d->count;
	/* Records mostly come sorted: try the end first. */
	if (hi > 0) {
		int c = rdata_cmp(&d->rd[hi - 1], &key);
		if (c == 0)
			return Q53_EEXIST;
		if (c < 0)
			lo = hi;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = rdata_cmp(&d->rd[mid], &key);
		if (c == 0)
			return Q53_EEXIST;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (d->count == UINT16_MAX)
		return Q53_ELIMIT;
	if (d->count == d->cap) {
		size_t cap = d->cap * 2;
		struct zone_store_rdata *rd = malloc(cap * sizeof(*rd));
		if (rd == NULL)
			return Q53_ENOMEM;
		memcpy(rd, d->rd, d->count * sizeof(*rd));
		if (d->rd != d->small)
			free(d->rd);
		d->rd = rd;
		d->cap = cap;
	}
	memmove(&d->rd[lo + 1], &d->rd[lo], (d->count - lo) * sizeof(*d->rd));
	d->rd[lo] = key;
	d->count++;
	d->bytes += len;
	return 0;
}

/* A new set holding copies of owner, the routing strings and d's
 * records, in one allocation (freed by set_free); NULL when out of
 * memory. */
static struct zone_store_rrset *set_make(const uint8_t *owner, size_t len,
					 uint16_t type, uint32_t ttl,
					 const struct set_routing *r,
					 const struct set_draft *d)
{
	size_t idlen = r->set_id != NULL ? strlen(r->set_id) + 1 : 0;
	size_t hclen =
	    r->health_check_id != NULL ? strlen(r->health_check_id) + 1 : 0;
	size_t cidlen = r->cidr_id != NULL ? strlen(r->cidr_id) + 1 : 0;
	size_t cloclen = r->cidr_loc != NULL ? strlen(r->cidr_loc) + 1 : 0;
	bool plain = idlen == 0 && hclen == 0 &&
		     r->failover == CHANGE_FAILOVER_NONE && r->weight == 0 &&
		     r->routing == 0 && r->geo == 0 && r->region == NULL &&
		     cidlen == 0 && cloclen == 0;
	size_t size = sizeof(struct zone_store_rrset) +
		      d->count * sizeof(struct zone_store_rdata) +
		      (plain ? 0 : sizeof(struct zone_store_policy)) + len +
		      idlen + hclen + cidlen + cloclen + d->bytes;
	struct zone_store_rrset *s = malloc(size);
	if (s == NULL)
		return NULL;
	memset(s, 0, sizeof(*s));
	uint8_t *p = (uint8_t *)&s->rdata[d->count];
	if (!plain) {
		struct zone_store_policy *pol = (struct zone_store_policy *)p;
		p += sizeof(*pol);
		memset(pol, 0, sizeof(*pol));
		pol->failover = r->failover;
		pol->weight = r->weight;
		pol->routing = r->routing;
		pol->geo = r->geo;
		if (r->geo != 0) {
			geo_copy(pol->geo_continent, sizeof(pol->geo_continent),
				 r->geo_code[0]);
			geo_copy(pol->geo_country, sizeof(pol->geo_country),
				 r->geo_code[1]);
			geo_copy(pol->geo_subdivision,
				 sizeof(pol->geo_subdivision), r->geo_code[2]);
		}
		if (r->routing & ZONE_STORE_GEOPROX) {
			pol->geoprox_lat = (int16_t)r->gp_lat;
			pol->geoprox_lon = (int16_t)r->gp_lon;
			pol->geoprox_bias = (int8_t)r->gp_bias;
			geo_copy(pol->geoprox_region,
				 sizeof(pol->geoprox_region), r->gp_region);
		}
		if (r->region != NULL)
			geo_copy(pol->region, sizeof(pol->region), r->region);
		s->policy = pol;
	}
	s->owner = p;
	memcpy(p, owner, len);
	p += len;
	s->owner_len = (uint8_t)len;
	s->type = type;
	s->ttl = ttl;
	if (idlen > 0) {
		s->policy->set_identifier = (char *)p;
		memcpy(p, r->set_id, idlen);
		p += idlen;
	}
	if (hclen > 0) {
		s->policy->health_check_id = (char *)p;
		memcpy(p, r->health_check_id, hclen);
		p += hclen;
	}
	if (cidlen > 0) {
		s->policy->cidr_collection_id = (char *)p;
		memcpy(p, r->cidr_id, cidlen);
		p += cidlen;
	}
	if (cloclen > 0) {
		s->policy->cidr_location = (char *)p;
		memcpy(p, r->cidr_loc, cloclen);
		p += cloclen;
	}
	for (uint16_t i = 0; i < d->count; i++) {
		s->rdata[i].len = d->rd[i].len;
		s->rdata[i].data = p;
		memcpy(p, d->rd[i].data, d->rd[i].len);
		p += d->rd[i].len;
	}
	s->count = d->count;
	return s;
}

static bool opt_eq(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static bool geoprox_same(const struct zone_store_rrset *a,
			 const struct zone_store_rrset *b)
{
	int32_t la = 0, oa = 0, ba = 0, lb = 0, ob = 0, bb = 0;
	bool ga = zone_store_rrset_geoprox(a, &la, &oa, &ba);
	bool gb = zone_store_rrset_geoprox(b, &lb, &ob, &bb);
	if (ga != gb)
		return false;
	return !ga || (la == lb && oa == ob && ba == bb &&
		       strcmp(a->policy->geoprox_region,
			      b->policy->geoprox_region) == 0);
}

/* Everything but the key (owner, type, set identifier) is the same. */
static bool set_same_data(const struct zone_store_rrset *a,
			  const struct zone_store_rrset *b)
{
	if (a->ttl != b->ttl || a->count != b->count ||
	    zone_store_rrset_failover(a) != zone_store_rrset_failover(b) ||
	    zone_store_rrset_weight(a) != zone_store_rrset_weight(b) ||
	    zone_store_rrset_routing(a) != zone_store_rrset_routing(b) ||
	    zone_store_rrset_geo(a) != zone_store_rrset_geo(b) ||
	    !opt_eq(zone_store_rrset_region(a), zone_store_rrset_region(b)) ||
	    !geoprox_same(a, b) ||
	    !opt_eq(zone_store_rrset_health_check(a),
		    zone_store_rrset_health_check(b)) ||
	    !opt_eq(zone_store_rrset_cidr_collection(a),
		    zone_store_rrset_cidr_collection(b)) ||
	    !opt_eq(zone_store_rrset_cidr_location(a),
		    zone_store_rrset_cidr_location(b)))
		return false;
	for (uint16_t i = 0; i < a->count; i++) {
		if (rdata_cmp(&a->rdata[i], &b->rdata[i]) != 0)
			return false;
	}
	return true;
}

struct set_key {
	const uint8_t *owner;
	uint16_t type;
	const char *set_id;
};

static int set_key_cmp(const void *key, const struct zone_store_rrset *s)
{
	const struct set_key *k = key;
	return key_cmp(k->owner, k->type, k->set_id, s);
}

/* The first position whose set is not before the key. */
static size_t sets_lower_bound(const struct zone_store_sets *q,
			       const uint8_t *owner, uint16_t type,
			       const char *set_id)
{
	struct set_key k = {owner, type, set_id};
	return zone_store_sets_lower_bound(q, set_key_cmp, &k);
}

/* The first position of v[0..n) whose set is not before the key. */
static size_t list_lower_bound(struct zone_store_rrset *const *v, size_t n,
			       const uint8_t *owner, uint16_t type,
			       const char *set_id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (key_cmp(owner, type, set_id, v[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int list_insert(struct set_list *l, size_t pos,
		       struct zone_store_rrset *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct zone_store_rrset **v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	memmove(&l->v[pos + 1], &l->v[pos], (l->n - pos) * sizeof(*l->v));
	l->v[pos] = s;
	l->n++;
	return 0;
}

static void list_free_all(struct set_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		set_free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static const struct zone_store_rrset *
list_find(struct zone_store_rrset *const *v, size_t n, const uint8_t *owner,
	  uint16_t type)
{
	size_t pos = list_lower_bound(v, n, owner, type, NULL);
	if (pos < n && v[pos]->type == type &&
	    name_cmp(owner, v[pos]->owner) == 0)
		return v[pos];
	return NULL;
}

/* The end of the (owner, type) group that starts at v[i]. */
static size_t list_group_end(struct zone_store_rrset *const *v, size_t n,
			     size_t i)
{
	size_t j = i + 1;
	while (j < n && v[j]->type == v[i]->type && owner_eq(v[j], v[i]))
		j++;
	return j;
}

/* The zone's sets become l's (in order; l is left empty). 0 or
 * Q53_ENOMEM (nothing changed). */
static void set_retire(struct zone_store *s, struct zone_store_rrset *set);

static int list_to_sets(struct zone_store *s, struct set_list *l,
			struct zone_store_sets *out)
{
	struct zone_store_sets q;
	zone_store_sets_init(&q);
	for (size_t i = 0; i < l->n; i++) {
		if (zone_store_sets_push(&q, l->v[i]) != 0) {
			zone_store_sets_free(&q);
			return Q53_ENOMEM;
		}
	}
	/* The sets replaced are retired (kept while a snapshot holds the
	 * store; the caller reserved the room). */
	for (size_t i = 0; i < zone_store_sets_count(out); i++)
		set_retire(s, zone_store_sets_at(out, i));
	zone_store_sets_free(out);
	*out = q;
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
	return 0;
}

static struct zone_store_rrset *sets_find(const struct zone_store_sets *q,
					  const uint8_t *owner, uint16_t type)
{
	size_t pos = sets_lower_bound(q, owner, type, NULL);
	if (pos == zone_store_sets_count(q))
		return NULL;
	struct zone_store_rrset *s = zone_store_sets_at(q, pos);
	if (s->type == type && name_cmp(owner, s->owner) == 0)
		return s;
	return NULL;
}

static void type_text(uint16_t type, char *out, size_t outlen)
{
	if (rdata_text_type_name(type, out, outlen) != 0)
		snprintf(out, outlen, "TYPE%u", type);
}

/* "[name='www.example.com.', type='A']" as Route 53 words it. */
static void set_label(const uint8_t *owner, uint16_t type, const char *set_id,
		      char *out, size_t outlen)
{
	char name[NAME_TEXT_MAX], t[32];
	name_text(owner, name, sizeof(name));
	type_text(type, t, sizeof(t));
	if (set_id != NULL)
		snprintf(out, outlen,
			 "[name='%s', type='%s', set-identifier='%s']", name, t,
			 set_id);
	else
		snprintf(out, outlen, "[name='%s', type='%s']", name, t);
}

/* --- zones --- */

static void zone_free(struct zone_store_zone *z)
{
	if (z == NULL)
		return;
	zone_store_sets_free_all(&z->sets);
	free(z->comment);
	free(z->caller_reference);
	zone_store_track_free(z);
	free(z);
}

static struct zone_store_zone *zone_find(const struct zone_store *s,
					 const char *id, size_t *pos)
{
	size_t lo = 0, hi = s->nzones;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->zones[mid]->id, id);
		if (c == 0) {
			if (pos)
				*pos = mid;
			return s->zones[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return NULL;
}

static int no_such_zone(const char *id, char *err, size_t errlen)
{
	return fail(err, errlen, Q53_ENOENT,
		    "NoSuchHostedZone: no hosted zone found with ID: %s", id);
}

static uint32_t soa_serial_get(const struct zone_store_rrset *soa)
{
	const uint8_t *p = soa->rdata[0].data + soa->rdata[0].len - 20;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void soa_serial_set(struct zone_store_rrset *soa, uint32_t serial)
{
	uint8_t *p = soa->rdata[0].data + soa->rdata[0].len - 20;
	p[0] = (uint8_t)(serial >> 24);
	p[1] = (uint8_t)(serial >> 16);
	p[2] = (uint8_t)(serial >> 8);
	p[3] = (uint8_t)serial;
}

static struct zone_store_rrset *zone_soa(const struct zone_store_zone *z)
{
	return sets_find(&z->sets, z->origin, RRTYPE_SOA);
}

/* --- for zone_store_build.c (zone_store_impl.h) --- */

int zone_store_impl_name_cmp(const uint8_t *a, const uint8_t *b)
{
	return name_cmp(a, b);
}

struct zone_store_zone *zone_store_impl_find(const struct zone_store *s,
					     const char *id)
{
	return zone_find(s, id, NULL);
}

int zone_store_impl_no_such_zone(const char *id, char *err, size_t errlen)
{
	return no_such_zone(id, err, errlen);
}

size_t zone_store_impl_group_end(const struct zone_store_sets *q, size_t i,
				 struct zone_store_rrset **g, size_t max)
{
	size_t n = zone_store_sets_count(q);
	const struct zone_store_rrset *first = zone_store_sets_at(q, i);
	size_t j = i;
	for (; j < n; j++) {
		struct zone_store_rrset *x = zone_store_sets_at(q, j);
		if (j > i && (x->type != first->type || !owner_eq(x, first)))
			break;
		if (j - i < max)
			g[j - i] = x;
	}
	return j;
}

size_t zone_store_impl_find_group(const struct zone_store_sets *q,
				  const uint8_t *name, uint16_t type,
				  size_t *end)
{
	size_t pos = sets_lower_bound(q, name, type, NULL);
	size_t n = zone_store_sets_count(q), e = pos;
	while (e < n) {
		const struct zone_store_rrset *x = zone_store_sets_at(q, e);
		if (x->type != type || name_cmp(x->owner, name) != 0)
			break;
		e++;
	}
	*end = e;
	return pos;
}

size_t zone_store_impl_lower_bound(const struct zone_store_zone *z,
				   const uint8_t *owner)
{
	return sets_lower_bound(&z->sets, owner, 0, NULL);
}

const struct zone_store_rrset *
zone_store_info_rrset(const struct zone_store_info *info, size_t i)
{
	return zone_store_sets_at(info->sets, i);
}

void zone_store_info_copy_rrsets(const struct zone_store_info *info,
				 const struct zone_store_rrset **out)
{
	zone_store_sets_copy_out(info->sets, out);
}

void zone_store_init(struct zone_store *s)
{
	s->zones = NULL;
	s->nzones = 0;
	s->flow = NULL;
	s->holds = 0;
	s->retired = NULL;
	s->nretired = 0;
	s->capretired = 0;
	s->site_region = NULL;
	s->site_region_ctx = NULL;
	s->latency = NULL;
	s->cidr = NULL;
	s->cidr_ctx = NULL;
}

void zone_store_free(struct zone_store *s)
{
	bool (*site_region)(void *, const char *) = s->site_region;
	void *site_region_ctx = s->site_region_ctx;
	const struct zone_store_latency *latency = s->latency;
	assert(s->holds == 0);
	for (size_t i = 0; i < s->nzones; i++)
		zone_free(s->zones[i]);
	free(s->zones);
	for (size_t i = 0; i < s->nretired; i++)
		set_free(s->retired[i]);
	free(s->retired);
	zone_store_flow_free(s);
	zone_store_init(s);
	/* The caller's hooks outlive the data. */
	s->site_region = site_region;
	s->site_region_ctx = site_region_ctx;
	s->latency = latency;
}

void zone_store_hold(struct zone_store *s)
{
	s->holds++;
}

void zone_store_release(struct zone_store *s)
{
	assert(s->holds > 0);
	if (--s->holds > 0)
		return;
	for (size_t i = 0; i < s->nretired; i++)
		set_free(s->retired[i]);
	free(s->retired);
	s->retired = NULL;
	s->nretired = 0;
	s->capretired = 0;
}

/* Room to retire n more sets (before a mutation commits). */
static int retire_reserve(struct zone_store *s, size_t n)
{
	struct zone_store_rrset **v;
	size_t cap;

	if (s->holds == 0 || s->capretired - s->nretired >= n)
		return 0;
	cap = s->capretired * 2 > s->nretired + n ? s->capretired * 2
						  : s->nretired + n + 64;
	v = realloc(s->retired, cap * sizeof(*v));
	if (v == NULL)
		return Q53_ENOMEM;
	s->retired = v;
	s->capretired = cap;
	return 0;
}

/* A committed set the store drops: freed now, or at the release (room
 * reserved with retire_reserve). */
static void set_retire(struct zone_store *s, struct zone_store_rrset *set)
{
	if (s->holds == 0) {
		set_free(set);
		return;
	}
	assert(s->nretired < s->capretired);
	s->retired[s->nretired++] = set;
}

size_t zone_store_count(const struct zone_store *s)
{
	return s->nzones;
}

static void zone_info(const struct zone_store_zone *z,
		      struct zone_store_info *out)
{
	out->id = z->id;
	out->name = z->name;
	out->origin = z->origin;
	out->comment = z->comment;
	out->caller_reference = z->caller_reference;
	out->serial = z->serial;
	out->nrrsets = zone_store_sets_count(&z->sets);
	out->max_rrsets = z->max_rrsets;
	out->sets = &z->sets;
}

int zone_store_get_at(const struct zone_store *s, size_t i,
		      struct zone_store_info *out)
{
	if (i >= s->nzones)
		return Q53_ENOENT;
	zone_info(s->zones[i], out);
	return 0;
}

size_t zone_store_alias_count(const struct zone_store *s, size_t i)
{
	return i < s->nzones ? s->zones[i]->nalias : 0;
}

size_t zone_store_latency_count(const struct zone_store *s, size_t i)
{
	return i < s->nzones ? s->zones[i]->nlatency : 0;
}

void zone_store_set_cidr(struct zone_store *s, zone_store_cidr_fn fn, void *ctx)
{
	s->cidr = fn;
	s->cidr_ctx = ctx;
}

/* Whether zone z has a set using collection id (and location, unless
 * NULL). */
static bool zone_uses_cidr(const struct zone_store *s,
			   const struct zone_store_zone *z, const char *id,
			   const char *location)
{
	size_t n = zone_store_sets_count(&z->sets);

	if (zone_store_flow_uses_cidr(s, z->id, id, location))
		return true;
	if (z->ncidr == 0)
		return false;
	for (size_t k = 0; k < n; k++) {
		const struct zone_store_rrset *x =
		    zone_store_sets_at(&z->sets, k);
		const char *c = zone_store_rrset_cidr_collection(x);
		if (c != NULL && strcmp(c, id) == 0 &&
		    (location == NULL ||
		     strcmp(zone_store_rrset_cidr_location(x), location) == 0))
			return true;
	}
	return false;
}

bool zone_store_cidr_in_use(const struct zone_store *s, const char *id,
			    const char *location)
{
	for (size_t i = 0; i < s->nzones; i++)
		if (zone_uses_cidr(s, s->zones[i], id, location))
			return true;
	return false;
}

void zone_store_cidr_users(const struct zone_store *s, const char *id,
			   void (*fn)(void *ctx, const char *zone_id),
			   void *ctx)
{
	for (size_t i = 0; i < s->nzones; i++)
		if (zone_uses_cidr(s, s->zones[i], id, NULL))
			fn(ctx, s->zones[i]->id);
}

int zone_store_get(const struct zone_store *s, const char *id,
		   struct zone_store_info *out)
{
	const struct zone_store_zone *z = zone_find(s, id, NULL);
	if (z == NULL)
		return Q53_ENOENT;
	zone_info(z, out);
	return 0;
}

static int zone_insert(struct zone_store *s, size_t pos,
		       struct zone_store_zone *z)
{
	struct zone_store_zone **v =
	    realloc(s->zones, (s->nzones + 1) * sizeof(*v));
	if (v == NULL)
		return Q53_ENOMEM;
	s->zones = v;
	memmove(&v[pos + 1], &v[pos], (s->nzones - pos) * sizeof(*v));
	v[pos] = z;
	s->nzones++;
	return 0;
}

/* Adds a set of one type at the apex from wire rdata. */
static int zone_add_apex_set(struct zone_store_zone *z, struct set_list *l,
			     uint16_t type, uint32_t ttl,
			     const struct zone_store_rdata *rd, size_t n)
{
	struct set_draft d;
	draft_init(&d);
	for (size_t i = 0; i < n; i++) {
		int rc = draft_add(&d, rd[i].data, rd[i].len);
		if (rc != 0 && rc != Q53_EEXIST) {
			draft_clear(&d);
			return rc;
		}
	}
	struct zone_store_rrset *set =
	    set_make(z->origin, z->origin_len, type, ttl, &PLAIN, &d);
	draft_clear(&d);
	if (set == NULL)
		return Q53_ENOMEM;
	size_t pos = list_lower_bound(l->v, l->n, z->origin, type, NULL);
	int rc = list_insert(l, pos, set);
	if (rc != 0)
		set_free(set);
	return rc;
}

static bool string_ok(const char *v, size_t max)
{
	return v == NULL || strlen(v) <= max;
}

int zone_store_set_comment(struct zone_store *s, const char *id,
			   const char *comment, char *err, size_t errlen)
{
	struct zone_store_zone *z = zone_find(s, id, NULL);
	char *c = NULL;

	if (z == NULL)
		return fail(err, errlen, Q53_ENOENT,
			    "NoSuchHostedZone: no hosted zone found with ID: "
			    "%s",
			    id);
	if (!string_ok(comment, CHANGE_BATCH_MAX_COMMENT))
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: comment longer than %d characters",
			    CHANGE_BATCH_MAX_COMMENT);
	if (comment != NULL && comment[0] != '\0' &&
	    (c = strdup(comment)) == NULL)
		return Q53_ENOMEM;
	free(z->comment);
	z->comment = c;
	return 0;
}

int zone_store_create(struct zone_store *s,
		      const struct zone_store_create_params *p, char *err,
		      size_t errlen)
{
	uint8_t origin[DNAME_MAXLEN];
	size_t pos, olen;
	int rc;

	err[0] = '\0';
	if (p->id == NULL || !id_valid(p->id))
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: hosted zone ID '%s' must be Z "
			    "followed by 13 to 21 upper-case letters or digits",
			    p->id ? p->id : "");
	if (zone_find(s, p->id, &pos) != NULL)
		return fail(err, errlen, Q53_EEXIST,
			    "HostedZoneAlreadyExists: a hosted zone with ID %s "
			    "already exists",
			    p->id);
	olen = p->name ? name_from_route53(p->name, origin) : 0;
	if (olen <= 1)
		return fail(
		    err, errlen, Q53_EINVAL,
		    "InvalidDomainName: '%s' is not a valid domain name "
		    "for a hosted zone",
		    p->name ? p->name : "");
	if (!string_ok(p->comment, CHANGE_BATCH_MAX_COMMENT) ||
	    !string_ok(p->caller_reference, 128))
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: comment longer than 256 or caller "
			    "reference longer than 128 characters");
	/* Route 53 looks at the caller reference first: a retry of a
	 * request that created its zone is HostedZoneAlreadyExists. */
	for (size_t i = 0; i < s->nzones && p->caller_reference; i++) {
		const struct zone_store_zone *o = s->zones[i];
		if (o->caller_reference &&
		    strcmp(p->caller_reference, o->caller_reference) == 0)
			return fail(err, errlen, Q53_EEXIST,
				    "HostedZoneAlreadyExists: caller reference "
				    "'%s' was used for hosted zone %s",
				    p->caller_reference, o->id);
	}
	for (size_t i = 0; i < s->nzones; i++) {
		const struct zone_store_zone *o = s->zones[i];
		if (name_eq(o->origin, o->origin_len, origin, olen))
			return fail(err, errlen, Q53_EEXIST,
				    "ConflictingDomainExists: hosted zone %s "
				    "already serves %s",
				    o->id, o->name);
	}
	if (p->nnameservers == 0)
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: a hosted zone needs at least one "
			    "name server");

	struct zone_store_zone *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return Q53_ENOMEM;
	zone_store_sets_init(&z->sets);
	snprintf(z->id, sizeof(z->id), "%s", p->id);
	memcpy(z->origin, origin, olen);
	z->origin_len = (uint8_t)olen;
	name_text(z->origin, z->name, sizeof(z->name));
	z->serial = 1;
	z->max_rrsets = p->max_rrsets;
	if ((p->comment && (z->comment = strdup(p->comment)) == NULL) ||
	    (p->caller_reference &&
	     (z->caller_reference = strdup(p->caller_reference)) == NULL)) {
		rc = Q53_ENOMEM;
		goto err_after_zone;
	}

	struct zone_store_rdata *ns = calloc(p->nnameservers, sizeof(*ns));
	if (ns == NULL) {
		rc = Q53_ENOMEM;
		goto err_after_zone;
	}
	for (size_t i = 0; i < p->nnameservers; i++) {
		uint8_t wire[DNAME_MAXLEN];
		size_t len = name_from_route53(p->nameservers[i], wire);
		if (len == 0) {
			rc = fail(err, errlen, Q53_EINVAL,
				  "InvalidInput: name server '%s' is not a "
				  "valid domain name",
				  p->nameservers[i]);
			goto err_after_ns;
		}
		ns[i].data = malloc(len);
		if (ns[i].data == NULL) {
			rc = Q53_ENOMEM;
			goto err_after_ns;
		}
		memcpy(ns[i].data, wire, len);
		ns[i].len = (uint16_t)len;
	}
	/* SOA: MNAME = first name server, RNAME = hostmaster.<zone>. */
	uint8_t soa[DNAME_MAXLEN * 2 + 20];
	size_t soalen = ns[0].len;
	memcpy(soa, ns[0].data, ns[0].len);
	if (olen + 11 > DNAME_MAXLEN) {
		rc = fail(err, errlen, Q53_EINVAL,
			  "InvalidDomainName: %s is too long for its SOA "
			  "hostmaster address",
			  z->name);
		goto err_after_ns;
	}
	memcpy(soa + soalen, "\012hostmaster", 11);
	memcpy(soa + soalen + 11, origin, olen);
	soalen += 11 + olen;
	static const uint32_t timers[5] = {1, 7200, 900, 1209600, 86400};
	for (size_t i = 0; i < 5; i++) {
		soa[soalen++] = (uint8_t)(timers[i] >> 24);
		soa[soalen++] = (uint8_t)(timers[i] >> 16);
		soa[soalen++] = (uint8_t)(timers[i] >> 8);
		soa[soalen++] = (uint8_t)timers[i];
	}
	struct zone_store_rdata soa_rd = {.len = (uint16_t)soalen, .data = soa};
	struct set_list l = {0};
	rc = zone_add_apex_set(z, &l, RRTYPE_SOA, ZONE_STORE_SOA_TTL, &soa_rd,
			       1);
	if (rc == 0)
		rc = zone_add_apex_set(z, &l, RRTYPE_NS, ZONE_STORE_NS_TTL, ns,
				       p->nnameservers);
	/* Room to retire them too: deleting the zone right after creating
	 * it allocates nothing, held or not (control_fsm's undo). */
	if (rc == 0)
		rc = retire_reserve(s, l.n);
	if (rc == 0)
		rc = list_to_sets(s, &l, &z->sets);
	list_free_all(&l);
	if (rc != 0)
		goto err_after_ns;
	rc = zone_insert(s, pos, z);
	if (rc != 0)
		goto err_after_ns;
	for (size_t i = 0; i < p->nnameservers; i++)
		free(ns[i].data);
	free(ns);
	return 0;

err_after_ns:
	for (size_t i = 0; i < p->nnameservers; i++)
		free(ns[i].data);
	free(ns);
err_after_zone:
	zone_free(z);
	return rc;
}

static bool is_apex_soa_ns(const struct zone_store_zone *z,
			   const struct zone_store_rrset *set)
{
	return (set->type == RRTYPE_SOA || set->type == RRTYPE_NS) &&
	       zone_store_rrset_set_id(set) == NULL &&
	       name_eq(set->owner, set->owner_len, z->origin, z->origin_len);
}

int zone_store_delete(struct zone_store *s, const char *id, char *err,
		      size_t errlen)
{
	size_t pos;
	struct zone_store_zone *z = zone_find(s, id, &pos);
	err[0] = '\0';
	if (z == NULL)
		return no_such_zone(id, err, errlen);
	size_t extra = 0;
	for (size_t i = 0; i < zone_store_sets_count(&z->sets); i++)
		extra += !is_apex_soa_ns(z, zone_store_sets_at(&z->sets, i));
	if (extra > 0)
		return fail(err, errlen, Q53_EINVAL,
			    "HostedZoneNotEmpty: hosted zone %s (%s) still "
			    "holds %zu record sets besides its SOA and NS",
			    id, z->name, extra);
	if (zone_store_impl_has_instance(s, z->id, NULL, 0, 0))
		return fail(err, errlen, Q53_EINVAL,
			    "HostedZoneNotEmpty: hosted zone %s (%s) still "
			    "holds traffic policy instances",
			    id, z->name);
	if (retire_reserve(s, zone_store_sets_count(&z->sets)) != 0)
		return fail(err, errlen, Q53_ENOMEM, "out of memory");
	for (size_t i = 0; i < zone_store_sets_count(&z->sets); i++)
		set_retire(s, zone_store_sets_at(&z->sets, i));
	zone_store_sets_free(&z->sets); /* the sets are retired */
	zone_free(z);
	memmove(&s->zones[pos], &s->zones[pos + 1],
		(s->nzones - pos - 1) * sizeof(*s->zones));
	s->nzones--;
	return 0;
}

/* --- change batches --- */

/* The reason each failing change of a batch failed (the first found),
 * reported in index order once every change has been looked at. */
struct report {
	char **why; /* one per change, NULL when it passed */
	size_t count;
	bool nomem;
};

static void report_add(struct report *e, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_add(struct report *e, size_t i, const char *fmt, ...)
{
	va_list ap;
	if (e->why[i] != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&e->why[i], fmt, ap) < 0) {
		e->why[i] = NULL;
		e->nomem = true;
	} else {
		e->count++;
	}
	va_end(ap);
}

/* A typed owner (untrusted): well-formed, into a lowercase copy. Returns
 * its length or 0. */
static size_t owner_in(const uint8_t *p, size_t len, uint8_t *out)
{
	if (len == 0 || len > DNAME_MAXLEN || dname_wire_len(p, len) != len)
		return 0;
	dname_lower_copy(out, p, len);
	return len;
}

/* change_to_set for an alias (AliasTarget) change: no records, no TTL,
 * one private record naming the target. */
static int alias_to_set(const struct rrset_change *c, size_t i,
			const uint8_t *owner, size_t olen,
			enum change_policy policy, uint32_t loc,
			const char *cidr_id, const char *label,
			const char *tname, struct report *e,
			struct zone_store_rrset **out)
{
	const struct rrset_data *r = &c->set;
	uint8_t rd[ALIAS_RDATA_MAX];
	if (r->type == RRTYPE_NS || r->type == RRTYPE_SOA) {
		report_add(e, i, "%s: an alias record set cannot be of type %s",
			   label, tname);
		return Q53_EINVAL;
	}
	if (policy == CHANGE_POLICY_MULTIVALUE) {
		report_add(e, i,
			   "%s: Multivalue answer routing is not supported "
			   "for alias record sets",
			   label);
		return Q53_EINVAL;
	}
	if (c->invalid != NULL) {
		report_add(e, i, "%s: %s", label, c->invalid);
		return Q53_EINVAL;
	}
	size_t len = r->nrdata == 0 && r->ttl == 0 ? alias_rdata(r, rd) : 0;
	if (len == 0) {
		report_add(e, i,
			   "%s: an alias record set needs a valid "
			   "AliasTarget (HostedZoneId, DNSName) and neither "
			   "TTL nor records",
			   label);
		return Q53_EINVAL;
	}
	struct set_routing routing = routing_of(r);
	routing.geo = loc;
	if (cidr_id != NULL)
		routing.cidr_id = cidr_id;
	struct set_draft d;
	draft_init(&d);
	if (draft_add(&d, rd, (uint16_t)len) != 0)
		return Q53_ENOMEM;
	*out = set_make(owner, olen, r->type, 0, &routing, &d);
	draft_clear(&d);
	return *out != NULL ? 0 : Q53_ENOMEM;
}

/* Turns change i into a record set (the candidate) or reports why it
 * cannot be one. Returns 0, Q53_EINVAL (reported) or Q53_ENOMEM. */
static int change_to_set(const struct zone_store *s,
			 const struct zone_store_zone *z,
			 const struct rrset_change *c, size_t i,
			 struct report *e, struct zone_store_rrset **out)
{
	const struct rrset_data *r = &c->set;
	uint8_t owner[DNAME_MAXLEN];
	char tname[32], label[NAME_TEXT_MAX + 128], why[256];
	int rc;

	*out = NULL;
	if (c->action < CHANGE_CREATE || c->action > CHANGE_UPSERT) {
		report_add(e, i, "unknown action %d", (int)c->action);
		return Q53_EINVAL;
	}
	size_t olen = owner_in(r->owner, r->owner_len, owner);
	if (olen == 0) {
		report_add(e, i, "%s",
			   c->invalid != NULL ? c->invalid
					      : "malformed owner name");
		return Q53_EINVAL;
	}
	if (!change_batch_type_supported(r->type)) {
		report_add(e, i, "type %u is not supported", r->type);
		return Q53_EINVAL;
	}
	if ((r->set_identifier != NULL &&
	     (r->set_identifier[0] == '\0' ||
	      strlen(r->set_identifier) > CHANGE_BATCH_MAX_SET_ID)) ||
	    (r->health_check_id != NULL &&
	     (r->health_check_id[0] == '\0' ||
	      strlen(r->health_check_id) > CHANGE_BATCH_MAX_HEALTH_CHECK_ID)) ||
	    r->failover > CHANGE_FAILOVER_SECONDARY) {
		report_add(e, i,
			   "an empty or too long SetIdentifier or "
			   "HealthCheckId, or an unknown Failover role");
		return Q53_EINVAL;
	}
	set_label(owner, r->type, r->set_identifier, label, sizeof(label));
	type_text(r->type, tname, sizeof(tname));
	if (!dname_is_sub(owner, olen, z->origin, z->origin_len)) {
		name_text(owner, label, sizeof(label));
		report_add(e, i,
			   "RRSet with DNS name %s is not "
			   "permitted in zone %s",
			   label, z->name);
		return Q53_EINVAL;
	}
	bool apex = name_eq(owner, olen, z->origin, z->origin_len);
	if (r->type == RRTYPE_SOA && !apex) {
		report_add(e, i,
			   "%s: an SOA record set is only "
			   "permitted at the zone apex",
			   label);
		return Q53_EINVAL;
	}
	if (r->type == RRTYPE_CNAME && apex) {
		report_add(e, i,
			   "%s: a CNAME record set is not "
			   "permitted at the zone apex %s",
			   label, z->name);
		return Q53_EINVAL;
	}
	enum change_policy policy = change_batch_policy(
	    r->set_identifier != NULL, r->failover, r->has_weight,
	    r->multivalue, has_geo(r), r->region != NULL, has_cidr(r),
	    r->geoprox.present);
	if (policy == CHANGE_POLICY_INVALID) {
		report_add(e, i,
			   "%s: a SetIdentifier needs exactly one routing "
			   "policy (Failover, Weight, MultiValueAnswer, "
			   "GeoLocation, Region, CidrRoutingConfig or "
			   "GeoProximityLocation), and a routing policy a "
			   "SetIdentifier",
			   label);
		return Q53_EINVAL;
	}
	if (region_of(s, r, why, sizeof(why)) != 0) {
		report_add(e, i, "%s: %s", label, why);
		return Q53_EINVAL;
	}
	if (!cidr_shape_ok(r)) {
		report_add(e, i,
			   "%s: CidrRoutingConfig needs a CollectionId (a "
			   "CIDR collection's UUID) and a LocationName (1 to "
			   "%d letters, digits, '_' or '-', or \"*\")",
			   label, CIDR_LOCATION_MAX);
		return Q53_EINVAL;
	}
	const char *cidr_id = NULL;
	if (has_cidr(r)) {
		const struct cidr_block *bl;
		size_t nb;
		int found = s->cidr != NULL
				? s->cidr(s->cidr_ctx, r->cidr_collection_id,
					  r->cidr_location, &bl, &nb, &cidr_id)
				: -1;
		if (found < 0) {
			report_add(e, i,
				   "%s: No CIDR collection found with ID %s",
				   label, r->cidr_collection_id);
			return Q53_EINVAL;
		}
		if (found == 0 &&
		    strcmp(r->cidr_location, CIDR_DEFAULT_LOCATION) != 0) {
			report_add(e, i,
				   "%s: the CIDR collection %s has no location "
				   "%s",
				   label, r->cidr_collection_id,
				   r->cidr_location);
			return Q53_EINVAL;
		}
	}
	uint32_t loc;
	if (geo_of(r, &loc, why, sizeof(why)) != 0) {
		report_add(e, i, "%s: %s", label, why);
		return Q53_EINVAL;
	}
	struct set_routing gp = PLAIN;
	if (geoprox_of(r, &gp, why, sizeof(why)) != 0) {
		report_add(e, i, "%s: %s", label, why);
		return Q53_EINVAL;
	}
	if (r->has_weight && r->weight > CHANGE_BATCH_MAX_WEIGHT) {
		report_add(e, i, "%s: Weight %u is out of range (0 to %d)",
			   label, r->weight, CHANGE_BATCH_MAX_WEIGHT);
		return Q53_EINVAL;
	}
	if ((r->type == RRTYPE_SOA || (r->type == RRTYPE_NS && apex)) &&
	    (r->set_identifier != NULL || r->health_check_id != NULL)) {
		report_add(e, i,
			   "%s: the %s record set at the zone apex cannot "
			   "have a routing policy or a health check",
			   label, tname);
		return Q53_EINVAL;
	}
	if (r->type == RRTYPE_NS && (policy == CHANGE_POLICY_WEIGHTED ||
				     policy == CHANGE_POLICY_MULTIVALUE)) {
		report_add(e, i,
			   "%s: an NS record set cannot have the %s routing "
			   "policy",
			   label, change_batch_policy_name(policy));
		return Q53_EINVAL;
	}
	if (r->type == RRTYPE_CNAME && policy == CHANGE_POLICY_MULTIVALUE) {
		report_add(e, i,
			   "%s: Multivalue answer routing is not supported "
			   "for record sets of type CNAME",
			   label);
		return Q53_EINVAL;
	}
	if (r->alias_zone_id != NULL)
		return alias_to_set(c, i, owner, olen, policy, loc, cidr_id,
				    label, tname, e, out);
	if ((r->type == RRTYPE_CNAME || r->type == RRTYPE_SOA) &&
	    r->nrdata != 1) {
		report_add(e, i,
			   "%s: a %s record set holds exactly "
			   "one record, not %zu",
			   label, tname, r->nrdata);
		return Q53_EINVAL;
	}
	if (r->ttl > CHANGE_BATCH_MAX_TTL) {
		report_add(e, i, "%s: TTL %u is out of range", label, r->ttl);
		return Q53_EINVAL;
	}
	if (r->nrdata == 0 || r->nrdata > UINT16_MAX) {
		report_add(e, i, "%s: %zu records in one set", label,
			   r->nrdata);
		return Q53_EINVAL;
	}
	/* Where the values were converted when apply parsed text. */
	if (c->invalid != NULL) {
		report_add(e, i, "%s: %s", label, c->invalid);
		return Q53_EINVAL;
	}
	struct set_routing routing = routing_of(r);
	routing.geo = loc;
	if (cidr_id != NULL)
		routing.cidr_id = cidr_id; /* the id, also when named */
	struct set_draft d;
	draft_init(&d);
	for (size_t k = 0; k < r->nrdata; k++) {
		const struct rrset_rdata *rd = &r->rdata[k];
		rc = rd->len > UINT16_MAX
			 ? Q53_EMALF
			 : rdata_check(r->type, rd->data, (uint16_t)rd->len);
		if (rc == Q53_ENOMEM)
			goto err_after_set;
		if (rc != 0) {
			report_add(e, i,
				   "%s: record %zu is not a valid %s record",
				   label, k, tname);
			rc = Q53_EINVAL;
			goto err_after_set;
		}
		rc = draft_add(&d, rd->data, (uint16_t)rd->len);
		if (rc == Q53_EEXIST) {
			char val[512];
			if (rdata_text_from_wire(r->type, rd->data,
						 (uint16_t)rd->len, val,
						 sizeof(val)) != 0)
				snprintf(val, sizeof(val), "?");
			report_add(e, i, "%s: duplicate value '%.64s'", label,
				   val);
			rc = Q53_EINVAL;
		}
		if (rc != 0)
			goto err_after_set;
	}
	struct zone_store_rrset *set =
	    set_make(owner, olen, r->type, r->ttl, &routing, &d);
	draft_clear(&d);
	if (set == NULL)
		return Q53_ENOMEM;
	*out = set;
	return 0;

err_after_set:
	draft_clear(&d);
	return rc;
}

/* Applies one validated candidate to the working list. Returns 0 (cand is
 * now in the list), 1 (cand is not needed: a DELETE), Q53_EINVAL
 * (reported) or Q53_ENOMEM. Sets displaced from the list go to removed. */
static int change_apply(const struct zone_store_zone *z,
			enum change_action action,
			struct zone_store_rrset *cand, size_t i,
			struct zone_store_sets *work, struct set_list *removed,
			struct report *e)
{
	char label[NAME_TEXT_MAX + 128];
	size_t pos = sets_lower_bound(work, cand->owner, cand->type,
				      zone_store_rrset_set_id(cand));
	struct zone_store_rrset *cur = pos < zone_store_sets_count(work)
					   ? zone_store_sets_at(work, pos)
					   : NULL;
	bool exists = cur != NULL && set_cmp(cand, cur) == 0;
	int rc;

	set_label(cand->owner, cand->type, zone_store_rrset_set_id(cand), label,
		  sizeof(label));
	switch (action) {
	case CHANGE_CREATE:
		if (exists) {
			report_add(e, i,
				   "Tried to create resource "
				   "record set %s but it already "
				   "exists",
				   label);
			return Q53_EINVAL;
		}
		return zone_store_sets_insert(work, pos, cand);
	case CHANGE_DELETE:
		if (is_apex_soa_ns(z, cand)) {
			report_add(
			    e, i,
			    "%s: the %s record set at the zone apex cannot be "
			    "deleted (UPSERT it instead)",
			    label, cand->type == RRTYPE_SOA ? "SOA" : "NS");
			return Q53_EINVAL;
		}
		if (!exists) {
			report_add(e, i,
				   "Tried to delete resource "
				   "record set %s but it was not "
				   "found",
				   label);
			return Q53_EINVAL;
		}
		if (!set_same_data(cand, cur)) {
			report_add(
			    e, i,
			    "Tried to delete resource record set %s but the "
			    "values provided do not match the current values "
			    "(TTL %u, %u records)",
			    label, cur->ttl, cur->count);
			return Q53_EINVAL;
		}
		rc = list_insert(removed, removed->n, cur);
		if (rc != 0)
			return rc;
		rc = zone_store_sets_remove(work, pos);
		if (rc != 0) {
			removed->n--;
			return rc;
		}
		return 1;
	case CHANGE_UPSERT:
		if (!exists)
			return zone_store_sets_insert(work, pos, cand);
		rc = list_insert(removed, removed->n, cur);
		if (rc != 0)
			return rc;
		rc = zone_store_sets_replace(work, pos, cand);
		if (rc != 0) {
			removed->n--;
			return rc;
		}
		return 0;
	}
	return Q53_EINVAL;
}

/* CNAME exclusivity (RFC 1034 3.6.2) at the owner of an applied change, in
 * the resulting state. The change that brings the CNAME is blamed; a
 * change that adds other data beside a CNAME this batch did not touch is
 * blamed too. */
static void check_cname(const struct zone_store_zone *z,
			const struct zone_store_rrset *cand, size_t i,
			const struct zone_store_sets *work,
			struct zone_store_rrset *const *cands, size_t ncands,
			struct report *e)
{
	char name[NAME_TEXT_MAX], t[32];
	size_t n = zone_store_sets_count(work);
	for (size_t pos = sets_lower_bound(work, cand->owner, 0, NULL); pos < n;
	     pos++) {
		const struct zone_store_rrset *o =
		    zone_store_sets_at(work, pos);
		if (!owner_eq(o, cand))
			break;
		bool conflict;
		if (cand->type == RRTYPE_CNAME) {
			conflict = o->type != RRTYPE_CNAME;
		} else {
			conflict = o->type == RRTYPE_CNAME;
			for (size_t k = 0; conflict && k < ncands; k++)
				conflict = cands[k] != o; /* blamed there */
		}
		if (!conflict)
			continue;
		name_text(cand->owner, name, sizeof(name));
		type_text(o->type, t, sizeof(t));
		char ct[32];
		type_text(cand->type, ct, sizeof(ct));
		report_add(e, i,
			   "RRSet of type %s with DNS name %s is "
			   "not permitted because a conflicting "
			   "RRSet of type %s with the same DNS "
			   "name exists in zone %s",
			   ct, name, t, z->name);
		return;
	}
}

static enum change_policy set_policy_of(const struct zone_store_rrset *s)
{
	return zone_store_rrset_policy(s);
}

static const char *set_policy_name(enum change_policy p)
{
	return change_batch_policy_name(p);
}

/* The group rules at (owner, type) of an applied change, in the resulting
 * state (Route 53's words): a routed set cannot join a plain set or a group
 * of another policy, a plain set cannot join a group, and a failover group
 * has one set per role. */
static void check_routing(const struct zone_store_rrset *cand, size_t i,
			  const struct zone_store_sets *work, struct report *e)
{
	char name[NAME_TEXT_MAX], t[32];
	size_t n = zone_store_sets_count(work);
	enum change_policy pc = set_policy_of(cand);

	name_text(cand->owner, name, sizeof(name));
	type_text(cand->type, t, sizeof(t));
	for (size_t pos = sets_lower_bound(work, cand->owner, cand->type, NULL);
	     pos < n; pos++) {
		const struct zone_store_rrset *o =
		    zone_store_sets_at(work, pos);
		if (o->type != cand->type || !owner_eq(o, cand))
			break;
		enum change_policy po = set_policy_of(o);

		if (o == cand)
			continue;
		if (pc != po && pc == CHANGE_POLICY_SIMPLE) {
			report_add(e, i,
				   "RRSet with DNS name %s, type %s cannot be "
				   "created because %s rrsets exist with the "
				   "same name and type",
				   name, t, set_policy_name(po));
			return;
		}
		if (pc != po) {
			report_add(
			    e, i,
			    "RRSet with DNS name %s, type %s, "
			    "SetIdentifier \"%s\" cannot be created because "
			    "a non %s rrset exists with the same name "
			    "and type",
			    name, t, zone_store_rrset_set_id(cand),
			    set_policy_name(pc));
			return;
		}
		if (pc == CHANGE_POLICY_FAILOVER &&
		    zone_store_rrset_failover(o) ==
			zone_store_rrset_failover(cand)) {
			report_add(
			    e, i,
			    "RRSet with DNS name %s, type %s, SetIdentifier "
			    "\"%s\" cannot be created because the rrset with "
			    "SetIdentifier \"%s\" already has the failover "
			    "role "
			    "%s for the same name and type",
			    name, t, zone_store_rrset_set_id(cand),
			    zone_store_rrset_set_id(o),
			    change_batch_failover_name(
				zone_store_rrset_failover(cand)));
			return;
		}
		if (pc == CHANGE_POLICY_LATENCY &&
		    strcmp(zone_store_rrset_region(o),
			   zone_store_rrset_region(cand)) == 0) {
			report_add(
			    e, i,
			    "RRSet with DNS name %s, type %s, SetIdentifier "
			    "\"%s\" cannot be created because the rrset with "
			    "SetIdentifier \"%s\" already has the Region %s "
			    "for the same name and type",
			    name, t, zone_store_rrset_set_id(cand),
			    zone_store_rrset_set_id(o),
			    zone_store_rrset_region(cand));
			return;
		}
		if (pc == CHANGE_POLICY_GEO &&
		    zone_store_rrset_geo(o) == zone_store_rrset_geo(cand)) {
			report_add(
			    e, i,
			    "RRSet with DNS name %s, type %s, SetIdentifier "
			    "\"%s\" cannot be created because the rrset with "
			    "SetIdentifier \"%s\" already has the same "
			    "GeoLocation for the same name and type",
			    name, t, zone_store_rrset_set_id(cand),
			    zone_store_rrset_set_id(o));
			return;
		}
		if (pc == CHANGE_POLICY_CIDR &&
		    strcmp(zone_store_rrset_cidr_collection(o),
			   zone_store_rrset_cidr_collection(cand)) != 0) {
			report_add(
			    e, i,
			    "RRSet with DNS name %s, type %s, SetIdentifier "
			    "\"%s\" cannot be created because the rrset with "
			    "SetIdentifier \"%s\" uses another CIDR collection "
			    "(%s) for the same name and type",
			    name, t, zone_store_rrset_set_id(cand),
			    zone_store_rrset_set_id(o),
			    zone_store_rrset_cidr_collection(o));
			return;
		}
		if (pc == CHANGE_POLICY_CIDR &&
		    strcmp(zone_store_rrset_cidr_location(o),
			   zone_store_rrset_cidr_location(cand)) == 0) {
			report_add(
			    e, i,
			    "RRSet with DNS name %s, type %s, SetIdentifier "
			    "\"%s\" cannot be created because the rrset with "
			    "SetIdentifier \"%s\" already has the CIDR "
			    "location %s for the same name and type",
			    name, t, zone_store_rrset_set_id(cand),
			    zone_store_rrset_set_id(o),
			    zone_store_rrset_cidr_location(cand));
			return;
		}
	}
}

/* The sets of zone id as a batch on z sees them: z's working list, or
 * another zone's committed sets; NULL when there is no such zone. */
static const struct zone_store_sets *
alias_sets(const struct zone_store *s, const struct zone_store_zone *z,
	   const struct zone_store_sets *work, const char *id,
	   const struct zone_store_zone **tz)
{
	*tz = strcmp(id, z->id) == 0 ? z : zone_find(s, id, NULL);
	if (*tz == NULL)
		return NULL;
	return *tz == z ? work : &(*tz)->sets;
}

/* Follows every alias of the group (name, type) of zone id: 1 when one
 * leads back to start (a loop), 2 when the chain is too long or wide, 0
 * otherwise. *budget bounds the sets visited. */
static int alias_walk(const struct zone_store *s,
		      const struct zone_store_zone *z,
		      const struct zone_store_sets *work, const char *id,
		      const uint8_t *name, uint16_t type,
		      const struct zone_store_rrset *start, unsigned depth,
		      unsigned *budget)
{
	const struct zone_store_zone *tz;
	const struct zone_store_sets *q = alias_sets(s, z, work, id, &tz);
	size_t end;
	if (q == NULL)
		return 0;
	for (size_t pos = zone_store_impl_find_group(q, name, type, &end);
	     pos < end; pos++) {
		const struct zone_store_rrset *m = zone_store_sets_at(q, pos);
		struct zone_store_alias a;
		if (m == start)
			return 1;
		if (!zone_store_rrset_alias(m, &a))
			continue;
		if (depth >= ZONE_STORE_ALIAS_DEPTH || *budget == 0)
			return 2;
		(*budget)--;
		int rc = alias_walk(s, z, work, a.zone_id, a.name, type, start,
				    depth + 1, budget);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* An alias of an applied change, in the resulting state: its target zone
 * exists and holds the name, the name has a set of the alias's type, and
 * no chain of aliases leads back to it (Route 53's words where it has
 * them). */
static void check_alias(const struct zone_store *s,
			const struct zone_store_zone *z,
			const struct zone_store_rrset *cand, size_t i,
			const struct zone_store_sets *work, struct report *e)
{
	struct zone_store_alias a;
	const struct zone_store_zone *tz;
	char name[NAME_TEXT_MAX], t[32];
	size_t end;

	if (!zone_store_rrset_alias(cand, &a))
		return;
	name_text(a.name, name, sizeof(name));
	type_text(cand->type, t, sizeof(t));
	const struct zone_store_sets *q =
	    alias_sets(s, z, work, a.zone_id, &tz);
	if (q == NULL) {
		report_add(e, i,
			   "Tried to create an alias that targets %s, type %s "
			   "in zone %s, but the target zone was not found",
			   name, t, a.zone_id);
		return;
	}
	if (!dname_is_sub(a.name, a.name_len, tz->origin, tz->origin_len)) {
		report_add(e, i,
			   "Tried to create an alias that targets %s, type %s "
			   "in zone %s, but the alias target name does not lie "
			   "within the target zone",
			   name, t, a.zone_id);
		return;
	}
	size_t pos = zone_store_impl_find_group(q, a.name, cand->type, &end);
	if (pos == end) {
		report_add(e, i,
			   "Tried to create an alias that targets %s, type %s "
			   "in zone %s, but that target was not found",
			   name, t, a.zone_id);
		return;
	}
	unsigned budget = 64;
	int rc = alias_walk(s, z, work, a.zone_id, a.name, cand->type, cand, 0,
			    &budget);
	if (rc == 1)
		report_add(e, i,
			   "Tried to create an alias that targets %s, type %s "
			   "in zone %s, but the alias would form a loop",
			   name, t, a.zone_id);
	else if (rc == 2)
		report_add(
		    e, i,
		    "Tried to create an alias that targets %s, type %s "
		    "in zone %s, but its chain of aliases is longer than "
		    "%d or wider than 64 sets",
		    name, t, a.zone_id, ZONE_STORE_ALIAS_DEPTH);
}

static size_t list_count_cidr(const struct set_list *l)
{
	size_t n = 0;
	for (size_t k = 0; k < l->n; k++)
		n += zone_store_rrset_cidr_collection(l->v[k]) != NULL;
	return n;
}

static size_t list_count_alias(const struct set_list *l)
{
	size_t n = 0;
	for (size_t k = 0; k < l->n; k++)
		n +=
		    (zone_store_rrset_routing(l->v[k]) & ZONE_STORE_ALIAS) != 0;
	return n;
}

static size_t list_count_latency(const struct set_list *l)
{
	size_t n = 0;
	for (size_t k = 0; k < l->n; k++)
		n += zone_store_rrset_region(l->v[k]) != NULL;
	return n;
}

/* Every HealthCheckId of b must name an existing check. Returns 0, or
 * Q53_ENOENT with "NoSuchHealthCheck: change N: ...; change M: ..." in
 * err. */
static int check_health_ids(const struct rrset_batch *b,
			    zone_store_check_fn exists, void *ctx, char *err,
			    size_t errlen)
{
	struct change_batch_errors list;

	change_batch_errors_init(&list, err, errlen);
	list.code = "NoSuchHealthCheck";
	for (size_t i = 0; i < b->nchanges; i++) {
		const char *hc = b->changes[i].set.health_check_id;
		if (hc != NULL && (exists == NULL || !exists(ctx, hc)))
			change_batch_errors_add(
			    &list, i, "no health check found with ID: %.64s",
			    hc);
	}
	return list.count > 0 ? Q53_ENOENT : 0;
}

/* Whether a mutation from before to after sets breaks z's limit: only
 * growth past it (a zone over a lowered limit can still shrink). */
static bool over_limit(const struct zone_store_zone *z, size_t before,
		       size_t after)
{
	return z->max_rrsets != 0 && after > before && after > z->max_rrsets;
}

static int limit_exceeded(const struct zone_store_zone *z, size_t after,
			  char *err, size_t errlen)
{
	return fail(err, errlen, Q53_EINVAL,
		    "InvalidChangeBatch: the hosted zone %s would hold %zu "
		    "record sets, more than its limit of %llu "
		    "(MAX_RRSETS_BY_ZONE: see get-hosted-zone-limit; q53 zone "
		    "limit raises it)",
		    z->name, after, (unsigned long long)z->max_rrsets);
}

int zone_store_set_limit(struct zone_store *s, const char *id,
			 uint64_t max_rrsets, char *err, size_t errlen)
{
	err[0] = '\0';
	struct zone_store_zone *z = zone_find(s, id, NULL);
	if (z == NULL)
		return no_such_zone(id, err, errlen);
	if (max_rrsets > ZONE_STORE_MAX_RRSETS_LIMIT)
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: a MAX_RRSETS_BY_ZONE of %llu is "
			    "more than %d",
			    (unsigned long long)max_rrsets,
			    ZONE_STORE_MAX_RRSETS_LIMIT);
	z->max_rrsets = max_rrsets;
	return 0;
}

int zone_store_apply(struct zone_store *s, const char *id,
		     const struct rrset_batch *b, char *err, size_t errlen)
{
	return zone_store_apply_with_checks(s, id, b, NULL, NULL, err, errlen);
}

int zone_store_apply_with_checks(struct zone_store *s, const char *id,
				 const struct rrset_batch *b,
				 zone_store_check_fn exists, void *ctx,
				 char *err, size_t errlen)
{
	return zone_store_apply_counted(s, id, b, exists, NULL, ctx, err,
					errlen);
}

int zone_store_apply_counted(struct zone_store *s, const char *id,
			     const struct rrset_batch *b,
			     zone_store_check_fn exists, zone_store_ref_fn refs,
			     void *ctx, char *err, size_t errlen)
{
	struct report e = {0};
	struct zone_store_sets work;
	struct set_list removed = {0};
	int rc = 0;

	err[0] = '\0';
	zone_store_sets_init(&work);
	struct zone_store_zone *z = zone_find(s, id, NULL);
	if (z == NULL)
		return no_such_zone(id, err, errlen);
	if (b->nchanges == 0)
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: the change batch holds no changes");
	rc = check_health_ids(b, exists, ctx, err, errlen);
	if (rc != 0)
		return rc;
	e.why = calloc(b->nchanges, sizeof(*e.why));
	if (e.why == NULL)
		return Q53_ENOMEM;
	/* cands[i]: change i's set; in_work[i]: it now lives in work. */
	struct zone_store_rrset **cands = calloc(b->nchanges, sizeof(*cands));
	bool *in_work = calloc(b->nchanges, sizeof(*in_work));
	/* Each change displaces one set at most. */
	removed.v = malloc(b->nchanges * sizeof(*removed.v));
	removed.cap = b->nchanges;
	if (cands == NULL || in_work == NULL || removed.v == NULL ||
	    zone_store_sets_fork(&work, &z->sets) != 0) {
		rc = Q53_ENOMEM;
		goto out;
	}

	for (size_t i = 0; i < b->nchanges; i++) {
		const struct rrset_change *c = &b->changes[i];
		rc = change_to_set(s, z, c, i, &e, &cands[i]);
		if (rc == Q53_ENOMEM)
			goto out;
		if (rc != 0)
			continue;
		/* One change per set, except the DELETE-then-CREATE idiom
		 * that replaced a set before UPSERT existed. */
		size_t j;
		for (j = 0; j < i; j++) {
			if (cands[j] != NULL &&
			    set_cmp(cands[j], cands[i]) == 0)
				break;
		}
		if (j < i && !(b->changes[j].action == CHANGE_DELETE &&
			       c->action == CHANGE_CREATE)) {
			char label[NAME_TEXT_MAX + 128];
			set_label(cands[i]->owner, cands[i]->type,
				  zone_store_rrset_set_id(cands[i]), label,
				  sizeof(label));
			report_add(&e, i,
				   "%s is already changed by "
				   "change %zu of this batch "
				   "(one change per record set)",
				   label, j);
			continue;
		}
		if (c->action == CHANGE_DELETE &&
		    zone_store_impl_has_instance(s, z->id, cands[i]->owner,
						 cands[i]->owner_len,
						 cands[i]->type)) {
			/* Route 53: a policy record's sets are the
			 * instance's; DeleteTrafficPolicyInstance drops them.
			 */
			char label[NAME_TEXT_MAX + 128];
			set_label(cands[i]->owner, cands[i]->type,
				  zone_store_rrset_set_id(cands[i]), label,
				  sizeof(label));
			report_add(&e, i,
				   "Tried to delete resource record set %s, "
				   "but it is managed by a traffic policy "
				   "instance (policy record): delete or "
				   "update the traffic policy instance",
				   label);
			continue;
		}
		rc = change_apply(z, c->action, cands[i], i, &work, &removed,
				  &e);
		if (rc == Q53_ENOMEM)
			goto out;
		in_work[i] = rc == 0;
	}
	for (size_t i = 0; i < b->nchanges; i++) {
		if (!in_work[i])
			continue;
		check_cname(z, cands[i], i, &work, cands, b->nchanges, &e);
		check_routing(cands[i], i, &work, &e);
		check_alias(s, z, cands[i], i, &work, &e);
		if (b->changes[i].action != CHANGE_DELETE &&
		    (zone_store_impl_has_instance(s, z->id, cands[i]->owner,
						  cands[i]->owner_len,
						  cands[i]->type) ||
		     zone_store_impl_has_instance(
			 s, z->id, cands[i]->owner, cands[i]->owner_len,
			 cands[i]->type == RRTYPE_CNAME ? 0 : RRTYPE_CNAME))) {
			char label[NAME_TEXT_MAX + 128];
			set_label(cands[i]->owner, cands[i]->type,
				  zone_store_rrset_set_id(cands[i]), label,
				  sizeof(label));
			report_add(&e, i,
				   "Tried to create resource record set %s, "
				   "but a traffic policy instance (policy "
				   "record) has that name and type: it is "
				   "managed by the traffic policy instance",
				   label);
		}
	}
	if (e.nomem) {
		rc = Q53_ENOMEM;
		goto out;
	}
	if (e.count > 0) {
		struct change_batch_errors list;
		change_batch_errors_init(&list, err, errlen);
		for (size_t i = 0; i < b->nchanges; i++) {
			if (e.why[i] != NULL)
				change_batch_errors_add(&list, i, "%s",
							e.why[i]);
		}
		rc = Q53_EINVAL;
		goto out;
	}
	size_t before = zone_store_sets_count(&z->sets);
	size_t after = zone_store_sets_count(&work);
	if (over_limit(z, before, after)) {
		rc = limit_exceeded(z, after, err, errlen);
		goto out;
	}

	/* Commit: the displaced sets go, the working list becomes the
	 * zone's, the serial moves on. */
	rc = retire_reserve(s, removed.n);
	if (rc != 0) {
		fail(err, errlen, rc, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < b->nchanges; i++) {
		if (in_work[i])
			zone_store_track_name(z, cands[i]->owner);
	}
	for (size_t k = 0; k < removed.n; k++)
		zone_store_track_name(z, removed.v[k]->owner);
	z->nalias -= list_count_alias(&removed);
	z->nlatency -= list_count_latency(&removed);
	z->ncidr -= list_count_cidr(&removed);
	for (size_t i = 0; i < b->nchanges; i++)
		z->ncidr += in_work[i] &&
			    zone_store_rrset_cidr_collection(cands[i]) != NULL;
	for (size_t i = 0; i < b->nchanges; i++) {
		z->nalias += in_work[i] && (zone_store_rrset_routing(cands[i]) &
					    ZONE_STORE_ALIAS);
		z->nlatency +=
		    in_work[i] && zone_store_rrset_region(cands[i]) != NULL;
	}
	if (refs != NULL) {
		for (size_t k = 0; k < removed.n; k++)
			if (zone_store_rrset_health_check(removed.v[k]) != NULL)
				refs(
				    ctx,
				    zone_store_rrset_health_check(removed.v[k]),
				    -1);
		for (size_t i = 0; i < b->nchanges; i++)
			if (in_work[i] &&
			    zone_store_rrset_health_check(cands[i]) != NULL)
				refs(ctx,
				     zone_store_rrset_health_check(cands[i]),
				     +1);
	}
	for (size_t k = 0; k < removed.n; k++)
		set_retire(s, removed.v[k]);
	zone_store_sets_commit(&z->sets, &work);
	for (size_t i = 0; i < b->nchanges; i++) {
		if (in_work[i])
			cands[i] = NULL;
	}
	z->serial++;
	soa_serial_set(zone_soa(z), z->serial);
	zone_store_track_commit(z);

out:
	if (cands != NULL) {
		for (size_t i = 0; i < b->nchanges; i++)
			set_free(cands[i]);
	}
	free(cands);
	free(in_work);
	zone_store_sets_abort(&work);
	free(removed.v);
	for (size_t i = 0; i < b->nchanges; i++)
		free(e.why[i]);
	free(e.why);
	return rc;
}

/* --- building, export, import --- */

/* A set a zone file cannot hold. */
static bool set_is_routed(const struct zone_store_rrset *set)
{
	return zone_store_rrset_set_id(set) != NULL ||
	       zone_store_rrset_health_check(set) != NULL;
}

/* A group's failure, fmt naming its owner with one %s (the text only
 * made when it fails: group_check runs for every set of a zone). */
static int group_fail(const struct zone_store_rrset *first, char *err,
		      size_t errlen, const char *fmt)
{
	char name[NAME_TEXT_MAX];
	name_text(first->owner, name, sizeof(name));
	return fail(err, errlen, Q53_EINVAL, fmt, name);
}

/* The routing rules of one (owner, type) group g[0..n) of zone z. */
static int group_check(const struct zone_store_zone *z,
		       struct zone_store_rrset *const *g, size_t n, char *err,
		       size_t errlen)
{
	size_t roles[3] = {0};
	size_t policies[CHANGE_POLICY_INVALID] = {0};
	bool apex =
	    name_eq(g[0]->owner, g[0]->owner_len, z->origin, z->origin_len);

	for (size_t k = 0; k < n; k++) {
		const struct zone_store_rrset *x = g[k];
		enum change_policy p = zone_store_rrset_policy(x);
		if (zone_store_rrset_failover(x) > CHANGE_FAILOVER_SECONDARY ||
		    p == CHANGE_POLICY_INVALID)
			return group_fail(
			    g[0], err, errlen,
			    "a record set at %s has a SetIdentifier "
			    "without exactly one routing policy or the "
			    "reverse");
		if ((p == CHANGE_POLICY_MULTIVALUE &&
		     x->type == RRTYPE_CNAME) ||
		    (x->type == RRTYPE_NS && (p == CHANGE_POLICY_WEIGHTED ||
					      p == CHANGE_POLICY_MULTIVALUE)))
			return group_fail(g[0], err, errlen,
					  "a CNAME or NS record set at %s has "
					  "a routing policy it cannot have");
		policies[p]++;
		if (apex && (x->type == RRTYPE_SOA || x->type == RRTYPE_NS) &&
		    set_is_routed(x))
			return group_fail(
			    g[0], err, errlen,
			    "the SOA and NS record sets at the zone "
			    "apex cannot have a routing policy or a "
			    "health check");
		if ((zone_store_rrset_set_id(x) != NULL &&
		     (zone_store_rrset_set_id(x)[0] == '\0' ||
		      strlen(zone_store_rrset_set_id(x)) >
			  CHANGE_BATCH_MAX_SET_ID)) ||
		    (zone_store_rrset_health_check(x) != NULL &&
		     (zone_store_rrset_health_check(x)[0] == '\0' ||
		      strlen(zone_store_rrset_health_check(x)) >
			  CHANGE_BATCH_MAX_HEALTH_CHECK_ID)))
			return group_fail(
			    g[0], err, errlen,
			    "a record set at %s has an empty or too "
			    "long SetIdentifier or HealthCheckId");
		roles[zone_store_rrset_failover(x)]++;
		for (size_t m = 0; p == CHANGE_POLICY_GEO && m < k; m++)
			if (zone_store_rrset_geo(g[m]) ==
			    zone_store_rrset_geo(x))
				return group_fail(g[0], err, errlen,
						  "two geolocation record sets "
						  "of one location and type "
						  "at %s");
		for (size_t m = 0; p == CHANGE_POLICY_LATENCY && m < k; m++)
			if (strcmp(zone_store_rrset_region(g[m]),
				   zone_store_rrset_region(x)) == 0)
				return group_fail(g[0], err, errlen,
						  "two latency record sets "
						  "of one region and type "
						  "at %s");
		for (size_t m = 0; p == CHANGE_POLICY_CIDR && m < k; m++)
			if (strcmp(zone_store_rrset_cidr_collection(g[m]),
				   zone_store_rrset_cidr_collection(x)) != 0 ||
			    strcmp(zone_store_rrset_cidr_location(g[m]),
				   zone_store_rrset_cidr_location(x)) == 0)
				return group_fail(
				    g[0], err, errlen,
				    "IP-based record sets of one type at %s "
				    "use two CIDR collections or one "
				    "location twice");
	}
	size_t kinds = 0;
	for (size_t p = 0; p < CHANGE_POLICY_INVALID; p++)
		kinds += policies[p] > 0;
	if (kinds > 1)
		return group_fail(g[0], err, errlen,
				  "record sets of different routing policies "
				  "(or a plain one) of one type at %s");
	if (roles[CHANGE_FAILOVER_PRIMARY] > 1 ||
	    roles[CHANGE_FAILOVER_SECONDARY] > 1)
		return group_fail(
		    g[0], err, errlen,
		    "two failover record sets of one role and type at "
		    "%s");
	return 0;
}

/* Checks a whole list of sets for a zone: the rules a zone must keep
 * whatever built it (import, restore). Names the first problem. */
static int zone_check_sets(const struct zone_store_zone *z,
			   const struct set_list *l, char *err, size_t errlen)
{
	char name[NAME_TEXT_MAX];
	const struct zone_store_rrset *soa =
	    list_find(l->v, l->n, z->origin, RRTYPE_SOA);
	if (soa == NULL || soa->count != 1 ||
	    zone_store_rrset_set_id(soa) != NULL)
		return fail(err, errlen, Q53_EINVAL,
			    "the zone apex needs exactly one SOA record");
	if (soa->rdata[0].len < 22)
		return fail(err, errlen, Q53_EINVAL, "malformed SOA record");
	if (list_find(l->v, l->n, z->origin, RRTYPE_NS) == NULL)
		return fail(err, errlen, Q53_EINVAL,
			    "the zone apex needs an NS record set");
	for (size_t i = 0; i < l->n;) {
		size_t j = i, cnames = 0;
		for (; j < l->n && owner_eq(l->v[i], l->v[j]); j++) {
			if (l->v[j]->type == RRTYPE_CNAME) {
				cnames++;
				if (l->v[j]->count != 1) {
					name_text(l->v[i]->owner, name,
						  sizeof(name));
					return fail(err, errlen, Q53_EINVAL,
						    "more than one CNAME "
						    "record at %s",
						    name);
				}
			}
		}
		if (cnames > 0 && cnames != j - i) {
			name_text(l->v[i]->owner, name, sizeof(name));
			return fail(err, errlen, Q53_EINVAL,
				    "CNAME and other data at %s (RFC 1034 "
				    "3.6.2)",
				    name);
		}
		if (cnames > 0 && name_eq(l->v[i]->owner, l->v[i]->owner_len,
					  z->origin, z->origin_len))
			return fail(err, errlen, Q53_EINVAL,
				    "CNAME at the zone apex");
		i = j;
	}
	for (size_t i = 0; i < l->n;) {
		size_t j = list_group_end(l->v, l->n, i);
		int rc = group_check(z, l->v + i, j - i, err, errlen);
		if (rc != 0)
			return rc;
		i = j;
	}
	return 0;
}

/* --- typed record sets: import and restore --- */

/* Turns typed set r (untrusted) of zone z into a new set, or says why not
 * (Q53_EINVAL with a reason in why) or Q53_ENOMEM. */
static int set_from_typed(const struct zone_store_zone *z,
			  const struct rrset_data *r,
			  struct zone_store_rrset **out, const char **why)
{
	uint8_t owner[DNAME_MAXLEN];
	int rc;

	*out = NULL;
	size_t olen = owner_in(r->owner, r->owner_len, owner);
	*why = "malformed owner name";
	if (olen == 0)
		return Q53_EINVAL;
	*why = "record set outside the zone, of an unsupported type, with a "
	       "TTL out of range or no records";
	bool alias = r->alias_zone_id != NULL;
	if (!dname_is_sub(owner, olen, z->origin, z->origin_len) ||
	    !change_batch_type_supported(r->type) ||
	    r->ttl > CHANGE_BATCH_MAX_TTL || (r->nrdata == 0) != alias ||
	    r->nrdata > UINT16_MAX ||
	    (r->type == RRTYPE_SOA &&
	     !name_eq(owner, olen, z->origin, z->origin_len)))
		return Q53_EINVAL;
	*why = "empty or too long SetIdentifier or HealthCheckId, an "
	       "unknown failover role or a weight out of range";
	if ((r->has_weight && r->weight > CHANGE_BATCH_MAX_WEIGHT) ||
	    (r->set_identifier != NULL &&
	     (r->set_identifier[0] == '\0' ||
	      strlen(r->set_identifier) > CHANGE_BATCH_MAX_SET_ID)) ||
	    (r->health_check_id != NULL &&
	     (r->health_check_id[0] == '\0' ||
	      strlen(r->health_check_id) > CHANGE_BATCH_MAX_HEALTH_CHECK_ID)) ||
	    r->failover > CHANGE_FAILOVER_SECONDARY)
		return Q53_EINVAL;
	*why = "a malformed CidrRoutingConfig";
	if (!cidr_shape_ok(r))
		return Q53_EINVAL;
	struct set_routing routing = routing_of(r);
	char geo_why[160];
	*why = "an invalid GeoLocation";
	if (geo_of(r, &routing.geo, geo_why, sizeof(geo_why)) != 0)
		return Q53_EINVAL;
	/* Snapshots and imports: a Region apply accepted once (the site
	 * regions may be restored after the zones). */
	*why = "a malformed Region";
	if (r->region != NULL && !latency_name_valid(r->region))
		return Q53_EINVAL;
	*why = "an invalid GeoProximityLocation";
	struct set_routing gp = PLAIN;
	if (geoprox_of(r, &gp, geo_why, sizeof(geo_why)) != 0)
		return Q53_EINVAL;
	struct set_draft d;
	draft_init(&d);
	uint8_t ard[ALIAS_RDATA_MAX];
	size_t alen = alias ? alias_rdata(r, ard) : 0;
	*why = "malformed AliasTarget, or an alias of type NS or SOA, with a "
	       "TTL or multivalue";
	if (alias && (alen == 0 || r->ttl != 0 || r->multivalue ||
		      r->type == RRTYPE_NS || r->type == RRTYPE_SOA))
		return Q53_EINVAL;
	if (alias && draft_add(&d, ard, (uint16_t)alen) != 0)
		return Q53_ENOMEM;
	for (size_t k = 0; k < r->nrdata; k++) {
		const struct rrset_rdata *rd = &r->rdata[k];
		*why = "malformed RDATA";
		rc = rd->len > UINT16_MAX
			 ? Q53_EMALF
			 : rdata_check(r->type, rd->data, (uint16_t)rd->len);
		if (rc == 0) {
			rc = draft_add(&d, rd->data, (uint16_t)rd->len);
			*why = "repeated record";
		}
		if (rc != 0) {
			draft_clear(&d);
			return rc == Q53_ENOMEM ? rc : Q53_EINVAL;
		}
	}
	struct zone_store_rrset *set =
	    set_make(owner, olen, r->type, r->ttl, &routing, &d);
	draft_clear(&d);
	if (set == NULL)
		return Q53_ENOMEM;
	*out = set;
	return 0;
}

/* sets[0..n) into list l (empty), in canonical order, each once. Returns
 * 0, Q53_EINVAL (message "record set N: why" in err) or Q53_ENOMEM. */
static int sets_from_typed(const struct zone_store_zone *z,
			   const struct rrset_data *sets, size_t n,
			   struct set_list *l, char *err, size_t errlen)
{
	const char *why = "";
	int rc;

	if (n > 0) {
		l->v = malloc(n * sizeof(*l->v));
		if (l->v == NULL)
			return Q53_ENOMEM;
		l->cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		struct zone_store_rrset *set;
		rc = set_from_typed(z, &sets[i], &set, &why);
		if (rc == 0 && l->n > 0 && set_cmp(l->v[l->n - 1], set) >= 0) {
			set_free(set);
			why = "record sets out of order or repeated";
			rc = Q53_EINVAL;
		}
		if (rc == Q53_ENOMEM)
			return rc;
		if (rc != 0)
			return fail(err, errlen, Q53_EINVAL,
				    "record set %zu: %s", i, why);
		l->v[l->n++] = set;
	}
	return 0;
}

/* Serial arithmetic (RFC 1982): a is newer than b. */
static bool serial_newer(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

int zone_store_replace(struct zone_store *s, const char *id,
		       const struct rrset_data *sets, size_t n, char *err,
		       size_t errlen)
{
	struct set_list l = {0};
	char why[512];
	int rc;

	err[0] = '\0';
	struct zone_store_zone *z = zone_find(s, id, NULL);
	if (z == NULL)
		return no_such_zone(id, err, errlen);
	rc = sets_from_typed(z, sets, n, &l, why, sizeof(why));
	if (rc == Q53_EINVAL)
		rc = fail(err, errlen, Q53_EINVAL, "InvalidInput: %s", why);
	if (rc != 0)
		goto err_after_list;
	/* Without an apex SOA or NS of its own, the file keeps the
	 * zone's. */
	for (size_t i = 0; i < zone_store_sets_count(&z->sets); i++) {
		const struct zone_store_rrset *cur =
		    zone_store_sets_at(&z->sets, i);
		if (!is_apex_soa_ns(z, cur) ||
		    list_find(l.v, l.n, z->origin, cur->type) != NULL)
			continue;
		rc = zone_add_apex_set(z, &l, cur->type, cur->ttl, cur->rdata,
				       cur->count);
		if (rc != 0)
			goto err_after_list;
	}
	rc = zone_check_sets(z, &l, why, sizeof(why));
	if (rc != 0) {
		rc = fail(err, errlen, Q53_EINVAL, "InvalidInput: %s", why);
		goto err_after_list;
	}
	struct zone_store_rrset *soa = (struct zone_store_rrset *)list_find(
	    l.v, l.n, z->origin, RRTYPE_SOA);
	uint32_t serial = z->serial + 1;
	if (serial_newer(soa_serial_get(soa), serial))
		serial = soa_serial_get(soa);
	if (over_limit(z, zone_store_sets_count(&z->sets), l.n)) {
		rc = limit_exceeded(z, l.n, err, errlen);
		goto err_after_list;
	}
	size_t nalias = list_count_alias(&l);
	size_t nlatency = list_count_latency(&l);
	size_t ncidr = list_count_cidr(&l);
	rc = retire_reserve(s, zone_store_sets_count(&z->sets));
	if (rc == 0)
		rc = list_to_sets(s, &l, &z->sets);
	if (rc != 0) {
		fail(err, errlen, rc, "out of memory");
		goto err_after_list;
	}
	z->nalias = nalias;
	z->nlatency = nlatency;
	z->ncidr = ncidr;
	soa_serial_set(soa, serial);
	z->serial = serial;
	return 0;

err_after_list:
	list_free_all(&l);
	return rc;
}

int zone_store_load(struct zone_store *s,
		    const struct zone_store_load_params *p,
		    const struct rrset_data *sets, size_t n, char *err,
		    size_t errlen)
{
	struct set_list l = {0};
	char why[512];
	int rc = Q53_EINVAL;

	err[0] = '\0';
	struct zone_store_zone *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return Q53_ENOMEM;
	zone_store_sets_init(&z->sets);
	if (p->comment != NULL && p->comment[0] != '\0')
		z->comment = strdup(p->comment);
	if (p->caller_reference != NULL && p->caller_reference[0] != '\0')
		z->caller_reference = strdup(p->caller_reference);
	if ((p->comment != NULL && p->comment[0] != '\0' &&
	     z->comment == NULL) ||
	    (p->caller_reference != NULL && p->caller_reference[0] != '\0' &&
	     z->caller_reference == NULL)) {
		rc = Q53_ENOMEM;
		goto err_after_zone;
	}
	z->origin_len = (uint8_t)owner_in(p->origin, p->origin_len, z->origin);
	if (p->id == NULL || !id_valid(p->id) || z->origin_len <= 1 ||
	    !string_ok(z->comment, CHANGE_BATCH_MAX_COMMENT) ||
	    !string_ok(z->caller_reference, 128) ||
	    (p->origin_len != z->origin_len) ||
	    memcmp(p->origin, z->origin, z->origin_len) != 0) {
		rc = fail(err, errlen, Q53_EINVAL, "malformed zone header");
		goto err_after_zone;
	}
	snprintf(z->id, sizeof(z->id), "%s", p->id);
	name_text(z->origin, z->name, sizeof(z->name));
	if (s->nzones > 0 && strcmp(s->zones[s->nzones - 1]->id, z->id) >= 0) {
		rc = fail(err, errlen, Q53_EINVAL,
			  "zone %s: zones out of order or repeated", z->id);
		goto err_after_zone;
	}
	for (size_t k = 0; k < s->nzones; k++) {
		const struct zone_store_zone *o = s->zones[k];
		if (name_eq(o->origin, o->origin_len, z->origin,
			    z->origin_len) ||
		    (o->caller_reference && z->caller_reference &&
		     strcmp(o->caller_reference, z->caller_reference) == 0)) {
			rc = fail(err, errlen, Q53_EINVAL,
				  "zone %s: same name or caller reference as "
				  "zone %s",
				  z->id, o->id);
			goto err_after_zone;
		}
	}
	rc = sets_from_typed(z, sets, n, &l, why, sizeof(why));
	if (rc == 0)
		rc = zone_check_sets(z, &l, why, sizeof(why));
	if (rc == Q53_EINVAL)
		fail(err, errlen, Q53_EINVAL, "zone %s: %s", z->id, why);
	if (rc != 0)
		goto err_after_zone;
	z->nalias = list_count_alias(&l);
	z->nlatency = list_count_latency(&l);
	z->ncidr = list_count_cidr(&l);
	rc = list_to_sets(s, &l, &z->sets);
	if (rc != 0)
		goto err_after_zone;
	z->serial = soa_serial_get(zone_soa(z));
	rc = zone_insert(s, s->nzones, z);
	if (rc != 0)
		zone_free(z);
	return rc;

err_after_zone:
	list_free_all(&l);
	zone_free(z);
	return rc;
}
