/* SigV4 as documented in AWS's "Create a canonical request" and as
 * botocore signs: canonical URI = the path URI-encoded twice (not S3),
 * canonical query = arguments URI-encoded, sorted, "k=v" joined by '&';
 * canonical headers = the signed ones, lowercase name, value trimmed with
 * inner runs of spaces collapsed; payload hash = hex SHA-256 of the body. */
#include "node/api/route53/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "node/common/errcode.h"

/* A growing string; on overflow of memory it stays failed. */
struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void buf_encode(struct buf *b, const char *s, bool keep_slash)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p) || (keep_slash && *p == '/')) {
			buf_add(b, (const char *)p, 1);
		} else {
			char e[4];
			snprintf(e, sizeof(e), "%%%02X", *p);
			buf_add(b, e, 3);
		}
	}
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SHA-256 with the algorithm fetched once: OpenSSL 3's one-shot SHA256()
 * and HMAC() look it up on every call, which the Route 53 benchmark shows
 * (loop thread only; the one-shot calls remain the fallback). */
static EVP_MD_CTX *sha256_ctx(void)
{
	static EVP_MD *md;
	static EVP_MD_CTX *ctx;
	if (md == NULL)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (ctx == NULL && md != NULL)
		ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex2(ctx, md, NULL) != 1)
		return NULL;
	return ctx;
}

static void sha256(const void *a, size_t an, const void *b, size_t bn,
		   unsigned char out[SHA256_DIGEST_LENGTH])
{
	EVP_MD_CTX *ctx = sha256_ctx();
	unsigned int n = SHA256_DIGEST_LENGTH;
	if (ctx != NULL && EVP_DigestUpdate(ctx, a, an) == 1 &&
	    (bn == 0 || EVP_DigestUpdate(ctx, b, bn) == 1) &&
	    EVP_DigestFinal_ex(ctx, out, &n) == 1)
		return;
	/* fallback */
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, a, an);
	if (bn > 0)
		EVP_DigestUpdate(c, b, bn);
	EVP_DigestFinal_ex(c, out, &n);
	EVP_MD_CTX_free(c);
}

static void sha256_hex(const void *data, size_t n, char out[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	sha256(data, n, NULL, 0, d);
	hex(d, sizeof(d), out);
}

/* HMAC-SHA256 (RFC 2104) over sha256(). */
static void hmac(const void *key, size_t klen, const char *msg,
		 unsigned char out[32])
{
	unsigned char k[64] = {0}, pad[64], inner[32];
	if (klen > sizeof(k))
		sha256(key, klen, NULL, 0, k);
	else
		memcpy(k, key, klen);
	for (size_t i = 0; i < sizeof(k); i++)
		pad[i] = k[i] ^ 0x36;
	sha256(pad, sizeof(pad), msg, strlen(msg), inner);
	for (size_t i = 0; i < sizeof(k); i++)
		pad[i] = k[i] ^ 0x5c;
	sha256(pad, sizeof(pad), inner, sizeof(inner), out);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
}

int sigv4_parse_auth(const char *header, struct sigv4_auth *out, char *why,
		     size_t whylen)
{
	static const char algo[] = "AWS4-HMAC-SHA256";
	memset(out, 0, sizeof(*out));
	if (strncmp(header, algo, sizeof(algo) - 1) != 0 ||
	    header[sizeof(algo) - 1] != ' ') {
		snprintf(why, whylen,
			 "Authorization header requires the "
			 "AWS4-HMAC-SHA256 algorithm");
		return -1;
	}
	bool have_cred = false, have_sh = false, have_sig = false;
	const char *p = header + sizeof(algo) - 1;
	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		const char *eq = strchr(p, '=');
		if (eq == NULL)
			break;
		const char *end = eq + 1 + strcspn(eq + 1, ", ");
		size_t klen = (size_t)(eq - p), vlen = (size_t)(end - eq - 1);
		const char *v = eq + 1;
		if (klen == 10 && strncmp(p, "Credential", 10) == 0) {
			/* AKID/DATE/REGION/SERVICE/aws4_request */
			char cred[512];
			char *parts[6];
			size_t np = 0;
			if (vlen >= sizeof(cred))
				break;
			memcpy(cred, v, vlen);
			cred[vlen] = '\0';
			char *save = NULL;
			for (char *t = strtok_r(cred, "/", &save);
			     t != NULL && np < 6;
			     t = strtok_r(NULL, "/", &save))
				parts[np++] = t;
			if (np != 5 || strcmp(parts[4], "aws4_request") != 0 ||
			    strlen(parts[0]) > SIGV4_AKID_MAX ||
			    strlen(parts[1]) != 8 ||
			    strlen(parts[2]) >= sizeof(out->region) ||
			    strlen(parts[3]) >= sizeof(out->service))
				break;
			strcpy(out->akid, parts[0]);
			strcpy(out->date, parts[1]);
			strcpy(out->region, parts[2]);
			strcpy(out->service, parts[3]);
			have_cred = true;
		} else if (klen == 13 && strncmp(p, "SignedHeaders", 13) == 0) {
			if (vlen == 0 || vlen >= sizeof(out->signed_headers))
				break;
			memcpy(out->signed_headers, v, vlen);
			have_sh = true;
		} else if (klen == 9 && strncmp(p, "Signature", 9) == 0) {
			if (vlen != 64)
				break;
			for (size_t i = 0; i < 64; i++)
				out->signature[i] =
				    (char)tolower((unsigned char)v[i]);
			have_sig = true;
		}
		p = end;
	}
	if (!have_cred || !have_sh || !have_sig) {
		snprintf(why, whylen,
			 "Authorization header requires 'Credential', "
			 "'Signature' and 'SignedHeaders' parameters "
			 "(Credential=AKID/YYYYMMDD/REGION/route53/"
			 "aws4_request)");
		return -1;
	}
	return 0;
}

