/* Outbound transfer configuration (node/control/xfr_config.h) and its
 * command (SetZoneTransfer, 32): checks and canonical order, the table,
 * the codec round trip, apply (no zone, a bad config from the log, off),
 * deleting a zone drops it, snapshot format 5 (FsmSnapshotExt field 4)
 * restores byte for byte and a snapshot without it restores empty; and the
 * wire side (node/dns/xfr_out.h): an unsigned AXFR request parsed and
 * refused, a signed one verified and answered in several messages whose
 * TSIGs libknot's client check accepts, the hand-off's classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libknot/libknot.h>
#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/command.h"
#include "node/control/control_fsm.h"
#include "node/control/xfr_config.h"
#include "node/control/zone_store.h"
#include "node/dns/xfr_out.h"

#define ZID "Z0123456789ABC"

static const char *const NS[] = {"ns1.quorum53.test", "ns2.quorum53.test."};

static struct xfr_config cfg_of(const char *const *secs, size_t n,
				const char *key, size_t secret_len)
{
	struct xfr_config c;

	memset(&c, 0, sizeof(c));
	snprintf(c.zone_id, sizeof(c.zone_id), "%s", ZID);
	for (size_t i = 0; i < n; i++)
		assert_true(xfr_secondary_parse(secs[i], &c.sec[i]));
	c.n_sec = (uint8_t)n;
	if (key != NULL) {
		snprintf(c.keys[0].name, sizeof(c.keys[0].name), "%s", key);
		memset(c.keys[0].secret, 0x5a, secret_len);
		c.keys[0].secret_len = (uint8_t)secret_len;
		c.n_keys = 1;
	}
	return c;
}

static void test_parse_and_check(void **state)
{
	struct xfr_secondary s;
	char buf[64], err[200];
	(void)state;

	assert_true(xfr_secondary_parse("192.0.2.1", &s));
	assert_int_equal(s.family, 4);
	assert_int_equal(s.port, 53);
	assert_true(xfr_secondary_parse("[2001:db8::1]:5353", &s));
	assert_int_equal(s.family, 6);
	assert_int_equal(s.port, 5353);
	xfr_secondary_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:5353");
	assert_true(xfr_secondary_parse("2001:db8::2", &s));
	assert_int_equal(s.port, 53);
	assert_false(xfr_secondary_parse("192.0.2.1:0", &s));
	assert_false(xfr_secondary_parse("192.0.2.1:65536", &s));
	assert_false(xfr_secondary_parse("host.example:53", &s));
	assert_false(xfr_secondary_parse("[2001:db8::1", &s));

	const char *const two[] = {"192.0.2.9:53", "192.0.2.1:5300"};
	struct xfr_config c = cfg_of(two, 2, "Key.Example", 32);
	assert_int_equal(xfr_config_check(&c, err, sizeof(err)), 0);
	assert_string_equal(c.keys[0].name, "key.example.");
	assert_string_equal(c.keys[0].algorithm, "hmac-sha256");
	assert_int_equal(c.sec[0].addr[3], 1); /* sorted */
	uint8_t a[16] = {192, 0, 2, 9};
	assert_true(xfr_config_allows(&c, 4, a));
	uint8_t mapped[16] = {0, 0, 0,	  0,	0,   0, 0, 0,
			      0, 0, 0xff, 0xff, 192, 0, 2, 1};
	assert_true(xfr_config_allows(&c, 6, mapped));
	a[3] = 7;
	assert_false(xfr_config_allows(&c, 4, a));
	assert_non_null(xfr_config_key(&c, "KEY.example"));
	assert_null(xfr_config_key(&c, "other."));

	c = cfg_of(two, 2, NULL, 0); /* secondaries without a key */
	assert_int_equal(xfr_config_check(&c, err, sizeof(err)), Q53_EINVAL);
	c = cfg_of(two, 2, "k", 8); /* short secret */
	assert_int_equal(xfr_config_check(&c, err, sizeof(err)), Q53_EINVAL);
	c = cfg_of(two, 2, "k", 32);
	snprintf(c.keys[0].algorithm, sizeof(c.keys[0].algorithm), "hmac-md5");
	assert_int_equal(xfr_config_check(&c, err, sizeof(err)), Q53_EINVAL);
	c = cfg_of(two, 2, "bad..name", 32);
	assert_int_equal(xfr_config_check(&c, err, sizeof(err)), Q53_EINVAL);
	const char *const dup[] = {"192.0.2.1", "192.0.2.1:53"};
	c = cfg_of(dup, 2, "k", 32);
	assert_int_equal(xfr_config_check(&c, err, sizeof(err)), Q53_EINVAL);
}

