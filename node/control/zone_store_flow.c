/* Traffic policies and their instances in the zone store (see
 * zone_store_flow.h). Small tables, sorted, searched linearly where they
 * are scanned anyway. */
#include "node/control/zone_store_flow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/zone_store_impl.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rrtype.h"

struct zone_store_flow {
	struct zone_store_tpolicy **pol; /* by (id, version) */
	size_t npol, cappol;
	struct zone_store_tinstance **inst; /* by id */
	size_t ninst, capinst;
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s != NULL ? s : "");
	char *c = malloc(n + 1);
	if (c != NULL)
		memcpy(c, s != NULL ? s : "", n + 1);
	return c;
}

bool zone_store_flow_id_ok(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;
	if (n == 0 || n > ZONE_STORE_FLOW_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

static struct zone_store_flow *flow_of(struct zone_store *s)
{
	if (s->flow == NULL)
		s->flow = calloc(1, sizeof(*s->flow));
	return s->flow;
}

static void policy_free(struct zone_store_tpolicy *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->comment);
	free(p->document);
	traffic_policy_free(&p->p);
	free(p);
}

void zone_store_flow_free(struct zone_store *s)
{
	struct zone_store_flow *f = s->flow;
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->npol; i++)
		policy_free(f->pol[i]);
	free(f->pol);
	for (size_t i = 0; i < f->ninst; i++)
		free(f->inst[i]);
	free(f->inst);
	free(f);
	s->flow = NULL;
}

/* Where (id, version) is or would go in f->pol. */
static size_t pol_pos(const struct zone_store_flow *f, const char *id,
		      uint32_t version, bool *found)
{
	size_t lo = 0, hi = f->npol;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(f->pol[mid]->id, id);
		if (c == 0)
			c = f->pol[mid]->version < version
				? -1
				: (f->pol[mid]->version > version);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < f->npol && strcmp(f->pol[lo]->id, id) == 0 &&
		 f->pol[lo]->version == version;
	return lo;
}

static uint32_t latest_version(const struct zone_store_flow *f, const char *id)
{
	uint32_t v = 0;
	for (size_t i = 0; f != NULL && i < f->npol; i++) {
		if (strcmp(f->pol[i]->id, id) == 0 && f->pol[i]->version > v)
			v = f->pol[i]->version;
	}
	return v;
}

const struct zone_store_tpolicy *
zone_store_policy_get(const struct zone_store *s, const char *id,
		      uint32_t version)
{
	const struct zone_store_flow *f = s->flow;
	bool found;
	if (f == NULL || id == NULL)
		return NULL;
	if (version == 0)
		version = latest_version(f, id);
	size_t pos = pol_pos(f, id, version, &found);
	return found ? f->pol[pos] : NULL;
}

size_t zone_store_policy_count(const struct zone_store *s)
{
	return s->flow != NULL ? s->flow->npol : 0;
}

const struct zone_store_tpolicy *
zone_store_policy_at(const struct zone_store *s, size_t i)
{
	return i < zone_store_policy_count(s) ? s->flow->pol[i] : NULL;
}

static size_t distinct_policies(const struct zone_store_flow *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->npol; i++)
		n += i == 0 || strcmp(f->pol[i - 1]->id, f->pol[i]->id) != 0;
	return n;
}

