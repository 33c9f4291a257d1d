/* Typed commands from their text forms: the one place where a change
 * batch's JSON, a zone file and a HealthCheckConfig's JSON are parsed for
 * the log. The node serving a request (node/api/) calls these once and
 * proposes the typed command; the upgrade module calls them for the
 * previous release's log entries. At the edge: jansson and libzscanner,
 * not part of the FSM library.
 *
 * Each returns 0 with the typed command in *out (command_payload_clear),
 * Q53_EINVAL with the rejection in err ("InvalidInput: ...",
 * "InvalidChangeBatch: ...": the words apply used when it parsed the text),
 * or Q53_ENOMEM. err is always NUL-terminated. */
#ifndef Q53_NODE_CONTROL_COMMAND_TEXT_H
#define Q53_NODE_CONTROL_COMMAND_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "node/control/command.h"

struct zone_store;

/* With the rules of 0.4.0 (the upgrade module: an old log entry converts
 * as it did); a change that does not convert is kept as invalid, for apply
 * to refuse. */
int command_text_change_rrsets(const char *zone_id, const char *change_id,
			       const char *json, size_t len, uint64_t time_ms,
			       struct command_payload *out, char *err,
			       size_t errlen);

/* A request's batch: Route 53's rules (node/dnsdata/rdata_policy.h), and
 * any change invalid on its own refuses the batch here (Q53_EINVAL,
 * "InvalidChangeBatch: change N: ..."), so that it is never proposed;
 * records who submitted it (the REST edge's signing key;
 * "" = local) in the command for the audit. */
int command_text_change_rrsets_by(const char *zone_id, const char *change_id,
				  const char *access_key_id, const char *json,
				  size_t len, uint64_t time_ms,
				  struct command_payload *out, char *err,
				  size_t errlen);

/* The zone's name comes from store (zone_id borrowed); a zone store does
 * not hold gives a command with no record sets, which apply refuses as
 * NoSuchHostedZone. */
int command_text_import_zone(const struct zone_store *store,
			     const char *zone_id, const char *change_id,
			     const char *text, size_t len, uint64_t time_ms,
			     struct command_payload *out, char *err,
			     size_t errlen);
/* The same, with only the typed form (out->decoded): the bytes are
 * encoded by command_payload_encode_pending, which the proposal does
 * (raft_host_propose), so that whatever starts on the parsed sets first
 * (node/runtime/import_prebuild.h) runs while they are encoded. */
int command_text_import_zone_deferred(const struct zone_store *store,
				      const char *zone_id,
				      const char *change_id, const char *text,
				      size_t len, uint64_t time_ms,
				      struct command_payload *out, char *err,
				      size_t errlen);

/* command_text_import_zone parses with Route 53's rules
 * (zone_text_parse_request); _legacy with 0.4.0's (zone_text_parse), for
 * the upgrade module. */
int command_text_import_zone_legacy(const struct zone_store *store,
				    const char *zone_id, const char *change_id,
				    const char *text, size_t len,
				    uint64_t time_ms,
				    struct command_payload *out, char *err,
				    size_t errlen);

int command_text_create_health_check(
    const char *id, const char *caller_reference, const char *json, size_t len,
    uint64_t time_ms, struct command_payload *out, char *err, size_t errlen);

/* version: the expected current version, 0 = any; json: the whole new
 * config (the API merges an update into the current one). */
int command_text_update_health_check(const char *id, uint64_t version,
				     const char *json, size_t len,
				     uint64_t time_ms,
				     struct command_payload *out, char *err,
				     size_t errlen);

#endif
