/* q53 commands on the cluster: node list | add | remove, status. Each
 * takes the arguments after its command word and returns an exit code
 * (enum cli_exit), having reported any failure. */
#ifndef Q53_CLUSTER_CLI_CLI_NODE_H
#define Q53_CLUSTER_CLI_CLI_NODE_H

#include "cluster/cli/cli.h"

/* argv[0] is the sub-command ("list", "add", "remove"). */
int cli_node_main(struct cli *cli, int argc, char **argv);
int cli_node_status(struct cli *cli, int argc, char **argv);

#endif
