// SPDX-License-Identifier: GPL-2.0
/*
 * Signature check over the TBSCertList bytes as they appear in the file.
 * Verifying the original bytes (not a re-encoding) is what lets the walker
 * skip building an X509_CRL, and it is also what RFC 5280 asks for.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crl_verify.h"
#include "lib/util.h"

struct sig_params {
	const EVP_MD *md;	/* digest of the signature */
	int pkey_base;		/* EVP_PKEY_RSA or EVP_PKEY_EC */
	bool pss;
	const EVP_MD *mgf1_md;
	int salt_len;
};

static const EVP_MD *allowed_md(int md_nid)
{
	switch (md_nid) {
	case NID_sha256:
		return EVP_sha256();
	case NID_sha384:
		return EVP_sha384();
	case NID_sha512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

static const char *nid_name(int nid)
{
	const char *s = OBJ_nid2ln(nid);

	return s ? s : "unknown";
}

/* Digest named by an AlgorithmIdentifier; absent means SHA-1 (RFC 4055). */
static const EVP_MD *pss_digest(const X509_ALGOR *a)
{
	return allowed_md(a ? OBJ_obj2nid(a->algorithm) : NID_sha1);
}

/* MGF1 with its digest; absent means MGF1 with SHA-1 (RFC 4055). */
static const EVP_MD *mgf1_digest(const X509_ALGOR *mgf)
{
	const ASN1_TYPE *param;
	X509_ALGOR *hash;
	const EVP_MD *md;

	if (!mgf)
		return NULL;
	param = mgf->parameter;
	if (OBJ_obj2nid(mgf->algorithm) != NID_mgf1 || !param ||
	    param->type != V_ASN1_SEQUENCE)
		return NULL;
	hash = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR), param);
	md = hash ? pss_digest(hash) : NULL;
	X509_ALGOR_free(hash);
	return md;
}

static int decode_pss(const X509_ALGOR *alg, struct sig_params *sp,
		      char *err, size_t errlen)
{
	const ASN1_TYPE *param = alg->parameter;
	RSA_PSS_PARAMS *pss = NULL;
	long salt = 20, trailer = 1;
	int rc = 0;

	if (param && param->type == V_ASN1_SEQUENCE)
		pss = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS),
						param);
	if (!pss)
		return svrcert_fail(err, errlen, -EBADMSG,
			    "RSA-PSS signature without valid parameters");
	sp->pss = true;
	sp->pkey_base = EVP_PKEY_RSA;
	sp->md = pss_digest(pss->hashAlgorithm);
	sp->mgf1_md = mgf1_digest(pss->maskGenAlgorithm);
	if (pss->saltLength)
		salt = ASN1_INTEGER_get(pss->saltLength);
	if (pss->trailerField)
		trailer = ASN1_INTEGER_get(pss->trailerField);
	if (!sp->md || !sp->mgf1_md)
		rc = svrcert_fail(err, errlen, -EPROTONOSUPPORT,
			  "unsupported RSA-PSS digest (SHA-256/384/512 with MGF1 required)");
	else if (salt < 0 || salt > 1024 || trailer != 1)
		rc = svrcert_fail(err, errlen, -EBADMSG,
			  "invalid RSA-PSS salt length or trailer field");
	sp->salt_len = (int)salt;
	RSA_PSS_PARAMS_free(pss);
	return rc;
}

static int decode_alg(const X509_ALGOR *alg, struct sig_params *sp,
		      int *sig_nid, char *err, size_t errlen)
{
	int nid = OBJ_obj2nid(alg->algorithm), md_nid, pk_nid, ptype;
	const void *pval;

	*sig_nid = nid;
	if (nid == NID_rsassaPss)
		return decode_pss(alg, sp, err, errlen);
	if (!OBJ_find_sigid_algs(nid, &md_nid, &pk_nid))
		return svrcert_fail(err, errlen, -EPROTONOSUPPORT,
			    "unsupported signature algorithm %s", nid_name(nid));
	sp->md = allowed_md(md_nid);
	if (!sp->md || (pk_nid != NID_rsaEncryption &&
			pk_nid != NID_X9_62_id_ecPublicKey))
		return svrcert_fail(err, errlen, -EPROTONOSUPPORT,
			    "signature algorithm %s not allowed (SHA-256/384/512 with RSA, ECDSA or RSA-PSS only)",
			    nid_name(nid));
	sp->pkey_base = pk_nid == NID_rsaEncryption ? EVP_PKEY_RSA : EVP_PKEY_EC;
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	/* RSA: NULL parameters (RFC 4055); ECDSA: absent (RFC 5758), NULL
	 * tolerated because some signers (tpm2-openssl 1.1.1) emit it. */
	if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL)
		return svrcert_fail(err, errlen, -EBADMSG,
			    "unexpected parameters in %s AlgorithmIdentifier",
			    nid_name(nid));
	return 0;
}

