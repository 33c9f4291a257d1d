/* libFuzzer target for snapshots: arbitrary bytes, as a snapshot file or an
 * InstallSnapshot from a peer would deliver them, go to restore through the
 * upgrade module (FsmSnapshot format 2, and format 1 of the previous
 * release converted; a newer format only calls the fatal hook, which
 * records here). It must never crash or leak; a refused snapshot leaves
 * the FSM as it was; an accepted one snapshots, restores into a fresh FSM
 * and snapshots again to the same bytes, and every zone it holds builds.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_snapshot_restore CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/control_fsm.h"
#include "node/control/upgrade.h"
#include "node/control/zone_store.h"
#include "node/zone/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why) __attribute__((noreturn));
static void fail(const char *why)
{
	fprintf(stderr, "\n*** snapshot invariant violated: %s\n", why);
	abort();
}

static void fatal_record(void *ctx, const char *message)
{
	(void)ctx;
	(void)message;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_fsm *f, *g;
	struct control_upgrade *u;
	uint8_t *empty, *s1, *s2;
	size_t empty_len, l1, l2;

	if (control_fsm_new(&f) != 0 || control_upgrade_new(f, &u) != 0)
		fail("new");
	control_upgrade_set_fatal(u, fatal_record, NULL);
	struct q53_fsm *fb = control_fsm_base(f);
	struct q53_fsm *b = control_upgrade_base(u);
	if (fb->snapshot(fb, &empty, &empty_len) != 0)
		fail("snapshot");
	int rv = b->restore(b, data, size);
	if (fb->snapshot(fb, &s1, &l1) != 0)
		fail("snapshot");
	if (rv != 0) {
		if (rv != Q53_EMALF && rv != Q53_ENOMEM)
			fail("restore returned another error");
		if (l1 != empty_len || memcmp(s1, empty, l1) != 0)
			fail("a refused snapshot changed the state");
	} else {
		if (control_fsm_new(&g) != 0)
			fail("new");
		struct q53_fsm *gb = control_fsm_base(g);
		if (gb->restore(gb, s1, l1) != 0)
			fail("the FSM refused its own snapshot");
		if (gb->snapshot(gb, &s2, &l2) != 0)
			fail("snapshot");
		if (l2 != l1 || memcmp(s1, s2, l1) != 0)
			fail("snapshot, restore, snapshot: different bytes");
		raft_free(s2);
		control_fsm_free(g);
		struct zone_store_info info;
		const struct zone_store *st = control_fsm_zone_store(f);
		for (size_t i = 0; zone_store_get_at(st, i, &info) == 0; i++) {
			struct zone *z;
			char err[512];
			int brv = control_fsm_build_zone(f, info.id, &z, err,
							 sizeof(err));
			if (brv == 0)
				zone_release(z);
			else if (brv != Q53_ENOMEM)
				fail("a restored zone does not build");
		}
	}
	raft_free(empty);
	raft_free(s1);
	control_upgrade_free(u);
	control_fsm_free(f);
	return 0;
}
