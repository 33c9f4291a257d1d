#include "cluster/cli/cli_xfr.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cluster/axfr_in.h"

#define XFR_CLI_MAX 16

/* Splits s (modified) at commas into out[0..max); returns the count, or
 * max + 1 when there are more. */
static size_t split(char *s, char **out, size_t max)
{
	size_t n = 0;

	for (char *tok = strtok(s, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (n == max)
			return max + 1;
		out[n++] = tok;
	}
	return n;
}

static int print_transfer(const struct cli *cli,
			  const Q53__Api__ZoneTransferResponse *z)
{
	if (cli->json) {
		json_t *sec = json_array(), *keys = json_array();
		for (size_t i = 0; i < z->n_secondaries; i++)
			json_array_append_new(sec,
					      json_string(z->secondaries[i]));
		for (size_t i = 0; i < z->n_keys; i++)
			json_array_append_new(
			    keys,
			    json_pack("{s:s,s:s,s:s}", "Name", z->keys[i]->name,
				      "Algorithm", z->keys[i]->algorithm,
				      "Secret", z->keys[i]->secret));
		return cli_print_json(json_pack(
		    "{s:s,s:I,s:o,s:o,s:b}", "ZoneId", z->zone_id, "Serial",
		    (json_int_t)z->serial, "Secondaries", sec, "Keys", keys,
		    "AllowUpdate", z->allow_update));
	}
	printf("ZoneId\t%s\nSerial\t%u\nAllowUpdate\t%s\n", z->zone_id,
	       z->serial, z->allow_update ? "yes" : "no");
	for (size_t i = 0; i < z->n_secondaries; i++)
		printf("Secondary\t%s\n", z->secondaries[i]);
	for (size_t i = 0; i < z->n_keys; i++)
		printf("Key\t%s:%s:%s\n", z->keys[i]->name,
		       z->keys[i]->algorithm, z->keys[i]->secret);
	return CLI_EXIT_OK;
}

int cli_zone_transfer(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "q53 zone transfer ID|NAME [--secondaries IP[:PORT],... --tsig "
	    "NAME[:ALG[:SECRET]],...] [--allow-update] [--off]";
	const char *secondaries = NULL, *tsig = NULL;
	bool off = false, allow_update = false;
	const struct cli_opt opts[] = {
	    {"secondaries", &secondaries, NULL},
	    {"tsig", &tsig, NULL},
	    {"off", NULL, &off},
	    {"allow-update", NULL, &allow_update},
	};
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, opts, 4, pos, 1, &npos, usage);
	if (rv != CLI_EXIT_OK)
		return rv;
	if (npos != 1)
		return cli_usage_error(
		    "zone transfer needs ID|NAME (usage: %s)", usage);
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__SetZoneTransferRequest st =
	    Q53__API__SET_ZONE_TRANSFER_REQUEST__INIT;
	Q53__Api__GetZoneTransferRequest gt =
	    Q53__API__GET_ZONE_TRANSFER_REQUEST__INIT;
	Q53__Api__ZoneTransferKey keys[XFR_CLI_MAX];
	Q53__Api__ZoneTransferKey *keyp[XFR_CLI_MAX];
	char *sec[XFR_CLI_MAX], *ktext[XFR_CLI_MAX];
	char *sbuf = NULL, *kbuf = NULL;

	if (secondaries == NULL && tsig == NULL && !off && !allow_update) {
		gt.zone = (char *)pos[0];
		req.body_case = Q53__API__REQUEST__BODY_GET_ZONE_TRANSFER;
		req.get_zone_transfer = &gt;
	} else {
		if (off && (secondaries != NULL || tsig != NULL))
			return cli_usage_error("--off takes no --secondaries "
					       "or --tsig (usage: %s)",
					       usage);
		if (!off && tsig == NULL)
			return cli_usage_error("zone transfer needs --tsig "
					       "(usage: %s)",
					       usage);
		st.allow_update = allow_update;
		st.zone = (char *)pos[0];
		if (!off) {
			sbuf = strdup(secondaries != NULL ? secondaries : "");
			kbuf = strdup(tsig);
			if (sbuf == NULL || kbuf == NULL) {
				free(sbuf);
				free(kbuf);
				return cli_fail(cli, CLI_EXIT_USAGE, NULL,
						"out of memory");
			}
			st.n_secondaries = split(sbuf, sec, XFR_CLI_MAX);
			st.n_keys = split(kbuf, ktext, XFR_CLI_MAX);
			if (st.n_secondaries > XFR_CLI_MAX ||
			    st.n_keys > XFR_CLI_MAX) {
				free(sbuf);
				free(kbuf);
				return cli_usage_error("too many secondaries "
						       "or keys");
			}
			st.secondaries = sec;
			for (size_t i = 0; i < st.n_keys; i++) {
				/* NAME[:ALG[:SECRET]]; base64 has no ':' */
				char *alg = strchr(ktext[i], ':'), *secret;
				q53__api__zone_transfer_key__init(&keys[i]);
				keys[i].name = ktext[i];
				if (alg != NULL) {
					*alg++ = '\0';
					secret = strchr(alg, ':');
					if (secret != NULL)
						*secret++ = '\0';
					keys[i].algorithm = alg;
					if (secret != NULL)
						keys[i].secret = secret;
				}
				keyp[i] = &keys[i];
			}
			st.keys = keyp;
		}
		req.body_case = Q53__API__REQUEST__BODY_SET_ZONE_TRANSFER;
		req.set_zone_transfer = &st;
	}
	Q53__Api__Response *r;
	bool get = req.body_case == Q53__API__REQUEST__BODY_GET_ZONE_TRANSFER;
	rv = cli_call(cli, &req,
		      get ? Q53__API__RESPONSE__BODY_GET_ZONE_TRANSFER
			  : Q53__API__RESPONSE__BODY_SET_ZONE_TRANSFER,
		      &r);
	free(sbuf);
	free(kbuf);
	if (rv != CLI_EXIT_OK)
		return rv;
	rv = print_transfer(cli,
			    get ? r->get_zone_transfer : r->set_zone_transfer);
	cli_response_free(r);
	return rv;
}

