/* The Traffic Flow commands and snapshot fields (see command_flow.h). */
#include "node/control/command_flow.h"

#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/zone_store_flow.h"
#include "node/dnsdata/dname.h"
#include "proto/command.pb-c.h"

static char *str_in(const char *s)
{
	return (char *)(s != NULL ? s : "");
}

static int pack_payload(uint16_t type, const ProtobufCMessage *msg,
			struct command_payload *out)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	out->type = type;
	out->data = NULL;
	out->len = 0;
	if (n == 0)
		return 0;
	out->data = raft_malloc(n);
	if (out->data == NULL)
		return Q53_ENOMEM;
	out->len = protobuf_c_message_pack(msg, out->data);
	return 0;
}

/* The message of policy p (pointing into it; arrays in mem[0..]). */
struct pol_pb {
	Q53__Command__TrafficPolicy m;
	Q53__Command__TrafficRule *rules;
	Q53__Command__TrafficRule **rule_ptrs;
	Q53__Command__TrafficItem *items;
	Q53__Command__TrafficItem **item_ptrs;
	Q53__Command__TrafficEndpoint *eps;
	Q53__Command__TrafficEndpoint **ep_ptrs;
};

static void pol_pb_free(struct pol_pb *x)
{
	free(x->rules);
	free(x->rule_ptrs);
	free(x->items);
	free(x->item_ptrs);
	free(x->eps);
	free(x->ep_ptrs);
}

static int pol_pb_fill(struct pol_pb *x, const char *id, uint32_t version,
		       const char *name, const char *comment,
		       const char *document, const struct traffic_policy *p,
		       uint64_t time_ms)
{
	size_t nitems = 0;
	memset(x, 0, sizeof(*x));
	for (size_t i = 0; i < p->nrules; i++)
		nitems += p->rules[i].nitems;
	x->rules = calloc(p->nrules + 1, sizeof(*x->rules));
	x->rule_ptrs = calloc(p->nrules + 1, sizeof(*x->rule_ptrs));
	x->items = calloc(nitems + 1, sizeof(*x->items));
	x->item_ptrs = calloc(nitems + 1, sizeof(*x->item_ptrs));
	x->eps = calloc(p->nendpoints + 1, sizeof(*x->eps));
	x->ep_ptrs = calloc(p->nendpoints + 1, sizeof(*x->ep_ptrs));
	if (x->rules == NULL || x->rule_ptrs == NULL || x->items == NULL ||
	    x->item_ptrs == NULL || x->eps == NULL || x->ep_ptrs == NULL) {
		pol_pb_free(x);
		return Q53_ENOMEM;
	}
	q53__command__traffic_policy__init(&x->m);
	x->m.command_version = traffic_policy_needs_geo_version(p)
				   ? COMMAND_VERSION_TRAFFIC_FLOW_GEO
				   : COMMAND_VERSION_TRAFFIC_FLOW;
	x->m.id = str_in(id);
	x->m.version = version;
	x->m.name = str_in(name);
	x->m.comment = str_in(comment);
	x->m.document = str_in(document);
	x->m.record_type = p->type;
	x->m.start_is_rule = p->start_is_rule;
	x->m.start = p->start;
	x->m.time_ms = time_ms;
	size_t k = 0;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct traffic_rule *r = &p->rules[i];
		Q53__Command__TrafficRule *pr = &x->rules[i];
		q53__command__traffic_rule__init(pr);
		pr->name = str_in(r->name);
		pr->type = (uint32_t)r->type;
		pr->items = &x->item_ptrs[k];
		pr->n_items = r->nitems;
		for (size_t j = 0; j < r->nitems; j++, k++) {
			const struct traffic_item *it = &r->items[j];
			Q53__Command__TrafficItem *pi = &x->items[k];
			q53__command__traffic_item__init(pi);
			pi->is_rule = it->is_rule;
			pi->ref = it->ref;
			pi->health_check = str_in(it->health_check);
			pi->evaluate = it->evaluate;
			pi->weight = it->weight;
			pi->geo = it->geo;
			pi->continent = (char *)it->continent;
			pi->country = (char *)it->country;
			pi->subdivision = (char *)it->subdivision;
			pi->region = (char *)it->region;
			pi->gp_lat = it->gp_lat;
			pi->gp_lon = it->gp_lon;
			pi->gp_bias = it->gp_bias;
			pi->gp_region = (char *)it->gp_region;
			pi->cidr_collection = (char *)it->cidr_collection;
			pi->cidr_location = (char *)it->cidr_location;
			x->item_ptrs[k] = pi;
		}
		x->rule_ptrs[i] = pr;
	}
	for (size_t i = 0; i < p->nendpoints; i++) {
		const struct traffic_endpoint *e = &p->endpoints[i];
		Q53__Command__TrafficEndpoint *pe = &x->eps[i];
		q53__command__traffic_endpoint__init(pe);
		pe->name = str_in(e->name);
		pe->value = str_in(e->value);
		pe->rdata.data = e->rdata;
		pe->rdata.len = e->rdlen;
		x->ep_ptrs[i] = pe;
	}
	x->m.rules = x->rule_ptrs;
	x->m.n_rules = p->nrules;
	x->m.endpoints = x->ep_ptrs;
	x->m.n_endpoints = p->nendpoints;
	return 0;
}

