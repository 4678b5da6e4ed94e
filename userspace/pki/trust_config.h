/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The [trusted-ca "NAME"] bundles of svrcert.conf, checked exactly as
 * "svrcertctl trusted-ca add" checks a bundle (svrcert_bundle_check with
 * the section's validation-mode):
 *
 *   strict  any problem refuses the CA: it is left out of every trust
 *           store (import, peer checks, CRL signers) and the own-certificate
 *           check raises the "trusted-ca-refused" alarm;
 *   warn    problems are warnings; the CA is used.
 *
 * A bundle that holds no certificate or a private key is refused in both
 * modes, as trusted-ca add refuses it.
 */
#ifndef SVRCERT_TRUST_CONFIG_H
#define SVRCERT_TRUST_CONFIG_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>

#include "lib/config.h"

#define ALARM_TRUSTED_CA_REFUSED	"trusted-ca-refused"
/* Largest bundle file read (the same limit as trusted-ca add). */
#define TRUST_CONFIG_BUNDLE_MAX		(4u << 20)

enum trust_ca_verdict {
	TRUST_CA_OK,		/* no problem */
	TRUST_CA_WARN,		/* warn mode: used, MESSAGE lists warnings */
	TRUST_CA_REFUSED,	/* not used; MESSAGE says why */
};

struct trust_ca_check {
	char name[SVRCERT_CONF_NAME_MAX + 1];
	enum trust_ca_verdict verdict;
	char message[1024];	/* one line: CA, file, mode, every problem */
};

/*
 * Check one configured CA at NOW (0: time(NULL)). CERTS (may be NULL)
 * receives its certificates unless refused (caller frees). Returns 0 with
 * RES filled, or -errno when the file cannot be read (RES says so, verdict
 * REFUSED), -ENOMEM.
 */
int trust_config_check_one(const struct svrcert_trusted_ca *ca, time_t now,
			   struct trust_ca_check *res, STACK_OF(X509) **certs);

/*
 * Every [trusted-ca] of CFG, in order: *OUT is an array of cfg->n_cas
 * verdicts (free() it; NULL when there is none). For svrcertd at start and
 * reload: log each WARN and REFUSED message. Returns 0 or -ENOMEM.
 */
int trust_config_check(const struct svrcert_config *cfg, time_t now,
		       struct trust_ca_check **out);

/* The REFUSED ones of CFG as one alarm message ("" when none): what the
 * own-certificate check raises ALARM_TRUSTED_CA_REFUSED with. */
void trust_config_refused_text(const struct svrcert_config *cfg, time_t now,
			       char *buf, size_t len);

/*
 * Add the certificates of every configured CA that is not refused to
 * STORE; *ADDED counts the CAs added. A file that cannot be read is an
 * error (ERR names it), as it always was.
 */
int trust_config_add_to_store(const struct svrcert_config *cfg, time_t now,
			      X509_STORE *store, size_t *added, char *err,
			      size_t errlen);

#endif
