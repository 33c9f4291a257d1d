/* DESIGN: libmicrohttpd without threads of its own (MHD_USE_EPOLL and no
 * internal polling thread): it runs only inside MHD_run, which this file
 * calls from the loop when MHD's epoll fd is readable (uv_poll) or its
 * timeout is due (uv_timer; a timeout of 0 means "call again now", which
 * MHD's edge-triggered epoll needs). A request whose answer is not ready
 * when its handler returns is suspended (MHD_suspend_connection); the
 * answer resumes it, which MHD signals through its ITC pipe in the same
 * epoll set, so the next loop turn queues the response.
 *
 * A request is freed when both MHD is done with it (completed callback)
 * and its handler answered; whichever comes second frees it. */
#include "node/api/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "node/common/errcode.h"

#define DEFAULT_MAX_BODY	((size_t)4 << 20)
#define DEFAULT_MAX_CONNECTIONS 256
#define DEFAULT_IDLE_TIMEOUT_S	30
#define DEFAULT_MAX_BUFFERED	((size_t)128 << 20)
#define DEFAULT_BODY_TIMEOUT_S	60
/* MHD's own buffer per connection (request line, headers): its default,
 * said explicitly. */
#define CONNECTION_MEMORY ((size_t)32 << 10)
/* Connections MHD accepts past max_connections, to answer them 503 rather
 * than reset them; beyond these MHD refuses to accept. */
#define OVERFLOW_CONNECTIONS 16

struct http_request {
	struct http_server *srv; /* NULL once the server is gone */
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	uint8_t *body;
	size_t len, cap;
	size_t max_body;   /* this request's limit */
	size_t charged;	   /* bytes counted in srv->buffered */
	uint64_t start_ms; /* first byte of the request (loop time) */
	bool too_big;
	bool started;	/* handed to the handler */
	bool answered;	/* http_respond called */
	bool suspended; /* MHD_suspend_connection in force */
	bool mhd_done;	/* MHD's completed callback ran */
	struct MHD_Response *resp;
	unsigned status;
	const char *operation; /* http_request_set_operation, NULL: none */
	char peer[INET6_ADDRSTRLEN];
	struct http_request *prev,
	    *next; /* srv->pending: started, unanswered */
};

struct http_server {
	uv_loop_t *loop;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	int handles; /* open uv handles */
	bool closing;
	size_t max_body;
	size_t (*max_body_of)(void *data, const char *method, const char *path);
	size_t max_buffered, buffered; /* request bytes held, all requests */
	unsigned max_connections, connections;
	uint64_t body_timeout_ms;
	struct http_server_stats stats;
	http_handler_fn handler;
	void (*on_response)(void *data, const char *operation, unsigned status);
	void *data;
	int port;
	struct http_request *pending;
};

/* --- running MHD from the loop --- */

static void server_run(struct http_server *s);

static void on_timer(uv_timer_t *t)
{
	server_run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status, (void)events;
	server_run(p->data);
}

static void server_run(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (s->closing)
		return;
	MHD_run(s->mhd);
	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		uv_timer_start(&s->timer, on_timer, ms > 60000 ? 60000 : ms, 0);
	else
		uv_timer_stop(&s->timer);
}

/* --- requests --- */

static void pending_add(struct http_server *s, struct http_request *r)
{
	r->prev = NULL;
	r->next = s->pending;
	if (s->pending != NULL)
		s->pending->prev = r;
	s->pending = r;
}

