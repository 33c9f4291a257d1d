/* Serving-view publication (see view_publisher.h). */
#include "node/runtime/view_publisher.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/common/errcode.h"
#include "node/control/control_fsm.h"
#include "node/control/zone_store.h"
#include "node/runtime/cluster_ops.h"
#include "node/runtime/import_prebuild.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"

#define cn_log(n, ...) cluster_log((n)->id, __VA_ARGS__)

struct cn_zone {
	char *id;
	struct zone *zone; /* one reference */
};

struct view_publisher {
	uint64_t id;
	struct control_fsm *fsm;
	void (*on_serving)(void *data);
	void *data;

	struct cn_zone *zones;
	size_t n_zones;
	bool serving;
	/* A zone was compiled in full since the last publication: the
	 * temporaries of its import and build are free heap memory. */
	bool trim;
	bool rebuild_all;
	uint64_t published_applied; /* FSM index the published view holds */
	/* Imports this node proposed, compiled ahead on threads. */
	struct import_prebuild **pre;
	size_t n_pre;
};

void view_publisher_prebuild(struct view_publisher *n,
			     struct command_payload *p)
{
	const struct zone_store *s = control_fsm_zone_store(n->fsm);
	struct zone_store_info info;
	struct import_prebuild *b;

	if (!n->serving || p->decoded == NULL ||
	    p->decoded->type != COMMAND_IMPORT_ZONE ||
	    zone_store_get(s, p->decoded->u.import_zone.zone_id, &info) != 0)
		return;
	struct import_prebuild **grown =
	    realloc(n->pre, (n->n_pre + 1) * sizeof(*n->pre));
	if (grown == NULL)
		return;
	n->pre = grown;
	struct zone_store_apex apex;
	if (zone_store_apex_copy(s, info.id, &apex) != 0)
		return;
	if (import_prebuild_start(&b, p, info.origin, &apex) == 0)
		n->pre[n->n_pre++] = b;
	else
		zone_store_apex_free(&apex);
}

/* The compile ahead tagged tag, taken out of the list (NULL: none). */
static struct import_prebuild *pre_take(struct view_publisher *n, uint64_t tag)
{
	for (size_t i = 0; i < n->n_pre; i++)
		if (import_prebuild_tag(n->pre[i]) == tag) {
			struct import_prebuild *b = n->pre[i];
			n->pre[i] = n->pre[--n->n_pre];
			return b;
		}
	return NULL;
}

/* Drops the compiles ahead whose proposal is over (all: when not
 * serving or closing): their apply has had its loop turn, so nothing
 * will take them. */
static void pre_drop(struct view_publisher *n, bool all)
{
	for (size_t i = 0; i < n->n_pre;) {
		if (!all && !import_prebuild_released(n->pre[i])) {
			i++;
			continue;
		}
		struct zone *z = import_prebuild_finish(n->pre[i]);
		if (z != NULL)
			zone_release(z);
		n->pre[i] = n->pre[--n->n_pre];
	}
}

/* Builds zone id from its import compiled ahead, if that is what the
 * store holds; false when there is none (or it does not fit). */
static bool cn_zone_adopt(struct view_publisher *n, const char *id,
			  struct zone **z, char *err, size_t errlen)
{
	const struct zone_store *s = control_fsm_zone_store(n->fsm);
	uint64_t tag = zone_store_import_tag(s, id);
	struct import_prebuild *b = tag != 0 ? pre_take(n, tag) : NULL;
	if (b == NULL)
		return false;
	struct zone *pre = import_prebuild_finish(b); /* waits for it */
	if (pre == NULL)
		return false;
	int rc = zone_store_build_adopt(
	    s, id, tag, pre, control_fsm_health_lookup, n->fsm, z, err, errlen);
	zone_release(pre);
	return rc == 0;
}

int view_publisher_new(struct view_publisher **out,
		       const struct view_publisher_config *config)
{
	struct view_publisher *n = calloc(1, sizeof(*n));

	*out = n;
	if (n == NULL)
		return Q53_ENOMEM;
	n->id = config->id;
	n->fsm = config->fsm;
	n->on_serving = config->on_serving;
	n->data = config->data;
	return 0;
}

bool view_publisher_serving(const struct view_publisher *n, uint64_t *applied)
{
	if (applied != NULL)
		*applied = n->serving ? n->published_applied : 0;
	return n->serving;
}

static void cn_zone_drop(struct view_publisher *n, size_t i)
{
	zone_release(n->zones[i].zone);
	free(n->zones[i].id);
	memmove(&n->zones[i], &n->zones[i + 1],
		(n->n_zones - i - 1) * sizeof(*n->zones));
	n->n_zones--;
}

static void cn_zones_clear(struct view_publisher *n)
{
	while (n->n_zones > 0)
		cn_zone_drop(n, n->n_zones - 1);
}

/* Compiles zone id from the store (or drops it when gone). Returns true
 * when the compiled set changed. */
