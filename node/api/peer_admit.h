/* Which requests the node's NNG API answers, by the IP their connection
 * comes from (api_server_config.admit; the REST edge's local calls are not
 * checked here). The NNG API is the members' internal API: forwarded
 * writes, HealthVotes, latency samples, joins, status with indexes.
 * Members dial it from their own raft address's IP
 * (member_rpc_set_source: the IP of its --api address), so without peer
 * certificates the identity of a caller is its source IP, matched against
 * each member's raft address and API address (the FSM's node metadata):
 *
 * - a HealthVote only from the IP of the member it votes for (member_id),
 *   LatencySamples only from the IP of node_id;
 * - AddNode (a joining node asks a member to add it) only for a raft
 *   address at the caller's own IP, or from a member;
 * - anything else only from a member's IP.
 *
 * When no member's raft address is an IP literal (host names) or the
 * caller's IP is unknown, everything is admitted: only mutual TLS could
 * tell members apart then. Pure: reads the configuration it is given. */
#ifndef Q53_NODE_API_PEER_ADMIT_H
#define Q53_NODE_API_PEER_ADMIT_H

#include <stdbool.h>
#include <stddef.h>

#include <raft.h>

#include "proto/api.pb-c.h"

struct control_fsm;

/* fsm: the node metadata (API addresses), NULL = raft addresses only. */
bool peer_admit(const struct raft_configuration *conf,
		const struct control_fsm *fsm, const char *peer_ip,
		const Q53__Api__Request *req, char *why, size_t why_len);

#endif
