// SPDX-License-Identifier: GPL-2.0
/*
 * Canonical issuer names and revocation keys (crl_revkey.h). OpenSSL keeps
 * its own canonical encoding private (X509_NAME_cmp uses it), so the same
 * steps are rebuilt here with public APIs only.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/evp.h>

#include "crl_revkey.h"

/* OpenSSL's ASN1_MASK_CANON (crypto/x509/x_name.c). */
#define CANON_TYPES (B_ASN1_UTF8STRING | B_ASN1_BMPSTRING | \
		     B_ASN1_UNIVERSALSTRING | B_ASN1_PRINTABLESTRING | \
		     B_ASN1_T61STRING | B_ASN1_IA5STRING | B_ASN1_VISIBLESTRING)

/* ossl_isspace: the C locale's white space, whatever the process locale. */
static int canon_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* In place: strip, collapse inner white space to one ' ', fold ASCII case.
 * Bytes >= 0x80 (multi-byte UTF-8) are copied as they are. */
static size_t canon_text(unsigned char *s, size_t len)
{
	size_t i = 0, o = 0;

	while (len && canon_space(s[len - 1]))
		len--;
	while (i < len && canon_space(s[i]))
		i++;
	while (i < len) {
		if (canon_space(s[i])) {
			s[o++] = ' ';
			while (canon_space(s[i]))	/* s[len - 1] is not */
				i++;
		} else {
			s[o++] = s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i];
			i++;
		}
	}
	return o;
}

/* A copy of SRC with its value canonical, in *OUT. */
static int canon_entry(const X509_NAME_ENTRY *src, X509_NAME_ENTRY **out)
{
	const ASN1_STRING *v = X509_NAME_ENTRY_get_data(src);
	unsigned char *utf8 = NULL;
	X509_NAME_ENTRY *ne = X509_NAME_ENTRY_dup(src);
	int n, ret = 0;

	if (!ne)
		return -ENOMEM;
	if (ASN1_tag2bit(ASN1_STRING_type(v)) & CANON_TYPES) {
		n = ASN1_STRING_to_UTF8(&utf8, v);
		if (n < 0)
			ret = -EBADMSG;
		else if (!X509_NAME_ENTRY_set_data(ne, V_ASN1_UTF8STRING, utf8,
						   (int)canon_text(utf8, (size_t)n)))
			ret = -ENOMEM;
	}
	OPENSSL_free(utf8);
	if (ret)
		X509_NAME_ENTRY_free(ne);
	else
		*out = ne;
	return ret;
}

/* NAME rebuilt with canonical values, RDN boundaries (multi-valued RDNs)
 * kept: an entry joins the previous RDN when its set index is the same. */
static int canon_name(const X509_NAME *name, X509_NAME *out)
{
	int i, n = X509_NAME_entry_count(name), ret = 0;

	for (i = 0; !ret && i < n; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		bool join = i > 0 && X509_NAME_ENTRY_set(e) ==
			    X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i - 1));
		X509_NAME_ENTRY *ne = NULL;

		ret = canon_entry(e, &ne);
		if (!ret && !X509_NAME_add_entry(out, ne, -1, join ? -1 : 0))
			ret = -ENOMEM;
		X509_NAME_ENTRY_free(ne);
	}
	return ret;
}

int svrcert_name_canon_der(const X509_NAME *name, unsigned char **der,
			   size_t *len)
{
	X509_NAME *c = X509_NAME_new();
	int n, ret = c ? canon_name(name, c) : -ENOMEM;

	*der = NULL;
	if (!ret) {
		n = i2d_X509_NAME(c, der);
		if (n <= 0)
			ret = -ENOMEM;
		else
			*len = (size_t)n;
	}
	X509_NAME_free(c);
	return ret;
}

int svrcert_revkey_from_canon(const unsigned char *canon, size_t canon_len,
			      const ASN1_INTEGER *serial, uint8_t out[32])
{
	unsigned char *serial_der = NULL;
	EVP_MD_CTX *md = NULL;
	int serial_len, ret = 0;

	if (!canon || !serial)
		return -EINVAL;
	serial_len = i2d_ASN1_INTEGER(serial, &serial_der);
	if (serial_len <= 0)
		ret = -EINVAL;
	if (!ret && !(md = EVP_MD_CTX_new()))
		ret = -ENOMEM;
	if (!ret && (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
		     EVP_DigestUpdate(md, canon, canon_len) != 1 ||
		     EVP_DigestUpdate(md, serial_der, (size_t)serial_len) != 1 ||
		     EVP_DigestFinal_ex(md, out, NULL) != 1))
		ret = -ENOMEM;
	EVP_MD_CTX_free(md);
	OPENSSL_free(serial_der);
	return ret;
}

int svrcert_revkey_compute(const X509_NAME *issuer, const ASN1_INTEGER *serial,
			   uint8_t out[32])
{
	unsigned char *name_der = NULL;
	size_t name_len = 0;
	int ret;

	if (!issuer || !serial)
		return -EINVAL;
	ret = svrcert_name_canon_der(issuer, &name_der, &name_len);
	if (!ret)
		ret = svrcert_revkey_from_canon(name_der, name_len, serial, out);
	OPENSSL_free(name_der);
	return ret;
}
