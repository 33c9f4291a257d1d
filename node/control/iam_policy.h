/* IAM policies for the REST API's access keys: the JSON document parsed
 * and validated once, at the edge (jansson), into the typed form the log
 * carries (proto/command.proto AccessPolicy), and evaluated per request
 * with IAM's rule: an explicit Deny beats any Allow, nothing allowed is
 * denied. Pure functions; the parser is fuzzed by
 * tests/fuzz/fuzz_iam_policy.c.
 *
 * What is understood: Version ("2012-10-17", "2008-10-17"), Id, Statement
 * (an object or a list) with Sid, Effect (Allow / Deny), Action and
 * Resource (a string or a list, wildcards * and ?), and Condition with the
 * operators ForAllValues:StringEquals and ForAllValues:StringLike on
 * Route 53's keys route53:ChangeResourceRecordSetsNormalizedRecordNames,
 * ...RecordTypes and ...Actions. Anything else (NotAction, NotResource,
 * Principal, other operators or keys) is refused with a message rather
 * than ignored: a policy that says more than we enforce must not pass. */
#ifndef Q53_NODE_CONTROL_IAM_POLICY_H
#define Q53_NODE_CONTROL_IAM_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/command.pb-c.h"

enum iam_condition_op {
	IAM_OP_FOR_ALL_STRING_EQUALS = 1,
	IAM_OP_FOR_ALL_STRING_LIKE = 2,
};

enum iam_condition_key {
	IAM_KEY_RECORD_NAMES = 1, /* ...NormalizedRecordNames */
	IAM_KEY_RECORD_TYPES = 2,
	IAM_KEY_ACTIONS = 3,
};

/* Parses json[0..len) (untrusted). 0 with *out (release with
 * iam_policy_free), Q53_EINVAL with "MalformedPolicyDocument: ..." in err,
 * or Q53_ENOMEM. err is always NUL-terminated. */
int iam_policy_parse(const char *json, size_t len,
		     Q53__Command__AccessPolicy **out, char *err,
		     size_t errlen);
void iam_policy_free(Q53__Command__AccessPolicy *p);

/* A request as the evaluator sees it. The condition keys' values are the
 * change batch's (iam_normalize_name for names); a request that is not a
 * ChangeResourceRecordSets has none (ForAllValues then holds, as in IAM).
 * All borrowed. */
struct iam_request {
	const char *action;   /* "route53:ChangeResourceRecordSets" */
	const char *resource; /* "arn:aws:route53:::hostedzone/Z1", "*" */
	const char *const *names;
	size_t n_names;
	const char *const *types;
	size_t n_types;
	const char *const *actions; /* CREATE, UPSERT, DELETE */
	size_t n_actions;
};

enum iam_decision {
	IAM_DENY_DEFAULT = 0, /* no statement allows it */
	IAM_ALLOW,
	IAM_DENY_EXPLICIT, /* a Deny statement matched */
};

enum iam_decision iam_policy_evaluate(const Q53__Command__AccessPolicy *p,
				      const struct iam_request *r);

/* Pattern match with * (any run) and ? (one character), case-sensitive or
 * not (ASCII). */
bool iam_wildcard_match(const char *pattern, const char *s, bool nocase);

/* A record name (presentation form as in a change batch: "\052" octal or
 * "\X" escapes) as ChangeResourceRecordSetsNormalizedRecordNames compares
 * it: lowercase, no final dot, every byte other than a-z 0-9 - _ . as
 * "\ooo" (octal). Truncated to fit out (outlen > 0). */
void iam_normalize_name(const char *name, char *out, size_t outlen);

#endif
