// SPDX-License-Identifier: GPL-2.0
/*
 * Peer authentication: how a received certificate is judged (valid, wrong
 * peering name on either side, expired, not yet valid, untrusted CA,
 * revoked by a CRL update) with exact state, problem, fingerprint, bound
 * DER/addresses, counters, audit and alarm. Fixture: test_peerauth_fixture.h.
 */
#include "test_peerauth_fixture.h"
#include "pki/import.h"
#include "pki/pki.h"

/* What CRL discovery sees of R's peers (peerauth_peer_certs): "NAME URL"
 * of each peer's certificate's first CRL distribution point. */
static void peer_cdp(const char *name, X509 *cert,
		     enum svrcert_cert_state state, void *ctx)
{
	char *out = ctx, **urls;
	size_t n, used = strlen(out);

	assert_int_equal(svrcert_cert_crl_urls(cert, &urls, &n), 0);
	snprintf(out + used, 512 - used, "%s%s %s %s", used ? "; " : "", name,
		 cert_state_name(state), n ? urls[0] : "-");
	svrcert_strv_free(urls, n);
}

/* R's peers as discovery sees them: just PEER, judged STATE, whose CDP is
 * the PKI's. */
static void assert_peer_cdps(struct router *r, const char *peer,
			     const char *state)
{
	char got[512] = "", exp[512];

	snprintf(exp, sizeof(exp), "%s %s %s", peer, state, getenv("PKI_CRL_URL") ?
		 getenv("PKI_CRL_URL") : "http://127.0.0.1:8080/int.crl");
	peerauth_peer_certs(r->pa, peer_cdp, got);
	assert_string_equal(got, exp);
}

static void test_mutual_ok(void **state)
{
	struct fx *f = *state;
	json_t *j, *p0;

	start_r2(f);
	start_r1(f, "r1.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r1, "r2", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r2.pem");
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r1.pem");
	assert_counters(&f->r1, 1, 0, 0, 0);
	assert_counters(&f->r2, 1, 0, 0, 0);
	assert_int_equal(cnt(&f->r1, PA_CNT_HANDSHAKE_FAILED), 0);
	assert_int_equal(f->r1.bound.calls, 1);
	assert_int_equal(f->r2.bound.calls, 1);
	/* CRL discovery finds each side's peer certificate (and its CDP) */
	assert_peer_cdps(&f->r2, "r1", "valid");
	assert_peer_cdps(&f->r1, "r2", "valid");

	j = peerauth_status_json(f->r2.pa);
	p0 = json_array_get(json_object_get(j, "peers"), 0);
	assert_string_equal(json_string_value(json_object_get(p0, "name")), "r1");
	assert_string_equal(json_string_value(json_object_get(p0, "state")), "valid");
	assert_string_equal(json_string_value(json_object_get(p0, "via")), "server");
	assert_string_equal(json_string_value(json_object_get(p0, "identity")),
			    "O=svrcert test, CN=r1");
	assert_true(json_is_null(json_object_get(p0, "alarm")));
	json_decref(j);
	assert_int_equal(fixture_sh("grep -q '\"type\":\"system.peer_authentication\""
				    ".*\"permitted\":true' %s/audit.log",
				    f->r2.dir), 0);
}

static void test_wrong_peering_name_client(void **state)
{
	struct fx *f = *state;
	struct peerauth_peer_status s;

	start_r2(f);
	start_r1(f, "r1.pem", "r3");	/* r1 expects r3 at r2's address */
	run_until_judged(f, 1, 1);
	assert_peer(&f->r1, "r3", SVRCERT_STATE_INVALID, SVRCERT_P_IDENTITY,
		    "r2.pem");
	assert_int_equal(peerauth_peer_status(f->r1.pa, "r3", &s), 0);
	assert_non_null(strstr(s.reason, "r3"));
	assert_counters(&f->r1, 0, 0, 1, 0);
	assert_counters(&f->r2, 1, 0, 0, 0);
	assert_int_equal(fixture_sh("grep -q '\"problem\":\"identity\".*"
				    "\"permitted\":false' %s/audit.log",
				    f->r1.dir), 0);
}

static bool r2_refused_caller(struct fx *f)
{
	return cnt(&f->r2, PA_CNT_INVALID) >= 1 && results(&f->r1, "r2") >= 1;
}

static void test_wrong_peering_name_server(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };

	start_r2(f);
	start_r1(f, "bad-identity.pem", "r2");	/* CN=wrong-router */
	assert_true(drive(rs, 2, r2_refused_caller, f, 8000));
	/* Not a configured peer: refused, nothing bound for it. */
	assert_int_equal(results(&f->r2, "r1"), 0);
	assert_int_equal(f->r2.bound.calls, 0);
	assert_counters(&f->r2, 0, 0, 1, 0);
	assert_peer(&f->r1, "r2", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r2.pem");
}

