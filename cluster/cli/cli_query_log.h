/* q53 query-logging create|delete|list: Route 53's query logging configs
 * (CreateQueryLoggingConfig, DeleteQueryLoggingConfig,
 * ListQueryLoggingConfigs), over the node's API. The log itself is each
 * node's --query-log-dir/queries.log. */
#ifndef Q53_CLUSTER_CLI_CLI_QUERY_LOG_H
#define Q53_CLUSTER_CLI_CLI_QUERY_LOG_H

#include "cluster/cli/cli.h"

int cli_query_log_main(struct cli *cli, int argc, char **argv);

#endif