static int policy_insert(struct zone_store *s, const char *id, uint32_t version,
			 const char *name, const char *comment,
			 const char *document, struct traffic_policy *p,
			 bool restore, char *err, size_t errlen)
{
	struct zone_store_flow *f = flow_of(s);
	char why[256];
	int rc = 0;
	err[0] = '\0';
	if (f == NULL) {
		rc = fail(err, errlen, Q53_ENOMEM, "out of memory");
		goto fail;
	}
	if (!zone_store_flow_id_ok(id) || version == 0 || name == NULL ||
	    name[0] == '\0' || strlen(name) > TRAFFIC_POLICY_NAME_MAX ||
	    document == NULL || strlen(document) > TRAFFIC_POLICY_DOC_MAX ||
	    (comment != NULL &&
	     strlen(comment) > ZONE_STORE_FLOW_COMMENT_MAX)) {
		rc = fail(err, errlen, Q53_EINVAL,
			  "InvalidInput: a traffic policy needs an id, a "
			  "version, a name of 1 to %d characters and a "
			  "document",
			  TRAFFIC_POLICY_NAME_MAX);
		goto fail;
	}
	if (traffic_policy_check(p, why, sizeof(why)) != 0) {
		rc = fail(err, errlen, Q53_EINVAL,
			  "InvalidTrafficPolicyDocument: %s", why);
		goto fail;
	}
	uint32_t latest = latest_version(f, id);
	bool found;
	pol_pos(f, id, version, &found);
	if (restore && (found || version > ZONE_STORE_FLOW_VERSIONS_MAX)) {
		rc = fail(err, errlen, Q53_EINVAL,
			  "InvalidInput: version %u of %s twice",
			  (unsigned)version, id);
		goto fail;
	}
	if (restore) {
		/* As it was written: a version of any number. */
	} else if (version == 1) {
		for (size_t i = 0; i < f->npol; i++) {
			if (strcmp(f->pol[i]->name, name) == 0 ||
			    strcmp(f->pol[i]->id, id) == 0) {
				rc = fail(err, errlen, Q53_EEXIST,
					  "TrafficPolicyAlreadyExists: a "
					  "traffic policy named %s already "
					  "exists",
					  name);
				goto fail;
			}
		}
		if (distinct_policies(f) >= ZONE_STORE_FLOW_POLICIES_MAX) {
			rc = fail(err, errlen, Q53_ELIMIT,
				  "TooManyTrafficPolicies: at most %d traffic "
				  "policies",
				  ZONE_STORE_FLOW_POLICIES_MAX);
			goto fail;
		}
	} else {
		if (latest == 0) {
			rc = fail(err, errlen, Q53_ENOENT,
				  "NoSuchTrafficPolicy: no traffic policy "
				  "found with ID %s",
				  id);
			goto fail;
		}
		if (version != latest + 1) {
			rc = fail(err, errlen, Q53_EINVAL,
				  "InvalidInput: version %u of traffic policy "
				  "%s cannot follow version %u",
				  (unsigned)version, id, (unsigned)latest);
			goto fail;
		}
		if (version > ZONE_STORE_FLOW_VERSIONS_MAX) {
			rc = fail(err, errlen, Q53_ELIMIT,
				  "TooManyTrafficPolicyVersionsForCurrentPolicy"
				  ": traffic policy %s has %d versions",
				  id, ZONE_STORE_FLOW_VERSIONS_MAX);
			goto fail;
		}
	}
	if (f->npol == f->cappol) {
		size_t cap = f->cappol ? f->cappol * 2 : 8;
		struct zone_store_tpolicy **v =
		    realloc(f->pol, cap * sizeof(*v));
		if (v == NULL) {
			rc = fail(err, errlen, Q53_ENOMEM, "out of memory");
			goto fail;
		}
		f->pol = v;
		f->cappol = cap;
	}
	struct zone_store_tpolicy *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		rc = fail(err, errlen, Q53_ENOMEM, "out of memory");
		goto fail;
	}
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->version = version;
	/* A new version keeps the policy's name. */
	const struct zone_store_tpolicy *prev =
	    latest > 0 ? zone_store_policy_get(s, id, latest) : NULL;
	t->name = dup_str(prev != NULL ? prev->name : name);
	t->comment = dup_str(comment);
	t->document = dup_str(document);
	if (t->name == NULL || t->comment == NULL || t->document == NULL) {
		policy_free(t);
		rc = fail(err, errlen, Q53_ENOMEM, "out of memory");
		goto fail;
	}
	t->p = *p;
	memset(p, 0, sizeof(*p));
	size_t pos = pol_pos(f, id, version, &found);
	memmove(&f->pol[pos + 1], &f->pol[pos],
		(f->npol - pos) * sizeof(*f->pol));
	f->pol[pos] = t;
	f->npol++;
	return 0;
fail:
	traffic_policy_free(p);
	return rc;
}

int zone_store_policy_create(struct zone_store *s, const char *id,
			     uint32_t version, const char *name,
			     const char *comment, const char *document,
			     struct traffic_policy *p, char *err, size_t errlen)
{
	return policy_insert(s, id, version, name, comment, document, p, false,
			     err, errlen);
}

