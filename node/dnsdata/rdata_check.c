#include "node/dnsdata/rdata_check.h"

#include <libknot/libknot.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"

/* SVCB and HTTPS (RFC 9460 2.2), which libknot's wire parser takes as
 * opaque bytes while its dumper and the zone compiler read the target name
 * and the parameters: priority, an uncompressed target name inside the
 * RDATA, then parameters in strictly increasing key order, each value of
 * the length its key needs. */
static bool svcb_ok(const uint8_t *rdata, uint16_t rdlen)
{
	if (rdlen < 3)
		return false;
	size_t name = dname_wire_len(rdata + 2, (size_t)rdlen - 2);
	if (name == 0)
		return false;
	size_t pos = 2 + name;
	long last = -1;
	while (pos < rdlen) {
		if (rdlen - pos < 4)
			return false;
		unsigned key = (unsigned)rdata[pos] << 8 | rdata[pos + 1];
		size_t len = (size_t)rdata[pos + 2] << 8 | rdata[pos + 3];
		pos += 4;
		if ((long)key <= last || len > rdlen - pos)
			return false;
		last = (long)key;
		const uint8_t *v = rdata + pos;
		switch (key) {
		case 0: /* mandatory */
			if (len == 0 || len % 2 != 0)
				return false;
			break;
		case 1: /* alpn: non-empty length-prefixed strings */
			if (len == 0)
				return false;
			for (size_t k = 0; k < len; k += 1u + v[k])
				if (v[k] == 0 || v[k] > len - k - 1)
					return false;
			break;
		case 2: /* no-default-alpn */
			if (len != 0)
				return false;
			break;
		case 3: /* port */
			if (len != 2)
				return false;
			break;
		case 4: /* ipv4hint */
			if (len == 0 || len % 4 != 0)
				return false;
			break;
		case 6: /* ipv6hint */
			if (len == 0 || len % 16 != 0)
				return false;
			break;
		default: /* ech, dohpath, keyNNNNN: opaque */
			break;
		}
		pos += len;
	}
	return true;
}

int rdata_check(uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	/* Addresses: libknot checks the length only (the common records
	 * of large zones, checked at import and again at every build). */
	if (type == KNOT_RRTYPE_A)
		return rdlen == 4 ? 0 : Q53_EMALF;
	if (type == KNOT_RRTYPE_AAAA)
		return rdlen == 16 ? 0 : Q53_EMALF;
	/* One RR with the root as owner: what knot_rrset_rr_from_wire reads. */
	size_t len = 11 + (size_t)rdlen, pos = 0;
	uint8_t *wire = malloc(len);
	knot_rrset_t rr;
	int rc;

	if (wire == NULL)
		return Q53_ENOMEM;
	wire[0] = 0;
	wire[1] = (uint8_t)(type >> 8);
	wire[2] = (uint8_t)type;
	wire[3] = 0;
	wire[4] = KNOT_CLASS_IN;
	memset(wire + 5, 0, 4);
	wire[9] = (uint8_t)(rdlen >> 8);
	wire[10] = (uint8_t)rdlen;
	if (rdlen > 0)
		memcpy(wire + 11, rdata, rdlen);
	knot_rrset_init_empty(&rr);
	rc = knot_rrset_rr_from_wire(wire, &pos, len, &rr, NULL, false);
	/* The parser follows compression pointers (here into the synthesised
	 * owner) and stores the names expanded: stored RDATA must already be
	 * what it stores, byte for byte (untrusted log entries and snapshots
	 * carry wire RDATA). */
	bool same =
	    rc == KNOT_EOK && rr.rrs.count == 1 && rr.rrs.rdata->len == rdlen &&
	    (rdlen == 0 || memcmp(rr.rrs.rdata->data, rdata, rdlen) == 0);
	knot_rrset_clear(&rr, NULL);
	free(wire);
	if (rc == KNOT_ENOMEM)
		return Q53_ENOMEM;
	if (same && (type == KNOT_RRTYPE_SVCB || type == KNOT_RRTYPE_HTTPS))
		same = svcb_ok(rdata, rdlen);
	return same && pos == len ? 0 : Q53_EMALF;
}
