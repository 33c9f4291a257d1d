/* An HTTP/1.1 server on the node's libuv loop: libmicrohttpd in external
 * epoll mode (its epoll fd watched by a uv_poll, its timeouts by a
 * uv_timer), so every request is handled on the loop thread, like the NNG
 * API's. A handler may answer at once or later (e.g. after a Raft commit):
 * the connection is suspended meanwhile, never the loop.
 *
 * Used by the Route 53 REST API (node/api/route53/). Lifecycle (house
 * style #10): http_server_start -> http_server_close. Loop thread only. */
#ifndef Q53_NODE_API_HTTP_SERVER_H
#define Q53_NODE_API_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct http_server;
struct http_request;

/* Called once per complete request (headers and body read), on the loop
 * thread. The handler answers it with exactly one http_respond, now or
 * later; until then r stays valid (even if the client goes away: the
 * answer is then dropped). */
typedef void (*http_handler_fn)(void *data, struct http_request *r);

/* The listener's resource limits (q53d --http-max-connections ...); 0 in
 * any field: its default. */
struct http_server_limits {
	/* More connections get 503 (up to 16 more; beyond, MHD does not
	 * accept). 0 = 256. */
	unsigned max_connections;
	unsigned idle_timeout_s; /* no byte for that long: closed; 0 = 30 */
	/* A request whose body is not complete after this is closed (a body
	 * trickled in, which the idle timeout never ends). 0 = 60. */
	unsigned body_timeout_s;
	/* Bytes of request bodies held by all requests together (reserved
	 * from Content-Length when the headers arrive): a request past it
	 * gets 503 before its body is read. 0 = 128 MiB. */
	size_t max_buffered;
};

struct http_server_config {
	const char *listen; /* "HOST:PORT", "[::1]:PORT"; port 0 = any */
	size_t max_body;    /* larger bodies get 413; 0 = 4 MiB */
	/* Optional: the limit of one request instead (method, path as
	 * http_request_path; 0 = max_body), asked once per request before
	 * its body is read; data is the handler's. */
	size_t (*max_body_of)(void *data, const char *method, const char *path);
	struct http_server_limits limits;
	/* HTTPS (GnuTLS, through libmicrohttpd): the PEM certificate chain
	 * and key, NULL for plain HTTP. Copied by MHD. */
	const char *tls_cert_pem;
	const char *tls_key_pem;
	http_handler_fn handler;
	/* Optional: called by every http_respond with the operation the
	 * handler named (http_request_set_operation, NULL: none) and the
	 * status, for counting; data is the handler's. */
	void (*on_response)(void *data, const char *operation, unsigned status);
	void *data;
};

/* Listens. 0, or Q53_EINVAL / Q53_EEXIST / Q53_ENOMEM with the reason in
 * err. */
int http_server_start(struct http_server **out, uv_loop_t *loop,
		      const struct http_server_config *config, char *err,
		      size_t errlen);
/* Whether listen ("HOST:PORT") is a loopback address (127.0.0.0/8, ::1):
 * false for anything else or a malformed address. */
bool http_listen_is_loopback(const char *listen);
/* The bound TCP port. */
int http_server_port(const struct http_server *s);
/* Stops: requests not answered yet get 503 when their handler answers
 * (the connection is gone by then); closes the socket, frees s. */
void http_server_close(struct http_server *s);

/* What the limits did since start, and what is held now. */
struct http_server_stats {
	uint64_t refused_connections; /* 503: past max_connections */
	uint64_t refused_too_large;   /* 413 */
	uint64_t refused_buffered;    /* 503: past max_buffered */
	uint64_t slow_bodies;	      /* closed: past body_timeout_s */
	unsigned connections;	      /* open now */
	size_t buffered;	      /* request bytes held now */
};
void http_server_stats(const struct http_server *s,
		       struct http_server_stats *out);

/* --- a request (valid until answered) --- */
/* Names the request's operation for on_response (a string that outlives
 * the server, e.g. a literal). */
void http_request_set_operation(struct http_request *r, const char *operation);
const char *http_request_method(const struct http_request *r);
/* The path as sent, %-escapes decoded, without the query string. */
const char *http_request_path(const struct http_request *r);
/* A header's value (case-insensitive name), NULL when absent. */
const char *http_request_header(const struct http_request *r, const char *name);
/* A query argument (decoded), NULL when absent. */
const char *http_request_query(const struct http_request *r, const char *name);
/* Calls fn for every header (name as sent) or every query argument
 * (value NULL for "?flag"). */
typedef void (*http_kv_fn)(void *ctx, const char *name, const char *value);
void http_request_headers(const struct http_request *r, http_kv_fn fn,
			  void *ctx);
void http_request_queries(const struct http_request *r, http_kv_fn fn,
			  void *ctx);
const uint8_t *http_request_body(const struct http_request *r, size_t *len);
/* The client's address ("127.0.0.1"), "" if unknown. */
const char *http_request_peer(const struct http_request *r);

/* Answers: status, a Content-Type, body[0..len) (copied), and extra
 * headers as a NULL-terminated list of name, value pairs (may be NULL).
 * Ends r. */
void http_respond(struct http_request *r, unsigned status,
		  const char *content_type, const void *body, size_t len,
		  const char *const *headers);

#endif
