/* DESIGN: a translator, not a second API. Each Route 53 operation becomes
 * one q53.api.Request given to the node's API backend through
 * api_server_submit (so writes are forwarded to the leader and answered
 * after the Raft commit exactly as for q53), and each Response becomes
 * Route 53's XML. What Route 53 checks about the request's shape is checked
 * here; what depends on state stays with the backend and the FSM, whose
 * error codes are Route 53's already. */
#include "node/api/route53/rest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libxml/xmlwriter.h>

#include "cluster/api_msg.h"
#include "node/api/api.h"
#include "node/api/http_server.h"
#include "node/api/route53/r53_route.h"
#include "node/api/route53/r53_xml.h"
#include "node/api/route53/rest_auth.h"
#include "node/api/route53/rest_console.h"
#include "node/api/route53/rest_keys.h"
#include "node/api/route53/rest_q53.h"
#include "node/api/route53/rest_latency.h"
#include "node/api/route53/sigv4.h"
#include "node/api/api_render.h"
#include "node/common/errcode.h"
#include "node/control/control_fsm.h"
#include "node/control/iam_policy.h"
#include "node/runtime/cluster_ops.h"

#include <jansson.h>
#include "proto/api.pb-c.h"

#define R53_NS	   "https://route53.amazonaws.com/doc/2013-04-01/"
#define R53_PREFIX "/2013-04-01"
#define MAX_SKEW_S 300
#define KEYS_MAX   1024
#define SECRET_MAX 128
/* (operation, status) pairs counted; more fall into ("other", status) */
#define REST_COUNTS_MAX 512

struct key {
	char akid[SIGV4_AKID_MAX + 1];
	char secret[SECRET_MAX + 1];
};

struct route53_rest {
	struct http_server *http;
	struct api_server *api;
	struct key *keys; /* --http-keys: administrators */
	size_t n_keys;
	const struct cluster_ops *ops; /* the FSM's access keys (NULL: none) */
	struct cluster_ops ops_copy;
	unsigned long long requests;
	char *(*metrics)(void *data, size_t *len);
	void *metrics_data;
	char *(*alarms)(void *data, const char *check_id, size_t *len);
	void *alarms_data;
	/* requests answered, by operation and status (/metrics) */
	struct rest_count {
		const char *op;
		unsigned status;
		unsigned long long n;
	} counts[REST_COUNTS_MAX];
	size_t n_counts;
};

/* One Route 53 request waiting for the node's answer. */
struct op {
	struct http_request *r;
	enum r53_op kind;
	char request_id[40];
	char marker[128];   /* ListHostedZones: as given */
	unsigned max_items; /* the page size asked */
	/* ListHostedZonesByName: every page of the node's zone list (kept
	 * until answered), the DNSName and HostedZoneId asked. */
	struct route53_rest *rest;
	Q53__Api__Response **pages;
	size_t n_pages;
	char dns_name[1100];
	char zone_id[64];
	char akid[SIGV4_AKID_MAX + 1]; /* the signing key (audit) */
	/* POST /q53/api: the key's policy (NULL: an administrator), checked
	 * once the body is decoded. */
	const Q53__Command__AccessPolicy *policy;
	/* The other operations' path ids (tagged resource, limit type). */
	char id[R53_ROUTE_SEG_MAX + 1];
	char kind_arg[R53_ROUTE_SEG_MAX + 1];
};

/* --- XML out --- */

struct xml_out {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
};

static int xo_begin(struct xml_out *x, const char *root)
{
	x->buf = xmlBufferCreate();
	x->w = x->buf != NULL ? xmlNewTextWriterMemory(x->buf, 0) : NULL;
	if (x->w == NULL) {
		if (x->buf != NULL)
			xmlBufferFree(x->buf);
		return Q53_ENOMEM;
	}
	xmlTextWriterStartDocument(x->w, NULL, "UTF-8", NULL);
	xmlTextWriterStartElementNS(x->w, NULL, BAD_CAST root, BAD_CAST R53_NS);
	return 0;
}

static void xo_open(struct xml_out *x, const char *name)
{
	xmlTextWriterStartElement(x->w, BAD_CAST name);
}

static void xo_close(struct xml_out *x)
{
	xmlTextWriterEndElement(x->w);
}

static void xo_text(struct xml_out *x, const char *name, const char *text)
{
	xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST text);
}

