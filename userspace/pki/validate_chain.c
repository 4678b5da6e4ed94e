// SPDX-License-Identifier: GPL-2.0
/*
 * Whole-certificate validation: trusted CA bundles, chains to a trust
 * store, revocation, and the seed's three import steps in order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lib/util.h"
#include "validate.h"
#include "validate_sigcache.h"

/* ---- trusted CA bundles */

static void check_bundle_order(STACK_OF(X509) *certs, bool warn,
			       struct svrcert_problems *p)
{
	int n = sk_X509_num(certs);
	char subj[160];

	for (int i = 0; i + 1 < n; i++) {
		X509 *cert = sk_X509_value(certs, i), *issuer = sk_X509_value(certs, i + 1);
		EVP_PKEY *ipk = X509_get0_pubkey(issuer);

		if (X509_check_issued(issuer, cert) == X509_V_OK && ipk &&
		    X509_verify(cert, ipk) == 1)
			continue;
		svrcert_name_text(X509_get_subject_name(cert), subj, sizeof(subj));
		svrcert_problems_add(p, SVRCERT_P_BUNDLE_ORDER, warn, i,
				     "bundle certificate %d \"%s\" is not signed by the certificate after it; the bundle must run from the issuing CA up to the root",
				     i + 1, subj);
	}
	if (n > 0 && X509_self_signed(sk_X509_value(certs, n - 1), 1) != 1) {
		svrcert_name_text(X509_get_subject_name(sk_X509_value(certs, n - 1)),
				  subj, sizeof(subj));
		svrcert_problems_add(p, SVRCERT_P_BUNDLE_ORDER, warn, n - 1,
				     "bundle ends with \"%s\", which is not a self-signed root", subj);
	}
	ERR_clear_error();
}

int svrcert_bundle_check(const uint8_t *buf, size_t len,
			 enum svrcert_validation_mode mode, time_t now,
			 STACK_OF(X509) **out, struct svrcert_problems *p)
{
	bool warn = mode == SVRCERT_MODE_WARN;
	STACK_OF(X509) *certs = NULL;
	size_t hard_before = p->n_errors;
	char msg[160];
	int n;

	if (!svrcert_check_no_private_key(buf, len, p))
		return -EINVAL;
	n = svrcert_certs_from_buf(buf, len, &certs, msg, sizeof(msg));
	if (n == -ENOMEM)
		return -ENOMEM;
	if (n < 0) {
		svrcert_problems_add(p, SVRCERT_P_PARSE, false, -1, "bundle: %s", msg);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		X509 *cert = sk_X509_value(certs, i);

		svrcert_check_algorithms(cert, i, warn, p);
		svrcert_check_ca(cert, i, warn, p);
		svrcert_check_dates(cert, i, now ? now : time(NULL), warn, p);
	}
	check_bundle_order(certs, warn, p);
	if (p->n_errors != hard_before) {
		sk_X509_pop_free(certs, X509_free);
		return -EINVAL;
	}
	*out = certs;
	return 0;
}

X509_STORE *svrcert_store_new(void)
{
	return X509_STORE_new();
}

int svrcert_store_add_certs(X509_STORE *store, STACK_OF(X509) *certs)
{
	for (int i = 0; i < sk_X509_num(certs); i++) {
		if (X509_STORE_add_cert(store, sk_X509_value(certs, i)) != 1) {
			unsigned long e = ERR_peek_last_error();

			/* The same CA in two bundles is fine. */
			if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
				ERR_clear_error();
				return -ENOMEM;
			}
		}
	}
	ERR_clear_error();
	return 0;
}

/* ---- chain verification */

/* What the callbacks of one X509_verify_cert see (its app data). */
struct chain_ctx {
	struct svrcert_problems *p;
	size_t untrusted;		/* UNTRUSTED problems reported */
	struct svrcert_sigcache *cache;
	X509_STORE_CTX_verify_fn full;	/* OpenSSL's own walk */
	bool full_walk;
};

/*
 * OpenSSL's chain errors become problems. Dates and CA flags are left to
 * our own rules (below), which apply to every certificate of the chain and
 * give each its own code; everything else (no path to a trust anchor, bad
 * signature, path length, ...) is SVRCERT_P_UNTRUSTED.
 */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	struct chain_ctx *cc = X509_STORE_CTX_get_app_data(ctx);
	struct svrcert_problems *p = cc->p;
	int err = X509_STORE_CTX_get_error(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	char subj[160] = "";

	if (ok)
		return 1;
	switch (err) {
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_INVALID_CA:
		return 1;
	}
	cc->untrusted++;
	/* One message per certificate: OpenSSL may add a follow-up error
	 * ("unable to verify the first certificate") for the same cause. */
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].code == SVRCERT_P_UNTRUSTED &&
		    p->v[i].depth == X509_STORE_CTX_get_error_depth(ctx))
			return 1;
	if (cur)
		svrcert_name_text(X509_get_subject_name(cur), subj, sizeof(subj));
	svrcert_problems_add(p, SVRCERT_P_UNTRUSTED, false,
			     X509_STORE_CTX_get_error_depth(ctx),
			     "certificate \"%s\": chain does not verify to a trusted CA: %s",
			     subj, X509_verify_cert_error_string(err));
	return 1;	/* keep going: report every problem */
}

