// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki.h"
#include "crl/crl_revkey.h"
#include "lib/util.h"

#define PEERING_URI_PREFIX "urn:ssr:peering:"

int svrcert_revkey_from_issuer_serial(const X509_NAME *issuer,
				      const ASN1_INTEGER *serial,
				      uint8_t out[SVRCERT_DIGEST_LEN])
{
	return svrcert_revkey_compute(issuer, serial, out);
}

int svrcert_revkey_from_cert(X509 *cert, uint8_t out[SVRCERT_DIGEST_LEN])
{
	return svrcert_revkey_from_issuer_serial(X509_get_issuer_name(cert),
						 X509_get0_serialNumber(cert), out);
}

int svrcert_fingerprint_sha256(X509 *cert, uint8_t out[SVRCERT_DIGEST_LEN])
{
	unsigned int n = 0;

	if (X509_digest(cert, EVP_sha256(), out, &n) != 1 || n != SVRCERT_DIGEST_LEN)
		return -EINVAL;
	return 0;
}

int svrcert_fingerprint_sha1_colon(X509 *cert, char out[SVRCERT_SHA1_COLON_LEN])
{
	uint8_t md[20];
	unsigned int n = 0;

	if (X509_digest(cert, EVP_sha1(), md, &n) != 1 || n != sizeof(md))
		return -EINVAL;
	svrcert_hex_colon(md, sizeof(md), out);
	return 0;
}

int svrcert_fingerprint_sha256_colon(X509 *cert,
				     char out[SVRCERT_SHA256_COLON_LEN])
{
	uint8_t md[SVRCERT_DIGEST_LEN];
	int ret = svrcert_fingerprint_sha256(cert, md);

	if (!ret)
		svrcert_hex_colon(md, sizeof(md), out);
	return ret;
}

void svrcert_name_oneline(const X509_NAME *name, char *buf, size_t len)
{
	if (!len)
		return;
	if (!name || !X509_NAME_oneline(name, buf, (int)(len > 65536 ? 65536 : len)))
		buf[0] = '\0';
}

void svrcert_name_text(const X509_NAME *name, char *buf, size_t len)
{
	const unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN |
		XN_FLAG_DUMP_UNKNOWN_FIELDS | ASN1_STRFLGS_UTF8_CONVERT |
		(ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	BIO *bio = BIO_new(BIO_s_mem());
	int n = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (!bio)
		return;
	if (name && X509_NAME_print_ex(bio, name, 0, flags) >= 0)
		n = BIO_read(bio, buf, (int)(len - 1 > 65535 ? 65535 : len - 1));
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
}

int svrcert_cert_cn(X509 *cert, char *buf, size_t len)
{
	const X509_NAME *subj = X509_get_subject_name(cert);
	unsigned char *utf8 = NULL;
	int idx, n;

	idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (idx < 0)
		return -ENOENT;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
					X509_NAME_get_entry(subj, idx)));
	if (n < 0)
		return -EINVAL;
	/* An embedded NUL would let "r1\0evil" pass as "r1". */
	if (memchr(utf8, '\0', (size_t)n) || (size_t)n >= len) {
		OPENSSL_free(utf8);
		return -EINVAL;
	}
	memcpy(buf, utf8, (size_t)n);
	buf[n] = '\0';
	OPENSSL_free(utf8);
	return n;
}

bool svrcert_cert_has_peering_uri(X509 *cert, const char *name)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	size_t plen = strlen(PEERING_URI_PREFIX), nlen = strlen(name);
	bool found = false;

	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !found; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int l;

		if (g->type != GEN_URI)
			continue;
		d = ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
		l = ASN1_STRING_length(g->d.uniformResourceIdentifier);
		found = l >= 0 && (size_t)l == plen + nlen &&
			!memcmp(d, PEERING_URI_PREFIX, plen) &&
			!memcmp(d + plen, name, nlen);
	}
	GENERAL_NAMES_free(gens);
	return found;
}

void svrcert_cert_purpose(X509 *cert, char *buf, size_t len)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	size_t pos = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
		char name[128];

		OBJ_obj2txt(name, sizeof(name), sk_ASN1_OBJECT_value(eku, i), 0);
		svrcert_appendf(buf, len, &pos, "%s%s", i ? ", " : "", name);
	}
	EXTENDED_KEY_USAGE_free(eku);
}

void svrcert_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int strv_push(char ***v, size_t *n, const unsigned char *s, int len)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strndup((const char *)s, (size_t)len);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

