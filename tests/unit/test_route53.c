/* The Route 53 REST edge's pure parts: SigV4 (checked against AWS's own
 * documented example and a signature botocore 1.35.0 computed for a
 * route53 request with an escaped path, a query and a body), the access
 * keys file, the XML bodies, and the routing of method + path + query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/api/http_server.h"
#include "node/api/route53/r53_route.h"
#include "node/api/route53/r53_xml.h"
#include "node/api/route53/rest.h"
#include "node/api/route53/sigv4.h"
#include "node/common/errcode.h"

/* --- SigV4 --- */

struct hdr {
	const char *name, *value;
};

static const char *lookup(void *ctx, const char *lname)
{
	for (const struct hdr *h = ctx; h->name != NULL; h++)
		if (strcmp(h->name, lname) == 0)
			return h->value;
	return NULL;
}

/* AWS's "Signature Version 4 signing process" example: IAM ListUsers. */
static void test_sign_aws_example(void **state)
{
	(void)state;
	struct hdr h[] = {
	    {"content-type",
	     "application/x-www-form-urlencoded; charset=utf-8"},
	    {"host", "iam.amazonaws.com"},
	    {"x-amz-date", "20150830T123600Z"},
	    {NULL, NULL},
	};
	const char *qn[] = {"Version", "Action"}; /* sorted by the signer */
	const char *qv[] = {"2010-05-08", "ListUsers"};
	struct sigv4_request req = {
	    .method = "GET",
	    .path = "/",
	    .n_query = 2,
	    .query_names = qn,
	    .query_values = qv,
	    .header = lookup,
	    .header_ctx = h,
	};
	char sig[65];
	assert_int_equal(sigv4_sign(&req,
				    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
				    "20150830T123600Z", "us-east-1", "iam",
				    "content-type;host;x-amz-date", sig),
			 0);
	assert_string_equal(
	    sig,
	    "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

static const char BODY[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CreateHostedZoneRequest "
    "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Name>"
    "example.com</Name><CallerReference>r 1</CallerReference>"
    "</CreateHostedZoneRequest>";

/* botocore's SigV4Auth("route53", "eu-west-3") of POST
 * http://127.0.0.1:8080/2013-04-01/hostedzone/Z1%20X/rrset?name=a%2Ab.example&maxitems=2&type=A
 * with BODY at 20150830T123600Z. */
#define BOTO_SIG                                                               \
	"4120a2c0a05b34f0b4b34407fdd5a05aee693a341519f6ab3563643aeec19a10"
#define BOTO_AUTH                                                              \
	"AWS4-HMAC-SHA256 Credential=AKIAQ53UNITTEST00001/20150830/eu-west-3/" \
	"route53/aws4_request, SignedHeaders=host;x-amz-date, "                \
	"Signature=" BOTO_SIG

static struct hdr boto_headers[] = {
    {"host", "127.0.0.1:8080"},
    {"x-amz-date", "20150830T123600Z"},
    {NULL, NULL},
};
static const char *boto_qn[] = {"maxitems", "name", "type"};
static const char *boto_qv[] = {"2", "a*b.example", "A"};

static struct sigv4_request boto_request(const char *body)
{
	struct sigv4_request req = {
	    .method = "POST",
	    .path = "/2013-04-01/hostedzone/Z1 X/rrset", /* decoded */
	    .n_query = 3,
	    .query_names = boto_qn,
	    .query_values = boto_qv,
	    .header = lookup,
	    .header_ctx = boto_headers,
	    .body = (const uint8_t *)body,
	    .body_len = strlen(body),
	};
	return req;
}

#define SECRET "unit-test-secret-0123456789abcdef"
#define T0     1440938160 /* 2015-08-30T12:36:00Z */

static void test_check_botocore_request(void **state)
{
	(void)state;
	struct sigv4_auth a;
	struct sigv4_result res;
	char why[256];
	struct sigv4_request req = boto_request(BODY);

	assert_int_equal(sigv4_parse_auth(BOTO_AUTH, &a, why, sizeof(why)), 0);
	assert_string_equal(a.akid, "AKIAQ53UNITTEST00001");
	assert_string_equal(a.region, "eu-west-3");
	assert_string_equal(a.service, "route53");
	assert_string_equal(a.signed_headers, "host;x-amz-date");
	assert_true(sigv4_check(&req, &a, SECRET, T0 + 60, 300, &res));
	assert_null(res.code);

	/* The wrong secret, a changed body, an unknown key, a late clock. */
	assert_false(sigv4_check(&req, &a, SECRET "x", T0, 300, &res));
	assert_string_equal(res.code, "SignatureDoesNotMatch");
	struct sigv4_request other = boto_request("<x/>");
	assert_false(sigv4_check(&other, &a, SECRET, T0, 300, &res));
	assert_string_equal(res.code, "SignatureDoesNotMatch");
	assert_false(sigv4_check(&req, &a, NULL, T0, 300, &res));
	assert_string_equal(res.code, "InvalidClientTokenId");
	assert_false(sigv4_check(&req, &a, SECRET, T0 + 301, 300, &res));
	assert_string_equal(res.code, "RequestExpired");
	assert_false(sigv4_check(&req, &a, SECRET, T0 - 301, 300, &res));
	assert_string_equal(res.code, "RequestExpired");
	/* Another service's scope. */
	struct sigv4_auth b = a;
	strcpy(b.service, "s3");
	assert_false(sigv4_check(&req, &b, SECRET, T0, 300, &res));
	assert_string_equal(res.code, "SignatureDoesNotMatch");
	/* The host header unsigned. */
	b = a;
	strcpy(b.signed_headers, "x-amz-date");
	assert_false(sigv4_check(&req, &b, SECRET, T0, 300, &res));
	assert_string_equal(res.code, "SignatureDoesNotMatch");
}

static void test_parse_auth_refusals(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "AWS4-HMAC-SHA1 Credential=A/20150830/r/route53/aws4_request, "
	    "SignedHeaders=host, Signature=" BOTO_SIG,
	    "AWS4-HMAC-SHA256",
	    "AWS4-HMAC-SHA256 Credential=A/20150830/r/route53/aws4_request",
	    "AWS4-HMAC-SHA256 Credential=A/2015083/r/route53/aws4_request, "
	    "SignedHeaders=host, Signature=" BOTO_SIG,
	    "AWS4-HMAC-SHA256 Credential=A/20150830/r/route53/aws5_request, "
	    "SignedHeaders=host, Signature=" BOTO_SIG,
	    "AWS4-HMAC-SHA256 Credential=A/20150830/r/route53/aws4_request, "
	    "SignedHeaders=host, Signature=abc",
	    "AWS4-HMAC-SHA256 Credential=A/20150830/r/route53/aws4_request/x, "
	    "SignedHeaders=host, Signature=" BOTO_SIG,
	    "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
	    NULL,
	};
	struct sigv4_auth a;
	char why[256];
	for (size_t i = 0; bad[i] != NULL; i++) {
		why[0] = '\0';
		assert_int_equal(sigv4_parse_auth(bad[i], &a, why, sizeof(why)),
				 -1);
		assert_true(why[0] != '\0');
	}
}

/* --- keys file --- */

struct keys {
	int n;
	char last[128];
};

static int add_key(void *ctx, const char *akid, const char *secret)
{
	struct keys *k = ctx;
	if (strcmp(akid, "AKIADUPLICATEKEY0001") == 0 && k->n > 0)
		return Q53_EEXIST;
	k->n++;
	snprintf(k->last, sizeof(k->last), "%s=%s", akid, secret);
	return 0;
}

static void test_keys_file(void **state)
{
	(void)state;
	struct keys k = {0};
	char err[256];
	const char good[] =
	    "# admin\n\n  AKIAQ53KEY0000000001 secret-0123456789abc\n"
	    "AKIAQ53KEY0000000002\tsecret-abcdefghijklmn\r\n";
	assert_int_equal(route53_keys_parse(good, strlen(good), add_key, &k,
					    err, sizeof(err)),
			 0);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.last,
			    "AKIAQ53KEY0000000002=secret-abcdefghijklmn");
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
	    {"AKIAQ53KEY0000000001\n", "line 1: want"},
	    {"# x\nAKIAQ53KEY0000000001 s1 s2\n", "line 2: want"},
	    {"SHORT secret-0123456789abc\n", "line 1: an access key id"},
	    {"AKIAQ53KEY0000000001 short\n", "line 1: an access key id"},
	    {"AKIADUPLICATEKEY0001 secret-0123456789abc\n"
	     "AKIADUPLICATEKEY0001 secret-0123456789abc\n",
	     "line 2: the key id is listed twice"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k.n = 0;
		assert_int_not_equal(
		    route53_keys_parse(bad[i].text, strlen(bad[i].text),
				       add_key, &k, err, sizeof(err)),
		    0);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
				 bad[i].why);
	}
	/* A NUL byte inside the text. */
	const char nul[] = "AKIAQ53KEY0000000001 secret\0-0123456789\n";
	assert_int_equal(route53_keys_parse(nul, sizeof(nul) - 1, add_key, &k,
					    err, sizeof(err)),
			 Q53_EINVAL);
}

