#include "cluster/cli/cli_health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/api_msg.h"
#include "cluster/cli/cli_table.h"

#define MAX_PAGES 100000

/* ISO 8601 UTC with milliseconds; "-" for 0. */
static void time_text(uint64_t ms, char *out, size_t outlen)
{
	if (ms == 0) {
		snprintf(out, outlen, "-");
		return;
	}
	api_msg_iso_time(ms, out, outlen);
}

static json_t *time_json(uint64_t ms)
{
	char when[64];
	time_text(ms, when, sizeof(when));
	return ms != 0 ? json_string(when) : json_null();
}

static const char *status_text(bool healthy)
{
	return healthy ? "HEALTHY" : "UNHEALTHY";
}

static void kv(struct cli_table *t, const char *k, const char *v)
{
	const char *row[2] = {k, v};
	cli_table_add(t, row);
}

static int print_kv(struct cli_table *t)
{
	int rv = cli_table_print(t, stdout);
	cli_table_free(t);
	if (rv != 0) {
		fputs("q53: out of memory printing the answer\n", stderr);
		return CLI_EXIT_API;
	}
	return CLI_EXIT_OK;
}

/* The config as a JSON object (null if the node sent something else). */
static json_t *config_json(const Q53__Api__HealthCheck *h)
{
	json_error_t err;
	json_t *c = json_loadb((const char *)h->config_json.data,
			       h->config_json.len, 0, &err);
	return c != NULL ? c : json_null();
}

/* Route 53's HealthCheck shape plus the decided status. */
static json_t *check_json(const Q53__Api__HealthCheck *h)
{
	json_t *o = json_object();
	json_object_set_new(o, "Id", json_string(h->id));
	json_object_set_new(o, "CallerReference",
			    json_string(h->caller_reference));
	json_object_set_new(o, "HealthCheckConfig", config_json(h));
	json_object_set_new(o, "HealthCheckVersion",
			    json_integer((json_int_t)h->version));
	json_object_set_new(o, "Status", json_string(status_text(h->healthy)));
	json_object_set_new(o, "TransitionIndex",
			    json_integer((json_int_t)h->transition_index));
	json_object_set_new(o, "TransitionAt", time_json(h->transition_at_ms));
	return o;
}

/* "HTTP 127.0.0.1:8081/health" and the like, for tables. */
static void endpoint_text(json_t *cfg, char *out, size_t len)
{
	const char *type = json_string_value(json_object_get(cfg, "Type"));
	const char *ip = json_string_value(json_object_get(cfg, "IPAddress"));
	const char *fqdn =
	    json_string_value(json_object_get(cfg, "FullyQualifiedDomainName"));
	const char *path =
	    json_string_value(json_object_get(cfg, "ResourcePath"));
	json_int_t port = json_integer_value(json_object_get(cfg, "Port"));
	const char *host = ip != NULL && ip[0] ? ip : fqdn != NULL ? fqdn : "";

	if (type != NULL && strcmp(type, "CALCULATED") == 0) {
		snprintf(
		    out, len, "%zu children",
		    json_array_size(json_object_get(cfg, "ChildHealthChecks")));
		return;
	}
	snprintf(out, len, "%s:%lld%s", host, (long long)port,
		 path != NULL ? path : "");
}

