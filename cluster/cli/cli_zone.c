#include "cluster/cli/cli_zone.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "cluster/api_msg.h"
#include "cluster/cli/cli_table.h"
#include "cluster/cli/cli_xfr.h"

/* Pages followed by one list command, and get-change --wait's pauses. */
#define MAX_PAGES	       100000
#define WAIT_PAUSE_MS	       100
#define WAIT_PAUSE_MAX_MS      1000
#define DEFAULT_WAIT_TIMEOUT_S 120.0

/* --- rendering ---------------------------------------------------------- */

static const char *status_name(Q53__Api__ChangeStatus s)
{
	switch (s) {
	case Q53__API__CHANGE_STATUS__PENDING:
		return "PENDING";
	case Q53__API__CHANGE_STATUS__INSYNC:
		return "INSYNC";
	default:
		return "UNKNOWN";
	}
}

/* ISO 8601 UTC with milliseconds, as the AWS CLI prints SubmittedAt. */
static void time_text(uint64_t ms, char *out, size_t outlen)
{
	if (ms == 0) {
		snprintf(out, outlen, "-");
		return;
	}
	api_msg_iso_time(ms, out, outlen);
}

static json_t *zone_json(const Q53__Api__HostedZone *z)
{
	json_t *o = json_object();
	json_object_set_new(o, "Id", json_string(z->id));
	json_object_set_new(o, "Name", json_string(z->name));
	json_object_set_new(o, "CallerReference",
			    json_string(z->caller_reference));
	json_object_set_new(o, "Config",
			    json_pack("{s:s}", "Comment", z->comment));
	json_object_set_new(o, "ResourceRecordSetCount",
			    json_integer((json_int_t)z->record_set_count));
	json_object_set_new(o, "Serial", json_integer(z->serial));
	return o;
}

static json_t *change_json(const Q53__Api__ChangeInfo *c)
{
	char when[64];
	time_text(c->submitted_at_ms, when, sizeof(when));
	json_t *o = json_object();
	json_object_set_new(o, "Id", json_string(c->id));
	json_object_set_new(o, "Status", json_string(status_name(c->status)));
	json_object_set_new(o, "SubmittedAt",
			    c->submitted_at_ms ? json_string(when)
					       : json_null());
	json_object_set_new(o, "Comment", json_string(c->comment));
	json_object_set_new(o, "AccessKeyId", json_string(c->access_key_id));
	return o;
}

static json_t *strings_json(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static void kv(struct cli_table *t, const char *k, const char *v)
{
	const char *row[2] = {k, v};
	cli_table_add(t, row);
}

static void kv_zone(struct cli_table *t, const Q53__Api__HostedZone *z)
{
	char n[32];
	kv(t, "Id", z->id);
	kv(t, "Name", z->name);
	if (z->caller_reference[0])
		kv(t, "CallerReference", z->caller_reference);
	if (z->comment[0])
		kv(t, "Comment", z->comment);
	snprintf(n, sizeof(n), "%llu", (unsigned long long)z->record_set_count);
	kv(t, "RecordSets", n);
	snprintf(n, sizeof(n), "%u", (unsigned)z->serial);
	kv(t, "Serial", n);
}

static void kv_change(struct cli_table *t, const Q53__Api__ChangeInfo *c)
{
	char when[64];
	time_text(c->submitted_at_ms, when, sizeof(when));
	kv(t, "Change", c->id);
	kv(t, "Status", status_name(c->status));
	kv(t, "SubmittedAt", when);
	if (c->access_key_id[0])
		kv(t, "AccessKeyId", c->access_key_id);
}

static void kv_nameservers(struct cli_table *t, char **ns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kv(t, i == 0 ? "NameServers" : "", ns[i]);
}

static int print_kv(struct cli_table *t)
{
	int rv = cli_table_print(t, stdout);
	cli_table_free(t);
	if (rv != 0) {
		fputs("q53: out of memory printing the answer\n", stderr);
		return CLI_EXIT_API;
	}
	return CLI_EXIT_OK;
}

/* Prints a ChangeInfo answer (delete, import, change-batch). */
static int print_change(const struct cli *cli, const char *verb,
			const Q53__Api__ChangeInfo *c)
{
	if (c == NULL)
		return cli_fail(cli, CLI_EXIT_API, "InternalError",
				"the answer holds no change");
	if (cli->json)
		return cli_print_json(
		    json_pack("{s:o}", "ChangeInfo", change_json(c)));
	struct cli_table t;
	cli_table_init(&t, 2, NULL);
	kv(&t, "Result", verb);
	kv_change(&t, c);
	return print_kv(&t);
}

/* --- zone ---------------------------------------------------------------- */

static int zone_create(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 zone create NAME [--caller-reference R] [--comment C]";
	const char *ref = NULL, *comment = NULL, *pos[1];
	size_t npos;
	const struct cli_opt opts[] = {
	    {"caller-reference", &ref, NULL},
	    {"comment", &comment, NULL},
	};
	int rv = cli_parse_args(argc, argv, opts, 2, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("zone create needs a NAME (usage: %s)",
				       usage);

	Q53__Api__CreateZoneRequest cz = Q53__API__CREATE_ZONE_REQUEST__INIT;
	cz.name = (char *)pos[0];
	if (ref != NULL)
		cz.caller_reference = (char *)ref;
	if (comment != NULL)
		cz.comment = (char *)comment;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_CREATE_ZONE;
	req.create_zone = &cz;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_CREATE_ZONE,
			   &r)) != CLI_EXIT_OK)
		return rv;
	Q53__Api__CreateZoneResponse *c = r->create_zone;
	if (c->zone == NULL || c->change == NULL) {
		cli_response_free(r);
		return cli_fail(cli, CLI_EXIT_API, "InternalError",
				"incomplete answer");
	}
	if (cli->json) {
		rv = cli_print_json(json_pack(
		    "{s:o,s:o,s:{s:o}}", "HostedZone", zone_json(c->zone),
		    "ChangeInfo", change_json(c->change), "DelegationSet",
		    "NameServers",
		    strings_json(c->nameservers, c->n_nameservers)));
	} else {
		struct cli_table t;
		cli_table_init(&t, 2, NULL);
		kv_zone(&t, c->zone);
		kv_change(&t, c->change);
		kv_nameservers(&t, c->nameservers, c->n_nameservers);
		rv = print_kv(&t);
	}
	cli_response_free(r);
	return rv;
}

