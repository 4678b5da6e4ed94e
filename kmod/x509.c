// SPDX-License-Identifier: GPL-2.0
/*
 * A deliberately small DER walk over the head of an X.509 certificate:
 *
 *   Certificate ::= SEQUENCE {
 *     tbsCertificate SEQUENCE {
 *       version [0] EXPLICIT OPTIONAL, serialNumber INTEGER,
 *       signature AlgorithmIdentifier, issuer Name,
 *       validity SEQUENCE { notBefore Time, notAfter Time }, ... } ... }
 *
 * Nothing past the validity is read. Every length is checked against what
 * is left of its enclosing element before it is used, only definite and
 * minimal (DER) lengths are accepted, and the outer SEQUENCE must span the
 * buffer exactly. The caller bounds the buffer (SVRCERT_CERT_DER_MAX).
 */
#include <crypto/sha2.h>
#include <linux/asn1.h>
#include <linux/time.h>

#include "x509.h"

#define DER_TAG(cls, cons, num)	(((cls) << 6) | ((cons) ? ASN1_CONS_BIT : 0) | (num))
#define DER_SEQUENCE		DER_TAG(ASN1_UNIV, 1, ASN1_SEQ)
#define DER_INTEGER		DER_TAG(ASN1_UNIV, 0, ASN1_INT)
#define DER_UTCTIME		DER_TAG(ASN1_UNIV, 0, ASN1_UNITIM)
#define DER_GENTIME		DER_TAG(ASN1_UNIV, 0, ASN1_GENTIM)
#define DER_VERSION		DER_TAG(ASN1_CONT, 1, 0)

/* Longest length field we accept: 3 octets cover any certificate we take. */
#define DER_LEN_OCTETS_MAX	3
/* RFC 5280 allows 20 octets; leave room for the odd non-conforming CA. */
#define DER_SERIAL_MAX		32

struct der_tlv {
	u8 tag;
	const u8 *tlv;		/* first octet of the tag */
	size_t tlv_len;		/* tag + length + value */
	const u8 *val;
	size_t len;
};

static int der_len(const u8 *p, size_t avail, size_t *len, size_t *hdr,
		   const char **why)
{
	size_t n, i;

	if (!(p[1] & 0x80)) {
		*len = p[1];
		*hdr = 2;
		return 0;
	}
	n = p[1] & 0x7f;
	if (n == 0) {
		*why = "indefinite length is not DER";
		return -EINVAL;
	}
	if (n > DER_LEN_OCTETS_MAX) {
		*why = "length field too long";
		return -EINVAL;
	}
	if (avail < 2 + n) {
		*why = "truncated length";
		return -EINVAL;
	}
	if (p[2] == 0) {
		*why = "length not minimally encoded";
		return -EINVAL;
	}
	*len = 0;
	for (i = 0; i < n; i++)
		*len = (*len << 8) | p[2 + i];
	if (*len < 0x80) {
		*why = "length not minimally encoded";
		return -EINVAL;
	}
	*hdr = 2 + n;
	return 0;
}

/* Read the TLV at *@pos (which is < @end) and move *@pos past it. */
static int der_next(const u8 **pos, const u8 *end, u8 want,
		    struct der_tlv *t, const char **why)
{
	const u8 *p = *pos;
	size_t avail = end - p, len, hdr;
	int err;

	if (avail < 2) {
		*why = "truncated element";
		return -EINVAL;
	}
	if ((p[0] & 0x1f) == ASN1_LONG_TAG) {
		*why = "multi-octet tag";
		return -EINVAL;
	}
	err = der_len(p, avail, &len, &hdr, why);
	if (err)
		return err;
	if (len > avail - hdr) {
		*why = "element runs past its container";
		return -EINVAL;
	}
	if (want && p[0] != want) {
		*why = "unexpected element";
		return -EINVAL;
	}
	t->tag = p[0];
	t->tlv = p;
	t->tlv_len = hdr + len;
	t->val = p + hdr;
	t->len = len;
	*pos = p + hdr + len;
	return 0;
}

