#include "node/api/route53/rest_q53.h"

#include <stdio.h>
#include <string.h>

#define ARN "arn:aws:route53:::"

bool rest_q53_match(const char *path)
{
	return strcmp(path, REST_Q53_PATH) == 0;
}

const char *rest_q53_action(Q53__Api__Request__BodyCase kind)
{
	switch (kind) {
	case Q53__API__REQUEST__BODY_CREATE_ZONE:
		return "route53:CreateHostedZone";
	case Q53__API__REQUEST__BODY_LIST_ZONES:
		return "route53:ListHostedZones";
	case Q53__API__REQUEST__BODY_GET_ZONE:
		return "route53:GetHostedZone";
	case Q53__API__REQUEST__BODY_DELETE_ZONE:
		return "route53:DeleteHostedZone";
	case Q53__API__REQUEST__BODY_IMPORT_ZONE:
		/* Replaces every record: not a ChangeResourceRecordSets a
		 * condition-limited policy could be read to allow. */
		return "q53:ImportZone";
	case Q53__API__REQUEST__BODY_EXPORT_ZONE:
	case Q53__API__REQUEST__BODY_LIST_RECORDS:
		return "route53:ListResourceRecordSets";
	case Q53__API__REQUEST__BODY_CHANGE_BATCH:
		return "route53:ChangeResourceRecordSets";
	case Q53__API__REQUEST__BODY_GET_CHANGE:
		return "route53:GetChange";
	case Q53__API__REQUEST__BODY_LIST_NODES:
		return "q53:ListNodes";
	case Q53__API__REQUEST__BODY_ADD_NODE:
		return "q53:AddNode";
	case Q53__API__REQUEST__BODY_REMOVE_NODE:
		return "q53:RemoveNode";
	case Q53__API__REQUEST__BODY_STATUS:
		return "q53:GetStatus";
	case Q53__API__REQUEST__BODY_CREATE_HEALTH_CHECK:
		return "route53:CreateHealthCheck";
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK:
		return "route53:GetHealthCheck";
	case Q53__API__REQUEST__BODY_LIST_HEALTH_CHECKS:
		return "route53:ListHealthChecks";
	case Q53__API__REQUEST__BODY_UPDATE_HEALTH_CHECK:
		return "route53:UpdateHealthCheck";
	case Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK:
		return "route53:DeleteHealthCheck";
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK_STATUS:
		return "route53:GetHealthCheckStatus";
	case Q53__API__REQUEST__BODY_HEALTH_VOTE:
		/* What nodes say to each other; over HTTP administrators
		 * only. */
		return "q53:HealthVote";
	case Q53__API__REQUEST__BODY_CREATE_ACCESS_KEY:
		return "q53:CreateAccessKey";
	case Q53__API__REQUEST__BODY_DELETE_ACCESS_KEY:
		return "q53:DeleteAccessKey";
	case Q53__API__REQUEST__BODY_LIST_ACCESS_KEYS:
		return "q53:ListAccessKeys";
	case Q53__API__REQUEST__BODY_LIST_CHANGES:
		return "q53:ListChanges";
	case Q53__API__REQUEST__BODY_UPDATE_ZONE_COMMENT:
		return "route53:UpdateHostedZoneComment";
	/* Zone transfers: their secrets are an administrator's. */
	case Q53__API__REQUEST__BODY_SET_ZONE_TRANSFER:
		return "q53:SetZoneTransfer";
	case Q53__API__REQUEST__BODY_GET_ZONE_TRANSFER:
		return "q53:GetZoneTransfer";
	case Q53__API__REQUEST__BODY_CHANGE_TAGS:
		return "route53:ChangeTagsForResource";
	case Q53__API__REQUEST__BODY_LIST_TAGS:
		return "route53:ListTagsForResource";
	case Q53__API__REQUEST__BODY_TEST_ANSWER:
		return "route53:TestDNSAnswer";
	/* The latency table (as /q53/latency, rest_latency.c). */
	case Q53__API__REQUEST__BODY_LATENCY_SET:
		return "q53:SetLatencyRows";
	case Q53__API__REQUEST__BODY_LATENCY_DELETE:
		return "q53:DeleteLatencyRows";
	case Q53__API__REQUEST__BODY_LATENCY_LIST:
		return "q53:ListLatencyRows";
	case Q53__API__REQUEST__BODY_LATENCY_SAMPLES:
		/* A node's measured RTTs: what nodes say to each other. */
		return "q53:ReportLatencySamples";
	/* A hosted zone's limit: Route 53 reads it with GetHostedZoneLimit
	 * and raises it through a support case; here an administrator's
	 * q53 action. */
	case Q53__API__REQUEST__BODY_GET_ZONE_LIMIT:
		return "route53:GetHostedZoneLimit";
	case Q53__API__REQUEST__BODY_SET_ZONE_LIMIT:
		return "q53:SetHostedZoneLimit";
	/* CIDR collections (IP-based routing), as Route 53 names them. */
	case Q53__API__REQUEST__BODY_CREATE_CIDR_COLLECTION:
		return "route53:CreateCidrCollection";
	case Q53__API__REQUEST__BODY_CHANGE_CIDR_COLLECTION:
		return "route53:ChangeCidrCollection";
	case Q53__API__REQUEST__BODY_DELETE_CIDR_COLLECTION:
		return "route53:DeleteCidrCollection";
	case Q53__API__REQUEST__BODY_LIST_CIDR_COLLECTIONS:
		return "route53:ListCidrCollections";
	case Q53__API__REQUEST__BODY_LIST_CIDR_LOCATIONS:
		return "route53:ListCidrLocations";
	case Q53__API__REQUEST__BODY_LIST_CIDR_BLOCKS:
		return "route53:ListCidrBlocks";
	case Q53__API__REQUEST__BODY_CREATE_QUERY_LOGGING:
		return "route53:CreateQueryLoggingConfig";
	case Q53__API__REQUEST__BODY_DELETE_QUERY_LOGGING:
		return "route53:DeleteQueryLoggingConfig";
	case Q53__API__REQUEST__BODY_LIST_QUERY_LOGGING:
		return "route53:ListQueryLoggingConfigs";
	case Q53__API__REQUEST__BODY_TRAFFIC_FLOW:
		/* The operation's own Route 53 action: rest_q53_target. */
		return "route53:GetTrafficPolicy";
	default:
		return NULL;
	}
}

