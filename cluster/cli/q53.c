/* q53: the command-line client of a quorum53 cluster. Talks to one q53d
 * API endpoint (--node, $Q53_NODE, default 127.0.0.1:8053); writes sent to
 * a follower are forwarded by the cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cli/cli.h"
#include "cluster/cli/cli_flow.h"
#include "cluster/cli/cli_health.h"
#include "cluster/cli/cli_key.h"
#include "cluster/cli/cli_node.h"
#include "cluster/cli/cli_zone.h"

#define MAX_ARGS 256

static void usage(FILE *f)
{
	fputs(
	    "usage: q53 [--node HOST:PORT] [--json] [--timeout S] COMMAND ...\n"
	    "\n"
	    "Hosted zones\n"
	    "  zone create NAME [--caller-reference R] [--comment C]\n"
	    "  zone list\n"
	    "  zone get ID|NAME\n"
	    "  zone delete ID|NAME           (only an empty zone: SOA + NS)\n"
	    "  zone import ID|NAME FILE|-    (zone file replaces the records)\n"
	    "  zone export ID|NAME\n"
	    "  zone comment ID|NAME [TEXT]   (no TEXT: remove the comment)\n"
	    "  change-batch ID|NAME FILE|-   (AWS CLI change-batch JSON)\n"
	    "  get-change ID [--wait] [--wait-timeout S]   (default 120 s)\n"
	    "  records list ID|NAME\n"
	    "  test-answer ID|NAME RECORD-NAME TYPE [--resolver-ip IP]\n"
	    "      [--client-subnet ADDR/LEN] [--id N]   (what the node of "
	    "--node\n"
	    "      answers, through its DNS query path; --id: the query ID, "
	    "default 0)\n"
	    "  audit [--zone ID] [--max-items N]   (recent changes: who, "
	    "when)\n"
	    "Traffic Flow (Route 53 traffic policy documents; JSON output)\n"
	    "  traffic-policy create NAME FILE|- [--comment C]\n"
	    "  traffic-policy version ID FILE|- [--comment C]   (a new "
	    "version)\n"
	    "  traffic-policy get ID VERSION | list | versions ID\n"
	    "  traffic-policy comment ID VERSION TEXT\n"
	    "  traffic-policy delete ID VERSION   (not while a policy record "
	    "uses it)\n"
	    "  policy-record create ZONE-ID NAME TTL POLICY-ID VERSION\n"
	    "  policy-record get ID | count | delete ID\n"
	    "  policy-record list [--zone ZONE-ID] [--policy ID --version N]\n"
	    "  policy-record update ID TTL POLICY-ID VERSION\n"
	    "Access keys of the Route 53 REST API (IAM policy JSON)\n"
	    "  key create --policy FILE|- [--description D]   (prints the "
	    "secret once)\n"
	    "  key list\n"
	    "  key delete ID\n"
	    "Health checks (Route 53 HealthCheckConfig JSON)\n"
	    "  health create FILE|- [--caller-reference R]\n"
	    "  health get ID\n"
	    "  health list\n"
	    "  health update ID FILE|- [--health-check-version N]\n"
	    "  health delete ID              (not while record sets use it)\n"
	    "  health status ID              (every node's observation and "
	    "vote,\n"
	    "                                 the decided status, last "
	    "transition)\n"
	    "Cluster\n"
	    "  node list\n"
	    "  node add ID RAFT-ADDRESS [--api HOST:PORT] [--dns HOST:PORT] "
	    "[--name N]\n"
	    "  node remove ID\n"
	    "  status\n"
	    "\n"
	    "Options (anywhere on the line)\n"
	    "  --node HOST:PORT  q53d API address (default: $Q53_NODE, else "
	    "127.0.0.1:8053)\n"
	    "  --json            machine-readable output on stdout\n"
	    "  --timeout S       seconds to wait for each answer (default "
	    "10)\n"
	    "  --help, --version\n"
	    "\n"
	    "Exit status: 0 ok, 1 refused by the node (q53: CODE: reason),\n"
	    "2 usage or input file, 3 node unreachable or silent, 4 change\n"
	    "still PENDING when get-change --wait gave up.\n",
	    f);
}

struct globals {
	const char *node;
	const char *timeout;
	bool json;
	bool help;
	bool version;
};

/* Takes the global options out of argv wherever they are (before "--"),
 * leaving the command and its arguments in rest. */
