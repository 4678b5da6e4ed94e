// SPDX-License-Identifier: GPL-2.0
/*
 * Certificate facts (pki.h) and helpers (util.h) against the OpenSSL CLI:
 * revocation keys computed independently by tests/pki/revkey.sh from
 * `openssl asn1parse` offsets and sha256sum, fingerprints and dates from
 * `openssl x509`.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "crl/crl_revkey.h"
#include "crl/crl_walk.h"
#include "pki/pki.h"
#include "lib/util.h"
#include "../pki/testpki.h"

static int group_setup(void **state)
{
	return testpki_setup();
}

static int group_teardown(void **state)
{
	testpki_teardown();
	return 0;
}

static const char *srcdir(void)
{
	return getenv("SVRCERT_SRCDIR") ? getenv("SVRCERT_SRCDIR") : ".";
}

static __attribute__((format(printf, 3, 4)))
void shell(char *out, size_t len, const char *fmt, ...)
{
	char cmd[PATH_MAX * 2 + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(testpki_shell(cmd, out, len), 0);
}

static void test_revkey_matches_asn1parse(void **state)
{
	static const char *const certs[] = { "r1.pem", "r2-san.pem", "bad-revoked.pem",
					     "r1-rsa.pem", "int.pem" };
	uint8_t rk[32];
	char hex[65], want[128];

	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(certs); i++) {
		X509 *x = testpki_cert(certs[i]);

		assert_int_equal(svrcert_revkey_from_cert(x, rk), 0);
		svrcert_hex(rk, 32, hex);
		shell(want, sizeof(want), "%s/tests/pki/revkey.sh cert '%s'", srcdir(),
		      testpki_path(certs[i]));
		print_message("%s %s\n", certs[i], hex);
		assert_string_equal(hex, want);
		X509_free(x);
	}
}

/* The CRL entry's key (from the CRL's own bytes) is the revoked
 * certificate's key: what makes the kernel set work. */
static void test_crl_entry_key(void **state)
{
	struct svrcert_keyset ks;
	X509 *revoked = testpki_cert("bad-revoked.pem"), *good = testpki_cert("r1.pem");
	FILE *f = fopen(testpki_path("int.crl.der"), "rb");
	X509_CRL *crl = d2i_X509_CRL_fp(f, NULL);
	uint8_t rk[32], want[32];
	char hex[128];

	fclose(f);
	assert_non_null(crl);
	svrcert_keyset_init(&ks);
	assert_int_equal(svrcert_keyset_add_crl(&ks, crl), 0);
	assert_int_equal(ks.n, 1);
	shell(hex, sizeof(hex), "%s/tests/pki/revkey.sh crl '%s'", srcdir(),
	      testpki_path("int.crl.der"));
	assert_int_equal(svrcert_unhex(hex, want, 32), 0);
	assert_true(svrcert_keyset_contains(&ks, want));
	assert_int_equal(svrcert_revkey_from_cert(revoked, rk), 0);
	assert_memory_equal(rk, want, 32);
	assert_int_equal(svrcert_revkey_from_cert(good, rk), 0);
	assert_false(svrcert_keyset_contains(&ks, rk));
	svrcert_keyset_free(&ks);
	X509_CRL_free(crl);
	X509_free(revoked);
	X509_free(good);
}

static X509_NAME *name_of(const char *o, const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	assert_non_null(n);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
				(const unsigned char *)o, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				(const unsigned char *)cn, -1, -1, 0), 1);
	return n;
}

/* svrcert_keyset_add_crl canonicalizes an issuer once for all its entries
 * (not once per entry: 7 s of CPU for a 1 M-entry CRL), so the name must
 * change exactly where an indirect CRL's certificateIssuer says: each
 * entry's key is svrcert_revkey_compute() of the issuer in force there. */
