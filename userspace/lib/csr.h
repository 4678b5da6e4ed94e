/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Certificate signing request for this router's key, signed in the TPM.
 *
 * Subject CN: the explicit common name if given, else the peering name,
 * else the router's UUID (the seed: "common name field set to the router's
 * UUID"). A peering name also adds the SAN URI urn:ssr:peering:<name>,
 * which is how a peer's identity is matched when its CN is not the name.
 */
#ifndef SVRCERT_CSR_H
#define SVRCERT_CSR_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"
#include "tpm.h"

#define CSR_SAN_URI_PREFIX	"urn:ssr:peering:"
#define CSR_DEFAULT_DAYS	365

struct csr_request {
	const char *name;		/* audit "name" (default: the CN) */
	const char *common_name;	/* NULL: peering name or router UUID */
	const char *peering_name;	/* NULL: no SAN URI */
	const char *country;		/* C, two letters */
	const char *state;		/* ST */
	const char *locality;		/* L */
	const char *organization;	/* O */
	const char *org_unit;		/* OU */
	const char *email;		/* emailAddress */
	int validity_days;		/* asked of the CA; audit only */
};

struct csr_result {
	char *pem;			/* malloc'd PEM CSR */
	char common_name[128];
	char err[256];			/* why it failed */
};

/*
 * The whole "svrcertctl csr" operation: load the key, build and sign the
 * CSR, store it (STORE_CSR), count CSR success/failure, and audit
 * system.generate_csr. AUDIT may be NULL (state directory). Returns 0 or
 * -errno with res->err set; free res->pem with free().
 */
struct audit_sink;
int csr_generate(struct tpm_ctx *tpm, struct svrcert_store *st,
		 const struct audit_sink *audit, const struct csr_request *req,
		 struct csr_result *res);

/* Just build and sign (no storage, audit or counters). */
int csr_build_pem(struct tpm_ctx *tpm, EVP_PKEY *pkey, const char *cn,
		  const struct csr_request *req, char **pem, char *err,
		  size_t errlen);

#endif
