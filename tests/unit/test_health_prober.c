/* The prober on a real libuv loop against endpoints this test starts on
 * 127.0.0.1 (ephemeral ports): a tiny HTTP server answering fixed
 * responses (200, 503, 301, bodies with the search string just inside and
 * just beyond 5,120 bytes, a scripted flapping sequence, non-TLS bytes to a
 * TLS client, and one that accepts but never answers), a bound but
 * non-listening port (connect refused). Asserts results, reasons and that
 * verdicts change exactly at the FailureThreshold-th result the other way.
 * Timeouts and the interval unit are shrunk for the test; every wait runs
 * the loop until a condition holds or a deadline timer fires. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "node/common/errcode.h"
#include "node/health/check_config.h"
#include "node/health/prober.h"

#define DEADLINE_MS 10000
#define CONNECT_MS  1000
#define RESPONSE_MS 500
#define TCP_MS	    1000
#define UNIT_MS	    40 /* one RequestInterval "second" */
#define NEEDLE	    "QUORUM53-ALIVE"
#define LIMIT	    5120
#define MAX_EVENTS  512

enum mode {
	M_200,
	M_503,
	M_301,
	M_MATCH_INSIDE,	 /* needle ends exactly at byte 5,120 */
	M_MATCH_BEYOND,	 /* needle ends at byte 5,121 */
	M_SEQUENCE,	 /* 200, 200, then 503 / 200 alternating */
	M_NOT_TLS,	 /* answers plain HTTP to anything, even a hello */
	M_HANG,		 /* accepts, reads, never answers */
	M_NOT_LISTENING, /* bound only: connects are refused */
};

struct server {
	uv_tcp_t tcp;
	enum mode mode;
	uint16_t port;
	unsigned accepted;
	unsigned answered;
	char last_request[1024];
	struct fixture *f;
};

struct client {
	uv_tcp_t tcp;
	uv_write_t write;
	struct server *s;
	char buf[4096];
	size_t len;
	bool answered;
	struct client *prev, *next;
};

struct event {
	enum health_prober_event_kind kind;
	char id[HEALTH_CHECK_ID_MAX + 1];
	bool healthy;
	char reason[128];
	uint64_t results;
};

enum {
	S_200,
	S_503,
	S_301,
	S_INSIDE,
	S_BEYOND,
	S_SEQ,
	S_NOTLS,
	S_HANG,
	S_CLOSED,
	N_SERVERS
};

struct fixture {
	uv_loop_t loop;
	uv_timer_t deadline;
	bool expired;
	struct server servers[N_SERVERS];
	struct client *clients;
	unsigned open_handles;
	struct health_prober *p;
	bool prober_closed;
	struct event events[MAX_EVENTS];
	size_t n_events;
	/* hooks run from the verdict callback */
	const char *flip_id; /* on its first CHANGED, flip_server -> M_200 */
	struct server *flip_server;
	const char *close_on_id; /* close the prober from the callback */
};

static char *body_inside;
static char *body_beyond;

/* --- the test's endpoints --- */

static void on_handle_closed(uv_handle_t *h)
{
	struct fixture *f = h->loop->data;

	f->open_handles--;
}

static void on_client_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct fixture *f = c->s->f;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		f->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	f->open_handles--;
}

static void client_close(struct client *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, on_client_closed);
}

static void on_written(uv_write_t *req, int status)
{
	struct client *c = req->data;

	(void)status;
	client_close(c);
}

