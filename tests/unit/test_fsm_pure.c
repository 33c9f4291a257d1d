/* Apply parses nothing: this program links the FSM library q53_fsm (with
 * cmocka, protobuf-c and raft) and neither jansson nor libzscanner, and
 * applies every typed command on a fresh FSM: zones, change batches with
 * wire-format RDATA (state-dependent refusals in the same words as when
 * apply parsed JSON), imported record sets, typed health-check configs,
 * votes, nodes, snapshot / restore and building a zone for serving.
 *
 * The zone-file loader (node/zone/zone_file.c) is not in q53_fsm: this
 * program links without libzscanner, and the dlsym checks show neither
 * parser library is in the process. (See CMakeLists.txt: test_fsm_pure is
 * built apart from the other unit tests.) */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/command.h"
#include "node/control/control_fsm.h"
#include "node/control/zone_store.h"
#include "node/zone/zone.h"

/* --- helpers --- */

#define ZID "Z0123456789ABC"

static const char *const NS[] = {"ns1.quorum53.test", "ns2.quorum53.test."};
static const uint8_t WWW[] = "\3www\7example\3com";
static const uint8_t SHOP[] = "\4shop\7example\3com";
static const uint8_t MAIL[] = "\4mail\7example\3com";
static const uint8_t OTHER[] = "\3www\7example\3org";

static int32_t apply(struct control_fsm *f, struct command_payload p,
		     struct command_result *r)
{
	struct q53_fsm *b = control_fsm_base(f);
	int32_t code = 12345;
	uint8_t *out = NULL;
	size_t len = 0;

	assert_int_equal(b->apply(b, p.type, p.data, p.len, &code, &out, &len),
			 0);
	assert_non_null(out);
	if (r != NULL)
		assert_int_equal(command_result_decode(out, len, r), 0);
	raft_free(out);
	command_payload_clear(&p);
	return code;
}

static void ok(struct control_fsm *f, struct command_payload p)
{
	struct command_result r;

	if (apply(f, p, &r) != 0)
		fail_msg("refused: %s: %s", r.error_name, r.error_message);
	command_result_free(&r);
}

static void refused(struct control_fsm *f, struct command_payload p,
		    int32_t code, const char *name, const char *message)
{
	struct command_result r;
	uint64_t applied = control_fsm_applied(f);

	assert_int_equal(apply(f, p, &r), code);
	assert_string_equal(r.error_name, name);
	if (strcmp(r.error_message, message) != 0)
		fail_msg("got '%s'\nwant '%s'", r.error_message, message);
	command_result_free(&r);
	assert_int_equal(control_fsm_applied(f), applied);
}

static struct command_payload p_zone(void)
{
	struct command_create_hosted_zone c = {.id = ZID,
					       .name = "example.com",
					       .nameservers = NS,
					       .n_nameservers = 2,
					       .change_id = "C0",
					       .time_ms = 1000};
	struct command_payload p;
	assert_int_equal(command_encode_create_hosted_zone(&c, &p), 0);
	return p;
}

/* One change of one A record set. */
struct one {
	enum change_action action;
	const uint8_t *owner;
	size_t owner_len;
	uint32_t ttl;
	const char *rdata;
	size_t rdlen;
	const char *set_id;
	enum change_failover failover;
	const char *hc;
	const char *invalid;
};

static struct command_payload p_batch(const char *change,
				      const struct one *ones, size_t n)
{
	struct rrset_change ch[4];
	struct rrset_rdata rd[4];
	struct command_payload p;

	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++) {
		rd[i] = (struct rrset_rdata){(const uint8_t *)ones[i].rdata,
					     ones[i].rdlen};
		ch[i] = (struct rrset_change){
		    .action = ones[i].action,
		    .set = {.owner = ones[i].owner,
			    .owner_len = ones[i].owner_len,
			    .type = 1,
			    .ttl = ones[i].ttl,
			    .rdata = &rd[i],
			    .nrdata = 1,
			    .set_identifier = ones[i].set_id,
			    .failover = ones[i].failover,
			    .health_check_id = ones[i].hc},
		    .invalid = ones[i].invalid,
		};
	}
	struct command_change_rrsets c = {
	    .zone_id = ZID,
	    .change_id = change,
	    .batch = {.comment = "typed", .changes = ch, .nchanges = n},
	    .time_ms = 2000,
	};
	assert_int_equal(command_encode_change_rrsets(&c, &p), 0);
	return p;
}

