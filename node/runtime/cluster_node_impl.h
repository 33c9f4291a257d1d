/* Internals of the cluster runtime shared by cluster_node.c (raft, serving
 * view, membership, join) and cluster_node_api.c (the struct api_backend).
 * Not for other modules: use node/runtime/cluster_node.h. Loop thread
 * only. */
#ifndef Q53_NODE_RUNTIME_CLUSTER_NODE_IMPL_H
#define Q53_NODE_RUNTIME_CLUSTER_NODE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <raft.h>
#include <uv.h>

#include "node/api/api.h"
#include "node/runtime/cluster_node.h"
#include "node/control/command.h"
#include "node/raft/fsm_log.h"
#include "node/runtime/proposal_batch.h"

#define CN_ADDR_MAX 256
#define CN_NAME_MAX 65
#define CN_ID_LEN   21 /* "Z"/"C" + 20 characters */

struct control_fsm;
struct member_rpc;
struct health_prober;
struct cn_webhook;
struct zone;

#define CN_CHECK_ID_MAX 64  /* = HEALTH_CHECK_ID_MAX */
#define CN_REASON_MAX	128 /* a probe's reason as kept locally */

struct cn_zone {
	char *id;
	struct zone *zone; /* one reference */
};

/* The join of a node started with --join (house style #13):
 *
 *   ASK --request sent--> ASKING --added--> CATCHING_UP --applied--> DONE
 *    ^                       |
 *    +---- back-off ---------+ (error, timeout, NotLeader: follow hint)
 *
 * NONE: not joining (bootstrap or restart as a member). */
enum cn_join_state {
	CN_JOIN_NONE,
	CN_JOIN_ASK,
	CN_JOIN_ASKING,
	CN_JOIN_CATCHING_UP,
	CN_JOIN_DONE,
};

/* A membership change run by the leader, one at a time (raft allows one
 * configuration change in flight). Add: RAFT_ADD -> ASSIGN_DUE (raft_assign
 * on the next tick, contract 16) -> ASSIGNING -> METADATA -> reply.
 * Remove: METADATA (RemoveNodeMetadata) -> RAFT_REMOVE -> reply. Both are
 * idempotent, so a failed one is answered as retryable. */
enum cn_member_step {
	CN_STEP_RAFT_ADD,
	CN_STEP_ASSIGN_DUE,
	CN_STEP_ASSIGNING,
	CN_STEP_METADATA,
	CN_STEP_RAFT_REMOVE,
};

struct cn_member_op {
	struct cluster_node *n;
	bool remove;
	enum cn_member_step step;
	struct api_call *call; /* NULL: the node's own metadata */
	uint64_t id;
	char raft_url[CN_ADDR_MAX];
	char api[CN_ADDR_MAX];
	char dns[CN_ADDR_MAX];
	char name[CN_NAME_MAX];
	bool in_config; /* remove: still in raft's configuration */
	struct raft_change change;
	unsigned assign_attempts;
	uint64_t due; /* uv_now of the next raft_assign attempt */
};

/* A write waiting for a leader (election) or forwarded to it. */
struct cn_write {
	struct cluster_node *n;
	struct cn_write *next; /* waiting list */
	struct api_call *call;
	uint64_t deadline; /* uv_now: give up waiting for a leader */
};

/* This node's view of one FSM health check (cluster_node_health.c), kept
 * in the FSM's order (by id). The vote it last got committed (sent_*)
 * is what it compares its verdict with, until the FSM shows that vote;
 * then the FSM's record is the reference. */
struct cn_check {
	char id[CN_CHECK_ID_MAX + 1];
	uint64_t version; /* config version the prober runs */
	bool probing;	  /* added to the prober (not CALCULATED) */
	bool has_verdict; /* the observer left UNKNOWN */
	bool verdict;	  /* local verdict (Inverted applied) */
	char reason[CN_REASON_MAX];
	uint64_t observed_ms; /* wall clock of the verdict (change) */
	bool refresh_due;     /* the observer's slow refresh asked a vote */
	bool inflight;	      /* a vote is being committed */
	uint64_t retry_due;   /* uv_now: no vote before this */
	bool sent_ok;	      /* sent_healthy was committed ... */
	bool sent_healthy;
	uint64_t sent_index; /* ... at this FSM index */
	/* the last probe result, for health status */
	char last_reason[CN_REASON_MAX];
	uint64_t last_ms; /* wall clock, 0 = none yet */
	uint64_t probes;
	uint64_t votes_sent; /* committed votes of this node */
};

