// SPDX-License-Identifier: GPL-2.0
/*
 * Certificate rules against a real OpenSSL-made PKI (tests/pki/mkpki.sh):
 * every rejection has its own code and message, the seed's step order
 * holds, strict and warn differ only for trusted CA bundles, identity by
 * CN and by SAN URI, revocation from the CRL the CA wrote.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "pki/validate.h"
#include "../pki/testpki.h"

static X509_STORE *store;
static EVP_PKEY *r1_key;
static struct svrcert_keyset crl_keys;

static int group_setup(void **state)
{
	STACK_OF(X509) *certs = NULL;
	struct svrcert_problems p;
	X509_CRL *crl;
	uint8_t *buf;
	size_t len;
	FILE *f;

	if (testpki_setup())
		return -1;
	svrcert_problems_init(&p);
	buf = testpki_read("bundle.pem", &len);
	if (svrcert_bundle_check(buf, len, SVRCERT_MODE_STRICT, 0, &certs, &p))
		return -1;
	free(buf);
	store = svrcert_store_new();
	if (!store || svrcert_store_add_certs(store, certs))
		return -1;
	sk_X509_pop_free(certs, X509_free);
	r1_key = testpki_key("r1.key");
	svrcert_keyset_init(&crl_keys);
	f = fopen(testpki_path("int.crl.der"), "rb");
	crl = f ? d2i_X509_CRL_fp(f, NULL) : NULL;
	if (f)
		fclose(f);
	if (!crl || svrcert_keyset_add_crl(&crl_keys, crl))
		return -1;
	X509_CRL_free(crl);
	return 0;
}

static int group_teardown(void **state)
{
	X509_STORE_free(store);
	EVP_PKEY_free(r1_key);
	svrcert_keyset_free(&crl_keys);
	testpki_teardown();
	return 0;
}

/* Import FILE as router r1 (r1.key) against bundle.pem and the CRL. */
static int import_file(const char *file, const char *name, EVP_PKEY *key,
		       time_t now, struct svrcert_problems *p,
		       struct svrcert_validated *v)
{
	struct svrcert_validate_params vp = {
		.store = store, .now = now, .expected_name = name,
		.expected_key = key, .revoked_keys = &crl_keys,
	};
	size_t len;
	uint8_t *buf = testpki_read(file, &len);
	int ret;

	svrcert_problems_init(p);
	ret = svrcert_validate_import(buf, len, &vp, v, p);
	free(buf);
	return ret;
}

static void print_problems(const struct svrcert_problems *p)
{
	for (size_t i = 0; i < p->n; i++)
		print_message("  %s %s: %s\n", p->v[i].warning ? "warning" : "error",
			      svrcert_problem_name(p->v[i].code), p->v[i].msg);
}

static void expect_valid(const char *file, const char *name, EVP_PKEY *key)
{
	struct svrcert_problems p;
	struct svrcert_validated v;
	int ret = import_file(file, name, key, 0, &p, &v);

	if (ret)
		print_problems(&p);
	assert_int_equal(ret, 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(v.state, SVRCERT_STATE_VALID);
	assert_non_null(v.leaf);
	assert_non_null(v.chain);
	assert_true(sk_X509_num(v.chain) >= 3);	/* leaf, CA, root */
	svrcert_validated_free(&v);
	svrcert_problems_free(&p);
}

static void test_good_leaves(void **state)
{
	expect_valid("r1.pem", "r1", r1_key);
	expect_valid("r1-chain.pem", "r1", r1_key);
	expect_valid("r2.pem", "r2", NULL);
	expect_valid("r1-rsa.pem", "r1", NULL);
	/* RSA-PSS signature by an RSA intermediate carried in the file. */
	expect_valid("r1-pss-chain.pem", "r1", NULL);
}

static void test_identity_by_san_uri(void **state)
{
	struct svrcert_problems p;
	struct svrcert_validated v;

	expect_valid("r1-san.pem", "r1", NULL);
	expect_valid("r3-san.pem", "r3", NULL);
	/* r1's SAN URI does not make it r2; a prefix is not a match. */
	assert_int_equal(import_file("r1-san.pem", "r2", NULL, 0, &p, &v), -EKEYREJECTED);
	assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_IDENTITY);
	svrcert_validated_free(&v);
	svrcert_problems_free(&p);
	assert_int_equal(import_file("r1.pem", "r", NULL, 0, &p, &v), -EKEYREJECTED);
	assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_IDENTITY);
	svrcert_validated_free(&v);
	svrcert_problems_free(&p);
}

