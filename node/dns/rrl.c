/* Response rate limiting: classify the response, hash (class, network,
 * name) with a per-table random key, find its bucket in a 4-slot window,
 * refill and take a token. See rrl.h. */
#include "node/dns/rrl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "node/common/errcode.h"
#include "node/dnsdata/rrtype.h"

#define RRL_PROBE      4
#define RRL_LARGE      1024 /* a response this big is its own class */
#define HDR_LEN	       12
#define RRL_PREFIX4    3 /* /24, in bytes */
#define RRL_PREFIX6    7 /* /56 */
#define RRTYPE_DNSKEY_ 48

/* Response classes (Knot's rrl: the same split). */
enum {
	RRL_CLS_POSITIVE = 1,
	RRL_CLS_EMPTY,	  /* NOERROR without answers: NODATA, referral */
	RRL_CLS_LARGE,	  /* >= RRL_LARGE bytes */
	RRL_CLS_ANY,	  /* QTYPE ANY */
	RRL_CLS_DNSSEC,	  /* QTYPE DNSKEY, RRSIG, DS */
	RRL_CLS_WILDCARD, /* synthesized from a wildcard: per zone */
	RRL_CLS_NXDOMAIN, /* per zone */
	RRL_CLS_ERROR,	  /* any other rcode: per zone (root if none) */
};

struct dns_rrl_bucket {
	uint64_t id; /* 0: free */
	uint32_t time;
	uint32_t ntok;
};

void dns_rrl_config_default(struct dns_rrl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rate = DNS_RRL_RATE_DEFAULT;
	cfg->slip = DNS_RRL_SLIP_DEFAULT;
	cfg->table_size = DNS_RRL_TABLE_DEFAULT;
	/* The host itself (local tools, health checks): Linux drops packets
	 * from a loopback source that arrive from the network (martians), so
	 * an answer to one can never be reflected at someone else. */
	(void)dns_rrl_parse_net("127.0.0.1/32", &cfg->whitelist[0]);
	(void)dns_rrl_parse_net("::1/128", &cfg->whitelist[1]);
	cfg->nwhitelist = 2;
}

int dns_rrl_parse_net(const char *text, struct dns_rrl_net *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t alen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned max, prefix;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= INET6_ADDRSTRLEN)
		return Q53_EINVAL;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = 6;
		max = 128;
	} else {
		return Q53_EINVAL;
	}
	prefix = max;
	if (slash != NULL) {
		const char *p = slash + 1;
		if (*p < '0' || *p > '9' || strlen(p) > 3)
			return Q53_EINVAL;
		prefix = 0;
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9')
				return Q53_EINVAL;
			prefix = prefix * 10 + (unsigned)(*p - '0');
		}
		if (prefix > max)
			return Q53_EINVAL;
	}
	/* Host bits must be zero: "10.1.2.3/8" is a typo, not a network. */
	for (unsigned bit = prefix; bit < max; bit++)
		if (out->addr[bit / 8] & (0x80u >> (bit % 8)))
			return Q53_EINVAL;
	out->prefix = (uint8_t)prefix;
	return 0;
}

int dns_rrl_init(struct dns_rrl *t, const struct dns_rrl_config *cfg,
		 unsigned nshares)
{
	size_t size = 64;

	memset(t, 0, sizeof(*t));
	if (cfg->rate == 0 || nshares == 0)
		return Q53_EINVAL;
	while (size < cfg->table_size && size < ((size_t)1 << 24))
		size *= 2;
	t->b = calloc(size, sizeof(*t->b));
	if (t->b == NULL)
		return Q53_ENOMEM;
	t->mask = size - 1;
	/* The key keeps clients from choosing colliding buckets. */
	if (getrandom(t->key, sizeof(t->key), 0) != sizeof(t->key)) {
		t->key[0] = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ULL;
		t->key[1] = (uint64_t)(uintptr_t)t->b * 0xff51afd7ed558ccdULL;
	}
	t->rate = (cfg->rate + nshares - 1) / nshares;
	t->slip = cfg->slip;
	t->cfg = cfg;
	atomic_init(&t->limited, 0);
	atomic_init(&t->slipped, 0);
	atomic_init(&t->dropped, 0);
	return 0;
}

void dns_rrl_free(struct dns_rrl *t)
{
	free(t->b);
	t->b = NULL;
}

static inline uint64_t rrl_mix(uint64_t h, uint64_t x)
{
	h ^= x;
	h *= 0x9fb21c651e98df25ULL;
	h ^= h >> 29;
	return h;
}

/* ASCII uppercase to lowercase in 8 bytes at once (as query.c does). */
static inline uint64_t rrl_lower8(uint64_t x)
{
	uint64_t h = x & 0x7f7f7f7f7f7f7f7fULL;
	uint64_t ge_a = h + 0x3f3f3f3f3f3f3f3fULL;
	uint64_t gt_z = h + 0x2525252525252525ULL;
	uint64_t upper = (ge_a ^ gt_z) & ~x & 0x8080808080808080ULL;
	return x | (upper >> 2);
}

static bool rrl_whitelisted(const struct dns_rrl_config *cfg,
			    const struct dns_client *c)
{
	for (size_t i = 0; i < cfg->nwhitelist; i++) {
		const struct dns_rrl_net *n = &cfg->whitelist[i];
		unsigned full = n->prefix / 8, rest = n->prefix % 8;
		if (n->family != c->family)
			continue;
		if (memcmp(n->addr, c->addr, full) != 0)
			continue;
		if (rest != 0 &&
		    ((n->addr[full] ^ c->addr[full]) & (0xFF00u >> rest)) != 0)
			continue;
		return true;
	}
	return false;
}

