/* Traffic Flow in the replicated store: traffic policies (versions of a
 * typed policy document, node/control/traffic_policy.h) and policy
 * records (traffic policy instances: a policy version bound to a name of
 * a hosted zone with a TTL). The zone builds (zone_store_build.c) compile
 * each instance into its name's decision tree for the policy's record
 * type, exactly as the equivalent nested record sets. Route 53's rules and
 * error codes ("Code: message" in err): a policy version cannot be
 * deleted while an instance uses it (TrafficPolicyInUse), an instance's
 * name cannot also hold ordinary record sets of the policy's type, nor two
 * instances the same name. Pure and deterministic, like the rest of the
 * store: ids, versions and times come from the command. */
#ifndef Q53_NODE_CONTROL_ZONE_STORE_FLOW_H
#define Q53_NODE_CONTROL_ZONE_STORE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/control/traffic_policy.h"
#include "node/control/zone_store.h"

#define ZONE_STORE_FLOW_ID_MAX	      36   /* a policy's or instance's id */
#define ZONE_STORE_FLOW_VERSIONS_MAX  1000 /* versions of one policy */
#define ZONE_STORE_FLOW_POLICIES_MAX  1000 /* Route 53's default quota */
#define ZONE_STORE_FLOW_INSTANCES_MAX 5000
#define ZONE_STORE_FLOW_COMMENT_MAX   1024
#define ZONE_STORE_FLOW_TTL_MAX	      2147483647u

struct zone_store_tpolicy {
	char id[ZONE_STORE_FLOW_ID_MAX + 1];
	uint32_t version;
	char *name;
	char *comment; /* "" = none */
	char *document;
	struct traffic_policy p;
};

struct zone_store_tinstance {
	char id[ZONE_STORE_FLOW_ID_MAX + 1];
	char zone_id[ZONE_STORE_ID_MAX + 1];
	uint8_t name[255]; /* lowercase wire */
	uint8_t name_len;
	uint32_t ttl;
	char policy_id[ZONE_STORE_FLOW_ID_MAX + 1];
	uint32_t policy_version;
	uint16_t type; /* the policy version's record type */
};

/* Whether id is a valid policy or instance id (1..36 of [A-Za-z0-9-]). */
bool zone_store_flow_id_ok(const char *id);

/* A new policy (version 1: id new, name unused) or a new version of
 * policy id (version: its latest + 1, the same name). Takes p over (freed
 * on failure too). 0, Q53_EEXIST ("TrafficPolicyAlreadyExists: ..."),
 * Q53_ENOENT ("NoSuchTrafficPolicy: ..."), Q53_ELIMIT
 * ("TooManyTrafficPolicies" / "TooManyTrafficPolicyVersionsForCurrentPolicy"),
 * Q53_EINVAL, Q53_ENOMEM. */
int zone_store_policy_create(struct zone_store *s, const char *id,
			     uint32_t version, const char *name,
			     const char *comment, const char *document,
			     struct traffic_policy *p, char *err,
			     size_t errlen);
/* As a snapshot holds it: any version number not taken (deleted versions
 * leave gaps), the name of the policy's other versions. */
int zone_store_policy_restore(struct zone_store *s, const char *id,
			      uint32_t version, const char *name,
			      const char *comment, const char *document,
			      struct traffic_policy *p, char *err,
			      size_t errlen);
int zone_store_policy_comment(struct zone_store *s, const char *id,
			      uint32_t version, const char *comment, char *err,
			      size_t errlen);
int zone_store_policy_delete(struct zone_store *s, const char *id,
			     uint32_t version, char *err, size_t errlen);
/* Version version of policy id (0: its latest), or NULL. */
const struct zone_store_tpolicy *
zone_store_policy_get(const struct zone_store *s, const char *id,
		      uint32_t version);
/* Every policy version, by (id, version). */
size_t zone_store_policy_count(const struct zone_store *s);
const struct zone_store_tpolicy *
zone_store_policy_at(const struct zone_store *s, size_t i);

/* An instance id at name (lowercase or not, inside zone zone_id) of policy
 * policy_id version version. 0, Q53_ENOENT (NoSuchHostedZone,
 * NoSuchTrafficPolicy), Q53_EEXIST
 * (TrafficPolicyInstanceAlreadyExists), Q53_EINVAL (InvalidInput: the
 * name is outside the zone or holds record sets of the type), Q53_ELIMIT,
 * Q53_ENOMEM. */
int zone_store_instance_create(struct zone_store *s, const char *id,
			       const char *zone_id, const uint8_t *name,
			       uint32_t ttl, const char *policy_id,
			       uint32_t version, char *err, size_t errlen);
/* A new TTL and policy version (of any policy of the same type) for
 * instance id. */
int zone_store_instance_update(struct zone_store *s, const char *id,
			       uint32_t ttl, const char *policy_id,
			       uint32_t version, char *err, size_t errlen);
int zone_store_instance_delete(struct zone_store *s, const char *id, char *err,
			       size_t errlen);
const struct zone_store_tinstance *
zone_store_instance_get(const struct zone_store *s, const char *id);
/* Every instance, by id. */
size_t zone_store_instance_count(const struct zone_store *s);
const struct zone_store_tinstance *
zone_store_instance_at(const struct zone_store *s, size_t i);
/* The instance at (zone_id, name, type), or NULL. */
const struct zone_store_tinstance *
zone_store_instance_find(const struct zone_store *s, const char *zone_id,
			 const uint8_t *name, size_t name_len, uint16_t type);

#endif