static int zone_list(struct cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	int rv =
	    cli_parse_args(argc, argv, NULL, 0, pos, 0, &npos, "q53 zone list");
	if (rv != CLI_EXIT_OK)
		return rv;

	static const char *const headers[] = {"ID", "NAME", "RECORDS",
					      "COMMENT"};
	struct cli_table t;
	cli_table_init(&t, 4, headers);
	json_t *zones = json_array();
	char marker[1100] = "";
	for (unsigned page = 0; page < MAX_PAGES; page++) {
		Q53__Api__ListZonesRequest lz =
		    Q53__API__LIST_ZONES_REQUEST__INIT;
		lz.marker = marker;
		Q53__Api__Request req = Q53__API__REQUEST__INIT;
		req.body_case = Q53__API__REQUEST__BODY_LIST_ZONES;
		req.list_zones = &lz;
		Q53__Api__Response *r;
		if ((rv = cli_call(cli, &req,
				   Q53__API__RESPONSE__BODY_LIST_ZONES, &r)) !=
		    CLI_EXIT_OK)
			goto out;
		Q53__Api__ListZonesResponse *l = r->list_zones;
		for (size_t i = 0; i < l->n_zones; i++) {
			Q53__Api__HostedZone *z = l->zones[i];
			char n[32];
			snprintf(n, sizeof(n), "%llu",
				 (unsigned long long)z->record_set_count);
			const char *row[4] = {z->id, z->name, n, z->comment};
			cli_table_add(&t, row);
			json_array_append_new(zones, zone_json(z));
		}
		bool more = l->next_marker[0] != '\0' &&
			    strcmp(l->next_marker, marker) != 0;
		snprintf(marker, sizeof(marker), "%s", l->next_marker);
		cli_response_free(r);
		if (!more)
			break;
	}
	if (cli->json) {
		rv = cli_print_json(json_pack("{s:O}", "HostedZones", zones));
	} else {
		rv = print_kv(&t);
		goto out_json;
	}
out:
	cli_table_free(&t);
out_json:
	json_decref(zones);
	return rv;
}

static int zone_ref_only(int argc, char **argv, const char *usage,
			 const char **ref)
{
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("missing ID|NAME (usage: %s)", usage);
	*ref = pos[0];
	return CLI_EXIT_OK;
}

static int zone_get(struct cli *cli, int argc, char **argv)
{
	const char *ref = NULL;
	int rv = zone_ref_only(argc, argv, "q53 zone get ID|NAME", &ref);
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__GetZoneRequest gz = Q53__API__GET_ZONE_REQUEST__INIT;
	gz.zone = (char *)ref;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_GET_ZONE;
	req.get_zone = &gz;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_GET_ZONE, &r)) !=
	    CLI_EXIT_OK)
		return rv;
	Q53__Api__GetZoneResponse *g = r->get_zone;
	if (g->zone == NULL) {
		cli_response_free(r);
		return cli_fail(cli, CLI_EXIT_API, "InternalError",
				"incomplete answer");
	}
	if (cli->json) {
		rv = cli_print_json(
		    json_pack("{s:o,s:{s:o}}", "HostedZone", zone_json(g->zone),
			      "DelegationSet", "NameServers",
			      strings_json(g->nameservers, g->n_nameservers)));
	} else {
		struct cli_table t;
		cli_table_init(&t, 2, NULL);
		kv_zone(&t, g->zone);
		kv_nameservers(&t, g->nameservers, g->n_nameservers);
		rv = print_kv(&t);
	}
	cli_response_free(r);
	return rv;
}