int command_encode_traffic_policy(const struct command_traffic_policy *c,
				  struct command_payload *out)
{
	struct pol_pb x;
	if (c->policy == NULL)
		return Q53_EINVAL;
	int rc = pol_pb_fill(&x, c->id, c->version, c->name, c->comment,
			     c->document, c->policy, c->time_ms);
	if (rc != 0)
		return rc;
	rc = pack_payload(COMMAND_CREATE_TRAFFIC_POLICY, &x.m.base, out);
	pol_pb_free(&x);
	return rc;
}

int command_encode_traffic_policy_change(
    uint16_t type, const struct command_traffic_policy_change *c,
    struct command_payload *out)
{
	Q53__Command__TrafficPolicyChange m;
	if (type != COMMAND_UPDATE_TRAFFIC_POLICY_COMMENT &&
	    type != COMMAND_DELETE_TRAFFIC_POLICY)
		return Q53_EINVAL;
	q53__command__traffic_policy_change__init(&m);
	m.command_version = COMMAND_VERSION_TRAFFIC_FLOW;
	m.id = str_in(c->id);
	m.version = c->version;
	m.comment = str_in(c->comment);
	m.time_ms = c->time_ms;
	return pack_payload(type, &m.base, out);
}

static void inst_pb(Q53__Command__TrafficPolicyInstance *m,
		    const struct command_traffic_instance *c)
{
	q53__command__traffic_policy_instance__init(m);
	m->command_version = COMMAND_VERSION_TRAFFIC_FLOW;
	m->action = (uint32_t)c->action;
	m->id = str_in(c->id);
	m->zone_id = str_in(c->zone_id);
	m->name.data = (uint8_t *)(uintptr_t)c->name;
	m->name.len = c->name != NULL ? c->name_len : 0;
	m->ttl = c->ttl;
	m->policy_id = str_in(c->policy_id);
	m->policy_version = c->policy_version;
	m->time_ms = c->time_ms;
}

int command_encode_traffic_instance(const struct command_traffic_instance *c,
				    struct command_payload *out)
{
	Q53__Command__TrafficPolicyInstance m;
	inst_pb(&m, c);
	return pack_payload(COMMAND_TRAFFIC_POLICY_INSTANCE, &m.base, out);
}

/* --- decode and apply --- */

static char *dup_or_null(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return NULL;
	size_t n = strlen(s);
	char *c = malloc(n + 1);
	if (c != NULL)
		memcpy(c, s, n + 1);
	return c;
}

/* The typed policy of message m into *p (shape only: the store checks
 * the rest). Rule types 6 and 7 only in command_version 10, and a
 * version 10 policy holds one of them (what the proposer writes). 0,
 * Q53_EMALF, Q53_ENOMEM. */
