#include "node/health/check_config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node/common/errcode.h"

static const char *const TYPE_NAMES[] = {
    [HEALTH_CHECK_HTTP] = "HTTP",
    [HEALTH_CHECK_HTTPS] = "HTTPS",
    [HEALTH_CHECK_HTTP_STR_MATCH] = "HTTP_STR_MATCH",
    [HEALTH_CHECK_HTTPS_STR_MATCH] = "HTTPS_STR_MATCH",
    [HEALTH_CHECK_TCP] = "TCP",
    [HEALTH_CHECK_CALCULATED] = "CALCULATED",
};
#define N_TYPES (sizeof(TYPE_NAMES) / sizeof(TYPE_NAMES[0]))

const char *health_check_type_name(enum health_check_type type)
{
	if ((size_t)type < N_TYPES)
		return TYPE_NAMES[type];
	return "?";
}

bool health_check_type_matches_string(enum health_check_type type)
{
	return type == HEALTH_CHECK_HTTP_STR_MATCH ||
	       type == HEALTH_CHECK_HTTPS_STR_MATCH;
}

bool health_check_type_is_tls(enum health_check_type type)
{
	return type == HEALTH_CHECK_HTTPS ||
	       type == HEALTH_CHECK_HTTPS_STR_MATCH;
}

bool health_check_type_is_http(enum health_check_type type)
{
	return type != HEALTH_CHECK_TCP && type != HEALTH_CHECK_CALCULATED;
}

int health_check_fail(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int health_check_fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return Q53_EINVAL;
}

bool health_check_fqdn_valid(const char *s)
{
	size_t label = 0;
	const char *p;

	for (p = s; *p != '\0'; p++) {
		char c = *p;
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return p != s; /* a trailing dot is fine, "." alone is not */
}
/* http:// or https:// (any case), a host, printable ASCII without spaces;
 * the rest is the receiver's business. */
int health_check_webhook_check(const char *url, char *errbuf, size_t errlen)
{
	const char *p, *host;

	if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return health_check_fail(
		    errbuf, errlen,
		    "WebhookUrl: must start with http:// or https://");
	if (*host == '\0' || *host == '/' || *host == '?' || *host == '#')
		return health_check_fail(errbuf, errlen, "WebhookUrl: no host");
	for (p = url; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f)
			return health_check_fail(
			    errbuf, errlen,
			    "WebhookUrl: only printable ASCII without "
			    "spaces (percent-encode the rest)");
	}
	return 0;
}
/* The string fields as the parser leaves them (a config decoded from a log
 * entry or a snapshot is untrusted). */
static int health_check_strings_check(const struct health_check_config *cfg,
				      char *errbuf, size_t errlen)
{
	unsigned char addr[16];
	char canon[64];

	if (memchr(cfg->ip_address, '\0', sizeof(cfg->ip_address)) == NULL ||
	    memchr(cfg->fqdn, '\0', sizeof(cfg->fqdn)) == NULL ||
	    memchr(cfg->resource_path, '\0', sizeof(cfg->resource_path)) ==
		NULL ||
	    memchr(cfg->search_string, '\0', sizeof(cfg->search_string)) ==
		NULL)
		return health_check_fail(errbuf, errlen,
					 "HealthCheckConfig: unterminated "
					 "field");
	if (cfg->ip_address[0] != '\0') {
		int af = strchr(cfg->ip_address, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(af, cfg->ip_address, addr) != 1 ||
		    inet_ntop(af, addr, canon, sizeof(canon)) == NULL ||
		    strcmp(canon, cfg->ip_address) != 0)
			return health_check_fail(
			    errbuf, errlen,
			    "IPAddress: \"%s\" is not a canonical IPv4 or "
			    "IPv6 address",
			    cfg->ip_address);
	}
	if (cfg->fqdn[0] != '\0' && !health_check_fqdn_valid(cfg->fqdn))
		return health_check_fail(errbuf, errlen,
					 "FullyQualifiedDomainName: not a "
					 "valid name");
	for (const char *p = cfg->resource_path; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f)
			return health_check_fail(
			    errbuf, errlen,
			    "ResourcePath: only printable ASCII without "
			    "spaces (percent-encode the rest)");
	}
	return 0;
}

