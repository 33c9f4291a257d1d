#include "node/common/prom_text.h"

void prom_write_label(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\')
			fputs("\\\\", out);
		else if (c == '"')
			fputs("\\\"", out);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20 || c >= 0x7f)
			fputc('?', out);
		else
			fputc(c, out);
	}
}

void prom_write_histogram(FILE *out, const char *name, const char *labels,
			  const double *bounds, const uint64_t *counts,
			  size_t n, double sum)
{
	uint64_t cum = 0;
	const char *sep = labels[0] != '\0' ? "," : "";

	for (size_t i = 0; i < n; i++) {
		cum += counts[i];
		if (i + 1 < n)
			fprintf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name,
				labels, sep, bounds[i],
				(unsigned long long)cum);
		else
			fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
				labels, sep, (unsigned long long)cum);
	}
	if (labels[0] != '\0') {
		fprintf(out, "%s_sum{%s} %.9g\n", name, labels, sum);
		fprintf(out, "%s_count{%s} %llu\n", name, labels,
			(unsigned long long)cum);
	} else {
		fprintf(out, "%s_sum %.9g\n", name, sum);
		fprintf(out, "%s_count %llu\n", name, (unsigned long long)cum);
	}
}

void prom_hist_observe(struct prom_hist *h, double seconds)
{
	size_t i = 0;
	while (i + 1 < h->n && seconds > h->bounds_s[i])
		i++;
	h->counts[i]++;
	h->sum_s += seconds;
}
