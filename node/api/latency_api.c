#include "node/api/latency_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "node/api/commit_reply.h"
#include "node/api/edge_state.h"
#include "node/api/write_router.h"
#include "node/common/errcode.h"
#include "node/common/ids.h"
#include "node/control/control_fsm.h"
#include "node/control/latency_table.h"
#include "proto/api.pb-c.h"

/* --- writes (leader) ------------------------------------------------------ */

static void latency_done(struct proposal *s, int status,
			 const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__LatencySetResponse ls = Q53__API__LATENCY_SET_RESPONSE__INIT;
	Q53__Api__LatencyDeleteResponse ld =
	    Q53__API__LATENCY_DELETE_RESPONSE__INIT;
	struct command_result cr;
	bool decoded;

	if (commit_reply_failure(s->call, status, res, &cr, &decoded))
		goto out;
	uint32_t rows = (uint32_t)control_fsm_latency(n->fsm)->nrows;
	if (api_call_request(s->call)->body_case ==
	    Q53__API__REQUEST__BODY_LATENCY_SET) {
		ls.rows = rows;
		r.body_case = Q53__API__RESPONSE__BODY_LATENCY_SET;
		r.latency_set = &ls;
	} else {
		ld.rows = rows;
		r.body_case = Q53__API__RESPONSE__BODY_LATENCY_DELETE;
		r.latency_delete = &ld;
	}
	r.write_index = control_fsm_applied(n->fsm);
	api_reply(s->call, &r);
out:
	if (decoded)
		command_result_free(&cr);
}

/* The row of info (checked), or an answer to call and false. */
static bool row_of(struct api_call *call, const Q53__Api__LatencyRowInfo *info,
		   size_t i, bool rtts, struct latency_row *r)
{
	char why[160];
	memset(r, 0, sizeof(*r));
	if (!latency_cidr_parse(info->cidr, r)) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"row %zu: '%.64s' is not a CIDR block with its "
				"host bits zero (192.0.2.0/24, 2001:db8::/32)",
				i, info->cidr);
		return false;
	}
	if (!rtts)
		return true;
	if (info->n_regions != info->n_rtt_ms || info->n_regions == 0 ||
	    info->n_regions > LATENCY_ROW_REGIONS) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"row %zu (%.64s): 1 to %d regions, each with "
				"its RTT",
				i, info->cidr, LATENCY_ROW_REGIONS);
		return false;
	}
	for (size_t k = 0; k < info->n_regions; k++) {
		if (strlen(info->regions[k]) > LATENCY_NAME_MAX) {
			api_reply_error(call, API_ERR_INVALID_INPUT, false,
					"row %zu: region name too long", i);
			return false;
		}
		snprintf(r->rtt[k].region, sizeof(r->rtt[k].region), "%s",
			 info->regions[k]);
		r->rtt[k].rtt_ms = info->rtt_ms[k];
	}
	r->n = (uint8_t)info->n_regions;
	if (latency_row_check(r, why, sizeof(why)) != 0) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"row %zu (%.64s): %s", i, info->cidr, why);
		return false;
	}
	return true;
}

static void latency_write(struct api_edge *n, struct api_call *call)
{
	const Q53__Api__Request *req = api_call_request(call);
	struct command_set_latency_rows cmd = {.time_ms = ids_wall_ms()};
	struct command_payload p = {0};
	bool set = req->body_case == Q53__API__REQUEST__BODY_LATENCY_SET;
	size_t count =
	    set ? req->latency_set->n_rows : req->latency_delete->n_cidrs;
	struct latency_row *rows = calloc(count + 1, sizeof(*rows));

	if (rows == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		return;
	}
	for (size_t i = 0; i < count; i++) {
		Q53__Api__LatencyRowInfo del = Q53__API__LATENCY_ROW_INFO__INIT;
		const Q53__Api__LatencyRowInfo *info =
		    set ? req->latency_set->rows[i] : &del;
		if (!set)
			del.cidr = req->latency_delete->cidrs[i];
		if (!row_of(call, info, i, set, &rows[i])) {
			free(rows);
			return;
		}
	}
	if (set) {
		cmd.set = rows;
		cmd.n_set = count;
		cmd.clear = req->latency_set->replace_all;
	} else {
		cmd.remove = rows;
		cmd.n_remove = count;
	}
	int rv = command_encode_set_latency_rows(&cmd, &p);
	free(rows);
	commit_reply_propose(n, call, &p, rv, latency_done, NULL);
}

static void samples_done(struct proposal *s, int status,
			 const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__LatencySamplesResponse ls =
	    Q53__API__LATENCY_SAMPLES_RESPONSE__INIT;
	struct command_result cr;
	bool decoded;

	if (commit_reply_failure(s->call, status, res, &cr, &decoded))
		goto out;
	ls.index = control_fsm_applied(n->fsm);
	r.body_case = Q53__API__RESPONSE__BODY_LATENCY_SAMPLES;
	r.latency_samples = &ls;
	r.write_index = ls.index;
	api_reply(s->call, &r);
out:
	if (decoded)
		command_result_free(&cr);
}

