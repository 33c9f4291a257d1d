/* The oracle shared by the fuzz targets: runs dns_query_answer on one query
 * and aborts (a fuzzer crash) when the response breaks an invariant that
 * holds for every input. The query is judged independently with libknot's
 * parser; nothing here trusts the code under test. */
#ifndef Q53_TESTS_FUZZ_RESPONSE_CHECK_H
#define Q53_TESTS_FUZZ_RESPONSE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "node/dns/query.h"

/* Answers q[0..qlen) from view with params p twice (into buffers pre-filled
 * with different bytes, each exactly as large as the contract asks) and
 * checks both responses. Aborts with a message on stderr on any violation;
 * returns the response length otherwise. Allocates only in the oracle, never
 * inside dns_query_answer (a malloc there is itself a violation when built
 * with ASan). */
size_t response_check_answer(const struct serving_view *view,
			     const struct dns_query_params *p, const uint8_t *q,
			     size_t qlen);

/* The same, and copies the response into keep (DNS_MSG_MAX bytes). */
size_t response_check_answer_keep(const struct serving_view *view,
				  const struct dns_query_params *p,
				  const uint8_t *q, size_t qlen, uint8_t *keep);

/* Reports a violation found by a caller (e.g. a difference between the UDP
 * and TCP answers to one query) with the query and response, and aborts. */
_Noreturn void response_check_fail(const char *why, const uint8_t *q,
				   size_t qlen, const uint8_t *r, size_t rlen);

#endif