static void pending_remove(struct http_server *s, struct http_request *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		s->pending = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

/* Counts want bytes of r against the server's cap (never less than
 * already counted). false when they do not fit. */
static bool charge(struct http_request *r, size_t want)
{
	struct http_server *s = r->srv;
	if (s == NULL || want <= r->charged)
		return true;
	size_t more = want - r->charged;
	if (s->buffered + more > s->max_buffered)
		return false;
	s->buffered += more;
	r->charged = want;
	return true;
}

static void uncharge(struct http_request *r)
{
	if (r->srv != NULL)
		r->srv->buffered -= r->charged;
	r->charged = 0;
}

static void request_free(struct http_request *r)
{
	uncharge(r);
	if (r->resp != NULL)
		MHD_destroy_response(r->resp);
	free(r->body);
	free(r);
}

static struct MHD_Response *text_response(const char *text)
{
	return MHD_create_response_from_buffer(strlen(text), (void *)text,
					       MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result queue(struct http_request *r);

/* Answers r at once, before its body is read (MHD then drops the body
 * and closes the connection). */
static enum MHD_Result refuse_early(struct http_request *r, unsigned status,
				    const char *text)
{
	r->started = true;
	r->answered = true;
	r->status = status;
	r->resp = text_response(text);
	if (r->resp == NULL)
		return MHD_NO;
	MHD_add_response_header(r->resp, "Connection", "close");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(r->resp, "Retry-After", "1");
	return queue(r);
}

static enum MHD_Result queue(struct http_request *r)
{
	enum MHD_Result ret = MHD_queue_response(r->conn, r->status, r->resp);
	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return ret;
}

static void peer_text(struct http_request *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	    r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	r->peer[0] = '\0';
	if (ci == NULL || ci->client_addr == NULL)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  r->peer, sizeof(r->peer));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr,
			  r->peer, sizeof(r->peer));
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
				 const char *url, const char *method,
				 const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_request *r = *con_cls;
	(void)version;

	if (r == NULL) {
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return MHD_NO; /* MHD closes the connection */
		r->srv = s;
		r->conn = conn;
		r->method = method;
		r->path = url;
		r->max_body = s->max_body;
		if (s->max_body_of != NULL) {
			size_t m = s->max_body_of(s->data, method, url);
			if (m != 0)
				r->max_body = m;
		}
		peer_text(r);
		r->start_ms = uv_now(s->loop);
		*con_cls = r;
		if (s->connections > s->max_connections) {
			s->stats.refused_connections++;
			return refuse_early(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					    "too many connections\n");
		}
		/* The announced body is refused, or counted against the
		 * server's cap, before a byte of it is read. */
		const char *cl = MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			char *end;
			unsigned long long n = strtoull(cl, &end, 10);
			if (n > r->max_body) {
				s->stats.refused_too_large++;
				return refuse_early(r,
						    MHD_HTTP_CONTENT_TOO_LARGE,
						    "request body too large\n");
			}
			if (!charge(r, (size_t)n + 1)) {
				s->stats.refused_buffered++;
				return refuse_early(
				    r, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "server busy: too many request bytes "
				    "buffered\n");
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		/* A body trickled in slower than the deadline: the idle
		 * timeout alone never fires while bytes keep coming. */
		if (uv_now(s->loop) - r->start_ms > s->body_timeout_ms) {
			s->stats.slow_bodies++;
			return MHD_NO; /* MHD closes the connection */
		}
		if (r->too_big || r->len + n > r->max_body) {
			r->too_big = true;
			return MHD_YES; /* read and drop the rest */
		}
		if (r->len + n + 1 > r->cap) {
			size_t cap = r->cap ? r->cap : 4096;
			while (cap < r->len + n + 1)
				cap *= 2;
			/* Not past what is reserved or allowed. */
			if (r->charged >= r->len + n + 1 && cap > r->charged)
				cap = r->charged;
			if (cap > r->max_body + 1 &&
			    r->len + n + 1 <= r->max_body + 1)
				cap = r->max_body + 1;
			if (!charge(r, cap)) {
				s->stats.refused_buffered++;
				return MHD_NO;
			}
			uint8_t *b = realloc(r->body, cap);
			if (b == NULL)
				return MHD_NO;
			r->body = b;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload_data, n);
		r->len += n;
		r->body[r->len] = '\0';
		return MHD_YES;
	}
	if (r->resp != NULL)
		return queue(r);
	if (r->started)
		return MHD_YES; /* still waiting: suspended again below */
	r->started = true;
	if (r->too_big) {
		s->stats.refused_too_large++;
		r->answered = true;
		r->status = 413;
		r->resp = text_response("request body too large\n");
		return r->resp != NULL ? queue(r) : MHD_NO;
	}
	pending_add(s, r);
	s->handler(s->data, r);
	if (r->resp != NULL)
		return queue(r); /* answered at once */
	r->suspended = true;
	MHD_suspend_connection(conn);
	return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *conn,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	(void)conn, (void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		s->connections++;
	else if (s->connections > 0)
		s->connections--;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_request *r = *con_cls;
	(void)cls, (void)conn, (void)toe;

	if (r == NULL)
		return;
	*con_cls = NULL;
	r->mhd_done = true;
	r->conn = NULL;
	if (!r->started || r->answered)
		request_free(r);
	/* else: the handler still holds it; http_respond frees it */
}

void http_respond(struct http_request *r, unsigned status,
		  const char *content_type, const void *body, size_t len,
		  const char *const *headers)
{
	struct http_server *s = r->srv;

	r->answered = true;
	if (s != NULL && s->on_response != NULL)
		s->on_response(s->data, r->operation, status);
	if (s != NULL)
		pending_remove(s, r);
	if (r->mhd_done || s == NULL) {
		request_free(r);
		return;
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		resp = text_response("out of memory\n");
	} else {
		if (content_type != NULL)
			MHD_add_response_header(resp, "Content-Type",
						content_type);
		for (size_t i = 0; headers != NULL && headers[i] != NULL;
		     i += 2)
			MHD_add_response_header(resp, headers[i],
						headers[i + 1]);
	}
	r->resp = resp;
	r->status = status;
	if (r->suspended) {
		r->suspended = false;
		MHD_resume_connection(r->conn);
		uv_timer_start(&s->timer, on_timer, 0, 0);
	}
}

/* --- request accessors --- */

void http_request_set_operation(struct http_request *r, const char *operation)
{
	r->operation = operation;
}

const char *http_request_method(const struct http_request *r)
{
	return r->method;
}

const char *http_request_path(const struct http_request *r)
{
	return r->path;
}

const char *http_request_header(const struct http_request *r, const char *name)
{
	return r->conn != NULL
		   ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name)
		   : NULL;
}

const char *http_request_query(const struct http_request *r, const char *name)
{
	return r->conn != NULL ? MHD_lookup_connection_value(
				     r->conn, MHD_GET_ARGUMENT_KIND, name)
			       : NULL;
}

struct kv_ctx {
	http_kv_fn fn;
	void *ctx;
};

static enum MHD_Result kv_iter(void *cls, enum MHD_ValueKind kind,
			       const char *key, const char *value)
{
	struct kv_ctx *k = cls;
	(void)kind;
	k->fn(k->ctx, key, value);
	return MHD_YES;
}

void http_request_headers(const struct http_request *r, http_kv_fn fn,
			  void *ctx)
{
	struct kv_ctx k = {fn, ctx};
	if (r->conn != NULL)
		MHD_get_connection_values(r->conn, MHD_HEADER_KIND, kv_iter,
					  &k);
}

void http_request_queries(const struct http_request *r, http_kv_fn fn,
			  void *ctx)
{
	struct kv_ctx k = {fn, ctx};
	if (r->conn != NULL)
		MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND,
					  kv_iter, &k);
}

const uint8_t *http_request_body(const struct http_request *r, size_t *len)
{
	*len = r->len;
	return r->body != NULL ? r->body : (const uint8_t *)"";
}

const char *http_request_peer(const struct http_request *r)
{
	return r->peer;
}

/* --- lifecycle --- */

static int parse_listen(const char *listen, struct sockaddr_storage *ss,
			char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(listen, ':');
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || colon == listen ||
	    (size_t)(colon - listen) >= sizeof(host))
		goto bad;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 0 ||
	    port > 65535)
		goto bad;
	if (host[0] == '[') {
		size_t n = strlen(host);
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		if (n < 3 || host[n - 1] != ']')
			goto bad;
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			goto bad;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		goto bad;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	return 0;
bad:
	snprintf(err, errlen,
		 "HTTP listen address '%s': want IPv4:PORT or [IPv6]:PORT",
		 listen);
	return Q53_EINVAL;
}

