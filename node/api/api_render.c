#include "node/api/api_render.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include "node/common/errcode.h"
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
			  char *err, size_t errlen)
{
	uint8_t owner[KNOT_DNAME_MAXLEN];
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
	if (knot_dname_from_str(owner, unescaped, sizeof(owner)) == NULL)
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
	return 0;
}

int api_render_records(const struct zone_store_info *info,
		       const Q53__Api__ListRecordsRequest *req,
		       Q53__Api__ListRecordsResponse *out, char *err,
		       size_t errlen)
{
	const char *marker = req->marker;
	uint32_t max_items = req->max_items;
	q53__api__list_records_response__init(out);
	size_t first = 0;
	if (req->start_name != NULL && req->start_name[0] != '\0') {
		int rv =
		    start_position(info, req->start_name, req->start_type,
				   req->start_identifier, &first, err, errlen);
		if (rv != 0)
			return rv;
	} else if (marker != NULL && marker[0] != '\0') {
		char *end;
		unsigned long long v = strtoull(marker, &end, 10);
		if (*end != '\0' || marker[0] < '0' || marker[0] > '9')
			return fail(err, errlen, Q53_EINVAL,
				    "%s: bad marker '%s'",
				    API_ERR_INVALID_INPUT, marker);
		first = v < info->nrrsets ? (size_t)v : info->nrrsets;
	}
	size_t n = info->nrrsets - first;
	if (n > page_size(max_items))
		n = page_size(max_items);
	if (n == 0)
		return 0;
	Q53__Api__RecordSet *sets = calloc(n, sizeof(*sets));
	Q53__Api__RecordSet **ptrs = calloc(n, sizeof(*ptrs));
	if (sets == NULL || ptrs == NULL) {
		free(sets);
		free(ptrs);
		return fail(err, errlen, Q53_ENOMEM, "%s: out of memory",
			    API_ERR_INTERNAL);
	}
	out->record_sets = ptrs;
	for (size_t i = 0; i < n; i++) {
		q53__api__record_set__init(&sets[i]);
		ptrs[i] = &sets[i];
		out->n_record_sets++;
		int rv = render_record_set(
		    &sets[i], zone_store_info_rrset(info, first + i));
		if (rv != 0) {
			api_render_records_free(out);
			return fail(err, errlen, rv,
				    "%s: rendering records: %s",
				    API_ERR_INTERNAL, q53_strerror(rv));
		}
	}
	if (first + n < info->nrrsets) {
		char next[32];
		const struct zone_store_rrset *nx =
		    zone_store_info_rrset(info, first + n);
		char name[KNOT_DNAME_TXT_MAXLEN + 1], type[32];
		snprintf(next, sizeof(next), "%zu", first + n);
		dname_to_text(nx->owner, name, sizeof(name));
		rdata_text_type_name(nx->type, type, sizeof(type));
		out->next_marker = strdup(next);
		out->next_name = strdup(name);
		out->next_type = strdup(type);
		if (zone_store_rrset_set_id(nx) != NULL)
			out->next_identifier =
			    strdup(zone_store_rrset_set_id(nx));
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
			return fail(err, errlen, Q53_ENOMEM,
				    "%s: out of memory", API_ERR_INTERNAL);
		}
	}
	return 0;
}
