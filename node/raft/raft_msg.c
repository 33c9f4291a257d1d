#include "node/raft/raft_msg.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "proto/raft_msg.pb-c.h"

typedef Q53__Raft__RaftMessage pb_message;

/* One allocation: the envelope, its body, then a pointer array and the
 * repeated items (entries or servers) it points to. */
struct q53_raft_msg_out {
	pb_message msg;
	union {
		Q53__Raft__AppendEntries append_entries;
		Q53__Raft__AppendEntriesResult append_entries_result;
		Q53__Raft__RequestVote request_vote;
		Q53__Raft__RequestVoteResult request_vote_result;
		Q53__Raft__InstallSnapshot install_snapshot;
		Q53__Raft__TimeoutNow timeout_now;
	} body;
};

static bool address_ok(const char *address)
{
	size_t len;

	if (address == NULL)
		return false;
	len = strnlen(address, Q53_RAFT_MSG_ADDRESS_MAX + 1);
	return len > 0 && len <= Q53_RAFT_MSG_ADDRESS_MAX;
}

static size_t items_size(size_t n, size_t item_size)
{
	return n * (sizeof(void *) + item_size);
}

static int prepare_append_entries(const struct raft_append_entries *ae,
				  struct q53_raft_msg_out *out)
{
	Q53__Raft__AppendEntries *pb = &out->body.append_entries;
	Q53__Raft__Entry **ptrs = (Q53__Raft__Entry **)(out + 1);
	Q53__Raft__Entry *items = (Q53__Raft__Entry *)(ptrs + ae->n_entries);
	unsigned i;

	q53__raft__append_entries__init(pb);
	pb->term = ae->term;
	pb->prev_log_index = ae->prev_log_index;
	pb->prev_log_term = ae->prev_log_term;
	pb->leader_commit = ae->leader_commit;
	pb->n_entries = ae->n_entries;
	pb->entries = ae->n_entries > 0 ? ptrs : NULL;
	for (i = 0; i < ae->n_entries; i++) {
		const struct raft_entry *e = &ae->entries[i];

		q53__raft__entry__init(&items[i]);
		items[i].term = e->term;
		items[i].type = e->type;
		items[i].data.len = e->buf.len;
		items[i].data.data = e->buf.base;
		ptrs[i] = &items[i];
	}
	out->msg.body_case = Q53__RAFT__RAFT_MESSAGE__BODY_APPEND_ENTRIES;
	out->msg.append_entries = pb;
	return 0;
}

static int prepare_install_snapshot(const struct raft_install_snapshot *is,
				    struct q53_raft_msg_out *out)
{
	Q53__Raft__InstallSnapshot *pb = &out->body.install_snapshot;
	Q53__Raft__Server **ptrs = (Q53__Raft__Server **)(out + 1);
	Q53__Raft__Server *items = (Q53__Raft__Server *)(ptrs + is->conf.n);
	unsigned i;

	q53__raft__install_snapshot__init(pb);
	pb->term = is->term;
	pb->last_index = is->last_index;
	pb->last_term = is->last_term;
	pb->conf_index = is->conf_index;
	pb->data.len = is->data.len;
	pb->data.data = is->data.base;
	pb->n_conf = is->conf.n;
	pb->conf = is->conf.n > 0 ? ptrs : NULL;
	for (i = 0; i < is->conf.n; i++) {
		const struct raft_server *s = &is->conf.servers[i];

		if (!address_ok(s->address))
			return Q53_EINVAL;
		q53__raft__server__init(&items[i]);
		items[i].id = s->id;
		/* protobuf-c only reads it while packing. */
		items[i].address = (char *)s->address;
		items[i].role = (uint32_t)s->role;
		ptrs[i] = &items[i];
	}
	out->msg.body_case = Q53__RAFT__RAFT_MESSAGE__BODY_INSTALL_SNAPSHOT;
	out->msg.install_snapshot = pb;
	return 0;
}

int q53_raft_msg_prepare(const struct raft_message *m, raft_id sender_id,
			 const char *sender_address,
			 struct q53_raft_msg_out **out)
{
	struct q53_raft_msg_out *o;
	size_t extra = 0;
	int rv;

