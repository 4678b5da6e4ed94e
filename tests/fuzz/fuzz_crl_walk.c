// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the CRL walker.
 *
 * A mutated CRL almost never keeps a valid signature, so the public entry
 * point alone would stop at verification. The input is therefore also fed
 * to the two internal stages that run on signed data only: the
 * revokedCertificates walk (as a direct and as an indirect CRL) and the
 * crlExtensions decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crl/crl_walk.h"
#include "crl/crl_walk_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static STACK_OF(X509) *trusted;

/* A self-signed P-256 CA named like the seed corpus' issuer. */
static X509 *make_ca(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)"fuzz CA", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_sign(x, key, EVP_sha256());
	EVP_PKEY_free(key);
	return x;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	trusted = sk_X509_new_null();
	sk_X509_push(trusted, make_ca());
	return 0;
}

static void walk_internal(const uint8_t *data, size_t size, bool indirect)
{
	static const unsigned char issuer[] = {	/* SEQUENCE { } : empty Name */
		0x30, 0x00
	};
	struct svrcert_crl out = { 0 };
	char err[256];
	struct crl_walker w = { .base = data, .out = &out, .err = err,
				.errlen = sizeof(err) };
	struct crlw_tlv t = { .hdr = data, .val = data, .len = (long)size,
			      .tag = V_ASN1_SEQUENCE, .cons = true };

	out.issuer_der = malloc(sizeof(issuer));
	memcpy(out.issuer_der, issuer, sizeof(issuer));
	out.issuer_der_len = sizeof(issuer);
	out.indirect = indirect;
	if (!crlw_walk_entries(&w, &t) && out.nkeys > 1 &&
	    memcmp(out.keys[0], out.keys[1], SVRCERT_REVKEY_LEN) >= 0)
		abort();	/* keys must come out sorted and unique */
	crlw_walker_cleanup(&w);
	svrcert_crl_release(&out);
	if (!indirect) {
		struct crl_walker w2 = { .base = data, .out = &out, .err = err,
					 .errlen = sizeof(err) };

		crlw_crl_extensions(&w2, &t);
		crlw_walker_cleanup(&w2);
		svrcert_crl_release(&out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svrcert_crl crl;
	char err[256];

	if (!svrcert_crl_walk(data, size, trusted, &crl, err, sizeof(err)))
		svrcert_crl_release(&crl);
	else if (!err[0])
		abort();	/* every rejection must say why */
	walk_internal(data, size, false);
	walk_internal(data, size, true);
	return 0;
}
