/* Route 53's validation at the edge (issue 11): what a request's change
 * batch or zone import is refused for before anything is proposed
 * (command_text_change_rrsets_by, command_text_import_zone), in Route 53's
 * words, and that an old log entry (the upgrade module's _legacy forms)
 * still converts as it did. Each case fails on 0.4.0's main. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/api_msg.h"
#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/command_text.h"
#include "node/control/zone_store.h"
#include "node/control/zone_text.h"
#include "node/dnsdata/rdata_policy.h"
#include "proto/api.pb-c.h"

#define ZID "Z0123456789ABC"

/* One change batch of one CREATE of name / type with the JSON values
 * (already quoted and escaped for JSON), into buf. */
static const char *batch(char *buf, size_t cap, const char *name,
			 const char *type, const char *values)
{
	snprintf(buf, cap,
		 "{\"Changes\":[{\"Action\":\"CREATE\",\"ResourceRecordSet\":"
		 "{\"Name\":\"%s\",\"Type\":\"%s\",\"TTL\":300,"
		 "\"ResourceRecords\":[%s]}}]}",
		 name, type, values);
	return buf;
}

/* Submits json as a request; returns rc, the message in err. */
static int request(const char *json, char *err, size_t errlen)
{
	struct command_payload p;
	int rc = command_text_change_rrsets_by(
	    ZID, "C1", "", json, strlen(json), 1, &p, err, errlen);
	if (rc == 0)
		command_payload_clear(&p);
	return rc;
}

static void refused(const char *json, const char *needle)
{
	char err[4096];
	int rc = request(json, err, sizeof(err));
	if (rc != Q53_EINVAL)
		fail_msg("rc %d for %s", rc, json);
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, needle);
}

static void accepted(const char *json)
{
	char err[4096];
	if (request(json, err, sizeof(err)) != 0)
		fail_msg("refused %s: %s", json, err);
}

/* The old rules (an upgraded log entry) still take it. */
static void legacy_converts(const char *json)
{
	struct command_payload p;
	char err[4096];
	int rc = command_text_change_rrsets(ZID, "C1", json, strlen(json), 1,
					    &p, err, sizeof(err));
	if (rc != 0)
		fail_msg("legacy refused %s: %s", json, err);
	command_payload_clear(&p);
}

static void value_refused(const char *type, const char *value,
			  const char *needle)
{
	char buf[8192];
	batch(buf, sizeof(buf), "x.example.com", type, value);
	refused(buf, needle);
}

static void value_accepted(const char *type, const char *value)
{
	char buf[8192];
	accepted(batch(buf, sizeof(buf), "x.example.com", type, value));
}

static void test_wildcard_ns(void **state)
{
	(void)state;
	char buf[1024];
	batch(buf, sizeof(buf), "*.example.com", "NS",
	      "{\"Value\":\"ns.attacker.test\"}");
	refused(buf, "RRSet of type NS with DNS name *.example.com. is not "
		     "permitted");
	legacy_converts(buf);
	/* Other types at a wildcard, and NS below one, are fine. */
	accepted(batch(buf, sizeof(buf), "*.example.com", "A",
		       "{\"Value\":\"192.0.2.1\"}"));
	accepted(batch(buf, sizeof(buf), "sub.example.com", "NS",
		       "{\"Value\":\"ns.example.net\"}"));
}

static void test_caa(void **state)
{
	(void)state;
	value_refused("CAA", "{\"Value\":\"0 is-sue \\\"x\\\"\"}",
		      "InvalidCAATag");
	value_refused("CAA", "{\"Value\":\"0 \\\"issue\\\" x\"}",
		      "InvalidCAATag");
	value_refused("CAA", "{\"Value\":\"0 issue ca.example.net\"}",
		      "Value should be enclosed in quotation marks");
	value_refused("CAA", "{\"Value\":\"0 abcdefghijklmnop \\\"x\\\"\"}",
		      "1 to 15 ASCII letters and digits");
	value_refused("CAA", "{\"Value\":\"0 issue \\\"ca..example\\\"\"}",
		      "InvalidCAAValue");
	value_refused("CAA", "{\"Value\":\"0 issue \\\"-ca.example\\\"\"}",
		      "InvalidCAAValue");
	value_refused("CAA",
		      "{\"Value\":\"0 issuewild \\\"ca.example; key\\\"\"}",
		      "InvalidCAAValue");
	value_refused("CAA", "{\"Value\":\"0 issue \\\"ca.example x\\\"\"}",
		      "InvalidCAAValue");
	value_refused("CAA", "{\"Value\":\"0 iodef \\\"ftp://x.test\\\"\"}",
		      "an iodef value is a mailto:");
	value_refused("CAA", "{\"Value\":\"0 iodef \\\"mailto:\\\"\"}",
		      "an iodef value");
	value_accepted("CAA", "{\"Value\":\"0 issue \\\"ca.example.net\\\"\"}");
	value_accepted("CAA", "{\"Value\":\"0 issue \\\";\\\"\"}");
	value_accepted("CAA", "{\"Value\":\"128 issuewild "
			      "\\\"ca.example; account=123; "
			      "validationmethods=dns-01\\\"\"}");
	value_accepted(
	    "CAA", "{\"Value\":\"0 iodef \\\"mailto:sec@example.com\\\"\"}");
	value_accepted("CAA",
		       "{\"Value\":\"0 iodef \\\"https://ca.example/r\\\"\"}");
	value_accepted("CAA", "{\"Value\":\"0 tbs \\\"anything goes\\\"\"}");
	char buf[1024];
	legacy_converts(batch(buf, sizeof(buf), "x.example.com", "CAA",
			      "{\"Value\":\"0 is-sue \\\"x\\\"\"}"));
}

