/* Commands of the replicated control plane and their results: the one
 * module that knows their encoding (house style #12; proto/command.proto).
 * The API and the runtime build a command with command_encode_*, put
 * out.type and out.data / out.len into a struct q53_fsm_log_command
 * (node/raft/fsm_log.h) and read what came back with
 * command_result_decode; the FSM (node/control/control_fsm.c) decodes
 * commands with command_decode and encodes results with
 * command_result_encode. Nobody else touches protobuf for commands
 * (the previous release's text commands: command_legacy.h).
 *
 * Commands are typed: a change batch carries wire names and wire RDATA, an
 * imported zone its record sets, a health check its resolved config. The
 * text forms are parsed once, by the node serving the request
 * (command_text.h); apply parses nothing. Types 11 to 14 carry a
 * command_version; see enum command_type for the numbers.
 *
 * Encoding checks only shape (a NULL string is encoded as "none"); what a
 * command means is the FSM's business, which validates every field since log
 * entries are untrusted bytes.
 *
 * Memory: encoded bytes are raft_malloc'd (caller frees with raft_free), and
 * so is every allocation of a decode, so raft_heap_set makes any of them fail
 * (house style #15), except a decoded config's children (malloc, as
 * health_check_config_clear frees them). A decode that runs out of memory
 * says Q53_ENOMEM, never Q53_EMALF: the FSM must not reject on one node
 * what another accepts. */
#ifndef Q53_NODE_CONTROL_COMMAND_H
#define Q53_NODE_CONTROL_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "node/control/change_batch.h"
#include "node/control/cidr_block.h"
#include "node/health/check_config.h"

/* The fsm_log command type of each command (wire contract). 3 to 6 are
 * the previous release's text forms (a change batch as JSON, a zone file,
 * health-check configs as JSON): reserved, never decoded here; the upgrade
 * module (node/control/upgrade.h) converts them into 11 to 14 before the
 * FSM sees them. A type above COMMAND_TYPE_MAX was written by a newer
 * release. */
enum command_type {
	COMMAND_CREATE_HOSTED_ZONE = 1,
	COMMAND_DELETE_HOSTED_ZONE = 2,
	COMMAND_LEGACY_CHANGE_RRSETS = 3,
	COMMAND_LEGACY_IMPORT_ZONE = 4,
	COMMAND_LEGACY_CREATE_HEALTH_CHECK = 5,
	COMMAND_LEGACY_UPDATE_HEALTH_CHECK = 6,
	COMMAND_DELETE_HEALTH_CHECK = 7,
	COMMAND_HEALTH_VOTE = 8,
	COMMAND_SET_NODE = 9,
	COMMAND_REMOVE_NODE = 10,
	COMMAND_CHANGE_RRSETS = 11,
	COMMAND_IMPORT_ZONE = 12,
	COMMAND_CREATE_HEALTH_CHECK = 13,
	COMMAND_UPDATE_HEALTH_CHECK = 14,
	COMMAND_CREATE_ACCESS_KEY = 15,
	COMMAND_DELETE_ACCESS_KEY = 16,
	/* 17: unused (never written) */
	COMMAND_CHANGE_TAGS = 18,
	COMMAND_UPDATE_ZONE_COMMENT = 19,
	/* IP-based routing: CIDR collections (node/control/cidr_table.h) */
	COMMAND_CREATE_CIDR_COLLECTION = 20,
	COMMAND_CHANGE_CIDR_COLLECTION = 21, /* also DeleteCidrCollection */
	COMMAND_SET_LATENCY_ROWS = 22,
	COMMAND_LATENCY_SAMPLES = 23,
	/* Traffic Flow (command_flow.h): */
	COMMAND_CREATE_TRAFFIC_POLICY = 24,
	COMMAND_UPDATE_TRAFFIC_POLICY_COMMENT = 25,
	COMMAND_DELETE_TRAFFIC_POLICY = 26,
	COMMAND_TRAFFIC_POLICY_INSTANCE = 27,
	COMMAND_SET_ZONE_LIMIT = 28, /* 0.5.0: SetHostedZoneLimit */
	/* 29..31: other 0.5.0 features */
	/* Outbound zone transfers (node/control/xfr_config.h): */
	COMMAND_SET_ZONE_TRANSFER = 32,
	COMMAND_DYNAMIC_UPDATE = 33, /* RFC 2136 UPDATE (dyn_update.h) */
	/* Query logging configs (node/control/query_log_table.h) */
	COMMAND_CHANGE_QUERY_LOGGING = 34,
};
#define COMMAND_TYPE_MIN COMMAND_CREATE_HOSTED_ZONE
#define COMMAND_TYPE_MAX COMMAND_CHANGE_QUERY_LOGGING

