/* Writes the seed corpora of fuzz_command_decode (a type byte, then the
 * payload of every command type: the typed ones as the serving node
 * encodes them, and the previous release's text ones) and
 * fuzz_snapshot_restore (a format-2 snapshot of an FSM holding every kind
 * of state). The format-1 snapshot seeds come from the upgrade fixture
 * (see tests/fuzz/corpus/snapshot_restore/README). Deterministic.
 *
 *   build/fuzz/tests/fuzz/make_typed_seeds tests/fuzz/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/cidr_block.h"
#include "node/control/command.h"
#include "node/control/command_flow.h"
#include "node/control/command_legacy.h"
#include "node/control/command_text.h"
#include "node/control/control_fsm.h"
#include "node/control/iam_policy.h"
#include "node/control/latency_table.h"
#include "node/control/traffic_policy.h"
#include "node/control/zone_store.h"

static const char *out_dir;

static void die(const char *why) __attribute__((noreturn));
static void die(const char *why)
{
	fprintf(stderr, "make_typed_seeds: %s\n", why);
	exit(1);
}

static void put(const char *sub, const char *name, uint8_t type,
		const uint8_t *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, sub, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		die(path);
	if (type != 0)
		fputc(type, f);
	if (n > 0)
		fwrite(p, 1, n, f);
	fclose(f);
}

/* Writes p as a seed and applies it to f. */
static void seed(struct control_fsm *f, const char *name,
		 struct command_payload p, int rv)
{
	int32_t code;
	uint8_t *out;
	size_t len;

	if (rv != 0)
		die(name);
	put("command_decode", name, (uint8_t)p.type, p.data, p.len);
	struct q53_fsm *b = control_fsm_base(f);
	if (b->apply(b, p.type, p.data, p.len, &code, &out, &len) != 0)
		die("apply");
	raft_free(out);
	command_payload_clear(&p);
}

