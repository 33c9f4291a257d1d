#include "node/control/command.h"

#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "proto/command.pb-c.h"

/* --- allocator --- */

static void *pb_alloc(void *data, size_t size)
{
	struct command_pb_alloc *a = data;
	void *p = raft_malloc(size > 0 ? size : 1);

	if (p == NULL)
		a->failed = true;
	return p;
}

static void pb_free(void *data, void *p)
{
	(void)data;
	raft_free(p);
}

void command_pb_alloc_init(struct command_pb_alloc *a)
{
	a->base.alloc = pb_alloc;
	a->base.free = pb_free;
	a->base.allocator_data = a;
	a->failed = false;
}

/* --- helpers --- */

const char *command_type_name(uint16_t type)
{
	switch (type) {
	case COMMAND_CREATE_HOSTED_ZONE:
		return "CreateHostedZone";
	case COMMAND_DELETE_HOSTED_ZONE:
		return "DeleteHostedZone";
	case COMMAND_CHANGE_RRSETS:
		return "ChangeResourceRecordSets";
	case COMMAND_IMPORT_ZONE:
		return "ImportZone";
	case COMMAND_CREATE_HEALTH_CHECK:
		return "CreateHealthCheck";
	case COMMAND_UPDATE_HEALTH_CHECK:
		return "UpdateHealthCheck";
	case COMMAND_DELETE_HEALTH_CHECK:
		return "DeleteHealthCheck";
	case COMMAND_HEALTH_VOTE:
		return "HealthVote";
	case COMMAND_SET_NODE:
		return "SetNodeMetadata";
	case COMMAND_REMOVE_NODE:
		return "RemoveNodeMetadata";
	default:
		return "Unknown";
	}
}

/* protobuf-c wants mutable pointers; it never writes through them when
 * packing. NULL encodes as the empty string ("none"). */
static char *str_in(const char *s)
{
	return (char *)(s != NULL ? s : "");
}

static const char *str_out(const char *s)
{
	return s != NULL ? s : "";
}

static ProtobufCBinaryData bytes_in(const char *p, size_t len)
{
	ProtobufCBinaryData b = {.len = len, .data = (uint8_t *)p};

	return b;
}

static int pack(const ProtobufCMessage *msg, uint8_t **buf, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(msg);

	*buf = NULL;
	*len = 0;
	if (n == 0)
		return 0;
	*buf = raft_malloc(n);
	if (*buf == NULL)
		return Q53_ENOMEM;
	*len = protobuf_c_message_pack(msg, *buf);
	return 0;
}

static int pack_payload(uint16_t type, const ProtobufCMessage *msg,
			struct command_payload *out)
{
	out->type = type;
	return pack(msg, &out->data, &out->len);
}

void command_payload_clear(struct command_payload *out)
{
	raft_free(out->data);
	memset(out, 0, sizeof(*out));
}

/* --- encode --- */

int command_encode_create_hosted_zone(
    const struct command_create_hosted_zone *c, struct command_payload *out)
{
	Q53__Command__CreateHostedZone m;

	if (c->n_nameservers > 0 && c->nameservers == NULL)
		return Q53_EINVAL;
	for (size_t i = 0; i < c->n_nameservers; i++)
		if (c->nameservers[i] == NULL)
			return Q53_EINVAL;
	q53__command__create_hosted_zone__init(&m);
	m.id = str_in(c->id);
	m.name = str_in(c->name);
	m.caller_reference = str_in(c->caller_reference);
	m.comment = str_in(c->comment);
	m.n_nameservers = c->n_nameservers;
	m.nameservers = (char **)c->nameservers;
	m.change_id = str_in(c->change_id);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_CREATE_HOSTED_ZONE, &m.base, out);
}

int command_encode_delete_hosted_zone(
    const struct command_delete_hosted_zone *c, struct command_payload *out)
{
	Q53__Command__DeleteHostedZone m;

	q53__command__delete_hosted_zone__init(&m);
	m.id = str_in(c->id);
	m.change_id = str_in(c->change_id);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_DELETE_HOSTED_ZONE, &m.base, out);
}

int command_encode_change_rrsets(const struct command_change_rrsets *c,
				 struct command_payload *out)
{
	Q53__Command__ChangeResourceRecordSets m;

