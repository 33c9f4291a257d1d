/* The client API server on a real libuv loop and a real loopback NNG
 * socket, with a fake backend that wraps zone_store directly: reads are
 * answered at once, writes from a uv timer (as a Raft commit would), or
 * held until the test releases them. Covers every operation's round trip,
 * error codes, many concurrent requests, garbage bytes, and closing with
 * requests in flight.
 *
 * DESIGN: the test's client runs on its own thread, because synchronous
 * NNG REQ calls would block the loop the server needs. It shares nothing
 * with the loop thread but two atomics (done, held count is read-only for
 * it) and its result buffer, read after pthread_join; cmocka asserts run
 * on the main thread only. Every wait is bounded by a deadline timer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <uv.h>

#include "node/common/errcode.h"
#include "node/api/api.h"
#include "cluster/api_msg.h"
#include "node/api/api_render.h"
#include "node/control/change_batch.h"
#include "node/control/zone_store.h"
#include "node/control/zone_text.h"

#define DEADLINE_MS	10000
#define CLIENT_TIMEO_MS 5000
#define MAX_CHANGES	512
#define MAX_NODES	8
#define MAX_HELD	64

static const char BATCH_SIMPLE[] =
    "{\"Comment\": \"basic\", \"Changes\": ["
    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
    "\"www.example.com\", \"Type\": \"A\", \"TTL\": 300, "
    "\"ResourceRecords\": [{\"Value\": \"192.0.2.10\"}, {\"Value\": "
    "\"192.0.2.11\"}]}},"
    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
    "\"example.com\", \"Type\": \"MX\", \"TTL\": 3600, "
    "\"ResourceRecords\": [{\"Value\": \"10 mail.example.com\"}]}}]}";

/* Change 1 deletes a record set that does not exist. */
static const char BATCH_BAD[] =
    "{\"Changes\": ["
    "{\"Action\": \"CREATE\", \"ResourceRecordSet\": {\"Name\": "
    "\"a.example.com\", \"Type\": \"A\", \"TTL\": 60, "
    "\"ResourceRecords\": [{\"Value\": \"192.0.2.1\"}]}},"
    "{\"Action\": \"DELETE\", \"ResourceRecordSet\": {\"Name\": "
    "\"nope.example.com\", \"Type\": \"A\", \"TTL\": 60, "
    "\"ResourceRecords\": [{\"Value\": \"192.0.2.1\"}]}}]}";

/* --- fake backend ------------------------------------------------------ */

enum fake_mode {
	FAKE_NORMAL, /* reads now, writes from a timer */
	FAKE_HOLD,   /* everything waits for fake_release */
};

struct fake_change {
	char id[32];
	unsigned polls;
};

struct fake_node {
	uint64_t id;
	char address[128];
};

struct fake {
	uv_loop_t *loop;
	enum fake_mode mode;
	struct zone_store store;
	unsigned next_zone;
	struct fake_change changes[MAX_CHANGES];
	unsigned nchanges;
	struct fake_node nodes[MAX_NODES];
	unsigned nnodes;
	struct api_call *held[MAX_HELD];
	unsigned nheld;
	unsigned deferred; /* timers not yet fired */
	unsigned answered_async;
};

struct deferred {
	uv_timer_t timer;
	struct fake *fake;
	struct api_call *call;
};

static void fake_init(struct fake *f, uv_loop_t *loop)
{
	memset(f, 0, sizeof(*f));
	f->loop = loop;
	zone_store_init(&f->store);
	f->nodes[0].id = 1;
	snprintf(f->nodes[0].address, sizeof(f->nodes[0].address),
		 "tcp://127.0.0.1:7001");
	f->nnodes = 1;
}

static const char *fake_new_change(struct fake *f)
{
	struct fake_change *c = &f->changes[f->nchanges % MAX_CHANGES];
	f->nchanges++;
	snprintf(c->id, sizeof(c->id), "C%013u", f->nchanges);
	c->polls = 0;
	return c->id;
}

static void change_info(Q53__Api__ChangeInfo *ci, const char *id)
{
	q53__api__change_info__init(ci);
	ci->id = (char *)id;
	ci->status = Q53__API__CHANGE_STATUS__PENDING;
	ci->submitted_at_ms = 1700000000000ull;
}

static void reply_change(struct api_call *call, const char *change_id,
			 Q53__Api__Response__BodyCase body)
{
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ChangeInfo ci;
	change_info(&ci, change_id);
	Q53__Api__DeleteZoneResponse del = Q53__API__DELETE_ZONE_RESPONSE__INIT;
	Q53__Api__ImportZoneResponse imp = Q53__API__IMPORT_ZONE_RESPONSE__INIT;
	Q53__Api__ChangeBatchResponse cb =
	    Q53__API__CHANGE_BATCH_RESPONSE__INIT;
	r.body_case = body;
	switch (body) {
	case Q53__API__RESPONSE__BODY_DELETE_ZONE:
		del.change = &ci;
		r.delete_zone = &del;
		break;
	case Q53__API__RESPONSE__BODY_IMPORT_ZONE:
		imp.change = &ci;
		r.import_zone = &imp;
		break;
	default:
		cb.change = &ci;
		r.change_batch = &cb;
		break;
	}
	api_reply(call, &r);
}

