/* libFuzzer target for the Raft log entry framing (node/raft/fsm_log.c):
 * the input is a sequence of entries, each as a little-endian u16 length
 * and that many bytes (the last one takes what is left), as a log written
 * by any release, or garbage, would hand them to the adapter. Each entry is
 * decoded and applied to the test counter FSM (tests/unit/support/
 * fsm_counter.c) through the adapter. Invariants:
 * - decode never crashes, hangs or leaks; apply fails only at an entry of a
 *   newer format (and from then on for good);
 * - an entry that opens yields exactly its count of commands, re-encodes to
 *   the same bytes, and applies with one result per command, seq counting
 *   them; an entry that does not open applies as one MALFORMED result;
 * - the state after all entries survives snapshot -> restore -> snapshot
 *   byte for byte.
 * Seeds: tests/fuzz/corpus/fsm_log/ (tests/fuzz/make_corpus_fsm_log.py).
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_fsm_log CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "node/raft/fsm_log.h"
#include "tests/unit/support/fsm_counter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 64

static void fail(const char *why, int rv)
{
	fprintf(stderr, "\n*** fsm_log invariant violated: %s (rv=%d)\n", why,
		rv);
	abort();
}

/* The adapter's snapshot as one buffer (what restore takes). */
static struct raft_buffer snapshot_one(struct q53_fsm_log *log)
{
	struct raft_buffer *bufs = NULL, out = {0};
	unsigned n = 0, i;
	size_t off = 0;

	if (log->raft_fsm.snapshot(&log->raft_fsm, &bufs, &n) != 0)
		fail("snapshot failed", 0);
	for (i = 0; i < n; i++)
		out.len += bufs[i].len;
	out.base = raft_malloc(out.len);
	if (out.base == NULL)
		fail("out of memory", 0);
	for (i = 0; i < n; i++) {
		memcpy((uint8_t *)out.base + off, bufs[i].base, bufs[i].len);
		off += bufs[i].len;
	}
	log->raft_fsm.snapshot_finalize(&log->raft_fsm, &bufs, &n);
	return out;
}

