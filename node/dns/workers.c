/* DESIGN: the DNS workers are the only threads besides the control loop.
 * Answering queries must scale with cores and must never wait behind the
 * control thread (zone reloads now, Raft and health checks later), so each
 * core gets its own SO_REUSEPORT sockets and threads: the kernel spreads
 * clients over them and no lock is shared on the query path.
 * Per worker: one UDP thread per address, blocked in recvmmsg
 * (MSG_WAITFORONE) and answering whole batches: no epoll on the UDP path,
 * whose per-packet wake-up callback costs more kernel time than the whole
 * answer costs in user space; and one thread with an epoll set for TCP
 * (listeners and connections). Threads read the serving view through
 * urcu-qsbr: online while handling a batch, offline while blocked, so they
 * never delay a grace period. Stopping: a flag, an eventfd for the epoll
 * thread and shutdown(SHUT_RD) on the UDP sockets to wake their readers. */
#include "node/dns/workers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
/* Inline the QSBR fast paths (quiescent state, online/offline): they run
 * once per wake-up. */
#define _LGPL_SOURCE
#include <urcu-qsbr.h>

#include "node/common/errcode.h"
#include "node/dns/dns_stats.h"
#include "node/dns/tcp.h"
#include "node/dns/udp.h"
#include "node/zone/view.h"

/* Events taken per epoll_wait. */
#define DNS_WORKER_EVENTS 64

struct dns_worker_endpoint {
	enum dns_poll_kind kind; /* first member: epoll data.ptr points here */
	int fd;
};

struct dns_udp_thread {
	struct dns_worker *worker;
	int fd;
	pthread_t thread;
	bool started;
	struct dns_udp_batch batch;
};

struct dns_worker {
	struct dns_workers *owner;
	unsigned index;
	pthread_t thread;
	bool started;
	int epfd;
	struct dns_worker_endpoint wake;
	struct dns_udp_thread *udp;	 /* one per address */
	struct dns_worker_endpoint *tcp; /* one per address */
	bool pool_ready;
	struct dns_tcp_pool pool;
};

struct dns_workers {
	struct dns_workers_config cfg;
	struct sockaddr_storage *addrs;
	atomic_bool stopping;
	struct dns_tcp_limits limits;
	struct dns_worker *workers;
	unsigned nworkers;
};

static uint64_t dns_worker_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

size_t dns_workers_nshards(const struct dns_workers_config *cfg)
{
	return (size_t)cfg->nworkers * (cfg->naddrs + 1);
}

void dns_workers_format_addr(const struct sockaddr_storage *addr, char *buf,
			     size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (addr->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)addr;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)addr;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	}
}

static socklen_t dns_worker_addrlen(const struct sockaddr_storage *addr)
{
	return addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					   : sizeof(struct sockaddr_in);
}

static int dns_worker_watch(struct dns_worker *w,
			    struct dns_worker_endpoint *ep)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = ep;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, ep->fd, &ev) != 0)
		return -errno;
	return 0;
}

/* Releases what dns_worker_open set up; safe on a partly opened worker
 * (every fd starts at -1). */
static void dns_worker_close(struct dns_worker *w, size_t naddrs)
{
	if (w->pool_ready)
		dns_tcp_pool_close(&w->pool);
	w->pool_ready = false;
	for (size_t i = 0; i < naddrs; i++) {
		if (w->udp != NULL) {
			dns_udp_batch_free(&w->udp[i].batch);
			if (w->udp[i].fd >= 0)
				close(w->udp[i].fd);
		}
		if (w->tcp != NULL && w->tcp[i].fd >= 0)
			close(w->tcp[i].fd);
	}
	free(w->udp);
	free(w->tcp);
	w->udp = NULL;
	w->tcp = NULL;
	if (w->wake.fd >= 0)
		close(w->wake.fd);
	if (w->epfd >= 0)
		close(w->epfd);
	w->wake.fd = w->epfd = -1;
}

