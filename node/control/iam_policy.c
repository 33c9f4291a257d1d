#include "node/control/iam_policy.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "node/common/errcode.h"
#include "node/control/access_keys.h"

#define MALFORMED "MalformedPolicyDocument: "

/* --- parse --- */

struct parse {
	char *err;
	size_t errlen;
	bool nomem;
};

static int fail(struct parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, MALFORMED);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return Q53_EINVAL;
}

static int nomem(struct parse *p)
{
	snprintf(p->err, p->errlen, "out of memory");
	p->nomem = true;
	return Q53_ENOMEM;
}

/* A string or a non-empty list of strings into (*v, *n), each checked by
 * ok (NULL: any) and stored lowercase when lower. */
static int strings(struct parse *p, const char *what, json_t *j, char ***v,
		   size_t *n, bool lower, bool (*ok)(const char *))
{
	size_t count = json_is_array(j) ? json_array_size(j) : 1;

	if (!json_is_string(j) && !json_is_array(j))
		return fail(p, "%s must be a string or a list of strings",
			    what);
	if (count == 0)
		return fail(p, "%s must not be an empty list", what);
	if (count > ACCESS_POLICY_ITEMS_MAX)
		return fail(p, "%s has more than %d entries", what,
			    ACCESS_POLICY_ITEMS_MAX);
	*v = calloc(count, sizeof(**v));
	if (*v == NULL)
		return nomem(p);
	for (size_t i = 0; i < count; i++) {
		json_t *e = json_is_array(j) ? json_array_get(j, i) : j;
		const char *s = json_string_value(e);

		if (s == NULL)
			return fail(p,
				    "%s must be a string or a list of "
				    "strings",
				    what);
		if (s[0] == '\0' || strlen(s) > ACCESS_POLICY_TEXT_MAX ||
		    strlen(s) != json_string_length(e))
			return fail(p, "%s '%.64s' must be 1 to %d characters",
				    what, s, ACCESS_POLICY_TEXT_MAX);
		if (ok != NULL && !ok(s))
			return fail(p, "%s '%.200s' is not valid%s", what, s,
				    strcmp(what, "Resource") == 0
					? ": use an ARN "
					  "(arn:aws:route53:::hostedzone/ID) "
					  "or \"*\""
					: ": use \"route53:Name\" (wildcards * "
					  "and ?) or \"*\"");
		(*v)[i] = strdup(s);
		if ((*v)[i] == NULL)
			return nomem(p);
		(*n)++;
		if (lower)
			for (char *c = (*v)[i]; *c; c++)
				*c = (char)tolower((unsigned char)*c);
	}
	return 0;
}

static bool action_ok(const char *s)
{
	const char *colon = strchr(s, ':');

	if (strcmp(s, "*") == 0)
		return true;
	if (colon == NULL || colon == s || colon[1] == '\0')
		return false;
	for (const char *c = s; *c; c++)
		if (c != colon && !isalnum((unsigned char)*c) && *c != '*' &&
		    *c != '?' && *c != '-')
			return false;
	return true;
}

static bool resource_ok(const char *s)
{
	return strcmp(s, "*") == 0 || strncmp(s, "arn:", 4) == 0;
}

static const struct {
	const char *name;
	enum iam_condition_op op;
} OPS[] = {
    {"ForAllValues:StringEquals", IAM_OP_FOR_ALL_STRING_EQUALS},
    {"ForAllValues:StringLike", IAM_OP_FOR_ALL_STRING_LIKE},
};

static const struct {
	const char *name;
	enum iam_condition_key key;
} KEYS[] = {
    {"route53:ChangeResourceRecordSetsNormalizedRecordNames",
     IAM_KEY_RECORD_NAMES},
    {"route53:ChangeResourceRecordSetsRecordTypes", IAM_KEY_RECORD_TYPES},
    {"route53:ChangeResourceRecordSetsActions", IAM_KEY_ACTIONS},
};

