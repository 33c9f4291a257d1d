/* q53 zone transfer ID|NAME [...]: the secondaries allowed to AXFR / IXFR
 * a zone (and sent NOTIFY) and its TSIG keys; shown without options. */
#ifndef Q53_CLUSTER_CLI_CLI_XFR_H
#define Q53_CLUSTER_CLI_CLI_XFR_H

#include "cluster/cli/cli.h"

int cli_zone_transfer(struct cli *cli, int argc, char **argv);

#endif
