// SPDX-License-Identifier: GPL-2.0
/*
 * The conductor's signed revocation update (pki/conductor_doc.h over
 * crl/crl_gendoc.h) with the real test PKI (tests/pki/mkpki.sh): signed
 * with a file key and with a key in a real swtpm (CSR by the TPM, issued
 * by the test CA), checked by a router with the runtime rules; a standard
 * CMS that `openssl cms -verify` accepts; the bytes of a 10-key delta and
 * of a 1 M-key full set; refused with their own message: altered content
 * or signature, cut short, not CMS, not signed, a signer with another
 * identity, one from another CA, a revoked one, a document naming another
 * conductor, a key that does not match its certificate; a verified older
 * generation refused as a rollback.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/cms.h>

#include "swtpm_fixture.h"
#include "../pki/testpki.h"
#include "crl/crl_gendoc.h"
#include "lib/store.h"
#include "pki/conductor_doc.h"
#include "pki/csr.h"
#include "pki/validate.h"

static X509_STORE *trust;
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
	trust = svrcert_store_new();
	if (!trust || svrcert_store_add_certs(trust, certs))
		return -1;
	sk_X509_pop_free(certs, X509_free);
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
	X509_STORE_free(trust);
	svrcert_keyset_free(&crl_keys);
	testpki_teardown();
	return 0;
}

/* A state directory holding KEY (a file key of the test PKI, 0600) and
 * CERT as cert.pem. */
struct signer {
	char dir[64];
	struct svrcert_store st;
	struct svrcert_conductor_signer s;
};

static void signer_init(struct signer *g, const char *key, const char *cert,
			const char *name)
{
	char path[128];
	uint8_t *b;
	size_t len;

	memset(g, 0, sizeof(*g));
	assert_int_equal(fixture_tempdir(g->dir, "cdoc"), 0);
	assert_int_equal(store_open(&g->st, g->dir), 0);
	if (key) {
		b = testpki_read(key, &len);
		snprintf(path, sizeof(path), "%s/%s", g->dir, STORE_KEY);
		assert_int_equal(atomic_write_file(path, b, len, 0600), 0);
		free(b);
	}
	if (cert) {
		b = testpki_read(cert, &len);
		snprintf(path, sizeof(path), "%s/%s", g->dir, STORE_CERT);
		assert_int_equal(atomic_write_file(path, b, len, 0644), 0);
		free(b);
	}
	g->s.st = &g->st;
	g->s.storage = TPM_KEY_STORAGE_FILE;
	g->s.name = name;
}

static void signer_free(struct signer *g)
{
	store_close(&g->st);
	fixture_rm_rf(g->dir);
}

/* N keys, ascending (a counter in the last bytes). */
static svrcert_revkey_t *keys_n(size_t n, uint32_t salt)
{
	svrcert_revkey_t *k = calloc(n ? n : 1, SVRCERT_REVKEY_LEN);

	assert_non_null(k);
	for (size_t i = 0; i < n; i++) {
		memset(k[i], 0xa5, 24);
		k[i][24] = (uint8_t)(salt >> 8);
		k[i][25] = (uint8_t)salt;
		for (int b = 0; b < 6; b++)
			k[i][31 - b] = (uint8_t)(i >> (8 * b));
	}
	return k;
}

static void update(struct svrcert_gen_update *u, enum svrcert_gen_kind kind,
		   uint64_t base, uint64_t gen, size_t nadd)
{
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	memset(u->epoch, 0x42, SVRCERT_GEN_EPOCH_LEN);
	u->base = base;
	u->gen = gen;
	u->time = time(NULL) - 100 + (time_t)gen;
	u->added = keys_n(nadd, (uint32_t)gen);
	u->nadded = nadd;
	u->own_added = true;
}

static void params(struct svrcert_validate_params *vp, const char *name)
{
	memset(vp, 0, sizeof(*vp));
	vp->store = trust;
	vp->expected_name = name;
	vp->revoked_keys = &crl_keys;
}

static void sign(struct signer *g, const struct svrcert_gen_update *u,
		 uint8_t **doc, size_t *len)
{
	char err[256] = "";

	if (svrcert_conductor_sign(&g->s, u, doc, len, err, sizeof(err)))
		fail_msg("sign: %s", err);
}

