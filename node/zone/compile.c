/* Answer compilation. A builder writes a whole response for a question
 * name (the node's own name, the apex for shared negative answers, the cut
 * for referrals, or "*.<parent>" for wildcard answers) with name
 * compression resolved, then keeps everything after the question together
 * with the list of compression pointers that move when the real query name
 * is longer (see struct zone_answer). */
#include "node/zone/compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rrtype.h"
#include "node/zone/node.h"
#include "node/zone/zone_impl.h"

#define BUILDER_MAX_LABELS  8192
#define BUILDER_MAX_FIX	    8192
#define BUILDER_MAX_CUTS    4096
#define BUILDER_MAX_EXTRA   1024
#define CHAIN_MAX	    16
#define DNS_BUILDER_MSG_MAX 65535
#define DNS_BUILDER_CAP	    (DNS_BUILDER_MSG_MAX + 1024)

enum section { SEC_ANSWER, SEC_AUTHORITY, SEC_ADDITIONAL };

struct builder {
	const struct zone *z;
	uint8_t msg[DNS_BUILDER_CAP];
	size_t len;
	size_t qend; /* first byte after the question */
	bool wildcard;
	bool overflow;
	uint8_t rcode;
	bool aa;
	uint16_t count[3];
	uint16_t labels[BUILDER_MAX_LABELS];
	size_t nlabels;
	uint16_t fix[BUILDER_MAX_FIX];
	size_t nfix;
	struct zone_answer_cut cuts[BUILDER_MAX_CUTS];
	size_t ncuts;
	/* Additional-section RRsets already written. */
	const struct zone_rrset *extra[BUILDER_MAX_EXTRA];
	size_t nextra;
	/* What the answer being built used: the apex SOA, other names. */
	bool used_soa;
	bool looked_up;
	size_t nsets, nsoa;
	/* Nodes visited by the CNAME chain. */
	const struct zone_node *chain[CHAIN_MAX];
	size_t nchain;
};

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

static void put_bytes(struct builder *b, const void *p, size_t n)
{
	if (b->len + n > sizeof(b->msg)) {
		b->overflow = true;
		return;
	}
	memcpy(b->msg + b->len, p, n);
	b->len += n;
}