static int print_check(const struct cli *cli, const char *verb,
		       const Q53__Api__HealthCheck *h)
{
	if (h == NULL)
		return cli_fail(cli, CLI_EXIT_API, "InternalError",
				"the answer holds no health check");
	if (cli->json)
		return cli_print_json(
		    json_pack("{s:o}", "HealthCheck", check_json(h)));
	json_t *cfg = config_json(h);
	char endpoint[600], version[24], index[24], when[64];
	const char *type = json_string_value(json_object_get(cfg, "Type"));
	endpoint_text(cfg, endpoint, sizeof(endpoint));
	snprintf(version, sizeof(version), "%llu",
		 (unsigned long long)h->version);
	snprintf(index, sizeof(index), "%llu",
		 (unsigned long long)h->transition_index);
	time_text(h->transition_at_ms, when, sizeof(when));
	struct cli_table t;
	cli_table_init(&t, 2, NULL);
	if (verb != NULL)
		kv(&t, "Result", verb);
	kv(&t, "Id", h->id);
	if (h->caller_reference[0])
		kv(&t, "CallerReference", h->caller_reference);
	kv(&t, "Type", type != NULL ? type : "?");
	kv(&t, "Endpoint", endpoint);
	kv(&t, "Version", version);
	kv(&t, "Status", status_text(h->healthy));
	kv(&t, "TransitionIndex", index);
	kv(&t, "TransitionAt", when);
	char *text = json_dumps(cfg, JSON_COMPACT);
	kv(&t, "Config", text != NULL ? text : "");
	free(text);
	json_decref(cfg);
	return print_kv(&t);
}

static int id_only(int argc, char **argv, const char *usage, const char **id)
{
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("missing health check ID (usage: %s)",
				       usage);
	*id = pos[0];
	return CLI_EXIT_OK;
}

/* --- create / update ------------------------------------------------------ */

/* Splits a CreateHealthCheck input {"CallerReference", "HealthCheckConfig"}
 * into its parts; a bare HealthCheckConfig (or text that is not JSON:
 * the node names the problem) stays as it is. *config is malloc'd. */
static int unwrap_input(const char *text, size_t len, char **config,
			size_t *config_len, char *ref, size_t reflen)
{
	json_error_t err;
	json_t *root = json_loadb(text, len, 0, &err);
	json_t *inner =
	    root != NULL ? json_object_get(root, "HealthCheckConfig") : NULL;

	ref[0] = '\0';
	if (inner != NULL && json_is_object(inner)) {
		const char *r =
		    json_string_value(json_object_get(root, "CallerReference"));
		if (r != NULL)
			snprintf(ref, reflen, "%s", r);
		*config = json_dumps(inner, JSON_COMPACT);
		json_decref(root);
		if (*config == NULL)
			return -1;
		*config_len = strlen(*config);
		return 0;
	}
	json_decref(root);
	*config = malloc(len + 1);
	if (*config == NULL)
		return -1;
	memcpy(*config, text, len);
	(*config)[len] = '\0';
	*config_len = len;
	return 0;
}

static int health_create(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 health create FILE|- [--caller-reference R]";
	const char *ref = NULL, *pos[1];
	size_t npos;
	const struct cli_opt opts[] = {{"caller-reference", &ref, NULL}};
	int rv = cli_parse_args(argc, argv, opts, 1, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("health create needs a FILE with a "
				       "HealthCheckConfig (usage: %s)",
				       usage);
	char *text, *config;
	size_t len, config_len;
	char file_ref[256];
	if ((rv = cli_read_file(cli, pos[0], &text, &len)) != CLI_EXIT_OK)
		return rv;
	if (unwrap_input(text, len, &config, &config_len, file_ref,
			 sizeof(file_ref)) != 0) {
		free(text);
		return cli_fail(cli, CLI_EXIT_USAGE, NULL, "out of memory");
	}
	free(text);
	Q53__Api__CreateHealthCheckRequest c =
	    Q53__API__CREATE_HEALTH_CHECK_REQUEST__INIT;
	c.caller_reference = (char *)(ref != NULL ? ref : file_ref);
	c.config_json.data = (uint8_t *)config;
	c.config_json.len = config_len;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_CREATE_HEALTH_CHECK;
	req.create_health_check = &c;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_CREATE_HEALTH_CHECK,
		      &r);
	free(config);
	if (rv != CLI_EXIT_OK)
		return rv;
	rv = print_check(cli, "created", r->create_health_check->health_check);
	cli_response_free(r);
	return rv;
}

