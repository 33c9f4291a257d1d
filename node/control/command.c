#include "node/control/command.h"

#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/latency_table.h"
#include "node/control/xfr_config.h"
#include "proto/command.pb-c.h"

/* --- allocator --- */

static void *pb_alloc(void *data, size_t size)
{
	struct command_pb_alloc *a = data;
	void *p = raft_malloc(size > 0 ? size : 1);

	if (p == NULL)
		a->failed = true;
	return p;
}

static void pb_free(void *data, void *p)
{
	(void)data;
	raft_free(p);
}

void command_pb_alloc_init(struct command_pb_alloc *a)
{
	a->base.alloc = pb_alloc;
	a->base.free = pb_free;
	a->base.allocator_data = a;
	a->failed = false;
}

/* --- helpers --- */

const char *command_type_name(uint16_t type)
{
	switch (type) {
	case COMMAND_CREATE_HOSTED_ZONE:
		return "CreateHostedZone";
	case COMMAND_DELETE_HOSTED_ZONE:
		return "DeleteHostedZone";
	case COMMAND_CHANGE_RRSETS:
		return "ChangeResourceRecordSets";
	case COMMAND_IMPORT_ZONE:
		return "ImportZone";
	case COMMAND_LEGACY_CHANGE_RRSETS:
		return "ChangeResourceRecordSets (JSON, previous release)";
	case COMMAND_LEGACY_IMPORT_ZONE:
		return "ImportZone (text, previous release)";
	case COMMAND_LEGACY_CREATE_HEALTH_CHECK:
		return "CreateHealthCheck (JSON, previous release)";
	case COMMAND_LEGACY_UPDATE_HEALTH_CHECK:
		return "UpdateHealthCheck (JSON, previous release)";
	case COMMAND_CREATE_HEALTH_CHECK:
		return "CreateHealthCheck";
	case COMMAND_UPDATE_HEALTH_CHECK:
		return "UpdateHealthCheck";
	case COMMAND_DELETE_HEALTH_CHECK:
		return "DeleteHealthCheck";
	case COMMAND_HEALTH_VOTE:
		return "HealthVote";
	case COMMAND_SET_NODE:
		return "SetNodeMetadata";
	case COMMAND_REMOVE_NODE:
		return "RemoveNodeMetadata";
	case COMMAND_CREATE_ACCESS_KEY:
		return "CreateAccessKey";
	case COMMAND_DELETE_ACCESS_KEY:
		return "DeleteAccessKey";
	case COMMAND_CHANGE_TAGS:
		return "ChangeTags";
	case COMMAND_UPDATE_ZONE_COMMENT:
		return "UpdateHostedZoneComment";
	case COMMAND_CHANGE_QUERY_LOGGING:
		return "ChangeQueryLoggingConfig";
	case COMMAND_SET_LATENCY_ROWS:
		return "SetLatencyRows";
	case COMMAND_LATENCY_SAMPLES:
		return "LatencySamples";
	case COMMAND_SET_ZONE_TRANSFER:
		return "SetZoneTransfer";
	case COMMAND_DYNAMIC_UPDATE:
		return "DynamicUpdate";
	case COMMAND_CREATE_CIDR_COLLECTION:
		return "CreateCidrCollection";
	case COMMAND_CHANGE_CIDR_COLLECTION:
		return "ChangeCidrCollection";
	case COMMAND_CREATE_TRAFFIC_POLICY:
		return "CreateTrafficPolicy";
	case COMMAND_UPDATE_TRAFFIC_POLICY_COMMENT:
		return "UpdateTrafficPolicyComment";
	case COMMAND_DELETE_TRAFFIC_POLICY:
		return "DeleteTrafficPolicy";
	case COMMAND_TRAFFIC_POLICY_INSTANCE:
		return "TrafficPolicyInstance";
	case COMMAND_SET_ZONE_LIMIT:
		return "SetHostedZoneLimit";
	default:
		return "Unknown";
	}
}

/* protobuf-c wants mutable pointers; it never writes through them when
 * packing. NULL encodes as the empty string ("none"). */
static char *str_in(const char *s)
{
	return (char *)(s != NULL ? s : "");
}

static const char *str_out(const char *s)
{
	return s != NULL ? s : "";
}

static int pack(const ProtobufCMessage *msg, uint8_t **buf, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(msg);

	*buf = NULL;
	*len = 0;
	if (n == 0)
		return 0;
	*buf = raft_malloc(n);
	if (*buf == NULL)
		return Q53_ENOMEM;
	*len = protobuf_c_message_pack(msg, *buf);
	return 0;
}

static int pack_payload(uint16_t type, const ProtobufCMessage *msg,
			struct command_payload *out)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	return pack(msg, &out->data, &out->len);
}

void command_payload_clear(struct command_payload *out)
{
	raft_free(out->data);
	if (out->decoded != NULL && out->decoded_free != NULL)
		out->decoded_free(out->decoded);
	memset(out, 0, sizeof(*out));
}

int command_payload_encode_pending(struct command_payload *p)
{
	struct command_payload e;
	if (!p->encode_pending)
		return 0;
	if (p->decoded == NULL || p->decoded->type != COMMAND_IMPORT_ZONE)
		return Q53_EINVAL;
	int rc = command_encode_import_zone(&p->decoded->u.import_zone, &e);
	if (rc != 0)
		return rc;
	p->data = e.data;
	p->len = e.len;
	p->encode_pending = false;
	return 0;
}

/* --- encode --- */

int command_encode_create_hosted_zone(
    const struct command_create_hosted_zone *c, struct command_payload *out)
{
	Q53__Command__CreateHostedZone m;

	if (c->n_nameservers > 0 && c->nameservers == NULL)
		return Q53_EINVAL;
	for (size_t i = 0; i < c->n_nameservers; i++)
		if (c->nameservers[i] == NULL)
			return Q53_EINVAL;
	q53__command__create_hosted_zone__init(&m);
	m.id = str_in(c->id);
	m.name = str_in(c->name);
	m.caller_reference = str_in(c->caller_reference);
	m.comment = str_in(c->comment);
	m.n_nameservers = c->n_nameservers;
	m.nameservers = (char **)c->nameservers;
	m.change_id = str_in(c->change_id);
	m.time_ms = c->time_ms;
	m.max_rrsets = c->max_rrsets;
	m.access_key_id = str_in(c->access_key_id);
	return pack_payload(COMMAND_CREATE_HOSTED_ZONE, &m.base, out);
}

int command_encode_delete_hosted_zone(
    const struct command_delete_hosted_zone *c, struct command_payload *out)
{
	Q53__Command__DeleteHostedZone m;

	q53__command__delete_hosted_zone__init(&m);
	m.id = str_in(c->id);
	m.change_id = str_in(c->change_id);
	m.time_ms = c->time_ms;
	m.access_key_id = str_in(c->access_key_id);
	return pack_payload(COMMAND_DELETE_HOSTED_ZONE, &m.base, out);
}

/* --- typed record sets --- */

/* The protobuf form of set r; rdata[] (n entries) is the caller's array. */
void command_set_to_pb(const struct rrset_data *r, Q53__Command__RecordSet *m,
		       ProtobufCBinaryData *rdata,
		       const struct command_set_room *room)
{
	Q53__Command__GeoLocation *geo = room != NULL ? room->geo : NULL;
	Q53__Command__GeoProximityLocation *gp =
	    room != NULL ? room->geoprox : NULL;
	q53__command__record_set__init(m);
	m->owner.data = (uint8_t *)r->owner;
	m->owner.len = r->owner_len;
	m->type = r->type;
	m->ttl = r->ttl;
	for (size_t k = 0; k < r->nrdata; k++) {
		rdata[k].data = (uint8_t *)r->rdata[k].data;
		rdata[k].len = r->rdata[k].len;
	}
	m->rdata = rdata;
	m->n_rdata = r->nrdata;
	m->set_identifier = str_in(r->set_identifier);
	m->failover = (uint32_t)r->failover;
	m->has_weight = r->has_weight;
	m->weight = r->weight;
	m->multi_value_answer = r->multivalue;
	m->health_check_id = str_in(r->health_check_id);
	if (geo != NULL &&
	    (r->geo_continent != NULL || r->geo_country != NULL ||
	     r->geo_subdivision != NULL)) {
		q53__command__geo_location__init(geo);
		geo->continent_code = str_in(r->geo_continent);
		geo->country_code = str_in(r->geo_country);
		geo->subdivision_code = str_in(r->geo_subdivision);
		m->geo_location = geo;
	}
	if (r->cidr_collection_id != NULL || r->cidr_location != NULL) {
		m->cidr_collection_id = str_in(r->cidr_collection_id);
		m->cidr_location_name = str_in(r->cidr_location);
	}
	if (gp != NULL && r->geoprox.present) {
		q53__command__geo_proximity_location__init(gp);
		gp->aws_region = str_in(r->geoprox.region);
		gp->local_zone_group = str_in(r->geoprox.local_zone_group);
		gp->has_coordinates = r->geoprox.has_coordinates;
		gp->latitude = r->geoprox.latitude;
		gp->longitude = r->geoprox.longitude;
		gp->bias = r->geoprox.bias;
		m->geo_proximity_location = gp;
	}
	if (r->alias_zone_id != NULL) {
		m->alias_hosted_zone_id = (char *)r->alias_zone_id;
		m->alias_dns_name.data = (uint8_t *)r->alias_name;
		m->alias_dns_name.len = r->alias_name_len;
		m->alias_evaluate_target_health = r->alias_evaluate;
	}
	m->region = str_in(r->region);
}