static int conditions(struct parse *p, json_t *j,
		      Q53__Command__PolicyStatement *st)
{
	const char *opname, *keyname;
	json_t *keys, *vals;
	size_t total = 0;

	if (!json_is_object(j))
		return fail(p, "Condition must be an object");
	json_object_foreach(j, opname, keys)
	{
		total += json_is_object(keys) ? json_object_size(keys) : 1;
	}
	if (total > ACCESS_POLICY_ITEMS_MAX)
		return fail(p, "Condition has more than %d keys",
			    ACCESS_POLICY_ITEMS_MAX);
	st->conditions = calloc(total + 1, sizeof(*st->conditions));
	if (st->conditions == NULL)
		return nomem(p);
	json_object_foreach(j, opname, keys)
	{
		size_t o = 0;

		while (o < sizeof(OPS) / sizeof(OPS[0]) &&
		       strcasecmp(OPS[o].name, opname) != 0)
			o++;
		if (o == sizeof(OPS) / sizeof(OPS[0]))
			return fail(p,
				    "condition operator '%.64s' is not "
				    "supported (only ForAllValues:StringEquals "
				    "and ForAllValues:StringLike)",
				    opname);
		if (!json_is_object(keys) || json_object_size(keys) == 0)
			return fail(p,
				    "Condition %s must be a non-empty "
				    "object of keys",
				    OPS[o].name);
		json_object_foreach(keys, keyname, vals)
		{
			size_t k = 0;
			Q53__Command__PolicyCondition *c;
			int rv;

			while (k < sizeof(KEYS) / sizeof(KEYS[0]) &&
			       strcasecmp(KEYS[k].name, keyname) != 0)
				k++;
			if (k == sizeof(KEYS) / sizeof(KEYS[0]))
				return fail(p,
					    "condition key '%.80s' is not "
					    "supported (only "
					    "route53:ChangeResourceRecordSets"
					    "NormalizedRecordNames, "
					    "...RecordTypes, ...Actions)",
					    keyname);
			c = malloc(sizeof(*c));
			if (c == NULL)
				return nomem(p);
			q53__command__policy_condition__init(c);
			st->conditions[st->n_conditions++] = c;
			c->op = OPS[o].op;
			c->key = KEYS[k].key;
			rv = strings(p, KEYS[k].name, vals, &c->values,
				     &c->n_values, false, NULL);
			if (rv != 0)
				return rv;
		}
	}
	return 0;
}

static int statement(struct parse *p, json_t *j,
		     Q53__Command__PolicyStatement *st)
{
	const char *key;
	json_t *v;
	int rv;

	if (!json_is_object(j))
		return fail(p, "each Statement must be an object");
	json_object_foreach(j, key, v)
	{
		if (strcmp(key, "Sid") == 0) {
			if (!json_is_string(v) ||
			    json_string_length(v) > ACCESS_POLICY_TEXT_MAX)
				return fail(p, "Sid must be a string");
			st->sid = strdup(json_string_value(v));
			if (st->sid == NULL)
				return nomem(p);
		} else if (strcmp(key, "Effect") == 0) {
			const char *e = json_string_value(v);

			if (e == NULL ||
			    (strcmp(e, "Allow") && strcmp(e, "Deny")))
				return fail(p, "Effect must be \"Allow\" or "
					       "\"Deny\"");
			st->deny = strcmp(e, "Deny") == 0;
		} else if (strcmp(key, "Action") == 0) {
			rv = strings(p, "Action", v, &st->actions,
				     &st->n_actions, true, action_ok);
			if (rv != 0)
				return rv;
		} else if (strcmp(key, "Resource") == 0) {
			rv = strings(p, "Resource", v, &st->resources,
				     &st->n_resources, false, resource_ok);
			if (rv != 0)
				return rv;
		} else if (strcmp(key, "Condition") == 0) {
			rv = conditions(p, v, st);
			if (rv != 0)
				return rv;
		} else if (strcmp(key, "Principal") == 0 ||
			   strcmp(key, "NotPrincipal") == 0) {
			return fail(p, "Policy document should not specify a "
				       "principal.");
		} else {
			return fail(p,
				    "statement element '%.64s' is not "
				    "supported (Sid, Effect, Action, Resource, "
				    "Condition)",
				    key);
		}
	}
	if (json_object_get(j, "Effect") == NULL)
		return fail(p, "a Statement has no Effect");
	if (st->n_actions == 0)
		return fail(p, "a Statement has no Action");
	if (st->n_resources == 0)
		return fail(p, "a Statement has no Resource");
	return 0;
}

