#include "node/control/upgrade.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/command_legacy.h"
#include "node/control/command_text.h"
#include "node/control/control_fsm.h"
#include "node/control/zone_store.h"
#include "node/health/check_config_json.h"
#include "proto/command.pb-c.h"

#define SNAPSHOT_FORMAT_V1 1
#define SNAPSHOT_FORMAT	   3 /* what control_fsm.c writes */
/* The newest control_fsm.c reads. */
#define SNAPSHOT_FORMAT_MAX CONTROL_FSM_SNAPSHOT_FORMAT_MAX
#define ERR_MAX		    4096

struct control_upgrade {
	struct q53_fsm base;
	struct control_fsm *fsm;
	control_upgrade_fatal_fn fatal;
	void *fatal_ctx;
};

static void fatal_default(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "q53d: %s\n", message);
	fflush(stderr);
	exit(70);
}

/* --- commands --- */

/* One conversion of a decoded legacy command. */
static int convert(const struct control_fsm *fsm,
		   const struct command_legacy *c, struct command_payload *out,
		   char *err, size_t errlen)
{
	int rc;

	err[0] = '\0';
	memset(out, 0, sizeof(*out));
	switch (c->type) {
	case COMMAND_LEGACY_CHANGE_RRSETS: {
		const struct command_legacy_change_rrsets *x =
		    &c->u.change_rrsets;
		struct zone_store_info info;
		/* As apply did: an unknown zone before the batch's text. */
		if (zone_store_get(control_fsm_zone_store(fsm), x->zone_id,
				   &info) != 0) {
			snprintf(err, errlen,
				 "NoSuchHostedZone: no hosted zone found with "
				 "ID: %s",
				 x->zone_id);
			rc = Q53_ENOENT;
			break;
		}
		rc = command_text_change_rrsets(x->zone_id, x->change_id,
						x->batch_json, x->batch_len,
						x->time_ms, out, err, errlen);
		break;
	}
	case COMMAND_LEGACY_IMPORT_ZONE: {
		const struct command_legacy_import_zone *x = &c->u.import_zone;
		rc = command_text_import_zone_legacy(
		    control_fsm_zone_store(fsm), x->zone_id, x->change_id,
		    x->text, x->len, x->time_ms, out, err, errlen);
		break;
	}
	case COMMAND_LEGACY_CREATE_HEALTH_CHECK: {
		const struct command_legacy_health_check *x =
		    &c->u.health_check;
		rc = command_text_create_health_check(
		    x->id, x->caller_reference, x->config_json, x->config_len,
		    x->time_ms, out, err, errlen);
		break;
	}
	default: {
		const struct command_legacy_health_check *x =
		    &c->u.health_check;
		struct control_fsm_health_check hc;
		/* As apply did: an unknown check before the config. */
		if (control_fsm_health_check_get(fsm, x->id, &hc) != 0) {
			snprintf(err, errlen,
				 "NoSuchHealthCheck: no health check found "
				 "with ID: %s",
				 x->id);
			rc = Q53_ENOENT;
			break;
		}
		rc = command_text_update_health_check(
		    x->id, x->version, x->config_json, x->config_len,
		    x->time_ms, out, err, errlen);
		break;
	}
	}
	if (rc != 0)
		command_payload_clear(out);
	return rc;
}

int control_upgrade_command(const struct control_fsm *fsm, uint16_t type,
			    const uint8_t *payload, size_t len,
			    struct command_payload *out, char *err,
			    size_t errlen)
{
	struct command_legacy c;
	int rc;

	err[0] = '\0';
	memset(out, 0, sizeof(*out));
	rc = command_legacy_decode(type, payload, len, &c);
	if (rc != 0)
		return rc;
	rc = convert(fsm, &c, out, err, errlen);
	/* jansson reports some allocation failures as syntax errors, and the
	 * FSM must not reject on one node an entry another accepts: text that
	 * fails is parsed once more, and only a second failure rejects. */
	if (rc == Q53_EINVAL)
		rc = convert(fsm, &c, out, err, errlen);
	command_legacy_free(&c);
	return rc;
}

