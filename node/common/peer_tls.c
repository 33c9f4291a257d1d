#include "node/common/peer_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"

#define PEM_MAX ((long)1 << 20)

static char *read_pem(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > PEM_MAX ||
	    fseek(f, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "cannot read %s", path);
		goto out;
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, errlen, "cannot read %s", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
out:
	fclose(f);
	return buf;
}

static int make_config(nng_tls_config **out, nng_tls_mode mode, const char *ca,
		       const char *cert, const char *key, char *err,
		       size_t errlen)
{
	nng_tls_config *cfg;
	int rv;

	rv = nng_tls_config_alloc(&cfg, mode);
	if (rv != 0) {
		snprintf(err, errlen, "TLS: %s", nng_strerror(rv));
		return Q53_EINVAL;
	}
	if ((rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) !=
		0 ||
	    (rv = nng_tls_config_ca_chain(cfg, ca, NULL)) != 0) {
		snprintf(err, errlen, "TLS CA: %s", nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
		snprintf(err, errlen, "TLS certificate or key: %s",
			 nng_strerror(rv));
		goto fail;
	}
	*out = cfg;
	return 0;
fail:
	nng_tls_config_free(cfg);
	return Q53_EINVAL;
}

int q53_peer_tls_load(struct q53_peer_tls *t, const char *ca_file,
		      const char *cert_file, const char *key_file, char *err,
		      size_t errlen)
{
	char *ca = NULL, *cert = NULL, *key = NULL;
	int rv = Q53_EINVAL;

	memset(t, 0, sizeof(*t));
	if ((ca = read_pem(ca_file, err, errlen)) == NULL ||
	    (cert = read_pem(cert_file, err, errlen)) == NULL ||
	    (key = read_pem(key_file, err, errlen)) == NULL)
		goto out;
	rv = make_config(&t->server, NNG_TLS_MODE_SERVER, ca, cert, key, err,
			 errlen);
	if (rv == 0)
		rv = make_config(&t->client, NNG_TLS_MODE_CLIENT, ca, cert, key,
				 err, errlen);
	if (rv != 0)
		q53_peer_tls_free(t);
out:
	free(ca);
	free(cert);
	if (key != NULL) {
		memset(key, 0, strlen(key));
		free(key);
	}
	return rv;
}

void q53_peer_tls_free(struct q53_peer_tls *t)
{
	if (t->server != NULL)
		nng_tls_config_free(t->server);
	if (t->client != NULL)
		nng_tls_config_free(t->client);
	t->server = t->client = NULL;
}

int q53_peer_url(const char *address, int tls, char *url, size_t len)
{
	int n;

	if (address == NULL || address[0] == '\0')
		return Q53_EINVAL;
	n = snprintf(url, len, "%s%s",
		     strstr(address, "://") != NULL ? ""
		     : tls			    ? "tls+tcp://"
						    : "tcp://",
		     address);
	return n < 0 || (size_t)n >= len ? Q53_EINVAL : 0;
}
