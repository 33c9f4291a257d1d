#include "cluster/cli/cli_client.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cluster/api_msg.h"

/* Largest answer taken (a zone export). */
#define MAX_RESPONSE_SIZE ((size_t)256 << 20)
/* Sends of one request, the first included, and the pause before re-sending
 * a request the node called retryable. */
#define MAX_ATTEMPTS	8
#define RETRY_PAUSE_MS	200
#define RETRY_PAUSE_MAX 1000
#define API_PATH	"/q53/api"
#define KEY_FILE_MAX	65536

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int cli_client_init(struct cli_client *c, const char *endpoint,
		    unsigned timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms =
	    timeout_ms != 0 ? timeout_ms : CLI_CLIENT_DEFAULT_TIMEOUT_MS;
	if (endpoint == NULL || endpoint[0] == '\0')
		endpoint = CLI_CLIENT_DEFAULT_ENDPOINT;
	bool scheme = strncmp(endpoint, "http://", 7) == 0 ||
		      strncmp(endpoint, "https://", 8) == 0;
	if (!scheme && strstr(endpoint, "://") != NULL) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "endpoint '%.80s': expected http://HOST:PORT or "
			 "https://HOST:PORT (the node's --http address)",
			 endpoint);
		return -1;
	}
	int n = snprintf(c->endpoint, sizeof(c->endpoint), "%s%s",
			 scheme ? "" : "http://", endpoint);
	if (n < 0 || (size_t)n >= sizeof(c->endpoint)) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "endpoint '%.40s...' is too long", endpoint);
		return -1;
	}
	while (n > 0 && c->endpoint[n - 1] == '/')
		c->endpoint[--n] = '\0';
	snprintf(c->url, sizeof(c->url), "%s%s", c->endpoint, API_PATH);
	return 0;
}

int cli_client_set_key(struct cli_client *c, const char *akid,
		       const char *secret, const char *source)
{
	if (strlen(akid) > CLI_CLIENT_KEY_MAX ||
	    strlen(secret) > CLI_CLIENT_KEY_MAX || akid[0] == '\0' ||
	    secret[0] == '\0' || strchr(akid, ':') != NULL) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "the access key from %s is empty, too long or holds "
			 "a ':'",
			 source);
		return -1;
	}
	snprintf(c->akid, sizeof(c->akid), "%s", akid);
	snprintf(c->secret, sizeof(c->secret), "%s", secret);
	snprintf(c->key_source, sizeof(c->key_source), "%s", source);
	return 0;
}

void cli_client_close(struct cli_client *c)
{
	if (c->curl != NULL) {
		curl_easy_cleanup(c->curl);
		c->curl = NULL;
	}
	memset(c->secret, 0, sizeof(c->secret));
}

/* --- key files --- */

/* The value of line (after "NAME="): unquoted, trailing space gone. */
static void key_value(const char *v, char *out, size_t len)
{
	size_t n = strcspn(v, "\r\n");
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v++;
		n -= 2;
	}
	if (n >= len)
		n = len - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

int cli_client_read_key_file(const char *path, char *akid, char *secret,
			     size_t len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	bool have_id = false, have_secret = false;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read key file %s: %s", path,
			 strerror(errno));
		return -1;
	}
	size_t total = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		total += strlen(line);
		if (total > KEY_FILE_MAX)
			break;
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		if (strncmp(p, "AWS_ACCESS_KEY_ID=", 18) == 0) {
			key_value(p + 18, akid, len);
			have_id = akid[0] != '\0';
		} else if (strncmp(p, "AWS_SECRET_ACCESS_KEY=", 22) == 0) {
			key_value(p + 22, secret, len);
			have_secret = secret[0] != '\0';
		}
	}
	memset(line, 0, sizeof(line));
	fclose(f);
	if (!have_id || !have_secret) {
		snprintf(err, errlen,
			 "key file %s has no %s line (expected "
			 "AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=..., "
			 "as DATA/admin-key holds them)",
			 path,
			 !have_id ? "AWS_ACCESS_KEY_ID="
				  : "AWS_SECRET_ACCESS_KEY=");
		return -1;
	}
	return 0;
}

/* --- one exchange --- */

