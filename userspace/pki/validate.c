// SPDX-License-Identifier: GPL-2.0
/* The single certificate rules and the problem list (see validate.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "crl/crl_verify.h"
#include "lib/util.h"
#include "validate.h"

static const char *const problem_names[__SVRCERT_P_MAX] = {
	[SVRCERT_P_NONE] = "none",
	[SVRCERT_P_PRIVATE_KEY] = "private-key",
	[SVRCERT_P_PARSE] = "parse",
	[SVRCERT_P_SIG_ALG] = "signature-algorithm",
	[SVRCERT_P_KEY_TYPE] = "key-type",
	[SVRCERT_P_RSA_SIZE] = "rsa-key-size",
	[SVRCERT_P_EC_CURVE] = "ec-curve",
	[SVRCERT_P_CA_NOT_CRITICAL] = "ca-not-critical",
	[SVRCERT_P_CA_FALSE] = "ca-false",
	[SVRCERT_P_LEAF_IS_CA] = "leaf-is-ca",
	[SVRCERT_P_EKU_MISSING] = "eku-missing",
	[SVRCERT_P_EKU_PURPOSE] = "eku-purpose",
	[SVRCERT_P_NOT_YET_VALID] = "not-yet-valid",
	[SVRCERT_P_EXPIRED] = "expired",
	[SVRCERT_P_IDENTITY] = "identity",
	[SVRCERT_P_KEY_MISMATCH] = "key-mismatch",
	[SVRCERT_P_UNTRUSTED] = "untrusted",
	[SVRCERT_P_REVOKED] = "revoked",
	[SVRCERT_P_BUNDLE_ORDER] = "bundle-order",
	[SVRCERT_P_INTERNAL] = "internal",
};

void svrcert_problems_init(struct svrcert_problems *p)
{
	memset(p, 0, sizeof(*p));
}

void svrcert_problems_free(struct svrcert_problems *p)
{
	free(p->v);
	svrcert_problems_init(p);
}

bool svrcert_problems_add(struct svrcert_problems *p, enum svrcert_problem code,
			  bool warning, int depth, const char *fmt, ...)
{
	struct svrcert_problem_item *it;
	va_list ap;

	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		void *n = reallocarray(p->v, ncap, sizeof(*p->v));

		if (!n) {
			p->n_errors++;	/* never let OOM look like success */
			return false;
		}
		p->v = n;
		p->cap = ncap;
	}
	it = &p->v[p->n++];
	it->code = code;
	it->warning = warning;
	it->depth = depth;
	va_start(ap, fmt);
	vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
	va_end(ap);
	if (!warning)
		p->n_errors++;
	return true;
}

enum svrcert_problem svrcert_problems_first(const struct svrcert_problems *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (!p->v[i].warning)
			return p->v[i].code;
	return p->n_errors ? SVRCERT_P_INTERNAL : SVRCERT_P_NONE;
}

bool svrcert_problems_has(const struct svrcert_problems *p,
			  enum svrcert_problem code)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].code == code)
			return true;
	return false;
}

const char *svrcert_problem_name(enum svrcert_problem code)
{
	if ((unsigned int)code >= __SVRCERT_P_MAX)
		return "unknown";
	return problem_names[code];
}

enum svrcert_cert_state svrcert_problem_state(enum svrcert_problem code)
{
	switch (code) {
	case SVRCERT_P_NONE:
		return SVRCERT_STATE_VALID;
	case SVRCERT_P_EXPIRED:
		return SVRCERT_STATE_EXPIRED;
	case SVRCERT_P_NOT_YET_VALID:
		return SVRCERT_STATE_NOT_YET_VALID;
	case SVRCERT_P_REVOKED:
		return SVRCERT_STATE_REVOKED;
	default:
		return SVRCERT_STATE_INVALID;
	}
}

/* `certificate "C=US, O=Org, CN=r1"` for messages. */
static const char *label(X509 *cert, char *buf, size_t len)
{
	char subj[160];

	svrcert_name_text(X509_get_subject_name(cert), subj, sizeof(subj));
	snprintf(buf, len, "certificate \"%s\"", subj[0] ? subj : "(empty subject)");
	return buf;
}

/* ---- step 2: per-certificate rules */

static bool sig_alg_allowed(X509 *cert)
{
	int mdnid = NID_undef, pknid = NID_undef;

	/* X509_get_signature_info also reads RSA-PSS's hash from its params. */
	if (X509_get_signature_info(cert, &mdnid, &pknid, NULL, NULL) != 1)
		return false;
	if (mdnid != NID_sha256 && mdnid != NID_sha384 && mdnid != NID_sha512)
		return false;
	return pknid == NID_rsaEncryption || pknid == NID_X9_62_id_ecPublicKey ||
	       pknid == NID_rsassaPss;
}

