/* The replicated outbound-transfer configuration of hosted zones: per
 * zone, the secondaries that may AXFR / IXFR it (and are sent NOTIFY) and
 * the TSIG keys (RFC 8945, HMAC-SHA256) a transfer request must be signed
 * with. Set through the API (SetZoneTransfer, command 32), kept in the
 * snapshot (FsmSnapshotExt.zone_transfers). Pure state of the FSM
 * (q53_fsm): no I/O, no clock; the proposer generates secrets.
 *
 * Errors: 0, Q53_EINVAL (err says why, starting with InvalidInput) or
 * Q53_ENOMEM. */
#ifndef Q53_NODE_CONTROL_XFR_CONFIG_H
#define Q53_NODE_CONTROL_XFR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XFR_SECONDARIES_MAX 16
#define XFR_KEYS_MAX	    4
#define XFR_KEY_NAME_MAX    255 /* presentation, with the final dot */
#define XFR_SECRET_MIN	    16
#define XFR_SECRET_MAX	    64
#define XFR_ZONE_ID_MAX	    22 /* ZONE_STORE_ID_MAX */
#define XFR_ALG_SHA256	    "hmac-sha256"

struct xfr_secondary {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

struct xfr_tsig_key {
	char name[XFR_KEY_NAME_MAX + 1]; /* lowercase, final dot */
	char algorithm[16];		 /* XFR_ALG_SHA256 */
	uint8_t secret[XFR_SECRET_MAX];
	uint8_t secret_len;
};

struct xfr_config {
	char zone_id[XFR_ZONE_ID_MAX + 1];
	uint8_t n_sec;
	uint8_t n_keys;
	bool allow_update; /* the keys may send RFC 2136 UPDATE */
	struct xfr_secondary sec[XFR_SECONDARIES_MAX]; /* sorted, distinct */
	struct xfr_tsig_key keys[XFR_KEYS_MAX];	       /* by name, distinct */
};

/* The zones' configurations, sorted by zone id (only zones with one). */
struct xfr_table {
	struct xfr_config **v;
	size_t n;
	size_t cap;
};

void xfr_table_init(struct xfr_table *t);
void xfr_table_free(struct xfr_table *t);

/* Checks c (untrusted: from the log or an API request) and sorts its
 * secondaries and keys into canonical order in place. */
int xfr_config_check(struct xfr_config *c, char *err, size_t errlen);
/* Replaces c->zone_id's configuration with a copy of c (checked first);
 * a c with neither secondaries nor keys removes it. */
int xfr_table_set(struct xfr_table *t, const struct xfr_config *c, char *err,
		  size_t errlen);
/* Drops zone_id's configuration (its zone was deleted). */
void xfr_table_drop(struct xfr_table *t, const char *zone_id);
/* zone_id's configuration, NULL when none. Valid until the next change. */
const struct xfr_config *xfr_table_get(const struct xfr_table *t,
				       const char *zone_id);
/* Whether the address (family 4 or 6; an IPv4-mapped IPv6 address counts
 * as IPv4) is one of c's secondaries (any port). */
bool xfr_config_allows(const struct xfr_config *c, uint8_t family,
		       const uint8_t *addr);
/* c's key named name (case-insensitive, final dot optional), NULL: none. */
const struct xfr_tsig_key *xfr_config_key(const struct xfr_config *c,
					  const char *name);

/* Parses "IP", "IP:PORT" or "[IPv6]:PORT" (port 53 by default). */
bool xfr_secondary_parse(const char *s, struct xfr_secondary *out);
/* Formats s as "IP:PORT" or "[IPv6]:PORT" into buf (>= 56 bytes). */
void xfr_secondary_format(const struct xfr_secondary *s, char *buf, size_t len);

/* protobuf forms (proto/command.proto ZoneTransferConfig). */
struct Q53__Command__ZoneTransferConfig;
/* The typed form of m (untrusted), checked. */
int xfr_config_from_pb(const struct Q53__Command__ZoneTransferConfig *m,
		       struct xfr_config *out, char *err, size_t errlen);
/* Fills *m (a Q53__Command__ZoneTransferConfig) from c; every part is
 * raft_malloc'd and freed with xfr_config_pb_free(m). Q53_ENOMEM. */
int xfr_config_to_pb(const struct xfr_config *c,
		     struct Q53__Command__ZoneTransferConfig **m);
void xfr_config_pb_free(struct Q53__Command__ZoneTransferConfig *m);

#endif