/* UpdateHostedZoneComment: TEXT, or none to remove the comment. */
static int zone_comment(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "q53 zone comment ID|NAME [TEXT]";
	const char *pos[2];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 2, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos < 1)
		return cli_usage_error("zone comment needs ID|NAME (usage: %s)",
				       usage);
	Q53__Api__UpdateZoneCommentRequest uc =
	    Q53__API__UPDATE_ZONE_COMMENT_REQUEST__INIT;
	uc.zone = (char *)pos[0];
	if (npos == 2)
		uc.comment = (char *)pos[1];
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_UPDATE_ZONE_COMMENT;
	req.update_zone_comment = &uc;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req,
			   Q53__API__RESPONSE__BODY_UPDATE_ZONE_COMMENT, &r)) !=
	    CLI_EXIT_OK)
		return rv;
	const Q53__Api__HostedZone *z = r->update_zone_comment->zone;
	if (z == NULL) {
		cli_response_free(r);
		return cli_fail(cli, CLI_EXIT_API, "InternalError",
				"incomplete answer");
	}
	if (cli->json) {
		rv = cli_print_json(
		    json_pack("{s:o}", "HostedZone", zone_json(z)));
	} else {
		struct cli_table t;
		cli_table_init(&t, 2, NULL);
		kv_zone(&t, z);
		rv = print_kv(&t);
	}
	cli_response_free(r);
	return rv;
}

/* GetHostedZoneLimit (MAX_RRSETS_BY_ZONE), or with N its increase (0: no
 * limit). */
static int zone_limit(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "q53 zone limit ID|NAME [N]";
	const char *pos[2];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 2, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos < 1)
		return cli_usage_error("zone limit needs ID|NAME (usage: %s)",
				       usage);
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__GetZoneLimitRequest gl =
	    Q53__API__GET_ZONE_LIMIT_REQUEST__INIT;
	Q53__Api__SetZoneLimitRequest sl =
	    Q53__API__SET_ZONE_LIMIT_REQUEST__INIT;
	Q53__Api__Response__BodyCase want;
	if (npos == 2) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(pos[1], &end, 10);
		if (pos[1][0] < '0' || pos[1][0] > '9' || *end != '\0' ||
		    errno != 0)
			return cli_usage_error("zone limit: '%s' is not a "
					       "whole number (usage: %s)",
					       pos[1], usage);
		sl.zone = (char *)pos[0];
		sl.type = "MAX_RRSETS_BY_ZONE";
		sl.value = v;
		req.body_case = Q53__API__REQUEST__BODY_SET_ZONE_LIMIT;
		req.set_zone_limit = &sl;
		want = Q53__API__RESPONSE__BODY_SET_ZONE_LIMIT;
	} else {
		gl.zone = (char *)pos[0];
		gl.type = "MAX_RRSETS_BY_ZONE";
		req.body_case = Q53__API__REQUEST__BODY_GET_ZONE_LIMIT;
		req.get_zone_limit = &gl;
		want = Q53__API__RESPONSE__BODY_GET_ZONE_LIMIT;
	}
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req, want, &r)) != CLI_EXIT_OK)
		return rv;
	const Q53__Api__ZoneLimitResponse *l =
	    npos == 2 ? r->set_zone_limit : r->get_zone_limit;
	if (l == NULL) {
		cli_response_free(r);
		return cli_fail(cli, CLI_EXIT_API, "InternalError",
				"incomplete answer");
	}
	char value[32], count[32];
	snprintf(value, sizeof(value), "%llu", (unsigned long long)l->value);
	snprintf(count, sizeof(count), "%llu", (unsigned long long)l->count);
	if (cli->json) {
		/* Route 53's GetHostedZoneLimit shape. */
		rv = cli_print_json(json_pack(
		    "{s:{s:s,s:I},s:I}", "Limit", "Type", l->type, "Value",
		    (json_int_t)l->value, "Count", (json_int_t)l->count));
	} else {
		struct cli_table t;
		cli_table_init(&t, 2, NULL);
		kv(&t, "Type", l->type);
		kv(&t, "Value", l->value != 0 ? value : "none");
		kv(&t, "Count", count);
		rv = print_kv(&t);
	}
	cli_response_free(r);
	return rv;
}

static int zone_delete(struct cli *cli, int argc, char **argv)
{
	const char *ref = NULL;
	int rv = zone_ref_only(argc, argv, "q53 zone delete ID|NAME", &ref);
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__DeleteZoneRequest dz = Q53__API__DELETE_ZONE_REQUEST__INIT;
	dz.zone = (char *)ref;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_DELETE_ZONE;
	req.delete_zone = &dz;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_DELETE_ZONE,
			   &r)) != CLI_EXIT_OK)
		return rv;
	rv = print_change(cli, "deleted", r->delete_zone->change);
	cli_response_free(r);
	return rv;
}

