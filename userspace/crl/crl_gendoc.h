/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crl_gendoc -- the document a router fetches from its conductor (one
 * svrcert_gen_update, crl_gen.h), how it is signed, and how a router
 * applies it to the set it holds. Certificate rules are not here: pki/
 * (conductor_doc.h) judges the signer's certificate and opens the TPM key.
 *
 * The content, DER (OpenSSL ASN.1 templates):
 *
 *	SvrcertRevocationUpdate ::= SEQUENCE {
 *	    version     INTEGER (1),
 *	    conductor   UTF8String (SIZE (1..64)),	-- who says so
 *	    epoch       OCTET STRING (SIZE (16)),
 *	    generation  INTEGER (0..MAX),		-- 64-bit
 *	    time        GeneralizedTime,		-- when it was made
 *	    base        [0] IMPLICIT INTEGER OPTIONAL,	-- present: a delta
 *	    added       OCTET STRING,	-- 32-byte keys, ascending; full: all
 *	    removed     [1] IMPLICIT OCTET STRING OPTIONAL }	-- delta only
 *
 * Keys travel as one OCTET STRING of concatenated 32-byte revocation keys
 * (crl_revkey.h), not one element each: 32 bytes per key plus about 80
 * for the rest, so a 10-key delta is about 420 bytes and a 1 M-key full
 * set 32 MB + 85 bytes.
 *
 * The signature: CMS SignedData (RFC 5652) with the content encapsulated
 * (eContentType id-data), one SignerInfo with signed attributes
 * (contentType, messageDigest, signingTime), the signer's certificate
 * included. Encapsulated, not detached: the document is one standard
 * object a router stores or a cache serves as is, and `openssl cms -verify
 * -inform DER` reads it. The content digest is computed here in software
 * and only the signed attributes are signed with the key's property query
 * (provider=tpm2): CMS_final would fetch the content digest with that same
 * query, i.e. hash a 32 MB full set inside the TPM.
 */
#ifndef SVRCERT_CRL_GENDOC_H
#define SVRCERT_CRL_GENDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crl_gen.h"
#include "crl_keydelta.h"

#define SVRCERT_GENDOC_VERSION		1
#define SVRCERT_GENDOC_NAME_MAX		64

/* The content of U (a FULL's ADDED is the whole set) as DER in *DER
 * (malloc'd). -EINVAL for a conductor name that is empty or too long,
 * -ENOMEM. */
int svrcert_gendoc_encode(const struct svrcert_gen_update *u, uint8_t **der,
			  size_t *len);

/* DER content into U (lists malloc'd; svrcert_gen_update_release), every
 * rule of the format checked: -EBADMSG naming the problem, -ENOMEM. */
int svrcert_gendoc_decode(const uint8_t *der, size_t len,
			  struct svrcert_gen_update *u, char *err,
			  size_t errlen);

/*
 * Sign CONTENT into a CMS SignedData (DER in *DOC, malloc'd) with KEY and
 * its certificate CERT (CHAIN, may be NULL: further certificates to
 * include). LIBCTX / SIGN_PROPQ are those the key was loaded with and
 * signs with (tpm_ctx's libctx and "provider=tpm2"; NULL, NULL for a key
 * in software). 0 or -errno (ERR set).
 */
int svrcert_gendoc_sign(const uint8_t *content, size_t len, X509 *cert,
			EVP_PKEY *key, STACK_OF(X509) *chain,
			OSSL_LIB_CTX *libctx, const char *sign_propq,
			uint8_t **doc, size_t *doclen, char *err,
			size_t errlen);

/*
 * Open a signed document: a CMS SignedData of id-data content with exactly
 * one signer whose certificate it carries, the signature and the content
 * digest verified against that certificate's key. The certificate itself
 * is NOT judged here (the caller applies its rules to *SIGNER, with
 * *CERTS as untrusted intermediates). Content in *CONTENT (malloc'd).
 * -EBADMSG (not CMS / not signed / tampered: ERR says which), -ENOMEM.
 */
int svrcert_gendoc_open(const uint8_t *doc, size_t len, uint8_t **content,
			size_t *clen, X509 **signer, STACK_OF(X509) **certs,
			char *err, size_t errlen);

/* What a router holds from its conductor. */
struct svrcert_gen_held {
	bool have;
	uint8_t epoch[SVRCERT_GEN_EPOCH_LEN];
	uint64_t gen;
	time_t time;			/* when GEN was made */
	svrcert_revkey_t *keys;		/* ascending, unique; malloc'd */
	size_t n;
	struct svrcert_keylog log;	/* the file's base, the change since */
};

void svrcert_gen_held_release(struct svrcert_gen_held *h);

/*
 * A router's held state on disk, so that a restart keeps it (without it,
 * a restarted router would take any genuine full set, an old one
 * replayed included). Integers big-endian:
 *	  0  8 magic "SVRCHLD\0"    8  4 version (1)   12  4 header length (96)
 *	 16 16 epoch               32  8 generation   40  8 time
 *	 48  8 key count N         56 32 SHA-256 of bytes 0..55 and the keys
 *	 88  8 0                   96 32N keys, ascending
 * That file is the base; a change of the set since is saved in the key
 * delta beside it, "<PATH without .bin>.delta" (crl_keydelta.h; its state:
 * epoch, generation, time, as at 16..47 here), a small write; a full set,
 * or a delta past its bound, rewrites the base and removes the delta.
 * Each file is written atomically (atomic_write_file); the loader reads
 * only PATH and the delta, never a temp file, and takes nothing unless
 * every check passes: -ENOENT when PATH is absent, -EBADMSG naming the
 * problem (of PATH or of the delta), -errno of the read. A delta naming
 * another base is one a crash left behind the base that replaced it, and
 * is ignored.
 */
#define SVRCERT_GEN_HELD_MAGIC	"SVRCHLD"	/* + NUL: 8 bytes */
#define SVRCERT_GEN_HELD_HDR_LEN	96
int svrcert_gen_held_save(const char *path, struct svrcert_gen_held *h,
			  char *err, size_t errlen);
int svrcert_gen_held_load(const char *path, struct svrcert_gen_held *h,
			  char *err, size_t errlen);

/*
 * Apply a verified update U to H. 0: H now is U's generation (or already
 * was: nothing changed). Refused, H unchanged, ERR naming the problem:
 *   -ESTALE  rollback: a generation older than the one held, or a full
 *            set of another epoch made before the held state
 *   -EXDEV   the delta does not apply (no state held, another epoch, its
 *            base is not the held generation, or its keys disagree with
 *            the held set): ask the conductor for a full set (since=0)
 *   -ENOMEM
 */
int svrcert_gen_held_apply(struct svrcert_gen_held *h,
			   const struct svrcert_gen_update *u, char *err,
			   size_t errlen);

#endif
