#include "node/api/route53/rest_console.h"

#include <string.h>

#include "node/api/http_server.h"
#include "node/common/errcode.h"

/* What the page may load and talk to: this node only (no CDN, no inline
 * script), never framed. */
#define CSP                                                                    \
	"default-src 'none'; script-src 'self'; style-src 'self'; "            \
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; "          \
	"form-action 'none'; frame-ancestors 'none'"

static const struct {
	const char *ext;
	const char *type;
} TYPES[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
};

bool rest_console_match(const char *path)
{
	size_t n = strlen(REST_CONSOLE_PATH);
	return strncmp(path, REST_CONSOLE_PATH, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

static const char *type_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot != NULL && i < sizeof(TYPES) / sizeof(TYPES[0]);
	     i++)
		if (strcmp(dot, TYPES[i].ext) == 0)
			return TYPES[i].type;
	return "application/octet-stream";
}

int rest_console_lookup(const char *path, const struct rest_console_file **file,
			const char **type)
{
	size_t n = strlen(REST_CONSOLE_PATH);
	const char *name;

	*file = NULL;
	*type = NULL;
	if (!rest_console_match(path))
		return Q53_ENOENT;
	if (path[n] == '\0')
		return 1;
	name = path[n + 1] != '\0' ? path + n + 1 : "index.html";
	/* The files are one flat folder: a name with a '/' is no file. */
	if (strchr(name, '/') != NULL)
		return Q53_ENOENT;
	for (size_t i = 0; i < rest_console_n_files; i++)
		if (strcmp(rest_console_files[i].name, name) == 0) {
			*file = &rest_console_files[i];
			*type = type_of(name);
			return 0;
		}
	return Q53_ENOENT;
}

void rest_console_handle(struct http_request *r)
{
	static const char *const headers[] = {"Cache-Control",
					      "no-cache",
					      "X-Content-Type-Options",
					      "nosniff",
					      "Content-Security-Policy",
					      CSP,
					      "Referrer-Policy",
					      "no-referrer",
					      NULL};
	static const char *const redirect[] = {
	    "Location", "/console/", "Cache-Control", "no-cache", NULL};
	const char *method = http_request_method(r);
	const struct rest_console_file *f;
	const char *type;

	http_request_set_operation(r, "Console");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		static const char *const allow[] = {"Allow", "GET, HEAD", NULL};
		http_respond(r, 405, "text/plain", "GET /console/\n", 14,
			     allow);
		return;
	}
	int rv = rest_console_lookup(http_request_path(r), &f, &type);
	if (rv == 1) {
		http_respond(r, 301, "text/plain", "/console/\n", 10, redirect);
		return;
	}
	if (rv != 0) {
		static const char msg[] = "no such console file\n";
		http_respond(r, 404, "text/plain", msg, sizeof(msg) - 1,
			     headers);
		return;
	}
	http_respond(r, 200, type, f->data, f->len, headers);
}