static bool check_public_key_kind(X509 *cert, int depth, bool warn,
				  struct svrcert_problems *p)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	char group[64] = "", who[200];
	size_t glen = 0;
	int nid;

	if (!pk) {
		ERR_clear_error();
		label(cert, who, sizeof(who));
		svrcert_problems_add(p, SVRCERT_P_KEY_TYPE, warn, depth,
				     "%s: public key cannot be decoded", who);
		return false;
	}
	if (EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "RSA-PSS")) {
		if (EVP_PKEY_get_bits(pk) >= 2048)
			return true;
		label(cert, who, sizeof(who));
		svrcert_problems_add(p, SVRCERT_P_RSA_SIZE, warn, depth,
				     "%s: RSA key of %d bits is too small (at least 2048)",
				     who, EVP_PKEY_get_bits(pk));
		return false;
	}
	if (!EVP_PKEY_is_a(pk, "EC")) {
		label(cert, who, sizeof(who));
		svrcert_problems_add(p, SVRCERT_P_KEY_TYPE, warn, depth,
				     "%s: public key type %s is not allowed (RSA or EC only)",
				     who, EVP_PKEY_get0_type_name(pk));
		return false;
	}
	if (EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) != 1) {
		ERR_clear_error();
		snprintf(group, sizeof(group), "explicit parameters");
	}
	/* OpenSSL names explicit parameters that equal a named curve after that
	 * curve; RFC 5480 2.1.1 allows only the namedCurve OID in certificates. */
	if (!svrcert_ec_named_curve(pk)) {
		label(cert, who, sizeof(who));
		svrcert_problems_add(p, SVRCERT_P_EC_CURVE, warn, depth,
				     "%s: EC key with explicit curve parameters (%s) is not allowed (named curves P-256, P-384 or P-521 only, RFC 5480)",
				     who, group);
		return false;
	}
	nid = OBJ_txt2nid(group);
	if (nid == NID_X9_62_prime256v1 || nid == NID_secp384r1 || nid == NID_secp521r1)
		return true;
	label(cert, who, sizeof(who));
	svrcert_problems_add(p, SVRCERT_P_EC_CURVE, warn, depth,
			     "%s: EC curve %s is not allowed (P-256, P-384 or P-521 only)",
			     who, group);
	return false;
}

bool svrcert_check_algorithms(X509 *cert, int depth, bool warn,
			      struct svrcert_problems *p)
{
	char who[200];
	bool ok = true;

	if (!sig_alg_allowed(cert)) {
		char alg[80];

		ERR_clear_error();
		label(cert, who, sizeof(who));
		OBJ_obj2txt(alg, sizeof(alg), OBJ_nid2obj(X509_get_signature_nid(cert)), 0);
		svrcert_problems_add(p, SVRCERT_P_SIG_ALG, warn, depth,
				     "%s: signature algorithm %s is not allowed (SHA-256/384/512 with RSA, ECDSA or RSA-PSS only)",
				     who, X509_get_signature_nid(cert) != NID_undef ? alg : "(unknown)");
		ok = false;
	}
	return check_public_key_kind(cert, depth, warn, p) && ok;
}

static bool extensions_valid(X509 *cert, int depth, struct svrcert_problems *p)
{
	char who[200];

	if (!(X509_get_extension_flags(cert) & EXFLAG_INVALID))
		return true;
	label(cert, who, sizeof(who));
	svrcert_problems_add(p, SVRCERT_P_PARSE, false, depth,
			     "%s: has malformed or duplicate extensions", who);
	return false;
}

bool svrcert_check_ca(X509 *cert, int depth, bool warn, struct svrcert_problems *p)
{
	int idx = X509_get_ext_by_NID(cert, NID_basic_constraints, -1);
	char who[200];

	if (!extensions_valid(cert, depth, p))
		return false;
	if (idx < 0 || !(X509_get_extension_flags(cert) & EXFLAG_CA)) {
		label(cert, who, sizeof(who));
		svrcert_problems_add(p, SVRCERT_P_CA_FALSE, warn, depth,
				     "%s: is used as a CA but lacks basicConstraints CA:TRUE", who);
		return false;
	}
	if (!X509_EXTENSION_get_critical(X509_get_ext(cert, idx))) {
		label(cert, who, sizeof(who));
		svrcert_problems_add(p, SVRCERT_P_CA_NOT_CRITICAL, warn, depth,
				     "%s: basicConstraints CA:TRUE is not marked critical", who);
		return false;
	}
	return true;
}