int http_server_start(struct http_server **out, uv_loop_t *loop,
		      const struct http_server_config *config, char *err,
		      size_t errlen)
{
	struct sockaddr_storage ss;
	int rv;

	*out = NULL;
	rv = parse_listen(config->listen, &ss, err, errlen);
	if (rv != 0)
		return rv;
	struct http_server *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return Q53_ENOMEM;
	}
	s->loop = loop;
	s->handler = config->handler;
	s->data = config->data;
	s->on_response = config->on_response;
	s->max_body = config->max_body ? config->max_body : DEFAULT_MAX_BODY;
	s->max_body_of = config->max_body_of;
	const struct http_server_limits *l = &config->limits;
	s->max_buffered =
	    l->max_buffered ? l->max_buffered : DEFAULT_MAX_BUFFERED;
	s->max_connections =
	    l->max_connections ? l->max_connections : DEFAULT_MAX_CONNECTIONS;
	s->body_timeout_ms =
	    1000u *
	    (l->body_timeout_s ? l->body_timeout_s : DEFAULT_BODY_TIMEOUT_S);
	unsigned flags =
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_OptionItem tls[3] = {{MHD_OPTION_END, 0, NULL}};
	if (config->tls_cert_pem != NULL && config->tls_key_pem != NULL) {
		flags |= MHD_USE_TLS;
		tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
						 (void *)config->tls_cert_pem};
		tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
						 (void *)config->tls_key_pem};
	}
	s->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_access, s, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	    MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)(s->max_connections + OVERFLOW_CONNECTIONS),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)(l->idle_timeout_s ? l->idle_timeout_s
					 : DEFAULT_IDLE_TIMEOUT_S),
	    MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
	if (s->mhd == NULL) {
		snprintf(err, errlen,
			 "HTTP: cannot listen on %s (address in use, not "
			 "local%s?)",
			 config->listen,
			 flags & MHD_USE_TLS
			     ? ", or the TLS certificate and key do not match"
			     : "");
		free(s);
		return Q53_EEXIST;
	}
	const union MHD_DaemonInfo *di =
	    MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di != NULL ? di->port : 0;
	di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL || uv_poll_init(loop, &s->poll, di->epoll_fd) != 0) {
		snprintf(err, errlen, "HTTP: cannot watch the epoll fd");
		MHD_stop_daemon(s->mhd);
		free(s);
		return Q53_ENOMEM;
	}
	s->poll.data = s;
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	s->handles = 2;
	uv_poll_start(&s->poll, UV_READABLE, on_poll);
	*out = s;
	return 0;
}

