/* The query path. Stages: parse (header, question, the other sections only
 * to validate them and find the OPT record) -> classify (errors, meta
 * types, EDNS version) -> look up the closest encloser in the serving view
 * -> copy the precompiled answer, fixing compression pointers and cutting
 * at an RRset boundary when it does not fit -> append OPT. */
#include "node/dns/query.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "node/dnsdata/dname.h"
#include "node/dnsdata/rrtype.h"
#include "node/dns/wire.h"
#include "node/geo/geo.h"
#include "node/zone/node.h"
#include "node/zone/view.h"

#define HDR_LEN	    12
#define OPT_LEN	    11
#define FLAG_QR	    0x80
#define FLAG_AA	    0x04
#define FLAG_TC	    0x02
#define FLAG_RD	    0x01
#define FLAG_CD	    0x10
#define OPCODE_MASK 0x78
#define EDNS_DO	    0x8000

struct query {
	uint8_t qname[DNAME_MAXLEN]; /* lowercase */
	uint8_t labels[DNAME_MAXLABELS];
	size_t nlabels;
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	bool question_ok; /* the question can be echoed */
	bool has_opt;
	bool has_tsig; /* a TSIG record, last in the message (RFC 8945 5.1) */
	uint8_t edns_version;
	uint16_t edns_flags;
	uint16_t edns_payload;
	/* EDNS Client Subnet (RFC 7871), checked: ecs_bad means FORMERR. */
	bool has_ecs;
	bool ecs_bad;
	uint8_t ecs_family; /* 1 IPv4, 2 IPv6 */
	uint8_t ecs_source; /* SOURCE PREFIX-LENGTH */
	uint8_t ecs_addr[16];
	uint8_t ecs_addr_len; /* ceil(source / 8) */
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ASCII uppercase to lowercase in 8 bytes at once; other bytes (label
 * lengths are < 64, so never letters) are left alone. */
static inline uint64_t lower8(uint64_t x)
{
	uint64_t h = x & 0x7f7f7f7f7f7f7f7fULL;
	uint64_t ge_a = h + 0x3f3f3f3f3f3f3f3fULL; /* bit 7: byte >= 'A' */
	uint64_t gt_z = h + 0x2525252525252525ULL; /* bit 7: byte > 'Z' */
	uint64_t upper = (ge_a ^ gt_z) & ~x & 0x8080808080808080ULL;
	return x | (upper >> 2);
}

/* The question: one uncompressed name (nothing precedes it to point at),
 * lowercased into q->qname with its label offsets. */
static bool parse_question(struct wire_cursor *w, struct query *q)
{
	const uint8_t *name = w->pos;
	size_t left = wire_left(w), len = 0, n = 0;
	/* The label structure first: only the length bytes are read. */
	for (;;) {
		if (len >= left)
			return false;
		uint8_t l = name[len];
		if (l == 0)
			break;
		if (l > 63 || len + 1u + l >= DNAME_MAXLEN)
			return false;
		q->labels[n++] = (uint8_t)len;
		len += 1u + l;
	}
	len++;
	q->qname_len = len;
	q->nlabels = n;
	/* Then the whole name, lowercased 8 bytes at a time. */
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t x;
		memcpy(&x, name + i, 8);
		x = lower8(x);
		memcpy(q->qname + i, &x, 8);
	}
	for (; i < len; i++) {
		uint8_t c = name[i];
		q->qname[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
	}
	wire_skip(w, len);
	q->qtype = wire_u16(w);
	q->qclass = wire_u16(w);
	return !w->err;
}

#define EDNS_OPT_ECS 8

/* An ECS option's data (RFC 7871 6): FAMILY 1 or 2, SOURCE PREFIX-LENGTH
 * within the family, SCOPE PREFIX-LENGTH 0 (7.1.1), exactly
 * ceil(SOURCE / 8) address bytes with the bits past SOURCE zero, one
 * option per query. Anything else marks the query for FORMERR. */
static void parse_ecs(struct query *q, const uint8_t *p, size_t len)
{
	if (q->has_ecs || len < 4) {
		q->ecs_bad = true;
		return;
	}
	q->has_ecs = true;
	uint16_t family = rd16(p);
	uint8_t source = p[2], scope = p[3];
	size_t n = len - 4;
	if ((family != 1 && family != 2) || source > (family == 1 ? 32 : 128) ||
	    scope != 0 || n != (source + 7u) / 8) {
		q->ecs_bad = true;
		return;
	}
	if (n > 0 && (source & 7) != 0 &&
	    (p[4 + n - 1] & (0xFFu >> (source & 7))) != 0) {
		q->ecs_bad = true;
		return;
	}
	q->ecs_family = (uint8_t)family;
	q->ecs_source = source;
	q->ecs_addr_len = (uint8_t)n;
	memcpy(q->ecs_addr, p + 4, n);
}

/* One resource record of the answer, authority or additional section:
 * validated, and the OPT record's fields kept (RFC 6891 6.1.1). */
static bool parse_rr(struct wire_cursor *w, struct query *q, bool additional)
{
	bool root = wire_skip_name(w);
	uint16_t type = wire_u16(w);
	uint16_t rclass = wire_u16(w);
	uint32_t ttl = wire_u32(w);
	uint16_t rdlen = wire_u16(w);
	if (w->err || wire_left(w) < rdlen)
		return false;
	if (q->has_tsig)
		return false; /* TSIG must be the last record */
	if (type == RRTYPE_TSIG) {
		if (!additional)
			return false;
		q->has_tsig = true;
	}
	if (type == RRTYPE_OPT) {
		if (!additional || !root || q->has_opt)
			return false;
		struct wire_cursor opts;
		wire_init(&opts, w->pos, rdlen);
		while (wire_left(&opts) > 0) {
			uint16_t code = wire_u16(&opts);
			uint16_t olen = wire_u16(&opts);
			if (!opts.err && code == EDNS_OPT_ECS &&
			    wire_left(&opts) >= olen)
				parse_ecs(q, opts.pos, olen);
			wire_skip(&opts, olen);
		}
		if (opts.err)
			return false;
		q->has_opt = true;
		q->edns_payload = rclass;
		q->edns_version = (uint8_t)(ttl >> 16);
		q->edns_flags = (uint16_t)ttl;
	}
	wire_skip(w, rdlen);
	return !w->err;
}

/* Extended DNS Error codes (RFC 8914 4) we attach. */
#define EDE_NONE	      0xFFFF
#define EDE_NOT_AUTHORITATIVE 20
#define EDNS_OPT_EDE	      15

/* Header + echoed question + OPT (with an Extended DNS Error when ede is
 * not EDE_NONE), with rcode; no records. */
static size_t write_error(const struct dns_query_params *p, const uint8_t *in,
			  const struct query *q, unsigned rcode, uint16_t ede,
			  uint8_t *out, size_t outcap,
			  struct dns_answer_info *info)
{
	size_t len = HDR_LEN;
	size_t qsec = q->question_ok ? q->qname_len + 4 : 0;
	(void)outcap; /* >= 512 by contract; this is < 300 bytes */
	info->qname_len = q->question_ok ? (uint16_t)q->qname_len : 0;
	info->zone_off = info->qname_len ? (uint16_t)(q->qname_len - 1) : 0;
	info->wildcard = false;
	info->has_opt = q->has_opt;
	info->edns_flags = q->edns_flags;
	if (p->seen != NULL) {
		p->seen->rcode = (uint8_t)rcode;
		p->seen->qtype = q->qtype;
	}
	memcpy(out, in, 2);
	out[2] = (uint8_t)(FLAG_QR | (in[2] & (OPCODE_MASK | FLAG_RD)));
	out[3] = (uint8_t)((in[3] & FLAG_CD) | (rcode & 0x0F));
	wr16(out + 4, q->question_ok ? 1 : 0);
	wr16(out + 6, 0);
	wr16(out + 8, 0);
	wr16(out + 10, 0);
	if (qsec) {
		memcpy(out + len, in + HDR_LEN, qsec);
		len += qsec;
	}
	if (q->has_opt) {
		uint8_t *o = out + len;
		o[0] = 0;
		wr16(o + 1, RRTYPE_OPT);
		wr16(o + 3, p->udp_payload);
		o[5] = (uint8_t)(rcode >> 4);
		o[6] = 0;
		wr16(o + 7, q->edns_flags & EDNS_DO);
		wr16(o + 9, 0);
		wr16(out + 10, 1);
		len += OPT_LEN;
		if (ede != EDE_NONE) {
			wr16(o + 9, 6);
			wr16(o + 11, EDNS_OPT_EDE);
			wr16(o + 13, 2);
			wr16(o + 15, ede);
			len += 6;
		}
	}
	return len;
}

/* Client networks the routing hash sees: /24 and /56, in bytes. */
#define CLIENT_PREFIX4 3
#define CLIENT_PREFIX6 7

void dns_client_from_sockaddr(struct dns_client *c, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};
	memset(c, 0, sizeof(*c));
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		c->family = 4;
		memcpy(c->addr, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		const uint8_t *a = s6->sin6_addr.s6_addr;
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			c->family = 4;
			memcpy(c->addr, a + 12, 4);
		} else {
			c->family = 6;
			memcpy(c->addr, a, 16);
		}
	}
}

