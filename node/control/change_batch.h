/* A Route 53 change batch, in two forms: as text (struct change_batch,
 * parsed from the JSON the AWS CLI takes
 * (`aws route53 change-resource-record-sets --change-batch file://x.json`):
 * {"Comment": ..., "Changes": [{"Action": "CREATE|DELETE|UPSERT",
 * "ResourceRecordSet": {...}}]}. Parsing checks the document's shape, the
 * batch-wide Route 53 limits, the rules of one record set on its own
 * (Failover needs SetIdentifier, SetIdentifier needs a routing policy) and
 * the fields this version does not serve yet; what a change means for a
 * zone (groups, existing health checks) is zone_store_apply's job.
 *
 * The typed form (struct rrset_batch: wire names, wire RDATA) is what the
 * Raft log carries and zone_store_apply takes: the node serving the request
 * parses the JSON (change_batch_parse) and converts it
 * (change_batch_compile) once; apply parses nothing. change_batch_parse,
 * _format and _compile live in change_batch_json.c (the edge, jansson and
 * libzscanner); the rest in change_batch.c (part of the FSM library). */
#ifndef Q53_NODE_CONTROL_CHANGE_BATCH_H
#define Q53_NODE_CONTROL_CHANGE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Route 53 limits for one ChangeResourceRecordSets request (UPSERT values
 * count twice) and for one value and one comment. */
#define CHANGE_BATCH_MAX_RECORDS     1000
#define CHANGE_BATCH_MAX_VALUE_CHARS 32000
#define CHANGE_BATCH_MAX_VALUE_LEN   4000
#define CHANGE_BATCH_MAX_COMMENT     256
/* Every other string of a ResourceRecordSet (Route 53's Name: 1024) and
 * the whole JSON document: refused before anything is proposed. */
#define CHANGE_BATCH_MAX_FIELD_LEN 1024
#define CHANGE_BATCH_MAX_JSON	   (2 * 1024 * 1024)
#define CHANGE_BATCH_MAX_TTL	   2147483647u

#define CHANGE_BATCH_MAX_SET_ID		 128
#define CHANGE_BATCH_MAX_HEALTH_CHECK_ID 64

enum change_action {
	CHANGE_CREATE = 1,
	CHANGE_DELETE,
	CHANGE_UPSERT,
};

/* Route 53's Failover element. */
enum change_failover {
	CHANGE_FAILOVER_NONE = 0,
	CHANGE_FAILOVER_PRIMARY,
	CHANGE_FAILOVER_SECONDARY,
};

/* Route 53's Weight range. */
#define CHANGE_BATCH_MAX_WEIGHT 255

/* The routing policies served: a set with a SetIdentifier has exactly one
 * of Failover, Weight, MultiValueAnswer true; a set without one has none.
 */
enum change_policy {
	CHANGE_POLICY_SIMPLE = 0,
	CHANGE_POLICY_FAILOVER,
	CHANGE_POLICY_WEIGHTED,
	CHANGE_POLICY_MULTIVALUE,
	CHANGE_POLICY_GEO,
	CHANGE_POLICY_LATENCY, /* Region */
	CHANGE_POLICY_CIDR,    /* IP-based: CidrRoutingConfig */
	CHANGE_POLICY_GEOPROX, /* GeoProximityLocation */
	CHANGE_POLICY_INVALID, /* none with a SetIdentifier, or several */
};

/* The policy of a set from its routing fields. */
enum change_policy change_batch_policy(bool has_set_id,
				       enum change_failover failover,
				       bool has_weight, bool multivalue,
				       bool has_geo, bool has_region,
				       bool has_cidr, bool has_geoprox);
/* "simple", "failover", "weighted", "multivalue", "geolocation",
 * "latency", "IP-based", "geoproximity". */
const char *change_batch_policy_name(enum change_policy p);

/* GeoProximityLocation, as parsed and as typed (strings borrowed in the
 * typed form). */
struct change_geoprox {
	bool present;
	char *region;		/* AWSRegion, NULL when absent */
	char *local_zone_group; /* LocalZoneGroup, NULL when absent */
	bool has_coordinates;
	int32_t latitude;  /* hundredths of a degree */
	int32_t longitude; /* hundredths of a degree */
	int32_t bias;	   /* Bias, 0 when absent */
};

