/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Certificate facts shared by the daemon, the CLI and the kernel contract:
 * revocation keys, fingerprints, names, and loading certificates from the
 * bytes of a file. All with OpenSSL 3; nothing here judges a certificate
 * (that is validate.h).
 */
#ifndef SVRCERT_PKI_H
#define SVRCERT_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/x509.h>

#define SVRCERT_DIGEST_LEN	32	/* = SVRCERT_KEY_LEN of the UAPI */
/* "AA:BB:...": 20 bytes -> 59 chars + NUL; 32 bytes -> 95 + NUL */
#define SVRCERT_SHA1_COLON_LEN	60
#define SVRCERT_SHA256_COLON_LEN 96
#define SVRCERT_SHA256_HEX_LEN	65

/*
 * Revocation key (crl/crl_revkey.h, include/uapi/linux/svrcert.h):
 * SHA-256(canonical issuer Name DER || DER serialNumber INTEGER TLV). A CRL
 * entry yields the same key from the CRL's issuer (or the entry's
 * certificateIssuer) and the entry's serial, also when the two names differ
 * only in case, white space or string type. Return 0 or -EINVAL / -ENOMEM /
 * -EBADMSG (a name value that is not valid text).
 */
int svrcert_revkey_from_cert(X509 *cert, uint8_t out[SVRCERT_DIGEST_LEN]);
int svrcert_revkey_from_issuer_serial(const X509_NAME *issuer,
				      const ASN1_INTEGER *serial,
				      uint8_t out[SVRCERT_DIGEST_LEN]);

/* SHA-256 of the certificate DER (the kernel's certificate fingerprint). */
int svrcert_fingerprint_sha256(X509 *cert, uint8_t out[SVRCERT_DIGEST_LEN]);
/* The seed's audit fingerprint: SHA-1, upper-case colon hex
 * ("6D:C7:8E:..."), and the same for SHA-256. */
int svrcert_fingerprint_sha1_colon(X509 *cert, char out[SVRCERT_SHA1_COLON_LEN]);
int svrcert_fingerprint_sha256_colon(X509 *cert,
				     char out[SVRCERT_SHA256_COLON_LEN]);

/* Subject / issuer as "/C=US/O=Org/CN=name" (the seed's CRL audit form). */
void svrcert_name_oneline(const X509_NAME *name, char *buf, size_t len);
/* Subject as "CN=r1, O=svrcert-test" (RFC 2253-ish, for messages). */
void svrcert_name_text(const X509_NAME *name, char *buf, size_t len);
/* First commonName of the subject; returns its length, or -ENOENT. */
int svrcert_cert_cn(X509 *cert, char *buf, size_t len);
/* True if a SAN URI equals urn:ssr:peering:NAME exactly. */
bool svrcert_cert_has_peering_uri(X509 *cert, const char *name);
/* EKU long names joined by ", " ("TLS Web Client Authentication, ..."),
 * or "" when the certificate has no EKU. */
void svrcert_cert_purpose(X509 *cert, char *buf, size_t len);
/* URIs of the CRL distribution points; *n set; free with
 * svrcert_strv_free(). Returns 0 or -ENOMEM. */
int svrcert_cert_crl_urls(X509 *cert, char ***urls, size_t *n);
void svrcert_strv_free(char **v, size_t n);
/* notBefore / notAfter as seconds since the epoch (0 on error). */
time_t svrcert_cert_not_before(X509 *cert);
time_t svrcert_cert_not_after(X509 *cert);
/* Serial as upper-case hex without separators. */
void svrcert_cert_serial_hex(X509 *cert, char *buf, size_t len);

/*
 * Certificates in BUF: concatenated PEM "CERTIFICATE" blocks (or the legacy
 * "X509 CERTIFICATE" label RFC 7468 tolerates; text between
 * blocks ignored), or one DER certificate. Returns the number loaded (>= 1)
 * into a new stack in *out (free with sk_X509_pop_free(*out, X509_free)),
 * -ENOENT when none, -EBADMSG for a malformed block or any non-certificate
 * PEM block (msg says which, 1-based block number), -ENOMEM.
 */
int svrcert_certs_from_buf(const uint8_t *buf, size_t len,
			   STACK_OF(X509) **out, char *msg, size_t msglen);

/*
 * A certificate file decoded once, for steps that each need its PEM
 * blocks or its DER certificate (import: the private-key scan, then the
 * certificate parse). BUF must outlive it.
 */
struct svrcert_pem_block {
	char *label;
	unsigned char *der;
	long len;
};

struct svrcert_input {
	const uint8_t *buf;
	size_t len;
	bool pem;			/* holds "-----BEGIN" */
	bool text;			/* PEM: svrcert_is_text(buf, len) */
	struct svrcert_pem_block *blocks; /* PEM: every block that reads */
	size_t n, cap;
	bool malformed;			/* PEM: reading stopped at a bad block */
	X509 *der_cert;			/* DER: the certificate it starts with */
	size_t der_cert_len;		/* its length in bytes */
};

/* 0 or -ENOMEM. A file over 2 GiB is left unread (each step refuses it). */
int svrcert_input_read(struct svrcert_input *in, const uint8_t *buf,
		       size_t len);
void svrcert_input_free(struct svrcert_input *in);
/* svrcert_certs_from_buf() on a file already read. */
int svrcert_certs_from_input(const struct svrcert_input *in,
			     STACK_OF(X509) **out, char *msg, size_t msglen);

/* A sorted set of 32-byte keys, e.g. revocation keys from CRLs. */
struct svrcert_keyset {
	uint8_t (*keys)[SVRCERT_DIGEST_LEN];
	size_t n, cap;
	bool sorted;
};
void svrcert_keyset_init(struct svrcert_keyset *ks);
int svrcert_keyset_add(struct svrcert_keyset *ks,
		       const uint8_t key[SVRCERT_DIGEST_LEN]);
/* Revocation keys of every entry of CRL (honouring certificateIssuer). */
int svrcert_keyset_add_crl(struct svrcert_keyset *ks, X509_CRL *crl);
bool svrcert_keyset_contains(struct svrcert_keyset *ks,
			     const uint8_t key[SVRCERT_DIGEST_LEN]);
void svrcert_keyset_free(struct svrcert_keyset *ks);

#endif
