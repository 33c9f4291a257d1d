#include "node/anycast/anycast_decision.h"

void anycast_decision_init(struct anycast_decision *d, unsigned withdraw_after)
{
	d->withdraw_after = withdraw_after > 0 ? withdraw_after : 1;
	d->fails = 0;
	d->announced = false;
	d->why = ANYCAST_WHY_STARTING;
}

bool anycast_decision_step(struct anycast_decision *d, bool responder_ok,
			   bool quorum_contact)
{
	if (responder_ok) {
		d->fails = 0;
	} else if (d->fails < d->withdraw_after) {
		d->fails++;
	}
	if (!quorum_contact) {
		d->announced = false;
		d->why = ANYCAST_WHY_NO_QUORUM;
	} else if (responder_ok) {
		d->announced = true;
		d->why = ANYCAST_WHY_OK;
	} else if (d->fails >= d->withdraw_after) {
		d->announced = false;
		d->why = ANYCAST_WHY_RESPONDER;
	} else if (!d->announced && d->why == ANYCAST_WHY_NO_QUORUM) {
		/* back in a quorum, the responder not confirmed yet */
		d->why = ANYCAST_WHY_RESPONDER;
	}
	return d->announced;
}

const char *anycast_why_name(enum anycast_why why)
{
	switch (why) {
	case ANYCAST_WHY_OK:
		return "responder answers, in contact with a quorum";
	case ANYCAST_WHY_RESPONDER:
		return "the responder does not answer";
	case ANYCAST_WHY_NO_QUORUM:
		return "no contact with a quorum";
	case ANYCAST_WHY_STOPPING:
		return "the node is stopping";
	default:
		return "starting: the responder has not answered yet";
	}
}