static const char *response_for(struct server *s, unsigned n)
{
	static char buf[LIMIT * 2 + 256];
	enum mode m = s->mode;

	if (m == M_SEQUENCE)
		m = (n < 2 || n % 2 == 1) ? M_200 : M_503;
	switch (m) {
	case M_200:
	case M_NOT_TLS:
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		       "Connection: close\r\n\r\nok";
	case M_503:
		return "HTTP/1.1 503 Service Unavailable\r\n"
		       "Content-Length: 4\r\nConnection: close\r\n\r\ndown";
	case M_301:
		return "HTTP/1.1 301 Moved Permanently\r\n"
		       "Location: http://127.0.0.1:1/\r\n"
		       "Content-Length: 0\r\nConnection: close\r\n\r\n";
	case M_MATCH_INSIDE:
	case M_MATCH_BEYOND: {
		const char *body =
		    m == M_MATCH_INSIDE ? body_inside : body_beyond;
		snprintf(buf, sizeof(buf),
			 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 strlen(body), body);
		return buf;
	}
	default:
		return NULL;
	}
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct client *c = h->data;

	(void)hint;
	buf->base = c->buf + c->len;
	buf->len = sizeof(c->buf) - 1 - c->len;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = stream->data;
	struct server *s = c->s;
	const char *resp;
	uv_buf_t out;

	(void)buf;
	if (nread < 0 || c->len + (size_t)nread >= sizeof(c->buf) - 1) {
		client_close(c);
		return;
	}
	c->len += (size_t)nread;
	c->buf[c->len] = '\0';
	if (c->answered)
		return;
	if (s->mode != M_NOT_TLS && strstr(c->buf, "\r\n\r\n") == NULL)
		return;
	if (s->mode != M_NOT_TLS)
		snprintf(s->last_request, sizeof(s->last_request), "%.1000s",
			 c->buf);
	resp = response_for(s, s->answered);
	if (resp == NULL)
		return; /* M_HANG */
	s->answered++;
	c->answered = true;
	out = uv_buf_init((char *)resp, (unsigned)strlen(resp));
	c->write.data = c;
	if (uv_write(&c->write, stream, &out, 1, on_written) != 0)
		client_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct server *s = server->data;
	struct fixture *f = s->f;
	struct client *c;

	assert_int_equal(status, 0);
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->s = s;
	assert_int_equal(uv_tcp_init(&f->loop, &c->tcp), 0);
	c->tcp.data = c;
	f->open_handles++;
	c->next = f->clients;
	if (f->clients != NULL)
		f->clients->prev = c;
	f->clients = c;
	assert_int_equal(uv_accept(server, (uv_stream_t *)&c->tcp), 0);
	s->accepted++;
	assert_int_equal(
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read), 0);
}

static void server_start(struct fixture *f, struct server *s, enum mode m)
{
	struct sockaddr_in addr;
	struct sockaddr_storage bound;
	int len = sizeof(bound);

	s->f = f;
	s->mode = m;
	assert_int_equal(uv_tcp_init(&f->loop, &s->tcp), 0);
	s->tcp.data = s;
	f->open_handles++;
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
	assert_int_equal(uv_tcp_bind(&s->tcp, (struct sockaddr *)&addr, 0), 0);
	if (m != M_NOT_LISTENING)
		assert_int_equal(
		    uv_listen((uv_stream_t *)&s->tcp, 64, on_connection), 0);
	assert_int_equal(
	    uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&bound, &len), 0);
	s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
	assert_true(s->port != 0);
}

/* --- prober events --- */

static void on_prober_closed(void *data);

static void record(struct fixture *f, const struct health_prober_event *ev)
{
	struct event *e;

	assert_true(f->n_events < MAX_EVENTS);
	e = &f->events[f->n_events++];
	e->kind = ev->kind;
	snprintf(e->id, sizeof(e->id), "%s", ev->check_id);
	e->healthy = ev->healthy;
	snprintf(e->reason, sizeof(e->reason), "%s", ev->reason);
	e->results = ev->results;
}

static void on_result(void *data, const struct health_prober_event *ev)
{
	struct fixture *f = data;

	assert_int_equal(ev->kind, HEALTH_PROBER_RESULT);
	record(f, ev);
}

static void on_verdict(void *data, const struct health_prober_event *ev)
{
	struct fixture *f = data;

	assert_true(ev->kind == HEALTH_PROBER_CHANGED ||
		    ev->kind == HEALTH_PROBER_REFRESH);
	record(f, ev);
	if (f->flip_id != NULL && strcmp(ev->check_id, f->flip_id) == 0) {
		f->flip_server->mode = M_200;
		f->flip_id = NULL;
	}
	if (f->close_on_id != NULL &&
	    strcmp(ev->check_id, f->close_on_id) == 0) {
		f->close_on_id = NULL;
		health_prober_close(f->p, on_prober_closed, f);
		f->p = NULL;
	}
}

