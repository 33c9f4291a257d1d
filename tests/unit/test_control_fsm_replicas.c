/* Determinism of the control FSM across replicas (house style #14): the same
 * seeded random command sequence (valid, invalid and undecodable commands)
 * fed to three replicas (one of which restarts from a snapshot midway)
 * gives the same result for every command and the same snapshot bytes; and
 * a 3-node raft_fixture cluster with the fsm_log adapter around the FSM,
 * with leaders killed along the way and clients retrying, ends with every
 * node's snapshot equal to a replica that applied the sequence directly
 * (exactly once, in order). Commands come typed (parsed as the serving
 * node parses them) where their text parses, in the previous release's
 * text form otherwise and for zone files; every replica applies through
 * the upgrade module, as the runtime does. */
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
#include <raft/fixture.h>

#include "node/common/errcode.h"
#include "node/control/command.h"
#include "node/control/command_legacy.h"
#include "node/control/command_text.h"
#include "node/control/control_fsm.h"
#include "node/control/upgrade.h"
#include "node/raft/fsm_log.h"

#define N_ZONES	 4
#define N_CHECKS 6
#define N_NODES	 5

/* --- seeded command generator --- */

struct gen {
	uint64_t s;
	unsigned changes; /* change ids handed out */
	uint64_t time_ms;
};

static uint64_t next(struct gen *g)
{
	/* xorshift64* */
	g->s ^= g->s >> 12;
	g->s ^= g->s << 25;
	g->s ^= g->s >> 27;
	return g->s * 0x2545F4914F6CDD1Dull;
}

static unsigned pick(struct gen *g, unsigned n)
{
	return (unsigned)(next(g) % n);
}

static void zone_id(unsigned k, char *out, size_t len)
{
	snprintf(out, len, "ZQUORUMFIFTY%02u", k);
}

static void change_id(struct gen *g, char *out, size_t len)
{
	/* Now and then an id already used. */
	unsigned n = g->changes > 0 && pick(g, 10) == 0 ? pick(g, g->changes)
							: g->changes++;

	snprintf(out, len, "C%u", n);
}

static void batch_json(struct gen *g, unsigned k, char *out, size_t len)
{
	static const char *const actions[] = {"CREATE", "DELETE", "UPSERT"};
	unsigned n = 1 + pick(g, 3);
	size_t o;

	o = (size_t)snprintf(out, len, "{\"Comment\": \"b%u\", \"Changes\": [",
			     pick(g, 100));
	for (unsigned i = 0; i < n; i++)
		o += (size_t)snprintf(
		    out + o, len - o,
		    "%s{\"Action\": \"%s\", \"ResourceRecordSet\": {\"Name\": "
		    "\"h%u.z%u.example\", \"Type\": \"A\", \"TTL\": %u, "
		    "\"ResourceRecords\": [{\"Value\": \"192.0.2.%u\"}]}}",
		    i ? ", " : "", actions[pick(g, 3)], pick(g, 4), k,
		    pick(g, 2) ? 300 : 60, pick(g, 3));
	snprintf(out + o, len - o, "]}");
	if (pick(g, 40) == 0) /* cut short: not JSON */
		out[pick(g, (unsigned)strlen(out))] = '\0';
}

static void check_json(struct gen *g, char *out, size_t len)
{
	if (pick(g, 5) == 0) {
		unsigned a = pick(g, N_CHECKS), b = pick(g, N_CHECKS);

		snprintf(out, len,
			 "{\"Type\": \"CALCULATED\", \"ChildHealthChecks\": "
			 "[\"hc%u\", \"hc%u\"], \"HealthThreshold\": %u}",
			 a, b, pick(g, 3));
		return;
	}
	snprintf(out, len,
		 "{\"IPAddress\": \"192.0.2.%u\", \"Port\": %u, \"Type\": "
		 "\"TCP\", \"Disabled\": %s}",
		 pick(g, 4), 80 + pick(g, 3), pick(g, 8) ? "false" : "true");
}