static void op_create_zone(struct fake *f, struct api_call *call,
			   const Q53__Api__CreateZoneRequest *req)
{
	static const char *const ns[] = {"ns1.q53.test.", "ns2.q53.test."};
	char id[32], err[512];
	snprintf(id, sizeof(id), "Z%013u", ++f->next_zone);
	struct zone_store_create_params p = {
	    .id = id,
	    .name = req->name,
	    .caller_reference =
		req->caller_reference[0] ? req->caller_reference : NULL,
	    .comment = req->comment[0] ? req->comment : NULL,
	    .nameservers = ns,
	    .nnameservers = 2,
	};
	if (zone_store_create(&f->store, &p, err, sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	struct zone_store_info info;
	zone_store_get(&f->store, id, &info);
	Q53__Api__HostedZone hz;
	api_render_zone(&hz, &info);
	Q53__Api__ChangeInfo ci;
	change_info(&ci, fake_new_change(f));
	char **names;
	size_t nnames;
	if (api_render_nameservers(&info, &names, &nnames) != 0) {
		api_reply_error(call, API_ERR_INTERNAL, false, "no memory");
		return;
	}
	Q53__Api__CreateZoneResponse cz = Q53__API__CREATE_ZONE_RESPONSE__INIT;
	cz.zone = &hz;
	cz.change = &ci;
	cz.nameservers = names;
	cz.n_nameservers = nnames;
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	r.body_case = Q53__API__RESPONSE__BODY_CREATE_ZONE;
	r.create_zone = &cz;
	api_reply(call, &r);
	api_render_strings_free(names, nnames);
}

static bool resolve(struct fake *f, struct api_call *call, const char *ref,
		    struct zone_store_info *info)
{
	char err[256];
	if (api_render_resolve(&f->store, ref, info, err, sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return false;
	}
	return true;
}

static void fake_run(struct fake *f, struct api_call *call)
{
	const Q53__Api__Request *req = api_call_request(call);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	struct zone_store_info info;
	char err[1024], id[ZONE_STORE_ID_MAX + 1];

	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_CREATE_ZONE:
		op_create_zone(f, call, req->create_zone);
		return;
	case Q53__API__REQUEST__BODY_LIST_ZONES: {
		Q53__Api__ListZonesResponse lz;
		if (api_render_zones(&f->store, req->list_zones->marker,
				     req->list_zones->max_items, &lz) != 0) {
			api_reply_error(call, API_ERR_INTERNAL, false, "oom");
			return;
		}
		r.body_case = Q53__API__RESPONSE__BODY_LIST_ZONES;
		r.list_zones = &lz;
		api_reply(call, &r);
		api_render_zones_free(&lz);
		return;
	}
	case Q53__API__REQUEST__BODY_GET_ZONE: {
		if (!resolve(f, call, req->get_zone->zone, &info))
			return;
		Q53__Api__HostedZone hz;
		api_render_zone(&hz, &info);
		Q53__Api__GetZoneResponse gz =
		    Q53__API__GET_ZONE_RESPONSE__INIT;
		gz.zone = &hz;
		if (api_render_nameservers(&info, &gz.nameservers,
					   &gz.n_nameservers) != 0)
			return api_reply_error(call, API_ERR_INTERNAL, false,
					       "oom");
		r.body_case = Q53__API__RESPONSE__BODY_GET_ZONE;
		r.get_zone = &gz;
		api_reply(call, &r);
		api_render_strings_free(gz.nameservers, gz.n_nameservers);
		return;
	}
	case Q53__API__REQUEST__BODY_DELETE_ZONE:
		if (!resolve(f, call, req->delete_zone->zone, &info))
			return;
		snprintf(id, sizeof(id), "%s", info.id);
		if (zone_store_delete(&f->store, id, err, sizeof(err)) != 0)
			return api_reply_error_text(call, err);
		reply_change(call, fake_new_change(f),
			     Q53__API__RESPONSE__BODY_DELETE_ZONE);
		return;
	case Q53__API__REQUEST__BODY_IMPORT_ZONE: {
		if (!resolve(f, call, req->import_zone->zone, &info))
			return;
		snprintf(id, sizeof(id), "%s", info.id);
		const ProtobufCBinaryData *t = &req->import_zone->zone_file;
		const char *text = t->data != NULL ? (const char *)t->data : "";
		if (zone_text_import(&f->store, id, text, t->len, err,
				     sizeof(err)) != 0)
			return api_reply_error_text(call, err);
		reply_change(call, fake_new_change(f),
			     Q53__API__RESPONSE__BODY_IMPORT_ZONE);
		return;
	}
	case Q53__API__REQUEST__BODY_EXPORT_ZONE: {
		if (!resolve(f, call, req->export_zone->zone, &info))
			return;
		char *text;
		size_t len;
		if (zone_text_export(&f->store, info.id, &text, &len, err,
				     sizeof(err)) != 0)
			return api_reply_error_text(call, err);
		Q53__Api__ExportZoneResponse ez =
		    Q53__API__EXPORT_ZONE_RESPONSE__INIT;
		ez.zone_file.data = (uint8_t *)text;
		ez.zone_file.len = len;
		r.body_case = Q53__API__RESPONSE__BODY_EXPORT_ZONE;
		r.export_zone = &ez;
		api_reply(call, &r);
		free(text);
		return;
	}
	case Q53__API__REQUEST__BODY_CHANGE_BATCH: {
		if (!resolve(f, call, req->change_batch->zone, &info))
			return;
		snprintf(id, sizeof(id), "%s", info.id);
		struct change_batch *b;
		const ProtobufCBinaryData *j =
		    &req->change_batch->change_batch_json;
		if (change_batch_parse(&b, (const char *)j->data, j->len, err,
				       sizeof(err)) != 0)
			return api_reply_error_text(call, err);
		struct change_batch_typed t;
		int rv = change_batch_compile(b, &t);
		if (rv == 0) {
			rv = zone_store_apply(&f->store, id, &t.batch, err,
					      sizeof(err));
			change_batch_typed_free(&t);
		}
		change_batch_free(b);
		if (rv != 0)
			return api_reply_error_text(call, err);
		reply_change(call, fake_new_change(f),
			     Q53__API__RESPONSE__BODY_CHANGE_BATCH);
		return;
	}
	case Q53__API__REQUEST__BODY_GET_CHANGE: {
		for (unsigned i = 0; i < f->nchanges && i < MAX_CHANGES; i++) {
			struct fake_change *c = &f->changes[i];
			if (strcmp(c->id, req->get_change->id) != 0)
				continue;
			Q53__Api__ChangeInfo ci;
			change_info(&ci, c->id);
			/* INSYNC from the second poll on. */
			if (c->polls++ > 0)
				ci.status = Q53__API__CHANGE_STATUS__INSYNC;
			Q53__Api__GetChangeResponse gc =
			    Q53__API__GET_CHANGE_RESPONSE__INIT;
			gc.change = &ci;
			gc.nodes_total = 3;
			gc.nodes_in_sync = c->polls > 1 ? 3 : 1;
			r.body_case = Q53__API__RESPONSE__BODY_GET_CHANGE;
			r.get_change = &gc;
			return api_reply(call, &r);
		}
		return api_reply_error(call, API_ERR_NO_SUCH_CHANGE, false,
				       "no change with id '%s'",
				       req->get_change->id);
	}
	case Q53__API__REQUEST__BODY_LIST_RECORDS: {
		if (!resolve(f, call, req->list_records->zone, &info))
			return;
		Q53__Api__ListRecordsResponse lr;
		if (api_render_records(&info, req->list_records, &lr, err,
				       sizeof(err)) != 0)
			return api_reply_error_text(call, err);
		r.body_case = Q53__API__RESPONSE__BODY_LIST_RECORDS;
		r.list_records = &lr;
		api_reply(call, &r);
		api_render_records_free(&lr);
		return;
	}
	case Q53__API__REQUEST__BODY_LIST_NODES: {
		Q53__Api__Node nodes[MAX_NODES], *ptrs[MAX_NODES];
		for (unsigned i = 0; i < f->nnodes; i++) {
			q53__api__node__init(&nodes[i]);
			nodes[i].id = f->nodes[i].id;
			nodes[i].raft_address = f->nodes[i].address;
			nodes[i].role = "voter";
			nodes[i].leader = i == 0;
			nodes[i].reachable = true;
			ptrs[i] = &nodes[i];
		}
		Q53__Api__ListNodesResponse ln =
		    Q53__API__LIST_NODES_RESPONSE__INIT;
		ln.nodes = ptrs;
		ln.n_nodes = f->nnodes;
		r.body_case = Q53__API__RESPONSE__BODY_LIST_NODES;
		r.list_nodes = &ln;
		return api_reply(call, &r);
	}
	case Q53__API__REQUEST__BODY_ADD_NODE: {
		const Q53__Api__AddNodeRequest *a = req->add_node;
		for (unsigned i = 0; i < f->nnodes; i++)
			if (f->nodes[i].id == a->id)
				return api_reply_error(
				    call, API_ERR_NODE_EXISTS, false,
				    "node %llu is already a member",
				    (unsigned long long)a->id);
		if (f->nnodes == MAX_NODES)
			return api_reply_error(call, API_ERR_INVALID_INPUT,
					       false, "cluster is full");
		struct fake_node *n = &f->nodes[f->nnodes++];
		n->id = a->id;
		snprintf(n->address, sizeof(n->address), "%s", a->address);
		Q53__Api__Node node = Q53__API__NODE__INIT;
		node.id = n->id;
		node.raft_address = n->address;
		node.role = "spare";
		Q53__Api__AddNodeResponse an =
		    Q53__API__ADD_NODE_RESPONSE__INIT;
		an.node = &node;
		r.body_case = Q53__API__RESPONSE__BODY_ADD_NODE;
		r.add_node = &an;
		return api_reply(call, &r);
	}
	case Q53__API__REQUEST__BODY_REMOVE_NODE:
		for (unsigned i = 0; i < f->nnodes; i++) {
			if (f->nodes[i].id != req->remove_node->id)
				continue;
			f->nodes[i] = f->nodes[--f->nnodes];
			Q53__Api__RemoveNodeResponse rn =
			    Q53__API__REMOVE_NODE_RESPONSE__INIT;
			r.body_case = Q53__API__RESPONSE__BODY_REMOVE_NODE;
			r.remove_node = &rn;
			return api_reply(call, &r);
		}
		return api_reply_error(
		    call, API_ERR_NO_SUCH_NODE, false,
		    "node %llu is not a member",
		    (unsigned long long)req->remove_node->id);
	case Q53__API__REQUEST__BODY_STATUS: {
		Q53__Api__StatusResponse st = Q53__API__STATUS_RESPONSE__INIT;
		st.node_id = 1;
		st.state = "leader";
		st.leader_id = 1;
		st.leader_api = "127.0.0.1:8053";
		st.term = 7;
		st.commit_index = st.applied_index = 42;
		st.zones = (uint32_t)zone_store_count(&f->store);
		st.nodes = f->nnodes;
		st.version = "test";
		r.body_case = Q53__API__RESPONSE__BODY_STATUS;
		r.status = &st;
		return api_reply(call, &r);
	}
	default:
		return api_reply_error(call, API_ERR_INTERNAL, false,
				       "unexpected op");
	}
}

static void deferred_closed(uv_handle_t *h)
{
	free(h->data);
}

static void deferred_fire(uv_timer_t *t)
{
	struct deferred *d = t->data;
	d->fake->deferred--;
	d->fake->answered_async++;
	fake_run(d->fake, d->call);
	uv_close((uv_handle_t *)&d->timer, deferred_closed);
}

/* Writes complete later, like a Raft commit; reads at once. */
static void fake_submit(struct fake *f, struct api_call *call, bool write)
{
	if (f->mode == FAKE_HOLD) {
		assert_true(f->nheld < MAX_HELD);
		f->held[f->nheld++] = call;
		return;
	}
	if (!write) {
		fake_run(f, call);
		return;
	}
	struct deferred *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	d->fake = f;
	d->call = call;
	uv_timer_init(f->loop, &d->timer);
	d->timer.data = d;
	f->deferred++;
	uv_timer_start(&d->timer, deferred_fire, 1, 0);
}

#define BACKEND_FN(op, type, write)                                            \
	static void be_##op(void *data, struct api_call *call,                 \
			    const type *req)                                   \
	{                                                                      \
		(void)req;                                                     \
		fake_submit(data, call, write);                                \
	}

BACKEND_FN(create_zone, Q53__Api__CreateZoneRequest, true)
BACKEND_FN(list_zones, Q53__Api__ListZonesRequest, false)
BACKEND_FN(get_zone, Q53__Api__GetZoneRequest, false)
BACKEND_FN(delete_zone, Q53__Api__DeleteZoneRequest, true)
BACKEND_FN(import_zone, Q53__Api__ImportZoneRequest, true)
BACKEND_FN(export_zone, Q53__Api__ExportZoneRequest, false)
BACKEND_FN(change_batch, Q53__Api__ChangeBatchRequest, true)
BACKEND_FN(get_change, Q53__Api__GetChangeRequest, false)
BACKEND_FN(list_records, Q53__Api__ListRecordsRequest, false)
BACKEND_FN(list_nodes, Q53__Api__ListNodesRequest, false)
BACKEND_FN(add_node, Q53__Api__AddNodeRequest, true)
BACKEND_FN(remove_node, Q53__Api__RemoveNodeRequest, true)
BACKEND_FN(status, Q53__Api__StatusRequest, false)

static struct api_backend fake_backend(struct fake *f)
{
	struct api_backend b = {
	    .data = f,
	    .create_zone = be_create_zone,
	    .list_zones = be_list_zones,
	    .get_zone = be_get_zone,
	    .delete_zone = be_delete_zone,
	    .import_zone = be_import_zone,
	    .export_zone = be_export_zone,
	    .change_batch = be_change_batch,
	    .get_change = be_get_change,
	    .list_records = be_list_records,
	    .list_nodes = be_list_nodes,
	    .add_node = be_add_node,
	    .remove_node = be_remove_node,
	    .status = be_status,
	};
	return b;
}

/* --- harness: loop on the main thread, client on its own --------------- */

struct harness;
typedef void (*client_fn)(struct harness *h);

struct harness {
	uv_loop_t loop;
	uv_timer_t deadline;
	bool expired;
	uv_async_t wake; /* the client thread says it is done */
	struct fake fake;
	struct api_server *server;
	char url[64];
	bool closed;

	pthread_t thread;
	client_fn client;
	atomic_bool client_done;
	atomic_uint client_progress; /* requests sent, for close tests */
	char failure[512];	     /* first client-side check that failed */
	unsigned checks;
};

static void deadline_cb(uv_timer_t *t)
{
	struct harness *h = t->data;
	h->expired = true;
}

static void wake_cb(uv_async_t *a)
{
	(void)a;
}

/* Runs the loop until cond(h) or the deadline; returns cond(h). */
static bool run_until(struct harness *h, bool (*cond)(struct harness *))
{
	h->expired = false;
	uv_timer_start(&h->deadline, deadline_cb, DEADLINE_MS, 0);
	while (!cond(h) && !h->expired)
		uv_run(&h->loop, UV_RUN_ONCE);
	uv_timer_stop(&h->deadline);
	return cond(h);
}

static int setup_with(void **state, const struct api_backend *override,
		      unsigned max_inflight)
{
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	assert_int_equal(uv_loop_init(&h->loop), 0);
	uv_timer_init(&h->loop, &h->deadline);
	h->deadline.data = h;
	uv_async_init(&h->loop, &h->wake, wake_cb);
	fake_init(&h->fake, &h->loop);
	struct api_backend b = override ? *override : fake_backend(&h->fake);
	struct api_server_config cfg = {
	    .listen = "127.0.0.1:0",
	    .max_inflight = max_inflight,
	    .send_timeout_ms = 2000,
	};
	assert_int_equal(api_server_init(&h->server, &h->loop, &b, &cfg), 0);
	assert_int_equal(api_server_start(h->server), 0);
	assert_true(api_server_port(h->server) > 0);
	snprintf(h->url, sizeof(h->url), "tcp://127.0.0.1:%d",
		 api_server_port(h->server));
	atomic_init(&h->client_done, false);
	atomic_init(&h->client_progress, 0);
	*state = h;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, NULL, 8);
}

