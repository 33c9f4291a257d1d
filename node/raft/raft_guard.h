/* What a node accepts from the Raft port before raft sees a message: the
 * checks at the io boundary (node/raft/raft_io.c's deliver()). Pure: reads
 * the receiving raft instance (libraft 0.15's public struct raft fields
 * configuration, current_term, state, follower_state.current_leader) and
 * the decoded message, plus the IP address the message's connection came
 * from; decides nothing else and touches nothing.
 *
 * The rules (each a verdict below):
 * - NON_MEMBER: the sender id is not in this node's configuration. A node
 *   whose configuration is still empty (started with --join, before its
 *   first AppendEntries or InstallSnapshot) accepts any sender: that is how
 *   raft reaches a server it is adding (raft_add puts it into the leader's
 *   configuration as a spare, the joining node learns the configuration
 *   from the leader's messages). The leader hears the new server's replies
 *   because it is in the leader's configuration already.
 * - ADDRESS: the sender id is a member but the message names another raft
 *   address than the configuration's for that id (raft answers to the
 *   address in the message: a forged one would re-point this node's link
 *   to that member), or the connection comes from another IP than the
 *   member's address when both are IP literals (raft_io.c dials from its
 *   own address's IP, so a member's connections come from that IP).
 * - CANDIDATE: a RequestVote whose candidate_id is not its sender's id
 *   (raft records the vote for candidate_id).
 * - TOO_HIGH: a term at or above Q53_RAFT_GUARD_TERM_MAX (2^48). One
 *   election per millisecond takes 8,900 years to get there; a term raft
 *   adopted near 2^64 would overflow at the next election (candidates
 *   increment it), leaving the cluster without a leader for good.
 * - TERM_AHEAD: a term more than `bound` above ours while this node has a
 *   leader (it is the leader, or a follower that heard its leader within
 *   an election timeout: raft's own has_leader). With pre-vote on
 *   (raft_host.c: raft_set_pre_vote) a term grows only when a majority
 *   grants a pre-vote, one per election round, so a member in touch with a
 *   leader is never more than the few rounds of one election timeout
 *   behind an honest sender. A node without a leader (restarted after a
 *   long time down, partitioned) takes any term below TERM_MAX: it must be
 *   able to catch up with a cluster that held many elections meanwhile.
 *
 * Without peer authentication (mutual TLS) these checks stop senders that
 * are not members, forged addresses, and terms that would depose a working
 * leader; they cannot stop a sender that forges a member's id, address and
 * source IP with a term within the bound. */
#ifndef Q53_NODE_RAFT_RAFT_GUARD_H
#define Q53_NODE_RAFT_RAFT_GUARD_H

#include <stdbool.h>

#include <raft.h>

#define Q53_RAFT_GUARD_TERM_MAX ((raft_term)1 << 48)
/* Default TERM_AHEAD bound (q53d --raft-term-bound). */
#define Q53_RAFT_GUARD_TERM_BOUND 64

enum q53_raft_guard_verdict {
	Q53_RAFT_GUARD_OK = 0,
	Q53_RAFT_GUARD_NON_MEMBER,
	Q53_RAFT_GUARD_ADDRESS,
	Q53_RAFT_GUARD_CANDIDATE,
	Q53_RAFT_GUARD_TOO_HIGH,
	Q53_RAFT_GUARD_TERM_AHEAD,
	Q53_RAFT_GUARD_N_VERDICTS
};

/* The term a message carries (every RPC and result has one). */
raft_term q53_raft_guard_term_of(const struct raft_message *m);

/* The verdict for message `m` (decoded: server_id and server_address are
 * the sender's) received by raft instance `r` on a connection from
 * `remote_ip` (numeric, as inet_ntop writes it; NULL or "" = unknown, no
 * IP check). `bound` is the TERM_AHEAD bound (0 = the default). */
enum q53_raft_guard_verdict q53_raft_guard_check(const struct raft *r,
						 const struct raft_message *m,
						 const char *remote_ip,
						 raft_term bound);

/* Short text for logs: "non-member", "address", ... */
const char *q53_raft_guard_reason(enum q53_raft_guard_verdict v);

/* The host of a raft address "tcp://HOST:PORT", "tls+tcp://[V6]:PORT" or
 * "HOST:PORT" normalised when it is an IP literal (inet_pton/inet_ntop)
 * into ip[ip_len]; false when it is a name or does not parse. */
bool q53_raft_guard_address_ip(const char *address, char *ip, size_t ip_len);

#endif