static void xo_fmt(struct xml_out *x, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void xo_fmt(struct xml_out *x, const char *name, const char *fmt, ...)
{
	char v[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	xo_text(x, name, v);
}

static void xo_send(struct xml_out *x, struct op *o, unsigned status,
		    const char *const *headers)
{
	xmlTextWriterEndDocument(x->w);
	xmlFreeTextWriter(x->w);
	http_respond(o->r, status, "text/xml", xmlBufferContent(x->buf),
		     (size_t)xmlBufferLength(x->buf), headers);
	xmlBufferFree(x->buf);
}

static void send_error(struct http_request *r, const char *request_id,
		       unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void send_error(struct http_request *r, const char *request_id,
		       unsigned status, const char *code, const char *fmt, ...)
{
	char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	struct xml_out x;
	if (xo_begin(&x, "ErrorResponse") != 0) {
		http_respond(r, 500, "text/plain", "out of memory\n", 14, NULL);
		return;
	}
	xo_open(&x, "Error");
	xo_text(&x, "Type", status >= 500 ? "Receiver" : "Sender");
	xo_text(&x, "Code", code);
	xo_text(&x, "Message", message);
	xo_close(&x);
	xo_text(&x, "RequestId", request_id);
	struct op o = {.r = r};
	const char *headers[] = {"x-amzn-RequestId", request_id, NULL};
	xo_send(&x, &o, status, headers);
}

/* The HTTP status Route 53 gives each error code. */
static unsigned error_status(const char *code, const char **out_code)
{
	static const struct {
		const char *code;
		unsigned status;
		const char *r53;
	} map[] = {
	    {API_ERR_NO_SUCH_ZONE, 404, NULL},
	    {API_ERR_NO_SUCH_CHANGE, 404, NULL},
	    {API_ERR_NO_SUCH_HEALTH_CHECK, 404, NULL},
	    {API_ERR_ZONE_EXISTS, 409, NULL},
	    {"HealthCheckAlreadyExists", 409, NULL},
	    {"HealthCheckVersionMismatch", 409, NULL},
	    {"NoSuchTrafficPolicy", 404, NULL},
	    {"NoSuchTrafficPolicyInstance", 404, NULL},
	    {"TrafficPolicyAlreadyExists", 409, NULL},
	    {"TrafficPolicyInstanceAlreadyExists", 409, NULL},
	    {"TrafficPolicyInUse", 400, NULL},
	    {"NoSuchCidrCollectionException", 404, NULL},
	    {"NoSuchCidrLocationException", 404, NULL},
	    {"CidrCollectionVersionMismatchException", 409, NULL},
	    {"NoSuchQueryLoggingConfig", 404, NULL},
	    {"QueryLoggingConfigAlreadyExists", 409, NULL},
	    {API_ERR_UNAVAILABLE, 503, "ServiceUnavailable"},
	    {API_ERR_NOT_LEADER, 503, "ServiceUnavailable"},
	    {API_ERR_NOT_IMPLEMENTED, 501, "NotImplemented"},
	    {API_ERR_INTERNAL, 500, "InternalFailure"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(map[i].code, code) == 0) {
			*out_code = map[i].r53 != NULL ? map[i].r53 : code;
			return map[i].status;
		}
	}
	*out_code = code;
	return 400;
}

static void xo_change_info(struct xml_out *x, const Q53__Api__ChangeInfo *c)
{
	char when[64];
	xo_open(x, "ChangeInfo");
	xo_fmt(x, "Id", "/change/%s", c != NULL ? c->id : "");
	xo_text(x, "Status",
		c != NULL && c->status == Q53__API__CHANGE_STATUS__INSYNC
		    ? "INSYNC"
		    : "PENDING");
	api_msg_iso_time(c != NULL && c->submitted_at_ms
			     ? c->submitted_at_ms
			     : (uint64_t)time(NULL) * 1000,
			 when, sizeof(when));
	xo_text(x, "SubmittedAt", when);
	if (c != NULL && c->comment != NULL && c->comment[0] != '\0')
		xo_text(x, "Comment", c->comment);
	xo_close(x);
}

static void xo_zone(struct xml_out *x, const Q53__Api__HostedZone *z)
{
	xo_open(x, "HostedZone");
	xo_fmt(x, "Id", "/hostedzone/%s", z->id);
	xo_text(x, "Name", z->name);
	xo_text(x, "CallerReference", z->caller_reference);
	xo_open(x, "Config");
	if (z->comment != NULL && z->comment[0] != '\0')
		xo_text(x, "Comment", z->comment);
	xo_text(x, "PrivateZone", "false");
	xo_close(x);
	xo_fmt(x, "ResourceRecordSetCount", "%llu",
	       (unsigned long long)z->record_set_count);
	xo_close(x);
}

static void xo_delegation(struct xml_out *x, char **ns, size_t n)
{
	xo_open(x, "DelegationSet");
	xo_open(x, "NameServers");
	for (size_t i = 0; i < n; i++)
		xo_text(x, "NameServer", ns[i]);
	xo_close(x);
	xo_close(x);
}

/* Names as Route 53 writes them: '*' as \052, lowercase, final dot. */
static void r53_name(const char *name, char *out, size_t len)
{
	size_t o = 0;
	for (const char *p = name; *p && o + 5 < len; p++) {
		if (*p == '*') {
			memcpy(out + o, "\\052", 4);
			o += 4;
		} else {
			out[o++] =
			    (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
		}
	}
	out[o] = '\0';
}

static void xo_rrset(struct xml_out *x, const Q53__Api__RecordSet *rs)
{
	char name[1100];
	r53_name(rs->name, name, sizeof(name));
	xo_open(x, "ResourceRecordSet");
	xo_text(x, "Name", name);
	xo_text(x, "Type", rs->type);
	if (rs->traffic_policy_instance_id != NULL &&
	    rs->traffic_policy_instance_id[0] != '\0') {
		/* A policy record: Route 53 lists it with its instance. */
		xo_fmt(x, "TTL", "%u", rs->ttl);
		xo_text(x, "TrafficPolicyInstanceId",
			rs->traffic_policy_instance_id);
		xo_close(x);
		return;
	}
	if (rs->set_identifier != NULL && rs->set_identifier[0] != '\0')
		xo_text(x, "SetIdentifier", rs->set_identifier);
	if (rs->has_weight)
		xo_fmt(x, "Weight", "%u", rs->weight);
	if (rs->multi_value_answer)
		xo_text(x, "MultiValueAnswer", "true");
	if (rs->region[0])
		xo_text(x, "Region", rs->region);
	if (rs->geo_continent_code[0] || rs->geo_country_code[0]) {
		xo_open(x, "GeoLocation");
		if (rs->geo_continent_code[0])
			xo_text(x, "ContinentCode", rs->geo_continent_code);
		if (rs->geo_country_code[0])
			xo_text(x, "CountryCode", rs->geo_country_code);
		if (rs->geo_subdivision_code[0])
			xo_text(x, "SubdivisionCode", rs->geo_subdivision_code);
		xo_close(x);
	}
	if (rs->failover != NULL && rs->failover[0] != '\0')
		xo_text(x, "Failover", rs->failover);
	if (rs->health_check_id != NULL && rs->health_check_id[0] != '\0')
		xo_text(x, "HealthCheckId", rs->health_check_id);
	if (rs->cidr_collection_id != NULL && rs->cidr_collection_id[0]) {
		xo_open(x, "CidrRoutingConfig");
		xo_text(x, "CollectionId", rs->cidr_collection_id);
		xo_text(x, "LocationName", rs->cidr_location_name);
		xo_close(x);
	}
	if (rs->has_geo_proximity) {
		xo_open(x, "GeoProximityLocation");
		if (rs->geo_proximity_aws_region[0]) {
			xo_text(x, "AWSRegion", rs->geo_proximity_aws_region);
		} else {
			xo_open(x, "Coordinates");
			xo_text(x, "Latitude", rs->geo_proximity_latitude);
			xo_text(x, "Longitude", rs->geo_proximity_longitude);
			xo_close(x);
		}
		if (rs->geo_proximity_bias != 0)
			xo_fmt(x, "Bias", "%d", (int)rs->geo_proximity_bias);
		xo_close(x);
	}
	if (rs->alias_hosted_zone_id != NULL &&
	    rs->alias_hosted_zone_id[0] != '\0') {
		char target[1100];
		r53_name(rs->alias_dns_name, target, sizeof(target));
		xo_open(x, "AliasTarget");
		xo_text(x, "HostedZoneId", rs->alias_hosted_zone_id);
		xo_text(x, "DNSName", target);
		xo_text(x, "EvaluateTargetHealth",
			rs->alias_evaluate_target_health ? "true" : "false");
		xo_close(x);
		xo_close(x);
		return;
	}
	xo_fmt(x, "TTL", "%u", rs->ttl);
	xo_open(x, "ResourceRecords");
	for (size_t i = 0; i < rs->n_values; i++) {
		xo_open(x, "ResourceRecord");
		xo_text(x, "Value", rs->values[i]);
		xo_close(x);
	}
	xo_close(x);
	xo_close(x);
}

/* A health check's configuration (the node keeps the AWS CLI's JSON) as
 * Route 53's XML: objects as elements, lists with their member names. */
static void xo_json(struct xml_out *x, const char *name, json_t *v)
{
	static const struct {
		const char *list, *member;
	} members[] = {
	    {"ChildHealthChecks", "ChildHealthCheck"},
	    {"Regions", "Region"},
	};
	char num[32];
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *c;
		xo_open(x, name);
		json_object_foreach(v, k, c) xo_json(x, k, c);
		xo_close(x);
		return;
	}
	case JSON_ARRAY: {
		const char *member = "member";
		size_t i;
		json_t *c;
		for (size_t m = 0; m < sizeof(members) / sizeof(members[0]);
		     m++)
			if (strcmp(members[m].list, name) == 0)
				member = members[m].member;
		xo_open(x, name);
		json_array_foreach(v, i, c) xo_json(x, member, c);
		xo_close(x);
		return;
	}
	case JSON_STRING:
		xo_text(x, name, json_string_value(v));
		return;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(v));
		xo_text(x, name, num);
		return;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%g", json_real_value(v));
		xo_text(x, name, num);
		return;
	case JSON_TRUE:
		xo_text(x, name, "true");
		return;
	case JSON_FALSE:
		xo_text(x, name, "false");
		return;
	case JSON_NULL:
		return;
	}
}

static void xo_health_check(struct xml_out *x, const Q53__Api__HealthCheck *h)
{
	xo_open(x, "HealthCheck");
	xo_text(x, "Id", h->id);
	xo_text(x, "CallerReference", h->caller_reference);
	json_t *cfg = json_loadb((const char *)h->config_json.data,
				 h->config_json.len, 0, NULL);
	if (cfg != NULL && json_is_object(cfg))
		xo_json(x, "HealthCheckConfig", cfg);
	json_decref(cfg);
	xo_fmt(x, "HealthCheckVersion", "%llu", (unsigned long long)h->version);
	xo_close(x);
}

/* The paging members of ListHostedZones and ListHealthChecks. */
static void xo_marker_page(struct xml_out *x, const struct op *o,
			   const char *next_marker)
{
	bool more = next_marker != NULL && next_marker[0] != '\0';
	xo_text(x, "Marker", o->marker);
	xo_text(x, "IsTruncated", more ? "true" : "false");
	if (more)
		xo_text(x, "NextMarker", next_marker);
	xo_fmt(x, "MaxItems", "%u", o->max_items);
}

/* --- answers --- */

static bool answer_more(struct op *o, const Q53__Api__Response *resp);
static bool answer_qlog(struct op *o, const Q53__Api__Response *resp);

static void answer(struct op *o, const Q53__Api__Response *resp)
{
	struct xml_out x;
	const char *hdr[] = {"x-amzn-RequestId", o->request_id, NULL, NULL,
			     NULL};

	if (resp->error != NULL && resp->error[0] != '\0') {
		const char *code;
		unsigned status = error_status(resp->error, &code);
		send_error(o->r, o->request_id, status, code, "%s",
			   resp->message);
		return;
	}
	switch (o->kind) {
	case R53_CREATE_ZONE: {
		const Q53__Api__CreateZoneResponse *c = resp->create_zone;
		char location[256];
		if (c == NULL || c->zone == NULL)
			break;
		if (xo_begin(&x, "CreateHostedZoneResponse") != 0)
			break;
		xo_zone(&x, c->zone);
		xo_change_info(&x, c->change);
		xo_delegation(&x, c->nameservers, c->n_nameservers);
		snprintf(
		    location, sizeof(location),
		    "https://route53.amazonaws.com/2013-04-01/hostedzone/%s",
		    c->zone->id);
		hdr[2] = "Location";
		hdr[3] = location;
		xo_send(&x, o, 201, hdr);
		return;
	}
	case R53_GET_ZONE: {
		const Q53__Api__GetZoneResponse *g = resp->get_zone;
		if (g == NULL || g->zone == NULL)
			break;
		if (xo_begin(&x, "GetHostedZoneResponse") != 0)
			break;
		xo_zone(&x, g->zone);
		xo_delegation(&x, g->nameservers, g->n_nameservers);
		xo_send(&x, o, 200, hdr);
		return;
	}
	case R53_LIST_ZONES: {
		const Q53__Api__ListZonesResponse *l = resp->list_zones;
		if (l == NULL)
			break;
		if (xo_begin(&x, "ListHostedZonesResponse") != 0)
			break;
		xo_open(&x, "HostedZones");
		for (size_t i = 0; i < l->n_zones; i++)
			xo_zone(&x, l->zones[i]);
		xo_close(&x);
		xo_marker_page(&x, o, l->next_marker);
		xo_send(&x, o, 200, hdr);
		return;
	}
	case R53_DELETE_ZONE:
	case R53_CHANGE_RRSETS:
	case R53_GET_CHANGE: {
		/* Answers that are a ChangeInfo. */
		const Q53__Api__ChangeInfo *ci =
		    o->kind == R53_DELETE_ZONE
			? (resp->delete_zone ? resp->delete_zone->change : NULL)
		    : o->kind == R53_CHANGE_RRSETS
			? (resp->change_batch ? resp->change_batch->change
					      : NULL)
			: (resp->get_change ? resp->get_change->change : NULL);
		static const char *const roots[] = {
		    [R53_DELETE_ZONE] = "DeleteHostedZoneResponse",
		    [R53_CHANGE_RRSETS] = "ChangeResourceRecordSetsResponse",
		    [R53_GET_CHANGE] = "GetChangeResponse",
		};
		if (ci == NULL || xo_begin(&x, roots[o->kind]) != 0)
			break;
		xo_change_info(&x, ci);
		xo_send(&x, o, 200, hdr);
		return;
	}
	case R53_ZONE_COUNT:
		if (resp->status == NULL ||
		    xo_begin(&x, "GetHostedZoneCountResponse") != 0)
			break;
		xo_fmt(&x, "HostedZoneCount", "%u", resp->status->zones);
		xo_send(&x, o, 200, hdr);
		return;
	case R53_CREATE_HC:
	case R53_GET_HC:
	case R53_UPDATE_HC: {
		const Q53__Api__HealthCheck *h =
		    o->kind == R53_CREATE_HC
			? (resp->create_health_check
			       ? resp->create_health_check->health_check
			       : NULL)
		    : o->kind == R53_GET_HC
			? (resp->get_health_check
			       ? resp->get_health_check->health_check
			       : NULL)
			: (resp->update_health_check
			       ? resp->update_health_check->health_check
			       : NULL);
		static const char *const roots[] = {
		    [R53_CREATE_HC] = "CreateHealthCheckResponse",
		    [R53_GET_HC] = "GetHealthCheckResponse",
		    [R53_UPDATE_HC] = "UpdateHealthCheckResponse",
		};
		if (h == NULL || xo_begin(&x, roots[o->kind]) != 0)
			break;
		xo_health_check(&x, h);
		char location[256];
		if (o->kind == R53_CREATE_HC) {
			snprintf(location, sizeof(location),
				 "https://route53.amazonaws.com/2013-04-01/"
				 "healthcheck/%s",
				 h->id);
			hdr[2] = "Location";
			hdr[3] = location;
		}
		xo_send(&x, o, o->kind == R53_CREATE_HC ? 201 : 200, hdr);
		return;
	}
	case R53_LIST_HCS:
	case R53_HC_COUNT: {
		const Q53__Api__ListHealthChecksResponse *l =
		    resp->list_health_checks;
		if (l == NULL)
			break;
		if (o->kind == R53_HC_COUNT) {
			if (xo_begin(&x, "GetHealthCheckCountResponse") != 0)
				break;
			xo_fmt(&x, "HealthCheckCount", "%zu",
			       l->n_health_checks);
			xo_send(&x, o, 200, hdr);
			return;
		}
		if (xo_begin(&x, "ListHealthChecksResponse") != 0)
			break;
		xo_open(&x, "HealthChecks");
		for (size_t i = 0; i < l->n_health_checks; i++)
			xo_health_check(&x, l->health_checks[i]);
		xo_close(&x);
		xo_marker_page(&x, o, l->next_marker);
		xo_send(&x, o, 200, hdr);
		return;
	}
	case R53_DELETE_HC:
		if (xo_begin(&x, "DeleteHealthCheckResponse") != 0)
			break;
		xo_send(&x, o, 200, hdr);
		return;
	case R53_HC_STATUS: {
		const Q53__Api__GetHealthCheckStatusResponse *st =
		    resp->get_health_check_status;
		if (st == NULL ||
		    xo_begin(&x, "GetHealthCheckStatusResponse") != 0)
			break;
		/* One observation per node (Route 53: per checker region):
		 * Region is the node's name. */
		xo_open(&x, "HealthCheckObservations");
		for (size_t i = 0; i < st->n_nodes; i++) {
			const Q53__Api__HealthCheckNodeStatus *ns =
			    st->nodes[i];
			char when[64], status[512];
			if (!ns->reachable || ns->observed_state == NULL ||
			    ns->observed_state[0] == '\0')
				continue;
			xo_open(&x, "HealthCheckObservation");
			xo_text(&x, "Region", ns->name);
			xo_open(&x, "StatusReport");
			snprintf(status, sizeof(status), "%s: %s",
				 strcmp(ns->observed_state, "HEALTHY") == 0
				     ? "Success"
				     : "Failure",
				 ns->observed_reason != NULL &&
					 ns->observed_reason[0]
				     ? ns->observed_reason
				     : ns->observed_state);
			xo_text(&x, "Status", status);
			api_msg_iso_time(ns->observed_at_ms, when,
					 sizeof(when));
			xo_text(&x, "CheckedTime", when);
			xo_close(&x);
			xo_close(&x);
		}
		xo_close(&x);
		xo_send(&x, o, 200, hdr);
		return;
	}
	case R53_ZONES_BY_NAME:
		break; /* answered from every page (on_reply) */
	default:
		if (answer_more(o, resp))
			return;
		break;
	case R53_TEST_DNS_ANSWER: {
		const Q53__Api__TestAnswerResponse *t = resp->test_answer;
		if (t == NULL || xo_begin(&x, "TestDNSAnswerResponse") != 0)
			break;
		xo_text(&x, "Nameserver", t->nameserver);
		xo_text(&x, "RecordName", t->record_name);
		xo_text(&x, "RecordType", t->record_type);
		xo_open(&x, "RecordData");
		for (size_t i = 0; i < t->n_record_data; i++)
			xo_text(&x, "RecordDataEntry", t->record_data[i]);
		xo_close(&x);
		xo_text(&x, "ResponseCode", t->response_code);
		xo_text(&x, "Protocol", t->protocol);
		xo_send(&x, o, 200, hdr);
		return;
	}
	case R53_LIST_RRSETS: {
		const Q53__Api__ListRecordsResponse *l = resp->list_records;
		if (l == NULL ||
		    xo_begin(&x, "ListResourceRecordSetsResponse") != 0)
			break;
		xo_open(&x, "ResourceRecordSets");
		for (size_t i = 0; i < l->n_record_sets; i++)
			xo_rrset(&x, l->record_sets[i]);
		xo_close(&x);
		bool more = l->next_name != NULL && l->next_name[0];
		xo_text(&x, "IsTruncated", more ? "true" : "false");
		if (more) {
			char name[1100];
			r53_name(l->next_name, name, sizeof(name));
			xo_text(&x, "NextRecordName", name);
			xo_text(&x, "NextRecordType", l->next_type);
			if (l->next_identifier != NULL &&
			    l->next_identifier[0] != '\0')
				xo_text(&x, "NextRecordIdentifier",
					l->next_identifier);
		}
		xo_fmt(&x, "MaxItems", "%u", o->max_items);
		xo_send(&x, o, 200, hdr);
		return;
	}
	}
	send_error(o->r, o->request_id, 500, "InternalFailure",
		   "the node's answer could not be rendered");
}

/* "www.Example.com." -> "com.example.www": Route 53's order of zones by
 * name (labels reversed, case folded). */
static void reversed_name(const char *name, char *out, size_t len)
{
	size_t n = strlen(name), o = 0;
	while (n > 0 && name[n - 1] == '.')
		n--;
	while (n > 0 && o + 1 < len) {
		size_t start = n;
		while (start > 0 && name[start - 1] != '.')
			start--;
		if (o > 0 && o + 1 < len)
			out[o++] = '.';
		for (size_t i = start; i < n && o + 1 < len; i++)
			out[o++] = (name[i] >= 'A' && name[i] <= 'Z')
				       ? (char)(name[i] + 32)
				       : name[i];
		n = start > 0 ? start - 1 : 0;
	}
	out[o] = '\0';
}

struct named_zone {
	char key[1100];
	const Q53__Api__HostedZone *z;
};

static int named_zone_cmp(const void *a, const void *b)
{
	return strcmp(((const struct named_zone *)a)->key,
		      ((const struct named_zone *)b)->key);
}

static void answer_by_name(struct op *o)
{
	size_t total = 0;
	for (size_t p = 0; p < o->n_pages; p++)
		total += o->pages[p]->list_zones->n_zones;
	struct named_zone *v = calloc(total ? total : 1, sizeof(*v));
	struct xml_out x;
	const char *hdr[] = {"x-amzn-RequestId", o->request_id, NULL};
	if (v == NULL || xo_begin(&x, "ListHostedZonesByNameResponse") != 0) {
		free(v);
		send_error(o->r, o->request_id, 503, "ServiceUnavailable",
			   "out of memory; retry");
		return;
	}
	size_t k = 0;
	for (size_t p = 0; p < o->n_pages; p++)
		for (size_t i = 0; i < o->pages[p]->list_zones->n_zones; i++) {
			v[k].z = o->pages[p]->list_zones->zones[i];
			reversed_name(v[k].z->name, v[k].key, sizeof(v[k].key));
			k++;
		}
	qsort(v, total, sizeof(*v), named_zone_cmp);
	size_t first = 0;
	if (o->dns_name[0] != '\0') {
		char key[1100];
		reversed_name(o->dns_name, key, sizeof(key));
		while (first < total && strcmp(v[first].key, key) < 0)
			first++;
	}
	size_t end =
	    first + o->max_items < total ? first + o->max_items : total;
	xo_open(&x, "HostedZones");
	for (size_t i = first; i < end; i++)
		xo_zone(&x, v[i].z);
	xo_close(&x);
	if (o->dns_name[0] != '\0')
		xo_text(&x, "DNSName", o->dns_name);
	if (o->zone_id[0] != '\0')
		xo_text(&x, "HostedZoneId", o->zone_id);
	xo_text(&x, "IsTruncated", end < total ? "true" : "false");
	if (end < total) {
		xo_text(&x, "NextDNSName", v[end].z->name);
		xo_fmt(&x, "NextHostedZoneId", "/hostedzone/%s", v[end].z->id);
	}
	xo_fmt(&x, "MaxItems", "%u", o->max_items);
	xo_send(&x, o, 200, hdr);
	free(v);
}

static void submit(struct route53_rest *rest, struct op *o,
		   Q53__Api__Request *req);

static void list_zones_page(struct op *o, const char *marker)
{
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__ListZonesRequest l = Q53__API__LIST_ZONES_REQUEST__INIT;
	l.marker = (char *)marker;
	l.max_items = API_MSG_PAGE_MAX;
	req.body_case = Q53__API__REQUEST__BODY_LIST_ZONES;
	req.list_zones = &l;
	submit(o->rest, o, &req);
}

static void op_free(struct op *o)
{
	for (size_t p = 0; p < o->n_pages; p++)
		q53__api__response__free_unpacked(o->pages[p], NULL);
	free(o->pages);
	free(o);
}

static void on_reply(void *ctx, const uint8_t *buf, size_t len)
{
	struct op *o = ctx;
	Q53__Api__Response *resp =
	    buf != NULL ? q53__api__response__unpack(NULL, len, buf) : NULL;
	if (o->kind == R53_ZONES_BY_NAME && resp != NULL &&
	    (resp->error == NULL || resp->error[0] == '\0') &&
	    resp->list_zones != NULL) {
		/* Every page first: the order by name is not the node's. */
		Q53__Api__Response **pages =
		    realloc(o->pages, (o->n_pages + 1) * sizeof(*pages));
		if (pages != NULL) {
			o->pages = pages;
			o->pages[o->n_pages++] = resp;
			const char *next = resp->list_zones->next_marker;
			if (next != NULL && next[0] != '\0')
				list_zones_page(o, next);
			else
				answer_by_name(o), op_free(o);
			return;
		}
		q53__api__response__free_unpacked(resp, NULL);
		resp = NULL;
	}
	if (resp == NULL)
		send_error(o->r, o->request_id, 503, "ServiceUnavailable",
			   "the node could not answer (out of memory); retry");
	else
		answer(o, resp);
	if (resp != NULL)
		q53__api__response__free_unpacked(resp, NULL);
	op_free(o);
}

/* Gives req to the node; o is freed when answered. */
static void submit(struct route53_rest *rest, struct op *o,
		   Q53__Api__Request *req)
{
	req->version = 1;
	size_t n = q53__api__request__get_packed_size(req);
	uint8_t *buf = malloc(n ? n : 1);
	if (buf == NULL ||
	    (q53__api__request__pack(req, buf),
	     api_server_submit(rest->api, buf, n, on_reply, o) != 0)) {
		send_error(o->r, o->request_id, 503, "ServiceUnavailable",
			   "out of memory; retry");
		op_free(o);
	}
	free(buf);
}

/* --- operations --- */

/* Answers an "InvalidInput: message" from the XML parsers. */
static void send_error_text(struct op *o, const char *text)
{
	char code[64];
	const char *message;
	api_msg_split_error(text, code, sizeof(code), &message);
	const char *r53;
	unsigned status = error_status(code, &r53);
	send_error(o->r, o->request_id, status, r53, "%s", message);
}

static void op_create_zone(struct route53_rest *rest, struct op *o)
{
	struct r53_create_zone z;
	char err[512];
	size_t len;
	const uint8_t *body = http_request_body(o->r, &len);

	if (r53_xml_create_zone(body, len, &z, err, sizeof(err)) != 0) {
		send_error_text(o, err);
		free(o);
	} else if (z.private_zone) {
		send_error(o->r, o->request_id, 400, "InvalidInput",
			   "private hosted zones are not supported yet "
			   "(PrivateZone, VPC)");
		free(o);
	} else if (z.delegation_set) {
		send_error(o->r, o->request_id, 400, "InvalidInput",
			   "reusable delegation sets are not supported: omit "
			   "DelegationSetId (every zone gets the cluster's "
			   "name servers)");
		free(o);
	} else {
		Q53__Api__Request req = Q53__API__REQUEST__INIT;
		Q53__Api__CreateZoneRequest c =
		    Q53__API__CREATE_ZONE_REQUEST__INIT;
		c.name = z.name;
		c.caller_reference = z.caller_reference;
		c.access_key_id = o->akid; /* the audit's submitter */
		if (z.comment != NULL)
			c.comment = z.comment;
		req.body_case = Q53__API__REQUEST__BODY_CREATE_ZONE;
		req.create_zone = &c;
		o->kind = R53_CREATE_ZONE;
		submit(rest, o, &req);
	}
	r53_create_zone_free(&z);
}

static void op_change_rrsets(struct route53_rest *rest, struct op *o,
			     const char *zone)
{
	char err[512];
	char *json;
	size_t len;
	const uint8_t *body = http_request_body(o->r, &len);

	if (r53_xml_change_batch(body, len, &json, err, sizeof(err)) != 0) {
		send_error_text(o, err);
		free(o);
		return;
	}
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__ChangeBatchRequest c = Q53__API__CHANGE_BATCH_REQUEST__INIT;
	c.zone = (char *)zone;
	c.change_batch_json.data = (uint8_t *)json;
	c.change_batch_json.len = strlen(json);
	c.access_key_id = o->akid;
	req.body_case = Q53__API__REQUEST__BODY_CHANGE_BATCH;
	req.change_batch = &c;
	o->kind = R53_CHANGE_RRSETS;
	submit(rest, o, &req);
	free(json);
}

static void op_list_rrsets(struct route53_rest *rest, struct op *o,
			   const struct r53_route *rt)
{
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__ListRecordsRequest l = Q53__API__LIST_RECORDS_REQUEST__INIT;
	l.zone = (char *)rt->id;
	o->max_items = rt->max_items;
	l.max_items = o->max_items;
	if (rt->name != NULL)
		l.start_name = (char *)rt->name;
	if (rt->type != NULL)
		l.start_type = (char *)rt->type;
	if (rt->identifier != NULL)
		l.start_identifier = (char *)rt->identifier;
	req.body_case = Q53__API__REQUEST__BODY_LIST_RECORDS;
	req.list_records = &l;
	o->kind = R53_LIST_RRSETS;
	submit(rest, o, &req);
}

static void op_test_answer(struct route53_rest *rest, struct op *o,
			   const struct r53_route *rt)
{
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__TestAnswerRequest t = Q53__API__TEST_ANSWER_REQUEST__INIT;
	char subnet[128] = "";
	if (rt->ecs_ip != NULL)
		snprintf(subnet, sizeof(subnet), "%.64s%s%.8s", rt->ecs_ip,
			 rt->ecs_mask != NULL ? "/" : "",
			 rt->ecs_mask != NULL ? rt->ecs_mask : "");
	t.zone = (char *)rt->zone_id;
	t.name = (char *)rt->record_name;
	t.type = (char *)rt->record_type;
	t.resolver_ip =
	    (char *)(rt->resolver_ip != NULL ? rt->resolver_ip : "");
	t.client_subnet = subnet;
	req.body_case = Q53__API__REQUEST__BODY_TEST_ANSWER;
	req.test_answer = &t;
	o->kind = R53_TEST_DNS_ANSWER;
	submit(rest, o, &req);
}

static void op_create_hc(struct route53_rest *rest, struct op *o)
{
	char err[512], *ref, *cfg;
	size_t len;
	const uint8_t *body = http_request_body(o->r, &len);

	if (r53_xml_create_health_check(body, len, &ref, &cfg, err,
					sizeof(err)) != 0) {
		send_error_text(o, err);
		free(o);
		return;
	}
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__CreateHealthCheckRequest c =
	    Q53__API__CREATE_HEALTH_CHECK_REQUEST__INIT;
	c.caller_reference = ref;
	c.config_json.data = (uint8_t *)cfg;
	c.config_json.len = strlen(cfg);
	req.body_case = Q53__API__REQUEST__BODY_CREATE_HEALTH_CHECK;
	req.create_health_check = &c;
	o->kind = R53_CREATE_HC;
	submit(rest, o, &req);
	free(ref);
	free(cfg);
}

static void op_update_hc(struct route53_rest *rest, struct op *o,
			 const char *id)
{
	char err[512], *fields;
	uint64_t version;
	size_t len;
	const uint8_t *body = http_request_body(o->r, &len);

	if (r53_xml_update_health_check(body, len, &version, &fields, err,
					sizeof(err)) != 0) {
		send_error_text(o, err);
		free(o);
		return;
	}
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__UpdateHealthCheckRequest u =
	    Q53__API__UPDATE_HEALTH_CHECK_REQUEST__INIT;
	u.id = (char *)id;
	u.version = version;
	u.config_json.data = (uint8_t *)fields;
	u.config_json.len = strlen(fields);
	req.body_case = Q53__API__REQUEST__BODY_UPDATE_HEALTH_CHECK;
	req.update_health_check = &u;
	o->kind = R53_UPDATE_HC;
	submit(rest, o, &req);
	free(fields);
}

/* --- comments, tags, limits, checker ranges, DNSSEC --- */

static bool tag_kind_ok(const char *kind)
{
	return strcmp(kind, "hostedzone") == 0 ||
	       strcmp(kind, "healthcheck") == 0;
}

static void op_update_comment(struct route53_rest *rest, struct op *o,
			      const char *zone)
{
	char err[512], *comment;
	size_t len;
	const uint8_t *body = http_request_body(o->r, &len);

	/* No body (botocore sends none without Comment): remove it. */
	comment = NULL;
	if (len > 0 &&
	    r53_xml_zone_comment(body, len, &comment, err, sizeof(err)) != 0) {
		send_error_text(o, err);
		free(o);
		return;
	}
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__UpdateZoneCommentRequest u =
	    Q53__API__UPDATE_ZONE_COMMENT_REQUEST__INIT;
	u.zone = (char *)zone;
	if (comment != NULL)
		u.comment = comment;
	req.body_case = Q53__API__REQUEST__BODY_UPDATE_ZONE_COMMENT;
	req.update_zone_comment = &u;
	o->kind = R53_UPDATE_ZONE_COMMENT;
	submit(rest, o, &req);
	free(comment);
}

static void op_change_tags(struct route53_rest *rest, struct op *o)
{
	char err[512];
	struct r53_tags t;
	size_t len;
	const uint8_t *body = http_request_body(o->r, &len);

	if (r53_xml_change_tags(body, len, &t, err, sizeof(err)) != 0) {
		send_error_text(o, err);
		r53_tags_free(&t);
		free(o);
		return;
	}
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__ChangeTagsRequest c = Q53__API__CHANGE_TAGS_REQUEST__INIT;
	Q53__Api__Tag items[R53_XML_LIST_MAX], *ptrs[R53_XML_LIST_MAX];
	for (size_t i = 0; i < t.n_add; i++) {
		q53__api__tag__init(&items[i]);
		items[i].key = t.keys[i];
		items[i].value = t.values[i];
		ptrs[i] = &items[i];
	}
	c.resource_type = o->kind_arg;
	c.resource_id = o->id;
	c.add = ptrs;
	c.n_add = t.n_add;
	c.remove_keys = t.remove;
	c.n_remove_keys = t.n_remove;
	req.body_case = Q53__API__REQUEST__BODY_CHANGE_TAGS;
	req.change_tags = &c;
	submit(rest, o, &req);
	r53_tags_free(&t);
}

static void op_list_tags(struct route53_rest *rest, struct op *o, bool many)
{
	char err[512], **ids = NULL, *one[1] = {o->id};
	size_t n = 1, len;
	const uint8_t *body = http_request_body(o->r, &len);

	if (many &&
	    r53_xml_resource_ids(body, len, &ids, &n, err, sizeof(err)) != 0) {
		send_error_text(o, err);
		r53_strings_free(ids, n);
		free(o);
		return;
	}
	if (many && n > API_MSG_TAG_RESOURCES_MAX) {
		send_error(o->r, o->request_id, 400, "InvalidInput",
			   "ResourceIds: at most %d resources per request",
			   API_MSG_TAG_RESOURCES_MAX);
		r53_strings_free(ids, n);
		free(o);
		return;
	}
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__ListTagsRequest l = Q53__API__LIST_TAGS_REQUEST__INIT;
	l.resource_type = o->kind_arg;
	l.resource_ids = many ? ids : one;
	l.n_resource_ids = n;
	req.body_case = Q53__API__REQUEST__BODY_LIST_TAGS;
	req.list_tags = &l;
	submit(rest, o, &req);
	r53_strings_free(ids, many ? n : 0);
}

/* The limits a client can ask about and whether this cluster has the
 * resource at all. A zone's record sets are limited by its stored
 * MAX_RRSETS_BY_ZONE (none for zones from before 0.5.0: R53_NO_LIMIT);
 * no other count limit is enforced (control_fsm and the prober take as
 * many zones and checks as memory holds): those report R53_NO_LIMIT. What is
 * not supported (private zones' VPCs, traffic policies, reusable delegation
 * sets) has the limit 0. */
#define R53_NO_LIMIT 9223372036854775807LL

static bool limit_known(const char *type, bool account)
{
	static const char *const zone_types[] = {
	    "MAX_RRSETS_BY_ZONE", "MAX_VPCS_ASSOCIATED_BY_ZONE", NULL};
	static const char *const account_types[] = {
	    "MAX_HEALTH_CHECKS_BY_OWNER",
	    "MAX_HOSTED_ZONES_BY_OWNER",
	    "MAX_TRAFFIC_POLICY_INSTANCES_BY_OWNER",
	    "MAX_REUSABLE_DELEGATION_SETS_BY_OWNER",
	    "MAX_TRAFFIC_POLICIES_BY_OWNER",
	    NULL};
	const char *const *v = account ? account_types : zone_types;
	for (size_t i = 0; v[i] != NULL; i++)
		if (strcmp(v[i], type) == 0)
			return true;
	return false;
}

static void send_limit(struct op *o, const char *root, const char *type,
		       long long value, unsigned long long count)
{
	struct xml_out x;
	const char *hdr[] = {"x-amzn-RequestId", o->request_id, NULL};

	if (xo_begin(&x, root) != 0) {
		send_error(o->r, o->request_id, 503, "ServiceUnavailable",
			   "out of memory; retry");
		return;
	}
	xo_open(&x, "Limit");
	xo_text(&x, "Type", type);
	xo_fmt(&x, "Value", "%lld", value);
	xo_close(&x);
	xo_fmt(&x, "Count", "%llu", count);
	xo_send(&x, o, 200, hdr);
}

static void op_account_limit(struct route53_rest *rest, struct op *o)
{
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__StatusRequest st = Q53__API__STATUS_REQUEST__INIT;
	Q53__Api__ListHealthChecksRequest l =
	    Q53__API__LIST_HEALTH_CHECKS_REQUEST__INIT;

	o->kind = R53_ACCOUNT_LIMIT;
	if (strcmp(o->kind_arg, "MAX_HOSTED_ZONES_BY_OWNER") == 0) {
		req.body_case = Q53__API__REQUEST__BODY_STATUS;
		req.status = &st;
	} else if (strcmp(o->kind_arg, "MAX_HEALTH_CHECKS_BY_OWNER") == 0) {
		l.max_items = API_MSG_PAGE_MAX;
		req.body_case = Q53__API__REQUEST__BODY_LIST_HEALTH_CHECKS;
		req.list_health_checks = &l;
	} else {
		send_limit(o, "GetAccountLimitResponse", o->kind_arg, 0, 0);
		free(o);
		return;
	}
	submit(rest, o, &req);
}

/* "tcp://1.2.3.4:5", "1.2.3.4:5", "[::1]:5" -> "1.2.3.4/32", "::1/128";
 * false for names and wildcards. */
static bool probe_cidr(const char *addr, char *out, size_t len)
{
	const char *h = strstr(addr, "://");
	char host[64];
	unsigned char bin[16];
	size_t n;

	h = h != NULL ? h + 3 : addr;
	if (*h == '[') {
		const char *e = strchr(++h, ']');
		if (e == NULL)
			return false;
		n = (size_t)(e - h);
	} else {
		const char *e = strrchr(h, ':');
		n = e != NULL ? (size_t)(e - h) : strlen(h);
	}
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, bin) == 1) {
		if (strcmp(host, "0.0.0.0") == 0)
			return false;
		snprintf(out, len, "%s/32", host);
		return true;
	}
	if (inet_pton(AF_INET6, host, bin) == 1) {
		static const unsigned char any[16];
		if (memcmp(bin, any, 16) == 0)
			return false;
		snprintf(out, len, "%s/128", host);
		return true;
	}
	return false;
}

