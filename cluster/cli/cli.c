#include "cluster/cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"

/* Largest input file read (zone file or change batch). */
#define MAX_INPUT_SIZE ((size_t)64 << 20)

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("q53: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see q53 --help\n", stderr);
	return CLI_EXIT_USAGE;
}

int cli_fail(const struct cli *cli, int exit, const char *code, const char *fmt,
	     ...)
{
	char message[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	/* One line, whatever the server put into the message. */
	for (char *p = message; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (code != NULL)
		fprintf(stderr, "q53: %s: %s\n", code, message);
	else
		fprintf(stderr, "q53: %s\n", message);
	if (cli->json) {
		json_t *root = json_pack("{s:{s:s,s:s}}", "Error", "Code",
					 code != NULL ? code : "ClientError",
					 "Message", message);
		cli_print_json(root);
	}
	return exit;
}

int cli_call(struct cli *cli, Q53__Api__Request *req,
	     Q53__Api__Response__BodyCase body, Q53__Api__Response **resp)
{
	*resp = NULL;
	Q53__Api__Response *r;
	if (cli_client_call(&cli->client, req, &r) != 0)
		return cli_fail(cli, CLI_EXIT_CONNECT, NULL, "%s",
				cli->client.errmsg);
	if (r->error[0] != '\0') {
		int rv = cli_fail(cli, CLI_EXIT_API, r->error, "%s",
				  r->message[0] ? r->message : "(no message)");
		cli_response_free(r);
		return rv;
	}
	if (r->body_case != body) {
		cli_response_free(r);
		return cli_fail(cli, CLI_EXIT_API, API_ERR_INTERNAL,
				"node %s answered with an unexpected message "
				"(a different q53d version?)",
				cli->client.endpoint);
	}
	*resp = r;
	return CLI_EXIT_OK;
}

void cli_response_free(Q53__Api__Response *resp)
{
	if (resp != NULL)
		q53__api__response__free_unpacked(resp, NULL);
}

int cli_print_json(json_t *root)
{
	if (root == NULL) {
		fputs("q53: out of memory building JSON\n", stderr);
		return CLI_EXIT_API;
	}
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
	return CLI_EXIT_OK;
}

int cli_read_file(const struct cli *cli, const char *path, char **buf,
		  size_t *len)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (f == NULL)
		return cli_fail(cli, CLI_EXIT_USAGE, NULL, "cannot open %s: %s",
				path, strerror(errno));
	size_t cap = 64 * 1024, n = 0;
	char *b = malloc(cap + 1);
	int rv = CLI_EXIT_OK;
	while (b != NULL) {
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
		if (n == cap) {
			if (cap >= MAX_INPUT_SIZE) {
				rv = cli_fail(cli, CLI_EXIT_USAGE, NULL,
					      "%s is larger than %zu MiB",
					      is_stdin ? "stdin" : path,
					      MAX_INPUT_SIZE >> 20);
				break;
			}
			cap *= 2;
			char *nb = realloc(b, cap + 1);
			if (nb == NULL) {
				free(b);
				b = NULL;
			}
			b = nb;
		}
	}
	if (rv == CLI_EXIT_OK && b == NULL)
		rv = cli_fail(cli, CLI_EXIT_USAGE, NULL,
			      "out of memory reading %s", path);
	if (rv == CLI_EXIT_OK && ferror(f))
		rv = cli_fail(cli, CLI_EXIT_USAGE, NULL, "cannot read %s: %s",
			      is_stdin ? "stdin" : path, strerror(errno));
	if (!is_stdin)
		fclose(f);
	if (rv != CLI_EXIT_OK) {
		free(b);
		return rv;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return CLI_EXIT_OK;
}

int cli_parse_u64(const char *s, unsigned long long *out)
{
	if (s[0] < '0' || s[0] > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static const struct cli_opt *find_opt(const struct cli_opt *opts, size_t nopts,
				      const char *name, size_t len)
{
	for (size_t i = 0; i < nopts; i++)
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

int cli_parse_args(int argc, char **argv, const struct cli_opt *opts,
		   size_t nopts, const char **pos, size_t maxpos, size_t *npos,
		   const char *usage)
{
	bool only_pos = false;
	*npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (only_pos || strncmp(a, "--", 2) != 0) {
			if (*npos == maxpos)
				return cli_usage_error(
				    "unexpected argument '%s' (usage: %s)", a,
				    usage);
			pos[(*npos)++] = a;
			continue;
		}
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		const struct cli_opt *o = find_opt(opts, nopts, name, len);
		if (o == NULL)
			return cli_usage_error(
			    "unknown option '%s' (usage: %s)", a, usage);
		if (o->flag != NULL) {
			if (eq != NULL)
				return cli_usage_error(
				    "option --%s takes no value", o->name);
			*o->flag = true;
			continue;
		}
		if (eq != NULL) {
			*o->value = eq + 1;
		} else if (i + 1 < argc) {
			*o->value = argv[++i];
		} else {
			return cli_usage_error("option --%s needs a value",
					       o->name);
		}
	}
	return CLI_EXIT_OK;
}