char **rest_q53_akid_ref(Q53__Api__Request *req)
{
	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_CREATE_ZONE:
		return req->create_zone ? &req->create_zone->access_key_id
					: NULL;
	case Q53__API__REQUEST__BODY_DELETE_ZONE:
		return req->delete_zone ? &req->delete_zone->access_key_id
					: NULL;
	case Q53__API__REQUEST__BODY_CHANGE_BATCH:
		return req->change_batch ? &req->change_batch->access_key_id
					 : NULL;
	default:
		return NULL;
	}
}

char **rest_q53_zone_ref(Q53__Api__Request *req)
{
	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_GET_ZONE:
		return req->get_zone ? &req->get_zone->zone : NULL;
	case Q53__API__REQUEST__BODY_DELETE_ZONE:
		return req->delete_zone ? &req->delete_zone->zone : NULL;
	case Q53__API__REQUEST__BODY_IMPORT_ZONE:
		return req->import_zone ? &req->import_zone->zone : NULL;
	case Q53__API__REQUEST__BODY_EXPORT_ZONE:
		return req->export_zone ? &req->export_zone->zone : NULL;
	case Q53__API__REQUEST__BODY_CHANGE_BATCH:
		return req->change_batch ? &req->change_batch->zone : NULL;
	case Q53__API__REQUEST__BODY_LIST_RECORDS:
		return req->list_records ? &req->list_records->zone : NULL;
	case Q53__API__REQUEST__BODY_UPDATE_ZONE_COMMENT:
		return req->update_zone_comment
			   ? &req->update_zone_comment->zone
			   : NULL;
	case Q53__API__REQUEST__BODY_SET_ZONE_TRANSFER:
		return req->set_zone_transfer ? &req->set_zone_transfer->zone
					      : NULL;
	case Q53__API__REQUEST__BODY_GET_ZONE_TRANSFER:
		return req->get_zone_transfer ? &req->get_zone_transfer->zone
					      : NULL;
	case Q53__API__REQUEST__BODY_GET_ZONE_LIMIT:
		return req->get_zone_limit ? &req->get_zone_limit->zone : NULL;
	case Q53__API__REQUEST__BODY_SET_ZONE_LIMIT:
		return req->set_zone_limit ? &req->set_zone_limit->zone : NULL;
	case Q53__API__REQUEST__BODY_CREATE_QUERY_LOGGING:
		return req->create_query_logging
			   ? &req->create_query_logging->hosted_zone_id
			   : NULL;
	case Q53__API__REQUEST__BODY_LIST_QUERY_LOGGING:
		/* "" = every zone: resource "*" */
		return req->list_query_logging &&
			       req->list_query_logging->hosted_zone_id &&
			       req->list_query_logging->hosted_zone_id[0] !=
				   '\0'
			   ? &req->list_query_logging->hosted_zone_id
			   : NULL;
	case Q53__API__REQUEST__BODY_LIST_CHANGES:
		/* "" = every zone: stays "" (resource "*") */
		return req->list_changes && req->list_changes->zone &&
			       req->list_changes->zone[0] != '\0'
			   ? &req->list_changes->zone
			   : NULL;
	default:
		return NULL;
	}
}

/* id without a "/PREFIX/" a client may have kept ("/change/C1"). */
static const char *bare(const char *id, const char *prefix)
{
	size_t n = strlen(prefix);
	if (id == NULL)
		return "";
	return strncmp(id, prefix, n) == 0 ? id + n : id;
}

static void arn(struct rest_auth_target *out, const char *kind, const char *id)
{
	snprintf(out->resource, sizeof(out->resource), ARN "%s/%s", kind, id);
}