/* The command_version a command holding r needs at least. */
static uint32_t set_version(const struct rrset_data *r)
{
	if (r->geoprox.present)
		return COMMAND_VERSION_GEOPROX;
	if (r->region != NULL)
		return COMMAND_VERSION_LATENCY;
	if (r->cidr_collection_id != NULL || r->cidr_location != NULL)
		return COMMAND_VERSION_CIDR;
	if (r->alias_zone_id != NULL || r->geo_continent != NULL ||
	    r->geo_country != NULL || r->geo_subdivision != NULL)
		return COMMAND_VERSION_GEO_ALIAS;
	return r->has_weight || r->multivalue ? COMMAND_VERSION_ROUTING
					      : COMMAND_VERSION;
}

/* Arrays for n sets with nrd records in all (raft_malloc'd, one block). */
struct sets_pb {
	Q53__Command__RecordSet *sets;
	Q53__Command__RecordSet **ptrs;
	ProtobufCBinaryData *rdata;
	Q53__Command__GeoLocation *geo;
	Q53__Command__GeoProximityLocation *geoprox;
	void *block;
};

static int sets_pb_alloc(struct sets_pb *x, size_t n, size_t nrd)
{
	size_t a = n * sizeof(*x->sets), b = n * sizeof(*x->ptrs),
	       c = nrd * sizeof(*x->rdata), d = n * sizeof(*x->geo),
	       e = n * sizeof(*x->geoprox);
	uint8_t *p = raft_malloc(a + b + c + d + e + 1);

	if (p == NULL)
		return Q53_ENOMEM;
	x->block = p;
	x->sets = (void *)p;
	x->ptrs = (void *)(p + a);
	x->rdata = (void *)(p + a + b);
	x->geo = (void *)(p + a + b + c);
	x->geoprox = (void *)(p + a + b + c + d);
	return 0;
}

int command_encode_change_rrsets(const struct command_change_rrsets *c,
				 struct command_payload *out)
{
	const struct rrset_batch *b = &c->batch;
	Q53__Command__ChangeRecordSets m;
	Q53__Command__RecordSetChange *ch, **chp;
	struct sets_pb x;
	size_t nrd = 0;
	int rc;

	if (b->nchanges > 0 && b->changes == NULL)
		return Q53_EINVAL;
	for (size_t i = 0; i < b->nchanges; i++)
		nrd += b->changes[i].set.nrdata;
	rc = sets_pb_alloc(&x, b->nchanges, nrd);
	if (rc != 0)
		return rc;
	ch = raft_malloc(b->nchanges * (sizeof(*ch) + sizeof(*chp)) + 1);
	if (ch == NULL) {
		raft_free(x.block);
		return Q53_ENOMEM;
	}
	chp = (void *)(ch + b->nchanges);
	q53__command__change_record_sets__init(&m);
	m.command_version = COMMAND_VERSION;
	m.zone_id = str_in(c->zone_id);
	m.change_id = str_in(c->change_id);
	m.comment = str_in(b->comment);
	m.time_ms = c->time_ms;
	m.access_key_id = str_in(c->access_key_id);
	nrd = 0;
	for (size_t i = 0; i < b->nchanges; i++) {
		const struct rrset_change *r = &b->changes[i];
		q53__command__record_set_change__init(&ch[i]);
		ch[i].action = (uint32_t)r->action;
		ch[i].invalid = str_in(r->invalid);
		command_set_to_pb(
		    &r->set, &x.sets[i], x.rdata + nrd,
		    &(struct command_set_room){&x.geo[i], &x.geoprox[i]});
		if (set_version(&r->set) > m.command_version)
			m.command_version = set_version(&r->set);
		nrd += r->set.nrdata;
		ch[i].set = &x.sets[i];
		chp[i] = &ch[i];
	}
	m.changes = chp;
	m.n_changes = b->nchanges;
	rc = pack_payload(COMMAND_CHANGE_RRSETS, &m.base, out);
	raft_free(ch);
	raft_free(x.block);
	return rc;
}

/* Protobuf's base-128 varint of v at p; its length. */
static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	do {
		uint8_t b = v & 0x7F;
		v >>= 7;
		p[n++] = b | (v ? 0x80 : 0);
	} while (v);
	return n;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >>= 7)
		n++;
	return n;
}

/* An import is one entry of up to millions of record sets. It is packed
 * set by set through one reused RecordSet message, not as a message tree
 * of them all (a million messages' memory, touched once, cost more than
 * the packing): fields 1 to 3, each set as field 4, then field 5 — the
 * bytes protobuf_c_message_pack gives for the whole message
 * (tests/unit/test_command.c checks that). */
#define IMPORT_SETS_TAG 0x22u /* field 4, length-delimited */

/* A set whose RecordSet message has only owner, type, ttl and rdata
 * (every other field at its proto3 default, so protobuf-c packs none of
 * them): encoded by hand, byte for byte what protobuf-c packs
 * (test_command_import compares), without its descriptor walk. */
static bool set_plain(const struct rrset_data *r)
{
	return (r->set_identifier == NULL || r->set_identifier[0] == '\0') &&
	       r->failover == 0 && !r->has_weight && r->weight == 0 &&
	       !r->multivalue &&
	       (r->health_check_id == NULL || r->health_check_id[0] == '\0') &&
	       r->geo_continent == NULL && r->geo_country == NULL &&
	       r->geo_subdivision == NULL && r->cidr_collection_id == NULL &&
	       r->cidr_location == NULL && !r->geoprox.present &&
	       r->alias_zone_id == NULL && r->region == NULL;
}

/* The packed size of plain set r's RecordSet. */
static size_t plain_size(const struct rrset_data *r)
{
	size_t n = 0;
	if (r->owner_len > 0)
		n += 1 + varint_len(r->owner_len) + r->owner_len;
	if (r->type != 0)
		n += 1 + varint_len(r->type);
	if (r->ttl != 0)
		n += 1 + varint_len(r->ttl);
	for (size_t k = 0; k < r->nrdata; k++)
		n += 1 + varint_len(r->rdata[k].len) + r->rdata[k].len;
	return n;
}

static size_t plain_pack(const struct rrset_data *r, uint8_t *p)
{
	uint8_t *o = p;
	if (r->owner_len > 0) {
		*p++ = 0x0a; /* 1: owner */
		p += put_varint(p, r->owner_len);
		memcpy(p, r->owner, r->owner_len);
		p += r->owner_len;
	}
	if (r->type != 0) {
		*p++ = 0x10; /* 2: type */
		p += put_varint(p, r->type);
	}
	if (r->ttl != 0) {
		*p++ = 0x18; /* 3: ttl */
		p += put_varint(p, r->ttl);
	}
	for (size_t k = 0; k < r->nrdata; k++) {
		*p++ = 0x22; /* 4: rdata */
		p += put_varint(p, r->rdata[k].len);
		if (r->rdata[k].len > 0)
			memcpy(p, r->rdata[k].data, r->rdata[k].len);
		p += r->rdata[k].len;
	}
	return (size_t)(p - o);
}
#define IMPORT_TIME_TAG 0x28u /* field 5, varint */

int command_encode_import_zone(const struct command_import_zone *c,
			       struct command_payload *out)
{
	Q53__Command__ImportRecordSets m;
	Q53__Command__RecordSet set;
	Q53__Command__GeoLocation geo;
	Q53__Command__GeoProximityLocation gp;
	const struct command_set_room room = {&geo, &gp};
	ProtobufCBinaryData *rdata = NULL;
	size_t maxrd = 1;

	memset(out, 0, sizeof(*out));
	out->type = COMMAND_IMPORT_ZONE;
	if (c->nsets > 0 && c->sets == NULL)
		return Q53_EINVAL;
	q53__command__import_record_sets__init(&m);
	m.command_version = COMMAND_VERSION;
	m.zone_id = str_in(c->zone_id);
	m.change_id = str_in(c->change_id);
	for (size_t i = 0; i < c->nsets; i++) {
		if (c->sets[i].nrdata > maxrd)
			maxrd = c->sets[i].nrdata;
		if (set_version(&c->sets[i]) > m.command_version)
			m.command_version = set_version(&c->sets[i]);
	}
	rdata = raft_malloc(maxrd * sizeof(*rdata));
	if (rdata == NULL)
		return Q53_ENOMEM;
	/* Sizes first, then the bytes. */
	size_t head = protobuf_c_message_get_packed_size(&m.base);
	size_t total = head;
	for (size_t i = 0; i < c->nsets; i++) {
		size_t n;
		if (set_plain(&c->sets[i])) {
			n = plain_size(&c->sets[i]);
		} else {
			command_set_to_pb(&c->sets[i], &set, rdata, &room);
			n = protobuf_c_message_get_packed_size(&set.base);
		}
		total += 1 + varint_len(n) + n;
	}
	if (c->time_ms != 0)
		total += 1 + varint_len(c->time_ms);
	if (total == 0) {
		raft_free(rdata);
		return 0;
	}
	uint8_t *buf = raft_malloc(total), *p = buf;
	if (buf == NULL) {
		raft_free(rdata);
		return Q53_ENOMEM;
	}
	p += protobuf_c_message_pack(&m.base, p);
	for (size_t i = 0; i < c->nsets; i++) {
		if (set_plain(&c->sets[i])) {
			*p++ = IMPORT_SETS_TAG;
			p += put_varint(p, plain_size(&c->sets[i]));
			p += plain_pack(&c->sets[i], p);
			continue;
		}
		command_set_to_pb(&c->sets[i], &set, rdata, &room);
		size_t n = protobuf_c_message_get_packed_size(&set.base);
		*p++ = IMPORT_SETS_TAG;
		p += put_varint(p, n);
		p += protobuf_c_message_pack(&set.base, p);
	}
	if (c->time_ms != 0) {
		*p++ = IMPORT_TIME_TAG;
		p += put_varint(p, c->time_ms);
	}
	raft_free(rdata);
	out->data = buf;
	out->len = (size_t)(p - buf);
	return 0;
}

