/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Certificate signing request for this router's key, signed in the TPM.
 *
 * Subject CN: the explicit common name if given, else the peering name,
 * else the router's UUID (the seed: "common name field set to the router's
 * UUID"). A peering name also adds the SAN URI urn:ssr:peering:<name>,
 * which is how a peer's identity is matched when its CN is not the name.
 * Further SANs (DNS names, IP addresses, URIs, e-mail addresses) come from
 * the request, each checked (csr_san.c).
 *
 * The CSR is signed with the digest that fits the key (tpm_key_digest):
 * SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521.
 */
#ifndef SVRCERT_CSR_H
#define SVRCERT_CSR_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <openssl/x509v3.h>

#include "lib/store.h"
#include "tpm/tpm.h"

#define CSR_SAN_URI_PREFIX	"urn:ssr:peering:"
#define CSR_DEFAULT_DAYS	365
#define CSR_SAN_MAX		16	/* entries of each kind */
#define CSR_SAN_VALUE_MAX	255	/* characters of one value */

enum csr_san_kind {
	CSR_SAN_DNS,
	CSR_SAN_IP,
	CSR_SAN_URI,
	CSR_SAN_EMAIL,
	CSR_SAN_KINDS
};

struct csr_san_list {
	const char *v[CSR_SAN_MAX];	/* not owned */
	size_t n;
};

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
	struct csr_san_list san[CSR_SAN_KINDS];	/* besides the peering URI */
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

/* csr_san.c: "dns", "ip", "uri", "email". */
const char *csr_san_kind_name(enum csr_san_kind kind);
/* Is VALUE a well-formed SAN of KIND? -EINVAL with the reason (naming the
 * kind and value) in ERR. */
int csr_san_check(enum csr_san_kind kind, const char *value, char *err,
		  size_t errlen);
/* Check VALUE and append it to R's list of KIND (not copied); a duplicate
 * is -EINVAL, more than CSR_SAN_MAX -E2BIG. */
int csr_san_add(struct csr_request *r, enum csr_san_kind kind,
		const char *value, char *err, size_t errlen);
/* PEERING_URI (if any) then R's SANs, each checked again; *OUT is NULL
 * when there are none. */
int csr_san_names(const struct csr_request *r, const char *peering_uri,
		  GENERAL_NAMES **out, char *err, size_t errlen);
/* ["URI:urn:ssr:peering:r1", "DNS:r1.example", "IP:192.0.2.1", ...] */
json_t *csr_san_json(const GENERAL_NAMES *names);

#endif
