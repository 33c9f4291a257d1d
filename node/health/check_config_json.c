/* HealthCheckConfig JSON (jansson), at the edge (see check_config.h): not
 * part of the FSM library. */
#include "node/health/check_config_json.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node/common/errcode.h"

/* Which optional fields the JSON had, for "required"/"not allowed" checks
 * a zero value cannot express. */
enum {
	SEEN_HEALTH_THRESHOLD = 1u << 0,
	SEEN_CHILDREN = 1u << 1,
	SEEN_PORT = 1u << 2,
	SEEN_INTERVAL = 1u << 3,
	SEEN_FAILURE = 1u << 4,
	SEEN_SNI = 1u << 5,
	SEEN_TYPE = 1u << 6,
	SEEN_SHARE = 1u << 7,
};

struct parse_ctx {
	struct health_check_config *cfg;
	unsigned seen;
	char *errbuf;
	size_t errlen;
};

typedef int (*field_fn)(struct parse_ctx *ctx, const char *key,
			const json_t *v);

static int get_bool(struct parse_ctx *ctx, const char *key, const json_t *v,
		    bool *out)
{
	if (!json_is_boolean(v))
		return health_check_fail(ctx->errbuf, ctx->errlen,
					 "%s: must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int get_uint(struct parse_ctx *ctx, const char *key, const json_t *v,
		    long long min, long long max, unsigned *out)
{
	json_int_t n;

	if (!json_is_integer(v))
		return health_check_fail(ctx->errbuf, ctx->errlen,
					 "%s: must be an integer %lld..%lld",
					 key, min, max);
	n = json_integer_value(v);
	if (n < min || n > max)
		return health_check_fail(ctx->errbuf, ctx->errlen,
					 "%s: %lld is out of range %lld..%lld",
					 key, (long long)n, min, max);
	*out = (unsigned)n;
	return 0;
}

/* Copies a JSON string of 1..max bytes into dst (max + 1 bytes). */
static int get_string(struct parse_ctx *ctx, const char *key, const json_t *v,
		      size_t max, char *dst)
{
	size_t len;

	if (!json_is_string(v))
		return health_check_fail(ctx->errbuf, ctx->errlen,
					 "%s: must be a string", key);
	len = json_string_length(v);
	if (len == 0)
		return health_check_fail(ctx->errbuf, ctx->errlen,
					 "%s: must not be empty", key);
	if (len > max)
		return health_check_fail(ctx->errbuf, ctx->errlen,
					 "%s: longer than %zu characters", key,
					 max);
	if (memchr(json_string_value(v), '\0', len) != NULL)
		return health_check_fail(ctx->errbuf, ctx->errlen,
					 "%s: contains a NUL character", key);
	memcpy(dst, json_string_value(v), len + 1);
	return 0;
}

static int field_type(struct parse_ctx *ctx, const char *key, const json_t *v)
{
	const char *s;
	size_t i;

	if (!json_is_string(v))
		return health_check_fail(ctx->errbuf, ctx->errlen,
					 "%s: must be a string", key);
	s = json_string_value(v);
	for (i = 0; i <= (size_t)HEALTH_CHECK_CALCULATED; i++) {
		if (strcmp(s, health_check_type_name(
				  (enum health_check_type)i)) == 0) {
			ctx->cfg->type = (enum health_check_type)i;
			ctx->seen |= SEEN_TYPE;
			return 0;
		}
	}
	if (strcmp(s, "CLOUDWATCH_METRIC") == 0 ||
	    strcmp(s, "RECOVERY_CONTROL") == 0)
		return health_check_fail(ctx->errbuf, ctx->errlen,
					 "%s: %s is not supported by quorum53",
					 key, s);
	return health_check_fail(
	    ctx->errbuf, ctx->errlen,
	    "%s: unknown type \"%.32s\" (HTTP, HTTPS, HTTP_STR_MATCH, "
	    "HTTPS_STR_MATCH, TCP or CALCULATED)",
	    key, s);
}

static int field_ip(struct parse_ctx *ctx, const char *key, const json_t *v)
{
	char text[64];
	unsigned char addr[16];
	int rc;

	rc = get_string(ctx, key, v, 45, text);
	if (rc != 0)
		return rc;
	if (inet_pton(AF_INET, text, addr) == 1)
		inet_ntop(AF_INET, addr, ctx->cfg->ip_address,
			  sizeof(ctx->cfg->ip_address));
	else if (inet_pton(AF_INET6, text, addr) == 1)
		inet_ntop(AF_INET6, addr, ctx->cfg->ip_address,
			  sizeof(ctx->cfg->ip_address));
	else
		return health_check_fail(
		    ctx->errbuf, ctx->errlen,
		    "%s: \"%s\" is not an IPv4 or IPv6 address", key, text);
	return 0;
}

static int field_fqdn(struct parse_ctx *ctx, const char *key, const json_t *v)
{
	int rc = get_string(ctx, key, v, HEALTH_CHECK_FQDN_MAX, ctx->cfg->fqdn);

	if (rc != 0)
		return rc;
	if (!health_check_fqdn_valid(ctx->cfg->fqdn) ||
	    strcmp(ctx->cfg->fqdn, ".") == 0)
		return health_check_fail(
		    ctx->errbuf, ctx->errlen,
		    "%s: not a valid host name (labels of 1..63 "
		    "letters, digits, '-' or '_')",
		    key);
	return 0;
}

static int field_port(struct parse_ctx *ctx, const char *key, const json_t *v)
{
	unsigned port = 0;
	int rc = get_uint(ctx, key, v, 1, 65535, &port);

	if (rc != 0)
		return rc;
	ctx->cfg->port = (uint16_t)port;
	ctx->seen |= SEEN_PORT;
	return 0;
}

static int field_path(struct parse_ctx *ctx, const char *key, const json_t *v)
{
	const char *p;
	int rc = get_string(ctx, key, v, HEALTH_CHECK_PATH_MAX,
			    ctx->cfg->resource_path);

	if (rc != 0)
		return rc;
	for (p = ctx->cfg->resource_path; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f)
			return health_check_fail(
			    ctx->errbuf, ctx->errlen,
			    "%s: only printable ASCII without spaces "
			    "(percent-encode the rest)",
			    key);
	}
	return 0;
}

