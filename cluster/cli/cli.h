/* What every q53 command shares: the connection to one node, the output
 * mode, exit codes, and how a failure is reported (one line on stderr,
 * "q53: Code: message", plus {"Error": {...}} on stdout with --json). */
#ifndef Q53_CLUSTER_CLI_CLI_H
#define Q53_CLUSTER_CLI_CLI_H

#include <stdbool.h>

#include <jansson.h>

#include "cluster/cli/cli_client.h"
#include "proto/api.pb-c.h"

/* Exit codes (documented in q53 --help). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_API = 1,     /* the node refused the request */
	CLI_EXIT_USAGE = 2,   /* bad command line or unreadable input file */
	CLI_EXIT_CONNECT = 3, /* no answer from the node */
	CLI_EXIT_PENDING = 4, /* get-change --wait gave up while PENDING */
};

struct cli {
	struct cli_client client;
	bool json;
};

/* Prints "q53: <message>; see q53 --help" and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports an error: "q53: CODE: message" on stderr (and the JSON form on
 * stdout with --json); returns `exit`. */
int cli_fail(const struct cli *cli, int exit, const char *code, const char *fmt,
	     ...) __attribute__((format(printf, 4, 5)));

/* Sends req and checks the answer: returns CLI_EXIT_OK with *resp a
 * successful response of kind `body` (caller frees with cli_response_free),
 * or reports the failure (transport, error code, wrong body) and returns
 * its exit code with *resp NULL. */
int cli_call(struct cli *cli, Q53__Api__Request *req,
	     Q53__Api__Response__BodyCase body, Q53__Api__Response **resp);
void cli_response_free(Q53__Api__Response *resp);

/* Prints root to stdout (2-space indent, keys in insertion order) and
 * releases it. Returns CLI_EXIT_OK, or CLI_EXIT_API when root is NULL (no
 * memory). */
int cli_print_json(json_t *root);

/* Reads a whole file, or stdin for "-". *buf is malloc'd, NUL-terminated
 * (not counted in *len); returns 0, or reports the failure and returns
 * CLI_EXIT_USAGE. */
int cli_read_file(const struct cli *cli, const char *path, char **buf,
		  size_t *len);

/* Command-line options of one command: "--name VALUE", "--name=VALUE" or
 * a flag "--name"; anything else (and everything after "--") is a
 * positional argument. */
struct cli_opt {
	const char *name;   /* without the dashes */
	const char **value; /* set for options taking a value, else NULL */
	bool *flag;	    /* set for flags, else NULL */
};

/* Splits argv[0..argc) into options and at most maxpos positionals
 * (pos[], *npos). Returns CLI_EXIT_OK or a reported CLI_EXIT_USAGE
 * ("usage" names the command's synopsis). */
int cli_parse_args(int argc, char **argv, const struct cli_opt *opts,
		   size_t nopts, const char **pos, size_t maxpos, size_t *npos,
		   const char *usage);

/* Strict unsigned decimal (no sign, no spaces). Returns 0 or -1. */
int cli_parse_u64(const char *s, unsigned long long *out);

#endif