static void test_keyset_crl_issuer_runs(void **state)
{
	/* entry i's certificateIssuer (NULL: the one before stays) */
	static const char *const gives[][2] = {
		{ NULL, NULL }, { NULL, NULL },
		{ "Other", "Second  CA" }, { NULL, NULL },
		{ "svrcert test", "THIRD ca" }, { NULL, NULL },
		{ "Other", "second ca" },
	};
	const size_t n = sizeof(gives) / sizeof(gives[0]);
	X509_NAME *crl_issuer = name_of("svrcert test", "CRL CA");
	const X509_NAME *in_force = crl_issuer;
	X509_NAME *names[8] = { NULL };
	X509_CRL *crl = X509_CRL_new();
	struct svrcert_keyset ks;
	uint8_t want[32];
	size_t i;

	assert_non_null(crl);
	assert_int_equal(X509_CRL_set_issuer_name(crl, crl_issuer), 1);
	svrcert_keyset_init(&ks);
	for (i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();

		assert_non_null(r);
		assert_int_equal(ASN1_INTEGER_set(sn, 4096 + (long)i), 1);
		assert_int_equal(X509_REVOKED_set_serialNumber(r, sn), 1);
		ASN1_INTEGER_free(sn);
		if (gives[i][0]) {
			GENERAL_NAMES *gs = GENERAL_NAMES_new();
			GENERAL_NAME *g = GENERAL_NAME_new();

			names[i] = name_of(gives[i][0], gives[i][1]);
			GENERAL_NAME_set0_value(g, GEN_DIRNAME,
						X509_NAME_dup(names[i]));
			sk_GENERAL_NAME_push(gs, g);
			assert_int_equal(X509_REVOKED_add1_ext_i2d(r,
				NID_certificate_issuer, gs, 1, 0), 1);
			GENERAL_NAMES_free(gs);
		}
		assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
	}
	assert_int_equal(svrcert_keyset_add_crl(&ks, crl), 0);
	assert_int_equal(ks.n, n);
	for (i = 0; i < n; i++) {
		ASN1_INTEGER *sn = ASN1_INTEGER_new();

		assert_int_equal(ASN1_INTEGER_set(sn, 4096 + (long)i), 1);
		if (names[i])
			in_force = names[i];
		assert_int_equal(svrcert_revkey_compute(in_force, sn, want), 0);
		assert_memory_equal(ks.keys[i], want, 32);
		ASN1_INTEGER_free(sn);
	}
	/* the runs differ: a key made from a stale issuer would show */
	assert_memory_not_equal(ks.keys[2], ks.keys[1], 32);
	for (i = 0; i < n; i++)
		X509_NAME_free(names[i]);
	svrcert_keyset_free(&ks);
	X509_CRL_free(crl);
	X509_NAME_free(crl_issuer);
}

/* The CRL manager's walker (crl_walk.c, no X509_CRL) and this library
 * must agree on every key, or the kernel's set would miss peers. */
static void test_crl_walker_agrees(void **state)
{
	STACK_OF(X509) *trusted = sk_X509_new_null();
	X509 *in = testpki_cert("int.pem"), *revoked = testpki_cert("bad-revoked.pem");
	struct svrcert_crl crl;
	uint8_t rk[32];
	char err[256];

	assert_non_null(trusted);
	assert_true(sk_X509_push(trusted, in) > 0);
	assert_int_equal(svrcert_crl_walk_file(testpki_path("int.crl.der"), trusted, &crl,
					       err, sizeof(err)), 0);
	assert_int_equal(crl.nkeys, 1);
	assert_int_equal(svrcert_revkey_from_cert(revoked, rk), 0);
	assert_memory_equal(crl.keys[0], rk, 32);
	svrcert_crl_release(&crl);
	sk_X509_pop_free(trusted, X509_free);
	X509_free(revoked);
}

static void test_fingerprints(void **state)
{
	X509 *x = testpki_cert("r1.pem");
	char got[SVRCERT_SHA256_COLON_LEN], want[256];

	assert_int_equal(svrcert_fingerprint_sha1_colon(x, got), 0);
	shell(want, sizeof(want), "openssl x509 -noout -fingerprint -sha1 -in '%s' | cut -d= -f2", testpki_path("r1.pem"));
	assert_string_equal(got, want);
	assert_int_equal(strlen(got), 59);
	assert_int_equal(svrcert_fingerprint_sha256_colon(x, got), 0);
	shell(want, sizeof(want), "openssl x509 -noout -fingerprint -sha256 -in '%s' | cut -d= -f2", testpki_path("r1.pem"));
	assert_string_equal(got, want);
	X509_free(x);
}