struct change_rrset {
	char *name; /* as given: absolute, final dot optional */
	uint16_t type;
	uint32_t ttl;
	char **values; /* presentation format, one per ResourceRecord */
	size_t nvalues;
	/* NULL: a simple record set. Otherwise a member of a routing group
	 * (name, type), and failover says its role (never NONE then). */
	char *set_identifier;
	enum change_failover failover;
	/* Weight (0 is a weight: has_weight tells it from "no Weight"). */
	bool has_weight;
	uint8_t weight;
	bool multivalue; /* MultiValueAnswer true */
	/* NULL: none (always healthy). Allowed on any set, but only a group
	 * member's health changes answers. Existence is checked by the store.
	 */
	char *health_check_id;
	/* GeoLocation's ContinentCode, CountryCode ("*": the default),
	 * SubdivisionCode; NULL when absent (checked by the store). */
	char *geo_continent;
	char *geo_country;
	char *geo_subdivision;
	/* Latency routing's Region; NULL when absent (checked by the
	 * store). */
	char *region;
	/* GeoProximityLocation (has_geoprox): AWSRegion, LocalZoneGroup
	 * (NULL when absent), Coordinates (has_coordinates; Latitude and
	 * Longitude in hundredths of a degree: the API's strings have at most
	 * two decimals) and Bias (0 when absent); ranges and the choice of
	 * exactly one location are checked by the store. */
	struct change_geoprox geoprox;
	/* AliasTarget: NULL when none; then values is empty and ttl 0 (the
	 * target's TTL answers). */
	char *alias_zone_id;  /* HostedZoneId, "/hostedzone/" prefix cut */
	char *alias_dns_name; /* DNSName as given */
	bool alias_evaluate;  /* EvaluateTargetHealth */
	/* CidrRoutingConfig: CollectionId, LocationName ("*": the default);
	 * NULL when absent (checked by the store). */
	char *cidr_collection_id;
	char *cidr_location;
};

struct change {
	enum change_action action;
	struct change_rrset rrset;
};

struct change_batch {
	char *comment; /* NULL when absent */
	struct change *changes;
	size_t nchanges; /* >= 1 */
};

/* One record of a typed record set: wire RDATA (borrowed). */
struct rrset_rdata {
	const uint8_t *data;
	size_t len;
};

/* A typed record set (everything borrowed). */
struct rrset_data {
	const uint8_t *owner; /* wire name */
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	const struct rrset_rdata *rdata;
	size_t nrdata;
	const char *set_identifier; /* NULL: a simple record set */
	enum change_failover failover;
	bool has_weight;
	uint32_t weight; /* untrusted: the store checks the range */
	bool multivalue;
	const char *health_check_id; /* NULL: none */
	/* GeoLocation (untrusted, geo_location_check), NULL when absent. */
	const char *geo_continent;
	const char *geo_country;
	const char *geo_subdivision;
	/* Latency routing's Region (untrusted), NULL when absent. */
	const char *region;
	/* GeoProximityLocation (untrusted: the store checks it), present
	 * false when absent; its strings borrowed. */
	struct change_geoprox geoprox;
	/* An alias record set (AliasTarget) when alias_zone_id is not NULL:
	 * then nrdata is 0 and ttl 0. alias_name: the target's wire name. */
	const char *alias_zone_id;
	const uint8_t *alias_name;
	size_t alias_name_len;
	bool alias_evaluate;
	/* CidrRoutingConfig (untrusted), both NULL when absent. */
	const char *cidr_collection_id;
	const char *cidr_location;
};

/* A typed change. invalid: NULL, or why the proposer found the change
 * invalid on its own (its name or a value does not parse, a value is
 * repeated); apply then reports that reason where the change fails, so
 * that the batch is refused naming every failing change, in the same words
 * as when the text was parsed inside apply. A change with an invalid name
 * has owner_len 0; one with an invalid value keeps one (possibly empty)
 * rdata per value given. */
struct rrset_change {
	enum change_action action;
	struct rrset_data set;
	const char *invalid;
};

