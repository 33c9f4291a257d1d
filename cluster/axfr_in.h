/* The client side of AXFR (RFC 5936) for migrating a zone in (`q53 zone
 * import ZONE --axfr HOST:PORT [--tsig NAME:ALG:SECRET]`): the request,
 * optionally TSIG-signed (libknot's tsig-op), and the untrusted answer
 * messages turned, one by one, into zone-file text (absolute names,
 * libknot's presentation) that the existing import path parses and
 * commits as one change. Every message's TSIG is checked (RFC 8945 5.3.1:
 * each against the previous MAC). No I/O: the caller moves the bytes. */
#ifndef Q53_CLUSTER_AXFR_IN_H
#define Q53_CLUSTER_AXFR_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct axfr_in_state;

struct axfr_in {
	char *text; /* the zone so far, NUL-terminated (malloc'd) */
	size_t text_len;
	unsigned messages;
	unsigned records; /* the closing SOA not counted */
	bool done;	  /* the closing SOA was read */
	char err[256];
	struct axfr_in_state *st; /* private */
};

/* Starts a transfer of zone (presentation, final dot optional); tsig NULL
 * or "NAME:ALG:BASE64" (ALG: hmac-sha256, hmac-sha512, ...). 0, or
 * Q53_EINVAL (err says why) or Q53_ENOMEM (err empty). Release with
 * axfr_in_free. */
int axfr_in_init(struct axfr_in *a, const char *zone, const char *tsig);
void axfr_in_free(struct axfr_in *a);
/* The request into buf[0..cap) (cap >= 512), with id. Its length, 0 on
 * failure. */
size_t axfr_in_query(struct axfr_in *a, uint16_t id, uint8_t *buf, size_t cap);
/* One answer message msg[0..len) (untrusted; modified in place by the
 * TSIG check). 0 (a->done: the transfer is complete), or Q53_EMALF (err
 * says why: a malformed message, an error rcode, a bad TSIG, records
 * outside the zone, a wrong first record) or Q53_ENOMEM (err empty). */
int axfr_in_feed(struct axfr_in *a, uint8_t *msg, size_t len);

#endif
