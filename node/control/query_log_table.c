#include "node/control/query_log_table.h"

#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "proto/command.pb-c.h"

void query_log_table_init(struct query_log_table *t)
{
	memset(t, 0, sizeof(*t));
}

void query_log_table_free(struct query_log_table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* The index of id, or where it would go (*found false). */
static size_t qlt_find(const struct query_log_table *t, const char *id,
		       bool *found)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->v[mid].id, id);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct query_log_config_entry *
query_log_table_get(const struct query_log_table *t, const char *id)
{
	bool found;
	size_t i = qlt_find(t, id, &found);
	return found ? &t->v[i] : NULL;
}

const struct query_log_config_entry *
query_log_table_by_zone(const struct query_log_table *t, const char *zone_id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].zone_id, zone_id) == 0)
			return &t->v[i];
	return NULL;
}

static void qlt_remove(struct query_log_table *t, size_t i)
{
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(t->v[0]));
	t->n--;
	t->version++;
}

void query_log_table_drop_zone(struct query_log_table *t, const char *zone_id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].zone_id, zone_id) == 0) {
			qlt_remove(t, i);
			return;
		}
}

static bool qlt_text_ok(const char *s, size_t max)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int qlt_insert(struct query_log_table *t, const char *id,
		      const char *zone_id, const char *arn, uint64_t created)
{
	bool found;
	size_t i = qlt_find(t, id, &found);
	if (found)
		return Q53_EEXIST;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct query_log_config_entry *v =
		    realloc(t->v, cap * sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(t->v[0]));
	struct query_log_config_entry *e = &t->v[i];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->zone_id, sizeof(e->zone_id), "%s", zone_id);
	snprintf(e->arn, sizeof(e->arn), "%s", arn);
	e->created_ms = created;
	t->n++;
	t->version++;
	return 0;
}

int command_encode_change_query_logging(
    const struct command_change_query_logging *c, struct command_payload *out)
{
	Q53__Command__ChangeQueryLoggingConfig m;
	Q53__Command__QueryLoggingConfig cfg;

	q53__command__change_query_logging_config__init(&m);
	q53__command__query_logging_config__init(&cfg);
	m.command_version = COMMAND_VERSION;
	m.time_ms = c->time_ms;
	if (c->delete_id != NULL) {
		m.delete_id = (char *)c->delete_id;
	} else {
		cfg.id = (char *)c->id;
		cfg.zone_id = (char *)c->zone_id;
		cfg.log_group_arn = (char *)(c->arn != NULL ? c->arn : "");
		cfg.created_ms = c->time_ms;
		m.config = &cfg;
	}
	memset(out, 0, sizeof(*out));
	out->type = COMMAND_CHANGE_QUERY_LOGGING;
	out->len = protobuf_c_message_get_packed_size(&m.base);
	out->data = raft_malloc(out->len ? out->len : 1);
	if (out->data == NULL)
		return Q53_ENOMEM;
	protobuf_c_message_pack(&m.base, out->data);
	return 0;
}

int query_log_table_apply(struct query_log_table *t, const uint8_t *payload,
			  size_t len, bool check_only,
			  bool (*zone_exists)(void *ctx, const char *zone_id),
			  void *ctx, char *err, size_t errlen)
{
	Q53__Command__ChangeQueryLoggingConfig *m =
	    q53__command__change_query_logging_config__unpack(NULL, len,
							      payload);
	int rv = 0;

	if (m == NULL)
		return Q53_EMALF;
	if (m->command_version != COMMAND_VERSION ||
	    (m->config == NULL) == (m->delete_id[0] == '\0')) {
		rv = Q53_EMALF;
	} else if (m->config != NULL) {
		const Q53__Command__QueryLoggingConfig *c = m->config;
		if (!qlt_text_ok(c->id, QUERY_LOG_ID_MAX) ||
		    !qlt_text_ok(c->zone_id, QUERY_LOG_ID_MAX) ||
		    strlen(c->log_group_arn) > QUERY_LOG_ARN_MAX) {
			rv = Q53_EMALF;
		} else if (!zone_exists(ctx, c->zone_id)) {
			rv = q53_fail(err, errlen, Q53_ENOENT,
				      "NoSuchHostedZone: No hosted zone found "
				      "with ID: %s",
				      c->zone_id);
		} else if (query_log_table_by_zone(t, c->zone_id) != NULL) {
			rv = q53_fail(err, errlen, Q53_EEXIST,
				      "QueryLoggingConfigAlreadyExists: the "
				      "hosted zone %s already has a query "
				      "logging config",
				      c->zone_id);
		} else if (query_log_table_get(t, c->id) != NULL) {
			rv = q53_fail(err, errlen, Q53_EEXIST,
				      "QueryLoggingConfigAlreadyExists: %s",
				      c->id);
		} else if (t->n >= QUERY_LOG_CONFIGS_MAX) {
			rv = q53_fail(err, errlen, Q53_EINVAL,
				      "TooManyQueryLoggingConfigs: at most %d",
				      QUERY_LOG_CONFIGS_MAX);
		} else if (!check_only) {
			rv = qlt_insert(t, c->id, c->zone_id, c->log_group_arn,
					c->created_ms);
		}
	} else {
		bool found;
		size_t i = qlt_find(t, m->delete_id, &found);
		if (!found)
			rv = q53_fail(err, errlen, Q53_ENOENT,
				      "NoSuchQueryLoggingConfig: There is no "
				      "query logging configuration with the ID "
				      "%s",
				      m->delete_id);
		else if (!check_only)
			qlt_remove(t, i);
	}
	q53__command__change_query_logging_config__free_unpacked(m, NULL);
	return rv;
}

int query_log_table_to_pb(const struct query_log_table *t,
			  Q53__Command__QueryLoggingConfig ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (t->n == 0)
		return 0;
	Q53__Command__QueryLoggingConfig **pp =
	    calloc(t->n, sizeof(*pp) + sizeof(**pp));
	if (pp == NULL)
		return Q53_ENOMEM;
	Q53__Command__QueryLoggingConfig *items =
	    (Q53__Command__QueryLoggingConfig *)(pp + t->n);
	for (size_t i = 0; i < t->n; i++) {
		q53__command__query_logging_config__init(&items[i]);
		items[i].id = (char *)t->v[i].id;
		items[i].zone_id = (char *)t->v[i].zone_id;
		items[i].log_group_arn = (char *)t->v[i].arn;
		items[i].created_ms = t->v[i].created_ms;
		pp[i] = &items[i];
	}
	*out = pp;
	*n = t->n;
	return 0;
}

void query_log_table_pb_free(Q53__Command__QueryLoggingConfig **pb, size_t n)
{
	(void)n;
	free(pb);
}

int query_log_table_from_pb(struct query_log_table *t,
			    Q53__Command__QueryLoggingConfig *const *pb,
			    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const Q53__Command__QueryLoggingConfig *c = pb[i];
		if (!qlt_text_ok(c->id, QUERY_LOG_ID_MAX) ||
		    !qlt_text_ok(c->zone_id, QUERY_LOG_ID_MAX) ||
		    strlen(c->log_group_arn) > QUERY_LOG_ARN_MAX)
			return Q53_EMALF;
		int rv = qlt_insert(t, c->id, c->zone_id, c->log_group_arn,
				    c->created_ms);
		if (rv != 0)
			return rv == Q53_EEXIST ? Q53_EMALF : rv;
	}
	return 0;
}