struct cn_submit;
/* status: raft's (0 = committed and applied, res valid during the call). */
typedef void (*cn_submit_done)(struct cn_submit *s, int status,
			       const struct q53_fsm_log_result *res);

/* One raft_apply of this node. */
struct cn_submit {
	struct raft_apply req;
	struct cluster_node *n;
	struct cn_submit *prev, *next; /* n->submits */
	struct api_call *call;	       /* NULL for internal commands */
	cn_submit_done done;
	void *arg;
	char change_id[CN_ID_LEN + 1];
	char zone_id[CN_ID_LEN + 1];
};

struct cluster_node {
	uv_loop_t *loop;

	/* configuration (owned copies) */
	uint64_t id;
	char *data_dir;
	char raft_url[CN_ADDR_MAX];
	char *api_address;
	char *dns_address;
	char *join;
	char *name;
	char **nameservers;
	size_t n_nameservers;
	const struct cluster_node_seed *seeds; /* borrowed */
	size_t n_seeds;
	unsigned snapshot_threshold;
	unsigned election_timeout_ms;
	unsigned heartbeat_ms;
	void (*on_serving)(void *data);
	void *data;

	/* raft */
	struct raft raft;
	struct raft_io io;
	struct control_fsm *fsm;
	struct q53_fsm_log log;
	struct proposal_batch proposals; /* cn_submit's queue into raft */
	bool io_inited;
	bool raft_inited;
	bool raft_closed;
	bool bootstrapped; /* this boot created the cluster */

	struct api_server *api;
	struct member_rpc *rpc;
	uv_check_t check; /* coalesced rebuild + publish */
	uv_timer_t tick;  /* waits, deferred raft calls, join, seeds */
	bool handles_init;

	/* the fsm_log session of this process */
	uint64_t client_id;
	uint64_t next_request;
	struct cn_submit *submits; /* in flight, with or without a call */

	/* serving */
	struct cn_zone *zones;
	size_t n_zones;
	bool serving;
	bool rebuild_all;
	uint64_t published_applied; /* FSM index the published view holds */
	uint64_t insync_index;	    /* every voter reported >= this */

	/* commit propagation: see cn_on_check */
	struct raft_barrier barrier;
	bool barrier_inflight;
	bool committed_since_barrier;

	struct cn_write *waiting;
	struct cn_member_op *member_op;
	bool self_meta_inflight;
	uint64_t self_meta_due;

	enum cn_join_state join_state;
	char join_target[CN_ADDR_MAX];
	uint64_t join_due;
	unsigned join_backoff_ms;
	uint64_t join_applied_target;

	size_t seed_next;
	bool seed_inflight;

	unsigned fanouts; /* status fan-outs in flight */

	/* health (cluster_node_health.c) */
	struct health_prober *prober;
	char probe_source[64]; /* host of the raft address, "" = any */
	struct cn_check *checks;
	size_t n_checks;
	uint64_t checks_synced; /* FSM index the checks were synced at */
	bool checks_sync_all;	/* sync even if the index did not move */
	unsigned votes_inflight;
	uint64_t vote_scan_due;	    /* uv_now of the tick's next vote scan */
	struct cn_webhook *webhook; /* cluster_node_webhook.c */

	bool closing;
	unsigned close_pending;
	void (*close_cb)(void *data);
	void *close_data;
};

/* --- cluster_node.c --- */

/* Frames p (consumed: its data is freed here in every case) under the
 * node's session and proposes it. On 0, done runs later exactly once. On
 * failure nothing was proposed: RAFT_NOTLEADER or Q53_ENOMEM. */
int cn_submit(struct cluster_node *n, struct command_payload *p,
	      struct api_call *call, cn_submit_done done, void *arg,
	      struct cn_submit **out);

bool cn_is_leader(struct cluster_node *n);
/* The leader's API address from node metadata, NULL if unknown (or self). */
const char *cn_leader_api(struct cluster_node *n, uint64_t *leader_id);

/* Routes a write: true when this node leads and the caller runs it now;
 * otherwise the call was forwarded to the leader, parked until one is
 * elected, or answered. */
bool cn_write_route(struct cluster_node *n, struct api_call *call);

