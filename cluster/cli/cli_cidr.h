/* q53 cidr create|change|put|delete|list|locations|blocks: Route 53's CIDR
 * collections (IP-based routing), over the node's API. */
#ifndef Q53_CLUSTER_CLI_CLI_CIDR_H
#define Q53_CLUSTER_CLI_CLI_CIDR_H

#include "cluster/cli/cli.h"

int cli_cidr_main(struct cli *cli, int argc, char **argv);

#endif