static void server_closed(void *data)
{
	struct harness *h = data;
	h->closed = true;
}

static bool is_closed(struct harness *h)
{
	return h->closed;
}

static void walk_close(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

static int teardown(void **state)
{
	struct harness *h = *state;
	if (h->server != NULL) {
		api_server_close(h->server, server_closed, h);
		h->server = NULL;
	}
	assert_true(run_until(h, is_closed));
	uv_walk(&h->loop, walk_close, NULL);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&h->loop), 0);
	zone_store_free(&h->fake.store);
	free(h);
	return 0;
}

static void *client_main(void *arg)
{
	struct harness *h = arg;
	h->client(h);
	atomic_store(&h->client_done, true);
	uv_async_send(&h->wake);
	return NULL;
}

static void client_start(struct harness *h, client_fn fn)
{
	h->client = fn;
	atomic_store(&h->client_done, false);
	assert_int_equal(pthread_create(&h->thread, NULL, client_main, h), 0);
}

static bool client_finished(struct harness *h)
{
	return atomic_load(&h->client_done);
}

static void client_join(struct harness *h)
{
	bool done = run_until(h, client_finished);
	pthread_join(h->thread, NULL);
	assert_true(done);
	if (h->failure[0] != '\0')
		fail_msg("client: %s", h->failure);
}

