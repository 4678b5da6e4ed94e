// SPDX-License-Identifier: GPL-2.0
/*
 * The seed's whole provisioning with the real parts: a key generated in
 * swtpm, a CSR signed there, the test CA (tests/pki/mkpki.sh sign) issuing
 * the certificate, the import, and "svrcertctl show certificate -j" and
 * "show stats security -j" run as a user would (build/svrcertctl).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "swtpm_fixture.h"
#include "../pki/testpki.h"

#include <jansson.h>

#include "lib/store.h"

#define CTL "build/svrcertctl"

struct fx {
	struct swtpm_fixture tpm;
	char dir[64];
	char sock[96];
	char conf[96];
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
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(swtpm_start(&f->tpm), 0);
	assert_int_equal(fixture_tempdir(f->dir, "rt"), 0);
	snprintf(f->sock, sizeof(f->sock), "%s/none.sock", f->dir);
	setenv("SVRCERT_STATE_DIR", f->dir, 1);
	setenv("SVRCERT_CONTROL_SOCKET", f->sock, 1);
	/* Isolated from any /etc/svrcert/svrcert.conf of the machine. */
	snprintf(f->conf, sizeof(f->conf), "%s/svrcert.conf", f->dir);
	assert_int_equal(atomic_write_file(f->conf, "[router]\nname = rt\n",
					   strlen("[router]\nname = rt\n"), 0644), 0);
	setenv("SVRCERT_CONFIG", f->conf, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	swtpm_stop(&f->tpm);
	fixture_rm_rf(f->dir);
	free(f);
	return 0;
}

static json_t *ctl_json(const char *args)
{
	char cmd[512];
	json_t *j;
	FILE *p;

	snprintf(cmd, sizeof(cmd), CTL " %s", args);
	p = popen(cmd, "r");
	assert_non_null(p);
	j = json_loadf(p, 0, NULL);
	assert_int_equal(pclose(p), 0);
	assert_non_null(j);
	return j;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	assert_non_null(s);
	return s;
}

static void test_key_csr_sign_import_show(void **state)
{
	struct fx *f = *state;
	char uuid[64], cmd[1024];
	json_t *cert, *stats;

	assert_int_equal(fixture_sh(CTL " key generate >/dev/null"), 0);
	assert_int_equal(fixture_sh(CTL " csr --name base --country US "
				    "--organization 'svrcert test' --days 90 "
				    "-o %s/req.csr 2>/dev/null", f->dir), 0);
	assert_int_equal(fixture_sh("openssl req -in %s/req.csr -verify -noout "
				    "2>/dev/null", f->dir), 0);
	assert_int_equal(fixture_sh("tests/pki/mkpki.sh sign %s %s/req.csr "
				    "%s/router.pem 90 >/dev/null 2>&1", testpki_dir,
				    f->dir, f->dir), 0);
	/* No trusted CA yet: refused, nothing installed. */
	assert_int_equal(fixture_sh(CTL " import %s/router.pem 2>/dev/null",
				    f->dir), 1);
	assert_int_equal(fixture_sh("test -e %s/cert.pem", f->dir), 1);
	assert_int_equal(fixture_sh(CTL " trusted-ca add root %s >/dev/null",
				    testpki_path("bundle.pem")), 0);
	assert_int_equal(fixture_sh(CTL " import %s/router.pem >/dev/null",
				    f->dir), 0);

	snprintf(cmd, sizeof(cmd), "cat %s/router-uuid", f->dir);
	assert_int_equal(testpki_shell(cmd, uuid, sizeof(uuid)), 0);
	cert = ctl_json("show certificate -j");
	assert_true(json_is_true(json_object_get(cert, "installed")));
	assert_string_equal(jstr(cert, "state"), "valid");
	/* The test CA's policy keeps O and CN only. */
	snprintf(cmd, sizeof(cmd), "/O=svrcert test/CN=%s", uuid);
	assert_string_equal(jstr(cert, "subject"), cmd);
	assert_string_equal(jstr(cert, "issuer"),
			    "/O=svrcert test/CN=svrcert Test Intermediate CA");
	assert_true(json_integer_value(json_object_get(cert, "days_left")) >= 89);
	assert_int_equal(strlen(jstr(cert, "sha256_fingerprint")), 95);
	json_decref(cert);

	stats = ctl_json("show stats security -j");
	/* named as GET /api/v1/stats names them */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
		stats, "counters"), "csr.success")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
		stats, "counters"), "certificate-import.success")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
		stats, "counters"), "certificate-import.failure")), 1);
	json_decref(stats);

	/* A certificate for another key (the PKI's r1) is refused. */
	assert_int_equal(fixture_sh(CTL " trusted-ca list | grep -q root"), 0);
	assert_int_equal(fixture_sh(CTL " import --identity r1 %s 2>&1 | grep -q "
				    "\"not this router's key\"", testpki_path("r1.pem")), 0);
	assert_int_equal(fixture_sh(CTL " show certificate detail | grep -q "
				    "'Signature Algorithm: ecdsa-with-SHA256'"), 0);
	assert_int_equal(fixture_sh("grep -c system.generate_csr %s/audit.log | "
				    "grep -qx 1", f->dir), 0);
	assert_int_equal(fixture_sh("grep system.generate_csr %s/audit.log | grep -q "
				    "'\"validity_period_days\":90'", f->dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_csr_sign_import_show, setup, teardown),
	};

	if (access(CTL, X_OK)) {
		fprintf(stderr, "test_import_roundtrip: run from the source tree "
			"after 'make userspace' (%s missing)\n", CTL);
		return 1;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
