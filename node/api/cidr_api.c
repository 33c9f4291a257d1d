#include "node/api/cidr_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/api_msg.h"
#include "node/api/commit_reply.h"
#include "node/api/edge_state.h"
#include "node/api/write_router.h"
#include "node/common/errcode.h"
#include "node/common/ids.h"
#include "node/control/cidr_table.h"
#include "node/control/control_fsm.h"
#include "proto/api.pb-c.h"

#define CIDR_PAGE_DEFAULT 100

static unsigned page_size(uint32_t max)
{
	return max == 0 ? CIDR_PAGE_DEFAULT : max;
}

static void reply_no_collection(struct api_call *call, const char *id)
{
	api_reply_error(call, "NoSuchCidrCollectionException", false,
			"The CIDR collection you specified, %.64s, doesn't "
			"exist.",
			id);
}

/* The collection, or NULL after answering (routed to the leader when it
 * may know it, else NoSuchCidrCollectionException). */
static const struct cidr_collection *
collection_or_reply(struct api_edge *n, struct api_call *call, const char *id)
{
	const struct cidr_collection *c =
	    cidr_table_get(control_fsm_cidrs(n->fsm), id);

	if (c != NULL)
		return c;
	if (!cluster_is_leader(&n->ops) && !cluster_closing(&n->ops) &&
	    cluster_leader_api(&n->ops, NULL) != NULL) {
		write_router_submit(n->router, call);
		return NULL;
	}
	reply_no_collection(call, id);
	return NULL;
}

static void render(Q53__Api__CidrCollection *m, const struct cidr_collection *c)
{
	q53__api__cidr_collection__init(m);
	m->id = c->id;
	m->name = c->name;
	m->version = c->version;
	m->caller_reference = c->caller_reference;
}

/* --- writes (leader) --- */

static void cidr_done(struct proposal *s, int status,
		      const struct q53_fsm_log_result *res)
{
	struct api_edge *n = s->arg;
	const Q53__Api__Request *req = api_call_request(s->call);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__CreateCidrCollectionResponse cr =
	    Q53__API__CREATE_CIDR_COLLECTION_RESPONSE__INIT;
	Q53__Api__ChangeCidrCollectionResponse ch =
	    Q53__API__CHANGE_CIDR_COLLECTION_RESPONSE__INIT;
	Q53__Api__DeleteCidrCollectionResponse dl =
	    Q53__API__DELETE_CIDR_COLLECTION_RESPONSE__INIT;
	Q53__Api__CidrCollection col;
	const struct cidr_table *t = control_fsm_cidrs(n->fsm);
	const struct cidr_collection *c;
	struct command_result result;
	char change_id[IDS_LEN + 1];
	bool decoded;

	if (commit_reply_failure(s->call, status, res, &result, &decoded))
		goto out;
	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_CREATE_CIDR_COLLECTION:
		/* The apply callback runs right after the FSM applied it. */
		c = cidr_table_by_name(t, req->create_cidr_collection->name);
		if (c == NULL) {
			api_reply_error(s->call, API_ERR_INTERNAL, false,
					"the CIDR collection is gone");
			goto out;
		}
		render(&col, c);
		cr.collection = &col;
		r.body_case = Q53__API__RESPONSE__BODY_CREATE_CIDR_COLLECTION;
		r.create_cidr_collection = &cr;
		break;
	case Q53__API__REQUEST__BODY_CHANGE_CIDR_COLLECTION:
		c = cidr_table_get(t, req->change_cidr_collection->id);
		ids_new('C', change_id);
		ch.change_id = change_id;
		ch.version = c != NULL ? c->version : 0;
		r.body_case = Q53__API__RESPONSE__BODY_CHANGE_CIDR_COLLECTION;
		r.change_cidr_collection = &ch;
		break;
	default:
		r.body_case = Q53__API__RESPONSE__BODY_DELETE_CIDR_COLLECTION;
		r.delete_cidr_collection = &dl;
		break;
	}
	r.write_index = control_fsm_applied(n->fsm);
	api_reply(s->call, &r);
out:
	if (decoded)
		command_result_free(&result);
}

