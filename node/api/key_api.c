#include "node/api/key_api.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "node/api/change_status.h"
#include "node/api/commit_reply.h"
#include "node/api/edge_state.h"
#include "node/api/write_router.h"
#include "node/common/errcode.h"
#include "node/common/ids.h"
#include "node/control/access_key_gen.h"
#include "node/control/control_fsm.h"
#include "node/control/iam_policy.h"
#include "proto/api.pb-c.h"

#define KEY_API_CHANGES_DEFAULT 100

static void done_create(struct proposal *s, int status,
			const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__CreateAccessKeyResponse cr =
	    Q53__API__CREATE_ACCESS_KEY_RESPONSE__INIT;
	Q53__Api__AccessKey k = Q53__API__ACCESS_KEY__INIT;
	struct control_fsm_access_key fk;
	struct command_result res_body;
	bool decoded;

	if (commit_reply_failure(s->call, status, res, &res_body, &decoded))
		goto out;
	/* Applied here just now: the FSM has it (s->zone_id: its id). */
	if (control_fsm_access_key_get(n->fsm, s->zone_id, &fk) != 0) {
		api_reply_error(s->call, API_ERR_INTERNAL, false,
				"access key %s created but not readable",
				s->zone_id);
		goto out;
	}
	k.id = (char *)fk.id;
	k.secret = (char *)fk.secret;
	k.description = (char *)fk.description;
	k.policy_document = (char *)fk.policy_document;
	k.created_at_ms = fk.created_ms;
	cr.key = &k;
	r.body_case = Q53__API__RESPONSE__BODY_CREATE_ACCESS_KEY;
	r.create_access_key = &cr;
	r.write_index = control_fsm_applied(n->fsm);
	api_reply(s->call, &r);
out:
	if (decoded)
		command_result_free(&res_body);
}

static void done_delete(struct proposal *s, int status,
			const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__DeleteAccessKeyResponse dr =
	    Q53__API__DELETE_ACCESS_KEY_RESPONSE__INIT;
	struct command_result res_body;
	bool decoded;

	if (!commit_reply_failure(s->call, status, res, &res_body, &decoded)) {
		r.body_case = Q53__API__RESPONSE__BODY_DELETE_ACCESS_KEY;
		r.delete_access_key = &dr;
		r.write_index = control_fsm_applied(n->fsm);
		api_reply(s->call, &r);
	}
	if (decoded)
		command_result_free(&res_body);
}

static void propose(struct api_edge *n, struct api_call *call,
		    struct command_payload *p, int rv, proposal_done done,
		    const char *key_id)
{
	struct proposal *s;

	if (rv != 0)
		command_payload_clear(p);
	else
		rv = cluster_propose(&n->ops, p, call, done, n, &s);
	if (rv == 0) {
		snprintf(s->zone_id, sizeof(s->zone_id), "%s", key_id);
		return;
	}
	if (rv == RAFT_NOTLEADER) {
		write_router_submit(n->router, call);
		return;
	}
	api_reply_error(call, API_ERR_UNAVAILABLE, true,
			"cannot propose the access key: %s",
			rv < 0 ? q53_strerror(rv) : raft_strerror(rv));
}

