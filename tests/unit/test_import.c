// SPDX-License-Identifier: GPL-2.0
/*
 * The import flow (import.c) against the OpenSSL-CLI test PKI
 * (tests/pki/mkpki.sh): every rejection with its own error and counter,
 * nothing installed changing on failure, exact audit JSON and counters,
 * and the trusted-CA bundle modes. The state directory holds r1.key as a
 * file key (the PKI's leaves are issued for it); the TPM round trip is in
 * test_import_roundtrip.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "swtpm_fixture.h"
#include "../pki/testpki.h"

#include "lib/audit.h"
#include "lib/counters.h"
#include "crl/crl_master.h"
#include "pki/import.h"
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

static void install_file_key(struct fx *f, const char *keyname)
{
	assert_int_equal(fixture_sh("cp %s %s/" STORE_KEY " && openssl pkey -in %s "
				    "-pubout -out %s/" STORE_PUBKEY,
				    testpki_path(keyname), f->dir,
				    testpki_path(keyname), f->dir), 0);
}

static int setup(void **state)
{
	struct svrcert_problems p;
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	assert_int_equal(fixture_tempdir(f->dir, "import"), 0);
	assert_int_equal(store_open(&f->st, f->dir), 0);
	install_file_key(f, "r1.key");
	svrcert_problems_init(&p);
	assert_int_equal(trust_ca_add(&f->st, "test-root", testpki_path("bundle.pem"),
				      SVRCERT_MODE_STRICT, time(NULL), &p, err,
				      sizeof(err)), 0);
	svrcert_problems_free(&p);
	/* Held CRL of the intermediate, revoking bad-revoked.pem. */
	assert_int_equal(fixture_sh("mkdir %s/crl && cp %s %s/crl/int.crl.pem",
				    f->dir, testpki_path("int.crl.pem"), f->dir), 0);
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

static int import_file(struct fx *f, const char *name, struct import_result *res)
{
	uint8_t *buf;
	size_t len;
	int ret;

	buf = testpki_read(name, &len);
	ret = import_certificate(&f->ip, buf, len, res);
	free(buf);
	return ret;
}

/* RFC 7468 5.3: the legacy "X509 CERTIFICATE" label is accepted, for the
 * certificate and a chain, and stored as "CERTIFICATE". */
static void test_import_legacy_pem_label(void **state)
{
	struct fx *f = *state;
	struct import_result res;
	char cmd[2 * PATH_MAX + 128], *pem;

	snprintf(cmd, sizeof(cmd), "sed 's/ CERTIFICATE-----/ X509 CERTIFICATE-----/' %s > %s/legacy.pem",
		 testpki_path("r1-chain.pem"), testpki_dir);
	assert_int_equal(testpki_run(cmd), 0);
	if (import_file(f, "legacy.pem", &res))
		fail_msg("legacy label refused: %s", res.message);
	assert_string_equal(res.common_name, "r1");
	assert_int_equal(store_read(&f->st, STORE_CERT, &pem, NULL), 0);
	assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
	assert_null(strstr(pem, "X509 CERTIFICATE"));
	free(pem);
}