/* Verify DOC as a router expecting conductor "r1": RC expected, and ERR
 * containing WHY when refused. */
static void expect(const uint8_t *doc, size_t len, int rc, const char *why)
{
	struct svrcert_validate_params vp;
	struct svrcert_gen_update u;
	char err[256] = "";
	int got;

	params(&vp, "r1");
	got = svrcert_conductor_verify(doc, len, &vp, &u, err, sizeof(err));
	if (got != rc || (why && !strstr(err, why)))
		fail_msg("verify: %d \"%s\", expected %d \"%s\"", got, err, rc,
			 why ? why : "");
	svrcert_gen_update_release(&u);
}

/* A 10-key delta signed by r1's file key: the router takes it; sizes with
 * the leaf alone and with its intermediate; `openssl cms -verify` reads
 * it as a standard CMS and gives the same content. */
static void test_sign_verify_sizes(void **state)
{
	struct svrcert_validate_params vp;
	struct svrcert_gen_update u, got;
	struct signer g, gc;
	uint8_t *doc = NULL, *doc2 = NULL, *content = NULL;
	size_t len = 0, len2 = 0, clen = 0;
	char err[256], path[128];

	signer_init(&g, "r1.key", "r1.pem", "r1");
	signer_init(&gc, "r1.key", "r1-chain.pem", "r1");
	update(&u, SVRCERT_GEN_DELTA, 6, 7, 10);
	sign(&g, &u, &doc, &len);
	sign(&gc, &u, &doc2, &len2);
	print_message("10-key delta signed: %zu bytes (leaf certificate), %zu "
		      "bytes (leaf + intermediate)\n", len, len2);
	assert_true(len <= 4096 && len2 <= 4096);
	params(&vp, "r1");
	assert_int_equal(svrcert_conductor_verify(doc, len, &vp, &got, err,
						  sizeof(err)), 0);
	assert_int_equal(got.kind, SVRCERT_GEN_DELTA);
	assert_int_equal(got.base, 6);
	assert_int_equal(got.gen, 7);
	assert_string_equal(got.conductor, "r1");
	assert_int_equal(got.nadded, 10);
	assert_memory_equal(got.added, u.added, 10 * SVRCERT_REVKEY_LEN);
	svrcert_gen_update_release(&got);
	expect(doc2, len2, 0, NULL);
	/* the same document through the OpenSSL CLI */
	snprintf(path, sizeof(path), "%s/doc.der", g.dir);
	assert_int_equal(atomic_write_file(path, doc, len, 0644), 0);
	assert_int_equal(fixture_sh("openssl cms -verify -inform DER -binary "
				    "-in %s -CAfile %s -purpose any -out %s/c "
				    "2>/dev/null", path,
				    testpki_path("bundle.pem"), g.dir), 0);
	snprintf(u.conductor, sizeof(u.conductor), "r1");
	assert_int_equal(svrcert_gendoc_encode(&u, &content, &clen), 0);
	snprintf(path, sizeof(path), "%s/c", g.dir);
	free(doc2);
	assert_int_equal(svrcert_read_file(path, 1 << 20, &doc2, &len2), 0);
	assert_int_equal(len2, clen);
	assert_memory_equal(doc2, content, clen);
	free(content);
	free(doc);
	free(doc2);
	svrcert_gen_update_release(&u);
	signer_free(&g);
	signer_free(&gc);
}

