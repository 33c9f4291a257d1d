/* Route 53's XML request bodies (untrusted), parsed with libxml2 (no
 * network, no DTD, no entity expansion): pure functions, fuzzed by
 * tests/fuzz/fuzz_route53_xml.c. */
#ifndef Q53_NODE_API_ROUTE53_R53_XML_H
#define Q53_NODE_API_ROUTE53_R53_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A CreateHostedZoneRequest's fields (NULL when absent). */
struct r53_create_zone {
	char *name;
	char *caller_reference;
	char *comment;
	bool private_zone;   /* PrivateZone true or a VPC given */
	bool delegation_set; /* DelegationSetId given */
};

/* 0, or Q53_EINVAL with "InvalidInput: ..." in err (not XML, a DTD, the
 * wrong root element, Name or CallerReference missing), or Q53_ENOMEM.
 * Free with r53_create_zone_free (also after a failure). */
int r53_xml_create_zone(const uint8_t *body, size_t len,
			struct r53_create_zone *out, char *err, size_t errlen);
void r53_create_zone_free(struct r53_create_zone *z);

/* A ChangeResourceRecordSetsRequest's ChangeBatch as the AWS CLI's JSON
 * (what the node's change batch parser reads and validates): *json is
 * NUL-terminated, freed with free(). 0, Q53_EINVAL with "InvalidInput:
 * ..." in err, or Q53_ENOMEM. */
int r53_xml_change_batch(const uint8_t *body, size_t len, char **json,
			 char *err, size_t errlen);

/* A CreateHealthCheckRequest: its CallerReference and its
 * HealthCheckConfig as the AWS CLI's JSON (what the node's health-check
 * parser validates). Both malloc'd. 0, Q53_EINVAL ("InvalidInput: ...")
 * or Q53_ENOMEM. */
int r53_xml_create_health_check(const uint8_t *body, size_t len,
				char **caller_reference, char **config_json,
				char *err, size_t errlen);

/* An UpdateHealthCheckRequest: HealthCheckVersion (0 when absent) and the
 * other fields as a JSON object (merged by the leader). 0, Q53_EINVAL or
 * Q53_ENOMEM. */
int r53_xml_update_health_check(const uint8_t *body, size_t len,
				uint64_t *version, char **fields_json,
				char *err, size_t errlen);

#endif
