#include "cluster/cli/cli_node.h"

#include <stdio.h>
#include <string.h>

#include "cluster/cli/cli_table.h"

static json_t *node_json(const Q53__Api__Node *n)
{
	return json_pack(
	    "{s:I,s:s,s:s,s:s,s:b,s:b,s:I,s:s,s:s,s:s}", "Id",
	    (json_int_t)n->id, "RaftAddress", n->raft_address, "ApiAddress",
	    n->api_address, "Role", n->role, "Leader", (int)n->leader,
	    "Reachable", (int)n->reachable, "AppliedIndex",
	    (json_int_t)n->applied_index, "GeoipSha256", n->geoip_sha256,
	    "Site", n->site, "SiteRegion", n->site_region);
}

static int print_table(struct cli_table *t)
{
	int rv = cli_table_print(t, stdout);
	cli_table_free(t);
	if (rv != 0) {
		fputs("q53: out of memory printing the answer\n", stderr);
		return CLI_EXIT_API;
	}
	return CLI_EXIT_OK;
}

static int node_list(struct cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	int rv =
	    cli_parse_args(argc, argv, NULL, 0, pos, 0, &npos, "q53 node list");
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__ListNodesRequest ln = Q53__API__LIST_NODES_REQUEST__INIT;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_LIST_NODES;
	req.list_nodes = &ln;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_LIST_NODES,
			   &r)) != CLI_EXIT_OK)
		return rv;
	Q53__Api__ListNodesResponse *l = r->list_nodes;
	if (cli->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < l->n_nodes; i++)
			json_array_append_new(a, node_json(l->nodes[i]));
		rv = cli_print_json(json_pack("{s:o}", "Nodes", a));
	} else {
		static const char *const headers[] = {
		    "ID",   "ROLE", "LEADER", "REACHABLE", "APPLIED",
		    "RAFT", "API",  "GEOIP",  "SITE"};
		struct cli_table t;
		cli_table_init(&t, 9, headers);
		for (size_t i = 0; i < l->n_nodes; i++) {
			Q53__Api__Node *n = l->nodes[i];
			char id[24], applied[24], geo[16], site[72];
			snprintf(id, sizeof(id), "%llu",
				 (unsigned long long)n->id);
			snprintf(applied, sizeof(applied), "%llu",
				 (unsigned long long)n->applied_index);
			snprintf(geo, sizeof(geo), "%.12s",
				 n->geoip_sha256[0] ? n->geoip_sha256 : "-");
			if (n->site[0] == '\0')
				snprintf(site, sizeof(site), "-");
			else
				snprintf(site, sizeof(site), "%.32s:%.32s",
					 n->site, n->site_region);
			const char *row[9] = {id,
					      n->role,
					      n->leader ? "yes" : "no",
					      n->reachable ? "yes" : "no",
					      applied,
					      n->raft_address,
					      n->api_address[0] ? n->api_address
								: "-",
					      geo,
					      site};
			cli_table_add(&t, row);
		}
		rv = print_table(&t);
	}
	cli_response_free(r);
	return rv;
}

static int node_id_arg(const char *s, uint64_t *id)
{
	unsigned long long v;
	if (cli_parse_u64(s, &v) != 0 || v == 0)
		return cli_usage_error("node ID '%s': expected a number "
				       "greater than 0",
				       s);
	*id = v;
	return CLI_EXIT_OK;
}

static int node_add(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "q53 node add ID RAFT-ADDRESS [--api "
				    "HOST:PORT] [--dns HOST:PORT] [--name N]";
	const char *pos[2], *api = NULL, *dns = NULL, *name = NULL;
	size_t npos;
	const struct cli_opt opts[] = {
	    {"api", &api, NULL},
	    {"dns", &dns, NULL},
	    {"name", &name, NULL},
	};
	int rv = cli_parse_args(argc, argv, opts, 3, pos, 2, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 2)
		return cli_usage_error("node add needs ID and ADDRESS "
				       "(usage: %s)",
				       usage);
	Q53__Api__AddNodeRequest an = Q53__API__ADD_NODE_REQUEST__INIT;
	if ((rv = node_id_arg(pos[0], &an.id)) != CLI_EXIT_OK)
		return rv;
	an.address = (char *)pos[1];
	if (api != NULL)
		an.api_address = (char *)api;
	if (dns != NULL)
		an.dns_address = (char *)dns;
	if (name != NULL)
		an.name = (char *)name;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_ADD_NODE;
	req.add_node = &an;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_ADD_NODE, &r)) !=
	    CLI_EXIT_OK)
		return rv;
	Q53__Api__Node *n = r->add_node->node;
	if (cli->json) {
		rv = cli_print_json(json_pack(
		    "{s:o}", "Node",
		    n != NULL ? node_json(n)
			      : json_pack("{s:I,s:s}", "Id", (json_int_t)an.id,
					  "RaftAddress", an.address)));
	} else {
		printf("added node %llu (%s)%s%s\n", (unsigned long long)an.id,
		       an.address, n != NULL && n->role[0] ? " as " : "",
		       n != NULL ? n->role : "");
	}
	cli_response_free(r);
	return rv;
}