/* --- typed health-check configs --- */

int command_config_to_pb(const struct health_check_config *cfg,
			 Q53__Command__HealthCheckConfig *m,
			 char ***children_out)
{
	q53__command__health_check_config__init(m);
	*children_out = NULL;
	m->type = (uint32_t)cfg->type;
	m->ip_address = (char *)cfg->ip_address;
	m->fqdn = (char *)cfg->fqdn;
	m->port = cfg->port;
	m->resource_path = (char *)cfg->resource_path;
	m->search_string = (char *)cfg->search_string;
	m->request_interval = cfg->request_interval;
	m->failure_threshold = cfg->failure_threshold;
	m->healthy_share = cfg->healthy_share;
	m->inverted = cfg->inverted;
	m->disabled = cfg->disabled;
	m->enable_sni = cfg->enable_sni;
	m->measure_latency = cfg->measure_latency;
	m->health_threshold = cfg->health_threshold;
	m->webhook_url = (char *)cfg->webhook_url;
	if (cfg->n_children > 0) {
		char **v = raft_malloc(cfg->n_children * sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		for (size_t i = 0; i < cfg->n_children; i++)
			v[i] = (char *)cfg->children[i];
		m->children = v;
		m->n_children = cfg->n_children;
		*children_out = v;
	}
	return 0;
}

static bool text_fits(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= cap)
		return false;
	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
	return true;
}

int command_config_from_pb(const Q53__Command__HealthCheckConfig *m,
			   struct health_check_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (m == NULL || m->type > (uint32_t)HEALTH_CHECK_CALCULATED ||
	    m->port > UINT16_MAX || m->n_children > HEALTH_CHECK_CHILDREN_MAX ||
	    !text_fits(cfg->ip_address, sizeof(cfg->ip_address),
		       m->ip_address) ||
	    !text_fits(cfg->fqdn, sizeof(cfg->fqdn), m->fqdn) ||
	    !text_fits(cfg->resource_path, sizeof(cfg->resource_path),
		       m->resource_path) ||
	    !text_fits(cfg->search_string, sizeof(cfg->search_string),
		       m->search_string) ||
	    !text_fits(cfg->webhook_url, sizeof(cfg->webhook_url),
		       m->webhook_url))
		goto malformed;
	cfg->type = (enum health_check_type)m->type;
	cfg->port = (uint16_t)m->port;
	cfg->request_interval = m->request_interval;
	cfg->failure_threshold = m->failure_threshold;
	cfg->healthy_share = m->healthy_share;
	cfg->inverted = m->inverted;
	cfg->disabled = m->disabled;
	cfg->enable_sni = m->enable_sni;
	cfg->measure_latency = m->measure_latency;
	cfg->health_threshold = m->health_threshold;
	if (m->n_children > 0) {
		/* health_check_config_clear frees with free(). */
		cfg->children = malloc(m->n_children * sizeof(*cfg->children));
		if (cfg->children == NULL) {
			memset(cfg, 0, sizeof(*cfg));
			return Q53_ENOMEM;
		}
		cfg->n_children = m->n_children;
		for (size_t i = 0; i < m->n_children; i++)
			if (!text_fits(cfg->children[i],
				       sizeof(cfg->children[i]),
				       m->children[i]))
				goto malformed;
	}
	return 0;
malformed:
	health_check_config_clear(cfg);
	return Q53_EMALF;
}

int command_encode_create_health_check(
    const struct command_create_health_check *c, struct command_payload *out)
{
	Q53__Command__CreateHealthCheckTyped m;
	Q53__Command__HealthCheckConfig cfg;
	char **children;
	int rc;

	if (c->config == NULL)
		return Q53_EINVAL;
	rc = command_config_to_pb(c->config, &cfg, &children);
	if (rc != 0)
		return rc;
	q53__command__create_health_check_typed__init(&m);
	m.command_version = COMMAND_VERSION;
	m.id = str_in(c->id);
	m.caller_reference = str_in(c->caller_reference);
	m.config = &cfg;
	m.time_ms = c->time_ms;
	rc = pack_payload(COMMAND_CREATE_HEALTH_CHECK, &m.base, out);
	raft_free(children);
	return rc;
}

int command_encode_update_health_check(
    const struct command_update_health_check *c, struct command_payload *out)
{
	Q53__Command__UpdateHealthCheckTyped m;
	Q53__Command__HealthCheckConfig cfg;
	char **children;
	int rc;

	if (c->config == NULL)
		return Q53_EINVAL;
	rc = command_config_to_pb(c->config, &cfg, &children);
	if (rc != 0)
		return rc;
	q53__command__update_health_check_typed__init(&m);
	m.command_version = COMMAND_VERSION;
	m.id = str_in(c->id);
	m.version = c->version;
	m.config = &cfg;
	m.time_ms = c->time_ms;
	rc = pack_payload(COMMAND_UPDATE_HEALTH_CHECK, &m.base, out);
	raft_free(children);
	return rc;
}

int command_encode_delete_health_check(
    const struct command_delete_health_check *c, struct command_payload *out)
{
	Q53__Command__DeleteHealthCheck m;

	q53__command__delete_health_check__init(&m);
	m.id = str_in(c->id);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_DELETE_HEALTH_CHECK, &m.base, out);
}

int command_encode_health_vote(const struct command_health_vote *c,
			       struct command_payload *out)
{
	Q53__Command__HealthVote m;

	q53__command__health_vote__init(&m);
	m.member_id = c->member_id;
	m.check_id = str_in(c->check_id);
	m.healthy = c->healthy;
	m.reason = str_in(c->reason);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_HEALTH_VOTE, &m.base, out);
}

int command_encode_set_node(const struct command_set_node *c,
			    struct command_payload *out)
{
	Q53__Command__SetNodeMetadata m;

	q53__command__set_node_metadata__init(&m);
	m.node_id = c->node_id;
	m.raft_address = str_in(c->raft_address);
	m.dns_address = str_in(c->dns_address);
	m.api_address = str_in(c->api_address);
	m.name = str_in(c->name);
	m.geoip_path = str_in(c->geoip_path);
	m.geoip_sha256 = str_in(c->geoip_sha256);
	m.site = str_in(c->site);
	m.site_region = str_in(c->site_region);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_SET_NODE, &m.base, out);
}

int command_encode_remove_node(const struct command_remove_node *c,
			       struct command_payload *out)
{
	Q53__Command__RemoveNodeMetadata m;

	q53__command__remove_node_metadata__init(&m);
	m.node_id = c->node_id;
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_REMOVE_NODE, &m.base, out);
}

int command_encode_change_tags(const struct command_change_tags *c,
			       struct command_payload *out)
{
	Q53__Command__ChangeTags m;
	Q53__Command__Tag *items = NULL, **ptrs = NULL;
	int rc;

	if ((c->n_add > 0 && c->add == NULL) ||
	    (c->n_remove > 0 && c->remove_keys == NULL))
		return Q53_EINVAL;
	q53__command__change_tags__init(&m);
	if (c->n_add > 0) {
		items = raft_calloc(c->n_add, sizeof(*items));
		ptrs = raft_calloc(c->n_add, sizeof(*ptrs));
		if (items == NULL || ptrs == NULL) {
			raft_free(items);
			raft_free(ptrs);
			return Q53_ENOMEM;
		}
	}
	for (size_t i = 0; i < c->n_add; i++) {
		q53__command__tag__init(&items[i]);
		items[i].key = str_in(c->add[i].key);
		items[i].value = str_in(c->add[i].value);
		ptrs[i] = &items[i];
	}
	m.command_version = COMMAND_VERSION;
	m.resource_type = str_in(c->resource_type);
	m.resource_id = str_in(c->resource_id);
	m.add = ptrs;
	m.n_add = c->n_add;
	m.remove_keys = (char **)c->remove_keys;
	m.n_remove_keys = c->n_remove;
	m.time_ms = c->time_ms;
	rc = pack_payload(COMMAND_CHANGE_TAGS, &m.base, out);
	raft_free(items);
	raft_free(ptrs);
	return rc;
}

int command_encode_set_zone_transfer(const struct command_set_zone_transfer *c,
				     struct command_payload *out)
{
	Q53__Command__SetZoneTransfer m;
	Q53__Command__ZoneTransferConfig *cfg;
	int rc;

	rc = xfr_config_to_pb(c->config, &cfg);
	if (rc != 0)
		return rc;
	q53__command__set_zone_transfer__init(&m);
	m.command_version = COMMAND_VERSION_XFR;
	m.config = cfg;
	m.time_ms = c->time_ms;
	rc = pack_payload(COMMAND_SET_ZONE_TRANSFER, &m.base, out);
	xfr_config_pb_free(cfg);
	return rc;
}

