/* DESIGN: no thread of its own. The DNS workers (threads) only enqueue a
 * transfer request under the inbox lock and uv_async_send; everything else
 * (reading the FSM, TSIG, packing, writing the socket, NOTIFY over UDP)
 * happens on the loop thread that owns the FSM, so the answer is the FSM
 * at one applied index without any lock on it. Packing a large zone holds
 * the loop for its length (about 1 s per million records). */
#include "node/runtime/xfr_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/common/errcode.h"
#include "node/control/control_fsm.h"
#include "node/control/dyn_update.h"
#include "node/control/xfr_config.h"
#include "node/control/zone_store.h"
#include "node/dns/xfr_out.h"
#include "node/dnsdata/dname.h"

#define XFR_QUEUE_MAX	    64	  /* requests waiting for the loop */
#define XFR_CONNS_MAX	    64	  /* transfers being written */
#define XFR_CONN_TIMEOUT_MS 30000 /* idle or stalled: dropped */
#define XFR_NOTIFY_TRIES    5
#define XFR_NOTIFY_FIRST_MS 1000
#define XFR_TICK_MS	    100
#define XFR_PENDING_MAX	    1024
#define XFR_HISTORY_MAX	    64 /* IXFR differences kept per zone */
/* Larger zones keep no history (IXFR answered with the whole zone): the
 * difference is computed over the whole zone on every change, and the
 * version kept is a copy of it. */
#define XFR_TRACK_MAX_SETS 100000

#define xs_log(s, ...) cluster_log((s)->ops.node_id, __VA_ARGS__)

/* --- the inbox: the one thing the DNS workers touch --- */

struct xfr_job {
	struct xfr_job *next;
	int fd;
	bool tcp;
	struct sockaddr_storage peer;
	size_t len;
	uint8_t query[];
};

static struct {
	pthread_mutex_t lock;
	struct xfr_server *srv; /* NULL: nobody takes transfers */
	bool configured;	/* some zone has transfers (the loop's view) */
	struct xfr_job *head, *tail;
	unsigned n;
} inbox = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* --- IXFR history: the differences between versions this node held --- */

/* One record of a zone version, flat: owner, type, ttl, rdata. */
struct xfr_rr {
	const uint8_t *owner;
	uint16_t owner_len;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};

/* A zone version as a sorted array of records, all bytes in one block. */
struct xfr_version {
	uint32_t serial;
	struct xfr_rr soa;
	struct xfr_rr *rr; /* without the SOA, sorted by xfr_rr_cmp */
	size_t n;
	uint8_t *bytes;
};

/* The records removed and added from serial `from` to `to`. */
struct xfr_diff {
	uint32_t from, to;
	struct xfr_version from_soa, to_soa; /* only .soa and .bytes used */
	struct xfr_version del, add;
};

struct xfr_zone_state {
	char zone_id[XFR_ZONE_ID_MAX + 1];
	bool notified_known; /* leader: a serial was announced */
	uint32_t notified;
	bool have_version; /* IXFR: the version last seen */
	struct xfr_version cur;
	struct xfr_diff *diffs[XFR_HISTORY_MAX]; /* oldest first */
	size_t n_diffs;
	bool seen; /* marked during a scan */
};

struct xfr_pending {
	char zone_id[XFR_ZONE_ID_MAX + 1];
	struct xfr_secondary to;
	uint32_t serial;
	uint16_t id;
	unsigned tries;
	uint64_t next_ms;
};

/* A TCP connection handed over by a DNS worker: its requests (transfers,
 * signed queries) are answered here until it closes or idles. */
struct xfr_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct xfr_server *srv;
	struct xfr_conn *prev, *next;
	struct sockaddr_storage peer;
	uint8_t *rbuf;
	size_t rlen, rcap;
	unsigned writes;  /* in flight */
	bool eof;	  /* the peer is done: close once written */
	unsigned closing; /* handles still to close */
};

struct xfr_write {
	uv_write_t req;
	struct xfr_conn *c;
	uint8_t *buf;
};

struct xfr_server {
	struct cluster_ops ops;
	uv_loop_t *loop;
	uv_async_t async;
	uv_timer_t tick;
	uv_udp_t udp4, udp6;
	bool udp4_ok, udp6_ok;
	struct xfr_conn *conns;
	unsigned nconns;
	struct xfr_zone_state **zones;
	size_t nzones;
	struct xfr_pending *pending;
	size_t npending;
	uint16_t next_id;
	uint64_t applied_seen;
	unsigned conns_closing; /* closed, their handles not yet */
	struct command_payload update_payload; /* serve -> its caller */
	bool closing;
	unsigned close_pending;
	void (*close_cb)(void *);
	void *close_data;
};

static uint64_t now_ms(const struct xfr_server *s)
{
	return uv_now(s->loop);
}

