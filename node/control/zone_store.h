/* The Route 53 data model: hosted zones held in memory as record sets, the
 * state the replicated FSM owns. Pure and deterministic: no I/O, no clock,
 * no randomness, no globals, no threads; zone ids and everything else that
 * must agree across nodes come in as parameters. Same calls, same state,
 * same snapshot bytes on every node.
 *
 * Errors: functions return 0 or a negative q53_err and write a message into
 * the caller's err buffer (always NUL-terminated, truncated to errlen) that
 * starts with the Route 53 error code the API should return:
 * NoSuchHostedZone and NoSuchHealthCheck (Q53_ENOENT),
 * HostedZoneAlreadyExists and ConflictingDomainExists (Q53_EEXIST),
 * HostedZoneNotEmpty, InvalidInput, InvalidDomainName, InvalidChangeBatch
 * (Q53_EINVAL). On any error the store is unchanged.
 *
 * Alias record sets (AliasTarget) name a (zone of this store, name) whose
 * set of the same type answers for them, with its records and TTL; apply
 * refuses a target that is missing or outside its zone and alias loops.
 *
 * Routing. Record sets with a SetIdentifier form a group per (name, type)
 * of one policy: failover (one PRIMARY, one SECONDARY at most), weighted
 * or multivalue answer; a group never mixes with a plain set or another
 * policy. Any set may
 * name a health check (HealthCheckId). The store does not know health
 * checks: the caller answers for it through a zone_store_check_fn, whether
 * a check exists (apply) and whether it is healthy (build). Health is
 * applied when a zone is built, never per query. */
#ifndef Q53_NODE_CONTROL_ZONE_STORE_H
#define Q53_NODE_CONTROL_ZONE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/control/change_batch.h"

struct zone;
struct zone_store_sets;

/* The caller's answer about the health check named check_id: whether it
 * exists (zone_store_apply_with_checks) or whether it is healthy now
 * (zone_store_build_with_health). Must be a pure function of ctx's state (the
 * same on every node) and must not change the store. */
typedef bool (*zone_store_check_fn)(void *ctx, const char *check_id);
/* Told, when a mutation commits, of each record set naming check_id that
 * it added (delta +1) or removed (delta -1): what the caller needs to keep
 * its own index of which zones use which check without scanning the zone.
 * Must not fail. */
typedef void (*zone_store_ref_fn)(void *ctx, const char *check_id, int delta);

/* Zone ids: "Z" followed by 13 to 21 upper-case letters or digits. */
#define ZONE_STORE_ID_MIN 14
#define ZONE_STORE_ID_MAX 22

/* Defaults of the records create makes at the apex (Route 53's). */
#define ZONE_STORE_SOA_TTL 900
#define ZONE_STORE_NS_TTL  172800

struct zone_store_rdata {
	uint16_t len;
	uint8_t *data;
};

/* The routing fields of a record set, out of line: NULL for a simple set
 * (almost every set of a zone), so that those do not carry them. Read
 * through the accessors below. Routing policies add their fields here. */
#define ZONE_STORE_REGION_MAX 32 /* LATENCY_NAME_MAX */

struct zone_store_policy {
	char *set_identifier;	       /* NULL: a simple record set */
	char *health_check_id;	       /* NULL: always healthy */
	enum change_failover failover; /* see change_batch_policy */
	uint8_t weight;		       /* with ZONE_STORE_WEIGHTED */
	uint8_t routing; /* ZONE_STORE_WEIGHTED, ZONE_STORE_MULTIVALUE */
	/* Geolocation: the location (ZONE_GEO_CHOICE | ..., choice.h; 0:
	 * none) and GeoLocation's codes as given ("" when absent). */
	uint32_t geo;
	char geo_continent[3];
	char geo_country[3];
	char geo_subdivision[4];
	/* Latency routing: the Region ("" = none). */
	char region[ZONE_STORE_REGION_MAX + 1];
	/* IP-based routing (CidrRoutingConfig): NULL when none. */
	char *cidr_collection_id;
	char *cidr_location; /* "*": the default */
	/* Geoproximity (routing ZONE_STORE_GEOPROX): the location in
	 * hundredths of a degree, its Bias, and the AWSRegion it was given
	 * as ("" for Coordinates). */
	int16_t geoprox_lat, geoprox_lon;
	int8_t geoprox_bias;
	char geoprox_region[16];
};

