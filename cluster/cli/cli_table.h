/* Aligned text tables for q53's human output: columns padded to their
 * widest cell, two spaces apart, the last column unpadded. Cells are
 * copied. */
#ifndef Q53_CLUSTER_CLI_CLI_TABLE_H
#define Q53_CLUSTER_CLI_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define CLI_TABLE_MAX_COLS 8

struct cli_table {
	size_t ncols;
	const char *headers[CLI_TABLE_MAX_COLS]; /* NULL: no header line */
	char **cells;				 /* nrows * ncols, row-major */
	size_t nrows;
	size_t cap;
	int failed; /* sticky: an allocation failed */
};

/* headers: ncols names, or NULL for a table without a header line
 * (key/value listings). Not copied: they must outlive the table. */
void cli_table_init(struct cli_table *t, size_t ncols,
		    const char *const *headers);

/* Appends a row of ncols cells (NULL prints as ""). */
void cli_table_add(struct cli_table *t, const char *const *cells);

/* Prints the table; returns 0, or -1 when a row was lost to memory. */
int cli_table_print(const struct cli_table *t, FILE *f);

void cli_table_free(struct cli_table *t);

#endif
