#include "cluster/cli/cli_latency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "cluster/cli/cli_table.h"

#define ROW_REGIONS 32

/* q53 latency set CIDR REGION=MS [REGION=MS ...] [--replace-all] */
static int latency_set(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 latency set CIDR REGION=MS [REGION=MS ...] [--replace-all]";
	const char *pos[1 + ROW_REGIONS];
	size_t npos;
	bool replace = false;
	const struct cli_opt opts[] = {{"replace-all", NULL, &replace}};
	int rv = cli_parse_args(argc, argv, opts, 1, pos, 1 + ROW_REGIONS,
				&npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos < 2)
		return cli_usage_error("latency set needs a CIDR and at least "
				       "one REGION=MS; usage: %s",
				       usage);
	char *regions[ROW_REGIONS];
	uint32_t rtt[ROW_REGIONS];
	char names[ROW_REGIONS][65];
	for (size_t i = 1; i < npos; i++) {
		const char *eq = strchr(pos[i], '=');
		unsigned long long ms;
		if (eq == NULL || eq == pos[i] ||
		    (size_t)(eq - pos[i]) >= sizeof(names[0]) ||
		    cli_parse_u64(eq + 1, &ms) != 0 || ms > 600000)
			return cli_usage_error(
			    "'%s': expected REGION=MS (milliseconds, 0 to "
			    "600000); usage: %s",
			    pos[i], usage);
		memcpy(names[i - 1], pos[i], (size_t)(eq - pos[i]));
		names[i - 1][eq - pos[i]] = '\0';
		regions[i - 1] = names[i - 1];
		rtt[i - 1] = (uint32_t)ms;
	}
	Q53__Api__LatencyRowInfo row = Q53__API__LATENCY_ROW_INFO__INIT;
	Q53__Api__LatencyRowInfo *rows[1] = {&row};
	row.cidr = (char *)pos[0];
	row.regions = regions;
	row.n_regions = npos - 1;
	row.rtt_ms = rtt;
	row.n_rtt_ms = npos - 1;
	Q53__Api__LatencySetRequest s = Q53__API__LATENCY_SET_REQUEST__INIT;
	s.rows = rows;
	s.n_rows = 1;
	s.replace_all = replace;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_LATENCY_SET;
	req.latency_set = &s;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_LATENCY_SET, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (cli->json)
		rv =
		    cli_print_json(json_pack("{s:s,s:i}", "Set", pos[0], "Rows",
					     (int)r->latency_set->rows));
	else
		printf("set %s (%u rows)\n", pos[0],
		       (unsigned)r->latency_set->rows);
	cli_response_free(r);
	return rv;
}

static int latency_delete(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "q53 latency delete CIDR [CIDR ...]";
	const char *pos[64];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 64, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos == 0)
		return cli_usage_error("latency delete needs a CIDR; usage: %s",
				       usage);
	Q53__Api__LatencyDeleteRequest d =
	    Q53__API__LATENCY_DELETE_REQUEST__INIT;
	d.cidrs = (char **)pos;
	d.n_cidrs = npos;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_LATENCY_DELETE;
	req.latency_delete = &d;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_LATENCY_DELETE, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (cli->json)
		rv = cli_print_json(json_pack("{s:i,s:i}", "Deleted", (int)npos,
					      "Rows",
					      (int)r->latency_delete->rows));
	else
		printf("deleted %zu row%s (%u left)\n", npos,
		       npos == 1 ? "" : "s", (unsigned)r->latency_delete->rows);
	cli_response_free(r);
	return rv;
}

static json_t *row_json(const Q53__Api__LatencyRowInfo *x)
{
	json_t *o = json_object(), *rtt = json_object();
	for (size_t k = 0; k < x->n_regions && k < x->n_rtt_ms; k++)
		json_object_set_new(rtt, x->regions[k],
				    json_integer(x->rtt_ms[k]));
	if (x->site[0] != '\0') {
		char when[64] = "-";
		if (x->time_ms > 0)
			api_msg_iso_time(x->time_ms, when, sizeof(when));
		json_object_set_new(o, "Site", json_string(x->site));
		json_object_set_new(o, "NodeId", json_integer(x->node_id));
		json_object_set_new(o, "Measured", json_string(when));
	} else {
		json_object_set_new(o, "Cidr", json_string(x->cidr));
	}
	json_object_set_new(o, "RttMs", rtt);
	return o;
}

static void rtt_text(const Q53__Api__LatencyRowInfo *x, char *out,
		     size_t outlen)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t k = 0; k < x->n_regions && k < x->n_rtt_ms && o < outlen;
	     k++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s=%u",
				      k ? " " : "", x->regions[k],
				      (unsigned)x->rtt_ms[k]);
}

static int latency_list(struct cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 0, &npos,
				"q53 latency list");
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__LatencyListRequest l = Q53__API__LATENCY_LIST_REQUEST__INIT;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_LATENCY_LIST;
	req.latency_list = &l;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_LATENCY_LIST, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	const Q53__Api__LatencyListResponse *ll = r->latency_list;
	if (cli->json) {
		json_t *rows = json_array(), *sites = json_array();
		for (size_t i = 0; i < ll->n_rows; i++)
			json_array_append_new(rows, row_json(ll->rows[i]));
		for (size_t i = 0; i < ll->n_sites; i++)
			json_array_append_new(sites, row_json(ll->sites[i]));
		rv = cli_print_json(
		    json_pack("{s:o,s:o}", "Rows", rows, "Sites", sites));
	} else {
		static const char *const headers[] = {"NETWORK / SITE",
						      "RTT (ms)", "SOURCE"};
		struct cli_table t;
		cli_table_init(&t, 3, headers);
		for (size_t i = 0; i < ll->n_rows + ll->n_sites; i++) {
			const Q53__Api__LatencyRowInfo *x =
			    i < ll->n_rows ? ll->rows[i]
					   : ll->sites[i - ll->n_rows];
			char rtt[1024], src[64];
			rtt_text(x, rtt, sizeof(rtt));
			if (i < ll->n_rows)
				snprintf(src, sizeof(src), "api");
			else
				snprintf(src, sizeof(src),
					 "measured (node %llu)",
					 (unsigned long long)x->node_id);
			const char *row[3] = {
			    i < ll->n_rows ? x->cidr : x->site, rtt, src};
			cli_table_add(&t, row);
		}
		rv = cli_table_print(&t, stdout) == 0 ? CLI_EXIT_OK
						      : CLI_EXIT_API;
		cli_table_free(&t);
	}
	cli_response_free(r);
	return rv;
}

int cli_latency_main(struct cli *cli, int argc, char **argv)
{
	if (argc < 1)
		return cli_usage_error("latency needs set, list or delete");
	if (strcmp(argv[0], "set") == 0)
		return latency_set(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return latency_list(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "delete") == 0)
		return latency_delete(cli, argc - 1, argv + 1);
	return cli_usage_error("unknown latency command '%s'", argv[0]);
}