/* --- XML bodies --- */

static void test_change_batch_xml(void **state)
{
	(void)state;
	const char xml[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<ChangeResourceRecordSetsRequest "
	    "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
	    "<ChangeBatch><Comment>c &amp; d</Comment><Changes>"
	    "<Change><Action>UPSERT</Action><ResourceRecordSet>"
	    "<Name>www.example.com</Name><Type>TXT</Type><TTL>60</TTL>"
	    "<ResourceRecords><ResourceRecord><Value>\"a b\"</Value>"
	    "</ResourceRecord><ResourceRecord><Value>\"&lt;x&gt;\"</Value>"
	    "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>"
	    "<Change><Action>DELETE</Action><ResourceRecordSet>"
	    "<Name>\\052.example.com</Name><Type>A</Type><SetIdentifier>p"
	    "</SetIdentifier><Failover>PRIMARY</Failover><TTL>x1</TTL>"
	    "<AliasTarget><HostedZoneId>Z1</HostedZoneId><DNSName>a.b"
	    "</DNSName><EvaluateTargetHealth>true</EvaluateTargetHealth>"
	    "</AliasTarget></ResourceRecordSet></Change>"
	    "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>";
	char *json;
	char err[256];
	assert_int_equal(r53_xml_change_batch((const uint8_t *)xml, strlen(xml),
					      &json, err, sizeof(err)),
			 0);
	/* TTL 60 a number, "x1" left a string (the batch parser refuses it
	 * with its own message); lists as arrays; booleans as booleans. */
	assert_string_equal(
	    json,
	    "{\"Comment\":\"c & d\",\"Changes\":[{\"Action\":\"UPSERT\","
	    "\"ResourceRecordSet\":{\"Name\":\"www.example.com\",\"Type\":"
	    "\"TXT\",\"TTL\":60,\"ResourceRecords\":[{\"Value\":\"\\\"a "
	    "b\\\"\"},"
	    "{\"Value\":\"\\\"<x>\\\"\"}]}},{\"Action\":\"DELETE\","
	    "\"ResourceRecordSet\":{\"Name\":\"\\\\052.example.com\",\"Type\":"
	    "\"A\",\"SetIdentifier\":\"p\",\"Failover\":\"PRIMARY\",\"TTL\":"
	    "\"x1\",\"AliasTarget\":{\"HostedZoneId\":\"Z1\",\"DNSName\":"
	    "\"a.b\",\"EvaluateTargetHealth\":true}}}]}");
	free(json);
}

/* CreateCidrCollection and ChangeCidrCollection bodies as botocore
 * sends them. */
static void test_cidr_xml(void **state)
{
	(void)state;
	char err[256], *name, *ref;
	const char create[] =
	    "<CreateCidrCollectionRequest xmlns=\"https://route53.amazonaws."
	    "com/doc/2013-04-01/\"><Name>offices</Name><CallerReference>r-1"
	    "</CallerReference></CreateCidrCollectionRequest>";
	assert_int_equal(r53_xml_create_cidr_collection((const uint8_t *)create,
							strlen(create), &name,
							&ref, err, sizeof(err)),
			 0);
	assert_string_equal(name, "offices");
	assert_string_equal(ref, "r-1");
	free(name);
	free(ref);
	const char noref[] = "<CreateCidrCollectionRequest><Name>x</Name>"
			     "</CreateCidrCollectionRequest>";
	assert_int_equal(r53_xml_create_cidr_collection((const uint8_t *)noref,
							strlen(noref), &name,
							&ref, err, sizeof(err)),
			 Q53_EINVAL);
	free(name);
	free(ref);
	const char change[] =
	    "<ChangeCidrCollectionRequest><CollectionVersion>3"
	    "</CollectionVersion><Changes><member><LocationName>berlin"
	    "</LocationName><Action>PUT</Action><CidrList><Cidr>10.49.0.0/16"
	    "</Cidr><Cidr>2001:db8::/32</Cidr></CidrList></member><member>"
	    "<LocationName>nyc</LocationName><Action>DELETE_IF_EXISTS"
	    "</Action><CidrList><Cidr>10.212.0.0/16</Cidr></CidrList>"
	    "</member></Changes></ChangeCidrCollectionRequest>";
	struct r53_cidr_changes c;
	assert_int_equal(r53_xml_change_cidr_collection((const uint8_t *)change,
							strlen(change), &c, err,
							sizeof(err)),
			 0);
	assert_int_equal(c.version, 3);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0].location, "berlin");
	assert_int_equal(c.v[0].n, 2);
	assert_string_equal(c.v[0].cidrs[1], "2001:db8::/32");
	assert_string_equal(c.v[1].action, "DELETE_IF_EXISTS");
	r53_cidr_changes_free(&c);
	const char *bad[] = {
	    "<ChangeCidrCollectionRequest/>",
	    "<ChangeCidrCollectionRequest><CollectionVersion>0"
	    "</CollectionVersion><Changes/></ChangeCidrCollectionRequest>",
	    "<ChangeCidrCollectionRequest><Changes><member><Action>PUT"
	    "</Action></member></Changes></ChangeCidrCollectionRequest>",
	    "<CreateCidrCollectionRequest/>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(r53_xml_change_cidr_collection(
				     (const uint8_t *)bad[i], strlen(bad[i]),
				     &c, err, sizeof(err)),
				 Q53_EINVAL);
		assert_non_null(strstr(err, "InvalidInput: "));
		r53_cidr_changes_free(&c);
	}
}

