/* The replicated latency table of latency routing: rows of client network
 * (CIDR) -> RTT in milliseconds to each region, set through the API
 * (SetLatencyRows, command 22), and one measured row per site: the RTTs
 * that the probers of that site's nodes reported to each region's
 * health-checked endpoints (LatencySamples, command 23). Pure state of the
 * FSM (q53_fsm): the same commands give the same table on every node.
 *
 * At build time (zone_store_build.c) a latency record group orders its
 * regions by a row: the longest-prefix API row containing the client,
 * else the answering node's own site's measured row, else the node's own
 * region, else the first record. */
#ifndef Q53_NODE_CONTROL_LATENCY_TABLE_H
#define Q53_NODE_CONTROL_LATENCY_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A region or site name: [a-z0-9-]{1,32}. */
#define LATENCY_NAME_MAX 32
/* Regions per row, API rows, sites. */
#define LATENCY_ROW_REGIONS 32
#define LATENCY_ROWS_MAX    4096
#define LATENCY_SITES_MAX   256
/* RTTs are kept in [0, LATENCY_RTT_MAX] ms. */
#define LATENCY_RTT_MAX 600000u

struct latency_rtt {
	char region[LATENCY_NAME_MAX + 1];
	uint32_t rtt_ms;
};

struct latency_row {
	uint8_t family; /* 4 or 6 */
	uint8_t prefix_len;
	uint8_t addr[16]; /* masked to prefix_len; 4 bytes used for IPv4 */
	uint8_t n;	  /* rtts used, sorted by region */
	struct latency_rtt rtt[LATENCY_ROW_REGIONS];
};

struct latency_site {
	char site[LATENCY_NAME_MAX + 1];
	uint64_t node_id; /* who reported last */
	uint64_t time_ms;
	uint8_t n;
	struct latency_rtt rtt[LATENCY_ROW_REGIONS];
};

struct latency_table {
	struct latency_row *rows; /* sorted by (family, addr, prefix_len) */
	size_t nrows, cap_rows;
	struct latency_site *sites; /* sorted by site */
	size_t nsites, cap_sites;
};

void latency_table_init(struct latency_table *t);
void latency_table_free(struct latency_table *t);

/* Whether s is a valid region or site name. */
bool latency_name_valid(const char *s);

/* "A.B.C.D/N" or "X::Y/N" into a row's network (bits past N must be 0:
 * Route 53's CIDR blocks are exact). false when malformed. */
bool latency_cidr_parse(const char *s, struct latency_row *r);
/* The row's network as text; out holds >= 64 bytes. */
void latency_cidr_format(const struct latency_row *r, char *out, size_t outlen);

/* Checks a row (family, prefix, masked address, names valid and distinct,
 * RTTs in range) and sorts its regions. 0 or -1 with the reason in why. */
int latency_row_check(struct latency_row *r, char *why, size_t whylen);

/* Inserts r (checked) or replaces the row of its network. 0 or Q53_ENOMEM,
 * Q53_EINVAL when the table is full. */
int latency_table_set(struct latency_table *t, const struct latency_row *r);
/* Removes the row of r's network: 0, or Q53_ENOENT. */
int latency_table_delete(struct latency_table *t, const struct latency_row *r);
void latency_table_clear_rows(struct latency_table *t);

/* The API row with the longest prefix that contains the address (family 4:
 * addr[0..4), 6: addr[0..16)) looked at through its first bits bits (ECS
 * SOURCE PREFIX-LENGTH; rows longer than bits cannot match), NULL: none. */
const struct latency_row *latency_table_lookup(const struct latency_table *t,
					       uint8_t family,
					       const uint8_t *addr,
					       unsigned bits);

/* Sets site's RTT to each of rtt[0..n) (names valid, checked by the
 * caller), recording node_id and time. 0, Q53_ENOMEM or Q53_EINVAL (too
 * many sites or regions). */
int latency_table_sample(struct latency_table *t, const char *site,
			 uint64_t node_id, uint64_t time_ms,
			 const struct latency_rtt *rtt, size_t n);
const struct latency_site *latency_table_site(const struct latency_table *t,
					      const char *site);

/* Checks rtt[0..n) (names, range, distinct) and sorts it by region: 0 or
 * -1 with the reason in why. */
int latency_rtts_check(struct latency_rtt *rtt, size_t n, char *why,
		       size_t whylen);

/* The RTT of region in a row's or site's rtts; false when absent. */
bool latency_rtt_of(const struct latency_rtt *rtt, size_t n, const char *region,
		    uint32_t *out);

/* Whether region is one of Route 53's ResourceRecordSetRegion codes. */
bool latency_region_known(const char *region);

/* A deep copy (for snapshots); 0 or Q53_ENOMEM. */
int latency_table_copy(struct latency_table *dst,
		       const struct latency_table *src);
bool latency_table_empty(const struct latency_table *t);

/* The protobuf form (command.proto LatencyTable, LatencyRow), the one
 * codec of snapshots and commands. to_pb allocates with raft_malloc; free
 * with latency_table_pb_free. from_pb: 0, Q53_EMALF (a row or site that
 * does not check) or Q53_ENOMEM. */
struct Q53__Command__LatencyTable;
struct Q53__Command__LatencyRow;
int latency_table_to_pb(const struct latency_table *t,
			struct Q53__Command__LatencyTable **out);
void latency_table_pb_free(struct Q53__Command__LatencyTable *m);
int latency_table_from_pb(const struct Q53__Command__LatencyTable *m,
			  struct latency_table *t);
/* One row from protobuf, checked (latency_row_check): 0 or -1 with the
 * reason in why. */
int latency_row_from_pb(const struct Q53__Command__LatencyRow *m,
			struct latency_row *r, char *why, size_t whylen);

#endif
