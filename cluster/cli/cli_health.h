/* q53 commands on health checks: health create | get | list | update |
 * delete | status. create and update take Route 53's HealthCheckConfig
 * JSON verbatim (a file as `aws route53 create-health-check
 * --health-check-config file://X.json` reads it; the whole
 * CreateHealthCheck input {"CallerReference", "HealthCheckConfig"} is taken
 * too). Each returns an exit code (enum cli_exit), having reported any
 * failure. */
#ifndef Q53_CLUSTER_CLI_CLI_HEALTH_H
#define Q53_CLUSTER_CLI_CLI_HEALTH_H

#include "cluster/cli/cli.h"

/* argv[0] is the sub-command ("create", "status", ...). */
int cli_health_main(struct cli *cli, int argc, char **argv);

#endif
