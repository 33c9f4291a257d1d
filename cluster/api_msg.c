#include "cluster/api_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/common/errcode.h"

static int refuse(char *err, size_t errlen, int rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(char *err, size_t errlen, int rv, const char *fmt, ...)
{
	if (errlen == 0)
		return rv;
	int n = snprintf(err, errlen, "%s: ", API_ERR_INVALID_INPUT);
	if (n >= 0 && (size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rv;
}

/* A string field that names something: present and of sane length. */
static int check_name(const char *field, const char *v, bool required,
		      char *err, size_t errlen)
{
	size_t n = v != NULL ? strlen(v) : 0;
	if (required && n == 0)
		return refuse(err, errlen, Q53_EINVAL, "%s is required", field);
	if (n > API_MSG_NAME_MAX)
		return refuse(err, errlen, Q53_EINVAL,
			      "%s is longer than %d bytes", field,
			      API_MSG_NAME_MAX);
	return 0;
}

static int check_page(uint32_t max_items, char *err, size_t errlen)
{
	if (max_items > API_MSG_PAGE_MAX)
		return refuse(err, errlen, Q53_EINVAL,
			      "max_items %u is over the limit of %d",
			      (unsigned)max_items, API_MSG_PAGE_MAX);
	return 0;
}

/* Required fields per operation. protobuf-c leaves a sub-message NULL when
 * the sender encoded an empty one only if it was absent from the wire, so
 * a NULL body member is the empty message. */
static int check_body(const Q53__Api__Request *r, char *err, size_t errlen)
{
	int rv = 0;

	switch (r->body_case) {
	case Q53__API__REQUEST__BODY_CREATE_ZONE:
		if (r->create_zone == NULL)
			return refuse(err, errlen, Q53_EINVAL,
				      "name is required");
		if ((rv = check_name("name", r->create_zone->name, true, err,
				     errlen)) != 0 ||
		    (rv = check_name("caller_reference",
				     r->create_zone->caller_reference, false,
				     err, errlen)) != 0 ||
		    (rv = check_name("comment", r->create_zone->comment, false,
				     err, errlen)) != 0)
			return rv;
		return 0;
	case Q53__API__REQUEST__BODY_LIST_ZONES:
		if (r->list_zones == NULL)
			return 0;
		if ((rv = check_name("marker", r->list_zones->marker, false,
				     err, errlen)) != 0)
			return rv;
		return check_page(r->list_zones->max_items, err, errlen);
	case Q53__API__REQUEST__BODY_GET_ZONE:
		return check_name("zone",
				  r->get_zone ? r->get_zone->zone : NULL, true,
				  err, errlen);
	case Q53__API__REQUEST__BODY_DELETE_ZONE:
		return check_name("zone",
				  r->delete_zone ? r->delete_zone->zone : NULL,
				  true, err, errlen);
	case Q53__API__REQUEST__BODY_IMPORT_ZONE:
		return check_name("zone",
				  r->import_zone ? r->import_zone->zone : NULL,
				  true, err, errlen);
	case Q53__API__REQUEST__BODY_EXPORT_ZONE:
		return check_name("zone",
				  r->export_zone ? r->export_zone->zone : NULL,
				  true, err, errlen);
	case Q53__API__REQUEST__BODY_CHANGE_BATCH:
		if ((rv = check_name(
			 "zone", r->change_batch ? r->change_batch->zone : NULL,
			 true, err, errlen)) != 0)
			return rv;
		if (r->change_batch->change_batch_json.len >
		    API_MSG_CHANGE_BATCH_MAX)
			return refuse(err, errlen, Q53_EINVAL,
				      "the change batch is %zu bytes, more "
				      "than the limit of %d",
				      r->change_batch->change_batch_json.len,
				      API_MSG_CHANGE_BATCH_MAX);
		if (r->change_batch->change_batch_json.len == 0)
			return refuse(err, errlen, Q53_EINVAL,
				      "the change batch is empty: a JSON "
				      "document {\"Changes\": [...]} is "
				      "required");
		return 0;
	case Q53__API__REQUEST__BODY_GET_CHANGE:
		return check_name("id",
				  r->get_change ? r->get_change->id : NULL,
				  true, err, errlen);
	case Q53__API__REQUEST__BODY_LIST_RECORDS:
		if ((rv = check_name(
			 "zone", r->list_records ? r->list_records->zone : NULL,
			 true, err, errlen)) != 0 ||
		    (rv = check_name("marker", r->list_records->marker, false,
				     err, errlen)) != 0)
			return rv;
		return check_page(r->list_records->max_items, err, errlen);
	case Q53__API__REQUEST__BODY_LIST_NODES:
	case Q53__API__REQUEST__BODY_STATUS:
		return 0;
	case Q53__API__REQUEST__BODY_ADD_NODE:
		if (r->add_node == NULL || r->add_node->id == 0)
			return refuse(err, errlen, Q53_EINVAL,
				      "a non-zero node id is required");
		if ((rv = check_name("api_address", r->add_node->api_address,
				     false, err, errlen)) != 0 ||
		    (rv = check_name("dns_address", r->add_node->dns_address,
				     false, err, errlen)) != 0 ||
		    (rv = check_name("name", r->add_node->name, false, err,
				     errlen)) != 0)
			return rv;
		return check_name("address", r->add_node->address, true, err,
				  errlen);
	case Q53__API__REQUEST__BODY_CREATE_HEALTH_CHECK:
		if (r->create_health_check == NULL ||
		    r->create_health_check->config_json.len == 0)
			return refuse(err, errlen, Q53_EINVAL,
				      "config_json (HealthCheckConfig) is "
				      "required");
		if (r->create_health_check->config_json.len >
		    API_MSG_HEALTH_CONFIG_MAX)
			return refuse(err, errlen, Q53_EINVAL,
				      "config_json is longer than %d bytes",
				      API_MSG_HEALTH_CONFIG_MAX);
		return check_name("caller_reference",
				  r->create_health_check->caller_reference,
				  false, err, errlen);
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK:
		return check_name(
		    "id", r->get_health_check ? r->get_health_check->id : NULL,
		    true, err, errlen);
	case Q53__API__REQUEST__BODY_LIST_HEALTH_CHECKS:
		if (r->list_health_checks == NULL)
			return 0;
		if ((rv = check_name("marker", r->list_health_checks->marker,
				     false, err, errlen)) != 0)
			return rv;
		return check_page(r->list_health_checks->max_items, err,
				  errlen);
	case Q53__API__REQUEST__BODY_UPDATE_HEALTH_CHECK:
		if ((rv = check_name("id",
				     r->update_health_check
					 ? r->update_health_check->id
					 : NULL,
				     true, err, errlen)) != 0)
			return rv;
		if (r->update_health_check->config_json.len == 0)
			return refuse(err, errlen, Q53_EINVAL,
				      "config_json is required");
		if (r->update_health_check->config_json.len >
		    API_MSG_HEALTH_CONFIG_MAX)
			return refuse(err, errlen, Q53_EINVAL,
				      "config_json is longer than %d bytes",
				      API_MSG_HEALTH_CONFIG_MAX);
		return 0;
	case Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK:
		return check_name(
		    "id",
		    r->delete_health_check ? r->delete_health_check->id : NULL,
		    true, err, errlen);
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK_STATUS:
		return check_name("id",
				  r->get_health_check_status
				      ? r->get_health_check_status->id
				      : NULL,
				  true, err, errlen);
	case Q53__API__REQUEST__BODY_HEALTH_VOTE:
		if (r->health_vote == NULL || r->health_vote->member_id == 0)
			return refuse(err, errlen, Q53_EINVAL,
				      "a non-zero member id is required");
		if ((rv = check_name("reason", r->health_vote->reason, false,
				     err, errlen)) != 0)
			return rv;
		return check_name("check_id", r->health_vote->check_id, true,
				  err, errlen);
	case Q53__API__REQUEST__BODY_REMOVE_NODE:
		if (r->remove_node == NULL || r->remove_node->id == 0)
			return refuse(err, errlen, Q53_EINVAL,
				      "a non-zero node id is required");
		return 0;
	case Q53__API__REQUEST__BODY_CREATE_ACCESS_KEY:
		if (r->create_access_key == NULL ||
		    r->create_access_key->policy_json.len == 0)
			return refuse(err, errlen, Q53_EINVAL,
				      "policy_json (an IAM policy) is "
				      "required");
		if (r->create_access_key->policy_json.len >
		    API_MSG_HEALTH_CONFIG_MAX)
			return refuse(err, errlen, Q53_EINVAL,
				      "policy_json is longer than %d bytes",
				      API_MSG_HEALTH_CONFIG_MAX);
		return check_name("description",
				  r->create_access_key->description, false, err,
				  errlen);
	case Q53__API__REQUEST__BODY_DELETE_ACCESS_KEY:
		return check_name(
		    "id",
		    r->delete_access_key ? r->delete_access_key->id : NULL,
		    true, err, errlen);
	case Q53__API__REQUEST__BODY_LIST_ACCESS_KEYS:
		return 0;
	case Q53__API__REQUEST__BODY_LIST_CHANGES:
		if (r->list_changes == NULL)
			return 0;
		if ((rv = check_name("zone", r->list_changes->zone, false, err,
				     errlen)) != 0)
			return rv;
		return check_page(r->list_changes->max_items, err, errlen);
	case Q53__API__REQUEST__BODY_SET_ZONE_TRANSFER:
		if ((rv = check_name("zone",
				     r->set_zone_transfer
					 ? r->set_zone_transfer->zone
					 : NULL,
				     true, err, errlen)) != 0)
			return rv;
		if (r->set_zone_transfer->n_secondaries > 16 ||
		    r->set_zone_transfer->n_keys > 4)
			return refuse(err, errlen, Q53_EINVAL,
				      "at most 16 secondaries and 4 keys");
		for (size_t i = 0; i < r->set_zone_transfer->n_keys; i++)
			if (r->set_zone_transfer->keys[i] == NULL)
				return refuse(err, errlen, Q53_EINVAL,
					      "empty key");
		return 0;
	case Q53__API__REQUEST__BODY_GET_ZONE_TRANSFER:
		return check_name(
		    "zone",
		    r->get_zone_transfer ? r->get_zone_transfer->zone : NULL,
		    true, err, errlen);
	case Q53__API__REQUEST__BODY_UPDATE_ZONE_COMMENT:
		if ((rv = check_name("zone",
				     r->update_zone_comment
					 ? r->update_zone_comment->zone
					 : NULL,
				     true, err, errlen)) != 0)
			return rv;
		return check_name("comment", r->update_zone_comment->comment,
				  false, err, errlen);
	case Q53__API__REQUEST__BODY_CHANGE_TAGS:
		if ((rv = check_name(
			 "resource_type",
			 r->change_tags ? r->change_tags->resource_type : NULL,
			 true, err, errlen)) != 0)
			return rv;
		return check_name("resource_id", r->change_tags->resource_id,
				  true, err, errlen);
	case Q53__API__REQUEST__BODY_LIST_TAGS:
		if ((rv = check_name("resource_type",
				     r->list_tags ? r->list_tags->resource_type
						  : NULL,
				     true, err, errlen)) != 0)
			return rv;
		if (r->list_tags->n_resource_ids == 0 ||
		    r->list_tags->n_resource_ids > API_MSG_TAG_RESOURCES_MAX)
			return refuse(err, errlen, Q53_EINVAL,
				      "1 to %d resource_ids are required",
				      API_MSG_TAG_RESOURCES_MAX);
		return 0;
	case Q53__API__REQUEST__BODY_CREATE_CIDR_COLLECTION:
		if ((rv = check_name("name",
				     r->create_cidr_collection
					 ? r->create_cidr_collection->name
					 : NULL,
				     true, err, errlen)) != 0)
			return rv;
		return check_name("caller_reference",
				  r->create_cidr_collection->caller_reference,
				  true, err, errlen);
	case Q53__API__REQUEST__BODY_CHANGE_CIDR_COLLECTION:
		return check_name("id",
				  r->change_cidr_collection
				      ? r->change_cidr_collection->id
				      : NULL,
				  true, err, errlen);
	case Q53__API__REQUEST__BODY_DELETE_CIDR_COLLECTION:
		return check_name("id",
				  r->delete_cidr_collection
				      ? r->delete_cidr_collection->id
				      : NULL,
				  true, err, errlen);
	case Q53__API__REQUEST__BODY_LIST_CIDR_COLLECTIONS:
		if (r->list_cidr_collections == NULL)
			return 0;
		if ((rv = check_name("next_token",
				     r->list_cidr_collections->next_token,
				     false, err, errlen)) != 0)
			return rv;
		return check_page(r->list_cidr_collections->max_results, err,
				  errlen);
	case Q53__API__REQUEST__BODY_LIST_CIDR_LOCATIONS:
		if ((rv = check_name("collection_id",
				     r->list_cidr_locations
					 ? r->list_cidr_locations->collection_id
					 : NULL,
				     true, err, errlen)) != 0 ||
		    (rv = check_name("next_token",
				     r->list_cidr_locations->next_token, false,
				     err, errlen)) != 0)
			return rv;
		return check_page(r->list_cidr_locations->max_results, err,
				  errlen);
	case Q53__API__REQUEST__BODY_LIST_CIDR_BLOCKS:
		if ((rv = check_name("collection_id",
				     r->list_cidr_blocks
					 ? r->list_cidr_blocks->collection_id
					 : NULL,
				     true, err, errlen)) != 0 ||
		    (rv = check_name("location_name",
				     r->list_cidr_blocks->location_name, false,
				     err, errlen)) != 0 ||
		    (rv = check_name("next_token",
				     r->list_cidr_blocks->next_token, false,
				     err, errlen)) != 0)
			return rv;
		return check_page(r->list_cidr_blocks->max_results, err,
				  errlen);
	case Q53__API__REQUEST__BODY_CREATE_QUERY_LOGGING:
		if ((rv = check_name(
			 "hosted_zone_id",
			 r->create_query_logging
			     ? r->create_query_logging->hosted_zone_id
			     : NULL,
			 true, err, errlen)) != 0)
			return rv;
		return check_name(
		    "cloud_watch_logs_log_group_arn",
		    r->create_query_logging->cloud_watch_logs_log_group_arn,
		    false, err, errlen);
	case Q53__API__REQUEST__BODY_DELETE_QUERY_LOGGING:
		return check_name("id",
				  r->delete_query_logging
				      ? r->delete_query_logging->id
				      : NULL,
				  true, err, errlen);
	case Q53__API__REQUEST__BODY_LIST_QUERY_LOGGING:
		return check_name("hosted_zone_id",
				  r->list_query_logging
				      ? r->list_query_logging->hosted_zone_id
				      : NULL,
				  false, err, errlen);
	case Q53__API__REQUEST__BODY_TEST_ANSWER:
		if ((rv = check_name(
			 "zone", r->test_answer ? r->test_answer->zone : NULL,
			 true, err, errlen)) != 0 ||
		    (rv = check_name("name", r->test_answer->name, true, err,
				     errlen)) != 0 ||
		    (rv = check_name("type", r->test_answer->type, true, err,
				     errlen)) != 0)
			return rv;
		if (r->test_answer->id > 65535)
			return refuse(err, errlen, Q53_EINVAL,
				      "id must be 0 to 65535");
		return 0;
	case Q53__API__REQUEST__BODY_TRAFFIC_FLOW: {
		const Q53__Api__TrafficFlowRequest *t = r->traffic_flow;
		if (t == NULL || t->op == 0 || t->op > 15)
			return refuse(err, errlen, Q53_EINVAL,
				      "a Traffic Flow operation is required");
		if ((rv = check_name("id", t->id, false, err, errlen)) != 0 ||
		    (rv = check_name("name", t->name, false, err, errlen)) !=
			0 ||
		    (rv = check_name("comment", t->comment, false, err,
				     errlen)) != 0 ||
		    (rv = check_name("zone_id", t->zone_id, false, err,
				     errlen)) != 0 ||
		    (rv = check_name("policy_id", t->policy_id, false, err,
				     errlen)) != 0 ||
		    (rv = check_name("marker", t->marker, false, err,
				     errlen)) != 0)
			return rv;
		return check_page(t->max_items, err, errlen);
	}
	case Q53__API__REQUEST__BODY_LATENCY_SET:
		if (r->latency_set == NULL || r->latency_set->n_rows == 0 ||
		    r->latency_set->n_rows > API_MSG_LATENCY_ROWS_MAX)
			return refuse(err, errlen, Q53_EINVAL,
				      "1 to %d rows are required",
				      API_MSG_LATENCY_ROWS_MAX);
		for (size_t i = 0; i < r->latency_set->n_rows; i++) {
			const Q53__Api__LatencyRowInfo *x =
			    r->latency_set->rows[i];
			if ((rv = check_name("cidr", x->cidr, true, err,
					     errlen)) != 0)
				return rv;
			for (size_t k = 0; k < x->n_regions; k++)
				if ((rv = check_name("region", x->regions[k],
						     true, err, errlen)) != 0)
					return rv;
		}
		return 0;
	case Q53__API__REQUEST__BODY_LATENCY_DELETE:
		if (r->latency_delete == NULL ||
		    r->latency_delete->n_cidrs == 0 ||
		    r->latency_delete->n_cidrs > API_MSG_LATENCY_ROWS_MAX)
			return refuse(err, errlen, Q53_EINVAL,
				      "1 to %d cidrs are required",
				      API_MSG_LATENCY_ROWS_MAX);
		for (size_t i = 0; i < r->latency_delete->n_cidrs; i++)
			if ((rv =
				 check_name("cidr", r->latency_delete->cidrs[i],
					    true, err, errlen)) != 0)
				return rv;
		return 0;
	case Q53__API__REQUEST__BODY_LATENCY_LIST:
		return 0;
	case Q53__API__REQUEST__BODY_LATENCY_SAMPLES:
		if (r->latency_samples == NULL ||
		    r->latency_samples->node_id == 0 ||
		    r->latency_samples->n_regions !=
			r->latency_samples->n_rtt_ms ||
		    r->latency_samples->n_regions > 32)
			return refuse(err, errlen, Q53_EINVAL,
				      "a node id and at most 32 regions, "
				      "each with its RTT, are required");
		for (size_t i = 0; i < r->latency_samples->n_regions; i++)
			if ((rv = check_name("region",
					     r->latency_samples->regions[i],
					     true, err, errlen)) != 0)
				return rv;
		return check_name("site", r->latency_samples->site, true, err,
				  errlen);
	case Q53__API__REQUEST__BODY_GET_ZONE_LIMIT:
		if ((rv = check_name("zone",
				     r->get_zone_limit ? r->get_zone_limit->zone
						       : NULL,
				     true, err, errlen)) != 0)
			return rv;
		return check_name("type", r->get_zone_limit->type, false, err,
				  errlen);
	case Q53__API__REQUEST__BODY_SET_ZONE_LIMIT:
		if ((rv = check_name("zone",
				     r->set_zone_limit ? r->set_zone_limit->zone
						       : NULL,
				     true, err, errlen)) != 0)
			return rv;
		return check_name("type", r->set_zone_limit->type, false, err,
				  errlen);
	case Q53__API__REQUEST__BODY__NOT_SET:
	default:
		return refuse(err, errlen, Q53_EINVAL,
			      "the request names no operation this server "
			      "knows (a newer client?)");
	}
}

int api_msg_request_decode(const uint8_t *buf, size_t len,
			   Q53__Api__Request **out, char *err, size_t errlen)
{
	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (buf == NULL && len > 0)
		return refuse(err, errlen, Q53_EMALF, "no request bytes");
	Q53__Api__Request *r = q53__api__request__unpack(NULL, len, buf);
	if (r == NULL)
		return refuse(err, errlen, Q53_EMALF,
			      "%zu bytes that are not a q53 API request", len);
	int rv;
	if (r->version > API_MSG_VERSION) {
		rv = refuse(err, errlen, Q53_EINVAL,
			    "API version %u is newer than this server's (%d)",
			    (unsigned)r->version, API_MSG_VERSION);
		goto err_after_unpack;
	}
	if ((rv = check_body(r, err, errlen)) != 0)
		goto err_after_unpack;
	*out = r;
	return 0;

err_after_unpack:
	q53__api__request__free_unpacked(r, NULL);
	return rv;
}

void api_msg_request_free(Q53__Api__Request *req)
{
	if (req != NULL)
		q53__api__request__free_unpacked(req, NULL);
}

const char *api_msg_op_name(Q53__Api__Request__BodyCase op)
{
	switch (op) {
	case Q53__API__REQUEST__BODY_CREATE_ZONE:
		return "create_zone";
	case Q53__API__REQUEST__BODY_LIST_ZONES:
		return "list_zones";
	case Q53__API__REQUEST__BODY_GET_ZONE:
		return "get_zone";
	case Q53__API__REQUEST__BODY_DELETE_ZONE:
		return "delete_zone";
	case Q53__API__REQUEST__BODY_IMPORT_ZONE:
		return "import_zone";
	case Q53__API__REQUEST__BODY_EXPORT_ZONE:
		return "export_zone";
	case Q53__API__REQUEST__BODY_CHANGE_BATCH:
		return "change_batch";
	case Q53__API__REQUEST__BODY_GET_CHANGE:
		return "get_change";
	case Q53__API__REQUEST__BODY_LIST_RECORDS:
		return "list_records";
	case Q53__API__REQUEST__BODY_LIST_NODES:
		return "list_nodes";
	case Q53__API__REQUEST__BODY_ADD_NODE:
		return "add_node";
	case Q53__API__REQUEST__BODY_REMOVE_NODE:
		return "remove_node";
	case Q53__API__REQUEST__BODY_STATUS:
		return "status";
	case Q53__API__REQUEST__BODY_CREATE_HEALTH_CHECK:
		return "create_health_check";
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK:
		return "get_health_check";
	case Q53__API__REQUEST__BODY_LIST_HEALTH_CHECKS:
		return "list_health_checks";
	case Q53__API__REQUEST__BODY_UPDATE_HEALTH_CHECK:
		return "update_health_check";
	case Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK:
		return "delete_health_check";
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK_STATUS:
		return "get_health_check_status";
	case Q53__API__REQUEST__BODY_HEALTH_VOTE:
		return "health_vote";
	case Q53__API__REQUEST__BODY_CREATE_ACCESS_KEY:
		return "create_access_key";
	case Q53__API__REQUEST__BODY_DELETE_ACCESS_KEY:
		return "delete_access_key";
	case Q53__API__REQUEST__BODY_LIST_ACCESS_KEYS:
		return "list_access_keys";
	case Q53__API__REQUEST__BODY_LIST_CHANGES:
		return "list_changes";
	case Q53__API__REQUEST__BODY_UPDATE_ZONE_COMMENT:
		return "update-zone-comment";
	case Q53__API__REQUEST__BODY_SET_ZONE_TRANSFER:
		return "set-zone-transfer";
	case Q53__API__REQUEST__BODY_GET_ZONE_TRANSFER:
		return "get-zone-transfer";
	case Q53__API__REQUEST__BODY_CHANGE_TAGS:
		return "change-tags";
	case Q53__API__REQUEST__BODY_LIST_TAGS:
		return "list-tags";
	case Q53__API__REQUEST__BODY_LATENCY_SET:
		return "latency-set";
	case Q53__API__REQUEST__BODY_LATENCY_DELETE:
		return "latency-delete";
	case Q53__API__REQUEST__BODY_LATENCY_LIST:
		return "latency-list";
	case Q53__API__REQUEST__BODY_LATENCY_SAMPLES:
		return "latency-samples";
	case Q53__API__REQUEST__BODY_GET_ZONE_LIMIT:
		return "get-zone-limit";
	case Q53__API__REQUEST__BODY_SET_ZONE_LIMIT:
		return "set-zone-limit";
	case Q53__API__REQUEST__BODY_TEST_ANSWER:
		return "test-answer";
	case Q53__API__REQUEST__BODY_CREATE_CIDR_COLLECTION:
		return "create-cidr-collection";
	case Q53__API__REQUEST__BODY_CHANGE_CIDR_COLLECTION:
		return "change-cidr-collection";
	case Q53__API__REQUEST__BODY_DELETE_CIDR_COLLECTION:
		return "delete-cidr-collection";
	case Q53__API__REQUEST__BODY_LIST_CIDR_COLLECTIONS:
		return "list-cidr-collections";
	case Q53__API__REQUEST__BODY_LIST_CIDR_LOCATIONS:
		return "list-cidr-locations";
	case Q53__API__REQUEST__BODY_LIST_CIDR_BLOCKS:
		return "list-cidr-blocks";
	case Q53__API__REQUEST__BODY_CREATE_QUERY_LOGGING:
		return "create-query-logging-config";
	case Q53__API__REQUEST__BODY_DELETE_QUERY_LOGGING:
		return "delete-query-logging-config";
	case Q53__API__REQUEST__BODY_LIST_QUERY_LOGGING:
		return "list-query-logging-configs";
	case Q53__API__REQUEST__BODY_TRAFFIC_FLOW:
		return "traffic-flow";
	case Q53__API__REQUEST__BODY__NOT_SET:
	default:
		return "none";
	}
}

bool api_msg_response_matches(Q53__Api__Request__BodyCase op,
			      const Q53__Api__Response *resp)
{
	if (resp->error != NULL && resp->error[0] != '\0')
		return true;
	/* The oneof members share field numbers (proto/api.proto). */
	return op != Q53__API__REQUEST__BODY__NOT_SET &&
	       (int)resp->body_case == (int)op;
}

size_t api_msg_response_packed_size(const Q53__Api__Response *resp)
{
	return q53__api__response__get_packed_size(resp);
}

size_t api_msg_response_pack(const Q53__Api__Response *resp, uint8_t *dst)
{
	return q53__api__response__pack(resp, dst);
}

void api_msg_split_error(const char *text, char *code, size_t codelen,
			 const char **message)
{
	const char *colon = strstr(text, ": ");
	size_t n = colon != NULL ? (size_t)(colon - text) : 0;
	bool is_code = n > 0 && n < codelen;
	for (size_t i = 0; is_code && i < n; i++) {
		char c = text[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			is_code = false;
	}
	if (!is_code) {
		snprintf(code, codelen, "%s", API_ERR_INTERNAL);
		*message = text;
		return;
	}
	memcpy(code, text, n);
	code[n] = '\0';
	*message = colon + 2;
}

void api_msg_iso_time(uint64_t ms, char *out, size_t outlen)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char day[32];

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%.20s.%03uZ", day, (unsigned)(ms % 1000));
}
