/* libFuzzer target for zone compilation: arbitrary text goes to
 * zone_load_text with a fixed origin. It must never crash or leak; a rejected
 * text must leave *out alone and explain itself in errbuf; an accepted one is
 * put in a serving view and asked about its own names (and a few fixed
 * ones), whose answers must pass the same invariants as in fuzz_query: a
 * zone the compiler accepts must be servable.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_zone CRASH-FILE */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libzscanner/scanner.h>

#include "node/common/errcode.h"
#include "node/dns/query.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"
#include "tests/fuzz/response_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define ORIGIN "example.com."

/* The questions asked of every accepted zone: fixed ones (apex types, a
 * wildcard, below a possible delegation, NXDOMAIN, out of zone, mixed case)
 * and, found by scanning the text with libzscanner, each record's own name
 * and type (a wildcard owner asked through a name it covers). */
struct probe {
	uint8_t name[256]; /* wire */
	size_t name_len;
	uint16_t qtype;
};

static const struct {
	const char *name;
	uint16_t qtype;
} fixed_probes[] = {
    {"example.com.", 6},	{"EXAMPLE.com.", 2},
    {"example.com.", 255},	{"www.example.com.", 1},
    {"www.example.com.", 28},	{"x.www.example.com.", 16},
    {"*.example.com.", 1},	{"foo.sub.example.com.", 1},
    {"nx.example.com.", 65534}, {"www.example.net.", 1},
};

#define MAX_ZONE_PROBES 24

static bool include_followed;

/* Plain dotted text (no escapes) to wire. */
static size_t text_to_wire(const char *text, uint8_t *out)
{
	size_t n = 0;
	while (*text != '\0') {
		const char *dot = strchr(text, '.');
		size_t l = (size_t)(dot - text);
		out[n++] = (uint8_t)l;
		memcpy(out + n, text, l);
		n += l;
		text = dot + 1;
	}
	out[n++] = 0;
	return n;
}

/* Builds "hdr | question | OPT" into q; returns its length. */
static size_t make_query(uint8_t *q, const struct probe *pr, uint16_t id)
{
	const uint8_t hdr[12] = {
	    (uint8_t)(id >> 8), (uint8_t)id, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 1};
	size_t off = sizeof(hdr);
	memcpy(q, hdr, sizeof(hdr));
	memcpy(q + off, pr->name, pr->name_len); /* includes root label */
	off += pr->name_len;
	q[off++] = (uint8_t)(pr->qtype >> 8);
	q[off++] = (uint8_t)pr->qtype;
	q[off++] = 0;
	q[off++] = 1;
	/* OPT: root, type 41, payload 1232, no flags, no options. */
	const uint8_t opt[11] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
	memcpy(q + off, opt, sizeof(opt));
	return off + sizeof(opt);
}

/* The records' names and types, as libzscanner reads the same text. */
static size_t zone_probes(const uint8_t *data, size_t size, struct probe *out,
			  size_t max)
{
	zs_scanner_t *s = malloc(sizeof(*s));
	size_t n = 0;
	if (s == NULL)
		return 0;
	if (zs_init(s, ORIGIN, 1, 3600) != 0 ||
	    zs_set_input_string(s, (const char *)data, size) != 0)
		goto out;
	while (n < max && zs_parse_record(s) == 0 &&
	       s->state == ZS_STATE_DATA) {
		struct probe *pr = &out[n];
		size_t len = s->r_owner_length;
		if (len < 1 || len > 255)
			continue;
		if (s->r_owner[0] == 1 && s->r_owner[1] == '*') {
			/* "*.rest" -> "Wx.rest": a name the wildcard covers. */
			if (len + 1 > 255)
				continue;
			pr->name[0] = 2;
			pr->name[1] = 'W';
			pr->name[2] = 'x';
			memcpy(pr->name + 3, s->r_owner + 2, len - 2);
			len++;
		} else {
			memcpy(pr->name, s->r_owner, len);
		}
		pr->name_len = len;
		pr->qtype = s->r_type;
		n++;
	}
out:
	zs_deinit(s);
	free(s);
	return n;
}