/* A node's measured RTTs (health_votes.c forwards them here). */
static void latency_samples(struct api_edge *n, struct api_call *call,
			    const Q53__Api__LatencySamplesRequest *q)
{
	struct latency_rtt rtt[LATENCY_ROW_REGIONS];
	struct command_payload p = {0};
	size_t k = q->n_regions < LATENCY_ROW_REGIONS ? q->n_regions
						      : LATENCY_ROW_REGIONS;
	for (size_t i = 0; i < k; i++) {
		snprintf(rtt[i].region, sizeof(rtt[i].region), "%s",
			 q->regions[i]);
		rtt[i].rtt_ms = q->rtt_ms[i];
	}
	struct command_latency_samples cmd = {.node_id = q->node_id,
					      .site = q->site,
					      .rtt = rtt,
					      .n = k,
					      .time_ms = q->measured_at_ms};
	commit_reply_propose(n, call, &p,
			     command_encode_latency_samples(&cmd, &p),
			     samples_done, NULL);
}

void latency_api_execute(struct api_edge *n, struct api_call *call)
{
	const Q53__Api__Request *req = api_call_request(call);
	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_LATENCY_SET:
	case Q53__API__REQUEST__BODY_LATENCY_DELETE:
		latency_write(n, call);
		return;
	case Q53__API__REQUEST__BODY_LATENCY_SAMPLES:
		latency_samples(n, call, req->latency_samples);
		return;
	default:
		api_reply_error(call, API_ERR_INTERNAL, false,
				"not a latency operation");
		return;
	}
}

/* --- reads ---------------------------------------------------------------- */

/* info for rtt[0..n) (regions and RTTs borrowed), the cidr in cidr. */
static void info_of(Q53__Api__LatencyRowInfo *info, char **regions,
		    uint32_t *rtt_ms, const struct latency_rtt *rtt, size_t n)
{
	q53__api__latency_row_info__init(info);
	for (size_t k = 0; k < n; k++) {
		regions[k] = (char *)rtt[k].region;
		rtt_ms[k] = rtt[k].rtt_ms;
	}
	info->regions = regions;
	info->n_regions = n;
	info->rtt_ms = rtt_ms;
	info->n_rtt_ms = n;
}

static void latency_list(struct api_edge *n, struct api_call *call)
{
	const struct latency_table *t = control_fsm_latency(n->fsm);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__LatencyListResponse ll =
	    Q53__API__LATENCY_LIST_RESPONSE__INIT;
	size_t total = t->nrows + t->nsites;
	Q53__Api__LatencyRowInfo *items = calloc(total + 1, sizeof(*items));
	Q53__Api__LatencyRowInfo **ptrs = calloc(total + 1, sizeof(*ptrs));
	char **regions =
	    calloc(total * LATENCY_ROW_REGIONS + 1, sizeof(*regions));
	uint32_t *rtt = calloc(total * LATENCY_ROW_REGIONS + 1, sizeof(*rtt));
	char(*cidrs)[64] = calloc(t->nrows + 1, sizeof(*cidrs));

	if (items == NULL || ptrs == NULL || regions == NULL || rtt == NULL ||
	    cidrs == NULL) {
		api_reply_error(call, API_ERR_INTERNAL, false, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < total; i++) {
		size_t base = i * LATENCY_ROW_REGIONS;
		if (i < t->nrows) {
			const struct latency_row *row = &t->rows[i];
			info_of(&items[i], regions + base, rtt + base, row->rtt,
				row->n);
			latency_cidr_format(row, cidrs[i], sizeof(cidrs[i]));
			items[i].cidr = cidrs[i];
		} else {
			const struct latency_site *s = &t->sites[i - t->nrows];
			info_of(&items[i], regions + base, rtt + base, s->rtt,
				s->n);
			items[i].site = (char *)s->site;
			items[i].node_id = s->node_id;
			items[i].time_ms = s->time_ms;
		}
		ptrs[i] = &items[i];
	}
	ll.rows = ptrs;
	ll.n_rows = t->nrows;
	ll.sites = ptrs + t->nrows;
	ll.n_sites = t->nsites;
	r.body_case = Q53__API__RESPONSE__BODY_LATENCY_LIST;
	r.latency_list = &ll;
	api_reply(call, &r);
out:
	free(items);
	free(ptrs);
	free(regions);
	free(rtt);
	free(cidrs);
}

static void be_latency_set(void *data, struct api_call *call,
			   const Q53__Api__LatencySetRequest *req)
{
	struct api_edge *n = data;
	(void)req;
	write_router_submit(n->router, call);
}

static void be_latency_delete(void *data, struct api_call *call,
			      const Q53__Api__LatencyDeleteRequest *req)
{
	struct api_edge *n = data;
	(void)req;
	write_router_submit(n->router, call);
}

static void be_latency_samples(void *data, struct api_call *call,
			       const Q53__Api__LatencySamplesRequest *req)
{
	struct api_edge *n = data;
	(void)req;
	write_router_submit(n->router, call);
}

static void be_latency_list(void *data, struct api_call *call,
			    const Q53__Api__LatencyListRequest *req)
{
	(void)req;
	latency_list(data, call);
}

void latency_api_backend(struct api_backend *b)
{
	b->latency_set = be_latency_set;
	b->latency_delete = be_latency_delete;
	b->latency_list = be_latency_list;
	b->latency_samples = be_latency_samples;
}
