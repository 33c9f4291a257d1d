#include "node/raft/fsm_log.h"

#include <assert.h>
#include <endian.h>
#include <stdbool.h>
#include <string.h>

#include "node/common/errcode.h"

/* Snapshot: this header, the sessions, the length of the FSM's own
 * snapshot, then that snapshot (a second raft buffer, not copied). */
#define SNAPSHOT_MAGIC	0x46333551u /* "Q53F" little-endian */
#define SNAPSHOT_FORMAT 1u
#define SESSION_FIXED	40 /* client, request, seq, code+pad, len */
#define MIN_SESSION_CAP 8

struct q53_fsm_log_session {
	uint64_t client_id;
	uint64_t request_id; /* last applied */
	uint64_t seq;	     /* log->seq when it was applied */
	int32_t code;	     /* its result, for a retry */
	uint8_t *bytes;	     /* raft_malloc'd, NULL when len == 0 */
	size_t len;
};

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* --- bounded reader with a sticky error (house style #7) ---------------- */

struct reader {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *read_bytes(struct reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static uint64_t read_u64(struct reader *r)
{
	const uint8_t *p = read_bytes(r, 8);
	uint64_t v = 0;

	if (p != NULL)
		memcpy(&v, p, 8);
	return le64toh(v);
}

static uint32_t read_u32(struct reader *r)
{
	const uint8_t *p = read_bytes(r, 4);
	uint32_t v = 0;

	if (p != NULL)
		memcpy(&v, p, 4);
	return le32toh(v);
}

static uint16_t read_u16(struct reader *r)
{
	const uint8_t *p = read_bytes(r, 2);
	uint16_t v = 0;

	if (p != NULL)
		memcpy(&v, p, 2);
	return le16toh(v);
}

/* Skip padding up to `to` bytes, all of which must be zero. */
static void read_zeros(struct reader *r, size_t n)
{
	const uint8_t *p = read_bytes(r, n);
	size_t i;

	for (i = 0; p != NULL && i < n; i++)
		if (p[i] != 0)
			r->bad = true;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
	return p + 8;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
	return p + 4;
}

static uint8_t *put_u16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
	return p + 2;
}

/* --- framing ---------------------------------------------------------------
 */

int q53_fsm_log_encode(const struct q53_fsm_log_command *cmd,
		       struct raft_buffer *buf)
{
	size_t total;
	uint8_t *p;

	if (cmd->len > Q53_FSM_LOG_PAYLOAD_MAX ||
	    (cmd->len > 0 && cmd->payload == NULL) ||
	    (cmd->client_id != 0 && cmd->request_id == 0))
		return Q53_EINVAL;
	total = Q53_FSM_LOG_HEADER_SIZE + pad8(cmd->len);
	buf->base = raft_malloc(total);
	if (buf->base == NULL)
		return Q53_ENOMEM;
	buf->len = total;
	p = buf->base;
	*p++ = Q53_FSM_LOG_FORMAT;
	*p++ = 0;
	p = put_u16(p, cmd->type);
	p = put_u32(p, (uint32_t)cmd->len);
	p = put_u64(p, cmd->client_id);
	p = put_u64(p, cmd->request_id);
	if (cmd->len > 0)
		memcpy(p, cmd->payload, cmd->len);
	memset(p + cmd->len, 0, pad8(cmd->len) - cmd->len);
	return 0;
}

/* One format-1 frame from r (its format byte already checked by the
 * caller or checked here); cmd->payload points into the frame. */
static int read_frame(struct reader *r, struct q53_fsm_log_command *cmd)
{
	const uint8_t *head = read_bytes(r, 2);
	size_t len;

	if (head == NULL)
		return Q53_EMALF;
	if (head[0] > Q53_FSM_LOG_FORMAT_MAX)
		return Q53_ERANGE;
	if (head[0] != Q53_FSM_LOG_FORMAT || head[1] != 0)
		return Q53_EMALF;
	cmd->type = read_u16(r);
	len = read_u32(r);
	cmd->client_id = read_u64(r);
	cmd->request_id = read_u64(r);
	cmd->len = len;
	cmd->payload = read_bytes(r, len);
	read_zeros(r, pad8(len) - len);
	if (r->bad || (cmd->client_id != 0 && cmd->request_id == 0))
		return Q53_EMALF;
	if (len == 0)
		cmd->payload = NULL;
	return 0;
}

int q53_fsm_log_decode(const struct raft_buffer *buf,
		       struct q53_fsm_log_command *cmd)
{
	struct reader r = {.p = buf->base, .left = buf->len};
	int rv;

	if (buf->base == NULL)
		return Q53_EMALF;
	rv = read_frame(&r, cmd);
	if (rv == 0 && r.left != 0)
		rv = Q53_EMALF;
	return rv;
}

int q53_fsm_log_encode_batch(const struct raft_buffer *frames, unsigned n,
			     struct raft_buffer *buf)
{
	struct q53_fsm_log_command cmd;
	size_t total = 0;
	unsigned i;
	uint8_t *p;

	if (n == 0 || n > Q53_FSM_LOG_BATCH_MAX)
		return Q53_EINVAL;
	for (i = 0; i < n; i++) {
		if (q53_fsm_log_decode(&frames[i], &cmd) != 0 ||
		    (n > 1 && cmd.client_id == 0) ||
		    frames[i].len > Q53_FSM_LOG_PAYLOAD_MAX - total)
			return Q53_EINVAL;
		total += frames[i].len;
	}
	if (n > 1)
		total += Q53_FSM_LOG_BATCH_HEADER_SIZE;
	buf->base = raft_malloc(total);
	if (buf->base == NULL)
		return Q53_ENOMEM;
	buf->len = total;
	p = buf->base;
	if (n > 1) {
		*p++ = Q53_FSM_LOG_FORMAT_BATCH;
		*p++ = 0;
		p = put_u16(p, 0);
		p = put_u32(p, n);
	}
	for (i = 0; i < n; i++) {
		memcpy(p, frames[i].base, frames[i].len);
		p += frames[i].len;
	}
	assert(p == (uint8_t *)buf->base + total);
	return 0;
}

int q53_fsm_log_entry_open(const struct raft_buffer *buf,
			   struct q53_fsm_log_entry *e, unsigned *format)
{
	struct reader r = {.p = buf->base, .left = buf->len};
	struct q53_fsm_log_command cmd;
	const uint8_t *head;
	unsigned i;
	int rv;

	memset(e, 0, sizeof(*e));
	if (format != NULL)
		*format = 0;
	if (buf->base == NULL || buf->len == 0)
		return Q53_EMALF;
	if (format != NULL)
		*format = ((const uint8_t *)buf->base)[0];
	if (((const uint8_t *)buf->base)[0] != Q53_FSM_LOG_FORMAT_BATCH) {
		rv = q53_fsm_log_decode(buf, &cmd);
		if (rv != 0)
			return rv;
		e->p = buf->base;
		e->left = buf->len;
		e->count = 1;
		return 0;
	}
	head = read_bytes(&r, 2);
	if (head == NULL || head[1] != 0 || read_u16(&r) != 0)
		return Q53_EMALF;
	e->count = read_u32(&r);
	if (r.bad || e->count == 0 || e->count > Q53_FSM_LOG_BATCH_MAX)
		return Q53_EMALF;
	e->p = r.p;
	e->left = r.left;
	e->batch = true;
	/* Whole entry first: nothing applies from a malformed batch. A frame
	 * of a newer format inside a batch is malformed too (a newer release
	 * changes the outer format byte). */
	for (i = 0; i < e->count; i++) {
		rv = read_frame(&r, &cmd);
		if (rv != 0 || cmd.client_id == 0)
			return Q53_EMALF;
	}
	if (r.left != 0)
		return Q53_EMALF;
	return 0;
}

int q53_fsm_log_entry_next(struct q53_fsm_log_entry *e,
			   struct q53_fsm_log_command *cmd)
{
	struct reader r = {.p = e->p, .left = e->left};
	int rv;

	if (e->next >= e->count)
		return Q53_ENOENT;
	rv = read_frame(&r, cmd);
	assert(rv == 0); /* validated by q53_fsm_log_entry_open */
	(void)rv;
	e->p = r.p;
	e->left = r.left;
	e->next++;
	return 0;
}

/* --- sessions -------------------------------------------------------------
 */

static void sessions_free(struct q53_fsm_log_session *s, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		raft_free(s[i].bytes);
	raft_free(s);
}

/* The session of client_id, or NULL with *pos where it would go. */
static struct q53_fsm_log_session *
session_find(const struct q53_fsm_log *log, uint64_t client_id, unsigned *pos)
{
	unsigned lo = 0, hi = log->n_sessions;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (log->sessions[mid].client_id < client_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	if (lo < log->n_sessions && log->sessions[lo].client_id == client_id)
		return &log->sessions[lo];
	return NULL;
}

/* Room for one more session (or a full table that evicts): the only
 * allocation of an apply besides the FSM's own, done before the FSM runs so
 * that nothing can fail after it. */
static int session_reserve(struct q53_fsm_log *log)
{
	struct q53_fsm_log_session *grown;
	unsigned cap;

	if (log->n_sessions < log->cap_sessions ||
	    log->n_sessions >= log->max_sessions)
		return 0;
	cap = log->cap_sessions < MIN_SESSION_CAP ? MIN_SESSION_CAP
						  : log->cap_sessions * 2;
	if (cap > log->max_sessions)
		cap = log->max_sessions;
	grown = raft_realloc(log->sessions, cap * sizeof(*grown));
	if (grown == NULL)
		return Q53_ENOMEM;
	log->sessions = grown;
	log->cap_sessions = cap;
	return 0;
}

/* Free a result body, or keep it in the graveyard (until last_reset) when
 * one of the first `live` results of the current batch points at it. */
static void body_release(struct q53_fsm_log *log, uint8_t *bytes, unsigned live)
{
	unsigned i;

	if (bytes == NULL)
		return;
	for (i = 0; i < live; i++)
		if (log->batch[i].bytes == bytes) {
			log->graveyard[log->n_graveyard++] = bytes;
			return;
		}
	raft_free(bytes);
}

/* Insert client_id (not present), forgetting the sessions applied longest
 * ago while the table is full. session_reserve ran first. */
static struct q53_fsm_log_session *
session_insert(struct q53_fsm_log *log, uint64_t client_id, unsigned live)
{
	struct q53_fsm_log_session *s;
	unsigned pos, i, oldest;

	while (log->n_sessions >= log->max_sessions) {
		oldest = 0;
		for (i = 1; i < log->n_sessions; i++)
			if (log->sessions[i].seq < log->sessions[oldest].seq)
				oldest = i;
		body_release(log, log->sessions[oldest].bytes, live);
		memmove(&log->sessions[oldest], &log->sessions[oldest + 1],
			(log->n_sessions - oldest - 1) * sizeof(*s));
		log->n_sessions--;
	}
	assert(log->n_sessions < log->cap_sessions);
	s = session_find(log, client_id, &pos);
	assert(s == NULL);
	memmove(&log->sessions[pos + 1], &log->sessions[pos],
		(log->n_sessions - pos) * sizeof(*s));
	log->n_sessions++;
	s = &log->sessions[pos];
	memset(s, 0, sizeof(*s));
	s->client_id = client_id;
	return s;
}

uint64_t q53_fsm_log_last_request(const struct q53_fsm_log *log,
				  uint64_t client_id)
{
	const struct q53_fsm_log_session *s;
	unsigned pos;

	s = session_find(log, client_id, &pos);
	return s != NULL ? s->request_id : 0;
}

/* --- raft_fsm: apply ------------------------------------------------------
 */

static void last_reset(struct q53_fsm_log *log)
{
	unsigned i;

	raft_free(log->last_owned);
	log->last_owned = NULL;
	for (i = 0; i < log->n_graveyard; i++)
		raft_free(log->graveyard[i]);
	log->n_graveyard = 0;
	memset(&log->last, 0, sizeof(log->last));
}

static int to_raft_error(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case Q53_ENOMEM:
		return RAFT_NOMEM;
	case Q53_EMALF:
		return RAFT_MALFORMED;
	default:
		return RAFT_INVALID;
	}
}

/* Apply one command into *res. `live`: results of the current batch before
 * this one (the bodies they point at are kept). 0, or Q53_ENOMEM with
 * nothing changed. */
static int apply_one(struct q53_fsm_log *log,
		     const struct q53_fsm_log_command *cmd,
		     struct q53_fsm_log_result *res, unsigned live)
{
	struct q53_fsm_log_session *s = NULL;
	uint8_t *out = NULL;
	size_t out_len = 0;
	int32_t code = 0;
	unsigned pos;
	int rv;

	memset(res, 0, sizeof(*res));
	res->client_id = cmd->client_id;
	res->request_id = cmd->request_id;
	if (cmd->client_id != 0) {
		s = session_find(log, cmd->client_id, &pos);
		if (s != NULL && cmd->request_id <= s->request_id) {
			if (cmd->request_id == s->request_id) {
				res->status = Q53_FSM_LOG_DUPLICATE;
				res->code = s->code;
				res->bytes = s->bytes;
				res->len = s->len;
			} else {
				res->status = Q53_FSM_LOG_STALE;
			}
			res->seq = ++log->seq;
			return 0;
		}
		if (s == NULL && session_reserve(log) != 0)
			return Q53_ENOMEM;
	}
	const void *decoded = NULL;
	for (unsigned i = 0; cmd->client_id != 0 && i < Q53_FSM_LOG_OFFERS;
	     i++) {
		if (log->offers[i].client_id == cmd->client_id &&
		    log->offers[i].request_id == cmd->request_id &&
		    log->offers[i].type == cmd->type) {
			decoded = log->offers[i].decoded;
			break;
		}
	}
	if (decoded != NULL)
		rv = log->fsm->apply_decoded(log->fsm, cmd->type, decoded,
					     cmd->payload, cmd->len, &code,
					     &out, &out_len);
	else
		rv = log->fsm->apply(log->fsm, cmd->type, cmd->payload,
				     cmd->len, &code, &out, &out_len);
	if (rv != 0) {
		assert(rv == Q53_ENOMEM);
		return Q53_ENOMEM;
	}
	/* Applied: nothing below can fail. */
	log->seq++;
	if (cmd->client_id != 0) {
		if (s == NULL)
			s = session_insert(log, cmd->client_id, live);
		body_release(log, s->bytes, live);
		s->request_id = cmd->request_id;
		s->seq = log->seq;
		s->code = code;
		s->bytes = out;
		s->len = out_len;
	} else {
		assert(live == 0 && log->last_owned == NULL);
		log->last_owned =
		    out; /* format 1 only: batches have sessions */
	}
	res->status = Q53_FSM_LOG_APPLIED;
	res->code = code;
	res->bytes = out;
	res->len = out_len;
	res->seq = log->seq;
	return 0;
}

/* Room for the results of a batch of n and the bodies it may retire (one
 * replaced and one evicted per command). */
static int batch_reserve(struct q53_fsm_log *log, unsigned n)
{
	struct q53_fsm_log_result *results;
	uint8_t **graveyard;

	if (n <= log->cap_batch)
		return 0;
	results = raft_realloc(log->batch, n * sizeof(*results));
	if (results == NULL)
		return Q53_ENOMEM;
	log->batch = results;
	graveyard = raft_realloc(log->graveyard, 2 * n * sizeof(*graveyard));
	if (graveyard == NULL)
		return Q53_ENOMEM; /* the bigger results array is kept */
	log->graveyard = graveyard;
	log->cap_batch = n;
	return 0;
}

/* A format-2 entry (validated). Resumes after the commands an earlier
 * attempt applied before it ran out of memory: raft offers the same entry
 * again, and applying them twice would move seq on this node only. */
static int apply_batch(struct q53_fsm_log *log, struct q53_fsm_log_entry *e,
		       void **result)
{
	struct q53_fsm_log_command cmd;
	unsigned i;

	if (log->resume >= e->count) /* not the entry that failed: restart */
		log->resume = 0;
	if (log->resume == 0 && batch_reserve(log, e->count) != 0)
		return RAFT_NOMEM;
	for (i = 0; q53_fsm_log_entry_next(e, &cmd) == 0; i++) {
		if (i < log->resume)
			continue;
		if (apply_one(log, &cmd, &log->batch[i], i) != 0) {
			log->resume = i;
			return RAFT_NOMEM;
		}
	}
	log->resume = 0;
	log->batch[0].n_results = e->count;
	log->batch[0].results = log->batch;
	*result = &log->batch[0];
	return 0;
}

static int log_apply(struct raft_fsm *raft_fsm, const struct raft_buffer *buf,
		     void **result)
{
	struct q53_fsm_log *log = raft_fsm->data;
	struct q53_fsm_log_entry e;
	struct q53_fsm_log_command cmd;
	unsigned format = 0;
	int rv;

	*result = &log->last;
	if (log->newer_format != 0)
		return RAFT_MALFORMED; /* stays stopped at that entry */
	rv = q53_fsm_log_entry_open(buf, &e, &format);
	if (rv == Q53_ERANGE) {
		/* Written by a newer release: skipping it would diverge from
		 * the nodes that understand it. Stop here, for good. */
		log->newer_format = format;
		return RAFT_MALFORMED;
	}
	if (log->resume == 0)
		last_reset(log);
	log->last.n_results = 1;
	log->last.results = &log->last;
	if (rv != 0) {
		/* Same bytes on every node, so skipped on every node. */
		log->resume = 0;
		log->last.status = Q53_FSM_LOG_MALFORMED;
		log->last.seq = ++log->seq;
		return 0;
	}
	if (e.batch)
		return apply_batch(log, &e, result);
	log->resume = 0;
	rv = q53_fsm_log_entry_next(&e, &cmd);
	assert(rv == 0);
	if (apply_one(log, &cmd, &log->last, 0) != 0)
		return RAFT_NOMEM; /* raft offers this entry again */
	log->last.n_results = 1;
	log->last.results = &log->last;
	return 0;
}

unsigned q53_fsm_log_newer_format(const struct q53_fsm_log *log)
{
	return log->newer_format;
}

/* --- raft_fsm: snapshot / restore -----------------------------------------
 */

static size_t sessions_size(const struct q53_fsm_log *log)
{
	size_t size = 0;
	unsigned i;

	for (i = 0; i < log->n_sessions; i++)
		size += SESSION_FIXED + pad8(log->sessions[i].len);
	return size;
}

/* The FSM's snapshot as the second buffer, its length at the end of the
 * header (the first). */
static void set_inner(struct raft_buffer *bufs, unsigned *n_bufs,
		      uint8_t *inner, size_t inner_len)
{
	put_u64((uint8_t *)bufs[0].base + bufs[0].len - 8, inner_len);
	*n_bufs = 1;
	if (inner_len > 0) {
		bufs[1].base = inner;
		bufs[1].len = inner_len;
		*n_bufs = 2;
	} else {
		raft_free(inner);
	}
}

static int log_snapshot(struct raft_fsm *raft_fsm, struct raft_buffer *bufs[],
			unsigned *n_bufs)
{
	struct q53_fsm_log *log = raft_fsm->data;
	uint8_t *inner = NULL, *p;
	size_t inner_len = 0, head_len;
	bool async = raft_fsm->version >= 3;
	unsigned i;
	int rv;

	/* Half a batch applied (its retry pending): the state matches no log
	 * index. raft tries again after a later apply. */
	if (log->resume != 0 || log->newer_format != 0)
		return RAFT_NOMEM;
	assert(log->capture == NULL);
	if (async)
		rv = log->fsm->snapshot_capture(log->fsm, &log->capture);
	else
		rv = log->fsm->snapshot(log->fsm, &inner, &inner_len);
	if (rv != 0)
		return to_raft_error(rv);
	*bufs = raft_calloc(2, sizeof(**bufs));
	if (*bufs == NULL)
		goto err_after_inner;
	head_len = 24 + sessions_size(log) + 8;
	(*bufs)[0].base = raft_malloc(head_len);
	if ((*bufs)[0].base == NULL)
		goto err_after_bufs;
	(*bufs)[0].len = head_len;
	p = (*bufs)[0].base;
	p = put_u32(p, SNAPSHOT_MAGIC);
	p = put_u32(p, SNAPSHOT_FORMAT);
	p = put_u64(p, log->seq);
	p = put_u32(p, log->n_sessions);
	p = put_u32(p, 0);
	for (i = 0; i < log->n_sessions; i++) {
		const struct q53_fsm_log_session *s = &log->sessions[i];

		p = put_u64(p, s->client_id);
		p = put_u64(p, s->request_id);
		p = put_u64(p, s->seq);
		p = put_u32(p, (uint32_t)s->code);
		p = put_u32(p, 0);
		p = put_u64(p, s->len);
		if (s->len > 0)
			memcpy(p, s->bytes, s->len);
		memset(p + s->len, 0, pad8(s->len) - s->len);
		p += pad8(s->len);
	}
	p = put_u64(p, 0); /* the FSM's length: set_inner */
	assert(p == (uint8_t *)(*bufs)[0].base + head_len);
	*n_bufs = 1;
	if (!async)
		set_inner(*bufs, n_bufs, inner, inner_len);
	return 0;

err_after_bufs:
	raft_free(*bufs);
	*bufs = NULL;
err_after_inner:
	raft_free(inner);
	if (log->capture != NULL) {
		log->fsm->snapshot_release(log->fsm, log->capture);
		log->capture = NULL;
	}
	return RAFT_NOMEM;
}

/* On a thread-pool thread, between log_snapshot and log_snapshot_finalize:
 * touches only the capture and the buffers log_snapshot made. */
static int log_snapshot_async(struct raft_fsm *raft_fsm,
			      struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct q53_fsm_log *log = raft_fsm->data;
	uint8_t *inner = NULL;
	size_t inner_len = 0;
	int rv;

	if (*bufs == NULL || log->capture == NULL)
		return RAFT_NOMEM;
	rv = log->fsm->snapshot_encode(log->capture, &inner, &inner_len);
	if (rv != 0)
		return to_raft_error(rv);
	set_inner(*bufs, n_bufs, inner, inner_len);
	return 0;
}

static int log_snapshot_finalize(struct raft_fsm *raft_fsm,
				 struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct q53_fsm_log *log = raft_fsm->data;
	unsigned i;

	if (log->capture != NULL) {
		log->fsm->snapshot_release(log->fsm, log->capture);
		log->capture = NULL;
	}
	if (*bufs == NULL)
		return 0;
	for (i = 0; i < *n_bufs; i++)
		raft_free((*bufs)[i].base);
	raft_free(*bufs);
	*bufs = NULL;
	*n_bufs = 0;
	return 0;
}

/* Parse the sessions of a snapshot into a new table (all or nothing). */
static int read_sessions(struct reader *r, unsigned n,
			 struct q53_fsm_log_session **out)
{
	struct q53_fsm_log_session *sessions;
	unsigned i;

	*out = NULL;
	if (n == 0)
		return 0;
	/* Each takes at least SESSION_FIXED bytes: bounds n before malloc. */
	if (n > r->left / SESSION_FIXED)
		return Q53_EMALF;
	sessions = raft_calloc(n, sizeof(*sessions));
	if (sessions == NULL)
		return Q53_ENOMEM;
	for (i = 0; i < n; i++) {
		struct q53_fsm_log_session *s = &sessions[i];
		const uint8_t *bytes;
		uint64_t len;

		s->client_id = read_u64(r);
		s->request_id = read_u64(r);
		s->seq = read_u64(r);
		s->code = (int32_t)read_u32(r);
		read_zeros(r, 4);
		len = read_u64(r);
		if (r->bad || len > r->left || s->client_id == 0 ||
		    s->request_id == 0 ||
		    (i > 0 && s->client_id <= sessions[i - 1].client_id)) {
			r->bad = true;
			break;
		}
		bytes = read_bytes(r, (size_t)len);
		read_zeros(r, pad8((size_t)len) - (size_t)len);
		if (r->bad)
			break;
		if (len > 0) {
			s->bytes = raft_malloc((size_t)len);
			if (s->bytes == NULL) {
				sessions_free(sessions, i);
				return Q53_ENOMEM;
			}
			memcpy(s->bytes, bytes, (size_t)len);
			s->len = (size_t)len;
		}
	}
	if (r->bad) {
		sessions_free(sessions, i + 1);
		return Q53_EMALF;
	}
	*out = sessions;
	return 0;
}

static int log_restore(struct raft_fsm *raft_fsm, struct raft_buffer *buf)
{
	struct q53_fsm_log *log = raft_fsm->data;
	struct reader r = {.p = buf->base, .left = buf->len};
	struct q53_fsm_log_session *sessions;
	uint64_t seq, inner_len;
	unsigned n;
	int rv;

	if (buf->base == NULL || read_u32(&r) != SNAPSHOT_MAGIC ||
	    read_u32(&r) != SNAPSHOT_FORMAT)
		return RAFT_MALFORMED;
	seq = read_u64(&r);
	n = read_u32(&r);
	read_zeros(&r, 4);
	if (r.bad)
		return RAFT_MALFORMED;
	rv = read_sessions(&r, n, &sessions);
	if (rv != 0)
		return to_raft_error(rv);
	inner_len = read_u64(&r);
	if (r.bad || inner_len != r.left) {
		rv = Q53_EMALF;
		goto err_after_sessions;
	}
	rv = log->fsm->restore(log->fsm, inner_len > 0 ? r.p : NULL,
			       (size_t)inner_len);
	if (rv != 0)
		goto err_after_sessions;

	/* Committed: swap in the new table. */
	log->resume = 0;
	last_reset(log);
	sessions_free(log->sessions, log->n_sessions);
	log->sessions = sessions;
	log->n_sessions = n;
	log->cap_sessions = n;
	log->seq = seq;
	/* On success restore owns the buffer (raft frees it on failure). */
	raft_free(buf->base);
	buf->base = NULL;
	return 0;

err_after_sessions:
	sessions_free(sessions, n);
	return to_raft_error(rv);
}

/* --- lifecycle --------------------------------------------------------------
 */

bool q53_fsm_log_offer(struct q53_fsm_log *log, uint64_t client_id,
		       uint64_t request_id, uint16_t type, const void *decoded)
{
	if (log->fsm->apply_decoded == NULL || client_id == 0 ||
	    decoded == NULL)
		return false;
	for (unsigned i = 0; i < Q53_FSM_LOG_OFFERS; i++) {
		if (log->offers[i].client_id == 0) {
			log->offers[i].client_id = client_id;
			log->offers[i].request_id = request_id;
			log->offers[i].type = type;
			log->offers[i].decoded = decoded;
			return true;
		}
	}
	return false;
}

void q53_fsm_log_withdraw(struct q53_fsm_log *log, uint64_t client_id,
			  uint64_t request_id)
{
	for (unsigned i = 0; i < Q53_FSM_LOG_OFFERS; i++) {
		if (log->offers[i].client_id == client_id &&
		    log->offers[i].request_id == request_id)
			memset(&log->offers[i], 0, sizeof(log->offers[i]));
	}
}

int q53_fsm_log_init(struct q53_fsm_log *log, struct q53_fsm *fsm,
		     const struct q53_fsm_log_config *config)
{
	memset(log, 0, sizeof(*log));
	if (fsm == NULL || fsm->apply == NULL || fsm->snapshot == NULL ||
	    fsm->restore == NULL)
		return Q53_EINVAL;
	log->fsm = fsm;
	log->max_sessions = config != NULL && config->max_sessions > 0
				? config->max_sessions
				: Q53_FSM_LOG_DEFAULT_MAX_SESSIONS;
	log->raft_fsm.version = 2;
	log->raft_fsm.data = log;
	log->raft_fsm.apply = log_apply;
	log->raft_fsm.snapshot = log_snapshot;
	log->raft_fsm.restore = log_restore;
	log->raft_fsm.snapshot_finalize = log_snapshot_finalize;
	return 0;
}

int q53_fsm_log_set_async(struct q53_fsm_log *log, bool on)
{
	if (!on) {
		log->raft_fsm.version = 2;
		log->raft_fsm.snapshot_async = NULL;
		return 0;
	}
	if (log->fsm->snapshot_capture == NULL ||
	    log->fsm->snapshot_encode == NULL ||
	    log->fsm->snapshot_release == NULL)
		return Q53_EINVAL;
	log->raft_fsm.version = 3;
	log->raft_fsm.snapshot_async = log_snapshot_async;
	return 0;
}

void q53_fsm_log_close(struct q53_fsm_log *log)
{
	if (log->capture != NULL) {
		log->fsm->snapshot_release(log->fsm, log->capture);
		log->capture = NULL;
	}
	last_reset(log);
	raft_free(log->batch);
	raft_free(log->graveyard);
	log->batch = NULL;
	log->graveyard = NULL;
	log->cap_batch = 0;
	log->resume = 0;
	sessions_free(log->sessions, log->n_sessions);
	log->sessions = NULL;
	log->n_sessions = 0;
	log->cap_sessions = 0;
}
