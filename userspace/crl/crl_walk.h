/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crl_walk -- verify a CRL's signature and turn its revoked entries into
 * sorted, unique 32-byte revocation keys without building an X509_CRL.
 *
 * A revocation key is SHA-256(canonical issuer Name DER || DER serial INTEGER
 * TLV), crl_revkey.h's definition, which the certificate side and the kernel
 * (handed the key with each peer) share. For a
 * direct CRL the issuer is the CRL issuer; for an indirect CRL
 * (issuingDistributionPoint indirectCRL=TRUE) it is the directoryName of the
 * entry's certificateIssuer extension, carried forward as RFC 5280 5.3.3 says.
 */
#ifndef SVRCERT_CRL_WALK_H
#define SVRCERT_CRL_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/x509.h>

#define SVRCERT_REVKEY_LEN 32
/* RFC 5280 5.2.3: CRL numbers are at most 20 octets. */
#define SVRCERT_CRL_NUMBER_MAX 20

typedef uint8_t svrcert_revkey_t[SVRCERT_REVKEY_LEN];

struct svrcert_crl {
	svrcert_revkey_t *keys;	/* sorted ascending, unique */
	size_t nkeys;
	size_t entries;		/* revokedCertificates entries as listed */
	size_t der_size;	/* size of the DER CertificateList */
	unsigned char *issuer_der;	/* CRL issuer Name TLV */
	size_t issuer_der_len;
	char issuer_text[256];	/* X509_NAME_oneline form: /C=../CN=.. */
	time_t this_update;
	time_t next_update;
	bool has_crl_number;
	uint8_t crl_number[SVRCERT_CRL_NUMBER_MAX];	/* big-endian, minimal */
	size_t crl_number_len;
	bool indirect;		/* issuingDistributionPoint indirectCRL */
	int sig_nid;		/* signature algorithm NID */
	/* A delta CRL (RFC 5280 5.2.4): deltaCRLIndicator's BaseCRLNumber,
	 * and the keys of its removeFromCRL entries (sorted, unique; not in
	 * keys), which leave the base's revoked set. */
	bool delta;
	uint8_t base_number[SVRCERT_CRL_NUMBER_MAX];	/* big-endian, minimal */
	size_t base_number_len;
	svrcert_revkey_t *removed;
	size_t nremoved;
	/* freshestCRL (5.2.6): the first http(s) URI of its distribution
	 * points, where the delta CRLs of this CRL are ("" when none). */
	char freshest[512];
};

/*
 * Verify and walk one CRL held in memory (DER, or PEM "X509 CRL").
 * @trusted: candidate signers; one whose subject equals the CRL issuer
 *           and whose key verifies the signature is required.
 * Returns 0, or a negative errno with a message naming the problem in err:
 *   -EBADMSG        malformed / truncated / not a CRL / bad field
 *   -EKEYREJECTED   signature does not verify
 *   -ENOKEY         no trusted certificate carries the CRL issuer's name
 *   -EPROTONOSUPPORT  signature algorithm outside the allow-list, unknown
 *                     critical extension
 *   -ERANGE         nextUpdate not after thisUpdate, oversized CRL number
 *   -ENOMEM
 * On failure *out is left zeroed.
 */
int svrcert_crl_walk(const uint8_t *buf, size_t len, STACK_OF(X509) *trusted,
		     struct svrcert_crl *out, char *err, size_t errlen);

/* Same, reading the whole file first. -errno of open/read on I/O failure. */
int svrcert_crl_walk_file(const char *path, STACK_OF(X509) *trusted,
			  struct svrcert_crl *out, char *err, size_t errlen);

/* Release what a successful walk allocated; safe on a zeroed struct. */
void svrcert_crl_release(struct svrcert_crl *crl);

/* Compare two CRL numbers (absent sorts lowest): <0, 0, >0. */
int svrcert_crl_number_cmp(const struct svrcert_crl *a,
			   const struct svrcert_crl *b);

/* Hex of the CRL number ("" if absent) into buf (>= 2*20+1 bytes). */
void svrcert_crl_number_hex(const struct svrcert_crl *crl, char *buf,
			    size_t buflen);

/* Sort keys ascending in place and drop duplicates; returns the new count. */
size_t svrcert_revkeys_sort_unique(svrcert_revkey_t *keys, size_t n);

#endif