static void run_client(struct harness *h, client_fn fn)
{
	client_start(h, fn);
	client_join(h);
}

/* --- client side (client thread: no cmocka asserts) -------------------- */

#define CHECK(h, cond, ...)                                                    \
	do {                                                                   \
		(h)->checks++;                                                 \
		if (!(cond) && (h)->failure[0] == '\0') {                      \
			int n_ = snprintf((h)->failure, sizeof((h)->failure),  \
					  "line %d: %s: ", __LINE__, #cond);   \
			if (n_ > 0 && (size_t)n_ < sizeof((h)->failure))       \
				snprintf((h)->failure + n_,                    \
					 sizeof((h)->failure) - (size_t)n_,    \
					 __VA_ARGS__);                         \
		}                                                              \
	} while (0)

static nng_socket client_open(struct harness *h)
{
	nng_socket s;
	CHECK(h, nng_req0_open(&s) == 0, "req0_open");
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, CLIENT_TIMEO_MS);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, CLIENT_TIMEO_MS);
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	CHECK(h, nng_dial(s, h->url, NULL, 0) == 0, "dial %s", h->url);
	return s;
}

/* Sends raw bytes, returns the decoded response (NULL on failure). */
static Q53__Api__Response *client_raw(struct harness *h, nng_socket s,
				      const void *buf, size_t len)
{
	int rv = nng_send(s, (void *)buf, len, 0);
	CHECK(h, rv == 0, "send: %s", nng_strerror(rv));
	if (rv != 0)
		return NULL;
	void *in;
	size_t inlen;
	rv = nng_recv(s, &in, &inlen, NNG_FLAG_ALLOC);
	CHECK(h, rv == 0, "recv: %s", nng_strerror(rv));
	if (rv != 0)
		return NULL;
	Q53__Api__Response *r = q53__api__response__unpack(NULL, inlen, in);
	nng_free(in, inlen);
	CHECK(h, r != NULL, "undecodable response");
	return r;
}

static Q53__Api__Response *client_call(struct harness *h, nng_socket s,
				       Q53__Api__Request *req)
{
	req->version = API_MSG_VERSION;
	size_t n = q53__api__request__get_packed_size(req);
	uint8_t *buf = malloc(n + 1);
	q53__api__request__pack(req, buf);
	Q53__Api__Response *r = client_raw(h, s, buf, n);
	free(buf);
	return r;
}

static void resp_free(Q53__Api__Response *r)
{
	if (r != NULL)
		q53__api__response__free_unpacked(r, NULL);
}

static bool resp_ok(struct harness *h, Q53__Api__Response *r,
		    Q53__Api__Response__BodyCase body)
{
	CHECK(h, r != NULL, "no response");
	if (r == NULL)
		return false;
	CHECK(h, r->error[0] == '\0', "error %s: %s", r->error, r->message);
	CHECK(h, r->body_case == body, "body %d, want %d", r->body_case, body);
	return r->error[0] == '\0' && r->body_case == body;
}

static void resp_err(struct harness *h, Q53__Api__Response *r, const char *code,
		     const char *msg_part)
{
	CHECK(h, r != NULL, "no response");
	if (r == NULL)
		return;
	CHECK(h, strcmp(r->error, code) == 0, "error '%s' (%s), want %s",
	      r->error, r->message, code);
	CHECK(h, msg_part == NULL || strstr(r->message, msg_part) != NULL,
	      "message '%s' lacks '%s'", r->message, msg_part);
	resp_free(r);
}

/* Request builders: each returns a Request owning nothing (stack parts
 * live in the caller's `parts`). */
struct parts {
	Q53__Api__Request req;
	Q53__Api__CreateZoneRequest cz;
	Q53__Api__ListZonesRequest lz;
	Q53__Api__GetZoneRequest gz;
	Q53__Api__DeleteZoneRequest dz;
	Q53__Api__ImportZoneRequest iz;
	Q53__Api__ExportZoneRequest ez;
	Q53__Api__ChangeBatchRequest cb;
	Q53__Api__GetChangeRequest gc;
	Q53__Api__ListRecordsRequest lr;
	Q53__Api__ListNodesRequest ln;
	Q53__Api__AddNodeRequest an;
	Q53__Api__RemoveNodeRequest rn;
	Q53__Api__StatusRequest st;
};

static Q53__Api__Request *rq_create(struct parts *p, const char *name,
				    const char *ref, const char *comment)
{
	q53__api__request__init(&p->req);
	q53__api__create_zone_request__init(&p->cz);
	p->cz.name = (char *)name;
	if (ref)
		p->cz.caller_reference = (char *)ref;
	if (comment)
		p->cz.comment = (char *)comment;
	p->req.body_case = Q53__API__REQUEST__BODY_CREATE_ZONE;
	p->req.create_zone = &p->cz;
	return &p->req;
}