	if (sender_id == 0 || !address_ok(sender_address))
		return Q53_EINVAL;
	if (m->type == RAFT_IO_APPEND_ENTRIES)
		extra = items_size(m->append_entries.n_entries,
				   sizeof(Q53__Raft__Entry));
	else if (m->type == RAFT_IO_INSTALL_SNAPSHOT)
		extra = items_size(m->install_snapshot.conf.n,
				   sizeof(Q53__Raft__Server));
	o = malloc(sizeof(*o) + extra);
	if (o == NULL)
		return Q53_ENOMEM;
	q53__raft__raft_message__init(&o->msg);
	o->msg.sender_id = sender_id;
	o->msg.sender_address = (char *)sender_address;

	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES:
		rv = prepare_append_entries(&m->append_entries, o);
		break;
	case RAFT_IO_APPEND_ENTRIES_RESULT: {
		Q53__Raft__AppendEntriesResult *pb =
		    &o->body.append_entries_result;

		q53__raft__append_entries_result__init(pb);
		pb->term = m->append_entries_result.term;
		pb->rejected = m->append_entries_result.rejected;
		pb->last_log_index = m->append_entries_result.last_log_index;
		o->msg.body_case =
		    Q53__RAFT__RAFT_MESSAGE__BODY_APPEND_ENTRIES_RESULT;
		o->msg.append_entries_result = pb;
		rv = 0;
		break;
	}
	case RAFT_IO_REQUEST_VOTE: {
		Q53__Raft__RequestVote *pb = &o->body.request_vote;

		q53__raft__request_vote__init(pb);
		pb->term = m->request_vote.term;
		pb->candidate_id = m->request_vote.candidate_id;
		pb->last_log_index = m->request_vote.last_log_index;
		pb->last_log_term = m->request_vote.last_log_term;
		pb->disrupt_leader = m->request_vote.disrupt_leader;
		pb->pre_vote = m->request_vote.pre_vote;
		o->msg.body_case = Q53__RAFT__RAFT_MESSAGE__BODY_REQUEST_VOTE;
		o->msg.request_vote = pb;
		rv = 0;
		break;
	}
	case RAFT_IO_REQUEST_VOTE_RESULT: {
		Q53__Raft__RequestVoteResult *pb = &o->body.request_vote_result;

		q53__raft__request_vote_result__init(pb);
		pb->term = m->request_vote_result.term;
		pb->vote_granted = m->request_vote_result.vote_granted;
		switch (m->request_vote_result.pre_vote) {
		case raft_tribool_true:
			pb->pre_vote = Q53__RAFT__TRIBOOL__TRIBOOL_TRUE;
			break;
		case raft_tribool_false:
			pb->pre_vote = Q53__RAFT__TRIBOOL__TRIBOOL_FALSE;
			break;
		default:
			pb->pre_vote = Q53__RAFT__TRIBOOL__TRIBOOL_UNKNOWN;
			break;
		}
		o->msg.body_case =
		    Q53__RAFT__RAFT_MESSAGE__BODY_REQUEST_VOTE_RESULT;
		o->msg.request_vote_result = pb;
		rv = 0;
		break;
	}
	case RAFT_IO_INSTALL_SNAPSHOT:
		rv = prepare_install_snapshot(&m->install_snapshot, o);
		break;
	case RAFT_IO_TIMEOUT_NOW: {
		Q53__Raft__TimeoutNow *pb = &o->body.timeout_now;

		q53__raft__timeout_now__init(pb);
		pb->term = m->timeout_now.term;
		pb->last_log_index = m->timeout_now.last_log_index;
		pb->last_log_term = m->timeout_now.last_log_term;
		o->msg.body_case = Q53__RAFT__RAFT_MESSAGE__BODY_TIMEOUT_NOW;
		o->msg.timeout_now = pb;
		rv = 0;
		break;
	}
	default:
		rv = Q53_EINVAL;
		break;
	}
	if (rv != 0) {
		free(o);
		return rv;
	}
	*out = o;
	return 0;
}

size_t q53_raft_msg_packed_size(const struct q53_raft_msg_out *out)
{
	return q53__raft__raft_message__get_packed_size(&out->msg);
}

size_t q53_raft_msg_pack(const struct q53_raft_msg_out *out, uint8_t *dst)
{
	return q53__raft__raft_message__pack(&out->msg, dst);
}

void q53_raft_msg_out_free(struct q53_raft_msg_out *out)
{
	free(out);
}