static int pb_to_policy(const Q53__Command__TrafficPolicy *m,
			struct traffic_policy *p)
{
	uint32_t type_max =
	    m->command_version == COMMAND_VERSION_TRAFFIC_FLOW_GEO
		? TRAFFIC_RULE_TYPE_MAX
		: TRAFFIC_RULE_LATENCY;
	memset(p, 0, sizeof(*p));
	if (m->record_type == 0 || m->record_type > UINT16_MAX ||
	    m->n_rules > TRAFFIC_POLICY_RULES_MAX ||
	    m->n_endpoints > TRAFFIC_POLICY_ENDPOINTS_MAX)
		return Q53_EMALF;
	p->type = (uint16_t)m->record_type;
	p->start_is_rule = m->start_is_rule;
	p->start = m->start;
	p->rules = calloc(m->n_rules + 1, sizeof(*p->rules));
	p->endpoints = calloc(m->n_endpoints + 1, sizeof(*p->endpoints));
	if (p->rules == NULL || p->endpoints == NULL)
		goto nomem;
	for (size_t i = 0; i < m->n_rules; i++) {
		const Q53__Command__TrafficRule *pr = m->rules[i];
		struct traffic_rule *r = &p->rules[i];
		p->nrules = i + 1;
		if (pr->n_items > TRAFFIC_POLICY_ITEMS_MAX ||
		    pr->type > type_max ||
		    strlen(pr->name) > TRAFFIC_POLICY_KEY_MAX)
			return Q53_EMALF;
		r->type = (enum traffic_rule_type)pr->type;
		if (pr->name[0] == '\0')
			return Q53_EMALF;
		r->name = dup_or_null(pr->name);
		r->items = calloc(pr->n_items + 1, sizeof(*r->items));
		if (r->name == NULL || r->items == NULL)
			goto nomem;
		for (size_t j = 0; j < pr->n_items; j++) {
			const Q53__Command__TrafficItem *pi = pr->items[j];
			struct traffic_item *it = &r->items[j];
			r->nitems = j + 1;
			if (pi->weight > 255 || strlen(pi->continent) > 2 ||
			    strlen(pi->country) > 2 ||
			    strlen(pi->subdivision) > 3 ||
			    strlen(pi->region) > TRAFFIC_POLICY_REGION_MAX ||
			    strlen(pi->health_check) > 64 ||
			    strlen(pi->gp_region) >
				TRAFFIC_POLICY_GP_REGION_MAX ||
			    strlen(pi->cidr_collection) >
				TRAFFIC_POLICY_CIDR_ID_MAX ||
			    strlen(pi->cidr_location) >
				TRAFFIC_POLICY_CIDR_LOCATION_MAX)
				return Q53_EMALF;
			it->gp_lat = pi->gp_lat;
			it->gp_lon = pi->gp_lon;
			it->gp_bias = pi->gp_bias;
			memcpy(it->gp_region, pi->gp_region,
			       strlen(pi->gp_region) + 1);
			memcpy(it->cidr_collection, pi->cidr_collection,
			       strlen(pi->cidr_collection) + 1);
			memcpy(it->cidr_location, pi->cidr_location,
			       strlen(pi->cidr_location) + 1);
			it->is_rule = pi->is_rule;
			it->ref = pi->ref;
			it->evaluate = pi->evaluate;
			it->weight = (uint8_t)pi->weight;
			it->geo = pi->geo;
			memcpy(it->continent, pi->continent,
			       strlen(pi->continent) + 1);
			memcpy(it->country, pi->country,
			       strlen(pi->country) + 1);
			memcpy(it->subdivision, pi->subdivision,
			       strlen(pi->subdivision) + 1);
			memcpy(it->region, pi->region, strlen(pi->region) + 1);
			if (pi->health_check[0] != '\0') {
				it->health_check =
				    dup_or_null(pi->health_check);
				if (it->health_check == NULL)
					goto nomem;
			}
		}
	}
	if (m->command_version == COMMAND_VERSION_TRAFFIC_FLOW_GEO &&
	    !traffic_policy_needs_geo_version(p))
		return Q53_EMALF;
	for (size_t i = 0; i < m->n_endpoints; i++) {
		const Q53__Command__TrafficEndpoint *pe = m->endpoints[i];
		struct traffic_endpoint *e = &p->endpoints[i];
		p->nendpoints = i + 1;
		if (pe->rdata.len > UINT16_MAX ||
		    strlen(pe->name) > TRAFFIC_POLICY_KEY_MAX)
			return Q53_EMALF;
		if (pe->name[0] == '\0')
			return Q53_EMALF;
		e->name = dup_or_null(pe->name);
		e->value = malloc(strlen(pe->value) + 1);
		e->rdata = malloc(pe->rdata.len + 1);
		if (e->name == NULL || e->value == NULL || e->rdata == NULL)
			goto nomem;
		memcpy(e->value, pe->value, strlen(pe->value) + 1);
		if (pe->rdata.len > 0)
			memcpy(e->rdata, pe->rdata.data, pe->rdata.len);
		e->rdlen = (uint16_t)pe->rdata.len;
	}
	return 0;
nomem:
	return Q53_ENOMEM;
}

