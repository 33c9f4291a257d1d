/* libFuzzer target for Route 53's XML request bodies: arbitrary bytes, as
 * an HTTP client may send them, go to r53_xml_change_batch and
 * r53_xml_create_zone, r53_xml_create_health_check and
 * r53_xml_update_health_check, r53_xml_zone_comment, r53_xml_change_tags,
 * r53_xml_resource_ids, r53_xml_create_cidr_collection and
 * r53_xml_change_cidr_collection (whose Cidr texts then go to
 * cidr_block_parse). They must never crash, hang or leak; a refusal
 * is "InvalidInput: ..."; an accepted change batch is JSON that the node's
 * change batch parser then reads (accepted or refused with a message,
 * never a crash).
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_route53_xml CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/api/route53/r53_xml.h"
#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/cidr_block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why) __attribute__((noreturn));
static void fail(const char *why)
{
	fprintf(stderr, "\n*** route53 XML invariant violated: %s\n", why);
	abort();
}

static void check_err(int rv, const char *err)
{
	if (rv == Q53_EINVAL && strncmp(err, "InvalidInput: ", 14) != 0)
		fail("a refusal that is not InvalidInput");
	if (rv != 0 && rv != Q53_EINVAL && rv != Q53_ENOMEM)
		fail("an unexpected return code");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	char *json = NULL;
	int rv = r53_xml_change_batch(data, size, &json, err, sizeof(err));
	check_err(rv, err);
	if (rv == 0) {
		struct change_batch *b = NULL;
		if (json == NULL)
			fail("accepted without JSON");
		int pr = change_batch_parse(&b, json, strlen(json), err,
					    sizeof(err));
		if (pr == 0)
			change_batch_free(b);
		else if (memchr(err, '\0', sizeof(err)) == NULL)
			fail("the batch parser's err is not terminated");
		free(json);
	} else if (json != NULL) {
		fail("refused but JSON returned");
	}
	struct r53_create_zone z;
	rv = r53_xml_create_zone(data, size, &z, err, sizeof(err));
	check_err(rv, err);
	if (rv == 0 && (z.name == NULL || z.caller_reference == NULL))
		fail("accepted without Name or CallerReference");
	r53_create_zone_free(&z);
	char *ref = NULL, *cfg = NULL;
	rv = r53_xml_create_health_check(data, size, &ref, &cfg, err,
					 sizeof(err));
	check_err(rv, err);
	if (rv == 0 && (ref == NULL || cfg == NULL))
		fail("a health check accepted without its parts");
	free(ref);
	free(cfg);
	uint64_t version;
	char *fields = NULL;
	rv = r53_xml_update_health_check(data, size, &version, &fields, err,
					 sizeof(err));
	check_err(rv, err);
	if ((rv == 0) != (fields != NULL))
		fail("update: fields iff accepted");
	free(fields);
	char *comment = NULL;
	rv = r53_xml_zone_comment(data, size, &comment, err, sizeof(err));
	check_err(rv, err);
	if (rv != 0 && comment != NULL)
		fail("comment: refused but a comment returned");
	free(comment);
	struct r53_tags t;
	rv = r53_xml_change_tags(data, size, &t, err, sizeof(err));
	check_err(rv, err);
	if (t.n_add > R53_XML_LIST_MAX || t.n_remove > R53_XML_LIST_MAX)
		fail("tags: more entries than R53_XML_LIST_MAX");
	for (size_t i = 0; rv == 0 && i < t.n_add; i++)
		if (t.keys[i] == NULL || t.values[i] == NULL)
			fail("tags: a NULL key or value accepted");
	r53_tags_free(&t);
	char **ids = NULL;
	size_t n = 0;
	rv = r53_xml_resource_ids(data, size, &ids, &n, err, sizeof(err));
	check_err(rv, err);
	if (rv == 0 && (n == 0 || n > R53_XML_LIST_MAX))
		fail("resource ids: accepted none or too many");
	r53_strings_free(ids, n);
	char *name = NULL;
	ref = NULL;
	rv = r53_xml_create_cidr_collection(data, size, &name, &ref, err,
					    sizeof(err));
	check_err(rv, err);
	if (rv == 0 && (name == NULL || ref == NULL))
		fail("cidr create: accepted without Name or CallerReference");
	free(name);
	free(ref);
	struct r53_cidr_changes cc;
	rv = r53_xml_change_cidr_collection(data, size, &cc, err, sizeof(err));
	check_err(rv, err);
	if (cc.n > R53_XML_CIDR_MAX)
		fail("cidr change: more changes than R53_XML_CIDR_MAX");
	for (size_t i = 0; rv == 0 && i < cc.n; i++) {
		if (cc.v[i].action == NULL || cc.v[i].location == NULL ||
		    cc.v[i].n > R53_XML_CIDR_MAX)
			fail(
			    "cidr change: a change accepted without its parts");
		for (size_t k = 0; k < cc.v[i].n; k++) {
			struct cidr_block b;
			int pr = cidr_block_parse(cc.v[i].cidrs[k], &b, err,
						  sizeof(err));
			if (pr == 0 && !cidr_block_valid(&b))
				fail("cidr_block_parse accepted an invalid "
				     "block");
			if (pr != 0 && strncmp(err, "InvalidInput: ", 14) != 0)
				fail("a CIDR refusal that is not InvalidInput");
		}
	}
	r53_cidr_changes_free(&cc);
	return 0;
}