static double secs_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The full set of 1 M keys: 32 MB of keys and a fixed overhead. */
static void test_full_million(void **state)
{
	const size_t n = 1000000;
	struct svrcert_validate_params vp;
	struct svrcert_gen_update u, got;
	struct timespec t0;
	struct signer g;
	uint8_t *doc = NULL;
	size_t len = 0;
	double ts, tv;
	char err[256];

	signer_init(&g, "r1.key", "r1.pem", "r1");
	update(&u, SVRCERT_GEN_FULL, 0, 9, n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sign(&g, &u, &doc, &len);
	ts = secs_since(&t0);
	params(&vp, "r1");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(svrcert_conductor_verify(doc, len, &vp, &got, err,
						  sizeof(err)), 0);
	tv = secs_since(&t0);
	print_message("full set of %zu keys signed: %zu bytes (%zu over the "
		      "keys); sign %.2f s, verify + decode %.2f s\n", n, len,
		      len - n * SVRCERT_REVKEY_LEN, ts, tv);
	assert_true(len - n * SVRCERT_REVKEY_LEN < 2048);
	assert_int_equal(got.kind, SVRCERT_GEN_FULL);
	assert_int_equal(got.nadded, n);
	assert_memory_equal(got.added, u.added, n * SVRCERT_REVKEY_LEN);
	svrcert_gen_update_release(&got);
	svrcert_gen_update_release(&u);
	free(doc);
	signer_free(&g);
}

static uint8_t *find(uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	uint8_t *p = memmem(hay, n, needle, m);

	assert_non_null(p);
	return p;
}

/* Altered content, altered signature, cut short, trailing bytes. */
static void test_tampered(void **state)
{
	struct svrcert_gen_update u;
	struct signer g;
	uint8_t *doc = NULL, *big;
	size_t len = 0;

	signer_init(&g, "r1.key", "r1.pem", "r1");
	update(&u, SVRCERT_GEN_DELTA, 1, 2, 10);
	sign(&g, &u, &doc, &len);
	expect(doc, len, 0, NULL);
	/* one bit of the 5th added key */
	find(doc, len, u.added[4], SVRCERT_REVKEY_LEN)[31] ^= 1;
	expect(doc, len, -EBADMSG, "the signature does not verify (content "
	       "or signature altered)");
	free(doc);
	sign(&g, &u, &doc, &len);
	doc[len - 3] ^= 0x10;			/* inside the ECDSA value */
	expect(doc, len, -EBADMSG, "the signature does not verify");
	doc[len - 3] ^= 0x10;
	expect(doc, len - 10, -EBADMSG, "not a CMS document");
	big = malloc(len + 2);
	memcpy(big, doc, len);
	big[len] = 0x05;
	big[len + 1] = 0x00;
	expect(big, len + 2, -EBADMSG, "bytes after it");
	free(big);
	free(doc);
	svrcert_gen_update_release(&u);
	signer_free(&g);
}

/* Not CMS at all, CMS data, SignedData without a signer, two signers. */
static void test_unsigned(void **state)
{
	struct svrcert_gen_update u;
	uint8_t *content = NULL;
	unsigned char *out = NULL;
	size_t clen = 0;
	ASN1_OCTET_STRING **pos;
	CMS_ContentInfo *cms;
	X509 *r1 = NULL, *r2 = NULL;
	EVP_PKEY *k1 = testpki_key("r1.key"), *k2 = testpki_key("r2.key");
	FILE *f;
	BIO *in;
	int n;

	update(&u, SVRCERT_GEN_DELTA, 1, 2, 10);
	snprintf(u.conductor, sizeof(u.conductor), "r1");
	assert_int_equal(svrcert_gendoc_encode(&u, &content, &clen), 0);
	expect(content, clen, -EBADMSG, "not a CMS document");
	in = BIO_new_mem_buf(content, (int)clen);
	cms = CMS_data_create(in, CMS_BINARY);
	n = i2d_CMS_ContentInfo(cms, &out);
	expect(out, (size_t)n, -EBADMSG, "not signed: a CMS pkcs7-data");
	OPENSSL_free(out);
	out = NULL;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	/* SignedData holding the content and no signer */
	cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_BINARY | CMS_PARTIAL |
		       CMS_DETACHED);
	assert_non_null(pos = CMS_get0_content(cms));
	assert_non_null(*pos = ASN1_OCTET_STRING_new());
	assert_int_equal(ASN1_OCTET_STRING_set(*pos, content, (int)clen), 1);
	n = i2d_CMS_ContentInfo(cms, &out);
	expect(out, (size_t)n, -EBADMSG, "not signed: no signer");
	OPENSSL_free(out);
	out = NULL;
	CMS_ContentInfo_free(cms);
	f = fopen(testpki_path("r1.pem"), "r");
	r1 = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(testpki_path("r2.pem"), "r");
	r2 = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	/* r1 and r2 both sign */
	in = BIO_new_mem_buf(content, (int)clen);
	cms = CMS_sign(r1, k1, NULL, NULL, CMS_BINARY | CMS_PARTIAL);
	assert_non_null(CMS_add1_signer(cms, r2, k2, NULL, CMS_BINARY));
	assert_int_equal(CMS_final(cms, in, NULL, CMS_BINARY), 1);
	n = i2d_CMS_ContentInfo(cms, &out);
	expect(out, (size_t)n, -EBADMSG, "2 signers");
	OPENSSL_free(out);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	X509_free(r1);
	X509_free(r2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	free(content);
	svrcert_gen_update_release(&u);
}

/* KEY/CERT sign as NAME; a router expecting r1 refuses with RC, WHY. */
static void wrong(const char *key, const char *cert, const char *name,
		  int rc, const char *why)
{
	struct svrcert_gen_update u;
	struct signer g;
	uint8_t *doc = NULL;
	size_t len = 0;

	signer_init(&g, key, cert, name);
	update(&u, SVRCERT_GEN_DELTA, 1, 2, 3);
	sign(&g, &u, &doc, &len);
	expect(doc, len, rc, why);
	free(doc);
	svrcert_gen_update_release(&u);
	signer_free(&g);
}

static void test_wrong_signer(void **state)
{
	struct svrcert_gen_update u;
	struct signer g;
	uint8_t *doc = NULL;
	size_t len = 0;
	char err[256] = "";

	/* r2 is a valid router of the same CA, but not the conductor */
	wrong("r2.key", "r2.pem", "r2", -EKEYREJECTED,
	      "identity does not match \"r1\"");
	wrong("r2.key", "r2.pem", "r1", -EKEYREJECTED, "may not speak for "
	      "conductor r1");
	/* CN=r1 from a CA the router does not trust */
	wrong("r1.key", "bad-untrusted.pem", "r1", -EKEYREJECTED,
	      "may not speak for conductor r1");
	/* CN=r1, revoked by the CA's CRL */
	wrong("r1.key", "bad-revoked.pem", "r1", -EKEYREVOKED,
	      "may not speak for conductor r1");
	/* CN=r1, expired */
	wrong("r1.key", "bad-expired.pem", "r1", -EKEYREJECTED,
	      "may not speak for conductor r1");
	/* the right signer, a document naming another conductor */
	wrong("r1.key", "r1.pem", "r9", -EKEYREJECTED,
	      "the update names conductor \"r9\", not r1");
	/* a key that is not the certificate's: nothing is signed */
	signer_init(&g, "r2.key", "r1.pem", "r1");
	update(&u, SVRCERT_GEN_DELTA, 1, 2, 3);
	assert_int_equal(svrcert_conductor_sign(&g.s, &u, &doc, &len, err,
						sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "the key cannot sign for this certificate"));
	assert_null(doc);
	svrcert_gen_update_release(&u);
	signer_free(&g);
}

/* Genuine documents, verified, applied out of order: the older one is a
 * rollback; the next delta still applies. */
static void test_rollback_refused(void **state)
{
	struct svrcert_validate_params vp;
	struct svrcert_gen_update u, got;
	struct svrcert_gen_held h = { 0 };
	uint8_t *d3 = NULL, *d5 = NULL, *d6 = NULL;
	size_t l3, l5, l6;
	struct signer g;
	char err[256];

	signer_init(&g, "r1.key", "r1.pem", "r1");
	update(&u, SVRCERT_GEN_FULL, 0, 3, 4);
	sign(&g, &u, &d3, &l3);
	svrcert_gen_update_release(&u);
	update(&u, SVRCERT_GEN_FULL, 0, 5, 6);
	sign(&g, &u, &d5, &l5);
	svrcert_gen_update_release(&u);
	update(&u, SVRCERT_GEN_DELTA, 5, 6, 2);		/* new keys: salt 6 */
	sign(&g, &u, &d6, &l6);
	svrcert_gen_update_release(&u);
	params(&vp, "r1");
	assert_int_equal(svrcert_conductor_verify(d5, l5, &vp, &got, err,
						  sizeof(err)), 0);
	assert_int_equal(svrcert_gen_held_apply(&h, &got, err, sizeof(err)), 0);
	svrcert_gen_update_release(&got);
	assert_int_equal(svrcert_conductor_verify(d3, l3, &vp, &got, err,
						  sizeof(err)), 0);
	assert_int_equal(svrcert_gen_held_apply(&h, &got, err, sizeof(err)),
			 -ESTALE);
	assert_non_null(strstr(err, "rollback refused: generation 3 is older "
				    "than the held 5"));
	svrcert_gen_update_release(&got);
	assert_int_equal(h.gen, 5);
	assert_int_equal(svrcert_conductor_verify(d6, l6, &vp, &got, err,
						  sizeof(err)), 0);
	assert_int_equal(svrcert_gen_held_apply(&h, &got, err, sizeof(err)), 0);
	svrcert_gen_update_release(&got);
	assert_int_equal(h.gen, 6);
	assert_int_equal(h.n, 8);
	svrcert_gen_held_release(&h);
	free(d3);
	free(d5);
	free(d6);
	signer_free(&g);
}

/* A swtpm and a state directory for the TPM test, stopped and removed
 * whatever the test's outcome. */
struct tpm_fx {
	struct swtpm_fixture tpm;
	struct signer g;
};

static int tpm_setup(void **state)
{
	struct tpm_fx *f = calloc(1, sizeof(*f));

	if (!f || swtpm_start(&f->tpm))
		return -1;
	signer_init(&f->g, NULL, NULL, "r1");
	f->g.s.storage = TPM_KEY_STORAGE_TPM;
	*state = f;
	return 0;
}

static int tpm_teardown(void **state)
{
	struct tpm_fx *f = *state;

	signer_free(&f->g);
	swtpm_stop(&f->tpm);
	free(f);
	return 0;
}

/* The key generated in the TPM, its CSR signed there, the certificate
 * issued by the test CA into cert.pem. */
static void tpm_provision(struct signer *g)
{
	struct csr_request req = { .organization = "svrcert test" };
	EVP_PKEY *key = NULL;
	char *pem = NULL, err[256] = "", path[128];
	struct tpm_ctx t;

	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(tpm_key_generate(&t, &g->st, true), 0);
	assert_int_equal(tpm_key_load(&t, &g->st, &key), 0);
	assert_int_equal(csr_build_pem(&t, key, "r1", &req, &pem, err,
				       sizeof(err)), 0);
	EVP_PKEY_free(key);
	tpm_ctx_close(&t);
	snprintf(path, sizeof(path), "%s/req.csr", g->dir);
	assert_int_equal(atomic_write_file(path, pem, strlen(pem), 0644), 0);
	free(pem);
	assert_int_equal(fixture_sh("tests/pki/mkpki.sh sign %s %s %s/%s 30 "
				    ">/dev/null 2>&1", testpki_dir, path,
				    g->dir, STORE_CERT), 0);
}

/* The conductor's key in a real swtpm signs the update; a router takes
 * it, and refuses it with the TPM's signature altered. */
static void test_tpm_signer(void **state)
{
	struct tpm_fx *f = *state;
	struct svrcert_validate_params vp;
	struct svrcert_gen_update u, got;
	uint8_t *doc = NULL;
	char err[256] = "";
	size_t len = 0;

	tpm_provision(&f->g);
	update(&u, SVRCERT_GEN_DELTA, 10, 11, 10);
	sign(&f->g, &u, &doc, &len);
	print_message("10-key delta signed in the TPM: %zu bytes\n", len);
	params(&vp, "r1");
	assert_int_equal(svrcert_conductor_verify(doc, len, &vp, &got, err,
						  sizeof(err)), 0);
	assert_int_equal(got.gen, 11);
	assert_memory_equal(got.added, u.added, 10 * SVRCERT_REVKEY_LEN);
	svrcert_gen_update_release(&got);
	doc[len - 3] ^= 0x01;
	expect(doc, len, -EBADMSG, "the signature does not verify");
	free(doc);
	svrcert_gen_update_release(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify_sizes),
		cmocka_unit_test(test_full_million),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_wrong_signer),
		cmocka_unit_test(test_rollback_refused),
		cmocka_unit_test_setup_teardown(test_tpm_signer, tpm_setup,
						tpm_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