static int cidr_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void answer_checker_ips(struct op *o,
			       const Q53__Api__ListNodesResponse *l)
{
	char(*v)[80] = calloc(l->n_nodes + 1, sizeof(*v));
	const char *hdr[] = {"x-amzn-RequestId", o->request_id, NULL};
	struct xml_out x;
	size_t n = 0;

	if (v == NULL || xo_begin(&x, "GetCheckerIpRangesResponse") != 0) {
		free(v);
		send_error(o->r, o->request_id, 503, "ServiceUnavailable",
			   "out of memory; retry");
		return;
	}
	for (size_t i = 0; i < l->n_nodes; i++)
		if (probe_cidr(l->nodes[i]->raft_address, v[n], sizeof(v[n])))
			n++;
	qsort(v, n, sizeof(*v), cidr_cmp);
	xo_open(&x, "CheckerIpRanges");
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			xo_text(&x, "member", v[i]);
	xo_close(&x);
	xo_send(&x, o, 200, hdr);
	free(v);
}

/* --- Traffic Flow (one TrafficFlowRequest for every operation) --- */

#define TF_OP(x) Q53__API__TRAFFIC_FLOW_REQUEST__OP__##x

static bool flow_op(enum r53_op op)
{
	return op >= R53_CREATE_TP && op <= R53_TPI_COUNT;
}

