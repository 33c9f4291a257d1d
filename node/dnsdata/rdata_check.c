#include "node/dnsdata/rdata_check.h"

#include <libknot/libknot.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"

int rdata_check(uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
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
	knot_rrset_clear(&rr, NULL);
	free(wire);
	if (rc == KNOT_ENOMEM)
		return Q53_ENOMEM;
	return rc == KNOT_EOK && pos == len ? 0 : Q53_EMALF;
}
