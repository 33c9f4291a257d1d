/* MaxMind DB lookups for geolocation routing (geo.h). */
#include "node/geo/geo.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/geo_codes.h"
#include "node/zone/prefix.h"

struct geo_alias {
	uint8_t addr[16];
	uint8_t len; /* the IPv4 subtree starts after len bits */
};

static void table_build(struct geo_db *db);

struct geo_db {
	MMDB_s mmdb;
	char sha256[65];
	/* The precomputed table (geo_table_build), or none (table NULL:
	 * every lookup goes to libmaxminddb). */
	void *table; /* prefix.h blob: value (1 + place) << 1 | parity */
	struct geo_place *places;
	size_t nplaces;
	/* IPv6 networks whose subtree is the IPv4 one (::/96 and the
	 * aliases MaxMind writes, ::ffff:0:0/96, 2002::/16): looked up in
	 * the IPv4 table with the 32 bits that follow. */
	struct geo_alias alias[GEO_MAX_ALIASES];
	size_t nalias;
	bool ipv6_tree;
};

static int file_sha256(const char *path, char out[65])
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char buf[65536], md[32];
	unsigned mdlen = 0;
	int rc =
	    c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 ? 0 : -1;
	size_t n;
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		rc = EVP_DigestUpdate(c, buf, n) == 1 ? 0 : -1;
	if (rc == 0 && (ferror(f) || EVP_DigestFinal_ex(c, md, &mdlen) != 1))
		rc = -1;
	EVP_MD_CTX_free(c);
	fclose(f);
	for (unsigned i = 0; rc == 0 && i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return rc;
}

int geo_open(const char *path, struct geo_db **out, char *err, size_t errlen)
{
	struct geo_db *db = calloc(1, sizeof(*db));
	*out = NULL;
	if (db == NULL)
		return Q53_ENOMEM;
	int s = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (s != MMDB_SUCCESS) {
		snprintf(err, errlen, "--geoip '%s': %s", path,
			 MMDB_strerror(s));
		free(db);
		return Q53_EINVAL;
	}
	if (file_sha256(path, db->sha256) != 0) {
		snprintf(err, errlen, "--geoip '%s': cannot read it", path);
		MMDB_close(&db->mmdb);
		free(db);
		return Q53_EINVAL;
	}
	table_build(db);
	*out = db;
	return 0;
}

void geo_close(struct geo_db *db)
{
	if (db == NULL)
		return;
	free(db->table);
	free(db->places);
	MMDB_close(&db->mmdb);
	free(db);
}

const char *geo_sha256(const struct geo_db *db)
{
	return db->sha256;
}

/* The string at path of entry e, or NULL. */
static const char *entry_str(MMDB_entry_s *e, size_t *len, const char *a,
			     const char *b, const char *c)
{
	MMDB_entry_data_s d;
	const char *path[] = {a, b, c, NULL};
	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return NULL;
	*len = d.data_size;
	return d.utf8_string;
}

/* The number at location.<key> of entry e (GeoIP2-City: a double). */
static bool entry_coord(MMDB_entry_s *e, const char *key, double *out)
{
	MMDB_entry_data_s d;
	const char *path[] = {"location", key, NULL};
	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data)
		return false;
	if (d.type == MMDB_DATA_TYPE_DOUBLE)
		*out = d.double_value;
	else if (d.type == MMDB_DATA_TYPE_FLOAT)
		*out = d.float_value;
	else
		return false;
	return true;
}

/* What the query path needs of entry e: its location code and, when the
 * entry has location.latitude and location.longitude in range, its
 * coordinates. */
static void place_of(MMDB_entry_s *e, struct geo_place *p)
{
	size_t cl = 0, ccl = 0, sl = 0;
	const char *cont = entry_str(e, &cl, "continent", "code", NULL);
	const char *cc = entry_str(e, &ccl, "country", "iso_code", NULL);
	const char *sub = entry_str(e, &sl, "subdivisions", "0", "iso_code");
	memset(p, 0, sizeof(*p));
	p->loc = geo_location_of(cont, cl, cc, ccl, sub, sl);
	double lat, lon;
	if (entry_coord(e, "latitude", &lat) &&
	    entry_coord(e, "longitude", &lon) && lat >= -90 && lat <= 90 &&
	    lon >= -180 && lon <= 180)
		zone_geo_point_set(&p->point, lat, lon);
}

