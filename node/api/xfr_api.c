#include "node/api/xfr_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cluster/api_msg.h"
#include "node/api/api_render.h"
#include "node/api/commit_reply.h"
#include "node/api/edge_state.h"
#include "node/api/write_router.h"
#include "node/common/errcode.h"
#include "node/common/ids.h"
#include "node/control/control_fsm.h"
#include "node/control/xfr_config.h"
#include "node/control/zone_store.h"
#include "proto/api.pb-c.h"

/* The generated secret's size: HMAC-SHA256's block-sized keys are
 * pointless, its output size is what RFC 8945 section 6 asks for. */
#define XFR_SECRET_GENERATED 32

/* Answers call with zone id's configuration (none: empty lists). */
static void xfr_reply(struct api_edge *n, struct api_call *call,
		      const char *zone_id, bool write)
{
	const struct xfr_config *c =
	    xfr_table_get(control_fsm_xfr(n->fsm), zone_id);
	Q53__Api__Response r = Q53__API__RESPONSE__INIT;
	Q53__Api__ZoneTransferResponse zt =
	    Q53__API__ZONE_TRANSFER_RESPONSE__INIT;
	Q53__Api__ZoneTransferKey keys[XFR_KEYS_MAX];
	Q53__Api__ZoneTransferKey *keyp[XFR_KEYS_MAX];
	char secrets[XFR_KEYS_MAX][XFR_SECRET_MAX * 2];
	char sec[XFR_SECONDARIES_MAX][64];
	char *secp[XFR_SECONDARIES_MAX];
	struct zone_store_info info;

	zt.zone_id = (char *)zone_id;
	if (zone_store_get(control_fsm_zone_store(n->fsm), zone_id, &info) == 0)
		zt.serial = info.serial;
	for (size_t i = 0; c != NULL && i < c->n_sec; i++) {
		xfr_secondary_format(&c->sec[i], sec[i], sizeof(sec[i]));
		secp[i] = sec[i];
	}
	zt.secondaries = secp;
	zt.n_secondaries = c != NULL ? c->n_sec : 0;
	for (size_t i = 0; c != NULL && i < c->n_keys; i++) {
		q53__api__zone_transfer_key__init(&keys[i]);
		keys[i].name = (char *)c->keys[i].name;
		keys[i].algorithm = (char *)c->keys[i].algorithm;
		EVP_EncodeBlock((unsigned char *)secrets[i], c->keys[i].secret,
				c->keys[i].secret_len);
		keys[i].secret = secrets[i];
		keyp[i] = &keys[i];
	}
	zt.keys = keyp;
	zt.n_keys = c != NULL ? c->n_keys : 0;
	zt.allow_update = c != NULL && c->allow_update;
	if (write) {
		r.body_case = Q53__API__RESPONSE__BODY_SET_ZONE_TRANSFER;
		r.set_zone_transfer = &zt;
		r.write_index = control_fsm_applied(n->fsm);
	} else {
		r.body_case = Q53__API__RESPONSE__BODY_GET_ZONE_TRANSFER;
		r.get_zone_transfer = &zt;
	}
	api_reply(call, &r);
}

static void xfr_done(struct proposal *s, int status,
		     const struct q53_fsm_log_result *res)
{
	struct command_result cr;
	bool decoded;

	if (!commit_reply_failure(s->call, status, res, &cr, &decoded))
		xfr_reply(s->arg, s->call, s->zone_id, true);
	if (decoded)
		command_result_free(&cr);
}

/* The secret of k: its base64 decoded, or XFR_SECRET_GENERATED random
 * bytes when none was given. */
static bool secret_of(struct api_call *call, const Q53__Api__ZoneTransferKey *k,
		      struct xfr_tsig_key *out)
{
	size_t len = k->secret != NULL ? strlen(k->secret) : 0;
	unsigned char buf[XFR_SECRET_MAX * 2];
	int n;

	if (len == 0) {
		if (RAND_bytes(out->secret, XFR_SECRET_GENERATED) != 1) {
			api_reply_error(call, API_ERR_INTERNAL, false,
					"no random bytes for a secret");
			return false;
		}
		out->secret_len = XFR_SECRET_GENERATED;
		return true;
	}
	if (len % 4 != 0 || len > sizeof(buf) * 3 / 4 * 4 / 3)
		goto bad;
	n = EVP_DecodeBlock(buf, (const unsigned char *)k->secret, (int)len);
	if (n < 0)
		goto bad;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (k->secret[len - 1] == '=')
		n--;
	if (k->secret[len - 2] == '=')
		n--;
	if (n < XFR_SECRET_MIN || n > XFR_SECRET_MAX)
		goto bad;
	memcpy(out->secret, buf, (size_t)n);
	out->secret_len = (uint8_t)n;
	return true;
bad:
	api_reply_error(call, API_ERR_INVALID_INPUT, false,
			"key %.64s: the secret must be base64 of %d to %d "
			"bytes",
			k->name != NULL ? k->name : "", XFR_SECRET_MIN,
			XFR_SECRET_MAX);
	return false;
}