struct rejection {
	const char *file;
	int ret;
	enum svrcert_problem code;
	enum svrcert_cert_state state;
	const char *needle;	/* must appear in the first message */
	bool own_key;		/* not on r1.key: key match not asked */
};

static const struct rejection rejections[] = {
	{ "bad-withkey.pem", -EPERM, SVRCERT_P_PRIVATE_KEY, SVRCERT_STATE_INVALID,
	  "PEM block \"PRIVATE KEY\"", false },
	{ "bad-withkey-enc.pem", -EPERM, SVRCERT_P_PRIVATE_KEY, SVRCERT_STATE_INVALID,
	  "PEM block \"ENCRYPTED PRIVATE KEY\"", false },
	{ "bad-sha1.pem", -EKEYREJECTED, SVRCERT_P_SIG_ALG, SVRCERT_STATE_INVALID,
	  "signature algorithm ecdsa-with-SHA1 is not allowed", false },
	{ "bad-rsa1024.pem", -EKEYREJECTED, SVRCERT_P_RSA_SIZE, SVRCERT_STATE_INVALID,
	  "RSA key of 1024 bits is too small", true },
	{ "bad-secp256k1.pem", -EKEYREJECTED, SVRCERT_P_EC_CURVE, SVRCERT_STATE_INVALID,
	  "EC curve secp256k1 is not allowed", true },
	{ "bad-noncrit.pem", -EKEYREJECTED, SVRCERT_P_CA_NOT_CRITICAL, SVRCERT_STATE_INVALID,
	  "\"O=svrcert test, CN=svrcert Test Non-critical CA\": basicConstraints CA:TRUE is not marked critical", false },
	{ "bad-noeku.pem", -EKEYREJECTED, SVRCERT_P_EKU_MISSING, SVRCERT_STATE_INVALID,
	  "has no extended key usage", false },
	{ "bad-ekupurpose.pem", -EKEYREJECTED, SVRCERT_P_EKU_PURPOSE, SVRCERT_STATE_INVALID,
	  "neither clientAuth nor serverAuth", false },
	{ "bad-leafca.pem", -EKEYREJECTED, SVRCERT_P_LEAF_IS_CA, SVRCERT_STATE_INVALID,
	  "is a CA", false },
	{ "bad-expired.pem", -EKEYREJECTED, SVRCERT_P_EXPIRED, SVRCERT_STATE_EXPIRED,
	  "expired at 20", false },
	{ "bad-notyet.pem", -EKEYREJECTED, SVRCERT_P_NOT_YET_VALID,
	  SVRCERT_STATE_NOT_YET_VALID, "not valid before 20", false },
	{ "bad-identity.pem", -EKEYREJECTED, SVRCERT_P_IDENTITY, SVRCERT_STATE_INVALID,
	  "\"O=svrcert test, CN=wrong-router\": identity does not match \"r1\"", false },
	{ "bad-keymismatch.pem", -EKEYREJECTED, SVRCERT_P_KEY_MISMATCH,
	  SVRCERT_STATE_INVALID, "public key is not this router's key", false },
	{ "bad-untrusted.pem", -EKEYREJECTED, SVRCERT_P_UNTRUSTED, SVRCERT_STATE_INVALID,
	  "chain does not verify to a trusted CA: unable to get local issuer certificate", false },
	{ "bad-revoked.pem", -EKEYREVOKED, SVRCERT_P_REVOKED, SVRCERT_STATE_REVOKED,
	  "revoked (serial ", false },
	{ "int.crl.pem", -EBADMSG, SVRCERT_P_PARSE, SVRCERT_STATE_INVALID,
	  "PEM block 1 is \"X509 CRL\", not a CERTIFICATE", false },
	{ "ca.cnf", -EBADMSG, SVRCERT_P_PARSE, SVRCERT_STATE_INVALID,
	  "no certificate found", false },
};

