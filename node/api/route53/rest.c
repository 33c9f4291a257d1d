/* DESIGN: a translator, not a second API. Each Route 53 operation becomes
 * one q53.api.Request given to the node's API backend through
 * api_server_submit (so writes are forwarded to the leader and answered
 * after the Raft commit exactly as for q53), and each Response becomes
 * Route 53's XML. What Route 53 checks about the request's shape is checked
 * here; what depends on state stays with the backend and the FSM, whose
 * error codes are Route 53's already. */
#include "node/api/route53/rest.h"

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
#include "node/api/route53/r53_xml.h"
#include "node/api/route53/sigv4.h"
#include "node/common/errcode.h"

#include <jansson.h>
#include "proto/api.pb-c.h"

#define R53_NS		"https://route53.amazonaws.com/doc/2013-04-01/"
#define R53_PREFIX	"/2013-04-01"
#define MAX_SKEW_S	300
#define KEYS_MAX	1024
#define SECRET_MAX	128
#define ZONES_PAGE_MAX	100
#define RRSETS_PAGE_MAX 300

struct key {
	char akid[SIGV4_AKID_MAX + 1];
	char secret[SECRET_MAX + 1];
};

struct route53_rest {
	struct http_server *http;
	struct api_server *api;
	struct key *keys;
	size_t n_keys;
	unsigned long long requests;
};

enum op_kind {
	OP_CREATE_ZONE,
	OP_GET_ZONE,
	OP_LIST_ZONES,
	OP_DELETE_ZONE,
	OP_CHANGE_RRSETS,
	OP_LIST_RRSETS,
	OP_GET_CHANGE,
	OP_ZONE_COUNT,
	OP_CREATE_HC,
	OP_GET_HC,
	OP_LIST_HCS,
	OP_UPDATE_HC,
	OP_DELETE_HC,
	OP_HC_STATUS,
	OP_HC_COUNT,
	OP_ZONES_BY_NAME,
};