/* RFC 1982: whether a is newer than b. */
static bool serial_newer(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

/* --- the zone's records, as a transfer carries them --- */

static int rr_cmp(const struct xfr_rr *a, const struct xfr_rr *b)
{
	int c;
	size_t n;

	if (a->owner_len != b->owner_len || a->owner != b->owner) {
		n = a->owner_len < b->owner_len ? a->owner_len : b->owner_len;
		c = memcmp(a->owner, b->owner, n);
		if (c != 0)
			return c;
		if (a->owner_len != b->owner_len)
			return a->owner_len < b->owner_len ? -1 : 1;
	}
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	c = n > 0 ? memcmp(a->rdata, b->rdata, n) : 0;
	if (c != 0)
		return c;
	if (a->rdlen != b->rdlen)
		return a->rdlen < b->rdlen ? -1 : 1;
	return 0;
}

static int rr_qcmp(const void *a, const void *b)
{
	return rr_cmp(a, b);
}

static void version_free(struct xfr_version *v)
{
	free(v->rr);
	free(v->bytes);
	memset(v, 0, sizeof(*v));
}

static void diff_free(struct xfr_diff *d)
{
	if (d == NULL)
		return;
	version_free(&d->from_soa);
	version_free(&d->to_soa);
	version_free(&d->del);
	version_free(&d->add);
	free(d);
}

/* Copies rr[0..n) (and soa when given) with their bytes into one block. */
static int version_copy(struct xfr_version *out, const struct xfr_rr *soa,
			const struct xfr_rr *rr, size_t n)
{
	size_t bytes = 0;
	uint8_t *p;

	memset(out, 0, sizeof(*out));
	if (soa != NULL)
		bytes += soa->owner_len + soa->rdlen;
	for (size_t i = 0; i < n; i++)
		bytes += rr[i].owner_len + rr[i].rdlen;
	out->bytes = malloc(bytes + 1);
	out->rr = malloc((n + 1) * sizeof(*out->rr));
	if (out->bytes == NULL || out->rr == NULL) {
		version_free(out);
		return Q53_ENOMEM;
	}
	p = out->bytes;
#define XFR_COPY(dst, src)                                                     \
	do {                                                                   \
		(dst) = (src);                                                 \
		memcpy(p, (src).owner, (src).owner_len);                       \
		(dst).owner = p;                                               \
		p += (src).owner_len;                                          \
		if ((src).rdlen > 0)                                           \
			memcpy(p, (src).rdata, (src).rdlen);                   \
		(dst).rdata = p;                                               \
		p += (src).rdlen;                                              \
	} while (0)
	if (soa != NULL)
		XFR_COPY(out->soa, *soa);
	for (size_t i = 0; i < n; i++)
		XFR_COPY(out->rr[i], rr[i]);
#undef XFR_COPY
	out->n = n;
	return 0;
}

/* The zone's records (borrowing the store's bytes until it changes): the
 * SOA apart, every other record set's records sorted, routing groups'
 * members merged into one set of distinct records (a secondary holds
 * plain DNS), alias sets left out (their targets' answers are built at
 * query time). */
static int zone_records(const struct zone_store_info *info, struct xfr_rr *soa,
			struct xfr_rr **out, size_t *nout)
{
	const struct zone_store_rrset **sets;
	struct xfr_rr *rr;
	size_t total = 0, n = 0, w;
	bool have_soa = false;

	*out = NULL;
	*nout = 0;
	sets = malloc((info->nrrsets + 1) * sizeof(*sets));
	if (sets == NULL)
		return Q53_ENOMEM;
	zone_store_info_copy_rrsets(info, sets);
	for (size_t i = 0; i < info->nrrsets; i++)
		total += sets[i]->count;
	rr = malloc((total + 1) * sizeof(*rr));
	if (rr == NULL) {
		free(sets);
		return Q53_ENOMEM;
	}
	for (size_t i = 0; i < info->nrrsets; i++) {
		const struct zone_store_rrset *s = sets[i];
		if (zone_store_rrset_routing(s) & ZONE_STORE_ALIAS)
			continue;
		for (uint16_t k = 0; k < s->count; k++) {
			struct xfr_rr r = {
			    .owner = s->owner,
			    .owner_len = s->owner_len,
			    .type = s->type,
			    .ttl = s->ttl,
			    .rdata = s->rdata[k].data,
			    .rdlen = s->rdata[k].len,
			};
			if (s->type == 6 &&
			    dname_equal(s->owner, info->origin)) {
				if (!have_soa)
					*soa = r;
				have_soa = true;
				continue;
			}
			rr[n++] = r;
		}
	}
	free(sets);
	qsort(rr, n, sizeof(*rr), rr_qcmp);
	/* Distinct records; a set's TTL is its first record's. */
	w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w > 0 && rr_cmp(&rr[w - 1], &rr[i]) == 0)
			continue;
		if (w > 0 && rr[w - 1].type == rr[i].type &&
		    rr[w - 1].owner_len == rr[i].owner_len &&
		    memcmp(rr[w - 1].owner, rr[i].owner, rr[i].owner_len) == 0)
			rr[i].ttl = rr[w - 1].ttl;
		rr[w++] = rr[i];
	}
	if (!have_soa) {
		free(rr);
		return Q53_ENOENT;
	}
	*out = rr;
	*nout = w;
	return 0;
}

/* The apex SOA alone: the apex sorts first (canonical order), so a few
 * sets are looked at, not the zone. */
static int zone_soa(const struct zone_store_info *info, struct xfr_rr *soa)
{
	for (size_t i = 0; i < info->nrrsets; i++) {
		const struct zone_store_rrset *s =
		    zone_store_info_rrset(info, i);
		if (!dname_equal(s->owner, info->origin))
			break;
		if (s->type == 6 && s->count >= 1) {
			*soa = (struct xfr_rr){
			    .owner = s->owner,
			    .owner_len = s->owner_len,
			    .type = 6,
			    .ttl = s->ttl,
			    .rdata = s->rdata[0].data,
			    .rdlen = s->rdata[0].len,
			};
			return 0;
		}
	}
	return Q53_ENOENT;
}

/* --- zones: NOTIFY state and IXFR history --- */

static struct xfr_zone_state *zone_state(struct xfr_server *s,
					 const char *zone_id, bool create)
{
	struct xfr_zone_state **v, *z;

	for (size_t i = 0; i < s->nzones; i++)
		if (strcmp(s->zones[i]->zone_id, zone_id) == 0)
			return s->zones[i];
	if (!create)
		return NULL;
	z = calloc(1, sizeof(*z));
	v = realloc(s->zones, (s->nzones + 1) * sizeof(*v));
	if (z == NULL || v == NULL) {
		free(z);
		if (v != NULL)
			s->zones = v;
		return NULL;
	}
	s->zones = v;
	snprintf(z->zone_id, sizeof(z->zone_id), "%s", zone_id);
	s->zones[s->nzones++] = z;
	return z;
}

static void zone_state_free(struct xfr_zone_state *z)
{
	version_free(&z->cur);
	for (size_t i = 0; i < z->n_diffs; i++)
		diff_free(z->diffs[i]);
	free(z);
}

