/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The certificate rules of svrcert (ARCHITECTURE.md "Certificate rules"):
 *
 *  - signature algorithm: SHA-256/384/512 with RSA, ECDSA or RSA-PSS only
 *  - public key: RSA >= 2048 bits, or EC on P-256 / P-384 / P-521
 *  - every CA certificate: basicConstraints CA:TRUE, marked critical
 *  - leaf: not a CA; EKU clientAuth or serverAuth
 *  - dates valid at the given time
 *  - identity: CN == expected name, else SAN URI urn:ssr:peering:<name>
 *  - public key equals the router's (TPM) key
 *  - chain verifies to a trusted CA; not revoked
 *
 * validation-mode (strict|warn) applies only to trusted CA bundles at
 * configuration time. Import and peer checks always enforce every rule.
 *
 * Every violation is one entry in a problem list: a stable code (for
 * counters and JSON) and a message that names the certificate and the rule,
 * e.g. `certificate "CN=r1, O=svrcert test": signature algorithm
 * sha1WithRSAEncryption is not allowed (SHA-256/384/512 with RSA, ECDSA or
 * RSA-PSS only)`.
 */
#ifndef SVRCERT_VALIDATE_H
#define SVRCERT_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/x509.h>
#include <linux/svrcert.h>
#include "lib/config.h"
#include "pki.h"

enum svrcert_problem {
	SVRCERT_P_NONE,
	SVRCERT_P_PRIVATE_KEY,		/* step 1: file holds a private key */
	SVRCERT_P_PARSE,		/* not (only) certificates / malformed */
	SVRCERT_P_SIG_ALG,		/* signature algorithm not allowed */
	SVRCERT_P_KEY_TYPE,		/* public key neither RSA nor EC */
	SVRCERT_P_RSA_SIZE,		/* RSA modulus < 2048 bits */
	SVRCERT_P_EC_CURVE,		/* curve not P-256/384/521 */
	SVRCERT_P_CA_NOT_CRITICAL,	/* CA cert: basicConstraints not critical */
	SVRCERT_P_CA_FALSE,		/* cert acting as CA lacks CA:TRUE */
	SVRCERT_P_LEAF_IS_CA,		/* leaf has CA:TRUE */
	SVRCERT_P_EKU_MISSING,		/* leaf has no EKU */
	SVRCERT_P_EKU_PURPOSE,		/* EKU lacks clientAuth and serverAuth */
	SVRCERT_P_NOT_YET_VALID,	/* now < notBefore */
	SVRCERT_P_EXPIRED,		/* now > notAfter */
	SVRCERT_P_IDENTITY,		/* neither CN nor SAN URI match */
	SVRCERT_P_KEY_MISMATCH,		/* public key is not the router's key */
	SVRCERT_P_UNTRUSTED,		/* chain does not verify to a trusted CA */
	SVRCERT_P_REVOKED,		/* step 3: in the revocation set */
	SVRCERT_P_BUNDLE_ORDER,		/* bundle: not leaf-to-root / incomplete /
					 * root not self-signed */
	SVRCERT_P_INTERNAL,		/* out of memory, OpenSSL failure */
	__SVRCERT_P_MAX
};

struct svrcert_problem_item {
	enum svrcert_problem code;
	bool warning;			/* accepted anyway (warn mode) */
	int depth;			/* 0 leaf, 1.. issuers; bundle: index */
	char msg[320];
};

struct svrcert_problems {
	struct svrcert_problem_item *v;
	size_t n, cap;
	size_t n_errors;		/* items with warning == false */
};

void svrcert_problems_init(struct svrcert_problems *p);
void svrcert_problems_free(struct svrcert_problems *p);
/* Append one item (printf-style message); false only when out of memory,
 * which is then recorded as SVRCERT_P_INTERNAL in n_errors. */