int zone_store_policy_restore(struct zone_store *s, const char *id,
			      uint32_t version, const char *name,
			      const char *comment, const char *document,
			      struct traffic_policy *p, char *err,
			      size_t errlen)
{
	return policy_insert(s, id, version, name, comment, document, p, true,
			     err, errlen);
}

static int no_such_policy(const char *id, uint32_t version, char *err,
			  size_t errlen)
{
	return fail(err, errlen, Q53_ENOENT,
		    "NoSuchTrafficPolicy: no traffic policy found with ID %s "
		    "and version %u",
		    id, (unsigned)version);
}

int zone_store_policy_comment(struct zone_store *s, const char *id,
			      uint32_t version, const char *comment, char *err,
			      size_t errlen)
{
	err[0] = '\0';
	struct zone_store_tpolicy *t =
	    (struct zone_store_tpolicy *)zone_store_policy_get(s, id, version);
	if (t == NULL || version == 0)
		return no_such_policy(id, version, err, errlen);
	if (comment != NULL && strlen(comment) > ZONE_STORE_FLOW_COMMENT_MAX)
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: a comment has at most %d characters",
			    ZONE_STORE_FLOW_COMMENT_MAX);
	char *c = dup_str(comment);
	if (c == NULL)
		return fail(err, errlen, Q53_ENOMEM, "out of memory");
	free(t->comment);
	t->comment = c;
	return 0;
}

int zone_store_policy_delete(struct zone_store *s, const char *id,
			     uint32_t version, char *err, size_t errlen)
{
	struct zone_store_flow *f = s->flow;
	bool found = false;
	err[0] = '\0';
	size_t pos = f != NULL && id != NULL && version > 0
			 ? pol_pos(f, id, version, &found)
			 : 0;
	if (!found)
		return no_such_policy(id != NULL ? id : "", version, err,
				      errlen);
	for (size_t i = 0; i < f->ninst; i++) {
		if (strcmp(f->inst[i]->policy_id, id) == 0 &&
		    f->inst[i]->policy_version == version)
			return fail(err, errlen, Q53_EINVAL,
				    "TrafficPolicyInUse: version %u of "
				    "traffic policy %s is used by traffic "
				    "policy instance %s",
				    (unsigned)version, id, f->inst[i]->id);
	}
	policy_free(f->pol[pos]);
	memmove(&f->pol[pos], &f->pol[pos + 1],
		(f->npol - pos - 1) * sizeof(*f->pol));
	f->npol--;
	return 0;
}

/* --- instances --- */

