/* Hosted zones as sorted arrays of record sets. A change batch is applied
 * to a copy of the zone's set array (pointers shared with the original);
 * the copy replaces the original only when every change validated, so a
 * failing batch leaves nothing behind. */
#include "node/control/zone_store.h"

#include <libknot/libknot.h>
#include <libzscanner/scanner.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/zone_store_impl.h"
#include "node/dnsdata/rdata_text.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rrtype.h"
#include "node/health/vote_rule.h"
#include "node/zone/zone.h"

#define ROUTE53_NAME_MAX 1024

/* A growable array of record sets, kept sorted. */
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
	if (set_id == NULL || s->set_identifier == NULL)
		return (set_id != NULL) - (s->set_identifier != NULL);
	return strcmp(set_id, s->set_identifier);
}

static int set_cmp(const struct zone_store_rrset *a,
		   const struct zone_store_rrset *b)
{
	return key_cmp(a->owner, a->type, a->set_identifier, b);
}

static void set_free(struct zone_store_rrset *s)
{
	if (s == NULL)
		return;
	for (uint16_t i = 0; i < s->count; i++)
		free(s->rdata[i].data);
	free(s->rdata);
	free(s->set_identifier);
	free(s->health_check_id);
	free(s->owner);
	free(s);
}

/* The routing fields of a new set; {NULL, NONE, NULL} for a plain one. */
struct set_routing {
	const char *set_id;
	enum change_failover failover;
	const char *health_check_id;
};

static const struct set_routing PLAIN = {NULL, CHANGE_FAILOVER_NONE, NULL};

static struct zone_store_rrset *set_new(const uint8_t *owner, size_t len,
					uint16_t type, uint32_t ttl,
					const struct set_routing *r)
{
	struct zone_store_rrset *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->owner = malloc(len);
	if (s->owner == NULL)
		goto err_after_set;
	memcpy(s->owner, owner, len);
	s->owner_len = (uint8_t)len;
	s->type = type;
	s->ttl = ttl;
	s->failover = r->failover;
	if (r->set_id != NULL) {
		s->set_identifier = strdup(r->set_id);
		if (s->set_identifier == NULL)
			goto err_after_owner;
	}
	if (r->health_check_id != NULL) {
		s->health_check_id = strdup(r->health_check_id);
		if (s->health_check_id == NULL)
			goto err_after_set_id;
	}
	return s;

err_after_set_id:
	free(s->set_identifier);
err_after_owner:
	free(s->owner);
err_after_set:
	free(s);
	return NULL;
}

/* Adds a copy of rdata in canonical order. Returns 0, Q53_EEXIST when the
 * set already holds it, Q53_ELIMIT past 65535 records, Q53_ENOMEM. */
static int set_add_rdata(struct zone_store_rrset *s, const uint8_t *data,
			 uint16_t len)
{
	struct zone_store_rdata key = {.len = len, .data = (uint8_t *)data};
	size_t lo = 0, hi = s->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = rdata_cmp(&s->rdata[mid], &key);
		if (c == 0)
			return Q53_EEXIST;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->count == UINT16_MAX)
		return Q53_ELIMIT;
	struct zone_store_rdata *rd =
	    realloc(s->rdata, (s->count + 1u) * sizeof(*rd));
	if (rd == NULL)
		return Q53_ENOMEM;
	s->rdata = rd;
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		return Q53_ENOMEM;
	memcpy(copy, data, len);
	memmove(&rd[lo + 1], &rd[lo], (s->count - lo) * sizeof(*rd));
	rd[lo].len = len;
	rd[lo].data = copy;
	s->count++;
	return 0;
}