/* protobuf-c's allocations, noting a failure: out of memory is
 * Q53_ENOMEM, never Q53_EMALF (a replica must not reject what another
 * accepts). */
static void *pa_alloc(void *data, size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		*(bool *)data = true;
	return p;
}

static void pa_free(void *data, void *p)
{
	(void)data;
	free(p);
}

static bool version_ok(uint32_t v)
{
	return v == COMMAND_VERSION_TRAFFIC_FLOW;
}

int command_flow_apply(struct zone_store *s, uint16_t type,
		       const uint8_t *payload, size_t len, bool dry_run,
		       char *zone_id, char *err, size_t errlen)
{
	int rc = Q53_EMALF;
	bool nomem = false;
	ProtobufCAllocator pa = {pa_alloc, pa_free, &nomem};
	zone_id[0] = '\0';
	err[0] = '\0';
	if (type == COMMAND_CREATE_TRAFFIC_POLICY) {
		Q53__Command__TrafficPolicy *m =
		    q53__command__traffic_policy__unpack(&pa, len, payload);
		if (m == NULL)
			return nomem ? Q53_ENOMEM : Q53_EMALF;
		struct traffic_policy p;
		memset(&p, 0, sizeof(p));
		if (version_ok(m->command_version) ||
		    m->command_version == COMMAND_VERSION_TRAFFIC_FLOW_GEO)
			rc = pb_to_policy(m, &p);
		if (rc == 0 && dry_run)
			traffic_policy_free(&p);
		else if (rc == 0)
			rc = zone_store_policy_create(
			    s, m->id, m->version, m->name, m->comment,
			    m->document, &p, err, errlen);
		else
			traffic_policy_free(&p);
		q53__command__traffic_policy__free_unpacked(m, &pa);
		return rc;
	}
	if (type == COMMAND_UPDATE_TRAFFIC_POLICY_COMMENT ||
	    type == COMMAND_DELETE_TRAFFIC_POLICY) {
		Q53__Command__TrafficPolicyChange *m =
		    q53__command__traffic_policy_change__unpack(&pa, len,
								payload);
		if (m == NULL)
			return nomem ? Q53_ENOMEM : Q53_EMALF;
		if (!version_ok(m->command_version))
			rc = Q53_EMALF;
		else if (dry_run)
			rc = 0;
		else if (type == COMMAND_DELETE_TRAFFIC_POLICY)
			rc = zone_store_policy_delete(s, m->id, m->version, err,
						      errlen);
		else
			rc = zone_store_policy_comment(s, m->id, m->version,
						       m->comment, err, errlen);
		q53__command__traffic_policy_change__free_unpacked(m, &pa);
		return rc;
	}
	if (type != COMMAND_TRAFFIC_POLICY_INSTANCE)
		return Q53_EMALF;
	Q53__Command__TrafficPolicyInstance *m =
	    q53__command__traffic_policy_instance__unpack(&pa, len, payload);
	if (m == NULL)
		return nomem ? Q53_ENOMEM : Q53_EMALF;
	if (!version_ok(m->command_version) || m->action < 1 || m->action > 3 ||
	    (m->action == COMMAND_INSTANCE_CREATE &&
	     (m->name.len == 0 || m->name.len > DNAME_MAXLEN ||
	      dname_wire_len(m->name.data, m->name.len) != m->name.len))) {
		q53__command__traffic_policy_instance__free_unpacked(m, &pa);
		return Q53_EMALF;
	}
	const struct zone_store_tinstance *t =
	    zone_store_instance_get(s, m->id);
	const char *zid = m->action == COMMAND_INSTANCE_CREATE ? m->zone_id
			  : t != NULL			       ? t->zone_id
							       : "";
	snprintf(zone_id, ZONE_STORE_ID_MAX + 1, "%s", zid);
	if (dry_run)
		rc = 0;
	else if (m->action == COMMAND_INSTANCE_CREATE)
		rc = zone_store_instance_create(
		    s, m->id, m->zone_id, m->name.data, m->ttl, m->policy_id,
		    m->policy_version, err, errlen);
	else if (m->action == COMMAND_INSTANCE_UPDATE)
		rc = zone_store_instance_update(s, m->id, m->ttl, m->policy_id,
						m->policy_version, err, errlen);
	else
		rc = zone_store_instance_delete(s, m->id, err, errlen);
	q53__command__traffic_policy_instance__free_unpacked(m, &pa);
	return rc;
}

