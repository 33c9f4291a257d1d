/* q53: the command-line client of a quorum53 cluster. Talks to one q53d's
 * HTTP(S) API (--endpoint, $Q53_ENDPOINT, default http://127.0.0.1:9053),
 * every request signed with an access key (SigV4); writes sent to a
 * follower are forwarded by the cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cli/cli.h"
#include "cluster/cli/cli_flow.h"
#include "cluster/cli/cli_health.h"
#include "cluster/cli/cli_cidr.h"
#include "cluster/cli/cli_query_log.h"
#include "cluster/cli/cli_key.h"
#include "cluster/cli/cli_latency.h"
#include "cluster/cli/cli_node.h"
#include "cluster/cli/cli_zone.h"

#define MAX_ARGS 256

static void usage(FILE *f)
{
	fputs(
	    "usage: q53 [--endpoint URL] [--key-file FILE | --data DIR] "
	    "[--json]\n"
	    "           [--timeout S] COMMAND ...\n"
	    "\n"
	    "Hosted zones\n"
	    "  zone create NAME [--caller-reference R] [--comment C]\n"
	    "  zone list\n"
	    "  zone get ID|NAME\n"
	    "  zone delete ID|NAME           (only an empty zone: SOA + NS)\n"
	    "  zone import ID|NAME FILE|-    (zone file replaces the records)\n"
	    "  zone import ID|NAME --axfr HOST:PORT [--tsig NAME:ALG:SECRET]\n"
	    "      (pulls the zone by AXFR from its current primary; one "
	    "change)\n"
	    "  zone export ID|NAME\n"
	    "  zone comment ID|NAME [TEXT]   (no TEXT: remove the comment)\n"
	    "  zone transfer ID|NAME [--secondaries IP[:PORT],... --tsig\n"
	    "      NAME[:hmac-sha256[:BASE64]],...] [--off]   (AXFR/IXFR and "
	    "NOTIFY\n"
	    "      to secondaries with TSIG; no secret: generated; no "
	    "option: show)\n"
	    "  zone limit ID|NAME [N]        MAX_RRSETS_BY_ZONE and the zone's "
	    "count;\n"
	    "                                with N: raise or lower it (0: "
	    "none)\n"
	    "  change-batch ID|NAME FILE|-   (AWS CLI change-batch JSON)\n"
	    "  get-change ID [--wait] [--wait-timeout S]   (default 120 s)\n"
	    "  records list ID|NAME\n"
	    "  test-answer ID|NAME RECORD-NAME TYPE [--resolver-ip IP]\n"
	    "      [--client-subnet ADDR/LEN] [--id N]   (what the node of "
	    "--endpoint\n"
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
	    "Access keys of the HTTP API (q53 and Route 53 tools; IAM policy "
	    "JSON)\n"
	    "  key create --policy FILE|- [--description D]   (prints the "
	    "secret once)\n"
	    "  key list\n"
	    "  key delete ID\n"
	    "Latency routing: the replicated latency table\n"
	    "  latency set CIDR REGION=MS [REGION=MS ...] [--replace-all]\n"
	    "  latency delete CIDR [CIDR ...]\n"
	    "  latency list                  (API rows and the rows each "
	    "site's\n"
	    "                                 probers measured)\n"
	    "CIDR collections (IP-based routing: CidrRoutingConfig)\n"
	    "  query-logging create ZONE [--log-group-arn ARN]\n"
	    "  query-logging delete ID\n"
	    "  query-logging list [ZONE]     (the log: each node's "
	    "--query-log-dir)\n"
	    "  cidr create NAME [--caller-reference R]\n"
	    "  cidr put ID LOCATION CIDR... [--collection-version N]\n"
	    "  cidr delete-blocks ID LOCATION CIDR... [--collection-version "
	    "N]\n"
	    "  cidr change ID --changes FILE|- [--collection-version N]   "
	    "(the AWS\n"
	    "      CLI's JSON: [{\"LocationName\", \"Action\", "
	    "\"CidrList\"}])\n"
	    "  cidr delete ID                (only empty and unused)\n"
	    "  cidr list\n"
	    "  cidr locations ID\n"
	    "  cidr blocks ID [--location L]\n"
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
	    "  --endpoint URL    the node's --http address, "
	    "http[s]://HOST:PORT "
	    "(default:\n"
	    "                    $Q53_ENDPOINT, else http://127.0.0.1:9053)\n"
	    "  --key-file FILE   the access key to sign with: lines "
	    "AWS_ACCESS_KEY_ID=...\n"
	    "                    and AWS_SECRET_ACCESS_KEY=... "
	    "(DATA/admin-key's "
	    "form)\n"
	    "  --data DIR        sign with DIR/admin-key, a local node's "
	    "administrator key\n"
	    "                    (without either: $Q53_KEY_FILE, else "
	    "$Q53_ACCESS_KEY_ID and\n"
	    "                    $Q53_SECRET_ACCESS_KEY, else "
	    "$AWS_ACCESS_KEY_ID and\n"
	    "                    $AWS_SECRET_ACCESS_KEY)\n"
	    "  --ca-file FILE    PEM CAs for an https:// endpoint (default: "
	    "$Q53_CA_FILE,\n"
	    "                    else the system's)\n"
	    "  --json            machine-readable output on stdout\n"
	    "  --timeout S       seconds to wait for each answer (default "
	    "10)\n"
	    "  --help, --version\n"
	    "\n"
	    "Exit status: 0 ok, 1 refused by the node (q53: CODE: reason),\n"
	    "2 usage, input file or no access key, 3 node unreachable or "
	    "silent,\n"
	    "4 change still PENDING when get-change --wait gave up.\n",
	    f);
}

struct globals {
	const char *endpoint;
	const char *key_file;
	const char *data;
	const char *ca_file;
	const char *node; /* the old NNG flag: refused with a hint */
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
		static const struct {
			const char *name;
			size_t off;
		} vals[] = {
		    {"--endpoint", offsetof(struct globals, endpoint)},
		    {"--key-file", offsetof(struct globals, key_file)},
		    {"--data", offsetof(struct globals, data)},
		    {"--ca-file", offsetof(struct globals, ca_file)},
		    {"--node", offsetof(struct globals, node)},
		    {"--timeout", offsetof(struct globals, timeout)},
		};
		for (size_t v = 0; !done && v < sizeof(vals) / sizeof(vals[0]);
		     v++) {
			size_t len = strlen(vals[v].name);
			if (strncmp(a, vals[v].name, len) == 0 &&
			    (a[len] == '\0' || a[len] == '=')) {
				value =
				    (const char **)((char *)g + vals[v].off);
				n = len;
				break;
			}
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

/* The access key, from the first of: --key-file, --data DIR
 * (DIR/admin-key), $Q53_KEY_FILE, $Q53_ACCESS_KEY_ID +
 * $Q53_SECRET_ACCESS_KEY, $AWS_ACCESS_KEY_ID + $AWS_SECRET_ACCESS_KEY.
 * None: CLI_EXIT_USAGE with what to do. */
static int cli_credentials(struct cli_client *c, const struct globals *g)
{
	char akid[CLI_CLIENT_KEY_MAX + 2], secret[CLI_CLIENT_KEY_MAX + 2];
	char path[4200], source[4300], err[4400];
	const char *file = g->key_file;
	int rv;

	if (file == NULL && g->data != NULL) {
		snprintf(path, sizeof(path), "%s/admin-key", g->data);
		file = path;
		if (access(path, F_OK) != 0) {
			char pending[4300];
			snprintf(pending, sizeof(pending), "%s.new", path);
			return cli_usage_error(
			    "--data %s: no %s%s", g->data, path,
			    access(pending, F_OK) == 0
				? " yet (the node wrote admin-key.new and "
				  "renames it once the cluster committed the "
				  "key: retry in a moment)"
				: " (only the node that bootstrapped the "
				  "cluster with --http writes it; give "
				  "--key-file FILE or a key in the "
				  "environment)");
		}
	}
	if (file == NULL)
		file = getenv("Q53_KEY_FILE");
	if (file != NULL) {
		if (cli_client_read_key_file(file, akid, secret, sizeof(akid),
					     err, sizeof(err)) != 0)
			return cli_usage_error("%s", err);
		snprintf(source, sizeof(source), "key file %s", file);
		rv = cli_client_set_key(c, akid, secret, source);
		memset(secret, 0, sizeof(secret));
		return rv == 0 ? CLI_EXIT_OK : cli_usage_error("%s", c->errmsg);
	}
	static const char *const env[][2] = {
	    {"Q53_ACCESS_KEY_ID", "Q53_SECRET_ACCESS_KEY"},
	    {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
	};
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		const char *id = getenv(env[i][0]), *sec = getenv(env[i][1]);
		if (id == NULL && sec == NULL)
			continue;
		if (id == NULL || sec == NULL || id[0] == '\0' ||
		    sec[0] == '\0')
			return cli_usage_error(
			    "%s is set but %s is not",
			    id != NULL && id[0] ? env[i][0] : env[i][1],
			    id != NULL && id[0] ? env[i][1] : env[i][0]);
		snprintf(source, sizeof(source), "$%s", env[i][0]);
		return cli_client_set_key(c, id, sec, source) == 0
			   ? CLI_EXIT_OK
			   : cli_usage_error("%s", c->errmsg);
	}
	return cli_usage_error(
	    "no access key: every request is signed (SigV4); give --data "
	    "DIR (a local node's DIR/admin-key), --key-file FILE, or set "
	    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the Q53_ "
	    "variants)");
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
	if (g.node != NULL)
		return cli_usage_error(
		    "--node (the NNG --api address) is gone: q53 talks to the "
		    "node's HTTP API, --endpoint http://HOST:PORT (q53d's "
		    "--http address)");
	const char *endpoint = g.endpoint;
	if (endpoint == NULL)
		endpoint = getenv("Q53_ENDPOINT");
	if (endpoint == NULL && getenv("Q53_NODE") != NULL)
		return cli_usage_error(
		    "Q53_NODE (the NNG --api address) is no longer used: set "
		    "Q53_ENDPOINT=http://HOST:PORT (q53d's --http address)");

	struct cli cli = {.json = g.json};
	if (cli_client_init(&cli.client, endpoint, timeout_ms) != 0)
		return cli_usage_error("%s", cli.client.errmsg);
	if ((rv = cli_credentials(&cli.client, &g)) != CLI_EXIT_OK)
		return rv;
	const char *ca = g.ca_file != NULL ? g.ca_file : getenv("Q53_CA_FILE");
	if (ca != NULL)
		snprintf(cli.client.ca_file, sizeof(cli.client.ca_file), "%s",
			 ca);

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
	else if (strcmp(cmd, "latency") == 0)
		rv = cli_latency_main(&cli, cargc, cargv);
	else if (strcmp(cmd, "cidr") == 0)
		rv = cli_cidr_main(&cli, cargc, cargv);
	else if (strcmp(cmd, "query-logging") == 0)
		rv = cli_query_log_main(&cli, cargc, cargv);
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