static void put_u16(struct builder *b, uint16_t v)
{
	uint8_t w[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put_bytes(b, w, 2);
}

static void put_u32(struct builder *b, uint32_t v)
{
	uint8_t w[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};
	put_bytes(b, w, 4);
}

/* Does the (possibly compressed) name at msg offset pos equal name? */
static bool msg_name_eq(const struct builder *b, size_t pos,
			const uint8_t *name)
{
	for (int hops = 0; hops < 128; hops++) {
		if (pos >= b->len)
			return false; /* never read what is not written yet */
		uint8_t l = b->msg[pos];
		if ((l & 0xC0) == 0xC0) {
			if (pos + 1 >= b->len)
				return false;
			pos = ((size_t)(l & 0x3F) << 8) | b->msg[pos + 1];
			continue;
		}
		if (l != *name)
			return false;
		if (l == 0)
			return true;
		if (pos + l >= b->len)
			return false;
		for (size_t i = 1; i <= l; i++) {
			if (lower(b->msg[pos + i]) != lower(name[i]))
				return false;
		}
		pos += 1u + l;
		name += 1u + l;
	}
	return false;
}

/* Highest offset a compression pointer may target: the query path adds up
 * to 255 - (compiled question name length) to every pointer (longer query
 * names), and the result must stay below 0x4000. */
#define BUILDER_PTR_MAX (0x3FFF - DNAME_MAXLEN)

/* Writes name, compressed against every name already in the message
 * (question included, case-insensitively, as Knot and NSD do: a name in
 * RDATA may then carry the query's case, RFC 4343 4.1 allows it). The
 * labels written are offered for compression only once the whole name is
 * in the message, so a name never points into itself. */
static void put_name(struct builder *b, const uint8_t *name, bool compress)
{
	const uint8_t *s = name;
	uint16_t written[DNAME_MAXLABELS];
	size_t nwritten = 0;
	while (*s) {
		if (compress) {
			for (size_t i = 0; i < b->nlabels; i++) {
				size_t pos = b->labels[i];
				if (!msg_name_eq(b, pos, s))
					continue;
				if (!(b->wildcard && pos == 12)) {
					if (b->nfix == BUILDER_MAX_FIX) {
						b->overflow = true;
						return;
					}
					b->fix[b->nfix++] =
					    (uint16_t)(b->len - b->qend);
				}
				put_u16(b, (uint16_t)(0xC000 | pos));
				goto offer;
			}
		}
		if (b->len <= BUILDER_PTR_MAX && nwritten < DNAME_MAXLABELS)
			written[nwritten++] = (uint16_t)b->len;
		put_bytes(b, s, 1u + *s);
		s += 1u + *s;
	}
	put_bytes(b, s, 1);
offer:
	for (size_t i = 0; i < nwritten && b->nlabels < BUILDER_MAX_LABELS; i++)
		b->labels[b->nlabels++] = written[i];
}

/* Writes rdata, compressing the names of the RFC 1035 types that may be
 * compressed (RFC 3597 4); every other type is copied as it is. */
static void put_rdata(struct builder *b, uint16_t type,
		      const struct zone_rdata *rd)
{
	size_t n;
	switch (type) {
	case RRTYPE_NS:
	case RRTYPE_CNAME:
	case RRTYPE_PTR:
		put_name(b, rd->data, true);
		return;
	case RRTYPE_MX:
		put_bytes(b, rd->data, 2);
		put_name(b, rd->data + 2, true);
		return;
	case RRTYPE_SOA:
		n = dname_wire_len(rd->data, rd->len);
		put_name(b, rd->data, true);
		put_name(b, rd->data + n, true);
		n += dname_wire_len(rd->data + n, rd->len - n);
		put_bytes(b, rd->data + n, rd->len - n);
		return;
	default:
		put_bytes(b, rd->data, rd->len);
	}
}

static void cut_point(struct builder *b, enum section next)
{
	if (b->ncuts == BUILDER_MAX_CUTS) {
		b->overflow = true;
		return;
	}
	/* The previous cut now knows what follows it. */
	if (b->ncuts > 0)
		b->cuts[b->ncuts - 1].next_required = next != SEC_ADDITIONAL;
}

static void put_rrset(struct builder *b, const uint8_t *owner,
		      const struct zone_rrset *rr, uint32_t ttl,
		      enum section sec)
{
	cut_point(b, sec);
	b->nsets++;
	if (rr->type == RRTYPE_SOA)
		b->used_soa = true;
	const uint8_t *p = rr->packed;
	for (uint32_t i = 0; i < rr->count; i++) {
		struct zone_rdata rd;
		p = zone_rdata_next(p, &rd);
		put_name(b, owner, true);
		put_u16(b, rr->type);
		put_u16(b, RRCLASS_IN);
		put_u32(b, ttl);
		size_t rdlen_at = b->len;
		put_u16(b, 0);
		put_rdata(b, rr->type, &rd);
		if (b->overflow)
			return;
		size_t rdlen = b->len - rdlen_at - 2;
		b->msg[rdlen_at] = (uint8_t)(rdlen >> 8);
		b->msg[rdlen_at + 1] = (uint8_t)rdlen;
	}
	b->count[sec] = (uint16_t)(b->count[sec] + rr->count);
	if (b->ncuts < BUILDER_MAX_CUTS) {
		struct zone_answer_cut *c = &b->cuts[b->ncuts++];
		c->end = (uint16_t)(b->len - b->qend);
		c->an = b->count[SEC_ANSWER];
		c->ns = b->count[SEC_AUTHORITY];
		c->ar = b->count[SEC_ADDITIONAL];
		c->next_required = 0;
	}
}

static void put_soa(struct builder *b)
{
	const struct zone *z = b->z;
	const struct zone_rrset *soa = zone_node_rrset(z->apex, RRTYPE_SOA);
	struct zone_rdata first;
	zone_rdata_next(soa->packed, &first);
	const struct zone_rdata *rd = &first;
	/* RFC 2308 3: the TTL of the SOA in a negative answer is the
	 * minimum of the SOA's TTL and its MINIMUM field. */
	uint32_t minimum = 0;
	if (rd->len >= 4) {
		const uint8_t *m = rd->data + rd->len - 4;
		minimum = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 |
			  (uint32_t)m[2] << 8 | m[3];
	}
	uint32_t ttl = soa->ttl < minimum ? soa->ttl : minimum;
	b->nsoa++;
	put_rrset(b, z->apex->name, soa, ttl, SEC_AUTHORITY);
}

/* The lowercase node for an in-zone target name, or NULL. */
static const struct zone_node *find_target(const struct zone *z,
					   const uint8_t *name, bool *looked)
{
	uint8_t lname[DNAME_MAXLEN];
	size_t len = dname_wire_len(name, DNAME_MAXLEN);
	if (len == 0)
		return NULL;
	dname_lower_copy(lname, name, len);
	if (!dname_is_sub(lname, len, z->origin, z->origin_len))
		return NULL;
	*looked = true;
	return zone_find_node(z, lname, len);
}

static void put_extra(struct builder *b, const struct zone_node *n,
		      uint16_t type)
{
	const struct zone_rrset *rr = zone_node_rrset(n, type);
	if (rr == NULL)
		return;
	for (size_t i = 0; i < b->nextra; i++) {
		if (b->extra[i] == rr)
			return;
	}
	if (b->nextra == BUILDER_MAX_EXTRA)
		return;
	b->extra[b->nextra++] = rr;
	put_rrset(b, n->name, rr, rr->ttl, SEC_ADDITIONAL);
}

/* Address records for the names an RRset points at (RFC 1034 4.3.2 step
 * 6): NS targets (glue beneath a delegation included), MX exchanges, SRV
 * targets and SVCB/HTTPS targets (RFC 9460 4.1) inside the zone. */
static void put_additionals(struct builder *b, const struct zone_rrset *rr)
{
	size_t off;
	switch (rr->type) {
	case RRTYPE_NS:
		off = 0;
		break;
	case RRTYPE_MX:
		off = 2;
		break;
	case RRTYPE_SRV:
		off = 6;
		break;
	case RRTYPE_SVCB:
	case RRTYPE_HTTPS:
		off = 2;
		break;
	default:
		return;
	}
	const uint8_t *p = rr->packed;
	for (uint32_t i = 0; i < rr->count; i++) {
		struct zone_rdata rd;
		p = zone_rdata_next(p, &rd);
		if (rd.len <= off)
			continue;
		const struct zone_node *t =
		    find_target(b->z, rd.data + off, &b->looked_up);
		if (t == NULL)
			continue;
		if (t->cut != NULL && rr->type != RRTYPE_NS)
			continue;
		put_extra(b, t, RRTYPE_A);
		put_extra(b, t, RRTYPE_AAAA);
	}
}

static void put_referral(struct builder *b, const struct zone_node *cut)
{
	const struct zone_rrset *ns = zone_node_rrset(cut, RRTYPE_NS);
	put_rrset(b, cut->name, ns, ns->ttl, SEC_AUTHORITY);
	put_additionals(b, ns);
}

enum resolve_kind { RESOLVE_NODE, RESOLVE_CUT, RESOLVE_NXDOMAIN, RESOLVE_OUT };

/* Finds name in the zone: the node (exact, or the wildcard that
 * synthesises it), the delegation it lies beneath, or none. */
static enum resolve_kind resolve(const struct zone *z, const uint8_t *name,
				 const struct zone_node **out, bool *looked)
{
	uint8_t lname[DNAME_MAXLEN];
	size_t len = dname_wire_len(name, DNAME_MAXLEN);
	if (len == 0)
		return RESOLVE_OUT;
	dname_lower_copy(lname, name, len);
	if (!dname_is_sub(lname, len, z->origin, z->origin_len))
		return RESOLVE_OUT;
	*looked = true;
	const uint8_t *s = lname;
	size_t slen = len;
	for (;;) {
		const struct zone_node *n = zone_find_node(z, s, slen);
		if (n != NULL) {
			if (s == lname) {
				*out = n;
				return RESOLVE_NODE;
			}
			if (n->cut != NULL) {
				*out = n->cut;
				return RESOLVE_CUT;
			}
			if (n->wildcard != NULL) {
				*out = n->wildcard;
				return RESOLVE_NODE;
			}
			return RESOLVE_NXDOMAIN;
		}
		slen -= 1u + *s;
		s += 1u + *s;
	}
}

static void answer_at(struct builder *b, const struct zone_node *n,
		      const uint8_t *owner, uint16_t qtype);

static void follow_cname(struct builder *b, const uint8_t *target,
			 uint16_t qtype)
{
	const struct zone_node *t;
	switch (resolve(b->z, target, &t, &b->looked_up)) {
	case RESOLVE_OUT:
		return;
	case RESOLVE_NXDOMAIN:
		/* RFC 6604 2.1: the rcode is that of the last name. */
		b->rcode = RCODE_NXDOMAIN;
		put_soa(b);
		return;
	case RESOLVE_CUT:
		put_referral(b, t);
		return;
	case RESOLVE_NODE:
		break;
	}
	for (size_t i = 0; i < b->nchain; i++) {
		if (b->chain[i] == t)
			return; /* a loop: stop, as Knot does */
	}
	if (b->nchain == CHAIN_MAX)
		return;
	b->chain[b->nchain++] = t;
	answer_at(b, t, target, qtype);
}

/* RFC 8482 4.1: one RRset for ANY, the one of the lowest type. */
static const struct zone_rrset *any_choice(const struct zone_node *n)
{
	const struct zone_rrset *best = NULL;
	for (uint32_t i = 0; i < n->nrrsets; i++) {
		if (best == NULL || n->rrsets[i].type < best->type)
			best = &n->rrsets[i];
	}
	return best;
}

static void answer_at(struct builder *b, const struct zone_node *n,
		      const uint8_t *owner, uint16_t qtype)
{
	if (n->cut != NULL && !(qtype == RRTYPE_DS && n->cut == n)) {
		if (b->count[SEC_ANSWER] == 0)
			b->aa = false;
		put_referral(b, n->cut);
		return;
	}
	const struct zone_rrset *cname = zone_node_rrset(n, RRTYPE_CNAME);
	if (cname != NULL && !rrtype_beside_cname(qtype)) {
		put_rrset(b, owner, cname, cname->ttl, SEC_ANSWER);
		follow_cname(b, cname->packed + 2, qtype);
		return;
	}
	const struct zone_rrset *rr =
	    qtype == RRTYPE_ANY ? any_choice(n) : zone_node_rrset(n, qtype);
	if (rr == NULL) {
		put_soa(b);
		return;
	}
	put_rrset(b, owner, rr, rr->ttl, SEC_ANSWER);
	put_additionals(b, rr);
}

static void builder_start(struct builder *b, const struct zone *z,
			  const uint8_t *qname, bool wildcard)
{
	b->z = z;
	b->len = 12;
	memset(b->msg, 0, 12);
	b->nlabels = 0;
	b->nfix = 0;
	b->ncuts = 0;
	b->nextra = 0;
	b->nchain = 0;
	b->used_soa = false;
	b->looked_up = false;
	b->nsets = 0;
	b->nsoa = 0;
	b->overflow = false;
	b->wildcard = false;
	b->rcode = RCODE_NOERROR;
	b->aa = true;
	memset(b->count, 0, sizeof(b->count));
	put_name(b, qname, false);
	put_u32(b, 0); /* qtype, qclass: not part of the answer */
	b->qend = b->len;
	b->wildcard = wildcard;
	/* The cut before the first RRset: an empty body. */
	b->cuts[0] = (struct zone_answer_cut){0};
	b->ncuts = 1;
}

/* The bytes of an answer (struct zone_answer): header, body, cut table
 * (cut 0 not stored) and fix table. */
static size_t answer_bytes(size_t body, size_t nfix, size_t ncuts)
{
	return sizeof(struct zone_answer) + ((body + 1) & ~(size_t)1) +
	       (ncuts - 1) * sizeof(struct zone_answer_cut) +
	       nfix * sizeof(uint16_t);
}

static size_t answer_size(size_t body, size_t nfix, size_t ncuts)
{
	/* The next one stays aligned. */
	return (answer_bytes(body, nfix, ncuts) + 7) & ~(size_t)7;
}

/* Writes answer a's header, body and tables at dst (8-aligned, room for
 * answer_size bytes) and returns the copy; cuts[0..a->ncut) includes cut
 * 0. */
static struct zone_answer *answer_put(void *dst, const struct zone_answer *a,
				      const uint8_t *body,
				      const struct zone_answer_cut *cuts,
				      const uint16_t *fix)
{
	struct zone_answer *c = dst;
	memcpy(c, a, sizeof(*c));
	memcpy(c->body, body, a->len);
	if (a->len & 1)
		c->body[a->len] = 0;
	memcpy((void *)zone_answer_cuts(c), cuts + 1,
	       (a->ncut - 1u) * sizeof(*cuts));
	memcpy((void *)zone_answer_fixes(c), fix, a->nfix * sizeof(*fix));
	return c;
}

/* Copies the answer at a (from answer_put) to dst. */
static struct zone_answer *answer_copy(void *dst, const struct zone_answer *a)
{
	memcpy(dst, a, answer_bytes(a->len, a->nfix, a->ncut));
	return dst;
}

/* The answer built, malloc'd (caller frees). */
static int builder_finish(struct builder *b, struct zone_answer **out)
{
	if (b->overflow)
		return Q53_ERANGE;
	size_t body = b->len - b->qend;
	/* Room for the longest query name and an OPT record. */
	if (body + 12 + DNAME_MAXLEN + 4 + 11 > DNS_BUILDER_MSG_MAX)
		return Q53_ERANGE;
	struct zone_answer h = {0};
	h.rcode = b->rcode;
	h.aa = b->aa;
	h.qname_len = (uint8_t)(b->qend - 4 - 12);
	h.an = b->count[SEC_ANSWER];
	h.ns = b->count[SEC_AUTHORITY];
	h.ar = b->count[SEC_ADDITIONAL];
	h.len = (uint16_t)body;
	/* The last cut (the whole body) is implicit; the first one, the
	 * empty body, always stays. */
	size_t ncuts = b->ncuts;
	if (ncuts > 1 && b->cuts[ncuts - 1].end == body)
		ncuts--;
	h.ncut = (uint16_t)ncuts;
	h.first_required = (uint8_t)b->cuts[0].next_required;
	h.nfix = (uint16_t)b->nfix;
	void *mem = malloc(answer_size(body, b->nfix, ncuts));
	if (mem == NULL)
		return Q53_ENOMEM;
	*out = answer_put(mem, &h, b->msg + b->qend, b->cuts, b->fix);
	return 0;
}

static bool answer_same(const struct zone_answer *a,
			const struct zone_answer *b)
{
	return a->rcode == b->rcode && a->aa == b->aa &&
	       a->qname_len == b->qname_len &&
	       a->first_required == b->first_required && a->an == b->an &&
	       a->ns == b->ns && a->ar == b->ar && a->len == b->len &&
	       a->nfix == b->nfix && a->ncut == b->ncut &&
	       memcmp(a->body, b->body,
		      answer_bytes(a->len, a->nfix, a->ncut) - sizeof(*a)) == 0;
}

/* Compiles n's answer to qtype into *out (malloc'd), or NULL when it is
 * exactly the zone's NODATA (only the SOA, NOERROR): those are shared.
 * referral: the answer is also given to names below n. */
static int compile_one(struct builder *b, struct zone *z, struct zone_node *n,
		       uint16_t qtype, bool referral, struct zone_answer **out)
{
	bool wildcard = n->name[0] == 1 && n->name[1] == '*';
	builder_start(b, z, n->name, wildcard);
	b->chain[b->nchain++] = n;
	answer_at(b, n, n->name, qtype);
	if (b->looked_up)
		n->flags |= ZONE_NODE_VOLATILE;
	if (!b->overflow && b->nsets == 1 && b->nsoa == 1 &&
	    b->rcode == RCODE_NOERROR && b->aa) {
		*out = NULL;
		return 0;
	}
	if (b->used_soa)
		n->flags |= ZONE_NODE_VOLATILE;
	/* Only a wildcard's answers and referrals are given to longer
	 * names: no other needs its pointers moved. */
	if (!wildcard && !referral)
		b->nfix = 0;
	return builder_finish(b, out);
}

/* The types whose answer differs at n: its own, plus those found along
 * its CNAME chain. */
static size_t answer_types(const struct zone *z, const struct zone_node *n,
			   uint16_t *types, size_t max)
{
	size_t count = 0;
	const struct zone_node *cur = n;
	for (int depth = 0; cur != NULL && depth < CHAIN_MAX; depth++) {
		for (uint32_t i = 0; i < cur->nrrsets; i++) {
			uint16_t t = cur->rrsets[i].type;
			bool seen = false;
			for (size_t j = 0; j < count; j++)
				seen = seen || types[j] == t;
			if (!seen && count < max)
				types[count++] = t;
		}
		const struct zone_rrset *cname =
		    zone_node_rrset(cur, RRTYPE_CNAME);
		if (cname == NULL)
			break;
		const struct zone_node *next = NULL;
		bool looked = false;
		if (resolve(z, cname->packed + 2, &next, &looked) !=
		    RESOLVE_NODE)
			break;
		cur = next;
	}
	return count;
}

#define NODE_MAX_ANSWERS 256

/* Frees a[0..n), where one answer may appear more than once. */
static void free_distinct(struct zone_answer **a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < i && a[k] != a[i])
			k++;
		if (k == i)
			free(a[i]);
	}
}

