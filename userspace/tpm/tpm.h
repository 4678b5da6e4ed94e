/* SPDX-License-Identifier: GPL-2.0 */
/*
 * This router's private key, generated inside a TPM 2.0 through OpenSSL 3
 * and the tpm2 provider: EC P-256 (default), P-384 or P-521, or RSA 2048,
 * 3072 or 4096 bits, the choices SSR offers. Which of them a TPM can make
 * is the TPM's business (swtpm 0.7 / libtpms 0.9: all but RSA 4096); a
 * size it refuses is reported as such (-EOPNOTSUPP), never replaced. What is stored (STORE_KEY) is a TSS2 key
 * blob ("-----BEGIN TSS2 PRIVATE KEY-----"), the private part wrapped by the
 * TPM's storage key: it is useless without that TPM, and the private key
 * never exists outside it. STORE_PUBKEY holds the public half so that
 * import and show need no TPM.
 *
 * A key in a plain file is available only when the configuration asks for
 * it explicitly (key-storage = file); it is logged as a warning every time.
 *
 * The TPM is opened per operation and closed again: a TPM (and swtpm in
 * particular) serves one client at a time, and the daemon must not hold it.
 * The TCTI comes from TPM2OPENSSL_TCTI (e.g. "swtpm:host=127.0.0.1,port=P"
 * or "device:/dev/tpmrm0"), or from tpm_ctx_open()'s TCTI argument.
 */
#ifndef SVRCERT_TPM_H
#define SVRCERT_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "lib/store.h"

enum tpm_key_storage {
	TPM_KEY_STORAGE_TPM,	/* TSS2 key blob (default: storage = tpm-blob) */
	TPM_KEY_STORAGE_FILE,	/* explicit opt-in only */
	TPM_KEY_STORAGE_HANDLE,	/* persistent object made by the administrator
				 * (storage = tpm, tpm-handle) */
};

/*
 * Each operation gets its own OpenSSL library context: freeing it is the
 * only way to make the tpm2 provider really close its TPM connection
 * (methods cached in the default context keep the provider alive).
 * Keys loaded through a context must be freed before tpm_ctx_close().
 */
struct tpm_ctx {
	enum tpm_key_storage storage;
	OSSL_LIB_CTX *libctx;
	uint32_t handle;	/* TPM_KEY_STORAGE_HANDLE: e.g. 0x81000001 */
	OSSL_PROVIDER *prov_default;
	OSSL_PROVIDER *prov_tpm2;
	char err[256];		/* why the last call failed */
};

/* Creates the library context and loads `default` then (for TPM storage) `tpm2`, and sets the default
 * property query to "?provider=default" so that hashing and parsing stay
 * in software; only operations with the key itself ask for the TPM. TCTI
 * may be NULL (environment / provider default). */
int tpm_ctx_open(struct tpm_ctx *ctx, enum tpm_key_storage storage,
		 const char *tcti);
void tpm_ctx_close(struct tpm_ctx *ctx);
/* Point the tpm2 provider at TCTI (TPM2OPENSSL_TCTI; NULL or "": leave it).
 * The environment is changed only when the value differs: a threaded
 * program calls this once before its threads start. 0, or -1 with errno. */
int tpm_tcti_set(const char *tcti);

/* Property query to fetch signature operations for the key with. */
const char *tpm_ctx_sign_propq(const struct tpm_ctx *ctx);

enum tpm_key_type {
	TPM_KEY_EC,
	TPM_KEY_RSA,
};

/* What to generate. */
struct tpm_key_spec {
	enum tpm_key_type type;
	const char *curve;	/* EC: "P-256", "P-384" or "P-521" */
	int bits;		/* RSA: 2048, 3072 or 4096 */
};

#define TPM_KEY_SPEC_DEFAULT	{ .type = TPM_KEY_EC, .curve = "P-256" }
#define TPM_KEY_SPEC_NAME_LEN	16	/* "RSA 4096", "EC P-521" */

/* tpm_keyspec.c: the spec for ALGORITHM ("EC" or "RSA", any case; NULL:
 * EC), CURVE (EC only; NULL: P-256) and BITS (RSA only; 0: 2048). A value
 * SSR does not offer, or a curve for RSA / bits for EC, is -EINVAL with
 * the reason in ERR. The spec points into static names, not the input. */
int tpm_key_spec_parse(struct tpm_key_spec *spec, const char *algorithm,
		       const char *curve, long bits, char *err, size_t errlen);
/* "EC P-256", "RSA 3072". */
void tpm_key_spec_name(const struct tpm_key_spec *spec, char *buf,
		       size_t len);
/* The spec of an existing key (TPM-resident or public); -EINVAL for a key
 * SSR's choices do not include. */
int tpm_key_spec_of(EVP_PKEY *pkey, struct tpm_key_spec *spec);
/* The digest this router signs with: SHA-384 for P-384, SHA-512 for P-521,
 * SHA-256 for P-256 and RSA (the sizes the TPM's hash and the CA's usual
 * profiles pair them with). */
const char *tpm_key_digest(EVP_PKEY *pkey);

/* tpm_probe.c: does the TPM (TPM2OPENSSL_TCTI) make SPEC keys? Asked with
 * TPM2_TestParms, which creates nothing. 0: yes; -EOPNOTSUPP: no, ERR
 * naming what of SSR's choices it does make; -ENOSYS / -EIO: could not
 * ask. Must run while no tpm_ctx is open (swtpm serves one client). */
int tpm_key_probe(const struct tpm_key_spec *spec, char *err, size_t errlen);

/* Generate a new key as SPEC says (NULL: EC P-256); refuses (-EEXIST) to
 * replace an existing key unless FORCE. Writes the key file (0600) and
 * STORE_PUBKEY (0644). A persistent handle is the administrator's to
 * make: -EOPNOTSUPP. A key type or size the TPM refuses: -EOPNOTSUPP,
 * ctx->err naming the size and the TPM's answer; nothing is written. */
int tpm_key_generate_spec(struct tpm_ctx *ctx, const struct svrcert_store *st,
			  const struct tpm_key_spec *spec, bool force);
/* The same with EC P-256. */
int tpm_key_generate(struct tpm_ctx *ctx, const struct svrcert_store *st,
		     bool force);
/* Load the private key (a TPM-resident handle for TPM storage). For a
 * persistent handle, its public key is (re)written to STORE_PUBKEY. */
int tpm_key_load(struct tpm_ctx *ctx, const struct svrcert_store *st,
		 EVP_PKEY **pkey);

/* tpm_tls.c: this router's RSA TPM key as libssl can sign with it (TLS 1.3
 * RSA-PSS): the stored public half, each signature made by the TPM (TCTI
 * as tpm_ctx_open's) in a context opened for it alone. -EINVAL when the
 * stored key is not RSA. */
int tpm_tls_rsa_key(const struct svrcert_store *st, const char *tcti,
		    EVP_PKEY **out, char *err, size_t errlen);

/* The stored public key; needs no TPM. */
int tpm_pubkey_load(const struct svrcert_store *st, EVP_PKEY **pkey);
/* Which kind of key is stored; -ENOENT when none. */
int tpm_key_storage_of(const struct svrcert_store *st,
		       enum tpm_key_storage *storage);
const char *tpm_key_storage_name(enum tpm_key_storage storage);

#endif
