/* Compiling a zone import ahead of its apply (see import_prebuild.h). */
#include "node/runtime/import_prebuild.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/command.h"
#include "node/control/zone_store.h"
#include "node/dnsdata/dname.h"

/* Who still reads a decoded command: the proposal (until its
 * decoded_free) and the build thread (until its input_done). The last
 * one frees it. Process-wide, since decoded_free has no context. */
struct holder {
	struct command *decoded;
	void (*real_free)(struct command *decoded);
	bool input_done;
	bool released;
	struct import_prebuild *build; /* NULL once finished */
	struct holder *next;
};

struct import_prebuild {
	uint64_t tag;
	uint8_t origin[DNAME_MAXLEN];
	pthread_t thread;
	struct zone_store_apex apex; /* the zone's, at the proposal */
	struct holder *holder;	     /* NULL once freed (both let go) */
	bool released;		     /* the proposal let go */
	struct zone *zone;	     /* the result */
};

static pthread_mutex_t holders_lock = PTHREAD_MUTEX_INITIALIZER;
static struct holder *holders;
static uint64_t next_tag;

/* Under holders_lock: unlinks h when both let go; returns its command
 * to free then, else NULL. */
static struct command *holder_drop_locked(struct holder *h,
					  void (**real_free)(struct command *))
{
	if (!h->input_done || !h->released)
		return NULL;
	for (struct holder **p = &holders; *p != NULL; p = &(*p)->next)
		if (*p == h) {
			*p = h->next;
			break;
		}
	if (h->build != NULL)
		h->build->holder = NULL;
	struct command *c = h->decoded;
	*real_free = h->real_free;
	free(h);
	return c;
}

/* The proposal's decoded_free. */
static void holder_release(struct command *decoded)
{
	void (*real_free)(struct command *) = NULL;
	struct command *c = NULL;
	pthread_mutex_lock(&holders_lock);
	for (struct holder *h = holders; h != NULL; h = h->next)
		if (h->decoded == decoded) {
			h->released = true;
			if (h->build != NULL)
				h->build->released = true;
			c = holder_drop_locked(h, &real_free);
			break;
		}
	pthread_mutex_unlock(&holders_lock);
	if (c != NULL)
		real_free(c);
}

/* The thread's: the builder copied what it needs. */
static void holder_input_done(void *arg)
{
	struct holder *h = arg;
	void (*real_free)(struct command *) = NULL;
	pthread_mutex_lock(&holders_lock);
	h->input_done = true;
	struct command *c = holder_drop_locked(h, &real_free);
	pthread_mutex_unlock(&holders_lock);
	if (c != NULL)
		real_free(c);
}

static void *prebuild_main(void *arg)
{
	struct import_prebuild *b = arg;
	/* Read before input_done may free it. */
	struct holder *h = b->holder;
	const struct command_import_zone *c = &h->decoded->u.import_zone;
	char err[256];
	struct zone *z = NULL;
	if (zone_store_prebuild(b->origin, c->sets, c->nsets, &b->apex,
				holder_input_done, h, &z, err,
				sizeof(err)) == 0)
		b->zone = z;
	return NULL;
}

int import_prebuild_start(struct import_prebuild **out,
			  struct command_payload *p, const uint8_t *origin,
			  struct zone_store_apex *apex)
{
	*out = NULL;
	if (p->decoded == NULL || p->decoded->type != COMMAND_IMPORT_ZONE ||
	    p->decoded_free == NULL)
		return Q53_EINVAL;
	struct import_prebuild *b = calloc(1, sizeof(*b));
	struct holder *h = calloc(1, sizeof(*h));
	if (b == NULL || h == NULL) {
		free(b);
		free(h);
		return Q53_ENOMEM;
	}
	memcpy(b->origin, origin, dname_wire_len(origin, DNAME_MAXLEN));
	b->apex = *apex; /* taken over */
	memset(apex, 0, sizeof(*apex));
	h->decoded = p->decoded;
	h->real_free = p->decoded_free;
	h->build = b;
	b->holder = h;
	pthread_mutex_lock(&holders_lock);
	b->tag = ++next_tag;
	h->next = holders;
	holders = h;
	pthread_mutex_unlock(&holders_lock);
	p->decoded->u.import_zone.prebuild_tag = b->tag;
	p->decoded_free = holder_release;
	if (pthread_create(&b->thread, NULL, prebuild_main, b) != 0) {
		/* Back as it was. */
		pthread_mutex_lock(&holders_lock);
		holders = h->next;
		pthread_mutex_unlock(&holders_lock);
		p->decoded->u.import_zone.prebuild_tag = 0;
		p->decoded_free = h->real_free;
		*apex = b->apex; /* given back */
		free(h);
		free(b);
		return Q53_ENOMEM;
	}
	*out = b;
	return 0;
}

uint64_t import_prebuild_tag(const struct import_prebuild *b)
{
	return b->tag;
}

bool import_prebuild_released(const struct import_prebuild *b)
{
	pthread_mutex_lock(&holders_lock);
	bool r = b->released;
	pthread_mutex_unlock(&holders_lock);
	return r;
}

struct zone *import_prebuild_finish(struct import_prebuild *b)
{
	pthread_join(b->thread, NULL);
	pthread_mutex_lock(&holders_lock);
	if (b->holder != NULL)
		b->holder->build = NULL; /* the proposal still holds it */
	pthread_mutex_unlock(&holders_lock);
	struct zone *z = b->zone;
	zone_store_apex_free(&b->apex);
	free(b);
	return z;
}