bool svrcert_problems_add(struct svrcert_problems *p, enum svrcert_problem code,
			  bool warning, int depth, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Code of the first error (not warning), or SVRCERT_P_NONE. */
enum svrcert_problem svrcert_problems_first(const struct svrcert_problems *p);
/* True if any item (error or warning) has CODE. */
bool svrcert_problems_has(const struct svrcert_problems *p,
			  enum svrcert_problem code);
/* Stable kebab-case name for counters and JSON ("signature-algorithm"). */
const char *svrcert_problem_name(enum svrcert_problem code);
/* The UAPI certificate state a problem implies (EXPIRED, NOT_YET_VALID,
 * REVOKED, else INVALID; NONE -> VALID). */
enum svrcert_cert_state svrcert_problem_state(enum svrcert_problem code);

/* ---- single rules (each appends to P; return true when the rule holds) */

/* Step 1. BUF is the whole file. Looks at every PEM label (any
 * "... PRIVATE KEY", PKCS#12 and encrypted forms), at every PEM body (a key
 * under another label), at BUF as DER private key / PKCS#8 / PKCS#12, and
 * for DER keys appended to a PEM file or to a DER certificate. */
bool svrcert_check_no_private_key(const uint8_t *buf, size_t len,
				  struct svrcert_problems *p);
/* The same on a file already read (svrcert_input_read). */
bool svrcert_check_no_private_key_in(const struct svrcert_input *in,
				     struct svrcert_problems *p);
/* Signature algorithm and public key of one certificate. */
bool svrcert_check_algorithms(X509 *cert, int depth, bool warn,
			      struct svrcert_problems *p);
/* A certificate used as a CA: CA:TRUE and basicConstraints critical. */
bool svrcert_check_ca(X509 *cert, int depth, bool warn,
		      struct svrcert_problems *p);
/* A leaf: not a CA; EKU with clientAuth or serverAuth. */
bool svrcert_check_leaf(X509 *cert, bool warn, struct svrcert_problems *p);
bool svrcert_check_dates(X509 *cert, int depth, time_t now, bool warn,
			 struct svrcert_problems *p);
/* CN == name, else a SAN URI urn:ssr:peering:<name>. */
bool svrcert_check_identity(X509 *cert, const char *name,
			    struct svrcert_problems *p);
bool svrcert_check_public_key(X509 *cert, EVP_PKEY *expected,
			      struct svrcert_problems *p);

/* ---- trusted CA bundles (config time) */

/*
 * Check a bundle file's bytes: only certificates, no private key, ordered
 * issuer-after-subject ending in a self-signed root, every certificate a
 * CA with critical CA:TRUE, allowed algorithms and keys, valid at NOW.
 * strict: any problem is an error; warn: problems are warnings (a bundle
 * that holds no certificate or a private key is rejected in both modes).
 * Returns 0 when the bundle may be used (certs in *out, caller frees), or
 * -EINVAL (P lists EVERY problem), -ENOMEM.
 */
int svrcert_bundle_check(const uint8_t *buf, size_t len,
			 enum svrcert_validation_mode mode, time_t now,
			 STACK_OF(X509) **out, struct svrcert_problems *p);

/* A trust store: every certificate of the bundles, as trust anchors. */
X509_STORE *svrcert_store_new(void);
int svrcert_store_add_certs(X509_STORE *store, STACK_OF(X509) *certs);

/* ---- runtime validation (always strict) */

/* Revocation lookup: true if revoked. REVKEY is svrcert_revkey_from_cert(),
 * FP the SHA-256 fingerprint; the kernel's set holds both kinds. */
typedef bool (*svrcert_revoked_fn)(const uint8_t revkey[SVRCERT_DIGEST_LEN],
				   const uint8_t fp[SVRCERT_DIGEST_LEN],
				   void *ctx);

/*
 * Signatures already verified (strongSwan's cert_cache): pairs of subject
 * and issuer certificate, each by the SHA-256 of its DER. That a signature
 * verifies is a fact about those bytes, so an entry never goes stale; the
 * cache is only bounded (least recently used of a set evicted). A chain
 * whose every link is known skips only the signature computations: chain
 * building, the issuers' key usage, dates and every rule of
 * svrcert_validate_cert still run each time. Not thread-safe: one owner.
 */
struct svrcert_sigcache;
struct svrcert_sigcache_stats {
	uint64_t hits;			/* chains walked without a signature */
	uint64_t misses;		/* chains verified by OpenSSL's walk */
	uint64_t added, evicted;
	size_t used, capacity;		/* entries */
};
/* ENTRIES (rounded up to a multiple of 4) bounds the cache; NULL: ENOMEM. */
struct svrcert_sigcache *svrcert_sigcache_new(size_t entries);
void svrcert_sigcache_free(struct svrcert_sigcache *c);
/* Remember that ISSUER's key verifies SUBJECT's signature (callers: only
 * after OpenSSL verified it; tests). 0 or -ENOMEM/-EINVAL. */
int svrcert_sigcache_add(struct svrcert_sigcache *c, X509 *subject, X509 *issuer);
void svrcert_sigcache_get_stats(const struct svrcert_sigcache *c,
				struct svrcert_sigcache_stats *out);

struct svrcert_validate_params {
	X509_STORE *store;		/* required: trusted CAs */
	time_t now;			/* 0: time(NULL) */
	const char *expected_name;	/* NULL: identity not checked */
	EVP_PKEY *expected_key;		/* NULL: key not checked */
	svrcert_revoked_fn revoked;	/* NULL and keyset NULL: not checked */
	void *revoked_ctx;
	struct svrcert_keyset *revoked_keys; /* checked with both key kinds */
	struct svrcert_sigcache *sigcache; /* NULL: every signature verified */
};

/* What an accepted certificate is; filled also on rejection when known. */
struct svrcert_validated {
	X509 *leaf;			/* owned; svrcert_validated_free() */
	STACK_OF(X509) *chain;		/* verified chain incl. leaf, or NULL */
	uint8_t revkey[SVRCERT_DIGEST_LEN];
	uint8_t fingerprint[SVRCERT_DIGEST_LEN];
	time_t not_before, not_after;
	enum svrcert_cert_state state;	/* VALID or what the first error says */
};
void svrcert_validated_free(struct svrcert_validated *v);

/*
 * Steps 2 and 3 for a parsed certificate (a peer's, or a parsed import):
 * every rule of the header comment; EXTRA are untrusted intermediates
 * (may be NULL). Step 3 (revocation) runs only when step 2 passed.
 * Returns 0 if valid, -EKEYREJECTED (step 2) / -EKEYREVOKED (step 3) with
 * the problems in P, -ENOMEM. OUT (may be NULL) is filled in either case;
 * it takes its own reference to LEAF.
 */
int svrcert_validate_cert(X509 *leaf, STACK_OF(X509) *extra,
			  const struct svrcert_validate_params *vp,
			  struct svrcert_validated *out,
			  struct svrcert_problems *p);

/*
 * The seed's import checks, in its order, on the bytes of a file:
 * (1) no private key (-EPERM), (2) parse (-EBADMSG) and validate
 * (-EKEYREJECTED), (3) not revoked (-EKEYREVOKED). The first certificate
 * is the leaf; further certificates are untrusted intermediates. Stops at
 * the first failing step; P lists that step's problems.
 */
int svrcert_validate_import(const uint8_t *buf, size_t len,
			    const struct svrcert_validate_params *vp,
			    struct svrcert_validated *out,
			    struct svrcert_problems *p);

#endif