/* A rejection answered here, in the shape control_fsm.c gives one. */
static int reject(const char *err, int code, int32_t *out_code, uint8_t **out,
		  size_t *out_len)
{
	char text[ERR_MAX];
	struct command_result r = {0};
	char *sep;
	int rc;

	snprintf(text, sizeof(text), "%s", err);
	sep = strstr(text, ": ");
	if (sep != NULL) {
		*sep = '\0';
		r.error_name = text;
		r.error_message = sep + 2;
	} else {
		r.error_name = "InvalidInput";
		r.error_message = text;
	}
	rc = command_result_encode(&r, out, out_len);
	if (rc == 0)
		*out_code = code;
	return rc;
}

/* apply, or apply_decoded when decoded is not NULL (this node's own
 * command: never a legacy type). */
static int up_apply_cmd(struct q53_fsm *base, uint16_t type,
			const void *decoded, const uint8_t *payload, size_t len,
			int32_t *code, uint8_t **out, size_t *out_len)
{
	struct control_upgrade *u = base->data;
	struct q53_fsm *inner = control_fsm_base(u->fsm);
	char msg[ERR_MAX];
	int rc;

	*code = 0;
	*out = NULL;
	*out_len = 0;
	if (type > COMMAND_TYPE_MAX ||
	    (command_type_versioned(type) &&
	     command_peek_version(payload, len) != 0 &&
	     !command_version_known(type,
				    command_peek_version(payload, len)))) {
		if (type > COMMAND_TYPE_MAX)
			snprintf(msg, sizeof(msg),
				 "log entry at FSM index %" PRIu64
				 " has command type %u written by a newer "
				 "quorum53: upgrade this node",
				 control_fsm_applied(u->fsm) + 1,
				 (unsigned)type);
		else
			snprintf(msg, sizeof(msg),
				 "log entry at FSM index %" PRIu64
				 " has command type %u version %" PRIu32
				 " written by a newer quorum53: upgrade this "
				 "node",
				 control_fsm_applied(u->fsm) + 1,
				 (unsigned)type,
				 command_peek_version(payload, len));
		u->fatal(u->fatal_ctx, msg);
		return Q53_ENOMEM; /* a test's hook returned: nothing done */
	}
	if (!command_legacy_type(type))
		return decoded != NULL && inner->apply_decoded != NULL
			   ? inner->apply_decoded(inner, type, decoded, payload,
						  len, code, out, out_len)
			   : inner->apply(inner, type, payload, len, code, out,
					  out_len);

	struct command_payload typed;
	rc = control_upgrade_command(u->fsm, type, payload, len, &typed, msg,
				     sizeof(msg));
	if (rc == Q53_ENOMEM)
		return rc;
	if (rc == Q53_EMALF)
		snprintf(msg, sizeof(msg),
			 "InvalidInput: malformed %s command (type %u, %zu "
			 "bytes)",
			 command_type_name(type), (unsigned)type, len);
	if (rc != 0)
		return reject(msg, rc, code, out, out_len);
	/* The conversion's own typed form: not decoded again. */
	rc = typed.decoded != NULL && inner->apply_decoded != NULL
		 ? inner->apply_decoded(inner, typed.type, typed.decoded,
					typed.data, typed.len, code, out,
					out_len)
		 : inner->apply(inner, typed.type, typed.data, typed.len, code,
				out, out_len);
	command_payload_clear(&typed);
	return rc;
}

static int up_apply(struct q53_fsm *base, uint16_t type, const uint8_t *payload,
		    size_t len, int32_t *code, uint8_t **out, size_t *out_len)
{
	return up_apply_cmd(base, type, NULL, payload, len, code, out, out_len);
}

static int up_apply_decoded(struct q53_fsm *base, uint16_t type,
			    const void *decoded, const uint8_t *payload,
			    size_t len, int32_t *code, uint8_t **out,
			    size_t *out_len)
{
	return up_apply_cmd(base, type, decoded, payload, len, code, out,
			    out_len);
}

/* --- snapshots --- */

uint32_t control_upgrade_snapshot_format(const uint8_t *buf, size_t len)
{
	return command_peek_version(buf, len); /* field 1, a varint */
}

