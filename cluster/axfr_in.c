#include "cluster/axfr_in.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include "node/common/errcode.h"

/* Largest text of one record (libknot grows its buffer up to this). */
#define AXFR_IN_RR_TEXT_MAX (1u << 20)

struct axfr_in_state {
	knot_dname_t *zone;
	bool signing;
	knot_tsig_key_t key;
	uint8_t mac[64];
	size_t mac_len;
	uint64_t time_signed;
	uint16_t id;
	uint32_t serial; /* of the first SOA */
	bool have_soa;
	size_t text_cap;
	char *rr;
	size_t rr_cap;
};

int axfr_in_init(struct axfr_in *a, const char *zone, const char *tsig)
{
	struct axfr_in_state *st;

	memset(a, 0, sizeof(*a));
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return Q53_ENOMEM;
	a->st = st;
	st->zone = knot_dname_from_str_alloc(zone);
	if (st->zone == NULL) {
		snprintf(a->err, sizeof(a->err), "'%.64s' is not a zone name",
			 zone);
		return Q53_EINVAL;
	}
	knot_dname_to_lower(st->zone);
	if (tsig != NULL) {
		char *copy = strdup(tsig), *alg, *secret;
		int rv;
		if (copy == NULL)
			return Q53_ENOMEM;
		alg = strchr(copy, ':');
		secret = alg != NULL ? strchr(alg + 1, ':') : NULL;
		if (alg == NULL || secret == NULL) {
			free(copy);
			snprintf(a->err, sizeof(a->err),
				 "--tsig wants NAME:ALG:SECRET (base64)");
			return Q53_EINVAL;
		}
		*alg++ = '\0';
		*secret++ = '\0';
		rv = knot_tsig_key_init(&st->key, alg, copy, secret);
		free(copy);
		if (rv != KNOT_EOK) {
			snprintf(a->err, sizeof(a->err),
				 "--tsig: bad key name, algorithm or secret "
				 "(%s)",
				 knot_strerror(rv));
			return Q53_EINVAL;
		}
		st->signing = true;
	}
	st->text_cap = 4096;
	a->text = malloc(st->text_cap);
	st->rr_cap = 4096; /* knot_rrset_txt_dump grows it */
	st->rr = malloc(st->rr_cap);
	if (a->text == NULL || st->rr == NULL)
		return Q53_ENOMEM;
	a->text[0] = '\0';
	return 0;
}

void axfr_in_free(struct axfr_in *a)
{
	struct axfr_in_state *st = a->st;

	if (st != NULL) {
		knot_dname_free(st->zone, NULL);
		if (st->signing)
			knot_tsig_key_deinit(&st->key);
		free(st->rr);
		free(st);
	}
	free(a->text);
	memset(a, 0, sizeof(*a));
}

size_t axfr_in_query(struct axfr_in *a, uint16_t id, uint8_t *buf, size_t cap)
{
	struct axfr_in_state *st = a->st;
	size_t zlen = knot_dname_size(st->zone);
	size_t len = 12 + zlen + 4;

	if (cap < 512 || len > cap)
		return 0;
	memset(buf, 0, 12);
	knot_wire_set_id(buf, id);
	knot_wire_set_qdcount(buf, 1);
	memcpy(buf + 12, st->zone, zlen);
	knot_wire_write_u16(buf + 12 + zlen, KNOT_RRTYPE_AXFR);
	knot_wire_write_u16(buf + 14 + zlen, KNOT_CLASS_IN);
	st->id = id;
	if (st->signing) {
		st->mac_len = sizeof(st->mac);
		if (knot_tsig_sign(buf, &len, cap, NULL, 0, st->mac,
				   &st->mac_len, &st->key, 0, 0) != KNOT_EOK)
			return 0;
	}
	return len;
}

static int append(struct axfr_in *a, const char *s, size_t n)
{
	struct axfr_in_state *st = a->st;

	if (a->text_len + n + 1 > st->text_cap) {
		size_t cap = st->text_cap * 2;
		char *p;
		while (cap < a->text_len + n + 1)
			cap *= 2;
		p = realloc(a->text, cap);
		if (p == NULL)
			return Q53_ENOMEM;
		a->text = p;
		st->text_cap = cap;
	}
	memcpy(a->text + a->text_len, s, n);
	a->text_len += n;
	a->text[a->text_len] = '\0';
	return 0;
}