static int dns_worker_open(struct dns_workers *ws, struct dns_worker *w,
			   char *errbuf, size_t errlen)
{
	const struct dns_workers_config *cfg = &ws->cfg;
	char addr[INET6_ADDRSTRLEN + 8];
	const char *what = "";
	int rc;

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "epoll_create1: %s", q53_strerror(rc));
		return rc;
	}
	w->wake.kind = DNS_POLL_WAKE;
	w->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake.fd < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "eventfd: %s", q53_strerror(rc));
		return rc;
	}
	rc = dns_worker_watch(w, &w->wake);
	if (rc != 0) {
		snprintf(errbuf, errlen, "epoll_ctl: %s", q53_strerror(rc));
		return rc;
	}
	w->udp = calloc(cfg->naddrs, sizeof(*w->udp));
	w->tcp = calloc(cfg->naddrs, sizeof(*w->tcp));
	if (w->udp == NULL || w->tcp == NULL)
		goto err_nomem;
	for (size_t i = 0; i < cfg->naddrs; i++)
		w->udp[i].fd = w->tcp[i].fd = -1;
	for (size_t i = 0; i < cfg->naddrs; i++) {
		const struct sockaddr *sa =
		    (const struct sockaddr *)&ws->addrs[i];
		socklen_t salen = dns_worker_addrlen(&ws->addrs[i]);

		dns_workers_format_addr(&ws->addrs[i], addr, sizeof(addr));
		w->udp[i].worker = w;
		rc = dns_udp_open(sa, salen, &what);
		if (rc < 0) {
			snprintf(errbuf, errlen,
				 "cannot serve UDP on %s: %s: %s", addr, what,
				 q53_strerror(rc));
			return rc;
		}
		w->udp[i].fd = rc;
		w->tcp[i].kind = DNS_POLL_TCP_LISTEN;
		rc = dns_tcp_listen_open(sa, salen, &what);
		if (rc < 0) {
			snprintf(errbuf, errlen,
				 "cannot serve TCP on %s: %s: %s", addr, what,
				 q53_strerror(rc));
			return rc;
		}
		w->tcp[i].fd = rc;
		if (dns_udp_batch_init(&w->udp[i].batch, cfg->udp_payload) != 0)
			goto err_nomem;
		w->udp[i].batch.params.geo = cfg->geo;
		w->udp[i].batch.params.identity = cfg->identity;
		w->udp[i].batch.params.version = cfg->version;
		if (cfg->rrl.rate != 0 &&
		    dns_udp_batch_rrl(&w->udp[i].batch, &ws->cfg.rrl,
				      ws->cfg.nworkers) != 0)
			goto err_nomem;
		if (cfg->stats != NULL) {
			struct dns_stats_shard *sh = dns_stats_shard(
			    cfg->stats, w->index * (cfg->naddrs + 1) + i);
			w->udp[i].batch.stats = sh;
			w->udp[i].batch.params.seen = sh ? &sh->seen : NULL;
		}
		rc = dns_worker_watch(w, &w->tcp[i]);
		if (rc != 0) {
			snprintf(errbuf, errlen, "epoll_ctl: %s",
				 q53_strerror(rc));
			return rc;
		}
	}
	if (dns_tcp_pool_init(&w->pool, w->epfd, &ws->limits,
			      cfg->tcp_idle_timeout_ms,
			      cfg->udp_payload) != 0) {
		dns_tcp_pool_close(&w->pool);
		goto err_nomem;
	}
	w->pool.params.geo = cfg->geo;
	w->pool.params.identity = cfg->identity;
	w->pool.params.version = cfg->version;
	if (cfg->stats != NULL) {
		struct dns_stats_shard *sh = dns_stats_shard(
		    cfg->stats, w->index * (cfg->naddrs + 1) + cfg->naddrs);
		w->pool.stats = sh;
		w->pool.params.seen = sh ? &sh->seen : NULL;
	}
	w->pool_ready = true;
	return 0;

