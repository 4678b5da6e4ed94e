// SPDX-License-Identifier: GPL-2.0
/*
 * Peer authentication: the caller's source address. A peer must call from
 * one of its configured addresses (or its authenticate host's), unless it
 * has accept-any-source. Two routers on loopback; r1 calls r2 from the
 * address it listens on (127.0.0.1 or 127.0.0.2, both loopback).
 * Fixture: test_peerauth_fixture.h.
 */
#include "test_peerauth_fixture.h"

static bool r2_refused_r1_judged_r2(struct fx *f)
{
	return cnt(&f->r2, PA_CNT_SOURCE_REFUSED) >= 1 &&
	       results(&f->r1, "r2") >= 1;
}

static bool r1_failed_once(struct fx *f)
{
	return cnt(&f->r1, PA_CNT_HANDSHAKE_FAILED) >= 1;
}

static json_t *peer_view(struct router *r, json_t **root)
{
	*root = peerauth_status_json(r->pa);
	return json_array_get(json_object_get(*root, "peers"), 0);
}

/* Right address: accepted, nothing refused. */
static void test_configured_source_accepted(void **state)
{
	struct fx *f = *state;

	f->r2.peer_addrs = "fd00::9, 127.0.0.1";
	start_r2(f);
	start_r1(f, "r1.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r1.pem");
	assert_int_equal(cnt(&f->r2, PA_CNT_SOURCE_REFUSED), 0);
}

/* r1 calls from 127.0.0.2, an address of no peer of r2: closed before
 * TLS (no TPM signature spent on it), counted, nothing judged or bound. */
static void test_unknown_source_refused_before_tls(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };
	struct peerauth_peer_status s;

	start_r2(f);
	f->r1.listen_host = "127.0.0.2";
	start_r1(f, "r1.pem", "r2");
	assert_true(drive(rs, 2, r1_failed_once, f, 8000));
	assert_true(cnt(&f->r2, PA_CNT_SOURCE_REFUSED) >= 1);
	assert_int_equal(results(&f->r2, "r1"), 0);
	assert_int_equal(f->r2.bound.calls, 0);
	assert_counters(&f->r2, 0, 0, 0, 0);
	assert_int_equal(peerauth_peer_status(f->r1.pa, "r2", &s), 0);
	assert_int_equal(s.state, SVRCERT_STATE_UNKNOWN);
	assert_non_null(strstr(s.reason, "TLS handshake failed"));
}

/* r1's certificate presented from 127.0.0.2, which is r3's address: the
 * TLS side completes (r1 judges r2), r2 identifies r1 and refuses it for
 * its source, naming both; r1's standing at r2 is untouched. */
static void test_wrong_source_names_peer(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };
	json_t *root, *p, *refused;
	const char *msg;

	f->r2.peer_extra = "[peer \"r3\"]\naddress = 127.0.0.2\n";
	start_r2(f);
	f->r1.listen_host = "127.0.0.2";
	start_r1(f, "r1.pem", "r2");
	assert_true(drive(rs, 2, r2_refused_r1_judged_r2, f, 8000));
	assert_int_equal(cnt(&f->r2, PA_CNT_SOURCE_REFUSED), 1);
	assert_int_equal(results(&f->r2, "r1"), 0);
	assert_int_equal(f->r2.bound.calls, 0);
	assert_counters(&f->r2, 0, 0, 0, 0);
	assert_peer(&f->r1, "r2", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r2.pem");

	p = peer_view(&f->r2, &root);
	assert_string_equal(json_string_value(json_object_get(p, "name")), "r1");
	assert_string_equal(json_string_value(json_object_get(p, "state")),
			    "unknown");
	refused = json_object_get(p, "source_refused");
	assert_int_equal(json_integer_value(json_object_get(refused, "count")), 1);
	msg = json_string_value(json_object_get(refused, "message"));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "of peer r1 presented from 127.0.0.2, "
			       "which is not an address of r1 (address = "
			       "127.0.0.1, fd00::9)"));
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(root, "counters"), "source_refused")), 1);
	json_decref(root);
	assert_int_equal(fixture_sh("grep -q '\"problem\":\"source-address\".*"
				    "\"remote\":\"127.0.0.2:.*\"permitted\":false'"
				    " %s/audit.log", f->r2.dir), 0);
}

/* accept-any-source = yes: the same call is judged and bound. */
static void test_accept_any_source(void **state)
{
	struct fx *f = *state;
	json_t *root, *p;

	f->r2.peer_extra = "accept-any-source = yes\n"
			   "[peer \"r3\"]\naddress = 127.0.0.2\n";
	start_r2(f);
	f->r1.listen_host = "127.0.0.2";
	start_r1(f, "r1.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r1.pem");
	assert_int_equal(cnt(&f->r2, PA_CNT_SOURCE_REFUSED), 0);
	p = peer_view(&f->r2, &root);
	assert_true(json_is_true(json_object_get(p, "accept_any_source")));
	assert_true(json_is_null(json_object_get(p, "source_refused")));
	json_decref(root);
}

/* A dual-stack listener sees 127.0.0.1 as ::ffff:127.0.0.1: the same
 * address as the configured 127.0.0.1. */
static void test_v4_mapped_source(void **state)
{
	struct fx *f = *state;

	f->r2.listen_host = "[::]";
	start_r2(f);
	start_r1(f, "r1.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r1.pem");
	assert_int_equal(cnt(&f->r2, PA_CNT_SOURCE_REFUSED), 0);
}

static bool r2_judged_r1(struct fx *f)
{
	return results(&f->r2, "r1") >= 1;
}

/* An address the peer's authenticate host resolves to is one it may call
 * from: r2 knows r1 at 10.0.0.9 only, but calls it at localhost (from
 * /etc/hosts: 127.0.0.1; nobody listens on that port). */
static void test_source_from_authenticate_host(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };
	struct peerauth_peer_status s;
	json_t *root, *p;
	int dead = fixture_bind_port(0);

	f->r2.peer_addrs = "10.0.0.9";
	f->r2.call_host = "localhost";
	install(&f->r2, "cert.pem", "r2.pem");
	router_config(&f->r2, "r2", file_key("r2.key"), "r1", (uint16_t)dead);
	router_start(&f->r2);
	start_r1(f, "r1.pem", "r2");
	assert_true(drive(rs, 2, r2_judged_r1, f, 10000));
	assert_int_equal(peerauth_peer_status(f->r2.pa, "r1", &s), 0);
	assert_int_equal(s.state, SVRCERT_STATE_VALID);
	assert_string_equal(s.via, "server");
	p = peer_view(&f->r2, &root);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(p, "resolved"), 0)), "127.0.0.1");
	json_decref(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_configured_source_accepted),
		T(test_unknown_source_refused_before_tls),
		T(test_wrong_source_names_peer),
		T(test_accept_any_source),
		T(test_v4_mapped_source),
		T(test_source_from_authenticate_host),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
