/* Request bodies: XML documents whose leaves are text. The change batch
 * becomes JSON generically (a list wrapper becomes an array, integer and
 * boolean members JSON numbers and booleans, every other leaf a string),
 * so every rule about its content is the change batch parser's, with the
 * messages Route 53 gives. */
#include "node/api/route53/r53_xml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "node/common/errcode.h"

/* Depth of nesting accepted (Route 53's deepest body has 6 levels). */
#define XML_DEPTH_MAX 16

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

static int parse(const uint8_t *body, size_t len, const char *root,
		 xmlDocPtr *out, char *err, size_t errlen)
{
	*out = NULL;
	if (len == 0 || len > INT32_MAX)
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: the request needs a %s XML body",
				root);
	xmlSetGenericErrorFunc(NULL, quiet);
	xmlDocPtr doc =
	    xmlReadMemory((const char *)body, (int)len, "request", NULL,
			  XML_PARSE_NONET | XML_PARSE_NOBLANKS |
			      XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		const xmlError *e = xmlGetLastError();
		char why[160] = "";
		if (e != NULL && e->message != NULL) {
			snprintf(why, sizeof(why), ": line %d: %s", e->line,
				 e->message);
			size_t n = strlen(why);
			if (n > 0 && why[n - 1] == '\n')
				why[n - 1] = '\0';
		}
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: the body is not XML%s", why);
	}
	xmlNodePtr top = xmlDocGetRootElement(doc);
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return q53_fail(
		    err, errlen, Q53_EINVAL,
		    "InvalidInput: document type declarations are not "
		    "accepted");
	}
	if (top == NULL || xmlStrcmp(top->name, BAD_CAST root) != 0) {
		xmlFreeDoc(doc);
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: the body must be a %s document",
				root);
	}
	*out = doc;
	return 0;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n != NULL ? n->children : NULL; c != NULL;
	     c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    xmlStrcmp(c->name, BAD_CAST name) == 0)
			return c;
	return NULL;
}

/* n's text as a malloc'd string (NULL when n is NULL); *nomem on failure. */
static char *text(xmlNodePtr n, bool *nomem)
{
	if (n == NULL)
		return NULL;
	xmlChar *t = xmlNodeGetContent(n);
	char *s = strdup(t != NULL ? (const char *)t : "");
	xmlFree(t);
	if (s == NULL)
		*nomem = true;
	return s;
}

int r53_xml_create_zone(const uint8_t *body, size_t len,
			struct r53_create_zone *out, char *err, size_t errlen)
{
	xmlDocPtr doc;
	bool nomem = false;

	memset(out, 0, sizeof(*out));
	int rv = parse(body, len, "CreateHostedZoneRequest", &doc, err, errlen);
	if (rv != 0)
		return rv;
	xmlNodePtr top = xmlDocGetRootElement(doc);
	xmlNodePtr cfg = child(top, "HostedZoneConfig");
	out->name = text(child(top, "Name"), &nomem);
	out->caller_reference = text(child(top, "CallerReference"), &nomem);
	out->comment = text(child(cfg, "Comment"), &nomem);
	char *priv = text(child(cfg, "PrivateZone"), &nomem);
	out->private_zone = (priv != NULL && strcmp(priv, "true") == 0) ||
			    child(top, "VPC") != NULL;
	out->delegation_set = child(top, "DelegationSetId") != NULL;
	free(priv);
	xmlFreeDoc(doc);
	if (nomem)
		return q53_fail(err, errlen, Q53_ENOMEM,
				"InternalError: out of "
				"memory");
	if (out->name == NULL || out->caller_reference == NULL ||
	    out->caller_reference[0] == '\0')
		return q53_fail(
		    err, errlen, Q53_EINVAL,
		    "InvalidInput: CreateHostedZoneRequest needs Name "
		    "and CallerReference");
	return 0;
}

void r53_create_zone_free(struct r53_create_zone *z)
{
	free(z->name);
	free(z->caller_reference);
	free(z->comment);
	memset(z, 0, sizeof(*z));
}

static bool is_leaf(xmlNodePtr n)
{
	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return false;
	return true;
}

