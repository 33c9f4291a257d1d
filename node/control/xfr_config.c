#include "node/control/xfr_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "proto/command.pb-c.h"

void xfr_table_init(struct xfr_table *t)
{
	memset(t, 0, sizeof(*t));
}

void xfr_table_free(struct xfr_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		raft_free(t->v[i]);
	raft_free(t->v);
	memset(t, 0, sizeof(*t));
}

static int sec_cmp(const void *a, const void *b)
{
	const struct xfr_secondary *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, 16);
	if (c != 0)
		return c;
	return x->port < y->port ? -1 : x->port > y->port;
}

static int key_cmp(const void *a, const void *b)
{
	const struct xfr_tsig_key *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* A key name: 1..253 characters of letters, digits, '-', '_' and dots,
 * no empty label, lowercased and given its final dot in place. */
static bool key_name_fix(char *name)
{
	size_t len = strnlen(name, XFR_KEY_NAME_MAX + 1);
	size_t label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];
		if (ch >= 'A' && ch <= 'Z')
			name[i] = (char)(ch - 'A' + 'a');
		else if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		} else if (!((ch >= 'a' && ch <= 'z') ||
			     (ch >= '0' && ch <= '9') || ch == '-' ||
			     ch == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	if (name[len - 1] != '.') {
		name[len] = '.';
		name[len + 1] = '\0';
	}
	return true;
}

int xfr_config_check(struct xfr_config *c, char *err, size_t errlen)
{
	if (strnlen(c->zone_id, sizeof(c->zone_id)) == 0 ||
	    strnlen(c->zone_id, sizeof(c->zone_id)) == sizeof(c->zone_id)) {
		snprintf(err, errlen, "InvalidInput: no zone id");
		return Q53_EINVAL;
	}
	if (c->n_sec > XFR_SECONDARIES_MAX || c->n_keys > XFR_KEYS_MAX) {
		snprintf(err, errlen,
			 "InvalidInput: at most %d secondaries and %d keys",
			 XFR_SECONDARIES_MAX, XFR_KEYS_MAX);
		return Q53_EINVAL;
	}
	if ((c->n_sec > 0 || c->allow_update) && c->n_keys == 0) {
		snprintf(err, errlen,
			 "InvalidInput: transfers and updates need a TSIG key "
			 "(none and no secondary: off)");
		return Q53_EINVAL;
	}
	if (c->n_keys > 0 && c->n_sec == 0 && !c->allow_update) {
		snprintf(err, errlen,
			 "InvalidInput: keys without a secondary or "
			 "--allow-update are of no use");
		return Q53_EINVAL;
	}
	if (c->n_sec == 0 && c->n_keys == 0)
		c->allow_update = false;
	for (size_t i = 0; i < c->n_sec; i++) {
		struct xfr_secondary *s = &c->sec[i];
		if ((s->family != 4 && s->family != 6) || s->port == 0) {
			snprintf(err, errlen,
				 "InvalidInput: secondary %zu: bad address or "
				 "port",
				 i);
			return Q53_EINVAL;
		}
		if (s->family == 4)
			memset(s->addr + 4, 0, 12);
	}
	for (size_t i = 0; i < c->n_keys; i++) {
		struct xfr_tsig_key *k = &c->keys[i];
		k->name[XFR_KEY_NAME_MAX - 1] = '\0';
		if (!key_name_fix(k->name)) {
			snprintf(err, errlen,
				 "InvalidInput: key %zu: a TSIG key name is a "
				 "domain name of letters, digits, '-', '_'",
				 i);
			return Q53_EINVAL;
		}
		k->algorithm[sizeof(k->algorithm) - 1] = '\0';
		if (k->algorithm[0] == '\0')
			snprintf(k->algorithm, sizeof(k->algorithm), "%s",
				 XFR_ALG_SHA256);
		if (strcasecmp(k->algorithm, XFR_ALG_SHA256) != 0) {
			snprintf(err, errlen,
				 "InvalidInput: key %.64s: algorithm must be "
				 "hmac-sha256",
				 k->name);
			return Q53_EINVAL;
		}
		snprintf(k->algorithm, sizeof(k->algorithm), "%s",
			 XFR_ALG_SHA256);
		if (k->secret_len < XFR_SECRET_MIN ||
		    k->secret_len > XFR_SECRET_MAX) {
			snprintf(err, errlen,
				 "InvalidInput: key %.64s: the secret must be "
				 "%d to %d bytes",
				 k->name, XFR_SECRET_MIN, XFR_SECRET_MAX);
			return Q53_EINVAL;
		}
	}
	qsort(c->sec, c->n_sec, sizeof(c->sec[0]), sec_cmp);
	qsort(c->keys, c->n_keys, sizeof(c->keys[0]), key_cmp);
	for (size_t i = 1; i < c->n_sec; i++)
		if (sec_cmp(&c->sec[i - 1], &c->sec[i]) == 0) {
			snprintf(err, errlen,
				 "InvalidInput: a secondary is given twice");
			return Q53_EINVAL;
		}
	for (size_t i = 1; i < c->n_keys; i++)
		if (key_cmp(&c->keys[i - 1], &c->keys[i]) == 0) {
			snprintf(err, errlen,
				 "InvalidInput: key %.64s is given twice",
				 c->keys[i].name);
			return Q53_EINVAL;
		}
	return 0;
}

/* The position of zone_id, or where it would go (*found false). */
static size_t table_find(const struct xfr_table *t, const char *zone_id,
			 bool *found)
{
	size_t lo = 0, hi = t->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->v[mid]->zone_id, zone_id);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int xfr_table_set(struct xfr_table *t, const struct xfr_config *c, char *err,
		  size_t errlen)
{
	struct xfr_config tmp = *c;
	struct xfr_config *copy;
	bool found;
	size_t i;
	int rv;

	rv = xfr_config_check(&tmp, err, errlen);
	if (rv != 0)
		return rv;
	i = table_find(t, tmp.zone_id, &found);
	if (tmp.n_sec == 0 && tmp.n_keys == 0) {
		if (found) {
			raft_free(t->v[i]);
			memmove(&t->v[i], &t->v[i + 1],
				(t->n - i - 1) * sizeof(t->v[0]));
			t->n--;
		}
		return 0;
	}
	if (found) {
		*t->v[i] = tmp;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap < 4 ? 4 : t->cap * 2;
		struct xfr_config **v = raft_realloc(t->v, cap * sizeof(*v));
		if (v == NULL)
			return Q53_ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	copy = raft_malloc(sizeof(*copy));
	if (copy == NULL)
		return Q53_ENOMEM;
	*copy = tmp;
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(t->v[0]));
	t->v[i] = copy;
	t->n++;
	return 0;
}

void xfr_table_drop(struct xfr_table *t, const char *zone_id)
{
	bool found;
	size_t i = table_find(t, zone_id, &found);

	if (!found)
		return;
	raft_free(t->v[i]);
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(t->v[0]));
	t->n--;
}