static bool opt_eq(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* Everything but the key (owner, type, set identifier) is the same. */
static bool set_same_data(const struct zone_store_rrset *a,
			  const struct zone_store_rrset *b)
{
	if (a->ttl != b->ttl || a->count != b->count ||
	    a->failover != b->failover ||
	    !opt_eq(a->health_check_id, b->health_check_id))
		return false;
	for (uint16_t i = 0; i < a->count; i++) {
		if (rdata_cmp(&a->rdata[i], &b->rdata[i]) != 0)
			return false;
	}
	return true;
}

/* The first position whose set is not before the key. */
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

static void list_remove(struct set_list *l, size_t pos)
{
	memmove(&l->v[pos], &l->v[pos + 1], (l->n - pos - 1) * sizeof(*l->v));
	l->n--;
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
	for (size_t i = 0; i < z->nsets; i++)
		set_free(z->sets[i]);
	free(z->sets);
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
	return (struct zone_store_rrset *)list_find(z->sets, z->nsets,
						    z->origin, RRTYPE_SOA);
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

size_t zone_store_impl_group_end(struct zone_store_rrset *const *v, size_t n,
				  size_t i)
{
	size_t j = i + 1;
	while (j < n && v[j]->type == v[i]->type &&
	       name_cmp(v[j]->owner, v[i]->owner) == 0)
		j++;
	return j;
}

size_t zone_store_impl_lower_bound(const struct zone_store_zone *z,
				   const uint8_t *owner)
{
	return list_lower_bound(z->sets, z->nsets, owner, 0, NULL);
}

void zone_store_init(struct zone_store *s)
{
	s->zones = NULL;
	s->nzones = 0;
}

void zone_store_free(struct zone_store *s)
{
	for (size_t i = 0; i < s->nzones; i++)
		zone_free(s->zones[i]);
	free(s->zones);
	zone_store_init(s);
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
	out->nrrsets = z->nsets;
	out->rrsets = (const struct zone_store_rrset *const *)z->sets;
}

int zone_store_get_at(const struct zone_store *s, size_t i,
		      struct zone_store_info *out)
{
	if (i >= s->nzones)
		return Q53_ENOENT;
	zone_info(s->zones[i], out);
	return 0;
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
	struct zone_store_rrset *set =
	    set_new(z->origin, z->origin_len, type, ttl, &PLAIN);
	if (set == NULL)
		return Q53_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = set_add_rdata(set, rd[i].data, rd[i].len);
		if (rc != 0 && rc != Q53_EEXIST) {
			set_free(set);
			return rc;
		}
	}
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
	for (size_t i = 0; i < s->nzones; i++) {
		const struct zone_store_zone *o = s->zones[i];
		if (name_eq(o->origin, o->origin_len, origin, olen))
			return fail(err, errlen, Q53_EEXIST,
				    "ConflictingDomainExists: hosted zone %s "
				    "already serves %s",
				    o->id, o->name);
		if (p->caller_reference && o->caller_reference &&
		    strcmp(p->caller_reference, o->caller_reference) == 0)
			return fail(err, errlen, Q53_EEXIST,
				    "HostedZoneAlreadyExists: caller reference "
				    "'%s' was used for hosted zone %s",
				    p->caller_reference, o->id);
	}
	if (p->nnameservers == 0)
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: a hosted zone needs at least one "
			    "name server");

	struct zone_store_zone *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return Q53_ENOMEM;
	snprintf(z->id, sizeof(z->id), "%s", p->id);
	memcpy(z->origin, origin, olen);
	z->origin_len = (uint8_t)olen;
	name_text(z->origin, z->name, sizeof(z->name));
	z->serial = 1;
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
	z->sets = l.v;
	z->nsets = l.n;
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
	       set->set_identifier == NULL &&
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
	for (size_t i = 0; i < z->nsets; i++)
		extra += !is_apex_soa_ns(z, z->sets[i]);
	if (extra > 0)
		return fail(err, errlen, Q53_EINVAL,
			    "HostedZoneNotEmpty: hosted zone %s (%s) still "
			    "holds %zu record sets besides its SOA and NS",
			    id, z->name, extra);
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

/* Turns change i into a record set (the candidate) or reports why it
 * cannot be one. Returns 0, Q53_EINVAL (reported) or Q53_ENOMEM. */
static int change_to_set(const struct zone_store_zone *z,
			 const struct change *c, size_t i, struct report *e,
			 struct zone_store_rrset **out)
{
	const struct change_rrset *r = &c->rrset;
	uint8_t owner[DNAME_MAXLEN];
	char tname[32], label[NAME_TEXT_MAX + 128], why[256];
	uint16_t rdlen;
	int rc;

	*out = NULL;
	size_t olen = name_from_route53(r->name, owner);
	if (olen == 0) {
		report_add(e, i, "'%s' is not a valid DNS name", r->name);
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
	if ((r->set_identifier == NULL) !=
	    (r->failover == CHANGE_FAILOVER_NONE)) {
		report_add(e, i,
			   "%s: a SetIdentifier needs a Failover role, and a "
			   "Failover role a SetIdentifier",
			   label);
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
	if ((r->type == RRTYPE_CNAME || r->type == RRTYPE_SOA) &&
	    r->nvalues != 1) {
		report_add(e, i,
			   "%s: a %s record set holds exactly "
			   "one record, not %zu",
			   label, tname, r->nvalues);
		return Q53_EINVAL;
	}
	if (r->ttl > CHANGE_BATCH_MAX_TTL) {
		report_add(e, i, "%s: TTL %u is out of range", label, r->ttl);
		return Q53_EINVAL;
	}
	if (r->nvalues == 0 || r->nvalues > UINT16_MAX) {
		report_add(e, i, "%s: %zu records in one set", label,
			   r->nvalues);
		return Q53_EINVAL;
	}
	struct set_routing routing = {r->set_identifier, r->failover,
				      r->health_check_id};
	struct zone_store_rrset *set =
	    set_new(owner, olen, r->type, r->ttl, &routing);
	uint8_t *wire = malloc(RDATA_TEXT_WIRE_MAX);
	if (set == NULL || wire == NULL) {
		rc = Q53_ENOMEM;
		goto err_after_alloc;
	}
	for (size_t k = 0; k < r->nvalues; k++) {
		rc = rdata_text_to_wire(r->type, r->values[k], wire,
					RDATA_TEXT_WIRE_MAX, &rdlen, why,
					sizeof(why));
		if (rc == Q53_ENOMEM)
			goto err_after_alloc;
		if (rc != 0) {
			report_add(e, i,
				   "%s: value '%.64s' is not a "
				   "valid %s record: %s",
				   label, r->values[k], tname, why);
			rc = Q53_EINVAL;
			goto err_after_alloc;
		}
		rc = set_add_rdata(set, wire, rdlen);
		if (rc == Q53_EEXIST) {
			report_add(e, i, "%s: duplicate value '%.64s'", label,
				   r->values[k]);
			rc = Q53_EINVAL;
		}
		if (rc != 0)
			goto err_after_alloc;
	}
	free(wire);
	*out = set;
	return 0;

err_after_alloc:
	free(wire);
	set_free(set);
	return rc;
}

/* Applies one validated candidate to the working list. Returns 0 (cand is
 * now in the list), 1 (cand is not needed: a DELETE), Q53_EINVAL
 * (reported) or Q53_ENOMEM. Sets displaced from the list go to removed. */
static int change_apply(const struct zone_store_zone *z,
			enum change_action action,
			struct zone_store_rrset *cand, size_t i,
			struct set_list *work, struct set_list *removed,
			struct report *e)
{
	char label[NAME_TEXT_MAX + 128];
	size_t pos = list_lower_bound(work->v, work->n, cand->owner, cand->type,
				      cand->set_identifier);
	bool exists = pos < work->n && set_cmp(cand, work->v[pos]) == 0;
	int rc;

	set_label(cand->owner, cand->type, cand->set_identifier, label,
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
		return list_insert(work, pos, cand);
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
		if (!set_same_data(cand, work->v[pos])) {
			report_add(
			    e, i,
			    "Tried to delete resource record set %s but the "
			    "values provided do not match the current values "
			    "(TTL %u, %u records)",
			    label, work->v[pos]->ttl, work->v[pos]->count);
			return Q53_EINVAL;
		}
		rc = list_insert(removed, removed->n, work->v[pos]);
		if (rc != 0)
			return rc;
		list_remove(work, pos);
		return 1;
	case CHANGE_UPSERT:
		if (!exists)
			return list_insert(work, pos, cand);
		rc = list_insert(removed, removed->n, work->v[pos]);
		if (rc != 0)
			return rc;
		work->v[pos] = cand;
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
			const struct set_list *work,
			struct zone_store_rrset *const *cands, size_t ncands,
			struct report *e)
{
	char name[NAME_TEXT_MAX], t[32];
	size_t pos = list_lower_bound(work->v, work->n, cand->owner, 0, NULL);
	for (; pos < work->n && name_cmp(work->v[pos]->owner, cand->owner) == 0;
	     pos++) {
		const struct zone_store_rrset *o = work->v[pos];
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

/* Routing policies of record sets; only failover is served so far. */
enum set_policy {
	POLICY_SIMPLE,
	POLICY_FAILOVER,
};

static enum set_policy set_policy_of(const struct zone_store_rrset *s)
{
	return s->set_identifier == NULL ? POLICY_SIMPLE : POLICY_FAILOVER;
}

static const char *set_policy_name(enum set_policy p)
{
	return p == POLICY_FAILOVER ? "failover" : "simple";
}

/* The group rules at (owner, type) of an applied change, in the resulting
 * state (Route 53's words): a routed set cannot join a plain set or a group
 * of another policy, a plain set cannot join a group, and a failover group
 * has one set per role. */
static void check_routing(const struct zone_store_rrset *cand, size_t i,
			  const struct set_list *work, struct report *e)
{
	char name[NAME_TEXT_MAX], t[32];
	size_t pos =
	    list_lower_bound(work->v, work->n, cand->owner, cand->type, NULL);
	enum set_policy pc = set_policy_of(cand);

	name_text(cand->owner, name, sizeof(name));
	type_text(cand->type, t, sizeof(t));
	for (; pos < work->n && work->v[pos]->type == cand->type &&
	       name_cmp(work->v[pos]->owner, cand->owner) == 0;
	     pos++) {
		const struct zone_store_rrset *o = work->v[pos];
		enum set_policy po = set_policy_of(o);

		if (o == cand)
			continue;
		if (pc != po && pc == POLICY_SIMPLE) {
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
			    name, t, cand->set_identifier, set_policy_name(pc));
			return;
		}
		if (pc == POLICY_FAILOVER && o->failover == cand->failover) {
			report_add(
			    e, i,
			    "RRSet with DNS name %s, type %s, SetIdentifier "
			    "\"%s\" cannot be created because the rrset with "
			    "SetIdentifier \"%s\" already has the failover "
			    "role "
			    "%s for the same name and type",
			    name, t, cand->set_identifier, o->set_identifier,
			    change_batch_failover_name(cand->failover));
			return;
		}
	}
}

/* Every HealthCheckId of b must name an existing check. Returns 0, or
 * Q53_ENOENT with "NoSuchHealthCheck: change N: ...; change M: ..." in
 * err. */
static int check_health_ids(const struct change_batch *b,
			    zone_store_check_fn exists, void *ctx, char *err,
			    size_t errlen)
{
	struct change_batch_errors list;

	change_batch_errors_init(&list, err, errlen);
	list.code = "NoSuchHealthCheck";
	for (size_t i = 0; i < b->nchanges; i++) {
		const char *hc = b->changes[i].rrset.health_check_id;
		if (hc != NULL && (exists == NULL || !exists(ctx, hc)))
			change_batch_errors_add(
			    &list, i, "no health check found with ID: %.64s",
			    hc);
	}
	return list.count > 0 ? Q53_ENOENT : 0;
}

int zone_store_apply(struct zone_store *s, const char *id,
		     const struct change_batch *b, char *err, size_t errlen)
{
	return zone_store_apply_with_checks(s, id, b, NULL, NULL, err, errlen);
}

int zone_store_apply_with_checks(struct zone_store *s, const char *id,
				 const struct change_batch *b,
				 zone_store_check_fn exists, void *ctx,
				 char *err, size_t errlen)
{
	struct report e = {0};
	struct set_list work = {0}, removed = {0};
	int rc = 0;

	err[0] = '\0';
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
	work.cap = z->nsets + b->nchanges;
	work.v = malloc(work.cap * sizeof(*work.v));
	if (cands == NULL || in_work == NULL || work.v == NULL) {
		rc = Q53_ENOMEM;
		goto out;
	}
	memcpy(work.v, z->sets, z->nsets * sizeof(*work.v));
	work.n = z->nsets;

	for (size_t i = 0; i < b->nchanges; i++) {
		const struct change *c = &b->changes[i];
		rc = change_to_set(z, c, i, &e, &cands[i]);
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
				  cands[i]->set_identifier, label,
				  sizeof(label));
			report_add(&e, i,
				   "%s is already changed by "
				   "change %zu of this batch "
				   "(one change per record set)",
				   label, j);
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

	/* Commit: the displaced sets go, the working list becomes the
	 * zone's, the serial moves on. */
	rc = 0;
	for (size_t i = 0; i < b->nchanges; i++) {
		if (in_work[i])
			zone_store_track_name(z, cands[i]->owner);
	}
	for (size_t k = 0; k < removed.n; k++)
		zone_store_track_name(z, removed.v[k]->owner);
	for (size_t k = 0; k < removed.n; k++)
		set_free(removed.v[k]);
	free(z->sets);
	z->sets = work.v;
	z->nsets = work.n;
	work.v = NULL;
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
	free(work.v);
	free(removed.v);
	for (size_t i = 0; i < b->nchanges; i++)
		free(e.why[i]);
	free(e.why);
	return rc;
}

/* --- building, export, import --- */

/* A growable byte buffer with a sticky out-of-memory flag. */
struct out_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool nomem;
};

static uint8_t *out_reserve(struct out_buf *o, size_t n)
{
	if (o->nomem)
		return NULL;
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		while (cap < o->len + n)
			cap *= 2;
		uint8_t *p = realloc(o->p, cap);
		if (p == NULL) {
			o->nomem = true;
			return NULL;
		}
		o->p = p;
		o->cap = cap;
	}
	return o->p + o->len;
}

static void out_bytes(struct out_buf *o, const void *data, size_t n)
{
	uint8_t *p = out_reserve(o, n);
	if (p != NULL) {
		memcpy(p, data, n);
		o->len += n;
	}
}

static void out_text(struct out_buf *o, const char *t)
{
	out_bytes(o, t, strlen(t));
}

/* A set a zone file cannot hold. */
static bool set_is_routed(const struct zone_store_rrset *set)
{
	return set->set_identifier != NULL || set->health_check_id != NULL;
}

/* A lowercase wire name as Route 53 writes names: final dot, and every
 * byte but a-z, 0-9, '-' and '_' (and a lone '*' label) as \ooo. */
static void name_route53_text(const uint8_t *wire, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t p = 0; wire[p] != 0 && o + 5 < outlen; p += 1u + wire[p]) {
		const uint8_t *label = wire + p;
		if (label[0] == 1 && label[1] == '*') {
			out[o++] = '*';
		} else {
			for (size_t k = 1; k <= label[0] && o + 5 < outlen;
			     k++) {
				uint8_t c = label[k];
				if ((c >= 'a' && c <= 'z') ||
				    (c >= '0' && c <= '9') || c == '-' ||
				    c == '_')
					out[o++] = (char)c;
				else
					o += (size_t)snprintf(
					    out + o, outlen - o, "\\%03o", c);
			}
		}
		out[o++] = '.';
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
}

/* Fills c with a CREATE of set (everything malloc'd, freed by
 * change_batch_free). val is a scratch buffer of valcap bytes. */
static int set_to_change(const struct zone_store_rrset *set, struct change *c,
			 char *val, size_t valcap)
{
	char name[NAME_TEXT_MAX];
	int rc;

	c->action = CHANGE_CREATE;
	name_route53_text(set->owner, name, sizeof(name));
	c->rrset.type = set->type;
	c->rrset.ttl = set->ttl;
	c->rrset.failover = set->failover;
	c->rrset.name = strdup(name);
	if (c->rrset.name == NULL ||
	    (set->set_identifier != NULL &&
	     (c->rrset.set_identifier = strdup(set->set_identifier)) == NULL) ||
	    (set->health_check_id != NULL &&
	     (c->rrset.health_check_id = strdup(set->health_check_id)) == NULL))
		return Q53_ENOMEM;
	c->rrset.values = calloc(set->count, sizeof(*c->rrset.values));
	if (c->rrset.values == NULL)
		return Q53_ENOMEM;
	for (uint16_t k = 0; k < set->count; k++) {
		rc = rdata_text_from_wire(set->type, set->rdata[k].data,
					  set->rdata[k].len, val, valcap);
		if (rc != 0)
			return rc;
		c->rrset.values[k] = strdup(val);
		if (c->rrset.values[k] == NULL)
			return Q53_ENOMEM;
		c->rrset.nvalues++;
	}
	return 0;
}

int zone_store_export_batch(const struct zone_store *s, const char *id,
			    char **json, size_t *len, char *err, size_t errlen)
{
	size_t valcap = RDATA_TEXT_WIRE_MAX * 4 + 64;
	char comment[CHANGE_BATCH_MAX_COMMENT + 1];
	int rc = 0;

	err[0] = '\0';
	*json = NULL;
	*len = 0;
	const struct zone_store_zone *z = zone_find(s, id, NULL);
	if (z == NULL)
		return no_such_zone(id, err, errlen);
	size_t routed = 0;
	for (size_t i = 0; i < z->nsets; i++)
		routed += set_is_routed(z->sets[i]);
	if (routed == 0)
		return 0;
	struct change_batch *b = calloc(1, sizeof(*b));
	char *val = malloc(valcap);
	if (b == NULL || val == NULL) {
		rc = Q53_ENOMEM;
		goto out;
	}
	snprintf(comment, sizeof(comment),
		 "record sets of %.160s (%s) its zone file cannot hold",
		 z->name, z->id);
	b->comment = strdup(comment);
	b->changes = calloc(routed, sizeof(*b->changes));
	if (b->comment == NULL || b->changes == NULL) {
		rc = Q53_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < z->nsets && rc == 0; i++) {
		if (!set_is_routed(z->sets[i]))
			continue;
		rc = set_to_change(z->sets[i], &b->changes[b->nchanges++], val,
				   valcap);
	}
	if (rc == 0)
		rc = change_batch_format(b, json, len);
out:
	free(val);
	change_batch_free(b);
	return rc;
}

int zone_store_export(const struct zone_store *s, const char *id, char **text,
		      size_t *len, char *err, size_t errlen)
{
	struct out_buf o = {0};
	char name[NAME_TEXT_MAX], t[32], head[NAME_TEXT_MAX + 64];
	size_t valcap = RDATA_TEXT_WIRE_MAX * 4 + 64;
	int rc = 0;

	err[0] = '\0';
	const struct zone_store_zone *z = zone_find(s, id, NULL);
	if (z == NULL)
		return no_such_zone(id, err, errlen);
	char *val = malloc(valcap);
	if (val == NULL)
		return Q53_ENOMEM;
	snprintf(head, sizeof(head), "$ORIGIN %s\n", z->name);
	out_text(&o, head);
	size_t routed = 0;
	for (size_t i = 0; i < z->nsets; i++)
		routed += set_is_routed(z->sets[i]);
	if (routed > 0) {
		snprintf(head, sizeof(head),
			 "; %zu record sets with a SetIdentifier or a "
			 "HealthCheckId are not in this file (export them as a "
			 "change batch)\n",
			 routed);
		out_text(&o, head);
	}
	for (size_t i = 0; i < z->nsets && rc == 0; i++) {
		const struct zone_store_rrset *set = z->sets[i];
		if (set_is_routed(set))
			continue;
		name_text(set->owner, name, sizeof(name));
		type_text(set->type, t, sizeof(t));
		snprintf(head, sizeof(head), "%s %u IN %s ", name, set->ttl, t);
		for (uint16_t k = 0; k < set->count && rc == 0; k++) {
			rc = rdata_text_from_wire(set->type, set->rdata[k].data,
						  set->rdata[k].len, val,
						  valcap);
			out_text(&o, head);
			out_text(&o, val);
			out_text(&o, "\n");
		}
	}
	out_bytes(&o, "", 1);
	if (rc == 0 && o.nomem)
		rc = Q53_ENOMEM;
	free(val);
	if (rc != 0) {
		free(o.p);
		return rc;
	}
	*text = (char *)o.p;
	*len = o.len - 1;
	return 0;
}

/* The routing rules of one (owner, type) group g[0..n) of zone z. */
static int group_check(const struct zone_store_zone *z,
		       struct zone_store_rrset *const *g, size_t n, char *err,
		       size_t errlen)
{
	char name[NAME_TEXT_MAX];
	size_t roles[3] = {0};
	bool apex =
	    name_eq(g[0]->owner, g[0]->owner_len, z->origin, z->origin_len);

	name_text(g[0]->owner, name, sizeof(name));
	for (size_t k = 0; k < n; k++) {
		const struct zone_store_rrset *x = g[k];
		if (x->failover > CHANGE_FAILOVER_SECONDARY ||
		    (x->set_identifier == NULL) !=
			(x->failover == CHANGE_FAILOVER_NONE))
			return fail(err, errlen, Q53_EINVAL,
				    "a record set at %s has a SetIdentifier "
				    "without a Failover role or the reverse",
				    name);
		if (apex && (x->type == RRTYPE_SOA || x->type == RRTYPE_NS) &&
		    set_is_routed(x))
			return fail(err, errlen, Q53_EINVAL,
				    "the SOA and NS record sets at the zone "
				    "apex cannot have a routing policy or a "
				    "health check");
		if ((x->set_identifier != NULL &&
		     (x->set_identifier[0] == '\0' ||
		      strlen(x->set_identifier) > CHANGE_BATCH_MAX_SET_ID)) ||
		    (x->health_check_id != NULL &&
		     (x->health_check_id[0] == '\0' ||
		      strlen(x->health_check_id) >
			  CHANGE_BATCH_MAX_HEALTH_CHECK_ID)))
			return fail(err, errlen, Q53_EINVAL,
				    "a record set at %s has an empty or too "
				    "long SetIdentifier or HealthCheckId",
				    name);
		roles[x->failover]++;
	}
	if (roles[CHANGE_FAILOVER_NONE] > 0 && n > roles[CHANGE_FAILOVER_NONE])
		return fail(err, errlen, Q53_EINVAL,
			    "a failover group and a plain record set of one "
			    "type at %s",
			    name);
	if (roles[CHANGE_FAILOVER_PRIMARY] > 1 ||
	    roles[CHANGE_FAILOVER_SECONDARY] > 1)
		return fail(err, errlen, Q53_EINVAL,
			    "two failover record sets of one role and type at "
			    "%s",
			    name);
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
	if (soa == NULL || soa->count != 1 || soa->set_identifier != NULL)
		return fail(err, errlen, Q53_EINVAL,
			    "the zone apex needs exactly one SOA record");
	if (soa->rdata[0].len < 22)
		return fail(err, errlen, Q53_EINVAL, "malformed SOA record");
	if (list_find(l->v, l->n, z->origin, RRTYPE_NS) == NULL)
		return fail(err, errlen, Q53_EINVAL,
			    "the zone apex needs an NS record set");
	for (size_t i = 0; i < l->n;) {
		size_t j = i, cnames = 0;
		for (;
		     j < l->n && name_cmp(l->v[i]->owner, l->v[j]->owner) == 0;
		     j++) {
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
		size_t j = zone_store_impl_group_end(l->v, l->n, i);
		int rc = group_check(z, l->v + i, j - i, err, errlen);
		if (rc != 0)
			return rc;
		i = j;
	}
	return 0;
}

/* Serial arithmetic (RFC 1982): a is newer than b. */
static bool serial_newer(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

static int import_record(const struct zone_store_zone *z, struct set_list *l,
			 const zs_scanner_t *sc, char *why, size_t whylen)
{
	uint8_t owner[DNAME_MAXLEN];
	char t[32];
	size_t len = dname_wire_len(sc->r_owner, sizeof(sc->r_owner));
	if (len == 0)
		return fail(why, whylen, Q53_EINVAL, "malformed owner name");
	dname_lower_copy(owner, sc->r_owner, len);
	type_text(sc->r_type, t, sizeof(t));
	if (sc->r_class != RRCLASS_IN)
		return fail(why, whylen, Q53_EINVAL,
			    "class %u is not supported (only IN)", sc->r_class);
	if (!change_batch_type_supported(sc->r_type))
		return fail(why, whylen, Q53_EINVAL, "type %s is not supported",
			    t);
	if (!dname_is_sub(owner, len, z->origin, z->origin_len)) {
		char name[NAME_TEXT_MAX];
		name_text(owner, name, sizeof(name));
		return fail(why, whylen, Q53_EINVAL,
			    "%s is outside the zone %s", name, z->name);
	}
	if (sc->r_type == RRTYPE_SOA &&
	    !name_eq(owner, len, z->origin, z->origin_len))
		return fail(why, whylen, Q53_EINVAL,
			    "SOA record outside the zone apex");
	if (sc->r_ttl > CHANGE_BATCH_MAX_TTL)
		return fail(why, whylen, Q53_EINVAL, "TTL %u is out of range",
			    sc->r_ttl);
	size_t pos = list_lower_bound(l->v, l->n, owner, sc->r_type, NULL);
	struct zone_store_rrset *set = NULL;
	if (pos < l->n && l->v[pos]->type == sc->r_type &&
	    name_cmp(owner, l->v[pos]->owner) == 0) {
		set = l->v[pos];
	} else {
		set = set_new(owner, len, sc->r_type, sc->r_ttl, &PLAIN);
		if (set == NULL || list_insert(l, pos, set) != 0) {
			set_free(set);
			return Q53_ENOMEM;
		}
	}
	/* The first TTL of a set wins, identical records merge (as the
	 * zone loader does). */
	int rc = set_add_rdata(set, sc->r_data, (uint16_t)sc->r_data_length);
	if (rc == Q53_ELIMIT)
		return fail(why, whylen, Q53_EINVAL,
			    "more than 65535 records in one set");
	return rc == Q53_EEXIST ? 0 : rc;
}

int zone_store_import(struct zone_store *s, const char *id, const char *text,
		      size_t len, char *err, size_t errlen)
{
	struct set_list l = {0};
	char why[256];
	int rc;

	err[0] = '\0';
	struct zone_store_zone *z = zone_find(s, id, NULL);
	if (z == NULL)
		return no_such_zone(id, err, errlen);
	zs_scanner_t *sc = malloc(sizeof(*sc));
	if (sc == NULL)
		return Q53_ENOMEM;
	if (zs_init(sc, z->name, RRCLASS_IN, 3600) != 0 ||
	    zs_set_input_string(sc, text, len) != 0) {
		rc = fail(err, errlen, Q53_EINVAL, "InvalidInput: %s",
			  zs_strerror(sc->error.code));
		goto err_after_scanner;
	}
	for (;;) {
		int prc = zs_parse_record(sc);
		if (sc->state == ZS_STATE_DATA) {
			rc = import_record(z, &l, sc, why, sizeof(why));
			if (rc == Q53_ENOMEM)
				goto err_after_scanner;
			if (rc != 0) {
				rc = fail(err, errlen, Q53_EINVAL,
					  "InvalidInput: line %llu: %s",
					  (unsigned long long)sc->line_counter,
					  why);
				goto err_after_scanner;
			}
		} else if (sc->state == ZS_STATE_ERROR || prc != 0) {
			rc = fail(err, errlen, Q53_EINVAL,
				  "InvalidInput: line %llu: %s",
				  (unsigned long long)sc->line_counter,
				  zs_strerror(sc->error.code));
			goto err_after_scanner;
		} else if (sc->state == ZS_STATE_INCLUDE) {
			rc = fail(err, errlen, Q53_EINVAL,
				  "InvalidInput: line %llu: $INCLUDE is not "
				  "supported",
				  (unsigned long long)sc->line_counter);
			goto err_after_scanner;
		} else {
			break; /* EOF or STOP */
		}
	}
	/* Without an apex SOA or NS of its own, the file keeps the
	 * zone's. */
	for (size_t i = 0; i < z->nsets; i++) {
		const struct zone_store_rrset *cur = z->sets[i];
		if (!is_apex_soa_ns(z, cur) ||
		    list_find(l.v, l.n, z->origin, cur->type) != NULL)
			continue;
		rc = zone_add_apex_set(z, &l, cur->type, cur->ttl, cur->rdata,
				       cur->count);
		if (rc != 0)
			goto err_after_scanner;
	}
	rc = zone_check_sets(z, &l, why, sizeof(why));
	if (rc != 0) {
		rc = fail(err, errlen, Q53_EINVAL, "InvalidInput: %s", why);
		goto err_after_scanner;
	}
	struct zone_store_rrset *soa = (struct zone_store_rrset *)list_find(
	    l.v, l.n, z->origin, RRTYPE_SOA);
	uint32_t serial = z->serial + 1;
	if (serial_newer(soa_serial_get(soa), serial))
		serial = soa_serial_get(soa);
	soa_serial_set(soa, serial);
	zs_deinit(sc);
	free(sc);
	for (size_t i = 0; i < z->nsets; i++)
		set_free(z->sets[i]);
	free(z->sets);
	z->sets = l.v;
	z->nsets = l.n;
	z->serial = serial;
	return 0;

err_after_scanner:
	zs_deinit(sc);
	free(sc);
	list_free_all(&l);
	return rc;
}

/* --- snapshots ---
 *
 * "Q53ZSTOR" u32:version u32:nzones, then per zone (in id order):
 *   str16:id  u8:len name  opt:comment  opt:caller_reference  u32:nsets
 *   per set (canonical order): u8:len owner  u16:type  u32:ttl
 *     opt:set_identifier  u8:failover  opt:health_check_id  u16:count
 *     per record: u16:len data
 * Integers big-endian; str16 = u16 length + bytes; opt = u8 0, or u8 1 and
 * a str16; failover 0 none, 1 PRIMARY, 2 SECONDARY. The serial is the one
 * in the SOA record. Version 1 had no failover and health_check_id (read
 * as none). */

static const char SNAP_MAGIC[8] = {'Q', '5', '3', 'Z', 'S', 'T', 'O', 'R'};
#define SNAP_VERSION	2
#define SNAP_VERSION_V1 1

static void out_u8(struct out_buf *o, uint8_t v)
{
	out_bytes(o, &v, 1);
}

static void out_u16(struct out_buf *o, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	out_bytes(o, b, 2);
}

static void out_u32(struct out_buf *o, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};
	out_bytes(o, b, 4);
}

static void out_str16(struct out_buf *o, const char *s)
{
	size_t n = strlen(s);
	out_u16(o, (uint16_t)n);
	out_bytes(o, s, n);
}

static void out_opt(struct out_buf *o, const char *s)
{
	out_u8(o, s != NULL);
	if (s != NULL)
		out_str16(o, s);
}

int zone_store_snapshot(const struct zone_store *s, uint8_t **buf, size_t *len)
{
	struct out_buf o = {0};
	out_bytes(&o, SNAP_MAGIC, sizeof(SNAP_MAGIC));
	out_u32(&o, SNAP_VERSION);
	out_u32(&o, (uint32_t)s->nzones);
	for (size_t i = 0; i < s->nzones; i++) {
		const struct zone_store_zone *z = s->zones[i];
		out_str16(&o, z->id);
		out_u8(&o, z->origin_len);
		out_bytes(&o, z->origin, z->origin_len);
		out_opt(&o, z->comment);
		out_opt(&o, z->caller_reference);
		out_u32(&o, (uint32_t)z->nsets);
		for (size_t k = 0; k < z->nsets; k++) {
			const struct zone_store_rrset *set = z->sets[k];
			out_u8(&o, set->owner_len);
			out_bytes(&o, set->owner, set->owner_len);
			out_u16(&o, set->type);
			out_u32(&o, set->ttl);
			out_opt(&o, set->set_identifier);
			out_u8(&o, (uint8_t)set->failover);
			out_opt(&o, set->health_check_id);
			out_u16(&o, set->count);
			for (uint16_t r = 0; r < set->count; r++) {
				out_u16(&o, set->rdata[r].len);
				out_bytes(&o, set->rdata[r].data,
					  set->rdata[r].len);
			}
		}
	}
	if (o.nomem) {
		free(o.p);
		return Q53_ENOMEM;
	}
	*buf = o.p;
	*len = o.len;
	return 0;
}

/* A bounded reader over untrusted bytes; the first short read sets a
 * sticky error and every later read yields zeros. */
struct in_cursor {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool bad;
};

static const uint8_t *in_take(struct in_cursor *c, size_t n)
{
	if (c->bad || c->len - c->pos < n) {
		c->bad = true;
		return NULL;
	}
	const uint8_t *p = c->p + c->pos;
	c->pos += n;
	return p;
}

static uint8_t in_u8(struct in_cursor *c)
{
	const uint8_t *p = in_take(c, 1);
	return p ? p[0] : 0;
}

static uint16_t in_u16(struct in_cursor *c)
{
	const uint8_t *p = in_take(c, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t in_u32(struct in_cursor *c)
{
	const uint8_t *p = in_take(c, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		       (uint32_t)p[2] << 8 | p[3]
		 : 0;
}

/* A str16 as a new C string (no NUL inside), or NULL with c->bad set, or
 * NULL with *nomem. */
static char *in_str16(struct in_cursor *c, bool *nomem)
{
	uint16_t n = in_u16(c);
	const uint8_t *p = in_take(c, n);
	if (p == NULL || memchr(p, '\0', n) != NULL) {
		c->bad = true;
		return NULL;
	}
	char *s = malloc((size_t)n + 1);
	if (s == NULL) {
		*nomem = true;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Reads an opt string into *out (NULL when absent). */
static void in_opt(struct in_cursor *c, char **out, bool *nomem)
{
	uint8_t present = in_u8(c);
	*out = NULL;
	if (present > 1)
		c->bad = true;
	else if (present == 1)
		*out = in_str16(c, nomem);
}

/* A wire name of u8 length: well-formed and lowercase. Returns its length
 * or 0 (c->bad set). */
static size_t in_name(struct in_cursor *c, uint8_t *out)
{
	uint8_t n = in_u8(c);
	const uint8_t *p = in_take(c, n);
	if (p == NULL || n == 0 || dname_wire_len(p, n) != n) {
		c->bad = true;
		return 0;
	}
	dname_lower_copy(out, p, n);
	if (memcmp(out, p, n) != 0) {
		c->bad = true;
		return 0;
	}
	return n;
}

static int restore_fail(char *err, size_t errlen, const char *why,
			size_t offset)
{
	return fail(err, errlen, Q53_EMALF,
		    "zone store snapshot rejected at byte %zu: %s", offset,
		    why);
}

/* Reads one record set of zone z. Returns 0, Q53_EMALF (reason in why) or
 * Q53_ENOMEM. */
static int restore_set(struct in_cursor *c, uint32_t version,
		       const struct zone_store_zone *z,
		       struct zone_store_rrset **out, const char **why)
{
	uint8_t owner[DNAME_MAXLEN];
	bool nomem = false;
	char *set_id, *hc = NULL;
	uint8_t failover = 0;
	int rc;

	*out = NULL;
	size_t olen = in_name(c, owner);
	uint16_t type = in_u16(c);
	uint32_t ttl = in_u32(c);
	in_opt(c, &set_id, &nomem);
	if (version != SNAP_VERSION_V1) {
		failover = in_u8(c);
		in_opt(c, &hc, &nomem);
	}
	uint16_t count = in_u16(c);
	if (nomem)
		goto err_nomem;
	*why = "truncated or malformed record set";
	if (c->bad)
		goto err_after_id;
	*why = "record set outside the zone, of an unsupported type, with a "
	       "TTL out of range or no records";
	if (!dname_is_sub(owner, olen, z->origin, z->origin_len) ||
	    !change_batch_type_supported(type) || ttl > CHANGE_BATCH_MAX_TTL ||
	    count == 0 || (set_id != NULL && set_id[0] == '\0') ||
	    (type == RRTYPE_SOA &&
	     !name_eq(owner, olen, z->origin, z->origin_len)))
		goto err_after_id;
	*why = "unknown failover role";
	if (failover > CHANGE_FAILOVER_SECONDARY)
		goto err_after_id;
	struct set_routing routing = {set_id, (enum change_failover)failover,
				      hc};
	struct zone_store_rrset *set =
	    set_new(owner, olen, type, ttl, &routing);
	free(set_id);
	free(hc);
	if (set == NULL)
		return Q53_ENOMEM;
	for (uint16_t r = 0; r < count; r++) {
		uint16_t n = in_u16(c);
		const uint8_t *p = in_take(c, n);
		*why = "truncated record";
		if (p == NULL) {
			set_free(set);
			return Q53_EMALF;
		}
		/* Records must come in canonical order, each once. */
		struct zone_store_rdata key = {.len = n, .data = (uint8_t *)p};
		*why = "records out of order or repeated";
		if (r > 0 && rdata_cmp(&set->rdata[r - 1], &key) >= 0) {
			set_free(set);
			return Q53_EMALF;
		}
		rc = rdata_text_check_wire(type, p, n);
		*why = "malformed RDATA";
		if (rc == 0)
			rc = set_add_rdata(set, p, n);
		if (rc != 0) {
			set_free(set);
			return rc == Q53_ENOMEM ? rc : Q53_EMALF;
		}
	}
	*out = set;
	return 0;

err_nomem:
	free(set_id);
	free(hc);
	return Q53_ENOMEM;
err_after_id:
	free(set_id);
	free(hc);
	return Q53_EMALF;
}

/* Reads one zone. Returns 0, Q53_EMALF (reason in why) or Q53_ENOMEM. */
static int restore_zone(struct in_cursor *c, uint32_t version,
			struct zone_store_zone **out, const char **why,
			char *err, size_t errlen)
{
	bool nomem = false;
	struct set_list l = {0};
	int rc = Q53_EMALF;

	struct zone_store_zone *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return Q53_ENOMEM;
	char *id = in_str16(c, &nomem);
	z->origin_len = (uint8_t)in_name(c, z->origin);
	in_opt(c, &z->comment, &nomem);
	in_opt(c, &z->caller_reference, &nomem);
	uint32_t nsets = in_u32(c);
	if (nomem) {
		rc = Q53_ENOMEM;
		goto err_after_zone;
	}
	*why = "truncated or malformed zone header";
	if (c->bad || id == NULL || !id_valid(id) || z->origin_len <= 1 ||
	    !string_ok(z->comment, CHANGE_BATCH_MAX_COMMENT) ||
	    !string_ok(z->caller_reference, 128))
		goto err_after_zone;
	snprintf(z->id, sizeof(z->id), "%s", id);
	name_text(z->origin, z->name, sizeof(z->name));
	/* Each set takes at least 13 bytes: no allocation from a lying
	 * count. */
	*why = "record set count larger than the data";
	if (nsets > (c->len - c->pos) / 13)
		goto err_after_zone;
	for (uint32_t k = 0; k < nsets; k++) {
		struct zone_store_rrset *set;
		rc = restore_set(c, version, z, &set, why);
		if (rc != 0)
			goto err_after_zone;
		if (l.n > 0 && set_cmp(l.v[l.n - 1], set) >= 0) {
			*why = "record sets out of order or repeated";
			set_free(set);
			rc = Q53_EMALF;
			goto err_after_zone;
		}
		rc = list_insert(&l, l.n, set);
		if (rc != 0) {
			set_free(set);
			goto err_after_zone;
		}
	}
	rc = zone_check_sets(z, &l, err, errlen);
	if (rc != 0) {
		*why = "zone rules broken";
		rc = Q53_EMALF;
		goto err_after_zone;
	}
	z->sets = l.v;
	z->nsets = l.n;
	l.v = NULL;
	z->serial = soa_serial_get(zone_soa(z));
	free(id);
	*out = z;
	return 0;

err_after_zone:
	list_free_all(&l);
	free(id);
	zone_free(z);
	return rc;
}

int zone_store_restore(struct zone_store *s, const uint8_t *buf, size_t len,
		       char *err, size_t errlen)
{
	struct in_cursor c = {.p = buf, .len = len};
	struct zone_store next;
	const char *why = "";
	char inner[256] = "";
	int rc;

	err[0] = '\0';
	zone_store_init(&next);
	const uint8_t *magic = in_take(&c, sizeof(SNAP_MAGIC));
	if (magic == NULL || memcmp(magic, SNAP_MAGIC, sizeof(SNAP_MAGIC)) != 0)
		return restore_fail(err, errlen, "not a zone store snapshot",
				    0);
	uint32_t version = in_u32(&c);
	if (version != SNAP_VERSION && version != SNAP_VERSION_V1)
		return restore_fail(err, errlen, "unknown version", 8);
	uint32_t nzones = in_u32(&c);
	if (c.bad || nzones > (len - c.pos) / 8)
		return restore_fail(err, errlen, "bad zone count", 12);
	next.zones = calloc(nzones ? nzones : 1, sizeof(*next.zones));
	if (next.zones == NULL)
		return Q53_ENOMEM;
	for (uint32_t i = 0; i < nzones; i++) {
		size_t at = c.pos;
		struct zone_store_zone *z;
		rc = restore_zone(&c, version, &z, &why, inner, sizeof(inner));
		if (rc == Q53_ENOMEM)
			goto err_after_next;
		if (rc != 0) {
			char msg[512];
			snprintf(msg, sizeof(msg), "zone %u: %s%s%s", i, why,
				 inner[0] ? ": " : "", inner);
			rc = restore_fail(err, errlen, msg, at);
			goto err_after_next;
		}
		next.zones[next.nzones++] = z;
		bool clash = i > 0 && strcmp(next.zones[i - 1]->id, z->id) >= 0;
		for (uint32_t k = 0; k < i && !clash; k++) {
			const struct zone_store_zone *o = next.zones[k];
			clash = name_eq(o->origin, o->origin_len, z->origin,
					z->origin_len) ||
				(o->caller_reference && z->caller_reference &&
				 strcmp(o->caller_reference,
					z->caller_reference) == 0);
		}
		if (clash) {
			rc = restore_fail(err, errlen,
					  "zones out of order or repeated", at);
			goto err_after_next;
		}
	}
	if (c.pos != len) {
		rc = restore_fail(err, errlen, "trailing bytes", c.pos);
		goto err_after_next;
	}
	zone_store_free(s);
	*s = next;
	return 0;

err_after_next:
	zone_store_free(&next);
	return rc;
}