int health_check_config_validate(const struct health_check_config *cfg,
				 char *errbuf, size_t errlen)
{
	size_t i, j;

	if ((size_t)cfg->type >= N_TYPES)
		return health_check_fail(errbuf, errlen, "Type: unknown type");
	if (cfg->healthy_share > HEALTH_CHECK_SHARE_MAX)
		return health_check_fail(errbuf, errlen,
					 "HealthyShare: %u is out of range "
					 "0..%d",
					 cfg->healthy_share,
					 HEALTH_CHECK_SHARE_MAX);
	if (strnlen(cfg->webhook_url, sizeof(cfg->webhook_url)) >
	    HEALTH_CHECK_WEBHOOK_MAX)
		return health_check_fail(
		    errbuf, errlen, "WebhookUrl: longer than %d characters",
		    HEALTH_CHECK_WEBHOOK_MAX);
	if (memchr(cfg->webhook_url, '\0', sizeof(cfg->webhook_url)) == NULL)
		return health_check_fail(errbuf, errlen,
					 "WebhookUrl: unterminated");
	if (cfg->webhook_url[0] != '\0' &&
	    health_check_webhook_check(cfg->webhook_url, errbuf, errlen) != 0)
		return Q53_EINVAL;
	if (cfg->type == HEALTH_CHECK_CALCULATED) {
		if (cfg->ip_address[0] != '\0')
			return health_check_fail(
			    errbuf, errlen,
			    "IPAddress: not allowed for CALCULATED");
		if (cfg->fqdn[0] != '\0')
			return health_check_fail(
			    errbuf, errlen,
			    "FullyQualifiedDomainName: not allowed for "
			    "CALCULATED");
		if (cfg->port != 0)
			return health_check_fail(
			    errbuf, errlen, "Port: not allowed for CALCULATED");
		if (cfg->resource_path[0] != '\0')
			return health_check_fail(
			    errbuf, errlen,
			    "ResourcePath: not allowed for CALCULATED");
		if (cfg->search_string[0] != '\0')
			return health_check_fail(
			    errbuf, errlen,
			    "SearchString: not allowed for CALCULATED");
		if (cfg->request_interval != 0)
			return health_check_fail(
			    errbuf, errlen,
			    "RequestInterval: not allowed for "
			    "CALCULATED");
		if (cfg->failure_threshold != 0)
			return health_check_fail(
			    errbuf, errlen,
			    "FailureThreshold: not allowed for "
			    "CALCULATED");
		if (cfg->enable_sni)
			return health_check_fail(
			    errbuf, errlen,
			    "EnableSNI: not allowed for CALCULATED");
		if (cfg->n_children == 0 || cfg->children == NULL)
			return health_check_fail(
			    errbuf, errlen,
			    "ChildHealthChecks: at least one id for "
			    "CALCULATED");
		if (cfg->n_children > HEALTH_CHECK_CHILDREN_MAX)
			return health_check_fail(
			    errbuf, errlen,
			    "ChildHealthChecks: more than %d ids",
			    HEALTH_CHECK_CHILDREN_MAX);
		for (i = 0; i < cfg->n_children; i++) {
			size_t len =
			    strnlen(cfg->children[i], HEALTH_CHECK_ID_MAX + 1);
			if (len == 0 || len > HEALTH_CHECK_ID_MAX)
				return health_check_fail(
				    errbuf, errlen,
				    "ChildHealthChecks[%zu]: ids are "
				    "1..%d characters",
				    i, HEALTH_CHECK_ID_MAX);
			for (j = 0; j < i; j++)
				if (strcmp(cfg->children[i],
					   cfg->children[j]) == 0)
					return health_check_fail(
					    errbuf, errlen,
					    "ChildHealthChecks[%zu]: "
					    "duplicate id \"%s\"",
					    i, cfg->children[i]);
		}
		if (cfg->health_threshold > cfg->n_children)
			return health_check_fail(
			    errbuf, errlen,
			    "HealthThreshold: %u exceeds the %zu "
			    "ChildHealthChecks",
			    cfg->health_threshold, cfg->n_children);
		return 0;
	}

	if (cfg->n_children != 0 || cfg->children != NULL)
		return health_check_fail(
		    errbuf, errlen, "ChildHealthChecks: only for CALCULATED");
	if (cfg->health_threshold != 0)
		return health_check_fail(
		    errbuf, errlen, "HealthThreshold: only for CALCULATED");
	if (health_check_strings_check(cfg, errbuf, errlen) != 0)
		return Q53_EINVAL;
	if (cfg->ip_address[0] == '\0' && cfg->fqdn[0] == '\0')
		return health_check_fail(
		    errbuf, errlen,
		    "IPAddress: required (or FullyQualifiedDomainName) "
		    "for %s",
		    health_check_type_name(cfg->type));
	if (cfg->port == 0)
		return health_check_fail(errbuf, errlen,
					 "Port: required for %s",
					 health_check_type_name(cfg->type));
	if (cfg->request_interval < 1 ||
	    (cfg->request_interval > 10 && cfg->request_interval != 30))
		return health_check_fail(
		    errbuf, errlen,
		    "RequestInterval: must be 10 or 30 seconds (or "
		    "1..9)");
	if (cfg->failure_threshold < 1 ||
	    cfg->failure_threshold > HEALTH_CHECK_FAILURE_MAX)
		return health_check_fail(
		    errbuf, errlen,
		    "FailureThreshold: %u is out of range 1..%d",
		    cfg->failure_threshold, HEALTH_CHECK_FAILURE_MAX);
	if (!health_check_type_is_http(cfg->type) &&
	    cfg->resource_path[0] != '\0')
		return health_check_fail(
		    errbuf, errlen,
		    "ResourcePath: only for HTTP and HTTPS types");
	if (health_check_type_matches_string(cfg->type)) {
		if (cfg->search_string[0] == '\0')
			return health_check_fail(
			    errbuf, errlen, "SearchString: required for %s",
			    health_check_type_name(cfg->type));
	} else if (cfg->search_string[0] != '\0') {
		return health_check_fail(
		    errbuf, errlen,
		    "SearchString: only for HTTP_STR_MATCH and "
		    "HTTPS_STR_MATCH");
	}
	if (cfg->enable_sni && !health_check_type_is_tls(cfg->type))
		return health_check_fail(
		    errbuf, errlen,
		    "EnableSNI: only for HTTPS and HTTPS_STR_MATCH");
	return 0;
}

