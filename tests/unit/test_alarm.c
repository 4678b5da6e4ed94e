// SPDX-License-Identifier: GPL-2.0
/*
 * Own-certificate alarms (alarm.c): thresholds with certificates of the
 * test PKI whose notAfter is 40, 20, 5 and -1 days away, persistence across
 * "restarts" (a fresh load), clearing, counters, and the no-certificate
 * alarm when peer security is on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "swtpm_fixture.h"
#include "../pki/testpki.h"

#include "pki/alarm.h"
#include "lib/counters.h"
#include "pki/import_trust.h"
#include "lib/store.h"

struct fx {
	char dir[64];
	struct svrcert_store st;
	struct import_params ip;
};

static int group_setup(void **state)
{
	return testpki_setup();
}

static int group_teardown(void **state)
{
	testpki_teardown();
	return 0;
}

static int setup(void **state)
{
	struct svrcert_problems p;
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	assert_int_equal(fixture_tempdir(f->dir, "alarm"), 0);
	assert_int_equal(store_open(&f->st, f->dir), 0);
	assert_int_equal(fixture_sh("cp %s %s/" STORE_KEY " && openssl pkey -in %s "
				    "-pubout -out %s/" STORE_PUBKEY " && mkdir %s/crl && "
				    "cp %s %s/crl/", testpki_path("r1.key"), f->dir,
				    testpki_path("r1.key"), f->dir, f->dir,
				    testpki_path("int.crl.pem"), f->dir), 0);
	svrcert_problems_init(&p);
	assert_int_equal(trust_ca_add(&f->st, "root", testpki_path("bundle.pem"),
				      SVRCERT_MODE_STRICT, time(NULL), &p, err,
				      sizeof(err)), 0);
	svrcert_problems_free(&p);
	f->ip.st = &f->st;
	f->ip.expected_name = "r1";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(&f->st);
	fixture_rm_rf(f->dir);
	free(f);
	return 0;
}

/* The certificate as if installed long ago and now this close to expiry. */
static void install_raw(struct fx *f, const char *name)
{
	size_t len;
	uint8_t *buf = testpki_read(name, &len);

	assert_int_equal(store_write(&f->st, STORE_CERT, buf, len, 0644), 0);
	free(buf);
}

static void check(struct fx *f, bool peer_security, struct alarm_set *set)
{
	struct own_cert_status s;

	assert_int_equal(alarm_check_own(&f->ip, peer_security, &s, NULL, 0), 0);
	assert_int_equal(alarm_load(&f->st, set), 0);
}

static uint64_t counter(struct fx *f, const char *key)
{
	json_t *c;
	uint64_t v;

	assert_int_equal(counters_load(&f->st, &c), 0);
	v = counters_get(c, key);
	json_decref(c);
	return v;
}

static void assert_one(const struct alarm_set *set, const char *id,
		       enum alarm_severity sev)
{
	assert_int_equal(set->n, 1);
	assert_string_equal(set->v[0].id, id);
	assert_int_equal(set->v[0].severity, sev);
}

