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

int q53_fsm_log_decode(const struct raft_buffer *buf,
		       struct q53_fsm_log_command *cmd)
{
	struct reader r = {.p = buf->base, .left = buf->len};
	const uint8_t *format;
	size_t len;

	if (buf->base == NULL)
		return Q53_EMALF;
	format = read_bytes(&r, 2);
	if (format == NULL || format[0] != Q53_FSM_LOG_FORMAT || format[1] != 0)
		return Q53_EMALF;
	cmd->type = read_u16(&r);
	len = read_u32(&r);
	cmd->client_id = read_u64(&r);
	cmd->request_id = read_u64(&r);
	cmd->len = len;
	cmd->payload = read_bytes(&r, len);
	read_zeros(&r, pad8(len) - len);
	if (r.bad || r.left != 0 ||
	    (cmd->client_id != 0 && cmd->request_id == 0))
		return Q53_EMALF;
	if (len == 0)
		cmd->payload = NULL;
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

/* Insert client_id (not present), forgetting the sessions applied longest
 * ago while the table is full. session_reserve ran first. */
static struct q53_fsm_log_session *session_insert(struct q53_fsm_log *log,
						  uint64_t client_id)
{
	struct q53_fsm_log_session *s;
	unsigned pos, i, oldest;

	while (log->n_sessions >= log->max_sessions) {
		oldest = 0;
		for (i = 1; i < log->n_sessions; i++)
			if (log->sessions[i].seq < log->sessions[oldest].seq)
				oldest = i;
		raft_free(log->sessions[oldest].bytes);
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
	raft_free(log->last_owned);
	log->last_owned = NULL;
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

static int log_apply(struct raft_fsm *raft_fsm, const struct raft_buffer *buf,
		     void **result)
{
	struct q53_fsm_log *log = raft_fsm->data;
	struct q53_fsm_log_command cmd;
	struct q53_fsm_log_session *s = NULL;
	uint8_t *out = NULL;
	size_t out_len = 0;
	int32_t code = 0;
	unsigned pos;
	int rv;

	last_reset(log);
	*result = &log->last;
	if (q53_fsm_log_decode(buf, &cmd) != 0) {
		/* Same bytes on every node, so skipped on every node. */
		log->last.status = Q53_FSM_LOG_MALFORMED;
		log->last.seq = ++log->seq;
		return 0;
	}
	if (cmd.client_id != 0) {
		s = session_find(log, cmd.client_id, &pos);
		if (s != NULL && cmd.request_id <= s->request_id) {
			if (cmd.request_id == s->request_id) {
				log->last.status = Q53_FSM_LOG_DUPLICATE;
				log->last.code = s->code;
				log->last.bytes = s->bytes;
				log->last.len = s->len;
			} else {
				log->last.status = Q53_FSM_LOG_STALE;
			}
			log->last.seq = ++log->seq;
			return 0;
		}
		if (s == NULL && session_reserve(log) != 0)
			return RAFT_NOMEM; /* raft offers this entry again */
	}
	rv = log->fsm->apply(log->fsm, cmd.type, cmd.payload, cmd.len, &code,
			     &out, &out_len);
	if (rv != 0) {
		assert(rv == Q53_ENOMEM);
		return RAFT_NOMEM;
	}
	/* Applied: nothing below can fail. */
	log->seq++;
	if (cmd.client_id != 0) {
		if (s == NULL)
			s = session_insert(log, cmd.client_id);
		raft_free(s->bytes);
		s->request_id = cmd.request_id;
		s->seq = log->seq;
		s->code = code;
		s->bytes = out;
		s->len = out_len;
	} else {
		log->last_owned = out;
	}
	log->last.status = Q53_FSM_LOG_APPLIED;
	log->last.code = code;
	log->last.bytes = out;
	log->last.len = out_len;
	log->last.seq = log->seq;
	return 0;
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

static int log_snapshot(struct raft_fsm *raft_fsm, struct raft_buffer *bufs[],
			unsigned *n_bufs)
{
	struct q53_fsm_log *log = raft_fsm->data;
	uint8_t *inner = NULL, *p;
	size_t inner_len = 0, head_len;
	unsigned i;
	int rv;

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
	p = put_u64(p, inner_len);
	assert(p == (uint8_t *)(*bufs)[0].base + head_len);
	*n_bufs = 1;
	if (inner_len > 0) {
		(*bufs)[1].base = inner;
		(*bufs)[1].len = inner_len;
		*n_bufs = 2;
	} else {
		raft_free(inner);
	}
	return 0;

err_after_bufs:
	raft_free(*bufs);
	*bufs = NULL;
err_after_inner:
	raft_free(inner);
	return RAFT_NOMEM;
}

static int log_snapshot_finalize(struct raft_fsm *raft_fsm,
				 struct raft_buffer *bufs[], unsigned *n_bufs)
{
	unsigned i;

	(void)raft_fsm;
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

void q53_fsm_log_close(struct q53_fsm_log *log)
{
	last_reset(log);
	sessions_free(log->sessions, log->n_sessions);
	log->sessions = NULL;
	log->n_sessions = 0;
	log->cap_sessions = 0;
}
