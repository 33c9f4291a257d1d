/* The REST edge's path for latency routing's replicated latency table,
 * SigV4-signed like every request (node/api/route53/rest.c) and allowed by
 * IAM-style actions on "*": q53:SetLatencyRows, q53:ListLatencyRows,
 * q53:DeleteLatencyRows (administrators: Action "*" or a --http-keys key,
 * not "route53:*"). JSON in and out; each becomes the node's own request
 * (api_server_submit), as `q53 latency` sends it:
 *
 *   PUT    /q53/latency        {"Rows": [{"Cidr": "192.0.2.0/24",
 *                               "RttMs": {"us-east-1": 20, ...}}, ...],
 *                               "ReplaceAll": false}
 *                              -> 200 {"Rows": N}  (API rows after it)
 *   GET    /q53/latency        -> 200 {"Rows": [{"Cidr", "RttMs"}],
 *                                      "Sites": [{"Site", "NodeId",
 *                                                 "RttMs"}]}
 *   DELETE /q53/latency/CIDR   (e.g. /q53/latency/192.0.2.0/24) -> 204
 *
 * Errors: {"Error": {"Code", "Message"}, "RequestId"} (InvalidInput 400,
 * NoSuchLatencyRow 404). Loop thread only. */
#ifndef Q53_NODE_API_ROUTE53_REST_LATENCY_H
#define Q53_NODE_API_ROUTE53_REST_LATENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/api.pb-c.h"

#define REST_LATENCY_PATH "/q53/latency"

struct api_server;
struct http_request;

/* Whether path is this resource (then rest_latency_handle answers it). */
bool rest_latency_match(const char *path);
/* The IAM action of method on path (rest_latency_match), "route53:Unknown"
 * for a method the resource does not take; out holds >= 32 bytes. */
void rest_latency_action(const char *method, const char *path, char *out,
			 size_t outlen);
/* Answers r (authenticated and authorized already), now or when the node
 * answers. */
/* A PUT/POST body ({"Rows": [...], "ReplaceAll": b}, untrusted) into set,
 * which borrows from *storage (free it with rest_latency_set_free, also
 * after a failure). 0, or -1 with why (a static text). */
struct rest_latency_set;
int rest_latency_parse_set(const uint8_t *body, size_t len,
			   Q53__Api__LatencySetRequest *set,
			   struct rest_latency_set **storage, const char **why);
void rest_latency_set_free(struct rest_latency_set *storage);

void rest_latency_handle(struct api_server *api, struct http_request *r,
			 const char *request_id);

#endif