/* zone_choice_key.locate: the location of the key's network (and its
 * coordinates into k->point), from the table geo_open precomputed. */
static uint32_t key_locate(struct zone_choice_key *k)
{
	uint8_t addr[16] = {0}, prefix = 0;
	memcpy(addr, k->subnet, k->subnet_len);
	if (geo_table_size(k->geo) == 0) {
		uint32_t loc = geo_locate_mmdb(k->geo, k->family, addr, &prefix,
					       &k->point);
		k->scope = prefix;
		return loc;
	}
	const struct geo_place *p = geo_find(k->geo, k->family, addr, &prefix);
	k->scope = prefix;
	if (p == NULL) {
		k->point.has = 0;
		return 0;
	}
	k->point = p->point;
	return p->loc;
}

/* The routing hash's input for q (query ID id) from client. */
static void choice_key(struct zone_choice_key *k, const struct query *q,
		       uint16_t id, const struct dns_client *client,
		       const struct geo_db *geo)
{
	k->geo = geo;
	k->locate = geo != NULL ? key_locate : NULL;
	k->qname = q->qname;
	k->qname_len = q->qname_len;
	k->qtype = q->qtype;
	k->id = id;
	k->family = 0;
	k->subnet_len = 0;
	k->scope = 0;
	k->picked = false;
	k->point.has = 0;
	if (q->has_ecs) {
		/* The client's network as its resolver says it (RFC 7871),
		 * cut to the prefix the pick uses; SOURCE 0: none. */
		unsigned bits = q->ecs_family == 1 ? CLIENT_PREFIX4 * 8
						   : CLIENT_PREFIX6 * 8;
		if (q->ecs_source < bits)
			bits = q->ecs_source;
		if (bits == 0)
			return;
		k->family = q->ecs_family == 1 ? 4 : 6;
		k->subnet_len = (uint8_t)((bits + 7) / 8);
		k->scope = (uint8_t)bits;
		memcpy(k->subnet, q->ecs_addr, k->subnet_len);
		if (bits & 7)
			k->subnet[k->subnet_len - 1] &=
			    (uint8_t)(0xFFu << (8 - (bits & 7)));
		return;
	}
	if (client != NULL && (client->family == 4 || client->family == 6)) {
		k->family = client->family;
		k->subnet_len =
		    client->family == 4 ? CLIENT_PREFIX4 : CLIENT_PREFIX6;
		memcpy(k->subnet, client->addr, k->subnet_len);
	}
}