/* The zone's name ("example.com.") of ref, for an AXFR request. */
static int zone_name_of(struct cli *cli, const char *ref, char *name,
			size_t len)
{
	Q53__Api__GetZoneRequest gz = Q53__API__GET_ZONE_REQUEST__INIT;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__Response *r;
	int rv;

	gz.zone = (char *)ref;
	req.body_case = Q53__API__REQUEST__BODY_GET_ZONE;
	req.get_zone = &gz;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_GET_ZONE, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (r->get_zone->zone == NULL || r->get_zone->zone->name == NULL) {
		cli_response_free(r);
		return cli_fail(cli, CLI_EXIT_API, "InternalError",
				"incomplete answer");
	}
	snprintf(name, len, "%s", r->get_zone->zone->name);
	cli_response_free(r);
	return CLI_EXIT_OK;
}

static int zone_import(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 zone import ID|NAME FILE|- | ID|NAME --axfr HOST:PORT "
	    "[--tsig NAME:ALG:SECRET]";
	const char *axfr = NULL, *tsig = NULL;
	const struct cli_opt opts[] = {
	    {"axfr", &axfr, NULL},
	    {"tsig", &tsig, NULL},
	};
	const char *pos[2];
	size_t npos;
	int rv = cli_parse_args(argc, argv, opts, 2, pos, 2, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (axfr == NULL && npos != 2)
		return cli_usage_error("zone import needs ID|NAME and FILE "
				       "(usage: %s)",
				       usage);
	if (axfr != NULL && npos != 1)
		return cli_usage_error("zone import --axfr takes ID|NAME only "
				       "(usage: %s)",
				       usage);
	if (tsig != NULL && axfr == NULL)
		return cli_usage_error("--tsig goes with --axfr");
	char *text;
	size_t len;
	if (axfr != NULL) {
		char name[256];
		if ((rv = zone_name_of(cli, pos[0], name, sizeof(name))) !=
		    CLI_EXIT_OK)
			return rv;
		/* The whole zone, checked, then one import: one change. */
		if ((rv = cli_axfr_pull(cli, name, axfr, tsig, &text, &len)) !=
		    CLI_EXIT_OK)
			return rv;
	} else if ((rv = cli_read_file(cli, pos[1], &text, &len)) !=
		   CLI_EXIT_OK)
		return rv;
	Q53__Api__ImportZoneRequest iz = Q53__API__IMPORT_ZONE_REQUEST__INIT;
	iz.zone = (char *)pos[0];
	iz.zone_file.data = (uint8_t *)text;
	iz.zone_file.len = len;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_IMPORT_ZONE;
	req.import_zone = &iz;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_IMPORT_ZONE, &r);
	free(text);
	if (rv != CLI_EXIT_OK)
		return rv;
	rv = print_change(cli, "imported", r->import_zone->change);
	cli_response_free(r);
	return rv;
}

static int zone_export(struct cli *cli, int argc, char **argv)
{
	const char *ref = NULL;
	int rv = zone_ref_only(argc, argv, "q53 zone export ID|NAME", &ref);
	if (rv != CLI_EXIT_OK)
		return rv;
	Q53__Api__ExportZoneRequest ez = Q53__API__EXPORT_ZONE_REQUEST__INIT;
	ez.zone = (char *)ref;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_EXPORT_ZONE;
	req.export_zone = &ez;
	Q53__Api__Response *r;
	if ((rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_EXPORT_ZONE,
			   &r)) != CLI_EXIT_OK)
		return rv;
	ProtobufCBinaryData *z = &r->export_zone->zone_file;
	if (cli->json) {
		rv = cli_print_json(json_pack(
		    "{s:s,s:s%}", "HostedZone", ref, "ZoneFile",
		    z->data != NULL ? (const char *)z->data : "", z->len));
	} else if (z->len > 0 && fwrite(z->data, 1, z->len, stdout) != z->len) {
		rv = cli_fail(cli, CLI_EXIT_API, NULL,
			      "cannot write the zone file to stdout");
	}
	cli_response_free(r);
	return rv;
}

int cli_zone_main(struct cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct cli *, int, char **);
	} subs[] = {
	    {"create", zone_create},   {"list", zone_list},
	    {"get", zone_get},	       {"delete", zone_delete},
	    {"import", zone_import},   {"export", zone_export},
	    {"comment", zone_comment}, {"transfer", cli_zone_transfer},
	    {"limit", zone_limit},
	};
	if (argc < 1)
		return cli_usage_error("zone needs a sub-command: create, "
				       "list, get, delete, import, export, "
				       "comment, transfer, limit");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[0], subs[i].name) == 0)
			return subs[i].fn(cli, argc - 1, argv + 1);
	return cli_usage_error("unknown zone sub-command '%s' (create, list, "
			       "get, delete, import, export, comment, "
			       "transfer, limit)",
			       argv[0]);
}

/* --- change-batch, get-change ------------------------------------------- */