static size_t inst_pos(const struct zone_store_flow *f, const char *id,
		       bool *found)
{
	size_t lo = 0, hi = f->ninst;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(f->inst[mid]->id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < f->ninst && strcmp(f->inst[lo]->id, id) == 0;
	return lo;
}

const struct zone_store_tinstance *
zone_store_instance_get(const struct zone_store *s, const char *id)
{
	bool found;
	if (s->flow == NULL || id == NULL)
		return NULL;
	size_t pos = inst_pos(s->flow, id, &found);
	return found ? s->flow->inst[pos] : NULL;
}

size_t zone_store_instance_count(const struct zone_store *s)
{
	return s->flow != NULL ? s->flow->ninst : 0;
}

const struct zone_store_tinstance *
zone_store_instance_at(const struct zone_store *s, size_t i)
{
	return i < zone_store_instance_count(s) ? s->flow->inst[i] : NULL;
}

bool zone_store_flow_uses_cidr(const struct zone_store *s, const char *zone_id,
			       const char *id, const char *location)
{
	for (size_t i = 0; s->flow != NULL && i < s->flow->ninst; i++) {
		const struct zone_store_tinstance *t = s->flow->inst[i];
		if (strcmp(t->zone_id, zone_id) != 0)
			continue;
		const struct zone_store_tpolicy *tp =
		    zone_store_policy_get(s, t->policy_id, t->policy_version);
		for (size_t r = 0; tp != NULL && r < tp->p.nrules; r++) {
			const struct traffic_rule *ru = &tp->p.rules[r];
			for (size_t k = 0;
			     ru->type == TRAFFIC_RULE_CIDR && k < ru->nitems;
			     k++) {
				const struct traffic_item *it = &ru->items[k];
				if (strcmp(it->cidr_collection, id) == 0 &&
				    (location == NULL ||
				     strcmp(it->cidr_location, location) == 0))
					return true;
			}
		}
	}
	return false;
}

const struct zone_store_tinstance *
zone_store_instance_find(const struct zone_store *s, const char *zone_id,
			 const uint8_t *name, size_t name_len, uint16_t type)
{
	for (size_t i = 0; s->flow != NULL && i < s->flow->ninst; i++) {
		const struct zone_store_tinstance *t = s->flow->inst[i];
		if (t->type == type && t->name_len == name_len &&
		    memcmp(t->name, name, name_len) == 0 &&
		    strcmp(t->zone_id, zone_id) == 0)
			return t;
	}
	return NULL;
}

bool zone_store_impl_has_instance(const struct zone_store *s,
				  const char *zone_id, const uint8_t *name,
				  size_t len, uint16_t type)
{
	for (size_t i = 0; s->flow != NULL && i < s->flow->ninst; i++) {
		const struct zone_store_tinstance *t = s->flow->inst[i];
		if (strcmp(t->zone_id, zone_id) == 0 &&
		    (name == NULL || (t->type == type && t->name_len == len &&
				      memcmp(t->name, name, len) == 0)))
			return true;
	}
	return false;
}

/* The zone's answers at name change: the next incremental build redoes
 * it (the serial does not move: instances are not record sets). */
static void touch(struct zone_store *s, const char *zone_id,
		  const uint8_t *name)
{
	struct zone_store_zone *z = zone_store_impl_find(s, zone_id);
	if (z == NULL)
		return;
	zone_store_track_name(z, name);
	zone_store_track_commit(z);
}

/* Whether zone z holds a record set of (name, type). */
static bool has_sets(const struct zone_store_zone *z, const uint8_t *name,
		     uint16_t type)
{
	size_t end;
	return zone_store_impl_find_group(&z->sets, name, type, &end) != end;
}

int zone_store_instance_create(struct zone_store *s, const char *id,
			       const char *zone_id, const uint8_t *name,
			       uint32_t ttl, const char *policy_id,
			       uint32_t version, char *err, size_t errlen)
{
	struct zone_store_flow *f = flow_of(s);
	uint8_t lname[DNAME_MAXLEN];
	err[0] = '\0';
	if (f == NULL)
		return fail(err, errlen, Q53_ENOMEM, "out of memory");
	size_t len = name != NULL ? dname_wire_len(name, DNAME_MAXLEN) : 0;
	if (!zone_store_flow_id_ok(id) || len == 0 ||
	    ttl > ZONE_STORE_FLOW_TTL_MAX)
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: a traffic policy instance needs an "
			    "id, a name and a TTL of 0 to %u",
			    ZONE_STORE_FLOW_TTL_MAX);
	dname_lower_copy(lname, name, len);
	const struct zone_store_zone *z = zone_store_impl_find(s, zone_id);
	if (z == NULL)
		return fail(err, errlen, Q53_ENOENT,
			    "NoSuchHostedZone: no hosted zone found with ID: "
			    "%s",
			    zone_id);
	const struct zone_store_tpolicy *p =
	    version > 0 ? zone_store_policy_get(s, policy_id, version) : NULL;
	if (p == NULL)
		return no_such_policy(policy_id, version, err, errlen);
	if (!dname_is_sub(lname, len, z->origin, z->origin_len))
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: the name is not in hosted zone %s",
			    z->name);
	if (zone_store_instance_find(s, zone_id, lname, len, p->p.type) != NULL)
		return fail(err, errlen, Q53_EEXIST,
			    "TrafficPolicyInstanceAlreadyExists: a traffic "
			    "policy instance already has that name and type");
	if (has_sets(z, lname, p->p.type))
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: the name already holds record sets "
			    "of the traffic policy's type");
	/* CNAME exclusivity, as for record sets. */
	size_t end, at = zone_store_impl_lower_bound(z, lname);
	bool other =
	    at < zone_store_sets_count(&z->sets) &&
	    zone_store_sets_at(&z->sets, at)->owner_len == len &&
	    memcmp(zone_store_sets_at(&z->sets, at)->owner, lname, len) == 0;
	if ((p->p.type == RRTYPE_CNAME &&
	     (other ||
	      zone_store_impl_has_instance(s, z->id, lname, len, 0))) ||
	    zone_store_impl_find_group(&z->sets, lname, RRTYPE_CNAME, &end) !=
		end ||
	    zone_store_impl_has_instance(s, z->id, lname, len, RRTYPE_CNAME) ||
	    (len == z->origin_len && p->p.type == RRTYPE_CNAME))
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: a CNAME cannot share its name with "
			    "other data");
	bool found;
	size_t pos = inst_pos(f, id, &found);
	if (found)
		return fail(err, errlen, Q53_EEXIST,
			    "TrafficPolicyInstanceAlreadyExists: instance %s "
			    "exists",
			    id);
	if (f->ninst >= ZONE_STORE_FLOW_INSTANCES_MAX)
		return fail(err, errlen, Q53_ELIMIT,
			    "TooManyTrafficPolicyInstances: at most %d",
			    ZONE_STORE_FLOW_INSTANCES_MAX);
	if (f->ninst == f->capinst) {
		size_t cap = f->capinst ? f->capinst * 2 : 8;
		struct zone_store_tinstance **v =
		    realloc(f->inst, cap * sizeof(*v));
		if (v == NULL)
			return fail(err, errlen, Q53_ENOMEM, "out of memory");
		f->inst = v;
		f->capinst = cap;
	}
	struct zone_store_tinstance *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return fail(err, errlen, Q53_ENOMEM, "out of memory");
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->zone_id, sizeof(t->zone_id), "%s", z->id);
	memcpy(t->name, lname, len);
	t->name_len = (uint8_t)len;
	t->ttl = ttl;
	snprintf(t->policy_id, sizeof(t->policy_id), "%s", p->id);
	t->policy_version = version;
	t->type = p->p.type;
	memmove(&f->inst[pos + 1], &f->inst[pos],
		(f->ninst - pos) * sizeof(*f->inst));
	f->inst[pos] = t;
	f->ninst++;
	touch(s, t->zone_id, t->name);
	return 0;
}

