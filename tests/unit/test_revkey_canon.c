// SPDX-License-Identifier: GPL-2.0
/*
 * Revocation keys from canonical issuer names (crl/crl_revkey.h), with
 * cases like NIST PKITS 4.3 (name chaining): a certificate whose issuer
 * differs from its CA's subject only in case, white space or string type
 * chains in OpenSSL (X509_NAME_cmp, X509_check_issued), so a CRL from that
 * CA revoking it must yield the certificate's own key. Names OpenSSL tells
 * apart must still give distinct keys. Everything is built here with the
 * OpenSSL API: a P-256 CA "O=svrcert test, CN=Good CA" (PrintableString),
 * leaves signed by it under variant issuer names, and CRLs it signs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "crl/crl_master.h"
#include "crl/crl_revkey.h"
#include "crl/crl_walk.h"
#include "pki/pki.h"

struct fx {
	EVP_PKEY *key;
	X509 *ca;
};

/* One attribute; TYPE a V_ASN1_* string type, VAL its raw content. */
struct attr {
	const char *field;
	int type;
	const char *val;
	size_t len;	/* 0: strlen(val) */
	bool join;	/* same RDN as the attribute before (multi-valued) */
};

static X509_NAME *mkname(const struct attr *a, size_t n)
{
	X509_NAME *nm = X509_NAME_new();

	assert_non_null(nm);
	for (size_t i = 0; i < n; i++) {
		X509_NAME_ENTRY *e = X509_NAME_ENTRY_create_by_txt(NULL,
			a[i].field, a[i].type, (const unsigned char *)a[i].val,
			(int)(a[i].len ? a[i].len : strlen(a[i].val)));

		assert_non_null(e);
		assert_int_equal(X509_NAME_add_entry(nm, e, -1, a[i].join ? -1 : 0), 1);
		X509_NAME_ENTRY_free(e);
	}
	return nm;
}

#define NAME(...) ({ const struct attr _a[] = { __VA_ARGS__ }; \
		     mkname(_a, sizeof(_a) / sizeof(_a[0])); })
#define PS(f, v) { f, V_ASN1_PRINTABLESTRING, v, 0, false }
#define U8(f, v) { f, V_ASN1_UTF8STRING, v, 0, false }

static X509_NAME *good_ca(void)
{
	return NAME(PS("O", "svrcert test"), PS("CN", "Good CA"));
}

