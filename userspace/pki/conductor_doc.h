/* SPDX-License-Identifier: GPL-2.0 */
/*
 * conductor_doc -- the conductor's signed revocation update (crl_gendoc.h)
 * at the layer that knows keys and certificate rules: signing with this
 * router's key through tpm/ (the TPM, or a file key where key-storage =
 * file), and a router's verification of a document against the trusted
 * CAs with the runtime rules (validate.h: chain, algorithms, dates, EKU,
 * the conductor's identity, revocation).
 */
#ifndef SVRCERT_CONDUCTOR_DOC_H
#define SVRCERT_CONDUCTOR_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "crl/crl_gendoc.h"
#include "lib/store.h"
#include "tpm/tpm.h"
#include "validate.h"

/* Who signs: the key and certificate of a state directory. */
struct svrcert_conductor_signer {
	const struct svrcert_store *st;	/* its key and cert.pem (leaf first,
					 * further certificates included) */
	enum tpm_key_storage storage;
	uint32_t handle;		/* TPM_KEY_STORAGE_HANDLE */
	const char *tcti;		/* NULL: TPM2OPENSSL_TCTI */
	const char *name;		/* the conductor's identity, as routers
					 * expect it (CN or urn:ssr:peering) */
};

/*
 * U (its conductor name taken from S) encoded and signed: the TPM is
 * opened for this one signature and closed again (tpm_ctx_open: default
 * provider, then tpm2, "?provider=default"; the signature with
 * provider=tpm2). *DOC malloc'd. 0 or -errno with ERR set.
 */
int svrcert_conductor_sign(const struct svrcert_conductor_signer *s,
			   const struct svrcert_gen_update *u, uint8_t **doc,
			   size_t *len, char *err, size_t errlen);

/*
 * A router's check of a fetched document. VP: the trusted CAs, the time,
 * the revocation lookup and expected_name, the conductor's identity
 * (required). On success U holds the update (svrcert_gen_update_release);
 * it is still to be applied (svrcert_gen_held_apply). Errors, with ERR
 * naming the problem:
 *   -EBADMSG       not CMS, not signed, more than one signer, altered
 *                  (signature or content), or content against the format
 *   -EKEYREJECTED  the signer's certificate fails a rule (untrusted chain,
 *                  another identity, expired, ...), or the document names
 *                  another conductor
 *   -EKEYREVOKED   the signer's certificate is revoked
 *   -EINVAL        no expected_name; -ENOMEM
 */
int svrcert_conductor_verify(const uint8_t *doc, size_t len,
			     const struct svrcert_validate_params *vp,
			     struct svrcert_gen_update *u, char *err,
			     size_t errlen);

#endif
