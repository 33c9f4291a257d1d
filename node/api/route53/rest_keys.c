#include "node/api/route53/rest_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster/api_msg.h"
#include "node/api/api.h"
#include "node/api/http_server.h"
#include "node/api/route53/rest_json.h"
#include "proto/api.pb-c.h"

#define ID_MAX 128

struct key_op {
	struct http_request *r;
	char request_id[40];
	Q53__Api__Request__BodyCase kind;
};

static json_t *key_json(const Q53__Api__AccessKey *k)
{
	char when[64] = "";
	json_t *o = json_object();

	if (k->created_at_ms != 0)
		api_msg_iso_time(k->created_at_ms, when, sizeof(when));
	json_object_set_new(o, "AccessKeyId", json_string(k->id));
	if (k->secret[0] != '\0')
		json_object_set_new(o, "SecretAccessKey",
				    json_string(k->secret));
	json_object_set_new(o, "Description", json_string(k->description));
	json_object_set_new(o, "CreateDate", json_string(when));
	json_object_set_new(o, "PolicyDocument",
			    json_string(k->policy_document));
	return o;
}

static void on_reply(void *ctx, const uint8_t *buf, size_t len)
{
	struct key_op *o = ctx;
	Q53__Api__Response *resp =
	    buf != NULL ? q53__api__response__unpack(NULL, len, buf) : NULL;

	if (resp == NULL) {
		rest_json_error(o->r, o->request_id, 503, "ServiceUnavailable",
				"the node could not answer; retry");
	} else if (resp->error != NULL && resp->error[0] != '\0') {
		rest_json_error(o->r, o->request_id,
				rest_json_status(resp->error, "NoSuchEntity"),
				resp->error, resp->message);
	} else if (!api_msg_response_matches(o->kind, resp)) {
		rest_json_error(o->r, o->request_id, 500, "InternalFailure",
				"the node answered another operation");
	} else if (o->kind == Q53__API__REQUEST__BODY_CREATE_ACCESS_KEY &&
		   resp->create_access_key->key != NULL) {
		rest_json_send(
		    o->r, 201,
		    json_pack("{s:o}", "AccessKey",
			      key_json(resp->create_access_key->key)),
		    o->request_id);
	} else if (o->kind == Q53__API__REQUEST__BODY_LIST_ACCESS_KEYS) {
		json_t *a = json_array();
		const Q53__Api__ListAccessKeysResponse *l =
		    resp->list_access_keys;
		for (size_t i = 0; i < l->n_keys; i++)
			json_array_append_new(a, key_json(l->keys[i]));
		rest_json_send(o->r, 200, json_pack("{s:o}", "AccessKeys", a),
			       o->request_id);
	} else {
		rest_json_send(o->r, 204, NULL, o->request_id);
	}
	if (resp != NULL)
		q53__api__response__free_unpacked(resp, NULL);
	free(o);
}

bool rest_keys_match(const char *path)
{
	size_t n = strlen(REST_KEYS_PATH);

	return strncmp(path, REST_KEYS_PATH, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

int rest_keys_parse_create(const uint8_t *body, size_t len, char **policy,
			   const char **description, json_t **root,
			   const char **why)
{
	json_t *doc;

	*policy = NULL;
	*root = json_loadb((const char *)body, len, 0, NULL);
	doc = json_object_get(*root, "PolicyDocument");
	*description = json_string_value(json_object_get(*root, "Description"));
	if (*description == NULL)
		*description = "";
	if (json_is_string(doc))
		*policy = strdup(json_string_value(doc));
	else if (json_is_object(doc))
		*policy = json_dumps(doc, JSON_COMPACT);
	else {
		*why = "the body must be a JSON object with a PolicyDocument";
		return -1;
	}
	if (*policy == NULL) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

void rest_keys_handle(struct api_server *api, struct http_request *r,
		      const char *request_id)
{
	const char *m = http_request_method(r);
	const char *path = http_request_path(r) + strlen(REST_KEYS_PATH);
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__CreateAccessKeyRequest c =
	    Q53__API__CREATE_ACCESS_KEY_REQUEST__INIT;
	Q53__Api__ListAccessKeysRequest l =
	    Q53__API__LIST_ACCESS_KEYS_REQUEST__INIT;
	Q53__Api__DeleteAccessKeyRequest d =
	    Q53__API__DELETE_ACCESS_KEY_REQUEST__INIT;
	char id[ID_MAX + 1], *policy = NULL;
	json_t *root = NULL;
	const char *why = NULL;

	if (*path == '/')
		path++;
	if (strcmp(m, "POST") == 0 && *path == '\0') {
		const char *description;
		size_t len;
		const uint8_t *body = http_request_body(r, &len);
		if (rest_keys_parse_create(body, len, &policy, &description,
					   &root, &why) == 0) {
			c.policy_json.data = (uint8_t *)policy;
			c.policy_json.len = strlen(policy);
			c.description = (char *)description;
			req.body_case =
			    Q53__API__REQUEST__BODY_CREATE_ACCESS_KEY;
			req.create_access_key = &c;
		}
	} else if (strcmp(m, "GET") == 0 && *path == '\0') {
		req.body_case = Q53__API__REQUEST__BODY_LIST_ACCESS_KEYS;
		req.list_access_keys = &l;
	} else if (strcmp(m, "DELETE") == 0 && *path != '\0' &&
		   strlen(path) <= ID_MAX && strchr(path, '/') == NULL) {
		snprintf(id, sizeof(id), "%s", path);
		d.id = id;
		req.body_case = Q53__API__REQUEST__BODY_DELETE_ACCESS_KEY;
		req.delete_access_key = &d;
	} else {
		why = "use POST or GET " REST_KEYS_PATH
		      ", DELETE " REST_KEYS_PATH "/ID";
	}
	struct key_op *o = why == NULL ? calloc(1, sizeof(*o)) : NULL;
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
	free(policy);
	json_decref(root);
}
