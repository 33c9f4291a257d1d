#include "cluster/cli/cli_cidr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/api_msg.h"
#include "cluster/cli/cli_table.h"

#define CIDR_ARGS_MAX 1002 /* ID LOCATION and 1000 blocks */

static json_t *collection_json(const Q53__Api__CidrCollection *c)
{
	char arn[128];
	snprintf(arn, sizeof(arn), "arn:aws:route53:::cidrcollection/%s",
		 c->id);
	return json_pack("{s:s,s:s,s:s,s:I}", "Arn", arn, "Id", c->id, "Name",
			 c->name, "Version", (json_int_t)c->version);
}

static int cidr_create(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 cidr create NAME [--caller-reference R]";
	const char *ref = NULL, *pos[1];
	char dflt[64];
	size_t npos;
	const struct cli_opt opts[] = {{"caller-reference", &ref, NULL}};
	int rv = cli_parse_args(argc, argv, opts, 1, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("cidr create needs a NAME; usage: %s",
				       usage);
	if (ref == NULL) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(dflt, sizeof(dflt), "q53-%lld-%ld",
			 (long long)ts.tv_sec, ts.tv_nsec);
		ref = dflt;
	}
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__CreateCidrCollectionRequest c =
	    Q53__API__CREATE_CIDR_COLLECTION_REQUEST__INIT;
	c.name = (char *)pos[0];
	c.caller_reference = (char *)ref;
	req.body_case = Q53__API__REQUEST__BODY_CREATE_CIDR_COLLECTION;
	req.create_cidr_collection = &c;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req,
		      Q53__API__RESPONSE__BODY_CREATE_CIDR_COLLECTION, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	const Q53__Api__CidrCollection *col =
	    r->create_cidr_collection->collection;
	if (col == NULL)
		rv = cli_fail(cli, CLI_EXIT_API, "InternalError",
			      "the answer holds no collection");
	else if (cli->json)
		rv = cli_print_json(
		    json_pack("{s:o}", "Collection", collection_json(col)));
	else
		printf("%s  %s  version %llu\n", col->id, col->name,
		       (unsigned long long)col->version);
	cli_response_free(r);
	return rv;
}

