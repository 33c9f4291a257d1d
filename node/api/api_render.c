#include "node/api/api_render.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include "node/common/errcode.h"
#include "node/control/zone_store_flow.h"
#include "cluster/api_msg.h"
#include "node/dnsdata/rdata_text.h"
#include "node/dnsdata/dname.h"

#define HOSTEDZONE_PREFIX "/hostedzone/"

static int fail(char *err, size_t errlen, int rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rv, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rv;
}

static bool looks_like_id(const char *ref)
{
	size_t n = strlen(ref);
	if (n < ZONE_STORE_ID_MIN || n > ZONE_STORE_ID_MAX || ref[0] != 'Z')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((ref[i] >= 'A' && ref[i] <= 'Z') ||
		      (ref[i] >= '0' && ref[i] <= '9')))
			return false;
	return true;
}

int api_render_resolve(const struct zone_store *s, const char *ref,
		       struct zone_store_info *info, char *err, size_t errlen)
{
	const char *id = ref;
	if (strncmp(id, HOSTEDZONE_PREFIX, strlen(HOSTEDZONE_PREFIX)) == 0)
		id += strlen(HOSTEDZONE_PREFIX);
	if (looks_like_id(id) && zone_store_get(s, id, info) == 0)
		return 0;

	uint8_t wire[KNOT_DNAME_MAXLEN];
	if (ref[0] != '\0' &&
	    knot_dname_from_str(wire, ref, sizeof(wire)) != NULL) {
		knot_dname_to_lower(wire);
		size_t n = zone_store_count(s);
		for (size_t i = 0; i < n; i++) {
			if (zone_store_get_at(s, i, info) == 0 &&
			    dname_equal(info->origin, wire))
				return 0;
		}
	}
	return fail(err, errlen, Q53_ENOENT,
		    "%s: no hosted zone with id or name '%s'",
		    API_ERR_NO_SUCH_ZONE, ref);
}

void api_render_zone(Q53__Api__HostedZone *hz,
		     const struct zone_store_info *info)
{
	q53__api__hosted_zone__init(hz);
	hz->id = (char *)info->id;
	hz->name = (char *)info->name;
	if (info->caller_reference != NULL)
		hz->caller_reference = (char *)info->caller_reference;
	if (info->comment != NULL)
		hz->comment = (char *)info->comment;
	hz->record_set_count = info->nrrsets;
	hz->serial = info->serial;
	hz->max_rrsets = info->max_rrsets;
}

