// SPDX-License-Identifier: GPL-2.0
/* Build, sign (in the TPM), store and audit a PEM CSR. */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/audit.h"
#include "lib/counters.h"
#include "csr.h"

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	unsigned long e = ERR_peek_last_error();
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	n = strlen(err);
	if (e && ERR_reason_error_string(e) && n + 4 < errlen)
		snprintf(err + n, errlen - n, " (%s)", ERR_reason_error_string(e));
	ERR_clear_error();
	return ret;
}

static int add_entry(X509_NAME *name, int nid, const char *value, int type)
{
	if (!value || !*value)
		return 1;
	return X509_NAME_add_entry_by_NID(name, nid, type,
					  (const unsigned char *)value, -1, -1, 0);
}

static int build_subject(X509_REQ *req, const char *cn,
			 const struct csr_request *r, char *err, size_t errlen)
{
	X509_NAME *name = X509_NAME_new();
	int ok;

	if (r->country && strlen(r->country) != 2)
		return fail(err, errlen, -EINVAL, "country must be a two-letter "
			    "ISO 3166 code, not '%s'", r->country);
	ok = name &&
	     add_entry(name, NID_countryName, r->country, MBSTRING_ASC) &&
	     add_entry(name, NID_stateOrProvinceName, r->state, MBSTRING_UTF8) &&
	     add_entry(name, NID_localityName, r->locality, MBSTRING_UTF8) &&
	     add_entry(name, NID_organizationName, r->organization, MBSTRING_UTF8) &&
	     add_entry(name, NID_organizationalUnitName, r->org_unit, MBSTRING_UTF8) &&
	     add_entry(name, NID_commonName, cn, MBSTRING_UTF8) &&
	     add_entry(name, NID_pkcs9_emailAddress, r->email, MBSTRING_ASC) &&
	     X509_REQ_set_subject_name(req, name);
	X509_NAME_free(name);
	return ok ? 0 : fail(err, errlen, -EINVAL, "bad subject field");
}

static bool peering_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n && n <= 63 &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._-") == n;
}

static int request_sans(const struct csr_request *r, GENERAL_NAMES **names,
			char *err, size_t errlen)
{
	char uri[sizeof(CSR_SAN_URI_PREFIX) + 64];
	bool peering = r->peering_name && *r->peering_name;

	*names = NULL;
	if (peering && !peering_name_ok(r->peering_name))
		return fail(err, errlen, -EINVAL, "bad peering name '%s' (1..63 "
			    "of A-Z a-z 0-9 . _ -)", r->peering_name);
	snprintf(uri, sizeof(uri), "%s%s", CSR_SAN_URI_PREFIX,
		 peering ? r->peering_name : "");
	return csr_san_names(r, peering ? uri : NULL, names, err, errlen);
}

/* The SAN extension: the peering URI (always, when there is a peering
 * name), then the requested names. */
static int add_sans(X509_REQ *req, const struct csr_request *r, char *err,
		    size_t errlen)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	GENERAL_NAMES *names = NULL;
	int ret, ok;

	ret = request_sans(r, &names, err, errlen);
	if (ret || !names)
		return ret;
	exts = sk_X509_EXTENSION_new_null();
	ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, names);
	ok = exts && ext && sk_X509_EXTENSION_push(exts, ext);
	if (!ok)
		X509_EXTENSION_free(ext);
	ok = ok && X509_REQ_add_extensions(req, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(names);
	return ok ? 0 : fail(err, errlen, -ENOMEM, "cannot add the SANs");
}

/*
 * tpm2-openssl 1.1.1 encodes ecdsa-with-SHA256 with a NULL parameter,
 * which RFC 5758 forbids and strict verifiers refuse. The signature covers
 * only the request info, so the AlgorithmIdentifier can be rewritten.
 */
static int fix_ecdsa_algid(X509_REQ *req)
{
	const X509_ALGOR *alg;
	const ASN1_OBJECT *oid;
	X509_ALGOR *fixed;
	int ok;

	X509_REQ_get0_signature(req, NULL, &alg);
	X509_ALGOR_get0(&oid, NULL, NULL, alg);
	if (OBJ_obj2nid(oid) != NID_ecdsa_with_SHA256 &&
	    OBJ_obj2nid(oid) != NID_ecdsa_with_SHA384 &&
	    OBJ_obj2nid(oid) != NID_ecdsa_with_SHA512)
		return 1;
	fixed = X509_ALGOR_new();
	ok = fixed && X509_ALGOR_set0(fixed, OBJ_nid2obj(OBJ_obj2nid(oid)),
				      V_ASN1_UNDEF, NULL) &&
	     X509_REQ_set1_signature_algo(req, fixed);
	X509_ALGOR_free(fixed);
	return ok;
}

