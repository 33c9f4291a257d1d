/* DESIGN: no thread is created here. libcurl's threaded resolver may start
 * one per name lookup (FullyQualifiedDomainName without IPAddress); it only
 * hands the answer back to libcurl, which we drive from the loop thread. */
#include "node/health/prober.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "node/common/curl_loop.h"
#include "node/common/errcode.h"
#include "node/health/check_config.h"

#define BODY_SEARCH_LIMIT   5120 /* Route 53 searches the first 5,120 bytes */
#define DEFAULT_CONNECT_MS  4000
#define DEFAULT_RESPONSE_MS 2000
#define DEFAULT_TCP_MS	    10000
#define DEFAULT_UNIT_MS	    1000
#define DEFAULT_REFRESH_MS  (15 * 60 * 1000)
#define USER_AGENT	    "quorum53-health-check"

enum prober_state {
	PROBER_INITED,
	PROBER_STARTED,
	PROBER_CLOSING,
};

struct prober_check {
	struct health_prober *p;
	struct prober_check *prev, *next; /* in p->checks until removed */
	char id[HEALTH_CHECK_ID_MAX + 1];
	struct health_check_config cfg;
	struct health_observer obs;
	uv_timer_t interval;
	uv_timer_t
	    deadline;  /* TCP: whole probe; HTTP: response after connect */
	unsigned open; /* handles / requests libuv has not given back */
	bool removed;
	bool pending; /* a probe runs whose result is not delivered yet */
	char reason[128];
	int64_t connect_us;	/* of the probe running, -1 = unknown */
	uint64_t connect_start; /* TCP: uv_hrtime at connect */

	/* HTTP(S) probe */
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	bool connected;
	bool early;  /* we stopped the transfer: enough was read */
	long status; /* from the last status line */
	char *body;  /* BODY_SEARCH_LIMIT bytes, *_STR_MATCH only */
	size_t body_len;

	/* TCP probe */
	uv_tcp_t tcp;
	bool tcp_open;
	uv_connect_t connect;
	uv_getaddrinfo_t resolve;
	bool resolving;
};

struct health_prober {
	uv_loop_t *loop;
	struct health_prober_options opt;
	/* source_address parsed (family AF_UNSPEC: none) and as curl wants */
	struct sockaddr_storage source;
	char interface[64];
	enum prober_state state;
	struct curl_loop *curl; /* NULL once closing */
	struct prober_check *checks;
	/* checks not freed + the curl loop not closed */
	unsigned open;
	bool in_close; /* health_prober_close is on the stack */
	health_prober_close_cb close_cb;
	void *close_data;
};

static void prober_maybe_finish(struct health_prober *p)
{
	health_prober_close_cb cb;
	void *data;

	if (p->state != PROBER_CLOSING || p->open != 0 || p->in_close)
		return;
	cb = p->close_cb;
	data = p->close_data;
	free(p);
	if (cb != NULL)
		cb(data);
}

/* --- events --- */

static void emit(struct prober_check *c, enum health_prober_event_kind kind,
		 bool healthy)
{
	struct health_prober *p = c->p;
	struct health_prober_event ev = {
	    .kind = kind,
	    .check_id = c->id,
	    .healthy = healthy,
	    .reason = c->reason,
	    .time_ms = uv_now(p->loop),
	    .results = c->obs.results,
	    .state = health_observer_state(&c->obs),
	    .connect_us = c->connect_us,
	};
	health_prober_event_cb cb =
	    kind == HEALTH_PROBER_RESULT ? p->opt.on_result : p->opt.on_verdict;

	if (cb != NULL && !c->removed && p->state != PROBER_CLOSING)
		cb(p->opt.data, &ev);
}

/* The probe's outcome, reason already in c->reason. Callbacks may remove
 * the check or close the prober; memory stays valid (it is only freed from
 * libuv close callbacks). */
static void deliver(struct prober_check *c, bool healthy)
{
	enum health_observer_event ev;

	c->pending = false;
	if (c->removed || c->p->state == PROBER_CLOSING)
		return;
	ev = health_observer_feed(&c->obs, healthy, uv_now(c->p->loop));
	emit(c, HEALTH_PROBER_RESULT, healthy);
	if (ev == HEALTH_OBSERVER_CHANGED)
		emit(c, HEALTH_PROBER_CHANGED,
		     health_observer_healthy(&c->obs));
	else if (ev == HEALTH_OBSERVER_REFRESH)
		emit(c, HEALTH_PROBER_REFRESH,
		     health_observer_healthy(&c->obs));
}