static bool in_list(const char *name, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static json_t *to_json(xmlNodePtr n, int depth)
{
	/* Route 53's list wrappers, integer and boolean members (the shapes
	 * of ChangeBatch and HealthCheckConfig in its service model). */
	static const char *const lists[] = {
	    "Changes", "ResourceRecords", "ChildHealthChecks",
	    "Regions", "ResetElements",	  NULL};
	static const char *const ints[] = {"TTL",
					   "Weight",
					   "Bias",
					   "Port",
					   "RequestInterval",
					   "FailureThreshold",
					   "HealthThreshold",
					   NULL};
	static const char *const bools[] = {"EvaluateTargetHealth",
					    "MultiValueAnswer",
					    "MeasureLatency",
					    "Inverted",
					    "Disabled",
					    "EnableSNI",
					    NULL};
	const char *name = (const char *)n->name;

	if (depth > XML_DEPTH_MAX)
		return NULL;
	if (is_leaf(n)) {
		xmlChar *t = xmlNodeGetContent(n);
		const char *s = t != NULL ? (const char *)t : "";
		json_t *v;
		if (in_list(name, ints)) {
			char *end;
			errno = 0;
			long long k = strtoll(s, &end, 10);
			v = (*s != '\0' && *end == '\0' && errno == 0)
				? json_integer(k)
				: json_string(s);
		} else if (in_list(name, bools)) {
			v = strcmp(s, "true") == 0    ? json_true()
			    : strcmp(s, "false") == 0 ? json_false()
						      : json_string(s);
		} else {
			v = json_string(s);
		}
		if (v == NULL) /* not UTF-8: libxml2 checked; or no memory */
			v = json_null();
		xmlFree(t);
		return v;
	}
	bool list = in_list(name, lists);
	json_t *out = list ? json_array() : json_object();
	for (xmlNodePtr c = n->children; out != NULL && c != NULL;
	     c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		json_t *v = to_json(c, depth + 1);
		if (v == NULL) {
			json_decref(out);
			return NULL;
		}
		if (list)
			json_array_append_new(out, v);
		else
			json_object_set_new(out, (const char *)c->name, v);
	}
	return out;
}

int r53_xml_change_batch(const uint8_t *body, size_t len, char **json,
			 char *err, size_t errlen)
{
	xmlDocPtr doc;

	*json = NULL;
	int rv = parse(body, len, "ChangeResourceRecordSetsRequest", &doc, err,
		       errlen);
	if (rv != 0)
		return rv;
	xmlNodePtr batch = child(xmlDocGetRootElement(doc), "ChangeBatch");
	if (batch == NULL || child(batch, "Changes") == NULL) {
		xmlFreeDoc(doc);
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: ChangeResourceRecordSetsRequest "
				"needs ChangeBatch/Changes");
	}
	json_t *j = to_json(batch, 0);
	xmlFreeDoc(doc);
	if (j == NULL)
		return q53_fail(
		    err, errlen, Q53_EINVAL,
		    "InvalidInput: the change batch is nested deeper "
		    "than %d elements",
		    XML_DEPTH_MAX);
	*json = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (*json == NULL)
		return q53_fail(err, errlen, Q53_ENOMEM,
				"InternalError: out of memory");
	return 0;
}

/* The JSON of the element children of n except skip (may be NULL). */
static int object_json(xmlNodePtr n, const char *skip, char **json, char *err,
		       size_t errlen)
{
	json_t *obj = json_object();
	for (xmlNodePtr c = n->children; obj != NULL && c != NULL;
	     c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    (skip != NULL && xmlStrcmp(c->name, BAD_CAST skip) == 0))
			continue;
		json_t *v = to_json(c, 1);
		if (v == NULL) {
			json_decref(obj);
			return q53_fail(
			    err, errlen, Q53_EINVAL,
			    "InvalidInput: the body is nested deeper "
			    "than %d elements",
			    XML_DEPTH_MAX);
		}
		json_object_set_new(obj, (const char *)c->name, v);
	}
	*json = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (*json == NULL)
		return q53_fail(err, errlen, Q53_ENOMEM,
				"InternalError: out of memory");
	return 0;
}