err_nomem:
	snprintf(errbuf, errlen, "worker %u: %s", w->index,
		 q53_strerror(Q53_ENOMEM));
	return Q53_ENOMEM;
}

static void *dns_udp_thread_main(void *arg)
{
	struct dns_udp_thread *u = arg;
	atomic_bool *stopping = &u->worker->owner->stopping;

	rcu_register_thread();
	while (!atomic_load_explicit(stopping, memory_order_acquire)) {
		/* Offline while blocked: a quiescent state, so the view read
		 * by the previous batch may be reclaimed meanwhile. */
		rcu_thread_offline();
		int n = dns_udp_recv(&u->batch, u->fd, MSG_WAITFORONE);
		rcu_thread_online();
		if (n > 0)
			dns_udp_reply(&u->batch, u->fd, n,
				      serving_view_current());
	}
	rcu_unregister_thread();
	return NULL;
}

static void *dns_worker_main(void *arg)
{
	struct dns_worker *w = arg;
	struct epoll_event evs[DNS_WORKER_EVENTS];

	/* One clock read per wake-up: the expiry check uses the time taken
	 * after the previous wait (older only by the work done since). */
	uint64_t now = dns_worker_now_ms();

	rcu_register_thread();
	while (
	    !atomic_load_explicit(&w->owner->stopping, memory_order_acquire)) {
		int timeout = dns_tcp_pool_expire(&w->pool, now);
		int n;

		/* Going offline is a quiescent state: the view read by the
		 * previous batch may be reclaimed while we wait. */
		rcu_thread_offline();
		n = epoll_wait(w->epfd, evs, DNS_WORKER_EVENTS, timeout);
		rcu_thread_online();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Only a bug gets here (bad fd or arguments). */
			fprintf(stderr, "q53d: worker %u: epoll_wait: %s\n",
				w->index, strerror(errno));
			abort();
		}
		now = dns_worker_now_ms();
		for (int i = 0; i < n; i++) {
			/* data.ptr is an endpoint or a connection; both start
			 * with their kind. */
			struct dns_worker_endpoint *ep = evs[i].data.ptr;
			enum dns_poll_kind kind =
			    *(const enum dns_poll_kind *)evs[i].data.ptr;
			uint64_t count;

			switch (kind) {
			case DNS_POLL_WAKE:
				(void)!read(ep->fd, &count, sizeof(count));
				break;
			case DNS_POLL_UDP: /* served by the UDP threads */
				break;
			case DNS_POLL_TCP_LISTEN:
				dns_tcp_pool_accept(&w->pool, ep->fd, now);
				break;
			case DNS_POLL_TCP_CONN:
				dns_tcp_pool_event(&w->pool, evs[i].data.ptr,
						   evs[i].events, now);
				rcu_quiescent_state();
				break;
			}
		}
	}
	rcu_unregister_thread();
	return NULL;
}

static void dns_workers_free(struct dns_workers *ws)
{
	for (unsigned i = 0; i < ws->nworkers; i++)
		dns_worker_close(&ws->workers[i], ws->cfg.naddrs);
	dns_tcp_limits_free(&ws->limits);
	free(ws->workers);
	free(ws->addrs);
	free(ws);
}

static void dns_workers_join(struct dns_workers *ws)
{
	atomic_store_explicit(&ws->stopping, true, memory_order_release);
	for (unsigned i = 0; i < ws->nworkers; i++) {
		struct dns_worker *w = &ws->workers[i];
		uint64_t one = 1;
		if (w->started)
			(void)!write(w->wake.fd, &one, sizeof(one));
		/* Wakes a reader blocked in recvmmsg, which then returns 0
		 * (Linux does this for unconnected UDP sockets too). */
		for (size_t a = 0; a < ws->cfg.naddrs; a++) {
			if (w->udp[a].started)
				shutdown(w->udp[a].fd, SHUT_RD);
		}
	}
	for (unsigned i = 0; i < ws->nworkers; i++) {
		struct dns_worker *w = &ws->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		w->started = false;
		for (size_t a = 0; a < ws->cfg.naddrs; a++) {
			if (w->udp[a].started)
				pthread_join(w->udp[a].thread, NULL);
			w->udp[a].started = false;
		}
	}
}