struct body {
	uint8_t *data;
	size_t len;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct body *b = ctx;
	size_t n = size * nmemb;
	if (b->len + n > MAX_RESPONSE_SIZE) {
		b->too_big = true;
		return 0;
	}
	uint8_t *d = realloc(b->data, b->len + n + 1);
	if (d == NULL)
		return 0;
	memcpy(d + b->len, ptr, n);
	b->len += n;
	d[b->len] = '\0';
	b->data = d;
	return n;
}

/* The text of <tag>...</tag> in xml (the REST edge's ErrorResponse), ""
 * when absent; entities for < > & decoded. */
static void xml_field(const char *xml, const char *tag, char *out, size_t len)
{
	char open[64], close[64];
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	out[0] = '\0';
	const char *a = strstr(xml, open);
	const char *b = a != NULL ? strstr(a, close) : NULL;
	if (b == NULL)
		return;
	a += strlen(open);
	size_t o = 0;
	while (a < b && o + 1 < len) {
		static const struct {
			const char *ent;
			char c;
		} ents[] = {{"&lt;", '<'},
			    {"&gt;", '>'},
			    {"&amp;", '&'},
			    {"&quot;", '"'},
			    {"&apos;", '\''}};
		bool done = false;
		for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			size_t n = strlen(ents[i].ent);
			if ((size_t)(b - a) >= n &&
			    strncmp(a, ents[i].ent, n) == 0) {
				out[o++] = ents[i].c;
				a += n;
				done = true;
				break;
			}
		}
		if (!done)
			out[o++] = *a++;
	}
	out[o] = '\0';
}

/* A refusal by the REST edge (not a q53.api.Response) as a Response with
 * its code and a message that says what to do. */
static Q53__Api__Response *refusal(struct cli_client *c, long status,
				   const struct body *b)
{
	char code[128], msg[1024], text[2048];
	xml_field(b->data != NULL ? (const char *)b->data : "", "Code", code,
		  sizeof(code));
	xml_field(b->data != NULL ? (const char *)b->data : "", "Message", msg,
		  sizeof(msg));
	if (code[0] == '\0' && status == 413) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "node %s refused the request as too large (HTTP 413; "
			 "the HTTP API takes up to 64 MiB from q53)",
			 c->endpoint);
		return NULL;
	}
	if (code[0] == '\0') {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "%s answered HTTP %ld without a q53 answer; is %s "
			 "q53d's --http address (a q53d that serves /q53/api)?",
			 c->url, status, c->endpoint);
		return NULL;
	}
	if (strcmp(code, "InvalidClientTokenId") == 0)
		snprintf(text, sizeof(text),
			 "the cluster knows no access key %s (from %s): use "
			 "the administrator key (--data DIR or --key-file "
			 "DIR/admin-key) or a key from `q53 key create`",
			 c->akid, c->key_source);
	else if (strcmp(code, "SignatureDoesNotMatch") == 0)
		snprintf(text, sizeof(text),
			 "the secret of access key %s (from %s) is wrong: the "
			 "node computed another signature; check "
			 "AWS_SECRET_ACCESS_KEY in that file or environment",
			 c->akid, c->key_source);
	else if (strcmp(code, "RequestExpired") == 0)
		snprintf(text, sizeof(text),
			 "%s; this machine's clock and the node's differ by "
			 "more than 5 minutes: fix the clock",
			 msg);
	else if (strcmp(code, "AccessDenied") == 0)
		snprintf(text, sizeof(text),
			 "%s (the policy of key %s, from %s, does not allow "
			 "it; `q53 key list` shows the policies)",
			 msg, c->akid, c->key_source);
	else
		snprintf(text, sizeof(text), "%s", msg);
	Q53__Api__Response *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(c->errmsg, sizeof(c->errmsg), "out of memory");
		return NULL;
	}
	q53__api__response__init(r);
	r->error = strdup(code);
	r->message = strdup(text);
	/* 503 ServiceUnavailable: refused before it took effect (e.g. a
	 * node still catching up): try again until the deadline. */
	r->retryable = strcmp(code, "ServiceUnavailable") == 0;
	if (r->error == NULL || r->message == NULL) {
		free(r->error);
		free(r->message);
		free(r);
		snprintf(c->errmsg, sizeof(c->errmsg), "out of memory");
		return NULL;
	}
	/* freed by q53__api__response__free_unpacked (the system allocator,
	 * like its own; the other strings are its "" defaults) */
	return r;
}