static int field_search(struct parse_ctx *ctx, const char *key, const json_t *v)
{
	return get_string(ctx, key, v, HEALTH_CHECK_SEARCH_MAX,
			  ctx->cfg->search_string);
}

static int field_interval(struct parse_ctx *ctx, const char *key,
			  const json_t *v)
{
	unsigned n;

	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    (json_integer_value(v) > 10 && json_integer_value(v) != 30))
		return health_check_fail(
		    ctx->errbuf, ctx->errlen,
		    "%s: must be 10 or 30 seconds (or 1..9)", key);
	n = (unsigned)json_integer_value(v);
	ctx->cfg->request_interval = n;
	ctx->seen |= SEEN_INTERVAL;
	return 0;
}

static int field_failure(struct parse_ctx *ctx, const char *key,
			 const json_t *v)
{
	ctx->seen |= SEEN_FAILURE;
	return get_uint(ctx, key, v, 1, HEALTH_CHECK_FAILURE_MAX,
			&ctx->cfg->failure_threshold);
}

static int field_share(struct parse_ctx *ctx, const char *key, const json_t *v)
{
	ctx->seen |= SEEN_SHARE;
	return get_uint(ctx, key, v, 0, HEALTH_CHECK_SHARE_MAX,
			&ctx->cfg->healthy_share);
}

static int field_inverted(struct parse_ctx *ctx, const char *key,
			  const json_t *v)
{
	return get_bool(ctx, key, v, &ctx->cfg->inverted);
}

