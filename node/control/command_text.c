#include "node/control/command_text.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/control/change_batch.h"
#include "node/control/command.h"
#include "node/control/zone_store.h"
#include "node/control/zone_text.h"
#include "node/health/check_config_json.h"

/* strict: Route 53's rules and no invalid change proposed (a request);
 * otherwise 0.4.0's (an old log entry, which must convert as it did). */
static int change_rrsets(const char *zone_id, const char *change_id,
			 const char *access_key_id, const char *json,
			 size_t len, uint64_t time_ms, bool strict,
			 struct command_payload *out, char *err, size_t errlen)
{
	struct change_batch *b = NULL;
	struct change_batch_typed t;
	int rc;

	err[0] = '\0';
	memset(out, 0, sizeof(*out));
	rc = change_batch_parse(&b, json != NULL ? json : "", len, err, errlen);
	if (rc != 0) {
		change_batch_free(b);
		return rc;
	}
	rc = strict ? change_batch_compile(b, &t)
		    : change_batch_compile_legacy(b, &t);
	/* A change that is invalid on its own (a value that does not parse,
	 * a wildcard NS) is refused here, not proposed: apply decides only
	 * what depends on the zone's state. */
	if (rc == 0 && strict) {
		struct change_batch_errors errs;
		change_batch_errors_init(&errs, err, errlen);
		for (size_t k = 0; k < t.batch.nchanges; k++) {
			if (t.batch.changes[k].invalid != NULL)
				change_batch_errors_add(
				    &errs, k, "%s", t.batch.changes[k].invalid);
		}
		if (errs.count > 0) {
			change_batch_typed_free(&t);
			change_batch_free(b);
			return Q53_EINVAL;
		}
	}
	if (rc == 0) {
		struct command_change_rrsets c = {
		    .zone_id = zone_id,
		    .change_id = change_id,
		    .batch = t.batch,
		    .time_ms = time_ms,
		    .access_key_id = access_key_id,
		};
		rc = command_encode_change_rrsets(&c, out);
		change_batch_typed_free(&t);
	}
	change_batch_free(b);
	return rc == Q53_EINVAL ? Q53_ENOMEM : rc;
}

int command_text_change_rrsets(const char *zone_id, const char *change_id,
			       const char *json, size_t len, uint64_t time_ms,
			       struct command_payload *out, char *err,
			       size_t errlen)
{
	return change_rrsets(zone_id, change_id, "", json, len, time_ms, false,
			     out, err, errlen);
}

int command_text_change_rrsets_by(const char *zone_id, const char *change_id,
				  const char *access_key_id, const char *json,
				  size_t len, uint64_t time_ms,
				  struct command_payload *out, char *err,
				  size_t errlen)
{
	return change_rrsets(zone_id, change_id, access_key_id, json, len,
			     time_ms, true, out, err, errlen);
}

/* An import's typed form, kept with its payload (command_payload.decoded):
 * the leader applies its own parse instead of decoding a million sets. The
 * strings are what command_decode would give ("" for none). */
#define IMPORT_ID_MAX 64 /* zone and change ids */

struct import_decoded {
	struct command cmd; /* first: what decoded points at */
	struct zone_text_sets sets;
	char zone_id[IMPORT_ID_MAX + 1];
	char change_id[IMPORT_ID_MAX + 1];
};

static void import_decoded_free(struct command *c)
{
	struct import_decoded *d = (struct import_decoded *)(void *)c;
	zone_text_sets_free(&d->sets);
	free(d);
}

static int import_zone(const struct zone_store *store, const char *zone_id,
		       const char *change_id, const char *text, size_t len,
		       uint64_t time_ms, bool strict, bool deferred,
		       struct command_payload *out, char *err, size_t errlen)
{
	struct zone_store_info info;
	struct zone_text_sets sets = {0};
	int rc;