static Q53__Api__Request *rq_list_zones(struct parts *p, const char *marker,
					uint32_t max)
{
	q53__api__request__init(&p->req);
	q53__api__list_zones_request__init(&p->lz);
	if (marker)
		p->lz.marker = (char *)marker;
	p->lz.max_items = max;
	p->req.body_case = Q53__API__REQUEST__BODY_LIST_ZONES;
	p->req.list_zones = &p->lz;
	return &p->req;
}

#define RQ_ZONE(fn, field, sub, init, CASE)                                    \
	static Q53__Api__Request *fn(struct parts *p, const char *zone)        \
	{                                                                      \
		q53__api__request__init(&p->req);                              \
		init(&p->sub);                                                 \
		p->sub.zone = (char *)zone;                                    \
		p->req.body_case = CASE;                                       \
		p->req.field = &p->sub;                                        \
		return &p->req;                                                \
	}
RQ_ZONE(rq_get_zone, get_zone, gz, q53__api__get_zone_request__init,
	Q53__API__REQUEST__BODY_GET_ZONE)
RQ_ZONE(rq_delete_zone, delete_zone, dz, q53__api__delete_zone_request__init,
	Q53__API__REQUEST__BODY_DELETE_ZONE)
RQ_ZONE(rq_export_zone, export_zone, ez, q53__api__export_zone_request__init,
	Q53__API__REQUEST__BODY_EXPORT_ZONE)

static Q53__Api__Request *rq_records(struct parts *p, const char *zone,
				     const char *marker, uint32_t max)
{
	q53__api__request__init(&p->req);
	q53__api__list_records_request__init(&p->lr);
	p->lr.zone = (char *)zone;
	if (marker)
		p->lr.marker = (char *)marker;
	p->lr.max_items = max;
	p->req.body_case = Q53__API__REQUEST__BODY_LIST_RECORDS;
	p->req.list_records = &p->lr;
	return &p->req;
}

static Q53__Api__Request *rq_import(struct parts *p, const char *zone,
				    const char *text)
{
	q53__api__request__init(&p->req);
	q53__api__import_zone_request__init(&p->iz);
	p->iz.zone = (char *)zone;
	p->iz.zone_file.data = (uint8_t *)text;
	p->iz.zone_file.len = strlen(text);
	p->req.body_case = Q53__API__REQUEST__BODY_IMPORT_ZONE;
	p->req.import_zone = &p->iz;
	return &p->req;
}

static Q53__Api__Request *rq_batch(struct parts *p, const char *zone,
				   const char *json)
{
	q53__api__request__init(&p->req);
	q53__api__change_batch_request__init(&p->cb);
	p->cb.zone = (char *)zone;
	p->cb.change_batch_json.data = (uint8_t *)json;
	p->cb.change_batch_json.len = strlen(json);
	p->req.body_case = Q53__API__REQUEST__BODY_CHANGE_BATCH;
	p->req.change_batch = &p->cb;
	return &p->req;
}

static Q53__Api__Request *rq_get_change(struct parts *p, const char *id)
{
	q53__api__request__init(&p->req);
	q53__api__get_change_request__init(&p->gc);
	p->gc.id = (char *)id;
	p->req.body_case = Q53__API__REQUEST__BODY_GET_CHANGE;
	p->req.get_change = &p->gc;
	return &p->req;
}

static Q53__Api__Request *rq_nodes(struct parts *p)
{
	q53__api__request__init(&p->req);
	q53__api__list_nodes_request__init(&p->ln);
	p->req.body_case = Q53__API__REQUEST__BODY_LIST_NODES;
	p->req.list_nodes = &p->ln;
	return &p->req;
}

static Q53__Api__Request *rq_add_node(struct parts *p, uint64_t id,
				      const char *address)
{
	q53__api__request__init(&p->req);
	q53__api__add_node_request__init(&p->an);
	p->an.id = id;
	p->an.address = (char *)address;
	p->req.body_case = Q53__API__REQUEST__BODY_ADD_NODE;
	p->req.add_node = &p->an;
	return &p->req;
}

static Q53__Api__Request *rq_remove_node(struct parts *p, uint64_t id)
{
	q53__api__request__init(&p->req);
	q53__api__remove_node_request__init(&p->rn);
	p->rn.id = id;
	p->req.body_case = Q53__API__REQUEST__BODY_REMOVE_NODE;
	p->req.remove_node = &p->rn;
	return &p->req;
}

static Q53__Api__Request *rq_status(struct parts *p)
{
	q53__api__request__init(&p->req);
	q53__api__status_request__init(&p->st);
	p->req.body_case = Q53__API__REQUEST__BODY_STATUS;
	p->req.status = &p->st;
	return &p->req;
}

/* --- tests ------------------------------------------------------------- */

