#include "node/dnsdata/rdata_policy.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "node/common/errcode.h"
#include "node/dnsdata/dname.h"
#include "node/dnsdata/rdata_text.h"
#include "node/dnsdata/rrtype.h"

enum {
	TYPE_TXT = 16,
	TYPE_NAPTR = 35,
	TYPE_SSHFP = 44,
	TYPE_TLSA = 52,
	TYPE_SPF = 99,
	TYPE_CAA = 257,
};

/* How much of a value a message quotes (values are up to 4000 chars). */
#define QUOTE_MAX 200

static int fatal(char *err, size_t errlen, const char *value, const char *kind,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fatal(char *err, size_t errlen, const char *value, const char *kind,
		 const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	size_t n = strlen(value);
	snprintf(err, errlen,
		 "FATAL problem: %s (%s) encountered with '%.*s%s'", kind, why,
		 (int)(n > QUOTE_MAX ? QUOTE_MAX : n), value,
		 n > QUOTE_MAX ? "..." : "");
	return Q53_EINVAL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alnum(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* TXT / SPF: the character strings of value, quoted or not, each at most
 * 255 bytes once its escapes (\X, \DDD) are read. */
static int check_strings(const char *value, char *err, size_t errlen)
{
	const char *p = value;

	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p == '\0')
			return 0;
		bool quoted = *p == '"';
		size_t n = 0;
		if (quoted)
			p++;
		while (*p != '\0' && (quoted ? *p != '"' : !is_blank(*p))) {
			if (*p == '\\') {
				p++;
				if (*p >= '0' && *p <= '9') {
					if (!(p[1] >= '0' && p[1] <= '9' &&
					      p[2] >= '0' && p[2] <= '9') ||
					    (p[0] - '0') * 100 +
						    (p[1] - '0') * 10 +
						    (p[2] - '0') >
						255)
						return fatal(
						    err, errlen, value,
						    "InvalidCharacterString",
						    "an escape \\DDD needs "
						    "three digits of at most "
						    "255");
					p += 3;
				} else if (*p == '\0') {
					return fatal(err, errlen, value,
						     "InvalidCharacterString",
						     "the value ends in an "
						     "incomplete escape "
						     "sequence '\\'");
				} else {
					p++;
				}
			} else {
				p++;
			}
			n++;
		}
		if (quoted) {
			if (*p != '"')
				return fatal(err, errlen, value,
					     "InvalidCharacterString",
					     "a quotation mark is not closed");
			p++;
		}
		if (n > RDATA_POLICY_STRING_MAX)
			return fatal(err, errlen, value,
				     "CharacterStringTooLong",
				     "Value is too long: a character string "
				     "is at most 255 bytes, this one is %zu; "
				     "split it into several quoted strings",
				     n);
	}
}

/* CAA as written: flags, an unquoted tag, a quoted value. */
static int check_caa_text(const char *value, char *err, size_t errlen)
{
	const char *p = value;
	while (is_blank(*p))
		p++;
	while (*p != '\0' && !is_blank(*p))
		p++; /* flags: the parser checks the number */
	while (is_blank(*p))
		p++;
	if (*p == '"')
		return fatal(err, errlen, value, "InvalidCAATag",
			     "the tag is letters and digits without quotation "
			     "marks, e.g. 0 issue \"ca.example.net\"");
	while (*p != '\0' && !is_blank(*p))
		p++;
	while (is_blank(*p))
		p++;
	if (*p != '"')
		return fatal(err, errlen, value, "InvalidCharacterString",
			     "Value should be enclosed in quotation marks, "
			     "e.g. 0 issue \"ca.example.net\"");
	return 0;
}

int rdata_policy_check_text(uint16_t type, const char *value, char *err,
			    size_t errlen)
{
	err[0] = '\0';
	if (type == TYPE_TXT || type == TYPE_SPF)
		return check_strings(value, err, errlen);
	if (type == TYPE_CAA)
		return check_caa_text(value, err, errlen);
	return 0;
}

/* RFC 8659 4.2: issuer-domain-name = label *("." label),
 * label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)). Advances *i past it;
 * false when it is not one. */
static bool caa_domain(const uint8_t *v, size_t n, size_t *i)
{
	for (;;) {
		if (*i >= n || !is_alnum(v[*i]))
			return false;
		while (*i < n && (is_alnum(v[*i]) || v[*i] == '-'))
			(*i)++;
		if (v[*i - 1] == '-')
			return false;
		if (*i < n && v[*i] == '.') {
			(*i)++;
			continue;
		}
		return true;
	}
}

static void skip_wsp(const uint8_t *v, size_t n, size_t *i)
{
	while (*i < n && (v[*i] == ' ' || v[*i] == '\t'))
		(*i)++;
}

/* RFC 8659 4.2: issue-value = *WSP [issuer-domain-name *WSP]
 * [";" *WSP [parameters *WSP]]; parameter = tag *WSP "=" *WSP value,
 * value = *(%x21-3A / %x3C-7E). */
static bool caa_issue_value(const uint8_t *v, size_t n)
{
	size_t i = 0;
	skip_wsp(v, n, &i);
	if (i < n && v[i] != ';') {
		if (!caa_domain(v, n, &i))
			return false;
		skip_wsp(v, n, &i);
	}
	if (i == n)
		return true;
	if (v[i] != ';')
		return false;
	i++;
	skip_wsp(v, n, &i);
	if (i == n)
		return true;
	for (;;) {
		size_t t = i;
		while (i < n && is_alnum(v[i]))
			i++;
		if (i == t)
			return false;
		skip_wsp(v, n, &i);
		if (i == n || v[i] != '=')
			return false;
		i++;
		skip_wsp(v, n, &i);
		while (i < n && v[i] >= 0x21 && v[i] <= 0x7e && v[i] != ';')
			i++;
		skip_wsp(v, n, &i);
		if (i == n)
			return true;
		if (v[i] != ';')
			return false;
		i++;
		skip_wsp(v, n, &i);
	}
}

static bool has_prefix(const uint8_t *v, size_t n, const char *p)
{
	size_t l = strlen(p);
	if (n < l)
		return false;
	for (size_t k = 0; k < l; k++) {
		uint8_t c = v[k];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		if (c != (uint8_t)p[k])
			return false;
	}
	return true;
}

/* RFC 8659 4.4: a mailto:, http: or https: URL of printable characters. */
static bool caa_iodef_value(const uint8_t *v, size_t n)
{
	size_t skip = has_prefix(v, n, "mailto:")    ? 7
		      : has_prefix(v, n, "https://") ? 8
		      : has_prefix(v, n, "http://")  ? 7
						     : 0;
	if (skip == 0 || skip == n)
		return false;
	for (size_t k = 0; k < n; k++) {
		if (v[k] < 0x21 || v[k] > 0x7e)
			return false;
	}
	return true;
}

static bool tag_is(const uint8_t *tag, size_t len, const char *name)
{
	return len == strlen(name) && has_prefix(tag, len, name);
}

static int check_caa(const uint8_t *rd, uint16_t len, const char *value,
		     char *err, size_t errlen)
{
	if (len < 2 || rd[1] > len - 2)
		return fatal(err, errlen, value, "InvalidCAA",
			     "the record has no tag");
	const uint8_t *tag = rd + 2, *v = rd + 2 + rd[1];
	size_t tlen = rd[1], vlen = (size_t)len - 2 - tlen;
	bool ok = tlen >= 1 && tlen <= RDATA_POLICY_CAA_TAG_MAX;
	for (size_t k = 0; ok && k < tlen; k++)
		ok = is_alnum(tag[k]);
	if (!ok)
		return fatal(err, errlen, value, "InvalidCAATag",
			     "a tag is 1 to 15 ASCII letters and digits, such "
			     "as issue, issuewild or iodef");
	if ((tag_is(tag, tlen, "issue") || tag_is(tag, tlen, "issuewild")) &&
	    !caa_issue_value(v, vlen))
		return fatal(err, errlen, value, "InvalidCAAValue",
			     "an issue or issuewild value is a CA's domain "
			     "name, optionally followed by '; key=value' "
			     "parameters, or ';' alone");
	if (tag_is(tag, tlen, "iodef") && !caa_iodef_value(v, vlen))
		return fatal(err, errlen, value, "InvalidCAAValue",
			     "an iodef value is a mailto:, http:// or "
			     "https:// URL");
	return 0;
}

/* The digest length a digest type fixes, 0 for types without one. */
static size_t ds_digest_len(uint8_t t)
{
	switch (t) {
	case 1: /* SHA-1 */
		return 20;
	case 2: /* SHA-256 */
	case 3: /* GOST R 34.11-94 */
		return 32;
	case 4: /* SHA-384 */
		return 48;
	}
	return 0;
}

static int check_digest(const char *value, const char *kind, const char *what,
			unsigned dtype, size_t want, size_t have, char *err,
			size_t errlen)
{
	if (want == 0 || want == have)
		return 0;
	return fatal(err, errlen, value, kind,
		     "a %s of type %u is %zu bytes (%zu hex digits), this one "
		     "is %zu bytes",
		     what, dtype, want, 2 * want, have);
}

/* NAPTR (RFC 3403 4.1): flags are letters and digits; a regexp and a
 * replacement other than "." exclude each other. */
static int check_naptr(const uint8_t *rd, uint16_t len, const char *value,
		       char *err, size_t errlen)
{
	size_t i = 4;
	const uint8_t *str[3];
	size_t slen[3];
	for (int k = 0; k < 3; k++) {
		if (i >= len || rd[i] > len - i - 1)
			return 0; /* rdata_check's job */
		slen[k] = rd[i];
		str[k] = rd + i + 1;
		i += 1u + rd[i];
	}
	for (size_t k = 0; k < slen[0]; k++) {
		if (!is_alnum(str[0][k]))
			return fatal(err, errlen, value, "InvalidNAPTRFlags",
				     "flags are letters and digits, e.g. "
				     "\"S\", \"A\", \"U\" or \"P\"");
	}
	bool root = i < len && rd[i] == 0;
	if (slen[2] > 0 && !root)
		return fatal(err, errlen, value, "InvalidNAPTR",
			     "a record has either a regexp or a replacement "
			     "other than \".\", not both");
	return 0;
}

int rdata_policy_check_wire(uint16_t type, const uint8_t *rd, uint16_t len,
			    const char *value, char *err, size_t errlen)
{
	char shown[QUOTE_MAX + 64];

	err[0] = '\0';
	if (type != TYPE_CAA && type != RRTYPE_DS && type != TYPE_SSHFP &&
	    type != TYPE_TLSA && type != TYPE_NAPTR)
		return 0; /* nothing to check: no text to render either */
	if (value == NULL) {
		if (rdata_text_from_wire(type, rd, len, shown, sizeof(shown)) !=
		    0)
			snprintf(shown, sizeof(shown), "(%u bytes)", len);
		value = shown;
	}
	switch (type) {
	case TYPE_CAA:
		return check_caa(rd, len, value, err, errlen);
	case RRTYPE_DS:
		if (len < 5)
			return 0;
		return check_digest(value, "InvalidDSDigest", "digest", rd[3],
				    ds_digest_len(rd[3]), (size_t)len - 4, err,
				    errlen);
	case TYPE_SSHFP:
		if (len < 3)
			return 0;
		return check_digest(value, "InvalidSSHFPFingerprint",
				    "fingerprint", rd[1],
				    rd[1] == 1	 ? 20
				    : rd[1] == 2 ? 32
						 : 0,
				    (size_t)len - 2, err, errlen);
	case TYPE_TLSA:
		if (len < 4)
			return 0;
		if (rd[0] > 3 || rd[1] > 1 || rd[2] > 2)
			return fatal(err, errlen, value, "InvalidTLSA",
				     "usage is 0 to 3, selector 0 or 1, "
				     "matching type 0 to 2");
		return check_digest(value, "InvalidTLSAData",
				    "certificate association", rd[2],
				    rd[2] == 1	 ? 32
				    : rd[2] == 2 ? 64
						 : 0,
				    (size_t)len - 3, err, errlen);
	case TYPE_NAPTR:
		return check_naptr(rd, len, value, err, errlen);
	}
	return 0;
}

int rdata_policy_check_owner(uint16_t type, const uint8_t *owner,
			     size_t owner_len, char *err, size_t errlen)
{
	char name[1024 + 8];

	err[0] = '\0';
	if (type != RRTYPE_NS || owner_len < 2 || owner[0] != 1 ||
	    owner[1] != '*')
		return 0;
	dname_to_text(owner, name, sizeof(name));
	snprintf(err, errlen,
		 "RRSet of type NS with DNS name %s is not permitted: an NS "
		 "record set cannot have a wildcard name",
		 name);
	return Q53_EINVAL;
}

const char *rdata_policy_form(uint16_t type)
{
	switch (type) {
	case RRTYPE_A:
		return "an IPv4 address in dotted decimal notation, e.g. "
		       "192.0.2.1";
	case RRTYPE_AAAA:
		return "an IPv6 address in colon-separated hexadecimal, e.g. "
		       "2001:db8::1";
	case TYPE_CAA:
		return "flags tag \"value\", e.g. 0 issue \"ca.example.net\"";
	case RRTYPE_CNAME:
	case RRTYPE_NS:
	case RRTYPE_PTR:
		return "a domain name, e.g. host.example.com";
	case RRTYPE_DS:
		return "key-tag algorithm digest-type digest, e.g. 12345 13 2 "
		       "followed by 64 hex digits";
	case RRTYPE_HTTPS:
	case RRTYPE_SVCB:
		return "priority target [key=value ...], e.g. 1 . "
		       "alpn=\"h2\"";
	case RRTYPE_MX:
		return "priority mail-server, e.g. 10 mail.example.com";
	case TYPE_NAPTR:
		return "order preference \"flags\" \"services\" \"regexp\" "
		       "replacement, e.g. 100 50 \"u\" \"E2U+sip\" "
		       "\"!^.*$!sip:info@example.com!\" .";
	case RRTYPE_SOA:
		return "seven fields: primary-name-server hostmaster-email "
		       "serial refresh retry expire minimum, e.g. "
		       "ns1.example.com hostmaster.example.com 1 7200 900 "
		       "1209600 86400";
	case TYPE_SPF:
	case TYPE_TXT:
		return "one or more character strings in quotation marks, "
		       "each at most 255 bytes, e.g. \"v=spf1 -all\"";
	case RRTYPE_SRV:
		return "priority weight port target, e.g. 10 5 5060 "
		       "sip.example.com";
	case TYPE_SSHFP:
		return "algorithm fingerprint-type fingerprint, e.g. 4 2 "
		       "followed by 64 hex digits";
	case TYPE_TLSA:
		return "usage selector matching-type certificate-data, e.g. 3 "
		       "1 1 followed by 64 hex digits";
	}
	return "the presentation format of its type";
}

void rdata_policy_parse_error(uint16_t type, const char *value,
			      const char *reason, char *err, size_t errlen)
{
	char tname[32], own[160] = "";

	/* rdata_text's own reasons ("value contains a line break") are the
	 * user's terms; libzscanner's ("invalid time unit") are not. */
	if (reason != NULL && (strncmp(reason, "value ", 6) == 0 ||
			       strncmp(reason, "type ", 5) == 0))
		snprintf(own, sizeof(own), "; the %s", reason);
	if (rdata_policy_check_text(type, value, err, errlen) != 0)
		return;
	if (rdata_text_type_name(type, tname, sizeof(tname)) != 0)
		snprintf(tname, sizeof(tname), "TYPE%u", type);
	fatal(err, errlen, value, "InvalidRDATA", "expected for %s: %s%s",
	      tname, rdata_policy_form(type), own);
}