void rest_q53_target(const Q53__Api__Request *req, rest_q53_resolve_fn resolve,
		     void *ctx, struct rest_auth_target *out)
{
	const char *action = rest_q53_action(req->body_case);

	memset(out, 0, sizeof(*out));
	snprintf(out->action, sizeof(out->action), "%s",
		 action != NULL ? action : "q53:Unknown");
	snprintf(out->resource, sizeof(out->resource), "*");
	out->change_batch =
	    req->body_case == Q53__API__REQUEST__BODY_CHANGE_BATCH;

	char **zone = rest_q53_zone_ref((Q53__Api__Request *)req);
	if (zone != NULL && *zone != NULL) {
		char id[REST_AUTH_RESOURCE_MAX - 64]; /* room for the ARN */
		if (resolve == NULL || !resolve(ctx, *zone, id, sizeof(id)))
			snprintf(id, sizeof(id), "%s",
				 bare(*zone, "/hostedzone/"));
		arn(out, "hostedzone", id);
		return;
	}
	if (req->body_case == Q53__API__REQUEST__BODY_TRAFFIC_FLOW &&
	    req->traffic_flow != NULL) {
		static const char *const FLOW[] = {
		    "GetTrafficPolicy",
		    "CreateTrafficPolicy",
		    "CreateTrafficPolicyVersion",
		    "GetTrafficPolicy",
		    "ListTrafficPolicies",
		    "ListTrafficPolicyVersions",
		    "UpdateTrafficPolicyComment",
		    "DeleteTrafficPolicy",
		    "CreateTrafficPolicyInstance",
		    "GetTrafficPolicyInstance",
		    "ListTrafficPolicyInstances",
		    "ListTrafficPolicyInstancesByHostedZone",
		    "ListTrafficPolicyInstancesByPolicy",
		    "UpdateTrafficPolicyInstance",
		    "DeleteTrafficPolicyInstance",
		    "GetTrafficPolicyInstanceCount",
		};
		unsigned op = (unsigned)req->traffic_flow->op;
		snprintf(out->action, sizeof(out->action), "route53:%s",
			 op < sizeof(FLOW) / sizeof(FLOW[0]) ? FLOW[op]
							     : "Unknown");
		return;
	}
	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_GET_CHANGE:
		if (req->get_change != NULL)
			arn(out, "change",
			    bare(req->get_change->id, "/change/"));
		break;
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK:
		if (req->get_health_check != NULL)
			arn(out, "healthcheck",
			    bare(req->get_health_check->id, "/healthcheck/"));
		break;
	case Q53__API__REQUEST__BODY_UPDATE_HEALTH_CHECK:
		if (req->update_health_check != NULL)
			arn(out, "healthcheck",
			    bare(req->update_health_check->id,
				 "/healthcheck/"));
		break;
	case Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK:
		if (req->delete_health_check != NULL)
			arn(out, "healthcheck",
			    bare(req->delete_health_check->id,
				 "/healthcheck/"));
		break;
	case Q53__API__REQUEST__BODY_GET_HEALTH_CHECK_STATUS:
		if (req->get_health_check_status != NULL)
			arn(out, "healthcheck",
			    bare(req->get_health_check_status->id,
				 "/healthcheck/"));
		break;
	case Q53__API__REQUEST__BODY_CHANGE_TAGS:
		if (req->change_tags != NULL &&
		    req->change_tags->resource_type != NULL)
			arn(out, req->change_tags->resource_type,
			    bare(req->change_tags->resource_id, ""));
		break;
	case Q53__API__REQUEST__BODY_LIST_TAGS:
		if (req->list_tags != NULL &&
		    req->list_tags->n_resource_ids > 1)
			snprintf(out->action, sizeof(out->action),
				 "route53:ListTagsForResources");
		else if (req->list_tags != NULL &&
			 req->list_tags->n_resource_ids == 1 &&
			 req->list_tags->resource_type != NULL)
			arn(out, req->list_tags->resource_type,
			    bare(req->list_tags->resource_ids[0], ""));
		break;
	/* The collection named, as the REST edge (rest_auth.c) has it;
	 * CreateCidrCollection and ListCidrCollections: "*". */
	case Q53__API__REQUEST__BODY_CHANGE_CIDR_COLLECTION:
		if (req->change_cidr_collection != NULL)
			arn(out, "cidrcollection",
			    bare(req->change_cidr_collection->id,
				 "/cidrcollection/"));
		break;
	case Q53__API__REQUEST__BODY_DELETE_CIDR_COLLECTION:
		if (req->delete_cidr_collection != NULL)
			arn(out, "cidrcollection",
			    bare(req->delete_cidr_collection->id,
				 "/cidrcollection/"));
		break;
	case Q53__API__REQUEST__BODY_LIST_CIDR_LOCATIONS:
		if (req->list_cidr_locations != NULL)
			arn(out, "cidrcollection",
			    bare(req->list_cidr_locations->collection_id,
				 "/cidrcollection/"));
		break;
	case Q53__API__REQUEST__BODY_LIST_CIDR_BLOCKS:
		if (req->list_cidr_blocks != NULL)
			arn(out, "cidrcollection",
			    bare(req->list_cidr_blocks->collection_id,
				 "/cidrcollection/"));
		break;
	default:
		break;
	}
}
