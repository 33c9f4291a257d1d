/* Serving-view publication: compiles the hosted zones the FSM marked dirty
 * (control_fsm_take_dirty, control_fsm_build_zone) and publishes one
 * serving view (node/zone/view.h) per loop turn; remembers the FSM index
 * the published view holds (what INSYNC compares). Nothing is published
 * before view_publisher_start (a joining node serves once caught up).
 * Loop thread only. */
#ifndef Q53_NODE_RUNTIME_VIEW_PUBLISHER_H
#define Q53_NODE_RUNTIME_VIEW_PUBLISHER_H

#include <stdbool.h>
#include <stdint.h>

struct command_payload;
struct control_fsm;
struct view_publisher;

struct view_publisher_config {
	uint64_t id;		 /* for log lines */
	struct control_fsm *fsm; /* borrowed */
	/* Called once, on the first publication (view_publisher_start). */
	void (*on_serving)(void *data);
	void *data;
};

/* 0 or Q53_ENOMEM. */
int view_publisher_new(struct view_publisher **out,
		       const struct view_publisher_config *config);
/* Takes the FSM's dirty marks; while serving, rebuilds and publishes. */
void view_publisher_update(struct view_publisher *n);
/* Starts serving: publishes every zone (an empty view too). */
void view_publisher_start(struct view_publisher *n);
/* Whether it serves; *applied (may be NULL): the index the view holds. */
bool view_publisher_serving(const struct view_publisher *n, uint64_t *applied);
/* Before p (this node's proposal) goes to raft: when it is a zone import
 * this node parsed (p->decoded), starts compiling it on a thread
 * (node/runtime/import_prebuild.h), which the rebuild after its apply
 * finishes instead of compiling the zone in full. */
void view_publisher_prebuild(struct view_publisher *n,
			     struct command_payload *p);
/* Releases the compiled zones (the published view stays published). */
void view_publisher_free(struct view_publisher *n);

#endif