/* The next command, into *p (raft_malloc'd). */
static void gen_command(struct gen *g, struct command_payload *p)
{
	char zid[32], cid[32], hid[16], text[2048];
	unsigned r = pick(g, 100), k = pick(g, N_ZONES);
	int rv;

	g->time_ms += 1 + pick(g, 1000);
	zone_id(k, zid, sizeof(zid));
	snprintf(hid, sizeof(hid), "hc%u", pick(g, N_CHECKS));
	if (r < 8) {
		static const char *const ns[] = {"ns1.q53.test",
						 "ns2.q53.test"};
		char name[32];
		/* Sometimes a name another id holds already. */
		snprintf(name, sizeof(name), "z%u.example",
			 pick(g, 6) ? k : pick(g, N_ZONES));
		change_id(g, cid, sizeof(cid));
		struct command_create_hosted_zone c = {
		    .id = zid,
		    .name = name,
		    .caller_reference = pick(g, 2) ? zid : NULL,
		    .nameservers = ns,
		    .n_nameservers = 1 + pick(g, 2),
		    .change_id = pick(g, 2) ? cid : NULL,
		    .time_ms = g->time_ms,
		};
		rv = command_encode_create_hosted_zone(&c, p);
	} else if (r < 11) {
		change_id(g, cid, sizeof(cid));
		struct command_delete_hosted_zone c = {
		    .id = zid, .change_id = cid, .time_ms = g->time_ms};
		rv = command_encode_delete_hosted_zone(&c, p);
	} else if (r < 44) {
		change_id(g, cid, sizeof(cid));
		batch_json(g, k, text, sizeof(text));
		char err[4096];
		rv =
		    command_text_change_rrsets(zid, cid, text, strlen(text),
					       g->time_ms, p, err, sizeof(err));
		if (rv == Q53_EINVAL) {
			struct command_legacy_change_rrsets c = {
			    .zone_id = zid,
			    .change_id = cid,
			    .batch_json = text,
			    .batch_len = strlen(text),
			    .time_ms = g->time_ms,
			};
			rv = command_legacy_encode_change_rrsets(&c, p);
		}
	} else if (r < 47) {
		snprintf(text, sizeof(text), "h%u 60 IN A 192.0.2.%u\n%s",
			 pick(g, 4), pick(g, 300),
			 pick(g, 2) ? "mail 60 IN AAAA 2001:db8::1\n" : "");
		struct command_legacy_import_zone c = {.zone_id = zid,
						       .text = text,
						       .len = strlen(text),
						       .time_ms = g->time_ms};
		rv = command_legacy_encode_import_zone(&c, p);
	} else if (r < 53) {
		check_json(g, text, sizeof(text));
		char err[512];
		const char *caller = pick(g, 2) ? hid : NULL;
		rv = command_text_create_health_check(hid, caller, text,
						      strlen(text), g->time_ms,
						      p, err, sizeof(err));
		if (rv == Q53_EINVAL) {
			struct command_legacy_health_check c = {
			    .id = hid,
			    .caller_reference = caller,
			    .config_json = text,
			    .config_len = strlen(text),
			    .time_ms = g->time_ms,
			};
			rv = command_legacy_encode_create_health_check(&c, p);
		}
	} else if (r < 56) {
		check_json(g, text, sizeof(text));
		char err[512];
		uint64_t version = pick(g, 4);
		rv = command_text_update_health_check(hid, version, text,
						      strlen(text), g->time_ms,
						      p, err, sizeof(err));
		if (rv == Q53_EINVAL) {
			struct command_legacy_health_check c = {
			    .id = hid,
			    .version = version,
			    .config_json = text,
			    .config_len = strlen(text),
			    .time_ms = g->time_ms,
			};
			rv = command_legacy_encode_update_health_check(&c, p);
		}
	} else if (r < 58) {
		struct command_delete_health_check c = {.id = hid,
							.time_ms = g->time_ms};
		rv = command_encode_delete_health_check(&c, p);
	} else if (r < 84) {
		struct command_health_vote c = {
		    .member_id = 1 + pick(g, N_NODES),
		    .check_id = hid,
		    .healthy = pick(g, 3) != 0,
		    .reason = pick(g, 2) ? "ok" : "timeout",
		    .time_ms = g->time_ms,
		};
		rv = command_encode_health_vote(&c, p);
	} else if (r < 90) {
		char raft[32];
		snprintf(raft, sizeof(raft), "tcp://10.0.0.%u:7000",
			 pick(g, 9));
		struct command_set_node c = {
		    .node_id = pick(g, N_NODES + 1), /* 0 is refused */
		    .raft_address = raft,
		    .name = pick(g, 2) ? "n" : NULL,
		    .time_ms = g->time_ms,
		};
		rv = command_encode_set_node(&c, p);
	} else if (r < 94) {
		struct command_remove_node c = {.node_id = 1 + pick(g, N_NODES),
						.time_ms = g->time_ms};
		rv = command_encode_remove_node(&c, p);
	} else {
		/* Garbage of any type this release knows (a newer type or
		 * command_version stops the node: test_control_fsm.c). */
		size_t len = pick(g, 40);

		p->type = (uint16_t)pick(g, COMMAND_TYPE_MAX + 1);
		p->len = len;
		p->data = len > 0 ? raft_malloc(len) : NULL;
		for (size_t i = 0; i < len; i++)
			p->data[i] = (uint8_t)next(g);
		if (command_type_versioned(p->type) && len >= 2 &&
		    p->data[0] == 0x08)
			p->data[1] = COMMAND_VERSION;
		rv = 0;
	}
	assert_int_equal(rv, 0);
}