static void cidr_create(struct api_edge *n, struct api_call *call,
			const Q53__Api__CreateCidrCollectionRequest *c)
{
	struct command_payload p = {0};
	char id[37];

	if (!cidr_collection_name_ok(c->name)) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"Name must be 1 to %d letters, digits, '_' or "
				"'-'",
				CIDR_NAME_MAX);
		return;
	}
	if (strlen(c->caller_reference) > CIDR_CALLER_MAX) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"CallerReference must be 1 to %d characters",
				CIDR_CALLER_MAX);
		return;
	}
	ids_new_uuid(id);
	struct command_create_cidr_collection cmd = {
	    .id = id,
	    .name = c->name,
	    .caller_reference = c->caller_reference,
	    .time_ms = ids_wall_ms(),
	};
	commit_reply_propose(n, call, &p,
			     command_encode_create_cidr_collection(&cmd, &p),
			     cidr_done, NULL);
}

static void cidr_change(struct api_edge *n, struct api_call *call,
			const Q53__Api__ChangeCidrCollectionRequest *c)
{
	struct command_payload p = {0};
	struct command_cidr_change *ch = NULL;
	struct cidr_block *bl = NULL;
	char err[512];
	size_t nb = 0;
	int rv;

	if (c->n_changes < 1 || c->n_changes > CIDR_CHANGES_MAX) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"Changes must hold 1 to %d changes",
				CIDR_CHANGES_MAX);
		return;
	}
	for (size_t i = 0; i < c->n_changes; i++) {
		if (c->changes[i]->n_cidr_list < 1 ||
		    c->changes[i]->n_cidr_list > CIDR_LIST_MAX) {
			api_reply_error(call, API_ERR_INVALID_INPUT, false,
					"change %zu: CidrList must hold 1 to "
					"%d blocks",
					i, CIDR_LIST_MAX);
			return;
		}
		nb += c->changes[i]->n_cidr_list;
	}
	ch = calloc(c->n_changes, sizeof(*ch));
	bl = calloc(nb, sizeof(*bl));
	if (ch == NULL || bl == NULL) {
		api_reply_error(call, API_ERR_UNAVAILABLE, true,
				"out of memory");
		goto out;
	}
	nb = 0;
	for (size_t i = 0; i < c->n_changes; i++) {
		const Q53__Api__CidrCollectionChange *x = c->changes[i];
		if (strcmp(x->action, "PUT") == 0)
			ch[i].action = COMMAND_CIDR_PUT;
		else if (strcmp(x->action, "DELETE_IF_EXISTS") == 0)
			ch[i].action = COMMAND_CIDR_DELETE_IF_EXISTS;
		else {
			api_reply_error(call, API_ERR_INVALID_INPUT, false,
					"change %zu: Action must be PUT or "
					"DELETE_IF_EXISTS, not '%.32s'",
					i, x->action);
			goto out;
		}
		ch[i].location = x->location_name;
		ch[i].blocks = bl + nb;
		ch[i].n_blocks = x->n_cidr_list;
		for (size_t k = 0; k < x->n_cidr_list; k++) {
			if (cidr_block_parse(x->cidr_list[k], &bl[nb++], err,
					     sizeof(err)) != 0) {
				api_reply_error_text(call, err);
				goto out;
			}
		}
	}
	struct command_change_cidr_collection cmd = {
	    .id = c->id,
	    .version = c->collection_version,
	    .changes = ch,
	    .n_changes = c->n_changes,
	    .time_ms = ids_wall_ms(),
	};
	if (cidr_table_check_change(&cmd, err, sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		goto out;
	}
	rv = command_encode_change_cidr_collection(&cmd, &p);
	commit_reply_propose(n, call, &p, rv, cidr_done, NULL);
out:
	free(ch);
	free(bl);
}

static void cidr_delete(struct api_edge *n, struct api_call *call,
			const Q53__Api__DeleteCidrCollectionRequest *d)
{
	struct command_payload p = {0};
	struct command_change_cidr_collection cmd = {
	    .id = d->id,
	    .delete_collection = true,
	    .time_ms = ids_wall_ms(),
	};
	if (!cidr_id_ok(d->id)) {
		reply_no_collection(call, d->id);
		return;
	}
	commit_reply_propose(n, call, &p,
			     command_encode_change_cidr_collection(&cmd, &p),
			     cidr_done, NULL);
}

