/* Zone files <-> typed record sets (see zone_text.h): the edge of the
 * control plane, libzscanner and jansson; not part of the FSM library. */
#include "node/control/zone_text.h"

#include <libknot/libknot.h>
#include <libzscanner/scanner.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rdata_policy.h"
#include "node/dnsdata/rdata_text.h"
#include "node/dnsdata/rrtype.h"

#define NAME_TEXT_MAX (DNAME_MAXLEN * 4 + 2)

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

static int no_such_zone(const char *id, char *err, size_t errlen)
{
	return fail(err, errlen, Q53_ENOENT,
		    "NoSuchHostedZone: no hosted zone found with ID: %s", id);
}

static void name_text(const uint8_t *wire, char *out, size_t outlen)
{
	if (knot_dname_to_str(out, wire, outlen) == NULL)
		snprintf(out, outlen, "?");
}

static void type_text(uint16_t type, char *out, size_t outlen)
{
	if (rdata_text_type_name(type, out, outlen) != 0)
		snprintf(out, outlen, "TYPE%u", type);
}

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
	return zone_store_rrset_set_id(set) != NULL ||
	       zone_store_rrset_health_check(set) != NULL ||
	       (zone_store_rrset_routing(set) & ZONE_STORE_ALIAS);
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
	c->rrset.failover = zone_store_rrset_failover(set);
	c->rrset.has_weight =
	    zone_store_rrset_routing(set) & ZONE_STORE_WEIGHTED;
	c->rrset.weight = zone_store_rrset_weight(set);
	c->rrset.multivalue =
	    zone_store_rrset_routing(set) & ZONE_STORE_MULTIVALUE;
	c->rrset.name = strdup(name);
	if (c->rrset.name == NULL ||
	    (zone_store_rrset_set_id(set) != NULL &&
	     (c->rrset.set_identifier = strdup(zone_store_rrset_set_id(set))) ==
		 NULL) ||
	    (zone_store_rrset_health_check(set) != NULL &&
	     (c->rrset.health_check_id =
		  strdup(zone_store_rrset_health_check(set))) == NULL))
		return Q53_ENOMEM;
	struct zone_store_alias a;
	if (zone_store_rrset_alias(set, &a)) {
		name_route53_text(a.name, name, sizeof(name));
		c->rrset.ttl = 0;
		c->rrset.alias_evaluate = a.evaluate;
		c->rrset.alias_zone_id = strdup(a.zone_id);
		c->rrset.alias_dns_name = strdup(name);
		return c->rrset.alias_zone_id == NULL ||
			       c->rrset.alias_dns_name == NULL
			   ? Q53_ENOMEM
			   : 0;
	}
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

int zone_text_export_batch(const struct zone_store *s, const char *id,
			   char **json, size_t *len, char *err, size_t errlen)
{
	size_t valcap = RDATA_TEXT_WIRE_MAX * 4 + 64;
	char comment[CHANGE_BATCH_MAX_COMMENT + 1];
	int rc = 0;

	err[0] = '\0';
	*json = NULL;
	*len = 0;
	struct zone_store_info zi;
	if (zone_store_get(s, id, &zi) != 0)
		return no_such_zone(id, err, errlen);
	const struct zone_store_info *z = &zi;
	size_t routed = 0;
	for (size_t i = 0; i < z->nrrsets; i++)
		routed += set_is_routed(zone_store_info_rrset(z, i));
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
	for (size_t i = 0; i < z->nrrsets && rc == 0; i++) {
		if (!set_is_routed(zone_store_info_rrset(z, i)))
			continue;
		rc = set_to_change(zone_store_info_rrset(z, i),
				   &b->changes[b->nchanges++], val, valcap);
	}
	if (rc == 0)
		rc = change_batch_format(b, json, len);
out:
	free(val);
	change_batch_free(b);
	return rc;
}