/* The leaves of one entry's choice tree: n answers, one per slot of the
 * draft d (malloc'd, NULL for the zone's NODATA and for a slot that is a
 * nested choice) with their shares; n == 0: no choice. */
struct leafset {
	uint32_t n;
	struct zone_answer **ans;
	const struct zone_choice_draft *d; /* kind, keys, extra data, tree */
	/* A CNAME chain's entry (ZONE_ENTRY_CHAIN): the name whose choice
	 * it is, hashed instead of the query's (NULL: the node's own). */
	const uint8_t *hash_name;
	uint8_t hash_name_len;
};

/* The bytes before a chain entry's first choice: its name, 8-aligned. */
static size_t chain_head_bytes(const struct leafset *ls)
{
	return ls->hash_name == NULL
		   ? 0
		   : ((size_t)1 + ls->hash_name_len + 7) & ~(size_t)7;
}

static size_t node_bytes(const struct zone_choice_draft_node *dn)
{
	return (zone_choice_head_bytes(dn->n) + dn->extra_len + 7) & ~(size_t)7;
}

/* The bytes of ls's choices (its tree's nodes, one after the other). */
static size_t choice_bytes(const struct leafset *ls)
{
	size_t total = 0;
	for (uint32_t j = 0; j < ls->d->nnodes; j++)
		total += node_bytes(&ls->d->nodes[j]);
	return total;
}

