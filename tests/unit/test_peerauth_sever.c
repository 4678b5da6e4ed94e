// SPDX-License-Identifier: GPL-2.0
/*
 * fail-hard severs a peering (userspace/peer/peerauth_sever.c): two
 * routers in one process (test_peerauth_fixture.h), r2 the judge, calling
 * r1 and called by it; r1 presents bad-revoked.pem (r1's key), which
 * passes until r2 holds the intermediate's CRL. Under fail-hard with
 * peer-validation the revocation closes r2's call to r1 at once, marks r1
 * severed (reason, since) in the "peers" reply and audits it; r2 no longer
 * calls r1 at a reload or an own-certificate change, still judges r1's
 * calls, and resumes when r1 presents a good certificate, the CRL goes or
 * the policy changes. Under fail-soft, or without peer-validation, nothing
 * is severed. The incoming case (a judged connection of r1 waiting for a
 * key agreement, closed at the revocation) needs peer-keys, so it runs in
 * a network namespace of its own (unshare: root; skipped without).
 */
#include <sched.h>

#include "lib/policy_override.h"
#include "test_peerauth_fixture.h"
#include "netlink/nl_util.h"
#include "peer/peerauth_keys_int.h"

static bool have_netns;

/* r2's "peers" entry for r1 (a reference). */
static json_t *r1_at_r2(struct fx *f)
{
	json_t *j = peerauth_status_json(f->r2.pa);
	json_t *p = json_array_get(json_object_get(j, "peers"), 0);

	assert_string_equal(json_string_value(json_object_get(p, "name")), "r1");
	json_incref(p);
	json_decref(j);
	return p;
}

static const char *str_of(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	assert_non_null(v);
	return v;
}

static bool is_severed(struct fx *f)
{
	json_t *p = r1_at_r2(f);
	bool yes = !strcmp(str_of(p, "peering"), "severed");

	json_decref(p);
	return yes;
}

/* "next in N s" -> N; -1 for anything else. */
static int next_in_s(json_t *p)
{
	int n = -1;

	if (sscanf(str_of(p, "attempt"), "next in %d s", &n) != 1)
		return -1;
	return n;
}

static bool r2_calling(struct fx *f)
{
	json_t *p = r1_at_r2(f);
	bool yes = !strncmp(str_of(p, "attempt"), "TLS handshake with", 18);

	json_decref(p);
	return yes;
}

static unsigned int want_fail;

static bool r1_saw_close(struct fx *f)
{
	return cnt(&f->r1, PA_CNT_HANDSHAKE_FAILED) >= want_fail;
}

static bool never(struct fx *f)
{
	return false;
}

/* r1 first (r2 calls it at once), passive unless R1_CALLS; r2 calls r1
 * under peer-validation PV and failure-mode FM, [crl] backoff-interval
 * BACKOFF_S (0: the default, 60 s). */
static void start_pair(struct fx *f, bool pv, enum svrcert_failure_mode fm,
		       bool r1_calls, unsigned int backoff_s)
{
	install(&f->r1, "cert.pem", "bad-revoked.pem");
	router_config(&f->r1, "r1", file_key("r1.key"), "r2",
		      r1_calls ? f->r2.port : 0);
	router_start(&f->r1);
	install(&f->r2, "cert.pem", "r2.pem");
	router_config(&f->r2, "r2", file_key("r2.key"), "r1", f->r1.port);
	f->r2.cfg.peer_validation = pv;
	f->r2.cfg.failure_mode = fm;
	if (backoff_s)
		f->r2.cfg.crl_backoff_s = backoff_s;
	router_start(&f->r2);
	run_until_judged(f, 1, 1);
	assert_false(is_severed(f));
}

/* The CRL manager publishes the intermediate's CRL, revoking r1. */
static void publish_crl(struct fx *f)
{
	assert_int_equal(fixture_sh("mkdir -p %s/crl && cp %s %s/crl/int.crl",
				    f->r2.dir, testpki_path("int.crl.der"),
				    f->r2.dir), 0);
	assert_int_equal(peerauth_crl_updated(f->r2.pa), 1);
}