int dns_workers_start(struct dns_workers **out,
		      const struct dns_workers_config *cfg, char *errbuf,
		      size_t errlen)
{
	struct dns_workers *ws;
	sigset_t all, old;
	int rc;

	errbuf[0] = '\0';
	if (cfg->nworkers == 0 || cfg->naddrs == 0 || cfg->udp_payload < 512) {
		snprintf(errbuf, errlen, "invalid worker configuration");
		return Q53_EINVAL;
	}
	ws = calloc(1, sizeof(*ws));
	if (ws == NULL)
		goto err_nomem;
	ws->cfg = *cfg;
	atomic_init(&ws->stopping, false);
	ws->addrs = calloc(cfg->naddrs, sizeof(*ws->addrs));
	ws->workers = calloc(cfg->nworkers, sizeof(*ws->workers));
	if (ws->addrs == NULL || ws->workers == NULL) {
		free(ws->addrs);
		free(ws->workers);
		free(ws);
		goto err_nomem;
	}
	memcpy(ws->addrs, cfg->addrs, cfg->naddrs * sizeof(*ws->addrs));
	ws->cfg.addrs = ws->addrs;
	rc = dns_tcp_limits_init(&ws->limits, cfg->tcp_max_clients,
				 cfg->tcp_max_per_client);
	if (rc != 0) {
		snprintf(errbuf, errlen, "TCP limits: %s", q53_strerror(rc));
		free(ws->addrs);
		free(ws->workers);
		free(ws);
		return rc;
	}
	ws->nworkers = cfg->nworkers;
	for (unsigned i = 0; i < ws->nworkers; i++) {
		struct dns_worker *w = &ws->workers[i];
		w->owner = ws;
		w->index = i;
		w->epfd = w->wake.fd = -1;
	}
	for (unsigned i = 0; i < ws->nworkers; i++) {
		rc = dns_worker_open(ws, &ws->workers[i], errbuf, errlen);
		if (rc != 0)
			goto err_after_open;
	}

	/* Signals belong to the control loop: workers block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < ws->nworkers; i++) {
		struct dns_worker *w = &ws->workers[i];
		rc = -pthread_create(&w->thread, NULL, dns_worker_main, w);
		if (rc != 0) {
			snprintf(errbuf, errlen, "cannot start worker %u: %s",
				 i, q53_strerror(rc));
			break;
		}
		w->started = true;
		for (size_t a = 0; a < cfg->naddrs && rc == 0; a++) {
			struct dns_udp_thread *u = &w->udp[a];
			rc = -pthread_create(&u->thread, NULL,
					     dns_udp_thread_main, u);
			if (rc != 0)
				snprintf(errbuf, errlen,
					 "cannot start UDP thread of worker "
					 "%u: %s",
					 i, q53_strerror(rc));
			else
				u->started = true;
		}
		if (rc != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		goto err_after_threads;
	*out = ws;
	return 0;

err_after_threads:
	dns_workers_join(ws);
err_after_open:
	dns_workers_free(ws);
	return rc;
err_nomem:
	snprintf(errbuf, errlen, "%s", q53_strerror(Q53_ENOMEM));
	return Q53_ENOMEM;
}

void dns_workers_rrl_stats(const struct dns_workers *ws,
			   struct dns_rrl_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < ws->nworkers; i++)
		for (size_t a = 0; a < ws->cfg.naddrs; a++)
			if (ws->workers[i].udp[a].batch.rrl != NULL)
				dns_rrl_stats_add(
				    ws->workers[i].udp[a].batch.rrl, out);
}

void dns_workers_stop(struct dns_workers *ws)
{
	if (ws == NULL)
		return;
	dns_workers_join(ws);
	dns_workers_free(ws);
}
