/* Record values <-> wire RDATA. libzscanner has no entry point for RDATA
 * alone, so the value is parsed as the RDATA of a one-line zone: the line
 * is synthesised here and the value is checked first, so that it cannot
 * add records or directives of its own. */
#include "node/dnsdata/rdata_text.h"

#include <arpa/inet.h>
#include <libknot/libknot.h>
#include <libzscanner/scanner.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/dnsdata/rdata_check.h"
#include "node/dnsdata/rrtype.h"

static int refuse(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return Q53_EINVAL;
}

/* Text -> wire through libzscanner, without the round-trip check. */
static int parse_value(uint16_t type, const char *value, uint8_t *out,
		       size_t outcap, uint16_t *rdlen, char *err, size_t errlen)
{
	char tname[32];
	int rc;

	err[0] = '\0';
	if (rrtype_is_meta(type))
		return refuse(err, errlen, "type cannot be stored in a zone");
	/* One line, one record: a line break would start a record or a
	 * $INCLUDE of the caller's choosing. */
	for (const char *c = value; *c != '\0'; c++) {
		if (*c == '\n' || *c == '\r')
			return refuse(err, errlen,
				      "value contains a line break");
	}
	if (value[strspn(value, " \t")] == '\0')
		return refuse(err, errlen, "value is empty");
	rc = rdata_text_type_name(type, tname, sizeof(tname));
	if (rc != 0)
		return rc;
	size_t vlen = strlen(value);
	size_t linecap = vlen + sizeof(tname) + 16;
	char *line = malloc(linecap);
	if (line == NULL)
		return Q53_ENOMEM;
	int linelen = snprintf(line, linecap, "@ 0 IN %s %s\n", tname, value);
	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL) {
		rc = Q53_ENOMEM;
		goto err_after_line;
	}
	if (zs_init(s, ".", RRCLASS_IN, 0) != 0) {
		rc = Q53_ENOMEM;
		goto err_after_alloc;
	}
	if (zs_set_input_string(s, line, (size_t)linelen) != 0) {
		rc = refuse(err, errlen, zs_strerror(s->error.code));
		goto err_after_init;
	}
	if (zs_parse_record(s) != 0 || s->state != ZS_STATE_DATA) {
		rc = refuse(err, errlen,
			    s->state == ZS_STATE_ERROR
				? zs_strerror(s->error.code)
				: "value holds no record");
		goto err_after_init;
	}
	if (s->r_type != type || s->r_class != RRCLASS_IN) {
		rc = refuse(err, errlen, "value is not of the record's type");
		goto err_after_init;
	}
	if (s->r_data_length > outcap) {
		rc = Q53_ENOSPC;
		goto err_after_init;
	}
	memcpy(out, s->r_data, s->r_data_length);
	*rdlen = (uint16_t)s->r_data_length;
	/* Anything after the record (a second one, a directive) is refused. */
	if (zs_parse_record(s) != 0 || s->state != ZS_STATE_EOF) {
		rc = refuse(err, errlen,
			    s->state == ZS_STATE_ERROR
				? zs_strerror(s->error.code)
				: "value holds more than one record");
		goto err_after_init;
	}
	rc = 0;

err_after_init:
	zs_deinit(s);
err_after_alloc:
	free(s);
err_after_line:
	free(line);
	return rc;
}

int rdata_text_check_wire(uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	/* Text is at most 4 bytes (\DDD) per RDATA byte plus separators. */
	size_t textcap = (size_t)rdlen * 8 + 1024;
	char err[128];
	uint16_t len2 = 0;
	int rc;

	char *text = malloc(textcap);
	uint8_t *wire = malloc(RDATA_TEXT_WIRE_MAX);
	if (text == NULL || wire == NULL) {
		rc = Q53_ENOMEM;
		goto out;
	}
	rc = rdata_text_print(type, rdata, rdlen, text, textcap, false);
	if (rc == Q53_ENOSPC || rc == Q53_EMALF) {
		rc = Q53_EMALF;
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = parse_value(type, text, wire, RDATA_TEXT_WIRE_MAX, &len2, err,
			 sizeof(err));
	if (rc == Q53_ENOMEM)
		goto out;
	if (rc != 0 || len2 != rdlen || memcmp(wire, rdata, rdlen) != 0)
		rc = Q53_EMALF;
out:
	free(wire);
	free(text);
	return rc;
}

/* A and AAAA in their plain form (no blanks, what inet_pton takes: the
 * token libzscanner itself hands to inet_pton) convert without two
 * scanners (each zs_init clears ~100 KB; the edge parses every value of
 * every change, issue 8). These print back to the same wire by
 * construction, so the round trip is skipped too. Anything else, including
 * what inet_pton refuses, takes the general path and its messages.
 * Returns true when it converted. */
static bool address_fast(uint16_t type, const char *value, uint8_t *out,
			 size_t outcap, uint16_t *rdlen)
{
	int af = type == RRTYPE_A      ? AF_INET
		 : type == RRTYPE_AAAA ? AF_INET6
				       : 0;
	uint16_t len = type == RRTYPE_A ? 4 : 16;
	uint8_t addr[16];

	if (af == 0 || outcap < len || inet_pton(af, value, addr) != 1)
		return false;
	memcpy(out, addr, len);
	*rdlen = len;
	return true;
}

int rdata_text_to_wire(uint16_t type, const char *value, uint8_t *out,
		       size_t outcap, uint16_t *rdlen, char *err, size_t errlen)
{
	if (address_fast(type, value, out, outcap, rdlen)) {
		err[0] = '\0';
		return 0;
	}
	int rc = parse_value(type, value, out, outcap, rdlen, err, errlen);
	if (rc != 0)
		return rc;
	/* Only what prints back to the same wire is accepted: stored RDATA is
	 * exported and snapshotted as text (e.g. CAA tag "8)" parses but
	 * prints as something that does not). */
	rc = rdata_text_check_wire(type, out, *rdlen);
	if (rc == Q53_EMALF)
		return refuse(err, errlen,
			      "value does not read back the same (malformed "
			      "for its type)");
	return rc;
}