int q53_raft_msg_encode(const struct raft_message *m, raft_id sender_id,
			const char *sender_address, uint8_t **buf, size_t *len)
{
	struct q53_raft_msg_out *out;
	size_t size;
	int rv;

	rv = q53_raft_msg_prepare(m, sender_id, sender_address, &out);
	if (rv != 0)
		return rv;
	size = q53_raft_msg_packed_size(out);
	/* Never malloc(0): an empty message still gets a byte. */
	*buf = malloc(size > 0 ? size : 1);
	if (*buf == NULL) {
		q53_raft_msg_out_free(out);
		return Q53_ENOMEM;
	}
	*len = q53_raft_msg_pack(out, *buf);
	q53_raft_msg_out_free(out);
	return 0;
}

/* Offsets of payloads inside a batch stay 8-byte aligned, as raft_uv lays
 * them out when it loads a segment. */
static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static int decode_append_entries(const Q53__Raft__AppendEntries *pb,
				 struct raft_append_entries *ae)
{
	struct raft_entry *entries;
	uint8_t *batch;
	size_t total = 0;
	size_t off = 0;
	size_t i;

	ae->term = pb->term;
	ae->prev_log_index = pb->prev_log_index;
	ae->prev_log_term = pb->prev_log_term;
	ae->leader_commit = pb->leader_commit;
	ae->entries = NULL;
	ae->n_entries = 0;
	if (pb->n_entries == 0)
		return 0;
	if (pb->n_entries > UINT_MAX)
		return Q53_EMALF;
	for (i = 0; i < pb->n_entries; i++) {
		const Q53__Raft__Entry *e = pb->entries[i];

		if (e->term == 0)
			return Q53_EMALF;
		if (e->type != RAFT_COMMAND && e->type != RAFT_BARRIER &&
		    e->type != RAFT_CHANGE)
			return Q53_EMALF;
		/* Each len is bounded by the input size: no overflow. */
		total += pad8(e->data.len);
	}
	entries = raft_malloc(pb->n_entries * sizeof(*entries));
	if (entries == NULL)
		return Q53_ENOMEM;
	/* raft frees entries[0].batch once for the whole message. */
	batch = raft_malloc(total > 0 ? total : 8);
	if (batch == NULL) {
		raft_free(entries);
		return Q53_ENOMEM;
	}
	for (i = 0; i < pb->n_entries; i++) {
		const Q53__Raft__Entry *e = pb->entries[i];

		entries[i].term = e->term;
		entries[i].type = (unsigned short)e->type;
		entries[i].buf.base = batch + off;
		entries[i].buf.len = e->data.len;
		entries[i].batch = batch;
		if (e->data.len > 0)
			memcpy(batch + off, e->data.data, e->data.len);
		off += pad8(e->data.len);
	}
	ae->entries = entries;
	ae->n_entries = (unsigned)pb->n_entries;
	return 0;
}

static int decode_install_snapshot(const Q53__Raft__InstallSnapshot *pb,
				   struct raft_install_snapshot *is)
{
	size_t i;
	int rv;

	is->term = pb->term;
	is->last_index = pb->last_index;
	is->last_term = pb->last_term;
	is->conf_index = pb->conf_index;
	is->data.base = NULL;
	is->data.len = 0;
	/* 0.15 has no public configuration decoder: rebuild it. */
	raft_configuration_init(&is->conf);
	if (pb->n_conf == 0 || pb->n_conf > UINT_MAX)
		return Q53_EMALF;
	for (i = 0; i < pb->n_conf; i++) {
		const Q53__Raft__Server *s = pb->conf[i];

		if (s->id == 0 || !address_ok(s->address))
			goto err_malformed;
		if (s->role != RAFT_STANDBY && s->role != RAFT_VOTER &&
		    s->role != RAFT_SPARE)
			goto err_malformed;
		rv = raft_configuration_add(&is->conf, s->id, s->address,
					    (int)s->role);
		if (rv == RAFT_NOMEM) {
			raft_configuration_close(&is->conf);
			return Q53_ENOMEM;
		}
		if (rv != 0)
			goto err_malformed;
	}
	is->data.base = raft_malloc(pb->data.len > 0 ? pb->data.len : 8);
	if (is->data.base == NULL) {
		raft_configuration_close(&is->conf);
		return Q53_ENOMEM;
	}
	if (pb->data.len > 0)
		memcpy(is->data.base, pb->data.data, pb->data.len);
	is->data.len = pb->data.len;
	return 0;

err_malformed:
	raft_configuration_close(&is->conf);
	return Q53_EMALF;
}