/* One record set, read-only for callers. */
struct zone_store_rrset {
	uint8_t *owner;			  /* lowercase wire name */
	struct zone_store_policy *policy; /* NULL: simple, no health check */
	uint32_t ttl;
	uint16_t type;
	uint16_t count;
	uint8_t owner_len;
	/* 32 bytes: a one-record A set with an owner of up to 36 bytes is
	 * one 96-byte malloc chunk (48 bytes before the policy moved out). */
	struct zone_store_rdata rdata[]; /* canonical order, distinct */
};

/* zone_store_rrset routing flags: the set has a Weight / MultiValueAnswer. */
#define ZONE_STORE_WEIGHTED   0x01
#define ZONE_STORE_MULTIVALUE 0x02
/* An alias (AliasTarget): count 1, rdata[0] the target in a private
 * layout read only through zone_store_rrset_alias, ttl 0. */
#define ZONE_STORE_ALIAS 0x04
/* A geoproximity member (GeoProximityLocation). */
#define ZONE_STORE_GEOPROX 0x08

/* The target of an alias set. */
struct zone_store_alias {
	char zone_id[ZONE_STORE_ID_MAX + 1];
	const uint8_t *name; /* lowercase wire, inside the set */
	uint8_t name_len;
	bool evaluate; /* EvaluateTargetHealth */
};

/* Whether s is an alias; if so its target into *out (valid as s is). */
bool zone_store_rrset_alias(const struct zone_store_rrset *s,
			    struct zone_store_alias *out);
/* The rrset_data fields of s's alias (alias_zone_id NULL when s is not
 * one), pointing into *a and s. */
void zone_store_rrset_alias_data(const struct zone_store_rrset *s,
				 struct zone_store_alias *a,
				 struct rrset_data *d);

static inline const char *
zone_store_rrset_set_id(const struct zone_store_rrset *s)
{
	return s->policy != NULL ? s->policy->set_identifier : NULL;
}
static inline const char *
zone_store_rrset_health_check(const struct zone_store_rrset *s)
{
	return s->policy != NULL ? s->policy->health_check_id : NULL;
}
static inline enum change_failover
zone_store_rrset_failover(const struct zone_store_rrset *s)
{
	return s->policy != NULL ? s->policy->failover : CHANGE_FAILOVER_NONE;
}
static inline uint8_t zone_store_rrset_weight(const struct zone_store_rrset *s)
{
	return s->policy != NULL ? s->policy->weight : 0;
}
/* The ZONE_STORE_* routing flag bits of s. */
static inline uint8_t zone_store_rrset_routing(const struct zone_store_rrset *s)
{
	return s->policy != NULL ? s->policy->routing : 0;
}

/* The geolocation of s (ZONE_GEO_CHOICE | ...), 0: none. */
static inline uint32_t zone_store_rrset_geo(const struct zone_store_rrset *s)
{
	return s->policy != NULL ? s->policy->geo : 0;
}

/* The Region of a latency set, NULL: none. */
static inline const char *
zone_store_rrset_region(const struct zone_store_rrset *s)
{
	return s->policy != NULL && s->policy->region[0] != '\0'
		   ? s->policy->region
		   : NULL;
}

/* CidrRoutingConfig of s: CollectionId, LocationName; NULL when none. */
static inline const char *
zone_store_rrset_cidr_collection(const struct zone_store_rrset *s)
{
	return s->policy != NULL ? s->policy->cidr_collection_id : NULL;
}
static inline const char *
zone_store_rrset_cidr_location(const struct zone_store_rrset *s)
{
	return s->policy != NULL ? s->policy->cidr_location : NULL;
}

