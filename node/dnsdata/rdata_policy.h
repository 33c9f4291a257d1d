/* Route 53's checks of one record beyond what its type's syntax lets
 * through: the parsers (libzscanner, libknot) accept a CAA tag "is-sue", a
 * TXT string of 300 bytes (split in two) or a wildcard NS, which Route 53
 * refuses and resolvers choke on. Called at the edge, before a change batch
 * or a zone import is proposed; never by apply (a stricter rule in apply
 * would replay an old log differently). Pure: no allocation kept, no
 * state.
 *
 * Messages are Route 53's: "FATAL problem: Kind (explanation) encountered
 * with 'value'", which callers wrap as "Invalid Resource Record: '...'". */
#ifndef Q53_NODE_DNSDATA_RDATA_POLICY_H
#define Q53_NODE_DNSDATA_RDATA_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* A character string's limit (RFC 1035 3.3) and the CAA tag's (RFC 8659
 * 4.1.1). */
#define RDATA_POLICY_STRING_MAX	 255
#define RDATA_POLICY_CAA_TAG_MAX 15

/* The value as the user wrote it (a change batch's Value): for TXT and SPF
 * every character string at most 255 bytes and escapes complete; for CAA
 * the tag unquoted and the value in quotation marks. Returns 0, or
 * Q53_EINVAL with the reason in err (always NUL-terminated). */
int rdata_policy_check_text(uint16_t type, const char *value, char *err,
			    size_t errlen);

/* The wire RDATA (already well-formed for its type, rdata_check): CAA tag
 * and issue / issuewild / iodef value grammar (RFC 8659 4), DS / SSHFP /
 * TLSA digest lengths of their digest types, TLSA's assigned fields, NAPTR
 * flags and regexp-or-replacement (RFC 3403 4.1). value names the record in
 * err (NULL: printed from the RDATA). Returns 0, Q53_EINVAL with the
 * reason in err, or Q53_ENOMEM. */
int rdata_policy_check_wire(uint16_t type, const uint8_t *rdata, uint16_t rdlen,
			    const char *value, char *err, size_t errlen);

/* The owner (wire, uncompressed, well-formed): NS at a wildcard name is
 * refused (a referral for every name below, RFC 4592 4.2). Returns 0 or
 * Q53_EINVAL with the reason in err. */
int rdata_policy_check_owner(uint16_t type, const uint8_t *owner,
			     size_t owner_len, char *err, size_t errlen);

/* What a value of type looks like, in Route 53's documentation's words
 * ("priority mail-server, e.g. 10 mail.example.com"), for the message
 * of a value that does not parse; a generic phrase for other types. */
const char *rdata_policy_form(uint16_t type);

/* The message for a value of type that did not parse, into err:
 * "FATAL problem: InvalidRDATA (...) encountered with 'value'". The text
 * check's reason when it finds one (an incomplete escape, a string too
 * long), else the type's form and reason, the parser's (rdata_text_to_wire)
 * when it is in the user's terms (a line break, an empty value); reason
 * may be NULL and may alias err. */
void rdata_policy_parse_error(uint16_t type, const char *value,
			      const char *reason, char *err, size_t errlen);

#endif