bool svrcert_ec_named_curve(EVP_PKEY *pkey)
{
	char enc[32] = "";
	size_t len = 0;
	bool named;

	if (!EVP_PKEY_is_a(pkey, "EC"))
		return true;
	/* No encoding parameter at all means a key that is not usable either. */
	named = EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING,
					       enc, sizeof(enc), &len) == 1 &&
		!strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP);
	ERR_clear_error();
	return named;
}

static int key_matches(EVP_PKEY *pkey, const struct sig_params *sp)
{
	int base = EVP_PKEY_get_base_id(pkey);

	if (sp->pkey_base == EVP_PKEY_EC)
		return base == EVP_PKEY_EC;
	return base == EVP_PKEY_RSA || (sp->pss && base == EVP_PKEY_RSA_PSS);
}

static int setup_pss(EVP_PKEY_CTX *pctx, const struct sig_params *sp)
{
	if (!sp->pss)
		return 1;
	return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, sp->salt_len) > 0 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, sp->mgf1_md) > 0;
}

static int do_verify(const unsigned char *tbs, size_t tbs_len,
		     const ASN1_BIT_STRING *sig, EVP_PKEY *pkey,
		     const struct sig_params *sp, char *err, size_t errlen)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int rc, ok;

	if (!mctx)
		return svrcert_fail(err, errlen, -ENOMEM, "out of memory");
	ok = EVP_DigestVerifyInit(mctx, &pctx, sp->md, NULL, pkey) > 0 &&
	     setup_pss(pctx, sp);
	if (!ok)
		rc = svrcert_fail(err, errlen, -EKEYREJECTED,
			  "cannot set up signature verification with the issuer key");
	else if (EVP_DigestVerify(mctx, ASN1_STRING_get0_data(sig),
				  (size_t)ASN1_STRING_length(sig),
				  tbs, tbs_len) == 1)
		rc = 0;
	else
		rc = svrcert_fail(err, errlen, -EKEYREJECTED,
			  "bad signature: CRL not signed by the issuer's key");
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return rc;
}

int svrcert_crl_verify_tbs(const unsigned char *tbs, size_t tbs_len,
			   const unsigned char *alg_der, long alg_len,
			   const unsigned char *sig_der, long sig_len,
			   EVP_PKEY *pkey, int *sig_nid,
			   char *err, size_t errlen)
{
	struct sig_params sp = { 0 };
	X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &alg_der, alg_len);
	ASN1_BIT_STRING *sig = NULL;
	int rc, nid = NID_undef;

	if (!alg) {
		rc = svrcert_fail(err, errlen, -EBADMSG,
			  "malformed signatureAlgorithm");
		goto out;
	}
	rc = decode_alg(alg, &sp, &nid, err, errlen);
	if (rc)
		goto out;
	sig = d2i_ASN1_BIT_STRING(NULL, &sig_der, sig_len);
	if (!sig || (sig->flags & 0x07)) {
		rc = svrcert_fail(err, errlen, -EBADMSG, "malformed signatureValue");
		goto out;
	}
	if (!key_matches(pkey, &sp)) {
		rc = svrcert_fail(err, errlen, -EKEYREJECTED,
			  "issuer key type does not match signature algorithm %s",
			  nid_name(nid));
		goto out;
	}
	if (!svrcert_ec_named_curve(pkey)) {
		rc = svrcert_fail(err, errlen, -EKEYREJECTED,
			  "issuer key has explicit EC curve parameters (named curves only, RFC 5480)");
		goto out;
	}
	rc = do_verify(tbs, tbs_len, sig, pkey, &sp, err, errlen);
out:
	if (sig_nid)
		*sig_nid = nid;
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(sig);
	ERR_clear_error();
	return rc;
}