/* Sends one ChangeCidrCollection of changes[0..n). */
static int send_change(struct cli *cli, const char *id, uint64_t version,
		       Q53__Api__CidrCollectionChange **changes, size_t n)
{
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__ChangeCidrCollectionRequest c =
	    Q53__API__CHANGE_CIDR_COLLECTION_REQUEST__INIT;
	c.id = (char *)id;
	c.collection_version = version;
	c.changes = changes;
	c.n_changes = n;
	req.body_case = Q53__API__REQUEST__BODY_CHANGE_CIDR_COLLECTION;
	req.change_cidr_collection = &c;
	Q53__Api__Response *r;
	int rv = cli_call(cli, &req,
			  Q53__API__RESPONSE__BODY_CHANGE_CIDR_COLLECTION, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	const Q53__Api__ChangeCidrCollectionResponse *a =
	    r->change_cidr_collection;
	if (cli->json)
		rv = cli_print_json(json_pack("{s:s,s:I}", "Id", a->change_id,
					      "CollectionVersion",
					      (json_int_t)a->version));
	else
		printf("%s  collection version %llu\n", a->change_id,
		       (unsigned long long)a->version);
	cli_response_free(r);
	return rv;
}

static int parse_version(const char *v, unsigned long long *out)
{
	*out = 0;
	if (v != NULL && (cli_parse_u64(v, out) != 0 || *out == 0))
		return cli_usage_error(
		    "--collection-version must be a positive number");
	return CLI_EXIT_OK;
}

/* put / delete-blocks ID LOCATION CIDR... */
static int cidr_blocks_change(struct cli *cli, int argc, char **argv,
			      const char *action, const char *usage)
{
	const char *version = NULL, *pos[CIDR_ARGS_MAX];
	size_t npos;
	unsigned long long v;
	const struct cli_opt opts[] = {{"collection-version", &version, NULL}};
	int rv = cli_parse_args(argc, argv, opts, 1, pos, CIDR_ARGS_MAX, &npos,
				usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos < 3)
		return cli_usage_error("usage: %s", usage);
	if ((rv = parse_version(version, &v)) != CLI_EXIT_OK)
		return rv;
	Q53__Api__CidrCollectionChange
	    ch = Q53__API__CIDR_COLLECTION_CHANGE__INIT,
	    *chp = &ch;
	ch.action = (char *)action;
	ch.location_name = (char *)pos[1];
	ch.cidr_list = (char **)&pos[2];
	ch.n_cidr_list = npos - 2;
	return send_change(cli, pos[0], v, &chp, 1);
}

/* change ID --changes FILE|-: the AWS CLI's JSON (a list of
 * {"LocationName", "Action", "CidrList"}). */
static int cidr_change(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 cidr change ID --changes FILE|- [--collection-version N]";
	const char *file = NULL, *version = NULL, *pos[1];
	size_t npos, len;
	unsigned long long v;
	char *text;
	const struct cli_opt opts[] = {{"changes", &file, NULL},
				       {"collection-version", &version, NULL}};
	int rv = cli_parse_args(argc, argv, opts, 2, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1 || file == NULL)
		return cli_usage_error("usage: %s", usage);
	if ((rv = parse_version(version, &v)) != CLI_EXIT_OK)
		return rv;
	if ((rv = cli_read_file(cli, file, &text, &len)) != CLI_EXIT_OK)
		return rv;
	json_error_t je;
	json_t *doc = json_loadb(text, len, 0, &je);
	free(text);
	if (doc == NULL)
		return cli_fail(cli, CLI_EXIT_USAGE, "InvalidInput",
				"%s: not JSON: %s", file, je.text);
	/* Also {"Changes": [...]}, the --cli-input-json form. */
	json_t *list =
	    json_is_object(doc) ? json_object_get(doc, "Changes") : doc;
	size_t n = json_is_array(list) ? json_array_size(list) : 0;
	if (n == 0) {
		json_decref(doc);
		return cli_fail(cli, CLI_EXIT_USAGE, "InvalidInput",
				"%s: a non-empty list of changes is needed",
				file);
	}
	Q53__Api__CidrCollectionChange *items = calloc(n, sizeof(*items));
	Q53__Api__CidrCollectionChange **ptrs = calloc(n, sizeof(*ptrs));
	char ***cidrs = calloc(n, sizeof(*cidrs));
	rv =
	    items != NULL && ptrs != NULL && cidrs != NULL
		? CLI_EXIT_OK
		: cli_fail(cli, CLI_EXIT_API, "InternalError", "out of memory");
	for (size_t i = 0; rv == CLI_EXIT_OK && i < n; i++) {
		json_t *c = json_array_get(list, i);
		json_t *loc = json_object_get(c, "LocationName");
		json_t *act = json_object_get(c, "Action");
		json_t *cl = json_object_get(c, "CidrList");
		if (!json_is_string(loc) || !json_is_string(act) ||
		    !json_is_array(cl)) {
			rv = cli_fail(cli, CLI_EXIT_USAGE, "InvalidInput",
				      "change %zu needs LocationName, Action "
				      "and CidrList",
				      i);
			break;
		}
		q53__api__cidr_collection_change__init(&items[i]);
		items[i].location_name = (char *)json_string_value(loc);
		items[i].action = (char *)json_string_value(act);
		size_t k = json_array_size(cl);
		cidrs[i] = calloc(k + 1, sizeof(char *));
		if (cidrs[i] == NULL) {
			rv = cli_fail(cli, CLI_EXIT_API, "InternalError",
				      "out of memory");
			break;
		}
		for (size_t j = 0; j < k; j++) {
			json_t *s = json_array_get(cl, j);
			cidrs[i][j] =
			    (char *)(json_is_string(s) ? json_string_value(s)
						       : "");
		}
		items[i].cidr_list = cidrs[i];
		items[i].n_cidr_list = k;
		ptrs[i] = &items[i];
	}
	if (rv == CLI_EXIT_OK)
		rv = send_change(cli, pos[0], v, ptrs, n);
	for (size_t i = 0; cidrs != NULL && i < n; i++)
		free(cidrs[i]);
	free(cidrs);
	free(items);
	free(ptrs);
	json_decref(doc);
	return rv;
}

static int cidr_delete(struct cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 1, &npos,
				"q53 cidr delete ID");
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("cidr delete needs a collection ID");
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__DeleteCidrCollectionRequest d =
	    Q53__API__DELETE_CIDR_COLLECTION_REQUEST__INIT;
	d.id = (char *)pos[0];
	req.body_case = Q53__API__REQUEST__BODY_DELETE_CIDR_COLLECTION;
	req.delete_cidr_collection = &d;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req,
		      Q53__API__RESPONSE__BODY_DELETE_CIDR_COLLECTION, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (cli->json)
		rv = cli_print_json(json_pack("{s:s}", "Deleted", pos[0]));
	else
		printf("deleted %s\n", pos[0]);
	cli_response_free(r);
	return rv;
}