static void client_roundtrip(struct harness *h)
{
	nng_socket s = client_open(h);
	struct parts p;
	Q53__Api__Response *r;
	char id[64] = "", change[64] = "";

	r = client_call(h, s,
			rq_create(&p, "Example.com", "ref-1", "first zone"));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_CREATE_ZONE)) {
		Q53__Api__CreateZoneResponse *cz = r->create_zone;
		snprintf(id, sizeof(id), "%s", cz->zone->id);
		CHECK(h, strcmp(cz->zone->name, "example.com.") == 0, "%s",
		      cz->zone->name);
		CHECK(h, strcmp(cz->zone->caller_reference, "ref-1") == 0,
		      "ref");
		CHECK(h, strcmp(cz->zone->comment, "first zone") == 0, "cmt");
		CHECK(h, cz->zone->record_set_count == 2, "%llu",
		      (unsigned long long)cz->zone->record_set_count);
		CHECK(h, cz->change->status == Q53__API__CHANGE_STATUS__PENDING,
		      "status");
		CHECK(h, cz->n_nameservers == 2, "%zu", cz->n_nameservers);
	}
	resp_free(r);

	r = client_call(h, s, rq_list_zones(&p, NULL, 0));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_LIST_ZONES)) {
		CHECK(h, r->list_zones->n_zones == 1, "%zu",
		      r->list_zones->n_zones);
		CHECK(h, r->list_zones->next_marker[0] == '\0', "marker");
	}
	resp_free(r);

	/* By id, by /hostedzone/id, by name (any case, final dot or not). */
	char path[96];
	snprintf(path, sizeof(path), "/hostedzone/%s", id);
	const char *refs[] = {id, path, "example.com", "EXAMPLE.COM."};
	for (size_t i = 0; i < 4; i++) {
		r = client_call(h, s, rq_get_zone(&p, refs[i]));
		if (resp_ok(h, r, Q53__API__RESPONSE__BODY_GET_ZONE)) {
			CHECK(h, strcmp(r->get_zone->zone->id, id) == 0,
			      "ref %s", refs[i]);
			CHECK(h,
			      r->get_zone->n_nameservers == 2 &&
				  strcmp(r->get_zone->nameservers[0],
					 "ns1.q53.test.") == 0,
			      "nameservers");
		}
		resp_free(r);
	}

	r = client_call(h, s, rq_batch(&p, "example.com", BATCH_SIMPLE));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_CHANGE_BATCH))
		snprintf(change, sizeof(change), "%s",
			 r->change_batch->change->id);
	resp_free(r);

	r = client_call(h, s, rq_get_change(&p, change));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_GET_CHANGE))
		CHECK(h,
		      r->get_change->change->status ==
			  Q53__API__CHANGE_STATUS__PENDING,
		      "first poll pending");
	resp_free(r);
	r = client_call(h, s, rq_get_change(&p, change));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_GET_CHANGE)) {
		CHECK(h,
		      r->get_change->change->status ==
			  Q53__API__CHANGE_STATUS__INSYNC,
		      "second poll insync");
		CHECK(h, r->get_change->nodes_in_sync == 3, "in sync");
	}
	resp_free(r);

	/* SOA, NS, www A, apex MX: two pages of two via the marker. */
	r = client_call(h, s, rq_records(&p, id, NULL, 2));
	char marker[32] = "";
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_LIST_RECORDS)) {
		CHECK(h, r->list_records->n_record_sets == 2, "%zu",
		      r->list_records->n_record_sets);
		snprintf(marker, sizeof(marker), "%s",
			 r->list_records->next_marker);
		CHECK(h, marker[0] != '\0', "no next marker");
	}
	resp_free(r);
	r = client_call(h, s, rq_records(&p, id, marker, 2));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_LIST_RECORDS)) {
		Q53__Api__ListRecordsResponse *lr = r->list_records;
		CHECK(h, lr->n_record_sets == 2, "%zu", lr->n_record_sets);
		CHECK(h, lr->next_marker[0] == '\0', "last page has a marker");
		bool www = false;
		for (size_t i = 0; i < lr->n_record_sets; i++) {
			Q53__Api__RecordSet *rs = lr->record_sets[i];
			if (strcmp(rs->name, "www.example.com.") == 0) {
				www = strcmp(rs->type, "A") == 0 &&
				      rs->ttl == 300 && rs->n_values == 2 &&
				      strcmp(rs->values[0], "192.0.2.10") == 0;
			}
		}
		CHECK(h, www, "www A 192.0.2.10/11 not listed");
	}
	resp_free(r);

	r = client_call(h, s, rq_export_zone(&p, "example.com."));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_EXPORT_ZONE)) {
		ProtobufCBinaryData *z = &r->export_zone->zone_file;
		CHECK(h,
		      z->len > 0 &&
			  memmem(z->data, z->len, "192.0.2.11", 10) != NULL,
		      "export lacks www");
	}
	resp_free(r);

	r = client_call(h, s,
			rq_import(&p, id,
				  "$TTL 60\nmail IN A 192.0.2.25\n"
				  "@ IN MX 5 mail.example.com.\n"));
	resp_ok(h, r, Q53__API__RESPONSE__BODY_IMPORT_ZONE);
	resp_free(r);
	r = client_call(h, s, rq_records(&p, id, NULL, 0));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_LIST_RECORDS))
		CHECK(h, r->list_records->n_record_sets == 4,
		      "after import: %zu sets", r->list_records->n_record_sets);
	resp_free(r);

	r = client_call(h, s, rq_nodes(&p));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_LIST_NODES))
		CHECK(h, r->list_nodes->n_nodes == 1, "nodes");
	resp_free(r);
	r = client_call(h, s, rq_add_node(&p, 2, "tcp://127.0.0.1:7002"));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_ADD_NODE))
		CHECK(h, r->add_node->node->id == 2, "added id");
	resp_free(r);
	r = client_call(h, s, rq_remove_node(&p, 2));
	resp_ok(h, r, Q53__API__RESPONSE__BODY_REMOVE_NODE);
	resp_free(r);

	r = client_call(h, s, rq_status(&p));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_STATUS)) {
		CHECK(h, strcmp(r->status->state, "leader") == 0, "state");
		CHECK(h, r->status->zones == 1, "zones");
	}
	resp_free(r);

	/* Empty the zone, then delete it. */
	r = client_call(h, s, rq_import(&p, id, ""));
	resp_ok(h, r, Q53__API__RESPONSE__BODY_IMPORT_ZONE);
	resp_free(r);
	r = client_call(h, s, rq_delete_zone(&p, id));
	resp_ok(h, r, Q53__API__RESPONSE__BODY_DELETE_ZONE);
	resp_free(r);
	r = client_call(h, s, rq_list_zones(&p, NULL, 0));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_LIST_ZONES))
		CHECK(h, r->list_zones->n_zones == 0, "zone left");
	resp_free(r);
	nng_close(s);
}

static void test_roundtrip(void **state)
{
	struct harness *h = *state;
	run_client(h, client_roundtrip);
	assert_true(h->checks > 40);
	assert_true(h->fake.answered_async >= 6);
	struct api_server_stats st;
	api_server_stats(h->server, &st);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.requests, st.replies);
}

static void client_errors(struct harness *h)
{
	nng_socket s = client_open(h);
	struct parts p;
	Q53__Api__Response *r;

	r = client_call(h, s, rq_get_zone(&p, "nope.example."));
	resp_err(h, r, API_ERR_NO_SUCH_ZONE, "nope.example.");
	r = client_call(h, s, rq_create(&p, "example.com", "ref", NULL));
	resp_ok(h, r, Q53__API__RESPONSE__BODY_CREATE_ZONE);
	resp_free(r);
	r = client_call(h, s, rq_create(&p, "example.com.", NULL, NULL));
	resp_err(h, r, API_ERR_CONFLICTING_DOMAIN, NULL);
	r = client_call(h, s, rq_create(&p, "other.example", "ref", NULL));
	resp_err(h, r, API_ERR_ZONE_EXISTS, NULL);
	r = client_call(h, s, rq_create(&p, "bad..name", NULL, NULL));
	resp_err(h, r, API_ERR_INVALID_DOMAIN_NAME, NULL);
	r = client_call(h, s, rq_batch(&p, "example.com", BATCH_BAD));
	resp_err(h, r, API_ERR_INVALID_CHANGE_BATCH, "change 1:");
	r = client_call(h, s, rq_batch(&p, "example.com", "{not json"));
	resp_err(h, r, API_ERR_INVALID_INPUT, NULL);
	r = client_call(h, s, rq_get_change(&p, "C0000000000099"));
	resp_err(h, r, API_ERR_NO_SUCH_CHANGE, NULL);
	r = client_call(h, s, rq_records(&p, "example.com", "x1", 0));
	resp_err(h, r, API_ERR_INVALID_INPUT, "marker");
	r = client_call(h, s, rq_remove_node(&p, 9));
	resp_err(h, r, API_ERR_NO_SUCH_NODE, NULL);
	r = client_call(h, s, rq_add_node(&p, 1, "tcp://127.0.0.1:7001"));
	resp_err(h, r, API_ERR_NODE_EXISTS, NULL);
	/* Checked by the server before the backend sees them. */
	r = client_call(h, s, rq_get_zone(&p, ""));
	resp_err(h, r, API_ERR_INVALID_INPUT, "zone is required");
	r = client_call(h, s, rq_add_node(&p, 0, "x"));
	resp_err(h, r, API_ERR_INVALID_INPUT, "node id");
	r = client_call(h, s, rq_list_zones(&p, NULL, API_MSG_PAGE_MAX + 1));
	resp_err(h, r, API_ERR_INVALID_INPUT, "max_items");
	/* The batch left the zone as it was (all or nothing). */
	r = client_call(h, s, rq_records(&p, "example.com", NULL, 0));
	if (resp_ok(h, r, Q53__API__RESPONSE__BODY_LIST_RECORDS))
		CHECK(h, r->list_records->n_record_sets == 2, "%zu",
		      r->list_records->n_record_sets);
	resp_free(r);
	r = client_call(h, s, rq_delete_zone(&p, "example.com"));
	resp_ok(h, r, Q53__API__RESPONSE__BODY_DELETE_ZONE);
	resp_free(r);
	nng_close(s);
}