int r53_xml_create_health_check(const uint8_t *body, size_t len,
				char **caller_reference, char **config_json,
				char *err, size_t errlen)
{
	xmlDocPtr doc;
	bool nomem = false;

	*caller_reference = *config_json = NULL;
	int rv =
	    parse(body, len, "CreateHealthCheckRequest", &doc, err, errlen);
	if (rv != 0)
		return rv;
	xmlNodePtr top = xmlDocGetRootElement(doc);
	xmlNodePtr cfg = child(top, "HealthCheckConfig");
	*caller_reference = text(child(top, "CallerReference"), &nomem);
	if (nomem)
		rv = q53_fail(err, errlen, Q53_ENOMEM,
			      "InternalError: out of memory");
	else if (*caller_reference == NULL || (*caller_reference)[0] == '\0' ||
		 cfg == NULL)
		rv = q53_fail(err, errlen, Q53_EINVAL,
			      "InvalidInput: CreateHealthCheckRequest needs "
			      "CallerReference and HealthCheckConfig");
	else
		rv = object_json(cfg, NULL, config_json, err, errlen);
	xmlFreeDoc(doc);
	if (rv != 0) {
		free(*caller_reference);
		*caller_reference = NULL;
	}
	return rv;
}

int r53_xml_update_health_check(const uint8_t *body, size_t len,
				uint64_t *version, char **fields_json,
				char *err, size_t errlen)
{
	xmlDocPtr doc;
	bool nomem = false;

	*version = 0;
	*fields_json = NULL;
	int rv =
	    parse(body, len, "UpdateHealthCheckRequest", &doc, err, errlen);
	if (rv != 0)
		return rv;
	xmlNodePtr top = xmlDocGetRootElement(doc);
	char *v = text(child(top, "HealthCheckVersion"), &nomem);
	if (v != NULL) {
		char *end;
		errno = 0;
		unsigned long long k = strtoull(v, &end, 10);
		if (v[0] < '1' || v[0] > '9' || *end != '\0' || errno != 0)
			rv = q53_fail(
			    err, errlen, Q53_EINVAL,
			    "InvalidInput: HealthCheckVersion '%.32s' is "
			    "not a positive integer",
			    v);
		*version = k;
		free(v);
	}
	if (rv == 0 && nomem)
		rv = q53_fail(err, errlen, Q53_ENOMEM,
			      "InternalError: out of memory");
	if (rv == 0)
		rv = object_json(top, "HealthCheckVersion", fields_json, err,
				 errlen);
	xmlFreeDoc(doc);
	return rv;
}

/* --- comments, tags, resource ids --- */

int r53_xml_zone_comment(const uint8_t *body, size_t len, char **comment,
			 char *err, size_t errlen)
{
	xmlDocPtr doc;
	bool nomem = false;

	*comment = NULL;
	int rv = parse(body, len, "UpdateHostedZoneCommentRequest", &doc, err,
		       errlen);
	if (rv != 0)
		return rv;
	*comment = text(child(xmlDocGetRootElement(doc), "Comment"), &nomem);
	xmlFreeDoc(doc);
	if (nomem)
		return q53_fail(err, errlen, Q53_ENOMEM,
				"InternalError: out of memory");
	return 0;
}

int r53_xml_fields(const uint8_t *body, size_t len, const char *root,
		   const char *const *names, size_t n, char **values, char *err,
		   size_t errlen)
{
	xmlDocPtr doc;
	bool nomem = false;

	for (size_t i = 0; i < n; i++)
		values[i] = NULL;
	int rv = parse(body, len, root, &doc, err, errlen);
	if (rv != 0)
		return rv;
	xmlNodePtr top = xmlDocGetRootElement(doc);
	for (size_t i = 0; i < n; i++)
		values[i] = text(child(top, names[i]), &nomem);
	xmlFreeDoc(doc);
	if (nomem) {
		r53_fields_free(values, n);
		return q53_fail(err, errlen, Q53_ENOMEM,
				"InternalError: out of memory");
	}
	return 0;
}

void r53_fields_free(char **values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(values[i]);
		values[i] = NULL;
	}
}

void r53_strings_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

void r53_tags_free(struct r53_tags *t)
{
	r53_strings_free(t->keys, t->n_add);
	r53_strings_free(t->values, t->n_add);
	r53_strings_free(t->remove, t->n_remove);
	memset(t, 0, sizeof(*t));
}