/* The command_version every typed command (11..16, 18..21) carries: 1, or 2 for
 * a record set command holding a weighted or multivalue set, 3 for one
 * holding a geolocation set or an alias, 4 for one holding a set with
 * CidrRoutingConfig, 6 for one holding a geoproximity set (so that a
 * release without them stops instead of misreading it). A larger one was
 * written by a newer release. */
#define COMMAND_VERSION		  1
#define COMMAND_VERSION_ROUTING	  2
#define COMMAND_VERSION_GEO_ALIAS 3 /* a geolocation set or an alias */
#define COMMAND_VERSION_CIDR	  4 /* a set with CidrRoutingConfig */
#define COMMAND_VERSION_LATENCY	  5 /* a latency set (Region) */
#define COMMAND_VERSION_GEOPROX	  6 /* a geoproximity set */
#define COMMAND_VERSION_MAX	  COMMAND_VERSION_GEOPROX
/* The command_version of the Traffic Flow commands (24..27). */
#define COMMAND_VERSION_TRAFFIC_FLOW 7
/* CreateTrafficPolicy (type 24) of a document with a geoproximity or cidr
 * rule (TRAFFIC_RULE_GEOPROX, TRAFFIC_RULE_CIDR): a release that knows
 * only 7 stops on it instead of compiling a rule type it lacks. */
#define COMMAND_VERSION_TRAFFIC_FLOW_GEO 10
/* The command_version of SetZoneTransfer (32). */
#define COMMAND_VERSION_XFR 9
/* The command_version of SetHostedZoneLimit (28). */
#define COMMAND_VERSION_ZONE_LIMIT 8
/* Route 53's limit type, the one there is. */
#define COMMAND_ZONE_LIMIT_MAX_RRSETS "MAX_RRSETS_BY_ZONE"

/* True for the types 11..16 and 18..23, which carry command_version. */
bool command_type_versioned(uint16_t type);
/* The largest command_version this release reads for a versioned type:
 * COMMAND_VERSION_MAX for the record set commands (11, 12),
 * COMMAND_VERSION for the others. */
uint32_t command_version_max(uint16_t type);
/* Whether this release reads command_version v of versioned type: for
 * the record set commands 1..COMMAND_VERSION_MAX, for the others
 * COMMAND_VERSION. */
bool command_version_known(uint16_t type, uint32_t v);
/* The command_version of a typed payload (field 1), read without decoding
 * the rest; 0 when absent or unreadable. */
uint32_t command_peek_version(const uint8_t *payload, size_t len);

/* "CreateHostedZone", ...; "Unknown" for anything else. Never NULL. */
const char *command_type_name(uint16_t type);

/* The commands. In what command_decode fills, strings are never NULL ("" =
 * none) and NUL-terminated; byte fields carry their length. In what
 * command_encode_* takes, NULL strings mean "none". All borrowed. */
struct command_create_hosted_zone {
	const char *id;
	const char *name;
	const char *caller_reference;
	const char *comment;
	const char *const *nameservers;
	size_t n_nameservers;
	const char *change_id; /* optional: the change recorded */
	uint64_t time_ms;
	uint64_t max_rrsets;	   /* 0: no limit (every log before 0.5.0) */
	const char *access_key_id; /* who submitted it (audit); "" = local */
};

