/* q53 key create|list|delete: the access keys of the Route 53 REST API
 * (SigV4), each with an IAM policy. The secret is printed once, by create;
 * list never shows it. */
#ifndef Q53_CLUSTER_CLI_CLI_KEY_H
#define Q53_CLUSTER_CLI_CLI_KEY_H

#include "cluster/cli/cli.h"

int cli_key_main(struct cli *cli, int argc, char **argv);

#endif
