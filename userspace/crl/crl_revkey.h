/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crl_revkey -- the one definition of a revocation key, used by every
 * userspace producer (CRL entries, certificates, learned keys, the CLI) and
 * handed to the kernel with each peer (SVRCERT_PEER_A_REVKEY):
 *
 *	SHA-256(canonical issuer Name DER || DER serialNumber INTEGER TLV)
 *
 * The canonical issuer is the Name rebuilt RDN by RDN, attribute by
 * attribute, with every string-typed value (UTF8String, PrintableString,
 * T61String, IA5String, VisibleString, BMPString, UniversalString) replaced
 * by a UTF8String holding its canonical text: the value converted to UTF-8,
 * leading and trailing white space removed, every inner run of white space
 * (space, \t \n \v \f \r) made one space, ASCII A-Z folded to a-z. Other
 * values are kept as they are. This is OpenSSL's x509_name_canon, the form
 * X509_NAME_cmp compares (RFC 5280 7.1), so two names OpenSSL calls equal
 * give the same key: a certificate whose issuer reads "good  ca" as a
 * UTF8String is revoked by a CRL from "Good CA" as a PrintableString.
 */
#ifndef SVRCERT_CRL_REVKEY_H
#define SVRCERT_CRL_REVKEY_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

/*
 * The canonical DER of NAME, in *DER (free with OPENSSL_free) of *LEN
 * bytes. -EBADMSG if a string value cannot be converted to UTF-8 (e.g. a
 * BMPString of odd length), -ENOMEM.
 */
int svrcert_name_canon_der(const X509_NAME *name, unsigned char **der,
			   size_t *len);

/* The revocation key of ISSUER's certificate SERIAL (32 bytes to OUT).
 * -EINVAL for a NULL argument, else as above. */
int svrcert_revkey_compute(const X509_NAME *issuer, const ASN1_INTEGER *serial,
			   uint8_t out[32]);

/* The same from the issuer's canonical DER (svrcert_name_canon_der), for
 * many serials of one issuer: canonicalizing the Name is ~90 % of a key's
 * cost (7 s of CPU for the keys of a 1 M-entry CRL, once per entry). */
int svrcert_revkey_from_canon(const unsigned char *canon, size_t canon_len,
			      const ASN1_INTEGER *serial, uint8_t out[32]);

#endif
