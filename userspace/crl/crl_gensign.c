// SPDX-License-Identifier: GPL-2.0
/*
 * The CMS around a conductor's update (crl_gendoc.h says what and why).
 * Signing builds the SignedData by its parts rather than with CMS_final:
 * the content digest is made here in software, then only the signed
 * attributes go through the key's provider (the TPM). Opening checks the
 * structure and the signature; whether the signer may speak for the
 * conductor is pki/'s question.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/cms.h>
#include <openssl/err.h>

#include "crl_gendoc.h"
#include "lib/util.h"

static int ossl_fail(char *err, size_t errlen, int rc, const char *what)
{
	unsigned long e = ERR_peek_last_error();

	svrcert_fail(err, errlen, rc, "%s%s%s%s", what, e ? " (" : "",
		     e && ERR_reason_error_string(e) ?
		     ERR_reason_error_string(e) : e ? "OpenSSL error" : "",
		     e ? ")" : "");
	ERR_clear_error();
	return rc;
}

/* The digest the key's size calls for (as tpm_key_digest does). */
static const char *digest_for(EVP_PKEY *key)
{
	if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) > 384)
		return "SHA512";
	if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) > 256)
		return "SHA384";
	return "SHA256";
}

/* Signed attributes contentType and messageDigest of CONTENT; the
 * signature over them (signingTime added) by SI's key. */
static int sign_attrs(CMS_SignerInfo *si, const EVP_MD *md,
		      const uint8_t *content, size_t len)
{
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	return EVP_Digest(content, len, dig, &dlen, md, NULL) &&
	       CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType,
					   V_ASN1_OBJECT,
					   OBJ_nid2obj(NID_pkcs7_data), -1) &&
	       CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest,
					   V_ASN1_OCTET_STRING, dig,
					   (int)dlen) &&
	       CMS_SignerInfo_sign(si);
}

/* CONTENT as the encapsulated eContent (left absent by CMS_DETACHED). */
static int embed(CMS_ContentInfo *cms, const uint8_t *content, size_t len)
{
	ASN1_OCTET_STRING **pos = CMS_get0_content(cms);

	if (!pos || len > INT_MAX)
		return 0;
	if (!*pos)
		*pos = ASN1_OCTET_STRING_new();
	return *pos && ASN1_OCTET_STRING_set(*pos, content, (int)len);
}

static int to_der(CMS_ContentInfo *cms, uint8_t **doc, size_t *doclen)
{
	unsigned char *out = NULL;
	int n = i2d_CMS_ContentInfo(cms, &out);

	if (n <= 0)
		return 0;
	*doc = malloc((size_t)n);
	if (*doc)
		memcpy(*doc, out, (size_t)n);
	*doclen = (size_t)n;
	OPENSSL_free(out);
	return *doc != NULL;
}

int svrcert_gendoc_sign(const uint8_t *content, size_t len, X509 *cert,
			EVP_PKEY *key, STACK_OF(X509) *chain,
			OSSL_LIB_CTX *libctx, const char *sign_propq,
			uint8_t **doc, size_t *doclen, char *err,
			size_t errlen)
{
	const unsigned int flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY |
				   CMS_NOSMIMECAP;
	/* The content digest in software: the libctx's default query. */
	EVP_MD *md = EVP_MD_fetch(libctx, digest_for(key), NULL);
	CMS_ContentInfo *cms = CMS_sign_ex(NULL, NULL, NULL, NULL, flags,
					   libctx, sign_propq);
	CMS_SignerInfo *si = NULL;
	int rc = 0, i;

	*doc = NULL;
	if (!md || !cms)
		rc = ossl_fail(err, errlen, -ENOMEM, "cannot start a CMS "
			       "signature");
	if (!rc && !(si = CMS_add1_signer(cms, cert, key, md, flags)))
		rc = ossl_fail(err, errlen, -EINVAL, "the key cannot sign for "
			       "this certificate");
	for (i = 0; !rc && i < sk_X509_num(chain); i++)
		if (!CMS_add1_cert(cms, sk_X509_value(chain, i)))
			rc = ossl_fail(err, errlen, -ENOMEM, "cannot add a "
				       "chain certificate");
	if (!rc && !sign_attrs(si, md, content, len))
		rc = ossl_fail(err, errlen, -EIO, "signing the revocation "
			       "update failed");
	if (!rc && (!embed(cms, content, len) || !to_der(cms, doc, doclen)))
		rc = ossl_fail(err, errlen, -ENOMEM, "cannot encode the "
			       "signed revocation update");
	CMS_ContentInfo_free(cms);
	EVP_MD_free(md);
	return rc;
}