/* The geoproximity location of s: false when s has none. */
static inline bool zone_store_rrset_geoprox(const struct zone_store_rrset *s,
					    int32_t *lat, int32_t *lon,
					    int32_t *bias)
{
	if (s->policy == NULL || !(s->policy->routing & ZONE_STORE_GEOPROX))
		return false;
	*lat = s->policy->geoprox_lat;
	*lon = s->policy->geoprox_lon;
	*bias = s->policy->geoprox_bias;
	return true;
}

/* The typed form of s (borrowing s), rdata left NULL. */
void zone_store_rrset_data(const struct zone_store_rrset *s,
			   struct rrset_data *out);

/* The routing policy of set s. */
enum change_policy zone_store_rrset_policy(const struct zone_store_rrset *s);

/* A hosted zone as get/list show it. Pointers stay valid until the next
 * call that changes the store. */
struct zone_store_info {
	const char *id;
	const char *name;	      /* "example.com." */
	const uint8_t *origin;	      /* lowercase wire */
	const char *comment;	      /* NULL when none */
	const char *caller_reference; /* NULL when none */
	uint32_t serial;
	size_t nrrsets;
	uint64_t max_rrsets; /* MAX_RRSETS_BY_ZONE, 0: none */
	/* The sets, read with zone_store_info_rrset. */
	const struct zone_store_sets *sets;
};

/* The i-th (< nrrsets) record set of the zone info describes, in
 * canonical DNS order of owner (RFC 4034 6.1), then type, then set
 * identifier: O(log n). Valid as info's pointers are. */
const struct zone_store_rrset *
zone_store_info_rrset(const struct zone_store_info *info, size_t i);
/* All of them, in that order, into out[0..nrrsets): O(nrrsets). */
void zone_store_info_copy_rrsets(const struct zone_store_info *info,
				 const struct zone_store_rrset **out);

struct zone_store_zone;

/* IP-based routing: the caller's CIDR collections, as a pure function of
 * its state. collection: a collection's id, or its name (the AWS CLI
 * files name collections so; the store keeps the id). Returns -1 when
 * there is no such collection, 0 when it has no location of that name
 * ("*" always exists: *n 0), 1 with the location's blocks in
 * *blocks[0..*n); *id the collection's id (all valid until the caller's
 * state changes). */
struct cidr_block;
typedef int (*zone_store_cidr_fn)(void *ctx, const char *collection,
				  const char *location,
				  const struct cidr_block **blocks, size_t *n,
				  const char **id);

/* The store; the caller owns the struct, init/free manage its contents. */
struct zone_store {
	/* zone_store_set_cidr: NULL = no collection exists */
	zone_store_cidr_fn cidr;
	void *cidr_ctx;
	struct zone_store_zone **zones; /* sorted by id */
	size_t nzones;
	/* zone_store_hold: sets dropped while held, freed at the release */
	unsigned holds;
	struct zone_store_rrset **retired;
	size_t nretired;
	size_t capretired;
	/* Traffic policies and their instances (zone_store_flow.h). */
	struct zone_store_flow *flow;
	/* Latency routing. site_region: whether a Region that is none of
	 * Route 53's codes is a region of the cluster's sites (replicated
	 * state of the caller's; NULL: none is). latency: the inputs of
	 * latency groups' builds (NULL: no table, no site). Neither is the
	 * store's data: the caller sets and owns them. */
	bool (*site_region)(void *ctx, const char *region);
	void *site_region_ctx;
	const struct zone_store_latency *latency;
};

/* What a latency group is built from (zone_store_build.c): the replicated
 * table and the answering node's own site and region (NULL: none). */
struct latency_table;
struct zone_store_latency {
	const struct latency_table *table;
	const char *site;
	const char *region;
};

void zone_store_init(struct zone_store *s);
/* Where apply checks CidrRoutingConfig and the build finds the blocks. */
void zone_store_set_cidr(struct zone_store *s, zone_store_cidr_fn fn,
			 void *ctx);
/* Whether a record set of the store uses the collection id (location
 * NULL) or its location (a location other than "*"): what
 * ChangeCidrCollection and DeleteCidrCollection refuse to break. Visits
 * only zones holding IP-based sets. */
bool zone_store_cidr_in_use(const struct zone_store *s, const char *id,
			    const char *location);
