/* Prometheus text exposition format 0.0.4 helpers for /metrics: label
 * value escaping and histograms. Writers append to a FILE (open_memstream);
 * any thread, no state. */
#ifndef Q53_NODE_COMMON_PROM_TEXT_H
#define Q53_NODE_COMMON_PROM_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes s as a label value's content (backslash, quote and newline
 * escaped; other bytes < 0x20 or >= 0x7f as '?', so the text stays
 * UTF-8). */
void prom_write_label(FILE *out, const char *s);

/* A histogram's _bucket lines (cumulative, le="+Inf" last), _sum and
 * _count: name, labels ("" or 'k="v",...', already escaped), upper
 * bounds in seconds (n - 1 of them), per-bucket counts (n, not
 * cumulative: the last is above every bound) and the sum in seconds. The
 * caller writes # HELP and # TYPE once per family. */
void prom_write_histogram(FILE *out, const char *name, const char *labels,
			  const double *bounds, const uint64_t *counts,
			  size_t n, double sum);

/* A histogram kept on the loop thread (one writer, no atomics): bounds
 * in microseconds, n - 1 of them. */
#define PROM_HIST_MAX 16
struct prom_hist {
	const double *bounds_s; /* n - 1 bounds in seconds */
	size_t n;
	uint64_t counts[PROM_HIST_MAX];
	double sum_s;
};
void prom_hist_observe(struct prom_hist *h, double seconds);

#endif
