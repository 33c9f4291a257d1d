/* One record's value in presentation format <-> wire RDATA, through the
 * same parsers the zone loader uses (libzscanner to wire, libknot to text),
 * so a value accepted here is stored exactly as a zone file would store
 * it. Pure functions: no state kept between calls. */
#ifndef Q53_NODE_DNSDATA_RDATA_TEXT_H
#define Q53_NODE_DNSDATA_RDATA_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RDATA_TEXT_WIRE_MAX 65535

/* Converts value (presentation format of one record of type, NUL-terminated,
 * e.g. "10 mail.example.com" for MX) to wire RDATA in out[0..outcap) and
 * sets *rdlen. Domain names inside the value are absolute whether or not
 * they end in a dot (Route 53 semantics: there is no $ORIGIN to append).
 * The generic form "\# 4 c0000201" is accepted. Values holding a line
 * break, a NUL or more than one record are refused.
 * Returns 0; Q53_EINVAL with a reason in err (always NUL-terminated) when
 * the value does not parse; Q53_ENOSPC when outcap is too small;
 * Q53_ENOMEM. */
int rdata_text_to_wire(uint16_t type, const char *value, uint8_t *out,
		       size_t outcap, uint16_t *rdlen, char *err,
		       size_t errlen);

/* Writes the presentation form of rdata[0..rdlen) of type into out
 * (NUL-terminated, names absolute with the final dot). Falls back to the
 * generic "\# len hex" form for RDATA the type's dumper refuses.
 * Returns 0; Q53_ENOSPC when outlen is too small; Q53_ENOMEM. */
int rdata_text_from_wire(uint16_t type, const uint8_t *rdata, uint16_t rdlen,
			 char *out, size_t outlen);

/* rdata_text_from_wire with generic_fallback true; false refuses RDATA the
 * type's dumper cannot show (Q53_EMALF). In rdata_print.c, with
 * rdata_text_from_wire and rdata_text_type_name: libknot only, no
 * libzscanner. */
int rdata_text_print(uint16_t type, const uint8_t *rdata, uint16_t rdlen,
		     char *out, size_t outlen, bool generic_fallback);

/* Checks that rdata[0..rdlen) is well-formed RDATA of type, as this module
 * would produce it: it must print as text and parse back to the same
 * bytes (used on untrusted stored data, e.g. a snapshot). Returns 0,
 * Q53_EMALF, or Q53_ENOMEM. */
int rdata_text_check_wire(uint16_t type, const uint8_t *rdata, uint16_t rdlen);

/* The mnemonic of a type ("AAAA", "TYPE65400" for unknown ones) into out
 * (NUL-terminated). Returns 0 or Q53_ENOSPC. */
int rdata_text_type_name(uint16_t type, char *out, size_t outlen);

#endif