/* The texts of list's children named member, into a new array. */
static int texts(xmlNodePtr list, const char *member, char ***out, size_t *n,
		 char *err, size_t errlen)
{
	bool nomem = false;

	*out = NULL;
	*n = 0;
	for (xmlNodePtr c = list != NULL ? list->children : NULL; c != NULL;
	     c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    xmlStrcmp(c->name, BAD_CAST member) != 0)
			continue;
		if (*n == R53_XML_LIST_MAX)
			return q53_fail(err, errlen, Q53_EINVAL,
					"InvalidInput: more than %d %s",
					R53_XML_LIST_MAX, member);
		if (*out == NULL) {
			*out = calloc(R53_XML_LIST_MAX, sizeof(**out));
			if (*out == NULL)
				return Q53_ENOMEM;
		}
		(*out)[*n] = text(c, &nomem);
		if (nomem)
			return Q53_ENOMEM;
		(*n)++;
	}
	return 0;
}

int r53_xml_change_tags(const uint8_t *body, size_t len, struct r53_tags *out,
			char *err, size_t errlen)
{
	xmlDocPtr doc;
	bool nomem = false;

	memset(out, 0, sizeof(*out));
	int rv =
	    parse(body, len, "ChangeTagsForResourceRequest", &doc, err, errlen);
	if (rv != 0)
		return rv;
	xmlNodePtr top = xmlDocGetRootElement(doc);
	rv = texts(child(top, "RemoveTagKeys"), "Key", &out->remove,
		   &out->n_remove, err, errlen);
	xmlNodePtr add = child(top, "AddTags");
	for (xmlNodePtr c = add != NULL ? add->children : NULL;
	     rv == 0 && c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    xmlStrcmp(c->name, BAD_CAST "Tag") != 0)
			continue;
		if (out->n_add == R53_XML_LIST_MAX) {
			rv = q53_fail(err, errlen, Q53_EINVAL,
				      "InvalidInput: more than %d Tag",
				      R53_XML_LIST_MAX);
			break;
		}
		if (out->keys == NULL) {
			out->keys = calloc(R53_XML_LIST_MAX, sizeof(char *));
			out->values = calloc(R53_XML_LIST_MAX, sizeof(char *));
			if (out->keys == NULL || out->values == NULL) {
				rv = Q53_ENOMEM;
				break;
			}
		}
		xmlNodePtr k = child(c, "Key"), v = child(c, "Value");
		if (k == NULL) {
			rv = q53_fail(err, errlen, Q53_EINVAL,
				      "InvalidInput: a Tag of AddTags needs a "
				      "Key");
			break;
		}
		out->keys[out->n_add] = text(k, &nomem);
		out->values[out->n_add] =
		    v != NULL ? text(v, &nomem) : strdup("");
		out->n_add++;
		if (nomem || out->values[out->n_add - 1] == NULL)
			rv = Q53_ENOMEM;
	}
	xmlFreeDoc(doc);
	if (rv == Q53_ENOMEM)
		return q53_fail(err, errlen, Q53_ENOMEM,
				"InternalError: out of memory");
	return rv;
}

int r53_xml_resource_ids(const uint8_t *body, size_t len, char ***ids,
			 size_t *n, char *err, size_t errlen)
{
	xmlDocPtr doc;

	*ids = NULL;
	*n = 0;
	int rv =
	    parse(body, len, "ListTagsForResourcesRequest", &doc, err, errlen);
	if (rv != 0)
		return rv;
	rv = texts(child(xmlDocGetRootElement(doc), "ResourceIds"),
		   "ResourceId", ids, n, err, errlen);
	xmlFreeDoc(doc);
	if (rv == Q53_ENOMEM)
		return q53_fail(err, errlen, Q53_ENOMEM,
				"InternalError: out of memory");
	if (rv == 0 && *n == 0)
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: ListTagsForResourcesRequest "
				"needs ResourceIds/ResourceId");
	return rv;
}

int r53_xml_create_cidr_collection(const uint8_t *body, size_t len, char **name,
				   char **caller_reference, char *err,
				   size_t errlen)
{
	xmlDocPtr doc;
	bool nomem = false;

	*name = NULL;
	*caller_reference = NULL;
	int rv =
	    parse(body, len, "CreateCidrCollectionRequest", &doc, err, errlen);
	if (rv != 0)
		return rv;
	xmlNodePtr top = xmlDocGetRootElement(doc);
	*name = text(child(top, "Name"), &nomem);
	*caller_reference = text(child(top, "CallerReference"), &nomem);
	xmlFreeDoc(doc);
	if (nomem)
		return q53_fail(err, errlen, Q53_ENOMEM,
				"InternalError: out of memory");
	if (*name == NULL || *caller_reference == NULL)
		return q53_fail(err, errlen, Q53_EINVAL,
				"InvalidInput: CreateCidrCollectionRequest "
				"needs Name and CallerReference");
	return 0;
}

