// SPDX-License-Identifier: GPL-2.0
/*
 * Every key type SSR offers, by API, against the real svrcertd with swtpm
 * and the test CA: POST /private-key (EC P-256/384/521, RSA 2048/3072) ->
 * POST /certificate-request with SANs -> tests/pki/mkpki.sh sign -> POST
 * /certificate. The CSR is parsed with OpenSSL: key type and size,
 * signature algorithm (digest by key), self-signature, and the exact SAN
 * list; the issued certificate must carry the same SANs. RSA 4096, which
 * swtpm (libtpms 0.9) cannot make, is refused with 501 naming what it
 * makes, twice, and the TPM still works afterwards. Bad key specs and bad
 * SANs are 400 naming the field. SANs also come as query parameters.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "test_rest_fixture.h"

#include "lib/store.h"

#define N_SAN_MAX	16

static char *tok;

static int group_setup(void **state)
{
	long st;

	if (rf_setup())
		return -1;
	tok = rf_login(NULL, "admin", "Admin-Pass-1234", &st);
	return tok ? 0 : -1;
}

static int group_teardown(void **state)
{
	free(tok);
	rf_teardown();
	return 0;
}

/* "DNS:x", "IP:a.b.c.d", "URI:u", "email:e" of NAMES, in order. */
static int san_strings(const GENERAL_NAMES *names, char out[][256])
{
	int i, type, n = sk_GENERAL_NAME_num(names);
	char ip[INET6_ADDRSTRLEN];

	for (i = 0; i < n && i < N_SAN_MAX; i++) {
		const ASN1_STRING *s = GENERAL_NAME_get0_value(
			sk_GENERAL_NAME_value(names, i), &type);
		const char *d = (const char *)ASN1_STRING_get0_data(s);
		int len = ASN1_STRING_length(s);

		if (type == GEN_IPADD) {
			assert_non_null(inet_ntop(len == 4 ? AF_INET : AF_INET6,
						  d, ip, sizeof(ip)));
			snprintf(out[i], 256, "IP:%s", ip);
		} else {
			snprintf(out[i], 256, "%s:%.*s", type == GEN_DNS ? "DNS" :
				 type == GEN_URI ? "URI" : type == GEN_EMAIL ?
				 "email" : "other", len, d);
		}
	}
	return n;
}

static void assert_sans(const GENERAL_NAMES *names, const char *const *want)
{
	char got[N_SAN_MAX][256];
	int i, n = san_strings(names, got);

	for (i = 0; want[i]; i++) {
		assert_true(i < n);
		assert_string_equal(got[i], want[i]);
	}
	assert_int_equal(n, i);
}

struct key_case {
	const char *body;	/* POST /private-key */
	const char *type;	/* "EC" / "RSA" */
	int bits;
	const char *group;	/* EC */
	int sig_nid;
};

static const struct key_case key_cases[] = {
	{ "{\"force\":true}", "EC", 256, "prime256v1", NID_ecdsa_with_SHA256 },
	{ "{\"algorithm\":\"EC\",\"curve\":\"P-384\",\"force\":true}", "EC", 384,
	  "secp384r1", NID_ecdsa_with_SHA384 },
	{ "{\"curve\":\"P-521\",\"force\":true}", "EC", 521, "secp521r1",
	  NID_ecdsa_with_SHA512 },
	{ "{\"algorithm\":\"RSA\",\"force\":true}", "RSA", 2048, NULL,
	  NID_sha256WithRSAEncryption },
	{ "{\"algorithm\":\"RSA\",\"bits\":3072,\"force\":true}", "RSA", 3072,
	  NULL, NID_sha256WithRSAEncryption },
};

static const char *const want_sans[] = {
	"URI:urn:ssr:peering:r1", "DNS:r1.example.net", "DNS:r1-b.example.net",
	"IP:192.0.2.1", "IP:2001:db8::1", "URI:https://r1.example.net/svr",
	"email:ops@example.net", NULL
};

