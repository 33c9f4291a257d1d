/* libFuzzer target for log entries: the first byte is the fsm_log command
 * type, the rest its payload, as a log entry (untrusted: written by any
 * release, or damaged) would hand them to the FSM. Applied through the
 * upgrade module (which converts the previous release's text types and
 * stops the node on a newer type or command_version: here the fatal hook
 * only records) to an FSM holding a node, a zone with record sets and a
 * health check, so every typed command reaches its checks. It must never
 * crash, leak or misbehave: apply answers 0 or Q53_ENOMEM, the result body
 * decodes, a rejection leaves the snapshot byte for byte unchanged, and
 * the state after an apply snapshots, restores and snapshots again to the
 * same bytes.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_command_decode CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/command.h"
#include "node/control/command_text.h"
#include "node/control/control_fsm.h"
#include "node/control/upgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why) __attribute__((noreturn));
static void fail(const char *why)
{
	fprintf(stderr, "\n*** command invariant violated: %s\n", why);
	abort();
}

static int fatal_calls;

static void fatal_record(void *ctx, const char *message)
{
	(void)ctx;
	(void)message;
	fatal_calls++;
}

static void must_apply(struct q53_fsm *b, struct command_payload p)
{
	int32_t code;
	uint8_t *out = NULL;
	size_t len = 0;

	if (b->apply(b, p.type, p.data, p.len, &code, &out, &len) != 0 ||
	    code != 0)
		fail("seed command refused");
	raft_free(out);
	command_payload_clear(&p);
}

/* The starting state, as snapshot bytes (built once). */
static uint8_t *seed_snap;
static size_t seed_len;

static void seed_state(void)
{
	static const char *const NS[] = {"ns1.example.net"};
	struct control_fsm *f;
	struct command_payload p;
	char err[1024];

	if (control_fsm_new(&f) != 0)
		fail("fsm");
	struct q53_fsm *b = control_fsm_base(f);
	struct command_set_node n = {.node_id = 1,
				     .raft_address = "tcp://a:1",
				     .site = "fra",
				     .site_region = "eu-central-1"};
	command_encode_set_node(&n, &p);
	must_apply(b, p);
	struct command_create_hosted_zone z = {.id = "Z0123456789ABC",
					       .name = "example.com",
					       .nameservers = NS,
					       .n_nameservers = 1,
					       .change_id = "C0"};
	command_encode_create_hosted_zone(&z, &p);
	must_apply(b, p);
	static const char HC[] =
	    "{\"IPAddress\": \"192.0.2.80\", \"Port\": 80, \"Type\": \"HTTP\"}";
	if (command_text_create_health_check("hc1", "r", HC, strlen(HC), 1, &p,
					     err, sizeof(err)) != 0)
		fail(err);
	must_apply(b, p);
	static const char BATCH[] =
	    "{\"Changes\": [{\"Action\": \"CREATE\", \"ResourceRecordSet\": "
	    "{\"Name\": \"www.example.com\", \"Type\": \"A\", \"TTL\": 60, "
	    "\"ResourceRecords\": [{\"Value\": \"192.0.2.1\"}]}}, {\"Action\": "
	    "\"CREATE\", \"ResourceRecordSet\": {\"Name\": "
	    "\"shop.example.com\", \"Type\": \"A\", \"TTL\": 60, "
	    "\"SetIdentifier\": \"p\", \"Failover\": \"PRIMARY\", "
	    "\"HealthCheckId\": \"hc1\", \"ResourceRecords\": [{\"Value\": "
	    "\"192.0.2.2\"}]}}]}";
	if (command_text_change_rrsets("Z0123456789ABC", "C1", BATCH,
				       strlen(BATCH), 2, &p, err,
				       sizeof(err)) != 0)
		fail(err);
	must_apply(b, p);
	if (b->snapshot(b, &seed_snap, &seed_len) != 0)
		fail("seed snapshot");
	control_fsm_free(f);
}

static void snapshot(struct q53_fsm *b, uint8_t **p, size_t *n)
{
	if (b->snapshot(b, p, n) != 0)
		fail("snapshot failed (not out of memory here)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_fsm *f, *g;
	struct control_upgrade *u;
	int32_t code = 0;
	uint8_t *out = NULL, *before, *after, *again;
	size_t out_len = 0, before_len, after_len, again_len;

	if (size < 1)
		return 0;
	if (seed_snap == NULL)
		seed_state();
	if (control_fsm_new(&f) != 0 || control_upgrade_new(f, &u) != 0)
		fail("new");
	control_upgrade_set_fatal(u, fatal_record, NULL);
	struct q53_fsm *fb = control_fsm_base(f);
	if (fb->restore(fb, seed_snap, seed_len) != 0)
		fail("seed restore");
	snapshot(fb, &before, &before_len);

	struct q53_fsm *b = control_upgrade_base(u);
	int calls = fatal_calls;
	int rv =
	    b->apply(b, data[0], data + 1, size - 1, &code, &out, &out_len);
	if (fatal_calls != calls) {
		/* A newer type or version: nothing done. */
		if (rv != Q53_ENOMEM || out != NULL)
			fail("a newer entry was applied");
	} else if (rv == 0) {
		struct command_result r;
		if (out == NULL || command_result_decode(out, out_len, &r) != 0)
			fail("undecodable result");
		if ((code != 0) != (r.error_name[0] != '\0'))
			fail("code and error name disagree");
		command_result_free(&r);
	} else if (rv != Q53_ENOMEM) {
		fail("apply returned neither 0 nor Q53_ENOMEM");
	}
	raft_free(out);
	snapshot(fb, &after, &after_len);
	if ((code != 0 || rv != 0) &&
	    (after_len != before_len || memcmp(after, before, after_len) != 0))
		fail("a rejected command changed the state");
	/* The state round-trips. */
	if (control_fsm_new(&g) != 0)
		fail("new");
	struct q53_fsm *gb = control_fsm_base(g);
	if (gb->restore(gb, after, after_len) != 0)
		fail("restore of a snapshot refused");
	snapshot(gb, &again, &again_len);
	if (again_len != after_len || memcmp(again, after, after_len) != 0)
		fail("snapshot, restore, snapshot: different bytes");
	raft_free(before);
	raft_free(after);
	raft_free(again);
	control_fsm_free(g);
	control_upgrade_free(u);
	control_fsm_free(f);
	return 0;
}