void api_render_strings_free(char **names, size_t n)
{
	for (size_t i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
}

int api_render_nameservers(const struct zone_store_info *info, char ***names,
			   size_t *n)
{
	*names = NULL;
	*n = 0;
	for (size_t i = 0; i < info->nrrsets; i++) {
		const struct zone_store_rrset *rs =
		    zone_store_info_rrset(info, i);
		if (rs->type != KNOT_RRTYPE_NS ||
		    zone_store_rrset_set_id(rs) != NULL ||
		    !dname_equal(rs->owner, info->origin))
			continue;
		char **v = calloc(rs->count > 0 ? rs->count : 1, sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		for (uint16_t k = 0; k < rs->count; k++) {
			char text[KNOT_DNAME_TXT_MAXLEN + 1];
			dname_to_text(rs->rdata[k].data, text, sizeof(text));
			v[k] = strdup(text);
			if (v[k] == NULL) {
				api_render_strings_free(v, k);
				return Q53_ENOMEM;
			}
		}
		*names = v;
		*n = rs->count;
		return 0;
	}
	return 0;
}

static uint32_t page_size(uint32_t max_items)
{
	if (max_items == 0)
		return API_MSG_PAGE_DEFAULT;
	return max_items > API_MSG_PAGE_MAX ? API_MSG_PAGE_MAX : max_items;
}

void api_render_zones_free(Q53__Api__ListZonesResponse *out)
{
	if (out->zones != NULL)
		free(out->zones[0]); /* one array of HostedZone */
	free(out->zones);
	out->zones = NULL;
	out->n_zones = 0;
}

int api_render_zones(const struct zone_store *s, const char *marker,
		     uint32_t max_items, Q53__Api__ListZonesResponse *out)
{
	q53__api__list_zones_response__init(out);
	size_t total = zone_store_count(s), first = 0;
	struct zone_store_info info;
	if (marker != NULL && marker[0] != '\0')
		while (first < total &&
		       zone_store_get_at(s, first, &info) == 0 &&
		       strcmp(info.id, marker) < 0)
			first++;
	size_t n = total - first;
	if (n > page_size(max_items))
		n = page_size(max_items);
	if (n == 0)
		return 0;
	Q53__Api__HostedZone *zones = calloc(n, sizeof(*zones));
	Q53__Api__HostedZone **ptrs = calloc(n, sizeof(*ptrs));
	if (zones == NULL || ptrs == NULL) {
		free(zones);
		free(ptrs);
		return Q53_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		zone_store_get_at(s, first + i, &info);
		api_render_zone(&zones[i], &info);
		ptrs[i] = &zones[i];
	}
	out->zones = ptrs;
	out->n_zones = n;
	if (first + n < total && zone_store_get_at(s, first + n, &info) == 0)
		out->next_marker = (char *)info.id;
	return 0;
}

static void record_set_free(Q53__Api__RecordSet *rs)
{
	free(rs->name);
	free(rs->type);
	api_render_strings_free(rs->values, rs->n_values);
	if (rs->set_identifier != protobuf_c_empty_string)
		free(rs->set_identifier);
	char **geo[] = {
	    &rs->geo_continent_code,	 &rs->geo_country_code,
	    &rs->geo_subdivision_code,	 &rs->geo_proximity_aws_region,
	    &rs->geo_proximity_latitude, &rs->geo_proximity_longitude};
	for (size_t i = 0; i < 6; i++)
		if (*geo[i] != protobuf_c_empty_string)
			free(*geo[i]);
	if (rs->region != protobuf_c_empty_string)
		free(rs->region);
	if (rs->alias_hosted_zone_id != protobuf_c_empty_string)
		free(rs->alias_hosted_zone_id);
	if (rs->alias_dns_name != protobuf_c_empty_string)
		free(rs->alias_dns_name);
	if (rs->cidr_collection_id != protobuf_c_empty_string)
		free(rs->cidr_collection_id);
	if (rs->cidr_location_name != protobuf_c_empty_string)
		free(rs->cidr_location_name);
	if (rs->traffic_policy_instance_id != protobuf_c_empty_string)
		free(rs->traffic_policy_instance_id);
	if (rs->failover != protobuf_c_empty_string)
		free(rs->failover);
	if (rs->health_check_id != protobuf_c_empty_string)
		free(rs->health_check_id);
}

void api_render_records_free(Q53__Api__ListRecordsResponse *out)
{
	for (size_t i = 0; i < out->n_record_sets; i++)
		record_set_free(out->record_sets[i]);
	if (out->record_sets != NULL)
		free(out->record_sets[0]); /* one array of RecordSet */
	free(out->record_sets);
	if (out->next_marker != protobuf_c_empty_string)
		free(out->next_marker);
	if (out->next_name != protobuf_c_empty_string)
		free(out->next_name);
	if (out->next_type != protobuf_c_empty_string)
		free(out->next_type);
	if (out->next_identifier != protobuf_c_empty_string)
		free(out->next_identifier);
	q53__api__list_records_response__init(out);
}

static int render_record_set(Q53__Api__RecordSet *out,
			     const struct zone_store_rrset *rs)
{
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	char type[32];
	dname_to_text(rs->owner, text, sizeof(text));
	rdata_text_type_name(rs->type, type, sizeof(type));
	out->name = strdup(text);
	out->type = strdup(type);
	out->ttl = rs->ttl;
	out->has_weight = zone_store_rrset_routing(rs) & ZONE_STORE_WEIGHTED;
	out->weight = zone_store_rrset_weight(rs);
	out->multi_value_answer =
	    zone_store_rrset_routing(rs) & ZONE_STORE_MULTIVALUE;
	if (zone_store_rrset_set_id(rs) != NULL)
		out->set_identifier = strdup(zone_store_rrset_set_id(rs));
	if (out->name == NULL || out->type == NULL ||
	    out->set_identifier == NULL)
		return Q53_ENOMEM;
	if (zone_store_rrset_geo(rs) != 0) {
		const struct zone_store_policy *p = rs->policy;
		const char *src[] = {p->geo_continent, p->geo_country,
				     p->geo_subdivision};
		char **dst[] = {&out->geo_continent_code,
				&out->geo_country_code,
				&out->geo_subdivision_code};
		for (size_t i = 0; i < 3; i++) {
			if (src[i][0] == '\0')
				continue;
			*dst[i] = strdup(src[i]);
			if (*dst[i] == NULL) {
				*dst[i] = (char *)protobuf_c_empty_string;
				return Q53_ENOMEM;
			}
		}
	}
	if (zone_store_rrset_cidr_collection(rs) != NULL) {
		out->cidr_collection_id =
		    strdup(zone_store_rrset_cidr_collection(rs));
		out->cidr_location_name =
		    strdup(zone_store_rrset_cidr_location(rs));
		if (out->cidr_collection_id == NULL ||
		    out->cidr_location_name == NULL) {
			if (out->cidr_collection_id == NULL)
				out->cidr_collection_id =
				    (char *)protobuf_c_empty_string;
			if (out->cidr_location_name == NULL)
				out->cidr_location_name =
				    (char *)protobuf_c_empty_string;
			return Q53_ENOMEM;
		}
	}
	int32_t lat = 0, lon = 0, bias = 0;
	if (zone_store_rrset_geoprox(rs, &lat, &lon, &bias)) {
		char buf[2][16];
		int32_t v[2] = {lat, lon};
		for (size_t i = 0; i < 2; i++) {
			int32_t a = v[i] < 0 ? -v[i] : v[i];
			snprintf(buf[i], sizeof(buf[i]), "%s%d.%02d",
				 v[i] < 0 ? "-" : "", (int)(a / 100),
				 (int)(a % 100));
		}
		out->has_geo_proximity = true;
		out->geo_proximity_bias = bias;
		out->geo_proximity_latitude = strdup(buf[0]);
		out->geo_proximity_longitude = strdup(buf[1]);
		if (rs->policy->geoprox_region[0] != '\0')
			out->geo_proximity_aws_region =
			    strdup(rs->policy->geoprox_region);
		char **d[] = {&out->geo_proximity_latitude,
			      &out->geo_proximity_longitude,
			      &out->geo_proximity_aws_region};
		bool oom = false;
		for (size_t i = 0; i < 3; i++) {
			if (*d[i] == NULL) {
				*d[i] = (char *)protobuf_c_empty_string;
				oom = true;
			}
		}
		if (oom)
			return Q53_ENOMEM;
	}
	enum change_failover failover = zone_store_rrset_failover(rs);
	if (failover != CHANGE_FAILOVER_NONE) {
		out->failover =
		    strdup(failover == CHANGE_FAILOVER_PRIMARY ? "PRIMARY"
							       : "SECONDARY");
		if (out->failover == NULL) {
			out->failover = (char *)protobuf_c_empty_string;
			return Q53_ENOMEM;
		}
	}
	const char *hc = zone_store_rrset_health_check(rs);
	if (hc != NULL && hc[0] != '\0') {
		out->health_check_id = strdup(hc);
		if (out->health_check_id == NULL) {
			out->health_check_id = (char *)protobuf_c_empty_string;
			return Q53_ENOMEM;
		}
	}
	struct zone_store_alias a;
	if (zone_store_rrset_alias(rs, &a)) {
		char target[KNOT_DNAME_TXT_MAXLEN + 1];
		dname_to_text(a.name, target, sizeof(target));
		out->alias_hosted_zone_id = strdup(a.zone_id);
		out->alias_dns_name = strdup(target);
		out->alias_evaluate_target_health = a.evaluate;
		if (out->alias_hosted_zone_id == NULL ||
		    out->alias_dns_name == NULL)
			return Q53_ENOMEM;
		return 0;
	}
	if (zone_store_rrset_region(rs) != NULL) {
		out->region = strdup(zone_store_rrset_region(rs));
		if (out->region == NULL) {
			out->region = (char *)protobuf_c_empty_string;
			return Q53_ENOMEM;
		}
	}
	out->values =
	    calloc(rs->count > 0 ? rs->count : 1, sizeof(*out->values));
	if (out->values == NULL)
		return Q53_ENOMEM;
	/* Presentation forms can be long (TXT); size each one up front. */
	size_t cap = RDATA_TEXT_WIRE_MAX * 4 + 64;
	char *buf = malloc(cap);
	if (buf == NULL)
		return Q53_ENOMEM;
	int rv = 0;
	for (uint16_t k = 0; k < rs->count; k++) {
		rv = rdata_text_from_wire(rs->type, rs->rdata[k].data,
					  rs->rdata[k].len, buf, cap);
		if (rv != 0)
			break;
		out->values[k] = strdup(buf);
		if (out->values[k] == NULL) {
			rv = Q53_ENOMEM;
			break;
		}
		out->n_values++;
	}
	free(buf);
	return rv;
}

/* The first set at or after (name, type, identifier) in the store's
 * order (canonical owner, type number, identifier; no identifier first). */
static int start_position(const struct zone_store_info *info, const char *name,
			  const char *type, const char *ident, size_t *pos,
			  uint8_t *owner, uint16_t *tout, char *err,
			  size_t errlen)
{
	uint16_t t = 0;
	char unescaped[KNOT_DNAME_TXT_MAXLEN + 1];
	size_t o = 0;

	/* Route 53 writes '*' as \052 (and so may a client echo it). */
	for (const char *p = name; *p && o + 1 < sizeof(unescaped); p++) {
		if (strncmp(p, "\\052", 4) == 0) {
			unescaped[o++] = '*';
			p += 3;
		} else {
			unescaped[o++] = *p;
		}
	}
	unescaped[o] = '\0';
	if (knot_dname_from_str(owner, unescaped, KNOT_DNAME_MAXLEN) == NULL)
		return fail(err, errlen, Q53_EINVAL,
			    "%s: StartRecordName '%s' is not a domain name",
			    API_ERR_INVALID_INPUT, name);
	knot_dname_to_lower(owner);
	if (type != NULL && type[0] != '\0' &&
	    knot_rrtype_from_string(type, &t) != 0)
		return fail(err, errlen, Q53_EINVAL,
			    "%s: StartRecordType '%s' is not a record type",
			    API_ERR_INVALID_INPUT, type);
	size_t lo = 0, hi = info->nrrsets;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct zone_store_rrset *rs =
		    zone_store_info_rrset(info, mid);
		int c = knot_dname_cmp(rs->owner, owner);
		if (c == 0 && rs->type != t)
			c = rs->type < t ? -1 : 1;
		if (c == 0 && ident != NULL && ident[0] != '\0')
			c = zone_store_rrset_set_id(rs) == NULL
				? -1
				: strcmp(zone_store_rrset_set_id(rs), ident);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	*tout = t;
	return 0;
}

/* The zone's policy records in canonical order, each with its position
 * among the whole listing (the sets before it, plus the records before
 * it). */
struct flow_list {
	const struct zone_store_tinstance **v;
	size_t *at;
	size_t n;
};

static int inst_cmp(const void *a, const void *b)
{
	const struct zone_store_tinstance *x =
	    *(const struct zone_store_tinstance *const *)a;
	const struct zone_store_tinstance *y =
	    *(const struct zone_store_tinstance *const *)b;
	int c = knot_dname_cmp(x->name, y->name);
	return c != 0 ? c : (x->type > y->type) - (x->type < y->type);
}

/* The sets of info before (owner, type) with no identifier. */
static size_t sets_before(const struct zone_store_info *info,
			  const uint8_t *owner, uint16_t type)
{
	size_t lo = 0, hi = info->nrrsets;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct zone_store_rrset *rs =
		    zone_store_info_rrset(info, mid);
		int c = knot_dname_cmp(rs->owner, owner);
		if (c == 0)
			c = rs->type < type			  ? -1
			    : rs->type > type			  ? 1
			    : zone_store_rrset_set_id(rs) == NULL ? -1
								  : 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int flow_list_make(const struct zone_store_info *info,
			  const struct zone_store *s, struct flow_list *f)
{
	size_t total = s != NULL ? zone_store_instance_count(s) : 0, n = 0;
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < total; i++)
		n += strcmp(zone_store_instance_at(s, i)->zone_id, info->id) ==
		     0;
	if (n == 0)
		return 0;
	f->v = calloc(n, sizeof(*f->v));
	f->at = calloc(n, sizeof(*f->at));
	if (f->v == NULL || f->at == NULL) {
		free(f->v);
		free(f->at);
		return Q53_ENOMEM;
	}
	for (size_t i = 0; i < total; i++) {
		const struct zone_store_tinstance *t =
		    zone_store_instance_at(s, i);
		if (strcmp(t->zone_id, info->id) == 0)
			f->v[f->n++] = t;
	}
	qsort(f->v, f->n, sizeof(*f->v), inst_cmp);
	for (size_t j = 0; j < f->n; j++)
		f->at[j] = sets_before(info, f->v[j]->name, f->v[j]->type) + j;
	return 0;
}

static void flow_list_free(struct flow_list *f)
{
	free(f->v);
	free(f->at);
}

/* What position k of the listing is: policy record *inst (set NULL), or
 * the set of index *set. */
static void flow_list_at(const struct flow_list *f, size_t k,
			 const struct zone_store_tinstance **inst, size_t *set)
{
	size_t before = 0;
	*inst = NULL;
	for (size_t j = 0; j < f->n && f->at[j] <= k; j++) {
		if (f->at[j] == k) {
			*inst = f->v[j];
			return;
		}
		before++;
	}
	*set = k - before;
}

static int render_instance(Q53__Api__RecordSet *out,
			   const struct zone_store_tinstance *t)
{
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	char type[32];
	dname_to_text(t->name, text, sizeof(text));
	rdata_text_type_name(t->type, type, sizeof(type));
	out->name = strdup(text);
	out->type = strdup(type);
	out->ttl = t->ttl;
	out->traffic_policy_instance_id = strdup(t->id);
	if (out->name == NULL || out->type == NULL ||
	    out->traffic_policy_instance_id == NULL) {
		if (out->traffic_policy_instance_id == NULL)
			out->traffic_policy_instance_id =
			    (char *)protobuf_c_empty_string;
		return Q53_ENOMEM;
	}
	return 0;
}

int api_render_records(const struct zone_store_info *info,
		       const Q53__Api__ListRecordsRequest *req,
		       Q53__Api__ListRecordsResponse *out, char *err,
		       size_t errlen)
{
	return api_render_records_flow(info, NULL, req, out, err, errlen);
}

int api_render_records_flow(const struct zone_store_info *info,
			    const struct zone_store *s,
			    const Q53__Api__ListRecordsRequest *req,
			    Q53__Api__ListRecordsResponse *out, char *err,
			    size_t errlen)
{
	const char *marker = req->marker;
	uint32_t max_items = req->max_items;
	struct flow_list fl;
	q53__api__list_records_response__init(out);
	if (flow_list_make(info, s, &fl) != 0)
		return fail(err, errlen, Q53_ENOMEM, "%s: out of memory",
			    API_ERR_INTERNAL);
	size_t all = info->nrrsets + fl.n;
	size_t first = 0;
	int rv = 0;
	if (req->start_name != NULL && req->start_name[0] != '\0') {
		uint8_t owner[KNOT_DNAME_MAXLEN];
		uint16_t t = 0;
		rv = start_position(info, req->start_name, req->start_type,
				    req->start_identifier, &first, owner, &t,
				    err, errlen);
		if (rv != 0)
			goto out;
		bool ident = req->start_identifier != NULL &&
			     req->start_identifier[0] != '\0';
		for (size_t j = 0; j < fl.n; j++) {
			int c = knot_dname_cmp(fl.v[j]->name, owner);
			if (c == 0)
				c = fl.v[j]->type < t	? -1
				    : fl.v[j]->type > t ? 1
				    : ident		? -1
							: 0;
			first += c < 0;
		}
	} else if (marker != NULL && marker[0] != '\0') {
		char *end;
		unsigned long long v = strtoull(marker, &end, 10);
		if (*end != '\0' || marker[0] < '0' || marker[0] > '9') {
			rv =
			    fail(err, errlen, Q53_EINVAL, "%s: bad marker '%s'",
				 API_ERR_INVALID_INPUT, marker);
			goto out;
		}
		first = v < all ? (size_t)v : all;
	}
	size_t n = all - first;
	if (n > page_size(max_items))
		n = page_size(max_items);
	if (n == 0)
		goto out;
	Q53__Api__RecordSet *sets = calloc(n, sizeof(*sets));
	Q53__Api__RecordSet **ptrs = calloc(n, sizeof(*ptrs));
	if (sets == NULL || ptrs == NULL) {
		free(sets);
		free(ptrs);
		rv = fail(err, errlen, Q53_ENOMEM, "%s: out of memory",
			  API_ERR_INTERNAL);
		goto out;
	}
	out->record_sets = ptrs;
	for (size_t i = 0; i < n; i++) {
		const struct zone_store_tinstance *inst;
		size_t set = 0;
		q53__api__record_set__init(&sets[i]);
		ptrs[i] = &sets[i];
		out->n_record_sets++;
		flow_list_at(&fl, first + i, &inst, &set);
		rv = inst != NULL
			 ? render_instance(&sets[i], inst)
			 : render_record_set(&sets[i],
					     zone_store_info_rrset(info, set));
		if (rv != 0) {
			api_render_records_free(out);
			rv = fail(err, errlen, rv, "%s: rendering records: %s",
				  API_ERR_INTERNAL, q53_strerror(rv));
			goto out;
		}
	}
	if (first + n < all) {
		char next[32];
		const struct zone_store_tinstance *inst;
		size_t set = 0;
		char name[KNOT_DNAME_TXT_MAXLEN + 1], type[32];
		const char *ident = NULL;
		flow_list_at(&fl, first + n, &inst, &set);
		if (inst != NULL) {
			dname_to_text(inst->name, name, sizeof(name));
			rdata_text_type_name(inst->type, type, sizeof(type));
		} else {
			const struct zone_store_rrset *nx =
			    zone_store_info_rrset(info, set);
			dname_to_text(nx->owner, name, sizeof(name));
			rdata_text_type_name(nx->type, type, sizeof(type));
			ident = zone_store_rrset_set_id(nx);
		}
		snprintf(next, sizeof(next), "%zu", first + n);
		out->next_marker = strdup(next);
		out->next_name = strdup(name);
		out->next_type = strdup(type);
		if (ident != NULL)
			out->next_identifier = strdup(ident);
		if (out->next_marker == NULL || out->next_name == NULL ||
		    out->next_type == NULL || out->next_identifier == NULL) {
			if (out->next_marker == NULL)
				out->next_marker =
				    (char *)protobuf_c_empty_string;
			if (out->next_name == NULL)
				out->next_name =
				    (char *)protobuf_c_empty_string;
			if (out->next_type == NULL)
				out->next_type =
				    (char *)protobuf_c_empty_string;
			if (out->next_identifier == NULL)
				out->next_identifier =
				    (char *)protobuf_c_empty_string;
			api_render_records_free(out);
			rv = fail(err, errlen, Q53_ENOMEM, "%s: out of memory",
				  API_ERR_INTERNAL);
		}
	}
out:
	flow_list_free(&fl);
	return rv;
}
