#include "node/dns/xfr_out.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "node/common/errcode.h"

/* --- the hand-off --- */

struct xfr_handler {
	dns_xfr_handler_fn fn;
	void *arg;
};

static _Atomic(struct xfr_handler *) xfr_handler;
static struct xfr_handler xfr_handler_slot;

void dns_xfr_set_handler(dns_xfr_handler_fn fn, void *arg)
{
	if (fn == NULL) {
		atomic_store(&xfr_handler, NULL);
		return;
	}
	xfr_handler_slot.fn = fn;
	xfr_handler_slot.arg = arg;
	atomic_store(&xfr_handler, &xfr_handler_slot);
}

/* Skips a (possibly compressed) name at q[*off]; false when malformed. */
static bool skip_name(const uint8_t *q, size_t len, size_t *off)
{
	for (unsigned labels = 0; labels < 128; labels++) {
		if (*off >= len)
			return false;
		uint8_t l = q[*off];
		if (l == 0) {
			*off += 1;
			return true;
		}
		if ((l & 0xc0) == 0xc0) {
			*off += 2;
			return *off <= len;
		}
		if ((l & 0xc0) != 0)
			return false;
		*off += 1 + (size_t)l;
	}
	return false;
}

/* What q is to the hand-off: a QUERY with one question whose type goes
 * to *qtype, and whether its last record is a TSIG. False: not a query. */
static bool classify(const uint8_t *q, size_t len, uint16_t *qtype,
		     bool *signed_)
{
	size_t off = 12;
	unsigned rrs;

	*signed_ = false;
	unsigned opcode;

	if (len < 12 + 5)
		return false;
	/* QUERY, or UPDATE (RFC 2136: its zone section is the question). */
	opcode = (q[2] >> 3) & 0xf;
	if ((q[2] & 0x80) != 0 || (opcode != 0 && opcode != 5) || q[4] != 0 ||
	    q[5] != 1)
		return false;
	if (!skip_name(q, len, &off) || off + 4 > len)
		return false;
	*qtype = (uint16_t)(q[off] << 8 | q[off + 1]);
	off += 4;
	rrs = (unsigned)(q[6] << 8 | q[7]) + (unsigned)(q[8] << 8 | q[9]) +
	      (unsigned)(q[10] << 8 | q[11]);
	if ((q[10] << 8 | q[11]) == 0)
		return true; /* no additional section: no TSIG */
	for (unsigned i = 0; i < rrs; i++) {
		uint16_t type, rdlen;
		if (!skip_name(q, len, &off) || off + 10 > len)
			return true; /* malformed: query.c says so */
		type = (uint16_t)(q[off] << 8 | q[off + 1]);
		rdlen = (uint16_t)(q[off + 8] << 8 | q[off + 9]);
		off += 10 + (size_t)rdlen;
		if (off > len)
			return true;
		if (i + 1 == rrs && type == 250)
			*signed_ = true;
	}
	return true;
}

bool dns_xfr_take(int fd, const struct sockaddr_storage *peer,
		  const uint8_t *query, size_t len, bool tcp)
{
	struct xfr_handler *h = atomic_load(&xfr_handler);
	uint16_t t = 0;
	bool signed_;
	int dupfd;

	/* Over UDP only a signed query is taken: no additional record, no
	 * TSIG (the common case costs two loads). */
	if (h == NULL || (!tcp && (len < 12 || (query[10] | query[11]) == 0)))
		return false;
	if (!classify(query, len, &t, &signed_))
		return false;
	if (!signed_ && !(tcp && (t == XFR_QTYPE_AXFR || t == XFR_QTYPE_IXFR)))
		return false;
	dupfd = dup(fd);
	if (dupfd < 0)
		return false;
	if (!h->fn(h->arg, dupfd, peer, query, len, tcp)) {
		close(dupfd);
		return false;
	}
	return true;
}

/* --- a transfer session --- */

#define XFR_MSG_MAX 65535