/* --- reads --- */

static void list_collections(struct api_edge *n, struct api_call *call,
			     const Q53__Api__ListCidrCollectionsRequest *l)
{
	static const Q53__Api__ListCidrCollectionsRequest none =
	    Q53__API__LIST_CIDR_COLLECTIONS_REQUEST__INIT;
	const struct cidr_table *t = control_fsm_cidrs(n->fsm);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ListCidrCollectionsResponse lr =
	    Q53__API__LIST_CIDR_COLLECTIONS_RESPONSE__INIT;
	Q53__Api__CidrCollection items[CIDR_COLLECTIONS_MAX];
	Q53__Api__CidrCollection *ptrs[CIDR_COLLECTIONS_MAX];
	size_t o = 0, i = 0;

	if (l == NULL)
		l = &none;
	unsigned max = page_size(l->max_results);
	while (i < t->n && l->next_token[0] != '\0' &&
	       strcmp(t->v[i].id, l->next_token) < 0)
		i++;
	for (; i < t->n && o < max && o < CIDR_COLLECTIONS_MAX; i++, o++) {
		render(&items[o], &t->v[i]);
		ptrs[o] = &items[o];
	}
	lr.collections = ptrs;
	lr.n_collections = o;
	lr.next_token = (char *)(i < t->n ? t->v[i].id : "");
	r.body_case = Q53__API__RESPONSE__BODY_LIST_CIDR_COLLECTIONS;
	r.list_cidr_collections = &lr;
	api_reply(call, &r);
}

static void list_locations(struct api_edge *n, struct api_call *call,
			   const Q53__Api__ListCidrLocationsRequest *l)
{
	const struct cidr_collection *c =
	    collection_or_reply(n, call, l->collection_id);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ListCidrLocationsResponse lr =
	    Q53__API__LIST_CIDR_LOCATIONS_RESPONSE__INIT;
	size_t o = 0, i = 0;

	if (c == NULL)
		return;
	unsigned max = page_size(l->max_results);
	char **names = calloc(c->n_locs + 1, sizeof(*names));
	if (names == NULL) {
		api_reply_error(call, API_ERR_UNAVAILABLE, true,
				"out of memory");
		return;
	}
	while (i < c->n_locs && l->next_token[0] != '\0' &&
	       strcmp(c->locs[i].name, l->next_token) < 0)
		i++;
	for (; i < c->n_locs && o < max; i++)
		names[o++] = c->locs[i].name;
	lr.locations = names;
	lr.n_locations = o;
	lr.next_token = (char *)(i < c->n_locs ? c->locs[i].name : "");
	r.body_case = Q53__API__RESPONSE__BODY_LIST_CIDR_LOCATIONS;
	r.list_cidr_locations = &lr;
	api_reply(call, &r);
	free(names);
}

/* Blocks are listed by (location, block); a token is "LOCATION BLOCK" of
 * the next one. */
static bool before_token(const char *loc, const struct cidr_block *b,
			 const char *tloc, const struct cidr_block *tb)
{
	int c = strcmp(loc, tloc);
	return c < 0 || (c == 0 && cidr_block_cmp(b, tb) < 0);
}

