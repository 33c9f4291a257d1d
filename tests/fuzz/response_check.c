/* Invariants of dns_query_answer, checked on every fuzz input. libknot's
 * packet parser is the reference: a response it rejects (malformed, trailing
 * bytes, an OPT outside the additional section, two OPTs, an RDATA that does
 * not match its type) is a bug in the responder. */
#include "tests/fuzz/response_check.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define Q53_FUZZ_COUNT_MALLOC 1
#include <sanitizer/allocator_interface.h>
#endif
#endif

#define HDR_LEN	       12
#define FLAG1_QR       0x80
#define FLAG1_TC       0x02
#define FLAG1_RD       0x01
#define RCODE_FORMERR  1
#define RCODE_NOERROR  0
#define RCODE_NXDOMAIN 3
#define FLAG1_AA       0x04
#define MAX_CHAIN      64
#define EDNS_BADVERS   16
#ifndef Q53_FUZZ_BADVERS_FIRST
#define Q53_FUZZ_BADVERS_FIRST 0
#endif
#define OPCODE_QUERY 0

/* What libknot makes of the query: the facts the response must agree with. */
struct query_facts {
	bool parsed; /* KNOT_EOK or KNOT_ETRAIL */
	bool has_opt;
	uint16_t opt_payload;
	uint8_t opt_version;
	bool opt_do;
	uint16_t qdcount;
	uint8_t qname[KNOT_DNAME_MAXLEN];
	size_t qname_len;
	uint16_t qtype, qclass;
};

#ifdef Q53_FUZZ_COUNT_MALLOC
static _Thread_local bool in_answer;
static _Thread_local size_t answer_mallocs;

/* Aborts inside the allocation, so that the stack shows who allocated. */
static void count_malloc(const volatile void *ptr, size_t size)
{
	(void)ptr;
	if (in_answer) {
		in_answer = false;
		answer_mallocs++;
		fprintf(stderr,
			"\n*** response invariant violated: dns_query_answer "
			"called malloc(%zu); stack below\n",
			size);
		abort();
	}
}

static void ignore_free(const volatile void *ptr)
{
	(void)ptr;
}
#endif