static const struct zone_answer *lookup(const struct serving_view *view,
					const struct query *q,
					struct zone_choice_key *key,
					struct dns_answer_info *info,
					const struct zone **zone)
{
	size_t matched;
	const struct zone *z;
	const struct zone_answer *a;
	const struct zone_node *n = serving_view_lookup(
	    view, q->qname, q->qname_len, q->labels, q->nlabels, &matched, &z);
	if (n == NULL)
		return NULL;
	if (z->origin_len <= q->qname_len)
		info->zone_off = (uint16_t)(q->qname_len - z->origin_len);
	*zone = z;
	if (matched == 0) {
		if (q->qtype == RRTYPE_DS && n == z->apex) {
			const struct zone_node *parent =
			    serving_view_parent_side(view, z, &z);
			if (parent != NULL)
				n = parent;
		}
		a = zone_node_answer(n, q->qtype, key);
	} else if (n->cut != NULL) {
		return n->cut->referral;
	} else if (n->wildcard != NULL) {
		info->wildcard = true;
		a = zone_node_answer(n->wildcard, q->qtype, key);
	} else {
		return z->nxdomain;
	}
	/* NULL: NODATA, shared per zone version. */
	return a != NULL ? a : z->nodata;
}

size_t dns_query_answer(const struct serving_view *view,
			const struct dns_query_params *p, const uint8_t *in,
			size_t inlen, uint8_t *out, size_t outcap)
{
	return dns_query_answer_from(view, p, NULL, in, inlen, out, outcap);
}

