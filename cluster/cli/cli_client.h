/* The q53 CLI's connection to one q53d API endpoint: an NNG REQ socket
 * over tcp://HOST:PORT carrying proto/api.proto. Requests are never
 * re-sent by NNG (writes are not idempotent); a request is sent again only
 * when the node answers it as retryable (NotLeader: to the leader it
 * names, Unavailable: after a short pause), within the timeout.
 *
 * Errors: 0 or -1 with a one-line reason in the client's errmsg (what was
 * tried and what to do). */
#ifndef Q53_CLUSTER_CLI_CLI_CLIENT_H
#define Q53_CLUSTER_CLI_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <nng/nng.h>

#include "proto/api.pb-c.h"

#define CLI_CLIENT_DEFAULT_NODE	      "127.0.0.1:8053"
#define CLI_CLIENT_DEFAULT_TIMEOUT_MS 10000

struct cli_client {
	char node[256];	     /* as given: HOST:PORT or an NNG URL */
	char url[300];	     /* what is dialled */
	unsigned timeout_ms; /* per call, retries included */
	nng_socket sock;
	bool open;
	char errmsg[1536];
};

/* Sets up c for node (copied; NULL or "" = the default); nothing is
 * opened until the first call. Returns 0 or -1 (node too long). */
int cli_client_init(struct cli_client *c, const char *node,
		    unsigned timeout_ms);

/* Sends req (its version is set here) and waits for the answer. On 0,
 * *resp is the decoded response, successful or not, which the caller frees
 * with q53__api__response__free_unpacked. On -1 the node could not be
 * reached or gave no usable answer in time (reason in c->errmsg). */
int cli_client_call(struct cli_client *c, Q53__Api__Request *req,
		    Q53__Api__Response **resp);

void cli_client_close(struct cli_client *c);

#endif
