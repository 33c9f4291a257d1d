/* Health check configs: every Route 53 example file parses with the
 * expected values and round-trips through the canonical JSON; every invalid
 * field is refused with an error that names it. Data files sit next to this
 * source (tests/unit/data/health, copied from the shared route53 set). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/common/errcode.h"
#include "node/health/check_config_json.h"

static char *read_data(const char *name, size_t *len)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	int dirlen = slash != NULL ? (int)(slash - __FILE__) : 1;
	FILE *f;
	char *buf;
	long size;

	snprintf(path, sizeof(path), "%.*s/data/health/%s", dirlen,
		 slash != NULL ? __FILE__ : ".", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	buf[size] = '\0';
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static void parse_file(const char *name, struct health_check_config *cfg)
{
	char err[256] = "";
	size_t len;
	char *text = read_data(name, &len);
	int rc = health_check_config_parse(cfg, text, len, err, sizeof(err));

	if (rc != 0)
		fail_msg("%s: %s", name, err);
	free(text);
}

/* format -> parse gives an equal config, and formatting again the same
 * bytes (the Raft log carries this text). */
static void assert_round_trip(const struct health_check_config *cfg)
{
	struct health_check_config again;
	char err[256] = "";
	char *text, *text2;

	assert_int_equal(health_check_config_format(cfg, &text), 0);
	if (health_check_config_parse(&again, text, strlen(text), err,
				      sizeof(err)) != 0)
		fail_msg("%s: %s", text, err);
	assert_true(health_check_config_equal(cfg, &again));
	assert_int_equal(health_check_config_format(&again, &text2), 0);
	assert_string_equal(text, text2);
	free(text);
	free(text2);
	health_check_config_clear(&again);
}

static void test_http_file(void **state)
{
	struct health_check_config cfg;

	(void)state;
	parse_file("hc-http.json", &cfg);
	assert_int_equal(cfg.type, HEALTH_CHECK_HTTP);
	assert_string_equal(cfg.ip_address, "127.0.0.1");
	assert_string_equal(cfg.fqdn, "");
	assert_int_equal(cfg.port, 8081);
	assert_string_equal(cfg.resource_path, "/health");
	assert_int_equal(cfg.request_interval, 10);
	assert_int_equal(cfg.failure_threshold, 3);
	assert_int_equal(cfg.healthy_share, 50);
	assert_false(cfg.inverted);
	assert_false(cfg.disabled);
	assert_false(cfg.enable_sni);
	assert_round_trip(&cfg);
	health_check_config_clear(&cfg);
}

static void test_https_match_file(void **state)
{
	struct health_check_config cfg;

	(void)state;
	parse_file("hc-https-match.json", &cfg);
	assert_int_equal(cfg.type, HEALTH_CHECK_HTTPS_STR_MATCH);
	assert_string_equal(cfg.ip_address, "");
	assert_string_equal(cfg.fqdn, "localhost");
	assert_int_equal(cfg.port, 8443);
	assert_string_equal(cfg.resource_path, "/status");
	assert_string_equal(cfg.search_string, "OK");
	assert_int_equal(cfg.request_interval, 10);
	assert_int_equal(cfg.failure_threshold, 2);
	assert_true(cfg.enable_sni);
	assert_round_trip(&cfg);
	health_check_config_clear(&cfg);
}

static void test_tcp_file(void **state)
{
	struct health_check_config cfg;

	(void)state;
	parse_file("hc-tcp.json", &cfg);
	assert_int_equal(cfg.type, HEALTH_CHECK_TCP);
	assert_string_equal(cfg.ip_address, "127.0.0.1");
	assert_int_equal(cfg.port, 8082);
	assert_int_equal(cfg.request_interval, 30);
	assert_int_equal(cfg.failure_threshold, 3);
	assert_false(cfg.inverted);
	assert_round_trip(&cfg);
	health_check_config_clear(&cfg);
}

static void test_calculated_file(void **state)
{
	struct health_check_config cfg;

	(void)state;
	parse_file("hc-calculated.json", &cfg);
	assert_int_equal(cfg.type, HEALTH_CHECK_CALCULATED);
	assert_int_equal(cfg.n_children, 3);
	assert_string_equal(cfg.children[0], "HC_A_ID");
	assert_string_equal(cfg.children[2], "HC_C_ID");
	assert_int_equal(cfg.health_threshold, 2);
	assert_int_equal(cfg.port, 0);
	assert_int_equal(cfg.request_interval, 0);
	assert_int_equal(cfg.failure_threshold, 0);
	assert_round_trip(&cfg);
	health_check_config_clear(&cfg);
}

