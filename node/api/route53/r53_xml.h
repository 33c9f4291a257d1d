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

/* The texts of the top element's children names[0..n) of a body whose
 * root is root (Traffic Flow requests): values[i] malloc'd, NULL when
 * absent; free with r53_fields_free (not needed after a failure). 0,
 * Q53_EINVAL ("InvalidInput: ...") or Q53_ENOMEM. */
int r53_xml_fields(const uint8_t *body, size_t len, const char *root,
		   const char *const *names, size_t n, char **values, char *err,
		   size_t errlen);
void r53_fields_free(char **values, size_t n);

/* A list of strings a body gives (tags, resource ids): malloc'd, freed
 * with r53_strings_free. */
#define R53_XML_LIST_MAX 64 /* entries read from one list; more: refused */

/* An UpdateHostedZoneCommentRequest: its Comment (NULL when absent, which
 * removes the comment). 0, Q53_EINVAL ("InvalidInput: ...") or
 * Q53_ENOMEM. */
int r53_xml_zone_comment(const uint8_t *body, size_t len, char **comment,
			 char *err, size_t errlen);

/* A ChangeTagsForResourceRequest: AddTags (keys[i], values[i]; a missing
 * Value is "") and RemoveTagKeys. 0, Q53_EINVAL ("InvalidInput: ...": not
 * the document, a Tag without Key, over R53_XML_LIST_MAX entries) or
 * Q53_ENOMEM. Free with r53_tags_free (also after a failure). */
struct r53_tags {
	char **keys, **values;
	size_t n_add;
	char **remove;
	size_t n_remove;
};
int r53_xml_change_tags(const uint8_t *body, size_t len, struct r53_tags *out,
			char *err, size_t errlen);
void r53_tags_free(struct r53_tags *t);

/* A ListTagsForResourcesRequest: its ResourceIds (*ids, *n; free with
 * r53_strings_free). 0, Q53_EINVAL or Q53_ENOMEM. */
int r53_xml_resource_ids(const uint8_t *body, size_t len, char ***ids,
			 size_t *n, char *err, size_t errlen);
void r53_strings_free(char **v, size_t n);

/* A CreateCidrCollectionRequest: Name and CallerReference (both
 * required, malloc'd). 0, Q53_EINVAL ("InvalidInput: ...") or
 * Q53_ENOMEM; free both with free() (also after a failure). */
int r53_xml_create_cidr_collection(const uint8_t *body, size_t len, char **name,
				   char **caller_reference, char *err,
				   size_t errlen);

/* A ChangeCidrCollectionRequest: CollectionVersion (0 when absent) and
 * its Changes, each with Action, LocationName and CidrList (texts as
 * given; the node checks them). At most R53_XML_CIDR_MAX changes and
 * R53_XML_CIDR_MAX Cidr per change. 0, Q53_EINVAL ("InvalidInput: ...")
 * or Q53_ENOMEM. Free with r53_cidr_changes_free (also after a
 * failure). */
#define R53_XML_CIDR_MAX 1000
struct r53_cidr_change {
	char *action;
	char *location;
	char **cidrs;
	size_t n;
};
struct r53_cidr_changes {
	uint64_t version;
	struct r53_cidr_change *v;
	size_t n;
};
int r53_xml_change_cidr_collection(const uint8_t *body, size_t len,
				   struct r53_cidr_changes *out, char *err,
				   size_t errlen);
void r53_cidr_changes_free(struct r53_cidr_changes *c);

#endif