int zone_text_export(const struct zone_store *s, const char *id, char **text,
		     size_t *len, char *err, size_t errlen)
{
	struct out_buf o = {0};
	char name[NAME_TEXT_MAX], t[32], head[NAME_TEXT_MAX + 64];
	size_t valcap = RDATA_TEXT_WIRE_MAX * 4 + 64;
	int rc = 0;

	err[0] = '\0';
	struct zone_store_info zi;
	if (zone_store_get(s, id, &zi) != 0)
		return no_such_zone(id, err, errlen);
	const struct zone_store_info *z = &zi;
	char *val = malloc(valcap);
	if (val == NULL)
		return Q53_ENOMEM;
	snprintf(head, sizeof(head), "$ORIGIN %s\n", z->name);
	out_text(&o, head);
	size_t routed = 0;
	for (size_t i = 0; i < z->nrrsets; i++)
		routed += set_is_routed(zone_store_info_rrset(z, i));
	if (routed > 0) {
		snprintf(head, sizeof(head),
			 "; %zu record sets with a SetIdentifier or a "
			 "HealthCheckId are not in this file (export them as a "
			 "change batch)\n",
			 routed);
		out_text(&o, head);
	}
	for (size_t i = 0; i < z->nrrsets && rc == 0; i++) {
		const struct zone_store_rrset *set =
		    zone_store_info_rrset(z, i);
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

/* --- import --- */

/* One record of the file; owner and data live in text_priv's arena
 * (offsets: the arena stays below ARENA_MAX). 32 bytes: a million-record
 * file's records are touched twice (parse, sort), so their size counts. */
struct text_record {
	uint32_t owner; /* offset of the lowercase wire owner in the arena */
	uint32_t data;	/* offset of the RDATA in the arena */
	uint32_t key;	/* offset of the owner's sort key in the arena */
	uint32_t ttl;
	uint32_t order; /* position in the file */
	uint32_t line;	/* saturated at UINT32_MAX */
	uint16_t key_len;
	uint16_t type;
	uint16_t len;
	uint8_t owner_len;
};
_Static_assert(sizeof(struct text_record) == 32, "text_record: 32 bytes");

#define ARENA_MAX ((size_t)UINT32_MAX - 2 * 65536)

struct text_priv {
	struct text_record *recs;
	size_t nrecs;
	uint8_t *arena; /* every owner and RDATA, one buffer */
	size_t arena_len;
	size_t arena_cap;
	struct rrset_rdata *rdata; /* one per record, grouped */
};

static void text_priv_free(struct text_priv *p)
{
	if (p == NULL)
		return;
	free(p->recs);
	free(p->arena);
	free(p->rdata);
	free(p);
}

/* Appends n bytes to the arena; returns their offset or SIZE_MAX when out
 * of memory. */
static size_t arena_put(struct text_priv *p, const void *data, size_t n)
{
	if (p->arena_len + n > ARENA_MAX)
		return SIZE_MAX;
	if (p->arena_len + n > p->arena_cap) {
		size_t cap = p->arena_cap ? p->arena_cap : 4096;
		while (cap < p->arena_len + n)
			cap *= 2;
		uint8_t *a = realloc(p->arena, cap);
		if (a == NULL)
			return SIZE_MAX;
		p->arena = a;
		p->arena_cap = cap;
	}
	size_t off = p->arena_len;
	memcpy(p->arena + off, data, n);
	p->arena_len += n;
	return off;
}

void zone_text_sets_free(struct zone_text_sets *t)
{
	free(t->sets);
	text_priv_free(t->priv);
	memset(t, 0, sizeof(*t));
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

/* A byte string whose memcmp order (shorter first on a tie) is the
 * canonical order of lowercase wire name: the labels from the top down,
 * each ended by 0x00, with 0x00 and 0x01 inside a label escaped as 0x01
 * 0x01 and 0x01 0x02. Writes at most 2 * DNAME_MAXLEN bytes to key;
 * returns its length. */
static size_t name_sort_key(const uint8_t *name, uint8_t *key)
{
	uint8_t at[DNAME_MAXLABELS];
	size_t n = 0, k = 0;
	for (size_t p = 0; name[p] != 0; p += 1u + name[p])
		at[n++] = (uint8_t)p;
	while (n > 0) {
		const uint8_t *label = name + at[--n];
		for (size_t i = 1; i <= label[0]; i++) {
			if (label[i] <= 1) {
				key[k++] = 1;
				key[k++] = (uint8_t)(label[i] + 1);
			} else {
				key[k++] = label[i];
			}
		}
		key[k++] = 0;
	}
	return k;
}

static int record_cmp(const void *pa, const void *pb, void *arg)
{
	const struct text_record *a = pa, *b = pb;
	const uint8_t *arena = arg;
	size_t m = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(arena + a->key, arena + b->key, m);
	if (c != 0)
		return c;
	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return a->order < b->order ? -1 : (a->order > b->order);
}

/* What the sort moves: 16 bytes instead of a 32-byte text_record, and
 * the 8 key bytes after the origin's (which every key starts with),
 * big-endian and zero-padded, so that most comparisons read no key.
 * Zero padding agrees with record_cmp's shorter-first. */
struct sort_entry {
	uint64_t prefix;
	size_t rec;
};

struct sort_ctx {
	const struct text_record *recs;
	const uint8_t *arena;
};

static int sort_entry_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_entry *a = pa, *b = pb;
	const struct sort_ctx *c = arg;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	return record_cmp(&c->recs[a->rec], &c->recs[b->rec], (void *)c->arena);
}

/* Sorts p->recs by record_cmp. 0 or Q53_ENOMEM. */
static int sort_records(struct text_priv *p, const uint8_t *origin)
{
	uint8_t okey[2 * DNAME_MAXLEN];
	size_t skip = name_sort_key(origin, okey);
	struct sort_entry *e = malloc(p->nrecs * sizeof(*e));
	struct text_record *out = malloc(p->nrecs * sizeof(*out));
	if (e == NULL || out == NULL) {
		free(e);
		free(out);
		return Q53_ENOMEM;
	}
	for (size_t i = 0; i < p->nrecs; i++) {
		const struct text_record *r = &p->recs[i];
		const uint8_t *k = p->arena + r->key;
		uint64_t v = 0;
		for (size_t b = 0; b < 8; b++) {
			size_t at = skip + b;
			v = (v << 8) | (at < r->key_len ? k[at] : 0u);
		}
		e[i].prefix = v;
		e[i].rec = i;
	}
	struct sort_ctx c = {p->recs, p->arena};
	qsort_r(e, p->nrecs, sizeof(*e), sort_entry_cmp, &c);
	for (size_t i = 0; i < p->nrecs; i++)
		out[i] = p->recs[e[i].rec];
	free(e);
	free(p->recs);
	p->recs = out;
	return 0;
}

static int import_record(const struct zone_store_info *z, struct text_priv *p,
			 size_t *cap, const zs_scanner_t *sc, bool strict,
			 char *why, size_t whylen)
{
	uint8_t owner[DNAME_MAXLEN];
	char t[32];
	size_t len = dname_wire_len(sc->r_owner, sizeof(sc->r_owner));
	size_t olen = dname_wire_len(z->origin, DNAME_MAXLEN);
	if (len == 0)
		return fail(why, whylen, Q53_EINVAL, "malformed owner name");
	dname_lower_copy(owner, sc->r_owner, len);
	if (sc->r_class != RRCLASS_IN)
		return fail(why, whylen, Q53_EINVAL,
			    "class %u is not supported (only IN)", sc->r_class);
	if (!change_batch_type_supported(sc->r_type)) {
		type_text(sc->r_type, t, sizeof(t));
		return fail(why, whylen, Q53_EINVAL, "type %s is not supported",
			    t);
	}
	if (!dname_is_sub(owner, len, z->origin, olen)) {
		char name[NAME_TEXT_MAX];
		name_text(owner, name, sizeof(name));
		return fail(why, whylen, Q53_EINVAL,
			    "%s is outside the zone %s", name, z->name);
	}
	if (sc->r_type == RRTYPE_SOA &&
	    !(len == olen && memcmp(owner, z->origin, len) == 0))
		return fail(why, whylen, Q53_EINVAL,
			    "SOA record outside the zone apex");
	if (strict && p->nrecs >= ZONE_TEXT_MAX_RECORDS)
		return fail(why, whylen, Q53_EINVAL,
			    "the zone file holds more than %d records, the "
			    "limit of one import; import it in parts with "
			    "change batches",
			    ZONE_TEXT_MAX_RECORDS);
	if (strict) {
		char policy[512];
		if (rdata_policy_check_owner(sc->r_type, owner, len, policy,
					     sizeof(policy)) != 0)
			return fail(why, whylen, Q53_EINVAL, "%s", policy);
		int prc = rdata_policy_check_wire(sc->r_type, sc->r_data,
						  (uint16_t)sc->r_data_length,
						  NULL, policy, sizeof(policy));
		if (prc == Q53_ENOMEM)
			return prc;
		if (prc != 0)
			return fail(why, whylen, Q53_EINVAL,
				    "Invalid Resource Record: '%s'", policy);
	}
	if (sc->r_ttl > CHANGE_BATCH_MAX_TTL)
		return fail(why, whylen, Q53_EINVAL, "TTL %u is out of range",
			    sc->r_ttl);
	if (p->arena_len + 2 * len + sc->r_data_length + 4 > ARENA_MAX)
		return fail(why, whylen, Q53_EINVAL,
			    "the zone file is too large (more than 4 GiB of "
			    "names and record data); split it");
	if (p->nrecs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct text_record *v = realloc(p->recs, ncap * sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		p->recs = v;
		*cap = ncap;
	}
	struct text_record *r = &p->recs[p->nrecs];
	memset(r, 0, sizeof(*r));
	uint8_t key[2 * DNAME_MAXLEN];
	r->key_len = (uint16_t)name_sort_key(owner, key);
	size_t o = arena_put(p, owner, len);
	size_t d = arena_put(p, sc->r_data, sc->r_data_length);
	size_t k = arena_put(p, key, r->key_len);
	if (o == SIZE_MAX || d == SIZE_MAX || k == SIZE_MAX)
		return Q53_ENOMEM;
	r->owner = (uint32_t)o;
	r->data = (uint32_t)d;
	r->key = (uint32_t)k;
	r->owner_len = (uint8_t)len;
	r->type = sc->r_type;
	r->ttl = sc->r_ttl;
	r->len = (uint16_t)sc->r_data_length;
	r->order = (uint32_t)p->nrecs;
	r->line = sc->line_counter < UINT32_MAX ? (uint32_t)sc->line_counter
						: UINT32_MAX;
	p->nrecs++;
	return 0;
}

/* Groups the sorted records into sets: the first TTL of a set wins,
 * identical records merge (as the zone loader does). */
static int group_records(struct text_priv *p, struct zone_text_sets *out,
			 char *err, size_t errlen)
{
	p->rdata = calloc(p->nrecs ? p->nrecs : 1, sizeof(*p->rdata));
	out->sets = calloc(p->nrecs ? p->nrecs : 1, sizeof(*out->sets));
	if (p->rdata == NULL || out->sets == NULL)
		return Q53_ENOMEM;
	size_t nrd = 0;
	const uint8_t *arena = p->arena;
	for (size_t i = 0; i < p->nrecs;) {
		size_t j = i;
		struct rrset_data *set = &out->sets[out->n++];
		set->owner = arena + p->recs[i].owner;
		set->owner_len = p->recs[i].owner_len;
		set->type = p->recs[i].type;
		set->ttl = p->recs[i].ttl;
		set->rdata = &p->rdata[nrd];
		set->failover = CHANGE_FAILOVER_NONE;
		for (; j < p->nrecs && p->recs[j].type == set->type &&
		       (p->recs[j].owner == p->recs[i].owner ||
			name_cmp(arena + p->recs[j].owner, set->owner) == 0);
		     j++) {
			const struct text_record *r = &p->recs[j];
			const uint8_t *data = arena + r->data;
			bool dup = false;
			for (size_t k = 0; k < set->nrdata && !dup; k++)
				dup = set->rdata[k].len == r->len &&
				      memcmp(set->rdata[k].data, data,
					     r->len) == 0;
			if (dup)
				continue;
			if (set->nrdata == UINT16_MAX)
				return fail(err, errlen, Q53_EINVAL,
					    "InvalidInput: line %llu: more "
					    "than 65535 records in one set",
					    (unsigned long long)r->line);
			p->rdata[nrd].data = data;
			p->rdata[nrd].len = r->len;
			nrd++;
			set->nrdata++;
		}
		i = j;
	}
	return 0;
}

/* The message for a line libzscanner refused as of an unsupported type:
 * it reads a class it does not know (CH, HS) as a type. */
static void unsupported_type(const char *text, size_t len, uint64_t line,
			     char *why, size_t whylen)
{
	static const char *const CLASSES[] = {"CH",	"CHAOS", "HS",
					      "HESIOD", "NONE",	 "ANY"};
	const char *c = text, *end = text + len;
	for (uint64_t l = 1; l < line && c < end; l++) {
		const char *nl = memchr(c, '\n', (size_t)(end - c));
		c = nl != NULL ? nl + 1 : end;
	}
	const char *eol = memchr(c, '\n', (size_t)(end - c));
	if (eol == NULL)
		eol = end;
	while (c < eol) {
		while (c < eol && (*c == ' ' || *c == '\t'))
			c++;
		const char *t = c;
		while (c < eol && *c != ' ' && *c != '\t')
			c++;
		size_t n = (size_t)(c - t);
		if (n == 0 || *t == ';')
			break;
		bool cls = n > 5 && strncasecmp(t, "CLASS", 5) == 0 &&
			   strspn(t + 5, "0123456789") == n - 5;
		for (size_t k = 0;
		     !cls && k < sizeof(CLASSES) / sizeof(*CLASSES); k++)
			cls = strlen(CLASSES[k]) == n &&
			      strncasecmp(t, CLASSES[k], n) == 0;
		if (cls) {
			snprintf(why, whylen,
				 "class %.*s is not supported: a hosted zone "
				 "holds class IN records only",
				 (int)(n > 16 ? 16 : n), t);
			return;
		}
	}
	snprintf(why, whylen,
		 "the record's type is unknown or not one a hosted zone "
		 "holds (A, AAAA, CAA, CNAME, DS, HTTPS, MX, NAPTR, NS, PTR, "
		 "SOA, SPF, SRV, SSHFP, SVCB, TLSA, TXT)");
}

/* TXT and SPF lines whose character strings libzscanner would split
 * (more than 255 bytes): Route 53 refuses them. One pass over the text;
 * a record continued over lines with "(" is not looked into. Returns 0,
 * Q53_EINVAL with "InvalidInput: line N: ..." in err, or Q53_ENOMEM. */
static int long_strings(const char *text, size_t len, char *err, size_t errlen)
{
	const char *c = text, *end = text + len;
	for (unsigned long long line = 1; c < end; line++) {
		const char *eol = memchr(c, '\n', (size_t)(end - c));
		if (eol == NULL)
			eol = end;
		/* the type token, outside quotes and before a comment */
		const char *t = c, *rest = NULL;
		uint16_t type = 0;
		while (t < eol && rest == NULL) {
			while (t < eol && (*t == ' ' || *t == '\t'))
				t++;
			const char *w = t;
			while (t < eol && *t != ' ' && *t != '\t')
				t++;
			size_t n = (size_t)(t - w);
			if (n == 0 || *w == ';' || *w == '"' || *w == '(')
				break;
			if (n == 3 && strncasecmp(w, "TXT", 3) == 0)
				type = 16, rest = t;
			else if (n == 3 && strncasecmp(w, "SPF", 3) == 0)
				type = 99, rest = t;
		}
		if (rest != NULL &&
		    memchr(rest, '(', (size_t)(eol - rest)) == NULL) {
			size_t n = (size_t)(eol - rest);
			char *v = malloc(n + 1);
			if (v == NULL)
				return Q53_ENOMEM;
			memcpy(v, rest, n);
			v[n] = '\0';
			/* a comment after the value: cut outside quotes */
			bool q = false;
			for (char *k = v; *k != '\0'; k++) {
				if (*k == '\\' && k[1] != '\0')
					k++;
				else if (*k == '"')
					q = !q;
				else if (*k == ';' && !q) {
					*k = '\0';
					break;
				}
			}
			char why[512];
			int rc =
			    rdata_policy_check_text(type, v, why, sizeof(why));
			free(v);
			if (rc != 0 && strstr(why, "CharacterStringTooLong")) {
				snprintf(err, errlen,
					 "InvalidInput: line %llu: Invalid "
					 "Resource Record: '%s'",
					 line, why);
				return Q53_EINVAL;
			}
		}
		c = eol + 1;
	}
	return 0;
}

static int parse(const struct zone_store_info *zone, const char *text,
		 size_t len, bool strict, struct zone_text_sets *out, char *err,
		 size_t errlen)
{
	char why[256];
	size_t cap = 0;
	int rc;

	err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (strict && (rc = long_strings(text, len, err, errlen)) != 0)
		return rc;
	struct text_priv *p = calloc(1, sizeof(*p));
	zs_scanner_t *sc = malloc(sizeof(*sc));
	if (p == NULL || sc == NULL) {
		free(p);
		free(sc);
		return Q53_ENOMEM;
	}
	/* Room for every line as a record and twice the text as names and
	 * data, reserved once: growing by doubling copied (and touched) a
	 * large file's records and arena again and again. Room never
	 * written costs no memory. */
	size_t lines = 1;
	for (const char *c = text, *end = text + len;
	     (c = memchr(c, '\n', (size_t)(end - c))) != NULL; c++)
		lines++;
	if (len > 0 && lines < SIZE_MAX / sizeof(*p->recs) &&
	    len < ARENA_MAX / 2) {
		p->recs = malloc(lines * sizeof(*p->recs));
		p->arena = malloc(2 * len + 4096);
		if (p->recs != NULL)
			cap = lines;
		if (p->arena != NULL)
			p->arena_cap = 2 * len + 4096;
	}
	if (zs_init(sc, zone->name, RRCLASS_IN, 3600) != 0 ||
	    zs_set_input_string(sc, text, len) != 0) {
		rc = fail(err, errlen, Q53_EINVAL, "InvalidInput: %s",
			  zs_strerror(sc->error.code));
		goto err_after_scanner;
	}
	for (;;) {
		int prc = zs_parse_record(sc);
		if (sc->state == ZS_STATE_DATA) {
			rc = import_record(zone, p, &cap, sc, strict, why,
					   sizeof(why));
			if (rc == Q53_ENOMEM)
				goto err_after_scanner;
			if (rc != 0) {
				rc = fail(err, errlen, Q53_EINVAL,
					  "InvalidInput: line %llu: %s",
					  (unsigned long long)sc->line_counter,
					  why);
				goto err_after_scanner;
			}
		} else if ((sc->state == ZS_STATE_ERROR || prc != 0) &&
			   sc->error.code == ZS_UNSUPPORTED_TYPE) {
			unsupported_type(text, len, sc->line_counter, why,
					 sizeof(why));
			rc = fail(err, errlen, Q53_EINVAL,
				  "InvalidInput: line %llu: %s",
				  (unsigned long long)sc->line_counter, why);
			goto err_after_scanner;
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
	zs_deinit(sc);
	free(sc);
	sc = NULL;
	rc = p->nrecs > 0 ? sort_records(p, zone->origin) : 0;
	if (rc == 0)
		rc = group_records(p, out, err, errlen);
	if (rc != 0)
		goto err_after_scanner;
	out->priv = p;
	return 0;

err_after_scanner:
	if (sc != NULL) {
		zs_deinit(sc);
		free(sc);
	}
	free(out->sets);
	memset(out, 0, sizeof(*out));
	text_priv_free(p);
	return rc;
}

int zone_text_parse(const struct zone_store_info *zone, const char *text,
		    size_t len, struct zone_text_sets *out, char *err,
		    size_t errlen)
{
	return parse(zone, text, len, false, out, err, errlen);
}

int zone_text_parse_request(const struct zone_store_info *zone,
			    const char *text, size_t len,
			    struct zone_text_sets *out, char *err,
			    size_t errlen)
{
	return parse(zone, text, len, true, out, err, errlen);
}

int zone_text_import(struct zone_store *s, const char *id, const char *text,
		     size_t len, char *err, size_t errlen)
{
	struct zone_store_info info;
	struct zone_text_sets sets;
	int rc;

	err[0] = '\0';
	if (zone_store_get(s, id, &info) != 0)
		return no_such_zone(id, err, errlen);
	rc = zone_text_parse(&info, text, len, &sets, err, errlen);
	if (rc != 0)
		return rc;
	rc = zone_store_replace(s, id, sets.sets, sets.n, err, errlen);
	zone_text_sets_free(&sets);
	return rc;
}
