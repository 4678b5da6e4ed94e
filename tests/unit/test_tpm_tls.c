// SPDX-License-Identifier: GPL-2.0
/*
 * The router's TPM key signing TLS 1.3 handshakes, for every key type
 * SSR offers that swtpm makes: a key generated in a real swtpm, a
 * certificate for its public half, and a TLS 1.3 handshake over a BIO pair
 * in which the server signs CertificateVerify through the TPM bridge
 * (tpm_tls.c for RSA: RSA-PSS; peer authentication's pa_load_key for
 * both)
 * and the client checks that signature. The signature scheme the client
 * saw is asserted (RSA-PSS with SHA-256; ECDSA with SHA-256/384/512 by
 * curve). A wrong key fails the handshake, so the test can fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "swtpm_fixture.h"

#include "peer/peerauth_int.h"
#include "lib/store.h"
#include "tpm/tpm.h"

struct fx {
	struct swtpm_fixture tpm;
	char dir[64];
	struct svrcert_store st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(swtpm_start(&f->tpm), 0);
	assert_int_equal(fixture_tempdir(f->dir, "tls"), 0);
	assert_int_equal(store_open(&f->st, f->dir), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(&f->st);
	swtpm_stop(&f->tpm);
	fixture_rm_rf(f->dir);
	free(f);
	return 0;
}

static void generate(struct fx *f, const char *alg, const char *curve,
		     long bits)
{
	struct tpm_key_spec spec;
	struct tpm_ctx t;
	char err[256];

	assert_int_equal(tpm_key_spec_parse(&spec, alg, curve, bits, err,
					    sizeof(err)), 0);
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(tpm_key_generate_spec(&t, &f->st, &spec, true), 0);
	tpm_ctx_close(&t);
}

/* A certificate for the stored public key, signed by a throw-away key:
 * the client below checks the handshake signature, not the chain. */
static X509 *cert_for(struct fx *f)
{
	EVP_PKEY *pub = NULL, *ca = EVP_EC_gen("P-256");
	X509 *x = X509_new();

	assert_int_equal(tpm_pubkey_load(&f->st, &pub), 0);
	assert_non_null(ca);
	assert_true(X509_set_version(x, X509_VERSION_3) &&
		    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
		    X509_gmtime_adj(X509_getm_notBefore(x), -60) &&
		    X509_gmtime_adj(X509_getm_notAfter(x), 3600) &&
		    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
					       MBSTRING_ASC,
					       (const unsigned char *)"r1", -1,
					       -1, 0) &&
		    X509_set_issuer_name(x, X509_get_subject_name(x)) &&
		    X509_set_pubkey(x, pub) && X509_sign(x, ca, EVP_sha256()));
	EVP_PKEY_free(pub);
	EVP_PKEY_free(ca);
	return x;
}

static SSL_CTX *tls13_ctx(const SSL_METHOD *m)
{
	SSL_CTX *c = SSL_CTX_new(m);

	assert_non_null(c);
	SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
	return c;
}

/* Handshake with KEY (server) and X; 1 when it completed. The client's
 * view of the server's signature in *SIG_TYPE and *SIG_MD. */
static int handshake(EVP_PKEY *key, X509 *x, int *sig_type, int *sig_md)
{
	SSL_CTX *sc = tls13_ctx(TLS_server_method());
	SSL_CTX *cc = tls13_ctx(TLS_client_method());
	SSL *s, *c;
	BIO *bs, *bc;
	int i, rs = 0, rc = 0;

	assert_int_equal(SSL_CTX_use_certificate(sc, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sc, key), 1);
	s = SSL_new(sc);
	c = SSL_new(cc);
	assert_int_equal(BIO_new_bio_pair(&bs, 0, &bc, 0), 1);
	SSL_set_bio(s, bs, bs);
	SSL_set_bio(c, bc, bc);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (i = 0; i < 20 && (rs != 1 || rc != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		if (rs != 1)
			rs = SSL_do_handshake(s);
	}
	*sig_type = *sig_md = NID_undef;
	SSL_get_peer_signature_type_nid(c, sig_type);
	SSL_get_peer_signature_nid(c, sig_md);
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(sc);
	SSL_CTX_free(cc);
	ERR_clear_error();
	return rs == 1 && rc == 1;
}

static void check_rsa(struct fx *f, long bits)
{
	EVP_PKEY *key = NULL;
	char err[256];
	int type, md;
	X509 *x;

	generate(f, "RSA", NULL, bits);
	assert_int_equal(tpm_tls_rsa_key(&f->st, NULL, &key, err, sizeof(err)), 0);
	x = cert_for(f);
	assert_int_equal(handshake(key, x, &type, &md), 1);
	assert_int_equal(type, NID_rsassaPss);
	assert_int_equal(md, NID_sha256);
	EVP_PKEY_free(key);
	/* The same through peer authentication's key loader. */
	key = NULL;
	assert_int_equal(pa_load_key(NULL, &f->st, &key, err, sizeof(err)), 0);
	assert_int_equal(handshake(key, x, &type, &md), 1);
	assert_int_equal(type, NID_rsassaPss);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void test_rsa2048_pss(void **state)
{
	check_rsa(*state, 2048);
}

static void test_rsa3072_pss(void **state)
{
	check_rsa(*state, 3072);
}

/* EC keys through peer authentication's own bridge (peerauth_key.c). */
static void test_ec_curves(void **state)
{
	static const struct { const char *curve; int md; } c[] = {
		{ "P-256", NID_sha256 }, { "P-384", NID_sha384 },
		{ "P-521", NID_sha512 },
	};
	struct fx *f = *state;
	EVP_PKEY *key;
	char err[256];
	int type, md;
	size_t i;
	X509 *x;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		print_message("EC %s\n", c[i].curve);
		generate(f, "EC", c[i].curve, 0);
		key = NULL;
		assert_int_equal(pa_load_key(NULL, &f->st, &key, err,
					     sizeof(err)), 0);
		x = cert_for(f);
		assert_int_equal(handshake(key, x, &type, &md), 1);
		assert_int_equal(type, NID_X9_62_id_ecPublicKey);
		assert_int_equal(md, c[i].md);
		X509_free(x);
		EVP_PKEY_free(key);
	}
}

/* The bridge signs with the key in the TPM, not with the public half it
 * holds: after the TPM key is replaced, the old certificate's handshake
 * fails (the client checks the signature against the certificate). */
static void test_rsa_signature_is_the_tpm_keys(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *key = NULL;
	char err[256];
	int type, md;
	X509 *x;

	generate(f, "RSA", NULL, 2048);
	x = cert_for(f);
	assert_int_equal(tpm_tls_rsa_key(&f->st, NULL, &key, err, sizeof(err)), 0);
	generate(f, "RSA", NULL, 2048);	/* the TPM blob changes, not KEY */
	assert_int_equal(handshake(key, x, &type, &md), 0);
	EVP_PKEY_free(key);
	X509_free(x);
	/* An EC key is not RSA. */
	generate(f, "EC", NULL, 0);
	assert_int_equal(tpm_tls_rsa_key(&f->st, NULL, &key, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not an RSA key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rsa2048_pss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa3072_pss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ec_curves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_signature_is_the_tpm_keys,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