/* SetHostedZoneLimit: limit_type is COMMAND_ZONE_LIMIT_MAX_RRSETS; value
 * 0 removes the limit. */
struct command_set_zone_limit {
	const char *zone_id;
	const char *limit_type;
	uint64_t value;
	uint64_t time_ms;
};

struct command_delete_hosted_zone {
	const char *id;
	const char *change_id;
	uint64_t time_ms;
	const char *access_key_id; /* who submitted it (audit); "" = local */
};

/* Typed (wire names and RDATA): change_batch_compile makes the batch. */
struct command_change_rrsets {
	const char *zone_id;
	const char *change_id;
	struct rrset_batch batch; /* comment NULL = none */
	uint64_t time_ms;
	const char *access_key_id; /* who submitted it (audit); "" = local */
};

/* A zone file's record sets (zone_text_parse). */
struct command_import_zone {
	const char *zone_id;
	const char *change_id;
	const struct rrset_data *sets;
	size_t nsets;
	uint64_t time_ms;
	/* Local to the proposing node, never encoded (0 when decoded): the
	 * tag of its compile of these sets ahead of the apply
	 * (zone_store_prebuild, node/runtime/import_prebuild.h). */
	uint64_t prebuild_tag;
};

struct command_create_health_check {
	const char *id;
	const char *caller_reference;
	const struct health_check_config *config; /* resolved */
	uint64_t time_ms;
};

struct command_update_health_check {
	const char *id;
	uint64_t version; /* expected current version; 0 = any */
	const struct health_check_config *config; /* the whole new config */
	uint64_t time_ms;
};

struct command_delete_health_check {
	const char *id;
	uint64_t time_ms;
};

struct command_health_vote {
	uint64_t member_id;
	const char *check_id;
	bool healthy; /* Inverted already applied */
	const char *reason;
	uint64_t time_ms; /* when observed */
};

struct command_set_node {
	uint64_t node_id;
	const char *raft_address;
	const char *dns_address;
	const char *api_address;
	const char *name;
	const char *geoip_path;	  /* "" or NULL = none */
	const char *geoip_sha256; /* "" or NULL = none */
	const char *site;	  /* q53d --site NAME, "" or NULL = none */
	const char *site_region;  /* the site's region */
	uint64_t time_ms;
};

struct command_remove_node {
	uint64_t node_id;
	uint64_t time_ms;
};

/* An access key of the REST API with its typed policy
 * (node/api/route53/iam_policy.h parses and evaluates it). */
struct Q53__Command__AccessPolicy;
struct command_create_access_key {
	const char *id;		     /* "AKIA...", 20 characters */
	const char *secret;	     /* 40 characters */
	const char *description;     /* "" = none */
	const char *policy_document; /* the JSON as given, for display */
	const struct Q53__Command__AccessPolicy *policy; /* typed */
	uint64_t time_ms;
};

struct command_delete_access_key {
	const char *id;
	uint64_t time_ms;
};

/* Route 53's tag limits (ChangeTagsForResource). */
#define COMMAND_TAGS_MAX	50  /* tags of one resource */
#define COMMAND_TAG_KEY_MAX	128 /* characters of a key (at least 1) */
#define COMMAND_TAG_VALUE_MAX	256 /* characters of a value */
#define COMMAND_TAG_CHANGES_MAX 10  /* AddTags, RemoveTagKeys per request */

struct command_tag {
	const char *key;
	const char *value;
};

/* resource_type "hostedzone" or "healthcheck"; removals apply first. */
struct command_change_tags {
	const char *resource_type;
	const char *resource_id;
	const struct command_tag *add;
	size_t n_add;
	const char *const *remove_keys;
	size_t n_remove;
	uint64_t time_ms;
};

struct command_update_zone_comment {
	const char *zone_id;
	const char *comment; /* "" = none */
	uint64_t time_ms;
};