/* A positive decimal below 2^32 (a version, a TTL), or -1. */
static long long flow_number(const char *s)
{
	char *end;
	if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 10)
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	return *end != '\0' || errno != 0 || v > UINT32_MAX ? -1 : (long long)v;
}

static void op_flow(struct route53_rest *rest, struct op *o,
		    const struct r53_route *rt)
{
	static const char *const TP[] = {"Name", "Document", "Comment"};
	static const char *const TPI[] = {"HostedZoneId", "Name", "TTL",
					  "TrafficPolicyId",
					  "TrafficPolicyVersion"};
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__TrafficFlowRequest t = Q53__API__TRAFFIC_FLOW_REQUEST__INIT;
	char *v[5] = {NULL, NULL, NULL, NULL, NULL};
	char err[512];
	size_t len, nv = 0;
	const uint8_t *body = http_request_body(o->r, &len);
	const char *root = NULL;
	long long num;
	int rc = 0;

	t.id = o->id;
	t.marker = o->marker;
	t.max_items = rt->max_items;
	if (rt->kind[0] != '\0') {
		num = flow_number(rt->kind);
		if (num <= 0) {
			send_error(o->r, o->request_id, 400, "InvalidInput",
				   "Version '%.40s' must be a positive "
				   "integer",
				   rt->kind);
			free(o);
			return;
		}
		t.version = (uint32_t)num;
	}
	switch (rt->op) {
	case R53_CREATE_TP:
		t.op = TF_OP(CREATE_POLICY);
		root = "CreateTrafficPolicyRequest";
		break;
	case R53_CREATE_TP_VERSION:
		t.op = TF_OP(CREATE_POLICY_VERSION);
		root = "CreateTrafficPolicyVersionRequest";
		break;
	case R53_UPDATE_TP_COMMENT:
		t.op = TF_OP(UPDATE_POLICY_COMMENT);
		root = "UpdateTrafficPolicyCommentRequest";
		break;
	case R53_GET_TP:
		t.op = TF_OP(GET_POLICY);
		break;
	case R53_DELETE_TP:
		t.op = TF_OP(DELETE_POLICY);
		break;
	case R53_LIST_TPS:
		t.op = TF_OP(LIST_POLICIES);
		break;
	case R53_LIST_TP_VERSIONS:
		t.op = TF_OP(LIST_POLICY_VERSIONS);
		break;
	case R53_CREATE_TPI:
		t.op = TF_OP(CREATE_INSTANCE);
		root = "CreateTrafficPolicyInstanceRequest";
		break;
	case R53_UPDATE_TPI:
		t.op = TF_OP(UPDATE_INSTANCE);
		root = "UpdateTrafficPolicyInstanceRequest";
		break;
	case R53_GET_TPI:
		t.op = TF_OP(GET_INSTANCE);
		break;
	case R53_DELETE_TPI:
		t.op = TF_OP(DELETE_INSTANCE);
		break;
	case R53_LIST_TPIS:
		t.op = TF_OP(LIST_INSTANCES);
		break;
	case R53_LIST_TPIS_BY_ZONE:
		t.op = TF_OP(LIST_INSTANCES_BY_ZONE);
		t.zone_id = (char *)rt->flow_id;
		break;
	case R53_LIST_TPIS_BY_POLICY:
		t.op = TF_OP(LIST_INSTANCES_BY_POLICY);
		t.policy_id = (char *)rt->flow_id;
		num = flow_number(rt->flow_version);
		t.policy_version = num > 0 ? (uint32_t)num : 0;
		break;
	default:
		t.op = TF_OP(GET_INSTANCE_COUNT);
		break;
	}
	if (rt->op == R53_LIST_TPIS || rt->op == R53_LIST_TPIS_BY_ZONE ||
	    rt->op == R53_LIST_TPIS_BY_POLICY) {
		if (rt->zone_id != NULL && rt->op != R53_LIST_TPIS_BY_ZONE)
			t.marker_zone_id = (char *)rt->zone_id;
		if (rt->name != NULL)
			t.marker_name = (char *)rt->name;
		if (rt->type != NULL)
			t.marker_type = (char *)rt->type;
	}
	if (root != NULL) {
		bool inst =
		    rt->op == R53_CREATE_TPI || rt->op == R53_UPDATE_TPI;
		nv = inst ? 5 : 3;
		rc = r53_xml_fields(body, len, root, inst ? TPI : TP, nv, v,
				    err, sizeof(err));
		if (rc != 0) {
			send_error_text(o, err);
			free(o);
			return;
		}
	}
	const char *bad = NULL;
	if (rt->op == R53_CREATE_TP || rt->op == R53_CREATE_TP_VERSION ||
	    rt->op == R53_UPDATE_TP_COMMENT) {
		if (rt->op == R53_CREATE_TP && v[0] == NULL)
			bad = "Name is required";
		else if (rt->op != R53_UPDATE_TP_COMMENT && v[1] == NULL)
			bad = "Document is required";
		else if (rt->op == R53_UPDATE_TP_COMMENT && v[2] == NULL)
			bad = "Comment is required";
		t.name = v[0] != NULL ? v[0] : "";
		t.document = v[1] != NULL ? v[1] : "";
		t.comment = v[2] != NULL ? v[2] : "";
	} else if (root != NULL) {
		/* instances: HostedZoneId, Name (create), TTL, policy */
		long long ttl = flow_number(v[2]);
		long long ver = flow_number(v[4]);
		if (rt->op == R53_CREATE_TPI && (v[0] == NULL || v[1] == NULL))
			bad = "HostedZoneId and Name are required";
		else if (ttl < 0 || ttl > 2147483647)
			bad = "TTL must be 0 to 2147483647";
		else if (v[3] == NULL || ver <= 0)
			bad = "TrafficPolicyId and TrafficPolicyVersion are "
			      "required";
		t.zone_id = v[0] != NULL ? v[0] : "";
		t.name = v[1] != NULL ? v[1] : "";
		t.ttl = ttl > 0 ? (uint32_t)ttl : 0;
		t.policy_id = v[3] != NULL ? v[3] : "";
		t.policy_version = ver > 0 ? (uint32_t)ver : 0;
	}
	if (bad != NULL) {
		send_error(o->r, o->request_id, 400, "InvalidInput", "%s", bad);
		r53_fields_free(v, nv);
		free(o);
		return;
	}
	req.body_case = Q53__API__REQUEST__BODY_TRAFFIC_FLOW;
	req.traffic_flow = &t;
	submit(rest, o, &req);
	r53_fields_free(v, nv);
}

static void xo_policy(struct xml_out *x, const Q53__Api__TrafficPolicyInfo *p)
{
	xo_open(x, "TrafficPolicy");
	xo_text(x, "Id", p->id);
	xo_fmt(x, "Version", "%u", (unsigned)p->version);
	xo_text(x, "Name", p->name);
	xo_text(x, "Type", p->type);
	xo_text(x, "Document", p->document);
	if (p->comment != NULL && p->comment[0] != '\0')
		xo_text(x, "Comment", p->comment);
	xo_close(x);
}

static void xo_instance(struct xml_out *x,
			const Q53__Api__TrafficPolicyInstanceInfo *i)
{
	char name[1100];
	r53_name(i->name, name, sizeof(name));
	xo_open(x, "TrafficPolicyInstance");
	xo_text(x, "Id", i->id);
	xo_text(x, "HostedZoneId", i->zone_id);
	xo_text(x, "Name", name);
	xo_fmt(x, "TTL", "%u", (unsigned)i->ttl);
	xo_text(x, "State", i->state);
	xo_text(x, "Message", i->message);
	xo_text(x, "TrafficPolicyId", i->policy_id);
	xo_fmt(x, "TrafficPolicyVersion", "%u", (unsigned)i->policy_version);
	xo_text(x, "TrafficPolicyType", i->policy_type);
	xo_close(x);
}