/* --- helpers --- */

struct snap {
	uint8_t *p;
	size_t len;
};

/* Applies through the upgrade module, as the runtime does. */
static int apply_up(struct control_fsm *f, uint16_t type,
		    const uint8_t *payload, size_t len, int32_t *code,
		    uint8_t **out, size_t *out_len)
{
	struct control_upgrade *u;
	int rv;

	assert_int_equal(control_upgrade_new(f, &u), 0);
	struct q53_fsm *b = control_upgrade_base(u);
	rv = b->apply(b, type, payload, len, code, out, out_len);
	control_upgrade_free(u);
	return rv;
}

static struct snap snap(struct control_fsm *f)
{
	struct q53_fsm *b = control_fsm_base(f);
	struct snap s;

	assert_int_equal(b->snapshot(b, &s.p, &s.len), 0);
	return s;
}

static void snap_equal(struct snap a, struct snap b)
{
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.p, b.p, a.len);
}

/* --- replicas fed directly --- */

#define REPLICAS 3

static void run_replicas(uint64_t seed, unsigned n_commands)
{
	struct control_fsm *r[REPLICAS];
	struct gen g = {.s = seed};
	unsigned restart_at = n_commands / 2, applied = 0, rejected = 0;

	for (int i = 0; i < REPLICAS; i++)
		assert_int_equal(control_fsm_new(&r[i]), 0);
	for (unsigned n = 0; n < n_commands; n++) {
		struct command_payload p;
		uint8_t *out[REPLICAS];
		size_t len[REPLICAS];
		int32_t code[REPLICAS];

		if (n == restart_at) {
			/* Replica 2 restarts from replica 0's snapshot. */
			struct snap s = snap(r[0]);
			struct q53_fsm *b;

			control_fsm_free(r[2]);
			assert_int_equal(control_fsm_new(&r[2]), 0);
			b = control_fsm_base(r[2]);
			assert_int_equal(b->restore(b, s.p, s.len), 0);
			raft_free(s.p);
		}
		gen_command(&g, &p);
		for (int i = 0; i < REPLICAS; i++)
			assert_int_equal(apply_up(r[i], p.type, p.data, p.len,
						  &code[i], &out[i], &len[i]),
					 0);
		for (int i = 1; i < REPLICAS; i++) {
			assert_int_equal(code[i], code[0]);
			assert_int_equal(len[i], len[0]);
			assert_memory_equal(out[i], out[0], len[0]);
		}
		if (code[0] == 0)
			applied++;
		else
			rejected++;
		for (int i = 0; i < REPLICAS; i++)
			raft_free(out[i]);
		command_payload_clear(&p);
	}
	struct snap s0 = snap(r[0]);
	for (int i = 1; i < REPLICAS; i++) {
		struct snap si = snap(r[i]);

		snap_equal(s0, si);
		raft_free(si.p);
	}
	/* The mix exercised both sides. */
	assert_true(applied > n_commands / 10);
	assert_true(rejected > n_commands / 10);
	assert_true(control_fsm_health_check_count(r[0]) > 0);
	raft_free(s0.p);
	for (int i = 0; i < REPLICAS; i++)
		control_fsm_free(r[i]);
}