static void test_each_rejection(void **state)
{
	enum svrcert_problem seen[SVRCERT_ARRAY_SIZE(rejections)];

	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(rejections); i++) {
		const struct rejection *r = &rejections[i];
		struct svrcert_problems p;
		struct svrcert_validated v;
		int ret = import_file(r->file, "r1", r->own_key ? NULL : r1_key, 0,
				      &p, &v);

		print_message("%s -> %s: %s\n", r->file,
			      svrcert_problem_name(svrcert_problems_first(&p)),
			      p.n ? p.v[0].msg : "(none)");
		assert_int_equal(ret, r->ret);
		assert_int_equal(svrcert_problems_first(&p), r->code);
		/* Exactly one rule broken per fixture, so one message. */
		assert_int_equal(p.n_errors, 1);
		assert_non_null(strstr(p.v[0].msg, r->needle));
		assert_int_equal(v.state, r->state);
		seen[i] = r->code;
		svrcert_validated_free(&v);
		svrcert_problems_free(&p);
	}
	/* Every certificate rejection of the issue has its own code. */
	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(rejections); i++)
		for (size_t j = i + 1; j < SVRCERT_ARRAY_SIZE(rejections); j++)
			if (seen[i] != SVRCERT_P_PRIVATE_KEY && seen[i] != SVRCERT_P_PARSE)
				assert_int_not_equal(seen[i], seen[j]);
}

/* The seed's order: a private key stops everything; revocation is only
 * looked at for a certificate that passed validation. */
static void test_step_order(void **state)
{
	struct svrcert_problems p;
	struct svrcert_validated v;
	time_t far = time(NULL) + 20 * 365 * 86400L;

	assert_int_equal(import_file("bad-withkey.pem", "wrong", NULL, far, &p, &v), -EPERM);
	assert_int_equal(p.n, 1);
	svrcert_validated_free(&v);
	svrcert_problems_free(&p);

	assert_int_equal(import_file("bad-revoked.pem", "r1", NULL, far, &p, &v), -EKEYREJECTED);
	assert_false(svrcert_problems_has(&p, SVRCERT_P_REVOKED));
	assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_EXPIRED);
	svrcert_validated_free(&v);
	svrcert_problems_free(&p);
}

/* A leaf breaking several rules gets every problem listed. */
static void test_all_problems_listed(void **state)
{
	struct svrcert_problems p;
	struct svrcert_validated v;

	assert_int_equal(import_file("bad-rsa1024.pem", "r2", r1_key, 0, &p, &v),
			 -EKEYREJECTED);
	print_problems(&p);
	assert_true(svrcert_problems_has(&p, SVRCERT_P_RSA_SIZE));
	assert_true(svrcert_problems_has(&p, SVRCERT_P_IDENTITY));
	assert_true(svrcert_problems_has(&p, SVRCERT_P_KEY_MISMATCH));
	assert_int_equal(p.n_errors, 3);
	svrcert_validated_free(&v);
	svrcert_problems_free(&p);
}

static bool revoked_by_fp(const uint8_t rk[32], const uint8_t fp[32], void *ctx)
{
	return !memcmp(fp, ctx, 32);
}

static bool revoked_by_revkey(const uint8_t rk[32], const uint8_t fp[32], void *ctx)
{
	return !memcmp(rk, ctx, 32);
}

/* A revoked intermediate takes its leaves with it. */
static void test_revoked_intermediate(void **state)
{
	X509 *r1 = testpki_cert("r1.pem"), *in = testpki_cert("int.pem");
	uint8_t rk[32];
	struct svrcert_validate_params vp = {
		.store = store, .revoked = revoked_by_revkey, .revoked_ctx = rk,
	};
	struct svrcert_problems p;

	assert_int_equal(svrcert_revkey_from_cert(in, rk), 0);
	svrcert_problems_init(&p);
	assert_int_equal(svrcert_validate_cert(r1, NULL, &vp, NULL, &p), -EKEYREVOKED);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].code, SVRCERT_P_REVOKED);
	assert_int_equal(p.v[0].depth, 1);
	assert_non_null(strstr(p.v[0].msg, "CN=svrcert Test Intermediate CA\": revoked"));
	svrcert_problems_free(&p);
	X509_free(r1);
	X509_free(in);
}

