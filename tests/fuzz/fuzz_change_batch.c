/* libFuzzer target for Route 53 change batches: arbitrary bytes, as an API
 * client may send them, go to change_batch_parse. It must never crash or
 * leak; a refusal says why in err with one of the two documented prefixes;
 * an accepted batch keeps the documented limits and holds exactly the
 * strings of the document (re-read here with jansson): a "\u0000" inside a
 * name or value must be refused, not silently cut.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_change_batch CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why, size_t change)
{
	fprintf(stderr,
		"\n*** change_batch invariant violated: %s (change %zu)\n", why,
		change);
	abort();
}

/* The accepted strings equal the document's, byte for byte. */
static void check_strings(const struct change_batch *b, const uint8_t *data,
			  size_t size)
{
	json_error_t jerr;
	json_t *root =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		fail("accepted a document jansson refuses", 0);
	json_t *changes = json_object_get(root, "Changes");
	if (json_array_size(changes) != b->nchanges)
		fail("nchanges differs from the document", 0);
	for (size_t i = 0; i < b->nchanges; i++) {
		const struct change_rrset *rs = &b->changes[i].rrset;
		json_t *rrs = json_object_get(json_array_get(changes, i),
					      "ResourceRecordSet");
		json_t *name = json_object_get(rrs, "Name");
		if (strlen(rs->name) != json_string_length(name) ||
		    memcmp(rs->name, json_string_value(name),
			   strlen(rs->name)) != 0)
			fail("Name differs from the document (NUL cut?)", i);
		json_t *list = json_object_get(rrs, "ResourceRecords");
		if (json_array_size(list) != rs->nvalues)
			fail("nvalues differs from the document", i);
		for (size_t k = 0; k < rs->nvalues; k++) {
			json_t *v =
			    json_object_get(json_array_get(list, k), "Value");
			if (strlen(rs->values[k]) != json_string_length(v))
				fail("a Value differs from the document "
				     "(NUL cut?)",
				     i);
		}
	}
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct change_batch *b = NULL;
	char err[512];
	memset(err, 'E', sizeof(err));
	int rc =
	    change_batch_parse(&b, (const char *)data, size, err, sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL)
		fail("err is not NUL-terminated", 0);
	if (rc != 0) {
		if (rc == Q53_ENOMEM)
			return 0;
		if (rc != Q53_EINVAL)
			fail("unexpected error code", 0);
		if (strncmp(err, "InvalidInput: ", 14) != 0 &&
		    strncmp(err, "InvalidChangeBatch: ", 20) != 0)
			fail("refusal without a documented prefix", 0);
		return 0;
	}
	if (b == NULL || b->nchanges == 0 || b->changes == NULL)
		fail("accepted an empty batch", 0);
	size_t records = 0;
	for (size_t i = 0; i < b->nchanges; i++) {
		const struct change *c = &b->changes[i];
		if (c->action != CHANGE_CREATE && c->action != CHANGE_DELETE &&
		    c->action != CHANGE_UPSERT)
			fail("bad action", i);
		if (c->rrset.name == NULL || c->rrset.name[0] == '\0')
			fail("no name", i);
		if (!change_batch_type_supported(c->rrset.type))
			fail("unsupported type accepted", i);
		if (c->rrset.ttl > CHANGE_BATCH_MAX_TTL)
			fail("TTL over the limit", i);
		if (c->rrset.nvalues > 0 && c->rrset.values == NULL)
			fail("values missing", i);
		for (size_t k = 0; k < c->rrset.nvalues; k++)
			if (c->rrset.values[k] == NULL ||
			    strlen(c->rrset.values[k]) >
				CHANGE_BATCH_MAX_VALUE_LEN)
				fail("value missing or too long", i);
		records +=
		    (c->action == CHANGE_UPSERT ? 2 : 1) * c->rrset.nvalues;
	}
	if (records > CHANGE_BATCH_MAX_RECORDS)
		fail("more records than a batch may hold", 0);
	check_strings(b, data, size);
	change_batch_free(b);
	return 0;
}