static int health_update(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 health update ID FILE|- [--health-check-version N]";
	const char *version = NULL, *pos[2];
	size_t npos;
	const struct cli_opt opts[] = {
	    {"health-check-version", &version, NULL}};
	int rv = cli_parse_args(argc, argv, opts, 1, pos, 2, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 2)
		return cli_usage_error("health update needs ID and FILE "
				       "(usage: %s)",
				       usage);
	unsigned long long v = 0;
	if (version != NULL && (cli_parse_u64(version, &v) != 0 || v == 0))
		return cli_usage_error(
		    "--health-check-version '%s': expected the current "
		    "HealthCheckVersion (>= 1)",
		    version);
	char *text, *config;
	size_t len, config_len;
	char file_ref[256];
	if ((rv = cli_read_file(cli, pos[1], &text, &len)) != CLI_EXIT_OK)
		return rv;
	if (unwrap_input(text, len, &config, &config_len, file_ref,
			 sizeof(file_ref)) != 0) {
		free(text);
		return cli_fail(cli, CLI_EXIT_USAGE, NULL, "out of memory");
	}
	free(text);
	Q53__Api__UpdateHealthCheckRequest u =
	    Q53__API__UPDATE_HEALTH_CHECK_REQUEST__INIT;
	u.id = (char *)pos[0];
	u.config_json.data = (uint8_t *)config;
	u.config_json.len = config_len;
	u.version = v;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_UPDATE_HEALTH_CHECK;
	req.update_health_check = &u;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_UPDATE_HEALTH_CHECK,
		      &r);
	free(config);
	if (rv != CLI_EXIT_OK)
		return rv;
	rv = print_check(cli, "updated", r->update_health_check->health_check);
	cli_response_free(r);
	return rv;
}

/* --- get / list / delete -------------------------------------------------- */

static int health_get(struct cli *cli, int argc, char **argv)
{
	const char *id = NULL;
	int rv = id_only(argc, argv, "q53 health get ID", &id);
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__GetHealthCheckRequest g =
	    Q53__API__GET_HEALTH_CHECK_REQUEST__INIT;
	g.id = (char *)id;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_GET_HEALTH_CHECK;
	req.get_health_check = &g;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_GET_HEALTH_CHECK,
			   &r)) != CLI_EXIT_OK)
		return rv;
	rv = print_check(cli, NULL, r->get_health_check->health_check);
	cli_response_free(r);
	return rv;
}

static int health_delete(struct cli *cli, int argc, char **argv)
{
	const char *id = NULL;
	int rv = id_only(argc, argv, "q53 health delete ID", &id);
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__DeleteHealthCheckRequest d =
	    Q53__API__DELETE_HEALTH_CHECK_REQUEST__INIT;
	d.id = (char *)id;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK;
	req.delete_health_check = &d;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req,
			   Q53__API__RESPONSE__BODY_DELETE_HEALTH_CHECK, &r)) !=
	    CLI_EXIT_OK)
		return rv;
	cli_response_free(r);
	if (cli->json)
		return cli_print_json(
		    json_pack("{s:s,s:s}", "Id", id, "Result", "deleted"));
	printf("deleted health check %s\n", id);
	return CLI_EXIT_OK;
}

