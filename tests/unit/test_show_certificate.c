// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show certificate [detail] when the installed certificate
 * cannot be read or parsed: the real error and exit 1, never "no
 * certificate installed" with exit 0. The tests run as root, for whom a
 * mode denies nothing, so unreadable is a directory where the file
 * belongs (the read fails with EISDIR) and unparseable is garbage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "swtpm_fixture.h"

#include "lib/store.h"

static char dir[64];

static int setup(void **state)
{
	return fixture_tempdir(dir, "showcert") ? -1 : 0;
}

static int teardown(void **state)
{
	fixture_rm_rf(dir);
	return 0;
}

static const char *srcdir(void)
{
	const char *s = getenv("SVRCERT_SRCDIR");

	return s && *s ? s : ".";
}

/* Exit status of `svrcertctl show certificate ARGS`; output in dir/out. */
static int show(const char *args)
{
	return fixture_sh("%s/build/svrcertctl show certificate %s --state-dir %s "
			  ">%s/out 2>&1", srcdir(), args, dir, dir);
}

static void expect_output(const char *want, bool present)
{
	int rc = fixture_sh("grep -qF '%s' %s/out", want, dir);

	if ((rc == 0) != present)
		fail_msg("output %s \"%s\"", present ? "lacks" : "has", want);
}

static void test_missing_is_none(void **state)
{
	assert_int_equal(show(""), 0);
	expect_output("no certificate installed", true);
}

static void test_unreadable_is_an_error(void **state)
{
	assert_int_equal(fixture_sh("mkdir %s/" STORE_CERT, dir), 0);
	assert_int_equal(show(""), 1);
	expect_output("cannot read the certificate", true);
	expect_output(STORE_CERT ": Is a directory", true);
	expect_output("no certificate installed", false);
	assert_int_equal(show("-j"), 1);
	expect_output("\"installed\": false", false);
	assert_int_equal(show("detail"), 1);
	expect_output("Is a directory", true);
	expect_output("no certificate installed", false);
}

static void test_unparseable_is_an_error(void **state)
{
	assert_int_equal(fixture_sh("echo garbage > %s/" STORE_CERT, dir), 0);
	assert_int_equal(show(""), 1);
	expect_output(STORE_CERT " does not parse", true);
	expect_output("no certificate installed", false);
	assert_int_equal(show("detail"), 1);
	expect_output("does not parse", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_is_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unparseable_is_an_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
