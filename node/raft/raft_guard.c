#include "node/raft/raft_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

raft_term q53_raft_guard_term_of(const struct raft_message *m)
{
	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES:
		return m->append_entries.term;
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		return m->append_entries_result.term;
	case RAFT_IO_REQUEST_VOTE:
		return m->request_vote.term;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		return m->request_vote_result.term;
	case RAFT_IO_INSTALL_SNAPSHOT:
		return m->install_snapshot.term;
	case RAFT_IO_TIMEOUT_NOW:
		return m->timeout_now.term;
	default:
		return 0;
	}
}

bool q53_raft_guard_address_ip(const char *address, char *ip, size_t ip_len)
{
	const char *p = strstr(address, "://");
	const char *end;
	char host[INET6_ADDRSTRLEN + 2];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t n;
	int af;

	p = p != NULL ? p + 3 : address;
	if (*p == '[') {
		p++;
		end = strchr(p, ']');
		af = AF_INET6;
	} else {
		end = strrchr(p, ':');
		af = AF_INET;
	}
	if (end == NULL)
		return false;
	n = (size_t)(end - p);
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, p, n);
	host[n] = '\0';
	if (inet_pton(af, host, bin) != 1)
		return false;
	return inet_ntop(af, bin, ip, (socklen_t)ip_len) != NULL;
}

static const struct raft_server *member(const struct raft *r, raft_id id)
{
	unsigned i;

	for (i = 0; i < r->configuration.n; i++)
		if (r->configuration.servers[i].id == id)
			return &r->configuration.servers[i];
	return NULL;
}

static bool has_leader(const struct raft *r)
{
	return r->state == RAFT_LEADER ||
	       (r->state == RAFT_FOLLOWER &&
		r->follower_state.current_leader.id != 0);
}

enum q53_raft_guard_verdict q53_raft_guard_check(const struct raft *r,
						 const struct raft_message *m,
						 const char *remote_ip,
						 raft_term bound)
{
	const struct raft_server *s;
	raft_term term = q53_raft_guard_term_of(m);
	char ip[INET6_ADDRSTRLEN];

	if (bound == 0)
		bound = Q53_RAFT_GUARD_TERM_BOUND;
	if (term >= Q53_RAFT_GUARD_TERM_MAX)
		return Q53_RAFT_GUARD_TOO_HIGH;
	if (r->configuration.n > 0) {
		s = member(r, m->server_id);
		if (s == NULL)
			return Q53_RAFT_GUARD_NON_MEMBER;
		if (m->server_address == NULL ||
		    strcmp(s->address, m->server_address) != 0)
			return Q53_RAFT_GUARD_ADDRESS;
		if (remote_ip != NULL && remote_ip[0] != '\0' &&
		    q53_raft_guard_address_ip(s->address, ip, sizeof(ip)) &&
		    strcmp(ip, remote_ip) != 0)
			return Q53_RAFT_GUARD_ADDRESS;
	}
	if (m->type == RAFT_IO_REQUEST_VOTE &&
	    m->request_vote.candidate_id != m->server_id)
		return Q53_RAFT_GUARD_CANDIDATE;
	if (term > r->current_term && term - r->current_term > bound &&
	    has_leader(r))
		return Q53_RAFT_GUARD_TERM_AHEAD;
	return Q53_RAFT_GUARD_OK;
}

const char *q53_raft_guard_reason(enum q53_raft_guard_verdict v)
{
	switch (v) {
	case Q53_RAFT_GUARD_OK:
		return "ok";
	case Q53_RAFT_GUARD_NON_MEMBER:
		return "sender is not a member";
	case Q53_RAFT_GUARD_ADDRESS:
		return "sender address is not the member's";
	case Q53_RAFT_GUARD_CANDIDATE:
		return "candidate id is not the sender's";
	case Q53_RAFT_GUARD_TOO_HIGH:
		return "term at or above 2^48";
	case Q53_RAFT_GUARD_TERM_AHEAD:
		return "term too far ahead while a leader is known";
	default:
		return "?";
	}
}