#define SAN_BODY "{\"organization\":\"svrcert test\",\"days\":30," \
	"\"san_dns\":[\"r1.example.net\",\"r1-b.example.net\"]," \
	"\"san_ip\":[\"192.0.2.1\",\"2001:db8::1\"]," \
	"\"san_uri\":[\"https://r1.example.net/svr\",\"urn:ssr:peering:r1\"]," \
	"\"san_email\":[\"ops@example.net\"]}"

static void check_key_answer(struct rf_resp *r, const struct key_case *k)
{
	json_t *o = json_loads(r->body, 0, NULL);
	const char *pem = json_string_value(json_object_get(o, "public_key"));
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	char group[64];

	assert_non_null(pub);
	assert_string_equal(json_string_value(json_object_get(o, "algorithm")),
			    k->type);
	assert_true(EVP_PKEY_is_a(pub, k->type));
	assert_int_equal(EVP_PKEY_get_bits(pub), k->bits);
	if (k->group) {
		assert_int_equal(EVP_PKEY_get_group_name(pub, group, sizeof(group),
							 NULL), 1);
		assert_string_equal(group, k->group);
	} else {
		assert_int_equal(json_integer_value(json_object_get(o, "bits")),
				 k->bits);
	}
	EVP_PKEY_free(pub);
	BIO_free(bio);
	json_decref(o);
}

/* The CSR of the answer: written to DIR/api.csr, checked, parsed. */
static X509_REQ *check_csr(struct rf_resp *r, const struct key_case *k)
{
	json_t *o = json_loads(r->body, 0, NULL);
	const char *pem = json_string_value(json_object_get(o, "csr"));
	STACK_OF(X509_EXTENSION) *exts;
	GENERAL_NAMES *names;
	char path[256];
	X509_REQ *req;
	BIO *bio;

	assert_non_null(pem);
	snprintf(path, sizeof(path), "%s/api.csr", rf.dir);
	assert_int_equal(rf_write(path, pem), 0);
	bio = BIO_new_mem_buf(pem, -1);
	req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	BIO_free(bio);
	json_decref(o);
	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
	assert_int_equal(X509_REQ_get_signature_nid(req), k->sig_nid);
	assert_int_equal(EVP_PKEY_get_bits(X509_REQ_get0_pubkey(req)), k->bits);
	exts = X509_REQ_get_extensions(req);
	names = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	assert_non_null(names);
	assert_sans(names, want_sans);
	GENERAL_NAMES_free(names);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	assert_int_equal(fixture_sh("openssl req -in %s -noout -verify 2>/dev/null",
				    path), 0);
	return req;
}

/* The test CA signs DIR/api.csr; the certificate's SANs are the CSR's. */
static char *ca_sign(void)
{
	GENERAL_NAMES *names;
	char path[256];
	size_t len;
	uint8_t *pem;
	X509 *x;
	BIO *bio;

	assert_int_equal(fixture_sh("%s/tests/pki/mkpki.sh sign %s %s/api.csr "
				    "%s/api.pem 30 >/dev/null", rf_srcdir(),
				    testpki_path(""), rf.dir, rf.dir), 0);
	snprintf(path, sizeof(path), "%s/api.pem", rf.dir);
	assert_int_equal(svrcert_read_file(path, 1 << 20, &pem, &len), 0);
	bio = BIO_new_mem_buf(pem, (int)len);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(x);
	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(names);
	assert_sans(names, want_sans);
	GENERAL_NAMES_free(names);
	X509_free(x);
	return (char *)pem;
}

static void import_cert(struct rf_resp *r, char *pem)
{
	json_t *in = json_pack("{s:s}", "certificate", pem);
	char *body = json_dumps(in, 0);

	assert_int_equal(rf_request("POST", "/api/v1/certificate", tok, body, r),
			 200);
	assert_int_equal(rf_request("GET", "/api/v1/certificate", tok, NULL, r),
			 200);
	assert_non_null(strstr(r->body, "\"state\": \"valid\"") ?:
			strstr(r->body, "\"state\":\"valid\""));
	free(body);
	json_decref(in);
}

