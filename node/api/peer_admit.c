#include "node/api/peer_admit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "node/control/control_fsm.h"
#include "node/raft/raft_guard.h"

/* Whether address is at ip; *literal set when it is an IP literal. */
static bool address_at(const char *address, const char *ip, bool *literal)
{
	char aip[INET6_ADDRSTRLEN];

	if (address == NULL ||
	    !q53_raft_guard_address_ip(address, aip, sizeof(aip)))
		return false;
	*literal = true;
	return strcmp(aip, ip) == 0;
}

/* Whether server s (its raft address, or its API address in the node
 * metadata) is at ip. */
static bool server_at(const struct raft_server *s,
		      const struct control_fsm *fsm, const char *ip,
		      bool *literal)
{
	struct control_fsm_node meta;
	bool at = address_at(s->address, ip, literal);

	if (!at && fsm != NULL && control_fsm_node_get(fsm, s->id, &meta) == 0)
		at = address_at(meta.api_address, ip, literal);
	return at;
}

static bool id_at(const struct raft_configuration *conf,
		  const struct control_fsm *fsm, uint64_t id, const char *ip)
{
	bool literal = false;

	for (unsigned i = 0; i < conf->n; i++)
		if (conf->servers[i].id == id)
			return server_at(&conf->servers[i], fsm, ip,
					 &literal) ||
			       !literal;
	return false;
}

bool peer_admit(const struct raft_configuration *conf,
		const struct control_fsm *fsm, const char *peer_ip,
		const Q53__Api__Request *req, char *why, size_t why_len)
{
	bool literal = false, member = false;
	char aip[INET6_ADDRSTRLEN];

	if (conf == NULL || peer_ip == NULL || peer_ip[0] == '\0' ||
	    strcmp(peer_ip, "-") == 0)
		return true;
	for (unsigned i = 0; i < conf->n; i++)
		member |= server_at(&conf->servers[i], fsm, peer_ip, &literal);
	if (!literal)
		return true;
	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_HEALTH_VOTE:
		if (req->health_vote != NULL &&
		    id_at(conf, fsm, req->health_vote->member_id, peer_ip))
			return true;
		snprintf(why, why_len,
			 "a health vote is taken only from the member it is "
			 "for (this connection comes from %s)",
			 peer_ip);
		return false;
	case Q53__API__REQUEST__BODY_LATENCY_SAMPLES:
		if (req->latency_samples != NULL &&
		    id_at(conf, fsm, req->latency_samples->node_id, peer_ip))
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
		/* Raft and the API may be on networks of their own (the
		 * compose file's): its API address's IP is its own too. */
		if (req->add_node != NULL &&
		    req->add_node->api_address != NULL &&
		    req->add_node->api_address[0] != '\0' &&
		    q53_raft_guard_address_ip(req->add_node->api_address, aip,
					      sizeof(aip)) &&
		    strcmp(aip, peer_ip) == 0)
			return true;
		snprintf(
		    why, why_len,
		    "a node joins only from its own raft or API address's IP "
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