static int sign_req(struct tpm_ctx *tpm, X509_REQ *req, EVP_PKEY *pkey,
		    char *err, size_t errlen)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	int ok;

	/* The signature operation must be the key's provider's (tpm2); the
	 * digest stays with the default provider (default property query). */
	ok = mctx && EVP_DigestSignInit_ex(mctx, NULL, tpm_key_digest(pkey),
					   tpm->libctx,
					   tpm_ctx_sign_propq(tpm), pkey,
					   NULL) > 0 &&
	     X509_REQ_sign_ctx(req, mctx) > 0 && fix_ecdsa_algid(req);
	EVP_MD_CTX_free(mctx);
	if (ok && X509_REQ_verify_ex(req, pkey, tpm->libctx, NULL) <= 0)
		return fail(err, errlen, -EIO, "the signed CSR does not verify");
	return ok ? 0 : fail(err, errlen, -EIO, "signing the CSR with the %s "
			     "key failed", tpm_key_storage_name(tpm->storage));
}

int csr_build_pem(struct tpm_ctx *tpm, EVP_PKEY *pkey, const char *cn,
		  const struct csr_request *r, char **pem, char *err,
		  size_t errlen)
{
	X509_REQ *req = X509_REQ_new_ex(tpm->libctx, NULL);
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int ret;

	*pem = NULL;
	if (!req || !bio) {
		ret = -ENOMEM;
		goto out;
	}
	ret = X509_REQ_set_version(req, X509_REQ_VERSION_1) &&
	      X509_REQ_set_pubkey(req, pkey) ? 0 :
	      fail(err, errlen, -EINVAL, "cannot set the CSR's public key");
	if (!ret)
		ret = build_subject(req, cn, r, err, errlen);
	if (!ret)
		ret = add_sans(req, r, err, errlen);
	if (!ret)
		ret = sign_req(tpm, req, pkey, err, errlen);
	if (!ret && !PEM_write_bio_X509_REQ(bio, req))
		ret = fail(err, errlen, -EIO, "cannot encode the CSR");
	if (!ret) {
		n = BIO_get_mem_data(bio, &p);
		*pem = strndup(p, (size_t)n);
		ret = *pem ? 0 : -ENOMEM;
	}
out:
	BIO_free(bio);
	X509_REQ_free(req);
	return ret;
}

static json_t *csr_audit_detail(const char *name, const char *cn,
				const struct csr_request *r)
{
	GENERAL_NAMES *names = NULL;
	char err[256];
	json_t *o;

	/* Field names exactly as the seed's system.generate_csr event, and
	 * the SANs (ours) when there are any. */
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}",
			 "name", name, "common_name", cn,
			 "country_name", r->country ?: "",
			 "state_province_name", r->state ?: "",
			 "locality_name", r->locality ?: "",
			 "organization_name", r->organization ?: "",
			 "organizational_unit_name", r->org_unit ?: "",
			 "email_address", r->email ?: "",
			 "validity_period_days", r->validity_days);
	if (o && !request_sans(r, &names, err, sizeof(err)) && names)
		json_object_set_new(o, "subject_alt_names", csr_san_json(names));
	GENERAL_NAMES_free(names);
	return o;
}

static int choose_cn(const struct svrcert_store *st,
		     const struct csr_request *r, struct csr_result *res)
{
	char uuid[STORE_UUID_LEN + 1];
	int ret;

	if (r->common_name && *r->common_name) {
		snprintf(res->common_name, sizeof(res->common_name), "%s",
			 r->common_name);
	} else if (r->peering_name && *r->peering_name) {
		snprintf(res->common_name, sizeof(res->common_name), "%s",
			 r->peering_name);
	} else {
		ret = store_router_uuid(st, uuid);
		if (ret)
			return fail(res->err, sizeof(res->err), ret,
				    "cannot read or create the router UUID: %s",
				    strerror(-ret));
		snprintf(res->common_name, sizeof(res->common_name), "%s", uuid);
	}
	if (strlen(res->common_name) > 64)
		return fail(res->err, sizeof(res->err), -EINVAL,
			    "common name longer than 64 characters");
	return 0;
}

