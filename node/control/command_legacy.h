/* The previous release's text commands (fsm_log types 3 to 6: a change
 * batch as JSON, a zone file, health-check configs as JSON), which old log
 * entries still hold. Only the upgrade module (node/control/upgrade.h)
 * decodes them, and tests encode them to build old logs. Not part of the
 * FSM library. Memory as in command.h (raft_malloc). */
#ifndef Q53_NODE_CONTROL_COMMAND_LEGACY_H
#define Q53_NODE_CONTROL_COMMAND_LEGACY_H

#include <stddef.h>
#include <stdint.h>

#include "node/control/command.h"

/* [3] */
struct command_legacy_change_rrsets {
	const char *zone_id;
	const char *change_id;
	const char *batch_json; /* verbatim as submitted */
	size_t batch_len;
	uint64_t time_ms;
};

/* [4] */
struct command_legacy_import_zone {
	const char *zone_id;
	const char *change_id;
	const char *text;
	size_t len;
	uint64_t time_ms;
};

/* [5] and [6] (version: only [6], the expected current version). */
struct command_legacy_health_check {
	const char *id;
	const char *caller_reference; /* [5] */
	uint64_t version;	      /* [6] */
	const char *config_json;
	size_t config_len;
	uint64_t time_ms;
};

int command_legacy_encode_change_rrsets(
    const struct command_legacy_change_rrsets *c, struct command_payload *out);
int command_legacy_encode_import_zone(
    const struct command_legacy_import_zone *c, struct command_payload *out);
int command_legacy_encode_create_health_check(
    const struct command_legacy_health_check *c, struct command_payload *out);
int command_legacy_encode_update_health_check(
    const struct command_legacy_health_check *c, struct command_payload *out);

/* A decoded legacy command; strings never NULL, pointing into pb. */
struct command_legacy {
	uint16_t type;
	union {
		struct command_legacy_change_rrsets change_rrsets;
		struct command_legacy_import_zone import_zone;
		struct command_legacy_health_check health_check;
	} u;
	void *pb;
};

/* True for types 3 to 6. */
bool command_legacy_type(uint16_t type);

/* Decodes payload[0..len) (untrusted) of a legacy type. 0 (release with
 * command_legacy_free), Q53_EMALF or Q53_ENOMEM. */
int command_legacy_decode(uint16_t type, const uint8_t *payload, size_t len,
			  struct command_legacy *out);
void command_legacy_free(struct command_legacy *c);

#endif
