/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crl_verify -- check a signature over raw TBS bytes with OpenSSL, under the
 * same algorithm allow-list as certificates: SHA-256/384/512 with RSA
 * (PKCS#1 v1.5), ECDSA or RSA-PSS. SHA-1, MD5 and everything else is refused.
 */
#ifndef SVRCERT_CRL_VERIFY_H
#define SVRCERT_CRL_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/evp.h>

/*
 * False for an EC key whose SubjectPublicKeyInfo carried explicit curve
 * parameters (RFC 5480 2.1.1 allows only a namedCurve OID); true for a
 * named curve and for every other key type. OpenSSL 3 names explicit
 * parameters after the curve they equal, so the group name cannot tell.
 */
bool svrcert_ec_named_curve(EVP_PKEY *pkey);

/*
 * @alg_der/@alg_len: the signatureAlgorithm AlgorithmIdentifier TLV.
 * @sig_der/@sig_len: the signatureValue BIT STRING TLV.
 * Returns 0; -EPROTONOSUPPORT (algorithm not allowed), -EBADMSG (malformed
 * algorithm or signature encoding), -EKEYREJECTED (does not verify or key
 * type does not match the algorithm, or an EC key with explicit curve
 * parameters), -ENOMEM. err names the problem.
 * *sig_nid receives the signature algorithm NID when it was decoded.
 */
int svrcert_crl_verify_tbs(const unsigned char *tbs, size_t tbs_len,
			   const unsigned char *alg_der, long alg_len,
			   const unsigned char *sig_der, long sig_len,
			   EVP_PKEY *pkey, int *sig_nid,
			   char *err, size_t errlen);

#endif
