/* libFuzzer target for IAM policy documents (q53 key create --policy, the
 * only untrusted JSON an access key brings): iam_policy_parse on the whole
 * input. A policy it accepts must be one the FSM accepts
 * (access_keys_check: the ranges apply re-checks), must survive the log's
 * protobuf round trip unchanged, and its evaluation must be deterministic
 * and never allow what no Allow statement names. The input is also read
 * as a record name (iam_normalize_name: never longer than its buffer, only
 * a-z 0-9 - _ . and \ooo escapes out) and, split at the first NUL, as a
 * wildcard pattern and a string (iam_wildcard_match: "*" matches all, a
 * pattern without wildcards matches only itself).
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_iam_policy CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/access_keys.h"
#include "node/control/command.h"
#include "node/control/iam_policy.h"
#include "proto/command.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why) __attribute__((noreturn));
static void fail(const char *why)
{
	fprintf(stderr, "\n*** iam policy invariant violated: %s\n", why);
	abort();
}

static bool any_allow(const Q53__Command__AccessPolicy *p)
{
	for (size_t i = 0; i < p->n_statements; i++)
		if (!p->statements[i]->deny)
			return true;
	return false;
}

static void check_policy(const char *text, size_t size)
{
	Q53__Command__AccessPolicy *p, *copy;
	char err[512];
	void *arena;
	int rv = iam_policy_parse(text, size, &p, err, sizeof(err));

	if (rv == Q53_ENOMEM)
		return;
	if (rv != 0) {
		if (strncmp(err, "MalformedPolicyDocument: ", 25) != 0)
			fail("a refusal without MalformedPolicyDocument");
		return;
	}
	struct access_keys t;
	struct command_create_access_key c = {
	    .id = "AKIAFUZZFUZZFUZZFUZZ",
	    .secret = "0123456789abcdefghijABCDEFGHIJ0123456789",
	    .description = "",
	    .policy_document = "",
	    .policy = p,
	};
	bool same;
	access_keys_init(&t);
	if (access_keys_check(&t, &c, &same, err, sizeof(err)) != 0)
		fail("the parser accepted a policy the FSM refuses");
	rv = command_policy_copy(p, &copy, &arena);
	if (rv == Q53_ENOMEM)
		goto out;
	if (rv != 0 || copy->n_statements != p->n_statements)
		fail("the policy does not survive its protobuf round trip");

	const char *names[] = {text}, *types[] = {"TXT"}, *acts[] = {"UPSERT"};
	const struct iam_request reqs[] = {
	    {.action = "route53:ChangeResourceRecordSets",
	     .resource = "arn:aws:route53:::hostedzone/Z1",
	     .names = names,
	     .n_names = 1,
	     .types = types,
	     .n_types = 1,
	     .actions = acts,
	     .n_actions = 1},
	    {.action = "route53:ListHostedZones", .resource = "*"},
	    {.action = text, .resource = text},
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		enum iam_decision a = iam_policy_evaluate(p, &reqs[i]);
		if (a != iam_policy_evaluate(copy, &reqs[i]))
			fail("the copy decides otherwise");
		if (a == IAM_ALLOW && !any_allow(p))
			fail("allowed without an Allow statement");
	}
	command_policy_free(arena);
out:
	iam_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char norm[64];

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_policy(text, size);

	iam_normalize_name(text, norm, sizeof(norm));
	if (strlen(norm) >= sizeof(norm))
		fail("a normalized name overran its buffer");
	for (const char *c = norm; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '_' || *c == '.' || *c == '\\'))
			fail("a normalized name kept a character to escape");

	const char *pat = text, *s = text + strlen(text);
	s = (size_t)(s - text) < size ? s + 1 : "";
	if (!iam_wildcard_match("*", s, false))
		fail("* does not match everything");
	if (strpbrk(pat, "*?") == NULL &&
	    iam_wildcard_match(pat, s, false) != (strcmp(pat, s) == 0))
		fail("a literal pattern matched something else");
	free(text);
	return 0;
}
