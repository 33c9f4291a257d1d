/* test-answer: one synthesized query through the real query path (see
 * answer_api.h). */
#include "node/api/answer_api.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include "cluster/api_msg.h"
#include "node/api/api_render.h"
#include "node/api/edge_state.h"
#include "node/common/errcode.h"
#include "node/control/control_fsm.h"
#include "node/control/zone_store.h"
#include "node/dns/query.h"
#include "node/zone/view.h"
#include "proto/api.pb-c.h"

/* Records of one answer read back (values, branch). */
#define ANSWER_MAX     64
#define RDATA_DUMP_MAX 70000

/* "ADDR/LEN" (LEN optional: 24 or 56) into an ECS option's data (RFC 7871
 * 6): its length, or 0 when malformed. */
static size_t ecs_data(const char *text, uint8_t *out)
{
	char addr[64];
	uint8_t bin[16] = {0};
	const char *slash = strchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof(addr))
		return 0;
	memcpy(addr, text, n);
	addr[n] = '\0';
	int family = strchr(addr, ':') != NULL ? 2 : 1;
	if (inet_pton(family == 1 ? AF_INET : AF_INET6, addr, bin) != 1)
		return 0;
	unsigned max = family == 1 ? 32 : 128, len = family == 1 ? 24 : 56;
	if (slash != NULL) {
		char *end;
		unsigned long v = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || v > max)
			return 0;
		len = (unsigned)v;
	}
	size_t bytes = (len + 7) / 8;
	out[0] = 0;
	out[1] = (uint8_t)family;
	out[2] = (uint8_t)len;
	out[3] = 0;
	memcpy(out + 4, bin, bytes);
	if (len % 8 != 0)
		out[4 + bytes - 1] &= (uint8_t)(0xff << (8 - len % 8));
	return 4 + bytes;
}

/* The query into q (cap bytes): its length, or 0. */
static size_t make_query(const uint8_t *qname, uint16_t type, uint16_t id,
			 const uint8_t *ecs, size_t ecs_len, uint8_t *q,
			 size_t cap)
{
	size_t len = 0;
	memset(q, 0, cap); /* knot_pkt_new keeps the buffer's header */
	knot_pkt_t *pkt = knot_pkt_new(q, cap, NULL);
	knot_rrset_t opt;
	if (pkt == NULL)
		return 0;
	knot_wire_set_id(pkt->wire, id);
	knot_wire_set_rd(pkt->wire);
	if (knot_pkt_put_question(pkt, qname, KNOT_CLASS_IN, type) != 0 ||
	    knot_edns_init(&opt, DNS_UDP_PAYLOAD_DEFAULT, 0, 0, NULL) != 0)
		goto out;
	if (ecs_len > 0 &&
	    knot_edns_add_option(&opt, KNOT_EDNS_OPTION_CLIENT_SUBNET,
				 (uint16_t)ecs_len, ecs, NULL) != 0) {
		knot_rrset_clear(&opt, NULL);
		goto out;
	}
	if (knot_pkt_begin(pkt, KNOT_ADDITIONAL) != 0 ||
	    knot_pkt_put(pkt, 0, &opt, KNOT_PF_FREE) != 0) {
		knot_rrset_clear(&opt, NULL);
		goto out;
	}
	len = pkt->size;
out:
	knot_pkt_free(pkt);
	return len;
}