/* One Route 53 request waiting for the node's answer. */
struct op {
	struct http_request *r;
	enum op_kind kind;
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
	if (rs->set_identifier != NULL && rs->set_identifier[0] != '\0')
		xo_text(x, "SetIdentifier", rs->set_identifier);
	if (rs->has_weight)
		xo_fmt(x, "Weight", "%u", rs->weight);
	if (rs->multi_value_answer)
		xo_text(x, "MultiValueAnswer", "true");
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
	case OP_CREATE_ZONE: {
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
	case OP_GET_ZONE: {
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
	case OP_LIST_ZONES: {
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
	case OP_DELETE_ZONE:
	case OP_CHANGE_RRSETS:
	case OP_GET_CHANGE: {
		/* Answers that are a ChangeInfo. */
		const Q53__Api__ChangeInfo *ci =
		    o->kind == OP_DELETE_ZONE
			? (resp->delete_zone ? resp->delete_zone->change : NULL)
		    : o->kind == OP_CHANGE_RRSETS
			? (resp->change_batch ? resp->change_batch->change
					      : NULL)
			: (resp->get_change ? resp->get_change->change : NULL);
		static const char *const roots[] = {
		    [OP_DELETE_ZONE] = "DeleteHostedZoneResponse",
		    [OP_CHANGE_RRSETS] = "ChangeResourceRecordSetsResponse",
		    [OP_GET_CHANGE] = "GetChangeResponse",
		};
		if (ci == NULL || xo_begin(&x, roots[o->kind]) != 0)
			break;
		xo_change_info(&x, ci);
		xo_send(&x, o, 200, hdr);
		return;
	}
	case OP_ZONE_COUNT:
		if (resp->status == NULL ||
		    xo_begin(&x, "GetHostedZoneCountResponse") != 0)
			break;
		xo_fmt(&x, "HostedZoneCount", "%u", resp->status->zones);
		xo_send(&x, o, 200, hdr);
		return;
	case OP_CREATE_HC:
	case OP_GET_HC:
	case OP_UPDATE_HC: {
		const Q53__Api__HealthCheck *h =
		    o->kind == OP_CREATE_HC
			? (resp->create_health_check
			       ? resp->create_health_check->health_check
			       : NULL)
		    : o->kind == OP_GET_HC
			? (resp->get_health_check
			       ? resp->get_health_check->health_check
			       : NULL)
			: (resp->update_health_check
			       ? resp->update_health_check->health_check
			       : NULL);
		static const char *const roots[] = {
		    [OP_CREATE_HC] = "CreateHealthCheckResponse",
		    [OP_GET_HC] = "GetHealthCheckResponse",
		    [OP_UPDATE_HC] = "UpdateHealthCheckResponse",
		};
		if (h == NULL || xo_begin(&x, roots[o->kind]) != 0)
			break;
		xo_health_check(&x, h);
		char location[256];
		if (o->kind == OP_CREATE_HC) {
			snprintf(location, sizeof(location),
				 "https://route53.amazonaws.com/2013-04-01/"
				 "healthcheck/%s",
				 h->id);
			hdr[2] = "Location";
			hdr[3] = location;
		}
		xo_send(&x, o, o->kind == OP_CREATE_HC ? 201 : 200, hdr);
		return;
	}
	case OP_LIST_HCS:
	case OP_HC_COUNT: {
		const Q53__Api__ListHealthChecksResponse *l =
		    resp->list_health_checks;
		if (l == NULL)
			break;
		if (o->kind == OP_HC_COUNT) {
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
	case OP_DELETE_HC:
		if (xo_begin(&x, "DeleteHealthCheckResponse") != 0)
			break;
		xo_send(&x, o, 200, hdr);
		return;
	case OP_HC_STATUS: {
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
	case OP_ZONES_BY_NAME:
		break; /* answered from every page (on_reply) */
	case OP_LIST_RRSETS: {
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
	if (o->kind == OP_ZONES_BY_NAME && resp != NULL &&
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

static unsigned max_items(struct http_request *r, unsigned dflt, unsigned max)
{
	const char *v = http_request_query(r, "maxitems");
	if (v == NULL)
		return dflt;
	char *end;
	unsigned long k = strtoul(v, &end, 10);
	if (*v == '\0' || *end != '\0' || k == 0)
		return dflt;
	return k > max ? max : (unsigned)k;
}

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
		if (z.comment != NULL)
			c.comment = z.comment;
		req.body_case = Q53__API__REQUEST__BODY_CREATE_ZONE;
		req.create_zone = &c;
		o->kind = OP_CREATE_ZONE;
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
	req.body_case = Q53__API__REQUEST__BODY_CHANGE_BATCH;
	req.change_batch = &c;
	o->kind = OP_CHANGE_RRSETS;
	submit(rest, o, &req);
	free(json);
}

static void op_list_rrsets(struct route53_rest *rest, struct op *o,
			   const char *zone)
{
	struct http_request *r = o->r;
	const char *name = http_request_query(r, "name");
	const char *type = http_request_query(r, "type");
	const char *ident = http_request_query(r, "identifier");
	if (type != NULL && name == NULL) {
		send_error(r, o->request_id, 400, "InvalidInput",
			   "The input is not valid: StartRecordType needs "
			   "StartRecordName");
		free(o);
		return;
	}
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__ListRecordsRequest l = Q53__API__LIST_RECORDS_REQUEST__INIT;
	l.zone = (char *)zone;
	o->max_items = max_items(r, RRSETS_PAGE_MAX, RRSETS_PAGE_MAX);
	l.max_items = o->max_items;
	if (name != NULL)
		l.start_name = (char *)name;
	if (type != NULL)
		l.start_type = (char *)type;
	if (ident != NULL)
		l.start_identifier = (char *)ident;
	req.body_case = Q53__API__REQUEST__BODY_LIST_RECORDS;
	req.list_records = &l;
	o->kind = OP_LIST_RRSETS;
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
	o->kind = OP_CREATE_HC;
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
	o->kind = OP_UPDATE_HC;
	submit(rest, o, &req);
	free(fields);
}

/* Accepts "Z123" and "/hostedzone/Z123" (SDKs strip the prefix; some
 * tools do not). */
static const char *strip_prefix(const char *id, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(id, prefix, n) == 0 ? id + n : id;
}

static void route(struct route53_rest *rest, struct op *o)
{
	struct http_request *r = o->r;
	const char *m = http_request_method(r);
	const char *path = http_request_path(r);
	char seg[4][256];
	size_t nseg = 0;

	if (strncmp(path, R53_PREFIX "/", sizeof(R53_PREFIX)) != 0)
		goto unknown;
	for (const char *p = path + sizeof(R53_PREFIX); *p != '\0';) {
		size_t n = strcspn(p, "/");
		if (n > 0) {
			if (nseg == 4 || n >= sizeof(seg[0]))
				goto unknown;
			memcpy(seg[nseg], p, n);
			seg[nseg][n] = '\0';
			nseg++;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0,
	     del = strcmp(m, "DELETE") == 0;
	if (nseg == 1 && strcmp(seg[0], "hostedzone") == 0 && post) {
		op_create_zone(rest, o);
		return;
	}
	if (nseg == 1 && strcmp(seg[0], "hostedzone") == 0 && get) {
		Q53__Api__ListZonesRequest l =
		    Q53__API__LIST_ZONES_REQUEST__INIT;
		const char *marker = http_request_query(r, "marker");
		if (marker != NULL)
			snprintf(o->marker, sizeof(o->marker), "%s",
				 strip_prefix(marker, "/hostedzone/"));
		l.marker = o->marker;
		o->max_items = max_items(r, ZONES_PAGE_MAX, ZONES_PAGE_MAX);
		l.max_items = o->max_items;
		req.body_case = Q53__API__REQUEST__BODY_LIST_ZONES;
		req.list_zones = &l;
		o->kind = OP_LIST_ZONES;
		submit(rest, o, &req);
		return;
	}
	if (nseg == 2 && strcmp(seg[0], "hostedzone") == 0 && (get || del)) {
		Q53__Api__GetZoneRequest g = Q53__API__GET_ZONE_REQUEST__INIT;
		Q53__Api__DeleteZoneRequest d =
		    Q53__API__DELETE_ZONE_REQUEST__INIT;
		if (get) {
			g.zone = seg[1];
			req.body_case = Q53__API__REQUEST__BODY_GET_ZONE;
			req.get_zone = &g;
			o->kind = OP_GET_ZONE;
		} else {
			d.zone = seg[1];
			req.body_case = Q53__API__REQUEST__BODY_DELETE_ZONE;
			req.delete_zone = &d;
			o->kind = OP_DELETE_ZONE;
		}
		submit(rest, o, &req);
		return;
	}
	if (nseg == 3 && strcmp(seg[0], "hostedzone") == 0 &&
	    strcmp(seg[2], "rrset") == 0 && (post || get)) {
		if (post)
			op_change_rrsets(rest, o, seg[1]);
		else
			op_list_rrsets(rest, o, seg[1]);
		return;
	}
	if (nseg == 2 && strcmp(seg[0], "change") == 0 && get) {
		Q53__Api__GetChangeRequest g =
		    Q53__API__GET_CHANGE_REQUEST__INIT;
		g.id = seg[1];
		req.body_case = Q53__API__REQUEST__BODY_GET_CHANGE;
		req.get_change = &g;
		o->kind = OP_GET_CHANGE;
		submit(rest, o, &req);
		return;
	}
	if (nseg == 1 && strcmp(seg[0], "hostedzonesbyname") == 0 && get) {
		const char *dn = http_request_query(r, "dnsname");
		const char *zid = http_request_query(r, "hostedzoneid");
		if (zid != NULL && dn == NULL) {
			send_error(r, o->request_id, 400, "InvalidInput",
				   "HostedZoneId needs DNSName");
			free(o);
			return;
		}
		snprintf(o->dns_name, sizeof(o->dns_name), "%s",
			 dn != NULL ? dn : "");
		snprintf(o->zone_id, sizeof(o->zone_id), "%s",
			 zid != NULL ? zid : "");
		o->max_items = max_items(r, ZONES_PAGE_MAX, ZONES_PAGE_MAX);
		o->kind = OP_ZONES_BY_NAME;
		list_zones_page(o, "");
		return;
	}
	if (nseg == 1 && strcmp(seg[0], "hostedzonecount") == 0 && get) {
		Q53__Api__StatusRequest st = Q53__API__STATUS_REQUEST__INIT;
		req.body_case = Q53__API__REQUEST__BODY_STATUS;
		req.status = &st;
		o->kind = OP_ZONE_COUNT;
		submit(rest, o, &req);
		return;
	}
	if (nseg == 1 && strcmp(seg[0], "healthcheck") == 0 && post) {
		op_create_hc(rest, o);
		return;
	}
	if (nseg == 1 &&
	    (strcmp(seg[0], "healthcheck") == 0 ||
	     strcmp(seg[0], "healthcheckcount") == 0) &&
	    get) {
		Q53__Api__ListHealthChecksRequest l =
		    Q53__API__LIST_HEALTH_CHECKS_REQUEST__INIT;
		bool count = strcmp(seg[0], "healthcheckcount") == 0;
		const char *marker =
		    count ? NULL : http_request_query(r, "marker");
		if (marker != NULL)
			snprintf(o->marker, sizeof(o->marker), "%s", marker);
		l.marker = o->marker;
		o->max_items = count ? API_MSG_PAGE_MAX
				     : max_items(r, API_MSG_PAGE_DEFAULT,
						 API_MSG_PAGE_MAX);
		l.max_items = o->max_items;
		req.body_case = Q53__API__REQUEST__BODY_LIST_HEALTH_CHECKS;
		req.list_health_checks = &l;
		o->kind = count ? OP_HC_COUNT : OP_LIST_HCS;
		submit(rest, o, &req);
		return;
	}
	if (nseg == 2 && strcmp(seg[0], "healthcheck") == 0 &&
	    (get || del || post)) {
		Q53__Api__GetHealthCheckRequest g =
		    Q53__API__GET_HEALTH_CHECK_REQUEST__INIT;
		Q53__Api__DeleteHealthCheckRequest d =
		    Q53__API__DELETE_HEALTH_CHECK_REQUEST__INIT;
		if (post) {
			op_update_hc(rest, o, seg[1]);
			return;
		}
		if (get) {
			g.id = seg[1];
			req.body_case =
			    Q53__API__REQUEST__BODY_GET_HEALTH_CHECK;
			req.get_health_check = &g;
			o->kind = OP_GET_HC;
		} else {
			d.id = seg[1];
			req.body_case =
			    Q53__API__REQUEST__BODY_DELETE_HEALTH_CHECK;
			req.delete_health_check = &d;
			o->kind = OP_DELETE_HC;
		}
		submit(rest, o, &req);
		return;
	}
	if (nseg == 3 && strcmp(seg[0], "healthcheck") == 0 &&
	    strcmp(seg[2], "status") == 0 && get) {
		Q53__Api__GetHealthCheckStatusRequest g =
		    Q53__API__GET_HEALTH_CHECK_STATUS_REQUEST__INIT;
		g.id = seg[1];
		req.body_case = Q53__API__REQUEST__BODY_GET_HEALTH_CHECK_STATUS;
		req.get_health_check_status = &g;
		o->kind = OP_HC_STATUS;
		submit(rest, o, &req);
		return;
	}
unknown:
	send_error(r, o->request_id, 404, "UnknownOperationException",
		   "quorum53 does not implement %s %s (yet)", m, path);
	free(o);
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

static const char *key_secret(const struct route53_rest *rest, const char *akid)
{
	for (size_t i = 0; i < rest->n_keys; i++)
		if (strcmp(rest->keys[i].akid, akid) == 0)
			return rest->keys[i].secret;
	return NULL;
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
	bool ok = !sc.nomem && sigv4_check(&sr, &a, key_secret(rest, a.akid),
					   time(NULL), MAX_SKEW_S, &res);
	free(sc.names);
	free(sc.values);
	if (ok)
		return true;
	if (sc.nomem)
		send_error(r, o->request_id, 503, "ServiceUnavailable",
			   "out of memory; retry");
	else
		send_error(r, o->request_id,
			   strcmp(res.code, "IncompleteSignature") == 0 ? 400
									: 403,
			   res.code, "%s", res.message);
	return false;
}

static void on_request(void *data, struct http_request *r)
{
	struct route53_rest *rest = data;
	struct op *o = calloc(1, sizeof(*o));
	char rid[40];

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
	if (key_secret(rest, akid) != NULL)
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
	if (config->keys_file == NULL) {
		snprintf(err, errlen,
			 "--http needs --http-keys FILE (lines 'ACCESS_KEY_ID "
			 "SECRET'): the Route 53 API accepts signed requests "
			 "only");
		return Q53_EINVAL;
	}
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
	char *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	int rv = read_keys(rest, config->keys_file, err, errlen);
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