static void test_every_key_type_provisions(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	size_t i;

	for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct key_case *k = &key_cases[i];

		print_message("key %s %d\n", k->type, k->bits);
		assert_int_equal(rf_request("POST", "/api/v1/private-key", tok,
					    k->body, r), 201);
		check_key_answer(r, k);
		assert_int_equal(rf_request("POST", "/api/v1/certificate-request",
					    tok, SAN_BODY, r), 201);
		X509_REQ_free(check_csr(r, k));
		{
			char *pem = ca_sign();

			import_cert(r, pem);
			free(pem);
		}
	}
	free(r);
}

/* swtpm 0.7.1 / libtpms 0.9.2 make RSA up to 3072 bits. */
static void test_rsa4096_refused(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char path[256], *before = NULL, *after = NULL;
	int i;

	snprintf(path, sizeof(path), "%s/key.pub.pem", rf.state);
	assert_int_equal(rf_request("POST", "/api/v1/private-key", tok,
				    "{\"force\":true}", r), 201);
	assert_int_equal(store_read_path(path, &before, NULL), 0);
	/* Twice: a refused request must leave the TPM as it was (no object
	 * left loaded), or the second one and the CSR below would fail. */
	for (i = 0; i < 2; i++) {
		assert_int_equal(rf_request("POST", "/api/v1/private-key", tok,
					    "{\"algorithm\":\"RSA\",\"bits\":4096,"
					    "\"force\":true}", r), 501);
		assert_non_null(strstr(rf_error(r), "cannot make RSA 4096 keys"));
		assert_non_null(strstr(rf_error(r), "makes 2048, 3072"));
	}
	assert_int_equal(store_read_path(path, &after, NULL), 0);
	assert_string_equal(before, after);
	assert_int_equal(rf_request("POST", "/api/v1/certificate-request?days=5",
				    tok, NULL, r), 201);
	free(before);
	free(after);
	free(r);
}

static void expect_400(const char *method, const char *path, const char *body,
		       const char *needle)
{
	struct rf_resp *r = malloc(sizeof(*r));

	assert_int_equal(rf_request(method, path, tok, body, r), 400);
	if (!strstr(rf_error(r), needle))
		fail_msg("%s %s %s: \"%s\" lacks \"%s\"", method, path,
			 body ? body : "", rf_error(r), needle);
	free(r);
}

static void test_bad_key_specs(void **state)
{
	const char *k = "/api/v1/private-key";

	expect_400("POST", k, "{\"curve\":\"P-192\"}", "field \"curve\": EC curve "
		   "\"P-192\" is not offered");
	expect_400("POST", k, "{\"algorithm\":\"RSA\",\"bits\":1024}",
		   "field \"bits\": RSA size 1024 bits is not offered");
	expect_400("POST", k, "{\"algorithm\":\"RSA\",\"curve\":\"P-256\"}",
		   "field \"curve\"");
	expect_400("POST", k, "{\"algorithm\":\"EC\",\"bits\":2048}",
		   "field \"bits\"");
	expect_400("POST", k, "{\"algorithm\":\"DSA\"}", "field \"algorithm\"");
	expect_400("POST", k, "{\"bits\":\"2048\"}", "field \"bits\"");
	expect_400("POST", k, "{\"size\":2048}", "field \"size\": unknown field");
}