static int parse_str(struct health_check_config *cfg, const char *json,
		     char *err, size_t errlen)
{
	return health_check_config_parse(cfg, json, strlen(json), err, errlen);
}

static void test_defaults(void **state)
{
	struct health_check_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse_str(&cfg,
				   "{\"Type\":\"HTTP\",\"IPAddress\":"
				   "\"127.0.0.1\"}",
				   err, sizeof(err)),
			 0);
	assert_int_equal(cfg.port, 80);
	assert_int_equal(cfg.request_interval, 30);
	assert_int_equal(cfg.failure_threshold, 3);
	assert_int_equal(cfg.healthy_share, 50);
	assert_false(cfg.enable_sni);
	assert_round_trip(&cfg);
	health_check_config_clear(&cfg);

	assert_int_equal(
	    parse_str(&cfg,
		      "{\"Type\":\"HTTPS\",\"IPAddress\":\"0:0:0:0:0:0:0:1\","
		      "\"FullyQualifiedDomainName\":\"www.example.com.\","
		      "\"RequestInterval\":1,\"HealthyShare\":18,"
		      "\"Inverted\":true,\"Disabled\":true,"
		      "\"MeasureLatency\":true}",
		      err, sizeof(err)),
	    0);
	assert_int_equal(cfg.port, 443);
	assert_string_equal(cfg.ip_address, "::1");
	assert_true(cfg.enable_sni);
	assert_int_equal(cfg.request_interval, 1);
	assert_int_equal(cfg.healthy_share, 18);
	assert_true(cfg.inverted);
	assert_true(cfg.disabled);
	assert_true(cfg.measure_latency);
	assert_round_trip(&cfg);
	health_check_config_clear(&cfg);

	assert_int_equal(
	    parse_str(&cfg,
		      "{\"Type\":\"HTTP_STR_MATCH\","
		      "\"FullyQualifiedDomainName\":\"localhost\","
		      "\"SearchString\":\"ok\",\"HealthyShare\":0}",
		      err, sizeof(err)),
	    0);
	assert_int_equal(cfg.port, 80);
	assert_int_equal(cfg.healthy_share, 0);
	assert_round_trip(&cfg);
	health_check_config_clear(&cfg);
}

static void test_copy_equal(void **state)
{
	struct health_check_config a, b;
	char err[256];

	(void)state;
	assert_int_equal(
	    parse_str(&a,
		      "{\"Type\":\"CALCULATED\",\"ChildHealthChecks"
		      "\":[\"x\",\"y\"],\"HealthThreshold\":1}",
		      err, sizeof(err)),
	    0);
	assert_int_equal(health_check_config_copy(&b, &a), 0);
	assert_true(b.children != a.children);
	assert_true(health_check_config_equal(&a, &b));
	b.children[1][0] = 'z';
	assert_false(health_check_config_equal(&a, &b));
	assert_int_equal(health_check_config_validate(&b, err, sizeof(err)), 0);
	b.health_threshold = 3;
	assert_int_equal(health_check_config_validate(&b, err, sizeof(err)),
			 Q53_EINVAL);
	assert_string_equal(err, "HealthThreshold: 3 exceeds the 2 "
				 "ChildHealthChecks");
	health_check_config_clear(&a);
	health_check_config_clear(&b);
	health_check_config_clear(&b); /* idempotent */
}

struct bad_case {
	const char *json;
	const char *field; /* the error must start with "field:" */
};

#define EP "\"IPAddress\":\"127.0.0.1\","
#define LONG64                                                                 \
	"0123456789012345678901234567890123456789012345678901234567890123"
#define LONG256 LONG64 LONG64 LONG64 LONG64