/* r2 calls r1 again and stays in the handshake: r1 is not driven, its
 * listener only queues the connection. */
static void hold_call(struct fx *f)
{
	struct router *rs[] = { &f->r2 };
	char err[128];

	assert_int_equal(peerauth_own_cert_changed(f->r2.pa, err, sizeof(err)), 0);
	assert_true(drive(rs, 1, r2_calling, f, 10000));
}

static void assert_audit(struct router *r, const char *what)
{
	assert_int_equal(fixture_sh("grep -q '\"description\":\"%s\"' %s/audit.log",
				    what, r->dir), 0);
}

static void test_sever_on_revocation(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };
	json_t *p, *sev;

	start_pair(f, true, SVRCERT_FAIL_HARD, false, 0);
	hold_call(f);
	publish_crl(f);

	assert_peer(&f->r2, "r1", SVRCERT_STATE_REVOKED, SVRCERT_P_REVOKED,
		    "bad-revoked.pem");
	p = r1_at_r2(f);
	assert_string_equal(str_of(p, "peering"), "severed");
	sev = json_object_get(p, "severed");
	assert_true(json_is_object(sev));
	assert_true(strlen(str_of(sev, "since")) >= 20);
	assert_non_null(strstr(str_of(sev, "reason"), "certificate revoked: "));
	assert_non_null(strstr(str_of(sev, "reason"), "(fail-hard)"));
	assert_true(json_is_object(json_object_get(p, "alarm")));
	assert_string_equal(str_of(json_object_get(p, "keys"), "state"), "none");
	/* The call in progress was closed, the next one is a backoff away. */
	assert_true(next_in_s(p) > 30);
	json_decref(p);
	assert_audit(&f->r2, "Peering with r1 severed");

	/* r1 finds the connection it had queued closed, and judges nothing. */
	want_fail = 1;
	assert_true(drive(rs, 2, r1_saw_close, f, 10000));
	assert_int_equal(results(&f->r1, "r2"), 1);
	assert_true(is_severed(f));
}

/* Still revoked: r2 does not call r1 at a reload or an own-certificate
 * change; r1's own call is still judged (and stays severed). */
static void test_no_reauth_while_revoked(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };
	char err[128], since[64];
	unsigned int seen_r1, seen_r2;
	json_t *p;

	start_pair(f, true, SVRCERT_FAIL_HARD, true, 0);
	run_until_judged(f, 2, 2);
	publish_crl(f);
	assert_true(is_severed(f));
	p = r1_at_r2(f);
	snprintf(since, sizeof(since), "%s", str_of(json_object_get(p, "severed"), "since"));
	json_decref(p);
	seen_r1 = results(&f->r1, "r2");
	seen_r2 = results(&f->r2, "r1");

	assert_int_equal(peerauth_own_cert_changed(f->r2.pa, err, sizeof(err)), 0);
	assert_int_equal(peerauth_reconfigure(f->r2.pa, &f->r2.cfg, err, sizeof(err)), 0);
	drive(rs, 2, never, f, 1500);
	assert_int_equal(results(&f->r1, "r2"), seen_r1);	/* not called */
	assert_int_equal(results(&f->r2, "r1"), seen_r2);
	assert_true(is_severed(f));

	/* r1 calls with the same revoked certificate: judged, still severed,
	 * and r2 does not call back. */
	assert_int_equal(peerauth_own_cert_changed(f->r1.pa, err, sizeof(err)), 0);
	run_until_judged(f, seen_r1 + 1, seen_r2 + 1);
	drive(rs, 2, never, f, 500);
	assert_int_equal(results(&f->r1, "r2"), seen_r1 + 1);
	assert_int_equal(results(&f->r2, "r1"), seen_r2 + 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_REVOKED, SVRCERT_P_REVOKED,
		    "bad-revoked.pem");
	p = r1_at_r2(f);
	assert_string_equal(str_of(p, "peering"), "severed");
	assert_string_equal(str_of(json_object_get(p, "severed"), "since"), since);
	assert_true(next_in_s(p) > 30);
	json_decref(p);
	assert_int_equal(fixture_sh("test $(grep -c 'Peering with r1 severed' "
				    "%s/audit.log) = 1", f->r2.dir), 0);
}

