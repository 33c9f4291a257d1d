#include "node/api/route53/rest_latency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster/api_msg.h"
#include "node/api/api.h"
#include "node/api/http_server.h"
#include "node/api/route53/rest_json.h"
#include "proto/api.pb-c.h"

#define ROWS_MAX    1000 /* API_MSG_LATENCY_ROWS_MAX */
#define REGIONS_MAX 32	 /* LATENCY_ROW_REGIONS */

struct latency_op {
	struct http_request *r;
	char request_id[40];
	Q53__Api__Request__BodyCase kind;
};

static json_t *rtt_json(const Q53__Api__LatencyRowInfo *x)
{
	json_t *o = json_object();
	for (size_t k = 0; k < x->n_regions && k < x->n_rtt_ms; k++)
		json_object_set_new(o, x->regions[k],
				    json_integer(x->rtt_ms[k]));
	return o;
}

static void on_reply(void *ctx, const uint8_t *buf, size_t len)
{
	struct latency_op *o = ctx;
	Q53__Api__Response *resp =
	    buf != NULL ? q53__api__response__unpack(NULL, len, buf) : NULL;

	if (resp == NULL) {
		rest_json_error(o->r, o->request_id, 503, "ServiceUnavailable",
				"the node could not answer; retry");
	} else if (resp->error != NULL && resp->error[0] != '\0') {
		rest_json_error(
		    o->r, o->request_id,
		    rest_json_status(resp->error, "NoSuchLatencyRow"),
		    resp->error, resp->message);
	} else if (!api_msg_response_matches(o->kind, resp)) {
		rest_json_error(o->r, o->request_id, 500, "InternalFailure",
				"the node answered another operation");
	} else if (o->kind == Q53__API__REQUEST__BODY_LATENCY_SET) {
		rest_json_send(
		    o->r, 200,
		    json_pack("{s:i}", "Rows", (int)resp->latency_set->rows),
		    o->request_id);
	} else if (o->kind == Q53__API__REQUEST__BODY_LATENCY_LIST) {
		const Q53__Api__LatencyListResponse *l = resp->latency_list;
		json_t *rows = json_array(), *sites = json_array();
		for (size_t i = 0; i < l->n_rows; i++)
			json_array_append_new(
			    rows,
			    json_pack("{s:s,s:o}", "Cidr", l->rows[i]->cidr,
				      "RttMs", rtt_json(l->rows[i])));
		for (size_t i = 0; i < l->n_sites; i++)
			json_array_append_new(
			    sites, json_pack("{s:s,s:I,s:o}", "Site",
					     l->sites[i]->site, "NodeId",
					     (json_int_t)l->sites[i]->node_id,
					     "RttMs", rtt_json(l->sites[i])));
		rest_json_send(
		    o->r, 200,
		    json_pack("{s:o,s:o}", "Rows", rows, "Sites", sites),
		    o->request_id);
	} else {
		rest_json_send(o->r, 204, NULL, o->request_id);
	}
	if (resp != NULL)
		q53__api__response__free_unpacked(resp, NULL);
	free(o);
}

bool rest_latency_match(const char *path)
{
	size_t n = strlen(REST_LATENCY_PATH);

	return strncmp(path, REST_LATENCY_PATH, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

void rest_latency_action(const char *method, const char *path, char *out,
			 size_t outlen)
{
	const char *rest = path + strlen(REST_LATENCY_PATH);
	bool one = rest[0] == '/' && rest[1] != '\0';

	if ((strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) && !one)
		snprintf(out, outlen, "q53:SetLatencyRows");
	else if (strcmp(method, "GET") == 0 && !one)
		snprintf(out, outlen, "q53:ListLatencyRows");
	else if (strcmp(method, "DELETE") == 0 && one)
		snprintf(out, outlen, "q53:DeleteLatencyRows");
	else
		snprintf(out, outlen, "route53:Unknown");
}

/* Storage for a set request's rows. */
struct set_rows {
	Q53__Api__LatencyRowInfo info[ROWS_MAX];
	Q53__Api__LatencyRowInfo *ptrs[ROWS_MAX];
	char *regions[ROWS_MAX][REGIONS_MAX];
	uint32_t rtt[ROWS_MAX][REGIONS_MAX];
};

/* What a parsed set request borrows from. */
struct rest_latency_set {
	json_t *root;
	struct set_rows s;
};

/* The PUT body into s / set (borrowing root). 0 or -1 with why. */
static int parse_set(json_t *root, struct set_rows *s,
		     Q53__Api__LatencySetRequest *set, const char **why)
{
	json_t *rows = json_object_get(root, "Rows");
	json_t *all = json_object_get(root, "ReplaceAll");

	*why = "the body must be {\"Rows\": [{\"Cidr\": \"192.0.2.0/24\", "
	       "\"RttMs\": {\"REGION\": MS, ...}}, ...], \"ReplaceAll\": "
	       "false}";
	if (!json_is_object(root) || !json_is_array(rows) ||
	    json_array_size(rows) == 0 || json_array_size(rows) > ROWS_MAX ||
	    (all != NULL && !json_is_boolean(all)))
		return -1;
	for (size_t i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);
		json_t *cidr = json_object_get(row, "Cidr");
		json_t *rtt = json_object_get(row, "RttMs");
		if (!json_is_string(cidr) || !json_is_object(rtt) ||
		    json_object_size(rtt) == 0 ||
		    json_object_size(rtt) > REGIONS_MAX)
			return -1;
		Q53__Api__LatencyRowInfo *x = &s->info[i];
		q53__api__latency_row_info__init(x);
		x->cidr = (char *)json_string_value(cidr);
		const char *region;
		json_t *v;
		size_t k = 0;
		json_object_foreach(rtt, region, v)
		{
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 600000) {
				*why = "each RTT is an integer of "
				       "milliseconds, 0 to 600000";
				return -1;
			}
			s->regions[i][k] = (char *)region;
			s->rtt[i][k++] = (uint32_t)json_integer_value(v);
		}
		x->regions = s->regions[i];
		x->n_regions = k;
		x->rtt_ms = s->rtt[i];
		x->n_rtt_ms = k;
		s->ptrs[i] = x;
	}
	set->rows = s->ptrs;
	set->n_rows = json_array_size(rows);
	set->replace_all = json_is_true(all);
	return 0;
}