int svrcert_cert_crl_urls(X509 *cert, char ***urls, size_t *n)
{
	CRL_DIST_POINTS *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points,
						NULL, NULL);
	int ret = 0;

	*urls = NULL;
	*n = 0;
	for (int i = 0; dps && i < sk_DIST_POINT_num(dps) && !ret; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		GENERAL_NAMES *full;

		if (!dp->distpoint || dp->distpoint->type != 0)
			continue;
		full = dp->distpoint->name.fullname;
		for (int j = 0; j < sk_GENERAL_NAME_num(full) && !ret; j++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(full, j);
			ASN1_IA5STRING *u = g->d.uniformResourceIdentifier;

			if (g->type == GEN_URI && !memchr(ASN1_STRING_get0_data(u),
							  '\0', (size_t)ASN1_STRING_length(u)))
				ret = strv_push(urls, n, ASN1_STRING_get0_data(u),
						ASN1_STRING_length(u));
		}
	}
	CRL_DIST_POINTS_free(dps);
	if (ret) {
		svrcert_strv_free(*urls, *n);
		*urls = NULL;
		*n = 0;
	}
	return ret;
}

static time_t asn1_time_to_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

time_t svrcert_cert_not_before(X509 *cert)
{
	return asn1_time_to_epoch(X509_get0_notBefore(cert));
}

time_t svrcert_cert_not_after(X509 *cert)
{
	return asn1_time_to_epoch(X509_get0_notAfter(cert));
}

void svrcert_cert_serial_hex(X509 *cert, char *buf, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, len, "%s", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

/* ---- key set */

void svrcert_keyset_init(struct svrcert_keyset *ks)
{
	memset(ks, 0, sizeof(*ks));
	ks->sorted = true;
}

int svrcert_keyset_add(struct svrcert_keyset *ks,
		       const uint8_t key[SVRCERT_DIGEST_LEN])
{
	if (ks->n == ks->cap) {
		size_t ncap = ks->cap ? ks->cap * 2 : 64;
		void *n = reallocarray(ks->keys, ncap, SVRCERT_DIGEST_LEN);

		if (!n)
			return -ENOMEM;
		ks->keys = n;
		ks->cap = ncap;
	}
	memcpy(ks->keys[ks->n++], key, SVRCERT_DIGEST_LEN);
	ks->sorted = false;
	return 0;
}

int svrcert_keyset_add_crl(struct svrcert_keyset *ks, X509_CRL *crl)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	const X509_NAME *issuer = X509_CRL_get_issuer(crl);
	GENERAL_NAMES *cur_gens = NULL;
	unsigned char *canon = NULL;	/* ISSUER's canonical DER: made once
					 * per issuer, not once per entry */
	size_t canon_len = 0;
	int ret = 0;

	for (int i = 0; i < sk_X509_REVOKED_num(revs) && !ret; i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
		GENERAL_NAMES *gens;
		uint8_t key[SVRCERT_DIGEST_LEN];

		/* Indirect CRL: certificateIssuer applies to this entry and
		 * the ones after it (RFC 5280 5.3.3). */
		gens = X509_REVOKED_get_ext_d2i(r, NID_certificate_issuer, NULL, NULL);
		if (gens) {
			GENERAL_NAMES_free(cur_gens);
			cur_gens = gens;
			issuer = NULL;
			OPENSSL_free(canon);
			canon = NULL;
			for (int j = 0; j < sk_GENERAL_NAME_num(gens); j++) {
				GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, j);

				if (g->type == GEN_DIRNAME) {
					issuer = g->d.directoryName;
					break;
				}
			}
		}
		if (!issuer) {
			ret = -EBADMSG;
			break;
		}
		if (!canon)
			ret = svrcert_name_canon_der(issuer, &canon, &canon_len);
		if (!ret)
			ret = svrcert_revkey_from_canon(canon, canon_len,
					X509_REVOKED_get0_serialNumber(r), key);
		if (!ret)
			ret = svrcert_keyset_add(ks, key);
	}
	OPENSSL_free(canon);
	GENERAL_NAMES_free(cur_gens);
	return ret;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SVRCERT_DIGEST_LEN);
}

bool svrcert_keyset_contains(struct svrcert_keyset *ks,
			     const uint8_t key[SVRCERT_DIGEST_LEN])
{
	if (!ks->n)
		return false;
	if (!ks->sorted) {
		qsort(ks->keys, ks->n, SVRCERT_DIGEST_LEN, key_cmp);
		ks->sorted = true;
	}
	return bsearch(key, ks->keys, ks->n, SVRCERT_DIGEST_LEN, key_cmp) != NULL;
}

void svrcert_keyset_free(struct svrcert_keyset *ks)
{
	free(ks->keys);
	svrcert_keyset_init(ks);
}