/* Re-encode the commands of an opened entry: the same bytes again. */
static void check_reencode(const struct raft_buffer *buf, unsigned count)
{
	struct raft_buffer frames[Q53_FSM_LOG_BATCH_MAX], again;
	struct q53_fsm_log_command cmd;
	struct q53_fsm_log_entry e;
	unsigned i, n = 0;
	int rv;

	if (q53_fsm_log_entry_open(buf, &e, NULL) != 0 || e.count != count)
		fail("entry opens differently the second time", 0);
	while ((rv = q53_fsm_log_entry_next(&e, &cmd)) == 0) {
		if (n >= count || q53_fsm_log_encode(&cmd, &frames[n]) != 0)
			fail("a decoded command does not encode", 0);
		n++;
	}
	if (rv != Q53_ENOENT || n != count)
		fail("entry yields a wrong number of commands", rv);
	rv = q53_fsm_log_encode_batch(frames, n, &again);
	if (rv != 0)
		fail("decoded commands do not make a batch", rv);
	/* a batch of one re-encodes as format 1 */
	if ((e.batch == (n > 1)) &&
	    (again.len != buf->len || memcmp(again.base, buf->base, buf->len)))
		fail("re-encoding changed the entry", 0);
	raft_free(again.base);
	for (i = 0; i < n; i++)
		raft_free(frames[i].base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct q53_fsm_counter counter, counter2;
	struct q53_fsm_log log, log2;
	struct q53_fsm_log_config config = {.max_sessions = 4};
	struct raft_buffer snap, snap2, restore_buf;
	uint64_t seq = 0;
	unsigned n_entries = 0;
	bool stopped = false;

	q53_fsm_counter_init(&counter);
	if (q53_fsm_log_init(&log, &counter.fsm, &config) != 0)
		fail("init", 0);
	while (size > 0 && n_entries < MAX_ENTRIES) {
		struct raft_buffer buf;
		struct q53_fsm_log_entry e;
		size_t len;
		unsigned format;
		void *result = NULL;
		int open_rv, rv;

		n_entries++;
		if (size >= 2) {
			len = (size_t)data[0] | (size_t)data[1] << 8;
			data += 2;
			size -= 2;
		} else {
			len = size;
		}
		if (len > size)
			len = size;
		/* raft hands entries in 8-aligned raft_malloc'd buffers */
		buf.len = len;
		buf.base = raft_malloc(len > 0 ? len : 1);
		if (buf.base == NULL)
			fail("out of memory", 0);
		memcpy(buf.base, data, len);
		data += len;
		size -= len;

		open_rv = q53_fsm_log_entry_open(&buf, &e, &format);
		if (open_rv != 0 && open_rv != Q53_EMALF &&
		    open_rv != Q53_ERANGE)
			fail("open: unexpected error", open_rv);
		if (open_rv == Q53_ERANGE && format <= Q53_FSM_LOG_FORMAT_MAX)
			fail("ERANGE for a known format", (int)format);
		if (open_rv == 0) {
			if (e.count == 0 || e.count > Q53_FSM_LOG_BATCH_MAX)
				fail("count out of range", (int)e.count);
			check_reencode(&buf, e.count);
		}
		rv = log.raft_fsm.apply(&log.raft_fsm, &buf, &result);
		raft_free(buf.base);
		if (stopped || open_rv == Q53_ERANGE) {
			if (rv == 0 || q53_fsm_log_newer_format(&log) == 0)
				fail("applied past an entry of a newer format",
				     rv);
			stopped = true;
			continue;
		}
		if (rv != 0)
			fail("apply failed", rv);
		{
			const struct q53_fsm_log_result *res = result;
			unsigned want = open_rv == 0 ? e.count : 1, i;

			if (res->n_results != want || res->results != res)
				fail("wrong number of results",
				     (int)res->n_results);
			if (open_rv != 0 &&
			    res->status != Q53_FSM_LOG_MALFORMED)
				fail("a bad entry was not MALFORMED", 0);
			for (i = 0; i < want; i++) {
				if (res->results[i].seq != ++seq)
					fail("seq does not count commands", 0);
				if (open_rv == 0 && res->results[i].status ==
							Q53_FSM_LOG_MALFORMED)
					fail("a good entry was MALFORMED", 0);
				/* bodies are readable (ASan) */
				if (res->results[i].len > 0 &&
				    res->results[i].bytes == NULL)
					fail("result body missing", 0);
				if (res->results[i].len > 0)
					(void)((volatile const uint8_t *)res
						   ->results[i]
						   .bytes)[res->results[i].len -
							   1];
			}
		}
	}

	if (!stopped) {
		snap = snapshot_one(&log);
		q53_fsm_counter_init(&counter2);
		if (q53_fsm_log_init(&log2, &counter2.fsm, &config) != 0)
			fail("init", 0);
		restore_buf.len = snap.len;
		restore_buf.base = raft_malloc(snap.len);
		if (restore_buf.base == NULL)
			fail("out of memory", 0);
		memcpy(restore_buf.base, snap.base, snap.len);
		if (log2.raft_fsm.restore(&log2.raft_fsm, &restore_buf) != 0)
			fail("restore of a snapshot failed", 0);
		snap2 = snapshot_one(&log2);
		if (snap2.len != snap.len ||
		    memcmp(snap2.base, snap.base, snap.len) != 0)
			fail("snapshot -> restore -> snapshot differs", 0);
		raft_free(snap.base);
		raft_free(snap2.base);
		q53_fsm_log_close(&log2);
		q53_fsm_counter_close(&counter2);
	}
	q53_fsm_log_close(&log);
	q53_fsm_counter_close(&counter);
	return 0;
}
