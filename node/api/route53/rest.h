/* Route 53's REST API (version 2013-04-01, XML in the
 * https://route53.amazonaws.com/doc/2013-04-01/ namespace) on a node, over
 * node/api/http_server.h, so the AWS CLI, boto3 and other Route 53 tools
 * work against quorum53 unmodified (`--endpoint-url http://HOST:PORT`).
 *
 * Every request is checked with SigV4 (service route53, any region) against
 * the access keys (--http-keys: administrators; the FSM's: each with its
 * IAM policy, node/control/iam_policy.h, AccessDenied otherwise), then
 * translated into the node's own API request (proto/api.proto) and handled by
 * the same backend as the NNG API (api_server_submit: forwarding to the leader,
 * Raft commit, Route 53's validation messages), and the answer translated back
 * into Route 53's XML and HTTP status.
 *
 * POST /q53/api (rest_q53.h) is the q53 CLI's: its packed request is
 * checked the same way, with the IAM action of its kind, and given to the
 * backend as it is (the signing key as a change batch's submitter).
 *
 * Operations so far: CreateHostedZone, GetHostedZone, ListHostedZones,
 * ListHostedZonesByName, * DeleteHostedZone, GetHostedZoneCount,
 * ChangeResourceRecordSets, ListResourceRecordSets, GetChange,
 * CreateHealthCheck, GetHealthCheck, ListHealthChecks, UpdateHealthCheck,
 * DeleteHealthCheck, GetHealthCheckStatus, GetHealthCheckCount. Loop thread
 * only. */
#ifndef Q53_NODE_API_ROUTE53_REST_H
#define Q53_NODE_API_ROUTE53_REST_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "node/api/http_server.h"

struct api_server;
struct cluster_ops;
struct route53_rest;

struct route53_rest_config {
	const char *listen; /* HOST:PORT */
	/* lines "ACCESS_KEY_ID SECRET"; '#' comments. Optional: static
	 * administrator keys besides the FSM's (q53 key create). */
	const char *keys_file;
	struct api_server *api; /* borrowed; must outlive the REST server */
	/* The node's ops (copied): the access keys
	 * and their policies are looked up in ops->fsm per request. NULL:
	 * the keys file only. */
	const struct cluster_ops *ops;
	/* HTTPS: PEM files (the key mode 0600), both or neither. Without
	 * them only a loopback address is served, unless allow_plain. */
	const char *tls_cert_file;
	const char *tls_key_file;
	bool allow_plain;
	struct http_server_limits limits; /* the listener's; 0s: defaults */
	/* Optional: GET /metrics (unauthenticated, as Prometheus scrapes)
	 * answers with the text metrics(metrics_data, &len) returns
	 * (malloc'd, freed here; NULL: 503). NULL: /metrics is not
	 * served. */
	char *(*metrics)(void *metrics_data, size_t *len);
	void *metrics_data;
	/* Optional: GET /q53/alarms[?health_check_id=ID] (signed, an
	 * administrator's key) answers with the JSON alarms(alarms_data,
	 * check id or NULL, &len) returns (malloc'd, freed here). */
	char *(*alarms)(void *alarms_data, const char *check_id, size_t *len);
	void *alarms_data;
};

/* Every (operation, HTTP status) answered so far and how many times:
 * fn(ctx, operation, status, count) per pair. Loop thread. */
typedef void (*route53_rest_count_fn)(void *ctx, const char *operation,
				      unsigned status, unsigned long long n);
void route53_rest_counts(const struct route53_rest *r, route53_rest_count_fn fn,
			 void *ctx);

/* The options' consistency, before anything starts (TLS files both or
 * neither, plain HTTP only on loopback unless allowed): 0 or
 * Q53_EINVAL with err. route53_rest_start checks it too. */
int route53_rest_check(const struct route53_rest_config *config, char *err,
		       size_t errlen);
/* Reads the keys and listens. 0 or a q53_err with err. */
int route53_rest_start(struct route53_rest **out, uv_loop_t *loop,
		       const struct route53_rest_config *config, char *err,
		       size_t errlen);
int route53_rest_port(const struct route53_rest *r);
/* Stops listening; requests still waiting for the node are dropped when
 * their answer comes (the api server must still answer them). */
void route53_rest_close(struct route53_rest *r);

/* The keys file's parser (for tests and fuzzing): 0, or Q53_EINVAL with
 * "line N: ..." in err. Calls add(ctx, akid, secret) per key. */
int route53_keys_parse(const char *text, size_t len,
		       int (*add)(void *ctx, const char *akid,
				  const char *secret),
		       void *ctx, char *err, size_t errlen);

#endif
