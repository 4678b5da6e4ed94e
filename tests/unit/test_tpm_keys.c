// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl key generate / csr with the key types and SANs, as a user
 * runs them (build/svrcertctl), against a real swtpm and the test CA:
 * EC P-384 and RSA 3072 from key to imported certificate; RSA 4096,
 * which swtpm 0.7 (libtpms 0.9) cannot make, refused with exit 1 naming
 * what the TPM makes, leaving the key and the TPM as they were (no
 * transient object left loaded: tpm2_getcap); bad options exit 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "swtpm_fixture.h"
#include "../pki/testpki.h"

#include "lib/store.h"

#define CTL "build/svrcertctl"

struct fx {
	struct swtpm_fixture tpm;
	char dir[64];
	char out[128];		/* stderr of the last command */
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
	static const char conf[] = "[router]\nname = r1\npeering-common-name = r1\n";
	struct fx *f = calloc(1, sizeof(*f));
	char path[128];

	assert_non_null(f);
	assert_int_equal(swtpm_start(&f->tpm), 0);
	assert_int_equal(fixture_tempdir(f->dir, "keys"), 0);
	snprintf(f->out, sizeof(f->out), "%s/stderr", f->dir);
	snprintf(path, sizeof(path), "%s/svrcert.conf", f->dir);
	assert_int_equal(atomic_write_file(path, conf, strlen(conf), 0644), 0);
	setenv("SVRCERT_CONFIG", path, 1);
	setenv("SVRCERT_STATE_DIR", f->dir, 1);
	snprintf(path, sizeof(path), "%s/none.sock", f->dir);
	setenv("SVRCERT_CONTROL_SOCKET", path, 1);
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

/* svrcertctl ARGS, stderr into f->out; its exit status. */
static int ctl(struct fx *f, const char *args)
{
	return fixture_sh(CTL " %s >/dev/null 2>%s", args, f->out);
}

static void assert_said(struct fx *f, const char *needle)
{
	assert_int_equal(fixture_sh("grep -qF -- '%s' %s", needle, f->out), 0);
}

static void provision(struct fx *f, const char *keyargs, const char *sig)
{
	char args[512];

	snprintf(args, sizeof(args), "key generate --force %s", keyargs);
	assert_int_equal(ctl(f, args), 0);
	snprintf(args, sizeof(args), "csr --organization 'svrcert test' --days 30 "
		 "--san-dns r1.example.net --san-ip 192.0.2.1 --san-uri "
		 "https://r1.example.net/ --san-email ops@example.net -o %s/req.csr",
		 f->dir);
	assert_int_equal(ctl(f, args), 0);
	assert_int_equal(fixture_sh("cd %s && openssl req -in req.csr -noout "
				    "-verify 2>/dev/null", f->dir), 0);
	assert_int_equal(fixture_sh("cd %s && openssl req -in req.csr -noout "
				    "-text | grep -q 'Signature Algorithm: %s'",
				    f->dir, sig), 0);
	assert_int_equal(fixture_sh("cd %s && openssl req -in req.csr -noout "
				    "-text | grep -qF 'URI:urn:ssr:peering:r1, "
				    "DNS:r1.example.net, IP Address:192.0.2.1, "
				    "URI:https://r1.example.net/, email:ops@example.net'",
				    f->dir), 0);
	assert_int_equal(fixture_sh("tests/pki/mkpki.sh sign %s %s/req.csr "
				    "%s/router.pem 30 >/dev/null 2>&1", testpki_dir,
				    f->dir, f->dir), 0);
	assert_int_equal(fixture_sh(CTL " trusted-ca add root %s >/dev/null",
				    testpki_path("bundle.pem")), 0);
	snprintf(args, sizeof(args), "import %s/router.pem", f->dir);
	assert_int_equal(ctl(f, args), 0);
}

static void test_p384_by_cli(void **state)
{
	struct fx *f = *state;

	provision(f, "--curve P-384", "ecdsa-with-SHA384");
	assert_int_equal(fixture_sh("openssl pkey -pubin -in %s/key.pub.pem "
				    "-noout -text | grep -q 'NIST CURVE: P-384'",
				    f->dir), 0);
}

static void test_rsa3072_by_cli(void **state)
{
	struct fx *f = *state;

	provision(f, "--algorithm rsa --bits 3072", "sha256WithRSAEncryption");
	assert_int_equal(fixture_sh("openssl pkey -pubin -in %s/key.pub.pem "
				    "-noout -text | grep -q 'Public-Key: (3072 bit)'",
				    f->dir), 0);
}

static void test_rsa4096_refused_by_cli(void **state)
{
	struct fx *f = *state;
	int i;

	assert_int_equal(ctl(f, "key generate"), 0);
	assert_int_equal(fixture_sh("cp %s/key.pem %s/key.before", f->dir,
				    f->dir), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(ctl(f, "key generate --force --bits 4096"), 1);
		assert_said(f, "this TPM cannot make RSA 4096 keys");
		assert_said(f, "it makes 2048, 3072; nothing was generated");
	}
	assert_int_equal(fixture_sh("cmp -s %s/key.pem %s/key.before", f->dir,
				    f->dir), 0);
	/* Nothing left loaded in the TPM (swtpm has no resource manager). */
	assert_int_equal(fixture_sh("TPM2TOOLS_TCTI='%s' tpm2_getcap "
				    "handles-transient | grep -q .", f->tpm.tcti), 1);
	assert_int_equal(ctl(f, "csr"), 0);
	assert_int_equal(fixture_sh("test -s %s/csr.pem", f->dir), 0);
}

static void test_bad_options(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ctl(f, "key generate --bits 1024"), 2);
	assert_said(f, "RSA size 1024 bits is not offered (2048, 3072 or 4096)");
	assert_int_equal(ctl(f, "key generate --curve secp256k1"), 2);
	assert_said(f, "EC curve \"secp256k1\" is not offered");
	assert_int_equal(ctl(f, "key generate --algorithm dsa"), 2);
	assert_said(f, "key algorithm \"dsa\" is not offered");
	assert_int_equal(ctl(f, "key generate --curve P-384 --bits 2048"), 2);
	assert_said(f, "--curve is for EC keys, --bits for RSA keys");
	assert_int_equal(ctl(f, "key generate --bits 2k"), 2);
	assert_said(f, "--bits \"2k\" is not a number of bits");
	assert_int_equal(fixture_sh("test -e %s/key.pem", f->dir), 1);
	assert_int_equal(ctl(f, "key generate"), 0);
	assert_int_equal(ctl(f, "csr --san-ip 192.0.2"), 2);
	assert_said(f, "SAN ip \"192.0.2\" is not an IPv4 or IPv6 address");
	assert_int_equal(ctl(f, "csr --san-dns 'a.example,IP:10.0.0.1'"), 2);
	assert_said(f, "SAN dns \"a.example,IP:10.0.0.1\" may hold only letters");
	assert_int_equal(ctl(f, "csr --san-email ops"), 2);
	assert_int_equal(fixture_sh("test -e %s/csr.pem", f->dir), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_p384_by_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa3072_by_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa4096_refused_by_cli, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
