/* JSON answers of the admin REST resources (rest_json.h). */
#include "node/api/route53/rest_json.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "node/api/http_server.h"

void rest_json_send(struct http_request *r, unsigned status, json_t *body,
		    const char *request_id)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	const char *headers[] = {"x-amzn-RequestId", request_id, NULL};

	if (body != NULL && text == NULL)
		http_respond(r, 500, "text/plain", "out of memory\n", 14, NULL);
	else
		http_respond(r, status, "application/json",
			     text != NULL ? text : "",
			     text != NULL ? strlen(text) : 0, headers);
	free(text);
	json_decref(body);
}

void rest_json_error(struct http_request *r, const char *request_id,
		     unsigned status, const char *code, const char *message)
{
	rest_json_send(r, status,
		       json_pack("{s:{s:s,s:s},s:s}", "Error", "Code", code,
				 "Message", message, "RequestId", request_id),
		       request_id);
}

unsigned rest_json_status(const char *code, const char *not_found)
{
	if (strcmp(code, not_found) == 0)
		return 404;
	if (strcmp(code, API_ERR_UNAVAILABLE) == 0 ||
	    strcmp(code, API_ERR_NOT_LEADER) == 0)
		return 503;
	if (strcmp(code, API_ERR_INTERNAL) == 0)
		return 500;
	return 400;
}
