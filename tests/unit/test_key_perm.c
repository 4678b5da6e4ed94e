// SPDX-License-Identifier: GPL-2.0
/*
 * Private key files others can read are refused wherever a key is read
 * from a file (fileperm.h): the peer-authentication key-file
 * (storage = file) and a plain key in STATE_DIR/key.pem; the error names
 * the file and its mode. (The REST TLS key and svrcert.conf are tested in
 * test_rest_reload and test_config.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "swtpm_fixture.h"
#include "../pki/testpki.h"

#include "lib/config.h"
#include "lib/fileperm.h"
#include "lib/store.h"
#include "peer/peerauth_int.h"
#include "tpm/tpm.h"

static int group_setup(void **state)
{
	return testpki_setup();
}

static int group_teardown(void **state)
{
	testpki_teardown();
	return 0;
}

static void test_peer_key_file(void **state)
{
	struct svrcert_config cfg = { .key_storage = SVRCERT_KEY_FILE };
	char dir[64], key[128], err[512];
	EVP_PKEY *pk = NULL;

	assert_int_equal(fixture_tempdir(dir, "keyperm"), 0);
	snprintf(key, sizeof(key), "%s/peer.key", dir);
	assert_int_equal(fixture_sh("cp %s %s && chmod 0644 %s",
				    testpki_path("r1.key"), key, key), 0);
	cfg.key_file = key;
	assert_int_equal(pa_load_key(&cfg, NULL, &pk, err, sizeof(err)), -EPERM);
	assert_null(pk);
	assert_non_null(strstr(err, "peer.key: mode 0644: private key readable "
			       "by group and others; chmod go-rwx"));
	assert_int_equal(chmod(key, 0604), 0);
	assert_int_equal(pa_load_key(&cfg, NULL, &pk, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0604: private key readable by others; "
			       "chmod o-rwx"));
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(pa_load_key(&cfg, NULL, &pk, err, sizeof(err)), 0);
	EVP_PKEY_free(pk);
	/* another user's key (the tests run as root) */
	if (geteuid() == 0) {
		assert_int_equal(chown(key, 65534, (gid_t)-1), 0);
		assert_int_equal(svrcert_key_perm_check(key, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "owned by uid 65534"));
	}
	fixture_rm_rf(dir);
}

static void test_state_dir_plain_key(void **state)
{
	struct svrcert_store st;
	struct tpm_ctx t;
	EVP_PKEY *pk = NULL;
	char dir[64];

	assert_int_equal(fixture_tempdir(dir, "keyperm"), 0);
	assert_int_equal(store_open(&st, dir), 0);
	assert_int_equal(fixture_sh("cp %s %s/" STORE_KEY " && chmod 0640 %s/" STORE_KEY,
				    testpki_path("r1.key"), dir, dir), 0);
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_FILE, NULL), 0);
	assert_int_equal(tpm_key_load(&t, &st, &pk), -EPERM);
	assert_non_null(strstr(t.err, STORE_KEY ": mode 0640: private key readable by group"));
	assert_int_equal(fixture_sh("chmod 0600 %s/" STORE_KEY, dir), 0);
	assert_int_equal(tpm_key_load(&t, &st, &pk), 0);
	EVP_PKEY_free(pk);
	tpm_ctx_close(&t);
	store_close(&st);
	fixture_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_key_file),
		cmocka_unit_test(test_state_dir_plain_key),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