struct xfr_config;
/* [33] An RFC 2136 UPDATE's records (borrowed), owners lowercase wire. */
struct command_dyn_rr {
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type;
	uint16_t rclass; /* 1 IN, 255 ANY, 254 NONE */
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};
struct command_dynamic_update {
	const char *zone_id;
	const char *change_id;
	const char *key_name; /* the TSIG key that signed it */
	const struct command_dyn_rr *prereqs;
	size_t n_prereqs;
	const struct command_dyn_rr *updates;
	size_t n_updates;
	uint64_t time_ms;
};

/* [32] config->zone_id's transfer configuration (replaced whole). */
struct command_set_zone_transfer {
	const struct xfr_config *config;
	uint64_t time_ms;
};

/* The latency table (node/control/latency_table.h). Set rows replace the
 * rows of their networks, then remove rows are deleted (NoSuchLatencyRow
 * when one is absent); clear drops every API row first. */
struct latency_row;
struct latency_rtt;
struct command_set_latency_rows {
	const struct latency_row *set;
	size_t n_set;
	const struct latency_row *remove;
	size_t n_remove;
	bool clear;
	uint64_t time_ms;
	/* decode: why a row does not check (apply refuses), NULL if fine */
	const char *invalid;
};

/* What node_id's prober measured from site to each region. */
struct command_latency_samples {
	uint64_t node_id;
	const char *site;
	const struct latency_rtt *rtt;
	size_t n;
	uint64_t time_ms;
};

/* CIDR collections (Route 53's CreateCidrCollection, ChangeCidrCollection,
 * DeleteCidrCollection). Limits: node/control/cidr_table.h. */
struct command_create_cidr_collection {
	const char *id; /* a UUID chosen by the proposer */
	const char *name;
	const char *caller_reference;
	uint64_t time_ms;
};

/* One CidrCollectionChange: PUT adds the blocks to the location (made
 * when missing), DELETE_IF_EXISTS removes those it holds (a location left
 * without blocks goes). */
enum command_cidr_action {
	COMMAND_CIDR_PUT = 1,
	COMMAND_CIDR_DELETE_IF_EXISTS = 2,
};
struct command_cidr_change {
	enum command_cidr_action action;
	const char *location;
	const struct cidr_block *blocks;
	size_t n_blocks;
};

/* version: the CollectionVersion expected, 0 = any. delete_collection:
 * DeleteCidrCollection (no changes then). */
struct command_change_cidr_collection {
	const char *id;
	uint64_t version;
	bool delete_collection;
	const struct command_cidr_change *changes;
	size_t n_changes;
	uint64_t time_ms;
};

/* One encoded command: what goes into struct q53_fsm_log_command. */
struct command_payload {
	uint16_t type;
	uint8_t *data; /* raft_malloc'd; NULL when len is 0 */
	size_t len;
	/* Optional: the typed command data was encoded from (a struct
	 * command, e.g. an import's parsed record sets), which apply on this
	 * node may use instead of decoding data (q53_fsm_log_offer); freed
	 * with decoded_free(decoded) by command_payload_clear. */
	struct command *decoded;
	void (*decoded_free)(struct command *decoded);
	/* data is still to be encoded from decoded (an import only):
	 * command_payload_encode_pending. */
	bool encode_pending;
};

/* Encodes p->decoded into p->data when p->encode_pending (else nothing):
 * 0 or Q53_ENOMEM / Q53_EINVAL (p unchanged then). */
int command_payload_encode_pending(struct command_payload *p);

/* Encode a command into *out. Return 0, Q53_EINVAL (nameservers NULL with
 * n_nameservers > 0, bytes NULL with a length) or Q53_ENOMEM. */
int command_encode_create_hosted_zone(
    const struct command_create_hosted_zone *c, struct command_payload *out);
int command_encode_delete_hosted_zone(
    const struct command_delete_hosted_zone *c, struct command_payload *out);
int command_encode_change_rrsets(const struct command_change_rrsets *c,
				 struct command_payload *out);
int command_encode_import_zone(const struct command_import_zone *c,
			       struct command_payload *out);
