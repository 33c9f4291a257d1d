#include "cluster/cli/cli_client.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "cluster/api_msg.h"
#include "node/common/nng_close.h"

/* Largest answer taken (a zone export); a larger one drops the pipe. */
#define MAX_RESPONSE_SIZE ((size_t)256 << 20)
/* Sends of one request, the first included, and the pause before re-sending
 * a request the node called Unavailable. */
#define MAX_ATTEMPTS	8
#define RETRY_PAUSE_MS	200
#define RETRY_PAUSE_MAX 1000

static int set_node(struct cli_client *c, const char *node)
{
	int n = snprintf(c->node, sizeof(c->node), "%s", node);
	if (n < 0 || (size_t)n >= sizeof(c->node)) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "node address '%.40s...' is too long", node);
		return -1;
	}
	bool url = strstr(node, "://") != NULL;
	snprintf(c->url, sizeof(c->url), "%s%s", url ? "" : "tcp://", node);
	return 0;
}

int cli_client_init(struct cli_client *c, const char *node, unsigned timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms =
	    timeout_ms != 0 ? timeout_ms : CLI_CLIENT_DEFAULT_TIMEOUT_MS;
	if (node == NULL || node[0] == '\0')
		node = CLI_CLIENT_DEFAULT_NODE;
	return set_node(c, node);
}

void cli_client_close(struct cli_client *c)
{
	if (c->open) {
		q53_nng_close(c->sock, Q53_NNG_CLOSE_TIMEOUT_MS);
		c->open = false;
	}
}

static int client_connect(struct cli_client *c)
{
	int rv;
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "cannot open a REQ socket: %s", nng_strerror(rv));
		return -1;
	}
	c->open = true;
	/* NNG re-sends a request when no answer came in resend-time: never
	 * (a change batch must not be applied twice). */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
			  NNG_DURATION_INFINITE);
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, MAX_RESPONSE_SIZE);
	/* A synchronous dial: a refused connection is reported now. */
	if ((rv = nng_dial(c->sock, c->url, NULL, 0)) != 0) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "cannot reach node %s (%s): %s; is q53d running with "
			 "--api %s? Pick another node with --node HOST:PORT "
			 "or Q53_NODE",
			 c->node, c->url, nng_strerror(rv), c->node);
		cli_client_close(c);
		return -1;
	}
	return 0;
}

static int transfer(struct cli_client *c, const uint8_t *buf, size_t len,
		    nng_time deadline, Q53__Api__Response **resp)
{
	nng_time now = nng_clock();
	if (now >= deadline)
		goto timed_out;
	nng_duration left = (nng_duration)(deadline - now);
	nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, left);
	nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, left);

	int rv = nng_send(c->sock, (void *)buf, len, 0);
	if (rv == NNG_ETIMEDOUT)
		goto timed_out;
	if (rv != 0) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "cannot send to node %s: %s", c->node,
			 nng_strerror(rv));
		return -1;
	}
	void *in;
	size_t inlen;
	rv = nng_recv(c->sock, &in, &inlen, NNG_FLAG_ALLOC);
	if (rv == NNG_ETIMEDOUT)
		goto timed_out;
	if (rv != 0) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "no answer from node %s: %s", c->node,
			 nng_strerror(rv));
		return -1;
	}
	*resp = q53__api__response__unpack(NULL, inlen, in);
	nng_free(in, inlen);
	if (*resp == NULL) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "node %s answered with something that is not a q53 "
			 "API response; is %s q53d's --api address (not its "
			 "DNS or raft port)?",
			 c->node, c->node);
		return -1;
	}
	return 0;

timed_out:
	snprintf(c->errmsg, sizeof(c->errmsg),
		 "no answer from node %s within %.1fs; a change may still "
		 "take effect (check with q53 zone list / get-change), or "
		 "raise --timeout",
		 c->node, c->timeout_ms / 1000.0);
	return -1;
}

int cli_client_call(struct cli_client *c, Q53__Api__Request *req,
		    Q53__Api__Response **resp)
{
	*resp = NULL;
	req->version = API_MSG_VERSION;
	size_t len = q53__api__request__get_packed_size(req);
	uint8_t *buf = malloc(len > 0 ? len : 1);
	if (buf == NULL) {
		snprintf(c->errmsg, sizeof(c->errmsg), "out of memory");
		return -1;
	}
	q53__api__request__pack(req, buf);

	nng_time deadline = nng_clock() + c->timeout_ms;
	nng_duration pause = RETRY_PAUSE_MS;
	int rv = -1;
	for (unsigned attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		if (!c->open && client_connect(c) != 0)
			break;
		Q53__Api__Response *r = NULL;
		if ((rv = transfer(c, buf, len, deadline, &r)) != 0)
			break;
		bool last = attempt == MAX_ATTEMPTS ||
			    nng_clock() + (nng_time)pause >= deadline;
		if (!r->retryable || last) {
			*resp = r;
			break;
		}
		/* Retryable: the node promises the request had no effect. */
		if (strcmp(r->error, API_ERR_NOT_LEADER) == 0 &&
		    r->leader_api[0] != '\0' &&
		    strcmp(r->leader_api, c->node) != 0) {
			char leader[sizeof(c->node)];
			snprintf(leader, sizeof(leader), "%s", r->leader_api);
			q53__api__response__free_unpacked(r, NULL);
			cli_client_close(c);
			if ((rv = set_node(c, leader)) != 0)
				break;
			continue;
		}
		q53__api__response__free_unpacked(r, NULL);
		nng_msleep(pause);
		pause =
		    pause * 2 > RETRY_PAUSE_MAX ? RETRY_PAUSE_MAX : pause * 2;
	}
	free(buf);
	return *resp != NULL ? 0 : -1;
}