/* Packs the answers of n into one allocation (n->block), sharing equal
 * ones; frees the pieces. ans[0..nans) by type, then def and ref; ls
 * (NULL, or nans + 1 entries, the last for every other type): the entries
 * that are choices. */
static int node_pack(struct zone *z, struct zone_node *n, const uint16_t *types,
		     struct zone_answer **ans, size_t nans,
		     struct zone_answer *def, struct zone_answer *ref,
		     const struct leafset *ls)
{
	bool def_choice = ls != NULL && ls[nans].n > 0;
	size_t nentries = nans + def_choice, nleaves = 0;
	for (size_t i = 0; ls != NULL && i <= nans; i++)
		nleaves += ls[i].n;
	size_t nall = nans + 2 + nleaves;
	/* The four work arrays in one piece: on the stack for the usual
	 * node (a few types), else one malloc (a million nodes: four
	 * million malloc/free pairs less). */
	_Static_assert(sizeof(uintptr_t) == sizeof(size_t) &&
			   sizeof(uintptr_t) == sizeof(void *),
		       "work arrays share one word size");
	uintptr_t local[96];
	size_t words = 3 * nall + nans + 1;
	uintptr_t *work = words <= sizeof(local) / sizeof(local[0])
			      ? local
			      : (words < SIZE_MAX / sizeof(*work)
				     ? malloc(words * sizeof(*work))
				     : NULL);
	struct zone_answer **all = NULL, **placed = NULL;
	size_t *where = NULL, *choff = NULL;
	size_t total =
	    (nentries * sizeof(struct zone_answer_entry) + 7) & ~(size_t)7;
	size_t k = 0, rc = 0;
	if (work == NULL) {
		rc = 1;
		goto out;
	}
	all = (struct zone_answer **)(void *)work;
	where = (size_t *)(void *)(work + nall);
	placed = (struct zone_answer **)(void *)(work + 2 * nall);
	choff = (size_t *)(void *)(work + 3 * nall);
	for (size_t i = 0; i < nans; i++)
		all[k++] = ans[i];
	all[k++] = def;
	all[k++] = ref;
	for (size_t i = 0; ls != NULL && i <= nans; i++) {
		choff[i] = 0;
		if (ls[i].n == 0)
			continue;
		choff[i] = total;
		total += chain_head_bytes(&ls[i]) + choice_bytes(&ls[i]);
		for (uint32_t l = 0; l < ls[i].n; l++)
			all[k++] = ls[i].ans[l];
	}
	/* where[i]: offset in the block, or (SIZE_MAX - k) for "same as
	 * all[k]", or SIZE_MAX for NULL. */
	for (size_t i = 0; i < nall; i++) {
		where[i] = SIZE_MAX;
		if (all[i] == NULL)
			continue;
		size_t j;
		for (j = 0; j < i; j++) {
			if (all[j] != NULL && where[j] < SIZE_MAX - nall &&
			    (all[j] == all[i] || answer_same(all[j], all[i])))
				break;
		}
		if (j < i) {
			where[i] = SIZE_MAX - 1 - j;
			continue;
		}
		where[i] = total;
		total += answer_size(all[i]->len, all[i]->nfix, all[i]->ncut);
	}
	uint8_t *block = total ? zone_node_mem_alloc(z, n, total) : NULL;
	if (total && block == NULL) {
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < nall; i++) {
		if (all[i] == NULL)
			placed[i] = NULL;
		else if (where[i] >= SIZE_MAX - nall)
			placed[i] = placed[SIZE_MAX - 1 - where[i]];
		else
			placed[i] = answer_copy(block + where[i], all[i]);
	}
	n->block = block;
	struct zone_answer_entry *e = (struct zone_answer_entry *)block;
	size_t leaf = nans + 2;
	for (size_t i = 0; i < nentries; i++) {
		e[i].type = i < nans ? types[i] : 0;
		e[i].choice = 0;
		if (ls != NULL && ls[i].n > 0) {
			const struct zone_choice_draft *d = ls[i].d;
			uint32_t nodeoff[ZONE_CHOICE_MAX_NODES];
			size_t at = choff[i] + chain_head_bytes(&ls[i]);
			if (ls[i].hash_name != NULL) {
				uint8_t *h = block + choff[i];
				memset(h, 0, chain_head_bytes(&ls[i]));
				h[0] = ls[i].hash_name_len;
				memcpy(h + 1, ls[i].hash_name,
				       ls[i].hash_name_len);
			}
			for (uint32_t j = 0; j < d->nnodes; j++) {
				nodeoff[j] = (uint32_t)at;
				at += node_bytes(&d->nodes[j]);
			}
			for (uint32_t j = 0; j < d->nnodes; j++) {
				const struct zone_choice_draft_node *dn =
				    &d->nodes[j];
				struct zone_choice *c =
				    (struct zone_choice *)(void *)(block +
								   nodeoff[j]);
				uint32_t cum = 0;
				c->n = (uint16_t)dn->n;
				c->kind = dn->kind;
				c->reserved = 0;
				bool keyed = dn->kind != ZONE_CHOICE_WEIGHTED;
				for (uint32_t l = 0; l < dn->n; l++) {
					uint32_t s = dn->first + l;
					size_t slot = leaf + s;
					cum += d->weights[s];
					c->leaf[l].cum =
					    keyed ? d->weights[s] : cum;
					if (d->child[s] >= 0)
						c->leaf[l].off =
						    nodeoff[d->child[s]] |
						    ZONE_CHOICE_SUB;
					else
						c->leaf[l].off =
						    placed[slot] == NULL
							? 0
							: (uint32_t)((uint8_t
									  *)placed
									 [slot] -
								     block);
				}
				c->total = keyed ? 0 : cum;
				if (dn->extra_len > 0)
					memcpy((uint8_t *)c +
						   zone_choice_head_bytes(c->n),
					       dn->extra, dn->extra_len);
			}
			leaf += ls[i].n;
			e[i].choice = ls[i].hash_name != NULL
					  ? ZONE_ENTRY_CHAIN
					  : ZONE_ENTRY_CHOICE;
			e[i].off = (uint32_t)choff[i];
			continue;
		}
		e[i].off = placed[i] == NULL
			       ? 0
			       : (uint32_t)((uint8_t *)placed[i] - block);
	}
	n->nanswers = (uint16_t)nentries;
	n->default_answer = placed[nans];
	n->referral = placed[nans + 1];
out:
	if (all != NULL) {
		free_distinct(all, nall);
	} else {
		free_distinct(ans, nans);
		free(def);
		free(ref);
		for (size_t i = 0; ls != NULL && i <= nans; i++)
			free_distinct(ls[i].ans, ls[i].n);
	}
	if (work != local)
		free(work);
	return rc ? Q53_ENOMEM : 0;
}