#define ONE(...) p_batch_1((struct one){__VA_ARGS__})
static const char *batch_change = "C1";
static struct command_payload p_batch_1(struct one o)
{
	return p_batch(batch_change, &o, 1);
}

static struct health_check_config tcp_config(uint16_t port)
{
	struct health_check_config cfg = {
	    .type = HEALTH_CHECK_TCP,
	    .port = port,
	    .request_interval = 30,
	    .failure_threshold = 3,
	    .healthy_share = 50,
	};
	snprintf(cfg.ip_address, sizeof(cfg.ip_address), "192.0.2.81");
	return cfg;
}

static struct command_payload p_check(const char *id, uint16_t port)
{
	struct health_check_config cfg = tcp_config(port);
	struct command_create_health_check c = {.id = id,
						.caller_reference = "ref",
						.config = &cfg,
						.time_ms = 3000};
	struct command_payload p;
	assert_int_equal(command_encode_create_health_check(&c, &p), 0);
	return p;
}

static struct command_payload p_check_update(const char *id, uint64_t version,
					     uint16_t port)
{
	struct health_check_config cfg = tcp_config(port);
	struct command_update_health_check c = {
	    .id = id, .version = version, .config = &cfg, .time_ms = 4000};
	struct command_payload p;
	assert_int_equal(command_encode_update_health_check(&c, &p), 0);
	return p;
}

static const struct zone_store_rrset *find(struct control_fsm *f,
					   const uint8_t *owner, uint16_t type)
{
	struct zone_store_info info;

	if (zone_store_get(control_fsm_zone_store(f), ZID, &info) != 0)
		return NULL;
	for (size_t i = 0; i < info.nrrsets; i++)
		if (zone_store_info_rrset(&info, i)->type == type &&
		    zone_store_info_rrset(&info, i)->owner_len ==
			strlen((const char *)owner) + 1 &&
		    memcmp(zone_store_info_rrset(&info, i)->owner, owner,
			   zone_store_info_rrset(&info, i)->owner_len) == 0)
			return zone_store_info_rrset(&info, i);
	return NULL;
}

/* --- tests --- */

static void test_no_parser_in_process(void **state)
{
	(void)state;
	assert_null(dlsym(RTLD_DEFAULT, "json_loadb"));
	assert_null(dlsym(RTLD_DEFAULT, "json_dumps"));
	assert_null(dlsym(RTLD_DEFAULT, "zs_set_processing"));
	assert_null(dlsym(RTLD_DEFAULT, "change_batch_parse"));
	assert_null(dlsym(RTLD_DEFAULT, "health_check_config_parse"));
}

