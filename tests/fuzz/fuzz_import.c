// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the certificate import path (import_certificate) on
 * arbitrary bytes, against a state directory with a router key and a
 * trusted CA made at start-up. Whatever the input, it must not crash,
 * leak or touch memory it should not; and a rejected input must leave the
 * installed certificate as it was.
 *
 * The state directory does not change between inputs, so what the rules
 * check against (trust store, held CRLs, router key) is read once
 * (import_env_open): read per input, its OpenSSL key decodes were ~70 %
 * of the time and held the target to ~250 inputs/s.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/import.h"
#include "lib/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct svrcert_store st;
static struct audit_sink sink = { .path = "/dev/null" };
static struct import_params ip;
static struct import_env *env;

static int write_pem(const char *name, EVP_PKEY *pub, X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int ret;

	if (pub)
		PEM_write_bio_PUBKEY(bio, pub);
	if (cert)
		PEM_write_bio_X509(bio, cert);
	n = BIO_get_mem_data(bio, &p);
	ret = store_write(&st, name, p, (size_t)n, 0644);
	BIO_free(bio);
	return ret;
}

/* A self-signed P-256 root with critical CA:TRUE. */
static X509 *make_root(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_EXTENSION *ext;
	X509V3_CTX ctx;

	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"fuzz root", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
				  "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, key, EVP_sha256());
	return x;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/dev/shm/svrcert-fuzz-import.XXXXXX";
	EVP_PKEY *router = EVP_EC_gen("P-256"), *ca = EVP_EC_gen("P-256");
	char err[256];
	X509 *root;

	if (!mkdtemp(dir) || store_open(&st, dir) || !router || !ca)
		abort();
	root = make_root(ca);
	if (write_pem(STORE_PUBKEY, router, NULL) ||
	    write_pem(STORE_TRUSTED_CA_DIR "/fuzz.pem", NULL, root))
		abort();
	X509_free(root);
	EVP_PKEY_free(router);
	EVP_PKEY_free(ca);
	sink.st = &st;
	ip.st = &st;
	ip.audit = &sink;
	ip.expected_name = "fuzz-router";
	if (import_env_open(&ip, &env, err, sizeof(err))) {
		fprintf(stderr, "fuzz_import: %s\n", err);
		abort();
	}
	ip.env = env;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_result res;
	char *before = NULL, *after = NULL;
	int ret;

	store_read(&st, STORE_CERT, &before, NULL);
	ret = import_certificate(&ip, data, size, &res);
	store_unlock(&st);
	if (ret) {
		/* Rejected: the installed certificate is untouched. */
		store_read(&st, STORE_CERT, &after, NULL);
		if ((before == NULL) != (after == NULL) ||
		    (before && strcmp(before, after)))
			abort();
	}
	free(before);
	free(after);
	return 0;
}
