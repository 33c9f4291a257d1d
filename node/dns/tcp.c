#include "node/dns/tcp.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "node/common/errcode.h"
#include "node/dns/xfr_out.h"
#include "node/dns/dns_stats.h"
#include "node/zone/view.h"

/* First read buffer of a connection; grows to the largest message seen. */
#define DNS_TCP_RBUF_INITIAL 1024
/* Connections accepted per readiness event of a listener. */
#define DNS_TCP_ACCEPT_BATCH 64
/* Closed connections a worker keeps for reuse (~1.3 KiB each). */
#define DNS_TCP_SPARE_MAX 64

int dns_tcp_listen_open(const struct sockaddr *addr, socklen_t addrlen,
			const char **what)
{
	int fd;
	int one = 1;
	int err;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		*what = "socket";
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
		*what = "setsockopt(SO_REUSEPORT)";
		goto err_after_socket;
	}
	/* v6 only, unless the address itself is IPv4-mapped. */
	if (addr->sa_family == AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED(
		&((const struct sockaddr_in6 *)addr)->sin6_addr) &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
		*what = "setsockopt(IPV6_V6ONLY)";
		goto err_after_socket;
	}
	if (bind(fd, addr, addrlen) != 0) {
		*what = "bind";
		goto err_after_socket;
	}
	if (listen(fd, SOMAXCONN) != 0) {
		*what = "listen";
		goto err_after_socket;
	}
	return fd;

err_after_socket:
	err = -errno;
	close(fd);
	return err;
}

/* --- limits --- */

struct dns_tcp_limit_slot {
	uint8_t addr[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
	unsigned count;	  /* 0: free slot */
};

static void dns_tcp_limits_key(const struct sockaddr_storage *peer,
			       uint8_t key[16])
{
	memset(key, 0, 16);
	if (peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)peer;
		memcpy(key, &s6->sin6_addr, 16);
	} else if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)peer;
		key[10] = 0xff;
		key[11] = 0xff;
		memcpy(key + 12, &s4->sin_addr, 4);
	}
}

static size_t dns_tcp_limits_hash(const uint8_t key[16], size_t cap)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (int i = 0; i < 16; i++) {
		h ^= key[i];
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* The slot holding key, or the free slot where it would go. The table is
 * never more than half full (distinct peers <= max_total < cap / 2). */
static size_t dns_tcp_limits_find(const struct dns_tcp_limits *l,
				  const uint8_t key[16])
{
	size_t i = dns_tcp_limits_hash(key, l->cap);

	while (l->slots[i].count != 0 && memcmp(l->slots[i].addr, key, 16) != 0)
		i = (i + 1) & (l->cap - 1);
	return i;
}

int dns_tcp_limits_init(struct dns_tcp_limits *l, unsigned max_total,
			unsigned max_per_client)
{
	memset(l, 0, sizeof(*l));
	if (max_total == 0 || max_per_client == 0 || max_total > (1u << 24))
		return Q53_EINVAL;
	l->max_total = max_total;
	l->max_per_client = max_per_client;
	l->cap = 16;
	while (l->cap <= 2 * (size_t)max_total)
		l->cap *= 2;
	l->slots = calloc(l->cap, sizeof(*l->slots));
	if (l->slots == NULL)
		return Q53_ENOMEM;
	if (pthread_mutex_init(&l->lock, NULL) != 0) {
		free(l->slots);
		l->slots = NULL;
		return Q53_ENOMEM;
	}
	return 0;
}

void dns_tcp_limits_free(struct dns_tcp_limits *l)
{
	if (l->slots == NULL)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l->slots);
	l->slots = NULL;
}

int dns_tcp_limits_acquire(struct dns_tcp_limits *l,
			   const struct sockaddr_storage *peer)
{
	uint8_t key[16];
	size_t i;
	int rc = 0;

	dns_tcp_limits_key(peer, key);
	pthread_mutex_lock(&l->lock);
	i = dns_tcp_limits_find(l, key);
	if (l->total >= l->max_total ||
	    l->slots[i].count >= l->max_per_client) {
		rc = Q53_ELIMIT;
		goto out;
	}
	if (l->slots[i].count == 0)
		memcpy(l->slots[i].addr, key, 16);
	l->slots[i].count++;
	l->total++;
out:
	pthread_mutex_unlock(&l->lock);
	return rc;
}

