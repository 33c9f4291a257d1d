/* AWS Signature Version 4 (service "route53"): checking a request's
 * Authorization header the way AWS does, with OpenSSL's SHA-256 and HMAC.
 * Pure: the caller gives the request's parts and the key's secret. */
#ifndef Q53_NODE_API_ROUTE53_SIGV4_H
#define Q53_NODE_API_ROUTE53_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SIGV4_AKID_MAX 128

/* The parts of "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/
 * aws4_request, SignedHeaders=a;b, Signature=HEX". */
struct sigv4_auth {
	char akid[SIGV4_AKID_MAX + 1];
	char date[9]; /* YYYYMMDD */
	char region[64];
	char service[32];
	char signed_headers[1024]; /* "host;x-amz-date", as sent */
	char signature[65];	   /* lowercase hex */
};

/* Parses the Authorization header. 0, or -1 with a message for
 * IncompleteSignature in why. */
int sigv4_parse_auth(const char *header, struct sigv4_auth *out, char *why,
		     size_t whylen);

/* One header's value by lowercase name (NULL when absent). */
typedef const char *(*sigv4_header_fn)(void *ctx, const char *lname);

struct sigv4_request {
	const char *method;
	const char *path; /* decoded */
	/* decoded query arguments (values may be NULL: "?flag") */
	size_t n_query;
	const char *const *query_names;
	const char *const *query_values;
	sigv4_header_fn header;
	void *header_ctx;
	const uint8_t *body;
	size_t body_len;
};

/* The outcome, with AWS's error code (NULL on success) and message. */
struct sigv4_result {
	const char *code;
	char message[512];
};

/* Checks req against auth with the key's secret (NULL: unknown key) at
 * time now, allowing max_skew_s of clock skew. Returns true when the
 * signature holds; else res says why (InvalidClientTokenId,
 * IncompleteSignature, RequestExpired, SignatureDoesNotMatch). */
bool sigv4_check(const struct sigv4_request *req, const struct sigv4_auth *auth,
		 const char *secret, time_t now, long max_skew_s,
		 struct sigv4_result *res);

/* Signs (for tests and the q53 client): the hex signature of req with
 * the given key, date ("YYYYMMDDTHHMMSSZ"), region and signed headers. */
int sigv4_sign(const struct sigv4_request *req, const char *secret,
	       const char *amz_date, const char *region, const char *service,
	       const char *signed_headers, char hex[65]);

#endif