int command_encode_create_health_check(
    const struct command_create_health_check *c, struct command_payload *out);
int command_encode_update_health_check(
    const struct command_update_health_check *c, struct command_payload *out);
int command_encode_delete_health_check(
    const struct command_delete_health_check *c, struct command_payload *out);
int command_encode_health_vote(const struct command_health_vote *c,
			       struct command_payload *out);
int command_encode_set_node(const struct command_set_node *c,
			    struct command_payload *out);
int command_encode_remove_node(const struct command_remove_node *c,
			       struct command_payload *out);
/* Q53_EINVAL also for a NULL policy. */
int command_encode_create_access_key(const struct command_create_access_key *c,
				     struct command_payload *out);
int command_encode_delete_access_key(const struct command_delete_access_key *c,
				     struct command_payload *out);
int command_encode_change_tags(const struct command_change_tags *c,
			       struct command_payload *out);
int command_encode_update_zone_comment(
    const struct command_update_zone_comment *c, struct command_payload *out);
int command_encode_set_zone_transfer(const struct command_set_zone_transfer *c,
				     struct command_payload *out);
int command_encode_set_zone_limit(const struct command_set_zone_limit *c,
				  struct command_payload *out);
int command_encode_dynamic_update(const struct command_dynamic_update *c,
				  struct command_payload *out);
int command_encode_set_latency_rows(const struct command_set_latency_rows *c,
				    struct command_payload *out);
int command_encode_latency_samples(const struct command_latency_samples *c,
				   struct command_payload *out);
int command_encode_create_cidr_collection(
    const struct command_create_cidr_collection *c,
    struct command_payload *out);
int command_encode_change_cidr_collection(
    const struct command_change_cidr_collection *c,
    struct command_payload *out);

/* raft_free's out->data and zeroes out. */
void command_payload_clear(struct command_payload *out);

/* A decoded command; the strings point into memory owned by it. */
struct command {
	enum command_type type;
	union {
		struct command_create_hosted_zone create_hosted_zone;
		struct command_delete_hosted_zone delete_hosted_zone;
		struct command_change_rrsets change_rrsets;
		struct command_import_zone import_zone;
		struct command_create_health_check create_health_check;
		struct command_update_health_check update_health_check;
		struct command_delete_health_check delete_health_check;
		struct command_health_vote health_vote;
		struct command_set_node set_node;
		struct command_remove_node remove_node;
		struct command_create_access_key create_access_key;
		struct command_delete_access_key delete_access_key;
		struct command_change_tags change_tags;
		struct command_update_zone_comment update_zone_comment;
		struct command_set_zone_limit set_zone_limit;
		struct command_set_latency_rows set_latency_rows;
		struct command_latency_samples latency_samples;
		struct command_create_cidr_collection create_cidr_collection;
		struct command_change_cidr_collection change_cidr_collection;
		struct command_set_zone_transfer set_zone_transfer;
		struct command_dynamic_update dynamic_update;
	} u;
	void *pb;	/* private: the unpacked message */
	void *pb_arena; /* private: where pb lives */
	void *aux;	/* private: typed arrays built from it */
};

/* Decode payload[0..len) (borrowed, untrusted) of `type` into *out. Returns
 * 0 (release with command_free), Q53_EMALF (unknown type, not a message of
 * that type) or Q53_ENOMEM; on error *out needs no release. */
int command_decode(uint16_t type, const uint8_t *payload, size_t len,
		   struct command *out);
void command_free(struct command *c);

/* --- results --- */

struct command_change_info {
	const char *id; /* "" / NULL: no change recorded */
	uint64_t submitted_ms;
	const char *comment;
};

struct command_hosted_zone_info {
	const char *id; /* NULL / "": absent */
	const char *name;
	const char *caller_reference;
	const char *comment;
	const char *const *nameservers;
	size_t n_nameservers;
	uint64_t record_set_count;
};

