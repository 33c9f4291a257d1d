/* RR types, classes and rcodes the server treats specially. */
#ifndef Q53_NODE_DNSDATA_RRTYPE_H
#define Q53_NODE_DNSDATA_RRTYPE_H

#include <stdbool.h>
#include <stdint.h>

enum {
	RRTYPE_A = 1,
	RRTYPE_NS = 2,
	RRTYPE_CNAME = 5,
	RRTYPE_SOA = 6,
	RRTYPE_PTR = 12,
	RRTYPE_MX = 15,
	RRTYPE_AAAA = 28,
	RRTYPE_SRV = 33,
	RRTYPE_DNAME = 39,
	RRTYPE_OPT = 41,
	RRTYPE_DS = 43,
	RRTYPE_RRSIG = 46,
	RRTYPE_NSEC = 47,
	RRTYPE_SVCB = 64,
	RRTYPE_HTTPS = 65,
	RRTYPE_TKEY = 249,
	RRTYPE_TSIG = 250,
	RRTYPE_IXFR = 251,
	RRTYPE_AXFR = 252,
	RRTYPE_MAILB = 253,
	RRTYPE_MAILA = 254,
	RRTYPE_ANY = 255,
};

enum { RRCLASS_IN = 1, RRCLASS_CH = 3, RRCLASS_NONE = 254, RRCLASS_ANY = 255 };

enum {
	RCODE_NOERROR = 0,
	RCODE_FORMERR = 1,
	RCODE_SERVFAIL = 2,
	RCODE_NXDOMAIN = 3,
	RCODE_NOTIMP = 4,
	RCODE_REFUSED = 5,
	RCODE_BADVERS = 16,
};

/* Types that exist only in questions or as pseudo-records (RFC 6895 3.1):
 * OPT and 128..255 other than the data types that live there. */
static inline bool rrtype_is_meta(uint16_t t)
{
	return t == RRTYPE_OPT || (t >= 128 && t <= 255) || t == 0;
}

/* Types answered at a CNAME's owner rather than through the chain: the
 * CNAME itself, ANY (RFC 8482: one RRset of the name), and the DNSSEC
 * types that may sit beside a CNAME (RFC 4035 2.5). */
static inline bool rrtype_beside_cname(uint16_t t)
{
	return t == RRTYPE_CNAME || t == RRTYPE_ANY || t == RRTYPE_RRSIG ||
	       t == RRTYPE_NSEC;
}

#endif