int main(int argc, char **argv)
{
	static const char *const NS[] = {"ns1.example.net", "ns2.example.net"};
	static const char HC[] =
	    "{\"IPAddress\": \"192.0.2.80\", \"Port\": 80, \"Type\": \"HTTP\", "
	    "\"ResourcePath\": \"/health\", \"RequestInterval\": 10}";
	static const char CALC[] =
	    "{\"Type\": \"CALCULATED\", \"ChildHealthChecks\": [\"hc1\"], "
	    "\"HealthThreshold\": 1}";
	static const char BATCH[] =
	    "{\"Comment\": \"seed\", \"Changes\": [{\"Action\": \"CREATE\", "
	    "\"ResourceRecordSet\": {\"Name\": \"www.example.com\", \"Type\": "
	    "\"A\", \"TTL\": 60, \"ResourceRecords\": [{\"Value\": "
	    "\"192.0.2.1\"}, {\"Value\": \"192.0.2.2\"}]}}, {\"Action\": "
	    "\"UPSERT\", \"ResourceRecordSet\": {\"Name\": \"example.com\", "
	    "\"Type\": \"MX\", \"TTL\": 300, \"ResourceRecords\": [{\"Value\": "
	    "\"10 mail.example.com\"}]}}, {\"Action\": \"CREATE\", "
	    "\"ResourceRecordSet\": {\"Name\": \"shop.example.com\", \"Type\": "
	    "\"A\", \"TTL\": 30, \"SetIdentifier\": \"p\", \"Failover\": "
	    "\"PRIMARY\", \"HealthCheckId\": \"hc1\", \"ResourceRecords\": "
	    "[{\"Value\": \"192.0.2.51\"}]}}, {\"Action\": \"CREATE\", "
	    "\"ResourceRecordSet\": {\"Name\": \"bad..example.com\", \"Type\": "
	    "\"TXT\", \"TTL\": 30, \"ResourceRecords\": [{\"Value\": "
	    "\"\\\"x\\\"\"}]}}]}";
	static const char BATCH_DEL[] =
	    "{\"Changes\": [{\"Action\": \"DELETE\", \"ResourceRecordSet\": "
	    "{\"Name\": \"www.example.com\", \"Type\": \"A\", \"TTL\": 60, "
	    "\"ResourceRecords\": [{\"Value\": \"192.0.2.1\"}, {\"Value\": "
	    "\"192.0.2.2\"}]}}]}";
	static const char ZONE[] = "$TTL 300\n@ NS ns1.example.net.\n"
				   "host A 198.51.100.1\nalias CNAME host\n"
				   "txt TXT \"a\" \"b\"\n";
	struct control_fsm *f;
	struct command_payload p;
	char err[4096];
	int rv;

	if (argc != 2)
		die("usage: make_typed_seeds CORPUS_DIR");
	out_dir = argv[1];
	if (control_fsm_new(&f) != 0)
		die("fsm");

	struct command_set_node n = {.node_id = 1,
				     .raft_address = "tcp://10.0.0.1:7000",
				     .dns_address = "10.0.0.1:53",
				     .name = "n1",
				     .site = "fra",
				     .site_region = "eu-central-1",
				     .time_ms = 1};
	rv = command_encode_set_node(&n, &p);
	seed(f, "set-node", p, rv);
	struct command_create_hosted_zone z = {.id = "Z0123456789ABC",
					       .name = "example.com",
					       .caller_reference = "ref",
					       .comment = "seed zone",
					       .nameservers = NS,
					       .n_nameservers = 2,
					       .change_id = "C0",
					       .time_ms = 2};
	rv = command_encode_create_hosted_zone(&z, &p);
	seed(f, "create-zone", p, rv);
	rv = command_text_create_health_check("hc1", "r1", HC, strlen(HC), 3,
					      &p, err, sizeof(err));
	seed(f, "create-health-check", p, rv);
	rv = command_text_create_health_check("calc", "", CALC, strlen(CALC), 3,
					      &p, err, sizeof(err));
	seed(f, "create-health-check-calculated", p, rv);
	rv = command_text_update_health_check("hc1", 1, HC, strlen(HC), 4, &p,
					      err, sizeof(err));
	seed(f, "update-health-check", p, rv);
	rv = command_text_change_rrsets("Z0123456789ABC", "C1", BATCH,
					strlen(BATCH), 5, &p, err, sizeof(err));
	seed(f, "change-rrsets-invalid-name", p, rv);
	/* The same without the bad name: applies. */
	char good[sizeof(BATCH)];
	snprintf(good, sizeof(good), "%s", BATCH);
	char *cut = strstr(good, ", {\"Action\": \"CREATE\", "
				 "\"ResourceRecordSet\": {\"Name\": \"bad");
	strcpy(cut, "]}");
	rv = command_text_change_rrsets_by(
	    "Z0123456789ABC", "C2", "AKIASEEDSEEDSEEDSEED", good, strlen(good),
	    6, &p, err, sizeof(err));
	seed(f, "change-rrsets", p, rv);
	rv = command_text_change_rrsets("Z0123456789ABC", "C3", BATCH_DEL,
					strlen(BATCH_DEL), 7, &p, err,
					sizeof(err));
	seed(f, "change-rrsets-delete", p, rv);
	rv = command_text_import_zone(control_fsm_zone_store(f),
				      "Z0123456789ABC", "C4", ZONE,
				      strlen(ZONE), 8, &p, err, sizeof(err));
	seed(f, "import-zone", p, rv);
	struct command_health_vote v = {.member_id = 1,
					.check_id = "hc1",
					.healthy = false,
					.reason = "timeout",
					.time_ms = 9};
	rv = command_encode_health_vote(&v, &p);
	seed(f, "health-vote", p, rv);
	static const struct command_tag tags[] = {{"env", "prod"},
						  {"Name", ""}};
	static const char *const gone[] = {"old"};
	struct command_change_tags t = {.resource_type = "hostedzone",
					.resource_id = "Z0123456789ABC",
					.add = tags,
					.n_add = 2,
					.remove_keys = gone,
					.n_remove = 1,
					.time_ms = 10};
	rv = command_encode_change_tags(&t, &p);
	seed(f, "change-tags-zone", p, rv);
	t.resource_type = "healthcheck";
	t.resource_id = "hc1";
	t.n_remove = 0;
	rv = command_encode_change_tags(&t, &p);
	seed(f, "change-tags-health-check", p, rv);
	struct command_update_zone_comment uc = {
	    .zone_id = "Z0123456789ABC", .comment = "renamed", .time_ms = 11};
	rv = command_encode_update_zone_comment(&uc, &p);
	seed(f, "update-zone-comment", p, rv);

	/* Access keys: an administrator and one with conditions. */
	static const char *const POLICIES[] = {
	    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
	    "\"Resource\":\"*\"}}",
	    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
	    "\"Allow\",\"Action\":\"route53:ChangeResourceRecordSets\","
	    "\"Resource\":\"arn:aws:route53:::hostedzone/Z0123456789ABC\","
	    "\"Condition\":{\"ForAllValues:StringLike\":{\"route53:"
	    "ChangeResourceRecordSetsNormalizedRecordNames\":[\"_acme-"
	    "challenge.*\"]},\"ForAllValues:StringEquals\":{\"route53:"
	    "ChangeResourceRecordSetsRecordTypes\":\"TXT\"}}},{\"Effect\":"
	    "\"Deny\",\"Action\":\"route53:Delete*\",\"Resource\":\"*\"}]}",
	};
	static const char *const KEY_IDS[] = {"AKIASEEDSEEDSEEDSEED",
					      "AKIASEEDCERTBOT00000"};
	for (size_t i = 0; i < 2; i++) {
		Q53__Command__AccessPolicy *pol;
		if (iam_policy_parse(POLICIES[i], strlen(POLICIES[i]), &pol,
				     err, sizeof(err)) != 0)
			die(err);
		struct command_create_access_key k = {
		    .id = KEY_IDS[i],
		    .secret = "0123456789abcdefghijABCDEFGHIJ0123456789",
		    .description = "seed",
		    .policy_document = POLICIES[i],
		    .policy = pol,
		    .time_ms = 15};
		rv = command_encode_create_access_key(&k, &p);
		iam_policy_free(pol);
		seed(f,
		     i == 0 ? "create-access-key"
			    : "create-access-key-conditions",
		     p, rv);
	}

	/* The latency table: API rows (v4, v6), a measured site row. */
	struct latency_row rows[2];
	memset(rows, 0, sizeof(rows));
	if (!latency_cidr_parse("198.51.100.0/24", &rows[0]) ||
	    !latency_cidr_parse("2001:db8::/32", &rows[1]))
		die("cidr");
	snprintf(rows[0].rtt[0].region, sizeof(rows[0].rtt[0].region),
		 "eu-central-1");
	rows[0].rtt[0].rtt_ms = 10;
	snprintf(rows[0].rtt[1].region, sizeof(rows[0].rtt[1].region),
		 "us-east-1");
	rows[0].rtt[1].rtt_ms = 90;
	rows[0].n = 2;
	rows[1].rtt[0] = rows[0].rtt[1];
	rows[1].n = 1;
	struct command_set_latency_rows lr = {
	    .set = rows, .n_set = 2, .time_ms = 16};
	rv = command_encode_set_latency_rows(&lr, &p);
	seed(f, "set-latency-rows", p, rv);
	struct latency_rtt measured[] = {{"eu-central-1", 3},
					 {"us-east-1", 80}};
	struct command_latency_samples ls = {.node_id = 1,
					     .site = "fra",
					     .rtt = measured,
					     .n = 2,
					     .time_ms = 17};
	rv = command_encode_latency_samples(&ls, &p);
	seed(f, "latency-samples", p, rv);

	/* CIDR collections (types 20, 21) and an IP-based record set. */
	static const char CID[] = "0b6b2a5e-1c1d-4e8f-9a0b-1c2d3e4f5a6b";
	struct command_create_cidr_collection cc = {CID, "offices", "ref", 16};
	rv = command_encode_create_cidr_collection(&cc, &p);
	seed(f, "create-cidr-collection", p, rv);
	struct cidr_block bl[3];
	if (cidr_block_parse("10.49.0.0/16", &bl[0], err, sizeof(err)) != 0 ||
	    cidr_block_parse("2001:db8:49::/48", &bl[1], err, sizeof(err)) !=
		0 ||
	    cidr_block_parse("10.212.0.0/16", &bl[2], err, sizeof(err)) != 0)
		die(err);
	struct command_cidr_change chs[2] = {
	    {COMMAND_CIDR_PUT, "berlin", bl, 2},
	    {COMMAND_CIDR_PUT, "nyc", bl + 2, 1}};
	struct command_change_cidr_collection cg = {.id = CID,
						    .version = 1,
						    .changes = chs,
						    .n_changes = 2,
						    .time_ms = 17};
	rv = command_encode_change_cidr_collection(&cg, &p);
	seed(f, "change-cidr-collection", p, rv);
	static const char CIDR_BATCH[] =
	    "{\"Changes\": [{\"Action\": \"CREATE\", \"ResourceRecordSet\": "
	    "{\"Name\": \"intra.example.com\", \"Type\": \"A\", \"TTL\": 60, "
	    "\"SetIdentifier\": \"berlin\", \"CidrRoutingConfig\": "
	    "{\"CollectionId\": \"offices\", \"LocationName\": \"berlin\"}, "
	    "\"ResourceRecords\": [{\"Value\": \"192.0.2.91\"}]}}, "
	    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
	    "\"intra.example.com\", \"Type\": \"A\", \"TTL\": 60, "
	    "\"SetIdentifier\": \"all\", \"CidrRoutingConfig\": "
	    "{\"CollectionId\": \"offices\", \"LocationName\": \"*\"}, "
	    "\"ResourceRecords\": [{\"Value\": \"192.0.2.99\"}]}}]}";
	rv = command_text_change_rrsets("Z0123456789ABC", "C6", CIDR_BATCH,
					strlen(CIDR_BATCH), 18, &p, err,
					sizeof(err));
	seed(f, "change-rrsets-cidr", p, rv);
	struct command_change_cidr_collection cd = {
	    .id = CID, .delete_collection = true, .time_ms = 19};
	rv = command_encode_change_cidr_collection(&cd, &p);
	seed(f, "delete-cidr-collection", p, rv); /* refused: in use */

	/* A snapshot holding all of it. */
	uint8_t *snap;
	size_t snap_len;
	struct q53_fsm *b = control_fsm_base(f);
	if (b->snapshot(b, &snap, &snap_len) != 0)
		die("snapshot");
	put("snapshot_restore", "format2-all", 0, snap, snap_len);
	raft_free(snap);

	/* The previous release's text commands (types 3 to 6). */
	struct command_legacy_change_rrsets lc = {.zone_id = "Z0123456789ABC",
						  .change_id = "C5",
						  .batch_json = good,
						  .batch_len = strlen(good),
						  .time_ms = 10};
	rv = command_legacy_encode_change_rrsets(&lc, &p);
	seed(f, "legacy-change-rrsets", p, rv);
	struct command_legacy_import_zone li = {.zone_id = "Z0123456789ABC",
						.text = ZONE,
						.len = strlen(ZONE),
						.time_ms = 11};
	rv = command_legacy_encode_import_zone(&li, &p);
	seed(f, "legacy-import-zone", p, rv);
	struct command_legacy_health_check lh = {.id = "hc2",
						 .caller_reference = "r2",
						 .config_json = HC,
						 .config_len = strlen(HC),
						 .time_ms = 12};
	rv = command_legacy_encode_create_health_check(&lh, &p);
	seed(f, "legacy-create-health-check", p, rv);
	lh.version = 1;
	rv = command_legacy_encode_update_health_check(&lh, &p);
	seed(f, "legacy-update-health-check", p, rv);

	/* Traffic Flow (types 24..27): a policy, a version's comment, a
	 * policy record, then both gone again. */
	static const char TP[] =
	    "{\"AWSPolicyFormatVersion\": \"2015-10-01\", \"RecordType\": "
	    "\"A\", \"StartRule\": \"site\", \"Endpoints\": {\"a\": "
	    "{\"Type\": \"value\", \"Value\": \"192.0.2.1\"}, \"b\": "
	    "{\"Type\": \"value\", \"Value\": \"192.0.2.2\"}}, \"Rules\": "
	    "{\"site\": {\"RuleType\": \"failover\", \"Primary\": "
	    "{\"RuleReference\": \"pool\", \"HealthCheck\": \"hc1\"}, "
	    "\"Secondary\": {\"EndpointReference\": \"b\"}}, \"pool\": "
	    "{\"RuleType\": \"weighted\", \"Items\": [{\"EndpointReference\": "
	    "\"a\", \"Weight\": 3}, {\"EndpointReference\": \"b\", "
	    "\"Weight\": 1}]}}}";
	struct traffic_policy tpol;
	char tperr[256];
	if (traffic_policy_parse(TP, strlen(TP), &tpol, tperr, sizeof(tperr)) !=
	    0)
		die(tperr);
	struct command_traffic_policy ctp = {.id = "T0SEEDSEEDSEEDSEED01",
					     .version = 1,
					     .name = "seed",
					     .comment = "c",
					     .document = TP,
					     .policy = &tpol,
					     .time_ms = 13};
	rv = command_encode_traffic_policy(&ctp, &p);
	seed(f, "create-traffic-policy", p, rv);
	traffic_policy_free(&tpol);
	struct command_traffic_policy_change ctc = {.id =
							"T0SEEDSEEDSEEDSEED01",
						    .version = 1,
						    .comment = "d",
						    .time_ms = 13};
	rv = command_encode_traffic_policy_change(
	    COMMAND_UPDATE_TRAFFIC_POLICY_COMMENT, &ctc, &p);
	seed(f, "update-traffic-policy-comment", p, rv);
	static const uint8_t tpname[] = "\4flow\7example\3com";
	struct command_traffic_instance cti = {
	    .action = COMMAND_INSTANCE_CREATE,
	    .id = "I0SEEDSEEDSEEDSEED01",
	    .zone_id = "Z0123456789ABC",
	    .name = tpname,
	    .name_len = sizeof(tpname),
	    .ttl = 60,
	    .policy_id = "T0SEEDSEEDSEEDSEED01",
	    .policy_version = 1,
	    .time_ms = 13};
	rv = command_encode_traffic_instance(&cti, &p);
	seed(f, "create-traffic-policy-instance", p, rv);
	cti.action = COMMAND_INSTANCE_DELETE;
	rv = command_encode_traffic_instance(&cti, &p);
	seed(f, "delete-traffic-policy-instance", p, rv);
	rv = command_encode_traffic_policy_change(COMMAND_DELETE_TRAFFIC_POLICY,
						  &ctc, &p);
	seed(f, "delete-traffic-policy", p, rv);

	struct command_delete_health_check dh = {.id = "calc", .time_ms = 13};
	rv = command_encode_delete_health_check(&dh, &p);
	seed(f, "delete-health-check", p, rv);
	struct command_remove_node rn = {.node_id = 1, .time_ms = 14};
	rv = command_encode_remove_node(&rn, &p);
	seed(f, "remove-node", p, rv);
	struct command_delete_access_key dk = {.id = "AKIASEEDSEEDSEEDSEED",
					       .time_ms = 16};
	rv = command_encode_delete_access_key(&dk, &p);
	seed(f, "delete-access-key", p, rv);
	struct command_set_latency_rows ld = {
	    .remove = &rows[1], .n_remove = 1, .time_ms = 18};
	rv = command_encode_set_latency_rows(&ld, &p);
	seed(f, "delete-latency-row", p, rv);
	struct command_delete_hosted_zone dz = {
	    .id = "Z0123456789ABC", .change_id = "C9", .time_ms = 15};
	rv = command_encode_delete_hosted_zone(&dz, &p);
	seed(f, "delete-zone", p, rv);
	control_fsm_free(f);
	return 0;
}