static bool answer_flow(struct op *o, const Q53__Api__Response *resp)
{
	const Q53__Api__TrafficFlowResponse *t = resp->traffic_flow;
	struct xml_out x;
	char loc[256];
	const char *hdr[] = {"x-amzn-RequestId", o->request_id, NULL};
	const char *hdr_loc[] = {"x-amzn-RequestId", o->request_id, "Location",
				 loc, NULL};
	const char *root = NULL;
	unsigned status = 200;
	if (t == NULL)
		return false;
	switch (o->kind) {
	case R53_CREATE_TP:
	case R53_CREATE_TP_VERSION:
	case R53_GET_TP:
	case R53_UPDATE_TP_COMMENT:
		root = o->kind == R53_CREATE_TP ? "CreateTrafficPolicyResponse"
		       : o->kind == R53_CREATE_TP_VERSION
			   ? "CreateTrafficPolicyVersionResponse"
		       : o->kind == R53_GET_TP
			   ? "GetTrafficPolicyResponse"
			   : "UpdateTrafficPolicyCommentResponse";
		if (t->n_policies != 1 || xo_begin(&x, root) != 0)
			return false;
		xo_policy(&x, t->policies[0]);
		status =
		    o->kind == R53_CREATE_TP || o->kind == R53_CREATE_TP_VERSION
			? 201
			: 200;
		snprintf(loc, sizeof(loc), "%s/trafficpolicy/%s/%u", R53_PREFIX,
			 t->policies[0]->id, (unsigned)t->policies[0]->version);
		xo_send(&x, o, status, status == 201 ? hdr_loc : hdr);
		return true;
	case R53_DELETE_TP:
	case R53_DELETE_TPI:
		if (xo_begin(&x, o->kind == R53_DELETE_TP
				     ? "DeleteTrafficPolicyResponse"
				     : "DeleteTrafficPolicyInstanceResponse") !=
		    0)
			return false;
		xo_send(&x, o, 200, hdr);
		return true;
	case R53_LIST_TPS:
		if (xo_begin(&x, "ListTrafficPoliciesResponse") != 0)
			return false;
		xo_open(&x, "TrafficPolicySummaries");
		for (size_t i = 0; i < t->n_summaries; i++) {
			const Q53__Api__TrafficPolicySummary *p =
			    t->summaries[i];
			xo_open(&x, "TrafficPolicySummary");
			xo_text(&x, "Id", p->id);
			xo_text(&x, "Name", p->name);
			xo_text(&x, "Type", p->type);
			xo_fmt(&x, "LatestVersion", "%u",
			       (unsigned)p->latest_version);
			xo_fmt(&x, "TrafficPolicyCount", "%u",
			       (unsigned)p->count);
			xo_close(&x);
		}
		xo_close(&x);
		xo_text(&x, "IsTruncated", t->truncated ? "true" : "false");
		xo_text(&x, "TrafficPolicyIdMarker", t->next_marker);
		xo_fmt(&x, "MaxItems", "%u", o->max_items);
		xo_send(&x, o, 200, hdr);
		return true;
	case R53_LIST_TP_VERSIONS:
		if (xo_begin(&x, "ListTrafficPolicyVersionsResponse") != 0)
			return false;
		xo_open(&x, "TrafficPolicies");
		for (size_t i = 0; i < t->n_policies; i++)
			xo_policy(&x, t->policies[i]);
		xo_close(&x);
		xo_text(&x, "IsTruncated", t->truncated ? "true" : "false");
		xo_text(&x, "TrafficPolicyVersionMarker", t->next_marker);
		xo_fmt(&x, "MaxItems", "%u", o->max_items);
		xo_send(&x, o, 200, hdr);
		return true;
	case R53_CREATE_TPI:
	case R53_GET_TPI:
	case R53_UPDATE_TPI:
		root = o->kind == R53_CREATE_TPI
			   ? "CreateTrafficPolicyInstanceResponse"
		       : o->kind == R53_GET_TPI
			   ? "GetTrafficPolicyInstanceResponse"
			   : "UpdateTrafficPolicyInstanceResponse";
		if (t->n_instances != 1 || xo_begin(&x, root) != 0)
			return false;
		xo_instance(&x, t->instances[0]);
		snprintf(loc, sizeof(loc), "%s/trafficpolicyinstance/%s",
			 R53_PREFIX, t->instances[0]->id);
		xo_send(&x, o, o->kind == R53_CREATE_TPI ? 201 : 200,
			o->kind == R53_CREATE_TPI ? hdr_loc : hdr);
		return true;
	case R53_LIST_TPIS:
	case R53_LIST_TPIS_BY_ZONE:
	case R53_LIST_TPIS_BY_POLICY:
		root = o->kind == R53_LIST_TPIS
			   ? "ListTrafficPolicyInstancesResponse"
		       : o->kind == R53_LIST_TPIS_BY_ZONE
			   ? "ListTrafficPolicyInstancesByHostedZoneResponse"
			   : "ListTrafficPolicyInstancesByPolicyResponse";
		if (xo_begin(&x, root) != 0)
			return false;
		xo_open(&x, "TrafficPolicyInstances");
		for (size_t i = 0; i < t->n_instances; i++)
			xo_instance(&x, t->instances[i]);
		xo_close(&x);
		if (t->truncated && o->kind != R53_LIST_TPIS_BY_ZONE)
			xo_text(&x, "HostedZoneIdMarker", t->next_zone_id);
		if (t->truncated) {
			xo_text(&x, "TrafficPolicyInstanceNameMarker",
				t->next_name);
			xo_text(&x, "TrafficPolicyInstanceTypeMarker",
				t->next_type);
		}
		xo_text(&x, "IsTruncated", t->truncated ? "true" : "false");
		xo_fmt(&x, "MaxItems", "%u", o->max_items);
		xo_send(&x, o, 200, hdr);
		return true;
	case R53_TPI_COUNT:
		if (xo_begin(&x, "GetTrafficPolicyInstanceCountResponse") != 0)
			return false;
		xo_fmt(&x, "TrafficPolicyInstanceCount", "%u",
		       (unsigned)t->count);
		xo_send(&x, o, 200, hdr);
		return true;
	default:
		return false;
	}
}

/* The answers of the operations above (from answer()). true: answered. */
static void xo_cidr_collection(struct xml_out *x, const char *element,
			       const Q53__Api__CidrCollection *c)
{
	xo_open(x, element);
	xo_fmt(x, "Arn", "arn:aws:route53:::cidrcollection/%s", c->id);
	xo_text(x, "Id", c->id);
	xo_text(x, "Name", c->name);
	xo_fmt(x, "Version", "%llu", (unsigned long long)c->version);
	xo_close(x);
}

static bool answer_cidr(struct op *o, const Q53__Api__Response *resp)
{
	struct xml_out x;
	const char *hdr[] = {"x-amzn-RequestId", o->request_id, NULL, NULL,
			     NULL};
	char location[256];

	switch (o->kind) {
	case R53_CREATE_CIDR: {
		const Q53__Api__CreateCidrCollectionResponse *c =
		    resp->create_cidr_collection;
		if (c == NULL || c->collection == NULL ||
		    xo_begin(&x, "CreateCidrCollectionResponse") != 0)
			return false;
		xo_cidr_collection(&x, "Collection", c->collection);
		snprintf(location, sizeof(location),
			 "https://route53.amazonaws.com/2013-04-01/"
			 "cidrcollection/%s",
			 c->collection->id);
		hdr[2] = "Location";
		hdr[3] = location;
		xo_send(&x, o, 201, hdr);
		return true;
	}
	case R53_CHANGE_CIDR:
		if (resp->change_cidr_collection == NULL ||
		    xo_begin(&x, "ChangeCidrCollectionResponse") != 0)
			return false;
		xo_text(&x, "Id", resp->change_cidr_collection->change_id);
		xo_send(&x, o, 200, hdr);
		return true;
	case R53_DELETE_CIDR:
		if (xo_begin(&x, "DeleteCidrCollectionResponse") != 0)
			return false;
		xo_send(&x, o, 200, hdr);
		return true;
	case R53_LIST_CIDRS: {
		const Q53__Api__ListCidrCollectionsResponse *l =
		    resp->list_cidr_collections;
		if (l == NULL ||
		    xo_begin(&x, "ListCidrCollectionsResponse") != 0)
			return false;
		if (l->next_token[0] != '\0')
			xo_text(&x, "NextToken", l->next_token);
		xo_open(&x, "CidrCollections");
		for (size_t i = 0; i < l->n_collections; i++)
			xo_cidr_collection(&x, "member", l->collections[i]);
		xo_close(&x);
		xo_send(&x, o, 200, hdr);
		return true;
	}
	case R53_LIST_CIDR_LOCATIONS: {
		const Q53__Api__ListCidrLocationsResponse *l =
		    resp->list_cidr_locations;
		if (l == NULL || xo_begin(&x, "ListCidrLocationsResponse") != 0)
			return false;
		if (l->next_token[0] != '\0')
			xo_text(&x, "NextToken", l->next_token);
		xo_open(&x, "CidrLocations");
		for (size_t i = 0; i < l->n_locations; i++) {
			xo_open(&x, "member");
			xo_text(&x, "LocationName", l->locations[i]);
			xo_close(&x);
		}
		xo_close(&x);
		xo_send(&x, o, 200, hdr);
		return true;
	}
	case R53_LIST_CIDR_BLOCKS: {
		const Q53__Api__ListCidrBlocksResponse *l =
		    resp->list_cidr_blocks;
		if (l == NULL || xo_begin(&x, "ListCidrBlocksResponse") != 0)
			return false;
		if (l->next_token[0] != '\0')
			xo_text(&x, "NextToken", l->next_token);
		xo_open(&x, "CidrBlocks");
		for (size_t i = 0; i < l->n_blocks; i++) {
			xo_open(&x, "member");
			xo_text(&x, "CidrBlock", l->blocks[i]->cidr_block);
			xo_text(&x, "LocationName",
				l->blocks[i]->location_name);
			xo_close(&x);
		}
		xo_close(&x);
		xo_send(&x, o, 200, hdr);
		return true;
	}
	default:
		return false;
	}
}

static bool answer_more(struct op *o, const Q53__Api__Response *resp)
{
	struct xml_out x;
	const char *hdr[] = {"x-amzn-RequestId", o->request_id, NULL};

	if (flow_op(o->kind))
		return answer_flow(o, resp);
	switch (o->kind) {
	case R53_CREATE_CIDR:
	case R53_CHANGE_CIDR:
	case R53_DELETE_CIDR:
	case R53_LIST_CIDRS:
	case R53_LIST_CIDR_LOCATIONS:
	case R53_LIST_CIDR_BLOCKS:
		return answer_cidr(o, resp);
	case R53_CREATE_QLC:
	case R53_GET_QLC:
	case R53_LIST_QLCS:
	case R53_DELETE_QLC:
		return answer_qlog(o, resp);
	case R53_UPDATE_ZONE_COMMENT: {
		const Q53__Api__UpdateZoneCommentResponse *u =
		    resp->update_zone_comment;
		if (u == NULL || u->zone == NULL ||
		    xo_begin(&x, "UpdateHostedZoneCommentResponse") != 0)
			return false;
		xo_zone(&x, u->zone);
		xo_send(&x, o, 200, hdr);
		return true;
	}
	case R53_CHANGE_TAGS:
		if (xo_begin(&x, "ChangeTagsForResourceResponse") != 0)
			return false;
		xo_send(&x, o, 200, hdr);
		return true;
	case R53_LIST_TAGS:
	case R53_LIST_TAGS_MANY: {
		const Q53__Api__ListTagsResponse *l = resp->list_tags;
		bool many = o->kind == R53_LIST_TAGS_MANY;
		if (l == NULL || (!many && l->n_resources != 1) ||
		    xo_begin(&x, many ? "ListTagsForResourcesResponse"
				      : "ListTagsForResourceResponse") != 0)
			return false;
		if (many)
			xo_open(&x, "ResourceTagSets");
		for (size_t i = 0; i < l->n_resources; i++) {
			const Q53__Api__ResourceTags *t = l->resources[i];
			xo_open(&x, "ResourceTagSet");
			xo_text(&x, "ResourceType", t->resource_type);
			xo_text(&x, "ResourceId", t->resource_id);
			xo_open(&x, "Tags");
			for (size_t k = 0; k < t->n_tags; k++) {
				xo_open(&x, "Tag");
				xo_text(&x, "Key", t->tags[k]->key);
				xo_text(&x, "Value", t->tags[k]->value);
				xo_close(&x);
			}
			xo_close(&x);
			xo_close(&x);
		}
		if (many)
			xo_close(&x);
		xo_send(&x, o, 200, hdr);
		return true;
	}
	case R53_CHECKER_IPS:
		if (resp->list_nodes == NULL)
			return false;
		answer_checker_ips(o, resp->list_nodes);
		return true;
	case R53_ZONE_LIMIT:
		if (resp->get_zone == NULL || resp->get_zone->zone == NULL)
			return false;
		if (strcmp(o->kind_arg, "MAX_VPCS_ASSOCIATED_BY_ZONE") == 0) {
			send_error(o->r, o->request_id, 400,
				   "HostedZoneNotPrivate",
				   "The specified hosted zone is a public "
				   "hosted zone.");
			return true;
		}
		/* The zone's stored MAX_RRSETS_BY_ZONE (q53 zone limit);
		 * zones from before 0.5.0 have none. */
		send_limit(
		    o, "GetHostedZoneLimitResponse", o->kind_arg,
		    resp->get_zone->zone->max_rrsets != 0
			? (long long)resp->get_zone->zone->max_rrsets
			: R53_NO_LIMIT,
		    (unsigned long long)resp->get_zone->zone->record_set_count);
		return true;
	case R53_ACCOUNT_LIMIT:
		/* status and list_health_checks share the oneof */
		if (resp->body_case == Q53__API__RESPONSE__BODY_STATUS &&
		    resp->status != NULL)
			send_limit(o, "GetAccountLimitResponse", o->kind_arg,
				   R53_NO_LIMIT, resp->status->zones);
		else if (resp->body_case ==
			     Q53__API__RESPONSE__BODY_LIST_HEALTH_CHECKS &&
			 resp->list_health_checks != NULL)
			send_limit(o, "GetAccountLimitResponse", o->kind_arg,
				   R53_NO_LIMIT,
				   resp->list_health_checks->n_health_checks);
		else
			return false;
		return true;
	case R53_GET_DNSSEC:
		if (resp->get_zone == NULL ||
		    xo_begin(&x, "GetDNSSECResponse") != 0)
			return false;
		xo_open(&x, "Status");
		xo_text(&x, "ServeSignature", "NOT_SIGNING");
		xo_close(&x);
		xo_open(&x, "KeySigningKeys");
		xo_close(&x);
		xo_send(&x, o, 200, hdr);
		return true;
	case R53_HC_LAST_FAILURE: {
		const Q53__Api__GetHealthCheckStatusResponse *st =
		    resp->get_health_check_status;
		if (st == NULL ||
		    xo_begin(&x, "GetHealthCheckLastFailureReasonResponse") !=
			0)
			return false;
		/* One observation per node that saw a failure (Route 53:
		 * per checker); Region is the node's name. */
		xo_open(&x, "HealthCheckObservations");
		for (size_t i = 0; i < st->n_nodes; i++) {
			const Q53__Api__HealthCheckNodeStatus *ns =
			    st->nodes[i];
			char when[64];
			if (!ns->reachable || ns->last_failure_at_ms == 0)
				continue;
			xo_open(&x, "HealthCheckObservation");
			xo_text(&x, "Region", ns->name);
			xo_open(&x, "StatusReport");
			xo_fmt(&x, "Status", "Failure: %s",
			       ns->last_failure_reason);
			api_msg_iso_time(ns->last_failure_at_ms, when,
					 sizeof(when));
			xo_text(&x, "CheckedTime", when);
			xo_close(&x);
			xo_close(&x);
		}
		xo_close(&x);
		xo_send(&x, o, 200, hdr);
		return true;
	}
	default:
		return false;
	}
}