static int32_t apply(struct control_fsm *f, struct command_payload p,
		     char *name, size_t namelen)
{
	struct q53_fsm *b = control_fsm_base(f);
	struct command_result r;
	int32_t code = 12345;
	uint8_t *out = NULL;
	size_t len = 0;

	assert_int_equal(b->apply(b, p.type, p.data, p.len, &code, &out, &len),
			 0);
	assert_int_equal(command_result_decode(out, len, &r), 0);
	snprintf(name, namelen, "%s", r.error_name ? r.error_name : "");
	command_result_free(&r);
	raft_free(out);
	command_payload_clear(&p);
	return code;
}

static struct command_payload p_zone(void)
{
	struct command_create_hosted_zone c = {.id = ZID,
					       .name = "example.com",
					       .nameservers = NS,
					       .n_nameservers = 2,
					       .time_ms = 1000};
	struct command_payload p;
	assert_int_equal(command_encode_create_hosted_zone(&c, &p), 0);
	return p;
}

static struct command_payload p_xfr(const struct xfr_config *c)
{
	struct command_set_zone_transfer cmd = {.config = c, .time_ms = 5};
	struct command_payload p;
	assert_int_equal(command_encode_set_zone_transfer(&cmd, &p), 0);
	return p;
}

static void snapshot(struct control_fsm *f, uint8_t **buf, size_t *len)
{
	struct q53_fsm *b = control_fsm_base(f);
	assert_int_equal(b->snapshot(b, buf, len), 0);
}