static int transfer(struct cli_client *c, const uint8_t *buf, size_t len,
		    uint64_t deadline, Q53__Api__Response **resp)
{
	CURL *h = c->curl;
	uint64_t now = now_ms();
	if (now >= deadline)
		goto timed_out;

	struct body b = {0};
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr = NULL;
	hdr = curl_slist_append(hdr, "Content-Type: application/x-protobuf");
	if (hdr == NULL) {
		snprintf(c->errmsg, sizeof(c->errmsg), "out of memory");
		return -1;
	}
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)buf);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:route53");
	curl_easy_setopt(h, CURLOPT_USERNAME, c->akid);
	curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(deadline - now));
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->ca_file[0] != '\0')
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);

	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	char *ctype = NULL;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
	curl_slist_free_all(hdr);

	int rv = -1;
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		free(b.data);
		goto timed_out;
	}
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "cannot reach node %s: %s; is q53d running with "
			 "--http %s? Pick another node with --endpoint URL or "
			 "Q53_ENDPOINT",
			 c->endpoint,
			 errbuf[0] ? errbuf : curl_easy_strerror(rc),
			 c->endpoint +
			     (strncmp(c->endpoint, "https", 5) == 0 ? 8 : 7));
	} else if (rc != CURLE_OK) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "no usable answer from node %s: %s%s; is it q53d's "
			 "--http address (not its --api, DNS or raft port)?",
			 c->endpoint,
			 errbuf[0] ? errbuf : curl_easy_strerror(rc),
			 b.too_big ? " (answer too large)" : "");
	} else if (status == 200 && ctype != NULL &&
		   strncmp(ctype, "application/x-protobuf", 22) == 0) {
		*resp = q53__api__response__unpack(NULL, b.len, b.data);
		if (*resp == NULL)
			snprintf(c->errmsg, sizeof(c->errmsg),
				 "node %s answered with something that is not "
				 "a q53 API response",
				 c->endpoint);
		else
			rv = 0;
	} else if ((*resp = refusal(c, status, &b)) != NULL) {
		rv = 0;
	}
	free(b.data);
	return rv;

timed_out:
	snprintf(c->errmsg, sizeof(c->errmsg),
		 "no answer from node %s within %.1fs; a change may still "
		 "take effect (check with q53 zone list / get-change), or "
		 "raise --timeout",
		 c->endpoint, c->timeout_ms / 1000.0);
	return -1;
}

int cli_client_call(struct cli_client *c, Q53__Api__Request *req,
		    Q53__Api__Response **resp)
{
	*resp = NULL;
	if (c->akid[0] == '\0') {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "no access key: every request is signed (SigV4); "
			 "give --key-file FILE (such as DATA/admin-key), "
			 "--data DIR (its admin-key), or set "
			 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
			 "(or Q53_ACCESS_KEY_ID and Q53_SECRET_ACCESS_KEY)");
		return -1;
	}
	if (c->curl == NULL) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
		    (c->curl = curl_easy_init()) == NULL) {
			snprintf(c->errmsg, sizeof(c->errmsg),
				 "cannot initialise libcurl");
			return -1;
		}
	}
	req->version = API_MSG_VERSION;
	size_t len = q53__api__request__get_packed_size(req);
	uint8_t *buf = malloc(len > 0 ? len : 1);
	if (buf == NULL) {
		snprintf(c->errmsg, sizeof(c->errmsg), "out of memory");
		return -1;
	}
	q53__api__request__pack(req, buf);

	uint64_t deadline = now_ms() + c->timeout_ms;
	unsigned pause = RETRY_PAUSE_MS;
	for (unsigned attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		Q53__Api__Response *r = NULL;
		if (transfer(c, buf, len, deadline, &r) != 0)
			break;
		bool last =
		    attempt == MAX_ATTEMPTS || now_ms() + pause >= deadline;
		if (!r->retryable || last) {
			*resp = r;
			break;
		}
		/* Retryable: the node promises the request had no effect; it
		 * forwards to the leader once it knows one. */
		q53__api__response__free_unpacked(r, NULL);
		pause_ms(pause);
		pause =
		    pause * 2 > RETRY_PAUSE_MAX ? RETRY_PAUSE_MAX : pause * 2;
	}
	free(buf);
	return *resp != NULL ? 0 : -1;
}
