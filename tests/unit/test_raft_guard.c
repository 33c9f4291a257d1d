/* node/raft/raft_guard.c (what the Raft port refuses before raft sees a
 * message) and node/api/peer_admit.c (which NNG API callers are answered),
 * on a struct raft whose public fields are set by hand: configuration,
 * current_term, state, follower_state.current_leader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>

#include "node/api/peer_admit.h"
#include "node/raft/raft_guard.h"

#define ADDR1 "tcp://127.0.0.1:7001"
#define ADDR2 "tcp://127.0.0.2:7002"
#define ADDR3 "tcp://127.0.0.3:7003"

struct fixture {
	struct raft r;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	raft_configuration_init(&f.r.configuration);
	assert_int_equal(
	    raft_configuration_add(&f.r.configuration, 1, ADDR1, RAFT_VOTER),
	    0);
	assert_int_equal(
	    raft_configuration_add(&f.r.configuration, 2, ADDR2, RAFT_VOTER),
	    0);
	assert_int_equal(
	    raft_configuration_add(&f.r.configuration, 3, ADDR3, RAFT_VOTER),
	    0);
	f.r.id = 2;
	f.r.current_term = 10;
	f.r.state = RAFT_FOLLOWER;
	f.r.follower_state.current_leader.id = 1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	raft_configuration_close(&f->r.configuration);
	return 0;
}

static struct raft_message ae(raft_id from, const char *addr, raft_term term)
{
	struct raft_message m;

	memset(&m, 0, sizeof(m));
	m.type = RAFT_IO_APPEND_ENTRIES;
	m.server_id = from;
	m.server_address = addr;
	m.append_entries.term = term;
	return m;
}

static struct raft_message rv(raft_id from, const char *addr, raft_term term,
			      raft_id candidate)
{
	struct raft_message m;

	memset(&m, 0, sizeof(m));
	m.type = RAFT_IO_REQUEST_VOTE;
	m.server_id = from;
	m.server_address = addr;
	m.request_vote.term = term;
	m.request_vote.candidate_id = candidate;
	m.request_vote.disrupt_leader = true;
	return m;
}

static void test_member_ok(void **state)
{
	struct fixture *f = *state;
	struct raft_message m = ae(1, ADDR1, 10);

	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.1", 0),
			 Q53_RAFT_GUARD_OK);
	assert_int_equal(q53_raft_guard_check(&f->r, &m, NULL, 0),
			 Q53_RAFT_GUARD_OK);
	m = ae(3, ADDR3, 11); /* one election ahead */
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.3", 0),
			 Q53_RAFT_GUARD_OK);
}

static void test_non_member(void **state)
{
	struct fixture *f = *state;
	struct raft_message m = ae(99, "tcp://127.0.0.99:7999", 110);

	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.99", 0),
			 Q53_RAFT_GUARD_NON_MEMBER);
}

static void test_joining_node_takes_anyone(void **state)
{
	struct fixture *f = *state;
	struct raft empty;
	struct raft_message m = ae(1, ADDR1, 500);

	(void)f;
	memset(&empty, 0, sizeof(empty));
	raft_configuration_init(&empty.configuration);
	empty.state = RAFT_FOLLOWER;
	assert_int_equal(q53_raft_guard_check(&empty, &m, "127.0.0.1", 0),
			 Q53_RAFT_GUARD_OK);
	/* but not a term that would overflow */
	m.append_entries.term = UINT64_MAX;
	assert_int_equal(q53_raft_guard_check(&empty, &m, "127.0.0.1", 0),
			 Q53_RAFT_GUARD_TOO_HIGH);
}

static void test_address_and_ip(void **state)
{
	struct fixture *f = *state;
	struct raft_message m = rv(1, "tcp://127.0.0.99:7999", 11, 1);

	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.99", 0),
			 Q53_RAFT_GUARD_ADDRESS);
	m = rv(1, ADDR1, 11, 1);
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.99", 0),
			 Q53_RAFT_GUARD_ADDRESS);
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.1", 0),
			 Q53_RAFT_GUARD_OK);
	m = rv(1, ADDR1, 11, 3);
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.1", 0),
			 Q53_RAFT_GUARD_CANDIDATE);
}

static void test_terms(void **state)
{
	struct fixture *f = *state;
	struct raft_message m = rv(3, ADDR3, 10 + 1000, 3);

	/* with a leader: at most the bound ahead */
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.3", 0),
			 Q53_RAFT_GUARD_TERM_AHEAD);
	m.request_vote.term = 10 + Q53_RAFT_GUARD_TERM_BOUND;
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.3", 0),
			 Q53_RAFT_GUARD_OK);
	m.request_vote.term = 10 + Q53_RAFT_GUARD_TERM_BOUND + 1;
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.3", 0),
			 Q53_RAFT_GUARD_TERM_AHEAD);
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.3", 1000),
			 Q53_RAFT_GUARD_OK);
	m = ae(1, ADDR1, (raft_term)1 << 40);
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.1", 0),
			 Q53_RAFT_GUARD_TERM_AHEAD);
	/* without a leader (restarted, partitioned): it must catch up */
	f->r.follower_state.current_leader.id = 0;
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.1", 0),
			 Q53_RAFT_GUARD_OK);
	f->r.state = RAFT_CANDIDATE;
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.1", 0),
			 Q53_RAFT_GUARD_OK);
	m.append_entries.term = UINT64_MAX;
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.1", 0),
			 Q53_RAFT_GUARD_TOO_HIGH);
	m.append_entries.term = Q53_RAFT_GUARD_TERM_MAX - 1;
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.1", 0),
			 Q53_RAFT_GUARD_OK);
	/* the leader too refuses a result far ahead */
	f->r.state = RAFT_LEADER;
	memset(&m, 0, sizeof(m));
	m.type = RAFT_IO_APPEND_ENTRIES_RESULT;
	m.server_id = 3;
	m.server_address = ADDR3;
	m.append_entries_result.term = 10 + 100;
	assert_int_equal(q53_raft_guard_check(&f->r, &m, "127.0.0.3", 0),
			 Q53_RAFT_GUARD_TERM_AHEAD);
}