int cli_zone_change_batch(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "q53 change-batch ID|NAME FILE|-";
	const char *pos[2];
	size_t npos;
	int rv = cli_parse_args(argc, argv, NULL, 0, pos, 2, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 2)
		return cli_usage_error("change-batch needs ID|NAME and FILE "
				       "(usage: %s)",
				       usage);
	char *json;
	size_t len;
	if ((rv = cli_read_file(cli, pos[1], &json, &len)) != CLI_EXIT_OK)
		return rv;
	Q53__Api__ChangeBatchRequest cb = Q53__API__CHANGE_BATCH_REQUEST__INIT;
	cb.zone = (char *)pos[0];
	cb.change_batch_json.data = (uint8_t *)json;
	cb.change_batch_json.len = len;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_CHANGE_BATCH;
	req.change_batch = &cb;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_CHANGE_BATCH, &r);
	free(json);
	if (rv != CLI_EXIT_OK)
		return rv;
	rv = print_change(cli, "submitted", r->change_batch->change);
	cli_response_free(r);
	return rv;
}

static int parse_seconds(const char *what, const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v > 0) || v > 86400)
		return cli_usage_error("%s '%s': expected seconds, more than "
				       "0 and at most 86400",
				       what, s);
	*out = v;
	return CLI_EXIT_OK;
}

/* The change, its progress and every voter's applied FSM index. */
static int print_get_change(const struct cli *cli,
			    const Q53__Api__GetChangeResponse *g,
			    const char *progress)
{
	if (cli->json) {
		json_t *nodes = json_array();
		for (size_t i = 0; i < g->n_nodes; i++) {
			const Q53__Api__NodeApplied *n = g->nodes[i];
			json_array_append_new(
			    nodes, json_pack("{s:I,s:s,s:I,s:b,s:b}", "Id",
					     (json_int_t)n->id, "Name", n->name,
					     "AppliedIndex",
					     (json_int_t)n->applied_index,
					     "InSync", (int)n->in_sync,
					     "Reachable", (int)n->reachable));
		}
		return cli_print_json(json_pack(
		    "{s:o,s:{s:i,s:i,s:I,s:o}}", "ChangeInfo",
		    change_json(g->change), "Progress", "NodesInSync",
		    (int)g->nodes_in_sync, "NodesTotal", (int)g->nodes_total,
		    "Index", (json_int_t)g->index, "Nodes", nodes));
	}
	struct cli_table t;
	char index[24];
	snprintf(index, sizeof(index), "%llu", (unsigned long long)g->index);
	cli_table_init(&t, 2, NULL);
	kv_change(&t, g->change);
	kv(&t, "Progress", progress);
	kv(&t, "Index", index);
	int rv = print_kv(&t);
	if (rv != CLI_EXIT_OK || g->n_nodes == 0)
		return rv;
	static const char *const headers[] = {"NODE", "NAME", "APPLIED",
					      "IN SYNC"};
	cli_table_init(&t, 4, headers);
	for (size_t i = 0; i < g->n_nodes; i++) {
		const Q53__Api__NodeApplied *n = g->nodes[i];
		char id[24], applied[24];
		snprintf(id, sizeof(id), "%llu", (unsigned long long)n->id);
		snprintf(applied, sizeof(applied), "%llu",
			 (unsigned long long)n->applied_index);
		const char *row[4] = {id, n->name[0] ? n->name : "-",
				      n->reachable ? applied : "(unreachable)",
				      n->in_sync ? "yes" : "no"};
		cli_table_add(&t, row);
	}
	return print_kv(&t);
}