static int document(struct parse *p, json_t *root,
		    Q53__Command__AccessPolicy *out)
{
	const char *key;
	json_t *v, *stmts = NULL;

	if (!json_is_object(root))
		return fail(p, "the policy must be a JSON object");
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "Version") == 0) {
			const char *s = json_string_value(v);

			if (s == NULL || (strcmp(s, "2012-10-17") &&
					  strcmp(s, "2008-10-17")))
				return fail(p, "Version must be "
					       "\"2012-10-17\"");
		} else if (strcmp(key, "Id") == 0) {
			if (!json_is_string(v))
				return fail(p, "Id must be a string");
		} else if (strcmp(key, "Statement") == 0) {
			stmts = v;
		} else {
			return fail(p,
				    "policy element '%.64s' is not supported "
				    "(Version, Id, Statement)",
				    key);
		}
	}
	if (stmts == NULL)
		return fail(p, "Syntax errors in policy: no Statement");
	size_t n = json_is_array(stmts) ? json_array_size(stmts) : 1;
	if (n == 0)
		return fail(p, "Statement must not be an empty list");
	if (n > ACCESS_POLICY_STATEMENTS_MAX)
		return fail(p, "more than %d statements",
			    ACCESS_POLICY_STATEMENTS_MAX);
	out->statements = calloc(n, sizeof(*out->statements));
	if (out->statements == NULL)
		return nomem(p);
	for (size_t i = 0; i < n; i++) {
		Q53__Command__PolicyStatement *st = malloc(sizeof(*st));
		int rv;

		if (st == NULL)
			return nomem(p);
		q53__command__policy_statement__init(st);
		out->statements[out->n_statements++] = st;
		rv = statement(
		    p, json_is_array(stmts) ? json_array_get(stmts, i) : stmts,
		    st);
		if (rv != 0)
			return rv;
	}
	return 0;
}

int iam_policy_parse(const char *json, size_t len,
		     Q53__Command__AccessPolicy **out, char *err, size_t errlen)
{
	struct parse p = {.err = err, .errlen = errlen};
	Q53__Command__AccessPolicy *m;
	json_error_t je;
	json_t *root;
	int rv;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (len > ACCESS_POLICY_DOCUMENT_MAX)
		return fail(&p, "the policy is longer than %d characters",
			    ACCESS_POLICY_DOCUMENT_MAX);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return fail(&p, "Syntax errors in policy: %s (line %d)",
			    je.text, je.line);
	m = malloc(sizeof(*m));
	if (m == NULL) {
		json_decref(root);
		return nomem(&p);
	}
	q53__command__access_policy__init(m);
	rv = document(&p, root, m);
	json_decref(root);
	if (rv != 0) {
		iam_policy_free(m);
		return p.nomem ? Q53_ENOMEM : rv;
	}
	*out = m;
	return 0;
}

void iam_policy_free(Q53__Command__AccessPolicy *p)
{
	if (p != NULL)
		q53__command__access_policy__free_unpacked(p, NULL);
}

/* --- evaluate --- */

static bool ch_eq(char a, char b, bool nocase)
{
	return nocase ? tolower((unsigned char)a) == tolower((unsigned char)b)
		      : a == b;
}