static void test_revocation_callback_and_fingerprint(void **state)
{
	X509 *r2 = testpki_cert("r2.pem");
	uint8_t fp[32];
	struct svrcert_validate_params vp = {
		.store = store, .expected_name = "r2", .revoked = revoked_by_fp,
		.revoked_ctx = fp,
	};
	struct svrcert_problems p;
	struct svrcert_validated v;

	assert_int_equal(svrcert_fingerprint_sha256(r2, fp), 0);
	svrcert_problems_init(&p);
	assert_int_equal(svrcert_validate_cert(r2, NULL, &vp, &v, &p), -EKEYREVOKED);
	assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_REVOKED);
	assert_memory_equal(v.fingerprint, fp, 32);
	svrcert_validated_free(&v);
	svrcert_problems_free(&p);
	fp[0] ^= 1;
	svrcert_problems_init(&p);
	assert_int_equal(svrcert_validate_cert(r2, NULL, &vp, NULL, &p), 0);
	svrcert_problems_free(&p);
	X509_free(r2);
}

/* Step 1 also sees keys in DER and under a harmless PEM label. */
static void test_private_key_forms(void **state)
{
	static const char *const cmds[] = {
		"openssl pkcs8 -topk8 -nocrypt -in r1.key -outform DER",
		"openssl ec -in r1.key -outform DER 2>/dev/null",
		"openssl rsa -in r1-rsa.key -traditional -outform DER 2>/dev/null",
		"openssl pkcs12 -export -passout pass:x -nokeys -in r1.pem",
		"openssl pkcs8 -topk8 -nocrypt -in r1.key -outform DER | "
		"base64 | sed '1i -----BEGIN CERTIFICATE-----' | "
		"sed '$a -----END CERTIFICATE-----'",
		"openssl pkey -in r1.key",
		"cat r1.pem; printf -- '-----BEGIN TSS2 PRIVATE KEY-----\\nAAAA\\n"
		"-----END TSS2 PRIVATE KEY-----\\n'",
		/* a DER key appended to a PEM or to a DER certificate */
		"cat r1.pem; openssl pkcs8 -topk8 -nocrypt -in r1.key -outform DER",
		"cat r1.pem; openssl ec -in r1.key -outform DER 2>/dev/null; echo",
		"openssl x509 -in r1.pem -outform DER; openssl pkcs8 -topk8 -nocrypt -in r1.key -outform DER",
		/* every container der_is_private_key picks by its first
		 * elements' tags: encrypted PKCS#8, PKCS#12 with the key,
		 * DSA; whole and appended */
		"openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:x -in r1.key -outform DER",
		"openssl pkcs12 -export -passout pass:x -in r1.pem -inkey r1.key",
		"openssl dsaparam 1024 2>/dev/null | openssl gendsa /dev/stdin 2>/dev/null | "
		"openssl dsa -outform DER 2>/dev/null",
		"openssl x509 -in r1.pem -outform DER; openssl pkcs8 -topk8 -v2 aes-256-cbc "
		"-passout pass:x -in r1.key -outform DER",
		"cat r1.pem; openssl rsa -in r1-rsa.key -traditional -outform DER 2>/dev/null",
		/* an EC key whose SEQUENCE tag says primitive (0x10):
		 * OpenSSL's SEQUENCE OF decoder takes it all the same */
		"openssl ec -in r1.key -outform DER 2>/dev/null | "
		"{ printf '\\020'; tail -c +2; }",
		/* BER: PKCS#8 with an indefinite outer length (30 80 ... 00 00),
		 * whose end the shape check before the decoders cannot see:
		 * whole, and appended to a DER certificate (there the EC key
		 * inside it is what is found) */
		"openssl pkcs8 -topk8 -nocrypt -in r1.key -outform DER | "
		"{ printf '\\060\\200'; tail -c +4; printf '\\000\\000'; }",
		"openssl x509 -in r1.pem -outform DER; "
		"openssl pkcs8 -topk8 -nocrypt -in r1.key -outform DER | "
		"{ printf '\\060\\200'; tail -c +4; printf '\\000\\000'; }",
	};

	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(cmds); i++) {
		char cmd[PATH_MAX + 512];
		struct svrcert_problems p;
		uint8_t buf[8192];
		size_t len;
		FILE *f;

		snprintf(cmd, sizeof(cmd), "cd '%s' && %s", testpki_dir, cmds[i]);
		f = popen(cmd, "r");
		assert_non_null(f);
		len = fread(buf, 1, sizeof(buf), f);
		assert_int_equal(pclose(f), 0);
		assert_true(len > 0);
		svrcert_problems_init(&p);
		print_message("form %zu\n", i);
		assert_false(svrcert_check_no_private_key(buf, len, &p));
		assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_PRIVATE_KEY);
		svrcert_problems_free(&p);
	}
}

