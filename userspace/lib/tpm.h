/* SPDX-License-Identifier: GPL-2.0 */
/*
 * This router's private key: P-256, generated inside a TPM 2.0 through
 * OpenSSL 3 and the tpm2 provider. What is stored (STORE_KEY) is a TSS2 key
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

#include "store.h"

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

/* Property query to fetch signature operations for the key with. */
const char *tpm_ctx_sign_propq(const struct tpm_ctx *ctx);

/* Generate a new key; refuses (-EEXIST) to replace an existing key unless
 * FORCE. Writes the key file (0600) and STORE_PUBKEY (0644). A persistent
 * handle is the administrator's to make: -EOPNOTSUPP. */
int tpm_key_generate(struct tpm_ctx *ctx, const struct svrcert_store *st,
		     bool force);
/* Load the private key (a TPM-resident handle for TPM storage). For a
 * persistent handle, its public key is (re)written to STORE_PUBKEY. */
int tpm_key_load(struct tpm_ctx *ctx, const struct svrcert_store *st,
		 EVP_PKEY **pkey);

/* The stored public key; needs no TPM. */
int tpm_pubkey_load(const struct svrcert_store *st, EVP_PKEY **pkey);
/* Which kind of key is stored; -ENOENT when none. */
int tpm_key_storage_of(const struct svrcert_store *st,
		       enum tpm_key_storage *storage);
const char *tpm_key_storage_name(enum tpm_key_storage storage);

#endif