	if (c->batch_len > 0 && c->batch_json == NULL)
		return Q53_EINVAL;
	q53__command__change_resource_record_sets__init(&m);
	m.zone_id = str_in(c->zone_id);
	m.change_id = str_in(c->change_id);
	m.change_batch_json = bytes_in(c->batch_json, c->batch_len);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_CHANGE_RRSETS, &m.base, out);
}

int command_encode_import_zone(const struct command_import_zone *c,
			       struct command_payload *out)
{
	Q53__Command__ImportZone m;

	if (c->len > 0 && c->text == NULL)
		return Q53_EINVAL;
	q53__command__import_zone__init(&m);
	m.zone_id = str_in(c->zone_id);
	m.change_id = str_in(c->change_id);
	m.zone_text = bytes_in(c->text, c->len);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_IMPORT_ZONE, &m.base, out);
}

int command_encode_create_health_check(
    const struct command_create_health_check *c, struct command_payload *out)
{
	Q53__Command__CreateHealthCheck m;

	if (c->config_len > 0 && c->config_json == NULL)
		return Q53_EINVAL;
	q53__command__create_health_check__init(&m);
	m.id = str_in(c->id);
	m.caller_reference = str_in(c->caller_reference);
	m.config_json = bytes_in(c->config_json, c->config_len);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_CREATE_HEALTH_CHECK, &m.base, out);
}

int command_encode_update_health_check(
    const struct command_update_health_check *c, struct command_payload *out)
{
	Q53__Command__UpdateHealthCheck m;

	if (c->config_len > 0 && c->config_json == NULL)
		return Q53_EINVAL;
	q53__command__update_health_check__init(&m);
	m.id = str_in(c->id);
	m.version = c->version;
	m.config_json = bytes_in(c->config_json, c->config_len);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_UPDATE_HEALTH_CHECK, &m.base, out);
}

int command_encode_delete_health_check(
    const struct command_delete_health_check *c, struct command_payload *out)
{
	Q53__Command__DeleteHealthCheck m;

	q53__command__delete_health_check__init(&m);
	m.id = str_in(c->id);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_DELETE_HEALTH_CHECK, &m.base, out);
}

int command_encode_health_vote(const struct command_health_vote *c,
			       struct command_payload *out)
{
	Q53__Command__HealthVote m;

	q53__command__health_vote__init(&m);
	m.member_id = c->member_id;
	m.check_id = str_in(c->check_id);
	m.healthy = c->healthy;
	m.reason = str_in(c->reason);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_HEALTH_VOTE, &m.base, out);
}

int command_encode_set_node(const struct command_set_node *c,
			    struct command_payload *out)
{
	Q53__Command__SetNodeMetadata m;

	q53__command__set_node_metadata__init(&m);
	m.node_id = c->node_id;
	m.raft_address = str_in(c->raft_address);
	m.dns_address = str_in(c->dns_address);
	m.api_address = str_in(c->api_address);
	m.name = str_in(c->name);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_SET_NODE, &m.base, out);
}

int command_encode_remove_node(const struct command_remove_node *c,
			       struct command_payload *out)
{
	Q53__Command__RemoveNodeMetadata m;

	q53__command__remove_node_metadata__init(&m);
	m.node_id = c->node_id;
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_REMOVE_NODE, &m.base, out);
}

/* --- decode --- */

static const ProtobufCMessageDescriptor *descriptor_of(uint16_t type)
{
	switch (type) {
	case COMMAND_CREATE_HOSTED_ZONE:
		return &q53__command__create_hosted_zone__descriptor;
	case COMMAND_DELETE_HOSTED_ZONE:
		return &q53__command__delete_hosted_zone__descriptor;
	case COMMAND_CHANGE_RRSETS:
		return &q53__command__change_resource_record_sets__descriptor;
	case COMMAND_IMPORT_ZONE:
		return &q53__command__import_zone__descriptor;
	case COMMAND_CREATE_HEALTH_CHECK:
		return &q53__command__create_health_check__descriptor;
	case COMMAND_UPDATE_HEALTH_CHECK:
		return &q53__command__update_health_check__descriptor;
	case COMMAND_DELETE_HEALTH_CHECK:
		return &q53__command__delete_health_check__descriptor;
	case COMMAND_HEALTH_VOTE:
		return &q53__command__health_vote__descriptor;
	case COMMAND_SET_NODE:
		return &q53__command__set_node_metadata__descriptor;
	case COMMAND_REMOVE_NODE:
		return &q53__command__remove_node_metadata__descriptor;
	default:
		return NULL;
	}
}

