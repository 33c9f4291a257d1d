#include "node/control/command_legacy.h"

#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "proto/command.pb-c.h"

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

static const char *bytes_out(ProtobufCBinaryData b, size_t *len)
{
	*len = b.len;
	return b.len > 0 ? (const char *)b.data : "";
}

static int pack_payload(uint16_t type, const ProtobufCMessage *msg,
			struct command_payload *out)
{
	size_t n = protobuf_c_message_get_packed_size(msg);

	memset(out, 0, sizeof(*out));
	out->type = type;
	if (n == 0)
		return 0;
	out->data = raft_malloc(n);
	if (out->data == NULL)
		return Q53_ENOMEM;
	out->len = protobuf_c_message_pack(msg, out->data);
	return 0;
}

int command_legacy_encode_change_rrsets(
    const struct command_legacy_change_rrsets *c, struct command_payload *out)
{
	Q53__Command__ChangeResourceRecordSets m;

	if (c->batch_len > 0 && c->batch_json == NULL)
		return Q53_EINVAL;
	q53__command__change_resource_record_sets__init(&m);
	m.zone_id = str_in(c->zone_id);
	m.change_id = str_in(c->change_id);
	m.change_batch_json = bytes_in(c->batch_json, c->batch_len);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_LEGACY_CHANGE_RRSETS, &m.base, out);
}

int command_legacy_encode_import_zone(
    const struct command_legacy_import_zone *c, struct command_payload *out)
{
	Q53__Command__ImportZone m;

	if (c->len > 0 && c->text == NULL)
		return Q53_EINVAL;
	q53__command__import_zone__init(&m);
	m.zone_id = str_in(c->zone_id);
	m.change_id = str_in(c->change_id);
	m.zone_text = bytes_in(c->text, c->len);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_LEGACY_IMPORT_ZONE, &m.base, out);
}

int command_legacy_encode_create_health_check(
    const struct command_legacy_health_check *c, struct command_payload *out)
{
	Q53__Command__CreateHealthCheck m;

	if (c->config_len > 0 && c->config_json == NULL)
		return Q53_EINVAL;
	q53__command__create_health_check__init(&m);
	m.id = str_in(c->id);
	m.caller_reference = str_in(c->caller_reference);
	m.config_json = bytes_in(c->config_json, c->config_len);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_LEGACY_CREATE_HEALTH_CHECK, &m.base, out);
}

int command_legacy_encode_update_health_check(
    const struct command_legacy_health_check *c, struct command_payload *out)
{
	Q53__Command__UpdateHealthCheck m;

	if (c->config_len > 0 && c->config_json == NULL)
		return Q53_EINVAL;
	q53__command__update_health_check__init(&m);
	m.id = str_in(c->id);
	m.version = c->version;
	m.config_json = bytes_in(c->config_json, c->config_len);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_LEGACY_UPDATE_HEALTH_CHECK, &m.base, out);
}

bool command_legacy_type(uint16_t type)
{
	return type >= COMMAND_LEGACY_CHANGE_RRSETS &&
	       type <= COMMAND_LEGACY_UPDATE_HEALTH_CHECK;
}

static const ProtobufCMessageDescriptor *descriptor_of(uint16_t type)
{
	switch (type) {
	case COMMAND_LEGACY_CHANGE_RRSETS:
		return &q53__command__change_resource_record_sets__descriptor;
	case COMMAND_LEGACY_IMPORT_ZONE:
		return &q53__command__import_zone__descriptor;
	case COMMAND_LEGACY_CREATE_HEALTH_CHECK:
		return &q53__command__create_health_check__descriptor;
	case COMMAND_LEGACY_UPDATE_HEALTH_CHECK:
		return &q53__command__update_health_check__descriptor;
	default:
		return NULL;
	}
}

int command_legacy_decode(uint16_t type, const uint8_t *payload, size_t len,
			  struct command_legacy *out)
{
	const ProtobufCMessageDescriptor *d = descriptor_of(type);
	struct command_pb_alloc a;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return Q53_EMALF;
	command_pb_alloc_init(&a);
	out->pb = protobuf_c_message_unpack(d, &a.base, len,
					    len > 0 ? payload : NULL);
	if (out->pb == NULL)
		return a.failed ? Q53_ENOMEM : Q53_EMALF;
	out->type = type;
	switch (type) {
	case COMMAND_LEGACY_CHANGE_RRSETS: {
		const Q53__Command__ChangeResourceRecordSets *m = out->pb;
		struct command_legacy_change_rrsets *c = &out->u.change_rrsets;
		c->zone_id = str_out(m->zone_id);
		c->change_id = str_out(m->change_id);
		c->batch_json = bytes_out(m->change_batch_json, &c->batch_len);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_LEGACY_IMPORT_ZONE: {
		const Q53__Command__ImportZone *m = out->pb;
		struct command_legacy_import_zone *c = &out->u.import_zone;
		c->zone_id = str_out(m->zone_id);
		c->change_id = str_out(m->change_id);
		c->text = bytes_out(m->zone_text, &c->len);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_LEGACY_CREATE_HEALTH_CHECK: {
		const Q53__Command__CreateHealthCheck *m = out->pb;
		struct command_legacy_health_check *c = &out->u.health_check;
		c->id = str_out(m->id);
		c->caller_reference = str_out(m->caller_reference);
		c->config_json = bytes_out(m->config_json, &c->config_len);
		c->time_ms = m->time_ms;
		break;
	}
	default: {
		const Q53__Command__UpdateHealthCheck *m = out->pb;
		struct command_legacy_health_check *c = &out->u.health_check;
		c->id = str_out(m->id);
		c->caller_reference = "";
		c->version = m->version;
		c->config_json = bytes_out(m->config_json, &c->config_len);
		c->time_ms = m->time_ms;
		break;
	}
	}
	return 0;
}

void command_legacy_free(struct command_legacy *c)
{
	struct command_pb_alloc a;

	if (c->pb != NULL) {
		command_pb_alloc_init(&a);
		protobuf_c_message_free_unpacked(c->pb, &a.base);
	}
	memset(c, 0, sizeof(*c));
}
