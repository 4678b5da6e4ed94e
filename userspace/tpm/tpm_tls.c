// SPDX-License-Identifier: GPL-2.0
/*
 * This router's RSA TPM key in a form libssl can sign a TLS 1.3
 * CertificateVerify with (RSA-PSS), each signature made by the TPM.
 *
 * The EC key has a bridge of its own (peerauth_key.c says why the tpm2
 * provider's key cannot be handed to libssl directly). RSA needs another
 * route: for RSA-PSS, OpenSSL pads in software and asks the RSA_METHOD
 * for a raw private operation, which the tpm2 provider does not offer
 * (no RSA_NO_PADDING). So the key libssl gets is an RSA key holding only
 * the public half, bound to an in-process ENGINE whose only content is an
 * EVP_PKEY_METHOD: OpenSSL's RSA method with one change, sign() hands the
 * digest libssl computed, with the padding, digest and salt length libssl
 * chose, to the TPM (EVP_PKEY_sign with propq "provider=tpm2"). The TPM
 * makes the PSS salt as long as the digest, which is what TLS 1.3 asks.
 * The TPM is opened for one signature and closed again (swtpm serves one
 * client at a time).
 *
 * Why an ENGINE and not EVP_PKEY_meth_add0(): a method added that way
 * takes over every RSA operation of the process, the tpm2 provider's key
 * generation included; an ENGINE's method serves only the keys bound to
 * it. The ENGINE is never registered or made a default.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "tpm.h"

struct rsa_signer {
	struct svrcert_store st;	/* the directory only */
	char *tcti;
};

static int signer_index = -1;
static EVP_PKEY_METHOD *bridge_pmeth;
static ENGINE *bridge_engine;
static pthread_once_t bridge_once = PTHREAD_ONCE_INIT;

static void signer_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
			long argl, void *argp)
{
	struct rsa_signer *s = ptr;

	if (s) {
		free(s->tcti);
		free(s);
	}
}

/* What libssl asked for, as the TPM can do it: PKCS#1 v1.5, or PSS with
 * a salt as long as the digest. */
static int tpm_params(EVP_PKEY_CTX *ctx, int *pad, const EVP_MD **md)
{
	int salt = RSA_PSS_SALTLEN_DIGEST;

	if (EVP_PKEY_CTX_get_rsa_padding(ctx, pad) <= 0 ||
	    EVP_PKEY_CTX_get_signature_md(ctx, md) <= 0 || !*md)
		return 0;
	if (*pad == RSA_PKCS1_PADDING)
		return 1;
	if (*pad != RSA_PKCS1_PSS_PADDING ||
	    EVP_PKEY_CTX_get_rsa_pss_saltlen(ctx, &salt) <= 0)
		return 0;
	return salt == RSA_PSS_SALTLEN_DIGEST || salt == EVP_MD_get_size(*md);
}

static int tpm_sign(const struct rsa_signer *s, int pad, const EVP_MD *md,
		    unsigned char *sig, size_t *siglen,
		    const unsigned char *tbs, size_t tbslen)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *key = NULL;
	EVP_MD *tmd = NULL;
	struct tpm_ctx t;
	int ok = 0;

	if (tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, s->tcti))
		return 0;
	if (tpm_key_load(&t, &s->st, &key)) {
		syslog(LOG_ERR, "TLS signature: %s", t.err);
		goto out;
	}
	tmd = EVP_MD_fetch(t.libctx, EVP_MD_get0_name(md), "provider=default");
	pctx = EVP_PKEY_CTX_new_from_pkey(t.libctx, key, tpm_ctx_sign_propq(&t));
	ok = tmd && pctx && EVP_PKEY_sign_init(pctx) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, pad) > 0 &&
	     EVP_PKEY_CTX_set_signature_md(pctx, tmd) > 0 &&
	     (pad != RSA_PKCS1_PSS_PADDING ||
	      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0) &&
	     EVP_PKEY_sign(pctx, sig, siglen, tbs, tbslen) > 0;
	if (!ok)
		syslog(LOG_ERR, "TLS signature: the TPM's RSA signature failed "
		       "(%s)", ERR_reason_error_string(ERR_peek_last_error()) ?:
		       "unknown error");
out:
	EVP_PKEY_CTX_free(pctx);
	EVP_MD_free(tmd);
	EVP_PKEY_free(key);	/* before the context that loaded it */
	tpm_ctx_close(&t);
	return ok;
}