static void test_expiry_thresholds(void **state)
{
	struct fx *f = *state;
	struct alarm_set set;
	time_t raised;

	install_raw(f, "exp-40d.pem");
	check(f, false, &set);
	assert_int_equal(set.n, 0);

	install_raw(f, "exp-20d.pem");
	check(f, false, &set);
	assert_one(&set, ALARM_EXPIRING, ALARM_SEV_MINOR);
	/* notAfter is 20 days from when the PKI was made, give or take. */
	assert_true(strstr(set.v[0].message, "expires in 19 day") ||
		    strstr(set.v[0].message, "expires in 20 day"));
	raised = set.v[0].raised;
	check(f, false, &set);		/* unchanged: not raised again */
	assert_one(&set, ALARM_EXPIRING, ALARM_SEV_MINOR);
	assert_int_equal(set.v[0].raised, raised);

	install_raw(f, "exp-5d.pem");
	check(f, false, &set);
	assert_one(&set, ALARM_EXPIRING, ALARM_SEV_MAJOR);

	install_raw(f, "exp-minus1d.pem");
	check(f, false, &set);
	assert_one(&set, ALARM_INVALID, ALARM_SEV_CRITICAL);
	assert_int_equal(set.v[0].state, SVRCERT_STATE_EXPIRED);
	assert_int_equal(counter(f, "certificate.expired"), 1);
	check(f, false, &set);		/* still expired: counted once */
	assert_int_equal(counter(f, "certificate.expired"), 1);
	assert_int_equal(counter(f, "certificate.invalid"), 0);

	/* A fresh certificate clears it; the file says so after a restart. */
	install_raw(f, "r1.pem");
	check(f, false, &set);
	assert_int_equal(set.n, 0);
}

static void test_alarms_persist(void **state)
{
	struct fx *f = *state;
	struct alarm_set set, again;
	struct svrcert_store st2;

	install_raw(f, "exp-5d.pem");
	check(f, false, &set);
	assert_one(&set, ALARM_EXPIRING, ALARM_SEV_MAJOR);
	assert_int_equal(store_open(&st2, f->dir), 0);
	assert_int_equal(alarm_load(&st2, &again), 0);
	assert_one(&again, ALARM_EXPIRING, ALARM_SEV_MAJOR);
	assert_int_equal(again.v[0].raised, set.v[0].raised);
	assert_string_equal(again.v[0].message, set.v[0].message);
	store_close(&st2);
}

static void test_revoked_and_no_certificate(void **state)
{
	struct fx *f = *state;
	struct alarm_set set;

	check(f, false, &set);		/* nothing installed, security off */
	assert_int_equal(set.n, 0);
	check(f, true, &set);
	assert_one(&set, ALARM_NO_CERT, ALARM_SEV_CRITICAL);

	install_raw(f, "bad-revoked.pem");
	check(f, true, &set);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.v[0].id, ALARM_INVALID);
	assert_int_equal(set.v[0].state, SVRCERT_STATE_REVOKED);
	assert_string_equal(set.v[1].id, ALARM_NO_CERT);
	assert_int_equal(counter(f, "certificate.revoked"), 1);

	install_raw(f, "bad-identity.pem");
	check(f, false, &set);
	assert_one(&set, ALARM_INVALID, ALARM_SEV_CRITICAL);
	assert_int_equal(set.v[0].state, SVRCERT_STATE_INVALID);
	assert_int_equal(counter(f, "certificate.invalid"), 1);
}

static void test_threshold_boundaries(void **state)
{
	struct own_cert_status s = { .present = true, .state = SVRCERT_STATE_VALID };
	struct alarm_set set;
	time_t now = 1700000000;

	s.not_after = now + 31 * 86400;
	alarm_desired_own(&s, false, now, &set);
	assert_int_equal(set.n, 0);
	s.not_after = now + 30 * 86400;
	alarm_desired_own(&s, false, now, &set);
	assert_one(&set, ALARM_EXPIRING, ALARM_SEV_MINOR);
	s.not_after = now + 7 * 86400 + 1;
	alarm_desired_own(&s, false, now, &set);
	assert_one(&set, ALARM_EXPIRING, ALARM_SEV_MINOR);
	s.not_after = now + 7 * 86400;
	alarm_desired_own(&s, false, now, &set);
	assert_one(&set, ALARM_EXPIRING, ALARM_SEV_MAJOR);
	s.state = SVRCERT_STATE_EXPIRED;
	alarm_desired_own(&s, false, now, &set);
	assert_one(&set, ALARM_INVALID, ALARM_SEV_CRITICAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_expiry_thresholds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarms_persist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_and_no_certificate, setup, teardown),
		cmocka_unit_test(test_threshold_boundaries),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