void key_api_execute(struct api_edge *n, struct api_call *call)
{
	const Q53__Api__Request *req = api_call_request(call);
	struct command_payload p = {0};
	uint64_t now = ids_wall_ms();
	int rv;

	if (req->body_case == Q53__API__REQUEST__BODY_DELETE_ACCESS_KEY) {
		struct command_delete_access_key cmd = {
		    .id = req->delete_access_key->id, .time_ms = now};

		if (strlen(cmd.id) > ACCESS_KEY_GEN_ID_LEN * 4) {
			api_reply_error(call, "NoSuchEntity", false,
					"The Access Key with id %.40s... "
					"cannot be found.",
					cmd.id);
			return;
		}
		rv = command_encode_delete_access_key(&cmd, &p);
		propose(n, call, &p, rv, done_delete, "");
		return;
	}
	const Q53__Api__CreateAccessKeyRequest *c = req->create_access_key;
	Q53__Command__AccessPolicy *policy;
	char err[1024], id[ACCESS_KEY_GEN_ID_LEN + 1],
	    secret[ACCESS_KEY_GEN_SECRET_LEN + 1];
	char *doc = malloc(c->policy_json.len + 1);

	if (doc == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		return;
	}
	memcpy(doc, c->policy_json.data, c->policy_json.len);
	doc[c->policy_json.len] = '\0';
	/* Parsed here, once: the log carries the typed policy. */
	rv = iam_policy_parse(doc, c->policy_json.len, &policy, err,
			      sizeof(err));
	if (rv != 0) {
		if (rv == Q53_EINVAL)
			api_reply_error_text(call, err);
		else
			api_reply_error(call, API_ERR_INTERNAL, false,
					"out of memory");
		free(doc);
		return;
	}
	if (access_key_gen(id, secret) != 0) {
		api_reply_error(call, API_ERR_UNAVAILABLE, true,
				"the random generator failed");
	} else {
		struct command_create_access_key cmd = {
		    .id = id,
		    .secret = secret,
		    .description = c->description,
		    .policy_document = doc,
		    .policy = policy,
		    .time_ms = now,
		};
		rv = command_encode_create_access_key(&cmd, &p);
		propose(n, call, &p, rv, done_create, id);
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	iam_policy_free(policy);
	free(doc);
}

static void be_write(void *data, struct api_call *call)
{
	struct api_edge *n = data;

	write_router_submit(n->router, call);
}

static void be_create(void *data, struct api_call *call,
		      const Q53__Api__CreateAccessKeyRequest *req)
{
	(void)req;
	be_write(data, call);
}

static void be_delete(void *data, struct api_call *call,
		      const Q53__Api__DeleteAccessKeyRequest *req)
{
	(void)req;
	be_write(data, call);
}

static void be_list_keys(void *data, struct api_call *call,
			 const Q53__Api__ListAccessKeysRequest *req)
{
	struct api_edge *n = data;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ListAccessKeysResponse lk =
	    Q53__API__LIST_ACCESS_KEYS_RESPONSE__INIT;
	size_t count = control_fsm_access_key_count(n->fsm);
	Q53__Api__AccessKey *items = calloc(count + 1, sizeof(*items));
	Q53__Api__AccessKey **ptrs = calloc(count + 1, sizeof(*ptrs));

	(void)req;
	if (items == NULL || ptrs == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		struct control_fsm_access_key fk;

		control_fsm_access_key_at(n->fsm, i, &fk);
		q53__api__access_key__init(&items[i]);
		items[i].id = (char *)fk.id;
		items[i].description = (char *)fk.description;
		items[i].policy_document = (char *)fk.policy_document;
		items[i].created_at_ms = fk.created_ms;
		ptrs[i] = &items[i];
	}
	lk.keys = ptrs;
	lk.n_keys = count;
	r.body_case = Q53__API__RESPONSE__BODY_LIST_ACCESS_KEYS;
	r.list_access_keys = &lk;
	api_reply(call, &r);
out:
	free(items);
	free(ptrs);
}

static int newest_first(const void *a, const void *b)
{
	const Q53__Api__ChangeInfo *x = *(Q53__Api__ChangeInfo *const *)a;
	const Q53__Api__ChangeInfo *y = *(Q53__Api__ChangeInfo *const *)b;

	return x->index < y->index ? 1 : x->index > y->index ? -1 : 0;
}

static void be_list_changes(void *data, struct api_call *call,
			    const Q53__Api__ListChangesRequest *req)
{
	struct api_edge *n = data;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ListChangesResponse lc =
	    Q53__API__LIST_CHANGES_RESPONSE__INIT;
	const char *zone = req != NULL ? req->zone : "";
	size_t max = req != NULL && req->max_items ? req->max_items
						   : KEY_API_CHANGES_DEFAULT;
	size_t count = control_fsm_change_count(n->fsm), k = 0;
	uint64_t insync = change_status_insync(n->changes);
	Q53__Api__ChangeInfo *items = calloc(count + 1, sizeof(*items));
	Q53__Api__ChangeInfo **ptrs = calloc(count + 1, sizeof(*ptrs));

	if (strncmp(zone, "/hostedzone/", 12) == 0)
		zone += 12;
	if (items == NULL || ptrs == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		struct control_fsm_change c;

		control_fsm_change_at(n->fsm, i, &c);
		if (zone[0] != '\0' && strcmp(zone, c.zone_id) != 0)
			continue;
		q53__api__change_info__init(&items[k]);
		items[k].id = (char *)c.id;
		items[k].zone_id = (char *)c.zone_id;
		items[k].comment = (char *)c.comment;
		items[k].access_key_id = (char *)c.access_key_id;
		items[k].submitted_at_ms = c.submitted_ms;
		items[k].index = c.index;
		items[k].status = c.index <= insync
				      ? Q53__API__CHANGE_STATUS__INSYNC
				      : Q53__API__CHANGE_STATUS__PENDING;
		ptrs[k] = &items[k];
		k++;
	}
	qsort(ptrs, k, sizeof(*ptrs), newest_first);
	lc.changes = ptrs;
	lc.n_changes = k < max ? k : max;
	r.body_case = Q53__API__RESPONSE__BODY_LIST_CHANGES;
	r.list_changes = &lc;
	api_reply(call, &r);
out:
	free(items);
	free(ptrs);
}

void key_api_backend(struct api_backend *b)
{
	b->create_access_key = be_create;
	b->delete_access_key = be_delete;
	b->list_access_keys = be_list_keys;
	b->list_changes = be_list_changes;
}