static const struct bad_case BAD[] = {
    {"{}", "Type"},
    {"{\"Type\":\"FTP\"," EP "\"Port\":21}", "Type"},
    {"{\"Type\":7}", "Type"},
    {"{\"Type\":\"CLOUDWATCH_METRIC\"}", "Type"},
    {"{\"Type\":\"RECOVERY_CONTROL\"}", "Type"},
    {"{\"Type\":\"HTTP\"}", "IPAddress"},
    {"{\"Type\":\"HTTP\",\"IPAddress\":\"999.1.1.1\"}", "IPAddress"},
    {"{\"Type\":\"HTTP\",\"IPAddress\":\"localhost\"}", "IPAddress"},
    {"{\"Type\":\"HTTP\",\"IPAddress\":2130706433}", "IPAddress"},
    {"{\"Type\":\"HTTP\",\"IPAddress\":\"\"}", "IPAddress"},
    {"{\"Type\":\"HTTP\",\"FullyQualifiedDomainName\":\"bad host\"}",
     "FullyQualifiedDomainName"},
    {"{\"Type\":\"HTTP\",\"FullyQualifiedDomainName\":\"a..b\"}",
     "FullyQualifiedDomainName"},
    {"{\"Type\":\"HTTP\",\"FullyQualifiedDomainName\":\".\"}",
     "FullyQualifiedDomainName"},
    {"{\"Type\":\"HTTP\",\"FullyQualifiedDomainName\":\"" LONG64 "x.com\"}",
     "FullyQualifiedDomainName"},
    {"{\"Type\":\"HTTP\",\"FullyQualifiedDomainName\":\"" LONG256 "\"}",
     "FullyQualifiedDomainName"},
    {"{\"Type\":\"HTTP\"," EP "\"Port\":0}", "Port"},
    {"{\"Type\":\"HTTP\"," EP "\"Port\":65536}", "Port"},
    {"{\"Type\":\"HTTP\"," EP "\"Port\":\"80\"}", "Port"},
    {"{\"Type\":\"HTTP\"," EP "\"Port\":80.5}", "Port"},
    {"{\"Type\":\"TCP\"," EP "\"RequestInterval\":10}", "Port"},
    {"{\"Type\":\"HTTP\"," EP "\"ResourcePath\":\"/a b\"}", "ResourcePath"},
    {"{\"Type\":\"HTTP\"," EP "\"ResourcePath\":\"/" LONG256 "\"}",
     "ResourcePath"},
    {"{\"Type\":\"HTTP\"," EP "\"ResourcePath\":[]}", "ResourcePath"},
    {"{\"Type\":\"TCP\"," EP "\"Port\":1,\"ResourcePath\":\"/\"}",
     "ResourcePath"},
    {"{\"Type\":\"HTTP_STR_MATCH\"," EP "\"Port\":1}", "SearchString"},
    {"{\"Type\":\"HTTPS_STR_MATCH\"," EP "\"SearchString\":\"\"}",
     "SearchString"},
    {"{\"Type\":\"HTTP_STR_MATCH\"," EP "\"SearchString\":\"" LONG256 "\"}",
     "SearchString"},
    {"{\"Type\":\"HTTP\"," EP "\"SearchString\":\"ok\"}", "SearchString"},
    {"{\"Type\":\"HTTP\"," EP "\"RequestInterval\":0}", "RequestInterval"},
    {"{\"Type\":\"HTTP\"," EP "\"RequestInterval\":11}", "RequestInterval"},
    {"{\"Type\":\"HTTP\"," EP "\"RequestInterval\":31}", "RequestInterval"},
    {"{\"Type\":\"HTTP\"," EP "\"RequestInterval\":\"10\"}", "RequestInterval"},
    {"{\"Type\":\"HTTP\"," EP "\"FailureThreshold\":0}", "FailureThreshold"},
    {"{\"Type\":\"HTTP\"," EP "\"FailureThreshold\":11}", "FailureThreshold"},
    {"{\"Type\":\"HTTP\"," EP "\"Inverted\":\"yes\"}", "Inverted"},
    {"{\"Type\":\"HTTP\"," EP "\"Disabled\":1}", "Disabled"},
    {"{\"Type\":\"HTTPS\"," EP "\"EnableSNI\":\"true\"}", "EnableSNI"},
    {"{\"Type\":\"HTTP\"," EP "\"EnableSNI\":true}", "EnableSNI"},
    {"{\"Type\":\"HTTP\"," EP "\"MeasureLatency\":null}", "MeasureLatency"},
    {"{\"Type\":\"HTTP\"," EP "\"HealthyShare\":100}", "HealthyShare"},
    {"{\"Type\":\"HTTP\"," EP "\"HealthyShare\":-1}", "HealthyShare"},
    {"{\"Type\":\"HTTP\"," EP "\"HealthThreshold\":1}", "HealthThreshold"},
    {"{\"Type\":\"HTTP\"," EP "\"ChildHealthChecks\":[\"a\"]}",
     "ChildHealthChecks"},
    {"{\"Type\":\"CALCULATED\",\"HealthThreshold\":1}", "ChildHealthChecks"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\"]}",
     "HealthThreshold"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[],"
     "\"HealthThreshold\":0}",
     "ChildHealthChecks"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":\"a\","
     "\"HealthThreshold\":0}",
     "ChildHealthChecks"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\",\"a\"],"
     "\"HealthThreshold\":1}",
     "ChildHealthChecks[1]"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[3],"
     "\"HealthThreshold\":1}",
     "ChildHealthChecks[0]"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"" LONG64 "x\"],"
     "\"HealthThreshold\":1}",
     "ChildHealthChecks[0]"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\",\"b\"],"
     "\"HealthThreshold\":3}",
     "HealthThreshold"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\"],"
     "\"HealthThreshold\":257}",
     "HealthThreshold"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\"],"
     "\"HealthThreshold\":1," EP "\"Inverted\":false}",
     "IPAddress"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\"],"
     "\"HealthThreshold\":1,\"FullyQualifiedDomainName\":\"a.b\"}",
     "FullyQualifiedDomainName"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\"],"
     "\"HealthThreshold\":1,\"Port\":80}",
     "Port"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\"],"
     "\"HealthThreshold\":1,\"RequestInterval\":10}",
     "RequestInterval"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\"],"
     "\"HealthThreshold\":1,\"FailureThreshold\":3}",
     "FailureThreshold"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\"],"
     "\"HealthThreshold\":1,\"ResourcePath\":\"/\"}",
     "ResourcePath"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\"],"
     "\"HealthThreshold\":1,\"SearchString\":\"x\"}",
     "SearchString"},
    {"{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\"],"
     "\"HealthThreshold\":1,\"EnableSNI\":true}",
     "EnableSNI"},
    {"{\"Type\":\"HTTP\"," EP "\"Foo\":1}", "Foo"},
    {"{\"Type\":\"HTTP\"," EP "\"ipaddress\":\"127.0.0.1\"}", "ipaddress"},
    {"{\"Type\":\"HTTP\"," EP "\"Regions\":[\"us-east-1\"]}", "Regions"},
    {"{\"Type\":\"HTTP\"," EP "\"AlarmIdentifier\":{}}", "AlarmIdentifier"},
    {"{\"Type\":\"HTTP\"," EP "\"InsufficientDataHealthStatus\":\"Healthy\"}",
     "InsufficientDataHealthStatus"},
    {"{\"Type\":\"HTTP\"," EP "\"RoutingControlArn\":\"arn\"}",
     "RoutingControlArn"},
    {"{\"Type\":\"HTTP\"," EP "\"WebhookUrl\":\"ftp://h/x\"}", "WebhookUrl"},
    {"{\"Type\":\"HTTP\"," EP "\"WebhookUrl\":\"127.0.0.1:9\"}", "WebhookUrl"},
    {"{\"Type\":\"HTTP\"," EP "\"WebhookUrl\":\"http://\"}", "WebhookUrl"},
    {"{\"Type\":\"HTTP\"," EP "\"WebhookUrl\":\"http:///x\"}", "WebhookUrl"},
    {"{\"Type\":\"HTTP\"," EP "\"WebhookUrl\":\"http://h/a b\"}", "WebhookUrl"},
    {"{\"Type\":\"HTTP\"," EP "\"WebhookUrl\":\"\"}", "WebhookUrl"},
    {"{\"Type\":\"HTTP\"," EP "\"WebhookUrl\":1}", "WebhookUrl"},
    {"{\"Type\":\"HTTP\"," EP
     "\"WebhookUrl\":\"http://h/" LONG256 LONG256 LONG256 LONG256 "\"}",
     "WebhookUrl"},
    {"[]", "HealthCheckConfig"},
    {"{\"Type\":\"HTTP\",", "HealthCheckConfig"},
    {"{\"Type\":\"HTTP\",\"Type\":\"TCP\"}", "HealthCheckConfig"},
    {"", "HealthCheckConfig"},
};

