/* The client API wire format (proto/api.proto) on the server side: decode
 * and check a request from untrusted bytes, encode a response, the error
 * code names. Pure functions, no state.
 *
 * Errors: 0 or a negative q53_err, with a reason in the caller's err
 * buffer (always NUL-terminated, truncated to errlen) where one is taken. */
#ifndef Q53_CLUSTER_API_MSG_H
#define Q53_CLUSTER_API_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/api.pb-c.h"

/* Request.version this build speaks; newer requests are refused. */
#define API_MSG_VERSION 1

/* Route 53 style error codes (Response.error). */
#define API_ERR_INVALID_INPUT	     "InvalidInput"
#define API_ERR_INVALID_CHANGE_BATCH "InvalidChangeBatch"
#define API_ERR_INVALID_DOMAIN_NAME  "InvalidDomainName"
#define API_ERR_NO_SUCH_ZONE	     "NoSuchHostedZone"
#define API_ERR_NO_SUCH_CHANGE	     "NoSuchChange"
#define API_ERR_NO_SUCH_NODE	     "NoSuchNode"
#define API_ERR_ZONE_EXISTS	     "HostedZoneAlreadyExists"
#define API_ERR_CONFLICTING_DOMAIN   "ConflictingDomainExists"
#define API_ERR_ZONE_NOT_EMPTY	     "HostedZoneNotEmpty"
#define API_ERR_NODE_EXISTS	     "NodeAlreadyExists"
#define API_ERR_NOT_LEADER	     "NotLeader"
#define API_ERR_UNAVAILABLE	     "Unavailable"
#define API_ERR_NOT_IMPLEMENTED	     "NotImplemented"
#define API_ERR_INTERNAL	     "InternalError"
#define API_ERR_ACCESS_DENIED	     "AccessDenied"
#define API_ERR_NO_SUCH_HEALTH_CHECK "NoSuchHealthCheck"

/* Longest zone reference, change id or node address taken (bytes). */
#define API_MSG_NAME_MAX 1024
/* Page size when a list request says 0, and the most a page may hold. */
#define API_MSG_PAGE_DEFAULT 100
#define API_MSG_PAGE_MAX     1000
/* Largest HealthCheckConfig JSON taken (256 children of 64 chars fit). */
#define API_MSG_HEALTH_CONFIG_MAX 65536
/* Resources one ListTags request names (ListTagsForResources: 10). */
#define API_MSG_TAG_RESOURCES_MAX 10
/* Largest change batch JSON taken: node/control/change_batch.h's
 * CHANGE_BATCH_MAX_JSON, refused here already so that a larger one is
 * neither forwarded to the leader nor parsed. */
#define API_MSG_CHANGE_BATCH_MAX (2 * 1024 * 1024)
/* Latency table rows per latency set / delete request. */
#define API_MSG_LATENCY_ROWS_MAX 1000

/* Decodes buf[0..len) (untrusted). On success *out is the request, which
 * the caller frees with api_msg_request_free. Returns Q53_EMALF (not a
 * protobuf Request), Q53_EINVAL (a Request this server does not take: no
 * body, a newer version, a required field missing, a string too long),
 * both with err starting "InvalidInput: ", or Q53_ENOMEM. */
int api_msg_request_decode(const uint8_t *buf, size_t len,
			   Q53__Api__Request **out, char *err, size_t errlen);
void api_msg_request_free(Q53__Api__Request *req);

/* The operation's name ("create_zone"), "none" for NOT_SET. Never NULL. */
const char *api_msg_op_name(Q53__Api__Request__BodyCase op);

/* Whether resp answers a request of kind op: an error (error non-empty),
 * or a success whose body member matches op. */
bool api_msg_response_matches(Q53__Api__Request__BodyCase op,
			      const Q53__Api__Response *resp);

/* Exact size of resp packed, and the packing into dst, which holds that
 * many bytes; returns the number of bytes written. */
size_t api_msg_response_packed_size(const Q53__Api__Response *resp);
size_t api_msg_response_pack(const Q53__Api__Response *resp, uint8_t *dst);

/* Splits text of the form "Code: message" (zone_store, change_batch) into
 * code (copied into code[0..codelen), NUL-terminated) and a pointer to the
 * message inside text. Text without a leading code gives InternalError
 * and the whole text. */
/* ms (Unix time in milliseconds) as ISO 8601 UTC with milliseconds,
 * "2026-12-03T16:00:00.000Z", the form Route 53 and the AWS CLI use for
 * SubmittedAt. */
void api_msg_iso_time(uint64_t ms, char *out, size_t outlen);

void api_msg_split_error(const char *text, char *code, size_t codelen,
			 const char **message);

#endif