static bool answer_eq(const struct zone_answer *a, const struct zone_answer *b)
{
	return a == NULL || b == NULL ? a == b : a == b || answer_same(a, b);
}

static void leafsets_free(struct leafset *ls, size_t n)
{
	for (size_t i = 0; ls != NULL && i < n; i++) {
		free_distinct(ls[i].ans, ls[i].n);
		free(ls[i].ans);
	}
	free(ls);
}

/* The entries of n (types[0..ntypes), then every other type when with_def)
 * whose answer differs by leaf of one of the build's choices for n: their
 * leaves in (*out)[0..ntypes] (calloc'd; NULL when none differs). */
static int compile_choices(struct builder *b, struct zone *z,
			   struct zone_node *n, const uint16_t *types,
			   size_t ntypes, struct zone_answer *const *ans,
			   const struct zone_answer *def, struct leafset **out)
{
	size_t nd;
	const struct zone_choice_draft *d = zone_choices_of(z, n, &nd);
	struct leafset *ls = NULL;
	int rc = 0;

	*out = NULL;
	for (size_t i = 0; i <= ntypes && rc == 0; i++) {
		uint16_t qtype = i < ntypes ? types[i] : 0;
		const struct zone_answer *base = i < ntypes ? ans[i] : def;
		if (i == ntypes && def == NULL)
			break;
		for (size_t k = 0; k < nd; k++) {
			struct zone_rrset *rr =
			    (struct zone_rrset *)zone_node_rrset(n, d[k].type);
			if (rr == NULL)
				continue;
			struct zone_answer **la = calloc(d[k].n, sizeof(*la));
			if (la == NULL) {
				rc = Q53_ENOMEM;
				break;
			}
			struct zone_rrset save = *rr;
			/* A keyed choice (geolocation, ...) stays one even
			 * when its leaves answer alike: a client it does not
			 * place gets NODATA; so does a tree (its levels may
			 * be keyed). */
			bool differs = (d[k].kind != ZONE_CHOICE_WEIGHTED ||
					d[k].nnodes > 1) &&
				       i < ntypes && qtype == d[k].type;
			for (uint32_t l = 0; l < d[k].n && rc == 0; l++) {
				if (d[k].child[l] >= 0)
					continue; /* a nested choice */
				rr->ttl = d[k].leaves[l].ttl;
				rr->count = d[k].leaves[l].count;
				rr->packed = d[k].leaves[l].packed;
				rc = compile_one(b, z, n, qtype, false, &la[l]);
				differs = differs || !answer_eq(la[l], base);
			}
			*rr = save;
			if (rc == 0 && differs && ls == NULL) {
				ls = calloc(ntypes + 1, sizeof(*ls));
				if (ls == NULL)
					rc = Q53_ENOMEM;
			}
			if (rc != 0 || !differs) {
				free_distinct(la, d[k].n);
				free(la);
				continue;
			}
			ls[i] = (struct leafset){d[k].n, la, &d[k], NULL, 0};
			break;
		}
	}
	if (rc != 0) {
		leafsets_free(ls, ntypes + 1);
		return rc;
	}
	*out = ls;
	return 0;
}

