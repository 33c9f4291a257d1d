/* The replicated latency table (see latency_table.h). */
#include "node/control/latency_table.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "proto/command.pb-c.h"

/* Route 53's ResourceRecordSetRegion (botocore route53 2013-04-01). */
static const char *const REGIONS[] = {
    "af-south-1",     "ap-east-1",	"ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-south-1",	"ap-south-2",	  "ap-southeast-1",
    "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ca-central-1",
    "ca-west-1",      "cn-north-1",	"cn-northwest-1", "eu-central-1",
    "eu-central-2",   "eu-north-1",	"eu-south-1",	  "eu-south-2",
    "eu-west-1",      "eu-west-2",	"eu-west-3",	  "il-central-1",
    "me-central-1",   "me-south-1",	"sa-east-1",	  "us-east-1",
    "us-east-2",      "us-west-1",	"us-west-2",
};

bool latency_region_known(const char *region)
{
	for (size_t i = 0; i < sizeof(REGIONS) / sizeof(REGIONS[0]); i++)
		if (strcmp(REGIONS[i], region) == 0)
			return true;
	return false;
}

bool latency_name_valid(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > LATENCY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	return true;
}

void latency_table_init(struct latency_table *t)
{
	memset(t, 0, sizeof(*t));
}

void latency_table_free(struct latency_table *t)
{
	free(t->rows);
	free(t->sites);
	memset(t, 0, sizeof(*t));
}

bool latency_table_empty(const struct latency_table *t)
{
	return t->nrows == 0 && t->nsites == 0;
}

static size_t addr_bytes(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

/* Whether the first bits bits of a are zero-padded correctly past bits. */
static bool masked(const uint8_t *a, size_t len, unsigned bits)
{
	for (size_t i = 0; i < len; i++) {
		unsigned lo = (unsigned)i * 8;
		uint8_t keep = bits >= lo + 8 ? 0xFF
			       : bits <= lo
				   ? 0
				   : (uint8_t)(0xFF << (8 - (bits - lo)));
		if (a[i] & (uint8_t)~keep)
			return false;
	}
	return true;
}

bool latency_cidr_parse(const char *s, struct latency_row *r)
{
	char buf[64];
	const char *slash = s != NULL ? strchr(s, '/') : NULL;
	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		return false;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	const char *p = slash + 1;
	if (*p < '0' || *p > '9' || strlen(p) > 3)
		return false;
	unsigned bits = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		bits = bits * 10 + (unsigned)(*p - '0');
	if (*p != '\0')
		return false;
	memset(r->addr, 0, sizeof(r->addr));
	if (inet_pton(AF_INET, buf, r->addr) == 1)
		r->family = 4;
	else if (inet_pton(AF_INET6, buf, r->addr) == 1)
		r->family = 6;
	else
		return false;
	if (bits > (r->family == 4 ? 32u : 128u) ||
	    !masked(r->addr, addr_bytes(r->family), bits))
		return false;
	r->prefix_len = (uint8_t)bits;
	return true;
}

void latency_cidr_format(const struct latency_row *r, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->addr, a, sizeof(a));
	snprintf(out, outlen, "%s/%u", a, r->prefix_len);
}

static int rtt_cmp(const void *a, const void *b)
{
	return strcmp(((const struct latency_rtt *)a)->region,
		      ((const struct latency_rtt *)b)->region);
}

/* Checks rtt[0..n) and sorts it by region. */
static int rtts_check(struct latency_rtt *rtt, size_t n, char *why,
		      size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		if (!latency_name_valid(rtt[i].region)) {
			snprintf(why, whylen,
				 "region '%.40s' is not a region name "
				 "([a-z0-9-], 1 to %d characters)",
				 rtt[i].region, LATENCY_NAME_MAX);
			return -1;
		}
		if (rtt[i].rtt_ms > LATENCY_RTT_MAX) {
			snprintf(why, whylen,
				 "RTT %u ms of region %s is out of range (0 "
				 "to %u)",
				 rtt[i].rtt_ms, rtt[i].region, LATENCY_RTT_MAX);
			return -1;
		}
	}
	qsort(rtt, n, sizeof(*rtt), rtt_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(rtt[i - 1].region, rtt[i].region) == 0) {
			snprintf(why, whylen, "region %s is given twice",
				 rtt[i].region);
			return -1;
		}
	}
	return 0;
}