int rest_latency_parse_set(const uint8_t *body, size_t len,
			   Q53__Api__LatencySetRequest *set,
			   struct rest_latency_set **storage, const char **why)
{
	struct rest_latency_set *st = calloc(1, sizeof(*st));

	*storage = st;
	if (st == NULL) {
		*why = "out of memory; retry";
		return -1;
	}
	st->root = json_loadb((const char *)body, len, 0, NULL);
	return parse_set(st->root, &st->s, set, why);
}

void rest_latency_set_free(struct rest_latency_set *storage)
{
	if (storage == NULL)
		return;
	json_decref(storage->root);
	free(storage);
}

void rest_latency_handle(struct api_server *api, struct http_request *r,
			 const char *request_id)
{
	const char *m = http_request_method(r);
	const char *path = http_request_path(r) + strlen(REST_LATENCY_PATH);
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__LatencySetRequest set = Q53__API__LATENCY_SET_REQUEST__INIT;
	Q53__Api__LatencyListRequest list =
	    Q53__API__LATENCY_LIST_REQUEST__INIT;
	Q53__Api__LatencyDeleteRequest del =
	    Q53__API__LATENCY_DELETE_REQUEST__INIT;
	struct rest_latency_set *rows = NULL;
	char cidr[128], *cidrs[1] = {cidr};
	const char *why = NULL;

	if (*path == '/')
		path++;
	if ((strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0) &&
	    *path == '\0') {
		size_t len;
		const uint8_t *body = http_request_body(r, &len);
		if (rest_latency_parse_set(body, len, &set, &rows, &why) == 0) {
			why = NULL;
			req.body_case = Q53__API__REQUEST__BODY_LATENCY_SET;
			req.latency_set = &set;
		}
	} else if (strcmp(m, "GET") == 0 && *path == '\0') {
		req.body_case = Q53__API__REQUEST__BODY_LATENCY_LIST;
		req.latency_list = &list;
	} else if (strcmp(m, "DELETE") == 0 && *path != '\0' &&
		   strlen(path) < sizeof(cidr)) {
		snprintf(cidr, sizeof(cidr), "%s", path);
		del.cidrs = cidrs;
		del.n_cidrs = 1;
		req.body_case = Q53__API__REQUEST__BODY_LATENCY_DELETE;
		req.latency_delete = &del;
	} else {
		why = "use PUT or GET " REST_LATENCY_PATH
		      ", DELETE " REST_LATENCY_PATH "/CIDR";
	}
	struct latency_op *o = why == NULL ? calloc(1, sizeof(*o)) : NULL;
	uint8_t *buf = NULL;
	if (o != NULL) {
		o->r = r;
		o->kind = req.body_case;
		snprintf(o->request_id, sizeof(o->request_id), "%s",
			 request_id);
		req.version = 1;
		size_t n = q53__api__request__get_packed_size(&req);
		buf = malloc(n ? n : 1);
		if (buf == NULL ||
		    (q53__api__request__pack(&req, buf),
		     api_server_submit(api, buf, n, on_reply, o) != 0)) {
			free(o);
			o = NULL;
			why = "out of memory; retry";
		}
	} else if (why == NULL) {
		why = "out of memory; retry";
	}
	if (o == NULL)
		rest_json_error(r, request_id,
				strstr(why, "memory") ? 503 : 400,
				strstr(why, "memory") ? "ServiceUnavailable"
						      : "InvalidInput",
				why);
	free(buf);
	rest_latency_set_free(rows);
}