struct command_health_check_info {
	const char *id; /* NULL / "": absent */
	const char *caller_reference;
	/* Encode: borrowed. Decode: owned by the result (NULL when absent). */
	const struct health_check_config *config;
	uint64_t version;
};

/* The result of one command. index: the FSM index the command got (see
 * control_fsm.h). Rejected commands (code != 0) carry error_name (the Route
 * 53 error code) and error_message; applied ones what they created. */
struct command_result {
	uint64_t index;
	const char *error_name; /* "" / NULL when applied */
	const char *error_message;
	struct command_change_info change;
	struct command_hosted_zone_info hosted_zone;
	struct command_health_check_info health_check;
	void *pb;				 /* private (decode) */
	void *pb_arena;				 /* private (decode) */
	struct health_check_config config_store; /* private (decode) */
};

/* Encode r (borrowed) into *buf / *len, raft_malloc'd. 0 or Q53_ENOMEM. */
int command_result_encode(const struct command_result *r, uint8_t **buf,
			  size_t *len);

/* Decode a result body (borrowed) into *out; strings are never NULL after
 * a decode. 0 (release with command_result_free), Q53_EMALF or
 * Q53_ENOMEM. */
int command_result_decode(const uint8_t *buf, size_t len,
			  struct command_result *out);
void command_result_free(struct command_result *r);

/* The protobuf form of a config (for command.c and the snapshot code):
 * to_pb fills *m (its strings borrow cfg; *children_out must be released
 * with raft_free); from_pb fills *cfg (release with
 * health_check_config_clear): Q53_EMALF when a field does not fit, which
 * health_check_config_validate does not check for. */
struct Q53__Command__HealthCheckConfig;
int command_config_to_pb(const struct health_check_config *cfg,
			 struct Q53__Command__HealthCheckConfig *m,
			 char ***children_out);
int command_config_from_pb(const struct Q53__Command__HealthCheckConfig *m,
			   struct health_check_config *cfg);

/* A typed record set <-> its protobuf form (RecordSet), for command.c and
 * the snapshot code. to_pb: *m borrows r, rdata[0..r->nrdata) is the
 * caller's array. from_pb: *r borrows m, rdata[0..m->n_rdata) the caller's;
 * Q53_EMALF for a field out of range (type, failover). */
struct Q53__Command__RecordSet;
struct Q53__Command__GeoLocation;
struct Q53__Command__GeoProximityLocation;
/* Room for the submessages of one RecordSet (used when r has them). */
struct command_set_room {
	struct Q53__Command__GeoLocation *geo;
	struct Q53__Command__GeoProximityLocation *geoprox;
};
void command_set_to_pb(const struct rrset_data *r,
		       struct Q53__Command__RecordSet *m,
		       ProtobufCBinaryData *rdata,
		       const struct command_set_room *room);
int command_set_from_pb(const struct Q53__Command__RecordSet *m,
			struct rrset_data *r, struct rrset_rdata *rdata);

/* A CidrBlock message into *b: Q53_EMALF for an address that is not 4 or
 * 16 bytes (validity is cidr_block_valid's). */
struct Q53__Command__CidrBlock;
int command_cidr_block_from_pb(const struct Q53__Command__CidrBlock *m,
			       struct cidr_block *b);

/* A copy of policy p in one raft_malloc'd block (packed and unpacked with
 * the arena allocator): *out, release with command_policy_free. 0,
 * Q53_EMALF or Q53_ENOMEM. */
int command_policy_copy(const struct Q53__Command__AccessPolicy *p,
			struct Q53__Command__AccessPolicy **out, void **arena);
void command_policy_free(void *arena);

/* A protobuf-c allocator over raft_malloc / raft_free, for command.c and
 * the FSM snapshot code. `failed` is set when an allocation failed, which
 * tells Q53_ENOMEM from Q53_EMALF after protobuf_c_message_unpack returned
 * NULL. */
struct command_pb_alloc {
	ProtobufCAllocator base; /* pass &a.base to protobuf-c */
	bool failed;
};
void command_pb_alloc_init(struct command_pb_alloc *a);

#endif