static void test_character_strings(void **state)
{
	(void)state;
	char s255[256], s256[257], vals[2048];
	memset(s255, 'a', 255);
	s255[255] = '\0';
	memset(s256, 'b', 256);
	s256[256] = '\0';
	snprintf(vals, sizeof(vals), "{\"Value\":\"\\\"%s\\\"\"}", s256);
	value_refused("TXT", vals,
		      "FATAL problem: CharacterStringTooLong (Value is too "
		      "long");
	value_refused("SPF", vals, "CharacterStringTooLong");
	char buf[4096];
	legacy_converts(batch(buf, sizeof(buf), "x.example.com", "TXT", vals));
	/* Unquoted, and escapes counted as one byte each. */
	snprintf(vals, sizeof(vals), "{\"Value\":\"%s\"}", s256);
	value_refused("TXT", vals, "CharacterStringTooLong");
	snprintf(vals, sizeof(vals), "{\"Value\":\"\\\"%s\\\" \\\"%s\\\"\"}",
		 s255, s255);
	value_accepted("TXT", vals);
	snprintf(vals, sizeof(vals),
		 "{\"Value\":\"\\\"%.250s\\\\\\\\065\\\"\"}", s255);
	value_accepted("TXT", vals);
}

static void test_digests(void **state)
{
	(void)state;
	/* DS digest type 2 is 32 bytes; here 20. */
	value_refused("DS",
		      "{\"Value\":\"12345 13 2 "
		      "0123456789abcdef0123456789abcdef01234567\"}",
		      "a digest of type 2 is 32 bytes");
	value_accepted("DS", "{\"Value\":\"12345 13 2 "
			     "0123456789abcdef0123456789abcdef"
			     "0123456789abcdef0123456789abcdef\"}");
	value_refused("SSHFP", "{\"Value\":\"4 2 0123456789abcdef\"}",
		      "a fingerprint of type 2 is 32 bytes");
	value_accepted("SSHFP", "{\"Value\":\"4 1 "
				"0123456789abcdef0123456789abcdef01234567\"}");
	value_refused("TLSA", "{\"Value\":\"3 1 1 0123456789abcdef\"}",
		      "InvalidTLSAData");
	value_refused("TLSA", "{\"Value\":\"7 1 0 0123456789abcdef\"}",
		      "usage is 0 to 3");
	value_accepted("TLSA", "{\"Value\":\"3 1 0 0123456789abcdef\"}");
	value_refused("NAPTR",
		      "{\"Value\":\"100 50 \\\"s-x\\\" \\\"SIP+D2U\\\" "
		      "\\\"\\\" _sip._udp.example.com\"}",
		      "InvalidNAPTRFlags");
	value_refused("NAPTR",
		      "{\"Value\":\"100 50 \\\"u\\\" \\\"E2U+sip\\\" "
		      "\\\"!^.*$!sip:a@example.com!\\\" x.example.com\"}",
		      "either a regexp or a replacement");
	value_accepted("NAPTR", "{\"Value\":\"100 50 \\\"u\\\" \\\"E2U+sip\\\" "
				"\\\"!^.*$!sip:a@example.com!\\\" .\"}");
}