static void test_every_typed_command(void **state)
{
	struct control_fsm *f;
	struct command_result r;
	struct command_payload p;

	(void)state;
	assert_int_equal(control_fsm_new(&f), 0);
	{
		struct command_set_node c = {.node_id = 1,
					     .raft_address = "tcp://a:1",
					     .name = "a",
					     .time_ms = 500};
		assert_int_equal(command_encode_set_node(&c, &p), 0);
		ok(f, p);
	}
	ok(f, p_zone());

	/* A change batch: wire name, wire RDATA. */
	ok(f,
	   ONE(.action = CHANGE_CREATE, .owner = WWW, .owner_len = sizeof(WWW),
	       .ttl = 300, .rdata = "\xc0\x00\x02\x0a", .rdlen = 4));
	const struct zone_store_rrset *www = find(f, WWW, 1);
	assert_non_null(www);
	assert_int_equal(www->ttl, 300);
	assert_memory_equal(www->rdata[0].data, "\xc0\x00\x02\x0a", 4);
	struct control_fsm_change ch;
	assert_int_equal(control_fsm_change_get(f, "C1", &ch), 0);
	assert_string_equal(ch.comment, "typed");

	/* Apply decides what depends on the state, in the same words. */
	batch_change = "C2";
	refused(f,
		ONE(.action = CHANGE_CREATE, .owner = WWW,
		    .owner_len = sizeof(WWW), .ttl = 300,
		    .rdata = "\xc0\x00\x02\x0a", .rdlen = 4),
		Q53_EINVAL, "InvalidChangeBatch",
		"change 0: Tried to create resource record set "
		"[name='www.example.com.', type='A'] but it already exists");
	refused(f,
		ONE(.action = CHANGE_DELETE, .owner = WWW,
		    .owner_len = sizeof(WWW), .ttl = 60,
		    .rdata = "\xc0\x00\x02\x0a", .rdlen = 4),
		Q53_EINVAL, "InvalidChangeBatch",
		"change 0: Tried to delete resource record set "
		"[name='www.example.com.', type='A'] but the values provided "
		"do not match the current values (TTL 300, 1 records)");
	refused(f,
		ONE(.action = CHANGE_CREATE, .owner = OTHER,
		    .owner_len = sizeof(OTHER), .ttl = 300,
		    .rdata = "\xc0\x00\x02\x0a", .rdlen = 4),
		Q53_EINVAL, "InvalidChangeBatch",
		"change 0: RRSet with DNS name www.example.org. is not "
		"permitted in zone example.com.");
	/* What the proposer found invalid comes back where text parsing
	 * failed; untrusted RDATA is checked. */
	refused(f,
		ONE(.action = CHANGE_CREATE, .owner = MAIL,
		    .owner_len = sizeof(MAIL), .ttl = 300, .rdata = "",
		    .rdlen = 0,
		    .invalid = "value 'x' is not a valid A record: bad"),
		Q53_EINVAL, "InvalidChangeBatch",
		"change 0: [name='mail.example.com.', type='A']: value 'x' is "
		"not a valid A record: bad");
	refused(f,
		ONE(.action = CHANGE_CREATE, .owner = MAIL,
		    .owner_len = sizeof(MAIL), .ttl = 300, .rdata = "\1\2\3",
		    .rdlen = 3),
		Q53_EINVAL, "InvalidChangeBatch",
		"change 0: [name='mail.example.com.', type='A']: record 0 is "
		"not a valid A record");
	refused(
	    f,
	    ONE(.action = CHANGE_CREATE, .owner = (const uint8_t *)"\5ab",
		.owner_len = 3, .ttl = 300, .rdata = "\1\2\3\4", .rdlen = 4),
	    Q53_EINVAL, "InvalidChangeBatch", "change 0: malformed owner name");
	refused(f,
		ONE(.action = CHANGE_CREATE, .owner = SHOP,
		    .owner_len = sizeof(SHOP), .ttl = 30,
		    .rdata = "\xc0\x00\x02\x33", .rdlen = 4, .set_id = "p",
		    .failover = CHANGE_FAILOVER_PRIMARY, .hc = "hc1"),
		Q53_ENOENT, "NoSuchHealthCheck",
		"change 0: no health check found with ID: hc1");

	/* Typed health-check configs, validated in apply. */
	ok(f, p_check("hc1", 25));
	struct control_fsm_health_check hc;
	assert_int_equal(control_fsm_health_check_get(f, "hc1", &hc), 0);
	assert_int_equal(hc.config->port, 25);
	assert_string_equal(hc.config->ip_address, "192.0.2.81");
	refused(f, p_check("hc2", 0), Q53_EINVAL, "InvalidInput",
		"Port: required for TCP");
	assert_int_equal(apply(f, p_check_update("hc1", 1, 26), &r), 0);
	assert_int_equal(r.health_check.version, 2);
	assert_int_equal(r.health_check.config->port, 26);
	command_result_free(&r);
	refused(f, p_check_update("hc1", 1, 27), Q53_EINVAL,
		"HealthCheckVersionMismatch",
		"health check hc1 is at version 2, not 1");
	{
		struct command_health_vote c = {.member_id = 1,
						.check_id = "hc1",
						.healthy = false,
						.reason = "down",
						.time_ms = 4500};
		assert_int_equal(command_encode_health_vote(&c, &p), 0);
		ok(f, p);
	}
	batch_change = "C3";
	ok(f, ONE(.action = CHANGE_CREATE, .owner = SHOP,
		  .owner_len = sizeof(SHOP), .ttl = 30,
		  .rdata = "\xc0\x00\x02\x33", .rdlen = 4, .set_id = "p",
		  .failover = CHANGE_FAILOVER_PRIMARY, .hc = "hc1"));
	{
		struct command_delete_health_check c = {.id = "hc1"};
		assert_int_equal(command_encode_delete_health_check(&c, &p), 0);
		refused(f, p, Q53_EINVAL, "HealthCheckInUse",
			"health check hc1 is used by record sets of hosted "
			"zone " ZID);
	}

	/* A zone built for serving, from the typed store. */
	struct zone *z;
	char err[512];
	assert_int_equal(control_fsm_build_zone(f, ZID, &z, err, sizeof(err)),
			 0);
	zone_release(z);

	/* Snapshot and restore: protobuf, byte for byte. */
	struct q53_fsm *b = control_fsm_base(f);
	uint8_t *s1, *s2;
	size_t l1, l2;
	assert_int_equal(b->snapshot(b, &s1, &l1), 0);
	struct control_fsm *g;
	assert_int_equal(control_fsm_new(&g), 0);
	struct q53_fsm *gb = control_fsm_base(g);
	assert_int_equal(gb->restore(gb, s1, l1), 0);
	assert_int_equal(gb->snapshot(gb, &s2, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(s1, s2, l1);
	assert_int_equal(control_fsm_health_check_get(g, "hc1", &hc), 0);
	assert_int_equal(hc.config->port, 26);
	raft_free(s1);
	raft_free(s2);
	control_fsm_free(g);

	/* An imported zone: its record sets replace the zone's; the apex
	 * SOA and NS stay when it has none. */
	batch_change = "C4";
	ok(f, ONE(.action = CHANGE_DELETE, .owner = SHOP,
		  .owner_len = sizeof(SHOP), .ttl = 30,
		  .rdata = "\xc0\x00\x02\x33", .rdlen = 4, .set_id = "p",
		  .failover = CHANGE_FAILOVER_PRIMARY, .hc = "hc1"));
	{
		struct rrset_rdata rd = {(const uint8_t *)"\xc0\x00\x02\x19",
					 4};
		struct rrset_data set = {.owner = MAIL,
					 .owner_len = sizeof(MAIL),
					 .type = 1,
					 .ttl = 60,
					 .rdata = &rd,
					 .nrdata = 1};
		struct command_import_zone c = {.zone_id = ZID,
						.change_id = "C5",
						.sets = &set,
						.nsets = 1,
						.time_ms = 6000};
		assert_int_equal(command_encode_import_zone(&c, &p), 0);
		ok(f, p);
		/* A set outside the zone is refused. */
		set.owner = OTHER;
		set.owner_len = sizeof(OTHER);
		c.change_id = "C6";
		assert_int_equal(command_encode_import_zone(&c, &p), 0);
		refused(f, p, Q53_EINVAL, "InvalidInput",
			"record set 0: record set outside the zone, of an "
			"unsupported type, with a TTL out of range or no "
			"records");
	}
	assert_null(find(f, WWW, 1));
	assert_non_null(find(f, MAIL, 1));
	assert_non_null(find(f, (const uint8_t *)"\7example\3com", 6));
	{
		struct command_delete_health_check c = {.id = "hc1"};
		assert_int_equal(command_encode_delete_health_check(&c, &p), 0);
		ok(f, p);
		struct command_remove_node rn = {.node_id = 1};
		assert_int_equal(command_encode_remove_node(&rn, &p), 0);
		ok(f, p);
	}
	control_fsm_free(f);
}

/* The typed codecs reject what does not fit, and the previous release's
 * text types are not decoded here at all. */
static void test_decode_refusals(void **state)
{
	struct command c;

	(void)state;
	assert_int_equal(command_decode(COMMAND_LEGACY_CHANGE_RRSETS,
					(const uint8_t *)"", 0, &c),
			 Q53_EMALF);
	assert_int_equal(
	    command_decode(COMMAND_TYPE_MAX + 1, (const uint8_t *)"", 0, &c),
	    Q53_EMALF);
	/* command_version 7 is not this release's (2: routing sets, 3:
	 * geolocation sets and aliases, 4: IP-based sets, 5: latency sets, 6:
	 * geoproximity sets). */
	assert_int_equal(command_decode(COMMAND_CHANGE_RRSETS,
					(const uint8_t *)"\x08\x07", 2, &c),
			 Q53_EMALF);
	assert_int_equal(command_peek_version((const uint8_t *)"\x08\x02", 2),
			 2);
	assert_int_equal(command_decode(COMMAND_CHANGE_RRSETS,
					(const uint8_t *)"\x08\x01", 2, &c),
			 0);
	assert_int_equal(c.u.change_rrsets.batch.nchanges, 0);
	command_free(&c);
	/* Every record set version up to this release's is read. */
	for (uint8_t v = 1; v <= COMMAND_VERSION_MAX; v++) {
		const uint8_t pb[2] = {0x08, v};
		assert_int_equal(
		    command_decode(COMMAND_CHANGE_RRSETS, pb, 2, &c), 0);
		command_free(&c);
	}
	assert_int_equal(COMMAND_VERSION_MAX, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_parser_in_process),
	    cmocka_unit_test(test_every_typed_command),
	    cmocka_unit_test(test_decode_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