size_t dns_query_answer_from(const struct serving_view *view,
			     const struct dns_query_params *p,
			     const struct dns_client *client, const uint8_t *in,
			     size_t inlen, uint8_t *out, size_t outcap)
{
	struct dns_answer_info info;
	return dns_query_answer_info(view, p, client, in, inlen, out, outcap,
				     &info);
}

size_t dns_query_truncate(const struct dns_query_params *p,
			  const struct dns_answer_info *info, uint8_t *out)
{
	size_t len = HDR_LEN + (info->qname_len ? info->qname_len + 4u : 0);
	out[2] |= FLAG_TC;
	wr16(out + 4, info->qname_len ? 1 : 0);
	wr16(out + 6, 0);
	wr16(out + 8, 0);
	wr16(out + 10, 0);
	if (info->has_opt) {
		uint8_t *o = out + len;
		o[0] = 0;
		wr16(o + 1, RRTYPE_OPT);
		wr16(o + 3, p->udp_payload);
		o[5] =
		    0; /* an extended rcode (BADVERS) is cut to its low bits */
		o[6] = 0;
		wr16(o + 7, info->edns_flags & EDNS_DO);
		wr16(o + 9, 0);
		wr16(out + 10, 1);
		len += OPT_LEN;
	}
	return len;
}

#define RRTYPE_TXT 16

/* CHAOS TXT (class CH): the configured identity or version, else REFUSED.
 * q->question_ok: the name is echoed and pointed at (offset 12). */
static size_t answer_chaos(const struct dns_query_params *p, const uint8_t *in,
			   const struct query *q, uint8_t *out, size_t outcap,
			   struct dns_answer_info *info)
{
	static const uint8_t vb[] = "\7version\4bind";
	static const uint8_t vs[] = "\7version\6server";
	static const uint8_t hb[] = "\10hostname\4bind";
	static const uint8_t is[] = "\2id\6server";
	const char *text = NULL;
#define CHAOS_IS(n)                                                            \
	(q->qname_len == sizeof(n) && !memcmp(q->qname, n, sizeof(n)))
	if (CHAOS_IS(vb) || CHAOS_IS(vs))
		text = p->version;
	else if (CHAOS_IS(hb) || CHAOS_IS(is))
		text = p->identity;
#undef CHAOS_IS
	if (text == NULL || q->qtype != RRTYPE_TXT)
		return write_error(p, in, q, RCODE_REFUSED, EDE_NONE, out,
				   outcap, info);
	size_t tlen = strnlen(text, 255);
	size_t len =
	    write_error(p, in, q, RCODE_NOERROR, EDE_NONE, out, outcap, info);
	/* write_error put OPT (if any) after the question: move it past
	 * the answer record. */
	size_t head = HDR_LEN + q->qname_len + 4;
	size_t opt = len - head;
	size_t rr = 2 + 10 + 1 + tlen;
	memmove(out + head + rr, out + head, opt);
	uint8_t *r = out + head;
	wr16(r, 0xC000 | HDR_LEN);
	wr16(r + 2, RRTYPE_TXT);
	wr16(r + 4, RRCLASS_CH);
	wr16(r + 6, 0);
	wr16(r + 8, 0);
	wr16(r + 10, (uint16_t)(1 + tlen));
	r[12] = (uint8_t)tlen;
	memcpy(r + 13, text, tlen);
	out[2] |= FLAG_AA;
	wr16(out + 6, 1);
	return len + rr;
}

size_t dns_query_answer_info(const struct serving_view *view,
			     const struct dns_query_params *p,
			     const struct dns_client *client, const uint8_t *in,
			     size_t inlen, uint8_t *out, size_t outcap,
			     struct dns_answer_info *info)
{
	struct query q;
	struct wire_cursor w;

