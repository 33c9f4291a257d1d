/* q53 commands on hosted zones and their records: zone create | list |
 * get | delete | import | export, change-batch, get-change [--wait],
 * records list. Each takes the arguments after its command word(s) and
 * returns an exit code (enum cli_exit), having reported any failure. */
#ifndef Q53_CLUSTER_CLI_CLI_ZONE_H
#define Q53_CLUSTER_CLI_CLI_ZONE_H

#include "cluster/cli/cli.h"

/* argv[0] is the sub-command ("create", "list", ...). */
int cli_zone_main(struct cli *cli, int argc, char **argv);
int cli_zone_change_batch(struct cli *cli, int argc, char **argv);
int cli_zone_get_change(struct cli *cli, int argc, char **argv);
/* argv[0] is the sub-command ("list"). */
int cli_zone_records(struct cli *cli, int argc, char **argv);
/* q53 test-answer ZONE NAME TYPE [--resolver-ip IP] [--client-subnet CIDR]
 * [--id N]: the node's answer, its record data and routing branch. */
int cli_zone_test_answer(struct cli *cli, int argc, char **argv);

/* q53 audit [--zone ID] [--max-items N]: recent changes, newest first,
 * with the access key that submitted each. */
int cli_zone_audit(struct cli *cli, int argc, char **argv);

#endif