static void test_expired(void **state)
{
	struct fx *f = *state;

	start_r2(f);
	start_r1(f, "bad-expired.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_EXPIRED, SVRCERT_P_EXPIRED,
		    "bad-expired.pem");
	assert_counters(&f->r2, 0, 1, 0, 0);
	{
		json_t *j = NULL;

		assert_int_equal(counters_load(&f->r2.st, &j), 0);
		assert_int_equal(counters_get(j, "peer-certificate.expired.expired"), 1);
		json_decref(j);
	}
	assert_alarm_file(&f->r2, "r1", "expired");

	/* A restart does not clear the alarm... */
	peerauth_free(f->r2.pa);
	router_start(&f->r2);
	{
		struct peerauth_peer_status s;

		assert_int_equal(peerauth_peer_status(f->r2.pa, "r1", &s), 0);
		assert_int_equal(s.state, SVRCERT_STATE_UNKNOWN);
		assert_true(s.alarm);
		assert_non_null(strstr(s.reason, "before restart"));
	}
	/* ...a valid certificate does. */
	install(&f->r1, "cert.pem", "r1.pem");
	assert_int_equal(peerauth_check_own_cert(f->r1.pa), 1);
	run_until_judged(f, 2, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r1.pem");
	assert_alarm_file(&f->r2, NULL, NULL);
}

static void test_not_yet_valid(void **state)
{
	struct fx *f = *state;

	start_r2(f);
	start_r1(f, "bad-notyet.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_NOT_YET_VALID,
		    SVRCERT_P_NOT_YET_VALID, "bad-notyet.pem");
	assert_counters(&f->r2, 0, 0, 1, 0);
}

static void test_untrusted_ca(void **state)
{
	struct fx *f = *state;

	start_r2(f);
	start_r1(f, "bad-untrusted.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_INVALID, SVRCERT_P_UNTRUSTED,
		    "bad-untrusted.pem");
	assert_counters(&f->r2, 0, 0, 1, 0);
}

static void test_revoked_by_crl_update(void **state)
{
	struct fx *f = *state;

	start_r2(f);
	start_r1(f, "bad-revoked.pem", "r2");
	run_until_judged(f, 1, 1);
	/* r2 holds no CRL yet: the certificate passes. */
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE,
		    "bad-revoked.pem");
	assert_int_equal(peerauth_crl_updated(f->r2.pa), 0);
	assert_int_equal(f->r2.bound.calls, 1);

	/* The CRL manager publishes the intermediate's CRL. */
	assert_int_equal(fixture_sh("mkdir -p %s/crl && cp %s %s/crl/int.crl",
				    f->r2.dir, testpki_path("int.crl.der"),
				    f->r2.dir), 0);
	assert_int_equal(peerauth_crl_updated(f->r2.pa), 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_REVOKED, SVRCERT_P_REVOKED,
		    "bad-revoked.pem");
	assert_int_equal(f->r2.bound.calls, 2);
	assert_counters(&f->r2, 1, 0, 0, 1);
	/* still offered to CRL discovery, as revoked: the daemon keeps
	 * following the URLs of its last valid certificate */
	assert_peer_cdps(&f->r2, "r1", "revoked");
	/* Judging again changes nothing and binds nothing. */
	assert_int_equal(peerauth_crl_updated(f->r2.pa), 0);
	assert_int_equal(f->r2.bound.calls, 2);

	/* A new handshake is judged with the CRL as well. */
	assert_int_equal(peerauth_own_cert_changed(f->r1.pa, (char[64]){ 0 }, 64), 0);
	run_until_judged(f, 2, 3);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_REVOKED, SVRCERT_P_REVOKED,
		    "bad-revoked.pem");
	assert_counters(&f->r2, 1, 0, 0, 2);
}

/* A CRL that appears in STATE_DIR/crl applies to the next handshake even
 * when nobody calls peerauth_crl_updated() (the cache notices). */
static void test_revoked_crl_on_disk(void **state)
{
	struct fx *f = *state;
	char err[128];

	start_r2(f);
	start_r1(f, "bad-revoked.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE,
		    "bad-revoked.pem");
	assert_int_equal(fixture_sh("mkdir -p %s/crl && cp %s %s/crl/int.crl",
				    f->r2.dir, testpki_path("int.crl.der"),
				    f->r2.dir), 0);
	assert_int_equal(peerauth_own_cert_changed(f->r1.pa, err, sizeof(err)), 0);
	run_until_judged(f, 2, 2);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_REVOKED, SVRCERT_P_REVOKED,
		    "bad-revoked.pem");
	assert_counters(&f->r2, 1, 0, 0, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_mutual_ok),
		T(test_wrong_peering_name_client),
		T(test_wrong_peering_name_server),
		T(test_expired),
		T(test_not_yet_valid),
		T(test_untrusted_ca),
		T(test_revoked_by_crl_update),
		T(test_revoked_crl_on_disk),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
