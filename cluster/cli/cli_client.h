/* The q53 CLI's connection to one q53d: HTTP(S) to the node's --http
 * address, POST /q53/api carrying a packed proto/api.proto Request, signed
 * with SigV4 (service route53) by libcurl (CURLOPT_AWS_SIGV4) with an
 * access key of the cluster, exactly as the REST API checks every client
 * (node/api/route53/rest_q53.h). Requests are never re-sent by the
 * transport (writes are not idempotent); a request is sent again only
 * when the node answers it as retryable (NotLeader, Unavailable: after a
 * short pause), within the timeout.
 *
 * Errors: 0 or -1 with a one-line reason in the client's errmsg (what was
 * tried and what to do); a refusal of the REST edge itself (no or wrong
 * key, AccessDenied) comes back as a Response with its code. */
#ifndef Q53_CLUSTER_CLI_CLI_CLIENT_H
#define Q53_CLUSTER_CLI_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/api.pb-c.h"

#define CLI_CLIENT_DEFAULT_ENDPOINT   "http://127.0.0.1:9053"
#define CLI_CLIENT_DEFAULT_TIMEOUT_MS 10000
#define CLI_CLIENT_KEY_MAX	      128

struct cli_client {
	char endpoint[512];  /* as given, without a final '/' */
	char url[600];	     /* endpoint + /q53/api */
	unsigned timeout_ms; /* per call, retries included */
	char akid[CLI_CLIENT_KEY_MAX + 1];
	char secret[CLI_CLIENT_KEY_MAX + 1];
	char key_source[600]; /* where the key came from (messages) */
	char ca_file[4096];   /* "" = the system's CAs */
	void *curl;	      /* CURL *, opened at the first call */
	char errmsg[2048];
};

/* Sets up c for endpoint (http[s]://HOST:PORT; a bare HOST:PORT means
 * http://; NULL or "" = the default); nothing is opened until the first
 * call. Returns 0 or -1 (reason in errmsg). */
int cli_client_init(struct cli_client *c, const char *endpoint,
		    unsigned timeout_ms);

/* The access key every request is signed with; source says where it came
 * from ("--key-file F", "AWS_ACCESS_KEY_ID"), for messages. 0 or -1
 * (too long, reason in errmsg). */
int cli_client_set_key(struct cli_client *c, const char *akid,
		       const char *secret, const char *source);

/* Sends req (its version is set here) and waits for the answer. On 0,
 * *resp is the decoded response, successful or not, which the caller frees
 * with q53__api__response__free_unpacked; a refusal by the node's REST
 * edge (InvalidClientTokenId, SignatureDoesNotMatch, AccessDenied, ...) is
 * such a response, its message saying what to do. On -1 the node could
 * not be reached or gave no usable answer in time (reason in c->errmsg). */
int cli_client_call(struct cli_client *c, Q53__Api__Request *req,
		    Q53__Api__Response **resp);

/* Reads an access key file: lines NAME=VALUE (optionally "export "
 * first, the value optionally quoted), '#' comments; takes
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (DATA/admin-key's form).
 * 0, or -1 with the reason in err. */
int cli_client_read_key_file(const char *path, char *akid, char *secret,
			     size_t len, char *err, size_t errlen);

void cli_client_close(struct cli_client *c);

#endif