/* Records the difference between the version kept and info's. */
static void zone_track(struct xfr_server *s, struct xfr_zone_state *z,
		       const struct zone_store_info *info)
{
	struct xfr_rr soa, *rr = NULL, *del = NULL, *add = NULL;
	struct xfr_version next;
	struct xfr_diff *d = NULL;
	size_t n = 0, nd = 0, na = 0, i = 0, k = 0;

	if (z->have_version && z->cur.serial == info->serial)
		return;
	if (info->nrrsets > XFR_TRACK_MAX_SETS) {
		for (size_t j = 0; j < z->n_diffs; j++)
			diff_free(z->diffs[j]);
		z->n_diffs = 0;
		version_free(&z->cur);
		z->have_version = false;
		return;
	}
	if (zone_records(info, &soa, &rr, &n) != 0)
		return;
	if (version_copy(&next, &soa, rr, n) != 0)
		goto out;
	next.serial = info->serial;
	if (!z->have_version)
		goto keep;
	/* Both sorted: one merge pass. */
	del = malloc((z->cur.n + 1) * sizeof(*del));
	add = malloc((n + 1) * sizeof(*add));
	d = calloc(1, sizeof(*d));
	if (del == NULL || add == NULL || d == NULL)
		goto drop_history;
	while (i < z->cur.n || k < n) {
		int c = i == z->cur.n ? 1
			: k == n      ? -1
				      : rr_cmp(&z->cur.rr[i], &rr[k]);
		if (c == 0 && z->cur.rr[i].ttl != rr[k].ttl) {
			del[nd++] = z->cur.rr[i++];
			add[na++] = rr[k++];
		} else if (c == 0) {
			i++;
			k++;
		} else if (c < 0)
			del[nd++] = z->cur.rr[i++];
		else
			add[na++] = rr[k++];
	}
	d->from = z->cur.serial;
	d->to = info->serial;
	if (version_copy(&d->from_soa, &z->cur.soa, NULL, 0) != 0 ||
	    version_copy(&d->to_soa, &soa, NULL, 0) != 0 ||
	    version_copy(&d->del, NULL, del, nd) != 0 ||
	    version_copy(&d->add, NULL, add, na) != 0)
		goto drop_history;
	if (z->n_diffs == XFR_HISTORY_MAX) {
		diff_free(z->diffs[0]);
		memmove(z->diffs, z->diffs + 1,
			(XFR_HISTORY_MAX - 1) * sizeof(z->diffs[0]));
		z->n_diffs--;
	}
	z->diffs[z->n_diffs++] = d;
	d = NULL;
	goto keep;
drop_history:
	/* Out of memory: no IXFR across this change (AXFR instead). */
	for (size_t j = 0; j < z->n_diffs; j++)
		diff_free(z->diffs[j]);
	z->n_diffs = 0;
keep:
	version_free(&z->cur);
	z->cur = next;
	z->have_version = true;
out:
	(void)s;
	diff_free(d);
	free(del);
	free(add);
	free(rr);
}

/* --- NOTIFY --- */

static int notify_send(struct xfr_server *s, struct xfr_pending *p)
{
	const struct zone_store *st = control_fsm_zone_store(s->ops.fsm);
	const struct xfr_config *c =
	    xfr_table_get(control_fsm_xfr(s->ops.fsm), p->zone_id);
	struct zone_store_info info;
	struct sockaddr_storage to;
	uint8_t buf[1024];
	size_t len;
	uv_buf_t b;

	if (c == NULL || zone_store_get(st, p->zone_id, &info) != 0)
		return Q53_ENOENT;
	len = xfr_notify_build(buf, sizeof(buf), p->id, info.origin,
			       dname_wire_len(info.origin, 255), info.serial,
			       c->keys[0].name, c->keys[0].secret,
			       c->keys[0].secret_len);
	if (len == 0)
		return Q53_ENOMEM;
	memset(&to, 0, sizeof(to));
	if (p->to.family == 4) {
		struct sockaddr_in *a = (struct sockaddr_in *)&to;
		if (!s->udp4_ok)
			return Q53_ENOENT;
		a->sin_family = AF_INET;
		a->sin_port = htons(p->to.port);
		memcpy(&a->sin_addr, p->to.addr, 4);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to;
		if (!s->udp6_ok)
			return Q53_ENOENT;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(p->to.port);
		memcpy(&a->sin6_addr, p->to.addr, 16);
	}
	b = uv_buf_init((char *)buf, (unsigned)len);
	/* UDP: uv_udp_try_send sends now or not at all (retried later). */
	(void)uv_udp_try_send(p->to.family == 4 ? &s->udp4 : &s->udp6, &b, 1,
			      (const struct sockaddr *)&to);
	return 0;
}

static void notify_queue(struct xfr_server *s, const struct xfr_config *c,
			 uint32_t serial)
{
	for (size_t i = 0; i < c->n_sec; i++) {
		struct xfr_pending *p = NULL;
		for (size_t k = 0; k < s->npending; k++)
			if (strcmp(s->pending[k].zone_id, c->zone_id) == 0 &&
			    memcmp(&s->pending[k].to, &c->sec[i],
				   sizeof(c->sec[i])) == 0)
				p = &s->pending[k];
		if (p == NULL) {
			if (s->npending == XFR_PENDING_MAX)
				return;
			p = &s->pending[s->npending++];
			memset(p, 0, sizeof(*p));
			snprintf(p->zone_id, sizeof(p->zone_id), "%s",
				 c->zone_id);
			p->to = c->sec[i];
		}
		p->serial = serial;
		p->tries = 0;
		p->id = s->next_id++;
		p->next_ms = now_ms(s);
	}
}

static void notify_drop(struct xfr_server *s, size_t k)
{
	s->pending[k] = s->pending[--s->npending];
}

static void notify_run(struct xfr_server *s)
{
	uint64_t now = now_ms(s);

	for (size_t k = 0; k < s->npending;) {
		struct xfr_pending *p = &s->pending[k];
		char to[64];
		if (p->next_ms > now) {
			k++;
			continue;
		}
		if (p->tries == XFR_NOTIFY_TRIES ||
		    notify_send(s, p) == Q53_ENOENT) {
			xfr_secondary_format(&p->to, to, sizeof(to));
			if (p->tries == XFR_NOTIFY_TRIES)
				xs_log(s,
				       "NOTIFY %s serial %u to %s: no answer "
				       "after %u tries",
				       p->zone_id, p->serial, to, p->tries);
			notify_drop(s, k);
			continue;
		}
		p->next_ms = now + ((uint64_t)XFR_NOTIFY_FIRST_MS << p->tries);
		p->tries++;
		k++;
	}
}