static void list_blocks(struct api_edge *n, struct api_call *call,
			const Q53__Api__ListCidrBlocksRequest *l)
{
	const struct cidr_collection *c =
	    collection_or_reply(n, call, l->collection_id);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ListCidrBlocksResponse lr =
	    Q53__API__LIST_CIDR_BLOCKS_RESPONSE__INIT;
	char tloc[CIDR_LOCATION_MAX + 1] = "", err[256];
	char next[CIDR_LOCATION_MAX + CIDR_BLOCK_TEXT_MAX + 3] = "";
	struct cidr_block tb = {0};
	bool has_token = l->next_token[0] != '\0';

	if (c == NULL)
		return;
	if (l->location_name[0] != '\0' &&
	    cidr_collection_location(c, l->location_name) == NULL) {
		api_reply_error(call, "NoSuchCidrLocationException", false,
				"The CIDR collection location %.32s doesn't "
				"match any locations in the collection %s.",
				l->location_name, c->id);
		return;
	}
	if (has_token) {
		const char *sp = strchr(l->next_token, ' ');
		size_t ln = sp != NULL ? (size_t)(sp - l->next_token) : 0;
		if (sp == NULL || ln == 0 || ln > CIDR_LOCATION_MAX ||
		    cidr_block_parse(sp + 1, &tb, err, sizeof(err)) != 0) {
			api_reply_error(call, API_ERR_INVALID_INPUT, false,
					"NextToken is not one this listing "
					"gave");
			return;
		}
		memcpy(tloc, l->next_token, ln);
		tloc[ln] = '\0';
	}
	unsigned max = page_size(l->max_results);
	size_t cap = c->n_blocks < max ? c->n_blocks : max;
	Q53__Api__CidrBlockSummary *items = calloc(cap + 1, sizeof(*items));
	Q53__Api__CidrBlockSummary **ptrs = calloc(cap + 1, sizeof(*ptrs));
	char(*texts)[CIDR_BLOCK_TEXT_MAX + 1] = calloc(cap + 1, sizeof(*texts));
	size_t o = 0;
	if (items == NULL || ptrs == NULL || texts == NULL) {
		api_reply_error(call, API_ERR_UNAVAILABLE, true,
				"out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->n_locs && next[0] == '\0'; i++) {
		const struct cidr_location *loc = &c->locs[i];
		if (l->location_name[0] != '\0' &&
		    strcmp(loc->name, l->location_name) != 0)
			continue;
		for (size_t k = 0; k < loc->n; k++) {
			if (has_token &&
			    before_token(loc->name, &loc->blocks[k], tloc, &tb))
				continue;
			if (o == max) {
				char text[CIDR_BLOCK_TEXT_MAX + 1];
				cidr_block_format(&loc->blocks[k], text,
						  sizeof(text));
				snprintf(next, sizeof(next), "%s %s", loc->name,
					 text);
				break;
			}
			q53__api__cidr_block_summary__init(&items[o]);
			cidr_block_format(&loc->blocks[k], texts[o],
					  sizeof(texts[o]));
			items[o].cidr_block = texts[o];
			items[o].location_name = loc->name;
			ptrs[o] = &items[o];
			o++;
		}
	}
	lr.blocks = ptrs;
	lr.n_blocks = o;
	lr.next_token = next;
	r.body_case = Q53__API__RESPONSE__BODY_LIST_CIDR_BLOCKS;
	r.list_cidr_blocks = &lr;
	api_reply(call, &r);
out:
	free(items);
	free(ptrs);
	free(texts);
}

void cidr_api_execute(struct api_edge *n, struct api_call *call)
{
	const Q53__Api__Request *req = api_call_request(call);

	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_CREATE_CIDR_COLLECTION:
		cidr_create(n, call, req->create_cidr_collection);
		return;
	case Q53__API__REQUEST__BODY_CHANGE_CIDR_COLLECTION:
		cidr_change(n, call, req->change_cidr_collection);
		return;
	case Q53__API__REQUEST__BODY_DELETE_CIDR_COLLECTION:
		cidr_delete(n, call, req->delete_cidr_collection);
		return;
	case Q53__API__REQUEST__BODY_LIST_CIDR_LOCATIONS:
		list_locations(n, call, req->list_cidr_locations);
		return;
	case Q53__API__REQUEST__BODY_LIST_CIDR_BLOCKS:
		list_blocks(n, call, req->list_cidr_blocks);
		return;
	default:
		api_reply_error(call, API_ERR_INTERNAL, false,
				"not a CIDR collection write");
		return;
	}
}

static void be_cidr(void *data, struct api_call *call)
{
	struct api_edge *n = data;
	const Q53__Api__Request *req = api_call_request(call);

	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_LIST_CIDR_COLLECTIONS:
		list_collections(n, call, req->list_cidr_collections);
		return;
	case Q53__API__REQUEST__BODY_LIST_CIDR_LOCATIONS:
		list_locations(n, call, req->list_cidr_locations);
		return;
	case Q53__API__REQUEST__BODY_LIST_CIDR_BLOCKS:
		list_blocks(n, call, req->list_cidr_blocks);
		return;
	default:
		write_router_submit(n->router, call);
		return;
	}
}

void cidr_api_backend(struct api_backend *b)
{
	b->cidr = be_cidr;
}