static void test_errors(void **state)
{
	run_client(*state, client_errors);
}

static void client_not_empty(struct harness *h)
{
	nng_socket s = client_open(h);
	struct parts p;
	Q53__Api__Response *r =
	    client_call(h, s, rq_create(&p, "example.com", NULL, NULL));
	resp_free(r);
	r = client_call(h, s, rq_batch(&p, "example.com", BATCH_SIMPLE));
	resp_free(r);
	r = client_call(h, s, rq_delete_zone(&p, "example.com"));
	resp_err(h, r, API_ERR_ZONE_NOT_EMPTY, NULL);
	nng_close(s);
}

static void test_zone_not_empty(void **state)
{
	run_client(*state, client_not_empty);
}

static void client_not_implemented(struct harness *h)
{
	nng_socket s = client_open(h);
	struct parts p;
	resp_err(h, client_call(h, s, rq_status(&p)), API_ERR_NOT_IMPLEMENTED,
		 "status");
	nng_close(s);
}

static int setup_partial(void **state)
{
	static struct api_backend b; /* no operation at all */
	memset(&b, 0, sizeof(b));
	return setup_with(state, &b, 2);
}

static void test_not_implemented(void **state)
{
	run_client(*state, client_not_implemented);
}

static void client_garbage(struct harness *h)
{
	nng_socket s = client_open(h);
	struct parts p;
	uint8_t junk[512];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (uint8_t)(x >> 16);
	}
	/* Random bytes, a truncated field, nothing at all, a request with
	 * no body, one from the future, an unknown field only. */
	static const uint8_t truncated[] = {0x52, 0x10, 0x0a};
	static const uint8_t future[] = {0x08, 0x63, 0xb2, 0x01, 0x00};
	static const uint8_t no_body[] = {0x08, 0x01};
	static const uint8_t unknown[] = {0xfa, 0x3e, 0x01, 0x41};
	struct {
		const void *b;
		size_t n;
		const char *msg;
	} cases[] = {
	    {junk, sizeof(junk), NULL},
	    {truncated, sizeof(truncated), "not a q53 API request"},
	    {"", 0, "no operation"},
	    {no_body, sizeof(no_body), "no operation"},
	    {future, sizeof(future), "newer"},
	    {unknown, sizeof(unknown), "no operation"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Q53__Api__Response *r =
		    client_raw(h, s, cases[i].b, cases[i].n);
		resp_err(h, r, API_ERR_INVALID_INPUT, cases[i].msg);
	}
	for (size_t i = 1; i < 64; i++) {
		Q53__Api__Response *r = client_raw(h, s, junk + i, i);
		CHECK(h, r != NULL && r->error[0] != '\0',
		      "junk of %zu bytes accepted", i);
		resp_free(r);
	}
	/* Still serving. */
	Q53__Api__Response *r = client_call(h, s, rq_status(&p));
	resp_ok(h, r, Q53__API__RESPONSE__BODY_STATUS);
	resp_free(r);
	nng_close(s);
}

static void test_garbage(void **state)
{
	struct harness *h = *state;
	run_client(h, client_garbage);
	struct api_server_stats st;
	api_server_stats(h->server, &st);
	assert_true(st.malformed >= 60);
}

/* Many requests at once on one REQ socket, one context each; the server
 * has 8 slots, so most wait in NNG. Half are writes answered from
 * timers, so answers come back out of order. */
#define N_CONCURRENT 200

static void client_concurrent(struct harness *h)
{
	nng_socket s = client_open(h);
	static nng_ctx ctx[N_CONCURRENT];
	static nng_aio *aio[N_CONCURRENT];
	char names[N_CONCURRENT][32];

	for (unsigned i = 0; i < N_CONCURRENT; i++) {
		struct parts p;
		Q53__Api__Request *req;
		snprintf(names[i], sizeof(names[i]), "z%u.example", i);
		if (i % 2 == 0)
			req = rq_create(&p, names[i], NULL, NULL);
		else
			req = rq_status(&p);
		req->version = API_MSG_VERSION;
		size_t n = q53__api__request__get_packed_size(req);
		nng_msg *m;
		CHECK(h, nng_msg_alloc(&m, n) == 0, "alloc");
		q53__api__request__pack(req, nng_msg_body(m));
		CHECK(h, nng_ctx_open(&ctx[i], s) == 0, "ctx");
		CHECK(h, nng_aio_alloc(&aio[i], NULL, NULL) == 0, "aio");
		nng_aio_set_timeout(aio[i], CLIENT_TIMEO_MS);
		nng_aio_set_msg(aio[i], m);
		nng_ctx_send(ctx[i], aio[i]);
	}
	for (unsigned i = 0; i < N_CONCURRENT; i++) {
		nng_aio_wait(aio[i]);
		CHECK(h, nng_aio_result(aio[i]) == 0, "send %u", i);
		nng_ctx_recv(ctx[i], aio[i]);
	}
	unsigned ok = 0;
	for (unsigned i = 0; i < N_CONCURRENT; i++) {
		nng_aio_wait(aio[i]);
		int rv = nng_aio_result(aio[i]);
		CHECK(h, rv == 0, "recv %u: %s", i, nng_strerror(rv));
		if (rv != 0)
			continue;
		nng_msg *m = nng_aio_get_msg(aio[i]);
		Q53__Api__Response *r = q53__api__response__unpack(
		    NULL, nng_msg_len(m), nng_msg_body(m));
		nng_msg_free(m);
		if (i % 2 == 0) {
			if (resp_ok(h, r, Q53__API__RESPONSE__BODY_CREATE_ZONE))
				CHECK(h,
				      strncmp(r->create_zone->zone->name,
					      names[i], strlen(names[i])) == 0,
				      "answer %u is for %s", i,
				      r->create_zone->zone->name);
		} else {
			resp_ok(h, r, Q53__API__RESPONSE__BODY_STATUS);
		}
		ok += r != NULL && r->error[0] == '\0';
		resp_free(r);
	}
	CHECK(h, ok == N_CONCURRENT, "%u answered", ok);
	for (unsigned i = 0; i < N_CONCURRENT; i++) {
		nng_aio_free(aio[i]);
		nng_ctx_close(ctx[i]);
	}
	nng_close(s);
}