/* Unpack with the raft heap: NULL and Q53_ENOMEM or Q53_EMALF in *rc. */
static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *d,
				const uint8_t *buf, size_t len, int *rc)
{
	struct command_pb_alloc a;
	ProtobufCMessage *m;

	command_pb_alloc_init(&a);
	m = protobuf_c_message_unpack(d, &a.base, len, len > 0 ? buf : NULL);
	if (m == NULL)
		*rc = a.failed ? Q53_ENOMEM : Q53_EMALF;
	return m;
}

static void unpacked_free(void *pb)
{
	struct command_pb_alloc a;

	if (pb == NULL)
		return;
	command_pb_alloc_init(&a);
	protobuf_c_message_free_unpacked(pb, &a.base);
}

static const char *bytes_out(ProtobufCBinaryData b, size_t *len)
{
	*len = b.len;
	return b.len > 0 ? (const char *)b.data : "";
}

static void fill_command(struct command *out)
{
	switch (out->type) {
	case COMMAND_CREATE_HOSTED_ZONE: {
		const Q53__Command__CreateHostedZone *m = out->pb;
		struct command_create_hosted_zone *c =
		    &out->u.create_hosted_zone;

		c->id = str_out(m->id);
		c->name = str_out(m->name);
		c->caller_reference = str_out(m->caller_reference);
		c->comment = str_out(m->comment);
		c->nameservers = (const char *const *)m->nameservers;
		c->n_nameservers = m->n_nameservers;
		c->change_id = str_out(m->change_id);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_DELETE_HOSTED_ZONE: {
		const Q53__Command__DeleteHostedZone *m = out->pb;
		struct command_delete_hosted_zone *c =
		    &out->u.delete_hosted_zone;

		c->id = str_out(m->id);
		c->change_id = str_out(m->change_id);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_CHANGE_RRSETS: {
		const Q53__Command__ChangeResourceRecordSets *m = out->pb;
		struct command_change_rrsets *c = &out->u.change_rrsets;

		c->zone_id = str_out(m->zone_id);
		c->change_id = str_out(m->change_id);
		c->batch_json = bytes_out(m->change_batch_json, &c->batch_len);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_IMPORT_ZONE: {
		const Q53__Command__ImportZone *m = out->pb;
		struct command_import_zone *c = &out->u.import_zone;

		c->zone_id = str_out(m->zone_id);
		c->change_id = str_out(m->change_id);
		c->text = bytes_out(m->zone_text, &c->len);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_CREATE_HEALTH_CHECK: {
		const Q53__Command__CreateHealthCheck *m = out->pb;
		struct command_create_health_check *c =
		    &out->u.create_health_check;

		c->id = str_out(m->id);
		c->caller_reference = str_out(m->caller_reference);
		c->config_json = bytes_out(m->config_json, &c->config_len);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_UPDATE_HEALTH_CHECK: {
		const Q53__Command__UpdateHealthCheck *m = out->pb;
		struct command_update_health_check *c =
		    &out->u.update_health_check;

		c->id = str_out(m->id);
		c->version = m->version;
		c->config_json = bytes_out(m->config_json, &c->config_len);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_DELETE_HEALTH_CHECK: {
		const Q53__Command__DeleteHealthCheck *m = out->pb;

		out->u.delete_health_check.id = str_out(m->id);
		out->u.delete_health_check.time_ms = m->time_ms;
		break;
	}
	case COMMAND_HEALTH_VOTE: {
		const Q53__Command__HealthVote *m = out->pb;
		struct command_health_vote *c = &out->u.health_vote;

		c->member_id = m->member_id;
		c->check_id = str_out(m->check_id);
		c->healthy = m->healthy;
		c->reason = str_out(m->reason);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_SET_NODE: {
		const Q53__Command__SetNodeMetadata *m = out->pb;
		struct command_set_node *c = &out->u.set_node;

		c->node_id = m->node_id;
		c->raft_address = str_out(m->raft_address);
		c->dns_address = str_out(m->dns_address);
		c->api_address = str_out(m->api_address);
		c->name = str_out(m->name);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_REMOVE_NODE: {
		const Q53__Command__RemoveNodeMetadata *m = out->pb;

		out->u.remove_node.node_id = m->node_id;
		out->u.remove_node.time_ms = m->time_ms;
		break;
	}
	}
}

int command_decode(uint16_t type, const uint8_t *payload, size_t len,
		   struct command *out)
{
	const ProtobufCMessageDescriptor *d = descriptor_of(type);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return Q53_EMALF;
	out->pb = unpack(d, payload, len, &rc);
	if (out->pb == NULL)
		return rc;
	out->type = (enum command_type)type;
	fill_command(out);
	return 0;
}

void command_free(struct command *c)
{
	unpacked_free(c->pb);
	memset(c, 0, sizeof(*c));
}

/* --- results --- */

int command_result_encode(const struct command_result *r, uint8_t **buf,
			  size_t *len)
{
	Q53__Command__CommandResult m;
	Q53__Command__ChangeInfo change;
	Q53__Command__HostedZoneResult zone;
	Q53__Command__HealthCheckResult check;

	q53__command__command_result__init(&m);
	m.index = r->index;
	m.error_name = str_in(r->error_name);
	m.error_message = str_in(r->error_message);
	if (r->change.id != NULL && r->change.id[0] != '\0') {
		q53__command__change_info__init(&change);
		change.id = str_in(r->change.id);
		change.submitted_ms = r->change.submitted_ms;
		change.comment = str_in(r->change.comment);
		m.change = &change;
	}
	if (r->hosted_zone.id != NULL && r->hosted_zone.id[0] != '\0') {
		const struct command_hosted_zone_info *z = &r->hosted_zone;

		q53__command__hosted_zone_result__init(&zone);
		zone.id = str_in(z->id);
		zone.name = str_in(z->name);
		zone.caller_reference = str_in(z->caller_reference);
		zone.comment = str_in(z->comment);
		zone.n_nameservers = z->n_nameservers;
		zone.nameservers = (char **)z->nameservers;
		zone.record_set_count = z->record_set_count;
		m.hosted_zone = &zone;
	}
	if (r->health_check.id != NULL && r->health_check.id[0] != '\0') {
		const struct command_health_check_info *h = &r->health_check;

		q53__command__health_check_result__init(&check);
		check.id = str_in(h->id);
		check.caller_reference = str_in(h->caller_reference);
		check.config_json = bytes_in(h->config_json, h->config_len);
		check.version = h->version;
		m.health_check = &check;
	}
	return pack(&m.base, buf, len);
}

int command_result_decode(const uint8_t *buf, size_t len,
			  struct command_result *out)
{
	const Q53__Command__CommandResult *m;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->pb =
	    unpack(&q53__command__command_result__descriptor, buf, len, &rc);
	if (out->pb == NULL)
		return rc;
	m = out->pb;
	out->index = m->index;
	out->error_name = str_out(m->error_name);
	out->error_message = str_out(m->error_message);
	out->change.id = "";
	out->change.comment = "";
	if (m->change != NULL) {
		out->change.id = str_out(m->change->id);
		out->change.submitted_ms = m->change->submitted_ms;
		out->change.comment = str_out(m->change->comment);
	}
	out->hosted_zone.id = "";
	out->hosted_zone.name = "";
	out->hosted_zone.caller_reference = "";
	out->hosted_zone.comment = "";
	if (m->hosted_zone != NULL) {
		const Q53__Command__HostedZoneResult *z = m->hosted_zone;

		out->hosted_zone.id = str_out(z->id);
		out->hosted_zone.name = str_out(z->name);
		out->hosted_zone.caller_reference =
		    str_out(z->caller_reference);
		out->hosted_zone.comment = str_out(z->comment);
		out->hosted_zone.nameservers =
		    (const char *const *)z->nameservers;
		out->hosted_zone.n_nameservers = z->n_nameservers;
		out->hosted_zone.record_set_count = z->record_set_count;
	}
	out->health_check.id = "";
	out->health_check.caller_reference = "";
	out->health_check.config_json = "";
	if (m->health_check != NULL) {
		const Q53__Command__HealthCheckResult *h = m->health_check;

		out->health_check.id = str_out(h->id);
		out->health_check.caller_reference =
		    str_out(h->caller_reference);
		out->health_check.config_json =
		    bytes_out(h->config_json, &out->health_check.config_len);
		out->health_check.version = h->version;
	}
	return 0;
}

void command_result_free(struct command_result *r)
{
	unpacked_free(r->pb);
	memset(r, 0, sizeof(*r));
}