/* What is wrong with CMS before any signature is checked, or 0. */
static int check_shape(CMS_ContentInfo *cms, char *err, size_t errlen)
{
	ASN1_OCTET_STRING **pos;
	int n;

	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		return svrcert_fail(err, errlen, -EBADMSG, "not signed: a CMS "
				    "%s, not SignedData",
				    OBJ_nid2sn(OBJ_obj2nid(CMS_get0_type(cms))));
	n = sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms));
	if (n < 1)
		return svrcert_fail(err, errlen, -EBADMSG, "not signed: no "
				    "signer");
	if (n > 1)
		return svrcert_fail(err, errlen, -EBADMSG, "%d signers (one "
				    "expected: the conductor)", n);
	if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data)
		return svrcert_fail(err, errlen, -EBADMSG, "content type is "
				    "not id-data");
	pos = CMS_get0_content(cms);
	if (!pos || !*pos)
		return svrcert_fail(err, errlen, -EBADMSG, "no content (a "
				    "detached signature)");
	return 0;
}

/* Why CMS_verify said no, in words. */
static int verify_failed(char *err, size_t errlen)
{
	unsigned long e = ERR_peek_last_error();
	int r = ERR_GET_LIB(e) == ERR_LIB_CMS ? ERR_GET_REASON(e) : 0;

	ERR_clear_error();
	if (r == CMS_R_SIGNER_CERTIFICATE_NOT_FOUND)
		return svrcert_fail(err, errlen, -EBADMSG, "the signer's "
				    "certificate is not in the document");
	if (r == CMS_R_CONTENT_VERIFY_ERROR || r == CMS_R_VERIFICATION_FAILURE)
		return svrcert_fail(err, errlen, -EBADMSG, "the signature does "
				    "not verify (content or signature altered)");
	return svrcert_fail(err, errlen, -EBADMSG, "the signature does not "
			    "verify (%s)", e && ERR_reason_error_string(e) ?
			    ERR_reason_error_string(e) : "unknown reason");
}

static int take_content(BIO *out, uint8_t **content, size_t *clen)
{
	char *p = NULL;
	long n = BIO_get_mem_data(out, &p);

	*clen = n > 0 ? (size_t)n : 0;
	*content = malloc(*clen ? *clen : 1);
	if (*content && *clen)
		memcpy(*content, p, *clen);
	return *content ? 0 : -ENOMEM;
}

int svrcert_gendoc_open(const uint8_t *doc, size_t len, uint8_t **content,
			size_t *clen, X509 **signer, STACK_OF(X509) **certs,
			char *err, size_t errlen)
{
	const unsigned char *p = doc;
	CMS_ContentInfo *cms = len <= LONG_MAX ?
			       d2i_CMS_ContentInfo(NULL, &p, (long)len) : NULL;
	BIO *out = BIO_new(BIO_s_mem());
	STACK_OF(X509) *signers = NULL;
	int rc = 0;

	*content = NULL;
	*signer = NULL;
	*certs = NULL;
	if (!out)
		rc = -ENOMEM;
	else if (!cms || p != doc + len)
		rc = svrcert_fail(err, errlen, -EBADMSG, "not a CMS document "
				  "(malformed DER or bytes after it)");
	else
		rc = check_shape(cms, err, errlen);
	/* the signature and the content digest; the certificate is the
	 * caller's to judge (pki/) */
	if (!rc && !CMS_verify(cms, NULL, NULL, NULL, out,
			       CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY))
		rc = verify_failed(err, errlen);
	if (!rc && (!(signers = CMS_get0_signers(cms)) ||
		    sk_X509_num(signers) != 1))
		rc = svrcert_fail(err, errlen, -EBADMSG, "no signer "
				  "certificate");
	if (!rc) {
		*signer = sk_X509_value(signers, 0);
		X509_up_ref(*signer);
		*certs = CMS_get1_certs(cms);
		rc = take_content(out, content, clen);
	}
	if (rc) {
		X509_free(*signer);
		*signer = NULL;
		sk_X509_pop_free(*certs, X509_free);
		*certs = NULL;
	}
	ERR_clear_error();
	sk_X509_free(signers);
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	return rc;
}