static X509 *mkcert(EVP_PKEY *key, const X509_NAME *subject,
		    const X509_NAME *issuer, long serial)
{
	X509 *x = X509_new();

	assert_non_null(x);
	assert_true(X509_set_version(x, X509_VERSION_3) &&
		    ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
		    X509_set_subject_name(x, subject) &&
		    X509_set_issuer_name(x, issuer) &&
		    X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
		    X509_gmtime_adj(X509_getm_notAfter(x), 86400) &&
		    X509_set_pubkey(x, key) &&
		    X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	X509_NAME *n = good_ca();
	BASIC_CONSTRAINTS bc = { .ca = 1 };

	f->key = EVP_EC_gen("P-256");
	f->ca = X509_new();
	assert_true(f->key && f->ca);
	assert_true(X509_set_version(f->ca, X509_VERSION_3) &&
		    ASN1_INTEGER_set(X509_get_serialNumber(f->ca), 1) &&
		    X509_set_subject_name(f->ca, n) &&
		    X509_set_issuer_name(f->ca, n) &&
		    X509_gmtime_adj(X509_getm_notBefore(f->ca), -3600) &&
		    X509_gmtime_adj(X509_getm_notAfter(f->ca), 86400) &&
		    X509_set_pubkey(f->ca, f->key) &&
		    X509_add1_ext_i2d(f->ca, NID_basic_constraints, &bc, 1, 0) &&
		    X509_sign(f->ca, f->key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	X509_free(f->ca);
	EVP_PKEY_free(f->key);
	free(f);
	return 0;
}

static void key_of(const X509_NAME *issuer, long serial, uint8_t out[32])
{
	ASN1_INTEGER *s = ASN1_INTEGER_new();

	assert_true(s && ASN1_INTEGER_set(s, serial));
	assert_int_equal(svrcert_revkey_compute(issuer, s, out), 0);
	ASN1_INTEGER_free(s);
}

/* "Good CA" in UCS-2 big-endian, for a BMPString. */
static const char bmp_good_ca[] = "\0G\0o\0o\0d\0 \0C\0A";

/* PKITS 4.3-like issuer variants OpenSSL matches to "Good CA". */
static X509_NAME *same_name(int i)
{
	switch (i) {
	case 0: return NAME(PS("O", "svrcert test"), PS("CN", "good  ca"));
	case 1: return NAME(PS("O", "SVRCERT TEST"), U8("CN", "Good CA"));
	case 2: return NAME(U8("O", "  svrcert   test "), U8("CN", "gOOD\tCa"));
	case 3: return NAME(PS("O", "svrcert test"),
			    { "CN", V_ASN1_BMPSTRING, bmp_good_ca, 14, false });
	case 4: return NAME({ "O", V_ASN1_IA5STRING, "svrcert\n test", 0, false },
			    { "CN", V_ASN1_T61STRING, "Good CA ", 0, false });
	default: return NULL;
	}
}

/* Names OpenSSL tells apart from "Good CA" (and from each other). */
static X509_NAME *other_name(int i)
{
	switch (i) {
	case 0: return NAME(PS("O", "svrcert test"), PS("CN", "Good CA2"));
	case 1: return NAME(PS("O", "svrcert test"), PS("CN", "GoodCA"));
	case 2: return NAME(PS("O", "svrcert test"), PS("CN", "Good C A"));
	case 3: return NAME(PS("CN", "Good CA"), PS("O", "svrcert test"));
	case 4: return NAME(PS("O", "svrcert test"),
			    { "CN", V_ASN1_PRINTABLESTRING, "Good CA", 0, true });
	case 5: return NAME(PS("O", "svrcert test"), PS("OU", "Good CA"));
	case 6: return NAME(PS("CN", "Good CA"));
	case 7: return NAME(PS("O", "svrcert test"), U8("CN", "Good CA\xc3\x89"));
	case 8: return NAME(PS("O", "svrcert test"), U8("CN", "Good CA\xc3\xa9"));
	default: return NULL;
	}
}

static bool same_der(const X509_NAME *a, const X509_NAME *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_X509_NAME(a, &da), lb = i2d_X509_NAME(b, &db);
	bool same = la == lb && !memcmp(da, db, (size_t)la);

	assert_true(la > 0 && lb > 0);
	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

static void test_same_names_same_key(void **state)
{
	X509_NAME *ca = good_ca(), *v;
	uint8_t want[32], got[32];
	int i;

	(void)state;
	key_of(ca, 4242, want);
	for (i = 0; (v = same_name(i)); i++) {
		/* OpenSSL calls the names equal (RFC 5280 7.1) ... */
		assert_int_equal(X509_NAME_cmp(ca, v), 0);
		/* ... though their bytes differ ... */
		assert_false(same_der(ca, v));
		/* ... so the revocation key is the same. */
		key_of(v, 4242, got);
		if (memcmp(want, got, 32))
			fail_msg("issuer variant %d gives another revocation key", i);
		X509_NAME_free(v);
	}
	X509_NAME_free(ca);
}

static void test_other_names_other_keys(void **state)
{
	enum { N = 9 };
	uint8_t k[N + 1][32];
	X509_NAME *ca = good_ca(), *v;
	int i, j;

	(void)state;
	key_of(ca, 4242, k[N]);
	for (i = 0; (v = other_name(i)); i++) {
		assert_int_not_equal(X509_NAME_cmp(ca, v), 0);
		key_of(v, 4242, k[i]);
		X509_NAME_free(v);
	}
	assert_int_equal(i, N);
	for (i = 0; i <= N; i++)
		for (j = i + 1; j <= N; j++)
			if (!memcmp(k[i], k[j], 32))
				fail_msg("names %d and %d give one key", i, j);
	/* Same issuer, other serial: other key. */
	key_of(ca, 4243, k[0]);
	assert_memory_not_equal(k[0], k[N], 32);
}

/* The canonical form is a Name itself: UTF8String, lower case, one space. */
static void test_canon_der(void **state)
{
	X509_NAME *v = same_name(2), *want = NAME(U8("O", "svrcert test"),
						   U8("CN", "good ca"));
	unsigned char *der = NULL, *wder = NULL;
	size_t len = 0;
	int wlen;

	(void)state;
	assert_int_equal(svrcert_name_canon_der(v, &der, &len), 0);
	wlen = i2d_X509_NAME(want, &wder);
	assert_int_equal(len, wlen);
	assert_memory_equal(der, wder, len);
	OPENSSL_free(der);
	OPENSSL_free(wder);
	X509_NAME_free(v);
	X509_NAME_free(want);
}

static X509_CRL *mkcrl(struct fx *f, const long *serials, size_t n)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = X509_gmtime_adj(NULL, 0), *next = X509_gmtime_adj(NULL, 86400);

	assert_true(crl && t && next);
	assert_true(X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
		    X509_CRL_set_issuer_name(crl, X509_get_subject_name(f->ca)) &&
		    X509_CRL_set1_lastUpdate(crl, t) &&
		    X509_CRL_set1_nextUpdate(crl, next));
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();

		assert_true(r && s && ASN1_INTEGER_set(s, serials[i]) &&
			    X509_REVOKED_set_serialNumber(r, s) &&
			    X509_REVOKED_set_revocationDate(r, t) &&
			    X509_CRL_add0_revoked(crl, r));
		ASN1_INTEGER_free(s);
	}
	assert_true(X509_CRL_sort(crl) && X509_CRL_sign(crl, f->key, EVP_sha256()) > 0);
	ASN1_TIME_free(t);
	ASN1_TIME_free(next);
	return crl;
}

/*
 * The whole path: a leaf issued under each variant name chains to the CA in
 * OpenSSL, and the CA's CRL revoking its serial, walked by crl_walk, holds
 * the key svrcert_revkey_from_cert gives the leaf (the key svrcertd hands
 * the kernel for the peer). A leaf with a serial not on the CRL is absent.
 */
static void test_crl_revokes_variant_issuer(void **state)
{
	struct fx *f = *state;
	const long serials[] = { 100, 101, 102, 103, 104 };
	X509_CRL *crl = mkcrl(f, serials, 5);
	unsigned char *der = NULL;
	int len = i2d_X509_CRL(crl, &der);
	STACK_OF(X509) *trusted = sk_X509_new_null();
	struct svrcert_crl out = { 0 };
	char err[256] = "";
	uint8_t k[32];
	X509_NAME *v, *subj = NAME(PS("CN", "leaf"));
	int i;

	assert_true(len > 0 && trusted && sk_X509_push(trusted, f->ca));
	assert_int_equal(svrcert_crl_walk(der, (size_t)len, trusted, &out, err,
					  sizeof(err)), 0);
	assert_int_equal(out.nkeys, 5);
	for (i = 0; (v = same_name(i)); i++) {
		X509 *leaf = mkcert(f->key, subj, v, serials[i]);
		X509 *other = mkcert(f->key, subj, v, 999);

		assert_int_equal(X509_check_issued(f->ca, leaf), X509_V_OK);
		assert_int_equal(svrcert_revkey_from_cert(leaf, k), 0);
		if (!svrcert_revkeys_contains(out.keys, out.nkeys, k))
			fail_msg("leaf under issuer variant %d is not revoked", i);
		assert_int_equal(svrcert_revkey_from_cert(other, k), 0);
		assert_false(svrcert_revkeys_contains(out.keys, out.nkeys, k));
		X509_free(leaf);
		X509_free(other);
		X509_NAME_free(v);
	}
	svrcert_crl_release(&out);
	sk_X509_free(trusted);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	X509_NAME_free(subj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_names_same_key),
		cmocka_unit_test(test_other_names_other_keys),
		cmocka_unit_test(test_canon_der),
		cmocka_unit_test_setup_teardown(test_crl_revokes_variant_issuer,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
