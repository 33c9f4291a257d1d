/* The contract between the runtime's modules (node/runtime/, node/api/)
 * and the node that composes them (node/runtime/cluster_node.c): every
 * module gets a struct cluster_ops at init and reaches Raft, the FSM and
 * the serving state only through it, never by calling back up into
 * another module. Header only; loop thread only.
 *
 *   is_leader, leader_api   who leads (from raft and the FSM's metadata)
 *   propose                 frame a command under the node's session and
 *                           raft_apply it (node/runtime/raft_host.h)
 *   fsm                     the control FSM, read-only for modules
 *   configuration, status   raft's configuration and state, for answers
 *   serving                 the FSM index the published view holds
 *   observe_check           this node's own view of a health check
 *   closing                 the node is shutting down */
#ifndef Q53_NODE_RUNTIME_CLUSTER_OPS_H
#define Q53_NODE_RUNTIME_CLUSTER_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <raft.h>
#include <uv.h>

#include "node/common/ids.h"
#include "node/control/command.h"
#include "node/raft/fsm_log.h"

#define CLUSTER_ADDR_MAX     256
#define CLUSTER_NAME_MAX     65
#define CLUSTER_REASON_MAX   128 /* a probe's reason as kept locally */
#define CLUSTER_CHECK_ID_MAX 64	 /* = HEALTH_CHECK_ID_MAX */

struct api_call;
struct control_fsm;
struct raft_host;

struct proposal;
/* status: raft's (0 = committed and applied, res valid during the call). */
typedef void (*proposal_done)(struct proposal *s, int status,
			      const struct q53_fsm_log_result *res);

/* One raft_apply of this node (owned by the raft host; freed after done). */
struct proposal {
	struct raft_apply req;
	struct raft_host *host;	      /* the raft host's own fields: */
	struct proposal *prev, *next; /* its list of proposals */
	struct api_call *call;	      /* NULL for internal commands */
	proposal_done done;
	void *arg;
	char change_id[IDS_LEN + 1];
	char zone_id[IDS_LEN + 1];
	/* The raft host's: the command's typed form offered to this node's
	 * apply (command_payload.decoded), withdrawn and freed when done. */
	uint64_t request_id;
	uint64_t proposed_ns; /* uv_hrtime at propose (its latency) */
	struct command *decoded;
	void (*decoded_free)(struct command *decoded);
};

/* Raft's state for status answers. */
struct cluster_raft_status {
	const char *state; /* "leader", "follower", "candidate", ... */
	uint64_t term;
	uint64_t commit_index;
	unsigned nodes; /* in the configuration */
	/* Quorum contact measured by raft (node/runtime/quorum_contact.h):
	 * leader: a majority of voters heard from within an election
	 * timeout; follower: the current leader heard from within it. */
	bool quorum_contact;
	uint64_t contact_age_ms; /* since that contact, UINT64_MAX = never */
};

/* This node's own observation of one health check. */
struct cluster_check_observation {
	bool probing; /* false: not probed here (unknown or CALCULATED) */
	char state[16];
	char reason[CLUSTER_REASON_MAX];
	uint64_t observed_ms; /* wall clock of the last probe, 0 = none */
	uint64_t probes;
	/* the last failed probe (GetHealthCheckLastFailureReason) */
	char failure_reason[CLUSTER_REASON_MAX];
	uint64_t failure_ms; /* wall clock, 0 = none yet */
};

struct cluster_ops {
	void *data; /* first argument of every function below */
	uint64_t node_id;
	uv_loop_t *loop;
	struct control_fsm *fsm; /* read-only outside the raft host */
	bool (*is_leader)(void *data);
	/* The leader's API address from node metadata, NULL if unknown (or
	 * self); *leader_id (may be NULL) gets raft's leader id, 0 = none. */
	const char *(*leader_api)(void *data, uint64_t *leader_id);
	/* Frames p (consumed: its data is freed in every case) and proposes
	 * it. On 0, done runs later exactly once (*out, may be NULL, is the
	 * proposal until then). Else nothing was proposed: RAFT_NOTLEADER or
	 * Q53_ENOMEM. */
	int (*propose)(void *data, struct command_payload *p,
		       struct api_call *call, proposal_done done, void *arg,
		       struct proposal **out);
	const struct raft_configuration *(*configuration)(void *data);
	void (*status)(void *data, struct cluster_raft_status *out);
	/* True once the node serves; *applied: the FSM index it serves. */
	bool (*serving)(void *data, uint64_t *applied);
	/* 0, or Q53_ENOENT when this node does not follow check id. */
	int (*observe_check)(void *data, const char *id,
			     struct cluster_check_observation *out);
	bool (*closing)(void *data);
};

static inline bool cluster_is_leader(const struct cluster_ops *o)
{
	return o->is_leader(o->data);
}

static inline const char *cluster_leader_api(const struct cluster_ops *o,
					     uint64_t *leader_id)
{
	return o->leader_api(o->data, leader_id);
}

static inline int cluster_propose(const struct cluster_ops *o,
				  struct command_payload *p,
				  struct api_call *call, proposal_done done,
				  void *arg, struct proposal **out)
{
	return o->propose(o->data, p, call, done, arg, out);
}

static inline bool cluster_closing(const struct cluster_ops *o)
{
	return o->closing(o->data);
}

/* The FSM index this node serves, 0 while it does not serve yet. */
static inline uint64_t cluster_served(const struct cluster_ops *o)
{
	uint64_t applied = 0;

	return o->serving(o->data, &applied) ? applied : 0;
}

#define cluster_log(id, ...)                                                   \
	do {                                                                   \
		fprintf(stderr, "q53d[%llu]: ", (unsigned long long)(id));     \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
	} while (0)

#endif