static unsigned int want_r1_results;

/* r1 judged r2's call, and r2's call is over (r1's close_notify came):
 * r2 has scheduled the next one. */
static bool r2_called_r1(struct fx *f)
{
	json_t *p;
	bool over;

	if (results(&f->r1, "r2") < want_r1_results)
		return false;
	p = r1_at_r2(f);
	over = !strncmp(str_of(p, "attempt"), "next in", 7);
	json_decref(p);
	return over;
}

/* r1 keeps its revoked certificate and does not call: r2 calls it after
 * backoff-interval (1 s here), then 1 s, 2 s, 4 s later: it looks for a
 * new certificate less and less often. */
static void test_severed_backoff(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };
	static const int nominal[] = { 1, 1, 2, 4 };
	json_t *p;
	int n;

	start_pair(f, true, SVRCERT_FAIL_HARD, false, 1);
	publish_crl(f);
	for (size_t k = 0; k < 4; k++) {
		if (k) {	/* r2's k-th call to look: still revoked */
			want_r1_results = results(&f->r1, "r2") + 1;
			assert_true(drive(rs, 2, r2_called_r1, f, 15000));
		}
		p = r1_at_r2(f);
		assert_string_equal(str_of(p, "peering"), "severed");
		assert_string_equal(str_of(p, "state"), "revoked");
		n = next_in_s(p);
		json_decref(p);
		/* "next in N s" rounds up; allow a second of a slow loop */
		print_message("# after %zu call(s): next in %d s\n", k, n);
		assert_true(n <= nominal[k] && n >= nominal[k] - 1);
	}
	assert_true(is_severed(f));
}

static bool r2_resumed(struct fx *f)
{
	return !is_severed(f);
}

/* After a resume r2 calls r1 at once. */
static void assert_resumed(struct fx *f, const char *r1_cert)
{
	struct router *rs[] = { &f->r1, &f->r2 };
	json_t *p;

	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, r1_cert);
	p = r1_at_r2(f);
	assert_string_equal(str_of(p, "peering"), "active");
	assert_true(json_is_null(json_object_get(p, "severed")));
	json_decref(p);
	assert_audit(&f->r2, "Peering with r1 resumed");
	want_r1_results = results(&f->r1, "r2") + 1;
	assert_true(drive(rs, 2, r2_called_r1, f, 10000));
}

/* r1 calls with a new, good certificate: the peering resumes. */
static void test_resume_new_certificate(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };

	start_pair(f, true, SVRCERT_FAIL_HARD, true, 0);
	publish_crl(f);
	assert_true(is_severed(f));
	install(&f->r1, "cert.pem", "r1.pem");
	assert_int_equal(peerauth_check_own_cert(f->r1.pa), 1);
	assert_true(drive(rs, 2, r2_resumed, f, 30000));
	assert_resumed(f, "r1.pem");
}

/* The CRL goes (as a new one without the serial would): resumed. */
static void test_resume_crl_gone(void **state)
{
	struct fx *f = *state;

	start_pair(f, true, SVRCERT_FAIL_HARD, false, 0);
	publish_crl(f);
	assert_true(is_severed(f));
	assert_int_equal(fixture_sh("rm %s/crl/int.crl", f->r2.dir), 0);
	assert_int_equal(peerauth_crl_updated(f->r2.pa), 1);
	assert_resumed(f, "bad-revoked.pem");
}

/* svrcertctl set failure-mode fail-soft (its record in the state
 * directory), seen at the daemon's next check: resumed, still revoked. */