/* Messages that named the parser's internals say what is wrong. */
static void test_messages(void **state)
{
	(void)state;
	char err[4096];
	/* An SOA with a field missing: not "invalid time unit". */
	value_refused("SOA", "{\"Value\":\"ns. host. 1 2 3 4\"}",
		      "seven fields: primary-name-server");
	assert_int_equal(request(batch(err, sizeof(err), "example.com", "SOA",
				       "{\"Value\":\"ns. host. 1 2 3 4\"}"),
				 err, sizeof(err)),
			 Q53_EINVAL);
	assert_null(strstr(err, "invalid time unit"));
	/* A TXT of a lone backslash: not "invalid number". */
	value_refused("TXT", "{\"Value\":\"\\\\\"}",
		      "incomplete escape sequence");
	/* A value of the wrong form names the type's form. */
	value_refused("MX", "{\"Value\":\"mail.example.com\"}",
		      "expected for MX: priority mail-server");
	/* A NUL in the JSON: not jansson's flag name. */
	static const char nul[] =
	    "{\"Changes\":[{\"Action\":\"CREATE\",\"ResourceRecordSet\":"
	    "{\"Name\":\"a\\u0000.example.com\",\"Type\":\"A\",\"TTL\":1,"
	    "\"ResourceRecords\":[{\"Value\":\"192.0.2.1\"}]}}]}";
	assert_int_equal(request(nul, err, sizeof(err)), Q53_EINVAL);
	assert_null(strstr(err, "JSON_ALLOW_NUL"));
	assert_non_null(strstr(err, "NUL character"));
	/* The change's Action missing: the AWS CLI's words. */
	refused("{\"Changes\":[{\"ResourceRecordSet\":{\"Name\":\"a.example."
		"com\",\"Type\":\"A\",\"TTL\":1,\"ResourceRecords\":[{"
		"\"Value\":\"192.0.2.1\"}]}}]}",
		"Missing required parameter in ChangeBatch.Changes[0]: "
		"\"Action\"");
	assert_int_equal(request("{\"Changes\":[{\"ResourceRecordSet\":{}}]}",
				 err, sizeof(err)),
			 Q53_EINVAL);
	assert_null(strstr(err, "the change.Action"));
}

/* The CLI's request without a batch: not the protobuf field's name. */
static void test_empty_batch_message(void **state)
{
	(void)state;
	Q53__Api__Request r = Q53__API__REQUEST__INIT;
	Q53__Api__ChangeBatchRequest cb = Q53__API__CHANGE_BATCH_REQUEST__INIT;
	cb.zone = ZID;
	r.body_case = Q53__API__REQUEST__BODY_CHANGE_BATCH;
	r.change_batch = &cb;
	size_t len = protobuf_c_message_get_packed_size(&r.base);
	uint8_t *buf = malloc(len + 1);
	assert_non_null(buf);
	protobuf_c_message_pack(&r.base, buf);
	Q53__Api__Request *out = NULL;
	char err[512];
	assert_int_equal(
	    api_msg_request_decode(buf, len, &out, err, sizeof(err)),
	    Q53_EINVAL);
	free(buf);
	assert_null(strstr(err, "change_batch_json"));
	assert_non_null(strstr(err, "the change batch is empty"));

	/* Too large: refused by the decode, before it is forwarded. */
	size_t big = API_MSG_CHANGE_BATCH_MAX + 1;
	uint8_t *doc = malloc(big);
	assert_non_null(doc);
	memset(doc, ' ', big);
	cb.change_batch_json.data = doc;
	cb.change_batch_json.len = big;
	len = protobuf_c_message_get_packed_size(&r.base);
	buf = malloc(len + 1);
	assert_non_null(buf);
	protobuf_c_message_pack(&r.base, buf);
	free(doc);
	assert_int_equal(
	    api_msg_request_decode(buf, len, &out, err, sizeof(err)),
	    Q53_EINVAL);
	free(buf);
	assert_non_null(strstr(err, "more than the limit of 2097152"));
}

/* Nothing of any length reaches the log: a Name of 2,000 characters or
 * a document over the size cap is refused by the parse. */