static void test_replicas_agree(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 6; seed++)
		run_replicas(seed * 0x9E3779B97F4A7C15ull, 1500);
}

/* --- a raft_fixture cluster --- */

#define SERVERS	    3
#define CLIENT_ID   42
#define N_RAFT_CMDS 300

struct node_fsm {
	struct control_fsm *fsm;
	struct q53_fsm proxy; /* counts restores, delegates the rest */
	unsigned restores;
	struct q53_fsm_log log;
};

static int proxy_apply(struct q53_fsm *fsm, uint16_t type,
		       const uint8_t *payload, size_t len, int32_t *code,
		       uint8_t **out, size_t *out_len)
{
	struct node_fsm *n = fsm->data;

	return apply_up(n->fsm, type, payload, len, code, out, out_len);
}

static int proxy_snapshot(struct q53_fsm *fsm, uint8_t **buf, size_t *len)
{
	struct node_fsm *n = fsm->data;
	struct q53_fsm *b = control_fsm_base(n->fsm);

	return b->snapshot(b, buf, len);
}

static int proxy_restore(struct q53_fsm *fsm, const uint8_t *buf, size_t len)
{
	struct node_fsm *n = fsm->data;
	struct q53_fsm *b = control_fsm_base(n->fsm);

	n->restores++;
	return b->restore(b, buf, len);
}

/* One attempt of one request; freed by whoever sees it last. */
struct attempt {
	struct raft_apply req;
	bool done;
	bool abandoned;
	int status;
	enum q53_fsm_log_status log_status;
};

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct attempt *a = req->data;

	a->done = true;
	a->status = status;
	if (status == 0)
		a->log_status =
		    ((const struct q53_fsm_log_result *)result)->status;
	if (a->abandoned)
		free(a);
}

/* Submits cmd to the current leader and steps until it is answered: 0, or
 * -1 when the attempt should be retried (no leader, leader lost). */
static int submit(struct raft_fixture *f, const struct q53_fsm_log_command *cmd,
		  int *duplicates)
{
	unsigned leader = raft_fixture_leader_index(f);
	struct raft_buffer buf;
	struct attempt *a;
	int rv;

	if (leader == SERVERS) {
		raft_fixture_step_until_has_leader(f, 10000);
		return -1;
	}
	assert_int_equal(q53_fsm_log_encode(cmd, &buf), 0);
	a = calloc(1, sizeof(*a));
	assert_non_null(a);
	a->req.data = a;
	rv =
	    raft_apply(raft_fixture_get(f, leader), &a->req, &buf, 1, apply_cb);
	if (rv != 0) {
		raft_free(buf.base);
		free(a);
		raft_fixture_step_n(f, 10);
		return -1;
	}
	for (unsigned steps = 0; !a->done && steps < 5000; steps++) {
		raft_fixture_step(f);
		if (raft_fixture_leader_index(f) != leader)
			break;
	}
	if (!a->done) {
		/* No answer: the client retries elsewhere with the same
		 * request id; this attempt may still commit. */
		a->abandoned = true;
		return -1;
	}
	rv = a->status == 0 ? 0 : -1;
	if (rv == 0) {
		assert_true(a->log_status == Q53_FSM_LOG_APPLIED ||
			    a->log_status == Q53_FSM_LOG_DUPLICATE);
		if (a->log_status == Q53_FSM_LOG_DUPLICATE)
			(*duplicates)++;
	}
	free(a);
	return rv;
}