static void dump_hex(const char *what, const uint8_t *b, size_t n)
{
	size_t shown = n < 1024 ? n : 1024;
	fprintf(stderr, "%s (%zu bytes):", what, n);
	for (size_t i = 0; i < shown; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ", b[i]);
	fprintf(stderr, "%s\n", shown < n ? " ..." : "");
}

static const uint8_t *cur_q;
static size_t cur_qlen;
static const struct dns_query_params *cur_p;

_Noreturn static void fail(const char *why, const uint8_t *r, size_t rlen)
{
	fprintf(stderr, "\n*** response invariant violated: %s\n", why);
	fprintf(stderr, "params: %s udp_payload=%u\n",
		cur_p->tcp ? "TCP" : "UDP", (unsigned)cur_p->udp_payload);
	dump_hex("query", cur_q, cur_qlen);
	if (r != NULL)
		dump_hex("response", r, rlen);
	abort();
}

#define CHECK(cond, r, rlen)                                                   \
	do {                                                                   \
		if (!(cond))                                                   \
			fail(#cond, (r), (rlen));                              \
	} while (0)

static void query_facts_read(struct query_facts *f, const uint8_t *q,
			     size_t qlen)
{
	memset(f, 0, sizeof(*f));
	if (qlen < HDR_LEN || qlen > DNS_MSG_MAX)
		return;
	/* knot may rewrite the wire (TSIG stripping): parse a copy. */
	uint8_t *copy = malloc(qlen);
	if (copy == NULL)
		abort();
	memcpy(copy, q, qlen);
	knot_pkt_t *pkt = knot_pkt_new(copy, (uint16_t)qlen, NULL);
	if (pkt == NULL)
		abort();
	int ret = knot_pkt_parse(pkt, 0);
	if (ret == KNOT_EOK || ret == KNOT_ETRAIL) {
		f->parsed = true;
		f->qdcount = knot_wire_get_qdcount(pkt->wire);
		if (f->qdcount == 1) {
			f->qname_len = pkt->qname_size;
			memcpy(f->qname, knot_pkt_qname(pkt), f->qname_len);
			f->qtype = knot_pkt_qtype(pkt);
			f->qclass = knot_pkt_qclass(pkt);
		}
		if (pkt->opt_rr != NULL) {
			f->has_opt = true;
			f->opt_payload = knot_edns_get_payload(pkt->opt_rr);
			f->opt_version = knot_edns_get_version(pkt->opt_rr);
			f->opt_do = knot_edns_do(pkt->opt_rr);
		}
	}
	knot_pkt_free(pkt);
	free(copy);
}

/* The largest UDP response this query allows (RFC 1035 4.2.1, RFC 6891
 * 6.2.5): 512 without EDNS, else the smaller of both sides' payload sizes,
 * never below 512. */
static size_t udp_limit(const struct query_facts *f, uint16_t ours)
{
	if (!f->parsed || !f->has_opt)
		return f->parsed ? 512 : ours;
	size_t lim = f->opt_payload < ours ? f->opt_payload : ours;
	return lim < 512 ? 512 : lim;
}

/* Case-insensitive: is name equal to or below parent? (both uncompressed
 * wire names, as libknot leaves them after parsing) */
static bool name_at_or_below(const uint8_t *name, const uint8_t *parent)
{
	size_t nl = knot_dname_size(name), pl = knot_dname_size(parent);
	if (pl > nl)
		return false;
	/* Walk name's labels to the suffix of parent's length. */
	const uint8_t *p = name;
	while ((size_t)(p - name) < nl - pl)
		p += *p + 1;
	return (size_t)(p - name) == nl - pl &&
	       knot_dname_is_case_equal(p, parent);
}

static bool name_in(const uint8_t *name, const uint8_t *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (knot_dname_is_case_equal(name, set[i]))
			return true;
	return false;
}

static bool name_below_any(const uint8_t *name, const uint8_t *const *set,
			   size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (name_at_or_below(set[i], name))
			return true;
	return false;
}

/* What the records of an answer must look like, whatever the zone: the
 * answer section is a CNAME chain from the question name ending at records
 * of the asked type; the authority section holds the SOA or NS (and DS) of
 * an ancestor of a name in that chain; the additional section holds only
 * addresses and the OPT. Error answers carry no records. */
static void check_records(const knot_pkt_t *pkt, const struct query_facts *f,
			  const uint8_t *r, size_t rlen)
{
	/* With EDNS the rcode has 12 bits (BADVERS is 16). */
	uint16_t rcode = knot_pkt_ext_rcode(pkt);
	bool tc = knot_wire_get_tc(pkt->wire);
	const knot_pktsection_t *an = knot_pkt_section(pkt, KNOT_ANSWER);
	const knot_pktsection_t *ns = knot_pkt_section(pkt, KNOT_AUTHORITY);
	const knot_pktsection_t *ar = knot_pkt_section(pkt, KNOT_ADDITIONAL);

	for (knot_section_t s = KNOT_ANSWER; s <= KNOT_ADDITIONAL; s++) {
		const knot_pktsection_t *sec = knot_pkt_section(pkt, s);
		for (uint16_t i = 0; i < sec->count; i++) {
			const knot_rrset_t *rr = knot_pkt_rr(sec, i);
			if (rr->type == KNOT_RRTYPE_OPT)
				continue;
			/* CHAOS TXT (--identity, --server-version) answers
			 * in class CH, only to a CH TXT question (the echoed
			 * one: it is checked against the query below). */
			CHECK(rr->rclass == KNOT_CLASS_IN ||
				  (rr->rclass == KNOT_CLASS_CH &&
				   knot_pkt_qclass(pkt) == KNOT_CLASS_CH &&
				   knot_pkt_qtype(pkt) == KNOT_RRTYPE_TXT &&
				   rr->type == KNOT_RRTYPE_TXT),
			      r, rlen);
			CHECK(rr->ttl <= INT32_MAX, r, rlen);
		}
	}
	if (rcode != RCODE_NOERROR && rcode != RCODE_NXDOMAIN) {
		CHECK(an->count == 0 && ns->count == 0, r, rlen);
		CHECK(ar->count == (pkt->opt_rr != NULL ? 1 : 0), r, rlen);
		return;
	}
	if (knot_wire_get_qdcount(pkt->wire) != 1 || !f->parsed)
		return;

	const uint8_t *chain[MAX_CHAIN];
	size_t nchain = 0;
	uint16_t qtype = knot_pkt_qtype(pkt);
	chain[nchain++] = knot_pkt_qname(pkt);
	size_t ncname = 0;
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		CHECK(name_in(rr->owner, chain, nchain), r, rlen);
		CHECK(rr->type == qtype || rr->type == KNOT_RRTYPE_CNAME ||
			  qtype == KNOT_RRTYPE_ANY,
		      r, rlen);
		if (rr->type == KNOT_RRTYPE_CNAME) {
			ncname++;
			if (nchain < MAX_CHAIN)
				chain[nchain++] =
				    knot_cname_name(rr->rrs.rdata);
		}
	}
	size_t nsoa = 0, nns = 0;
	for (uint16_t i = 0; i < ns->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(ns, i);
		CHECK(rr->type == KNOT_RRTYPE_SOA ||
			  rr->type == KNOT_RRTYPE_NS ||
			  rr->type == KNOT_RRTYPE_DS,
		      r, rlen);
		CHECK(name_below_any(rr->owner, chain, nchain), r, rlen);
		nsoa += rr->type == KNOT_RRTYPE_SOA;
		nns += rr->type == KNOT_RRTYPE_NS;
	}
	CHECK(nsoa <= 1, r, rlen);
	CHECK(nsoa == 0 || nns == 0, r, rlen);
	for (uint16_t i = 0; i < ar->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(ar, i);
		CHECK(rr->type == KNOT_RRTYPE_A ||
			  rr->type == KNOT_RRTYPE_AAAA ||
			  rr->type == KNOT_RRTYPE_OPT,
		      r, rlen);
	}
	if (tc)
		return; /* sections may stop anywhere */
	if (rcode == RCODE_NXDOMAIN) {
		/* Only the CNAMEs that led to the missing name, then the
		 * SOA of its zone (RFC 2308 2.1). */
		CHECK(ncname == an->count, r, rlen);
		CHECK(nsoa == 1, r, rlen);
	}
	if (rcode == RCODE_NOERROR && an->count == 0) {
		/* NODATA (SOA, authoritative) or a referral (NS, not). */
		CHECK(nsoa + nns > 0, r, rlen);
		bool aa = (pkt->wire[2] & FLAG1_AA) != 0;
		CHECK(aa == (nsoa == 1), r, rlen);
	}
}

static void check_response(const struct query_facts *f, const uint8_t *q,
			   size_t qlen, const struct dns_query_params *p,
			   const uint8_t *r, size_t rlen, size_t outcap)
{
	bool droppable = qlen < HDR_LEN || (q[2] & FLAG1_QR) != 0;
	if (rlen == 0) {
		CHECK(droppable, r, rlen);
		return;
	}
	CHECK(!droppable, r, rlen);
	CHECK(rlen <= outcap, r, outcap);
	CHECK(rlen >= HDR_LEN, r, rlen);
	if (p->tcp) {
		CHECK((r[2] & FLAG1_TC) == 0, r, rlen);
	} else {
		CHECK(rlen <= p->udp_payload, r, rlen);
		CHECK(rlen <= udp_limit(f, p->udp_payload), r, rlen);
	}
	/* Header: ID, QR, opcode and RD as RFC 1035 4.1.1 says. */
	CHECK(r[0] == q[0] && r[1] == q[1], r, rlen);
	CHECK((r[2] & FLAG1_QR) != 0, r, rlen);
	CHECK((r[2] & 0x78) == (q[2] & 0x78), r, rlen);
	CHECK((r[2] & FLAG1_RD) == (q[2] & FLAG1_RD), r, rlen);

	/* The whole response must parse, with nothing left over. */
	uint8_t *copy = malloc(rlen);
	if (copy == NULL)
		abort();
	memcpy(copy, r, rlen);
	knot_pkt_t *pkt = knot_pkt_new(copy, (uint16_t)rlen, NULL);
	if (pkt == NULL)
		abort();
	int ret = knot_pkt_parse(pkt, 0);
	if (ret != KNOT_EOK) {
		char why[128];
		snprintf(why, sizeof(why), "knot_pkt_parse(response) = %s",
			 knot_strerror(ret));
		fail(why, r, rlen);
	}
	uint16_t qd = knot_wire_get_qdcount(pkt->wire);
	uint16_t rcode = knot_pkt_ext_rcode(pkt);
	uint8_t opcode = (uint8_t)((q[2] >> 3) & 0x0f);
	CHECK(qd <= 1, r, rlen);

	if (f->parsed && f->qdcount == 1 && rcode != RCODE_FORMERR &&
	    opcode == OPCODE_QUERY)
		CHECK(qd == 1, r, rlen);
	if (f->parsed && f->qdcount == 1 && qd == 1) {
		/* The question comes back byte for byte: same case too, which
		 * resolvers using 0x20 randomisation check. */
		CHECK(pkt->qname_size == f->qname_len, r, rlen);
		CHECK(memcmp(knot_pkt_qname(pkt), f->qname, f->qname_len) == 0,
		      r, rlen);
		CHECK(knot_pkt_qtype(pkt) == f->qtype, r, rlen);
		CHECK(knot_pkt_qclass(pkt) == f->qclass, r, rlen);
	}

	/* EDNS (RFC 6891 7, 6.1.3): OPT in the answer iff OPT in the query,
	 * version 0 only, BADVERS for any other version. */
	if (f->parsed && !f->has_opt)
		CHECK(pkt->opt_rr == NULL, r, rlen);
	if (f->parsed && rcode != RCODE_FORMERR) {
		CHECK(f->has_opt == (pkt->opt_rr != NULL), r, rlen);
		if (pkt->opt_rr != NULL) {
			CHECK(knot_edns_get_version(pkt->opt_rr) == 0, r, rlen);
			bool badvers = knot_pkt_ext_rcode(pkt) == EDNS_BADVERS;
			/* RFC 6891 6.1.3 puts BADVERS before any other
			 * verdict; query.c answers an unknown opcode with
			 * NOTIMP first (reported), so that order is not
			 * checked yet: set Q53_FUZZ_BADVERS_FIRST to do it. */
			if (opcode == OPCODE_QUERY || Q53_FUZZ_BADVERS_FIRST)
				CHECK(badvers == (f->opt_version != 0), r,
				      rlen);
			else
				CHECK(!badvers || f->opt_version != 0, r, rlen);
		}
	}
	if (pkt->opt_rr != NULL && f->has_opt)
		CHECK(knot_edns_do(pkt->opt_rr) == f->opt_do, r, rlen);
	check_records(pkt, f, r, rlen);
	knot_pkt_free(pkt);
	free(copy);
}

static size_t answer_into(const struct serving_view *view,
			  const struct dns_query_params *p, const uint8_t *q,
			  size_t qlen, uint8_t *out, size_t outcap)
{
#ifdef Q53_FUZZ_COUNT_MALLOC
	static bool hooked;
	if (!hooked) {
		__sanitizer_install_malloc_and_free_hooks(count_malloc,
							  ignore_free);
		hooked = true;
	}
	answer_mallocs = 0;
	in_answer = true;
#endif
	size_t n = dns_query_answer(view, p, q, qlen, out, outcap);
#ifdef Q53_FUZZ_COUNT_MALLOC
	in_answer = false;
	if (answer_mallocs != 0)
		fail("dns_query_answer called malloc", out,
		     n <= outcap ? n : 0);
#endif
	return n;
}

_Noreturn void response_check_fail(const char *why, const uint8_t *q,
				   size_t qlen, const uint8_t *r, size_t rlen)
{
	fprintf(stderr, "\n*** response invariant violated: %s\n", why);
	dump_hex("query", q, qlen);
	dump_hex("response", r, rlen);
	abort();
}

size_t response_check_answer(const struct serving_view *view,
			     const struct dns_query_params *p, const uint8_t *q,
			     size_t qlen)
{
	return response_check_answer_keep(view, p, q, qlen, NULL);
}

size_t response_check_answer_keep(const struct serving_view *view,
				  const struct dns_query_params *p,
				  const uint8_t *q, size_t qlen, uint8_t *keep)
{
	cur_q = q;
	cur_qlen = qlen;
	cur_p = p;
	/* Exactly the size the contract asks for: ASan flags one byte more. */
	size_t outcap = p->tcp ? DNS_MSG_MAX : p->udp_payload;
	uint8_t *a = malloc(outcap), *b = malloc(outcap);
	if (a == NULL || b == NULL)
		abort();
	memset(a, 0xa5, outcap);
	memset(b, 0x5a, outcap);

	struct query_facts f;
	query_facts_read(&f, q, qlen);
	size_t na = answer_into(view, p, q, qlen, a, outcap);
	check_response(&f, q, qlen, p, a, na, outcap);
	/* Same query, other garbage in the buffer: the same bytes must come
	 * out (no read of unwritten output, no state kept between calls). */
	size_t nb = answer_into(view, p, q, qlen, b, outcap);
	CHECK(na == nb, b, nb);
	CHECK(memcmp(a, b, na) == 0, b, nb);
	if (keep != NULL)
		memcpy(keep, a, na);
	free(a);
	free(b);
	return na;
}