static void xfr_set(struct api_edge *n, struct api_call *call,
		    const Q53__Api__SetZoneTransferRequest *q)
{
	struct command_payload p = {0};
	struct zone_store_info info;
	struct xfr_config cfg;
	char err[512], id[ZONE_STORE_ID_MAX + 1];

	if (api_render_resolve(control_fsm_zone_store(n->fsm), q->zone, &info,
			       err, sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	snprintf(id, sizeof(id), "%s", info.id);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.zone_id, sizeof(cfg.zone_id), "%s", id);
	if (q->n_secondaries > XFR_SECONDARIES_MAX ||
	    q->n_keys > XFR_KEYS_MAX) {
		api_reply_error(call, API_ERR_INVALID_INPUT, false,
				"at most %d secondaries and %d keys",
				XFR_SECONDARIES_MAX, XFR_KEYS_MAX);
		return;
	}
	for (size_t i = 0; i < q->n_secondaries; i++)
		if (!xfr_secondary_parse(q->secondaries[i], &cfg.sec[i])) {
			api_reply_error(call, API_ERR_INVALID_INPUT, false,
					"secondary '%.64s' is not IP, IP:PORT "
					"or [IPv6]:PORT",
					q->secondaries[i]);
			return;
		}
	cfg.n_sec = (uint8_t)q->n_secondaries;
	for (size_t i = 0; i < q->n_keys; i++) {
		const Q53__Api__ZoneTransferKey *k = q->keys[i];
		if (k->name == NULL || strlen(k->name) > 253 ||
		    (k->algorithm != NULL &&
		     strlen(k->algorithm) >= sizeof(cfg.keys[i].algorithm))) {
			api_reply_error(call, API_ERR_INVALID_INPUT, false,
					"key %zu: bad name or algorithm", i);
			return;
		}
		snprintf(cfg.keys[i].name, sizeof(cfg.keys[i].name), "%s",
			 k->name);
		snprintf(cfg.keys[i].algorithm, sizeof(cfg.keys[i].algorithm),
			 "%s", k->algorithm != NULL ? k->algorithm : "");
		if (!secret_of(call, k, &cfg.keys[i]))
			return;
	}
	cfg.n_keys = (uint8_t)q->n_keys;
	cfg.allow_update = q->allow_update;
	/* Checked here, once more by apply (the log is untrusted). */
	if (xfr_config_check(&cfg, err, sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	struct command_set_zone_transfer cmd = {.config = &cfg,
						.time_ms = ids_wall_ms()};
	commit_reply_propose(n, call, &p,
			     command_encode_set_zone_transfer(&cmd, &p),
			     xfr_done, id);
}

static void xfr_get(struct api_edge *n, struct api_call *call,
		    const Q53__Api__GetZoneTransferRequest *q)
{
	struct zone_store_info info;
	char err[512], id[ZONE_STORE_ID_MAX + 1];

	if (api_render_resolve(control_fsm_zone_store(n->fsm), q->zone, &info,
			       err, sizeof(err)) != 0) {
		api_reply_error_text(call, err);
		return;
	}
	snprintf(id, sizeof(id), "%s", info.id);
	xfr_reply(n, call, id, false);
}

void xfr_api_execute(struct api_edge *n, struct api_call *call)
{
	const Q53__Api__Request *req = api_call_request(call);

	switch (req->body_case) {
	case Q53__API__REQUEST__BODY_SET_ZONE_TRANSFER:
		xfr_set(n, call, req->set_zone_transfer);
		return;
	case Q53__API__REQUEST__BODY_GET_ZONE_TRANSFER:
		xfr_get(n, call, req->get_zone_transfer);
		return;
	default:
		api_reply_error(call, API_ERR_INTERNAL, false,
				"not a zone transfer operation");
		return;
	}
}

static void be_zone_transfer(void *data, struct api_call *call)
{
	struct api_edge *n = data;
	const Q53__Api__Request *req = api_call_request(call);

	if (req->body_case == Q53__API__REQUEST__BODY_GET_ZONE_TRANSFER) {
		xfr_get(n, call, req->get_zone_transfer);
		return;
	}
	write_router_submit(n->router, call);
}

void xfr_api_backend(struct api_backend *b)
{
	b->zone_transfer = be_zone_transfer;
}