static size_t count(const struct fixture *f, const char *id,
		    enum health_prober_event_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < f->n_events; i++)
		if (f->events[i].kind == kind &&
		    strcmp(f->events[i].id, id) == 0)
			n++;
	return n;
}

/* The i-th (0-based) event of that kind for id. */
static const struct event *nth(const struct fixture *f, const char *id,
			       enum health_prober_event_kind kind, size_t i)
{
	size_t k;

	for (k = 0; k < f->n_events; k++)
		if (f->events[k].kind == kind &&
		    strcmp(f->events[k].id, id) == 0 && i-- == 0)
			return &f->events[k];
	fail_msg("no event %zu of kind %d for %s", i, kind, id);
	return NULL;
}

/* --- loop driving --- */

static void on_deadline(uv_timer_t *t)
{
	struct fixture *f = t->data;

	f->expired = true;
}

typedef bool (*cond_fn)(struct fixture *f, const void *arg);

static bool run_until(struct fixture *f, cond_fn cond, const void *arg,
		      uint64_t ms)
{
	bool ok;

	f->expired = false;
	uv_timer_start(&f->deadline, on_deadline, ms, 0);
	while (!(ok = cond(f, arg)) && !f->expired)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_timer_stop(&f->deadline);
	return ok;
}

struct want {
	const char *ids[8];
	enum health_prober_event_kind kind;
	size_t n; /* at least this many events of kind for each id */
};

static bool have_events(struct fixture *f, const void *arg)
{
	const struct want *w = arg;
	size_t i;

	for (i = 0; i < 8 && w->ids[i] != NULL; i++)
		if (count(f, w->ids[i], w->kind) < w->n)
			return false;
	return true;
}

static bool prober_gone(struct fixture *f, const void *arg)
{
	(void)arg;
	return f->prober_closed;
}

static bool server_accepted(struct fixture *f, const void *arg)
{
	const struct server *s = arg;

	(void)f;
	return s->accepted > 0;
}

/* --- setup --- */