static void test_concurrent(void **state)
{
	struct harness *h = *state;
	run_client(h, client_concurrent);
	assert_int_equal(zone_store_count(&h->fake.store), N_CONCURRENT / 2);
	assert_int_equal(h->fake.answered_async, N_CONCURRENT / 2);
}

/* Closing while the backend holds requests: close waits for them, and
 * their clients still get the answers. */
#define N_HELD 6

static void client_held(struct harness *h)
{
	nng_socket s = client_open(h);
	nng_ctx ctx[N_HELD];
	nng_aio *aio[N_HELD];
	for (unsigned i = 0; i < N_HELD; i++) {
		struct parts p;
		char name[32];
		snprintf(name, sizeof(name), "held%u.example", i);
		Q53__Api__Request *req = rq_create(&p, name, NULL, NULL);
		req->version = API_MSG_VERSION;
		nng_msg *m;
		size_t n = q53__api__request__get_packed_size(req);
		nng_msg_alloc(&m, n);
		q53__api__request__pack(req, nng_msg_body(m));
		nng_ctx_open(&ctx[i], s);
		nng_aio_alloc(&aio[i], NULL, NULL);
		nng_aio_set_timeout(aio[i], CLIENT_TIMEO_MS);
		nng_aio_set_msg(aio[i], m);
		nng_ctx_send(ctx[i], aio[i]);
	}
	for (unsigned i = 0; i < N_HELD; i++) {
		nng_aio_wait(aio[i]);
		nng_ctx_recv(ctx[i], aio[i]);
	}
	unsigned answered = 0, unavailable = 0;
	for (unsigned i = 0; i < N_HELD; i++) {
		nng_aio_wait(aio[i]);
		int rv = nng_aio_result(aio[i]);
		CHECK(h, rv == 0, "held %u: %s", i, nng_strerror(rv));
		if (rv == 0) {
			nng_msg *m = nng_aio_get_msg(aio[i]);
			Q53__Api__Response *r = q53__api__response__unpack(
			    NULL, nng_msg_len(m), nng_msg_body(m));
			nng_msg_free(m);
			CHECK(h, r != NULL, "undecodable");
			if (r != NULL && r->error[0] == '\0')
				answered++;
			else if (r != NULL &&
				 strcmp(r->error, API_ERR_UNAVAILABLE) == 0 &&
				 r->retryable)
				unavailable++;
			resp_free(r);
		}
		nng_aio_free(aio[i]);
		nng_ctx_close(ctx[i]);
	}
	/* The fake answers half normally, half as a closing raft would. */
	CHECK(h, answered == N_HELD / 2 && unavailable == N_HELD / 2,
	      "%u answered, %u unavailable", answered, unavailable);
	nng_close(s);
}

static bool all_held(struct harness *h)
{
	return h->fake.nheld == N_HELD;
}

static void test_close_in_flight(void **state)
{
	struct harness *h = *state;
	h->fake.mode = FAKE_HOLD;
	client_start(h, client_held);
	assert_true(run_until(h, all_held));

	api_server_close(h->server, server_closed, h);
	h->server = NULL;
	/* Waiting for the held calls: the close callback must not run. */
	uv_run(&h->loop, UV_RUN_NOWAIT);
	assert_false(h->closed);
	for (unsigned i = 0; i < h->fake.nheld; i++) {
		if (i % 2 == 0)
			fake_run(&h->fake, h->fake.held[i]);
		else
			api_reply_error(h->fake.held[i], API_ERR_UNAVAILABLE,
					true, "raft closed");
	}
	h->fake.nheld = 0;
	client_join(h);
	assert_true(run_until(h, is_closed));
}

/* Closing with requests queued in NNG and none in the backend, and
 * closing a server that never started. */
static void test_close_idle(void **state)
{
	struct harness *h = *state;
	api_server_close(h->server, server_closed, h);
	h->server = NULL;
	assert_true(run_until(h, is_closed));

	struct api_backend b = fake_backend(&h->fake);
	struct api_server_config cfg = {.listen = "127.0.0.1:0"};
	struct api_server *s;
	assert_int_equal(api_server_init(&s, &h->loop, &b, &cfg), 0);
	h->closed = false;
	api_server_close(s, server_closed, h);
	assert_true(run_until(h, is_closed));
}

static void test_start_errors(void **state)
{
	struct harness *h = *state;
	struct api_backend b = fake_backend(&h->fake);
	char taken[64];
	snprintf(taken, sizeof(taken), "127.0.0.1:%d",
		 api_server_port(h->server));
	const struct {
		const char *listen;
		int rv;
	} cases[] = {
	    {taken, Q53_EEXIST},
	    {"bogus://x", Q53_EINVAL},
	    {"tcp://999.1.1.1:1", Q53_EINVAL},
	};
	for (size_t i = 0; i < 3; i++) {
		struct api_server_config cfg = {.listen = cases[i].listen};
		struct api_server *s;
		assert_int_equal(api_server_init(&s, &h->loop, &b, &cfg), 0);
		int rv = api_server_start(s);
		assert_int_not_equal(rv, 0);
		if (cases[i].rv == Q53_EEXIST)
			assert_int_equal(rv, Q53_EEXIST);
		assert_non_null(strstr(api_server_errmsg(s), "api"));
		h->closed = false;
		api_server_close(s, server_closed, h);
		assert_true(run_until(h, is_closed));
	}
	struct api_server_config none = {.listen = ""};
	struct api_server *s;
	assert_int_equal(api_server_init(&s, &h->loop, &b, &none), Q53_EINVAL);
	assert_null(s);
	h->closed = false;
}

static void test_split_error(void **state)
{
	(void)state;
	char code[64];
	const char *msg;
	api_msg_split_error("InvalidChangeBatch: change 2: bad", code,
			    sizeof(code), &msg);
	assert_string_equal(code, "InvalidChangeBatch");
	assert_string_equal(msg, "change 2: bad");
	api_msg_split_error("no code here", code, sizeof(code), &msg);
	assert_string_equal(code, API_ERR_INTERNAL);
	assert_string_equal(msg, "no code here");
	api_msg_split_error("Bad code: x", code, sizeof(code), &msg);
	assert_string_equal(code, API_ERR_INTERNAL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_roundtrip),
	    T(test_errors),
	    T(test_zone_not_empty),
	    cmocka_unit_test_setup_teardown(test_not_implemented, setup_partial,
					    teardown),
	    T(test_garbage),
	    T(test_concurrent),
	    T(test_close_in_flight),
	    T(test_close_idle),
	    T(test_start_errors),
	    cmocka_unit_test(test_split_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