void r53_cidr_changes_free(struct r53_cidr_changes *c)
{
	for (size_t i = 0; c->v != NULL && i < c->n; i++) {
		free(c->v[i].action);
		free(c->v[i].location);
		for (size_t k = 0; k < c->v[i].n; k++)
			free(c->v[i].cidrs[k]);
		free(c->v[i].cidrs);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* The Cidr texts of a CidrList into x. */
static int cidr_list(xmlNodePtr list, struct r53_cidr_change *x, char *err,
		     size_t errlen)
{
	bool nomem = false;

	for (xmlNodePtr c = list != NULL ? list->children : NULL; c != NULL;
	     c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    xmlStrcmp(c->name, BAD_CAST "Cidr") != 0)
			continue;
		if (x->n == R53_XML_CIDR_MAX)
			return q53_fail(err, errlen, Q53_EINVAL,
					"InvalidInput: a CidrList holds at "
					"most %d Cidr",
					R53_XML_CIDR_MAX);
		if (x->cidrs == NULL) {
			x->cidrs = calloc(R53_XML_CIDR_MAX, sizeof(char *));
			if (x->cidrs == NULL)
				return Q53_ENOMEM;
		}
		x->cidrs[x->n] = text(c, &nomem);
		if (nomem)
			return Q53_ENOMEM;
		x->n++;
	}
	return 0;
}

int r53_xml_change_cidr_collection(const uint8_t *body, size_t len,
				   struct r53_cidr_changes *out, char *err,
				   size_t errlen)
{
	xmlDocPtr doc;
	bool nomem = false;

	memset(out, 0, sizeof(*out));
	int rv =
	    parse(body, len, "ChangeCidrCollectionRequest", &doc, err, errlen);
	if (rv != 0)
		return rv;
	xmlNodePtr top = xmlDocGetRootElement(doc);
	xmlNodePtr ver = child(top, "CollectionVersion");
	if (ver != NULL) {
		char *v = text(ver, &nomem), *end = NULL;
		errno = 0;
		unsigned long long k = v != NULL && v[0] >= '0' && v[0] <= '9'
					   ? strtoull(v, &end, 10)
					   : 0;
		if (v != NULL &&
		    (end == NULL || *end != '\0' || k == 0 || errno != 0))
			rv = q53_fail(err, errlen, Q53_EINVAL,
				      "InvalidInput: CollectionVersion must "
				      "be a positive number");
		out->version = k;
		free(v);
	}
	xmlNodePtr changes = child(top, "Changes");
	if (rv == 0 && changes == NULL)
		rv = q53_fail(err, errlen, Q53_EINVAL,
			      "InvalidInput: ChangeCidrCollectionRequest "
			      "needs Changes");
	for (xmlNodePtr c = changes != NULL ? changes->children : NULL;
	     rv == 0 && c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    xmlStrcmp(c->name, BAD_CAST "member") != 0)
			continue;
		if (out->n == R53_XML_CIDR_MAX) {
			rv = q53_fail(err, errlen, Q53_EINVAL,
				      "InvalidInput: Changes holds at most "
				      "%d changes",
				      R53_XML_CIDR_MAX);
			break;
		}
		if (out->v == NULL) {
			out->v = calloc(R53_XML_CIDR_MAX, sizeof(*out->v));
			if (out->v == NULL) {
				rv = Q53_ENOMEM;
				break;
			}
		}
		struct r53_cidr_change *x = &out->v[out->n++];
		x->action = text(child(c, "Action"), &nomem);
		x->location = text(child(c, "LocationName"), &nomem);
		if (nomem) {
			rv = Q53_ENOMEM;
			break;
		}
		if (x->action == NULL || x->location == NULL ||
		    child(c, "CidrList") == NULL) {
			rv = q53_fail(err, errlen, Q53_EINVAL,
				      "InvalidInput: change %zu needs "
				      "LocationName, Action and CidrList",
				      out->n - 1);
			break;
		}
		rv = cidr_list(child(c, "CidrList"), x, err, errlen);
	}
	xmlFreeDoc(doc);
	if (rv == Q53_ENOMEM || nomem)
		return q53_fail(err, errlen, Q53_ENOMEM,
				"InternalError: out of memory");
	return rv;
}