static json_t *last_audit(struct fx *f)
{
	char *text = NULL, *last;
	json_t *ev;

	assert_int_equal(store_read(&f->st, STORE_AUDIT_LOG, &text, NULL), 0);
	text[strlen(text) - 1] = '\0';
	last = strrchr(text, '\n');
	ev = json_loads(last ? last + 1 : text, 0, NULL);
	free(text);
	assert_non_null(ev);
	return ev;
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

static void test_import_good_exact_audit(void **state)
{
	struct fx *f = *state;
	struct import_result res;
	char sha1[128], want[2048], *pem;
	json_t *ev, *w;

	assert_int_equal(import_file(f, "r1.pem", &res), 0);
	assert_int_equal(res.step, 0);
	assert_string_equal(res.common_name, "r1");
	snprintf(want, sizeof(want), "openssl x509 -noout -fingerprint -sha1 -in %s "
		 "| cut -d= -f2", testpki_path("r1.pem"));
	assert_int_equal(testpki_shell(want, sha1, sizeof(sha1)), 0);
	assert_string_equal(res.sha1, sha1);
	assert_int_equal(store_read(&f->st, STORE_CERT, &pem, NULL), 0);
	assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
	free(pem);
	ev = last_audit(f);
	assert_string_equal(json_string_value(json_object_get(ev, "type")),
			    "system.ingest_certificate");
	assert_string_equal(json_string_value(json_object_get(ev, "description")),
			    "Ingested certificate: r1");
	assert_true(json_is_true(json_object_get(ev, "permitted")));
	snprintf(want, sizeof(want),
		 "{\"purpose\": \"TLS Web Client Authentication, TLS Web Server "
		 "Authentication\", \"common_name\": \"r1\", \"crl_urls\": "
		 "[\"http://127.0.0.1:8080/int.crl\"], \"certificate_authority\": "
		 "\"/O=svrcert test/CN=svrcert Test Intermediate CA\", "
		 "\"fingerprint\": \"%s\", \"sha256_fingerprint\": \"%s\"}",
		 sha1, res.sha256);
	w = json_loads(want, 0, NULL);
	assert_non_null(w);
	if (!json_equal(w, json_object_get(ev, "detail"))) {
		char *got = json_dumps(json_object_get(ev, "detail"), 0);

		fail_msg("audit detail %s", got);
	}
	json_decref(w);
	json_decref(ev);
	assert_int_equal(counter(f, "certificate-import.success"), 1);
	assert_int_equal(counter(f, "certificate-import.failure"), 0);
}

struct rejection {
	const char *file;
	int ret;
	int step;
	enum svrcert_problem problem;	/* must be among the errors */
	const char *words;		/* in the message */
};

static const struct rejection rejections[] = {
	{ "bad-withkey.pem", -EPERM, 1, SVRCERT_P_PRIVATE_KEY, "private key" },
	{ "bad-withkey-enc.pem", -EPERM, 1, SVRCERT_P_PRIVATE_KEY, "private key" },
	{ "bad-sha1.pem", -EKEYREJECTED, 2, SVRCERT_P_SIG_ALG, "SHA1" },
	{ "bad-rsa1024.pem", -EKEYREJECTED, 2, SVRCERT_P_RSA_SIZE, "1024" },
	{ "bad-secp256k1.pem", -EKEYREJECTED, 2, SVRCERT_P_EC_CURVE, "secp256k1" },
	{ "bad-noncrit.pem", -EKEYREJECTED, 2, SVRCERT_P_CA_NOT_CRITICAL, "critical" },
	{ "bad-noeku.pem", -EKEYREJECTED, 2, SVRCERT_P_EKU_MISSING, "extended key usage" },
	{ "bad-ekupurpose.pem", -EKEYREJECTED, 2, SVRCERT_P_EKU_PURPOSE, "clientAuth" },
	{ "bad-leafca.pem", -EKEYREJECTED, 2, SVRCERT_P_LEAF_IS_CA, "CA" },
	{ "bad-expired.pem", -EKEYREJECTED, 2, SVRCERT_P_EXPIRED, "expired" },
	{ "bad-notyet.pem", -EKEYREJECTED, 2, SVRCERT_P_NOT_YET_VALID, "not valid before" },
	{ "bad-identity.pem", -EKEYREJECTED, 2, SVRCERT_P_IDENTITY, "wrong-router" },
	{ "bad-keymismatch.pem", -EKEYREJECTED, 2, SVRCERT_P_KEY_MISMATCH, "key" },
	{ "bad-untrusted.pem", -EKEYREJECTED, 2, SVRCERT_P_UNTRUSTED, "trusted" },
	{ "bad-revoked.pem", -EKEYREVOKED, 3, SVRCERT_P_REVOKED, "revoked" },
	{ "int.crl.pem", -EBADMSG, 2, SVRCERT_P_PARSE, "" },
};

static void test_each_rejection_own_error_counter(void **state)
{
	struct fx *f = *state;
	struct import_result res;
	char *before, *after, key[160];
	size_t i, n = sizeof(rejections) / sizeof(rejections[0]);

	assert_int_equal(import_file(f, "r1.pem", &res), 0);
	assert_int_equal(store_read(&f->st, STORE_CERT, &before, NULL), 0);
	for (i = 0; i < n; i++) {
		const struct rejection *r = &rejections[i];
		uint64_t total = counter(f, "certificate-import.failure");
		json_t *ev;
		int ret = import_file(f, r->file, &res);

		if (ret != r->ret || res.step != r->step ||
		    !(res.problems & (1ull << r->problem)) ||
		    !strcasestr(res.message, r->words))
			fail_msg("%s: ret %d step %d first %s mask %#llx: %s",
				 r->file, ret, res.step,
				 svrcert_problem_name(res.problem),
				 (unsigned long long)res.problems, res.message);
		/* Its own counter: the total and the first error's reason. */
		assert_int_equal(counter(f, "certificate-import.failure"), total + 1);
		snprintf(key, sizeof(key), "certificate-import.failure.%s",
			 svrcert_problem_name(res.problem));
		assert_true(counter(f, key) >= 1);
		ev = last_audit(f);
		assert_true(json_is_false(json_object_get(ev, "permitted")));
		assert_string_equal(json_string_value(json_object_get(
			json_object_get(ev, "detail"), "error")), res.message);
		json_decref(ev);
		/* Nothing installed changed. */
		assert_int_equal(store_read(&f->st, STORE_CERT, &after, NULL), 0);
		assert_string_equal(before, after);
		free(after);
	}
	free(before);
	assert_int_equal(counter(f, "certificate-import.failure"), n);
	assert_int_equal(counter(f, "certificate-import.success"), 1);
	assert_int_equal(counter(f, "certificate-import.failure.private-key"), 2);
	assert_int_equal(counter(f, "certificate-import.failure.revoked"), 1);
}

static void test_import_without_trusted_ca(void **state)
{
	struct fx *f = *state;
	struct import_result res;

	assert_int_equal(trust_ca_del(&f->st, "test-root"), 0);
	assert_int_equal(import_file(f, "r1.pem", &res), -ENOENT);
	assert_non_null(strstr(res.message, "no trusted CA"));
	assert_false(store_exists(&f->st, STORE_CERT));
	assert_int_equal(counter(f, "certificate-import.failure.setup"), 1);
}

static void test_import_chain_and_identity_override(void **state)
{
	struct fx *f = *state;
	struct import_result res;
	char *pem;

	/* Leaf + intermediate in one file: both are stored, leaf first. */
	assert_int_equal(import_file(f, "r1-chain.pem", &res), 0);
	assert_int_equal(store_read(&f->st, STORE_CERT, &pem, NULL), 0);
	assert_non_null(strstr(strstr(pem, "END CERTIFICATE") + 1, "BEGIN CERTIFICATE"));
	free(pem);
	/* The same file for another identity is refused. */
	f->ip.expected_name = "r2";
	assert_int_equal(import_file(f, "r1.pem", &res), -EKEYREJECTED);
	assert_int_equal(res.problem, SVRCERT_P_IDENTITY);
}

static void test_master_list_revokes(void **state)
{
	struct fx *f = *state;
	struct import_result res;
	struct svrcert_master m;
	svrcert_revkey_t key;
	char path[4200];
	X509 *r1 = testpki_cert("r1.pem");

	/* The CRL manager's master list holds r1 (e.g. learned at runtime). */
	assert_int_equal(svrcert_revkey_from_cert(r1, key), 0);
	X509_free(r1);
	assert_int_equal(svrcert_master_build(NULL, 0, &key, 1, time(NULL), &m), 0);
	store_path(&f->st, SVRCERT_MASTER_FILE, path, sizeof(path));
	assert_int_equal(svrcert_master_write(path, &m), 0);
	svrcert_master_release(&m);
	assert_int_equal(import_file(f, "r1.pem", &res), -EKEYREVOKED);
	assert_int_equal(res.step, 3);
	assert_int_equal(res.problem, SVRCERT_P_REVOKED);
	/* A damaged master list stops the import instead of un-revoking. */
	assert_int_equal(fixture_sh("truncate -s 70 %s", path), 0);
	assert_true(import_file(f, "r1.pem", &res) < 0);
	assert_non_null(strstr(res.message, "master revocation list"));
	assert_false(store_exists(&f->st, STORE_CERT));
}

/*
 * A publish killed mid-write leaves crl/<name>.crl.tmp.XXXXXX, possibly
 * truncated: readers must never take it for a held CRL (it would make the
 * own certificate "invalid" and every import fail), and the start-up
 * cleanup removes it while keeping the held CRLs.
 */
static void test_half_written_crl_ignored(void **state)
{
	struct fx *f = *state;
	struct own_cert_status s;
	struct import_result res;
	char tmp[4300];

	assert_int_equal(import_file(f, "r1.pem", &res), 0);
	assert_int_equal(fixture_sh("head -c 100 %s > %s/crl/0123456789abcdef0123456789abcdef"
				    ".crl.tmp.Ab3dEf", testpki_path("int.crl.der"),
				    f->dir), 0);
	snprintf(tmp, sizeof(tmp), "%s/crl/0123456789abcdef0123456789abcdef"
		 ".crl.tmp.Ab3dEf", f->dir);
	assert_int_equal(own_cert_evaluate(&f->ip, &s), 0);
	assert_int_equal(s.state, SVRCERT_STATE_VALID);
	assert_int_equal(import_file(f, "r1.pem", &res), 0);
	/* The held CRL next to it still applies. */
	assert_int_equal(import_file(f, "bad-revoked.pem", &res), -EKEYREVOKED);
	assert_int_equal(svrcert_master_cleanup(f->dir), 1);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_true(store_exists(&f->st, "crl/int.crl.pem"));
	assert_int_equal(import_file(f, "bad-revoked.pem", &res), -EKEYREVOKED);
}

/* Step 3 with no CRL held proves nothing: the import succeeds, with a
 * warning in its result and its audit event (a killed publish's temp file
 * is no CRL); with a CRL held (every other case here) there is none. */
static void test_import_no_crl_warns(void **state)
{
	struct fx *f = *state;
	struct import_result res;
	json_t *ev;

	assert_int_equal(fixture_sh("rm %s/crl/int.crl.pem && head -c 100 %s > "
				    "%s/crl/0123456789abcdef0123456789abcdef"
				    ".crl.tmp.Ab3dEf", f->dir,
				    testpki_path("int.crl.der"), f->dir), 0);
	assert_int_equal(import_file(f, "r1.pem", &res), 0);
	assert_non_null(strstr(res.warning, "step 3 (not revoked): no CRL is "
			       "held"));
	ev = last_audit(f);
	assert_true(json_is_true(json_object_get(ev, "permitted")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		ev, "detail"), "warning")), res.warning);
	json_decref(ev);
	assert_int_equal(fixture_sh("cp %s %s/crl/int.crl.pem",
				    testpki_path("int.crl.pem"), f->dir), 0);
	assert_int_equal(import_file(f, "r1.pem", &res), 0);
	assert_string_equal(res.warning, "");
	ev = last_audit(f);
	assert_null(json_object_get(json_object_get(ev, "detail"), "warning"));
	json_decref(ev);
}