static int field_disabled(struct parse_ctx *ctx, const char *key,
			  const json_t *v)
{
	return get_bool(ctx, key, v, &ctx->cfg->disabled);
}

static int field_sni(struct parse_ctx *ctx, const char *key, const json_t *v)
{
	ctx->seen |= SEEN_SNI;
	return get_bool(ctx, key, v, &ctx->cfg->enable_sni);
}

static int field_latency(struct parse_ctx *ctx, const char *key,
			 const json_t *v)
{
	return get_bool(ctx, key, v, &ctx->cfg->measure_latency);
}

static int field_threshold(struct parse_ctx *ctx, const char *key,
			   const json_t *v)
{
	ctx->seen |= SEEN_HEALTH_THRESHOLD;
	return get_uint(ctx, key, v, 0, HEALTH_CHECK_CHILDREN_MAX,
			&ctx->cfg->health_threshold);
}

static int field_children(struct parse_ctx *ctx, const char *key,
			  const json_t *v)
{
	struct health_check_config *cfg = ctx->cfg;
	size_t i, j, n;
	int rc;

	if (!json_is_array(v))
		return health_check_fail(
		    ctx->errbuf, ctx->errlen,
		    "%s: must be an array of health check ids", key);
	n = json_array_size(v);
	if (n > HEALTH_CHECK_CHILDREN_MAX)
		return health_check_fail(ctx->errbuf, ctx->errlen,
					 "%s: more than %d ids", key,
					 HEALTH_CHECK_CHILDREN_MAX);
	ctx->seen |= SEEN_CHILDREN;
	if (n == 0)
		return 0;
	cfg->children = calloc(n, sizeof(*cfg->children));
	if (cfg->children == NULL)
		return Q53_ENOMEM;
	for (i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s[%zu]", key, i);
		rc = get_string(ctx, name, json_array_get(v, i),
				HEALTH_CHECK_ID_MAX, cfg->children[i]);
		if (rc != 0)
			return rc;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->children[j], cfg->children[i]) == 0)
				return health_check_fail(
				    ctx->errbuf, ctx->errlen,
				    "%s: duplicate id \"%s\"", name,
				    cfg->children[i]);
		cfg->n_children = i + 1;
	}
	return 0;
}

static int field_webhook(struct parse_ctx *ctx, const char *key,
			 const json_t *v)
{
	int rc = get_string(ctx, key, v, HEALTH_CHECK_WEBHOOK_MAX,
			    ctx->cfg->webhook_url);

	if (rc != 0)
		return rc;
	return health_check_webhook_check(ctx->cfg->webhook_url, ctx->errbuf,
					  ctx->errlen);
}

static int field_unsupported(struct parse_ctx *ctx, const char *key,
			     const json_t *v)
{
	(void)v;
	return health_check_fail(
	    ctx->errbuf, ctx->errlen,
	    "%s: not supported by quorum53 (every member probes every "
	    "check)",
	    key);
}

static const struct {
	const char *name;
	field_fn fn;
} FIELDS[] = {
    {"Type", field_type},
    {"IPAddress", field_ip},
    {"FullyQualifiedDomainName", field_fqdn},
    {"Port", field_port},
    {"ResourcePath", field_path},
    {"SearchString", field_search},
    {"RequestInterval", field_interval},
    {"FailureThreshold", field_failure},
    {"MeasureLatency", field_latency},
    {"Inverted", field_inverted},
    {"Disabled", field_disabled},
    {"EnableSNI", field_sni},
    {"HealthThreshold", field_threshold},
    {"ChildHealthChecks", field_children},
    {"HealthyShare", field_share},
    {"WebhookUrl", field_webhook},
    {"Regions", field_unsupported},
    {"AlarmIdentifier", field_unsupported},
    {"InsufficientDataHealthStatus", field_unsupported},
    {"RoutingControlArn", field_unsupported},
};