/* --- check memory --- */

static void check_maybe_free(struct prober_check *c)
{
	struct health_prober *p = c->p;

	if (!c->removed || c->open != 0)
		return;
	health_check_config_clear(&c->cfg);
	free(c->body);
	free(c);
	p->open--;
	prober_maybe_finish(p);
}

static void on_check_handle_closed(uv_handle_t *h)
{
	struct prober_check *c = h->data;

	c->open--;
	check_maybe_free(c);
}

/* --- libcurl on the loop (node/common/curl_loop.h) --- */

static void http_done(struct prober_check *c, CURLcode result);

static void prober_on_curl_done(void *data, CURL *easy, CURLcode result)
{
	struct health_prober *p = data;
	struct prober_check *c = NULL;

	if (p->state == PROBER_CLOSING)
		return;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &c);
	http_done(c, result);
}

/* --- HTTP(S) probe --- */

static void http_release(struct prober_check *c)
{
	if (c->easy == NULL)
		return;
	if (c->p->curl != NULL)
		curl_loop_remove(c->p->curl, c->easy);
	curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	curl_slist_free_all(c->connect_to);
	c->easy = NULL;
	c->headers = NULL;
	c->connect_to = NULL;
	uv_timer_stop(&c->deadline);
}

static bool http_verdict(struct prober_check *c, CURLcode result)
{
	long os_errno = 0;
	long code = c->status;

	if (c->connected) {
		curl_off_t total = 0, lookup = 0;
		if (curl_easy_getinfo(c->easy, CURLINFO_CONNECT_TIME_T,
				      &total) == CURLE_OK &&
		    curl_easy_getinfo(c->easy, CURLINFO_NAMELOOKUP_TIME_T,
				      &lookup) == CURLE_OK &&
		    total >= lookup)
			c->connect_us = (int64_t)(total - lookup);
	}
	if (result == CURLE_OK || (result == CURLE_WRITE_ERROR && c->early)) {
		if (code == 0)
			curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE,
					  &code);
		snprintf(c->reason, sizeof(c->reason), "HTTP %ld", code);
		if (code < 200 || code > 399)
			return false;
		if (!health_check_type_matches_string(c->cfg.type))
			return true;
		if (memmem(c->body, c->body_len, c->cfg.search_string,
			   strlen(c->cfg.search_string)) == NULL) {
			snprintf(c->reason, sizeof(c->reason),
				 "search string not found");
			return false;
		}
		snprintf(c->reason, sizeof(c->reason),
			 "HTTP %ld, search string found", code);
		return true;
	}
	switch (result) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno == ECONNREFUSED)
			snprintf(c->reason, sizeof(c->reason),
				 "connect refused");
		else
			snprintf(c->reason, sizeof(c->reason),
				 "connect failed: %s",
				 os_errno != 0 ? strerror((int)os_errno)
					       : "unknown");
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(c->reason, sizeof(c->reason), "%s",
			 c->connected ? "timeout" : "connect timeout");
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(c->reason, sizeof(c->reason), "resolve failed");
		break;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(c->reason, sizeof(c->reason), "TLS handshake failed");
		break;
	case CURLE_GOT_NOTHING:
		snprintf(c->reason, sizeof(c->reason), "empty reply");
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		snprintf(c->reason, sizeof(c->reason), "connection reset");
		break;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(c->reason, sizeof(c->reason), "malformed reply");
		break;
	default:
		snprintf(c->reason, sizeof(c->reason), "%s",
			 curl_easy_strerror(result));
		break;
	}
	return false;
}

static void http_done(struct prober_check *c, CURLcode result)
{
	bool healthy = http_verdict(c, result);

	http_release(c);
	deliver(c, healthy);
}

static void on_http_deadline(uv_timer_t *t)
{
	struct prober_check *c = t->data;

	if (c->easy == NULL)
		return;
	http_release(c);
	snprintf(c->reason, sizeof(c->reason), "timeout");
	deliver(c, false);
}

/* Connected (and TLS done): the response clock starts. */
static int on_http_prereq(void *clientp, char *primary_ip, char *local_ip,
			  int primary_port, int local_port)
{
	struct prober_check *c = clientp;

	(void)primary_ip;
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	c->connected = true;
	uv_timer_start(&c->deadline, on_http_deadline,
		       c->p->opt.response_timeout_ms, 0);
	return CURL_PREREQFUNC_OK;
}

