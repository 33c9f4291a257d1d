/* Whether a node announces its anycast address: while its DNS responder
 * answers and it is in contact with a quorum (node/runtime/
 * quorum_contact.h), withdrawn otherwise. A responder check may fail
 * withdraw_after - 1 times in a row before the address goes (one lost
 * probe is not an outage); lost quorum contact withdraws at once (the
 * measure already waited an election timeout). Nothing is announced
 * before the responder answered once. Pure (tests/unit/
 * test_quorum_contact.c). */
#ifndef Q53_NODE_ANYCAST_ANYCAST_DECISION_H
#define Q53_NODE_ANYCAST_ANYCAST_DECISION_H

#include <stdbool.h>

enum anycast_why {
	ANYCAST_WHY_STARTING,  /* the responder has not answered yet */
	ANYCAST_WHY_OK,	       /* announced */
	ANYCAST_WHY_RESPONDER, /* the responder does not answer */
	ANYCAST_WHY_NO_QUORUM, /* no contact with a quorum */
	ANYCAST_WHY_STOPPING,  /* the node is stopping */
};

struct anycast_decision {
	unsigned withdraw_after; /* >= 1 */
	unsigned fails;		 /* responder checks failed in a row */
	bool announced;
	enum anycast_why why;
};

void anycast_decision_init(struct anycast_decision *d, unsigned withdraw_after);
/* One check's outcome; returns whether the address is to be announced. */
bool anycast_decision_step(struct anycast_decision *d, bool responder_ok,
			   bool quorum_contact);
/* "announced", "the responder does not answer", ... */
const char *anycast_why_name(enum anycast_why why);

#endif