bool iam_wildcard_match(const char *pat, const char *s, bool nocase)
{
	const char *star = NULL, *mark = NULL;

	/* Greedy with one backtrack point: linear in practice, never
	 * exponential (a later * supersedes an earlier one). */
	while (*s != '\0') {
		if (*pat == '*') {
			star = pat++;
			mark = s;
		} else if (*pat == '?' ||
			   (*pat != '\0' && ch_eq(*pat, *s, nocase))) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star + 1;
			s = ++mark;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static bool any_match(char *const *pats, size_t n, const char *s, bool nocase)
{
	for (size_t i = 0; i < n; i++)
		if (iam_wildcard_match(pats[i], s, nocase))
			return true;
	return false;
}

static bool condition_holds(const Q53__Command__PolicyCondition *c,
			    const struct iam_request *r)
{
	const char *const *vals = NULL;
	size_t n = 0;

	switch (c->key) {
	case IAM_KEY_RECORD_NAMES:
		vals = r->names, n = r->n_names;
		break;
	case IAM_KEY_RECORD_TYPES:
		vals = r->types, n = r->n_types;
		break;
	case IAM_KEY_ACTIONS:
		vals = r->actions, n = r->n_actions;
		break;
	default:
		return false;
	}
	/* ForAllValues: every value of the request matches one of the
	 * policy's (true for none). */
	for (size_t i = 0; i < n; i++) {
		bool ok = false;

		for (size_t k = 0; !ok && k < c->n_values; k++)
			ok = c->op == IAM_OP_FOR_ALL_STRING_LIKE
				 ? iam_wildcard_match(c->values[k], vals[i],
						      false)
				 : strcmp(c->values[k], vals[i]) == 0;
		if (!ok)
			return false;
	}
	return true;
}

static bool statement_matches(const Q53__Command__PolicyStatement *st,
			      const struct iam_request *r)
{
	if (!any_match(st->actions, st->n_actions, r->action, true) ||
	    !any_match(st->resources, st->n_resources, r->resource, false))
		return false;
	for (size_t k = 0; k < st->n_conditions; k++)
		if (!condition_holds(st->conditions[k], r))
			return false;
	return true;
}

enum iam_decision iam_policy_evaluate(const Q53__Command__AccessPolicy *p,
				      const struct iam_request *r)
{
	enum iam_decision d = IAM_DENY_DEFAULT;

	if (p == NULL)
		return d;
	for (size_t i = 0; i < p->n_statements; i++) {
		const Q53__Command__PolicyStatement *st = p->statements[i];

		if (!statement_matches(st, r))
			continue;
		if (st->deny)
			return IAM_DENY_EXPLICIT;
		d = IAM_ALLOW;
	}
	return d;
}

/* --- names --- */

static bool octal(char c)
{
	return c >= '0' && c <= '7';
}

void iam_normalize_name(const char *name, char *out, size_t outlen)
{
	size_t o = 0, n = strlen(name);

	if (n > 0 && name[n - 1] == '.' && (n < 2 || name[n - 2] != '\\'))
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '\\' && i + 3 < n && octal(name[i + 1]) &&
		    octal(name[i + 2]) && octal(name[i + 3])) {
			c = (unsigned char)((name[i + 1] - '0') * 64 +
					    (name[i + 2] - '0') * 8 +
					    (name[i + 3] - '0'));
			i += 3;
		} else if (c == '\\' && i + 1 < n) {
			c = (unsigned char)name[++i];
		}
		c = (unsigned char)tolower(c);
		char buf[5];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.')
			buf[0] = (char)c, buf[1] = '\0';
		else
			snprintf(buf, sizeof(buf), "\\%03o", c);
		size_t bl = strlen(buf);
		if (o + bl >= outlen)
			break;
		memcpy(out + o, buf, bl);
		o += bl;
	}
	out[o] = '\0';
}