/* "  a   b " -> "a b" */
static void buf_header_value(struct buf *b, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	bool space = false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == ' ' || v[i] == '\t') {
			space = true;
			continue;
		}
		if (space)
			buf_add(b, " ", 1);
		space = false;
		buf_add(b, &v[i], 1);
	}
}

struct qarg {
	char *k, *v; /* encoded */
};

static int qarg_cmp(const void *a, const void *b)
{
	const struct qarg *x = a, *y = b;
	int c = strcmp(x->k, y->k);
	return c != 0 ? c : strcmp(x->v, y->v);
}

static char *encoded(const char *s)
{
	struct buf b = {0};
	buf_encode(&b, s != NULL ? s : "", false);
	buf_add(&b, "", 0);
	return b.failed ? (free(b.p), NULL) : b.p;
}

/* The canonical request; NULL when out of memory. */
static char *canonical_request(const struct sigv4_request *req,
			       const char *signed_headers)
{
	struct buf b = {0};
	int rv = 0;

	buf_str(&b, req->method);
	buf_add(&b, "\n", 1);
	{
		struct buf once = {0};
		buf_encode(&once, req->path[0] ? req->path : "/", true);
		buf_add(&once, "", 0);
		if (once.failed) {
			free(b.p);
			return NULL;
		}
		buf_encode(&b, once.p, true);
		free(once.p);
	}
	buf_add(&b, "\n", 1);
	struct qarg *q = calloc(req->n_query ? req->n_query : 1, sizeof(*q));
	if (q == NULL) {
		free(b.p);
		return NULL;
	}
	for (size_t i = 0; i < req->n_query; i++) {
		q[i].k = encoded(req->query_names[i]);
		q[i].v = encoded(req->query_values[i]);
		if (q[i].k == NULL || q[i].v == NULL)
			rv = Q53_ENOMEM;
	}
	if (rv == 0) {
		qsort(q, req->n_query, sizeof(*q), qarg_cmp);
		for (size_t i = 0; i < req->n_query; i++) {
			if (i > 0)
				buf_add(&b, "&", 1);
			buf_str(&b, q[i].k);
			buf_add(&b, "=", 1);
			buf_str(&b, q[i].v);
		}
	}
	for (size_t i = 0; i < req->n_query; i++) {
		free(q[i].k);
		free(q[i].v);
	}
	free(q);
	buf_add(&b, "\n", 1);
	/* Signed headers, in the order given (clients sort them). */
	const char *p = signed_headers;
	while (*p != '\0') {
		size_t n = strcspn(p, ";");
		char name[128];
		if (n == 0 || n >= sizeof(name)) {
			rv = Q53_EINVAL;
			break;
		}
		for (size_t i = 0; i < n; i++)
			name[i] = (char)tolower((unsigned char)p[i]);
		name[n] = '\0';
		const char *v = req->header(req->header_ctx, name);
		buf_str(&b, name);
		buf_add(&b, ":", 1);
		buf_header_value(&b, v != NULL ? v : "");
		buf_add(&b, "\n", 1);
		p += n;
		if (*p == ';')
			p++;
	}
	buf_add(&b, "\n", 1);
	for (const char *s = signed_headers; *s; s++) {
		char c = (char)tolower((unsigned char)*s);
		buf_add(&b, &c, 1);
	}
	buf_add(&b, "\n", 1);
	char h[65];
	sha256_hex(req->body != NULL ? (const void *)req->body : "",
		   req->body_len, h);
	buf_str(&b, h);
	if (b.failed || rv != 0) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static int signature(const struct sigv4_request *req, const char *secret,
		     const char *amz_date, const char *date8,
		     const char *region, const char *service,
		     const char *signed_headers, char out[65])
{
	char *creq = canonical_request(req, signed_headers);
	if (creq == NULL)
		return Q53_ENOMEM;
	char ch[65];
	sha256_hex(creq, strlen(creq), ch);
	free(creq);
	char sts[512];
	snprintf(sts, sizeof(sts),
		 "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date,
		 date8, region, service, ch);
	char k0[256];
	int kn = snprintf(k0, sizeof(k0), "AWS4%s", secret);
	if (kn < 0 || (size_t)kn >= sizeof(k0))
		return Q53_EINVAL;
	unsigned char k1[32], k2[32], k3[32], sig[32];
	/* The signing key depends on the day, not on the request: derived
	 * once per (secret, day, region, service), the last one kept (four
	 * of the five HMACs of every request; loop thread only). */
	static struct {
		char k0[256], date8[9], region[64], service[32];
		unsigned char k4[32];
		bool valid;
	} last;
	if (!last.valid || strcmp(last.k0, k0) != 0 ||
	    strcmp(last.date8, date8) != 0 ||
	    strcmp(last.region, region) != 0 ||
	    strcmp(last.service, service) != 0) {
		hmac(k0, (size_t)kn, date8, k1);
		hmac(k1, 32, region, k2);
		hmac(k2, 32, service, k3);
		hmac(k3, 32, "aws4_request", last.k4);
		last.valid = strlen(region) < sizeof(last.region) &&
			     strlen(service) < sizeof(last.service);
		memcpy(last.k0, k0, sizeof(k0));
		snprintf(last.date8, sizeof(last.date8), "%s", date8);
		snprintf(last.region, sizeof(last.region), "%s", region);
		snprintf(last.service, sizeof(last.service), "%s", service);
		OPENSSL_cleanse(k1, sizeof(k1));
		OPENSSL_cleanse(k2, sizeof(k2));
		OPENSSL_cleanse(k3, sizeof(k3));
	}
	hmac(last.k4, 32, sts, sig);
	OPENSSL_cleanse(k0, sizeof(k0));
	hex(sig, 32, out);
	return 0;
}

int sigv4_sign(const struct sigv4_request *req, const char *secret,
	       const char *amz_date, const char *region, const char *service,
	       const char *signed_headers, char hexsig[65])
{
	char date8[9];
	if (strlen(amz_date) != 16)
		return Q53_EINVAL;
	memcpy(date8, amz_date, 8);
	date8[8] = '\0';
	return signature(req, secret, amz_date, date8, region, service,
			 signed_headers, hexsig);
}

/* "YYYYMMDDTHHMMSSZ" -> time_t (UTC); -1 if malformed. */
static time_t parse_amz_date(const char *s)
{
	struct tm tm = {0};
	if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	for (int i = 0; i < 15; i++)
		if (i != 8 && !isdigit((unsigned char)s[i]))
			return -1;
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
		     (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
	tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
	tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
	tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
	tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	return timegm(&tm);
}

static bool fail(struct sigv4_result *res, const char *code, const char *fmt,
		 const char *arg)
{
	res->code = code;
	snprintf(res->message, sizeof(res->message), fmt, arg);
	return false;
}

bool sigv4_check(const struct sigv4_request *req, const struct sigv4_auth *auth,
		 const char *secret, time_t now, long max_skew_s,
		 struct sigv4_result *res)
{
	res->code = NULL;
	res->message[0] = '\0';
	if (secret == NULL)
		return fail(res, "InvalidClientTokenId",
			    "The security token included in the request is "
			    "invalid (no access key %s on this cluster).",
			    auth->akid);
	if (strcmp(auth->service, "route53") != 0)
		return fail(res, "SignatureDoesNotMatch",
			    "Credential should be scoped to correct service: "
			    "'route53' (it names '%s').",
			    auth->service);
	const char *amz_date = req->header(req->header_ctx, "x-amz-date");
	time_t t = parse_amz_date(amz_date);
	if (t < 0)
		return fail(res, "IncompleteSignature",
			    "%sX-Amz-Date must be given as YYYYMMDDTHHMMSSZ.",
			    "");
	if (strncmp(amz_date, auth->date, 8) != 0)
		return fail(res, "SignatureDoesNotMatch",
			    "Date in Credential scope does not match YYYYMMDD "
			    "from ISO-8601 version of date from HTTP: '%s'.",
			    auth->date);
	if (strstr(auth->signed_headers, "host") == NULL)
		return fail(res, "SignatureDoesNotMatch",
			    "%sThe host header must be signed.", "");
	long skew = (long)(t > now ? t - now : now - t);
	if (skew > max_skew_s)
		return fail(res, "RequestExpired",
			    "Request has expired: X-Amz-Date %s is more than "
			    "5 minutes away from the server's time (check the "
			    "client's clock).",
			    amz_date);
	char want[65];
	if (signature(req, secret, amz_date, auth->date, auth->region,
		      auth->service, auth->signed_headers, want) != 0)
		return fail(res, "SignatureDoesNotMatch",
			    "%sThe request could not be canonicalised.", "");
	if (CRYPTO_memcmp(want, auth->signature, 64) != 0)
		return fail(res, "SignatureDoesNotMatch",
			    "The request signature we calculated does not "
			    "match the signature you provided. Check your AWS "
			    "Secret Access Key and signing method.%s",
			    "");
	return true;
}