/* ---- The precomputed table: every network of the search tree ---- */

/* Networks of the tree a table holds at most (GeoLite2-City has a few
 * million); past it the file is looked up per query. */
#define GEO_TABLE_MAX_NETS (1u << 25)

struct geo_walk {
	const MMDB_s *m;
	struct geo_db *db;
	uint32_t v4start; /* IPv6 trees: the IPv4 subtree's node */
	bool v4alias;	  /* v4start is a search node at depth 96 */
	struct prefix_entry *nets;
	size_t nnets, capnets;
	/* entry offset -> 1 + place index, open addressing */
	uint32_t *hkey, *hval;
	size_t hcap, nplaces_cap;
	int err; /* 0, or why the walk stopped */
};

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	return x ^ (x >> 16);
}

static int place_grow(struct geo_walk *w)
{
	size_t cap = w->hcap ? w->hcap * 2 : 1024;
	uint32_t *k = calloc(cap, sizeof(*k)), *v = calloc(cap, sizeof(*v));
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return Q53_ENOMEM;
	}
	for (size_t i = 0; i < w->hcap; i++) {
		if (w->hval[i] == 0)
			continue;
		size_t j = hash32(w->hkey[i]) & (cap - 1);
		while (v[j] != 0)
			j = (j + 1) & (cap - 1);
		k[j] = w->hkey[i];
		v[j] = w->hval[i];
	}
	free(w->hkey);
	free(w->hval);
	w->hkey = k;
	w->hval = v;
	w->hcap = cap;
	return 0;
}

/* 1 + the index of entry e's place, added on first sight; 0 on error. */
static uint32_t place_index(struct geo_walk *w, MMDB_entry_s *e)
{
	struct geo_db *db = w->db;
	if ((db->nplaces + 1) * 2 > w->hcap && place_grow(w) != 0)
		return 0;
	size_t j = hash32(e->offset) & (w->hcap - 1);
	while (w->hval[j] != 0) {
		if (w->hkey[j] == e->offset)
			return w->hval[j];
		j = (j + 1) & (w->hcap - 1);
	}
	if (db->nplaces == w->nplaces_cap) {
		size_t cap = w->nplaces_cap ? w->nplaces_cap * 2 : 256;
		struct geo_place *p =
		    realloc(db->places, cap * sizeof(*db->places));
		if (p == NULL)
			return 0;
		db->places = p;
		w->nplaces_cap = cap;
	}
	place_of(e, &db->places[db->nplaces]);
	w->hkey[j] = e->offset;
	w->hval[j] = (uint32_t)++db->nplaces;
	return w->hval[j];
}

static void set_bit(uint8_t *addr, unsigned bit, unsigned v)
{
	uint8_t m = (uint8_t)(0x80u >> (bit & 7));
	addr[bit / 8] = (uint8_t)(v ? addr[bit / 8] | m : addr[bit / 8] & ~m);
}

/* Network addr/len of the tree with place value (0: empty, else 1 +
 * the place's index). The table's value also carries the network's last
 * bit: two neighbouring networks of one size differ in it, so the table
 * never merges two networks of the tree into one aligned block, and its
 * ECS scope is the network's prefix length, libmaxminddb's netmask. */
static void add_net(struct geo_walk *w, int family, const uint8_t *addr,
		    unsigned len, uint32_t value)
{
	if (w->err != 0)
		return;
	if (w->nnets == GEO_TABLE_MAX_NETS) {
		w->err = Q53_EINVAL;
		return;
	}
	if (w->nnets == w->capnets) {
		size_t cap = w->capnets ? w->capnets * 2 : 1024;
		struct prefix_entry *n = realloc(w->nets, cap * sizeof(*n));
		if (n == NULL) {
			w->err = Q53_ENOMEM;
			return;
		}
		w->nets = n;
		w->capnets = cap;
	}
	struct prefix_entry *e = &w->nets[w->nnets++];
	unsigned parity =
	    len > 0 ? (addr[(len - 1) / 8] >> (7 - (len - 1) % 8)) & 1u : 0;
	e->family = (uint8_t)family;
	e->len = (uint8_t)len;
	memcpy(e->addr, addr, family == 4 ? 4 : 16);
	e->value = value << 1 | parity;
}