/* Allocations of a conversion, freed together. */
struct arena {
	void **v;
	size_t n, cap;
	bool nomem;
};

static void *arena_alloc(struct arena *a, size_t size)
{
	if (a->nomem)
		return NULL;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		void **v = realloc(a->v, cap * sizeof(*v));
		if (v == NULL) {
			a->nomem = true;
			return NULL;
		}
		a->v = v;
		a->cap = cap;
	}
	void *p = calloc(1, size ? size : 1);
	if (p == NULL) {
		a->nomem = true;
		return NULL;
	}
	a->v[a->n++] = p;
	return p;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* The previous release's zone store bytes:
 * "Q53ZSTOR" u32:version u32:nzones, then per zone (in id order):
 *   str16:id  u8:len name  opt:comment  opt:caller_reference  u32:nsets
 *   per set (canonical order): u8:len owner  u16:type  u32:ttl
 *     opt:set_identifier  [v2: u8:failover  opt:health_check_id]
 *     u16:count, per record: u16:len data
 * Integers big-endian; str16 = u16 length + bytes; opt = u8 0, or u8 1 and
 * a str16. Read here only for its shape; the FSM checks the content when
 * it restores the converted snapshot. */
struct in_cursor {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};

static const uint8_t *in_take(struct in_cursor *c, size_t n)
{
	if (c->bad || c->len - c->pos < n) {
		c->bad = true;
		return NULL;
	}
	const uint8_t *p = c->p + c->pos;
	c->pos += n;
	return p;
}