int command_encode_set_zone_limit(const struct command_set_zone_limit *c,
				  struct command_payload *out)
{
	Q53__Command__SetHostedZoneLimit m;

	q53__command__set_hosted_zone_limit__init(&m);
	m.command_version = COMMAND_VERSION_ZONE_LIMIT;
	m.zone_id = str_in(c->zone_id);
	m.limit_type = str_in(c->limit_type);
	m.value = c->value;
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_SET_ZONE_LIMIT, &m.base, out);
}

int command_encode_dynamic_update(const struct command_dynamic_update *c,
				  struct command_payload *out)
{
	Q53__Command__DynamicUpdate m;
	size_t n = c->n_prereqs + c->n_updates;
	Q53__Command__UpdateRr *items = raft_calloc(n + 1, sizeof(*items));
	Q53__Command__UpdateRr **ptrs = raft_calloc(n + 1, sizeof(*ptrs));
	int rc;

	if (items == NULL || ptrs == NULL) {
		raft_free(items);
		raft_free(ptrs);
		return Q53_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct command_dyn_rr *r =
		    i < c->n_prereqs ? &c->prereqs[i]
				     : &c->updates[i - c->n_prereqs];
		q53__command__update_rr__init(&items[i]);
		items[i].owner.data = (uint8_t *)r->owner;
		items[i].owner.len = r->owner_len;
		items[i].type = r->type;
		items[i].rclass = r->rclass;
		items[i].ttl = r->ttl;
		items[i].rdata.data = (uint8_t *)r->rdata;
		items[i].rdata.len = r->rdlen;
		ptrs[i] = &items[i];
	}
	q53__command__dynamic_update__init(&m);
	m.command_version = COMMAND_VERSION_XFR;
	m.zone_id = str_in(c->zone_id);
	m.change_id = str_in(c->change_id);
	m.key_name = str_in(c->key_name);
	m.prereqs = ptrs;
	m.n_prereqs = c->n_prereqs;
	m.updates = ptrs + c->n_prereqs;
	m.n_updates = c->n_updates;
	m.time_ms = c->time_ms;
	rc = pack_payload(COMMAND_DYNAMIC_UPDATE, &m.base, out);
	raft_free(items);
	raft_free(ptrs);
	return rc;
}

int command_encode_update_zone_comment(
    const struct command_update_zone_comment *c, struct command_payload *out)
{
	Q53__Command__UpdateHostedZoneComment m;

	q53__command__update_hosted_zone_comment__init(&m);
	m.command_version = COMMAND_VERSION;
	m.zone_id = str_in(c->zone_id);
	m.comment = str_in(c->comment);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_UPDATE_ZONE_COMMENT, &m.base, out);
}

/* The protobuf rows of rows[0..n): m[i] and its rtts in rtt_pb /
 * rtt_ptrs (LATENCY_ROW_REGIONS per row), all the caller's. */
static void latency_rows_to_pb(const struct latency_row *rows, size_t n,
			       Q53__Command__LatencyRow *m,
			       Q53__Command__LatencyRow **ptrs,
			       Q53__Command__LatencyRtt *rtt_pb,
			       Q53__Command__LatencyRtt **rtt_ptrs)
{
	for (size_t i = 0; i < n; i++) {
		const struct latency_row *r = &rows[i];
		q53__command__latency_row__init(&m[i]);
		m[i].family = r->family;
		m[i].addr.data = (uint8_t *)r->addr;
		m[i].addr.len = r->family == 4 ? 4 : 16;
		m[i].prefix_len = r->prefix_len;
		Q53__Command__LatencyRtt *x = rtt_pb + i * LATENCY_ROW_REGIONS;
		Q53__Command__LatencyRtt **xp =
		    rtt_ptrs + i * LATENCY_ROW_REGIONS;
		size_t k =
		    r->n < LATENCY_ROW_REGIONS ? r->n : LATENCY_ROW_REGIONS;
		for (size_t j = 0; j < k; j++) {
			q53__command__latency_rtt__init(&x[j]);
			x[j].region = (char *)r->rtt[j].region;
			x[j].rtt_ms = r->rtt[j].rtt_ms;
			xp[j] = &x[j];
		}
		m[i].rtts = xp;
		m[i].n_rtts = k;
		ptrs[i] = &m[i];
	}
}

int command_encode_set_latency_rows(const struct command_set_latency_rows *c,
				    struct command_payload *out)
{
	Q53__Command__SetLatencyRows m;
	size_t n = c->n_set + c->n_remove;
	int rc;

	if ((c->n_set > 0 && c->set == NULL) ||
	    (c->n_remove > 0 && c->remove == NULL))
		return Q53_EINVAL;
	Q53__Command__LatencyRow *rows = raft_calloc(n + 1, sizeof(*rows));
	Q53__Command__LatencyRow **ptrs = raft_calloc(n + 1, sizeof(*ptrs));
	Q53__Command__LatencyRtt *rtt =
	    raft_calloc(n * LATENCY_ROW_REGIONS + 1, sizeof(*rtt));
	Q53__Command__LatencyRtt **rtt_ptrs =
	    raft_calloc(n * LATENCY_ROW_REGIONS + 1, sizeof(*rtt_ptrs));
	rc = rows == NULL || ptrs == NULL || rtt == NULL || rtt_ptrs == NULL
		 ? Q53_ENOMEM
		 : 0;
	if (rc == 0) {
		latency_rows_to_pb(c->set, c->n_set, rows, ptrs, rtt, rtt_ptrs);
		latency_rows_to_pb(c->remove, c->n_remove, rows + c->n_set,
				   ptrs + c->n_set,
				   rtt + c->n_set * LATENCY_ROW_REGIONS,
				   rtt_ptrs + c->n_set * LATENCY_ROW_REGIONS);
		q53__command__set_latency_rows__init(&m);
		m.command_version = COMMAND_VERSION;
		m.set = ptrs;
		m.n_set = c->n_set;
		m.remove = ptrs + c->n_set;
		m.n_remove = c->n_remove;
		m.clear = c->clear;
		m.time_ms = c->time_ms;
		rc = pack_payload(COMMAND_SET_LATENCY_ROWS, &m.base, out);
	}
	raft_free(rows);
	raft_free(ptrs);
	raft_free(rtt);
	raft_free(rtt_ptrs);
	return rc;
}

int command_encode_latency_samples(const struct command_latency_samples *c,
				   struct command_payload *out)
{
	Q53__Command__LatencySamples m;
	Q53__Command__LatencyRtt rtt[LATENCY_ROW_REGIONS];
	Q53__Command__LatencyRtt *ptrs[LATENCY_ROW_REGIONS];

	if (c->n > LATENCY_ROW_REGIONS || (c->n > 0 && c->rtt == NULL))
		return Q53_EINVAL;
	for (size_t i = 0; i < c->n; i++) {
		q53__command__latency_rtt__init(&rtt[i]);
		rtt[i].region = (char *)c->rtt[i].region;
		rtt[i].rtt_ms = c->rtt[i].rtt_ms;
		ptrs[i] = &rtt[i];
	}
	q53__command__latency_samples__init(&m);
	m.command_version = COMMAND_VERSION;
	m.node_id = c->node_id;
	m.site = str_in(c->site);
	m.rtts = ptrs;
	m.n_rtts = c->n;
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_LATENCY_SAMPLES, &m.base, out);
}

int command_encode_create_cidr_collection(
    const struct command_create_cidr_collection *c, struct command_payload *out)
{
	Q53__Command__CreateCidrCollection m;

	q53__command__create_cidr_collection__init(&m);
	m.command_version = COMMAND_VERSION;
	m.id = str_in(c->id);
	m.name = str_in(c->name);
	m.caller_reference = str_in(c->caller_reference);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_CREATE_CIDR_COLLECTION, &m.base, out);
}

int command_encode_change_cidr_collection(
    const struct command_change_cidr_collection *c, struct command_payload *out)
{
	Q53__Command__ChangeCidrCollection m;
	Q53__Command__CidrLocationChange *ch = NULL, **chp = NULL;
	Q53__Command__CidrBlock *bl = NULL, **blp = NULL;
	size_t nb = 0;
	int rc;

	if (c->n_changes > 0 && c->changes == NULL)
		return Q53_EINVAL;
	for (size_t i = 0; i < c->n_changes; i++) {
		if (c->changes[i].n_blocks > 0 && c->changes[i].blocks == NULL)
			return Q53_EINVAL;
		nb += c->changes[i].n_blocks;
	}
	q53__command__change_cidr_collection__init(&m);
	ch = raft_calloc(c->n_changes + 1, sizeof(*ch));
	chp = raft_calloc(c->n_changes + 1, sizeof(*chp));
	bl = raft_calloc(nb + 1, sizeof(*bl));
	blp = raft_calloc(nb + 1, sizeof(*blp));
	if (ch == NULL || chp == NULL || bl == NULL || blp == NULL) {
		rc = Q53_ENOMEM;
		goto out;
	}
	nb = 0;
	for (size_t i = 0; i < c->n_changes; i++) {
		const struct command_cidr_change *x = &c->changes[i];
		q53__command__cidr_location_change__init(&ch[i]);
		ch[i].action = (uint32_t)x->action;
		ch[i].location_name = str_in(x->location);
		ch[i].blocks = blp + nb;
		ch[i].n_blocks = x->n_blocks;
		for (size_t k = 0; k < x->n_blocks; k++) {
			const struct cidr_block *b = &x->blocks[k];
			q53__command__cidr_block__init(&bl[nb]);
			bl[nb].address.data = (uint8_t *)b->addr;
			bl[nb].address.len = b->family == 4 ? 4 : 16;
			bl[nb].prefix_length = b->len;
			blp[nb] = &bl[nb];
			nb++;
		}
		chp[i] = &ch[i];
	}
	m.command_version = COMMAND_VERSION;
	m.id = str_in(c->id);
	m.collection_version = c->version;
	m.changes = chp;
	m.n_changes = c->n_changes;
	m.delete_collection = c->delete_collection;
	m.time_ms = c->time_ms;
	rc = pack_payload(COMMAND_CHANGE_CIDR_COLLECTION, &m.base, out);
out:
	raft_free(ch);
	raft_free(chp);
	raft_free(bl);
	raft_free(blp);
	return rc;
}

