#include "cluster/cli/cli_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "cluster/cli/cli_table.h"

static void when_text(uint64_t ms, char *out, size_t outlen)
{
	if (ms == 0)
		snprintf(out, outlen, "-");
	else
		api_msg_iso_time(ms, out, outlen);
}

static json_t *key_json(const Q53__Api__AccessKey *k, bool secret)
{
	char when[64];
	json_t *o = json_object();

	when_text(k->created_at_ms, when, sizeof(when));
	json_object_set_new(o, "AccessKeyId", json_string(k->id));
	if (secret)
		json_object_set_new(o, "SecretAccessKey",
				    json_string(k->secret));
	json_object_set_new(o, "Description", json_string(k->description));
	json_object_set_new(o, "CreateDate", json_string(when));
	json_t *doc = json_loads(k->policy_document, 0, NULL);
	json_object_set_new(o, "PolicyDocument",
			    doc != NULL ? doc
					: json_string(k->policy_document));
	return o;
}

static int key_create(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 key create --policy FILE|- [--description D]";
	const char *policy = NULL, *description = NULL, *pos[1];
	size_t npos;
	const struct cli_opt opts[] = {{"policy", &policy, NULL},
				       {"description", &description, NULL}};
	int rv = cli_parse_args(argc, argv, opts, 2, pos, 0, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (policy == NULL)
		return cli_usage_error("key create needs --policy FILE (an "
				       "IAM policy document); usage: %s",
				       usage);
	char *doc;
	size_t len;
	rv = cli_read_file(cli, policy, &doc, &len);
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__CreateAccessKeyRequest c =
	    Q53__API__CREATE_ACCESS_KEY_REQUEST__INIT;
	c.policy_json.data = (uint8_t *)doc;
	c.policy_json.len = len;
	c.description = (char *)(description != NULL ? description : "");
	req.body_case = Q53__API__REQUEST__BODY_CREATE_ACCESS_KEY;
	req.create_access_key = &c;
	Q53__Api__Response *r;
	rv =
	    cli_call(cli, &req, Q53__API__RESPONSE__BODY_CREATE_ACCESS_KEY, &r);
	free(doc);
	if (rv != CLI_EXIT_OK)
		return rv;
	const Q53__Api__AccessKey *k = r->create_access_key->key;
	if (k == NULL) {
		rv = cli_fail(cli, CLI_EXIT_API, "InternalError",
			      "the answer holds no key");
	} else if (cli->json) {
		rv = cli_print_json(
		    json_pack("{s:o}", "AccessKey", key_json(k, true)));
	} else {
		printf("AccessKeyId      %s\n"
		       "SecretAccessKey  %s\n"
		       "(the secret is shown this once: store it now, e.g. "
		       "`aws configure`)\n",
		       k->id, k->secret);
		rv = CLI_EXIT_OK;
	}
	cli_response_free(r);
	return rv;
}

static int key_list(struct cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	int rv =
	    cli_parse_args(argc, argv, NULL, 0, pos, 0, &npos, "q53 key list");
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__ListAccessKeysRequest l =
	    Q53__API__LIST_ACCESS_KEYS_REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_LIST_ACCESS_KEYS;
	req.list_access_keys = &l;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_LIST_ACCESS_KEYS, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	const Q53__Api__ListAccessKeysResponse *lk = r->list_access_keys;
	if (cli->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < lk->n_keys; i++)
			json_array_append_new(a, key_json(lk->keys[i], false));
		rv = cli_print_json(json_pack("{s:o}", "AccessKeys", a));
	} else {
		static const char *const headers[] = {"ACCESS KEY ID",
						      "CREATED", "DESCRIPTION"};
		struct cli_table t;
		cli_table_init(&t, 3, headers);
		for (size_t i = 0; i < lk->n_keys; i++) {
			char when[64];
			when_text(lk->keys[i]->created_at_ms, when,
				  sizeof(when));
			const char *row[3] = {lk->keys[i]->id, when,
					      lk->keys[i]->description};
			cli_table_add(&t, row);
		}
		rv = cli_table_print(&t, stdout) == 0 ? CLI_EXIT_OK
						      : CLI_EXIT_API;
		cli_table_free(&t);
	}
	cli_response_free(r);
	return rv;
}

static int key_delete(struct cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 1, &npos,
				"q53 key delete ID");
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("key delete needs an access key ID");
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__DeleteAccessKeyRequest d =
	    Q53__API__DELETE_ACCESS_KEY_REQUEST__INIT;
	d.id = (char *)pos[0];
	req.body_case = Q53__API__REQUEST__BODY_DELETE_ACCESS_KEY;
	req.delete_access_key = &d;
	Q53__Api__Response *r;
	rv =
	    cli_call(cli, &req, Q53__API__RESPONSE__BODY_DELETE_ACCESS_KEY, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (cli->json)
		rv = cli_print_json(json_pack("{s:s}", "Deleted", pos[0]));
	else
		printf("deleted %s\n", pos[0]);
	cli_response_free(r);
	return rv;
}

int cli_key_main(struct cli *cli, int argc, char **argv)
{
	if (argc < 1)
		return cli_usage_error("key needs create, list or delete");
	if (strcmp(argv[0], "create") == 0)
		return key_create(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return key_list(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "delete") == 0)
		return key_delete(cli, argc - 1, argv + 1);
	return cli_usage_error("unknown key command '%s'", argv[0]);
}