/* Calls fn(ctx, zone_id) for every zone with a record set using the
 * collection id (what a change of it rebuilds). */
void zone_store_cidr_users(const struct zone_store *s, const char *id,
			   void (*fn)(void *ctx, const char *zone_id),
			   void *ctx);
/* Only when not held. */
void zone_store_free(struct zone_store *s);

/* For a snapshot encoded on another thread. While the store is held, the
 * record sets it drops (replaced or deleted by a change batch, replaced by
 * an import, those of a deleted zone) stay allocated and unchanged, so the
 * set pointers zone_store_get_at gave at hold time (copy the rrsets
 * arrays: they are replaced) can be read from any thread until the
 * matching release; a mutation that cannot keep them fails with
 * Q53_ENOMEM and the store unchanged. The one exception: each zone's apex
 * SOA, whose serial the store rewrites in place; copy it at hold time.
 * Zone-level fields (id, comment, ...) are not kept either: copy them.
 * Deleting a zone right after creating it allocates nothing, held or not.
 * Hold and release on the store's thread; holds nest. */
void zone_store_hold(struct zone_store *s);
void zone_store_release(struct zone_store *s);

struct zone_store_create_params {
	const char *id;			/* required */
	const char *name;		/* required, final dot optional */
	const char *caller_reference;	/* optional, unique across zones */
	const char *comment;		/* optional, at most 256 characters */
	const char *const *nameservers; /* >= 1 names, for the apex NS set */
	size_t nnameservers;
	uint64_t max_rrsets; /* the zone's MAX_RRSETS_BY_ZONE, 0: none */
};

/* Route 53's default MAX_RRSETS_BY_ZONE, which the proposer of a new zone
 * puts in its CreateHostedZone (q53d --zone-record-limit), and the largest
 * value a limit increase takes. */
#define ZONE_STORE_DEFAULT_MAX_RRSETS 10000
#define ZONE_STORE_MAX_RRSETS_LIMIT   10000000

/* Sets zone id's MAX_RRSETS_BY_ZONE (0: none). A zone that already holds
 * more keeps its sets: the limit refuses growth only (a batch or import
 * that leaves the zone with more sets than before and more than the limit),
 * so that it can still shrink. 0, Q53_ENOENT ("NoSuchHostedZone: ...") or
 * Q53_EINVAL ("InvalidInput: ...", above ZONE_STORE_MAX_RRSETS_LIMIT). */
int zone_store_set_limit(struct zone_store *s, const char *id,
			 uint64_t max_rrsets, char *err, size_t errlen);

/* Creates an empty hosted zone: apex SOA (first nameserver, hostmaster.
 * <zone>, serial 1, 7200 900 1209600 86400) and apex NS (every nameserver).
 * Everything in p is copied. Refuses a second zone with the same id, name
 * or caller reference. */
int zone_store_create(struct zone_store *s,
		      const struct zone_store_create_params *p, char *err,
		      size_t errlen);

/* Replaces a zone's comment (NULL or "": none; at most 256 characters:
 * UpdateHostedZoneComment). 0, Q53_ENOENT ("NoSuchHostedZone: ..."),
 * Q53_EINVAL ("InvalidInput: ...") or Q53_ENOMEM; unchanged on failure. */
int zone_store_set_comment(struct zone_store *s, const char *id,
			   const char *comment, char *err, size_t errlen);

/* Deletes a hosted zone that holds nothing but its apex SOA and NS. */
int zone_store_delete(struct zone_store *s, const char *id, char *err,
		      size_t errlen);

size_t zone_store_count(const struct zone_store *s);
/* The i-th zone in id order (list), or the zone with id (get). Return 0 or
 * Q53_ENOENT. */
int zone_store_get_at(const struct zone_store *s, size_t i,
		      struct zone_store_info *out);
int zone_store_get(const struct zone_store *s, const char *id,
		   struct zone_store_info *out);
/* How many alias sets the i-th zone holds (0 past the end). */
size_t zone_store_alias_count(const struct zone_store *s, size_t i);
/* The latency record sets of the zone at position i (0 past the end):
 * zones holding some are rebuilt when the latency table changes. */