int command_cidr_block_from_pb(const Q53__Command__CidrBlock *m,
			       struct cidr_block *b)
{
	memset(b, 0, sizeof(*b));
	if (m == NULL || (m->address.len != 4 && m->address.len != 16) ||
	    m->prefix_length > 128)
		return Q53_EMALF;
	b->family = m->address.len == 4 ? 4 : 6;
	memcpy(b->addr, m->address.data, m->address.len);
	b->len = (uint8_t)m->prefix_length;
	return 0;
}

/* --- decode --- */

int command_encode_create_access_key(const struct command_create_access_key *c,
				     struct command_payload *out)
{
	Q53__Command__CreateAccessKey m;
	Q53__Command__AccessKey k;

	if (c->policy == NULL)
		return Q53_EINVAL;
	q53__command__create_access_key__init(&m);
	q53__command__access_key__init(&k);
	k.id = str_in(c->id);
	k.secret = str_in(c->secret);
	k.description = str_in(c->description);
	k.policy_document = str_in(c->policy_document);
	k.created_ms = c->time_ms;
	k.policy = (Q53__Command__AccessPolicy *)c->policy;
	m.command_version = COMMAND_VERSION;
	m.key = &k;
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_CREATE_ACCESS_KEY, &m.base, out);
}

int command_encode_delete_access_key(const struct command_delete_access_key *c,
				     struct command_payload *out)
{
	Q53__Command__DeleteAccessKey m;

	q53__command__delete_access_key__init(&m);
	m.command_version = COMMAND_VERSION;
	m.id = str_in(c->id);
	m.time_ms = c->time_ms;
	return pack_payload(COMMAND_DELETE_ACCESS_KEY, &m.base, out);
}

static const ProtobufCMessageDescriptor *descriptor_of(uint16_t type)
{
	switch (type) {
	case COMMAND_CREATE_HOSTED_ZONE:
		return &q53__command__create_hosted_zone__descriptor;
	case COMMAND_DELETE_HOSTED_ZONE:
		return &q53__command__delete_hosted_zone__descriptor;
	case COMMAND_CHANGE_RRSETS:
		return &q53__command__change_record_sets__descriptor;
	case COMMAND_IMPORT_ZONE:
		return &q53__command__import_record_sets__descriptor;
	case COMMAND_CREATE_HEALTH_CHECK:
		return &q53__command__create_health_check_typed__descriptor;
	case COMMAND_UPDATE_HEALTH_CHECK:
		return &q53__command__update_health_check_typed__descriptor;
	case COMMAND_DELETE_HEALTH_CHECK:
		return &q53__command__delete_health_check__descriptor;
	case COMMAND_HEALTH_VOTE:
		return &q53__command__health_vote__descriptor;
	case COMMAND_SET_NODE:
		return &q53__command__set_node_metadata__descriptor;
	case COMMAND_REMOVE_NODE:
		return &q53__command__remove_node_metadata__descriptor;
	case COMMAND_CREATE_ACCESS_KEY:
		return &q53__command__create_access_key__descriptor;
	case COMMAND_DELETE_ACCESS_KEY:
		return &q53__command__delete_access_key__descriptor;
	case COMMAND_CHANGE_TAGS:
		return &q53__command__change_tags__descriptor;
	case COMMAND_UPDATE_ZONE_COMMENT:
		return &q53__command__update_hosted_zone_comment__descriptor;
	case COMMAND_SET_ZONE_LIMIT:
		return &q53__command__set_hosted_zone_limit__descriptor;
	case COMMAND_SET_LATENCY_ROWS:
		return &q53__command__set_latency_rows__descriptor;
	case COMMAND_LATENCY_SAMPLES:
		return &q53__command__latency_samples__descriptor;
	case COMMAND_CREATE_CIDR_COLLECTION:
		return &q53__command__create_cidr_collection__descriptor;
	case COMMAND_CHANGE_CIDR_COLLECTION:
		return &q53__command__change_cidr_collection__descriptor;
	case COMMAND_SET_ZONE_TRANSFER:
		return &q53__command__set_zone_transfer__descriptor;
	case COMMAND_DYNAMIC_UPDATE:
		return &q53__command__dynamic_update__descriptor;
	default:
		return NULL;
	}
}

/* A bump arena for one unpacked message: protobuf-c's many small
 * allocations (one per message, bytes field and repeated array) come from
 * a few large raft heap chunks, all freed at once. */
struct pb_chunk {
	struct pb_chunk *next;
	size_t used;
	size_t cap;
	_Alignas(16) uint8_t data[];
};

struct pb_arena {
	ProtobufCAllocator base;
	struct pb_chunk *head;
	bool failed;
};

#define PB_CHUNK_MIN 4096u
#define PB_CHUNK_MAX (8u << 20)

static void *arena_alloc(void *data, size_t size)
{
	struct pb_arena *a = data;
	struct pb_chunk *c = a->head;
	size_t need = (size + 15u) & ~(size_t)15u;

	if (need == 0)
		need = 16;
	if (need < size) {
		a->failed = true;
		return NULL;
	}
	if (c == NULL || c->cap - c->used < need) {
		size_t cap = c != NULL ? c->cap * 2 : PB_CHUNK_MIN;
		if (cap > PB_CHUNK_MAX)
			cap = PB_CHUNK_MAX;
		if (cap < need)
			cap = need;
		if (cap > SIZE_MAX - sizeof(*c)) {
			a->failed = true;
			return NULL;
		}
		struct pb_chunk *n = raft_malloc(sizeof(*n) + cap);
		if (n == NULL) {
			a->failed = true;
			return NULL;
		}
		n->next = c;
		n->used = 0;
		n->cap = cap;
		a->head = c = n;
	}
	void *p = c->data + c->used;
	c->used += need;
	return p;
}

static void arena_free_one(void *data, void *p)
{
	(void)data;
	(void)p; /* freed with the arena */
}

static void arena_free(struct pb_arena *a)
{
	if (a == NULL)
		return;
	for (struct pb_chunk *c = a->head, *next; c != NULL; c = next) {
		next = c->next;
		raft_free(c);
	}
	raft_free(a);
}

/* Unpack into a new arena (*arena; release with arena_free): NULL and
 * Q53_ENOMEM or Q53_EMALF in *rc. */
static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *d,
				const uint8_t *buf, size_t len, void **arena,
				int *rc)
{
	struct pb_arena *a = raft_malloc(sizeof(*a));
	ProtobufCMessage *m;

	*arena = NULL;
	if (a == NULL) {
		*rc = Q53_ENOMEM;
		return NULL;
	}
	a->base.alloc = arena_alloc;
	a->base.free = arena_free_one;
	a->base.allocator_data = a;
	a->head = NULL;
	a->failed = false;
	m = protobuf_c_message_unpack(d, &a->base, len, len > 0 ? buf : NULL);
	if (m == NULL) {
		*rc = a->failed ? Q53_ENOMEM : Q53_EMALF;
		arena_free(a);
		return NULL;
	}
	*arena = a;
	return m;
}

static void unpacked_free(void *arena)
{
	arena_free(arena);
}

/* The command_versions of the record set commands this release reads:
 * 1..6 (4 IP-based, 5 latency, 6 geoproximity). */
static bool rrsets_version_known(uint32_t v)
{
	return v >= COMMAND_VERSION && v <= COMMAND_VERSION_MAX;
}

static int fill_typed(struct command *out);