static int refuse(struct axfr_in *a, const char *fmt, const char *arg)
{
	snprintf(a->err, sizeof(a->err), fmt, arg);
	return Q53_EMALF;
}

int axfr_in_feed(struct axfr_in *a, uint8_t *msg, size_t len)
{
	struct axfr_in_state *st = a->st;
	knot_pkt_t *pkt;
	int rv = 0;

	if (a->done)
		return refuse(a, "%s", "a message after the closing SOA");
	if (len < 12 || len > 65535)
		return refuse(a, "%s", "a message of a bad size");
	pkt = knot_pkt_new(msg, (uint16_t)len, NULL);
	if (pkt == NULL)
		return Q53_ENOMEM;
	if (knot_pkt_parse(pkt, 0) != KNOT_EOK) {
		rv = refuse(a, "%s", "a malformed message");
		goto out;
	}
	if (!knot_wire_get_qr(msg) || knot_wire_get_id(msg) != st->id) {
		rv = refuse(a, "%s", "not an answer to our request");
		goto out;
	}
	if (knot_wire_get_rcode(msg) != KNOT_RCODE_NOERROR) {
		const knot_lookup_t *r = knot_lookup_by_id(
		    knot_rcode_names, knot_wire_get_rcode(msg));
		rv = refuse(a, "the primary answered %s",
			    r != NULL ? r->name : "an error");
		goto out;
	}
	if (st->signing) {
		int c;
		if (pkt->tsig_rr == NULL) {
			/* RFC 8945 5.3.1 allows unsigned messages between
			 * signed ones; we want every message signed. */
			rv = refuse(a, "%s", "an unsigned message");
			goto out;
		}
		c = a->messages == 0
			? knot_tsig_client_check(pkt->tsig_rr, pkt->wire,
						 pkt->size, st->mac,
						 st->mac_len, &st->key, 0)
			: knot_tsig_client_check_next(pkt->tsig_rr, pkt->wire,
						      pkt->size, st->mac,
						      st->mac_len, &st->key, 0);
		if (c != KNOT_EOK) {
			rv = refuse(a, "TSIG check failed: %s",
				    knot_strerror(c));
			goto out;
		}
		st->mac_len = knot_tsig_rdata_mac_length(pkt->tsig_rr);
		if (st->mac_len > sizeof(st->mac)) {
			rv = refuse(a, "%s", "a TSIG MAC too long");
			goto out;
		}
		memcpy(st->mac, knot_tsig_rdata_mac(pkt->tsig_rr), st->mac_len);
	}
	a->messages++;
	const knot_pktsection_t *an = knot_pkt_section(pkt, KNOT_ANSWER);
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (a->done) {
			rv = refuse(a, "%s", "records after the closing SOA");
			goto out;
		}
		knot_dname_storage_t lower;
		int depth;
		if (knot_dname_size(rr->owner) > sizeof(lower)) {
			rv = refuse(a, "%s", "a malformed owner");
			goto out;
		}
		knot_dname_copy_lower(lower, rr->owner);
		depth = knot_dname_in_bailiwick(lower, st->zone);
		if (rr->rclass != KNOT_CLASS_IN || depth < 0) {
			rv = refuse(a, "%s", "a record outside the zone");
			goto out;
		}
		if (rr->type == KNOT_RRTYPE_SOA) {
			if (depth != 0) {
				rv = refuse(a, "%s", "an SOA below the apex");
				goto out;
			}
			if (rr->rrs.count != 1) {
				rv = refuse(a, "%s", "an SOA set of several");
				goto out;
			}
			if (st->have_soa) {
				/* The closing SOA: the first's again. */
				a->done = true;
				continue;
			}
			st->have_soa = true;
			st->serial = knot_soa_serial(rr->rrs.rdata);
		} else if (!st->have_soa) {
			rv = refuse(a, "%s", "the first record is not the SOA");
			goto out;
		}
		int n = knot_rrset_txt_dump(rr, &st->rr, &st->rr_cap,
					    &KNOT_DUMP_STYLE_DEFAULT);
		if (n < 0 || st->rr_cap > AXFR_IN_RR_TEXT_MAX) {
			rv = refuse(a, "%s", "a record that cannot be printed");
			goto out;
		}
		rv = append(a, st->rr, (size_t)n);
		if (rv != 0)
			goto out;
		a->records += rr->rrs.count;
	}
out:
	knot_pkt_free(pkt);
	return rv;
}