static int decode_body(const pb_message *pb, struct raft_message *m)
{
	switch (pb->body_case) {
	case Q53__RAFT__RAFT_MESSAGE__BODY_APPEND_ENTRIES:
		m->type = RAFT_IO_APPEND_ENTRIES;
		return decode_append_entries(pb->append_entries,
					     &m->append_entries);
	case Q53__RAFT__RAFT_MESSAGE__BODY_APPEND_ENTRIES_RESULT:
		m->type = RAFT_IO_APPEND_ENTRIES_RESULT;
		m->append_entries_result.term = pb->append_entries_result->term;
		m->append_entries_result.rejected =
		    pb->append_entries_result->rejected;
		m->append_entries_result.last_log_index =
		    pb->append_entries_result->last_log_index;
		return 0;
	case Q53__RAFT__RAFT_MESSAGE__BODY_REQUEST_VOTE:
		if (pb->request_vote->candidate_id == 0)
			return Q53_EMALF;
		m->type = RAFT_IO_REQUEST_VOTE;
		m->request_vote.term = pb->request_vote->term;
		m->request_vote.candidate_id = pb->request_vote->candidate_id;
		m->request_vote.last_log_index =
		    pb->request_vote->last_log_index;
		m->request_vote.last_log_term = pb->request_vote->last_log_term;
		m->request_vote.disrupt_leader =
		    pb->request_vote->disrupt_leader != 0;
		m->request_vote.pre_vote = pb->request_vote->pre_vote != 0;
		return 0;
	case Q53__RAFT__RAFT_MESSAGE__BODY_REQUEST_VOTE_RESULT:
		m->type = RAFT_IO_REQUEST_VOTE_RESULT;
		m->request_vote_result.term = pb->request_vote_result->term;
		m->request_vote_result.vote_granted =
		    pb->request_vote_result->vote_granted != 0;
		switch (pb->request_vote_result->pre_vote) {
		case Q53__RAFT__TRIBOOL__TRIBOOL_UNKNOWN:
			m->request_vote_result.pre_vote = raft_tribool_unknown;
			break;
		case Q53__RAFT__TRIBOOL__TRIBOOL_TRUE:
			m->request_vote_result.pre_vote = raft_tribool_true;
			break;
		case Q53__RAFT__TRIBOOL__TRIBOOL_FALSE:
			m->request_vote_result.pre_vote = raft_tribool_false;
			break;
		default:
			return Q53_EMALF;
		}
		return 0;
	case Q53__RAFT__RAFT_MESSAGE__BODY_INSTALL_SNAPSHOT:
		m->type = RAFT_IO_INSTALL_SNAPSHOT;
		return decode_install_snapshot(pb->install_snapshot,
					       &m->install_snapshot);
	case Q53__RAFT__RAFT_MESSAGE__BODY_TIMEOUT_NOW:
		m->type = RAFT_IO_TIMEOUT_NOW;
		m->timeout_now.term = pb->timeout_now->term;
		m->timeout_now.last_log_index = pb->timeout_now->last_log_index;
		m->timeout_now.last_log_term = pb->timeout_now->last_log_term;
		return 0;
	default:
		return Q53_EMALF;
	}
}

int q53_raft_msg_decode(const uint8_t *buf, size_t len,
			struct q53_raft_msg_in *in)
{
	pb_message *pb;
	int rv;

	memset(&in->message, 0, sizeof(in->message));
	in->address[0] = '\0';
	pb = q53__raft__raft_message__unpack(NULL, len, buf);
	if (pb == NULL)
		return Q53_EMALF;
	if (pb->sender_id == 0 || !address_ok(pb->sender_address)) {
		rv = Q53_EMALF;
		goto out;
	}
	rv = decode_body(pb, &in->message);
	if (rv != 0) {
		memset(&in->message, 0, sizeof(in->message));
		goto out;
	}
	strcpy(in->address, pb->sender_address);
	in->message.server_id = pb->sender_id;
	in->message.server_address = in->address;
out:
	q53__raft__raft_message__free_unpacked(pb, NULL);
	return rv;
}

void q53_raft_msg_discard(struct raft_message *m)
{
	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES:
		if (m->append_entries.entries != NULL) {
			raft_free(m->append_entries.entries[0].batch);
			raft_free(m->append_entries.entries);
		}
		m->append_entries.entries = NULL;
		m->append_entries.n_entries = 0;
		break;
	case RAFT_IO_INSTALL_SNAPSHOT:
		raft_configuration_close(&m->install_snapshot.conf);
		raft_free(m->install_snapshot.data.base);
		m->install_snapshot.data.base = NULL;
		m->install_snapshot.data.len = 0;
		break;
	default:
		break;
	}
}
