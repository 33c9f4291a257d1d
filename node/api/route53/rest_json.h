/* The JSON answers of q53's own admin REST resources (/q53/accesskeys,
 * /q53/latency): a body with the request id header, errors in one shape,
 * and the HTTP status of a node API error code. */
#ifndef Q53_NODE_API_ROUTE53_REST_JSON_H
#define Q53_NODE_API_ROUTE53_REST_JSON_H

#include <jansson.h>

struct http_request;

/* Answers body (taken; NULL: an empty body) with status. */
void rest_json_send(struct http_request *r, unsigned status, json_t *body,
		    const char *request_id);
/* {"Error": {"Code", "Message"}, "RequestId"} with status. */
void rest_json_error(struct http_request *r, const char *request_id,
		     unsigned status, const char *code, const char *message);
/* 404 for not_found (the resource's "no such" code), 503 for unavailable
 * or not the leader, 500 for internal, else 400. */
unsigned rest_json_status(const char *code, const char *not_found);

#endif