/* --- query logging configs --- */

static void xo_qlog(struct xml_out *x, const Q53__Api__QueryLoggingConfig *c)
{
	xo_open(x, "QueryLoggingConfig");
	xo_text(x, "Id", c->id);
	xo_text(x, "HostedZoneId", c->hosted_zone_id);
	xo_text(x, "CloudWatchLogsLogGroupArn",
		c->cloud_watch_logs_log_group_arn);
	xo_close(x);
}

static bool answer_qlog(struct op *o, const Q53__Api__Response *resp)
{
	struct xml_out x;
	const char *hdr[] = {"x-amzn-RequestId", o->request_id, NULL, NULL,
			     NULL};
	char location[256];

	switch (o->kind) {
	case R53_CREATE_QLC: {
		const Q53__Api__CreateQueryLoggingConfigResponse *c =
		    resp->create_query_logging;
		if (c == NULL || c->config == NULL ||
		    xo_begin(&x, "CreateQueryLoggingConfigResponse") != 0)
			return false;
		xo_qlog(&x, c->config);
		snprintf(location, sizeof(location),
			 "https://route53.amazonaws.com/2013-04-01/"
			 "queryloggingconfig/%s",
			 c->config->id);
		hdr[2] = "Location";
		hdr[3] = location;
		xo_send(&x, o, 201, hdr);
		return true;
	}
	case R53_DELETE_QLC:
		if (xo_begin(&x, "DeleteQueryLoggingConfigResponse") != 0)
			return false;
		xo_send(&x, o, 200, hdr);
		return true;
	case R53_GET_QLC: {
		const Q53__Api__ListQueryLoggingConfigsResponse *l =
		    resp->list_query_logging;
		const Q53__Api__QueryLoggingConfig *c = NULL;
		for (size_t i = 0; l != NULL && i < l->n_configs; i++)
			if (strcmp(l->configs[i]->id, o->id) == 0)
				c = l->configs[i];
		if (l == NULL)
			return false;
		if (c == NULL) {
			send_error(o->r, o->request_id, 404,
				   "NoSuchQueryLoggingConfig",
				   "There is no query logging configuration "
				   "with the ID %.80s",
				   o->id);
			return true;
		}
		if (xo_begin(&x, "GetQueryLoggingConfigResponse") != 0)
			return false;
		xo_qlog(&x, c);
		xo_send(&x, o, 200, hdr);
		return true;
	}
	case R53_LIST_QLCS: {
		const Q53__Api__ListQueryLoggingConfigsResponse *l =
		    resp->list_query_logging;
		if (l == NULL ||
		    xo_begin(&x, "ListQueryLoggingConfigsResponse") != 0)
			return false;
		xo_open(&x, "QueryLoggingConfigs");
		for (size_t i = 0; i < l->n_configs; i++)
			xo_qlog(&x, l->configs[i]);
		xo_close(&x);
		xo_send(&x, o, 200, hdr);
		return true;
	}
	default:
		return false;
	}
}

static void op_qlog(struct route53_rest *rest, struct op *o,
		    const struct r53_route *rt)
{
	static const char *const names[] = {"HostedZoneId",
					    "CloudWatchLogsLogGroupArn"};
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__CreateQueryLoggingConfigRequest c =
	    Q53__API__CREATE_QUERY_LOGGING_CONFIG_REQUEST__INIT;
	Q53__Api__DeleteQueryLoggingConfigRequest d =
	    Q53__API__DELETE_QUERY_LOGGING_CONFIG_REQUEST__INIT;
	Q53__Api__ListQueryLoggingConfigsRequest l =
	    Q53__API__LIST_QUERY_LOGGING_CONFIGS_REQUEST__INIT;
	char *v[2] = {NULL, NULL}, err[512];
	const char *zone = http_request_query(o->r, "hostedzoneid");
	size_t len;
	const uint8_t *body;

	switch (rt->op) {
	case R53_CREATE_QLC:
		body = http_request_body(o->r, &len);
		if (r53_xml_fields(body, len, "CreateQueryLoggingConfigRequest",
				   names, 2, v, err, sizeof(err)) != 0) {
			send_error_text(o, err);
			free(o);
			return;
		}
		if (v[0] == NULL || v[1] == NULL) {
			r53_fields_free(v, 2);
			send_error(
			    o->r, o->request_id, 400, "InvalidInput",
			    "CreateQueryLoggingConfigRequest needs "
			    "HostedZoneId and CloudWatchLogsLogGroupArn");
			free(o);
			return;
		}
		c.hosted_zone_id = v[0];
		c.cloud_watch_logs_log_group_arn = v[1];
		req.body_case = Q53__API__REQUEST__BODY_CREATE_QUERY_LOGGING;
		req.create_query_logging = &c;
		break;
	case R53_DELETE_QLC:
		d.id = o->id;
		req.body_case = Q53__API__REQUEST__BODY_DELETE_QUERY_LOGGING;
		req.delete_query_logging = &d;
		break;
	default: /* GET (one, from the list) and LIST */
		l.hosted_zone_id =
		    (char *)(rt->op == R53_LIST_QLCS && zone != NULL ? zone
								     : "");
		req.body_case = Q53__API__REQUEST__BODY_LIST_QUERY_LOGGING;
		req.list_query_logging = &l;
		break;
	}
	submit(rest, o, &req);
	r53_fields_free(v, 2);
}

/* --- CIDR collections --- */

static void op_cidr_create(struct route53_rest *rest, struct op *o)
{
	char err[512], *name, *ref;
	size_t len;
	const uint8_t *body = http_request_body(o->r, &len);

	if (r53_xml_create_cidr_collection(body, len, &name, &ref, err,
					   sizeof(err)) != 0) {
		send_error_text(o, err);
		free(name);
		free(ref);
		free(o);
		return;
	}
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__CreateCidrCollectionRequest c =
	    Q53__API__CREATE_CIDR_COLLECTION_REQUEST__INIT;
	c.name = name;
	c.caller_reference = ref;
	req.body_case = Q53__API__REQUEST__BODY_CREATE_CIDR_COLLECTION;
	req.create_cidr_collection = &c;
	submit(rest, o, &req);
	free(name);
	free(ref);
}

static void op_cidr_change(struct route53_rest *rest, struct op *o)
{
	char err[512];
	struct r53_cidr_changes ch;
	size_t len;
	const uint8_t *body = http_request_body(o->r, &len);

	if (r53_xml_change_cidr_collection(body, len, &ch, err, sizeof(err)) !=
	    0) {
		send_error_text(o, err);
		r53_cidr_changes_free(&ch);
		free(o);
		return;
	}
	Q53__Api__CidrCollectionChange *items =
	    calloc(ch.n + 1, sizeof(*items));
	Q53__Api__CidrCollectionChange **ptrs = calloc(ch.n + 1, sizeof(*ptrs));
	if (items == NULL || ptrs == NULL) {
		send_error(o->r, o->request_id, 503, "ServiceUnavailable",
			   "out of memory; retry");
		free(o);
		goto out;
	}
	for (size_t i = 0; i < ch.n; i++) {
		q53__api__cidr_collection_change__init(&items[i]);
		items[i].action = ch.v[i].action;
		items[i].location_name = ch.v[i].location;
		items[i].cidr_list = ch.v[i].cidrs;
		items[i].n_cidr_list = ch.v[i].n;
		ptrs[i] = &items[i];
	}
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__ChangeCidrCollectionRequest c =
	    Q53__API__CHANGE_CIDR_COLLECTION_REQUEST__INIT;
	c.id = o->id;
	c.collection_version = ch.version;
	c.changes = ptrs;
	c.n_changes = ch.n;
	req.body_case = Q53__API__REQUEST__BODY_CHANGE_CIDR_COLLECTION;
	req.change_cidr_collection = &c;
	submit(rest, o, &req);
out:
	free(items);
	free(ptrs);
	r53_cidr_changes_free(&ch);
}

static void op_cidr(struct route53_rest *rest, struct op *o,
		    const struct r53_route *rt)
{
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__DeleteCidrCollectionRequest d =
	    Q53__API__DELETE_CIDR_COLLECTION_REQUEST__INIT;
	Q53__Api__ListCidrCollectionsRequest lc =
	    Q53__API__LIST_CIDR_COLLECTIONS_REQUEST__INIT;
	Q53__Api__ListCidrLocationsRequest ll =
	    Q53__API__LIST_CIDR_LOCATIONS_REQUEST__INIT;
	Q53__Api__ListCidrBlocksRequest lb =
	    Q53__API__LIST_CIDR_BLOCKS_REQUEST__INIT;
	char *token = (char *)(rt->next_token != NULL ? rt->next_token : "");

	switch (rt->op) {
	case R53_CREATE_CIDR:
		op_cidr_create(rest, o);
		return;
	case R53_CHANGE_CIDR:
		op_cidr_change(rest, o);
		return;
	case R53_DELETE_CIDR:
		d.id = o->id;
		req.body_case = Q53__API__REQUEST__BODY_DELETE_CIDR_COLLECTION;
		req.delete_cidr_collection = &d;
		break;
	case R53_LIST_CIDRS:
		lc.next_token = token;
		lc.max_results = rt->max_items;
		req.body_case = Q53__API__REQUEST__BODY_LIST_CIDR_COLLECTIONS;
		req.list_cidr_collections = &lc;
		break;
	case R53_LIST_CIDR_LOCATIONS:
		ll.collection_id = o->id;
		ll.next_token = token;
		ll.max_results = rt->max_items;
		req.body_case = Q53__API__REQUEST__BODY_LIST_CIDR_LOCATIONS;
		req.list_cidr_locations = &ll;
		break;
	default:
		lb.collection_id = o->id;
		lb.location_name =
		    (char *)(rt->location != NULL ? rt->location : "");
		lb.next_token = token;
		lb.max_results = rt->max_items;
		req.body_case = Q53__API__REQUEST__BODY_LIST_CIDR_BLOCKS;
		req.list_cidr_blocks = &lb;
		break;
	}
	submit(rest, o, &req);
}

/* --- routing (r53_route.c) --- */

static const char *route_query(void *ctx, const char *name)
{
	return http_request_query(ctx, name);
}