int cli_zone_get_change(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 get-change ID [--wait] [--wait-timeout S]";
	const char *pos[1], *wait_timeout = NULL;
	bool wait = false;
	size_t npos;
	const struct cli_opt opts[] = {
	    {"wait", NULL, &wait},
	    {"wait-timeout", &wait_timeout, NULL},
	};
	int rv = cli_parse_args(argc, argv, opts, 2, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error("get-change needs a change ID "
				       "(usage: %s)",
				       usage);
	double limit_s = DEFAULT_WAIT_TIMEOUT_S;
	if (wait_timeout != NULL &&
	    (rv = parse_seconds("--wait-timeout", wait_timeout, &limit_s)) !=
		CLI_EXIT_OK)
		return rv;
	const char *id = pos[0];
	if (strncmp(id, "/change/", 8) == 0)
		id += 8;

	nng_time deadline = nng_clock() + (nng_time)(limit_s * 1000);
	nng_duration pause = WAIT_PAUSE_MS;
	char last[128] = "";
	/* Bounded by the deadline; the count is a second fence. */
	for (unsigned polls = 0; polls < 1000000; polls++) {
		Q53__Api__GetChangeRequest gc =
		    Q53__API__GET_CHANGE_REQUEST__INIT;
		gc.id = (char *)id;
		Q53__Api__Request req = Q53__API__REQUEST__INIT;
		req.body_case = Q53__API__REQUEST__BODY_GET_CHANGE;
		req.get_change = &gc;
		Q53__Api__Response *r;
		if ((rv = cli_call(cli, &req,
				   Q53__API__RESPONSE__BODY_GET_CHANGE, &r)) !=
		    CLI_EXIT_OK)
			return rv;
		Q53__Api__GetChangeResponse *g = r->get_change;
		if (g->change == NULL) {
			cli_response_free(r);
			return cli_fail(cli, CLI_EXIT_API, "InternalError",
					"the answer holds no change");
		}
		char progress[128];
		snprintf(progress, sizeof(progress), "%s (%u/%u nodes in sync)",
			 status_name(g->change->status),
			 (unsigned)g->nodes_in_sync, (unsigned)g->nodes_total);
		bool insync =
		    g->change->status == Q53__API__CHANGE_STATUS__INSYNC;
		if (!wait || insync) {
			rv = print_get_change(cli, g, progress);
			cli_response_free(r);
			return rv;
		}
		cli_response_free(r);
		if (!cli->json && strcmp(progress, last) != 0) {
			fprintf(stderr, "%s: %s\n", id, progress);
			snprintf(last, sizeof(last), "%s", progress);
		}
		nng_time now = nng_clock();
		if (now >= deadline)
			break;
		nng_duration left = (nng_duration)(deadline - now);
		nng_msleep(pause < left ? pause : left);
		pause = pause * 2 > WAIT_PAUSE_MAX_MS ? WAIT_PAUSE_MAX_MS
						      : pause * 2;
	}
	return cli_fail(cli, CLI_EXIT_PENDING, NULL,
			"change %s is still %s after %.0fs (--wait-timeout)",
			id, last, limit_s);
}

/* --- records -------------------------------------------------------------- */

static json_t *record_set_json(const Q53__Api__RecordSet *rs)
{
	json_t *o = json_object();
	json_object_set_new(o, "Name", json_string(rs->name));
	json_object_set_new(o, "Type", json_string(rs->type));
	if (rs->set_identifier[0])
		json_object_set_new(o, "SetIdentifier",
				    json_string(rs->set_identifier));
	if (rs->has_weight)
		json_object_set_new(o, "Weight", json_integer(rs->weight));
	if (rs->multi_value_answer)
		json_object_set_new(o, "MultiValueAnswer", json_true());
	if (rs->region[0])
		json_object_set_new(o, "Region", json_string(rs->region));
	if (rs->geo_continent_code[0] || rs->geo_country_code[0]) {
		json_t *g = json_object();
		if (rs->geo_continent_code[0])
			json_object_set_new(
			    g, "ContinentCode",
			    json_string(rs->geo_continent_code));
		if (rs->geo_country_code[0])
			json_object_set_new(g, "CountryCode",
					    json_string(rs->geo_country_code));
		if (rs->geo_subdivision_code[0])
			json_object_set_new(
			    g, "SubdivisionCode",
			    json_string(rs->geo_subdivision_code));
		json_object_set_new(o, "GeoLocation", g);
	}
	if (rs->cidr_collection_id[0])
		json_object_set_new(o, "CidrRoutingConfig",
				    json_pack("{s:s,s:s}", "CollectionId",
					      rs->cidr_collection_id,
					      "LocationName",
					      rs->cidr_location_name));
	if (rs->has_geo_proximity) {
		json_t *g = json_object();
		if (rs->geo_proximity_aws_region[0])
			json_object_set_new(
			    g, "AWSRegion",
			    json_string(rs->geo_proximity_aws_region));
		else
			json_object_set_new(
			    g, "Coordinates",
			    json_pack("{s:s,s:s}", "Latitude",
				      rs->geo_proximity_latitude, "Longitude",
				      rs->geo_proximity_longitude));
		if (rs->geo_proximity_bias != 0)
			json_object_set_new(
			    g, "Bias", json_integer(rs->geo_proximity_bias));
		json_object_set_new(o, "GeoProximityLocation", g);
	}
	if (rs->alias_hosted_zone_id != NULL &&
	    rs->alias_hosted_zone_id[0] != '\0') {
		json_object_set_new(
		    o, "AliasTarget",
		    json_pack("{s:s,s:s,s:b}", "HostedZoneId",
			      rs->alias_hosted_zone_id, "DNSName",
			      rs->alias_dns_name, "EvaluateTargetHealth",
			      (int)rs->alias_evaluate_target_health));
		return o;
	}
	json_object_set_new(o, "TTL", json_integer(rs->ttl));
	if (rs->traffic_policy_instance_id != NULL &&
	    rs->traffic_policy_instance_id[0] != '\0') {
		json_object_set_new(
		    o, "TrafficPolicyInstanceId",
		    json_string(rs->traffic_policy_instance_id));
		return o;
	}
	json_t *values = json_array();
	for (size_t i = 0; i < rs->n_values; i++)
		json_array_append_new(
		    values, json_pack("{s:s}", "Value", rs->values[i]));
	json_object_set_new(o, "ResourceRecords", values);
	return o;
}

static int records_list(struct cli *cli, int argc, char **argv)
{
	const char *ref = NULL;
	int rv = zone_ref_only(argc, argv, "q53 records list ID|NAME", &ref);
	if (rv != CLI_EXIT_OK)
		return rv;
	static const char *const headers[] = {"NAME", "TYPE", "TTL", "SET",
					      "VALUE"};
	struct cli_table t;
	cli_table_init(&t, 5, headers);
	json_t *sets = json_array();
	bool any_set_id = false;
	char marker[1100] = "";
	for (unsigned page = 0; page < MAX_PAGES; page++) {
		Q53__Api__ListRecordsRequest lr =
		    Q53__API__LIST_RECORDS_REQUEST__INIT;
		lr.zone = (char *)ref;
		lr.marker = marker;
		Q53__Api__Request req = Q53__API__REQUEST__INIT;
		req.body_case = Q53__API__REQUEST__BODY_LIST_RECORDS;
		req.list_records = &lr;
		Q53__Api__Response *r;
		if ((rv = cli_call(cli, &req,
				   Q53__API__RESPONSE__BODY_LIST_RECORDS,
				   &r)) != CLI_EXIT_OK)
			goto out;
		Q53__Api__ListRecordsResponse *l = r->list_records;
		for (size_t i = 0; i < l->n_record_sets; i++) {
			Q53__Api__RecordSet *rs = l->record_sets[i];
			char ttl[16];
			snprintf(ttl, sizeof(ttl), "%u", (unsigned)rs->ttl);
			any_set_id |= rs->set_identifier[0] != '\0';
			/* The SET column: the identifier and its policy. */
			char set[200];
			if (rs->has_weight)
				snprintf(set, sizeof(set), "%.128s weight=%u",
					 rs->set_identifier,
					 (unsigned)rs->weight);
			else if (rs->multi_value_answer)
				snprintf(set, sizeof(set), "%.128s multivalue",
					 rs->set_identifier);
			else
				snprintf(set, sizeof(set), "%s",
					 rs->set_identifier);
			char alias[1200], policy[96];
			/* A policy record: its traffic policy instance. */
			snprintf(
			    policy, sizeof(policy),
			    "POLICY RECORD (traffic policy instance %.40s)",
			    rs->traffic_policy_instance_id != NULL
				? rs->traffic_policy_instance_id
				: "");
			if (rs->alias_hosted_zone_id != NULL &&
			    rs->alias_hosted_zone_id[0] != '\0')
				snprintf(alias, sizeof(alias),
					 "ALIAS %.1024s (%s)%s",
					 rs->alias_dns_name,
					 rs->alias_hosted_zone_id,
					 rs->alias_evaluate_target_health
					     ? " evaluate-target-health"
					     : "");
			for (size_t k = 0; k < rs->n_values || k == 0; k++) {
				const char *row[5] = {
				    k == 0 ? rs->name : "",
				    k == 0 ? rs->type : "", k == 0 ? ttl : "",
				    k == 0 ? set : "",
				    k < rs->n_values ? rs->values[k] : ""};
				if (rs->alias_hosted_zone_id != NULL &&
				    rs->alias_hosted_zone_id[0] != '\0')
					row[4] = alias;
				if (rs->traffic_policy_instance_id != NULL &&
				    rs->traffic_policy_instance_id[0] != '\0')
					row[4] = policy;
				cli_table_add(&t, row);
			}
			json_array_append_new(sets, record_set_json(rs));
		}
		bool more = l->next_marker[0] != '\0' &&
			    strcmp(l->next_marker, marker) != 0;
		snprintf(marker, sizeof(marker), "%s", l->next_marker);
		cli_response_free(r);
		if (!more)
			break;
	}
	if (cli->json) {
		rv = cli_print_json(
		    json_pack("{s:O}", "ResourceRecordSets", sets));
		goto out;
	}
	if (!any_set_id) {
		/* Drop the SET column when no record set has one. */
		static const char *const h4[] = {"NAME", "TYPE", "TTL",
						 "VALUE"};
		struct cli_table t4;
		cli_table_init(&t4, 4, h4);
		for (size_t i = 0; i < t.nrows; i++) {
			char **row = &t.cells[i * 5];
			const char *r4[4] = {row[0], row[1], row[2], row[4]};
			cli_table_add(&t4, r4);
		}
		rv = print_kv(&t4);
	} else {
		rv = cli_table_print(&t, stdout) == 0 ? CLI_EXIT_OK
						      : CLI_EXIT_API;
	}
out:
	cli_table_free(&t);
	json_decref(sets);
	return rv;
}

int cli_zone_records(struct cli *cli, int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "list") != 0)
		return cli_usage_error("records needs the sub-command list "
				       "(q53 records list ID|NAME)");
	return records_list(cli, argc - 1, argv + 1);
}

