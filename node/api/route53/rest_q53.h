/* The q53 CLI's endpoint on the REST edge: POST /q53/api with a packed
 * q53.api.Request (proto/api.proto, Content-Type application/x-protobuf),
 * SigV4-signed like every Route 53 request (node/api/route53/rest.c), and
 * answered 200 with the packed q53.api.Response (errors of the operation
 * inside it), or with Route 53's XML ErrorResponse when the request is not
 * signed, not allowed (AccessDenied) or not a Request.
 *
 * One IAM action per request kind (rest_q53_action): Route 53's name where
 * Route 53 has the operation (route53:ChangeResourceRecordSets, ...), a
 * q53: action for what only quorum53 has (cluster membership, status,
 * access keys, zone import, audit): those pass only a policy whose Action
 * matches "q53:..." ("*" as the administrator key has; not "route53:*").
 * The resource is the ARN of the zone, health check or change the request
 * names (arn:aws:route53:::hostedzone/ID), "*" otherwise; a change batch
 * brings Route 53's condition keys (rest_auth_batch_parse). Pure. */
#ifndef Q53_NODE_API_ROUTE53_REST_Q53_H
#define Q53_NODE_API_ROUTE53_REST_Q53_H

#include <stdbool.h>
#include <stddef.h>

#include "node/api/route53/rest_auth.h"
#include "proto/api.pb-c.h"

#define REST_Q53_PATH	      "/q53/api"
#define REST_Q53_CONTENT_TYPE "application/x-protobuf"
/* Largest body taken (a zone import; the NNG API's limit too). */
#define REST_Q53_MAX_BODY ((size_t)64 << 20)

/* Whether path is REST_Q53_PATH (then rest.c answers it with this). */
bool rest_q53_match(const char *path);

/* The IAM action of a request kind ("route53:GetHostedZone",
 * "q53:AddNode"); NULL for NOT_SET or a kind without an entry (refused:
 * tests/unit/test_rest_q53.c checks every member of the oneof has one).
 * Static. */
const char *rest_q53_action(Q53__Api__Request__BodyCase kind);

/* The zone id of a zone reference (id or name), for the resource ARN:
 * true and id filled, or false when no zone matches (the ARN then names
 * the reference as given, and the node answers NoSuchHostedZone). */
typedef bool (*rest_q53_resolve_fn)(void *ctx, const char *ref, char *id,
				    size_t idlen);

/* The action and resource of req (decoded by api_msg_request_decode);
 * resolve may be NULL (references taken as ids). A kind without an action
 * gives "q53:Unknown" on "*" (only Action "*" passes it; the node then
 * answers it as it would over NNG). */
void rest_q53_target(const Q53__Api__Request *req, rest_q53_resolve_fn resolve,
		     void *ctx, struct rest_auth_target *out);

/* The zone reference field of req (get/delete/import/export zone, change
 * batch, list records, comments, list changes, test answer), NULL for a
 * kind without one. So that the node acts on the zone the policy was
 * checked against, rest.c replaces it with the resolved id. */
char **rest_q53_zone_ref(Q53__Api__Request *req);

/* The submitter field of req (create/delete zone, change batch: the audit's
 * access key), NULL for a kind without one. rest.c sets it to the key that
 * signed the request, never the client's word. */
char **rest_q53_akid_ref(Q53__Api__Request *req);

#endif
