#include "node/runtime/admin_key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "node/common/errcode.h"
#include "node/common/ids.h"
#include "node/control/access_key_gen.h"
#include "node/control/control_fsm.h"
#include "node/control/iam_policy.h"

struct admin_key {
	struct cluster_ops ops;
	char path[4096];    /* DATA/admin-key */
	char pending[4100]; /* DATA/admin-key.new */
	char id[ACCESS_KEY_GEN_ID_LEN + 1];
	char secret[ACCESS_KEY_GEN_SECRET_LEN + 1];
	bool in_flight;
	bool done;
	/* No key drawn yet: this node draws one only if, as a caught-up
	 * leader, it finds no access key at all in the cluster (data from
	 * before the HTTP API, or every key deleted). */
	bool lazy;
	bool drawn_lazily;     /* that happened (the key's description) */
	unsigned leader_ticks; /* consecutive ticks as leader */
};

/* Ticks a lazy node must lead before it trusts "no key" (its term's
 * first entry committed, the entries of earlier terms applied). */
#define LAZY_LEADER_TICKS 20

static int write_file(struct admin_key *k, char *err, size_t errlen)
{
	char text[512];
	int n = snprintf(text, sizeof(text),
			 "# quorum53: the cluster's first administrator access "
			 "key (Route 53 REST API,\n"
			 "# SigV4). Keep it secret. Use it with `set -a; . "
			 "%s`, or `aws configure`\n"
			 "# (any region; --endpoint-url http://NODE:PORT).\n"
			 "AWS_ACCESS_KEY_ID=%s\n"
			 "AWS_SECRET_ACCESS_KEY=%s\n",
			 k->path, k->id, k->secret);
	int fd =
	    open(k->pending, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rv = 0;

	if (fd < 0 || fchmod(fd, 0600) != 0 ||
	    write(fd, text, (size_t)n) != n || fsync(fd) != 0)
		rv = q53_fail(err, errlen, -errno, "%s: %s", k->pending,
			      strerror(errno));
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(text, sizeof(text));
	return rv;
}

/* The value of "NAME=" in text into out (outlen). */
static bool field(const char *text, const char *name, char *out, size_t outlen)
{
	const char *p = strstr(text, name);
	size_t n;

	if (p == NULL)
		return false;
	p += strlen(name);
	n = strcspn(p, "\n");
	if (n + 1 != outlen)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static int read_file(struct admin_key *k, char *err, size_t errlen)
{
	char text[1024];
	FILE *f = fopen(k->pending, "re");
	size_t n;
	bool ok;

	if (f == NULL)
		return q53_fail(err, errlen, -errno, "%s: %s", k->pending,
				strerror(errno));
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	ok = field(text, "\nAWS_ACCESS_KEY_ID=", k->id, sizeof(k->id)) &&
	     field(text, "\nAWS_SECRET_ACCESS_KEY=", k->secret,
		   sizeof(k->secret));
	OPENSSL_cleanse(text, sizeof(text));
	if (!ok)
		return q53_fail(err, errlen, Q53_EINVAL,
				"%s: no AWS_ACCESS_KEY_ID / "
				"AWS_SECRET_ACCESS_KEY lines; remove it",
				k->pending);
	return 0;
}

int admin_key_new(struct admin_key **out, const struct admin_key_config *c,
		  char *err, size_t errlen)
{
	struct admin_key *k;
	bool resume;
	int rv;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return q53_fail(err, errlen, Q53_ENOMEM, "out of memory");
	k->ops = c->ops;
	snprintf(k->path, sizeof(k->path), "%s/%s", c->data_dir,
		 ADMIN_KEY_FILE);
	snprintf(k->pending, sizeof(k->pending), "%s.new", k->path);
	resume = access(k->pending, F_OK) == 0;
	if (!resume && !c->bootstrapped) {
		if (access(k->path, F_OK) == 0) {
			free(k);
			return 0;
		}
		k->lazy = true;
		*out = k;
		return 0;
	}
	if (resume) {
		rv = read_file(k, err, errlen);
	} else {
		rv = access_key_gen(k->id, k->secret);
		if (rv != 0)
			rv = q53_fail(err, errlen, rv,
				      "the random generator failed");
		else
			rv = write_file(k, err, errlen);
	}
	if (rv != 0) {
		admin_key_free(k);
		return rv;
	}
	*out = k;
	return 0;
}

static void finish(struct admin_key *k)
{
	if (rename(k->pending, k->path) != 0) {
		cluster_log(k->ops.node_id, "admin key: rename %s: %s",
			    k->pending, strerror(errno));
		return; /* retried on the next tick */
	}
	k->done = true;
	cluster_log(k->ops.node_id,
		    "administrator access key %s written to %s (mode 0600)",
		    k->id, k->path);
}

static void on_done(struct proposal *s, int status,
		    const struct q53_fsm_log_result *res)
{
	struct admin_key *k = s->arg;

	k->in_flight = false;
	if (status != 0 || res->code != 0)
		cluster_log(k->ops.node_id,
			    "admin key: CreateAccessKey not applied (%d/%d); "
			    "retrying",
			    status, status == 0 ? (int)res->code : 0);
}

void admin_key_tick(struct admin_key *k)
{
	struct control_fsm_access_key fk;
	Q53__Command__AccessPolicy *policy;
	struct command_payload p;
	char err[256];
	int rv;

	if (k == NULL || k->done || k->in_flight)
		return;
	if (k->lazy) {
		if (cluster_served(&k->ops) > 0 &&
		    control_fsm_access_key_count(k->ops.fsm) > 0) {
			k->done = true; /* the cluster has a key: not ours */
			return;
		}
		k->leader_ticks =
		    cluster_is_leader(&k->ops) ? k->leader_ticks + 1 : 0;
		/* A leader for that long has committed its term's first
		 * entry and applied everything before it. */
		if (k->leader_ticks < LAZY_LEADER_TICKS ||
		    cluster_served(&k->ops) == 0)
			return;
		char werr[256] = "";
		if (access_key_gen(k->id, k->secret) != 0 ||
		    write_file(k, werr, sizeof(werr)) != 0) {
			cluster_log(k->ops.node_id,
				    "admin key: cannot draw one: %s",
				    werr[0] ? werr : "random generator");
			k->done = true;
			return;
		}
		k->lazy = false;
		k->drawn_lazily = true;
		cluster_log(k->ops.node_id,
			    "the cluster has no access key (data from before "
			    "the HTTP API?): drawing an administrator key "
			    "for %s",
			    k->path);
	}
	if (control_fsm_access_key_get(k->ops.fsm, k->id, &fk) == 0) {
		finish(k);
		return;
	}
	if (!cluster_is_leader(&k->ops))
		return;
	rv = iam_policy_parse(ADMIN_KEY_POLICY, strlen(ADMIN_KEY_POLICY),
			      &policy, err, sizeof(err));
	if (rv != 0)
		return;
	struct command_create_access_key c = {
	    .id = k->id,
	    .secret = k->secret,
	    .description = k->drawn_lazily ? "administrator (the cluster had "
					     "no access key)"
					   : "administrator (first boot)",
	    .policy_document = ADMIN_KEY_POLICY,
	    .policy = policy,
	    .time_ms = ids_wall_ms(),
	};
	rv = command_encode_create_access_key(&c, &p);
	iam_policy_free(policy);
	if (rv != 0)
		return;
	rv = cluster_propose(&k->ops, &p, NULL, on_done, k, NULL);
	k->in_flight = rv == 0;
}

void admin_key_free(struct admin_key *k)
{
	if (k == NULL)
		return;
	OPENSSL_cleanse(k->secret, sizeof(k->secret));
	free(k);
}
