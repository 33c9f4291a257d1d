/* The vocabulary of change batches that needs no parser: record types,
 * names of actions and roles, the error collector, freeing. Part of the
 * FSM library (q53_fsm); the JSON reader and writer are in
 * change_batch_json.c, at the edge. */
#include "node/control/change_batch.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/dnsdata/rrtype.h"

static const struct {
	const char *name;
	uint16_t type;
} TYPES[] = {
    {"A", RRTYPE_A},	   {"AAAA", RRTYPE_AAAA},
    {"CAA", 257},	   {"CNAME", RRTYPE_CNAME},
    {"DS", RRTYPE_DS},	   {"HTTPS", RRTYPE_HTTPS},
    {"MX", RRTYPE_MX},	   {"NAPTR", 35},
    {"NS", RRTYPE_NS},	   {"PTR", RRTYPE_PTR},
    {"SOA", RRTYPE_SOA},   {"SPF", 99},
    {"SRV", RRTYPE_SRV},   {"SSHFP", 44},
    {"SVCB", RRTYPE_SVCB}, {"TLSA", 52},
    {"TXT", 16},
};

bool change_batch_type_supported(uint16_t type)
{
	for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++) {
		if (TYPES[i].type == type)
			return true;
	}
	return false;
}

int change_batch_type_from_name(const char *name, uint16_t *type)
{
	for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++) {
		if (strcmp(TYPES[i].name, name) == 0) {
			*type = TYPES[i].type;
			return 0;
		}
	}
	return Q53_EINVAL;
}

const char *change_batch_failover_name(enum change_failover f)
{
	switch (f) {
	case CHANGE_FAILOVER_PRIMARY:
		return "PRIMARY";
	case CHANGE_FAILOVER_SECONDARY:
		return "SECONDARY";
	case CHANGE_FAILOVER_NONE:
		break;
	}
	return "";
}

enum change_policy change_batch_policy(bool has_set_id,
				       enum change_failover failover,
				       bool has_weight, bool multivalue,
				       bool has_geo, bool has_region,
				       bool has_cidr, bool has_geoprox)
{
	int n = (failover != CHANGE_FAILOVER_NONE) + has_weight + multivalue +
		has_geo + has_region + has_cidr + has_geoprox;
	if (!has_set_id)
		return n == 0 ? CHANGE_POLICY_SIMPLE : CHANGE_POLICY_INVALID;
	if (n != 1)
		return CHANGE_POLICY_INVALID;
	if (has_cidr)
		return CHANGE_POLICY_CIDR;
	if (has_geo)
		return CHANGE_POLICY_GEO;
	if (has_region)
		return CHANGE_POLICY_LATENCY;
	if (has_geoprox)
		return CHANGE_POLICY_GEOPROX;
	return failover != CHANGE_FAILOVER_NONE ? CHANGE_POLICY_FAILOVER
	       : has_weight			? CHANGE_POLICY_WEIGHTED
						: CHANGE_POLICY_MULTIVALUE;
}

const char *change_batch_policy_name(enum change_policy p)
{
	switch (p) {
	case CHANGE_POLICY_FAILOVER:
		return "failover";
	case CHANGE_POLICY_WEIGHTED:
		return "weighted";
	case CHANGE_POLICY_MULTIVALUE:
		return "multivalue";
	case CHANGE_POLICY_GEO:
		return "geolocation";
	case CHANGE_POLICY_LATENCY:
		return "latency";
	case CHANGE_POLICY_CIDR:
		return "IP-based";
	case CHANGE_POLICY_GEOPROX:
		return "geoproximity";
	case CHANGE_POLICY_SIMPLE:
	case CHANGE_POLICY_INVALID:
		break;
	}
	return "simple";
}

const char *change_batch_action_name(enum change_action a)
{
	switch (a) {
	case CHANGE_CREATE:
		return "CREATE";
	case CHANGE_DELETE:
		return "DELETE";
	case CHANGE_UPSERT:
		return "UPSERT";
	}
	return "?";
}

void change_batch_errors_init(struct change_batch_errors *e, char *buf,
			      size_t cap)
{
	e->code = "InvalidChangeBatch";
	e->buf = buf;
	e->cap = cap;
	e->len = 0;
	e->count = 0;
	if (cap > 0)
		buf[0] = '\0';
}

static void errors_append(struct change_batch_errors *e, const char *fmt,
			  va_list ap)
{
	if (e->len + 1 >= e->cap)
		return;
	int n = vsnprintf(e->buf + e->len, e->cap - e->len, fmt, ap);
	if (n > 0)
		e->len += (size_t)n < e->cap - e->len ? (size_t)n
						      : e->cap - e->len - 1;
}

static void errors_put(struct change_batch_errors *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void errors_put(struct change_batch_errors *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	errors_append(e, fmt, ap);
	va_end(ap);
}

void change_batch_errors_add(struct change_batch_errors *e, size_t index,
			     const char *fmt, ...)
{
	va_list ap;
	if (e->count == 0)
		errors_put(e, "%s: ", e->code);
	else
		errors_put(e, "; ");
	if (index != SIZE_MAX)
		errors_put(e, "change %zu: ", index);
	va_start(ap, fmt);
	errors_append(e, fmt, ap);
	va_end(ap);
	e->count++;
}

static void change_clear(struct change *c)
{
	free(c->rrset.name);
	for (size_t k = 0; k < c->rrset.nvalues; k++)
		free(c->rrset.values[k]);
	free(c->rrset.values);
	free(c->rrset.set_identifier);
	free(c->rrset.health_check_id);
	free(c->rrset.geo_continent);
	free(c->rrset.geo_country);
	free(c->rrset.geo_subdivision);
	free(c->rrset.region);
	free(c->rrset.geoprox.region);
	free(c->rrset.geoprox.local_zone_group);
	free(c->rrset.alias_zone_id);
	free(c->rrset.alias_dns_name);
	free(c->rrset.cidr_collection_id);
	free(c->rrset.cidr_location);
}

void change_batch_free(struct change_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->nchanges; i++)
		change_clear(&b->changes[i]);
	free(b->changes);
	free(b->comment);
	free(b);
}

const char *change_batch_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++) {
		if (TYPES[i].type == type)
			return TYPES[i].name;
	}
	return NULL;
}