static size_t on_http_header(char *buf, size_t size, size_t n, void *userp)
{
	struct prober_check *c = userp;
	size_t len = size * n;
	char line[16];
	size_t copy = len < sizeof(line) - 1 ? len : sizeof(line) - 1;

	memcpy(line, buf, copy);
	line[copy] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = strchr(line, ' ');
		c->status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
		return len;
	}
	if ((len == 2 && buf[0] == '\r' && buf[1] == '\n') ||
	    (len == 1 && buf[0] == '\n')) {
		/* End of a header block; 1xx blocks are followed by more. */
		if (c->status >= 200 &&
		    !health_check_type_matches_string(c->cfg.type)) {
			c->early = true;
			return 0; /* the status is all we need */
		}
	}
	return len;
}

static size_t on_http_body(char *buf, size_t size, size_t n, void *userp)
{
	struct prober_check *c = userp;
	size_t len = size * n;
	size_t room;

	if (c->body == NULL) {
		c->early = true;
		return 0;
	}
	room = BODY_SEARCH_LIMIT - c->body_len;
	if (len < room) {
		memcpy(c->body + c->body_len, buf, len);
		c->body_len += len;
		return len;
	}
	memcpy(c->body + c->body_len, buf, room);
	c->body_len += room;
	c->early = true;
	return 0;
}

static int http_setup(struct prober_check *c, CURL *e)
{
	const struct health_check_config *cfg = &c->cfg;
	bool tls = health_check_type_is_tls(cfg->type);
	bool v6 = strchr(cfg->ip_address, ':') != NULL;
	const char *path =
	    cfg->resource_path[0] != '\0' ? cfg->resource_path : "/";
	const char *slash = path[0] == '/' ? "" : "/";
	unsigned default_port = tls ? 443 : 80;
	char host[HEALTH_CHECK_FQDN_MAX + 3];
	char url[HEALTH_CHECK_FQDN_MAX + HEALTH_CHECK_PATH_MAX + 32];
	char line[HEALTH_CHECK_FQDN_MAX + 64];
	struct curl_slist *l;
	unsigned timeout;
	CURLcode rc = CURLE_OK;

	if (cfg->ip_address[0] != '\0' && cfg->fqdn[0] != '\0' && tls &&
	    cfg->enable_sni) {
		/* Name in the URL (Host, SNI), connection to the address. */
		snprintf(host, sizeof(host), "%s", cfg->fqdn);
		snprintf(line, sizeof(line), "%s:%u:%s%s%s:%u", cfg->fqdn,
			 cfg->port, v6 ? "[" : "", cfg->ip_address,
			 v6 ? "]" : "", cfg->port);
		l = curl_slist_append(NULL, line);
		if (l == NULL)
			return Q53_ENOMEM;
		c->connect_to = l;
		rc |= curl_easy_setopt(e, CURLOPT_CONNECT_TO, c->connect_to);
	} else if (cfg->ip_address[0] != '\0') {
		snprintf(host, sizeof(host), "%s%s%s", v6 ? "[" : "",
			 cfg->ip_address, v6 ? "]" : "");
		if (cfg->fqdn[0] != '\0') {
			if (cfg->port == default_port)
				snprintf(line, sizeof(line), "Host: %s",
					 cfg->fqdn);
			else
				snprintf(line, sizeof(line), "Host: %s:%u",
					 cfg->fqdn, cfg->port);
			l = curl_slist_append(NULL, line);
			if (l == NULL)
				return Q53_ENOMEM;
			c->headers = l;
			rc |=
			    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
		}
	} else {
		snprintf(host, sizeof(host), "%s", cfg->fqdn);
	}
	snprintf(url, sizeof(url), "%s://%s:%u%s%s", tls ? "https" : "http",
		 host, cfg->port, slash, path);

	/* Backstop only: our own deadline ends a slow response first. */
	timeout =
	    c->p->opt.connect_timeout_ms + c->p->opt.response_timeout_ms + 1000;
	rc |= curl_easy_setopt(e, CURLOPT_URL, url);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, c);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_PROXY, "");
	rc |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	rc |= curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
			       (long)CURL_HTTP_VERSION_1_1);
	rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			       (long)c->p->opt.connect_timeout_ms);
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
	/* A name alone is resolved to IPv4, per probe (Route 53 too). */
	rc |= curl_easy_setopt(e, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4);
	rc |= curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	if (c->p->interface[0] != '\0' &&
	    (c->p->source.ss_family == AF_INET6) == v6)
		rc |= curl_easy_setopt(e, CURLOPT_INTERFACE, c->p->interface);
	rc |= curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_http_prereq);
	rc |= curl_easy_setopt(e, CURLOPT_PREREQDATA, c);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_http_header);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_http_body);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	return rc == CURLE_OK ? 0 : Q53_EINVAL;
}