size_t zone_store_latency_count(const struct zone_store *s, size_t i);

/* Applies b to the zone atomically, with Route 53's rules: CREATE fails if
 * the set (name, type, set identifier) exists; DELETE must match TTL, every
 * value, the failover role and the health check; UPSERT creates or
 * replaces; one change per set and batch except DELETE then CREATE
 * (replace); no CNAME beside other data in the result; the apex SOA and NS
 * can be replaced but not deleted and take no routing policy or health
 * check; in the result, a routing group holds at most one PRIMARY and one
 * SECONDARY and mixes neither with a plain set of its name and type nor
 * with another policy. Every failing change is named by its index
 * ("InvalidChangeBatch: change N: ..."). A HealthCheckId for which
 * exists(ctx, id) is false fails the batch first, as "NoSuchHealthCheck:
 * change N: ..." (Q53_ENOENT); exists NULL means no health check exists.
 * On success the SOA serial is bumped by one (the store owns the serial:
 * an UPSERTed SOA keeps its other fields).
 *
 * b is typed (wire names and RDATA, change_batch_compile) and untrusted:
 * every field is checked (RDATA with rdata_check); a change carrying an
 * invalid reason fails with it, in the place where parsing its text would
 * have failed. */
int zone_store_apply_with_checks(struct zone_store *s, const char *id,
				 const struct rrset_batch *b,
				 zone_store_check_fn exists, void *ctx,
				 char *err, size_t errlen);
/* The same, telling refs(ctx, ...) (may be NULL) of every set naming a
 * health check that the committed batch added or removed. */
int zone_store_apply_counted(struct zone_store *s, const char *id,
			     const struct rrset_batch *b,
			     zone_store_check_fn exists, zone_store_ref_fn refs,
			     void *ctx, char *err, size_t errlen);
/* The same with no health check existing. */
int zone_store_apply(struct zone_store *s, const char *id,
		     const struct rrset_batch *b, char *err, size_t errlen);

/* Compiles the zone for serving (zone_builder), answering each (name,
 * type) with one record set: a plain set as it is; a failover group with
 * its PRIMARY while healthy, else its SECONDARY while healthy, else (every
 * member unhealthy: fail open, Route 53's rule) its PRIMARY. A set without
 * a HealthCheckId is healthy; with one, healthy(ctx, id) decides (healthy
 * NULL: all healthy). Each answered set keeps its own TTL. *out carries
 * one reference, released with zone_release. */
int zone_store_build_with_health(const struct zone_store *s, const char *id,
				 zone_store_check_fn healthy, void *ctx,
				 struct zone **out, char *err, size_t errlen);
/* The same, building on prev: the zone as compiled by the previous call
 * of this function for id (prev NULL, or not that version, or a mutation
 * the store could not track: a full build). Rebuilds only the names the
 * mutations since then touched, what depends on them, and the names
 * answered by health (a health change calls this with no mutation); shares
 * everything else with prev. Answers exactly as the full build would. prev
 * keeps its reference and stays valid. The store keeps a local note of
 * the version built (not replicated state; s is not otherwise changed). */
int zone_store_build_update(const struct zone_store *s, const char *id,
			    const struct zone *prev,
			    zone_store_check_fn healthy, void *ctx,
			    struct zone **out, char *err, size_t errlen);
/* Compiling a zone import ahead of its apply (on another thread: touches
 * no store). Builds what zone_store_build would build from a zone holding
 * exactly sets[0..n) (typed, as an import gives them to
 * zone_store_replace) and, at the apex, apex's sets (may be NULL) of a
 * type the import has none of, or Q53_EINVAL when a set would not enter the
 * store as it is (a routing field, an uppercase owner, records not in the
 * store's order or repeated) or the builder refuses the zone. input_done
 * (may be NULL) is called once the sets are no longer read, before the
 * compile proper. */
struct zone_store_apex;
int zone_store_prebuild(const uint8_t *origin, const struct rrset_data *sets,
			size_t n, const struct zone_store_apex *apex,
			void (*input_done)(void *arg), void *arg,
			struct zone **out, char *err, size_t errlen);