/* --- test-answer ------------------------------------------------------------
 */

int cli_zone_test_answer(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 test-answer ID|NAME RECORD-NAME TYPE [--resolver-ip IP] "
	    "[--client-subnet ADDR/LEN] [--id N]";
	const char *resolver = NULL, *subnet = NULL, *id = NULL, *pos[3];
	size_t npos;
	unsigned long long qid = 0;
	const struct cli_opt opts[] = {{"resolver-ip", &resolver, NULL},
				       {"client-subnet", &subnet, NULL},
				       {"id", &id, NULL}};
	int rv = cli_parse_args(argc, argv, opts, 3, pos, 3, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 3)
		return cli_usage_error("usage: %s", usage);
	if (id != NULL && (cli_parse_u64(id, &qid) != 0 || qid > 65535))
		return cli_usage_error("--id '%s': expected 0 to 65535", id);
	Q53__Api__TestAnswerRequest ta = Q53__API__TEST_ANSWER_REQUEST__INIT;
	ta.zone = (char *)pos[0];
	ta.name = (char *)pos[1];
	ta.type = (char *)pos[2];
	ta.resolver_ip = (char *)(resolver != NULL ? resolver : "");
	ta.client_subnet = (char *)(subnet != NULL ? subnet : "");
	ta.id = (uint32_t)qid;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	req.body_case = Q53__API__REQUEST__BODY_TEST_ANSWER;
	req.test_answer = &ta;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_TEST_ANSWER, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	const Q53__Api__TestAnswerResponse *a = r->test_answer;
	json_t *data = json_array();
	for (size_t i = 0; i < a->n_record_data; i++)
		json_array_append_new(data, json_string(a->record_data[i]));
	if (cli->json) {
		rv = cli_print_json(json_pack(
		    "{s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:I}", "Nameserver",
		    a->nameserver, "RecordName", a->record_name, "RecordType",
		    a->record_type, "RecordData", data, "ResponseCode",
		    a->response_code, "Protocol", a->protocol, "Branch",
		    a->branch, "Id", (json_int_t)qid));
	} else {
		printf("%s %s %s from %s: %s\n", a->record_name, a->record_type,
		       a->protocol, a->nameserver, a->response_code);
		printf("branch: %s\n", a->branch);
		for (size_t i = 0; i < a->n_record_data; i++)
			printf("%s\n", a->record_data[i]);
		json_decref(data);
	}
	cli_response_free(r);
	return rv;
}