static int bundle(const char *file, enum svrcert_validation_mode mode,
		  struct svrcert_problems *p)
{
	STACK_OF(X509) *certs = NULL;
	size_t len;
	uint8_t *buf = testpki_read(file, &len);
	int ret;

	svrcert_problems_init(p);
	ret = svrcert_bundle_check(buf, len, mode, 0, &certs, p);
	free(buf);
	if (!ret)
		assert_true(sk_X509_num(certs) > 0);
	sk_X509_pop_free(certs, X509_free);
	return ret;
}

static void test_bundle_strict_and_warn(void **state)
{
	struct svrcert_problems p;

	assert_int_equal(bundle("bundle.pem", SVRCERT_MODE_STRICT, &p), 0);
	assert_int_equal(p.n, 0);
	svrcert_problems_free(&p);

	assert_int_equal(bundle("bundle-noncrit.pem", SVRCERT_MODE_STRICT, &p), -EINVAL);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].code, SVRCERT_P_CA_NOT_CRITICAL);
	assert_false(p.v[0].warning);
	svrcert_problems_free(&p);

	assert_int_equal(bundle("bundle-noncrit.pem", SVRCERT_MODE_WARN, &p), 0);
	assert_int_equal(p.n, 1);
	assert_true(p.v[0].warning);
	assert_int_equal(p.n_errors, 0);
	svrcert_problems_free(&p);

	assert_int_equal(bundle("bundle-expired.pem", SVRCERT_MODE_STRICT, &p), -EINVAL);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].code, SVRCERT_P_EXPIRED);
	assert_int_equal(p.v[0].depth, 0);
	assert_non_null(strstr(p.v[0].msg, "\"O=svrcert test, CN=svrcert Test Expired CA\": expired at"));
	svrcert_problems_free(&p);
	assert_int_equal(bundle("bundle-expired.pem", SVRCERT_MODE_WARN, &p), 0);
	assert_int_equal(p.n, 1);
	assert_true(p.v[0].warning);
	svrcert_problems_free(&p);

	/* Private keys are never accepted, not even in warn mode. */
	assert_int_equal(bundle("bad-withkey.pem", SVRCERT_MODE_WARN, &p), -EINVAL);
	assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_PRIVATE_KEY);
	svrcert_problems_free(&p);
}

/* Strict lists EVERY problem of a bad bundle, in both modes. */
static void test_bundle_lists_every_problem(void **state)
{
	struct svrcert_problems p;
	char cmd[PATH_MAX * 3];

	/* leaf (not a CA, P-256 ok), SHA-1 leaf, then a root that signed
	 * neither: CA_FALSE x2, SIG_ALG, EKU fine, BUNDLE_ORDER x2. */
	snprintf(cmd, sizeof(cmd), "cd %s && cat r1.pem bad-sha1.pem other-root.pem > bundle-bad.pem",
		 testpki_dir);
	assert_int_equal(testpki_run(cmd), 0);
	assert_int_equal(bundle("bundle-bad.pem", SVRCERT_MODE_STRICT, &p), -EINVAL);
	print_problems(&p);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.n_errors, 5);
	assert_int_equal(p.v[0].code, SVRCERT_P_CA_FALSE);
	assert_int_equal(p.v[1].code, SVRCERT_P_SIG_ALG);
	assert_int_equal(p.v[2].code, SVRCERT_P_CA_FALSE);
	assert_int_equal(p.v[3].code, SVRCERT_P_BUNDLE_ORDER);
	assert_int_equal(p.v[4].code, SVRCERT_P_BUNDLE_ORDER);
	svrcert_problems_free(&p);
	assert_int_equal(bundle("bundle-bad.pem", SVRCERT_MODE_WARN, &p), 0);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.n_errors, 0);
	svrcert_problems_free(&p);

	/* Root first: out of order. */
	snprintf(cmd, sizeof(cmd), "cd %s && cat root.pem int.pem > bundle-rev.pem", testpki_dir);
	assert_int_equal(testpki_run(cmd), 0);
	assert_int_equal(bundle("bundle-rev.pem", SVRCERT_MODE_STRICT, &p), -EINVAL);
	assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_BUNDLE_ORDER);
	svrcert_problems_free(&p);
}