static void test_address_ip(void **state)
{
	char ip[64];

	(void)state;
	assert_true(
	    q53_raft_guard_address_ip("tcp://127.0.0.1:7001", ip, sizeof(ip)));
	assert_string_equal(ip, "127.0.0.1");
	assert_true(
	    q53_raft_guard_address_ip("tls+tcp://[::1]:7001", ip, sizeof(ip)));
	assert_string_equal(ip, "::1");
	assert_true(q53_raft_guard_address_ip("10.0.0.7:53", ip, sizeof(ip)));
	assert_string_equal(ip, "10.0.0.7");
	assert_false(
	    q53_raft_guard_address_ip("tcp://node1:7001", ip, sizeof(ip)));
	assert_false(q53_raft_guard_address_ip("tcp://:7001", ip, sizeof(ip)));
	assert_false(q53_raft_guard_address_ip("garbage", ip, sizeof(ip)));
	assert_false(q53_raft_guard_address_ip("tcp://[::1", ip, sizeof(ip)));
}

static void test_peer_admit(void **state)
{
	struct fixture *f = *state;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__HealthVoteRequest hv = Q53__API__HEALTH_VOTE_REQUEST__INIT;
	Q53__Api__AddNodeRequest an = Q53__API__ADD_NODE_REQUEST__INIT;
	Q53__Api__StatusRequest st = Q53__API__STATUS_REQUEST__INIT;
	const struct raft_configuration *c = &f->r.configuration;
	char why[256];

	req.body_case = Q53__API__REQUEST__BODY_HEALTH_VOTE;
	req.health_vote = &hv;
	hv.member_id = 2;
	assert_true(peer_admit(c, NULL, "127.0.0.2", &req, why, sizeof(why)));
	assert_false(peer_admit(c, NULL, "127.0.0.3", &req, why, sizeof(why)));
	assert_false(peer_admit(c, NULL, "127.0.0.99", &req, why, sizeof(why)));
	assert_non_null(strstr(why, "127.0.0.99"));
	hv.member_id = 7;
	assert_false(peer_admit(c, NULL, "127.0.0.2", &req, why, sizeof(why)));
	/* local transports and unknown peers: not checked here */
	assert_true(peer_admit(c, NULL, "", &req, why, sizeof(why)));
	assert_true(peer_admit(c, NULL, "-", &req, why, sizeof(why)));

	req.body_case = Q53__API__REQUEST__BODY_STATUS;
	req.status = &st;
	assert_true(peer_admit(c, NULL, "127.0.0.3", &req, why, sizeof(why)));
	assert_false(peer_admit(c, NULL, "127.0.0.99", &req, why, sizeof(why)));

	req.body_case = Q53__API__REQUEST__BODY_ADD_NODE;
	req.add_node = &an;
	an.id = 4;
	an.address = "127.0.0.4:7004";
	assert_true(peer_admit(c, NULL, "127.0.0.4", &req, why, sizeof(why)));
	assert_true(peer_admit(c, NULL, "127.0.0.1", &req, why, sizeof(why)));
	assert_false(peer_admit(c, NULL, "127.0.0.99", &req, why, sizeof(why)));
	/* Raft on a network of its own (docker-compose): the join comes
	 * from its API address's IP. */
	an.address = "10.55.0.4:7004";
	an.api_address = "127.0.0.4:8004";
	assert_true(peer_admit(c, NULL, "127.0.0.4", &req, why, sizeof(why)));
	assert_false(peer_admit(c, NULL, "127.0.0.99", &req, why, sizeof(why)));
}

static void test_peer_admit_names(void **state)
{
	struct raft_configuration c;
	Q53__Api__Request req = Q53__API__REQUEST__INIT;
	Q53__Api__StatusRequest st = Q53__API__STATUS_REQUEST__INIT;
	char why[256];

	(void)state;
	raft_configuration_init(&c);
	assert_int_equal(
	    raft_configuration_add(&c, 1, "tcp://node1:7001", RAFT_VOTER), 0);
	req.body_case = Q53__API__REQUEST__BODY_STATUS;
	req.status = &st;
	/* host names: no IP to compare with, only TLS could tell */
	assert_true(peer_admit(&c, NULL, "10.9.9.9", &req, why, sizeof(why)));
	raft_configuration_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_member_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_non_member, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_joining_node_takes_anyone,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_address_and_ip, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_terms, setup, teardown),
	    cmocka_unit_test(test_address_ip),
	    cmocka_unit_test_setup_teardown(test_peer_admit, setup, teardown),
	    cmocka_unit_test(test_peer_admit_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