static bool cn_zone_rebuild(struct view_publisher *n, const char *id)
{
	const struct zone_store *s = control_fsm_zone_store(n->fsm);
	struct zone_store_info info;
	struct zone *z;
	char err[512];
	size_t i;

	for (i = 0; i < n->n_zones; i++)
		if (strcmp(n->zones[i].id, id) == 0)
			break;
	if (zone_store_get(s, id, &info) != 0) {
		if (i == n->n_zones)
			return false;
		cn_zone_drop(n, i);
		return true;
	}
	/* Health-aware: failover groups follow the decided statuses.
	 * Incremental: only what changed since the version served. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool ahead = cn_zone_adopt(n, id, &z, err, sizeof(err));
	if (!ahead &&
	    zone_store_build_update(
		s, id, i < n->n_zones ? n->zones[i].zone : NULL,
		control_fsm_health_lookup, n->fsm, &z, err, sizeof(err)) != 0) {
		cn_log(n,
		       "zone %s: cannot compile: %s (serving the previous "
		       "version)",
		       info.name, err);
		return false;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ms = (long long)(t1.tv_sec - t0.tv_sec) * 1000 +
		       (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (ms >= 200 || (ahead && zone_record_count(z) >= 10000))
		/* a large zone's build: say where time went */
		cn_log(n, "zone %s: compiled %zu records in %lld ms%s",
		       info.name, zone_record_count(z), ms,
		       ahead ? " (the import compiled ahead: waited for it, "
			       "then the apex)"
			     : "");
	if (i < n->n_zones) {
		zone_release(n->zones[i].zone);
		n->zones[i].zone = z;
		return true;
	}
	n->trim = true;
	struct cn_zone *grown =
	    realloc(n->zones, (n->n_zones + 1) * sizeof(*n->zones));
	char *copy = strdup(id);
	if (grown == NULL || copy == NULL) {
		if (grown != NULL)
			n->zones = grown;
		free(copy);
		zone_release(z);
		cn_log(n, "zone %s: out of memory", info.name);
		return false;
	}
	n->zones = grown;
	n->zones[n->n_zones].id = copy;
	n->zones[n->n_zones].zone = z;
	n->n_zones++;
	return true;
}

static bool cn_rebuild_all(struct view_publisher *n)
{
	const struct zone_store *s = control_fsm_zone_store(n->fsm);
	struct zone_store_info info;

	cn_zones_clear(n);
	for (size_t i = 0; i < zone_store_count(s); i++)
		if (zone_store_get_at(s, i, &info) == 0)
			cn_zone_rebuild(n, info.id);
	return true;
}

static void cn_publish_view(struct view_publisher *n)
{
	struct serving_view *v;
	struct zone **zs = NULL;
	int rv;

	if (n->n_zones > 0) {
		zs = calloc(n->n_zones, sizeof(*zs));
		if (zs == NULL) {
			cn_log(n, "publish: out of memory");
			return;
		}
		for (size_t i = 0; i < n->n_zones; i++)
			zs[i] = n->zones[i].zone;
	}
	rv = serving_view_build(&v, zs, n->n_zones);
	free(zs);
	if (rv != 0) {
		cn_log(n, "cannot build the serving view: %s",
		       q53_strerror(rv));
		return;
	}
	serving_view_publish(v);
	if (n->trim) {
		/* Return that memory to the system (glibc keeps it in the
		 * heap otherwise: ~0.2 KB per record of a large zone). */
		n->trim = false;
		malloc_trim(0);
	}
}

/* Takes the FSM's dirty marks; while serving, rebuilds and publishes. */
void view_publisher_update(struct view_publisher *n)
{
	struct control_fsm_dirty d;
	bool changed = false;

	control_fsm_take_dirty(n->fsm, &d);
	if (!n->serving) {
		if (d.all || d.n_zone_ids > 0)
			n->rebuild_all = true;
		control_fsm_dirty_clear(&d);
		pre_drop(n, true);
		return;
	}
	if (d.all || n->rebuild_all) {
		changed = cn_rebuild_all(n);
		n->rebuild_all = false;
	} else {
		for (size_t i = 0; i < d.n_zone_ids; i++)
			changed |= cn_zone_rebuild(n, d.zone_ids[i]);
	}
	control_fsm_dirty_clear(&d);
	pre_drop(n, false);
	if (changed)
		cn_publish_view(n);
	n->published_applied = control_fsm_applied(n->fsm);
}

void view_publisher_start(struct view_publisher *n)
{
	if (n->serving)
		return;
	n->serving = true;
	n->rebuild_all = true;
	view_publisher_update(n);
	/* An empty view too: the node answers REFUSED, not silence. */
	if (n->n_zones == 0)
		cn_publish_view(n);
	cn_log(n, "serving %zu zone%s at FSM index %llu", n->n_zones,
	       n->n_zones == 1 ? "" : "s",
	       (unsigned long long)n->published_applied);
	if (n->on_serving != NULL)
		n->on_serving(n->data);
}

void view_publisher_free(struct view_publisher *n)
{
	if (n == NULL)
		return;
	pre_drop(n, true);
	free(n->pre);
	cn_zones_clear(n);
	free(n->zones);
	free(n);
}
