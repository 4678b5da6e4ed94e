// SPDX-License-Identifier: GPL-2.0
/*
 * [trusted-ca] bundles of svrcert.conf (issue 13 item 9): checked exactly as
 * "trusted-ca add" checks a bundle. An RSA-1024 root that expired a day ago
 * and has a non-critical basicConstraints (mkpki.sh ca-weak.pem):
 * strict refuses it (left out of the trust store, trusted-ca-refused alarm),
 * warn keeps it and lists every problem as a warning.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../pki/testpki.h"

#include "pki/alarm.h"
#include "pki/import_trust.h"
#include "pki/trust_config.h"
#include "lib/store.h"

struct fx {
	char dir[64];
	struct svrcert_store st;
	struct svrcert_config cfg;
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

/* A configuration with [trusted-ca "weak"] in MODE, and "good" (strict,
 * bundle.pem) when WITH_GOOD. */
static struct fx *fixture(const char *mode, bool with_good)
{
	struct fx *f = calloc(1, sizeof(*f));
	char conf[2 * PATH_MAX + 256], weak[PATH_MAX], err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/svrcert-tcfg.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(&f->st, f->dir), 0);
	snprintf(weak, sizeof(weak), "%s", testpki_path("ca-weak.pem"));
	snprintf(conf, sizeof(conf),
		 "[router]\nname = r1\n"
		 "[trusted-ca \"weak\"]\nfile = %s\nvalidation-mode = %s\n%s%s%s",
		 weak, mode, with_good ? "[trusted-ca \"good\"]\nfile = " : "",
		 with_good ? testpki_path("bundle.pem") : "", with_good ? "\n" : "");
	assert_int_equal(svrcert_config_load_string(conf, "t.conf", &f->cfg, err,
						     sizeof(err)), 0);
	return f;
}

static void fixture_free(struct fx *f)
{
	char cmd[128];

	svrcert_config_free(&f->cfg);
	store_close(&f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(testpki_run(cmd), 0);
	free(f);
}

/* Every rule the weak CA breaks is named in MSG. */
static void expect_every_problem(const char *msg)
{
	print_message("%s\n", msg);
	assert_non_null(strstr(msg, "trusted CA 'weak'"));
	assert_non_null(strstr(msg, "RSA key of 1024 bits is too small"));
	assert_non_null(strstr(msg, "expired at"));
	assert_non_null(strstr(msg, "basicConstraints CA:TRUE is not marked critical"));
}

static void test_strict_refuses(void **state)
{
	struct fx *f = fixture("strict", true);
	struct trust_ca_check *v = NULL;

	assert_int_equal(trust_config_check(&f->cfg, 0, &v), 0);
	assert_non_null(v);
	assert_string_equal(v[0].name, "weak");
	assert_int_equal(v[0].verdict, TRUST_CA_REFUSED);
	assert_non_null(strstr(v[0].message, "validation-mode strict): refused: "));
	expect_every_problem(v[0].message);
	assert_string_equal(v[1].name, "good");
	assert_int_equal(v[1].verdict, TRUST_CA_OK);
	free(v);
	fixture_free(f);
}

static void test_warn_keeps_and_warns(void **state)
{
	struct fx *f = fixture("warn", false);
	struct trust_ca_check *v = NULL;

	assert_int_equal(trust_config_check(&f->cfg, 0, &v), 0);
	assert_int_equal(v[0].verdict, TRUST_CA_WARN);
	assert_non_null(strstr(v[0].message, "validation-mode warn): used despite: "));
	expect_every_problem(v[0].message);
	free(v);
	fixture_free(f);
}

/* Whether STORE holds a certificate with the subject of the PKI's FILE. */
static bool store_has(X509_STORE *store, const char *file)
{
	X509 *want = testpki_cert(file);
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	bool found = false;

	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *c = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));

		found |= c && !X509_cmp(c, want);
	}
	X509_free(want);
	return found;
}

/* What import, peer checks and the CRL manager trust (trust_store_build). */
static void test_trust_store_leaves_out_refused(void **state)
{
	struct fx *f = fixture("strict", true);
	X509_STORE *store = NULL;
	char err[256];

	assert_int_equal(trust_store_build(&f->st, &f->cfg, &store, err, sizeof(err)), 0);
	assert_false(store_has(store, "ca-weak.pem"));
	assert_true(store_has(store, "int.pem"));
	X509_STORE_free(store);
	fixture_free(f);

	f = fixture("warn", false);
	assert_int_equal(trust_store_build(&f->st, &f->cfg, &store, err, sizeof(err)), 0);
	assert_true(store_has(store, "ca-weak.pem"));
	X509_STORE_free(store);
	fixture_free(f);

	/* Refused and nothing else: no trusted CA at all. */
	f = fixture("strict", false);
	assert_int_equal(trust_store_build(&f->st, &f->cfg, &store, err, sizeof(err)),
			 -ENOENT);
	assert_null(store);
	fixture_free(f);
}

static const struct alarm *find_alarm(const struct alarm_set *set, const char *id)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].id, id))
			return &set->v[i];
	return NULL;
}

/* The periodic check (at start, reload and every interval) alarms. */
static void test_alarm(void **state)
{
	struct fx *f = fixture("strict", true);
	struct import_params ip = { .st = &f->st, .cfg = &f->cfg };
	struct own_cert_status status;
	struct alarm_set set;
	const struct alarm *a;

	assert_int_equal(alarm_check_own(&ip, false, &status, NULL, 0), 0);
	assert_int_equal(alarm_load(&f->st, &set), 0);
	a = find_alarm(&set, ALARM_TRUSTED_CA_REFUSED);
	assert_non_null(a);
	assert_int_equal(a->severity, ALARM_SEV_MAJOR);
	expect_every_problem(a->message);
	svrcert_config_free(&f->cfg);

	/* warn mode: no alarm (the daemon logs the warnings), and the alarm
	 * raised before is cleared. */
	{
		char conf[PATH_MAX + 128], err[256];

		snprintf(conf, sizeof(conf), "[router]\nname = r1\n[trusted-ca \"weak\"]\n"
			 "file = %s\nvalidation-mode = warn\n", testpki_path("ca-weak.pem"));
		assert_int_equal(svrcert_config_load_string(conf, "t.conf", &f->cfg,
							     err, sizeof(err)), 0);
	}
	assert_int_equal(alarm_check_own(&ip, false, &status, NULL, 0), 0);
	assert_int_equal(alarm_load(&f->st, &set), 0);
	assert_null(find_alarm(&set, ALARM_TRUSTED_CA_REFUSED));
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_refuses),
		cmocka_unit_test(test_warn_keeps_and_warns),
		cmocka_unit_test(test_trust_store_leaves_out_refused),
		cmocka_unit_test(test_alarm),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
