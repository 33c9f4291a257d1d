#include "cluster/cli/cli_query_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"

static json_t *config_json(const Q53__Api__QueryLoggingConfig *c)
{
	return json_pack("{s:s,s:s,s:s}", "Id", c->id, "HostedZoneId",
			 c->hosted_zone_id, "CloudWatchLogsLogGroupArn",
			 c->cloud_watch_logs_log_group_arn);
}

static int ql_create(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 query-logging create ZONE [--log-group-arn ARN]";
	const char *arn = NULL, *pos[1];
	size_t npos;
	const struct cli_opt opts[] = {{"log-group-arn", &arn, NULL}};
	int rv = cli_parse_args(argc, argv, opts, 1, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("query-logging create needs a ZONE; "
				       "usage: %s",
				       usage);
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__CreateQueryLoggingConfigRequest c =
	    Q53__API__CREATE_QUERY_LOGGING_CONFIG_REQUEST__INIT;
	c.hosted_zone_id = (char *)pos[0];
	c.cloud_watch_logs_log_group_arn = (char *)(arn != NULL ? arn : "");
	req.body_case = Q53__API__REQUEST__BODY_CREATE_QUERY_LOGGING;
	req.create_query_logging = &c;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_CREATE_QUERY_LOGGING,
		      &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	const Q53__Api__QueryLoggingConfig *cfg =
	    r->create_query_logging->config;
	if (cfg == NULL)
		rv = cli_fail(cli, CLI_EXIT_API, "InternalError",
			      "the answer holds no config");
	else if (cli->json)
		rv = cli_print_json(
		    json_pack("{s:o}", "QueryLoggingConfig", config_json(cfg)));
	else
		printf("%s  %s\n", cfg->id, cfg->hosted_zone_id);
	cli_response_free(r);
	return rv;
}

static int ql_delete(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "q53 query-logging delete ID";
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("query-logging delete needs an ID; "
				       "usage: %s",
				       usage);
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__DeleteQueryLoggingConfigRequest d =
	    Q53__API__DELETE_QUERY_LOGGING_CONFIG_REQUEST__INIT;
	d.id = (char *)pos[0];
	req.body_case = Q53__API__REQUEST__BODY_DELETE_QUERY_LOGGING;
	req.delete_query_logging = &d;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_DELETE_QUERY_LOGGING,
		      &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (cli->json)
		rv = cli_print_json(json_object());
	cli_response_free(r);
	return rv;
}

static int ql_list(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "q53 query-logging list [ZONE]";
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__ListQueryLoggingConfigsRequest l =
	    Q53__API__LIST_QUERY_LOGGING_CONFIGS_REQUEST__INIT;
	l.hosted_zone_id = (char *)(npos == 1 ? pos[0] : "");
	req.body_case = Q53__API__REQUEST__BODY_LIST_QUERY_LOGGING;
	req.list_query_logging = &l;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_LIST_QUERY_LOGGING,
		      &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	const Q53__Api__ListQueryLoggingConfigsResponse *lr =
	    r->list_query_logging;
	if (cli->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < lr->n_configs; i++)
			json_array_append_new(a, config_json(lr->configs[i]));
		rv = cli_print_json(
		    json_pack("{s:o}", "QueryLoggingConfigs", a));
	} else {
		for (size_t i = 0; i < lr->n_configs; i++)
			printf("%s  %s  %s\n", lr->configs[i]->id,
			       lr->configs[i]->hosted_zone_id,
			       lr->configs[i]->cloud_watch_logs_log_group_arn);
	}
	cli_response_free(r);
	return rv;
}

int cli_query_log_main(struct cli *cli, int argc, char **argv)
{
	if (argc < 1)
		return cli_usage_error(
		    "query-logging needs create, delete or list");
	const char *c = argv[0];
	if (strcmp(c, "create") == 0)
		return ql_create(cli, argc - 1, argv + 1);
	if (strcmp(c, "delete") == 0)
		return ql_delete(cli, argc - 1, argv + 1);
	if (strcmp(c, "list") == 0)
		return ql_list(cli, argc - 1, argv + 1);
	return cli_usage_error("unknown query-logging command '%s'", c);
}