const struct xfr_config *xfr_table_get(const struct xfr_table *t,
				       const char *zone_id)
{
	bool found;
	size_t i = table_find(t, zone_id, &found);

	return found ? t->v[i] : NULL;
}

bool xfr_config_allows(const struct xfr_config *c, uint8_t family,
		       const uint8_t *addr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};

	if (family == 6 && memcmp(addr, mapped, 12) == 0) {
		family = 4;
		addr += 12;
	}
	for (size_t i = 0; i < c->n_sec; i++)
		if (c->sec[i].family == family &&
		    memcmp(c->sec[i].addr, addr, family == 4 ? 4 : 16) == 0)
			return true;
	return false;
}

const struct xfr_tsig_key *xfr_config_key(const struct xfr_config *c,
					  const char *name)
{
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < c->n_keys; i++) {
		size_t kl = strlen(c->keys[i].name) - 1;
		if (kl == len && strncasecmp(c->keys[i].name, name, len) == 0)
			return &c->keys[i];
	}
	return NULL;
}

bool xfr_secondary_parse(const char *s, struct xfr_secondary *out)
{
	char host[64];
	const char *port = NULL;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return false;
		hl = (size_t)(end - s - 1);
		if (hl >= sizeof(host))
			return false;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (end[1] == ':')
			port = end + 2;
	} else {
		const char *colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL; /* a bare IPv6 address */
		hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (hl >= sizeof(host))
			return false;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (colon != NULL)
			port = colon + 1;
	}
	if (inet_pton(AF_INET, host, out->addr) == 1)
		out->family = 4;
	else if (inet_pton(AF_INET6, host, out->addr) == 1)
		out->family = 6;
	else
		return false;
	out->port = 53;
	if (port != NULL) {
		char *end;
		unsigned long p = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || p == 0 || p > 65535)
			return false;
		out->port = (uint16_t)p;
	}
	return true;
}

void xfr_secondary_format(const struct xfr_secondary *s, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	inet_ntop(s->family == 4 ? AF_INET : AF_INET6, s->addr, host,
		  sizeof(host));
	snprintf(buf, len, s->family == 4 ? "%s:%u" : "[%s]:%u", host,
		 (unsigned)s->port);
}