/* The networks below node (depth bits of addr set) into the builder:
 * every leaf, data or empty, so that the longest match of any address is
 * the leaf libmaxminddb's lookup ends at, with the same prefix length. */
static void walk(struct geo_walk *w, int family, uint32_t node, unsigned depth,
		 unsigned maxdepth, uint8_t *addr)
{
	MMDB_search_node_s sn;
	if (w->err != 0)
		return;
	if (depth >= maxdepth || MMDB_read_node(w->m, node, &sn) != 0) {
		w->err = Q53_EINVAL;
		return;
	}
	for (unsigned side = 0; side < 2 && w->err == 0; side++) {
		uint64_t rec = side ? sn.right_record : sn.left_record;
		uint8_t type =
		    side ? sn.right_record_type : sn.left_record_type;
		MMDB_entry_s *e =
		    side ? &sn.right_record_entry : &sn.left_record_entry;
		set_bit(addr, depth, side);
		switch (type) {
		case MMDB_RECORD_TYPE_SEARCH_NODE:
			if (family == 6 && w->v4alias && rec == w->v4start) {
				struct geo_db *db = w->db;
				if (db->nalias == GEO_MAX_ALIASES) {
					w->err = Q53_EINVAL;
					break;
				}
				struct geo_alias *a = &db->alias[db->nalias++];
				memcpy(a->addr, addr, 16);
				a->len = (uint8_t)(depth + 1);
				/* No table entry: the alias list answers. */
			} else {
				walk(w, family, (uint32_t)rec, depth + 1,
				     maxdepth, addr);
			}
			break;
		case MMDB_RECORD_TYPE_EMPTY:
			add_net(w, family, addr, depth + 1, 0);
			break;
		case MMDB_RECORD_TYPE_DATA: {
			uint32_t v = place_index(w, e);
			if (v == 0)
				w->err = Q53_ENOMEM;
			else
				add_net(w, family, addr, depth + 1, v);
			break;
		}
		default:
			w->err = Q53_EINVAL; /* corrupt: per query, as before */
		}
		set_bit(addr, depth, 0);
	}
}

/* Builds db's table; on any failure db keeps none (lookups per query). */
static void table_build(struct geo_db *db)
{
	const MMDB_s *m = &db->mmdb;
	struct geo_walk w = {.m = m, .db = db, .v4start = UINT32_MAX};
	uint8_t addr[16] = {0};
	unsigned d4 = 0;
	db->ipv6_tree = m->metadata.ip_version == 6;
	if (db->ipv6_tree) {
		/* The IPv4 subtree: 96 left records from the root, as
		 * libmaxminddb finds it. */
		MMDB_search_node_s sn;
		uint32_t node = 0;
		for (d4 = 0; d4 < 96 && w.err == 0; d4++) {
			if (MMDB_read_node(m, node, &sn) != 0) {
				w.err = Q53_EINVAL;
				break;
			}
			if (sn.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE)
				break;
			node = (uint32_t)sn.left_record;
		}
		if (w.err == 0 && d4 == 96) {
			w.v4start = node;
			w.v4alias = true;
			walk(&w, 4, node, 0, 32, addr);
		} else if (w.err == 0) {
			/* The whole IPv4 space is one leaf above ::/96:
			 * libmaxminddb's netmask < 96, ours 0. */
			uint32_t v = 0;
			if (sn.left_record_type == MMDB_RECORD_TYPE_DATA)
				v = place_index(&w, &sn.left_record_entry);
			else if (sn.left_record_type != MMDB_RECORD_TYPE_EMPTY)
				w.err = Q53_EINVAL;
			if (w.err == 0 &&
			    sn.left_record_type == MMDB_RECORD_TYPE_DATA &&
			    v == 0)
				w.err = Q53_ENOMEM;
			add_net(&w, 4, addr, 0, v);
		}
		memset(addr, 0, sizeof(addr));
		walk(&w, 6, 0, 0, 128, addr);
	} else if (w.err == 0) {
		walk(&w, 4, 0, 0, 32, addr);
	}
	size_t blen;
	if (w.err == 0)
		w.err = prefix_table_build(w.nets, w.nnets, &db->table, &blen);
	free(w.nets);
	free(w.hkey);
	free(w.hval);
	if (w.err != 0) {
		db->table = NULL;
		free(db->places);
		db->places = NULL;
		db->nplaces = 0;
		db->nalias = 0;
	}
}