/* --- audit ---------------------------------------------------------------- */

int cli_zone_audit(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "q53 audit [--zone ID] [--max-items N]";
	const char *zone = NULL, *max = NULL, *pos[1];
	size_t npos;
	unsigned long long n = 0;
	const struct cli_opt opts[] = {{"zone", &zone, NULL},
				       {"max-items", &max, NULL}};
	int rv = cli_parse_args(argc, argv, opts, 2, pos, 0, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (max != NULL &&
	    (cli_parse_u64(max, &n) != 0 || n == 0 || n > API_MSG_PAGE_MAX))
		return cli_usage_error("--max-items '%s': expected 1 to %d",
				       max, API_MSG_PAGE_MAX);
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__ListChangesRequest lc = Q53__API__LIST_CHANGES_REQUEST__INIT;
	lc.zone = (char *)(zone != NULL ? zone : "");
	lc.max_items = (uint32_t)n;
	req.body_case = Q53__API__REQUEST__BODY_LIST_CHANGES;
	req.list_changes = &lc;
	Q53__Api__Response *r;
	rv = cli_call(cli, &req, Q53__API__RESPONSE__BODY_LIST_CHANGES, &r);
	if (rv != CLI_EXIT_OK)
		return rv;
	const Q53__Api__ListChangesResponse *l = r->list_changes;
	if (cli->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < l->n_changes; i++) {
			json_t *c = change_json(l->changes[i]);
			json_object_set_new(
			    c, "HostedZoneId",
			    json_string(l->changes[i]->zone_id));
			json_object_set_new(
			    c, "Index",
			    json_integer((json_int_t)l->changes[i]->index));
			json_array_append_new(a, c);
		}
		rv = cli_print_json(json_pack("{s:o}", "Changes", a));
	} else {
		static const char *const headers[] = {
		    "TIME", "CHANGE", "ZONE", "KEY", "STATUS", "COMMENT"};
		struct cli_table t;
		cli_table_init(&t, 6, headers);
		for (size_t i = 0; i < l->n_changes; i++) {
			const Q53__Api__ChangeInfo *c = l->changes[i];
			char when[64];
			time_text(c->submitted_at_ms, when, sizeof(when));
			const char *row[6] = {
			    when,
			    c->id,
			    c->zone_id,
			    c->access_key_id[0] ? c->access_key_id : "-",
			    status_name(c->status),
			    c->comment};
			cli_table_add(&t, row);
		}
		rv = print_kv(&t);
	}
	cli_response_free(r);
	return rv;
}