int xfr_config_from_pb(const Q53__Command__ZoneTransferConfig *m,
		       struct xfr_config *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (m == NULL || m->n_secondaries > XFR_SECONDARIES_MAX ||
	    m->n_keys > XFR_KEYS_MAX || m->zone_id == NULL ||
	    strlen(m->zone_id) > XFR_ZONE_ID_MAX) {
		snprintf(err, errlen, "InvalidInput: malformed configuration");
		return Q53_EINVAL;
	}
	snprintf(out->zone_id, sizeof(out->zone_id), "%s", m->zone_id);
	for (size_t i = 0; i < m->n_secondaries; i++) {
		const Q53__Command__XfrSecondary *x = m->secondaries[i];
		struct xfr_secondary *s = &out->sec[i];
		if ((x->addr.len != 4 && x->addr.len != 16) ||
		    x->port > 65535) {
			snprintf(err, errlen,
				 "InvalidInput: secondary %zu malformed", i);
			return Q53_EINVAL;
		}
		s->family = x->addr.len == 4 ? 4 : 6;
		memcpy(s->addr, x->addr.data, x->addr.len);
		s->port = (uint16_t)x->port;
	}
	out->n_sec = (uint8_t)m->n_secondaries;
	for (size_t i = 0; i < m->n_keys; i++) {
		const Q53__Command__TsigKey *x = m->keys[i];
		struct xfr_tsig_key *k = &out->keys[i];
		if (x->name == NULL || strlen(x->name) > 253 ||
		    x->algorithm == NULL ||
		    strlen(x->algorithm) >= sizeof(k->algorithm) ||
		    x->secret.len > XFR_SECRET_MAX) {
			snprintf(err, errlen, "InvalidInput: key %zu malformed",
				 i);
			return Q53_EINVAL;
		}
		snprintf(k->name, sizeof(k->name), "%s", x->name);
		snprintf(k->algorithm, sizeof(k->algorithm), "%s",
			 x->algorithm);
		if (x->secret.len > 0)
			memcpy(k->secret, x->secret.data, x->secret.len);
		k->secret_len = (uint8_t)x->secret.len;
	}
	out->n_keys = (uint8_t)m->n_keys;
	out->allow_update = m->allow_update;
	return xfr_config_check(out, err, errlen);
}

int xfr_config_to_pb(const struct xfr_config *c,
		     Q53__Command__ZoneTransferConfig **out)
{
	/* One chunk: the message, its parts and their pointer arrays. */
	struct pb {
		Q53__Command__ZoneTransferConfig m;
		Q53__Command__XfrSecondary sec[XFR_SECONDARIES_MAX];
		Q53__Command__XfrSecondary *secp[XFR_SECONDARIES_MAX];
		Q53__Command__TsigKey keys[XFR_KEYS_MAX];
		Q53__Command__TsigKey *keyp[XFR_KEYS_MAX];
	} *p = raft_malloc(sizeof(*p));

	*out = NULL;
	if (p == NULL)
		return Q53_ENOMEM;
	q53__command__zone_transfer_config__init(&p->m);
	p->m.zone_id = (char *)c->zone_id;
	for (size_t i = 0; i < c->n_sec; i++) {
		q53__command__xfr_secondary__init(&p->sec[i]);
		p->sec[i].addr.data = (uint8_t *)c->sec[i].addr;
		p->sec[i].addr.len = c->sec[i].family == 4 ? 4 : 16;
		p->sec[i].port = c->sec[i].port;
		p->secp[i] = &p->sec[i];
	}
	p->m.secondaries = p->secp;
	p->m.n_secondaries = c->n_sec;
	for (size_t i = 0; i < c->n_keys; i++) {
		q53__command__tsig_key__init(&p->keys[i]);
		p->keys[i].name = (char *)c->keys[i].name;
		p->keys[i].algorithm = (char *)c->keys[i].algorithm;
		p->keys[i].secret.data = (uint8_t *)c->keys[i].secret;
		p->keys[i].secret.len = c->keys[i].secret_len;
		p->keyp[i] = &p->keys[i];
	}
	p->m.keys = p->keyp;
	p->m.n_keys = c->n_keys;
	p->m.allow_update = c->allow_update;
	*out = &p->m;
	return 0;
}

void xfr_config_pb_free(Q53__Command__ZoneTransferConfig *m)
{
	raft_free(m); /* the chunk starts with m */
}
