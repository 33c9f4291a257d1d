#include "cluster/cli/cli_table.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void cli_table_init(struct cli_table *t, size_t ncols,
		    const char *const *headers)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < CLI_TABLE_MAX_COLS ? ncols : CLI_TABLE_MAX_COLS;
	for (size_t i = 0; headers != NULL && i < t->ncols; i++)
		t->headers[i] = headers[i];
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
	if (t->failed)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));
		if (c == NULL) {
			t->failed = 1;
			return;
		}
		t->cells = c;
		t->cap = cap;
	}
	char **row = &t->cells[t->nrows * t->ncols];
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] != NULL ? cells[i] : "");
		if (row[i] == NULL) {
			for (size_t k = 0; k < i; k++)
				free(row[k]);
			t->failed = 1;
			return;
		}
	}
	t->nrows++;
}

static void print_row(const struct cli_table *t, const size_t *width,
		      const char *const *row, FILE *f)
{
	size_t last = t->ncols;
	while (last > 0 && row[last - 1][0] == '\0')
		last--; /* no trailing blanks */
	for (size_t i = 0; i < last; i++) {
		if (i + 1 < last)
			fprintf(f, "%-*s  ", (int)width[i], row[i]);
		else
			fprintf(f, "%s", row[i]);
	}
	fputc('\n', f);
}

int cli_table_print(const struct cli_table *t, FILE *f)
{
	size_t width[CLI_TABLE_MAX_COLS] = {0};
	bool header = t->headers[0] != NULL;
	for (size_t i = 0; header && i < t->ncols; i++)
		width[i] = strlen(t->headers[i]);
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			size_t n = strlen(t->cells[r * t->ncols + i]);
			if (n > width[i])
				width[i] = n;
		}
	if (header)
		print_row(t, width, t->headers, f);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(t, width,
			  (const char *const *)&t->cells[r * t->ncols], f);
	return t->failed ? -1 : 0;
}

void cli_table_free(struct cli_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