static int parse_fields(struct parse_ctx *ctx, const json_t *obj)
{
	const char *key;
	json_t *v;
	size_t i;
	int rc;

	/* jansson (>= 2.8) iterates in document order: the first bad field
	 * is the one reported. */
	json_object_foreach((json_t *)obj, key, v)
	{
		for (i = 0; i < sizeof(FIELDS) / sizeof(FIELDS[0]); i++)
			if (strcmp(key, FIELDS[i].name) == 0)
				break;
		if (i == sizeof(FIELDS) / sizeof(FIELDS[0]))
			return health_check_fail(ctx->errbuf, ctx->errlen,
						 "%.64s: unknown field", key);
		rc = FIELDS[i].fn(ctx, key, v);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Defaults that depend on the type, then the checks only presence can
 * express; the rest is health_check_config_validate. */
static int resolve(struct parse_ctx *ctx)
{
	struct health_check_config *cfg = ctx->cfg;

	if (!(ctx->seen & SEEN_TYPE))
		return health_check_fail(ctx->errbuf, ctx->errlen,
					 "Type: required");
	if (!(ctx->seen & SEEN_SHARE))
		cfg->healthy_share = HEALTH_CHECK_SHARE_DEFAULT;
	if (cfg->type == HEALTH_CHECK_CALCULATED) {
		if (!(ctx->seen & SEEN_CHILDREN))
			return health_check_fail(
			    ctx->errbuf, ctx->errlen,
			    "ChildHealthChecks: required for "
			    "CALCULATED");
		if (!(ctx->seen & SEEN_HEALTH_THRESHOLD))
			return health_check_fail(
			    ctx->errbuf, ctx->errlen,
			    "HealthThreshold: required for CALCULATED");
		if (ctx->seen & SEEN_INTERVAL)
			return health_check_fail(
			    ctx->errbuf, ctx->errlen,
			    "RequestInterval: not allowed for "
			    "CALCULATED");
		if (ctx->seen & SEEN_FAILURE)
			return health_check_fail(
			    ctx->errbuf, ctx->errlen,
			    "FailureThreshold: not allowed for "
			    "CALCULATED");
		if (ctx->seen & SEEN_PORT)
			return health_check_fail(
			    ctx->errbuf, ctx->errlen,
			    "Port: not allowed for CALCULATED");
		return 0;
	}
	if (ctx->seen & SEEN_CHILDREN)
		return health_check_fail(
		    ctx->errbuf, ctx->errlen,
		    "ChildHealthChecks: only for CALCULATED");
	if (ctx->seen & SEEN_HEALTH_THRESHOLD)
		return health_check_fail(
		    ctx->errbuf, ctx->errlen,
		    "HealthThreshold: only for CALCULATED");
	if (!(ctx->seen & SEEN_INTERVAL))
		cfg->request_interval = HEALTH_CHECK_INTERVAL_DEFAULT;
	if (!(ctx->seen & SEEN_FAILURE))
		cfg->failure_threshold = HEALTH_CHECK_THRESHOLD_DEFAULT;
	if (!(ctx->seen & SEEN_PORT)) {
		if (cfg->type == HEALTH_CHECK_TCP)
			return health_check_fail(ctx->errbuf, ctx->errlen,
						 "Port: required for TCP");
		cfg->port = health_check_type_is_tls(cfg->type) ? 443 : 80;
	}
	if (!(ctx->seen & SEEN_SNI))
		cfg->enable_sni = health_check_type_is_tls(cfg->type);
	return 0;
}

int health_check_config_from_json(struct health_check_config *out,
				  const json_t *obj, char *errbuf,
				  size_t errlen)
{
	struct parse_ctx ctx = {
	    .cfg = out, .seen = 0, .errbuf = errbuf, .errlen = errlen};
	int rc;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		errbuf[0] = '\0';
	if (!json_is_object(obj)) {
		rc = health_check_fail(
		    errbuf, errlen, "HealthCheckConfig: must be a JSON object");
		goto err;
	}
	rc = parse_fields(&ctx, obj);
	if (rc != 0)
		goto err;
	rc = resolve(&ctx);
	if (rc != 0)
		goto err;
	rc = health_check_config_validate(out, errbuf, errlen);
	if (rc != 0)
		goto err;
	return 0;
err:
	if (rc == Q53_ENOMEM && errlen > 0)
		snprintf(errbuf, errlen, "out of memory");
	health_check_config_clear(out);
	return rc;
}

int health_check_config_parse(struct health_check_config *out, const char *json,
			      size_t len, char *errbuf, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL &&
	    (json_error_code(&jerr) == json_error_out_of_memory ||
	     jerr.text[0] == '\0'))
		return Q53_ENOMEM; /* not the text's fault */
	if (root == NULL)
		return health_check_fail(
		    errbuf, errlen,
		    "HealthCheckConfig: invalid JSON at line %d: %s", jerr.line,
		    jerr.text);
	rc = health_check_config_from_json(out, root, errbuf, errlen);
	json_decref(root);
	return rc;
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		return Q53_ENOMEM;
	return 0;
}

int health_check_config_to_json(const struct health_check_config *cfg,
				json_t **out)
{
	json_t *obj = json_object();
	json_t *arr;
	size_t i;
	int rc = 0;

	if (obj == NULL)
		return Q53_ENOMEM;
	rc |= set_new(obj, "Type",
		      json_string(health_check_type_name(cfg->type)));
	if (cfg->type == HEALTH_CHECK_CALCULATED) {
		arr = json_array();
		if (arr == NULL) {
			rc = Q53_ENOMEM;
			goto done;
		}
		for (i = 0; i < cfg->n_children; i++)
			if (json_array_append_new(
				arr, json_string(cfg->children[i])) != 0)
				rc = Q53_ENOMEM;
		rc |= set_new(obj, "ChildHealthChecks", arr);
		rc |= set_new(obj, "HealthThreshold",
			      json_integer(cfg->health_threshold));
	} else {
		if (cfg->ip_address[0] != '\0')
			rc |= set_new(obj, "IPAddress",
				      json_string(cfg->ip_address));
		if (cfg->fqdn[0] != '\0')
			rc |= set_new(obj, "FullyQualifiedDomainName",
				      json_string(cfg->fqdn));
		rc |= set_new(obj, "Port", json_integer(cfg->port));
		if (cfg->resource_path[0] != '\0')
			rc |= set_new(obj, "ResourcePath",
				      json_string(cfg->resource_path));
		if (cfg->search_string[0] != '\0')
			rc |= set_new(obj, "SearchString",
				      json_string(cfg->search_string));
		rc |= set_new(obj, "RequestInterval",
			      json_integer(cfg->request_interval));
		rc |= set_new(obj, "FailureThreshold",
			      json_integer(cfg->failure_threshold));
		rc |= set_new(obj, "MeasureLatency",
			      json_boolean(cfg->measure_latency));
		if (health_check_type_is_tls(cfg->type))
			rc |= set_new(obj, "EnableSNI",
				      json_boolean(cfg->enable_sni));
	}
	rc |= set_new(obj, "Inverted", json_boolean(cfg->inverted));
	rc |= set_new(obj, "Disabled", json_boolean(cfg->disabled));
	rc |= set_new(obj, "HealthyShare", json_integer(cfg->healthy_share));
	if (cfg->webhook_url[0] != '\0')
		rc |= set_new(obj, "WebhookUrl", json_string(cfg->webhook_url));
done:
	if (rc != 0) {
		json_decref(obj);
		return Q53_ENOMEM;
	}
	*out = obj;
	return 0;
}

int health_check_config_format(const struct health_check_config *cfg,
			       char **out)
{
	json_t *obj;
	char *text;
	int rc;

	rc = health_check_config_to_json(cfg, &obj);
	if (rc != 0)
		return rc;
	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (text == NULL)
		return Q53_ENOMEM;
	*out = text;
	return 0;
}