static void test_bad_sans(void **state)
{
	const char *c = "/api/v1/certificate-request";

	expect_400("POST", c, "{\"san_dns\":[\"a..b\"]}", "\"san_dns\": SAN dns "
		   "\"a..b\" has an empty label");
	expect_400("POST", c, "{\"san_dns\":[\"*.example.net\"]}", "wildcards");
	expect_400("POST", c, "{\"san_dns\":[\"r1_x.example\"]}", "only letters");
	expect_400("POST", c, "{\"san_dns\":\"r1.example\"}", "\"san_dns\": must "
		   "be an array");
	expect_400("POST", c, "{\"san_dns\":[\"a.example\",\"a.example\"]}",
		   "given twice");
	expect_400("POST", c, "{\"san_ip\":[\"300.1.1.1\"]}", "\"san_ip\": SAN ip "
		   "\"300.1.1.1\" is not an IPv4 or IPv6 address");
	expect_400("POST", c, "{\"san_ip\":[7]}", "array of strings");
	expect_400("POST", c, "{\"san_uri\":[\"no-scheme\"]}", "scheme:rest");
	expect_400("POST", c, "{\"san_uri\":[\"http://a b/\"]}", "not allowed in a URI");
	expect_400("POST", c, "{\"san_email\":[\"ops@\"]}", "\"san_email\"");
	expect_400("POST", c, "{\"san_email\":[\"a b@example.net\"]}", "dot-atom");
	expect_400("POST", c, "{\"san_other\":[\"x\"]}", "unknown field");
	expect_400("POST", "/api/v1/certificate-request?san_ip=1.2.3", NULL,
		   "parameter \"san_ip\": SAN ip \"1.2.3\"");
	expect_400("POST", "/api/v1/certificate-request?san_dns=a.example%00.evil",
		   NULL, "parameter \"san_dns\": must not contain NUL");
	expect_400("POST", "/api/v1/certificate-request?common_name=a",
		   "{\"common_name\":\"b\"}", "given more than once");
	expect_400("POST", c, "{\"san_dns\":[\"a1.x\",\"a2.x\",\"a3.x\",\"a4.x\","
		   "\"a5.x\",\"a6.x\",\"a7.x\",\"a8.x\",\"a9.x\",\"a10.x\",\"a11.x\","
		   "\"a12.x\",\"a13.x\",\"a14.x\",\"a15.x\",\"a16.x\",\"a17.x\"]}",
		   "more than 16 SAN dns entries");
}

/* The same SANs as query parameters (repeatable); the CSR stored in the
 * state directory is the one answered, and the one GET answers after. */
static void test_sans_by_query(void **state)
{
	static const char *const want[] = {
		"URI:urn:ssr:peering:r1", "DNS:q1.example.net", "DNS:q2.example.net",
		"IP:198.51.100.7", "email:noc@example.net", NULL
	};
	struct rf_resp *r = malloc(sizeof(*r));
	STACK_OF(X509_EXTENSION) *exts;
	char path[256], *stored = NULL;
	GENERAL_NAMES *names;
	X509_REQ *req;
	json_t *o;
	BIO *bio;

	assert_int_equal(rf_request("POST", "/api/v1/certificate-request?"
				    "san_dns=q1.example.net&san_ip=198.51.100.7&"
				    "san_dns=q2.example.net&san_email=noc%40example.net",
				    tok, NULL, r), 201);
	o = json_loads(r->body, 0, NULL);
	bio = BIO_new_mem_buf(json_string_value(json_object_get(o, "csr")), -1);
	req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	assert_non_null(req);
	exts = X509_REQ_get_extensions(req);
	names = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	assert_non_null(names);
	assert_sans(names, want);
	snprintf(path, sizeof(path), "%s/csr.pem", rf.state);
	assert_int_equal(store_read_path(path, &stored, NULL), 0);
	assert_string_equal(stored, json_string_value(json_object_get(o, "csr")));
	free(stored);
	GENERAL_NAMES_free(names);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	BIO_free(bio);
	json_decref(o);
	/* a body, and GET answers what that POST stored */
	assert_int_equal(rf_request("POST", "/api/v1/certificate-request", tok,
				    "{\"san_dns\":[\"p1.example.net\"]}", r), 201);
	assert_non_null(strstr(r->body, "BEGIN CERTIFICATE REQUEST"));
	assert_int_equal(fixture_sh("openssl req -in %s -noout -text | grep -qF "
				    "'URI:urn:ssr:peering:r1, DNS:p1.example.net'",
				    path), 0);
	assert_int_equal(store_read_path(path, &stored, NULL), 0);
	assert_int_equal(rf_request("GET", "/api/v1/certificate-request", tok,
				    NULL, r), 200);
	o = json_loads(r->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "csr")), stored);
	json_decref(o);
	free(stored);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_type_provisions),
		cmocka_unit_test(test_rsa4096_refused),
		cmocka_unit_test(test_bad_key_specs),
		cmocka_unit_test(test_bad_sans),
		cmocka_unit_test(test_sans_by_query),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