static bool der_digits(const u8 *s, size_t n, unsigned int *out)
{
	unsigned int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static unsigned int days_in_month(unsigned int year, unsigned int mon)
{
	static const u8 days[12] = { 31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return days[mon - 1] + (mon == 2 && leap);
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280). */
static int der_time(const struct der_tlv *t, time64_t *out, const char **why)
{
	unsigned int year, mon, day, hour, min, sec;
	size_t ylen = t->tag == DER_UTCTIME ? 2 : 4;
	const u8 *s = t->val;

	*why = "malformed validity time";
	if (t->tag != DER_UTCTIME && t->tag != DER_GENTIME) {
		*why = "validity time is neither UTCTime nor GeneralizedTime";
		return -EINVAL;
	}
	if (t->len != ylen + 11 || s[t->len - 1] != 'Z')
		return -EINVAL;
	if (!der_digits(s, ylen, &year) || !der_digits(s + ylen, 2, &mon) ||
	    !der_digits(s + ylen + 2, 2, &day) ||
	    !der_digits(s + ylen + 4, 2, &hour) ||
	    !der_digits(s + ylen + 6, 2, &min) ||
	    !der_digits(s + ylen + 8, 2, &sec))
		return -EINVAL;
	if (ylen == 2)		/* RFC 5280 4.1.2.5.1 */
		year += year >= 50 ? 1900 : 2000;
	if (year < 1 || mon < 1 || mon > 12 || day < 1 ||
	    day > days_in_month(year, mon) || hour > 23 || min > 59 || sec > 59)
		return -EINVAL;
	*out = mktime64(year, mon, day, hour, min, sec);
	return 0;
}

static int der_validity(const struct der_tlv *validity,
			struct svrcert_cert_facts *facts, const char **why)
{
	const u8 *p = validity->val, *end = validity->val + validity->len;
	struct der_tlv nb, na;
	int err;

	err = der_next(&p, end, 0, &nb, why);
	if (!err)
		err = der_next(&p, end, 0, &na, why);
	if (!err && p != end) {
		*why = "trailing data in validity";
		err = -EINVAL;
	}
	if (!err)
		err = der_time(&nb, &facts->not_before, why);
	if (!err)
		err = der_time(&na, &facts->not_after, why);
	return err;
}

static int der_tbs_head(const struct der_tlv *tbs, struct der_tlv *serial,
			struct der_tlv *issuer, struct der_tlv *validity,
			const char **why)
{
	const u8 *p = tbs->val, *end = tbs->val + tbs->len;
	struct der_tlv t;
	int err;

	if (p < end && *p == DER_VERSION) {
		err = der_next(&p, end, DER_VERSION, &t, why);
		if (err)
			return err;
	}
	if (p >= end)
		goto short_tbs;
	err = der_next(&p, end, DER_INTEGER, serial, why);
	if (err)
		return err;
	if (serial->len < 1 || serial->len > DER_SERIAL_MAX) {
		*why = "serial number length out of range";
		return -EINVAL;
	}
	if (p >= end)
		goto short_tbs;
	err = der_next(&p, end, DER_SEQUENCE, &t, why);	/* signature */
	if (err)
		return err;
	if (p >= end)
		goto short_tbs;
	err = der_next(&p, end, DER_SEQUENCE, issuer, why);
	if (err)
		return err;
	if (p >= end)
		goto short_tbs;
	return der_next(&p, end, DER_SEQUENCE, validity, why);
short_tbs:
	*why = "tbsCertificate ends early";
	return -EINVAL;
}

int svrcert_x509_parse(const u8 *der, size_t len,
		       struct svrcert_cert_facts *facts, const char **why)
{
	struct der_tlv cert, tbs, serial, issuer, validity;
	const u8 *p = der;
	int err;

	if (!len) {
		*why = "empty certificate";
		return -EINVAL;
	}
	err = der_next(&p, der + len, DER_SEQUENCE, &cert, why);
	if (err)
		return err;
	if (p != der + len) {
		*why = "trailing data after certificate";
		return -EINVAL;
	}
	p = cert.val;
	if (!cert.len) {
		*why = "empty certificate SEQUENCE";
		return -EINVAL;
	}
	err = der_next(&p, cert.val + cert.len, DER_SEQUENCE, &tbs, why);
	if (!err)
		err = der_tbs_head(&tbs, &serial, &issuer, &validity, why);
	if (!err)
		err = der_validity(&validity, facts, why);
	if (err)
		return err;

	sha256(der, len, facts->fingerprint);
	return 0;
}