	if (inlen < HDR_LEN || (in[2] & FLAG_QR))
		return 0;
	q.question_ok = false;
	q.has_opt = false;
	q.has_tsig = false;
	q.has_ecs = false;
	q.ecs_bad = false;
	q.edns_flags = 0;
	q.qtype = 0;
	if (p->seen != NULL)
		p->seen->zone = NULL;
	uint16_t qdcount = rd16(in + 4);
	uint16_t rrcount[3] = {rd16(in + 6), rd16(in + 8), rd16(in + 10)};
	unsigned opcode = (in[2] & OPCODE_MASK) >> 3;

	wire_init(&w, in, inlen);
	wire_skip(&w, HDR_LEN);
	/* The whole message is read before anything is decided, so that every
	 * answer to a query with EDNS carries OPT (RFC 6891 6.1.1). */
	if (qdcount > 0) {
		if (!parse_question(&w, &q))
			return write_error(p, in, &q, RCODE_FORMERR, EDE_NONE,
					   out, outcap, info);
		q.question_ok = qdcount == 1;
		for (unsigned i = 1; i < qdcount && !w.err; i++) {
			wire_skip_name(&w);
			wire_skip(&w, 4);
		}
	}
	for (int s = 0; s < 3 && !w.err; s++) {
		for (unsigned i = 0; i < rrcount[s]; i++) {
			if (!parse_rr(&w, &q, s == 2)) {
				w.err = true;
				break;
			}
		}
	}
	if (w.err || wire_left(&w) != 0) {
		q.has_opt = false;
		return write_error(p, in, &q, RCODE_FORMERR, EDE_NONE, out,
				   outcap, info);
	}
	/* RFC 6891 6.1.3: an unknown EDNS version is answered BADVERS
	 * before anything else is looked at. */
	if (q.has_opt && q.edns_version != 0)
		return write_error(p, in, &q, RCODE_BADVERS, EDE_NONE, out,
				   outcap, info);
	/* RFC 7871 7.1.1: a malformed ECS option is FORMERR. */
	if (q.ecs_bad)
		return write_error(p, in, &q, RCODE_FORMERR, EDE_NONE, out,
				   outcap, info);
	if (opcode != 0)
		return write_error(p, in, &q, RCODE_NOTIMP, EDE_NONE, out,
				   outcap, info);
	/* Knot drops QDCOUNT > 1; RFC 9619 makes it FORMERR, so do we. */
	if (qdcount != 1)
		return write_error(p, in, &q, RCODE_FORMERR, EDE_NONE, out,
				   outcap, info);
	/* No TSIG keys are configured: a signed query is refused. */
	if (q.has_tsig)
		return write_error(p, in, &q, RCODE_REFUSED, EDE_NONE, out,
				   outcap, info);
	/* QCLASS * is answered from class IN, as Knot does (RFC 1035 3.2.5);
	 * every other class is not served here. */
	if (q.qclass == RRCLASS_CH)
		return answer_chaos(p, in, &q, out, outcap, info);
	if (q.qclass != RRCLASS_IN && q.qclass != RRCLASS_ANY)
		return write_error(p, in, &q, RCODE_REFUSED, EDE_NONE, out,
				   outcap, info);
	/* Zone transfers are not offered (RFC 5936 2.2.1); TYPE0 is no type.
	 * Other meta types are looked up like any type, as Knot does. */
	if (q.qtype == RRTYPE_AXFR || q.qtype == RRTYPE_IXFR)
		return write_error(p, in, &q, RCODE_REFUSED, EDE_NONE, out,
				   outcap, info);
	if (q.qtype == 0)
		return write_error(p, in, &q, RCODE_NOTIMP, EDE_NONE, out,
				   outcap, info);

