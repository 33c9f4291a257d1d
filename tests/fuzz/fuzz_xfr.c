/* libFuzzer target for what zone transfers read from the network: a
 * request handed over by the DNS workers (node/dns/xfr_out.h: AXFR, IXFR
 * with its SOA, a signed SOA query; its TSIG checked against a fixed key
 * with libknot), a NOTIFY answer, and the stream of AXFR answer messages
 * the CLI's migration client reads (cluster/axfr_in.h, bit 6 of the mode;
 * signed with bit 0), and an RFC 2136 UPDATE's sections, which with bit 5
 * are proposed as the leader would and applied to an FSM holding the zone
 * (node/control/dyn_update.h: prerequisites and updates at apply). The first
 * byte picks a path; the rest is the message. It must never crash or leak, the
 * hand-off's quick classification must agree with the full parse on what a
 * transfer is, and every answer built must be a stream of whole length-prefixed
 * messages.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_xfr CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <raft.h>

#include "cluster/axfr_in.h"
#include "node/common/errcode.h"
#include "node/control/command.h"
#include "node/control/control_fsm.h"
#include "node/control/xfr_config.h"
#include "node/dns/xfr_out.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t SECRET[32] = "q53-fuzz-xfr-secret-0123456789ab";
static const uint8_t OWNER[] = "\3www\7example\4test";

/* An FSM holding example.test. whose key "fuzz." may update it. */
static struct control_fsm *f;

static struct control_fsm *update_fsm(void)
{
	static const char *const ns[] = {"ns1.example.test."};
	struct command_payload p;
	struct q53_fsm *b;
	int32_t code;
	uint8_t *out;
	size_t len;

	if (f != NULL)
		return f;
	if (control_fsm_new(&f) != 0)
		abort();
	b = control_fsm_base(f);
	struct command_create_hosted_zone z = {.id = "Z0123456789ABC",
					       .name = "example.test.",
					       .nameservers = ns,
					       .n_nameservers = 1,
					       .time_ms = 1};
	if (command_encode_create_hosted_zone(&z, &p) != 0 ||
	    b->apply(b, p.type, p.data, p.len, &code, &out, &len) != 0 ||
	    code != 0)
		abort();
	raft_free(out);
	command_payload_clear(&p);
	struct xfr_config c;
	memset(&c, 0, sizeof(c));
	snprintf(c.zone_id, sizeof(c.zone_id), "Z0123456789ABC");
	snprintf(c.keys[0].name, sizeof(c.keys[0].name), "fuzz.");
	memcpy(c.keys[0].secret, SECRET, sizeof(SECRET));
	c.keys[0].secret_len = sizeof(SECRET);
	c.n_keys = 1;
	c.allow_update = true;
	struct command_set_zone_transfer t = {.config = &c, .time_ms = 2};
	if (command_encode_set_zone_transfer(&t, &p) != 0 ||
	    b->apply(b, p.type, p.data, p.len, &code, &out, &len) != 0 ||
	    code != 0)
		abort();
	raft_free(out);
	command_payload_clear(&p);
	return f;
}

/* The UPDATE in x, as the leader proposes it, applied: apply must answer
 * (0 or a rejection), never fail. */
static void apply_update(const struct xfr_out *x)
{
	static unsigned seq;
	static struct xfr_update_rr pre[64], upd[64];
	struct command_dyn_rr cp[64], cu[64];
	struct q53_fsm *b = control_fsm_base(update_fsm());
	struct command_payload p;
	char change_id[24];
	int32_t code;
	uint8_t *out = NULL;
	size_t len, np, nu;

	np = xfr_out_update_rrs(x, true, pre, 64);
	nu = xfr_out_update_rrs(x, false, upd, 64);
	if (np > 64 || nu > 64)
		return;
	for (size_t i = 0; i < np + nu; i++) {
		const struct xfr_update_rr *r = i < np ? &pre[i] : &upd[i - np];
		struct command_dyn_rr *d = i < np ? &cp[i] : &cu[i - np];
		*d = (struct command_dyn_rr){.owner = r->owner,
					     .owner_len = r->owner_len,
					     .type = r->type,
					     .rclass = r->rclass,
					     .ttl = r->ttl,
					     .rdata = r->rdata,
					     .rdlen = r->rdlen};
	}
	snprintf(change_id, sizeof(change_id), "CFUZZ%u", ++seq);
	struct command_dynamic_update u = {.zone_id = "Z0123456789ABC",
					   .change_id = change_id,
					   .key_name = "fuzz.",
					   .prereqs = cp,
					   .n_prereqs = np,
					   .updates = cu,
					   .n_updates = nu,
					   .time_ms = 3};
	if (command_encode_dynamic_update(&u, &p) != 0)
		return;
	if (b->apply(b, p.type, p.data, p.len, &code, &out, &len) != 0)
		abort();
	raft_free(out);
	command_payload_clear(&p);
	/* A fresh zone now and then: the state must not grow without end. */
	if (seq % 2000 == 0) {
		control_fsm_free(f);
		f = NULL;
	}
}