	err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (zone_store_get(store, zone_id, &info) == 0) {
		rc = strict ? zone_text_parse_request(&info,
						      text != NULL ? text : "",
						      len, &sets, err, errlen)
			    : zone_text_parse(&info, text != NULL ? text : "",
					      len, &sets, err, errlen);
		if (rc != 0)
			return rc;
		/* Past the zone's limit whatever the apex gets: refused
		 * here rather than proposed (apply checks it again). */
		if (strict && info.max_rrsets != 0 &&
		    sets.n > info.max_rrsets && sets.n > info.nrrsets) {
			snprintf(err, errlen,
				 "InvalidChangeBatch: the zone file holds %zu "
				 "record sets, more than the hosted zone's "
				 "limit of %llu (MAX_RRSETS_BY_ZONE; q53 zone "
				 "limit raises it)",
				 sets.n, (unsigned long long)info.max_rrsets);
			zone_text_sets_free(&sets);
			return Q53_EINVAL;
		}
	}
	struct command_import_zone c = {
	    .zone_id = zone_id,
	    .change_id = change_id,
	    .sets = sets.sets,
	    .nsets = sets.n,
	    .time_ms = time_ms,
	};
	if (deferred) {
		memset(out, 0, sizeof(*out));
		out->type = COMMAND_IMPORT_ZONE;
		out->encode_pending = true;
		rc = 0;
	} else {
		rc = command_encode_import_zone(&c, out);
	}
	struct import_decoded *d = NULL;
	if (rc == 0 && strlen(zone_id) <= IMPORT_ID_MAX &&
	    (change_id == NULL || strlen(change_id) <= IMPORT_ID_MAX))
		d = calloc(1, sizeof(*d));
	if (d == NULL) {
		zone_text_sets_free(&sets);
		return rc == Q53_EINVAL ? Q53_ENOMEM : rc;
	}
	snprintf(d->zone_id, sizeof(d->zone_id), "%s", zone_id);
	snprintf(d->change_id, sizeof(d->change_id), "%s",
		 change_id != NULL ? change_id : "");
	d->sets = sets;
	d->cmd.type = COMMAND_IMPORT_ZONE;
	d->cmd.u.import_zone = (struct command_import_zone){
	    .zone_id = d->zone_id,
	    .change_id = d->change_id,
	    .sets = sets.sets,
	    .nsets = sets.n,
	    .time_ms = time_ms,
	};
	out->decoded = &d->cmd;
	out->decoded_free = import_decoded_free;
	return 0;
}

int command_text_import_zone(const struct zone_store *store,
			     const char *zone_id, const char *change_id,
			     const char *text, size_t len, uint64_t time_ms,
			     struct command_payload *out, char *err,
			     size_t errlen)
{
	return import_zone(store, zone_id, change_id, text, len, time_ms, true,
			   false, out, err, errlen);
}

int command_text_import_zone_deferred(const struct zone_store *store,
				      const char *zone_id,
				      const char *change_id, const char *text,
				      size_t len, uint64_t time_ms,
				      struct command_payload *out, char *err,
				      size_t errlen)
{
	return import_zone(store, zone_id, change_id, text, len, time_ms, true,
			   true, out, err, errlen);
}

int command_text_import_zone_legacy(const struct zone_store *store,
				    const char *zone_id, const char *change_id,
				    const char *text, size_t len,
				    uint64_t time_ms,
				    struct command_payload *out, char *err,
				    size_t errlen)
{
	return import_zone(store, zone_id, change_id, text, len, time_ms, false,
			   false, out, err, errlen);
}

static int parse_config(const char *json, size_t len,
			struct health_check_config *cfg, char *err,
			size_t errlen)
{
	char why[512];
	int rc;

	why[0] = '\0';
	rc = health_check_config_parse(cfg, json != NULL ? json : "", len, why,
				       sizeof(why));
	if (rc == Q53_EINVAL)
		snprintf(err, errlen, "InvalidInput: %s", why);
	return rc;
}

int command_text_create_health_check(
    const char *id, const char *caller_reference, const char *json, size_t len,
    uint64_t time_ms, struct command_payload *out, char *err, size_t errlen)
{
	struct health_check_config cfg;
	int rc;

	err[0] = '\0';
	memset(out, 0, sizeof(*out));
	rc = parse_config(json, len, &cfg, err, errlen);
	if (rc == 0) {
		struct command_create_health_check c = {
		    .id = id,
		    .caller_reference = caller_reference,
		    .config = &cfg,
		    .time_ms = time_ms,
		};
		rc = command_encode_create_health_check(&c, out);
	}
	health_check_config_clear(&cfg);
	return rc;
}

int command_text_update_health_check(const char *id, uint64_t version,
				     const char *json, size_t len,
				     uint64_t time_ms,
				     struct command_payload *out, char *err,
				     size_t errlen)
{
	struct health_check_config cfg;
	int rc;

	err[0] = '\0';
	memset(out, 0, sizeof(*out));
	rc = parse_config(json, len, &cfg, err, errlen);
	if (rc == 0) {
		struct command_update_health_check c = {
		    .id = id,
		    .version = version,
		    .config = &cfg,
		    .time_ms = time_ms,
		};
		rc = command_encode_update_health_check(&c, out);
	}
	health_check_config_clear(&cfg);
	return rc;
}