static int split_globals(int argc, char **argv, struct globals *g, char **rest,
			 int *nrest)
{
	bool done = false;
	*nrest = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **value = NULL;
		size_t n = 0;
		if (!done && strcmp(a, "--") == 0)
			done = true;
		if (!done &&
		    (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			g->help = true;
			continue;
		}
		if (!done && strcmp(a, "--version") == 0) {
			g->version = true;
			continue;
		}
		if (!done && strcmp(a, "--json") == 0) {
			g->json = true;
			continue;
		}
		if (!done && strncmp(a, "--node", 6) == 0 &&
		    (a[6] == '\0' || a[6] == '=')) {
			value = &g->node;
			n = 6;
		} else if (!done && strncmp(a, "--timeout", 9) == 0 &&
			   (a[9] == '\0' || a[9] == '=')) {
			value = &g->timeout;
			n = 9;
		}
		if (value != NULL) {
			if (a[n] == '=')
				*value = a + n + 1;
			else if (i + 1 < argc)
				*value = argv[++i];
			else
				return cli_usage_error(
				    "option %s needs a value", a);
			continue;
		}
		if (*nrest == MAX_ARGS)
			return cli_usage_error("too many arguments");
		rest[(*nrest)++] = argv[i];
	}
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct globals g = {0};
	char *rest[MAX_ARGS];
	int nrest;
	int rv = split_globals(argc, argv, &g, rest, &nrest);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (g.help) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (g.version) {
		printf("q53 %s\n", Q53_VERSION);
		return CLI_EXIT_OK;
	}
	if (nrest == 0) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}

	unsigned timeout_ms = CLI_CLIENT_DEFAULT_TIMEOUT_MS;
	if (g.timeout != NULL) {
		char *end;
		double s = strtod(g.timeout, &end);
		if (end == g.timeout || *end != '\0' || !(s > 0) || s > 3600)
			return cli_usage_error("--timeout '%s': expected "
					       "seconds, more than 0 and at "
					       "most 3600",
					       g.timeout);
		timeout_ms = (unsigned)(s * 1000);
		if (timeout_ms == 0)
			timeout_ms = 1;
	}
	const char *node = g.node;
	if (node == NULL)
		node = getenv("Q53_NODE");

	struct cli cli = {.json = g.json};
	if (cli_client_init(&cli.client, node, timeout_ms) != 0)
		return cli_usage_error("%s", cli.client.errmsg);

	const char *cmd = rest[0];
	int cargc = nrest - 1;
	char **cargv = rest + 1;
	if (strcmp(cmd, "zone") == 0)
		rv = cli_zone_main(&cli, cargc, cargv);
	else if (strcmp(cmd, "change-batch") == 0)
		rv = cli_zone_change_batch(&cli, cargc, cargv);
	else if (strcmp(cmd, "get-change") == 0)
		rv = cli_zone_get_change(&cli, cargc, cargv);
	else if (strcmp(cmd, "records") == 0)
		rv = cli_zone_records(&cli, cargc, cargv);
	else if (strcmp(cmd, "test-answer") == 0)
		rv = cli_zone_test_answer(&cli, cargc, cargv);
	else if (strcmp(cmd, "health") == 0)
		rv = cli_health_main(&cli, cargc, cargv);
	else if (strcmp(cmd, "node") == 0)
		rv = cli_node_main(&cli, cargc, cargv);
	else if (strcmp(cmd, "status") == 0)
		rv = cli_node_status(&cli, cargc, cargv);
	else if (strcmp(cmd, "key") == 0)
		rv = cli_key_main(&cli, cargc, cargv);
	else if (strcmp(cmd, "audit") == 0)
		rv = cli_zone_audit(&cli, cargc, cargv);
	else if (strcmp(cmd, "traffic-policy") == 0)
		rv = cli_flow_policy_main(&cli, cargc, cargv);
	else if (strcmp(cmd, "policy-record") == 0)
		rv = cli_flow_record_main(&cli, cargc, cargv);
	else if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		rv = CLI_EXIT_OK;
	} else
		rv = cli_usage_error("unknown command '%s'", cmd);
	cli_client_close(&cli.client);
	fflush(stdout);
	return rv;
}