static void test_raft_cluster(void **state)
{
	struct raft_fixture f;
	struct raft_configuration conf;
	struct node_fsm nodes[SERVERS];
	struct control_fsm *ref;
	struct gen g = {.s = 0xC0FFEEull};
	unsigned killed = SERVERS;
	int duplicates = 0, retries = 0;

	(void)state;
	memset(&f, 0, sizeof(f)); /* raft 0.15 reads it before setting it */
	assert_int_equal(raft_fixture_initialize(&f), 0);
	for (int i = 0; i < SERVERS; i++) {
		assert_int_equal(control_fsm_new(&nodes[i].fsm), 0);
		nodes[i].restores = 0;
		nodes[i].proxy = (struct q53_fsm){.data = &nodes[i],
						  .apply = proxy_apply,
						  .snapshot = proxy_snapshot,
						  .restore = proxy_restore};
		assert_int_equal(
		    q53_fsm_log_init(&nodes[i].log, &nodes[i].proxy, NULL), 0);
		assert_int_equal(raft_fixture_grow(&f, &nodes[i].log.raft_fsm),
				 0);
		/* Snapshots often, so that a revived node may catch up
		 * through one (restore). */
		raft_set_snapshot_threshold(raft_fixture_get(&f, (unsigned)i),
					    32);
		raft_set_snapshot_trailing(raft_fixture_get(&f, (unsigned)i),
					   8);
	}
	assert_int_equal(raft_fixture_configuration(&f, SERVERS, &conf), 0);
	assert_int_equal(raft_fixture_bootstrap(&f, &conf), 0);
	raft_configuration_close(&conf);
	assert_int_equal(raft_fixture_start(&f), 0);
	assert_true(raft_fixture_step_until_has_leader(&f, 10000));
	assert_int_equal(control_fsm_new(&ref), 0);

	for (unsigned n = 0; n < N_RAFT_CMDS; n++) {
		struct command_payload p;
		struct q53_fsm_log_command cmd;
		int32_t code;
		uint8_t *out;
		size_t len;

		/* Leader kills: kill, revive, kill another, revive. */
		if (n == 80 || n == 200) {
			killed = raft_fixture_leader_index(&f);
			assert_true(killed < SERVERS);
			raft_fixture_kill(&f, killed);
		}
		if ((n == 150 || n == 260) && killed < SERVERS) {
			raft_fixture_revive(&f, killed);
			killed = SERVERS;
		}
		gen_command(&g, &p);
		cmd.type = p.type;
		cmd.client_id = CLIENT_ID;
		cmd.request_id = n + 1;
		cmd.payload = p.data;
		cmd.len = p.len;
		for (int tries = 0; submit(&f, &cmd, &duplicates) != 0;
		     tries++) {
			assert_true(tries < 50);
			retries++;
		}
		/* The reference applies it directly, once. */
		assert_int_equal(
		    apply_up(ref, p.type, p.data, p.len, &code, &out, &len), 0);
		raft_free(out);
		command_payload_clear(&p);
	}
	/* Everyone alive, everyone caught up. */
	if (killed < SERVERS)
		raft_fixture_revive(&f, killed);
	{
		unsigned leader;

		assert_true(raft_fixture_step_until_has_leader(&f, 10000));
		leader = raft_fixture_leader_index(&f);
		assert_true(raft_fixture_step_until_applied(
		    &f, SERVERS,
		    raft_last_applied(raft_fixture_get(&f, leader)), 20000));
	}
	struct snap want = snap(ref);
	unsigned restores = 0;
	for (int i = 0; i < SERVERS; i++) {
		restores += nodes[i].restores;
		struct snap s = snap(nodes[i].fsm);

		snap_equal(want, s);
		raft_free(s.p);
		assert_int_equal(
		    q53_fsm_log_last_request(&nodes[i].log, CLIENT_ID),
		    N_RAFT_CMDS);
	}
	assert_true(control_fsm_applied(ref) > N_RAFT_CMDS / 10);
	print_message("raft cluster: %u commands, %d retries, %d answered "
		      "as duplicates, %u snapshot restores, FSM index %llu\n",
		      N_RAFT_CMDS, retries, duplicates, restores,
		      (unsigned long long)control_fsm_applied(ref));
	/* A revived node caught up from a snapshot at least once. */
	assert_true(restores > 0);
	raft_free(want.p);
	control_fsm_free(ref);
	raft_fixture_close(&f);
	for (int i = 0; i < SERVERS; i++) {
		q53_fsm_log_close(&nodes[i].log);
		control_fsm_free(nodes[i].fsm);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replicas_agree),
	    cmocka_unit_test(test_raft_cluster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