static void test_trusted_ca_modes(void **state)
{
	struct fx *f = *state;
	struct svrcert_problems p;
	char err[256];
	json_t *list;

	svrcert_problems_init(&p);
	assert_int_equal(trust_ca_add(&f->st, "noncrit", testpki_path("bundle-noncrit.pem"),
				      SVRCERT_MODE_STRICT, time(NULL), &p, err,
				      sizeof(err)), -EINVAL);
	assert_true(svrcert_problems_has(&p, SVRCERT_P_CA_NOT_CRITICAL));
	assert_false(store_exists(&f->st, "trusted-ca/noncrit.pem"));
	svrcert_problems_free(&p);

	svrcert_problems_init(&p);
	assert_int_equal(trust_ca_add(&f->st, "noncrit", testpki_path("bundle-noncrit.pem"),
				      SVRCERT_MODE_WARN, time(NULL), &p, err,
				      sizeof(err)), 0);
	assert_true(p.n >= 1 && p.v[0].warning);
	svrcert_problems_free(&p);
	assert_true(store_exists(&f->st, "trusted-ca/noncrit.pem"));
	assert_int_equal(trust_ca_list(&f->st, NULL, &list), 0);
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);
	/* warn only governs the bundle: the import still enforces the rule. */
	{
		struct import_result res;

		assert_int_equal(import_file(f, "bad-noncrit.pem", &res), -EKEYREJECTED);
		assert_true(res.problems & (1ull << SVRCERT_P_CA_NOT_CRITICAL));
	}
	assert_int_equal(trust_ca_add(&f->st, "../x", testpki_path("bundle.pem"),
				      SVRCERT_MODE_STRICT, time(NULL), &p, err,
				      sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_good_exact_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_legacy_pem_label, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_rejection_own_error_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_without_trusted_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_chain_and_identity_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_master_list_revokes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trusted_ca_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_written_crl_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_no_crl_warns, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
