#include "node/runtime/proposal_batch.h"

#include <assert.h>
#include <stdlib.h>

#include "node/common/errcode.h"

struct proposal_batch_item {
	struct raft_buffer frame;
	proposal_batch_done done;
	void *arg;
	struct proposal_batch_item *next;
};

/* One raft_apply of the queue: the items it carries, in frame order. */
struct proposal_batch_entry {
	struct raft_apply req;
	struct proposal_batch *q;
	struct proposal_batch_entry *prev, *next; /* q->inflight */
	unsigned count;
	struct proposal_batch_item *items[];
};

void proposal_batch_init(struct proposal_batch *q, struct raft *raft)
{
	*q = (struct proposal_batch){.raft = raft};
}

int proposal_batch_add(struct proposal_batch *q, struct raft_buffer frame,
		       proposal_batch_done done, void *arg)
{
	struct proposal_batch_item *it = malloc(sizeof(*it));

	if (it == NULL) {
		raft_free(frame.base);
		return Q53_ENOMEM;
	}
	*it = (struct proposal_batch_item){
	    .frame = frame, .done = done, .arg = arg};
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n_waiting++;
	return 0;
}

static void entry_unlink(struct proposal_batch *q,
			 struct proposal_batch_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		q->inflight = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	q->n_inflight--;
}

static void entry_free(struct proposal_batch_entry *e)
{
	unsigned i;

	for (i = 0; i < e->count; i++)
		free(e->items[i]);
	free(e);
}

static void entry_applied(struct raft_apply *req, int status, void *result)
{
	struct proposal_batch_entry *e = req->data;
	const struct q53_fsm_log_result *res = result;
	unsigned i;

	entry_unlink(e->q, e);
	for (i = 0; i < e->count; i++) {
		const struct q53_fsm_log_result *mine = NULL;

		if (status == 0)
			/* a MALFORMED entry has one result for all */
			mine =
			    res->n_results == e->count ? &res->results[i] : res;
		e->items[i]->done(e->items[i]->arg, status, mine);
	}
	entry_free(e);
}

/* Take up to the limits from the head of the queue into one entry. */
static struct proposal_batch_entry *entry_take(struct proposal_batch *q)
{
	struct proposal_batch_item *it;
	struct proposal_batch_entry *e;
	unsigned n = 0, i;
	size_t bytes = 0;

	for (it = q->head; it != NULL && n < PROPOSAL_BATCH_MAX_COMMANDS;
	     it = it->next) {
		if (n > 0 && bytes + it->frame.len > PROPOSAL_BATCH_MAX_BYTES)
			break;
		bytes += it->frame.len;
		n++;
	}
	e = malloc(sizeof(*e) + n * sizeof(e->items[0]));
	if (e == NULL)
		return NULL;
	*e = (struct proposal_batch_entry){.q = q, .count = n};
	e->req.data = e;
	for (i = 0; i < n; i++) {
		it = q->head;
		q->head = it->next;
		it->next = NULL;
		e->items[i] = it;
	}
	if (q->head == NULL)
		q->tail = NULL;
	q->n_waiting -= n;
	return e;
}

static void entry_fail(struct proposal_batch_entry *e, int status)
{
	unsigned i;

	for (i = 0; i < e->count; i++)
		e->items[i]->done(e->items[i]->arg, status, NULL);
	entry_free(e);
}

/* The entry's frames as one raft buffer: the frame itself when alone, a
 * format-2 batch otherwise. The frames are consumed either way. */
static int entry_encode(struct proposal_batch_entry *e, struct raft_buffer *buf)
{
	struct raft_buffer *frames;
	unsigned i;
	int rv;

	if (e->count == 1) {
		*buf = e->items[0]->frame;
		e->items[0]->frame.base = NULL;
		return 0;
	}
	frames = malloc(e->count * sizeof(*frames));
	if (frames == NULL) {
		rv = Q53_ENOMEM;
	} else {
		for (i = 0; i < e->count; i++)
			frames[i] = e->items[i]->frame;
		rv = q53_fsm_log_encode_batch(frames, e->count, buf);
		free(frames);
	}
	for (i = 0; i < e->count; i++) {
		raft_free(e->items[i]->frame.base);
		e->items[i]->frame.base = NULL;
	}
	return rv;
}

void proposal_batch_flush(struct proposal_batch *q)
{
	while (q->head != NULL && q->n_inflight < PROPOSAL_BATCH_MAX_INFLIGHT) {
		struct proposal_batch_entry *e = entry_take(q);
		struct raft_buffer buf;
		int rv;

		if (e == NULL)
			return; /* out of memory: the next turn tries again */
		rv = entry_encode(e, &buf);
		if (rv != 0) {
			entry_fail(e, rv == Q53_ENOMEM ? RAFT_NOMEM
						       : RAFT_INVALID);
			continue;
		}
		rv = raft_apply(q->raft, &e->req, &buf, 1, entry_applied);
		if (rv != 0) {
			raft_free(buf.base);
			entry_fail(e, rv);
			continue;
		}
		e->next = q->inflight;
		if (q->inflight != NULL)
			q->inflight->prev = e;
		q->inflight = e;
		q->n_inflight++;
		q->entries++;
		q->commands += e->count;
	}
}

void proposal_batch_fail_waiting(struct proposal_batch *q, int status)
{
	struct proposal_batch_item *it;

	while ((it = q->head) != NULL) {
		q->head = it->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->n_waiting--;
		raft_free(it->frame.base);
		it->done(it->arg, status, NULL);
		free(it);
	}
}

void proposal_batch_close(struct proposal_batch *q)
{
	struct proposal_batch_item *it;
	struct proposal_batch_entry *e;

	while ((it = q->head) != NULL) {
		q->head = it->next;
		raft_free(it->frame.base);
		free(it);
	}
	q->tail = NULL;
	q->n_waiting = 0;
	while ((e = q->inflight) != NULL) {
		entry_unlink(q, e);
		entry_free(e);
	}
}