/* Runtime is always strict: a CA installed in warn mode still rejects the
 * leaves under it. */
static void test_runtime_strict_after_warn_bundle(void **state)
{
	X509_STORE *warn_store = svrcert_store_new();
	struct svrcert_problems p;
	STACK_OF(X509) *certs = NULL;
	size_t len;
	uint8_t *buf = testpki_read("bundle-noncrit.pem", &len);
	struct svrcert_validate_params vp = { .store = warn_store, .expected_name = "r1" };

	svrcert_problems_init(&p);
	assert_int_equal(svrcert_bundle_check(buf, len, SVRCERT_MODE_WARN, 0, &certs, &p), 0);
	assert_int_equal(svrcert_store_add_certs(warn_store, certs), 0);
	svrcert_problems_free(&p);
	free(buf);
	buf = testpki_read("bad-noncrit.pem", &len);
	assert_int_equal(svrcert_validate_import(buf, len, &vp, NULL, &p), -EKEYREJECTED);
	assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_CA_NOT_CRITICAL);
	svrcert_problems_free(&p);
	free(buf);
	sk_X509_pop_free(certs, X509_free);
	X509_STORE_free(warn_store);
}

/* RFC 5480: named curves only. An explicit-parameter P-256 key is named
 * "prime256v1" by OpenSSL, yet must fail like any other curve: as the own
 * certificate (import), a peer's (svrcert_validate_cert) and a CA. */
static void test_explicit_curve_params(void **state)
{
	struct svrcert_validate_params vp = { .store = store, .expected_name = "r1" };
	struct svrcert_problems p;
	struct svrcert_validated v;
	X509 *leaf = testpki_cert("bad-explicit.pem");

	assert_int_equal(import_file("bad-explicit.pem", "r1", NULL, 0, &p, &v),
			 -EKEYREJECTED);
	print_problems(&p);
	/* OpenSSL's chain check also refuses it (as "untrusted"); the rule
	 * itself must name the problem first. */
	assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_EC_CURVE);
	assert_non_null(strstr(p.v[0].msg, "explicit curve parameters"));
	svrcert_validated_free(&v);
	svrcert_problems_free(&p);

	svrcert_problems_init(&p);
	assert_int_equal(svrcert_validate_cert(leaf, NULL, &vp, NULL, &p), -EKEYREJECTED);
	assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_EC_CURVE);
	svrcert_problems_free(&p);
	X509_free(leaf);

	assert_int_equal(bundle("bundle-explicit.pem", SVRCERT_MODE_STRICT, &p), -EINVAL);
	print_problems(&p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].code, SVRCERT_P_EC_CURVE);
	assert_non_null(strstr(p.v[0].msg, "CN=svrcert Test Explicit CA\": EC key with explicit curve parameters"));
	svrcert_problems_free(&p);
	assert_int_equal(bundle("bundle-explicit.pem", SVRCERT_MODE_WARN, &p), 0);
	assert_int_equal(p.n, 1);
	assert_true(p.v[0].warning);
	svrcert_problems_free(&p);
}