static void test_xml_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		const char *why;
	} bad[] = {
	    {"", "needs a ChangeResourceRecordSetsRequest XML body"},
	    {"<ChangeResourceRecordSetsRequest>", "not XML"},
	    {"<Other/>", "must be a ChangeResourceRecordSetsRequest"},
	    {"<ChangeResourceRecordSetsRequest/>", "needs ChangeBatch/Changes"},
	    {"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]>"
	     "<ChangeResourceRecordSetsRequest><ChangeBatch><Changes>&a;"
	     "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
	     "document type"},
	    {"<!DOCTYPE x SYSTEM \"file:///etc/passwd\">"
	     "<ChangeResourceRecordSetsRequest/>",
	     "document type"},
	};
	char *json;
	char err[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(
		    r53_xml_change_batch((const uint8_t *)bad[i].xml,
					 strlen(bad[i].xml), &json, err,
					 sizeof(err)),
		    Q53_EINVAL);
		assert_null(json);
		if (strncmp(err, "InvalidInput: ", 14) != 0 ||
		    strstr(err, bad[i].why) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
				 bad[i].why);
	}
	/* Nested deeper than any Route 53 body. */
	char deep[4096] = "<ChangeResourceRecordSetsRequest><ChangeBatch>"
			  "<Changes>";
	for (int i = 0; i < 40; i++)
		strcat(deep, "<a>");
	strcat(deep, "x");
	for (int i = 0; i < 40; i++)
		strcat(deep, "</a>");
	strcat(deep,
	       "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
	assert_int_equal(r53_xml_change_batch((const uint8_t *)deep,
					      strlen(deep), &json, err,
					      sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(strstr(err, "nested deeper"));
}

static void test_create_zone_xml(void **state)
{
	(void)state;
	const char xml[] =
	    "<CreateHostedZoneRequest xmlns=\"https://route53.amazonaws.com/"
	    "doc/2013-04-01/\"><Name>example.com.</Name><CallerReference>r1"
	    "</CallerReference><HostedZoneConfig><Comment>hi</Comment>"
	    "<PrivateZone>false</PrivateZone></HostedZoneConfig>"
	    "</CreateHostedZoneRequest>";
	struct r53_create_zone z;
	char err[256];
	assert_int_equal(r53_xml_create_zone((const uint8_t *)xml, strlen(xml),
					     &z, err, sizeof(err)),
			 0);
	assert_string_equal(z.name, "example.com.");
	assert_string_equal(z.caller_reference, "r1");
	assert_string_equal(z.comment, "hi");
	assert_false(z.private_zone);
	assert_false(z.delegation_set);
	r53_create_zone_free(&z);

	const char vpc[] = "<CreateHostedZoneRequest><Name>a.</Name>"
			   "<CallerReference>r</CallerReference><VPC><VPCId>v"
			   "</VPCId></VPC></CreateHostedZoneRequest>";
	assert_int_equal(r53_xml_create_zone((const uint8_t *)vpc, strlen(vpc),
					     &z, err, sizeof(err)),
			 0);
	assert_true(z.private_zone);
	r53_create_zone_free(&z);

	const char noref[] = "<CreateHostedZoneRequest><Name>a.</Name>"
			     "</CreateHostedZoneRequest>";
	assert_int_equal(r53_xml_create_zone((const uint8_t *)noref,
					     strlen(noref), &z, err,
					     sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(strstr(err, "CallerReference"));
	r53_create_zone_free(&z);
}

static void test_health_check_xml(void **state)
{
	(void)state;
	const char create[] =
	    "<CreateHealthCheckRequest xmlns=\"https://route53.amazonaws.com/"
	    "doc/2013-04-01/\"><CallerReference>hc-1</CallerReference>"
	    "<HealthCheckConfig><IPAddress>192.0.2.1</IPAddress><Port>8080"
	    "</Port><Type>HTTP</Type><RequestInterval>10</RequestInterval>"
	    "<ChildHealthChecks><ChildHealthCheck>a</ChildHealthCheck>"
	    "<ChildHealthCheck>b</ChildHealthCheck></ChildHealthChecks>"
	    "<Inverted>false</Inverted></HealthCheckConfig>"
	    "</CreateHealthCheckRequest>";
	char *ref, *cfg, err[256];
	assert_int_equal(r53_xml_create_health_check((const uint8_t *)create,
						     strlen(create), &ref, &cfg,
						     err, sizeof(err)),
			 0);
	assert_string_equal(ref, "hc-1");
	assert_string_equal(
	    cfg, "{\"IPAddress\":\"192.0.2.1\",\"Port\":8080,\"Type\":"
		 "\"HTTP\",\"RequestInterval\":10,\"ChildHealthChecks\":["
		 "\"a\",\"b\"],\"Inverted\":false}");
	free(ref);
	free(cfg);
	const char noconfig[] = "<CreateHealthCheckRequest><CallerReference>x"
				"</CallerReference></CreateHealthCheckRequest>";
	assert_int_equal(r53_xml_create_health_check((const uint8_t *)noconfig,
						     strlen(noconfig), &ref,
						     &cfg, err, sizeof(err)),
			 Q53_EINVAL);
	assert_null(ref);
	assert_null(cfg);

	const char update[] = "<UpdateHealthCheckRequest><HealthCheckVersion>3"
			      "</HealthCheckVersion><FailureThreshold>5"
			      "</FailureThreshold></UpdateHealthCheckRequest>";
	uint64_t version;
	char *fields;
	assert_int_equal(r53_xml_update_health_check((const uint8_t *)update,
						     strlen(update), &version,
						     &fields, err, sizeof(err)),
			 0);
	assert_int_equal(version, 3);
	assert_string_equal(fields, "{\"FailureThreshold\":5}");
	free(fields);
	const char badver[] =
	    "<UpdateHealthCheckRequest><HealthCheckVersion>0x3"
	    "</HealthCheckVersion></UpdateHealthCheckRequest>";
	assert_int_equal(r53_xml_update_health_check((const uint8_t *)badver,
						     strlen(badver), &version,
						     &fields, err, sizeof(err)),
			 Q53_EINVAL);
	assert_null(fields);
}

static void test_plain_http_only_on_loopback(void **state)
{
	(void)state;
	assert_true(http_listen_is_loopback("127.0.0.1:8080"));
	assert_true(http_listen_is_loopback("127.255.0.9:1"));
	assert_true(http_listen_is_loopback("[::1]:8080"));
	assert_false(http_listen_is_loopback("0.0.0.0:8080"));
	assert_false(http_listen_is_loopback("10.53.0.11:8080"));
	assert_false(http_listen_is_loopback("[::]:8080"));
	assert_false(http_listen_is_loopback("localhost:8080"));
	assert_false(http_listen_is_loopback("127.0.0.1"));
	assert_false(http_listen_is_loopback("127.0.0.1:99999"));

	char err[512];
	struct route53_rest_config c = {.listen = "10.0.0.1:8080",
					.keys_file = "k"};
	assert_int_equal(route53_rest_check(&c, err, sizeof(err)), Q53_EINVAL);
	assert_non_null(strstr(err, "--http-insecure"));
	c.allow_plain = true;
	assert_int_equal(route53_rest_check(&c, err, sizeof(err)), 0);
	c.allow_plain = false;
	c.tls_cert_file = "cert.pem";
	assert_int_equal(route53_rest_check(&c, err, sizeof(err)), Q53_EINVAL);
	assert_non_null(strstr(err, "go together"));
	c.tls_key_file = "key.pem";
	assert_int_equal(route53_rest_check(&c, err, sizeof(err)), 0);
	c.keys_file = NULL; /* optional: the FSM's access keys */
	assert_int_equal(route53_rest_check(&c, err, sizeof(err)), 0);
}

static int tags_of(const char *doc)
{
	char err[256];
	struct r53_tags t;
	int rv = r53_xml_change_tags((const uint8_t *)doc, strlen(doc), &t, err,
				     sizeof(err));
	if (rv == Q53_EINVAL)
		assert_memory_equal(err, "InvalidInput: ", 14);
	r53_tags_free(&t);
	return rv;
}

static void test_tag_and_comment_xml(void **state)
{
	char err[256];
	struct r53_tags t;
	static const char doc[] =
	    "<ChangeTagsForResourceRequest xmlns=\"https://route53.amazonaws."
	    "com/doc/2013-04-01/\"><AddTags><Tag><Key>env</Key><Value>prod</"
	    "Value></Tag><Tag><Key>flag</Key></Tag></AddTags><RemoveTagKeys>"
	    "<Key>old</Key></RemoveTagKeys></ChangeTagsForResourceRequest>";
	(void)state;
	assert_int_equal(r53_xml_change_tags((const uint8_t *)doc,
					     sizeof(doc) - 1, &t, err,
					     sizeof(err)),
			 0);
	assert_int_equal(t.n_add, 2);
	assert_string_equal(t.keys[0], "env");
	assert_string_equal(t.values[0], "prod");
	assert_string_equal(t.keys[1], "flag");
	assert_string_equal(t.values[1], ""); /* no Value: empty */
	assert_int_equal(t.n_remove, 1);
	assert_string_equal(t.remove[0], "old");
	r53_tags_free(&t);
	assert_int_equal(tags_of("<ChangeTagsForResourceRequest><AddTags><Tag>"
				 "<Value>v</Value></Tag></AddTags>"
				 "</ChangeTagsForResourceRequest>"),
			 Q53_EINVAL); /* a Tag without Key */
	assert_int_equal(tags_of("<Other/>"), Q53_EINVAL);
	/* more entries than R53_XML_LIST_MAX are refused, not truncated */
	char big[R53_XML_LIST_MAX * 24 + 128];
	size_t n = (size_t)snprintf(big, sizeof(big),
				    "<ChangeTagsForResourceRequest>"
				    "<RemoveTagKeys>");
	for (int i = 0; i <= R53_XML_LIST_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
				      "<Key>k%d</Key>", i);
	snprintf(big + n, sizeof(big) - n,
		 "</RemoveTagKeys></ChangeTagsForResourceRequest>");
	assert_int_equal(tags_of(big), Q53_EINVAL);

	char *comment = NULL;
	static const char c1[] = "<UpdateHostedZoneCommentRequest><Comment>"
				 "a &amp; b</Comment>"
				 "</UpdateHostedZoneCommentRequest>";
	assert_int_equal(r53_xml_zone_comment((const uint8_t *)c1,
					      sizeof(c1) - 1, &comment, err,
					      sizeof(err)),
			 0);
	assert_string_equal(comment, "a & b");
	free(comment);
	static const char c2[] = "<UpdateHostedZoneCommentRequest/>";
	assert_int_equal(r53_xml_zone_comment((const uint8_t *)c2,
					      sizeof(c2) - 1, &comment, err,
					      sizeof(err)),
			 0);
	assert_null(comment); /* absent: the comment goes */

	char **ids = NULL;
	size_t nids = 0;
	static const char r1[] =
	    "<ListTagsForResourcesRequest><ResourceIds><ResourceId>Z1</"
	    "ResourceId><ResourceId>Z2</ResourceId></ResourceIds>"
	    "</ListTagsForResourcesRequest>";
	assert_int_equal(r53_xml_resource_ids((const uint8_t *)r1,
					      sizeof(r1) - 1, &ids, &nids, err,
					      sizeof(err)),
			 0);
	assert_int_equal(nids, 2);
	assert_string_equal(ids[1], "Z2");
	r53_strings_free(ids, nids);
	static const char r2[] = "<ListTagsForResourcesRequest><ResourceIds/>"
				 "</ListTagsForResourcesRequest>";
	assert_int_equal(r53_xml_resource_ids((const uint8_t *)r2,
					      sizeof(r2) - 1, &ids, &nids, err,
					      sizeof(err)),
			 Q53_EINVAL);
	r53_strings_free(ids, nids);
}

/* --- routing --- */

static const char *route_q(void *ctx, const char *name)
{
	const char *const *kv = ctx;
	for (size_t i = 0; kv != NULL && kv[i] != NULL; i += 2)
		if (strcmp(kv[i], name) == 0)
			return kv[i + 1];
	return NULL;
}

static struct r53_route route_of(const char *method, const char *path,
				 const char *const *query)
{
	struct r53_route rt;
	r53_route_parse(method, path, route_q, (void *)query, &rt);
	return rt;
}

static void test_routing(void **state)
{
	static const struct {
		const char *method, *path;
		enum r53_op op;
		const char *id, *kind;
	} cases[] = {
	    {"POST", "/2013-04-01/hostedzone", R53_CREATE_ZONE, "", ""},
	    {"GET", "/2013-04-01/hostedzone/", R53_LIST_ZONES, "", ""},
	    {"POST", "/2013-04-01/hostedzone/Z1", R53_UPDATE_ZONE_COMMENT, "Z1",
	     ""},
	    {"DELETE", "/2013-04-01/hostedzone/Z1", R53_DELETE_ZONE, "Z1", ""},
	    {"GET", "/2013-04-01/hostedzone/Z1/dnssec", R53_GET_DNSSEC, "Z1",
	     ""},
	    {"POST", "//2013-04-01//hostedzone//Z1//rrset//", R53_UNKNOWN, "",
	     ""}, /* the version must start the path */
	    {"POST", "/2013-04-01//hostedzone//Z1//rrset//", R53_CHANGE_RRSETS,
	     "Z1", ""},
	    {"GET", "/2013-04-01/healthcheck/h-1/lastfailurereason",
	     R53_HC_LAST_FAILURE, "h-1", ""},
	    {"POST", "/2013-04-01/tags/hostedzone/Z1", R53_CHANGE_TAGS, "Z1",
	     "hostedzone"},
	    {"GET", "/2013-04-01/tags/healthcheck/h-1", R53_LIST_TAGS, "h-1",
	     "healthcheck"},
	    {"POST", "/2013-04-01/tags/healthcheck", R53_LIST_TAGS_MANY, "",
	     "healthcheck"},
	    {"GET", "/2013-04-01/checkeripranges", R53_CHECKER_IPS, "", ""},
	    {"GET", "/2013-04-01/hostedzonelimit/Z1/MAX_RRSETS_BY_ZONE",
	     R53_ZONE_LIMIT, "Z1", "MAX_RRSETS_BY_ZONE"},
	    {"GET", "/2013-04-01/accountlimit/MAX_HOSTED_ZONES_BY_OWNER",
	     R53_ACCOUNT_LIMIT, "", "MAX_HOSTED_ZONES_BY_OWNER"},
	    {"POST", "/2013-04-01/cidrcollection", R53_CREATE_CIDR, "", ""},
	    {"GET", "/2013-04-01/cidrcollection", R53_LIST_CIDRS, "", ""},
	    {"POST", "/2013-04-01/cidrcollection/c-1", R53_CHANGE_CIDR, "c-1",
	     ""},
	    {"DELETE", "/2013-04-01/cidrcollection/c-1", R53_DELETE_CIDR, "c-1",
	     ""},
	    {"GET", "/2013-04-01/cidrcollection/c-1", R53_LIST_CIDR_LOCATIONS,
	     "c-1", ""},
	    {"GET", "/2013-04-01/cidrcollection/c-1/cidrblocks",
	     R53_LIST_CIDR_BLOCKS, "c-1", ""},
	    {"POST", "/2013-04-01/cidrcollection/c-1/cidrblocks", R53_UNKNOWN,
	     "", ""},
	    {"PUT", "/2013-04-01/cidrcollection", R53_UNKNOWN, "", ""},
	    /* what names no resource */
	    {"GET", "/2013-04-01/hostedzone/../change/C1", R53_UNKNOWN, "", ""},
	    {"GET", "/2013-04-01/hostedzone/./Z1", R53_UNKNOWN, "", ""},
	    {"GET", "/2012-12-12/hostedzone", R53_UNKNOWN, "", ""},
	    {"GET", "/2013-04-01x/hostedzone", R53_UNKNOWN, "", ""},
	    {"PATCH", "/2013-04-01/hostedzone/Z1", R53_UNKNOWN, "Z1", ""},
	    {"GET", "/2013-04-01/a/b/c/d/e", R53_UNKNOWN, "", ""},
	    {"GET", "/2013-04-01/hostedzonelimit/Z1", R53_UNKNOWN, "", ""},
	    {"GET", "", R53_UNKNOWN, "", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct r53_route rt =
		    route_of(cases[i].method, cases[i].path, NULL);
		if (rt.op != cases[i].op)
			fail_msg("%s %s: %s, want %s", cases[i].method,
				 cases[i].path, r53_op_name(rt.op),
				 r53_op_name(cases[i].op));
		if (rt.op != R53_UNKNOWN) {
			assert_string_equal(rt.id, cases[i].id);
			assert_string_equal(rt.kind, cases[i].kind);
		}
	}
	/* a segment longer than R53_ROUTE_SEG_MAX names nothing */
	char huge[R53_ROUTE_SEG_MAX + 40];
	int n = snprintf(huge, sizeof(huge), "/2013-04-01/hostedzone/");
	memset(huge + n, 'Z', sizeof(huge) - (size_t)n - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(route_of("GET", huge, NULL).op, R53_UNKNOWN);

	/* paging: defaults, caps, the marker's prefix */
	static const char *const q1[] = {"marker", "/hostedzone/Z9", "maxitems",
					 "5", NULL};
	struct r53_route rt = route_of("GET", "/2013-04-01/hostedzone", q1);
	assert_string_equal(rt.marker, "Z9");
	assert_int_equal(rt.max_items, 5);
	static const char *const q2[] = {"maxitems", "99999999999999", NULL};
	assert_int_equal(
	    route_of("GET", "/2013-04-01/hostedzone", q2).max_items, 100);
	static const char *const q3[] = {"maxitems", "-1", NULL};
	assert_int_equal(
	    route_of("GET", "/2013-04-01/hostedzone/Z1/rrset", q3).max_items,
	    300);
	assert_int_equal(
	    route_of("GET", "/2013-04-01/healthcheck", NULL).max_items, 100);
	static const char *const q4[] = {"type", "A", NULL};
	assert_non_null(
	    route_of("GET", "/2013-04-01/hostedzone/Z1/rrset", q4).invalid);
	static const char *const q5[] = {"hostedzoneid", "Z1", NULL};
	assert_non_null(
	    route_of("GET", "/2013-04-01/hostedzonesbyname", q5).invalid);
	static const char *const q6[] = {
	    "name", "www.example.com", "type", "A", "identifier", "x", NULL};
	rt = route_of("GET", "/2013-04-01/hostedzone/Z1/rrset", q6);
	assert_null(rt.invalid);
	assert_string_equal(rt.name, "www.example.com");
	assert_string_equal(rt.identifier, "x");
	/* The instance listings' markers (Route 53's hostedzoneid,
	 * trafficpolicyinstancename, trafficpolicyinstancetype). */
	static const char *const q7[] = {"hostedzoneid",
					 "/hostedzone/Z7",
					 "trafficpolicyinstancename",
					 "www.example.com.",
					 "trafficpolicyinstancetype",
					 "AAAA",
					 "maxitems",
					 "2",
					 NULL};
	rt = route_of("GET", "/2013-04-01/trafficpolicyinstances", q7);
	assert_int_equal(rt.op, R53_LIST_TPIS);
	assert_null(rt.invalid);
	assert_string_equal(rt.zone_id, "Z7");
	assert_string_equal(rt.name, "www.example.com.");
	assert_string_equal(rt.type, "AAAA");
	assert_int_equal(rt.max_items, 2);
	static const char *const q8[] = {
	    "id", "Z7", "trafficpolicyinstancetype", "A", NULL};
	rt = route_of("GET", "/2013-04-01/trafficpolicyinstances/hostedzone",
		      q8);
	assert_int_equal(rt.op, R53_LIST_TPIS_BY_ZONE);
	assert_string_equal(rt.flow_id, "Z7");
	assert_null(rt.name);
	assert_string_equal(rt.type, "A");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sign_aws_example),
	    cmocka_unit_test(test_check_botocore_request),
	    cmocka_unit_test(test_parse_auth_refusals),
	    cmocka_unit_test(test_keys_file),
	    cmocka_unit_test(test_change_batch_xml),
	    cmocka_unit_test(test_xml_refusals),
	    cmocka_unit_test(test_cidr_xml),
	    cmocka_unit_test(test_create_zone_xml),
	    cmocka_unit_test(test_health_check_xml),
	    cmocka_unit_test(test_plain_http_only_on_loopback),
	    cmocka_unit_test(test_tag_and_comment_xml),
	    cmocka_unit_test(test_routing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