bool http_listen_is_loopback(const char *listen)
{
	struct sockaddr_storage ss;
	char err[128];

	if (parse_listen(listen, &ss, err, sizeof(err)) != 0)
		return false;
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >>
			24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
}

int http_server_port(const struct http_server *s)
{
	return s->port;
}

static void on_handle_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;
	if (--s->handles == 0)
		free(s);
}

void http_server_close(struct http_server *s)
{
	s->closing = true;
	/* Requests still with their handlers: their answers go nowhere. */
	for (struct http_request *r = s->pending; r != NULL;) {
		struct http_request *next = r->next;
		r->srv = NULL;
		r->prev = r->next = NULL;
		if (r->suspended) {
			r->suspended = false;
			MHD_resume_connection(r->conn);
		}
		r = next;
	}
	s->pending = NULL;
	uv_poll_stop(&s->poll);
	uv_timer_stop(&s->timer);
	/* Resumed connections are closed here; their completed callbacks
	 * mark the requests done (the handlers still free them). */
	MHD_stop_daemon(s->mhd);
	s->mhd = NULL;
	uv_close((uv_handle_t *)&s->poll, on_handle_closed);
	uv_close((uv_handle_t *)&s->timer, on_handle_closed);
}

void http_server_stats(const struct http_server *s,
		       struct http_server_stats *out)
{
	*out = s->stats;
	out->connections = s->connections;
	out->buffered = s->buffered;
}
