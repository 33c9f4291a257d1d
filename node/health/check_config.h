/* A health check's configuration, as Route 53's CreateHealthCheck takes it
 * (the HealthCheckConfig object, verbatim as `aws route53 create-health-check
 * --health-check-config file://X.json` reads it), plus quorum53's own
 * HealthyShare. Parsed with jansson, validated field by field (errors name
 * the field; unknown fields are rejected), serialised back to canonical JSON
 * with every default spelled out, so that equal configs give equal bytes in
 * the Raft log.
 *
 * Rules (Route 53's, except where marked "ours"):
 *   Type            required: HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH,
 *                   TCP or CALCULATED (CLOUDWATCH_METRIC and
 *                   RECOVERY_CONTROL are refused as not supported).
 *   IPAddress       IPv4 or IPv6, stored in canonical text form.
 *   FullyQualifiedDomainName  <= 255 chars, labels of [A-Za-z0-9_-].
 *                   Endpoint types need IPAddress or this (or both: then
 *                   the address is probed and the name goes into the Host
 *                   header and, with EnableSNI, into TLS SNI).
 *   Port            1..65535; default 80 (HTTP*), 443 (HTTPS*); required
 *                   for TCP.
 *   ResourcePath    <= 255 printable ASCII chars without spaces; HTTP(S)
 *                   types only; default "/" (kept empty here).
 *   SearchString    1..255 chars; required for *_STR_MATCH, refused for the
 *                   other types.
 *   RequestInterval seconds: 10 or 30 as Route 53, and (ours) 1..9; default
 *                   30.
 *   FailureThreshold 1..10; default 3.
 *   Inverted, Disabled, MeasureLatency (kept, no effect), EnableSNI
 *                   booleans; EnableSNI defaults to true for HTTPS types.
 *   ChildHealthChecks, HealthThreshold  CALCULATED only (and required
 *                   there): <= 256 distinct ids of <= 64 chars;
 *                   HealthThreshold 0..256 and not more than the children.
 *                   CALCULATED refuses the endpoint fields.
 *   HealthyShare    (ours) 0..99: the check is healthy when more than this
 *                   percentage of the reporting members say healthy;
 *                   default 50 (strict majority). Route 53's own rule is 18.
 *   WebhookUrl      (ours) an http:// or https:// URL of <= 1024 printable
 *                   ASCII chars without spaces, any type: the leader POSTs
 *                   a JSON object there once per decided transition (at
 *                   least once, from the leader: see
 *                   node/runtime/cluster_node_webhook.c); default none,
 *                   and then absent from the canonical JSON.
 *   Regions, AlarmIdentifier, InsufficientDataHealthStatus,
 *   RoutingControlArn  refused as not supported (every member probes). */
#ifndef Q53_NODE_HEALTH_CHECK_CONFIG_H
#define Q53_NODE_HEALTH_CHECK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEALTH_CHECK_ID_MAX	       64  /* chars of a health check id */
#define HEALTH_CHECK_CHILDREN_MAX      256 /* ChildHealthChecks entries */
#define HEALTH_CHECK_FQDN_MAX	       255
#define HEALTH_CHECK_PATH_MAX	       255
#define HEALTH_CHECK_SEARCH_MAX	       255
#define HEALTH_CHECK_FAILURE_MAX       10
#define HEALTH_CHECK_INTERVAL_DEFAULT  30
#define HEALTH_CHECK_THRESHOLD_DEFAULT 3
#define HEALTH_CHECK_SHARE_DEFAULT     50
#define HEALTH_CHECK_SHARE_MAX	       99
#define HEALTH_CHECK_WEBHOOK_MAX       1024 /* chars of WebhookUrl */

enum health_check_type {
	HEALTH_CHECK_HTTP,
	HEALTH_CHECK_HTTPS,
	HEALTH_CHECK_HTTP_STR_MATCH,
	HEALTH_CHECK_HTTPS_STR_MATCH,
	HEALTH_CHECK_TCP,
	HEALTH_CHECK_CALCULATED,
};

struct health_check_config {
	enum health_check_type type;
	char ip_address[46];		      /* canonical, "" = none */
	char fqdn[HEALTH_CHECK_FQDN_MAX + 1]; /* "" = none */
	uint16_t port;			      /* resolved; 0 for CALCULATED */
	char resource_path[HEALTH_CHECK_PATH_MAX + 1]; /* "" = "/" */
	char search_string[HEALTH_CHECK_SEARCH_MAX + 1];
	unsigned request_interval;  /* seconds; 0 for CALCULATED */
	unsigned failure_threshold; /* 0 for CALCULATED */
	unsigned healthy_share;	    /* percent, 0..99 */
	bool inverted;
	bool disabled;
	bool enable_sni;
	bool measure_latency;
	/* CALCULATED: children ids (owned, one allocation, NULL when none). */
	char (*children)[HEALTH_CHECK_ID_MAX + 1];
	size_t n_children;
	unsigned health_threshold;
	char webhook_url[HEALTH_CHECK_WEBHOOK_MAX + 1]; /* "" = none */
};

/* Route 53's name of a type ("HTTPS_STR_MATCH"); never NULL. */
const char *health_check_type_name(enum health_check_type type);
/* True for the types that search the body. */
bool health_check_type_matches_string(enum health_check_type type);
/* True for HTTPS and HTTPS_STR_MATCH. */
bool health_check_type_is_tls(enum health_check_type type);

/* Cross-field, range and string-form checks on a filled struct (the
 * parse runs them too; the FSM runs them on configs it decodes). Returns 0 or
 * Q53_EINVAL with "Field: reason" in errbuf. */
int health_check_config_validate(const struct health_check_config *cfg,
				 char *errbuf, size_t errlen);

/* Deep copy into dst (which must not hold anything: cleared or fresh).
 * Returns 0 or Q53_ENOMEM (dst then cleared). */
int health_check_config_copy(struct health_check_config *dst,
			     const struct health_check_config *src);
/* Field-by-field equality, children in order. */
bool health_check_config_equal(const struct health_check_config *a,
			       const struct health_check_config *b);
/* Frees the children and zeroes cfg. */
void health_check_config_clear(struct health_check_config *cfg);

/* Shared with check_config_json.c: "Field: reason" into errbuf, returns
 * Q53_EINVAL; name and URL rules. */
int health_check_fail(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool health_check_fqdn_valid(const char *s);
int health_check_webhook_check(const char *url, char *errbuf, size_t errlen);
bool health_check_type_is_http(enum health_check_type type);

#endif