/* The zone's apex SOA and NS sets, copied (for zone_store_prebuild: what
 * the store keeps when an import has none of its own; their serial may
 * be old, the adoption rebuilds the apex). 0, Q53_ENOENT or Q53_ENOMEM. */
struct zone_store_apex {
	struct rrset_data sets[2];
	size_t n;
	uint8_t *data[2];
};
int zone_store_apex_copy(const struct zone_store *s, const char *id,
			 struct zone_store_apex *out);
void zone_store_apex_free(struct zone_store_apex *a);
/* After zone_store_replace of zone id from an import compiled ahead with
 * tag (not 0; local to this node, never replicated): notes that the
 * zone's sets are the import's (but for the apex's SOA and NS), until the
 * next build. */
void zone_store_note_import(struct zone_store *s, const char *id, uint64_t tag);
/* The tag noted for id, while the zone has not been built since (later
 * changes tracked), else 0. */
uint64_t zone_store_import_tag(const struct zone_store *s, const char *id);
/* zone_store_build_update, starting from pre: zone_store_prebuild's
 * compile of the import tagged tag. Rebuilds the apex and what changed
 * since the import; the result answers exactly as a full build. Q53_EINVAL
 * when tag is not the zone's import (build in full then). pre keeps its
 * reference. */
int zone_store_build_adopt(const struct zone_store *s, const char *id,
			   uint64_t tag, const struct zone *pre,
			   zone_store_check_fn healthy, void *ctx,
			   struct zone **out, char *err, size_t errlen);
/* The same with every health check healthy (tests, tools). The runtime
 * builds through zone_store_build_update with control_fsm_health_lookup,
 * which passes the decided statuses. */
int zone_store_build(const struct zone_store *s, const char *id,
		     struct zone **out, char *err, size_t errlen);

/* Which branch of its routing tree the zone answered (name, type) with,
 * given the answer's records answer[0..n) (wire RDATA of that type):
 * into out, e.g. "failover PRIMARY \"p\"", "weighted \"w1\"",
 * "alias shop.example.com. (Z...) > simple", "simple", "" when the zone
 * holds no such set. Found by matching the records against each member's,
 * with health as healthy tells it (so an answer two members share names
 * the first). Returns 0 or Q53_ENOENT (no such zone) or Q53_ENOMEM. */
int zone_store_answer_branch(const struct zone_store *s, const char *id,
			     const uint8_t *name, uint16_t type,
			     const struct rrset_rdata *answer, size_t n,
			     zone_store_check_fn healthy, void *ctx, char *out,
			     size_t outlen);

/* Replaces the zone's record sets with sets[0..n) (typed, untrusted: in
 * canonical order, each (owner, type, set identifier) once, every field
 * and RDATA checked), which is what an imported zone file gives
 * (zone_text_parse, node/control/zone_text.h). The sets' apex SOA and NS
 * replace the current ones; when there are none the current ones stay.
 * The serial becomes the SOA's when that is newer, else the current one
 * plus one. Errors: NoSuchHostedZone, "InvalidInput: ..." (a zone rule, or
 * "record set N: ..." for a set that is malformed). */
int zone_store_replace(struct zone_store *s, const char *id,
		       const struct rrset_data *sets, size_t n, char *err,
		       size_t errlen);

/* A whole zone as a snapshot holds it (control_fsm.c's FsmSnapshot). */
struct zone_store_load_params {
	const char *id;
	const uint8_t *origin; /* lowercase wire */
	size_t origin_len;
	const char *comment;	      /* NULL / "": none */
	const char *caller_reference; /* NULL / "": none */
};

/* Adds the zone p with sets[0..n) (untrusted, canonical order; the serial
 * is the SOA's), after every zone s holds: ids must come in increasing
 * order, names and caller references once. Returns 0, Q53_EINVAL (a
 * reason in err) or Q53_ENOMEM; s is unchanged on failure. That each
 * HealthCheckId names an existing check is the caller's to verify. */
int zone_store_load(struct zone_store *s,
		    const struct zone_store_load_params *p,
		    const struct rrset_data *sets, size_t n, char *err,
		    size_t errlen);

#endif
