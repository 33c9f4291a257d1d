/* A hosted zone's MAX_RRSETS_BY_ZONE (issue 11): a zone created with a
 * limit (CreateHostedZone 8, what 0.5.0 proposes) refuses a batch or an
 * import that grows it past the limit and still shrinks when over it;
 * SetHostedZoneLimit (type 28, command_version 8) changes it; a zone of an
 * older log (no limit stored) takes any number, so old logs replay as they
 * did; the limits survive snapshot / restore (FsmSnapshotExt 1, format 5)
 * and a snapshot without them keeps its old format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/command.h"
#include "node/control/command_text.h"
#include "node/control/control_fsm.h"
#include "node/control/zone_store.h"
#include "node/raft/fsm_log.h"
#include "proto/command.pb-c.h"

#define ZID "Z0123456789ABC"

static const char *const NS[] = {"ns1.quorum53.test"};

/* Applies p (consumed); the result's error name into name ("" applied),
 * its message into msg. */
static void run(struct control_fsm *f, struct command_payload p, char *name,
		size_t namelen, char *msg, size_t msglen)
{
	struct q53_fsm *b = control_fsm_base(f);
	int32_t code = 0;
	uint8_t *out = NULL;
	size_t len = 0;
	struct command_result r;

	assert_int_equal(b->apply(b, p.type, p.data, p.len, &code, &out, &len),
			 0);
	assert_int_equal(command_result_decode(out, len, &r), 0);
	snprintf(name, namelen, "%s", r.error_name ? r.error_name : "");
	snprintf(msg, msglen, "%s", r.error_message ? r.error_message : "");
	command_result_free(&r);
	raft_free(out);
	command_payload_clear(&p);
}

static void create(struct control_fsm *f, uint64_t max_rrsets)
{
	struct command_payload p;
	char name[64], msg[512];
	struct command_create_hosted_zone c = {
	    .id = ZID,
	    .name = "example.com",
	    .nameservers = NS,
	    .n_nameservers = 1,
	    .time_ms = 1,
	    .max_rrsets = max_rrsets,
	};
	assert_int_equal(command_encode_create_hosted_zone(&c, &p), 0);
	run(f, p, name, sizeof(name), msg, sizeof(msg));
	assert_string_equal(name, "");
}

/* A batch of one action on NAME.example.com A (a new name each i). */
static int change(struct control_fsm *f, const char *action, int i, char *msg,
		  size_t msglen)
{
	char json[512], name[64], cid[32];
	static int seq;
	struct command_payload p;
	snprintf(cid, sizeof(cid), "C%08d", ++seq);
	snprintf(json, sizeof(json),
		 "{\"Changes\":[{\"Action\":\"%s\",\"ResourceRecordSet\":{"
		 "\"Name\":\"n%d.example.com\",\"Type\":\"A\",\"TTL\":60,"
		 "\"ResourceRecords\":[{\"Value\":\"192.0.2.1\"}]}}]}",
		 action, i);
	assert_int_equal(command_text_change_rrsets_by(ZID, cid, "", json,
						       strlen(json), 1, &p, msg,
						       msglen),
			 0);
	run(f, p, name, sizeof(name), msg, msglen);
	if (name[0] != '\0')
		print_message("%s %d: %s: %s\n", action, i, name, msg);
	return name[0] == '\0' ? 0 : -1;
}

static void set_limit(struct control_fsm *f, const char *type, uint64_t v,
		      char *name, size_t namelen, char *msg, size_t msglen)
{
	struct command_payload p;
	struct command_set_zone_limit c = {
	    .zone_id = ZID, .limit_type = type, .value = v, .time_ms = 2};
	assert_int_equal(command_encode_set_zone_limit(&c, &p), 0);
	run(f, p, name, namelen, msg, msglen);
}

static uint64_t limit_of(struct control_fsm *f, size_t *count)
{
	struct zone_store_info info;
	assert_int_equal(zone_store_get(control_fsm_zone_store(f), ZID, &info),
			 0);
	if (count != NULL)
		*count = info.nrrsets;
	return info.max_rrsets;
}