void dns_tcp_limits_release(struct dns_tcp_limits *l,
			    const struct sockaddr_storage *peer)
{
	uint8_t key[16];
	size_t i, j, home;

	dns_tcp_limits_key(peer, key);
	pthread_mutex_lock(&l->lock);
	i = dns_tcp_limits_find(l, key);
	if (l->slots[i].count == 0)
		goto out; /* not counted: a caller bug, keep the table sane */
	l->total--;
	if (--l->slots[i].count != 0)
		goto out;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	j = i;
	for (;;) {
		j = (j + 1) & (l->cap - 1);
		if (l->slots[j].count == 0)
			break;
		home = dns_tcp_limits_hash(l->slots[j].addr, l->cap);
		/* Move j into the hole at i unless its home lies in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		l->slots[i] = l->slots[j];
		l->slots[j].count = 0;
		i = j;
	}
out:
	pthread_mutex_unlock(&l->lock);
}

/* --- connections --- */

struct dns_tcp_conn {
	enum dns_poll_kind kind; /* DNS_POLL_TCP_CONN; first member */
	int fd;
	uint32_t interest; /* epoll events currently registered */
	bool rd_eof;	   /* the client has shut down its sending side */
	uint64_t deadline; /* close when idle until then (ms) */
	struct dns_tcp_conn *older, *newer;
	struct sockaddr_storage peer;
	uint8_t *rbuf; /* received bytes not yet answered: [0, rlen) */
	size_t rlen, rcap;
	uint8_t *wbuf; /* unsent answer bytes: [woff, wlen); 2 + DNS_MSG_MAX */
	size_t woff, wlen;
};

int dns_tcp_pool_init(struct dns_tcp_pool *p, int epfd,
		      struct dns_tcp_limits *limits, uint64_t idle_timeout_ms,
		      uint16_t udp_payload)
{
	memset(p, 0, sizeof(*p));
	p->epfd = epfd;
	p->limits = limits;
	p->idle_timeout_ms = idle_timeout_ms;
	p->params.udp_payload = udp_payload;
	p->params.tcp = true;
	p->scratch = malloc(2 + (size_t)DNS_MSG_MAX);
	if (p->scratch == NULL)
		return Q53_ENOMEM;
	return 0;
}

static void dns_tcp_unlink(struct dns_tcp_pool *p, struct dns_tcp_conn *c)
{
	if (c->older != NULL)
		c->older->newer = c->newer;
	else
		p->oldest = c->newer;
	if (c->newer != NULL)
		c->newer->older = c->older;
	else
		p->newest = c->older;
	c->older = c->newer = NULL;
}

static void dns_tcp_append(struct dns_tcp_pool *p, struct dns_tcp_conn *c)
{
	c->older = p->newest;
	c->newer = NULL;
	if (p->newest != NULL)
		p->newest->newer = c;
	else
		p->oldest = c;
	p->newest = c;
}

/* The connection did something useful: push its deadline back. */
static void dns_tcp_touch(struct dns_tcp_pool *p, struct dns_tcp_conn *c,
			  uint64_t now_ms)
{
	c->deadline = now_ms + p->idle_timeout_ms;
	if (p->newest != c) {
		dns_tcp_unlink(p, c);
		dns_tcp_append(p, c);
	}
}

static void dns_tcp_conn_close(struct dns_tcp_pool *p, struct dns_tcp_conn *c)
{
	(void)epoll_ctl(p->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	dns_tcp_limits_release(p->limits, &c->peer);
	dns_tcp_unlink(p, c);
	p->count--;
	if (p->stats != NULL)
		dns_stats_add(&p->stats->tcp_closed, 1);
	/* Large buffers are rare: give them back, keep the small ones. */
	free(c->wbuf);
	c->wbuf = NULL;
	if (p->nspare < DNS_TCP_SPARE_MAX && c->rcap == DNS_TCP_RBUF_INITIAL) {
		c->newer = p->spare;
		p->spare = c;
		p->nspare++;
		return;
	}
	free(c->rbuf);
	free(c);
}

/* A connection with an empty read buffer of DNS_TCP_RBUF_INITIAL bytes:
 * reused when one is spare, else allocated. NULL when out of memory. */
static struct dns_tcp_conn *dns_tcp_conn_get(struct dns_tcp_pool *p)
{
	struct dns_tcp_conn *c = p->spare;
	uint8_t *rbuf;

	if (c != NULL) {
		p->spare = c->newer;
		p->nspare--;
		rbuf = c->rbuf;
		memset(c, 0, sizeof(*c));
		c->rbuf = rbuf;
		c->rcap = DNS_TCP_RBUF_INITIAL;
		return c;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->rbuf = malloc(DNS_TCP_RBUF_INITIAL);
	if (c->rbuf == NULL) {
		free(c);
		return NULL;
	}
	c->rcap = DNS_TCP_RBUF_INITIAL;
	return c;
}

/* The way back for a connection that was never registered. */
static void dns_tcp_conn_put(struct dns_tcp_pool *p, struct dns_tcp_conn *c)
{
	if (p->nspare >= DNS_TCP_SPARE_MAX) {
		free(c->rbuf);
		free(c);
		return;
	}
	c->newer = p->spare;
	p->spare = c;
	p->nspare++;
}

void dns_tcp_pool_close(struct dns_tcp_pool *p)
{
	while (p->oldest != NULL)
		dns_tcp_conn_close(p, p->oldest);
	while (p->spare != NULL) {
		struct dns_tcp_conn *c = p->spare;
		p->spare = c->newer;
		free(c->rbuf);
		free(c);
	}
	p->nspare = 0;
	free(p->scratch);
	p->scratch = NULL;
}

void dns_tcp_pool_accept(struct dns_tcp_pool *p, int listen_fd, uint64_t now_ms)
{
	for (int i = 0; i < DNS_TCP_ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof(peer);
		struct epoll_event ev;
		struct dns_tcp_conn *c;
		int one = 1;
		int fd;

		fd = accept4(listen_fd, (struct sockaddr *)&peer, &peerlen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or out of descriptors: retry later */
		}
		if (dns_tcp_limits_acquire(p->limits, &peer) != 0) {
			if (p->stats != NULL)
				dns_stats_add(
				    &p->stats
					 ->dropped[DNS_STATS_DROP_TCP_LIMIT],
				    1);
			goto err_after_accept;
		}
		c = dns_tcp_conn_get(p);
		if (c == NULL)
			goto err_after_acquire;
		c->kind = DNS_POLL_TCP_CONN;
		c->fd = fd;
		c->peer = peer;
		c->interest = EPOLLIN;
		/* Answers go out one per send(): do not let Nagle hold back
		 * the second answer of a pipeline until the first is acked. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
		memset(&ev, 0, sizeof(ev));
		ev.events = c->interest;
		ev.data.ptr = c;
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
			goto err_after_get;
		c->deadline = now_ms + p->idle_timeout_ms;
		dns_tcp_append(p, c);
		p->count++;
		if (p->stats != NULL)
			dns_stats_add(&p->stats->tcp_accepted, 1);
		continue;

	err_after_get:
		dns_tcp_conn_put(p, c);
	err_after_acquire:
		dns_tcp_limits_release(p->limits, &peer);
	err_after_accept:
		close(fd);
	}
}

/* Sends buf[0, len); what the socket does not take now is kept in wbuf.
 * Returns 0 or a negative errno (the connection is then unusable). */
static int dns_tcp_send(struct dns_tcp_conn *c, const uint8_t *buf, size_t len)
{
	ssize_t r;

	do {
		r = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		r = 0;
	}
	if ((size_t)r == len)
		return 0;
	if (c->wbuf == NULL) {
		c->wbuf = malloc(2 + (size_t)DNS_MSG_MAX);
		if (c->wbuf == NULL)
			return Q53_ENOMEM;
	}
	memcpy(c->wbuf, buf + r, len - (size_t)r);
	c->woff = 0;
	c->wlen = len - (size_t)r;
	return 0;
}

/* Sends what is left of a partially written answer. */
static int dns_tcp_flush(struct dns_tcp_pool *p, struct dns_tcp_conn *c,
			 uint64_t now_ms)
{
	ssize_t r;

	do {
		r = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	c->woff += (size_t)r;
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	if (r > 0)
		dns_tcp_touch(p, c, now_ms);
	return 0;
}

/* Answers the complete messages in rbuf, in order, until one answer cannot
 * be sent whole (the rest waits for the socket to drain). */
static int dns_tcp_answer(struct dns_tcp_pool *p, struct dns_tcp_conn *c,
			  uint64_t now_ms)
{
	const struct serving_view *view = NULL;
	struct dns_client client;
	size_t off = 0;
	int rc = 0;

	dns_client_from_sockaddr(&client, (const struct sockaddr *)&c->peer);
	while (c->wlen == 0 && c->rlen - off >= 2) {
		size_t qlen = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];
		const uint8_t *q = c->rbuf + off + 2;
		size_t n;

		if (c->rlen - off - 2 < qlen)
			break;
		off += 2 + qlen;
		/* A zone transfer or a signed query goes to xfr_out's
		 * handler with the socket; this connection ends here
		 * (whatever follows is the handler's). */
		if (dns_xfr_take(c->fd, &c->peer, q, qlen, true)) {
			rc = -ECONNABORTED; /* handed over: close ours */
			break;
		}
		if (view == NULL)
			view = serving_view_current();
		uint64_t t0 = p->stats != NULL ? dns_stats_now_ns() : 0;
		n = dns_query_answer_from(view, &p->params, &client, q, qlen,
					  p->scratch + 2, DNS_MSG_MAX);
		if (p->stats != NULL)
			dns_stats_tcp_answered(p->stats, &client,
					       p->scratch + 2, n, t0);
		/* Only a query that gets an answer pushes the idle deadline
		 * back: zero-length frames, runts and responses (QR=1) are
		 * dropped and the connection still expires on time, so a
		 * client cannot hold a slot with `00 00` keepalives. */
		if (n == 0)
			continue;
		dns_tcp_touch(p, c, now_ms);
		p->scratch[0] = (uint8_t)(n >> 8);
		p->scratch[1] = (uint8_t)n;
		rc = dns_tcp_send(c, p->scratch, n + 2);
		if (rc != 0)
			break;
	}
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	return rc;
}

/* One read into rbuf, grown first to hold the whole message being read. */
static int dns_tcp_read(struct dns_tcp_conn *c)
{
	ssize_t r;

	if (c->rlen >= 2) {
		size_t need = 2 + ((size_t)c->rbuf[0] << 8 | c->rbuf[1]);
		if (need > c->rcap) {
			uint8_t *nb = realloc(c->rbuf, need);
			if (nb == NULL)
				return Q53_ENOMEM;
			c->rbuf = nb;
			c->rcap = need;
		}
	}
	if (c->rlen == c->rcap)
		return 0; /* complete messages wait for answers to drain */
	do {
		r = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen,
			 MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	if (r == 0)
		c->rd_eof = true;
	c->rlen += (size_t)r;
	return 0;
}

void dns_tcp_pool_event(struct dns_tcp_pool *p, void *conn, uint32_t events,
			uint64_t now_ms)
{
	struct dns_tcp_conn *c = conn;
	uint32_t want;

	if (events & (EPOLLERR | EPOLLHUP))
		goto close;
	if ((events & EPOLLOUT) && c->wlen != 0 &&
	    dns_tcp_flush(p, c, now_ms) != 0)
		goto close;
	if ((events & EPOLLIN) && c->wlen == 0 && !c->rd_eof &&
	    dns_tcp_read(c) != 0)
		goto close;
	if (c->wlen == 0 && dns_tcp_answer(p, c, now_ms) != 0)
		goto close;
	/* The client half-closed and every answer it can get is sent (an
	 * incomplete trailing message can never complete). */
	if (c->rd_eof && c->wlen == 0)
		goto close;

	want = c->wlen != 0 ? EPOLLOUT : c->rd_eof ? 0 : EPOLLIN;
	if (want != c->interest) {
		struct epoll_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.events = want;
		ev.data.ptr = c;
		if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
			goto close;
		c->interest = want;
	}
	return;

close:
	dns_tcp_conn_close(p, c);
}

int dns_tcp_pool_expire(struct dns_tcp_pool *p, uint64_t now_ms)
{
	uint64_t wait;

	while (p->oldest != NULL && p->oldest->deadline <= now_ms)
		dns_tcp_conn_close(p, p->oldest);
	if (p->oldest == NULL)
		return -1;
	wait = p->oldest->deadline - now_ms;
	return wait > INT_MAX ? INT_MAX : (int)wait;
}
