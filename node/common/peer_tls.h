/* Mutual TLS between cluster members (q53d --peer-tls-ca/-cert/-key): two
 * NNG TLS configurations (mbedTLS, NNG's tls+tcp:// transport) made from
 * PEM files, one for listeners (server mode) and one for dialers (client
 * mode), both NNG_TLS_AUTH_MODE_REQUIRED: a connection whose peer does not
 * present a certificate signed by the cluster CA fails its handshake, on
 * either side. No server name is checked (members are named by id, not by
 * host): the CA is the cluster's own.
 *
 * NNG 1.5.2 has no NNG_OPT_TLS_PEER_CN / NNG_OPT_TLS_PEER_ALT_NAMES (added
 * in later releases): a receiver cannot read which member's certificate a
 * pipe presented, only that it verified. Tying a certificate's node id to
 * the Raft sender id of every message needs those options (or a TLS
 * engine of our own, nng_tls_engine_register); until then the id is tied
 * to the source IP (node/raft/raft_guard.h, node/api/peer_admit.h). */
#ifndef Q53_NODE_COMMON_PEER_TLS_H
#define Q53_NODE_COMMON_PEER_TLS_H

#include <stddef.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

struct q53_peer_tls {
	nng_tls_config *server; /* for listeners */
	nng_tls_config *client; /* for dialers */
};

/* Loads the CA bundle and this node's certificate and key (PEM files).
 * 0, or Q53_EINVAL with the reason in err. On success free with
 * q53_peer_tls_free (NNG holds its own references while in use). */
int q53_peer_tls_load(struct q53_peer_tls *t, const char *ca_file,
		      const char *cert_file, const char *key_file, char *err,
		      size_t errlen);

void q53_peer_tls_free(struct q53_peer_tls *t);

/* "HOST:PORT" -> "tcp://HOST:PORT", or "tls+tcp://HOST:PORT" when tls;
 * URLs stay as they are. 0 or Q53_EINVAL (empty, too long). */
int q53_peer_url(const char *address, int tls, char *url, size_t len);

#endif