static void test_invalid_fields(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		struct health_check_config cfg;
		char err[256] = "";
		char prefix[64];
		int rc = parse_str(&cfg, BAD[i].json, err, sizeof(err));

		snprintf(prefix, sizeof(prefix), "%s: ", BAD[i].field);
		if (rc != Q53_EINVAL ||
		    strncmp(err, prefix, strlen(prefix)) != 0)
			fail_msg("case %zu %s: rc %d, error \"%s\", expected "
				 "\"%s...\"",
				 i, BAD[i].json, rc, err, prefix);
		/* The output is left cleared. */
		assert_null(cfg.children);
		assert_int_equal(cfg.n_children, 0);
		health_check_config_clear(&cfg);
	}
}

/* WebhookUrl: any type, kept verbatim, in the canonical JSON (only when
 * set), part of equality; up to HEALTH_CHECK_WEBHOOK_MAX characters. */
static void test_webhook_url(void **state)
{
	struct health_check_config cfg, other;
	char json[HEALTH_CHECK_WEBHOOK_MAX + 256];
	char url[HEALTH_CHECK_WEBHOOK_MAX + 1];
	char err[256] = "";
	char *text;

	(void)state;
	assert_int_equal(
	    parse_str(&cfg,
		      "{\"Type\":\"TCP\"," EP "\"Port\":9,"
		      "\"WebhookUrl\":\"http://127.0.0.1:8/h?a=1\"}",
		      err, sizeof(err)),
	    0);
	assert_string_equal(cfg.webhook_url, "http://127.0.0.1:8/h?a=1");
	assert_int_equal(health_check_config_format(&cfg, &text), 0);
	assert_non_null(
	    strstr(text, "\"WebhookUrl\":\"http://127.0.0.1:8/h?a=1\""));
	free(text);
	assert_round_trip(&cfg);
	assert_int_equal(health_check_config_copy(&other, &cfg), 0);
	assert_true(health_check_config_equal(&cfg, &other));
	other.webhook_url[0] = '\0';
	assert_false(health_check_config_equal(&cfg, &other));
	assert_int_equal(health_check_config_format(&other, &text), 0);
	assert_null(strstr(text, "WebhookUrl"));
	free(text);
	health_check_config_clear(&other);
	health_check_config_clear(&cfg);

	/* CALCULATED and HTTPS, exactly the maximum length. */
	memset(url, 'a', sizeof(url));
	memcpy(url, "HTTPS://h/", 10);
	url[HEALTH_CHECK_WEBHOOK_MAX] = '\0';
	snprintf(json, sizeof(json),
		 "{\"Type\":\"CALCULATED\",\"ChildHealthChecks\":[\"a\"],"
		 "\"HealthThreshold\":1,\"WebhookUrl\":\"%s\"}",
		 url);
	assert_int_equal(parse_str(&cfg, json, err, sizeof(err)), 0);
	assert_string_equal(cfg.webhook_url, url);
	assert_round_trip(&cfg);
	/* validate refuses what the parser would. */
	memcpy(cfg.webhook_url, "gopher", 6);
	assert_int_equal(health_check_config_validate(&cfg, err, sizeof(err)),
			 Q53_EINVAL);
	assert_memory_equal(err, "WebhookUrl: ", 12);
	health_check_config_clear(&cfg);
}