static void route(struct route53_rest *rest, struct op *o)
{
	struct http_request *r = o->r;
	struct r53_route rt;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;

	r53_route_parse(http_request_method(r), http_request_path(r),
			route_query, r, &rt);
	if (rt.op == R53_UNKNOWN) {
		send_error(r, o->request_id, 404, "UnknownOperationException",
			   "quorum53 does not implement %s %s (yet)",
			   http_request_method(r), http_request_path(r));
		free(o);
		return;
	}
	if (rt.invalid != NULL) {
		send_error(r, o->request_id, 400, "InvalidInput", "%s",
			   rt.invalid);
		free(o);
		return;
	}
	o->kind = rt.op;
	o->max_items = rt.max_items;
	snprintf(o->marker, sizeof(o->marker), "%s", rt.marker);
	snprintf(o->id, sizeof(o->id), "%s", rt.id);
	snprintf(o->kind_arg, sizeof(o->kind_arg), "%s", rt.kind);

	Q53__Api__ListZonesRequest lz = Q53__API__LIST_ZONES_REQUEST__INIT;
	Q53__Api__GetZoneRequest gz = Q53__API__GET_ZONE_REQUEST__INIT;
	Q53__Api__DeleteZoneRequest dz = Q53__API__DELETE_ZONE_REQUEST__INIT;
	Q53__Api__GetChangeRequest gc = Q53__API__GET_CHANGE_REQUEST__INIT;
	Q53__Api__StatusRequest st = Q53__API__STATUS_REQUEST__INIT;
	Q53__Api__ListHealthChecksRequest lh =
	    Q53__API__LIST_HEALTH_CHECKS_REQUEST__INIT;
	Q53__Api__GetHealthCheckRequest gh =
	    Q53__API__GET_HEALTH_CHECK_REQUEST__INIT;
	Q53__Api__DeleteHealthCheckRequest dh =
	    Q53__API__DELETE_HEALTH_CHECK_REQUEST__INIT;
	Q53__Api__GetHealthCheckStatusRequest sh =
	    Q53__API__GET_HEALTH_CHECK_STATUS_REQUEST__INIT;
	Q53__Api__ListNodesRequest ln = Q53__API__LIST_NODES_REQUEST__INIT;

	switch (rt.op) {
	case R53_CREATE_ZONE:
		op_create_zone(rest, o);
		return;
	case R53_LIST_ZONES:
		lz.marker = o->marker;
		lz.max_items = o->max_items;
		req.body_case = Q53__API__REQUEST__BODY_LIST_ZONES;
		req.list_zones = &lz;
		break;
	case R53_GET_ZONE:
	case R53_GET_DNSSEC:
	case R53_ZONE_LIMIT:
		if (rt.op == R53_ZONE_LIMIT && !limit_known(rt.kind, false)) {
			send_error(r, o->request_id, 400, "InvalidInput",
				   "Type '%.80s' must be MAX_RRSETS_BY_ZONE or "
				   "MAX_VPCS_ASSOCIATED_BY_ZONE",
				   rt.kind);
			free(o);
			return;
		}
		gz.zone = o->id;
		req.body_case = Q53__API__REQUEST__BODY_GET_ZONE;
		req.get_zone = &gz;
		break;
	case R53_DELETE_ZONE:
		dz.zone = o->id;
		dz.access_key_id = o->akid;
		req.body_case = Q53__API__REQUEST__BODY_DELETE_ZONE;
		req.delete_zone = &dz;
		break;
	case R53_UPDATE_ZONE_COMMENT:
		op_update_comment(rest, o, o->id);
		return;
	case R53_CHANGE_RRSETS:
		op_change_rrsets(rest, o, o->id);
		return;
	case R53_LIST_RRSETS:
		op_list_rrsets(rest, o, &rt);
		return;
	case R53_TEST_DNS_ANSWER:
		op_test_answer(rest, o, &rt);
		return;
	case R53_GET_CHANGE:
		gc.id = o->id;
		req.body_case = Q53__API__REQUEST__BODY_GET_CHANGE;
		req.get_change = &gc;
		break;
	case R53_ZONES_BY_NAME:
		snprintf(o->dns_name, sizeof(o->dns_name), "%s",
			 rt.dns_name != NULL ? rt.dns_name : "");
		snprintf(o->zone_id, sizeof(o->zone_id), "%s",
			 rt.zone_id != NULL ? rt.zone_id : "");
		list_zones_page(o, "");
		return;
	case R53_ZONE_COUNT:
		req.body_case = Q53__API__REQUEST__BODY_STATUS;
		req.status = &st;
		break;
	case R53_CREATE_HC:
		op_create_hc(rest, o);
		return;
	case R53_LIST_HCS:
	case R53_HC_COUNT:
		lh.marker = o->marker;
		lh.max_items = o->max_items;
		req.body_case = Q53__API__REQUEST__BODY_LIST_HEALTH_CHECKS;
		req.list_health_checks = &lh;
		break;
	case R53_GET_HC:
		gh.id = o->id;
		req.body_case = Q53__API__REQUEST__BODY_GET_HEALTH_CHECK;
		req.get_health_check = &gh;
		break;
	case R53_UPDATE_HC:
		op_update_hc(rest, o, o->id);
		return;
	case R53_DELETE_HC:
		dh.id = o->id;
		req.body_case = Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK;
		req.delete_health_check = &dh;
		break;
	case R53_HC_STATUS:
	case R53_HC_LAST_FAILURE:
		sh.id = o->id;
		req.body_case = Q53__API__REQUEST__BODY_GET_HEALTH_CHECK_STATUS;
		req.get_health_check_status = &sh;
		break;
	case R53_CHANGE_TAGS:
	case R53_LIST_TAGS:
	case R53_LIST_TAGS_MANY:
		if (!tag_kind_ok(rt.kind)) {
			send_error(r, o->request_id, 400, "InvalidInput",
				   "ResourceType '%.80s' must be hostedzone or "
				   "healthcheck",
				   rt.kind);
			free(o);
			return;
		}
		if (rt.op == R53_CHANGE_TAGS)
			op_change_tags(rest, o);
		else
			op_list_tags(rest, o, rt.op == R53_LIST_TAGS_MANY);
		return;
	case R53_CHECKER_IPS:
		req.body_case = Q53__API__REQUEST__BODY_LIST_NODES;
		req.list_nodes = &ln;
		break;
	case R53_ACCOUNT_LIMIT:
		if (!limit_known(rt.kind, true)) {
			send_error(r, o->request_id, 400, "InvalidInput",
				   "Type '%.80s' is not an account limit",
				   rt.kind);
			free(o);
			return;
		}
		op_account_limit(rest, o);
		return;
	case R53_CREATE_CIDR:
	case R53_CHANGE_CIDR:
	case R53_DELETE_CIDR:
	case R53_LIST_CIDRS:
	case R53_LIST_CIDR_LOCATIONS:
	case R53_LIST_CIDR_BLOCKS:
		op_cidr(rest, o, &rt);
		return;
	case R53_CREATE_QLC:
	case R53_GET_QLC:
	case R53_LIST_QLCS:
	case R53_DELETE_QLC:
		op_qlog(rest, o, &rt);
		return;
	case R53_UNKNOWN:
	case R53_OP_COUNT:
		break;
	default:
		if (flow_op(rt.op)) {
			op_flow(rest, o, &rt);
			return;
		}
		break;
	}
	submit(rest, o, &req);
}

/* --- authentication --- */

struct sig_ctx {
	struct http_request *r;
	const char **names, **values;
	size_t n, cap;
	bool nomem;
};

static const char *sig_header(void *ctx, const char *lname)
{
	return http_request_header(((struct sig_ctx *)ctx)->r, lname);
}

static void sig_query(void *ctx, const char *name, const char *value)
{
	struct sig_ctx *s = ctx;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		const char **a = realloc(s->names, cap * sizeof(*a));
		const char **b =
		    a != NULL ? realloc(s->values, cap * sizeof(*b)) : NULL;
		if (a != NULL)
			s->names = a;
		if (b == NULL) {
			s->nomem = true;
			return;
		}
		s->values = b;
		s->cap = cap;
	}
	s->names[s->n] = name;
	s->values[s->n] = value;
	s->n++;
}

/* The key's secret and policy (NULL: --http-keys, an administrator);
 * NULL when no such key. The FSM's keys are read as this node applied
 * them: a key created or deleted counts here from the index that applied
 * it. */
static const char *key_secret(const struct route53_rest *rest, const char *akid,
			      const Q53__Command__AccessPolicy **policy)
{
	struct control_fsm_access_key k;

	*policy = NULL;
	for (size_t i = 0; i < rest->n_keys; i++)
		if (strcmp(rest->keys[i].akid, akid) == 0)
			return rest->keys[i].secret;
	if (rest->ops != NULL &&
	    control_fsm_access_key_get(rest->ops->fsm, akid, &k) == 0) {
		*policy = k.policy;
		return k.secret;
	}
	return NULL;
}

/* IAM's decision on target t for policy (NULL: an administrator): true
 * when allowed, else answered AccessDenied as Route 53 does. A change
 * batch's condition keys come from json (the AWS CLI's form); NULL json
 * for a change batch: not readable, denied (fail closed). */
static bool check_policy(struct op *o, const Q53__Command__AccessPolicy *policy,
			 const struct rest_auth_target *t, const char *json)
{
	struct rest_auth_batch b = {0};
	struct iam_request ir = {0};
	enum iam_decision d = IAM_DENY_DEFAULT;
	bool unreadable = false;

	if (policy == NULL)
		return true;
	ir.action = t->action;
	ir.resource = t->resource;
	if (t->change_batch) {
		int rv =
		    json != NULL ? rest_auth_batch_parse(json, &b) : Q53_EINVAL;
		if (rv == Q53_ENOMEM) {
			send_error(o->r, o->request_id, 503,
				   "ServiceUnavailable",
				   "out of memory; retry");
			return false;
		}
		unreadable = rv != 0;
		rest_auth_batch_request(&b, &ir);
	}
	if (!unreadable)
		d = iam_policy_evaluate(policy, &ir);
	rest_auth_batch_free(&b);
	if (d == IAM_ALLOW)
		return true;
	send_error(o->r, o->request_id, 403, "AccessDenied",
		   "User: arn:aws:iam::000000000000:user/%s is not authorized "
		   "to perform: %s on resource: %s%s",
		   o->akid, t->action, t->resource,
		   d == IAM_DENY_EXPLICIT
		       ? " with an explicit deny in an identity-based policy"
		       : "");
	return false;
}

/* IAM's check of a signed Route 53 request (policy NULL: an
 * administrator): true when allowed, else answered. */
static bool authorize(struct op *o, const Q53__Command__AccessPolicy *policy)
{
	struct http_request *r = o->r;
	struct rest_auth_target t;
	char *json = NULL;

	if (policy == NULL)
		return true;
	rest_auth_target(http_request_method(r), http_request_path(r), &t);
	if (t.change_batch) {
		/* The condition keys come from the batch. XML that does not
		 * parse is refused by the router (the same parser) with its
		 * reason; a batch whose changes cannot be read here is
		 * denied (fail closed). */
		size_t len;
		const uint8_t *body = http_request_body(r, &len);
		char err[512];
		if (r53_xml_change_batch(body, len, &json, err, sizeof(err)) !=
		    0) {
			/* evaluated without condition values; if allowed,
			 * the router answers with the parser's reason */
			json = NULL;
			t.change_batch = false;
		}
	}
	bool ok = check_policy(o, policy, &t, json);
	free(json);
	return ok;
}

/* true when the request is signed by a known key; else answered. */
static bool authenticate(struct route53_rest *rest, struct op *o)
{
	struct http_request *r = o->r;
	const char *auth = http_request_header(r, "Authorization");
	struct sigv4_auth a;
	char why[256];

	if (auth == NULL) {
		send_error(r, o->request_id, 403, "MissingAuthenticationToken",
			   "Missing Authentication Token: sign requests with "
			   "SigV4 (an access key of this cluster)");
		return false;
	}
	if (sigv4_parse_auth(auth, &a, why, sizeof(why)) != 0) {
		send_error(r, o->request_id, 400, "IncompleteSignature", "%s",
			   why);
		return false;
	}
	struct sig_ctx sc = {.r = r};
	http_request_queries(r, sig_query, &sc);
	size_t blen;
	const uint8_t *body = http_request_body(r, &blen);
	struct sigv4_request sr = {
	    .method = http_request_method(r),
	    .path = http_request_path(r),
	    .n_query = sc.n,
	    .query_names = sc.names,
	    .query_values = sc.values,
	    .header = sig_header,
	    .header_ctx = &sc,
	    .body = body,
	    .body_len = blen,
	};
	struct sigv4_result res;
	const Q53__Command__AccessPolicy *policy;
	const char *secret = key_secret(rest, a.akid, &policy);
	bool ok = !sc.nomem &&
		  sigv4_check(&sr, &a, secret, time(NULL), MAX_SKEW_S, &res);
	free(sc.names);
	free(sc.values);
	if (ok) {
		snprintf(o->akid, sizeof(o->akid), "%s", a.akid);
		/* /q53/api: the action is in the body (q53_api) */
		o->policy = policy;
		return rest_q53_match(http_request_path(r)) ||
		       authorize(o, policy);
	}
	if (sc.nomem)
		send_error(r, o->request_id, 503, "ServiceUnavailable",
			   "out of memory; retry");
	else if (secret == NULL && rest->ops != NULL &&
		 rest->ops->serving != NULL &&
		 !rest->ops->serving(rest->ops->data, NULL))
		/* A node still catching up (joining) may not have applied
		 * the key yet: not the client's fault, retryable. */
		send_error(r, o->request_id, 503, "ServiceUnavailable",
			   "this node is still catching up with the cluster "
			   "and does not know access key %s yet; retry, or "
			   "send the request to another node",
			   a.akid);
	else
		send_error(r, o->request_id,
			   strcmp(res.code, "IncompleteSignature") == 0 ? 400
									: 403,
			   res.code, "%s", res.message);
	return false;
}

/* --- POST /q53/api: the q53 CLI (rest_q53.h) --- */

static bool q53_resolve(void *ctx, const char *ref, char *id, size_t idlen)
{
	const struct route53_rest *rest = ctx;
	struct zone_store_info info;
	char err[256];

	if (rest->ops == NULL ||
	    api_render_resolve(control_fsm_zone_store(rest->ops->fsm), ref,
			       &info, err, sizeof(err)) != 0)
		return false;
	snprintf(id, idlen, "%s", info.id);
	return true;
}

static void q53_on_reply(void *ctx, const uint8_t *buf, size_t len)
{
	struct op *o = ctx;
	const char *headers[] = {"x-amzn-RequestId", o->request_id, NULL};

	if (buf == NULL)
		send_error(o->r, o->request_id, 503, "ServiceUnavailable",
			   "the node could not answer (out of memory); retry");
	else
		http_respond(o->r, 200, REST_Q53_CONTENT_TYPE, buf, len,
			     headers);
	free(o);
}

/* A signed q53.api.Request: decoded, checked against the key's policy
 * with the action of its kind, given to the node (with the signing key as
 * the change's submitter, the zone as the id the policy was checked on)
 * and answered with the node's packed Response. */
static void q53_api(struct route53_rest *rest, struct op *o)
{
	struct http_request *r = o->r;
	Q53__Api__Request *req = NULL;
	struct rest_auth_target t;
	char err[512], zone_id[REST_AUTH_RESOURCE_MAX];
	char *json = NULL;
	size_t len;
	const uint8_t *body = http_request_body(r, &len);

	if (strcmp(http_request_method(r), "POST") != 0) {
		send_error(r, o->request_id, 405, "InvalidInput",
			   "%s takes POST with a q53.api.Request",
			   REST_Q53_PATH);
		goto done;
	}
	int rv = api_msg_request_decode(body, len, &req, err, sizeof(err));
	if (rv == Q53_ENOMEM) {
		send_error(r, o->request_id, 503, "ServiceUnavailable",
			   "out of memory; retry");
		goto done;
	}
	if (rv != 0) {
		send_error_text(o, err);
		goto done;
	}
	rest_q53_target(req, q53_resolve, rest, &t);
	if (o->policy != NULL && t.change_batch) {
		const ProtobufCBinaryData *j =
		    &req->change_batch->change_batch_json;
		if ((json = malloc(j->len + 1)) == NULL) {
			send_error(r, o->request_id, 503, "ServiceUnavailable",
				   "out of memory; retry");
			goto done;
		}
		if (j->len > 0)
			memcpy(json, j->data, j->len);
		json[j->len] = '\0';
		if (memchr(json, '\0', j->len) != NULL) {
			free(json);
			json = NULL; /* unreadable: denied */
		}
	}
	if (!check_policy(o, o->policy, &t, json))
		goto done;

	/* What the node acts on is what the policy allowed: the resolved
	 * zone, and the signing key as the submitter (never the client's
	 * word). Restored before the request is freed. */
	char **zone = rest_q53_zone_ref(req);
	char *zone_was = zone != NULL ? *zone : NULL;
	char **akid = rest_q53_akid_ref(req);
	char *akid_was = akid != NULL ? *akid : NULL;
	if (zone != NULL && *zone != NULL &&
	    q53_resolve(rest, *zone, zone_id, sizeof(zone_id)))
		*zone = zone_id;
	if (akid != NULL)
		*akid = o->akid;
	size_t n = q53__api__request__get_packed_size(req);
	uint8_t *buf = malloc(n ? n : 1);
	if (buf != NULL)
		q53__api__request__pack(req, buf);
	if (zone != NULL)
		*zone = zone_was;
	if (akid != NULL)
		*akid = akid_was;
	if (buf == NULL ||
	    api_server_submit(rest->api, buf, n, q53_on_reply, o) != 0) {
		send_error(r, o->request_id, 503, "ServiceUnavailable",
			   "out of memory; retry");
		free(buf);
		goto done;
	}
	free(buf);
	free(json);
	api_msg_request_free(req);
	return; /* o is freed by q53_on_reply */
done:
	free(json);
	if (req != NULL)
		api_msg_request_free(req);
	free(o);
}