static int health_list(struct cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 0, &npos,
				"q53 health list");
	if (rv != CLI_EXIT_OK)
		return rv;
	static const char *const headers[] = {"ID",	"TYPE",	   "ENDPOINT",
					      "STATUS", "VERSION", "SINCE"};
	struct cli_table t;
	cli_table_init(&t, 6, headers);
	json_t *checks = json_array();
	char marker[1100] = "";
	for (unsigned page = 0; page < MAX_PAGES; page++) {
		Q53__Api__ListHealthChecksRequest l =
		    Q53__API__LIST_HEALTH_CHECKS_REQUEST__INIT;
		l.marker = marker;
		Q53__Api__Request req = Q53__API__REQUEST__INIT;
		req.body_case = Q53__API__REQUEST__BODY_LIST_HEALTH_CHECKS;
		req.list_health_checks = &l;
		Q53__Api__Response *r;
		if ((rv = cli_call(cli, &req,
				   Q53__API__RESPONSE__BODY_LIST_HEALTH_CHECKS,
				   &r)) != CLI_EXIT_OK)
			goto out;
		Q53__Api__ListHealthChecksResponse *lr = r->list_health_checks;
		for (size_t i = 0; i < lr->n_health_checks; i++) {
			const Q53__Api__HealthCheck *h = lr->health_checks[i];
			json_t *cfg = config_json(h);
			char endpoint[600], version[24], since[24];
			const char *type =
			    json_string_value(json_object_get(cfg, "Type"));
			endpoint_text(cfg, endpoint, sizeof(endpoint));
			snprintf(version, sizeof(version), "%llu",
				 (unsigned long long)h->version);
			snprintf(since, sizeof(since), "index %llu",
				 (unsigned long long)h->transition_index);
			const char *row[6] = {
			    h->id,    type != NULL ? type : "?",
			    endpoint, status_text(h->healthy),
			    version,  since};
			cli_table_add(&t, row);
			json_decref(cfg);
			json_array_append_new(checks, check_json(h));
		}
		bool more = lr->next_marker[0] != '\0' &&
			    strcmp(lr->next_marker, marker) != 0;
		snprintf(marker, sizeof(marker), "%s", lr->next_marker);
		cli_response_free(r);
		if (!more)
			break;
	}
	if (cli->json) {
		rv = cli_print_json(json_pack("{s:O}", "HealthChecks", checks));
	} else {
		rv = print_kv(&t);
		goto out_json;
	}
out:
	cli_table_free(&t);
out_json:
	json_decref(checks);
	return rv;
}

/* --- status -----------------------------------------------------------------
 */

static json_t *node_status_json(const Q53__Api__HealthCheckNodeStatus *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "Id", json_integer((json_int_t)s->node_id));
	json_object_set_new(o, "Name", json_string(s->name));
	json_object_set_new(o, "Reachable", json_boolean(s->reachable));
	json_object_set_new(o, "AppliedIndex",
			    json_integer((json_int_t)s->applied_index));
	json_object_set_new(o, "Observation",
			    s->observed_state[0]
				? json_pack("{s:s,s:s,s:o,s:I}", "State",
					    s->observed_state, "Reason",
					    s->observed_reason, "At",
					    time_json(s->observed_at_ms),
					    "Probes", (json_int_t)s->probes)
				: json_null());
	json_object_set_new(o, "Vote",
			    s->voted
				? json_pack("{s:s,s:s,s:I,s:o}", "Status",
					    status_text(s->vote_healthy),
					    "Reason", s->vote_reason, "Index",
					    (json_int_t)s->vote_index, "At",
					    time_json(s->vote_at_ms))
				: json_null());
	return o;
}

