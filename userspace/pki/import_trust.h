/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the import checks trust and distrust:
 *
 *  - trusted CA bundles installed with "svrcertctl trusted-ca add" into
 *    the state directory (trusted-ca/NAME.pem + NAME.mode), plus the
 *    [trusted-ca "NAME"] bundles of the configuration;
 *  - the CRLs this router holds: every file in STATE_DIR/crl/ (PEM or
 *    DER), as published by the CRL manager after verifying them, and its
 *    master list STATE_DIR/master.bin when present (crl_master.h).
 */
#ifndef SVRCERT_IMPORT_TRUST_H
#define SVRCERT_IMPORT_TRUST_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "lib/config.h"
#include "pki.h"
#include "lib/store.h"
#include "validate.h"

#define TRUST_DIR_CRL	"crl"

/* NAME: 1..63 of [A-Za-z0-9._-], not starting with '.'. */
bool trust_ca_name_ok(const char *name);

/*
 * Check the bundle in FILE (svrcert_bundle_check with MODE) and install it
 * atomically as NAME (replacing a bundle of that name). Returns 0 (P may
 * hold warnings in warn mode), -EINVAL (P lists every problem; nothing
 * installed), or -errno with ERR set.
 */
int trust_ca_add(struct svrcert_store *st, const char *name,
		 const char *file, enum svrcert_validation_mode mode,
		 time_t now, struct svrcert_problems *p, char *err,
		 size_t errlen);
int trust_ca_del(struct svrcert_store *st, const char *name);

/* [{"name","source":"state"|"config","file","validation_mode",
 *   "certificates":[{"subject","issuer","not_after"}]}] */
int trust_ca_list(const struct svrcert_store *st,
		  const struct svrcert_config *cfg, json_t **out);

/* All bundles (state dir and CFG, which may be NULL) as trust anchors.
 * -ENOENT with ERR set when there is no trusted CA at all. */
int trust_store_build(const struct svrcert_store *st,
		      const struct svrcert_config *cfg, X509_STORE **out,
		      char *err, size_t errlen);

/* A held CRL file, PEM or DER; NULL when it does not parse. */
X509_CRL *trust_crl_load(const char *path);

/* The revocation keys of the held CRLs and the master list, for a judge:
 * held_revs.h. */

/* [{"file","issuer","last_update","next_update","entries"}] */
int trust_held_crls_json(const struct svrcert_store *st, json_t **out);

#endif