/* A CNAME node n whose chain (in the zone) ends at a name answering by
 * a query-time choice: the entries of types[0..ntypes) that type's
 * choice picks, each leaf the chain's answer with that leaf's records at
 * its end, into (*out)[0..ntypes] (calloc'd; NULL when none), hashed as
 * the end's name (ZONE_ENTRY_CHAIN) so that the chain picks as a direct
 * query for it would. */
static int compile_chain_choices(struct builder *b, struct zone *z,
				 struct zone_node *n, const uint16_t *types,
				 size_t ntypes, struct leafset **out)
{
	const struct zone_node *cur = n, *t = NULL;
	struct leafset *ls = NULL;
	int rc = 0;

	*out = NULL;
	if (z->nchoices == 0)
		return 0;
	for (int depth = 0; depth < CHAIN_MAX; depth++) {
		const struct zone_rrset *cname =
		    zone_node_rrset(cur, RRTYPE_CNAME);
		if (cname == NULL) {
			t = cur;
			break;
		}
		const struct zone_node *next = NULL;
		bool looked = false;
		if (resolve(z, cname->packed + 2, &next, &looked) !=
			RESOLVE_NODE ||
		    next == n)
			return 0;
		cur = next;
	}
	/* A wildcard's synthesized name is not the node's: left alone. */
	if (t == NULL || t == n || t->cut != NULL ||
	    (t->name_len >= 2 && t->name[0] == 1 && t->name[1] == '*'))
		return 0;
	size_t nd;
	const struct zone_choice_draft *d = zone_choices_of(z, t, &nd);
	for (size_t i = 0; d != NULL && i < ntypes && rc == 0; i++) {
		uint16_t qtype = types[i];
		if (rrtype_beside_cname(qtype) || qtype == RRTYPE_ANY ||
		    qtype == RRTYPE_CNAME)
			continue;
		for (size_t k = 0; k < nd; k++) {
			if (d[k].type != qtype)
				continue;
			struct zone_rrset *rr =
			    (struct zone_rrset *)zone_node_rrset(t, qtype);
			if (rr == NULL)
				break;
			struct zone_answer **la = calloc(d[k].n, sizeof(*la));
			if (la == NULL ||
			    (ls == NULL &&
			     (ls = calloc(ntypes + 1, sizeof(*ls))) == NULL)) {
				free(la);
				rc = Q53_ENOMEM;
				break;
			}
			struct zone_rrset save = *rr;
			for (uint32_t l = 0; l < d[k].n && rc == 0; l++) {
				if (d[k].child[l] >= 0)
					continue; /* a nested choice */
				rr->ttl = d[k].leaves[l].ttl;
				rr->count = d[k].leaves[l].count;
				rr->packed = d[k].leaves[l].packed;
				rc = compile_one(b, z, n, qtype, false, &la[l]);
			}
			*rr = save;
			ls[i] = (struct leafset){d[k].n, la, &d[k], t->name,
						 t->name_len};
			break;
		}
	}
	if (rc != 0) {
		leafsets_free(ls, ntypes + 1);
		return rc;
	}
	*out = ls;
	return 0;
}