/* Apex SOA and NS are 2 sets: a limit of 4 leaves room for 2 more. */
static void test_batches_stop_at_the_limit(void **state)
{
	(void)state;
	struct control_fsm *f;
	char msg[1024];
	assert_int_equal(control_fsm_new(&f), 0);
	create(f, 4);
	assert_int_equal(limit_of(f, NULL), 4);
	assert_int_equal(change(f, "CREATE", 1, msg, sizeof(msg)), 0);
	assert_int_equal(change(f, "CREATE", 2, msg, sizeof(msg)), 0);
	assert_int_equal(change(f, "CREATE", 3, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "more than its limit of 4"));
	assert_non_null(strstr(msg, "MAX_RRSETS_BY_ZONE"));
	size_t n;
	limit_of(f, &n);
	assert_int_equal(n, 4);
	/* An UPSERT of an existing set does not grow the zone. */
	assert_int_equal(change(f, "UPSERT", 2, msg, sizeof(msg)), 0);

	/* Raised through SetHostedZoneLimit: room again. */
	char name[64];
	set_limit(f, COMMAND_ZONE_LIMIT_MAX_RRSETS, 5, name, sizeof(name), msg,
		  sizeof(msg));
	assert_string_equal(name, "");
	assert_int_equal(limit_of(f, NULL), 5);
	assert_int_equal(change(f, "CREATE", 3, msg, sizeof(msg)), 0);

	/* Lowered below the count: the zone shrinks, never grows. */
	set_limit(f, COMMAND_ZONE_LIMIT_MAX_RRSETS, 3, name, sizeof(name), msg,
		  sizeof(msg));
	assert_string_equal(name, "");
	assert_int_equal(change(f, "CREATE", 4, msg, sizeof(msg)), -1);
	assert_int_equal(change(f, "DELETE", 3, msg, sizeof(msg)), 0);

	/* A wrong type or an absurd value is refused by apply too. */
	set_limit(f, "MAX_VPCS", 9, name, sizeof(name), msg, sizeof(msg));
	assert_string_equal(name, "InvalidInput");
	set_limit(f, COMMAND_ZONE_LIMIT_MAX_RRSETS,
		  (uint64_t)ZONE_STORE_MAX_RRSETS_LIMIT + 1, name, sizeof(name),
		  msg, sizeof(msg));
	assert_string_equal(name, "InvalidInput");
	assert_int_equal(limit_of(f, NULL), 3);
	control_fsm_free(f);
}

/* A zone of an older log (CreateHostedZone without field 8) has no limit:
 * replayed, it takes what it took. */
static void test_old_zone_has_no_limit(void **state)
{
	(void)state;
	struct control_fsm *f;
	char msg[1024];
	assert_int_equal(control_fsm_new(&f), 0);
	create(f, 0);
	for (int i = 0; i < 30; i++)
		assert_int_equal(change(f, "CREATE", i, msg, sizeof(msg)), 0);
	assert_int_equal(limit_of(f, NULL), 0);
	control_fsm_free(f);
}

static void test_import_refused_past_the_limit(void **state)
{
	(void)state;
	struct control_fsm *f;
	struct command_payload p;
	char name[64], msg[1024];
	assert_int_equal(control_fsm_new(&f), 0);
	create(f, 3);
	/* Four sets in the file: refused before anything is proposed. */
	static const char four[] = "a 60 A 192.0.2.1\nb 60 A 192.0.2.2\n"
				   "c 60 A 192.0.2.3\nd 60 A 192.0.2.4\n";
	assert_int_equal(command_text_import_zone(control_fsm_zone_store(f),
						  ZID, "C", four, strlen(four),
						  1, &p, msg, sizeof(msg)),
			 Q53_EINVAL);
	assert_non_null(strstr(msg, "holds 4 record sets"));
	/* Two, with the apex kept: 4, refused by apply. */
	static const char big[] = "a 60 A 192.0.2.1\nb 60 A 192.0.2.2\n";
	assert_int_equal(command_text_import_zone(control_fsm_zone_store(f),
						  ZID, "C", big, strlen(big), 1,
						  &p, msg, sizeof(msg)),
			 0);
	run(f, p, name, sizeof(name), msg, sizeof(msg));
	assert_string_equal(name, "InvalidChangeBatch");
	assert_non_null(strstr(msg, "would hold 4 record sets"));
	static const char fits[] = "a 60 A 192.0.2.1\n";
	assert_int_equal(command_text_import_zone(control_fsm_zone_store(f),
						  ZID, "C", fits, strlen(fits),
						  1, &p, msg, sizeof(msg)),
			 0);
	run(f, p, name, sizeof(name), msg, sizeof(msg));
	assert_string_equal(name, "");
	control_fsm_free(f);
}