static void on_prober_closed(void *data)
{
	struct fixture *f = data;

	f->prober_closed = true;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct health_prober_options opt = {
	    .on_verdict = on_verdict,
	    .on_result = on_result,
	    .connect_timeout_ms = CONNECT_MS,
	    .response_timeout_ms = RESPONSE_MS,
	    .tcp_timeout_ms = TCP_MS,
	    .interval_unit_ms = UNIT_MS,
	    .refresh_ms = UINT64_MAX,
	};
	static const enum mode modes[N_SERVERS] = {
	    [S_200] = M_200,
	    [S_503] = M_503,
	    [S_301] = M_301,
	    [S_INSIDE] = M_MATCH_INSIDE,
	    [S_BEYOND] = M_MATCH_BEYOND,
	    [S_SEQ] = M_SEQUENCE,
	    [S_NOTLS] = M_NOT_TLS,
	    [S_HANG] = M_HANG,
	    [S_CLOSED] = M_NOT_LISTENING,
	};
	size_t i;

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->loop.data = f;
	assert_int_equal(uv_timer_init(&f->loop, &f->deadline), 0);
	f->deadline.data = f;
	f->open_handles = 1;
	for (i = 0; i < N_SERVERS; i++)
		server_start(f, &f->servers[i], modes[i]);
	opt.data = f;
	assert_int_equal(health_prober_init(&f->p, &f->loop, &opt), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct client *c;
	size_t i;

	if (f->p != NULL) {
		health_prober_close(f->p, on_prober_closed, f);
		f->p = NULL;
	}
	assert_true(run_until(f, prober_gone, NULL, DEADLINE_MS));
	for (c = f->clients; c != NULL; c = c->next)
		client_close(c);
	for (i = 0; i < N_SERVERS; i++)
		uv_close((uv_handle_t *)&f->servers[i].tcp, on_handle_closed);
	uv_close((uv_handle_t *)&f->deadline, on_handle_closed);
	/* No deadline timer any more: every remaining callback is a close
	 * callback, so this ends. */
	while (f->open_handles > 0)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(uv_run(&f->loop, UV_RUN_NOWAIT), 0);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
	return 0;
}

static struct health_check_config http(enum health_check_type type,
				       uint16_t port, unsigned threshold)
{
	struct health_check_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.type = type;
	snprintf(cfg.ip_address, sizeof(cfg.ip_address), "127.0.0.1");
	cfg.port = port;
	cfg.request_interval = 1;
	cfg.failure_threshold = threshold;
	cfg.healthy_share = 50;
	if (health_check_type_matches_string(type))
		snprintf(cfg.search_string, sizeof(cfg.search_string), "%s",
			 NEEDLE);
	return cfg;
}

static void add(struct fixture *f, const char *id,
		const struct health_check_config *cfg)
{
	assert_int_equal(health_prober_add(f->p, id, cfg), 0);
}

/* Every result of id up to its first CHANGED event had `reason`, and the
 * change came with the threshold-th one, carrying `healthy`. */
static void assert_changed_at(const struct fixture *f, const char *id,
			      unsigned threshold, bool healthy,
			      const char *reason)
{
	const struct event *ch = nth(f, id, HEALTH_PROBER_CHANGED, 0);
	size_t i;

	assert_int_equal(ch->results, threshold);
	assert_int_equal(ch->healthy, healthy);
	assert_string_equal(ch->reason, reason);
	for (i = 0; i < threshold; i++) {
		const struct event *r = nth(f, id, HEALTH_PROBER_RESULT, i);
		if (strcmp(r->reason, reason) != 0)
			fail_msg("%s result %zu: \"%s\", expected \"%s\"", id,
				 i, r->reason, reason);
		assert_int_equal(r->results, i + 1);
	}
}

/* --- tests --- */

static void test_http_statuses(void **state)
{
	struct fixture *f = *state;
	struct health_check_config ok =
	    http(HEALTH_CHECK_HTTP, f->servers[S_200].port, 2);
	struct health_check_config down =
	    http(HEALTH_CHECK_HTTP, f->servers[S_503].port, 3);
	struct health_check_config moved =
	    http(HEALTH_CHECK_HTTP, f->servers[S_301].port, 1);
	struct health_check_config refused =
	    http(HEALTH_CHECK_HTTP, f->servers[S_CLOSED].port, 2);
	struct health_check_config hang =
	    http(HEALTH_CHECK_HTTP, f->servers[S_HANG].port, 1);
	struct want w = {.ids = {"ok", "down", "moved", "refused", "hang"},
			 .kind = HEALTH_PROBER_CHANGED,
			 .n = 1};

	snprintf(ok.resource_path, sizeof(ok.resource_path), "/health?x=1");
	snprintf(ok.fqdn, sizeof(ok.fqdn), "app.example");
	add(f, "ok", &ok);
	add(f, "down", &down);
	add(f, "moved", &moved);
	add(f, "refused", &refused);
	add(f, "hang", &hang);
	assert_int_equal(health_prober_start(f->p), 0);
	assert_true(run_until(f, have_events, &w, DEADLINE_MS));

	assert_changed_at(f, "ok", 2, true, "HTTP 200");
	assert_changed_at(f, "down", 3, false, "HTTP 503");
	assert_changed_at(f, "moved", 1, true, "HTTP 301");
	assert_changed_at(f, "refused", 2, false, "connect refused");
	assert_changed_at(f, "hang", 1, false, "timeout");
	/* Request line and Host (the name, with the non-default port). */
	{
		char host[64];
		assert_non_null(strstr(f->servers[S_200].last_request,
				       "GET /health?x=1 HTTP/1.1\r\n"));
		snprintf(host, sizeof(host), "Host: app.example:%u\r\n",
			 f->servers[S_200].port);
		assert_non_null(strstr(f->servers[S_200].last_request, host));
	}
	/* Only one verdict each so far: steady results change nothing. */
	assert_int_equal(count(f, "ok", HEALTH_PROBER_CHANGED), 1);
	assert_int_equal(count(f, "down", HEALTH_PROBER_CHANGED), 1);
}

static void test_string_match(void **state)
{
	struct fixture *f = *state;
	struct health_check_config inside =
	    http(HEALTH_CHECK_HTTP_STR_MATCH, f->servers[S_INSIDE].port, 2);
	struct health_check_config beyond =
	    http(HEALTH_CHECK_HTTP_STR_MATCH, f->servers[S_BEYOND].port, 2);
	struct health_check_config status =
	    http(HEALTH_CHECK_HTTP_STR_MATCH, f->servers[S_503].port, 1);
	struct want w = {.ids = {"inside", "beyond", "status"},
			 .kind = HEALTH_PROBER_CHANGED,
			 .n = 1};

	add(f, "inside", &inside);
	add(f, "beyond", &beyond);
	add(f, "status", &status);
	assert_int_equal(health_prober_start(f->p), 0);
	assert_true(run_until(f, have_events, &w, DEADLINE_MS));
	assert_changed_at(f, "inside", 2, true,
			  "HTTP 200, search string found");
	assert_changed_at(f, "beyond", 2, false, "search string not found");
	/* The string does not rescue a failing status. */
	assert_changed_at(f, "status", 1, false, "HTTP 503");
}

static void test_tcp_and_tls(void **state)
{
	struct fixture *f = *state;
	struct health_check_config up =
	    http(HEALTH_CHECK_TCP, f->servers[S_200].port, 2);
	struct health_check_config refused =
	    http(HEALTH_CHECK_TCP, f->servers[S_CLOSED].port, 2);
	struct health_check_config inverted =
	    http(HEALTH_CHECK_TCP, f->servers[S_200].port, 1);
	struct health_check_config tls =
	    http(HEALTH_CHECK_HTTPS, f->servers[S_NOTLS].port, 1);
	struct want w = {
	    .ids = {"tcp-up", "tcp-refused", "tcp-inverted", "https-plain"},
	    .kind = HEALTH_PROBER_CHANGED,
	    .n = 1};
	const struct event *e;

	inverted.inverted = true;
	tls.enable_sni = true;
	snprintf(tls.fqdn, sizeof(tls.fqdn), "localhost");
	add(f, "tcp-up", &up);
	add(f, "tcp-refused", &refused);
	add(f, "tcp-inverted", &inverted);
	add(f, "https-plain", &tls);
	assert_int_equal(health_prober_start(f->p), 0);
	assert_true(run_until(f, have_events, &w, DEADLINE_MS));
	assert_changed_at(f, "tcp-up", 2, true, "connected");
	assert_changed_at(f, "tcp-refused", 2, false, "connect refused");
	/* Inverted: the endpoint answers, the verdict is unhealthy; the
	 * result itself is reported as the endpoint gave it. */
	assert_changed_at(f, "tcp-inverted", 1, false, "connected");
	e = nth(f, "tcp-inverted", HEALTH_PROBER_RESULT, 0);
	assert_true(e->healthy);
	/* HTTPS really speaks TLS: plain HTTP bytes fail the handshake. */
	assert_changed_at(f, "https-plain", 1, false, "TLS handshake failed");
}

/* Only a name (localhost, from /etc/hosts or libcurl itself: no DNS
 * traffic): resolved to IPv4 per probe. */
static void test_by_name(void **state)
{
	struct fixture *f = *state;
	struct health_check_config web =
	    http(HEALTH_CHECK_HTTP, f->servers[S_200].port, 1);
	struct health_check_config up =
	    http(HEALTH_CHECK_TCP, f->servers[S_200].port, 1);
	struct health_check_config refused =
	    http(HEALTH_CHECK_TCP, f->servers[S_CLOSED].port, 1);
	struct want w = {.ids = {"web", "up", "refused"},
			 .kind = HEALTH_PROBER_CHANGED,
			 .n = 1};
	char host[64];

	web.ip_address[0] = up.ip_address[0] = refused.ip_address[0] = '\0';
	snprintf(web.fqdn, sizeof(web.fqdn), "localhost");
	snprintf(up.fqdn, sizeof(up.fqdn), "localhost");
	snprintf(refused.fqdn, sizeof(refused.fqdn), "localhost");
	add(f, "web", &web);
	add(f, "up", &up);
	add(f, "refused", &refused);
	assert_int_equal(health_prober_start(f->p), 0);
	assert_true(run_until(f, have_events, &w, DEADLINE_MS));
	assert_changed_at(f, "web", 1, true, "HTTP 200");
	assert_changed_at(f, "up", 1, true, "connected");
	assert_changed_at(f, "refused", 1, false, "connect refused");
	snprintf(host, sizeof(host), "Host: localhost:%u\r\n",
		 f->servers[S_200].port);
	assert_non_null(strstr(f->servers[S_200].last_request, host));
}

static void test_recovery_and_flapping(void **state)
{
	struct fixture *f = *state;
	struct health_check_config down =
	    http(HEALTH_CHECK_HTTP, f->servers[S_503].port, 2);
	struct health_check_config flap =
	    http(HEALTH_CHECK_HTTP, f->servers[S_SEQ].port, 2);
	struct want recovered = {
	    .ids = {"down"}, .kind = HEALTH_PROBER_CHANGED, .n = 2};
	struct want flapped = {
	    .ids = {"flap"}, .kind = HEALTH_PROBER_RESULT, .n = 12};
	const struct event *e;
	size_t i;

	/* On its unhealthy verdict (2nd result) the server starts answering
	 * 200: healthy again exactly 2 results later. */
	f->flip_id = "down";
	f->flip_server = &f->servers[S_503];
	add(f, "down", &down);
	add(f, "flap", &flap);
	assert_int_equal(health_prober_start(f->p), 0);
	assert_true(run_until(f, have_events, &recovered, DEADLINE_MS));
	e = nth(f, "down", HEALTH_PROBER_CHANGED, 0);
	assert_false(e->healthy);
	assert_int_equal(e->results, 2);
	e = nth(f, "down", HEALTH_PROBER_CHANGED, 1);
	assert_true(e->healthy);
	assert_int_equal(e->results, 4);
	assert_string_equal(e->reason, "HTTP 200");

	/* 200, 200 (healthy at 2), then 503 and 200 alternating: never two
	 * failures in a row, so no other change. */
	assert_true(run_until(f, have_events, &flapped, DEADLINE_MS));
	assert_int_equal(count(f, "flap", HEALTH_PROBER_CHANGED), 1);
	assert_changed_at(f, "flap", 2, true, "HTTP 200");
	for (i = 2; i < 12; i++) {
		e = nth(f, "flap", HEALTH_PROBER_RESULT, i);
		assert_string_equal(e->reason,
				    i % 2 == 0 ? "HTTP 503" : "HTTP 200");
	}
}

static void test_add_remove_disabled(void **state)
{
	struct fixture *f = *state;
	struct health_check_config ok =
	    http(HEALTH_CHECK_HTTP, f->servers[S_200].port, 1);
	struct health_check_config off =
	    http(HEALTH_CHECK_HTTP, f->servers[S_301].port, 1);
	struct health_check_config hang =
	    http(HEALTH_CHECK_HTTP, f->servers[S_HANG].port, 1);
	struct health_check_config calc;
	struct health_observer obs;
	struct want some = {
	    .ids = {"ok"}, .kind = HEALTH_PROBER_RESULT, .n = 5};
	char child[1][HEALTH_CHECK_ID_MAX + 1] = {"ok"};

	memset(&calc, 0, sizeof(calc));
	calc.type = HEALTH_CHECK_CALCULATED;
	calc.children = child;
	calc.n_children = 1;
	calc.health_threshold = 1;
	assert_int_equal(health_prober_add(f->p, "calc", &calc), Q53_EINVAL);
	assert_int_equal(health_prober_add(f->p, "", &ok), Q53_EINVAL);
	ok.failure_threshold = 0; /* invalid */
	assert_int_equal(health_prober_add(f->p, "ok", &ok), Q53_EINVAL);
	ok.failure_threshold = 1;
	add(f, "ok", &ok);
	assert_int_equal(health_prober_add(f->p, "ok", &ok), Q53_EEXIST);
	assert_int_equal(health_prober_remove(f->p, "nope"), Q53_ENOENT);
	off.disabled = true;
	add(f, "off", &off);
	assert_int_equal(health_prober_observer(f->p, "off", &obs), 0);
	assert_int_equal(obs.state, HEALTH_OBSERVER_HEALTHY);

	/* Added after start: probed at once. Removed while its probe hangs:
	 * no event ever. */
	assert_int_equal(health_prober_start(f->p), 0);
	assert_int_equal(health_prober_start(f->p), Q53_EINVAL);
	add(f, "hang", &hang);
	assert_true(
	    run_until(f, server_accepted, &f->servers[S_HANG], DEADLINE_MS));
	assert_int_equal(health_prober_remove(f->p, "hang"), 0);
	assert_int_equal(health_prober_observer(f->p, "hang", &obs),
			 Q53_ENOENT);
	/* Same id again right away: a new check. */
	add(f, "hang", &hang);
	assert_int_equal(health_prober_remove(f->p, "hang"), 0);

	assert_true(run_until(f, have_events, &some, DEADLINE_MS));
	assert_int_equal(count(f, "hang", HEALTH_PROBER_RESULT), 0);
	/* The disabled check was never probed. */
	assert_int_equal(f->servers[S_301].accepted, 0);
	assert_int_equal(count(f, "off", HEALTH_PROBER_RESULT), 0);
	assert_int_equal(health_prober_observer(f->p, "ok", &obs), 0);
	assert_int_equal(obs.state, HEALTH_OBSERVER_HEALTHY);
	assert_true(obs.results >= 5);
}

static void test_close_in_flight_and_from_callback(void **state)
{
	struct fixture *f = *state;
	struct health_check_config hang =
	    http(HEALTH_CHECK_HTTP, f->servers[S_HANG].port, 1);
	struct health_check_config tcp =
	    http(HEALTH_CHECK_TCP, f->servers[S_HANG].port, 1);
	struct health_check_config ok =
	    http(HEALTH_CHECK_HTTP_STR_MATCH, f->servers[S_INSIDE].port, 1);
	size_t before;

	/* The prober is closed from its own verdict callback while other
	 * probes (hanging HTTP, TCP) are in flight. */
	hang.request_interval = 30;
	add(f, "hang", &hang);
	add(f, "tcp", &tcp);
	add(f, "ok", &ok);
	f->close_on_id = "ok";
	assert_int_equal(health_prober_start(f->p), 0);
	assert_true(run_until(f, prober_gone, NULL, DEADLINE_MS));
	assert_int_equal(count(f, "ok", HEALTH_PROBER_CHANGED), 1);
	/* Closed and freed (ASan checks the rest): the two other checks
	 * never got a verdict out after the close. */
	before = f->n_events;
	assert_int_equal(count(f, "hang", HEALTH_PROBER_RESULT), 0);
	assert_int_equal(f->n_events, before);
}

static int setup_bodies(void **state)
{
	size_t pad;

	(void)state;
	/* inside: the needle's last byte is byte 5,120 of the body */
	pad = LIMIT - strlen(NEEDLE);
	body_inside = malloc(LIMIT + 1001);
	body_beyond = malloc(LIMIT + 1002);
	assert_non_null(body_inside);
	assert_non_null(body_beyond);
	memset(body_inside, 'x', pad);
	memcpy(body_inside + pad, NEEDLE, strlen(NEEDLE));
	memset(body_inside + LIMIT, 'y', 1000);
	body_inside[LIMIT + 1000] = '\0';
	/* beyond: one byte later, so it straddles the limit */
	memset(body_beyond, 'x', pad + 1);
	memcpy(body_beyond + pad + 1, NEEDLE, strlen(NEEDLE));
	memset(body_beyond + LIMIT + 1, 'y', 1000);
	body_beyond[LIMIT + 1001] = '\0';
	return 0;
}

static int teardown_bodies(void **state)
{
	(void)state;
	free(body_inside);
	free(body_beyond);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_http_statuses, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_string_match, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_and_tls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_by_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_and_flapping, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_add_remove_disabled, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_close_in_flight_and_from_callback, setup, teardown),
	};

	return cmocka_run_group_tests(tests, setup_bodies, teardown_bodies);
}