int latency_row_check(struct latency_row *r, char *why, size_t whylen)
{
	if ((r->family != 4 && r->family != 6) ||
	    r->prefix_len > (r->family == 4 ? 32 : 128) ||
	    !masked(r->addr, addr_bytes(r->family), r->prefix_len)) {
		snprintf(why, whylen,
			 "the client network is not a CIDR block with its "
			 "host bits zero");
		return -1;
	}
	if (r->family == 4)
		memset(r->addr + 4, 0, 12);
	if (r->n > LATENCY_ROW_REGIONS) {
		snprintf(why, whylen, "more than %d regions in one row",
			 LATENCY_ROW_REGIONS);
		return -1;
	}
	return rtts_check(r->rtt, r->n, why, whylen);
}

static int row_key_cmp(const struct latency_row *a, const struct latency_row *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->addr, b->addr, 16);
	if (c != 0)
		return c;
	return a->prefix_len < b->prefix_len   ? -1
	       : a->prefix_len > b->prefix_len ? 1
					       : 0;
}

/* The first row not below r's key. */
static size_t row_lower_bound(const struct latency_table *t,
			      const struct latency_row *r)
{
	size_t lo = 0, hi = t->nrows;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (row_key_cmp(&t->rows[mid], r) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int latency_table_set(struct latency_table *t, const struct latency_row *r)
{
	size_t i = row_lower_bound(t, r);
	if (i < t->nrows && row_key_cmp(&t->rows[i], r) == 0) {
		t->rows[i] = *r;
		return 0;
	}
	if (t->nrows >= LATENCY_ROWS_MAX)
		return Q53_EINVAL;
	if (t->nrows == t->cap_rows) {
		size_t cap = t->cap_rows < 8 ? 8 : t->cap_rows * 2;
		struct latency_row *g = realloc(t->rows, cap * sizeof(*g));
		if (g == NULL)
			return Q53_ENOMEM;
		t->rows = g;
		t->cap_rows = cap;
	}
	memmove(&t->rows[i + 1], &t->rows[i],
		(t->nrows - i) * sizeof(*t->rows));
	t->rows[i] = *r;
	t->nrows++;
	return 0;
}

int latency_table_delete(struct latency_table *t, const struct latency_row *r)
{
	size_t i = row_lower_bound(t, r);
	if (i == t->nrows || row_key_cmp(&t->rows[i], r) != 0)
		return Q53_ENOENT;
	memmove(&t->rows[i], &t->rows[i + 1],
		(t->nrows - i - 1) * sizeof(*t->rows));
	t->nrows--;
	return 0;
}

void latency_table_clear_rows(struct latency_table *t)
{
	t->nrows = 0;
}

/* Whether the first bits bits of a and b agree. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	size_t full = bits / 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (bits % 8 == 0)
		return true;
	uint8_t m = (uint8_t)(0xFF << (8 - bits % 8));
	return (a[full] & m) == (b[full] & m);
}

const struct latency_row *latency_table_lookup(const struct latency_table *t,
					       uint8_t family,
					       const uint8_t *addr,
					       unsigned bits)
{
	const struct latency_row *best = NULL;
	for (size_t i = 0; i < t->nrows; i++) {
		const struct latency_row *r = &t->rows[i];
		if (r->family != family || r->prefix_len > bits ||
		    (best != NULL && r->prefix_len <= best->prefix_len))
			continue;
		if (prefix_eq(r->addr, addr, r->prefix_len))
			best = r;
	}
	return best;
}

static size_t site_lower_bound(const struct latency_table *t, const char *s)
{
	size_t lo = 0, hi = t->nsites;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(t->sites[mid].site, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct latency_site *latency_table_site(const struct latency_table *t,
					      const char *site)
{
	if (site == NULL || site[0] == '\0')
		return NULL;
	size_t i = site_lower_bound(t, site);
	return i < t->nsites && strcmp(t->sites[i].site, site) == 0
		   ? &t->sites[i]
		   : NULL;
}

int latency_table_sample(struct latency_table *t, const char *site,
			 uint64_t node_id, uint64_t time_ms,
			 const struct latency_rtt *rtt, size_t n)
{
	size_t i = site_lower_bound(t, site);
	if (i == t->nsites || strcmp(t->sites[i].site, site) != 0) {
		if (t->nsites >= LATENCY_SITES_MAX)
			return Q53_EINVAL;
		if (t->nsites == t->cap_sites) {
			size_t cap = t->cap_sites < 4 ? 4 : t->cap_sites * 2;
			struct latency_site *g =
			    realloc(t->sites, cap * sizeof(*g));
			if (g == NULL)
				return Q53_ENOMEM;
			t->sites = g;
			t->cap_sites = cap;
		}
		memmove(&t->sites[i + 1], &t->sites[i],
			(t->nsites - i) * sizeof(*t->sites));
		memset(&t->sites[i], 0, sizeof(t->sites[i]));
		snprintf(t->sites[i].site, sizeof(t->sites[i].site), "%s",
			 site);
		t->nsites++;
	}
	struct latency_site s = t->sites[i];
	for (size_t k = 0; k < n; k++) {
		size_t j = 0;
		while (j < s.n && strcmp(s.rtt[j].region, rtt[k].region) != 0)
			j++;
		if (j == s.n) {
			if (s.n >= LATENCY_ROW_REGIONS)
				return Q53_EINVAL;
			s.n++;
		}
		s.rtt[j] = rtt[k];
	}
	qsort(s.rtt, s.n, sizeof(s.rtt[0]), rtt_cmp);
	s.node_id = node_id;
	s.time_ms = time_ms;
	t->sites[i] = s;
	return 0;
}

bool latency_rtt_of(const struct latency_rtt *rtt, size_t n, const char *region,
		    uint32_t *out)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rtt[i].region, region) == 0) {
			*out = rtt[i].rtt_ms;
			return true;
		}
	}
	return false;
}

int latency_table_copy(struct latency_table *dst,
		       const struct latency_table *src)
{
	latency_table_init(dst);
	if (src->nrows > 0) {
		dst->rows = malloc(src->nrows * sizeof(*dst->rows));
		if (dst->rows == NULL)
			return Q53_ENOMEM;
		memcpy(dst->rows, src->rows, src->nrows * sizeof(*dst->rows));
		dst->nrows = dst->cap_rows = src->nrows;
	}
	if (src->nsites > 0) {
		dst->sites = malloc(src->nsites * sizeof(*dst->sites));
		if (dst->sites == NULL) {
			latency_table_free(dst);
			return Q53_ENOMEM;
		}
		memcpy(dst->sites, src->sites,
		       src->nsites * sizeof(*dst->sites));
		dst->nsites = dst->cap_sites = src->nsites;
	}
	return 0;
}

/* --- protobuf --- */

/* One raft_malloc block holding the message tree. */
struct pb_block {
	Q53__Command__LatencyTable table;
	Q53__Command__LatencyRow *rows;
	Q53__Command__LatencyRow **row_ptrs;
	Q53__Command__LatencySiteRow *sites;
	Q53__Command__LatencySiteRow **site_ptrs;
	Q53__Command__LatencyRtt *rtts;
	Q53__Command__LatencyRtt **rtt_ptrs;
};

static void rtts_to_pb(const struct latency_rtt *rtt, size_t n,
		       Q53__Command__LatencyRtt *pb,
		       Q53__Command__LatencyRtt **ptrs)
{
	for (size_t i = 0; i < n; i++) {
		q53__command__latency_rtt__init(&pb[i]);
		pb[i].region = (char *)rtt[i].region;
		pb[i].rtt_ms = rtt[i].rtt_ms;
		ptrs[i] = &pb[i];
	}
}

int latency_table_to_pb(const struct latency_table *t,
			Q53__Command__LatencyTable **out)
{
	size_t nr = 0;
	for (size_t i = 0; i < t->nrows; i++)
		nr += t->rows[i].n;
	for (size_t i = 0; i < t->nsites; i++)
		nr += t->sites[i].n;
	struct pb_block *b = raft_calloc(1, sizeof(*b));
	if (b == NULL)
		return Q53_ENOMEM;
	b->rows = raft_calloc(t->nrows + 1, sizeof(*b->rows));
	b->row_ptrs = raft_calloc(t->nrows + 1, sizeof(*b->row_ptrs));
	b->sites = raft_calloc(t->nsites + 1, sizeof(*b->sites));
	b->site_ptrs = raft_calloc(t->nsites + 1, sizeof(*b->site_ptrs));
	b->rtts = raft_calloc(nr + 1, sizeof(*b->rtts));
	b->rtt_ptrs = raft_calloc(nr + 1, sizeof(*b->rtt_ptrs));
	if (b->rows == NULL || b->row_ptrs == NULL || b->sites == NULL ||
	    b->site_ptrs == NULL || b->rtts == NULL || b->rtt_ptrs == NULL) {
		latency_table_pb_free(&b->table);
		return Q53_ENOMEM;
	}
	q53__command__latency_table__init(&b->table);
	size_t k = 0;
	for (size_t i = 0; i < t->nrows; i++) {
		const struct latency_row *r = &t->rows[i];
		Q53__Command__LatencyRow *m = &b->rows[i];
		q53__command__latency_row__init(m);
		m->family = r->family;
		m->addr.data = (uint8_t *)r->addr;
		m->addr.len = addr_bytes(r->family);
		m->prefix_len = r->prefix_len;
		rtts_to_pb(r->rtt, r->n, &b->rtts[k], &b->rtt_ptrs[k]);
		m->rtts = &b->rtt_ptrs[k];
		m->n_rtts = r->n;
		k += r->n;
		b->row_ptrs[i] = m;
	}
	for (size_t i = 0; i < t->nsites; i++) {
		const struct latency_site *s = &t->sites[i];
		Q53__Command__LatencySiteRow *m = &b->sites[i];
		q53__command__latency_site_row__init(m);
		m->site = (char *)s->site;
		m->node_id = s->node_id;
		m->time_ms = s->time_ms;
		rtts_to_pb(s->rtt, s->n, &b->rtts[k], &b->rtt_ptrs[k]);
		m->rtts = &b->rtt_ptrs[k];
		m->n_rtts = s->n;
		k += s->n;
		b->site_ptrs[i] = m;
	}
	b->table.rows = b->row_ptrs;
	b->table.n_rows = t->nrows;
	b->table.sites = b->site_ptrs;
	b->table.n_sites = t->nsites;
	*out = &b->table;
	return 0;
}

void latency_table_pb_free(Q53__Command__LatencyTable *m)
{
	if (m == NULL)
		return;
	struct pb_block *b = (struct pb_block *)m; /* table is first */
	raft_free(b->rows);
	raft_free(b->row_ptrs);
	raft_free(b->sites);
	raft_free(b->site_ptrs);
	raft_free(b->rtts);
	raft_free(b->rtt_ptrs);
	raft_free(b);
}

static int rtts_from_pb(Q53__Command__LatencyRtt *const *m, size_t n,
			struct latency_rtt *rtt, char *why, size_t whylen)
{
	if (n > LATENCY_ROW_REGIONS) {
		snprintf(why, whylen, "more than %d regions in one row",
			 LATENCY_ROW_REGIONS);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *reg = m[i]->region != NULL ? m[i]->region : "";
		if (strlen(reg) > LATENCY_NAME_MAX) {
			snprintf(why, whylen, "region name too long");
			return -1;
		}
		snprintf(rtt[i].region, sizeof(rtt[i].region), "%s", reg);
		rtt[i].rtt_ms = m[i]->rtt_ms;
	}
	return 0;
}

int latency_row_from_pb(const Q53__Command__LatencyRow *m,
			struct latency_row *r, char *why, size_t whylen)
{
	memset(r, 0, sizeof(*r));
	if ((m->family != 4 && m->family != 6) ||
	    m->addr.len != addr_bytes((uint8_t)m->family) ||
	    m->prefix_len > 128) {
		snprintf(why, whylen,
			 "the client network is not a CIDR block with its "
			 "host bits zero");
		return -1;
	}
	r->family = (uint8_t)m->family;
	memcpy(r->addr, m->addr.data, m->addr.len);
	r->prefix_len = (uint8_t)m->prefix_len;
	if (rtts_from_pb(m->rtts, m->n_rtts, r->rtt, why, whylen) != 0)
		return -1;
	r->n = (uint8_t)m->n_rtts;
	return latency_row_check(r, why, whylen);
}

int latency_table_from_pb(const Q53__Command__LatencyTable *m,
			  struct latency_table *t)
{
	char why[160];
	struct latency_row r;
	latency_table_init(t);
	if (m == NULL)
		return 0;
	for (size_t i = 0; i < m->n_rows; i++) {
		int rc = latency_row_from_pb(m->rows[i], &r, why, sizeof(why))
			     ? Q53_EMALF
			     : latency_table_set(t, &r);
		if (rc != 0) {
			latency_table_free(t);
			return rc == Q53_ENOMEM ? rc : Q53_EMALF;
		}
	}
	for (size_t i = 0; i < m->n_sites; i++) {
		const Q53__Command__LatencySiteRow *s = m->sites[i];
		struct latency_rtt rtt[LATENCY_ROW_REGIONS];
		int rc = Q53_EMALF;
		if (latency_name_valid(s->site) &&
		    rtts_from_pb(s->rtts, s->n_rtts, rtt, why, sizeof(why)) ==
			0 &&
		    rtts_check(rtt, s->n_rtts, why, sizeof(why)) == 0)
			rc = latency_table_sample(t, s->site, s->node_id,
						  s->time_ms, rtt, s->n_rtts);
		if (rc != 0) {
			latency_table_free(t);
			return rc == Q53_ENOMEM ? rc : Q53_EMALF;
		}
	}
	return 0;
}

int latency_rtts_check(struct latency_rtt *rtt, size_t n, char *why,
		       size_t whylen)
{
	return rtts_check(rtt, n, why, whylen);
}