static uint32_t snapshot_format(const uint8_t *p, size_t len)
{
	Q53__Command__FsmSnapshot *m =
	    q53__command__fsm_snapshot__unpack(NULL, len, p);
	assert_non_null(m);
	uint32_t fmt = m->format;
	q53__command__fsm_snapshot__free_unpacked(m, NULL);
	return fmt;
}

static void test_snapshot_keeps_limits(void **state)
{
	(void)state;
	struct control_fsm *f, *g;
	uint8_t *a, *b;
	size_t alen, blen;
	char msg[1024];

	assert_int_equal(control_fsm_new(&f), 0);
	create(f, 0);
	struct q53_fsm *fb = control_fsm_base(f);
	assert_int_equal(fb->snapshot(fb, &a, &alen), 0);
	/* No zone with a limit: the format of 0.4.0. */
	assert_int_equal(snapshot_format(a, alen), 3);
	raft_free(a);
	control_fsm_free(f);

	assert_int_equal(control_fsm_new(&f), 0);
	create(f, 3);
	fb = control_fsm_base(f);
	assert_int_equal(fb->snapshot(fb, &a, &alen), 0);
	assert_int_equal(snapshot_format(a, alen), 5);
	assert_int_equal(control_fsm_new(&g), 0);
	struct q53_fsm *gb = control_fsm_base(g);
	assert_int_equal(gb->restore(gb, a, alen), 0);
	assert_int_equal(limit_of(g, NULL), 3);
	assert_int_equal(gb->snapshot(gb, &b, &blen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	/* The restored replica refuses what the original refuses. */
	assert_int_equal(change(g, "CREATE", 1, msg, sizeof(msg)), 0);
	assert_int_equal(change(g, "CREATE", 2, msg, sizeof(msg)), -1);
	raft_free(a);
	raft_free(b);
	control_fsm_free(f);
	control_fsm_free(g);
}

/* command_version 8 only; another is a newer release's. */
static void test_command_version(void **state)
{
	(void)state;
	struct command_payload p;
	struct command d;
	struct command_set_zone_limit c = {
	    .zone_id = ZID, .limit_type = "MAX_RRSETS_BY_ZONE", .value = 7};
	assert_int_equal(command_encode_set_zone_limit(&c, &p), 0);
	assert_int_equal(p.type, COMMAND_SET_ZONE_LIMIT);
	assert_int_equal(command_peek_version(p.data, p.len),
			 COMMAND_VERSION_ZONE_LIMIT);
	assert_true(command_type_versioned(COMMAND_SET_ZONE_LIMIT));
	assert_true(command_version_known(COMMAND_SET_ZONE_LIMIT, 8));
	assert_false(command_version_known(COMMAND_SET_ZONE_LIMIT, 9));
	assert_int_equal(command_decode(p.type, p.data, p.len, &d), 0);
	assert_int_equal(d.u.set_zone_limit.value, 7);
	command_free(&d);
	command_payload_clear(&p);

	Q53__Command__SetHostedZoneLimit m =
	    Q53__COMMAND__SET_HOSTED_ZONE_LIMIT__INIT;
	m.command_version = 7;
	m.zone_id = ZID;
	uint8_t buf[64];
	size_t len = q53__command__set_hosted_zone_limit__pack(&m, buf);
	assert_int_equal(command_decode(COMMAND_SET_ZONE_LIMIT, buf, len, &d),
			 Q53_EMALF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batches_stop_at_the_limit),
	    cmocka_unit_test(test_old_zone_has_no_limit),
	    cmocka_unit_test(test_import_refused_past_the_limit),
	    cmocka_unit_test(test_snapshot_keeps_limits),
	    cmocka_unit_test(test_command_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