static void on_udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char space[2048]; /* the loop thread's, one read at a time */

	(void)h;
	(void)hint;
	*buf = uv_buf_init(space, sizeof(space));
}

static void on_udp_read(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
			const struct sockaddr *from, unsigned flags)
{
	struct xfr_server *s = h->data;
	struct xfr_secondary who;

	(void)flags;
	if (nread <= 0 || from == NULL)
		return;
	memset(&who, 0, sizeof(who));
	if (from->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)from;
		who.family = 4;
		memcpy(who.addr, &a->sin_addr, 4);
		who.port = ntohs(a->sin_port);
	} else if (from->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a =
		    (const struct sockaddr_in6 *)from;
		who.family = 6;
		memcpy(who.addr, &a->sin6_addr, 16);
		who.port = ntohs(a->sin6_port);
	} else
		return;
	for (size_t k = 0; k < s->npending; k++) {
		unsigned rcode;
		if (memcmp(&s->pending[k].to, &who, sizeof(who)) != 0 ||
		    !xfr_notify_is_answer((const uint8_t *)buf->base,
					  (size_t)nread, s->pending[k].id,
					  &rcode))
			continue;
		if (rcode != 0) {
			char to[64];
			xfr_secondary_format(&who, to, sizeof(to));
			xs_log(s, "NOTIFY %s to %s: rcode %u",
			       s->pending[k].zone_id, to, rcode);
		}
		notify_drop(s, k);
		return;
	}
}

/* Every configured zone: track its version (IXFR), and on the leader
 * queue NOTIFY when its serial moved since the last one announced. */
static void scan_zones(struct xfr_server *s)
{
	const struct xfr_table *t = control_fsm_xfr(s->ops.fsm);
	const struct zone_store *st = control_fsm_zone_store(s->ops.fsm);
	uint64_t served = cluster_served(&s->ops);
	bool leader = cluster_is_leader(&s->ops);

	for (size_t i = 0; i < s->nzones; i++)
		s->zones[i]->seen = false;
	pthread_mutex_lock(&inbox.lock);
	inbox.configured = t->n > 0;
	pthread_mutex_unlock(&inbox.lock);
	for (size_t i = 0; i < t->n; i++) {
		const struct xfr_config *c = t->v[i];
		struct zone_store_info info;
		struct xfr_zone_state *z;

		if (zone_store_get(st, c->zone_id, &info) != 0)
			continue;
		z = zone_state(s, c->zone_id, true);
		if (z == NULL)
			continue;
		z->seen = true;
		zone_track(s, z, &info);
		/* Announce only what this node's published view answers
		 * (a secondary's SOA query comes through the view). */
		if (!leader) {
			z->notified_known = false;
			continue;
		}
		if (served < control_fsm_applied(s->ops.fsm))
			continue;
		if (z->notified_known && z->notified == info.serial)
			continue;
		z->notified = info.serial;
		z->notified_known = true;
		notify_queue(s, c, info.serial);
	}
	for (size_t i = 0; i < s->nzones;) {
		if (s->zones[i]->seen) {
			i++;
			continue;
		}
		zone_state_free(s->zones[i]);
		s->zones[i] = s->zones[--s->nzones];
	}
}

/* --- transfers and signed queries --- */

static void srv_part_done(struct xfr_server *s);

static void conn_handle_closed(uv_handle_t *h)
{
	struct xfr_conn *c = h->data;
	struct xfr_server *s = c->srv;

	if (--c->closing != 0)
		return;
	free(c->rbuf);
	free(c);
	s->conns_closing--;
	if (s->closing)
		srv_part_done(s);
}

static void conn_close(struct xfr_conn *c)
{
	struct xfr_server *s = c->srv;

	if (c->closing != 0)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->nconns--;
	s->conns_closing++;
	c->closing = 2;
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static void conn_timeout(uv_timer_t *t)
{
	conn_close(t->data);
}

static void conn_written(uv_write_t *req, int status)
{
	struct xfr_write *w = req->data;
	struct xfr_conn *c = w->c;

	free(w->buf);
	free(w);
	c->writes--;
	if (c->closing != 0)
		return;
	if (status != 0 || (c->eof && c->writes == 0)) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, conn_timeout, XFR_CONN_TIMEOUT_MS, 0);
}

/* Writes x's stream (taken from x) on c. */
static void conn_write(struct xfr_conn *c, struct xfr_out *x)
{
	struct xfr_write *w = malloc(sizeof(*w));
	uv_buf_t b;

	if (w == NULL) {
		conn_close(c);
		return;
	}
	w->c = c;
	w->buf = x->stream;
	w->req.data = w;
	b = uv_buf_init((char *)x->stream, (unsigned)x->stream_len);
	x->stream = NULL;
	c->writes++;
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, conn_written) !=
	    0) {
		c->writes--;
		free(w->buf);
		free(w);
		conn_close(c);
	}
}

static bool peer_of(const struct sockaddr_storage *ss, uint8_t *family,
		    uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET) {
		*family = 4;
		memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		*family = 6;
		memcpy(addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		return true;
	}
	return false;
}

static int emit(struct xfr_out *x, const struct xfr_rr *r)
{
	return xfr_out_rr(x, r->owner, r->owner_len, r->type, r->ttl, r->rdata,
			  r->rdlen);
}

/* IXFR from `from`: the chain of differences from it to the current
 * version, if this node has it (*done: the answer is in x). */
