/* Query logging configs in the control FSM (node/control/query_log_table.h):
 * command 34 created and deleted with Route 53's refusals
 * (NoSuchHostedZone, QueryLoggingConfigAlreadyExists,
 * NoSuchQueryLoggingConfig), dropped with their zone, carried by the
 * snapshot's FsmSnapshotExt (format 5 only while there is one) and
 * restored; a snapshot without ext restores an empty table. */
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
#include "node/control/control_fsm.h"
#include "node/control/query_log_table.h"
#include "node/control/upgrade.h"
#include "proto/command.pb-c.h"

static const char *const NS[] = {"ns1.quorum53.test.", "ns2.quorum53.test."};

static int32_t run(struct control_fsm *f, struct command_payload p,
		   char *err_name, size_t len_name)
{
	struct control_upgrade *u;
	struct command_result r;
	int32_t code = 12345;
	uint8_t *out = NULL;
	size_t len = 0;

	assert_int_equal(control_upgrade_new(f, &u), 0);
	struct q53_fsm *b = control_upgrade_base(u);
	assert_int_equal(b->apply(b, p.type, p.data, p.len, &code, &out, &len),
			 0);
	control_upgrade_free(u);
	assert_non_null(out);
	assert_int_equal(command_result_decode(out, len, &r), 0);
	snprintf(err_name, len_name, "%s",
		 r.error_name != NULL ? r.error_name : "");
	if (code != 0)
		print_message("refused: %s: %s\n", err_name,
			      r.error_message != NULL ? r.error_message : "");
	command_result_free(&r);
	raft_free(out);
	command_payload_clear(&p);
	return code;
}

static void ok(struct control_fsm *f, struct command_payload p)
{
	char name[128];
	if (run(f, p, name, sizeof(name)) != 0)
		fail_msg("refused: %s", name);
}

static void refused(struct control_fsm *f, struct command_payload p,
		    const char *want)
{
	char name[128];
	assert_int_not_equal(run(f, p, name, sizeof(name)), 0);
	assert_string_equal(name, want);
}

static struct command_payload p_zone(const char *id, const char *name)
{
	struct command_create_hosted_zone c = {
	    .id = id,
	    .name = name,
	    .caller_reference = id,
	    .comment = "",
	    .nameservers = NS,
	    .n_nameservers = 2,
	    .change_id = NULL,
	    .time_ms = 1000,
	};
	struct command_payload p;
	assert_int_equal(command_encode_create_hosted_zone(&c, &p), 0);
	return p;
}

static struct command_payload p_create(const char *id, const char *zone)
{
	struct command_change_query_logging c = {
	    .id = id, .zone_id = zone, .arn = "arn:x", .time_ms = 5};
	struct command_payload p;
	assert_int_equal(command_encode_change_query_logging(&c, &p), 0);
	return p;
}

static struct command_payload p_delete(const char *id)
{
	struct command_change_query_logging c = {.delete_id = id, .time_ms = 6};
	struct command_payload p;
	assert_int_equal(command_encode_change_query_logging(&c, &p), 0);
	return p;
}

/* The snapshot's format and how many configs its ext holds. */
static void snap_check(struct control_fsm *f, unsigned format, size_t n,
		       struct control_fsm *restore_into)
{
	struct q53_fsm *b = control_fsm_base(f);
	uint8_t *buf;
	size_t len;

	assert_int_equal(b->snapshot(b, &buf, &len), 0);
	Q53__Command__FsmSnapshot *m =
	    q53__command__fsm_snapshot__unpack(NULL, len, buf);
	assert_non_null(m);
	assert_int_equal(m->format, format);
	assert_int_equal(m->ext != NULL ? m->ext->n_query_logging : 0, n);
	q53__command__fsm_snapshot__free_unpacked(m, NULL);
	if (restore_into != NULL) {
		struct q53_fsm *rb = control_fsm_base(restore_into);
		assert_int_equal(rb->restore(rb, buf, len), 0);
	}
	raft_free(buf);
}