static int compile_node(struct builder *b, struct zone *z, struct zone_node *n)
{
	uint16_t types[NODE_MAX_ANSWERS];
	struct zone_answer *ans[NODE_MAX_ANSWERS] = {0};
	struct zone_answer *def = NULL, *ref = NULL;
	size_t ntypes = 0;
	int rc = 0;

	bool choices = n->flags & ZONE_NODE_CHOICE;
	struct leafset *ls = NULL;
	n->flags &= (uint8_t) ~(ZONE_NODE_VOLATILE | ZONE_NODE_CHOICE);
	zone_node_mem_free(n, n->block);
	n->block = NULL;
	n->nanswers = 0;
	n->default_answer = NULL;
	n->referral = NULL;
	if (n->cut != NULL && n->cut != n) {
		/* Beneath a delegation: the cut's referral (compiled first). */
		n->default_answer = n->cut->referral;
		return 0;
	}
	if (n->cut != NULL) {
		rc = compile_one(b, z, n, RRTYPE_NS, true, &ref);
		if (rc != 0)
			return rc;
		types[ntypes++] = RRTYPE_DS;
	} else {
		ntypes = answer_types(z, n, types, 252);
		types[ntypes++] = RRTYPE_ANY;
		if (zone_node_rrset(n, RRTYPE_CNAME) != NULL) {
			types[ntypes++] = RRTYPE_RRSIG;
			types[ntypes++] = RRTYPE_NSEC;
			/* Type 0 is never stored: the chain's NODATA. */
			rc = compile_one(b, z, n, 0, false, &def);
			if (rc != 0)
				goto fail;
		}
	}
	for (size_t i = 0; i < ntypes; i++) {
		/* ANY at a name of one RRset answers with that RRset: the
		 * same answer as its own type (compiled before ANY). */
		if (types[i] == RRTYPE_ANY && n->nrrsets == 1 && i > 0 &&
		    types[0] == n->rrsets[0].type && n->cut == NULL &&
		    n->rrsets[0].type != RRTYPE_CNAME) {
			ans[i] = ans[0];
			continue;
		}
		rc = compile_one(b, z, n, types[i], false, &ans[i]);
		if (rc != 0)
			goto fail;
	}
	if (n->cut == n) {
		/* The referral also answers every other type: one copy. */
		rc = node_pack(z, n, types, ans, ntypes, NULL, ref, NULL);
		if (rc == 0)
			n->default_answer = n->referral;
		return rc;
	}
	if (choices) {
		rc = compile_choices(b, z, n, types, ntypes, ans, def, &ls);
		if (rc != 0)
			goto fail;
	} else if (zone_node_rrset(n, RRTYPE_CNAME) != NULL) {
		rc = compile_chain_choices(b, z, n, types, ntypes, &ls);
		if (rc != 0)
			goto fail;
	}
	rc = node_pack(z, n, types, ans, ntypes, def, NULL, ls);
	if (ls != NULL) {
		/* node_pack freed the leaves' answers, not their arrays. */
		for (size_t i = 0; i <= ntypes; i++)
			free(ls[i].ans);
		free(ls);
	}
	return rc;

fail:
	free_distinct(ans, ntypes);
	free(def);
	free(ref);
	return rc;
}