static int took;

static bool take(void *arg, int fd, const struct sockaddr_storage *peer,
		 const uint8_t *query, size_t len, bool tcp)
{
	(void)arg;
	(void)fd;
	(void)peer;
	(void)query;
	(void)len;
	(void)tcp;
	took++;
	return false; /* dns_xfr_take closes its dup */
}

static void check_stream(const struct xfr_out *x)
{
	size_t off = 0;
	unsigned n = 0;

	while (off < x->stream_len) {
		if (x->stream_len - off < 2)
			abort();
		size_t len = (size_t)x->stream[off] << 8 | x->stream[off + 1];
		if (len < 12 || x->stream_len - off - 2 < len)
			abort();
		off += 2 + len;
		n++;
	}
	if (n != x->messages)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct sockaddr_storage peer;
	struct xfr_out x;
	unsigned rcode;
	uint8_t rd[4] = {192, 0, 2, 1};

	if (!init) {
		dns_xfr_set_handler(take, NULL);
		init = true;
	}
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	if (mode & 0x80) {
		(void)xfr_notify_is_answer(data, size, 0x1234, &rcode);
		return 0;
	}
	if (mode & 0x40) {
		/* The CLI's AXFR client: the rest is the answer stream. */
		struct axfr_in a;
		uint8_t q[512], *copy = malloc(size + 1);
		size_t off = 0;
		if (copy == NULL)
			return 0;
		memcpy(copy, data, size);
		if (axfr_in_init(&a, "example.test.",
				 (mode & 1) ? "fuzz.:hmac-sha256:"
					      "cTUzLWZ1enoteGZyLXNlY3JldC0wMTIz"
					      "NDU2Nzg5YWI="
					    : NULL) == 0 &&
		    axfr_in_query(&a, 0x1234, q, sizeof(q)) > 0) {
			while (!a.done && size - off >= 2) {
				size_t len =
				    (size_t)copy[off] << 8 | copy[off + 1];
				if (size - off - 2 < len)
					break;
				if (axfr_in_feed(&a, copy + off + 2, len) != 0)
					break;
				off += 2 + len;
			}
			if (a.text != NULL && strlen(a.text) != a.text_len)
				abort();
		}
		axfr_in_free(&a);
		free(copy);
		return 0;
	}
	memset(&peer, 0, sizeof(peer));
	peer.ss_family = AF_INET;
	/* The quick look of the hand-off (its dup and close included). */
	(void)dns_xfr_take(STDIN_FILENO, &peer, data, size, mode & 1);
	int rv = xfr_out_open(&x, data, size);
	if (rv == 0) {
		if (x.qname_len == 0 || x.qname_len > 255)
			abort();
		if (x.opcode == 5) {
			/* An RFC 2136 UPDATE's sections. */
			struct xfr_update_rr rr[8];
			size_t n = xfr_out_update_rrs(&x, true, rr, 8);
			if (n > 9)
				abort();
			n = xfr_out_update_rrs(&x, false, rr, 8);
			for (size_t i = 0; i < n && i < 8; i++)
				if (rr[i].owner_len == 0 ||
				    rr[i].owner_len > sizeof(rr[i].owner))
					abort();
			if (mode & 0x20)
				apply_update(&x);
		}
		int v = xfr_out_verify(&x, SECRET, sizeof(SECRET));
		if (v > 0)
			rv = xfr_out_refuse(&x, 9, (uint16_t)v);
		else if (v == 0 || !x.has_tsig) {
			if (mode & 2)
				xfr_out_set_rcode(&x, 5);
			for (unsigned i = 0; rv == 0 && i < (mode & 0x3cu); i++)
				rv = xfr_out_rr(&x, OWNER, sizeof(OWNER), 1,
						300, rd, sizeof(rd));
			if (rv == 0)
				rv = xfr_out_finish(&x);
		} else
			rv = xfr_out_refuse(&x, 5, 0);
		if (rv == 0)
			check_stream(&x);
	} else if (rv != Q53_EMALF && rv != Q53_ENOMEM)
		abort();
	xfr_out_close(&x);
	return 0;
}