int health_check_config_copy(struct health_check_config *dst,
			     const struct health_check_config *src)
{
	*dst = *src;
	dst->children = NULL;
	if (src->n_children == 0)
		return 0;
	dst->children = malloc(src->n_children * sizeof(*src->children));
	if (dst->children == NULL) {
		memset(dst, 0, sizeof(*dst));
		return Q53_ENOMEM;
	}
	memcpy(dst->children, src->children,
	       src->n_children * sizeof(*src->children));
	return 0;
}

bool health_check_config_equal(const struct health_check_config *a,
			       const struct health_check_config *b)
{
	size_t i;

	if (a->type != b->type || a->port != b->port ||
	    a->request_interval != b->request_interval ||
	    a->failure_threshold != b->failure_threshold ||
	    a->healthy_share != b->healthy_share ||
	    a->inverted != b->inverted || a->disabled != b->disabled ||
	    a->enable_sni != b->enable_sni ||
	    a->measure_latency != b->measure_latency ||
	    a->n_children != b->n_children ||
	    a->health_threshold != b->health_threshold ||
	    strcmp(a->ip_address, b->ip_address) != 0 ||
	    strcmp(a->fqdn, b->fqdn) != 0 ||
	    strcmp(a->resource_path, b->resource_path) != 0 ||
	    strcmp(a->search_string, b->search_string) != 0 ||
	    strcmp(a->webhook_url, b->webhook_url) != 0)
		return false;
	for (i = 0; i < a->n_children; i++)
		if (strcmp(a->children[i], b->children[i]) != 0)
			return false;
	return true;
}

void health_check_config_clear(struct health_check_config *cfg)
{
	free(cfg->children);
	memset(cfg, 0, sizeof(*cfg));
}