/* The listings, every page. */
static int cidr_list(struct cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	int rv =
	    cli_parse_args(argc, argv, NULL, 0, pos, 0, &npos, "q53 cidr list");
	if (rv != CLI_EXIT_OK)
		return rv;
	json_t *all = json_array();
	char token[1100] = "";
	do {
		Q53__Api__Request req = Q53__API__REQUEST__INIT;
		Q53__Api__ListCidrCollectionsRequest l =
		    Q53__API__LIST_CIDR_COLLECTIONS_REQUEST__INIT;
		l.next_token = token;
		req.body_case = Q53__API__REQUEST__BODY_LIST_CIDR_COLLECTIONS;
		req.list_cidr_collections = &l;
		Q53__Api__Response *r;
		rv = cli_call(cli, &req,
			      Q53__API__RESPONSE__BODY_LIST_CIDR_COLLECTIONS,
			      &r);
		if (rv != CLI_EXIT_OK)
			break;
		const Q53__Api__ListCidrCollectionsResponse *lr =
		    r->list_cidr_collections;
		for (size_t i = 0; i < lr->n_collections; i++)
			json_array_append_new(
			    all, collection_json(lr->collections[i]));
		snprintf(token, sizeof(token), "%s", lr->next_token);
		cli_response_free(r);
	} while (token[0] != '\0');
	if (rv != CLI_EXIT_OK) {
		json_decref(all);
		return rv;
	}
	if (cli->json)
		return cli_print_json(
		    json_pack("{s:o}", "CidrCollections", all));
	static const char *const headers[] = {"ID", "NAME", "VERSION"};
	struct cli_table t;
	cli_table_init(&t, 3, headers);
	for (size_t i = 0; i < json_array_size(all); i++) {
		json_t *c = json_array_get(all, i);
		char ver[32];
		snprintf(ver, sizeof(ver), "%lld",
			 (long long)json_integer_value(
			     json_object_get(c, "Version")));
		const char *row[3] = {
		    json_string_value(json_object_get(c, "Id")),
		    json_string_value(json_object_get(c, "Name")), ver};
		cli_table_add(&t, row);
	}
	rv = cli_table_print(&t, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_API;
	cli_table_free(&t);
	json_decref(all);
	return rv;
}

static int cidr_locations(struct cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 1, &npos,
				"q53 cidr locations ID");
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("cidr locations needs a collection ID");
	json_t *all = json_array();
	char token[1100] = "";
	do {
		Q53__Api__Request req = Q53__API__REQUEST__INIT;
		Q53__Api__ListCidrLocationsRequest l =
		    Q53__API__LIST_CIDR_LOCATIONS_REQUEST__INIT;
		l.collection_id = (char *)pos[0];
		l.next_token = token;
		req.body_case = Q53__API__REQUEST__BODY_LIST_CIDR_LOCATIONS;
		req.list_cidr_locations = &l;
		Q53__Api__Response *r;
		rv = cli_call(cli, &req,
			      Q53__API__RESPONSE__BODY_LIST_CIDR_LOCATIONS, &r);
		if (rv != CLI_EXIT_OK)
			break;
		const Q53__Api__ListCidrLocationsResponse *lr =
		    r->list_cidr_locations;
		for (size_t i = 0; i < lr->n_locations; i++)
			json_array_append_new(all,
					      json_pack("{s:s}", "LocationName",
							lr->locations[i]));
		snprintf(token, sizeof(token), "%s", lr->next_token);
		cli_response_free(r);
	} while (token[0] != '\0');
	if (rv != CLI_EXIT_OK) {
		json_decref(all);
		return rv;
	}
	if (cli->json)
		return cli_print_json(json_pack("{s:o}", "CidrLocations", all));
	for (size_t i = 0; i < json_array_size(all); i++)
		printf("%s\n", json_string_value(json_object_get(
				   json_array_get(all, i), "LocationName")));
	json_decref(all);
	return CLI_EXIT_OK;
}