bool svrcert_check_leaf(X509 *cert, bool warn, struct svrcert_problems *p)
{
	uint32_t flags = X509_get_extension_flags(cert);
	char who[200];
	bool ok = true;

	if (!extensions_valid(cert, 0, p))
		return false;
	if ((flags & (EXFLAG_CA | EXFLAG_XKUSAGE)) != EXFLAG_XKUSAGE ||
	    !(X509_get_extended_key_usage(cert) & (XKU_SSL_CLIENT | XKU_SSL_SERVER)))
		label(cert, who, sizeof(who));
	if (flags & EXFLAG_CA) {
		svrcert_problems_add(p, SVRCERT_P_LEAF_IS_CA, warn, 0,
				     "%s: is a CA (basicConstraints CA:TRUE) and cannot be a router certificate",
				     who);
		ok = false;
	}
	if (!(flags & EXFLAG_XKUSAGE)) {
		svrcert_problems_add(p, SVRCERT_P_EKU_MISSING, warn, 0,
				     "%s: has no extended key usage (needs clientAuth or serverAuth)",
				     who);
		ok = false;
	} else if (!(X509_get_extended_key_usage(cert) & (XKU_SSL_CLIENT | XKU_SSL_SERVER))) {
		svrcert_problems_add(p, SVRCERT_P_EKU_PURPOSE, warn, 0,
				     "%s: extended key usage has neither clientAuth nor serverAuth",
				     who);
		ok = false;
	}
	return ok;
}

bool svrcert_check_dates(X509 *cert, int depth, time_t now, bool warn,
			 struct svrcert_problems *p)
{
	int before = X509_cmp_time(X509_get0_notBefore(cert), &now);
	int after = X509_cmp_time(X509_get0_notAfter(cert), &now);
	char who[200], when[32];

	if (before < 0 && after > 0)
		return true;
	label(cert, who, sizeof(who));
	if (before == 0 || after == 0) {
		svrcert_problems_add(p, SVRCERT_P_PARSE, false, depth,
				     "%s: malformed notBefore or notAfter", who);
		return false;
	}
	if (before > 0) {
		svrcert_time_iso8601(svrcert_cert_not_before(cert), when, sizeof(when));
		svrcert_problems_add(p, SVRCERT_P_NOT_YET_VALID, warn, depth,
				     "%s: not valid before %s", who, when);
		return false;
	}
	if (after < 0) {
		svrcert_time_iso8601(svrcert_cert_not_after(cert), when, sizeof(when));
		svrcert_problems_add(p, SVRCERT_P_EXPIRED, warn, depth,
				     "%s: expired at %s", who, when);
		return false;
	}
	return true;
}

bool svrcert_check_identity(X509 *cert, const char *name,
			    struct svrcert_problems *p)
{
	char cn[256], who[200];
	int n = svrcert_cert_cn(cert, cn, sizeof(cn));

	if (n >= 0 && !strcmp(cn, name))
		return true;
	if (svrcert_cert_has_peering_uri(cert, name))
		return true;
	label(cert, who, sizeof(who));
	svrcert_problems_add(p, SVRCERT_P_IDENTITY, false, 0,
			     "%s: identity does not match \"%s\" (neither the CN nor a SAN URI urn:ssr:peering:%s)",
			     who, name, name);
	return false;
}

/* SubjectPublicKeyInfo DER equality: works for provider keys (TPM) that
 * EVP_PKEY_eq cannot compare across key managers. */
static bool spki_equal(EVP_PKEY *a, EVP_PKEY *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_PUBKEY(a, &da), lb = i2d_PUBKEY(b, &db);
	bool eq = la > 0 && la == lb && !memcmp(da, db, (size_t)la);

	OPENSSL_free(da);
	OPENSSL_free(db);
	ERR_clear_error();
	return eq;
}

bool svrcert_check_public_key(X509 *cert, EVP_PKEY *expected,
			      struct svrcert_problems *p)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	char who[200];

	if (pk && (EVP_PKEY_eq(pk, expected) == 1 || spki_equal(pk, expected)))
		return true;
	ERR_clear_error();
	label(cert, who, sizeof(who));
	svrcert_problems_add(p, SVRCERT_P_KEY_MISMATCH, false, 0,
			     "%s: public key is not this router's key", who);
	return false;
}