/* The alarm-threshold leaves: valid until they are not, days as named. */
static void test_expiry_leaves(void **state)
{
	static const struct {
		const char *file;
		long days;
	} leaves[] = { { "exp-40d.pem", 40 }, { "exp-20d.pem", 20 }, { "exp-5d.pem", 5 } };
	struct svrcert_problems p;
	struct svrcert_validated v;
	time_t now = time(NULL);

	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(leaves); i++) {
		assert_int_equal(import_file(leaves[i].file, "r1", r1_key, now, &p, &v), 0);
		assert_true(v.not_after > now + (leaves[i].days * 86400 - 7200));
		assert_true(v.not_after <= now + leaves[i].days * 86400);
		svrcert_validated_free(&v);
		svrcert_problems_free(&p);
		/* one second after notAfter it is expired */
		assert_int_equal(import_file(leaves[i].file, "r1", r1_key,
					     now + leaves[i].days * 86400 + 1, &p, &v),
				 -EKEYREJECTED);
		assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_EXPIRED);
		svrcert_validated_free(&v);
		svrcert_problems_free(&p);
	}
	assert_int_equal(import_file("exp-minus1d.pem", "r1", r1_key, now, &p, &v), -EKEYREJECTED);
	assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_EXPIRED);
	assert_int_equal(v.state, SVRCERT_STATE_EXPIRED);
	assert_true(v.not_after < now - 86400 + 7200);
	svrcert_validated_free(&v);
	svrcert_problems_free(&p);
}

/* mkpki.sh sign: a leaf for a CSR made elsewhere (the TPM key's). */
static void test_mkpki_sign(void **state)
{
	char cmd[PATH_MAX * 3], top[PATH_MAX];
	struct svrcert_problems p;
	struct svrcert_validated v;
	const char *src = getenv("SVRCERT_SRCDIR");

	if (!src)
		src = getcwd(top, sizeof(top));
	assert_non_null(src);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && openssl req -new -key r2.key -subj /CN=csr-router "
		 "-addext subjectAltName=URI:urn:ssr:peering:r9 -out s.csr && "
		 "'%s/tests/pki/mkpki.sh' sign . s.csr s10.pem 10 && "
		 "'%s/tests/pki/mkpki.sh' sign . s.csr sm2.pem -2",
		 testpki_dir, src, src);
	assert_int_equal(testpki_run(cmd), 0);
	{
		EVP_PKEY *r2 = testpki_key("r2.key");

		assert_int_equal(import_file("s10.pem", "r9", r2, 0, &p, &v), 0);
		assert_true(v.not_after - time(NULL) > 9 * 86400);
		assert_true(v.not_after - time(NULL) <= 10 * 86400);
		svrcert_validated_free(&v);
		svrcert_problems_free(&p);
		assert_int_equal(import_file("sm2.pem", "csr-router", r2, 0, &p, &v), -EKEYREJECTED);
		assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_EXPIRED);
		assert_true(v.not_after < time(NULL) - 86400);
		svrcert_validated_free(&v);
		svrcert_problems_free(&p);
		EVP_PKEY_free(r2);
	}
}

static void test_problem_names_unique(void **state)
{
	for (int i = 0; i < __SVRCERT_P_MAX; i++) {
		assert_non_null(svrcert_problem_name(i));
		for (int j = i + 1; j < __SVRCERT_P_MAX; j++)
			assert_string_not_equal(svrcert_problem_name(i),
						svrcert_problem_name(j));
	}
	assert_string_equal(svrcert_problem_name(__SVRCERT_P_MAX), "unknown");
	assert_int_equal(svrcert_problem_state(SVRCERT_P_NONE), SVRCERT_STATE_VALID);
	assert_int_equal(svrcert_problem_state(SVRCERT_P_SIG_ALG), SVRCERT_STATE_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_leaves),
		cmocka_unit_test(test_identity_by_san_uri),
		cmocka_unit_test(test_each_rejection),
		cmocka_unit_test(test_step_order),
		cmocka_unit_test(test_all_problems_listed),
		cmocka_unit_test(test_revocation_callback_and_fingerprint),
		cmocka_unit_test(test_revoked_intermediate),
		cmocka_unit_test(test_private_key_forms),
		cmocka_unit_test(test_bundle_strict_and_warn),
		cmocka_unit_test(test_bundle_lists_every_problem),
		cmocka_unit_test(test_runtime_strict_after_warn_bundle),
		cmocka_unit_test(test_explicit_curve_params),
		cmocka_unit_test(test_expiry_leaves),
		cmocka_unit_test(test_mkpki_sign),
		cmocka_unit_test(test_problem_names_unique),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
