/* The upgrade path from the previous release (0.1.0), outside the FSM
 * library: a struct q53_fsm laid over the control FSM that the runtime
 * hands to fsm_log instead of control_fsm_base(). It converts what the
 * previous release wrote into the typed form before the FSM sees it:
 *   - log entries of the text command types 3 to 6 (a change batch as
 *     JSON, a zone file, health-check JSON): parsed here
 *     (node/control/command_text.h) into types 11 to 14 and applied; text
 *     that does not parse is rejected with the words apply used to reject
 *     it (no state changes, as before);
 *   - FsmSnapshot format 1 (zone_store's private byte format, config JSON):
 *     rewritten as format 2 and restored.
 * Deterministic: the conversion depends only on the entry and the FSM
 * state (an imported zone file's origin), the same on every node.
 *
 * Versions. An entry of a command type above COMMAND_TYPE_MAX, a typed
 * command whose command_version is above COMMAND_VERSION, or a snapshot of
 * a format above the current one was written by a newer quorum53: the node
 * must not misapply or skip it. The fatal hook is called with a message
 * such as "log entry at FSM index 7 has command type 15 written by a newer
 * quorum53: upgrade this node"; the default hook prints it on stderr and
 * exits the process (status 70). A hook that returns (tests) gets apply
 * answering Q53_ENOMEM and restore Q53_EMALF, with nothing changed.
 *
 * Memory: raft_malloc for what crosses the q53_fsm interface. */
#ifndef Q53_NODE_CONTROL_UPGRADE_H
#define Q53_NODE_CONTROL_UPGRADE_H

#include <stddef.h>
#include <stdint.h>

#include "node/control/command.h"
#include "node/raft/fsm.h"

struct control_fsm;
struct control_upgrade;

typedef void (*control_upgrade_fatal_fn)(void *ctx, const char *message);

/* A wrapper over fsm (borrowed; it must outlive the wrapper). 0 or
 * Q53_ENOMEM. */
int control_upgrade_new(struct control_fsm *fsm, struct control_upgrade **out);
void control_upgrade_free(struct control_upgrade *u);

/* The struct q53_fsm to hand to q53_fsm_log_init (owned by u). */
struct q53_fsm *control_upgrade_base(struct control_upgrade *u);

/* Replaces the fatal hook (NULL: the default). */
void control_upgrade_set_fatal(struct control_upgrade *u,
			       control_upgrade_fatal_fn fn, void *ctx);

/* The conversions on their own (tests, fuzzing). Legacy command of type
 * 3..6 -> typed *out: 0, Q53_EINVAL / Q53_ENOENT (the entry is rejected:
 * message "Name: text" in err), Q53_EMALF (not a message of that type) or
 * Q53_ENOMEM. */
int control_upgrade_command(const struct control_fsm *fsm, uint16_t type,
			    const uint8_t *payload, size_t len,
			    struct command_payload *out, char *err,
			    size_t errlen);

/* FsmSnapshot format 1 (buf, untrusted) -> format 2 in *out
 * (raft_malloc'd). 0, Q53_EMALF or Q53_ENOMEM. */
int control_upgrade_snapshot(const uint8_t *buf, size_t len, uint8_t **out,
			     size_t *out_len);

/* The format field of an FsmSnapshot, read without decoding the rest; 0
 * when absent. */
uint32_t control_upgrade_snapshot_format(const uint8_t *buf, size_t len);

#endif