static void test_command_apply_snapshot(void **state)
{
	struct control_fsm *f, *g;
	struct command cmd;
	char name[64];
	uint8_t *s1, *s2, *s0;
	size_t l1, l2, l0;
	(void)state;

	const char *const secs[] = {"192.0.2.1", "[2001:db8::5]:5300"};
	struct xfr_config c = cfg_of(secs, 2, "xfr.key", 32);

	/* The codec round trip. */
	struct command_payload p = p_xfr(&c);
	assert_int_equal(p.type, COMMAND_SET_ZONE_TRANSFER);
	assert_true(command_type_versioned(p.type));
	assert_int_equal(command_peek_version(p.data, p.len),
			 COMMAND_VERSION_XFR);
	assert_int_equal(command_decode(p.type, p.data, p.len, &cmd), 0);
	struct xfr_config want = c;
	char err[200];
	assert_int_equal(xfr_config_check(&want, err, sizeof(err)), 0);
	assert_memory_equal(cmd.u.set_zone_transfer.config, &want,
			    sizeof(want));
	command_free(&cmd);
	command_payload_clear(&p);

	assert_int_equal(control_fsm_new(&f), 0);
	snapshot(f, &s0, &l0); /* no ext: format 3 */
	/* No such zone. */
	assert_int_equal(apply(f, p_xfr(&c), name, sizeof(name)), Q53_ENOENT);
	assert_string_equal(name, "NoSuchHostedZone");
	assert_int_equal(apply(f, p_zone(), name, sizeof(name)), 0);
	assert_int_equal(apply(f, p_xfr(&c), name, sizeof(name)), 0);
	const struct xfr_config *got = xfr_table_get(control_fsm_xfr(f), ZID);
	assert_non_null(got);
	assert_int_equal(got->n_sec, 2);
	assert_int_equal(got->n_keys, 1);
	assert_string_equal(got->keys[0].name, "xfr.key.");

	/* Snapshot format 5 restores byte for byte. */
	snapshot(f, &s1, &l1);
	assert_int_equal(control_fsm_new(&g), 0);
	struct q53_fsm *gb = control_fsm_base(g);
	assert_int_equal(gb->restore(gb, s1, l1), 0);
	snapshot(g, &s2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(s1, s2, l1);
	assert_non_null(xfr_table_get(control_fsm_xfr(g), ZID));
	/* An older snapshot (no ext) restores without transfers. */
	assert_int_equal(gb->restore(gb, s0, l0), 0);
	assert_int_equal(control_fsm_xfr(g)->n, 0);
	raft_free(s0);
	raft_free(s1);
	raft_free(s2);
	control_fsm_free(g);

	/* Off: no secondaries and no keys. */
	struct xfr_config off;
	memset(&off, 0, sizeof(off));
	snprintf(off.zone_id, sizeof(off.zone_id), "%s", ZID);
	assert_int_equal(apply(f, p_xfr(&off), name, sizeof(name)), 0);
	assert_null(xfr_table_get(control_fsm_xfr(f), ZID));
	/* Deleting the zone drops its configuration. */
	assert_int_equal(apply(f, p_xfr(&c), name, sizeof(name)), 0);
	struct command_delete_hosted_zone d = {.id = ZID, .time_ms = 9};
	assert_int_equal(command_encode_delete_hosted_zone(&d, &p), 0);
	assert_int_equal(apply(f, p, name, sizeof(name)), 0);
	assert_int_equal(control_fsm_xfr(f)->n, 0);
	control_fsm_free(f);
}

static struct command_payload p_update(const struct command_dyn_rr *pre,
				       size_t np,
				       const struct command_dyn_rr *upd,
				       size_t nu)
{
	static int seq;
	char change_id[16];
	snprintf(change_id, sizeof(change_id), "C%d", ++seq);
	struct command_dynamic_update u = {.zone_id = ZID,
					   .change_id = change_id,
					   .key_name = "xfr.key.",
					   .prereqs = pre,
					   .n_prereqs = np,
					   .updates = upd,
					   .n_updates = nu,
					   .time_ms = 7};
	struct command_payload p;
	assert_int_equal(command_encode_dynamic_update(&u, &p), 0);
	return p;
}

static size_t sets_of(struct control_fsm *f)
{
	struct zone_store_info info;
	assert_int_equal(zone_store_get(control_fsm_zone_store(f), ZID, &info),
			 0);
	return info.nrrsets;
}

/* RFC 2136: prerequisites at apply, updates as one change batch. */
static void test_dynamic_update(void **state)
{
	static const uint8_t WWW[] = "\3www\7example\3com";
	static const uint8_t OUT[] = "\3www\7example\3org";
	static const uint8_t A1[] = {192, 0, 2, 1}, A2[] = {192, 0, 2, 2};
	struct control_fsm *f;
	char name[64];
	(void)state;

	assert_int_equal(control_fsm_new(&f), 0);
	assert_int_equal(apply(f, p_zone(), name, sizeof(name)), 0);
	size_t base = sets_of(f); /* SOA, NS */
	const char *const secs[] = {"192.0.2.1"};
	struct xfr_config c = cfg_of(secs, 1, "xfr.key", 32);
	assert_int_equal(apply(f, p_xfr(&c), name, sizeof(name)), 0);
	struct command_dyn_rr absent = {
	    .owner = WWW, .owner_len = sizeof(WWW), .type = 255, .rclass = 254};
	struct command_dyn_rr add[2] = {
	    {.owner = WWW,
	     .owner_len = sizeof(WWW),
	     .type = 1,
	     .rclass = 1,
	     .ttl = 300,
	     .rdata = A1,
	     .rdlen = 4},
	    {.owner = WWW,
	     .owner_len = sizeof(WWW),
	     .type = 1,
	     .rclass = 1,
	     .ttl = 300,
	     .rdata = A2,
	     .rdlen = 4},
	};
	/* Not allowed to update: REFUSED. */
	assert_int_not_equal(
	    apply(f, p_update(&absent, 1, add, 2), name, sizeof(name)), 0);
	assert_string_equal(name, "REFUSED");
	c.allow_update = true;
	assert_int_equal(apply(f, p_xfr(&c), name, sizeof(name)), 0);
	assert_int_equal(
	    apply(f, p_update(&absent, 1, add, 2), name, sizeof(name)), 0);
	assert_int_equal(sets_of(f), base + 1);
	/* The name is in use now. */
	assert_int_not_equal(
	    apply(f, p_update(&absent, 1, add, 1), name, sizeof(name)), 0);
	assert_string_equal(name, "YXDOMAIN");
	/* Value dependent: exactly {A1} is not the set {A1, A2}. */
	struct command_dyn_rr exact = add[0];
	exact.ttl = 0;
	struct command_dyn_rr del1 = add[0];
	del1.rclass = 254;
	del1.ttl = 0;
	assert_int_not_equal(
	    apply(f, p_update(&exact, 1, &del1, 1), name, sizeof(name)), 0);
	assert_string_equal(name, "NXRRSET");
	struct command_dyn_rr both[2] = {add[0], add[1]};
	both[0].ttl = both[1].ttl = 0;
	assert_int_equal(
	    apply(f, p_update(both, 2, &del1, 1), name, sizeof(name)), 0);
	assert_int_equal(sets_of(f), base + 1);
	/* Outside the zone: NOTZONE; delete the rest of the set. */
	struct command_dyn_rr out = add[1];
	out.owner = OUT;
	assert_int_not_equal(
	    apply(f, p_update(NULL, 0, &out, 1), name, sizeof(name)), 0);
	assert_string_equal(name, "NOTZONE");
	struct command_dyn_rr delset = {
	    .owner = WWW, .owner_len = sizeof(WWW), .type = 1, .rclass = 255};
	assert_int_equal(
	    apply(f, p_update(NULL, 0, &delset, 1), name, sizeof(name)), 0);
	assert_int_equal(sets_of(f), base);
	control_fsm_free(f);
}

/* An AXFR query for example.com., signed with key when given. */
static size_t make_query(uint8_t *buf, size_t cap, const knot_tsig_key_t *key)
{
	static const uint8_t q[] = {
	    0x12, 0x34, 0,   0,	  0,   1, 0,   0,   0,	 0, 0, 0,   7, 'e', 'x',
	    'a',  'm',	'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 252, 0, 1};
	size_t len = sizeof(q);
	uint8_t digest[64];
	size_t dlen = sizeof(digest);

	memcpy(buf, q, len);
	if (key != NULL)
		assert_int_equal(knot_tsig_sign(buf, &len, cap, NULL, 0, digest,
						&dlen, key, 0, 0),
				 KNOT_EOK);
	return len;
}

static bool took_it(void *arg, int fd, const struct sockaddr_storage *peer,
		    const uint8_t *query, size_t len, bool tcp)
{
	(void)fd;
	(void)peer;
	(void)query;
	(void)len;
	(void)tcp;
	(*(int *)arg)++;
	return false;
}

static void test_wire(void **state)
{
	uint8_t secret[32], q[512];
	knot_tsig_key_t key = {.algorithm = DNSSEC_TSIG_HMAC_SHA256};
	struct sockaddr_storage peer;
	struct xfr_out x;
	int calls = 0;
	(void)state;

	memset(secret, 7, sizeof(secret));
	key.name = knot_dname_from_str_alloc("xfr.key.");
	key.secret.data = secret;
	key.secret.size = sizeof(secret);

	/* Unsigned: parsed, refused NOTAUTH in one message. */
	size_t len = make_query(q, sizeof(q), NULL);
	assert_int_equal(xfr_out_open(&x, q, len), 0);
	assert_int_equal(x.qtype, XFR_QTYPE_AXFR);
	assert_false(x.has_tsig);
	assert_int_equal(x.qname_len, 13);
	assert_int_equal(xfr_out_refuse(&x, 9, 0), 0);
	assert_int_equal(x.messages, 1);
	assert_int_equal(x.stream[2 + 3] & 0xf, 9);
	xfr_out_close(&x);

	/* Signed: verified, 3000 records in several signed messages. */
	len = make_query(q, sizeof(q), &key);
	assert_int_equal(xfr_out_open(&x, q, len), 0);
	assert_true(x.has_tsig);
	assert_string_equal(x.tsig_name, "xfr.key.");
	uint8_t wrong[32];
	memset(wrong, 8, sizeof(wrong));
	struct xfr_out y;
	assert_int_equal(xfr_out_open(&y, q, len), 0);
	assert_int_equal(xfr_out_verify(&y, wrong, sizeof(wrong)),
			 KNOT_RCODE_BADSIG);
	xfr_out_close(&y);
	assert_int_equal(xfr_out_verify(&x, secret, sizeof(secret)), 0);
	static const uint8_t owner[] = "\3www\7example\3com";
	uint8_t rd[4] = {192, 0, 2, 1};
	for (int i = 0; i < 3000; i++) {
		rd[3] = (uint8_t)i;
		assert_int_equal(
		    xfr_out_rr(&x, owner, sizeof(owner), 1, 300, rd, 4), 0);
	}
	assert_int_equal(xfr_out_finish(&x), 0);
	assert_true(x.messages > 3);
	assert_int_equal(x.records, 3000);
	/* Every message's TSIG checks, each against the last MAC. */
	uint8_t prev[64];
	size_t prev_len = 0;
	knot_pkt_t *qp = knot_pkt_new(q, (uint16_t)len, NULL);
	assert_int_equal(knot_pkt_parse(qp, 0), KNOT_EOK);
	prev_len = knot_tsig_rdata_mac_length(qp->tsig_rr);
	memcpy(prev, knot_tsig_rdata_mac(qp->tsig_rr), prev_len);
	size_t off = 0;
	unsigned n = 0;
	while (off < x.stream_len) {
		size_t mlen = (size_t)x.stream[off] << 8 | x.stream[off + 1];
		uint8_t *m = x.stream + off + 2;
		knot_pkt_t *rp = knot_pkt_new(m, (uint16_t)mlen, NULL);
		assert_int_equal(knot_pkt_parse(rp, 0), KNOT_EOK);
		assert_non_null(rp->tsig_rr);
		int rv = n == 0 ? knot_tsig_client_check(rp->tsig_rr, rp->wire,
							 rp->size, prev,
							 prev_len, &key, 0)
				: knot_tsig_client_check_next(
				      rp->tsig_rr, rp->wire, rp->size, prev,
				      prev_len, &key, 0);
		assert_int_equal(rv, KNOT_EOK);
		prev_len = knot_tsig_rdata_mac_length(rp->tsig_rr);
		memcpy(prev, knot_tsig_rdata_mac(rp->tsig_rr), prev_len);
		knot_pkt_free(rp);
		off += 2 + mlen;
		n++;
	}
	assert_int_equal(n, x.messages);
	knot_pkt_free(qp);
	xfr_out_close(&x);

	/* The hand-off: a TCP transfer and a signed query are offered to
	 * the handler, an unsigned A query and a UDP AXFR are not. */
	memset(&peer, 0, sizeof(peer));
	peer.ss_family = AF_INET;
	dns_xfr_set_handler(took_it, &calls);
	assert_false(dns_xfr_take(STDIN_FILENO, &peer, q, len, true));
	assert_int_equal(calls, 1);
	len = make_query(q, sizeof(q), NULL);
	assert_false(dns_xfr_take(STDIN_FILENO, &peer, q, len, false));
	assert_int_equal(calls, 1);
	q[len - 3] = 1; /* type A */
	assert_false(dns_xfr_take(STDIN_FILENO, &peer, q, len, true));
	assert_int_equal(calls, 1);
	dns_xfr_set_handler(NULL, NULL);
	knot_dname_free(key.name, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_check),
	    cmocka_unit_test(test_command_apply_snapshot),
	    cmocka_unit_test(test_dynamic_update),
	    cmocka_unit_test(test_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