	struct zone_choice_key key;
	const struct zone *zone = NULL;
	choice_key(&key, &q, rd16(in), client, p->geo);
	info->qname_len = (uint16_t)q.qname_len;
	info->zone_off = (uint16_t)(q.qname_len - 1);
	info->wildcard = false;
	info->has_opt = q.has_opt;
	info->edns_flags = q.edns_flags;
	const struct zone_answer *a =
	    view ? lookup(view, &q, &key, info, &zone) : NULL;
	if (a == NULL)
		return write_error(p, in, &q, RCODE_REFUSED,
				   EDE_NOT_AUTHORITATIVE, out, outcap, info);
	if (p->seen != NULL) {
		p->seen->zone = zone;
		p->seen->rcode = a->rcode;
		p->seen->qtype = q.qtype;
		p->seen->ecs_family = q.has_ecs ? q.ecs_family : 0;
		if (q.has_ecs) {
			p->seen->ecs_source = q.ecs_source;
			memcpy(p->seen->ecs_addr, q.ecs_addr, q.ecs_addr_len);
		}
	}

	/* Size limit: RFC 6891 6.2.5 (at least 512), our own payload, and
	 * 512 without EDNS (RFC 1035 4.2.1); TCP only by the framing. */
	size_t limit;
	if (p->tcp) {
		limit = DNS_MSG_MAX;
	} else if (q.has_opt) {
		limit = q.edns_payload < 512 ? 512 : q.edns_payload;
		if (limit > p->udp_payload)
			limit = p->udp_payload;
	} else {
		limit = 512;
	}
	if (limit > outcap)
		limit = outcap;

	size_t qsec = q.qname_len + 4;
	size_t head = HDR_LEN + qsec;
	/* The ECS option echoed (RFC 7871 7.2.1): FAMILY, SOURCE and
	 * ADDRESS as asked, SCOPE the prefix the answer depends on. */
	size_t ecs = q.has_ecs ? 8u + q.ecs_addr_len : 0;
	size_t opt = q.has_opt ? OPT_LEN + ecs : 0;
	size_t body = a->len;
	uint16_t an = a->an, ns = a->ns, ar = a->ar;
	bool tc = false;
	if (head + body + opt > limit) {
		/* Cut after the last RRset that fits: cut i > 0 is
		 * cut[i - 1], cut 0 the empty body (see struct
		 * zone_answer). */
		const struct zone_answer_cut *cut = zone_answer_cuts(a);
		size_t i = a->ncut;
		while (i > 1 && head + cut[i - 2].end + opt > limit)
			i--;
		if (i > 1) {
			const struct zone_answer_cut *c = &cut[i - 2];
			body = c->end;
			an = c->an;
			ns = c->ns;
			ar = c->ar;
			tc = c->next_required;
		} else {
			body = 0;
			an = ns = ar = 0;
			tc = a->first_required;
		}
	}

	memcpy(out, in, 2);
	out[2] = (uint8_t)(FLAG_QR | (in[2] & (OPCODE_MASK | FLAG_RD)) |
			   (a->aa ? FLAG_AA : 0) | (tc ? FLAG_TC : 0));
	out[3] = (uint8_t)((in[3] & FLAG_CD) | a->rcode);
	wr16(out + 4, 1);
	wr16(out + 6, an);
	wr16(out + 8, ns);
	wr16(out + 10, (uint16_t)(ar + (q.has_opt ? 1 : 0)));
	memcpy(out + HDR_LEN, in + HDR_LEN, qsec);
	memcpy(out + head, a->body, body);
	size_t delta = q.qname_len - a->qname_len;
	if (delta != 0) {
		const uint16_t *fix = zone_answer_fixes(a);
		for (size_t i = 0; i < a->nfix && fix[i] < body; i++) {
			uint8_t *ptr = out + head + fix[i];
			wr16(ptr, (uint16_t)(rd16(ptr) + delta));
		}
	}
	size_t len = head + body;
	if (q.has_opt) {
		uint8_t *o = out + len;
		o[0] = 0;
		wr16(o + 1, RRTYPE_OPT);
		wr16(o + 3, p->udp_payload);
		o[5] = 0;
		o[6] = 0;
		wr16(o + 7, q.edns_flags & EDNS_DO);
		wr16(o + 9, (uint16_t)ecs);
		len += OPT_LEN;
		if (ecs > 0) {
			uint8_t *e = out + len;
			wr16(e, EDNS_OPT_ECS);
			wr16(e + 2, (uint16_t)(ecs - 4));
			wr16(e + 4, q.ecs_family);
			e[6] = q.ecs_source;
			e[7] = key.picked ? key.scope : 0;
			memcpy(e + 8, q.ecs_addr, q.ecs_addr_len);
			len += ecs;
		}
	}
	return len;
}
