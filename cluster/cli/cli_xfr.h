/* q53 zone transfer ID|NAME [...]: the secondaries allowed to AXFR / IXFR
 * a zone (and sent NOTIFY) and its TSIG keys; shown without options. */
#ifndef Q53_CLUSTER_CLI_CLI_XFR_H
#define Q53_CLUSTER_CLI_CLI_XFR_H

#include "cluster/cli/cli.h"

int cli_zone_transfer(struct cli *cli, int argc, char **argv);

/* Pulls zone (its name) by AXFR from hostport ("HOST:PORT"), TSIG-signed
 * when tsig ("NAME:ALG:BASE64") is given, every answer message checked;
 * *text: the zone as zone-file text (malloc'd, NUL-terminated), *len its
 * length. Returns CLI_EXIT_OK or a reported failure's exit code. */
int cli_axfr_pull(struct cli *cli, const char *zone, const char *hostport,
		  const char *tsig, char **text, size_t *len);

#endif