static int ixfr_from_history(struct xfr_server *s, const char *zone_id,
			     uint32_t from, uint32_t cur, struct xfr_out *x,
			     bool *done)
{
	struct xfr_zone_state *z = zone_state(s, zone_id, false);
	size_t first = SIZE_MAX;
	int rv = 0;

	*done = false;
	if (z == NULL || !z->have_version || z->cur.serial != cur ||
	    z->n_diffs == 0)
		return 0;
	for (size_t i = 0; i < z->n_diffs; i++)
		if (z->diffs[i]->from == from) {
			first = i;
			break;
		}
	if (first == SIZE_MAX)
		return 0;
	/* The chain is contiguous: each diff starts where the last ended. */
	for (size_t i = first + 1; i < z->n_diffs; i++)
		if (z->diffs[i]->from != z->diffs[i - 1]->to)
			return 0;
	if (z->diffs[z->n_diffs - 1]->to != cur)
		return 0;
	rv = emit(x, &z->cur.soa);
	for (size_t i = first; rv == 0 && i < z->n_diffs; i++) {
		const struct xfr_diff *d = z->diffs[i];
		rv = emit(x, &d->from_soa.soa);
		for (size_t k = 0; rv == 0 && k < d->del.n; k++)
			rv = emit(x, &d->del.rr[k]);
		if (rv == 0)
			rv = emit(x, &d->to_soa.soa);
		for (size_t k = 0; rv == 0 && k < d->add.n; k++)
			rv = emit(x, &d->add.rr[k]);
	}
	if (rv == 0)
		rv = emit(x, &z->cur.soa);
	*done = rv == 0;
	return rv;
}

/* The zone holding qname (the longest origin that is a suffix), false:
 * none. */
static bool zone_of(const struct zone_store *st, const uint8_t *qname,
		    size_t qlen, struct zone_store_info *out)
{
	size_t best = 0;
	bool found = false;

	for (size_t i = 0; i < zone_store_count(st); i++) {
		struct zone_store_info info;
		size_t olen;
		if (zone_store_get_at(st, i, &info) != 0)
			continue;
		olen = dname_wire_len(info.origin, 255);
		if (olen > qlen || olen <= best ||
		    !dname_equal(info.origin, qname + (qlen - olen)))
			continue;
		/* qname + (qlen - olen) must start at a label boundary. */
		size_t off = 0;
		while (off < qlen - olen)
			off += 1 + (size_t)qname[off];
		if (off != qlen - olen)
			continue;
		*out = info;
		best = olen;
		found = true;
	}
	return found;
}

/* --- RFC 2136 UPDATE (the leader proposes it; apply checks it) --- */

#define XFR_UPDATE_RRS_MAX 4096
#define XFR_LATER	   1 /* serve: the answer follows the commit */

/* An UPDATE waiting for its commit: where its answer goes. Touches no
 * xfr_server (the raft host may answer after the server closed). */
struct xfr_update {
	struct xfr_out x;
	int fd; /* a dup of the worker's UDP socket */
	struct sockaddr_storage peer;
	uint64_t node_id;
};

static void update_answer(struct xfr_update *u, uint8_t rcode)
{
	xfr_out_set_rcode(&u->x, rcode);
	if (xfr_out_finish(&u->x) == 0 && u->x.stream_len > 2)
		(void)sendto(u->fd, u->x.stream + 2, u->x.stream_len - 2,
			     MSG_DONTWAIT | MSG_NOSIGNAL,
			     (const struct sockaddr *)&u->peer,
			     u->peer.ss_family == AF_INET
				 ? sizeof(struct sockaddr_in)
				 : sizeof(struct sockaddr_in6));
	close(u->fd);
	xfr_out_close(&u->x);
	free(u);
}

static void update_done(struct proposal *p, int status,
			const struct q53_fsm_log_result *res)
{
	struct xfr_update *u = p->arg;
	struct command_result cr;
	uint8_t rcode = DYN_RCODE_SERVFAIL;

	if (status == 0 && (res->status == Q53_FSM_LOG_APPLIED ||
			    res->status == Q53_FSM_LOG_DUPLICATE)) {
		if (res->code == 0)
			rcode = 0;
		else if (command_result_decode(res->bytes, res->len, &cr) ==
			 0) {
			rcode = (uint8_t)dyn_rcode_of(cr.error_name);
			cluster_log(u->node_id, "UPDATE refused: %s: %s",
				    cr.error_name ? cr.error_name : "",
				    cr.error_message ? cr.error_message : "");
			command_result_free(&cr);
		}
	}
	update_answer(u, rcode);
}

/* Builds the UPDATE's command into *p (the leader only). 0 or an rcode
 * to answer at once. */
static int update_command(struct xfr_out *x, const struct zone_store_info *info,
			  const struct xfr_tsig_key *key,
			  struct command_payload *p)
{
	struct xfr_update_rr *pre = NULL, *upd = NULL;
	struct command_dyn_rr *cp = NULL, *cu = NULL;
	size_t np, nu;
	char change_id[IDS_LEN + 1];
	int rv = DYN_RCODE_SERVFAIL;

	pre = malloc(XFR_UPDATE_RRS_MAX * sizeof(*pre));
	upd = malloc(XFR_UPDATE_RRS_MAX * sizeof(*upd));
	cp = malloc(XFR_UPDATE_RRS_MAX * sizeof(*cp));
	cu = malloc(XFR_UPDATE_RRS_MAX * sizeof(*cu));
	if (pre == NULL || upd == NULL || cp == NULL || cu == NULL)
		goto out;
	np = xfr_out_update_rrs(x, true, pre, XFR_UPDATE_RRS_MAX);
	nu = xfr_out_update_rrs(x, false, upd, XFR_UPDATE_RRS_MAX);
	if (np > XFR_UPDATE_RRS_MAX || nu > XFR_UPDATE_RRS_MAX) {
		rv = DYN_RCODE_REFUSED;
		goto out;
	}
	for (size_t i = 0; i < np + nu; i++) {
		const struct xfr_update_rr *r = i < np ? &pre[i] : &upd[i - np];
		struct command_dyn_rr *d = i < np ? &cp[i] : &cu[i - np];
		*d = (struct command_dyn_rr){
		    .owner = r->owner,
		    .owner_len = r->owner_len,
		    .type = r->type,
		    .rclass = r->rclass,
		    .ttl = r->ttl,
		    .rdata = r->rdata,
		    .rdlen = r->rdlen,
		};
	}
	ids_new('C', change_id);
	struct command_dynamic_update cmd = {
	    .zone_id = info->id,
	    .change_id = change_id,
	    .key_name = key->name,
	    .prereqs = cp,
	    .n_prereqs = np,
	    .updates = cu,
	    .n_updates = nu,
	    .time_ms = ids_wall_ms(),
	};
	rv = command_encode_dynamic_update(&cmd, p) == 0 ? 0
							 : DYN_RCODE_SERVFAIL;
out:
	free(pre);
	free(upd);
	free(cp);
	free(cu);
	return rv;
}