static int node_remove(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "q53 node remove ID";
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("node remove needs an ID (usage: %s)",
				       usage);
	Q53__Api__RemoveNodeRequest rn = Q53__API__REMOVE_NODE_REQUEST__INIT;
	if ((rv = node_id_arg(pos[0], &rn.id)) != CLI_EXIT_OK)
		return rv;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_REMOVE_NODE;
	req.remove_node = &rn;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_REMOVE_NODE,
			   &r)) != CLI_EXIT_OK)
		return rv;
	if (cli->json)
		rv = cli_print_json(
		    json_pack("{s:I}", "RemovedNodeId", (json_int_t)rn.id));
	else
		printf("removed node %llu\n", (unsigned long long)rn.id);
	cli_response_free(r);
	return rv;
}

int cli_node_main(struct cli *cli, int argc, char **argv)
{
	if (argc < 1)
		return cli_usage_error("node needs a sub-command: list, add, "
				       "remove");
	if (strcmp(argv[0], "list") == 0)
		return node_list(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "add") == 0)
		return node_add(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "remove") == 0)
		return node_remove(cli, argc - 1, argv + 1);
	return cli_usage_error("unknown node sub-command '%s' (list, add, "
			       "remove)",
			       argv[0]);
}

int cli_node_status(struct cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	int rv =
	    cli_parse_args(argc, argv, NULL, 0, pos, 0, &npos, "q53 status");
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__StatusRequest st = Q53__API__STATUS_REQUEST__INIT;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_STATUS;
	req.status = &st;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_STATUS, &r)) !=
	    CLI_EXIT_OK)
		return rv;
	Q53__Api__StatusResponse *s = r->status;
	if (cli->json) {
		rv = cli_print_json(json_pack(
		    "{s:s,s:I,s:s,s:I,s:s,s:I,s:I,s:I,s:i,s:i,s:s,s:b,s:I,s:s,"
		    "s:s,s:s,s:s,s:s}",
		    "Node", cli->client.endpoint, "NodeId",
		    (json_int_t)s->node_id, "State", s->state, "LeaderId",
		    (json_int_t)s->leader_id, "LeaderApi", s->leader_api,
		    "Term", (json_int_t)s->term, "CommitIndex",
		    (json_int_t)s->commit_index, "AppliedIndex",
		    (json_int_t)s->applied_index, "Zones", (int)s->zones,
		    "Nodes", (int)s->nodes, "Version", s->version,
		    "QuorumContact", (int)s->quorum_contact, "ContactAgeMs",
		    (json_int_t)s->contact_age_ms, "GeoipSha256",
		    s->geoip_sha256, "GeoipConsistent", s->geoip_consistent,
		    "Site", s->site, "SiteRegion", s->site_region,
		    "PeerTransport", s->peer_transport));
	} else {
		struct cli_table t;
		cli_table_init(&t, 2, NULL);
		char v[7][48];
		snprintf(v[0], sizeof(v[0]), "%llu",
			 (unsigned long long)s->node_id);
		snprintf(v[1], sizeof(v[1]), "%llu",
			 (unsigned long long)s->leader_id);
		snprintf(v[2], sizeof(v[2]), "%llu",
			 (unsigned long long)s->term);
		snprintf(v[3], sizeof(v[3]), "%llu / %llu",
			 (unsigned long long)s->commit_index,
			 (unsigned long long)s->applied_index);
		snprintf(v[4], sizeof(v[4]), "%u", (unsigned)s->zones);
		snprintf(v[5], sizeof(v[5]), "%u", (unsigned)s->nodes);
		if (s->contact_age_ms < 0)
			snprintf(v[6], sizeof(v[6]), "%s (never)",
				 s->quorum_contact ? "yes" : "no");
		else
			snprintf(v[6], sizeof(v[6]), "%s (%lld ms ago)",
				 s->quorum_contact ? "yes" : "no",
				 (long long)s->contact_age_ms);
		const char *rows[][2] = {
		    {"Node", cli->client.endpoint},
		    {"NodeId", v[0]},
		    {"State", s->state},
		    {"Leader", v[1]},
		    {"LeaderApi", s->leader_api[0] ? s->leader_api : "-"},
		    {"Term", v[2]},
		    {"Commit/Applied", v[3]},
		    {"Zones", v[4]},
		    {"Nodes", v[5]},
		    {"QuorumContact", v[6]},
		    {"Version", s->version[0] ? s->version : "-"},
		    {"GeoipSha256", s->geoip_sha256[0] ? s->geoip_sha256 : "-"},
		    {"GeoipConsistent", s->geoip_consistent},
		    {"PeerTransport",
		     s->peer_transport[0] ? s->peer_transport : "-"},
		    {"Site", s->site[0] ? s->site : "-"},
		    {"SiteRegion", s->site_region[0] ? s->site_region : "-"},
		};
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			cli_table_add(&t, rows[i]);
		rv = print_table(&t);
	}
	cli_response_free(r);
	return rv;
}
