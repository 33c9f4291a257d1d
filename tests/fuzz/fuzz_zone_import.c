/* libFuzzer target for zone imports as a request gives them: arbitrary
 * text goes to zone_text_parse_request (node/control/zone_text.h) for the
 * zone example.com.: libzscanner, then Route 53's checks
 * (node/dnsdata/rdata_policy.h, the TXT/SPF string pre-pass). It must
 * never crash or leak; a refusal says why with "InvalidInput: " or
 * "InvalidChangeBatch: "; accepted sets are in the zone, each with records
 * that pass rdata_check and rdata_policy_check_wire.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_zone_import CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/zone_store.h"
#include "node/control/zone_text.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rdata_check.h"
#include "node/dnsdata/rdata_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct zone_store store;
static bool ready;

static void fail(const char *why)
{
	fprintf(stderr, "\n*** zone import invariant violated: %s\n", why);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ns[] = {"ns1.example.net"};
	char err[1024], perr[512];
	struct zone_store_info info;
	struct zone_text_sets sets;

	if (!ready) {
		struct zone_store_create_params p = {
		    .id = "Z0123456789ABC",
		    .name = "example.com",
		    .nameservers = ns,
		    .nnameservers = 1,
		};
		zone_store_init(&store);
		if (zone_store_create(&store, &p, err, sizeof(err)) != 0)
			abort();
		ready = true;
	}
	if (zone_store_get(&store, "Z0123456789ABC", &info) != 0)
		abort();
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'E', sizeof(err));
	int rc =
	    zone_text_parse_request(&info, text, size, &sets, err, sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL)
		fail("err is not NUL-terminated");
	if (rc == Q53_EINVAL && strncmp(err, "InvalidInput: ", 14) != 0 &&
	    strncmp(err, "InvalidChangeBatch: ", 20) != 0)
		fail("a refusal without its prefix");
	if (rc != 0 && rc != Q53_EINVAL && rc != Q53_ENOMEM)
		fail("unexpected error code");
	if (rc == 0) {
		for (size_t i = 0; i < sets.n; i++) {
			const struct rrset_data *d = &sets.sets[i];
			if (!dname_is_sub(d->owner, d->owner_len, info.origin,
					  dname_wire_len(info.origin, 256)))
				fail("a set outside the zone");
			if (d->type == 2 && d->owner_len > 1 &&
			    d->owner[0] == 1 && d->owner[1] == '*')
				fail("a wildcard NS accepted");
			for (size_t k = 0; k < d->nrdata; k++) {
				if (rdata_check(d->type, d->rdata[k].data,
						d->rdata[k].len) == Q53_EMALF)
					fail("RDATA that rdata_check refuses");
				if (rdata_policy_check_wire(
					d->type, d->rdata[k].data,
					d->rdata[k].len, NULL, perr,
					sizeof(perr)) == Q53_EINVAL)
					fail("RDATA that rdata_policy refuses");
			}
		}
		zone_text_sets_free(&sets);
	}
	free(text);
	return 0;
}