/* An UPDATE checked so far (zone, key): refused here, or XFR_LATER with
 * its command in s->update_payload for the caller to propose. */
static int update_propose(struct xfr_server *s, struct xfr_out *x,
			  const struct zone_store_info *info,
			  const struct xfr_config *c,
			  const struct xfr_tsig_key *key, const char *who)
{
	int rv;

	if (!dname_equal(info->origin, x->qname)) {
		xfr_out_set_rcode(x, 9 /* NOTAUTH: not a zone's apex */);
		return xfr_out_finish(x);
	}
	if (!c->allow_update) {
		xs_log(s, "UPDATE of %s from %s refused: not allowed",
		       info->name, who);
		xfr_out_set_rcode(x, DYN_RCODE_REFUSED);
		return xfr_out_finish(x);
	}
	if (!cluster_is_leader(&s->ops)) {
		/* RFC 2136 6: a secondary forwards; send it to the leader. */
		xs_log(s, "UPDATE of %s from %s refused: not the leader",
		       info->name, who);
		xfr_out_set_rcode(x, DYN_RCODE_REFUSED);
		return xfr_out_finish(x);
	}
	rv = update_command(x, info, key, &s->update_payload);
	if (rv != 0) {
		xfr_out_set_rcode(x, (uint8_t)rv);
		return xfr_out_finish(x);
	}
	return XFR_LATER;
}

/* Answers one handed-over request into x: 0 when x holds the answer to
 * send, XFR_LATER for an UPDATE to propose (s->update_payload), else
 * nothing is sent. */
static int serve(struct xfr_server *s, const uint8_t *query, size_t len,
		 const struct sockaddr_storage *peer, bool tcp,
		 struct xfr_out *x)
{
	const struct zone_store *st = control_fsm_zone_store(s->ops.fsm);
	const struct xfr_table *t = control_fsm_xfr(s->ops.fsm);
	const struct xfr_config *c = NULL;
	const struct xfr_tsig_key *key;
	struct zone_store_info info;
	struct xfr_rr soa, *rr = NULL;
	uint8_t family = 0, addr[16];
	char who[64];
	size_t n = 0;
	bool found, done = false;
	bool transfer;
	uint64_t t0 = uv_hrtime();
	int rv;

	rv = xfr_out_open(x, query, len);
	if (rv != 0)
		return rv;
	transfer = x->qtype == XFR_QTYPE_AXFR || x->qtype == XFR_QTYPE_IXFR;
	found = zone_of(st, x->qname, x->qname_len, &info);
	if (found)
		c = xfr_table_get(t, info.id);
	who[0] = '\0';
	if (peer_of(peer, &family, addr))
		inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, who,
			  sizeof(who));
	else
		family = 0; /* no address: allowed nothing */
	if (!found || (transfer && !dname_equal(info.origin, x->qname)))
		return xfr_out_refuse(x, 9 /* NOTAUTH */, 0);
	/* A transfer: only to a configured secondary. A signed query: any
	 * holder of the key (secondaries' SOA checks). */
	if (c == NULL || (transfer && !xfr_config_allows(c, family, addr))) {
		if (transfer)
			xs_log(s,
			       "transfer of %s from %s refused: not a "
			       "secondary",
			       info.name, who);
		return xfr_out_refuse(x, 5 /* REFUSED */, 0);
	}
	key = x->has_tsig ? xfr_config_key(c, x->tsig_name) : NULL;
	if (key == NULL) {
		xs_log(s, "%s of %s from %s refused: %s",
		       transfer ? "transfer" : "query", info.name, who,
		       x->has_tsig ? "unknown TSIG key" : "no TSIG");
		return xfr_out_refuse(x, 9, x->has_tsig ? 17 /* BADKEY */ : 0);
	}
	rv = xfr_out_verify(x, key->secret, key->secret_len);
	if (rv > 0) {
		xs_log(s, "%s of %s from %s refused: TSIG error %d",
		       transfer ? "transfer" : "query", info.name, who, rv);
		return xfr_out_refuse(x, 9, (uint16_t)rv);
	}
	if (rv != 0)
		return rv;
	if (x->opcode == 5)
		return update_propose(s, x, &info, c, key, who);
	if (!transfer) {
		/* A signed query: the apex SOA, else REFUSED (signed). */
		if (x->qtype != 6 || !dname_equal(info.origin, x->qname)) {
			xfr_out_set_rcode(x, 5);
			return xfr_out_finish(x);
		}
		rv = zone_soa(&info, &soa);
		if (rv == 0)
			rv = emit(x, &soa);
		goto finish;
	}
	if (!tcp && x->qtype == XFR_QTYPE_AXFR) {
		/* AXFR is TCP only (RFC 5936 4.2). */
		xfr_out_set_rcode(x, 5);
		return xfr_out_finish(x);
	}
	if (x->qtype == XFR_QTYPE_IXFR &&
	    (!tcp ||
	     (x->has_serial && !serial_newer(info.serial, x->serial)))) {
		/* Up to date (or newer), or over UDP: the current SOA alone
		 * (RFC 1995 2: over UDP, it tells the client to use TCP). */
		rv = zone_soa(&info, &soa);
		if (rv == 0)
			rv = emit(x, &soa);
		goto finish;
	}
	if (x->qtype == XFR_QTYPE_IXFR && x->has_serial) {
		/* The history follows the loop turn after applies; bring it
		 * to this version first. */
		struct xfr_zone_state *z = zone_state(s, info.id, true);
		if (z != NULL)
			zone_track(s, z, &info);
		rv = ixfr_from_history(s, info.id, x->serial, info.serial, x,
				       &done);
		if (rv != 0 || done)
			goto finish;
	}
	/* AXFR, or IXFR without the history: the whole zone (RFC 1995 4). */
	rv = zone_records(&info, &soa, &rr, &n);
	if (rv == 0)
		rv = emit(x, &soa);
	for (size_t i = 0; rv == 0 && i < n; i++)
		rv = emit(x, &rr[i]);
	if (rv == 0)
		rv = emit(x, &soa);