/* Membership (leader side); the call is answered. */
/* address: the raft address (HOST:PORT or tcp:// URL); api, dns, name:
 * the node metadata ("" or NULL = keep what the FSM has). */
void cn_member_add(struct cluster_node *n, struct api_call *call, uint64_t id,
		   const char *address, const char *api, const char *dns,
		   const char *name);
void cn_member_remove(struct cluster_node *n, struct api_call *call,
		      uint64_t id);

/* "Z" or "C" followed by 20 random upper-case letters and digits. */
void cn_new_id(char prefix, char out[CN_ID_LEN + 1]);
uint64_t cn_now_ms(void);

/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", Route 53's health check ids. */
void cn_new_uuid(char out[37]);

/* --- cluster_node_health.c --- */

/* Sets up the prober (nothing runs). 0 or a q53_err with err. */
int cn_health_init(struct cluster_node *n, char *err, size_t errlen);
/* Starts probing (the checks the FSM holds now and later). */
int cn_health_start(struct cluster_node *n);
/* After applies (each loop turn): follow the FSM's checks, vote where
 * the FSM differs from the local verdict. */
void cn_health_after_apply(struct cluster_node *n);
/* The periodic part: retries votes that could not be committed. */
void cn_health_tick(struct cluster_node *n);
/* Closes the prober; done(data) once it is gone (at once without one). */
void cn_health_close(struct cluster_node *n, void (*done)(void *data),
		     void *data);
/* Frees the local check table (after close). */
void cn_health_free(struct cluster_node *n);
/* This node's view of check id, NULL when it does not follow it. */
const struct cn_check *cn_health_local(const struct cluster_node *n,
				       const char *id);

/* --- cluster_node_webhook.c --- */

/* Sets up the sender (libcurl multi on n->loop; nothing runs). 0 or
 * Q53_ENOMEM. */
int cn_webhook_init(struct cluster_node *n);
/* After applies: takes the FSM's transitions; on the leader, POSTs each
 * one to its check's WebhookUrl (followers drop them). */
void cn_webhook_after_apply(struct cluster_node *n);
/* Cancels deliveries in flight; done(data) once every handle is closed
 * (at once without a sender). */
void cn_webhook_close(struct cluster_node *n, void (*done)(void *data),
		      void *data);

/* --- cluster_node_health_api.c --- */

/* Health-check writes on the leader (from cn_api_execute). */
void cn_health_api_execute(struct cluster_node *n, struct api_call *call);
/* The backend's health operations. */
void cn_be_create_health_check(void *data, struct api_call *call,
			       const Q53__Api__CreateHealthCheckRequest *req);
void cn_be_get_health_check(void *data, struct api_call *call,
			    const Q53__Api__GetHealthCheckRequest *req);
void cn_be_list_health_checks(void *data, struct api_call *call,
			      const Q53__Api__ListHealthChecksRequest *req);
void cn_be_update_health_check(void *data, struct api_call *call,
			       const Q53__Api__UpdateHealthCheckRequest *req);
void cn_be_delete_health_check(void *data, struct api_call *call,
			       const Q53__Api__DeleteHealthCheckRequest *req);
void cn_be_get_health_check_status(
    void *data, struct api_call *call,
    const Q53__Api__GetHealthCheckStatusRequest *req);
void cn_be_health_vote(void *data, struct api_call *call,
		       const Q53__Api__HealthVoteRequest *req);

/* --- cluster_node_api.c --- */

struct api_backend cn_api_backend(struct cluster_node *n);
/* Runs a write on the leader (after cn_write_route said so). */
void cn_api_execute(struct cluster_node *n, struct api_call *call);
/* The packed StatusRequest / AddNodeRequest (malloc'd; caller frees). */
int cn_api_pack_status(uint8_t **buf, size_t *len);
int cn_api_pack_add_node(uint64_t id, const char *address, const char *api,
			 const char *dns, const char *name, uint8_t **buf,
			 size_t *len);

/* Answers a write whose apply failed (leadership lost: Unavailable, not
 * retryable) or was rejected by the FSM (its Route 53 error); returns true
 * when it answered. Otherwise cr holds the decoded result (*decoded). */
bool cn_reply_failure(struct api_call *call, int status,
		      const struct q53_fsm_log_result *res,
		      struct command_result *cr, bool *decoded);

#endif