/* The signature and date walk, through the signature cache. */
static int verify_sigs(X509_STORE_CTX *ctx)
{
	struct chain_ctx *cc = X509_STORE_CTX_get_app_data(ctx);

	return svrcert_sigcache_walk(cc->cache, ctx, cc->full, &cc->full_walk);
}

static int verify_chain(X509 *leaf, STACK_OF(X509) *extra,
			const struct svrcert_validate_params *vp, time_t now,
			STACK_OF(X509) **chain, struct svrcert_problems *p)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	struct chain_ctx cc = { .p = p, .cache = vp->sigcache };
	int ret = 0, ok;

	if (!ctx || X509_STORE_CTX_init(ctx, vp->store, leaf, extra) != 1) {
		X509_STORE_CTX_free(ctx);
		return -ENOMEM;
	}
	X509_STORE_CTX_set_app_data(ctx, &cc);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	X509_STORE_CTX_set_time(ctx, 0, now);
	if (cc.cache) {
		cc.full = X509_STORE_CTX_get_verify(ctx);
		X509_STORE_CTX_set_verify(ctx, verify_sigs);
	}
	ok = X509_verify_cert(ctx);
	if (ok < 0 && !svrcert_problems_has(p, SVRCERT_P_UNTRUSTED)) {
		svrcert_problems_add(p, SVRCERT_P_UNTRUSTED, false, 0,
				     "chain verification failed: %s",
				     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	}
	*chain = X509_STORE_CTX_get1_chain(ctx);
	if (!*chain)
		ret = -ENOMEM;
	/* The callback lets verification go on after any error and reports
	 * every one but dates and CA flags: none reported, every signature of
	 * the chain verified. */
	else if (ok == 1 && cc.full_walk && !cc.untrusted)
		svrcert_sigcache_learn(cc.cache, *chain);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

/* Every issuer in the chain: a CA by the rules, allowed algorithms, dated. */
static void check_issuers(STACK_OF(X509) *chain, time_t now,
			  struct svrcert_problems *p)
{
	for (int i = 1; i < sk_X509_num(chain); i++) {
		X509 *ca = sk_X509_value(chain, i);

		svrcert_check_algorithms(ca, i, false, p);
		svrcert_check_ca(ca, i, false, p);
		svrcert_check_dates(ca, i, now, false, p);
	}
}

/* A certificate's two revocation keys (the kernel's set holds both kinds),
 * computed once for the leaf: the check and the result both need them. */
struct cert_keys {
	uint8_t rk[SVRCERT_DIGEST_LEN], fp[SVRCERT_DIGEST_LEN];
	int rk_err, fp_err;
};

static void cert_keys(X509 *cert, struct cert_keys *k)
{
	k->rk_err = svrcert_revkey_from_cert(cert, k->rk);
	k->fp_err = svrcert_fingerprint_sha256(cert, k->fp);
}

/* KNOWN: CERT's keys, or NULL to compute them. */
static bool is_revoked(const struct svrcert_validate_params *vp, X509 *cert,
		       int depth, const struct cert_keys *known,
		       struct svrcert_problems *p)
{
	char subj[160], serial[80], issuer[160];
	struct cert_keys k;
	bool hit = false;

	if (!known)
		cert_keys(cert, &k);
	if (known ? known->rk_err || known->fp_err : k.rk_err || k.fp_err) {
		svrcert_problems_add(p, SVRCERT_P_INTERNAL, false, depth,
				     "cannot compute the revocation key");
		return true;
	}
	if (!known)
		known = &k;
	if (vp->revoked_keys)
		hit = svrcert_keyset_contains(vp->revoked_keys, known->rk) ||
		      svrcert_keyset_contains(vp->revoked_keys, known->fp);
	if (!hit && vp->revoked)
		hit = vp->revoked(known->rk, known->fp, vp->revoked_ctx);
	if (!hit)
		return false;
	svrcert_name_text(X509_get_subject_name(cert), subj, sizeof(subj));
	svrcert_name_text(X509_get_issuer_name(cert), issuer, sizeof(issuer));
	svrcert_cert_serial_hex(cert, serial, sizeof(serial));
	svrcert_problems_add(p, SVRCERT_P_REVOKED, false, depth,
			     "certificate \"%s\": revoked (serial %s, issuer \"%s\")",
			     subj, serial, issuer);
	return true;
}

static void fill_result(struct svrcert_validated *out, X509 *leaf,
			STACK_OF(X509) *chain, enum svrcert_problem first,
			const struct cert_keys *k)
{
	memset(out, 0, sizeof(*out));
	if (X509_up_ref(leaf) == 1)
		out->leaf = leaf;
	out->chain = chain;
	if (!k->rk_err)
		memcpy(out->revkey, k->rk, sizeof(out->revkey));
	if (!k->fp_err)
		memcpy(out->fingerprint, k->fp, sizeof(out->fingerprint));
	out->not_before = svrcert_cert_not_before(leaf);
	out->not_after = svrcert_cert_not_after(leaf);
	out->state = svrcert_problem_state(first);
}

int svrcert_validate_cert(X509 *leaf, STACK_OF(X509) *extra,
			  const struct svrcert_validate_params *vp,
			  struct svrcert_validated *out, struct svrcert_problems *p)
{
	time_t now = vp->now ? vp->now : time(NULL);
	size_t errors_before = p->n_errors;
	STACK_OF(X509) *chain = NULL;
	struct cert_keys lk;
	int ret;

	/* Dates first: an expired certificate is counted as expired. */
	svrcert_check_dates(leaf, 0, now, false, p);
	svrcert_check_algorithms(leaf, 0, false, p);
	svrcert_check_leaf(leaf, false, p);
	if (vp->expected_name)
		svrcert_check_identity(leaf, vp->expected_name, p);
	if (vp->expected_key)
		svrcert_check_public_key(leaf, vp->expected_key, p);
	if (!vp->store) {
		svrcert_problems_add(p, SVRCERT_P_UNTRUSTED, false, 0,
				     "no trusted CA configured");
		ret = 0;
	} else {
		ret = verify_chain(leaf, extra, vp, now, &chain, p);
	}
	if (!ret && chain)
		check_issuers(chain, now, p);
	if (!ret && p->n_errors != errors_before)
		ret = -EKEYREJECTED;
	if (out || vp->revoked_keys || vp->revoked)
		cert_keys(leaf, &lk);
	/* Step 3 only for a certificate that passed step 2. */
	for (int i = 0; !ret && chain && i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		if ((vp->revoked_keys || vp->revoked) &&
		    is_revoked(vp, x, i, x == leaf ? &lk : NULL, p))
			ret = -EKEYREVOKED;
	}
	if (out)
		fill_result(out, leaf, chain, ret == -ENOMEM ? SVRCERT_P_INTERNAL :
			    svrcert_problems_first(p), &lk);
	else
		sk_X509_pop_free(chain, X509_free);
	return ret;
}

int svrcert_validate_import(const uint8_t *buf, size_t len,
			    const struct svrcert_validate_params *vp,
			    struct svrcert_validated *out, struct svrcert_problems *p)
{
	STACK_OF(X509) *certs = NULL;
	struct svrcert_input in;
	X509 *leaf;
	char msg[160];
	int n, ret;

	if (out)
		memset(out, 0, sizeof(*out));
	/* The file is decoded once (its PEM blocks or DER certificate) for
	 * the private-key scan and the parse both. */
	if (svrcert_input_read(&in, buf, len))
		return -ENOMEM;
	/* (1) no private key of any kind */
	if (!svrcert_check_no_private_key_in(&in, p)) {
		n = -EPERM;
	} else {
		/* (2) parse ... */
		n = svrcert_certs_from_input(&in, &certs, msg, sizeof(msg));
		if (n < 0 && n != -ENOMEM) {
			svrcert_problems_add(p, SVRCERT_P_PARSE, false, -1, "%s", msg);
			n = -EBADMSG;
		}
	}
	svrcert_input_free(&in);
	if (n < 0) {
		if (out && n != -ENOMEM)
			out->state = SVRCERT_STATE_INVALID;
		return n;
	}
	/* ... and validate, then (3) revocation */
	leaf = sk_X509_shift(certs);
	ret = svrcert_validate_cert(leaf, certs, vp, out, p);
	X509_free(leaf);
	sk_X509_pop_free(certs, X509_free);
	return ret;
}

void svrcert_validated_free(struct svrcert_validated *v)
{
	X509_free(v->leaf);
	sk_X509_pop_free(v->chain, X509_free);
	memset(v, 0, sizeof(*v));
}
