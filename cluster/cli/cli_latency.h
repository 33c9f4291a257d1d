/* q53 latency set|list|delete: the replicated latency table of latency
 * routing (client network -> RTT to each region), and the rows each
 * site's probers measured. */
#ifndef Q53_CLUSTER_CLI_CLI_LATENCY_H
#define Q53_CLUSTER_CLI_CLI_LATENCY_H

#include "cluster/cli/cli.h"

int cli_latency_main(struct cli *cli, int argc, char **argv);

#endif
