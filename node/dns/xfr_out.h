/* Outbound zone transfers (AXFR RFC 5936, IXFR RFC 1995) and NOTIFY
 * (RFC 1996) on the wire, signed with TSIG (RFC 8945, HMAC-SHA256 through
 * libknot's tsig-op: no HMAC of our own).
 *
 * Two halves:
 * - the hand-off: the TCP server (tcp.c) calls dns_xfr_take for every
 *   complete query; an AXFR or IXFR query is given, with a dup of the
 *   connection's descriptor, to the handler the runtime registered
 *   (node/runtime/xfr_server.c, which answers it on the loop from the FSM),
 *   and the TCP server forgets the connection. Without a handler (static
 *   mode) nothing is taken and query.c refuses the transfer as before.
 * - a transfer session (struct xfr_out): parses the untrusted request,
 *   checks its TSIG against the key the caller found, and packs the
 *   answer's records into a stream of length-prefixed messages, each one
 *   signed. Pure apart from libknot's clock check of the TSIG time. */
#ifndef Q53_NODE_DNS_XFR_OUT_H
#define Q53_NODE_DNS_XFR_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* --- the hand-off (any worker thread) --- */

/* Takes fd (a dup the handler owns and closes), the peer and the query
 * (copy it: the bytes are the worker's). Returns false when it did not
 * take it (the caller closes fd). Called on a DNS worker thread. */
typedef bool (*dns_xfr_handler_fn)(void *arg, int fd,
				   const struct sockaddr_storage *peer,
				   const uint8_t *query, size_t len, bool tcp);
/* Registers (fn NULL: removes) the handler; before the workers start or
 * after they stopped (not synchronised with them). */
void dns_xfr_set_handler(dns_xfr_handler_fn fn, void *arg);
/* Whether query[0..len) is a request for the handler that it took over
 * with a dup of fd: over TCP a transfer (opcode QUERY, one question of
 * type AXFR or IXFR; the caller then closes its connection without
 * answering), over TCP and UDP any TSIG-signed query (a secondary's SOA
 * query: the keys live on the loop; the caller answers nothing). */
bool dns_xfr_take(int fd, const struct sockaddr_storage *peer,
		  const uint8_t *query, size_t len, bool tcp);

/* --- a transfer session --- */

#define XFR_QTYPE_IXFR 251
#define XFR_QTYPE_AXFR 252
/* Payload per message before its TSIG: Knot's and BIND's size. */
#define XFR_MSG_PAYLOAD 16384

struct xfr_out_state;

struct xfr_out {
	/* The request, once xfr_out_open succeeded. */
	uint16_t id;
	uint8_t opcode;	    /* 0 QUERY, 5 UPDATE */
	uint16_t qtype;	    /* XFR_QTYPE_AXFR or _IXFR, or any */
	uint8_t qname[255]; /* lowercase wire */
	size_t qname_len;
	bool has_serial; /* IXFR: the client's SOA serial */
	uint32_t serial;
	bool has_tsig;
	char tsig_name[256]; /* presentation, lowercase, final dot */
	/* The answer: messages, each with its 2-byte length. */
	uint8_t *stream;
	size_t stream_len;
	unsigned messages;
	unsigned records;
	struct xfr_out_state *st; /* private */
};

/* Parses query[0..len) (untrusted, copied): a QUERY of class IN with one
 * question (a transfer, or a signed query of another type). 0, Q53_EMALF
 * (nothing to answer) or Q53_ENOMEM. Release with xfr_out_close
 * in every case. */
int xfr_out_open(struct xfr_out *x, const uint8_t *query, size_t len);
void xfr_out_close(struct xfr_out *x);
/* Checks the request's TSIG with the key (name as in the request,
 * HMAC-SHA256, secret borrowed) and keeps it to sign the answer. Returns
 * 0, or the TSIG error (16 BADSIG, 17 BADKEY, 18 BADTIME, 22 BADTRUNC) to
 * answer NOTAUTH with (xfr_out_refuse), or Q53_ENOMEM (negative). */
int xfr_out_verify(struct xfr_out *x, const uint8_t *secret, size_t secret_len);
/* The answer is one message: the question, rcode (5 REFUSED, 9 NOTAUTH)
 * and, for tsig_error != 0 and a signed request, an unsigned TSIG with
 * that error. 0 or Q53_ENOMEM. */
int xfr_out_refuse(struct xfr_out *x, uint8_t rcode, uint16_t tsig_error);
/* Appends one record (owner lowercase wire, class IN) to the answer;
 * a full message is signed and a new one begun. 0, Q53_EINVAL (too big
 * for a message) or Q53_ENOMEM. */
int xfr_out_rr(struct xfr_out *x, const uint8_t *owner, size_t owner_len,
	       uint16_t type, uint32_t ttl, const uint8_t *rdata,
	       uint16_t rdlen);
/* An RFC 2136 UPDATE's records (xfr_out.opcode 5): the prerequisite
 * section (prereqs) or the update section, one entry per record; rdata
 * points into x's request (valid until xfr_out_close), may be empty.
 * Returns the count, cap + 1 when they do not fit. */
struct xfr_update_rr {
	uint8_t owner[255]; /* lowercase wire */
	size_t owner_len;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};
size_t xfr_out_update_rrs(const struct xfr_out *x, bool prereqs,
			  struct xfr_update_rr *out, size_t cap);
/* Sets the answer's rcode (a signed refusal of a signed query). */
void xfr_out_set_rcode(struct xfr_out *x, uint8_t rcode);
/* Signs the last message. 0 or Q53_ENOMEM. */
int xfr_out_finish(struct xfr_out *x);

/* --- NOTIFY --- */

/* A NOTIFY for zone (wire): the question only (the answer's SOA is
 * optional, RFC 1996 3.7; serial unused), into buf[0..cap) (cap >= 512 +
 * 256), signed when secret != NULL with the key named key_name
 * (HMAC-SHA256). Returns its length, 0 on failure. */
size_t xfr_notify_build(uint8_t *buf, size_t cap, uint16_t id,
			const uint8_t *zone, size_t zone_len, uint32_t serial,
			const char *key_name, const uint8_t *secret,
			size_t secret_len);
/* Whether msg[0..len) (untrusted) is an answer to the NOTIFY with this
 * id: QR, opcode NOTIFY, rcode NOERROR (a NOTAUTH or REFUSED answer is
 * an answer too: *rcode says which). */
bool xfr_notify_is_answer(const uint8_t *msg, size_t len, uint16_t id,
			  unsigned *rcode);

#endif
