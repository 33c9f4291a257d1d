/* Compiling a zone import on a thread of its own while raft commits and
 * applies it (the proposing node only: it holds the parsed sets).
 *
 * A node that proposes an ImportRecordSets command it parsed itself
 * (command_payload.decoded) starts import_prebuild_start: a thread builds
 * the zone those sets make (zone_store_prebuild) while the entry is
 * appended, committed and applied on the loop. The command carries the
 * build's tag (command_import_zone.prebuild_tag, never encoded); the FSM's
 * apply of it notes the tag on the zone (zone_store_note_import), and the
 * view publisher, when it compiles that zone next, takes the build
 * (import_prebuild_finish) and finishes it with an incremental build of
 * the apex and of what changed since (zone_store_build_adopt), instead of
 * a full build on the loop. Anything else (another node's import, a
 * rejected one, a zone with policy records) builds in full as before.
 *
 * The decoded command stays the proposal's: the build takes over its
 * decoded_free so that whichever of the two finishes with the sets last
 * frees them. */
#ifndef Q53_NODE_RUNTIME_IMPORT_PREBUILD_H
#define Q53_NODE_RUNTIME_IMPORT_PREBUILD_H

#include <stdbool.h>
#include <stdint.h>

struct command_payload;
struct zone;
struct zone_store_apex;
struct import_prebuild;

/* Starts the build of p's decoded import (p->decoded of type
 * COMMAND_IMPORT_ZONE) for the zone with wire origin and the apex sets it
 * keeps where the file has none (zone_store_apex_copy; taken over): sets
 * the command's prebuild_tag and takes over p->decoded_free. Returns 0
 * (*out is the build, its tag import_prebuild_tag), or Q53_EINVAL /
 * Q53_ENOMEM with p and apex unchanged (no build: the zone is compiled in
 * full after the apply). */
int import_prebuild_start(struct import_prebuild **out,
			  struct command_payload *p, const uint8_t *origin,
			  struct zone_store_apex *apex);
uint64_t import_prebuild_tag(const struct import_prebuild *b);
/* Whether the proposal has let go of the command (applied, or failed). */
bool import_prebuild_released(const struct import_prebuild *b);
/* Waits for the thread and frees b: the compiled zone (one reference) or
 * NULL when the build failed. */
struct zone *import_prebuild_finish(struct import_prebuild *b);

#endif