static int no_such_instance(const char *id, char *err, size_t errlen)
{
	return fail(err, errlen, Q53_ENOENT,
		    "NoSuchTrafficPolicyInstance: no traffic policy instance "
		    "found with ID %s",
		    id);
}

int zone_store_instance_update(struct zone_store *s, const char *id,
			       uint32_t ttl, const char *policy_id,
			       uint32_t version, char *err, size_t errlen)
{
	err[0] = '\0';
	struct zone_store_tinstance *t =
	    (struct zone_store_tinstance *)zone_store_instance_get(s, id);
	if (t == NULL)
		return no_such_instance(id != NULL ? id : "", err, errlen);
	if (ttl > ZONE_STORE_FLOW_TTL_MAX)
		return fail(err, errlen, Q53_EINVAL,
			    "InvalidInput: TTL must be 0 to %u",
			    ZONE_STORE_FLOW_TTL_MAX);
	const struct zone_store_tpolicy *p =
	    version > 0 ? zone_store_policy_get(s, policy_id, version) : NULL;
	if (p == NULL)
		return no_such_policy(policy_id, version, err, errlen);
	if (p->p.type != t->type)
		return fail(err, errlen, Q53_EINVAL,
			    "ConflictingTypes: the traffic policy's record "
			    "type differs from the instance's");
	t->ttl = ttl;
	snprintf(t->policy_id, sizeof(t->policy_id), "%s", p->id);
	t->policy_version = version;
	touch(s, t->zone_id, t->name);
	return 0;
}

int zone_store_instance_delete(struct zone_store *s, const char *id, char *err,
			       size_t errlen)
{
	struct zone_store_flow *f = s->flow;
	bool found = false;
	err[0] = '\0';
	size_t pos = f != NULL && id != NULL ? inst_pos(f, id, &found) : 0;
	if (!found)
		return no_such_instance(id != NULL ? id : "", err, errlen);
	struct zone_store_tinstance *t = f->inst[pos];
	touch(s, t->zone_id, t->name);
	free(t);
	memmove(&f->inst[pos], &f->inst[pos + 1],
		(f->ninst - pos - 1) * sizeof(*f->inst));
	f->ninst--;
	return 0;
}
