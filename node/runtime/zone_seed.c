/* First-boot zone seeds (see zone_seed.h). */
#include "node/runtime/zone_seed.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/api/api_render.h"
#include "node/common/errcode.h"
#include "node/control/command_text.h"
#include "node/control/control_fsm.h"
#include "node/control/zone_store.h"

#define cn_log(n, ...) cluster_log((n)->ops.node_id, __VA_ARGS__)

struct zone_seed {
	struct cluster_ops ops;
	const struct zone_seed_entry *seeds;
	size_t n_seeds;
	const char *const *nameservers;
	size_t n_nameservers;
	size_t seed_next;
	bool seed_inflight;
	/* An import finished: its text, command and parse buffers are
	 * freed once the proposal is; the next tick returns that heap
	 * memory to the system (~0.1 KB per record). */
	bool trim;
	/* The import in flight: when it started and what its parse took
	 * (for the log line saying where a large seed's time went). */
	uint64_t import_start_ms, parsed_ms;
	size_t import_sets;
};

static uint64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

int zone_seed_new(struct zone_seed **out, const struct zone_seed_config *c)
{
	struct zone_seed *n = calloc(1, sizeof(*n));

	*out = n;
	if (n == NULL)
		return Q53_ENOMEM;
	n->ops = c->ops;
	n->seeds = c->seeds;
	n->n_seeds = c->n_seeds;
	n->nameservers = c->nameservers;
	n->n_nameservers = c->n_nameservers;
	return 0;
}

void zone_seed_free(struct zone_seed *s)
{
	free(s);
}

/* The seed's import change id: "C" and the zone id's 20 characters. */
static void cn_seed_change_id(const char *zone_id, char out[IDS_LEN + 1])
{
	snprintf(out, IDS_LEN + 1, "C%s",
		 zone_id[0] != '\0' ? zone_id + 1 : "");
}

/* Whether the zone a seed created still waits for its import. */
static bool cn_seed_pending(struct zone_seed *n,
			    const struct zone_store_info *info)
{
	struct control_fsm_change c;
	char change_id[IDS_LEN + 1];

	if (info->comment == NULL ||
	    strcmp(info->comment, ZONE_SEED_COMMENT) != 0 ||
	    info->nrrsets > 2 /* the apex SOA and NS */)
		return false;
	cn_seed_change_id(info->id, change_id);
	return control_fsm_change_get(n->ops.fsm, change_id, &c) != 0;
}

static void cn_seed_next(struct zone_seed *n)
{
	n->seed_inflight = false;
	n->seed_next++;
}

static void cn_seed_import_done(struct proposal *s, int status,
				const struct q53_fsm_log_result *res)
{
	struct zone_seed *n = s->arg;
	const struct zone_seed_entry *seed = &n->seeds[n->seed_next];

	if (status != 0) {
		n->seed_inflight = false; /* retried by the tick */
		return;
	}
	if (res->code != 0) {
		struct command_result cr;
		bool decoded =
		    command_result_decode(res->bytes, res->len, &cr) == 0;
		cn_log(n, "seed zone %s from %s: import rejected: %s",
		       seed->origin, seed->path,
		       decoded ? cr.error_message : "(undecodable result)");
		if (decoded)
			command_result_free(&cr);
	} else
		cn_log(n,
		       "seeded zone %s (%s) from %s: %zu record sets, read "
		       "and parsed in %llu ms, committed and applied in %llu "
		       "ms",
		       seed->origin, s->zone_id, seed->path, n->import_sets,
		       (unsigned long long)(n->parsed_ms - n->import_start_ms),
		       (unsigned long long)(mono_ms() - n->parsed_ms));
	n->trim = true;
	cn_seed_next(n);
}