struct rrset_batch {
	const char *comment; /* NULL when absent */
	const struct rrset_change *changes;
	size_t nchanges;
};

/* A typed batch that owns its memory (change_batch_compile). */
struct change_batch_typed {
	struct rrset_batch batch;
	void *priv;
};

/* Parses json[0..len). On success *out is a batch the caller frees with
 * change_batch_free. On failure returns Q53_EINVAL and writes into err
 * (always NUL-terminated, truncated to errlen) either "InvalidInput: ..."
 * (not JSON, wrong top-level shape, a batch limit) or "InvalidChangeBatch:"
 * followed by one "change N: reason" per failing change, N counted from 0:
 * unknown keys, wrong types, missing fields, unsupported types, Failover,
 * Weight or MultiValueAnswer without SetIdentifier, SetIdentifier without
 * exactly one routing policy, Weight out of 0..255, and the routing fields
 * served later (Region, GeoLocation, CidrRoutingConfig,
 * TrafficPolicyInstanceId); an AliasTarget replaces TTL and ResourceRecords,
 * which are recognised and refused as "not yet supported". Q53_ENOMEM
 * otherwise. */
int change_batch_parse(struct change_batch **out, const char *json, size_t len,
		       char *err, size_t errlen);
void change_batch_free(struct change_batch *b);

/* The mirror of parse: b as JSON in the same shape (keys in Route 53's
 * order, no whitespace), which change_batch_parse reads back to an equal
 * batch when b is within the batch limits. Names and values are written as
 * given. *json is NUL-terminated, the caller frees it with free(). Returns
 * 0, Q53_EINVAL (a type or action this module does not know) or
 * Q53_ENOMEM. */
int change_batch_format(const struct change_batch *b, char **json, size_t *len);

/* Converts a parsed batch into its typed form: names to lowercase wire
 * names (Route 53's \ooo escapes), values to wire RDATA through
 * rdata_text_to_wire, then Route 53's checks of node/dnsdata/rdata_policy.h
 * (values, wildcard NS); what does not convert is kept as the change's
 * invalid reason (see struct rrset_change), not refused here. The typed
 * batch borrows b's comment, set identifiers and health check ids: free it
 * before b. Returns 0 (release with change_batch_typed_free) or
 * Q53_ENOMEM. */
int change_batch_compile(const struct change_batch *b,
			 struct change_batch_typed *out);
/* The same with the checks of 0.4.0 (the upgrade module's log entries must
 * convert as they did): without rdata_policy.h's Route 53 rules. */
int change_batch_compile_legacy(const struct change_batch *b,
				struct change_batch_typed *out);
void change_batch_typed_free(struct change_batch_typed *t);

/* Route 53 name (absolute, final dot optional, \ooo octal escapes) to a
 * lowercase wire name in wire[0..255). Returns its length or 0. */
size_t change_batch_name_to_wire(const char *text, uint8_t *wire);

/* The record types Route 53 takes in a record set (A AAAA CAA CNAME DS
 * HTTPS MX NAPTR NS PTR SOA SPF SRV SSHFP SVCB TLSA TXT). type_from_name
 * wants the upper-case mnemonic; returns 0 or Q53_EINVAL. */
bool change_batch_type_supported(uint16_t type);
int change_batch_type_from_name(const char *name, uint16_t *type);
/* The mnemonic of a supported type, NULL for others. */
const char *change_batch_type_name(uint16_t type);

const char *change_batch_action_name(enum change_action a);
/* "PRIMARY", "SECONDARY"; "" for NONE. */
const char *change_batch_failover_name(enum change_failover f);

/* Collects "change N: reason" messages into one text, in the caller's
 * buffer: "InvalidChangeBatch: change 1: ...; change 3: ...". Shared with
 * zone_store so both report failures in the same words. init sets code to
 * "InvalidChangeBatch"; a caller may set another Route 53 error code
 * (e.g. "NoSuchHealthCheck") before the first add. */
struct change_batch_errors {
	const char *code;
	char *buf;
	size_t cap;
	size_t len;
	size_t count;
};
void change_batch_errors_init(struct change_batch_errors *e, char *buf,
			      size_t cap);
void change_batch_errors_add(struct change_batch_errors *e, size_t index,
			     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