static void test_resume_policy_override(void **state)
{
	struct fx *f = *state;
	struct policy_override o = { .has_fm = true, .fm = SVRCERT_FAIL_SOFT };

	start_pair(f, true, SVRCERT_FAIL_HARD, false, 0);
	publish_crl(f);
	assert_true(is_severed(f));
	assert_int_equal(policy_override_save(&f->r2.st, &o), 0);
	assert_int_equal(peerauth_check_own_cert(f->r2.pa), 0);
	assert_false(is_severed(f));
	assert_audit(&f->r2, "Peering with r1 resumed");
	/* Back to svrcert.conf's fail-hard: severed again. */
	assert_int_equal(policy_override_save(&f->r2.st, &(struct policy_override){ 0 }), 0);
	assert_int_equal(peerauth_check_own_cert(f->r2.pa), 0);
	assert_true(is_severed(f));
}

/* fail-soft, or fail-hard without peer-validation: revoked, alarmed and
 * counted, but the call in progress goes on and nothing is severed. */
static void no_sever(struct fx *f, bool pv, enum svrcert_failure_mode fm)
{
	json_t *p;

	start_pair(f, pv, fm, false, 0);
	hold_call(f);
	publish_crl(f);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_REVOKED, SVRCERT_P_REVOKED,
		    "bad-revoked.pem");
	assert_counters(&f->r2, 1, 0, 0, 1);
	p = r1_at_r2(f);
	assert_string_equal(str_of(p, "peering"), "active");
	assert_true(json_is_null(json_object_get(p, "severed")));
	assert_true(json_is_object(json_object_get(p, "alarm")));
	assert_true(r2_calling(f));
	json_decref(p);
	/* The held call completes: r1 judges r2 a second time. */
	run_until_judged(f, 2, 2);
	assert_false(is_severed(f));
}

static void test_fail_soft_no_sever(void **state)
{
	no_sever(*state, true, SVRCERT_FAIL_SOFT);
}

static void test_no_peer_validation_no_sever(void **state)
{
	no_sever(*state, false, SVRCERT_FAIL_HARD);
}

/*
 * svrcertctl set failure-mode fail-soft over svrcert.conf's fail-hard (its
 * record in the state directory): a revocation then keeps the peer's ESP
 * keys (alarm only), as it keeps the peering; back to fail-hard, the
 * daemon's check severs and cuts them. r2 has peer keys (a namespace of
 * its own); r1's are recorded as a completed agreement records them (no
 * GCM on this host; 86-peerkeys.sh runs the real ones).
 */
static void test_fail_soft_override_keeps_keys(void **state)
{
	struct fx *f = *state;
	struct policy_override o = { .has_fm = true, .fm = SVRCERT_FAIL_SOFT };
	struct peerkey_keys k = { .index = 3, .spi_in = 0x2001, .spi_out = 0x2002 };
	struct peerkey_path path = { .reqid = SVRCERT_XFRM_REQID(9), .proto = 17,
				     .local_auth_port = 4430,
				     .remote_auth_port = 4431 };
	json_t *p;

	if (!have_netns)
		skip();
	assert_int_equal(svrcert_nl_addr_parse("127.0.0.1", &path.local), 0);
	assert_int_equal(svrcert_nl_addr_parse("127.0.0.2", &path.remote), 0);
	install(&f->r1, "cert.pem", "bad-revoked.pem");
	router_config(&f->r1, "r1", file_key("r1.key"), "r2", 0);
	router_start(&f->r1);
	install(&f->r2, "cert.pem", "r2.pem");
	router_config(&f->r2, "r2", file_key("r2.key"), "r1", f->r1.port);
	keys_on(&f->r2);
	f->r2.cfg.peer_validation = true;
	f->r2.cfg.failure_mode = SVRCERT_FAIL_HARD;
	router_start(&f->r2);
	run_until_judged(f, 1, 1);
	pa_keys_installed(f->r2.pa, &f->r2.pa->peers[0], &k, &path);
	assert_true(f->r2.bound.esp_required);

	assert_int_equal(policy_override_save(&f->r2.st, &o), 0);
	publish_crl(f);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_REVOKED, SVRCERT_P_REVOKED,
		    "bad-revoked.pem");
	p = r1_at_r2(f);
	assert_string_equal(str_of(p, "peering"), "active");
	assert_true(json_is_object(json_object_get(p, "alarm")));
	assert_string_equal(str_of(json_object_get(p, "keys"), "state"), "established");
	json_decref(p);
	assert_true(f->r2.bound.esp_required);
	assert_int_equal(f->r2.bound.state, SVRCERT_STATE_REVOKED);

	/* back to svrcert.conf's fail-hard: severed, keys cut */
	assert_int_equal(policy_override_save(&f->r2.st, &(struct policy_override){ 0 }), 0);
	assert_int_equal(peerauth_check_own_cert(f->r2.pa), 0);
	assert_true(is_severed(f));
	p = r1_at_r2(f);
	assert_string_equal(str_of(json_object_get(p, "keys"), "state"), "none");
	json_decref(p);
	assert_false(f->r2.bound.esp_required);
}

