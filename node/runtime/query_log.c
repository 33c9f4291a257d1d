#include "node/runtime/query_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "node/common/errcode.h"
#include "node/dns/dns_stats.h"
#include "node/dnsdata/dname.h"

#define QL_DRAIN_MS 10

struct ql_zone {
	uint8_t origin[255];
	uint8_t len;
	char id[64];
};

struct query_log {
	uv_timer_t timer;
	struct dns_stats *stats;
	FILE *f;
	char node[128]; /* JSON-escaped already */
	struct ql_zone *zones;
	size_t n_zones;
	size_t last; /* the last zone matched */
	uint64_t lines;
	/* the timestamp's seconds part, formatted once per second */
	time_t stamp_sec;
	char stamp[32];
};

static const char *ql_rcode(uint8_t rc)
{
	static const char *const names[] = {
	    "NOERROR",	"FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
	    "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE",
	};
	if (rc < sizeof(names) / sizeof(names[0]))
		return names[rc];
	return rc == 16 ? "BADVERS" : "RCODE";
}

static const char *ql_qtype(uint16_t t, char *out, size_t len)
{
	static const struct {
		uint16_t t;
		const char *n;
	} names[] = {{1, "A"},	     {2, "NS"},	    {5, "CNAME"},  {6, "SOA"},
		     {12, "PTR"},    {15, "MX"},    {16, "TXT"},   {28, "AAAA"},
		     {33, "SRV"},    {35, "NAPTR"}, {39, "DNAME"}, {43, "DS"},
		     {48, "DNSKEY"}, {64, "SVCB"},  {65, "HTTPS"}, {99, "SPF"},
		     {255, "ANY"},   {257, "CAA"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == t)
			return names[i].n;
	snprintf(out, len, "TYPE%u", t);
	return out;
}

/* s as JSON string content (no quotes) into out. */
static void ql_json(char *out, size_t len, const char *s)
{
	size_t o = 0;
	for (; *s != '\0' && o + 7 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, len - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static const struct ql_zone *ql_zone_of(struct query_log *l,
					const struct query_log_rec *r)
{
	uint8_t z[255];
	if (r->zone_len == 0 || r->zone_len > r->qname_len)
		return NULL;
	dname_lower_copy(z, r->qname + r->qname_len - r->zone_len, r->zone_len);
	if (l->last < l->n_zones && l->zones[l->last].len == r->zone_len &&
	    memcmp(l->zones[l->last].origin, z, r->zone_len) == 0)
		return &l->zones[l->last];
	for (size_t i = 0; i < l->n_zones; i++)
		if (l->zones[i].len == r->zone_len &&
		    memcmp(l->zones[i].origin, z, r->zone_len) == 0) {
			l->last = i;
			return &l->zones[i];
		}
	return NULL;
}

static char *ql_put(char *o, const char *s)
{
	size_t n = strlen(s);
	memcpy(o, s, n);
	return o + n;
}

static char *ql_u8(char *o, unsigned v)
{
	if (v >= 100)
		*o++ = (char)('0' + v / 100);
	if (v >= 10)
		*o++ = (char)('0' + v / 10 % 10);
	*o++ = (char)('0' + v % 10);
	return o;
}

/* The query name in presentation form without the final dot, as JSON
 * string content: letters, digits, '-', '_' and '*' as they are, every
 * other byte as \DDD (RFC 1035 5.1; the backslash escaped for JSON). At
 * most 255 * 5 bytes. */
static char *ql_qname(char *o, const uint8_t *w, size_t len)
{
	size_t i = 0;
	bool first = true;

	while (i < len && w[i] != 0) {
		unsigned l = w[i++];
		if (!first)
			*o++ = '.';
		first = false;
		for (unsigned k = 0; k < l && i < len; k++, i++) {
			unsigned char c = w[i];
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			    c == '*') {
				*o++ = (char)c;
			} else {
				*o++ = '\\';
				*o++ = '\\';
				*o++ = (char)('0' + c / 100);
				*o++ = (char)('0' + c / 10 % 10);
				*o++ = (char)('0' + c % 10);
			}
		}
	}
	if (first)
		*o++ = '.';
	return o;
}

static char *ql_ip(char *o, int family, const uint8_t *a)
{
	if (family == 4) {
		for (int i = 0; i < 4; i++) {
			if (i > 0)
				*o++ = '.';
			o = ql_u8(o, a[i]);
		}
		return o;
	}
	char t[INET6_ADDRSTRLEN];
	if (family == 6 && inet_ntop(AF_INET6, a, t, sizeof(t)) != NULL)
		return ql_put(o, t);
	return ql_put(o, "-");
}

/* One JSON line, built by hand (the loop formats every logged query). */
static void ql_line(void *ctx, const struct query_log_rec *r)
{
	struct query_log *l = ctx;
	const struct ql_zone *z = ql_zone_of(l, r);
	char line[2560], type[16];
	char *o = line;

	if (z == NULL || l->f == NULL)
		return;
	time_t sec = (time_t)(r->time_ns / 1000000000u);
	unsigned ms = (unsigned)(r->time_ns % 1000000000u / 1000000u);
	if (sec != l->stamp_sec) {
		struct tm tm;
		gmtime_r(&sec, &tm);
		strftime(l->stamp, sizeof(l->stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		l->stamp_sec = sec;
	}
	o = ql_put(o, "{\"version\":\"1.0\",\"query_timestamp\":\"");
	o = ql_put(o, l->stamp);
	*o++ = '.';
	*o++ = (char)('0' + ms / 100);
	*o++ = (char)('0' + ms / 10 % 10);
	*o++ = (char)('0' + ms % 10);
	o = ql_put(o, "Z\",\"hosted_zone_id\":\"");
	o = ql_put(o, z->id);
	o = ql_put(o, "\",\"query_name\":\"");
	o = ql_qname(o, r->qname, r->qname_len);
	o = ql_put(o, "\",\"query_type\":\"");
	o = ql_put(o, ql_qtype(r->qtype, type, sizeof(type)));
	o = ql_put(o, "\",\"response_code\":\"");
	o = ql_put(o, ql_rcode(r->rcode));
	o = ql_put(o, r->tcp ? "\",\"protocol\":\"TCP\",\"edge_location\":\""
			     : "\",\"protocol\":\"UDP\",\"edge_location\":\"");
	o = ql_put(o, l->node);
	o = ql_put(o, "\",\"resolver_ip\":\"");
	o = ql_ip(o, r->client_family, r->client);
	o = ql_put(o, "\",\"edns_client_subnet\":\"");
	if (r->ecs_family == 1 || r->ecs_family == 2) {
		o = ql_ip(o, r->ecs_family == 1 ? 4 : 6, r->ecs_addr);
		*o++ = '/';
		o = ql_u8(o, r->ecs_source);
	} else {
		*o++ = '-';
	}
	o = ql_put(o, "\"}\n");
	fwrite(line, 1, (size_t)(o - line), l->f);
	l->lines++;
}

static void ql_drain(struct query_log *l)
{
	size_t n = 0;
	for (size_t i = 0; i < dns_stats_nshards(l->stats); i++)
		n += query_log_ring_drain(&dns_stats_shard(l->stats, i)->qlog,
					  ql_line, l);
	if (n > 0 && l->f != NULL)
		fflush(l->f);
}

static void ql_on_timer(uv_timer_t *t)
{
	ql_drain(t->data);
}

int query_log_start(struct query_log **out, uv_loop_t *loop,
		    const struct query_log_config *c, char *err, size_t errlen)
{
	struct query_log *l = calloc(1, sizeof(*l));
	char path[4096];

	*out = NULL;
	if (l == NULL)
		return q53_fail(err, errlen, Q53_ENOMEM, "out of memory");
	l->stats = c->stats;
	l->stamp_sec = (time_t)-1;
	query_log_set_node_name(l, c->node_name != NULL ? c->node_name : "");
	if (mkdir(c->dir, 0750) != 0 && errno != EEXIST) {
		int e = errno;
		free(l);
		return q53_fail(err, errlen, Q53_EINVAL,
				"--query-log-dir %s: %s", c->dir, strerror(e));
	}
	snprintf(path, sizeof(path), "%s/queries.log", c->dir);
	l->f = fopen(path, "a");
	if (l->f == NULL) {
		int e = errno;
		free(l);
		return q53_fail(err, errlen, Q53_EINVAL,
				"--query-log-dir: %s: %s", path, strerror(e));
	}
	setvbuf(l->f, NULL, _IOFBF, 1 << 16);
	uv_timer_init(loop, &l->timer);
	l->timer.data = l;
	unsigned ms = c->drain_ms ? c->drain_ms : QL_DRAIN_MS;
	uv_timer_start(&l->timer, ql_on_timer, ms, ms);
	/* The node's own handles decide when the loop ends; the last
	 * records are drained by query_log_close after. */
	uv_unref((uv_handle_t *)&l->timer);
	*out = l;
	return 0;
}

void query_log_set_node_name(struct query_log *l, const char *name)
{
	ql_json(l->node, sizeof(l->node), name);
}

int query_log_set_zones(struct query_log *l, const struct query_log_zone *z,
			size_t n)
{
	struct ql_zone *zs = n ? calloc(n, sizeof(*zs)) : NULL;
	const uint8_t **origins = calloc(n + 1, sizeof(*origins));
	size_t *lens = calloc(n + 1, sizeof(*lens));
	if ((n > 0 && zs == NULL) || origins == NULL || lens == NULL) {
		free(zs);
		free(origins);
		free(lens);
		return Q53_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		origins[i] = z[i].origin;
		lens[i] = z[i].origin_len;
	}
	/* The workers push only these zones' queries from now on. */
	int rv = dns_stats_set_logged_zones(origins, lens, n);
	free(origins);
	free(lens);
	if (rv != 0) {
		free(zs);
		return rv;
	}
	/* Records pushed for the old set are written by the old set. */
	ql_drain(l);
	for (size_t i = 0; i < n; i++) {
		size_t len = z[i].origin_len < 255 ? z[i].origin_len : 255;
		dname_lower_copy(zs[i].origin, z[i].origin, len);
		zs[i].len = (uint8_t)len;
		ql_json(zs[i].id, sizeof(zs[i].id), z[i].zone_id);
	}
	free(l->zones);
	l->zones = zs;
	l->n_zones = n;
	l->last = 0;
	for (size_t i = 0; i < dns_stats_nshards(l->stats); i++)
		atomic_store_explicit(
		    &dns_stats_shard(l->stats, i)->qlog.enabled, n > 0,
		    memory_order_relaxed);
	return 0;
}

uint64_t query_log_lines(const struct query_log *l)
{
	return l->lines;
}

static void ql_closed(uv_handle_t *h)
{
	struct query_log *l = h->data;
	free(l->zones);
	free(l);
}

void query_log_close(struct query_log *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < dns_stats_nshards(l->stats); i++)
		atomic_store_explicit(
		    &dns_stats_shard(l->stats, i)->qlog.enabled, false,
		    memory_order_relaxed);
	(void)dns_stats_set_logged_zones(NULL, NULL, 0);
	ql_drain(l);
	if (l->f != NULL)
		fclose(l->f);
	l->f = NULL;
	uv_close((uv_handle_t *)&l->timer, ql_closed);
}
