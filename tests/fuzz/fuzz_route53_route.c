/* libFuzzer target for the Route 53 REST routing (r53_route_parse): the
 * input is "METHOD\nPATH\nQUERY" (QUERY as name=value pairs split at '&',
 * given to the router as libmicrohttpd would, already decoded; bytes are
 * arbitrary, NUL included: the path stops at the first NUL as MHD's
 * decoded URL does). Invariants: never a crash or a read past the path;
 * ids and kinds NUL-terminated within their buffers and free of '/'; an
 * unknown route has no parameters; a page size within the operation's
 * bounds. The same path through the console's file lookup
 * (rest_console_lookup): a file only for "/console/NAME" with NAME in the
 * embedded table, never a name holding '/'.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_route53_route CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "node/api/route53/r53_route.h"
#include "node/api/route53/rest_console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAIRS_MAX 16

struct query {
	char *names[PAIRS_MAX];
	char *values[PAIRS_MAX];
	size_t n;
};

static const char *lookup(void *ctx, const char *name)
{
	struct query *q = ctx;
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->names[i], name) == 0)
			return q->values[i];
	return NULL;
}

static void fail(const char *why) __attribute__((noreturn));
static void fail(const char *why)
{
	fprintf(stderr, "\n*** route53 routing invariant violated: %s\n", why);
	abort();
}

static void check_text(const char *s, size_t cap, const char *what)
{
	if (memchr(s, '\0', cap) == NULL)
		fail(what);
	if (strchr(s, '/') != NULL)
		fail("a path id holds a '/'");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly size bytes, then a NUL: the parts are C strings. */
	char *buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *method = buf;
	char *path = strchr(method, '\n');
	char *qs = NULL;
	if (path != NULL) {
		*path++ = '\0';
		qs = strchr(path, '\n');
		if (qs != NULL)
			*qs++ = '\0';
	} else {
		path = method + strlen(method);
	}
	struct query q = {.n = 0};
	for (char *p = qs; p != NULL && *p != '\0' && q.n < PAIRS_MAX;) {
		char *amp = strchr(p, '&');
		if (amp != NULL)
			*amp = '\0';
		char *eq = strchr(p, '=');
		if (eq != NULL)
			*eq = '\0';
		q.names[q.n] = p;
		q.values[q.n] = eq != NULL ? eq + 1 : p + strlen(p);
		q.n++;
		p = amp != NULL ? amp + 1 : NULL;
	}

	struct r53_route rt;
	r53_route_parse(method, path, lookup, &q, &rt);
	check_text(rt.id, sizeof(rt.id), "id not terminated");
	check_text(rt.kind, sizeof(rt.kind), "kind not terminated");
	if (memchr(rt.marker, '\0', sizeof(rt.marker)) == NULL)
		fail("marker not terminated");
	if (rt.op == R53_UNKNOWN &&
	    (rt.max_items != 0 || rt.invalid != NULL || rt.name != NULL))
		fail("an unknown route with parameters");
	if (rt.max_items > API_MSG_PAGE_MAX)
		fail("a page larger than the API's maximum");
	if (strcmp(r53_op_name(rt.op), "Unknown") == 0 && rt.op != R53_UNKNOWN)
		fail("an operation without a name");
	/* Routing again gives the same answer (no hidden state). */
	struct r53_route again;
	r53_route_parse(method, path, lookup, &q, &again);
	if (again.op != rt.op || strcmp(again.id, rt.id) != 0 ||
	    again.max_items != rt.max_items)
		fail("routing is not a function of its input");

	const struct rest_console_file *f;
	const char *type;
	int rv = rest_console_lookup(path, &f, &type);
	if (rv == 0) {
		if (f == NULL || type == NULL ||
		    strncmp(path, "/console/", 9) != 0 ||
		    strchr(path + 9, '/') != NULL ||
		    (path[9] != '\0' && strcmp(path + 9, f->name) != 0))
			fail("a console file for a path that does not name it");
	} else if (f != NULL || (rv == 1 && strcmp(path, "/console") != 0)) {
		fail("a console answer for a path that is no console file");
	}
	free(buf);
	return 0;
}
