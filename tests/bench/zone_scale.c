/* Scale benchmark of the compiled zone: builds a store holding one zone of
 * N A records (zone_store_import), compiles it and publishes a serving view
 * (full load), then applies single-record UPSERTs and rebuilds + publishes
 * after each (one change until served, without Raft). Prints resident
 * memory and bytes per record. Usage: zone_scale N [changes] */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/zone_store.h"
#include "node/control/zone_text.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"

#define ZID "ZBENCH0000000001"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long rss_kb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * 4;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	int changes = argc > 2 ? atoi(argv[2]) : 20;
	static const char *const ns[] = {"ns1.bench.test."};
	struct zone_store s;
	char err[512];
	struct zone *z = NULL;
	struct serving_view *v;

	if (changes < 1 || changes > 1000)
		changes = 20;
	zone_store_init(&s);
	struct zone_store_create_params p = {.id = ZID,
					     .name = "bench.test.",
					     .nameservers = ns,
					     .nnameservers = 1};
	if (zone_store_create(&s, &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "create: %s\n", err);
		return 1;
	}
	size_t cap = n * 40 + 64, len = 0;
	char *text = malloc(cap);
	if (text == NULL)
		return 1;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(
		    text + len, cap - len, "r%zu 300 IN A 10.%zu.%zu.%zu\n", i,
		    (i >> 16) & 255, (i >> 8) & 255, i & 255);
	double t0 = now_ms();
	if (zone_text_import(&s, ZID, text, len, err, sizeof(err)) != 0) {
		fprintf(stderr, "import: %s\n", err);
		return 1;
	}
	free(text);
	double t_import = now_ms() - t0;
	long rss_store = rss_kb();
	t0 = now_ms();
	if (zone_store_build_update(&s, ZID, NULL, NULL, NULL, &z, err,
				    sizeof(err)) != 0) {
		fprintf(stderr, "build: %s\n", err);
		return 1;
	}
	if (serving_view_build(&v, &z, 1) != 0)
		return 1;
	serving_view_publish(v);
	double t_build = now_ms() - t0;
	/* As q53d does after a full build (view_publisher.c): the import's
	 * and the build's temporaries go back to the system. */
	malloc_trim(0);
	long rss_load = rss_kb();

	double *ms = calloc((size_t)changes, sizeof(*ms));
	double *bms = calloc((size_t)changes, sizeof(*bms));
	if (ms == NULL || bms == NULL)
		return 1;
	for (int c = 0; c < changes; c++) {
		char name[64], value[32];
		char *values[1] = {value};
		snprintf(name, sizeof(name), "r%zu.bench.test.",
			 (size_t)c * 7919 % (n ? n : 1));
		snprintf(value, sizeof(value), "192.0.2.%d", c % 250);
		struct change ch = {.action = CHANGE_UPSERT,
				    .rrset = {.name = name,
					      .type = 1,
					      .ttl = 60,
					      .values = values,
					      .nvalues = 1}};
		struct change_batch b = {.changes = &ch, .nchanges = 1};
		t0 = now_ms();
		struct change_batch_typed tb;
		if (change_batch_compile(&b, &tb) != 0)
			return 1;
		int arc =
		    zone_store_apply(&s, ZID, &tb.batch, err, sizeof(err));
		change_batch_typed_free(&tb);
		if (arc != 0) {
			fprintf(stderr, "apply: %s\n", err);
			return 1;
		}
		double t1 = now_ms();
		struct zone *nz;
		if (zone_store_build_update(&s, ZID, z, NULL, NULL, &nz, err,
					    sizeof(err)) != 0) {
			fprintf(stderr, "rebuild: %s\n", err);
			return 1;
		}
		zone_release(z);
		z = nz;
		if (serving_view_build(&v, &z, 1) != 0)
			return 1;
		serving_view_publish(v);
		ms[c] = now_ms() - t0;
		bms[c] = now_ms() - t1;
	}
	long rss_after = rss_kb();
	qsort(ms, (size_t)changes, sizeof(*ms), cmp_double);
	qsort(bms, (size_t)changes, sizeof(*bms), cmp_double);
	printf("records=%zu import_ms=%.0f build_publish_ms=%.0f "
	       "rss_store_kb=%ld rss_load_kb=%ld rss_after_%d_changes_kb=%ld "
	       "bytes_per_record=%.0f change_ms_p50=%.2f change_ms_max=%.2f "
	       "(of which build+publish p50=%.3f max=%.3f)\n",
	       n, t_import, t_build, rss_store, rss_load, changes, rss_after,
	       n ? (double)rss_after * 1024.0 / (double)n : 0.0,
	       ms[changes / 2], ms[changes - 1], bms[changes / 2],
	       bms[changes - 1]);
	if (getenv("Q53_BENCH_NO_TEARDOWN") != NULL)
		return 0; /* profiling the build: skip freeing */
	serving_view_publish(NULL);
	zone_release(z);
	zone_store_free(&s);
	free(ms);
	free(bms);
	return 0;
}
