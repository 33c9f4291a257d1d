/* libFuzzer target for the HealthCheckConfig JSON parser: arbitrary bytes,
 * as an API client may send them, go to health_check_config_parse. It must
 * never crash or leak; a refusal names a field; an accepted config passes
 * health_check_config_validate, writes canonical JSON that parses back to
 * an equal config and writes the same JSON again (a fixed point), and its
 * typed log form (the HealthCheckConfig protobuf message) decodes back to
 * an equal config.
 *
 * Reproduce: build/fuzz/tests/fuzz/fuzz_health_config CRASH-FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "node/common/errcode.h"
#include "node/control/command.h"
#include "node/health/check_config_json.h"
#include "proto/command.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why) __attribute__((noreturn));
static void fail(const char *why)
{
	fprintf(stderr, "\n*** health config invariant violated: %s\n", why);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct health_check_config a, b, c;
	char err[512], *j1 = NULL, *j2 = NULL;

	memset(err, 'E', sizeof(err));
	int rv = health_check_config_parse(&a, (const char *)data, size, err,
					   sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL)
		fail("err is not NUL-terminated");
	if (rv != 0) {
		if (rv != Q53_EINVAL && rv != Q53_ENOMEM)
			fail("unexpected error code");
		if (rv == Q53_EINVAL && strchr(err, ':') == NULL)
			fail("a refusal names no field");
		health_check_config_clear(&a);
		return 0;
	}
	if (health_check_config_validate(&a, err, sizeof(err)) != 0)
		fail("accepted a config that does not validate");
	if (health_check_config_format(&a, &j1) != 0)
		return 0; /* out of memory */
	if (health_check_config_parse(&b, j1, strlen(j1), err, sizeof(err)) !=
	    0)
		fail("canonical JSON does not parse");
	if (!health_check_config_equal(&a, &b))
		fail("canonical JSON parses to another config");
	if (health_check_config_format(&b, &j2) == 0 && strcmp(j1, j2) != 0)
		fail("canonical JSON is not a fixed point");

	/* The typed form of the log. */
	Q53__Command__HealthCheckConfig m;
	char **children;
	if (command_config_to_pb(&a, &m, &children) == 0) {
		size_t n = protobuf_c_message_get_packed_size(&m.base);
		uint8_t *buf = malloc(n ? n : 1);
		if (buf != NULL) {
			protobuf_c_message_pack(&m.base, buf);
			Q53__Command__HealthCheckConfig *u =
			    q53__command__health_check_config__unpack(NULL, n,
								      buf);
			if (u == NULL)
				fail("typed config does not unpack");
			if (command_config_from_pb(u, &c) != 0)
				fail("typed config does not decode");
			if (!health_check_config_equal(&a, &c))
				fail("typed config decodes to another config");
			health_check_config_clear(&c);
			q53__command__health_check_config__free_unpacked(u,
									 NULL);
			free(buf);
		}
		raft_free(children);
	}
	free(j1);
	free(j2);
	health_check_config_clear(&a);
	health_check_config_clear(&b);
	return 0;
}