struct xfr_out_state {
	uint8_t *qwire;
	knot_pkt_t *query;
	knot_tsig_key_t key; /* name allocated when signing */
	bool signing;
	uint8_t digest[64]; /* the last MAC sent (or the request's) */
	size_t digest_len;
	uint8_t msg[XFR_MSG_MAX]; /* the message being filled */
	size_t msg_len;
	uint16_t ancount;
	size_t stream_cap;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int xfr_out_open(struct xfr_out *x, const uint8_t *query, size_t len)
{
	struct xfr_out_state *st;
	const knot_dname_t *qn;
	int rv;

	memset(x, 0, sizeof(*x));
	if (len < 12 || len > XFR_MSG_MAX)
		return Q53_EMALF;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return Q53_ENOMEM;
	x->st = st;
	st->qwire = malloc(len);
	if (st->qwire == NULL)
		return Q53_ENOMEM;
	memcpy(st->qwire, query, len);
	st->query = knot_pkt_new(st->qwire, (uint16_t)len, NULL);
	if (st->query == NULL)
		return Q53_ENOMEM;
	rv = knot_pkt_parse(st->query, 0);
	if (rv != KNOT_EOK)
		return Q53_EMALF;
	x->opcode = knot_wire_get_opcode(st->qwire);
	if (knot_wire_get_qr(st->qwire) ||
	    (x->opcode != KNOT_OPCODE_QUERY &&
	     x->opcode != KNOT_OPCODE_UPDATE) ||
	    knot_wire_get_qdcount(st->qwire) != 1)
		return Q53_EMALF;
	x->qtype = knot_pkt_qtype(st->query);
	if (knot_pkt_qclass(st->query) != KNOT_CLASS_IN)
		return Q53_EMALF;
	x->id = knot_wire_get_id(st->qwire);
	qn = knot_pkt_qname(st->query);
	x->qname_len = knot_dname_size(qn);
	if (x->qname_len == 0 || x->qname_len > sizeof(x->qname))
		return Q53_EMALF;
	knot_dname_copy_lower(x->qname, qn);
	if (x->qtype == XFR_QTYPE_IXFR) {
		/* RFC 1995 3: the client's SOA in the authority section. */
		const knot_pktsection_t *ns =
		    knot_pkt_section(st->query, KNOT_AUTHORITY);
		for (uint16_t i = 0; i < ns->count; i++) {
			const knot_rrset_t *rr = knot_pkt_rr(ns, i);
			if (rr->type == KNOT_RRTYPE_SOA && rr->rrs.count == 1 &&
			    rr->rrs.rdata->len >= 22) {
				x->has_serial = true;
				x->serial = knot_soa_serial(rr->rrs.rdata);
				break;
			}
		}
	}
	if (st->query->tsig_rr != NULL) {
		x->has_tsig = true;
		if (knot_dname_to_str(x->tsig_name, st->query->tsig_rr->owner,
				      sizeof(x->tsig_name)) == NULL)
			return Q53_EMALF;
		for (char *c = x->tsig_name; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	}
	/* The first message: header and the question. */
	memcpy(st->msg, st->qwire, 12);
	/* QR, the request's opcode, AA (RD echoed) */
	st->msg[2] = (uint8_t)(0x80 | (st->qwire[2] & 0x78) |
			       (x->opcode == KNOT_OPCODE_QUERY ? 0x04 : 0) |
			       (st->qwire[2] & 0x01));
	st->msg[3] = 0;
	put16(st->msg + 4, 1);
	memset(st->msg + 6, 0, 6);
	memcpy(st->msg + 12, x->qname, x->qname_len);
	put16(st->msg + 12 + x->qname_len, x->qtype);
	put16(st->msg + 14 + x->qname_len, KNOT_CLASS_IN);
	st->msg_len = 16 + x->qname_len;
	return 0;
}

void xfr_out_close(struct xfr_out *x)
{
	struct xfr_out_state *st = x->st;

	if (st != NULL) {
		if (st->query != NULL)
			knot_pkt_free(st->query);
		free(st->qwire);
		knot_dname_free(st->key.name, NULL);
		free(st);
	}
	free(x->stream);
	memset(x, 0, sizeof(*x));
}

int xfr_out_verify(struct xfr_out *x, const uint8_t *secret, size_t secret_len)
{
	struct xfr_out_state *st = x->st;
	const knot_rrset_t *tsig = st->query->tsig_rr;
	int rv;

	if (tsig == NULL)
		return KNOT_RCODE_BADKEY;
	if (knot_tsig_rdata_alg(tsig) != DNSSEC_TSIG_HMAC_SHA256)
		return KNOT_RCODE_BADKEY;
	st->key.algorithm = DNSSEC_TSIG_HMAC_SHA256;
	st->key.name = knot_dname_copy(tsig->owner, NULL);
	if (st->key.name == NULL)
		return Q53_ENOMEM;
	st->key.secret.data = (uint8_t *)secret;
	st->key.secret.size = secret_len;
	rv = knot_tsig_server_check(tsig, st->query->wire, st->query->size,
				    &st->key);
	switch (rv) {
	case KNOT_EOK:
		break;
	case KNOT_TSIG_EBADKEY:
		return KNOT_RCODE_BADKEY;
	case KNOT_TSIG_EBADTIME:
		return KNOT_RCODE_BADTIME;
	case KNOT_TSIG_EBADTRUNC:
		return KNOT_RCODE_BADTRUNC;
	default:
		return KNOT_RCODE_BADSIG;
	}
	st->signing = true;
	st->digest_len = knot_tsig_rdata_mac_length(tsig);
	if (st->digest_len > sizeof(st->digest))
		return KNOT_RCODE_BADSIG;
	memcpy(st->digest, knot_tsig_rdata_mac(tsig), st->digest_len);
	return 0;
}

static int stream_reserve(struct xfr_out *x, size_t more)
{
	struct xfr_out_state *st = x->st;
	size_t cap;
	uint8_t *p;

	if (x->stream_len + more <= st->stream_cap)
		return 0;
	cap = st->stream_cap < 65536 ? 65536 : st->stream_cap * 2;
	while (cap < x->stream_len + more)
		cap *= 2;
	p = realloc(x->stream, cap);
	if (p == NULL)
		return Q53_ENOMEM;
	x->stream = p;
	st->stream_cap = cap;
	return 0;
}

/* Signs the message being filled, appends it to the stream and begins the
 * next one (no question). */
static int flush_message(struct xfr_out *x)
{
	struct xfr_out_state *st = x->st;
	size_t dlen = sizeof(st->digest);
	int rv;

	put16(st->msg + 6, st->ancount);
	if (st->signing) {
		if (x->messages == 0)
			rv = knot_tsig_sign(st->msg, &st->msg_len, XFR_MSG_MAX,
					    st->digest, st->digest_len,
					    st->digest, &dlen, &st->key, 0, 0);
		else
			rv = knot_tsig_sign_next(
			    st->msg, &st->msg_len, XFR_MSG_MAX, st->digest,
			    st->digest_len, st->digest, &dlen, &st->key,
			    st->msg, st->msg_len);
		if (rv != KNOT_EOK)
			return Q53_ENOMEM;
		st->digest_len = dlen;
	}
	if (stream_reserve(x, 2 + st->msg_len) != 0)
		return Q53_ENOMEM;
	put16(x->stream + x->stream_len, (uint16_t)st->msg_len);
	memcpy(x->stream + x->stream_len + 2, st->msg, st->msg_len);
	x->stream_len += 2 + st->msg_len;
	x->messages++;
	/* The next message: the same header, no question, no records. */
	put16(st->msg + 4, 0);
	put16(st->msg + 6, 0);
	put16(st->msg + 8, 0);
	put16(st->msg + 10, 0);
	st->msg_len = 12;
	st->ancount = 0;
	return 0;
}

int xfr_out_refuse(struct xfr_out *x, uint8_t rcode, uint16_t tsig_error)
{
	struct xfr_out_state *st = x->st;

	st->signing = false;
	st->msg[3] = (uint8_t)(rcode & 0xf);
	st->msg[2] &= (uint8_t)~0x04; /* not authoritative */
	if (tsig_error != 0 && st->query->tsig_rr != NULL) {
		put16(st->msg + 6, 0);
		if (knot_tsig_add(st->msg, &st->msg_len, XFR_MSG_MAX,
				  tsig_error, st->query->tsig_rr) != KNOT_EOK)
			return Q53_ENOMEM;
		/* knot_tsig_add counted the TSIG in ARCOUNT. */
		if (stream_reserve(x, 2 + st->msg_len) != 0)
			return Q53_ENOMEM;
		put16(x->stream, (uint16_t)st->msg_len);
		memcpy(x->stream + 2, st->msg, st->msg_len);
		x->stream_len = 2 + st->msg_len;
		x->messages = 1;
		return 0;
	}
	return flush_message(x);
}

int xfr_out_rr(struct xfr_out *x, const uint8_t *owner, size_t owner_len,
	       uint16_t type, uint32_t ttl, const uint8_t *rdata,
	       uint16_t rdlen)
{
	struct xfr_out_state *st = x->st;
	size_t need = owner_len + 10 + rdlen;
	uint8_t *p;

	if (need > XFR_MSG_PAYLOAD)
		return Q53_EINVAL;
	if (st->msg_len + need > XFR_MSG_PAYLOAD && st->ancount > 0) {
		int rv = flush_message(x);
		if (rv != 0)
			return rv;
	}
	p = st->msg + st->msg_len;
	memcpy(p, owner, owner_len);
	p += owner_len;
	put16(p, type);
	put16(p + 2, KNOT_CLASS_IN);
	p[4] = (uint8_t)(ttl >> 24);
	p[5] = (uint8_t)(ttl >> 16);
	p[6] = (uint8_t)(ttl >> 8);
	p[7] = (uint8_t)ttl;
	put16(p + 8, rdlen);
	if (rdlen > 0)
		memcpy(p + 10, rdata, rdlen);
	st->msg_len += need;
	st->ancount++;
	x->records++;
	return 0;
}

size_t xfr_out_update_rrs(const struct xfr_out *x, bool prereqs,
			  struct xfr_update_rr *out, size_t cap)
{
	const knot_pktsection_t *sec = knot_pkt_section(
	    x->st->query, prereqs ? KNOT_ANSWER : KNOT_AUTHORITY);
	size_t n = 0;

	for (uint16_t i = 0; i < sec->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(sec, i);
		size_t olen = knot_dname_size(rr->owner);
		uint16_t count = rr->rrs.count > 0 ? rr->rrs.count : 1;
		for (uint16_t k = 0; k < count; k++) {
			struct xfr_update_rr *u;
			if (n == cap || olen > sizeof(out->owner))
				return cap + 1;
			u = &out[n++];
			knot_dname_copy_lower(u->owner, rr->owner);
			u->owner_len = olen;
			u->type = rr->type;
			u->rclass = rr->rclass;
			u->ttl = rr->ttl;
			u->rdata = NULL;
			u->rdlen = 0;
			if (rr->rrs.count > 0) {
				const knot_rdata_t *rd =
				    knot_rdataset_at(&rr->rrs, k);
				u->rdata = rd->data;
				u->rdlen = rd->len;
			}
		}
	}
	return n;
}

void xfr_out_set_rcode(struct xfr_out *x, uint8_t rcode)
{
	x->st->msg[3] = (uint8_t)(rcode & 0xf);
}

int xfr_out_finish(struct xfr_out *x)
{
	return flush_message(x);
}

/* --- NOTIFY --- */

size_t xfr_notify_build(uint8_t *buf, size_t cap, uint16_t id,
			const uint8_t *zone, size_t zone_len, uint32_t serial,
			const char *key_name, const uint8_t *secret,
			size_t secret_len)
{
	size_t len;

	(void)serial;
	if (cap < 512 + 256 || zone_len == 0 || zone_len > 255)
		return 0;
	memset(buf, 0, 12);
	put16(buf, id);
	buf[2] = (uint8_t)(KNOT_OPCODE_NOTIFY << 3 | 0x04); /* AA */
	put16(buf + 4, 1);
	memcpy(buf + 12, zone, zone_len);
	put16(buf + 12 + zone_len, KNOT_RRTYPE_SOA);
	put16(buf + 14 + zone_len, KNOT_CLASS_IN);
	len = 16 + zone_len;
	if (secret != NULL) {
		knot_tsig_key_t key = {.algorithm = DNSSEC_TSIG_HMAC_SHA256};
		uint8_t digest[64];
		size_t dlen = sizeof(digest);
		int rv;

		key.name = knot_dname_from_str_alloc(key_name);
		if (key.name == NULL)
			return 0;
		key.secret.data = (uint8_t *)secret;
		key.secret.size = secret_len;
		rv = knot_tsig_sign(buf, &len, cap, NULL, 0, digest, &dlen,
				    &key, 0, 0);
		knot_dname_free(key.name, NULL);
		if (rv != KNOT_EOK)
			return 0;
	}
	return len;
}

bool xfr_notify_is_answer(const uint8_t *msg, size_t len, uint16_t id,
			  unsigned *rcode)
{
	if (len < 12)
		return false;
	if ((uint16_t)(msg[0] << 8 | msg[1]) != id || (msg[2] & 0x80) == 0 ||
	    ((msg[2] >> 3) & 0xf) != KNOT_OPCODE_NOTIFY)
		return false;
	*rcode = msg[3] & 0xf;
	return true;
}