static int http_start(struct prober_check *c)
{
	CURL *e;
	int rc;

	e = curl_easy_init();
	if (e == NULL)
		return Q53_ENOMEM;
	c->connected = false;
	c->connect_us = -1;
	c->early = false;
	c->status = 0;
	c->body_len = 0;
	rc = http_setup(c, e);
	if (rc != 0)
		goto err_after_init;
	c->easy = e;
	c->pending = true;
	if (curl_loop_add(c->p->curl, e) != 0) {
		rc = Q53_ENOMEM;
		goto err_after_setup;
	}
	return 0;
err_after_setup:
	c->easy = NULL;
	c->pending = false;
err_after_init:
	curl_slist_free_all(c->headers);
	curl_slist_free_all(c->connect_to);
	c->headers = NULL;
	c->connect_to = NULL;
	curl_easy_cleanup(e);
	return rc;
}

/* --- TCP probe --- */

static void on_tcp_closed(uv_handle_t *h)
{
	struct prober_check *c = h->data;

	c->tcp_open = false;
	c->open--;
	check_maybe_free(c);
}

static void tcp_release(struct prober_check *c)
{
	uv_timer_stop(&c->deadline);
	if (c->tcp_open && !uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
	if (c->resolving)
		/* If the lookup already runs, on_tcp_resolved drops it. */
		uv_cancel((uv_req_t *)&c->resolve);
}

static void tcp_done(struct prober_check *c, bool healthy)
{
	tcp_release(c);
	deliver(c, healthy);
}

static void tcp_reason(struct prober_check *c, int status)
{
	if (status == 0)
		snprintf(c->reason, sizeof(c->reason), "connected");
	else if (status == UV_ECONNREFUSED)
		snprintf(c->reason, sizeof(c->reason), "connect refused");
	else if (status == UV_ETIMEDOUT)
		snprintf(c->reason, sizeof(c->reason), "timeout");
	else
		snprintf(c->reason, sizeof(c->reason), "connect failed: %s",
			 uv_strerror(status));
}

static void on_tcp_connected(uv_connect_t *req, int status)
{
	struct prober_check *c = req->data;

	if (!c->pending)
		return; /* already timed out or removed */
	if (status == 0)
		c->connect_us =
		    (int64_t)((uv_hrtime() - c->connect_start) / 1000);
	tcp_reason(c, status);
	tcp_done(c, status == 0);
}

static void on_tcp_deadline(uv_timer_t *t)
{
	struct prober_check *c = t->data;

	if (!c->pending)
		return;
	snprintf(c->reason, sizeof(c->reason), "timeout");
	tcp_done(c, false);
}

/* Returns a negative libuv error only for local failures (no result);
 * a refused connect is delivered as a result. */
static int tcp_connect(struct prober_check *c, const struct sockaddr *addr)
{
	int rc;

	rc = uv_tcp_init(c->p->loop, &c->tcp);
	if (rc != 0)
		return rc;
	c->tcp.data = c;
	c->tcp_open = true;
	c->open++;
	c->connect.data = c;
	rc = 0;
	if (c->p->source.ss_family != AF_UNSPEC &&
	    c->p->source.ss_family == addr->sa_family)
		rc = uv_tcp_bind(&c->tcp,
				 (const struct sockaddr *)&c->p->source, 0);
	c->connect_start = uv_hrtime();
	if (rc == 0)
		rc = uv_tcp_connect(&c->connect, &c->tcp, addr,
				    on_tcp_connected);
	if (rc != 0) {
		tcp_reason(c, rc);
		tcp_done(c, false);
	}
	return 0;
}

static void on_tcp_resolved(uv_getaddrinfo_t *req, int status,
			    struct addrinfo *res)
{
	struct prober_check *c = req->data;
	int rc;

	c->resolving = false;
	c->open--;
	if (!c->pending) {
		uv_freeaddrinfo(res);
		check_maybe_free(c);
		return;
	}
	if (status != 0) {
		snprintf(c->reason, sizeof(c->reason), "resolve failed");
		uv_freeaddrinfo(res);
		tcp_done(c, false);
		return;
	}
	rc = tcp_connect(c, res->ai_addr);
	uv_freeaddrinfo(res);
	if (rc != 0) {
		c->pending = false; /* local failure: no result */
		uv_timer_stop(&c->deadline);
	}
}

static int tcp_start(struct prober_check *c)
{
	const struct health_check_config *cfg = &c->cfg;
	struct sockaddr_storage ss;
	struct addrinfo hints;
	char port[8];
	int rc;

	if (c->tcp_open || c->resolving)
		return Q53_EEXIST; /* the last one is still closing */
	c->connect_us = -1;
	c->pending = true;
	uv_timer_start(&c->deadline, on_tcp_deadline, c->p->opt.tcp_timeout_ms,
		       0);
	if (cfg->ip_address[0] != '\0') {
		if (strchr(cfg->ip_address, ':') != NULL)
			rc = uv_ip6_addr(cfg->ip_address, cfg->port,
					 (struct sockaddr_in6 *)&ss);
		else
			rc = uv_ip4_addr(cfg->ip_address, cfg->port,
					 (struct sockaddr_in *)&ss);
		if (rc == 0)
			rc = tcp_connect(c, (struct sockaddr *)&ss);
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_INET; /* as Route 53 */
		hints.ai_socktype = SOCK_STREAM;
		snprintf(port, sizeof(port), "%u", cfg->port);
		c->resolve.data = c;
		rc = uv_getaddrinfo(c->p->loop, &c->resolve, on_tcp_resolved,
				    cfg->fqdn, port, &hints);
		if (rc == 0) {
			c->resolving = true;
			c->open++;
		}
	}
	if (rc != 0) {
		/* Local failure (no fd, ...): no result, the endpoint is not
		 * to blame. */
		c->pending = false;
		uv_timer_stop(&c->deadline);
		return Q53_ENOMEM;
	}
	return 0;
}

/* --- scheduling --- */

static void on_interval(uv_timer_t *t)
{
	struct prober_check *c = t->data;

	if (c->pending || c->easy != NULL)
		return; /* still probing: skip this round */
	if (c->cfg.type == HEALTH_CHECK_TCP)
		tcp_start(c);
	else
		http_start(c);
}

static void check_schedule(struct prober_check *c)
{
	uint64_t every =
	    (uint64_t)c->cfg.request_interval * c->p->opt.interval_unit_ms;

	if (c->cfg.disabled)
		return;
	uv_timer_start(&c->interval, on_interval, 0, every);
}

static struct prober_check *check_find(const struct health_prober *p,
				       const char *id)
{
	struct prober_check *c;

	for (c = p->checks; c != NULL; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

/* Unlinks c and starts giving its handles back; freed in
 * check_maybe_free. */
static void check_remove(struct prober_check *c)
{
	struct health_prober *p = c->p;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		p->checks = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->removed = true;
	c->pending = false;
	http_release(c);
	tcp_release(c);
	uv_close((uv_handle_t *)&c->interval, on_check_handle_closed);
	uv_close((uv_handle_t *)&c->deadline, on_check_handle_closed);
}

/* --- API --- */

int health_prober_init(struct health_prober **out, uv_loop_t *loop,
		       const struct health_prober_options *opt)
{
	struct health_prober *p;
	int rc;

	if (opt->on_verdict == NULL)
		return Q53_EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return Q53_ENOMEM;
	p->loop = loop;
	p->opt = *opt;
	p->opt.source_address = NULL; /* parsed below, not kept */
	p->source.ss_family = AF_UNSPEC;
	if (opt->source_address != NULL && opt->source_address[0] != '\0') {
		const char *a = opt->source_address;
		if (uv_ip4_addr(a, 0, (struct sockaddr_in *)&p->source) != 0 &&
		    uv_ip6_addr(a, 0, (struct sockaddr_in6 *)&p->source) != 0) {
			rc = Q53_EINVAL;
			goto err_after_alloc;
		}
		snprintf(p->interface, sizeof(p->interface), "host!%s", a);
	}
	if (p->opt.connect_timeout_ms == 0)
		p->opt.connect_timeout_ms = DEFAULT_CONNECT_MS;
	if (p->opt.response_timeout_ms == 0)
		p->opt.response_timeout_ms = DEFAULT_RESPONSE_MS;
	if (p->opt.tcp_timeout_ms == 0)
		p->opt.tcp_timeout_ms = DEFAULT_TCP_MS;
	if (p->opt.interval_unit_ms == 0)
		p->opt.interval_unit_ms = DEFAULT_UNIT_MS;
	if (p->opt.refresh_ms == 0)
		p->opt.refresh_ms = DEFAULT_REFRESH_MS;
	else if (p->opt.refresh_ms == UINT64_MAX)
		p->opt.refresh_ms = 0; /* the observer's "never" */
	rc = curl_loop_init(&p->curl, loop, prober_on_curl_done, p);
	if (rc != 0)
		goto err_after_alloc;
	p->open = 1;
	p->state = PROBER_INITED;
	*out = p;
	return 0;
err_after_alloc:
	free(p);
	return rc;
}

int health_prober_start(struct health_prober *p)
{
	struct prober_check *c;

	if (p->state != PROBER_INITED)
		return Q53_EINVAL;
	p->state = PROBER_STARTED;
	for (c = p->checks; c != NULL; c = c->next)
		check_schedule(c);
	return 0;
}

int health_prober_add(struct health_prober *p, const char *id,
		      const struct health_check_config *cfg)
{
	struct prober_check *c;
	size_t len = strnlen(id, HEALTH_CHECK_ID_MAX + 1);
	int rc;

	if (p->state == PROBER_CLOSING || len == 0 ||
	    len > HEALTH_CHECK_ID_MAX || cfg->type == HEALTH_CHECK_CALCULATED ||
	    health_check_config_validate(cfg, NULL, 0) != 0)
		return Q53_EINVAL;
	if (check_find(p, id) != NULL)
		return Q53_EEXIST;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return Q53_ENOMEM;
	c->p = p;
	memcpy(c->id, id, len + 1);
	rc = health_check_config_copy(&c->cfg, cfg);
	if (rc != 0)
		goto err_after_alloc;
	if (health_check_type_matches_string(cfg->type)) {
		c->body = malloc(BODY_SEARCH_LIMIT);
		if (c->body == NULL) {
			rc = Q53_ENOMEM;
			goto err_after_copy;
		}
	}
	health_observer_init(&c->obs, &c->cfg, p->opt.refresh_ms);
	/* Timer init on a live loop cannot fail. */
	uv_timer_init(p->loop, &c->interval);
	uv_timer_init(p->loop, &c->deadline);
	c->interval.data = c;
	c->deadline.data = c;
	c->open = 2;
	c->next = p->checks;
	if (p->checks != NULL)
		p->checks->prev = c;
	p->checks = c;
	p->open++;
	if (p->state == PROBER_STARTED)
		check_schedule(c);
	return 0;
err_after_copy:
	health_check_config_clear(&c->cfg);
err_after_alloc:
	free(c);
	return rc;
}

int health_prober_remove(struct health_prober *p, const char *id)
{
	struct prober_check *c = check_find(p, id);

	if (c == NULL || p->state == PROBER_CLOSING)
		return Q53_ENOENT;
	check_remove(c);
	return 0;
}

int health_prober_observer(const struct health_prober *p, const char *id,
			   struct health_observer *out)
{
	const struct prober_check *c = check_find(p, id);

	if (c == NULL)
		return Q53_ENOENT;
	*out = c->obs;
	return 0;
}

static void prober_on_curl_closed(void *data)
{
	struct health_prober *p = data;

	p->open--;
	prober_maybe_finish(p);
}

void health_prober_close(struct health_prober *p, health_prober_close_cb cb,
			 void *data)
{
	if (p->state == PROBER_CLOSING)
		return;
	p->state = PROBER_CLOSING;
	p->in_close = true;
	p->close_cb = cb;
	p->close_data = data;
	while (p->checks != NULL)
		check_remove(p->checks);
	/* Every easy handle is out. */
	curl_loop_close(p->curl, prober_on_curl_closed, p);
	p->curl = NULL;
	p->in_close = false;
	prober_maybe_finish(p);
}