static int cidr_blocks(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "q53 cidr blocks ID [--location L]";
	const char *loc = NULL, *pos[1];
	size_t npos;
	const struct cli_opt opts[] = {{"location", &loc, NULL}};
	int rv = cli_parse_args(argc, argv, opts, 1, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("usage: %s", usage);
	json_t *all = json_array();
	char token[1100] = "";
	do {
		Q53__Api__Request req = Q53__API__REQUEST__INIT;
		Q53__Api__ListCidrBlocksRequest l =
		    Q53__API__LIST_CIDR_BLOCKS_REQUEST__INIT;
		l.collection_id = (char *)pos[0];
		l.location_name = (char *)(loc != NULL ? loc : "");
		l.next_token = token;
		req.body_case = Q53__API__REQUEST__BODY_LIST_CIDR_BLOCKS;
		req.list_cidr_blocks = &l;
		Q53__Api__Response *r;
		rv = cli_call(cli, &req,
			      Q53__API__RESPONSE__BODY_LIST_CIDR_BLOCKS, &r);
		if (rv != CLI_EXIT_OK)
			break;
		const Q53__Api__ListCidrBlocksResponse *lr =
		    r->list_cidr_blocks;
		for (size_t i = 0; i < lr->n_blocks; i++)
			json_array_append_new(
			    all,
			    json_pack("{s:s,s:s}", "CidrBlock",
				      lr->blocks[i]->cidr_block, "LocationName",
				      lr->blocks[i]->location_name));
		snprintf(token, sizeof(token), "%s", lr->next_token);
		cli_response_free(r);
	} while (token[0] != '\0');
	if (rv != CLI_EXIT_OK) {
		json_decref(all);
		return rv;
	}
	if (cli->json)
		return cli_print_json(json_pack("{s:o}", "CidrBlocks", all));
	static const char *const headers[] = {"LOCATION", "CIDR BLOCK"};
	struct cli_table t;
	cli_table_init(&t, 2, headers);
	for (size_t i = 0; i < json_array_size(all); i++) {
		json_t *b = json_array_get(all, i);
		const char *row[2] = {
		    json_string_value(json_object_get(b, "LocationName")),
		    json_string_value(json_object_get(b, "CidrBlock"))};
		cli_table_add(&t, row);
	}
	rv = cli_table_print(&t, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_API;
	cli_table_free(&t);
	json_decref(all);
	return rv;
}

int cli_cidr_main(struct cli *cli, int argc, char **argv)
{
	if (argc < 1)
		return cli_usage_error("cidr needs create, change, put, "
				       "delete-blocks, delete, list, locations "
				       "or blocks");
	const char *c = argv[0];
	if (strcmp(c, "create") == 0)
		return cidr_create(cli, argc - 1, argv + 1);
	if (strcmp(c, "change") == 0)
		return cidr_change(cli, argc - 1, argv + 1);
	if (strcmp(c, "put") == 0)
		return cidr_blocks_change(cli, argc - 1, argv + 1, "PUT",
					  "q53 cidr put ID LOCATION CIDR... "
					  "[--collection-version N]");
	if (strcmp(c, "delete-blocks") == 0)
		return cidr_blocks_change(
		    cli, argc - 1, argv + 1, "DELETE_IF_EXISTS",
		    "q53 cidr delete-blocks ID LOCATION CIDR... "
		    "[--collection-version N]");
	if (strcmp(c, "delete") == 0)
		return cidr_delete(cli, argc - 1, argv + 1);
	if (strcmp(c, "list") == 0)
		return cidr_list(cli, argc - 1, argv + 1);
	if (strcmp(c, "locations") == 0)
		return cidr_locations(cli, argc - 1, argv + 1);
	if (strcmp(c, "blocks") == 0)
		return cidr_blocks(cli, argc - 1, argv + 1);
	return cli_usage_error("unknown cidr command '%s'", c);
}
