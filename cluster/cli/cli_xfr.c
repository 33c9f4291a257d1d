#include "cluster/cli/cli_xfr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		    "{s:s,s:I,s:o,s:o}", "ZoneId", z->zone_id, "Serial",
		    (json_int_t)z->serial, "Secondaries", sec, "Keys", keys));
	}
	printf("ZoneId\t%s\nSerial\t%u\n", z->zone_id, z->serial);
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
	    "NAME[:ALG[:SECRET]],...] [--off]";
	const char *secondaries = NULL, *tsig = NULL;
	bool off = false;
	const struct cli_opt opts[] = {
	    {"secondaries", &secondaries, NULL},
	    {"tsig", &tsig, NULL},
	    {"off", NULL, &off},
	};
	const char *pos[1];
	size_t npos;
	int rv = cli_parse_args(argc, argv, opts, 3, pos, 1, &npos, usage);
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

	if (secondaries == NULL && tsig == NULL && !off) {
		gt.zone = (char *)pos[0];
		req.body_case = Q53__API__REQUEST__BODY_GET_ZONE_TRANSFER;
		req.get_zone_transfer = &gt;
	} else {
		if (off && (secondaries != NULL || tsig != NULL))
			return cli_usage_error("--off takes no --secondaries "
					       "or --tsig (usage: %s)",
					       usage);
		if (!off && (secondaries == NULL || tsig == NULL))
			return cli_usage_error("zone transfer needs both "
					       "--secondaries and --tsig "
					       "(usage: %s)",
					       usage);
		st.zone = (char *)pos[0];
		if (!off) {
			sbuf = strdup(secondaries);
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