/* The q53 CLI's requests may be zone imports: as large as the NNG API
 * takes (64 MiB); Route 53's bodies keep the server's 4 MiB. */
static size_t max_body_of(void *data, const char *method, const char *path)
{
	(void)data;
	return strcmp(method, "POST") == 0 && rest_q53_match(path)
		   ? REST_Q53_MAX_BODY
		   : 0;
}

static void on_response(void *data, const char *operation, unsigned status)
{
	struct route53_rest *rest = data;
	const char *op = operation != NULL ? operation : "Unknown";

	for (size_t i = 0; i < rest->n_counts; i++) {
		struct rest_count *c = &rest->counts[i];
		if (c->status == status && strcmp(c->op, op) == 0) {
			c->n++;
			return;
		}
	}
	if (rest->n_counts == REST_COUNTS_MAX - 1 && strcmp(op, "other") != 0) {
		on_response(data, "other", status);
		return;
	}
	rest->counts[rest->n_counts++] =
	    (struct rest_count){.op = op, .status = status, .n = 1};
}

void route53_rest_counts(const struct route53_rest *r, route53_rest_count_fn fn,
			 void *ctx)
{
	for (size_t i = 0; i < r->n_counts; i++)
		fn(ctx, r->counts[i].op, r->counts[i].status, r->counts[i].n);
}

/* The operation a request is counted under, before it is authenticated
 * (a refused request counts too). */
static const char *operation_of(struct http_request *r)
{
	const char *path = http_request_path(r);
	if (strcmp(path, "/q53/alarms") == 0)
		return "Q53Alarms";
	if (rest_keys_match(path))
		return "Q53AccessKeys";
	if (rest_q53_match(path))
		return "Q53Api";
	if (rest_latency_match(path))
		return "Q53Latency";
	struct r53_route rt;
	r53_route_parse(http_request_method(r), path, route_query, r, &rt);
	return r53_op_name(rt.op);
}

/* GET /metrics: Prometheus text, unauthenticated (it names zones and
 * health checks, never records). */
static void serve_metrics(struct route53_rest *rest, struct http_request *r)
{
	size_t len = 0;
	char *text;

	http_request_set_operation(r, "Metrics");
	if (strcmp(http_request_method(r), "GET") != 0 &&
	    strcmp(http_request_method(r), "HEAD") != 0) {
		http_respond(r, 405, "text/plain", "GET /metrics\n", 13, NULL);
		return;
	}
	text = rest->metrics(rest->metrics_data, &len);
	if (text == NULL) {
		http_respond(r, 503, "text/plain", "out of memory\n", 14, NULL);
		return;
	}
	http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", text,
		     len, NULL);
	free(text);
}

/* GET /q53/alarms: the health alarms' history this node keeps (the
 * leader's), for administrators. */
static void serve_alarms(struct route53_rest *rest, struct op *o)
{
	struct http_request *r = o->r;
	const char *headers[] = {"x-amzn-RequestId", o->request_id, NULL};
	size_t len = 0;

	struct rest_auth_target t;
	memset(&t, 0, sizeof(t));
	snprintf(t.action, sizeof(t.action), "q53:ListHealthCheckAlarms");
	snprintf(t.resource, sizeof(t.resource), "*");
	if (!check_policy(o, o->policy, &t, NULL))
		return;
	if (strcmp(http_request_method(r), "GET") != 0) {
		send_error(r, o->request_id, 405, "InvalidInput",
			   "GET /q53/alarms[?health_check_id=ID]");
		return;
	}
	char *text = rest->alarms(
	    rest->alarms_data, http_request_query(r, "health_check_id"), &len);
	if (text == NULL) {
		send_error(r, o->request_id, 503, "ServiceUnavailable",
			   "out of memory; retry");
		return;
	}
	http_respond(r, 200, "application/json", text, len, headers);
	free(text);
}

static void on_request(void *data, struct http_request *r)
{
	struct route53_rest *rest = data;
	struct op *o;
	char rid[40];

	if (rest->metrics != NULL &&
	    strcmp(http_request_path(r), "/metrics") == 0) {
		serve_metrics(rest, r);
		return;
	}
	if (rest_console_match(http_request_path(r))) {
		/* static files; the page signs its own API requests */
		rest_console_handle(r);
		return;
	}
	http_request_set_operation(r, operation_of(r));
	o = calloc(1, sizeof(*o));

	snprintf(rid, sizeof(rid), "q53-%llx-%llx",
		 (unsigned long long)time(NULL), ++rest->requests);
	if (o == NULL) {
		send_error(r, rid, 503, "ServiceUnavailable",
			   "out of memory; retry");
		return;
	}
	o->r = r;
	o->rest = rest;
	memcpy(o->request_id, rid, sizeof(rid));
	if (!authenticate(rest, o)) {
		free(o);
		return;
	}
	if (rest->alarms != NULL &&
	    strcmp(http_request_path(r), "/q53/alarms") == 0) {
		serve_alarms(rest, o);
		free(o);
		return;
	}
	if (rest_keys_match(http_request_path(r))) {
		rest_keys_handle(rest->api, r, o->request_id);
		free(o);
		return;
	}
	if (rest_q53_match(http_request_path(r))) {
		q53_api(rest, o);
		return;
	}
	if (rest_latency_match(http_request_path(r))) {
		rest_latency_handle(rest->api, r, o->request_id);
		free(o);
		return;
	}
	route(rest, o);
}

/* --- keys and lifecycle --- */

int route53_keys_parse(const char *text, size_t len,
		       int (*add)(void *ctx, const char *akid,
				  const char *secret),
		       void *ctx, char *err, size_t errlen)
{
	size_t line = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		char buf[512];
		char akid[SIGV4_AKID_MAX + 2], secret[SECRET_MAX + 2], extra;
		line++;
		size_t n = (size_t)(le - p);
		if (n >= sizeof(buf)) {
			snprintf(err, errlen, "line %zu: too long", line);
			return Q53_EINVAL;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (memchr(buf, '\0', n) != NULL) {
			snprintf(err, errlen, "line %zu: a NUL byte", line);
			return Q53_EINVAL;
		}
		p = nl != NULL ? nl + 1 : end;
		char *s = buf + strspn(buf, " \t\r");
		if (*s == '\0' || *s == '#')
			continue;
		int k = sscanf(s, "%129s %129s %c", akid, secret, &extra);
		if (k != 2) {
			snprintf(err, errlen,
				 "line %zu: want 'ACCESS_KEY_ID SECRET'", line);
			return Q53_EINVAL;
		}
		if (strlen(akid) < 16 || strlen(akid) > SIGV4_AKID_MAX ||
		    strlen(secret) < 16 || strlen(secret) > SECRET_MAX) {
			snprintf(err, errlen,
				 "line %zu: an access key id of 16 to %d and a "
				 "secret of 16 to %d characters",
				 line, SIGV4_AKID_MAX, SECRET_MAX);
			return Q53_EINVAL;
		}
		int rv = add(ctx, akid, secret);
		if (rv != 0) {
			snprintf(err, errlen, "line %zu: %s", line,
				 rv == Q53_EEXIST ? "the key id is listed twice"
						  : q53_strerror(rv));
			return rv;
		}
	}
	return 0;
}

static int key_add(void *ctx, const char *akid, const char *secret)
{
	struct route53_rest *rest = ctx;
	const Q53__Command__AccessPolicy *policy;
	if (key_secret(rest, akid, &policy) != NULL)
		return Q53_EEXIST;
	if (rest->n_keys == KEYS_MAX)
		return Q53_EINVAL;
	struct key *k = realloc(rest->keys, (rest->n_keys + 1) * sizeof(*k));
	if (k == NULL)
		return Q53_ENOMEM;
	rest->keys = k;
	snprintf(k[rest->n_keys].akid, sizeof(k->akid), "%s", akid);
	snprintf(k[rest->n_keys].secret, sizeof(k->secret), "%s", secret);
	rest->n_keys++;
	return 0;
}

/* Reads a whole small file (NUL-terminated, malloc'd) named by option;
 * a secret one must not be readable by group or others. */
static int read_small_file(const char *option, const char *path, size_t max,
			   bool secret, char **out, size_t *len, char *err,
			   size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct stat st;

	*out = NULL;
	if (f == NULL)
		return q53_fail(err, errlen, Q53_EINVAL, "%s %s: %s", option,
				path, strerror(errno));
	if (secret && fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0) {
		fclose(f);
		return q53_fail(err, errlen, Q53_EINVAL,
				"%s %s: readable by others (mode %03o): chmod "
				"600 it",
				option, path, (unsigned)(st.st_mode & 0777));
	}
	char *text = malloc(max + 1);
	if (text == NULL) {
		fclose(f);
		return q53_fail(err, errlen, Q53_ENOMEM, "out of memory");
	}
	size_t n = fread(text, 1, max, f);
	bool more = fgetc(f) != EOF;
	fclose(f);
	if (more) {
		OPENSSL_cleanse(text, max);
		free(text);
		return q53_fail(err, errlen, Q53_EINVAL,
				"%s %s: larger than %zu KiB", option, path,
				max / 1024);
	}
	text[n] = '\0';
	*out = text;
	*len = n;
	return 0;
}

static void free_secret(char *text, size_t len)
{
	if (text != NULL)
		OPENSSL_cleanse(text, len);
	free(text);
}

static int read_keys(struct route53_rest *rest, const char *path, char *err,
		     size_t errlen)
{
	char *text, why[256];
	size_t n;
	int rv = read_small_file("--http-keys", path, 64 * 1024, true, &text,
				 &n, err, errlen);
	if (rv != 0)
		return rv;
	rv = route53_keys_parse(text, n, key_add, rest, why, sizeof(why));
	if (rv == 0 && rest->n_keys == 0) {
		snprintf(why, sizeof(why), "no keys");
		rv = Q53_EINVAL;
	}
	free_secret(text, n);
	if (rv != 0)
		snprintf(err, errlen, "--http-keys %s: %s", path, why);
	return rv;
}

int route53_rest_check(const struct route53_rest_config *config, char *err,
		       size_t errlen)
{
	if ((config->tls_cert_file == NULL) != (config->tls_key_file == NULL))
		return q53_fail(err, errlen, Q53_EINVAL,
				"--http-tls-cert and --http-tls-key go "
				"together");
	if (config->tls_cert_file == NULL && !config->allow_plain &&
	    !http_listen_is_loopback(config->listen))
		return q53_fail(
		    err, errlen, Q53_EINVAL,
		    "--http %s is not a loopback address: give "
		    "--http-tls-cert and --http-tls-key (HTTPS), or "
		    "--http-insecure to serve plain HTTP there anyway "
		    "(requests and zone data then cross the network in the "
		    "clear)",
		    config->listen);
	return 0;
}

int route53_rest_start(struct route53_rest **out, uv_loop_t *loop,
		       const struct route53_rest_config *config, char *err,
		       size_t errlen)
{
	*out = NULL;
	int rv0 = route53_rest_check(config, err, errlen);
	if (rv0 != 0)
		return rv0;
	struct route53_rest *rest = calloc(1, sizeof(*rest));
	if (rest == NULL) {
		snprintf(err, errlen, "out of memory");
		return Q53_ENOMEM;
	}
	rest->api = config->api;
	rest->metrics = config->metrics;
	rest->metrics_data = config->metrics_data;
	rest->alarms = config->alarms;
	rest->alarms_data = config->alarms_data;
	if (config->ops != NULL) {
		rest->ops_copy = *config->ops;
		rest->ops = &rest->ops_copy;
	}
	char *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	int rv = config->keys_file != NULL
		     ? read_keys(rest, config->keys_file, err, errlen)
		     : 0;
	if (rv == 0 && config->tls_cert_file != NULL)
		rv = read_small_file("--http-tls-cert", config->tls_cert_file,
				     1 << 20, false, &cert, &cert_len, err,
				     errlen);
	if (rv == 0 && config->tls_key_file != NULL)
		rv =
		    read_small_file("--http-tls-key", config->tls_key_file,
				    1 << 20, true, &key, &key_len, err, errlen);
	if (rv == 0) {
		struct http_server_config hc = {
		    .listen = config->listen,
		    .handler = on_request,
		    .on_response = on_response,
		    .max_body_of = max_body_of,
		    .limits = config->limits,
		    .data = rest,
		    .tls_cert_pem = cert,
		    .tls_key_pem = key,
		};
		rv = http_server_start(&rest->http, loop, &hc, err, errlen);
	}
	free(cert);
	free_secret(key, key_len);
	if (rv != 0) {
		free(rest->keys);
		free(rest);
		return rv;
	}
	*out = rest;
	return 0;
}

int route53_rest_port(const struct route53_rest *r)
{
	return http_server_port(r->http);
}

void route53_rest_close(struct route53_rest *r)
{
	if (r == NULL)
		return;
	http_server_close(r->http);
	if (r->keys != NULL)
		OPENSSL_cleanse(r->keys, r->n_keys * sizeof(*r->keys));
	free(r->keys);
	free(r);
}
