/* The browser console's static files (node/api/console/), built into q53d
 * (cmake/embed_console.cmake writes the table) and served unauthenticated
 * at GET /console/ by the REST edge: the page signs its own API requests
 * with SigV4 (console.js), so the files hold nothing secret.
 *
 *   GET /console          -> 301 Location: /console/
 *   GET /console/         -> index.html
 *   GET /console/NAME     -> the file, or 404
 *
 * Every answer carries Cache-Control: no-cache (a node upgraded in place
 * serves its own version) and a Content-Security-Policy allowing only the
 * node itself. Loop thread only. */
#ifndef Q53_NODE_API_ROUTE53_REST_CONSOLE_H
#define Q53_NODE_API_ROUTE53_REST_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#define REST_CONSOLE_PATH "/console"

/* One embedded file: its name in node/api/console/ and its bytes. */
struct rest_console_file {
	const char *name;
	const unsigned char *data;
	size_t len;
};

/* The embedded files (generated at build time: console_files.c). */
extern const struct rest_console_file rest_console_files[];
extern const size_t rest_console_n_files;

struct http_request;

/* Whether path is the console's (then rest_console_handle answers it). */
bool rest_console_match(const char *path);

/* What path names: 0 and the file with its Content-Type, 1 when it is
 * "/console" (a redirect to "/console/"), Q53_ENOENT for no such file.
 * Pure; *file and *type point into static tables. */
int rest_console_lookup(const char *path, const struct rest_console_file **file,
			const char **type);

/* Answers r (GET or HEAD; else 405). */
void rest_console_handle(struct http_request *r);

#endif