static void test_too_many_children(void **state)
{
	/* 257 ids */
	char json[257 * 8 + 128];
	struct health_check_config cfg;
	char err[256];
	size_t off = 0;
	int i;

	(void)state;
	off += (size_t)snprintf(json + off, sizeof(json) - off,
				"{\"Type\":\"CALCULATED\",\"HealthThreshold\":"
				"1,\"ChildHealthChecks\":[");
	for (i = 0; i < 257; i++)
		off += (size_t)snprintf(json + off, sizeof(json) - off,
					"%s\"c%d\"", i ? "," : "", i);
	snprintf(json + off, sizeof(json) - off, "]}");
	assert_int_equal(parse_str(&cfg, json, err, sizeof(err)), Q53_EINVAL);
	assert_memory_equal(err, "ChildHealthChecks: ", 19);

	/* 256 is fine */
	off = 0;
	off += (size_t)snprintf(json + off, sizeof(json) - off,
				"{\"Type\":\"CALCULATED\",\"HealthThreshold\":"
				"256,\"ChildHealthChecks\":[");
	for (i = 0; i < 256; i++)
		off += (size_t)snprintf(json + off, sizeof(json) - off,
					"%s\"c%d\"", i ? "," : "", i);
	snprintf(json + off, sizeof(json) - off, "]}");
	assert_int_equal(parse_str(&cfg, json, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_children, 256);
	assert_round_trip(&cfg);
	health_check_config_clear(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_file),
	    cmocka_unit_test(test_https_match_file),
	    cmocka_unit_test(test_tcp_file),
	    cmocka_unit_test(test_calculated_file),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_copy_equal),
	    cmocka_unit_test(test_invalid_fields),
	    cmocka_unit_test(test_too_many_children),
	    cmocka_unit_test(test_webhook_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