static int compile_negative(struct builder *b, struct zone *z, uint8_t rcode,
			    const struct zone_answer **out)
{
	struct zone_answer *a;
	builder_start(b, z, z->origin, false);
	b->rcode = rcode;
	put_soa(b);
	int rc = builder_finish(b, &a);
	if (rc == 0)
		*out = a;
	return rc;
}

static int compile_fail(struct zone_node *n, int rc, char *errbuf,
			size_t errlen)
{
	char text[DNAME_MAXLEN * 4 + 1];
	dname_to_text(n->name, text, sizeof(text));
	snprintf(errbuf, errlen,
		 "answer for %s does not fit in a DNS message (%s)", text,
		 q53_strerror(rc));
	return rc;
}

int zone_compile_nodes(struct zone *z, struct zone_node *const *nodes, size_t n,
		       char *errbuf, size_t errlen)
{
	struct builder *b = malloc(sizeof(*b));
	int rc = 0;
	if (b == NULL)
		return Q53_ENOMEM;
	if (z->nxdomain == NULL) {
		rc = compile_negative(b, z, RCODE_NXDOMAIN, &z->nxdomain);
		if (rc == 0)
			rc = compile_negative(b, z, RCODE_NOERROR, &z->nodata);
		if (rc != 0) {
			snprintf(errbuf, errlen,
				 "cannot compile negative answers: %s",
				 q53_strerror(rc));
			goto out;
		}
	}
	/* Delegations first: names beneath them answer with their referral. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (nodes[i]->cut == nodes[i]) {
			rc = compile_node(b, z, nodes[i]);
			if (rc != 0)
				rc = compile_fail(nodes[i], rc, errbuf, errlen);
		}
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (nodes[i]->cut == nodes[i])
			continue;
		rc = compile_node(b, z, nodes[i]);
		if (rc != 0)
			rc = compile_fail(nodes[i], rc, errbuf, errlen);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (nodes[i]->flags & (ZONE_NODE_VOLATILE | ZONE_NODE_HEALTH))
			rc = zone_vol_add(z, nodes[i]);
	}
out:
	free(b);
	return rc;
}

int zone_compile(struct zone *z, char *errbuf, size_t errlen)
{
	return zone_compile_nodes(z, z->nodes, z->nnodes, errbuf, errlen);
}