static int bridge_sign(EVP_PKEY_CTX *ctx, unsigned char *sig, size_t *siglen,
		       const unsigned char *tbs, size_t tbslen)
{
	const RSA *rsa = EVP_PKEY_get0_RSA(EVP_PKEY_CTX_get0_pkey(ctx));
	const struct rsa_signer *s = rsa ? RSA_get_ex_data(rsa, signer_index)
					 : NULL;
	const EVP_MD *md = NULL;
	int pad;

	if (!s)
		return 0;
	if (!sig) {
		*siglen = (size_t)RSA_size(rsa);
		return 1;
	}
	if (*siglen < (size_t)RSA_size(rsa) || !tpm_params(ctx, &pad, &md) ||
	    tbslen != (size_t)EVP_MD_get_size(md))
		return 0;
	return tpm_sign(s, pad, md, sig, siglen, tbs, tbslen);
}

static int engine_pkey_meths(ENGINE *e, EVP_PKEY_METHOD **pmeth,
			     const int **nids, int nid)
{
	static const int ours[] = { EVP_PKEY_RSA };

	if (!pmeth) {
		*nids = ours;
		return 1;
	}
	*pmeth = nid == EVP_PKEY_RSA ? bridge_pmeth : NULL;
	return *pmeth != NULL;
}

static void bridge_init(void)
{
	const EVP_PKEY_METHOD *std = EVP_PKEY_meth_find(EVP_PKEY_RSA);
	EVP_PKEY_METHOD *pm = EVP_PKEY_meth_new(EVP_PKEY_RSA, 0);
	ENGINE *e = ENGINE_new();

	signer_index = RSA_get_ex_new_index(0, NULL, NULL, NULL, signer_free);
	if (!std || !pm || !e || signer_index < 0)
		goto fail;
	EVP_PKEY_meth_copy(pm, std);
	EVP_PKEY_meth_set_sign(pm, NULL, bridge_sign);
	bridge_pmeth = pm;
	if (!ENGINE_set_id(e, "svrcert-tpm-rsa") ||
	    !ENGINE_set_name(e, "svrcert: RSA signatures by the TPM") ||
	    !ENGINE_set_pkey_meths(e, engine_pkey_meths))
		goto fail;
	bridge_engine = e;
	return;
fail:
	bridge_pmeth = NULL;
	EVP_PKEY_meth_free(pm);
	ENGINE_free(e);
}

static int wrap_public(RSA *rsa, const struct svrcert_store *st,
		       const char *tcti, EVP_PKEY **out)
{
	struct rsa_signer *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	snprintf(s->st.dir, sizeof(s->st.dir), "%s", st->dir);
	snprintf(s->st.key_file, sizeof(s->st.key_file), "%s", st->key_file);
	s->st.lock_fd = -1;
	s->tcti = tcti ? strdup(tcti) : NULL;
	if (!RSA_set_ex_data(rsa, signer_index, s)) {
		free(s->tcti);
		free(s);
		return -ENOMEM;
	}
	*out = EVP_PKEY_new();
	if (!*out || !EVP_PKEY_set1_RSA(*out, rsa) ||
	    !EVP_PKEY_set1_engine(*out, bridge_engine)) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int tpm_tls_rsa_key(const struct svrcert_store *st, const char *tcti,
		    EVP_PKEY **out, char *err, size_t errlen)
{
	EVP_PKEY *pub = NULL;
	RSA *rsa;
	int ret;

	*out = NULL;
	pthread_once(&bridge_once, bridge_init);
	ret = tpm_pubkey_load(st, &pub);
	if (ret) {
		snprintf(err, errlen, "no public key %s/%s: %s (run 'svrcertctl "
			 "key generate')", st->dir, STORE_PUBKEY, strerror(-ret));
		return ret;
	}
	rsa = EVP_PKEY_get1_RSA(pub);
	EVP_PKEY_free(pub);
	if (!rsa || !bridge_engine) {
		snprintf(err, errlen, rsa ? "cannot set up the TPM's RSA "
			 "signing method" : "the stored key is not an RSA key");
		RSA_free(rsa);
		ERR_clear_error();
		return rsa ? -ENOMEM : -EINVAL;
	}
	ret = wrap_public(rsa, st, tcti, out);
	RSA_free(rsa);		/* *OUT holds its own reference */
	if (ret) {
		snprintf(err, errlen, "cannot set up the TPM signing key");
		ERR_clear_error();
	}
	return ret;
}