static void fill_command(struct command *out)
{
	switch (out->type) {
	case COMMAND_CREATE_HOSTED_ZONE: {
		const Q53__Command__CreateHostedZone *m = out->pb;
		struct command_create_hosted_zone *c =
		    &out->u.create_hosted_zone;

		c->id = str_out(m->id);
		c->name = str_out(m->name);
		c->caller_reference = str_out(m->caller_reference);
		c->comment = str_out(m->comment);
		c->nameservers = (const char *const *)m->nameservers;
		c->n_nameservers = m->n_nameservers;
		c->change_id = str_out(m->change_id);
		c->time_ms = m->time_ms;
		c->max_rrsets = m->max_rrsets;
		c->access_key_id = str_out(m->access_key_id);
		break;
	}
	case COMMAND_DELETE_HOSTED_ZONE: {
		const Q53__Command__DeleteHostedZone *m = out->pb;
		struct command_delete_hosted_zone *c =
		    &out->u.delete_hosted_zone;

		c->id = str_out(m->id);
		c->change_id = str_out(m->change_id);
		c->time_ms = m->time_ms;
		c->access_key_id = str_out(m->access_key_id);
		break;
	}
	case COMMAND_DELETE_HEALTH_CHECK: {
		const Q53__Command__DeleteHealthCheck *m = out->pb;

		out->u.delete_health_check.id = str_out(m->id);
		out->u.delete_health_check.time_ms = m->time_ms;
		break;
	}
	case COMMAND_HEALTH_VOTE: {
		const Q53__Command__HealthVote *m = out->pb;
		struct command_health_vote *c = &out->u.health_vote;

		c->member_id = m->member_id;
		c->check_id = str_out(m->check_id);
		c->healthy = m->healthy;
		c->reason = str_out(m->reason);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_SET_NODE: {
		const Q53__Command__SetNodeMetadata *m = out->pb;
		struct command_set_node *c = &out->u.set_node;

		c->node_id = m->node_id;
		c->raft_address = str_out(m->raft_address);
		c->dns_address = str_out(m->dns_address);
		c->api_address = str_out(m->api_address);
		c->name = str_out(m->name);
		c->geoip_path = str_out(m->geoip_path);
		c->geoip_sha256 = str_out(m->geoip_sha256);
		c->site = str_out(m->site);
		c->site_region = str_out(m->site_region);
		c->time_ms = m->time_ms;
		break;
	}
	case COMMAND_REMOVE_NODE: {
		const Q53__Command__RemoveNodeMetadata *m = out->pb;

		out->u.remove_node.node_id = m->node_id;
		out->u.remove_node.time_ms = m->time_ms;
		break;
	}
	default:
		break; /* the typed commands: fill_typed */
	}
}

/* --- decode: typed commands --- */

bool command_type_versioned(uint16_t type)
{
	return (type >= COMMAND_CHANGE_RRSETS &&
		type <= COMMAND_DELETE_ACCESS_KEY) ||
	       type == COMMAND_CHANGE_TAGS ||
	       type == COMMAND_UPDATE_ZONE_COMMENT ||
	       type == COMMAND_CREATE_CIDR_COLLECTION ||
	       type == COMMAND_CHANGE_CIDR_COLLECTION ||
	       type == COMMAND_SET_LATENCY_ROWS ||
	       type == COMMAND_LATENCY_SAMPLES ||
	       type == COMMAND_SET_ZONE_TRANSFER ||
	       type == COMMAND_DYNAMIC_UPDATE ||
	       (type >= COMMAND_CREATE_TRAFFIC_POLICY &&
		type <= COMMAND_TRAFFIC_POLICY_INSTANCE) ||
	       type == COMMAND_SET_ZONE_LIMIT ||
	       type == COMMAND_CHANGE_QUERY_LOGGING;
}

uint32_t command_version_max(uint16_t type)
{
	if (type >= COMMAND_CREATE_TRAFFIC_POLICY &&
	    type <= COMMAND_TRAFFIC_POLICY_INSTANCE)
		return COMMAND_VERSION_TRAFFIC_FLOW;
	if (type == COMMAND_SET_ZONE_TRANSFER || type == COMMAND_DYNAMIC_UPDATE)
		return COMMAND_VERSION_XFR;
	if (type == COMMAND_SET_ZONE_LIMIT)
		return COMMAND_VERSION_ZONE_LIMIT;
	return type == COMMAND_CHANGE_RRSETS || type == COMMAND_IMPORT_ZONE
		   ? COMMAND_VERSION_MAX
		   : COMMAND_VERSION;
}

bool command_version_known(uint16_t type, uint32_t v)
{
	if (type == COMMAND_CHANGE_RRSETS || type == COMMAND_IMPORT_ZONE)
		return rrsets_version_known(v);
	if (type == COMMAND_CREATE_TRAFFIC_POLICY)
		return v == COMMAND_VERSION_TRAFFIC_FLOW ||
		       v == COMMAND_VERSION_TRAFFIC_FLOW_GEO;
	if (type > COMMAND_CREATE_TRAFFIC_POLICY &&
	    type <= COMMAND_TRAFFIC_POLICY_INSTANCE)
		return v == COMMAND_VERSION_TRAFFIC_FLOW;
	if (type == COMMAND_SET_ZONE_TRANSFER || type == COMMAND_DYNAMIC_UPDATE)
		return v == COMMAND_VERSION_XFR;
	if (type == COMMAND_SET_ZONE_LIMIT)
		return v == COMMAND_VERSION_ZONE_LIMIT;
	return v == COMMAND_VERSION;
}

uint32_t command_peek_version(const uint8_t *payload, size_t len)
{
	uint64_t v = 0;

	/* protobuf-c writes fields in number order: field 1 (varint, tag
	 * 0x08) comes first when it is set. */
	if (len < 2 || payload[0] != 0x08)
		return 0;
	for (size_t i = 1; i < len && i < 11; i++) {
		v |= (uint64_t)(payload[i] & 0x7f) << (7 * (i - 1));
		if ((payload[i] & 0x80) == 0)
			return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
	return 0;
}

/* The typed form of a RecordSet (borrowing m); rdata is the caller's. */
int command_set_from_pb(const Q53__Command__RecordSet *m, struct rrset_data *r,
			struct rrset_rdata *rdata)
{
	if (m == NULL || m->type > UINT16_MAX || m->failover > 2)
		return Q53_EMALF;
	r->owner = m->owner.data;
	r->owner_len = m->owner.len;
	r->type = (uint16_t)m->type;
	r->ttl = m->ttl;
	for (size_t k = 0; k < m->n_rdata; k++) {
		rdata[k].data = m->rdata[k].data;
		rdata[k].len = m->rdata[k].len;
	}
	r->rdata = rdata;
	r->nrdata = m->n_rdata;
	r->set_identifier = m->set_identifier != NULL && m->set_identifier[0]
				? m->set_identifier
				: NULL;
	r->failover = (enum change_failover)m->failover;
	r->has_weight = m->has_weight;
	r->weight = m->weight;
	r->multivalue = m->multi_value_answer;
	r->health_check_id = m->health_check_id != NULL && m->health_check_id[0]
				 ? m->health_check_id
				 : NULL;
	const Q53__Command__GeoLocation *g = m->geo_location;
	r->geo_continent =
	    g != NULL && g->continent_code != NULL && g->continent_code[0]
		? g->continent_code
		: NULL;
	r->geo_country =
	    g != NULL && g->country_code != NULL && g->country_code[0]
		? g->country_code
		: NULL;
	r->geo_subdivision =
	    g != NULL && g->subdivision_code != NULL && g->subdivision_code[0]
		? g->subdivision_code
		: NULL;
	r->alias_zone_id =
	    m->alias_hosted_zone_id != NULL && m->alias_hosted_zone_id[0]
		? m->alias_hosted_zone_id
		: NULL;
	r->alias_name = m->alias_dns_name.data;
	r->alias_name_len = m->alias_dns_name.len;
	r->alias_evaluate = m->alias_evaluate_target_health;
	r->region = m->region != NULL && m->region[0] ? m->region : NULL;
	r->cidr_collection_id =
	    m->cidr_collection_id != NULL && m->cidr_collection_id[0]
		? m->cidr_collection_id
		: NULL;
	r->cidr_location =
	    m->cidr_location_name != NULL && m->cidr_location_name[0]
		? m->cidr_location_name
		: NULL;
	const Q53__Command__GeoProximityLocation *gp =
	    m->geo_proximity_location;
	memset(&r->geoprox, 0, sizeof(r->geoprox));
	if (gp != NULL) {
		r->geoprox.present = true;
		r->geoprox.region = gp->aws_region != NULL && gp->aws_region[0]
					? gp->aws_region
					: NULL;
		r->geoprox.local_zone_group =
		    gp->local_zone_group != NULL && gp->local_zone_group[0]
			? gp->local_zone_group
			: NULL;
		r->geoprox.has_coordinates = gp->has_coordinates;
		r->geoprox.latitude = gp->latitude;
		r->geoprox.longitude = gp->longitude;
		r->geoprox.bias = gp->bias;
	}
	return 0;
}

static int fill_typed(struct command *out)
{
	switch (out->type) {
	case COMMAND_CHANGE_RRSETS: {
		const Q53__Command__ChangeRecordSets *m = out->pb;
		struct command_change_rrsets *c = &out->u.change_rrsets;
		size_t nrd = 0;

		if (!rrsets_version_known(m->command_version))
			return Q53_EMALF;
		for (size_t i = 0; i < m->n_changes; i++) {
			if (m->changes[i]->set == NULL)
				return Q53_EMALF;
			nrd += m->changes[i]->set->n_rdata;
		}
		size_t a = m->n_changes * sizeof(struct rrset_change);
		uint8_t *p =
		    raft_malloc(a + nrd * sizeof(struct rrset_rdata) + 1);
		if (p == NULL)
			return Q53_ENOMEM;
		out->aux = p;
		struct rrset_change *ch = (void *)p;
		struct rrset_rdata *rd = (void *)(p + a);
		nrd = 0;
		for (size_t i = 0; i < m->n_changes; i++) {
			const Q53__Command__RecordSetChange *x = m->changes[i];
			if (x->action < CHANGE_CREATE ||
			    x->action > CHANGE_UPSERT ||
			    command_set_from_pb(x->set, &ch[i].set, rd + nrd) !=
				0)
				return Q53_EMALF;
			nrd += x->set->n_rdata;
			ch[i].action = (enum change_action)x->action;
			ch[i].invalid = x->invalid != NULL && x->invalid[0]
					    ? x->invalid
					    : NULL;
		}
		c->zone_id = str_out(m->zone_id);
		c->change_id = str_out(m->change_id);
		c->batch.comment =
		    m->comment != NULL && m->comment[0] ? m->comment : NULL;
		c->batch.changes = ch;
		c->batch.nchanges = m->n_changes;
		c->time_ms = m->time_ms;
		c->access_key_id = str_out(m->access_key_id);
		return 0;
	}
	case COMMAND_CREATE_ACCESS_KEY: {
		const Q53__Command__CreateAccessKey *m = out->pb;
		struct command_create_access_key *c = &out->u.create_access_key;

		if (m->command_version != COMMAND_VERSION || m->key == NULL ||
		    m->key->policy == NULL)
			return Q53_EMALF;
		c->id = str_out(m->key->id);
		c->secret = str_out(m->key->secret);
		c->description = str_out(m->key->description);
		c->policy_document = str_out(m->key->policy_document);
		c->policy = m->key->policy;
		c->time_ms = m->time_ms;
		return 0;
	}
	case COMMAND_DELETE_ACCESS_KEY: {
		const Q53__Command__DeleteAccessKey *m = out->pb;

		if (m->command_version != COMMAND_VERSION)
			return Q53_EMALF;
		out->u.delete_access_key.id = str_out(m->id);
		out->u.delete_access_key.time_ms = m->time_ms;
		return 0;
	}
	case COMMAND_IMPORT_ZONE: {
		const Q53__Command__ImportRecordSets *m = out->pb;
		struct command_import_zone *c = &out->u.import_zone;
		size_t nrd = 0;

		if (!rrsets_version_known(m->command_version))
			return Q53_EMALF;
		for (size_t i = 0; i < m->n_sets; i++)
			nrd += m->sets[i]->n_rdata;
		size_t a = m->n_sets * sizeof(struct rrset_data);
		uint8_t *p =
		    raft_malloc(a + nrd * sizeof(struct rrset_rdata) + 1);
		if (p == NULL)
			return Q53_ENOMEM;
		out->aux = p;
		struct rrset_data *sets = (void *)p;
		struct rrset_rdata *rd = (void *)(p + a);
		nrd = 0;
		for (size_t i = 0; i < m->n_sets; i++) {
			if (command_set_from_pb(m->sets[i], &sets[i],
						rd + nrd) != 0)
				return Q53_EMALF;
			nrd += m->sets[i]->n_rdata;
		}
		c->zone_id = str_out(m->zone_id);
		c->change_id = str_out(m->change_id);
		c->sets = sets;
		c->nsets = m->n_sets;
		c->time_ms = m->time_ms;
		return 0;
	}
	case COMMAND_CREATE_HEALTH_CHECK:
	case COMMAND_UPDATE_HEALTH_CHECK: {
		const Q53__Command__HealthCheckConfig *pc;
		uint32_t version;
		struct health_check_config *cfg;
		int rc;

		if (out->type == COMMAND_CREATE_HEALTH_CHECK) {
			const Q53__Command__CreateHealthCheckTyped *m = out->pb;
			struct command_create_health_check *c =
			    &out->u.create_health_check;
			version = m->command_version;
			pc = m->config;
			c->id = str_out(m->id);
			c->caller_reference = str_out(m->caller_reference);
			c->time_ms = m->time_ms;
		} else {
			const Q53__Command__UpdateHealthCheckTyped *m = out->pb;
			struct command_update_health_check *c =
			    &out->u.update_health_check;
			version = m->command_version;
			pc = m->config;
			c->id = str_out(m->id);
			c->version = m->version;
			c->time_ms = m->time_ms;
		}
		if (version != COMMAND_VERSION || pc == NULL)
			return Q53_EMALF;
		cfg = raft_calloc(1, sizeof(*cfg));
		if (cfg == NULL)
			return Q53_ENOMEM;
		rc = command_config_from_pb(pc, cfg);
		if (rc != 0) {
			raft_free(cfg);
			return rc;
		}
		out->aux = cfg;
		if (out->type == COMMAND_CREATE_HEALTH_CHECK)
			out->u.create_health_check.config = cfg;
		else
			out->u.update_health_check.config = cfg;
		return 0;
	}
	case COMMAND_CHANGE_TAGS: {
		const Q53__Command__ChangeTags *m = out->pb;
		struct command_change_tags *c = &out->u.change_tags;
		struct command_tag *add;

		if (m->command_version != COMMAND_VERSION)
			return Q53_EMALF;
		add = raft_calloc(m->n_add + 1, sizeof(*add));
		if (add == NULL)
			return Q53_ENOMEM;
		out->aux = add;
		for (size_t i = 0; i < m->n_add; i++) {
			add[i].key = str_out(m->add[i]->key);
			add[i].value = str_out(m->add[i]->value);
		}
		c->resource_type = str_out(m->resource_type);
		c->resource_id = str_out(m->resource_id);
		c->add = add;
		c->n_add = m->n_add;
		c->remove_keys = (const char *const *)m->remove_keys;
		c->n_remove = m->n_remove_keys;
		c->time_ms = m->time_ms;
		return 0;
	}
	case COMMAND_SET_LATENCY_ROWS: {
		const Q53__Command__SetLatencyRows *m = out->pb;
		struct command_set_latency_rows *c = &out->u.set_latency_rows;
		if (m->command_version != COMMAND_VERSION ||
		    m->n_set > LATENCY_ROWS_MAX ||
		    m->n_remove > LATENCY_ROWS_MAX)
			return Q53_EMALF;
		size_t nrows = m->n_set + m->n_remove;
		/* The rows, then room for why one does not check. */
		const size_t whylen = 160;
		struct latency_row *rows =
		    raft_calloc(1, nrows * sizeof(*rows) + whylen);
		if (rows == NULL)
			return Q53_ENOMEM;
		out->aux = rows;
		char *why = (char *)(rows + nrows);
		c->invalid = NULL;
		for (size_t i = 0; i < m->n_set + m->n_remove; i++) {
			const Q53__Command__LatencyRow *x =
			    i < m->n_set ? m->set[i] : m->remove[i - m->n_set];
			if (latency_row_from_pb(x, &rows[i], why, whylen) !=
				0 &&
			    c->invalid == NULL)
				c->invalid = why;
		}
		c->set = rows;
		c->n_set = m->n_set;
		c->remove = rows + m->n_set;
		c->n_remove = m->n_remove;
		c->clear = m->clear;
		c->time_ms = m->time_ms;
		return 0;
	}
	case COMMAND_LATENCY_SAMPLES: {
		const Q53__Command__LatencySamples *m = out->pb;
		struct command_latency_samples *c = &out->u.latency_samples;

		if (m->command_version != COMMAND_VERSION ||
		    m->n_rtts > LATENCY_ROW_REGIONS)
			return Q53_EMALF;
		struct latency_rtt *rtt =
		    raft_calloc(m->n_rtts + 1, sizeof(*rtt));
		if (rtt == NULL)
			return Q53_ENOMEM;
		out->aux = rtt;
		for (size_t i = 0; i < m->n_rtts; i++) {
			const char *reg = str_out(m->rtts[i]->region);
			if (strlen(reg) > LATENCY_NAME_MAX)
				return Q53_EMALF;
			memcpy(rtt[i].region, reg, strlen(reg) + 1);
			rtt[i].rtt_ms = m->rtts[i]->rtt_ms;
		}
		c->node_id = m->node_id;
		c->site = str_out(m->site);
		c->rtt = rtt;
		c->n = m->n_rtts;
		c->time_ms = m->time_ms;
		return 0;
	}
	case COMMAND_CREATE_CIDR_COLLECTION: {
		const Q53__Command__CreateCidrCollection *m = out->pb;
		struct command_create_cidr_collection *c =
		    &out->u.create_cidr_collection;

		if (m->command_version != COMMAND_VERSION)
			return Q53_EMALF;
		c->id = str_out(m->id);
		c->name = str_out(m->name);
		c->caller_reference = str_out(m->caller_reference);
		c->time_ms = m->time_ms;
		return 0;
	}
	case COMMAND_CHANGE_CIDR_COLLECTION: {
		const Q53__Command__ChangeCidrCollection *m = out->pb;
		struct command_change_cidr_collection *c =
		    &out->u.change_cidr_collection;
		size_t nb = 0;

		if (m->command_version != COMMAND_VERSION)
			return Q53_EMALF;
		for (size_t i = 0; i < m->n_changes; i++)
			nb += m->changes[i]->n_blocks;
		size_t a =
		    (m->n_changes + 1) * sizeof(struct command_cidr_change);
		uint8_t *p =
		    raft_malloc(a + (nb + 1) * sizeof(struct cidr_block));
		if (p == NULL)
			return Q53_ENOMEM;
		out->aux = p;
		struct command_cidr_change *ch = (void *)p;
		struct cidr_block *bl = (void *)(p + a);
		nb = 0;
		for (size_t i = 0; i < m->n_changes; i++) {
			const Q53__Command__CidrLocationChange *x =
			    m->changes[i];
			if (x->action < COMMAND_CIDR_PUT ||
			    x->action > COMMAND_CIDR_DELETE_IF_EXISTS)
				return Q53_EMALF;
			ch[i].action = (enum command_cidr_action)x->action;
			ch[i].location = str_out(x->location_name);
			ch[i].blocks = bl + nb;
			ch[i].n_blocks = x->n_blocks;
			for (size_t k = 0; k < x->n_blocks; k++)
				if (command_cidr_block_from_pb(x->blocks[k],
							       &bl[nb++]) != 0)
					return Q53_EMALF;
		}
		c->id = str_out(m->id);
		c->version = m->collection_version;
		c->delete_collection = m->delete_collection;
		c->changes = ch;
		c->n_changes = m->n_changes;
		c->time_ms = m->time_ms;
		return 0;
	}
	case COMMAND_SET_ZONE_TRANSFER: {
		const Q53__Command__SetZoneTransfer *m = out->pb;
		struct xfr_config *cfg;
		char why[160];

		if (m->command_version != COMMAND_VERSION_XFR ||
		    m->config == NULL)
			return Q53_EMALF;
		cfg = raft_malloc(sizeof(*cfg));
		if (cfg == NULL)
			return Q53_ENOMEM;
		out->aux = cfg;
		/* Checked again by apply; a malformed one is refused there. */
		if (xfr_config_from_pb(m->config, cfg, why, sizeof(why)) != 0)
			return Q53_EMALF;
		out->u.set_zone_transfer.config = cfg;
		out->u.set_zone_transfer.time_ms = m->time_ms;
		return 0;
	}
	case COMMAND_SET_ZONE_LIMIT: {
		const Q53__Command__SetHostedZoneLimit *m = out->pb;
		struct command_set_zone_limit *c = &out->u.set_zone_limit;

		if (m->command_version != COMMAND_VERSION_ZONE_LIMIT)
			return Q53_EMALF;
		c->zone_id = str_out(m->zone_id);
		c->limit_type = str_out(m->limit_type);
		c->value = m->value;
		c->time_ms = m->time_ms;
		return 0;
	}
	case COMMAND_DYNAMIC_UPDATE: {
		const Q53__Command__DynamicUpdate *m = out->pb;
		struct command_dynamic_update *c = &out->u.dynamic_update;
		size_t n = m->n_prereqs + m->n_updates;
		struct command_dyn_rr *rr;

		if (m->command_version != COMMAND_VERSION_XFR || n > 65535)
			return Q53_EMALF;
		rr = raft_calloc(n + 1, sizeof(*rr));
		if (rr == NULL)
			return Q53_ENOMEM;
		out->aux = rr;
		for (size_t i = 0; i < n; i++) {
			const Q53__Command__UpdateRr *x =
			    i < m->n_prereqs ? m->prereqs[i]
					     : m->updates[i - m->n_prereqs];
			if (x->owner.len == 0 || x->owner.len > 255 ||
			    x->type > 65535 || x->rclass > 65535 ||
			    x->rdata.len > 65535)
				return Q53_EMALF;
			rr[i].owner = x->owner.data;
			rr[i].owner_len = x->owner.len;
			rr[i].type = (uint16_t)x->type;
			rr[i].rclass = (uint16_t)x->rclass;
			rr[i].ttl = x->ttl;
			rr[i].rdata = x->rdata.data;
			rr[i].rdlen = (uint16_t)x->rdata.len;
		}
		c->zone_id = str_out(m->zone_id);
		c->change_id = str_out(m->change_id);
		c->key_name = str_out(m->key_name);
		c->prereqs = rr;
		c->n_prereqs = m->n_prereqs;
		c->updates = rr + m->n_prereqs;
		c->n_updates = m->n_updates;
		c->time_ms = m->time_ms;
		return 0;
	}
	case COMMAND_UPDATE_ZONE_COMMENT: {
		const Q53__Command__UpdateHostedZoneComment *m = out->pb;
		struct command_update_zone_comment *c =
		    &out->u.update_zone_comment;

		if (m->command_version != COMMAND_VERSION)
			return Q53_EMALF;
		c->zone_id = str_out(m->zone_id);
		c->comment = str_out(m->comment);
		c->time_ms = m->time_ms;
		return 0;
	}
	default:
		return 0;
	}
}

int command_decode(uint16_t type, const uint8_t *payload, size_t len,
		   struct command *out)
{
	const ProtobufCMessageDescriptor *d = descriptor_of(type);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return Q53_EMALF;
	out->pb = unpack(d, payload, len, &out->pb_arena, &rc);
	if (out->pb == NULL)
		return rc;
	out->type = (enum command_type)type;
	fill_command(out);
	rc = fill_typed(out);
	if (rc != 0)
		command_free(out);
	return rc;
}

void command_free(struct command *c)
{
	if (c->aux != NULL && (c->type == COMMAND_CREATE_HEALTH_CHECK ||
			       c->type == COMMAND_UPDATE_HEALTH_CHECK))
		health_check_config_clear(c->aux);
	raft_free(c->aux);
	unpacked_free(c->pb_arena);
	memset(c, 0, sizeof(*c));
}

int command_policy_copy(const Q53__Command__AccessPolicy *p,
			Q53__Command__AccessPolicy **out, void **arena)
{
	uint8_t *buf;
	size_t len;
	int rc;

	*out = NULL;
	*arena = NULL;
	rc = pack(&p->base, &buf, &len);
	if (rc != 0)
		return rc;
	*out = (Q53__Command__AccessPolicy *)unpack(
	    &q53__command__access_policy__descriptor, buf, len, arena, &rc);
	raft_free(buf);
	return *out != NULL ? 0 : rc;
}

void command_policy_free(void *arena)
{
	unpacked_free(arena);
}

/* --- results --- */

int command_result_encode(const struct command_result *r, uint8_t **buf,
			  size_t *len)
{
	Q53__Command__CommandResult m;
	Q53__Command__ChangeInfo change;
	Q53__Command__HostedZoneResult zone;
	Q53__Command__HealthCheckResult check;
	Q53__Command__HealthCheckConfig cfg;
	char **children = NULL;
	int rc;

	q53__command__command_result__init(&m);
	m.index = r->index;
	m.error_name = str_in(r->error_name);
	m.error_message = str_in(r->error_message);
	if (r->change.id != NULL && r->change.id[0] != '\0') {
		q53__command__change_info__init(&change);
		change.id = str_in(r->change.id);
		change.submitted_ms = r->change.submitted_ms;
		change.comment = str_in(r->change.comment);
		m.change = &change;
	}
	if (r->hosted_zone.id != NULL && r->hosted_zone.id[0] != '\0') {
		const struct command_hosted_zone_info *z = &r->hosted_zone;

		q53__command__hosted_zone_result__init(&zone);
		zone.id = str_in(z->id);
		zone.name = str_in(z->name);
		zone.caller_reference = str_in(z->caller_reference);
		zone.comment = str_in(z->comment);
		zone.n_nameservers = z->n_nameservers;
		zone.nameservers = (char **)z->nameservers;
		zone.record_set_count = z->record_set_count;
		m.hosted_zone = &zone;
	}
	if (r->health_check.id != NULL && r->health_check.id[0] != '\0') {
		const struct command_health_check_info *h = &r->health_check;

		q53__command__health_check_result__init(&check);
		check.id = str_in(h->id);
		check.caller_reference = str_in(h->caller_reference);
		check.version = h->version;
		if (h->config != NULL) {
			rc = command_config_to_pb(h->config, &cfg, &children);
			if (rc != 0)
				return rc;
			check.config = &cfg;
		}
		m.health_check = &check;
	}
	rc = pack(&m.base, buf, len);
	raft_free(children);
	return rc;
}

int command_result_decode(const uint8_t *buf, size_t len,
			  struct command_result *out)
{
	const Q53__Command__CommandResult *m;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->pb = unpack(&q53__command__command_result__descriptor, buf, len,
			 &out->pb_arena, &rc);
	if (out->pb == NULL)
		return rc;
	m = out->pb;
	out->index = m->index;
	out->error_name = str_out(m->error_name);
	out->error_message = str_out(m->error_message);
	out->change.id = "";
	out->change.comment = "";
	if (m->change != NULL) {
		out->change.id = str_out(m->change->id);
		out->change.submitted_ms = m->change->submitted_ms;
		out->change.comment = str_out(m->change->comment);
	}
	out->hosted_zone.id = "";
	out->hosted_zone.name = "";
	out->hosted_zone.caller_reference = "";
	out->hosted_zone.comment = "";
	if (m->hosted_zone != NULL) {
		const Q53__Command__HostedZoneResult *z = m->hosted_zone;

		out->hosted_zone.id = str_out(z->id);
		out->hosted_zone.name = str_out(z->name);
		out->hosted_zone.caller_reference =
		    str_out(z->caller_reference);
		out->hosted_zone.comment = str_out(z->comment);
		out->hosted_zone.nameservers =
		    (const char *const *)z->nameservers;
		out->hosted_zone.n_nameservers = z->n_nameservers;
		out->hosted_zone.record_set_count = z->record_set_count;
	}
	out->health_check.id = "";
	out->health_check.caller_reference = "";
	if (m->health_check != NULL) {
		const Q53__Command__HealthCheckResult *h = m->health_check;

		out->health_check.id = str_out(h->id);
		out->health_check.caller_reference =
		    str_out(h->caller_reference);
		out->health_check.version = h->version;
		if (h->config != NULL) {
			rc = command_config_from_pb(h->config,
						    &out->config_store);
			if (rc != 0) {
				command_result_free(out);
				return rc;
			}
			out->health_check.config = &out->config_store;
		}
	}
	return 0;
}

void command_result_free(struct command_result *r)
{
	health_check_config_clear(&r->config_store);
	unpacked_free(r->pb_arena);
	memset(r, 0, sizeof(*r));
}