static uint32_t in_uint(struct in_cursor *c, size_t n)
{
	const uint8_t *p = in_take(c, n);
	uint32_t v = 0;

	for (size_t i = 0; p != NULL && i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static char *in_str16(struct in_cursor *c, struct arena *a)
{
	uint16_t n = (uint16_t)in_uint(c, 2);
	const uint8_t *p = in_take(c, n);
	if (p == NULL || memchr(p, '\0', n) != NULL) {
		c->bad = true;
		return NULL;
	}
	char *s = arena_alloc(a, (size_t)n + 1);
	if (s != NULL)
		memcpy(s, p, n);
	return s;
}

static char *in_opt(struct in_cursor *c, struct arena *a)
{
	uint8_t present = (uint8_t)in_uint(c, 1);
	if (present > 1)
		c->bad = true;
	return present == 1 ? in_str16(c, a) : (char *)"";
}

static const uint8_t *in_name(struct in_cursor *c, size_t *len)
{
	*len = in_uint(c, 1);
	return in_take(c, *len);
}

static int legacy_zones(const uint8_t *buf, size_t len, struct arena *a,
			Q53__Command__SnapshotZone ***out, size_t *n_out)
{
	static const char MAGIC[8] = {'Q', '5', '3', 'Z', 'S', 'T', 'O', 'R'};
	struct in_cursor c = {.p = buf, .len = len};

	const uint8_t *magic = in_take(&c, sizeof(MAGIC));
	if (magic == NULL || memcmp(magic, MAGIC, sizeof(MAGIC)) != 0)
		return Q53_EMALF;
	uint32_t version = in_uint(&c, 4);
	uint32_t nzones = in_uint(&c, 4);
	if (c.bad || (version != 1 && version != 2) ||
	    nzones > (len - c.pos) / 8)
		return Q53_EMALF;
	Q53__Command__SnapshotZone **zones =
	    arena_alloc(a, nzones * sizeof(*zones));
	for (uint32_t i = 0; zones != NULL && i < nzones && !c.bad; i++) {
		Q53__Command__SnapshotZone *z = arena_alloc(a, sizeof(*z));
		if (z == NULL)
			break;
		q53__command__snapshot_zone__init(z);
		zones[i] = z;
		z->id = in_str16(&c, a);
		const uint8_t *origin = in_name(&c, &z->origin.len);
		z->origin.data = (uint8_t *)origin;
		z->comment = in_opt(&c, a);
		z->caller_reference = in_opt(&c, a);
		uint32_t nsets = in_uint(&c, 4);
		if (c.bad || nsets > (len - c.pos) / 11) {
			c.bad = true;
			break;
		}
		z->sets = arena_alloc(a, nsets * sizeof(*z->sets));
		if (z->sets == NULL)
			break;
		z->n_sets = nsets;
		for (uint32_t k = 0; k < nsets && !c.bad; k++) {
			Q53__Command__RecordSet *r = arena_alloc(a, sizeof(*r));
			if (r == NULL)
				break;
			q53__command__record_set__init(r);
			z->sets[k] = r;
			r->owner.data = (uint8_t *)in_name(&c, &r->owner.len);
			r->type = in_uint(&c, 2);
			r->ttl = in_uint(&c, 4);
			r->set_identifier = in_opt(&c, a);
			if (version != 1) {
				r->failover = in_uint(&c, 1);
				r->health_check_id = in_opt(&c, a);
			}
			uint16_t count = (uint16_t)in_uint(&c, 2);
			if (c.bad || count > (len - c.pos) / 2) {
				c.bad = true;
				break;
			}
			r->rdata = arena_alloc(a, count * sizeof(*r->rdata));
			if (r->rdata == NULL)
				break;
			r->n_rdata = count;
			for (uint16_t j = 0; j < count && !c.bad; j++) {
				size_t n = in_uint(&c, 2);
				r->rdata[j].data = (uint8_t *)in_take(&c, n);
				r->rdata[j].len = n;
			}
		}
	}
	if (a->nomem)
		return Q53_ENOMEM;
	if (c.bad || c.pos != len)
		return Q53_EMALF;
	*out = zones;
	*n_out = nzones;
	return 0;
}

int control_upgrade_snapshot(const uint8_t *buf, size_t len, uint8_t **out,
			     size_t *out_len)
{
	struct command_pb_alloc alloc;
	Q53__Command__FsmSnapshot *m;
	struct arena a = {0};
	struct health_check_config *cfgs = NULL;
	Q53__Command__HealthCheckConfig *pcfgs = NULL;
	char ***children = NULL;
	int rc;

	*out = NULL;
	*out_len = 0;
	command_pb_alloc_init(&alloc);
	m = q53__command__fsm_snapshot__unpack(&alloc.base, len,
					       len > 0 ? buf : NULL);
	if (m == NULL)
		return alloc.failed ? Q53_ENOMEM : Q53_EMALF;
	/* Format 1 has neither zones nor typed configs: one that carries
	 * them is not the previous release's. */
	rc = Q53_EMALF;
	bool typed = m->n_zones != 0;
	for (size_t i = 0; i < m->n_health_checks; i++)
		typed = typed || m->health_checks[i]->config != NULL;
	if (m->format != SNAPSHOT_FORMAT_V1 || typed)
		goto keep;
	rc = legacy_zones(m->zone_store.data, m->zone_store.len, &a, &m->zones,
			  &m->n_zones);
	if (rc != 0)
		goto out;
	/* The configs, typed. */
	size_t nc = m->n_health_checks;
	cfgs = arena_alloc(&a, nc * sizeof(*cfgs));
	pcfgs = arena_alloc(&a, nc * sizeof(*pcfgs));
	children = arena_alloc(&a, nc * sizeof(*children));
	if (cfgs == NULL || pcfgs == NULL || children == NULL) {
		rc = Q53_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nc; i++) {
		Q53__Command__SnapshotHealthCheck *pc = m->health_checks[i];
		char why[512];

		rc = health_check_config_parse(
		    &cfgs[i], (const char *)pc->config_json.data,
		    pc->config_json.len, why, sizeof(why));
		if (rc == 0)
			rc = command_config_to_pb(&cfgs[i], &pcfgs[i],
						  &children[i]);
		if (rc != 0) {
			rc = rc == Q53_ENOMEM ? rc : Q53_EMALF;
			goto out;
		}
		pc->config = &pcfgs[i];
		pc->config_json.len = 0;
	}
	m->format = SNAPSHOT_FORMAT;
	ProtobufCBinaryData zone_bytes = m->zone_store;
	m->zone_store.len = 0;
	m->zone_store.data = NULL;
	*out_len = protobuf_c_message_get_packed_size(&m->base);
	*out = raft_malloc(*out_len ? *out_len : 1);
	if (*out == NULL) {
		*out_len = 0;
		rc = Q53_ENOMEM;
	} else {
		protobuf_c_message_pack(&m->base, *out);
		rc = 0;
	}
	m->zone_store = zone_bytes;
out:
	/* The zones and configs belong to the arena, not to m. */
	m->zones = NULL;
	m->n_zones = 0;
	for (size_t i = 0; i < m->n_health_checks; i++) {
		m->health_checks[i]->config = NULL;
		if (cfgs != NULL && children != NULL) {
			health_check_config_clear(&cfgs[i]);
			raft_free(children[i]);
		}
	}
keep:
	q53__command__fsm_snapshot__free_unpacked(m, &alloc.base);
	arena_free(&a);
	return rc;
}

static int up_snapshot(struct q53_fsm *base, uint8_t **buf, size_t *len)
{
	struct control_upgrade *u = base->data;
	struct q53_fsm *inner = control_fsm_base(u->fsm);

	return inner->snapshot(inner, buf, len);
}

/* Snapshots are always taken in the current format: capture, encode and
 * release are the control FSM's own. */
static int up_snapshot_capture(struct q53_fsm *base, void **cap)
{
	struct control_upgrade *u = base->data;
	struct q53_fsm *inner = control_fsm_base(u->fsm);

	return inner->snapshot_capture(inner, cap);
}

static void up_snapshot_release(struct q53_fsm *base, void *cap)
{
	struct control_upgrade *u = base->data;
	struct q53_fsm *inner = control_fsm_base(u->fsm);

	inner->snapshot_release(inner, cap);
}

static int up_restore(struct q53_fsm *base, const uint8_t *buf, size_t len)
{
	struct control_upgrade *u = base->data;
	struct q53_fsm *inner = control_fsm_base(u->fsm);
	uint32_t format = control_upgrade_snapshot_format(buf, len);
	char msg[256];
	uint8_t *conv;
	size_t conv_len;
	int rc;

	if (format > SNAPSHOT_FORMAT_MAX) {
		snprintf(msg, sizeof(msg),
			 "snapshot has format %" PRIu32
			 " written by a newer quorum53: upgrade this node",
			 format);
		u->fatal(u->fatal_ctx, msg);
		return Q53_EMALF;
	}
	if (format != SNAPSHOT_FORMAT_V1)
		return inner->restore(inner, buf, len);
	rc = control_upgrade_snapshot(buf, len, &conv, &conv_len);
	if (rc != 0)
		return rc;
	rc = inner->restore(inner, conv, conv_len);
	raft_free(conv);
	return rc;
}

/* --- lifecycle --- */

int control_upgrade_new(struct control_fsm *fsm, struct control_upgrade **out)
{
	struct control_upgrade *u = raft_calloc(1, sizeof(*u));

	*out = NULL;
	if (u == NULL)
		return Q53_ENOMEM;
	u->fsm = fsm;
	u->fatal = fatal_default;
	u->base.data = u;
	u->base.apply = up_apply;
	u->base.apply_decoded = up_apply_decoded;
	u->base.snapshot = up_snapshot;
	u->base.restore = up_restore;
	if (control_fsm_base(fsm)->snapshot_capture != NULL) {
		u->base.snapshot_capture = up_snapshot_capture;
		u->base.snapshot_encode =
		    control_fsm_base(fsm)->snapshot_encode;
		u->base.snapshot_release = up_snapshot_release;
	}
	*out = u;
	return 0;
}

void control_upgrade_free(struct control_upgrade *u)
{
	raft_free(u);
}

struct q53_fsm *control_upgrade_base(struct control_upgrade *u)
{
	return &u->base;
}

void control_upgrade_set_fatal(struct control_upgrade *u,
			       control_upgrade_fatal_fn fn, void *ctx)
{
	u->fatal = fn != NULL ? fn : fatal_default;
	u->fatal_ctx = ctx;
}
