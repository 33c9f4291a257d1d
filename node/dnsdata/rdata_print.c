/* Wire RDATA -> text with libknot's dumpers (no libzscanner): the half of
 * rdata_text.h the FSM library (q53_fsm) may use, for messages. */
#include "node/dnsdata/rdata_text.h"

#include <libknot/libknot.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/dnsdata/rdata_check.h"

int rdata_text_type_name(uint16_t type, char *out, size_t outlen)
{
	if (knot_rrtype_to_string(type, out, outlen) < 0)
		return Q53_ENOSPC;
	return 0;
}

int rdata_text_print(uint16_t type, const uint8_t *rdata, uint16_t rdlen,
		     char *out, size_t outlen, bool generic_fallback)
{
	static const uint8_t root[1] = {0};
	knot_rrset_t rr;
	knot_dump_style_t style = KNOT_DUMP_STYLE_DEFAULT;
	int rc;

	/* Malformed RDATA is only ever shown in RFC 3597 form: the typed
	 * dumpers trust their input. */
	rc = rdata_check(type, rdata, rdlen);
	if (rc == Q53_EMALF && generic_fallback)
		style.generic = true;
	else if (rc != 0)
		return rc;
	/* libknot's wire parser does not check type bitmaps, and its dumper
	 * trusts them: types that carry one are shown in RFC 3597 form. */
	if (type == KNOT_RRTYPE_NSEC || type == KNOT_RRTYPE_NSEC3 ||
	    type == KNOT_RRTYPE_CSYNC)
		style.generic = true;
	knot_rrset_init(&rr, (knot_dname_t *)root, type, KNOT_CLASS_IN, 0);
	if (knot_rrset_add_rdata(&rr, rdata, rdlen, NULL) != KNOT_EOK)
		return Q53_ENOMEM;
	style.wrap = false;
	rc = knot_rrset_txt_dump_data(&rr, 0, out, outlen, &style);
	if (rc < 0 && generic_fallback) {
		style.generic = true;
		rc = knot_rrset_txt_dump_data(&rr, 0, out, outlen, &style);
	}
	/* Not knot_rrset_clear: it would free the static owner. */
	knot_rdataset_clear(&rr.rrs, NULL);
	if (rc < 0) {
		if (outlen > 0)
			out[0] = '\0';
		return Q53_ENOSPC;
	}
	/* Some dumpers (CAA) leave a separator behind. */
	while (rc > 0 && out[rc - 1] == ' ')
		out[--rc] = '\0';
	return 0;
}

int rdata_text_from_wire(uint16_t type, const uint8_t *rdata, uint16_t rdlen,
			 char *out, size_t outlen)
{
	return rdata_text_print(type, rdata, rdlen, out, outlen, true);
}