static void be_test_answer(void *data, struct api_call *call,
			   const Q53__Api__TestAnswerRequest *req)
{
	struct api_edge *n = data;
	const struct zone_store *store = control_fsm_zone_store(n->fsm);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__TestAnswerResponse ta = Q53__API__TEST_ANSWER_RESPONSE__INIT;
	struct zone_store_info info;
	struct dns_client client = {0};
	uint8_t qname[KNOT_DNAME_MAXLEN], ecs[20], q[512];
	uint8_t resp[DNS_UDP_PAYLOAD_DEFAULT];
	char err[512], server[32], rtype[32], rname[KNOT_DNAME_TXT_MAXLEN + 1];
	char branch[1024] = "";
	char *values[ANSWER_MAX];
	struct rrset_rdata answer[ANSWER_MAX];
	size_t nvalues = 0, nanswer = 0, ecs_len = 0;
	uint16_t type;

	if (api_render_resolve(store, req->zone, &info, err, sizeof(err)) !=
	    0) {
		api_reply_error_text(call, err);
		return;
	}
	if (knot_rrtype_from_string(req->type, &type) != 0) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"unknown record type '%.32s'", req->type);
		return;
	}
	if (knot_dname_from_str(qname, req->name, sizeof(qname)) == NULL) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"'%.255s' is not a valid DNS name", req->name);
		return;
	}
	knot_dname_to_lower(qname);
	if (req->resolver_ip[0] != '\0') {
		bool v6 = strchr(req->resolver_ip, ':') != NULL;
		client.family = v6 ? 6 : 4;
		if (inet_pton(v6 ? AF_INET6 : AF_INET, req->resolver_ip,
			      client.addr) != 1) {
			api_reply_error(call, API_ERR_INVALID_INPUT, false,
					"resolver IP '%.64s' is not an IPv4 "
					"or IPv6 address",
					req->resolver_ip);
			return;
		}
	}
	if (req->client_subnet[0] != '\0' &&
	    (ecs_len = ecs_data(req->client_subnet, ecs)) == 0) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"client subnet '%.64s' is not ADDRESS[/LENGTH]",
				req->client_subnet);
		return;
	}
	size_t qlen = make_query(qname, type, (uint16_t)req->id, ecs, ecs_len,
				 q, sizeof(q));
	/* The node's --geoip file: geolocation and geoproximity answer as
	 * the query path's do. */
	struct dns_query_params p = {.udp_payload = DNS_UDP_PAYLOAD_DEFAULT,
				     .geo = n->geo};
	size_t rlen =
	    qlen == 0
		? 0
		: dns_query_answer_from(serving_view_current(), &p,
					client.family != 0 ? &client : NULL, q,
					qlen, resp, sizeof(resp));
	knot_pkt_t *pkt = rlen > 0 ? knot_pkt_new(resp, rlen, NULL) : NULL;
	if (pkt == NULL || knot_pkt_parse(pkt, 0) != 0) {
		knot_pkt_free(pkt);
		api_reply_error(call, API_ERR_INTERNAL, false,
				"the query path gave no answer");
		return;
	}
	const knot_pktsection_t *an = knot_pkt_section(pkt, KNOT_ANSWER);
	char *buf = malloc(RDATA_DUMP_MAX);
	for (uint16_t i = 0; buf != NULL && i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		bool same =
		    rr->type == type && knot_dname_is_equal(rr->owner, qname);
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t k = 0; k < rr->rrs.count && nvalues < ANSWER_MAX;
		     k++, rd = knot_rdataset_next(rd)) {
			if (knot_rrset_txt_dump_data(rr, k, buf, RDATA_DUMP_MAX,
						     &KNOT_DUMP_STYLE_DEFAULT) <
			    0)
				continue;
			values[nvalues] = strdup(buf);
			if (values[nvalues] == NULL)
				break;
			nvalues++;
			if (same)
				answer[nanswer++] =
				    (struct rrset_rdata){rd->data, rd->len};
		}
	}
	free(buf);
	zone_store_answer_branch(store, info.id, qname, type, answer, nanswer,
				 control_fsm_health_lookup, n->fsm, branch,
				 sizeof(branch));
	const knot_lookup_t *rc =
	    knot_lookup_by_id(knot_rcode_names, knot_wire_get_rcode(resp));
	knot_dname_to_str(rname, qname, sizeof(rname));
	knot_rrtype_to_string(type, rtype, sizeof(rtype));
	snprintf(server, sizeof(server), "node %llu",
		 (unsigned long long)n->id);
	ta.nameserver = server;
	ta.record_name = rname;
	ta.record_type = rtype;
	ta.record_data = values;
	ta.n_record_data = nvalues;
	ta.response_code = (char *)(rc != NULL ? rc->name : "UNKNOWN");
	ta.protocol = "UDP";
	ta.branch = branch;
	ta.response.data = resp;
	ta.response.len = rlen;
	r.body_case = Q53__API__RESPONSE__BODY_TEST_ANSWER;
	r.test_answer = &ta;
	api_reply(call, &r);
	for (size_t i = 0; i < nvalues; i++)
		free(values[i]);
	knot_pkt_free(pkt);
}

void answer_api_backend(struct api_backend *b)
{
	b->test_answer = be_test_answer;
}