static void test_names_and_extensions(void **state)
{
	X509 *r1 = testpki_cert("r1.pem"), *san = testpki_cert("r1-san.pem");
	X509 *noeku = testpki_cert("bad-noeku.pem");
	char buf[256], **urls;
	size_t n;

	svrcert_name_oneline(X509_get_issuer_name(r1), buf, sizeof(buf));
	assert_string_equal(buf, "/O=svrcert test/CN=svrcert Test Intermediate CA");
	svrcert_name_text(X509_get_subject_name(r1), buf, sizeof(buf));
	assert_string_equal(buf, "O=svrcert test, CN=r1");
	assert_int_equal(svrcert_cert_cn(r1, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "r1");
	assert_int_equal(svrcert_cert_cn(r1, buf, 2), -EINVAL);	/* too small */
	assert_int_equal(svrcert_cert_cn(san, buf, sizeof(buf)), 36);	/* UUID */
	assert_true(svrcert_cert_has_peering_uri(san, "r1"));
	assert_false(svrcert_cert_has_peering_uri(san, "r"));
	assert_false(svrcert_cert_has_peering_uri(san, "r10"));
	assert_false(svrcert_cert_has_peering_uri(r1, "r1"));
	svrcert_cert_purpose(r1, buf, sizeof(buf));
	assert_string_equal(buf, "TLS Web Client Authentication, TLS Web Server Authentication");
	svrcert_cert_purpose(noeku, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(svrcert_cert_crl_urls(r1, &urls, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(urls[0], getenv("PKI_CRL_URL") ? getenv("PKI_CRL_URL") :
			    "http://127.0.0.1:8080/int.crl");
	svrcert_strv_free(urls, n);
	assert_int_equal(svrcert_cert_crl_urls(noeku, &urls, &n), 0);
	assert_int_equal(n, 0);
	X509_free(r1);
	X509_free(san);
	X509_free(noeku);
}

static void test_dates_and_serial(void **state)
{
	X509 *x = testpki_cert("exp-40d.pem");
	char want[64], serial[64];

	shell(want, sizeof(want), "date -d \"$(openssl x509 -noout -enddate -in '%s' | cut -d= -f2)\" +%%s", testpki_path("exp-40d.pem"));
	assert_int_equal((long long)svrcert_cert_not_after(x), atoll(want));
	shell(want, sizeof(want), "date -d \"$(openssl x509 -noout -startdate -in '%s' | cut -d= -f2)\" +%%s", testpki_path("exp-40d.pem"));
	assert_int_equal((long long)svrcert_cert_not_before(x), atoll(want));
	assert_true(svrcert_cert_not_after(x) - time(NULL) > 39 * 86400);
	svrcert_cert_serial_hex(x, serial, sizeof(serial));
	shell(want, sizeof(want), "openssl x509 -noout -serial -in '%s' | cut -d= -f2", testpki_path("exp-40d.pem"));
	assert_string_equal(serial, want);
	X509_free(x);
}

/* bundle.pem with every CERTIFICATE label replaced by LABEL. */
static void relabelled(const char *label, int want, const char *want_msg)
{
	STACK_OF(X509) *sk = NULL;
	char msg[160] = "", text[16384] = "";
	size_t len, o = 0;
	uint8_t *buf = testpki_read("bundle.pem", &len);
	const char *p = (const char *)buf, *hit;

	while ((hit = strstr(p, " CERTIFICATE-----"))) {
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%.*s %s-----",
				      (int)(hit - p), p, label);
		p = hit + strlen(" CERTIFICATE-----");
	}
	snprintf(text + o, sizeof(text) - o, "%s", p);
	free(buf);
	assert_int_equal(svrcert_certs_from_buf((uint8_t *)text, strlen(text), &sk,
						msg, sizeof(msg)), want);
	if (want > 0)
		sk_X509_pop_free(sk, X509_free);
	else
		assert_string_equal(msg, want_msg);
}

static void test_certs_from_buf(void **state)
{
	STACK_OF(X509) *sk = NULL;
	char msg[160];
	size_t len;
	uint8_t *buf = testpki_read("bundle.pem", &len);
	unsigned char *der = NULL;
	X509 *x;
	int dlen;

	assert_int_equal(svrcert_certs_from_buf(buf, len, &sk, msg, sizeof(msg)), 2);
	x = sk_X509_value(sk, 0);
	dlen = i2d_X509(x, &der);
	assert_true(dlen > 0);
	sk_X509_pop_free(sk, X509_free);
	free(buf);
	/* one DER certificate */
	assert_int_equal(svrcert_certs_from_buf(der, (size_t)dlen, &sk, msg, sizeof(msg)), 1);
	sk_X509_pop_free(sk, X509_free);
	/* truncated / trailing bytes */
	assert_int_equal(svrcert_certs_from_buf(der, (size_t)dlen - 1, &sk, msg, sizeof(msg)), -ENOENT);
	der = OPENSSL_realloc(der, (size_t)dlen + 1);
	der[dlen] = 0;
	assert_int_equal(svrcert_certs_from_buf(der, (size_t)dlen + 1, &sk, msg, sizeof(msg)), -EBADMSG);
	assert_string_equal(msg, "trailing data after the DER certificate");
	OPENSSL_free(der);
	/* a corrupted PEM body */
	buf = (uint8_t *)strdup("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	assert_int_equal(svrcert_certs_from_buf(buf, strlen((char *)buf), &sk, msg, sizeof(msg)), -EBADMSG);
	assert_string_equal(msg, "PEM block 1: not a valid X.509 certificate");
	free(buf);
	/* binary bytes after a valid PEM certificate */
	buf = testpki_read("r1.pem", &len);
	buf[len - 1] = 0x01;
	assert_int_equal(svrcert_certs_from_buf(buf, len, &sk, msg, sizeof(msg)), -EBADMSG);
	assert_string_equal(msg, "binary data in a PEM file");
	free(buf);
	buf = (uint8_t *)strdup("hello");
	assert_int_equal(svrcert_certs_from_buf(buf, 5, &sk, msg, sizeof(msg)), -ENOENT);
	free(buf);
	relabelled("X509 CERTIFICATE", 2, "");
	/* Not a bare certificate (OpenSSL trust settings appended): refused. */
	relabelled("TRUSTED CERTIFICATE", -EBADMSG,
		   "PEM block 1 is \"TRUSTED CERTIFICATE\", not a CERTIFICATE");
}

static void test_keyset(void **state)
{
	struct svrcert_keyset ks;
	uint8_t keys[500][32], other[32];

	svrcert_keyset_init(&ks);
	assert_int_equal(RAND_bytes(&keys[0][0], sizeof(keys)), 1);
	memset(other, 0xab, sizeof(other));
	assert_false(svrcert_keyset_contains(&ks, keys[0]));
	for (int i = 0; i < 500; i++)
		assert_int_equal(svrcert_keyset_add(&ks, keys[i]), 0);
	for (int i = 0; i < 500; i++)
		assert_true(svrcert_keyset_contains(&ks, keys[i]));
	assert_false(svrcert_keyset_contains(&ks, other));
	svrcert_keyset_free(&ks);
	assert_int_equal(ks.n, 0);
}

static void test_util(void **state)
{
	static const uint8_t in[] = { 0x6d, 0xc7, 0x00, 0xff };
	char hex[16], colon[16], t[64];
	uint8_t back[4], *buf;
	size_t len;

	svrcert_hex(in, 4, hex);
	assert_string_equal(hex, "6dc700ff");
	svrcert_hex_colon(in, 4, colon);
	assert_string_equal(colon, "6D:C7:00:FF");
	svrcert_hex_colon(in, 0, colon);
	assert_string_equal(colon, "");
	assert_int_equal(svrcert_unhex("6DC700ff", back, 4), 0);
	assert_memory_equal(back, in, 4);
	assert_int_equal(svrcert_unhex("6DC700f", back, 4), -EINVAL);
	assert_int_equal(svrcert_unhex("6DC700fg", back, 4), -EINVAL);
	/* The seed's CRL audit example: "Oct 17 16:33:11 2024 GMT". */
	svrcert_time_openssl(1729182791, t, sizeof(t));
	assert_string_equal(t, "Oct 17 16:33:11 2024 GMT");
	svrcert_time_iso8601(1729182791, t, sizeof(t));
	assert_string_equal(t, "2024-10-17T16:33:11Z");
	assert_int_equal(svrcert_read_file(testpki_path("bundle.pem"), 100, &buf, &len), -EFBIG);
	assert_int_equal(svrcert_read_file(testpki_path("nonexistent"), 100, &buf, &len), -ENOENT);
	assert_int_equal(svrcert_read_file(testpki_dir, 100, &buf, &len), -EINVAL);
	assert_int_equal(svrcert_read_file(testpki_path("r1.pem"), 1 << 20, &buf, &len), 0);
	assert_true(len > 100);
	assert_int_equal(buf[len], 0);
	free(buf);
	len = 0;
	{
		char pos_buf[8];
		size_t pos = 0;

		svrcert_appendf(pos_buf, sizeof(pos_buf), &pos, "%s", "abcdefghij");
		assert_string_equal(pos_buf, "abcdefg");
		assert_int_equal(pos, 7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_revkey_matches_asn1parse),
		cmocka_unit_test(test_crl_entry_key),
		cmocka_unit_test(test_crl_walker_agrees),
		cmocka_unit_test(test_keyset_crl_issuer_runs),
		cmocka_unit_test(test_fingerprints),
		cmocka_unit_test(test_names_and_extensions),
		cmocka_unit_test(test_dates_and_serial),
		cmocka_unit_test(test_certs_from_buf),
		cmocka_unit_test(test_keyset),
		cmocka_unit_test(test_util),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