finish:
	free(rr);
	if (rv == 0)
		rv = xfr_out_finish(x);
	if (rv == 0 && transfer)
		xs_log(s,
		       "%s of %s serial %u (from %u) to %s: %u records, %u "
		       "messages, packed in %.1f ms",
		       x->qtype == XFR_QTYPE_AXFR ? "AXFR"
		       : done			  ? "IXFR"
						  : "IXFR (whole zone)",
		       info.name, info.serial, x->has_serial ? x->serial : 0,
		       who, x->records, x->messages,
		       (double)(uv_hrtime() - t0) / 1e6);
	if (rv != 0)
		xs_log(s, "answer to %s failed: %s", who, q53_strerror(rv));
	return rv;
}

/* Answers query on c (a TCP connection). */
static void conn_query(struct xfr_conn *c, const uint8_t *q, size_t len)
{
	struct xfr_out x;

	int rv = serve(c->srv, q, len, &c->peer, true, &x);

	if (rv == XFR_LATER) {
		/* UPDATE over TCP is not taken (UDP only, nsupdate's way). */
		command_payload_clear(&c->srv->update_payload);
		xfr_out_set_rcode(&x, 4 /* NOTIMP */);
		rv = xfr_out_finish(&x);
	}
	if (rv == 0 && x.stream_len > 0)
		conn_write(c, &x);
	xfr_out_close(&x);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct xfr_conn *c = h->data;

	(void)hint;
	if (c->rcap - c->rlen < 4096) {
		size_t cap = c->rcap < 4096 ? 8192 : c->rcap * 2;
		uint8_t *p = cap <= 2 * 65538 ? realloc(c->rbuf, cap) : NULL;
		if (p == NULL) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->rbuf = p;
		c->rcap = cap;
	}
	*buf = uv_buf_init((char *)c->rbuf + c->rlen,
			   (unsigned)(c->rcap - c->rlen));
}

static void conn_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
	struct xfr_conn *c = h->data;
	size_t off = 0;

	(void)buf;
	if (nread < 0) {
		uv_read_stop(h);
		c->eof = true;
		if (c->writes == 0)
			conn_close(c);
		return;
	}
	c->rlen += (size_t)nread;
	uv_timer_start(&c->timer, conn_timeout, XFR_CONN_TIMEOUT_MS, 0);
	while (c->closing == 0 && c->rlen - off >= 2) {
		size_t qlen = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];
		if (c->rlen - off - 2 < qlen)
			break;
		conn_query(c, c->rbuf + off + 2, qlen);
		off += 2 + qlen;
	}
	if (c->closing != 0)
		return;
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

/* A handed-over TCP connection (fd taken: closed in every case), its
 * first request in j. */
static void conn_start(struct xfr_server *s, struct xfr_job *j)
{
	struct xfr_conn *c;

	if (s->nconns >= XFR_CONNS_MAX)
		goto err;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto err;
	if (uv_tcp_init(s->loop, &c->tcp) != 0) {
		free(c);
		goto err;
	}
	c->srv = s;
	c->peer = j->peer;
	c->tcp.data = c;
	uv_timer_init(s->loop, &c->timer);
	c->timer.data = c;
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	if (uv_tcp_open(&c->tcp, j->fd) != 0) {
		close(j->fd);
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, conn_timeout, XFR_CONN_TIMEOUT_MS, 0);
	conn_query(c, j->query, j->len);
	if (c->closing == 0 &&
	    uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read) != 0)
		conn_close(c);
	return;
err:
	close(j->fd);
}

/* A signed query over UDP: answered from the worker's socket (a dup). */
static void udp_answer(struct xfr_server *s, struct xfr_job *j)
{
	struct xfr_out x;
	int rv = serve(s, j->query, j->len, &j->peer, false, &x);

	if (rv == XFR_LATER) {
		struct xfr_update *u = malloc(sizeof(*u));
		if (u == NULL) {
			command_payload_clear(&s->update_payload);
			xfr_out_set_rcode(&x, DYN_RCODE_SERVFAIL);
			rv = xfr_out_finish(&x);
		} else {
			u->x = x; /* moved */
			u->fd = j->fd;
			u->peer = j->peer;
			u->node_id = s->ops.node_id;
			if (cluster_propose(&s->ops, &s->update_payload, NULL,
					    update_done, u, NULL) != 0)
				update_answer(u, DYN_RCODE_SERVFAIL);
			return; /* update_done answers */
		}
	}
	if (rv == 0 && x.stream_len > 2)
		(void)sendto(j->fd, x.stream + 2, x.stream_len - 2,
			     MSG_DONTWAIT | MSG_NOSIGNAL,
			     (const struct sockaddr *)&j->peer,
			     j->peer.ss_family == AF_INET
				 ? sizeof(struct sockaddr_in)
				 : sizeof(struct sockaddr_in6));
	xfr_out_close(&x);
	close(j->fd);
}

static void on_async(uv_async_t *h)
{
	struct xfr_server *s = h->data;
	struct xfr_job *list;

	pthread_mutex_lock(&inbox.lock);
	list = inbox.head;
	inbox.head = inbox.tail = NULL;
	inbox.n = 0;
	pthread_mutex_unlock(&inbox.lock);
	while (list != NULL) {
		struct xfr_job *j = list;
		list = j->next;
		if (s->closing || cluster_closing(&s->ops))
			close(j->fd);
		else if (j->tcp)
			conn_start(s, j);
		else
			udp_answer(s, j);
		free(j);
	}
}

/* A DNS worker's hand-off (any thread). */
static bool take(void *arg, int fd, const struct sockaddr_storage *peer,
		 const uint8_t *query, size_t len, bool tcp)
{
	struct xfr_job *j;
	bool taken = false;

	(void)arg;
	j = malloc(sizeof(*j) + len);
	if (j == NULL)
		return false;
	j->next = NULL;
	j->fd = fd;
	j->tcp = tcp;
	j->peer = *peer;
	j->len = len;
	memcpy(j->query, query, len);
	pthread_mutex_lock(&inbox.lock);
	/* Without any zone configured there is nothing for the loop to do
	 * (query.c refuses as before); a flood waits in no queue. */
	if (inbox.srv != NULL && inbox.configured && inbox.n < XFR_QUEUE_MAX) {
		if (inbox.tail != NULL)
			inbox.tail->next = j;
		else
			inbox.head = j;
		inbox.tail = j;
		inbox.n++;
		uv_async_send(&inbox.srv->async);
		taken = true;
	}
	pthread_mutex_unlock(&inbox.lock);
	if (!taken)
		free(j);
	return taken;
}