static unsigned rrl_class(const struct dns_answer_info *info,
			  const uint8_t *out, size_t len)
{
	unsigned rcode = out[3] & 0x0F;
	uint16_t qtype = 0;

	if (rcode == 3)
		return RRL_CLS_NXDOMAIN;
	if (rcode != 0)
		return RRL_CLS_ERROR;
	if (info->wildcard)
		return RRL_CLS_WILDCARD;
	if (info->qname_len != 0)
		qtype = (uint16_t)(out[HDR_LEN + info->qname_len] << 8 |
				   out[HDR_LEN + info->qname_len + 1]);
	if (qtype == RRTYPE_ANY)
		return RRL_CLS_ANY;
	if (qtype == RRTYPE_DNSKEY_ || qtype == RRTYPE_RRSIG ||
	    qtype == RRTYPE_DS)
		return RRL_CLS_DNSSEC;
	if (len >= RRL_LARGE)
		return RRL_CLS_LARGE;
	if (out[6] == 0 && out[7] == 0)
		return RRL_CLS_EMPTY;
	return RRL_CLS_POSITIVE;
}

/* The bucket identity: a keyed hash of class, network and name (the qname,
 * or for per-zone classes the zone's name: a suffix of the qname), never 0
 * (free). */
static uint64_t rrl_id(const struct dns_rrl *t, unsigned cls,
		       const struct dns_client *c,
		       const struct dns_answer_info *info, const uint8_t *out)
{
	uint64_t net = 0, h = t->key[0];
	const uint8_t *name;
	size_t nlen, i;

	if (c->family == 4)
		memcpy(&net, c->addr, RRL_PREFIX4);
	else if (c->family == 6)
		memcpy(&net, c->addr, RRL_PREFIX6);
	h = rrl_mix(h, net);
	h = rrl_mix(h, (uint64_t)cls << 8 | c->family);
	if (info->qname_len == 0) {
		name = (const uint8_t *)"";
		nlen = 1;
	} else if (cls >= RRL_CLS_WILDCARD) {
		name = out + HDR_LEN + info->zone_off;
		nlen = (size_t)(info->qname_len - info->zone_off);
	} else {
		name = out + HDR_LEN;
		nlen = info->qname_len;
	}
	for (i = 0; i + 8 <= nlen; i += 8) {
		uint64_t x;
		memcpy(&x, name + i, 8);
		h = rrl_mix(h, rrl_lower8(x));
	}
	if (i < nlen) {
		uint64_t x = 0;
		memcpy(&x, name + i, nlen - i);
		h = rrl_mix(h, rrl_lower8(x));
	}
	h = rrl_mix(h ^ t->key[1], nlen);
	return h != 0 ? h : 1;
}

enum dns_rrl_action dns_rrl_check(struct dns_rrl *t,
				  const struct dns_client *client,
				  const struct dns_answer_info *info,
				  const uint8_t *out, size_t len,
				  uint32_t now_s)
{
	unsigned cls = rrl_class(info, out, len);
	uint64_t id = rrl_id(t, cls, client, info, out);
	uint32_t full = t->rate * DNS_RRL_WINDOW;
	struct dns_rrl_bucket *b = NULL, *victim = NULL;

	unsigned best = 0;
	for (size_t k = 0; k < RRL_PROBE; k++) {
		struct dns_rrl_bucket *s = &t->b[(id + k) & t->mask];
		if (s->id == id) {
			b = s;
			break;
		}
		/* The slot a new id takes: a free one, else one that has not
		 * been seen for a whole window, else the oldest one that is
		 * not limiting: evicting a limited bucket would give its
		 * flood a fresh burst. */
		unsigned score = s->id == 0			    ? 4
				 : s->time + DNS_RRL_WINDOW < now_s ? 3
				 : s->ntok > 0			    ? 2
								    : 1;
		if (score > best || (score == best && victim != NULL &&
				     s->time < victim->time)) {
			best = score;
			victim = s;
		}
	}
	if (b == NULL) {
		b = victim;
		b->id = id;
		b->time = now_s;
		b->ntok = full;
	} else if (now_s != b->time) {
		uint32_t dt = now_s - b->time;
		if (dt > DNS_RRL_WINDOW)
			dt = DNS_RRL_WINDOW;
		b->ntok += t->rate * dt;
		if (b->ntok > full)
			b->ntok = full;
		b->time = now_s;
	}
	if (b->ntok > 0) {
		b->ntok--;
		return DNS_RRL_PASS;
	}
	if (t->cfg->nwhitelist != 0 && rrl_whitelisted(t->cfg, client))
		return DNS_RRL_PASS;
	atomic_fetch_add_explicit(&t->limited, 1, memory_order_relaxed);
	if (t->slip != 0 && ++t->slip_count >= t->slip) {
		t->slip_count = 0;
		atomic_fetch_add_explicit(&t->slipped, 1, memory_order_relaxed);
		return DNS_RRL_SLIP;
	}
	atomic_fetch_add_explicit(&t->dropped, 1, memory_order_relaxed);
	return DNS_RRL_DROP;
}

void dns_rrl_stats_add(const struct dns_rrl *t, struct dns_rrl_stats *sum)
{
	sum->limited += atomic_load_explicit(&t->limited, memory_order_relaxed);
	sum->slipped += atomic_load_explicit(&t->slipped, memory_order_relaxed);
	sum->dropped += atomic_load_explicit(&t->dropped, memory_order_relaxed);
}