static void cn_seed_import(struct zone_seed *n, const char *zone_id)
{
	const struct zone_seed_entry *seed = &n->seeds[n->seed_next];
	struct command_payload p = {0};
	struct proposal *s;
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(seed->path, "rb");
	char change_id[IDS_LEN + 1];
	int rv = Q53_EINVAL;

	n->import_start_ms = mono_ms();
	if (f != NULL) {
		if (fseek(f, 0, SEEK_END) == 0) {
			long sz = ftell(f);
			if (sz >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
			    (text = malloc((size_t)sz + 1)) != NULL) {
				len = fread(text, 1, (size_t)sz, f);
				text[len] = '\0';
				rv = 0;
			}
		}
		fclose(f);
	}
	if (rv != 0) {
		cn_log(n, "seed zone %s: cannot read %s: %s", seed->origin,
		       seed->path, strerror(errno));
		free(text);
		cn_seed_next(n);
		return;
	}
	cn_seed_change_id(zone_id, change_id);
	char perr[512];
	rv = command_text_import_zone_deferred(
	    control_fsm_zone_store(n->ops.fsm), zone_id, change_id, text, len,
	    ids_wall_ms(), &p, perr, sizeof(perr));
	free(text);
	n->parsed_ms = mono_ms();
	n->import_sets = p.decoded != NULL ? p.decoded->u.import_zone.nsets : 0;
	if (rv == Q53_EINVAL) {
		cn_log(n, "seed zone %s: %s: %s", seed->origin, seed->path,
		       perr);
		cn_seed_next(n);
		return;
	}
	if (rv == 0)
		rv = cluster_propose(&n->ops, &p, NULL, cn_seed_import_done, n,
				     &s);
	if (rv != 0) {
		n->seed_inflight = false;
		return;
	}
	snprintf(s->zone_id, sizeof(s->zone_id), "%s", zone_id);
}

static void cn_seed_create_done(struct proposal *s, int status,
				const struct q53_fsm_log_result *res)
{
	struct zone_seed *n = s->arg;

	if (status != 0) {
		n->seed_inflight = false;
		return;
	}
	if (res->code != 0) {
		cn_log(n, "seed zone %s: create rejected",
		       n->seeds[n->seed_next].origin);
		cn_seed_next(n);
		return;
	}
	if (getenv("Q53_TEST_SEED_KILL_AFTER_CREATE") != NULL) {
		cn_log(n,
		       "seed zone %s: created; test hook: killed before the "
		       "import",
		       n->seeds[n->seed_next].origin);
		raise(SIGKILL);
	}
	cn_seed_import(n, s->zone_id);
}

void zone_seed_tick(struct zone_seed *n, bool bootstrapped)
{
	const struct zone_store *st = control_fsm_zone_store(n->ops.fsm);
	struct command_payload p = {0};
	struct zone_store_info info;
	struct proposal *s;
	char zone_id[IDS_LEN + 1], err[256];
	int rv;

	if (n->trim) {
		n->trim = false;
		malloc_trim(0);
	}
	if (n->seed_inflight || n->seed_next >= n->n_seeds ||
	    !cluster_is_leader(&n->ops))
		return;
	const struct zone_seed_entry *seed = &n->seeds[n->seed_next];
	if (api_render_resolve(st, seed->origin, &info, err, sizeof(err)) ==
	    0) {
		if (cn_seed_pending(n, &info)) {
			n->seed_inflight = true;
			cn_seed_import(n, info.id);
		} else {
			n->seed_next++;
		}
		return;
	}
	if (!bootstrapped) { /* not the first boot: never (re)create */
		n->seed_next++;
		return;
	}
	ids_new('Z', zone_id);
	struct command_create_hosted_zone c = {
	    .id = zone_id,
	    .name = seed->origin,
	    .comment = ZONE_SEED_COMMENT,
	    .nameservers = (const char *const *)n->nameservers,
	    .n_nameservers = n->n_nameservers,
	    .time_ms = ids_wall_ms(),
	};
	rv = command_encode_create_hosted_zone(&c, &p);
	if (rv == 0)
		rv = cluster_propose(&n->ops, &p, NULL, cn_seed_create_done, n,
				     &s);
	if (rv != 0)
		return;
	snprintf(s->zone_id, sizeof(s->zone_id), "%s", zone_id);
	n->seed_inflight = true;
}