/* --- q53 zone import ZONE --axfr HOST:PORT: the AXFR client --- */

/* Reads exactly n bytes from fd before deadline_ms (CLOCK_MONOTONIC). */
static int read_full(int fd, uint8_t *buf, size_t n, uint64_t deadline_ms)
{
	size_t got = 0;

	while (got < n) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t now =
		    (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		if (now >= deadline_ms)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)(deadline_ms - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -ETIMEDOUT : -errno;
		ssize_t k = recv(fd, buf + got, n - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k == 0 ? -ECONNRESET : -errno;
		got += (size_t)k;
	}
	return 0;
}

int cli_axfr_pull(struct cli *cli, const char *zone, const char *hostport,
		  const char *tsig, char **text, size_t *len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	struct axfr_in a;
	char host[256], port[16];
	const char *colon;
	uint8_t q[1024], *msg = NULL;
	int fd = -1, rv;
	size_t qlen;
	struct timespec ts;

	*text = NULL;
	*len = 0;
	if (hostport[0] == '[') {
		const char *end = strchr(hostport, ']');
		if (end == NULL || end[1] != ':' ||
		    (size_t)(end - hostport) >= sizeof(host))
			return cli_usage_error("--axfr wants HOST:PORT");
		snprintf(host, sizeof(host), "%.*s", (int)(end - hostport - 1),
			 hostport + 1);
		snprintf(port, sizeof(port), "%s", end + 2);
	} else {
		colon = strrchr(hostport, ':');
		if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host))
			return cli_usage_error("--axfr wants HOST:PORT");
		snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport),
			 hostport);
		snprintf(port, sizeof(port), "%s", colon + 1);
	}
	rv = axfr_in_init(&a, zone, tsig);
	if (rv != 0) {
		/* err is set for a refusal, empty when out of memory */
		rv = a.err[0] != '\0'
			 ? cli_usage_error("%s", a.err)
			 : cli_fail(cli, CLI_EXIT_USAGE, NULL, "out of memory");
		axfr_in_free(&a);
		return rv;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t deadline =
	    (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
	    (cli->client.timeout_ms ? cli->client.timeout_ms : 30000);
	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
		rv = cli_fail(cli, CLI_EXIT_CONNECT, NULL,
			      "--axfr: cannot resolve %s", hostport);
		goto out;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		rv = cli_fail(cli, CLI_EXIT_CONNECT, NULL,
			      "--axfr: cannot connect to %s: %s", hostport,
			      strerror(errno));
		goto out;
	}
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
		id = (uint16_t)getpid();
	qlen = axfr_in_query(&a, id, q + 2, sizeof(q) - 2);
	if (qlen == 0) {
		rv = cli_fail(cli, CLI_EXIT_USAGE, NULL,
			      "--axfr: cannot build the request");
		goto out;
	}
	q[0] = (uint8_t)(qlen >> 8);
	q[1] = (uint8_t)qlen;
	if (send(fd, q, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2)) {
		rv = cli_fail(cli, CLI_EXIT_CONNECT, NULL,
			      "--axfr: cannot send to %s", hostport);
		goto out;
	}
	msg = malloc(65535);
	if (msg == NULL) {
		rv = cli_fail(cli, CLI_EXIT_USAGE, NULL, "out of memory");
		goto out;
	}
	while (!a.done) {
		uint8_t hdr[2];
		int r = read_full(fd, hdr, 2, deadline);
		size_t mlen = (size_t)hdr[0] << 8 | hdr[1];
		if (r == 0)
			r = read_full(fd, msg, mlen, deadline);
		if (r != 0) {
			rv = cli_fail(cli, CLI_EXIT_CONNECT, NULL,
				      "--axfr from %s: %s after %u messages",
				      hostport, strerror(-r), a.messages);
			goto out;
		}
		r = axfr_in_feed(&a, msg, mlen);
		if (r != 0) {
			rv = cli_fail(cli, CLI_EXIT_API, "TransferFailed",
				      "--axfr from %s: %s", hostport,
				      a.err[0] != '\0' ? a.err
						       : "out of memory");
			goto out;
		}
	}
	fprintf(stderr, "q53: AXFR of %s from %s: %u records in %u messages\n",
		zone, hostport, a.records, a.messages);
	*text = a.text;
	*len = a.text_len;
	a.text = NULL;
	rv = CLI_EXIT_OK;
out:
	free(msg);
	if (fd >= 0)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	axfr_in_free(&a);
	return rv;
}