static void serve_probes(struct zone *z, const uint8_t *data, size_t size)
{
	static const struct dns_query_params udp512 = {.udp_payload = 512,
						       .tcp = false};
	static const struct dns_query_params tcp = {
	    .udp_payload = DNS_UDP_PAYLOAD_DEFAULT, .tcp = true};
	size_t nfixed = sizeof(fixed_probes) / sizeof(fixed_probes[0]);
	struct probe probes[sizeof(fixed_probes) / sizeof(fixed_probes[0]) +
			    MAX_ZONE_PROBES];
	for (size_t i = 0; i < nfixed; i++) {
		probes[i].name_len =
		    text_to_wire(fixed_probes[i].name, probes[i].name);
		probes[i].qtype = fixed_probes[i].qtype;
	}
	size_t n =
	    nfixed + zone_probes(data, size, probes + nfixed, MAX_ZONE_PROBES);

	struct serving_view *v = NULL;
	if (serving_view_build(&v, &z, 1) != 0)
		return; /* out of memory is not a bug */
	uint8_t q[512];
	for (size_t i = 0; i < n; i++) {
		size_t len = make_query(q, &probes[i], (uint16_t)(0x1000 + i));
		response_check_answer(v, &udp512, q, len);
		response_check_answer(v, &tcp, q, len);
	}
	serving_view_free(v);
}

/* Does zone_load_text follow $INCLUDE? It should not: zone text held in
 * memory has no directory to be relative to, and following it lets the text
 * read any file. Checked once; when it does, inputs naming the directive are
 * skipped so that the fuzzer does not wander the filesystem. */
static bool probe_include(void)
{
	char path[] = "/tmp/q53-fuzz-include-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return false;
	static const char inc[] = "included 60 IN A 192.0.2.9\n";
	bool ok = write(fd, inc, sizeof(inc) - 1) == (ssize_t)(sizeof(inc) - 1);
	close(fd);
	char text[256];
	int len = snprintf(text, sizeof(text),
			   "@ 60 IN SOA ns admin 1 2 3 4 5\n@ 60 IN NS ns\n"
			   "$INCLUDE %s\n",
			   path);
	struct zone *z = NULL;
	char err[256];
	bool followed = false;
	if (ok && zone_load_text(&z, ORIGIN, text, (size_t)len, "probe", err,
				 sizeof(err)) == 0) {
		followed = zone_record_count(z) >= 3;
		zone_release(z);
	}
	unlink(path);
	return followed;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	include_followed = probe_include();
	if (include_followed)
		fprintf(stderr,
			"fuzz_zone: WARNING zone_load_text follows $INCLUDE; "
			"inputs containing \"$include\" are skipped\n");
	return 0;
}

static bool mentions_include(const uint8_t *d, size_t n)
{
	static const char word[] = "$include";
	for (size_t i = 0; i + sizeof(word) - 1 <= n; i++) {
		size_t k = 0;
		while (k < sizeof(word) - 1 &&
		       (d[i + k] | 0x20) == (uint8_t)word[k])
			k++;
		if (k == sizeof(word) - 1)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (include_followed && mentions_include(data, size))
		return -1; /* keep out of the corpus */

	struct zone *sentinel = (struct zone *)&include_followed;
	struct zone *z = sentinel;
	char err[256];
	memset(err, 'E', sizeof(err));
	/* The text is passed as is, not NUL-terminated: ASan catches a read
	 * past len. */
	int ret = zone_load_text(&z, ORIGIN, (const char *)data, size, "fuzz",
				 err, sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL) {
		fprintf(stderr, "fuzz_zone: errbuf not NUL-terminated\n");
		abort();
	}
	if (ret != 0) {
		if (ret > 0 || z != sentinel || err[0] == '\0') {
			fprintf(stderr,
				"fuzz_zone: bad failure: ret=%d out %s, "
				"err \"%.200s\"\n",
				ret, z == sentinel ? "untouched" : "CHANGED",
				err);
			abort();
		}
		return 0;
	}
	if (z == sentinel || z == NULL) {
		fprintf(stderr, "fuzz_zone: success without a zone\n");
		abort();
	}
	static const uint8_t origin_wire[] = "\x07"
					     "example"
					     "\x03"
					     "com";
	if (memcmp(zone_origin(z), origin_wire, sizeof(origin_wire)) != 0) {
		fprintf(stderr, "fuzz_zone: zone_origin is not %s\n", ORIGIN);
		abort();
	}
	serve_probes(z, data, size);
	zone_release(z);
	return 0;
}