/* A raw TLS client as r1 (bad-revoked.pem on r1's key) on r2's listener. */
static SSL *r1_client(struct fx *f, SSL_CTX **ctxp, int *fdp)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	assert_non_null(ctx);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx,
				testpki_path("bad-revoked.pem")), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, testpki_path("r1.key"),
						     SSL_FILETYPE_PEM), 1);
	assert_int_equal(raw_client_to_r2(f, ctx, 500, &ssl, fdp), 1);
	*ctxp = ctx;
	return ssl;
}

/* The connection is closed when SSL_read says so (close_notify or EOF). */
static bool closed(SSL *ssl)
{
	char c;
	int r = SSL_read(ssl, &c, 1);

	ERR_clear_error();
	return r <= 0 && SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ;
}

/* r1's judged call waits for a key agreement (peer-keys) when the CRL
 * comes: r2 closes it at once, not at the handshake timeout (15 s). */
static void test_incoming_closed(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r2 };
	SSL_CTX *ctx;
	SSL *ssl;
	int fd, i;

	if (!have_netns)
		skip();
	install(&f->r2, "cert.pem", "r2.pem");
	router_config(&f->r2, "r2", file_key("r2.key"), "r1", 0);
	keys_on(&f->r2);
	f->r2.cfg.peer_validation = true;
	f->r2.cfg.failure_mode = SVRCERT_FAIL_HARD;
	router_start(&f->r2);

	ssl = r1_client(f, &ctx, &fd);
	for (i = 0; i < 500 && results(&f->r2, "r1") < 1; i++)
		drive(rs, 1, r2_never, f, 20);
	assert_int_equal(results(&f->r2, "r1"), 1);
	drive(rs, 1, r2_never, f, 100);
	assert_false(closed(ssl));	/* r2 waits for an offer or the close */

	publish_crl(f);
	assert_true(is_severed(f));
	for (i = 0; i < 100 && !closed(ssl); i++)
		drive(rs, 1, r2_never, f, 20);
	assert_true(i < 100);
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
}

static int sever_group_setup(void **state)
{
	have_netns = unshare(CLONE_NEWNET) == 0 && !system("ip link set lo up");
	if (!have_netns)
		print_message("# no network namespace: the incoming test is skipped\n");
	return group_setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_sever_on_revocation),
		T(test_no_reauth_while_revoked),
		T(test_severed_backoff),
		T(test_resume_new_certificate),
		T(test_resume_crl_gone),
		T(test_resume_policy_override),
		T(test_fail_soft_no_sever),
		T(test_no_peer_validation_no_sever),
		T(test_incoming_closed),
		T(test_fail_soft_override_keeps_keys),
#undef T
	};

	return cmocka_run_group_tests(tests, sever_group_setup, group_teardown);
}