size_t geo_table_size(const struct geo_db *db)
{
	return db->table != NULL ? db->nplaces + 1 : 0;
}

/* libmaxminddb's lookup (the table's reference): the place, or NULL. */
static bool mmdb_find(const struct geo_db *db, int family, const uint8_t *addr,
		      uint8_t *prefix, struct geo_place *out)
{
	struct sockaddr_storage ss;
	int mmerr = 0;
	*prefix = 0;
	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
	} else if (family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr, 16);
	} else {
		return false;
	}
	MMDB_lookup_result_s r = MMDB_lookup_sockaddr(
	    &db->mmdb, (const struct sockaddr *)&ss, &mmerr);
	if (mmerr != MMDB_SUCCESS)
		return false;
	/* An IPv4 address in an IPv6 tree: its netmask counts the 96 bits of
	 * the ::/96 prefix. */
	unsigned nm = r.netmask;
	if (family == 4 && db->mmdb.metadata.ip_version == 6)
		nm = nm >= 96 ? nm - 96 : 0;
	*prefix = (uint8_t)nm;
	if (!r.found_entry)
		return false;
	place_of(&r.entry, out);
	return true;
}

uint32_t geo_locate_mmdb(const struct geo_db *db, int family,
			 const uint8_t *addr, uint8_t *prefix,
			 struct zone_geo_point *point)
{
	struct geo_place p;
	if (!mmdb_find(db, family, addr, prefix, &p)) {
		if (point != NULL)
			memset(point, 0, sizeof(*point));
		return 0;
	}
	if (point != NULL)
		*point = p.point;
	return p.loc;
}

static bool alias_match(const struct geo_alias *a, const uint8_t *addr)
{
	unsigned full = a->len / 8u, rest = a->len & 7u;
	if (memcmp(a->addr, addr, full) != 0)
		return false;
	return rest == 0 ||
	       ((a->addr[full] ^ addr[full]) & (0xFF00u >> rest) & 0xFFu) == 0;
}

const struct geo_place *geo_find(const struct geo_db *db, int family,
				 const uint8_t *addr, uint8_t *prefix)
{
	uint8_t v4[4], plen = 0;
	uint32_t v;
	*prefix = 0;
	if (family == 6) {
		if (!db->ipv6_tree)
			return NULL;
		for (size_t i = 0; i < db->nalias; i++) {
			const struct geo_alias *a = &db->alias[i];
			if (!alias_match(a, addr))
				continue;
			/* The 32 bits after the alias's prefix. */
			unsigned s = a->len;
			for (unsigned b = 0; b < 4; b++) {
				unsigned bit = s + 8 * b, by = bit / 8,
					 sh = bit & 7;
				unsigned hi = by < 16 ? addr[by] : 0,
					 lo = by + 1 < 16 ? addr[by + 1] : 0;
				v4[b] = (uint8_t)((hi << sh | lo >> (8 - sh)) &
						  0xFF);
			}
			v = prefix_table_lookup(db->table, 4, v4, &plen) >> 1;
			*prefix = (uint8_t)(a->len + plen);
			return v != 0 && v <= db->nplaces ? &db->places[v - 1]
							  : NULL;
		}
	} else if (family != 4) {
		return NULL;
	}
	v = prefix_table_lookup(db->table, (uint8_t)family, addr, &plen) >> 1;
	*prefix = plen;
	return v != 0 && v <= db->nplaces ? &db->places[v - 1] : NULL;
}

uint32_t geo_locate(const struct geo_db *db, int family, const uint8_t *addr,
		    uint8_t *prefix)
{
	if (db->table == NULL)
		return geo_locate_mmdb(db, family, addr, prefix, NULL);
	const struct geo_place *p = geo_find(db, family, addr, prefix);
	return p != NULL ? p->loc : 0;
}
