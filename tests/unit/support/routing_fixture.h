/* What the routing unit tests share: a one-zone store (ZID, example.com)
 * with health and check existence faked, change batches in the AWS CLI's
 * JSON (the CH/BATCH/W/MV/HC macros), a compiled view, and asking it one
 * query through the real query path (dns_query_answer_from), with or
 * without an ECS option; a chi-square statistic for the shares. */
#ifndef Q53_TESTS_UNIT_SUPPORT_ROUTING_FIXTURE_H
#define Q53_TESTS_UNIT_SUPPORT_ROUTING_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/control/zone_store.h"
#include "node/zone/view.h"

#define ZID "Z0123456789ABC"

extern const char *const NS[2];

/* Health: the checks named in down[] are unhealthy, every other one
 * healthy; every check whose id starts with "hc" or "HC" exists. */
struct health {
	const char *down[16];
};
bool healthy(void *ctx, const char *id);
bool exists(void *ctx, const char *id);

/* A store holding the empty zone ZID (example.com). */
void store_new(struct zone_store *s);
/* Parses, compiles and applies json; the error text in err. */
int apply(struct zone_store *s, const char *json, char *err, size_t errlen);
void apply_ok(struct zone_store *s, const char *json);
/* json is refused with Q53_EINVAL and a message holding needle. */
void refused(struct zone_store *s, const char *json, const char *needle);

#define CH(action, rrs)                                                        \
	"{\"Action\": \"" action "\", \"ResourceRecordSet\": {" rrs "}}"
#define BATCH(changes) "{\"Changes\": [" changes "]}"
#define W(name, id, w, value)                                                  \
	"\"Name\": \"" name "\", \"Type\": \"A\", \"TTL\": 60, "               \
	"\"SetIdentifier\": \"" id "\", \"Weight\": " #w                       \
	", \"ResourceRecords\": [{\"Value\": \"" value "\"}]"
#define MV(name, id, value)                                                    \
	"\"Name\": \"" name "\", \"Type\": \"A\", \"TTL\": 60, "               \
	"\"SetIdentifier\": \"" id "\", \"MultiValueAnswer\": true, "          \
	"\"ResourceRecords\": [{\"Value\": \"" value "\"}]"
#define HC(id) ", \"HealthCheckId\": \"" id "\""

/* --- asking a compiled zone --- */

struct reply {
	uint8_t wire[1232];
	size_t len;
	int rcode;
	bool tc;
	size_t n;	  /* A records in the answer */
	uint8_t last[16]; /* their last octets */
	uint8_t ecs[32];  /* the ECS option's data in the answer */
	uint16_t ecs_len; /* 0: none */
};

/* An EDNS Client Subnet option's data (RFC 7871 6) to send, or none. */
struct ecs {
	uint8_t data[32];
	uint16_t len; /* 0: none */
	bool twice;   /* the option twice */
};

/* name/type with query id from client (dotted IPv4, NULL: none), EDNS
 * with payload (0: no OPT) and ecs (NULL: none). */
struct reply ask_ecs(const struct serving_view *v, const char *name,
		     uint16_t type, uint16_t id, const char *client,
		     uint16_t payload, const struct ecs *ecs);
struct reply ask(const struct serving_view *v, const char *name, uint16_t type,
		 uint16_t id, const char *client, uint16_t payload);
/* The view of ZID built with health h. */
struct serving_view *build_view(const struct zone_store *s, struct health *h);

/* Chi-square statistic of counts against expected shares. */
double chi2(const size_t *count, const double *share, size_t k, size_t total);
/* The critical values at p = 0.001 for 1..4 degrees of freedom. */
extern const double CHI2_999[5];

#endif
