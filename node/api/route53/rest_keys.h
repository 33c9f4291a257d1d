/* The REST edge's own paths for the cluster's access keys, SigV4-signed
 * like every request (node/api/route53/rest.c) and allowed by IAM-style
 * actions on "*": q53:CreateAccessKey, q53:ListAccessKeys,
 * q53:DeleteAccessKey (so a policy with Action "*", or a --http-keys key,
 * but not "route53:*"). JSON in and out; each becomes the node's own
 * request (api_server_submit), as `q53 key` sends it:
 *
 *   POST   /q53/accesskeys     {"PolicyDocument": {...} or "...",
 *                               "Description": "..."}
 *                              -> 201 {"AccessKey": {..., "SecretAccessKey"}}
 *   GET    /q53/accesskeys     -> 200 {"AccessKeys": [...]}  (no secrets)
 *   DELETE /q53/accesskeys/ID  -> 204
 *
 * Errors: {"Error": {"Code", "Message"}, "RequestId"} with IAM's codes
 * (MalformedPolicyDocument 400, NoSuchEntity 404). Loop thread only. */
#ifndef Q53_NODE_API_ROUTE53_REST_KEYS_H
#define Q53_NODE_API_ROUTE53_REST_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define REST_KEYS_PATH "/q53/accesskeys"

struct api_server;
struct http_request;

/* Whether path is one of these (then rest_keys_handle answers it). */
bool rest_keys_match(const char *path);
/* Answers r (authenticated and authorized already), now or when the node
 * answers. */
/* The CreateAccessKey body (untrusted): PolicyDocument (an object or its
 * text) and Description (borrowed from *root, which the caller decrefs,
 * also after a failure); *policy malloc'd. 0, or -1 with why. */
int rest_keys_parse_create(const uint8_t *body, size_t len, char **policy,
			   const char **description, json_t **root,
			   const char **why);

void rest_keys_handle(struct api_server *api, struct http_request *r,
		      const char *request_id);

#endif
