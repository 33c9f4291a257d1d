/* The zone-file loader: libzscanner parses RFC 1035 text (a file or a
 * string) into wire-format records for the zone builder of zone.c. Outside
 * the FSM library (q53_fsm links no text parser); used by q53d's
 * --zone-file serving, tests and fuzz targets. */
#include <libzscanner/scanner.h>
#include <stdlib.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rrtype.h"
#include "node/zone/zone.h"
#include "node/zone/zone_impl.h"

/* Parses with libzscanner from a file (path) or from text (len bytes). */
static int zone_scan(struct zone **out, const char *origin, const char *path,
		     const char *text, size_t len, struct zone_loader *l)
{
	int rc;
	l->err[0] = '\0';
	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL)
		return Q53_ENOMEM;
	if (zs_init(s, origin, RRCLASS_IN, 3600) != 0) {
		rc = zone_load_fail(l, 0, "bad zone origin '%s': %s", origin,
				    zs_strerror(s->error.code));
		goto err_after_alloc;
	}
	size_t olen = dname_wire_len(s->zone_origin, sizeof(s->zone_origin));
	l->z = olen ? zone_alloc(s->zone_origin, olen, 1) : NULL;
	if (l->z == NULL) {
		rc = zone_load_fail(l, 0, "%s", q53_strerror(Q53_ENOMEM));
		goto err_after_scanner;
	}
	if ((path ? zs_set_input_file(s, path)
		  : zs_set_input_string(s, text, len)) != 0) {
		rc = zone_load_fail(l, 0, "cannot read: %s",
				    zs_strerror(s->error.code));
		goto err_after_zone;
	}
	for (;;) {
		if (zs_parse_record(s) != 0 && s->state != ZS_STATE_ERROR) {
			rc = zone_load_fail(l, s->line_counter, "%s",
					    zs_strerror(s->error.code));
			goto err_after_zone;
		}
		if (s->state == ZS_STATE_DATA) {
			rc = zone_record_add(l, s->r_owner, s->r_owner_length,
					     s->r_class, s->r_type, s->r_ttl,
					     s->r_data, s->r_data_length,
					     s->line_counter);
			if (rc != 0) {
				if (l->rc == 0)
					zone_load_fail(l, s->line_counter, "%s",
						       q53_strerror(rc));
				goto err_after_zone;
			}
		} else if (s->state == ZS_STATE_ERROR) {
			rc = zone_load_fail(l, s->line_counter, "%s",
					    zs_strerror(s->error.code));
			goto err_after_zone;
		} else if (s->state == ZS_STATE_INCLUDE) {
			rc = zone_load_fail(l, s->line_counter,
					    "$INCLUDE is not supported");
			goto err_after_zone;
		} else {
			break; /* EOF or STOP */
		}
	}
	rc = zone_loader_finish(l);
	if (rc != 0)
		goto err_after_zone;
	zs_deinit(s);
	free(s);
	*out = l->z;
	return 0;

err_after_zone:
	zone_destroy(l->z);
err_after_scanner:
	zs_deinit(s);
err_after_alloc:
	free(s);
	return rc;
}

int zone_load_file(struct zone **out, const char *origin, const char *path,
		   char *errbuf, size_t errlen)
{
	struct zone_loader l = {.name = path, .err = errbuf, .errlen = errlen};
	return zone_scan(out, origin, path, NULL, 0, &l);
}

int zone_load_text(struct zone **out, const char *origin, const char *text,
		   size_t len, const char *name, char *errbuf, size_t errlen)
{
	struct zone_loader l = {.name = name, .err = errbuf, .errlen = errlen};
	return zone_scan(out, origin, NULL, text, len, &l);
}
