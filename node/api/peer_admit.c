#include "node/api/peer_admit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "node/raft/raft_guard.h"

/* Whether server id's raft address is at ip; *literal set when it is an IP
 * literal at all. */
static bool server_at(const struct raft_server *s, const char *ip,
		      bool *literal)
{
	char sip[INET6_ADDRSTRLEN];

	if (!q53_raft_guard_address_ip(s->address, sip, sizeof(sip)))
		return false;
	*literal = true;
	return strcmp(sip, ip) == 0;
}

static bool id_at(const struct raft_configuration *conf, uint64_t id,
		  const char *ip)
{
	bool literal = false;

	for (unsigned i = 0; i < conf->n; i++)
		if (conf->servers[i].id == id)
			return server_at(&conf->servers[i], ip, &literal) ||
			       !literal;
	return false;
}

bool peer_admit(const struct raft_configuration *conf, const char *peer_ip,
		const Q53__Api__Request *req, char *why, size_t why_len)
{
	bool literal = false, member = false;
	char aip[INET6_ADDRSTRLEN];

	if (conf == NULL || peer_ip == NULL || peer_ip[0] == '\0' ||
	    strcmp(peer_ip, "-") == 0)
		return true;
	for (unsigned i = 0; i < conf->n; i++)
		member |= server_at(&conf->servers[i], peer_ip, &literal);
	if (!literal)
		return true;
	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_HEALTH_VOTE:
		if (req->health_vote != NULL &&
		    id_at(conf, req->health_vote->member_id, peer_ip))
			return true;
		snprintf(why, why_len,
			 "a health vote is taken only from the member it is "
			 "for (this connection comes from %s)",
			 peer_ip);
		return false;
	case Q53__API__REQUEST__BODY_LATENCY_SAMPLES:
		if (req->latency_samples != NULL &&
		    id_at(conf, req->latency_samples->node_id, peer_ip))
			return true;
		snprintf(why, why_len,
			 "latency samples are taken only from the member "
			 "that measured them (this connection comes from %s)",
			 peer_ip);
		return false;
	case Q53__API__REQUEST__BODY_ADD_NODE:
		if (member)
			return true;
		if (req->add_node != NULL && req->add_node->address != NULL &&
		    q53_raft_guard_address_ip(req->add_node->address, aip,
					      sizeof(aip)) &&
		    strcmp(aip, peer_ip) == 0)
			return true;
		snprintf(why, why_len,
			 "a node joins only from its own raft address's IP "
			 "(this connection comes from %s)",
			 peer_ip);
		return false;
	default:
		if (member)
			return true;
		snprintf(why, why_len,
			 "this API answers cluster members only (%s is not a "
			 "member's address); use the HTTP API",
			 peer_ip);
		return false;
	}
}