static void on_tick(uv_timer_t *t)
{
	struct xfr_server *s = t->data;

	if (cluster_closing(&s->ops))
		return;
	notify_run(s);
}

/* --- lifecycle --- */

/* One family's NOTIFY socket bound to host (NULL: any address). */
static bool udp_one(struct xfr_server *s, uv_udp_t *u, int family,
		    const char *host)
{
	struct sockaddr_storage ss;
	int rv;

	if (family == AF_INET)
		rv = uv_ip4_addr(host != NULL ? host : "0.0.0.0", 0,
				 (struct sockaddr_in *)&ss);
	else
		rv = uv_ip6_addr(host != NULL ? host : "::", 0,
				 (struct sockaddr_in6 *)&ss);
	if (rv != 0 || uv_udp_init(s->loop, u) != 0)
		return false;
	u->data = s;
	if (uv_udp_bind(u, (struct sockaddr *)&ss,
			family == AF_INET6 ? UV_UDP_IPV6ONLY : 0) != 0 ||
	    uv_udp_recv_start(u, on_udp_alloc, on_udp_read) != 0) {
		uv_close((uv_handle_t *)u, NULL);
		return false;
	}
	return true;
}

/* NOTIFY leaves from the DNS address's host, which secondaries know as
 * their primary. */
static void udp_open(struct xfr_server *s, const char *dns_address)
{
	char host[64] = "";
	const char *end;
	struct in6_addr a6;
	struct in_addr a4;

	if (dns_address != NULL && dns_address[0] == '[' &&
	    (end = strchr(dns_address, ']')) != NULL &&
	    (size_t)(end - dns_address) < sizeof(host))
		memcpy(host, dns_address + 1, (size_t)(end - dns_address - 1));
	else if (dns_address != NULL &&
		 (end = strrchr(dns_address, ':')) != NULL &&
		 (size_t)(end - dns_address) < sizeof(host))
		memcpy(host, dns_address, (size_t)(end - dns_address));
	bool v4 = inet_pton(AF_INET, host, &a4) == 1 &&
		  a4.s_addr != htonl(INADDR_ANY);
	bool v6 = inet_pton(AF_INET6, host, &a6) == 1 &&
		  !IN6_IS_ADDR_UNSPECIFIED(&a6);
	s->udp4_ok = udp_one(s, &s->udp4, AF_INET, v4 ? host : NULL);
	s->udp6_ok = udp_one(s, &s->udp6, AF_INET6, v6 ? host : NULL);
}

int xfr_server_init(struct xfr_server **out, uv_loop_t *loop,
		    const struct xfr_server_config *cfg)
{
	struct xfr_server *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL)
		return Q53_ENOMEM;
	s->pending = calloc(XFR_PENDING_MAX, sizeof(*s->pending));
	if (s->pending == NULL) {
		free(s);
		return Q53_ENOMEM;
	}
	s->ops = cfg->ops;
	s->loop = loop;
	s->next_id = (uint16_t)(uv_hrtime() ^ (uv_hrtime() >> 17));
	uv_async_init(loop, &s->async, on_async);
	s->async.data = s;
	uv_timer_init(loop, &s->tick);
	s->tick.data = s;
	uv_timer_start(&s->tick, on_tick, XFR_TICK_MS, XFR_TICK_MS);
	udp_open(s, cfg->dns_address);
	pthread_mutex_lock(&inbox.lock);
	inbox.srv = s;
	pthread_mutex_unlock(&inbox.lock);
	dns_xfr_set_handler(take, NULL);
	*out = s;
	return 0;
}

void xfr_server_after_apply(struct xfr_server *s)
{
	uint64_t applied = control_fsm_applied(s->ops.fsm);
	uint64_t served = cluster_served(&s->ops);

	/* Cheap when nothing moved: one comparison per turn. The leader
	 * also waits for the view to catch up before it announces. */
	if (applied == s->applied_seen && served >= applied)
		return;
	if (served >= applied)
		s->applied_seen = applied;
	scan_zones(s);
	notify_run(s);
}

static void srv_part_done(struct xfr_server *s)
{
	if (--s->close_pending == 0) {
		void (*cb)(void *) = s->close_cb;
		void *data = s->close_data;
		free(s->pending);
		free(s);
		if (cb != NULL)
			cb(data);
	}
}

static void srv_handle_closed(uv_handle_t *h)
{
	srv_part_done(h->data);
}

void xfr_server_close(struct xfr_server *s, void (*cb)(void *data), void *data)
{
	struct xfr_job *list;

	pthread_mutex_lock(&inbox.lock);
	inbox.srv = NULL;
	inbox.configured = false;
	list = inbox.head;
	inbox.head = inbox.tail = NULL;
	inbox.n = 0;
	pthread_mutex_unlock(&inbox.lock);
	while (list != NULL) {
		struct xfr_job *j = list;
		list = j->next;
		close(j->fd);
		free(j);
	}
	for (size_t i = 0; i < s->nzones; i++)
		zone_state_free(s->zones[i]);
	free(s->zones);
	s->zones = NULL;
	s->nzones = 0;
	s->close_cb = cb;
	s->close_data = data;
	s->closing = true;
	while (s->conns != NULL)
		conn_close(s->conns);
	s->close_pending =
	    2 + s->conns_closing + (s->udp4_ok ? 1 : 0) + (s->udp6_ok ? 1 : 0);
	uv_close((uv_handle_t *)&s->async, srv_handle_closed);
	uv_close((uv_handle_t *)&s->tick, srv_handle_closed);
	if (s->udp4_ok)
		uv_close((uv_handle_t *)&s->udp4, srv_handle_closed);
	if (s->udp6_ok)
		uv_close((uv_handle_t *)&s->udp6, srv_handle_closed);
}