/* --- snapshot --- */

struct flow_mem {
	struct pol_pb *pols;
	size_t npols;
	Q53__Command__TrafficPolicyInstance *insts;
};

int command_flow_pb_fill(const struct zone_store *s,
			 struct command_flow_pb *out)
{
	size_t np = zone_store_policy_count(s),
	       ni = zone_store_instance_count(s);
	struct flow_mem *mem = calloc(1, sizeof(*mem));
	memset(out, 0, sizeof(*out));
	if (mem == NULL)
		return Q53_ENOMEM;
	out->mem = mem;
	mem->pols = calloc(np + 1, sizeof(*mem->pols));
	mem->insts = calloc(ni + 1, sizeof(*mem->insts));
	out->pol = calloc(np + 1, sizeof(*out->pol));
	out->inst = calloc(ni + 1, sizeof(*out->inst));
	if (mem->pols == NULL || mem->insts == NULL || out->pol == NULL ||
	    out->inst == NULL) {
		command_flow_pb_free(out);
		return Q53_ENOMEM;
	}
	for (size_t i = 0; i < np; i++) {
		const struct zone_store_tpolicy *t = zone_store_policy_at(s, i);
		int rc = pol_pb_fill(&mem->pols[i], t->id, t->version, t->name,
				     t->comment, t->document, &t->p, 0);
		if (rc != 0) {
			command_flow_pb_free(out);
			return rc;
		}
		mem->npols = i + 1;
		out->pol[i] = &mem->pols[i].m;
	}
	out->npol = np;
	for (size_t i = 0; i < ni; i++) {
		const struct zone_store_tinstance *t =
		    zone_store_instance_at(s, i);
		struct command_traffic_instance c = {
		    .action = COMMAND_INSTANCE_CREATE,
		    .id = t->id,
		    .zone_id = t->zone_id,
		    .name = t->name,
		    .name_len = t->name_len,
		    .ttl = t->ttl,
		    .policy_id = t->policy_id,
		    .policy_version = t->policy_version};
		inst_pb(&mem->insts[i], &c);
		out->inst[i] = &mem->insts[i];
	}
	out->ninst = ni;
	return 0;
}

void command_flow_pb_free(struct command_flow_pb *x)
{
	struct flow_mem *mem = x->mem;
	if (mem != NULL) {
		for (size_t i = 0; i < mem->npols; i++)
			pol_pb_free(&mem->pols[i]);
		free(mem->pols);
		free(mem->insts);
		free(mem);
	}
	free(x->pol);
	free(x->inst);
	memset(x, 0, sizeof(*x));
}

int command_flow_restore(
    struct zone_store *s, struct Q53__Command__TrafficPolicy *const *pol,
    size_t npol, struct Q53__Command__TrafficPolicyInstance *const *inst,
    size_t ninst)
{
	char err[512];
	/* Versions in order: a version > 1 follows its predecessor. */
	for (size_t i = 0; i < npol; i++) {
		struct traffic_policy p;
		const Q53__Command__TrafficPolicy *m = pol[i];
		int rc = pb_to_policy(m, &p);
		if (rc != 0) {
			traffic_policy_free(&p);
			return rc;
		}
		/* Deleted versions leave gaps: restored as they are. */
		rc = zone_store_policy_restore(s, m->id, m->version, m->name,
					       m->comment, m->document, &p, err,
					       sizeof(err));
		if (rc != 0)
			return rc == Q53_ENOMEM ? rc : Q53_EMALF;
	}
	for (size_t i = 0; i < ninst; i++) {
		const Q53__Command__TrafficPolicyInstance *m = inst[i];
		if (m->name.len == 0 || m->name.len > DNAME_MAXLEN ||
		    dname_wire_len(m->name.data, m->name.len) != m->name.len)
			return Q53_EMALF;
		int rc = zone_store_instance_create(
		    s, m->id, m->zone_id, m->name.data, m->ttl, m->policy_id,
		    m->policy_version, err, sizeof(err));
		if (rc != 0)
			return rc == Q53_ENOMEM ? rc : Q53_EMALF;
	}
	return 0;
}