static void test_create_delete_and_refusals(void **state)
{
	struct control_fsm *f, *g, *h;
	(void)state;

	assert_int_equal(control_fsm_new(&f), 0);
	ok(f, p_zone("ZONE00000000001", "one.test"));
	ok(f, p_zone("ZONE00000000002", "two.test"));
	refused(f, p_create("q-0", "ZONE00000000009"), "NoSuchHostedZone");
	ok(f, p_create("q-1", "ZONE00000000001"));
	refused(f, p_create("q-2", "ZONE00000000001"),
		"QueryLoggingConfigAlreadyExists");
	refused(f, p_create("q-1", "ZONE00000000002"),
		"QueryLoggingConfigAlreadyExists");
	ok(f, p_create("q-2", "ZONE00000000002"));
	const struct query_log_table *t = control_fsm_query_logging(f);
	assert_int_equal(t->n, 2);
	assert_string_equal(query_log_table_by_zone(t, "ZONE00000000001")->id,
			    "q-1");
	assert_string_equal(query_log_table_get(t, "q-2")->arn, "arn:x");

	/* the snapshot carries them (format 5) and restores them */
	assert_int_equal(control_fsm_new(&g), 0);
	snap_check(f, 5, 2, g);
	const struct query_log_table *tg = control_fsm_query_logging(g);
	assert_int_equal(tg->n, 2);
	assert_string_equal(query_log_table_by_zone(tg, "ZONE00000000002")->id,
			    "q-2");
	assert_int_equal(
	    query_log_table_by_zone(tg, "ZONE00000000002")->created_ms, 5);

	refused(f, p_delete("q-9"), "NoSuchQueryLoggingConfig");
	ok(f, p_delete("q-1"));
	assert_null(query_log_table_get(t, "q-1"));
	/* deleting the zone drops its config */
	struct command_delete_hosted_zone dz = {
	    .id = "ZONE00000000002", .change_id = NULL, .time_ms = 7};
	struct command_payload p;
	assert_int_equal(command_encode_delete_hosted_zone(&dz, &p), 0);
	ok(f, p);
	assert_int_equal(t->n, 0);
	/* no config: no ext, the format of before; restoring it empties g */
	snap_check(f, 3, 0, g);
	assert_int_equal(control_fsm_query_logging(g)->n, 0);

	/* a snapshot without ext (older data) restores as before */
	assert_int_equal(control_fsm_new(&h), 0);
	snap_check(g, 3, 0, h);
	assert_int_equal(control_fsm_query_logging(h)->n, 0);
	control_fsm_free(f);
	control_fsm_free(g);
	control_fsm_free(h);
}

static void test_malformed_refused(void **state)
{
	struct control_fsm *f;
	char name[128];
	(void)state;

	assert_int_equal(control_fsm_new(&f), 0);
	ok(f, p_zone("ZONE00000000001", "one.test"));
	/* neither config nor delete_id */
	Q53__Command__ChangeQueryLoggingConfig m =
	    Q53__COMMAND__CHANGE_QUERY_LOGGING_CONFIG__INIT;
	m.command_version = COMMAND_VERSION;
	struct command_payload p = {.type = COMMAND_CHANGE_QUERY_LOGGING};
	p.len = protobuf_c_message_get_packed_size(&m.base);
	p.data = raft_malloc(p.len + 1);
	protobuf_c_message_pack(&m.base, p.data);
	assert_int_not_equal(run(f, p, name, sizeof(name)), 0);
	assert_string_equal(name, "InvalidInput");
	/* garbage */
	struct command_payload g = {.type = COMMAND_CHANGE_QUERY_LOGGING};
	g.data = raft_malloc(3);
	memcpy(g.data, "\xff\xff\xff", 3);
	g.len = 3;
	assert_int_not_equal(run(f, g, name, sizeof(name)), 0);
	assert_int_equal(control_fsm_query_logging(f)->n, 0);
	control_fsm_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_delete_and_refusals),
	    cmocka_unit_test(test_malformed_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