static int health_status(struct cli *cli, int argc, char **argv)
{
	const char *id = NULL;
	int rv = id_only(argc, argv, "q53 health status ID", &id);
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__GetHealthCheckStatusRequest g =
	    Q53__API__GET_HEALTH_CHECK_STATUS_REQUEST__INIT;
	g.id = (char *)id;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_GET_HEALTH_CHECK_STATUS;
	req.get_health_check_status = &g;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req,
			   Q53__API__RESPONSE__BODY_GET_HEALTH_CHECK_STATUS,
			   &r)) != CLI_EXIT_OK)
		return rv;
	const Q53__Api__GetHealthCheckStatusResponse *s =
	    r->get_health_check_status;
	if (cli->json) {
		json_t *nodes = json_array();
		for (size_t i = 0; i < s->n_nodes; i++)
			json_array_append_new(nodes,
					      node_status_json(s->nodes[i]));
		json_t *o = json_object();
		json_object_set_new(o, "HealthCheckId", json_string(s->id));
		json_object_set_new(o, "Status",
				    json_string(status_text(s->healthy)));
		json_object_set_new(o, "Basis", json_string(s->basis));
		json_object_set_new(o, "Members", json_integer(s->members));
		json_object_set_new(o, "Reporting", json_integer(s->reporting));
		json_object_set_new(o, "HealthyVotes",
				    json_integer(s->healthy_votes));
		json_object_set_new(
		    o, "TransitionIndex",
		    json_integer((json_int_t)s->transition_index));
		json_object_set_new(o, "TransitionAt",
				    time_json(s->transition_at_ms));
		json_object_set_new(o, "AnsweredBy",
				    json_integer((json_int_t)s->answered_by));
		json_object_set_new(o, "AppliedIndex",
				    json_integer((json_int_t)s->applied_index));
		json_object_set_new(o, "Nodes", nodes);
		rv = cli_print_json(o);
		cli_response_free(r);
		return rv;
	}
	char when[64], idx[24], votes[64];
	struct cli_table t;
	time_text(s->transition_at_ms, when, sizeof(when));
	snprintf(idx, sizeof(idx), "%llu",
		 (unsigned long long)s->transition_index);
	snprintf(votes, sizeof(votes), "%u healthy of %u reporting, %u members",
		 (unsigned)s->healthy_votes, (unsigned)s->reporting,
		 (unsigned)s->members);
	cli_table_init(&t, 2, NULL);
	kv(&t, "Id", s->id);
	kv(&t, "Status", status_text(s->healthy));
	kv(&t, "Decided", s->basis);
	kv(&t, "Votes", votes);
	kv(&t, "TransitionIndex", idx);
	kv(&t, "TransitionAt", when);
	rv = print_kv(&t);
	if (rv != CLI_EXIT_OK) {
		cli_response_free(r);
		return rv;
	}
	putchar('\n');
	static const char *const headers[] = {
	    "NODE", "NAME",	   "OBSERVED",	 "PROBE RESULT",
	    "VOTE", "VOTE REASON", "VOTE INDEX", "APPLIED"};
	cli_table_init(&t, 8, headers);
	for (size_t i = 0; i < s->n_nodes; i++) {
		const Q53__Api__HealthCheckNodeStatus *n = s->nodes[i];
		char nid[24], vidx[24], applied[24];
		snprintf(nid, sizeof(nid), "%llu",
			 (unsigned long long)n->node_id);
		snprintf(vidx, sizeof(vidx), "%llu",
			 (unsigned long long)n->vote_index);
		snprintf(applied, sizeof(applied), "%llu",
			 (unsigned long long)n->applied_index);
		const char *row[8] = {
		    nid,
		    n->name,
		    !n->reachable	   ? "(unreachable)"
		    : n->observed_state[0] ? n->observed_state
					   : "-",
		    n->observed_reason[0] ? n->observed_reason : "-",
		    n->voted ? status_text(n->vote_healthy) : "-",
		    n->voted ? n->vote_reason : "-",
		    n->voted ? vidx : "-",
		    n->reachable ? applied : "-"};
		cli_table_add(&t, row);
	}
	rv = print_kv(&t);
	cli_response_free(r);
	return rv;
}

int cli_health_main(struct cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct cli *, int, char **);
	} subs[] = {
	    {"create", health_create}, {"get", health_get},
	    {"list", health_list},     {"update", health_update},
	    {"delete", health_delete}, {"status", health_status},
	};
	if (argc < 1)
		return cli_usage_error("health needs a sub-command: create, "
				       "get, list, update, delete, status");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[0], subs[i].name) == 0)
			return subs[i].fn(cli, argc - 1, argv + 1);
	return cli_usage_error("unknown health sub-command '%s' (create, get, "
			       "list, update, delete, status)",
			       argv[0]);
}