static void test_field_and_body_caps(void **state)
{
	(void)state;
	char *name = malloc(2001);
	assert_non_null(name);
	memset(name, 'a', 2000);
	name[2000] = '\0';
	size_t cap = 4096 + 2000;
	char *buf = malloc(cap);
	assert_non_null(buf);
	batch(buf, cap, name, "A", "{\"Value\":\"192.0.2.1\"}");
	refused(buf, "Name is longer than 1024 characters");
	/* A SetIdentifier too: every string but the values. */
	snprintf(buf, cap,
		 "{\"Changes\":[{\"Action\":\"CREATE\",\"ResourceRecordSet\":"
		 "{\"Name\":\"a.example.com\",\"Type\":\"A\",\"TTL\":1,"
		 "\"SetIdentifier\":\"%s\",\"Weight\":1,"
		 "\"ResourceRecords\":[{\"Value\":\"192.0.2.1\"}]}}]}",
		 name);
	refused(buf, "SetIdentifier is longer than 1024 characters");
	free(buf);
	free(name);

	size_t big = CHANGE_BATCH_MAX_JSON + 1;
	char *doc = malloc(big + 1);
	assert_non_null(doc);
	memset(doc, ' ', big);
	doc[0] = '{';
	doc[big - 1] = '}';
	doc[big] = '\0';
	char err[512];
	struct change_batch *b = NULL;
	assert_int_equal(change_batch_parse(&b, doc, big, err, sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(strstr(err, "more than the limit"));
	free(doc);
}

/* An invalid value is refused by the request, not kept for apply. */
static void test_invalid_not_proposed(void **state)
{
	(void)state;
	char buf[1024], err[4096];
	batch(buf, sizeof(buf), "a.example.com", "A",
	      "{\"Value\":\"192.0.2.300\"}");
	assert_int_equal(request(buf, err, sizeof(err)), Q53_EINVAL);
	assert_non_null(strstr(err, "InvalidChangeBatch: change 0: "
				    "[Invalid Resource Record: 'FATAL "
				    "problem: InvalidRDATA"));
	/* Old entries still carry it to apply, which refuses it there. */
	legacy_converts(buf);
}

static const char *const NS[] = {"ns1.quorum53.test"};

static int setup(void **state)
{
	struct zone_store *s = malloc(sizeof(*s));
	char err[512];
	zone_store_init(s);
	struct zone_store_create_params p = {.id = ZID,
					     .name = "example.com",
					     .nameservers = NS,
					     .nnameservers = 1};
	if (zone_store_create(s, &p, err, sizeof(err)) != 0)
		fail_msg("create: %s", err);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	zone_store_free(*state);
	free(*state);
	return 0;
}

static int import(const struct zone_store *s, const char *text, bool legacy,
		  char *err, size_t errlen)
{
	struct command_payload p;
	int rc =
	    legacy ? command_text_import_zone_legacy(
			 s, ZID, "C1", text, strlen(text), 1, &p, err, errlen)
		   : command_text_import_zone(s, ZID, "C1", text, strlen(text),
					      1, &p, err, errlen);
	if (rc == 0)
		command_payload_clear(&p);
	return rc;
}

static void test_import(void **state)
{
	const struct zone_store *s = *state;
	char err[1024];
	static const char wild[] = "* 300 NS ns.attacker.test.\n";
	assert_int_equal(import(s, wild, false, err, sizeof(err)), Q53_EINVAL);
	assert_non_null(strstr(err, "line 1: RRSet of type NS"));
	assert_int_equal(import(s, wild, true, err, sizeof(err)), 0);

	static const char caa[] = "www 300 CAA 0 is-sue \"x\"\n";
	assert_int_equal(import(s, caa, false, err, sizeof(err)), Q53_EINVAL);
	assert_non_null(strstr(err, "InvalidCAATag"));
	assert_int_equal(import(s, caa, true, err, sizeof(err)), 0);

	/* A TXT string libzscanner would split: refused, with its line. */
	char *longtxt = malloc(400);
	assert_non_null(longtxt);
	snprintf(longtxt, 400,
		 "www 300 A 192.0.2.1\nt 300 IN TXT \"%0300d\" ; c\n", 0);
	assert_int_equal(import(s, longtxt, false, err, sizeof(err)),
			 Q53_EINVAL);
	assert_non_null(strstr(err, "line 2: Invalid Resource Record"));
	assert_non_null(strstr(err, "CharacterStringTooLong"));
	assert_int_equal(import(s, longtxt, true, err, sizeof(err)), 0);
	free(longtxt);
	assert_int_equal(
	    import(s, "t 300 TXT \"a;b\" \"c\" ; x\n", false, err, sizeof(err)),
	    0);

	static const char ch[] = "www 300 A 192.0.2.1\nx 300 CH TXT \"a\"\n";
	assert_int_equal(import(s, ch, false, err, sizeof(err)), Q53_EINVAL);
	assert_null(strstr(err, "unsupported record type"));
	assert_non_null(strstr(err, "line 2: class CH is not supported"));
	static const char bad[] = "www 300 BOGUS x\n";
	assert_int_equal(import(s, bad, false, err, sizeof(err)), Q53_EINVAL);
	assert_non_null(strstr(err, "unknown or not one a hosted zone"));

	assert_int_equal(
	    import(s, "www 300 A 192.0.2.1\n", false, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wildcard_ns),
	    cmocka_unit_test(test_caa),
	    cmocka_unit_test(test_character_strings),
	    cmocka_unit_test(test_digests),
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_empty_batch_message),
	    cmocka_unit_test(test_field_and_body_caps),
	    cmocka_unit_test(test_invalid_not_proposed),
	    cmocka_unit_test_setup_teardown(test_import, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
