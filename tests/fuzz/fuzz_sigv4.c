/* libFuzzer target for what a Route 53 client sends to authenticate: the
 * input is split at the first NUL into an Authorization header and the
 * rest, used as the X-Amz-Date header, the path, one query argument and
 * the body (at further NULs); and the whole input is also read as an
 * access keys file. sigv4_parse_auth / sigv4_check / route53_keys_parse
 * must never crash or leak, and a forged signature must never pass.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_sigv4 CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/api/route53/rest.h"
#include "node/api/route53/sigv4.h"
#include "node/common/errcode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why) __attribute__((noreturn));
static void fail(const char *why)
{
	fprintf(stderr, "\n*** sigv4 invariant violated: %s\n", why);
	abort();
}

struct parts {
	const char *p[5];
};

static const char *header(void *ctx, const char *lname)
{
	const struct parts *x = ctx;
	if (strcmp(lname, "x-amz-date") == 0)
		return x->p[1];
	if (strcmp(lname, "host") == 0)
		return "127.0.0.1:8080";
	return x->p[4];
}

static int add(void *ctx, const char *akid, const char *secret)
{
	(void)secret;
	size_t *n = ctx;
	if (akid[0] == '\0')
		fail("an empty key id accepted");
	(*n)++;
	return *n > 64 ? Q53_EINVAL : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 6);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	memset(buf + size, 0, 6);
	struct parts x;
	char *p = buf;
	for (int i = 0; i < 5; i++) {
		x.p[i] = p;
		p += strlen(p);
		if (p < buf + size)
			p++;
	}
	struct sigv4_auth a;
	char why[256];
	if (sigv4_parse_auth(x.p[0], &a, why, sizeof(why)) == 0) {
		const char *qn[] = {"name"};
		const char *qv[] = {x.p[3]};
		struct sigv4_request req = {
		    .method = "POST",
		    .path = x.p[2],
		    .n_query = 1,
		    .query_names = qn,
		    .query_values = qv,
		    .header = header,
		    .header_ctx = &x,
		    .body = (const uint8_t *)x.p[4],
		    .body_len = strlen(x.p[4]),
		};
		struct sigv4_result res;
		/* The input cannot know this secret: passing is a forgery. */
		if (sigv4_check(&req, &a, "fuzz-secret-0123456789abcdef",
				(time_t)1440938160, 1L << 40, &res))
			fail("a signature made without the secret passed");
		if (res.code == NULL)
			fail("refused without a code");
	}
	size_t n = 0;
	char err[256];
	(void)route53_keys_parse((const char *)data, size, add, &n, err,
				 sizeof(err));
	free(buf);
	return 0;
}
