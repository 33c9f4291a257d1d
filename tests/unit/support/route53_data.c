#include "tests/unit/support/route53_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *route53_data_load(const char *name, size_t *len)
{
	char path[4096];
	const char *dir = getenv("Q53_ROUTE53_DATA");
	if (dir != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	} else {
		/* tests/unit/support/ -> tests/unit/data/route53/ */
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 1;
		snprintf(path, sizeof(path), "%.*s/../data/route53/%s", n,
			 slash ? __FILE__ : ".", name);
	}
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		abort();
	}
	char *buf = malloc(1 << 20);
	if (buf == NULL)
		abort();
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}