/*
 * A control character in a subject field would be signed into the
 * certificate and echoed raw to every terminal that shows it (an escape
 * sequence can rewrite the screen). C0 (0x00-0x1f), DEL and C1 (U+0080-
 * U+009F, UTF-8 0xc2 0x80-0x9f) are refused; other UTF-8 is fine. The
 * value itself is not echoed, its position is.
 */
static int no_controls(const char *what, const char *v, char *err,
		       size_t errlen)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t i;

	for (i = 0; p && p[i]; i++) {
		unsigned int c = p[i];

		if (c == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			c = p[i + 1];
		else if (c >= 0x20 && c != 0x7f)
			continue;
		return fail(err, errlen, -EINVAL, "%s: control character "
			    "U+%04X at byte %zu is not allowed in a certificate "
			    "subject", what, c, i + 1);
	}
	return 0;
}

static int subject_text_ok(const struct csr_request *r, char *err,
			   size_t errlen)
{
	const struct { const char *what, *v; } f[] = {
		{ "name", r->name }, { "common name", r->common_name },
		{ "peering name", r->peering_name }, { "country", r->country },
		{ "state", r->state }, { "locality", r->locality },
		{ "organization", r->organization },
		{ "organizational unit", r->org_unit }, { "email", r->email },
	};
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < sizeof(f) / sizeof(f[0]); i++)
		ret = no_controls(f[i].what, f[i].v, err, errlen);
	return ret;
}

static int csr_make_and_store(struct tpm_ctx *tpm, struct svrcert_store *st,
			      const struct csr_request *r,
			      struct csr_result *res)
{
	EVP_PKEY *pkey = NULL;
	int ret;

	ret = subject_text_ok(r, res->err, sizeof(res->err));
	if (ret)
		return ret;
	if (r->validity_days <= 0 || r->validity_days > 36500)
		return fail(res->err, sizeof(res->err), -EINVAL,
			    "validity days must be 1..36500, not %d",
			    r->validity_days);
	ret = choose_cn(st, r, res);
	if (ret)
		return ret;
	ret = tpm_key_load(tpm, st, &pkey);
	if (ret)
		return fail(res->err, sizeof(res->err), ret, "%s", tpm->err);
	ret = csr_build_pem(tpm, pkey, res->common_name, r, &res->pem,
			    res->err, sizeof(res->err));
	EVP_PKEY_free(pkey);	/* flushes the TPM's transient object */
	if (ret)
		return ret;
	ret = store_write(st, STORE_CSR, res->pem, strlen(res->pem),
			  STORE_MODE_PUBLIC);
	if (ret)
		return fail(res->err, sizeof(res->err), ret,
			    "cannot store the CSR: %s", strerror(-ret));
	return 0;
}

int csr_generate(struct tpm_ctx *tpm, struct svrcert_store *st,
		 const struct audit_sink *audit, const struct csr_request *r,
		 struct csr_result *res)
{
	struct audit_sink def = { .st = st, .path = NULL };
	char desc[300];
	const char *name;
	json_t *detail;
	int ret, ret2;

	memset(res, 0, sizeof(*res));
	ret = csr_make_and_store(tpm, st, r, res);
	ret2 = counters_inc(st, ret ? CNT_CSR_FAILURE : CNT_CSR_SUCCESS, NULL);
	if (ret2)
		fprintf(stderr, "warning: cannot update counters: %s\n",
			strerror(-ret2));
	name = r->name && *r->name ? r->name : res->common_name;
	snprintf(desc, sizeof(desc), "%s CSR for: %s",
		 ret ? "Failed to generate" : "Generated", name);
	detail = csr_audit_detail(name, res->common_name, r);
	/* A failed attempt is audited too, as not permitted, with why. */
	if (ret && detail)
		json_object_set_new(detail, "error", json_string(res->err));
	ret2 = audit_event(audit ? audit : &def, AUDIT_GENERATE_CSR, desc,
			   detail, ret == 0);
	if (!ret && ret2)
		return fail(res->err, sizeof(res->err), ret2, "CSR stored but "
			    "the audit event could not be written: %s",
			    strerror(-ret2));
	return ret;
}
