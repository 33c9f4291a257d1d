/* The import command's set-by-set packing (node/control/command.c) gives
 * exactly the bytes protobuf-c packs for the whole ImportRecordSets
 * message, and decodes back to the same record sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>

#include "node/control/command.h"
#include "proto/command.pb-c.h"

/* The message tree the encoder used to build: every set at once. */
static void pack_whole(const struct command_import_zone *c, uint8_t **buf,
		       size_t *len, uint32_t version)
{
	Q53__Command__ImportRecordSets m;
	Q53__Command__RecordSet *sets = calloc(c->nsets + 1, sizeof(*sets));
	Q53__Command__RecordSet **ptrs = calloc(c->nsets + 1, sizeof(*ptrs));
	Q53__Command__GeoLocation *geo = calloc(c->nsets + 1, sizeof(*geo));
	ProtobufCBinaryData *rd = calloc(64 * (c->nsets + 1), sizeof(*rd));
	assert_non_null(sets);
	assert_non_null(ptrs);
	assert_non_null(geo);
	assert_non_null(rd);
	q53__command__import_record_sets__init(&m);
	m.command_version = version;
	m.zone_id = (char *)c->zone_id;
	m.change_id = (char *)c->change_id;
	m.time_ms = c->time_ms;
	for (size_t i = 0; i < c->nsets; i++) {
		command_set_to_pb(&c->sets[i], &sets[i], rd + 64 * i,
				  &(struct command_set_room){&geo[i], NULL});
		ptrs[i] = &sets[i];
	}
	m.sets = ptrs;
	m.n_sets = c->nsets;
	*len = protobuf_c_message_get_packed_size(&m.base);
	*buf = malloc(*len + 1);
	assert_non_null(*buf);
	assert_int_equal(protobuf_c_message_pack(&m.base, *buf), *len);
	free(sets);
	free(ptrs);
	free(geo);
	free(rd);
}

static const uint8_t www[] = "\3www\7example\3com";
static const uint8_t mail[] = "\4mail\7example\3com";
static const uint8_t a1[] = {192, 0, 2, 1}, a2[] = {192, 0, 2, 2};

static void check(const struct command_import_zone *c, uint32_t version)
{
	struct command_payload out;
	uint8_t *want;
	size_t want_len;
	assert_int_equal(command_encode_import_zone(c, &out), 0);
	assert_int_equal(out.type, COMMAND_IMPORT_ZONE);
	pack_whole(c, &want, &want_len, version);
	assert_int_equal(out.len, want_len);
	assert_memory_equal(out.data, want, want_len);
	free(want);

	struct command d;
	assert_int_equal(command_decode(out.type, out.data, out.len, &d), 0);
	assert_int_equal(d.type, COMMAND_IMPORT_ZONE);
	const struct command_import_zone *g = &d.u.import_zone;
	assert_string_equal(g->zone_id, c->zone_id);
	assert_int_equal(g->time_ms, c->time_ms);
	assert_int_equal(g->nsets, c->nsets);
	for (size_t i = 0; i < c->nsets; i++) {
		assert_int_equal(g->sets[i].owner_len, c->sets[i].owner_len);
		assert_memory_equal(g->sets[i].owner, c->sets[i].owner,
				    c->sets[i].owner_len);
		assert_int_equal(g->sets[i].type, c->sets[i].type);
		assert_int_equal(g->sets[i].ttl, c->sets[i].ttl);
		assert_int_equal(g->sets[i].nrdata, c->sets[i].nrdata);
		for (size_t k = 0; k < c->sets[i].nrdata; k++) {
			assert_int_equal(g->sets[i].rdata[k].len,
					 c->sets[i].rdata[k].len);
			assert_memory_equal(g->sets[i].rdata[k].data,
					    c->sets[i].rdata[k].data,
					    c->sets[i].rdata[k].len);
		}
	}
	command_free(&d);
	command_payload_clear(&out);
}

static void test_import_bytes(void **state)
{
	(void)state;
	struct rrset_rdata r1[] = {{a1, 4}, {a2, 4}}, r2[] = {{a2, 4}};
	struct rrset_data sets[] = {
	    {.owner = www,
	     .owner_len = sizeof(www),
	     .type = 1,
	     .ttl = 300,
	     .rdata = r1,
	     .nrdata = 2},
	    {.owner = mail,
	     .owner_len = sizeof(mail),
	     .type = 1,
	     .ttl = 60,
	     .rdata = r2,
	     .nrdata = 1},
	};
	struct command_import_zone c = {.zone_id = "ZABC",
					.change_id = "C1",
					.sets = sets,
					.nsets = 2,
					.time_ms = 1764806400123ull};
	check(&c, 1);
	/* No time, no change id, no sets. */
	c.time_ms = 0;
	c.change_id = NULL;
	check(&c, 1);
	c.nsets = 0;
	check(&c, 1);
	/* Many sets: lengths past one varint byte, big times. */
	enum { N = 3000 };
	struct rrset_data *many = calloc(N, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i < N; i++)
		many[i] = (struct rrset_data){.owner = i % 2 ? www : mail,
					      .owner_len = i % 2 ? sizeof(www)
								 : sizeof(mail),
					      .type = (uint16_t)(1 + i % 3),
					      .ttl = (uint32_t)i * 977,
					      .rdata = r1,
					      .nrdata = 1 + i % 2};
	c.sets = many;
	c.nsets = N;
	c.time_ms = UINT64_MAX;
	check(&c, 1);
	/* Plain sets are packed by hand (set_plain): records of 0 and of
	 * 300 bytes (two-byte lengths), an empty set identifier, TTL and type
	 * 0, next to sets protobuf-c packs (a weight, a health check). */
	static uint8_t big[300];
	memset(big, 0x5a, sizeof(big));
	struct rrset_rdata odd[] = {{big, 0}, {big, sizeof(big)}, {a1, 4}};
	for (size_t i = 0; i < N; i++) {
		many[i].rdata = odd + i % 2;
		many[i].nrdata = 1 + i % 2;
		many[i].type = (uint16_t)(i % 7);
		many[i].ttl = i % 5 == 0 ? 0 : (uint32_t)i;
		many[i].set_identifier = i % 11 == 0 ? "" : NULL;
		if (i % 13 == 0) {
			many[i].set_identifier = "w";
			many[i].has_weight = true;
			many[i].weight = (uint32_t)(i % 256);
		}
		if (i % 17 == 0)
			many[i].health_check_id = "hc-1";
	}
	check(&c, 2);
	free(many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_import_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
